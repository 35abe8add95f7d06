/*++

Module Name:

    smpkmd_device.c

Abstract:

    Devices and contexts, and command submission: DxgkDdiRender,
    DxgkDdiSubmitCommand, the ISR and the DPC.

    This driver keeps no allocation pointers in DMA buffers: Render checks
    the allocation list against the context's device and records only the
    context, so nothing here can outlive a DestroyAllocation.

--*/

#include "smpkmd.h"

//
// DxgkDdiCreateDevice.
//
NTSTATUS
APIENTRY
SmpDdiCreateDevice(
    IN_CONST_HANDLE hAdapter,
    INOUT_PDXGKARG_CREATEDEVICE pCreateDevice
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    PSMP_DEVICE pDevice;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pAdapter == NULL || pCreateDevice == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pAdapter->Signature == SMP_SIG_ADAPTER);

    pDevice = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pDevice), SMP_TAG_DEVICE);
    if (pDevice == NULL) {
        return STATUS_NO_MEMORY;
    }
    pDevice->Signature = SMP_SIG_DEVICE;
    pDevice->pAdapter = pAdapter;
    pDevice->hDxgkDevice = pCreateDevice->hDevice;
    InitializeListHead(&pDevice->BindingListHead);
    InitializeListHead(&pDevice->ContextListHead);

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    InsertTailList(&pAdapter->DeviceListHead, &pDevice->AdapterEntry);
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    pCreateDevice->hDevice = pDevice;
    return STATUS_SUCCESS;
}

//
// Unlinks a device with its contexts and bindings and frees them. Bindings
// still open are detached from their allocations first.
//
VOID
SmpTeardownDevice(
    _In_ PSMP_ADAPTER pAdapter,
    _In_ PSMP_DEVICE pDevice
    )
{
    LIST_ENTRY Bindings, Contexts;
    KIRQL OldIrql;

    InitializeListHead(&Bindings);
    InitializeListHead(&Contexts);

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    RemoveEntryList(&pDevice->AdapterEntry);
    while (!IsListEmpty(&pDevice->BindingListHead)) {
        PSMP_BINDING pBinding = CONTAINING_RECORD(RemoveHeadList(&pDevice->BindingListHead),
                                                  SMP_BINDING, DeviceEntry);
        if (pBinding->pAllocation != NULL) {
            RemoveEntryList(&pBinding->AllocationEntry);
            pBinding->pAllocation->cOpens--;
            pBinding->pAllocation = NULL;
        }
        InsertTailList(&Bindings, &pBinding->DeviceEntry);
    }
    while (!IsListEmpty(&pDevice->ContextListHead)) {
        PSMP_CONTEXT pContext = CONTAINING_RECORD(RemoveHeadList(&pDevice->ContextListHead),
                                                  SMP_CONTEXT, DeviceEntry);
        RemoveEntryList(&pContext->AdapterEntry);
        InsertTailList(&Contexts, &pContext->DeviceEntry);
    }
    pDevice->cBindings = 0;
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    while (!IsListEmpty(&Bindings)) {
        SmpFreeBinding(CONTAINING_RECORD(RemoveHeadList(&Bindings), SMP_BINDING, DeviceEntry));
    }
    while (!IsListEmpty(&Contexts)) {
        PSMP_CONTEXT pContext = CONTAINING_RECORD(RemoveHeadList(&Contexts), SMP_CONTEXT, DeviceEntry);

        pContext->Signature = 0;
        ExFreePoolWithTag(pContext, SMP_TAG_CONTEXT);
    }
    pDevice->Signature = 0;
    ExFreePoolWithTag(pDevice, SMP_TAG_DEVICE);
}

//
// DxgkDdiDestroyDevice: the device's contexts and bindings go with it.
// Allocations are adapter objects and stay.
//
NTSTATUS
APIENTRY
SmpDdiDestroyDevice(
    IN_CONST_HANDLE hDevice
    )
{
    PSMP_DEVICE pDevice = (PSMP_DEVICE)hDevice;

    PAGED_CODE();

    if (pDevice == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pDevice->Signature == SMP_SIG_DEVICE);
    SmpTeardownDevice(pDevice->pAdapter, pDevice);
    return STATUS_SUCCESS;
}

//
// DxgkDdiCreateContext.
//
NTSTATUS
APIENTRY
SmpDdiCreateContext(
    IN_CONST_HANDLE hDevice,
    INOUT_PDXGKARG_CREATECONTEXT pCreateContext
    )
{
    PSMP_DEVICE pDevice = (PSMP_DEVICE)hDevice;
    PSMP_ADAPTER pAdapter;
    PSMP_CONTEXT pContext;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pDevice == NULL || pCreateContext == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pDevice->Signature == SMP_SIG_DEVICE);
    pAdapter = pDevice->pAdapter;

    pContext = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pContext), SMP_TAG_CONTEXT);
    if (pContext == NULL) {
        return STATUS_NO_MEMORY;
    }
    pContext->Signature = SMP_SIG_CONTEXT;
    pContext->pDevice = pDevice;
    pContext->hDxgkContext = pCreateContext->hContext;
    pContext->NodeOrdinal = pCreateContext->NodeOrdinal;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    InsertTailList(&pDevice->ContextListHead, &pContext->DeviceEntry);
    InsertTailList(&pAdapter->ContextListHead, &pContext->AdapterEntry);
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    pCreateContext->hContext = pContext;
    return STATUS_SUCCESS;
}

