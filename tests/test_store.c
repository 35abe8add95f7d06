/* Tests of the results store (reports/store*.c): the schema it creates is the
 * documented one, ingest is idempotent, concurrent writers lose nothing, a
 * writer killed mid-transaction leaves the database intact, triage status and
 * reproducers behave as a user of `lifetrace findings` expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetrace/store.h"
#include "store_internal.h"

static char tmpdir[256];
static long live_at_start;

static int setup(void **state) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lt_store_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  live_at_start = lt_alloc_live();
  return 0;
}

static int teardown(void **state) {
  char cmd[300];
  assert_int_equal(lt_alloc_live(), live_at_start); /* everything released */
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static lt_finding make_finding(int kind, int sev, uint64_t event, const char *site) {
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.kind = kind;
  f.layer = lt_finding_kind_layer(kind);
  f.severity = sev;
  f.event = event;
  f.object = LT_OBJ_ALLOCATION;
  f.handle = 0xffff800012340000ull; /* a captured kernel pointer: above 2^63 */
  f.pid = 42;
  f.created_at = 1;
  f.n_destroyed = 1;
  f.destroyed_at[0] = 3;
  f.n_history = 2;
  f.history[0].event = 1;
  f.history[0].op = LIFETRACE__OP__ALLOC_CREATE;
  f.history[1].event = 3;
  f.history[1].op = LIFETRACE__OP__ALLOC_DESTROY;
  snprintf(f.ddi, sizeof f.ddi, "DxgkDdiDestroyAllocation");
  snprintf(f.site, sizeof f.site, "%s", site);
  snprintf(f.message, sizeof f.message, "allocation destroyed again at event %llu",
           (unsigned long long)event);
  lt_finding_sign(&f);
  return f;
}

static int64_t query_int(lt_store *s, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(lt__store_db(s), sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* A digest of every row of every table, to show that nothing changed. */
static char *dump_all(lt_store *s) {
  static const char sql[] =
      "SELECT (SELECT group_concat(x, '|') FROM (SELECT quote(id)||uuid||kind||quote(ended_at) "
      "AS x FROM runs ORDER BY id)) || '#' || (SELECT group_concat(x, '|') FROM (SELECT "
      "path||sha256||verdict||n_findings AS x FROM traces ORDER BY id)) || '#' || (SELECT "
      "group_concat(x, '|') FROM (SELECT signature||count||first_seen||last_seen||status AS x "
      "FROM findings ORDER BY signature)) || '#' || (SELECT count(*) FROM occurrences) || '#' || "
      "(SELECT count(*) FROM stats)";
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(lt__store_db(s), sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const unsigned char *t = sqlite3_column_text(st, 0);
  char *d = strdup(t ? (const char *)t : "");
  sqlite3_finalize(st);
  return d;
}

/* Collapses whitespace and drops "--" comments, so schema text compares by
 * meaning rather than layout. */
static void normalize_sql(const char *in, char *out, size_t len) {
  size_t o = 0;
  int space = 0;
  for (const char *p = in; *p && o + 2 < len; p++) {
    if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n')
        p++;
      if (!*p)
        break;
    }
    if (*p == ' ' || *p == '\n' || *p == '\t') {
      space = 1;
      continue;
    }
    if (space && o > 0 && !strchr("(),", out[o - 1]) && !strchr("(),", *p))
      out[o++] = ' ';
    space = 0;
    out[o++] = *p;
  }
  out[o] = 0;
}

static char *schema_of(sqlite3 *db) {
  static const char sql[] = "SELECT type, name, sql FROM sqlite_master WHERE sql NOT NULL "
                            "ORDER BY type, name";
  sqlite3_stmt *st;
  size_t cap = 1 << 16, n = 0;
  char *all = calloc(1, cap), norm[8192];
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    normalize_sql((const char *)sqlite3_column_text(st, 2), norm, sizeof norm);
    n += (size_t)snprintf(all + n, cap - n, "%s %s: %s\n", sqlite3_column_text(st, 0),
                          sqlite3_column_text(st, 1), norm);
  }
  sqlite3_finalize(st);
  return all;
}

/* The text of a file of the source tree (malloc'ed). */
static char *read_text(const char *src, const char *rel) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", src, rel);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char *text = calloc(1, 1 << 16);
  size_t got = fread(text, 1, (1 << 16) - 1, f);
  fclose(f);
  assert_true(got > 0);
  return text;
}

