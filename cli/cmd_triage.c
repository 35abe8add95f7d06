/* lifetrace triage: replays the crashes of a fuzz campaign (either engine),
 * signs and dedups them, attributes them to seeded bugs, minimizes one
 * reproducer per group, records everything in the results database and
 * prints a summary (reports/triage_run.c, reports/triage_record.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void usage(FILE *out) {
  fputs("usage: lifetrace triage [OPTIONS] CRASHES...\n"
        "\n"
        "Triage the crashes of a fuzz campaign. CRASHES are files or folders: libFuzzer\n"
        "artifacts (crash-*, leak-*, oom-*, timeout-*) and AFL++ output (*/crashes/id:*,\n"
        "*/hangs/id:*) are found in folders. Each crash is replayed in kernel policy and\n"
        "signed with its first driver error finding (what the fuzz target aborted on);\n"
        "with seeded bugs it is also replayed with each bug alone to tell which one\n"
        "causes it. Crashes are grouped by (signature, bug); the smallest of each group\n"
        "is minimized (as 'lifetrace minimize') into OUT/repro/, confirmed by a replay\n"
        "of the written file, and everything is recorded in the results database.\n"
        "Timeouts and hangs are counted, not replayed.\n"
        "\n"
        "options:\n"
        "  --out DIR            reproducers, triage.md and triage.json (default: triage)\n"
        "  --db FILE            results database (default: DIR/results.db)\n"
        "  --driver PATH        driver the campaign fuzzed (default: the reference miniport)\n"
        "  --bugs LIST          seeded bugs the campaign switched on (e.g. all, 1,3,p13)\n"
        "  --gpu                GPU error findings are crashes too (LT_FUZZ_GPU=1)\n"
        "  --special-pool       replay in the special pool, as the campaign fuzzed\n"
        "                       (LT_FUZZ_SPECIAL_POOL=1, fuzz.sh --special-pool)\n"
        "  --no-minimize        keep the smallest crash of each group as it is\n"
        "  --max-replays N      replay budget per reproducer (default 20000)\n"
        "  --max-per-signature N  crash files recorded per signature (default 50)\n"
        "  --engine NAME        the campaign's engine: records a 'fuzz' run (else 'triage')\n"
        "  --run-uuid UUID      the run's key: triaging the same run again changes nothing\n"
        "  --started-at MS      when the campaign started (Unix ms)\n"
        "  --stats FILE         CSV samples to record with the run: t_ms,execs,\n"
        "                       exec_per_sec,corpus,coverage,features,rss_mb,crashes,timeouts\n"
        "  --command CMD        the campaign's command line, recorded with the run\n"
        "  --driver-version V   what the fuzzed driver is (e.g. \"$(git -C kmd describe)\"),\n"
        "                       recorded with the run\n"
        "  --driver-sha256 HEX  sha256 of the fuzzed driver file (default: of --driver's\n"
        "                       file, or of this binary for the built-in driver)\n"
        "  --recorded FILE      crash files listed in FILE (one a line) were recorded by an\n"
        "                       earlier session of the campaign and are not recorded\n"
        "                       again; those recorded now are appended (fuzz.sh resumes)\n"
        "  --hits DIR           the campaign's signature folder (LT_FUZZ_SIGDIR): each\n"
        "                       finding's count gets the crashing inputs counted there\n"
        "                       that no recorded crash file stands for\n"
        "  -q, --quiet          no summary on stdout\n"
        "  -h, --help           show this help\n"
        "\n"
        "exit codes: 0 no crash reproduces, 1 crashes triaged, 2 usage error,\n"
        "            3 a path does not exist, 4 internal error or cannot write\n",
        out);
}

static int parse_args(struct tri_cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, 0, 'o'},        {"db", required_argument, 0, 'D'},
      {"driver", required_argument, 0, 'd'},     {"bugs", required_argument, 0, 'b'},
      {"gpu", no_argument, 0, 'g'},              {"no-minimize", no_argument, 0, 'n'},
      {"max-replays", required_argument, 0, 'm'}, {"max-per-signature", required_argument, 0, 'M'},
      {"engine", required_argument, 0, 'e'},     {"run-uuid", required_argument, 0, 'u'},
      {"started-at", required_argument, 0, 't'}, {"stats", required_argument, 0, 's'},
      {"command", required_argument, 0, 'c'},    {"recorded", required_argument, 0, 'r'},
      {"hits", required_argument, 0, 'H'},      {"quiet", no_argument, 0, 'q'},
      {"special-pool", no_argument, 0, 'S'},
      {"driver-version", required_argument, 0, 'V'}, {"driver-sha256", required_argument, 0, 'Z'},
      {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
  int ch;
  c->tr.outdir = "triage";
  c->tr.minimize = 1;
  c->tr.max_replays = 20000;
  c->tr.ctx.policy = LT_POLICY_KERNEL;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
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
    case 'h': usage(stdout); return 1;
    default: usage(stderr); return -1;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "lifetrace triage: no crash file or folder given\n\n");
    usage(stderr);
    return -1;
  }
  return 0;
}

static int run(struct tri_cli *c, int argc, char **argv) {
  lt__triage *tr = &c->tr;
  char msg[1200];
  int err;
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
