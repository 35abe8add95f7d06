/* The DxgKrnl joins: turns decoded Microsoft-Windows-DxgKrnl records into
 * lifetrace events. Shared by the three text readers.
 *
 * Objects are joined on the handle values the records carry: global
 * allocations on hVidMmGlobalAlloc (the allocation's identity in the trace),
 * device allocations on hVidMmAlloc (a device's binding of a global one),
 * resources on hDxgResource, devices on hDevice, contexts on hContext, DMA
 * packets on hContext + submit sequence. Ownership is the payload's
 * hProcessId, never the record header's process. docs/etw-import.md has the
 * full mapping and the reasoning behind each choice.
 *
 * An AdapterAllocation Start is held back until the creating device's
 * DeviceAllocation Start arrives, because only the latter names the resource;
 * anything that needs the allocation first flushes it without one.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

enum { S_FREE = 0, S_LIVE, S_PENDING, S_DEAD, S_GONE, S_IGNORED };

struct gobj { /* global allocation: key hVidMmGlobalAlloc */
  uint8_t state, rundown, creator_bound, shared, offered;
  uint32_t opens; /* bindings held by other devices */
  uint32_t segments, preferred, flags;
  uint64_t device, pid, resource, size, align;
  uint64_t t, tid, rec, line, pos; /* the Start record, for a held-back create */
};

struct dobj { /* device allocation: key hVidMmAlloc */
  uint8_t state, creator;
  uint64_t global, device;
};

struct devobj { /* key hDevice */
  uint8_t state;
  uint64_t pid;
};

struct ctxobj { /* key hContext */
  uint8_t state, has_sub;
  uint32_t node;
  uint64_t device, last_sub, last_done;
};

struct resobj { /* key hDxgResource */
  uint8_t state;
  uint64_t live;
};

#define PREF_SLOTS 4
struct pref {
  uint64_t dmabuf;
  lt_ref *refs;
  uint32_t n;
};
struct prefobj { /* key hContext: ReferenceAllocations awaiting their packet */
  uint8_t state, n;
  struct pref slot[PREF_SLOTS];
};

/* A device allocation whose global allocation was not seen yet (e.g. a
 * rundown that lists device allocations before adapter allocations): held
 * until the global one's record pairs with it, or anything needs it. */
#define ORPH_BINDS 4
struct bind {
  uint8_t rundown;
  uint64_t a, device, resource, pid;
  uint64_t t, tid, rec, line, pos;
};
struct orphobj { /* key hVidMmGlobalAlloc */
  uint8_t state, n;
  struct bind b[ORPH_BINDS]; /* in record order */
};

struct procobj { /* key pid */
  uint8_t state, owner, exited;
  char name[64];
};

struct segobj { /* key segment id */
  uint8_t state, reported;
  uint32_t flags;
  uint64_t size;
};

/* Records that carry the current event's provenance. */
struct cur {
  uint64_t t, tid, rec, line;
  int rundown;
  uint64_t pos; /* .etl: buffer << 32 | offset (lt__rec.pos) */
};

struct lt__dxg {
  lt_import_sink sink;
  void *sink_data;
  lt__u64tab g, d, dev, ctx, res, pref, proc, seg, orph;
  uint64_t events, absorbed, dup_rundown;
  uint64_t live_bytes, peak_bytes;
  uint32_t seg_used; /* bit i = segment i+1 named by an allocation */
  lt_ref *refbuf;
  lt_ref **refptr;
  size_t refcap;
  uint64_t *u64buf;
  size_t u64cap;
  unsigned char *boolbuf;
};

/* Dead entries are kept as tombstones (a Stop or a reference to a destroyed
 * handle is then recognized); they are dropped when they outnumber the live
 * ones, so memory follows the live set, not the file. */
#define TOMBSTONE_MIN 65536

/* Makes the DxgKrnl joins, which turn records into trace events for sink;
 * the caller frees them with lt__dxg_free. LT_ENOMEM. */
int lt__dxg_new(struct lt__dxg **out, lt_import_sink sink, void *sink_data) {
  struct lt__dxg *x = lt_calloc(1, sizeof *x);
  if (!x)
    return LT_ENOMEM;
  x->sink = sink;
  x->sink_data = sink_data;
  lt__u64tab_init(&x->g, sizeof(struct gobj));
  lt__u64tab_init(&x->d, sizeof(struct dobj));
  lt__u64tab_init(&x->dev, sizeof(struct devobj));
  lt__u64tab_init(&x->ctx, sizeof(struct ctxobj));
  lt__u64tab_init(&x->res, sizeof(struct resobj));
  lt__u64tab_init(&x->pref, sizeof(struct prefobj));
  lt__u64tab_init(&x->proc, sizeof(struct procobj));
  lt__u64tab_init(&x->seg, sizeof(struct segobj));
  lt__u64tab_init(&x->orph, sizeof(struct orphobj));
  *out = x;
  return 0;
}

static void pref_clear(struct prefobj *p) {
  for (int i = 0; i < p->n; i++)
    lt_free(p->slot[i].refs);
  p->n = 0;
}

/* Frees the joins and every object they still track; NULL is a no-op. */
void lt__dxg_free(struct lt__dxg *x) {
  if (!x)
    return;
  for (size_t i = 0; i < x->pref.cap; i++)
    if (x->pref.used[i])
      pref_clear(LT__U64TAB_VAL(&x->pref, i));
  lt__u64tab_reset(&x->g);
  lt__u64tab_reset(&x->d);
  lt__u64tab_reset(&x->dev);
  lt__u64tab_reset(&x->ctx);
  lt__u64tab_reset(&x->res);
  lt__u64tab_reset(&x->pref);
  lt__u64tab_reset(&x->proc);
  lt__u64tab_reset(&x->seg);
  lt__u64tab_reset(&x->orph);
  lt_free(x->refbuf);
  lt_free(x->refptr);
  lt_free(x->u64buf);
  lt_free(x->boolbuf);
  lt_free(x);
}

/* The joins' counts: events emitted, Stop records absorbed by a teardown,
 * duplicate rundown records. */
void lt__dxg_counts(const struct lt__dxg *x, uint64_t *events, uint64_t *absorbed,
                    uint64_t *dup_rundown) {
  *events = x->events;
  *absorbed = x->absorbed;
  *dup_rundown = x->dup_rundown;
}

/* Marks an entry dead (its value starts with a state byte). */
static void set_dead(lt__u64tab *t, uint8_t *state) {
  if (*state != S_DEAD)
    t->dead++;
  *state = S_DEAD;
}

/* Drops the tombstones of a table once they are many and outnumber the
 * live entries; t->dead counts them so most calls cost nothing. */
static int purge(lt__u64tab *t) {
  if (t->dead < TOMBSTONE_MIN || t->dead * 2 < t->n)
    return 0;
  lt__u64tab nt;
  lt__u64tab_init(&nt, t->vsize);
  for (size_t i = 0; i < t->cap; i++) {
    void *v = LT__U64TAB_VAL(t, i), *nv;
    if (!t->used[i] || *(uint8_t *)v == S_DEAD)
      continue;
    int rc = lt__u64tab_put(&nt, t->keys[i], &nv, NULL);
    if (rc) {
      lt__u64tab_reset(&nt);
      return rc;
    }
    memcpy(nv, v, t->vsize);
  }
  lt__u64tab_reset(t);
  *t = nt;
  t->dead = 0;
  return 0;
}

