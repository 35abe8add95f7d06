/*++

Module Name:

    smpkmd.h

Abstract:

    Sample display miniport (SMPKMD): the allocation-management object model.

    Object layout
    -------------
    A resource and its allocations live in ONE nonpaged pool block: an
    SMP_RESOURCE header followed by the SMP_ALLOCATION array (VBox-style
    embedding). hResource is the block, hAllocation points into it.

    Allocations added to an existing resource later (CreateAllocation with
    hResource set) cannot go into the resource's block, so each such call
    gets an EXTENSION block of the same shape, chained on its resource.
    Device allocations (no Flags.Resource) get a STANDALONE block per call
    that dxgkrnl never sees.

    A block is freed when nothing embedded in it is alive: its allocations
    are destroyed and, for a resource, DestroyResource was received and its
    extensions are gone (an extension points at its resource).

    Each device keeps a binding record (SMP_BINDING, hDeviceSpecificAllocation)
    per successful open. The adapter keeps a small direct-mapped handle cache
    that maps D3DKMT_HANDLEs of shared allocations to SMP_ALLOCATIONs, so that
    repeated cross-process opens skip DxgkCbGetHandleData.

    One adapter spin lock guards every list, the handle cache, the scanout
    table and every allocation field the DPC or the flip path touches.

Environment:

    Kernel mode. Built on Linux against lifetrace's WDK compat headers.

--*/

#pragma once

#include <ntddk.h>
#include <d3dkmddi.h>

//
// Pool tags. Multi-character literals, as KMDs write them: read right to
// left, so 'dAmS' shows as "SmAd" in a pool dump.
//
#define SMP_TAG_ADAPTER     'dAmS'  // SmAd  SMP_ADAPTER
#define SMP_TAG_DEVICE      'vDmS'  // SmDv  SMP_DEVICE
#define SMP_TAG_CONTEXT     'xCmS'  // SmCx  SMP_CONTEXT
#define SMP_TAG_RESOURCE    'sRmS'  // SmRs  resource block (header + embedded allocations)
#define SMP_TAG_EXTENSION   'xRmS'  // SmRx  extension block (allocations added later)
#define SMP_TAG_STANDALONE  'aSmS'  // SmSa  standalone block (device allocations)
#define SMP_TAG_BINDING     'dBmS'  // SmBd  SMP_BINDING (one per open)
#define SMP_TAG_PRIVATE     'dPmS'  // SmPd  copy of the resource-level UMD blob

//
// Signatures, checked at DDI entry on checked (DBG) builds.
//
#define SMP_SIG_ADAPTER     'pdAS'
#define SMP_SIG_DEVICE      'vdDS'
#define SMP_SIG_CONTEXT     'xcCS'
#define SMP_SIG_BLOCK       'kbBS'
#define SMP_SIG_BINDING     'dbBS'
#define SMP_SIG_DMA         'amDS'

#define SMP_MAX_SOURCES             16
#define SMP_MAX_ALLOCATIONS_PER_CALL 256
#define SMP_MAX_PRIVATE_DATA        (64 * 1024)
#define SMP_PAGE_SIZE               4096
#define SMP_HANDLE_CACHE_SIZE       64      // power of two
#define SMP_PRIORITY_NORMAL         0x78000000
#define SMP_CPU_APERTURE_BASE       ((ULONG_PTR)0xFFFFF78000000000ull)

typedef struct _SMP_ADAPTER SMP_ADAPTER, *PSMP_ADAPTER;
typedef struct _SMP_DEVICE SMP_DEVICE, *PSMP_DEVICE;
typedef struct _SMP_CONTEXT SMP_CONTEXT, *PSMP_CONTEXT;
typedef struct _SMP_RESOURCE SMP_RESOURCE, *PSMP_RESOURCE;
typedef struct _SMP_ALLOCATION SMP_ALLOCATION, *PSMP_ALLOCATION;
typedef struct _SMP_BINDING SMP_BINDING, *PSMP_BINDING;

typedef enum _SMP_BLOCK_KIND {
    SmpBlockResource = 1,   // hResource; allocations of the creating call
    SmpBlockExtension,      // allocations added to a resource later
    SmpBlockStandalone,     // device allocations of one CreateAllocation call
} SMP_BLOCK_KIND;

