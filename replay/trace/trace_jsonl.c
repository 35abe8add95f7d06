/* The JSONL codec: one trace header or event per line (docs/trace-format.md).
 *
 * The writer is canonical: a fixed key order, fields at their proto3 default
 * omitted, values above 2^53 as "0x…" strings, so dump → encode → dump is
 * byte-identical. The parser (jansson) accepts integers, "0x…" and decimal
 * strings for every number, and names the key and what was wrong on error.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_io.h"

#define MAX_EXACT (UINT64_C(1) << 53)

/* ---- growable buffer ------------------------------------------------------ */

/* ---- writer --------------------------------------------------------------- */

/* Appends a string literal (only a literal: "" lit does not compile otherwise). */
#define PUTS(s, lit) lt__buf_put((s), "" lit, sizeof("" lit) - 1)

static void put_u64(lt__buf *s, uint64_t v) {
  char tmp[24];
  int i = (int)sizeof tmp;

  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  lt__buf_put(s, tmp + i, sizeof tmp - (size_t)i);
}

/* An integer, or a "0x…" string above 2^53 (not exact in a JSON double). */
static void put_value(lt__buf *s, uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  char tmp[20];
  int i = (int)sizeof tmp;

  if (v <= MAX_EXACT) {
    put_u64(s, v);
    return;
  }
  tmp[--i] = '"';
  do {
    tmp[--i] = hex[v & 15];
    v >>= 4;
  } while (v);
  tmp[--i] = 'x';
  tmp[--i] = '0';
  tmp[--i] = '"';
  lt__buf_put(s, tmp + i, sizeof tmp - (size_t)i);
}

static void put_int(lt__buf *s, int v) {
  if (v < 0) {
    PUTS(s, "-");
    put_u64(s, (uint64_t)0 - (uint64_t)(int64_t)v);
  } else {
    put_u64(s, (uint64_t)v);
  }
}


/* A JSON string. Control characters are escaped; bytes that are not valid
 * UTF-8 (untrusted capture text) become U+FFFD. */
static void put_str(lt__buf *s, const char *str) {
  const unsigned char *p = (const unsigned char *)(str ? str : "");
  char esc[8];

  PUTS(s, "\"");
  while (*p) {
    const unsigned char *run = p;
    size_t n;

    while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
      p++;
    lt__buf_put(s, run, (size_t)(p - run));
    if (*p == '\0')
      break;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p++;
      lt__buf_put(s, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p++);
      lt__buf_put(s, esc, 6);
    } else if ((n = lt__utf8_len(p)) != 0) {
      lt__buf_put(s, p, n);
      p += n;
    } else {
      PUTS(s, "\\ufffd");
      p++;
    }
  }
  PUTS(s, "\"");
}

static void put_key(lt__buf *s, const char *key) {
  PUTS(s, ", \"");
  lt__buf_put(s, key, strlen(key));
  PUTS(s, "\": ");
}

static void key_value(lt__buf *s, const char *key, uint64_t v) {
  if (v) {
    put_key(s, key);
    put_value(s, v);
  }
}

static void key_bool(lt__buf *s, const char *key, int v) {
  if (v) {
    put_key(s, key);
    PUTS(s, "true");
  }
}

/* An enum by name, or its number when it has none (a newer writer's value). */
static void put_enum(lt__buf *s, const char *name, int v) {
  if (name)
    put_str(s, name);
  else
    put_int(s, v);
}

static void put_segments(lt__buf *s, uint32_t mask) {
  int first = 1;

  PUTS(s, "[");
  for (unsigned bit = 0; bit < 32; bit++) {
    if (!(mask & (UINT32_C(1) << bit)))
      continue;
    if (!first)
      PUTS(s, ", ");
    put_u64(s, bit + 1u);
    first = 0;
  }
  PUTS(s, "]");
}

/* Flag names in bit order; bits without a name follow as one integer mask. */
static void put_flags(lt__buf *s, uint32_t flags) {
  uint32_t rest = 0;
  int first = 1;

  PUTS(s, "[");
  for (unsigned bit = 0; bit < 32; bit++) {
    const char *name = lt_allocflag_name(bit);

    if (!(flags & (UINT32_C(1) << bit)))
      continue;
    if (name == NULL) {
      rest |= UINT32_C(1) << bit;
      continue;
    }
    if (!first)
      PUTS(s, ", ");
    put_str(s, name);
    first = 0;
  }
  if (rest) {
    if (!first)
      PUTS(s, ", ");
    put_u64(s, rest);
  }
  PUTS(s, "]");
}

