/* Text helpers for the ETW importers: line splitting and a CSV field
 * splitter, and number/time parsing tolerant of what tracerpt and xperf print
 * (0x-hex, booleans, blanks around values). The containers they use are the
 * base kit's (lt__u64tab, lt__buf). */
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

/* ---- text ----------------------------------------------------------------- */

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trims ASCII blanks from both ends of a counted string, in place; see
 * import_internal.h. */
void lt__trim(const char **s, size_t *n) {
  const char *p = *s;
  size_t len = *n;
  while (len && blank(*p))
    p++, len--;
  while (len && blank(p[len - 1]))
    len--;
  *s = p;
  *n = len;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

/* Whether the counted string s equals C string z, ASCII case-insensitively. */
int lt__eq_ci(const char *s, size_t n, const char *z) {
  size_t i = 0;
  for (; i < n; i++)
    if (z[i] == '\0' || lower(s[i]) != lower(z[i]))
      return 0;
  return z[i] == '\0';
}

/* Parses a field as an unsigned number (decimal, 0x-hex of at most 16
 * digits, true/false), blanks trimmed; 0, or -1 when it is not one or
 * overflows. */
int lt__parse_u64(const char *s, size_t n, uint64_t *out) {
  lt__trim(&s, &n);
  if (n == 0)
    return -1;
  if (lt__eq_ci(s, n, "true")) {
    *out = 1;
    return 0;
  }
  if (lt__eq_ci(s, n, "false")) {
    *out = 0;
    return 0;
  }
  uint64_t v = 0;
  if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    if (n - 2 > 16)
      return -1;
    for (size_t i = 2; i < n; i++) {
      char c = lower(s[i]);
      unsigned d;
      if (c >= '0' && c <= '9')
        d = (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = (unsigned)(c - 'a' + 10);
      else
        return -1;
      v = v << 4 | d;
    }
    *out = v;
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static int digits(const char *s, size_t n, size_t at, size_t count, unsigned *out) {
  unsigned v = 0;
  if (at + count > n)
    return -1;
  for (size_t i = at; i < at + count; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *out = v;
  return 0;
}

/* Days from 1601-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_since_1601(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t unix_days = era * 146097 + doe - 719468;
  return unix_days + 134774; /* 1601-01-01 .. 1970-01-01 */
}

/* "2018-11-12T16:12:12.586128800+02:59": the offset is ignored on purpose —
 * tracerpt prints local offsets that are not even whole hours, and only
 * differences between records of one file matter. */
int lt__parse_iso_time(const char *s, size_t n, uint64_t *ns) {
  unsigned y, mo, d, h, mi, sec;
  lt__trim(&s, &n);
  if (digits(s, n, 0, 4, &y) || n < 19 || s[4] != '-' || digits(s, n, 5, 2, &mo) ||
      s[7] != '-' || digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
      digits(s, n, 11, 2, &h) || s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' ||
      digits(s, n, 17, 2, &sec))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1601)
    return -1;
  uint64_t frac = 0;
  size_t i = 19;
  if (i < n && s[i] == '.') {
    unsigned nd = 0;
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
      if (nd < 9)
        frac = frac * 10 + (uint64_t)(s[i] - '0');
    for (; nd < 9; nd++)
      frac *= 10;
  }
  if (i < n && s[i] != 'Z' && s[i] != '+' && s[i] != '-')
    return -1;
  uint64_t days = (uint64_t)days_since_1601(y, mo, d);
  *ns = ((days * 86400 + h * 3600u + mi * 60u + sec) * 1000000000ull) + frac;
  return 0;
}

/* ---- lines ---------------------------------------------------------------- */

static int emit_line(struct lt__lines *l, const char *s, size_t n, lt__line_cb cb, void *st,
                     lt_diag *diag) {
  uint64_t line = ++l->line, off = l->offset;
  l->offset += n + 1;
  if (n && s[n - 1] == '\r')
    n--;
  return cb(st, s, n, line, off, diag);
}

/* Splits bytes into lines for a text reader, calling cb for each complete
 * one with its line number and offset; a partial line is kept for the next
 * call. A line longer than LT__MAX_LINE is LT_ECORRUPT, so memory stays
 * bounded. */
int lt__lines_feed(struct lt__lines *l, const char *buf, size_t len, lt__line_cb cb, void *st,
                   lt_diag *diag) {
  while (len) {
    const char *nl = memchr(buf, '\n', len);
    if (!nl) {
      if (l->part.n + len > LT__MAX_LINE) {
        snprintf(diag->msg, sizeof diag->msg, "line longer than %u bytes", LT__MAX_LINE);
        diag->line = l->line + 1;
        diag->record = -1;
        diag->offset = l->offset;
        return LT_ECORRUPT;
      }
      return lt__buf_append(&l->part, buf, len);
    }
    size_t n = (size_t)(nl - buf);
    int rc;
    if (l->part.n) {
      if ((rc = lt__buf_append(&l->part, buf, n)))
        return rc;
      rc = emit_line(l, l->part.s, l->part.n, cb, st, diag);
      l->part.n = 0;
    } else {
      rc = emit_line(l, buf, n, cb, st, diag);
    }
    if (rc)
      return rc;
    buf += n + 1;
    len -= n + 1;
  }
  return 0;
}

/* Passes the last line, if the input did not end with a newline, to cb. */
int lt__lines_finish(struct lt__lines *l, lt__line_cb cb, void *st, lt_diag *diag) {
  if (l->part.n == 0)
    return 0;
  int rc = emit_line(l, l->part.s, l->part.n, cb, st, diag);
  l->part.n = 0;
  return rc;
}

/* Frees the line splitter's partial-line buffer. */
void lt__lines_free(struct lt__lines *l) { lt__buf_reset(&l->part); }

/* ---- CSV fields ------------------------------------------------------------ */

static int push_field(struct lt__fields *f, const char *p, size_t n) {
  if (f->n == f->cap) {
    size_t ncap = f->cap ? f->cap * 2 : 32;
    const char **v = lt_realloc(f->v, ncap * sizeof *v);
    if (!v)
      return LT_ENOMEM;
    f->v = v;
    size_t *len = lt_realloc(f->len, ncap * sizeof *len);
    if (!len)
      return LT_ENOMEM;
    f->len = len;
    f->cap = ncap;
  }
  lt__trim(&p, &n);
  f->v[f->n] = p;
  f->len[f->n] = n;
  f->n++;
  return 0;
}

/* A quoted field is unquoted into f->unq; since that buffer may move while
 * the line is split, such fields hold an offset (tagged by a NULL base plus
 * the index in qidx) and are fixed up at the end. A quoted field must end
 * with its quote on the same line: otherwise LT_ECORRUPT, and f->n is the
 * 0-based index of that field (its value is not read). */
int lt__split_csv(struct lt__fields *f, const char *s, size_t n) {
  f->n = 0;
  f->unq.n = 0;
  size_t i = 0;
  int rc, open = 0;
  enum { MAXQ = 64 };
  size_t qidx[MAXQ], qoff[MAXQ], nq = 0;
  for (;;) {
    size_t start = i;
    while (start < n && (s[start] == ' ' || s[start] == '\t'))
      start++;
    if (start < n && s[start] == '"' && nq < MAXQ) {
      size_t off = f->unq.n;
      size_t j = start + 1;
      for (; j < n; j++) {
        if (s[j] == '"') {
          if (j + 1 < n && s[j + 1] == '"') {
            if ((rc = lt__buf_append(&f->unq, "\"", 1)))
              return rc;
            j++;
            continue;
          }
          break;
        }
        if ((rc = lt__buf_append(&f->unq, s + j, 1)))
          return rc;
      }
      if (j >= n) { /* no closing quote: f->n is the field's index */
        open = 1;
        break;
      }
      size_t flen = f->unq.n - off;
      if ((rc = lt__buf_append(&f->unq, "", 0)))
        return rc;
      qidx[nq] = f->n;
      qoff[nq++] = off;
      if ((rc = push_field(f, "", 0)))
        return rc;
      f->len[f->n - 1] = flen;
      /* Skip to the next comma after the closing quote. */
      i = j < n ? j + 1 : n;
      const char *c = memchr(s + i, ',', n - i);
      if (!c)
        break;
      i = (size_t)(c - s) + 1;
      continue;
    }
    const char *c = memchr(s + i, ',', n - i);
    size_t end = c ? (size_t)(c - s) : n;
    if ((rc = push_field(f, s + i, end - i)))
      return rc;
    if (!c)
      break;
    i = end + 1;
  }
  for (size_t k = 0; k < nq; k++) {
    const char *p = f->unq.s + qoff[k];
    size_t len = f->len[qidx[k]];
    lt__trim(&p, &len);
    f->v[qidx[k]] = p;
    f->len[qidx[k]] = len;
  }
  return open ? LT_ECORRUPT : 0; /* the fields before an open quote are usable */
}

/* Frees a CSV field splitter's arrays and leaves it empty. */
void lt__fields_free(struct lt__fields *f) {
  lt_free(f->v);
  lt_free(f->len);
  lt__buf_reset(&f->unq);
  memset(f, 0, sizeof *f);
}
