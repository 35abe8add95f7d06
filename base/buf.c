/* The base kit's growable buffer and the markup escapers (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

/* Makes room for need more bytes and the NUL, doubling; see buf.h. */
int lt__buf_reserve(lt__buf *b, size_t need) {
  if (b->err)
    return b->err;
  if (need < b->cap - b->n && b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->n <= need) {
    if (cap > SIZE_MAX / 2)
      return b->err = LT_ENOMEM;
    cap *= 2;
  }
  char *s = lt_realloc(b->s, cap);
  if (s == NULL)
    return b->err = LT_ENOMEM;
  b->s = s;
  b->cap = cap;
  return 0;
}

/* Appends n bytes; dropped once an allocation failed. */
void lt__buf_put(lt__buf *b, const void *p, size_t n) {
  if (lt__buf_reserve(b, n))
    return;
  memcpy(b->s + b->n, p, n);
  b->n += n;
  b->s[b->n] = 0;
}

/* Appends n bytes and says whether the buffer is still good. */
int lt__buf_append(lt__buf *b, const void *p, size_t n) {
  lt__buf_put(b, p, n);
  return b->err;
}

/* Appends a NUL-terminated string. */
void lt__buf_puts(lt__buf *b, const char *p) { lt__buf_put(b, p, strlen(p)); }

/* Appends printf-formatted text. */
void lt__buf_printf(lt__buf *b, const char *fmt, ...) {
  va_list ap;
  char small[256];
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    lt__buf_put(b, small, (size_t)n);
    return;
  }
  if (lt__buf_reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)n;
}

/* Frees the bytes; b is empty and reusable. */
void lt__buf_reset(lt__buf *b) {
  lt_free(b->s);
  b->s = NULL;
  b->n = b->cap = 0;
  b->err = 0;
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is invalid. */
static size_t utf8_len(const unsigned char *p) {
  uint32_t c;
  size_t n;
  if (p[0] < 0x80)
    return 1;
  if ((p[0] & 0xe0) == 0xc0)
    n = 2, c = p[0] & 0x1f;
  else if ((p[0] & 0xf0) == 0xe0)
    n = 3, c = p[0] & 0x0f;
  else if ((p[0] & 0xf8) == 0xf0)
    n = 4, c = p[0] & 0x07;
  else
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (p[i] & 0x3f);
  }
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
      (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
    return 0;
  return n;
}

static void escape(FILE *out, const char *s, int html) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    size_t n = utf8_len(p);
    if (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) {
      fputs("\xef\xbf\xbd", out);
      p += n ? n : 1;
      continue;
    }
    switch (*p) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs(html ? "&#39;" : "&apos;", out); break;
    default: fwrite(p, 1, n, out);
    }
    p += n;
  }
}

/* Writes s HTML-escaped to out, for the HTML report; see buf.h. */
void lt__html_escape(FILE *out, const char *s) { escape(out, s, 1); }

/* Writes s XML-escaped to out, for the JUnit report (' becomes
 * &apos;, where HTML gets &#39;); see buf.h. */
void lt__xml_escape(FILE *out, const char *s) { escape(out, s, 0); }

/* Whether s ends with suffix. */
int lt__ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* Length of the valid UTF-8 sequence of 2..4 bytes at p (NUL-terminated),
 * or 0 if p does not start one. */
size_t lt__utf8_len(const unsigned char *p) {
  unsigned c = p[0];

  if (c >= 0xc2 && c <= 0xdf)
    return (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
      return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
      return 0; /* overlong, surrogate */
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
      return 0;
    if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
      return 0; /* overlong, above U+10FFFF */
    return 4;
  }
  return 0;
}
