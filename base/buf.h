/* lifetrace base kit — the one growable buffer (JSONL lines, import
 * arenas and line assembly, report pages), and the escapers the report
 * writers share. Always NUL-terminated once anything was put. An allocation
 * failure is sticky (err = LT_ENOMEM): writers check once at the end, and
 * every later put is dropped. */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stddef.h>
#include <stdio.h>

#include "lifetrace/error.h"

typedef struct lt__buf {
  char *s; /* NUL-terminated when non-NULL; owned, freed with lt__buf_reset */
  size_t n, cap;
  int err; /* LT_ENOMEM once an allocation failed (or what a user set), else 0 */
} lt__buf;

/* Makes room for extra more bytes and the NUL; returns b->err. */
int lt__buf_reserve(lt__buf *b, size_t extra);
/* Appends n bytes (dropped once b->err is set). */
void lt__buf_put(lt__buf *b, const void *p, size_t n);
/* Appends n bytes; returns b->err, for callers that stop at the first error. */
LT_MUST_CHECK int lt__buf_append(lt__buf *b, const void *p, size_t n);
void lt__buf_puts(lt__buf *b, const char *p);
void lt__buf_printf(lt__buf *b, const char *fmt, ...) LT_PRINTF(2, 3);
/* Frees the bytes and leaves b empty and reusable (err cleared). */
void lt__buf_reset(lt__buf *b);

/* Length of the valid multi-byte UTF-8 sequence at p (NUL-terminated), or 0. */
size_t lt__utf8_len(const unsigned char *p);

/* Whether s ends with suffix. */
int lt__ends_with(const char *s, const char *suffix);

/* Writes s escaped for HTML text and attribute values (& < > " '). Bytes that
 * are not valid UTF-8 and control characters become U+FFFD, so no string
 * from a trace can open markup or break the page's encoding. */
void lt__html_escape(FILE *out, const char *s);
/* Writes s escaped for XML 1.0 text and attributes; characters XML 1.0
 * forbids even escaped (most C0 controls, invalid UTF-8) become U+FFFD. */
void lt__xml_escape(FILE *out, const char *s);

#endif
