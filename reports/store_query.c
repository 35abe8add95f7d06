/* The results store: names of its enums, listing findings, triage marks. */
#include <ctype.h>
#include <string.h>

#include "store_internal.h"
#include "store_priv.h"

static const char *const run_kinds[] = {"replay", "fuzz", "check", "triage"};
static const char *const verdicts[] = {"clean",      "warnings", "errors",
                                       "unreadable", "pass",     "fail"};
static const char *const statuses[] = {"open", "fixed", "ignored", "expected"};

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))

static int name_index(const char *const *names, int n, const char *name) {
  for (int i = 0; name && i < n; i++)
    if (!strcmp(names[i], name))
      return i;
  return -1;
}

/* The name of a run kind, or NULL; see lifetrace/store.h. */
const char *lt_run_kind_name(int k) { return k >= 0 && k < N_OF(run_kinds) ? run_kinds[k] : NULL; }
/* The run kind named n, or -1; see lifetrace/store.h. */
int lt_run_kind_from_name(const char *n) { return name_index(run_kinds, N_OF(run_kinds), n); }
/* The name of a verdict, or NULL; see lifetrace/store.h. */
const char *lt_verdict_name(int v) { return v >= 0 && v < N_OF(verdicts) ? verdicts[v] : NULL; }
/* The verdict named n, or -1; see lifetrace/store.h. */
int lt_verdict_from_name(const char *n) { return name_index(verdicts, N_OF(verdicts), n); }
/* The name of a finding status ("open", "fixed", "ignored"), or NULL; see
 * lifetrace/store.h. */
const char *lt_status_name(int v) { return v >= 0 && v < N_OF(statuses) ? statuses[v] : NULL; }
/* The finding status named n, or -1; see lifetrace/store.h. */
int lt_status_from_name(const char *n) { return name_index(statuses, N_OF(statuses), n); }

/* The verdict a list of findings implies: errors if any error, else warnings
 * if any, else clean (also for NULL); see lifetrace/store.h. */
int lt_verdict_of(const lt_findings *fs) {
  if (fs == NULL || fs->total == 0)
    return LT_VERDICT_CLEAN;
  return fs->errors ? LT_VERDICT_ERRORS : LT_VERDICT_WARNINGS;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *st, int col) {
  const unsigned char *v = sqlite3_column_text(st, col);
  snprintf(dst, len, "%s", v ? (const char *)v : "");
}

static char *dup_col(sqlite3_stmt *st, int col, int *oom) {
  const unsigned char *v = sqlite3_column_text(st, col);
  char *d = v ? lt_strdup((const char *)v) : NULL;
  if (v && d == NULL)
    *oom = 1;
  return d;
}

static int fill_finding(lt_store_finding *f, sqlite3_stmt *st) {
  int oom = 0;
  memset(f, 0, sizeof *f);
  copy_col(f->signature, sizeof f->signature, st, 0);
  copy_col(f->kind, sizeof f->kind, st, 1);
  copy_col(f->layer, sizeof f->layer, st, 2);
  copy_col(f->object, sizeof f->object, st, 3);
  copy_col(f->severity, sizeof f->severity, st, 4);
  copy_col(f->ddi, sizeof f->ddi, st, 5);
  copy_col(f->site, sizeof f->site, st, 6);
  f->message = dup_col(st, 7, &oom);
  f->status = lt_status_from_name((const char *)sqlite3_column_text(st, 8));
  f->first_seen = sqlite3_column_int64(st, 9);
  f->last_seen = sqlite3_column_int64(st, 10);
  f->first_run = sqlite3_column_int64(st, 11);
  f->last_run = sqlite3_column_int64(st, 12);
  f->count = (uint64_t)sqlite3_column_int64(st, 13);
  f->repro_path = dup_col(st, 14, &oom);
  f->repro_size = sqlite3_column_type(st, 15) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 15);
  f->repro_command = dup_col(st, 16, &oom);
  f->n_runs = (uint64_t)sqlite3_column_int64(st, 17);
  f->process = dup_col(st, 18, &oom);
  copy_col(f->first_driver_version, sizeof f->first_driver_version, st, 19);
  copy_col(f->first_driver_sha256, sizeof f->first_driver_sha256, st, 20);
  copy_col(f->last_driver_version, sizeof f->last_driver_version, st, 21);
  copy_col(f->last_driver_sha256, sizeof f->last_driver_sha256, st, 22);
  return oom ? LT_ENOMEM : 0;
}

