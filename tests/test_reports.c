/* Tests of the report writers and the check comparison (reports/): the
 * verdict comparison is an exact multiset match, expected files are parsed
 * strictly, SARIF validates against the official 2.1.0 schema, JUnit is
 * well-formed XML that CI servers read, and the HTML and Markdown reports
 * show attacker-controlled process names as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifetrace/check.h"
#include "lifetrace/junit.h"
#include "lifetrace/replay.h"
#include "lifetrace/report.h"
#include "lifetrace/sarif.h"
#include "store_internal.h"

#define EVIL "<script>alert(1)</script>"

static char tmpdir[256];
static long live_at_start;

static int setup(void **state) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lt_reports_XXXXXX");
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

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  return s;
}

static lt_finding finding(int kind, int sev, uint64_t event) {
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.kind = kind;
  f.layer = lt_finding_kind_layer(kind);
  f.severity = sev;
  f.event = event;
  f.object = LT_OBJ_ALLOCATION;
  f.handle = 0x100;
  f.pid = 7;
  f.created_at = 1;
  f.n_destroyed = 1;
  f.destroyed_at[0] = 2;
  snprintf(f.ddi, sizeof f.ddi, "DxgkDdiDestroyAllocation");
  snprintf(f.message, sizeof f.message, "allocation 0x100 of " EVIL " \"quoted\" & more");
  lt_finding_sign(&f);
  return f;
}

/* A hand-made case, as lt__check_run leaves it, for the writers. */
static void make_case(lt_check_case *k, const char *group, const char *name, int jsonl) {
  char uri[128];
  memset(k, 0, sizeof *k);
  k->group = lt_strdup(group);
  k->name = lt_strdup(name);
  snprintf(uri, sizeof uri, "corpus/regressions/%s/%s%s", group, name,
           jsonl ? ".jsonl" : ".ltrace");
  k->uri = lt_strdup(uri);
  k->path = lt_strdup(uri);
  k->jsonl = jsonl;
  lt_findings_init(&k->got, 0);
  k->procs = lt_calloc(1, sizeof *k->procs);
  k->procs[0].pid = 7;
  k->procs[0].name = lt_strdup(EVIL "\x01\x7f]]>");
  k->n_procs = 1;
}

static void add_expect(lt_check_case *k, int kind, uint64_t event, int sev) {
  k->expected = lt_realloc(k->expected, (k->n_expected + 1) * sizeof *k->expected);
  k->expected[k->n_expected++] = (lt_expect){kind, event, sev};
}

static void add_got(lt_check_case *k, int kind, uint64_t event, int sev) {
  lt_finding f = finding(kind, sev, event);
  assert_int_equal(lt_findings_add(&k->got, &f), 0);
}

/* Two groups: one passing trace, one failing (a missing and an unexpected
 * finding), one imported binary trace with an origin line, one unreadable. */
static void make_check(lt_check *c) {
  memset(c, 0, sizeof *c);
  c->n = 4;
  c->cases = lt_calloc(c->n, sizeof *c->cases);
  c->repo = lt_strdup("/work/my repo");
  c->root = lt_strdup("corpus/regressions");
  make_case(&c->cases[0], "g1", "pass", 1);
  add_expect(&c->cases[0], LT_F_DOUBLE_DESTROY, 3, LT_SEV_ERROR);
  add_got(&c->cases[0], LT_F_DOUBLE_DESTROY, 3, LT_SEV_ERROR);
  make_case(&c->cases[1], "g1", "fail " EVIL, 1);
  add_expect(&c->cases[1], LT_F_LEAK, 9, LT_SEV_WARNING);
  add_got(&c->cases[1], LT_F_USE_AFTER_DESTROY, 4, LT_SEV_ERROR);
  make_case(&c->cases[2], "g2", "imported", 0);
  add_got(&c->cases[2], LT_F_GPU_USE_AFTER_FREE, 6, LT_SEV_ERROR);
  c->cases[2].got.items[0].has_origin = 1;
  c->cases[2].got.items[0].origin_record = 41;
  c->cases[2].got.items[0].origin_line = 1234;
  add_expect(&c->cases[2], LT_F_GPU_USE_AFTER_FREE, 6, LT_SEV_ERROR);
  make_case(&c->cases[3], "g2", "broken", 1);
  c->cases[3].outcome = LT_CHECK_ERROR;
  snprintf(c->cases[3].diag, sizeof c->cases[3].diag, "broken.jsonl: line 3: record 1: bad " EVIL);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(lt__check_compare(&c->cases[i]), 0);
  c->passed = 2;
  c->failed = 1;
  c->errors = 1;
}

/* The gate compares multisets exactly: a duplicate expected finding that
 * happens once is missing; a wrong severity is both missing and unexpected. */
