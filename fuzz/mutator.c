/* lifetrace — the structure-aware trace mutator (see lifetrace/mutator.h):
 * decoding into the flat event list, the mutation operations, crossover,
 * encoding within the size limit, trimming and the well-formedness check.
 * The model and the event generators are in mutator_model.c.
 */
#include "lifetrace/mutator.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>

#include "lifetrace/miniport.h"
#include "lifetrace/trace.h"
#include "mutator_internal.h"
#include "varint.h"

struct lt_mutator {
  mtrace t, t2;
  mmodel model;
  mrng rng;
  lt_byte_mutator bytes_fn;
  unsigned bytes_rate; /* per mille */
  size_t max_events;   /* outputs hold at most this many events */
  unsigned repair_keep; /* percent of refused events the repair pass keeps */
  LT_UMD_CONTRACT contract; /* the driver's UMD contract (has_contract) */
  int has_contract;
  lt_mutator_stats stats;
  char desc[160];
  /* Encoding scratch: protobuf-c structures pointing into t. */
  Lifetrace__Event pev[MX_EVENTS];
  Lifetrace__Event *pevp[MX_EVENTS];
  Lifetrace__AllocInfo pai[MX_EVENTS][MX_LIST];
  Lifetrace__AllocInfo *paip[MX_EVENTS][MX_LIST];
  Lifetrace__Ref pref[MX_EVENTS][MX_LIST];
  Lifetrace__Ref *prefp[MX_EVENTS][MX_LIST];
  Lifetrace__Segment pseg[MX_SEGMENTS];
  Lifetrace__Segment *psegp[MX_SEGMENTS];
};

static const char *const op_names[] = {
#define LT_MUT_NAME(id, name) name,
    LT_MUTATOR_OPS(LT_MUT_NAME)
#undef LT_MUT_NAME
};

/* The name of a mutation operation, "?" when out of range; see
 * lifetrace/mutator.h. */
const char *lt_mutator_op_name(int op) {
  return op >= 0 && op < LT_MUT__COUNT ? op_names[op] : "?";
}

/* Makes a mutator with the defaults (bytes 10 per mille, 64 events, repair
 * keeps 3%); the caller frees it with lt_mutator_free. LT_ENOMEM. See
 * lifetrace/mutator.h. */
int lt_mutator_new(lt_mutator **out) {
  lt_mutator *m = lt_calloc(1, sizeof *m);
  if (m == NULL)
    return LT_ENOMEM;
  m->bytes_rate = 10;
  m->max_events = 64;
  m->repair_keep = 3;
  *out = m;
  return 0;
}

/* Frees a mutator; NULL is a no-op. See lifetrace/mutator.h. */
void lt_mutator_free(lt_mutator *m) { lt_free(m); }

/* Sets the byte-level mutator the "bytes" operation calls (libFuzzer's
 * LLVMFuzzerMutate); see lifetrace/mutator.h. */
void lt_mutator_set_byte_mutator(lt_mutator *m, lt_byte_mutator fn) { m->bytes_fn = fn; }
/* Sets how often, per mille of calls, the bytes operation runs; see
 * lifetrace/mutator.h. */
void lt_mutator_set_bytes_rate(lt_mutator *m, unsigned per_mille) { m->bytes_rate = per_mille; }

/* Sets the percentage of refused events the repair pass leaves alone; see
 * lifetrace/mutator.h. */
void lt_mutator_set_repair(lt_mutator *m, unsigned keep_pct) { m->repair_keep = keep_pct; }

/* Keeps every output inside the UMD's contract c (copied; NULL: none), so
 * the fuzzer spends its inputs on calls that UMD makes. See
 * lifetrace/mutator.h. */
void lt_mutator_set_umd_contract(lt_mutator *m, const LT_UMD_CONTRACT *c) {
  m->has_contract = c != NULL;
  if (c != NULL)
    m->contract = *c;
}

/* Sets the most events an output holds; 0 or more than LT_MUTATOR_MAX_EVENTS
 * means that maximum. See lifetrace/mutator.h. */
