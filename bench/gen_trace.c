/* gen_trace — writes a synthetic, valid trace for benchmarks.
 *
 *   gen_trace OUT.ltrace N_EVENTS [SEED]
 *
 * 64 processes, each with devices and contexts, create and destroy resources
 * of 1–8 allocations (as a group with destroy_resource, or one by one and then
 * a resource-only destroy), submit DMA packets that reference them and retire
 * them with fence_done, open shared allocations on another process's device
 * and close them again, lock, evict/page-in, offer/reclaim, and now and then
 * a process exits and a new one starts. Every destroy names a live object,
 * every binding is closed and every packet retired before its allocation is
 * destroyed, fences increase per context, and the trace ends with a full
 * teardown: a clean replay under any policy. Live objects stay bounded, so a
 * replay's memory does not grow with N; the generator itself streams.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/trace.h"

#define N_PROCS 64
#define MAX_DEVS 2
#define MAX_CTXS 2
#define MAX_RES 12
#define MAX_ALLOCS 8
#define FREE_MAX 1024
/* Most events one step emits, and most it raises the teardown cost by. */
#define MAX_STEP 64
#define MAX_COST_RISE 16

#define FLAG_CPU_VISIBLE 0x1u
#define FLAG_CACHED 0x4u

struct galloc {
  uint64_t h;
  uint32_t flags;
  int busy_ctx;         /* context index on the same device, -1 = idle */
  uint64_t busy_fence;
};

struct gres {
  uint64_t h; /* 0 = allocations without a resource */
  int shared, n;
  struct galloc a[MAX_ALLOCS];
};

struct gctx {
  uint64_t h, submitted, done;
  uint32_t node;
};

struct gdev {
  uint64_t h;
  int nctx, nres;
  struct gctx ctx[MAX_CTXS];
  struct gres res[MAX_RES];
};

struct gproc {
  uint64_t pid, tid;
  int ndev;
  struct gdev dev[MAX_DEVS];
};

enum { H_DEVICE, H_CONTEXT, H_RESOURCE, H_ALLOC, N_HKINDS };

struct freelist {
  uint64_t v[FREE_MAX];
  int n;
};

struct gen {
  uint64_t rng, t, events, target, next_pid, serial[N_HKINDS];
  struct freelist free[N_HKINDS];
  struct gproc procs[N_PROCS];
  lt_writer *w;
  int err;
};

static uint64_t rnd(struct gen *g) {
  g->rng ^= g->rng >> 12;
  g->rng ^= g->rng << 25;
  g->rng ^= g->rng >> 27;
  return g->rng * UINT64_C(2685821657736338717);
}

static unsigned pick(struct gen *g, unsigned n) { return (unsigned)(rnd(g) % n); }

/* A handle that looks like a kernel pointer; destroyed ones are reused (ABA). */
static uint64_t new_handle(struct gen *g, int kind) {
  static const uint64_t base[N_HKINDS] = {UINT64_C(0xffffb00000000000), UINT64_C(0xffffb10000000000),
                                          UINT64_C(0xffffc00000000000), UINT64_C(0xffffd00000000000)};
  struct freelist *f = &g->free[kind];

  if (f->n > 0 && pick(g, 2))
    return f->v[--f->n];
  return base[kind] + ++g->serial[kind] * 0x40;
}

static void free_handle(struct gen *g, int kind, uint64_t h) {
  struct freelist *f = &g->free[kind];

  if (f->n < FREE_MAX)
    f->v[f->n++] = h;
}

static void emit(struct gen *g, const struct gproc *p, lt_event *ev) {
  g->t += 50 + pick(g, 2000);
  ev->t = g->t;
  ev->pid = p->pid;
  ev->tid = p->tid;
  if (g->err == 0)
    g->err = lt_writer_put(g->w, ev);
  g->events++;
}

/* ---- single events -------------------------------------------------------- */

static void ev_fence_done(struct gen *g, const struct gproc *p, struct gctx *c) {
  lt_event ev;

  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__FENCE_DONE;
  ev.context = c->h;
  ev.fence = c->submitted;
  c->done = c->submitted;
  emit(g, p, &ev);
}

static void ev_alloc_destroy(struct gen *g, const struct gproc *p, uint64_t *h, size_t n,
                             uint64_t resource, int destroy_resource) {
  lt_event ev;

  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__ALLOC_DESTROY;
  ev.n_handles = n;
  ev.handles = h;
  ev.resource = resource;
  ev.destroy_resource = destroy_resource;
  emit(g, p, &ev);
}

