/* The simulated kernel's schedule: system threads (coroutines on their own
 * stacks), the DPC queue, timers and the virtual clock (kernel_sched.h has
 * why coroutines). Everything runs on the replay's thread, at schedule
 * points the simulated dxgkrnl chooses: after each DDI returns, after the
 * ISR and DPC of a fence completion, and at each trace event when a timer
 * is due. A thread runs until it waits on an object that is not signalled,
 * ends, or the replay's limit of steps is reached (a livelock: a hang). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "dxgkrnl.h"
#include "kernel_sched.h"
#include "kernel_shim.h"

#include "asan.h"
#ifdef LT_ASAN
#define fiber_start(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define fiber_finish(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define fiber_start(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define fiber_finish(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

#define STACK_SIZE (256u * 1024u)
#define GUARD_SIZE 4096u
#define MAX_STEPS 100000 /* thread switches per schedule point before it is a livelock */
/* 2024-01-01 00:00 UTC in 100 ns units since 1601: every replay starts here. */
#define START_TIME 133485408000000000ull

static _Thread_local lt__kstate fallback;
static _Thread_local int fallback_ready;
static ULONG thread_type_marker;
static POBJECT_TYPE thread_type = (POBJECT_TYPE)&thread_type_marker;
POBJECT_TYPE *PsThreadType = &thread_type;

/* The kernel state every routine acts on: the current replay's, or a
 * thread-local fallback (initialised on first use) when a driver runs
 * outside any replay, as unit tests that call DDIs directly do. Never NULL.
 * See kernel_sched.h. */
lt__kstate *lt__kernel_state(void) {
  if (lt__current)
    return &lt__current->kernel;
  if (!fallback_ready) {
    lt__kernel_init(&fallback);
    fallback_ready = 1;
  }
  return &fallback;
}

/* Prepares a replay's kernel state: nothing queued, no thread, and the
 * virtual clock at START_TIME (2024-01-01), so every replay of a trace sees
 * the same times. Allocates nothing; lt__kernel_reset undoes what the replay
 * added. */
void lt__kernel_init(lt__kstate *k) {
  memset(k, 0, sizeof *k);
  k->now = START_TIME;
}

/* Frees every system thread (its stack mapping and object) and the DMA
 * buffer, then initialises k again. Threads that never ended are dropped
 * without running further, and queued DPCs and set timers, which live in the
 * driver's memory, are only forgotten: at replay end no schedule point is
 * left to run them. */
void lt__kernel_reset(lt__kstate *k) {
  struct _KTHREAD *t = k->threads;
  while (t) {
    struct _KTHREAD *next = t->next;
    if (t->map)
      munmap(t->map, t->map_size);
    lt_free(t);
    t = next;
  }
  lt_free(k->dma);
  lt__kernel_init(k);
}

/* Advances the virtual clock by one trace event (LT_KERNEL_TICK, 1 ms): time
 * in the simulated kernel moves with the trace only, so timeouts and timers
 * fire at the same event on every run. */
void lt__kernel_tick(lt__kstate *k) { k->now += LT_KERNEL_TICK; }

/* The earliest due time of the set timers, UINT64_MAX when none is set; an
 * idle wait jumps the virtual clock there. */
uint64_t lt__kernel_next_timer(lt__kstate *k) {
  uint64_t due = UINT64_MAX;
  for (PKTIMER t = k->timers; t; t = t->LtNext)
    if (t->DueTime < due)
      due = t->DueTime;
  return due;
}

/* ---- threads ------------------------------------------------------------------- */

