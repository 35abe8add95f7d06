/* The .etl reader's upper half: decodes the payloads of DxgKrnl
 * EVENT_HEADER records into the records the joins read (struct lt__rec), so
 * an .etl and its text exports go through the same join code.
 *
 * The payload layout of each (id, version) the importer uses is a type
 * string here, parallel to the field names of import_events.c: fields
 * packed back to back, no padding (reference §4.4). When the capture
 * carries its own schema (EventMetadata TRACE_EVENT_INFO records of merged
 * captures, §4.6), that schema decides the layout and the built-in one is
 * checked against it. A payload whose size disagrees with its template is
 * malformed (buffer and offset named), never read in part.
 */
#include <stdio.h>
#include <string.h>

#include "etl.h"
#include "import_internal.h"

/* Field types: P pointer (4 or 8 bytes), Q u64, I u32, H u16, C u8, B BOOL
 * (4 bytes), G GUID, S NUL-terminated UTF-16 string; a/b: arrays of pointers
 * / BOOLs, counted by the nearest I field before them. */
struct etypes {
  uint16_t id;
  uint8_t version;
  const char *types;
};

#define GA "PPPIQIIIIIIIPPPIIIIIIIIIIBP"
static const struct etypes builtin[] = {
    {27, 0, "PPIPBB"}, {27, 1, "PPIPBBI"}, {27, 2, "PPIPBBIPIP"},
    {28, 0, "PPIPBB"}, {28, 1, "PPIPBBI"}, {28, 2, "PPIPBBIPIP"},
    {29, 0, "PPIPBB"}, {29, 1, "PPIPBBI"}, {29, 2, "PPIPBBIPIP"},
    {30, 0, "PIIIIIIIIPPP"}, {31, 0, "PIIIIIIIIPPP"}, {32, 0, "PIIIIIIIIPPP"},
    {33, 1, GA}, {33, 2, GA "H"}, {33, 3, GA "HB"}, {33, 4, GA "HBP"},
    {34, 1, GA}, {34, 2, GA "H"}, {34, 3, GA "HB"}, {34, 4, GA "HBP"},
    {35, 1, GA}, {35, 2, GA "H"}, {35, 3, GA "HB"}, {35, 4, GA "HBP"},
    {36, 1, "PPPPPPPPPPPP"}, {36, 2, "PPPPPPPPPPPPI"},
    {37, 1, "PPPPPPPPPPPP"}, {37, 2, "PPPPPPPPPPPPI"},
    {38, 1, "PPPPPPPPPPPP"}, {38, 2, "PPPPPPPPPPPPI"},
    {39, 0, "P"}, {40, 0, "P"}, {41, 0, "PPII"}, {42, 0, "PPI"}, {43, 0, "PPIab"},
    {73, 0, "PIQ"}, {73, 1, "PIQ"}, {73, 2, "P"}, {74, 0, "P"},
    {78, 0, "IPQQQIIQP"}, {78, 1, "IPQQQIIQPC"},
    {175, 1, "PPIQIPI"}, {177, 1, "PIQIIIQIP"},
    {178, 0, "PIIQIIBP"}, {178, 1, "PIIQIIBPPQ"}, {180, 0, "PIIBB"}, {180, 1, "PIIBBP"},
    {186, 0, "PC"}, {187, 0, "P"}, {188, 0, "P"}, {189, 0, "PCC"}, {190, 0, "PCC"},
    {401, 0, "PPIIB"},
    {471, 0, "PPII"}, {472, 0, "PPIIPPPS"}, {473, 0, "PPII"}, {477, 0, "PPIIPPPS"},
    {491, 0, "PPII"}, {492, 0, "PPIIPPPS"},
};

/* The built-in payload layout of DxgKrnl event id at version (a type string,
 * see struct etypes), or NULL when there is none: a record the importer uses
 * with no layout, built-in or in-file, is malformed. A static string. A
 * capture's own schema for the same (id, version) is checked against it. See
 * etl.h. */
const char *lt__etl_builtin_types(int id, int version) {
  for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
    if (builtin[i].id == id && builtin[i].version == version)
      return builtin[i].types;
  return NULL;
}

/* ---- the in-file schema (TRACE_EVENT_INFO) -------------------------------- */

