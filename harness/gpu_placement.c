/* The simulated GPU's placement allocator. Per segment, a B+tree of the
 * extents that tile it (free or taken), keyed by address; inner nodes keep
 * the exact smallest address and the largest free extent below each child,
 * so a floor lookup and a first fit are each one descent of about log32(n)
 * nodes, with few cache misses. Placement is page-granular first fit;
 * released ranges pass through a bounded quarantine before their space is
 * reused, so that a stale access finds "free" rather than a new owner.
 * Who owns a taken extent is recorded in the shadow (gpu_shadow.c). See
 * docs/gpu-model.md.
 */
#include "gpu_internal.h"

#include <assert.h>
#include <string.h>

#include "lifetrace/error.h"

#define PAGE ((uint64_t)LT__GPU_PAGE)

#define LEAF_MAX 32
#define INNER_MAX 32
#define NODE_MIN 8      /* below this a node borrows from or merges with a sibling */
#define POOL_KEEP 256   /* spare nodes kept; more are freed */

/* Entries are scanned branch-free (the loops vectorize): fre[j] is len[j]
 * for a free extent and 0 for a taken one. */
typedef struct leaf {
  int n;
  uint64_t addr[LEAF_MAX];
  uint64_t len[LEAF_MAX];
  uint64_t fre[LEAF_MAX];
} leaf;

typedef struct inner {
  int n;
  uint64_t key[INNER_MAX];  /* exact smallest address below child i */
  uint64_t maxf[INNER_MAX]; /* largest free extent below child i */
  lt__gpu_bnode *child[INNER_MAX];
} inner;

union lt__gpu_bnode {
  leaf l;
  inner i;
  lt__gpu_bnode *next; /* in the pool */
};

enum { OP_INSERT, OP_REMOVE, OP_SET, OP_CARVE, OP_FREE };

/* One mutation, applied at the leaf holding e.addr. */
typedef struct op {
  int kind;
  lt__gpu_extent e;
  uint64_t res_addr, res_len; /* OP_FREE: the free extent after merging in the leaf */
  int edge_lo, edge_hi;       /* ... and whether it is first / last in that leaf */
} op;

/* ---- the node pool ---- */

static lt__gpu_bnode *node_take(lt__gpu_pool *p) {
  lt__gpu_bnode *n = p->free;
  assert(n != NULL); /* callers reserve before mutating */
  p->free = n->next;
  p->n--;
  return n;
}

static void node_give(lt__gpu_pool *p, lt__gpu_bnode *n) {
#ifdef LT_DEBUG
  memset(n, 0xa5, sizeof(*n));
#endif
  if (p->n >= POOL_KEEP) {
    lt_free(n);
    return;
  }
  n->next = p->free;
  p->free = n;
  p->n++;
}

/* Frees the spare nodes a GPU's segments share; the segments must be
 * destroyed first, since their trees hold the nodes in use. */
void lt__gpu_pool_free(lt__gpu_pool *p) {
  while (p->free != NULL) {
    lt__gpu_bnode *n = p->free;
    p->free = n->next;
    lt_free(n);
  }
  p->n = 0;
}

/* An insert splits at most one node per level and may add a root. */
static int map_reserve(lt__gpu_map *m, size_t n) {
  size_t need = n * (size_t)(m->height + 2);
  while (m->pool->n < need) {
    lt__gpu_bnode *b = lt_malloc(sizeof(*b));
    if (b == NULL)
      return LT_ENOMEM;
    b->next = m->pool->free;
    m->pool->free = b;
    m->pool->n++;
  }
  return 0;
}

static void map_init(lt__gpu_map *m, lt__gpu_pool *pool) {
  memset(m, 0, sizeof(*m));
  m->pool = pool;
}

static void destroy_rec(lt__gpu_pool *p, lt__gpu_bnode *x, int h) {
  if (h > 0)
    for (int i = 0; i < x->i.n; i++)
      destroy_rec(p, x->i.child[i], h - 1);
  node_give(p, x);
}

static void map_destroy(lt__gpu_map *m) {
  if (m->root != NULL)
    destroy_rec(m->pool, m->root, m->height);
  m->root = NULL;
  m->height = 0;
  m->count = 0;
}

/* ---- node helpers (h is the height of the node: 0 = leaf) ---- */

