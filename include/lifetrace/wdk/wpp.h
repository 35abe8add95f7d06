/* lifetrace — WPP software tracing without the WPP preprocessor: what a
 * driver's generated "foo.tmh" would give. lifetrace_add_driver writes, for
 * every `#include "X.tmh"` in a driver's sources, an X.tmh that includes
 * this file (by hand: `echo '#include <lifetrace/wdk/wpp.h>' > gen/X.tmh`
 * and -Igen). Trace calls go to DbgPrintEx through LtWppTrace, which
 * rewrites WPP's %!FUNC!, %!STATUS!, ... conversions; WPP_INIT_TRACING and
 * WPP_CLEANUP do nothing. A custom trace function the driver declares in a
 * `begin_wpp config` comment must be TraceEvents(LEVEL, FLAGS, MSG, ...),
 * DoTraceMessage(FLAG, MSG, ...) or one defined before this include. */
#ifndef LIFETRACE_WDK_WPP_H
#define LIFETRACE_WDK_WPP_H
#include "lifetrace/wddm_kernel.h"

#define TRACE_LEVEL_NONE 0
#define TRACE_LEVEL_CRITICAL 1
#define TRACE_LEVEL_FATAL 1
#define TRACE_LEVEL_ERROR 2
#define TRACE_LEVEL_WARNING 3
#define TRACE_LEVEL_INFORMATION 4
#define TRACE_LEVEL_VERBOSE 5

#define WPP_INIT_TRACING(...) ((void)0)
#define WPP_CLEANUP(...) ((void)0)
#define WPP_RECORDER_LEVEL_FILTER(...) 0
#ifndef WPP_DEFINE_CONTROL_GUID
#define WPP_DEFINE_CONTROL_GUID(name, guid, bits)
#define WPP_DEFINE_BIT(name)
#endif

/* A WPP level (1 critical .. 5 verbose) as a DbgPrintEx level: critical and
 * error print by default (DPFLTR_ERROR_LEVEL), warning at 1, the rest at 3. */
#define LT_WPP_DBG_LEVEL(l) ((l) <= TRACE_LEVEL_ERROR ? 0u : (l) == TRACE_LEVEL_WARNING ? 1u : 3u)

#ifndef TraceEvents
#define TraceEvents(level, flags, ...) \
  LtWppTrace(LT_WPP_DBG_LEVEL(level), (ULONG)(flags), __func__, __LINE__, __VA_ARGS__)
#endif
#ifndef DoTraceMessage
#define DoTraceMessage(flag, ...) LtWppTrace(3u, (ULONG)(flag), __func__, __LINE__, __VA_ARGS__)
#endif
#ifndef DoTraceLevelMessage
#define DoTraceLevelMessage(level, flags, ...) TraceEvents(level, flags, __VA_ARGS__)
#endif
#endif