static void put_allocinfos(lt__buf *s, const char *key, lt_allocinfo *const *a, size_t n) {
  put_key(s, key);
  PUTS(s, "[");
  for (size_t i = 0; i < n; i++) {
    if (i)
      PUTS(s, ", ");
    PUTS(s, "{\"alloc\": ");
    put_value(s, a[i]->alloc);
    key_value(s, "size", a[i]->size);
    key_value(s, "align", a[i]->align);
    if (a[i]->segments) {
      put_key(s, "segments");
      put_segments(s, a[i]->segments);
    }
    key_value(s, "preferred", a[i]->preferred);
    if (a[i]->flags) {
      put_key(s, "flags");
      put_flags(s, a[i]->flags);
    }
    if (a[i]->variant)
      key_value(s, "variant", a[i]->variant);
    PUTS(s, "}");
  }
  PUTS(s, "]");
}

static void put_handles(lt__buf *s, const char *key, const uint64_t *h, size_t n) {
  put_key(s, key);
  PUTS(s, "[");
  for (size_t i = 0; i < n; i++) {
    if (i)
      PUTS(s, ", ");
    put_value(s, h[i]);
  }
  PUTS(s, "]");
}

static void put_refs(lt__buf *s, lt_ref *const *r, size_t n) {
  put_key(s, "refs");
  PUTS(s, "[");
  for (size_t i = 0; i < n; i++) {
    if (i)
      PUTS(s, ", ");
    PUTS(s, "{\"alloc\": ");
    put_value(s, r[i]->alloc);
    key_bool(s, "write", r[i]->write);
    PUTS(s, "}");
  }
  PUTS(s, "]");
}

/* alloc_open/close/destroy name handles under "allocs"; every other op names
 * allocation objects there. */
static int handles_op(int op) {
  return op == LIFETRACE__OP__ALLOC_OPEN || op == LIFETRACE__OP__ALLOC_CLOSE ||
         op == LIFETRACE__OP__ALLOC_DESTROY;
}

static void put_lists(lt__buf *s, const lt_event *ev) {
  if (handles_op(ev->op)) {
    if (ev->n_handles)
      put_handles(s, "allocs", ev->handles, ev->n_handles);
  } else if (ev->n_allocs) {
    put_allocinfos(s, "allocs", ev->allocs, ev->n_allocs);
  }
}

/* Fields a normal event of its op never carries, kept so that no binary
 * trace loses anything on the way through JSONL. */
static void put_odd_lists(lt__buf *s, const lt_event *ev) {
  if (handles_op(ev->op)) {
    if (ev->n_allocs)
      put_allocinfos(s, "alloc_info", ev->allocs, ev->n_allocs);
  } else if (ev->n_handles) {
    put_handles(s, "handles", ev->handles, ev->n_handles);
  }
}

/* A line a reader would refuse is not written: LT_ETOOBIG (sticky). */
static void check_length(lt__buf *s, size_t start) {
  if (!s->err && s->n - start > LT__JSONL_MAX_LINE)
    s->err = LT_ETOOBIG;
}

static void event_line(lt__buf *s, const lt_event *ev, int64_t index) {
  PUTS(s, "{");
  if (index >= 0) {
    PUTS(s, "\"i\": ");
    put_u64(s, (uint64_t)index);
    PUTS(s, ", ");
  }
  PUTS(s, "\"op\": ");
  put_enum(s, lt_op_name(ev->op), ev->op);
  key_value(s, "t", ev->t);
  key_value(s, "pid", ev->pid);
  key_value(s, "tid", ev->tid);
  key_value(s, "device", ev->device);
  key_value(s, "context", ev->context);
  key_value(s, "node", ev->node);
  key_value(s, "resource", ev->resource);
  key_bool(s, "new_resource", ev->new_resource);
  key_bool(s, "shared", ev->shared);
  key_bool(s, "rundown", ev->rundown);
  key_value(s, "resource_data", ev->resource_data);
  put_lists(s, ev);
  put_odd_lists(s, ev);
  key_bool(s, "destroy_resource", ev->destroy_resource);
  key_bool(s, "assume_not_in_use", ev->assume_not_in_use);
  key_bool(s, "synchronous", ev->synchronous);
  key_value(s, "fence", ev->fence);
  if (ev->n_refs)
    put_refs(s, ev->refs, ev->n_refs);
  key_value(s, "alloc", ev->alloc);
  key_value(s, "segment", ev->segment);
  key_value(s, "source", ev->source);
  if (ev->site) {
    put_key(s, "site");
    put_enum(s, lt__site_name(ev->site), ev->site);
  }
  key_value(s, "nth", ev->nth);
  if (ev->origin) {
    put_key(s, "origin");
    PUTS(s, "{\"record\": ");
    put_value(s, ev->origin->record);
    key_value(s, "line", ev->origin->line);
    key_value(s, "buffer", ev->origin->buffer);
    key_value(s, "offset", ev->origin->offset);
    PUTS(s, "}");
  }
  PUTS(s, "}");
}

