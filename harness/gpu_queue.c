/* The simulated GPU's DMA queues: a map from the caller's 64-bit context
 * ids to contexts, each a FIFO of packets whose accesses sit back to back
 * in a second FIFO. Both FIFOs are
 * rings that keep their buffers, so a steady stream of submits and
 * completions allocates nothing. See docs/gpu-model.md.
 */
#include "gpu_internal.h"

#include <string.h>

#include "lifetrace/error.h"

static void *ring_at(const lt__gpu_ring *r, size_t elsz, size_t i) {
  return r->buf + ((r->head + i) & (r->cap - 1)) * elsz;
}

/* Makes room for extra more elements, unwrapping into a buffer twice as big. */
static int ring_reserve(lt__gpu_ring *r, size_t elsz, size_t extra) {
  if (r->cap - r->len >= extra)
    return 0;
  size_t cap = r->cap != 0 ? r->cap : 16;
  while (cap - r->len < extra) {
    if (cap > SIZE_MAX / 2 / elsz)
      return LT_ENOMEM;
    cap *= 2;
  }
  unsigned char *buf = lt_malloc(cap * elsz);
  if (buf == NULL)
    return LT_ENOMEM;
  size_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
  if (r->len != 0) {
    memcpy(buf, r->buf + r->head * elsz, first * elsz);
    memcpy(buf + first * elsz, r->buf, (r->len - first) * elsz);
  }
  lt_free(r->buf);
  r->buf = buf;
  r->cap = cap;
  r->head = 0;
  return 0;
}

static void ring_pop(lt__gpu_ring *r, size_t n) {
  r->len -= n;
  r->head = r->len != 0 ? (r->head + n) & (r->cap - 1) : 0;
}

static void ring_free(lt__gpu_ring *r) {
  lt_free(r->buf);
  memset(r, 0, sizeof(*r));
}

static lt__gpu_ctx *ctx_find(const lt_gpu *g, uint64_t id) { return lt__u64map_get(&g->ctxs, id); }

/* Finds or creates the context id. */
static int ctx_get(lt_gpu *g, uint64_t id, lt__gpu_ctx **out) {
  lt__gpu_ctx *c = ctx_find(g, id);
  if (c == NULL) {
    c = lt_calloc(1, sizeof(*c));
    if (c == NULL)
      return LT_ENOMEM;
    int rc = lt__u64map_put(&g->ctxs, id, c);
    if (rc != 0) {
      lt_free(c);
      return rc;
    }
  }
  *out = c;
  return 0;
}

static void ctx_free(lt__gpu_ctx *c) {
  ring_free(&c->pkts);
  ring_free(&c->accs);
  lt_free(c);
}

/* Frees every context (pending packets are dropped unexecuted). */
void lt__gpu_queues_free(lt_gpu *g) {
  for (size_t i = 0; i < g->ctxs.cap; i++)
    if (g->ctxs.slots[i].val != NULL)
      ctx_free(g->ctxs.slots[i].val);
  lt__u64map_reset(&g->ctxs);
  g->pending = 0;
}

/* Fails with LT_EINVAL when fence is below the context's last submitted
 * fence, LT_ENOMEM when the queue cannot grow; nothing is queued then. */
int lt_gpu_submit(lt_gpu *g, uint64_t context, uint64_t fence, const lt_gpu_access *acc,
                  size_t n) {
  LT__GPU_MUTABLE(g);
  if (acc == NULL && n != 0)
    return LT_EINVAL;
  lt__gpu_ctx *c;
  int rc = ctx_get(g, context, &c);
  if (rc != 0)
    return rc;
  if (fence < c->submitted)
    return LT_EINVAL;
  rc = ring_reserve(&c->pkts, sizeof(lt__gpu_packet), 1);
  if (rc == 0)
    rc = ring_reserve(&c->accs, sizeof(lt_gpu_access), n);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < n; i++) {
    c->accs.len++;
    memcpy(ring_at(&c->accs, sizeof(lt_gpu_access), c->accs.len - 1), &acc[i], sizeof(*acc));
  }
  c->pkts.len++;
  lt__gpu_packet *p = ring_at(&c->pkts, sizeof(*p), c->pkts.len - 1);
  p->fence = fence;
  p->n = n;
  c->submitted = fence;
  g->pending++;
  return 0;
}