static void ev_simple(struct gen *g, const struct gproc *p, int op, uint64_t device,
                      uint64_t context, uint64_t alloc, uint32_t segment) {
  lt_event ev;

  lifetrace__event__init(&ev);
  ev.op = (Lifetrace__Op)op;
  ev.device = device;
  ev.context = context;
  ev.alloc = alloc;
  ev.segment = segment;
  emit(g, p, &ev);
}

static void ev_alloc_open_close(struct gen *g, const struct gproc *p, int op, uint64_t device,
                                uint64_t alloc) {
  lt_event ev;

  lifetrace__event__init(&ev);
  ev.op = (Lifetrace__Op)op;
  ev.device = device;
  ev.n_handles = 1;
  ev.handles = &alloc;
  emit(g, p, &ev);
}

/* Retires every packet that still references an allocation of r. */
static void make_idle(struct gen *g, const struct gproc *p, struct gdev *d, struct gres *r) {
  for (int i = 0; i < r->n; i++) {
    struct galloc *a = &r->a[i];
    if (a->busy_ctx >= 0 && d->ctx[a->busy_ctx].done < a->busy_fence)
      ev_fence_done(g, p, &d->ctx[a->busy_ctx]);
    a->busy_ctx = -1;
  }
}

/* ---- creation ------------------------------------------------------------- */

static void fill_info(struct gen *g, struct galloc *a, lt_allocinfo *info) {
  lifetrace__alloc_info__init(info);
  a->h = new_handle(g, H_ALLOC);
  a->flags = (pick(g, 2) ? FLAG_CPU_VISIBLE : 0) | (pick(g, 8) ? 0 : FLAG_CACHED);
  a->busy_ctx = -1;
  info->alloc = a->h;
  info->size = 4096u * (1 + pick(g, 16));
  info->align = 4096;
  info->segments = 0x3; /* local or aperture */
  info->preferred = 1;
  info->flags = a->flags;
}

/* alloc_create of n new allocations (into r from index r->n). */
static void ev_alloc_create(struct gen *g, const struct gproc *p, struct gdev *d, struct gres *r,
                            int n, int new_resource) {
  lt_allocinfo info[MAX_ALLOCS], *ptrs[MAX_ALLOCS];
  lt_event ev;

  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__ALLOC_CREATE;
  ev.device = d->h;
  ev.resource = r->h;
  ev.new_resource = new_resource && r->h;
  ev.shared = r->shared;
  for (int i = 0; i < n; i++) {
    fill_info(g, &r->a[r->n + i], &info[i]);
    ptrs[i] = &info[i];
  }
  ev.n_allocs = (size_t)n;
  ev.allocs = ptrs;
  r->n += n;
  emit(g, p, &ev);
}

static void create_resource(struct gen *g, struct gproc *p, struct gdev *d) {
  struct gres *r = &d->res[d->nres++];
  unsigned kind = pick(g, 10);

  memset(r, 0, sizeof *r);
  r->shared = kind == 0;
  r->h = kind == 1 || kind == 2 ? 0 : new_handle(g, H_RESOURCE);
  ev_alloc_create(g, p, d, r, r->shared ? 1 : 1 + (int)pick(g, MAX_ALLOCS), 1);
}

/* Adds one allocation to an existing resource (new_resource false). */
static int grow_resource(struct gen *g, struct gproc *p, struct gdev *d) {
  struct gres *r;

  if (d->nres == 0)
    return 0;
  r = &d->res[pick(g, (unsigned)d->nres)];
  if (r->h == 0 || r->shared || r->n >= MAX_ALLOCS)
    return 0;
  ev_alloc_create(g, p, d, r, 1, 0);
  return 1;
}

static void create_device(struct gen *g, struct gproc *p) {
  struct gdev *d = &p->dev[p->ndev++];
  lt_event ev;

  memset(d, 0, sizeof *d);
  d->h = new_handle(g, H_DEVICE);
  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__DEVICE_CREATE;
  ev.device = d->h;
  emit(g, p, &ev);
  d->nctx = 1 + (int)pick(g, MAX_CTXS);
  for (int i = 0; i < d->nctx; i++) {
    struct gctx *c = &d->ctx[i];
    memset(c, 0, sizeof *c);
    c->h = new_handle(g, H_CONTEXT);
    c->node = pick(g, 4);
    lifetrace__event__init(&ev);
    ev.op = LIFETRACE__OP__CONTEXT_CREATE;
    ev.device = d->h;
    ev.context = c->h;
    ev.node = c->node;
    emit(g, p, &ev);
  }
}

