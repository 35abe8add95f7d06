/* lifetrace — the mutator's model of the kernel policy and its event
 * generators (see mutator_internal.h).
 *
 * The model follows the replay engine's refusal rules closely enough to tell
 * which handles are alive at a position: a destroy names live allocations of
 * the named resource, a create does not reuse a live handle, fences on a
 * context grow, device destroy and process exit take what the device made
 * with them. It does not know what the driver does (an injected fault may
 * make a create fail), so it is an approximation, which is all a generator
 * needs.
 */
#include <string.h>

#include "mutator_internal.h"
#include "trace.pb-c.h"

enum {
  OP_DEVICE_CREATE = LIFETRACE__OP__DEVICE_CREATE,
  OP_DEVICE_DESTROY = LIFETRACE__OP__DEVICE_DESTROY,
  OP_CONTEXT_CREATE = LIFETRACE__OP__CONTEXT_CREATE,
  OP_CONTEXT_DESTROY = LIFETRACE__OP__CONTEXT_DESTROY,
  OP_ALLOC_CREATE = LIFETRACE__OP__ALLOC_CREATE,
  OP_ALLOC_OPEN = LIFETRACE__OP__ALLOC_OPEN,
  OP_ALLOC_CLOSE = LIFETRACE__OP__ALLOC_CLOSE,
  OP_ALLOC_DESTROY = LIFETRACE__OP__ALLOC_DESTROY,
  OP_SUBMIT = LIFETRACE__OP__SUBMIT,
  OP_FENCE_DONE = LIFETRACE__OP__FENCE_DONE,
  OP_LOCK = LIFETRACE__OP__LOCK,
  OP_UNLOCK = LIFETRACE__OP__UNLOCK,
  OP_EVICT = LIFETRACE__OP__EVICT,
  OP_PAGE_IN = LIFETRACE__OP__PAGE_IN,
  OP_SCANOUT = LIFETRACE__OP__SCANOUT,
  OP_OFFER = LIFETRACE__OP__OFFER,
  OP_RECLAIM = LIFETRACE__OP__RECLAIM,
  OP_TDR = LIFETRACE__OP__TDR,
  OP_PROCESS_EXIT = LIFETRACE__OP__PROCESS_EXIT,
  OP_INJECT_FAULT = LIFETRACE__OP__INJECT_FAULT,
};

#define PRIMARY_FLAG 0x80000000u
#define CPU_VISIBLE_FLAG 0x1u

/* First handle value of each kind, as the regression corpus numbers them. */
static const uint64_t handle_base[MK__COUNT] = {1, 0x10, 0x20, 0x100};

/* Empties the model: no objects, no scanout, handle counters at their bases. */
void lt__mm_reset(mmodel *m) {
  memset(m->n, 0, sizeof m->n);
  memset(m->scanout, 0, sizeof m->scanout);
  for (int k = 0; k < MK__COUNT; k++)
    m->max_handle[k] = handle_base[k] - 1;
}

static void note_handle(mmodel *m, int kind, uint64_t h) {
  if (h > m->max_handle[kind] && h < handle_base[kind] + 0x100000)
    m->max_handle[kind] = h;
}

/* The newest object of kind with handle, live or dead, or NULL. */
mobj *lt__mm_find(mmodel *m, int kind, uint64_t handle) {
  for (size_t i = m->n[kind]; i-- > 0;)
    if (m->obj[kind][i].handle == handle)
      return &m->obj[kind][i];
  return NULL;
}

static mobj *find_live(mmodel *m, int kind, uint64_t handle) {
  mobj *o = lt__mm_find(m, kind, handle);
  return o && o->live ? o : NULL;
}

/* Makes (or revives) the record of a handle; NULL when the table is full. */
static mobj *add(mmodel *m, int kind, uint64_t handle, uint64_t owner, uint64_t parent) {
  mobj *o = lt__mm_find(m, kind, handle);
  if (o == NULL) {
    if (m->n[kind] >= MX_OBJS)
      return NULL;
    o = &m->obj[kind][m->n[kind]++];
  }
  memset(o, 0, sizeof *o);
  o->handle = handle;
  o->live = 1;
  o->owner = owner;
  o->parent = parent;
  note_handle(m, kind, handle);
  return o;
}

