/* The simulated dxgkrnl's oracles: how a finding is made (the one way: object,
 * event, origin, DDI and signature filled in here), and the miniport checks
 * that run around DDI calls — pool problems (double free, writes to freed
 * blocks), leak scopes (P4/P12: driver memory that outlives the object it
 * served), faults in pool memory (special pool, ASan), stale references
 * (M4: driver state pointing at a destroyed allocation). The trace-layer
 * checks of G1-G8 live with the op that applies each rule (dxgkrnl_alloc.c,
 * dxgkrnl_gpu.c, dxgkrnl_teardown.c); docs/replay-engine.md has the index. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asan.h"

#include "dxgkrnl.h"

/* ---- making findings ----------------------------------------------------------------- */

/* Appends the current event to an object's history ring. */
void lt__hist(lt_replay *r, lt__obj *o) {
  if (o == NULL || r->cur == NULL)
    return;
  if (o->hist_n > 0) {
    int last = (o->hist_pos + LT_HIST - 1) % LT_HIST;
    if (o->hist[last].event == r->cur_event)
      return;
  }
  lt_history_entry *h = &o->hist[o->hist_pos];
  h->event = r->cur_event;
  h->op = r->cur->op;
  h->has_origin = r->cur->origin != NULL;
  h->origin_record = h->has_origin ? r->cur->origin->record : 0;
  h->origin_line = h->has_origin ? r->cur->origin->line : 0;
  o->hist_pos = (o->hist_pos + 1) % LT_HIST;
  if (o->hist_n < LT_HIST)
    o->hist_n++;
}

/* The driver's entry point for a DDI named in a finding, so a finding made
 * after the DDI returned (a bad status) still points into the driver. */
static const struct {
  const char *name;
  size_t off;
} ddi_entries[] = {
#define LT_DDI_ENTRY(n) {#n, offsetof(LT_MINIPORT, n)}
    LT_DDI_ENTRY(DxgkDdiStartDevice), LT_DDI_ENTRY(DxgkDdiStopDevice),
    LT_DDI_ENTRY(DxgkDdiCreateDevice), LT_DDI_ENTRY(DxgkDdiDestroyDevice),
    LT_DDI_ENTRY(DxgkDdiCreateContext), LT_DDI_ENTRY(DxgkDdiDestroyContext),
    LT_DDI_ENTRY(DxgkDdiCreateAllocation), LT_DDI_ENTRY(DxgkDdiDestroyAllocation),
    LT_DDI_ENTRY(DxgkDdiOpenAllocation), LT_DDI_ENTRY(DxgkDdiCloseAllocation),
    LT_DDI_ENTRY(DxgkDdiRender), LT_DDI_ENTRY(DxgkDdiSubmitCommand),
    LT_DDI_ENTRY(DxgkDdiInterruptRoutine), LT_DDI_ENTRY(DxgkDdiDpcRoutine),
    LT_DDI_ENTRY(DxgkDdiBuildPagingBuffer), LT_DDI_ENTRY(DxgkDdiSetVidPnSourceAddress),
    LT_DDI_ENTRY(DxgkDdiLock), LT_DDI_ENTRY(DxgkDdiUnlock),
    LT_DDI_ENTRY(DxgkDdiResetFromTimeout), LT_DDI_ENTRY(DxgkDdiRestartFromTimeout),
    LT_DDI_ENTRY(LtEnumReferencedAllocations),
#undef LT_DDI_ENTRY
};

static uintptr_t ddi_entry(const lt_replay *r, const char *name) {
  if (r->mp == NULL || name == NULL)
    return 0;
  for (size_t i = 0; i < sizeof ddi_entries / sizeof ddi_entries[0]; i++)
    if (!strcmp(ddi_entries[i].name, name)) {
      uintptr_t fn;
      memcpy(&fn, (const char *)r->mp + ddi_entries[i].off, sizeof fn);
      return fn;
    }
  return 0;
}

/* The DDI a trace op calls, for a finding made after it returned. */
static const char *op_ddi(const lt_replay *r) {
  static const char *const map[][2] = {
      {"alloc_create", "DxgkDdiCreateAllocation"}, {"alloc_open", "DxgkDdiOpenAllocation"},
      {"alloc_close", "DxgkDdiCloseAllocation"},   {"alloc_destroy", "DxgkDdiDestroyAllocation"},
      {"device_create", "DxgkDdiCreateDevice"},    {"device_destroy", "DxgkDdiDestroyDevice"},
      {"context_create", "DxgkDdiCreateContext"},  {"context_destroy", "DxgkDdiDestroyContext"},
  };
  const char *op = r->cur ? lt_op_name(r->cur->op) : NULL;
  for (size_t i = 0; op && i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(map[i][0], op))
      return map[i][1];
  return NULL;
}