/* ---- field access ----------------------------------------------------------- */

static int field(const struct lt__evdef *d, const struct lt__rec *r, const char *name,
                 const char **s, size_t *n) {
  int idx = lt__evdef_field(d, name);
  if (!r->names) {
    if (idx < 0 || (size_t)idx >= r->n)
      return -1;
    *s = r->vals[idx];
    *n = r->val_lens[idx];
    return 0;
  }
  if (idx >= 0 && (size_t)idx < r->n && lt__eq_ci(r->names[idx], r->name_lens[idx], name)) {
    *s = r->vals[idx];
    *n = r->val_lens[idx];
    return 0;
  }
  for (size_t i = 0; i < r->n; i++)
    if (lt__eq_ci(r->names[i], r->name_lens[i], name)) {
      *s = r->vals[i];
      *n = r->val_lens[i];
      return 0;
    }
  return -1;
}

static int bad(lt_diag *diag, const char *fmt, ...) LT_PRINTF(2, 3);
static int bad(lt_diag *diag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(diag->msg, sizeof diag->msg, fmt, ap);
  va_end(ap);
  return LT_ECORRUPT;
}

static int get_mapped(const struct lt__evdef *d, const struct lt__rec *r, const char *name,
                      const struct lt__map *map, int bitmap, uint64_t *v, lt_diag *diag) {
  const char *s;
  size_t n;
  if (field(d, r, name, &s, &n))
    return bad(diag, "field '%s' is missing", name);
  int rc = map ? lt__parse_mapped(s, n, map, bitmap, v) : lt__parse_u64(s, n, v);
  if (rc) {
    lt__trim(&s, &n);
    return bad(diag, "field '%s': '%.*s' is not a number", name, (int)(n > 64 ? 64 : n), s);
  }
  return 0;
}

static int get(const struct lt__evdef *d, const struct lt__rec *r, const char *name, uint64_t *v,
               lt_diag *diag) {
  return get_mapped(d, r, name, NULL, 0, v, diag);
}

static int sep(char c) {
  return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '[' || c == ']' || c == '{' ||
         c == '}' || c == '(' || c == ')' || c == '\r' || c == '\n';
}

/* Appends the numbers of one text value holding a list to out[*k..max). */
static int split_list(const char *s, size_t n, uint64_t *out, size_t *k, size_t max) {
  size_t i = 0;
  while (i < n) {
    while (i < n && sep(s[i]))
      i++;
    size_t j = i;
    while (j < n && !sep(s[j]))
      j++;
    if (j > i) {
      if (*k >= max || lt__parse_u64(s + i, j - i, &out[*k]))
        return -1;
      (*k)++;
    }
    i = j;
  }
  return 0;
}

static int name_is_array(const char *s, size_t n, const char *name) {
  size_t len = strlen(name);
  return n >= len && lt__eq_ci(s, len, name) && (n == len || s[len] == '[');
}

/* An array field: one value holding a list, or one value per element (the
 * same name repeated, or, in positional CSV, the trailing columns). The
 * arrays of ReferenceAllocations are the last fields of its template. */
static int get_array(const struct lt__evdef *d, const struct lt__rec *r, const char *name,
                     size_t count, uint64_t *out, lt_diag *diag) {
  size_t k = 0;
  int seen = 0;
  if (r->names) {
    for (size_t i = 0; i < r->n; i++) {
      if (!name_is_array(r->names[i], r->name_lens[i], name))
        continue;
      seen = 1;
      if (split_list(r->vals[i], r->val_lens[i], out, &k, count))
        return bad(diag, "field '%s': bad element or more than %zu elements", name, count);
    }
  } else {
    int idx = lt__evdef_field(d, name);
    size_t first = (size_t)lt__evdef_field(d, "Allocations");
    if (r->n == d->nfields) { /* one column per array */
      seen = (size_t)idx < r->n;
      if (seen && split_list(r->vals[idx], r->val_lens[idx], out, &k, count))
        return bad(diag, "field '%s': bad element or more than %zu elements", name, count);
    } else if (r->n == first + 2 * count) { /* one column per element */
      seen = 1;
      size_t base = first + ((size_t)idx - first) * count;
      for (size_t i = 0; i < count; i++)
        if (split_list(r->vals[base + i], r->val_lens[base + i], out, &k, count))
          return bad(diag, "field '%s': element %zu is not a number", name, i);
    } else {
      return bad(diag, "%zu payload values; %u allocations need %zu", r->n, (unsigned)count,
                 first + 2 * count);
    }
  }
  if (!seen && count)
    return bad(diag, "field '%s' is missing", name);
  if (k != count)
    return bad(diag, "field '%s' has %zu elements, uiNbAllocations says %zu", name, k, count);
  return 0;
}

/* ---- emitting ---------------------------------------------------------------- */

static int emit(struct lt__dxg *x, lt_event *ev, const struct cur *c) {
  Lifetrace__Origin origin = LIFETRACE__ORIGIN__INIT;
  origin.record = c->rec;
  origin.line = c->line;
  origin.buffer = c->pos >> 32;
  origin.offset = c->pos & 0xFFFFFFFFu;
  ev->origin = &origin;
  ev->t = c->t;
  ev->tid = c->tid;
  ev->rundown = c->rundown != 0;
  x->events++;
  int rc = x->sink ? x->sink(x->sink_data, ev) : 0;
  ev->origin = NULL;
  return rc;
}

static void proc_owner(struct lt__dxg *x, uint64_t pid) {
  void *v;
  int is_new;
  if (lt__u64tab_put(&x->proc, pid, &v, &is_new) == 0) {
    struct procobj *p = v;
    p->state = S_LIVE;
    p->owner = 1;
    p->exited = 0;
  }
}

/* Records the name of process pid for the header; the first name wins, and
 * past 65536 processes new ones are ignored so memory stays bounded. */
void lt__dxg_process_name(struct lt__dxg *x, uint64_t pid, const char *name, size_t len) {
  void *v;
  if (len == 0 || (x->proc.n >= 65536 && !lt__u64tab_get(&x->proc, pid)))
    return;
  if (lt__u64tab_put(&x->proc, pid, &v, NULL))
    return;
  struct procobj *p = v;
  if (!p->state)
    p->state = S_LIVE;
  if (p->name[0])
    return;
  if (len >= sizeof p->name)
    len = sizeof p->name - 1;
  memcpy(p->name, name, len);
  p->name[len] = '\0';
}

static uint64_t res_live(struct lt__dxg *x, uint64_t r) {
  struct resobj *o = lt__u64tab_get(&x->res, r);
  return o ? o->live : 0;
}

