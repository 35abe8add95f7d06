/* The tracked kernel pool behind ExAllocatePool2 / ExFreePoolWithTag (see
 * lifetrace/pool.h). Blocks are indexed by address and by scope; freed blocks
 * are poisoned and held in a bounded quarantine so that double frees are
 * recognized and writes after free are detected when the block is checked. */
#include "lifetrace/pool.h"

#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define LT_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LT_POOL_ASAN 1
#endif
#endif
#ifdef LT_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON_REGION(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON_REGION(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON_REGION(p, n) ((void)(p), (void)(n))
#define UNPOISON_REGION(p, n) ((void)(p), (void)(n))
#endif

#include "lifetrace/finding.h"
#include "lifetrace/wddm.h"
#include "u64map.h"

#define POISON 0xDF
#define QUARANTINE_BLOCKS 512
#define QUARANTINE_BYTES (4u << 20)
#define RECYCLE_MAX_SIZE 512 /* blocks up to this size are recycled ... */
#define RECYCLE_BLOCKS 1024  /* ... and at most this many are kept */

enum { BLOCK_LIVE, BLOCK_FREED };

struct scope_list;

typedef struct pblock {
  lt_pool_block_info info;
  int state;
  struct scope_list *sl; /* the list it is on (live blocks), so release needs no lookup */
  struct pblock *prev, *next; /* scope list (live blocks) */
  struct pblock *qnext, *qprev; /* quarantine FIFO (freed blocks) */
  unsigned char *mem;
} pblock;

typedef struct scope_list {
  pblock *head, *tail;
  size_t n;
  uint64_t scope; /* its key in by_scope */
  struct scope_list *spare_next; /* on lt_pool.spare */
} scope_list;

struct lt_pool {
  lt__u64map by_addr;  /* addr -> pblock (live and quarantined) */
  lt__u64map by_scope; /* scope -> scope_list */
  scope_list *last;    /* the list scope_get found last: a DDI allocates into one scope */
  scope_list *spare;   /* emptied lists kept for the next scope, linked through spare_next */
  size_t n_spare;
  pblock *qhead, *qtail;
  size_t qblocks, qbytes;
  /* Blocks out of the quarantine kept for reuse, by exact size (so ASan's
   * redzones still fit the driver's size), linked through qnext. */
  pblock *recycled[RECYCLE_MAX_SIZE + 1];
  size_t n_recycled;
  size_t live_blocks, live_bytes;
  uint64_t serial;
  lt_pool_owner owner;
  unsigned fail_countdown;
  lt_pool_problem_cb cb;
  void *cb_data;
};

static _Thread_local lt_pool *current_pool;

int lt_pool_new(lt_pool **out) {
  lt_pool *p = lt_calloc(1, sizeof *p);
  if (p == NULL)
    return LT_ENOMEM;
  lt__u64map_init(&p->by_addr);
  lt__u64map_init(&p->by_scope);
  *out = p;
  return 0;
}

static void block_destroy(pblock *b) { lt_free(b); }

/* Frees the recycled blocks. */
static void recycled_free(lt_pool *p) {
  for (size_t s = 0; s <= RECYCLE_MAX_SIZE; s++)
    while (p->recycled[s]) {
      pblock *b = p->recycled[s];
      UNPOISON_REGION(b, ((sizeof(pblock) + 15) & ~(size_t)15) + (s ? s : 1));
      p->recycled[s] = b->qnext;
      block_destroy(b);
    }
  p->n_recycled = 0;
}

void lt_pool_free(lt_pool *p) {
  if (p == NULL)
    return;
  recycled_free(p);
  for (size_t i = 0; i < p->by_addr.cap; i++)
    if (p->by_addr.slots[i].val)
      block_destroy(p->by_addr.slots[i].val);
  for (size_t i = 0; i < p->by_scope.cap; i++)
    lt_free(p->by_scope.slots[i].val);
  while (p->spare) {
    scope_list *s = p->spare;
    p->spare = s->spare_next;
    lt_free(s);
  }
  lt__u64map_reset(&p->by_addr);
  lt__u64map_reset(&p->by_scope);
  if (current_pool == p)
    current_pool = NULL;
  lt_free(p);
}

void lt_pool_set_problem_cb(lt_pool *p, lt_pool_problem_cb cb, void *data) {
  p->cb = cb;
  p->cb_data = data;
}

void lt_pool_set_current(lt_pool *p) { current_pool = p; }
lt_pool *lt_pool_current(void) { return current_pool; }

void lt_pool_set_owner(lt_pool *p, int object, uint64_t handle, uint64_t scope) {
  p->owner.object = object;
  p->owner.handle = handle;
  p->owner.scope = scope;
}

static void report(lt_pool *p, int problem, const lt_pool_block_info *b) {
  if (p->cb)
    p->cb(p->cb_data, problem, b);
}