/* Moves a heap address out of a message (into f->address): "0x" and nine
 * or more hex digits is a pointer of this run, never a trace handle's
 * small value, and would make every message of one bug different. */
static void scrub_message(lt_finding *f) {
  char *m = f->message;
  for (char *p = strstr(m, "0x"); p; p = strstr(p, "0x")) {
    size_t n = strspn(p + 2, "0123456789abcdefABCDEF");
    if (n < 9) {
      p += 2;
      continue;
    }
    if (f->address == 0)
      f->address = strtoull(p, NULL, 16);
    static const char word[] = "(address)";
    memmove(p + sizeof word - 1, p + 2 + n, strlen(p + 2 + n) + 1);
    memcpy(p, word, sizeof word - 1);
    p += sizeof word - 1;
  }
}

static int has_driver_frame(const lt_finding *f) {
  lt_frame fr;
  return lt_finding_driver_frame(f, &fr);
}

/* Adds the entry of the DDI a finding names (or the one running, or the one
 * the current op calls) as a one-frame stack. */
static void add_ddi_stack(lt_replay *r, lt_finding *f) {
  uintptr_t fn = ddi_entry(r, f->ddi[0] ? f->ddi : r->cur_ddi ? r->cur_ddi : op_ddi(r));
  if (fn) {
    lt_stack d = {.n = 1, .exact0 = 1, .pc = {fn}};
    lt_finding_add_stack(f, LT_STACK_DDI, &d);
  }
}

/* Gives a miniport finding the stacks that place it in the driver, as far
 * as they are known: a pending fault stack (the access, for a use after
 * free), else the stack of the driver's call that led here, else the entry
 * of the DDI it names (found after the DDI returned). */
static void add_site_stacks(lt_replay *r, lt_finding *f) {
  lt_stack st;
  if (lt_stack_take_fault(&st))
    lt_finding_add_stack(f, f->kind == LT_F_MINIPORT_USE_AFTER_FREE ? LT_STACK_ACCESS
                                                                     : LT_STACK_FAULT, &st);
  if (has_driver_frame(f))
    return;
  lt_stack_capture(&st, 2);
  lt_stack at = st;
  lt_finding_add_stack(f, LT_STACK_AT, &at);
  if (has_driver_frame(f)) /* keep it: it names the driver's call */
    return;
  f->n_stacks -= at.n ? 1 : 0; /* no driver frame in it: not worth its room */
  add_ddi_stack(r, f);
}

/* Records a finding already filled in, adding event, origin, the stacks of a
 * miniport finding (add_site_stacks) and signature. */
void lt__finding_at(lt_replay *r, lt_finding *f) {
  f->layer = lt_finding_kind_layer(f->kind);
  if (lt__kernel(r) && f->layer == LT_LAYER_TRACE)
    return; /* kernel policy refuses what the trace breaks: only driver/GPU findings */
  if (f->layer == LT_LAYER_MINIPORT) {
    scrub_message(f);
    add_site_stacks(r, f);
  }
  f->event = r->cur_event;
  if (r->cur && r->cur->origin) {
    f->has_origin = 1;
    f->origin_record = r->cur->origin->record;
    f->origin_line = r->cur->origin->line;
  }
  if (f->ddi[0] == 0) {
    const char *op = r->cur ? lt_op_name(r->cur->op) : "teardown";
    snprintf(f->ddi, sizeof f->ddi, "%s", r->cur_ddi ? r->cur_ddi : (op ? op : "?"));
  }
  lt_finding_sign(f);
  if (lt_findings_add(&r->findings, f) == 0 && r->opts.on_finding)
    r->opts.on_finding(r->opts.on_finding_data, f);
}

/* Copies what a finding tells about its object: kind and handle, process,
 * where it was created and destroyed, and its history (oldest first). */
