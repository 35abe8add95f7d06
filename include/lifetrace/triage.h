/* Crash triage for fuzz campaigns: in-memory traces, the crash signature of
 * a replay, the event-level minimizer behind `lifetrace minimize`, and the
 * crash-folder triage behind `lifetrace triage` (see docs/fuzzing.md).
 *
 * A crash of the fuzz target is the first *error* finding of a kernel-policy
 * replay that the fuzz target aborts on: a driver (miniport) finding, or a
 * GPU finding when GPU findings count. Its signature is the crash's identity
 * for dedup, the database and the report.
 */
#ifndef LT_REPORTS_TRIAGE_H
#define LT_REPORTS_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/replay.h"

/* A trace held in memory: deep copies of the header and events, owned by the
 * struct (lt__tri_trace_reset frees them). */
typedef struct lt__tri_trace {
  lt_header *header;
  lt_event **ev;
  size_t n, cap;
} lt__tri_trace;

/* How replays are judged. */
typedef struct lt__tri_ctx {
  const LT_MINIPORT *mp;
  int policy;       /* enum lt_policy */
  int gpu;          /* GPU-layer error findings count as crashes */
  int special;      /* replay in the special pool (the campaign ran with it) */
  uint64_t replays; /* replays run so far (statistics) */
} lt__tri_ctx;

/* What one replay showed. */
typedef struct lt__tri_verdict {
  int crashed;            /* an error finding that counts */
  lt_finding first;       /* the first such finding (valid if crashed) */
  int has_target;         /* the wanted signature was among the error findings */
} lt__tri_verdict;

/* Reads a whole trace (any form). On failure fills diag and returns LT_E*. */
LT_MUST_CHECK int lt__tri_load(const char *path, lt__tri_trace *t, lt_diag *diag);
void lt__tri_trace_reset(lt__tri_trace *t);
/* Deep-copies an event (NULL on OOM); free with lt_event_free. */
/* Writes a trace; the form follows the name (*.jsonl JSONL, else binary). */
LT_MUST_CHECK int lt__tri_write(const char *path, const lt__tri_trace *t);

/* Whether a finding is a crash under ctx (error, not trace-layer in kernel
 * policy, GPU only with ctx->gpu). */
int lt__tri_counts(const lt__tri_ctx *c, const lt_finding *f);
/* Replays the events of t selected by keep[0..nkeep) (all when keep is NULL)
 * and fills v; `target` (0 = none) is looked for among the error findings.
 * If fs is not NULL it receives a copy of all findings (caller resets it). */
LT_MUST_CHECK int lt__tri_replay(lt__tri_ctx *c, const lt__tri_trace *t, const size_t *keep,
                                 size_t nkeep, uint64_t target, lt__tri_verdict *v,
                                 lt_findings *fs);

typedef struct lt__tri_min_stats {
  size_t events_before, events_after;
  uint64_t replays;
  int gave_up; /* the replay budget ran out: the result is smaller, maybe not minimal */
} lt__tri_min_stats;

/* Minimizes t in place so that a replay still shows an error finding with
 * signature `sig`: delta debugging over events (ddmin, ending 1-minimal),
 * then shrinking lists and flags inside events, dropping timestamps, origins
 * and process names, and renumbering handles from small values; repeated
 * until nothing changes or max_replays is spent. Returns LT_ENOENT if t does
 * not show sig to begin with. */
LT_MUST_CHECK int lt__tri_minimize(lt__tri_ctx *c, lt__tri_trace *t, uint64_t sig,
                                   uint64_t max_replays, lt__tri_min_stats *st);

#endif
