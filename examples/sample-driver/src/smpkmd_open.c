/*++

Module Name:

    smpkmd_open.c

Abstract:

    DxgkDdiOpenAllocation / DxgkDdiCloseAllocation (per-device binding
    records) and the adapter's handle cache.

    The handle cache maps the D3DKMT_HANDLE of a shared allocation to its
    SMP_ALLOCATION. Opens of existing allocations (Flags.Create clear) come
    from every process that uses a shared surface, again and again, and
    DxgkCbGetHandleData showed up in their profile; the first open resolves
    the handle, later ones hit the cache. Creation-time opens (Flags.Create)
    are not cached: most allocations are never shared.

    The cache is direct-mapped: a new entry evicts whatever was in its slot,
    and the evicted allocation forgets its slot. DestroyAllocation must drop
    the entries of the allocations it frees.

--*/

#include "smpkmd.h"

static ULONG
SmpHandleCacheSlot(
    _In_ D3DKMT_HANDLE hKernel
    )
{
    return (ULONG)((hKernel * 0x9E3779B1u) >> 26) & (SMP_HANDLE_CACHE_SIZE - 1);
}

static PSMP_ALLOCATION
SmpHandleCacheLookupLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ D3DKMT_HANDLE hKernel
    )
{
    SMP_HANDLE_CACHE_ENTRY *pEntry = &pAdapter->HandleCache[SmpHandleCacheSlot(hKernel)];

    if (pEntry->hKernel == hKernel && pEntry->pAllocation != NULL) {
        pAdapter->HandleCacheHits++;
        return pEntry->pAllocation;
    }
    pAdapter->HandleCacheMisses++;
    return NULL;
}

static VOID
SmpHandleCacheInsertLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ D3DKMT_HANDLE hKernel,
    _Inout_ PSMP_ALLOCATION pAllocation
    )
{
    ULONG Slot = SmpHandleCacheSlot(hKernel);
    SMP_HANDLE_CACHE_ENTRY *pEntry = &pAdapter->HandleCache[Slot];

    if (pAllocation->Destroyed) {
        return;
    }
    if (pEntry->pAllocation != NULL && pEntry->pAllocation != pAllocation) {
        pEntry->pAllocation->CacheSlot = 0;
        pAdapter->HandleCacheEvictions++;
    }
    if (pAllocation->CacheSlot != 0 && pAllocation->CacheSlot != Slot + 1) {
        RtlZeroMemory(&pAdapter->HandleCache[pAllocation->CacheSlot - 1], sizeof(*pEntry));
    }
    pEntry->hKernel = hKernel;
    pEntry->pAllocation = pAllocation;
    pAllocation->CacheSlot = Slot + 1;
}

//
// Drops an allocation's cache entry, if it has one.
//
VOID
SmpHandleCacheRemoveLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_ALLOCATION pAllocation
    )
{
    if (pAllocation->CacheSlot != 0) {
        SMP_HANDLE_CACHE_ENTRY *pEntry = &pAdapter->HandleCache[pAllocation->CacheSlot - 1];

        if (pEntry->pAllocation == pAllocation) {
            RtlZeroMemory(pEntry, sizeof(*pEntry));
        }
        pAllocation->CacheSlot = 0;
    }
}

//
// Drops every cache entry whose allocation is embedded in pBlock: one pass
// over the cache, the cheap way to forget a whole block.
//
VOID
SmpHandleCachePurgeBlockLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ PSMP_RESOURCE pBlock
    )
{
    const SMP_ALLOCATION *pFirst = &pBlock->Allocations[0];
    const SMP_ALLOCATION *pEnd = &pBlock->Allocations[pBlock->NumAllocations];

    for (ULONG i = 0; i < SMP_HANDLE_CACHE_SIZE; i++) {
        SMP_HANDLE_CACHE_ENTRY *pEntry = &pAdapter->HandleCache[i];

        if (pEntry->pAllocation >= pFirst && pEntry->pAllocation < pEnd) {
            RtlZeroMemory(pEntry, sizeof(*pEntry));
        }
    }
}

//
// The allocation behind a dxgkrnl handle: from the cache for opens of
// existing allocations, else from DxgkCbGetHandleData (called without the
// adapter lock held).
//
static PSMP_ALLOCATION
SmpResolveAllocation(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ D3DKMT_HANDLE hKernel,
    _In_ BOOLEAN UseCache
    )
{
    DXGKARGCB_GETHANDLEDATA GetHandleData;
    PSMP_ALLOCATION pAllocation;
    KIRQL OldIrql;

    if (UseCache) {
        OldIrql = SmpAcquireAdapterLock(pAdapter);
        pAllocation = SmpHandleCacheLookupLocked(pAdapter, hKernel);
        SmpReleaseAdapterLock(pAdapter, OldIrql);
        if (pAllocation != NULL) {
            return pAllocation;
        }
    }

    RtlZeroMemory(&GetHandleData, sizeof(GetHandleData));
    GetHandleData.hObject = hKernel;
    GetHandleData.Type = DXGK_HANDLE_ALLOCATION;
    pAllocation = (PSMP_ALLOCATION)pAdapter->DxgkInterface.DxgkCbGetHandleData(&GetHandleData);
    if (pAllocation == NULL) {
        return NULL;
    }

    if (UseCache) {
        OldIrql = SmpAcquireAdapterLock(pAdapter);
        SmpHandleCacheInsertLocked(pAdapter, hKernel, pAllocation);
        SmpReleaseAdapterLock(pAdapter, OldIrql);
    }
    return pAllocation;
}

