/* Unit tests of the ETW importer: format detection, the text parsers, the
 * DxgKrnl joins (ownership, resources, rundown, references, held-back
 * creates), streaming (any chunking gives the same trace; UTF-16 exports),
 * keep-going, and clean failure on every allocation. Samples come from
 * corpus/etw/ (LT_SOURCE_DIR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "import/import_internal.h"
#include "lifetrace/import.h"
#include "lifetrace/trace.h"

struct sink {
  char **lines;
  size_t n, cap;
  int fail_at; /* 1-based event whose sink call fails (0 = never) */
};

static int collect(void *data, const lt_event *ev) {
  struct sink *s = data;
  if (s->fail_at && (int)s->n + 1 == s->fail_at)
    return LT_EIO;
  char *buf = NULL;
  size_t len = 0;
  int rc = lt_jsonl_format_event(ev, &buf, &len);
  if (rc)
    return rc;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    char **l = realloc(s->lines, cap * sizeof *l);
    assert_non_null(l);
    s->lines = l;
    s->cap = cap;
  }
  s->lines[s->n++] = buf;
  return 0;
}

static void sink_reset(struct sink *s) {
  for (size_t i = 0; i < s->n; i++)
    lt_free(s->lines[i]);
  free(s->lines);
  memset(s, 0, sizeof *s);
}

