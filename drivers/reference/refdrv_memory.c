/* lifetrace — reference miniport: residency (DxgkDdiBuildPagingBuffer), CPU
 * locks and scanout (DxgkDdiSetVidPnSourceAddress).
 *
 * The driver tracks where each allocation lives from the paging operations
 * VidMm asks for. After a TDR, a TRANSFER with TransferSize 0 is an eviction
 * notice: the content is gone and no GPU work is built. Each VidPn source
 * keeps a current-scanout pointer (VBox's pPrimaryAllocation), the main
 * dangling-pointer hazard at destroy time, cleared by DestroyAllocation.
 */
#include "refdrv_internal.h"

static void page_transfer(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation,
                          const DXGKARG_BUILDPAGINGBUFFER *pArgs) {
  if (pArgs->Transfer.TransferSize == 0) {
    pAllocation->Segment = 0;
    pAllocation->SegmentAddress.QuadPart = 0;
    pAllocation->ApertureMapped = FALSE;
    pAllocation->ContentLost = TRUE;
    pAdapter->EvictionNotices++;
    return;
  }
  pAllocation->Segment = pArgs->Transfer.Destination.SegmentId;
  pAllocation->SegmentAddress = pArgs->Transfer.Destination.SegmentAddress;
  if (pAllocation->Segment == 0)
    pAllocation->ApertureMapped = FALSE;
}

/* The allocation a paging operation names (NULL for the physical ones). */
static RD_ALLOCATION *paging_allocation(const DXGKARG_BUILDPAGINGBUFFER *pArgs) {
  switch (pArgs->Operation) {
  case DXGK_OPERATION_TRANSFER: return pArgs->Transfer.hAllocation;
  case DXGK_OPERATION_FILL: return pArgs->Fill.hAllocation;
  case DXGK_OPERATION_DISCARD_CONTENT: return pArgs->DiscardContent.hAllocation;
  case DXGK_OPERATION_MAP_APERTURE_SEGMENT: return pArgs->MapApertureSegment.hAllocation;
  case DXGK_OPERATION_UNMAP_APERTURE_SEGMENT: return pArgs->UnmapApertureSegment.hAllocation;
  case DXGK_OPERATION_SPECIAL_LOCK_TRANSFER: return pArgs->SpecialLockTransfer.hAllocation;
  default: return NULL;
  }
}

/* DxgkDdiBuildPagingBuffer: records the residency change of one paging
 * operation. The only failure VidMm accepts is an insufficient DMA buffer,
 * which this driver (that writes no commands) never has. */
NTSTATUS lt__rd_build_paging_buffer(HANDLE hAdapter, DXGKARG_BUILDPAGINGBUFFER *pArgs) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_ALLOCATION *pAllocation;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pArgs == NULL)
    return STATUS_INVALID_PARAMETER;
  RD_ASSERT(pAdapter->Signature == RD_SIG_ADAPTER);
  pAllocation = paging_allocation(pArgs);
  if (pAllocation == NULL)
    return STATUS_SUCCESS;

  OldIrql = RdLockAdapter(pAdapter);
  switch (pArgs->Operation) {
  case DXGK_OPERATION_TRANSFER:
    page_transfer(pAdapter, pAllocation, pArgs);
    break;
  case DXGK_OPERATION_FILL:
    pAllocation->Segment = pArgs->Fill.Destination.SegmentId;
    pAllocation->SegmentAddress = pArgs->Fill.Destination.SegmentAddress;
    pAllocation->ContentLost = FALSE;
    break;
  case DXGK_OPERATION_DISCARD_CONTENT:
    pAllocation->Segment = 0;
    pAllocation->SegmentAddress.QuadPart = 0;
    pAllocation->ContentLost = TRUE;
    break;
  case DXGK_OPERATION_MAP_APERTURE_SEGMENT:
    pAllocation->Segment = pArgs->MapApertureSegment.SegmentId;
    pAllocation->SegmentAddress.QuadPart =
        (LONGLONG)(pArgs->MapApertureSegment.OffsetInPages * RD_PAGE_SIZE);
    pAllocation->ApertureMapped = TRUE;
    break;
  case DXGK_OPERATION_UNMAP_APERTURE_SEGMENT:
    if (pAllocation->ApertureMapped) {
      pAllocation->Segment = 0;
      pAllocation->SegmentAddress.QuadPart = 0;
      pAllocation->ApertureMapped = FALSE;
    }
    break;
  default: break;
  }
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}