void lt__finding_describe(lt_finding *f, const lt__obj *o) {
  f->object = o->type;
  f->handle = o->handle;
  f->pid = o->pid;
  f->created_at = o->created_at;
  f->n_destroyed = o->n_destroyed;
  memcpy(f->destroyed_at, o->destroyed_at, sizeof f->destroyed_at);
  f->n_history = o->hist_n;
  for (int i = 0; i < o->hist_n; i++)
    f->history[i] = o->hist[(o->hist_pos - o->hist_n + i + 2 * LT_HIST) % LT_HIST];
}

/* Starts a finding: the one way every finding of the engine begins (then
 * lt__finding_describe / lt__finding_pool_block fill in what it is about,
 * and lt__finding_at records it). */
void lt__finding_init(lt_finding *f, int kind, int sev) {
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->severity = sev;
  f->created_at = -1;
}

/* Names the pool block a miniport finding is about: its tag (the finding's
 * site, "tag:XXXX"), its size, and the DDI in which it happened. */
void lt__finding_pool_block(lt_finding *f, uint32_t tag, uint64_t bytes, const char *ddi) {
  char t[5];
  lt__tag_text(tag, t);
  f->pool_tag = tag;
  f->bytes = bytes;
  snprintf(f->site, sizeof f->site, "tag:%s", t);
  if (ddi)
    snprintf(f->ddi, sizeof f->ddi, "%s", ddi);
}

/* Starts a finding about object o (may be NULL: then the current event's
 * process), adding the current event to o's history. */
static void begin_about(lt_replay *r, lt_finding *f, int kind, int sev, lt__obj *o) {
  lt__finding_init(f, kind, sev);
  if (o) {
    lt__hist(r, o);
    lt__finding_describe(f, o);
  } else if (r->cur) {
    f->pid = r->cur->pid;
  }
}

/* Records a finding about object o (may be NULL) at the current event. */
void lt__finding(lt_replay *r, int kind, int sev, lt__obj *o, const char *fmt, ...) {
  lt_finding f;
  begin_about(r, &f, kind, sev, o);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f.message, sizeof f.message, fmt, ap);
  va_end(ap);
  lt__finding_at(r, &f);
}

/* Adds to f what the pool knows of the block at addr, when it is one of the
 * driver's: where it was allocated and, when freed, where it was freed. */
static void add_block_stacks(lt_replay *r, lt_finding *f, const void *addr) {
  lt_pool_block_info b;
  int freed = 0;
  if (addr == NULL || !lt_pool_find(r->pool, (uintptr_t)addr, &b, &freed))
    return;
  if (f->address == 0)
    f->address = b.addr;
  lt_finding_add_stack(f, LT_STACK_ALLOCATED, b.allocated);
  if (freed)
    lt_finding_add_stack(f, LT_STACK_FREED, b.freed);
}

/* A DDI's output that fails a check (miniport-bad-status) about object o
 * (may be NULL). `check` names the output contract ("create-outputs",
 * "kept-handle-freed", ...): it is the finding's site ("check:NAME"), so two
 * contracts broken in one DDI sign apart, while the symptoms of one (a NULL
 * or a freed hAllocation) sign together. `block` is the handle concerned:
 * when it is a driver pool block, the finding also carries where it was
 * allocated and freed. The finding is located (and signed) at the DDI's
 * entry, or, with free_is_cause, at the free: the driver freed an object
 * dxgkrnl keeps, and that free is the defect. */
void lt__bad_output(lt_replay *r, lt__obj *o, const char *check, const void *block,
                    int free_is_cause, const char *fmt, ...) {
  lt_finding f;
  begin_about(r, &f, LT_F_MINIPORT_BAD_STATUS, LT_SEV_ERROR, o);
  snprintf(f.site, sizeof f.site, "check:%s", check);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f.message, sizeof f.message, fmt, ap);
  va_end(ap);
  if (!free_is_cause)
    add_ddi_stack(r, &f);
  add_block_stacks(r, &f, block);
  lt__finding_at(r, &f);
}

/* ---- faults in pool memory ---------------------------------------------------------- */

/* The address a crash touched: si_addr of a fault, or, when ASan stopped the
 * driver (a report, then abort with abort_on_error=1), the address of the
 * access ASan reported. 0 when unknown. */
static uintptr_t fault_address(int sig, uintptr_t si_address) {
  if (sig == SIGSEGV || sig == SIGBUS)
    return si_address;
#ifdef LT_ASAN
  if (sig == SIGABRT && __asan_report_present())
    return (uintptr_t)__asan_get_report_address();
#endif
  return 0;
}

/* Fills the owner part of a pool fault finding: the object the block served
 * (its history when the engine still knows it), or the pool itself. */
