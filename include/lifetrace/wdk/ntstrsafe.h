/* lifetrace — stand-in for the WDK's <ntstrsafe.h>: the RtlStringCb* /
 * RtlStringCch* routines, real and bounded (the destination is always
 * terminated; truncation returns STATUS_BUFFER_OVERFLOW, bad sizes
 * STATUS_INVALID_PARAMETER, as the WDK documents). A and W forms of Copy,
 * CopyN, Cat, CatN and Length; Printf/VPrintf in the A form only (a W
 * printf is not provided: the compiler names it). */
#ifndef LIFETRACE_WDK_NTSTRSAFE_H
#define LIFETRACE_WDK_NTSTRSAFE_H
#include <stdarg.h>
#include <stdio.h>

#include "lifetrace/wddm_kernel.h"

#ifndef STATUS_BUFFER_OVERFLOW
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#endif
#define NTSTRSAFE_MAX_CCH 2147483647
#define NTSTRSAFE_UNICODE_STRING_MAX_CCH 32767

#define LT__STRSAFE_FUNCS(CH, S)                                                              \
  static inline NTSTATUS RtlStringCchLength##S(const CH *psz, size_t cchMax,                  \
                                               size_t *pcchLength) {                         \
    size_t n = 0;                                                                             \
    if (psz == NULL || cchMax == 0 || cchMax > NTSTRSAFE_MAX_CCH) {                           \
      if (pcchLength)                                                                         \
        *pcchLength = 0;                                                                      \
      return STATUS_INVALID_PARAMETER;                                                        \
    }                                                                                         \
    while (n < cchMax && psz[n])                                                              \
      n++;                                                                                    \
    if (pcchLength)                                                                           \
      *pcchLength = n < cchMax ? n : 0;                                                       \
    return n < cchMax ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;                            \
  }                                                                                           \
  static inline NTSTATUS RtlStringCbLength##S(const CH *psz, size_t cbMax, size_t *pcbLength) { \
    size_t cch = 0;                                                                           \
    NTSTATUS st = RtlStringCchLength##S(psz, cbMax / sizeof(CH), &cch);                       \
    if (pcbLength)                                                                            \
      *pcbLength = cch * sizeof(CH);                                                          \
    return st;                                                                                \
  }                                                                                           \
  static inline NTSTATUS RtlStringCchCopyN##S(CH *pszDest, size_t cchDest, const CH *pszSrc,  \
                                              size_t cchToCopy) {                            \
    size_t i = 0;                                                                             \
    if (pszDest == NULL || cchDest == 0 || cchDest > NTSTRSAFE_MAX_CCH)                       \
      return STATUS_INVALID_PARAMETER;                                                        \
    if (pszSrc == NULL) {                                                                     \
      pszDest[0] = 0;                                                                         \
      return cchToCopy ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;                           \
    }                                                                                         \
    while (i + 1 < cchDest && i < cchToCopy && pszSrc[i]) {                                   \
      pszDest[i] = pszSrc[i];                                                                 \
      i++;                                                                                    \
    }                                                                                         \
    pszDest[i] = 0;                                                                           \
    return (i < cchToCopy && pszSrc[i]) ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;            \
  }                                                                                           \
  static inline NTSTATUS RtlStringCchCopy##S(CH *pszDest, size_t cchDest, const CH *pszSrc) { \
    return RtlStringCchCopyN##S(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH);                 \
  }                                                                                           \
  static inline NTSTATUS RtlStringCbCopy##S(CH *pszDest, size_t cbDest, const CH *pszSrc) {   \
    return RtlStringCchCopy##S(pszDest, cbDest / sizeof(CH), pszSrc);                         \
  }                                                                                           \
  static inline NTSTATUS RtlStringCbCopyN##S(CH *pszDest, size_t cbDest, const CH *pszSrc,    \
                                             size_t cbToCopy) {                              \
    return RtlStringCchCopyN##S(pszDest, cbDest / sizeof(CH), pszSrc, cbToCopy / sizeof(CH)); \
  }                                                                                           \
  static inline NTSTATUS RtlStringCchCatN##S(CH *pszDest, size_t cchDest, const CH *pszSrc,   \
                                             size_t cchToAppend) {                           \
    size_t len = 0;                                                                           \
    if (!NT_SUCCESS(RtlStringCchLength##S(pszDest, cchDest, &len)))                           \
      return STATUS_INVALID_PARAMETER;                                                        \
    return RtlStringCchCopyN##S(pszDest + len, cchDest - len, pszSrc, cchToAppend);           \
  }                                                                                           \
  static inline NTSTATUS RtlStringCchCat##S(CH *pszDest, size_t cchDest, const CH *pszSrc) {  \
    return RtlStringCchCatN##S(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_CCH);                  \
  }                                                                                           \
  static inline NTSTATUS RtlStringCbCat##S(CH *pszDest, size_t cbDest, const CH *pszSrc) {    \
    return RtlStringCchCat##S(pszDest, cbDest / sizeof(CH), pszSrc);                          \
  }                                                                                           \
  static inline NTSTATUS RtlStringCbCatN##S(CH *pszDest, size_t cbDest, const CH *pszSrc,     \
                                            size_t cbToAppend) {                             \
    return RtlStringCchCatN##S(pszDest, cbDest / sizeof(CH), pszSrc, cbToAppend / sizeof(CH)); \
  }

