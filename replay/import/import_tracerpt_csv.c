/* Reader for `tracerpt x.etl -of CSV` exports.
 *
 * Line 1 is the header: "Event Name, Type, Event ID, Version, Channel, Level,
 * Opcode, Task, Keyword, PID, TID, Processor Number, Instance ID, Parent
 * Instance ID, Activity ID, Related Activity ID, Clock-Time, Kernel(ms),
 * User(ms), User Data". Every further line is one record; for manifest
 * events "Event Name" is the provider, "Type" the opcode name (with a
 * trailing space), and the columns from "User Data" on are the payload
 * values in template order — positional, unnamed, so the event's template
 * (import_events.c) names them. PID/TID print in hex; Clock-Time is a raw
 * 100-ns count.
 */
#include <string.h>

#include "import_internal.h"

struct csv {
  lt_import *imp;
  struct lt__lines lines;
  struct lt__fields f;
  int have_header;
  int c_name, c_type, c_id, c_ver, c_opcode, c_task, c_tid, c_clock, c_user;
  uint64_t records;
};

/* Makes the tracerpt CSV reader for imp; LT_ENOMEM. */
int lt__csv_new(void **st, lt_import *imp) {
  struct csv *c = lt_calloc(1, sizeof *c);
  if (!c)
    return LT_ENOMEM;
  c->imp = imp;
  *st = c;
  return 0;
}

/* Frees the CSV reader; NULL is a no-op. */
void lt__csv_free(void *st) {
  struct csv *c = st;
  if (!c)
    return;
  lt__lines_free(&c->lines);
  lt__fields_free(&c->f);
  lt_free(c);
}

static int col(const struct lt__fields *f, const char *name) {
  for (size_t i = 0; i < f->n; i++)
    if (lt__eq_ci(f->v[i], f->len[i], name))
      return (int)i;
  return -1;
}

static int header(struct csv *c, uint64_t line, uint64_t off, lt_diag *diag) {
  const struct lt__fields *f = &c->f;
  /* A UTF-8 byte-order mark may precede "Event Name". */
  if (f->n && f->len[0] >= 3 && !memcmp(f->v[0], "\xEF\xBB\xBF", 3)) {
    c->f.v[0] += 3;
    c->f.len[0] -= 3;
  }
  c->c_name = col(f, "Event Name");
  c->c_type = col(f, "Type");
  c->c_id = col(f, "Event ID");
  c->c_ver = col(f, "Version");
  c->c_opcode = col(f, "Opcode");
  c->c_task = col(f, "Task");
  c->c_tid = col(f, "TID");
  c->c_clock = col(f, "Clock-Time");
  c->c_user = col(f, "User Data");
  if (c->c_name < 0 || c->c_id < 0 || c->c_ver < 0 || c->c_user < 0) {
    int rc = lt__import_malformed(c->imp, 0, 0, line, off, diag,
                                  "not a tracerpt CSV header (needs Event Name, Event ID, "
                                  "Version and User Data columns)");
    return rc ? rc : LT_ECORRUPT; /* nothing can be read without it */
  }
  c->have_header = 1;
  return 0;
}

static int opt_num(const struct lt__fields *f, int i, uint64_t *v) {
  if (i < 0 || (size_t)i >= f->n)
    return -1;
  return lt__parse_u64(f->v[i], f->len[i], v);
}

/* TID and Clock-Time: absent or blank leaves them unset; a value that does
 * not parse (not a number, over 64 bits) is an error, not a record without
 * its time. Returns the bad column or -1. */
static int header_facts(const struct csv *c, struct lt__rec *r) {
  const struct lt__fields *f = &c->f;
  uint64_t v;
  if (c->c_tid >= 0 && (size_t)c->c_tid < f->n && f->len[c->c_tid]) {
    if (opt_num(f, c->c_tid, &v))
      return c->c_tid;
    r->tid = v;
  }
  if (c->c_clock >= 0 && (size_t)c->c_clock < f->n && f->len[c->c_clock]) {
    if (opt_num(f, c->c_clock, &v) || v > UINT64_MAX / 100)
      return c->c_clock;
    r->has_ts = 1;
    r->ts_ns = v * 100;
  }
  return -1;
}