static void kill_resource(mmodel *m, mobj *res) {
  res->live = 0;
  for (size_t i = 0; i < m->n[MK_ALLOC]; i++)
    if (m->obj[MK_ALLOC][i].parent == res->handle)
      m->obj[MK_ALLOC][i].live = 0;
}

/* dxgkrnl's device teardown: contexts, device allocations, resources. */
static void kill_device(mmodel *m, mobj *dev) {
  dev->live = 0;
  for (size_t i = 0; i < m->n[MK_CONTEXT]; i++)
    if (m->obj[MK_CONTEXT][i].owner == dev->handle)
      m->obj[MK_CONTEXT][i].live = 0;
  for (size_t i = 0; i < m->n[MK_ALLOC]; i++) {
    mobj *a = &m->obj[MK_ALLOC][i];
    if (a->owner == dev->handle && a->parent == 0)
      a->live = 0;
  }
  for (size_t i = 0; i < m->n[MK_RESOURCE]; i++) {
    mobj *res = &m->obj[MK_RESOURCE][i];
    if (res->live && res->owner == dev->handle)
      kill_resource(m, res);
  }
}

static int apply_create(mmodel *m, const mev *e) {
  if (e->n_allocs == 0 || (e->device && !find_live(m, MK_DEVICE, e->device)))
    return 0;
  if (e->resource && e->new_resource) {
    if (find_live(m, MK_RESOURCE, e->resource))
      return 0;
  } else if (e->resource && !find_live(m, MK_RESOURCE, e->resource)) {
    return 0;
  }
  for (size_t i = 0; i < e->n_allocs; i++) {
    if (e->allocs[i].alloc == 0 || find_live(m, MK_ALLOC, e->allocs[i].alloc))
      return 0;
    for (size_t j = 0; j < i; j++)
      if (e->allocs[j].alloc == e->allocs[i].alloc)
        return 0;
  }
  if (e->resource && e->new_resource)
    add(m, MK_RESOURCE, e->resource, e->device, 0);
  for (size_t i = 0; i < e->n_allocs; i++) {
    mobj *a = add(m, MK_ALLOC, e->allocs[i].alloc, e->device, e->resource);
    if (a)
      a->shared = e->shared;
  }
  return 1;
}

static int apply_destroy(mmodel *m, const mev *e) {
  mobj *res = NULL;
  if (e->resource) {
    if ((res = find_live(m, MK_RESOURCE, e->resource)) == NULL)
      return 0;
  } else if (e->destroy_resource) {
    return 0;
  }
  if (e->n_handles == 0 && !(e->destroy_resource && res))
    return 0;
  for (size_t i = 0; i < e->n_handles; i++) {
    mobj *a = find_live(m, MK_ALLOC, e->handles[i]);
    if (a == NULL || (res && a->parent != res->handle))
      return 0;
    for (size_t j = 0; j < i; j++)
      if (e->handles[j] == e->handles[i])
        return 0;
  }
  for (size_t i = 0; i < e->n_handles; i++)
    find_live(m, MK_ALLOC, e->handles[i])->live = 0;
  if (res && e->destroy_resource)
    kill_resource(m, res);
  return 1;
}

static int apply_open_close(mmodel *m, const mev *e, int open) {
  int any = 0;
  if (!find_live(m, MK_DEVICE, e->device) || e->n_handles == 0)
    return 0;
  for (size_t i = 0; open && i < e->n_handles; i++)
    if (!find_live(m, MK_ALLOC, e->handles[i]))
      return 0;
  for (size_t i = 0; i < e->n_handles; i++) {
    mobj *a = find_live(m, MK_ALLOC, e->handles[i]);
    if (open)
      a->opened++;
    else if (a && a->opened) {
      a->opened--;
      any = 1;
    }
  }
  return open || any;
}

static int apply_submit(mmodel *m, const mev *e) {
  mobj *c = find_live(m, MK_CONTEXT, e->context);
  if (c == NULL || (c->fence && e->fence <= c->fence))
    return 0;
  for (size_t i = 0; i < e->n_refs; i++)
    if (!find_live(m, MK_ALLOC, e->refs[i].alloc))
      return 0;
  c->fence = e->fence;
  return 1;
}