static char *slurp(const char *name, size_t *len) {
  const char *dir = getenv("LT_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/corpus/etw/%s", dir ? dir : ".", name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Imports buf in chunks of `chunk` bytes (0 = at once). */
static int import_chunked(const char *buf, size_t len, size_t chunk, int keep, struct sink *s,
                          lt_import_stats *st, lt_diag *d) {
  lt_import_opts o = {LT_IMPORT_AUTO, keep, "sample", collect, s, NULL, NULL};
  lt_import *imp = NULL;
  int rc = lt_import_new(&imp, &o);
  if (rc)
    return rc;
  if (!chunk)
    chunk = len ? len : 1;
  for (size_t off = 0; off < len && !rc; off += chunk)
    rc = lt_import_feed(imp, buf + off, len - off < chunk ? len - off : chunk, d);
  if (!rc)
    rc = lt_import_finish(imp, d);
  if (!rc && st)
    *st = *lt_import_stats_get(imp);
  if (!rc)
    assert_non_null(lt_import_header(imp));
  lt_import_free(imp);
  return rc;
}

static const char *find(const struct sink *s, size_t i, const char *needle) {
  assert_true(i < s->n);
  return strstr(s->lines[i], needle);
}

static void test_detect(void **state) {
  (void)state;
  assert_int_equal(lt_import_detect("\xEF\xBB\xBF  <?xml", 9), LT_IMPORT_XML);
  assert_int_equal(lt_import_detect("Event Name, Type, Event ID\r\n", 28), LT_IMPORT_CSV);
  assert_int_equal(lt_import_detect("BeginHeader\nP-Start, TimeStamp\n", 31), LT_IMPORT_DUMPER);
  assert_int_equal(lt_import_detect("Begin", 5), LT_IMPORT_AUTO); /* need more */
  assert_int_equal(lt_import_detect("hello\nworld\n", 12), LT_IMPORT_AUTO);
  assert_int_equal(lt_import_format_from_name("tracerpt-csv"), LT_IMPORT_CSV);
  assert_int_equal(lt_import_format_from_name("xperf"), LT_IMPORT_DUMPER);
  assert_int_equal(lt_import_format_from_name("etl"), LT_IMPORT_ETL);
  assert_int_equal(lt_import_format_from_name("evtx"), -1);
}

static void test_parsers(void **state) {
  (void)state;
  uint64_t v, t1, t2;
  assert_int_equal(lt__parse_u64(" 0xFFFFC2863A015000 ", 20, &v), 0);
  assert_true(v == 0xFFFFC2863A015000ull);
  assert_int_equal(lt__parse_u64("false", 5, &v), 0);
  assert_true(v == 0);
  assert_int_equal(lt__parse_u64("12x", 3, &v), -1);
  assert_int_equal(lt__parse_u64("18446744073709551616", 20, &v), -1);
  assert_int_equal(lt__parse_mapped("CpuVisible | Cached ", 20, lt__map_allocflags, 1, &v), 0);
  assert_true(v == 0x5);
  assert_int_equal(lt__parse_mapped("DMA_COMPLETED ", 14, lt__map_interrupt, 0, &v), 0);
  assert_true(v == 1);
  assert_int_equal(lt__parse_mapped("Bogus", 5, lt__map_interrupt, 0, &v), -1);
  /* The offset is ignored: only differences within a file matter. */
  assert_int_equal(lt__parse_iso_time("2018-11-12T16:12:12.586128800+02:59", 35, &t1), 0);
  assert_int_equal(lt__parse_iso_time("2018-11-12T16:12:13.5Z", 22, &t2), 0);
  assert_true(t2 - t1 == 913871200ull);
  assert_int_equal(lt__parse_iso_time("2018-13-12T16:12:13Z", 20, &t2), -1);
  /* An open quote: the fields before it are usable (quoted ones too). */
  struct lt__fields f = {0};
  assert_int_equal(lt__split_csv(&f, "\"a,b\", c, \"d", 13), LT_ECORRUPT);
  assert_int_equal(f.n, 2);
  assert_int_equal(f.len[0], 3);
  assert_memory_equal(f.v[0], "a,b", 3);
  lt__fields_free(&f);
}

/* The joins on the clean sample: ownership from the payload, resources,
 * references on device or global allocation values, packets. */
static void test_xml_joins(void **state) {
  (void)state;
  long live = lt_alloc_live();
  size_t len;
  char *buf = slurp("clean-lifecycle.xml", &len);
  struct sink s = {0};
  lt_import_stats st;
  lt_diag d;
  assert_int_equal(import_chunked(buf, len, 0, 0, &s, &st, &d), 0);
  /* 36 DxgKrnl records imported; DmaPacket Stop and the kernel Process
   * record skipped. */
  assert_true(st.records == 38 && st.imported == 36 && st.skipped == 2 && st.malformed == 0);
  /* device_create owned by the payload's hProcessId (0x1234), not the header. */
  assert_non_null(find(&s, 0, "\"op\": \"device_create\""));
  assert_non_null(find(&s, 0, "\"pid\": 4660"));
  assert_non_null(find(&s, 0, "\"origin\": {\"record\": 2, \"line\": 56}"));
  /* Two allocations of one resource: new_resource only on the first. */
  assert_non_null(find(&s, 2, "\"new_resource\": true"));
  assert_null(find(&s, 3, "\"new_resource\""));
  assert_non_null(find(&s, 3, "\"resource\": \"0xffffc2863c031000\""));
  /* Lock on the device allocation value joins its global allocation. */
  assert_non_null(find(&s, 4, "\"op\": \"lock\""));
  assert_non_null(find(&s, 4, "\"alloc\": \"0xffffc2863a015000\""));
  /* Submit: references given as a device and a global allocation value. */
  assert_non_null(find(&s, 6, "\"op\": \"submit\""));
  assert_non_null(find(&s, 6, "{\"alloc\": \"0xffffc2863a015000\", \"write\": true}"));
  assert_non_null(find(&s, 6, "{\"alloc\": \"0xffffc2863a016000\"}"));
  assert_non_null(find(&s, 7, "\"op\": \"fence_done\""));
  /* The last allocation of a resource carries destroy_resource. */
  int last_of_r1 = 0;
  for (size_t i = 0; i < s.n; i++)
    if (strstr(s.lines[i], "alloc_destroy") && strstr(s.lines[i], "0xffffc2863a016000"))
      last_of_r1 = strstr(s.lines[i], "\"destroy_resource\": true") != NULL;
  assert_true(last_of_r1);
  sink_reset(&s);
  free(buf);
  assert_int_equal(lt_alloc_live(), live);
}

/* Chunk boundaries anywhere (down to single bytes) give the same trace. */
static void test_chunking(void **state) {
  (void)state;
  static const char *const files[] = {"clean-lifecycle.xml", "clean-lifecycle.csv",
                                      "clean-lifecycle.txt", "rundown-destroyed-later.xml",
                                      "rundown-out-of-order.txt"};
  static const size_t chunks[] = {1, 7, 4096};
  long live = lt_alloc_live();
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    size_t len;
    char *buf = slurp(files[f], &len);
    struct sink ref = {0};
    lt_diag d;
    assert_int_equal(import_chunked(buf, len, 0, 0, &ref, NULL, &d), 0);
    assert_true(ref.n > 5);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
      struct sink s = {0};
      assert_int_equal(import_chunked(buf, len, chunks[c], 0, &s, NULL, &d), 0);
      assert_int_equal(s.n, ref.n);
      for (size_t i = 0; i < s.n; i++)
        assert_string_equal(s.lines[i], ref.lines[i]);
      sink_reset(&s);
    }
    sink_reset(&ref);
    free(buf);
  }
  assert_int_equal(lt_alloc_live(), live);
}

