//
// rndkmd_dma.cpp - the DMA queue. SubmitCommand queues a packet that holds a
// reference on each allocation its DMA buffer names and on its context. The
// ISR records completed fences and the DPC signals CompletionEvent; the
// worker thread then retires packets from the head of the queue, in
// submission order across every node, as the hardware's single ring does:
// a completed packet behind an incomplete one (another node) waits.
// DestroyAllocation cancels the references of packets still queued;
// DestroyContext retires the context's packets (dxgkrnl idled it);
// ResetFromTimeout drops the whole queue.
//
#include "rndkmd.h"
#include "rndkmd_dma.tmh"

namespace {

struct FENCE_SNAPSHOT {
    RND_ADAPTER *Adapter;
    UINT Fence[RND_MAX_NODES];
};

// Runs synchronized with the ISR (DxgkCbSynchronizeExecution).
BOOLEAN RndSnapshotFences(PVOID SynchronizeContext)
{
    auto *Snapshot = static_cast<FENCE_SNAPSHOT *>(SynchronizeContext);
    RtlCopyMemory(Snapshot->Fence, Snapshot->Adapter->CompletedFence, sizeof(Snapshot->Fence));
    return TRUE;
}

// Drops a packet's references. QueueLock held.
VOID RndReleasePacket(RND_PACKET *Packet)
{
    for (UINT i = 0; i < Packet->AllocationCount; i++) {
        RND_ALLOCATION *Allocation = Packet->Allocations[i];
        if (Allocation != nullptr) {
            Allocation->LastRetiredFence = Packet->FenceId;
            Allocation->GpuReferences--;
            Packet->Allocations[i] = nullptr;
        }
    }
    if (Packet->Context != nullptr) {
        Packet->Context->QueuedPackets--;
        Packet->Context = nullptr;
    }
}

VOID RndFreePackets(PLIST_ENTRY Done)
{
    while (!IsListEmpty(Done)) {
        delete CONTAINING_RECORD(RemoveHeadList(Done), RND_PACKET, QueueLink);
    }
}

KSTART_ROUTINE RndDmaWorker;

_Use_decl_annotations_
VOID RndDmaWorker(PVOID StartContext)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(StartContext);
    PVOID Objects[2] = {&Adapter->CompletionEvent, &Adapter->StopEvent};

    NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    for (;;) {
        NTSTATUS Status = KeWaitForMultipleObjects(2, Objects, WaitAny, Executive, KernelMode, FALSE,
                                                   nullptr, nullptr);
        if (Status == STATUS_WAIT_1) {
            break;
        }
        NT_ASSERT(Status == STATUS_WAIT_0);
        RndDmaRetireCompleted(Adapter);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

} // namespace

_Use_decl_annotations_
VOID RndDmaRetireCompleted(RND_ADAPTER *Adapter)
{
    FENCE_SNAPSHOT Snapshot = {};
    BOOLEAN Ignored = FALSE;
    LIST_ENTRY Done;
    ULONG Count = 0;

    Snapshot.Adapter = Adapter;
    (void)Adapter->Dxgk.DxgkCbSynchronizeExecution(Adapter->Dxgk.DeviceHandle, RndSnapshotFences,
                                                   &Snapshot, 0, &Ignored);
    InitializeListHead(&Done);
    {
        RndSpinLockGuard Lock(&Adapter->QueueLock);
        while (!IsListEmpty(&Adapter->DmaQueue)) {
            auto *Packet = CONTAINING_RECORD(Adapter->DmaQueue.Flink, RND_PACKET, QueueLink);
            if (Packet->FenceId > Snapshot.Fence[Packet->NodeOrdinal]) {
                break;  // in order: everything behind it waits
            }
            RemoveEntryList(&Packet->QueueLink);
            RndReleasePacket(Packet);
            InsertTailList(&Done, &Packet->QueueLink);
            Count++;
        }
    }
    RndFreePackets(&Done);
    InterlockedExchangeAdd(&Adapter->PacketsRetired, static_cast<LONG>(Count));
    TraceEvents(TRACE_LEVEL_VERBOSE, TRACE_DMA, "%!FUNC!: retired %lu packet(s)",
                static_cast<unsigned long>(Count));
}

_Use_decl_annotations_
NTSTATUS RndDmaStart(RND_ADAPTER *Adapter)
{
    HANDLE Thread = nullptr;

    KeInitializeEvent(&Adapter->CompletionEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&Adapter->StopEvent, NotificationEvent, FALSE);
    NTSTATUS Status = PsCreateSystemThread(&Thread, THREAD_ALL_ACCESS, nullptr, nullptr, nullptr,
                                           RndDmaWorker, Adapter);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Status = ObReferenceObjectByHandle(Thread, THREAD_ALL_ACCESS, *PsThreadType, KernelMode,
                                       reinterpret_cast<PVOID *>(&Adapter->Worker), nullptr);
    ZwClose(Thread);
    return Status;
}

_Use_decl_annotations_
VOID RndDmaStop(RND_ADAPTER *Adapter)
{
    KeSetEvent(&Adapter->StopEvent, IO_NO_INCREMENT, FALSE);
    NTSTATUS Status = KeWaitForSingleObject(Adapter->Worker, Executive, KernelMode, FALSE, nullptr);
    NT_ASSERT(Status == STATUS_SUCCESS);
    ObDereferenceObject(Adapter->Worker);
    Adapter->Worker = nullptr;
    RndDmaCancelAll(Adapter);   // work the GPU never completed
}

_Use_decl_annotations_
VOID RndDmaCancelAllocation(RND_ADAPTER *Adapter, RND_ALLOCATION *Allocation)
{
    RndSpinLockGuard Lock(&Adapter->QueueLock);
    for (PLIST_ENTRY Entry = Adapter->DmaQueue.Flink; Entry != &Adapter->DmaQueue;
         Entry = Entry->Flink) {
        auto *Packet = CONTAINING_RECORD(Entry, RND_PACKET, QueueLink);
        for (UINT i = 0; i < Packet->AllocationCount; i++) {
            if (Packet->Allocations[i] == Allocation) {
                Packet->Allocations[i] = nullptr;
                Allocation->GpuReferences--;
            }
        }
    }
    NT_ASSERT(Allocation->GpuReferences == 0);
}

_Use_decl_annotations_
VOID RndDmaCancelContext(RND_ADAPTER *Adapter, RND_CONTEXT *Context)
{
    LIST_ENTRY Done;

    // dxgkrnl idled the context before destroying it: its packets are
    // complete, so they leave the queue now, out of order.
    InitializeListHead(&Done);
    {
        RndSpinLockGuard Lock(&Adapter->QueueLock);
        PLIST_ENTRY Entry = Adapter->DmaQueue.Flink;
        while (Entry != &Adapter->DmaQueue) {
            auto *Packet = CONTAINING_RECORD(Entry, RND_PACKET, QueueLink);
            Entry = Entry->Flink;
            if (Packet->Context == Context) {
                RemoveEntryList(&Packet->QueueLink);
                RndReleasePacket(Packet);
                InsertTailList(&Done, &Packet->QueueLink);
            }
        }
    }
    RndFreePackets(&Done);
}

_Use_decl_annotations_
VOID RndDmaCancelAll(RND_ADAPTER *Adapter)
{
    LIST_ENTRY Done;

    InitializeListHead(&Done);
    {
        RndSpinLockGuard Lock(&Adapter->QueueLock);
        while (!IsListEmpty(&Adapter->DmaQueue)) {
            auto *Packet = CONTAINING_RECORD(RemoveHeadList(&Adapter->DmaQueue), RND_PACKET,
                                             QueueLink);
            RndReleasePacket(Packet);
            InsertTailList(&Done, &Packet->QueueLink);
        }
    }
    RndFreePackets(&Done);
}

_Use_decl_annotations_
NTSTATUS APIENTRY RndDdiSubmitCommand(const HANDLE hAdapter, const DXGKARG_SUBMITCOMMAND *pSubmit)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(hAdapter);
    auto *Context = static_cast<RND_CONTEXT *>(pSubmit->hContext);
    auto *Private = static_cast<const RND_DMA_PRIVATE *>(pSubmit->pDmaBufferPrivateData);

    NT_ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    if (pSubmit->NodeOrdinal >= RND_MAX_NODES || Private == nullptr ||
        pSubmit->DmaBufferPrivateDataSize < sizeof(RND_DMA_PRIVATE)) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(Private->Magic == RND_DMA_PRIVATE_MAGIC);   // Render ran first
    NT_ASSERT(Private->AllocationCount <= RND_MAX_PACKET_ALLOCS);
    auto *Packet = new (NonPagedPoolNx, RND_TAG_PACKET) RND_PACKET{};
    if (Packet == nullptr) {
        return STATUS_NO_MEMORY;
    }
    Packet->NodeOrdinal = pSubmit->NodeOrdinal;
    Packet->FenceId = pSubmit->SubmissionFenceId;
    Packet->AllocationCount = Private->AllocationCount;
    {
        RndSpinLockGuard Lock(&Adapter->QueueLock);
        Packet->Context = Context;
        Context->QueuedPackets++;
        for (UINT i = 0; i < Packet->AllocationCount; i++) {
            Packet->Allocations[i] = Private->Allocations[i];
            if (Packet->Allocations[i] != nullptr) {
                Packet->Allocations[i]->GpuReferences++;
            }
        }
        InsertTailList(&Adapter->DmaQueue, &Packet->QueueLink);
    }
    return STATUS_SUCCESS;
}
