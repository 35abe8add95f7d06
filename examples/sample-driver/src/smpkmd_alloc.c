/*++

Module Name:

    smpkmd_alloc.c

Abstract:

    DxgkDdiCreateAllocation and DxgkDdiDestroyAllocation: resource,
    extension and standalone blocks with their embedded allocations.

--*/

#include "smpkmd.h"

#ifdef LIFETRACE
#include <lifetrace/umd_data.h>     // what lifetrace's simulated UMD sends
#else
#include "smpumd_shared.h"          // SMP_SURFACE_DESC, shared with our UMD
#endif

typedef struct _SMP_ALLOCATION_DESC {
    SIZE_T                  Size;
    DXGK_ALLOCATIONINFOFLAGS Flags;
} SMP_ALLOCATION_DESC;

//
// Describes one allocation from its UMD private data. The size is rounded up
// to a page (0 = one page).
//
// This is the one place where the lifetrace build differs from the Windows
// build: our UMD sends an SMP_SURFACE_DESC, lifetrace's simulated UMD sends
// LT_UMD_ALLOCATION_DATA (the size and DXGK_ALLOCATIONINFOFLAGS bits a trace
// records).
//
static NTSTATUS
SmpDescribeAllocation(
    _In_ const DXGK_ALLOCATIONINFO *pInfo,
    _Out_ SMP_ALLOCATION_DESC *pDesc
    )
{
    ULONGLONG Bytes;
    SIZE_T Size;

#ifdef LIFETRACE
    LT_UMD_ALLOCATION_DATA Data;

    if (!LtReadUmdAllocationData(pInfo->pPrivateDriverData, pInfo->PrivateDriverDataSize, &Data)) {
        return STATUS_INVALID_PARAMETER;
    }
    Bytes = Data.Size;
    pDesc->Flags.Value = Data.Flags;
#else
    SMP_SURFACE_DESC Surface;

    if (pInfo->pPrivateDriverData == NULL || pInfo->PrivateDriverDataSize != sizeof(Surface)) {
        return STATUS_INVALID_PARAMETER;
    }
    RtlCopyMemory(&Surface, pInfo->pPrivateDriverData, sizeof(Surface));
    Bytes = (ULONGLONG)Surface.Pitch * Surface.Height;
    pDesc->Flags.Value = 0;
    pDesc->Flags.CpuVisible = Surface.CpuVisible;
#endif

    if (Bytes > (ULONGLONG)(((SIZE_T)-1) - (SMP_PAGE_SIZE - 1))) {
        return STATUS_INVALID_PARAMETER;
    }
    Size = Bytes ? (SIZE_T)Bytes : SMP_PAGE_SIZE;
    pDesc->Size = (Size + SMP_PAGE_SIZE - 1) & ~((SIZE_T)SMP_PAGE_SIZE - 1);
    return STATUS_SUCCESS;
}

static PSMP_RESOURCE
SmpAllocateBlock(
    _In_ SMP_BLOCK_KIND Kind,
    _In_ UINT NumAllocations
    )
{
    PSMP_RESOURCE pBlock;
    SIZE_T Bytes;

    if (!NT_SUCCESS(RtlSizeTMult(NumAllocations, sizeof(SMP_ALLOCATION), &Bytes)) ||
        !NT_SUCCESS(RtlSizeTAdd(Bytes, sizeof(SMP_RESOURCE), &Bytes))) {
        return NULL;
    }
    pBlock = ExAllocatePool2(POOL_FLAG_NON_PAGED, Bytes,
                             Kind == SmpBlockResource ? SMP_TAG_RESOURCE :
                             Kind == SmpBlockExtension ? SMP_TAG_EXTENSION : SMP_TAG_STANDALONE);
    if (pBlock == NULL) {
        return NULL;
    }
    pBlock->Signature = SMP_SIG_BLOCK;
    pBlock->Kind = Kind;
    pBlock->pOwner = pBlock;
    InitializeListHead(&pBlock->AdapterEntry);
    InitializeListHead(&pBlock->ExtensionListHead);
    InitializeListHead(&pBlock->ExtensionEntry);
    InitializeListHead(&pBlock->ReapEntry);
    pBlock->NumAllocations = NumAllocations;
    pBlock->cLive = NumAllocations;
    return pBlock;
}