static void describe_owner(lt_replay *r, lt_finding *f, const lt_pool_block_info *b) {
  lt__obj *o = NULL;
  if (b->owner.object != LT_OBJ_NONE)
    o = lt__lookup(r, b->owner.object, b->owner.handle);
  if (o) {
    lt__finding_describe(f, o);
    return;
  }
  f->object = b->owner.object != LT_OBJ_NONE ? b->owner.object : LT_OBJ_POOL;
  f->handle = b->owner.object != LT_OBJ_NONE ? b->owner.handle : 0;
}

/* Turns a crash inside DDI `ddi` whose address lies in a pool block into a
 * finding about that block: miniport-use-after-free when the block is in
 * quarantine (a special-pool page fault or an ASan report), miniport-crash
 * naming the block when it is live (a special-pool guard page: an overrun).
 * Returns 1 when it recorded a finding, 0 when the address is no pool
 * block's (the caller reports a plain crash). */
int lt__pool_fault(lt_replay *r, const char *ddi, int sig, uintptr_t fault_addr) {
  uintptr_t addr = fault_address(sig, fault_addr);
  lt_pool_block_info b;
  int freed = 0;
  if (addr == 0 || !lt_pool_find(r->pool, addr, &b, &freed) || (sig == SIGABRT && !freed))
    return 0;
  lt_finding f;
  lt__finding_init(&f, freed ? LT_F_MINIPORT_USE_AFTER_FREE : LT_F_MINIPORT_CRASH, LT_SEV_ERROR);
  describe_owner(r, &f, &b);
  lt__finding_pool_block(&f, b.tag, b.size, ddi);
  f.address = b.addr;
  lt_finding_add_stack(&f, LT_STACK_ALLOCATED, b.allocated);
  if (freed)
    lt_finding_add_stack(&f, LT_STACK_FREED, b.freed);
  char tag[5], owner[64];
  lt__tag_text(b.tag, tag);
  if (b.owner.object != LT_OBJ_NONE)
    snprintf(owner, sizeof owner, "%s 0x%llx", lt_object_name(b.owner.object),
             (unsigned long long)b.owner.handle);
  else
    snprintf(owner, sizeof owner, "the adapter");
  long long off = (long long)(addr - b.addr);
  snprintf(f.message, sizeof f.message,
           "%s touched pool block (tag '%s', %zu bytes, made for %s) at offset %lld, %s (%s)",
           ddi, tag, b.size, owner, off,
           freed ? "after it was freed" : "outside its bytes: an overrun into the guard page",
           sig == SIGABRT ? "ASan report on the quarantined block" : "special pool page fault");
  lt__finding_at(r, &f);
  return 1;
}

/* ---- pool and reference checks ------------------------------------------------------ */

