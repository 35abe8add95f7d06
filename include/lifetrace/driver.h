/* lifetrace — what a driver's lifetrace glue file includes: the miniport
 * table (miniport.h), the kernel compat routines (wddm_kernel.h), the
 * simulated UMD's private data (umd_data.h), and the macro that exports the
 * table.
 *
 * A driver under test is its own DDI sources (compiled against the compat
 * headers) plus one glue file that fills an LT_MINIPORT and exports it:
 *
 *   static const LT_MINIPORT SmpMiniport = {
 *       .AbiVersion = LT_MINIPORT_ABI_VERSION, .Size = sizeof(LT_MINIPORT), ...};
 *   LT_DEFINE_MINIPORT_ENTRY(SmpMiniport)
 *
 * The same glue serves both ways in (docs/bring-your-own-driver.md): the
 * shared object that `--driver` dlopens finds lt_miniport_entry by name, and
 * the binaries lifetrace_add_driver links statically call it directly.
 */
#ifndef LIFETRACE_DRIVER_H
#define LIFETRACE_DRIVER_H

#include "lifetrace/miniport.h"
#include "lifetrace/umd_data.h"
#include "lifetrace/wddm_kernel.h"

/* Keeps a symbol visible when the driver is built with
 * -fvisibility=hidden (lifetrace_add_driver does). */
#define LT_MINIPORT_EXPORT __attribute__((visibility("default")))

/* Defines lt_miniport_entry() returning &Table (a static LT_MINIPORT that
 * lives as long as the program). Use once per driver. */
#define LT_DEFINE_MINIPORT_ENTRY(Table)                  \
  LT_MINIPORT_EXPORT const LT_MINIPORT *lt_miniport_entry(void); \
  LT_MINIPORT_EXPORT const LT_MINIPORT *lt_miniport_entry(void) { return &(Table); }

#endif
