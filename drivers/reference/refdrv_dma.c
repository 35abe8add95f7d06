/* lifetrace — reference miniport: DMA packets from Render to completion,
 * the ISR and DPC, and TDR.
 *
 * Render (PASSIVE) builds a packet that holds pointers to the allocation
 * objects its allocation list names (as viogpu3d keeps per-command
 * allocation pointers) and leaves the packet in the DMA buffer private data;
 * SubmitCommand (DISPATCH, no allocation list) queues it on its context with
 * the submission fence; the DPC completes packets up to the fence the GPU
 * reports (LtCbQueryCompletedFence) and touches their allocations.
 */
#include <stddef.h>

#include "refdrv_internal.h"

#define RD_MAX_PACKET_REFS (1u << 20)
_Static_assert(RD_MAX_NODES <= 64, "RD_ADAPTER.NodesInUse has one bit per node");

/* DxgkDdiRender: builds the driver's packet for one DMA buffer. */
NTSTATUS lt__rd_render(HANDLE hContext, DXGKARG_RENDER *pRender) {
  RD_CONTEXT *pContext = hContext;
  RD_ADAPTER *pAdapter;
  RD_DMA_PRIVATE *pPrivate;
  RD_PACKET *pPacket;
  UINT Count;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pContext == NULL || pRender == NULL || pRender->pDmaBufferPrivateData == NULL ||
      pRender->DmaBufferPrivateDataSize < sizeof(RD_DMA_PRIVATE))
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pContext->Signature == RD_SIG_CONTEXT);
  Count = pRender->AllocationListSize;
  if (Count > RD_MAX_PACKET_REFS || (Count != 0 && pRender->pAllocationList == NULL))
    return STATUS_INVALID_PARAMETER;
  pAdapter = pContext->pDevice->pAdapter;
  pPacket = ExAllocatePool2(POOL_FLAG_NON_PAGED,
                            offsetof(RD_PACKET, aRefs) + (SIZE_T)Count * sizeof(RD_PACKET_REF),
                            RD_TAG_PACKET);
  if (pPacket == NULL)
    return STATUS_NO_MEMORY;
  pPacket->pContext = pContext;
  pPacket->NumRefs = Count;

  OldIrql = RdLockAdapter(pAdapter);
  for (UINT i = 0; i < Count; i++) {
    const RD_BINDING *pBinding = pRender->pAllocationList[i].hDeviceSpecificAllocation;
    RD_ALLOCATION *pAllocation = pBinding ? pBinding->pAllocation : NULL;
    pPacket->aRefs[i].pAllocation = pAllocation;
    pPacket->aRefs[i].Write = pRender->pAllocationList[i].WriteOperation;
    if (pAllocation != NULL)
      pAllocation->cDmaRefs++;
  }
  RdInsertTailList(&pContext->BuiltList, &pPacket->Link);
  RdUnlockAdapter(pAdapter, OldIrql);

  pPrivate = pRender->pDmaBufferPrivateData;
  pPrivate->Signature = RD_SIG_DMA;
  pPrivate->NumAllocations = Count;
  pPrivate->pPacket = pPacket;
  return STATUS_SUCCESS;
}

/* Puts a context with submitted packets on its node's busy list, so the DPC
 * visits only contexts that have work instead of every context (a trace
 * with many idle contexts made each DPC walk all of them). */
static void context_mark_busy_locked(RD_ADAPTER *pAdapter, RD_CONTEXT *pContext) {
  if (pContext->Busy)
    return;
  pContext->Busy = TRUE;
  RdInsertTailList(&pAdapter->Nodes[pContext->NodeOrdinal].BusyList, &pContext->BusyLink);
}

/* Takes a context whose PendingList emptied off its node's busy list. */
static void context_mark_idle_locked(RD_CONTEXT *pContext) {
  if (!pContext->Busy || !RdIsListEmpty(&pContext->PendingList))
    return;
  pContext->Busy = FALSE;
  RdRemoveEntryList(&pContext->BusyLink);
}