/* Executes the oldest packet of c: every access is checked, in order. */
static void exec_head(lt_gpu *g, lt__gpu_ctx *c) {
  const lt__gpu_packet *p = ring_at(&c->pkts, sizeof(*p), 0);
  size_t n = p->n;
  for (size_t i = 0; i < n; i++)
    lt__gpu_check_access(g, ring_at(&c->accs, sizeof(lt_gpu_access), i), 0, 0);
  ring_pop(&c->accs, n);
  ring_pop(&c->pkts, 1);
  g->pending--;
}

/* Executes, in order, every queued packet of context with a fence up to
 * fence, checking its accesses against the shadow memory, then reads the
 * scanout sources; returns the number of packets run. A context the GPU
 * cannot track for lack of memory has nothing queued. See lifetrace/gpu.h. */
size_t lt_gpu_complete(lt_gpu *g, uint64_t context, uint64_t fence) {
  LT__GPU_MUTABLE(g);
  lt__gpu_ctx *c;
  size_t done = 0;
  if (ctx_get(g, context, &c) == 0) { /* out of memory: nothing to execute anyway */
    while (c->pkts.len != 0 &&
           ((const lt__gpu_packet *)ring_at(&c->pkts, sizeof(lt__gpu_packet), 0))->fence <= fence) {
      exec_head(g, c);
      done++;
    }
    if (fence > c->completed)
      c->completed = fence;
  }
  lt_gpu_scanout_read(g);
  return done;
}

/* Executes every packet still queued on context and forgets the context, as
 * when it is destroyed; returns the number of packets run. See
 * lifetrace/gpu.h. */
size_t lt_gpu_context_drain(lt_gpu *g, uint64_t context) {
  LT__GPU_MUTABLE(g);
  lt__gpu_ctx *c = ctx_find(g, context);
  if (c == NULL)
    return 0;
  size_t done = 0;
  while (c->pkts.len != 0) {
    exec_head(g, c);
    done++;
  }
  lt__u64map_del(&g->ctxs, context);
  ctx_free(c);
  return done;
}

/* The dropped packets count as completed: their fences are signalled, so
 * nothing waits on them after the reset. */
void lt_gpu_reset(lt_gpu *g) {
  LT__GPU_MUTABLE(g);
  for (size_t i = 0; i < g->ctxs.cap; i++) {
    lt__gpu_ctx *c = g->ctxs.slots[i].val;
    if (c == NULL)
      continue;
    ring_pop(&c->accs, c->accs.len);
    ring_pop(&c->pkts, c->pkts.len);
    if (c->submitted > c->completed)
      c->completed = c->submitted;
  }
  g->pending = 0;
}

/* The last fence completed on context (0 for an unknown one); see
 * lifetrace/gpu.h. */
uint64_t lt_gpu_completed_fence(const lt_gpu *g, uint64_t context) {
  LT__GPU_CHECK(g);
  const lt__gpu_ctx *c = ctx_find(g, context);
  return c != NULL ? c->completed : 0;
}

/* The last fence submitted on context (0 for an unknown one); see
 * lifetrace/gpu.h. */
uint64_t lt_gpu_submitted_fence(const lt_gpu *g, uint64_t context) {
  LT__GPU_CHECK(g);
  const lt__gpu_ctx *c = ctx_find(g, context);
  return c != NULL ? c->submitted : 0;
}

/* The number of packets queued on every context, not yet executed; see
 * lifetrace/gpu.h. */
size_t lt_gpu_pending(const lt_gpu *g) {
  LT__GPU_CHECK(g);
  return g->pending;
}
