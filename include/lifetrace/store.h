/* lifetrace — the results store: one SQLite database (schemas/results.sql)
 * that every replay, fuzz campaign, CI check and triage writes into, and that
 * the reports read.
 *
 * Typical use (what `lifetrace replay --db FILE` does):
 *
 *   lt_store *db; int64_t run;
 *   lt_store_run_info ri = {.kind = LT_RUN_REPLAY, .command = cmdline, .policy = "audit"};
 *   lt_store_open(&db, path, err, sizeof err);
 *   lt_store_run_begin(db, &ri, &run);
 *   lt_store_add_trace(db, run, trace_path, n_events, verdict, lt_replay_findings(r));
 *   lt_store_run_end(db, run, exit_code);
 *   lt_store_close(db);
 *
 * Guarantees: WAL mode and a busy timeout, so several processes may write at
 * once; every write is one IMMEDIATE transaction, so a writer killed at any
 * point leaves the database as it was before that call; every statement uses
 * bound parameters. Ingest is idempotent: a run has a unique key (its UUID,
 * given by the caller or generated), a trace is recorded once per run (by
 * path), stats once per (run, time), so repeating an ingest changes nothing.
 *
 * Times are Unix milliseconds (UTC). Signatures are the 16 lowercase hex
 * digits of lt_signature_hex.
 */
#ifndef LIFETRACE_STORE_H
#define LIFETRACE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"
#include "lifetrace/finding.h"
#include "lifetrace/trace.h"

/* The schema version this build creates and migrates to. */
#define LT_STORE_SCHEMA_VERSION 3

enum lt_run_kind { LT_RUN_REPLAY, LT_RUN_FUZZ, LT_RUN_CHECK, LT_RUN_TRIAGE };

/* How one trace ended. CLEAN/WARNINGS/ERRORS for a replay; PASS/FAIL for a
 * regression check against its expected verdict; UNREADABLE when the trace
 * could not be read (its diag is the message). */
enum lt_verdict {
  LT_VERDICT_CLEAN,
  LT_VERDICT_WARNINGS,
  LT_VERDICT_ERRORS,
  LT_VERDICT_UNREADABLE,
  LT_VERDICT_PASS,
  LT_VERDICT_FAIL,
};

/* Triage status of a finding (a signature). A fixed finding that occurs again
 * is reopened; an ignored one stays ignored. EXPECTED: every occurrence so far
 * was one a regression corpus expects (lt_store_trace.expected), so it is not
 * open; an occurrence nothing expects opens it. */
enum lt_status { LT_STATUS_OPEN, LT_STATUS_FIXED, LT_STATUS_IGNORED, LT_STATUS_EXPECTED };

const char *lt_run_kind_name(int kind);       /* "replay", "fuzz", ... */
int lt_run_kind_from_name(const char *name);  /* -1 unknown */
const char *lt_verdict_name(int verdict);     /* "clean", "errors", ... */
int lt_verdict_from_name(const char *name);   /* -1 unknown */
const char *lt_status_name(int status);       /* "open", "fixed", "ignored", "expected" */
int lt_status_from_name(const char *name);    /* -1 unknown */
/* The replay verdict a list of findings implies (ERRORS if any error, ...). */
int lt_verdict_of(const lt_findings *fs);

typedef struct lt_store lt_store;

/* Opens (creating if needed) the database at path, sets WAL and the busy
 * timeout and migrates the schema to LT_STORE_SCHEMA_VERSION. Returns LT_EIO
 * (with a message in err) when the file cannot be opened, LT_EFORMAT when it
 * is not a lifetrace database or is newer than this build. The caller owns
 * *out and frees it with lt_store_close. */
LT_MUST_CHECK int lt_store_open(lt_store **out, const char *path, char *err, size_t errlen);
/* Closes the database and frees the store; NULL is a no-op. */
void lt_store_close(lt_store *s);
/* The last SQLite error message of this store (owned by the store, valid
 * until its next call). */
const char *lt_store_errmsg(const lt_store *s);
/* The schema version of the open database. */
int lt_store_schema_version(lt_store *s);

/* What a run is. Strings are copied; NULL means unknown/none. */
typedef struct lt_store_run_info {
  int kind;                 /* enum lt_run_kind */
  const char *uuid;         /* the run's unique key; NULL = generate one */
  const char *command;      /* the full command line (lt_store_format_command) */
  const char *tool_version; /* NULL = this build's LT_VERSION */
  int has_seed;
  uint64_t seed;
  const char *driver;       /* miniport name/path and version */
  const char *policy;       /* "audit" / "kernel" */
  const char *engine;       /* fuzz engine: "libfuzzer", "afl++" */
  const char *host;         /* NULL = this host's name */
  int64_t started_at;       /* Unix ms; 0 = now */
  const char *driver_sha256;  /* sha256 (hex) of the driver file under test, or NULL */
  const char *driver_version; /* the user's name for it (git describe), or NULL */
} lt_store_run_info;