/* A UTF-16LE export (with BOM) imports like its UTF-8 original. */
static void test_utf16(void **state) {
  (void)state;
  size_t len;
  char *buf = slurp("double-destroy.csv", &len);
  unsigned char *w = malloc(2 * len + 2);
  assert_non_null(w);
  w[0] = 0xFF, w[1] = 0xFE;
  for (size_t i = 0; i < len; i++)
    w[2 + 2 * i] = (unsigned char)buf[i], w[3 + 2 * i] = 0;
  struct sink a = {0}, b = {0};
  lt_diag d;
  assert_int_equal(import_chunked(buf, len, 0, 0, &a, NULL, &d), 0);
  assert_int_equal(import_chunked((char *)w, 2 * len + 2, 3, 0, &b, NULL, &d), 0);
  assert_int_equal(a.n, b.n);
  for (size_t i = 0; i < a.n; i++)
    assert_string_equal(a.lines[i], b.lines[i]);
  sink_reset(&a);
  sink_reset(&b);
  free(w);
  free(buf);
}

/* A broken XML record: exit-3 diagnostics, or skipped and counted. */
static void test_keep_going_xml(void **state) {
  (void)state;
  long live = lt_alloc_live();
  size_t len;
  char *buf = slurp("double-destroy.xml", &len);
  /* Break the first AdapterAllocation record's EventData end tag. */
  char *at = strstr(strstr(buf, "<EventID>33</EventID>"), "</EventData>");
  assert_non_null(at);
  memcpy(at, "<EventDat>>", 11);
  struct sink s = {0};
  lt_import_stats st;
  lt_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(import_chunked(buf, len, 0, 0, &s, NULL, &d), LT_ECORRUPT);
  assert_string_equal(d.file, "sample");
  assert_int_equal(d.record, 4);
  assert_true(d.line > 100 && strstr(d.msg, "XML") != NULL);
  sink_reset(&s);
  assert_int_equal(import_chunked(buf, len, 100, 1, &s, &st, &d), 0);
  assert_int_equal(st.malformed, 1);
  assert_int_equal(st.records, 12); /* every record counted, the broken one included */
  /* The 36 whose 33 was lost opens an allocation never created. */
  assert_non_null(find(&s, 2, "\"op\": \"alloc_open\""));
  sink_reset(&s);
  free(buf);
  assert_int_equal(lt_alloc_live(), live);
}

/* A create held back for its DeviceAllocation is flushed when needed; an
 * adapter allocation without a device is not replayed. */
static void test_held_back(void **state) {
  (void)state;
  static const char csv[] =
      "Event Name, Type, Event ID, Version, Channel, Level, Opcode, Task, Keyword, PID, TID, "
      "Processor Number, Instance ID, Parent Instance ID, Activity ID, Related Activity ID, "
      "Clock-Time, Kernel(ms), User(ms), User Data\n"
      "Microsoft-Windows-DxgKrnl, Start , 27, 0, 0, 0, 1, 19, 0x0, 0x4, 0x10, 0, , , , , 1000, 0, "
      "0, 0x99, 0xA, USER , 0xD1, false, false\n"
      "Microsoft-Windows-DxgKrnl, Start , 33, 1, 0, 0, 1, 21, 0x0, 0x4, 0x10, 0, , , , , 2000, 0, "
      "0, 0x99, 0xD1, 0xA, 0, 4096, 0, 1, 1, 1, 0, 0, 0, 0xA1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
      "0, false, 0\n"
      "Microsoft-Windows-DxgKrnl, Start , 33, 1, 0, 0, 1, 21, 0x0, 0x4, 0x10, 0, , , , , 3000, 0, "
      "0, 0x99, 0x0, 0xA, 0, 4096, 0, 1, 1, 1, 0, 0, 0, 0xA2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
      "false, 0\n"
      "Microsoft-Windows-DxgKrnl, Stop , 34, 1, 0, 0, 2, 21, 0x0, 0x4, 0x10, 0, , , , , 4000, 0, "
      "0, 0x99, 0x0, 0xA, 0, 4096, 0, 1, 1, 1, 0, 0, 0, 0xA2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
      "false, 0\n";
  struct sink s = {0};
  lt_diag d;
  assert_int_equal(import_chunked(csv, sizeof csv - 1, 0, 0, &s, NULL, &d), 0);
  assert_int_equal(s.n, 2); /* device_create, then 0xA1 flushed at the end */
  assert_non_null(find(&s, 1, "\"op\": \"alloc_create\""));
  assert_non_null(find(&s, 1, "\"alloc\": 161"));
  assert_non_null(find(&s, 1, "\"t\": 100000"));
  assert_non_null(find(&s, 1, "\"origin\": {\"record\": 1, \"line\": 3}"));
  assert_null(find(&s, 1, "resource"));
  sink_reset(&s);
}

