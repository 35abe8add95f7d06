/* JSONL codec: what a user writing or reading a trace by hand would notice —
 * canonical output, every number syntax, handles above 2^53, flag and segment
 * lists, and error messages that name the key and what was wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifetrace/trace.h"

static long live_at_start;

static int setup(void **state) {
  (void)state;
  live_at_start = lt_alloc_live();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  lt_alloc_fail_nth(0);
  assert_int_equal(lt_alloc_live(), live_at_start);
  return 0;
}

static lt_event *parse_ok(const char *line, int strict) {
  char err[512];
  lt_event *ev = NULL;
  int rc = lt_jsonl_parse_event(line, strlen(line), strict, &ev, err, sizeof err);

  if (rc)
    fail_msg("parse of %s failed: %s", line, err);
  return ev;
}

/* Parses a line that must fail; returns the code and the message in err. */
static int parse_err(const char *line, int strict, char *err, size_t len) {
  lt_event *ev = NULL;
  int rc = lt_jsonl_parse_event(line, strlen(line), strict, &ev, err, len);

  assert_null(ev);
  assert_int_not_equal(rc, 0);
  return rc;
}

/* Formats ev and compares with want. */
static void assert_formats(const lt_event *ev, const char *want) {
  char *buf = NULL;
  size_t len = 0;

  assert_int_equal(lt_jsonl_format_event(ev, &buf, &len), 0);
  assert_int_equal(len, strlen(buf));
  assert_string_equal(buf, want);
  lt_free(buf);
}

/* A canonical line parses and formats back to the same bytes. */
static void assert_canonical(const char *line) {
  lt_event *ev = parse_ok(line, 1);
  assert_formats(ev, line);
  lt_event_free(ev);
}

static void test_canonical_lines_round_trip(void **state) {
  (void)state;
  assert_canonical("{\"op\": \"device_create\", \"t\": 100, \"pid\": 1234, \"tid\": 1, \"device\": "
                   "\"0xffffa00000001000\", \"rundown\": true, \"origin\": {\"record\": 0, \"line\": 12}}");
  assert_canonical("{\"op\": \"alloc_create\", \"device\": 1, \"resource\": 2, \"new_resource\": true, "
                   "\"shared\": true, \"allocs\": [{\"alloc\": 3, \"size\": 65536, \"align\": 4096, "
                   "\"segments\": [1, 2, 32], \"preferred\": 1, \"flags\": [\"cpu_visible\", "
                   "\"primary\"]}, {\"alloc\": 4}]}");
  assert_canonical("{\"op\": \"alloc_destroy\", \"resource\": 2, \"allocs\": [3, 4], "
                   "\"destroy_resource\": true, \"assume_not_in_use\": true, \"synchronous\": true}");
  assert_canonical("{\"op\": \"submit\", \"context\": 16, \"fence\": 7, \"refs\": [{\"alloc\": 3, "
                   "\"write\": true}, {\"alloc\": 4}]}");
  assert_canonical("{\"op\": \"inject_fault\", \"site\": \"handle\", \"nth\": 4294967295}");
  assert_canonical("{\"op\": \"scanout\", \"alloc\": 3, \"source\": 1}");
  assert_canonical("{\"op\": \"evict\", \"alloc\": 3, \"segment\": 2}");
  assert_canonical("{\"op\": \"tdr\"}");
}

static void test_defaults_are_omitted_and_order_is_fixed(void **state) {
  lt_event *ev;
  (void)state;
  /* keys in any order, defaults spelled out: the writer drops them */
  ev = parse_ok("{\"fence\": 0, \"shared\": false, \"context\": 9, \"op\": \"fence_done\", "
                "\"t\": 5, \"refs\": [], \"allocs\": []}",
                1);
  assert_formats(ev, "{\"op\": \"fence_done\", \"t\": 5, \"context\": 9}");
  lt_event_free(ev);
}

