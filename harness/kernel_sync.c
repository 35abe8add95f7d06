/* The simulated kernel's dispatcher objects and waits: KEVENT, KMUTEX,
 * KSEMAPHORE, KTIMER and thread objects, FAST_MUTEX, KeWaitFor*Object and
 * KeDelayExecutionThread (lifetrace/wdk/lt_kernel.h).
 *
 * A wait in a system thread suspends the thread until the schedule finds
 * the wait satisfied (or its timeout reached). A wait in the harness's own
 * context (a DDI) runs the schedule itself until the wait is satisfied,
 * moving the virtual clock to the next timer when nothing else can run; a
 * wait that nothing can ever satisfy is a hang, a fatal miniport-crash
 * finding, as is any blocking wait at DISPATCH_LEVEL or above. */
#include <string.h>

#include "dxgkrnl.h"
#include "kernel_sched.h"
#include "kernel_shim.h"

#define MAX_IDLE_JUMPS 100000

/* ---- objects --------------------------------------------------------------------- */

/* KeInitializeEvent: makes a notification event (signalled until reset) or a
 * synchronization event (a satisfied wait resets it) in State, as the real
 * one; the type is kept in the header's Type. See lifetrace/wdk/lt_kernel.h. */
void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State) {
  memset(Event, 0, sizeof *Event);
  Event->Header.Type = Type == SynchronizationEvent ? LT_KOBJ_EVENT_SYNC : LT_KOBJ_EVENT_NOTIFY;
  Event->Header.SignalState = State ? 1 : 0;
}

/* Signals an event; waiters run at the next schedule point. */
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait) {
  (void)Increment;
  (void)Wait;
  LONG old = Event->Header.SignalState;
  Event->Header.SignalState = 1;
  return old;
}

/* KeResetEvent: makes the event not signalled and returns its previous
 * state, as the real one. See lifetrace/wdk/lt_kernel.h. */
LONG KeResetEvent(PRKEVENT Event) {
  LONG old = Event->Header.SignalState;
  Event->Header.SignalState = 0;
  return old;
}

/* KeClearEvent: KeResetEvent without the previous state, as the real one.
 * See lifetrace/wdk/lt_kernel.h. */
void KeClearEvent(PRKEVENT Event) { Event->Header.SignalState = 0; }

/* KeReadStateEvent: the event's state, non-zero when signalled, as the real
 * one. See lifetrace/wdk/lt_kernel.h. */
LONG KeReadStateEvent(PRKEVENT Event) { return Event->Header.SignalState; }

/* KeInitializeMutex: makes a free (signalled) mutex with no owner, as the
 * real one; Level is reserved on Windows and ignored here. See
 * lifetrace/wdk/lt_kernel.h. */
void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level) {
  (void)Level;
  memset(Mutex, 0, sizeof *Mutex);
  Mutex->Header.Type = LT_KOBJ_MUTEX;
  Mutex->Header.SignalState = 1;
}

/* Releases a mutex the caller owns (recursively acquired ones once per
 * acquisition); releasing one it does not own is a fatal finding, as the
 * kernel's STATUS_MUTANT_NOT_OWNED bugcheck. */
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait) {
  lt__kstate *k = lt__kernel_state();
  (void)Wait;
  if (Mutex->Header.Owner != lt__kernel_self(k) || Mutex->Header.Count <= 0) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "KeReleaseMutex",
                       "KeReleaseMutex on a mutex the caller does not own");
    return 0;
  }
  if (--Mutex->Header.Count == 0) {
    Mutex->Header.Owner = NULL;
    Mutex->Header.SignalState = 1;
  }
  return 0;
}

/* KeReadStateMutex: the mutex's signal state, 1 when free and 0 when owned.
 * See lifetrace/wdk/lt_kernel.h. */
LONG KeReadStateMutex(PRKMUTEX Mutex) { return Mutex->Header.SignalState; }