static void thread_main(unsigned hi, unsigned lo) {
  struct _KTHREAD *t = (struct _KTHREAD *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
  lt__kstate *k = lt__kernel_state();
  fiber_finish(NULL, &k->main_bottom, &k->main_size);
  t->start(t->start_context);
  (void)PsTerminateSystemThread(STATUS_SUCCESS);
}

/* Runs thread t until it waits or ends; back in the harness's context. */
static void run_thread(lt__kstate *k, struct _KTHREAD *t) {
  KIRQL saved = KeGetCurrentIrql();
  k->current = t;
  t->state = LT_KTHREAD_RUNNING;
  lt__kernel_set_irql(t->irql);
  fiber_start(&k->main_fake, t->stack, t->stack_size);
  swapcontext(&k->main_uc, &t->uc);
  fiber_finish(k->main_fake, NULL, NULL);
  k->current = NULL;
  lt__kernel_set_irql(saved);
}

/* Switches from the running system thread back to the harness's context (the
 * schedule point that ran it); returns when the schedule runs the thread
 * again. The thread's IRQL is saved for then. exiting: the thread never
 * resumes, so ASan is told to drop its fake stack. Only a system thread may
 * call it (k->current set). */
void lt__kernel_yield(lt__kstate *k, int exiting) {
  struct _KTHREAD *t = k->current;
  t->irql = KeGetCurrentIrql();
  fiber_start(exiting ? NULL : &t->asan_fake, k->main_bottom, k->main_size);
  swapcontext(&t->uc, &k->main_uc);
  fiber_finish(t->asan_fake, &k->main_bottom, &k->main_size);
}

/* After the DDI guard caught a crash in a system thread: marks the thread
 * done (its stack was left mid-call, so it is never resumed) and makes the
 * harness's context current again, telling ASan about the jump from the
 * thread's stack. A no-op when no thread was running. */
void lt__kernel_abandon(lt__kstate *k) {
  if (k->current == NULL)
    return;
  k->current->state = LT_KTHREAD_DONE; /* never resumed: its stack is in an unknown state */
  k->current = NULL;
#ifdef LT_ASAN
  /* The guard jumped from the thread's stack to the harness's: tell ASan. */
  void *fake = NULL;
  __sanitizer_start_switch_fiber(&fake, k->main_bottom, k->main_size);
  __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* The owner identity of the running context, for mutexes: the running system
 * thread, or k itself in the harness's context (DDIs and DPCs), so that a
 * thread never appears to own what a DDI acquired. */
PVOID lt__kernel_self(lt__kstate *k) { return k->current ? (PVOID)k->current : (PVOID)k; }

static int make_stack(struct _KTHREAD *t) {
  t->map_size = STACK_SIZE + GUARD_SIZE;
  t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t->map == MAP_FAILED) {
    t->map = NULL;
    return -1;
  }
  mprotect(t->map, GUARD_SIZE, PROT_NONE); /* a stack overflow faults */
  t->stack = (char *)t->map + GUARD_SIZE;
  t->stack_size = STACK_SIZE;
  return 0;
}

/* Creates a system thread: runnable at the next schedule point, in creation
 * order. */
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                              POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                              PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext) {
  lt__kstate *k = lt__kernel_state();
  struct _KTHREAD *t = NULL;
  if (ThreadHandle == NULL || StartRoutine == NULL)
    return STATUS_INVALID_PARAMETER;
  if ((t = lt_calloc(1, sizeof *t)) == NULL || make_stack(t) || getcontext(&t->uc)) {
    if (t && t->map)
      munmap(t->map, t->map_size);
    lt_free(t);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  t->Header.Type = LT_KOBJ_THREAD;
  t->uc.uc_stack.ss_sp = t->stack;
  t->uc.uc_stack.ss_size = t->stack_size;
  t->uc.uc_link = NULL;
  uintptr_t p = (uintptr_t)t;
  makecontext(&t->uc, (void (*)(void))thread_main, 2, (unsigned)(p >> 32), (unsigned)p);
  t->start = StartRoutine;
  t->start_context = StartContext;
  t->id = ++k->next_id;
  t->handle = (HANDLE)(uintptr_t)(0x80000000u + 4u * t->id);
  t->handle_open = 1;
  t->refs = 1;
  if (k->threads_tail)
    k->threads_tail->next = t;
  else
    k->threads = t;
  k->threads_tail = t;
  *ThreadHandle = t->handle;
  if (ClientId) {
    ClientId->UniqueProcess = (HANDLE)(uintptr_t)4;
    ClientId->UniqueThread = (HANDLE)(uintptr_t)t->id;
  }
  return STATUS_SUCCESS;
}

/* Ends the calling system thread: its object is signalled and it never
 * runs again. */
NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus) {
  lt__kstate *k = lt__kernel_state();
  struct _KTHREAD *t = k->current;
  if (t == NULL) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "PsTerminateSystemThread",
                       "PsTerminateSystemThread(0x%08x) called outside a system thread",
                       (unsigned)ExitStatus);
    return STATUS_INVALID_PARAMETER;
  }
  t->state = LT_KTHREAD_DONE;
  t->Header.SignalState = 1;
  lt__kernel_yield(k, 1);
  return STATUS_SUCCESS; /* not reached: a finished thread is never resumed */
}