/* Scopes come and go with every DDI (a list is freed when its last block
 * is), so emptied lists are kept for reuse instead of a malloc/free each. */
static scope_list *scope_list_new(lt_pool *p) {
  scope_list *s = p->spare;
  if (s == NULL)
    return lt_calloc(1, sizeof *s);
  p->spare = s->spare_next;
  p->n_spare--;
  memset(s, 0, sizeof *s);
  return s;
}

static void scope_list_drop(lt_pool *p, scope_list *s) {
  if (s == NULL)
    return;
  if (p->n_spare >= 64) {
    lt_free(s);
    return;
  }
  s->spare_next = p->spare;
  p->spare = s;
  p->n_spare++;
}

static scope_list *scope_get(lt_pool *p, uint64_t scope, int create) {
  if (p->last && p->last->scope == scope)
    return p->last;
  scope_list *s = lt__u64map_get(&p->by_scope, scope);
  if (s || !create) {
    if (s)
      p->last = s;
    return s;
  }
  s = scope_list_new(p);
  if (s == NULL)
    return NULL;
  s->scope = scope;
  if (lt__u64map_put(&p->by_scope, scope, s)) {
    scope_list_drop(p, s);
    return NULL;
  }
  p->last = s;
  return s;
}

static void scope_unlink(lt_pool *p, pblock *b) {
  scope_list *s = b->sl;
  if (s == NULL)
    return;
  if (b->prev)
    b->prev->next = b->next;
  else
    s->head = b->next;
  if (b->next)
    b->next->prev = b->prev;
  else
    s->tail = b->prev;
  b->prev = b->next = NULL;
  b->sl = NULL;
  if (--s->n == 0) {
    if (p->last == s)
      p->last = NULL;
    scope_list_drop(p, lt__u64map_del(&p->by_scope, s->scope));
  }
}

static int scope_link(lt_pool *p, pblock *b) {
  scope_list *s = scope_get(p, b->info.owner.scope, 1);
  if (s == NULL)
    return LT_ENOMEM;
  b->prev = s->tail;
  b->next = NULL;
  if (s->tail)
    s->tail->next = b;
  else
    s->head = b;
  s->tail = b;
  s->n++;
  b->sl = s;
  return 0;
}

/* A block of exactly this size from the recycled ones, or NULL. */
static pblock *recycled_take(lt_pool *p, size_t size) {
  if (size > RECYCLE_MAX_SIZE || p->recycled[size] == NULL)
    return NULL;
  pblock *b = p->recycled[size];
  size_t hdr = (sizeof(pblock) + 15) & ~(size_t)15;
  UNPOISON_REGION(b, hdr + (size ? size : 1));
  p->recycled[size] = b->qnext;
  p->n_recycled--;
  return b;
}

/* Keeps a block that left the quarantine for reuse, or frees it. Malloc and
 * free of the driver's blocks were a large share of a replay. Under ASan the
 * kept block is poisoned, so a driver touching it is still caught. */
static void block_retire(lt_pool *p, pblock *b) {
  size_t size = b->info.size;
  if (size > RECYCLE_MAX_SIZE || p->n_recycled >= RECYCLE_BLOCKS) {
    block_destroy(b);
    return;
  }
  size_t hdr = (sizeof(pblock) + 15) & ~(size_t)15;
  b->qnext = p->recycled[size];
  p->recycled[size] = b;
  p->n_recycled++;
  POISON_REGION(b, hdr + (size ? size : 1));
}

void *lt_pool_alloc(lt_pool *p, uint64_t flags, size_t size, uint32_t tag) {
  if (p->fail_countdown && --p->fail_countdown == 0)
    return NULL;
  /* One allocation: the header, then the driver's bytes (16-byte aligned). */
  size_t hdr = (sizeof(pblock) + 15) & ~(size_t)15;
  pblock *b = recycled_take(p, size);
  if (b == NULL && (b = lt_malloc(hdr + (size ? size : 1))) == NULL)
    return NULL;
  memset(b, 0, sizeof *b);
  unsigned char *mem = (unsigned char *)b + hdr;
  memset(mem, (flags & POOL_FLAG_UNINITIALIZED) ? 0xCD : 0, size);
  b->mem = mem;
  b->state = BLOCK_LIVE;
  b->info.addr = (uintptr_t)mem;
  b->info.size = size;
  b->info.tag = tag;
  b->info.owner = p->owner;
  b->info.serial = ++p->serial;
  if (lt__u64map_put(&p->by_addr, b->info.addr, b))
    goto fail;
  if (scope_link(p, b)) {
    lt__u64map_del(&p->by_addr, b->info.addr);
    goto fail;
  }
  p->live_blocks++;
  p->live_bytes += size;
  return mem;
fail:
  lt_free(b);
  return NULL;
}

static unsigned char poison_ref[4096];