static void start_process(struct gen *g, struct gproc *p) {
  memset(p, 0, sizeof *p);
  p->pid = g->next_pid;
  g->next_pid += 4;
  p->tid = p->pid + 1;
  for (int n = 1 + (int)pick(g, MAX_DEVS); n > 0; n--)
    create_device(g, p);
}

/* ---- destruction ---------------------------------------------------------- */

static void destroy_resource(struct gen *g, struct gproc *p, struct gdev *d, int i, int group) {
  struct gres *r = &d->res[i];
  uint64_t h[MAX_ALLOCS];

  make_idle(g, p, d, r);
  for (int k = 0; k < r->n; k++) {
    h[k] = r->a[k].h;
    free_handle(g, H_ALLOC, h[k]);
  }
  if (group || r->n == 1) {
    ev_alloc_destroy(g, p, h, (size_t)r->n, r->h, r->h != 0);
  } else {
    for (int k = 0; k < r->n; k++)
      ev_alloc_destroy(g, p, &h[k], 1, r->h, 0);
    if (r->h)
      ev_alloc_destroy(g, p, NULL, 0, r->h, 1); /* the resource alone */
  }
  if (r->h)
    free_handle(g, H_RESOURCE, r->h);
  d->res[i] = d->res[--d->nres];
}

static void destroy_device(struct gen *g, struct gproc *p, struct gdev *d) {
  for (int i = 0; i < d->nctx; i++)
    if (d->ctx[i].done < d->ctx[i].submitted)
      ev_fence_done(g, p, &d->ctx[i]);
  while (d->nres > 0)
    destroy_resource(g, p, d, d->nres - 1, 1);
  for (int i = 0; i < d->nctx; i++) {
    ev_simple(g, p, LIFETRACE__OP__CONTEXT_DESTROY, d->h, d->ctx[i].h, 0, 0);
    free_handle(g, H_CONTEXT, d->ctx[i].h);
  }
  ev_simple(g, p, LIFETRACE__OP__DEVICE_DESTROY, d->h, 0, 0, 0);
  free_handle(g, H_DEVICE, d->h);
}

static void end_process(struct gen *g, struct gproc *p) {
  lt_event ev;

  for (int i = 0; i < p->ndev; i++)
    destroy_device(g, p, &p->dev[i]);
  p->ndev = 0;
  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__PROCESS_EXIT;
  emit(g, p, &ev);
}

/* Events end_process would emit for every process now. */
static uint64_t teardown_cost(const struct gen *g) {
  uint64_t cost = 0;

  for (int i = 0; i < N_PROCS; i++) {
    const struct gproc *p = &g->procs[i];
    cost += 1 + (uint64_t)p->ndev;
    for (int k = 0; k < p->ndev; k++) {
      const struct gdev *d = &p->dev[k];
      cost += (uint64_t)d->nctx + (uint64_t)d->nres;
      for (int c = 0; c < d->nctx; c++)
        cost += d->ctx[c].done < d->ctx[c].submitted;
    }
  }
  return cost;
}

/* ---- work ----------------------------------------------------------------- */

static struct galloc *any_alloc(struct gen *g, struct gdev *d) {
  struct gres *r;

  if (d->nres == 0)
    return NULL;
  r = &d->res[pick(g, (unsigned)d->nres)];
  return &r->a[pick(g, (unsigned)r->n)];
}