/* Reads every finding with status (-1: any), newest first, into an array the
 * caller frees with lt_store_findings_free; see lifetrace/store.h. */
int lt_store_findings(lt_store *s, int status, lt_store_finding **out, size_t *n) {
  LT_STORE_CHECK(s);
  sqlite3_stmt *st = NULL;
  lt_store_finding *v = NULL;
  size_t len = 0, cap = 0;
  int rc, err = lt__store_prepare(
      s, &st,
      "SELECT f.signature, f.kind, layer, f.object, f.severity, ddi, site, f.message, f.status, "
      "first_seen, last_seen, first_run, last_run, count, repro_path, repro_size, "
      "repro_command, (SELECT count(DISTINCT run_id) FROM occurrences o "
      "WHERE o.signature = f.signature), (SELECT process FROM occurrences o WHERE "
      "o.signature = f.signature ORDER BY seen_at DESC, id DESC LIMIT 1), "
      "r1.driver_version, r1.driver_sha256, r2.driver_version, r2.driver_sha256 "
      "FROM findings f LEFT JOIN runs r1 ON r1.id = f.first_run "
      "LEFT JOIN runs r2 ON r2.id = f.last_run WHERE ?1 IS NULL OR f.status = ?1 "
      "ORDER BY f.last_seen DESC, f.signature");
  *out = NULL;
  *n = 0;
  if (err)
    return err;
  lt__bind_text(st, 1, lt_status_name(status));
  while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (len == cap) {
      lt_store_finding *g = lt_realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
      if (g == NULL) {
        err = LT_ENOMEM;
        break;
      }
      v = g;
    }
    err = fill_finding(&v[len++], st);
  }
  if (err == 0 && rc != SQLITE_DONE)
    err = lt__store_fail(s, rc);
  sqlite3_finalize(st);
  if (err) {
    lt_store_findings_free(v, len);
    return err;
  }
  *out = v;
  *n = len;
  return 0;
}

/* Frees an array from lt_store_findings; NULL is a no-op. See
 * lifetrace/store.h. */
void lt_store_findings_free(lt_store_finding *f, size_t n) {
  for (size_t i = 0; f && i < n; i++) {
    lt_free(f[i].message);
    lt_free(f[i].process);
    lt_free(f[i].repro_path);
    lt_free(f[i].repro_command);
  }
  lt_free(f);
}

static int valid_prefix(const char *p) {
  size_t n = strlen(p);
  if (n < 4 || n > 16)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
      return 0;
  return 1;
}

static int count_prefix(lt_store *s, const char *like, int *count) {
  sqlite3_stmt *st = NULL;
  int rc, err = lt__store_prepare(s, &st, "SELECT count(*) FROM findings WHERE signature LIKE ?");
  if (err)
    return err;
  lt__bind_text(st, 1, like);
  rc = sqlite3_step(st);
  *count = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : lt__store_fail(s, rc);
}

/* Sets the status of the findings whose signature starts with prefix, in one
 * transaction; see lifetrace/store.h for ambiguity and errors. */
int lt_store_mark(lt_store *s, const char *prefix, int status, int all, int *matched) {
  LT_STORE_CHECK(s);
  char like[20];
  sqlite3_stmt *st = NULL;
  int count = 0, err;
  if (matched)
    *matched = 0;
  if (!valid_prefix(prefix) || lt_status_name(status) == NULL)
    return LT_EINVAL;
  snprintf(like, sizeof like, "%s%%", prefix);
  if ((err = lt__store_begin(s)) || (err = count_prefix(s, like, &count)))
    goto out;
  if (count == 0 || (count > 1 && !all)) {
    err = count ? LT_EINVAL : LT_ENOENT;
    goto out;
  }
  if ((err = lt__store_prepare(s, &st, "UPDATE findings SET status = ?, status_at = ? "
                                       "WHERE signature LIKE ?")))
    goto out;
  lt__bind_text(st, 1, lt_status_name(status));
  sqlite3_bind_int64(st, 2, lt__now_ms());
  lt__bind_text(st, 3, like);
  if ((err = lt__store_step_done(s, st)) == 0)
    err = lt__store_commit(s);
out:
  sqlite3_finalize(st);
  if (err)
    lt__store_rollback(s);
  if (matched)
    *matched = count;
  return err;
}
