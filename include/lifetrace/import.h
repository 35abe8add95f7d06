/* lifetrace — importing DxgKrnl captures exported as text.
 *
 * Three exports are read: `tracerpt x.etl -of XML`, `tracerpt x.etl -of CSV`
 * and `xperf -i x.etl -a dumper`. The importer is push-based: feed it the
 * file in chunks of any size (lt_import_feed), then lt_import_finish. It
 * decodes each record, joins the Microsoft-Windows-DxgKrnl events on their
 * handles (global allocation, device allocation, resource, device, context,
 * packet sequence) and hands every trace event it makes to a sink callback,
 * in order, each with its origin {record, line} in the export. Memory is
 * bounded by the live objects of the capture, never by the file's length.
 *
 * The trace header is known only at the end (process names and segments are
 * gathered along the way): lt_import_header after lt_import_finish.
 */
#ifndef LIFETRACE_IMPORT_H
#define LIFETRACE_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "lifetrace/error.h"
#include "lifetrace/trace.h"

enum lt_import_format {
  LT_IMPORT_AUTO = 0, /* detect from the content */
  LT_IMPORT_XML,      /* tracerpt -of XML */
  LT_IMPORT_CSV,      /* tracerpt -of CSV */
  LT_IMPORT_DUMPER,   /* xperf -a dumper */
  LT_IMPORT_ETL,      /* the binary .etl capture itself */
};

/* "xml", "csv", "dumper", "etl" ("auto" for LT_IMPORT_AUTO). */
const char *lt_import_format_name(int format);
/* Parses a format name (the above, plus "tracerpt-xml", "tracerpt-csv",
 * "xperf"); returns the format or -1. */
int lt_import_format_from_name(const char *name);
/* Guesses the format from the first bytes of a file. Returns LT_IMPORT_AUTO
 * when len bytes are not enough to tell (or the content is none of them). */
int lt_import_detect(const void *buf, size_t len);

/* Receives each event made by the import, in trace order. The event and
 * everything it points to belong to the importer and are valid only during
 * the call. A non-zero return aborts the import with that error. */
typedef int (*lt_import_sink)(void *data, const lt_event *ev);

/* Called for each record skipped under keep_going, with the reason. */
typedef void (*lt_import_warn)(void *data, const lt_diag *d);

typedef struct lt_import_opts {
  int format;          /* enum lt_import_format; AUTO = detect */
  int keep_going;      /* skip and count malformed records instead of failing */
  const char *name;    /* file name for diagnostics and the header's source */
  lt_import_sink sink; /* may be NULL: decode and count only */
  void *sink_data;
  lt_import_warn warn; /* may be NULL */
  void *warn_data;
} lt_import_opts;

/* Counters by record class. A DxgKrnl record is "imported" when it was
 * decoded and applied to the joins (whether or not it produced a trace event),
 * "skipped" when it is an event the importer does not use or has an unknown
 * version, and "malformed" when it was rejected under keep_going. */
typedef struct lt_import_stats {
  uint64_t bytes;     /* bytes fed so far */
  uint64_t records;   /* records (events) seen in the export */
  uint64_t imported;  /* DxgKrnl records applied */
  uint64_t skipped;   /* DxgKrnl records not imported + other providers */
  uint64_t malformed; /* records rejected (keep_going) */
  uint64_t events;    /* trace events produced */
  uint64_t absorbed;  /* Stop records of objects a teardown already destroyed */
  uint64_t duplicate_rundown; /* DC_Start records of objects already live */
  /* .etl only */
  uint64_t bad_buffers;  /* corrupt buffers skipped (keep_going) */
  uint64_t events_lost;  /* the log-file header's EventsLost */
  uint64_t buffers_lost; /* the log-file header's BuffersLost */
  uint64_t lost_flagged; /* buffers flagged EVENTS_LOST / BUFFER_LOST */
  uint64_t schemas;         /* event layouts the capture carried (TRACE_EVENT_INFO) */
  uint64_t schema_mismatch; /* of those, how many disagree with the built-in ones */
} lt_import_stats;

typedef struct lt_import lt_import;

/* Creates an importer. opts is copied (name is copied too). Free with
 * lt_import_free. */
LT_MUST_CHECK int lt_import_new(lt_import **out, const lt_import_opts *opts);
/* Feeds the next len bytes of the export. Returns 0, LT_EFORMAT when the
 * format cannot be detected, LT_ECORRUPT for malformed input (diag names the
 * file, line and record), or the sink's error. After an error the importer
 * only accepts lt_import_free. */
LT_MUST_CHECK int lt_import_feed(lt_import *imp, const void *buf, size_t len, lt_diag *diag);
/* Ends the input: flushes a last line, checks the document is complete,
 * emits the creates still held back by the joins. */
LT_MUST_CHECK int lt_import_finish(lt_import *imp, lt_diag *diag);
/* The trace header (ends = window, source, processes seen as owners,
 * segments); valid after lt_import_finish until lt_import_free. */
const lt_header *lt_import_header(const lt_import *imp);
/* The format in use (detected or forced); AUTO until detected. */
int lt_import_format(const lt_import *imp);
const lt_import_stats *lt_import_stats_get(const lt_import *imp);
/* Writes the per-provider/per-event summary as text lines, or as one JSON
 * object (no trailing newline). */
void lt_import_summary_write(FILE *out, const lt_import *imp);
void lt_import_summary_json(FILE *out, const lt_import *imp);
void lt_import_free(lt_import *imp);

/* One-shot import of a memory buffer (detect, feed, finish, free): the entry
 * point fuzz targets call, one per format via opts->format. The sink sees
 * the events; the header is dropped. */
LT_MUST_CHECK int lt_import_buffer(const void *data, size_t len, const lt_import_opts *opts,
                                   lt_diag *diag);

/* ---- what an .etl holds (`lifetrace info capture.etl`) ------------------- */

/* Records of one provider and event. */
typedef struct lt_etl_count {
  char provider[64]; /* a known name, else the GUID, or the kernel header kind */
  int manifest;      /* 1: EVENT_HEADER (id/version), 0: classic (type/version) or kernel */
  unsigned id, version;
  uint64_t count;
} lt_etl_count;

typedef struct lt_etl_info {
  uint32_t os_build, ncpu, pointer_size, buffer_size, clock_type;
  const char *compression;        /* "none", "LZNT1", "XPRESS", "XPRESS Huffman" */
  int64_t start_time;             /* FILETIME of the trace start */
  uint64_t span_ns;               /* first to last record */
  uint64_t buffers, compressed_buffers, records, bad_buffers, lost_flagged;
  uint64_t events_lost, buffers_lost;
  uint64_t dxgkrnl;               /* DxgKrnl records */
  size_t n;
  lt_etl_count *counts;           /* by provider, then id, then version */
} lt_etl_info;

/* Reads the .etl at f (name for diagnostics) to its end and counts its
 * records. LT_ECORRUPT with diag naming the buffer and offset for a corrupt
 * file (keep_going: bad buffers are skipped and counted). The caller owns
 * *out and frees it with lt_etl_info_free. */
LT_MUST_CHECK int lt_etl_info_read(FILE *f, const char *name, int keep_going, lt_etl_info **out,
                                   lt_diag *diag);
/* Writes the info as text lines, or as one JSON object (json != 0). */
void lt_etl_info_write(FILE *out, const lt_etl_info *info, int json);
void lt_etl_info_free(lt_etl_info *info);
/* Whether the first bytes of a file are an .etl capture's. */
int lt_import_is_etl(const void *buf, size_t len);

#endif
