//
// rndkmd_allocation.cpp - resources and allocations. The UMD describes each
// allocation (RNDUMD_SURFACE_DESC) and each resource (RNDUMD_RESOURCE_DESC)
// in its private data; by its contract it creates and destroys one
// allocation per call. A resource keeps its allocations in a list; the
// resource object lives from the create that returns its hResource to the
// destroy with Flags.DestroyResource.
//
#include "rndkmd.h"
#include "rndkmd_allocation.tmh"

namespace {

UINT RndBytesPerPixel(UINT Format)
{
    switch (Format) {
    case DXGI_FORMAT_R16G16B16A16_FLOAT:
        return 8;
    default:
        return 4;
    }
}

// Validates the UMD's description of an allocation and sizes it.
NTSTATUS RndDescribeAllocation(const DXGK_ALLOCATIONINFO *Info, SIZE_T *Size)
{
    NT_ASSERT(Info->pPrivateDriverData != nullptr &&
              Info->PrivateDriverDataSize == sizeof(RNDUMD_SURFACE_DESC));
    auto *Desc = static_cast<const RNDUMD_SURFACE_DESC *>(Info->pPrivateDriverData);
    if (Desc->Version != RNDUMD_INTERFACE_VERSION || Desc->Width == 0 || Desc->Height == 0 ||
        Desc->Pitch < Desc->Width * RndBytesPerPixel(Desc->Format) || (Desc->Pitch & 0xFF) != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    SIZE_T Bytes = 0;
    if (!NT_SUCCESS(RtlSizeTMult(Desc->Pitch, Desc->Height, &Bytes))) {
        return STATUS_INTEGER_OVERFLOW;
    }
    *Size = ROUND_TO_PAGES(Bytes);
    return STATUS_SUCCESS;
}

RND_RESOURCE *RndCreateResource(RND_ADAPTER *Adapter, const DXGKARG_CREATEALLOCATION *pCreate)
{
    NT_ASSERT(pCreate->pPrivateDriverData != nullptr &&
              pCreate->PrivateDriverDataSize == sizeof(RNDUMD_RESOURCE_DESC));
    auto *Resource = new (NonPagedPoolNx, RND_TAG_RESOURCE) RND_RESOURCE{};
    if (Resource == nullptr) {
        return nullptr;
    }
    Resource->Desc = *static_cast<const RNDUMD_RESOURCE_DESC *>(pCreate->pPrivateDriverData);
    InitializeListHead(&Resource->Allocations);
    RndSpinLockGuard Lock(&Adapter->ObjectLock);
    InsertTailList(&Adapter->Resources, &Resource->AdapterLink);
    return Resource;
}

VOID RndDestroyResource(RND_ADAPTER *Adapter, RND_RESOURCE *Resource)
{
    {
        RndSpinLockGuard Lock(&Adapter->ObjectLock);
        // Allocations dxgkrnl did not destroy with the resource (a create
        // it refused half-way) live on without it.
        while (!IsListEmpty(&Resource->Allocations)) {
            auto *Allocation = CONTAINING_RECORD(RemoveHeadList(&Resource->Allocations),
                                                 RND_ALLOCATION, ResourceLink);
            Allocation->Resource = nullptr;
            InsertTailList(&Adapter->Standalone, &Allocation->ResourceLink);
        }
        RemoveEntryList(&Resource->AdapterLink);
    }
    delete Resource;
}

} // namespace

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiCreateAllocation(const HANDLE hAdapter,
                                         DXGKARG_CREATEALLOCATION *pCreateAllocation)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(hAdapter);
    DXGK_ALLOCATIONINFO *Info = &pCreateAllocation->pAllocationInfo[0];
    RND_RESOURCE *Resource = static_cast<RND_RESOURCE *>(pCreateAllocation->hResource);
    BOOLEAN NewResource = FALSE;
    SIZE_T Size = 0;

    PAGED_CODE();
    NT_ASSERT(pCreateAllocation->NumAllocations == RNDUMD_ALLOCATIONS_PER_CALL);
    NTSTATUS Status = RndDescribeAllocation(Info, &Size);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    if (pCreateAllocation->Flags.Resource && Resource == nullptr) {
        Resource = RndCreateResource(Adapter, pCreateAllocation);
        if (Resource == nullptr) {
            return STATUS_NO_MEMORY;
        }
        NewResource = TRUE;
    }
    auto *Allocation = new (NonPagedPoolNx, RND_TAG_ALLOCATION) RND_ALLOCATION{};
    if (Allocation == nullptr) {
        if (NewResource) {
            RndDestroyResource(Adapter, Resource);
        }
        return STATUS_NO_MEMORY;
    }
    Allocation->Desc = *static_cast<const RNDUMD_SURFACE_DESC *>(Info->pPrivateDriverData);
    Allocation->Size = Size;
    Allocation->Resource = Resource;
    {
        RndSpinLockGuard Lock(&Adapter->ObjectLock);
        if (Resource != nullptr) {
            InsertTailList(&Resource->Allocations, &Allocation->ResourceLink);
            Resource->AllocationCount++;
        } else {
            InsertTailList(&Adapter->Standalone, &Allocation->ResourceLink);
        }
    }
    InterlockedIncrement(&Adapter->LiveAllocations);