static int row(struct csv *c, uint64_t line, uint64_t off, lt_diag *diag) {
  const struct lt__fields *f = &c->f;
  uint64_t rec = c->records++;
  if (f->n < (size_t)c->c_user)
    return lt__import_malformed(c->imp, 1, rec, line, off, diag,
                                "row has %zu fields; the header has %d before User Data", f->n,
                                c->c_user);
  struct lt__rec r = {0};
  r.record = rec;
  r.line = line;
  r.offset = off;
  r.provider = f->v[c->c_name];
  r.provider_len = f->len[c->c_name];
  r.is_dxg = lt__eq_ci(r.provider, r.provider_len, LT__DXGKRNL_NAME);
  if (c->c_type >= 0) {
    r.evname = f->v[c->c_type];
    r.evname_len = f->len[c->c_type];
  }
  uint64_t id, ver, v;
  if (opt_num(f, c->c_id, &id) || opt_num(f, c->c_ver, &ver) || id > 0xffff || ver > 0xff) {
    if (r.is_dxg)
      return lt__import_malformed(c->imp, 1, rec, line, off, diag,
                                  "DxgKrnl row: Event ID '%.*s' or Version '%.*s' is not a number",
                                  (int)f->len[c->c_id], f->v[c->c_id], (int)f->len[c->c_ver],
                                  f->v[c->c_ver]);
    id = ver = (uint64_t)-1;
  }
  r.id = (int)id;
  r.version = (int)ver;
  r.task = opt_num(f, c->c_task, &v) == 0 && v <= 0xffff ? (int)v : -1;
  r.opcode = -1;
  if (c->c_opcode >= 0 && (size_t)c->c_opcode < f->n)
    r.opcode = lt__opcode_from_name(f->v[c->c_opcode], f->len[c->c_opcode]);
  if (r.opcode < 0 && r.evname)
    r.opcode = lt__opcode_from_name(r.evname, r.evname_len);
  int bad = header_facts(c, &r);
  if (bad >= 0)
    return lt__import_malformed(c->imp, 1, rec, line, off, diag,
                                "%s '%.*s' is not a number (or over 64 bits)",
                                bad == c->c_tid ? "TID" : "Clock-Time", (int)f->len[bad], f->v[bad]);
  r.n = f->n - (size_t)c->c_user;
  r.vals = f->v + c->c_user;
  r.val_lens = f->len + c->c_user;
  /* A payload-less row has one empty User Data column. */
  if (r.n == 1 && r.val_lens[0] == 0)
    r.n = 0;
  return lt__import_record(c->imp, &r, diag);
}

/* A line whose quoted field has no closing quote. The header is fatal; a
 * DxgKrnl row (or one whose Event Name is in that field) is malformed;
 * another provider's row is skipped as ever (tracerpt may write a string
 * with a line break in it, and such payloads are never read). */
static int open_quote(struct csv *c, uint64_t line, uint64_t off, lt_diag *diag) {
  const struct lt__fields *f = &c->f;
  if (!c->have_header) {
    int rc = lt__import_malformed(c->imp, 0, 0, line, off, diag,
                                  "header: column %zu: quoted field has no closing quote",
                                  f->n + 1);
    return rc ? rc : LT_ECORRUPT;
  }
  struct lt__rec r = {0};
  r.record = c->records++;
  r.line = line;
  r.offset = off;
  r.id = r.version = r.task = r.opcode = -1;
  if ((size_t)c->c_name < f->n) {
    r.provider = f->v[c->c_name];
    r.provider_len = f->len[c->c_name];
  }
  if (r.provider && !lt__eq_ci(r.provider, r.provider_len, LT__DXGKRNL_NAME))
    return lt__import_record(c->imp, &r, diag);
  return lt__import_malformed(c->imp, 1, r.record, line, off, diag,
                              "field %zu: quoted field has no closing quote", f->n + 1);
}

static int on_line(void *st, const char *s, size_t n, uint64_t line, uint64_t off, lt_diag *diag) {
  struct csv *c = st;
  const char *t = s;
  size_t tn = n;
  lt__trim(&t, &tn);
  if (tn == 0)
    return 0;
  int rc = lt__split_csv(&c->f, s, n);
  if (rc == LT_ECORRUPT)
    return open_quote(c, line, off, diag);
  if (rc)
    return rc;
  return c->have_header ? row(c, line, off, diag) : header(c, line, off, diag);
}

/* Feeds CSV bytes; each complete line is one record or the header row.
 * LT_ECORRUPT names the file and record in diag. */
int lt__csv_feed(void *st, const char *buf, size_t len, lt_diag *diag) {
  struct csv *c = st;
  int rc = lt__lines_feed(&c->lines, buf, len, on_line, c, diag);
  if (rc == LT_ECORRUPT)
    lt__import_diag(c->imp, diag, c->records);
  return rc;
}

/* Ends the CSV input: parses a last line without a newline. */
int lt__csv_finish(void *st, lt_diag *diag) {
  struct csv *c = st;
  return lt__lines_finish(&c->lines, on_line, c, diag);
}