static int res_add(struct lt__dxg *x, uint64_t r, int delta) {
  void *v;
  int rc = lt__u64tab_put(&x->res, r, &v, NULL);
  if (rc)
    return rc;
  struct resobj *o = v;
  o->state = S_LIVE;
  if (delta > 0)
    o->live++;
  else if (o->live)
    o->live--;
  if (o->live == 0)
    lt__u64tab_del(&x->res, r);
  return 0;
}

/* Emits the create held back for global allocation key. A held-back
 * allocation that never met a device is not replayed (the trace model has no
 * adapter-owned allocations): it becomes S_IGNORED. */
static int flush_orphan(struct lt__dxg *x, uint64_t key, int force);
static int device_known(struct lt__dxg *x, uint64_t dev);

static int flush_create(struct lt__dxg *x, uint64_t key) {
  struct gobj *g = lt__u64tab_get(&x->g, key);
  if (!g || g->state != S_PENDING)
    return 0;
  if (g->device == 0) { /* its waiting bindings are not replayed either */
    g->state = S_IGNORED;
    lt__u64tab_del(&x->orph, key);
    return 0;
  }
  struct gobj copy = *g;
  g->state = S_LIVE;
  lt_allocinfo ai = LIFETRACE__ALLOC_INFO__INIT, *aip = &ai;
  ai.alloc = key;
  ai.size = copy.size;
  ai.align = copy.align;
  ai.segments = copy.segments;
  ai.preferred = copy.preferred;
  ai.flags = copy.flags;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__ALLOC_CREATE;
  ev.device = copy.device;
  ev.pid = copy.pid;
  ev.resource = copy.resource;
  ev.new_resource = copy.resource && res_live(x, copy.resource) == 0;
  ev.shared = copy.shared;
  ev.n_allocs = 1;
  ev.allocs = &aip;
  if (copy.resource) {
    int rc = res_add(x, copy.resource, 1);
    if (rc)
      return rc;
  }
  x->live_bytes += copy.size;
  if (x->live_bytes > x->peak_bytes)
    x->peak_bytes = x->live_bytes;
  struct cur c = {copy.t, copy.tid, copy.rec, copy.line, copy.rundown, copy.pos};
  int rc = emit(x, &ev, &c);
  return rc ? rc : flush_orphan(x, key, 0);
}

/* Emits the bindings held for global allocation key as alloc_open; unless
 * forced, those of devices not seen yet keep waiting for their device. */
static int flush_orphan(struct lt__dxg *x, uint64_t key, int force) {
  struct orphobj *o = lt__u64tab_get(&x->orph, key);
  if (!o)
    return 0;
  struct orphobj copy = *o, keep = {S_LIVE, 0, {{0}}};
  lt__u64tab_del(&x->orph, key);
  for (int i = 0; i < copy.n; i++) {
    const struct bind *b = &copy.b[i];
    if (!force && !device_known(x, b->device)) {
      keep.b[keep.n++] = *b;
      continue;
    }
    struct gobj *g = lt__u64tab_get(&x->g, key);
    if (g && g->state == S_LIVE)
      g->opens++;
    lt_event ev = LIFETRACE__EVENT__INIT;
    ev.op = LIFETRACE__OP__ALLOC_OPEN;
    ev.device = b->device;
    ev.pid = b->pid;
    ev.n_handles = 1;
    ev.handles = &key;
    struct cur c = {b->t, b->tid, b->rec, b->line, b->rundown, b->pos};
    int rc = emit(x, &ev, &c);
    if (rc)
      return rc;
  }
  if (keep.n) {
    void *v;
    int rc = lt__u64tab_put(&x->orph, key, &v, NULL);
    if (rc)
      return rc;
    memcpy(v, &keep, sizeof keep);
  }
  return 0;
}

static int orphan_has_device(const struct orphobj *o, uint64_t dev) {
  for (int i = 0; i < o->n; i++)
    if (o->b[i].device == dev)
      return 1;
  return 0;
}

/* Flushes every held-back create and binding of a device (all: of every
 * device), oldest record first, so the trace keeps the capture's order.
 * created: the device has just been created; its bindings of allocations
 * not created yet keep waiting for them. */
static int flush_device_pending(struct lt__dxg *x, uint64_t dev, int all, int created) {
  for (;;) {
    uint64_t best_key = 0, best_rec = UINT64_MAX;
    int found = 0;
    for (size_t i = 0; i < x->g.cap; i++) {
      struct gobj *g = LT__U64TAB_VAL(&x->g, i);
      if (!x->g.used[i] || g->state != S_PENDING || (!all && g->device != dev))
        continue;
      if (g->rec < best_rec) {
        best_rec = g->rec;
        best_key = x->g.keys[i];
        found = 1;
      }
    }
    for (size_t i = 0; i < x->orph.cap; i++) {
      struct orphobj *o = LT__U64TAB_VAL(&x->orph, i);
      if (!x->orph.used[i] || (!all && !orphan_has_device(o, dev)) || o->b[0].rec >= best_rec)
        continue;
      struct gobj *g = lt__u64tab_get(&x->g, x->orph.keys[i]);
      if (created && !(g && g->state == S_LIVE))
        continue;
      best_rec = o->b[0].rec;
      best_key = x->orph.keys[i];
      found = 2;
    }
    if (!found)
      return 0;
    int rc = found == 1 ? flush_create(x, best_key) : flush_orphan(x, best_key, !created);
    if (rc)
      return rc;
  }
}

static int flush_device_creates(struct lt__dxg *x, uint64_t dev, int all) {
  return flush_device_pending(x, dev, all, 0);
}

static void gone_global(struct lt__dxg *x, struct gobj *g) {
  g->state = S_GONE;
  if (g->resource)
    (void)res_add(x, g->resource, -1);
  x->live_bytes -= g->size < x->live_bytes ? g->size : x->live_bytes;
}

/* The replayer destroys a device's remaining objects at device_destroy and
 * process_exit; their own Stop records, if they follow, are absorbed. A
 * shared allocation another device still has open survives. */
static void teardown_device(struct lt__dxg *x, uint64_t dev) {
  for (size_t i = 0; i < x->ctx.cap; i++) {
    struct ctxobj *c = LT__U64TAB_VAL(&x->ctx, i);
    if (x->ctx.used[i] && c->state == S_LIVE && c->device == dev) {
      c->state = S_GONE;
      struct prefobj *p = lt__u64tab_get(&x->pref, x->ctx.keys[i]);
      if (p)
        pref_clear(p);
    }
  }
  for (size_t i = 0; i < x->d.cap; i++) {
    struct dobj *a = LT__U64TAB_VAL(&x->d, i);
    if (!x->d.used[i] || a->state != S_LIVE || a->device != dev)
      continue;
    a->state = S_GONE;
    struct gobj *g = lt__u64tab_get(&x->g, a->global);
    if (!a->creator && g && g->state == S_LIVE && g->opens)
      g->opens--;
  }
  for (size_t i = 0; i < x->g.cap; i++) {
    struct gobj *g = LT__U64TAB_VAL(&x->g, i);
    if (x->g.used[i] && g->state == S_LIVE && g->device == dev && g->opens == 0)
      gone_global(x, g);
  }
  struct devobj *d = lt__u64tab_get(&x->dev, dev);
  if (d && d->state == S_LIVE)
    d->state = S_GONE;
}

