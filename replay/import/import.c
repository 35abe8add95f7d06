/* The importer object (lifetrace/import.h): input decoding (UTF-16 exports
 * are transcoded), format detection, dispatch to the reader of the format,
 * record accounting (the summary by provider and event id), the keep-going
 * policy for malformed records, and the trace header. */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "etl.h"
#include "import_internal.h"

#define MAX_IDS 2048
#define MAX_KEYS 256
#define DETECT_MAX (64u * 1024u)
#define IMPORT_MAGIC 0x4c54494du /* "LTIM" */
/* Debug builds check the importer at each entry point. */
#define CHECK(imp) assert((imp) != NULL && (imp)->magic == IMPORT_MAGIC)

struct sumkey {
  char provider[64];
  char name[96];
  uint64_t n[3]; /* imported, skipped, malformed */
};

enum { C_IMPORTED, C_SKIPPED, C_MALFORMED };

struct lt_import {
  uint32_t magic;
  lt_import_opts o;
  char *name;
  int format, failed, finished;
  void *rd;
  const struct lt__reader_ops *ops;
  struct lt__dxg *dxg;
  lt_import_stats st;
  lt__buf head; /* bytes held until the format is known */
  /* UTF-16LE input: transcoded to UTF-8 before the readers see it. */
  int enc; /* 0 undecided, 1 UTF-8, 2 UTF-16LE */
  unsigned char bom[2], pend[4];
  size_t nbom, npend;
  lt__buf tbuf;
  int have_base;
  uint64_t base_ns;
  uint64_t (*ids)[3];
  unsigned char *id_known;
  struct sumkey *keys;
  size_t nkeys;
  uint64_t other_keys[3]; /* beyond MAX_KEYS */
  lt_header header;
  int header_built;
};

static const struct lt__reader_ops ops_xml = {lt__xml_feed, lt__xml_finish, lt__xml_free};
static const struct lt__reader_ops ops_csv = {lt__csv_feed, lt__csv_finish, lt__csv_free};
static const struct lt__reader_ops ops_dumper = {lt__dumper_feed, lt__dumper_finish,
                                                 lt__dumper_free};
static const struct lt__reader_ops ops_etl = {lt__etlrd_feed, lt__etlrd_finish, lt__etlrd_free};

/* The short name of an import format ("xml", "csv", "dumper"; "auto" for
 * anything else), as info and the summaries print it; see
 * lifetrace/import.h. */
const char *lt_import_format_name(int format) {
  switch (format) {
  case LT_IMPORT_XML:
    return "xml";
  case LT_IMPORT_CSV:
    return "csv";
  case LT_IMPORT_DUMPER:
    return "dumper";
  case LT_IMPORT_ETL:
    return "etl";
  }
  return "auto";
}

static const char *format_long_name(int format) {
  switch (format) {
  case LT_IMPORT_XML:
    return "tracerpt XML";
  case LT_IMPORT_CSV:
    return "tracerpt CSV";
  case LT_IMPORT_DUMPER:
    return "xperf dumper";
  case LT_IMPORT_ETL:
    return ".etl";
  }
  return "unknown";
}

/* The format named name, case-insensitively, accepting the tools' own names
 * ("tracerpt-xml", "xperf-dumper"); -1 when unknown. See lifetrace/import.h. */
