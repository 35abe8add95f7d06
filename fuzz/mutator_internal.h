/* lifetrace — private state of the structure-aware mutator (mutator.h).
 *
 * The mutator works on a bounded, flat copy of a trace (mtrace): events with
 * inline lists, no pointers, so that inserting, moving and splicing are plain
 * memmoves. A small model of the kernel policy (mmodel) replays a prefix of
 * the trace to tell which objects are alive at a position; generators use it
 * to build well-formed events, the checker to judge a whole trace.
 */
#ifndef LT_MUTATOR_INTERNAL_H
#define LT_MUTATOR_INTERNAL_H

#include <stdint.h>

#include "lifetrace/mutator.h"

#define MX_EVENTS LT_MUTATOR_MAX_EVENTS
#define MX_LIST LT_MUTATOR_MAX_LIST
#define MX_SEGMENTS 8
#define MX_OBJS 512 /* objects of one kind the model tracks */

typedef struct mallocinfo {
  uint64_t alloc, size, align;
  uint32_t segments, preferred, flags;
  uint32_t variant; /* seed of the UMD's private data */
} mallocinfo;

typedef struct mref {
  uint64_t alloc;
  int write;
} mref;

/* One event (Lifetrace__Event without t, tid and origin). */
typedef struct mev {
  int op;
  uint64_t pid, device, context, resource, fence, alloc;
  uint32_t node, segment, source, site, nth;
  uint32_t resource_data; /* alloc_create: resource-level private data bytes */
  uint8_t new_resource, shared, rundown, destroy_resource, assume_not_in_use, synchronous;
  uint8_t n_allocs, n_handles, n_refs;
  mallocinfo allocs[MX_LIST];
  uint64_t handles[MX_LIST];
  mref refs[MX_LIST];
} mev;

typedef struct msegment {
  uint32_t id, kind;
  uint64_t size;
} msegment;

typedef struct mtrace {
  int ends;
  size_t n_segments;
  msegment segments[MX_SEGMENTS];
  size_t n;
  mev ev[MX_EVENTS];
} mtrace;

/* ---- the model ---------------------------------------------------------------- */

enum { MK_DEVICE, MK_CONTEXT, MK_RESOURCE, MK_ALLOC, MK__COUNT };

typedef struct mobj {
  uint64_t handle;
  int live;
  uint64_t owner;  /* device (context, alloc, resource creator) */
  uint64_t parent; /* alloc: its resource (0 = none); device: its pid */
  uint64_t fence;  /* context: last fence submitted */
  uint32_t opened; /* alloc: bindings made by alloc_open (not the creator's) */
  int shared;
} mobj;

typedef struct mmodel {
  mobj obj[MK__COUNT][MX_OBJS];
  size_t n[MK__COUNT];
  uint64_t max_handle[MK__COUNT];
  uint64_t scanout[16];
} mmodel;

/* splitmix64-based generator. */
typedef struct mrng {
  uint64_t s;
} mrng;

static inline uint64_t mrng_next(mrng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform in [0, n); 0 when n == 0. */
static inline uint64_t mrng_below(mrng *r, uint64_t n) { return n ? mrng_next(r) % n : 0; }
/* True with probability pct / 100. */
static inline int mrng_pct(mrng *r, unsigned pct) { return mrng_below(r, 100) < pct; }

/* mutator_model.c */
void lt__mm_reset(mmodel *m);
/* Applies one event; returns 1 if the kernel policy would deliver it. */
int lt__mm_apply(mmodel *m, const mev *e);
/* Replays events [0, upto) of t into m. */
void lt__mm_run(mmodel *m, const mtrace *t, size_t upto);
mobj *lt__mm_find(mmodel *m, int kind, uint64_t handle);
/* Picks a live object of a kind (optionally owned by `owner`, 0 = any), or
 * NULL. */
mobj *lt__mm_pick_live(mmodel *m, mrng *r, int kind, uint64_t owner);
/* A handle of the kind for the given intent: 0 live, 1 dead, 2 never created. */
uint64_t lt__mm_pick_handle(mmodel *m, mrng *r, int kind, int intent);
/* A handle value no live object of the kind uses (sometimes a dead one's). */
uint64_t lt__mm_fresh(mmodel *m, mrng *r, int kind);
/* Fills e with a well-formed event of op (or a fitting one when op is 0) for
 * the state in m. Returns 0 when nothing of that op can be made. */
int lt__mm_generate(mmodel *m, mrng *r, int op, mev *e);
/* Walks t with the model; an event the kernel policy would refuse is fixed
 * (dead handles replaced by live ones, stale list elements dropped) or, if
 * that does not help, removed — except keep_pct percent of them, left as they
 * are so that refusal paths stay exercised. Returns how many were changed. */
size_t lt__mm_repair(mmodel *m, mrng *r, mtrace *t, unsigned keep_pct);

/* mutator_contract.c */
struct LT_UMD_CONTRACT;
/* Rewrites t (into scratch, then back) so that every event stays inside the
 * UMD's contract c: creates, opens, closes and destroys split into calls of
 * the allowed size (a destroy's destroy_resource on the last part, a
 * resource's later parts add to it), allocations beyond a resource's maximum
 * dropped, segment sets cut to the contract's. Returns how many events
 * changed. */
size_t lt__mc_constrain(mtrace *t, mtrace *scratch, const struct LT_UMD_CONTRACT *c);

#endif