/* DxgkDdiLock: counts the CPU mapping and returns its (simulated) address. */
NTSTATUS lt__rd_lock(HANDLE hAdapter, DXGKARG_LOCK *pLock) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_ALLOCATION *pAllocation;
  UINT Segment;
  LONGLONG Address;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pLock == NULL || pLock->hAllocation == NULL)
    return STATUS_INVALID_PARAMETER;
  pAllocation = pLock->hAllocation;
  OldIrql = RdLockAdapter(pAdapter);
  pAllocation->cLocks++;
  Segment = pLock->SegmentId ? pLock->SegmentId : pAllocation->Segment;
  Address = pLock->SegmentId ? pLock->SegmentAddress.QuadPart : pAllocation->SegmentAddress.QuadPart;
  RdUnlockAdapter(pAdapter, OldIrql);
  pLock->pData = (PVOID)(RD_CPU_APERTURE_BASE + ((ULONG_PTR)(Segment & 0x1f) << 36) +
                         ((ULONG_PTR)Address & (((ULONG_PTR)1 << 36) - 1)));
  return STATUS_SUCCESS;
}

/* DxgkDdiUnlock: drops one CPU mapping. */
NTSTATUS lt__rd_unlock(HANDLE hAdapter, const DXGKARG_UNLOCK *pUnlock) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_ALLOCATION *pAllocation;
  KIRQL OldIrql;

  RD_PAGED_CODE();
  if (pAdapter == NULL || pUnlock == NULL || pUnlock->hAllocation == NULL)
    return STATUS_INVALID_PARAMETER;
  pAllocation = pUnlock->hAllocation;
  OldIrql = RdLockAdapter(pAdapter);
  if (pAllocation->cLocks != 0)
    pAllocation->cLocks--;
  RdUnlockAdapter(pAdapter, OldIrql);
  return STATUS_SUCCESS;
}

static void program_scanout(RD_ADAPTER *pAdapter, UINT Source, UINT Segment,
                            PHYSICAL_ADDRESS Address, SIZE_T Size) {
  if (pAdapter->Dxgk.LtCbProgramScanout != NULL)
    pAdapter->Dxgk.LtCbProgramScanout(pAdapter->Dxgk.DeviceHandle, Source, Segment, Address, Size);
}

/* DxgkDdiSetVidPnSourceAddress: makes hAllocation (NULL = blank) the
 * source's current scanout and programs the (simulated) display engine. The
 * previous primary is marked as no longer displayed on this source. */
NTSTATUS lt__rd_set_vidpn_source_address(HANDLE hAdapter,
                                         const DXGKARG_SETVIDPNSOURCEADDRESS *pSet) {
  RD_ADAPTER *pAdapter = hAdapter;
  RD_ALLOCATION *pNew, *pOld;
  UINT Source, Segment = 0;
  PHYSICAL_ADDRESS Address = {0};
  SIZE_T Size = 0;
  KIRQL OldIrql;

  if (pAdapter == NULL || pSet == NULL || pSet->VidPnSourceId >= RD_MAX_SOURCES)
    return STATUS_INVALID_PARAMETER;
  Source = pSet->VidPnSourceId;
  pNew = pSet->hAllocation;

  OldIrql = RdLockAdapter(pAdapter);
  pOld = pAdapter->Sources[Source].pPrimary;
  if (pOld != NULL && pOld != pNew)
    pOld->ScanoutMask &= ~(1u << Source);
  if (pNew != NULL) {
    pNew->ScanoutMask |= 1u << Source;
    Size = pNew->Size;
    Segment = pSet->PrimarySegment ? pSet->PrimarySegment : pNew->Segment;
    Address = pSet->PrimarySegment ? pSet->PrimaryAddress : pNew->SegmentAddress;
  }
  pAdapter->Sources[Source].pPrimary = pNew;
  pAdapter->Sources[Source].Segment = Segment;
  pAdapter->Sources[Source].Address = Address;
  RdUnlockAdapter(pAdapter, OldIrql);

  program_scanout(pAdapter, Source, Segment, Address, Size);
  return STATUS_SUCCESS;
}

/* Clears every VidPn source's scanout pointer to an allocation being freed
 * (M4, pattern P13) and returns the mask of sources cleared, to be blanked
 * with lt__rd_program_blank once the lock is dropped. Caller holds the
 * adapter lock. */
UINT lt__rd_unassign_scanout_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation) {
  UINT Mask = 0;

  for (UINT s = 0; s < RD_MAX_SOURCES; s++) {
    if (pAdapter->Sources[s].pPrimary == pAllocation) {
      pAdapter->Sources[s].pPrimary = NULL;
      pAdapter->Sources[s].Segment = 0;
      pAdapter->Sources[s].Address.QuadPart = 0;
      Mask |= 1u << s;
    }
  }
  pAllocation->ScanoutMask = 0;
  return Mask;
}

/* Programs the sources in SourceMask to scan out nothing; called without the
 * adapter lock, after lt__rd_unassign_scanout_locked. */
void lt__rd_program_blank(RD_ADAPTER *pAdapter, UINT SourceMask) {
  PHYSICAL_ADDRESS None = {0};

  for (UINT s = 0; s < RD_MAX_SOURCES; s++)
    if (SourceMask & (1u << s))
      program_scanout(pAdapter, s, 0, None, 0);
}
