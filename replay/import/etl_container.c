/* The .etl container: buffers, the log-file header, record kinds and the
 * per-CPU merge (../shared/reference/etw-dxgkrnl.md §4).
 *
 * The file is a sequence of buffers, each a 0x48-byte WMI_BUFFER_HEADER and
 * exactly BufferSize bytes long; records run from 0x48 to SavedOffset, each
 * padded to 8 bytes. The reader is push-fed: it collects one buffer at a
 * time, checks its header, decompresses it when it is compressed, walks its
 * records once (kind, size, timestamp) and queues it on its processor.
 * Buffers are written when they are flushed, not when they open, so file
 * order is neither sequence nor time order: per processor, queued buffers
 * are kept in SequenceNumber order, and records leave by a k-way merge on
 * their timestamps once more than WINDOW buffers are held (and at the end).
 * Memory is thus WINDOW buffers, whatever the file's length.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "etl.h"

#define WINDOW 64                 /* buffers held for the merge */
#define MAX_BUFFER (64u << 20)    /* larger BufferSize values are corrupt */
#define ETL_MAGIC 0x4c54454cu     /* "LETL" */

const uint8_t lt__guid_dxgkrnl[16] = {0x5a, 0xc4, 0x2e, 0x80, 0x99, 0x1e, 0x83, 0x4b,
                                      0x99, 0x20, 0x87, 0xc9, 0x82, 0x77, 0xba, 0x9d};
const uint8_t lt__guid_event_metadata[16] = {0xc1, 0xf6, 0xcc, 0xbb, 0xd1, 0x6c, 0xc4, 0x48,
                                             0x80, 0xff, 0x83, 0x94, 0x82, 0xe3, 0x76, 0x71};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Formats a GUID as ETW records store it (Data1..Data3 little-endian, Data4
 * as bytes) in the registry form "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}":
 * 38 characters and a NUL. Providers other than DxgKrnl are named by it in
 * the import's counts and in `lifetrace info`. See etl.h. */
