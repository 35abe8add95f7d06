/* The DDI call sites: every call from the simulated dxgkrnl into the
 * miniport goes through lt__ddi, which attributes pool blocks to the object
 * the call serves, catches a crash or a hang (the replay stops: driver state
 * is unknown after it) and a spin-lock deadlock; the one-line adapters below
 * it (lt__ddi_*) are the only places that call a DxgkDdi* entry point. */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
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
    lt_stack_on_signal(uc); /* the faulting stack, for the finding */
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
    lt_stack_prepare(); /* no first use of the unwinder inside a handler */
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

/* Records a miniport finding from a kernel routine or callback (see
 * kernel_sched.h). A fatal one ends the running DDI through its guard, as a
 * crash does (guard_sig 0: already reported). Outside any replay it is
 * printed, and a fatal one aborts. */
void lt__kernel_finding(int kind, int fatal, const char *site, const char *fmt, ...) {
  lt_replay *r = lt__current;
  lt_finding f;
  va_list ap;
  memset(&f, 0, sizeof f);
  va_start(ap, fmt);
  vsnprintf(f.message, sizeof f.message, fmt, ap);
  va_end(ap);
  if (r == NULL) {
    fprintf(stderr, "lifetrace: %s\n", f.message);
    if (fatal)
      abort();
    return;
  }
  f.kind = kind;
  f.severity = LT_SEV_ERROR;
  f.created_at = -1;
  f.pid = r->cur ? r->cur->pid : 0;
  snprintf(f.site, sizeof f.site, "%s", site ? site : "");
  lt__finding_at(r, &f);
  if (fatal && guard) {
    guard_sig = 0;
    guard_addr = 0;
    siglongjmp(*guard, 1);
  }
}