/* The canonical event line: fixed key order, defaults omitted (see the
 * table in docs/trace-format.md); LT_ETOOBIG in s->err when it is longer
 * than LT__JSONL_MAX_LINE. */
void lt__jsonl_event(lt__buf *s, const lt_event *ev, int64_t index) {
  size_t start = s->n;

  event_line(s, ev, index);
  check_length(s, start);
}

static void header_line(lt__buf *s, const lt_header *h) {
  PUTS(s, "{\"lifetrace\": ");
  put_u64(s, h->lifetrace);
  put_key(s, "source");
  put_str(s, h->source);
  put_key(s, "ends");
  put_enum(s, lt_ends_name(h->ends), h->ends);
  put_key(s, "segments");
  PUTS(s, "[");
  for (size_t i = 0; i < h->n_segments; i++) {
    if (i)
      PUTS(s, ", ");
    PUTS(s, "{\"id\": ");
    put_u64(s, h->segments[i]->id);
    put_key(s, "kind");
    put_enum(s, lt_segkind_name(h->segments[i]->kind), h->segments[i]->kind);
    put_key(s, "size");
    put_value(s, h->segments[i]->size);
    PUTS(s, "}");
  }
  PUTS(s, "]");
  if (h->n_processes) {
    put_key(s, "processes");
    PUTS(s, "[");
    for (size_t i = 0; i < h->n_processes; i++) {
      if (i)
      PUTS(s, ", ");
    PUTS(s, "{\"pid\": ");
      put_value(s, h->processes[i]->pid);
      put_key(s, "name");
      put_str(s, h->processes[i]->name);
      PUTS(s, "}");
    }
    PUTS(s, "]");
  }
  key_value(s, "events_lost", h->events_lost);
  key_value(s, "buffers_lost", h->buffers_lost);
  PUTS(s, "}");
}

/* The canonical header line: lifetrace, source, ends and segments always,
 * processes when there are any; LT_ETOOBIG as for an event. */
void lt__jsonl_header(lt__buf *s, const lt_header *h) {
  size_t start = s->n;

  header_line(s, h);
  check_length(s, start);
}

static int finish(lt__buf *s, char **buf, size_t *len) {
  int err = s->err;

  if (err) {
    lt__buf_reset(s);
    return err;
  }
  *buf = s->s;
  *len = s->n;
  return 0;
}

/* Formats one event as a JSONL line without the newline. *buf receives a new
 * NUL-terminated buffer (the caller frees it with lt_free), *len its length. */
int lt_jsonl_format_event(const lt_event *ev, char **buf, size_t *len) {
  lt__buf s = {0};

  lt__jsonl_event(&s, ev, -1);
  return finish(&s, buf, len);
}

/* Formats the header line; same contract as lt_jsonl_format_event. */
int lt_jsonl_format_header(const lt_header *h, char **buf, size_t *len) {
  lt__buf s = {0};

  lt__jsonl_header(&s, h);
  return finish(&s, buf, len);
}

/* ---- parser --------------------------------------------------------------- */

/* Where an error goes: the caller's buffer, and whether unknown keys count. */
typedef struct perr {
  char *buf;
  size_t len;
  int strict;
} perr;

/* Where in the line a value is: [list[index].]key[sub], index and sub -1 when
 * absent ("fence", "allocs[2]", "allocs[2].size", "allocs[0].flags[1]",
 * "origin.line"). Spelled out only for an error message. */
typedef struct loc {
  const char *list;
  long index;
  const char *key;
  long sub;
} loc;

#define KEY(k) (&(loc){NULL, -1, (k), -1})

static void loc_format(const loc *l, char *buf, size_t len) {
  int n = 0;

  if (l->list)
    n = l->index >= 0 ? snprintf(buf, len, "%s[%ld].", l->list, l->index)
                      : snprintf(buf, len, "%s.", l->list);
  if (n >= 0 && (size_t)n < len) {
    if (l->sub >= 0)
      snprintf(buf + n, len - (size_t)n, "%s[%ld]", l->key, l->sub);
    else
      snprintf(buf + n, len - (size_t)n, "%s", l->key);
  }
}

static int fail_at(perr *e, const loc *l, const char *fmt, ...) LT_PRINTF(3, 4);

