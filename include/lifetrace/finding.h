/* lifetrace — findings: what the trace or the driver did wrong.
 *
 * A finding is data, never an assert. Every finding carries the event index
 * where it was detected, the object and handle it concerns, where that object
 * was created and destroyed, the last events on the handle, the call stacks
 * that explain it (a miniport finding: allocated / freed / accessed, the
 * faulting stack, ...; see lifetrace/stack.h), and a stable signature used
 * for dedup in the database, SARIF partialFingerprints and reports: kind +
 * layer + object + the top frames inside the driver (function names), or,
 * when no driver frame is known, kind + layer + object + DDI/op + site.
 */
#ifndef LIFETRACE_FINDING_H
#define LIFETRACE_FINDING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lifetrace/error.h"
#include "lifetrace/stack.h"

/* X(ID, "name", layer) — the finding kinds of DESIGN.md. */
#define LT_FINDING_KINDS(X)                                   \
  X(DOUBLE_DESTROY, "double-destroy", TRACE)                  \
  X(UNKNOWN_HANDLE, "unknown-handle", TRACE)                  \
  X(USE_AFTER_DESTROY, "use-after-destroy", TRACE)            \
  X(DESTROY_WHILE_OPEN, "destroy-while-open", TRACE)          \
  X(DESTROY_WHILE_BUSY, "destroy-while-busy", TRACE)          \
  X(DESTROY_WHILE_DISPLAYED, "destroy-while-displayed", TRACE) \
  X(DESTROY_WHILE_LOCKED, "destroy-while-locked", TRACE)      \
  X(RESOURCE_ORPHANED, "resource-orphaned", TRACE)            \
  X(RESOURCE_MISMATCH, "resource-mismatch", TRACE)            \
  X(LOST_DESTROY, "lost-destroy", TRACE)                      \
  X(LEAK, "leak", TRACE)                                      \
  X(MINIPORT_DOUBLE_FREE, "miniport-double-free", MINIPORT)   \
  X(MINIPORT_LEAK, "miniport-leak", MINIPORT)                 \
  X(MINIPORT_USE_AFTER_FREE, "miniport-use-after-free", MINIPORT) \
  X(MINIPORT_STALE_REFERENCE, "miniport-stale-reference", MINIPORT) \
  X(MINIPORT_BAD_STATUS, "miniport-bad-status", MINIPORT)     \
  X(MINIPORT_CRASH, "miniport-crash", MINIPORT)               \
  X(GPU_USE_AFTER_FREE, "gpu-use-after-free", GPU)            \
  X(GPU_FAULT, "gpu-fault", GPU)

enum lt_finding_kind {
#define LT_KIND_ENUM(id, name, layer) LT_F_##id,
  LT_FINDING_KINDS(LT_KIND_ENUM)
#undef LT_KIND_ENUM
  LT_F__COUNT
};

enum lt_layer { LT_LAYER_TRACE, LT_LAYER_MINIPORT, LT_LAYER_GPU };
enum lt_severity { LT_SEV_WARNING, LT_SEV_ERROR };
enum lt_object {
  LT_OBJ_NONE,
  LT_OBJ_ALLOCATION,
  LT_OBJ_RESOURCE,
  LT_OBJ_DEVICE,
  LT_OBJ_CONTEXT,
  LT_OBJ_POOL, /* a driver pool block */
};

#define LT_FINDING_MAX_HISTORY 8
#define LT_FINDING_MAX_DESTROYS 4
#define LT_FINDING_MAX_STACKS 4
#define LT_SIGN_FRAMES 3 /* driver frames a signature names */

/* One stack of a finding and what it shows (enum lt_stack_role). */
typedef struct lt_finding_stack {
  int role;
  lt_stack stack;
} lt_finding_stack;

/* One event in a handle's history. */
typedef struct lt_history_entry {
  uint64_t event;  /* 0-based index in the trace */
  int op;          /* Lifetrace__Op */
  int has_origin;
  uint64_t origin_record, origin_line;
} lt_history_entry;

