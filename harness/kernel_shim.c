/* Spin locks and IRQL as the harness simulates them for a driver under test.
 * Replay is single-threaded, so a lock acquired while already held can never
 * be released: that is a deadlock, recorded for the simulated dxgkrnl to
 * report after the DDI returns (lt__kernel_take_deadlock). The IRQL is the
 * running context's: system threads keep their own (kernel_sched.c). */
#include "kernel_shim.h"

static _Thread_local KIRQL current_irql = PASSIVE_LEVEL;
static _Thread_local int deadlocked;

/* Makes a released spin lock; see lifetrace/wddm.h. */
void KeInitializeSpinLock(KSPIN_LOCK *SpinLock) { *SpinLock = 0; }

static void take_lock(KSPIN_LOCK *SpinLock) {
  if (*SpinLock != 0)
    deadlocked = 1;
  *SpinLock = 1;
}

/* KeAcquireSpinLock: the real one raises to DISPATCH_LEVEL, saving the old
 * IRQL in *OldIrql, and spins until the lock is free. Replay is
 * single-threaded, so a lock already held could never be released: taking it
 * records a deadlock (reported after the DDI returns,
 * lt__kernel_take_deadlock) and goes on. See lifetrace/wdk/lt_kernel.h. */
void KeAcquireSpinLock(KSPIN_LOCK *SpinLock, KIRQL *OldIrql) {
  *OldIrql = current_irql;
  take_lock(SpinLock);
  if (current_irql < DISPATCH_LEVEL)
    current_irql = DISPATCH_LEVEL;
}

/* Releases the lock and returns to the IRQL saved by KeAcquireSpinLock. */
void KeReleaseSpinLock(KSPIN_LOCK *SpinLock, KIRQL NewIrql) {
  *SpinLock = 0;
  current_irql = NewIrql;
}

/* KeAcquireSpinLockRaiseToDpc: KeAcquireSpinLock returning the old IRQL
 * instead of storing it, with the same deadlock check. See
 * lifetrace/wdk/lt_kernel.h. */
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock) {
  KIRQL old;
  KeAcquireSpinLock(SpinLock, &old);
  return old;
}

/* For code already at DISPATCH_LEVEL (DPC, SubmitCommand): the IRQL stays;
 * recursion is still caught. */
void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock) { take_lock(SpinLock); }

/* KeReleaseSpinLockFromDpcLevel: releases a lock taken at DISPATCH_LEVEL and
 * leaves the IRQL alone, as the real one. Releasing a free lock is not
 * checked. See lifetrace/wdk/lt_kernel.h. */
void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

/* KeAcquireInStackQueuedSpinLock: the real one queues the caller on the lock
 * (fair order) with its state in LockHandle; one thread has no queue to wait
 * in, so here it is KeAcquireSpinLock with the lock and the old IRQL kept in
 * LockHandle (the same deadlock check). See lifetrace/wdk/lt_kernel.h. */
void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle) {
  LockHandle->Lock = SpinLock;
  KeAcquireSpinLock(SpinLock, &LockHandle->OldIrql);
}

/* KeReleaseInStackQueuedSpinLock: releases the lock LockHandle names and
 * restores the IRQL it saved, as the real one. See
 * lifetrace/wdk/lt_kernel.h. */
void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle) {
  KeReleaseSpinLock(LockHandle->Lock, LockHandle->OldIrql);
}

/* KeAcquireInStackQueuedSpinLockAtDpcLevel: for a caller already at
 * DISPATCH_LEVEL: takes the lock without changing the IRQL (the deadlock
 * check still applies), recorded in LockHandle. See
 * lifetrace/wdk/lt_kernel.h. */
void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                              PKLOCK_QUEUE_HANDLE LockHandle) {
  LockHandle->Lock = SpinLock;
  LockHandle->OldIrql = current_irql;
  take_lock(SpinLock);
}

/* KeReleaseInStackQueuedSpinLockFromDpcLevel: releases the lock LockHandle
 * names and leaves the IRQL alone, as the real one. See
 * lifetrace/wdk/lt_kernel.h. */
void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle) {
  *LockHandle->Lock = 0;
}

/* KeGetCurrentIrql: the running context's IRQL as the harness keeps it: the
 * level the DDI was called at (lt__kernel_set_irql), changed by the driver's
 * raises, lowers and spin locks; a system thread has its own, restored
 * whenever it runs. See lifetrace/wdk/lt_kernel.h. */
KIRQL KeGetCurrentIrql(void) { return current_irql; }

/* KeRaiseIrql: sets the IRQL to NewIrql and returns the old one in *OldIrql.
 * The real one bugchecks when NewIrql is below the current IRQL; the harness
 * does not check it. See lifetrace/wdk/lt_kernel.h. */
void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql) {
  *OldIrql = current_irql;
  current_irql = NewIrql;
}

/* KeLowerIrql: sets the IRQL back to NewIrql (a KeRaiseIrql's OldIrql);
 * unchecked, as KeRaiseIrql. See lifetrace/wdk/lt_kernel.h. */
void KeLowerIrql(KIRQL NewIrql) { current_irql = NewIrql; }

/* KeRaiseIrqlToDpcLevel: sets DISPATCH_LEVEL and returns the old IRQL, as
 * the real one. Unchecked: from above DISPATCH_LEVEL it lowers the IRQL,
 * which Windows does not allow. See lifetrace/wdk/lt_kernel.h. */
KIRQL KeRaiseIrqlToDpcLevel(void) {
  KIRQL old = current_irql;
  current_irql = DISPATCH_LEVEL;
  return old;
}

/* Sets the running context's IRQL without any check: the simulated dxgkrnl
 * uses it for the level a DDI runs at (PASSIVE_LEVEL for most,
 * DISPATCH_LEVEL for SubmitCommand), the scheduler for DPCs and for each
 * thread's own IRQL. See kernel_shim.h. */
void lt__kernel_set_irql(KIRQL irql) { current_irql = irql; }

/* Returns 1, once, if a spin lock was taken while held since the last call,
 * so the engine reports it as a finding on the DDI that did it. */
int lt__kernel_take_deadlock(void) {
  int d = deadlocked;
  deadlocked = 0;
  return d;
}