static int count_of(const lt__gpu_bnode *x, int h) { return h == 0 ? x->l.n : x->i.n; }

static uint64_t min_of(const lt__gpu_bnode *x, int h) {
  return h == 0 ? x->l.addr[0] : x->i.key[0];
}

static uint64_t maxf_of(const lt__gpu_bnode *x, int h) {
  uint64_t m = 0;
  if (h == 0) {
    for (int j = 0; j < x->l.n; j++)
      m = x->l.fre[j] > m ? x->l.fre[j] : m;
  } else {
    for (int i = 0; i < x->i.n; i++)
      m = x->i.maxf[i] > m ? x->i.maxf[i] : m;
  }
  return m;
}

static void refresh(inner *in, int i, int hc) {
  in->key[i] = min_of(in->child[i], hc);
  in->maxf[i] = maxf_of(in->child[i], hc);
}

/* Largest j with addr[j] <= key, or -1. A branch-free count beats a binary
 * search over 32 keys: no mispredictions, and it vectorizes. */
static int leaf_floor(const leaf *l, uint64_t key) {
  int c = 0;
  for (int j = 0; j < l->n; j++)
    c += l->addr[j] <= key;
  return c - 1;
}

/* Largest i with key[i] <= key, or 0. */
static int inner_route(const inner *in, uint64_t key) {
  int c = 0;
  for (int i = 1; i < in->n; i++)
    c += in->key[i] <= key;
  return c;
}

/* Moves k entries (or children) from src[sj..] to dst[dj..]; may overlap. */
static void leaf_copy(leaf *dst, int dj, const leaf *src, int sj, int k) {
  memmove(&dst->addr[dj], &src->addr[sj], (size_t)k * sizeof(dst->addr[0]));
  memmove(&dst->len[dj], &src->len[sj], (size_t)k * sizeof(dst->len[0]));
  memmove(&dst->fre[dj], &src->fre[sj], (size_t)k * sizeof(dst->fre[0]));
}

static void inner_copy(inner *dst, int di, const inner *src, int si, int k) {
  memmove(&dst->key[di], &src->key[si], (size_t)k * sizeof(dst->key[0]));
  memmove(&dst->maxf[di], &src->maxf[si], (size_t)k * sizeof(dst->maxf[0]));
  memmove(&dst->child[di], &src->child[si], (size_t)k * sizeof(dst->child[0]));
}

static void node_copy(lt__gpu_bnode *dst, int dj, const lt__gpu_bnode *src, int sj, int k, int h) {
  if (h == 0)
    leaf_copy(&dst->l, dj, &src->l, sj, k);
  else
    inner_copy(&dst->i, dj, &src->i, sj, k);
}

static void set_count(lt__gpu_bnode *x, int h, int n) {
  if (h == 0)
    x->l.n = n;
  else
    x->i.n = n;
}

static void leaf_put(lt__gpu_map *m, leaf *l, int j, const lt__gpu_extent *e) {
  leaf_copy(l, j + 1, l, j, l->n - j);
  l->addr[j] = e->addr;
  l->len[j] = e->len;
  l->fre[j] = e->state == LT__GPU_FREE ? e->len : 0;
  l->n++;
  m->count++;
}

static void leaf_del(lt__gpu_map *m, leaf *l, int j) {
  leaf_copy(l, j, l, j + 1, l->n - j - 1);
  l->n--;
  m->count--;
}

static void inner_put(inner *in, int i, lt__gpu_bnode *c, int hc) {
  inner_copy(in, i + 1, in, i, in->n - i);
  in->child[i] = c;
  in->n++;
  refresh(in, i, hc);
}

static void inner_del(inner *in, int i) {
  inner_copy(in, i, in, i + 1, in->n - i - 1);
  in->n--;
}

/* Splits a full node in two halves; returns the new right half. */
static lt__gpu_bnode *split(lt__gpu_map *m, lt__gpu_bnode *x, int h) {
  int total = count_of(x, h), half = total / 2;
  lt__gpu_bnode *r = node_take(m->pool);
  node_copy(r, 0, x, half, total - half, h);
  set_count(r, h, total - half);
  set_count(x, h, half);
  return r;
}

/* Inserts e at position j, splitting a full leaf (the new right half is
 * returned, its smallest address in *sep). */
