/* lifetrace — stand-in for <guiddef.h>: GUID (lifetrace/wddm.h) and
 * DEFINE_GUID, which declares the GUID unless <initguid.h> came first. */
#ifndef LIFETRACE_WDK_GUIDDEF_H
#define LIFETRACE_WDK_GUIDDEF_H
#include "lifetrace/wddm_kernel.h"
#endif
#ifndef LT__GUID_DEFINITION
#ifdef __cplusplus
#define LT__GUID_DEFINITION extern "C"
#else
#define LT__GUID_DEFINITION
#endif
#endif
#ifndef DEFINE_GUID
#ifdef INITGUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
  EXTERN_C const GUID name __attribute__((weak));                    \
  LT__GUID_DEFINITION const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
#else
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) EXTERN_C const GUID name
#endif
#endif
