/* lifetrace replay: replays traces against a miniport on the simulated
 * dxgkrnl and GPU, prints findings (AddressSanitizer-style text or a JSON
 * verdict) and exits with the documented code. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "lifetrace/jobs.h"
#include "lifetrace/replay_file.h"
#include "lifetrace/store.h"

struct replay_cli {
  int json, quiet, werror, strict, policy, special_pool;
  unsigned jobs;
  int *worst;
  FILE *result; /* in a -j worker: what record() would store, for the parent */
  char **traces;
  const char *driver, *bugs, *db;
  size_t max_findings;
  const LT_MINIPORT *mp;
  lt_store *store;
  int64_t run;
};

static const lt__opt replay_opts[] = {
    {"policy", 'p', 0, "audit|kernel", "audit (default): deliver events as captured and judge the\n"
                                       "trace; kernel: behave like dxgkrnl (refuse, defer, close\n"
                                       "bindings first), so findings are the driver's"},
    {"driver", 'd', 0, "PATH", "driver under test: a shared object exporting\n"
                               "lt_miniport_entry (default: the reference miniport)"},
    {"bugs", 'b', 0, "LIST", "enable seeded bugs of the reference driver (e.g. 1,3,p13)"},
    {"json", 'O', 0, NULL, "print one JSON verdict object per trace on stdout"},
    {"werror", 'w', 0, NULL, "warnings count as errors for the exit code"},
    {"strict", 's', 0, NULL, "reject unknown keys in JSONL input"},
    {"special-pool", 'S', 0, NULL, "Driver Verifier-style special pool: each pool block on\n"
                                   "pages of its own, freed blocks made inaccessible while\n"
                                   "in quarantine, so a driver reading or writing freed pool\n"
                                   "memory faults (miniport-use-after-free, with the block's\n"
                                   "tag and owner); slower"},
    {"max-findings", 'm', 0, "N", "keep details of at most N findings per trace (default\n"
                                  "10000; all are counted)"},
    {"db", 'D', 0, "FILE", "record the run, the traces and their findings in a\n"
                           "results database (SQLite)"},
    {"jobs", 'j', 'j', "N", "replay the traces in N worker processes; output, exit\n"
                            "code and --db are those of one process"},
    {"quiet", 'q', 'q', NULL, "print only the summary line per trace"},
    {NULL, 0, 0, NULL, NULL}};

/* replay's options and texts (help, man page, completion). */
const lt__cmd lt__def_replay = {
    "replay", "TRACE...", "replay traces against a miniport and report findings",
    "Replay traces (binary .ltrace[.zst] or JSONL) against a miniport driver on the\n"
    "simulated dxgkrnl and GPU, and report every lifetime violation found.",
    "0 no error findings, 1 error findings, 2 usage error,\n"
    "3 unreadable or corrupt input, 4 internal error",
    replay_opts, lt_cmd_replay};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void summary_counts(FILE *out, const lt_findings *fs) {
  uint64_t by_kind[LT_F__COUNT] = {0};
  for (size_t i = 0; i < fs->n; i++)
    by_kind[fs->items[i].kind]++;
  int first = 1;
  for (int k = 0; k < LT_F__COUNT; k++)
    if (by_kind[k]) {
      fprintf(out, "%s%s x%" PRIu64, first ? " (" : ", ", lt_finding_kind_name(k), by_kind[k]);
      first = 0;
    }
  if (!first)
    fputs(")", out);
}

/* Notes (not findings): what the driver relies on that a reviewer should see. */
static void print_notes_json(const lt_replay *r) {
  size_t n = 0;
  const lt_note *nt = lt_replay_notes(r, &n);
  printf("\"notes\":[");
  for (size_t i = 0; i < n; i++) {
    printf("%s{\"kind\":", i ? "," : "");
    lt_json_write_string(stdout, nt[i].kind);
    printf(",\"ddi\":");
    lt_json_write_string(stdout, nt[i].ddi);
    printf(",\"event\":%" PRIu64 ",\"count\":%" PRIu64 ",\"message\":", nt[i].event,
           nt[i].count);
    lt_json_write_string(stdout, nt[i].message);
    putchar('}');
  }
  printf("],");
}

