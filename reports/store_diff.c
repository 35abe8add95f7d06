/* lifetrace — comparing two runs of a results database by signature
 * (`lifetrace diff`; see lifetrace/store.h). */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* The runs of a scope: ?3 kind, ?4 driver, ?5 campaign (NULL: any). */
#define IN_SCOPE                                                                               \
  "(?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR driver_version = ?4 OR driver = ?4 OR "        \
  "(length(?4) >= 8 AND substr(driver_sha256, 1, length(?4)) = lower(?4))) AND "              \
  "(?5 IS NULL OR instr(coalesce(command, ''), ?5) > 0)"

static const char *ref_sql(const char *ref, int numeric) {
  if (!strcmp(ref, "latest"))
    return "SELECT id FROM runs WHERE " IN_SCOPE " ORDER BY started_at DESC, id DESC LIMIT 1";
  if (!strcmp(ref, "previous"))
    return "SELECT id FROM runs WHERE " IN_SCOPE " ORDER BY started_at DESC, id DESC "
           "LIMIT 1 OFFSET 1";
  if (numeric)
    return "SELECT id FROM runs WHERE id = ?1 AND " IN_SCOPE;
  return "SELECT id FROM runs WHERE " IN_SCOPE " AND (uuid = ?2 OR (length(?2) >= 4 AND "
         "substr(uuid, 1, length(?2)) = ?2 AND (SELECT count(*) FROM runs WHERE "
         "substr(uuid, 1, length(?2)) = ?2) = 1))";
}

static void bind_opt(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* Resolves a run reference ("latest", "previous", an id, a uuid or a unique
 * prefix of one, at least 4 characters) among the runs of a scope to its
 * id; 0 when there is none. See lifetrace/store.h. */
int64_t lt_store_resolve_run_in(lt_store *s, const char *ref, const lt_store_scope *sc) {
  static const lt_store_scope all = {NULL, NULL, NULL};
  sqlite3_stmt *st = NULL;
  int64_t id = 0;
  char *end;
  long long n = strtoll(ref, &end, 10);
  if (sc == NULL)
    sc = &all;
  if (sqlite3_prepare_v2(lt__store_db(s), ref_sql(ref, *end == 0 && *ref), -1, &st, NULL) !=
      SQLITE_OK)
    return 0;
  sqlite3_bind_int64(st, 1, n);
  bind_opt(st, 2, ref);
  bind_opt(st, 3, sc->kind);
  bind_opt(st, 4, sc->driver);
  bind_opt(st, 5, sc->campaign);
  if (sqlite3_step(st) == SQLITE_ROW)
    id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return id;
}

/* Resolves a run reference among every run; see lifetrace/store.h. */
int64_t lt_store_resolve_run(lt_store *s, const char *ref) {
  return lt_store_resolve_run_in(s, ref, NULL);
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

static int add_row(lt_store_diff_row **v, size_t *n, size_t *cap, sqlite3_stmt *st) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    lt_store_diff_row *nv = lt_realloc(*v, c * sizeof *nv);
    if (nv == NULL)
      return LT_ENOMEM;
    *v = nv;
    *cap = c;
  }
  lt_store_diff_row *r = &(*v)[*n];
  memset(r, 0, sizeof *r);
  snprintf(r->signature, sizeof r->signature, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(r->kind, sizeof r->kind, "%s", (const char *)sqlite3_column_text(st, 1));
  snprintf(r->severity, sizeof r->severity, "%s", (const char *)sqlite3_column_text(st, 2));
  r->count_a = (uint64_t)sqlite3_column_int64(st, 3);
  r->count_b = (uint64_t)sqlite3_column_int64(st, 4);
  const char *m = (const char *)sqlite3_column_text(st, 5);
  r->message = lt_strdup(m ? m : "");
  ++*n;
  return r->message ? 0 : LT_ENOMEM;
}

/* Lists the signatures of runs a and b with their counts in each; see
 * lifetrace/store.h. */
int lt_store_diff(lt_store *s, int64_t a, int64_t b, lt_store_diff_row **out, size_t *n) {
  sqlite3_stmt *st;
  lt_store_diff_row *v = NULL;
  size_t len = 0, cap = 0;
  int err = 0;

  *out = NULL;
  *n = 0;
  if (sqlite3_prepare_v2(lt__store_db(s), diff_sql, -1, &st, NULL) != SQLITE_OK)
    return LT_EIO;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && err == 0)
    err = add_row(&v, &len, &cap, st);
  if (err == 0 && rc != SQLITE_DONE)
    err = LT_EIO;
  sqlite3_finalize(st);
  if (err) {
    lt_store_diff_free(v, len);
    return err;
  }
  *out = v;
  *n = len;
  return 0;
}

/* Frees rows from lt_store_diff; NULL is a no-op. See lifetrace/store.h. */
void lt_store_diff_free(lt_store_diff_row *v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    lt_free(v[i].message);
  lt_free(v);
}
