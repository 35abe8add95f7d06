/* The tracked kernel pool behind ExAllocatePool2 / ExFreePoolWithTag (see
 * lifetrace/pool.h). Blocks are indexed by address and by scope; freed blocks
 * are poisoned and held in a bounded quarantine so that double frees are
 * recognized and writes after free are detected when the block is checked.
 * Under ASan a quarantined block is also poisoned for ASan, so a read is
 * reported at the access; in special-pool mode each block has pages of its
 * own, made inaccessible while it is in quarantine, so an access faults.
 *
 * An ordinary block is found from the driver's pointer through its header,
 * which sits in front of the driver's bytes: a magic word bound to the
 * address says the header is the pool's. The header is read only on a page
 * that holds at least one of the pool's headers (a count per page, in one
 * array per 16 MB region found through a small map and a last-region
 * cache), so a wild pointer is never dereferenced: a free of an
 * address the pool never gave out is still reported, not a fault. Special-
 * pool blocks (header apart from the bytes) are found through a map. */
#include "lifetrace/pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "asan.h"

#include "lifetrace/driver.h"
#include "lifetrace/finding.h"
#include "lifetrace/wddm.h"
#include "u64map.h"

#define POISON LT_POOL_FREED_FILL
#define QUARANTINE_BLOCKS 512
#define QUARANTINE_BYTES (4u << 20)
#define RECYCLE_MAX_SIZE 512 /* blocks up to this size are recycled ... */
#define RECYCLE_BLOCKS 1024  /* ... and at most this many are kept */

enum { BLOCK_LIVE, BLOCK_FREED };

struct scope_list;

typedef struct pblock {
  uint64_t magic; /* BLOCK_MAGIC ^ mem while the pool holds the block (live or quarantined) */
  lt_pool_block_info info;
  int state;
  /* Special pool: the block's own mapping (data pages, then a guard page),
   * with mem at the end of the data pages; NULL for an ordinary block. */
  unsigned char *map;
  size_t map_len;
  struct scope_list *sl; /* the list it is on (live blocks), so release needs no lookup */
  struct pblock *prev, *next; /* scope list (live blocks) */
  struct pblock *qnext, *qprev; /* quarantine FIFO (freed blocks) */
  struct pblock *prev_all, *next_all; /* every live block (lt_pool.all_head) */
  unsigned char *mem;
  lt_stack alloc_stack, free_stack; /* raw return addresses (lifetrace/stack.h) */
} pblock;

typedef struct scope_list {
  pblock *head, *tail;
  size_t n;
  uint64_t scope; /* its key in by_scope */
  struct scope_list *spare_next; /* on lt_pool.spare */
} scope_list;

/* Headers per page, for pages of one 16 MB region (see page_count). */
#define POOL_PAGE_SHIFT 12
#define REGION_SHIFT 24
#define REGION_PAGES (1u << (REGION_SHIFT - POOL_PAGE_SHIFT))
#define USER_TOP (1ull << 47) /* x86-64 and AArch64 user addresses lie below */
#define BLOCK_MAGIC 0x4c74506f6f6c4862ull

struct lt_pool {
  lt__u64map by_addr;  /* addr -> pblock (special-pool blocks only) */
  lt__u64map regions; /* addr >> REGION_SHIFT -> uint8_t[REGION_PAGES]: headers per page */
  uint64_t last_key;   /* the region page_count found last, and its counts */
  uint8_t *last_pages;
  pblock *all_head, *all_tail; /* live blocks in allocation order (prev_all/next_all) */
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
  int special;      /* special-pool mode (lt_pool_set_special) */
  int asan_poison;  /* quarantined blocks poisoned for ASan (lt_pool_set_asan_poison) */
  size_t page_size;
  lt_pool_problem_cb cb;
  void *cb_data;
};

static _Thread_local lt_pool *current_pool;

#define HDR ((sizeof(pblock) + 15) & ~(size_t)15)

/* The count of the pool's headers on the page of addr: NULL when the table
 * has no such page and create is 0, or when it cannot be grown. */
