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
#define LT_WDDM_COMPAT_VERSION 1

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

/* The WDK's parameter spellings (d3dkmddi.h) for the DDIs lifetrace calls. */
#define IN_CONST_HANDLE const HANDLE
#define IN_CONST_PVOID const PVOID
#define IN_ULONG ULONG
#define IN_UINT UINT

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

/* ---- spin locks at DISPATCH_LEVEL ---------------------------------------------- */
/* For code that already runs at DISPATCH_LEVEL (DPC, SubmitCommand): the lock
 * is taken and released without changing the IRQL, through the harness's
 * spin lock so that recursion is still caught. */
FORCEINLINE VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock) {
  KIRQL OldIrql;
  KeAcquireSpinLock(SpinLock, &OldIrql);
}
FORCEINLINE VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock) {
  KeReleaseSpinLock(SpinLock, DISPATCH_LEVEL);
}

/* ---- pool ---------------------------------------------------------------------- */
/* ExAllocatePoolWithTag (deprecated since Windows 10 2004, still common):
 * unlike ExAllocatePool2 it does not zero the block. There is no
 * ExFreePool: the harness checks every free against the block's tag, so free
 * with ExFreePoolWithTag (which Driver Verifier recommends anyway). */
typedef enum _POOL_TYPE {
  NonPagedPool = 0,
  PagedPool = 1,
  NonPagedPoolNx = 512,
} POOL_TYPE;
FORCEINLINE PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag) {
  return ExAllocatePool2(POOL_FLAG_UNINITIALIZED |
                             (PoolType == PagedPool ? POOL_FLAG_PAGED : POOL_FLAG_NON_PAGED),
                         NumberOfBytes, Tag);
}

/* ---- debugging ---------------------------------------------------------------------- */
/* DbgPrint goes to stderr. NT_ASSERT and PAGED_CODE are active when DBG is
 * non-zero (a checked build; lifetrace_add_driver defines DBG=1 in Debug
 * builds): a failed assertion aborts inside the DDI, which the harness
 * records as a miniport-crash finding (a checked kernel would break into the
 * debugger). */
static inline ULONG DbgPrint(PCSTR Format, ...) {
  va_list ap;
  va_start(ap, Format);
  int n = vfprintf(stderr, Format, ap);
  va_end(ap);
  return (ULONG)(n < 0 ? 0 : n);
}
#define DbgPrintEx(ComponentId, Level, ...) DbgPrint(__VA_ARGS__)
#ifndef DBG
#define DBG 0
#endif
#if DBG
#define KdPrint(args) DbgPrint args
static inline void lt__nt_assert_failed(const char *expr, const char *file, int line) {
  DbgPrint("NT_ASSERT failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
#define NT_ASSERT(e) ((e) ? (void)0 : lt__nt_assert_failed(#e, __FILE__, __LINE__))
#define NT_ASSERTMSG(msg, e) ((e) ? (void)0 : lt__nt_assert_failed(msg, __FILE__, __LINE__))
#else
#define KdPrint(args) ((void)0)
#define NT_ASSERT(e) ((void)0)
#define NT_ASSERTMSG(msg, e) ((void)0)
#endif
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
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT;
typedef struct _DXGK_START_INFO {
  ULONG RequiredDmaQueueEntry;
} DXGK_START_INFO, *PDXGK_START_INFO;
typedef DXGKRNL_INTERFACE *PDXGKRNL_INTERFACE;

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