#define MAX_FIELDS 48
#define MAX_SCHEMAS 512
#define NAME_MAX_LEN 48

struct schema {
  uint16_t id;
  uint8_t version, nfields;
  char types[MAX_FIELDS + 1];
  int8_t count_of[MAX_FIELDS]; /* field index giving an array's count, -1 */
  char names[MAX_FIELDS][NAME_MAX_LEN];
};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* TDH InType → type code; 0 for a type the decoder does not take. */
static char intype_code(unsigned t, int array) {
  switch (t) {
  case 16:
    return array ? 'a' : 'P';
  case 13:
    return array ? 'b' : 'B';
  case 9: case 10: case 21: case 17:
    return array ? 0 : 'Q';
  case 7: case 8: case 20:
    return array ? 0 : 'I';
  case 5: case 6:
    return array ? 0 : 'H';
  case 3: case 4:
    return array ? 0 : 'C';
  case 15:
    return array ? 0 : 'G';
  case 1:
    return array ? 0 : 'S';
  }
  return 0;
}

/* An ASCII copy of the NUL-terminated UTF-16 name at info + off. */
static int utf16_name(const uint8_t *info, size_t n, uint32_t off, char *out, size_t cap) {
  size_t k = 0;
  if (off == 0 || off >= n)
    return -1;
  for (size_t i = off; i + 1 < n; i += 2) {
    uint16_t c = rd16(info + i);
    if (c == 0) {
      out[k] = '\0';
      return k ? 0 : -1;
    }
    if (k + 1 >= cap || c > 0x7e)
      return -1;
    out[k++] = (char)c;
  }
  return -1;
}

/* Parses a TRACE_EVENT_INFO blob into s; -1 if it is not a DxgKrnl event
 * the decoder can lay out. */
static int schema_parse(const uint8_t *p, size_t n, struct schema *s) {
  if (n < 112 || memcmp(p, lt__guid_dxgkrnl, 16))
    return -1;
  uint32_t nprop = rd32(p + 100), ntop = rd32(p + 104);
  if (ntop > MAX_FIELDS || nprop != ntop || 112 + (size_t)ntop * 24 > n)
    return -1;
  memset(s, 0, sizeof *s);
  s->id = rd16(p + 32);
  s->version = p[34];
  s->nfields = (uint8_t)ntop;
  for (uint32_t i = 0; i < ntop; i++) {
    const uint8_t *e = p + 112 + (size_t)i * 24;
    uint32_t flags = rd32(e);
    int array = (flags & 0x4) != 0;
    if ((flags & 0x1) || (flags & 0x2) || (!array && rd16(e + 16) > 1))
      return -1; /* structs, length-prefixed or fixed arrays: not for these events */
    s->types[i] = intype_code(rd16(e + 8), array);
    s->count_of[i] = array ? (int8_t)rd16(e + 16) : -1;
    if (!s->types[i] || (array && (s->count_of[i] < 0 || s->count_of[i] >= (int)i)) ||
        utf16_name(p, n, rd32(e + 4), s->names[i], NAME_MAX_LEN))
      return -1;
  }
  return 0;
}

/* ---- the reader ---------------------------------------------------------------- */

struct etlrd {
  lt_import *imp;
  struct lt__etl *e;
  struct schema *schemas;
  size_t nschemas;
  uint64_t schema_mismatch, dxg_records;
  lt__buf text; /* the current record's values as text */
  const char *names[MAX_FIELDS];
  const char *vals[MAX_FIELDS];
  size_t nlens[MAX_FIELDS], vlens[MAX_FIELDS];
  size_t voffs[MAX_FIELDS];
  /* the last other provider's record, formatted */
  uint8_t last_guid[16];
  unsigned last_key;
  char last_prov[39], last_evname[48];
  size_t last_evname_len;
};

static const struct schema *schema_find(const struct etlrd *x, int id, int version) {
  for (size_t i = 0; i < x->nschemas; i++)
    if (x->schemas[i].id == id && x->schemas[i].version == version)
      return &x->schemas[i];
  return NULL;
}

