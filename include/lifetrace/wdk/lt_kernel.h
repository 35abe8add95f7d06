/* lifetrace — the kernel services a KMD calls (wdm.h / ntddk.h shapes):
 * dispatcher objects (KEVENT, KMUTEX, KSEMAPHORE, threads), waits, DPCs,
 * timers, fast mutexes, IRQL, system time, object references, debug output
 * and assertions. The harness implements each routine declared here
 * (harness/kernel_*.c); anything a driver calls that is not declared here or
 * in lifetrace/wddm*.h is not provided and fails at link (static) or load
 * (dlopen) with its name.
 *
 * The schedule is deterministic and single-threaded: a system thread is a
 * coroutine that the harness runs at defined points (after each DDI
 * returns, after the ISR/DPC of a fence completion) until it waits on an
 * object that is not signalled; DPCs and expired timers run at the same
 * points, at DISPATCH_LEVEL. Time is virtual: it advances 1 ms per trace
 * event, and jumps to the next timer when everything else is idle.
 * docs/bring-your-own-driver.md has the table of every facility.
 */
#ifndef LIFETRACE_WDK_LT_KERNEL_H
#define LIFETRACE_WDK_LT_KERNEL_H

#include <stdarg.h>

#include "lifetrace/wddm.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef STATUS_WAIT_0
#define STATUS_WAIT_0 ((NTSTATUS)0x00000000L)
#endif
/* KeWaitForMultipleObjects(WaitAny) returns STATUS_WAIT_0 + the index of
 * the object that satisfied it; ntstatus.h names the first few. */
#ifndef STATUS_WAIT_1
#define STATUS_WAIT_1 ((NTSTATUS)0x00000001L)
#define STATUS_WAIT_2 ((NTSTATUS)0x00000002L)
#define STATUS_WAIT_3 ((NTSTATUS)0x00000003L)
#define STATUS_WAIT_63 ((NTSTATUS)0x0000003FL)
#endif
#ifndef STATUS_ABANDONED_WAIT_0
#define STATUS_ABANDONED ((NTSTATUS)0x00000080L)
#define STATUS_ABANDONED_WAIT_0 ((NTSTATUS)0x00000080L)
#define STATUS_ABANDONED_WAIT_63 ((NTSTATUS)0x000000BFL)
#endif
#ifndef STATUS_TIMEOUT
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#endif
#ifndef STATUS_ALERTED
#define STATUS_ALERTED ((NTSTATUS)0x00000101L)
#endif
#ifndef STATUS_MUTANT_NOT_OWNED
#define STATUS_MUTANT_NOT_OWNED ((NTSTATUS)0xC0000046L)
#endif

typedef LONG KPRIORITY;
typedef UCHAR KPROCESSOR_MODE;
typedef ULONG ACCESS_MASK;
#define KernelMode 0
#define UserMode 1
#define LOW_PRIORITY 0
#define LOW_REALTIME_PRIORITY 16
#define HIGH_PRIORITY 31
#define IO_NO_INCREMENT 0
#define EVENT_INCREMENT 1
#define SEMAPHORE_INCREMENT 1
#define THREAD_ALL_ACCESS 0x001FFFFFUL
#define SYNCHRONIZE 0x00100000UL
#define MAXIMUM_WAIT_OBJECTS 64
#define THREAD_WAIT_OBJECTS 3

typedef enum _KWAIT_REASON { Executive = 0, FreePage, PageIn, PoolAllocation, DelayExecution,
                             Suspended, UserRequest, WrExecutive } KWAIT_REASON;
typedef enum _WAIT_TYPE { WaitAll = 0, WaitAny = 1 } WAIT_TYPE;
typedef enum _EVENT_TYPE { NotificationEvent = 0, SynchronizationEvent = 1 } EVENT_TYPE;
typedef enum _TIMER_TYPE { NotificationTimer = 0, SynchronizationTimer = 1 } TIMER_TYPE;

/* The header of every waitable object (layout is lifetrace's own; drivers
 * treat it as opaque). */
typedef struct _DISPATCHER_HEADER {
  LONG Type;        /* lifetrace's object kind */
  LONG SignalState; /* > 0: signalled */
  PVOID Owner;      /* mutexes: the owning thread */
  LONG Count;       /* mutexes: recursion count; semaphores: limit */
} DISPATCHER_HEADER;