int lt_import_format_from_name(const char *name) {
  static const struct {
    const char *n;
    int f;
  } names[] = {{"auto", LT_IMPORT_AUTO},         {"xml", LT_IMPORT_XML},
               {"tracerpt-xml", LT_IMPORT_XML},  {"csv", LT_IMPORT_CSV},
               {"tracerpt-csv", LT_IMPORT_CSV},  {"dumper", LT_IMPORT_DUMPER},
               {"xperf", LT_IMPORT_DUMPER},      {"xperf-dumper", LT_IMPORT_DUMPER},
               {"etl", LT_IMPORT_ETL}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (lt__eq_ci(name, strlen(name), names[i].n))
      return names[i].f;
  return -1;
}

/* Whether the first bytes of a file are an .etl capture's, for callers
 * outside the import layer (`lifetrace info`). See lifetrace/import.h. */
int lt_import_is_etl(const void *buf, size_t len) { return lt__etl_detect(buf, len); }

/* Guesses an export's format from its first bytes: .etl by its header
 * buffer, tracerpt XML by '<', xperf's dumper by BeginHeader, tracerpt CSV
 * by its header line; LT_IMPORT_AUTO when undecided. See lifetrace/import.h. */
int lt_import_detect(const void *buf, size_t len) {
  const char *s = buf;
  if (lt__etl_detect(buf, len))
    return LT_IMPORT_ETL;
  if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
    s += 3, len -= 3;
  while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
    s++, len--;
  if (len == 0)
    return LT_IMPORT_AUTO;
  if (*s == '<')
    return LT_IMPORT_XML;
  const char *nl = memchr(s, '\n', len);
  size_t n = nl ? (size_t)(nl - s) : len;
  const char *line = s;
  lt__trim(&line, &n);
  if (lt__eq_ci(line, n, "BeginHeader"))
    return LT_IMPORT_DUMPER;
  if (n >= 10 && lt__eq_ci(line, 10, "Event Name"))
    return LT_IMPORT_CSV;
  if (!nl)
    return LT_IMPORT_AUTO;
  /* Not the first line as the tools write it: look a little further. */
  if (memmem(s, len, "\nEndHeader", 10))
    return LT_IMPORT_DUMPER;
  if (memmem(line, n, "Event ID", 8) && memmem(line, n, "User Data", 9))
    return LT_IMPORT_CSV;
  return LT_IMPORT_AUTO;
}

/* Makes an importer for opts (copied; events go to opts->sink as they are
 * joined). The caller owns *out and frees it with lt_import_free. LT_EINVAL
 * for an unknown format, LT_ENOMEM. See lifetrace/import.h. */
int lt_import_new(lt_import **out, const lt_import_opts *opts) {
  lt_import *imp = lt_calloc(1, sizeof *imp);
  int rc = LT_ENOMEM;
  if (!imp)
    return LT_ENOMEM;
  imp->o = *opts;
  imp->name = lt_strdup(opts->name ? opts->name : "-");
  imp->ids = lt_calloc(MAX_IDS, sizeof *imp->ids);
  imp->id_known = lt_calloc(MAX_IDS, 1);
  imp->keys = lt_calloc(MAX_KEYS, sizeof *imp->keys);
  if (!imp->name || !imp->ids || !imp->id_known || !imp->keys)
    goto out;
  imp->o.name = imp->name;
  if ((rc = lt__dxg_new(&imp->dxg, opts->sink, opts->sink_data)))
    goto out;
  if (opts->format < LT_IMPORT_AUTO || opts->format > LT_IMPORT_ETL) {
    rc = LT_EINVAL;
    goto out;
  }
  lifetrace__trace_header__init(&imp->header);
  imp->magic = IMPORT_MAGIC;
  *out = imp;
  imp = NULL;
  rc = 0;
out:
  lt_import_free(imp);
  return rc;
}

/* The file name diagnostics use ("-" when none was given); owned by imp. */
const char *lt__import_name(const lt_import *imp) { return imp->name; }

/* The format in use, AUTO until detected; see lifetrace/import.h. */
int lt_import_format(const lt_import *imp) { return imp->format; }

static void etl_facts(lt_import *imp);

/* The importer's counters, with the joins' event counts and the .etl facts
 * brought up to date first (the stats are a cache, hence the casts); owned
 * by imp. See lifetrace/import.h. */
const lt_import_stats *lt_import_stats_get(const lt_import *imp) {
  lt__dxg_counts(imp->dxg, (uint64_t *)&imp->st.events, (uint64_t *)&imp->st.absorbed,
                 (uint64_t *)&imp->st.duplicate_rundown);
  etl_facts((lt_import *)imp);
  return &imp->st;
}

static void header_reset(lt_header *h) {
  for (size_t i = 0; i < h->n_processes; i++) {
    lt_free(h->processes[i]->name);
    lt_free(h->processes[i]);
  }
  for (size_t i = 0; i < h->n_segments; i++)
    lt_free(h->segments[i]);
  lt_free(h->processes);
  lt_free(h->segments);
  if (h->source && h->source != protobuf_c_empty_string)
    lt_free(h->source);
  lifetrace__trace_header__init(h);
}

/* Frees the importer and its reader and joins; NULL is a no-op. Events
 * already handed to the sink are the sink's. See lifetrace/import.h. */
void lt_import_free(lt_import *imp) {
  if (!imp)
    return;
  imp->magic = 0;
  if (imp->ops)
    imp->ops->free(imp->rd);
  lt__dxg_free(imp->dxg);
  header_reset(&imp->header);
  lt__buf_reset(&imp->head);
  lt__buf_reset(&imp->tbuf);
  lt_free(imp->ids);
  lt_free(imp->id_known);
  lt_free(imp->keys);
  lt_free(imp->name);
  lt_free(imp);
}

static void diag_set(lt_import *imp, lt_diag *d, uint64_t record, uint64_t line, uint64_t off) {
  snprintf(d->file, sizeof d->file, "%s", imp->name);
  d->record = (int64_t)record;
  d->line = line;
  d->offset = off;
}

/* Names imp's file in diag and, when the reader's error has no record yet,
 * the record being read; see import_internal.h. */
void lt__import_diag(const lt_import *imp, lt_diag *diag, uint64_t record) {
  snprintf(diag->file, sizeof diag->file, "%s", imp->name);
  if (diag->record < 0)
    diag->record = (int64_t)record;
}

static int malformed(lt_import *imp, uint64_t record, uint64_t line, uint64_t offset,
                     lt_diag *diag, const char *fmt, va_list ap) {
  vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
  diag_set(imp, diag, record, line, offset);
  if (!imp->o.keep_going)
    return LT_ECORRUPT;
  imp->st.malformed++;
  if (imp->o.warn)
    imp->o.warn(imp->o.warn_data, diag);
  return 0;
}

/* Reports malformed input a reader found (counted as a record of its own
 * when is_record): under keep_going it is counted and 0 returned, else
 * LT_ECORRUPT with diag naming file, line, offset and record. See
 * import_internal.h. */
int lt__import_malformed(lt_import *imp, int is_record, uint64_t record, uint64_t line,
                         uint64_t offset, lt_diag *diag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (is_record)
    imp->st.records++;
  int rc = malformed(imp, record, line, offset, diag, fmt, ap);
  va_end(ap);
  return rc;
}

static int record_malformed(lt_import *imp, const struct lt__rec *r, lt_diag *diag,
                            const char *fmt, ...) LT_PRINTF(4, 5);
static int record_malformed(lt_import *imp, const struct lt__rec *r, lt_diag *diag,
                            const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = malformed(imp, r->record, r->line, r->offset, diag, fmt, ap);
  va_end(ap);
  return rc;
}

static void count_key(lt_import *imp, const char *prov, size_t plen, const char *name,
                      size_t nlen, int which) {
  if (plen >= sizeof imp->keys[0].provider)
    plen = sizeof imp->keys[0].provider - 1;
  if (nlen >= sizeof imp->keys[0].name)
    nlen = sizeof imp->keys[0].name - 1;
  for (size_t i = 0; i < imp->nkeys; i++) {
    struct sumkey *k = &imp->keys[i];
    if (strlen(k->provider) == plen && !memcmp(k->provider, prov, plen) &&
        strlen(k->name) == nlen && !memcmp(k->name, name, nlen)) {
      k->n[which]++;
      return;
    }
  }
  if (imp->nkeys == MAX_KEYS) {
    imp->other_keys[which]++;
    return;
  }
  struct sumkey *k = &imp->keys[imp->nkeys++];
  memcpy(k->provider, prov, plen);
  memcpy(k->name, name, nlen);
  k->n[which]++;
}

static void count(lt_import *imp, const struct lt__rec *r, const struct lt__evdef *d, int which) {
  int id = d ? d->id : r->id;
  if (r->is_dxg && id >= 0 && id < MAX_IDS) {
    imp->ids[id][which]++;
    return;
  }
  const char *prov = r->provider ? r->provider : "(unnamed)";
  size_t plen = r->provider ? r->provider_len : 9;
  char idbuf[32];
  const char *name = r->evname;
  size_t nlen = r->evname_len;
  if (!name && r->id >= 0) {
    nlen = (size_t)snprintf(idbuf, sizeof idbuf, "id %d", r->id);
    name = idbuf;
  }
  count_key(imp, prov, plen, name ? name : "", name ? nlen : 0, which);
}

static uint64_t rel_time(lt_import *imp, const struct lt__rec *r) {
  if (!r->has_ts)
    return 0;
  if (!imp->have_base) {
    imp->have_base = 1;
    imp->base_ns = r->ts_ns;
  }
  return r->ts_ns >= imp->base_ns ? r->ts_ns - imp->base_ns : 0;
}

/* Counts one record of any reader, resolves its DxgKrnl event definition and
 * applies it to the joins; records that are not DxgKrnl events, or of an
 * unknown version, are counted as skipped. See import_internal.h for the
 * return values. */
int lt__import_record(lt_import *imp, const struct lt__rec *r, lt_diag *diag) {
  imp->st.records++;
  uint64_t t = rel_time(imp, r);
  if (!r->is_dxg) {
    imp->st.skipped++;
    count(imp, r, NULL, C_SKIPPED);
    return 0;
  }
  const struct lt__evdef *d = r->def;
  int known = 0;
  if (!r->def_given)
    d = lt__evdef_find(r->id, r->version, r->task, r->opcode, &known);
  if (r->id >= 0 && r->id < MAX_IDS && known)
    imp->id_known[r->id] = 1;
  if (!d) {
    imp->st.skipped++;
    count(imp, r, NULL, C_SKIPPED);
    return 0;
  }
  imp->id_known[d->id] = 1;
  int rc = lt__dxg_apply(imp->dxg, d, r, t, diag);
  if (rc == LT_ECORRUPT) {
    char msg[sizeof diag->msg];
    snprintf(msg, sizeof msg, "%s", diag->msg);
    count(imp, r, d, C_MALFORMED);
    return record_malformed(imp, r, diag, "DxgKrnl event %u (%s/%s v%u): %s", d->id,
                            d->task_name, lt__opcode_name(d->opcode), d->version, msg);
  }
  if (rc)
    return rc;
  imp->st.imported++;
  count(imp, r, d, C_IMPORTED);
  return 0;
}

/* Passes a process name seen in the export to the joins, for the header's
 * process list; see import_internal.h. */
void lt__import_process_name(lt_import *imp, uint64_t pid, const char *name, size_t len) {
  lt__dxg_process_name(imp->dxg, pid, name, len);
}

/* ---- feeding ------------------------------------------------------------------ */

static int start_reader(lt_import *imp, int format) {
  imp->format = format;
  switch (format) {
  case LT_IMPORT_XML:
    imp->ops = &ops_xml;
    return lt__xml_new(&imp->rd, imp);
  case LT_IMPORT_CSV:
    imp->ops = &ops_csv;
    return lt__csv_new(&imp->rd, imp);
  case LT_IMPORT_DUMPER:
    imp->ops = &ops_dumper;
    return lt__dumper_new(&imp->rd, imp);
  case LT_IMPORT_ETL:
    imp->ops = &ops_etl;
    imp->have_base = 1; /* t counts from the log-file header's time */
    imp->base_ns = 0;
    return lt__etlrd_new(&imp->rd, imp, imp->o.keep_going);
  }
  return LT_EINVAL;
}

static int undetected(lt_import *imp, lt_diag *diag) {
  diag_set(imp, diag, 0, 1, 0);
  snprintf(diag->msg, sizeof diag->msg,
           "not a tracerpt XML/CSV or xperf dumper export, nor an .etl capture (use --format "
           "to force one)");
  return LT_EFORMAT;
}

static int pass(lt_import *imp, const char *buf, size_t len, int at_end, lt_diag *diag) {
  int rc;
  if (!imp->ops) {
    if ((rc = lt__buf_append(&imp->head, buf, len)))
      return rc;
    int f = imp->o.format ? imp->o.format : lt_import_detect(imp->head.s, imp->head.n);
    if (f == LT_IMPORT_AUTO) {
      if (at_end || imp->head.n >= DETECT_MAX)
        return undetected(imp, diag);
      return 0;
    }
    if ((rc = start_reader(imp, f)))
      return rc;
    rc = imp->ops->feed(imp->rd, imp->head.s, imp->head.n, diag);
    lt__buf_reset(&imp->head);
    return rc;
  }
  return len ? imp->ops->feed(imp->rd, buf, len, diag) : 0;
}

static int put_utf8(lt__buf *b, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80)
    u[0] = (char)cp, n = 1;
  else if (cp < 0x800)
    u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  return lt__buf_append(b, u, n);
}