/* schemas/results.sql is what a user reads to query the database with
 * sqlite3; it must be exactly what the store creates. */
static void test_schema_matches_results_sql(void **state) {
  const char *src = getenv("LT_SOURCE_DIR");
  char path[512], sqlpath[512], err[256];
  lt_store *s = NULL;
  sqlite3 *ref;
  if (src == NULL)
    skip();
  snprintf(sqlpath, sizeof sqlpath, "%s/schemas/results.sql", src);
  FILE *f = fopen(sqlpath, "r");
  assert_non_null(f);
  char *text = calloc(1, 1 << 16);
  size_t got = fread(text, 1, (1 << 16) - 1, f);
  fclose(f);
  assert_true(got > 0);
  assert_int_equal(sqlite3_open(":memory:", &ref), SQLITE_OK);
  assert_int_equal(sqlite3_exec(ref, text, NULL, NULL, NULL), SQLITE_OK);
  path_in(path, sizeof path, "schema.db");
  assert_int_equal(lt_store_open(&s, path, err, sizeof err), 0);
  assert_int_equal(lt_store_schema_version(s), LT_STORE_SCHEMA_VERSION);
  char *a = schema_of(ref), *b = schema_of(lt__store_db(s));
  assert_string_equal(a, b);
  assert_int_equal(query_int(s, "SELECT version FROM schema_version"), LT_STORE_SCHEMA_VERSION);
  free(a);
  free(b);
  free(text);
  sqlite3_close(ref);
  lt_store_close(s);
}

/* A replay recorded with --db: run, trace (with its sha256), findings
 * grouped by signature with counts, process names, reproducer command. */