/* KeGetCurrentThread: the real one returns the calling thread's KTHREAD; the
 * harness returns the running system thread, or NULL in its own context (a
 * DDI or DPC runs on no thread the driver made). See
 * lifetrace/wdk/lt_kernel.h. */
PKTHREAD KeGetCurrentThread(void) {
  lt__kstate *k = lt__kernel_state();
  return k->current;
}

/* PsGetCurrentThreadId: the real one returns the calling thread's id; here
 * the running system thread's (1, 2, ... in creation order, as its ClientId
 * says), or 0 in the harness's context. See lifetrace/wdk/lt_kernel.h. */
HANDLE PsGetCurrentThreadId(void) {
  lt__kstate *k = lt__kernel_state();
  return (HANDLE)(uintptr_t)(k->current ? k->current->id : 0);
}

/* PsGetCurrentProcessId: the real one returns the calling process's id;
 * every simulated kernel context is the System process, id 4 (the process
 * PsCreateSystemThread's ClientId names). See lifetrace/wdk/lt_kernel.h. */
HANDLE PsGetCurrentProcessId(void) { return (HANDLE)(uintptr_t)4; }

/* KeSetPriorityThread: the real one sets a thread's priority and returns the
 * old one; the harness runs threads in creation order whatever their
 * priority, so nothing changes and 8 (a normal priority) is returned. See
 * lifetrace/wdk/lt_kernel.h. */
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority) {
  (void)Thread;
  (void)Priority;
  return 8; /* priorities do not change the harness's order */
}

static struct _KTHREAD *thread_by_handle(lt__kstate *k, HANDLE h) {
  for (struct _KTHREAD *t = k->threads; t; t = t->next)
    if (t->handle == h && t->handle_open)
      return t;
  return NULL;
}

/* Only thread handles exist in the simulated kernel. */
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                   POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                   PVOID *Object, PVOID HandleInformation) {
  struct _KTHREAD *t = thread_by_handle(lt__kernel_state(), Handle);
  (void)DesiredAccess;
  (void)AccessMode;
  (void)HandleInformation;
  if (Object)
    *Object = NULL;
  if (t == NULL || (ObjectType != NULL && ObjectType != thread_type))
    return STATUS_INVALID_HANDLE;
  t->refs++;
  *Object = t;
  return STATUS_SUCCESS;
}

/* ObfReferenceObject (ObReferenceObject): the real one adds a reference to
 * any kernel object; only thread objects exist here, so it counts one on a
 * thread and returns the new count (0 for NULL). See
 * lifetrace/wdk/lt_kernel.h. */
LONG_PTR ObfReferenceObject(PVOID Object) {
  struct _KTHREAD *t = Object;
  return t ? ++t->refs : 0;
}

/* A thread object outlives its last reference until the replay ends; the
 * count only catches a dereference of an object with none left. */
LONG_PTR ObfDereferenceObject(PVOID Object) {
  struct _KTHREAD *t = Object;
  if (t == NULL || t->refs <= 0) {
    lt__kernel_finding(LT_F_MINIPORT_BAD_STATUS, 0, "ObDereferenceObject",
                       "ObDereferenceObject on an object with no reference left");
    return 0;
  }
  return --t->refs;
}

/* ZwClose (NtClose): the real one closes any kernel handle; only thread
 * handles exist here, so it closes the handle PsCreateSystemThread returned
 * and drops the reference it held. STATUS_INVALID_HANDLE for a handle
 * unknown or already closed. See lifetrace/wdk/lt_kernel.h. */