static int fail_at(perr *e, const loc *l, const char *fmt, ...) {
  char msg[400], where[200];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (e->buf == NULL || e->len == 0)
    return LT_ECORRUPT;
  if (l) {
    loc_format(l, where, sizeof where);
    snprintf(e->buf, e->len, "key \"%s\": %s", where, msg);
  } else {
    snprintf(e->buf, e->len, "%s", msg);
  }
  return LT_ECORRUPT;
}

static int fail_nomem(perr *e) {
  if (e->buf && e->len)
    snprintf(e->buf, e->len, "out of memory");
  return LT_ENOMEM;
}

/* An unknown key in the object at `in` (NULL: the line itself). */
static int unknown_key(perr *e, const loc *in, const char *key) {
  char where[200];

  if (!e->strict)
    return 0;
  if (in == NULL)
    return fail_at(e, NULL, "unknown key \"%s\" (strict mode)", key);
  loc_format(in, where, sizeof where);
  return fail_at(e, NULL, "unknown key \"%s\" in \"%s\" (strict mode)", key, where);
}

enum { NUM_OK, NUM_TYPE, NUM_NEG, NUM_RANGE };

/* "0x…" hex or decimal digits; nothing else (no sign, no spaces). */
static int num_from_string(const char *str, uint64_t *out) {
  uint64_t v = 0;
  const char *p = str;

  if (p[0] == '-')
    return NUM_NEG;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    if (*p == '\0')
      return NUM_TYPE;
    for (; *p; p++) {
      unsigned d;
      if (*p >= '0' && *p <= '9')
        d = (unsigned)(*p - '0');
      else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
        d = (unsigned)((*p | 0x20) - 'a' + 10);
      else
        return NUM_TYPE;
      if (v > (UINT64_MAX >> 4))
        return NUM_RANGE;
      v = v << 4 | d;
    }
  } else {
    if (*p == '\0')
      return NUM_TYPE;
    for (; *p; p++) {
      unsigned d = (unsigned)(*p - '0');
      if (*p < '0' || *p > '9')
        return NUM_TYPE;
      if (v > (UINT64_MAX - d) / 10)
        return NUM_RANGE;
      v = v * 10 + d;
    }
  }
  *out = v;
  return NUM_OK;
}

static int num_value(const json_t *v, uint64_t *out) {
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0)
      return NUM_NEG;
    *out = (uint64_t)i;
    return NUM_OK;
  }
  if (json_is_string(v))
    return num_from_string(json_string_value(v), out);
  return NUM_TYPE;
}

/* A number into *out, at most max. */
static int get_num(perr *e, const loc *l, const json_t *v, uint64_t max, uint64_t *out) {
  switch (num_value(v, out)) {
  case NUM_OK:
    if (*out <= max)
      return 0;
    /* fall through */
  case NUM_RANGE:
    return fail_at(e, l, "out of range (largest allowed is %llu)", (unsigned long long)max);
  case NUM_NEG:
    return fail_at(e, l, "must not be negative");
  }
  return fail_at(e, l, "expected an integer or \"0x…\" string");
}

static int get_u64(perr *e, const loc *l, const json_t *v, uint64_t *out) {
  return get_num(e, l, v, UINT64_MAX, out);
}

static int get_u32(perr *e, const loc *l, const json_t *v, uint32_t *out) {
  uint64_t x = 0;
  int rc = get_num(e, l, v, UINT32_MAX, &x);

  *out = (uint32_t)x;
  return rc;
}

static int get_bool(perr *e, const loc *l, const json_t *v, protobuf_c_boolean *out) {
  if (!json_is_boolean(v))
    return fail_at(e, l, "expected true or false");
  *out = json_is_true(v);
  return 0;
}

static int get_enum(perr *e, const loc *l, const json_t *v, int (*from_name)(const char *),
                    const char *what, const char *choices, int *out) {
  int x;

  if (!json_is_string(v))
    return fail_at(e, l, "expected a string (%s)", choices);
  x = from_name(json_string_value(v));
  if (x < 0)
    return fail_at(e, l, "unknown %s \"%s\" (%s)", what, json_string_value(v), choices);
  *out = x;
  return 0;
}

static int get_string(perr *e, const loc *l, const json_t *v, char **out) {
  char *copy;

  if (!json_is_string(v))
    return fail_at(e, l, "expected a string");
  copy = lt_strdup(json_string_value(v));
  if (copy == NULL)
    return fail_nomem(e);
  *out = copy;
  return 0;
}

static int get_list(perr *e, const loc *l, const json_t *v, const char *what, size_t *n) {
  if (!json_is_array(v))
    return fail_at(e, l, "expected a list of %s", what);
  *n = json_array_size(v);
  return 0;
}

/* The element i of the list at l. */
static loc elem(const loc *l, size_t i) { return (loc){l->list, l->index, l->key, (long)i}; }

