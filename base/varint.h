/* lifetrace base kit — the protobuf varint (base-128, little-endian groups of
 * seven bits), the one codec every reader and writer of lifetrace uses: the
 * binary trace container, the fast event decoder, the mutator's size
 * arithmetic, the seed dictionary builder and the import spool. */
#ifndef LT_VARINT_H
#define LT_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define LT__VARINT_MAX 10 /* bytes of the longest 64-bit varint */

/* lt__varint_get results besides a length of 1..10. */
enum {
  LT__VARINT_SHORT = 0,     /* cut short: the buffer ends inside it */
  LT__VARINT_TOO_LONG = -1, /* no end within 10 bytes */
  LT__VARINT_OVERFLOW = -2, /* the 10th byte carries bits past 64 */
};

/* Bytes the varint of v takes. */
static inline size_t lt__varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Writes v at p (room for LT__VARINT_MAX bytes); returns the bytes written. */
static inline size_t lt__varint_put(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Decodes the varint at p, of which avail bytes are readable. Returns its
 * length (1..10) with the value in *v, or LT__VARINT_SHORT / _TOO_LONG (*v
 * untouched) or LT__VARINT_OVERFLOW (10 bytes; *v holds the low 64 bits, which
 * is what protobuf-c keeps). */
static inline int lt__varint_get(const uint8_t *p, size_t avail, uint64_t *v) {
  uint64_t x = 0;
  size_t lim = avail < LT__VARINT_MAX ? avail : LT__VARINT_MAX;

  for (size_t i = 0; i < lim; i++) {
    x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (p[i] < 0x80) {
      *v = x;
      return i == LT__VARINT_MAX - 1 && p[i] > 1 ? LT__VARINT_OVERFLOW : (int)i + 1;
    }
  }
  return avail < LT__VARINT_MAX ? LT__VARINT_SHORT : LT__VARINT_TOO_LONG;
}

/* The byte after the varint at p (before end), without decoding it; NULL
 * when it is cut short or longer than 10 bytes. */
static inline const uint8_t *lt__varint_skip(const uint8_t *p, const uint8_t *end) {
  for (int i = 0; i < LT__VARINT_MAX && p + i < end; i++)
    if (!(p[i] & 0x80))
      return p + i + 1;
  return NULL;
}

/* The decoder's entry: decodes the varint at p (before end) and returns the
 * byte after it, keeping the low 64 bits of an over-wide one as protobuf-c
 * does; NULL when it is cut short or longer than 10 bytes. */
static inline const uint8_t *lt__varint_next(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  uint64_t x = 0;

  if (end - p >= LT__VARINT_MAX) { /* the hot path: no bounds checks, unrolled */
    uint64_t b;
#define LT__VARINT_STEP(i)                                                                         \
  b = p[i];                                                                                        \
  x |= (b & 0x7f) << (7 * (i));                                                                    \
  if (b < 0x80) {                                                                                  \
    *v = x;                                                                                        \
    return p + (i) + 1;                                                                            \
  }
    LT__VARINT_STEP(0) LT__VARINT_STEP(1) LT__VARINT_STEP(2) LT__VARINT_STEP(3)
    LT__VARINT_STEP(4) LT__VARINT_STEP(5) LT__VARINT_STEP(6) LT__VARINT_STEP(7)
    LT__VARINT_STEP(8) LT__VARINT_STEP(9)
#undef LT__VARINT_STEP
    return NULL;
  }
  for (int i = 0; i < LT__VARINT_MAX && p + i < end; i++) {
    x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *v = x;
      return p + i + 1;
    }
  }
  return NULL;
}

#endif
