/* Spin locks and IRQL as the harness simulates them for a driver under test.
 * Replay is single-threaded, so a lock acquired while already held can never
 * be released: that is a deadlock, recorded for the simulated dxgkrnl to
 * report after the DDI returns (lt__kernel_take_deadlock). */
#include "kernel_shim.h"

static _Thread_local KIRQL current_irql = PASSIVE_LEVEL;
static _Thread_local int deadlocked;

/* Makes a released spin lock; see lifetrace/wddm.h. */
void KeInitializeSpinLock(KSPIN_LOCK *SpinLock) { *SpinLock = 0; }

/* Takes the lock and raises to DISPATCH_LEVEL, saving the old IRQL. There is
 * one thread, so taking a lock already held is a self-deadlock on a real
 * machine: it is recorded for lt__kernel_take_deadlock instead of hanging. */
void KeAcquireSpinLock(KSPIN_LOCK *SpinLock, KIRQL *OldIrql) {
  *OldIrql = current_irql;
  if (*SpinLock != 0)
    deadlocked = 1;
  *SpinLock = 1;
  current_irql = DISPATCH_LEVEL;
}

/* Releases the lock and returns to the IRQL saved by KeAcquireSpinLock. */
void KeReleaseSpinLock(KSPIN_LOCK *SpinLock, KIRQL NewIrql) {
  *SpinLock = 0;
  current_irql = NewIrql;
}

/* The IRQL the simulated kernel runs the driver at, so the driver's own IRQL
 * asserts see what dxgkrnl guarantees for each DDI; see lifetrace/wddm.h. */
KIRQL KeGetCurrentIrql(void) { return current_irql; }

/* Sets the IRQL of the next DDI call (PASSIVE for most, DISPATCH for
 * SubmitCommand, as section 2.3 of the contract says); see kernel_shim.h. */
void lt__kernel_set_irql(KIRQL irql) { current_irql = irql; }

/* Returns 1, once, if a spin lock was taken while held since the last call,
 * so the engine reports it as a finding on the DDI that did it. */
int lt__kernel_take_deadlock(void) {
  int d = deadlocked;
  deadlocked = 0;
  return d;
}