/* Many distinct handles destroyed: tombstones are dropped once they pile
 * up, and the trace stays right across the purges (a double destroy of a
 * recent handle is still named, the counts add up). */
static void test_many_handles(void **state) {
  (void)state;
  enum { N = 70000 };
  static const char head[] =
      "Event Name, Type, Event ID, Version, Channel, Level, Opcode, Task, Keyword, PID, TID, "
      "Processor Number, Instance ID, Parent Instance ID, Activity ID, Related Activity ID, "
      "Clock-Time, Kernel(ms), User(ms), User Data\n"
      "Microsoft-Windows-DxgKrnl, DC_Start , 29, 0, 0, 0, 3, 19, 0x0, 0x4, 0x10, 0, , , , , 1, 0, "
      "0, 0x99, 0xA, USER , 0xD1, false, false\n";
  static const char row[] =
      "Microsoft-Windows-DxgKrnl, %s , %d, 1, 0, 0, %d, 21, 0x0, 0x4, 0x10, 0, , , , , 2, 0, 0, "
      "0x99, 0xD1, 0xA, 0, 4096, 0, 1, 1, 1, 0, 0, 0, 0x%llX, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
      "false, 0\n";
  size_t cap = (size_t)N * 2 * 256 + 1024, len = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  len += (size_t)snprintf(buf, cap, "%s", head);
  for (unsigned long long i = 0; i < N; i++) {
    unsigned long long h = 0xFFFFC28600000000ull + i * 0x1000;
    len += (size_t)snprintf(buf + len, cap - len, row, "Start", 33, 1, h);
    len += (size_t)snprintf(buf + len, cap - len, row, "Stop", 34, 2, h);
  }
  len += (size_t)snprintf(buf + len, cap - len, row, "Stop", 34, 2,
                          0xFFFFC28600000000ull + (N - 1) * 0x1000ull);
  long live = lt_alloc_live();
  struct sink s = {0};
  lt_import_stats st;
  lt_diag d;
  assert_int_equal(import_chunked(buf, len, 1 << 16, 0, &s, &st, &d), 0);
  assert_int_equal(st.events, 1 + 2 * N + 1);
  assert_int_equal(s.n, 1 + 2 * N + 1);
  /* The last two destroys name the same allocation: a double destroy. */
  assert_non_null(strstr(s.lines[s.n - 1], "alloc_destroy"));
  assert_non_null(strstr(s.lines[s.n - 2], "alloc_destroy"));
  sink_reset(&s);
  free(buf);
  assert_int_equal(lt_alloc_live(), live);
}

/* Every allocation failure and a failing sink end the import with an error
 * and release everything. */
static void test_alloc_failures(void **state) {
  (void)state;
  size_t len;
  char *buf = slurp("clean-lifecycle.txt", &len);
  long live = lt_alloc_live();
  int failed = 0;
  for (long nth = 1; nth < 2000; nth++) {
    struct sink s = {0};
    lt_diag d;
    lt_alloc_fail_nth(nth);
    int rc = import_chunked(buf, len, 512, 0, &s, NULL, &d);
    lt_alloc_fail_nth(0);
    sink_reset(&s);
    assert_int_equal(lt_alloc_live(), live);
    if (rc == 0)
      break;
    assert_int_equal(rc, LT_ENOMEM);
    failed++;
  }
  assert_true(failed > 20);
  struct sink s = {.fail_at = 5};
  lt_diag d;
  assert_int_equal(import_chunked(buf, len, 0, 0, &s, NULL, &d), LT_EIO);
  sink_reset(&s);
  assert_int_equal(lt_alloc_live(), live);
  free(buf);
}

