/* Reader for `xperf -i x.etl -a dumper` output.
 *
 * "BeginHeader", then one line per event type naming its columns
 * ("<Type>, TimeStamp, Process Name ( PID), ThreadID, CPU, etw:ActivityId,
 * etw:Related ActivityId, etw:UserSid, etw:SessionId, <payload fields…>"),
 * "EndHeader", one trace-info line, then one line per event: "<Type>,
 * <values…>", space-padded. Manifest types are named
 * "<Provider>/<Task>/<Opcode>" and carry no id or version, so the event is
 * recognized from the task, the opcode and the payload column names
 * (lt__evdef_by_name), once per type. TimeStamp is in microseconds from the
 * trace start. Array columns print as "Name[CountField]"; when a row has
 * more values than columns, arrays take CountField values each. Otherwise
 * the last column absorbs extra commas.
 */
#include <stdint.h>
#include <string.h>

#include "import_internal.h"

struct evtype {
  char *name;
  size_t nlen;
  int is_dxg;
  const struct lt__evdef *def;
  size_t ncols;   /* payload columns */
  char **cols;    /* all columns after the type (owned) */
  size_t *clens;
  int c_ts, c_proc, c_tid; /* indexes among cols, -1 absent */
  size_t first_payload;
  int has_arrays;
};

enum { PH_START, PH_HEADER, PH_INFO, PH_EVENTS };

struct dumper {
  lt_import *imp;
  struct lt__lines lines;
  struct lt__fields f;
  int phase;
  struct evtype *types;
  size_t ntypes, captypes;
  lt__u64tab by_hash; /* fnv(name) -> index + 1 */
  uint64_t records;
  /* the payload of the current row */
  const char **names, **vals;
  size_t *nlens, *vlens, cap;
};

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

/* Makes the xperf dumper reader for imp; LT_ENOMEM. */
int lt__dumper_new(void **st, lt_import *imp) {
  struct dumper *d = lt_calloc(1, sizeof *d);
  if (!d)
    return LT_ENOMEM;
  d->imp = imp;
  lt__u64tab_init(&d->by_hash, sizeof(size_t));
  *st = d;
  return 0;
}

/* Frees the dumper reader with the event types its header declared; NULL is
 * a no-op. */
void lt__dumper_free(void *st) {
  struct dumper *d = st;
  if (!d)
    return;
  for (size_t i = 0; i < d->ntypes; i++) {
    for (size_t k = 0; d->types[i].cols && k < d->types[i].ncols; k++)
      lt_free(d->types[i].cols[k]);
    lt_free(d->types[i].cols);
    lt_free(d->types[i].clens);
    lt_free(d->types[i].name);
  }
  lt_free(d->types);
  lt__u64tab_reset(&d->by_hash);
  lt__lines_free(&d->lines);
  lt__fields_free(&d->f);
  lt_free(d->names);
  lt_free(d->vals);
  lt_free(d->nlens);
  lt_free(d->vlens);
  lt_free(d);
}

static struct evtype *find_type(struct dumper *d, const char *s, size_t n) {
  size_t *idx = lt__u64tab_get(&d->by_hash, fnv(s, n));
  if (idx && d->types[*idx - 1].nlen == n && !memcmp(d->types[*idx - 1].name, s, n))
    return &d->types[*idx - 1];
  for (size_t i = 0; i < d->ntypes; i++) /* hash collision */
    if (d->types[i].nlen == n && !memcmp(d->types[i].name, s, n))
      return &d->types[i];
  return NULL;
}