/* Whether the built-in template agrees with the capture's schema. */
static int schema_agrees(const struct schema *s) {
  int known;
  const struct lt__evdef *d = NULL;
  for (int opc = 0; opc < 4 && !d; opc++)
    d = lt__evdef_find(s->id, s->version, -1, opc, &known);
  const char *t = lt__etl_builtin_types(s->id, s->version);
  if (!d || !t)
    return 1; /* not an event the importer uses */
  if (strlen(t) != s->nfields || strcmp(t, s->types))
    return 0;
  for (int i = 0; i < s->nfields; i++)
    if (strcmp(d->fields[i], s->names[i]))
      return 0;
  return 1;
}

static int schema_add(struct etlrd *x, const uint8_t *p, size_t n) {
  struct schema s;
  if (schema_parse(p, n, &s) || schema_find(x, s.id, s.version) || x->nschemas == MAX_SCHEMAS)
    return 0;
  if (!x->schemas && !(x->schemas = lt_calloc(MAX_SCHEMAS, sizeof *x->schemas)))
    return LT_ENOMEM;
  if (!schema_agrees(&s))
    x->schema_mismatch++;
  x->schemas[x->nschemas++] = s;
  return 0;
}

/* ---- payload decoding -------------------------------------------------------------- */

static size_t type_size(char t, int ptr) {
  switch (t) {
  case 'P': case 'a':
    return (size_t)ptr;
  case 'Q':
    return 8;
  case 'I': case 'B': case 'b':
    return 4;
  case 'H':
    return 2;
  case 'C':
    return 1;
  case 'G':
    return 16;
  }
  return 0;
}

static int put_hex(lt__buf *b, uint64_t v) {
  char tmp[20], *q = tmp + sizeof tmp;
  static const char hex[] = "0123456789abcdef";
  do
    *--q = hex[v & 15];
  while (v >>= 4);
  *--q = 'x';
  *--q = '0';
  return lt__buf_append(b, q, (size_t)(tmp + sizeof tmp - q));
}

static uint64_t read_num(const uint8_t *p, size_t size) {
  switch (size) {
  case 1:
    return p[0];
  case 2:
    return rd16(p);
  case 4:
    return rd32(p);
  }
  return rd64(p);
}

/* Decodes one field at p[*o..n) into the text buffer. -1: past the end. */
static int decode_field(struct etlrd *x, char t, uint64_t count, const uint8_t *p, size_t n,
                        size_t *o, int ptr) {
  size_t sz = type_size(t, ptr);
  if (t == 'S') {
    size_t i = *o;
    while (i + 1 < n && rd16(p + i))
      i += 2;
    if (i + 1 >= n)
      return -1;
    for (size_t k = *o; k < i; k += 2) {
      char c = rd16(p + k) < 0x7f ? (char)rd16(p + k) : '?';
      if (lt__buf_append(&x->text, &c, 1))
        return LT_ENOMEM;
    }
    *o = i + 2;
    return 0;
  }
  if (t == 'G') {
    if (n - *o < 16)
      return -1;
    char g[39];
    lt__guid_format(p + *o, g);
    *o += 16;
    return lt__buf_append(&x->text, g, 38);
  }
  if (t != 'a' && t != 'b')
    count = 1;
  if (count > (n - *o) / sz)
    return -1;
  for (uint64_t k = 0; k < count; k++, *o += sz) {
    if ((k && lt__buf_append(&x->text, " ", 1)) || put_hex(&x->text, read_num(p + *o, sz)))
      return LT_ENOMEM;
  }
  return 0;
}

/* Lays the payload out by types (count_of: array counts, or NULL for the
 * built-in rule) into x->vals. Returns 0, -1 (size disagrees; *need holds
 * what the template accounts for) or an error. */
static int decode(struct etlrd *x, const char *types, const int8_t *count_of,
                  const struct lt__etl_rec *er, size_t *nfields, size_t *need) {
  size_t o = 0, n = er->payload_len, nf = strlen(types);
  int last_count = -1;
  x->text.n = 0;
  for (size_t i = 0; i < nf; i++) {
    char t = types[i];
    int ci = count_of ? count_of[i] : last_count;
    uint64_t count = 0;
    if ((t == 'a' || t == 'b') && ci >= 0)
      (void)lt__parse_u64(x->text.s + x->voffs[ci], x->vlens[ci], &count);
    x->voffs[i] = x->text.n;
    int rc = decode_field(x, t, count, er->payload, n, &o, er->pointer_size);
    if (rc) {
      *need = o;
      return rc;
    }
    x->vlens[i] = x->text.n - x->voffs[i];
    if (t == 'I')
      last_count = (int)i;
  }
  *nfields = nf;
  *need = o;
  if (o != n)
    return -1;
  for (size_t i = 0; i < nf; i++)
    x->vals[i] = x->text.s + x->voffs[i];
  return 0;
}

