/* lifetrace — kernel-mode compat header: the wdm.h / ntddk.h / d3dkmddi.h
 * conveniences a KMD's allocation-management source uses on top of the types
 * in lifetrace/wddm.h (SAL annotations, LIST_ENTRY, Rtl* memory routines,
 * Interlocked*, NT_ASSERT / PAGED_CODE, more NTSTATUS codes, the DDI function
 * types and the WDK's pointer typedefs), so that such a source compiles on
 * Linux unchanged or with a few shims. docs/bring-your-own-driver.md says
 * what is here, what is not, and what to shim.
 *
 * Everything here is inline or a macro: it adds no symbol a driver must
 * resolve beyond those of lifetrace/wddm.h (ExAllocatePool2,
 * ExFreePoolWithTag, the spin locks, KeGetCurrentIrql), which the harness
 * provides. Definitions a real WDK header may also make are guarded, so this
 * header can sit next to a driver's own partial shims.
 */
#ifndef LIFETRACE_WDDM_KERNEL_H
#define LIFETRACE_WDDM_KERNEL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/wddm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this compat header set (wddm.h, wddm_kernel.h, umd_data.h,
 * wdk/): bumped when a declaration changes meaning. The miniport table has
 * its own version, LT_MINIPORT_ABI_VERSION (miniport.h), checked at load. */
#define LT_WDDM_COMPAT_VERSION 2

/* ---- annotations and calling conventions: no-ops -------------------------- */
#ifndef _In_
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_z_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _In_reads_bytes_(n)
#define _In_reads_bytes_opt_(n)
#define _Out_writes_(n)
#define _Out_writes_opt_(n)
#define _Out_writes_bytes_(n)
#define _Out_writes_bytes_opt_(n)
#define _Inout_updates_(n)
#define _Inout_updates_bytes_(n)
#define _Outptr_
#define _Outptr_result_maybenull_
#define _Ret_maybenull_
#define _Check_return_
#define _Must_inspect_result_
#define _Use_decl_annotations_
#define _Success_(e)
#define _When_(c, a)
#define _Post_invalid_
#define _Post_writable_byte_size_(n)
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Guarded_by_(l)
#define _Interlocked_
#define _Dispatch_type_(t)
#define _Function_class_(f)
#define _IRQL_requires_(i)
#define _IRQL_requires_max_(i)
#define _IRQL_requires_min_(i)
#define _IRQL_requires_same_
#define _IRQL_raises_(i)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(k, l)
#define _IRQL_restores_global_(k, l)
#define _Requires_lock_held_(l)
#define _Requires_lock_not_held_(l)
#define _Acquires_lock_(l)
#define _Releases_lock_(l)
#define _Acquires_exclusive_lock_(l)
#define _Releases_exclusive_lock_(l)
#endif
#ifndef _Function_class_DXGK_
#define _Function_class_DXGK_(f)
#endif
/* More SAL 2 and the SAL 1 (__in ...) spellings WDK sources still use. An
 * annotation not listed here stays undefined: the compiler names it. */