static char *dup_n(const char *s, size_t n) {
  char *p = lt_malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static int col_index(const struct evtype *t, const char *name) {
  for (size_t i = 0; i < t->ncols; i++)
    if (lt__eq_ci(t->cols[i], t->clens[i], name))
      return (int)i;
  return -1;
}

/* Resolves "<Provider>/<Task>/<Opcode>" to an event definition. */
static void resolve_type(struct evtype *t) {
  const char *s = t->name, *a = memchr(s, '/', t->nlen);
  if (!a)
    return;
  t->is_dxg = lt__eq_ci(s, (size_t)(a - s), LT__DXGKRNL_NAME);
  const char *b = memchr(a + 1, '/', t->nlen - (size_t)(a + 1 - s));
  if (!t->is_dxg || !b)
    return;
  t->def = lt__evdef_by_name(a + 1, (size_t)(b - a - 1), b + 1, t->nlen - (size_t)(b + 1 - s),
                             (const char *const *)t->cols + t->first_payload,
                             t->clens + t->first_payload, t->ncols - t->first_payload);
}

static int header_line(struct dumper *d) {
  const struct lt__fields *f = &d->f;
  if (f->n == 0 || f->len[0] == 0)
    return 0;
  if (d->ntypes == d->captypes) {
    size_t cap = d->captypes ? d->captypes * 2 : 64;
    struct evtype *nt = lt_realloc(d->types, cap * sizeof *nt);
    if (!nt)
      return LT_ENOMEM;
    d->types = nt;
    d->captypes = cap;
  }
  struct evtype *t = &d->types[d->ntypes];
  memset(t, 0, sizeof *t);
  t->name = dup_n(f->v[0], f->len[0]);
  t->nlen = f->len[0];
  t->ncols = f->n - 1;
  t->cols = lt_calloc(t->ncols ? t->ncols : 1, sizeof *t->cols);
  t->clens = lt_calloc(t->ncols ? t->ncols : 1, sizeof *t->clens);
  d->ntypes++; /* owned from here: freed with the reader */
  if (!t->name || !t->cols || !t->clens)
    return LT_ENOMEM;
  for (size_t i = 0; i < t->ncols; i++) {
    if (!(t->cols[i] = dup_n(f->v[i + 1], f->len[i + 1])))
      return LT_ENOMEM;
    t->clens[i] = f->len[i + 1];
    if (memchr(t->cols[i], '[', t->clens[i]))
      t->has_arrays = 1;
  }
  t->c_ts = col_index(t, "TimeStamp");
  t->c_proc = col_index(t, "Process Name ( PID)");
  t->c_tid = col_index(t, "ThreadID");
  int sid = col_index(t, "etw:SessionId");
  t->first_payload = sid >= 0 ? (size_t)sid + 1 : 0;
  resolve_type(t);
  void *v;
  int rc = lt__u64tab_put(&d->by_hash, fnv(t->name, t->nlen), &v, NULL);
  if (rc)
    return rc;
  if (*(size_t *)v == 0)
    *(size_t *)v = d->ntypes;
  return 0;
}

static int room(struct dumper *d, size_t n) {
  if (n <= d->cap)
    return 0;
  size_t cap = d->cap ? d->cap : 64;
  while (cap < n)
    cap *= 2;
  const char **a = lt_realloc(d->names, cap * sizeof *a);
  if (!a)
    return LT_ENOMEM;
  d->names = a;
  const char **b = lt_realloc(d->vals, cap * sizeof *b);
  if (!b)
    return LT_ENOMEM;
  d->vals = b;
  size_t *c = lt_realloc(d->nlens, cap * sizeof *c);
  if (!c)
    return LT_ENOMEM;
  d->nlens = c;
  size_t *e = lt_realloc(d->vlens, cap * sizeof *e);
  if (!e)
    return LT_ENOMEM;
  d->vlens = e;
  d->cap = cap;
  return 0;
}

/* The count of an array column "Name[Count]", from this row's Count. */
static int array_count(const struct evtype *t, const struct lt__fields *f, size_t col,
                       uint64_t *count) {
  const char *br = memchr(t->cols[col], '[', t->clens[col]);
  if (!br)
    return 1; /* not an array */
  size_t n = t->clens[col] - (size_t)(br + 1 - t->cols[col]);
  if (n && br[n] == ']')
    n--;
  for (size_t i = 0; i < t->ncols; i++)
    if (t->clens[i] == n && !memcmp(t->cols[i], br + 1, n) && i + 1 < f->n)
      return lt__parse_u64(f->v[i + 1], f->len[i + 1], count) ? -1 : 0;
  return -1;
}

/* Pairs payload columns with this row's values (see the file comment). */
static int payload(struct dumper *d, const struct evtype *t, const char *line, size_t len,
                   size_t *n, const char **why) {
  const struct lt__fields *f = &d->f;
  size_t nv = f->n - 1, k = 0, v = t->first_payload;
  int rc = room(d, nv + t->ncols);
  if (rc)
    return rc;
  int expand = nv > t->ncols && t->has_arrays;
  for (size_t c = t->first_payload; c < t->ncols; c++) {
    uint64_t count = 1;
    if (expand && array_count(t, f, c, &count) < 0)
      return *why = "array count column missing or not a number", LT_ECORRUPT;
    if (v > nv || count > nv - v) /* v > nv: the row ends before the payload */
      return *why = "fewer values than the header's columns", LT_ECORRUPT;
    for (uint64_t i = 0; i < count; i++, v++, k++) {
      d->names[k] = t->cols[c];
      d->nlens[k] = t->clens[c];
      d->vals[k] = f->v[v + 1];
      d->vlens[k] = f->len[v + 1];
    }
  }
  if (v < nv && k && !expand) { /* the last column kept its commas */
    const char *end = f->v[nv] + f->len[nv];
    d->vlens[k - 1] = (size_t)(end - d->vals[k - 1]);
    uintptr_t lo = (uintptr_t)line, hi = lo + len, a = (uintptr_t)d->vals[k - 1];
    if (a < lo || (uintptr_t)end > hi)
      d->vlens[k - 1] = f->len[t->ncols]; /* quoted: keep the first part */
  } else if (v < nv) {
    return *why = "more values than the header's columns", LT_ECORRUPT;
  }
  *n = k;
  return 0;
}

/* A header column's value as a number: 0 (set), 1 (column absent or empty)
 * or -1 (present but not a number, e.g. more than 64 bits). */
static int header_num(const struct lt__fields *f, int col, uint64_t *v) {
  if (col < 0 || (size_t)col + 1 >= f->n || f->len[col + 1] == 0)
    return 1;
  return lt__parse_u64(f->v[col + 1], f->len[col + 1], v);
}

/* TimeStamp and ThreadID (a value that does not parse is an error, not a
 * record without time: -1 and *bad the column), and the process name. */
static int header_facts(struct dumper *d, const struct evtype *t, struct lt__rec *r, int *bad) {
  const struct lt__fields *f = &d->f;
  uint64_t v;
  int rc = header_num(f, t->c_ts, &v);
  if (rc < 0 || (rc == 0 && v > UINT64_MAX / 1000))
    return *bad = t->c_ts, -1;
  if (rc == 0) {
    r->has_ts = 1;
    r->ts_ns = v * 1000;
  }
  if (header_num(f, t->c_tid, &r->tid) < 0)
    return *bad = t->c_tid, -1;
  if (t->c_proc >= 0 && (size_t)t->c_proc + 1 < f->n) {
    /* "game.exe (1234)": a name for the pid (not the event's owner). */
    const char *s = f->v[t->c_proc + 1], *open = NULL;
    size_t n = f->len[t->c_proc + 1];
    for (size_t i = n; i-- > 0;)
      if (s[i] == '(') {
        open = s + i;
        break;
      }
    if (open && n && s[n - 1] == ')') {
      const char *name = s;
      size_t nlen = (size_t)(open - s);
      lt__trim(&name, &nlen);
      if (!lt__parse_u64(open + 1, (size_t)(s + n - 1 - open - 1), &v) && nlen &&
          !lt__eq_ci(name, nlen, "Unknown"))
        lt__import_process_name(d->imp, v, name, nlen);
    }
  }
  return 0;
}

static int event_line(struct dumper *d, const char *s, size_t n, uint64_t line, uint64_t off,
                      lt_diag *diag) {
  const struct lt__fields *f = &d->f;
  uint64_t rec = d->records++;
  struct evtype *t = find_type(d, f->v[0], f->len[0]);
  struct lt__rec r = {0};
  r.record = rec;
  r.line = line;
  r.offset = off;
  r.id = r.version = r.task = r.opcode = -1;
  r.def_given = 1;
  r.evname = f->v[0];
  r.evname_len = f->len[0];
  const char *slash = memchr(f->v[0], '/', f->len[0]);
  r.provider = f->v[0];
  r.provider_len = slash ? (size_t)(slash - f->v[0]) : f->len[0];
  r.is_dxg = lt__eq_ci(r.provider, r.provider_len, LT__DXGKRNL_NAME);
  if (!t) {
    if (r.is_dxg)
      return lt__import_malformed(d->imp, 1, rec, line, off, diag,
                                  "no header line for event type '%.*s'", (int)f->len[0], f->v[0]);
    return lt__import_record(d->imp, &r, diag);
  }
  int bad = -1;
  if (header_facts(d, t, &r, &bad))
    return lt__import_malformed(d->imp, 1, rec, line, off, diag,
                                "%.*s: %s '%.*s' is not a number (or over 64 bits)",
                                (int)f->len[0], f->v[0], t->cols[bad], (int)f->len[bad + 1],
                                f->v[bad + 1]);
  r.def = t->def;
  if (t->def) {
    const char *why = NULL;
    size_t np = 0;
    int rc = payload(d, t, s, n, &np, &why);
    if (rc == LT_ECORRUPT)
      return lt__import_malformed(d->imp, 1, rec, line, off, diag, "%.*s: %s (%zu values, %zu columns)",
                                  (int)f->len[0], f->v[0], why, f->n - 1, t->ncols);
    if (rc)
      return rc;
    r.id = t->def->id;
    r.version = t->def->version;
    r.n = np;
    r.names = d->names;
    r.name_lens = d->nlens;
    r.vals = d->vals;
    r.val_lens = d->vlens;
  }
  return lt__import_record(d->imp, &r, diag);
}

/* A line whose quoted field has no closing quote (the fields before it are
 * split). A header line is fatal; a DxgKrnl record (or one whose type is in
 * that field) is malformed; another provider's record is read as far as it
 * goes, which is its type and header columns: it is skipped all the same. */
static int open_quote(struct dumper *d, const char *s, size_t n, uint64_t line, uint64_t off,
                      lt_diag *diag) {
  const struct lt__fields *f = &d->f;
  const char *slash = f->n ? memchr(f->v[0], '/', f->len[0]) : NULL;
  int other = f->n && !lt__eq_ci(f->v[0], slash ? (size_t)(slash - f->v[0]) : f->len[0],
                                 LT__DXGKRNL_NAME);
  if (d->phase == PH_HEADER) {
    int rc = lt__import_malformed(d->imp, 0, 0, line, off, diag,
                                  "header line: column %zu: quoted field has no closing quote",
                                  f->n + 1);
    return rc ? rc : LT_ECORRUPT; /* nothing can be read without the header */
  }
  if (d->phase == PH_INFO) {
    d->phase = PH_EVENTS;
    if (other && !find_type(d, f->v[0], f->len[0]))
      return 0; /* the trace-info line */
  }
  if (other)
    return event_line(d, s, n, line, off, diag);
  return lt__import_malformed(d->imp, 1, d->records++, line, off, diag,
                              "field %zu: quoted field has no closing quote", f->n + 1);
}

static int on_line(void *st, const char *s, size_t n, uint64_t line, uint64_t off, lt_diag *diag) {
  struct dumper *d = st;
  const char *t = s;
  size_t tn = n;
  lt__trim(&t, &tn);
  if (tn >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3))
    t += 3, tn -= 3;
  if (tn == 0)
    return 0;
  switch (d->phase) {
  case PH_START:
    if (!lt__eq_ci(t, tn, "BeginHeader")) {
      /* Nothing can be read without the header: fatal even when keeping going. */
      int rc = lt__import_malformed(d->imp, 0, 0, line, off, diag,
                                    "xperf dumper output must start with BeginHeader");
      return rc ? rc : LT_ECORRUPT;
    }
    d->phase = PH_HEADER;
    return 0;
  case PH_HEADER:
    if (lt__eq_ci(t, tn, "EndHeader")) {
      d->phase = PH_INFO;
      return 0;
    }
    break;
  }
  int rc = lt__split_csv(&d->f, s, n);
  if (rc == LT_ECORRUPT)
    return open_quote(d, s, n, line, off, diag);
  if (rc)
    return rc;
  if (d->f.n && d->f.len[0] >= 3 && !memcmp(d->f.v[0], "\xEF\xBB\xBF", 3))
    d->f.v[0] += 3, d->f.len[0] -= 3;
  if (d->phase == PH_HEADER)
    return header_line(d);
  if (d->phase == PH_INFO) {
    d->phase = PH_EVENTS;
    /* The trace-info line after EndHeader is not an event, unless it is. */
    if (!find_type(d, d->f.v[0], d->f.len[0]))
      return 0;
  }
  return event_line(d, s, n, line, off, diag);
}

/* Feeds dumper bytes line by line: the header's event type declarations
 * first, then one record per event line. LT_ECORRUPT names the file and
 * record. */
int lt__dumper_feed(void *st, const char *buf, size_t len, lt_diag *diag) {
  struct dumper *d = st;
  int rc = lt__lines_feed(&d->lines, buf, len, on_line, d, diag);
  if (rc == LT_ECORRUPT)
    lt__import_diag(d->imp, diag, d->records);
  return rc;
}

/* Ends the dumper input; an output that stops inside its header (no
 * EndHeader) is malformed. */
int lt__dumper_finish(void *st, lt_diag *diag) {
  struct dumper *d = st;
  int rc = lt__lines_finish(&d->lines, on_line, d, diag);
  if (!rc && d->phase < PH_INFO)
    rc = lt__import_malformed(d->imp, 0, d->records, d->lines.line, 0, diag,
                              "xperf dumper output ends inside its header (no EndHeader)");
  if (rc == LT_ECORRUPT)
    lt__import_diag(d->imp, diag, d->records);
  return rc;
}
