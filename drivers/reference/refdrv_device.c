/* lifetrace — reference miniport: devices and contexts.
 *
 * A device owns its contexts and its bindings; destroying it frees both
 * (dxgkrnl destroys contexts and closes bindings first, but the driver does
 * not rely on it). Allocations never point back at a device (M5), so shared
 * allocations outlive their creator.
 */
#include "refdrv_internal.h"

/* DxgkDdiCreateDevice: a device object for one process's D3D device. */
NTSTATUS lt__rd_create_device(HANDLE hAdapter, DXGKARG_CREATEDEVICE *pCreateDevice) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_DEVICE *pDevice;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pCreateDevice == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  pDevice = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pDevice, RD_TAG_DEVICE);
  if (pDevice == NULL)
    return STATUS_NO_MEMORY;
  pDevice->Signature = RD_SIG_DEVICE;
  pDevice->pAdapter = pAdapter;
  pDevice->hDxgkDevice = pCreateDevice->hDevice;
  pDevice->Flags = pCreateDevice->Flags;
  RdInitializeListHead(&pDevice->ContextList);
  RdInitializeListHead(&pDevice->BindingList);

  OldIrql = RdLockAdapter(pAdapter);
  RdInsertTailList(&pAdapter->DeviceList, &pDevice->AdapterLink);
  RdUnlockAdapter(pAdapter, OldIrql);
  pCreateDevice->hDevice = pDevice;
  return STATUS_SUCCESS;
}

/* Unlinks a context from its device, the adapter and its node, and drops
 * its packets (lock held). The caller frees it. */
static void context_unlink_locked(RD_ADAPTER *pAdapter, RD_CONTEXT *pContext) {
  RdRemoveEntryList(&pContext->DeviceLink);
  RdRemoveEntryList(&pContext->AdapterLink);
  if (--pAdapter->Nodes[pContext->NodeOrdinal].ContextCount == 0)
    pAdapter->NodesInUse &= ~(1ull << pContext->NodeOrdinal);
  lt__rd_context_drop_packets_locked(pContext);
}

static void context_free(RD_CONTEXT *pContext) {
  pContext->Signature = 0;
  ExFreePoolWithTag(pContext, RD_TAG_CONTEXT);
}

/* Unlinks a device's contexts (dropping their packets) and bindings from the
 * adapter under the adapter lock, then frees them and the device outside it.
 * Each binding's allocation loses one open, so a later DestroyAllocation
 * sees the right count (M6). Used by DxgkDdiDestroyDevice and by adapter
 * stop. */
void lt__rd_device_teardown(RD_ADAPTER *pAdapter, RD_DEVICE *pDevice) {
  RD_LIST_ENTRY Contexts, Bindings;
  KIRQL OldIrql;

  RdInitializeListHead(&Contexts);
  RdInitializeListHead(&Bindings);
  OldIrql = RdLockAdapter(pAdapter);
  RdRemoveEntryList(&pDevice->AdapterLink);
  while (!RdIsListEmpty(&pDevice->ContextList)) {
    RD_CONTEXT *pContext = RD_CONTAINING_RECORD(pDevice->ContextList.Flink, RD_CONTEXT, DeviceLink);
    context_unlink_locked(pAdapter, pContext);
    RdInsertTailList(&Contexts, &pContext->DeviceLink);
  }
  while (!RdIsListEmpty(&pDevice->BindingList)) {
    RD_BINDING *pBinding =
        RD_CONTAINING_RECORD(RdRemoveHeadList(&pDevice->BindingList), RD_BINDING, DeviceLink);
    if (pBinding->pAllocation != NULL)
      pBinding->pAllocation->cOpens--;
    RdInsertTailList(&Bindings, &pBinding->DeviceLink);
  }
  RdUnlockAdapter(pAdapter, OldIrql);

  while (!RdIsListEmpty(&Contexts))
    context_free(RD_CONTAINING_RECORD(RdRemoveHeadList(&Contexts), RD_CONTEXT, DeviceLink));
  while (!RdIsListEmpty(&Bindings))
    ExFreePoolWithTag(RD_CONTAINING_RECORD(RdRemoveHeadList(&Bindings), RD_BINDING, DeviceLink),
                      RD_TAG_BINDING);
  pDevice->Signature = 0;
  ExFreePoolWithTag(pDevice, RD_TAG_DEVICE);
}

/* DxgkDdiDestroyDevice: frees the device with its contexts and bindings. */
NTSTATUS lt__rd_destroy_device(HANDLE hDevice) {
  RD_DEVICE *pDevice = hDevice;

  RD_PAGED_CODE();
  if (pDevice == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pDevice->Signature == RD_SIG_DEVICE);
  lt__rd_device_teardown(pDevice->pAdapter, pDevice);
  return STATUS_SUCCESS;
}

/* DxgkDdiCreateContext: a context on one GPU node; the DPC finds it through
 * the adapter's context list. */
NTSTATUS lt__rd_create_context(HANDLE hDevice, DXGKARG_CREATECONTEXT *pCreateContext) {
  RD_DEVICE *pDevice = hDevice;
  RD_ADAPTER *pAdapter;
  RD_CONTEXT *pContext;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pDevice == NULL || pCreateContext == NULL || pCreateContext->NodeOrdinal >= RD_MAX_NODES)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pDevice->Signature == RD_SIG_DEVICE);
  pAdapter = pDevice->pAdapter;
  pContext = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pContext, RD_TAG_CONTEXT);
  if (pContext == NULL)
    return STATUS_NO_MEMORY;
  pContext->Signature = RD_SIG_CONTEXT;
  pContext->pDevice = pDevice;
  pContext->hDxgkContext = pCreateContext->hContext;
  pContext->NodeOrdinal = pCreateContext->NodeOrdinal;
  RdInitializeListHead(&pContext->BuiltList);
  RdInitializeListHead(&pContext->PendingList);
  pContext->Busy = FALSE;

  OldIrql = RdLockAdapter(pAdapter);
  RdInsertTailList(&pDevice->ContextList, &pContext->DeviceLink);
  RdInsertTailList(&pAdapter->ContextList, &pContext->AdapterLink);
  pAdapter->Nodes[pContext->NodeOrdinal].ContextCount++;
  pAdapter->NodesInUse |= 1ull << pContext->NodeOrdinal;
  RdUnlockAdapter(pAdapter, OldIrql);
  pCreateContext->hContext = pContext;
  return STATUS_SUCCESS;
}

/* DxgkDdiDestroyContext: dxgkrnl has idled the context; anything still
 * queued is dropped without completing. */
NTSTATUS lt__rd_destroy_context(HANDLE hContext) {
  RD_CONTEXT *pContext = hContext;
  RD_ADAPTER *pAdapter;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pContext == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pContext->Signature == RD_SIG_CONTEXT);
  pAdapter = pContext->pDevice->pAdapter;
  OldIrql = RdLockAdapter(pAdapter);
  context_unlink_locked(pAdapter, pContext);
  RdUnlockAdapter(pAdapter, OldIrql);
  context_free(pContext);
  return STATUS_SUCCESS;
}
