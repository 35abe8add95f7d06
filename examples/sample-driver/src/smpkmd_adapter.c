/*++

Module Name:

    smpkmd_adapter.c

Abstract:

    Adapter lifetime (AddDevice, StartDevice, StopDevice, RemoveDevice),
    residency (DxgkDdiBuildPagingBuffer), CPU locks, scanout
    (DxgkDdiSetVidPnSourceAddress) and TDR.

--*/

#include "smpkmd.h"

//
// Driver-wide switches; DriverEntry reads them from the service key on
// Windows. See smpkmd.h.
//
ULONG SmpBugMask;

//
// DxgkDdiAddDevice: the adapter context.
//
NTSTATUS
SmpDdiAddDevice(
    const PDEVICE_OBJECT PhysicalDeviceObject,
    PVOID *MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter;

    PAGED_CODE();
    UNREFERENCED_PARAMETER(PhysicalDeviceObject);

    if (MiniportDeviceContext == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    pAdapter = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pAdapter), SMP_TAG_ADAPTER);
    if (pAdapter == NULL) {
        return STATUS_NO_MEMORY;
    }
    pAdapter->Signature = SMP_SIG_ADAPTER;
    KeInitializeSpinLock(&pAdapter->Lock);
    InitializeListHead(&pAdapter->DeviceListHead);
    InitializeListHead(&pAdapter->ContextListHead);
    InitializeListHead(&pAdapter->BlockListHead);
    *MiniportDeviceContext = pAdapter;
    return STATUS_SUCCESS;
}

//
// DxgkDdiStartDevice: keeps the dxgkrnl interface.
//
NTSTATUS
SmpDdiStartDevice(
    IN_CONST_PVOID MiniportDeviceContext,
    PDXGK_START_INFO DxgkStartInfo,
    PDXGKRNL_INTERFACE DxgkInterface,
    PULONG NumberOfVideoPresentSources,
    PULONG NumberOfChildren
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;

    PAGED_CODE();
    UNREFERENCED_PARAMETER(DxgkStartInfo);

    if (pAdapter == NULL || DxgkInterface == NULL || DxgkInterface->DxgkCbGetHandleData == NULL ||
        NumberOfVideoPresentSources == NULL || NumberOfChildren == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER);
    pAdapter->DxgkInterface = *DxgkInterface;
    pAdapter->Started = TRUE;
    *NumberOfVideoPresentSources = SMP_MAX_SOURCES;
    *NumberOfChildren = 1;
    return STATUS_SUCCESS;
}

//
// DxgkDdiStopDevice (level 3, nothing else runs): frees every device and
// every block still alive.
//
NTSTATUS
SmpDdiStopDevice(
    IN_CONST_PVOID MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;
    LIST_ENTRY Blocks;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER);

    while (!IsListEmpty(&pAdapter->DeviceListHead)) {
        SmpTeardownDevice(pAdapter, CONTAINING_RECORD(pAdapter->DeviceListHead.Flink,
                                                      SMP_DEVICE, AdapterEntry));
    }

    InitializeListHead(&Blocks);
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    RtlZeroMemory(pAdapter->Sources, sizeof(pAdapter->Sources));
    RtlZeroMemory(pAdapter->HandleCache, sizeof(pAdapter->HandleCache));
    while (!IsListEmpty(&pAdapter->BlockListHead)) {
        PSMP_RESOURCE pBlock = CONTAINING_RECORD(RemoveHeadList(&pAdapter->BlockListHead),
                                                 SMP_RESOURCE, AdapterEntry);
        while (!IsListEmpty(&pBlock->ExtensionListHead)) {
            PSMP_RESOURCE pExtension = CONTAINING_RECORD(RemoveHeadList(&pBlock->ExtensionListHead),
                                                         SMP_RESOURCE, ExtensionEntry);
            InsertTailList(&Blocks, &pExtension->ReapEntry);
        }
        InsertTailList(&Blocks, &pBlock->ReapEntry);
    }
    pAdapter->Started = FALSE;
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    while (!IsListEmpty(&Blocks)) {
        SmpFreeBlock(CONTAINING_RECORD(RemoveHeadList(&Blocks), SMP_RESOURCE, ReapEntry));
    }
    return STATUS_SUCCESS;
}

//
// DxgkDdiRemoveDevice: the adapter context goes.
//
NTSTATUS
SmpDdiRemoveDevice(
    IN_CONST_PVOID MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;

    PAGED_CODE();

    if (pAdapter == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER && !pAdapter->Started);
    pAdapter->Signature = 0;
    ExFreePoolWithTag(pAdapter, SMP_TAG_ADAPTER);
    return STATUS_SUCCESS;
}