typedef struct _KEVENT {
  DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;

typedef struct _KMUTANT {
  DISPATCHER_HEADER Header;
} KMUTANT, *PKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

typedef struct _KSEMAPHORE {
  DISPATCHER_HEADER Header;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

typedef struct _KDPC KDPC, *PKDPC, *PRKDPC;
typedef void KDEFERRED_ROUTINE(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                               PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;
struct _KDPC {
  UCHAR Type;
  UCHAR Importance;
  USHORT Number;
  PKDEFERRED_ROUTINE DeferredRoutine;
  PVOID DeferredContext;
  PVOID SystemArgument1;
  PVOID SystemArgument2;
  PVOID DpcData; /* non-NULL while queued */
  struct _KDPC *LtNext;
};

typedef struct _KTIMER {
  DISPATCHER_HEADER Header;
  ULONGLONG DueTime; /* virtual 100 ns units */
  LONG Period;       /* ms, 0 = one-shot */
  PKDPC Dpc;
  BOOLEAN Inserted;
  struct _KTIMER *LtNext;
} KTIMER, *PKTIMER, *PRKTIMER;

/* FAST_MUTEX / KGUARDED_MUTEX: not recursive, raise to APC_LEVEL. */
typedef struct _FAST_MUTEX {
  DISPATCHER_HEADER Header; /* SignalState 1 free, 0 owned; Owner */
  ULONG Contention;
  KIRQL OldIrql;
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;

/* In-stack queued spin lock. */
typedef struct _KLOCK_QUEUE_HANDLE {
  KSPIN_LOCK *Lock;
  KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

/* Threads: a PETHREAD / PKTHREAD is waitable (signalled when it ends). */
typedef struct _KTHREAD KTHREAD, *PKTHREAD, *PRKTHREAD, ETHREAD, *PETHREAD;
typedef struct _EPROCESS EPROCESS, *PEPROCESS, KPROCESS, *PKPROCESS;
typedef struct _OBJECT_TYPE *POBJECT_TYPE;
typedef void KSTART_ROUTINE(PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;
typedef struct _OBJECT_ATTRIBUTES {
  ULONG Length;
  HANDLE RootDirectory;
  PUNICODE_STRING ObjectName;
  ULONG Attributes;
  PVOID SecurityDescriptor;
  PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;
typedef struct _CLIENT_ID {
  HANDLE UniqueProcess;
  HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;
#define OBJ_KERNEL_HANDLE 0x00000200L
#define InitializeObjectAttributes(p, n, a, r, s) \
  do {                                            \
    (p)->Length = sizeof(OBJECT_ATTRIBUTES);      \
    (p)->RootDirectory = (r);                     \
    (p)->Attributes = (a);                        \
    (p)->ObjectName = (n);                        \
    (p)->SecurityDescriptor = (s);                \
    (p)->SecurityQualityOfService = NULL;         \
  } while (0)
extern POBJECT_TYPE *PsThreadType;
#define NtCurrentProcess() ((HANDLE)(intptr_t)-1)

/* ---- events, mutexes, semaphores -------------------------------------------- */
void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
LONG KeResetEvent(PRKEVENT Event);
void KeClearEvent(PRKEVENT Event);
LONG KeReadStateEvent(PRKEVENT Event);
void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
LONG KeReadStateMutex(PRKMUTEX Mutex);
void KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment,
                        BOOLEAN Wait);
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);

/* Waits (Timeout: NULL = forever, negative = relative, 100 ns units). In a
 * system thread the thread blocks until the harness runs it again; in a DDI
 * or DPC the harness runs other threads, DPCs and timers until the object
 * is signalled, and a wait nothing can satisfy is a miniport-crash finding
 * (a hang). Waiting above APC_LEVEL with a non-zero timeout is one too. */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout);
NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType,
                                  KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                  BOOLEAN Alertable, PLARGE_INTEGER Timeout, PVOID WaitBlockArray);
#define KeWaitForMutexObject KeWaitForSingleObject
NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                PLARGE_INTEGER Interval);

/* ---- fast and guarded mutexes ------------------------------------------------- */
void ExInitializeFastMutex(PFAST_MUTEX FastMutex);
void ExAcquireFastMutex(PFAST_MUTEX FastMutex);
void ExReleaseFastMutex(PFAST_MUTEX FastMutex);
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);
void ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex);
void ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex);
#define KeInitializeGuardedMutex ExInitializeFastMutex
#define KeAcquireGuardedMutex ExAcquireFastMutex
#define KeReleaseGuardedMutex ExReleaseFastMutex
#define KeTryToAcquireGuardedMutex ExTryToAcquireFastMutex