//
// Frees a block that is no longer linked anywhere.
//
VOID
SmpFreeBlock(
    _In_ PSMP_RESOURCE pBlock
    )
{
    ULONG Tag = SmpBlockTag(pBlock);

    if (pBlock->pPrivateData != NULL) {
        ExFreePoolWithTag(pBlock->pPrivateData, SMP_TAG_PRIVATE);
    }
    pBlock->Signature = 0;
    ExFreePoolWithTag(pBlock, Tag);
}

static PVOID
SmpCopyPrivateData(
    _In_reads_bytes_(Size) const VOID *pData,
    _In_ UINT Size
    )
{
    PVOID pCopy = ExAllocatePool2(POOL_FLAG_NON_PAGED, Size, SMP_TAG_PRIVATE);

    if (pCopy != NULL) {
        RtlCopyMemory(pCopy, pData, Size);
    }
    return pCopy;
}

//
// Describes the block's allocations from the call's DXGK_ALLOCATIONINFO
// array. The outputs are filled later, once nothing can fail.
//
static NTSTATUS
SmpInitAllocations(
    _Inout_ PSMP_RESOURCE pBlock,
    _In_ const DXGKARG_CREATEALLOCATION *pCreate
    )
{
    for (UINT i = 0; i < pBlock->NumAllocations; i++) {
        PSMP_ALLOCATION pAllocation = &pBlock->Allocations[i];
        const DXGK_ALLOCATIONINFO *pInfo = &pCreate->pAllocationInfo[i];
        SMP_ALLOCATION_DESC Desc;
        NTSTATUS Status;

        Status = SmpDescribeAllocation(pInfo, &Desc);
        if (!NT_SUCCESS(Status)) {
            return Status;
        }
        pAllocation->pBlock = pBlock;
        InitializeListHead(&pAllocation->OpenListHead);
        pAllocation->Size = Desc.Size;
        pAllocation->Alignment = SMP_PAGE_SIZE;
        pAllocation->SegmentSet = pInfo->SupportedWriteSegmentSet ? pInfo->SupportedWriteSegmentSet : 0x3;
        pAllocation->Flags = Desc.Flags;
    }
    return STATUS_SUCCESS;
}

static VOID
SmpPublishAllocations(
    _In_ PSMP_RESOURCE pBlock,
    _Inout_ DXGKARG_CREATEALLOCATION *pCreate
    )
{
    for (UINT i = 0; i < pBlock->NumAllocations; i++) {
        PSMP_ALLOCATION pAllocation = &pBlock->Allocations[i];
        DXGK_ALLOCATIONINFO *pInfo = &pCreate->pAllocationInfo[i];

        pInfo->Alignment = pAllocation->Alignment;
        pInfo->Size = pAllocation->Size;
        pInfo->PitchAlignedSize = 0;
        pInfo->SupportedReadSegmentSet = pAllocation->SegmentSet;
        pInfo->SupportedWriteSegmentSet = pAllocation->SegmentSet;
        pInfo->EvictionSegmentSet = 0;
        pInfo->Flags.Value = pAllocation->Flags.Value;
        pInfo->pAllocationUsageHint = NULL;
        pInfo->AllocationPriority = SMP_PRIORITY_NORMAL;
        pInfo->hAllocation = pAllocation;
    }
}

//
// Which block a CreateAllocation call makes: a new resource, an extension of
// the resource dxgkrnl passes back in hResource, or a standalone block.
//
static NTSTATUS
SmpClassifyCreate(
    _In_ const DXGKARG_CREATEALLOCATION *pCreate,
    _Out_ SMP_BLOCK_KIND *pKind,
    _Out_ PSMP_RESOURCE *ppOwner
    )
{
    PSMP_RESOURCE pOwner = (PSMP_RESOURCE)pCreate->hResource;

    *ppOwner = NULL;
    if (!pCreate->Flags.Resource) {
        *pKind = SmpBlockStandalone;
        return pOwner == NULL ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    }
    if (pOwner == NULL) {
        *pKind = SmpBlockResource;
        return STATUS_SUCCESS;
    }
    if (pOwner->Signature != SMP_SIG_BLOCK || pOwner->Kind != SmpBlockResource ||
        pOwner->ResourceDestroyed) {
        return STATUS_INVALID_PARAMETER;
    }
    *pKind = SmpBlockExtension;
    *ppOwner = pOwner;
    return STATUS_SUCCESS;
}

