/* `lifetrace diff RUN_A RUN_B`: findings new, gone and unchanged between two
 * runs of a results database, by signature, with per-signature counts. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/store.h"

static const lt__opt diff_opts[] = {
    {"db", 'd', 0, "FILE", "the results database (default: $LIFETRACE_DB)"},
    {"json", 'j', 0, NULL, "print one JSON object"},
    {"kind", 'k', 0, "replay|fuzz|check|triage", "compare runs of this kind only"},
    {"driver", 'D', 0, "V", "compare runs of this driver only: its --driver-version, its\n"
                            "path, or a prefix of its file's sha256 (8 hex digits or more)"},
    {"campaign", 'c', 0, "TEXT", "compare runs of one campaign only: runs whose command line\n"
                                 "contains TEXT (e.g. the fuzz.sh --out folder)"},
    {NULL, 0, 0, NULL, NULL}};

/* diff's options and texts (help, man page, completion). */
const lt__cmd lt__def_diff = {
    "diff", "[RUN_A RUN_B]", "findings new, gone and unchanged between two runs",
    "Compares the findings of two runs by signature: new (in B only), gone (in A\n"
    "only) and unchanged (in both, with the count in each). A run is its id, its\n"
    "uuid (or a unique prefix of it), 'latest' or 'previous'; without runs, the\n"
    "previous and the latest. --kind, --driver and --campaign narrow the runs\n"
    "considered: 'latest' is then the latest of those, and a run outside them is\n"
    "not found.",
    "0 nothing new, 1 new findings in B, 2 usage, 3 no such database or run",
    diff_opts, lt_cmd_diff};

static const char *section(const lt_store_diff_row *r) {
  return r->count_a == 0 ? "new" : r->count_b == 0 ? "gone" : "unchanged";
}

static void print_json(const lt_store_diff_row *v, size_t n, int64_t a, int64_t b) {
  json_t *out = json_pack("{s:I, s:I, s:[], s:[], s:[]}", "run_a", (json_int_t)a, "run_b",
                          (json_int_t)b, "new", "gone", "unchanged");
  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        json_object_get(out, section(&v[i])),
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "signature", v[i].signature, "kind",
                  v[i].kind, "severity", v[i].severity, "count_a", (json_int_t)v[i].count_a,
                  "count_b", (json_int_t)v[i].count_b, "delta",
                  (json_int_t)v[i].count_b - (json_int_t)v[i].count_a, "message", v[i].message));
  json_dumpf(out, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(out);
}

/* Prints the comparison; sets *n_new to the signatures new in b. */
static int run_diff(lt_store *s, int64_t a, int64_t b, int json, int *n_new) {
  lt_store_diff_row *v = NULL;
  size_t n = 0, counts[3] = {0};
  int err = lt_store_diff(s, a, b, &v, &n);
  if (err)
    return err;
  for (size_t i = 0; i < n; i++)
    counts[v[i].count_a == 0 ? 0 : v[i].count_b == 0 ? 1 : 2]++;
  if (json) {
    print_json(v, n, a, b);
  } else {
    for (size_t i = 0; i < n; i++)
      printf("%-9s %s  %-7s %-26s %5llu -> %-5llu (%+lld)  %s\n", section(&v[i]), v[i].signature,
             v[i].severity, v[i].kind, (unsigned long long)v[i].count_a,
             (unsigned long long)v[i].count_b,
             (long long)v[i].count_b - (long long)v[i].count_a, v[i].message);
    printf("%zu new, %zu gone, %zu unchanged\n", counts[0], counts[1], counts[2]);
  }
  *n_new = (int)counts[0];
  lt_store_diff_free(v, n);
  return 0;
}

static int parse(int argc, char **argv, const char **db, int *json, lt_store_scope *sc) {
  lt__getopt g;
  int c;
  lt__getopt_init(&g, &lt__def_diff);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'd': *db = optarg; break;
    case 'j': *json = 1; break;
    case 'D': sc->driver = optarg; break;
    case 'c': sc->campaign = optarg; break;
    case 'k':
      if (lt_run_kind_from_name(optarg) < 0) {
        fprintf(stderr, "lifetrace diff: --kind: replay, fuzz, check or triage, not '%s'\n", optarg);
        return LT_EXIT_USAGE;
      }
      sc->kind = optarg;
      break;
    default: return lt__getopt_exit(c);
    }
  }
  if (*db == NULL)
    return lt__usage_error(&lt__def_diff, "--db FILE (or $LIFETRACE_DB) is required");
  if (optind != argc && optind + 2 != argc)
    return lt__usage_error(&lt__def_diff, "give two runs, or none for previous and latest");
  return -1;
}

/* lifetrace diff [RUN_A RUN_B]: lists the findings new, gone and unchanged
 * between two runs of the results database (by default the previous and the
 * latest, within the --kind/--driver/--campaign scope), as text or --json.
 * Exits 1 when run B has new findings, so CI can gate on it; 3 when the
 * database or a run cannot be read, 2 for usage. */
int lt_cmd_diff(int argc, char **argv) {
  const char *db = getenv("LIFETRACE_DB");
  lt_store_scope sc = {NULL, NULL, NULL};
  int json = 0, rc = parse(argc, argv, &db, &json, &sc);
  if (rc >= 0)
    return rc;
  const char *ra = optind < argc ? argv[optind] : "previous";
  const char *rb = optind < argc ? argv[optind + 1] : "latest";
  lt_store *s;
  char msg[1024];
  struct stat st;
  if (stat(db, &st) != 0)
    return lt__no_such_file("diff", db, "database");
  if (lt_store_open(&s, db, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace diff: %s\n", msg);
    return LT_EXIT_INPUT;
  }
  int64_t a = lt_store_resolve_run_in(s, ra, &sc), b = lt_store_resolve_run_in(s, rb, &sc);
  int n_new = 0;
  rc = LT_EXIT_INPUT;
  if (!a || !b)
    fprintf(stderr, "lifetrace diff: no such run%s: %s\n",
            sc.kind || sc.driver || sc.campaign ? " in the scope given" : "", !a ? ra : rb);
  else if (run_diff(s, a, b, json, &n_new))
    fprintf(stderr, "lifetrace diff: %s\n", lt_store_errmsg(s));
  else
    rc = n_new ? LT_EXIT_FINDINGS : LT_EXIT_OK;
  lt_store_close(s);
  return rc;
}
