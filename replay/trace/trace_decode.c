/* A fast decoder for the Event message, used by the binary reader.
 *
 * protobuf_c_message_unpack is table-driven and general, and on the events
 * the writers produce it takes about three times as long as this decoder
 * (bench_decode; LT_TRACE_GENERIC_UNPACK=1 makes the reader use protobuf-c
 * alone). This decoder handles the shapes the writers produce (one- or
 * two-byte tags, packed handles, each message field once) and produces
 * exactly the structure protobuf_c_message_unpack would.
 * Anything else — an unknown field, an unexpected wire type, an unpacked
 * repeated field, an origin given twice (protobuf merges those), a bool
 * that is not 0 or 1, a malformed varint — makes it give up and return NULL,
 * and the caller decodes with protobuf_c_message_unpack, which decides. So
 * both paths accept the same inputs and agree on the result; tests check this
 * against protobuf-c on valid and mutated events.
 */
#include "trace_io.h"
#include "varint.h"

typedef struct cur {
  const uint8_t *p, *end;
} cur;

/* Every helper returns 0, or GIVE_UP for "let protobuf-c decide". */
#define GIVE_UP (-1)

/* The varint at c->p. Bits past 64 drop, as in protobuf-c; a cut or
 * over-long one gives up. */
static inline int varint(cur *c, uint64_t *v) {
  const uint8_t *next = lt__varint_next(c->p, c->end, v);
  if (next == NULL)
    return GIVE_UP;
  c->p = next;
  return 0;
}

/* Steps over a varint without decoding it. */
static inline int skip_varint(cur *c) {
  const uint8_t *next = lt__varint_skip(c->p, c->end);
  if (next == NULL)
    return GIVE_UP;
  c->p = next;
  return 0;
}

/* A one- or two-byte tag (fields 1..2047). */
static inline int tag(cur *c, unsigned *field, unsigned *wire) {
  unsigned b;

  if (c->p >= c->end)
    return GIVE_UP;
  b = *c->p;
  *wire = b & 7;
  if (b < 0x80) {
    *field = b >> 3;
    c->p++;
  } else {
    if (c->p + 1 >= c->end || c->p[1] >= 0x80)
      return GIVE_UP;
    *field = ((b & 0x7f) >> 3) | ((unsigned)c->p[1] << 4);
    c->p += 2;
  }
  return *field == 0 ? GIVE_UP : 0;
}

/* A length-delimited payload (protobuf-c allows a prefix of at most 5 bytes). */
static inline int payload(cur *c, unsigned wire, cur *sub) {
  const uint8_t *start = c->p;
  uint64_t n;

  if (wire != 2 || varint(c, &n) || c->p - start > 5 || n > (uint64_t)(c->end - c->p))
    return GIVE_UP;
  sub->p = c->p;
  sub->end = c->p + n;
  c->p += n;
  return 0;
}

static inline int get_u64(cur *c, unsigned wire, uint64_t *out) {
  return wire == 0 ? varint(c, out) : GIVE_UP;
}

static inline int get_u32(cur *c, unsigned wire, uint32_t *out) {
  uint64_t v;

  if (wire != 0 || varint(c, &v))
    return GIVE_UP;
  *out = (uint32_t)v; /* protobuf-c keeps the low 32 bits */
  return 0;
}

static int get_enum(cur *c, unsigned wire, int *out) {
  uint32_t v = 0;
  int rc = get_u32(c, wire, &v);

  *out = (int)(int32_t)v;
  return rc;
}

static int get_bool(cur *c, unsigned wire, protobuf_c_boolean *out) {
  if (wire != 0 || c->p >= c->end || *c->p > 1)
    return GIVE_UP;
  *out = *c->p++;
  return 0;
}

static void *alloc(ProtobufCAllocator *a, size_t n) { return a->alloc(a->allocator_data, n); }