/* A pool tag as its four characters (non-printable ones as '?'). */
void lt__tag_text(uint32_t tag, char out[5]) {
  for (int i = 0; i < 4; i++) {
    unsigned char c = (unsigned char)(tag >> (8 * i));
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  out[4] = 0;
}

/* M2, M3 (checked): the pool's problems — a block freed twice or a pointer
 * it never returned (miniport-double-free: a resource released twice, an
 * object the driver did not create freed on an error path), a freed block
 * written (miniport-use-after-free) — each a miniport finding at the event
 * being replayed, attributed to the DDI that made it. */
void lt__pool_problem(void *data, int problem, const lt_pool_block_info *b) {
  lt_replay *r = data;
  if (r->crashed)
    return; /* the driver's state is unknown after a crash */
  lt_finding f;
  lt__finding_init(&f, LT_F_MINIPORT_DOUBLE_FREE, LT_SEV_ERROR);
  f.object = LT_OBJ_POOL;
  f.handle = b->addr;
  lt__finding_pool_block(&f, b->tag, b->size, NULL);
  f.address = b->addr;
  char tag[5];
  lt__tag_text(b->tag, tag);
  const char *ddi = r->cur_ddi ? r->cur_ddi : "?";
  lt_finding_add_stack(&f, LT_STACK_ALLOCATED, b->allocated);
  lt_finding_add_stack(&f, LT_STACK_FREED, b->freed);
  if (problem != LT_POOL_WRITE_AFTER_FREE) { /* the driver is in the free now */
    lt_stack now;
    lt_stack_capture(&now, 1);
    lt_finding_add_stack(&f, problem == LT_POOL_DOUBLE_FREE ? LT_STACK_FREED_AGAIN
                                                            : LT_STACK_AT, &now);
  }
  switch (problem) {
  case LT_POOL_DOUBLE_FREE:
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    snprintf(f.message, sizeof f.message,
             "%s freed a pool block (tag '%s', %zu bytes) that was already freed", ddi,
             tag, b->size);
    break;
  case LT_POOL_BAD_FREE:
    if (b->addr == UINTPTR_MAX / 0xFF * LT_POOL_FREED_FILL) {
      /* The fill of freed blocks: the pointer came out of a freed block, so
       * the defect is the read of freed memory (ASan and the special pool
       * stop at that read; the default pool sees it here). */
      f.kind = LT_F_MINIPORT_USE_AFTER_FREE;
      f.address = 0;
      snprintf(f.message, sizeof f.message,
               "%s freed a pointer (tag '%s') that holds the fill of freed pool blocks "
               "(0x%02X bytes): it was read out of a block the driver had already freed "
               "(--special-pool stops at that read)", ddi, tag, LT_POOL_FREED_FILL);
      break;
    }
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    snprintf(f.message, sizeof f.message,
             "%s freed an address (tag '%s') that is not a pool block the driver allocated",
             ddi, tag);
    break;
  case LT_POOL_TAG_MISMATCH:
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    f.severity = LT_SEV_WARNING;
    snprintf(f.message, sizeof f.message, "%s freed a pool block with tag '%s' (wrong tag)",
             ddi, tag);
    break;
  default:
    f.kind = LT_F_MINIPORT_USE_AFTER_FREE;
    snprintf(f.message, sizeof f.message,
             "a pool block (tag '%s', %zu bytes) was written after it was freed "
             "(detected after %s)",
             tag, b->size, ddi);
    break;
  }
  lt__finding_at(r, &f);
}

/* Leaked blocks, LeakSanitizer's way: a block that another leaked block
 * points into (any aligned word holding an address inside it) is an
 * indirect leak, reachable only through that one; it is reported with the
 * direct leak it hangs from, not on its own — an allocation object that
 * leaks leaks its private data with it, and that is one bug. */
struct leak_blk {
  uintptr_t addr;
  size_t size;
  uint32_t tag;
  uint64_t serial;
  const lt_stack *allocated;
  long root; /* index of the direct leak it hangs from (itself when direct) */
  int pointed; /* another leaked block points into it */
};

struct leak_set {
  struct leak_blk *v;
  size_t n, cap;
  int overflow; /* too many to sort out: every block counts as direct */
};

#define LEAK_FOLD_MAX 4096 /* leaked blocks sorted into direct and indirect */

static void leak_add(struct leak_set *s, const lt_pool_block_info *b) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct leak_blk *v = cap <= LEAK_FOLD_MAX ? lt_realloc(s->v, cap * sizeof *v) : NULL;
    if (v == NULL) {
      s->overflow = 1;
      return;
    }
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = (struct leak_blk){b->addr, b->size, b->tag, b->serial, b->allocated, -1, 0};
}

static void leak_collect(void *data, const lt_pool_block_info *b) { leak_add(data, b); }

static int by_addr(const void *a, const void *b) {
  uintptr_t x = ((const struct leak_blk *)a)->addr, y = ((const struct leak_blk *)b)->addr;
  return (x > y) - (x < y);
}

/* The leaked block whose bytes hold address v, or -1. */
static long leak_holding(const struct leak_set *s, uintptr_t v) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->v[mid].addr + s->v[mid].size <= v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < s->n && s->v[lo].addr <= v && v < s->v[lo].addr + s->v[lo].size ? (long)lo : -1;
}

/* Calls fn(s, ctx, j) for every other leaked block j that block i points
 * into. */
static void leak_edges(struct leak_set *s, size_t i, void (*fn)(struct leak_set *, void *, long),
                       void *ctx) {
  const unsigned char *p = (const unsigned char *)s->v[i].addr;
  for (size_t off = 0; off + sizeof(uintptr_t) <= s->v[i].size; off += sizeof(uintptr_t)) {
    uintptr_t w;
    memcpy(&w, p + off, sizeof w);
    long j = leak_holding(s, w);
    if (j >= 0 && (size_t)j != i)
      fn(s, ctx, j);
  }
}

static void mark_pointed(struct leak_set *s, void *ctx, long j) {
  (void)ctx;
  s->v[j].pointed = 1;
}

