/* lifetrace — reference miniport: device bindings (DxgkDdiOpenAllocation /
 * DxgkDdiCloseAllocation).
 *
 * A binding is the per-(device, allocation) record returned as
 * hDeviceSpecificAllocation. One binding per successful open (M6); a shared
 * allocation has one on every device that opened it. A failing open rolls
 * back the bindings it made for earlier elements: dxgkrnl only closes
 * successful opens.
 */
#include "refdrv_internal.h"

/* Resolves one kernel handle and builds its binding (not yet linked). */
static NTSTATUS binding_create(RD_ADAPTER *pAdapter, RD_DEVICE *pDevice,
                               DXGK_OPENALLOCATIONINFO *pInfo, BOOLEAN ReadOnly) {
  DXGKARGCB_GETHANDLEDATA Args = {0};
  RD_ALLOCATION *pAllocation;
  RD_BINDING *pBinding;

  pInfo->hDeviceSpecificAllocation = NULL;
  Args.hObject = pInfo->hAllocation;
  Args.Type = DXGK_HANDLE_ALLOCATION;
  pAllocation = pAdapter->Dxgk.DxgkCbGetHandleData(&Args);
  if (pAllocation == NULL)
    return STATUS_INVALID_HANDLE;
  pBinding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pBinding, RD_TAG_BINDING);
  if (pBinding == NULL)
    return STATUS_NO_MEMORY;
  pBinding->pDevice = pDevice;
  pBinding->pAllocation = pAllocation;
  pBinding->hKernel = pInfo->hAllocation;
  pBinding->ReadOnly = ReadOnly;
  pInfo->hDeviceSpecificAllocation = pBinding;
  return STATUS_SUCCESS;
}

/* DxgkDdiOpenAllocation: binds NumAllocations allocations (named by kernel
 * handles) to a device. All or nothing: the bindings are linked only when
 * every element succeeded. */
NTSTATUS lt__rd_open_allocation(HANDLE hDevice, const DXGKARG_OPENALLOCATION *pOpen) {
  RD_DEVICE *pDevice = hDevice;
  RD_ADAPTER *pAdapter;
  NTSTATUS Status = STATUS_SUCCESS;
  KIRQL OldIrql;
  UINT i;

  RD_PAGED_CODE();
  if (pDevice == NULL || pOpen == NULL || (pOpen->NumAllocations != 0 && pOpen->pOpenAllocation == NULL))
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pDevice->Signature == RD_SIG_DEVICE);
  pAdapter = pDevice->pAdapter;

  for (i = 0; i < pOpen->NumAllocations; i++) {
    Status = binding_create(pAdapter, pDevice, &pOpen->pOpenAllocation[i], pOpen->Flags.ReadOnly);
    if (!NT_SUCCESS(Status))
      break;
  }
  if (!NT_SUCCESS(Status)) {
    /* Seeded bug 7 (P9): returns the error without freeing the bindings
     * made for elements 0..i-1; nothing references them any more. */
    if (!lt__rd_bug(RD_BUG_P9_OPEN_NO_ROLLBACK)) {
      for (UINT j = 0; j < i; j++) {
        ExFreePoolWithTag(pOpen->pOpenAllocation[j].hDeviceSpecificAllocation, RD_TAG_BINDING);
        pOpen->pOpenAllocation[j].hDeviceSpecificAllocation = NULL;
      }
    }
    return Status;
  }

  OldIrql = RdLockAdapter(pAdapter);
  for (i = 0; i < pOpen->NumAllocations; i++) {
    RD_BINDING *pBinding = pOpen->pOpenAllocation[i].hDeviceSpecificAllocation;
    RdInsertTailList(&pDevice->BindingList, &pBinding->DeviceLink);
    pBinding->pAllocation->cOpens++;
  }
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}

/* DxgkDdiCloseAllocation: frees the listed bindings of this device (all
 * allocations of a resource come in one call). */
NTSTATUS lt__rd_close_allocation(HANDLE hDevice, const DXGKARG_CLOSEALLOCATION *pClose) {
  RD_DEVICE *pDevice = hDevice;
  RD_ADAPTER *pAdapter;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pDevice == NULL || pClose == NULL || (pClose->NumAllocations != 0 && pClose->pOpenHandleList == NULL))
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pDevice->Signature == RD_SIG_DEVICE);
  pAdapter = pDevice->pAdapter;

  for (UINT i = 0; i < pClose->NumAllocations; i++) {
    RD_BINDING *pBinding = pClose->pOpenHandleList[i];
    if (pBinding == NULL)
      continue;
    RD_ASSERT(pBinding->pDevice == pDevice);
    OldIrql = RdLockAdapter(pAdapter);
    RdRemoveEntryList(&pBinding->DeviceLink);
    if (pBinding->pAllocation != NULL)
      pBinding->pAllocation->cOpens--;
    RdUnlockAdapter(pAdapter, OldIrql);
    ExFreePoolWithTag(pBinding, RD_TAG_BINDING);
  }
  return STATUS_SUCCESS;
}

/* Detaches every device binding still naming an allocation being destroyed,
 * so a later CloseAllocation or device teardown does not follow a freed
 * pointer. Caller holds the adapter lock. */
void lt__rd_detach_bindings_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation) {
  for (RD_LIST_ENTRY *d = pAdapter->DeviceList.Flink; d != &pAdapter->DeviceList; d = d->Flink) {
    RD_DEVICE *pDevice = RD_CONTAINING_RECORD(d, RD_DEVICE, AdapterLink);
    for (RD_LIST_ENTRY *b = pDevice->BindingList.Flink; b != &pDevice->BindingList; b = b->Flink) {
      RD_BINDING *pBinding = RD_CONTAINING_RECORD(b, RD_BINDING, DeviceLink);
      if (pBinding->pAllocation == pAllocation) {
        pBinding->pAllocation = NULL;
        pAllocation->cOpens--;
      }
    }
  }
}
