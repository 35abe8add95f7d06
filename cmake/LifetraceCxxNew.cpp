/* lifetrace — global operator new / delete of a C++ driver
 * (lifetrace/driver.h, "C++ drivers"). lifetrace_add_driver compiles this
 * file into every build of a driver that has C++ sources.
 *
 * Each form is defined unless the driver's own sources define it: the build
 * reads the driver's objects (LifetraceCxxNew.cmake) and writes
 * lt_cxx_driver_new.h with LT_DRIVER_DEFINES_<symbol> for each form found.
 * So a driver that brings its own operators keeps them, and one that uses
 * plain `new` gets these, which allocate from the tracked pool.
 *
 * Why strong definitions: in a sanitized static binary the sanitizer's
 * runtime comes first on the link line with weak operators of its own, so a
 * weak definition here would lose and the driver's objects would go to the
 * sanitizer's heap. In the driver's shared objects the build binds every
 * symbol but lt_miniport_entry locally (a version script), so the loading
 * binary's operators (the sanitizer's, in a fuzz target) cannot win either.
 */
#include <lifetrace/driver.h>

#include "lt_cxx_driver_new.h"

typedef decltype(sizeof 0) lt_size;
namespace std {
enum class align_val_t : lt_size;
struct nothrow_t;
} // namespace std

/* The adapter file's LT_DEFINE_CXX_POOL_TAG, if any. */
extern "C" const ULONG LtCxxPoolTag __attribute__((weak));

static ULONG cxx_tag() { return &LtCxxPoolTag != nullptr ? LtCxxPoolTag : LT_CXX_DEFAULT_POOL_TAG; }

/* Drivers are built with -fno-exceptions -fcheck-new: a failed new returns
 * NULL, as a kernel's does, and the caller's NULL check is kept. Clang before
 * 17 ignores -fcheck-new and runs the constructor on NULL: there the
 * throwing forms do not pass injected faults on (the nothrow forms do). */
#if defined(__clang__) && __clang_major__ < 17
#define THROWING_MAY_FAIL FALSE
#else
#define THROWING_MAY_FAIL TRUE
#endif
static void *cxx_new(lt_size n, lt_size a, BOOLEAN may_fail) {
  return LtCxxAllocate(n ? n : 1, a, cxx_tag(), may_fail);
}
#define cxx_new_throwing(n, a) cxx_new((n), (a), THROWING_MAY_FAIL)
#define cxx_new_nothrow(n, a) cxx_new((n), (a), TRUE)
#ifndef LT_DRIVER_DEFINES__Znwm
void *operator new(lt_size n) { return cxx_new_throwing(n, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__Znam
void *operator new[](lt_size n) { return cxx_new_throwing(n, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZnwmRKSt9nothrow_t
void *operator new(lt_size n, const std::nothrow_t &) noexcept { return cxx_new_nothrow(n, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZnamRKSt9nothrow_t
void *operator new[](lt_size n, const std::nothrow_t &) noexcept { return cxx_new_nothrow(n, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZnwmSt11align_val_t
void *operator new(lt_size n, std::align_val_t a) { return cxx_new_throwing(n, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZnamSt11align_val_t
void *operator new[](lt_size n, std::align_val_t a) { return cxx_new_throwing(n, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZnwmSt11align_val_tRKSt9nothrow_t
void *operator new(lt_size n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return cxx_new_nothrow(n, (lt_size)a);
}
#endif
#ifndef LT_DRIVER_DEFINES__ZnamSt11align_val_tRKSt9nothrow_t
void *operator new[](lt_size n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return cxx_new_nothrow(n, (lt_size)a);
}
#endif

#ifndef LT_DRIVER_DEFINES__ZdlPv
void operator delete(void *p) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPv
void operator delete[](void *p) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdlPvm
void operator delete(void *p, lt_size) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPvm
void operator delete[](void *p, lt_size) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdlPvRKSt9nothrow_t
void operator delete(void *p, const std::nothrow_t &) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPvRKSt9nothrow_t
void operator delete[](void *p, const std::nothrow_t &) noexcept { LtCxxFree(p, 0); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdlPvSt11align_val_t
void operator delete(void *p, std::align_val_t a) noexcept { LtCxxFree(p, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPvSt11align_val_t
void operator delete[](void *p, std::align_val_t a) noexcept { LtCxxFree(p, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdlPvmSt11align_val_t
void operator delete(void *p, lt_size, std::align_val_t a) noexcept { LtCxxFree(p, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPvmSt11align_val_t
void operator delete[](void *p, lt_size, std::align_val_t a) noexcept { LtCxxFree(p, (lt_size)a); }
#endif
#ifndef LT_DRIVER_DEFINES__ZdlPvSt11align_val_tRKSt9nothrow_t
void operator delete(void *p, std::align_val_t a, const std::nothrow_t &) noexcept {
  LtCxxFree(p, (lt_size)a);
}
#endif
#ifndef LT_DRIVER_DEFINES__ZdaPvSt11align_val_tRKSt9nothrow_t
void operator delete[](void *p, std::align_val_t a, const std::nothrow_t &) noexcept {
  LtCxxFree(p, (lt_size)a);
}
#endif