/* DxgkDdiSubmitCommand: queues the packet Render built with its fence. A
 * DMA buffer this driver did not build carries nothing to track. */
NTSTATUS lt__rd_submit_command(HANDLE hAdapter, const DXGKARG_SUBMITCOMMAND *pSubmit) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_DMA_PRIVATE *pPrivate;
  RD_PACKET *pPacket;
  KIRQL OldIrql;

  if (pAdapter == NULL || pSubmit == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
  pPrivate = pSubmit->pDmaBufferPrivateData;
  if (pPrivate == NULL || pSubmit->DmaBufferPrivateDataSize < sizeof(RD_DMA_PRIVATE) ||
      pPrivate->Signature != RD_SIG_DMA || pPrivate->pPacket == NULL)
    return STATUS_SUCCESS;
  pPacket = pPrivate->pPacket;
  pPrivate->pPacket = NULL;

  OldIrql = RdLockAdapter(pAdapter);
  RdRemoveEntryList(&pPacket->Link);
  pPacket->FenceId = pSubmit->SubmissionFenceId;
  pPacket->Submitted = TRUE;
  RdInsertTailList(&pPacket->pContext->PendingList, &pPacket->Link);
  pPacket->pContext->LastSubmittedFence = pSubmit->SubmissionFenceId;
  context_mark_busy_locked(pAdapter, pPacket->pContext);
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}

static UINT query_fence(RD_ADAPTER *pAdapter, UINT Node) {
  if (pAdapter->Dxgk.LtCbQueryCompletedFence == NULL)
    return pAdapter->Nodes[Node].CompletedFence;
  return pAdapter->Dxgk.LtCbQueryCompletedFence(pAdapter->Dxgk.DeviceHandle, Node);
}

/* DxgkDdiInterruptRoutine: node MessageNumber signalled completion; read its
 * fence for the DPC. */
BOOLEAN lt__rd_interrupt_routine(HANDLE hAdapter, ULONG MessageNumber) {
  RD_ADAPTER *pAdapter = hAdapter;

  if (pAdapter == NULL || MessageNumber >= RD_MAX_NODES)
    return FALSE;
  pAdapter->Nodes[MessageNumber].CompletedFence = query_fence(pAdapter, MessageNumber);
  return TRUE;
}

/* Frees a packet, touching its allocations: on completion (Completed) the
 * allocation records the fence; in every case it loses one DMA reference. */
static void packet_retire_locked(RD_PACKET *pPacket, BOOLEAN Completed) {
  RdRemoveEntryList(&pPacket->Link);
  for (UINT i = 0; i < pPacket->NumRefs; i++) {
    RD_ALLOCATION *pAllocation = pPacket->aRefs[i].pAllocation;
    if (pAllocation == NULL)
      continue;
    if (Completed)
      pAllocation->LastCompletedFence = pPacket->FenceId;
    pAllocation->cDmaRefs--;
  }
  ExFreePoolWithTag(pPacket, RD_TAG_PACKET);
}

/* Completes the packets of one busy context up to Fence; the context leaves
 * the busy list when none is left. */
static void context_complete_locked(RD_CONTEXT *pContext, UINT Fence) {
  while (!RdIsListEmpty(&pContext->PendingList)) {
    RD_PACKET *pPacket = RD_CONTAINING_RECORD(pContext->PendingList.Flink, RD_PACKET, Link);
    if (!RdFenceReached(pPacket->FenceId, Fence))
      break;
    packet_retire_locked(pPacket, TRUE);
  }
  context_mark_idle_locked(pContext);
}

/* DxgkDdiDpcRoutine: completes, on every context with submitted packets
 * (its node's busy list), the packets whose fence the GPU has reached. */