NTSTATUS ZwClose(HANDLE Handle) {
  struct _KTHREAD *t = thread_by_handle(lt__kernel_state(), Handle);
  if (t == NULL)
    return STATUS_INVALID_HANDLE;
  t->handle_open = 0;
  t->refs--;
  return STATUS_SUCCESS;
}

/* ---- DPCs and timers ------------------------------------------------------------- */

/* KeInitializeDpc: prepares a KDPC for KeInsertQueueDpc with its routine and
 * context, not queued, as the real one. The harness runs queued DPCs at
 * DISPATCH_LEVEL at its schedule points, in queue order. See
 * lifetrace/wdk/lt_kernel.h. */
void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext) {
  memset(Dpc, 0, sizeof *Dpc);
  Dpc->Type = 19; /* DpcObject */
  Dpc->DeferredRoutine = DeferredRoutine;
  Dpc->DeferredContext = DeferredContext;
}

/* KeInitializeThreadedDpc: the real one makes a DPC that usually runs at
 * PASSIVE_LEVEL in a real-time thread; the harness has no such thread and
 * runs it as an ordinary DPC at DISPATCH_LEVEL, which a threaded DPC must
 * tolerate anyway (Windows does the same when threaded DPCs are disabled).
 * See lifetrace/wdk/lt_kernel.h. */
void KeInitializeThreadedDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                             PVOID DeferredContext) {
  KeInitializeDpc(Dpc, DeferredRoutine, DeferredContext);
}

/* Queues a DPC for the next schedule point (FALSE if already queued). */
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2) {
  lt__kstate *k = lt__kernel_state();
  if (Dpc->DpcData != NULL)
    return FALSE;
  Dpc->SystemArgument1 = SystemArgument1;
  Dpc->SystemArgument2 = SystemArgument2;
  Dpc->DpcData = Dpc;
  Dpc->LtNext = NULL;
  if (k->dpc_tail)
    k->dpc_tail->LtNext = Dpc;
  else
    k->dpc_head = Dpc;
  k->dpc_tail = Dpc;
  return TRUE;
}

/* KeRemoveQueueDpc: the real one takes a queued DPC off its processor's
 * queue; here off the one DPC queue. TRUE when it was queued (it will not
 * run), FALSE otherwise. See lifetrace/wdk/lt_kernel.h. */
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc) {
  lt__kstate *k = lt__kernel_state();
  PKDPC prev = NULL;
  for (PKDPC d = k->dpc_head; d; prev = d, d = d->LtNext) {
    if (d != Dpc)
      continue;
    if (prev)
      prev->LtNext = d->LtNext;
    else
      k->dpc_head = d->LtNext;
    if (k->dpc_tail == d)
      k->dpc_tail = prev;
    d->DpcData = NULL;
    return TRUE;
  }
  return FALSE;
}

/* Runs the queued DPCs at DISPATCH_LEVEL; returns how many ran. */
static int run_dpcs(lt__kstate *k) {
  int n = 0;
  while (k->dpc_head) {
    PKDPC d = k->dpc_head;
    k->dpc_head = d->LtNext;
    if (k->dpc_head == NULL)
      k->dpc_tail = NULL;
    d->DpcData = NULL;
    KIRQL saved = KeGetCurrentIrql();
    lt__kernel_set_irql(DISPATCH_LEVEL);
    d->DeferredRoutine(d, d->DeferredContext, d->SystemArgument1, d->SystemArgument2);
    lt__kernel_set_irql(saved);
    n++;
  }
  return n;
}

/* KeFlushQueuedDpcs: the real one returns once every DPC queued on any
 * processor has run; the harness runs the queue itself when called in its
 * own context below DISPATCH_LEVEL. In a system thread it returns at once:
 * the queue runs as soon as the thread yields. See
 * lifetrace/wdk/lt_kernel.h. */
void KeFlushQueuedDpcs(void) {
  lt__kstate *k = lt__kernel_state();
  if (k->current == NULL && KeGetCurrentIrql() < DISPATCH_LEVEL)
    run_dpcs(k);
}

