//
// rndkmd_device.cpp - the adapter (AddDevice, StartDevice, StopDevice,
// RemoveDevice), devices, paging, scanout, CPU locks and TDR recovery.
//
#include "rndkmd.h"
#include "rndkmd_device.tmh"

ULONG RndGlobalDebugFlags;

_Use_decl_annotations_
NTSTATUS RndDdiAddDevice(const PDEVICE_OBJECT PhysicalDeviceObject, PVOID *MiniportDeviceContext)
{
    UNREFERENCED_PARAMETER(PhysicalDeviceObject);
    PAGED_CODE();
    auto *Adapter = new (NonPagedPoolNx, RND_TAG_ADAPTER) RND_ADAPTER{};
    if (Adapter == nullptr) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Adapter->DebugFlags = RndGlobalDebugFlags;
    KeInitializeSpinLock(&Adapter->ObjectLock);
    InitializeListHead(&Adapter->Resources);
    InitializeListHead(&Adapter->Standalone);
    KeInitializeSpinLock(&Adapter->QueueLock);
    InitializeListHead(&Adapter->DmaQueue);
    *MiniportDeviceContext = Adapter;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS RndDdiStartDevice(const PVOID MiniportDeviceContext, PDXGK_START_INFO DxgkStartInfo,
                           PDXGKRNL_INTERFACE DxgkInterface, PULONG NumberOfVideoPresentSources,
                           PULONG NumberOfChildren)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    UNREFERENCED_PARAMETER(DxgkStartInfo);
    PAGED_CODE();
    WPP_INIT_TRACING(nullptr, nullptr);
    Adapter->Dxgk = *DxgkInterface;
    NTSTATUS Status = Adapter->Dxgk.DxgkCbGetDeviceInformation(Adapter->Dxgk.DeviceHandle,
                                                               &Adapter->DeviceInfo);
    if (!NT_SUCCESS(Status)) {
        TraceEvents(TRACE_LEVEL_ERROR, TRACE_ADAPTER, "%!FUNC!: no device information: %!STATUS!",
                    Status);
        return Status;
    }
    Status = RndDmaStart(Adapter);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    *NumberOfVideoPresentSources = 1;
    *NumberOfChildren = 1;
    TraceEvents(TRACE_LEVEL_INFORMATION, TRACE_ADAPTER, "%!FUNC!: adapter %p, debug flags %#lx",
                Adapter, (unsigned long)Adapter->DebugFlags);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS RndDdiStopDevice(const PVOID MiniportDeviceContext)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    PAGED_CODE();
    RndDmaStop(Adapter);
    NT_ASSERT(Adapter->LiveAllocations == 0);
    NT_ASSERT(IsListEmpty(&Adapter->Resources) && IsListEmpty(&Adapter->Standalone));
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS RndDdiRemoveDevice(const PVOID MiniportDeviceContext)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    PAGED_CODE();
    WPP_CLEANUP(nullptr);
    delete Adapter;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiCreateDevice(const HANDLE hAdapter, DXGKARG_CREATEDEVICE *pCreateDevice)
{
    PAGED_CODE();
    auto *Device = new (NonPagedPoolNx, RND_TAG_DEVICE) RND_DEVICE{};
    if (Device == nullptr) {
        return STATUS_NO_MEMORY;
    }
    Device->Adapter = static_cast<RND_ADAPTER *>(hAdapter);
    if (pCreateDevice->pInfo != nullptr) {
        pCreateDevice->pInfo->DmaBufferSize = 64 * 1024;
        pCreateDevice->pInfo->DmaBufferPrivateDataSize = sizeof(RND_DMA_PRIVATE);
        pCreateDevice->pInfo->AllocationListSize = RND_MAX_PACKET_ALLOCS;
    }
    pCreateDevice->hDevice = Device;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiDestroyDevice(const HANDLE hDevice)
{
    auto *Device = static_cast<RND_DEVICE *>(hDevice);
    PAGED_CODE();
    NT_ASSERT(Device->Contexts == 0);
    delete Device;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiBuildPagingBuffer(const HANDLE hAdapter,
                                          DXGKARG_BUILDPAGINGBUFFER *pBuildPagingBuffer)
{
    UNREFERENCED_PARAMETER(hAdapter);
    if (pBuildPagingBuffer->Operation != DXGK_OPERATION_TRANSFER) {
        return STATUS_SUCCESS;
    }
    auto *Allocation = static_cast<RND_ALLOCATION *>(pBuildPagingBuffer->Transfer.hAllocation);
    if (pBuildPagingBuffer->DmaSize < 16) {
        return STATUS_GRAPHICS_INSUFFICIENT_DMA_BUFFER;
    }
    auto *Command = static_cast<UINT32 *>(pBuildPagingBuffer->pDmaBuffer);
    Command[0] = 0xC0B10000u;      // BLT
    Command[1] = pBuildPagingBuffer->Transfer.Source.SegmentId;
    Command[2] = pBuildPagingBuffer->Transfer.Destination.SegmentId;
    Command[3] = static_cast<UINT32>(pBuildPagingBuffer->Transfer.TransferSize);
    pBuildPagingBuffer->pDmaBuffer = Command + 4;
    if (Allocation != nullptr && pBuildPagingBuffer->Transfer.TransferSize != 0) {
        Allocation->SegmentId = pBuildPagingBuffer->Transfer.Destination.SegmentId;
    }
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiSetVidPnSourceAddress(const HANDLE hAdapter,
                                              const DXGKARG_SETVIDPNSOURCEADDRESS *pSetVidPnSourceAddress)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(hAdapter);
    if (pSetVidPnSourceAddress->VidPnSourceId != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    // The display engine scans out from an address; the allocation object
    // is not kept.
    Adapter->PrimaryAddress = pSetVidPnSourceAddress->PrimaryAddress;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiLock(const HANDLE hAdapter, DXGKARG_LOCK *pLock)
{
    UNREFERENCED_PARAMETER(hAdapter);
    pLock->pData = nullptr;
    return STATUS_NOT_SUPPORTED;    // the UMD maps allocations through the aperture
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiUnlock(const HANDLE hAdapter, const DXGKARG_UNLOCK *pUnlock)
{
    UNREFERENCED_PARAMETER(hAdapter);
    UNREFERENCED_PARAMETER(pUnlock);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiResetFromTimeout(const PVOID MiniportDeviceContext)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    // The engines were reset: nothing queued will complete.
    RndDmaCancelAll(Adapter);
    TraceEvents(TRACE_LEVEL_WARNING, TRACE_ADAPTER, "%!FUNC!: DMA queue cancelled");
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiRestartFromTimeout(const PVOID MiniportDeviceContext)
{
    UNREFERENCED_PARAMETER(MiniportDeviceContext);
    return STATUS_SUCCESS;
}