/* KeInitializeSemaphore: makes a semaphore with Count units and a maximum of
 * Limit, as the real one; the limit is kept in the header for
 * KeReleaseSemaphore's check. See lifetrace/wdk/lt_kernel.h. */
void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit) {
  memset(Semaphore, 0, sizeof *Semaphore);
  Semaphore->Header.Type = LT_KOBJ_SEMAPHORE;
  Semaphore->Header.SignalState = Count;
  Semaphore->Header.Count = Limit;
}

/* KeReleaseSemaphore: adds Adjustment units and returns the previous count;
 * waiters run at the next schedule point. Where the real one raises
 * STATUS_SEMAPHORE_LIMIT_EXCEEDED (a count past the limit), or for an
 * Adjustment that is not positive, the harness records a fatal
 * miniport-crash finding. See lifetrace/wdk/lt_kernel.h. */
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment,
                        BOOLEAN Wait) {
  (void)Increment;
  (void)Wait;
  LONG old = Semaphore->Header.SignalState;
  if (Adjustment <= 0 || old + Adjustment > Semaphore->Header.Count) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "KeReleaseSemaphore",
                       "KeReleaseSemaphore beyond the semaphore's limit %d (count %d + %d)",
                       (int)Semaphore->Header.Count, (int)old, (int)Adjustment);
    return old;
  }
  Semaphore->Header.SignalState = old + Adjustment;
  return old;
}

/* KeReadStateSemaphore: the semaphore's count, non-zero when signalled, as
 * the real one. See lifetrace/wdk/lt_kernel.h. */
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore) { return Semaphore->Header.SignalState; }

/* ---- waits ------------------------------------------------------------------------ */

static int known_type(LONG type) {
  return type >= LT_KOBJ_EVENT_NOTIFY && type <= LT_KOBJ_FAST_MUTEX;
}

static int signalled(const DISPATCHER_HEADER *h, PVOID self) {
  if (h->Type == LT_KOBJ_MUTEX)
    return h->SignalState > 0 || h->Owner == self;
  return h->SignalState > 0;
}

/* Takes what a satisfied wait takes: an auto-reset event or timer resets, a
 * mutex gains an owner, a semaphore a unit. */
static void acquire(DISPATCHER_HEADER *h, PVOID self) {
  switch (h->Type) {
  case LT_KOBJ_EVENT_SYNC:
  case LT_KOBJ_TIMER_SYNC: h->SignalState = 0; break;
  case LT_KOBJ_SEMAPHORE: h->SignalState--; break;
  case LT_KOBJ_MUTEX:
  case LT_KOBJ_FAST_MUTEX:
    h->Owner = self;
    h->Count++;
    h->SignalState = 0;
    break;
  default: break;
  }
}

/* Index of the object that satisfies the wait (WaitAll: 0 when all are
 * signalled), or -1. */
static int satisfied_by(ULONG n, PVOID const *objs, WAIT_TYPE type, PVOID self) {
  if (n == 0)
    return -1;
  for (ULONG i = 0; i < n; i++) {
    int s = signalled((const DISPATCHER_HEADER *)objs[i], self);
    if (type == WaitAny && s)
      return (int)i;
    if (type == WaitAll && !s)
      return -1;
  }
  return type == WaitAll ? 0 : -1;
}

/* Whether the wait system thread t is blocked in is satisfied now, seen from
 * t (a mutex it owns counts as signalled), without taking anything: the
 * scheduler uses it to pick runnable threads, and the thread takes the
 * objects itself when it runs. A thread waiting on no object (a delay) is
 * never ready by this test; its deadline is checked apart. See
 * kernel_sched.h. */
int lt__kernel_wait_ready(const struct _KTHREAD *t) {
  return satisfied_by(t->wait_n, t->wait_objs, t->wait_type, (PVOID)t) >= 0;
}