/* Garbage never crashes, and every outcome is 0 or a documented error. */
static void test_garbage(void **state) {
  (void)state;
  static const char *const inputs[] = {
      "<Events><Event><System><Provider Name=\"Microsoft-Windows-DxgKrnl\"/><EventID>43"
      "</EventID><Version>0</Version><Task>27</Task><Opcode>0</Opcode></System><EventData>"
      "<Data Name=\"hContext\">1</Data><Data Name=\"pDmaBuffer\">2</Data><Data "
      "Name=\"uiNbAllocations\">99999999</Data></EventData></Event></Events>",
      "BeginHeader\nEndHeader\nx\nMicrosoft-Windows-DxgKrnl/Foo/win:Info, 1\n",
      "Event Name, Type, Event ID, Version, User Data\nMicrosoft-Windows-DxgKrnl, , 43, 0, 1, 2, "
      "3, 0x1\n",
      "\xFF\xFE<\0",
      "<",
      ""};
  long live = lt_alloc_live();
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    for (int keep = 0; keep < 2; keep++) {
      struct sink s = {0};
      lt_diag d;
      size_t n = strlen(inputs[i]);
      if (i == 3)
        n = 4;
      int rc = import_chunked(inputs[i], n, 0, keep, &s, NULL, &d);
      assert_true(rc == 0 || rc == LT_ECORRUPT || rc == LT_EFORMAT);
      sink_reset(&s);
    }
  }
  assert_int_equal(lt_alloc_live(), live);
}

/* Replaces the first occurrence of `from` after `after` in buf (a malloc'd
 * string) by `to`; returns the new string and frees buf. */
static char *edit(char *buf, const char *after, const char *from, const char *to, size_t *len) {
  char *a = strstr(buf, after);
  assert_non_null(a);
  char *at = strstr(a, from);
  assert_non_null(at);
  size_t head = (size_t)(at - buf), flen = strlen(from), tlen = strlen(to);
  char *out = malloc(*len - flen + tlen + 1);
  assert_non_null(out);
  memcpy(out, buf, head);
  memcpy(out + head, to, tlen);
  memcpy(out + head + tlen, at + flen, *len - head - flen + 1);
  *len = *len - flen + tlen;
  free(buf);
  return out;
}

/* Imports buf; expects the error at line/record with msg containing needle,
 * then (keep-going) one malformed record and the rest imported. */
static void expect_malformed(const char *buf, size_t len, uint64_t line, int64_t record,
                             const char *needle) {
  struct sink s = {0};
  lt_import_stats st;
  lt_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(import_chunked(buf, len, 0, 0, &s, NULL, &d), LT_ECORRUPT);
  if (!strstr(d.msg, needle) || d.line != line || d.record != record)
    fail_msg("got line %llu record %lld: %s", (unsigned long long)d.line, (long long)d.record,
             d.msg);
  assert_string_equal(d.file, "sample");
  sink_reset(&s);
  assert_int_equal(import_chunked(buf, len, 7, 1, &s, &st, &d), 0);
  assert_int_equal(st.malformed, 1);
  assert_true(st.imported > 0);
  sink_reset(&s);
}

/* Issue 10: a dumper line shorter than its type's first payload column read
 * field pointers left from earlier lines (a heap use-after-free). */
static void test_dumper_short_line(void **state) {
  (void)state;
  long live = lt_alloc_live();
  size_t len;
  char *buf = slurp("clean-lifecycle.txt", &len);
  /* Line 32: the type and a time only, before the first Device Start. */
  buf = edit(buf, "\n  FirstReliable", "\nMicrosoft-Windows-DxgKrnl/Device/win:Start,  ",
             "\nMicrosoft-Windows-DxgKrnl/Device/win:Start, 100\n"
             "Microsoft-Windows-DxgKrnl/Device/win:Start,  ",
             &len);
  expect_malformed(buf, len, 32, 2, "fewer values than the header's columns (1 values");
  free(buf);
  assert_int_equal(lt_alloc_live(), live);
}

