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

static void usage(FILE *out) {
  fprintf(out,
          "usage: lifetrace diff --db FILE [--json] RUN_A RUN_B\n"
          "\n"
          "Compares the findings of two runs by signature: new (in B only), gone (in A\n"
          "only) and unchanged (in both, with the count in each). A run is its id, its\n"
          "uuid (or a unique prefix of it), 'latest' or 'previous'. --db defaults to\n"
          "$LIFETRACE_DB.\n"
          "exit: 0 nothing new, 1 new findings in B, 2 usage, 3 no such database or run\n");
}

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

/* lifetrace diff RUN_A RUN_B: lists the findings new, gone and unchanged
 * between two runs of the results database, as text or --json. Exits 1 when
 * run B has new findings, so CI can gate on it; 3 when the database or a run
 * cannot be read, 2 for usage. */
int lt_cmd_diff(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = getenv("LIFETRACE_DB");
  int json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'j': json = 1; break;
    case 'h': usage(stdout); return LT_EXIT_OK;
    default: usage(stderr); return LT_EXIT_USAGE;
    }
  }
  if (db == NULL || optind + 2 != argc) {
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  lt_store *s;
  char msg[1024];
  struct stat st;
  if (stat(db, &st) != 0 || lt_store_open(&s, db, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace diff: %s\n", stat(db, &st) ? "no such database" : msg);
    return LT_EXIT_INPUT;
  }
  int64_t a = lt_store_resolve_run(s, argv[optind]);
  int64_t b = lt_store_resolve_run(s, argv[optind + 1]);
  int rc = LT_EXIT_INPUT, n_new = 0;
  if (!a || !b)
    fprintf(stderr, "lifetrace diff: no such run: %s\n", !a ? argv[optind] : argv[optind + 1]);
  else if (run_diff(s, a, b, json, &n_new))
    fprintf(stderr, "lifetrace diff: %s\n", lt_store_errmsg(s));
  else
    rc = n_new ? LT_EXIT_FINDINGS : LT_EXIT_OK;
  lt_store_close(s);
  return rc;
}