static void rec_base(struct lt__rec *r, const struct lt__etl_rec *er) {
  memset(r, 0, sizeof *r);
  r->record = er->index;
  r->offset = er->offset;
  r->pos = er->buffer << 32 | er->offset;
  r->id = r->version = r->task = r->opcode = -1;
  r->has_ts = 1;
  r->ts_ns = er->t_ns;
  r->tid = er->tid;
}

static int on_dxgkrnl(struct etlrd *x, const struct lt__etl_rec *er, struct lt__rec *r,
                      lt_diag *diag) {
  int known;
  r->is_dxg = 1;
  r->provider = LT__DXGKRNL_NAME;
  r->provider_len = strlen(LT__DXGKRNL_NAME);
  r->id = er->id, r->version = er->version, r->task = er->task, r->opcode = er->opcode;
  x->dxg_records++;
  const struct lt__evdef *d = lt__evdef_find(er->id, er->version, er->task, er->opcode, &known);
  if (!d)
    return lt__import_record(x->imp, r, diag); /* counted as skipped */
  const struct schema *s = schema_find(x, er->id, er->version);
  const char *types = s ? s->types : lt__etl_builtin_types(er->id, er->version);
  size_t nf = 0, need = 0;
  int rc = types ? decode(x, types, s ? s->count_of : NULL, er, &nf, &need) : -1;
  if (rc == -1)
    return lt__import_malformed(x->imp, 1, er->index, 0, er->offset, diag,
                                "buffer %llu, offset 0x%x: DxgKrnl event %u (%s/%s v%u): payload "
                                "of %zu bytes, its %s template lays out %zu",
                                (unsigned long long)er->buffer, er->offset, er->id, d->task_name,
                                lt__opcode_name(d->opcode), er->version, er->payload_len,
                                s ? "in-file" : "built-in", need);
  if (rc)
    return rc;
  for (size_t i = 0; i < nf; i++) {
    x->names[i] = s ? s->names[i] : d->fields[i];
    x->nlens[i] = strlen(x->names[i]);
  }
  r->def = d;
  r->def_given = 1;
  r->n = nf;
  r->names = x->names;
  r->name_lens = x->nlens;
  r->vals = x->vals;
  r->val_lens = x->vlens;
  return lt__import_record(x->imp, r, diag);
}

static const char *kind_name(int kind) {
  static const char *const names[] = {"?", "kernel (system header)", "kernel (compact header)",
                                      "kernel (perfinfo header)", "classic provider",
                                      "classic provider (instance)", "manifest provider",
                                      "WPP message"};
  return kind > 0 && kind < LT__ETL_NKINDS ? names[kind] : names[0];
}

static int on_record(void *data, const struct lt__etl_rec *er, lt_diag *diag) {
  struct etlrd *x = data;
  struct lt__rec r;
  rec_base(&r, er);
  if (er->kind == LT__ETL_FULL && !memcmp(er->guid, lt__guid_event_metadata, 16) &&
      er->opcode == 0x20) {
    int rc = schema_add(x, er->payload, er->payload_len);
    if (rc)
      return rc;
  }
  if (er->kind == LT__ETL_EVENT && !memcmp(er->guid, lt__guid_dxgkrnl, 16))
    return on_dxgkrnl(x, er, &r, diag);
  if (er->guid) {
    /* Formatted once per run of the same provider and event (snprintf was
     * a fifth of the import's instructions in bench_import_etl). */
    unsigned key = (unsigned)er->kind << 24 ^ (er->kind == LT__ETL_EVENT ? er->id : er->opcode)
                                                  << 8 ^ er->version;
    if (memcmp(x->last_guid, er->guid, 16) || x->last_key != key || !x->last_evname_len) {
      memcpy(x->last_guid, er->guid, 16);
      x->last_key = key;
      lt__guid_format(er->guid, x->last_prov);
      x->last_evname_len = (size_t)snprintf(
          x->last_evname, sizeof x->last_evname, "%s %u v%u",
          er->kind == LT__ETL_EVENT ? "id" : "type",
          er->kind == LT__ETL_EVENT ? er->id : er->opcode, er->version);
    }
    r.provider = x->last_prov;
    r.provider_len = 38;
    r.evname = x->last_evname;
    r.evname_len = x->last_evname_len;
  } else {
    r.provider = kind_name(er->kind);
    r.provider_len = strlen(r.provider);
    r.evname = "";
  }
  return lt__import_record(x->imp, &r, diag);
}

