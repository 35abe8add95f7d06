/* Unit tests of the native .etl reader: the three decompressors on known
 * vectors and on what they must refuse, and the container fed in chunks of
 * every size (the result must not depend on where chunks split) and cut
 * short anywhere (a clean error naming the buffer, never a crash). The .etl
 * samples are the fuzz seeds tests/etl_writer.py wrote into
 * corpus/fuzz-regressions/fuzz_read_etl (LT_SOURCE_DIR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <wimlib.h>

#include "buf.h"
#include "import/etl.h"
#include "lifetrace/import.h"
#include "lifetrace/trace.h"

static void test_lznt1(void **state) {
  (void)state;
  uint8_t out[16];
  /* "abc" then a match of 6 at distance 3; then the end marker. */
  static const uint8_t v[] = {0x05, 0xB0, 0x08, 'a', 'b', 'c', 0x03, 0x20, 0, 0};
  assert_int_equal(lt__lznt1_decompress(v, sizeof v, out, 9), 0);
  assert_memory_equal(out, "abcabcabc", 9);
  /* An uncompressed chunk (bit 15 clear) is copied. */
  static const uint8_t raw[] = {0x02, 0x30, 'x', 'y', 'z'};
  assert_int_equal(lt__lznt1_decompress(raw, sizeof raw, out, 3), 0);
  assert_memory_equal(out, "xyz", 3);
  /* Refused: a size other than asked, a match before the chunk's start, a
   * chunk longer than the input. */
  assert_int_equal(lt__lznt1_decompress(v, sizeof v, out, 10), LT_ECORRUPT);
  static const uint8_t early[] = {0x02, 0xB0, 0x01, 0x03, 0x20};
  assert_int_equal(lt__lznt1_decompress(early, sizeof early, out, 6), LT_ECORRUPT);
  static const uint8_t longer[] = {0x40, 0xB0, 0x00, 'a'};
  assert_int_equal(lt__lznt1_decompress(longer, sizeof longer, out, 1), LT_ECORRUPT);
  static const uint8_t far[] = {0x05, 0xB0, 0x08, 'a', 'b', 'c', 0x03, 0x50};
  assert_int_equal(lt__lznt1_decompress(far, sizeof far, out, 9), LT_ECORRUPT);
}

static void test_xpress(void **state) {
  (void)state;
  uint8_t out[64];
  static const uint8_t v[] = {0, 0, 0, 0x10, 'a', 'b', 'c', 0x13, 0x00};
  assert_int_equal(lt__xpress_decompress(v, sizeof v, out, 9), 0);
  assert_memory_equal(out, "abcabcabc", 9);
  /* The long form: length 39 = 3 + 7 + 15 + 14 (low bits 7, nibble 15, byte). */
  static const uint8_t lng[] = {0, 0, 0, 0x40, 'a', 0x07, 0x00, 0x0F, 0x0E};
  assert_int_equal(lt__xpress_decompress(lng, sizeof lng, out, 40), 0);
  for (int i = 0; i < 40; i++)
    assert_int_equal(out[i], 'a');
  assert_int_equal(lt__xpress_decompress(lng, sizeof lng, out, 41), LT_ECORRUPT);
  assert_int_equal(lt__xpress_decompress(v, 8, out, 9), LT_ECORRUPT); /* cut */
  static const uint8_t before[] = {0, 0, 0, 0x80, 0x13, 0x00};
  assert_int_equal(lt__xpress_decompress(before, sizeof before, out, 6), LT_ECORRUPT);
}

