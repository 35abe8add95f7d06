/* Trace readers and writers: every form round-trips, and every kind of broken
 * file gives an error that names the byte offset (or line) and the record,
 * without a crash, a huge allocation or a leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifetrace/trace.h"
#include "trace_io.h"

/* A hand-written trace in canonical JSONL: every op and every field. */
static const char *const rich[] = {
    "{\"lifetrace\": 1, \"source\": \"hand-written: every op and field, \\\"quoted\\\" \\\\ "
    "tab\\u0009 caf\xc3\xa9\", \"ends\": \"window\", \"segments\": [{\"id\": 1, \"kind\": \"local\", "
    "\"size\": 268435456}, {\"id\": 2, \"kind\": \"aperture\", \"size\": 67108864}, {\"id\": 3, "
    "\"kind\": \"system\", \"size\": \"0xffffffffffffffff\"}], \"processes\": [{\"pid\": 1234, "
    "\"name\": \"game.exe\"}, {\"pid\": 5678, \"name\": \"dwm.exe\"}]}",
    "{\"op\": \"device_create\", \"t\": 100, \"pid\": 1234, \"tid\": 1, \"device\": "
    "\"0xffffa00000001000\", \"rundown\": true, \"origin\": {\"record\": 0, \"line\": 12}}",
    "{\"op\": \"context_create\", \"t\": 200, \"pid\": 1234, \"tid\": 1, \"device\": "
    "\"0xffffa00000001000\", \"context\": 16, \"node\": 2, \"rundown\": true, \"origin\": {\"record\": 1}}",
    "{\"op\": \"alloc_create\", \"t\": 300, \"pid\": 1234, \"tid\": 2, \"device\": \"0xffffa00000001000\", "
    "\"resource\": \"0xffffa00000002000\", \"new_resource\": true, \"shared\": true, \"allocs\": "
    "[{\"alloc\": \"0xffffa00000003000\", \"size\": 65536, \"align\": 4096, \"segments\": [1, 2], "
    "\"preferred\": 1, \"flags\": [\"cpu_visible\", \"cached\", \"primary\"]}, {\"alloc\": "
    "\"0xffffa00000003040\", \"size\": 4096, \"segments\": [32], \"flags\": [\"permanent_sys_mem\", "
    "\"protected\", \"existing_sys_mem\", \"existing_kernel_sys_mem\", \"from_end_of_segment\", "
    "\"swizzled\", \"overlay\", \"capture\", \"use_alternate_va\", \"synchronous_paging\"]}, "
    "{\"alloc\": 9007199254740992, \"size\": \"0xffffffffffffffff\", \"align\": 1, \"preferred\": 3, "
    "\"flags\": [\"link_mirrored\", \"link_instanced\", \"history_buffer\", \"accessed_physically\", "
    "\"explicit_residency_notification\", \"hardware_protected\", \"cpu_visible_on_demand\", "
    "3145728]}]}",
    "{\"op\": \"alloc_create\", \"t\": 310, \"pid\": 1234, \"device\": \"0xffffa00000001000\", "
    "\"resource\": \"0xffffa00000002000\", \"allocs\": [{\"alloc\": \"0x20000000000001\"}]}",
    "{\"op\": \"device_create\", \"t\": 400, \"pid\": 5678, \"tid\": 7, \"device\": 2}",
    "{\"op\": \"alloc_open\", \"t\": 500, \"pid\": 5678, \"device\": 2, \"allocs\": "
    "[\"0xffffa00000003000\"]}",
    "{\"op\": \"submit\", \"t\": 600, \"pid\": 1234, \"context\": 16, \"fence\": 1, \"refs\": "
    "[{\"alloc\": \"0xffffa00000003000\", \"write\": true}, {\"alloc\": \"0xffffa00000003040\"}]}",
    "{\"op\": \"fence_done\", \"t\": 700, \"context\": 16, \"fence\": 1}",
    "{\"op\": \"lock\", \"t\": 800, \"device\": \"0xffffa00000001000\", \"alloc\": \"0xffffa00000003000\"}",
    "{\"op\": \"unlock\", \"t\": 810, \"device\": \"0xffffa00000001000\", \"alloc\": \"0xffffa00000003000\"}",
    "{\"op\": \"evict\", \"t\": 900, \"alloc\": \"0xffffa00000003000\", \"segment\": 1}",
    "{\"op\": \"page_in\", \"t\": 910, \"alloc\": \"0xffffa00000003000\", \"segment\": 2}",
    "{\"op\": \"scanout\", \"t\": 1000, \"alloc\": \"0xffffa00000003000\", \"source\": 1}",
    "{\"op\": \"scanout\", \"t\": 1100, \"source\": 1}",
    "{\"op\": \"offer\", \"t\": 1200, \"alloc\": \"0xffffa00000003040\"}",
    "{\"op\": \"reclaim\", \"t\": 1300, \"alloc\": \"0xffffa00000003040\"}",
    "{\"op\": \"alloc_close\", \"t\": 1400, \"pid\": 5678, \"device\": 2, \"allocs\": "
    "[\"0xffffa00000003000\"]}",
    "{\"op\": \"alloc_destroy\", \"t\": 1500, \"resource\": \"0xffffa00000002000\", \"allocs\": "
    "[\"0xffffa00000003000\", \"0xffffa00000003040\"], \"assume_not_in_use\": true, \"synchronous\": true}",
    "{\"op\": \"alloc_destroy\", \"t\": 1510, \"resource\": \"0xffffa00000002000\", \"allocs\": "
    "[9007199254740992, \"0x20000000000001\"], \"destroy_resource\": true}",
    "{\"op\": \"alloc_destroy\", \"t\": 1520, \"resource\": 77, \"destroy_resource\": true}",
    "{\"op\": \"tdr\", \"t\": 1600}",
    "{\"op\": \"inject_fault\", \"t\": 1700, \"site\": \"pool\", \"nth\": 1}",
    "{\"op\": \"inject_fault\", \"t\": 1710, \"site\": \"vram\", \"nth\": 2}",
    "{\"op\": \"inject_fault\", \"t\": 1720, \"site\": \"handle\", \"nth\": 4294967295}",
    "{\"op\": \"context_destroy\", \"t\": 1800, \"device\": \"0xffffa00000001000\", \"context\": 16}",
    "{\"op\": \"process_exit\", \"t\": 1900, \"pid\": 5678}",
    "{\"op\": \"device_destroy\", \"t\": \"0xffffffffffffffff\", \"pid\": 1234, \"device\": "
    "\"0xffffa00000001000\"}",
    "{\"op\": \"alloc_destroy\", \"alloc_info\": [{\"alloc\": 5, \"size\": 6}]}",
    "{\"op\": \"submit\", \"context\": 16, \"handles\": [1, 2], \"fence\": 2}",
};
#define N_RICH (sizeof rich / sizeof rich[0])

