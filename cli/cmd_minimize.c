/* lifetrace minimize: shrinks a trace that shows a finding to a smallest one
 * that still shows it (same signature) — event-level delta debugging, then
 * simplification inside events (reports/triage_min.c). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lifetrace/triage.h"

struct min_cli {
  const char *out, *driver, *bugs, *sig;
  int policy, quiet, gpu;
  uint64_t max_replays;
};

static const lt__opt minimize_opts[] = {
    {"output", 'o', 'o', "OUT", "where to write: *.jsonl is JSONL, anything else binary"},
    {"signature", 's', 0, "SIG", "the finding to keep (16 hex digits, or a prefix of one\n"
                                 "of the trace's findings); default: the first error\n"
                                 "finding (in kernel policy: the driver's, what the fuzz\n"
                                 "target aborts on)"},
    {"policy", 'p', 0, "audit|kernel", "replay policy (default kernel, as fuzzing)"},
    {"driver", 'd', 0, "PATH", "driver under test (default: the reference miniport)"},
    {"bugs", 'b', 0, "LIST", "seeded bugs of the reference driver (e.g. 1,3,p13)"},
    {"gpu", 'g', 0, NULL, "GPU error findings count for the default signature"},
    {"max-replays", 'm', 0, "N", "replay budget (default 20000); the result is then\n"
                                 "smaller but maybe not minimal"},
    {"quiet", 'q', 'q', NULL, "no summary line"},
    {NULL, 0, 0, NULL, NULL}};

/* minimize's options and texts (help, man page, completion). */
const lt__cmd lt__def_minimize = {
    "minimize", "TRACE -o OUT", "shrink a trace to a smallest one showing the same finding",
    "Shrink a trace to a smallest one that still shows the same finding (same\n"
    "signature): event-level delta debugging (ddmin, ending 1-minimal), then fewer\n"
    "list elements and flags inside events, no timestamps or origins, handles\n"
    "renumbered from small values. Every candidate is judged by a full replay, so\n"
    "'lifetrace replay' on OUT shows the finding.",
    "0 minimized, 1 the trace does not show the finding, 2 usage error,\n"
    "3 unreadable input, 4 internal error or cannot write OUT",
    minimize_opts, lt_cmd_minimize};

static int parse_args(struct min_cli *c, int argc, char **argv) {
  int ch;
  c->policy = LT_POLICY_KERNEL;
  c->max_replays = 20000;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_minimize);
  while ((ch = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (ch) {
    case 'o': c->out = optarg; break;
    case 's': c->sig = optarg; break;
    case 'p':
      if ((c->policy = lt_policy_from_name(optarg)) < 0) {
        fprintf(stderr, "lifetrace minimize: unknown policy '%s' (audit or kernel)\n", optarg);
        return -1;
      }
      break;
    case 'd': c->driver = optarg; break;
    case 'b': c->bugs = optarg; break;
    case 'g': c->gpu = 1; break;
    case 'm': c->max_replays = strtoull(optarg, NULL, 10); break;
    case 'q': c->quiet = 1; break;
    default: return ch == LT__OPT_HELP ? 1 : -1;
    }
  }
  if (optind != argc - 1 || c->out == NULL) {
    lt__usage_error(&lt__def_minimize, "need one TRACE and -o OUT");
    return -1;
  }
  return 0;
}

/* Resolves --signature (a prefix of the signature of one of the trace's
 * findings) or takes the first crash finding. Returns 0 and sets *sig and
 * *which, or an exit code. */
