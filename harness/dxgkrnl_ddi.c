/* The guard around every DDI call and the miniport oracles: crash and
 * deadlock detection, pool attribution, pool problems, leak scopes and stale
 * references (see dxgkrnl.h). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dxgkrnl.h"
#include "kernel_shim.h"

static _Thread_local sigjmp_buf *guard;
static _Thread_local volatile int guard_sig;
static _Thread_local volatile uintptr_t guard_addr; /* si_addr of the fault */

/* Hang watchdog: a thread that interrupts a DDI running longer than the
 * limit (LIFETRACE_DDI_TIMEOUT seconds, default 10; 0 disables). The DDI
 * wrapper publishes which thread is inside a DDI and a sequence number, so
 * the watchdog costs two atomic stores per call. */
static atomic_ulong ddi_seq;
static atomic_int ddi_inside;
static pthread_t ddi_thread;
static unsigned ddi_timeout_s = 10;

static void *watchdog(void *arg) {
  unsigned long seen = 0;
  unsigned stuck = 0;
  for (;;) {
    sleep(1);
    unsigned long seq = atomic_load(&ddi_seq);
    if (!atomic_load(&ddi_inside) || seq != seen) {
      seen = seq;
      stuck = 0;
      continue;
    }
    if (++stuck >= ddi_timeout_s) {
      stuck = 0;
      pthread_kill(ddi_thread, SIGUSR2);
    }
  }
  return NULL;
}

static void start_watchdog(void) {
  const char *env = getenv("LIFETRACE_DDI_TIMEOUT");
  if (env)
    ddi_timeout_s = (unsigned)strtoul(env, NULL, 10);
  if (ddi_timeout_s == 0)
    return;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&t, &attr, watchdog, NULL) != 0)
    ddi_timeout_s = 0;
  pthread_attr_destroy(&attr);
}

static struct sigaction previous[NSIG];

static void on_fault(int sig, siginfo_t *si, void *uc) {
  if (guard) {
    guard_sig = sig;
    guard_addr = si ? (uintptr_t)si->si_addr : 0;
    siglongjmp(*guard, 1);
  }
  if (sig == SIGUSR2)
    return; /* the DDI returned before the watchdog's signal arrived */
  /* Not inside a DDI: whoever handled it before us (a fuzz engine, a
   * sanitizer) or the default action takes it. */
  sigaction(sig, &previous[sig], NULL);
  if ((previous[sig].sa_flags & SA_SIGINFO) && previous[sig].sa_sigaction)
    previous[sig].sa_sigaction(sig, si, uc);
  else
    raise(sig);
}

/* Installs handlers that turn a fault inside a DDI into a miniport-crash
 * finding (outside a DDI the previous handler applies). Called at every
 * replay start; cheap when already installed.
 * LIFETRACE_NO_CRASH_GUARD=1 leaves signals alone (a crash then ends the
 * process, e.g. so that a sanitizer prints its own report). */
void lt__install_crash_handlers(void) {
  const char *off = getenv("LIFETRACE_NO_CRASH_GUARD");
  if (off && *off && *off != '0')
    return;
  static char altstack[64 * 1024];
  static int once;
  if (!once) {
    once = 1;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    start_watchdog();
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction cur;
    /* Someone (a test framework, a fuzz engine) may have replaced ours
     * since the last replay: install again, remembering theirs. */
    if (sigaction(sigs[i], NULL, &cur) == 0 && cur.sa_sigaction != on_fault)
      sigaction(sigs[i], &sa, &previous[sigs[i]]);
  }
}

static const char *sig_name(int sig) {
  switch (sig) {
  case SIGSEGV: return "SIGSEGV (invalid memory access)";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGABRT: return "SIGABRT (assertion or abort)";
  case SIGUSR2: return "hang (the DDI did not return within the watchdog limit)";
  }
  return "signal";
}

/* Calls one DDI: attributes pool blocks to (object, handle, scope), catches
 * a crash (the replay stops: driver state is unknown after it) and a spin
 * lock deadlock. Returns the DDI status, or LT_DDI_CRASHED. */