static void test_replay_is_recorded(void **state) {
  char db[512], trace[512], err[256], uuid[37];
  lt_store *s;
  int64_t run, tid;
  lt_findings fs;
  lt_finding a = make_finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 5, "");
  lt_finding b = make_finding(LT_F_LEAK, LT_SEV_WARNING, 9, "");
  path_in(db, sizeof db, "r.db");
  path_in(trace, sizeof trace, "abc.jsonl");
  write_file(trace, "abc");
  lt_findings_init(&fs, 0);
  assert_int_equal(lt_findings_add(&fs, &a), 0);
  assert_int_equal(lt_findings_add(&fs, &a), 0);
  assert_int_equal(lt_findings_add(&fs, &b), 0);

  Lifetrace__Process p = LIFETRACE__PROCESS__INIT, *pp = &p;
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  p.pid = 42;
  p.name = "<script>alert(1)</script>";
  h.n_processes = 1;
  h.processes = &pp;

  lt_store_run_info ri = {.kind = LT_RUN_REPLAY, .command = "lifetrace replay --db r.db abc.jsonl",
                          .policy = "audit", .has_seed = 1, .seed = 7};
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
  lt_store_trace t = {.path = trace, .n_events = 12, .verdict = lt_verdict_of(&fs), .header = &h};
  assert_int_equal(lt_store_add_trace_ex(s, run, &t, &fs, &tid), 0);
  assert_true(tid > 0);
  assert_int_equal(lt_store_run_end(s, run, 1), 0);
  assert_int_equal(lt_store_run_uuid(s, run, uuid), 0);
  assert_int_equal(strlen(uuid), 36);

  /* sha256("abc") from FIPS 180-2, appendix B.1 */
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(lt__store_db(s), "SELECT sha256, verdict, size FROM traces",
                                      -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal(sqlite3_column_text(st, 0),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_string_equal(sqlite3_column_text(st, 1), "errors");
  assert_int_equal(sqlite3_column_int(st, 2), 3);
  sqlite3_finalize(st);

  lt_store_finding *v;
  size_t n;
  char sig[17];
  lt_signature_hex(a.signature, sig);
  assert_int_equal(lt_store_findings(s, -1, &v, &n), 0);
  assert_int_equal(n, 2);
  lt_store_finding *dd = !strcmp(v[0].signature, sig) ? &v[0] : &v[1];
  assert_string_equal(dd->signature, sig);
  assert_string_equal(dd->kind, "double-destroy");
  assert_string_equal(dd->severity, "error");
  assert_int_equal(dd->count, 2);
  assert_int_equal(dd->n_runs, 1);
  assert_int_equal(dd->status, LT_STATUS_OPEN);
  assert_string_equal(dd->process, "<script>alert(1)</script>");
  assert_string_equal(dd->repro_path, trace);
  assert_int_equal(dd->repro_size, 3);
  assert_non_null(strstr(dd->repro_command, "lifetrace replay --policy audit"));
  assert_non_null(strstr(dd->repro_command, "abc.jsonl"));
  lt_store_findings_free(v, n);
  /* the pointer-sized handle survives the signed 64-bit column */
  assert_int_equal((uint64_t)query_int(s, "SELECT handle FROM occurrences LIMIT 1"),
                   0xffff800012340000ull);
  lt_findings_reset(&fs);
  lt_store_close(s);
}

static void ingest_run(const char *db, const char *uuid, const char *trace, int n_traces,
                       int64_t t0) {
  char err[256], path[600];
  lt_store *s;
  int64_t run;
  lt_findings fs;
  lt_finding a = make_finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 5, "");
  lt_store_run_info ri = {.kind = LT_RUN_FUZZ, .uuid = uuid, .started_at = t0};
  lt_findings_init(&fs, 0);
  assert_int_equal(lt_findings_add(&fs, &a), 0);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
  for (int i = 0; i < n_traces; i++) {
    snprintf(path, sizeof path, "%s#%d", trace, i);
    lt_store_trace t = {.path = path, .n_events = 6, .verdict = LT_VERDICT_ERRORS,
                        .seen_at = t0 + i};
    assert_int_equal(lt_store_add_trace_ex(s, run, &t, &fs, NULL), 0);
  }
  lt_store_stats st = {.t = t0, .execs = 1000, .exec_per_sec = 500, .coverage = 77};
  assert_int_equal(lt_store_add_stats(s, run, &st), 0);
  assert_int_equal(lt_store_run_end_at(s, run, 0, t0 + 1000), 0);
  lt_findings_reset(&fs);
  lt_store_close(s);
}

/* Ingesting the same run again (same uuid) changes nothing at all. */
static void test_reingest_changes_nothing(void **state) {
  char db[512], err[256];
  lt_store *s;
  path_in(db, sizeof db, "idem.db");
  ingest_run(db, "run-a", "t.jsonl", 3, 1000000);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  char *before = dump_all(s);
  lt_store_close(s);
  ingest_run(db, "run-a", "t.jsonl", 3, 5000000);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  char *after = dump_all(s);
  assert_string_equal(before, after);
  free(before);
  free(after);
  assert_int_equal(query_int(s, "SELECT count FROM findings"), 3);
  assert_int_equal(query_int(s, "SELECT count(*) FROM runs"), 1);
  lt_store_close(s);
}

/* replay --db --max-findings N: details are kept for N findings, but the
 * database holds every finding's true count, also for a signature that only
 * occurs past the cap. */