static NTSTATUS take(ULONG n, PVOID const *objs, WAIT_TYPE type, int i, PVOID self) {
  if (type == WaitAny) {
    acquire((DISPATCHER_HEADER *)objs[i], self);
    return STATUS_WAIT_0 + i;
  }
  for (ULONG j = 0; j < n; j++)
    acquire((DISPATCHER_HEADER *)objs[j], self);
  return STATUS_WAIT_0;
}

/* The absolute virtual deadline of a timeout (NULL: none). */
static int deadline_of(lt__kstate *k, const LARGE_INTEGER *Timeout, uint64_t *deadline) {
  if (Timeout == NULL)
    return 0;
  if (Timeout->QuadPart < 0)
    *deadline = k->now + (uint64_t)(-Timeout->QuadPart);
  else
    *deadline = (uint64_t)Timeout->QuadPart;
  return 1;
}

/* A wait in a system thread: suspend until satisfied or timed out. */
static NTSTATUS wait_in_thread(lt__kstate *k, ULONG n, PVOID *objs, WAIT_TYPE type,
                               int has_deadline, uint64_t deadline) {
  struct _KTHREAD *t = k->current;
  t->wait_n = n;
  memcpy(t->wait_objs, objs, n * sizeof objs[0]);
  t->wait_type = type;
  t->has_deadline = has_deadline;
  t->deadline = deadline;
  for (;;) {
    int i = satisfied_by(n, objs, type, t);
    if (i >= 0) {
      t->wait_n = 0;
      return take(n, objs, type, i, t);
    }
    if (has_deadline && deadline <= k->now) {
      t->wait_n = 0;
      return STATUS_TIMEOUT;
    }
    t->state = LT_KTHREAD_WAITING;
    lt__kernel_yield(k, 0);
  }
}

/* A wait in the harness's context (a DDI): run the schedule until it is
 * satisfied; when nothing can run, jump the clock to the next timer or the
 * deadline; when there is neither, nothing will ever satisfy it. */
static NTSTATUS wait_in_ddi(lt__kstate *k, ULONG n, PVOID *objs, WAIT_TYPE type,
                            int has_deadline, uint64_t deadline, const char *routine) {
  for (int jumps = 0; jumps < MAX_IDLE_JUMPS;) {
    int i = satisfied_by(n, objs, type, k);
    if (i >= 0)
      return take(n, objs, type, i, k);
    if (has_deadline && deadline <= k->now)
      return STATUS_TIMEOUT;
    if (!k->scheduling && lt__kernel_step(k))
      continue;
    uint64_t next = lt__kernel_next_timer(k);
    if (has_deadline && deadline < next)
      next = deadline;
    if (next == UINT64_MAX || k->scheduling)
      break;
    if (next > k->now)
      k->now = next;
    jumps++;
  }
  lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                     "the miniport hung: %s waits on %s that nothing will signal", routine,
                     n == 1 ? "an object" : "objects");
  return STATUS_TIMEOUT;
}

static NTSTATUS wait_objects(ULONG n, PVOID *objs, WAIT_TYPE type, PLARGE_INTEGER Timeout,
                             const char *routine) {
  lt__kstate *k = lt__kernel_state();
  uint64_t deadline = 0;
  int has_deadline = deadline_of(k, Timeout, &deadline);
  for (ULONG i = 0; i < n; i++)
    if (objs[i] == NULL || !known_type(((DISPATCHER_HEADER *)objs[i])->Type)) {
      lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                         "%s on an object that was never initialized (object %lu)", routine,
                         (unsigned long)i);
      return STATUS_INVALID_PARAMETER;
    }
  int i = satisfied_by(n, objs, type, lt__kernel_self(k));
  if (i >= 0)
    return take(n, objs, type, i, lt__kernel_self(k));
  if (has_deadline && deadline <= k->now)
    return STATUS_TIMEOUT;
  if (KeGetCurrentIrql() > APC_LEVEL) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                       "%s blocks at IRQL %u (above APC_LEVEL): IRQL_NOT_LESS_OR_EQUAL",
                       routine, (unsigned)KeGetCurrentIrql());
    return STATUS_TIMEOUT;
  }
  if (k->current)
    return wait_in_thread(k, n, objs, type, has_deadline, deadline);
  return wait_in_ddi(k, n, objs, type, has_deadline, deadline, routine);
}