struct reach {
  long *stack; /* room for every block: each is pushed once */
  size_t n;
  long root;
};

static void push_unrooted(struct leak_set *s, void *ctx, long j) {
  struct reach *w = ctx;
  if (s->v[j].root >= 0)
    return;
  s->v[j].root = w->root;
  w->stack[w->n++] = j;
}

/* Gives block i, and every block it reaches that has no root yet, the root
 * i (depth first, with an explicit stack). */
static void leak_reach(struct leak_set *s, size_t i, long *stack) {
  struct reach w = {stack, 0, (long)i};
  push_unrooted(s, &w, (long)i);
  while (w.n > 0)
    leak_edges(s, (size_t)w.stack[--w.n], push_unrooted, &w);
}

/* Sorts the set into direct leaks (root == own index) and the indirect ones
 * hanging from them. Blocks that only point at each other (a cycle, a list)
 * get the first allocated of them as their direct leak. */
static void leak_fold(struct leak_set *s) {
  if (s->overflow || s->n < 2) {
    for (size_t i = 0; i < s->n; i++)
      s->v[i].root = (long)i;
    return;
  }
  long *stack = lt_malloc(s->n * sizeof *stack);
  if (stack == NULL) {
    for (size_t i = 0; i < s->n; i++)
      s->v[i].root = (long)i;
    return;
  }
  qsort(s->v, s->n, sizeof *s->v, by_addr);
  for (size_t i = 0; i < s->n; i++)
    leak_edges(s, i, mark_pointed, NULL);
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].root < 0 && !s->v[i].pointed)
      leak_reach(s, i, stack);
  /* What is left only points at itself (a list of leaked objects): the
   * first allocated of each such group is its direct leak. */
  for (;;) {
    long first = -1;
    for (size_t i = 0; i < s->n; i++)
      if (s->v[i].root < 0 && (first < 0 || s->v[i].serial < s->v[first].serial))
        first = (long)i;
    if (first < 0)
      break;
    leak_reach(s, (size_t)first, stack);
  }
  lt_free(stack);
}

struct leak_acc {
  uint32_t tag;
  size_t blocks, bytes;
  uint64_t first_serial;
  uintptr_t first;
  const lt_stack *allocated; /* the first block's */
  size_t in_blocks, in_bytes; /* indirect leaks hanging from these */
  uint32_t in_tags[3];
  int n_in_tags;
};