static int apply_exit(mmodel *m, const mev *e) {
  int any = 0;
  for (size_t i = 0; i < m->n[MK_DEVICE]; i++) {
    mobj *d = &m->obj[MK_DEVICE][i];
    if (d->live && d->parent == e->pid) {
      kill_device(m, d);
      any = 1;
    }
  }
  return any;
}

static void note_event(mmodel *m, const mev *e) {
  note_handle(m, MK_DEVICE, e->device);
  note_handle(m, MK_CONTEXT, e->context);
  note_handle(m, MK_RESOURCE, e->resource);
  note_handle(m, MK_ALLOC, e->alloc);
  for (size_t i = 0; i < e->n_allocs; i++)
    note_handle(m, MK_ALLOC, e->allocs[i].alloc);
  for (size_t i = 0; i < e->n_handles; i++)
    note_handle(m, MK_ALLOC, e->handles[i]);
  for (size_t i = 0; i < e->n_refs; i++)
    note_handle(m, MK_ALLOC, e->refs[i].alloc);
}

/* Applies one event to the model; returns 1 if the engine's kernel policy
 * would deliver it (live handles of the right kind, growing fences, no live
 * handle created again), else 0 and no object changes. */
int lt__mm_apply(mmodel *m, const mev *e) {
  mobj *o;
  note_event(m, e);
  switch (e->op) {
  case OP_DEVICE_CREATE:
    if (e->device == 0 || find_live(m, MK_DEVICE, e->device))
      return 0;
    add(m, MK_DEVICE, e->device, 0, e->pid);
    return 1;
  case OP_DEVICE_DESTROY:
    if ((o = find_live(m, MK_DEVICE, e->device)) == NULL)
      return 0;
    kill_device(m, o);
    return 1;
  case OP_CONTEXT_CREATE:
    if (!find_live(m, MK_DEVICE, e->device) || e->context == 0 ||
        find_live(m, MK_CONTEXT, e->context))
      return 0;
    add(m, MK_CONTEXT, e->context, e->device, 0);
    return 1;
  case OP_CONTEXT_DESTROY:
    if ((o = find_live(m, MK_CONTEXT, e->context)) == NULL)
      return 0;
    o->live = 0;
    return 1;
  case OP_ALLOC_CREATE: return apply_create(m, e);
  case OP_ALLOC_OPEN: return apply_open_close(m, e, 1);
  case OP_ALLOC_CLOSE: return apply_open_close(m, e, 0);
  case OP_ALLOC_DESTROY: return apply_destroy(m, e);
  case OP_SUBMIT: return apply_submit(m, e);
  case OP_FENCE_DONE: return find_live(m, MK_CONTEXT, e->context) != NULL;
  case OP_LOCK:
  case OP_UNLOCK:
  case OP_EVICT:
  case OP_PAGE_IN:
  case OP_OFFER:
  case OP_RECLAIM: return find_live(m, MK_ALLOC, e->alloc) != NULL;
  case OP_SCANOUT:
    if (e->source >= 16 || (e->alloc && !find_live(m, MK_ALLOC, e->alloc)))
      return 0;
    m->scanout[e->source] = e->alloc;
    return 1;
  case OP_TDR: return 1;
  case OP_PROCESS_EXIT: return apply_exit(m, e);
  case OP_INJECT_FAULT: return e->site >= 1 && e->site <= 3;
  }
  return 0;
}

/* Resets the model, notes every handle t uses (so fresh handles avoid them),
 * and applies events [0, upto). */
void lt__mm_run(mmodel *m, const mtrace *t, size_t upto) {
  lt__mm_reset(m);
  for (size_t i = 0; i < t->n; i++)
    note_event(m, &t->ev[i]);
  for (size_t i = 0; i < upto && i < t->n; i++)
    (void)lt__mm_apply(m, &t->ev[i]);
}

/* ---- picking handles --------------------------------------------------------- */

static size_t count_where(mmodel *m, int kind, int live, uint64_t owner) {
  size_t n = 0;
  for (size_t i = 0; i < m->n[kind]; i++) {
    const mobj *o = &m->obj[kind][i];
    n += o->live == live && (owner == 0 || o->owner == owner);
  }
  return n;
}