typedef struct lt_finding {
  int kind;     /* enum lt_finding_kind */
  int layer;    /* enum lt_layer */
  int severity; /* enum lt_severity */
  uint64_t event; /* index of the event at which it was detected */
  int has_origin;
  uint64_t origin_record, origin_line;
  int object; /* enum lt_object */
  uint64_t handle; /* trace handle value (or pool address for LT_OBJ_POOL) */
  uint64_t pid;
  int64_t created_at; /* event index, -1 unknown (rundown / never created) */
  int n_destroyed;
  uint64_t destroyed_at[LT_FINDING_MAX_DESTROYS];
  int n_history;
  lt_history_entry history[LT_FINDING_MAX_HISTORY]; /* oldest first */
  char ddi[48];   /* the DDI or op during which it was detected */
  char site[64];  /* a driver site: pool tag, "scanout[0]", ... or "" */
  uint32_t pool_tag;
  uint64_t bytes; /* bytes leaked / touched, when meaningful */
  char message[256]; /* no run-specific addresses: those go in `address` */
  uint64_t address;  /* the heap address concerned (a pool block), 0 none */
  int n_stacks;
  lt_finding_stack stacks[LT_FINDING_MAX_STACKS];
  uint64_t signature;
} lt_finding;

const char *lt_finding_kind_name(int kind);
int lt_finding_kind_from_name(const char *name); /* -1 unknown */
int lt_finding_kind_layer(int kind);
const char *lt_layer_name(int layer);
const char *lt_severity_name(int sev);
const char *lt_object_name(int object);

/* Computes f->signature (FNV-1a 64) from kind, layer, object ("pool" for a
 * pool block's finding, "none" for a broken output contract, site
 * "check:NAME") and the names of the top LT_SIGN_FRAMES driver frames of
 * its primary stack (and, for a double free or a use after free, of the
 * first free), plus the site with array indices dropped ("scanout[2]" ->
 * "scanout[]"); without driver frames, from kind, layer, object, ddi and
 * site. Stable across runs, rebuilds, ASLR and handle values
 * (docs/replay-engine.md "Signatures"). */
void lt_finding_sign(lt_finding *f);
/* Appends a stack with a role to f (ignored when full or empty). */
void lt_finding_add_stack(lt_finding *f, int role, const lt_stack *s);
/* The first driver frame of f's stacks, symbolized (the finding's location
 * in driver source); 0 when it has none. */
int lt_finding_driver_frame(const lt_finding *f, lt_frame *out);
/* Whether a finding is a crash: what a fuzz target aborts on and what triage
 * signs a crash file with. An error of the driver (miniport layer) always; an
 * error of the GPU layer when gpu is set (LT_FUZZ_GPU, --gpu) or in audit
 * policy; an error of the trace layer in audit policy only (kernel policy
 * refuses what a trace breaks, so none arise there). policy: enum lt_policy. */
int lt_finding_is_crash(const lt_finding *f, int policy, int gpu);
/* Writes the signature as 16 lowercase hex digits plus NUL into buf[17]. */
void lt_signature_hex(uint64_t sig, char buf[17]);

/* The findings of one signature that a capped list did not keep: how many,
 * and the first of them (so a signature seen only past the cap still has
 * its details). */
typedef struct lt_finding_tally {
  uint64_t dropped;
  lt_finding first;
} lt_finding_tally;

/* A growable list of findings with per-signature counting. Details are kept
 * for at most `cap` findings (0 = unlimited); every finding is counted, and
 * those past the cap are tallied by signature in `over` (n_over entries), so
 * a finding's true count is its kept items plus its tally. */
typedef struct lt_findings {
  lt_finding *items;
  size_t n, alloc, cap;
  uint64_t total;        /* all findings added, including those not kept */
  uint64_t errors, warnings;
  lt_finding_tally *over;
  size_t n_over, alloc_over;
} lt_findings;

void lt_findings_init(lt_findings *fs, size_t cap);
LT_MUST_CHECK int lt_findings_add(lt_findings *fs, const lt_finding *f);
void lt_findings_reset(lt_findings *fs);

/* Writes s as a JSON string literal (quotes, backslashes and control
 * characters escaped; any byte sequence is accepted). */
void lt_json_write_string(FILE *out, const char *s);
/* Writes one finding as a JSON object (no trailing newline). */
void lt_finding_write_json(FILE *out, const lt_finding *f);
/* Writes a symbolized frame as JSON {"pc","function","file","line","module",
 * "offset","in": "driver"|"lifetrace"|"system"}, and as one ASan-style text
 * line ("    #i 0xpc in fn file:line (module+0xoff)"). */
void lt_frame_write_json(FILE *out, const lt_frame *fr);
void lt_frame_write_text(FILE *out, int i, const lt_frame *fr);
/* Writes one finding as an AddressSanitizer-style text block (with its
 * stacks); trace_name is
 * shown in the header line. */
void lt_finding_write_text(FILE *out, const lt_finding *f, const char *trace_name);

#endif