/* A packet on context c of d referencing up to 4 of d's allocations. */
static void submit(struct gen *g, struct gproc *p, struct gdev *d, int ci, struct galloc **extra,
                   int n_extra) {
  struct gctx *c = &d->ctx[ci];
  lt_ref refs[4 + 1], *ptrs[4 + 1];
  lt_event ev;
  int n = 0;

  lifetrace__event__init(&ev);
  ev.op = LIFETRACE__OP__SUBMIT;
  ev.context = c->h;
  ev.fence = ++c->submitted;
  for (int tries = (int)pick(g, 5); tries > 0; tries--) {
    struct galloc *a = any_alloc(g, d);
    int ok = a != NULL;
    for (int i = 0; ok && i < n; i++)
      ok = refs[i].alloc != a->h;
    /* one owning context per allocation at a time */
    if (!ok || (a->busy_ctx >= 0 && a->busy_ctx != ci && d->ctx[a->busy_ctx].done < a->busy_fence))
      continue;
    a->busy_ctx = ci;
    a->busy_fence = c->submitted;
    lifetrace__ref__init(&refs[n]);
    refs[n].alloc = a->h;
    refs[n].write = pick(g, 3) == 0;
    ptrs[n] = &refs[n];
    n++;
  }
  for (int i = 0; i < n_extra; i++, n++) {
    lifetrace__ref__init(&refs[n]);
    refs[n].alloc = extra[i]->h;
    ptrs[n] = &refs[n];
  }
  ev.n_refs = (size_t)n;
  ev.refs = ptrs;
  emit(g, p, &ev);
}

static struct gproc *other_process(struct gen *g, struct gproc *p) {
  struct gproc *q = &g->procs[pick(g, N_PROCS)];
  return q == p || q->ndev == 0 ? NULL : q;
}

/* A shared allocation opened on another process's device, used there, closed. */
static int share(struct gen *g, struct gproc *p, struct gdev *d) {
  struct gproc *q = other_process(g, p);
  struct galloc *a = NULL;
  struct gdev *d2;

  for (int i = 0; i < d->nres && a == NULL; i++)
    if (d->res[i].shared)
      a = &d->res[i].a[0];
  if (a == NULL || q == NULL)
    return 0;
  d2 = &q->dev[pick(g, (unsigned)q->ndev)];
  ev_alloc_open_close(g, q, LIFETRACE__OP__ALLOC_OPEN, d2->h, a->h);
  if (pick(g, 2)) {
    int ci = (int)pick(g, (unsigned)d2->nctx);
    submit(g, q, d2, ci, &a, 1);
    ev_fence_done(g, q, &d2->ctx[ci]);
  }
  ev_alloc_open_close(g, q, LIFETRACE__OP__ALLOC_CLOSE, d2->h, a->h);
  return 1;
}

/* An idle allocation of d for a CPU or paging operation, or NULL. */
static struct galloc *idle_alloc(struct gen *g, struct gdev *d) {
  struct galloc *a = any_alloc(g, d);

  if (a && a->busy_ctx >= 0 && d->ctx[a->busy_ctx].done < a->busy_fence)
    return NULL;
  return a;
}

static int lock_unlock(struct gen *g, struct gproc *p, struct gdev *d) {
  struct galloc *a = idle_alloc(g, d);

  if (a == NULL || !(a->flags & FLAG_CPU_VISIBLE))
    return 0;
  ev_simple(g, p, LIFETRACE__OP__LOCK, d->h, 0, a->h, 0);
  ev_simple(g, p, LIFETRACE__OP__UNLOCK, d->h, 0, a->h, 0);
  return 1;
}

/* evict + page_in, or offer + reclaim, of an idle allocation. */
static int page_pair(struct gen *g, struct gproc *p, struct gdev *d, int evict) {
  struct galloc *a = idle_alloc(g, d);

  if (a == NULL)
    return 0;
  if (evict) {
    ev_simple(g, p, LIFETRACE__OP__EVICT, 0, 0, a->h, 1);
    ev_simple(g, p, LIFETRACE__OP__PAGE_IN, 0, 0, a->h, 1);
  } else {
    ev_simple(g, p, LIFETRACE__OP__OFFER, 0, 0, a->h, 0);
    ev_simple(g, p, LIFETRACE__OP__RECLAIM, 0, 0, a->h, 0);
  }
  return 1;
}

static int retire(struct gen *g, struct gproc *p, struct gdev *d) {
  struct gctx *c = &d->ctx[pick(g, (unsigned)d->nctx)];

  if (c->done == c->submitted)
    return 0;
  ev_fence_done(g, p, c);
  return 1;
}