static void test_count_past_max_findings(void **state) {
  char db[512], trace[512], err[256], hex[17];
  lt_store *s;
  int64_t run;
  lt_findings fs;
  lt_finding a = make_finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 5, "");
  lt_finding b = make_finding(LT_F_LEAK, LT_SEV_WARNING, 9, "");
  path_in(db, sizeof db, "cap.db");
  path_in(trace, sizeof trace, "many.jsonl");
  write_file(trace, "many");
  lt_findings_init(&fs, 2);
  for (int i = 0; i < 7; i++)
    assert_int_equal(lt_findings_add(&fs, &a), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(lt_findings_add(&fs, &b), 0);
  assert_int_equal(fs.n, 2);
  assert_int_equal(fs.total, 10);
  lt_store_run_info ri = {.kind = LT_RUN_REPLAY, .command = "lifetrace replay", .policy = "audit"};
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
  assert_int_equal(lt_store_add_trace(s, run, trace, 12, LT_VERDICT_ERRORS, &fs), 0);
  char sql[200];
  lt_signature_hex(a.signature, hex);
  snprintf(sql, sizeof sql, "SELECT count FROM findings WHERE signature = '%s'", hex);
  assert_int_equal(query_int(s, sql), 7);
  lt_signature_hex(b.signature, hex);
  snprintf(sql, sizeof sql, "SELECT count FROM findings WHERE signature = '%s'", hex);
  assert_int_equal(query_int(s, sql), 3);
  assert_int_equal(query_int(s, "SELECT count(*) FROM occurrences"), 2);
  assert_int_equal(query_int(s, "SELECT n_findings FROM traces"), 10);
  /* Fuzz workers' hit counts of crashes not kept as files add to the count. */
  lt_signature_hex(a.signature, hex);
  assert_int_equal(lt_store_add_count(s, run, hex, 100), 0);
  assert_int_equal(lt_store_add_count(s, run, "0123456789abcdef", 5), LT_ENOENT);
  snprintf(sql, sizeof sql, "SELECT count FROM findings WHERE signature = '%s'", hex);
  assert_int_equal(query_int(s, sql), 107);
  lt_store_close(s);
  lt_findings_reset(&fs);
}

/* Triage: fixed findings reopen when they occur again after the fix;
 * ignored ones stay ignored; an ambiguous prefix is refused. */
static void test_mark_and_reopen(void **state) {
  char db[512], err[256], sig[17];
  lt_store *s;
  int matched = 0;
  lt_finding a = make_finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 5, "");
  path_in(db, sizeof db, "mark.db");
  lt_signature_hex(a.signature, sig);
  ingest_run(db, "r1", "x.jsonl", 1, 1000);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(lt_store_mark(s, "zz", LT_STATUS_FIXED, 0, &matched), LT_EINVAL);
  assert_int_equal(lt_store_mark(s, "0000", LT_STATUS_FIXED, 0, &matched),
                   !strncmp(sig, "0000", 4) ? 0 : LT_ENOENT);
  char prefix[9];
  snprintf(prefix, sizeof prefix, "%.8s", sig);
  assert_int_equal(lt_store_mark(s, prefix, LT_STATUS_FIXED, 0, &matched), 0);
  assert_int_equal(matched, 1);
  lt_store_close(s);

  /* seen again later than the fix (now): reopened */
  ingest_run(db, "r2", "x.jsonl", 1, lt__now_ms() + 60000);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(query_int(s, "SELECT status = 'open' FROM findings"), 1);
  assert_int_equal(lt_store_mark(s, sig, LT_STATUS_IGNORED, 0, NULL), 0);
  lt_store_close(s);
  ingest_run(db, "r3", "x.jsonl", 1, lt__now_ms() + 120000);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(query_int(s, "SELECT status = 'ignored' FROM findings"), 1);
  assert_int_equal(query_int(s, "SELECT count FROM findings"), 3);
  lt_store_close(s);
}

/* The reproducer shown for a finding is the smallest file that showed it,
 * unless triage sets a minimized one. */
static void test_smallest_reproducer(void **state) {
  char db[512], big[512], small[512], min[512], err[256], sig[17];
  lt_store *s;
  int64_t run;
  lt_findings fs;
  lt_finding a = make_finding(LT_F_GPU_USE_AFTER_FREE, LT_SEV_ERROR, 2, "dma");
  lt_signature_hex(a.signature, sig);
  path_in(db, sizeof db, "repro.db");
  path_in(big, sizeof big, "big.jsonl");
  path_in(small, sizeof small, "small.jsonl");
  path_in(min, sizeof min, "min.jsonl");
  write_file(big, "0123456789012345678901234567890123456789");
  write_file(small, "0123456789");
  write_file(min, "01");
  lt_findings_init(&fs, 0);
  assert_int_equal(lt_findings_add(&fs, &a), 0);
  lt_store_run_info ri = {.kind = LT_RUN_REPLAY, .policy = "kernel"};
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
  assert_int_equal(lt_store_add_trace(s, run, big, 10, LT_VERDICT_ERRORS, &fs), 0);
  assert_int_equal(lt_store_add_trace(s, run, small, 3, LT_VERDICT_ERRORS, &fs), 0);
  assert_int_equal(lt_store_add_trace(s, run, big, 10, LT_VERDICT_ERRORS, &fs), 0); /* again */
  assert_int_equal(query_int(s, "SELECT repro_size FROM findings"), 10);
  assert_int_equal(query_int(s, "SELECT count FROM findings"), 2);
  assert_int_equal(lt_store_set_reproducer(s, sig, min, "lifetrace replay min.jsonl"), 0);
  assert_int_equal(query_int(s, "SELECT repro_size FROM findings"), 2);
  assert_int_equal(lt_store_set_reproducer(s, "0123456789abcdef", min, "x"), LT_ENOENT);
  lt_findings_reset(&fs);
  lt_store_close(s);
}