static int get_segments(perr *e, const loc *l, const json_t *v, uint32_t *mask) {
  size_t n = 0;
  int rc = get_list(e, l, v, "segment ids (1..32)", &n);

  *mask = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    loc at = elem(l, i);
    uint64_t id = 0;
    rc = get_num(e, &at, json_array_get(v, i), 32, &id);
    if (rc == 0 && id == 0)
      rc = fail_at(e, &at, "segment ids start at 1");
    if (rc == 0)
      *mask |= UINT32_C(1) << (id - 1);
  }
  return rc;
}

/* A list of flag names (integers add raw bits), or one integer mask. */
static int get_flags(perr *e, const loc *l, const json_t *v, uint32_t *flags) {
  size_t n = 0;
  int rc;

  *flags = 0;
  if (json_is_integer(v) || json_is_string(v))
    return get_u32(e, l, v, flags);
  rc = get_list(e, l, v, "flag names", &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const json_t *el = json_array_get(v, i);
    int bit = json_is_string(el) ? lt_allocflag_from_name(json_string_value(el)) : -1;
    loc at = elem(l, i);
    uint32_t bits = 0;

    if (bit >= 0)
      bits = UINT32_C(1) << bit;
    else if (json_is_string(el) && num_value(el, &(uint64_t){0}) != NUM_OK)
      rc = fail_at(e, &at, "unknown flag \"%s\"", json_string_value(el));
    else
      rc = get_u32(e, &at, el, &bits);
    *flags |= bits;
  }
  return rc;
}

/* One object of a list: each key is handed to field(), unknown ones to
 * unknown_key. `what` describes the object for a type error. */
typedef int (*field_fn)(perr *e, const loc *l, const char *key, const json_t *v, void *obj);

static int parse_object(perr *e, const loc *self, const json_t *o, const char *what,
                        field_fn field, void *obj) {
  loc in = {self->key, self->sub, NULL, -1};
  const char *key;
  json_t *v;
  int rc;

  if (!json_is_object(o))
    return fail_at(e, self, "expected %s", what);
  json_object_foreach((json_t *)o, key, v) {
    in.key = key;
    rc = field(e, &in, key, v, obj);
    if (rc > 0)
      rc = unknown_key(e, self, key);
    if (rc)
      return rc;
  }
  return 0;
}

#define UNKNOWN 1 /* a field_fn's answer for a key it does not know */

static int allocinfo_field(perr *e, const loc *l, const char *key, const json_t *v, void *obj) {
  lt_allocinfo *ai = obj;

  if (!strcmp(key, "alloc"))
    return get_u64(e, l, v, &ai->alloc);
  if (!strcmp(key, "size"))
    return get_u64(e, l, v, &ai->size);
  if (!strcmp(key, "align"))
    return get_u64(e, l, v, &ai->align);
  if (!strcmp(key, "segments"))
    return get_segments(e, l, v, &ai->segments);
  if (!strcmp(key, "preferred"))
    return get_u32(e, l, v, &ai->preferred);
  if (!strcmp(key, "flags"))
    return get_flags(e, l, v, &ai->flags);
  if (!strcmp(key, "variant"))
    return get_u32(e, l, v, &ai->variant);
  return UNKNOWN;
}

static int ref_field(perr *e, const loc *l, const char *key, const json_t *v, void *obj) {
  lt_ref *ref = obj;

  if (!strcmp(key, "alloc"))
    return get_u64(e, l, v, &ref->alloc);
  if (!strcmp(key, "write"))
    return get_bool(e, l, v, &ref->write);
  return UNKNOWN;
}

static int origin_field(perr *e, const loc *l, const char *key, const json_t *v, void *obj) {
  Lifetrace__Origin *o = obj;

  if (!strcmp(key, "record"))
    return get_u64(e, l, v, &o->record);
  if (!strcmp(key, "line"))
    return get_u64(e, l, v, &o->line);
  if (!strcmp(key, "buffer"))
    return get_u64(e, l, v, &o->buffer);
  if (!strcmp(key, "offset"))
    return get_u64(e, l, v, &o->offset);
  return UNKNOWN;
}

