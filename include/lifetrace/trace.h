/* lifetrace — the trace model and its I/O.
 *
 * Events are the protobuf-c structures generated from schemas/trace.proto
 * (Lifetrace__Event etc., typedef'd here), so the readers, the replay engine,
 * the mutator and the importers share one representation.
 *
 * Forms: binary (.ltrace: "LTRC", varint version, length-delimited
 * TraceHeader then Events), zstd-compressed binary (.ltrace.zst), JSONL
 * (line 1 header, one event per line), and the one-message fuzz form (Trace).
 */
#ifndef LIFETRACE_TRACE_H
#define LIFETRACE_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "lifetrace/error.h"
#include "trace.pb-c.h"

typedef Lifetrace__Event lt_event;
typedef Lifetrace__TraceHeader lt_header;
typedef Lifetrace__AllocInfo lt_allocinfo;
typedef Lifetrace__Ref lt_ref;
typedef Lifetrace__Trace lt_trace;

#define LT_TRACE_MAGIC "LTRC"
#define LT_TRACE_FORMAT_VERSION 1u
/* Largest single message a reader accepts (header or event). */
#define LT_TRACE_MAX_MESSAGE (16u * 1024u * 1024u)
/* Largest fuzz-form input accepted. */
#define LT_TRACE_MAX_FUZZ_INPUT (1u * 1024u * 1024u)

/* Op names as in JSONL ("alloc_destroy"); NULL for an unknown op. */
const char *lt_op_name(int op);
/* Parses a JSONL op name; returns the op or -1. */
int lt_op_from_name(const char *name);
/* DXGK_ALLOCATIONINFOFLAGS bit names used in JSONL ("cpu_visible"). */
const char *lt_allocflag_name(unsigned bit);
int lt_allocflag_from_name(const char *name); /* bit index or -1 */

/* Where a read error happened. Filled by readers on failure. */
typedef struct lt_diag {
  char file[512];
  uint64_t offset; /* byte offset in the (decompressed) stream, binary forms */
  uint64_t line;   /* 1-based line, JSONL (0 = not applicable) */
  int64_t record;  /* 0-based event index (-1 = the header) */
  char msg[512];
} lt_diag;

/* Formats a diag as "FILE: byte OFFSET|line L: record R: MSG" into buf. */
void lt_diag_format(const lt_diag *d, char *buf, size_t len);

enum lt_format {
  LT_FORMAT_AUTO = 0, /* readers: detect from content; writers: from the name */
  LT_FORMAT_BINARY,
  LT_FORMAT_BINARY_ZSTD,
  LT_FORMAT_JSONL,
  LT_FORMAT_FUZZ, /* one Trace message */
};

typedef struct lt_reader lt_reader;

/* Opens a trace in any form ("-" = stdin), detecting it from the content, and
 * reads its header. On failure returns LT_ECORRUPT/LT_EFORMAT/LT_EIO/... and
 * fills *diag. The caller frees the reader with lt_reader_free. strict: reject
 * unknown JSONL keys. */
LT_MUST_CHECK int lt_reader_open(lt_reader **out, const char *path, int strict, lt_diag *diag);
/* The header; owned by the reader. */
const lt_header *lt_reader_header(const lt_reader *r);
/* The detected form (enum lt_format). */
int lt_reader_format(const lt_reader *r);
/* Reads the next event. Returns 0 and sets *ev (owned by the reader, valid
 * until the next call), LT_EEOF at the clean end, or an error with *diag
 * filled. Memory stays constant however long the trace is. */
LT_MUST_CHECK int lt_reader_next(lt_reader *r, const lt_event **ev, lt_diag *diag);
/* Index of the event last returned (0-based). */
uint64_t lt_reader_index(const lt_reader *r);
/* Bytes consumed so far and total size if known (0 = unknown), for progress. */
uint64_t lt_reader_bytes(const lt_reader *r);
uint64_t lt_reader_size(const lt_reader *r);
void lt_reader_free(lt_reader *r);

typedef struct lt_writer lt_writer;

/* Creates a writer ("-" = stdout). LT_FORMAT_AUTO picks from the name:
 * *.jsonl JSONL, *.ltrace.zst / *.zst zstd, else binary. The header is
 * written at once. Free with lt_writer_close, which flushes. */
LT_MUST_CHECK int lt_writer_open(lt_writer **out, const char *path, int format,
                                 const lt_header *h);
LT_MUST_CHECK int lt_writer_put(lt_writer *w, const lt_event *ev);
/* The same; a JSONL writer also gives the line the event's index in its
 * source trace as key "i" when index >= 0 (dump --index). */
LT_MUST_CHECK int lt_writer_put_indexed(lt_writer *w, const lt_event *ev, int64_t index);
/* Whether a reader decompresses (zstd) what it reads. */
int lt_reader_compressed(const lt_reader *r);
/* Names, as in JSONL and `info`: of a detected form (enum lt_format: "binary",
 * "binary+zstd", "jsonl", "fuzz"), of a header's ends and of a segment kind;
 * NULL for a value without a name (lt_format_name says "unknown"). */
const char *lt_format_name(int format);
const char *lt_ends_name(int ends);
const char *lt_segkind_name(int kind);
/* Flushes and frees; returns the first error seen while writing. */
LT_MUST_CHECK int lt_writer_close(lt_writer *w);

/* JSONL codec. Formats one header/event as a single JSON line (no newline)
 * into a growable buffer the caller frees with lt_free. */
LT_MUST_CHECK int lt_jsonl_format_header(const lt_header *h, char **buf, size_t *len);
LT_MUST_CHECK int lt_jsonl_format_event(const lt_event *ev, char **buf, size_t *len);
/* Parses one line. The result is freed with lt_event_free / lt_header_free.
 * On error fills err (column and key where known). */
LT_MUST_CHECK int lt_jsonl_parse_header(const char *line, size_t len, int strict,
                                        lt_header **out, char *err, size_t errlen);
LT_MUST_CHECK int lt_jsonl_parse_event(const char *line, size_t len, int strict,
                                       lt_event **out, char *err, size_t errlen);
void lt_event_free(lt_event *ev);
/* Deep copies (NULL when out of memory); free with lt_event_free /
 * lt_header_free. */
lt_event *lt_event_copy(const lt_event *ev);
lt_header *lt_header_copy(const lt_header *h);
void lt_header_free(lt_header *h);

/* Fuzz form: unpack one Trace message (bounded by LT_TRACE_MAX_FUZZ_INPUT);
 * NULL when it does not decode. Free with lt_trace_free. */
lt_trace *lt_trace_unpack(const uint8_t *data, size_t len);
void lt_trace_free(lt_trace *t);

#endif