/* Eight processes create and write the same new database at once; every
 * run, trace and occurrence is there afterwards. */
static void test_concurrent_writers_lose_nothing(void **state) {
  enum { WRITERS = 8, TRACES = 15 };
  char db[512], err[256];
  int go[2];
  pid_t pids[WRITERS];
  path_in(db, sizeof db, "conc.db");
  assert_int_equal(pipe(go), 0);
  for (int w = 0; w < WRITERS; w++) {
    pids[w] = fork();
    assert_true(pids[w] >= 0);
    if (pids[w] == 0) {
      char c, uuid[32];
      close(go[1]);
      if (read(go[0], &c, 1) != 0) /* wait for the start: the pipe closing */
        _exit(3);
      snprintf(uuid, sizeof uuid, "writer-%d", w);
      ingest_run(db, uuid, "w.jsonl", TRACES, 1000 + w);
      _exit(0);
    }
  }
  close(go[0]);
  close(go[1]); /* all writers start together */
  for (int w = 0; w < WRITERS; w++) {
    int status;
    assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  lt_store *s;
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(query_int(s, "SELECT count(*) FROM runs WHERE ended_at NOT NULL"), WRITERS);
  assert_int_equal(query_int(s, "SELECT count(*) FROM traces"), WRITERS * TRACES);
  assert_int_equal(query_int(s, "SELECT count(*) FROM occurrences"), WRITERS * TRACES);
  assert_int_equal(query_int(s, "SELECT count FROM findings"), WRITERS * TRACES);
  assert_int_equal(query_int(s, "SELECT count(*) FROM stats"), WRITERS);
  assert_int_equal(query_int(s, "SELECT count(*) FROM schema_version"), 1);
  lt_store_close(s);
}

static void die_now(const char *point, uint64_t n) {
  if (n == 40)
    raise(SIGKILL);
}

/* A writer killed by SIGKILL in the middle of recording a trace: the
 * database passes integrity_check, the half-written trace is absent, what
 * was committed before is intact, and the next writer can go on. */
static void test_sigkill_mid_transaction(void **state) {
  char db[512], trace[512], err[256];
  lt_store *s;
  path_in(db, sizeof db, "kill.db");
  path_in(trace, sizeof trace, "k.jsonl");
  write_file(trace, "{}\n");
  ingest_run(db, "before", "ok.jsonl", 2, 1000);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    lt_findings fs;
    int64_t run;
    lt_findings_init(&fs, 0);
    for (int i = 0; i < 100; i++) {
      lt_finding f = make_finding(LT_F_LEAK, LT_SEV_ERROR, (uint64_t)i, i % 2 ? "a" : "b");
      if (lt_findings_add(&fs, &f))
        _exit(3);
    }
    lt_store_run_info ri = {.kind = LT_RUN_REPLAY, .uuid = "killed"};
    if (lt_store_open(&s, db, err, sizeof err) || lt_store_run_begin(s, &ri, &run))
      _exit(3);
    lt__store_hook = die_now;
    if (lt_store_add_trace(s, run, trace, 100, LT_VERDICT_ERRORS, &fs))
      _exit(4);
    _exit(5); /* the hook should have killed us */
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);

  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(lt__store_db(s), "PRAGMA integrity_check", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal(sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  assert_int_equal(query_int(s, "SELECT count(*) FROM runs"), 2); /* the run began, committed */
  assert_int_equal(query_int(s, "SELECT ended_at IS NULL FROM runs WHERE uuid = 'killed'"), 1);
  assert_int_equal(query_int(s, "SELECT count(*) FROM traces"), 2);
  assert_int_equal(query_int(s, "SELECT count(*) FROM occurrences"), 2);
  assert_int_equal(query_int(s, "SELECT count(*) FROM findings WHERE kind = 'leak'"), 0);
  lt_store_close(s);
  ingest_run(db, "after", "ok.jsonl", 2, 2000); /* still writable */
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  assert_int_equal(query_int(s, "SELECT count(*) FROM traces"), 4);
  lt_store_close(s);
}

/* Opening something that is not a lifetrace database, or one from a newer
 * build, fails with a message instead of damaging it. */
static void test_refuses_foreign_and_newer(void **state) {
  char db[512], junk[512], other[512], err[256];
  lt_store *s = NULL;
  sqlite3 *raw;
  path_in(db, sizeof db, "new.db");
  path_in(junk, sizeof junk, "junk.db");
  path_in(other, sizeof other, "other.db");
  ingest_run(db, "x", "a.jsonl", 1, 1);
  assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
  assert_int_equal(sqlite3_exec(raw, "UPDATE schema_version SET version = 99", 0, 0, 0), SQLITE_OK);
  sqlite3_close(raw);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), LT_EFORMAT);
  assert_null(s);
  assert_non_null(strstr(err, "newer"));

  write_file(junk, "this is not an SQLite database, just some text that is long enough......"
                   "...............................................................");
  assert_int_not_equal(lt_store_open(&s, junk, err, sizeof err), 0);
  assert_null(s);

  assert_int_equal(sqlite3_open(other, &raw), SQLITE_OK);
  assert_int_equal(sqlite3_exec(raw, "CREATE TABLE mine (x)", 0, 0, 0), SQLITE_OK);
  sqlite3_close(raw);
  assert_int_equal(lt_store_open(&s, other, err, sizeof err), LT_EFORMAT);
  assert_non_null(strstr(err, "not a lifetrace"));
}

