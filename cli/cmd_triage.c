/* lifetrace triage: replays the crashes of a fuzz campaign (either engine),
 * signs and dedups them, attributes them to seeded bugs, minimizes one
 * reproducer per group, records everything in the results database and
 * prints a summary (reports/triage_run.c, reports/triage_record.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/triage_run.h"
#include "sha256.h"

struct tri_cli {
  lt__triage tr;
  lt__tri_record_opts rec;
  const char *db, *md;
  int quiet;
  char dbpath[1024], mdpath[1024], jsonpath[1024];
};

static const lt__opt triage_opts[] = {
    {"out", 'o', 0, "DIR", "reproducers, triage.md and triage.json (default: triage)"},
    {"db", 'D', 0, "FILE", "results database (default: DIR/results.db)"},
    {"driver", 'd', 0, "PATH", "driver the campaign fuzzed (default: the reference miniport)"},
    {"bugs", 'b', 0, "LIST", "seeded bugs the campaign switched on (e.g. all, 1,3,p13)"},
    {"gpu", 'g', 0, NULL, "GPU error findings are crashes too (LT_FUZZ_GPU=1)"},
    {"special-pool", 'S', 0, NULL, "replay in the special pool, as the campaign fuzzed\n"
                                   "(LT_FUZZ_SPECIAL_POOL=1, fuzz.sh --special-pool)"},
    {"no-minimize", 'n', 0, NULL, "keep the smallest crash of each group as it is"},
    {"max-replays", 'm', 0, "N", "replay budget per reproducer (default 20000)"},
    {"max-per-signature", 'M', 0, "N", "crash files recorded per signature (default 50)"},
    {"engine", 'e', 0, "NAME", "the campaign's engine: records a 'fuzz' run (else 'triage')"},
    {"run-uuid", 'u', 0, "UUID", "the run's key: triaging the same run again changes nothing"},
    {"started-at", 't', 0, "MS", "when the campaign started (Unix ms)"},
    {"stats", 's', 0, "FILE", "CSV samples to record with the run: t_ms,execs,\n"
                              "exec_per_sec,corpus,coverage,features,rss_mb,crashes,timeouts"},
    {"command", 'c', 0, "CMD", "the campaign's command line, recorded with the run"},
    {"driver-version", 'V', 0, "V", "what the fuzzed driver is (e.g. \"$(git -C kmd describe)\"),\n"
                                    "recorded with the run"},
    {"driver-sha256", 'Z', 0, "HEX", "sha256 of the fuzzed driver file (default: of --driver's\n"
                                     "file, or of this binary for the built-in driver)"},
    {"recorded", 'r', 0, "FILE", "crash files listed in FILE (one a line) were recorded by an\n"
                                 "earlier session of the campaign and are not recorded\n"
                                 "again; those recorded now are appended (fuzz.sh resumes)"},
    {"hits", 'H', 0, "DIR", "the campaign's signature folder (LT_FUZZ_SIGDIR): each\n"
                            "finding's count gets the crashing inputs counted there\n"
                            "that no recorded crash file stands for"},
    {"quiet", 'q', 'q', NULL, "no summary on stdout"},
    {NULL, 0, 0, NULL, NULL}};

/* triage's options and texts (help, man page, completion). */
const lt__cmd lt__def_triage = {
    "triage", "CRASHES...", "replay, dedup, minimize and record the crashes of a fuzz campaign",
    "Triage the crashes of a fuzz campaign. CRASHES are files or folders: libFuzzer\n"
    "artifacts (crash-*, leak-*, oom-*, timeout-*) and AFL++ output (*/crashes/id:*,\n"
    "*/hangs/id:*) are found in folders. Each crash is replayed in kernel policy and\n"
    "signed with its first driver error finding (what the fuzz target aborted on);\n"
    "with seeded bugs it is also replayed with each bug alone to tell which one\n"
    "causes it. Crashes are grouped by (signature, bug); the driver errors a replay\n"
    "shows after its first are its consequences, listed under the group (\"Then\n"
    "also\"), not groups or findings of their own. The smallest crash of each group\n"
    "is minimized (as 'lifetrace minimize') into OUT/repro/, confirmed by a replay\n"
    "of the written file, and everything is recorded in the results database.\n"
    "Timeouts and hangs are counted, not replayed.",
    "0 no crash reproduces, 1 crashes triaged, 2 usage error,\n"
    "3 a path does not exist, 4 internal error or cannot write",
    triage_opts, lt_cmd_triage};

