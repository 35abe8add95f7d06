//
// rndkmd.h - a render-only WDDM miniport (C++): adapter, devices, contexts,
// resources and allocations, a DMA queue retired by a worker thread, an ISR
// and a DPC. Shared by every source file of the driver.
//
// Locks, in the order they nest:
//   RND_ADAPTER::ObjectLock   resources and standalone allocations (lists)
//   RND_ADAPTER::QueueLock    the DMA queue, and every reference a queued
//                             packet holds (RND_ALLOCATION::GpuReferences,
//                             RND_CONTEXT::QueuedPackets)
// The ISR's fence array is read through DxgkCbSynchronizeExecution.
//
#pragma once

#include <ntddk.h>
#include <dispmprt.h>
#include <d3dkmddi.h>
#include <d3d10umddi.h>
#include <dxgiformat.h>

#include "rndumd_shared.h"

// Pool tags, one per object kind (a pool dump shows them as 'RdAd', ...).
#define RND_TAG_ADAPTER     'dAdR'
#define RND_TAG_DEVICE      'vDdR'
#define RND_TAG_CONTEXT     'xCdR'
#define RND_TAG_RESOURCE    'sRdR'
#define RND_TAG_ALLOCATION  'lAdR'
#define RND_TAG_PACKET      'kPdR'

#define RND_MAX_NODES           4
#define RND_MAX_PACKET_ALLOCS   32
#define RND_DMA_PRIVATE_MAGIC   0x52444D41u     // 'RDMA'

// WPP flags (the control GUID's bits).
#define TRACE_ADAPTER   0x0001
#define TRACE_ALLOC     0x0002
#define TRACE_DMA       0x0004
#define TRACE_INTERRUPT 0x0008

// RndGlobalDebugFlags (the "DebugFlags" registry value of the service key).
// RND_DEBUG_TRUST_DXGK_IDLE: DestroyAllocation trusts that dxgkrnl destroys
// an allocation only once the GPU is done with it, and skips dropping the DMA
// queue's references to it (bug 1: the queue retires in submission order
// across nodes, so it can lag behind the GPU).
#define RND_DEBUG_TRUST_DXGK_IDLE   0x00000001u

extern ULONG RndGlobalDebugFlags;

//
// Kernel-mode operator new: placement form with a pool type and a tag, as
// the WDK has no default one (rndkmd_new.cpp). Returns NULL on failure.
//
void *__cdecl operator new(size_t Size, POOL_TYPE PoolType, ULONG Tag) noexcept;
void *__cdecl operator new[](size_t Size, POOL_TYPE PoolType, ULONG Tag) noexcept;
void __cdecl operator delete(void *Pointer, POOL_TYPE PoolType, ULONG Tag) noexcept;

struct RND_ADAPTER;
struct RND_DEVICE;

// A spin lock held for a scope.
class RndSpinLockGuard {
public:
    explicit RndSpinLockGuard(PKSPIN_LOCK Lock) : m_Lock(Lock) { KeAcquireSpinLock(m_Lock, &m_OldIrql); }
    ~RndSpinLockGuard() { KeReleaseSpinLock(m_Lock, m_OldIrql); }
    RndSpinLockGuard(const RndSpinLockGuard &) = delete;
    RndSpinLockGuard &operator=(const RndSpinLockGuard &) = delete;

private:
    PKSPIN_LOCK m_Lock;
    KIRQL m_OldIrql;
};

struct RND_RESOURCE {
    LIST_ENTRY           AdapterLink;       // RND_ADAPTER::Resources
    LIST_ENTRY           Allocations;       // RND_ALLOCATION::ResourceLink
    ULONG                AllocationCount;
    RNDUMD_RESOURCE_DESC Desc;
};

struct RND_ALLOCATION {
    LIST_ENTRY          ResourceLink;       // RND_RESOURCE::Allocations or RND_ADAPTER::Standalone
    RND_RESOURCE       *Resource;           // NULL: a standalone (device) allocation
    RNDUMD_SURFACE_DESC Desc;
    SIZE_T              Size;
    UINT                SegmentId;          // where the last paging transfer put it (0: system)
    LONG                GpuReferences;      // queued packets naming it (QueueLock)
    UINT                LastRetiredFence;   // (QueueLock)
    volatile LONG       Opens;              // device bindings
};

struct RND_CONTEXT {
    RND_DEVICE *Device;
    UINT        NodeOrdinal;
    LONG        QueuedPackets;              // (QueueLock)
    ULONG       Renders;
};

struct RND_DEVICE {
    RND_ADAPTER  *Adapter;
    volatile LONG Contexts;
};

// What Render leaves for SubmitCommand in the DMA buffer's private data.
struct RND_DMA_PRIVATE {
    UINT            Magic;                  // RND_DMA_PRIVATE_MAGIC
    UINT            AllocationCount;
    RND_ALLOCATION *Allocations[RND_MAX_PACKET_ALLOCS];
};

