/* lifetrace — the structure-aware trace mutator, shared by libFuzzer
 * (LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver in fuzz/fuzz_replay.c)
 * and AFL++ (the custom mutator library fuzz/afl_mutator.c).
 *
 * Inputs and outputs are fuzz-form traces: one Trace message (trace.h). The
 * mutator decodes the input into a bounded event list, applies one or more
 * event-level operations that know the object model (insert a well-formed
 * event, delete, duplicate, swap, move, retarget a handle to a live, dead or
 * never-created object, flip destroy flags, split and merge destroy calls,
 * add fence_done / tdr / process_exit / device_destroy / inject_fault, tweak
 * sizes and segments, splice two traces) and encodes the result. It keeps
 * most outputs well-formed: every handle an inserted or retargeted event
 * names is chosen from what is alive at that point, unless the operation
 * deliberately picks a dead or unknown one. See docs/fuzzing.md.
 *
 * Determinism: the same input, size limit and seed give the same output.
 * A mutator is single-threaded; use one per thread.
 */
#ifndef LIFETRACE_MUTATOR_H
#define LIFETRACE_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

/* Most events a mutated trace holds (longer inputs are cut). */
#define LT_MUTATOR_MAX_EVENTS 256
/* Most allocations / handles / refs per event the mutator keeps. */
#define LT_MUTATOR_MAX_LIST 8

/* X(ID, "name") — the mutation operations (names appear in AFL++ file names
 * and in the statistics). */
#define LT_MUTATOR_OPS(X)                   \
  X(INSERT, "insert")                       \
  X(DELETE, "delete")                       \
  X(DUPLICATE, "duplicate")                 \
  X(SWAP, "swap")                           \
  X(MOVE, "move")                           \
  X(RETARGET, "retarget")                   \
  X(FLIP, "flip")                           \
  X(SPLIT, "split-destroy")                 \
  X(MERGE, "merge-destroy")                 \
  X(ADD_FENCE, "add-fence-done")            \
  X(ADD_TDR, "add-tdr")                     \
  X(ADD_EXIT, "add-process-exit")           \
  X(ADD_DEVICE_DESTROY, "add-device-destroy") \
  X(ADD_FAULT, "add-inject-fault")          \
  X(TWEAK, "tweak")                         \
  X(HEADER, "header")                       \
  X(SPLICE, "splice")                       \
  X(BYTES, "bytes")                         \
  X(GENERATE, "generate")

enum lt_mutator_op {
#define LT_MUT_ENUM(id, name) LT_MUT_##id,
  LT_MUTATOR_OPS(LT_MUT_ENUM)
#undef LT_MUT_ENUM
  LT_MUT__COUNT
};

/* Name of an operation ("insert"), or "?" */
const char *lt_mutator_op_name(int op);

/* An optional byte-level mutator for the rare "bytes" operation (libFuzzer's
 * LLVMFuzzerMutate). Mutates data[0..size) in place, returns the new size
 * (<= max_size). Without one the mutator flips bytes itself. */
typedef size_t (*lt_byte_mutator)(uint8_t *data, size_t size, size_t max_size);

typedef struct lt_mutator_stats {
  uint64_t calls;       /* mutate + crossover calls */
  uint64_t crossovers;  /* of which crossover */
  uint64_t undecodable; /* inputs that did not decode: a fresh trace was generated */
  uint64_t truncated;   /* outputs cut (events dropped) to fit the size limit */
  uint64_t failed;      /* calls that returned 0 (no room even for an empty trace) */
  uint64_t applied[LT_MUT__COUNT];
} lt_mutator_stats;

typedef struct lt_mutator lt_mutator;

/* Creates a mutator (about 1 MiB of working memory). The caller owns it and
 * frees it with lt_mutator_free. */
LT_MUST_CHECK int lt_mutator_new(lt_mutator **out);
/* Frees a mutator; NULL is a no-op. */
void lt_mutator_free(lt_mutator *m);
/* Sets the byte-level helper (NULL = the built-in byte flipper). */
void lt_mutator_set_byte_mutator(lt_mutator *m, lt_byte_mutator fn);
/* Sets how often (per mille of calls) the "bytes" operation runs on the
 * encoded output; 0 disables it (outputs then always decode). Default 10. */
void lt_mutator_set_bytes_rate(lt_mutator *m, unsigned per_mille);
/* Sets the most events an output holds (default 64, at most
 * LT_MUTATOR_MAX_EVENTS): short traces replay fast, and every seeded-bug
 * pattern needs fewer than a dozen events. Longer inputs are cut. */
void lt_mutator_set_max_events(lt_mutator *m, size_t n);
/* After the operations, a repair pass walks the trace with the model and
 * fixes (or drops) events the kernel policy would refuse, keeping keep_pct
 * percent of them as they are (default 3; 100 turns the pass off). Refused
 * events never reach the driver, so each one is replay time wasted. */
void lt_mutator_set_repair(lt_mutator *m, unsigned keep_pct);
/* Keeps every output inside the driver's UMD contract (LT_MINIPORT.UmdContract,
 * copied; NULL = none): creates, opens, closes and destroys split into calls
 * the UMD would make, allocations beyond a resource's maximum dropped,
 * segment sets cut to the contract's. The blob sizes of the UMD's private
 * data are the driver's declaration and never in a trace: the mutator varies
 * only each allocation's variant seed. */
struct LT_UMD_CONTRACT;
void lt_mutator_set_umd_contract(lt_mutator *m, const struct LT_UMD_CONTRACT *c);

/* Mutates in[0..len) (need not decode) into out[0..max); in and out may be
 * the same buffer. Returns the output size, 0 only when max cannot hold even
 * an empty trace. */
size_t lt_mutator_mutate(lt_mutator *m, const uint8_t *in, size_t len, uint8_t *out, size_t max,
                         uint32_t seed);
/* Crossover: splices events of b into a (prefix of a + suffix of b, or a
 * chunk of b inserted into a), then maybe mutates once more. out must not
 * overlap a or b. Returns the output size (0 as above). */
size_t lt_mutator_crossover(lt_mutator *m, const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen, uint8_t *out, size_t max, uint32_t seed);
/* The operations of the last call, "insert+retarget" (owned by m, valid
 * until the next call). */
const char *lt_mutator_describe(const lt_mutator *m);
const lt_mutator_stats *lt_mutator_get_stats(const lt_mutator *m);

/* Event-level trimming (AFL++'s trim stage, the minimizer's first pass):
 * loads an input and returns its event count (an undecodable input has 0),
 * then encodes it without events [from, from + n). Returns the size written,
 * 0 when it does not fit. */
size_t lt_mutator_load(lt_mutator *m, const uint8_t *in, size_t len);
size_t lt_mutator_emit_without(lt_mutator *m, size_t from, size_t n, uint8_t *out, size_t max);

/* Well-formedness of a fuzz input as the kernel policy sees it: *events
 * receives the number of events, *accepted how many of them the simulated
 * dxgkrnl would deliver to the driver (every handle named is alive and of the
 * right kind, fences grow, a create does not reuse a live handle, ...). The
 * model is the mutator's own, a close approximation of the replay engine's.
 * Returns 1 if the input decodes, else 0. */
int lt_mutator_check(lt_mutator *m, const uint8_t *in, size_t len, size_t *events,
                     size_t *accepted);

#endif