static void test_number_syntaxes(void **state) {
  static const char *const forms[] = {"255", "\"255\"", "\"0xff\"", "\"0XFF\"", "\"0x00ff\""};
  char line[128];
  (void)state;
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    snprintf(line, sizeof line, "{\"op\": \"fence_done\", \"fence\": %s, \"node\": %s}", forms[i],
             forms[i]);
    lt_event *ev = parse_ok(line, 1);
    assert_int_equal(ev->fence, 255);
    assert_int_equal(ev->node, 255);
    lt_event_free(ev);
  }
}

static void test_handles_above_2_53_survive(void **state) {
  lt_event *ev;
  (void)state;
  ev = parse_ok("{\"op\": \"alloc_destroy\", \"allocs\": [\"0xffffffffffffffff\", 9007199254740992, "
                "\"9007199254740993\", \"0x20000000000001\"], \"resource\": \"18446744073709551614\"}",
                1);
  assert_int_equal(ev->n_handles, 4);
  assert_true(ev->handles[0] == UINT64_MAX);
  assert_true(ev->handles[1] == (UINT64_C(1) << 53));
  assert_true(ev->handles[2] == (UINT64_C(1) << 53) + 1);
  assert_true(ev->handles[3] == (UINT64_C(1) << 53) + 1);
  assert_true(ev->resource == UINT64_MAX - 1);
  /* exact up to 2^53 as integers, hex strings above */
  assert_formats(ev, "{\"op\": \"alloc_destroy\", \"resource\": \"0xfffffffffffffffe\", \"allocs\": "
                     "[\"0xffffffffffffffff\", 9007199254740992, \"0x20000000000001\", "
                     "\"0x20000000000001\"]}");
  lt_event_free(ev);
}

static void test_flags_and_segments(void **state) {
  lt_event *ev;
  (void)state;
  ev = parse_ok("{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"segments\": [3, 1], \"flags\": "
                "[\"cached\", \"primary\", 524288, \"0x100000\"]}, {\"alloc\": 2, \"flags\": \"0x5\"}]}",
                1);
  assert_int_equal(ev->allocs[0]->segments, 0x5);
  assert_int_equal(ev->allocs[0]->flags, 0x80000004u | 0x180000u);
  assert_int_equal(ev->allocs[1]->flags, 0x5);
  assert_formats(ev, "{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"segments\": [1, 3], "
                     "\"flags\": [\"cached\", \"primary\", 1572864]}, {\"alloc\": 2, \"flags\": "
                     "[\"cpu_visible\", \"cached\"]}]}");
  lt_event_free(ev);
  for (unsigned bit = 0; bit < 32; bit++) {
    const char *name = lt_allocflag_name(bit);
    if (name)
      assert_int_equal(lt_allocflag_from_name(name), (int)bit);
  }
  assert_string_equal(lt_allocflag_name(18), "cpu_visible_on_demand");
  assert_null(lt_allocflag_name(19));
  assert_string_equal(lt_allocflag_name(31), "primary");
}

static void test_op_names(void **state) {
  (void)state;
  for (int op = 1; op <= 20; op++)
    assert_int_equal(lt_op_from_name(lt_op_name(op)), op);
  assert_string_equal(lt_op_name(LIFETRACE__OP__DEVICE_CREATE), "device_create");
  assert_string_equal(lt_op_name(LIFETRACE__OP__INJECT_FAULT), "inject_fault");
  assert_null(lt_op_name(0));
  assert_null(lt_op_name(21));
  assert_int_equal(lt_op_from_name("frob"), -1);
}

/* Fields an op does not use still survive (under their proto names). */
static void test_odd_fields_survive(void **state) {
  (void)state;
  assert_canonical("{\"op\": \"alloc_destroy\", \"alloc_info\": [{\"alloc\": 5, \"size\": 6}]}");
  assert_canonical("{\"op\": \"alloc_create\", \"device\": 2, \"allocs\": [{\"alloc\": 7}], "
                   "\"handles\": [8]}");
  assert_canonical("{\"op\": \"submit\", \"context\": 1, \"handles\": [1, 2], \"fence\": 2}");
}

