/* Internals shared by the ETW text readers and the DxgKrnl joins.
 *
 * A reader turns its export into records (struct lt__rec: header facts plus
 * payload fields as text) and hands each to lt__import_record (import.c),
 * which counts it, resolves its event definition (import_events.c) and
 * applies it to the joins (import_dxgkrnl.c). Readers never build trace
 * events themselves, so the three formats share one piece of join logic.
 */
#ifndef LT_IMPORT_INTERNAL_H
#define LT_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "u64tab.h"
#include "lifetrace/import.h"

/* ---- small containers (import_util.c) ---------------------------------- */


/* Trims ASCII blanks (space, tab, CR, LF) at both ends of [*s, *s + *n). */
void lt__trim(const char **s, size_t *n);
/* Case-insensitive equality of a counted string with a C string. */
int lt__eq_ci(const char *s, size_t n, const char *z);
/* Parses an unsigned number: decimal, 0x-hex, true/false. 0 or -1. */
int lt__parse_u64(const char *s, size_t n, uint64_t *out);
/* Parses an ISO-8601 time (offset ignored) into ns since 1601-01-01. */
int lt__parse_iso_time(const char *s, size_t n, uint64_t *ns);

/* ---- records ------------------------------------------------------------- */

struct lt__evdef;

/* One record of an export, as text. Strings are not NUL-terminated. */
struct lt__rec {
  uint64_t record; /* 0-based among the file's events */
  uint64_t line;   /* 1-based line of the record's start */
  uint64_t offset; /* byte offset of the record's start (0 = unknown) */
  uint64_t pos;    /* .etl: buffer index << 32 | offset in the buffer (0 = text) */
  int is_dxg;      /* provider is Microsoft-Windows-DxgKrnl */
  const char *provider;
  size_t provider_len;
  int id, version, task, opcode; /* -1 = not given */
  /* xperf dumper: the definition resolved from the event type name (NULL =
   * not imported) and that name, for the summary. */
  int def_given;
  const struct lt__evdef *def;
  const char *evname;
  size_t evname_len;
  int has_ts;
  uint64_t ts_ns; /* in the reader's time base; only differences matter */
  uint64_t tid;
  size_t n;                  /* payload fields */
  const char *const *names;  /* NULL: fields are positional (tracerpt CSV) */
  const size_t *name_lens;
  const char *const *vals;
  const size_t *val_lens;
};

/* Counts, resolves and applies one record. Returns 0 (also when the record
 * was skipped or, under keep_going, rejected), LT_ECORRUPT with diag filled,
 * or a sink error. Readers call it for every record in order. */
LT_MUST_CHECK int lt__import_record(lt_import *imp, const struct lt__rec *r, lt_diag *diag);
/* Reports malformed input found by a reader (is_record: it is a record of
 * its own, not yet passed to lt__import_record). Under keep_going it is
 * counted and 0 returned; otherwise LT_ECORRUPT with diag filled. */
LT_MUST_CHECK int lt__import_malformed(lt_import *imp, int is_record, uint64_t record,
                                       uint64_t line, uint64_t offset, lt_diag *diag,
                                       const char *fmt, ...) LT_PRINTF(7, 8);
/* Fills diag's file name, and its record when it has none (a reader's
 * error found outside a record, e.g. a line too long). */
void lt__import_diag(const lt_import *imp, lt_diag *diag, uint64_t record);
/* Notes a process name seen in the capture (for the header). */
void lt__import_process_name(lt_import *imp, uint64_t pid, const char *name, size_t len);

/* ---- event definitions (import_events.c) --------------------------------- */

enum lt__handler {
  LT__H_DEVICE,     /* Device 27/28/29 */
  LT__H_CONTEXT,    /* Context 30/31/32 */
  LT__H_GALLOC,     /* AdapterAllocation 33/34/35 */
  LT__H_DALLOC,     /* DeviceAllocation 36/37/38 */
  LT__H_TERMINATE,  /* TerminateAllocation 39 */
  LT__H_PTERMINATE, /* ProcessTerminateAllocation 40 */
  LT__H_LOCK,       /* Lock 41 */
  LT__H_UNLOCK,     /* Unlock 42 */
  LT__H_REFS,       /* ReferenceAllocations 43 */
  LT__H_DMA_START,  /* DmaPacket 175 */
  LT__H_DMA_INFO,   /* DmaPacket 177 */
  LT__H_QP_START,   /* QueuePacket 178 */
  LT__H_QP_STOP,    /* QueuePacket 180 */
  LT__H_EVICT,      /* EvictAllocation 74 */
  LT__H_PAGE_IN,    /* PageInAllocation 73 */
  LT__H_DISPLAYED,  /* DestroyDisplayedAllocation 401 */
  LT__H_OFFER,      /* OfferAllocation 186/187 */
  LT__H_OFFER_END,  /* OfferAllocation 188, ReportOfferAllocation 189 */
  LT__H_RECLAIM,    /* ReclaimAllocation 190 */
  LT__H_PROCESS,    /* Process 471-477, 491/492 */
  LT__H_SEGMENT,    /* ReportSegment 78 (header segments) */
};

enum { LT__OPC_INFO = 0, LT__OPC_START = 1, LT__OPC_STOP = 2, LT__OPC_DC_START = 3 };

struct lt__evdef {
  uint16_t id;
  uint8_t version;
  uint8_t opcode;
  int16_t task; /* -1: number not published, not checked */
  uint8_t handler;
  uint8_t nfields;
  const char *task_name;
  const char *const *fields; /* template order */
};

/* The definition for (id, version, task, opcode), or NULL. *id_known is set
 * when the id is one the importer uses (so a NULL means a version or task it
 * does not know). */