static void check_poison(lt_pool *p, pblock *b) {
  if (poison_ref[0] != POISON)
    memset(poison_ref, POISON, sizeof poison_ref);
  for (size_t off = 0; off < b->info.size; off += sizeof poison_ref) {
    size_t n = b->info.size - off < sizeof poison_ref ? b->info.size - off : sizeof poison_ref;
    if (memcmp(b->mem + off, poison_ref, n) != 0) {
      report(p, LT_POOL_WRITE_AFTER_FREE, &b->info);
      memset(b->mem, POISON, b->info.size);
      return;
    }
  }
}

static void quarantine_evict(lt_pool *p) {
  pblock *b = p->qhead;
  p->qhead = b->qnext;
  if (p->qhead == NULL)
    p->qtail = NULL;
  else
    p->qhead->qprev = NULL;
  p->qblocks--;
  p->qbytes -= b->info.size;
  check_poison(p, b);
  lt__u64map_del(&p->by_addr, b->info.addr);
  block_retire(p, b);
}

void lt_pool_release(lt_pool *p, void *addr, uint32_t tag) {
  pblock *b = lt__u64map_get(&p->by_addr, (uintptr_t)addr);
  if (b == NULL) {
    lt_pool_block_info bad = {.addr = (uintptr_t)addr, .tag = tag, .owner = p->owner};
    if (addr != NULL)
      report(p, LT_POOL_BAD_FREE, &bad);
    return;
  }
  if (b->state == BLOCK_FREED) {
    report(p, LT_POOL_DOUBLE_FREE, &b->info);
    return;
  }
  if (tag != b->info.tag) {
    lt_pool_block_info info = b->info;
    info.tag = tag;
    report(p, LT_POOL_TAG_MISMATCH, &info);
  }
  scope_unlink(p, b);
  p->live_blocks--;
  p->live_bytes -= b->info.size;
  b->state = BLOCK_FREED;
  memset(b->mem, POISON, b->info.size);
  b->qnext = NULL;
  b->qprev = p->qtail;
  if (p->qtail)
    p->qtail->qnext = b;
  else
    p->qhead = b;
  p->qtail = b;
  p->qblocks++;
  p->qbytes += b->info.size;
  while (p->qblocks > QUARANTINE_BLOCKS || (p->qbytes > QUARANTINE_BYTES && p->qblocks > 1))
    quarantine_evict(p);
}

void lt_pool_move_scope(lt_pool *p, uint64_t from, const lt_pool_owner *to) {
  scope_list *s;
  while ((s = scope_get(p, from, 0)) != NULL && from != to->scope) {
    pblock *b = s->head;
    scope_unlink(p, b);
    b->info.owner = *to;
    if (scope_link(p, b)) {
      /* Out of memory: keep the block reachable through by_addr only. */
      continue;
    }
  }
}

size_t lt_pool_each_live(lt_pool *p, uint64_t scope, int all_scopes,
                         void (*fn)(void *data, const lt_pool_block_info *b), void *data) {
  size_t n = 0;
  if (!all_scopes) {
    scope_list *s = scope_get(p, scope, 0);
    for (pblock *b = s ? s->head : NULL; b; b = b->next, n++)
      if (fn)
        fn(data, &b->info);
    return n;
  }
  for (size_t i = 0; i < p->by_addr.cap; i++) {
    pblock *b = p->by_addr.slots[i].val;
    if (b == NULL || b->state != BLOCK_LIVE)
      continue;
    n++;
    if (fn)
      fn(data, &b->info);
  }
  return n;
}

int lt_pool_is_live(const lt_pool *p, const void *addr) {
  pblock *b = lt__u64map_get(&p->by_addr, (uintptr_t)addr);
  return b != NULL && b->state == BLOCK_LIVE;
}

int lt_pool_is_freed(const lt_pool *p, const void *addr) {
  pblock *b = lt__u64map_get(&p->by_addr, (uintptr_t)addr);
  return b != NULL && b->state == BLOCK_FREED;
}

size_t lt_pool_live_blocks(const lt_pool *p) { return p->live_blocks; }
size_t lt_pool_live_bytes(const lt_pool *p) { return p->live_bytes; }

void lt_pool_check_quarantine(lt_pool *p) {
  for (pblock *b = p->qhead; b; b = b->qnext)
    check_poison(p, b);
}

void lt_pool_check_recent(lt_pool *p, size_t n) {
  /* The quarantine is a FIFO: the newest blocks are at the tail. */
  for (pblock *b = p->qtail; b && n; b = b->qprev, n--)
    check_poison(p, b);
}

void lt_pool_fail_nth(lt_pool *p, unsigned nth) { p->fail_countdown = nth; }

/* ---- the kernel routines a driver calls ---------------------------------- */

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag) {
  if (current_pool == NULL)
    return NULL;
  return lt_pool_alloc(current_pool, Flags, NumberOfBytes, Tag);
}

void ExFreePoolWithTag(PVOID P, ULONG Tag) {
  if (current_pool != NULL)
    lt_pool_release(current_pool, P, Tag);
}