/* KeInitializeTimerEx: makes a notification or synchronization timer, not
 * set and not signalled, as the real one (the type decides whether a
 * satisfied wait resets it). See lifetrace/wdk/lt_kernel.h. */
void KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type) {
  memset(Timer, 0, sizeof *Timer);
  Timer->Header.Type = Type == SynchronizationTimer ? LT_KOBJ_TIMER_SYNC : LT_KOBJ_TIMER_NOTIFY;
}

/* KeInitializeTimer: a notification timer, as the real one. See
 * lifetrace/wdk/lt_kernel.h. */
void KeInitializeTimer(PKTIMER Timer) { KeInitializeTimerEx(Timer, NotificationTimer); }

static BOOLEAN timer_unlink(lt__kstate *k, PKTIMER Timer) {
  for (PKTIMER *pp = &k->timers; *pp; pp = &(*pp)->LtNext)
    if (*pp == Timer) {
      *pp = Timer->LtNext;
      Timer->Inserted = FALSE;
      return TRUE;
    }
  return FALSE;
}

/* Sets a timer: DueTime negative is relative (100 ns units), positive an
 * absolute system time. Returns whether it was already set. */
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc) {
  lt__kstate *k = lt__kernel_state();
  BOOLEAN was = timer_unlink(k, Timer);
  if (DueTime.QuadPart < 0)
    Timer->DueTime = k->now + (uint64_t)(-DueTime.QuadPart);
  else
    Timer->DueTime = (uint64_t)DueTime.QuadPart > k->now ? (uint64_t)DueTime.QuadPart : k->now;
  Timer->Period = Period;
  Timer->Dpc = Dpc;
  Timer->Header.SignalState = 0;
  Timer->Inserted = TRUE;
  Timer->LtNext = k->timers;
  k->timers = Timer;
  return was;
}

/* KeSetTimer: a one-shot KeSetTimerEx (Period 0), as the real one; the timer
 * expires at the first schedule point at or after its due time in virtual
 * time. Returns whether it was already set. See lifetrace/wdk/lt_kernel.h. */
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc) {
  return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

/* KeCancelTimer: the real one takes a set timer out of the system's timer
 * queue; here out of the replay's list. Returns whether it was set; a DPC it
 * already queued still runs, as on Windows. See lifetrace/wdk/lt_kernel.h. */
BOOLEAN KeCancelTimer(PKTIMER Timer) { return timer_unlink(lt__kernel_state(), Timer); }

/* KeReadStateTimer: whether the timer is signalled (it expired since it was
 * last set), as the real one. See lifetrace/wdk/lt_kernel.h. */
BOOLEAN KeReadStateTimer(PKTIMER Timer) { return Timer->Header.SignalState > 0; }

/* Expires the due timers (earliest first): signalled, DPC queued, periodic
 * ones set again. Returns how many expired. */
static int fire_timers(lt__kstate *k) {
  int n = 0;
  for (;;) {
    PKTIMER due = NULL;
    for (PKTIMER t = k->timers; t; t = t->LtNext)
      if (t->DueTime <= k->now && (due == NULL || t->DueTime < due->DueTime))
        due = t;
    if (due == NULL || n > 1000)
      return n;
    timer_unlink(k, due);
    due->Header.SignalState = 1;
    if (due->Dpc)
      KeInsertQueueDpc(due->Dpc, (PVOID)(uintptr_t)(due->DueTime & 0xffffffffu),
                       (PVOID)(uintptr_t)(due->DueTime >> 32));
    if (due->Period > 0) {
      due->DueTime += (uint64_t)due->Period * 10000u;
      due->Inserted = TRUE;
      due->LtNext = k->timers;
      k->timers = due;
    }
    n++;
  }
}

/* ---- the schedule --------------------------------------------------------------- */

static int thread_ready(lt__kstate *k, const struct _KTHREAD *t) {
  if (t->state == LT_KTHREAD_NEW)
    return 1;
  if (t->state != LT_KTHREAD_WAITING)
    return 0;
  return lt__kernel_wait_ready(t) || (t->has_deadline && t->deadline <= k->now);
}

/* Whether a schedule point would run anything: a queued DPC, a due timer or
 * a runnable system thread (new, or waiting on what is now signalled or
 * timed out). lt_replay_event asks it after each tick, so that an event with
 * nothing due costs no guarded call. */
int lt__kernel_has_work(lt__kstate *k) {
  if (k->dpc_head || lt__kernel_next_timer(k) <= k->now)
    return 1;
  for (struct _KTHREAD *t = k->threads; t; t = t->next)
    if (thread_ready(k, t))
      return 1;
  return 0;
}

/* One pass of the schedule: expires due timers, runs the queued DPCs, then
 * each runnable system thread in creation order until it waits or ends, with
 * the DPCs it queued run right after it. Returns how many ran (0: nothing
 * can run now). A wait in a DDI calls it to make progress. */
int lt__kernel_step(lt__kstate *k) {
  int ran = fire_timers(k) + run_dpcs(k);
  for (struct _KTHREAD *t = k->threads; t; t = t->next) {
    if (!thread_ready(k, t))
      continue;
    run_thread(k, t);
    ran++;
    ran += run_dpcs(k); /* what the thread queued runs before the next thread */
  }
  return ran;
}

/* A schedule point: steps until nothing can run. Called in the harness's
 * context inside a DDI guard (after each outermost DDI returns, and at a
 * trace event with work due), so a crash in a thread, DPC or timer is caught
 * as the DDI's. A nested call (from a thread, or a wait inside the schedule)
 * returns at once: the outer point goes on. More than MAX_STEPS passes is a
 * livelock: a fatal miniport-crash finding (a hang). */
void lt__kernel_schedule(lt__kstate *k) {
  if (k->scheduling || k->current)
    return; /* a schedule point inside a schedule point: the outer one goes on */
  k->scheduling = 1;
  for (int steps = 0; lt__kernel_step(k); steps++)
    if (steps == MAX_STEPS) {
      k->scheduling = 0;
      lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "system threads",
                         "system threads and DPCs kept running for %d schedule passes without "
                         "waiting (a livelock)",
                         MAX_STEPS);
    }
  k->scheduling = 0;
}