static lt__gpu_bnode *leaf_insert(lt__gpu_map *m, leaf *l, int j, const lt__gpu_extent *e,
                                  uint64_t *sep) {
  if (l->n < LEAF_MAX) {
    leaf_put(m, l, j, e);
    return NULL;
  }
  lt__gpu_bnode *r = split(m, (lt__gpu_bnode *)l, 0);
  if (j <= l->n)
    leaf_put(m, l, j, e);
  else
    leaf_put(m, &r->l, j - l->n, e);
  *sep = r->l.addr[0];
  return r;
}

static lt__gpu_bnode *inner_insert(lt__gpu_map *m, inner *in, int i, lt__gpu_bnode *c, int hc,
                                   uint64_t *sep) {
  if (in->n < INNER_MAX) {
    inner_put(in, i, c, hc);
    return NULL;
  }
  lt__gpu_bnode *r = split(m, (lt__gpu_bnode *)in, hc + 1);
  if (i <= in->n)
    inner_put(in, i, c, hc);
  else
    inner_put(&r->i, i - in->n, c, hc);
  *sep = r->i.key[0];
  return r;
}

/* Merges the free extent at j with free neighbours in the same leaf. */
static void leaf_free(lt__gpu_map *m, leaf *l, int j, op *o) {
  if (j + 1 < l->n && l->fre[j + 1] != 0) {
    l->len[j] += l->len[j + 1];
    leaf_del(m, l, j + 1);
  }
  if (j > 0 && l->fre[j - 1] != 0) {
    l->len[j - 1] += l->len[j];
    leaf_del(m, l, j);
    j--;
  }
  l->fre[j] = l->len[j];
  o->res_addr = l->addr[j];
  o->res_len = l->len[j];
  o->edge_lo = j == 0;
  o->edge_hi = j == l->n - 1;
}

static lt__gpu_bnode *leaf_apply(lt__gpu_map *m, leaf *l, op *o, uint64_t *sep) {
  int j = leaf_floor(l, o->e.addr);
  if (o->kind == OP_INSERT)
    return leaf_insert(m, l, j + 1, &o->e, sep);
  assert(j >= 0 && l->addr[j] == o->e.addr);
  switch (o->kind) {
  case OP_REMOVE:
    leaf_del(m, l, j);
    break;
  case OP_SET:
    l->len[j] = o->e.len;
    l->fre[j] = o->e.state == LT__GPU_FREE ? o->e.len : 0;
    break;
  case OP_CARVE: {
    assert(l->fre[j] != 0 && l->len[j] >= o->e.len);
    lt__gpu_extent tail = {o->e.addr + o->e.len, l->len[j] - o->e.len, LT__GPU_FREE};
    l->len[j] = o->e.len;
    l->fre[j] = 0;
    if (tail.len != 0)
      return leaf_insert(m, l, j + 1, &tail, sep);
    break;
  }
  case OP_FREE:
    leaf_free(m, l, j, o);
    break;
  }
  return NULL;
}

/* Brings child i of in (of height hc) back above NODE_MIN by merging it with
 * a sibling or borrowing one entry from it. */
static void rebalance(lt__gpu_map *m, inner *in, int i, int hc) {
  int a = i > 0 ? i - 1 : i;
  lt__gpu_bnode *L = in->child[a], *R = in->child[a + 1];
  int nl = count_of(L, hc), nr = count_of(R, hc);
  int cap = hc == 0 ? LEAF_MAX : INNER_MAX;
  if (nl + nr <= cap) {
    node_copy(L, nl, R, 0, nr, hc);
    set_count(L, hc, nl + nr);
    inner_del(in, a + 1);
    node_give(m->pool, R);
    refresh(in, a, hc);
    return;
  }
  if (nl < nr) {
    node_copy(L, nl, R, 0, 1, hc);
    node_copy(R, 0, R, 1, nr - 1, hc);
    set_count(L, hc, nl + 1);
    set_count(R, hc, nr - 1);
  } else {
    node_copy(R, 1, R, 0, nr, hc);
    node_copy(R, 0, L, nl - 1, 1, hc);
    set_count(L, hc, nl - 1);
    set_count(R, hc, nr + 1);
  }
  refresh(in, a, hc);
  refresh(in, a + 1, hc);
}

