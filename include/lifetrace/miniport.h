/* lifetrace — the miniport ABI: the versioned table of DDI entry points a
 * driver under test gives the simulated dxgkrnl.
 *
 * A driver fills one LT_MINIPORT (statically, or returned from the exported
 * `lt_miniport_entry` symbol of a shared object). The harness refuses a table
 * whose AbiVersion differs from LT_MINIPORT_ABI_VERSION. Entry points marked
 * optional may be NULL.
 */
#ifndef LIFETRACE_MINIPORT_H
#define LIFETRACE_MINIPORT_H

#include "lifetrace/wddm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: DDI argument structures and DXGKRNL_INTERFACE complete, in WDK order;
 * UmdPrivateData and UmdContract appended (the UMD's private data and
 * contract, below). */
#define LT_MINIPORT_ABI_VERSION 2u

/* Introspection: the driver calls `Report` once for each KMD allocation handle
 * (hAllocation) its internal state still references, with a short name for the
 * place ("scanout[0]", "dma-queue"). */
typedef void (*LT_REFERENCE_CALLBACK)(void *Context, HANDLE hAllocation,
                                      const char *Where);

/* What the trace says about one allocation of a CreateAllocation, given to
 * the adapter file's builders of the UMD's private data. */
typedef struct LT_UMD_ALLOCATION {
  UINT Index;               /* its position in the DxgkDdiCreateAllocation call */
  UINT NumAllocations;      /* allocations in that call */
  ULONGLONG Size;           /* bytes asked for (the trace's size; 4096 when it has none) */
  ULONGLONG Alignment;      /* 0 = the driver's choice */
  UINT SupportedSegmentSet; /* bit0 = segment 1 */
  UINT PreferredSegment;    /* segment id, 0 = none */
  UINT Flags;               /* DXGK_ALLOCATIONINFOFLAGS.Value */
  UINT Variant;             /* the trace's variant seed (the mutator varies it; 0 = plain) */
  ULONGLONG hResource;      /* trace handle of its resource, 0 = none */
  BOOLEAN Shared;
} LT_UMD_ALLOCATION;

/* The layout of the private data the driver's own UMD sends (optional member
 * UmdPrivateData). When a driver declares it, the simulated runtime sends
 * blobs of exactly the declared sizes, whatever the trace says: each
 * DXGK_ALLOCATIONINFO.pPrivateDriverData (and the same bytes again in
 * DXGK_OPENALLOCATIONINFO.pPrivateDriverData) has AllocationDataSize bytes,
 * DXGKARG_CREATEALLOCATION.pPrivateDriverData has ResourceDataSize bytes on a
 * resource create (Flags.Resource) and is NULL otherwise; a size of 0 sends
 * NULL. A builder fills a zeroed blob from the trace's allocation; without a
 * builder the blob stays zeroed. Builders must be deterministic (the same
 * inputs, the same bytes: a replay is reproducible) and may not call back
 * into the harness. An over-read of a blob of the declared size is the
 * driver's own bug, and reported as such. */
typedef struct LT_UMD_PRIVATE_DATA {
  UINT AllocationDataSize;
  UINT ResourceDataSize;
  void (*BuildAllocationData)(const LT_UMD_ALLOCATION *pAllocation, void *pData, UINT DataSize);
  /* pAllocations: every allocation of the call, in call order. */
  void (*BuildResourceData)(const LT_UMD_ALLOCATION *pAllocations, UINT NumAllocations,
                            void *pData, UINT DataSize);
} LT_UMD_PRIVATE_DATA;

/* What the driver's UMD always does (optional member UmdContract), so the
 * driver may assert on it. 0 in a field means no limit. The kernel policy
 * keeps every DDI call inside the contract as dxgkrnl would for that UMD (a
 * destroy of 3 allocations with MaxAllocationsPerDestroy = 1 is three calls,
 * Flags.DestroyResource on the last; a create of more allocations than a
 * resource may hold is refused; segment sets are cut to SegmentSet); the
 * audit policy does the same and labels each trace event that breaks a
 * clause with a "umd-contract" note naming it; the mutator stays inside it
 * (lt_mutator_set_umd_contract). */
typedef struct LT_UMD_CONTRACT {
  UINT MaxAllocationsPerCreate;   /* DxgkDdiCreateAllocation */
  UINT MaxAllocationsPerOpen;     /* DxgkDdiOpenAllocation */
  UINT MaxAllocationsPerClose;    /* DxgkDdiCloseAllocation */
  UINT MaxAllocationsPerDestroy;  /* DxgkDdiDestroyAllocation */
  UINT MaxAllocationsPerResource; /* live allocations of one resource */
  UINT SegmentSet;                /* segments the UMD asks for (bit0 = segment 1) */
} LT_UMD_CONTRACT;

