/* lifetrace — WDDM compat header: the types, structures and kernel routines a
 * KMD's allocation-management source uses, shaped and named as in the WDK
 * (d3dkmddi.h, wdm.h), so that such a source compiles on Linux against the
 * simulated dxgkrnl. Only what the harness simulates is declared; layouts
 * follow the WDK field order but are not binary-compatible with Windows.
 */
#ifndef LIFETRACE_WDDM_H
#define LIFETRACE_WDDM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- base types ---------------------------------------------------------- */
typedef int32_t NTSTATUS;
typedef void *HANDLE;
typedef void *PVOID;
typedef const void *PCVOID;
typedef uint8_t UCHAR;
typedef uint8_t BOOLEAN;
typedef uint16_t USHORT;
typedef uint32_t UINT;
typedef uint32_t ULONG;
typedef int32_t LONG;
typedef uint64_t ULONGLONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONG64;
typedef size_t SIZE_T;
typedef uintptr_t ULONG_PTR;
typedef uint32_t D3DKMT_HANDLE;
typedef UINT D3DDDI_VIDEO_PRESENT_SOURCE_ID;
typedef uint64_t D3DGPU_VIRTUAL_ADDRESS;
typedef UCHAR KIRQL;
typedef ULONG_PTR KSPIN_LOCK;
typedef ULONGLONG POOL_FLAGS;
typedef union _LARGE_INTEGER {
  struct {
    ULONG LowPart;
    LONG HighPart;
  };
  LONGLONG QuadPart;
} LARGE_INTEGER, PHYSICAL_ADDRESS;

#ifndef TRUE
#define TRUE 1
#define FALSE 0
#endif

#define NT_SUCCESS(s) (((NTSTATUS)(s)) >= 0)
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#define STATUS_GRAPHICS_NO_VIDEO_MEMORY ((NTSTATUS)0xC01E0100L)
#define STATUS_GRAPHICS_DRIVER_MISMATCH ((NTSTATUS)0xC01E0009L)
#define STATUS_GRAPHICS_ALLOCATION_BUSY ((NTSTATUS)0xC01E0102L)
#define STATUS_GRAPHICS_INSUFFICIENT_DMA_BUFFER ((NTSTATUS)0xC01E0001L)

#define PASSIVE_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define HIGH_LEVEL 15

/* ---- kernel pool (tracked by the harness) ---------------------------------- */
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL

/* Allocates from the simulated kernel pool. Zeroed unless
 * POOL_FLAG_UNINITIALIZED. Returns NULL on (possibly injected) failure. The
 * block is attributed to the object the current DDI call serves. */
PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
/* Frees a pool block. A second free, a free of a pointer the pool never
 * returned, or a tag mismatch becomes a finding, never a crash. */
void ExFreePoolWithTag(PVOID P, ULONG Tag);

/* Spin locks and IRQL as the harness simulates them (single-threaded replay:
 * the lock records its holder and checks for recursion and IRQL misuse). */
void KeInitializeSpinLock(KSPIN_LOCK *SpinLock);
void KeAcquireSpinLock(KSPIN_LOCK *SpinLock, KIRQL *OldIrql);
void KeReleaseSpinLock(KSPIN_LOCK *SpinLock, KIRQL NewIrql);
KIRQL KeGetCurrentIrql(void);

