/* `lifetrace check DIR`: the regression gate. Replays every trace of a corpus
 * with its expected verdict and fails on any difference; writes JUnit and
 * SARIF for CI, and records the run in the results database. */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/check.h"
#include "commands.h"
#include "lifetrace/junit.h"
#include "lifetrace/sarif.h"
#include "sha256.h"

static const lt__opt check_opts[] = {
    {"junit", 'U', 0, "FILE", "write JUnit XML (one testcase per trace, classname = group)"},
    {"sarif", 's', 0, "FILE", "write SARIF 2.1.0 (one result per finding)"},
    {"db", 'd', 0, "FILE", "record the run, traces and findings in a results database"},
    {"run-id", 'u', 0, "ID", "the run's unique key in the database (e.g. the CI job id): a\n"
                             "retried job with the same ID records nothing twice"},
    {"driver", 'D', 0, "LIB", "replay against a miniport shared object (default: reference)"},
    {"driver-version", 'V', 0, "V", "what the driver is (e.g. \"$(git -C kmd describe)\"), kept\n"
                                    "with the run in --db beside the sha256 of the driver file"},
    {"special-pool", 'S', 0, NULL, "replay with the special pool (see lifetrace replay --help): a\n"
                                   "driver touching freed pool memory faults"},
    {"repo", 'r', 0, "DIR", "paths in JUnit/SARIF are relative to DIR (default: the git\n"
                            "work tree around the corpus)"},
    {"jobs", 'j', 'j', "N", "replay in N worker processes (output, JUnit, SARIF and --db\n"
                            "as with one)"},
    {"quiet", 'q', 'q', NULL, "print only failures and the summary"},
    {NULL, 0, 0, NULL, NULL}};

/* check's options and texts (help, man page, completion). */
const lt__cmd lt__def_check = {
    "check", "DIR", "replay a regression corpus against expected verdicts (JUnit, SARIF)",
    "Replays every trace DIR/<group>/<name>.jsonl (or .ltrace) against the miniport with\n"
    "the policy and seeded bugs of its <name>.expected.json, and compares the findings\n"
    "(kind, event, severity) with the expected ones exactly.",
    "0 all pass, 1 any difference, 2 usage, 3 corpus unreadable, 4 internal",
    check_opts, lt_cmd_check};

typedef struct args {
  const char *dir, *junit, *sarif, *db, *driver, *repo, *run_id, *driver_version;
  int quiet, special_pool;
  unsigned jobs;
} args;

static int parse(int argc, char **argv, args *a) {
  int c;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_check);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'j': a->jobs = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'U': a->junit = optarg; break;
    case 's': a->sarif = optarg; break;
    case 'd': a->db = optarg; break;
    case 'D': a->driver = optarg; break;
    case 'r': a->repo = optarg; break;
    case 'q': a->quiet = 1; break;
    case 'u': a->run_id = optarg; break;
    case 'S': a->special_pool = 1; break;
    case 'V': a->driver_version = optarg; break;
    default: return c == LT__OPT_HELP ? -1 : LT_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    return lt__usage_error(&lt__def_check, "expected one corpus directory");
  }
  a->dir = argv[optind];
  return 0;
}

static void print_cases(const lt_check *c, int quiet) {
  for (size_t i = 0; i < c->n; i++) {
    const lt_check_case *k = &c->cases[i];
    static const char *const word[] = {"PASS ", "FAIL ", "ERROR"};
    if (quiet && k->outcome == LT_CHECK_PASS)
      continue;
    printf("%s %s/%s (%llu events, %.3f s)\n", word[k->outcome], k->group, k->name,
           (unsigned long long)k->n_events, k->seconds);
    if (k->outcome != LT_CHECK_PASS)
      lt__check_describe(stdout, k);
  }
  printf("lifetrace check: %zu traces: %zu passed, %zu failed, %zu errors (%.2f s)\n", c->n,
         c->passed, c->failed, c->errors, c->seconds);
}

