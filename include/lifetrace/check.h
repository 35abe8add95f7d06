/* The regression gate behind `lifetrace check`: a corpus of traces, each with
 * an expected verdict, replayed in-process and compared finding by finding.
 *
 * Corpus layout: DIR/<group>/<name>.jsonl (or .ltrace, .ltrace.zst) with a
 * sibling <name>.expected.json:
 *   {"policy": "audit"|"kernel", "bugs": "p13,...",
 *    "findings": [{"kind": "double-destroy", "event": 5, "severity": "error"}]}
 * A trace passes when the multiset of (kind, event, severity) it produces
 * equals the expected one exactly.
 */
#ifndef LT_REPORTS_CHECK_H
#define LT_REPORTS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/finding.h"
#include "lifetrace/miniport.h"
#include "lifetrace/store.h"

enum lt_check_outcome { LT_CHECK_PASS, LT_CHECK_FAIL, LT_CHECK_ERROR };

typedef struct lt_expect {
  int kind;     /* enum lt_finding_kind */
  uint64_t event;
  int severity; /* enum lt_severity */
} lt_expect;

typedef struct lt_check_process {
  uint64_t pid;
  char *name;
} lt_check_process;

/* One trace of the corpus and what became of it. Owned by its lt_check. */
typedef struct lt_check_case {
  char *group;    /* directory under the corpus root ("." parts joined by '/') */
  char *name;     /* file name without the trace extension */
  char *path;     /* the trace as found (DIR/group/name.jsonl) */
  char *uri;      /* repo-relative path, for SARIF and JUnit */
  char *expected_path;
  int jsonl;      /* line of event i is i + 2 */
  int policy;     /* enum lt_policy */
  char *bugs;     /* seeded bugs for the reference driver, or NULL */
  lt_expect *expected;
  size_t n_expected;
  lt_findings got;   /* what the replay produced */
  lt_expect *missing;   /* expected but not produced */
  size_t n_missing;
  size_t *unexpected;   /* indices into got.items produced but not expected */
  size_t n_unexpected;
  lt_check_process *procs; /* process names from the trace header */
  size_t n_procs;
  int outcome;          /* enum lt_check_outcome */
  char diag[1024];      /* why it is an error (unreadable trace, bad expected file) */
  uint64_t n_events;
  double seconds;
} lt_check_case;

typedef struct lt_check {
  char *root;   /* the corpus directory as given */
  char *repo;   /* the directory SARIF/JUnit paths are relative to */
  lt_check_case *cases;
  size_t n;
  size_t passed, failed, errors;
  double seconds;
} lt_check;

typedef struct lt_check_opts {
  const LT_MINIPORT *miniport; /* the driver under test (required) */
  const char *driver_name;     /* --driver as given, for reproducer commands */
  lt_store *store;             /* record the run here, or NULL */
  int64_t run;                 /* the store's run for this check */
  int special_pool;            /* replay with the special pool (lt_replay_opts) */
  unsigned jobs;               /* replay in this many worker processes (0, 1: in-process) */
} lt_check_opts;

/* Finds the traces under dir and their expected verdicts, sorted by group and
 * name. Returns LT_ENOENT/LT_EIO when dir cannot be read (with msg filled) and
 * LT_ENOENT when it holds no trace. The caller frees c with lt__check_reset. */
int lt__check_scan(lt_check *c, const char *dir, const char *repo, char *msg, size_t msglen);
/* Replays every case and compares; records each in o->store when set.
 * Returns 0 or an error that stops the whole check (store failure, OOM); a
 * case that cannot be read or replayed is only that case's error. */
int lt__check_run(lt_check *c, const lt_check_opts *o);
/* Parses an expected-verdict file into the case (policy, bugs, findings). */
int lt__check_parse_expected(lt_check_case *k, const char *path, char *msg, size_t msglen);
/* Compares got with expected, filling missing/unexpected and the outcome. */
int lt__check_compare(lt_check_case *k);
/* The process name of pid in the case's trace, or NULL. */
const char *lt__check_process(const lt_check_case *k, uint64_t pid);
void lt__check_reset(lt_check *c);

#endif
