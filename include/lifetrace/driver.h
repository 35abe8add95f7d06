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

#ifdef __cplusplus
#define LT_EXTERN_C extern "C"
#else
#define LT_EXTERN_C
#endif

/* Defines lt_miniport_entry() returning &Table (a static LT_MINIPORT that
 * lives as long as the program). Use once per driver, in a C or a C++ file
 * (the symbol has C linkage either way). */
#define LT_DEFINE_MINIPORT_ENTRY(Table)                  \
  LT_EXTERN_C LT_MINIPORT_EXPORT const LT_MINIPORT *lt_miniport_entry(void); \
  LT_EXTERN_C LT_MINIPORT_EXPORT const LT_MINIPORT *lt_miniport_entry(void) { return &(Table); }

/* ---- C++ drivers: global operator new / delete ------------------------------
 *
 * The WDK has no default operator new: a KMD defines its own. lifetrace_add_driver
 * compiles cmake/LifetraceCxxNew.cpp into every build of a driver with C++
 * sources; it defines each global operator new / delete form (plain, array,
 * nothrow, sized, aligned) that the driver's own sources do not define, on
 * top of the two routines below, so plain `new` allocates from the tracked
 * pool. A driver's own operators (of any form, placement-style
 * `operator new(size_t, POOL_TYPE, ULONG)` included) are kept, and reach the
 * tracked pool through the Ex* routines they call. The tag of lifetrace's
 * operators is LT_CXX_DEFAULT_POOL_TAG unless the adapter file sets one with
 * LT_DEFINE_CXX_POOL_TAG('Tag1') (once per driver). */

/* 'LtC+' as the pool reports it (the first character in the low byte). */
#define LT_CXX_DEFAULT_POOL_TAG 0x2b43744cu

/* Sets the pool tag of lifetrace's operator new (a multi-character literal
 * such as 'Dr++', or a ULONG). */
#define LT_DEFINE_CXX_POOL_TAG(Tag) LT_EXTERN_C const ULONG LtCxxPoolTag = (ULONG)(Tag);

#ifdef __cplusplus
extern "C" {
#endif
/* Allocates Size bytes (aligned to Alignment, 16 when smaller) from the tracked
 * pool with Tag, uninitialized (0xCD) as ExAllocatePoolWithTag's; NULL on a
 * (possibly injected) failure. MayFail FALSE: an injected fault is not
 * passed on (for a throwing-form operator new whose caller the compiler
 * cannot protect from NULL: clang before 17 has no -fcheck-new). Outside a
 * replay the C heap serves the rest of the program (a fuzz engine in C++). */
void *LtCxxAllocate(SIZE_T Size, SIZE_T Alignment, ULONG Tag, BOOLEAN MayFail);
/* Frees what LtCxxAllocate returned (NULL is a no-op). The block's own tag is
 * used; a pointer the pool did not hand out, or one freed already, is reported
 * as the pool reports ExFreePoolWithTag's (miniport-double-free). */
void LtCxxFree(void *P, SIZE_T Alignment);
#ifdef __cplusplus
}
#endif

#endif
