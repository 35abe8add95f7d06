/* lifetrace — reference miniport: DxgkDdiCreateAllocation and
 * DxgkDdiDestroyAllocation, allocation and resource objects.
 *
 * Contract followed (wddm-contract.md §2.5): every listed allocation is freed
 * whatever NumAllocations is (M1); the resource is released iff
 * Flags.DestroyResource, tolerating hResource == NULL and NumAllocations == 0
 * (M2); a create that fails rolls back what this call made and never frees a
 * resource it did not create (M3); before an allocation is freed it is
 * removed from every scanout pointer, DMA packet and binding (M4).
 *
 * The seeded bugs of this file are marked "Seeded bug" where they branch off.
 */
#include <stdint.h>
#include <string.h>

#include "refdrv_internal.h"

/* Copies a UMD private-data blob into nonpaged pool ('LtPd'). */
static NTSTATUS copy_private(const void *pData, UINT Size, PVOID *ppCopy) {
  PVOID pCopy;

  *ppCopy = NULL;
  if (Size == 0)
    return STATUS_SUCCESS;
  if (pData == NULL || Size > RD_MAX_PRIVATE_DATA)
    return STATUS_INVALID_PARAMETER;
  pCopy = ExAllocatePool2(POOL_FLAG_NON_PAGED, Size, RD_TAG_PRIVATE);
  if (pCopy == NULL)
    return STATUS_NO_MEMORY;
  memcpy(pCopy, pData, Size);
  *ppCopy = pCopy;
  return STATUS_SUCCESS;
}

/* What the UMD asked for: the lifetrace UMD's blob (RD_UMD_ALLOCATION) when
 * present, else whatever the runtime filled into DXGK_ALLOCATIONINFO. */
static void read_request(const DXGK_ALLOCATIONINFO *pInfo, ULONGLONG *pSize, UINT *pFlags) {
  RD_UMD_ALLOCATION Umd = {0};

  *pSize = pInfo->Size;
  *pFlags = pInfo->Flags.Value;
  if (pInfo->pPrivateDriverData == NULL || pInfo->PrivateDriverDataSize < RD_UMD_ALLOCATION_BYTES)
    return;
  memcpy(&Umd.Size, pInfo->pPrivateDriverData, sizeof Umd.Size);
  memcpy(&Umd.Flags, (const UCHAR *)pInfo->pPrivateDriverData + sizeof Umd.Size, sizeof Umd.Flags);
  if (*pSize == 0)
    *pSize = Umd.Size;
  if (*pFlags == 0)
    *pFlags = Umd.Flags;
}

static NTSTATUS check_request(const DXGK_ALLOCATIONINFO *pInfo) {
  ULONGLONG Size;
  UINT Flags;

  if (pInfo->PrivateDriverDataSize > RD_MAX_PRIVATE_DATA ||
      (pInfo->PrivateDriverDataSize != 0 && pInfo->pPrivateDriverData == NULL))
    return STATUS_INVALID_PARAMETER;
  read_request(pInfo, &Size, &Flags);
  if (Size > (ULONGLONG)(SIZE_MAX - RD_PAGE_SIZE))
    return STATUS_INVALID_PARAMETER;
  return STATUS_SUCCESS;
}

/* Records the allocation's description and reports it back: the size rounded
 * to pages (0 means one page), the segments and flags as asked. */
static void describe_allocation(RD_ALLOCATION *pAllocation, DXGK_ALLOCATIONINFO *pInfo) {
  ULONGLONG Requested;
  SIZE_T Size;
  UINT Flags;

  read_request(pInfo, &Requested, &Flags);
  Size = Requested ? (SIZE_T)Requested : RD_PAGE_SIZE;
  Size = (Size + RD_PAGE_SIZE - 1) & ~(SIZE_T)(RD_PAGE_SIZE - 1);
  pAllocation->Size = Size;
  pAllocation->Alignment = pInfo->Alignment;
  pAllocation->SegmentSet = pInfo->SupportedWriteSegmentSet;
  pAllocation->Preferred = pInfo->PreferredSegment;
  pAllocation->Flags.Value = Flags;

  pInfo->Size = Size;
  pInfo->PitchAlignedSize = 0;
  pInfo->HintedBank.Value = 0;
  pInfo->SupportedReadSegmentSet = pAllocation->SegmentSet;
  pInfo->EvictionSegmentSet = 0;
  pInfo->MaximumRenamingListLength = 0;
  pInfo->Flags.Value = Flags;
  pInfo->pAllocationUsageHint = NULL;
  pInfo->AllocationPriority = RD_PRIORITY_NORMAL;
}

