/* `lifetrace diff RUN_A RUN_B`: findings new, gone and unchanged between two
 * runs of a results database, by signature, with per-signature counts. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "store_internal.h"

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

/* Resolves a run reference to its id (0 = none). */
static int64_t resolve_run(sqlite3 *db, const char *ref) {
  sqlite3_stmt *st;
  int64_t id = 0;
  char *end;
  long long n = strtoll(ref, &end, 10);
  const char *sql =
      !strcmp(ref, "latest")     ? "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1"
      : !strcmp(ref, "previous") ? "SELECT id FROM runs ORDER BY started_at DESC, id DESC "
                                   "LIMIT 1 OFFSET 1"
      : *end == 0 && *ref        ? "SELECT id FROM runs WHERE id = ?1"
                                 : "SELECT id FROM runs WHERE uuid = ?2 OR (length(?2) >= 4 AND "
                                   "substr(uuid, 1, length(?2)) = ?2 AND (SELECT count(*) FROM "
                                   "runs WHERE substr(uuid, 1, length(?2)) = ?2) = 1)";
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return 0;
  if (sqlite3_bind_parameter_count(st) >= 1)
    sqlite3_bind_int64(st, 1, n);
  if (sqlite3_bind_parameter_count(st) >= 2)
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW)
    id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return id;
}

/* Every signature seen in A or B, with its count in each. */
static const char diff_sql[] =
    "WITH a AS (SELECT signature, count(*) AS n FROM occurrences WHERE run_id = ?1 GROUP BY "
    "signature), b AS (SELECT signature, count(*) AS n FROM occurrences WHERE run_id = ?2 GROUP "
    "BY signature), s AS (SELECT signature FROM a UNION SELECT signature FROM b) "
    "SELECT s.signature, f.kind, f.severity, coalesce(a.n, 0), coalesce(b.n, 0), f.message "
    "FROM s JOIN findings f ON f.signature = s.signature LEFT JOIN a ON a.signature = "
    "s.signature LEFT JOIN b ON b.signature = s.signature ORDER BY f.severity, f.kind, "
    "s.signature";

static const char *section(int64_t na, int64_t nb) {
  return na == 0 ? "new" : nb == 0 ? "gone" : "unchanged";
}

static int run_diff(sqlite3 *db, int64_t a, int64_t b, int json, int *n_new) {
  sqlite3_stmt *st;
  json_t *out = json ? json_pack("{s:I, s:I, s:[], s:[], s:[]}", "run_a", (json_int_t)a, "run_b",
                                 (json_int_t)b, "new", "gone", "unchanged")
                     : NULL;
  if (sqlite3_prepare_v2(db, diff_sql, -1, &st, NULL) != SQLITE_OK)
    return LT_EIO;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  size_t counts[3] = {0};
  while (sqlite3_step(st) == SQLITE_ROW) {
    int64_t na = sqlite3_column_int64(st, 3), nb = sqlite3_column_int64(st, 4);
    const char *sec = section(na, nb);
    counts[na == 0 ? 0 : nb == 0 ? 1 : 2]++;
    if (out)
      json_array_append_new(json_object_get(out, sec),
                            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "signature",
                                      sqlite3_column_text(st, 0), "kind", sqlite3_column_text(st, 1),
                                      "severity", sqlite3_column_text(st, 2), "count_a",
                                      (json_int_t)na, "count_b", (json_int_t)nb, "delta",
                                      (json_int_t)(nb - na), "message",
                                      sqlite3_column_text(st, 5)));
    else
      printf("%-9s %s  %-7s %-26s %5lld -> %-5lld (%+lld)  %s\n", sec, sqlite3_column_text(st, 0),
             sqlite3_column_text(st, 2), sqlite3_column_text(st, 1), (long long)na, (long long)nb,
             (long long)(nb - na), sqlite3_column_text(st, 5));
  }
  sqlite3_finalize(st);
  if (out) {
    json_dumpf(out, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(out);
  } else {
    printf("%zu new, %zu gone, %zu unchanged\n", counts[0], counts[1], counts[2]);
  }
  *n_new = (int)counts[0];
  return 0;
}

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
  int64_t a = resolve_run(lt__store_db(s), argv[optind]);
  int64_t b = resolve_run(lt__store_db(s), argv[optind + 1]);
  int rc = LT_EXIT_INPUT, n_new = 0;
  if (!a || !b)
    fprintf(stderr, "lifetrace diff: no such run: %s\n", !a ? argv[optind] : argv[optind + 1]);
  else if (run_diff(lt__store_db(s), a, b, json, &n_new))
    fprintf(stderr, "lifetrace diff: %s\n", sqlite3_errmsg(lt__store_db(s)));
  else
    rc = n_new ? LT_EXIT_FINDINGS : LT_EXIT_OK;
  lt_store_close(s);
  return rc;
}
