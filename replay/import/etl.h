/* Internals of the native .etl reader (docs/etw-import.md, "The .etl
 * reader"; layout facts in ../shared/reference/etw-dxgkrnl.md §4).
 *
 * Three parts: the decompressors of compressed buffers (etl_decompress.c),
 * the container (etl_container.c: buffers, the log-file header, record
 * kinds, extended data, the per-CPU merge into time order) and the DxgKrnl
 * payload decoder that turns EVENT_HEADER records into lt__rec for the joins
 * and keeps the capture's own schema (etl_dxgkrnl.c).
 */
#ifndef LT_ETL_H
#define LT_ETL_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"
#include "lifetrace/import.h"

/* ---- decompressors (etl_decompress.c) ----------------------------------- */

enum { LT__XCA_NONE = 0, LT__XCA_LZNT1 = 2, LT__XCA_XPRESS = 3, LT__XCA_XPRESS_HUFF = 4 };

/* Each decompresses in[0..n) into exactly out_n bytes of out. Returns 0, or
 * LT_ECORRUPT when the stream is malformed, reads past its input, refers
 * before the start of its output, or yields a size other than out_n. Never
 * reads or writes outside the given ranges. */
LT_MUST_CHECK int lt__lznt1_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_n);
LT_MUST_CHECK int lt__xpress_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t out_n);
/* XPRESS Huffman (MS-XCA "LZ77+Huffman"), through wimlib, whose XPRESS is
 * this format; blocks of at most 65536 output bytes (one Huffman table). */
LT_MUST_CHECK int lt__xpress_huff_decompress(const uint8_t *in, size_t n, uint8_t *out,
                                             size_t out_n);
/* Dispatch on an MS-XCA format code; LT_EFORMAT for an unknown code. */
LT_MUST_CHECK int lt__xca_decompress(int format, const uint8_t *in, size_t n, uint8_t *out,
                                     size_t out_n);
const char *lt__xca_name(int format);

/* ---- the container (etl_container.c) ------------------------------------ */

#define LT__ETL_WMI_HDR 0x48u

enum lt__etl_kind {
  LT__ETL_SYSTEM = 1,  /* SYSTEM_TRACE_HEADER 32/64 (kernel MOF) */
  LT__ETL_COMPACT,     /* compact system header */
  LT__ETL_PERFINFO,    /* PERFINFO_TRACE_HEADER */
  LT__ETL_FULL,        /* EVENT_TRACE_HEADER (classic providers, EventMetadata) */
  LT__ETL_INSTANCE,    /* EVENT_INSTANCE_GUID_HEADER */
  LT__ETL_EVENT,       /* EVENT_HEADER (manifest / TraceLogging) */
  LT__ETL_MESSAGE,     /* MESSAGE_TRACE_HEADER (WPP) */
  LT__ETL_NKINDS
};

/* The log-file header (TRACE_LOGFILE_HEADER and its SYSTEM header). */
struct lt__etl_header {
  uint32_t buffer_size, version, os_build, ncpu, timer_resolution, max_file_size;
  uint32_t log_file_mode, buffers_written, pointer_size, events_lost, cpu_mhz;
  uint32_t clock_type, buffers_lost;
  int64_t end_time, boot_time, perf_freq, start_time; /* FILETIME / Hz */
  int64_t origin_ts;  /* raw timestamp of the header record: the trace's t = 0 */
  int compression;    /* LT__XCA_* (0 = none) */
};