/* KeWaitForSingleObject: the real one blocks the caller until Object is
 * signalled or Timeout passes (NULL: forever; negative: relative; 100 ns
 * units). Here a system thread suspends until the schedule finds the object
 * signalled; a DDI runs the schedule itself, jumping the virtual clock to
 * the next timer or the deadline when idle. Returns STATUS_WAIT_0 or
 * STATUS_TIMEOUT. An object never initialised, a blocking wait above
 * APC_LEVEL or a wait nothing can satisfy is a fatal miniport-crash finding.
 * WaitReason, WaitMode and Alertable change nothing (no APC is ever
 * delivered). See lifetrace/wdk/lt_kernel.h. */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout) {
  (void)WaitReason;
  (void)WaitMode;
  (void)Alertable;
  return wait_objects(1, &Object, WaitAny, Timeout, "KeWaitForSingleObject");
}

/* KeWaitForMultipleObjects: as KeWaitForSingleObject for Count objects,
 * WaitAny (STATUS_WAIT_0 plus the index of the object taken) or WaitAll (all
 * taken at once, STATUS_WAIT_0). Count 0 or over MAXIMUM_WAIT_OBJECTS
 * returns STATUS_INVALID_PARAMETER. WaitBlockArray is not used (a thread's
 * wait is kept in its KTHREAD), so a driver that passes none for more than
 * THREAD_WAIT_OBJECTS objects is not caught. See lifetrace/wdk/lt_kernel.h. */
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PVOID WaitBlockArray) {
  (void)WaitReason;
  (void)WaitMode;
  (void)Alertable;
  (void)WaitBlockArray;
  if (Count == 0 || Count > MAXIMUM_WAIT_OBJECTS)
    return STATUS_INVALID_PARAMETER;
  return wait_objects(Count, Object, WaitType, Timeout, "KeWaitForMultipleObjects");
}

/* Sleeps in virtual time: a thread yields until the clock reaches the end;
 * a DDI runs the schedule until then. */
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval) {
  lt__kstate *k = lt__kernel_state();
  uint64_t deadline = k->now;
  (void)WaitMode;
  (void)Alertable;
  if (Interval == NULL)
    return STATUS_INVALID_PARAMETER;
  deadline_of(k, Interval, &deadline);
  if (KeGetCurrentIrql() > APC_LEVEL) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "KeDelayExecutionThread",
                       "KeDelayExecutionThread at IRQL %u (above APC_LEVEL)",
                       (unsigned)KeGetCurrentIrql());
    return STATUS_UNSUCCESSFUL;
  }
  if (k->current) {
    (void)wait_in_thread(k, 0, NULL, WaitAny, 1, deadline);
    return STATUS_SUCCESS;
  }
  while (k->now < deadline) {
    if (!k->scheduling && lt__kernel_step(k))
      continue;
    uint64_t next = lt__kernel_next_timer(k);
    k->now = next < deadline && next > k->now ? next : deadline;
  }
  return STATUS_SUCCESS;
}

/* ---- fast mutexes --------------------------------------------------------------------- */

/* ExInitializeFastMutex (and KeInitializeGuardedMutex): the real one makes a
 * free fast mutex, a lock that is not recursive and is held at APC_LEVEL;
 * here a free FAST_MUTEX whose type the Ex*FastMutex routines check they
 * were given. See lifetrace/wdk/lt_kernel.h. */