/* A device never seen in the capture: its allocations' creates wait for it
 * (a rundown may list allocations before devices). */
static int device_known(struct lt__dxg *x, uint64_t dev) {
  return lt__u64tab_get(&x->dev, dev) != NULL;
}

static uint64_t device_pid(struct lt__dxg *x, uint64_t dev) {
  struct devobj *d = lt__u64tab_get(&x->dev, dev);
  return d ? d->pid : 0;
}

static uint64_t context_device(struct lt__dxg *x, uint64_t ctx) {
  struct ctxobj *c = lt__u64tab_get(&x->ctx, ctx);
  return c ? c->device : 0;
}

/* Maps an allocation value from a record whose namespace is not documented
 * (ReferenceAllocations, Lock, paging, offer) to the global allocation:
 * a live global allocation, else a live device allocation's parent, else
 * whichever dead one it names (so the replayer can tell use-after-destroy),
 * else the value itself. *skip is set for allocations not replayed. */
static int resolve_key(struct lt__dxg *x, uint64_t h, uint64_t *out, int *skip) {
  struct gobj *g = lt__u64tab_get(&x->g, h);
  struct dobj *a = lt__u64tab_get(&x->d, h);
  *skip = 0;
  *out = h;
  if (g && (g->state == S_LIVE || g->state == S_PENDING))
    return flush_create(x, h);
  if (a && a->state == S_LIVE) {
    *out = a->global;
    g = lt__u64tab_get(&x->g, a->global);
    if (g && g->state == S_IGNORED)
      *skip = 1;
    return flush_create(x, a->global);
  }
  if (g) {
    *skip = g->state == S_IGNORED;
    return 0;
  }
  if (a)
    *out = a->global;
  return 0;
}

static int resolve(struct lt__dxg *x, uint64_t h, uint64_t *out, int *skip) {
  int rc = resolve_key(x, h, out, skip);
  return rc ? rc : flush_orphan(x, *out, 1);
}

static uint64_t alloc_pid(struct lt__dxg *x, uint64_t key) {
  struct gobj *g = lt__u64tab_get(&x->g, key);
  return g ? g->pid : 0;
}

/* ---- handlers ------------------------------------------------------------------ */

static int on_device(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                     struct cur *c, lt_diag *diag) {
  uint64_t dev, pid;
  int rc;
  if ((rc = get(d, r, "hDevice", &dev, diag)) || (rc = get(d, r, "hProcessId", &pid, diag)))
    return rc;
  struct devobj *o = lt__u64tab_get(&x->dev, dev);
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.device = dev;
  if (d->opcode == LT__OPC_STOP) {
    if (o && o->state == S_GONE) {
      set_dead(&x->dev, &o->state);
      x->absorbed++;
      return 0;
    }
    if ((rc = flush_device_creates(x, dev, 0)))
      return rc;
    ev.op = LIFETRACE__OP__DEVICE_DESTROY;
    ev.pid = o ? o->pid : pid;
    if ((rc = emit(x, &ev, c)))
      return rc;
    teardown_device(x, dev);
    if ((o = lt__u64tab_get(&x->dev, dev)))
      set_dead(&x->dev, &o->state);
    return purge(&x->dev);
  }
  if (d->opcode == LT__OPC_DC_START && o && o->state == S_LIVE) {
    x->dup_rundown++;
    return 0;
  }
  void *v;
  if ((rc = lt__u64tab_put(&x->dev, dev, &v, NULL)))
    return rc;
  o = v;
  o->state = S_LIVE;
  o->pid = pid;
  proc_owner(x, pid);
  ev.op = LIFETRACE__OP__DEVICE_CREATE;
  ev.pid = pid;
  if ((rc = emit(x, &ev, c)))
    return rc;
  /* Allocations a rundown listed before their device follow it now. */
  return flush_device_pending(x, dev, 0, 1);
}

static int on_context(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                      struct cur *c, lt_diag *diag) {
  uint64_t ctx, dev, node;
  int rc;
  if ((rc = get(d, r, "hContext", &ctx, diag)) || (rc = get(d, r, "hDevice", &dev, diag)) ||
      (rc = get(d, r, "NodeOrdinal", &node, diag)))
    return rc;
  struct ctxobj *o = lt__u64tab_get(&x->ctx, ctx);
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.context = ctx;
  ev.device = dev;
  ev.node = (uint32_t)node;
  ev.pid = device_pid(x, dev);
  if (d->opcode == LT__OPC_STOP) {
    struct prefobj *p = lt__u64tab_get(&x->pref, ctx);
    if (p)
      pref_clear(p);
    if (o && o->state == S_GONE) {
      set_dead(&x->ctx, &o->state);
      x->absorbed++;
      return 0;
    }
    ev.op = LIFETRACE__OP__CONTEXT_DESTROY;
    if ((rc = emit(x, &ev, c)))
      return rc;
    if ((o = lt__u64tab_get(&x->ctx, ctx)))
      set_dead(&x->ctx, &o->state);
    return purge(&x->ctx);
  }
  if (d->opcode == LT__OPC_DC_START && o && o->state == S_LIVE) {
    x->dup_rundown++;
    return 0;
  }
  void *v;
  if ((rc = lt__u64tab_put(&x->ctx, ctx, &v, NULL)))
    return rc;
  o = v;
  memset(o, 0, sizeof *o);
  o->state = S_LIVE;
  o->device = dev;
  o->node = (uint32_t)node;
  ev.op = LIFETRACE__OP__CONTEXT_CREATE;
  return emit(x, &ev, c);
}

/* DXGK_ALLOCATIONINFOFLAGS share VidMm's low 14 AllocationFlags bits; the
 * primary kinds map to lifetrace's Primary bit, Shareable to `shared`. */
static uint32_t alloc_flags(uint64_t vidmm) {
  uint32_t f = (uint32_t)(vidmm & 0x3fff);
  if (vidmm & (0x40000000ull | 0x80000000ull | 0x2000000ull))
    f |= 0x80000000u;
  return f;
}

