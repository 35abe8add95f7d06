/* A growable string buffer and the escapers the report writers share.
 * Allocation failure is sticky (oom) so writers check once at the end. */
#ifndef LT_REPORTS_BUF_H
#define LT_REPORTS_BUF_H

#include <stddef.h>
#include <stdio.h>

#include "lifetrace/error.h"

typedef struct lt__buf {
  char *s; /* NUL-terminated when non-NULL; owned, freed with lt__buf_reset */
  size_t n, cap;
  int oom;
} lt__buf;

void lt__buf_put(lt__buf *b, const char *p, size_t n);
void lt__buf_puts(lt__buf *b, const char *p);
void lt__buf_printf(lt__buf *b, const char *fmt, ...) LT_PRINTF(2, 3);
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