/* Applies o below x (height h), repairing keys, maxima and node sizes on
 * the way back up. Returns a new right sibling of x when x split. */
static lt__gpu_bnode *apply_rec(lt__gpu_map *m, lt__gpu_bnode *x, int h, op *o, uint64_t *sep) {
  if (h == 0)
    return leaf_apply(m, &x->l, o, sep);
  inner *in = &x->i;
  int i = inner_route(in, o->e.addr);
  lt__gpu_bnode *c = in->child[i];
  uint64_t csep = 0;
  lt__gpu_bnode *r = apply_rec(m, c, h - 1, o, &csep);
  if (count_of(c, h - 1) == 0) {
    inner_del(in, i);
    node_give(m->pool, c);
    return NULL;
  }
  refresh(in, i, h - 1);
  if (r != NULL)
    return inner_insert(m, in, i + 1, r, h - 1, sep);
  if (count_of(c, h - 1) < NODE_MIN && in->n > 1)
    rebalance(m, in, i, h - 1);
  return NULL;
}

static void apply(lt__gpu_map *m, op *o) {
  if (m->root == NULL) {
    assert(o->kind == OP_INSERT);
    m->root = node_take(m->pool);
    m->root->l.n = 0;
    m->height = 0;
  }
  uint64_t sep = 0;
  lt__gpu_bnode *r = apply_rec(m, m->root, m->height, o, &sep);
  if (r != NULL) {
    lt__gpu_bnode *top = node_take(m->pool);
    top->i.n = 0;
    inner_put(&top->i, 0, m->root, m->height);
    inner_put(&top->i, 1, r, m->height);
    m->root = top;
    m->height++;
    return;
  }
  while (m->height > 0 && m->root->i.n == 1) {
    lt__gpu_bnode *old = m->root;
    m->root = old->i.child[0];
    m->height--;
    node_give(m->pool, old);
  }
  if (count_of(m->root, m->height) == 0) {
    node_give(m->pool, m->root);
    m->root = NULL;
    m->height = 0;
  }
}

/* ---- the map operations ---- */

/* The extent with the greatest addr <= addr; 0 when there is none. */
int lt__gpu_map_floor(const lt__gpu_map *m, uint64_t addr, lt__gpu_extent *out) {
  const lt__gpu_bnode *x = m->root;
  if (x == NULL)
    return 0;
  for (int h = m->height; h > 0; h--)
    x = x->i.child[inner_route(&x->i, addr)];
  int j = leaf_floor(&x->l, addr);
  if (j < 0)
    return 0;
  out->addr = x->l.addr[j];
  out->len = x->l.len[j];
  out->state = x->l.fre[j] != 0 ? LT__GPU_FREE : LT__GPU_TAKEN;
  return 1;
}

/* Adds an extent at an address not in the map (reserve first). */
static void map_insert(lt__gpu_map *m, const lt__gpu_extent *e) {
  op o = {.kind = OP_INSERT, .e = *e};
  apply(m, &o);
}

/* Removes the extent starting at addr (which must exist). */
static void map_remove(lt__gpu_map *m, uint64_t addr) {
  op o = {.kind = OP_REMOVE, .e.addr = addr};
  apply(m, &o);
}

/* Overwrites len and state of the extent starting at e->addr. */
static void map_set(lt__gpu_map *m, const lt__gpu_extent *e) {
  op o = {.kind = OP_SET, .e = *e};
  apply(m, &o);
}

/* Turns the head [addr, addr + len) of the free extent starting at addr
 * into a taken extent (reserve one insert first). */
static void map_carve(lt__gpu_map *m, uint64_t addr, uint64_t len) {
  op o = {.kind = OP_CARVE, .e = {addr, len, LT__GPU_TAKEN}};
  apply(m, &o);
}

/* Makes the extent starting at addr free and coalesces it with free
 * neighbours. Neighbours in other leaves cost one more descent each. */
