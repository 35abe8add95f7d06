/* `lifetrace info capture.etl`: what an .etl holds before it is imported —
 * the log-file header's facts, records per provider and event id/version,
 * the time span and what the capture says it lost. Runs the container
 * reader alone (no payload decoding, no joins). */
#include <stdlib.h>
#include <string.h>

#include "etl.h"
#include "u64tab.h"

#define READ_CHUNK (1u << 20)

struct counter {
  lt_etl_info *info;
  size_t cap;
  lt__u64tab by_key; /* key hash -> index + 1 */
};

static uint64_t key_hash(const char *prov, int manifest, unsigned id, unsigned ver) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char *p = prov; *p; p++)
    h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
  return (h ^ ((uint64_t)manifest << 40 | (uint64_t)id << 16 | ver)) * 0x100000001b3ull;
}

static int bump(struct counter *c, const char *prov, int manifest, unsigned id, unsigned ver) {
  lt_etl_info *in = c->info;
  void *v;
  int fresh = 0;
  int rc = lt__u64tab_put(&c->by_key, key_hash(prov, manifest, id, ver), &v, &fresh);
  if (rc)
    return rc;
  size_t *idx = v;
  if (*idx) {
    in->counts[*idx - 1].count++;
    return 0;
  }
  if (in->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    lt_etl_count *n = lt_realloc(in->counts, cap * sizeof *n);
    if (!n)
      return LT_ENOMEM;
    in->counts = n;
    c->cap = cap;
  }
  lt_etl_count *e = &in->counts[in->n++];
  memset(e, 0, sizeof *e);
  snprintf(e->provider, sizeof e->provider, "%s", prov);
  e->manifest = manifest;
  e->id = id;
  e->version = ver;
  e->count = 1;
  *idx = in->n;
  return 0;
}

static const char *known_name(const uint8_t *g) {
  if (!memcmp(g, lt__guid_dxgkrnl, 16))
    return "Microsoft-Windows-DxgKrnl";
  if (!memcmp(g, lt__guid_event_metadata, 16))
    return "EventMetadata (in-file schema)";
  return NULL;
}

static int on_record(void *data, const struct lt__etl_rec *r, lt_diag *diag) {
  struct counter *c = data;
  char prov[64];
  (void)diag;
  if (r->guid) {
    const char *name = known_name(r->guid);
    if (name)
      snprintf(prov, sizeof prov, "%s", name);
    else
      lt__guid_format(r->guid, prov);
    if (r->kind == LT__ETL_EVENT && !memcmp(r->guid, lt__guid_dxgkrnl, 16))
      c->info->dxgkrnl++;
    return r->kind == LT__ETL_EVENT ? bump(c, prov, 1, r->id, r->version)
                                    : bump(c, prov, 0, r->opcode, r->version);
  }
  static const char *const kinds[] = {"?", "kernel (system header)", "kernel (compact header)",
                                      "kernel (perfinfo header)", "", "", "",
                                      "WPP message"};
  unsigned group = 0, type = 0;
  if (r->kind == LT__ETL_SYSTEM || r->kind == LT__ETL_COMPACT || r->kind == LT__ETL_PERFINFO)
    type = r->p[6], group = r->p[7];
  return bump(c, kinds[r->kind], 0, group << 8 | type, 0);
}

static int cmp_count(const void *a, const void *b) {
  const lt_etl_count *x = a, *y = b;
  int c = strcmp(x->provider, y->provider);
  if (c)
    return c;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return x->version < y->version ? -1 : x->version > y->version;
}

static void fill(lt_etl_info *in, const struct lt__etl *e) {
  const struct lt__etl_header *h = lt__etl_header_get(e);
  const struct lt__etl_stats *s = lt__etl_stats_get(e);
  in->buffers = s->buffers;
  in->compressed_buffers = s->compressed;
  in->records = s->records;
  in->bad_buffers = s->bad_buffers;
  in->lost_flagged = s->lost_flagged;
  in->compression = lt__xca_name(h ? h->compression : 0);
  if (h) {
    in->os_build = h->os_build;
    in->ncpu = h->ncpu;
    in->pointer_size = h->pointer_size;
    in->buffer_size = h->buffer_size;
    in->clock_type = h->clock_type;
    in->start_time = h->start_time;
    in->events_lost = h->events_lost;
    in->buffers_lost = h->buffers_lost;
  }
  if (h && s->records && s->last_ts > s->first_ts) {
    struct lt__etl_header z = *h;
    z.origin_ts = s->first_ts;
    in->span_ns = lt__etl_ns(&z, s->last_ts);
  }
  qsort(in->counts, in->n, sizeof *in->counts, cmp_count);
}

/* Reads the .etl at f to its end through the container alone (no joins) and
 * counts its records by provider, id and version, with the log-file header's
 * facts; the caller owns *out. See lifetrace/import.h. */