//
// DxgkDdiBuildPagingBuffer: tracks residency. A TRANSFER of size 0 after a
// TDR is an eviction notice (content lost). This driver writes no paging
// commands, so it never runs out of DMA buffer.
//
NTSTATUS
APIENTRY
SmpDdiBuildPagingBuffer(
    IN_CONST_HANDLE hAdapter,
    IN_PDXGKARG_BUILDPAGINGBUFFER pBuildPagingBuffer
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_ALLOCATION pAllocation;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pBuildPagingBuffer == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    // Map and Unmap name the allocation after hDevice; the others first.
    if (pBuildPagingBuffer->Operation == DXGK_OPERATION_MAP_APERTURE_SEGMENT) {
        pAllocation = (PSMP_ALLOCATION)pBuildPagingBuffer->MapApertureSegment.hAllocation;
    } else if (pBuildPagingBuffer->Operation == DXGK_OPERATION_UNMAP_APERTURE_SEGMENT) {
        pAllocation = (PSMP_ALLOCATION)pBuildPagingBuffer->UnmapApertureSegment.hAllocation;
    } else {
        pAllocation = (PSMP_ALLOCATION)pBuildPagingBuffer->Transfer.hAllocation;
    }
    if (pAllocation == NULL) {
        return STATUS_SUCCESS;
    }

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    switch (pBuildPagingBuffer->Operation) {
    case DXGK_OPERATION_TRANSFER:
        if (pBuildPagingBuffer->Transfer.TransferSize == 0) {
            pAllocation->SegmentId = 0;
            pAllocation->SegmentAddress.QuadPart = 0;
            pAllocation->ApertureMapped = FALSE;
            pAllocation->ContentLost = TRUE;
            pAdapter->EvictionNotices++;
            break;
        }
        pAllocation->SegmentId = pBuildPagingBuffer->Transfer.Destination.SegmentId;
        pAllocation->SegmentAddress = pBuildPagingBuffer->Transfer.Destination.SegmentAddress;
        if (pAllocation->SegmentId == 0) {
            pAllocation->ApertureMapped = FALSE;
        }
        break;
    case DXGK_OPERATION_FILL:
        pAllocation->SegmentId = pBuildPagingBuffer->Fill.Destination.SegmentId;
        pAllocation->SegmentAddress = pBuildPagingBuffer->Fill.Destination.SegmentAddress;
        pAllocation->ContentLost = FALSE;
        break;
    case DXGK_OPERATION_DISCARD_CONTENT:
        pAllocation->SegmentId = 0;
        pAllocation->SegmentAddress.QuadPart = 0;
        pAllocation->ContentLost = TRUE;
        break;
    case DXGK_OPERATION_MAP_APERTURE_SEGMENT:
        pAllocation->SegmentId = pBuildPagingBuffer->MapApertureSegment.SegmentId;
        pAllocation->SegmentAddress.QuadPart =
            (LONGLONG)(pBuildPagingBuffer->MapApertureSegment.OffsetInPages * SMP_PAGE_SIZE);
        pAllocation->ApertureMapped = TRUE;
        break;
    case DXGK_OPERATION_UNMAP_APERTURE_SEGMENT:
        if (pAllocation->ApertureMapped) {
            pAllocation->SegmentId = 0;
            pAllocation->SegmentAddress.QuadPart = 0;
            pAllocation->ApertureMapped = FALSE;
        }
        break;
    default:
        break;
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);
    return STATUS_SUCCESS;
}

//
// DxgkDdiLock: counts the mapping; the address is a kernel-style aperture VA
// nobody dereferences.
//
NTSTATUS
APIENTRY
SmpDdiLock(
    IN_CONST_HANDLE hAdapter,
    INOUT_PDXGKARG_LOCK pLock
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_ALLOCATION pAllocation;
    LONGLONG Address;
    UINT SegmentId;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pLock == NULL || pLock->hAllocation == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    pAllocation = (PSMP_ALLOCATION)pLock->hAllocation;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    pAllocation->cLocks++;
    SegmentId = pLock->SegmentId ? pLock->SegmentId : pAllocation->SegmentId;
    Address = pLock->SegmentId ? pLock->SegmentAddress.QuadPart : pAllocation->SegmentAddress.QuadPart;
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    pLock->pData = (PVOID)(SMP_CPU_APERTURE_BASE + ((ULONG_PTR)(SegmentId & 0x1f) << 34) +
                           ((ULONG_PTR)Address & (((ULONG_PTR)1 << 34) - 1)));
    return STATUS_SUCCESS;
}