static char dir[64];
static long live_at_start;

static int group_setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/lt_trace_io_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state) {
  char cmd[128];
  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

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

static const char *path(const char *name) {
  static char buf[8][256];
  static int next;
  char *p = buf[next++ % 8];
  snprintf(p, 256, "%s/%s", dir, name);
  return p;
}

static void write_file(const char *file, const void *data, size_t len) {
  FILE *f;

  unlink(file); /* rewriting in place makes ext4 flush on close: slow */
  f = fopen(file, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* Reads a whole file into a malloc'd buffer. */
static uint8_t *read_file(const char *file, size_t *len) {
  FILE *f = fopen(file, "rb");
  uint8_t *data;
  long n;

  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)n + 1);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return data;
}

static void write_rich_jsonl(const char *file) {
  FILE *f = fopen(file, "wb");
  assert_non_null(f);
  for (size_t i = 0; i < N_RICH; i++)
    fprintf(f, "%s\n", rich[i]);
  assert_int_equal(fclose(f), 0);
}

/* Copies a trace from one file (any form) to another in the given form. */
static void convert(const char *from, const char *to, int format) {
  lt_reader *r = NULL;
  lt_writer *w = NULL;
  const lt_event *ev;
  lt_diag d;
  int rc;

  assert_int_equal(lt_reader_open(&r, from, 1, &d), 0);
  assert_int_equal(lt_writer_open(&w, to, format, lt_reader_header(r)), 0);
  while ((rc = lt_reader_next(r, &ev, &d)) == 0)
    assert_int_equal(lt_writer_put(w, ev), 0);
  assert_int_equal(rc, LT_EEOF);
  assert_int_equal(lt_writer_close(w), 0);
  lt_reader_free(r);
}

/* Reads a trace and checks it formats to exactly the rich lines. */
static void assert_rich(const char *file, int format) {
  lt_reader *r = NULL;
  const lt_event *ev;
  char *line = NULL;
  size_t len, n = 1;
  lt_diag d;
  int rc;

  assert_int_equal(lt_reader_open(&r, file, 1, &d), 0);
  assert_int_equal(lt_reader_format(r), format);
  assert_int_equal(lt_jsonl_format_header(lt_reader_header(r), &line, &len), 0);
  assert_string_equal(line, rich[0]);
  lt_free(line);
  while ((rc = lt_reader_next(r, &ev, &d)) == 0) {
    assert_true(n < N_RICH);
    assert_int_equal(lt_reader_index(r), n - 1);
    assert_int_equal(lt_jsonl_format_event(ev, &line, &len), 0);
    assert_string_equal(line, rich[n++]);
    lt_free(line);
  }
  assert_int_equal(rc, LT_EEOF);
  assert_int_equal(n, N_RICH);
  assert_int_equal(lt_reader_next(r, &ev, &d), LT_EEOF); /* stays at the end */
  lt_reader_free(r);
}

static void test_round_trip_every_form(void **state) {
  (void)state;
  write_rich_jsonl(path("rich.jsonl"));
  assert_rich(path("rich.jsonl"), LT_FORMAT_JSONL);
  convert(path("rich.jsonl"), path("rich.ltrace"), LT_FORMAT_AUTO);
  assert_rich(path("rich.ltrace"), LT_FORMAT_BINARY);
  convert(path("rich.ltrace"), path("rich.ltrace.zst"), LT_FORMAT_AUTO);
  assert_rich(path("rich.ltrace.zst"), LT_FORMAT_BINARY_ZSTD);
  convert(path("rich.ltrace.zst"), path("rich.fuzz"), LT_FORMAT_FUZZ);
  assert_rich(path("rich.fuzz"), LT_FORMAT_FUZZ);
  convert(path("rich.fuzz"), path("rich2.jsonl"), LT_FORMAT_AUTO);
  assert_rich(path("rich2.jsonl"), LT_FORMAT_JSONL);
}

/* The binary file is exactly magic, version, then length-delimited messages. */
static void test_binary_layout(void **state) {
  uint8_t *data;
  size_t len;
  (void)state;

  write_rich_jsonl(path("layout.jsonl"));
  convert(path("layout.jsonl"), path("layout.ltrace"), LT_FORMAT_BINARY);
  data = read_file(path("layout.ltrace"), &len);
  assert_memory_equal(data, "LTRC\x01", 5);
  free(data);
  convert(path("layout.jsonl"), path("layout.zst"), LT_FORMAT_AUTO);
  data = read_file(path("layout.zst"), &len);
  assert_memory_equal(data, "\x28\xb5\x2f\xfd", 4);
  free(data);
}

static void test_fuzz_form_unpack(void **state) {
  uint8_t *data;
  size_t len;
  lt_trace *t;
  (void)state;

  write_rich_jsonl(path("f.jsonl"));
  convert(path("f.jsonl"), path("f.fuzz"), LT_FORMAT_FUZZ);
  data = read_file(path("f.fuzz"), &len);
  t = lt_trace_unpack(data, len);
  assert_non_null(t);
  assert_int_equal(t->n_events, N_RICH - 1);
  assert_string_equal(t->header->processes[1]->name, "dwm.exe");
  lt_trace_free(t);
  assert_null(lt_trace_unpack(data, LT_TRACE_MAX_FUZZ_INPUT + 1)); /* refused unread */
  data[0] = 0xff;
  assert_null(lt_trace_unpack(data, len));
  free(data);
  t = lt_trace_unpack(NULL, 0);
  assert_non_null(t);
  assert_int_equal(t->n_events, 0);
  lt_trace_free(t);
  lt_trace_free(NULL);
}

/* Opens and reads a file to its end; returns the first error and its diag. */
static int read_all(const char *file, int strict, lt_diag *d, uint64_t *events) {
  lt_reader *r = NULL;
  const lt_event *ev;
  int rc = lt_reader_open(&r, file, strict, d);

  *events = 0;
  while (rc == 0 && (rc = lt_reader_next(r, &ev, d)) == 0)
    ++*events;
  if (r && rc != LT_EEOF)
    assert_int_equal(lt_reader_next(r, &ev, d), rc); /* errors are sticky */
  lt_reader_free(r);
  return rc;
}

struct bad {
  const char *name;
  const char *bytes;
  size_t len;
  int rc;
  uint64_t offset;
  int64_t record;
  const char *msg;
};

#define B(s) s, sizeof(s) - 1

static void test_corrupt_binary(void **state) {
  static const struct bad bad[] = {
      {"garbage", B("\x47\x62\x3c\x7f\x00\x13"), LT_EFORMAT, 0, -1, "not a lifetrace trace"},
      {"badmagic", B("LTRD\x01\x02\x08\x01"), LT_EFORMAT, 0, -1, "not a lifetrace trace"},
      {"empty", B(""), LT_EFORMAT, 0, -1, "empty input"},
      {"badversion", B("LTRC\x02\x02\x08\x01"), LT_EFORMAT, 4, -1, "unsupported format version 2"},
      {"noversion", B("LTRC"), LT_ECORRUPT, 4, -1, "truncated format version"},
      {"noheader", B("LTRC\x01"), LT_ECORRUPT, 5, -1, "no trace header"},
      {"huge-header", B("LTRC\x01\x80\x80\x80\x80\x80\x80\x80\x80\x10"), LT_ECORRUPT, 5, -1,
       "record length 1152921504606846976 exceeds the limit"},
      {"huge-event", B("LTRC\x01\x02\x08\x01\x80\x80\x80\x80\x80\x80\x80\x80\x10"), LT_ECORRUPT, 8, 0,
       "record length 1152921504606846976 exceeds the limit"},
      {"long-varint", B("LTRC\x01\x02\x08\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
       LT_ECORRUPT, 9, 1, "longer than 10 bytes"},
      {"overflow", B("LTRC\x01\x02\x08\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), LT_ECORRUPT, 8,
       0, "overflows 64 bits"},
      {"past-end", B("LTRC\x01\x02\x08\x01\x05\x08\x01"), LT_ECORRUPT, 8, 0,
       "exceeds the 2 bytes left"},
      {"cut-prefix", B("LTRC\x01\x02\x08\x01\x02\x08\x01\x80"), LT_ECORRUPT, 11, 1,
       "truncated length prefix"},
      {"not-an-event", B("LTRC\x01\x02\x08\x01\x02\x08\x05\x03\xff\xff\xff"), LT_ECORRUPT, 11, 1,
       "not a valid Event message"},
      {"bad-header", B("LTRC\x01\x02\xff\xff"), LT_ECORRUPT, 5, -1, "not a valid TraceHeader message"},
      {"newer-content", B("LTRC\x01\x02\x08\x02"), LT_EFORMAT, 5, -1, "unsupported trace version 2"},
      {"zstd-garbage", B("\x28\xb5\x2f\xfd\xff\xff\xff\xff\xff\xff"), LT_ECORRUPT, 0, -1, "zstd"},
  };
  char file[64], msg[1200];
  uint64_t n;
  lt_diag d;
  (void)state;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc;
    snprintf(file, sizeof file, "%s", path(bad[i].name));
    write_file(file, bad[i].bytes, bad[i].len);
    memset(&d, 0, sizeof d);
    rc = read_all(file, 0, &d, &n);
    lt_diag_format(&d, msg, sizeof msg);
    if (rc != bad[i].rc || d.offset != bad[i].offset || d.record != bad[i].record ||
        strstr(d.msg, bad[i].msg) == NULL || strstr(msg, file) != msg)
      fail_msg("%s: got %s at byte %llu record %lld: \"%s\"", bad[i].name, lt_err_name(rc),
               (unsigned long long)d.offset, (long long)d.record, msg);
  }
}

static void test_diag_format(void **state) {
  lt_diag d = {.offset = 1234, .line = 0, .record = 5};
  char buf[1200];
  (void)state;

  snprintf(d.file, sizeof d.file, "t.ltrace");
  snprintf(d.msg, sizeof d.msg, "truncated");
  lt_diag_format(&d, buf, sizeof buf);
  assert_string_equal(buf, "t.ltrace: byte 1234: record 5: truncated");
  d.line = 7;
  snprintf(d.file, sizeof d.file, "t.jsonl");
  lt_diag_format(&d, buf, sizeof buf);
  assert_string_equal(buf, "t.jsonl: line 7: record 5: truncated");
  d.line = 0;
  d.record = -1;
  lt_diag_format(&d, buf, sizeof buf);
  assert_string_equal(buf, "t.jsonl: byte 1234: record -1: truncated");
}

/* Cut the binary trace at every byte: an error naming a position inside the
 * file, or (cut exactly between records) a clean end with fewer events. */
static void test_truncation_everywhere(void **state) {
  uint8_t *data, *zdata;
  size_t len, zlen;
  uint64_t n;
  lt_diag d;
  (void)state;

  write_rich_jsonl(path("t.jsonl"));
  convert(path("t.jsonl"), path("t.ltrace"), LT_FORMAT_BINARY);
  convert(path("t.jsonl"), path("t.zst"), LT_FORMAT_BINARY_ZSTD);
  data = read_file(path("t.ltrace"), &len);
  for (size_t cut = 0; cut < len; cut++) {
    int rc;
    write_file(path("cut.ltrace"), data, cut);
    rc = read_all(path("cut.ltrace"), 0, &d, &n);
    assert_true(n < N_RICH - 1);
    if (rc == LT_EEOF)
      continue;
    assert_true(rc == LT_ECORRUPT || rc == LT_EFORMAT);
    assert_true(d.offset <= cut);
    assert_true(d.record >= -1 && d.record <= (int64_t)n);
  }
  zdata = read_file(path("t.zst"), &zlen);
  for (size_t cut = 0; cut < zlen; cut++) {
    write_file(path("cut.zst"), zdata, cut);
    assert_int_not_equal(read_all(path("cut.zst"), 0, &d, &n), LT_EEOF); /* framed: always caught */
  }
  free(data);
  free(zdata);
}

/* Flip every byte of a binary trace: never a crash, never a leak. */
static void test_garbage_bytes(void **state) {
  uint8_t *data;
  size_t len;
  uint64_t n;
  lt_diag d;
  (void)state;

  write_rich_jsonl(path("g.jsonl"));
  convert(path("g.jsonl"), path("g.ltrace"), LT_FORMAT_BINARY);
  data = read_file(path("g.ltrace"), &len);
  for (size_t i = 0; i < len; i++) {
    static const uint8_t values[] = {0x00, 0xff, 0x80, 0x7f};
    for (size_t v = 0; v < sizeof values; v++) {
      uint8_t keep = data[i];
      int rc;
      data[i] = values[v];
      write_file(path("flip.ltrace"), data, len);
      rc = read_all(path("flip.ltrace"), 0, &d, &n);
      assert_true(rc == LT_EEOF || rc == LT_ECORRUPT || rc == LT_EFORMAT);
      data[i] = keep;
    }
  }
  free(data);
}

static void test_jsonl_lines(void **state) {
  static const char text[] =
      "\xef\xbb\xbf{\"lifetrace\": 1, \"ends\": \"teardown\"}\r\n"
      "\r\n"
      "{\"op\": \"tdr\"}\r\n"
      "   \n"
      "{\"i\": 1, \"op\": \"tdr\", \"note\": 1}\n"
      "{\"op\": \"fence_done\", \"fence\": \"soon\"}\n";
  uint64_t n;
  lt_diag d;
  (void)state;

  write_file(path("l.jsonl"), text, sizeof text - 1);
  assert_int_equal(read_all(path("l.jsonl"), 0, &d, &n), LT_ECORRUPT);
  assert_int_equal(n, 2);
  assert_int_equal(d.line, 6);
  assert_int_equal(d.record, 2);
  assert_string_equal(d.msg, "key \"fence\": expected an integer or \"0x…\" string");
  assert_int_equal(read_all(path("l.jsonl"), 1, &d, &n), LT_ECORRUPT); /* strict */
  assert_int_equal(d.line, 5);
  assert_int_equal(d.record, 1);
  assert_non_null(strstr(d.msg, "unknown key \"note\""));
  write_file(path("l2.jsonl"), "{\"lifetrace\": 1}\n{\"op\": \"tdr\"}", 30);
  assert_int_equal(read_all(path("l2.jsonl"), 0, &d, &n), LT_EEOF); /* no final newline */
  assert_int_equal(n, 1);
  write_file(path("l3.jsonl"), "{\"lifetrace\": 1}\nnot json\n", 26);
  assert_int_equal(read_all(path("l3.jsonl"), 0, &d, &n), LT_ECORRUPT);
  assert_int_equal(d.line, 2);
  assert_int_equal(d.record, 0);
  assert_non_null(strstr(d.msg, "not valid JSON"));
  write_file(path("l4.jsonl"), "\n\n{\"lifetrace\": 3}\n", 19);
  assert_int_equal(read_all(path("l4.jsonl"), 0, &d, &n), LT_EFORMAT);
  assert_int_equal(d.line, 3);
  assert_int_equal(d.record, -1);
  assert_int_equal(read_all(path("does-not-exist"), 0, &d, &n), LT_ENOENT);
}

static void fill_handles(lt_event *ev, size_t n, uint64_t value) {
  lifetrace__event__init(ev);
  ev->op = LIFETRACE__OP__ALLOC_DESTROY;
  ev->n_handles = n;
  ev->handles = lt_calloc(n, sizeof *ev->handles);
  assert_non_null(ev->handles);
  for (size_t i = 0; i < n; i++)
    ev->handles[i] = value + i;
}

/* A record bigger than the read buffer, and one bigger than the limit. */
static void test_large_records(void **state) {
  lt_writer *w = NULL;
  lt_header h;
  lt_event big;
  uint64_t n;
  lt_diag d;
  (void)state;

  lifetrace__trace_header__init(&h);
  fill_handles(&big, 300000, UINT64_C(0xffff800000000000)); /* ~3 MB packed */
  for (int zstd = 0; zstd < 2; zstd++) {
    const char *file = path(zstd ? "big.zst" : "big.ltrace");
    assert_int_equal(lt_writer_open(&w, file, LT_FORMAT_AUTO, &h), 0);
    for (int i = 0; i < 3; i++)
      assert_int_equal(lt_writer_put(w, &big), 0);
    assert_int_equal(lt_writer_close(w), 0);
    assert_int_equal(read_all(file, 0, &d, &n), LT_EEOF);
    assert_int_equal(n, 3);
  }
  lt_free(big.handles);
  fill_handles(&big, 1800000, UINT64_MAX - 1800000); /* 10 bytes each: over 16 MiB */
  assert_int_equal(lt_writer_open(&w, path("toobig.ltrace"), LT_FORMAT_BINARY, &h), 0);
  assert_int_equal(lt_writer_put(w, &big), LT_ETOOBIG);
  assert_int_equal(lt_writer_close(w), LT_ETOOBIG);
  lt_free(big.handles);
  assert_int_equal(lt_writer_open(&w, "/nonexistent-dir/x.ltrace", LT_FORMAT_AUTO, &h), LT_ENOENT);
  assert_null(w);
}

/* Reading a long trace keeps a constant number of live blocks. */
static void test_constant_memory(void **state) {
  lt_writer *w = NULL;
  lt_reader *r = NULL;
  const lt_event *ev;
  lt_allocinfo info, *infos[1] = {&info};
  lt_event e;
  lt_header h;
  lt_diag d;
  long peak = 0;
  uint64_t n = 0;
  int rc;
  (void)state;

  lifetrace__trace_header__init(&h);
  lifetrace__event__init(&e);
  lifetrace__alloc_info__init(&info);
  e.op = LIFETRACE__OP__ALLOC_CREATE;
  e.n_allocs = 1;
  e.allocs = infos;
  assert_int_equal(lt_writer_open(&w, path("long.ltrace"), LT_FORMAT_BINARY, &h), 0);
  for (uint64_t i = 0; i < 300000; i++) {
    e.t = i;
    info.alloc = UINT64_C(0xffffd00000000000) + i * 64;
    assert_int_equal(lt_writer_put(w, &e), 0);
  }
  assert_int_equal(lt_writer_close(w), 0);
  assert_int_equal(lt_reader_open(&r, path("long.ltrace"), 0, &d), 0);
  while ((rc = lt_reader_next(r, &ev, &d)) == 0) {
    assert_true(ev->t == n++);
    if (lt_alloc_live() > peak)
      peak = lt_alloc_live();
  }
  assert_int_equal(rc, LT_EEOF);
  assert_int_equal(n, 300000);
  assert_true(peak - live_at_start < 16);
  lt_reader_free(r);
}

/* Allocation failures while opening: reported, never leaked. */
static void test_out_of_memory(void **state) {
  lt_reader *r = NULL;
  lt_diag d;
  int rc = LT_ENOMEM;
  (void)state;

  write_rich_jsonl(path("o.jsonl"));
  convert(path("o.jsonl"), path("o.zst"), LT_FORMAT_AUTO);
  for (int form = 0; form < 2; form++) {
    rc = LT_ENOMEM;
    for (long n = 1; rc != 0; n++) {
      lt_alloc_fail_nth(n);
      rc = lt_reader_open(&r, path(form ? "o.zst" : "o.jsonl"), 0, &d);
      lt_alloc_fail_nth(0);
      if (rc) {
        assert_null(r);
        assert_int_equal(lt_alloc_live(), live_at_start);
      }
    }
    lt_reader_free(r);
    r = NULL;
  }
}


/* ---- the fast Event decoder agrees with protobuf-c ------------------------- */

static uint64_t rng_state = 88172645463325252u;

static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Values of every varint length, and the edges. */
static uint64_t rnd_value(void) {
  static const uint64_t edges[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                   UINT64_C(1) << 53, UINT64_MAX};
  if (rnd() % 4 == 0)
    return edges[rnd() % (sizeof edges / sizeof edges[0])];
  return rnd() >> (rnd() % 64);
}

/* Packs a random event (every field possibly set) into buf; returns its size. */
static size_t random_event(uint8_t *buf, size_t cap) {
  lt_allocinfo infos[24], *ip[24];
  lt_ref refs[24], *rp[24];
  uint64_t handles[40];
  int big = rnd() % 8 == 0; /* past the decoder's one-pass size */
  Lifetrace__Origin origin;
  lt_event ev;
  size_t n;

  lifetrace__event__init(&ev);
  ev.op = (Lifetrace__Op)(rnd() % 22);
  ev.t = rnd() % 2 ? rnd_value() : 0;
  ev.pid = rnd() % 2 ? rnd_value() : 0;
  ev.device = rnd() % 2 ? rnd_value() : 0;
  ev.context = rnd() % 3 ? 0 : rnd_value();
  ev.node = (uint32_t)(rnd() % 3 ? 0 : rnd_value());
  ev.resource = rnd() % 3 ? 0 : rnd_value();
  ev.new_resource = rnd() % 2;
  ev.shared = rnd() % 2;
  ev.rundown = rnd() % 2;
  ev.destroy_resource = rnd() % 2;
  ev.assume_not_in_use = rnd() % 2;
  ev.synchronous = rnd() % 2;
  ev.fence = rnd() % 2 ? rnd_value() : 0;
  ev.alloc = rnd() % 2 ? rnd_value() : 0;
  ev.segment = (uint32_t)(rnd() % 3 ? 0 : rnd_value());
  ev.source = (uint32_t)(rnd() % 3 ? 0 : rnd_value());
  ev.site = (Lifetrace__FaultSite)(rnd() % 5);
  ev.nth = (uint32_t)(rnd() % 3 ? 0 : rnd_value());
  ev.n_allocs = rnd() % (big ? 24 : 5);
  for (size_t i = 0; i < ev.n_allocs; i++) {
    lifetrace__alloc_info__init(&infos[i]);
    infos[i].alloc = rnd_value();
    infos[i].size = rnd_value();
    infos[i].align = rnd() % 2 ? rnd_value() : 0;
    infos[i].segments = (uint32_t)rnd_value();
    infos[i].preferred = (uint32_t)(rnd() % 2 ? rnd_value() : 0);
    infos[i].flags = (uint32_t)rnd_value();
    ip[i] = &infos[i];
  }
  ev.allocs = ip;
  ev.n_handles = rnd() % (big ? 40 : 7);
  for (size_t i = 0; i < ev.n_handles; i++)
    handles[i] = rnd_value();
  ev.handles = handles;
  ev.n_refs = rnd() % (big ? 24 : 5);
  for (size_t i = 0; i < ev.n_refs; i++) {
    lifetrace__ref__init(&refs[i]);
    refs[i].alloc = rnd_value();
    refs[i].write = rnd() % 2;
    rp[i] = &refs[i];
  }
  ev.refs = rp;
  if (rnd() % 2) {
    lifetrace__origin__init(&origin);
    origin.record = rnd_value();
    origin.line = rnd() % 2 ? rnd_value() : 0;
    ev.origin = &origin;
  }
  n = protobuf_c_message_get_packed_size(&ev.base);
  assert_true(n <= cap);
  return protobuf_c_message_pack(&ev.base, buf);
}

/* fast must be NULL, or equal (as packed bytes) to what protobuf-c decodes. */
static int agree(const uint8_t *buf, size_t len) {
  lt_event *fast = lt__event_decode(buf, len, &lt_protobuf_allocator);
  ProtobufCMessage *slow =
      protobuf_c_message_unpack(&lifetrace__event__descriptor, &lt_protobuf_allocator, len, buf);
  static uint8_t a[16384], b[16384];
  int used_fast = fast != NULL;

  if (fast) {
    size_t na, nb;
    assert_non_null(slow); /* never accept what protobuf-c refuses */
    na = protobuf_c_message_get_packed_size(&fast->base);
    nb = protobuf_c_message_get_packed_size(slow);
    assert_int_equal(na, nb);
    assert_true(na <= sizeof a);
    protobuf_c_message_pack(&fast->base, a);
    protobuf_c_message_pack(slow, b);
    assert_memory_equal(a, b, na);
  }
  lt_event_free(fast);
  if (slow)
    protobuf_c_message_free_unpacked(slow, &lt_protobuf_allocator);
  return used_fast;
}

static void mutate(uint8_t *buf, size_t *len, size_t cap) {
  size_t at = *len ? rnd() % *len : 0;

  switch (rnd() % 6) {
  case 0: /* a random byte */
    if (*len)
      buf[at] = (uint8_t)rnd();
    break;
  case 1: /* flip the continuation bit */
    if (*len)
      buf[at] ^= 0x80;
    break;
  case 2: /* cut */
    *len = at;
    break;
  case 3: /* insert a byte */
    if (*len < cap) {
      memmove(buf + at + 1, buf + at, *len - at);
      buf[at] = (uint8_t)rnd();
      ++*len;
    }
    break;
  case 4: /* delete a byte */
    if (*len) {
      memmove(buf + at, buf + at + 1, *len - at - 1);
      --*len;
    }
    break;
  default: /* repeat the tail (duplicate fields) */
    if (*len && *len + (*len - at) <= cap) {
      memcpy(buf + *len, buf + at, *len - at);
      *len += *len - at;
    }
  }
}

static void test_fast_decoder_agrees_with_protobuf_c(void **state) {
  static uint8_t buf[16384];
  size_t fast = 0, total = 0, large = 0;
  (void)state;

  static uint8_t seed[8192];

  for (int i = 0; i < 3000; i++) {
    size_t seed_len = random_event(seed, sizeof seed / 2);
    assert_true(agree(seed, seed_len)); /* the writers' shapes always take the fast path */
    large += seed_len > 512;
    for (int m = 0; m < 20; m++) {
      size_t len = seed_len;
      memcpy(buf, seed, len);
      for (int k = 1 + (int)(rnd() % 3); k > 0; k--)
        mutate(buf, &len, sizeof buf / 2);
      fast += (size_t)agree(buf, len);
      total++;
    }
  }
  print_message("fast path on %zu of %zu mutated events; %zu seeds over 512 bytes\n", fast, total,
                large);
  assert_true(large > 100);
  assert_true(fast > total / 20); /* thousands of odd inputs took the fast path */
}

/* Shapes the fast path leaves to protobuf-c, and what protobuf-c makes of them. */
static void test_fast_decoder_gives_up(void **state) {
  static const struct {
    const char *bytes;
    size_t len;
  } cases[] = {
      {B("\x08\x01\x70\x05\x70\x06")},             /* handles unpacked */
      {B("\x2a\x02\x08\x01\x2a\x02\x10\x02")},     /* origin twice: merged */
      {B("\x50\x02")},                             /* bool 2 */
      {B("\xf0\x01\x05")},                         /* unknown field 30 */
      {B("\x09\x01\x02\x03\x04\x05\x06\x07\x08")}, /* field 1 as fixed64 */
  };
  /* a 10-byte varint whose last byte exceeds 64 bits: both keep the low bits */
  const uint8_t wide[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  (void)state;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const uint8_t *b = (const uint8_t *)cases[i].bytes;
    assert_null(lt__event_decode(b, cases[i].len, &lt_protobuf_allocator));
    agree(b, cases[i].len);
  }
  assert_true(agree(wide, sizeof wide));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip_every_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_binary_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fuzz_form_unpack, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_binary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_diag_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncation_everywhere, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_jsonl_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_records, setup, teardown),
      cmocka_unit_test_setup_teardown(test_constant_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_out_of_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fast_decoder_agrees_with_protobuf_c, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fast_decoder_gives_up, setup, teardown),
  };
  return cmocka_run_group_tests_name("trace_io", tests, group_setup, group_teardown);
}