/* ---- CreateAllocation ------------------------------------------------------ */
typedef struct _DXGK_CREATEALLOCATIONFLAGS {
  union {
    struct {
      UINT Resource : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGK_CREATEALLOCATIONFLAGS;

typedef struct _DXGK_ALLOCATIONINFOFLAGS {
  union {
    struct {
      UINT CpuVisible : 1;                    /* 0x1 */
      UINT PermanentSysMem : 1;               /* 0x2 */
      UINT Cached : 1;                        /* 0x4 */
      UINT Protected : 1;                     /* 0x8 */
      UINT ExistingSysMem : 1;                /* 0x10 */
      UINT ExistingKernelSysMem : 1;          /* 0x20 */
      UINT FromEndOfSegment : 1;              /* 0x40 */
      UINT Swizzled : 1;                      /* 0x80 */
      UINT Overlay : 1;                       /* 0x100 */
      UINT Capture : 1;                       /* 0x200 */
      UINT UseAlternateVA : 1;                /* 0x400 */
      UINT SynchronousPaging : 1;             /* 0x800 */
      UINT LinkMirrored : 1;                  /* 0x1000 */
      UINT LinkInstanced : 1;                 /* 0x2000 */
      UINT HistoryBuffer : 1;                 /* 0x4000 */
      UINT AccessedPhysically : 1;            /* 0x8000 */
      UINT ExplicitResidencyNotification : 1; /* 0x10000 */
      UINT HardwareProtected : 1;             /* 0x20000 */
      UINT CpuVisibleOnDemand : 1;            /* 0x40000 */
      UINT Reserved : 12;
      UINT Primary : 1; /* 0x80000000: lifetrace: a scanout-capable primary */
    };
    UINT Value;
  };
} DXGK_ALLOCATIONINFOFLAGS;

typedef struct _DXGK_SEGMENTPREFERENCE {
  union {
    struct {
      UINT SegmentId0 : 5;
      UINT Direction0 : 1;
      UINT SegmentId1 : 5;
      UINT Direction1 : 1;
      UINT SegmentId2 : 5;
      UINT Direction2 : 1;
      UINT SegmentId3 : 5;
      UINT Direction3 : 1;
      UINT SegmentId4 : 5;
      UINT Direction4 : 1;
      UINT Reserved : 2;
    };
    UINT Value;
  };
} DXGK_SEGMENTPREFERENCE;

typedef struct _DXGK_ALLOCATIONINFO {
  PVOID pPrivateDriverData;   /* in: per-allocation UMD blob */
  UINT PrivateDriverDataSize; /* in */
  UINT Alignment;             /* out */
  SIZE_T Size;                /* out */
  SIZE_T PitchAlignedSize;    /* out */
  UINT HintedBank;            /* out (unused by the harness) */
  DXGK_SEGMENTPREFERENCE PreferredSegment; /* out */
  UINT SupportedReadSegmentSet;            /* out */
  UINT SupportedWriteSegmentSet;           /* out: bit0 = segment 1 */
  UINT EvictionSegmentSet;                 /* out */
  UINT MaximumRenamingListLength;          /* out */
  HANDLE hAllocation;                      /* out: the KMD's allocation handle */
  DXGK_ALLOCATIONINFOFLAGS Flags;          /* out */
  PVOID pAllocationUsageHint;              /* out */
  UINT AllocationPriority;                 /* out */
} DXGK_ALLOCATIONINFO;

typedef struct _DXGKARG_CREATEALLOCATION {
  const void *pPrivateDriverData; /* in: resource-level blob */
  UINT PrivateDriverDataSize;
  UINT NumAllocations;
  DXGK_ALLOCATIONINFO *pAllocationInfo;
  HANDLE hResource; /* in/out: NULL first time; the KMD's value on additions */
  DXGK_CREATEALLOCATIONFLAGS Flags;
} DXGKARG_CREATEALLOCATION;

/* ---- DestroyAllocation ----------------------------------------------------- */
typedef struct _DXGK_DESTROYALLOCATIONFLAGS {
  union {
    struct {
      UINT DestroyResource : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGK_DESTROYALLOCATIONFLAGS;

typedef struct _DXGKARG_DESTROYALLOCATION {
  UINT NumAllocations;          /* 0..N: 0 is a resource-only destroy */
  const HANDLE *pAllocationList; /* KMD hAllocation values */
  HANDLE hResource;              /* KMD resource handle, or NULL */
  DXGK_DESTROYALLOCATIONFLAGS Flags;
} DXGKARG_DESTROYALLOCATION;

/* ---- Open / Close ----------------------------------------------------------- */
typedef struct _DXGK_OPENALLOCATIONINFO {
  D3DKMT_HANDLE hAllocation; /* in: dxgkrnl kernel handle (DxgkCbGetHandleData) */
  PVOID pPrivateDriverData;
  UINT PrivateDriverDataSize;
  HANDLE hDeviceSpecificAllocation; /* out: non-NULL on success */
} DXGK_OPENALLOCATIONINFO;

typedef struct _DXGK_OPENALLOCATIONFLAGS {
  union {
    struct {
      UINT Create : 1;
      UINT ReadOnly : 1;
      UINT Reserved : 30;
    };
    UINT Value;
  };
} DXGK_OPENALLOCATIONFLAGS;

typedef struct _DXGKARG_OPENALLOCATION {
  UINT NumAllocations;
  DXGK_OPENALLOCATIONINFO *pOpenAllocation;
  PVOID pPrivateDriverData;
  UINT PrivateDriverSize;
  DXGK_OPENALLOCATIONFLAGS Flags;
  UINT SubresourceIndex;
  SIZE_T SubresourceOffset;
  UINT Pitch;
} DXGKARG_OPENALLOCATION;

typedef struct _DXGKARG_CLOSEALLOCATION {
  UINT NumAllocations;
  const HANDLE *pOpenHandleList; /* hDeviceSpecificAllocation values */
} DXGKARG_CLOSEALLOCATION;

/* ---- Device / context ------------------------------------------------------- */
typedef struct _DXGK_CREATEDEVICEFLAGS {
  union {
    struct {
      UINT SystemDevice : 1;
      UINT GdiDevice : 1;
      UINT Reserved : 30;
    };
    UINT Value;
  };
} DXGK_CREATEDEVICEFLAGS;

typedef struct _DXGKARG_CREATEDEVICE {
  HANDLE hDevice; /* in: dxgkrnl's device handle; out: the KMD's */
  DXGK_CREATEDEVICEFLAGS Flags;
  PVOID pInfo;
  ULONG Pasid;
  HANDLE hKmdProcess;
} DXGKARG_CREATEDEVICE;

typedef struct _DXGKARG_CREATECONTEXT {
  HANDLE hContext; /* in: dxgkrnl's; out: the KMD's */
  UINT NodeOrdinal;
  UINT EngineAffinity;
  UINT Flags;
  PVOID pPrivateDriverData;
  UINT PrivateDriverDataSize;
} DXGKARG_CREATECONTEXT;

/* ---- Command submission ----------------------------------------------------- */
typedef struct _DXGK_ALLOCATIONLIST {
  HANDLE hDeviceSpecificAllocation;
  union {
    struct {
      UINT WriteOperation : 1;
      UINT SegmentId : 5;
      UINT Reserved : 26;
    };
    UINT Value;
  };
  PHYSICAL_ADDRESS PhysicalAddress; /* segment offset when resident */
} DXGK_ALLOCATIONLIST;

typedef struct _DXGKARG_RENDER {
  UINT AllocationListSize;
  DXGK_ALLOCATIONLIST *pAllocationList;
  PVOID pDmaBufferPrivateData; /* harness-owned, DmaBufferPrivateDataSize bytes */
  UINT DmaBufferPrivateDataSize;
} DXGKARG_RENDER;

typedef struct _DXGKARG_SUBMITCOMMAND {
  HANDLE hContext;
  UINT NodeOrdinal;
  UINT SubmissionFenceId;
  PVOID pDmaBufferPrivateData;
  UINT DmaBufferPrivateDataSize;
} DXGKARG_SUBMITCOMMAND;

/* ---- Paging ------------------------------------------------------------------ */
typedef enum _DXGK_BUILDPAGINGBUFFER_OPERATION {
  DXGK_OPERATION_TRANSFER = 0,
  DXGK_OPERATION_FILL = 1,
  DXGK_OPERATION_DISCARD_CONTENT = 2,
  DXGK_OPERATION_MAP_APERTURE_SEGMENT = 5,
  DXGK_OPERATION_UNMAP_APERTURE_SEGMENT = 6,
} DXGK_BUILDPAGINGBUFFER_OPERATION;

typedef struct _DXGKARG_BUILDPAGINGBUFFER {
  DXGK_BUILDPAGINGBUFFER_OPERATION Operation;
  union {
    struct {
      HANDLE hAllocation;
      SIZE_T TransferSize; /* 0 = eviction notice after TDR (content lost) */
      UINT SourceSegmentId;      /* 0 = system memory */
      PHYSICAL_ADDRESS SourceAddress;
      UINT DestinationSegmentId; /* 0 = system memory */
      PHYSICAL_ADDRESS DestinationAddress;
    } Transfer;
    struct {
      HANDLE hAllocation;
      SIZE_T FillSize;
      UINT FillPattern;
      UINT DestinationSegmentId;
      PHYSICAL_ADDRESS DestinationAddress;
    } Fill;
    struct {
      HANDLE hAllocation;
      UINT SegmentId;
      PHYSICAL_ADDRESS SegmentAddress;
    } DiscardContent;
    struct {
      HANDLE hAllocation;
      UINT SegmentId;
      SIZE_T OffsetInPages;
      SIZE_T NumberOfPages;
    } MapApertureSegment, UnmapApertureSegment;
  };
} DXGKARG_BUILDPAGINGBUFFER;

/* ---- Scanout ----------------------------------------------------------------- */
typedef struct _DXGKARG_SETVIDPNSOURCEADDRESS {
  D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
  UINT PrimarySegment;
  PHYSICAL_ADDRESS PrimaryAddress;
  HANDLE hAllocation; /* NULL = blank */
  UINT ContextCount;
  UINT Flags;
} DXGKARG_SETVIDPNSOURCEADDRESS;

/* ---- CPU lock ---------------------------------------------------------------- */
typedef struct _DXGKARG_LOCK {
  HANDLE hAllocation;
  UINT SegmentId;
  PHYSICAL_ADDRESS SegmentAddress;
  PVOID pData; /* out */
} DXGKARG_LOCK;

typedef struct _DXGKARG_UNLOCK {
  HANDLE hAllocation;
} DXGKARG_UNLOCK;

/* ---- Callbacks (DXGKRNL_INTERFACE) -------------------------------------------- */
typedef enum _DXGK_HANDLE_TYPE {
  DXGK_HANDLE_ALLOCATION = 1,
  DXGK_HANDLE_RESOURCE = 2,
} DXGK_HANDLE_TYPE;

typedef struct _DXGKARGCB_GETHANDLEDATA {
  D3DKMT_HANDLE hObject;
  DXGK_HANDLE_TYPE Type;
  struct {
    UINT DeviceSpecific : 1;
    UINT Reserved : 31;
  } Flags;
} DXGKARGCB_GETHANDLEDATA;

typedef struct _DXGKRNL_INTERFACE {
  ULONG Size;
  ULONG Version;
  HANDLE DeviceHandle; /* dxgkrnl's adapter handle, first argument of callbacks */
  /* KMD private data behind a kernel handle (adapter hAllocation, resource, or
   * with Flags.DeviceSpecific the device binding); NULL for an invalid handle. */
  PVOID (*DxgkCbGetHandleData)(const DXGKARGCB_GETHANDLEDATA *Args);
  /* Kernel handle of the Index-th allocation of a resource (0 past the end). */
  D3DKMT_HANDLE (*DxgkCbEnumHandleChildren)(D3DKMT_HANDLE hResource, UINT Index);
  /* Kernel handle of an allocation's resource, or 0. */
  D3DKMT_HANDLE (*DxgkCbGetHandleParent)(D3DKMT_HANDLE hAllocation);
  /* lifetrace: the highest fence the GPU has completed on a node (what a real
   * KMD reads from a fence register in its ISR). */
  UINT (*LtCbQueryCompletedFence)(HANDLE DeviceHandle, UINT NodeOrdinal);
  /* lifetrace: tell the harness which allocation the driver now believes a
   * VidPn source scans out (a real KMD programs a register). */
  void (*LtCbProgramScanout)(HANDLE DeviceHandle, UINT SourceId, UINT Segment,
                             PHYSICAL_ADDRESS Address, SIZE_T Size);
} DXGKRNL_INTERFACE;

#ifdef __cplusplus
}
#endif
#endif