static uint8_t *page_count(lt_pool *p, uintptr_t addr, int create) {
  uint64_t key = addr >> REGION_SHIFT;
  size_t page = (addr >> POOL_PAGE_SHIFT) & (REGION_PAGES - 1);
  if (p->last_pages != NULL && p->last_key == key)
    return &p->last_pages[page];
  uint8_t *pages = addr < USER_TOP ? lt__u64map_get(&p->regions, key) : NULL;
  if (pages == NULL) {
    if (!create || addr >= USER_TOP || (pages = lt_calloc(REGION_PAGES, sizeof *pages)) == NULL)
      return NULL;
    if (lt__u64map_put(&p->regions, key, pages)) {
      lt_free(pages);
      return NULL;
    }
  }
  p->last_key = key;
  p->last_pages = pages;
  return &pages[page];
}

/* The magic word of the header that would precede addr, read without
 * ASan's checks (a wrong guess reads a redzone or another block's bytes). */
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize_address))
#endif
static uint64_t peek_magic(uintptr_t hdr) {
  return *(const volatile uint64_t *)hdr;
}

/* The pool's block whose bytes start at addr, live or quarantined, or NULL:
 * from its header, read only on a page that holds one of the pool's headers
 * (so the page is mapped); a map for special-pool blocks. */
static pblock *block_of(const lt_pool *p, const void *addr) {
  uintptr_t a = (uintptr_t)addr;
  pblock *b = p->special ? lt__u64map_get(&p->by_addr, a) : NULL;
  if (b != NULL) /* special mode also has ordinary blocks, when a mapping failed */
    return b;
  if ((a & 15) != 0 || a < HDR || a >= USER_TOP)
    return NULL;
  uint8_t *n = page_count((lt_pool *)p, a - HDR, 0);
  if (n == NULL || *n == 0 || peek_magic(a - HDR) != (BLOCK_MAGIC ^ a))
    return NULL;
  return (pblock *)(a - HDR);
}

/* Registers a block the pool holds (special: in the map; ordinary: its
 * header's magic and page count). LT_ENOMEM leaves it unregistered. */
static int block_register(lt_pool *p, pblock *b) {
  if (b->map)
    return lt__u64map_put(&p->by_addr, b->info.addr, b);
  uint8_t *n = page_count(p, (uintptr_t)b, 1);
  if (n == NULL || *n == UINT8_MAX)
    return LT_ENOMEM;
  ++*n;
  b->magic = BLOCK_MAGIC ^ (uintptr_t)b->mem;
  return 0;
}

/* Unregisters a block leaving the pool's hands (recycled or freed). */
static void block_unregister(lt_pool *p, pblock *b) {
  if (b->map) {
    lt__u64map_del(&p->by_addr, b->info.addr);
    return;
  }
  if (b->magic == 0)
    return;
  b->magic = 0;
  --*page_count(p, (uintptr_t)b, 0);
}

static void all_link(lt_pool *p, pblock *b) {
  b->next_all = NULL;
  b->prev_all = p->all_tail;
  if (p->all_tail)
    p->all_tail->next_all = b;
  else
    p->all_head = b;
  p->all_tail = b;
}

static void all_unlink(lt_pool *p, pblock *b) {
  if (b->prev_all)
    b->prev_all->next_all = b->next_all;
  else
    p->all_head = b->next_all;
  if (b->next_all)
    b->next_all->prev_all = b->prev_all;
  else
    p->all_tail = b->prev_all;
  b->prev_all = b->next_all = NULL;
}

/* Creates an empty tracked pool owned by the caller (free with
 * lt_pool_free); LT_ENOMEM when out of memory. See lifetrace/pool.h. */
int lt_pool_new(lt_pool **out) {
  lt_pool *p = lt_calloc(1, sizeof *p);
  if (p == NULL)
    return LT_ENOMEM;
  lt__u64map_init(&p->by_addr);
  lt__u64map_init(&p->by_scope);
  lt__u64map_init(&p->regions);
  *out = p;
  return 0;
}

static void block_destroy(pblock *b) {
  if (b->map) {
    munmap(b->map, b->map_len);
    lt_free(b);
    return;
  }
  if (b->state == BLOCK_FREED) /* may still be poisoned for ASan */
    LT__UNPOISON(b->mem, b->info.size);
  lt_free(b);
}