//
// Links a new block where it belongs. A new resource-level blob replaces the
// old one, which is returned for the caller to free outside the lock.
//
static PVOID
SmpLinkBlockLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_RESOURCE pBlock,
    _Inout_opt_ PSMP_RESOURCE pOwner,
    _In_opt_ PVOID pBlob,
    _In_ UINT BlobSize
    )
{
    PVOID pOldBlob = NULL;

    switch (pBlock->Kind) {
    case SmpBlockResource:
        pBlock->cLiveResource = pBlock->NumAllocations;
        pBlock->pPrivateData = pBlob;
        pBlock->PrivateDataSize = pBlob ? BlobSize : 0;
        InsertTailList(&pAdapter->BlockListHead, &pBlock->AdapterEntry);
        break;
    case SmpBlockExtension:
        pBlock->pOwner = pOwner;
        InsertTailList(&pOwner->ExtensionListHead, &pBlock->ExtensionEntry);
        pOwner->cLiveResource += pBlock->NumAllocations;
        if (pBlob != NULL) {
            pOldBlob = pOwner->pPrivateData;
            pOwner->pPrivateData = pBlob;
            pOwner->PrivateDataSize = BlobSize;
        }
        break;
    default:
        pBlock->pOwner = NULL;
        InsertTailList(&pAdapter->BlockListHead, &pBlock->AdapterEntry);
        break;
    }
    return pOldBlob;
}

//
// DxgkDdiCreateAllocation: one block per call (see SmpClassifyCreate). On
// failure nothing is published: every hAllocation is NULL and hResource is
// unchanged, and a resource passed in is never touched.
//
NTSTATUS
APIENTRY
SmpDdiCreateAllocation(
    IN_CONST_HANDLE hAdapter,
    INOUT_PDXGKARG_CREATEALLOCATION pCreateAllocation
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_RESOURCE pOwner, pBlock;
    SMP_BLOCK_KIND Kind;
    PVOID pBlob = NULL;
    NTSTATUS Status;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pCreateAllocation == NULL ||
        pCreateAllocation->NumAllocations == 0 ||
        pCreateAllocation->NumAllocations > SMP_MAX_ALLOCATIONS_PER_CALL ||
        pCreateAllocation->pAllocationInfo == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER);
    for (UINT i = 0; i < pCreateAllocation->NumAllocations; i++) {
        pCreateAllocation->pAllocationInfo[i].hAllocation = NULL;
    }
    Status = SmpClassifyCreate(pCreateAllocation, &Kind, &pOwner);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    if (Kind != SmpBlockStandalone && pCreateAllocation->pPrivateDriverData != NULL &&
        pCreateAllocation->PrivateDriverDataSize != 0) {
        if (pCreateAllocation->PrivateDriverDataSize > SMP_MAX_PRIVATE_DATA) {
            return STATUS_INVALID_PARAMETER;
        }
        pBlob = SmpCopyPrivateData(pCreateAllocation->pPrivateDriverData,
                                   pCreateAllocation->PrivateDriverDataSize);
        if (pBlob == NULL) {
            return STATUS_NO_MEMORY;
        }
    }

    pBlock = SmpAllocateBlock(Kind, pCreateAllocation->NumAllocations);
    Status = pBlock ? SmpInitAllocations(pBlock, pCreateAllocation) : STATUS_NO_MEMORY;
    if (!NT_SUCCESS(Status)) {
        if (pBlock != NULL) {
            SmpFreeBlock(pBlock);
        }
        if (pBlob != NULL) {
            ExFreePoolWithTag(pBlob, SMP_TAG_PRIVATE);
        }
        return Status;
    }

    SmpPublishAllocations(pBlock, pCreateAllocation);
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    pBlob = SmpLinkBlockLocked(pAdapter, pBlock, pOwner, pBlob, pCreateAllocation->PrivateDriverDataSize);
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    if (pBlob != NULL) {
        ExFreePoolWithTag(pBlob, SMP_TAG_PRIVATE);
    }
    if (Kind == SmpBlockResource) {
        pCreateAllocation->hResource = pBlock;
    }
    return STATUS_SUCCESS;
}