static int galloc_start(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                        struct cur *c, uint64_t key, lt_diag *diag) {
  uint64_t dev, pid, flags, size, align, rd, wr, pref, shared;
  int rc;
  if ((rc = get(d, r, "hDevice", &dev, diag)) || (rc = get(d, r, "hProcessId", &pid, diag)) ||
      (rc = get_mapped(d, r, "Flags", lt__map_allocflags, 1, &flags, diag)) ||
      (rc = get(d, r, "allocSize", &size, diag)) || (rc = get(d, r, "ulAlignment", &align, diag)) ||
      (rc = get(d, r, "dwReadSegment", &rd, diag)) ||
      (rc = get(d, r, "dwWriteSegment", &wr, diag)) ||
      (rc = get(d, r, "PreferredSegment", &pref, diag)) ||
      (rc = get(d, r, "hDxgSharedResource", &shared, diag)))
    return rc;
  struct gobj *g = lt__u64tab_get(&x->g, key);
  if (g && d->opcode == LT__OPC_DC_START && (g->state == S_LIVE || g->state == S_PENDING)) {
    x->dup_rundown++;
    return 0;
  }
  /* A Start for a live value: the Stop was lost. Emit the old create if it
   * was held back, then create again; the replayer reports lost-destroy. */
  if ((rc = flush_create(x, key)))
    return rc;
  if ((g = lt__u64tab_get(&x->g, key)) && g->state == S_LIVE)
    gone_global(x, g);
  void *v;
  if ((rc = lt__u64tab_put(&x->g, key, &v, NULL)))
    return rc;
  g = v;
  memset(g, 0, sizeof *g);
  g->state = S_PENDING;
  g->rundown = (uint8_t)c->rundown;
  g->device = dev;
  g->pid = pid;
  g->size = size;
  g->align = align;
  g->segments = (uint32_t)((rd & wr) ? (rd & wr) : (rd | wr));
  g->preferred = (uint32_t)(pref & 0x1f);
  g->flags = alloc_flags(flags);
  g->shared = shared != 0 || (flags & 0x20000000u) != 0;
  g->t = c->t;
  g->tid = c->tid;
  g->rec = c->rec;
  g->line = c->line;
  g->pos = c->pos;
  x->seg_used |= g->segments;
  if (g->preferred)
    x->seg_used |= 1u << (g->preferred - 1);
  if (pid)
    proc_owner(x, pid);
  /* The creating device's binding came first: pair them now; the other
   * bindings follow the create as alloc_open. */
  struct orphobj *o = lt__u64tab_get(&x->orph, key);
  int at = -1;
  for (int i = 0; o && i < o->n && at < 0; i++)
    if (o->b[i].device == dev || dev == 0)
      at = i;
  if (at < 0)
    return 0;
  uint64_t a = o->b[at].a;
  g->device = o->b[at].device;
  g->resource = o->b[at].resource;
  g->creator_bound = 1;
  memmove(&o->b[at], &o->b[at + 1], (size_t)(o->n - at - 1) * sizeof o->b[0]);
  if (--o->n == 0)
    lt__u64tab_del(&x->orph, key);
  if (device_known(x, g->device) && (rc = flush_create(x, key)))
    return rc;
  struct dobj *da = lt__u64tab_get(&x->d, a);
  if (da && da->global == key)
    da->creator = 1;
  return 0;
}

static int galloc_stop(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                       struct cur *c, uint64_t key, lt_diag *diag) {
  uint64_t pid;
  int rc;
  if ((rc = get(d, r, "hProcessId", &pid, diag)) || (rc = flush_create(x, key)) ||
      (rc = flush_orphan(x, key, 1)))
    return rc;
  struct gobj *g = lt__u64tab_get(&x->g, key);
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__ALLOC_DESTROY;
  ev.n_handles = 1;
  ev.handles = &key;
  ev.pid = g ? g->pid : pid;
  if (g && (g->state == S_GONE || g->state == S_IGNORED)) {
    if (g->state == S_GONE)
      x->absorbed++;
    set_dead(&x->g, &g->state);
    return 0;
  }
  if (g && g->state == S_LIVE) {
    ev.resource = g->resource;
    if (g->resource) {
      if ((rc = res_add(x, g->resource, -1)))
        return rc;
      ev.destroy_resource = res_live(x, g->resource) == 0;
    }
    x->live_bytes -= g->size < x->live_bytes ? g->size : x->live_bytes;
    set_dead(&x->g, &g->state);
  }
  if ((rc = emit(x, &ev, c)))
    return rc;
  return purge(&x->g);
}

static int on_galloc(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                     struct cur *c, lt_diag *diag) {
  uint64_t key;
  int rc = get(d, r, "hVidMmGlobalAlloc", &key, diag);
  if (rc)
    return rc;
  if (d->opcode == LT__OPC_STOP)
    return galloc_stop(x, d, r, c, key, diag);
  return galloc_start(x, d, r, c, key, diag);
}

static int put_dalloc(struct lt__dxg *x, uint64_t a, uint64_t global, uint64_t dev, int creator) {
  void *v;
  int rc = lt__u64tab_put(&x->d, a, &v, NULL);
  if (rc)
    return rc;
  struct dobj *o = v;
  o->state = S_LIVE;
  o->creator = (uint8_t)creator;
  o->global = global;
  o->device = dev;
  return 0;
}

static int dalloc_start(struct lt__dxg *x, const struct lt__rec *r, struct cur *c, uint64_t a,
                        uint64_t key, uint64_t dev, uint64_t res, uint64_t pid) {
  struct dobj *o = lt__u64tab_get(&x->d, a);
  if (c->rundown && o && o->state == S_LIVE && o->global == key) {
    x->dup_rundown++;
    return 0;
  }
  struct gobj *g = lt__u64tab_get(&x->g, key);
  int rc;
  if (g && g->state == S_PENDING && (g->device == dev || g->device == 0)) {
    /* The creating device's binding: now the resource is known. */
    g->device = dev;
    g->resource = res;
    g->creator_bound = 1;
    if (!g->pid)
      g->pid = pid;
    if (device_known(x, dev) && (rc = flush_create(x, key)))
      return rc;
    return put_dalloc(x, a, key, dev, 1);
  }
  if (g && g->state == S_LIVE && g->device == dev && !g->creator_bound) {
    g->creator_bound = 1;
    return put_dalloc(x, a, key, dev, 1);
  }
  struct orphobj *w = lt__u64tab_get(&x->orph, key);
  if (!g && (w ? w->n < ORPH_BINDS : x->orph.n < TOMBSTONE_MIN)) {
    /* The global allocation's record may follow (rundown order). */
    void *v;
    if ((rc = lt__u64tab_put(&x->orph, key, &v, NULL)))
      return rc;
    w = v;
    w->state = S_LIVE;
    w->b[w->n++] = (struct bind){(uint8_t)c->rundown, a, dev, res, pid,
                                 c->t, c->tid, c->rec, c->line, c->pos};
    if (pid)
      proc_owner(x, pid);
    return put_dalloc(x, a, key, dev, 0);
  }
  if ((rc = flush_create(x, key)) || (rc = flush_orphan(x, key, 1)))
    return rc;
  if ((g = lt__u64tab_get(&x->g, key)) && g->state == S_IGNORED)
    return put_dalloc(x, a, key, dev, 0);
  if (g && g->state == S_LIVE)
    g->opens++;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__ALLOC_OPEN;
  ev.device = dev;
  ev.pid = pid;
  ev.n_handles = 1;
  ev.handles = &key;
  if (pid)
    proc_owner(x, pid);
  if ((rc = put_dalloc(x, a, key, dev, 0)))
    return rc;
  return emit(x, &ev, c);
}

/* The creating device's binding is closed by the destroy itself, so its
 * DeviceAllocation Stop makes no event; another device's is alloc_close. */