static void map_make_free(lt__gpu_map *m, uint64_t addr) {
  op o = {.kind = OP_FREE, .e.addr = addr};
  apply(m, &o);
  uint64_t a = o.res_addr, len = o.res_len;
  lt__gpu_extent nb;
  if (o.edge_hi && lt__gpu_map_floor(m, a + len, &nb) && nb.addr == a + len &&
      nb.state == LT__GPU_FREE) {
    map_remove(m, nb.addr);
    len += nb.len;
    map_set(m, &(lt__gpu_extent){a, len, LT__GPU_FREE});
  }
  if (o.edge_lo && a > 0 && lt__gpu_map_floor(m, a - 1, &nb) && nb.state == LT__GPU_FREE) {
    map_remove(m, a);
    nb.len += len;
    map_set(m, &nb);
  }
}

/* The lowest free extent with len >= need: one descent by the maxima. */
static int map_first_free(const lt__gpu_map *m, uint64_t need, lt__gpu_extent *out) {
  const lt__gpu_bnode *x = m->root;
  if (x == NULL || maxf_of(x, m->height) < need)
    return 0;
  for (int h = m->height; h > 0; h--) {
    int i = 0;
    while (x->i.maxf[i] < need)
      i++;
    x = x->i.child[i];
  }
  for (int j = 0; j < x->l.n; j++) {
    if (x->l.fre[j] >= need) {
      *out = (lt__gpu_extent){x->l.addr[j], x->l.len[j], LT__GPU_FREE};
      return 1;
    }
  }
  assert(0 && "maxima out of date");
  return 0;
}

static int fits_aligned(uint64_t addr, uint64_t len, uint64_t need, uint64_t align) {
  uint64_t rem = addr & (align - 1), pad = rem != 0 ? align - rem : 0;
  return pad <= len && len - pad >= need;
}

static int first_aligned_rec(const lt__gpu_bnode *x, int h, uint64_t need, uint64_t align,
                             lt__gpu_extent *out) {
  if (h == 0) {
    for (int j = 0; j < x->l.n; j++) {
      if (x->l.fre[j] != 0 && fits_aligned(x->l.addr[j], x->l.len[j], need, align)) {
        *out = (lt__gpu_extent){x->l.addr[j], x->l.len[j], LT__GPU_FREE};
        return 1;
      }
    }
    return 0;
  }
  for (int i = 0; i < x->i.n; i++)
    if (x->i.maxf[i] >= need && first_aligned_rec(x->i.child[i], h - 1, need, align, out))
      return 1;
  return 0;
}

/* The lowest free extent holding len bytes at an align boundary. Visits
 * every subtree with a free extent of at least len: O(n) at worst, which
 * is why placement tries a sure fit by the maxima first. */
static int map_first_free_aligned(const lt__gpu_map *m, uint64_t len, uint64_t align,
                                   lt__gpu_extent *out) {
  if (m->root == NULL)
    return 0;
  return first_aligned_rec(m->root, m->height, len, align, out);
}

/* ---- placement ---- */

/* Sets up a segment as one free extent. Fails only for want of memory. */
int lt__gpu_segment_init(lt__gpu_segment *s, const lt_gpu_segment_desc *d, lt__gpu_pool *pool) {
  memset(s, 0, sizeof(*s));
  s->id = d->id;
  s->kind = d->kind;
  s->size = d->size;
  map_init(&s->map, pool);
  if (d->size == 0)
    return 0;
  int rc = map_reserve(&s->map, 1);
  if (rc != 0)
    return rc;
  map_insert(&s->map, &(lt__gpu_extent){0, d->size, LT__GPU_FREE});
  return 0;
}

/* Frees the segment's map; the shadow is freed separately. */
void lt__gpu_segment_destroy(lt__gpu_segment *s) { map_destroy(&s->map); }

/* The segment with that id, or NULL. */
lt__gpu_segment *lt__gpu_seg(const lt_gpu *g, uint32_t id) {
  if (id == 0 || id > LT__GPU_MAX_SEGMENT || g->seg_index[id] == 0)
    return NULL;
  return &g->segs[g->seg_index[id] - 1];
}

static lt__gpu_bin *bin_for(lt__gpu_segment *s, uint64_t len) {
  return &s->bin[lt__hash64(len / PAGE) & (LT__GPU_BINS - 1)];
}

/* A range out of the quarantine goes to the recycle bin of its size unless
 * that bin serves another size; the oldest range of a full bin, and any
 * range without a bin, becomes free space in the map, coalesced. */