static void test_index_key_is_ignored(void **state) {
  lt_event *ev;
  (void)state;
  ev = parse_ok("{\"i\": 41, \"op\": \"tdr\"}", 1);
  assert_formats(ev, "{\"op\": \"tdr\"}");
  lt_event_free(ev);
}

static void test_strings_are_escaped(void **state) {
  Lifetrace__Process proc, *procs[1] = {&proc};
  lt_header h;
  char *buf = NULL, err[256];
  size_t len;
  lt_header *back = NULL;
  (void)state;

  lifetrace__trace_header__init(&h);
  lifetrace__process__init(&proc);
  h.lifetrace = 1;
  h.source = "tab\there \"q\" \\ \x1b[31m caf\xc3\xa9 bad\xff\xfe end";
  proc.pid = 4;
  proc.name = "x.exe";
  h.n_processes = 1;
  h.processes = procs;
  assert_int_equal(lt_jsonl_format_header(&h, &buf, &len), 0);
  assert_string_equal(buf, "{\"lifetrace\": 1, \"source\": \"tab\\u0009here \\\"q\\\" \\\\ \\u001b[31m "
                           "caf\xc3\xa9 bad\\ufffd\\ufffd end\", \"ends\": \"teardown\", "
                           "\"segments\": [], \"processes\": [{\"pid\": 4, \"name\": \"x.exe\"}]}");
  assert_int_equal(lt_jsonl_parse_header(buf, len, 1, &back, err, sizeof err), 0);
  assert_string_equal(back->source, "tab\there \"q\" \\ \x1b[31m caf\xc3\xa9 bad\xef\xbf\xbd\xef\xbf\xbd end");
  assert_string_equal(back->processes[0]->name, "x.exe");
  lt_header_free(back);
  lt_free(buf);
}

static void test_header(void **state) {
  const char *line = "{\"lifetrace\": 1, \"source\": \"s\", \"ends\": \"window\", \"segments\": [{\"id\": 1, "
                     "\"kind\": \"local\", \"size\": 268435456}, {\"id\": 2, \"kind\": \"aperture\", "
                     "\"size\": \"0xffffffffffffffff\"}, {\"id\": 3, \"kind\": \"system\", \"size\": 1}], "
                     "\"processes\": [{\"pid\": 1234, \"name\": \"game.exe\"}]}";
  char err[256], *buf = NULL;
  size_t len;
  lt_header *h = NULL;
  (void)state;

  assert_int_equal(lt_jsonl_parse_header(line, strlen(line), 1, &h, err, sizeof err), 0);
  assert_int_equal(h->ends, LIFETRACE__ENDS__ENDS_WINDOW);
  assert_int_equal(h->n_segments, 3);
  assert_int_equal(h->segments[1]->kind, LIFETRACE__SEGMENT_KIND__SEGMENT_APERTURE);
  assert_true(h->segments[1]->size == UINT64_MAX);
  assert_int_equal(lt_jsonl_format_header(h, &buf, &len), 0);
  assert_string_equal(buf, line);
  lt_free(buf);
  lt_header_free(h);
}

static void test_header_errors(void **state) {
  char err[256];
  lt_header *h = NULL;
  (void)state;

  assert_int_equal(lt_jsonl_parse_header("{\"lifetrace\": 2}", 16, 0, &h, err, sizeof err), LT_EFORMAT);
  assert_non_null(strstr(err, "version 2"));
  assert_int_equal(lt_jsonl_parse_header("{\"source\": \"x\"}", 15, 0, &h, err, sizeof err), LT_ECORRUPT);
  assert_non_null(strstr(err, "missing key \"lifetrace\""));
  assert_int_equal(lt_jsonl_parse_header("{\"lifetrace\": 1, \"ends\": \"later\"}", 33, 0, &h, err,
                                         sizeof err),
                   LT_ECORRUPT);
  assert_non_null(strstr(err, "key \"ends\": unknown end \"later\""));
  assert_int_equal(lt_jsonl_parse_header("{\"lifetrace\": 1, \"segments\": [{\"kind\": \"vram\"}]}", 48, 0,
                                         &h, err, sizeof err),
                   LT_ECORRUPT);
  assert_non_null(strstr(err, "key \"segments[0].kind\""));
  assert_int_equal(lt_jsonl_parse_header("{\"lifetrace\": 1, \"x\": 1}", 24, 1, &h, err, sizeof err),
                   LT_ECORRUPT);
  assert_non_null(strstr(err, "unknown key \"x\""));
  assert_int_equal(lt_jsonl_parse_header("{\"lifetrace\": 1, \"x\": 1}", 24, 0, &h, err, sizeof err), 0);
  lt_header_free(h);
}

