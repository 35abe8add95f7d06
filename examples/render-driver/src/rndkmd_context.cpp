//
// rndkmd_context.cpp - contexts and Render: a context runs on one node;
// Render writes the commands and leaves the allocation objects it names in
// the DMA buffer's private data, for SubmitCommand to queue.
//
#include "rndkmd.h"
#include "rndkmd_context.tmh"

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiCreateContext(const HANDLE hDevice, DXGKARG_CREATECONTEXT *pCreateContext)
{
    auto *Device = static_cast<RND_DEVICE *>(hDevice);
    PAGED_CODE();
    if (pCreateContext->NodeOrdinal >= RND_MAX_NODES || pCreateContext->Flags.GdiContext) {
        return STATUS_INVALID_PARAMETER;
    }
    auto *Context = new (NonPagedPoolNx, RND_TAG_CONTEXT) RND_CONTEXT{};
    if (Context == nullptr) {
        return STATUS_NO_MEMORY;
    }
    Context->Device = Device;
    Context->NodeOrdinal = pCreateContext->NodeOrdinal;
    InterlockedIncrement(&Device->Contexts);
    pCreateContext->ContextInfo.DmaBufferSize = 64 * 1024;
    pCreateContext->ContextInfo.DmaBufferPrivateDataSize = sizeof(RND_DMA_PRIVATE);
    pCreateContext->ContextInfo.AllocationListSize = RND_MAX_PACKET_ALLOCS;
    pCreateContext->hContext = Context;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiDestroyContext(const HANDLE hContext)
{
    auto *Context = static_cast<RND_CONTEXT *>(hContext);
    RND_ADAPTER *Adapter = Context->Device->Adapter;
    PAGED_CODE();
    // dxgkrnl idled the context, but the DMA queue retires in submission
    // order: a packet of this context may wait behind another node's.
    // It is complete: retire it now.
    RndDmaCancelContext(Adapter, Context);
    NT_ASSERT(Context->QueuedPackets == 0);
    InterlockedDecrement(&Context->Device->Contexts);
    TraceEvents(TRACE_LEVEL_VERBOSE, TRACE_DMA, "%!FUNC!: context %p, %lu render(s)", Context,
                (unsigned long)Context->Renders);
    delete Context;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiRender(const HANDLE hContext, DXGKARG_RENDER *pRender)
{
    auto *Context = static_cast<RND_CONTEXT *>(hContext);
    if (pRender->pDmaBuffer == nullptr || pRender->DmaSize < 16 ||
        pRender->pDmaBufferPrivateData == nullptr ||
        pRender->DmaBufferPrivateDataSize < sizeof(RND_DMA_PRIVATE)) {
        return STATUS_INVALID_PARAMETER;
    }
    if (pRender->AllocationListSize > RND_MAX_PACKET_ALLOCS) {
        return STATUS_GRAPHICS_INSUFFICIENT_DMA_BUFFER;   // the UMD splits the batch
    }
    auto *Private = static_cast<RND_DMA_PRIVATE *>(pRender->pDmaBufferPrivateData);
    Private->Magic = RND_DMA_PRIVATE_MAGIC;
    Private->AllocationCount = pRender->AllocationListSize;
    for (UINT i = 0; i < pRender->AllocationListSize; i++) {
        Private->Allocations[i] =
            static_cast<RND_ALLOCATION *>(pRender->pAllocationList[i].hDeviceSpecificAllocation);
    }
    auto *Command = static_cast<UINT32 *>(pRender->pDmaBuffer);
    Command[0] = 0xC0DE0000u | pRender->AllocationListSize;
    Command[1] = Context->NodeOrdinal;
    Command[2] = 0;
    Command[3] = 0;
    pRender->pDmaBuffer = Command + 4;
    Context->Renders++;
    return STATUS_SUCCESS;
}
