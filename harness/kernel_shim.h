/* Harness side of the simulated kernel routines (kernel_shim.c: IRQL and
 * spin locks). */
#ifndef LT_KERNEL_SHIM_H
#define LT_KERNEL_SHIM_H

#include "lifetrace/wddm_kernel.h"

/* Sets the IRQL a DDI runs at (PASSIVE for most, DISPATCH for SubmitCommand). */
void lt__kernel_set_irql(KIRQL irql);
/* Returns 1 (once) if a spin lock was acquired while held since the last call. */
int lt__kernel_take_deadlock(void);

#endif