static int write_outputs(const lt_check *c, const args *a) {
  int err = 0;
  if (a->junit) {
    FILE *f = fopen(a->junit, "w");
    err = f ? lt__junit_write(f, c) : LT_EIO;
    if (f && fclose(f))
      err = LT_EIO;
    if (err) {
      fprintf(stderr, "lifetrace check: cannot write %s\n", a->junit);
      return err;
    }
  }
  if (a->sarif) {
    FILE *f = fopen(a->sarif, "w");
    err = f ? lt__sarif_write(f, c, "lifetrace/check") : LT_EIO;
    if (f && fclose(f))
      err = LT_EIO;
    if (err)
      fprintf(stderr, "lifetrace check: cannot write %s\n", a->sarif);
  }
  return err;
}

static int open_run(const args *a, int argc, char **argv, lt_store **db, int64_t *run,
                    const LT_MINIPORT *mp) {
  char msg[600];
  int err = lt_store_open(db, a->db, msg, sizeof msg);
  if (err) {
    fprintf(stderr, "lifetrace check: %s\n", msg);
    return err;
  }
  char *cmd = lt_store_format_command(argc, argv), sha[65];
  uint64_t size;
  /* The driver's identity: its file, or the binary that carries it linked in. */
  int have_sha = lt_sha256_file(a->driver ? a->driver : "/proc/self/exe", sha, &size) == 0;
  lt_store_run_info ri = {.kind = LT_RUN_CHECK, .command = cmd, .uuid = a->run_id,
                          .driver = a->driver ? a->driver : mp->Name,
                          .driver_sha256 = have_sha ? sha : NULL,
                          .driver_version = a->driver_version};
  if ((err = lt_store_run_begin(*db, &ri, run)))
    fprintf(stderr, "lifetrace check: %s: %s\n", a->db, lt_store_errmsg(*db));
  lt_free(cmd);
  return err;
}

/* lifetrace check DIR: replays every trace of a regression corpus against
 * its expected verdict, prints each case, writes JUnit and SARIF when asked
 * and records the run in the results database. Exits 0 when every case
 * passes, 1 when one fails or cannot be replayed, 3 when the corpus or
 * database cannot be read, 2 for usage. */
int lt_cmd_check(int argc, char **argv) {
  args a = {0};
  lt_check c = {0};
  lt_store *db = NULL;
  void *dl = NULL;
  const LT_MINIPORT *mp = NULL;
  char msg[1024];
  int64_t run = 0;
  int rc = parse(argc, argv, &a), err;
  if (rc)
    return rc < 0 ? LT_EXIT_OK : rc;
  if (lt_miniport_load(a.driver, &mp, &dl, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace check: --driver: %s\n", msg);
    return LT_EXIT_INPUT;
  }
  struct stat st;
  if (stat(a.dir, &st) != 0 && errno == ENOENT) {
    rc = lt__no_such_file("check", a.dir, NULL);
    goto out;
  }
  if ((err = lt__check_scan(&c, a.dir, a.repo, msg, sizeof msg))) {
    fprintf(stderr, "lifetrace check: %s\n", msg);
    rc = err == LT_ENOMEM ? LT_EXIT_INTERNAL : LT_EXIT_INPUT;
    goto out;
  }
  if (a.db && open_run(&a, argc + 1, argv - 1, &db, &run, mp)) {
    rc = LT_EXIT_INTERNAL;
    goto out;
  }
  lt_check_opts o = {.miniport = mp, .driver_name = a.driver, .store = db, .run = run,
                     .special_pool = a.special_pool, .jobs = a.jobs};
  if ((err = lt__check_run(&c, &o))) {
    fprintf(stderr, "lifetrace check: %s%s%s\n", lt_strerror(err), db ? ": " : "",
            db ? lt_store_errmsg(db) : "");
    rc = LT_EXIT_INTERNAL;
    goto out;
  }
  print_cases(&c, a.quiet);
  rc = c.failed || c.errors ? LT_EXIT_FINDINGS : LT_EXIT_OK;
  if (write_outputs(&c, &a))
    rc = LT_EXIT_INTERNAL;
out:
  if (db && run && lt_store_run_end(db, run, rc))
    fprintf(stderr, "lifetrace check: %s: %s\n", a.db, lt_store_errmsg(db));
  lt_store_close(db);
  lt__check_reset(&c);
  lt_miniport_unload(dl);
  return rc;
}