//
// Unlinks a device binding that is still open on an allocation being
// destroyed (dxgkrnl closes them first; a trace that breaks G2 does not).
// The binding stays on its device and is freed by CloseAllocation or
// DestroyDevice.
//
VOID
SmpDetachBindingsLocked(
    _Inout_ PSMP_ALLOCATION pAllocation
    )
{
    while (!IsListEmpty(&pAllocation->OpenListHead)) {
        PSMP_BINDING pBinding = CONTAINING_RECORD(RemoveHeadList(&pAllocation->OpenListHead),
                                                  SMP_BINDING, AllocationEntry);
        InitializeListHead(&pBinding->AllocationEntry);
        pBinding->pAllocation = NULL;
    }
    pAllocation->cOpens = 0;
}

//
// Takes one allocation out of every adapter structure that can outlive the
// destroy: current scanout, bindings, handle cache.
//
static VOID
SmpRetireAllocationLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_ALLOCATION pAllocation,
    _Inout_ ULONG *pBlankMask
    )
{
    *pBlankMask |= SmpUnassignScanoutLocked(pAdapter, pAllocation);
    SmpDetachBindingsLocked(pAllocation);
    pAllocation->Destroyed = TRUE;
}

//
// Whether a block can go: nothing embedded in it is alive and, for a
// resource, DestroyResource came and its extensions are gone.
//
static BOOLEAN
SmpBlockIsDead(
    _In_ const SMP_RESOURCE *pBlock
    )
{
    if (pBlock->cLive != 0) {
        return FALSE;
    }
    if (pBlock->Kind != SmpBlockResource) {
        return TRUE;
    }
    return pBlock->ResourceDestroyed && IsListEmpty(&pBlock->ExtensionListHead);
}

//
// Unlinks a dead block and queues it on FreeList; an extension's resource may
// die with it.
//
static VOID
SmpReapBlockLocked(
    _In_ PSMP_RESOURCE pBlock,
    _Inout_ PLIST_ENTRY FreeList
    )
{
    PSMP_RESOURCE pOwner = pBlock->pOwner;

    if (!SmpBlockIsDead(pBlock)) {
        return;
    }
    if (pBlock->Kind == SmpBlockExtension) {
        RemoveEntryList(&pBlock->ExtensionEntry);
        InsertTailList(FreeList, &pBlock->ReapEntry);
        if (SmpBlockIsDead(pOwner)) {
            RemoveEntryList(&pOwner->AdapterEntry);
            InsertTailList(FreeList, &pOwner->ReapEntry);
        }
        return;
    }
    RemoveEntryList(&pBlock->AdapterEntry);
    InsertTailList(FreeList, &pBlock->ReapEntry);
}

//
// The per-allocation path: destroy the listed allocations, then release the
// resource if asked. Blocks are reaped as they empty.
//
static VOID
SmpDestroyListedLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ IN_CONST_PDXGKARG_DESTROYALLOCATION pDestroy,
    _In_opt_ PSMP_RESOURCE pResource,
    _Inout_ PLIST_ENTRY FreeList,
    _Inout_ ULONG *pBlankMask
    )
{
    for (UINT i = 0; i < pDestroy->NumAllocations; i++) {
        PSMP_ALLOCATION pAllocation = (PSMP_ALLOCATION)pDestroy->pAllocationList[i];
        PSMP_RESOURCE pBlock;

        if (pAllocation == NULL || pAllocation->Destroyed) {
            NT_ASSERT(FALSE);
            continue;
        }
        pBlock = pAllocation->pBlock;
        SmpHandleCacheRemoveLocked(pAdapter, pAllocation);
        SmpRetireAllocationLocked(pAdapter, pAllocation, pBlankMask);
        pBlock->cLive--;
        if (pBlock->pOwner != NULL) {
            pBlock->pOwner->cLiveResource--;
        }
        SmpReapBlockLocked(pBlock, FreeList);
    }
    if (pResource != NULL && !pResource->ResourceDestroyed) {
        pResource->ResourceDestroyed = TRUE;
        SmpReapBlockLocked(pResource, FreeList);
    }
}