/* Records the start of a run and returns its row id in *run. When a run with
 * the same uuid exists, returns that run's id and changes nothing, so
 * re-ingesting a run is a no-op. The id stays valid for the store's life. */
LT_MUST_CHECK int lt_store_run_begin(lt_store *s, const lt_store_run_info *info, int64_t *run);
/* Records the end of a run (exit code, time now). A run that already has an
 * end keeps it. An ended run is final: later traces and stats for it are
 * ignored, which makes re-ingesting a whole run a no-op. */
LT_MUST_CHECK int lt_store_run_end(lt_store *s, int64_t run, int exit_code);
/* As lt_store_run_end with an explicit end time (Unix ms; 0 = now). */
LT_MUST_CHECK int lt_store_run_end_at(lt_store *s, int64_t run, int exit_code, int64_t ended_at);
/* Copies the uuid of a run into buf[37]. */
LT_MUST_CHECK int lt_store_run_uuid(lt_store *s, int64_t run, char buf[37]);

/* Formats argv as one shell-quoted command line. The caller frees the result
 * with lt_free; NULL on allocation failure. */
char *lt_store_format_command(int argc, char *const *argv);

/* What reproduces a finding of a trace: the replay it came from. */
typedef struct lt_repro {
  const char *policy; /* "audit" or "kernel" */
  const char *driver; /* the --driver given (only a path is repeated), or NULL */
  const char *bugs;   /* seeded bugs, or NULL */
  int special_pool;   /* replayed in the special pool */
  const char *path;   /* the trace */
} lt_repro;

/* The one builder of reproduce commands ("lifetrace replay --policy ...
 * PATH"), shell-quoted; the caller frees it with lt_free (NULL: no memory). */
char *lt_store_repro_command(const lt_repro *r);

/* One sample of a fuzz campaign's progress (ClusterFuzz-style stats). */
typedef struct lt_store_stats {
  int64_t t;             /* Unix ms of the sample; 0 = now */
  uint64_t execs;        /* total executions so far */
  double exec_per_sec;
  uint64_t corpus_size;  /* inputs in the corpus */
  uint64_t coverage;     /* edges covered */
  uint64_t features;     /* libFuzzer features (0 = unknown) */
  double rss_mb;         /* peak RSS */
  uint64_t crashes;      /* crashes so far */
  uint64_t timeouts;
} lt_store_stats;

/* Adds one stats sample to a run; a sample at the same (run, t), or any
 * sample for a run that has ended, changes nothing (idempotent). The store
 * copies everything. */
LT_MUST_CHECK int lt_store_add_stats(lt_store *s, int64_t run, const lt_store_stats *st);

/* A trace replayed in a run. Strings and the header are only read during the
 * call. */
typedef struct lt_store_trace {
  const char *path;          /* the file; its sha256 and size are computed here */
  uint64_t n_events;
  int verdict;               /* enum lt_verdict */
  const char *diag;          /* why it was unreadable / failed, or NULL */
  const lt_header *header;   /* optional: process names for the findings' pids */
  const char *repro_command; /* NULL = "lifetrace replay --policy P PATH" */
  int64_t seen_at;           /* Unix ms of the findings; 0 = now */
  const unsigned char *expected; /* NULL, or one flag per item of fs: 1 = the
                                  * corpus expects it (occurrence marked, the
                                  * finding not opened by it) */
} lt_store_trace;

/* Records a trace replayed in run and its findings, in one transaction: a
 * trace row, one occurrence row per finding kept in fs, and an upsert of each
 * finding by signature (count, first/last seen, status, reproducer — the
 * smallest file that showed it). A trace already recorded for this run (same
 * path), or any trace for a run that has ended, changes nothing (*trace_id is
 * then the existing row, or 0). LT_ENOENT for an unknown run. fs may be NULL (no findings); it stays the caller's.
 * *trace_id (may be NULL) receives the trace row id. Returns LT_EIO when the
 * database cannot be written; an unreadable trace file is not an error (its
 * sha256 is left empty). */