/* A database of schema version 1 (tests/results_v1.sql, the schema as it was)
 * migrates to the current one: the same schema as a new database, its rows
 * kept, the new columns and the 'expected' status usable, foreign keys on. */
static void test_migrates_from_v1(void **state) {
  const char *src = getenv("LT_SOURCE_DIR");
  char path[512], err[256];
  lt_store *s = NULL;
  sqlite3 *raw, *ref;
  if (src == NULL)
    skip();
  char *v1 = read_text(src, "tests/results_v1.sql"), *cur = read_text(src, "schemas/results.sql");
  path_in(path, sizeof path, "v1.db");
  assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
  assert_int_equal(sqlite3_exec(raw, v1, NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(raw,
                   "INSERT INTO schema_version VALUES (1);"
                   "INSERT INTO runs (id, uuid, kind, started_at) VALUES (1, 'u1', 'check', 5);"
                   "INSERT INTO traces (id, run_id, path, verdict, seen_at) VALUES (1, 1, 't', 'pass', 5);"
                   "INSERT INTO findings (signature, kind, layer, object, severity, first_seen, "
                   "last_seen, first_run, last_run, count) VALUES ('00000000000000aa', 'leak', "
                   "'trace', 'allocation', 'error', 5, 5, 1, 1, 1);"
                   "INSERT INTO occurrences (signature, run_id, trace_id, seq, seen_at, severity, "
                   "event, object, handle, pid) VALUES ('00000000000000aa', 1, 1, 0, 5, 'error', 3, "
                   "'allocation', 1, 2);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(raw);

  assert_int_equal(lt_store_open(&s, path, err, sizeof err), 0);
  assert_int_equal(lt_store_schema_version(s), LT_STORE_SCHEMA_VERSION);
  assert_int_equal(sqlite3_open(":memory:", &ref), SQLITE_OK);
  assert_int_equal(sqlite3_exec(ref, cur, NULL, NULL, NULL), SQLITE_OK);
  char *a = schema_of(ref), *b = schema_of(lt__store_db(s));
  assert_string_equal(a, b);
  assert_int_equal(query_int(s, "SELECT count(*) FROM findings WHERE status = 'open' AND count = 1"), 1);
  assert_int_equal(query_int(s, "SELECT count(*) FROM occurrences WHERE expected = 0"), 1);
  assert_int_equal(query_int(s, "SELECT count(*) FROM runs WHERE driver_sha256 IS NULL"), 1);
  assert_int_equal(query_int(s, "SELECT max(version) FROM schema_version"), LT_STORE_SCHEMA_VERSION);
  /* 2 -> 3: the frames of a finding can be kept. */
  assert_int_equal(sqlite3_exec(lt__store_db(s),
                                "INSERT INTO frames (signature, stack, role, depth, function, file, "
                                "line, in_driver) VALUES ('00000000000000aa', 0, 'allocated', 0, "
                                "'f', 'f.c', 3, 1)", 0, 0, 0),
                   SQLITE_OK);
  assert_int_equal(sqlite3_exec(lt__store_db(s), "UPDATE findings SET status = 'expected'", 0, 0, 0),
                   SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(lt__store_db(s), "UPDATE findings SET status = 'bogus'", 0, 0, 0),
                       SQLITE_OK);
  assert_int_not_equal(
      sqlite3_exec(lt__store_db(s),
                   "INSERT INTO occurrences (signature, run_id, trace_id, seq, seen_at, severity, "
                   "event, object, handle, pid) VALUES ('ffffffffffffffff', 1, 1, 1, 5, 'error', "
                   "3, 'allocation', 1, 2)", 0, 0, 0),
      SQLITE_OK); /* foreign keys are on again */
  free(a);
  free(b);
  free(v1);
  free(cur);
  sqlite3_close(ref);
  lt_store_close(s);
}

/* A run keeps the driver's identity, and the findings name the driver of
 * the runs that first and last showed them. */
static void test_driver_identity(void **state) {
  char db[512], trace[512], err[256];
  lt_store *s = NULL;
  int64_t run;
  lt_store_finding *v = NULL;
  size_t n = 0;
  path_in(db, sizeof db, "drv.db");
  path_in(trace, sizeof trace, "t.jsonl");
  write_file(trace, "{}\n");
  lt_finding f = make_finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 3, "site");
  lt_findings fs;
  lt_findings_init(&fs, 0);
  assert_int_equal(lt_findings_add(&fs, &f), 0);
  assert_int_equal(lt_store_open(&s, db, err, sizeof err), 0);
  const char *versions[2] = {"kmd-1.0", "kmd-1.1"};
  for (int i = 0; i < 2; i++) {
    char sha[65];
    memset(sha, i ? 'b' : 'a', 64);
    sha[64] = 0;
    lt_store_run_info ri = {.kind = LT_RUN_FUZZ, .driver_sha256 = sha, .driver_version = versions[i],
                            .started_at = 1000 + i};
    lt_store_trace t = {.path = trace, .verdict = LT_VERDICT_ERRORS, .seen_at = 1000 + i};
    assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
    assert_int_equal(lt_store_add_trace_ex(s, run, &t, &fs, NULL), 0);
  }
  assert_int_equal(lt_store_findings(s, -1, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].first_driver_version, "kmd-1.0");
  assert_string_equal(v[0].last_driver_version, "kmd-1.1");
  assert_int_equal(v[0].first_driver_sha256[0], 'a');
  assert_int_equal(v[0].last_driver_sha256[63], 'b');
  lt_store_findings_free(v, n);
  lt_findings_reset(&fs);
  lt_store_close(s);
}

/* The command shown as "reproduce with" pastes back into a shell. */
static void test_format_command_quotes(void **state) {
  char *argv[] = {"lifetrace", "replay", "my trace.jsonl", "it's"};
  char *c = lt_store_format_command(4, argv);
  assert_string_equal(c, "lifetrace replay 'my trace.jsonl' 'it'\\''s'");
  lt_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_schema_matches_results_sql, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay_is_recorded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reingest_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_count_past_max_findings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mark_and_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(test_smallest_reproducer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_writers_lose_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sigkill_mid_transaction, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_foreign_and_newer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_format_command_quotes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migrates_from_v1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_driver_identity, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