static void report_leaks(lt_replay *r, struct leak_set *set, int object, uint64_t handle,
                         const char *ddi, const char *what) {
  struct leak_acc acc[8];
  int n = 0;
  leak_fold(set);
  /* Direct leaks by tag, in allocation order of their first block. */
  for (size_t i = 0; i < set->n; i++) {
    struct leak_blk *b = &set->v[i];
    if (b->root != (long)i)
      continue;
    int k = 0;
    while (k < n && acc[k].tag != b->tag)
      k++;
    if (k == n) {
      if (n == 8)
        continue;
      acc[n++] = (struct leak_acc){b->tag, 0, 0, b->serial, b->addr, b->allocated, 0, 0, {0}, 0};
    }
    acc[k].blocks++;
    acc[k].bytes += b->size;
    if (b->serial < acc[k].first_serial) {
      acc[k].first_serial = b->serial;
      acc[k].first = b->addr;
      acc[k].allocated = b->allocated;
    }
  }
  for (size_t i = 0; i < set->n; i++) {
    struct leak_blk *b = &set->v[i];
    if (b->root == (long)i)
      continue;
    int k = 0;
    while (k < n && acc[k].tag != set->v[b->root].tag)
      k++;
    if (k == n)
      continue;
    acc[k].in_blocks++;
    acc[k].in_bytes += b->size;
    int t = 0;
    while (t < acc[k].n_in_tags && acc[k].in_tags[t] != b->tag)
      t++;
    if (t == acc[k].n_in_tags && t < 3)
      acc[k].in_tags[acc[k].n_in_tags++] = b->tag;
  }
  /* In allocation order, so reports do not depend on addresses. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && acc[j].first_serial < acc[j - 1].first_serial; j--) {
      struct leak_acc t = acc[j];
      acc[j] = acc[j - 1];
      acc[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    lt_finding f;
    lt__finding_init(&f, LT_F_MINIPORT_LEAK, LT_SEV_ERROR);
    f.object = object;
    f.handle = handle;
    lt__finding_pool_block(&f, acc[i].tag, acc[i].bytes, ddi ? ddi : "?");
    char tag[5];
    lt__tag_text(acc[i].tag, tag);
    lt__obj *o = object == LT_OBJ_NONE ? NULL : lt__lookup(r, object, handle);
    if (o)
      lt__finding_describe(&f, o);
    f.address = acc[i].first;
    lt_finding_add_stack(&f, LT_STACK_ALLOCATED, acc[i].allocated);
    int len = snprintf(f.message, sizeof f.message,
                       "%zu pool block(s) with tag '%s' (%zu bytes) outlive %s after %s returned",
                       acc[i].blocks, tag, acc[i].bytes, what, f.ddi);
    if (acc[i].in_blocks && len > 0 && (size_t)len < sizeof f.message) {
      char tags[24] = "";
      for (int t = 0; t < acc[i].n_in_tags; t++) {
        char one[5];
        lt__tag_text(acc[i].in_tags[t], one);
        snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s'%s'", t ? ", " : "", one);
      }
      snprintf(f.message + len, sizeof f.message - (size_t)len,
               ", and through them %zu more (%zu bytes, tag%s %s) that only they point to",
               acc[i].in_blocks, acc[i].in_bytes, acc[i].n_in_tags > 1 ? "s" : "", tags);
    }
    lt__finding_at(r, &f);
  }
}

/* M1, M2, M6 (checked): no pool block made for a scope's objects (an
 * allocation's private data, the resource object, a device binding)
 * outlives them: miniport-leak, one per tag of the direct leaks (blocks no
 * other leaked block points to), naming the indirect ones with them. Moves
 * reported blocks to a "reported" scope so each leak is reported once. */
void lt__check_scope(lt_replay *r, const lt__scope *s, const char *ddi) {
  if (r->crashed)
    return;
  if (ddi == NULL) /* between DDIs: name the event that ended the scope */
    ddi = r->cur ? lt_op_name(r->cur->op) : "teardown";
  struct leak_set set = {0};
  if (lt_pool_each_live(r->pool, s->serial, 0, leak_collect, &set) == 0)
    return;
  char what[96];
  snprintf(what, sizeof what, "%s 0x%llx", lt_object_name(s->object),
           (unsigned long long)s->handle);
  report_leaks(r, &set, s->object, s->handle, ddi, what);
  lt_free(set.v);
  lt_pool_owner reported = {LT_OBJ_NONE, 0, r->reported_scope};
  lt_pool_move_scope(r->pool, s->serial, &reported);
}

/* After the adapter stopped: every block not yet reported is a leak. */
void lt__check_adapter_leaks(lt_replay *r);
static void collect_unreported(void *data, const lt_pool_block_info *b) {
  void **d = data;
  lt_replay *r = d[0];
  if (b->owner.scope != r->reported_scope)
    leak_add(d[1], b);
}

/* Reports, after DxgkDdiStopDevice, every pool block not reported yet as a
 * leak of the adapter: what the driver did not free by the end of its life. */
void lt__check_adapter_leaks(lt_replay *r) {
  struct leak_set set = {0};
  void *d[2] = {r, &set};
  lt_pool_each_live(r->pool, 0, 1, collect_unreported, d);
  report_leaks(r, &set, LT_OBJ_NONE, 0, "DxgkDdiStopDevice", "the adapter");
  lt_free(set.v);
}

struct stale_ctx {
  lt_replay *r;
  const char *ddi;
  uint64_t refs;
};

/* The DDI entry of the last event in o's history that gave the driver the
 * allocation in a way it can keep (a DMA packet, the scanout, a lock, a
 * paging buffer): where a stale reference was most likely stored. Nothing
 * when the history holds no such event. */
static void add_stored_stack(lt_replay *r, lt_finding *f, const lt__obj *o) {
  /* A submit's packet is built by Render, or by SubmitCommand in a driver
   * without Render. */
  static const struct {
    int op;
    const char *ddi;
  } givers[] = {{LIFETRACE__OP__SUBMIT, "DxgkDdiRender"},
                {LIFETRACE__OP__SUBMIT, "DxgkDdiSubmitCommand"},
                {LIFETRACE__OP__SCANOUT, "DxgkDdiSetVidPnSourceAddress"},
                {LIFETRACE__OP__LOCK, "DxgkDdiLock"},
                {LIFETRACE__OP__PAGE_IN, "DxgkDdiBuildPagingBuffer"}};
  for (int i = o->hist_n - 1; i >= 0; i--) {
    const lt_history_entry *h = &o->hist[(o->hist_pos - o->hist_n + i + 2 * LT_HIST) % LT_HIST];
    for (size_t k = 0; k < sizeof givers / sizeof givers[0]; k++) {
      uintptr_t fn = h->op == givers[k].op ? ddi_entry(r, givers[k].ddi) : 0;
      if (fn) {
        lt_stack d = {.n = 1, .exact0 = 1, .pc = {fn}};
        lt_finding_add_stack(f, LT_STACK_STORED, &d);
        return;
      }
    }
  }
}

/* LtEnumReferencedAllocations callback: a reference the driver still holds. */
void lt__stale_report(void *data, HANDLE h, const char *where) {
  struct stale_ctx *c = data;
  lt_replay *r = c->r;
  c->refs++;
  lt__alloc *a = h ? lt__u64map_get(&r->kmd_allocs, (uintptr_t)h) : NULL;
  if (h == NULL || (a && !a->kmd_destroyed))
    return;
  if (lt__u64map_get(&r->stale_seen, (uintptr_t)h))
    return;
  if (lt__u64map_put(&r->stale_seen, (uintptr_t)h, (void *)1))
    return;
  lt_finding f;
  lt__finding_init(&f, LT_F_MINIPORT_STALE_REFERENCE, LT_SEV_ERROR);
  f.object = LT_OBJ_ALLOCATION;
  f.handle = (uintptr_t)h;
  if (a) /* a destroyed allocation the engine still remembers */
    lt__finding_describe(&f, &a->o);
  /* The signature names the place in the driver, not the DDI after which
   * the walk ran: the walk is amortized, so that DDI can vary. */
  snprintf(f.ddi, sizeof f.ddi, "LtEnumReferencedAllocations");
  snprintf(f.site, sizeof f.site, "%s", where ? where : "?");
  f.address = (uintptr_t)h;
  lt_stack found;
  lt_stack_capture(&found, 0);
  lt_finding_add_stack(&f, LT_STACK_FOUND, &found);
  if (a)
    add_stored_stack(r, &f, &a->o);
  add_block_stacks(r, &f, h); /* the driver's own allocation object, when it is a pool block */
  snprintf(f.message, sizeof f.message,
           "after %s returned, driver state (%s) still references an allocation%s",
           c->ddi ? c->ddi : "?", f.site,
           a ? " that the driver has already destroyed" : " that is not live");
  lt__finding_at(r, &f);
}

/* The enumeration costs what the driver's state costs to walk, measured in
 * the references it reports (not in time: a replay must find the same thing
 * first on a loaded machine as on an idle one, or one bug signs two ways).
 * It runs after every destroy while a walk is short (at most LT_STALE_REFS
 * references on average), and after one destroy in (refs / LT_STALE_REFS)
 * when it is not: the amortized cost per destroy stays bounded and a stale
 * reference is still found, a few destroys later at worst. force: always
 * run (device destroy, TDR, end). */
#define LT_STALE_REFS 32

/* M4 (checked): after a destroy, asks the driver which allocations its
 * state still references (scanout, queues, caches); one that is not live is
 * a miniport-stale-reference. The walk is amortized when it is costly;
 * force runs it anyway (device destroy, TDR). */
void lt__check_stale(lt_replay *r, const char *ddi, int force) {
  if (r->mp->LtEnumReferencedAllocations == NULL || r->crashed)
    return;
  if (!force && ++r->stale_skip * LT_STALE_REFS < r->stale_cost)
    return;
  r->stale_skip = 0;
  struct stale_ctx c = {r, ddi, 0};
  (void)lt__ddi(r, "LtEnumReferencedAllocations", LT_OBJ_NONE, 0, 0, lt__ddi_enum_referenced_allocations, &c);
  /* Moving average of the walk's length. */
  r->stale_cost = (r->stale_cost * 7 + c.refs) / 8;
}

/* Checks the most recently freed pool blocks for writes after free, naming
 * the DDI that just ran (asynchronous paths: DPC, flip, TDR, teardown). */
void lt__check_recent_frees(lt_replay *r, const char *ddi) {
  if (r->crashed)
    return;
  const char *outer = r->cur_ddi;
  r->cur_ddi = ddi;
  lt_pool_check_recent(r->pool, 8);
  r->cur_ddi = outer;
}