static void test_compare_is_exact_multiset(void **state) {
  lt_check_case k;
  make_case(&k, "g", "t", 1);
  add_expect(&k, LT_F_DOUBLE_DESTROY, 5, LT_SEV_ERROR);
  add_expect(&k, LT_F_DOUBLE_DESTROY, 5, LT_SEV_ERROR);
  add_expect(&k, LT_F_LEAK, 9, LT_SEV_WARNING);
  add_got(&k, LT_F_LEAK, 9, LT_SEV_ERROR);
  add_got(&k, LT_F_DOUBLE_DESTROY, 5, LT_SEV_ERROR);
  add_got(&k, LT_F_USE_AFTER_DESTROY, 7, LT_SEV_ERROR);
  assert_int_equal(lt__check_compare(&k), 0);
  assert_int_equal(k.outcome, LT_CHECK_FAIL);
  assert_int_equal(k.n_missing, 2);
  assert_int_equal(k.missing[0].kind, LT_F_DOUBLE_DESTROY);
  assert_int_equal(k.missing[1].kind, LT_F_LEAK);
  assert_int_equal(k.missing[1].severity, LT_SEV_WARNING);
  assert_int_equal(k.n_unexpected, 2);
  lt_free(k.missing);
  lt_free(k.unexpected);
  k.missing = NULL;
  k.unexpected = NULL;
  k.n_missing = k.n_unexpected = 0;

  /* same findings in another order: pass */
  lt_findings_reset(&k.got);
  lt_findings_init(&k.got, 0);
  add_got(&k, LT_F_LEAK, 9, LT_SEV_WARNING);
  add_got(&k, LT_F_DOUBLE_DESTROY, 5, LT_SEV_ERROR);
  add_got(&k, LT_F_DOUBLE_DESTROY, 5, LT_SEV_ERROR);
  assert_int_equal(lt__check_compare(&k), 0);
  assert_int_equal(k.outcome, LT_CHECK_PASS);
  /* the case owns everything: free it through a one-case check */
  lt_check one = {0};
  one.cases = lt_calloc(1, sizeof *one.cases);
  one.cases[0] = k;
  one.n = 1;
  lt__check_reset(&one);
}

/* A clean expected trace that now produces a finding fails. */
static void test_clean_trace_no_longer_clean(void **state) {
  lt_check one = {0};
  one.cases = lt_calloc(1, sizeof *one.cases);
  one.n = 1;
  make_case(&one.cases[0], "g", "clean", 1);
  one.cases[0].expected = lt_calloc(1, sizeof(lt_expect));
  add_got(&one.cases[0], LT_F_LEAK, 2, LT_SEV_WARNING);
  assert_int_equal(lt__check_compare(&one.cases[0]), 0);
  assert_int_equal(one.cases[0].outcome, LT_CHECK_FAIL);
  assert_int_equal(one.cases[0].n_unexpected, 1);
  lt__check_reset(&one);
}