void lt_mutator_set_max_events(lt_mutator *m, size_t n) {
  m->max_events = n == 0 || n > MX_EVENTS ? MX_EVENTS : n;
}
/* The operations of the last call, owned by m; see lifetrace/mutator.h. */
const char *lt_mutator_describe(const lt_mutator *m) { return m->desc; }
/* The mutator's operation counts, owned by m; see lifetrace/mutator.h. */
const lt_mutator_stats *lt_mutator_get_stats(const lt_mutator *m) { return &m->stats; }

/* ---- decoding -------------------------------------------------------------------- */

static void decode_event(const Lifetrace__Event *p, mev *e) {
  memset(e, 0, sizeof *e);
  e->op = p->op;
  e->pid = p->pid;
  e->device = p->device;
  e->context = p->context;
  e->resource = p->resource;
  e->fence = p->fence;
  e->alloc = p->alloc;
  e->node = p->node;
  e->segment = p->segment;
  e->source = p->source;
  e->site = p->site;
  e->nth = p->nth;
  e->resource_data = p->resource_data;
  e->new_resource = p->new_resource != 0;
  e->shared = p->shared != 0;
  e->rundown = p->rundown != 0;
  e->destroy_resource = p->destroy_resource != 0;
  e->assume_not_in_use = p->assume_not_in_use != 0;
  e->synchronous = p->synchronous != 0;
  for (size_t i = 0; i < p->n_allocs && e->n_allocs < MX_LIST; i++) {
    const Lifetrace__AllocInfo *a = p->allocs[i];
    e->allocs[e->n_allocs++] =
        (mallocinfo){a->alloc, a->size, a->align, a->segments, a->preferred, a->flags, a->variant};
  }
  for (size_t i = 0; i < p->n_handles && e->n_handles < MX_LIST; i++)
    e->handles[e->n_handles++] = p->handles[i];
  for (size_t i = 0; i < p->n_refs && e->n_refs < MX_LIST; i++)
    e->refs[e->n_refs++] = (mref){p->refs[i]->alloc, p->refs[i]->write != 0};
}

/* Decodes a fuzz input into t; returns -1 when it does not decode. */
static int decode(const uint8_t *in, size_t len, mtrace *t) {
  static const uint8_t empty[1];
  Lifetrace__Trace *p;

  t->n = 0;
  t->n_segments = 0;
  t->ends = 0;
  if (len > LT_TRACE_MAX_FUZZ_INPUT)
    return -1;
  p = lifetrace__trace__unpack(&lt_protobuf_allocator, len, in ? in : empty);
  if (p == NULL)
    return -1;
  if (p->header) {
    t->ends = p->header->ends;
    for (size_t i = 0; i < p->header->n_segments && t->n_segments < MX_SEGMENTS; i++) {
      const Lifetrace__Segment *s = p->header->segments[i];
      t->segments[t->n_segments++] = (msegment){s->id, s->kind, s->size};
    }
  }
  for (size_t i = 0; i < p->n_events && t->n < MX_EVENTS; i++)
    decode_event(p->events[i], &t->ev[t->n++]);
  lifetrace__trace__free_unpacked(p, &lt_protobuf_allocator);
  return 0;
}

/* ---- encoding -------------------------------------------------------------------- */

static void encode_event(lt_mutator *m, size_t k, const mev *e) {
  Lifetrace__Event *p = &m->pev[k];
  lifetrace__event__init(p);
  p->op = (Lifetrace__Op)e->op;
  p->pid = e->pid;
  p->device = e->device;
  p->context = e->context;
  p->resource = e->resource;
  p->fence = e->fence;
  p->alloc = e->alloc;
  p->node = e->node;
  p->segment = e->segment;
  p->source = e->source;
  p->site = (Lifetrace__FaultSite)e->site;
  p->nth = e->nth;
  p->resource_data = e->resource_data;
  p->new_resource = e->new_resource;
  p->shared = e->shared;
  p->rundown = e->rundown;
  p->destroy_resource = e->destroy_resource;
  p->assume_not_in_use = e->assume_not_in_use;
  p->synchronous = e->synchronous;
  for (size_t i = 0; i < e->n_allocs; i++) {
    Lifetrace__AllocInfo *a = &m->pai[k][i];
    lifetrace__alloc_info__init(a);
    a->alloc = e->allocs[i].alloc;
    a->size = e->allocs[i].size;
    a->align = e->allocs[i].align;
    a->segments = e->allocs[i].segments;
    a->preferred = e->allocs[i].preferred;
    a->flags = e->allocs[i].flags;
    a->variant = e->allocs[i].variant;
    m->paip[k][i] = a;
  }
  p->n_allocs = e->n_allocs;
  p->allocs = m->paip[k];
  p->n_handles = e->n_handles;
  p->handles = (uint64_t *)e->handles;
  for (size_t i = 0; i < e->n_refs; i++) {
    Lifetrace__Ref *r = &m->pref[k][i];
    lifetrace__ref__init(r);
    r->alloc = e->refs[i].alloc;
    r->write = e->refs[i].write;
    m->prefp[k][i] = r;
  }
  p->n_refs = e->n_refs;
  p->refs = m->prefp[k];
  m->pevp[k] = p;
}