static void print_json(const struct replay_cli *c, const char *path, const lt_reader *rd,
                       const lt_replay *r, const char *diag, double secs) {
  const lt_header *h = lt_reader_header(rd);
  const lt_findings *fs = lt_replay_findings(r);
  uint64_t events = lt_replay_events(r);
  printf("{\"trace\":{\"path\":");
  lt_json_write_string(stdout, path);
  printf(",\"events\":%" PRIu64 ",\"ends\":\"%s\"},", events,
         h->ends == LIFETRACE__ENDS__ENDS_WINDOW ? "window" : "teardown");
  printf("\"policy\":\"%s\",\"miniport\":{\"name\":", lt_policy_name(c->policy));
  lt_json_write_string(stdout, c->mp->Name ? c->mp->Name : "?");
  printf(",\"version\":");
  lt_json_write_string(stdout, c->mp->Version ? c->mp->Version : "?");
  printf(",\"bugs\":");
  lt_json_write_string(stdout, c->bugs ? c->bugs : "");
  printf("},");
  printf("\"findings\":[");
  for (size_t i = 0; i < fs->n; i++) {
    if (i)
      putchar(',');
    lt_finding_write_json(stdout, &fs->items[i]);
  }
  printf("],");
  print_notes_json(r);
  printf("\"summary\":{\"errors\":%" PRIu64 ",\"warnings\":%" PRIu64 ",\"total\":%" PRIu64
         ",\"kept\":%zu,\"seconds\":%.3f,\"events_per_second\":%.0f",
         fs->errors, fs->warnings, fs->total, fs->n, secs, secs > 0 ? events / secs : 0.0);
  if (diag) {
    printf(",\"input_error\":");
    lt_json_write_string(stdout, diag);
  }
  printf("}}\n");
}

static void print_text(const struct replay_cli *c, const char *path, const lt_replay *r) {
  const lt_findings *fs = lt_replay_findings(r);
  if (!c->quiet)
    for (size_t i = 0; i < fs->n; i++)
      lt_finding_write_text(stdout, &fs->items[i], path);
  size_t n = 0;
  const lt_note *nt = lt_replay_notes(r, &n);
  for (size_t i = 0; !c->quiet && i < n; i++)
    printf("NOTE: lifetrace: %s [event %" PRIu64 ", %" PRIu64 " time(s)]\n", nt[i].message,
           nt[i].event, nt[i].count);
  printf("SUMMARY: lifetrace: %" PRIu64 " error(s), %" PRIu64 " warning(s) in %s [%s policy, %s]",
         fs->errors, fs->warnings, path, lt_policy_name(c->policy),
         c->mp->Name ? c->mp->Name : "?");
  summary_counts(stdout, fs);
  if (fs->total > fs->n)
    printf(" [%" PRIu64 " not shown]", fs->total - fs->n);
  putchar('\n');
}

/* In a -j worker: what record() needs, for the parent to store. */
static void record_for_parent(FILE *f, const lt_replay *r, const char *diag) {
  uint64_t n_events = lt_replay_events(r);
  int verdict = diag ? LT_VERDICT_UNREADABLE : lt_verdict_of(lt_replay_findings(r));
  uint32_t len = diag ? (uint32_t)strlen(diag) : UINT32_MAX;
  fwrite(&n_events, sizeof n_events, 1, f);
  fwrite(&verdict, sizeof verdict, 1, f);
  fwrite(&len, sizeof len, 1, f);
  if (diag)
    fwrite(diag, 1, len, f);
  if (lt_findings_write(f, lt_replay_findings(r)))
    fputs("lifetrace: could not hand the findings to the parent\n", stderr);
}

static void record(struct replay_cli *c, const char *path, const lt_reader *rd, const lt_replay *r,
                   const char *diag) {
  if (c->result)
    record_for_parent(c->result, r, diag);
  if (c->store == NULL || c->result)
    return;
  lt_store_trace t;
  memset(&t, 0, sizeof t);
  t.path = path;
  t.n_events = lt_replay_events(r);
  t.verdict = diag ? LT_VERDICT_UNREADABLE : lt_verdict_of(lt_replay_findings(r));
  t.diag = diag;
  t.header = rd ? lt_reader_header(rd) : NULL;
  if (lt_store_add_trace_ex(c->store, c->run, &t, lt_replay_findings(r), NULL))
    fprintf(stderr, "lifetrace: %s: could not record in the results database: %s\n", path,
            lt_store_errmsg(c->store));
}