static int pick_signature(const struct min_cli *cli, lt__tri_ctx *c, const lt__tri_trace *t,
                          uint64_t *sig, lt_finding *which) {
  lt_findings fs;
  lt__tri_verdict v;
  size_t matches = 0;
  lt_findings_init(&fs, 0);
  if (lt__tri_replay(c, t, NULL, 0, 0, &v, &fs)) {
    lt_findings_reset(&fs);
    return LT_EXIT_INTERNAL;
  }
  if (cli->sig == NULL && v.crashed) {
    *which = v.first;
    matches = 1;
  }
  for (size_t i = 0; cli->sig && i < fs.n; i++) {
    char hex[17];
    lt_signature_hex(fs.items[i].signature, hex);
    if (strncmp(hex, cli->sig, strlen(cli->sig)) != 0 ||
        (matches && fs.items[i].signature == which->signature))
      continue;
    *which = fs.items[i];
    matches++;
  }
  lt_findings_reset(&fs);
  if (matches == 1) {
    *sig = which->signature;
    return 0;
  }
  if (matches > 1) {
    fprintf(stderr, "lifetrace minimize: signature prefix '%s' is ambiguous\n", cli->sig);
    return LT_EXIT_USAGE;
  }
  fprintf(stderr, "lifetrace minimize: the trace shows %s\n",
          cli->sig ? "no finding with that signature" : "no error finding");
  return LT_EXIT_FINDINGS;
}

static int minimize(const struct min_cli *cli, const LT_MINIPORT *mp, const char *path) {
  lt__tri_trace t;
  lt_diag diag;
  lt__tri_ctx c = {mp, cli->policy, cli->gpu, 0};
  lt_finding which;
  lt__tri_min_stats st;
  uint64_t sig = 0;
  char msg[1200], hex[17];
  memset(&diag, 0, sizeof diag);
  int err = lt__tri_load(path, &t, &diag);
  if (err) {
    lt_diag_format(&diag, msg, sizeof msg);
    fprintf(stderr, "lifetrace minimize: %s\n", msg);
    return err == LT_ENOMEM ? LT_EXIT_INTERNAL : LT_EXIT_INPUT;
  }
  int rc = pick_signature(cli, &c, &t, &sig, &which);
  if (rc == 0 && (err = lt__tri_minimize(&c, &t, sig, cli->max_replays, &st)) != 0)
    rc = err == LT_ENOENT ? LT_EXIT_FINDINGS : LT_EXIT_INTERNAL;
  if (rc == 0 && (err = lt__tri_write(cli->out, &t)) != 0) {
    fprintf(stderr, "lifetrace minimize: %s: %s\n", cli->out, lt_strerror(err));
    rc = LT_EXIT_INTERNAL;
  }
  if (rc == 0 && !cli->quiet) {
    lt_signature_hex(sig, hex);
    printf("minimized %s: %zu -> %zu events, %" PRIu64 " replays%s; keeps %s sig=%s in %s%s%s\n",
           path, st.events_before, st.events_after, st.replays,
           st.gave_up ? " (budget spent: maybe not minimal)" : "",
           lt_finding_kind_name(which.kind), hex, which.ddi, which.site[0] ? " " : "",
           which.site);
  }
  lt__tri_trace_reset(&t);
  return rc;
}

/* lifetrace minimize TRACE -o OUT: shrinks a trace to a smallest one that
 * still shows the same finding (the first error finding, or --signature's),
 * with the driver and seeded bugs given. Exits 1 when the trace does not
 * show the finding, 3 when it cannot be read, 2 for usage. */
int lt_cmd_minimize(int argc, char **argv) {
  struct min_cli cli;
  const LT_MINIPORT *mp;
  void *dl = NULL;
  char err[600];
  memset(&cli, 0, sizeof cli);
  int pr = parse_args(&cli, argc, argv);
  if (pr)
    return pr > 0 ? LT_EXIT_OK : LT_EXIT_USAGE;
  if (lt_miniport_load(cli.driver, &mp, &dl, err, sizeof err) ||
      lt_miniport_set_bugs(mp, cli.bugs, err, sizeof err)) {
    fprintf(stderr, "lifetrace minimize: %s\n", err);
    lt_miniport_unload(dl);
    return LT_EXIT_USAGE;
  }
  int rc = minimize(&cli, mp, argv[optind]);
  if (cli.bugs)
    (void)lt_miniport_set_bugs(mp, "none", err, sizeof err);
  lt_miniport_unload(dl);
  return rc;
}