/* ---- time ---------------------------------------------------------------------------- */

/* KeQuerySystemTime: the real one returns the system time (UTC, 100 ns units
 * since 1601); here the virtual clock, which starts at 2024-01-01 and
 * advances 1 ms per trace event, so every run of a trace sees the same
 * times. See lifetrace/wdk/lt_kernel.h. */
void KeQuerySystemTime(PLARGE_INTEGER CurrentTime) {
  CurrentTime->QuadPart = (LONGLONG)lt__kernel_state()->now;
}

/* KeQuerySystemTimePrecise: the real one is the system time at the
 * performance counter's resolution; the virtual clock is exact already, so
 * it is KeQuerySystemTime. See lifetrace/wdk/lt_kernel.h. */
void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime) { KeQuerySystemTime(CurrentTime); }

/* KeQueryInterruptTime: the real one counts 100 ns units since boot; here
 * since the replay's start (the virtual clock minus START_TIME). See
 * lifetrace/wdk/lt_kernel.h. */
ULONGLONG KeQueryInterruptTime(void) { return lt__kernel_state()->now - START_TIME; }

/* KeQueryTickCount: the real one counts clock ticks since boot; here
 * interrupt time divided by the increment KeQueryTimeIncrement reports, so
 * the two agree. See lifetrace/wdk/lt_kernel.h. */
void KeQueryTickCount(PLARGE_INTEGER TickCount) {
  TickCount->QuadPart = (LONGLONG)(KeQueryInterruptTime() / 156250u);
}

/* KeQueryTimeIncrement: the 100 ns units one clock tick adds, 156250 (15.625
 * ms, Windows' default timer resolution). See lifetrace/wdk/lt_kernel.h. */
ULONG KeQueryTimeIncrement(void) { return 156250; /* 15.625 ms */ }

/* A 10 MHz performance counter on the virtual clock. */
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency) {
  LARGE_INTEGER v;
  if (PerformanceFrequency)
    PerformanceFrequency->QuadPart = 10000000;
  v.QuadPart = (LONGLONG)KeQueryInterruptTime();
  return v;
}