VOID
SmpFreeBinding(
    _In_ PSMP_BINDING pBinding
    )
{
    pBinding->Signature = 0;
    ExFreePoolWithTag(pBinding, SMP_TAG_BINDING);
}

//
// DxgkDdiOpenAllocation: one binding record per element. Bindings are linked
// only once every element succeeded; a failure frees those made so far and
// leaves every output NULL (dxgkrnl closes only successful opens).
//
NTSTATUS
APIENTRY
SmpDdiOpenAllocation(
    IN_CONST_HANDLE hDevice,
    IN_CONST_PDXGKARG_OPENALLOCATION pOpenAllocation
    )
{
    PSMP_DEVICE pDevice = (PSMP_DEVICE)hDevice;
    PSMP_ADAPTER pAdapter;
    LIST_ENTRY NewBindings;
    NTSTATUS Status = STATUS_SUCCESS;
    KIRQL OldIrql;
    UINT i;

    PAGED_CODE();

    if (pDevice == NULL || pOpenAllocation == NULL ||
        (pOpenAllocation->NumAllocations != 0 && pOpenAllocation->pOpenAllocation == NULL)) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pDevice->Signature == SMP_SIG_DEVICE);
    pAdapter = pDevice->pAdapter;

    InitializeListHead(&NewBindings);
    for (i = 0; i < pOpenAllocation->NumAllocations; i++) {
        DXGK_OPENALLOCATIONINFO *pInfo = &pOpenAllocation->pOpenAllocation[i];
        PSMP_ALLOCATION pAllocation;
        PSMP_BINDING pBinding;

        pInfo->hDeviceSpecificAllocation = NULL;
        pAllocation = SmpResolveAllocation(pAdapter, pInfo->hAllocation,
                                           !pOpenAllocation->Flags.Create);
        if (pAllocation == NULL) {
            Status = STATUS_INVALID_HANDLE;
            break;
        }
        pBinding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pBinding), SMP_TAG_BINDING);
        if (pBinding == NULL) {
            Status = STATUS_NO_MEMORY;
            break;
        }
        pBinding->Signature = SMP_SIG_BINDING;
        pBinding->pDevice = pDevice;
        pBinding->pAllocation = pAllocation;
        pBinding->hKernel = pInfo->hAllocation;
        pBinding->ReadOnly = (BOOLEAN)pOpenAllocation->Flags.ReadOnly;
        InitializeListHead(&pBinding->AllocationEntry);
        InsertTailList(&NewBindings, &pBinding->DeviceEntry);
    }

    if (!NT_SUCCESS(Status)) {
        while (!IsListEmpty(&NewBindings)) {
            SmpFreeBinding(CONTAINING_RECORD(RemoveHeadList(&NewBindings), SMP_BINDING, DeviceEntry));
        }
        for (i = 0; i < pOpenAllocation->NumAllocations; i++) {
            pOpenAllocation->pOpenAllocation[i].hDeviceSpecificAllocation = NULL;
        }
        return Status;
    }

    i = 0;
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    while (!IsListEmpty(&NewBindings)) {
        PSMP_BINDING pBinding = CONTAINING_RECORD(RemoveHeadList(&NewBindings), SMP_BINDING, DeviceEntry);
        PSMP_ALLOCATION pAllocation = pBinding->pAllocation;

        InsertTailList(&pDevice->BindingListHead, &pBinding->DeviceEntry);
        InsertTailList(&pAllocation->OpenListHead, &pBinding->AllocationEntry);
        pAllocation->cOpens++;
        if (pAllocation->hKernel == 0) {
            pAllocation->hKernel = pBinding->hKernel;
        }
        pDevice->cBindings++;
        pOpenAllocation->pOpenAllocation[i++].hDeviceSpecificAllocation = pBinding;
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);
    return STATUS_SUCCESS;
}

//
// DxgkDdiCloseAllocation: frees the listed bindings of this device.
//
NTSTATUS
APIENTRY
SmpDdiCloseAllocation(
    IN_CONST_HANDLE hDevice,
    IN_CONST_PDXGKARG_CLOSEALLOCATION pCloseAllocation
    )
{
    PSMP_DEVICE pDevice = (PSMP_DEVICE)hDevice;
    PSMP_ADAPTER pAdapter;
    LIST_ENTRY Closed;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pDevice == NULL || pCloseAllocation == NULL ||
        (pCloseAllocation->NumAllocations != 0 && pCloseAllocation->pOpenHandleList == NULL)) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pDevice->Signature == SMP_SIG_DEVICE);
    pAdapter = pDevice->pAdapter;

    InitializeListHead(&Closed);
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    for (UINT i = 0; i < pCloseAllocation->NumAllocations; i++) {
        PSMP_BINDING pBinding = (PSMP_BINDING)pCloseAllocation->pOpenHandleList[i];

        if (pBinding == NULL || pBinding->Signature != SMP_SIG_BINDING || pBinding->pDevice != pDevice) {
            NT_ASSERT(FALSE);
            continue;
        }
        RemoveEntryList(&pBinding->DeviceEntry);
        pDevice->cBindings--;
        if (pBinding->pAllocation != NULL) {
            RemoveEntryList(&pBinding->AllocationEntry);
            pBinding->pAllocation->cOpens--;
            pBinding->pAllocation = NULL;
        }
        pBinding->Signature = 0;
        InsertTailList(&Closed, &pBinding->DeviceEntry);
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    while (!IsListEmpty(&Closed)) {
        PSMP_BINDING pBinding = CONTAINING_RECORD(RemoveHeadList(&Closed), SMP_BINDING, DeviceEntry);

        ExFreePoolWithTag(pBinding, SMP_TAG_BINDING);
    }
    return STATUS_SUCCESS;
}