LT__STRSAFE_FUNCS(char, A)
LT__STRSAFE_FUNCS(WCHAR, W)

static inline NTSTATUS RtlStringCchVPrintfA(char *pszDest, size_t cchDest, const char *pszFormat,
                                            va_list argList) {
  if (pszDest == NULL || cchDest == 0 || cchDest > NTSTRSAFE_MAX_CCH || pszFormat == NULL)
    return STATUS_INVALID_PARAMETER;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  int n = vsnprintf(pszDest, cchDest, pszFormat, argList);
#pragma GCC diagnostic pop
  if (n < 0) {
    pszDest[0] = 0;
    return STATUS_INVALID_PARAMETER;
  }
  return (size_t)n >= cchDest ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}
static inline NTSTATUS RtlStringCbVPrintfA(char *pszDest, size_t cbDest, const char *pszFormat,
                                           va_list argList) {
  return RtlStringCchVPrintfA(pszDest, cbDest, pszFormat, argList);
}
static inline NTSTATUS RtlStringCchPrintfA(char *pszDest, size_t cchDest, const char *pszFormat,
                                           ...) __attribute__((format(printf, 3, 4)));
static inline NTSTATUS RtlStringCchPrintfA(char *pszDest, size_t cchDest, const char *pszFormat,
                                           ...) {
  va_list ap;
  va_start(ap, pszFormat);
  NTSTATUS st = RtlStringCchVPrintfA(pszDest, cchDest, pszFormat, ap);
  va_end(ap);
  return st;
}
static inline NTSTATUS RtlStringCbPrintfA(char *pszDest, size_t cbDest, const char *pszFormat,
                                          ...) __attribute__((format(printf, 3, 4)));
static inline NTSTATUS RtlStringCbPrintfA(char *pszDest, size_t cbDest, const char *pszFormat,
                                          ...) {
  va_list ap;
  va_start(ap, pszFormat);
  NTSTATUS st = RtlStringCchVPrintfA(pszDest, cbDest, pszFormat, ap);
  va_end(ap);
  return st;
}

/* RtlUnicodeStringCopy / Cat: bounded by the destination's MaximumLength. */
static inline NTSTATUS RtlUnicodeStringCopy(PUNICODE_STRING Dest, PCUNICODE_STRING Src) {
  USHORT n = Src->Length;
  NTSTATUS st = STATUS_SUCCESS;
  if (n > Dest->MaximumLength) {
    n = (USHORT)(Dest->MaximumLength & ~1u);
    st = STATUS_BUFFER_OVERFLOW;
  }
  memcpy(Dest->Buffer, Src->Buffer, n);
  Dest->Length = n;
  return st;
}
#endif