/* One random step of process p; falls back to creating or destroying. */
static void step(struct gen *g, struct gproc *p) {
  struct gdev *d = &p->dev[pick(g, (unsigned)p->ndev)];
  unsigned x = pick(g, 1000);
  int ci = (int)pick(g, (unsigned)d->nctx), done = 0;

  if (x < 2) {
    end_process(g, p);
    start_process(g, p);
    return;
  }
  if (x < 450) {
    submit(g, p, d, ci, NULL, 0);
    if (pick(g, 2))
      ev_fence_done(g, p, &d->ctx[ci]);
    return;
  }
  if (x < 550)
    done = retire(g, p, d);
  else if (x < 590)
    done = lock_unlock(g, p, d);
  else if (x < 610)
    done = page_pair(g, p, d, 1);
  else if (x < 630)
    done = page_pair(g, p, d, 0);
  else if (x < 680)
    done = share(g, p, d);
  else if (x < 710)
    done = grow_resource(g, p, d);
  if (done)
    return;
  if (d->nres > 0 && (d->nres == MAX_RES || pick(g, (unsigned)MAX_RES) < (unsigned)d->nres))
    destroy_resource(g, p, d, (int)pick(g, (unsigned)d->nres), (int)pick(g, 2));
  else
    create_resource(g, p, d);
}

/* Submits on one context until exactly `left` events remain for teardown. */
static void pad(struct gen *g, uint64_t left) {
  struct gproc *p = &g->procs[0];
  struct gdev *d = &p->dev[0];
  struct gctx *c = &d->ctx[0];

  if (g->events + left >= g->target)
    return;
  if (c->done == c->submitted) {
    if (g->target - g->events - left < 2)
      return;
    left++; /* the submit makes a fence_done part of the teardown */
    submit(g, p, d, 0, NULL, 0);
  }
  while (g->events + left < g->target)
    submit(g, p, d, 0, NULL, 0);
}

static lt_header *make_header(uint64_t seed, char *source, size_t len, Lifetrace__Segment *segs,
                              Lifetrace__Segment **segp, lt_header *h) {
  static const uint64_t sizes[3] = {UINT64_C(1) << 30, UINT64_C(256) << 20, UINT64_C(4) << 30};

  lifetrace__trace_header__init(h);
  snprintf(source, len, "gen_trace seed %" PRIu64, seed);
  h->lifetrace = 1;
  h->source = source;
  h->ends = LIFETRACE__ENDS__ENDS_TEARDOWN;
  for (int i = 0; i < 3; i++) {
    lifetrace__segment__init(&segs[i]);
    segs[i].id = (uint32_t)i + 1;
    segs[i].kind = (Lifetrace__SegmentKind)i;
    segs[i].size = sizes[i];
    segp[i] = &segs[i];
  }
  h->n_segments = 3;
  h->segments = segp;
  return h;
}

static void generate(struct gen *g) {
  uint64_t margin = (uint64_t)N_PROCS * (2 + MAX_DEVS * (1 + 2 * MAX_CTXS + MAX_RES)) + MAX_STEP +
                    MAX_COST_RISE;

  for (int i = 0; i < N_PROCS; i++)
    start_process(g, &g->procs[i]);
  while (g->err == 0) {
    if (g->events + margin >= g->target &&
        g->events + teardown_cost(g) + MAX_STEP + MAX_COST_RISE >= g->target)
      break;
    step(g, &g->procs[pick(g, N_PROCS)]);
  }
  pad(g, teardown_cost(g));
  for (int i = 0; i < N_PROCS; i++)
    end_process(g, &g->procs[i]);
}

int main(int argc, char **argv) {
  Lifetrace__Segment segs[3], *segp[3];
  char source[64];
  lt_header h;
  struct gen *g;
  int rc;

  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: gen_trace OUT.ltrace N_EVENTS [SEED]\n");
    return 2;
  }
  g = calloc(1, sizeof *g);
  if (g == NULL)
    return 4;
  g->target = strtoull(argv[2], NULL, 10);
  g->rng = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  make_header(g->rng, source, sizeof source, segs, segp, &h);
  g->rng = g->rng * UINT64_C(0x9e3779b97f4a7c15) + 1;
  g->next_pid = 1000;
  rc = lt_writer_open(&g->w, argv[1], LT_FORMAT_AUTO, &h);
  if (rc == 0) {
    generate(g);
    rc = g->err;
    if (lt_writer_close(g->w) && rc == 0)
      rc = LT_EIO;
  }
  if (rc)
    fprintf(stderr, "gen_trace: %s: %s\n", argv[1], lt_strerror(rc));
  else
    fprintf(stderr, "gen_trace: %s: %" PRIu64 " events\n", argv[1], g->events);
  free(g);
  return rc ? 4 : 0;
}