//
// Whether a DestroyResource call names every live allocation of its
// resource, so that the resource can go as a whole.
//
static BOOLEAN
SmpListCoversResource(
    _In_ IN_CONST_PDXGKARG_DESTROYALLOCATION pDestroy,
    _In_ const SMP_RESOURCE *pResource
    )
{
    if (pDestroy->NumAllocations == 0 || pDestroy->NumAllocations != pResource->cLiveResource) {
        return FALSE;
    }
    for (UINT i = 0; i < pDestroy->NumAllocations; i++) {
        const SMP_ALLOCATION *pAllocation = (const SMP_ALLOCATION *)pDestroy->pAllocationList[i];

        if (pAllocation == NULL || pAllocation->Destroyed || pAllocation->pBlock->pOwner != pResource) {
            return FALSE;
        }
    }
    return TRUE;
}

static VOID
SmpRetireBlockLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_RESOURCE pBlock,
    _Inout_ ULONG *pBlankMask
    )
{
    for (UINT i = 0; i < pBlock->NumAllocations; i++) {
        if (!pBlock->Allocations[i].Destroyed) {
            SmpRetireAllocationLocked(pAdapter, &pBlock->Allocations[i], pBlankMask);
        }
    }
    pBlock->cLive = 0;
}

//
// The group path (DestroyResource naming every live allocation, how D3D
// runtimes release a resource): retire block by block and drop the handle
// cache entries by address range, one pass over the cache per block instead
// of one lookup per allocation. Every block of the resource goes on FreeList.
//
static VOID
SmpDestroyWholeResourceLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_RESOURCE pResource,
    _Inout_ PLIST_ENTRY FreeList,
    _Inout_ ULONG *pBlankMask
    )
{
    SmpHandleCachePurgeBlockLocked(pAdapter, pResource);
    SmpRetireBlockLocked(pAdapter, pResource, pBlankMask);

    while (!IsListEmpty(&pResource->ExtensionListHead)) {
        PSMP_RESOURCE pExtension = CONTAINING_RECORD(RemoveHeadList(&pResource->ExtensionListHead),
                                                     SMP_RESOURCE, ExtensionEntry);
        //
        // Sample bug 1 (stale-handle-cache): the range purge above was
        // written when a resource was one block. Allocations added to the
        // resource later live in extension blocks, outside that range; with
        // the bug on, their cache entries survive the destroy and point into
        // the freed extension block.
        //
        if (!SmpBugEnabled(SMP_BUG_STALE_HANDLE_CACHE)) {
            SmpHandleCachePurgeBlockLocked(pAdapter, pExtension);
        }
        SmpRetireBlockLocked(pAdapter, pExtension, pBlankMask);
        InsertTailList(FreeList, &pExtension->ReapEntry);
    }
    pResource->cLiveResource = 0;
    pResource->ResourceDestroyed = TRUE;
    RemoveEntryList(&pResource->AdapterEntry);
    InsertTailList(FreeList, &pResource->ReapEntry);
}

//
// DxgkDdiDestroyAllocation. Frees exactly the listed allocations (0..N) and
// releases the resource iff Flags.DestroyResource; hResource may be NULL
// either way. Never fails a legal shape: dxgkrnl has no retry.
//
NTSTATUS
APIENTRY
SmpDdiDestroyAllocation(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_DESTROYALLOCATION pDestroyAllocation
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_RESOURCE pResource = NULL;
    LIST_ENTRY FreeList;
    ULONG BlankMask = 0;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pDestroyAllocation == NULL ||
        (pDestroyAllocation->NumAllocations != 0 && pDestroyAllocation->pAllocationList == NULL)) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER);

    if (pDestroyAllocation->Flags.DestroyResource && pDestroyAllocation->hResource != NULL) {
        pResource = (PSMP_RESOURCE)pDestroyAllocation->hResource;
        NT_ASSERT(pResource->Signature == SMP_SIG_BLOCK && pResource->Kind == SmpBlockResource);
    }

    InitializeListHead(&FreeList);
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    if (pResource != NULL && SmpListCoversResource(pDestroyAllocation, pResource)) {
        SmpDestroyWholeResourceLocked(pAdapter, pResource, &FreeList, &BlankMask);
    } else {
        SmpDestroyListedLocked(pAdapter, pDestroyAllocation, pResource, &FreeList, &BlankMask);
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    SmpProgramBlank(pAdapter, BlankMask);

    while (!IsListEmpty(&FreeList)) {
        SmpFreeBlock(CONTAINING_RECORD(RemoveHeadList(&FreeList), SMP_RESOURCE, ReapEntry));
    }
    return STATUS_SUCCESS;
}