static mobj *nth_where(mmodel *m, int kind, int live, uint64_t owner, size_t nth) {
  for (size_t i = 0; i < m->n[kind]; i++) {
    mobj *o = &m->obj[kind][i];
    if (o->live == live && (owner == 0 || o->owner == owner) && nth-- == 0)
      return o;
  }
  return NULL;
}

/* A random live object of kind (owned by owner when nonzero), or NULL. */
mobj *lt__mm_pick_live(mmodel *m, mrng *r, int kind, uint64_t owner) {
  size_t n = count_where(m, kind, 1, owner);
  return n ? nth_where(m, kind, 1, owner, mrng_below(r, n)) : NULL;
}

static mobj *pick_dead(mmodel *m, mrng *r, int kind) {
  size_t n = count_where(m, kind, 0, 0);
  return n ? nth_where(m, kind, 0, 0, mrng_below(r, n)) : NULL;
}

/* A handle no live object of kind uses: usually a new one, 15% of the time a
 * dead object's, to exercise handle reuse (ABA). */
uint64_t lt__mm_fresh(mmodel *m, mrng *r, int kind) {
  mobj *dead = mrng_pct(r, 15) ? pick_dead(m, r, kind) : NULL;
  if (dead && !find_live(m, kind, dead->handle))
    return dead->handle; /* a reused handle value (ABA) */
  return ++m->max_handle[kind];
}

/* A handle for intent 0 (live), 1 (dead, else live) or 2 (never created);
 * with no object to pick, a value just past the highest, or a wild one. */
uint64_t lt__mm_pick_handle(mmodel *m, mrng *r, int kind, int intent) {
  mobj *o = NULL;
  if (intent == 1)
    o = pick_dead(m, r, kind);
  if (intent == 0 || (intent == 1 && o == NULL))
    o = lt__mm_pick_live(m, r, kind, 0);
  if (o)
    return o->handle;
  if (mrng_pct(r, 80))
    return m->max_handle[kind] + 1 + mrng_below(r, 4);
  return mrng_next(r) | 1; /* a wild pointer-like value */
}

/* ---- generators ---------------------------------------------------------------- */

static uint64_t pick_size(mrng *r) {
  static const uint64_t sizes[] = {0, 4096, 4096, 65536, 65536, 262144, 1u << 20, 8u << 20};
  if (mrng_pct(r, 10))
    return 1 + mrng_below(r, 3u << 20);
  return sizes[mrng_below(r, sizeof sizes / sizeof sizes[0])];
}

static uint32_t pick_flags(mrng *r) {
  uint64_t p = mrng_below(r, 100);
  if (p < 65)
    return 0;
  if (p < 80)
    return PRIMARY_FLAG;
  if (p < 92)
    return CPU_VISIBLE_FLAG;
  return 1u << mrng_below(r, 19);
}

static void gen_allocinfo(mmodel *m, mrng *r, mallocinfo *ai) {
  memset(ai, 0, sizeof *ai);
  ai->alloc = lt__mm_fresh(m, r, MK_ALLOC);
  ai->size = pick_size(r);
  if (mrng_pct(r, 10))
    ai->align = 4096u << mrng_below(r, 5);
  if (mrng_pct(r, 30))
    ai->segments = 1 + (uint32_t)mrng_below(r, 3);
  if (mrng_pct(r, 10))
    ai->preferred = 1 + (uint32_t)mrng_below(r, 2);
  ai->flags = pick_flags(r);
}

static size_t pick_count(mrng *r) {
  uint64_t p = mrng_below(r, 100);
  if (p < 45)
    return 1;
  if (p < 75)
    return 2;
  if (p < 90)
    return 3;
  return 4 + mrng_below(r, MX_LIST - 3);
}

static int gen_device_create(mmodel *m, mrng *r, mev *e) {
  mobj *other = mrng_pct(r, 40) ? lt__mm_pick_live(m, r, MK_DEVICE, 0) : NULL;
  uint64_t maxpid = 0;
  for (size_t i = 0; i < m->n[MK_DEVICE]; i++)
    if (m->obj[MK_DEVICE][i].parent > maxpid)
      maxpid = m->obj[MK_DEVICE][i].parent;
  e->device = lt__mm_fresh(m, r, MK_DEVICE);
  e->pid = other ? other->parent : (maxpid / 100 + 1) * 100;
  return 1;
}

