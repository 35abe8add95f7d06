/* Triage of fuzz-campaign crash folders (triage_run.c) and its records and
 * summaries (triage_record.c); the `lifetrace triage` command drives them. */
#ifndef LT_REPORTS_TRIAGE_RUN_H
#define LT_REPORTS_TRIAGE_RUN_H

#include <stdio.h>

#include "lifetrace/store.h"
#include "lifetrace/triage.h"

#define LT_TRI_MAX_CAND 32

/* One crash file. */
typedef struct lt__tri_crash {
  char *path;
  uint64_t size;
  int hang;       /* a timeout/hang artifact: recorded, not replayed */
  int unreadable; /* not a trace (the engine saved bytes that do not decode) */
  int reproduced; /* a replay shows an error finding that counts */
  size_t events;
  lt_finding first; /* that finding */
  uint64_t sig;
  uint32_t mask; /* seeded-bug candidates that crash it on their own */
  int recorded;  /* recorded in the results database by this triage */
} lt__tri_crash;

typedef struct lt__tri_files {
  lt__tri_crash *v; /* sorted by size, then path */
  size_t n, cap;
} lt__tri_files;

#define LT_TRI_MAX_FOLLOW 16

/* A driver error a crash's replay showed after its first: the first error
 * names the bug, what follows is its consequence (ASan and syzbot report the
 * first only), so it is listed under its group, never a group of its own. */
typedef struct lt__tri_follow {
  uint64_t sig;
  int kind;      /* enum lt_finding_kind */
  char site[64]; /* as lt_finding.site */
  size_t crashes; /* crashes of the group that showed it */
  long last;      /* the last crash counted (a crash counts once) */
} lt__tri_follow;

/* Crashes that one seeded bug (cand) alone makes show one signature first;
 * or, with cand -1, crashes of the campaign's whole bug set by their first
 * signature: those no single bug explains and every crash when there are no
 * seeded bugs. The further driver errors those replays show after the first
 * are kept in `follow` (at most LT_TRI_MAX_FOLLOW; when it is full, one that
 * is some group's signature gives way to one that is none). */
typedef struct lt__tri_group {
  uint64_t sig;
  int cand;
  lt_finding first;
  size_t crashes;
  long best; /* index of the smallest crash file */
  char *repro, *command;
  size_t repro_events;
  int confirmed, min_gave_up;
  lt__tri_follow follow[LT_TRI_MAX_FOLLOW];
  size_t nfollow;
  size_t follow_more; /* crash sightings of follow-ons not listed (list full) */
} lt__tri_group;

/* The crash count of one signature from a campaign's signature folder
 * (LT_FUZZ_SIGDIR: one byte per crashing input, kept as a file or not). */
typedef struct lt__tri_hits {
  uint64_t sig;
  uint64_t hits;   /* crashing inputs the workers counted, all sessions */
  uint64_t before; /* of which an earlier triage already accounted for */
  uint64_t added;  /* added to the finding's count by this triage */
} lt__tri_hits;

typedef struct lt__triage {
  lt__tri_ctx ctx;
  const LT_MINIPORT *mp;
  const char *driver, *bugs, *outdir;
  int minimize, progress;
  uint64_t max_replays; /* per reproducer */
  char cand[LT_TRI_MAX_CAND][LT_BUG_NAME_MAX];
  size_t ncand;
  lt__tri_files files;
  lt__tri_group *groups;
  size_t ngroups, capgroups;
  lt__tri_hits *hits; /* from the signature folder, when one is given */
  size_t nhits;
} lt__triage;

/* Adds crash files: files as given, directories searched for libFuzzer
 * artifacts (crash-*, leak-*, oom-*, timeout-*) and AFL++ crashes/id:* and
 * hangs/id:*. LT_ENOENT if a path does not exist. */
LT_MUST_CHECK int lt__tri_collect(lt__tri_files *fl, char *const *paths, size_t npaths);
void lt__tri_files_reset(lt__tri_files *fl);
/* Fills tr->cand from tr->bugs and switches the whole set on. */
LT_MUST_CHECK int lt__tri_candidates(lt__triage *tr);
/* Switches on candidate `cand` alone, or the whole set (-1). */
LT_MUST_CHECK int lt__tri_use_bugs(lt__triage *tr, int cand);
/* Replays every crash file, signs, attributes and groups it. */
LT_MUST_CHECK int lt__tri_replay_all(lt__triage *tr);
/* Minimizes, writes (outdir/repro/) and confirms one reproducer per group. */
LT_MUST_CHECK int lt__tri_make_repros(lt__triage *tr);
/* Whether sig is the signature of one of tr's groups (a row of the table). */
int lt__tri_is_group_sig(const lt__triage *tr, uint64_t sig);
/* "<signature>-bug-<token>" or "<signature>". */
void lt__tri_group_name(const lt__triage *tr, const lt__tri_group *g, char *buf, size_t len);
/* The `lifetrace replay` command line for a trace (caller frees). */
char *lt__tri_command(const lt__triage *tr, int cand, const char *path);
void lt__triage_reset(lt__triage *tr);

typedef struct lt__tri_record_opts {
  const char *db, *engine, *uuid, *command, *stats_csv;
  /* Crash files listed here (one path a line) were recorded by an earlier
   * run of the same campaign and are not recorded again; the ones recorded
   * now are appended. NULL = record all. */
  const char *recorded;
  int64_t started_at;
  size_t max_per_sig; /* crash files recorded per signature (0 = 50) */
  /* The campaign's signature folder (LT_FUZZ_SIGDIR) or NULL: the crashes
   * counted there but not recorded as files raise the findings' counts. */
  const char *hits_dir;
  /* The driver's identity, recorded with the run (NULL = unknown). */
  const char *driver_sha256, *driver_version;
} lt__tri_record_opts;

/* Records a run (kind fuzz with an engine, else triage), its stats samples,
 * the crash files (up to max_per_sig per signature) and the reproducers in
 * the results database. Returns 0 or LT_E* with a message in msg. */
LT_MUST_CHECK int lt__tri_record(lt__triage *tr, const lt__tri_record_opts *o, int exit_code,
                                 char *msg, size_t msglen);
/* Reads the crash counts of a signature folder into tr->hits: every file
 * named by a signature (16 hex digits) counts one crash per byte; the
 * folder's "recorded" file ("SIG N" lines) says how many an earlier triage
 * accounted for. LT_EIO when the folder cannot be read. */
LT_MUST_CHECK int lt__tri_hits_load(lt__triage *tr, const char *dir);
/* Adds to each finding's count the crashes counted since the last triage
 * that no crash file recorded now stands for, then rewrites DIR/recorded.
 * Call after the crash files are recorded. */
LT_MUST_CHECK int lt__tri_hits_record(lt__triage *tr, lt_store *s, int64_t run, const char *dir);

/* Writes the Markdown summary (the table of groups). */
void lt__tri_summary_md(const lt__triage *tr, FILE *out);
/* Writes outdir/triage.json. */
LT_MUST_CHECK int lt__tri_summary_json(const lt__triage *tr, const char *path);

#endif