#ifndef _In_range_
#define _In_range_(l, h)
#define _Out_range_(l, h)
#define _Ret_range_(l, h)
#define _Field_range_(l, h)
#define _Field_size_(n)
#define _Field_size_opt_(n)
#define _Field_size_bytes_(n)
#define _Field_size_bytes_opt_(n)
#define _Field_size_part_(n, m)
#define _Struct_size_bytes_(n)
#define _In_reads_z_(n)
#define _In_reads_or_z_(n)
#define _In_opt_z_
#define _In_z_opt_
#define _Out_writes_z_(n)
#define _Out_writes_to_(n, m)
#define _Out_writes_bytes_to_(n, m)
#define _Out_writes_bytes_all_(n)
#define _Out_writes_all_(n)
#define _Inout_z_
#define _Inout_updates_z_(n)
#define _Inout_updates_opt_(n)
#define _Inout_updates_bytes_opt_(n)
#define _Inout_updates_to_(n, m)
#define _Outptr_opt_
#define _Outptr_result_buffer_(n)
#define _Outptr_result_bytebuffer_(n)
#define _Outptr_opt_result_maybenull_
#define _Out_writes_bytes_to_opt_(n, m)
#define _Ret_
#define _Ret_z_
#define _Ret_notnull_
#define _Ret_writes_(n)
#define _Ret_writes_bytes_(n)
#define _Ret_writes_bytes_maybenull_(n)
#define _Ret_writes_maybenull_(n)
#define _Printf_format_string_
#define _Null_terminated_
#define _NullNull_terminated_
#define _Notnull_
#define _Maybenull_
#define _Pre_
#define _Post_
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Pre_valid_
#define _Post_valid_
#define _Pre_satisfies_(e)
#define _Post_satisfies_(e)
#define _Post_equal_to_(e)
#define _Post_readable_byte_size_(n)
#define _Post_writable_size_(n)
#define _Analysis_assume_(e)
#define _Analysis_mode_(m)
#define _At_(t, a)
#define _At_buffer_(t, i, n, a)
#define _On_failure_(a)
#define _Always_(a)
#define _Return_type_success_(e)
#define _Reserved_
#define _Const_
#define _Literal_
#define _Points_to_data_
#define _Requires_shared_lock_held_(l)
#define _Acquires_shared_lock_(l)
#define _Releases_shared_lock_(l)
#define _Requires_exclusive_lock_held_(l)
#define _Has_lock_kind_(k)
#define _Has_lock_level_(l)
#define _Lock_level_order_(a, b)
#define _Write_guarded_by_(l)
#define _Benign_race_begin_
#define _Benign_race_end_
#define _No_competing_thread_
#define _No_competing_thread_begin_
#define _No_competing_thread_end_
#define _Kernel_float_saved_
#define _Kernel_float_restored_
#define _Kernel_float_used_
#define _Kernel_requires_resource_held_(r)
#define _Kernel_requires_resource_not_held_(r)
#define _Kernel_acquires_resource_(r)
#define _Kernel_releases_resource_(r)
#define _Kernel_clear_do_init_(b)
#define _IRQL_uses_cancel_
#define _IRQL_is_cancel_
#define _IRQL_always_function_max_(i)
#define _IRQL_always_function_min_(i)
#define _IRQL_requires_max_(i)
#define _Strict_type_match_
#define _Enum_is_bitflag_
#define _Must_inspect_impl_
#define _Post_ptr_invalid_
#define _Deref_out_
#define _Deref_out_opt_
#define _Deref_in_range_(l, h)
#define _Deref_out_range_(l, h)
#define _Deref_post_maybenull_
#endif
#ifndef __in
#define __in
#define __out
#define __inout
#define __in_opt
#define __out_opt
#define __inout_opt
#define __in_z
#define __in_ecount(n)
#define __in_bcount(n)
#define __in_ecount_opt(n)
#define __in_bcount_opt(n)
#define __out_ecount(n)
#define __out_bcount(n)
#define __out_ecount_opt(n)
#define __out_bcount_opt(n)
#define __out_bcount_part(n, m)
#define __inout_ecount(n)
#define __inout_bcount(n)
#define __deref_out
#define __deref_out_opt
#define __checkReturn
#define __success(e)
#define __drv_requiresIRQL(i)
#define __drv_maxIRQL(i)
#define __drv_minIRQL(i)
#define __drv_setsIRQL(i)
#define __drv_savesIRQL
#define __drv_restoresIRQL
#define __drv_raisesIRQL(i)
#define __drv_sameIRQL
#define __drv_functionClass(f)
#define __drv_dispatchType(t)
#define __drv_allocatesMem(k)
#define __drv_freesMem(k)
#define __drv_aliasesMem
#define __drv_when(c, a)
#define __drv_arg(e, a)
#define __drv_inTry
#define __drv_mustHold(k)
#define __drv_acquiresResource(k)
#define __drv_releasesResource(k)
#define __drv_valueIs(e)
#define __bcount(n)
#define __ecount(n)
#define __field_bcount(n)
#define __field_ecount(n)
#define __nullterminated
#define __reserved
#endif

/* ---- MSVC spellings ------------------------------------------------------------ */
#ifndef __forceinline
/* C99 inline semantics + always_inline: a header's __forceinline function
 * needs no out-of-line copy in C, and merges in C++. */
#define __forceinline __inline__ __attribute__((always_inline, unused))
#endif
#ifndef __inline
#define __inline __inline__
#endif
/* __declspec(x): each known x maps to its GCC attribute (align(n),
 * noinline, noreturn, selectany, deprecated, dllexport, ...); an unknown one
 * is a compile error naming LT__DECLSPEC_x. */