static int gen_context_create(mmodel *m, mrng *r, mev *e) {
  mobj *d = lt__mm_pick_live(m, r, MK_DEVICE, 0);
  if (d == NULL)
    return 0;
  e->device = d->handle;
  e->context = lt__mm_fresh(m, r, MK_CONTEXT);
  e->node = mrng_pct(r, 70) ? 0 : (uint32_t)mrng_below(r, 4);
  return 1;
}

static int gen_alloc_create(mmodel *m, mrng *r, mev *e) {
  mobj *d = lt__mm_pick_live(m, r, MK_DEVICE, 0), *res = NULL;
  if (d == NULL)
    return 0;
  e->device = d->handle;
  uint64_t mode = mrng_below(r, 100);
  if (mode >= 40 && mode < 80) {
    e->resource = lt__mm_fresh(m, r, MK_RESOURCE);
    e->new_resource = 1;
    e->shared = mrng_pct(r, 12);
  } else if (mode >= 80 && (res = lt__mm_pick_live(m, r, MK_RESOURCE, 0)) != NULL) {
    e->resource = res->handle; /* add allocations to an existing resource */
  }
  if (e->resource && mrng_pct(r, 30)) /* resource-level private data */
    e->resource_data = 16u << mrng_below(r, 8);
  e->n_allocs = (uint8_t)pick_count(r);
  for (size_t i = 0; i < e->n_allocs; i++)
    gen_allocinfo(m, r, &e->allocs[i]);
  /* A reused dead handle could repeat within the call; keep them distinct. */
  for (size_t i = 1; i < e->n_allocs; i++)
    for (size_t j = 0; j < i; j++)
      if (e->allocs[j].alloc == e->allocs[i].alloc)
        e->allocs[i].alloc = ++m->max_handle[MK_ALLOC];
  return 1;
}

/* Up to k distinct live allocations (of resource `parent` when `by_parent`). */
static size_t pick_allocs(mmodel *m, mrng *r, size_t k, int by_parent, uint64_t parent,
                          uint64_t *out) {
  uint64_t cand[MX_OBJS];
  size_t n = 0;
  for (size_t i = 0; i < m->n[MK_ALLOC]; i++) {
    const mobj *a = &m->obj[MK_ALLOC][i];
    if (a->live && (!by_parent || a->parent == parent))
      cand[n++] = a->handle;
  }
  size_t got = 0;
  while (got < k && n > 0) {
    size_t j = mrng_below(r, n);
    out[got++] = cand[j];
    cand[j] = cand[--n];
  }
  return got;
}

static int gen_alloc_destroy(mmodel *m, mrng *r, mev *e) {
  mobj *res = mrng_pct(r, 65) ? lt__mm_pick_live(m, r, MK_RESOURCE, 0) : NULL;
  if (res) {
    uint64_t members[MX_LIST];
    size_t n = pick_allocs(m, r, MX_LIST, 1, res->handle, members), k = n;
    uint64_t shape = mrng_below(r, 100);
    e->resource = res->handle;
    e->destroy_resource = 1;
    if (shape >= 40 && shape < 65 && n > 1) { /* individual destroy of some */
      k = 1 + mrng_below(r, n - 1);
      e->destroy_resource = 0;
    } else if (shape >= 65 && shape < 75 && n > 1) {
      k = 1 + mrng_below(r, n - 1);
    } else if (shape >= 75 && shape < 90) {
      k = 0; /* resource-only destroy */
    } else if (shape >= 90) {
      e->destroy_resource = 0;
    }
    memcpy(e->handles, members, k * sizeof members[0]);
    e->n_handles = (uint8_t)k;
    if (k == 0 && !e->destroy_resource)
      e->destroy_resource = 1;
  } else {
    e->n_handles = (uint8_t)pick_allocs(m, r, 1 + mrng_below(r, 3), 1, 0, e->handles);
    if (e->n_handles == 0)
      return 0;
  }
  e->assume_not_in_use = mrng_pct(r, 15);
  e->synchronous = mrng_pct(r, 10);
  return 1;
}