struct bad {
  const char *line;
  int strict;
  const char *msg;
};

static void test_errors_name_the_key(void **state) {
  static const struct bad bad[] = {
      {"not json", 0, "not valid JSON"},
      {"[1, 2]", 0, "expected a JSON object"},
      {"{\"op\": \"tdr\"} trailing", 0, "not valid JSON"},
      {"{\"t\": 1}", 0, "missing key \"op\""},
      {"{\"op\": 5}", 0, "key \"op\": expected an op name"},
      {"{\"op\": \"frobnicate\"}", 0, "key \"op\": unknown op \"frobnicate\""},
      {"{\"op\": \"submit\", \"fence\": true}", 0, "key \"fence\": expected an integer or \"0x…\" string"},
      {"{\"op\": \"submit\", \"fence\": 1.5}", 0, "key \"fence\": expected an integer"},
      {"{\"op\": \"submit\", \"fence\": -1}", 0, "key \"fence\": must not be negative"},
      {"{\"op\": \"submit\", \"fence\": \"-1\"}", 0, "key \"fence\": must not be negative"},
      {"{\"op\": \"submit\", \"fence\": \"0x1ffffffffffffffff\"}", 0, "key \"fence\": out of range"},
      {"{\"op\": \"submit\", \"fence\": \"18446744073709551616\"}", 0, "key \"fence\": out of range"},
      {"{\"op\": \"submit\", \"fence\": \"0x\"}", 0, "key \"fence\": expected an integer"},
      {"{\"op\": \"submit\", \"fence\": \"12ab\"}", 0, "key \"fence\": expected an integer"},
      {"{\"op\": \"submit\", \"fence\": 18446744073709551615}", 0, "0x…"},
      {"{\"op\": \"submit\", \"node\": 4294967296}", 0, "key \"node\": out of range (largest allowed is 4294967295)"},
      {"{\"op\": \"submit\", \"shared\": 1}", 0, "key \"shared\": expected true or false"},
      {"{\"op\": \"submit\", \"refs\": {}}", 0, "key \"refs\": expected a list"},
      {"{\"op\": \"submit\", \"refs\": [{\"alloc\": 1, \"write\": \"yes\"}]}", 0, "key \"refs[0].write\""},
      {"{\"op\": \"submit\", \"refs\": [{\"alloc\": 1, \"bogus\": 1}]}", 1, "unknown key \"bogus\" in \"refs[0]\""},
      {"{\"op\": \"tdr\", \"bogus\": 1}", 1, "unknown key \"bogus\""},
      {"{\"op\": \"alloc_create\", \"allocs\": [1]}", 0, "key \"allocs[0]\": expected an allocation object"},
      {"{\"op\": \"alloc_destroy\", \"allocs\": [{\"alloc\": 1}]}", 0, "key \"allocs[0]\": expected an integer"},
      {"{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"flags\": [\"shiny\"]}]}", 0,
       "key \"allocs[0].flags[0]\": unknown flag \"shiny\""},
      {"{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"segments\": [33]}]}", 0,
       "key \"allocs[0].segments[0]\": out of range"},
      {"{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"segments\": [0]}]}", 0,
       "segment ids start at 1"},
      {"{\"op\": \"alloc_create\", \"allocs\": [{\"alloc\": 1, \"bogus\": 0}]}", 1, "unknown key \"bogus\""},
      {"{\"op\": \"inject_fault\", \"site\": \"disk\"}", 0, "key \"site\": unknown fault site \"disk\""},
      {"{\"op\": \"tdr\", \"origin\": {\"record\": \"x\"}}", 0, "key \"origin.record\""},
      {"{\"op\": \"tdr\", \"origin\": {\"file\": 1}}", 1, "unknown key \"file\" in \"origin\""},
      {"{\"op\": \"tdr\", \"op\": \"tdr\"}", 0, "not valid JSON"},
      {"{\"op\": \"alloc_destroy\", \"allocs\": [1], \"handles\": [2]}", 0, "given twice"},
  };
  char err[512];
  (void)state;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = parse_err(bad[i].line, bad[i].strict, err, sizeof err);
    if (rc != LT_ECORRUPT || strstr(err, bad[i].msg) == NULL)
      fail_msg("%s: got %d \"%s\", want \"%s\"", bad[i].line, rc, err, bad[i].msg);
  }
}