/* Expected files: typos are reported with the file and the reason. */
static void test_parse_expected(void **state) {
  char path[512], msg[512];
  lt_check_case k;
  path_in(path, sizeof path, "t.expected.json");
  write_file(path, "{\"policy\": \"kernel\", \"bugs\": \"p13\", \"findings\": [{\"kind\": "
                   "\"double-destroy\", \"event\": 5, \"severity\": \"error\"}, {\"kind\": "
                   "\"leak\", \"event\": 9, \"severity\": \"warning\"}]}");
  memset(&k, 0, sizeof k);
  assert_int_equal(lt__check_parse_expected(&k, path, msg, sizeof msg), 0);
  assert_int_equal(k.policy, LT_POLICY_KERNEL);
  assert_string_equal(k.bugs, "p13");
  assert_int_equal(k.n_expected, 2);
  assert_int_equal(k.expected[1].kind, LT_F_LEAK);
  assert_int_equal(k.expected[1].severity, LT_SEV_WARNING);
  lt_free(k.bugs);
  lt_free(k.expected);

  static const char *const bad[][2] = {
      {"{\"findings\": [{\"kind\": \"double-free\", \"event\": 5}]}", "unknown kind"},
      {"{\"findings\": [{\"kind\": \"leak\", \"event\": 5, \"severity\": \"fatal\"}]}", "severity"},
      {"{\"findings\": [{\"kind\": \"leak\"}]}", "event"},
      {"{\"policy\": \"strict\", \"findings\": []}", "policy"},
      {"{\"policy\": 3, \"findings\": []}", "policy"},
      {"{\"findings\": {}}", "findings"},
      {"{\"findings\": [", "t.expected.json:1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(path, bad[i][0]);
    memset(&k, 0, sizeof k);
    assert_int_equal(lt__check_parse_expected(&k, path, msg, sizeof msg), LT_EFORMAT);
    assert_non_null(strstr(msg, bad[i][1]));
    assert_non_null(strstr(msg, "t.expected.json"));
    lt_free(k.bugs);
    lt_free(k.expected);
  }
}

static const char *python(void) {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* SARIF: valid against the official schema; one result per finding; rule =
 * kind; partialFingerprints = signature; location = repo-relative path and
 * JSONL line (event + 2) or the imported event's origin line. */
static void test_sarif_valid_and_located(void **state) {
  const char *src = getenv("LT_SOURCE_DIR");
  char out[512], schema[1024], cmd[4096], sig[17];
  lt_check c;
  make_check(&c);
  path_in(out, sizeof out, "check.sarif");
  FILE *f = fopen(out, "w");
  assert_int_equal(lt__sarif_write(f, &c, "lifetrace/check"), 0);
  fclose(f);

  json_error_t jerr;
  json_t *log = json_load_file(out, 0, &jerr);
  assert_non_null(log);
  json_t *run = json_array_get(json_object_get(log, "runs"), 0);
  json_t *results = json_object_get(run, "results");
  assert_int_equal(json_array_size(results), 3); /* one per finding */
  json_t *r1 = json_array_get(results, 1);
  assert_string_equal(json_string_value(json_object_get(r1, "ruleId")), "use-after-destroy");
  lt_signature_hex(c.cases[1].got.items[0].signature, sig);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r1, "partialFingerprints"),
                                                        "lifetraceSignature/v2")), sig);
  json_t *phys = json_object_get(json_array_get(json_object_get(r1, "locations"), 0),
                                 "physicalLocation");
  assert_string_equal(json_string_value(json_object_get(json_object_get(phys, "artifactLocation"),
                                                        "uri")),
                      "corpus/regressions/g1/fail%20%3Cscript%3Ealert%281%29%3C/script%3E.jsonl");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(phys, "region"),
                                                      "startLine")), 4 + 2);
  json_t *r2 = json_array_get(results, 2);
  phys = json_object_get(json_array_get(json_object_get(r2, "locations"), 0), "physicalLocation");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(phys, "region"),
                                                      "startLine")), 1234);
  json_t *rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
  assert_int_equal(json_array_size(rules), LT_F__COUNT);
  json_decref(log);
  lt__check_reset(&c);

  if (src == NULL)
    skip();
  snprintf(schema, sizeof schema, "%s/../shared/schemas/sarif-schema-2.1.0.json", src);
  if (access(schema, R_OK) != 0) {
    print_message("no %s: schema validation skipped\n", schema);
    skip();
  }
  snprintf(cmd, sizeof cmd, "%s %s/scripts/validate_sarif.py '%s' '%s'", python(), src, schema,
           out);
  int rc = system(cmd);
  if (WEXITSTATUS(rc) == 77)
    skip();
  assert_int_equal(WEXITSTATUS(rc), 0);
}

/* JUnit: well-formed for xmllint even with control characters and "]]>" in
 * names; one testcase per trace with classname = group; failures and
 * errors counted per suite; the difference is in the failure body. */
static void test_junit_well_formed(void **state) {
  char out[512], cmd[4096];
  lt_check c;
  make_check(&c);
  path_in(out, sizeof out, "junit.xml");
  FILE *f = fopen(out, "w");
  assert_int_equal(lt__junit_write(f, &c), 0);
  fclose(f);
  lt__check_reset(&c);
  char *x = read_file(out);
  assert_null(strstr(x, "<script>"));
  assert_non_null(strstr(x, "classname=\"g1\" name=\"fail &lt;script&gt;"));
  assert_non_null(strstr(x, "<failure type=\"verdict-mismatch\" message=\"1 missing, 1 unexpected"));
  assert_non_null(strstr(x, "missing (expected, not produced):\n  warning leak at event 9"));
  assert_non_null(strstr(x, "<error type=\"unreadable\""));
  assert_non_null(strstr(x, "<testsuite name=\"g2\" tests=\"2\" failures=\"0\" errors=\"1\""));
  free(x);
  if (system("command -v xmllint >/dev/null 2>&1") != 0)
    skip();
  snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", out);
  assert_int_equal(system(cmd), 0);
  snprintf(cmd, sizeof cmd,
           "test \"$(xmllint --xpath 'count(//testcase)' '%s')\" = 4 && "
           "test \"$(xmllint --xpath 'count(//testcase[@classname=\"g2\"])' '%s')\" = 2 && "
           "test \"$(xmllint --xpath 'string(/testsuites/@failures)' '%s')\" = 1", out, out, out);
  assert_int_equal(system(cmd), 0);
}