void lt__guid_format(const uint8_t *g, char out[39]) {
  snprintf(out, 39, "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", (unsigned)rd32(g),
           rd16(g + 4), rd16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

/* A buffer held for the merge: its decompressed bytes and its records. */
struct hbuf {
  uint64_t index, seq, file_off;
  uint32_t cpu, n, nrec, cur;
  uint8_t *data;
  uint32_t *off;
  int64_t *ts;
  struct hbuf *next; /* the processor's queue, by sequence */
};

struct cpuq {
  uint32_t cpu;
  struct hbuf *head;
};

struct lt__etl {
  uint32_t magic;
  char *name;
  int keep_going;
  lt__etl_cb cb;
  void *cb_data;
  lt_import_warn warn;
  void *warn_data;
  lt__buf part;          /* the buffer being collected */
  uint64_t file_off;     /* of the buffer being collected */
  uint64_t nbuf;         /* buffers seen */
  int have_header;
  struct lt__etl_header h;
  struct lt__etl_stats st;
  struct cpuq *q;
  size_t nq, capq, held;
  uint8_t *scratch;      /* decompression output */
  size_t scratch_n;
};

static void hbuf_free(struct hbuf *b) {
  if (!b)
    return;
  lt_free(b->data);
  lt_free(b->off);
  lt_free(b->ts);
  lt_free(b);
}

/* Makes a push-fed container reader for the file called name (copied, for
 * diagnostics): records go to cb in merged time order, and under keep_going
 * each skipped buffer goes to warn (may be NULL). The caller owns *out and
 * frees it with lt__etl_free; LT_ENOMEM. See etl.h. */
int lt__etl_new(struct lt__etl **out, const char *name, int keep_going, lt__etl_cb cb,
                void *cb_data, lt_import_warn warn, void *warn_data) {
  struct lt__etl *e = lt_calloc(1, sizeof *e);
  if (!e || !(e->name = lt_strdup(name ? name : "-"))) {
    lt_free(e);
    return LT_ENOMEM;
  }
  e->magic = ETL_MAGIC;
  e->keep_going = keep_going;
  e->cb = cb;
  e->cb_data = cb_data;
  e->warn = warn;
  e->warn_data = warn_data;
  e->st.first_ts = INT64_MAX;
  e->st.last_ts = INT64_MIN;
  *out = e;
  return 0;
}

/* Frees a reader and every buffer it still holds for the merge (their
 * records never reach cb); NULL is a no-op. */
void lt__etl_free(struct lt__etl *e) {
  if (!e)
    return;
  for (size_t i = 0; i < e->nq; i++)
    while (e->q[i].head) {
      struct hbuf *b = e->q[i].head;
      e->q[i].head = b->next;
      hbuf_free(b);
    }
  lt_free(e->q);
  lt__buf_reset(&e->part);
  lt_free(e->scratch);
  lt_free(e->name);
  e->magic = 0;
  lt_free(e);
}

/* The log-file header, once the first buffer was parsed; NULL before. Owned
 * by e, valid until lt__etl_free. See etl.h. */
const struct lt__etl_header *lt__etl_header_get(const struct lt__etl *e) {
  return e->have_header ? &e->h : NULL;
}

/* The reader's running counts (buffers, bytes, records by kind, bad,
 * compressed and lost-flagged buffers, the timestamp range); owned by e and
 * updated as it reads, so final only after lt__etl_finish. */
const struct lt__etl_stats *lt__etl_stats_get(const struct lt__etl *e) { return &e->st; }

/* ---- errors ------------------------------------------------------------------ */

/* Fills diag for a problem at byte `off` of buffer `idx` (file offset
 * file_off of the buffer). */
static int corrupt(struct lt__etl *e, lt_diag *diag, uint64_t idx, uint64_t file_off,
                   uint64_t off, const char *fmt, ...) LT_PRINTF(6, 7);
static int corrupt(struct lt__etl *e, lt_diag *diag, uint64_t idx, uint64_t file_off,
                   uint64_t off, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(diag->file, sizeof diag->file, "%s", e->name);
  diag->record = -1;
  diag->line = 0;
  diag->offset = file_off + off;
  snprintf(diag->msg, sizeof diag->msg, "buffer %llu (file offset %llu), offset 0x%llx: %s",
           (unsigned long long)idx, (unsigned long long)file_off, (unsigned long long)off, what);
  return LT_ECORRUPT;
}

/* A bad buffer: fatal, or skipped and counted under keep_going. */
static int bad_buffer(struct lt__etl *e, lt_diag *diag, int rc) {
  if (rc != LT_ECORRUPT || !e->keep_going)
    return rc;
  e->st.bad_buffers++;
  if (e->warn)
    e->warn(e->warn_data, diag);
  return 0;
}

/* ---- the log-file header ------------------------------------------------------ */

static int parse_logfile(struct lt__etl *e, const uint8_t *p, size_t n, lt_diag *diag) {
  const size_t at = LT__ETL_WMI_HDR;
  if (n < at + 0x20 + 56 || (p[at + 2] != 1 && p[at + 2] != 2) || (p[at + 3] & 0xC0) != 0xC0 ||
      p[at + 6] != 0 || p[at + 7] != 0)
    return corrupt(e, diag, 0, 0, at, "the first record is not the log-file header");
  size_t rsize = rd16(p + at + 4);
  const uint8_t *l = p + at + 0x20;
  struct lt__etl_header *h = &e->h;
  h->origin_ts = (int64_t)rd64(p + at + 0x10);
  h->buffer_size = rd32(l);
  h->version = rd32(l + 4);
  h->os_build = rd32(l + 8);
  h->ncpu = rd32(l + 12);
  h->end_time = (int64_t)rd64(l + 16);
  h->timer_resolution = rd32(l + 24);
  h->max_file_size = rd32(l + 28);
  h->log_file_mode = rd32(l + 32);
  h->buffers_written = rd32(l + 36);
  h->pointer_size = rd32(l + 44);
  h->events_lost = rd32(l + 48);
  h->cpu_mhz = rd32(l + 52);
  if (h->pointer_size != 4 && h->pointer_size != 8)
    return corrupt(e, diag, 0, 0, at + 0x20 + 44, "log-file header: pointer size %u",
                   h->pointer_size);
  size_t tz = 56 + 2 * (size_t)h->pointer_size, end = tz + 176 + 32;
  if (rsize < 0x20 + end || at + 0x20 + end > n)
    return corrupt(e, diag, 0, 0, at, "log-file header record of %zu bytes is too short",
                   rsize);
  h->boot_time = (int64_t)rd64(l + tz + 176);
  h->perf_freq = (int64_t)rd64(l + tz + 184);
  h->start_time = (int64_t)rd64(l + tz + 192);
  h->clock_type = rd32(l + tz + 200);
  h->buffers_lost = rd32(l + tz + 204);
  if (h->buffer_size != rd32(p))
    return corrupt(e, diag, 0, 0, 0, "BufferSize %u disagrees with the log-file header's %u",
                   rd32(p), h->buffer_size);
  if (h->log_file_mode & 0x04000000u) {
    h->compression = (int)(rd32(p + 0x2C) & 0xFFFF);
    if (h->compression < LT__XCA_LZNT1 || h->compression > LT__XCA_XPRESS_HUFF)
      return corrupt(e, diag, 0, 0, 0x2C, "unknown compression format %d", h->compression);
  }
  e->have_header = 1;
  return 0;
}

/* ---- records of one buffer ------------------------------------------------------- */

/* Kind, minimal size and size of the record at p (n bytes left). */
static int record_kind(const uint8_t *p, size_t n, int *kind, size_t *min, size_t *size) {
  if (n < 8)
    return -1;
  uint8_t type = p[2], mark = p[3];
  *size = rd16(p);
  if ((mark & 0xC0) == 0xC0) {
    switch (type) {
    case 1: case 2:
      *kind = LT__ETL_SYSTEM, *min = 0x20, *size = rd16(p + 4);
      return 0;
    case 3: case 4:
      *kind = LT__ETL_COMPACT, *min = 0x18, *size = rd16(p + 4);
      return 0;
    case 16: case 17:
      *kind = LT__ETL_PERFINFO, *min = 0x10, *size = rd16(p + 4);
      return 0;
    case 10: case 20:
      *kind = LT__ETL_FULL, *min = 0x30;
      return 0;
    case 11: case 21:
      *kind = LT__ETL_INSTANCE, *min = 0x38;
      return 0;
    case 18: case 19:
      *kind = LT__ETL_EVENT, *min = 0x50;
      return 0;
    }
    return -1;
  }
  if ((mark & 0xD0) == 0x90) {
    *kind = LT__ETL_MESSAGE, *min = 8;
    return 0;
  }
  return -1;
}

static int64_t record_ts(int kind, const uint8_t *p, int64_t prev) {
  switch (kind) {
  case LT__ETL_PERFINFO:
    return (int64_t)rd64(p + 8);
  case LT__ETL_MESSAGE:
    return prev; /* optional in the header: keep the buffer's order */
  }
  return (int64_t)rd64(p + 0x10);
}

/* Walks the records of b (its data and n set), filling off/ts. */
static int index_records(struct lt__etl *e, struct hbuf *b, lt_diag *diag) {
  size_t cap = 0, o = LT__ETL_WMI_HDR;
  int64_t prev = (int64_t)rd64(b->data + 0x10);
  while (o < b->n) {
    int kind;
    size_t min, size;
    if (record_kind(b->data + o, b->n - o, &kind, &min, &size))
      return corrupt(e, diag, b->index, b->file_off, o, "unknown record kind (bytes %02x %02x)",
                     b->data[o + 2 < b->n ? o + 2 : o], b->data[o + 3 < b->n ? o + 3 : o]);
    if (size < min || size > b->n - o)
      return corrupt(e, diag, b->index, b->file_off, o,
                     "record of %zu bytes runs past its buffer (%zu bytes left)", size, b->n - o);
    if (b->nrec == cap) {
      cap = cap ? cap * 2 : 256;
      uint32_t *no = lt_realloc(b->off, cap * sizeof *no);
      if (!no)
        return LT_ENOMEM;
      b->off = no;
      int64_t *nt = lt_realloc(b->ts, cap * sizeof *nt);
      if (!nt)
        return LT_ENOMEM;
      b->ts = nt;
    }
    prev = record_ts(kind, b->data + o, prev);
    b->off[b->nrec] = (uint32_t)o;
    b->ts[b->nrec++] = prev;
    e->st.by_kind[kind]++;
    o += (size + 7) & ~(size_t)7;
  }
  return 0;
}

/* ---- buffers --------------------------------------------------------------------- */

/* The buffer's bytes, decompressed when it is compressed. */
static int buffer_bytes(struct lt__etl *e, const uint8_t *p, size_t n, struct hbuf *b,
                        lt_diag *diag) {
  uint32_t saved = rd32(p + 4);
  uint16_t flag = rd16(p + 0x34);
  uint32_t max = e->h.buffer_size;
  if (saved < LT__ETL_WMI_HDR || saved > max)
    return corrupt(e, diag, b->index, b->file_off, 4, "SavedOffset %u outside 0x48..%u", saved,
                   max);
  if (!(flag & 0x40)) {
    if (n != max)
      return corrupt(e, diag, b->index, b->file_off, 0,
                     "BufferSize %zu disagrees with the log-file header's %u", n, max);
    if (saved > n)
      return corrupt(e, diag, b->index, b->file_off, 4, "SavedOffset %u past BufferSize %zu",
                     saved, n);
    b->n = saved;
    b->data = lt_malloc(saved);
    if (!b->data)
      return LT_ENOMEM;
    memcpy(b->data, p, saved);
    return 0;
  }
  if (!e->h.compression)
    return corrupt(e, diag, b->index, b->file_off, 0x34,
                   "compressed buffer in a file whose log-file mode says uncompressed");
  b->n = saved;
  b->data = lt_malloc(saved);
  if (!b->data)
    return LT_ENOMEM;
  memcpy(b->data, p, LT__ETL_WMI_HDR);
  int rc = lt__xca_decompress(e->h.compression, p + LT__ETL_WMI_HDR, n - LT__ETL_WMI_HDR,
                              b->data + LT__ETL_WMI_HDR, saved - LT__ETL_WMI_HDR);
  if (rc == LT_ECORRUPT)
    return corrupt(e, diag, b->index, b->file_off, LT__ETL_WMI_HDR,
                   "%s data does not decompress to %u bytes", lt__xca_name(e->h.compression),
                   saved - LT__ETL_WMI_HDR);
  if (rc == LT_EFORMAT)
    return corrupt(e, diag, b->index, b->file_off, LT__ETL_WMI_HDR,
                   "%s needs wimlib, and this lifetrace was built without it (LT_WIMLIB=OFF)",
                   lt__xca_name(e->h.compression));
  e->st.compressed++;
  return rc;
}

static struct cpuq *queue_of(struct lt__etl *e, uint32_t cpu) {
  for (size_t i = 0; i < e->nq; i++)
    if (e->q[i].cpu == cpu)
      return &e->q[i];
  if (e->nq == e->capq) {
    size_t cap = e->capq ? e->capq * 2 : 8;
    struct cpuq *nq = lt_realloc(e->q, cap * sizeof *nq);
    if (!nq)
      return NULL;
    e->q = nq;
    e->capq = cap;
  }
  e->q[e->nq] = (struct cpuq){cpu, NULL};
  return &e->q[e->nq++];
}

/* Queues b on its processor in sequence order (after a buffer already
 * being merged). */
static int enqueue(struct lt__etl *e, struct hbuf *b) {
  struct cpuq *q = queue_of(e, b->cpu);
  if (!q)
    return LT_ENOMEM;
  struct hbuf **at = &q->head;
  if (*at && (*at)->cur)
    at = &(*at)->next;
  while (*at && (*at)->seq <= b->seq)
    at = &(*at)->next;
  b->next = *at;
  *at = b;
  e->held++;
  if (b->cpu > e->st.max_cpu)
    e->st.max_cpu = b->cpu;
  return 0;
}

/* ---- the merge --------------------------------------------------------------------- */

/* Converts a raw record timestamp to ns since h->origin_ts (the header
 * record's: the trace's t = 0) by the capture's clock: 100 ns units for
 * clock type 2 (system time), CPU MHz for type 3 (the cycle counter),
 * otherwise PerfFreq (QPC). 0 before the origin or for a zero frequency;
 * saturates at UINT64_MAX. The product is 128-bit: ticks times 10^9
 * overflows 64 bits within half an hour of a 10 MHz QPC. See etl.h. */
uint64_t lt__etl_ns(const struct lt__etl_header *h, int64_t ts) {
  if (ts <= h->origin_ts)
    return 0;
  unsigned __int128 d = (unsigned __int128)(uint64_t)(ts - h->origin_ts);
  uint64_t hz = h->clock_type == 2   ? 10000000u
                : h->clock_type == 3 ? (uint64_t)h->cpu_mhz * 1000000u
                                     : (uint64_t)h->perf_freq;
  if (hz == 0)
    return 0;
  d = d * 1000000000u / hz;
  return d > UINT64_MAX ? UINT64_MAX : (uint64_t)d;
}

/* Fills the EVENT_HEADER facts: provider, descriptor, payload after the
 * extended data items. -1 when the items run past the record. */
static int event_facts(struct lt__etl_rec *r) {
  const uint8_t *p = r->p;
  size_t o = 0x50;
  r->flags = rd16(p + 4);
  r->tid = rd32(p + 8);
  r->pid = rd32(p + 0xC);
  r->guid = p + 0x18;
  r->id = rd16(p + 0x28);
  r->version = p[0x2A];
  r->channel = p[0x2B];
  r->level = p[0x2C];
  r->opcode = p[0x2D];
  r->task = rd16(p + 0x2E);
  r->pointer_size = p[2] == 18 ? 4 : 8;
  if (r->flags & 0x20)
    r->pointer_size = 4;
  else if (r->flags & 0x40)
    r->pointer_size = 8;
  if (r->flags & 0x1) {
    for (;;) {
      if (r->size - o < 8)
        return -1;
      uint16_t link = rd16(p + o + 4), dsize = rd16(p + o + 6);
      size_t item = (8u + dsize + 7u) & ~(size_t)7;
      if (item > r->size - o) {
        if (8u + dsize > r->size - o)
          return -1;
        item = r->size - o; /* the last item's padding is not in Size */
      }
      o += item;
      if (!(link & 1))
        break;
    }
  }
  r->payload = p + o;
  r->payload_len = r->size - o;
  return 0;
}

static void full_facts(struct lt__etl_rec *r) {
  const uint8_t *p = r->p;
  r->opcode = p[4]; /* Class.Type */
  r->level = p[5];
  r->version = (uint8_t)rd16(p + 6);
  r->tid = rd32(p + 8);
  r->pid = rd32(p + 0xC);
  r->guid = p + 0x18;
  size_t hdr = r->kind == LT__ETL_INSTANCE ? 0x38 : 0x30;
  r->payload = p + hdr;
  r->payload_len = r->size - hdr;
}

/* Hands the current record of b to the callback and advances. */
static int emit_one(struct lt__etl *e, struct hbuf *b, lt_diag *diag) {
  struct lt__etl_rec r;
  memset(&r, 0, sizeof r);
  uint32_t o = b->off[b->cur];
  const uint8_t *p = b->data + o;
  int kind;
  size_t min;
  (void)record_kind(p, b->n - o, &kind, &min, &r.size);
  r.index = e->st.records++;
  r.buffer = b->index;
  r.offset = o;
  r.cpu = b->cpu;
  r.kind = kind;
  r.ts = b->ts[b->cur];
  r.t_ns = lt__etl_ns(&e->h, r.ts);
  r.p = p;
  b->cur++;
  if (r.ts < e->st.first_ts)
    e->st.first_ts = r.ts;
  if (r.ts > e->st.last_ts)
    e->st.last_ts = r.ts;
  if (kind == LT__ETL_EVENT && event_facts(&r))
    return corrupt(e, diag, b->index, b->file_off, o,
                   "extended data items run past the record (%zu bytes)", r.size);
  if (kind == LT__ETL_FULL || kind == LT__ETL_INSTANCE)
    full_facts(&r);
  return e->cb ? e->cb(e->cb_data, &r, diag) : 0;
}

/* Emits the earliest record among the processors' heads; frees exhausted
 * buffers. *any = 0 when nothing is held. */
static int merge_step(struct lt__etl *e, lt_diag *diag, int *any) {
  struct cpuq *best = NULL;
  for (size_t i = 0; i < e->nq; i++) {
    struct cpuq *q = &e->q[i];
    while (q->head && q->head->cur == q->head->nrec) {
      struct hbuf *b = q->head;
      q->head = b->next;
      hbuf_free(b);
      e->held--;
    }
    if (q->head && (!best || q->head->ts[q->head->cur] < best->head->ts[best->head->cur]))
      best = q;
  }
  *any = best != NULL;
  return best ? emit_one(e, best->head, diag) : 0;
}

static int drain(struct lt__etl *e, size_t keep, lt_diag *diag) {
  int any = 1, rc = 0;
  while (rc == 0 && any && e->held > keep)
    rc = merge_step(e, diag, &any);
  return rc;
}

/* One whole buffer of n bytes. */
static int take_buffer(struct lt__etl *e, const uint8_t *p, size_t n, lt_diag *diag) {
  struct hbuf *b = lt_calloc(1, sizeof *b);
  if (!b)
    return LT_ENOMEM;
  b->index = e->nbuf;
  b->file_off = e->file_off;
  b->seq = rd64(p + 0x18);
  b->cpu = (rd16(p + 0x34) & 0x20) ? rd16(p + 0x28) : p[0x28];
  int rc = 0;
  if (e->nbuf == 0)
    rc = parse_logfile(e, p, n, diag);
  if (!rc)
    rc = buffer_bytes(e, p, n, b, diag);
  if (!rc)
    rc = index_records(e, b, diag);
  if (rc) {
    hbuf_free(b);
    return e->nbuf == 0 ? rc : bad_buffer(e, diag, rc);
  }
  if (rd16(p + 0x34) & 0x6)
    e->st.lost_flagged++;
  if (b->nrec == 0) {
    hbuf_free(b);
    return 0;
  }
  if ((rc = enqueue(e, b))) {
    hbuf_free(b);
    return rc;
  }
  return drain(e, WINDOW, diag);
}

/* The size of the buffer starting at p (its header complete). */
static int buffer_size(struct lt__etl *e, const uint8_t *p, size_t *size, lt_diag *diag) {
  uint32_t bs = rd32(p);
  uint32_t max = e->nbuf ? e->h.buffer_size : MAX_BUFFER;
  if (bs >= LT__ETL_WMI_HDR && bs <= max) {
    *size = bs;
    return 0;
  }
  int rc = corrupt(e, diag, e->nbuf, e->file_off, 0, "BufferSize %u outside 0x48..%u", bs, max);
  if (!e->nbuf || !e->keep_going)
    return rc;
  /* Resynchronise on the log-file header's buffer size. */
  *size = e->h.buffer_size;
  return 1;
}

/* Feeds the next len bytes of the file, in chunks of any size: a whole
 * buffer in the input is read in place, one cut across calls is collected
 * first. Each complete buffer is checked, decompressed when compressed,
 * indexed and queued on its processor; records leave through cb once WINDOW
 * buffers are held. LT_ECORRUPT with diag naming the buffer index and file
 * offset; under keep_going a bad buffer after the first is skipped and
 * counted instead (a bad BufferSize resynchronises on the log-file
 * header's). cb's error is returned as it is. See etl.h. */
int lt__etl_feed(struct lt__etl *e, const void *buf, size_t len, lt_diag *diag) {
  const uint8_t *p = buf;
  int rc = 0;
  e->st.bytes += len;
  while (len && rc == 0) {
    size_t have = e->part.n, need = LT__ETL_WMI_HDR, size = 0;
    int skip = 0, known = have >= LT__ETL_WMI_HDR;
    if (known) {
      skip = buffer_size(e, (const uint8_t *)e->part.s, &size, diag);
      if (skip < 0)
        return skip;
      need = size;
    }
    size_t take = need - have < len ? need - have : len;
    /* A whole buffer in the input: read it in place. */
    if (have == 0 && len >= LT__ETL_WMI_HDR) {
      skip = buffer_size(e, p, &size, diag);
      if (skip < 0)
        return skip;
      if (len >= size) {
        rc = skip ? bad_buffer(e, diag, LT_ECORRUPT) : take_buffer(e, p, size, diag);
        e->nbuf++, e->st.buffers++, e->file_off += size, p += size, len -= size;
        continue;
      }
      take = len < LT__ETL_WMI_HDR ? len : LT__ETL_WMI_HDR;
    }
    if ((rc = lt__buf_append(&e->part, (const char *)p, take)))
      return rc;
    p += take, len -= take;
    if (known && e->part.n == need) {
      rc = skip ? bad_buffer(e, diag, LT_ECORRUPT)
                : take_buffer(e, (const uint8_t *)e->part.s, need, diag);
      e->nbuf++, e->st.buffers++, e->file_off += need, e->part.n = 0;
    }
  }
  return rc;
}

/* Ends the input: a partial buffer left over, fewer buffers than the
 * log-file header's BuffersWritten, or no buffer at all is a truncated or
 * empty file, LT_ECORRUPT (under keep_going the first two are counted as bad
 * buffers and warned once a buffer was read). Then drains the merge: every
 * record still held goes to cb. See etl.h. */
int lt__etl_finish(struct lt__etl *e, lt_diag *diag) {
  if (e->part.n) {
    size_t need = e->part.n >= LT__ETL_WMI_HDR ? rd32((const uint8_t *)e->part.s) : 0;
    int rc = corrupt(e, diag, e->nbuf, e->file_off, e->part.n,
                     "file truncated: the buffer has %zu of %zu bytes", e->part.n, need);
    e->part.n = 0;
    if (!e->keep_going || !e->nbuf)
      return rc;
    e->st.bad_buffers++;
    if (e->warn)
      e->warn(e->warn_data, diag);
  }
  if (!e->nbuf)
    return corrupt(e, diag, 0, 0, 0, "empty file");
  if (e->have_header && e->nbuf < e->h.buffers_written) {
    /* Cut at a buffer boundary: the log-file header counts the buffers. */
    int rc = corrupt(e, diag, e->nbuf, e->file_off, 0,
                     "file truncated: %llu of the %u buffers the log-file header counts",
                     (unsigned long long)e->nbuf, e->h.buffers_written);
    if (!e->keep_going)
      return rc;
    e->st.bad_buffers += e->h.buffers_written - e->nbuf;
    if (e->warn)
      e->warn(e->warn_data, diag);
  }
  return drain(e, 0, diag);
}

/* Whether buf starts like an .etl file: a first buffer with a plausible
 * BufferSize and SavedOffset, of BufferType HEADER (4), whose first record
 * is a system trace header (HeaderType 1 or 2, marker bits 0xC0) of Packet
 * type and group 0, the log-file header. Fewer than 0x50 bytes is no; a
 * sniff only, as the container checks it all again. See etl.h. */
int lt__etl_detect(const void *buf, size_t len) {
  const uint8_t *p = buf;
  const size_t at = LT__ETL_WMI_HDR;
  if (len < at + 8)
    return 0;
  uint32_t bs = rd32(p), saved = rd32(p + 4);
  return bs >= at + 0x20 && saved <= bs && rd16(p + 0x36) == 4 && (p[at + 2] == 1 || p[at + 2] == 2) &&
         (p[at + 3] & 0xC0) == 0xC0 && p[at + 6] == 0 && p[at + 7] == 0;
}