/* Encodes t without events [skip_from, skip_from + skip_n), dropping trailing
 * events until it fits max. Returns the size, or 0 if not even the header
 * fits. */
static size_t encode(lt_mutator *m, const mtrace *t, size_t skip_from, size_t skip_n,
                     uint8_t *out, size_t max) {
  Lifetrace__TraceHeader h = LIFETRACE__TRACE_HEADER__INIT;
  Lifetrace__Trace tr = LIFETRACE__TRACE__INIT;
  size_t n = 0, total;

  h.lifetrace = 1;
  h.ends = (Lifetrace__Ends)t->ends;
  for (size_t i = 0; i < t->n_segments; i++) {
    lifetrace__segment__init(&m->pseg[i]);
    m->pseg[i].id = t->segments[i].id;
    m->pseg[i].kind = (Lifetrace__SegmentKind)t->segments[i].kind;
    m->pseg[i].size = t->segments[i].size;
    m->psegp[i] = &m->pseg[i];
  }
  h.n_segments = t->n_segments;
  h.segments = m->psegp;
  tr.header = &h;
  size_t hs = lifetrace__trace_header__get_packed_size(&h);
  total = 1 + lt__varint_len(hs) + hs;
  if (total > max)
    return 0;
  for (size_t i = 0; i < t->n; i++) {
    if (i >= skip_from && i - skip_from < skip_n)
      continue;
    encode_event(m, n, &t->ev[i]);
    size_t es = lifetrace__event__get_packed_size(&m->pev[n]);
    if (total + 1 + lt__varint_len(es) + es > max) {
      m->stats.truncated++;
      break;
    }
    total += 1 + lt__varint_len(es) + es;
    n++;
  }
  tr.n_events = n;
  tr.events = m->pevp;
  return lifetrace__trace__pack(&tr, out);
}

/* ---- helpers on the event list ------------------------------------------------------ */

static void insert_at(mtrace *t, size_t pos, const mev *e) {
  if (t->n >= MX_EVENTS)
    return;
  memmove(&t->ev[pos + 1], &t->ev[pos], (t->n - pos) * sizeof t->ev[0]);
  t->ev[pos] = *e;
  t->n++;
}

static void remove_at(mtrace *t, size_t pos, size_t k) {
  if (pos + k > t->n)
    k = t->n - pos;
  memmove(&t->ev[pos], &t->ev[pos + k], (t->n - pos - k) * sizeof t->ev[0]);
  t->n -= k;
}

/* A random event index whose op passes `want` (NULL = any); -1 if none. */
static long pick_event(mtrace *t, mrng *r, int (*want)(const mev *)) {
  size_t cand[MX_EVENTS], n = 0;
  for (size_t i = 0; i < t->n; i++)
    if (want == NULL || want(&t->ev[i]))
      cand[n++] = i;
  return n ? (long)cand[mrng_below(r, n)] : -1;
}

static int is_destroy(const mev *e) { return e->op == LIFETRACE__OP__ALLOC_DESTROY; }
static int is_create(const mev *e) { return e->op == LIFETRACE__OP__ALLOC_CREATE; }
static int is_flippable(const mev *e) { return is_destroy(e) || is_create(e); }

/* Gives a copied create event new handles so that it makes new objects. */
static void refresh_created(mmodel *mm, mrng *r, mev *e) {
  switch (e->op) {
  case LIFETRACE__OP__DEVICE_CREATE: e->device = lt__mm_fresh(mm, r, MK_DEVICE); break;
  case LIFETRACE__OP__CONTEXT_CREATE: e->context = lt__mm_fresh(mm, r, MK_CONTEXT); break;
  case LIFETRACE__OP__ALLOC_CREATE:
    if (e->new_resource)
      e->resource = ++mm->max_handle[MK_RESOURCE];
    for (size_t i = 0; i < e->n_allocs; i++)
      e->allocs[i].alloc = ++mm->max_handle[MK_ALLOC];
    break;
  }
}