//
// DxgkDdiDestroyContext.
//
NTSTATUS
APIENTRY
SmpDdiDestroyContext(
    IN_CONST_HANDLE hContext
    )
{
    PSMP_CONTEXT pContext = (PSMP_CONTEXT)hContext;
    PSMP_ADAPTER pAdapter;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pContext == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pContext->Signature == SMP_SIG_CONTEXT);
    pAdapter = pContext->pDevice->pAdapter;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    RemoveEntryList(&pContext->DeviceEntry);
    RemoveEntryList(&pContext->AdapterEntry);
    SmpReleaseAdapterLock(pAdapter, OldIrql);

    pContext->Signature = 0;
    ExFreePoolWithTag(pContext, SMP_TAG_CONTEXT);
    return STATUS_SUCCESS;
}

//
// DxgkDdiRender: every entry of the allocation list must be a live binding of
// this context's device. The DMA private data records the context only.
//
NTSTATUS
APIENTRY
SmpDdiRender(
    IN_CONST_HANDLE hContext,
    INOUT_PDXGKARG_RENDER pRender
    )
{
    PSMP_CONTEXT pContext = (PSMP_CONTEXT)hContext;
    PSMP_ADAPTER pAdapter;
    SMP_DMA_PRIVATE *pPrivate;
    NTSTATUS Status = STATUS_SUCCESS;
    KIRQL OldIrql;

    PAGED_CODE();

    if (pContext == NULL || pRender == NULL ||
        (pRender->AllocationListSize != 0 && pRender->pAllocationList == NULL)) {
        return STATUS_INVALID_PARAMETER;
    }
    NT_ASSERT(pContext->Signature == SMP_SIG_CONTEXT);
    pAdapter = pContext->pDevice->pAdapter;

    OldIrql = SmpAcquireAdapterLock(pAdapter);
    for (UINT i = 0; i < pRender->AllocationListSize; i++) {
        const SMP_BINDING *pBinding = pRender->pAllocationList[i].hDeviceSpecificAllocation;

        if (pBinding == NULL || pBinding->Signature != SMP_SIG_BINDING ||
            pBinding->pDevice != pContext->pDevice || pBinding->pAllocation == NULL) {
            Status = STATUS_INVALID_HANDLE;
            break;
        }
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }

    if (pRender->pDmaBufferPrivateData != NULL &&
        pRender->DmaBufferPrivateDataSize >= sizeof(SMP_DMA_PRIVATE)) {
        pPrivate = pRender->pDmaBufferPrivateData;
        pPrivate->Signature = SMP_SIG_DMA;
        pPrivate->pContext = pContext;
        pPrivate->NumAllocations = pRender->AllocationListSize;
    }
    return STATUS_SUCCESS;
}

//
// DxgkDdiSubmitCommand (DISPATCH_LEVEL): records the submission fence.
//
NTSTATUS
APIENTRY
SmpDdiSubmitCommand(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_SUBMITCOMMAND pSubmitCommand
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    const SMP_DMA_PRIVATE *pPrivate;

    if (pAdapter == NULL || pSubmitCommand == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    pPrivate = pSubmitCommand->pDmaBufferPrivateData;
    if (pPrivate == NULL || pSubmitCommand->DmaBufferPrivateDataSize < sizeof(*pPrivate) ||
        pPrivate->Signature != SMP_SIG_DMA) {
        return STATUS_SUCCESS;      // not a buffer this driver built: nothing to track
    }
    KeAcquireSpinLockAtDpcLevel(&pAdapter->Lock);
    pPrivate->pContext->LastSubmittedFence = pSubmitCommand->SubmissionFenceId;
    KeReleaseSpinLockFromDpcLevel(&pAdapter->Lock);
    return STATUS_SUCCESS;
}

//
// The ISR: fences completed on a node; the DPC does the work.
//
BOOLEAN
SmpDdiInterruptRoutine(
    IN_CONST_PVOID MiniportDeviceContext,
    IN_ULONG MessageNumber
    )
{
    UNREFERENCED_PARAMETER(MessageNumber);
    return MiniportDeviceContext != NULL;
}

//
// Every context reads its node's completed fence (a register read).
//
VOID
SmpReadCompletedFencesLocked(
    _In_ PSMP_ADAPTER pAdapter
    )
{
    if (pAdapter->DxgkInterface.LtCbQueryCompletedFence == NULL) {
        return;
    }
    for (PLIST_ENTRY Entry = pAdapter->ContextListHead.Flink; Entry != &pAdapter->ContextListHead;
         Entry = Entry->Flink) {
        PSMP_CONTEXT pContext = CONTAINING_RECORD(Entry, SMP_CONTEXT, AdapterEntry);

        pContext->LastCompletedFence = pAdapter->DxgkInterface.LtCbQueryCompletedFence(
            pAdapter->DxgkInterface.DeviceHandle, pContext->NodeOrdinal);
    }
}

//
// The DPC.
//
VOID
SmpDdiDpcRoutine(
    IN_CONST_PVOID MiniportDeviceContext
    )
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)MiniportDeviceContext;

    if (pAdapter == NULL) {
        return;
    }
    KeAcquireSpinLockAtDpcLevel(&pAdapter->Lock);
    SmpReadCompletedFencesLocked(pAdapter);
    KeReleaseSpinLockFromDpcLevel(&pAdapter->Lock);
}