/* KeStallExecutionProcessor: the real one busy-waits the given microseconds
 * without yielding the processor; here the virtual clock advances by them
 * and nothing else runs (no thread, DPC or timer), as nothing else would on
 * that processor. See lifetrace/wdk/lt_kernel.h. */
void KeStallExecutionProcessor(ULONG MicroSeconds) {
  lt__kernel_state()->now += (uint64_t)MicroSeconds * 10u;
}

/* ---- exports ----------------------------------------------------------------------- */
/* Every kernel routine a driver may call, referenced from here so that a
 * binary linking the harness statically carries them all (and, built with
 * ENABLE_EXPORTS, exports them to a dlopen'ed driver) even when lifetrace
 * itself calls none of them. */
__attribute__((used)) const void *const lt__kernel_exports[] = {
    (const void *)ExAllocatePool2, (const void *)ExFreePoolWithTag, (const void *)ExFreePool,
    (const void *)KeInitializeSpinLock, (const void *)KeAcquireSpinLock,
    (const void *)KeReleaseSpinLock, (const void *)KeGetCurrentIrql,
    (const void *)KeAcquireSpinLockRaiseToDpc, (const void *)KeAcquireSpinLockAtDpcLevel,
    (const void *)KeReleaseSpinLockFromDpcLevel, (const void *)KeAcquireInStackQueuedSpinLock,
    (const void *)KeReleaseInStackQueuedSpinLock,
    (const void *)KeAcquireInStackQueuedSpinLockAtDpcLevel,
    (const void *)KeReleaseInStackQueuedSpinLockFromDpcLevel, (const void *)KeRaiseIrql,
    (const void *)KeLowerIrql, (const void *)KeRaiseIrqlToDpcLevel,
    (const void *)KeInitializeEvent, (const void *)KeSetEvent, (const void *)KeResetEvent,
    (const void *)KeClearEvent, (const void *)KeReadStateEvent, (const void *)KeInitializeMutex,
    (const void *)KeReleaseMutex, (const void *)KeReadStateMutex,
    (const void *)KeInitializeSemaphore, (const void *)KeReleaseSemaphore,
    (const void *)KeReadStateSemaphore, (const void *)KeWaitForSingleObject,
    (const void *)KeWaitForMultipleObjects, (const void *)KeDelayExecutionThread,
    (const void *)ExInitializeFastMutex, (const void *)ExAcquireFastMutex,
    (const void *)ExReleaseFastMutex, (const void *)ExTryToAcquireFastMutex,
    (const void *)ExAcquireFastMutexUnsafe, (const void *)ExReleaseFastMutexUnsafe,
    (const void *)KeInitializeDpc, (const void *)KeInitializeThreadedDpc,
    (const void *)KeInsertQueueDpc, (const void *)KeRemoveQueueDpc,
    (const void *)KeFlushQueuedDpcs, (const void *)KeInitializeTimer,
    (const void *)KeInitializeTimerEx, (const void *)KeSetTimer, (const void *)KeSetTimerEx,
    (const void *)KeCancelTimer, (const void *)KeReadStateTimer,
    (const void *)PsCreateSystemThread, (const void *)PsTerminateSystemThread,
    (const void *)KeGetCurrentThread, (const void *)PsGetCurrentThreadId,
    (const void *)PsGetCurrentProcessId, (const void *)KeSetPriorityThread,
    (const void *)ObReferenceObjectByHandle, (const void *)ObfReferenceObject,
    (const void *)ObfDereferenceObject, (const void *)ZwClose, (const void *)&PsThreadType,
    (const void *)KeQuerySystemTime, (const void *)KeQuerySystemTimePrecise,
    (const void *)KeQueryInterruptTime, (const void *)KeQueryTickCount,
    (const void *)KeQueryTimeIncrement, (const void *)KeQueryPerformanceCounter,
    (const void *)KeStallExecutionProcessor, (const void *)DbgPrint, (const void *)DbgPrintEx,
    (const void *)vDbgPrintEx, (const void *)LtWppTrace, (const void *)LtAssertionFailure,
    (const void *)KeBugCheckEx,
};