/* ---- operations ------------------------------------------------------------------ */

static int op_insert(lt_mutator *m, mtrace *t, int op) {
  mrng *r = &m->rng;
  mev e;
  if (t->n >= MX_EVENTS)
    return 0;
  size_t pos = mrng_pct(r, 30) ? t->n : mrng_below(r, t->n + 1);
  if (op == LIFETRACE__OP__INJECT_FAULT && mrng_pct(r, 70)) {
    /* Most faults matter right before a create or an open. */
    long at = pick_event(t, r, NULL);
    for (size_t i = 0; at >= 0 && i < t->n; i++) {
      const mev *c = &t->ev[(at + i) % t->n];
      if (c->op == LIFETRACE__OP__ALLOC_CREATE || c->op == LIFETRACE__OP__ALLOC_OPEN) {
        pos = (at + i) % t->n;
        break;
      }
    }
  }
  lt__mm_run(&m->model, t, pos);
  if (!lt__mm_generate(&m->model, r, op, &e))
    return 0;
  insert_at(t, pos, &e);
  return 1;
}

static int op_delete(lt_mutator *m, mtrace *t) {
  if (t->n == 0)
    return 0;
  size_t k = mrng_pct(&m->rng, 80) ? 1 : 2 + mrng_below(&m->rng, 3);
  remove_at(t, mrng_below(&m->rng, t->n), k);
  return 1;
}

static int op_duplicate(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  if (t->n == 0 || t->n >= MX_EVENTS)
    return 0;
  size_t i = mrng_below(r, t->n), j = i + 1 + mrng_below(r, t->n - i);
  mev e = t->ev[i];
  if (mrng_pct(r, 60)) {
    lt__mm_run(&m->model, t, t->n);
    refresh_created(&m->model, r, &e);
  }
  insert_at(t, j, &e);
  return 1;
}

static int op_swap(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  if (t->n < 2)
    return 0;
  size_t i = mrng_below(r, t->n - 1);
  size_t j = mrng_pct(r, 70) ? i + 1 : mrng_below(r, t->n);
  mev tmp = t->ev[i];
  t->ev[i] = t->ev[j];
  t->ev[j] = tmp;
  return i != j;
}

static int op_move(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  if (t->n < 2)
    return 0;
  size_t i = mrng_below(r, t->n);
  mev e = t->ev[i];
  remove_at(t, i, 1);
  size_t j = mrng_below(r, t->n + 1);
  insert_at(t, j, &e);
  return i != j;
}

/* The handle fields of an event: pointers and their kinds. */
static size_t handle_fields(mev *e, uint64_t **f, int *kind) {
  size_t n = 0;
#define ADD(ptr, k) (f[n] = (ptr), kind[n++] = (k))
  switch (e->op) {
  case LIFETRACE__OP__DEVICE_DESTROY: ADD(&e->device, MK_DEVICE); break;
  case LIFETRACE__OP__CONTEXT_CREATE: ADD(&e->device, MK_DEVICE); break;
  case LIFETRACE__OP__CONTEXT_DESTROY:
  case LIFETRACE__OP__FENCE_DONE: ADD(&e->context, MK_CONTEXT); break;
  case LIFETRACE__OP__ALLOC_CREATE:
    ADD(&e->device, MK_DEVICE);
    if (e->resource && !e->new_resource)
      ADD(&e->resource, MK_RESOURCE);
    break;
  case LIFETRACE__OP__ALLOC_OPEN:
  case LIFETRACE__OP__ALLOC_CLOSE: ADD(&e->device, MK_DEVICE); /* fall through */
  case LIFETRACE__OP__ALLOC_DESTROY:
    if (e->op == LIFETRACE__OP__ALLOC_DESTROY && e->resource)
      ADD(&e->resource, MK_RESOURCE);
    for (size_t i = 0; i < e->n_handles; i++)
      ADD(&e->handles[i], MK_ALLOC);
    break;
  case LIFETRACE__OP__SUBMIT:
    ADD(&e->context, MK_CONTEXT);
    for (size_t i = 0; i < e->n_refs; i++)
      ADD(&e->refs[i].alloc, MK_ALLOC);
    break;
  case LIFETRACE__OP__LOCK:
  case LIFETRACE__OP__UNLOCK:
  case LIFETRACE__OP__EVICT:
  case LIFETRACE__OP__PAGE_IN:
  case LIFETRACE__OP__OFFER:
  case LIFETRACE__OP__RECLAIM:
  case LIFETRACE__OP__SCANOUT:
    if (e->alloc || e->op != LIFETRACE__OP__SCANOUT)
      ADD(&e->alloc, MK_ALLOC);
    break;
  }
#undef ADD
  return n;
}