/* Progress on a terminal, through the replay loop's callback. */
static void on_progress(void *data, const lt_reader *rd, uint64_t events, int done) {
  lt__progress *p = data;
  if (done)
    lt__progress_done(p);
  else
    lt__progress_tick(p, rd, events);
}

/* Replays one file (lt_replay_file, the one replay loop); returns its exit
 * code. A file unreadable half-way still prints and records what was
 * replayed before the bad record. */
static int replay_file(struct replay_cli *c, const char *path) {
  char msg[1200];
  lt_replay_opts o = {c->policy, c->mp, c->max_findings, NULL, NULL, c->special_pool};
  lt_replay_file_result res;
  lt__progress prog;
  lt__progress_init(&prog, "replay");
  prog.enabled &= !c->quiet && !c->json;
  double t0 = now_s();
  int err = lt_replay_file(&res, path, c->strict, &o, on_progress, &prog);
  lt__progress_done(&prog);
  if (res.replay == NULL) { /* not opened, or not started */
    if (res.reader == NULL) {
      lt_diag_format(&res.diag, msg, sizeof msg);
      fprintf(stderr, "lifetrace: %s\n", msg);
    } else {
      fprintf(stderr, "lifetrace: %s: cannot start the replay: %s\n", path, lt_strerror(err));
    }
    lt_replay_file_free(&res);
    return err == LT_ENOMEM || res.reader ? LT_EXIT_INTERNAL : LT_EXIT_INPUT;
  }
  int rc = res.engine_error ? LT_EXIT_INTERNAL : LT_EXIT_OK;
  if (res.read_error) {
    lt_diag_format(&res.diag, msg, sizeof msg);
    fprintf(stderr, "lifetrace: %s\n", msg);
  }
  double secs = now_s() - t0;
  const char *bad = res.read_error ? msg : NULL;
  if (c->json)
    print_json(c, path, res.reader, res.replay, bad, secs);
  else
    print_text(c, path, res.replay);
  record(c, path, res.reader, res.replay, bad);
  const lt_findings *fs = lt_replay_findings(res.replay);
  if (rc == LT_EXIT_OK && (fs->errors || (c->werror && fs->warnings)))
    rc = LT_EXIT_FINDINGS;
  if (res.read_error)
    rc = LT_EXIT_INPUT;
  lt_replay_file_free(&res);
  return rc;
}

/* A -j worker's item: one trace, its store record sent to the parent. */
static int replay_work(void *ctx, size_t i, FILE *result) {
  struct replay_cli *c = ctx;
  c->result = result;
  return replay_file(c, c->traces[i]);
}

/* The parent's side of item i: its exit code, and its record in --db. */
static int replay_done(void *ctx, size_t i, int rc, FILE *result) {
  struct replay_cli *c = ctx;
  const char *path = c->traces[i];
  if (result == NULL) {
    fprintf(stderr, "lifetrace: %s: the worker replaying it died\n", path);
    rc = LT_EXIT_INTERNAL;
  }
  if (rc > *c->worst)
    *c->worst = rc;
  uint64_t n_events = 0;
  int verdict = 0;
  uint32_t len = 0;
  char diag[1200] = "";
  if (c->store == NULL || result == NULL || fread(&n_events, sizeof n_events, 1, result) != 1)
    return 0; /* nothing replayed: nothing recorded, as with -j 1 */
  if (fread(&verdict, sizeof verdict, 1, result) != 1 || fread(&len, sizeof len, 1, result) != 1 ||
      (len != UINT32_MAX && (len >= sizeof diag || fread(diag, 1, len, result) != len)))
    return LT_EIO;
  lt_findings fs;
  lt_findings_init(&fs, 0);
  int err = lt_findings_read(result, &fs);
  lt_reader *rd = NULL;
  lt_diag d;
  memset(&d, 0, sizeof d);
  if (err == 0 && lt_reader_open(&rd, path, c->strict, &d) != 0)
    rd = NULL;
  lt_store_trace t = {.path = path, .n_events = n_events, .verdict = verdict,
                      .diag = len != UINT32_MAX ? diag : NULL,
                      .header = rd ? lt_reader_header(rd) : NULL};
  if (err == 0 && lt_store_add_trace_ex(c->store, c->run, &t, &fs, NULL))
    fprintf(stderr, "lifetrace: %s: could not record in the results database: %s\n", path,
            lt_store_errmsg(c->store));
  lt_reader_free(rd);
  lt_findings_reset(&fs);
  return err;
}