/* Frees the recycled blocks. */
static void recycled_free(lt_pool *p) {
  for (size_t s = 0; s <= RECYCLE_MAX_SIZE; s++)
    while (p->recycled[s]) {
      pblock *b = p->recycled[s];
      LT__UNPOISON(b, ((sizeof(pblock) + 15) & ~(size_t)15) + (s ? s : 1));
      p->recycled[s] = b->qnext;
      block_destroy(b);
    }
  p->n_recycled = 0;
}

/* Frees the pool with every block still live or in quarantine, without
 * reporting them (the leak oracles have run by then); unsets it as the
 * thread's current pool. NULL is a no-op. See lifetrace/pool.h. */
void lt_pool_free(lt_pool *p) {
  if (p == NULL)
    return;
  recycled_free(p);
  while (p->all_head) {
    pblock *b = p->all_head;
    p->all_head = b->next_all;
    block_destroy(b);
  }
  while (p->qhead) {
    pblock *b = p->qhead;
    p->qhead = b->qnext;
    block_destroy(b);
  }
  for (size_t i = 0; i < p->regions.cap; i++)
    lt_free(p->regions.slots[i].val);
  lt__u64map_reset(&p->regions);
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

/* Sets the callback that receives every bad free, double free, tag mismatch
 * and write after free, so problems become findings; see lifetrace/pool.h. */
void lt_pool_set_problem_cb(lt_pool *p, lt_pool_problem_cb cb, void *data) {
  p->cb = cb;
  p->cb_data = data;
}

/* Makes p the pool that the driver's ExAllocatePool2/ExFreePoolWithTag use
 * on this thread (NULL: none, allocations fail); see lifetrace/pool.h. */
void lt_pool_set_current(lt_pool *p) { current_pool = p; }
/* The pool the kernel shims use on this thread, or NULL; see
 * lifetrace/pool.h. */
lt_pool *lt_pool_current(void) { return current_pool; }

/* Attributes blocks allocated from now on to (object, handle, scope), so a
 * leaked block names the DDI call and object it was made for; see
 * lifetrace/pool.h. */
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
  LT__UNPOISON(b, hdr + (size ? size : 1));
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
  LT__POISON(b, hdr + (size ? size : 1));
}

/* A special-pool block: the header apart, the driver's bytes at the end of
 * pages of their own (16-byte aligned, as ExAllocatePool2 guarantees), an
 * inaccessible guard page after them, so an overrun past the aligned end
 * faults. NULL when the mapping cannot be made (e.g. the process's map
 * count is used up): the caller falls back to an ordinary block, as Driver
 * Verifier does when its special pool is exhausted. */
static pblock *special_block(lt_pool *p, size_t size) {
  size_t ps = p->page_size;
  size_t span = (size + 15) & ~(size_t)15;
  size_t data = span ? (span + ps - 1) / ps * ps : ps;
  pblock *b = lt_malloc(sizeof *b);
  if (b == NULL)
    return NULL;
  void *map = mmap(NULL, data + ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    lt_free(b);
    return NULL;
  }
  if (mprotect((unsigned char *)map + data, ps, PROT_NONE) != 0) {
    munmap(map, data + ps);
    lt_free(b);
    return NULL;
  }
  memset(b, 0, sizeof *b);
  b->map = map;
  b->map_len = data + ps;
  b->mem = (unsigned char *)map + data - span;
  return b;
}

/* Allocates size bytes tagged tag for the driver, attributed to the current
 * owner; the bytes are zeroed, or filled with 0xCD for
 * POOL_FLAG_UNINITIALIZED so reads of uninitialised pool show. NULL when out
 * of memory or when an injected failure fires, as ExAllocatePool2 would. See
 * lifetrace/pool.h. */