static int has_handles(const mev *e) {
  uint64_t *f[3 * MX_LIST];
  int k[3 * MX_LIST];
  return handle_fields((mev *)e, f, k) != 0;
}

static int op_retarget(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  uint64_t *f[3 * MX_LIST];
  int kind[3 * MX_LIST];
  long i = pick_event(t, r, has_handles);
  if (i < 0)
    return 0;
  size_t n = handle_fields(&t->ev[i], f, kind), j = mrng_below(r, n);
  uint64_t p = mrng_below(r, 100);
  int intent = p < 60 ? 0 : (p < 85 ? 1 : 2);
  lt__mm_run(&m->model, t, (size_t)i);
  *f[j] = lt__mm_pick_handle(&m->model, r, kind[j], intent);
  return 1;
}

static int op_flip(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  long i = pick_event(t, r, is_flippable);
  if (i < 0)
    return 0;
  mev *e = &t->ev[i];
  if (e->op == LIFETRACE__OP__ALLOC_CREATE) {
    if (mrng_pct(r, 50) && e->resource)
      e->new_resource ^= 1;
    else
      e->shared ^= 1;
    return 1;
  }
  switch (mrng_below(r, 3)) {
  case 0: e->destroy_resource ^= 1; break;
  case 1: e->assume_not_in_use ^= 1; break;
  default: e->synchronous ^= 1; break;
  }
  return 1;
}

static int splittable(const mev *e) {
  return is_destroy(e) && (e->n_handles >= 2 || (e->n_handles >= 1 && e->destroy_resource));
}

/* One destroy call becomes two: some allocations first (the resource kept),
 * the rest (and the resource, if it was to go) later. */
static int op_split(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  long i = pick_event(t, r, splittable);
  if (i < 0 || t->n >= MX_EVENTS)
    return 0;
  mev first = t->ev[i], second = t->ev[i];
  size_t n = first.n_handles;
  size_t k = n >= 2 ? 1 + mrng_below(r, n - 1) : n;
  if (first.destroy_resource && mrng_pct(r, 40))
    k = n; /* leaves a resource-only destroy */
  first.n_handles = (uint8_t)k;
  first.destroy_resource = 0;
  memmove(second.handles, first.handles + k, (n - k) * sizeof second.handles[0]);
  second.n_handles = (uint8_t)(n - k);
  if (second.n_handles == 0 && !second.destroy_resource)
    return 0;
  t->ev[i] = first;
  size_t at = (size_t)i + 1 + (mrng_pct(r, 30) ? mrng_below(r, t->n - (size_t)i) : 0);
  insert_at(t, at, &second);
  return 1;
}

static int op_merge(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  long i = pick_event(t, r, is_destroy);
  if (i < 0)
    return 0;
  for (size_t j = (size_t)i + 1; j < t->n; j++) {
    mev *a = &t->ev[i], *b = &t->ev[j];
    if (!is_destroy(b) || b->resource != a->resource)
      continue;
    for (size_t k = 0; k < b->n_handles && a->n_handles < MX_LIST; k++)
      a->handles[a->n_handles++] = b->handles[k];
    a->destroy_resource |= b->destroy_resource;
    remove_at(t, j, 1);
    return 1;
  }
  return 0;
}