static void recycle(lt__gpu_segment *s, uint64_t addr, uint64_t len) {
  lt__gpu_bin *b = bin_for(s, len);
  if (len % PAGE != 0 || (b->n != 0 && b->len != len)) {
    map_make_free(&s->map, addr);
    return;
  }
  if (b->n == LT__GPU_BIN_DEPTH) {
    map_make_free(&s->map, b->addr[0]);
    memmove(b->addr, b->addr + 1, (LT__GPU_BIN_DEPTH - 1) * sizeof(b->addr[0]));
    b->n--;
  }
  b->len = len;
  b->addr[b->n++] = addr;
}

/* Empties every recycle bin into the map. */
static int flush_bins(lt__gpu_segment *s) {
  int any = 0;
  for (int i = 0; i < LT__GPU_BINS; i++) {
    lt__gpu_bin *b = &s->bin[i];
    for (int k = 0; k < b->n; k++)
      map_make_free(&s->map, b->addr[k]);
    any |= b->n != 0;
    b->n = 0;
  }
  return any;
}

/* The oldest quarantined range leaves: to a recycle bin, or straight into
 * the map when a placement is waiting for the space. */
static void quarantine_pop(lt__gpu_segment *s, int to_map) {
  size_t i = s->q_head;
  s->q_head = (s->q_head + 1) % LT__GPU_QUARANTINE_RING;
  s->q_count--;
  s->q_bytes -= s->q_len[i];
  if (to_map)
    map_make_free(&s->map, s->q_addr[i]);
  else
    recycle(s, s->q_addr[i], s->q_len[i]);
}

/* Appends a released range; the oldest ones leave while there are more
 * than LT__GPU_QUARANTINE_MAX or they hold more than a quarter of the
 * segment. The newest release always stays. */
static void quarantine_push(lt__gpu_segment *s, uint64_t addr, uint64_t len) {
  if (s->q_count == LT__GPU_QUARANTINE_RING)
    quarantine_pop(s, 0);
  size_t i = (s->q_head + s->q_count) % LT__GPU_QUARANTINE_RING;
  s->q_addr[i] = addr;
  s->q_len[i] = len;
  s->q_count++;
  s->q_bytes += len;
  while (s->q_count > 1 && (s->q_count > LT__GPU_QUARANTINE_MAX || s->q_bytes > s->size / 4))
    quarantine_pop(s, 0);
}

/* Every extent starts on a page, so an alignment up to a page always fits
 * and a larger one wastes at most align - PAGE: an extent that long is a
 * sure fit, found in one descent; only when none exists are the shorter
 * ones searched. */
static int find_fit(const lt__gpu_segment *s, uint64_t rs, uint64_t align, lt__gpu_extent *e) {
  uint64_t slack = align - PAGE;
  uint64_t need = rs > UINT64_MAX - slack ? UINT64_MAX : rs + slack;
  if (map_first_free(&s->map, need, e))
    return 1;
  return slack != 0 && map_first_free_aligned(&s->map, rs, align, e);
}

/* Takes [at, at + rs) from the free extent e and records it for owner. */
static void carve(lt_gpu *g, lt__gpu_segment *s, const lt__gpu_extent *e, uint64_t rs,
                  uint64_t align, uint64_t owner, uint64_t *addr) {
  uint64_t rem = e->addr & (align - 1);
  uint64_t at = rem != 0 ? e->addr + (align - rem) : e->addr;
  if (at != e->addr) { /* an alignment gap stays free in front */
    map_set(&s->map, &(lt__gpu_extent){e->addr, at - e->addr, LT__GPU_FREE});
    map_insert(&s->map, &(lt__gpu_extent){at, e->len - (at - e->addr), LT__GPU_FREE});
  }
  map_carve(&s->map, at, rs);
  lt__gpu_shadow_add(g, s->id, at, rs, owner);
  s->used += rs;
  *addr = at;
}

/* A recycled range of exactly rs bytes, if the newest one is aligned. */
static int from_bin(lt__gpu_segment *s, uint64_t rs, uint64_t align, uint64_t *addr) {
  lt__gpu_bin *b = bin_for(s, rs);
  if (b->n == 0 || b->len != rs || (b->addr[b->n - 1] & (align - 1)) != 0)
    return 0;
  *addr = b->addr[--b->n];
  return 1;
}

/* Places in one segment: a recycled range of the same size, else a first
 * fit in the map; the bins, then the quarantined ranges (oldest first), go
 * back into the map only while that is what stands in the way. */
