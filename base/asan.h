/* lifetrace base kit — whether this build runs under AddressSanitizer
 * (gcc's __SANITIZE_ADDRESS__ or clang's __has_feature), and its interface
 * when it does: LT_ASAN is defined, and the poisoning and fiber-switch calls
 * of <sanitizer/asan_interface.h> are available. The one place that asks. */
#ifndef LT_ASAN_H
#define LT_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define LT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LT_ASAN 1
#endif
#endif

#ifdef LT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
/* Marks memory the harness keeps but a driver must not touch (a freed pool
 * block, a slab's free slot), and back. No-ops without ASan. */
#define LT__POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define LT__UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define LT__POISON(p, n) ((void)(p), (void)(n))
#define LT__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#endif