static void test_unknown_keys_ignored_unless_strict(void **state) {
  lt_event *ev;
  (void)state;
  ev = parse_ok("{\"op\": \"lock\", \"alloc\": 3, \"comment\": \"from the bug report\", \"refs\": "
                "[{\"alloc\": 1, \"note\": 2}]}",
                0);
  assert_formats(ev, "{\"op\": \"lock\", \"refs\": [{\"alloc\": 1}], \"alloc\": 3}");
  lt_event_free(ev);
}

/* Every allocation failure is reported as such and leaks nothing. */
static void test_out_of_memory(void **state) {
  const char *line = "{\"op\": \"alloc_create\", \"device\": 1, \"allocs\": [{\"alloc\": 3, \"flags\": "
                     "[\"cached\"]}, {\"alloc\": 4}], \"refs\": [{\"alloc\": 1}], \"origin\": "
                     "{\"record\": 1}, \"handles\": [5]}";
  char err[256], *buf;
  size_t len;
  lt_event *ev = NULL;
  int rc = LT_ENOMEM;
  (void)state;

  for (long n = 1; rc == LT_ENOMEM; n++) {
    lt_alloc_fail_nth(n);
    rc = lt_jsonl_parse_event(line, strlen(line), 1, &ev, err, sizeof err);
    lt_alloc_fail_nth(0);
    assert_true(rc == 0 || rc == LT_ENOMEM);
    if (rc)
      assert_int_equal(lt_alloc_live(), live_at_start);
  }
  lt_alloc_fail_nth(1);
  assert_int_equal(lt_jsonl_format_event(ev, &buf, &len), LT_ENOMEM);
  lt_alloc_fail_nth(0);
  lt_event_free(ev);
}

/* ---- the line limit: 16 MiB, without the line end (docs/trace-format.md) ---- */

#define LIMIT (16u * 1024u * 1024u)
#define HEADER "{\"lifetrace\": 1, \"source\": \"limit\", \"ends\": \"window\", \"segments\": []}\n"

static char tmpdir[64];

/* A path in this test's directory; valid for the next three calls. */
static const char *tmp_path(const char *name) {
  static char bufs[4][128];
  static unsigned next;
  char *buf = bufs[next++ % 4];
  if (!tmpdir[0]) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lt-test-jsonl-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
  }
  snprintf(buf, sizeof bufs[0], "%s/%s", tmpdir, name);
  return buf;
}

/* Writes HEADER and one event line of exactly len bytes, then eol. */
static const char *write_padded(size_t len, const char *eol) {
  const char *file = tmp_path("limit.jsonl");
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  fputs(HEADER, f);
  fputs("{\"op\": \"tdr\"", f);
  for (size_t i = strlen("{\"op\": \"tdr\"") + 1; i < len; i++)
    fputc(' ', f);
  fputs("}", f);
  fputs(eol, f);
  assert_int_equal(fclose(f), 0);
  return file;
}