#ifndef __declspec
#define __declspec(x) LT__DECLSPEC_##x
#define LT__DECLSPEC_align(n) __attribute__((aligned(n)))
#define LT__DECLSPEC_noinline __attribute__((noinline))
#define LT__DECLSPEC_noreturn __attribute__((noreturn))
#define LT__DECLSPEC_selectany __attribute__((weak))
#define LT__DECLSPEC_deprecated __attribute__((deprecated))
#define LT__DECLSPEC_dllexport __attribute__((visibility("default")))
#define LT__DECLSPEC_dllimport
#define LT__DECLSPEC_novtable
#define LT__DECLSPEC_nothrow
#define LT__DECLSPEC_restrict
#define LT__DECLSPEC_noalias
#define LT__DECLSPEC_thread _Thread_local
#define LT__DECLSPEC_allocate(s)
#define LT__DECLSPEC_code_seg(s)
#define LT__DECLSPEC_naked __attribute__((naked))
#endif
/* __pragma(x): MSVC's inline pragma (warning, pack, ...); dropped. */
#ifndef __pragma
#define __pragma(x)
#endif
#ifndef __cdecl
#define __cdecl
#define __stdcall
#define __fastcall
#endif
#ifndef __ptr64
#define __ptr64
#define __ptr32
#define __unaligned
#endif
#ifndef DECLSPEC_ALIGN
#define DECLSPEC_ALIGN(n) __attribute__((aligned(n)))
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_CACHEALIGN __attribute__((aligned(64)))
#endif
#ifndef C_ASSERT
#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif
#endif
#ifndef EXTERN_C
#ifdef __cplusplus
#define EXTERN_C extern "C"
#define EXTERN_C_START extern "C" {
#define EXTERN_C_END }
#else
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#endif
#endif
/* Structured exception handling compiles and runs the guarded body;
 * exceptions are NOT caught (a fault in the body is a miniport-crash, as
 * without the __try), the __except block never runs, the __finally block
 * runs after the body completes normally. __leave is not provided. */
#ifndef __try
#define __try if (1)
#endif
#ifndef __except
#define __except(filter) else if (0 && (filter))
#endif
#ifndef __finally
#define __finally if (1)
#endif
#define GetExceptionCode() ((NTSTATUS)0)
#define GetExceptionInformation() ((PVOID)0)
#define EXCEPTION_EXECUTE_HANDLER 1
#define EXCEPTION_CONTINUE_SEARCH 0
#define EXCEPTION_CONTINUE_EXECUTION (-1)
#ifndef IN
#define IN
#define OUT
#define OPTIONAL
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef NTAPI
#define NTAPI
#endif
#ifndef FORCEINLINE
#define FORCEINLINE static inline
#endif
#ifndef DECLSPEC_NOINLINE
#define DECLSPEC_NOINLINE __attribute__((noinline))
#endif
#ifndef VOID
#define VOID void
#endif
#ifndef CONST
#define CONST const
#endif
#ifndef FORCEINLINE_ATTRIBUTE
#define FORCEINLINE_ATTRIBUTE __attribute__((always_inline))
#endif

