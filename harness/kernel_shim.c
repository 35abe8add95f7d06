/* Spin locks and IRQL as the harness simulates them for a driver under test.
 * Replay is single-threaded, so a lock acquired while already held can never
 * be released: that is a deadlock, recorded for the simulated dxgkrnl to
 * report after the DDI returns (lt__kernel_take_deadlock). */
#include "kernel_shim.h"

static _Thread_local KIRQL current_irql = PASSIVE_LEVEL;
static _Thread_local int deadlocked;

void KeInitializeSpinLock(KSPIN_LOCK *SpinLock) { *SpinLock = 0; }

void KeAcquireSpinLock(KSPIN_LOCK *SpinLock, KIRQL *OldIrql) {
  *OldIrql = current_irql;
  if (*SpinLock != 0)
    deadlocked = 1;
  *SpinLock = 1;
  current_irql = DISPATCH_LEVEL;
}

void KeReleaseSpinLock(KSPIN_LOCK *SpinLock, KIRQL NewIrql) {
  *SpinLock = 0;
  current_irql = NewIrql;
}

KIRQL KeGetCurrentIrql(void) { return current_irql; }

void lt__kernel_set_irql(KIRQL irql) { current_irql = irql; }

int lt__kernel_take_deadlock(void) {
  int d = deadlocked;
  deadlocked = 0;
  return d;
}