static void test_xpress_huff(void **state) {
  (void)state;
  enum { N = 60000 };
  uint8_t *in = malloc(N), *comp = malloc(N + 1024), *out = malloc(N);
  struct wimlib_compressor *c = NULL;
  assert_non_null(in);
  for (size_t i = 0; i < N; i++)
    in[i] = (uint8_t)((i * 7 / 13) ^ (i % 251 < 20 ? i : 0));
  assert_int_equal(wimlib_create_compressor(WIMLIB_COMPRESSION_TYPE_XPRESS, 65536, 50, &c), 0);
  size_t n = wimlib_compress(in, N, comp, N + 1024, c);
  wimlib_free_compressor(c);
  assert_true(n > 256 && n < N);
  assert_int_equal(lt__xpress_huff_decompress(comp, n, out, N), 0);
  assert_memory_equal(in, out, N);
  assert_int_equal(lt__xca_decompress(LT__XCA_XPRESS_HUFF, comp, n, out, N), 0);
  /* Refused: a cut stream, a size over one 64 KiB block, an unknown format. */
  assert_int_equal(lt__xpress_huff_decompress(comp, 200, out, N), LT_ECORRUPT);
  assert_int_equal(lt__xpress_huff_decompress(comp, n, out, 65537), LT_ECORRUPT);
  assert_int_equal(lt__xca_decompress(9, comp, n, out, N), LT_EFORMAT);
  free(in);
  free(comp);
  free(out);
}

struct lines {
  lt__buf all;
};

static int sink(void *data, const lt_event *ev) {
  struct lines *l = data;
  char *line = NULL;
  size_t len = 0;
  int rc = lt_jsonl_format_event(ev, &line, &len);
  if (rc)
    return rc;
  rc = lt__buf_append(&l->all, line, len);
  lt_free(line);
  return rc;
}

static uint8_t *slurp(const char *name, size_t *n) {
  char path[1024];
  const char *src = getenv("LT_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/corpus/fuzz-regressions/fuzz_read_etl/%s", src ? src : ".",
           name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint8_t *p = malloc(1 << 20);
  *n = fread(p, 1, 1 << 20, f);
  fclose(f);
  return p;
}

/* Imports data in chunks of `chunk` bytes; the events as JSONL. */
static int import_chunks(const uint8_t *p, size_t n, size_t chunk, lt__buf *out, lt_diag *d) {
  struct lines l = {{0}};
  lt_import_opts o = {LT_IMPORT_AUTO, 0, "t.etl", sink, &l, NULL, NULL};
  lt_import *imp = NULL;
  memset(d, 0, sizeof *d);
  int rc = lt_import_new(&imp, &o);
  for (size_t off = 0; rc == 0 && off < n; off += chunk)
    rc = lt_import_feed(imp, p + off, n - off < chunk ? n - off : chunk, d);
  if (rc == 0)
    rc = lt_import_finish(imp, d);
  if (rc == 0)
    assert_int_equal(lt_import_format(imp), LT_IMPORT_ETL);
  lt_import_free(imp);
  *out = l.all;
  return rc;
}

static void test_chunking(void **state) {
  (void)state;
  static const char *const files[] = {"seed-lost-stop.etl", "seed-lznt1.etl", "seed-huff.etl",
                                      "seed-schema.etl"};
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    size_t n;
    uint8_t *p = slurp(files[f], &n);
    lt__buf whole = {0}, part = {0};
    lt_diag d;
    assert_int_equal(import_chunks(p, n, n, &whole, &d), 0);
    assert_true(whole.n > 0);
    static const size_t sizes[] = {1, 7, 72, 100, 513, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      assert_int_equal(import_chunks(p, n, sizes[k], &part, &d), 0);
      assert_int_equal(part.n, whole.n);
      assert_memory_equal(part.s, whole.s, whole.n);
      lt__buf_reset(&part);
    }
    lt__buf_reset(&whole);
    free(p);
  }
}

static void test_truncated(void **state) {
  (void)state;
  size_t n;
  uint8_t *p = slurp("seed-lost-stop.etl", &n);
  for (size_t cut = 1; cut < n; cut += 37) {
    lt__buf out = {0};
    lt_diag d;
    int rc = import_chunks(p, cut, 4096, &out, &d);
    if (cut < 0x50) { /* not even a header: not recognised */
      assert_true(rc == LT_EFORMAT || rc == LT_ECORRUPT);
    } else {
      assert_int_equal(rc, LT_ECORRUPT);
      assert_non_null(strstr(d.msg, "buffer "));
      assert_string_equal(d.file, "t.etl");
    }
    lt__buf_reset(&out);
  }
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lznt1),    cmocka_unit_test(test_xpress),
      cmocka_unit_test(test_xpress_huff), cmocka_unit_test(test_chunking),
      cmocka_unit_test(test_truncated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