NTSTATUS lt__ddi(lt_replay *r, const char *name, int object, uint64_t handle, uint64_t scope,
                 lt__ddi_fn fn, void *arg) {
  if (r->crashed)
    return LT_DDI_CRASHED;
  const char *outer = r->cur_ddi;
  r->cur_ddi = name;
  lt_pool_set_owner(r->pool, object, handle, scope);
  sigjmp_buf jb;
  sigjmp_buf *saved = guard;
  volatile NTSTATUS st = LT_DDI_CRASHED;
  /* No signal mask is saved: handlers run with SA_NODEFER, so a longjmp out
   * of one leaves nothing blocked, and saving it would cost a syscall. */
  if (sigsetjmp(jb, 0) == 0) {
    guard = &jb;
    ddi_thread = pthread_self();
    atomic_fetch_add_explicit(&ddi_seq, 1, memory_order_relaxed);
    atomic_store_explicit(&ddi_inside, 1, memory_order_relaxed);
    st = fn(r, arg);
    atomic_store_explicit(&ddi_inside, saved != NULL, memory_order_relaxed);
    guard = saved;
  } else {
    atomic_store_explicit(&ddi_inside, saved != NULL, memory_order_relaxed);
    guard = saved;
    r->crashed = 1;
    lt__obj *o = object == LT_OBJ_NONE ? NULL : lt__lookup(r, object, handle);
    if (!lt__pool_fault(r, name, guard_sig, guard_addr))
      lt__finding(r, LT_F_MINIPORT_CRASH, LT_SEV_ERROR, o, "the miniport %s in %s: %s",
                  guard_sig == SIGUSR2 ? "hung" : "crashed", name, sig_name(guard_sig));
    st = LT_DDI_CRASHED;
  }
  lt__kernel_set_irql(PASSIVE_LEVEL);
  if (st != LT_DDI_CRASHED && lt__kernel_take_deadlock()) {
    r->crashed = 1;
    lt__finding(r, LT_F_MINIPORT_CRASH, LT_SEV_ERROR, NULL,
                "the miniport hung in %s: a spin lock was acquired while already held", name);
    st = LT_DDI_CRASHED;
  }
  r->cur_ddi = outer;
  return st;
}

