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

/* 2: DDI argument structures and DXGKRNL_INTERFACE complete, in WDK order. */
#define LT_MINIPORT_ABI_VERSION 2u

/* Introspection: the driver calls `Report` once for each KMD allocation handle
 * (hAllocation) its internal state still references, with a short name for the
 * place ("scanout[0]", "dma-queue"). */
typedef void (*LT_REFERENCE_CALLBACK)(void *Context, HANDLE hAllocation,
                                      const char *Where);

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
