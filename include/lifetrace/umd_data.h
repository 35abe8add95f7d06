/* lifetrace — what the simulated user-mode driver puts in the private data
 * of DxgkDdiCreateAllocation and DxgkDdiOpenAllocation.
 *
 * A real KMD parses its own UMD's private format (surface descriptions,
 * pitch, format). The simulated runtime has only what a trace records: the
 * size and the DXGK_ALLOCATIONINFOFLAGS bits asked for. A driver under test
 * translates this into its own description in one small shim (see
 * docs/bring-your-own-driver.md, "What to shim").
 *
 * Each DXGK_ALLOCATIONINFO.pPrivateDriverData (and each
 * DXGK_OPENALLOCATIONINFO.pPrivateDriverData) points at LT_UMD_ALLOCATION_DATA
 * bytes laid out as below, with no alignment guarantee: read them with
 * LtReadUmdAllocationData. The resource-level blob
 * (DXGKARG_CREATEALLOCATION.pPrivateDriverData) is NULL.
 */
#ifndef LIFETRACE_UMD_DATA_H
#define LIFETRACE_UMD_DATA_H

#include <string.h>

#include "lifetrace/wddm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _LT_UMD_ALLOCATION_DATA {
  ULONGLONG Size; /* bytes the application asked for (0 = driver's choice) */
  UINT Flags;     /* DXGK_ALLOCATIONINFOFLAGS.Value (Primary = scanout-capable) */
  UINT Reserved;  /* 0 */
} LT_UMD_ALLOCATION_DATA;

/* Bytes of the blob the simulated runtime sends (PrivateDriverDataSize). */
#define LT_UMD_ALLOCATION_DATA_SIZE 16u

/* Copies a blob into *pData; FALSE when it is missing or too short. */
static inline BOOLEAN LtReadUmdAllocationData(const void *pPrivateDriverData,
                                              UINT PrivateDriverDataSize,
                                              LT_UMD_ALLOCATION_DATA *pData) {
  if (pPrivateDriverData == NULL || PrivateDriverDataSize < sizeof(ULONGLONG) + sizeof(UINT))
    return FALSE;
  memset(pData, 0, sizeof *pData);
  memcpy(&pData->Size, pPrivateDriverData, sizeof pData->Size);
  memcpy(&pData->Flags, (const unsigned char *)pPrivateDriverData + sizeof pData->Size,
         sizeof pData->Flags);
  return TRUE;
}

#ifdef __cplusplus
}
#endif
#endif