/* Frees an allocation object and its private-data copy, with the tags they
 * were allocated with. The caller has already cut it from every list and
 * pointer that could outlive it (DestroyAllocation, M4; adapter stop). */
void lt__rd_allocation_free(RD_ALLOCATION *pAllocation) {
  if (pAllocation->pPrivateData != NULL)
    ExFreePoolWithTag(pAllocation->pPrivateData, RD_TAG_PRIVATE);
  ExFreePoolWithTag(pAllocation, RD_TAG_ALLOCATION);
}

/* Frees a resource object and its private-data copy, already cut from every
 * list (adapter stop). */
void lt__rd_resource_free(RD_RESOURCE *pResource) {
  if (pResource->pPrivateData != NULL)
    ExFreePoolWithTag(pResource->pPrivateData, RD_TAG_PRIVATE);
  ExFreePoolWithTag(pResource, RD_TAG_RESOURCE);
}

/* Creates one allocation object, registers it with the adapter (and its
 * resource) and sets pInfo->hAllocation. */
static NTSTATUS allocation_create(RD_ADAPTER *pAdapter, RD_RESOURCE *pResource,
                                  DXGK_ALLOCATIONINFO *pInfo) {
  RD_ALLOCATION *pAllocation;
  NTSTATUS Status;
  KIRQL OldIrql;

  pInfo->hAllocation = NULL;
  Status = check_request(pInfo);
  if (!NT_SUCCESS(Status))
    return Status;
  pAllocation = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pAllocation, RD_TAG_ALLOCATION);
  if (pAllocation == NULL)
    return STATUS_NO_MEMORY;
  Status = copy_private(pInfo->pPrivateDriverData, pInfo->PrivateDriverDataSize,
                        &pAllocation->pPrivateData);
  if (!NT_SUCCESS(Status)) {
    ExFreePoolWithTag(pAllocation, RD_TAG_ALLOCATION);
    return Status;
  }
  pAllocation->PrivateDataSize = pInfo->PrivateDriverDataSize;
  describe_allocation(pAllocation, pInfo);

  OldIrql = RdLockAdapter(pAdapter);
  RdInsertTailList(&pAdapter->AllocationList, &pAllocation->AdapterLink);
  if (pResource != NULL) {
    pAllocation->pResource = pResource;
    pResource->cAllocations++;
  }
  RdUnlockAdapter(pAdapter, OldIrql);
  pInfo->hAllocation = pAllocation;
  return STATUS_SUCCESS;
}

static void resource_destroy(RD_ADAPTER *pAdapter, RD_RESOURCE *pResource);

/* Unregisters an allocation, removes every reference the driver holds to it
 * (M4) and frees it. With seeded bug 10 on, it also releases the resource
 * when this was its last allocation. */
static void allocation_destroy(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation) {
  RD_RESOURCE *pResource, *pEmptied = NULL;
  UINT Blank = 0;
  KIRQL OldIrql;

  OldIrql = RdLockAdapter(pAdapter);
  RdRemoveEntryList(&pAllocation->AdapterLink);
  pResource = pAllocation->pResource;
  if (pResource != NULL) {
    pResource->cAllocations--;
    /* Seeded bug 10 (P19): treats the resource as owned by its allocations
     * and releases it with the last one, although DestroyResource will
     * release it again. */
    if (pResource->cAllocations == 0 && lt__rd_bug(RD_BUG_P19_RESOURCE_DOUBLE_RELEASE))
      pEmptied = pResource;
  }
  /* Seeded bug 9 (P13): the current-scanout pointer is left alone. */
  if (!lt__rd_bug(RD_BUG_P13_STALE_SCANOUT))
    Blank = lt__rd_unassign_scanout_locked(pAdapter, pAllocation);
  /* Seeded bug 8 (P11): assumes the GPU is done with the allocation and
   * leaves it in pending DMA packets, which the DPC completes later. */
  if (!lt__rd_bug(RD_BUG_P11_DPC_AFTER_DESTROY))
    lt__rd_unreference_dma_locked(pAdapter, pAllocation);
  if (pAllocation->cOpens != 0)
    lt__rd_detach_bindings_locked(pAdapter, pAllocation);
  RdUnlockAdapter(pAdapter, OldIrql);

  lt__rd_program_blank(pAdapter, Blank);
  lt__rd_allocation_free(pAllocation);
  if (pEmptied != NULL)
    resource_destroy(pAdapter, pEmptied);
}