static int parse_args(struct replay_cli *c, int argc, char **argv) {
  int ch;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_replay);
  while ((ch = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (ch) {
    case 'p':
      if ((c->policy = lt_policy_from_name(optarg)) < 0) {
        fprintf(stderr, "lifetrace replay: unknown policy '%s' (audit or kernel)\n", optarg);
        return -1;
      }
      break;
    case 'd': c->driver = optarg; break;
    case 'b': c->bugs = optarg; break;
    case 'O': c->json = 1; break;
    case 'w': c->werror = 1; break;
    case 's': c->strict = 1; break;
    case 'S': c->special_pool = 1; break;
    case 'm': c->max_findings = strtoull(optarg, NULL, 10); break;
    case 'D': c->db = optarg; break;
    case 'q': c->quiet = 1; break;
    case 'j': c->jobs = (unsigned)strtoul(optarg, NULL, 10); break;
    default: return ch == LT__OPT_HELP ? 1 : -1;
    }
  }
  if (optind >= argc) {
    lt__usage_error(&lt__def_replay, "no trace given");
    return -1;
  }
  return 0;
}

static int open_db(struct replay_cli *c, int argc, char **argv) {
  char err[512];
  if (lt_store_open(&c->store, c->db, err, sizeof err)) {
    fprintf(stderr, "lifetrace replay: %s: %s\n", c->db, err);
    return -1;
  }
  char *args = lt_store_format_command(argc, argv);
  size_t len = args ? strlen(args) + 16 : 0;
  char *cmd = args ? lt_malloc(len) : NULL;
  if (cmd)
    snprintf(cmd, len, "lifetrace %s", args);
  lt_free(args);
  lt_store_run_info info;
  memset(&info, 0, sizeof info);
  info.kind = LT_RUN_REPLAY;
  info.command = cmd;
  info.driver = c->driver ? c->driver : (c->mp->Name ? c->mp->Name : "reference");
  info.policy = lt_policy_name(c->policy);
  int rc = lt_store_run_begin(c->store, &info, &c->run);
  lt_free(cmd);
  if (rc) {
    fprintf(stderr, "lifetrace replay: %s: %s\n", c->db, lt_store_errmsg(c->store));
    return -1;
  }
  return 0;
}

/* lifetrace replay TRACE...: replays each trace against the driver (linked
 * or --driver) under the chosen policy and prints the findings as text or
 * JSON, recording them in the results database when asked. Exits 1 when a
 * trace has an error finding (or a warning with --werror), 3 for an
 * unreadable trace naming file, offset or line and record, 2 for usage. */
int lt_cmd_replay(int argc, char **argv) {
  struct replay_cli c;
  memset(&c, 0, sizeof c);
  int pr = parse_args(&c, argc, argv);
  if (pr)
    return pr > 0 ? LT_EXIT_OK : LT_EXIT_USAGE;
  char err[600];
  void *dl = NULL;
  if (lt_miniport_load(c.driver, &c.mp, &dl, err, sizeof err) ||
      lt_miniport_set_bugs(c.mp, c.bugs, err, sizeof err)) {
    fprintf(stderr, "lifetrace replay: %s\n", err);
    lt_miniport_unload(dl);
    return LT_EXIT_USAGE;
  }
  if (c.db && open_db(&c, argc, argv)) {
    lt_miniport_unload(dl);
    return LT_EXIT_INTERNAL;
  }
  int worst = LT_EXIT_OK;
  c.traces = argv + optind;
  c.worst = &worst;
  if (c.jobs > 1 && argc - optind > 1) {
    if (lt_jobs_run((size_t)(argc - optind), c.jobs, replay_work, replay_done, &c)) {
      fprintf(stderr, "lifetrace replay: -j %u: the workers failed\n", c.jobs);
      worst = LT_EXIT_INTERNAL;
    }
  } else {
    for (int i = optind; i < argc; i++) {
      int rc = replay_file(&c, argv[i]);
      if (rc > worst)
        worst = rc;
    }
  }
  if (c.store) {
    if (lt_store_run_end(c.store, c.run, worst))
      fprintf(stderr, "lifetrace replay: %s: %s\n", c.db, lt_store_errmsg(c.store));
    lt_store_close(c.store);
  }
  if (c.bugs)
    (void)lt_miniport_set_bugs(c.mp, "none", err, sizeof err);
  lt_miniport_unload(dl);
  return worst;
}