/* Issue 10: an unterminated quoted field was ended at the end of the line. */
static void test_open_quote(void **state) {
  (void)state;
  long live = lt_alloc_live();
  size_t len;
  char *buf = slurp("clean-lifecycle.csv", &len);
  buf = edit(buf, "\nMicrosoft-Windows-DxgKrnl, Start , 27,", "USER ", "\"USER ", &len);
  expect_malformed(buf, len, 4, 2, "field 22: quoted field has no closing quote");
  free(buf);
  /* Another provider's row is skipped as ever: its payload is never read. */
  buf = slurp("clean-lifecycle.csv", &len);
  buf = edit(buf, "\nEventTrace, Header ,", " 65536,", " \"65536,", &len);
  struct sink s = {0};
  lt_import_stats st;
  lt_diag d;
  assert_int_equal(import_chunked(buf, len, 0, 0, &s, &st, &d), 0);
  assert_int_equal(st.malformed, 0);
  assert_true(st.skipped > 0 && st.imported > 0);
  sink_reset(&s);
  free(buf);
  buf = slurp("clean-lifecycle.txt", &len);
  buf = edit(buf, "\nMicrosoft-Windows-DxgKrnl/Device/win:Start,  ", "game.exe (", "\"game.exe (",
             &len);
  expect_malformed(buf, len, 32, 2, "field 3: quoted field has no closing quote");
  free(buf);
  assert_int_equal(lt_alloc_live(), live);
}

/* Issue 10: a time or thread id that does not parse (here over 64 bits) was
 * dropped silently, and the record lost its time. */
static void test_bad_header_numbers(void **state) {
  (void)state;
  long live = lt_alloc_live();
  static const struct {
    const char *file, *after, *from, *to, *needle;
    uint64_t line;
    int64_t record;
  } cases[] = {
      {"clean-lifecycle.csv", "\nMicrosoft-Windows-DxgKrnl, Start , 27,", "133590528000002000",
       "133590528000002000133590528000002000", "Clock-Time '133590528000002000133590528", 4, 2},
      {"clean-lifecycle.csv", "\nMicrosoft-Windows-DxgKrnl, Start , 27,", "0x00001A30",
       "0x100001A30000000000", "TID '0x100001A30000000000'", 4, 2},
      {"clean-lifecycle.txt", "\nMicrosoft-Windows-DxgKrnl/Device/win:Start,  ", "350,",
       "350000000000000000000000,", "TimeStamp '350000000000000000000000'", 32, 2},
      {"clean-lifecycle.txt", "\nMicrosoft-Windows-DxgKrnl/Device/win:Start,  ", "6704,",
       "67x04,", "ThreadID '67x04'", 32, 2},
      {"clean-lifecycle.xml", "<EventID>27</EventID>", "SystemTime=\"2024", "SystemTime=\"99999",
       "TimeCreated SystemTime '99999", 0, 2},
      {"clean-lifecycle.xml", "<EventID>27</EventID>", "ThreadID=\"0x1A30\"",
       "ThreadID=\"0x10000000000001A30\"", "Execution ThreadID '0x10000000000001A30'", 0, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len;
    char *buf = slurp(cases[i].file, &len);
    buf = edit(buf, cases[i].after, cases[i].from, cases[i].to, &len);
    struct sink s = {0};
    lt_diag d;
    memset(&d, 0, sizeof d);
    uint64_t line = cases[i].line;
    if (line == 0) { /* XML: the record's line, whatever it is */
      assert_int_equal(import_chunked(buf, len, 0, 0, &s, NULL, &d), LT_ECORRUPT);
      line = d.line;
      sink_reset(&s);
    }
    expect_malformed(buf, len, line, cases[i].record, cases[i].needle);
    free(buf);
  }
  assert_int_equal(lt_alloc_live(), live);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_detect),         cmocka_unit_test(test_parsers),
      cmocka_unit_test(test_xml_joins),      cmocka_unit_test(test_chunking),
      cmocka_unit_test(test_utf16),          cmocka_unit_test(test_keep_going_xml),
      cmocka_unit_test(test_held_back),      cmocka_unit_test(test_many_handles),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_garbage),        cmocka_unit_test(test_dumper_short_line),
      cmocka_unit_test(test_open_quote),     cmocka_unit_test(test_bad_header_numbers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