void *lt_pool_alloc(lt_pool *p, uint64_t flags, size_t size, uint32_t tag) {
  if (p->fail_countdown && --p->fail_countdown == 0)
    return NULL;
  /* One allocation: the header, then the driver's bytes (16-byte aligned). */
  size_t hdr = (sizeof(pblock) + 15) & ~(size_t)15;
  pblock *b = p->special ? special_block(p, size) : NULL;
  unsigned char *mem = b ? b->mem : NULL;
  if (b == NULL && (b = recycled_take(p, size)) == NULL &&
      (b = lt_malloc(hdr + (size ? size : 1))) == NULL)
    return NULL;
  if (mem == NULL) {
    memset(b, 0, sizeof *b);
    mem = (unsigned char *)b + hdr;
  }
  memset(mem, (flags & POOL_FLAG_UNINITIALIZED) ? 0xCD : 0, size);
  b->mem = mem;
  b->state = BLOCK_LIVE;
  b->info.addr = (uintptr_t)mem;
  b->info.size = size;
  b->info.tag = tag;
  b->info.owner = p->owner;
  b->info.serial = ++p->serial;
  lt_stack_capture(&b->alloc_stack, 0);
  b->free_stack.n = 0;
  b->info.allocated = &b->alloc_stack;
  b->info.freed = &b->free_stack;
  if (block_register(p, b))
    goto fail;
  if (scope_link(p, b)) {
    block_unregister(p, b);
    goto fail;
  }
  all_link(p, b);
  p->live_blocks++;
  p->live_bytes += size;
  return mem;
fail:
  if (b->map)
    munmap(b->map, b->map_len);
  lt_free(b);
  return NULL;
}

static unsigned char poison_ref[4096];

/* Checks a quarantined block's pattern (the harness's own access: ASan's
 * poison is lifted for it and put back). A special-pool block needs no
 * check: its pages are inaccessible, so a write faulted. */
static void check_poison(lt_pool *p, pblock *b) {
  if (b->map)
    return;
  if (poison_ref[0] != POISON)
    memset(poison_ref, POISON, sizeof poison_ref);
  if (p->asan_poison)
    LT__UNPOISON(b->mem, b->info.size);
  for (size_t off = 0; off < b->info.size; off += sizeof poison_ref) {
    size_t n = b->info.size - off < sizeof poison_ref ? b->info.size - off : sizeof poison_ref;
    if (memcmp(b->mem + off, poison_ref, n) != 0) {
      report(p, LT_POOL_WRITE_AFTER_FREE, &b->info);
      memset(b->mem, POISON, b->info.size);
      break;
    }
  }
  if (p->asan_poison)
    LT__POISON(b->mem, b->info.size);
}

/* Puts a freed block into quarantine: ordinary blocks get the pattern (and
 * ASan's poison), special-pool blocks lose access to their pages. */
static void quarantine_seal(lt_pool *p, pblock *b) {
  if (b->map) {
    mprotect(b->map, b->map_len, PROT_NONE);
    return;
  }
  memset(b->mem, POISON, b->info.size);
  if (p->asan_poison)
    LT__POISON(b->mem, b->info.size);
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
  block_unregister(p, b);
  if (b->map) {
    block_destroy(b);
    return;
  }
  LT__UNPOISON(b->mem, b->info.size);
  block_retire(p, b);
}

/* Frees a block as ExFreePoolWithTag does, and reports what the kernel would
 * bugcheck on: an address the pool never gave out (NULL is legal and
 * silent), a double free, a tag other than the allocation's. The freed block
 * stays in quarantine, poisoned, so later writes are found. See
 * lifetrace/pool.h. */
void lt_pool_release(lt_pool *p, void *addr, uint32_t tag) {
  pblock *b = block_of(p, addr);
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
  all_unlink(p, b);
  p->live_blocks--;
  p->live_bytes -= b->info.size;
  lt_stack_capture(&b->free_stack, 0);
  b->state = BLOCK_FREED;
  quarantine_seal(p, b);
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

/* Re-attributes every live block of scope from to owner to, so a leak
 * already reported is not reported again; a block that cannot be relinked
 * for lack of memory stays reachable by address. See lifetrace/pool.h. */
void lt_pool_move_scope(lt_pool *p, uint64_t from, const lt_pool_owner *to) {
  scope_list *s;
  while ((s = scope_get(p, from, 0)) != NULL && from != to->scope) {
    pblock *b = s->head;
    scope_unlink(p, b);
    b->info.owner = *to;
    if (scope_link(p, b)) {
      /* Out of memory: the block stays reachable through its header only. */
      continue;
    }
  }
}

/* Calls fn (may be NULL, to count) for each live block of scope, or of every
 * scope when all_scopes; returns the number of blocks. See lifetrace/pool.h. */
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
  for (pblock *b = p->all_head; b; b = b->next_all, n++) /* in allocation order */
    if (fn)
      fn(data, &b->info);
  return n;
}