/* Reads file to the end: 0 when every line was read, else the error. */
static int read_file(const char *file, uint64_t *events, lt_diag *d) {
  lt_reader *r = NULL;
  const lt_event *ev;
  int rc = lt_reader_open(&r, file, 1, d);

  *events = 0;
  while (rc == 0 && (rc = lt_reader_next(r, &ev, d)) == 0)
    ++*events;
  lt_reader_free(r);
  return rc == LT_EEOF ? 0 : rc;
}

/* A line of exactly the limit is read, with "\n", "\r\n" or none; one byte
 * more is refused, naming the line. */
static void test_line_limit_read(void **state) {
  static const char *const eols[] = {"\n", "\r\n", ""};
  uint64_t n;
  lt_diag d;
  (void)state;

  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(read_file(write_padded(LIMIT, eols[i]), &n, &d), 0);
    assert_int_equal(n, 1);
    assert_int_equal(read_file(write_padded(LIMIT + 1, eols[i]), &n, &d), LT_ECORRUPT);
    assert_int_equal(d.line, 2);
    assert_non_null(strstr(d.msg, "line longer than 16777216 bytes"));
  }
  unlink(tmp_path("limit.jsonl"));
}

/* An alloc_destroy whose JSONL line is exactly len bytes (handles 10..1000:
 * one byte each in binary for most, so the binary form stays far smaller). */
static void sized_event(lt_event *ev, size_t len) {
  char *buf = NULL;
  size_t got = 0, n = len / 5 - 20; /* "100, " each, and room for the keys */

  lifetrace__event__init(ev);
  ev->op = LIFETRACE__OP__ALLOC_DESTROY;
  ev->n_handles = n;
  ev->handles = lt_calloc(n, sizeof *ev->handles);
  assert_non_null(ev->handles);
  for (size_t i = 0; i < n; i++)
    ev->handles[i] = 100;
  assert_int_equal(lt_jsonl_format_event(ev, &buf, &got), 0);
  lt_free(buf);
  for (size_t i = 0; got < len && i < n; i++, got++)
    ev->handles[i] = 1000;
  for (size_t i = 0; got > len && i < n; i++, got--)
    ev->handles[i] = 10;
}