// A submitted DMA buffer, from SubmitCommand until the worker retires it.
struct RND_PACKET {
    LIST_ENTRY      QueueLink;              // RND_ADAPTER::DmaQueue
    RND_CONTEXT    *Context;                // NULL once DestroyContext cancelled it
    UINT            NodeOrdinal;
    UINT            FenceId;
    UINT            AllocationCount;
    RND_ALLOCATION *Allocations[RND_MAX_PACKET_ALLOCS];   // NULL: cancelled
};

struct RND_ADAPTER {
    DXGKRNL_INTERFACE Dxgk;
    DXGK_DEVICE_INFO  DeviceInfo;
    ULONG             DebugFlags;           // RndGlobalDebugFlags at AddDevice

    KSPIN_LOCK        ObjectLock;
    LIST_ENTRY        Resources;            // RND_RESOURCE
    LIST_ENTRY        Standalone;           // RND_ALLOCATION without a resource
    volatile LONG     LiveAllocations;

    KSPIN_LOCK        QueueLock;
    LIST_ENTRY        DmaQueue;             // RND_PACKET, in submission order (every node)
    UINT              CompletedFence[RND_MAX_NODES];   // written by the ISR
    KEVENT            CompletionEvent;      // DPC -> worker (synchronization event)
    KEVENT            StopEvent;            // StopDevice -> worker (notification event)
    PKTHREAD          Worker;
    volatile LONG     PacketsRetired;
    volatile LONG     Interrupts;
    PHYSICAL_ADDRESS  PrimaryAddress;
};

EXTERN_C_START

// rndkmd_device.cpp
DXGKDDI_ADD_DEVICE RndDdiAddDevice;
DXGKDDI_START_DEVICE RndDdiStartDevice;
DXGKDDI_STOP_DEVICE RndDdiStopDevice;
DXGKDDI_REMOVE_DEVICE RndDdiRemoveDevice;
DXGKDDI_CREATEDEVICE RndDdiCreateDevice;
DXGKDDI_DESTROYDEVICE RndDdiDestroyDevice;
DXGKDDI_BUILDPAGINGBUFFER RndDdiBuildPagingBuffer;
DXGKDDI_SETVIDPNSOURCEADDRESS RndDdiSetVidPnSourceAddress;
DXGKDDI_LOCK RndDdiLock;
DXGKDDI_UNLOCK RndDdiUnlock;
DXGKDDI_RESETFROMTIMEOUT RndDdiResetFromTimeout;
DXGKDDI_RESTARTFROMTIMEOUT RndDdiRestartFromTimeout;

// rndkmd_context.cpp
DXGKDDI_CREATECONTEXT RndDdiCreateContext;
DXGKDDI_DESTROYCONTEXT RndDdiDestroyContext;
DXGKDDI_RENDER RndDdiRender;

// rndkmd_allocation.cpp
DXGKDDI_CREATEALLOCATION RndDdiCreateAllocation;
DXGKDDI_DESTROYALLOCATION RndDdiDestroyAllocation;
DXGKDDI_OPENALLOCATIONINFO RndDdiOpenAllocation;
DXGKDDI_CLOSEALLOCATION RndDdiCloseAllocation;

// rndkmd_dma.cpp
DXGKDDI_SUBMITCOMMAND RndDdiSubmitCommand;

// rndkmd_interrupt.cpp
DXGKDDI_INTERRUPT_ROUTINE RndDdiInterruptRoutine;
DXGKDDI_DPC_ROUTINE RndDdiDpcRoutine;

EXTERN_C_END

// rndkmd_dma.cpp: the DMA queue and its worker thread.
_IRQL_requires_(PASSIVE_LEVEL) NTSTATUS RndDmaStart(_Inout_ RND_ADAPTER *Adapter);
_IRQL_requires_(PASSIVE_LEVEL) VOID RndDmaStop(_Inout_ RND_ADAPTER *Adapter);
_IRQL_requires_max_(DISPATCH_LEVEL) VOID RndDmaCancelAllocation(_Inout_ RND_ADAPTER *Adapter,
                                                                _In_ RND_ALLOCATION *Allocation);
_IRQL_requires_max_(DISPATCH_LEVEL) VOID RndDmaCancelContext(_Inout_ RND_ADAPTER *Adapter,
                                                             _In_ RND_CONTEXT *Context);
_IRQL_requires_max_(DISPATCH_LEVEL) VOID RndDmaCancelAll(_Inout_ RND_ADAPTER *Adapter);
_IRQL_requires_max_(DISPATCH_LEVEL) VOID RndDmaRetireCompleted(_Inout_ RND_ADAPTER *Adapter);