//
// One allocation, embedded in a block. Adapter object: nothing here points at
// a device (a shared allocation outlives the device that created it).
//
struct _SMP_ALLOCATION {
    PSMP_RESOURCE           pBlock;         // the block this allocation is embedded in
    LIST_ENTRY              OpenListHead;   // SMP_BINDING.AllocationEntry
    ULONG                   cOpens;
    D3DKMT_HANDLE           hKernel;        // dxgkrnl handle, learned at the first open
    ULONG                   CacheSlot;      // 1 + handle-cache slot, 0 = not cached
    SIZE_T                  Size;
    UINT                    Alignment;
    UINT                    SegmentSet;
    DXGK_ALLOCATIONINFOFLAGS Flags;
    ULONG                   cLocks;
    ULONG                   ScanoutMask;    // VidPn sources scanning it out
    UINT                    SegmentId;      // 0 = not resident
    PHYSICAL_ADDRESS        SegmentAddress;
    BOOLEAN                 ApertureMapped;
    BOOLEAN                 ContentLost;
    BOOLEAN                 Destroyed;
};

//
// A pool block holding allocations: a resource, an extension of one, or the
// standalone allocations of one call.
//
struct _SMP_RESOURCE {
    ULONG                   Signature;
    SMP_BLOCK_KIND          Kind;
    LIST_ENTRY              AdapterEntry;       // resource, standalone: SMP_ADAPTER.BlockListHead
    PSMP_RESOURCE           pOwner;             // extension: its resource; else self
    LIST_ENTRY              ExtensionListHead;  // resource: its extension blocks
    LIST_ENTRY              ExtensionEntry;     // extension: link on pOwner->ExtensionListHead
    LIST_ENTRY              ReapEntry;          // on a DestroyAllocation's list of blocks to free
    ULONG                   cLive;              // allocations of this block not yet destroyed
    ULONG                   cLiveResource;      // resource: live allocations across all its blocks
    BOOLEAN                 ResourceDestroyed;  // resource: DestroyResource received
    PVOID                   pPrivateData;       // resource: 'SmPd' copy of the resource blob
    UINT                    PrivateDataSize;
    UINT                    NumAllocations;
    SMP_ALLOCATION          Allocations[];
};

//
// Direct-mapped cache of dxgkrnl handles of shared allocations.
//
typedef struct _SMP_HANDLE_CACHE_ENTRY {
    D3DKMT_HANDLE           hKernel;        // 0 = empty
    PSMP_ALLOCATION         pAllocation;
} SMP_HANDLE_CACHE_ENTRY;

typedef struct _SMP_SOURCE {
    PSMP_ALLOCATION         pPrimary;       // current scanout, NULL = blank
    UINT                    SegmentId;
    PHYSICAL_ADDRESS        Address;
} SMP_SOURCE;

struct _SMP_ADAPTER {
    ULONG                   Signature;
    DXGKRNL_INTERFACE       DxgkInterface;
    KSPIN_LOCK              Lock;
    LIST_ENTRY              DeviceListHead;     // SMP_DEVICE.AdapterEntry
    LIST_ENTRY              ContextListHead;    // SMP_CONTEXT.AdapterEntry (for the DPC)
    LIST_ENTRY              BlockListHead;      // SMP_RESOURCE.AdapterEntry
    SMP_SOURCE              Sources[SMP_MAX_SOURCES];
    SMP_HANDLE_CACHE_ENTRY  HandleCache[SMP_HANDLE_CACHE_SIZE];
    ULONG                   HandleCacheHits;
    ULONG                   HandleCacheMisses;
    ULONG                   HandleCacheEvictions;
    BOOLEAN                 Started;
    BOOLEAN                 InReset;
    ULONG                   EvictionNotices;
};

struct _SMP_DEVICE {
    ULONG                   Signature;
    LIST_ENTRY              AdapterEntry;
    PSMP_ADAPTER            pAdapter;
    HANDLE                  hDxgkDevice;
    LIST_ENTRY              BindingListHead;    // SMP_BINDING.DeviceEntry
    LIST_ENTRY              ContextListHead;    // SMP_CONTEXT.DeviceEntry
    ULONG                   cBindings;
};

//
// A device's binding of an allocation: hDeviceSpecificAllocation.
//
struct _SMP_BINDING {
    ULONG                   Signature;
    LIST_ENTRY              DeviceEntry;
    LIST_ENTRY              AllocationEntry;
    PSMP_DEVICE             pDevice;
    PSMP_ALLOCATION         pAllocation;    // NULL once detached from a destroyed allocation
    D3DKMT_HANDLE           hKernel;
    BOOLEAN                 ReadOnly;
};

struct _SMP_CONTEXT {
    ULONG                   Signature;
    LIST_ENTRY              DeviceEntry;
    LIST_ENTRY              AdapterEntry;
    PSMP_DEVICE             pDevice;
    HANDLE                  hDxgkContext;
    UINT                    NodeOrdinal;
    UINT                    LastSubmittedFence;
    UINT                    LastCompletedFence;
};