static int parse_allocinfos(perr *e, const char *key, const json_t *v, lt_event *ev) {
  size_t n = 0;
  int rc = get_list(e, KEY(key), v, "allocation objects {\"alloc\": …}", &n);

  if (rc || n == 0)
    return rc;
  if (ev->allocs)
    return fail_at(e, KEY(key), "allocation objects given twice");
  ev->allocs = lt_calloc(n, sizeof *ev->allocs);
  if (ev->allocs == NULL)
    return fail_nomem(e);
  for (size_t i = 0; i < n; i++) {
    lt_allocinfo *ai = lt_malloc(sizeof *ai);
    if (ai == NULL)
      return fail_nomem(e);
    lifetrace__alloc_info__init(ai);
    ev->allocs[ev->n_allocs++] = ai;
    rc = parse_object(e, &(loc){NULL, -1, key, (long)i}, json_array_get(v, i),
                      "an allocation object {\"alloc\": …}", allocinfo_field, ai);
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_handles(perr *e, const char *key, const json_t *v, lt_event *ev) {
  size_t n = 0;
  int rc = get_list(e, KEY(key), v, "allocation handles", &n);

  if (rc || n == 0)
    return rc;
  if (ev->handles)
    return fail_at(e, KEY(key), "allocation handles given twice");
  ev->handles = lt_calloc(n, sizeof *ev->handles);
  if (ev->handles == NULL)
    return fail_nomem(e);
  for (size_t i = 0; i < n; i++) {
    rc = get_u64(e, &(loc){NULL, -1, key, (long)i}, json_array_get(v, i), &ev->handles[i]);
    if (rc)
      return rc;
  }
  ev->n_handles = n;
  return 0;
}

static int parse_refs(perr *e, const char *key, const json_t *v, lt_event *ev) {
  size_t n = 0;
  int rc = get_list(e, KEY(key), v, "reference objects", &n);

  if (rc || n == 0)
    return rc;
  ev->refs = lt_calloc(n, sizeof *ev->refs);
  if (ev->refs == NULL)
    return fail_nomem(e);
  for (size_t i = 0; i < n; i++) {
    lt_ref *ref = lt_malloc(sizeof *ref);
    if (ref == NULL)
      return fail_nomem(e);
    lifetrace__ref__init(ref);
    ev->refs[ev->n_refs++] = ref;
    rc = parse_object(e, &(loc){NULL, -1, key, (long)i}, json_array_get(v, i),
                      "a reference object {\"alloc\": …, \"write\": …}", ref_field, ref);
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_origin(perr *e, const char *key, const json_t *v, lt_event *ev) {
  ev->origin = lt_malloc(sizeof *ev->origin);
  if (ev->origin == NULL)
    return fail_nomem(e);
  lifetrace__origin__init(ev->origin);
  return parse_object(e, KEY(key), v, "an object {\"record\": N, \"line\": L}", origin_field,
                      ev->origin);
}

enum ftype { F_IGNORE, F_OP, F_U64, F_U32, F_BOOL, F_SITE, F_ORIGIN, F_LIST, F_HANDLES,
             F_ALLOCINFO, F_REFS };

struct field {
  const char *key;
  enum ftype type;
  size_t off;
};

#define EV(f) offsetof(lt_event, f)

/* Every key of an event line, sorted for bsearch. */
static const struct field event_fields[] = {
    {"alloc", F_U64, EV(alloc)},
    {"alloc_info", F_ALLOCINFO, 0},
    {"allocs", F_LIST, 0},
    {"assume_not_in_use", F_BOOL, EV(assume_not_in_use)},
    {"context", F_U64, EV(context)},
    {"destroy_resource", F_BOOL, EV(destroy_resource)},
    {"device", F_U64, EV(device)},
    {"fence", F_U64, EV(fence)},
    {"handles", F_HANDLES, 0},
    {"i", F_IGNORE, 0},
    {"new_resource", F_BOOL, EV(new_resource)},
    {"node", F_U32, EV(node)},
    {"nth", F_U32, EV(nth)},
    {"op", F_OP, 0},
    {"origin", F_ORIGIN, 0},
    {"pid", F_U64, EV(pid)},
    {"refs", F_REFS, 0},
    {"resource", F_U64, EV(resource)},
    {"resource_data", F_U32, EV(resource_data)},
    {"rundown", F_BOOL, EV(rundown)},
    {"segment", F_U32, EV(segment)},
    {"shared", F_BOOL, EV(shared)},
    {"site", F_SITE, 0},
    {"source", F_U32, EV(source)},
    {"synchronous", F_BOOL, EV(synchronous)},
    {"t", F_U64, EV(t)},
    {"tid", F_U64, EV(tid)},
};

static int by_key(const void *key, const void *f) {
  return strcmp(key, ((const struct field *)f)->key);
}

static int event_field(perr *e, lt_event *ev, const char *key, const json_t *v) {
  const struct field *f = bsearch(key, event_fields, sizeof event_fields / sizeof event_fields[0],
                                  sizeof event_fields[0], by_key);
  char *base = (char *)ev;
  int site = 0, rc = 0;

  if (f == NULL)
    return unknown_key(e, NULL, key);
  switch (f->type) {
  case F_IGNORE:
  case F_OP:
    return 0;
  case F_U64:
    return get_u64(e, KEY(key), v, (uint64_t *)(base + f->off));
  case F_U32:
    return get_u32(e, KEY(key), v, (uint32_t *)(base + f->off));
  case F_BOOL:
    return get_bool(e, KEY(key), v, (protobuf_c_boolean *)(base + f->off));
  case F_SITE:
    rc = get_enum(e, KEY(key), v, lt__site_from_name, "fault site", "pool, vram, handle", &site);
    ev->site = (Lifetrace__FaultSite)site;
    return rc;
  case F_ORIGIN:
    return parse_origin(e, key, v, ev);
  case F_LIST:
    return handles_op(ev->op) ? parse_handles(e, key, v, ev) : parse_allocinfos(e, key, v, ev);
  case F_HANDLES:
    return parse_handles(e, key, v, ev);
  case F_ALLOCINFO:
    return parse_allocinfos(e, key, v, ev);
  case F_REFS:
    return parse_refs(e, key, v, ev);
  }
  return 0;
}

static int parse_op(perr *e, const json_t *root, lt_event *ev) {
  const json_t *v = json_object_get(root, "op");
  int op;

  if (v == NULL)
    return fail_at(e, NULL, "missing key \"op\"");
  if (!json_is_string(v))
    return fail_at(e, KEY("op"), "expected an op name such as \"alloc_create\"");
  op = lt_op_from_name(json_string_value(v));
  if (op < 0)
    return fail_at(e, KEY("op"), "unknown op \"%s\"", json_string_value(v));
  ev->op = (Lifetrace__Op)op;
  return 0;
}

/* Parses a line into a JSON object, or says why it is not one. */
static int load_object(perr *e, const char *line, size_t len, json_t **out) {
  json_error_t je;
  json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);

  if (root == NULL)
    return fail_at(e, NULL, "not valid JSON (column %d): %s%s", je.column, je.text,
                   strstr(je.text, "too big") ? " (write values of 2^63 and more as \"0x…\")"
                                              : "");
  if (!json_is_object(root)) {
    json_decref(root);
    return fail_at(e, NULL, "expected a JSON object");
  }
  *out = root;
  return 0;
}

/* What tells a JSONL line form (header or event) from the other: its message,
 * the key read first (the op, the format version) and the other keys. */
struct line_form {
  size_t size;
  void (*init)(void *msg);
  int (*first)(perr *e, const json_t *root, void *msg);
  int (*field)(perr *e, void *msg, const char *key, const json_t *v);
};

/* The one JSONL line parser: a JSON object, its first key, then every key
 * (an unknown one is an error in strict mode). On success *out owns the
 * message; on failure err says what and where. */
static int parse_line(const struct line_form *f, const char *line, size_t len, int strict,
                      ProtobufCMessage **out, char *err, size_t errlen) {
  perr e = {err, errlen, strict};
  json_t *root = NULL, *v;
  ProtobufCMessage *msg = NULL;
  const char *key;
  int rc;

  *out = NULL;
  if (err && errlen)
    err[0] = '\0';
  rc = load_object(&e, line, len, &root);
  if (rc)
    goto out;
  msg = lt_malloc(f->size);
  if (msg == NULL) {
    rc = fail_nomem(&e);
    goto out;
  }
  f->init(msg);
  rc = f->first(&e, root, msg);
  if (rc)
    goto out;
  json_object_foreach(root, key, v) {
    rc = f->field(&e, msg, key, v);
    if (rc)
      goto out;
  }
  *out = msg;
  msg = NULL;
out:
  json_decref(root);
  if (msg)
    protobuf_c_message_free_unpacked(msg, &lt_protobuf_allocator);
  return rc;
}

static void event_init(void *m) { lifetrace__event__init(m); }
static int event_first(perr *e, const json_t *root, void *m) { return parse_op(e, root, m); }
static int event_key(perr *e, void *m, const char *key, const json_t *v) {
  return event_field(e, m, key, v);
}
static const struct line_form event_form = {sizeof(lt_event), event_init, event_first, event_key};

/* Parses one JSONL event line. See trace.h. */
int lt_jsonl_parse_event(const char *line, size_t len, int strict, lt_event **out, char *err,
                         size_t errlen) {
  return parse_line(&event_form, line, len, strict, (ProtobufCMessage **)out, err, errlen);
}

static int segment_field(perr *e, const loc *l, const char *key, const json_t *v, void *obj) {
  Lifetrace__Segment *seg = obj;
  int kind = 0, rc;

  if (!strcmp(key, "id"))
    return get_u32(e, l, v, &seg->id);
  if (!strcmp(key, "size"))
    return get_u64(e, l, v, &seg->size);
  if (strcmp(key, "kind"))
    return UNKNOWN;
  rc = get_enum(e, l, v, lt__segkind_from_name, "segment kind", "local, aperture, system", &kind);
  seg->kind = (Lifetrace__SegmentKind)kind;
  return rc;
}

static int process_field(perr *e, const loc *l, const char *key, const json_t *v, void *obj) {
  Lifetrace__Process *p = obj;

  if (!strcmp(key, "pid"))
    return get_u64(e, l, v, &p->pid);
  if (!strcmp(key, "name"))
    return get_string(e, l, v, &p->name);
  return UNKNOWN;
}

static int parse_segments(perr *e, const json_t *v, lt_header *h) {
  size_t n = 0;
  int rc = get_list(e, KEY("segments"), v, "segment objects", &n);

  if (rc || n == 0)
    return rc;
  h->segments = lt_calloc(n, sizeof *h->segments);
  if (h->segments == NULL)
    return fail_nomem(e);
  for (size_t i = 0; i < n; i++) {
    Lifetrace__Segment *seg = lt_malloc(sizeof *seg);
    if (seg == NULL)
      return fail_nomem(e);
    lifetrace__segment__init(seg);
    h->segments[h->n_segments++] = seg;
    rc = parse_object(e, &(loc){NULL, -1, "segments", (long)i}, json_array_get(v, i),
                      "a segment object {\"id\": …, \"kind\": …, \"size\": …}", segment_field, seg);
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_processes(perr *e, const json_t *v, lt_header *h) {
  size_t n = 0;
  int rc = get_list(e, KEY("processes"), v, "process objects", &n);

  if (rc || n == 0)
    return rc;
  h->processes = lt_calloc(n, sizeof *h->processes);
  if (h->processes == NULL)
    return fail_nomem(e);
  for (size_t i = 0; i < n; i++) {
    Lifetrace__Process *p = lt_malloc(sizeof *p);
    if (p == NULL)
      return fail_nomem(e);
    lifetrace__process__init(p);
    h->processes[h->n_processes++] = p;
    rc = parse_object(e, &(loc){NULL, -1, "processes", (long)i}, json_array_get(v, i),
                      "a process object {\"pid\": …, \"name\": …}", process_field, p);
    if (rc)
      return rc;
  }
  return 0;
}

static int header_version(perr *e, const json_t *root, lt_header *h) {
  const json_t *v = json_object_get(root, "lifetrace");
  int rc;

  if (v == NULL)
    return fail_at(e, NULL, "missing key \"lifetrace\": the first line must be the trace header "
                            "{\"lifetrace\": 1, …}");
  rc = get_u32(e, KEY("lifetrace"), v, &h->lifetrace);
  if (rc == 0 && h->lifetrace != 1) {
    fail_at(e, KEY("lifetrace"), "unsupported trace version %u (this build reads version 1)",
            h->lifetrace);
    return LT_EFORMAT;
  }
  return rc;
}

static int header_field(perr *e, lt_header *h, const char *key, const json_t *v) {
  int ends = 0, rc;

  if (!strcmp(key, "lifetrace"))
    return 0;
  if (!strcmp(key, "source"))
    return get_string(e, KEY(key), v, &h->source);
  if (!strcmp(key, "ends")) {
    rc = get_enum(e, KEY(key), v, lt__ends_from_name, "end", "teardown, window", &ends);
    h->ends = (Lifetrace__Ends)ends;
    return rc;
  }
  if (!strcmp(key, "segments"))
    return parse_segments(e, v, h);
  if (!strcmp(key, "processes"))
    return parse_processes(e, v, h);
  if (!strcmp(key, "events_lost"))
    return get_u64(e, KEY(key), v, &h->events_lost);
  if (!strcmp(key, "buffers_lost"))
    return get_u64(e, KEY(key), v, &h->buffers_lost);
  return unknown_key(e, NULL, key);
}

static void header_init(void *m) { lifetrace__trace_header__init(m); }
static int header_first(perr *e, const json_t *root, void *m) { return header_version(e, root, m); }
static int header_key(perr *e, void *m, const char *key, const json_t *v) {
  return header_field(e, m, key, v);
}
static const struct line_form header_form = {sizeof(lt_header), header_init, header_first,
                                             header_key};

/* Parses the JSONL header line. LT_EFORMAT for a trace version this build
 * does not read, LT_ECORRUPT for anything else wrong. See trace.h. */
int lt_jsonl_parse_header(const char *line, size_t len, int strict, lt_header **out, char *err,
                          size_t errlen) {
  return parse_line(&header_form, line, len, strict, (ProtobufCMessage **)out, err, errlen);
}