/* UTF-16LE → UTF-8, keeping an odd byte or a lone high surrogate for the
 * next chunk. Unpaired surrogates become U+FFFD. */
static int transcode(lt_import *imp, const unsigned char *p, size_t len) {
  imp->tbuf.n = 0;
  int rc = lt__buf_reserve(&imp->tbuf, len * 2);
  for (size_t i = 0; i < len && !rc; i++) {
    imp->pend[imp->npend++] = p[i];
    if (imp->npend == 1 || imp->npend == 3)
      continue;
    uint32_t u = (uint32_t)imp->pend[0] | (uint32_t)imp->pend[1] << 8;
    int high = u >= 0xD800 && u < 0xDC00;
    if (imp->npend == 2) {
      if (high)
        continue;
      imp->npend = 0;
      rc = put_utf8(&imp->tbuf, (u >= 0xDC00 && u < 0xE000) ? 0xFFFD : u);
      continue;
    }
    uint32_t l = (uint32_t)imp->pend[2] | (uint32_t)imp->pend[3] << 8;
    if (l >= 0xDC00 && l < 0xE000) {
      imp->npend = 0;
      rc = put_utf8(&imp->tbuf, 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00));
      continue;
    }
    /* A high surrogate not followed by a low one. */
    if ((rc = put_utf8(&imp->tbuf, 0xFFFD)))
      break;
    imp->pend[0] = imp->pend[2];
    imp->pend[1] = imp->pend[3];
    imp->npend = 2;
    if (!(l >= 0xD800 && l < 0xDC00)) {
      imp->npend = 0;
      rc = put_utf8(&imp->tbuf, l);
    }
  }
  return rc;
}

