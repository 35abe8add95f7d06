//
// rndkmd_lifetrace.cpp - the lifetrace adapter file of rndkmd: the only file
// that knows lifetrace. Not part of the driver that ships. It
//   - merges AddDevice + StartDevice and StopDevice + RemoveDevice into the
//     table's two adapter entries;
//   - describes the UMD's private data (rndumd_shared.h) and builds it from a
//     trace's allocation, as rndumd.dll would fill it;
//   - declares the UMD's contract that the driver's NT_ASSERTs rely on: one
//     allocation per CreateAllocation and per DestroyAllocation, segments 1
//     and 2;
//   - exports the introspection hook: every allocation a queued DMA packet
//     still references ("dma-queue");
//   - takes the option "bugs": "1" or "trust-dxgk-idle" sets the driver's
//     RND_DEBUG_TRUST_DXGK_IDLE debug flag (bug 1), as the DebugFlags
//     registry value does on Windows; "" or "none" clears it.
//
#include <string.h>

#include <lifetrace/driver.h>

#include "rndkmd.h"

namespace {

NTSTATUS RndLtStartDevice(const DXGKRNL_INTERFACE *pDxgkInterface, HANDLE *phAdapter)
{
    DXGKRNL_INTERFACE Interface = *pDxgkInterface;
    DXGK_START_INFO StartInfo = {};
    PVOID Context = nullptr;
    ULONG Sources = 0, Children = 0;

    NTSTATUS Status = RndDdiAddDevice(nullptr, &Context);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Status = RndDdiStartDevice(Context, &StartInfo, &Interface, &Sources, &Children);
    if (!NT_SUCCESS(Status)) {
        (void)RndDdiRemoveDevice(Context);
        return Status;
    }
    *phAdapter = Context;
    return STATUS_SUCCESS;
}

NTSTATUS RndLtStopDevice(HANDLE hAdapter)
{
    NTSTATUS Status = RndDdiStopDevice(hAdapter);
    return NT_SUCCESS(Status) ? RndDdiRemoveDevice(hAdapter) : Status;
}

// What rndumd.dll sends for an allocation: its format and shape from the
// trace's size, varied by the mutator's seed.
void RndLtBuildSurface(const LT_UMD_ALLOCATION *pAllocation, void *pData, UINT DataSize)
{
    static const UINT Formats[] = {DXGI_FORMAT_B8G8R8A8_UNORM, DXGI_FORMAT_R8G8B8A8_UNORM,
                                   DXGI_FORMAT_R16G16B16A16_FLOAT, DXGI_FORMAT_R10G10B10A2_UNORM};
    RNDUMD_SURFACE_DESC Desc = {};
    if (DataSize < sizeof(Desc)) {
        return;
    }
    Desc.Version = RNDUMD_INTERFACE_VERSION;
    Desc.Usage = RNDUMD_USAGE_RENDER_TARGET;
    if ((pAllocation->Flags >> 31) & 1) {
        Desc.Usage |= RNDUMD_USAGE_PRIMARY;
    }
    if (pAllocation->Flags & 1) {   // DXGK_ALLOCATIONINFOFLAGS.CpuVisible
        Desc.Usage |= RNDUMD_USAGE_CPU_VISIBLE;
    }
    if (pAllocation->Shared) {
        Desc.Usage |= RNDUMD_USAGE_SHARED;
    }
    Desc.Format = Formats[pAllocation->Variant % RTL_NUMBER_OF(Formats)];
    UINT Bpp = Desc.Format == DXGI_FORMAT_R16G16B16A16_FLOAT ? 8 : 4;
    Desc.Width = 256u << ((pAllocation->Variant / 4) % 3);
    Desc.Pitch = (Desc.Width * Bpp + 0xFF) & ~0xFFu;
    ULONGLONG Rows = pAllocation->Size / Desc.Pitch;
    Desc.Height = Rows == 0 ? 1 : Rows > 16384 ? 16384 : static_cast<UINT>(Rows);
    Desc.MipLevels = 1;
    memcpy(pData, &Desc, sizeof(Desc));
}

void RndLtBuildResource(const LT_UMD_ALLOCATION *pAllocations, UINT NumAllocations, void *pData,
                        UINT DataSize)
{
    RNDUMD_RESOURCE_DESC Desc = {};
    UNREFERENCED_PARAMETER(pAllocations);
    if (DataSize < sizeof(Desc)) {
        return;
    }
    Desc.Version = RNDUMD_INTERFACE_VERSION;
    Desc.AllocationCount = static_cast<USHORT>(NumAllocations);
    Desc.Dimension = D3D10DDIRESOURCE_TEXTURE2D;
    Desc.BindFlags = 0x20;  // D3D10_DDI_BIND_RENDER_TARGET
    memcpy(pData, &Desc, sizeof(Desc));
}

const LT_UMD_PRIVATE_DATA RndLtUmdData = {
    sizeof(RNDUMD_SURFACE_DESC),    // AllocationDataSize
    sizeof(RNDUMD_RESOURCE_DESC),   // ResourceDataSize
    RndLtBuildSurface,
    RndLtBuildResource,
};

const LT_UMD_CONTRACT RndLtUmdContract = {
    RNDUMD_ALLOCATIONS_PER_CALL,    // MaxAllocationsPerCreate
    0,                              // MaxAllocationsPerOpen
    0,                              // MaxAllocationsPerClose
    RNDUMD_ALLOCATIONS_PER_CALL,    // MaxAllocationsPerDestroy
    0,                              // MaxAllocationsPerResource
    RNDUMD_SEGMENT_SET,             // SegmentSet
};

// Every allocation a queued packet still references. Under QueueLock.
void RndLtEnumReferencedAllocations(HANDLE hAdapter, LT_REFERENCE_CALLBACK Report, void *Context)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(hAdapter);
    RndSpinLockGuard Lock(&Adapter->QueueLock);
    for (PLIST_ENTRY Entry = Adapter->DmaQueue.Flink; Entry != &Adapter->DmaQueue;
         Entry = Entry->Flink) {
        auto *Packet = CONTAINING_RECORD(Entry, RND_PACKET, QueueLink);
        for (UINT i = 0; i < Packet->AllocationCount; i++) {
            if (Packet->Allocations[i] != nullptr) {
                Report(Context, Packet->Allocations[i], "dma-queue");
            }
        }
    }
}

