/* Decompressors for the buffers of compressed .etl files (`xperf -merge
 * -compress`, WPR): the three MS-XCA formats the log-file mode can name.
 * LZNT1 and plain XPRESS (LZ77) are small and implemented here, after the
 * MS-XCA specification (§2.3, §2.5); XPRESS Huffman is wimlib's XPRESS, the
 * same LZ77+Huffman format WIM files use. Every read and write is bounds
 * checked: the input is a file from a customer. */
#include <string.h>
#ifdef LT_HAVE_WIMLIB
#include <wimlib.h>
#endif

#include "etl.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Copies a match byte by byte (it may overlap its own output). */
static int copy_match(uint8_t *out, size_t *o, size_t out_n, size_t start, size_t off,
                      size_t len) {
  if (off == 0 || off > *o - start || len > out_n - *o)
    return LT_ECORRUPT;
  for (size_t i = 0; i < len; i++, (*o)++)
    out[*o] = out[*o - off];
  return 0;
}

/* One compressed LZNT1 chunk (at most 4096 output bytes) into out[*o..). */
static int lznt1_chunk(const uint8_t *p, size_t n, uint8_t *out, size_t *o, size_t out_n) {
  size_t i = 0, start = *o;
  while (i < n) {
    uint8_t flags = p[i++];
    for (int b = 0; b < 8 && i < n; b++, flags >>= 1) {
      if (!(flags & 1)) {
        if (*o == out_n || *o - start >= 4096)
          return LT_ECORRUPT;
        out[(*o)++] = p[i++];
        continue;
      }
      if (n - i < 2 || *o == start)
        return LT_ECORRUPT;
      uint16_t tok = rd16(p + i);
      i += 2;
      unsigned len_mask = 0xFFF, shift = 12;
      for (size_t pos = *o - start - 1; pos >= 0x10; pos >>= 1)
        len_mask >>= 1, shift--;
      size_t len = (tok & len_mask) + 3u, off = (size_t)(tok >> shift) + 1u;
      if (*o - start + len > 4096 || copy_match(out, o, out_n, start, off, len))
        return LT_ECORRUPT;
    }
  }
  return 0;
}

/* LZNT1 (MS-XCA): a run of chunks of at most 4096 output bytes, each behind
 * a 16-bit header (bit 15: compressed; low 12 bits: its size minus 1), a
 * stored chunk copied as it is; a zero header ends the stream. in[0..n) must
 * expand to exactly out_n bytes, else LT_ECORRUPT; every read and write is
 * bounds checked. See etl.h. */
int lt__lznt1_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_n) {
  size_t i = 0, o = 0;
  while (o < out_n && n - i >= 2) {
    uint16_t h = rd16(in + i);
    if (h == 0)
      break; /* end of the stream */
    size_t len = (size_t)(h & 0xFFF) + 1u;
    i += 2;
    if (len > n - i)
      return LT_ECORRUPT;
    if (h & 0x8000) {
      if (lznt1_chunk(in + i, len, out, &o, out_n))
        return LT_ECORRUPT;
    } else {
      if (len > out_n - o)
        return LT_ECORRUPT;
      memcpy(out + o, in + i, len);
      o += len;
    }
    i += len;
  }
  return o == out_n ? 0 : LT_ECORRUPT;
}

/* The long length forms of plain XPRESS (MS-XCA §2.4.4). */
static int xpress_len(const uint8_t *in, size_t n, size_t *i, size_t *half, size_t *len) {
  if (*half == 0) {
    if (*i >= n)
      return -1;
    *len = in[*i] & 15u;
    *half = ++*i;
  } else {
    *len = in[*half - 1] >> 4;
    *half = 0;
  }
  if (*len == 15) {
    if (*i >= n)
      return -1;
    *len = in[(*i)++];
    if (*len == 255) {
      if (n - *i < 2)
        return -1;
      *len = rd16(in + *i);
      *i += 2;
      if (*len == 0) {
        if (n - *i < 4)
          return -1;
        *len = rd32(in + *i);
        *i += 4;
      }
      if (*len < 15 + 7)
        return -1;
      *len -= 15 + 7;
    }
    *len += 15;
  }
  *len += 7;
  return 0;
}