/* Whether addr is the start of a block that is live; see lifetrace/pool.h. */
int lt_pool_is_live(const lt_pool *p, const void *addr) {
  pblock *b = block_of(p, addr);
  return b != NULL && b->state == BLOCK_LIVE;
}

/* Whether addr is the start of a block freed and still in quarantine, which
 * is how the stale-reference oracles (M4) recognise a dangling pointer; see
 * lifetrace/pool.h. */
int lt_pool_is_freed(const lt_pool *p, const void *addr) {
  pblock *b = block_of(p, addr);
  return b != NULL && b->state == BLOCK_FREED;
}

/* The number of live blocks; see lifetrace/pool.h. */
size_t lt_pool_live_blocks(const lt_pool *p) { return p->live_blocks; }
/* The bytes held by live blocks; see lifetrace/pool.h. */
size_t lt_pool_live_bytes(const lt_pool *p) { return p->live_bytes; }

/* Checks every quarantined block's poison and reports each write after free
 * through the problem callback; see lifetrace/pool.h. */
void lt_pool_check_quarantine(lt_pool *p) {
  for (pblock *b = p->qhead; b; b = b->qnext)
    check_poison(p, b);
}

/* Checks the poison of only the n most recently freed blocks; see
 * lifetrace/pool.h. */
void lt_pool_check_recent(lt_pool *p, size_t n) {
  /* The quarantine is a FIFO: the newest blocks are at the tail. */
  for (pblock *b = p->qtail; b && n; b = b->qprev, n--)
    check_poison(p, b);
}

/* Makes the nth next driver allocation return NULL (0 disarms), to drive the
 * driver's out-of-memory paths; see lifetrace/pool.h. */
void lt_pool_fail_nth(lt_pool *p, unsigned nth) { p->fail_countdown = nth; }

/* Turns special-pool mode on or off; LT_EBUSY once the pool has allocated,
 * since blocks of both kinds would mix. See lifetrace/pool.h. */
int lt_pool_set_special(lt_pool *p, int on) {
  if (p->serial != 0)
    return LT_EBUSY;
  long ps = sysconf(_SC_PAGESIZE);
  p->page_size = ps > 0 ? (size_t)ps : 4096;
  p->special = on != 0;
  return 0;
}

/* Whether special-pool mode is on; see lifetrace/pool.h. */
int lt_pool_special(const lt_pool *p) { return p->special; }

/* Turns ASan poisoning of quarantined blocks on or off, where the build has
 * ASan; returns whether it is now on. See lifetrace/pool.h. */
int lt_pool_set_asan_poison(lt_pool *p, int on) {
#ifdef LT_ASAN
  p->asan_poison = on != 0;
  return p->asan_poison;
#else
  (void)p;
  (void)on;
  return 0;
#endif
}

/* Whether addr falls in block b: a special-pool block's whole mapping (its
 * page slack and guard page too), an ordinary block's bytes. */
static int block_covers(const pblock *b, uintptr_t addr) {
  if (b->map)
    return addr >= (uintptr_t)b->map && addr - (uintptr_t)b->map < b->map_len;
  return addr >= b->info.addr && addr - b->info.addr < (b->info.size ? b->info.size : 1);
}

/* Finds the block holding addr, live or quarantined, for a crash report; see
 * lifetrace/pool.h. */
int lt_pool_find(const lt_pool *p, uintptr_t addr, lt_pool_block_info *out, int *freed) {
  /* A crash path: a walk of every block, live then quarantined, is cheap
   * enough. */
  for (int q = 0; addr && q < 2; q++)
    for (const pblock *b = q ? p->qhead : p->all_head; b; b = q ? b->qnext : b->next_all) {
      if (!block_covers(b, addr))
        continue;
      *out = b->info;
      *freed = b->state == BLOCK_FREED;
      return 1;
    }
  return 0;
}

/* ---- the kernel routines a driver calls ---------------------------------- */

/* The WDK allocator as the driver sees it: allocates from the thread's
 * current pool, and returns NULL when there is none. See lifetrace/wddm.h. */
PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag) {
  if (current_pool == NULL)
    return NULL;
  return lt_pool_alloc(current_pool, Flags, NumberOfBytes, Tag);
}

/* The WDK free as the driver sees it: releases to the thread's current pool,
 * which checks the address and the tag. See lifetrace/wddm.h. */
void ExFreePoolWithTag(PVOID P, ULONG Tag) {
  if (current_pool != NULL)
    lt_pool_release(current_pool, P, Tag);
}

/* The untagged free: checked against the block's own tag, so only a double
 * or a bad free is a finding. */
void ExFreePool(PVOID P) {
  if (current_pool == NULL)
    return;
  const pblock *b = block_of(current_pool, P);
  lt_pool_release(current_pool, P, b ? b->info.tag : 0);
}

/* ---- a C++ driver's global operator new / delete (lifetrace/driver.h) ------ */

#define POOL_ALIGN 16 /* what every pool block already has */

/* Outside a replay (no current pool) the operators serve the rest of the
 * program: a fuzz target's engine (libFuzzer is C++) shares the binary's
 * global operators with the driver. Those blocks come from the C heap and are
 * remembered here, so delete gives them back there. */
static lt__u64map outside_blocks;

static void *outside_alloc(SIZE_T Size, SIZE_T Alignment) {
  void *p = NULL;
  if (posix_memalign(&p, Alignment > POOL_ALIGN ? Alignment : POOL_ALIGN, Size ? Size : 1))
    return NULL;
  if (lt__u64map_put(&outside_blocks, (uintptr_t)p, p)) {
    free(p);
    return NULL;
  }
  return p;
}

/* What lifetrace's global operator new calls: a block of the current
 * replay's tracked pool with Tag, uninitialised (0xCD) as
 * ExAllocatePoolWithTag's, so a C++ driver's objects get the same leak,
 * double-free and use-after-free checks as its pool blocks. Above 16 bytes
 * of alignment it takes a larger block and returns an aligned address inside
 * it. MayFail FALSE retries once after an injected fault, so a throwing-form
 * new never sees one; outside a replay the C heap serves it. See
 * lifetrace/driver.h. */
void *LtCxxAllocate(SIZE_T Size, SIZE_T Alignment, ULONG Tag, BOOLEAN MayFail) {
  uint64_t flags = POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED;
  if (current_pool == NULL)
    return outside_alloc(Size, Alignment);
  if (Alignment > POOL_ALIGN && Size > (SIZE_T)-1 - Alignment)
    return NULL;
  size_t n = Alignment > POOL_ALIGN ? Size + Alignment : Size;
  unsigned char *b = lt_pool_alloc(current_pool, flags, n, Tag);
  if (b == NULL && !MayFail) /* an injected fault is spent; a real one fails again */
    b = lt_pool_alloc(current_pool, flags, n, Tag);
  if (b == NULL || Alignment <= POOL_ALIGN)
    return b;
  return (void *)(((uintptr_t)b + Alignment - 1) & ~(uintptr_t)(Alignment - 1));
}

/* Frees with the block's own tag, so lifetrace's operator delete (which has
 * no tag) never reports a tag mismatch. An aligned delete may name an address
 * inside its block; any other address must be a block's start, or the pool
 * reports a bad free (a double free, when the block is in quarantine). */
void LtCxxFree(void *P, SIZE_T Alignment) {
  if (P == NULL)
    return;
  if (lt__u64map_get(&outside_blocks, (uintptr_t)P) != NULL) {
    lt__u64map_del(&outside_blocks, (uintptr_t)P);
    free(P);
    return;
  }
  if (current_pool == NULL)
    return;
  pblock *b = block_of(current_pool, P);
  lt_pool_block_info in = {0};
  int freed = 0;
  if (b == NULL && Alignment > POOL_ALIGN &&
      lt_pool_find(current_pool, (uintptr_t)P, &in, &freed)) /* inside an over-aligned block */
    b = block_of(current_pool, (void *)in.addr);
  if (b == NULL) {
    lt_pool_release(current_pool, P, LT_CXX_DEFAULT_POOL_TAG);
    return;
  }
  lt_pool_release(current_pool, (void *)b->info.addr, b->info.tag);
}