/* ---- IRQL and spin locks --------------------------------------------------------- */
void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
void KeLowerIrql(KIRQL NewIrql);
KIRQL KeRaiseIrqlToDpcLevel(void);
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
void KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
void KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);
void KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock,
                                              PKLOCK_QUEUE_HANDLE LockHandle);
void KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle);

/* ---- DPCs and timers ---------------------------------------------------------------- */
void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
void KeInitializeThreadedDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine,
                             PVOID DeferredContext);
BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc);
void KeFlushQueuedDpcs(void);
void KeInitializeTimer(PKTIMER Timer);
void KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc);
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc);
BOOLEAN KeCancelTimer(PKTIMER Timer);
BOOLEAN KeReadStateTimer(PKTIMER Timer);

/* ---- system threads and object references ------------------------------------------- */
/* Creates a system thread: a coroutine the harness first runs at the next
 * schedule point. *ThreadHandle is a kernel handle for ObReferenceObjectByHandle
 * and ZwClose. */
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess,
                              POBJECT_ATTRIBUTES ObjectAttributes, HANDLE ProcessHandle,
                              PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext);
/* Ends the calling system thread (never returns). From outside a system
 * thread it is a miniport-crash finding. */
NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus);
PKTHREAD KeGetCurrentThread(void);
#define PsGetCurrentThread() ((PETHREAD)KeGetCurrentThread())
HANDLE PsGetCurrentThreadId(void);
HANDLE PsGetCurrentProcessId(void);
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority);
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess,
                                   POBJECT_TYPE ObjectType, KPROCESSOR_MODE AccessMode,
                                   PVOID *Object, PVOID HandleInformation);
LONG_PTR ObfReferenceObject(PVOID Object);
LONG_PTR ObfDereferenceObject(PVOID Object);
#define ObReferenceObject(o) ObfReferenceObject(o)
#define ObDereferenceObject(o) ObfDereferenceObject(o)
NTSTATUS ZwClose(HANDLE Handle);
#define NtClose ZwClose

/* ---- time ----------------------------------------------------------------------------- */
/* Virtual time: 100 ns units since 1601 as on Windows, starting at a fixed
 * date, advancing 1 ms per trace event (reproducible runs). */
void KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);
ULONGLONG KeQueryInterruptTime(void);
void KeQueryTickCount(PLARGE_INTEGER TickCount);
ULONG KeQueryTimeIncrement(void);
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
/* Busy-waits in virtual time (advances the clock; runs nothing else). */
void KeStallExecutionProcessor(ULONG MicroSeconds);

/* ---- debug output and assertions --------------------------------------------------------- */
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
#define DPFLTR_MASK 0x80000000
#define DPFLTR_IHVVIDEO_ID 80
#define DPFLTR_IHVDRIVER_ID 77
#define DPFLTR_DEFAULT_ID 101
/* DbgPrintEx prints to stderr when Level passes the filter: a level 0..31
 * is printed when it is at most LIFETRACE_DBGPRINT_LEVEL (default 0: errors
 * only, as Windows' default filter), a mask (> 31) when it shares a bit with
 * (2 << that level) - 1; LIFETRACE_DBGPRINT_LEVEL=-1 silences everything.
 * DbgPrint is DbgPrintEx(DPFLTR_DEFAULT_ID, DPFLTR_INFO_LEVEL, ...). */
ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
    __attribute__((format(printf, 3, 4)));
ULONG vDbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, va_list ap);
/* WPP's trace call (lifetrace/wdk/wpp.h): Format may hold WPP's %!X!
 * conversions, which are rewritten (%!FUNC! to Function, %!STATUS! and
 * %!HRESULT! to hex, ...) before it goes through DbgPrintEx's filter. */
void LtWppTrace(ULONG Level, ULONG Flags, const char *Function, int Line, PCSTR Format, ...);
/* A failed NT_ASSERT / ASSERT: records a miniport-crash finding naming the
 * expression and the site (File:Line) and ends the DDI (a checked kernel
 * breaks into the debugger there); the replay stops, as after a crash. */
void LtAssertionFailure(PCSTR Expression, PCSTR File, ULONG Line);
/* KeBugCheckEx: a miniport-crash finding with the code; ends the DDI. */
void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4);
#define KeBugCheck(c) KeBugCheckEx((c), 0, 0, 0, 0)

#ifdef __cplusplus
}
#endif
#endif