/* ---- more base types -------------------------------------------------------- */
typedef char CHAR;
typedef int16_t SHORT;
typedef int INT;
typedef uint8_t BYTE;
typedef uint8_t *PUCHAR;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef ULONG *PULONG;
typedef LONG *PLONG;
typedef UINT *PUINT;
typedef HANDLE *PHANDLE;
typedef PVOID *PPVOID;
typedef const char *PCSTR;
typedef intptr_t LONG_PTR;
typedef KIRQL *PKIRQL;
typedef KSPIN_LOCK *PKSPIN_LOCK;
typedef float FLOAT;
typedef double DOUBLE;
typedef int BOOL, *PBOOL;
typedef uint8_t UINT8, *PUINT8;
typedef uint16_t UINT16, *PUINT16;
typedef uint32_t UINT32, *PUINT32, ULONG32, *PULONG32, DWORD32;
typedef uint64_t UINT64, *PUINT64, DWORD64, *PDWORD64, QWORD;
typedef int8_t INT8, *PINT8;
typedef int16_t INT16, *PINT16;
typedef int32_t INT32, *PINT32, LONG32;
typedef int64_t INT64, *PINT64, LONG64, *PLONG64;
typedef ULONG64 *PULONG64;
typedef ULONGLONG *PULONGLONG;
typedef LONGLONG *PLONGLONG;
typedef USHORT *PUSHORT;
typedef SHORT *PSHORT;
typedef CHAR *PCHAR, *PSTR, *LPSTR;
typedef const char *LPCSTR;
typedef char CCHAR;
typedef LONG HRESULT;
typedef ULONG_PTR *PULONG_PTR;
typedef LONG_PTR *PLONG_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t INT_PTR;
typedef SIZE_T *PSIZE;
typedef intptr_t SSIZE_T;
typedef DWORD *PDWORD, *LPDWORD;
typedef BYTE *PBYTE, *LPBYTE;
typedef WORD *PWORD;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef struct _STRING {
  USHORT Length;
  USHORT MaximumLength;
  PCHAR Buffer;
} STRING, ANSI_STRING, *PANSI_STRING, *PSTRING;
#ifndef S_OK
#define S_OK ((HRESULT)0L)
#define S_FALSE ((HRESULT)1L)
#define E_FAIL ((HRESULT)0x80004005L)
#define E_INVALIDARG ((HRESULT)0x80070057L)
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif
#ifndef MAXULONG
#define MAXULONG 0xffffffffUL
#define MAXLONG 0x7fffffffL
#define MAXUSHORT 0xffff
#define MAXUCHAR 0xff
#define MAXULONG_PTR (~(ULONG_PTR)0)
#define MAXSIZE_T (~(SIZE_T)0)
#define MAXLONGLONG 0x7fffffffffffffffLL
#define MAXULONGLONG 0xffffffffffffffffULL
#endif
#ifndef PAGE_SIZE
#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L
#define BYTES_TO_PAGES(n) (((n) >> PAGE_SHIFT) + (((n) & (PAGE_SIZE - 1)) != 0))
#define ROUND_TO_PAGES(n) (((ULONG_PTR)(n) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#endif
#ifndef ALIGN_UP_BY
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment) ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment)
#endif
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef RTL_FIELD_SIZE
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) \
  (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#endif

/* The WDK's parameter spellings (d3dkmddi.h) for the DDIs lifetrace calls. */
#define IN_CONST_HANDLE const HANDLE
#define IN_CONST_PVOID const PVOID
#define IN_ULONG ULONG
#define IN_UINT UINT
#define IN_CONST_D3DDDI_VIDEO_PRESENT_SOURCE_ID const D3DDDI_VIDEO_PRESENT_SOURCE_ID
#define IN_D3DKMT_HANDLE D3DKMT_HANDLE
#define IN_CONST_LPCGUID const LPCGUID

/* The kernel services (threads, events, DPCs, timers, mutexes, time, debug
 * output): lifetrace/wdk/lt_kernel.h. */
#include "lifetrace/wdk/lt_kernel.h"

/* ---- status codes not in wddm.h ---------------------------------------------- */
#ifndef STATUS_PENDING
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#endif
#ifndef STATUS_NOT_IMPLEMENTED
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#endif
#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#endif
#ifndef STATUS_INTEGER_OVERFLOW
#define STATUS_INTEGER_OVERFLOW ((NTSTATUS)0xC0000095L)
#endif
#ifndef STATUS_INVALID_PARAMETER_1
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EFL)
#define STATUS_INVALID_PARAMETER_2 ((NTSTATUS)0xC00000F0L)
#define STATUS_INVALID_PARAMETER_3 ((NTSTATUS)0xC00000F1L)
#endif
#ifndef STATUS_INVALID_DEVICE_STATE
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#endif
#ifndef STATUS_DEVICE_REMOVED
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)
#endif

#define NT_INFORMATION(s) ((((ULONG)(s)) >> 30) == 1)
#define NT_WARNING(s) ((((ULONG)(s)) >> 30) == 2)
#define NT_ERROR(s) ((((ULONG)(s)) >> 30) == 3)

/* ---- helpers ------------------------------------------------------------------ */
#ifndef UNREFERENCED_PARAMETER
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#endif
#ifndef ARRAYSIZE
#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef RTL_NUMBER_OF
#define RTL_NUMBER_OF(a) ARRAYSIZE(a)
#endif
#ifndef FIELD_OFFSET
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#endif
#ifndef CONTAINING_RECORD
#define CONTAINING_RECORD(address, type, field) \
  ((type *)((char *)(address) - offsetof(type, field)))
#endif
#ifndef ANYSIZE_ARRAY
#define ANYSIZE_ARRAY 1
#endif

#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
#define RtlCompareMemory(Source1, Source2, Length) lt__rtl_compare_memory((Source1), (Source2), (Length))

static inline SIZE_T lt__rtl_compare_memory(const void *a, const void *b, SIZE_T n) {
  const UCHAR *p = (const UCHAR *)a, *q = (const UCHAR *)b;
  SIZE_T i = 0;
  while (i < n && p[i] == q[i])
    i++;
  return i;
}

/* RtlSizeTMult / RtlSizeTAdd (ntintsafe.h): overflow-checked size math. */
static inline NTSTATUS RtlSizeTMult(SIZE_T a, SIZE_T b, SIZE_T *pResult) {
  if (__builtin_mul_overflow(a, b, pResult)) {
    *pResult = (SIZE_T)-1;
    return STATUS_INTEGER_OVERFLOW;
  }
  return STATUS_SUCCESS;
}
static inline NTSTATUS RtlSizeTAdd(SIZE_T a, SIZE_T b, SIZE_T *pResult) {
  if (__builtin_add_overflow(a, b, pResult)) {
    *pResult = (SIZE_T)-1;
    return STATUS_INTEGER_OVERFLOW;
  }
  return STATUS_SUCCESS;
}