static int gen_open_close(mmodel *m, mrng *r, mev *e, int open) {
  mobj *d = lt__mm_pick_live(m, r, MK_DEVICE, 0);
  if (d == NULL)
    return 0;
  e->device = d->handle;
  e->pid = d->parent;
  if (open) {
    e->n_handles = (uint8_t)pick_allocs(m, r, pick_count(r), 0, 0, e->handles);
    return e->n_handles != 0;
  }
  for (size_t i = 0; i < m->n[MK_ALLOC] && e->n_handles < MX_LIST; i++) {
    const mobj *a = &m->obj[MK_ALLOC][i];
    if (a->live && a->opened && mrng_pct(r, 70))
      e->handles[e->n_handles++] = a->handle;
  }
  return e->n_handles != 0;
}

static int gen_submit(mmodel *m, mrng *r, mev *e) {
  mobj *c = lt__mm_pick_live(m, r, MK_CONTEXT, 0);
  if (c == NULL)
    return 0;
  e->context = c->handle;
  e->fence = c->fence + 1 + (mrng_pct(r, 20) ? mrng_below(r, 3) : 0);
  uint64_t h[MX_LIST];
  size_t n = pick_allocs(m, r, 1 + mrng_below(r, 3), 0, 0, h);
  for (size_t i = 0; i < n; i++) {
    e->refs[i].alloc = h[i];
    e->refs[i].write = mrng_pct(r, 50);
  }
  e->n_refs = (uint8_t)n;
  return 1;
}

static int gen_fence_done(mmodel *m, mrng *r, mev *e) {
  mobj *c = lt__mm_pick_live(m, r, MK_CONTEXT, 0);
  if (c == NULL)
    return 0;
  e->context = c->handle;
  e->fence = c->fence;
  if (mrng_pct(r, 15) && c->fence > 1)
    e->fence = 1 + mrng_below(r, c->fence);
  return 1;
}

static int gen_alloc_op(mmodel *m, mrng *r, mev *e) {
  uint64_t h;
  if (pick_allocs(m, r, 1, 0, 0, &h) == 0)
    return 0;
  e->alloc = h;
  if (e->op == OP_PAGE_IN || e->op == OP_EVICT)
    e->segment = mrng_pct(r, 50) ? 0 : 1 + (uint32_t)mrng_below(r, 2);
  return 1;
}

static int gen_scanout(mmodel *m, mrng *r, mev *e) {
  e->source = mrng_pct(r, 80) ? 0 : (uint32_t)mrng_below(r, 4);
  if (mrng_pct(r, 20))
    return 1; /* blank */
  uint64_t h;
  if (pick_allocs(m, r, 1, 0, 0, &h) == 0)
    return 0;
  e->alloc = h;
  return 1;
}

static int gen_process_exit(mmodel *m, mrng *r, mev *e) {
  mobj *d = lt__mm_pick_live(m, r, MK_DEVICE, 0);
  if (d == NULL)
    return 0;
  e->pid = d->parent;
  return 1;
}

static int gen_inject_fault(mrng *r, mev *e) {
  static const uint32_t nths[] = {1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8};
  uint64_t p = mrng_below(r, 100);
  e->site = p < 75 ? LIFETRACE__FAULT_SITE__FAULT_POOL
                   : (p < 90 ? LIFETRACE__FAULT_SITE__FAULT_VRAM : LIFETRACE__FAULT_SITE__FAULT_HANDLE);
  e->nth = nths[mrng_below(r, sizeof nths / sizeof nths[0])];
  return 1;
}

/* Weighted choice of an op for a generated event. */
static int pick_op(mmodel *m, mrng *r) {
  static const struct {
    int op;
    unsigned w;
  } table[] = {
      {OP_ALLOC_CREATE, 22}, {OP_ALLOC_DESTROY, 20}, {OP_SUBMIT, 8},       {OP_FENCE_DONE, 7},
      {OP_ALLOC_OPEN, 6},    {OP_ALLOC_CLOSE, 4},    {OP_CONTEXT_CREATE, 5}, {OP_SCANOUT, 5},
      {OP_INJECT_FAULT, 6},  {OP_DEVICE_CREATE, 3},  {OP_DEVICE_DESTROY, 2}, {OP_CONTEXT_DESTROY, 2},
      {OP_LOCK, 2},          {OP_UNLOCK, 1},         {OP_EVICT, 2},          {OP_PAGE_IN, 2},
      {OP_OFFER, 1},         {OP_RECLAIM, 1},        {OP_TDR, 1},            {OP_PROCESS_EXIT, 2},
  };
  unsigned total = 0;
  if (count_where(m, MK_DEVICE, 1, 0) == 0)
    return OP_DEVICE_CREATE;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    total += table[i].w;
  uint64_t x = mrng_below(r, total);
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (x < table[i].w)
      return table[i].op;
    x -= table[i].w;
  }
  return OP_ALLOC_CREATE;
}