static int decode_allocinfo(cur c, lt_allocinfo *ai) {
  unsigned f, w;
  int rc = 0;

  while (rc == 0 && c.p < c.end) {
    if (tag(&c, &f, &w))
      return GIVE_UP;
    switch (f) {
    case 1:
      rc = get_u64(&c, w, &ai->alloc);
      break;
    case 2:
      rc = get_u64(&c, w, &ai->size);
      break;
    case 3:
      rc = get_u64(&c, w, &ai->align);
      break;
    case 4:
      rc = get_u32(&c, w, &ai->segments);
      break;
    case 5:
      rc = get_u32(&c, w, &ai->preferred);
      break;
    case 6:
      rc = get_u32(&c, w, &ai->flags);
      break;
    case 7:
      rc = get_u32(&c, w, &ai->variant);
      break;
    default:
      return GIVE_UP;
    }
  }
  return rc;
}

static int decode_ref(cur c, lt_ref *ref) {
  unsigned f, w;
  int rc = 0;

  while (rc == 0 && c.p < c.end) {
    if (tag(&c, &f, &w))
      return GIVE_UP;
    if (f == 1)
      rc = get_u64(&c, w, &ref->alloc);
    else if (f == 2)
      rc = get_bool(&c, w, &ref->write);
    else
      return GIVE_UP;
  }
  return rc;
}

static int decode_origin(cur c, Lifetrace__Origin *o) {
  unsigned f, w;
  int rc = 0;

  while (rc == 0 && c.p < c.end) {
    if (tag(&c, &f, &w))
      return GIVE_UP;
    if (f == 1)
      rc = get_u64(&c, w, &o->record);
    else if (f == 2)
      rc = get_u64(&c, w, &o->line);
    else if (f == 3)
      rc = get_u64(&c, w, &o->buffer);
    else if (f == 4)
      rc = get_u64(&c, w, &o->offset);
    else
      return GIVE_UP;
  }
  return rc;
}

/* Varints in a packed payload; GIVE_UP if the last one is cut. */
static int packed_count(cur c, size_t *n) {
  size_t k = 0;

  for (const uint8_t *p = c.p; p < c.end; p++)
    k += !(*p & 0x80);
  if (c.p < c.end && (c.end[-1] & 0x80))
    return GIVE_UP;
  *n += k;
  return 0;
}

/* Counting pass (large events): the sizes of the repeated fields. */
static int count(cur c, size_t *n_allocs, size_t *n_handles, size_t *n_refs) {
  unsigned f, w;
  cur sub;

  while (c.p < c.end) {
    if (tag(&c, &f, &w))
      return GIVE_UP;
    if (w == 0) {
      if (skip_varint(&c))
        return GIVE_UP;
      continue;
    }
    if (payload(&c, w, &sub))
      return GIVE_UP;
    if (f == 13)
      ++*n_allocs;
    else if (f == 19)
      ++*n_refs;
    else if (f == 14 ? packed_count(sub, n_handles) : f != 5)
      return GIVE_UP;
  }
  return 0;
}

/* The event being decoded, and room for its lists: exact after a counting
 * pass, or (small events, one pass) bounds from the size — an element takes
 * at least 2 bytes, a handle at least 1. */
typedef struct dec {
  ProtobufCAllocator *a;
  lt_event *ev;
  size_t cap_allocs, cap_handles, cap_refs;
} dec;

/* Small events are decoded in one pass; the bounds cost at most 8x their size. */
#define ONE_PASS_MAX 512

static int add_allocinfo(dec *d, cur sub) {
  lt_event *ev = d->ev;
  lt_allocinfo *ai;

  if (ev->allocs == NULL && (ev->allocs = alloc(d->a, d->cap_allocs * sizeof *ev->allocs)) == NULL)
    return GIVE_UP;
  if (ev->n_allocs == d->cap_allocs || (ai = alloc(d->a, sizeof *ai)) == NULL)
    return GIVE_UP;
  lifetrace__alloc_info__init(ai);
  ev->allocs[ev->n_allocs++] = ai;
  return decode_allocinfo(sub, ai);
}

static int add_ref(dec *d, cur sub) {
  lt_event *ev = d->ev;
  lt_ref *ref;

  if (ev->refs == NULL && (ev->refs = alloc(d->a, d->cap_refs * sizeof *ev->refs)) == NULL)
    return GIVE_UP;
  if (ev->n_refs == d->cap_refs || (ref = alloc(d->a, sizeof *ref)) == NULL)
    return GIVE_UP;
  lifetrace__ref__init(ref);
  ev->refs[ev->n_refs++] = ref;
  return decode_ref(sub, ref);
}

