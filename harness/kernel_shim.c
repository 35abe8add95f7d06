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

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock) {
  KIRQL old;
  KeAcquireSpinLock(SpinLock, &old);
  return old;
}

/* For code already at DISPATCH_LEVEL (DPC, SubmitCommand): the IRQL stays;
 * recursion is still caught. */
void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock) { take_lock(SpinLock); }

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle) {
  LockHandle->Lock = SpinLock;
  KeAcquireSpinLock(SpinLock, &LockHandle->OldIrql);
}

void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle) {
  KeReleaseSpinLock(LockHandle->Lock, LockHandle->OldIrql);
}

void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                              PKLOCK_QUEUE_HANDLE LockHandle) {
  LockHandle->Lock = SpinLock;
  LockHandle->OldIrql = current_irql;
  take_lock(SpinLock);
}

void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle) {
  *LockHandle->Lock = 0;
}

KIRQL KeGetCurrentIrql(void) { return current_irql; }

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql) {
  *OldIrql = current_irql;
  current_irql = NewIrql;
}

void KeLowerIrql(KIRQL NewIrql) { current_irql = NewIrql; }

KIRQL KeRaiseIrqlToDpcLevel(void) {
  KIRQL old = current_irql;
  current_irql = DISPATCH_LEVEL;
  return old;
}

void lt__kernel_set_irql(KIRQL irql) { current_irql = irql; }

/* Returns 1, once, if a spin lock was taken while held since the last call,
 * so the engine reports it as a finding on the DDI that did it. */
int lt__kernel_take_deadlock(void) {
  int d = deadlocked;
  deadlocked = 0;
  return d;
}