typedef struct LT_MINIPORT {
  UINT AbiVersion; /* LT_MINIPORT_ABI_VERSION */
  UINT Size;       /* sizeof(LT_MINIPORT) */
  const char *Name;
  const char *Version;

  /* Adapter lifetime (StartDevice / StopDevice+RemoveDevice combined). The
   * interface stays valid until StopDevice returns. */
  NTSTATUS (*DxgkDdiStartDevice)(const DXGKRNL_INTERFACE *pDxgkInterface,
                                 HANDLE *phAdapter);
  NTSTATUS (*DxgkDdiStopDevice)(HANDLE hAdapter);

  NTSTATUS (*DxgkDdiCreateDevice)(HANDLE hAdapter, DXGKARG_CREATEDEVICE *pCreateDevice);
  NTSTATUS (*DxgkDdiDestroyDevice)(HANDLE hDevice);
  NTSTATUS (*DxgkDdiCreateContext)(HANDLE hDevice, DXGKARG_CREATECONTEXT *pCreateContext);
  NTSTATUS (*DxgkDdiDestroyContext)(HANDLE hContext);

  NTSTATUS (*DxgkDdiCreateAllocation)(HANDLE hAdapter,
                                      DXGKARG_CREATEALLOCATION *pCreateAllocation);
  NTSTATUS (*DxgkDdiDestroyAllocation)(HANDLE hAdapter,
                                       const DXGKARG_DESTROYALLOCATION *pDestroyAllocation);
  NTSTATUS (*DxgkDdiOpenAllocation)(HANDLE hDevice,
                                    const DXGKARG_OPENALLOCATION *pOpenAllocation);
  NTSTATUS (*DxgkDdiCloseAllocation)(HANDLE hDevice,
                                     const DXGKARG_CLOSEALLOCATION *pCloseAllocation);

  /* Build a DMA buffer for a context: the allocation list names device
   * bindings; the driver may keep pointers in pDmaBufferPrivateData. */
  NTSTATUS (*DxgkDdiRender)(HANDLE hContext, DXGKARG_RENDER *pRender);
  NTSTATUS (*DxgkDdiSubmitCommand)(HANDLE hAdapter,
                                   const DXGKARG_SUBMITCOMMAND *pSubmitCommand);
  /* Called after the GPU completed fences on node MessageNumber; the driver
   * reads the fence with LtCbQueryCompletedFence. The DPC follows if the ISR
   * called DxgkCbQueueDpc (or, for a driver that never calls it, if the ISR
   * returned TRUE). */
  BOOLEAN (*DxgkDdiInterruptRoutine)(HANDLE hAdapter, ULONG MessageNumber);
  void (*DxgkDdiDpcRoutine)(HANDLE hAdapter);

  NTSTATUS (*DxgkDdiBuildPagingBuffer)(HANDLE hAdapter,
                                       DXGKARG_BUILDPAGINGBUFFER *pBuildPagingBuffer);
  NTSTATUS (*DxgkDdiSetVidPnSourceAddress)(HANDLE hAdapter,
                                           const DXGKARG_SETVIDPNSOURCEADDRESS *pSet);
  NTSTATUS (*DxgkDdiLock)(HANDLE hAdapter, DXGKARG_LOCK *pLock);
  NTSTATUS (*DxgkDdiUnlock)(HANDLE hAdapter, const DXGKARG_UNLOCK *pUnlock);
  NTSTATUS (*DxgkDdiResetFromTimeout)(HANDLE hAdapter);
  NTSTATUS (*DxgkDdiRestartFromTimeout)(HANDLE hAdapter);

  /* Optional: enumerate every allocation the driver's state still references. */
  void (*LtEnumReferencedAllocations)(HANDLE hAdapter, LT_REFERENCE_CALLBACK Report,
                                      void *Context);
  /* Optional: set a driver option by name ("bugs" = "1,p13,..."); returns
   * STATUS_INVALID_PARAMETER for an unknown name or value. */
  NTSTATUS (*LtSetOption)(const char *Name, const char *Value);
  /* Optional: bytes of DMA private data per Render (0 = none). */
  UINT DmaBufferPrivateDataSize;

  /* Optional (ABI 2): the layout of the UMD's private data (NULL = the
   * simulated runtime's LT_UMD_ALLOCATION_DATA, lifetrace/umd_data.h) and
   * the UMD's contract (NULL = none). Both live as long as the table. */
  const LT_UMD_PRIVATE_DATA *UmdPrivateData;
  const LT_UMD_CONTRACT *UmdContract;
} LT_MINIPORT;

/* The symbol a dlopen'ed driver exports: returns its table. */
typedef const LT_MINIPORT *(*LT_MINIPORT_ENTRY)(void);
#define LT_MINIPORT_ENTRY_SYMBOL "lt_miniport_entry"

/* The driver linked into this binary, if any: defined by the glue that
 * lifetrace_add_driver links into the binaries it makes
 * (cmake/LifetraceLinkedDriver.c); a weak reference, NULL elsewhere. */
const LT_MINIPORT *lt_linked_miniport(void) __attribute__((weak));

/* Loads a driver: NULL gives the driver linked into this binary
 * (lt_linked_miniport; LT_ENOENT with a message when there is none); anything
 * else is a shared object dlopen'ed and asked for its table through
 * lt_miniport_entry. Checks the ABI version. On success *out is the table and
 * *dl the handle to pass to lt_miniport_unload (NULL for the linked one). On
 * failure returns LT_ENOENT / LT_EABI / LT_EINVAL with a message in err. */
int lt_miniport_load(const char *path, const LT_MINIPORT **out, void **dl, char *err,
                     size_t errlen);
void lt_miniport_unload(void *dl);
/* Applies a seeded-bug list ("1,3,p13"; "" or NULL = none) through
 * LtSetOption("bugs", ...). LT_EINVAL with a message when the driver has no
 * options or rejects the list. */
int lt_miniport_set_bugs(const LT_MINIPORT *mp, const char *bugs, char *err, size_t errlen);
/* Longest name of one seeded bug, with its NUL. */
#define LT_BUG_NAME_MAX 48
/* The one parser of seeded-bug lists: splits bugs ("1,3,p13", "all", "none")
 * into the single bugs it names, "all" expanded to every numbered bug the
 * driver accepts (probed through LtSetOption, which changes the driver's bug
 * set: apply the list after). Writes at most max names; returns how many. */
size_t lt_miniport_bug_candidates(const LT_MINIPORT *mp, const char *bugs,
                                  char (*cand)[LT_BUG_NAME_MAX], size_t max);

#ifdef __cplusplus
}
#endif
#endif