// "bugs": a comma- or blank-separated list of "1" / "trust-dxgk-idle";
// "" or "none" for no bug.
NTSTATUS RndLtSetOption(const char *Name, const char *Value)
{
    ULONG Flags = 0;

    if (strcmp(Name, "bugs") != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    for (const char *p = Value != nullptr ? Value : ""; *p != '\0';) {
        size_t Length = strcspn(p, ", \t");
        if (Length == 0) {
            p++;
            continue;
        }
        if ((Length == 1 && p[0] == '1') || (Length == 15 && strncmp(p, "trust-dxgk-idle", 15) == 0)) {
            Flags |= RND_DEBUG_TRUST_DXGK_IDLE;
        } else if (!(Length == 4 && strncmp(p, "none", 4) == 0)) {
            return STATUS_INVALID_PARAMETER;
        }
        p += Length;
    }
    RndGlobalDebugFlags = Flags;
    return STATUS_SUCCESS;
}

LT_MINIPORT RndLtMakeMiniport()
{
    LT_MINIPORT Miniport = {};
    Miniport.AbiVersion = LT_MINIPORT_ABI_VERSION;
    Miniport.Size = sizeof(LT_MINIPORT);
    Miniport.Name = "rndkmd";
    Miniport.Version = "1.0";
    Miniport.DxgkDdiStartDevice = RndLtStartDevice;
    Miniport.DxgkDdiStopDevice = RndLtStopDevice;
    Miniport.DxgkDdiCreateDevice = RndDdiCreateDevice;
    Miniport.DxgkDdiDestroyDevice = RndDdiDestroyDevice;
    Miniport.DxgkDdiCreateContext = RndDdiCreateContext;
    Miniport.DxgkDdiDestroyContext = RndDdiDestroyContext;
    Miniport.DxgkDdiCreateAllocation = RndDdiCreateAllocation;
    Miniport.DxgkDdiDestroyAllocation = RndDdiDestroyAllocation;
    Miniport.DxgkDdiOpenAllocation = RndDdiOpenAllocation;
    Miniport.DxgkDdiCloseAllocation = RndDdiCloseAllocation;
    Miniport.DxgkDdiRender = RndDdiRender;
    Miniport.DxgkDdiSubmitCommand = RndDdiSubmitCommand;
    Miniport.DxgkDdiInterruptRoutine = RndDdiInterruptRoutine;
    Miniport.DxgkDdiDpcRoutine = RndDdiDpcRoutine;
    Miniport.DxgkDdiBuildPagingBuffer = RndDdiBuildPagingBuffer;
    Miniport.DxgkDdiSetVidPnSourceAddress = RndDdiSetVidPnSourceAddress;
    Miniport.DxgkDdiLock = RndDdiLock;
    Miniport.DxgkDdiUnlock = RndDdiUnlock;
    Miniport.DxgkDdiResetFromTimeout = RndDdiResetFromTimeout;
    Miniport.DxgkDdiRestartFromTimeout = RndDdiRestartFromTimeout;
    Miniport.LtEnumReferencedAllocations = RndLtEnumReferencedAllocations;
    Miniport.LtSetOption = RndLtSetOption;
    Miniport.DmaBufferPrivateDataSize = sizeof(RND_DMA_PRIVATE);
    Miniport.UmdPrivateData = &RndLtUmdData;
    Miniport.UmdContract = &RndLtUmdContract;
    return Miniport;
}

const LT_MINIPORT RndLtMiniport = RndLtMakeMiniport();

} // namespace

LT_DEFINE_MINIPORT_ENTRY(RndLtMiniport)