/* Runs LT_TOOL with args; returns its exit code. */
static int tool(const char *args) {
  char cmd[1024];
  const char *t = getenv("LT_TOOL");
  if (!t)
    skip();
  snprintf(cmd, sizeof cmd, "%s %s", t, args);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The writers refuse a line the readers would refuse: the JSONL formatter
 * and writer, and `lifetrace dump` of a binary trace (which holds such an
 * event without trouble) exits 3 naming the record. At the limit, binary ->
 * JSONL -> reader works. */
static void test_line_limit_write(void **state) {
  char *buf = NULL, args[512];
  size_t len = 0;
  lt_writer *w = NULL;
  lt_header h;
  lt_event at, over;
  uint64_t n;
  lt_diag d;
  (void)state;

  lifetrace__trace_header__init(&h);
  sized_event(&at, LIMIT);
  sized_event(&over, LIMIT + 1);
  assert_int_equal(lt_jsonl_format_event(&at, &buf, &len), 0);
  assert_int_equal(len, LIMIT);
  lt_free(buf);
  assert_int_equal(lt_jsonl_format_event(&over, &buf, &len), LT_ETOOBIG);
  assert_int_equal(lt_writer_open(&w, tmp_path("w.jsonl"), LT_FORMAT_JSONL, &h), 0);
  assert_int_equal(lt_writer_put(w, &over), LT_ETOOBIG);
  assert_int_equal(lt_writer_close(w), LT_ETOOBIG);
  for (int k = 0; k < 2; k++) {
    const char *bin = tmp_path(k ? "over.ltrace" : "at.ltrace");
    assert_int_equal(lt_writer_open(&w, bin, LT_FORMAT_BINARY, &h), 0);
    assert_int_equal(lt_writer_put(w, &at), 0);
    if (k)
      assert_int_equal(lt_writer_put(w, &over), 0);
    assert_int_equal(lt_writer_close(w), 0);
    snprintf(args, sizeof args, "dump %s -o %s 2>%s", bin, tmp_path("out.jsonl"),
             tmp_path("err.txt"));
    assert_int_equal(tool(args), k ? 3 : 0);
    unlink(bin);
    if (!k) { /* what dump wrote at the limit reads back */
      assert_int_equal(read_file(tmp_path("out.jsonl"), &n, &d), 0);
      assert_int_equal(n, 1);
    }
  }
  FILE *f = fopen(tmp_path("err.txt"), "r");
  char msg[512] = "";
  assert_non_null(f);
  assert_non_null(fgets(msg, sizeof msg, f));
  fclose(f);
  assert_non_null(strstr(msg, "record 1: cannot write it as JSONL: line over the 16 MiB limit"));
  lt_free(at.handles);
  lt_free(over.handles);
  unlink(tmp_path("w.jsonl"));
  unlink(tmp_path("err.txt"));
  unlink(tmp_path("out.jsonl"));
  rmdir(tmpdir);
}

/* The resource-level private data size of alloc_create (resource_data):
 * parsed, written in its canonical place, omitted when 0 (none), and kept
 * byte for byte through the binary form and back. */
static void test_resource_data_round_trip(void **state) {
  const char *line = "{\"op\": \"alloc_create\", \"device\": 1, \"resource\": 32, "
                     "\"resource_data\": 4097, \"allocs\": [{\"alloc\": 256, \"size\": 4096}]}";
  char path[] = "/tmp/lt-test-resdata-XXXXXX";
  lt_event *ev = parse_ok(line, 1);
  lt_header *h = NULL;
  lt_writer *w = NULL;
  lt_reader *rd = NULL;
  const lt_event *back = NULL;
  lt_diag diag;
  char err[256];
  (void)state;

  assert_int_equal(ev->resource_data, 4097);
  assert_formats(ev, line);
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  const char *hl = "{\"lifetrace\": 1, \"source\": \"t\", \"ends\": \"teardown\", \"segments\": []}";
  assert_int_equal(lt_jsonl_parse_header(hl, strlen(hl), 1, &h, err, sizeof err), 0);
  assert_int_equal(lt_writer_open(&w, path, LT_FORMAT_BINARY, h), 0);
  assert_int_equal(lt_writer_put(w, ev), 0);
  assert_int_equal(lt_writer_close(w), 0);
  assert_int_equal(lt_reader_open(&rd, path, 1, &diag), 0);
  assert_int_equal(lt_reader_format(rd), LT_FORMAT_BINARY);
  assert_int_equal(lt_reader_next(rd, &back, &diag), 0);
  assert_int_equal(back->resource_data, 4097);
  assert_formats(back, line);
  lt_reader_free(rd);
  unlink(path);
  lt_header_free(h);
  ev->resource_data = 0;
  assert_formats(ev, "{\"op\": \"alloc_create\", \"device\": 1, \"resource\": 32, "
                     "\"allocs\": [{\"alloc\": 256, \"size\": 4096}]}");
  lt_event_free(ev);
  (void)parse_err("{\"op\": \"alloc_create\", \"resource_data\": -1}", 1, err, sizeof err);
  assert_non_null(strstr(err, "resource_data"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_canonical_lines_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults_are_omitted_and_order_is_fixed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_number_syntaxes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_handles_above_2_53_survive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flags_and_segments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_op_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_odd_fields_survive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_index_key_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_strings_are_escaped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_header, setup, teardown),
      cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors_name_the_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_keys_ignored_unless_strict, setup, teardown),
      cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_line_limit_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_line_limit_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resource_data_round_trip, setup, teardown),
  };
  return cmocka_run_group_tests_name("jsonl", tests, NULL, NULL);
}