void ExInitializeFastMutex(PFAST_MUTEX FastMutex) {
  memset(FastMutex, 0, sizeof *FastMutex);
  FastMutex->Header.Type = LT_KOBJ_FAST_MUTEX;
  FastMutex->Header.SignalState = 1;
}

static void fast_acquire(PFAST_MUTEX FastMutex, int raise, const char *routine) {
  lt__kstate *k = lt__kernel_state();
  if (FastMutex->Header.Type != LT_KOBJ_FAST_MUTEX) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                       "%s on a FAST_MUTEX that was never initialized", routine);
    return;
  }
  if (FastMutex->Header.SignalState == 0 && FastMutex->Header.Owner == lt__kernel_self(k)) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                       "the miniport hung: %s on a FAST_MUTEX it already holds", routine);
    return;
  }
  KIRQL old = KeGetCurrentIrql();
  PVOID obj = FastMutex;
  if (FastMutex->Header.SignalState == 0)
    FastMutex->Contention++;
  (void)wait_objects(1, &obj, WaitAny, NULL, routine);
  FastMutex->OldIrql = old;
  if (raise && old < APC_LEVEL)
    lt__kernel_set_irql(APC_LEVEL);
}

static void fast_release(PFAST_MUTEX FastMutex, int lower, const char *routine) {
  lt__kstate *k = lt__kernel_state();
  if (FastMutex->Header.SignalState != 0 || FastMutex->Header.Owner != lt__kernel_self(k)) {
    lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, routine,
                       "%s on a FAST_MUTEX the caller does not hold", routine);
    return;
  }
  FastMutex->Header.Owner = NULL;
  FastMutex->Header.Count = 0;
  FastMutex->Header.SignalState = 1;
  if (lower)
    lt__kernel_set_irql(FastMutex->OldIrql);
}

/* ExAcquireFastMutex (and KeAcquireGuardedMutex): the real one waits for the
 * mutex and raises to APC_LEVEL; here the wait goes through the schedule as
 * KeWaitForSingleObject's and the old IRQL is saved for the release.
 * Acquiring one the caller already holds (a self-deadlock on Windows) or one
 * never initialised is a fatal miniport-crash finding. See
 * lifetrace/wdk/lt_kernel.h. */
void ExAcquireFastMutex(PFAST_MUTEX FastMutex) {
  fast_acquire(FastMutex, 1, "ExAcquireFastMutex");
}

/* ExReleaseFastMutex (and KeReleaseGuardedMutex): frees the mutex and
 * restores the IRQL saved at acquisition, as the real one; releasing one the
 * caller does not hold is a fatal miniport-crash finding. See
 * lifetrace/wdk/lt_kernel.h. */
void ExReleaseFastMutex(PFAST_MUTEX FastMutex) {
  fast_release(FastMutex, 1, "ExReleaseFastMutex");
}

/* ExAcquireFastMutexUnsafe: as ExAcquireFastMutex but the IRQL stays: the
 * real one expects the caller to be in a critical region or at APC_LEVEL
 * already. The same checks. See lifetrace/wdk/lt_kernel.h. */
void ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex) {
  fast_acquire(FastMutex, 0, "ExAcquireFastMutexUnsafe");
}

/* ExReleaseFastMutexUnsafe: releases what ExAcquireFastMutexUnsafe took and
 * leaves the IRQL alone; the same ownership check. See
 * lifetrace/wdk/lt_kernel.h. */
void ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex) {
  fast_release(FastMutex, 0, "ExReleaseFastMutexUnsafe");
}

/* ExTryToAcquireFastMutex (and KeTryToAcquireGuardedMutex): acquires a free
 * mutex as ExAcquireFastMutex does and returns TRUE; returns FALSE at once
 * when it is held, without waiting, as the real one. See
 * lifetrace/wdk/lt_kernel.h. */
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex) {
  if (FastMutex->Header.SignalState == 0)
    return FALSE;
  fast_acquire(FastMutex, 1, "ExTryToAcquireFastMutex");
  return TRUE;
}