void lt__rd_dpc_routine(HANDLE hAdapter) {
  RD_ADAPTER *pAdapter = hAdapter;
  KIRQL OldIrql;

  if (pAdapter == NULL)
    return;
  OldIrql = RdLockAdapter(pAdapter);
  for (ULONG64 m = pAdapter->NodesInUse; m != 0; m &= m - 1) {
    UINT n = (UINT)__builtin_ctzll(m);
    RD_LIST_ENTRY *Busy = &pAdapter->Nodes[n].BusyList;
    pAdapter->Nodes[n].CompletedFence = query_fence(pAdapter, n);
    for (RD_LIST_ENTRY *e = Busy->Flink, *next; e != Busy; e = next) {
      next = e->Flink; /* the context may leave the list */
      context_complete_locked(RD_CONTAINING_RECORD(e, RD_CONTEXT, BusyLink),
                              pAdapter->Nodes[n].CompletedFence);
    }
  }
  RdUnlockAdapter(pAdapter, OldIrql);
}

/* Drops every built or queued packet of a context without completing it
 * (destroy context, reset from timeout), releasing the allocation references
 * they held. Caller holds the adapter lock. */
void lt__rd_context_drop_packets_locked(RD_CONTEXT *pContext) {
  while (!RdIsListEmpty(&pContext->BuiltList))
    packet_retire_locked(RD_CONTAINING_RECORD(pContext->BuiltList.Flink, RD_PACKET, Link), FALSE);
  while (!RdIsListEmpty(&pContext->PendingList))
    packet_retire_locked(RD_CONTAINING_RECORD(pContext->PendingList.Flink, RD_PACKET, Link), FALSE);
  context_mark_idle_locked(pContext);
}

static void unreference_list(RD_LIST_ENTRY *Head, RD_ALLOCATION *pAllocation) {
  for (RD_LIST_ENTRY *e = Head->Flink; e != Head && pAllocation->cDmaRefs != 0; e = e->Flink) {
    RD_PACKET *pPacket = RD_CONTAINING_RECORD(e, RD_PACKET, Link);
    for (UINT i = 0; i < pPacket->NumRefs; i++) {
      if (pPacket->aRefs[i].pAllocation == pAllocation) {
        pPacket->aRefs[i].pAllocation = NULL;
        pAllocation->cDmaRefs--;
      }
    }
  }
}

/* Clears an allocation from every packet that still names it, on every
 * context, so a DPC after the destroy does not touch freed memory (M4,
 * pattern P11). Caller holds the adapter lock. */
void lt__rd_unreference_dma_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation) {
  for (RD_LIST_ENTRY *e = pAdapter->ContextList.Flink;
       e != &pAdapter->ContextList && pAllocation->cDmaRefs != 0; e = e->Flink) {
    RD_CONTEXT *pContext = RD_CONTAINING_RECORD(e, RD_CONTEXT, AdapterLink);
    unreference_list(&pContext->BuiltList, pAllocation);
    unreference_list(&pContext->PendingList, pAllocation);
  }
}

/* DxgkDdiResetFromTimeout: level 3, the GPU is reset: every built or queued
 * packet is dropped without completing. Eviction notices follow. */
NTSTATUS lt__rd_reset_from_timeout(HANDLE hAdapter) {
  RD_ADAPTER *pAdapter = hAdapter;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  OldIrql = RdLockAdapter(pAdapter);
  pAdapter->InReset = TRUE;
  pAdapter->ResetCount++;
  for (RD_LIST_ENTRY *e = pAdapter->ContextList.Flink; e != &pAdapter->ContextList; e = e->Flink)
    lt__rd_context_drop_packets_locked(RD_CONTAINING_RECORD(e, RD_CONTEXT, AdapterLink));
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}

/* DxgkDdiRestartFromTimeout: the adapter runs again; fences are re-read. */
NTSTATUS lt__rd_restart_from_timeout(HANDLE hAdapter) {
  RD_ADAPTER *pAdapter = hAdapter;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  OldIrql = RdLockAdapter(pAdapter);
  pAdapter->InReset = FALSE;
  for (UINT n = 0; n < RD_MAX_NODES; n++)
    if (pAdapter->Nodes[n].ContextCount != 0)
      pAdapter->Nodes[n].CompletedFence = query_fence(pAdapter, n);
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}