static NTSTATUS resource_create(RD_ADAPTER *pAdapter, RD_RESOURCE **ppResource) {
  RD_RESOURCE *pResource;
  KIRQL OldIrql;

  pResource = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pResource, RD_TAG_RESOURCE);
  if (pResource == NULL)
    return STATUS_NO_MEMORY;
  OldIrql = RdLockAdapter(pAdapter);
  RdInsertTailList(&pAdapter->ResourceList, &pResource->AdapterLink);
  pResource->Listed = RD_SIG_LISTED;
  RdUnlockAdapter(pAdapter, OldIrql);
  *ppResource = pResource;
  return STATUS_SUCCESS;
}

/* Releases a resource object. Allocations that still name it (a trace that
 * destroys a resource before all its allocations) become resource-less
 * adapter allocations instead of keeping a dangling pointer. The resource is
 * unlinked by address and its allocations are found by comparing pointers,
 * so nothing here follows a pointer out of the resource block itself. */
static void resource_destroy(RD_ADAPTER *pAdapter, RD_RESOURCE *pResource) {
  KIRQL OldIrql;

  OldIrql = RdLockAdapter(pAdapter);
  lt__rd_unlink_flagged(&pAdapter->ResourceList, &pResource->AdapterLink, &pResource->Listed);
  if (pResource->cAllocations != 0) {
    for (RD_LIST_ENTRY *e = pAdapter->AllocationList.Flink; e != &pAdapter->AllocationList;
         e = e->Flink) {
      RD_ALLOCATION *pAllocation = RD_CONTAINING_RECORD(e, RD_ALLOCATION, AdapterLink);
      if (pAllocation->pResource == pResource)
        pAllocation->pResource = NULL;
    }
  }
  RdUnlockAdapter(pAdapter, OldIrql);
  lt__rd_resource_free(pResource);
}

/* Mode "move-resource": moves a resource to a new object sized for its
 * current allocations (a driver that shrinks or grows its resource object)
 * and frees the old one. Returns the object that now stands for the
 * resource: the new one, or the old one when the new block cannot be had
 * (keeping it is always legal). The blob moves with it. */
static RD_RESOURCE *resource_move(RD_ADAPTER *pAdapter, RD_RESOURCE *pOld) {
  RD_RESOURCE *pNew;
  KIRQL OldIrql;

  pNew = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *pNew, RD_TAG_RESOURCE);
  if (pNew == NULL)
    return pOld;
  OldIrql = RdLockAdapter(pAdapter);
  lt__rd_unlink_flagged(&pAdapter->ResourceList, &pOld->AdapterLink, &pOld->Listed);
  pNew->cAllocations = pOld->cAllocations;
  pNew->pPrivateData = pOld->pPrivateData;
  pNew->PrivateDataSize = pOld->PrivateDataSize;
  RdInsertTailList(&pAdapter->ResourceList, &pNew->AdapterLink);
  pNew->Listed = RD_SIG_LISTED;
  if (pOld->cAllocations != 0) {
    for (RD_LIST_ENTRY *e = pAdapter->AllocationList.Flink; e != &pAdapter->AllocationList;
         e = e->Flink) {
      RD_ALLOCATION *pAllocation = RD_CONTAINING_RECORD(e, RD_ALLOCATION, AdapterLink);
      if (pAllocation->pResource == pOld)
        pAllocation->pResource = pNew;
    }
  }
  RdUnlockAdapter(pAdapter, OldIrql);
  ExFreePoolWithTag(pOld, RD_TAG_RESOURCE);
  return pNew;
}

/* The hResource to hand back after the resource was moved: the new object,
 * or (seeded variant "move-resource-freed") the old one it just freed. */