static int generate_op(mmodel *m, mrng *r, int op, mev *e) {
  memset(e, 0, sizeof *e);
  e->op = op;
  switch (op) {
  case OP_DEVICE_CREATE: return gen_device_create(m, r, e);
  case OP_DEVICE_DESTROY:
  case OP_CONTEXT_DESTROY: {
    mobj *o = lt__mm_pick_live(m, r, op == OP_DEVICE_DESTROY ? MK_DEVICE : MK_CONTEXT, 0);
    if (o == NULL)
      return 0;
    if (op == OP_DEVICE_DESTROY)
      e->device = o->handle;
    else
      e->context = o->handle;
    return 1;
  }
  case OP_CONTEXT_CREATE: return gen_context_create(m, r, e);
  case OP_ALLOC_CREATE: return gen_alloc_create(m, r, e);
  case OP_ALLOC_OPEN: return gen_open_close(m, r, e, 1);
  case OP_ALLOC_CLOSE: return gen_open_close(m, r, e, 0);
  case OP_ALLOC_DESTROY: return gen_alloc_destroy(m, r, e);
  case OP_SUBMIT: return gen_submit(m, r, e);
  case OP_FENCE_DONE: return gen_fence_done(m, r, e);
  case OP_SCANOUT: return gen_scanout(m, r, e);
  case OP_TDR: return 1;
  case OP_PROCESS_EXIT: return gen_process_exit(m, r, e);
  case OP_INJECT_FAULT: return gen_inject_fault(r, e);
  default: return gen_alloc_op(m, r, e);
  }
}

/* Fills e with a well-formed event of op for the model's state, or of a
 * fitting op when op is 0 (four tries, then a create); returns 0 when
 * nothing can be made. */
int lt__mm_generate(mmodel *m, mrng *r, int op, mev *e) {
  if (op != 0)
    return generate_op(m, r, op, e);
  for (int tries = 0; tries < 4; tries++)
    if (generate_op(m, r, pick_op(m, r), e))
      return 1;
  /* Nothing fitted: make something new to work with. */
  return generate_op(m, r, count_where(m, MK_DEVICE, 1, 0) ? OP_ALLOC_CREATE : OP_DEVICE_CREATE,
                     e);
}

/* ---- repair ---------------------------------------------------------------------- */

/* Replaces a handle that is not alive by a live one of the same kind. */
static int fix_handle(mmodel *m, mrng *r, int kind, uint64_t *h) {
  if (*h && find_live(m, kind, *h))
    return 1;
  mobj *o = lt__mm_pick_live(m, r, kind, 0);
  if (o == NULL)
    return 0;
  *h = o->handle;
  return 1;
}

/* Keeps the allocations of a list that are alive (and of `res`, if set). */
static void fix_list(mmodel *m, uint64_t *h, uint8_t *n, uint64_t res) {
  uint8_t k = 0;
  for (uint8_t i = 0; i < *n; i++) {
    mobj *a = find_live(m, MK_ALLOC, h[i]);
    int dup = 0;
    for (uint8_t j = 0; j < k; j++)
      dup |= h[j] == h[i];
    if (a && !dup && (res == 0 || a->parent == res))
      h[k++] = h[i];
  }
  *n = k;
}

static void fix_create(mmodel *m, mrng *r, mev *e) {
  if (e->device)
    (void)fix_handle(m, r, MK_DEVICE, &e->device);
  if (e->resource && e->new_resource && find_live(m, MK_RESOURCE, e->resource))
    e->resource = ++m->max_handle[MK_RESOURCE];
  else if (e->resource && !e->new_resource && !fix_handle(m, r, MK_RESOURCE, &e->resource))
    e->new_resource = 1;
  for (size_t i = 0; i < e->n_allocs; i++) {
    int clash = e->allocs[i].alloc == 0 || find_live(m, MK_ALLOC, e->allocs[i].alloc) != NULL;
    for (size_t j = 0; j < i; j++)
      clash |= e->allocs[j].alloc == e->allocs[i].alloc;
    if (clash)
      e->allocs[i].alloc = ++m->max_handle[MK_ALLOC];
  }
}

