/* lifetrace — the replay engine: simulated dxgkrnl + simulated GPU + a
 * miniport under test + the oracles.
 *
 * Feed it a header, then events in order, then finish. Findings accumulate in
 * the engine and stay valid until lt_replay_free.
 */
#ifndef LIFETRACE_REPLAY_H
#define LIFETRACE_REPLAY_H

#include <stdint.h>

#include "lifetrace/finding.h"
#include "lifetrace/miniport.h"
#include "lifetrace/trace.h"

enum lt_policy {
  LT_POLICY_AUDIT = 0, /* deliver as captured, judge the trace (G1-G8) */
  LT_POLICY_KERNEL,    /* behave like dxgkrnl: refuse, defer, close first */
};

const char *lt_policy_name(int policy);
int lt_policy_from_name(const char *name); /* -1 unknown */

typedef struct lt_replay_opts {
  int policy;                  /* enum lt_policy */
  const LT_MINIPORT *miniport; /* the driver under test (required) */
  size_t max_findings;         /* details kept (0 = 10000); all are counted */
  /* Called for each finding as it is made (may be NULL). Fuzz targets use it
   * to abort on the first error finding. */
  void (*on_finding)(void *data, const lt_finding *f);
  void *on_finding_data;
  /* Driver Verifier-style special pool (lt_pool_set_special): every pool
   * block on pages of its own, freed blocks inaccessible while in
   * quarantine, so a read after free faults and becomes a
   * miniport-use-after-free finding. Slower; off by default. */
  int special_pool;
  /* Under ASan, quarantined pool blocks are poisoned for ASan
   * (lt_pool_set_asan_poison): a driver touching freed pool memory is an
   * ASan report, which ends the process. For fuzz targets; off by default,
   * since a replay that must go on (check, triage) cannot survive one. */
  int asan_poison;
} lt_replay_opts;

typedef struct lt_replay lt_replay;

/* Starts the simulated adapter (DxgkDdiStartDevice) for a trace with header
 * h (copied). Returns LT_EABI when there is no miniport or its ABI version
 * differs. */
LT_MUST_CHECK int lt_replay_new(lt_replay **out, const lt_header *h, const lt_replay_opts *o);
/* Replays one event; its index is the number of events replayed before it.
 * Returns 0 (findings are not errors) or an LT_E* error. */
LT_MUST_CHECK int lt_replay_event(lt_replay *r, const lt_event *ev);
/* Ends the trace: teardown or window semantics, leak checks, adapter stop. */
LT_MUST_CHECK int lt_replay_finish(lt_replay *r);
const lt_findings *lt_replay_findings(const lt_replay *r);

/* A note: something the driver did that is allowed but that a reviewer should
 * know the driver relies on (e.g. writing the const DXGKARG_DESTROYALLOCATION's
 * hResource). Not a finding: notes never change the verdict. One entry per
 * (kind, DDI), counted. */
typedef struct lt_note {
  const char *kind; /* static string, e.g. "hresource-changed" */
  char ddi[48];
  uint64_t event;   /* first event where it happened */
  uint64_t count;
  char message[192];
} lt_note;
#define LT_REPLAY_MAX_NOTES 8
/* The run's notes (owned by the engine, valid until lt_replay_free); *n is
 * their number. */
const lt_note *lt_replay_notes(const lt_replay *r, size_t *n);
uint64_t lt_replay_events(const lt_replay *r);
void lt_replay_free(lt_replay *r);
/* Replays a new trace with header h (copied) in r, an engine from
 * lt_replay_new: the same findings and handles as lt_replay_free followed by
 * lt_replay_new, without making the engine again (fuzz targets replay one
 * trace per input). Call lt_replay_finish first for the old trace's leak
 * checks. Errors as lt_replay_new; after one r can only be freed. */
LT_MUST_CHECK int lt_replay_reset(lt_replay *r, const lt_header *h, const lt_replay_opts *o);
/* Drops r's trace (objects, pool, GPU, findings, as lt_replay_free would)
 * but keeps the engine and its reusable memory for lt_replay_reset; events
 * are ignored until then. The findings and notes become invalid. */
void lt_replay_clear(lt_replay *r);

#endif