/* One record as the container hands it over, in merged time order. */
struct lt__etl_rec {
  uint64_t index;     /* 0-based among the file's records, in merged order */
  uint64_t buffer;    /* 0-based index of the buffer in the file */
  uint32_t offset;    /* byte offset in the (decompressed) buffer */
  uint32_t cpu;
  int kind;           /* enum lt__etl_kind */
  int64_t ts;         /* raw timestamp */
  uint64_t t_ns;      /* ns since the trace start (0 before it) */
  const uint8_t *p;   /* the whole record */
  size_t size;
  /* EVENT_HEADER and FULL/INSTANCE only (else zero) */
  const uint8_t *guid; /* provider (EVENT) or event class (FULL) GUID, 16 bytes */
  uint32_t pid, tid;
  uint16_t id, task, flags;
  uint8_t version, opcode, level, channel;
  int pointer_size;   /* 4 or 8 */
  const uint8_t *payload;
  size_t payload_len;
};

typedef int (*lt__etl_cb)(void *data, const struct lt__etl_rec *r, lt_diag *diag);

/* Stream statistics of the container. */
struct lt__etl_stats {
  uint64_t buffers, bytes, records, bad_buffers, lost_flagged, compressed;
  uint64_t by_kind[LT__ETL_NKINDS];
  int64_t first_ts, last_ts; /* raw; first_ts > last_ts when no event */
  uint64_t max_cpu;
};

struct lt__etl;
/* A container reader: records go to cb in time order; name is used in
 * diagnostics ("FILE: buffer N, offset X: ..."). keep_going skips a bad
 * buffer (counted in bad_buffers, warn called) instead of failing. */
LT_MUST_CHECK int lt__etl_new(struct lt__etl **out, const char *name, int keep_going,
                              lt__etl_cb cb, void *cb_data, lt_import_warn warn, void *warn_data);
/* Feeds the next len bytes of the file. LT_ECORRUPT with diag naming the
 * buffer index and byte offset (in the file) for a corrupt file. */
LT_MUST_CHECK int lt__etl_feed(struct lt__etl *e, const void *buf, size_t len, lt_diag *diag);
/* End of file: a partial buffer is an error; drains the merge. */
LT_MUST_CHECK int lt__etl_finish(struct lt__etl *e, lt_diag *diag);
/* The log-file header, once the first buffer was read (else NULL). */
const struct lt__etl_header *lt__etl_header_get(const struct lt__etl *e);
const struct lt__etl_stats *lt__etl_stats_get(const struct lt__etl *e);
void lt__etl_free(struct lt__etl *e);
/* ns from h->origin_ts to a raw timestamp ts, by the capture's clock (0
 * before the origin). */
uint64_t lt__etl_ns(const struct lt__etl_header *h, int64_t ts);
/* Whether the first bytes look like an .etl file (a header buffer). */
int lt__etl_detect(const void *buf, size_t len);

/* ---- the reader the importer dispatches to (etl_dxgkrnl.c) ---------------- */

LT_MUST_CHECK int lt__etlrd_new(void **st, lt_import *imp, int keep_going);
LT_MUST_CHECK int lt__etlrd_feed(void *st, const char *buf, size_t len, lt_diag *diag);
/* Also fails (LT_ECORRUPT, "no DxgKrnl events") for a valid capture
 * without a single DxgKrnl record. */
LT_MUST_CHECK int lt__etlrd_finish(void *st, lt_diag *diag);
void lt__etlrd_free(void *st);
const struct lt__etl *lt__etlrd_container(const void *st);
/* Schemas found in the file; returns how many disagree with the built-in
 * templates. */
uint64_t lt__etlrd_schema_mismatch(const void *st, uint64_t *nschemas);
/* The built-in payload layout of a DxgKrnl (id, version), or NULL. */
const char *lt__etl_builtin_types(int id, int version);
/* A buffer skipped under keep_going (import.c): counted, warned. */
void lt__import_bad_buffer(lt_import *imp, const lt_diag *diag);

/* ---- GUIDs ---------------------------------------------------------------- */

/* "{xxxxxxxx-xxxx-...}" of a 16-byte little-endian GUID into out[39]. */
void lt__guid_format(const uint8_t *g, char out[39]);
extern const uint8_t lt__guid_dxgkrnl[16];
extern const uint8_t lt__guid_event_metadata[16];

#endif