//
// DxgkDdiUnlock.
//
NTSTATUS
APIENTRY
SmpDdiUnlock(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_UNLOCK pUnlock
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_ALLOCATION pAllocation;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pUnlock == NULL || pUnlock->hAllocation == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    pAllocation = (PSMP_ALLOCATION)pUnlock->hAllocation;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    if (pAllocation->cLocks != 0) {
        pAllocation->cLocks--;
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);
    return STATUS_SUCCESS;
}

static VOID
SmpProgramScanout(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ UINT SourceId,
    _In_ UINT SegmentId,
    _In_ PHYSICAL_ADDRESS Address,
    _In_ SIZE_T Size
    )
{
    if (pAdapter->DxgkInterface.LtCbProgramScanout != NULL) {
        pAdapter->DxgkInterface.LtCbProgramScanout(pAdapter->DxgkInterface.DeviceHandle,
                                                   SourceId, SegmentId, Address, Size);
    }
}

//
// DxgkDdiSetVidPnSourceAddress: hAllocation (NULL = blank) becomes the
// source's current scanout.
//
NTSTATUS
APIENTRY
SmpDdiSetVidPnSourceAddress(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_SETVIDPNSOURCEADDRESS pSetVidPnSourceAddress
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_ALLOCATION pNew, pOld;
    PHYSICAL_ADDRESS Address = {0};
    UINT SourceId, SegmentId = 0;
    SIZE_T Size = 0;
    KIRQL OldIrql;

    if (pAdapter == NULL || pSetVidPnSourceAddress == NULL ||
        pSetVidPnSourceAddress->VidPnSourceId >= SMP_MAX_SOURCES) {
        return STATUS_INVALID_PARAMETER;
    }
    SourceId = pSetVidPnSourceAddress->VidPnSourceId;
    pNew = (PSMP_ALLOCATION)pSetVidPnSourceAddress->hAllocation;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    pOld = pAdapter->Sources[SourceId].pPrimary;
    if (pOld != NULL && pOld != pNew) {
        pOld->ScanoutMask &= ~(1u << SourceId);
    }
    if (pNew != NULL) {
        pNew->ScanoutMask |= 1u << SourceId;
        Size = pNew->Size;
        SegmentId = pSetVidPnSourceAddress->PrimarySegment ? pSetVidPnSourceAddress->PrimarySegment
                                                           : pNew->SegmentId;
        Address = pSetVidPnSourceAddress->PrimarySegment ? pSetVidPnSourceAddress->PrimaryAddress
                                                         : pNew->SegmentAddress;
    }
    pAdapter->Sources[SourceId].pPrimary = pNew;
    pAdapter->Sources[SourceId].SegmentId = SegmentId;
    pAdapter->Sources[SourceId].Address = Address;
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    SmpProgramScanout(pAdapter, SourceId, SegmentId, Address, Size);
    return STATUS_SUCCESS;
}

//
// Clears every source that scans out pAllocation; returns the sources to
// blank (the caller programs them once the lock is dropped).
//
ULONG
SmpUnassignScanoutLocked(
    _In_ PSMP_ADAPTER pAdapter,
    _Inout_ PSMP_ALLOCATION pAllocation
    )
{
    ULONG Mask = 0;

    if (pAllocation->ScanoutMask == 0) {
        return 0;
    }
    for (UINT s = 0; s < SMP_MAX_SOURCES; s++) {
        if (pAdapter->Sources[s].pPrimary == pAllocation) {
            RtlZeroMemory(&pAdapter->Sources[s], sizeof(pAdapter->Sources[s]));
            Mask |= 1u << s;
        }
    }
    pAllocation->ScanoutMask = 0;
    return Mask;
}

VOID
SmpProgramBlank(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ ULONG SourceMask
    )
{
    PHYSICAL_ADDRESS None = {0};

    for (UINT s = 0; s < SMP_MAX_SOURCES; s++) {
        if (SourceMask & (1u << s)) {
            SmpProgramScanout(pAdapter, s, 0, None, 0);
        }
    }
}

//
// DxgkDdiResetFromTimeout / DxgkDdiRestartFromTimeout (level 3). Nothing this
// driver holds refers to GPU work, so a reset only marks the window.
//
NTSTATUS
APIENTRY
SmpDdiResetFromTimeout(
    IN_CONST_PVOID MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;

    if (pAdapter == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    pAdapter->InReset = TRUE;
    return STATUS_SUCCESS;
}

NTSTATUS
APIENTRY
SmpDdiRestartFromTimeout(
    IN_CONST_PVOID MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;
    KIRQL OldIrql;

    if (pAdapter == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    pAdapter->InReset = FALSE;
    SmpReadCompletedFencesLocked(pAdapter);
    SmpReleaseAdapterLock(pAdapter, OldIrql);
    return STATUS_SUCCESS;
}