static int dalloc_stop(struct lt__dxg *x, struct cur *c, uint64_t a, uint64_t key, uint64_t dev,
                       uint64_t pid) {
  int rc = flush_orphan(x, key, 1);
  if (rc)
    return rc;
  struct dobj *o = lt__u64tab_get(&x->d, a);
  struct gobj *g = lt__u64tab_get(&x->g, key);
  if (o && o->state == S_GONE) {
    set_dead(&x->d, &o->state);
    x->absorbed++;
    return 0;
  }
  int creator = o && o->state == S_LIVE ? o->creator
                                        : (g && g->device == dev && g->state != S_DEAD);
  int known = (o && o->state == S_LIVE) || (g && g->state == S_LIVE);
  if (o)
    set_dead(&x->d, &o->state);
  if (creator || !known || (g && g->state == S_IGNORED))
    return purge(&x->d);
  if (g && g->state == S_LIVE && g->opens)
    g->opens--;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__ALLOC_CLOSE;
  ev.device = dev;
  ev.pid = pid;
  ev.n_handles = 1;
  ev.handles = &key;
  rc = emit(x, &ev, c);
  return rc ? rc : purge(&x->d);
}

static int on_dalloc(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                     struct cur *c, lt_diag *diag) {
  uint64_t a, key, dev, res, pid;
  int rc;
  if ((rc = get(d, r, "hVidMmAlloc", &a, diag)) ||
      (rc = get(d, r, "hVidMmGlobalAlloc", &key, diag)) ||
      (rc = get(d, r, "hDevice", &dev, diag)) || (rc = get(d, r, "hDxgResource", &res, diag)) ||
      (rc = get(d, r, "hProcessId", &pid, diag)))
    return rc;
  if (d->opcode == LT__OPC_STOP)
    return dalloc_stop(x, c, a, key, dev, pid);
  return dalloc_start(x, r, c, a, key, dev, res, pid);
}

static int emit_device_destroy(struct lt__dxg *x, uint64_t dev, struct cur *c) {
  int rc = flush_device_creates(x, dev, 0);
  if (rc)
    return rc;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__DEVICE_DESTROY;
  ev.device = dev;
  ev.pid = device_pid(x, dev);
  if ((rc = emit(x, &ev, c)))
    return rc;
  teardown_device(x, dev);
  return 0;
}

/* process_exit: the replayer tears down every device of the process. */
static int emit_process_exit(struct lt__dxg *x, uint64_t pid, struct cur *c) {
  void *v;
  int rc = lt__u64tab_put(&x->proc, pid, &v, NULL);
  if (rc)
    return rc;
  struct procobj *p = v;
  if (!p->state)
    p->state = S_LIVE;
  if (p->exited) {
    x->absorbed++;
    return 0;
  }
  p->exited = 1;
  for (size_t i = 0; i < x->dev.cap; i++) {
    struct devobj *dv = LT__U64TAB_VAL(&x->dev, i);
    if (x->dev.used[i] && dv->state == S_LIVE && dv->pid == pid)
      if ((rc = flush_device_creates(x, x->dev.keys[i], 0)))
        return rc;
  }
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__PROCESS_EXIT;
  ev.pid = pid;
  if ((rc = emit(x, &ev, c)))
    return rc;
  for (size_t i = 0; i < x->dev.cap; i++) {
    struct devobj *dv = LT__U64TAB_VAL(&x->dev, i);
    if (x->dev.used[i] && dv->state == S_LIVE && dv->pid == pid)
      teardown_device(x, x->dev.keys[i]);
  }
  return 0;
}

/* TerminateAllocation (39): dxgkrnl is terminating a device's leftover
 * allocations — its device is going away. ProcessTerminateAllocation (40):
 * the same for a terminating process. Both become the teardown op at the
 * first such record, so leaks are judged there; later ones are absorbed. */
static int on_terminate(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                        struct cur *c, lt_diag *diag) {
  uint64_t a;
  int rc = get(d, r, "hVidMmAlloc", &a, diag);
  if (rc)
    return rc;
  struct dobj *o = lt__u64tab_get(&x->d, a);
  if (!o || o->state != S_LIVE) {
    if (o && o->state == S_GONE)
      x->absorbed++;
    return 0;
  }
  uint64_t dev = o->device;
  struct devobj *dv = lt__u64tab_get(&x->dev, dev);
  if (d->handler == LT__H_PTERMINATE) {
    uint64_t pid = dv ? dv->pid : alloc_pid(x, o->global);
    return emit_process_exit(x, pid, c);
  }
  if (!dv || dv->state != S_LIVE)
    return 0;
  return emit_device_destroy(x, dev, c);
}

static int on_process(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                      struct cur *c, lt_diag *diag) {
  uint64_t pid;
  int rc = get(d, r, "ProcessId", &pid, diag);
  if (rc)
    return rc;
  if (d->opcode == LT__OPC_STOP)
    return emit_process_exit(x, pid, c);
  void *v;
  if ((rc = lt__u64tab_put(&x->proc, pid, &v, NULL)))
    return rc;
  struct procobj *p = v;
  p->state = S_LIVE;
  p->exited = 0;
  return 0;
}

static int on_lock(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                   struct cur *c, lt_diag *diag) {
  uint64_t dev, h, key;
  int rc, skip;
  if ((rc = get(d, r, "hDevice", &dev, diag)) ||
      (rc = get(d, r, "hAllocationHandle", &h, diag)) || (rc = resolve(x, h, &key, &skip)))
    return rc;
  if (skip)
    return 0;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = d->handler == LT__H_LOCK ? LIFETRACE__OP__LOCK : LIFETRACE__OP__UNLOCK;
  ev.device = dev;
  ev.alloc = key;
  ev.pid = device_pid(x, dev);
  return emit(x, &ev, c);
}

static int scratch(struct lt__dxg *x, size_t n) {
  if (n <= x->refcap)
    return 0;
  size_t cap = x->refcap ? x->refcap : 64;
  while (cap < n)
    cap *= 2;
  lt_ref *rb = lt_realloc(x->refbuf, cap * sizeof *rb);
  if (!rb)
    return LT_ENOMEM;
  x->refbuf = rb;
  lt_ref **rp = lt_realloc(x->refptr, cap * sizeof *rp);
  if (!rp)
    return LT_ENOMEM;
  x->refptr = rp;
  uint64_t *ub = lt_realloc(x->u64buf, 2 * cap * sizeof *ub);
  if (!ub)
    return LT_ENOMEM;
  x->u64buf = ub;
  x->refcap = cap;
  return 0;
}

#define MAX_REFS (1u << 20)

