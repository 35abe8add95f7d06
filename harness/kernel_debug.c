/* The simulated kernel's debug output and assertions: DbgPrint/DbgPrintEx
 * with a level filter (LIFETRACE_DBGPRINT_LEVEL), WPP trace calls mapped on
 * DbgPrintEx, and NT_ASSERT / KeBugCheckEx turned into miniport-crash
 * findings that name the expression and the site. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dxgkrnl.h"
#include "kernel_sched.h"

/* The highest DbgPrintEx level printed: LIFETRACE_DBGPRINT_LEVEL, default 0
 * (DPFLTR_ERROR_LEVEL, Windows' default filter); -1 prints nothing. */
static int max_level(void) {
  static int level = -2;
  if (level == -2) {
    const char *env = getenv("LIFETRACE_DBGPRINT_LEVEL");
    level = env && *env ? atoi(env) : 0;
    if (level > 31)
      level = 31;
  }
  return level;
}

static int passes(ULONG Level) {
  int max = max_level();
  if (max < 0)
    return 0;
  if (Level <= 31)
    return (int)Level <= max;
  return (Level & ((2u << max) - 1u)) != 0; /* a mask of levels (DPFLTR_MASK) */
}

/* vDbgPrintEx: the real one sends a formatted message to the kernel debugger
 * when the component's filter lets Level through; the harness prints it to
 * stderr, prefixed "DbgPrint: ", when Level passes LIFETRACE_DBGPRINT_LEVEL
 * (passes()). ComponentId is not filtered on. Returns the characters
 * written, 0 when filtered out. See lifetrace/wdk/lt_kernel.h. */
ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list ap) {
  (void)ComponentId;
  if (!passes(Level))
    return 0;
  fputs("DbgPrint: ", stderr);
  int n = vfprintf(stderr, Format, ap);
  return n < 0 ? 0 : (ULONG)n;
}

/* DbgPrintEx: the real one prints to the kernel debugger subject to the
 * component and level filter; here the variadic form of vDbgPrintEx (stderr,
 * the same level filter). See lifetrace/wdk/lt_kernel.h. */
ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...) {
  va_list ap;
  va_start(ap, Format);
  ULONG n = vDbgPrintEx(ComponentId, Level, Format, ap);
  va_end(ap);
  return n;
}

/* DbgPrint: on Windows it is DbgPrintEx(DPFLTR_DEFAULT_ID,
 * DPFLTR_INFO_LEVEL, ...), hidden by the default filter; the harness does
 * the same, so it prints only with LIFETRACE_DBGPRINT_LEVEL 3 or more. See
 * lifetrace/wdk/lt_kernel.h. */
ULONG DbgPrint(PCSTR Format, ...) {
  va_list ap;
  va_start(ap, Format);
  ULONG n = vDbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, Format, ap);
  va_end(ap);
  return n;
}

/* Appends s to out (bounded). */
static void put(char *out, size_t cap, size_t *n, const char *s) {
  size_t len = strlen(s);
  if (*n + len >= cap)
    len = cap - 1 - *n;
  memcpy(out + *n, s, len);
  *n += len;
  out[*n] = 0;
}

/* Rewrites WPP's %!NAME! conversions into printf ones: FUNC, LINE and FILE
 * are inserted as text (they take no argument), STATUS/HRESULT/WINERROR/
 * HEXINT print hex, bool/BOOLEAN an int, others (GUID, IPADDR, ...) the
 * argument as a pointer-sized hex number. */
static void wpp_format(char *out, size_t cap, const char *fmt, const char *func, int line) {
  size_t n = 0;
  char num[16];
  out[0] = 0;
  while (*fmt && n + 1 < cap) {
    const char *end = fmt[0] == '%' && fmt[1] == '!' ? strchr(fmt + 2, '!') : NULL;
    if (end == NULL) {
      char c[2] = {*fmt++, 0};
      put(out, cap, &n, c);
      continue;
    }
    size_t len = (size_t)(end - fmt - 2);
    const char *name = fmt + 2;
    fmt = end + 1;
    if (len == 4 && !memcmp(name, "FUNC", 4))
      put(out, cap, &n, func);
    else if (len == 4 && !memcmp(name, "LINE", 4)) {
      snprintf(num, sizeof num, "%d", line);
      put(out, cap, &n, num);
    } else if (len == 4 && !memcmp(name, "FILE", 4))
      put(out, cap, &n, "?");
    else if ((len == 6 && !memcmp(name, "STATUS", 6)) || (len == 7 && !memcmp(name, "HRESULT", 7)) ||
             (len == 8 && !memcmp(name, "WINERROR", 8)) || (len == 6 && !memcmp(name, "HEXINT", 6)))
      put(out, cap, &n, "0x%08x");
    else if ((len == 4 && !memcmp(name, "bool", 4)) || (len == 7 && !memcmp(name, "BOOLEAN", 7)))
      put(out, cap, &n, "%d");
    else
      put(out, cap, &n, "%#lx");
  }
}

/* What WPP's trace macros call (lifetrace/wdk/wpp.h): on Windows they log
 * binary messages to an ETW session, decoded later with the driver's TMF;
 * here the format's %!NAME! conversions are rewritten into printf ones
 * (wpp_format) and the line goes through vDbgPrintEx's level filter under
 * DPFLTR_IHVVIDEO_ID, so a driver's WPP tracing is readable without any
 * tool. Flags (WPP's control bits) select nothing: every flag is on. See
 * lifetrace/wdk/lt_kernel.h. */
void LtWppTrace(ULONG Level, ULONG Flags, const char *Function, int Line, PCSTR Format, ...) {
  char fmt[512];
  va_list ap;
  (void)Flags;
  if (!passes(Level))
    return;
  wpp_format(fmt, sizeof fmt - 1, Format, Function ? Function : "?", Line);
  strcat(fmt, "\n");
  va_start(ap, Format);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  (void)vDbgPrintEx(DPFLTR_IHVVIDEO_ID, Level, fmt, ap);
#pragma GCC diagnostic pop
  va_end(ap);
}

/* A failed NT_ASSERT: site is the file's last component and the line. */
void LtAssertionFailure(PCSTR Expression, PCSTR File, ULONG Line) {
  const char *base = File ? strrchr(File, '/') : NULL;
  char site[64];
  snprintf(site, sizeof site, "%s:%lu", base ? base + 1 : (File ? File : "?"),
           (unsigned long)Line);
  lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, site, "NT_ASSERT failed in %s: %s (%s)",
                     lt__current && lt__current->cur_ddi ? lt__current->cur_ddi : "the miniport",
                     Expression ? Expression : "?", site);
}

/* KeBugCheckEx: the real one stops the machine with a bugcheck naming the
 * code and its four parameters; the harness records a fatal miniport-crash
 * finding with them, which ends the running DDI through its guard (the
 * replay stops, as after a crash). Never returns; outside a replay
 * lt__kernel_finding prints the finding and aborts. See
 * lifetrace/wdk/lt_kernel.h. */
void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4) {
  lt__kernel_finding(LT_F_MINIPORT_CRASH, 1, "KeBugCheckEx",
                     "the miniport called KeBugCheckEx(0x%08lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx)",
                     (unsigned long)BugCheckCode, (unsigned long)P1, (unsigned long)P2,
                     (unsigned long)P3, (unsigned long)P4);
  abort(); /* not reached inside a DDI: the finding ended it */
}
