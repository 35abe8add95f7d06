/* lifetrace — internals shared by the trace I/O modules (trace_io.c,
 * trace_jsonl.c, trace_names.c) and the encode/dump/info commands. Private to
 * replay/; the public interface is lifetrace/trace.h.
 */
#ifndef LT_TRACE_IO_H
#define LT_TRACE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lifetrace/trace.h"

/* lt_diag.record value for an error that is not at any position (cannot open
 * the file): lt_diag_format then prints "FILE: MSG". */
#define LT__DIAG_NOPOS INT64_MIN

/* Longest JSONL line, in bytes without its line end ("\n" or "\r\n"): a
 * reader refuses a longer one, a writer refuses to write one (LT_ETOOBIG).
 * 16 MiB, as docs/trace-format.md says; a line is one header or event. */
#define LT__JSONL_MAX_LINE (16u * 1024u * 1024u)

/* Fills *d (file, position, message). file NULL keeps d->file. */
void lt__diag_set(lt_diag *d, const char *file, uint64_t offset, uint64_t line, int64_t record,
                  const char *fmt, ...) LT_PRINTF(6, 7);

/* Names of the small enums, as in JSONL; NULL for a value without a name.
 * The _from_name functions return the value or -1. */
int lt__ends_from_name(const char *s);
int lt__segkind_from_name(const char *s);
const char *lt__site_name(int v);
int lt__site_from_name(const char *s);



/* Appends one event as a JSONL line (no newline) to s. index >= 0 adds the
 * "i" key (dump --index). A line longer than LT__JSONL_MAX_LINE sets
 * s->err to LT_ETOOBIG (the header's too). */
void lt__jsonl_event(lt__buf *s, const lt_event *ev, int64_t index);
void lt__jsonl_header(lt__buf *s, const lt_header *h);

/* Decodes one Event as protobuf_c_message_unpack would, only faster, from
 * the shapes the writers produce; NULL (nothing kept from a) when the input
 * is anything else, and then protobuf_c_message_unpack must decide. */
lt_event *lt__event_decode(const uint8_t *data, size_t len, ProtobufCAllocator *a);


#endif
