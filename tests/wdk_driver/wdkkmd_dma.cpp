//
// wdkkmd: the DMA engine, in C++ (no exceptions, no RTTI). SubmitCommand
// queues a packet; the ISR reports the completed fence and queues the DPC;
// the DPC wakes the worker thread, which retires completed packets. A
// periodic timer's DPC counts watchdog ticks.
//
#include "wdkkmd.h"
#include "wdkkmd_dma.tmh"

namespace {

constexpr LONG WatchdogPeriodMs = 10;

class PacketQueue {
public:
    explicit PacketQueue(PWDK_ADAPTER Adapter) : m_Adapter(Adapter) {}

    // Moves the packets whose fence completed onto Done; returns how many.
    ULONG TakeCompleted(PLIST_ENTRY Done)
    {
        KLOCK_QUEUE_HANDLE Lock;
        ULONG Count = 0;
        KeAcquireInStackQueuedSpinLock(&m_Adapter->PacketLock, &Lock);
        PLIST_ENTRY Entry = m_Adapter->Pending.Flink;
        while (Entry != &m_Adapter->Pending) {
            PWDK_PACKET Packet = CONTAINING_RECORD(Entry, WDK_PACKET, Link);
            Entry = Entry->Flink;
            if (Packet->FenceId <= m_Adapter->CompletedFence[Packet->NodeOrdinal]) {
                RemoveEntryList(&Packet->Link);
                InsertTailList(Done, &Packet->Link);
                Count++;
            }
        }
        KeReleaseInStackQueuedSpinLock(&Lock);
        return Count;
    }

private:
    PWDK_ADAPTER m_Adapter;
};

KSTART_ROUTINE WdkWorker;

_Use_decl_annotations_
VOID WdkWorker(PVOID StartContext)
{
    PWDK_ADAPTER Adapter = static_cast<PWDK_ADAPTER>(StartContext);
    PacketQueue Queue(Adapter);
    PVOID Objects[2] = {&Adapter->WorkEvent, &Adapter->StopEvent};

    NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    for (;;) {
        NTSTATUS Status = KeWaitForMultipleObjects(2, Objects, WaitAny, Executive, KernelMode,
                                                   FALSE, nullptr, nullptr);
        if (Status == STATUS_WAIT_0 + 1) {
            break;
        }
        LIST_ENTRY Done;
        InitializeListHead(&Done);
        ULONG Count = Queue.TakeCompleted(&Done);
        while (!IsListEmpty(&Done)) {
            PWDK_PACKET Packet = CONTAINING_RECORD(RemoveHeadList(&Done), WDK_PACKET, Link);
            ExFreePoolWithTag(Packet, WDK_TAG_PACKET);
            InterlockedDecrement(&Adapter->Outstanding);
        }
        ExAcquireFastMutex(&Adapter->StatsMutex);
        Adapter->PacketsRetired += Count;
        ExReleaseFastMutex(&Adapter->StatsMutex);
        TraceEvents(TRACE_LEVEL_VERBOSE, 2, "%!FUNC!: retired %lu packet(s)", (unsigned long)Count);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

KDEFERRED_ROUTINE WdkWatchdog;

_Use_decl_annotations_
VOID WdkWatchdog(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
    PWDK_ADAPTER Adapter = static_cast<PWDK_ADAPTER>(DeferredContext);
    NT_ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    InterlockedIncrement(&Adapter->WatchdogTicks);
}

} // namespace

_Use_decl_annotations_
NTSTATUS WdkDmaStart(PWDK_ADAPTER Adapter)
{
    HANDLE Thread = nullptr;
    LARGE_INTEGER Due;

    KeInitializeSpinLock(&Adapter->PacketLock);
    InitializeListHead(&Adapter->Pending);
    KeInitializeEvent(&Adapter->WorkEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&Adapter->StopEvent, NotificationEvent, FALSE);
    ExInitializeFastMutex(&Adapter->StatsMutex);
    NTSTATUS Status = PsCreateSystemThread(&Thread, THREAD_ALL_ACCESS, nullptr, nullptr, nullptr,
                                           WdkWorker, Adapter);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    Status = ObReferenceObjectByHandle(Thread, THREAD_ALL_ACCESS, *PsThreadType, KernelMode,
                                       reinterpret_cast<PVOID *>(&Adapter->Worker), nullptr);
    ZwClose(Thread);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    KeInitializeDpc(&Adapter->WatchdogDpc, WdkWatchdog, Adapter);
    KeInitializeTimerEx(&Adapter->WatchdogTimer, NotificationTimer);
    Due.QuadPart = -10000LL * WatchdogPeriodMs;
    KeSetTimerEx(&Adapter->WatchdogTimer, Due, WatchdogPeriodMs, &Adapter->WatchdogDpc);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
VOID WdkDmaStop(PWDK_ADAPTER Adapter)
{
    KeCancelTimer(&Adapter->WatchdogTimer);
    KeFlushQueuedDpcs();
    KeSetEvent(&Adapter->StopEvent, IO_NO_INCREMENT, FALSE);
    NTSTATUS Status = KeWaitForSingleObject(Adapter->Worker, Executive, KernelMode, FALSE, nullptr);
    NT_ASSERT(Status == STATUS_SUCCESS);
    ObDereferenceObject(Adapter->Worker);
    // Work the GPU never completed (a window trace) is dropped here.
    while (!IsListEmpty(&Adapter->Pending)) {
        PWDK_PACKET Packet = CONTAINING_RECORD(RemoveHeadList(&Adapter->Pending), WDK_PACKET, Link);
        ExFreePoolWithTag(Packet, WDK_TAG_PACKET);
        InterlockedDecrement(&Adapter->Outstanding);
    }
    NT_ASSERT(Adapter->Outstanding == 0);
}

_Use_decl_annotations_
NTSTATUS APIENTRY WdkDdiRender(const HANDLE hContext, DXGKARG_RENDER *pRender)
{
    UNREFERENCED_PARAMETER(hContext);
    if (pRender->pDmaBuffer == nullptr || pRender->DmaSize < 8 ||
        pRender->DmaBufferPrivateDataSize < sizeof(UINT)) {
        return STATUS_INVALID_PARAMETER;
    }
    auto *Commands = static_cast<UINT32 *>(pRender->pDmaBuffer);
    Commands[0] = 0xC0DE0000u | pRender->AllocationListSize;
    Commands[1] = 0;
    pRender->pDmaBuffer = Commands + 2;
    *static_cast<UINT *>(pRender->pDmaBufferPrivateData) = pRender->AllocationListSize;
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS APIENTRY WdkDdiSubmitCommand(const HANDLE hAdapter, const DXGKARG_SUBMITCOMMAND *pSubmit)
{
    auto *Adapter = static_cast<PWDK_ADAPTER>(hAdapter);
    NT_ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    if (pSubmit->NodeOrdinal >= WDK_MAX_NODES) {
        return STATUS_INVALID_PARAMETER;
    }
    auto *Packet = static_cast<PWDK_PACKET>(
        ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(WDK_PACKET), WDK_TAG_PACKET));
    if (Packet == nullptr) {
        return STATUS_NO_MEMORY;
    }
    Packet->NodeOrdinal = pSubmit->NodeOrdinal;
    Packet->FenceId = pSubmit->SubmissionFenceId;
    Packet->hContext = pSubmit->hContext;
    KeAcquireSpinLockAtDpcLevel(&Adapter->PacketLock);
    InsertTailList(&Adapter->Pending, &Packet->Link);
    KeReleaseSpinLockFromDpcLevel(&Adapter->PacketLock);
    InterlockedIncrement(&Adapter->Outstanding);
    InterlockedIncrement64(&Adapter->Submitted64);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
BOOLEAN WdkDdiInterruptRoutine(const PVOID MiniportDeviceContext, ULONG MessageNumber)
{
    auto *Adapter = static_cast<PWDK_ADAPTER>(MiniportDeviceContext);
    if (MessageNumber >= WDK_MAX_NODES) {
        return FALSE;
    }
    UINT Fence = Adapter->DxgkInterface.LtCbQueryCompletedFence(Adapter->DxgkInterface.DeviceHandle,
                                                                MessageNumber);
    DXGKARGCB_NOTIFY_INTERRUPT_DATA Notify = {};
    Notify.InterruptType = DXGK_INTERRUPT_DMA_COMPLETED;
    Notify.DmaCompleted.SubmissionFenceId = Fence;
    Notify.DmaCompleted.NodeOrdinal = MessageNumber;
    Adapter->DxgkInterface.DxgkCbNotifyInterrupt(Adapter->DxgkInterface.DeviceHandle, &Notify);
    Adapter->CompletedFence[MessageNumber] = Fence;
    Adapter->DxgkInterface.DxgkCbQueueDpc(Adapter->DxgkInterface.DeviceHandle);
    return TRUE;
}

_Use_decl_annotations_
VOID WdkDdiDpcRoutine(const PVOID MiniportDeviceContext)
{
    auto *Adapter = static_cast<PWDK_ADAPTER>(MiniportDeviceContext);
    Adapter->DxgkInterface.DxgkCbNotifyDpc(Adapter->DxgkInterface.DeviceHandle);
    KeSetEvent(&Adapter->WorkEvent, IO_NO_INCREMENT, FALSE);
}