static void fill_store(lt_store *s, const char *trace) {
  lt_findings fs;
  lt_finding a = finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 3);
  lt_finding b = finding(LT_F_LEAK, LT_SEV_WARNING, 5);
  int64_t run;
  Lifetrace__Process p = LIFETRACE__PROCESS__INIT, *pp = &p;
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  p.pid = 7;
  p.name = EVIL;
  h.n_processes = 1;
  h.processes = &pp;
  lt_findings_init(&fs, 0);
  assert_int_equal(lt_findings_add(&fs, &a), 0);
  assert_int_equal(lt_findings_add(&fs, &b), 0);
  for (int i = 0; i < 3; i++) {
    lt_store_run_info ri = {.kind = i == 2 ? LT_RUN_FUZZ : LT_RUN_REPLAY,
                            .command = "lifetrace replay '" EVIL "'",
                            .started_at = 1700000000000 + i * 3600000};
    assert_int_equal(lt_store_run_begin(s, &ri, &run), 0);
    lt_store_trace t = {.path = trace, .n_events = 6, .verdict = LT_VERDICT_ERRORS, .header = &h,
                        .seen_at = ri.started_at + 1000};
    assert_int_equal(lt_store_add_trace_ex(s, run, &t, &fs, NULL), 0);
    for (int k = 0; i == 2 && k < 5; k++) {
      lt_store_stats st = {.t = ri.started_at + k * 60000, .execs = 1000u * k,
                           .exec_per_sec = 800 + 10 * k, .coverage = 100u + 7u * k,
                           .corpus_size = 10u + k};
      assert_int_equal(lt_store_add_stats(s, run, &st), 0);
    }
    assert_int_equal(lt_store_run_end_at(s, run, 1, ri.started_at + 5000), 0);
  }
  lt_findings_reset(&fs);
}

/* The HTML report and summary.md show a trace's process name
 * "<script>alert(1)</script>" as text: no markup from the trace survives. */
static void test_report_escapes_trace_strings(void **state) {
  char db[512], dir[512], trace[512], msg[512], path[600];
  lt_store *s;
  path_in(db, sizeof db, "r.db");
  path_in(dir, sizeof dir, "report");
  path_in(trace, sizeof trace, "evil.jsonl");
  write_file(trace, "{}\n");
  assert_int_equal(lt_store_open(&s, db, msg, sizeof msg), 0);
  fill_store(s, trace);
  lt_report_opts o = {.title = "nightly " EVIL};
  assert_int_equal(lt__report_write(s, dir, &o, msg, sizeof msg), 0);
  lt_store_close(s);

  snprintf(path, sizeof path, "%s/index.html", dir);
  char *html = read_file(path);
  /* the one script element is the table's own, last in the page */
  const char *script = strstr(html, "<script");
  assert_non_null(script);
  assert_null(strstr(script + 1, "<script"));
  assert_memory_equal(script, "<script>(function(){var t=document.getElementById('findings')", 61);
  assert_non_null(strstr(html, "script-src 'sha256-"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert_non_null(strstr(html, "<table id=\"findings\""));
  assert_non_null(strstr(html, "id=\"chart-findings\""));
  assert_non_null(strstr(html, "id=\"chart-execs\""));
  assert_non_null(strstr(html, "<polyline")); /* exec/s has data */
  assert_null(strstr(html, "src=\"http")); /* self-contained: nothing fetched */
  assert_null(strstr(html, "href=\"http"));
  free(html);

  lt_finding a = finding(LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, 3);
  char sig[17];
  lt_signature_hex(a.signature, sig);
  snprintf(path, sizeof path, "%s/findings/%s.html", dir, sig);
  html = read_file(path);
  assert_null(strstr(html, "<script"));
  assert_non_null(strstr(html, "<pre id=\"repro\">"));
  assert_non_null(strstr(html, "3 in 3 run(s)"));
  assert_non_null(strstr(html, "id=\"chart-finding\""));
  { /* one bar per run since it was first seen */
    size_t bars = 0;
    for (const char *p = html; (p = strstr(p, "<rect class=\"bar\"")) != NULL; p++)
      bars++;
    assert_int_equal(bars, 3);
  }
  free(html);

  snprintf(path, sizeof path, "%s/summary.md", dir);
  char *md = read_file(path);
  assert_null(strstr(md, "<script"));
  assert_non_null(strstr(md, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert_non_null(strstr(md, "2 open finding(s), 1 of them errors."));
  free(md);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_compare_is_exact_multiset, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clean_trace_no_longer_clean, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parse_expected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sarif_valid_and_located, setup, teardown),
      cmocka_unit_test_setup_teardown(test_junit_well_formed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_report_escapes_trace_strings, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