/* Feeds the next len bytes: the first two decide UTF-16LE (FF FE, transcoded
 * to UTF-8) or UTF-8, then the reader of the detected or forced format
 * parses them. After an error only lt_import_free is accepted. See
 * lifetrace/import.h. */
int lt_import_feed(lt_import *imp, const void *buf, size_t len, lt_diag *diag) {
  CHECK(imp);
  if (imp->failed || imp->finished)
    return LT_EINVAL;
  const unsigned char *p = buf;
  int rc = 0;
  imp->st.bytes += len;
  if (imp->enc == 0 && imp->o.format == LT_IMPORT_ETL)
    imp->enc = 1; /* binary: no byte-order mark */
  if (imp->enc == 0) {
    /* The first two bytes decide: FF FE is a UTF-16LE byte-order mark. */
    while (len && imp->nbom < 2)
      imp->bom[imp->nbom++] = *p++, len--;
    if (imp->nbom < 2)
      return 0;
    if (imp->bom[0] == 0xFF && imp->bom[1] == 0xFE) {
      imp->enc = 2;
    } else {
      imp->enc = 1;
      rc = pass(imp, (const char *)imp->bom, 2, 0, diag);
    }
  }
  if (!rc && imp->enc == 2) {
    if ((rc = transcode(imp, p, len)) == 0)
      rc = pass(imp, imp->tbuf.s, imp->tbuf.n, 0, diag);
  } else if (!rc) {
    rc = pass(imp, (const char *)p, len, 0, diag);
  }
  if (rc)
    imp->failed = 1;
  return rc;
}