//
// DMA buffer private data: what Render leaves for SubmitCommand.
//
typedef struct _SMP_DMA_PRIVATE {
    ULONG                   Signature;
    PSMP_CONTEXT            pContext;
    UINT                    NumAllocations;
} SMP_DMA_PRIVATE;

//
// Driver-wide switches (read from the registry on Windows; set through the
// lifetrace option "bugs" here). Bit N-1 = sample bug N.
//
#define SMP_BUG_STALE_HANDLE_CACHE  1
extern ULONG SmpBugMask;
#define SmpBugEnabled(Bug) ((SmpBugMask & (1u << ((Bug) - 1))) != 0)

FORCEINLINE KIRQL SmpAcquireAdapterLock(PSMP_ADAPTER pAdapter)
{
    KIRQL OldIrql;
    KeAcquireSpinLock(&pAdapter->Lock, &OldIrql);
    return OldIrql;
}

FORCEINLINE VOID SmpReleaseAdapterLock(PSMP_ADAPTER pAdapter, KIRQL OldIrql)
{
    KeReleaseSpinLock(&pAdapter->Lock, OldIrql);
}

FORCEINLINE ULONG SmpBlockTag(const SMP_RESOURCE *pBlock)
{
    return pBlock->Kind == SmpBlockResource ? SMP_TAG_RESOURCE :
           pBlock->Kind == SmpBlockExtension ? SMP_TAG_EXTENSION : SMP_TAG_STANDALONE;
}

//
// DDIs (WDK shapes).
//
DXGKDDI_ADD_DEVICE              SmpDdiAddDevice;
DXGKDDI_START_DEVICE            SmpDdiStartDevice;
DXGKDDI_STOP_DEVICE             SmpDdiStopDevice;
DXGKDDI_REMOVE_DEVICE           SmpDdiRemoveDevice;
DXGKDDI_CREATEDEVICE            SmpDdiCreateDevice;
DXGKDDI_DESTROYDEVICE           SmpDdiDestroyDevice;
DXGKDDI_CREATECONTEXT           SmpDdiCreateContext;
DXGKDDI_DESTROYCONTEXT          SmpDdiDestroyContext;
DXGKDDI_CREATEALLOCATION        SmpDdiCreateAllocation;
DXGKDDI_DESTROYALLOCATION       SmpDdiDestroyAllocation;
DXGKDDI_OPENALLOCATIONINFO      SmpDdiOpenAllocation;
DXGKDDI_CLOSEALLOCATION         SmpDdiCloseAllocation;
DXGKDDI_RENDER                  SmpDdiRender;
DXGKDDI_SUBMITCOMMAND           SmpDdiSubmitCommand;
DXGKDDI_INTERRUPT_ROUTINE       SmpDdiInterruptRoutine;
DXGKDDI_DPC_ROUTINE             SmpDdiDpcRoutine;
DXGKDDI_BUILDPAGINGBUFFER       SmpDdiBuildPagingBuffer;
DXGKDDI_SETVIDPNSOURCEADDRESS   SmpDdiSetVidPnSourceAddress;
DXGKDDI_LOCK                    SmpDdiLock;
DXGKDDI_UNLOCK                  SmpDdiUnlock;
DXGKDDI_RESETFROMTIMEOUT        SmpDdiResetFromTimeout;
DXGKDDI_RESTARTFROMTIMEOUT      SmpDdiRestartFromTimeout;

//
// Cross-file internals.
//

// smpkmd_alloc.c
VOID SmpFreeBlock(PSMP_RESOURCE pBlock);
VOID SmpDetachBindingsLocked(PSMP_ALLOCATION pAllocation);

// smpkmd_open.c
VOID SmpHandleCacheRemoveLocked(PSMP_ADAPTER pAdapter, PSMP_ALLOCATION pAllocation);
VOID SmpHandleCachePurgeBlockLocked(PSMP_ADAPTER pAdapter, PSMP_RESOURCE pBlock);
VOID SmpFreeBinding(PSMP_BINDING pBinding);

// smpkmd_adapter.c
ULONG SmpUnassignScanoutLocked(PSMP_ADAPTER pAdapter, PSMP_ALLOCATION pAllocation);
VOID SmpProgramBlank(PSMP_ADAPTER pAdapter, ULONG SourceMask);

// smpkmd_device.c
VOID SmpTeardownDevice(PSMP_ADAPTER pAdapter, PSMP_DEVICE pDevice);
VOID SmpReadCompletedFencesLocked(PSMP_ADAPTER pAdapter);