static int parse_args(struct tri_cli *c, int argc, char **argv) {
  int ch;
  c->tr.outdir = "triage";
  c->tr.minimize = 1;
  c->tr.max_replays = 20000;
  c->tr.ctx.policy = LT_POLICY_KERNEL;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_triage);
  while ((ch = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (ch) {
    case 'o': c->tr.outdir = optarg; break;
    case 'D': c->db = optarg; break;
    case 'd': c->tr.driver = optarg; break;
    case 'b': c->tr.bugs = optarg; break;
    case 'g': c->tr.ctx.gpu = 1; break;
    case 'S': c->tr.ctx.special = 1; break;
    case 'n': c->tr.minimize = 0; break;
    case 'm': c->tr.max_replays = strtoull(optarg, NULL, 10); break;
    case 'M': c->rec.max_per_sig = strtoul(optarg, NULL, 10); break;
    case 'e': c->rec.engine = optarg; break;
    case 'u': c->rec.uuid = optarg; break;
    case 't': c->rec.started_at = strtoll(optarg, NULL, 10); break;
    case 's': c->rec.stats_csv = optarg; break;
    case 'c': c->rec.command = optarg; break;
    case 'r': c->rec.recorded = optarg; break;
    case 'H': c->rec.hits_dir = optarg; break;
    case 'V': c->rec.driver_version = optarg; break;
    case 'Z': c->rec.driver_sha256 = optarg; break;
    case 'q': c->quiet = 1; break;
    default: return ch == LT__OPT_HELP ? 1 : -1;
    }
  }
  if (optind >= argc) {
    lt__usage_error(&lt__def_triage, "no crash file or folder given");
    return -1;
  }
  return 0;
}

static int run(struct tri_cli *c, int argc, char **argv) {
  lt__triage *tr = &c->tr;
  char msg[1200];
  int err;
  struct stat st;
  for (int i = optind; i < argc; i++)
    if (stat(argv[i], &st) != 0)
      return lt__no_such_file("triage", argv[i], NULL);
  if ((err = lt__tri_collect(&tr->files, argv + optind, (size_t)(argc - optind))) != 0) {
    fprintf(stderr, "lifetrace triage: %s\n",
            err == LT_ENOENT ? "a crash path does not exist" : lt_strerror(err));
    return err == LT_ENOENT ? LT_EXIT_INPUT : LT_EXIT_INTERNAL;
  }
  if ((err = lt__tri_replay_all(tr)) != 0 || (err = lt__tri_make_repros(tr)) != 0) {
    fprintf(stderr, "lifetrace triage: %s\n", lt_strerror(err));
    return LT_EXIT_INTERNAL;
  }
  int rc = tr->ngroups ? LT_EXIT_FINDINGS : LT_EXIT_OK;
  snprintf(c->dbpath, sizeof c->dbpath, "%s/results.db", tr->outdir);
  c->rec.db = c->db ? c->db : c->dbpath;
  char *cmd = c->rec.command ? NULL : lt_store_format_command(argc + 1, argv - 1), sha[65];
  uint64_t size;
  if (cmd)
    c->rec.command = cmd;
  if (!c->rec.driver_sha256 &&
      lt_sha256_file(tr->driver ? tr->driver : "/proc/self/exe", sha, &size) == 0)
    c->rec.driver_sha256 = sha;
  err = lt__tri_record(tr, &c->rec, rc, msg, sizeof msg);
  lt_free(cmd);
  if (err) {
    fprintf(stderr, "lifetrace triage: %s\n", msg);
    return LT_EXIT_INTERNAL;
  }
  snprintf(c->mdpath, sizeof c->mdpath, "%s/triage.md", tr->outdir);
  snprintf(c->jsonpath, sizeof c->jsonpath, "%s/triage.json", tr->outdir);
  FILE *md = fopen(c->mdpath, "w");
  if (md == NULL || lt__tri_summary_json(tr, c->jsonpath) != 0) {
    fprintf(stderr, "lifetrace triage: cannot write %s\n", md ? c->jsonpath : c->mdpath);
    if (md)
      fclose(md);
    return LT_EXIT_INTERNAL;
  }
  lt__tri_summary_md(tr, md);
  fclose(md);
  if (!c->quiet)
    lt__tri_summary_md(tr, stdout);
  return rc;
}

/* lifetrace triage CRASH...: replays a fuzz campaign's crash files, groups
 * them by signature (and by seeded bug when candidates are given), minimizes
 * and confirms one reproducer per group and records everything in the
 * results database. Exits 1 when there is at least one reproducer, 0 when
 * there is none, 2 for usage, 3 when a crash path does not exist, 4 when
 * replaying, writing or recording fails. */
int lt_cmd_triage(int argc, char **argv) {
  struct tri_cli c;
  void *dl = NULL;
  char err[600];
  memset(&c, 0, sizeof c);
  int pr = parse_args(&c, argc, argv);
  if (pr)
    return pr > 0 ? LT_EXIT_OK : LT_EXIT_USAGE;
  if (lt_miniport_load(c.tr.driver, &c.tr.mp, &dl, err, sizeof err)) {
    fprintf(stderr, "lifetrace triage: %s\n", err);
    return LT_EXIT_USAGE;
  }
  c.tr.ctx.mp = c.tr.mp;
  c.tr.progress = !c.quiet;
  if (lt__tri_candidates(&c.tr)) {
    fprintf(stderr, "lifetrace triage: the driver rejects the bug list '%s'\n", c.tr.bugs);
    lt_miniport_unload(dl);
    return LT_EXIT_USAGE;
  }
  int rc = run(&c, argc, argv);
  if (c.tr.bugs && c.tr.mp->LtSetOption)
    (void)lt_miniport_set_bugs(c.tr.mp, "none", err, sizeof err);
  lt__triage_reset(&c.tr);
  lt_miniport_unload(dl);
  return rc;
}