static int build_header(lt_import *imp) {
  lt_header *h = &imp->header;
  h->lifetrace = 1;
  h->ends = LIFETRACE__ENDS__ENDS_WINDOW;
  const char *base = strrchr(imp->name, '/');
  base = base ? base + 1 : imp->name;
  size_t n = strlen(base) + 64;
  char *src = lt_malloc(n);
  if (!src)
    return LT_ENOMEM;
  if (imp->format == LT_IMPORT_ETL)
    snprintf(src, n, "lifetrace import: .etl capture %s", base);
  else
    snprintf(src, n, "lifetrace import: %s export %s", format_long_name(imp->format), base);
  h->source = src;
  etl_facts(imp);
  h->events_lost = imp->st.events_lost;
  h->buffers_lost = imp->st.buffers_lost + imp->st.bad_buffers;
  return lt__dxg_header(imp->dxg, h);
}

/* Ends the input: the reader's last line and completeness checks, the
 * creates the joins held back, then the header. LT_EINVAL if called twice or
 * after an error. See lifetrace/import.h. */
int lt_import_finish(lt_import *imp, lt_diag *diag) {
  CHECK(imp);
  if (imp->failed || imp->finished)
    return LT_EINVAL;
  int rc = 0;
  if (imp->enc == 0 && imp->nbom) { /* a one-byte file */
    imp->enc = 1;
    rc = pass(imp, (const char *)imp->bom, 1, 0, diag);
  }
  if (!rc && !imp->ops)
    rc = pass(imp, "", 0, 1, diag);
  if (!rc)
    rc = imp->ops->finish(imp->rd, diag);
  if (!rc)
    rc = lt__dxg_finish(imp->dxg);
  if (!rc)
    rc = build_header(imp);
  if (rc) {
    imp->failed = 1;
    return rc;
  }
  imp->finished = 1;
  return 0;
}