    const BOOLEAN Primary = (Allocation->Desc.Usage & RNDUMD_USAGE_PRIMARY) != 0;
    Info->Alignment = 0;
    Info->Size = Size;
    Info->PitchAlignedSize = 0;
    Info->HintedBank.Value = 0;
    Info->PreferredSegment.Value = 0;
    Info->SupportedReadSegmentSet = Primary ? 0x1 : RNDUMD_SEGMENT_SET;
    Info->SupportedWriteSegmentSet = Info->SupportedReadSegmentSet;
    Info->EvictionSegmentSet = 0;
    Info->Flags.Value = 0;
    Info->Flags.Primary = Primary;
    Info->Flags.CpuVisible = (Allocation->Desc.Usage & RNDUMD_USAGE_CPU_VISIBLE) != 0;
    Info->pAllocationUsageHint = nullptr;
    Info->AllocationPriority = 0x28000000;   // D3DDDI_ALLOCATIONPRIORITY_NORMAL
    Info->hAllocation = Allocation;
    if (NewResource) {
        pCreateAllocation->hResource = Resource;
    }
    TraceEvents(TRACE_LEVEL_VERBOSE, TRACE_ALLOC, "%!FUNC!: allocation %p (%zu bytes), resource %p",
                Allocation, static_cast<size_t>(Size), Resource);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiDestroyAllocation(const HANDLE hAdapter,
                                          const DXGKARG_DESTROYALLOCATION *pDestroyAllocation)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(hAdapter);

    PAGED_CODE();
    NT_ASSERT(pDestroyAllocation->NumAllocations <= RNDUMD_ALLOCATIONS_PER_CALL);
    for (UINT i = 0; i < pDestroyAllocation->NumAllocations; i++) {
        auto *Allocation = static_cast<RND_ALLOCATION *>(pDestroyAllocation->pAllocationList[i]);
        // dxgkrnl destroys an allocation only once the GPU is done with it,
        // but the DMA queue may not have retired that work yet: drop its
        // references (unless RND_DEBUG_TRUST_DXGK_IDLE: bug 1).
        if (!(Adapter->DebugFlags & RND_DEBUG_TRUST_DXGK_IDLE)) {
            RndDmaCancelAllocation(Adapter, Allocation);
        }
        {
            RndSpinLockGuard Lock(&Adapter->ObjectLock);
            RemoveEntryList(&Allocation->ResourceLink);
            if (Allocation->Resource != nullptr) {
                Allocation->Resource->AllocationCount--;
            }
        }
        InterlockedDecrement(&Adapter->LiveAllocations);
        delete Allocation;
    }
    if (pDestroyAllocation->Flags.DestroyResource && pDestroyAllocation->hResource != nullptr) {
        RndDestroyResource(Adapter, static_cast<RND_RESOURCE *>(pDestroyAllocation->hResource));
    }
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiOpenAllocation(const HANDLE hDevice,
                                       const DXGKARG_OPENALLOCATION *pOpenAllocation)
{
    auto *Device = static_cast<RND_DEVICE *>(hDevice);
    DXGKARGCB_GETHANDLEDATA GetHandleData = {};

    for (UINT i = 0; i < pOpenAllocation->NumAllocations; i++) {
        DXGK_OPENALLOCATIONINFO *Info = &pOpenAllocation->pOpenAllocation[i];
        GetHandleData.hObject = Info->hAllocation;
        GetHandleData.Type = DXGK_HANDLE_ALLOCATION;
        auto *Allocation = static_cast<RND_ALLOCATION *>(
            Device->Adapter->Dxgk.DxgkCbGetHandleData(&GetHandleData));
        if (Allocation == nullptr) {
            while (i-- > 0) {
                auto *Opened = static_cast<RND_ALLOCATION *>(
                    pOpenAllocation->pOpenAllocation[i].hDeviceSpecificAllocation);
                InterlockedDecrement(&Opened->Opens);
            }
            return STATUS_INVALID_PARAMETER;
        }
        // The opener's UMD sends the creator's description again.
        NT_ASSERT(Info->PrivateDriverDataSize == sizeof(RNDUMD_SURFACE_DESC) &&
                  static_cast<const RNDUMD_SURFACE_DESC *>(Info->pPrivateDriverData)->Format ==
                      Allocation->Desc.Format);
        InterlockedIncrement(&Allocation->Opens);
        Info->hDeviceSpecificAllocation = Allocation;
    }
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiCloseAllocation(const HANDLE hDevice,
                                        const DXGKARG_CLOSEALLOCATION *pCloseAllocation)
{
    UNREFERENCED_PARAMETER(hDevice);
    for (UINT i = 0; i < pCloseAllocation->NumAllocations; i++) {
        auto *Allocation = static_cast<RND_ALLOCATION *>(pCloseAllocation->pOpenHandleList[i]);
        LONG Left = InterlockedDecrement(&Allocation->Opens);
        NT_ASSERT(Left >= 0);
    }
    return STATUS_SUCCESS;
}
