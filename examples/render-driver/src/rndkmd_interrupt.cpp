//
// rndkmd_interrupt.cpp - the ISR and the DPC. The ISR reads the node's
// completed fence, tells dxgkrnl and queues the DPC; the DPC wakes the DMA
// worker, which retires the packets (rndkmd_dma.cpp).
//
#include "rndkmd.h"
#include "rndkmd_interrupt.tmh"

_Use_decl_annotations_
BOOLEAN RndDdiInterruptRoutine(const PVOID MiniportDeviceContext, ULONG MessageNumber)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    if (MessageNumber >= RND_MAX_NODES) {
        return FALSE;   // not ours
    }
    UINT Fence = Adapter->Dxgk.LtCbQueryCompletedFence(Adapter->Dxgk.DeviceHandle, MessageNumber);
    DXGKARGCB_NOTIFY_INTERRUPT_DATA Notify = {};
    Notify.InterruptType = DXGK_INTERRUPT_DMA_COMPLETED;
    Notify.DmaCompleted.SubmissionFenceId = Fence;
    Notify.DmaCompleted.NodeOrdinal = MessageNumber;
    Adapter->Dxgk.DxgkCbNotifyInterrupt(Adapter->Dxgk.DeviceHandle, &Notify);
    Adapter->CompletedFence[MessageNumber] = Fence;
    InterlockedIncrement(&Adapter->Interrupts);
    Adapter->Dxgk.DxgkCbQueueDpc(Adapter->Dxgk.DeviceHandle);
    return TRUE;
}

_Use_decl_annotations_
VOID RndDdiDpcRoutine(const PVOID MiniportDeviceContext)
{
    auto *Adapter = static_cast<RND_ADAPTER *>(MiniportDeviceContext);
    NT_ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    Adapter->Dxgk.DxgkCbNotifyDpc(Adapter->Dxgk.DeviceHandle);
    KeSetEvent(&Adapter->CompletionEvent, IO_NO_INCREMENT, FALSE);
    TraceEvents(TRACE_LEVEL_VERBOSE, TRACE_INTERRUPT, "%!FUNC!: worker signalled");
}