/* A corrupt .etl buffer skipped under keep_going: counted in the stats'
 * bad_buffers and passed to the caller's warn callback. See etl.h. */
void lt__import_bad_buffer(lt_import *imp, const lt_diag *diag) {
  imp->st.bad_buffers++;
  if (imp->o.warn)
    imp->o.warn(imp->o.warn_data, diag);
}

/* The .etl facts of the stats and the header. */
static void etl_facts(lt_import *imp) {
  if (imp->format != LT_IMPORT_ETL || !imp->rd)
    return;
  const struct lt__etl *e = lt__etlrd_container(imp->rd);
  const struct lt__etl_header *h = lt__etl_header_get(e);
  imp->st.lost_flagged = lt__etl_stats_get(e)->lost_flagged;
  imp->st.schema_mismatch = lt__etlrd_schema_mismatch(imp->rd, &imp->st.schemas);
  if (h) {
    imp->st.events_lost = h->events_lost;
    imp->st.buffers_lost = h->buffers_lost;
  }
}

/* The trace header the import built, NULL until lt_import_finish succeeded;
 * owned by imp until lt_import_free. See lifetrace/import.h. */
const lt_header *lt_import_header(const lt_import *imp) {
  return imp->finished ? &imp->header : NULL;
}

/* Imports a whole buffer in one call (new, feed, finish, free) for the fuzz
 * targets; the sink gets the events, the header is dropped. See
 * lifetrace/import.h. */
int lt_import_buffer(const void *data, size_t len, const lt_import_opts *opts, lt_diag *diag) {
  lt_import *imp = NULL;
  int rc = lt_import_new(&imp, opts);
  if (rc)
    return rc;
  rc = lt_import_feed(imp, data, len, diag);
  if (!rc)
    rc = lt_import_finish(imp, diag);
  lt_import_free(imp);
  return rc;
}

/* ---- summary ------------------------------------------------------------------- */

static void id_name(int id, char *buf, size_t len) {
  int known;
  for (int v = 0; v < 8; v++) {
    const struct lt__evdef *d = lt__evdef_find(id, v, -1, -1, &known);
    if (d) {
      snprintf(buf, len, "%s/%s", d->task_name, lt__opcode_name(d->opcode));
      return;
    }
  }
  snprintf(buf, len, "not imported");
}

/* Writes the human-readable import summary: record counts, then per DxgKrnl
 * event id and per other provider what was imported, skipped or malformed.
 * See lifetrace/import.h. */