const struct lt__evdef *lt__evdef_find(int id, int version, int task, int opcode, int *id_known);
/* The definition for an xperf event type "<Provider>/<Task>/<Opcode>" given
 * its header's column names, or NULL. */
const struct lt__evdef *lt__evdef_by_name(const char *task, size_t task_len, const char *opcode,
                                          size_t opcode_len, const char *const *cols,
                                          const size_t *col_lens, size_t ncols);
/* Index of a field in the template, or -1. */
int lt__evdef_field(const struct lt__evdef *d, const char *name);
/* "Start", "Stop", "DC_Start", "Info". */
const char *lt__opcode_name(int opcode);
/* Parses an opcode name ("win:Start", "Start ", "DCStart"); -1 unknown. */
int lt__opcode_from_name(const char *s, size_t n);

/* Value maps printed as names by text exports (§2.1 of the reference). */
struct lt__map {
  const char *name;
  uint64_t value;
};
extern const struct lt__map lt__map_allocflags[];
extern const struct lt__map lt__map_interrupt[];
extern const struct lt__map lt__map_packet[];
extern const struct lt__map lt__map_offerstate[];
extern const struct lt__map lt__map_offerprio[];
/* Parses a number or map name(s); bitmap names may be joined by '|', ',',
 * '+' or blanks. 0 or -1. */
int lt__parse_mapped(const char *s, size_t n, const struct lt__map *map, int bitmap,
                     uint64_t *out);

#define LT__DXGKRNL_NAME "Microsoft-Windows-DxgKrnl"
#define LT__DXGKRNL_GUID "{802ec45a-1e99-4b83-9920-87c98277ba9d}"

/* ---- the joins (import_dxgkrnl.c) ---------------------------------------- */

struct lt__dxg;
LT_MUST_CHECK int lt__dxg_new(struct lt__dxg **out, lt_import_sink sink, void *sink_data);
/* Applies one resolved DxgKrnl record. t_ns is the record's time since the
 * trace start. LT_ECORRUPT (with diag->msg set) for a bad or missing field;
 * nothing has been emitted then. */
LT_MUST_CHECK int lt__dxg_apply(struct lt__dxg *x, const struct lt__evdef *d,
                                const struct lt__rec *r, uint64_t t_ns, lt_diag *diag);
/* End of input: emits the creates held back waiting for their device
 * allocation record. */
LT_MUST_CHECK int lt__dxg_finish(struct lt__dxg *x);
/* Builds the header parts the joins know: owner processes, segments. */
LT_MUST_CHECK int lt__dxg_header(struct lt__dxg *x, lt_header *h);
void lt__dxg_counts(const struct lt__dxg *x, uint64_t *events, uint64_t *absorbed,
                    uint64_t *dup_rundown);
/* Records a process name for a pid (first one wins). */
void lt__dxg_process_name(struct lt__dxg *x, uint64_t pid, const char *name, size_t len);
void lt__dxg_free(struct lt__dxg *x);

/* ---- readers ------------------------------------------------------------- */

struct lt__reader_ops {
  LT_MUST_CHECK int (*feed)(void *st, const char *buf, size_t len, lt_diag *diag);
  LT_MUST_CHECK int (*finish)(void *st, lt_diag *diag);
  void (*free)(void *st);
};

LT_MUST_CHECK int lt__xml_new(void **st, lt_import *imp);
LT_MUST_CHECK int lt__xml_feed(void *st, const char *buf, size_t len, lt_diag *diag);
LT_MUST_CHECK int lt__xml_finish(void *st, lt_diag *diag);
void lt__xml_free(void *st);

LT_MUST_CHECK int lt__csv_new(void **st, lt_import *imp);
LT_MUST_CHECK int lt__csv_feed(void *st, const char *buf, size_t len, lt_diag *diag);
LT_MUST_CHECK int lt__csv_finish(void *st, lt_diag *diag);
void lt__csv_free(void *st);

LT_MUST_CHECK int lt__dumper_new(void **st, lt_import *imp);
LT_MUST_CHECK int lt__dumper_feed(void *st, const char *buf, size_t len, lt_diag *diag);
LT_MUST_CHECK int lt__dumper_finish(void *st, lt_diag *diag);
void lt__dumper_free(void *st);

/* Line splitting shared by the CSV and dumper readers (import_util.c):
 * feeds bytes, calls cb for each complete line (without EOL) with its
 * 1-based number and byte offset. Lines longer than LT__MAX_LINE fail. */
#define LT__MAX_LINE (16u * 1024u * 1024u)
struct lt__lines {
  lt__buf part;
  uint64_t line, offset;
};
typedef int (*lt__line_cb)(void *st, const char *s, size_t n, uint64_t line, uint64_t offset,
                           lt_diag *diag);
LT_MUST_CHECK int lt__lines_feed(struct lt__lines *l, const char *buf, size_t len, lt__line_cb cb,
                                 void *st, lt_diag *diag);
LT_MUST_CHECK int lt__lines_finish(struct lt__lines *l, lt__line_cb cb, void *st, lt_diag *diag);
void lt__lines_free(struct lt__lines *l);

/* Splits a comma-separated line into trimmed fields (double quotes group,
 * "" escapes). Fields point into s, or into b when unquoting was needed.
 * LT_ECORRUPT for a quoted field without its closing quote on the line;
 * f->n is then that field's 0-based index. */
struct lt__fields {
  const char **v;
  size_t *len;
  size_t n, cap;
  lt__buf unq;
};
LT_MUST_CHECK int lt__split_csv(struct lt__fields *f, const char *s, size_t n);
void lt__fields_free(struct lt__fields *f);

const char *lt__import_name(const lt_import *imp);

#endif