static int place_in(lt_gpu *g, lt__gpu_segment *s, uint64_t rs, uint64_t align, uint64_t owner,
                    uint64_t *addr) {
  if (rs > s->size - s->used)
    return LT_ENOSPACE;
  int rc = map_reserve(&s->map, 2);
  if (rc == 0)
    rc = lt__gpu_shadow_reserve(g);
  if (rc != 0)
    return rc;
  if (from_bin(s, rs, align, addr)) {
    lt__gpu_shadow_add(g, s->id, *addr, rs, owner);
    s->used += rs;
    return 0;
  }
  lt__gpu_extent e;
  int flushed = 0;
  while (!find_fit(s, rs, align, &e)) {
    if (!flushed) {
      flushed = 1;
      if (flush_bins(s))
        continue;
    }
    if (s->q_count == 0)
      return LT_ENOSPACE;
    quarantine_pop(s, 1);
  }
  carve(g, s, &e, rs, align, owner, addr);
  return 0;
}

static int allowed(const lt_gpu *g, uint32_t set, uint32_t id) {
  if (lt__gpu_seg(g, id) == NULL)
    return 0;
  return set == 0 || (set >> (id - 1) & 1u) != 0;
}

static int check_place_args(uint64_t owner, uint64_t *align, uint32_t *segment, uint64_t *addr) {
  if (segment == NULL || addr == NULL || owner == 0)
    return LT_EINVAL;
  if (*align == 0)
    *align = PAGE;
  if ((*align & (*align - 1)) != 0)
    return LT_EINVAL;
  if (*align < PAGE)
    *align = PAGE; /* every placement starts on a page anyway */
  return 0;
}

/* Places owner's range: preferred segment first (when allowed by the set),
 * then the others of the set by ascending id. The range is size rounded up
 * to whole pages (size 0 takes one page); the shadow records all of it for
 * owner. LT_EINVAL for owner 0 or an alignment that is not a power of two,
 * LT_ENOMEM when the map cannot grow. */
int lt_gpu_place(lt_gpu *g, uint32_t segment_set, uint32_t preferred, uint64_t size,
                 uint64_t align, uint64_t owner, uint32_t *segment, uint64_t *addr) {
  LT__GPU_MUTABLE(g);
  int rc = check_place_args(owner, &align, segment, addr);
  if (rc != 0)
    return rc;
  if (g->fail_countdown != 0 && --g->fail_countdown == 0)
    return LT_ENOSPACE;
  if (size > UINT64_MAX - (PAGE - 1))
    return LT_ENOSPACE;
  uint64_t rs = size == 0 ? PAGE : (size + PAGE - 1) & ~(PAGE - 1);
  rc = LT_ENOSPACE;
  for (uint32_t i = 0; i <= LT__GPU_MAX_SEGMENT && rc == LT_ENOSPACE; i++) {
    uint32_t id = i == 0 ? preferred : i;
    if ((i != 0 && id == preferred) || !allowed(g, segment_set, id))
      continue;
    rc = place_in(g, lt__gpu_seg(g, id), rs, align, owner, addr);
    if (rc == 0)
      *segment = id;
  }
  return rc;
}

/* Anything but the start of a placed range is ignored. The extent stays
 * taken in the map until it leaves the quarantine. */
void lt_gpu_release(lt_gpu *g, uint32_t segment, uint64_t addr) {
  LT__GPU_MUTABLE(g);
  lt__gpu_segment *s = lt__gpu_seg(g, segment);
  uint64_t len;
  if (s == NULL || !lt__gpu_shadow_take(g, segment, addr, &len))
    return;
  s->used -= len;
  quarantine_push(s, addr, len);
}

/* Unknown segments read as 0 used, 0 free. Quarantined bytes count as free. */
void lt_gpu_segment_usage(const lt_gpu *g, uint32_t segment, uint64_t *used, uint64_t *free_bytes) {
  LT__GPU_CHECK(g);
  const lt__gpu_segment *s = lt__gpu_seg(g, segment);
  if (used != NULL)
    *used = s != NULL ? s->used : 0;
  if (free_bytes != NULL)
    *free_bytes = s != NULL ? s->size - s->used : 0;
}

