/* lifetrace — the reference miniport: a clean WDDM KMD allocation module
 * written against the lifetrace ABI (miniport.h), with switchable seeded
 * bugs. This file holds the entry table, adapter start/stop, the
 * introspection hook and the options; the DDIs live in refdrv_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/driver.h"
#include "refdrv_internal.h"

#ifdef LT_DEBUG
/* RD_ASSERT's failure path in debug builds: prints the expression and where,
 * then aborts inside the DDI, which the harness records as a miniport crash
 * (as NT_ASSERT would break into the debugger). */
void lt__rd_assert_failed(const char *expr, const char *file, int line) {
  fprintf(stderr, "refdrv: assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}
#endif

/* Walks from both ends at once, so that the oldest and the newest entries,
 * the usual ones to go, are found at once. */
BOOLEAN lt__rd_remove_if_listed(RD_LIST_ENTRY *Head, RD_LIST_ENTRY *Entry) {
  RD_LIST_ENTRY *Front = Head->Flink, *Back = Head->Blink;

  while (Front != Head) {
    if (Front == Entry || Back == Entry) {
      RdRemoveEntryList(Entry);
      return TRUE;
    }
    if (Front == Back || Front->Flink == Back)
      break;
    Front = Front->Flink;
    Back = Back->Blink;
  }
  return FALSE;
}

/* Unlinks Entry from the list at Head if it is on it, and clears its listed
 * flag; returns whether it was. See refdrv_internal.h for why the flag is
 * trusted only with its neighbours' links. */
BOOLEAN lt__rd_unlink_flagged(RD_LIST_ENTRY *Head, RD_LIST_ENTRY *Entry, ULONG *Listed) {
  BOOLEAN Found;

  if (*Listed == RD_SIG_LISTED && Entry->Flink->Blink == Entry && Entry->Blink->Flink == Entry) {
    RdRemoveEntryList(Entry);
    *Listed = 0;
    return TRUE;
  }
  /* The flag is not trusted alone (the block may be stale or scribbled):
   * the address walk decides, as it did before the flag existed. */
  Found = lt__rd_remove_if_listed(Head, Entry);
  if (Found)
    *Listed = 0;
  return Found;
}

/* DxgkDdiStartDevice: creates the adapter object and keeps a copy of the
 * dxgkrnl interface. */
static NTSTATUS rd_start_device(const DXGKRNL_INTERFACE *pDxgkInterface, HANDLE *phAdapter) {
  RD_ADAPTER *pAdapter;

  RD_PAGED_CODE();
  if (pDxgkInterface == NULL || phAdapter == NULL || pDxgkInterface->DxgkCbGetHandleData == NULL)
    return STATUS_INVALID_PARAMETER;
  pAdapter = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pAdapter, RD_TAG_ADAPTER);
  if (pAdapter == NULL)
    return STATUS_NO_MEMORY;
  pAdapter->Signature = RD_SIG_ADAPTER;
  pAdapter->Dxgk = *pDxgkInterface;
  KeInitializeSpinLock(&pAdapter->Lock);
  RdInitializeListHead(&pAdapter->DeviceList);
  RdInitializeListHead(&pAdapter->ContextList);
  RdInitializeListHead(&pAdapter->AllocationList);
  RdInitializeListHead(&pAdapter->ResourceList);
  for (UINT n = 0; n < RD_MAX_NODES; n++)
    RdInitializeListHead(&pAdapter->Nodes[n].BusyList);
  *phAdapter = pAdapter;
  return STATUS_SUCCESS;
}

/* DxgkDdiStopDevice (with RemoveDevice): level 3, nothing else runs. Frees
 * every object still alive: devices (with their contexts, packets and
 * bindings) first, then allocations and resources, then the adapter. */
static NTSTATUS rd_stop_device(HANDLE hAdapter) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_LIST_ENTRY Allocations, Resources;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  while (!RdIsListEmpty(&pAdapter->DeviceList))
    lt__rd_device_teardown(pAdapter,
                           RD_CONTAINING_RECORD(pAdapter->DeviceList.Flink, RD_DEVICE, AdapterLink));

  RdInitializeListHead(&Allocations);
  RdInitializeListHead(&Resources);
  OldIrql = RdLockAdapter(pAdapter);
  memset(pAdapter->Sources, 0, sizeof pAdapter->Sources);
  while (!RdIsListEmpty(&pAdapter->AllocationList))
    RdInsertTailList(&Allocations, RdRemoveHeadList(&pAdapter->AllocationList));
  while (!RdIsListEmpty(&pAdapter->ResourceList))
    RdInsertTailList(&Resources, RdRemoveHeadList(&pAdapter->ResourceList));
  RdUnlockAdapter(pAdapter, OldIrql);

  while (!RdIsListEmpty(&Allocations))
    lt__rd_allocation_free(
        RD_CONTAINING_RECORD(RdRemoveHeadList(&Allocations), RD_ALLOCATION, AdapterLink));
  while (!RdIsListEmpty(&Resources))
    lt__rd_resource_free(
        RD_CONTAINING_RECORD(RdRemoveHeadList(&Resources), RD_RESOURCE, AdapterLink));
  pAdapter->Signature = 0;
  ExFreePoolWithTag(pAdapter, RD_TAG_ADAPTER);
  return STATUS_SUCCESS;
}