int lt_etl_info_read(FILE *f, const char *name, int keep_going, lt_etl_info **out,
                     lt_diag *diag) {
  struct counter c = {0};
  struct lt__etl *e = NULL;
  char *buf = NULL;
  int rc = LT_ENOMEM;
  lt__u64tab_init(&c.by_key, sizeof(size_t));
  if (!(c.info = lt_calloc(1, sizeof *c.info)) || !(buf = lt_malloc(READ_CHUNK)))
    goto out;
  if ((rc = lt__etl_new(&e, name, keep_going, on_record, &c, NULL, NULL)))
    goto out;
  size_t n;
  while (rc == 0 && (n = fread(buf, 1, READ_CHUNK, f)) > 0)
    rc = lt__etl_feed(e, buf, n, diag);
  if (rc == 0 && ferror(f))
    rc = LT_EIO;
  if (rc == 0)
    rc = lt__etl_finish(e, diag);
  if (rc)
    goto out;
  fill(c.info, e);
  *out = c.info;
  c.info = NULL;
out:
  lt_etl_info_free(c.info);
  lt__etl_free(e);
  lt__u64tab_reset(&c.by_key);
  lt_free(buf);
  return rc;
}

/* Frees what lt_etl_info_read made; NULL is a no-op. See lifetrace/import.h. */
void lt_etl_info_free(lt_etl_info *info) {
  if (!info)
    return;
  lt_free(info->counts);
  lt_free(info);
}

static void write_text(FILE *out, const lt_etl_info *in) {
  fprintf(out,
          "etl: OS build %u, %u processors, %u-bit pointers, buffers of %u bytes, clock type %u, "
          "compression %s\n",
          in->os_build, in->ncpu, in->pointer_size * 8, in->buffer_size, in->clock_type,
          in->compression);
  fprintf(out, "  %llu buffers (%llu compressed, %llu corrupt skipped), %llu records, span %.6f s\n",
          (unsigned long long)in->buffers, (unsigned long long)in->compressed_buffers,
          (unsigned long long)in->bad_buffers, (unsigned long long)in->records,
          (double)in->span_ns / 1e9);
  fprintf(out, "  lost: %llu events, %llu buffers (log-file header); %llu buffers flagged lost\n",
          (unsigned long long)in->events_lost, (unsigned long long)in->buffers_lost,
          (unsigned long long)in->lost_flagged);
  fprintf(out, "  Microsoft-Windows-DxgKrnl records: %llu\n", (unsigned long long)in->dxgkrnl);
  for (size_t i = 0; i < in->n; i++) {
    const lt_etl_count *c = &in->counts[i];
    if (c->manifest)
      fprintf(out, "  %-40s id %5u v%u: %llu\n", c->provider, c->id, c->version,
              (unsigned long long)c->count);
    else if (c->provider[0] == '{' || strchr(c->provider, '('))
      fprintf(out, "  %-40s %s %u.%u: %llu\n", c->provider,
              c->provider[0] == '{' ? "type" : "group.type", c->provider[0] == '{' ? c->id : c->id >> 8,
              c->provider[0] == '{' ? c->version : c->id & 0xFF, (unsigned long long)c->count);
    else
      fprintf(out, "  %-40s type %u v%u: %llu\n", c->provider, c->id, c->version,
              (unsigned long long)c->count);
  }
}

/* Writes an .etl's info as `lifetrace info` prints it: text lines, or one
 * JSON object and a newline (json != 0). See lifetrace/import.h. */
void lt_etl_info_write(FILE *out, const lt_etl_info *in, int json) {
  if (!json) {
    write_text(out, in);
    return;
  }
  fprintf(out,
          "{\"format\": \"etl\", \"os_build\": %u, \"processors\": %u, \"pointer_size\": %u, "
          "\"buffer_size\": %u, \"clock_type\": %u, \"compression\": \"%s\", \"buffers\": %llu, "
          "\"compressed_buffers\": %llu, \"bad_buffers\": %llu, \"records\": %llu, "
          "\"span_ns\": %llu, \"events_lost\": %llu, \"buffers_lost\": %llu, "
          "\"lost_flagged\": %llu, \"dxgkrnl\": %llu, \"events\": [",
          in->os_build, in->ncpu, in->pointer_size, in->buffer_size, in->clock_type,
          in->compression, (unsigned long long)in->buffers,
          (unsigned long long)in->compressed_buffers, (unsigned long long)in->bad_buffers,
          (unsigned long long)in->records, (unsigned long long)in->span_ns,
          (unsigned long long)in->events_lost, (unsigned long long)in->buffers_lost,
          (unsigned long long)in->lost_flagged, (unsigned long long)in->dxgkrnl);
  for (size_t i = 0; i < in->n; i++) {
    const lt_etl_count *c = &in->counts[i];
    fprintf(out, "%s{\"provider\": \"%s\", \"%s\": %u, \"version\": %u, \"count\": %llu}",
            i ? ", " : "", c->provider, c->manifest ? "id" : "type", c->id, c->version,
            (unsigned long long)c->count);
  }
  fputs("]}\n", out);
}