static void tag_text(uint32_t tag, char out[5]) {
  for (int i = 0; i < 4; i++) {
    unsigned char c = (unsigned char)(tag >> (8 * i));
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  out[4] = 0;
}

/* Pool problem callback: every problem is a miniport finding at the event
 * being replayed, attributed to the DDI that made it. */
void lt__pool_problem(void *data, int problem, const lt_pool_block_info *b) {
  lt_replay *r = data;
  if (r->crashed)
    return; /* the driver's state is unknown after a crash */
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.severity = LT_SEV_ERROR;
  f.created_at = -1;
  f.object = LT_OBJ_POOL;
  f.handle = b->addr;
  f.pool_tag = b->tag;
  f.bytes = b->size;
  char tag[5];
  tag_text(b->tag, tag);
  const char *ddi = r->cur_ddi ? r->cur_ddi : "?";
  switch (problem) {
  case LT_POOL_DOUBLE_FREE:
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    snprintf(f.message, sizeof f.message,
             "%s freed pool block %p (tag '%s', %zu bytes) that was already freed", ddi,
             (void *)b->addr, tag, b->size);
    break;
  case LT_POOL_BAD_FREE:
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    snprintf(f.message, sizeof f.message,
             "%s freed %p (tag '%s'), which is not a pool block the driver allocated", ddi,
             (void *)b->addr, tag);
    break;
  case LT_POOL_TAG_MISMATCH:
    f.kind = LT_F_MINIPORT_DOUBLE_FREE;
    f.severity = LT_SEV_WARNING;
    snprintf(f.message, sizeof f.message, "%s freed pool block %p with tag '%s' (wrong tag)", ddi,
             (void *)b->addr, tag);
    break;
  default:
    f.kind = LT_F_MINIPORT_USE_AFTER_FREE;
    snprintf(f.message, sizeof f.message,
             "pool block %p (tag '%s', %zu bytes) was written after it was freed "
             "(detected after %s)",
             (void *)b->addr, tag, b->size, ddi);
    break;
  }
  snprintf(f.site, sizeof f.site, "tag:%s", tag);
  lt__finding_at(r, &f);
}

struct leak_acc {
  uint32_t tag;
  size_t blocks, bytes;
  uint64_t first;
};

struct leak_scan {
  struct leak_acc acc[8];
  int n;
};

static void leak_collect(void *data, const lt_pool_block_info *b) {
  struct leak_scan *s = data;
  for (int i = 0; i < s->n; i++)
    if (s->acc[i].tag == b->tag) {
      s->acc[i].blocks++;
      s->acc[i].bytes += b->size;
      return;
    }
  if (s->n < 8)
    s->acc[s->n++] = (struct leak_acc){b->tag, 1, b->size, b->addr};
}

static void report_leaks(lt_replay *r, struct leak_scan *scan, int object, uint64_t handle,
                         const char *ddi, const char *what) {
  for (int i = 0; i < scan->n; i++) {
    lt_finding f;
    memset(&f, 0, sizeof f);
    f.kind = LT_F_MINIPORT_LEAK;
    f.severity = LT_SEV_ERROR;
    f.created_at = -1;
    f.object = object;
    f.handle = handle;
    f.pool_tag = scan->acc[i].tag;
    f.bytes = scan->acc[i].bytes;
    char tag[5];
    tag_text(scan->acc[i].tag, tag);
    snprintf(f.site, sizeof f.site, "tag:%s", tag);
    snprintf(f.ddi, sizeof f.ddi, "%s", ddi ? ddi : "?");
    lt__obj *o = object == LT_OBJ_NONE ? NULL : lt__lookup(r, object, handle);
    if (o)
      lt__finding_describe(&f, o);
    snprintf(f.message, sizeof f.message,
             "%zu pool block(s) with tag '%s' (%zu bytes) outlive %s after %s returned",
             scan->acc[i].blocks, tag, scan->acc[i].bytes, what, f.ddi);
    lt__finding_at(r, &f);
  }
}

/* Checks that no pool block made for a scope's objects outlives them; moves
 * reported blocks to a "reported" scope so each leak is reported once. */
void lt__check_scope(lt_replay *r, const lt__scope *s, const char *ddi) {
  if (r->crashed)
    return;
  if (ddi == NULL) /* between DDIs: name the event that ended the scope */
    ddi = r->cur ? lt_op_name(r->cur->op) : "teardown";
  struct leak_scan scan;
  memset(&scan, 0, sizeof scan);
  if (lt_pool_each_live(r->pool, s->serial, 0, leak_collect, &scan) == 0)
    return;
  char what[96];
  snprintf(what, sizeof what, "%s 0x%llx", lt_object_name(s->object),
           (unsigned long long)s->handle);
  report_leaks(r, &scan, s->object, s->handle, ddi, what);
  lt_pool_owner reported = {LT_OBJ_NONE, 0, r->reported_scope};
  lt_pool_move_scope(r->pool, s->serial, &reported);
}

/* After the adapter stopped: every block not yet reported is a leak. */
void lt__check_adapter_leaks(lt_replay *r);
static void collect_unreported(void *data, const lt_pool_block_info *b) {
  void **d = data;
  lt_replay *r = d[0];
  if (b->owner.scope != r->reported_scope)
    leak_collect(d[1], b);
}

void lt__check_adapter_leaks(lt_replay *r) {
  struct leak_scan scan;
  memset(&scan, 0, sizeof scan);
  void *d[2] = {r, &scan};
  lt_pool_each_live(r->pool, 0, 1, collect_unreported, d);
  report_leaks(r, &scan, LT_OBJ_NONE, 0, "DxgkDdiStopDevice", "the adapter");
}

struct stale_ctx {
  lt_replay *r;
  const char *ddi;
  uint64_t refs;
};

static void stale_report(void *data, HANDLE h, const char *where) {
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
  memset(&f, 0, sizeof f);
  f.kind = LT_F_MINIPORT_STALE_REFERENCE;
  f.severity = LT_SEV_ERROR;
  f.created_at = -1;
  f.object = LT_OBJ_ALLOCATION;
  f.handle = (uintptr_t)h;
  if (a) /* a destroyed allocation the engine still remembers */
    lt__finding_describe(&f, &a->o);
  /* The signature names the place in the driver, not the DDI after which
   * the walk ran: the walk is amortized, so that DDI can vary. */
  snprintf(f.ddi, sizeof f.ddi, "LtEnumReferencedAllocations");
  snprintf(f.site, sizeof f.site, "%s", where ? where : "?");
  snprintf(f.message, sizeof f.message,
           "after %s returned, driver state (%s) still references allocation %p%s",
           c->ddi ? c->ddi : "?", f.site, h,
           a ? ", which the driver has already destroyed" : ", which is not a live allocation");
  lt__finding_at(r, &f);
}

/* Asks the driver (when it exports the hook) which allocations its state
 * still references; each that is not live is a stale reference. */
static NTSTATUS ddi_enum_refs(lt_replay *r, void *arg) {
  r->mp->LtEnumReferencedAllocations(r->adapter, stale_report, arg);
  return STATUS_SUCCESS;
}

/* The enumeration costs what the driver's state costs to walk. It runs after
 * every destroy while a walk is cheap (under LT_STALE_NS on average), and
 * after one destroy in (cost / LT_STALE_NS) when it is not: the amortized
 * cost per destroy stays bounded and a stale reference is still found, a few
 * destroys later at worst. force: always run (device destroy, TDR, end). */
#define LT_STALE_NS 150
static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void lt__check_stale(lt_replay *r, const char *ddi, int force) {
  if (r->mp->LtEnumReferencedAllocations == NULL || r->crashed)
    return;
  if (!force && ++r->stale_skip * LT_STALE_NS < r->stale_cost_ns)
    return;
  r->stale_skip = 0;
  struct stale_ctx c = {r, ddi, 0};
  uint64_t t0 = mono_ns();
  (void)lt__ddi(r, "LtEnumReferencedAllocations", LT_OBJ_NONE, 0, 0, ddi_enum_refs, &c);
  uint64_t dt = mono_ns() - t0;
  /* Moving average of the walk's cost. */
  r->stale_cost_ns = (r->stale_cost_ns * 7 + dt) / 8;
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