/* ---- Interlocked* -------------------------------------------------------------- */
static inline LONG InterlockedIncrement(LONG volatile *p) {
  return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedDecrement(LONG volatile *p) {
  return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchange(LONG volatile *p, LONG v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchangeAdd(LONG volatile *p, LONG v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedCompareExchange(LONG volatile *p, LONG v, LONG cmp) {
  __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
static inline PVOID InterlockedExchangePointer(PVOID volatile *p, PVOID v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *p, PVOID v, PVOID cmp) {
  __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
static inline LONG InterlockedAdd(LONG volatile *p, LONG v) {
  return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAnd(LONG volatile *p, LONG v) {
  return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedOr(LONG volatile *p, LONG v) {
  return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedXor(LONG volatile *p, LONG v) {
  return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedIncrement64(LONG64 volatile *p) {
  return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedDecrement64(LONG64 volatile *p) {
  return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchange64(LONG64 volatile *p, LONG64 v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchangeAdd64(LONG64 volatile *p, LONG64 v) {
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedAdd64(LONG64 volatile *p, LONG64 v) {
  return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedCompareExchange64(LONG64 volatile *p, LONG64 v, LONG64 cmp) {
  __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
static inline LONG64 InterlockedAnd64(LONG64 volatile *p, LONG64 v) {
  return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedOr64(LONG64 volatile *p, LONG64 v) {
  return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
static inline BOOLEAN InterlockedBitTestAndSet(LONG volatile *p, LONG bit) {
  return (BOOLEAN)((__atomic_fetch_or(p, (LONG)(1u << bit), __ATOMIC_SEQ_CST) >> bit) & 1);
}
static inline BOOLEAN InterlockedBitTestAndReset(LONG volatile *p, LONG bit) {
  return (BOOLEAN)((__atomic_fetch_and(p, (LONG)~(1u << bit), __ATOMIC_SEQ_CST) >> bit) & 1);
}
#define InterlockedIncrementNoFence InterlockedIncrement
#define InterlockedDecrementNoFence InterlockedDecrement
#define InterlockedIncrementAcquire InterlockedIncrement
#define InterlockedDecrementRelease InterlockedDecrement
#define InterlockedCompareExchangeAcquire InterlockedCompareExchange
#define InterlockedCompareExchangeRelease InterlockedCompareExchange
#define ReadNoFence(p) (*(const volatile LONG *)(p))
#define WriteNoFence(p, v) (*(volatile LONG *)(p) = (v))
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define _ReadWriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define YieldProcessor() ((void)0)

/* ---- strings ----------------------------------------------------------------------- */
/* RtlInitUnicodeString / RtlInitAnsiString: Length in bytes, as wdm.h. */
static inline VOID RtlInitUnicodeString(PUNICODE_STRING Dest, PCWSTR Source) {
  SIZE_T n = 0;
  if (Source)
    while (Source[n])
      n++;
  Dest->Buffer = (PWSTR)Source;
  Dest->Length = (USHORT)(n * sizeof(WCHAR));
  Dest->MaximumLength = (USHORT)(Source ? Dest->Length + sizeof(WCHAR) : 0);
}
static inline VOID RtlInitAnsiString(PANSI_STRING Dest, PCSTR Source) {
  SIZE_T n = Source ? strlen(Source) : 0;
  Dest->Buffer = (PCHAR)Source;
  Dest->Length = (USHORT)n;
  Dest->MaximumLength = (USHORT)(Source ? n + 1 : 0);
}
static inline BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING a, PCUNICODE_STRING b,
                                            BOOLEAN CaseInSensitive) {
  if (a->Length != b->Length)
    return FALSE;
  for (USHORT i = 0; i < a->Length / sizeof(WCHAR); i++) {
    WCHAR x = a->Buffer[i], y = b->Buffer[i];
    if (CaseInSensitive) {
      x = (WCHAR)(x >= 'a' && x <= 'z' ? x - 32 : x);
      y = (WCHAR)(y >= 'a' && y <= 'z' ? y - 32 : y);
    }
    if (x != y)
      return FALSE;
  }
  return TRUE;
}
#define RTL_CONSTANT_STRING(s) {sizeof(s) - sizeof((s)[0]), sizeof(s), (PWSTR)(s)}
#define DECLARE_CONST_UNICODE_STRING(n, s) const UNICODE_STRING n = RTL_CONSTANT_STRING(s)
#define DECLARE_UNICODE_STRING_SIZE(n, sz) \
  WCHAR n##_buffer[sz];                   \
  UNICODE_STRING n = {0, (USHORT)((sz) * sizeof(WCHAR)), n##_buffer}
#define IsEqualGUID(a, b) (!memcmp((a), (b), sizeof(GUID)))
#define InlineIsEqualGUID IsEqualGUID

/* ---- LIST_ENTRY (the wdm.h doubly linked list) ----------------------------------- */
#ifndef LT_NO_LIST_ENTRY
typedef struct _LIST_ENTRY {
  struct _LIST_ENTRY *Flink;
  struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

FORCEINLINE VOID InitializeListHead(PLIST_ENTRY ListHead) {
  ListHead->Flink = ListHead->Blink = ListHead;
}
FORCEINLINE BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead) {
  return (BOOLEAN)(ListHead->Flink == ListHead);
}
/* Returns TRUE if the list is empty afterwards (as wdm.h does). */
FORCEINLINE BOOLEAN RemoveEntryList(PLIST_ENTRY Entry) {
  PLIST_ENTRY Flink = Entry->Flink, Blink = Entry->Blink;
  Blink->Flink = Flink;
  Flink->Blink = Blink;
  return (BOOLEAN)(Flink == Blink);
}
FORCEINLINE PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead) {
  PLIST_ENTRY Entry = ListHead->Flink;
  RemoveEntryList(Entry);
  return Entry;
}
FORCEINLINE PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead) {
  PLIST_ENTRY Entry = ListHead->Blink;
  RemoveEntryList(Entry);
  return Entry;
}
FORCEINLINE VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry) {
  Entry->Flink = ListHead;
  Entry->Blink = ListHead->Blink;
  ListHead->Blink->Flink = Entry;
  ListHead->Blink = Entry;
}
FORCEINLINE VOID InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry) {
  Entry->Flink = ListHead->Flink;
  Entry->Blink = ListHead;
  ListHead->Flink->Blink = Entry;
  ListHead->Flink = Entry;
}
#endif

/* ---- pool ---------------------------------------------------------------------- */
/* ExAllocatePoolWithTag (deprecated since Windows 10 2004, still common)
 * does not zero the block; ExAllocatePoolZero does; ExAllocatePool (no tag)
 * uses the tag 'enoN' as Windows does. All reach the tracked pool. ExFreePool
 * frees without a tag check (wddm.h). */
typedef enum _POOL_TYPE {
  NonPagedPool = 0,
  PagedPool = 1,
  NonPagedPoolMustSucceed = 2,
  NonPagedPoolCacheAligned = 4,
  PagedPoolCacheAligned = 5,
  NonPagedPoolNx = 512,
} POOL_TYPE;
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_CACHE_ALIGNED 0x0000000000000004ULL
#define POOL_FLAG_RAISE_ON_FAILURE 0x0000000000000020ULL
FORCEINLINE PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag) {
  return ExAllocatePool2(POOL_FLAG_UNINITIALIZED |
                             ((PoolType & 1) ? POOL_FLAG_PAGED : POOL_FLAG_NON_PAGED),
                         NumberOfBytes, Tag);
}
FORCEINLINE PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag) {
  return ExAllocatePool2((PoolType & 1) ? POOL_FLAG_PAGED : POOL_FLAG_NON_PAGED, NumberOfBytes,
                         Tag);
}
FORCEINLINE PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes,
                                              ULONG Tag) {
  return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}
FORCEINLINE PVOID ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes) {
  return ExAllocatePoolWithTag(PoolType, NumberOfBytes, 0x656e6f4e /* 'enoN' */);
}

/* ---- debugging ---------------------------------------------------------------------- */
/* DbgPrint / DbgPrintEx (lifetrace/wdk/lt_kernel.h) go to stderr through
 * a level filter. NT_ASSERT and PAGED_CODE are active when DBG is non-zero
 * (a checked build; lifetrace_add_driver defines DBG=1 in Debug builds): a
 * failed assertion is a miniport-crash finding naming the expression and
 * the site, and ends the DDI (a checked kernel would break into the
 * debugger). */
#ifndef DBG
#define DBG 0
#endif
#if DBG
#define KdPrint(args) DbgPrint args
#define KdPrintEx(args) DbgPrintEx args
#define NT_ASSERT(e) ((e) ? (void)0 : LtAssertionFailure(#e, __FILE__, __LINE__))
#define NT_ASSERTMSG(msg, e) ((e) ? (void)0 : LtAssertionFailure(msg, __FILE__, __LINE__))
#define NT_ASSERTMSGW(msg, e) ((e) ? (void)0 : LtAssertionFailure(#e, __FILE__, __LINE__))
#define NT_VERIFY(e) NT_ASSERT(e)
#else
#define KdPrint(args) ((void)0)
#define KdPrintEx(args) ((void)0)
#define NT_ASSERT(e) ((void)0)
#define NT_ASSERTMSG(msg, e) ((void)0)
#define NT_ASSERTMSGW(msg, e) ((void)0)
#define NT_VERIFY(e) ((void)(e))
#endif
#define NT_ANALYSIS_ASSUME(e) ((void)0)
#define NT_FRE_ASSERT(e) ((e) ? (void)0 : LtAssertionFailure(#e, __FILE__, __LINE__))
#ifndef ASSERT
#define ASSERT(e) NT_ASSERT(e)
#endif
#define PAGED_CODE() NT_ASSERT(KeGetCurrentIrql() <= APC_LEVEL)
#define NT_ASSERT_IRQL_AT_OR_BELOW(i) NT_ASSERT(KeGetCurrentIrql() <= (i))

/* ---- adapter start ------------------------------------------------------------------ */
/* DxgkDdiAddDevice / DxgkDdiStartDevice as the WDK shapes them, for a driver
 * that keeps its own: the lifetrace table's DxgkDdiStartDevice(interface,
 * &hAdapter) is then a few lines of glue that call both (see the sample
 * driver). Only what the simulated dxgkrnl can supply is declared. */
typedef struct _LUID {
  ULONG LowPart;
  LONG HighPart;
} LUID, *PLUID;
typedef struct _DXGK_START_INFO {
  ULONG RequiredDmaQueueEntry;
  GUID AdapterGuid;
  LUID AdapterLuid;
} DXGK_START_INFO, *PDXGK_START_INFO;

/* ---- pointer typedefs of the DDI arguments (d3dkmddi.h spellings) ------------------ */
typedef DXGKARG_CREATEALLOCATION *PDXGKARG_CREATEALLOCATION, *INOUT_PDXGKARG_CREATEALLOCATION;
typedef const DXGKARG_DESTROYALLOCATION *IN_CONST_PDXGKARG_DESTROYALLOCATION;
typedef DXGKARG_DESTROYALLOCATION *PDXGKARG_DESTROYALLOCATION;
typedef const DXGKARG_OPENALLOCATION *IN_CONST_PDXGKARG_OPENALLOCATION;
typedef DXGKARG_OPENALLOCATION *PDXGKARG_OPENALLOCATION;
typedef const DXGKARG_CLOSEALLOCATION *IN_CONST_PDXGKARG_CLOSEALLOCATION;
typedef DXGKARG_CLOSEALLOCATION *PDXGKARG_CLOSEALLOCATION;
typedef DXGK_ALLOCATIONINFO *PDXGK_ALLOCATIONINFO;
typedef DXGK_OPENALLOCATIONINFO *PDXGK_OPENALLOCATIONINFO;
typedef DXGKARG_CREATEDEVICE *PDXGKARG_CREATEDEVICE, *INOUT_PDXGKARG_CREATEDEVICE;
typedef DXGKARG_CREATECONTEXT *PDXGKARG_CREATECONTEXT, *INOUT_PDXGKARG_CREATECONTEXT;
typedef DXGKARG_RENDER *PDXGKARG_RENDER, *INOUT_PDXGKARG_RENDER;
typedef const DXGKARG_SUBMITCOMMAND *IN_CONST_PDXGKARG_SUBMITCOMMAND;
typedef DXGKARG_BUILDPAGINGBUFFER *PDXGKARG_BUILDPAGINGBUFFER, *IN_PDXGKARG_BUILDPAGINGBUFFER;
typedef const DXGKARG_SETVIDPNSOURCEADDRESS *IN_CONST_PDXGKARG_SETVIDPNSOURCEADDRESS;
typedef DXGKARG_LOCK *PDXGKARG_LOCK, *INOUT_PDXGKARG_LOCK;
typedef const DXGKARG_UNLOCK *IN_CONST_PDXGKARG_UNLOCK;
typedef DXGK_ALLOCATIONLIST *PDXGK_ALLOCATIONLIST;
typedef const DXGKARGCB_GETHANDLEDATA *IN_CONST_PDXGKARGCB_GETHANDLEDATA;

/* ---- DDI function types --------------------------------------------------------------
 * Declaring a DDI as `DXGKDDI_CREATEALLOCATION SmpDdiCreateAllocation;` checks
 * its signature against the one the lifetrace table (LT_MINIPORT) expects. */
typedef NTSTATUS APIENTRY DXGKDDI_CREATEALLOCATION(IN_CONST_HANDLE hAdapter,
                                                   INOUT_PDXGKARG_CREATEALLOCATION pCreateAllocation);
typedef NTSTATUS APIENTRY DXGKDDI_DESTROYALLOCATION(
    IN_CONST_HANDLE hAdapter, IN_CONST_PDXGKARG_DESTROYALLOCATION pDestroyAllocation);
typedef NTSTATUS APIENTRY DXGKDDI_OPENALLOCATIONINFO(
    IN_CONST_HANDLE hDevice, IN_CONST_PDXGKARG_OPENALLOCATION pOpenAllocation);
typedef NTSTATUS APIENTRY DXGKDDI_CLOSEALLOCATION(
    IN_CONST_HANDLE hDevice, IN_CONST_PDXGKARG_CLOSEALLOCATION pCloseAllocation);
typedef NTSTATUS APIENTRY DXGKDDI_CREATEDEVICE(IN_CONST_HANDLE hAdapter,
                                               INOUT_PDXGKARG_CREATEDEVICE pCreateDevice);
typedef NTSTATUS APIENTRY DXGKDDI_DESTROYDEVICE(IN_CONST_HANDLE hDevice);
typedef NTSTATUS APIENTRY DXGKDDI_CREATECONTEXT(IN_CONST_HANDLE hDevice,
                                                INOUT_PDXGKARG_CREATECONTEXT pCreateContext);
typedef NTSTATUS APIENTRY DXGKDDI_DESTROYCONTEXT(IN_CONST_HANDLE hContext);
typedef NTSTATUS APIENTRY DXGKDDI_RENDER(IN_CONST_HANDLE hContext, INOUT_PDXGKARG_RENDER pRender);
typedef NTSTATUS APIENTRY DXGKDDI_SUBMITCOMMAND(IN_CONST_HANDLE hAdapter,
                                                IN_CONST_PDXGKARG_SUBMITCOMMAND pSubmitCommand);
typedef BOOLEAN DXGKDDI_INTERRUPT_ROUTINE(IN_CONST_PVOID MiniportDeviceContext,
                                          IN_ULONG MessageNumber);
typedef VOID DXGKDDI_DPC_ROUTINE(IN_CONST_PVOID MiniportDeviceContext);
typedef NTSTATUS APIENTRY DXGKDDI_BUILDPAGINGBUFFER(
    IN_CONST_HANDLE hAdapter, IN_PDXGKARG_BUILDPAGINGBUFFER pBuildPagingBuffer);
typedef NTSTATUS APIENTRY DXGKDDI_SETVIDPNSOURCEADDRESS(
    IN_CONST_HANDLE hAdapter, IN_CONST_PDXGKARG_SETVIDPNSOURCEADDRESS pSetVidPnSourceAddress);
typedef NTSTATUS APIENTRY DXGKDDI_LOCK(IN_CONST_HANDLE hAdapter, INOUT_PDXGKARG_LOCK pLock);
typedef NTSTATUS APIENTRY DXGKDDI_UNLOCK(IN_CONST_HANDLE hAdapter,
                                         IN_CONST_PDXGKARG_UNLOCK pUnlock);
typedef NTSTATUS APIENTRY DXGKDDI_RESETFROMTIMEOUT(IN_CONST_PVOID MiniportDeviceContext);
typedef NTSTATUS APIENTRY DXGKDDI_RESTARTFROMTIMEOUT(IN_CONST_PVOID MiniportDeviceContext);
/* The WDK's AddDevice / StartDevice / StopDevice / RemoveDevice shapes (the
 * lifetrace table merges them into two entries; see above). */
typedef NTSTATUS DXGKDDI_ADD_DEVICE(const PDEVICE_OBJECT PhysicalDeviceObject,
                                    PVOID *MiniportDeviceContext);
typedef NTSTATUS DXGKDDI_START_DEVICE(IN_CONST_PVOID MiniportDeviceContext,
                                      PDXGK_START_INFO DxgkStartInfo,
                                      PDXGKRNL_INTERFACE DxgkInterface,
                                      PULONG NumberOfVideoPresentSources,
                                      PULONG NumberOfChildren);
typedef NTSTATUS DXGKDDI_STOP_DEVICE(IN_CONST_PVOID MiniportDeviceContext);
typedef NTSTATUS DXGKDDI_REMOVE_DEVICE(IN_CONST_PVOID MiniportDeviceContext);

#ifdef __cplusplus
}
#endif
#endif