static HANDLE moved_handle(RD_RESOURCE *pOld, RD_RESOURCE *pNew) {
  /* Seeded variant move-resource-freed: keeps handing back the handle
   * dxgkrnl passed in, which now names a freed block. */
  if (lt__rd_mode(RD_VARIANT_MOVE_RESOURCE_FREED))
    return pOld;
  return pNew;
}

/* Destroys the allocations made so far by a failing create. With ClearHandles
 * the caller's hAllocation entries are reset so that nothing is published. */
static void rollback_allocations(RD_ADAPTER *pAdapter, DXGK_ALLOCATIONINFO *pInfo, UINT Count,
                                 BOOLEAN ClearHandles) {
  for (UINT j = 0; j < Count; j++) {
    allocation_destroy(pAdapter, pInfo[j].hAllocation);
    if (ClearHandles)
      pInfo[j].hAllocation = NULL;
  }
}

/* Installs the resource-level blob of a successful call (it replaces the
 * previous one when allocations are added) and returns the old blob. */
static PVOID resource_swap_blob(RD_ADAPTER *pAdapter, RD_RESOURCE *pResource, PVOID pBlob,
                                UINT Size) {
  PVOID pOld;
  KIRQL OldIrql;

  OldIrql = RdLockAdapter(pAdapter);
  pOld = pResource->pPrivateData;
  pResource->pPrivateData = pBlob;
  pResource->PrivateDataSize = pBlob ? Size : 0;
  RdUnlockAdapter(pAdapter, OldIrql);
  return pOld;
}

/* DxgkDdiCreateAllocation: creates NumAllocations allocation objects and,
 * with Flags.Resource, a resource object on the first call for a resource
 * (an incoming hResource is the one this driver returned before and is
 * reused). On failure nothing is published: every hAllocation is NULL,
 * hResource is unchanged, and only objects made by this call are freed. */
NTSTATUS lt__rd_create_allocation(HANDLE hAdapter, DXGKARG_CREATEALLOCATION *pCreate) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_RESOURCE *pResource;
  BOOLEAN NewResource = FALSE;
  PVOID pBlob = NULL;
  NTSTATUS Status = STATUS_SUCCESS;
  UINT i;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pCreate == NULL || pCreate->NumAllocations == 0 ||
      pCreate->pAllocationInfo == NULL || (!pCreate->Flags.Resource && pCreate->hResource != NULL))
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  pResource = pCreate->hResource;
  for (i = 0; i < pCreate->NumAllocations; i++)
    pCreate->pAllocationInfo[i].hAllocation = NULL;

  /* Seeded bug 4 (P5): builds a new resource object on every call with
   * Flags.Resource, dropping the one dxgkrnl passed in. */
  if (pCreate->Flags.Resource &&
      (pResource == NULL || lt__rd_bug(RD_BUG_P5_RECREATE_RESOURCE))) {
    Status = resource_create(pAdapter, &pResource);
    if (!NT_SUCCESS(Status))
      goto out;
    NewResource = TRUE;
    /* Seeded bug 6 (P7): hResource is handed back before the call is sure
     * to succeed. */
    if (lt__rd_bug(RD_BUG_P7_PUBLISH_ON_FAILURE))
      pCreate->hResource = pResource;
  }
  if (pCreate->Flags.Resource) {
    Status = copy_private(pCreate->pPrivateDriverData, pCreate->PrivateDriverDataSize, &pBlob);
    if (!NT_SUCCESS(Status))
      goto out;
  }

  for (i = 0; i < pCreate->NumAllocations; i++) {
    Status = allocation_create(pAdapter, pResource, &pCreate->pAllocationInfo[i]);
    if (!NT_SUCCESS(Status)) {
      /* Seeded bug 6 (P7): the cleanup leaves the freed handles in place and
       * the loop goes on, so a later success overwrites Status. */
      BOOLEAN Bug = lt__rd_bug(RD_BUG_P7_PUBLISH_ON_FAILURE);
      rollback_allocations(pAdapter, pCreate->pAllocationInfo, i, !Bug);
      if (!Bug)
        break;
    }
  }
  if (!NT_SUCCESS(Status))
    goto out;

  if (pResource != NULL) {
    pBlob = resource_swap_blob(pAdapter, pResource, pBlob, pCreate->PrivateDriverDataSize);
    /* Seeded variant resource-blob-leak: the old blob is dropped, not freed. */
    if (lt__rd_mode(RD_VARIANT_RESOURCE_BLOB_LEAK))
      pBlob = NULL;
    pCreate->hResource = pResource;
    if (!NewResource && lt__rd_mode(RD_MODE_MOVE_RESOURCE))
      pCreate->hResource = moved_handle(pResource, resource_move(pAdapter, pResource));
  }