static const char *const scanout_names[RD_MAX_SOURCES] = {
    "scanout[0]",  "scanout[1]",  "scanout[2]",  "scanout[3]",  "scanout[4]",  "scanout[5]",
    "scanout[6]",  "scanout[7]",  "scanout[8]",  "scanout[9]",  "scanout[10]", "scanout[11]",
    "scanout[12]", "scanout[13]", "scanout[14]", "scanout[15]",
};

static void report_packets(RD_LIST_ENTRY *Head, const char *Where, LT_REFERENCE_CALLBACK Report,
                           void *Context) {
  for (RD_LIST_ENTRY *e = Head->Flink; e != Head; e = e->Flink) {
    RD_PACKET *pPacket = RD_CONTAINING_RECORD(e, RD_PACKET, Link);
    for (UINT i = 0; i < pPacket->NumRefs; i++)
      if (pPacket->aRefs[i].pAllocation != NULL)
        Report(Context, pPacket->aRefs[i].pAllocation, Where);
  }
}

/* LtEnumReferencedAllocations: every allocation pointer the driver's state
 * holds outside the allocation registry itself that can outlive a destroy:
 * current scanout per source, built and submitted DMA packets. Bindings are
 * left out: they reach an allocation only through dxgkrnl's own open/close
 * bookkeeping, DestroyAllocation detaches any that remain, and listing them
 * would make every check cost one report per open binding. Called with the
 * adapter lock held, so Report must not call back into the driver. */
static void rd_enum_referenced(HANDLE hAdapter, LT_REFERENCE_CALLBACK Report, void *Context) {
  RD_ADAPTER *pAdapter = hAdapter;
  KIRQL OldIrql;

  if (pAdapter == NULL || Report == NULL)
    return;
  OldIrql = RdLockAdapter(pAdapter);
  for (UINT s = 0; s < RD_MAX_SOURCES; s++)
    if (pAdapter->Sources[s].pPrimary != NULL)
      Report(Context, pAdapter->Sources[s].pPrimary, scanout_names[s]);
  for (RD_LIST_ENTRY *e = pAdapter->ContextList.Flink; e != &pAdapter->ContextList; e = e->Flink) {
    RD_CONTEXT *pContext = RD_CONTAINING_RECORD(e, RD_CONTEXT, AdapterLink);
    report_packets(&pContext->BuiltList, "dma-buffer", Report, Context);
    report_packets(&pContext->PendingList, "dma-queue", Report, Context);
  }
  RdUnlockAdapter(pAdapter, OldIrql);
}

/* LtSetOption: "bugs" = list of seeded bugs (see refdrv_bugs.c). */
static NTSTATUS rd_set_option(const char *Name, const char *Value) {
  if (Name == NULL)
    return STATUS_INVALID_PARAMETER;
  if (strcmp(Name, "bugs") == 0)
    return lt__rd_set_bugs(Value);
  return STATUS_INVALID_PARAMETER;
}

static const LT_MINIPORT reference_miniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "lifetrace-reference",
    .Version = "1.0",
    .DxgkDdiStartDevice = rd_start_device,
    .DxgkDdiStopDevice = rd_stop_device,
    .DxgkDdiCreateDevice = lt__rd_create_device,
    .DxgkDdiDestroyDevice = lt__rd_destroy_device,
    .DxgkDdiCreateContext = lt__rd_create_context,
    .DxgkDdiDestroyContext = lt__rd_destroy_context,
    .DxgkDdiCreateAllocation = lt__rd_create_allocation,
    .DxgkDdiDestroyAllocation = lt__rd_destroy_allocation,
    .DxgkDdiOpenAllocation = lt__rd_open_allocation,
    .DxgkDdiCloseAllocation = lt__rd_close_allocation,
    .DxgkDdiRender = lt__rd_render,
    .DxgkDdiSubmitCommand = lt__rd_submit_command,
    .DxgkDdiInterruptRoutine = lt__rd_interrupt_routine,
    .DxgkDdiDpcRoutine = lt__rd_dpc_routine,
    .DxgkDdiBuildPagingBuffer = lt__rd_build_paging_buffer,
    .DxgkDdiSetVidPnSourceAddress = lt__rd_set_vidpn_source_address,
    .DxgkDdiLock = lt__rd_lock,
    .DxgkDdiUnlock = lt__rd_unlock,
    .DxgkDdiResetFromTimeout = lt__rd_reset_from_timeout,
    .DxgkDdiRestartFromTimeout = lt__rd_restart_from_timeout,
    .LtEnumReferencedAllocations = rd_enum_referenced,
    .LtSetOption = rd_set_option,
    .DmaBufferPrivateDataSize = sizeof(RD_DMA_PRIVATE),
};

/* The bundled reference miniport's entry table (static, never freed), for
 * tests that drive it directly. */
const LT_MINIPORT *lt_reference_miniport(void) { return &reference_miniport; }

/* The driver's entry, as any driver's adapter file has it: what --driver finds
 * in libreference.so and what the binaries it is linked into run. */
LT_DEFINE_MINIPORT_ENTRY(reference_miniport)