static void fix_destroy(mmodel *m, mev *e) {
  if (e->resource && !find_live(m, MK_RESOURCE, e->resource)) {
    e->resource = 0;
    e->destroy_resource = 0;
  }
  if (e->resource == 0)
    e->destroy_resource = 0;
  fix_list(m, e->handles, &e->n_handles, e->resource);
}

/* Makes an event the kernel policy would refuse acceptable, where a small
 * change does it (a dead handle becomes a live one, a stale list element is
 * dropped, a fence grows). */
static void fix_event(mmodel *m, mrng *r, mev *e) {
  mobj *c;
  switch (e->op) {
  case OP_DEVICE_CREATE:
    if (e->device == 0 || find_live(m, MK_DEVICE, e->device))
      e->device = ++m->max_handle[MK_DEVICE];
    break;
  case OP_DEVICE_DESTROY: (void)fix_handle(m, r, MK_DEVICE, &e->device); break;
  case OP_CONTEXT_CREATE:
    (void)fix_handle(m, r, MK_DEVICE, &e->device);
    if (e->context == 0 || find_live(m, MK_CONTEXT, e->context))
      e->context = ++m->max_handle[MK_CONTEXT];
    break;
  case OP_CONTEXT_DESTROY:
  case OP_FENCE_DONE: (void)fix_handle(m, r, MK_CONTEXT, &e->context); break;
  case OP_ALLOC_CREATE: fix_create(m, r, e); break;
  case OP_ALLOC_OPEN:
  case OP_ALLOC_CLOSE:
    (void)fix_handle(m, r, MK_DEVICE, &e->device);
    fix_list(m, e->handles, &e->n_handles, 0);
    break;
  case OP_ALLOC_DESTROY: fix_destroy(m, e); break;
  case OP_SUBMIT:
    (void)fix_handle(m, r, MK_CONTEXT, &e->context);
    if ((c = find_live(m, MK_CONTEXT, e->context)) != NULL && c->fence && e->fence <= c->fence)
      e->fence = c->fence + 1;
    for (size_t i = 0; i < e->n_refs; i++)
      (void)fix_handle(m, r, MK_ALLOC, &e->refs[i].alloc);
    break;
  case OP_LOCK:
  case OP_UNLOCK:
  case OP_EVICT:
  case OP_PAGE_IN:
  case OP_OFFER:
  case OP_RECLAIM:
  case OP_SCANOUT:
    if (e->alloc || e->op != OP_SCANOUT)
      (void)fix_handle(m, r, MK_ALLOC, &e->alloc);
    if (e->op == OP_SCANOUT)
      e->source %= 16;
    break;
  case OP_PROCESS_EXIT:
    if ((c = lt__mm_pick_live(m, r, MK_DEVICE, 0)) != NULL)
      e->pid = c->parent;
    break;
  case OP_INJECT_FAULT:
    if (e->site < 1 || e->site > 3)
      e->site = 1;
    break;
  }
}

/* Walks t through the model and fixes, or else removes, each event the
 * kernel policy would refuse, leaving keep_pct percent as they are; returns
 * how many changed. See mutator_internal.h. */
size_t lt__mm_repair(mmodel *m, mrng *r, mtrace *t, unsigned keep_pct) {
  size_t i = 0, fixed = 0;
  lt__mm_run(m, t, 0);
  while (i < t->n) {
    mev *e = &t->ev[i];
    if (lt__mm_apply(m, e) || mrng_pct(r, keep_pct)) {
      i++;
      continue;
    }
    fix_event(m, r, e);
    if (lt__mm_apply(m, e)) {
      fixed++;
      i++;
      continue;
    }
    memmove(&t->ev[i], &t->ev[i + 1], (t->n - i - 1) * sizeof t->ev[0]);
    t->n--;
    fixed++;
  }
  return fixed;
}
