/* lifetrace — stand-in for the WDK's <initguid.h>: after it, DEFINE_GUID
 * defines the GUID (a weak symbol, as __declspec(selectany)) instead of
 * declaring it. */
#include "guiddef.h"
#undef DEFINE_GUID
#define INITGUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
  EXTERN_C const GUID name __attribute__((weak));                    \
  LT__GUID_DEFINITION const GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