static int on_refs(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                   struct cur *c, lt_diag *diag) {
  uint64_t ctx, dmabuf, n;
  int rc;
  if ((rc = get(d, r, "hContext", &ctx, diag)) || (rc = get(d, r, "pDmaBuffer", &dmabuf, diag)) ||
      (rc = get(d, r, "uiNbAllocations", &n, diag)))
    return rc;
  if (n > MAX_REFS)
    return bad(diag, "uiNbAllocations %llu exceeds %u", (unsigned long long)n, MAX_REFS);
  if ((rc = scratch(x, n ? n : 1)))
    return rc;
  uint64_t *vals = x->u64buf, *wr = x->u64buf + x->refcap;
  if ((rc = get_array(d, r, "Allocations", n, vals, diag)) ||
      (rc = get_array(d, r, "Write", n, wr, diag)))
    return rc;
  lt_ref *refs = lt_malloc((n ? n : 1) * sizeof *refs);
  if (!refs)
    return LT_ENOMEM;
  uint32_t k = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t key;
    int skip;
    if ((rc = resolve(x, vals[i], &key, &skip))) {
      lt_free(refs);
      return rc;
    }
    if (skip)
      continue;
    lt_ref one = LIFETRACE__REF__INIT;
    one.alloc = key;
    one.write = wr[i] != 0;
    refs[k++] = one;
  }
  void *v;
  if ((rc = lt__u64tab_put(&x->pref, ctx, &v, NULL))) {
    lt_free(refs);
    return rc;
  }
  struct prefobj *p = v;
  p->state = S_LIVE;
  if (p->n == PREF_SLOTS) { /* never submitted: drop the oldest */
    lt_free(p->slot[0].refs);
    memmove(&p->slot[0], &p->slot[1], (PREF_SLOTS - 1) * sizeof p->slot[0]);
    p->n--;
  }
  p->slot[p->n].dmabuf = dmabuf;
  p->slot[p->n].refs = refs;
  p->slot[p->n].n = k;
  p->n++;
  (void)c;
  return 0;
}

/* Takes the references made for this DMA buffer (else the oldest pending
 * ones of the context); the caller frees out->refs. */
static void take_refs(struct lt__dxg *x, uint64_t ctx, uint64_t dmabuf, struct pref *out) {
  struct prefobj *p = lt__u64tab_get(&x->pref, ctx);
  memset(out, 0, sizeof *out);
  if (!p || p->n == 0)
    return;
  int at = 0;
  for (int i = 0; i < p->n; i++)
    if (p->slot[i].dmabuf == dmabuf) {
      at = i;
      break;
    }
  *out = p->slot[at];
  memmove(&p->slot[at], &p->slot[at + 1], (size_t)(p->n - at - 1) * sizeof p->slot[0]);
  p->n--;
  if (p->n == 0)
    lt__u64tab_del(&x->pref, ctx);
}

static int on_dma_start(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                        struct cur *c, lt_diag *diag) {
  uint64_t ctx, seq, dmabuf;
  int rc;
  if ((rc = get(d, r, "hContext", &ctx, diag)) ||
      (rc = get(d, r, "ulQueueSubmitSequence", &seq, diag)) ||
      (rc = get(d, r, "pDmaBuffer", &dmabuf, diag)))
    return rc;
  struct pref refs;
  take_refs(x, ctx, dmabuf, &refs);
  struct ctxobj *o = lt__u64tab_get(&x->ctx, ctx);
  /* Sequence 0 carries no GPU work; a sequence already submitted is a
   * resubmission (preemption) of the same packet. */
  if (seq == 0 || (o && o->has_sub && seq <= o->last_sub)) {
    lt_free(refs.refs);
    return 0;
  }
  if ((rc = scratch(x, refs.n ? refs.n : 1))) {
    lt_free(refs.refs);
    return rc;
  }
  for (uint32_t i = 0; i < refs.n; i++)
    x->refptr[i] = &refs.refs[i];
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__SUBMIT;
  ev.context = ctx;
  ev.fence = seq;
  ev.n_refs = refs.n;
  ev.refs = x->refptr;
  ev.pid = device_pid(x, context_device(x, ctx));
  if (o) {
    o->has_sub = 1;
    o->last_sub = seq;
  }
  rc = emit(x, &ev, c);
  lt_free(refs.refs);
  return rc;
}

/* Completion of a context's packets up to seq (DmaPacket Info with
 * InterruptType COMPLETED, or QueuePacket Stop not preempted). */
static int complete(struct lt__dxg *x, uint64_t ctx, uint64_t seq, struct cur *c) {
  struct ctxobj *o = lt__u64tab_get(&x->ctx, ctx);
  if (!o || !o->has_sub)
    return 0;
  uint64_t fence = seq < o->last_sub ? seq : o->last_sub;
  if (fence <= o->last_done)
    return 0;
  o->last_done = fence;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__FENCE_DONE;
  ev.context = ctx;
  ev.fence = fence;
  ev.pid = device_pid(x, o->device);
  return emit(x, &ev, c);
}

static int on_dma_info(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                       struct cur *c, lt_diag *diag) {
  uint64_t ctx, seq, type;
  int rc;
  if ((rc = get(d, r, "hContext", &ctx, diag)) ||
      (rc = get(d, r, "ulQueueSubmitSequence", &seq, diag)) ||
      (rc = get_mapped(d, r, "InterruptType", lt__map_interrupt, 0, &type, diag)))
    return rc;
  if (type != 1)
    return 0;
  return complete(x, ctx, seq, c);
}

static int on_qp(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                 struct cur *c, lt_diag *diag) {
  uint64_t ctx, seq, preempted = 0;
  int rc;
  if ((rc = get(d, r, "hContext", &ctx, diag)) || (rc = get(d, r, "SubmitSequence", &seq, diag)))
    return rc;
  if (d->handler == LT__H_QP_START) /* the DMA packet Start submits it */
    return 0;
  if ((rc = get(d, r, "bPreempted", &preempted, diag)))
    return rc;
  return preempted ? 0 : complete(x, ctx, seq, c);
}

static int alloc_op(struct lt__dxg *x, struct cur *c, int op, uint64_t h, uint32_t segment,
                    uint32_t source) {
  uint64_t key;
  int skip, rc = resolve(x, h, &key, &skip);
  if (rc || skip)
    return rc;
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = op;
  ev.alloc = key;
  ev.segment = segment;
  ev.source = source;
  ev.pid = alloc_pid(x, key);
  return emit(x, &ev, c);
}

static int on_residency(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                        struct cur *c, lt_diag *diag) {
  uint64_t h, seg = 0;
  int rc;
  if (d->handler == LT__H_EVICT) {
    if ((rc = get(d, r, "hGlobalAllocationHandle", &h, diag)))
      return rc;
    return alloc_op(x, c, LIFETRACE__OP__EVICT, h, 0, 0);
  }
  if ((rc = get(d, r, "hAllocationHandle", &h, diag)))
    return rc;
  if (lt__evdef_field(d, "uiSegmentId") >= 0 && (rc = get(d, r, "uiSegmentId", &seg, diag)))
    return rc;
  return alloc_op(x, c, LIFETRACE__OP__PAGE_IN, h, (uint32_t)seg, 0);
}

/* DestroyDisplayedAllocation: dxgkrnl found the allocation on a scanout
 * source while destroying it — it was displayed. */
static int on_displayed(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                        struct cur *c, lt_diag *diag) {
  uint64_t h, src;
  int rc;
  if ((rc = get(d, r, "Allocation", &h, diag)) || (rc = get(d, r, "VidPnSourceId", &src, diag)))
    return rc;
  if (h == 0)
    return 0;
  return alloc_op(x, c, LIFETRACE__OP__SCANOUT, h, 0, (uint32_t)src);
}