LT_MUST_CHECK int lt_store_add_trace_ex(lt_store *s, int64_t run, const lt_store_trace *t,
                                        const lt_findings *fs, int64_t *trace_id);
/* The short form of lt_store_add_trace_ex for a replay. */
LT_MUST_CHECK int lt_store_add_trace(lt_store *s, int64_t run, const char *path,
                                     uint64_t n_events, int verdict, const lt_findings *fs);

/* Sets a finding's reproducer (e.g. the minimized trace from triage) and the
 * exact command that reproduces it; the size is taken from the file. Returns
 * LT_ENOENT when no finding has that signature. */
LT_MUST_CHECK int lt_store_set_reproducer(lt_store *s, const char *signature, const char *path,
                                          const char *command);

/* Adds n occurrences of a finding that were counted but not recorded as
 * traces in run (the crash inputs a fuzz worker did not keep as files, see
 * LT_FUZZ_SIGDIR in docs/fuzzing.md). Returns LT_ENOENT when no finding has
 * that signature. */
LT_MUST_CHECK int lt_store_add_count(lt_store *s, int64_t run, const char *signature, uint64_t n);

/* Sets the status of the findings whose signature starts with sig_prefix (at
 * least 4 hex digits). *matched (may be NULL) receives how many matched;
 * returns LT_ENOENT when none did and LT_EINVAL when the prefix is ambiguous
 * (more than one finding) unless all is nonzero. */
LT_MUST_CHECK int lt_store_mark(lt_store *s, const char *sig_prefix, int status, int all,
                                int *matched);

/* One finding (a signature) as stored. */
typedef struct lt_store_finding {
  char signature[17];
  char kind[32], layer[16], object[16], severity[8];
  char ddi[48], site[64];
  char *message;       /* the first occurrence's message */
  char *process;       /* process name of the last occurrence, or NULL */
  int status;          /* enum lt_status */
  int64_t first_seen, last_seen; /* Unix ms */
  int64_t first_run, last_run;   /* run ids */
  uint64_t count;      /* occurrences */
  uint64_t n_runs;     /* distinct runs it occurred in */
  char *repro_path;    /* or NULL */
  int64_t repro_size;  /* bytes, -1 unknown */
  char *repro_command; /* or NULL */
  /* The driver of the runs that first and last showed it (lt_store_run_info's
   * driver_version and driver_sha256; "" unknown): a regression lies between
   * the last driver without it and first_driver_version. */
  char first_driver_version[64], first_driver_sha256[65];
  char last_driver_version[64], last_driver_sha256[65];
} lt_store_finding;

/* Lists findings, most recently seen first; status < 0 lists all. The caller
 * owns *out and frees it with lt_store_findings_free. */
LT_MUST_CHECK int lt_store_findings(lt_store *s, int status, lt_store_finding **out, size_t *n);
void lt_store_findings_free(lt_store_finding *f, size_t n);

/* Resolves a run reference: "latest", "previous", a run id, its uuid or a
 * unique prefix of it (4 characters or more). Returns the id, 0 if none. */
int64_t lt_store_resolve_run(lt_store *s, const char *ref);

/* Which runs a comparison looks at (lifetrace diff --kind/--driver/
 * --campaign); NULL fields do not narrow. Strings stay the caller's. */
typedef struct lt_store_scope {
  const char *kind;     /* run kind: "replay", "fuzz", "check", "triage" */
  const char *driver;   /* the driver_version, the driver, or a prefix of the
                         * driver file's sha256 (8 hex digits or more) */
  const char *campaign; /* text the run's command line contains: a fuzz.sh
                         * campaign's --out folder, say */
} lt_store_scope;

/* As lt_store_resolve_run, among the runs of a scope only ("latest" is the
 * latest run of the scope; an id or uuid of a run outside it resolves to 0).
 * sc may be NULL (every run). */
int64_t lt_store_resolve_run_in(lt_store *s, const char *ref, const lt_store_scope *sc);

/* One signature of a comparison of two runs, with its count in each. */
typedef struct lt_store_diff_row {
  char signature[17];
  char kind[32], severity[8];
  uint64_t count_a, count_b; /* count_a == 0: new in B; count_b == 0: gone */
  char *message;
} lt_store_diff_row;

/* Every signature that occurred in run a or run b, errors first, then by
 * kind and signature. The caller owns *out: lt_store_diff_free. */
LT_MUST_CHECK int lt_store_diff(lt_store *s, int64_t a, int64_t b, lt_store_diff_row **out,
                                size_t *n);
void lt_store_diff_free(lt_store_diff_row *v, size_t n);

#endif