static int add_origin(dec *d, cur sub) {
  lt_event *ev = d->ev;

  if (ev->origin) /* given twice: protobuf merges, leave that to protobuf-c */
    return GIVE_UP;
  ev->origin = alloc(d->a, sizeof *ev->origin);
  if (ev->origin == NULL)
    return GIVE_UP;
  lifetrace__origin__init(ev->origin);
  return decode_origin(sub, ev->origin);
}

static int add_handles(dec *d, cur sub) {
  lt_event *ev = d->ev;

  if (ev->handles == NULL &&
      (ev->handles = alloc(d->a, d->cap_handles * sizeof *ev->handles)) == NULL)
    return GIVE_UP;
  while (sub.p < sub.end)
    if (ev->n_handles == d->cap_handles || varint(&sub, &ev->handles[ev->n_handles++]))
      return GIVE_UP;
  return 0;
}

static int lists(cur *c, unsigned f, unsigned w, dec *d) {
  cur sub;

  if (payload(c, w, &sub))
    return GIVE_UP;
  switch (f) {
  case 5:
    return add_origin(d, sub);
  case 13:
    return add_allocinfo(d, sub);
  case 14:
    return add_handles(d, sub);
  case 19:
    return add_ref(d, sub);
  }
  return GIVE_UP;
}

/* One field of an Event. */
static int field(cur *c, unsigned f, unsigned w, dec *d) {
  lt_event *ev = d->ev;
  int v = 0, rc;

  switch (f) {
  case 1:
    rc = get_enum(c, w, &v);
    ev->op = (Lifetrace__Op)v;
    return rc;
  case 2: return get_u64(c, w, &ev->t);
  case 3: return get_u64(c, w, &ev->pid);
  case 4: return get_u64(c, w, &ev->tid);
  case 6: return get_u64(c, w, &ev->device);
  case 7: return get_u64(c, w, &ev->context);
  case 8: return get_u32(c, w, &ev->node);
  case 9: return get_u64(c, w, &ev->resource);
  case 10: return get_bool(c, w, &ev->new_resource);
  case 11: return get_bool(c, w, &ev->shared);
  case 12: return get_bool(c, w, &ev->rundown);
  case 15: return get_bool(c, w, &ev->destroy_resource);
  case 16: return get_bool(c, w, &ev->assume_not_in_use);
  case 17: return get_bool(c, w, &ev->synchronous);
  case 18: return get_u64(c, w, &ev->fence);
  case 20: return get_u64(c, w, &ev->alloc);
  case 21: return get_u32(c, w, &ev->segment);
  case 22: return get_u32(c, w, &ev->source);
  case 23:
    rc = get_enum(c, w, &v);
    ev->site = (Lifetrace__FaultSite)v;
    return rc;
  case 24: return get_u32(c, w, &ev->nth);
  case 25: return get_u32(c, w, &ev->resource_data);
  case 5:
  case 13:
  case 14:
  case 19:
    return lists(c, f, w, d);
  }
  return GIVE_UP;
}

/* Decodes one Event exactly as protobuf_c_message_unpack would, allocating
 * from a; returns NULL (having freed what it took) when the input is not one
 * of the shapes it handles. See the top of the file. */
lt_event *lt__event_decode(const uint8_t *data, size_t len, ProtobufCAllocator *a) {
  dec d = {a, NULL, len / 2, len, len / 2};
  cur c = {data, data + len};
  unsigned f, w;
  int rc = 0;

  if (len > ONE_PASS_MAX) {
    d.cap_allocs = d.cap_handles = d.cap_refs = 0;
    if (count(c, &d.cap_allocs, &d.cap_handles, &d.cap_refs))
      return NULL;
  }
  d.ev = alloc(a, sizeof *d.ev);
  if (d.ev == NULL)
    return NULL;
  lifetrace__event__init(d.ev);
  while (rc == 0 && c.p < c.end) {
    rc = tag(&c, &f, &w);
    if (rc == 0)
      rc = field(&c, f, w, &d);
  }
  if (rc == 0)
    return d.ev;
  protobuf_c_message_free_unpacked(&d.ev->base, a);
  return NULL;
}