static void warn_cb(void *data, const lt_diag *d) {
  struct etlrd *x = data;
  lt__import_bad_buffer(x->imp, d);
}

/* The importer's .etl reader (the reader ops of LT_IMPORT_ETL): a container
 * reader named after the import whose records are decoded here, DxgKrnl ones
 * into lt__rec for the joins and the others counted by provider; buffers
 * skipped under keep_going go to lt__import_bad_buffer. imp must outlive it;
 * the caller frees *st with lt__etlrd_free. LT_ENOMEM. */
int lt__etlrd_new(void **st, lt_import *imp, int keep_going) {
  struct etlrd *x = lt_calloc(1, sizeof *x);
  if (!x)
    return LT_ENOMEM;
  x->imp = imp;
  int rc = lt__etl_new(&x->e, lt__import_name(imp), keep_going, on_record, x, warn_cb, x);
  if (rc) {
    lt_free(x);
    return rc;
  }
  *st = x;
  return 0;
}

/* Feeds the next len bytes of the .etl to the container, which calls the
 * decoder back for each record in time order. Errors as lt__etl_feed's
 * (LT_ECORRUPT naming buffer and offset), or the joins'. */
int lt__etlrd_feed(void *st, const char *buf, size_t len, lt_diag *diag) {
  struct etlrd *x = st;
  return lt__etl_feed(x->e, buf, len, diag);
}

/* Ends the .etl: lt__etl_finish's checks and the last records, then
 * LT_ECORRUPT for a valid capture that held no DxgKrnl record, with a
 * message pointing at `lifetrace info`, rather than an empty trace that
 * would replay as clean. See etl.h. */
int lt__etlrd_finish(void *st, lt_diag *diag) {
  struct etlrd *x = st;
  int rc = lt__etl_finish(x->e, diag);
  if (rc || x->dxg_records)
    return rc;
  const struct lt__etl_stats *s = lt__etl_stats_get(x->e);
  snprintf(diag->file, sizeof diag->file, "%s", lt__import_name(x->imp));
  diag->record = -1;
  diag->line = 0;
  diag->offset = 0;
  snprintf(diag->msg, sizeof diag->msg,
           "a valid .etl (%llu buffers, %llu records) with no Microsoft-Windows-DxgKrnl events: "
           "nothing to import (see `lifetrace info`)",
           (unsigned long long)s->buffers, (unsigned long long)s->records);
  return LT_ECORRUPT;
}

/* Frees the reader, its container and the schemas read from the file; NULL
 * is a no-op. */
void lt__etlrd_free(void *st) {
  struct etlrd *x = st;
  if (!x)
    return;
  lt__etl_free(x->e);
  lt__buf_reset(&x->text);
  lt_free(x->schemas);
  lt_free(x);
}

/* The container under the reader, for its log-file header and counts (the
 * import's .etl facts); owned by st. */
const struct lt__etl *lt__etlrd_container(const void *st) {
  const struct etlrd *x = st;
  return x->e;
}

/* How many schemas the capture carried (*nschemas) and, returned, how many
 * of them disagree with the built-in templates in types or field names: a
 * capture from a Windows whose DxgKrnl layouts changed shows here (its
 * in-file schema is what decodes it). See etl.h. */
uint64_t lt__etlrd_schema_mismatch(const void *st, uint64_t *nschemas) {
  const struct etlrd *x = st;
  *nschemas = x->nschemas;
  return x->schema_mismatch;
}