static void tweak_alloc(mrng *r, mallocinfo *a) {
  switch (mrng_below(r, 6)) {
  case 4: a->variant = mrng_pct(r, 20) ? 0 : (uint32_t)mrng_next(r); break;
  case 0: a->size = mrng_pct(r, 50) ? a->size * 2 + 4096 : mrng_below(r, 64u << 20); break;
  case 1: a->segments = (uint32_t)mrng_below(r, 8); break;
  case 2: a->preferred = (uint32_t)mrng_below(r, 4); break;
  case 3: a->flags ^= mrng_pct(r, 50) ? 0x80000000u : 1u << mrng_below(r, 19); break;
  default: a->align = mrng_pct(r, 50) ? 0 : 1ull << mrng_below(r, 24); break;
  }
}

/* Sets, clears or resizes the resource-level private data of a create. */
static void tweak_resource_data(mrng *r, mev *e) {
  static const uint32_t sizes[] = {8, 16, 64, 256, 4096, 65536, 65537};
  if (e->resource_data == 0)
    e->resource_data = sizes[mrng_below(r, sizeof sizes / sizeof sizes[0])];
  else if (mrng_pct(r, 30))
    e->resource_data = 0;
  else if (mrng_pct(r, 50))
    e->resource_data = e->resource_data * 2 + 1;
  else
    e->resource_data = e->resource_data / 2;
}

static int op_tweak(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  long i = pick_event(t, r, NULL);
  if (i < 0)
    return 0;
  mev *e = &t->ev[i];
  switch (e->op) {
  case LIFETRACE__OP__ALLOC_CREATE:
    if (mrng_pct(r, 20))
      tweak_resource_data(r, e);
    else if (e->n_allocs && mrng_pct(r, 85))
      tweak_alloc(r, &e->allocs[mrng_below(r, e->n_allocs)]);
    else if (e->n_allocs > 1)
      e->n_allocs--;
    return 1;
  case LIFETRACE__OP__INJECT_FAULT:
    if (mrng_pct(r, 70))
      e->nth = 1 + (uint32_t)mrng_below(r, 12);
    else
      e->site = 1 + (uint32_t)mrng_below(r, 3);
    return 1;
  case LIFETRACE__OP__SUBMIT:
    if (e->n_refs && mrng_pct(r, 50))
      e->refs[mrng_below(r, e->n_refs)].write ^= 1;
    else
      e->fence += mrng_below(r, 5);
    return 1;
  case LIFETRACE__OP__FENCE_DONE: e->fence = mrng_below(r, e->fence + 3); return 1;
  case LIFETRACE__OP__CONTEXT_CREATE: e->node = (uint32_t)mrng_below(r, 8); return 1;
  case LIFETRACE__OP__SCANOUT: e->source = (uint32_t)mrng_below(r, 4); return 1;
  case LIFETRACE__OP__PAGE_IN:
  case LIFETRACE__OP__EVICT: e->segment = (uint32_t)mrng_below(r, 4); return 1;
  }
  return 0;
}