static int on_offer(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                    struct cur *c, lt_diag *diag) {
  uint64_t h, key;
  int rc, skip;
  if (d->handler == LT__H_OFFER_END)
    return get(d, r, "hGlobalAllocationHandle", &h, diag);
  if ((rc = get(d, r, "hAllocationHandle", &h, diag)) || (rc = resolve(x, h, &key, &skip)))
    return rc;
  if (skip)
    return 0;
  struct gobj *g = lt__u64tab_get(&x->g, key);
  int reclaim = d->handler == LT__H_RECLAIM;
  if (g && !reclaim && g->offered) /* one offer per offer episode */
    return 0;
  if (g)
    g->offered = !reclaim;
  return alloc_op(x, c, reclaim ? LIFETRACE__OP__RECLAIM : LIFETRACE__OP__OFFER, key, 0, 0);
}

static int on_segment(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                      lt_diag *diag) {
  uint64_t id, size, flags;
  int rc;
  if ((rc = get(d, r, "ulSegmentId", &id, diag)) || (rc = get(d, r, "Size", &size, diag)) ||
      (rc = get(d, r, "Flags", &flags, diag)))
    return rc;
  if (id == 0 || id > 32)
    return 0;
  void *v;
  if ((rc = lt__u64tab_put(&x->seg, id, &v, NULL)))
    return rc;
  struct segobj *s = v;
  s->state = S_LIVE;
  s->reported = 1;
  s->size = size;
  s->flags = (uint32_t)flags;
  return 0;
}

/* Applies one resolved DxgKrnl record to the joins through its handler
 * (device, context, allocation, DMA, residency, ...), which may emit events;
 * see import_internal.h for the errors. */
int lt__dxg_apply(struct lt__dxg *x, const struct lt__evdef *d, const struct lt__rec *r,
                  uint64_t t_ns, lt_diag *diag) {
  struct cur c = {t_ns, r->tid, r->record, r->line, d->opcode == LT__OPC_DC_START, r->pos};
  switch (d->handler) {
  case LT__H_DEVICE:
    return on_device(x, d, r, &c, diag);
  case LT__H_CONTEXT:
    return on_context(x, d, r, &c, diag);
  case LT__H_GALLOC:
    return on_galloc(x, d, r, &c, diag);
  case LT__H_DALLOC:
    return on_dalloc(x, d, r, &c, diag);
  case LT__H_TERMINATE:
  case LT__H_PTERMINATE:
    return on_terminate(x, d, r, &c, diag);
  case LT__H_LOCK:
  case LT__H_UNLOCK:
    return on_lock(x, d, r, &c, diag);
  case LT__H_REFS:
    return on_refs(x, d, r, &c, diag);
  case LT__H_DMA_START:
    return on_dma_start(x, d, r, &c, diag);
  case LT__H_DMA_INFO:
    return on_dma_info(x, d, r, &c, diag);
  case LT__H_QP_START:
  case LT__H_QP_STOP:
    return on_qp(x, d, r, &c, diag);
  case LT__H_EVICT:
  case LT__H_PAGE_IN:
    return on_residency(x, d, r, &c, diag);
  case LT__H_DISPLAYED:
    return on_displayed(x, d, r, &c, diag);
  case LT__H_OFFER:
  case LT__H_OFFER_END:
  case LT__H_RECLAIM:
    return on_offer(x, d, r, &c, diag);
  case LT__H_PROCESS:
    return on_process(x, d, r, &c, diag);
  case LT__H_SEGMENT:
    return on_segment(x, d, r, diag);
  }
  return LT_EINTERNAL;
}

/* End of input: emits the creates still held back waiting for their device
 * allocation record; see import_internal.h. */
int lt__dxg_finish(struct lt__dxg *x) { return flush_device_creates(x, 0, 1); }

/* ---- header ------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int header_processes(struct lt__dxg *x, lt_header *h) {
  size_t n = 0;
  for (size_t i = 0; i < x->proc.cap; i++)
    if (x->proc.used[i] && ((struct procobj *)LT__U64TAB_VAL(&x->proc, i))->owner)
      n++;
  if (n == 0)
    return 0;
  uint64_t *pids = lt_malloc(n * sizeof *pids);
  h->processes = lt_calloc(n, sizeof *h->processes);
  if (!pids || !h->processes) {
    lt_free(pids);
    return LT_ENOMEM;
  }
  size_t k = 0;
  for (size_t i = 0; i < x->proc.cap; i++)
    if (x->proc.used[i] && ((struct procobj *)LT__U64TAB_VAL(&x->proc, i))->owner)
      pids[k++] = x->proc.keys[i];
  qsort(pids, n, sizeof *pids, cmp_u64);
  for (k = 0; k < n; k++) {
    struct procobj *p = lt__u64tab_get(&x->proc, pids[k]);
    Lifetrace__Process *pp = lt_malloc(sizeof *pp);
    char *name = lt_strdup(p->name);
    if (!pp || !name) {
      lt_free(pp);
      lt_free(name);
      lt_free(pids);
      return LT_ENOMEM;
    }
    lifetrace__process__init(pp);
    pp->pid = pids[k];
    pp->name = name;
    h->processes[h->n_processes++] = pp;
  }
  lt_free(pids);
  return 0;
}

/* Segments: those ReportSegment described, plus any an allocation names,
 * sized to hold twice the capture's peak of live allocation bytes. */
static int header_segments(struct lt__dxg *x, lt_header *h) {
  uint32_t ids = x->seg_used;
  for (size_t i = 0; i < x->seg.cap; i++)
    if (x->seg.used[i])
      ids |= 1u << (x->seg.keys[i] - 1);
  if (!ids)
    return 0;
  uint64_t synth = 256ull << 20;
  while (synth < 2 * x->peak_bytes && synth < (1ull << 46))
    synth <<= 1;
  h->segments = lt_calloc(32, sizeof *h->segments);
  if (!h->segments)
    return LT_ENOMEM;
  for (uint32_t id = 1; id <= 32; id++) {
    if (!(ids & (1u << (id - 1))))
      continue;
    Lifetrace__Segment *s = lt_malloc(sizeof *s);
    if (!s)
      return LT_ENOMEM;
    lifetrace__segment__init(s);
    struct segobj *o = lt__u64tab_get(&x->seg, id);
    s->id = id;
    s->size = o && o->size ? o->size : synth;
    s->kind = o && (o->flags & 1) ? LIFETRACE__SEGMENT_KIND__SEGMENT_APERTURE
                                  : LIFETRACE__SEGMENT_KIND__SEGMENT_LOCAL;
    h->segments[h->n_segments++] = s;
  }
  return 0;
}

/* Fills h's owner processes and segments from what the joins saw; see
 * import_internal.h. */
int lt__dxg_header(struct lt__dxg *x, lt_header *h) {
  int rc = header_processes(x, h);
  return rc ? rc : header_segments(x, h);
}