void lt_import_summary_write(FILE *out, const lt_import *imp) {
  const lt_import_stats *s = lt_import_stats_get(imp);
  fprintf(out,
          "%s (%s): %llu records: %llu imported, %llu skipped, %llu malformed; "
          "%llu trace events\n",
          imp->name, format_long_name(imp->format), (unsigned long long)s->records,
          (unsigned long long)s->imported, (unsigned long long)s->skipped,
          (unsigned long long)s->malformed, (unsigned long long)s->events);
  if (s->absorbed || s->duplicate_rundown)
    fprintf(out, "  %llu Stop records absorbed by a teardown, %llu duplicate rundown records\n",
            (unsigned long long)s->absorbed, (unsigned long long)s->duplicate_rundown);
  if (imp->format == LT_IMPORT_ETL)
    fprintf(out,
            "  .etl: %llu events lost, %llu buffers lost (log-file header), %llu buffers flagged "
            "lost, %llu corrupt buffers skipped\n",
            (unsigned long long)s->events_lost, (unsigned long long)s->buffers_lost,
            (unsigned long long)s->lost_flagged, (unsigned long long)s->bad_buffers);
  if (imp->format == LT_IMPORT_ETL && s->schemas)
    fprintf(out,
            "  .etl: the capture's own schema has %llu DxgKrnl event layouts (they decode it); "
            "%llu disagree with lifetrace's built-in templates\n",
            (unsigned long long)s->schemas, (unsigned long long)s->schema_mismatch);
  for (int id = 0; id < MAX_IDS; id++) {
    const uint64_t *n = imp->ids[id];
    if (!n[0] && !n[1] && !n[2])
      continue;
    char name[96];
    id_name(id, name, sizeof name);
    if (n[1] && imp->id_known[id] && !n[0])
      snprintf(name + strlen(name), sizeof name - strlen(name), " (unknown version/task)");
    fprintf(out, "  " LT__DXGKRNL_NAME " %4d %-36s", id, name);
    if (n[0])
      fprintf(out, " imported %llu", (unsigned long long)n[0]);
    if (n[1])
      fprintf(out, " skipped %llu", (unsigned long long)n[1]);
    if (n[2])
      fprintf(out, " malformed %llu", (unsigned long long)n[2]);
    fputc('\n', out);
  }
  for (size_t i = 0; i < imp->nkeys; i++) {
    const struct sumkey *k = &imp->keys[i];
    fprintf(out, "  %s %s: skipped %llu", k->provider, k->name[0] ? k->name : "-",
            (unsigned long long)k->n[C_SKIPPED]);
    if (k->n[C_IMPORTED] || k->n[C_MALFORMED])
      fprintf(out, ", imported %llu, malformed %llu", (unsigned long long)k->n[C_IMPORTED],
              (unsigned long long)k->n[C_MALFORMED]);
    fputc('\n', out);
  }
  if (imp->other_keys[C_SKIPPED])
    fprintf(out, "  (other event types): skipped %llu\n",
            (unsigned long long)imp->other_keys[C_SKIPPED]);
}

static void json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20 || c == 0x7f)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

/* Writes the same summary as one JSON object (import --json); see
 * lifetrace/import.h. */
void lt_import_summary_json(FILE *out, const lt_import *imp) {
  const lt_import_stats *s = lt_import_stats_get(imp);
  fputs("{\"file\": ", out);
  json_str(out, imp->name);
  fprintf(out,
          ", \"format\": \"%s\", \"bytes\": %llu, \"records\": %llu, \"imported\": %llu, "
          "\"skipped\": %llu, \"malformed\": %llu, \"events\": %llu, \"absorbed\": %llu, "
          "\"duplicate_rundown\": %llu, \"bad_buffers\": %llu, \"events_lost\": %llu, "
          "\"buffers_lost\": %llu, \"schemas\": %llu, \"schema_mismatch\": %llu, "
          "\"events_by_id\": [",
          lt_import_format_name(imp->format), (unsigned long long)s->bytes,
          (unsigned long long)s->records, (unsigned long long)s->imported,
          (unsigned long long)s->skipped, (unsigned long long)s->malformed,
          (unsigned long long)s->events, (unsigned long long)s->absorbed,
          (unsigned long long)s->duplicate_rundown, (unsigned long long)s->bad_buffers,
          (unsigned long long)s->events_lost, (unsigned long long)s->buffers_lost,
          (unsigned long long)s->schemas, (unsigned long long)s->schema_mismatch);
  int first = 1;
  for (int id = 0; id < MAX_IDS; id++) {
    const uint64_t *n = imp->ids[id];
    if (!n[0] && !n[1] && !n[2])
      continue;
    char name[96];
    id_name(id, name, sizeof name);
    fprintf(out, "%s{\"provider\": \"" LT__DXGKRNL_NAME "\", \"id\": %d, \"name\": ",
            first ? "" : ", ", id);
    json_str(out, name);
    fprintf(out, ", \"imported\": %llu, \"skipped\": %llu, \"malformed\": %llu}",
            (unsigned long long)n[0], (unsigned long long)n[1], (unsigned long long)n[2]);
    first = 0;
  }
  for (size_t i = 0; i < imp->nkeys; i++) {
    const struct sumkey *k = &imp->keys[i];
    fprintf(out, "%s{\"provider\": ", first ? "" : ", ");
    json_str(out, k->provider);
    fputs(", \"name\": ", out);
    json_str(out, k->name);
    fprintf(out, ", \"imported\": %llu, \"skipped\": %llu, \"malformed\": %llu}",
            (unsigned long long)k->n[0], (unsigned long long)k->n[1],
            (unsigned long long)k->n[2]);
    first = 0;
  }
  fputs("]}", out);
}