/* Plain LZ77 XPRESS (MS-XCA): 32-bit flag words, one bit per literal byte or
 * 16-bit match (13-bit offset, 3-bit length with the nibble, byte, 16- and
 * 32-bit long forms of xpress_len). Must fill exactly out_n bytes;
 * LT_ECORRUPT when the input runs out or a match reaches before the output's
 * start or past its end. See etl.h. */
int lt__xpress_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_n) {
  size_t i = 0, o = 0, half = 0;
  uint32_t flags = 0;
  int nflags = 0;
  while (o < out_n) {
    if (nflags == 0) {
      if (n - i < 4)
        return LT_ECORRUPT;
      flags = rd32(in + i);
      i += 4;
      nflags = 32;
    }
    nflags--;
    if (!(flags & (1u << nflags))) {
      if (i >= n)
        return LT_ECORRUPT;
      out[o++] = in[i++];
      continue;
    }
    if (n - i < 2)
      return LT_ECORRUPT;
    uint16_t m = rd16(in + i);
    i += 2;
    size_t len = m & 7u, off = (size_t)(m >> 3) + 1u;
    if (len == 7 && xpress_len(in, n, &i, &half, &len))
      return LT_ECORRUPT;
    if (copy_match(out, &o, out_n, 0, off, len + 3))
      return LT_ECORRUPT;
  }
  return 0;
}

#define HUFF_BLOCK 65536u

/* LZ77+Huffman (MS-XCA) through wimlib's XPRESS decompressor, which is this
 * format: one block of at most 65536 output bytes (one Huffman table) per
 * call. A larger out_n, an empty input for a non-empty output or any wimlib
 * failure is LT_ECORRUPT; LT_ENOMEM when wimlib cannot make its
 * decompressor. Built without wimlib (LT_WIMLIB=OFF, a static build) it is
 * always LT_EFORMAT, which the container reports with that reason. See
 * etl.h. */
int lt__xpress_huff_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_n) {
#ifndef LT_HAVE_WIMLIB
  (void)in, (void)n, (void)out, (void)out_n;
  return LT_EFORMAT; /* built without wimlib (LT_WIMLIB=OFF: a static build) */
#else
  struct wimlib_decompressor *d = NULL;
  if (out_n == 0)
    return n == 0 ? 0 : LT_ECORRUPT;
  if (out_n > HUFF_BLOCK || n == 0)
    return LT_ECORRUPT;
  if (wimlib_create_decompressor(WIMLIB_COMPRESSION_TYPE_XPRESS, HUFF_BLOCK, &d))
    return LT_ENOMEM;
  int rc = wimlib_decompress(in, n, out, out_n, d) ? LT_ECORRUPT : 0;
  wimlib_free_decompressor(d);
  return rc;
#endif
}

/* Dispatches on the MS-XCA format code of the log-file mode (LT__XCA_LZNT1,
 * _XPRESS, _XPRESS_HUFF) to its decompressor, with the same contract;
 * LT_EFORMAT for any other code, LT__XCA_NONE included (an uncompressed
 * buffer needs no call). See etl.h. */
int lt__xca_decompress(int format, const uint8_t *in, size_t n, uint8_t *out, size_t out_n) {
  switch (format) {
  case LT__XCA_LZNT1:
    return lt__lznt1_decompress(in, n, out, out_n);
  case LT__XCA_XPRESS:
    return lt__xpress_decompress(in, n, out, out_n);
  case LT__XCA_XPRESS_HUFF:
    return lt__xpress_huff_decompress(in, n, out, out_n);
  }
  return LT_EFORMAT;
}

/* The display name of an MS-XCA format code ("none", "LZNT1", "XPRESS",
 * "XPRESS Huffman", "unknown" for any other), a static string; `lifetrace
 * info` prints it. */
const char *lt__xca_name(int format) {
  switch (format) {
  case LT__XCA_NONE:
    return "none";
  case LT__XCA_LZNT1:
    return "LZNT1";
  case LT__XCA_XPRESS:
    return "XPRESS";
  case LT__XCA_XPRESS_HUFF:
    return "XPRESS Huffman";
  }
  return "unknown";
}