/* Makes the nth next placement fail as out of memory (0 disarms), for tests
 * of the callers' error paths; see lifetrace/gpu.h. */
void lt_gpu_fail_nth(lt_gpu *g, unsigned nth) {
  LT__GPU_CHECK(g);
  g->fail_countdown = nth;
}

/* ---- invariants, for tests ---- */

typedef struct walk {
  const lt_gpu *g;
  const lt__gpu_segment *s;
  uint64_t at;   /* where the next extent must start */
  int last_free; /* the previous extent was free */
  uint64_t used, quarantined;
  size_t placed, q_extents, binned, count;
  int ok;
} walk;

static int quarantined(const lt__gpu_segment *s, uint64_t addr, uint64_t len) {
  for (size_t k = 0; k < s->q_count; k++) {
    size_t i = (s->q_head + k) % LT__GPU_QUARANTINE_RING;
    if (s->q_addr[i] == addr)
      return s->q_len[i] == len;
  }
  return 0;
}

static int binned(const lt__gpu_segment *s, uint64_t addr, uint64_t len) {
  for (int i = 0; i < LT__GPU_BINS; i++)
    for (int k = 0; k < s->bin[i].n; k++)
      if (s->bin[i].addr[k] == addr)
        return len == s->bin[i].len;
  return 0;
}

static void walk_extent(walk *w, uint64_t addr, uint64_t len, int st) {
  if (addr != w->at || len == 0 || (st == LT__GPU_FREE && w->last_free))
    w->ok = 0;
  w->at = addr + len;
  w->last_free = st == LT__GPU_FREE;
  w->count++;
  if (st == LT__GPU_FREE)
    return;
  const lt__gpu_rec *r = lt__gpu_shadow_find(w->g, w->s->id, addr);
  if (r != NULL) {
    w->placed++;
    w->used += len;
    if (r->len != len || quarantined(w->s, addr, len) || binned(w->s, addr, len))
      w->ok = 0;
  } else if (quarantined(w->s, addr, len)) {
    w->q_extents++;
    w->quarantined += len;
  } else if (binned(w->s, addr, len)) {
    w->binned++;
  } else {
    w->ok = 0;
  }
}

/* Below the root every node stays at least NODE_MIN / 2 full (a delete may
 * take two entries before the rebalance gives one back), so the tree's
 * memory follows the number of extents. */
static void walk_rec(const lt__gpu_bnode *x, int h, int root, walk *w) {
  if (count_of(x, h) < (root ? 1 : NODE_MIN / 2))
    w->ok = 0;
  if (h == 0) {
    for (int j = 0; j < x->l.n; j++)
      walk_extent(w, x->l.addr[j], x->l.len[j],
                  x->l.fre[j] != 0 ? LT__GPU_FREE : LT__GPU_TAKEN);
    return;
  }
  for (int i = 0; i < x->i.n; i++) {
    const lt__gpu_bnode *c = x->i.child[i];
    if (count_of(c, h - 1) < 1 || x->i.key[i] != min_of(c, h - 1) ||
        x->i.maxf[i] != maxf_of(c, h - 1))
      w->ok = 0;
    walk_rec(c, h - 1, 0, w);
  }
}

static size_t bin_count(const lt__gpu_segment *s) {
  size_t n = 0;
  for (int i = 0; i < LT__GPU_BINS; i++)
    n += (size_t)s->bin[i].n;
  return n;
}

/* Checks that the extents tile each segment, free ones are coalesced, the
 * tree's keys and maxima are exact, every taken extent is either in the
 * shadow, the quarantine or a recycle bin, and the counters agree. */
int lt__gpu_check_invariants(const lt_gpu *g) {
  size_t placed = 0;
  for (size_t i = 0; i < g->nsegs; i++) {
    const lt__gpu_segment *s = &g->segs[i];
    walk w = {.g = g, .s = s, .ok = 1};
    if (s->map.root != NULL)
      walk_rec(s->map.root, s->map.height, 1, &w);
    if (!w.ok || w.at != s->size || w.used != s->used || w.quarantined != s->q_bytes ||
        w.q_extents != s->q_count || w.count != s->map.count || w.binned != bin_count(s))
      return LT_EINTERNAL;
    placed += w.placed;
  }
  return placed == g->sh_count ? 0 : LT_EINTERNAL;
}