out:
  /* Seeded bug 5 (P6): the error path frees whatever resource it holds,
   * including the caller's from an earlier successful call. */
  if (!NT_SUCCESS(Status) && pResource != NULL &&
      (NewResource || lt__rd_bug(RD_BUG_P6_OOM_FREES_RESOURCE)))
    resource_destroy(pAdapter, pResource);
  if (pBlob != NULL)
    ExFreePoolWithTag(pBlob, RD_TAG_PRIVATE);
  return Status;
}

/* pAllocationList[0], read the way a driver that assumes NumAllocations >= 1
 * reads it (seeded bug 3). Exempt from the sanitizer's null check so that a
 * NULL list faults like a kernel page fault, which the harness turns into a
 * miniport-crash finding, instead of ending the process. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize("null")))
#endif
static RD_ALLOCATION *first_listed(const DXGKARG_DESTROYALLOCATION *pDestroy) {
  const HANDLE *volatile List = pDestroy->pAllocationList;
  return List[0];
}

/* DxgkDdiDestroyAllocation: frees the NumAllocations (0..N) listed
 * allocations, then the resource iff Flags.DestroyResource (hResource may be
 * NULL when no resource object was returned; with DestroyResource = 0 a
 * non-NULL hResource is left alive). Never fails for a legal shape (M8). */
NTSTATUS lt__rd_destroy_allocation(HANDLE hAdapter, const DXGKARG_DESTROYALLOCATION *pDestroy) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_RESOURCE *pResource;
  BOOLEAN ReleaseResource;
  UINT Count;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pDestroy == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  pResource = pDestroy->hResource;

  /* Seeded bug 3 (P2): written for "one or more allocations", it takes the
   * resource from the first listed allocation, so a resource-only destroy
   * (NumAllocations 0, pAllocationList NULL) reads pAllocationList[0]. */
  if (lt__rd_bug(RD_BUG_P2_ZERO_ALLOCATIONS)) {
    const RD_ALLOCATION *pFirst = first_listed(pDestroy);
    pResource = pFirst->pResource;
  }
  if (pDestroy->NumAllocations != 0 && pDestroy->pAllocationList == NULL)
    return STATUS_INVALID_PARAMETER;

  /* Seeded bug 1 (P1): decides on hResource instead of the flag, so an
   * individual destroy of some allocations releases their resource. */
  if (lt__rd_bug(RD_BUG_P1_HRESOURCE_DECIDES))
    ReleaseResource = pResource != NULL;
  else
    ReleaseResource = pDestroy->Flags.DestroyResource && pResource != NULL;

  Count = pDestroy->NumAllocations;
  /* Seeded bug 2 (P3): only pAllocationList[0] is freed. */
  if (lt__rd_bug(RD_BUG_P3_FIRST_ONLY) && Count > 1)
    Count = 1;
  for (UINT i = 0; i < Count; i++) {
    RD_ALLOCATION *pAllocation = pDestroy->pAllocationList[i];
    if (pAllocation == NULL)
      continue;
    allocation_destroy(pAdapter, pAllocation);
  }
  if (ReleaseResource)
    resource_destroy(pAdapter, pResource);
  else if (pResource != NULL && Count != 0 && lt__rd_mode(RD_MODE_MOVE_RESOURCE))
    /* Allocations left the resource: it moves, and the new handle goes back
     * through hResource, which the WDK declares const (the DDI page allows
     * the change; lifetrace notes the write). */
    ((DXGKARG_DESTROYALLOCATION *)pDestroy)->hResource =
        moved_handle(pResource, resource_move(pAdapter, pResource));
  return STATUS_SUCCESS;
}