/* Calls one DDI: attributes pool blocks to (object, handle, scope), catches
 * a crash (the replay stops: driver state is unknown after it) and a spin
 * lock deadlock. The outermost DDI ends with a schedule point: the system
 * threads, DPCs and timers it made ready run (their pool blocks belong to
 * the adapter). Returns the DDI status, or LT_DDI_CRASHED. */
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
    if (outer == NULL) {
      lt_pool_set_owner(r->pool, LT_OBJ_NONE, 0, 0);
      lt__kernel_set_irql(PASSIVE_LEVEL);
      lt__kernel_schedule(&r->kernel);
    }
    atomic_store_explicit(&ddi_inside, saved != NULL, memory_order_relaxed);
    guard = saved;
  } else {
    atomic_store_explicit(&ddi_inside, saved != NULL, memory_order_relaxed);
    guard = saved;
    r->crashed = 1;
    lt__kernel_abandon(&r->kernel);
    r->kernel.scheduling = 0;
    lt__obj *o = object == LT_OBJ_NONE ? NULL : lt__lookup(r, object, handle);
    if (guard_sig == 0)
      ; /* a kernel routine already recorded why (NT_ASSERT, a hang, ...) */
    else if (!lt__pool_fault(r, name, guard_sig, guard_addr))
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

/* ---- the call sites: the only calls into the miniport's DDI table ----------------- */
/* Each runs under lt__ddi's guard; arg is the DDI's argument structure
 * unless its comment says otherwise. Adapter-level DDIs get the adapter
 * context StartDevice returned; device- and context-level ones the driver's
 * own handle. */

/* The harness's DMA buffer (Render, BuildPagingBuffer): the driver writes
 * its commands there; nothing reads them. NULL when out of memory. */
static unsigned char *dma_buffer(lt_replay *r) {
  if (r->kernel.dma == NULL)
    r->kernel.dma = lt_calloc(1, LT_KERNEL_DMA_SIZE);
  return r->kernel.dma;
}

/* DxgkDdiStartDevice: arg unused; hands the driver the DXGKRNL_INTERFACE. */
NTSTATUS lt__ddi_start_device(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiStartDevice(&r->iface, &r->adapter);
}

/* DxgkDdiStopDevice: arg unused; the adapter's last DDI. */
NTSTATUS lt__ddi_stop_device(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiStopDevice(r->adapter);
}

/* DxgkDdiCreateDevice: arg is a DXGKARG_CREATEDEVICE (hDevice filled by the
 * caller). Here: pInfo points at a zeroed DXGK_DEVICEINFO the driver may
 * fill (not read back); Pasid 0, hKmdProcess NULL. */
NTSTATUS lt__ddi_create_device(lt_replay *r, void *arg) {
  DXGK_DEVICEINFO info;
  DXGKARG_CREATEDEVICE *cd = arg;
  memset(&info, 0, sizeof info);
  cd->pInfo = &info;
  NTSTATUS st = r->mp->DxgkDdiCreateDevice(r->adapter, arg);
  cd->pInfo = NULL;
  return st;
}

/* DxgkDdiDestroyDevice: arg is the driver's hDevice. */
NTSTATUS lt__ddi_destroy_device(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiDestroyDevice(arg);
}

/* DxgkDdiCreateContext: arg is a struct lt__ctx_call (device, arguments). */
NTSTATUS lt__ddi_create_context(lt_replay *r, void *arg) {
  struct lt__ctx_call *c = arg;
  return r->mp->DxgkDdiCreateContext(c->dev, &c->args);
}

/* DxgkDdiDestroyContext: arg is the driver's hContext. */
NTSTATUS lt__ddi_destroy_context(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiDestroyContext(arg);
}

/* DxgkDdiCreateAllocation: arg is a DXGKARG_CREATEALLOCATION (hResource in/out). */
NTSTATUS lt__ddi_create_allocation(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiCreateAllocation(r->adapter, arg);
}

/* DxgkDdiOpenAllocation: arg is a struct lt__dev_call (device, arguments). */
NTSTATUS lt__ddi_open_allocation(lt_replay *r, void *arg) {
  struct lt__dev_call *c = arg;
  return r->mp->DxgkDdiOpenAllocation(c->dev, c->args);
}

/* DxgkDdiCloseAllocation: arg is a struct lt__dev_call (device, arguments). */
NTSTATUS lt__ddi_close_allocation(lt_replay *r, void *arg) {
  struct lt__dev_call *c = arg;
  return r->mp->DxgkDdiCloseAllocation(c->dev, c->args);
}

/* DxgkDdiDestroyAllocation: arg is a DXGKARG_DESTROYALLOCATION (Flags.DestroyResource,
 * hResource read back afterwards). */
NTSTATUS lt__ddi_destroy_allocation(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiDestroyAllocation(r->adapter, arg);
}

/* DxgkDdiBuildPagingBuffer: arg is a DXGKARG_BUILDPAGINGBUFFER (transfer, eviction
 * notice). Here: the DMA buffer; no private data (size 0). */
NTSTATUS lt__ddi_build_paging_buffer(lt_replay *r, void *arg) {
  DXGKARG_BUILDPAGINGBUFFER *pb = arg;
  pb->pDmaBuffer = dma_buffer(r);
  pb->DmaSize = pb->pDmaBuffer ? LT_KERNEL_DMA_SIZE : 0;
  return r->mp->DxgkDdiBuildPagingBuffer(r->adapter, arg);
}

/* DxgkDdiRender: arg is a struct lt__render_call (context, allocation list
 * and private data filled by the caller). Here: an empty command buffer, the
 * DMA buffer, empty patch lists (WDK fields the harness does not model). */
NTSTATUS lt__ddi_render(lt_replay *r, void *arg) {
  static const UINT no_command;
  static D3DDDI_PATCHLOCATIONLIST patch_in[1], patch_out[1];
  struct lt__render_call *c = arg;
  c->args.pCommand = &no_command;
  c->args.CommandLength = 0;
  c->args.pDmaBuffer = dma_buffer(r);
  c->args.DmaSize = c->args.pDmaBuffer ? LT_KERNEL_DMA_SIZE : 0;
  c->args.pPatchLocationListIn = patch_in;
  c->args.pPatchLocationListOut = patch_out;
  return r->mp->DxgkDdiRender(c->ctx, &c->args);
}

/* DxgkDdiSubmitCommand at DISPATCH_LEVEL: arg is a DXGKARG_SUBMITCOMMAND
 * (hContext, NodeOrdinal, SubmissionFenceId, private data filled by the
 * caller). Here: the DMA buffer's size; its offsets and addresses stay 0. */
NTSTATUS lt__ddi_submit_command(lt_replay *r, void *arg) {
  DXGKARG_SUBMITCOMMAND *sc = arg;
  sc->DmaBufferSize = LT_KERNEL_DMA_SIZE;
  sc->DmaBufferPrivateDataSubmissionEndOffset = sc->DmaBufferPrivateDataSize;
  lt__kernel_set_irql(DISPATCH_LEVEL);
  return r->mp->DxgkDdiSubmitCommand(r->adapter, arg);
}

/* DxgkDdiInterruptRoutine at HIGH_LEVEL, then DxgkDdiDpcRoutine at
 * DISPATCH_LEVEL when the ISR queued it (DxgkCbQueueDpc), or, for a driver
 * that never calls DxgkCbQueueDpc (lifetrace's contract before ABI 2), when
 * the ISR returned TRUE: arg is the ULONG message number. */
NTSTATUS lt__ddi_interrupt_and_dpc(lt_replay *r, void *arg) {
  lt__kstate *k = &r->kernel;
  k->dxgk_dpc_queued = 0;
  k->in_isr = 1;
  lt__kernel_set_irql(HIGH_LEVEL);
  BOOLEAN claimed = r->mp->DxgkDdiInterruptRoutine(r->adapter, *(ULONG *)arg);
  k->in_isr = 0;
  lt__kernel_set_irql(DISPATCH_LEVEL);
  if (k->dxgk_dpc_queued || (claimed && !k->dxgk_dpc_used)) {
    k->dxgk_dpc_queued = 0;
    r->mp->DxgkDdiDpcRoutine(r->adapter);
  }
  return STATUS_SUCCESS;
}

/* A schedule point of its own (lt__ddi ends with it): arg unused. */
NTSTATUS lt__ddi_kernel_schedule(lt_replay *r, void *arg) {
  (void)r;
  (void)arg;
  return STATUS_SUCCESS;
}

/* DxgkDdiLock: arg is a DXGKARG_LOCK. */
NTSTATUS lt__ddi_lock(lt_replay *r, void *arg) { return r->mp->DxgkDdiLock(r->adapter, arg); }

/* DxgkDdiUnlock: arg is a DXGKARG_UNLOCK. */
NTSTATUS lt__ddi_unlock(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiUnlock(r->adapter, arg);
}

/* DxgkDdiSetVidPnSourceAddress: arg is a DXGKARG_SETVIDPNSOURCEADDRESS. */
NTSTATUS lt__ddi_set_vidpn_source_address(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiSetVidPnSourceAddress(r->adapter, arg);
}

/* DxgkDdiResetFromTimeout: arg unused (TDR, first half). */
NTSTATUS lt__ddi_reset_from_timeout(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiResetFromTimeout(r->adapter);
}

/* DxgkDdiRestartFromTimeout: arg unused (TDR, second half). */
NTSTATUS lt__ddi_restart_from_timeout(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiRestartFromTimeout(r->adapter);
}

/* LtEnumReferencedAllocations (the optional introspection hook): arg is the
 * stale-reference walk's context; each allocation the driver's state still
 * references reaches lt__stale_report. */
NTSTATUS lt__ddi_enum_referenced_allocations(lt_replay *r, void *arg) {
  r->mp->LtEnumReferencedAllocations(r->adapter, lt__stale_report, arg);
  return STATUS_SUCCESS;
}