static int op_header(lt_mutator *m, mtrace *t) {
  mrng *r = &m->rng;
  switch (mrng_below(r, 3)) {
  case 0: t->ends = mrng_pct(r, 70) ? 0 : 1; return 1;
  case 1: /* small segments: placement fails, eviction happens */
    t->n_segments = 2;
    t->segments[0] = (msegment){1, 0, (uint64_t)(256u << 10) << mrng_below(r, 6)};
    t->segments[1] = (msegment){2, 1, (uint64_t)(256u << 10) << mrng_below(r, 6)};
    return 1;
  default: t->n_segments = 0; return 1; /* the engine's default segments */
  }
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct {
  int op;
  unsigned w;
} op_weights[] = {
    {LT_MUT_INSERT, 28}, {LT_MUT_DELETE, 10},   {LT_MUT_DUPLICATE, 5},      {LT_MUT_SWAP, 5},
    {LT_MUT_MOVE, 5},    {LT_MUT_RETARGET, 10}, {LT_MUT_FLIP, 8},           {LT_MUT_SPLIT, 5},
    {LT_MUT_MERGE, 3},   {LT_MUT_ADD_FENCE, 4}, {LT_MUT_ADD_TDR, 1},        {LT_MUT_ADD_EXIT, 2},
    {LT_MUT_ADD_DEVICE_DESTROY, 2},             {LT_MUT_ADD_FAULT, 6},      {LT_MUT_TWEAK, 5},
    {LT_MUT_HEADER, 1},
};

static int pick_mutation(lt_mutator *m, const mtrace *t) {
  unsigned total = 0;
  for (size_t i = 0; i < sizeof op_weights / sizeof op_weights[0]; i++)
    total += op_weights[i].w;
  /* Long traces replay slowly: lean towards deleting. */
  if (t->n >= m->max_events || (t->n > m->max_events / 2 && mrng_pct(&m->rng, 20)))
    return LT_MUT_DELETE;
  uint64_t x = mrng_below(&m->rng, total);
  for (size_t i = 0; i < sizeof op_weights / sizeof op_weights[0]; i++) {
    if (x < op_weights[i].w)
      return op_weights[i].op;
    x -= op_weights[i].w;
  }
  return LT_MUT_INSERT;
}

static int apply_op(lt_mutator *m, mtrace *t, int op) {
  switch (op) {
  case LT_MUT_INSERT: return op_insert(m, t, 0);
  case LT_MUT_DELETE: return op_delete(m, t);
  case LT_MUT_DUPLICATE: return op_duplicate(m, t);
  case LT_MUT_SWAP: return op_swap(m, t);
  case LT_MUT_MOVE: return op_move(m, t);
  case LT_MUT_RETARGET: return op_retarget(m, t);
  case LT_MUT_FLIP: return op_flip(m, t);
  case LT_MUT_SPLIT: return op_split(m, t);
  case LT_MUT_MERGE: return op_merge(m, t);
  case LT_MUT_ADD_FENCE: return op_insert(m, t, LIFETRACE__OP__FENCE_DONE);
  case LT_MUT_ADD_TDR: return op_insert(m, t, LIFETRACE__OP__TDR);
  case LT_MUT_ADD_EXIT: return op_insert(m, t, LIFETRACE__OP__PROCESS_EXIT);
  case LT_MUT_ADD_DEVICE_DESTROY: return op_insert(m, t, LIFETRACE__OP__DEVICE_DESTROY);
  case LT_MUT_ADD_FAULT: return op_insert(m, t, LIFETRACE__OP__INJECT_FAULT);
  case LT_MUT_TWEAK: return op_tweak(m, t);
  case LT_MUT_HEADER: return op_header(m, t);
  }
  return 0;
}

static void note(lt_mutator *m, int op) {
  size_t len = strlen(m->desc);
  m->stats.applied[op]++;
  snprintf(m->desc + len, sizeof m->desc - len, "%s%s", len ? "+" : "", op_names[op]);
}

/* Builds a short fresh trace (an undecodable or empty input). */
static void generate(lt_mutator *m, mtrace *t) {
  size_t n = 4 + mrng_below(&m->rng, 9);
  t->n = 0;
  for (size_t i = 0; i < n; i++)
    (void)op_insert(m, t, 0);
  note(m, LT_MUT_GENERATE);
}

/* Applies 1..4 operations (each further one with probability 1/2). */
static void mutate_trace(lt_mutator *m, mtrace *t) {
  int done = 0;
  do {
    int ok = 0;
    for (int tries = 0; tries < 8 && !ok; tries++) {
      int op = pick_mutation(m, t);
      if ((ok = apply_op(m, t, op)))
        note(m, op);
    }
    if (!ok) {
      generate(m, t);
      return;
    }
  } while (++done < 4 && mrng_pct(&m->rng, 50));
}

static void flip_bytes(mrng *r, uint8_t *data, size_t size) {
  size_t n = 1 + mrng_below(r, 4);
  for (size_t i = 0; i < n && size; i++)
    data[mrng_below(r, size)] ^= (uint8_t)(1u << mrng_below(r, 8));
}

/* Encodes t into out and maybe runs the byte-level operation on it. */
static size_t finish(lt_mutator *m, mtrace *t, uint8_t *out, size_t max) {
  if (m->repair_keep < 100)
    (void)lt__mm_repair(&m->model, &m->rng, t, m->repair_keep);
  if (m->has_contract)
    (void)lt__mc_constrain(t, t == &m->t2 ? &m->t : &m->t2, &m->contract);
  if (t->n > m->max_events)
    t->n = m->max_events;
  size_t n = encode(m, t, 0, 0, out, max);
  if (n == 0) {
    m->stats.failed++;
    return 0;
  }
  if (m->bytes_rate && mrng_below(&m->rng, 1000) < m->bytes_rate) {
    if (m->bytes_fn)
      n = m->bytes_fn(out, n, max);
    else
      flip_bytes(&m->rng, out, n);
    note(m, LT_MUT_BYTES);
  }
  return n;
}

static void begin(lt_mutator *m, uint32_t seed) {
  m->rng.s = 0x6c74726163650000ull ^ seed;
  m->desc[0] = 0;
  m->stats.calls++;
}

/* Applies random operations to the decoded input, or generates a fresh trace
 * when it does not decode or is empty; then repairs it, cuts it to
 * max_events, encodes it into out and now and then runs the byte-level
 * operation on the result. See lifetrace/mutator.h. */
size_t lt_mutator_mutate(lt_mutator *m, const uint8_t *in, size_t len, uint8_t *out, size_t max,
                         uint32_t seed) {
  begin(m, seed);
  if (decode(in, len, &m->t) != 0) {
    m->stats.undecodable++;
    m->t.ends = 0;
    m->t.n_segments = 0;
    generate(m, &m->t);
  } else if (m->t.n == 0) {
    generate(m, &m->t);
  } else {
    mutate_trace(m, &m->t);
  }
  return finish(m, &m->t, out, max);
}

/* Prefix of a + suffix of b, or a chunk of b inserted into a. */
static void splice(lt_mutator *m, mtrace *a, const mtrace *b) {
  mrng *r = &m->rng;
  if (mrng_pct(r, 50)) {
    size_t i = mrng_below(r, a->n + 1), j = mrng_below(r, b->n + 1);
    size_t k = b->n - j;
    if (i + k > MX_EVENTS)
      k = MX_EVENTS - i;
    memcpy(&a->ev[i], &b->ev[j], k * sizeof a->ev[0]);
    a->n = i + k;
  } else {
    size_t j = mrng_below(r, b->n + 1), k = 1 + mrng_below(r, 8);
    size_t at = mrng_below(r, a->n + 1);
    for (size_t x = 0; x < k && j + x < b->n && a->n < MX_EVENTS; x++)
      insert_at(a, at + x, &b->ev[j + x]);
  }
}

/* Splices events of b into a (either may fail to decode), then maybe mutates
 * once more; see lifetrace/mutator.h. */
size_t lt_mutator_crossover(lt_mutator *m, const uint8_t *a, size_t alen, const uint8_t *b,
                            size_t blen, uint8_t *out, size_t max, uint32_t seed) {
  begin(m, seed);
  m->stats.crossovers++;
  int da = decode(a, alen, &m->t), db = decode(b, blen, &m->t2);
  if (da != 0 && db != 0) {
    m->stats.undecodable++;
    generate(m, &m->t);
  } else if (da != 0) {
    m->t = m->t2;
    mutate_trace(m, &m->t);
  } else if (db != 0) {
    mutate_trace(m, &m->t);
  } else {
    splice(m, &m->t, &m->t2);
    note(m, LT_MUT_SPLICE);
    if (mrng_pct(&m->rng, 50))
      mutate_trace(m, &m->t);
  }
  return finish(m, &m->t, out, max);
}

/* Loads an input for event-level trimming and returns its event count (0
 * when it does not decode); see lifetrace/mutator.h. */
size_t lt_mutator_load(lt_mutator *m, const uint8_t *in, size_t len) {
  if (decode(in, len, &m->t) != 0)
    m->t.n = 0;
  return m->t.n;
}

/* Encodes the loaded input without events [from, from + n); see
 * lifetrace/mutator.h. */
size_t lt_mutator_emit_without(lt_mutator *m, size_t from, size_t n, uint8_t *out, size_t max) {
  return encode(m, &m->t, from, n, out, max);
}

/* Counts the events of an input the mutator's kernel-policy model would
 * deliver, for lt-mutator-stats; see lifetrace/mutator.h. */
int lt_mutator_check(lt_mutator *m, const uint8_t *in, size_t len, size_t *events,
                     size_t *accepted) {
  *events = *accepted = 0;
  if (decode(in, len, &m->t) != 0)
    return 0;
  lt__mm_run(&m->model, &m->t, 0);
  for (size_t i = 0; i < m->t.n; i++)
    *accepted += (size_t)lt__mm_apply(&m->model, &m->t.ev[i]);
  *events = m->t.n;
  return 1;
}
