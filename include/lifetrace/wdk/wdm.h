/* lifetrace — stand-in for the WDK's <wdm.h>: forwards to lifetrace's compat
 * headers, so that a driver source's own #include lines stay as they are when
 * lifetrace/wdk is on its include path (lifetrace_add_driver puts it there).
 * Only what lifetrace/wddm.h and lifetrace/wddm_kernel.h declare is here. */
#ifndef LIFETRACE_WDK_WDM_H
#define LIFETRACE_WDK_WDM_H
#include "lifetrace/wddm_kernel.h"
#endif
