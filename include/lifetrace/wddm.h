/* lifetrace — WDDM compat header: the types and the DDI argument structures
 * of d3dkmddi.h / dispmprt.h / wdm.h that a KMD's sources use, named and
 * ordered as the public WDK documentation gives them (field order, unions,
 * bit fields), so that such a source compiles on Linux against the simulated
 * dxgkrnl. Layouts follow the WDK but are not binary-compatible with Windows
 * (LP64: ULONG is 32-bit, pointers 64-bit, as on x64 Windows).
 *
 * Every structure of the DDIs in the LT_MINIPORT table (miniport.h) is
 * complete; the simulated dxgkrnl fills the fields it models and zeroes the
 * rest (docs/bring-your-own-driver.md lists which). Argument structures of
 * DDIs the table does not have (Present, Patch) are declared so that a
 * driver's implementation of them compiles; the harness never calls them.
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
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef uint16_t USHORT;
typedef uint32_t UINT;
typedef uint32_t ULONG;
typedef int32_t LONG;
typedef uint64_t ULONGLONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONG64;
typedef size_t SIZE_T;
typedef SIZE_T *PSIZE_T;
typedef uintptr_t ULONG_PTR;
typedef uint32_t D3DKMT_HANDLE;
typedef UINT D3DDDI_VIDEO_PRESENT_SOURCE_ID;
typedef UINT D3DDDI_VIDEO_PRESENT_TARGET_ID;
typedef uint64_t D3DGPU_VIRTUAL_ADDRESS;
typedef UCHAR KIRQL;
typedef ULONG_PTR KSPIN_LOCK;
typedef ULONGLONG POOL_FLAGS;
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;
typedef union _LARGE_INTEGER {
  struct {
    ULONG LowPart;
    LONG HighPart;
  };
  struct {
    ULONG LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

/* WCHAR is 16-bit, as on Windows. lifetrace_add_driver compiles drivers with
 * -fshort-wchar, so L"..." literals are WCHAR arrays in C and C++; without
 * it (the harness itself) WCHAR is a 16-bit integer of the same layout. */
#if defined(__SIZEOF_WCHAR_T__) && __SIZEOF_WCHAR_T__ == 2
typedef wchar_t WCHAR;
#else
typedef uint16_t WCHAR;
#endif
typedef WCHAR *PWCHAR, *PWSTR, *LPWSTR;
typedef const WCHAR *PCWSTR, *LPCWSTR;

typedef struct _UNICODE_STRING {
  USHORT Length;        /* bytes, without a terminator */
  USHORT MaximumLength; /* bytes */
  PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _GUID {
  ULONG Data1;
  USHORT Data2;
  USHORT Data3;
  UCHAR Data4[8];
} GUID, *PGUID, *LPGUID;
typedef const GUID *LPCGUID, *PCGUID;

/* Opaque kernel objects: a driver only passes pointers to them. */
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT;
typedef struct _DRIVER_OBJECT DRIVER_OBJECT, *PDRIVER_OBJECT;
typedef struct _MDL MDL, *PMDL;

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
/* Frees a pool block without checking its tag (still tracked: a double or a
 * bad free is a finding). */
void ExFreePool(PVOID P);

/* Spin locks and IRQL as the harness simulates them (single-threaded replay:
 * the lock records its holder and checks for recursion and IRQL misuse). */
void KeInitializeSpinLock(KSPIN_LOCK *SpinLock);
void KeAcquireSpinLock(KSPIN_LOCK *SpinLock, KIRQL *OldIrql);
void KeReleaseSpinLock(KSPIN_LOCK *SpinLock, KIRQL NewIrql);
KIRQL KeGetCurrentIrql(void);

/* ---- shared D3DDDI types ---------------------------------------------------- */
typedef enum _D3DDDI_FLIPINTERVAL_TYPE {
  D3DDDI_FLIPINTERVAL_IMMEDIATE = 0,
  D3DDDI_FLIPINTERVAL_ONE = 1,
  D3DDDI_FLIPINTERVAL_TWO = 2,
  D3DDDI_FLIPINTERVAL_THREE = 3,
  D3DDDI_FLIPINTERVAL_FOUR = 4,
  D3DDDI_FLIPINTERVAL_IMMEDIATE_ALLOW_TEARING = 5,
} D3DDDI_FLIPINTERVAL_TYPE;

typedef struct _D3DDDI_PATCHLOCATIONLIST {
  UINT AllocationIndex;
  union {
    struct {
      UINT SlotId : 24;
      UINT Reserved : 8;
    };
    UINT Value;
  };
  UINT DriverId;
  UINT AllocationOffset;
  UINT PatchOffset;
  UINT SplitOffset;
} D3DDDI_PATCHLOCATIONLIST;

typedef struct _RECT {
  LONG left;
  LONG top;
  LONG right;
  LONG bottom;
} RECT, *PRECT;

#define D3DDDI_MAX_BROADCAST_CONTEXT 64

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

/* The WDDM 2.0 view of the same bits (FlagsWddm2). */
typedef struct _DXGK_ALLOCATIONINFOFLAGS_WDDM2_0 {
  union {
    struct {
      UINT CpuVisible : 1;
      UINT PermanentSysMem : 1;
      UINT Cached : 1;
      UINT Protected : 1;
      UINT ExistingSysMem : 1;
      UINT ExistingKernelSysMem : 1;
      UINT FromEndOfSegment : 1;
      UINT DisableLargePageMapping : 1;
      UINT Overlay : 1;
      UINT Capture : 1;
      UINT CreateInVpr : 1;
      UINT Reserved00 : 1;
      UINT Reserved01 : 1;
      UINT MapApertureCpuVisible : 1;
      UINT HistoryBuffer : 1;
      UINT AccessedPhysically : 1;
      UINT ExplicitResidencyNotification : 1;
      UINT HardwareProtected : 1;
      UINT CpuVisibleOnDemand : 1;
      UINT Reserved : 13;
    };
    UINT Value;
  };
} DXGK_ALLOCATIONINFOFLAGS_WDDM2_0;

typedef struct _DXGK_ALLOCATIONINFOFLAGS2 {
  union {
    struct {
      UINT ShareBackingStoreWithKmd : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGK_ALLOCATIONINFOFLAGS2;

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

typedef struct _DXGK_SEGMENTBANKPREFERENCE {
  union {
    struct {
      UINT Bank0 : 7;
      UINT Direction0 : 1;
      UINT Bank1 : 7;
      UINT Direction1 : 1;
      UINT Bank2 : 7;
      UINT Direction2 : 1;
      UINT Bank3 : 7;
      UINT Direction3 : 1;
    };
    UINT Value;
  };
} DXGK_SEGMENTBANKPREFERENCE;

typedef struct _DXGK_ALLOCATIONUSAGEINFO1 {
  union {
    struct {
      UINT PrivateFormat : 1;
      UINT Swizzled : 1;
      UINT MipMap : 1;
      UINT Cube : 1;
      UINT Volume : 1;
      UINT Vertex : 1;
      UINT Index : 1;
      UINT Reserved : 25;
    };
    UINT Value;
  } Flags;
  union {
    UINT Format; /* a D3DDDIFORMAT */
    UINT PrivateFormat;
  };
  UINT SwizzledFormat;
  UINT ByteOffset;
  UINT Width;
  UINT Height;
  UINT Pitch;
  UINT Depth;
  UINT SlicePitch;
} DXGK_ALLOCATIONUSAGEINFO1;

typedef struct _DXGK_ALLOCATIONUSAGEHINT {
  UINT Version;
  DXGK_ALLOCATIONUSAGEINFO1 v1;
} DXGK_ALLOCATIONUSAGEHINT;

typedef struct _DXGK_ALLOCATIONINFO {
  PVOID pPrivateDriverData;   /* in: per-allocation UMD blob */
  UINT PrivateDriverDataSize; /* in */
  UINT Alignment;             /* out */
  SIZE_T Size;                /* out */
  SIZE_T PitchAlignedSize;    /* out */
  DXGK_SEGMENTBANKPREFERENCE HintedBank;   /* out (not modelled) */
  DXGK_SEGMENTPREFERENCE PreferredSegment; /* out */
  UINT SupportedReadSegmentSet;            /* out */
  UINT SupportedWriteSegmentSet;           /* out: bit0 = segment 1 */
  UINT EvictionSegmentSet;                 /* out */
  union {
    UINT MaximumRenamingListLength; /* out (not modelled) */
    UINT PhysicalAdapterIndex;      /* out (not modelled) */
  };
  HANDLE hAllocation; /* out: the KMD's allocation handle */
  union {
    DXGK_ALLOCATIONINFOFLAGS Flags; /* out */
    DXGK_ALLOCATIONINFOFLAGS_WDDM2_0 FlagsWddm2;
  };
  DXGK_ALLOCATIONUSAGEHINT *pAllocationUsageHint; /* out */
  UINT AllocationPriority;                        /* out */
  DXGK_ALLOCATIONINFOFLAGS2 Flags2;               /* out (not modelled) */
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

typedef struct _DXGK_DEVICEINFO {
  UINT DmaBufferSize;
  UINT DmaBufferSegmentSet;
  UINT DmaBufferPrivateDataSize;
  UINT AllocationListSize;
  UINT PatchLocationListSize;
  union {
    struct {
      UINT GuaranteedDmaBufferContract : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  } Flags;
} DXGK_DEVICEINFO;

typedef struct _DXGKARG_CREATEDEVICE {
  HANDLE hDevice; /* in: dxgkrnl's device handle; out: the KMD's */
  DXGK_CREATEDEVICEFLAGS Flags;
  DXGK_DEVICEINFO *pInfo; /* out: points at a zeroed DXGK_DEVICEINFO */
  ULONG Pasid;            /* in: 0 */
  HANDLE hKmdProcess;     /* in: NULL */
} DXGKARG_CREATEDEVICE;

typedef struct _DXGK_CREATECONTEXTFLAGS {
  union {
    struct {
      UINT SystemContext : 1;
      UINT GdiContext : 1;
      UINT VirtualAddressing : 1;
      UINT SystemProtectedContext : 1;
      UINT HwQueueSupported : 1;
      UINT TestContext : 1;
      UINT Reserved : 26;
    };
    UINT Value;
  };
} DXGK_CREATECONTEXTFLAGS;

typedef struct _DXGK_CONTEXTINFO_CAPS {
  union {
    struct {
      UINT DriverManagesResidency : 1;
      UINT DisableGpuTimeout : 1;
      UINT SupportsStagingTimeout : 1;
      UINT Reserved : 29;
    };
    UINT Value;
  };
} DXGK_CONTEXTINFO_CAPS;

typedef struct _DXGK_CONTEXTINFO {
  UINT DmaBufferSize;
  UINT DmaBufferSegmentSet;
  UINT DmaBufferPrivateDataSize;
  UINT AllocationListSize;
  UINT PatchLocationListSize;
  UINT Reserved;
  DXGK_CONTEXTINFO_CAPS Caps;
} DXGK_CONTEXTINFO;

typedef struct _DXGKARG_CREATECONTEXT {
  HANDLE hContext; /* in: dxgkrnl's; out: the KMD's */
  UINT NodeOrdinal;
  UINT EngineAffinity;
  DXGK_CREATECONTEXTFLAGS Flags;
  PVOID pPrivateDriverData;
  UINT PrivateDriverDataSize;
  DXGK_CONTEXTINFO ContextInfo; /* out: read back, not enforced */
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
  const void *pCommand; /* harness-owned, CommandLength bytes (0) */
  UINT CommandLength;
  PVOID pDmaBuffer; /* harness-owned, DmaSize bytes; the driver advances it */
  UINT DmaSize;
  PVOID pDmaBufferPrivateData; /* harness-owned, DmaBufferPrivateDataSize bytes */
  UINT DmaBufferPrivateDataSize;
  DXGK_ALLOCATIONLIST *pAllocationList;
  UINT AllocationListSize;
  D3DDDI_PATCHLOCATIONLIST *pPatchLocationListIn; /* harness-owned, size 0 */
  UINT PatchLocationListInSize;
  D3DDDI_PATCHLOCATIONLIST *pPatchLocationListOut; /* harness-owned, size 0 */
  UINT PatchLocationListOutSize;
  UINT MultipassOffset;
  UINT DmaBufferSegmentId;
  PHYSICAL_ADDRESS DmaBufferPhysicalAddress;
} DXGKARG_RENDER;

typedef struct _DXGK_SUBMITCOMMANDFLAGS {
  union {
    struct {
      UINT Null : 1;
      UINT Paging : 1;
      UINT Present : 1;
      UINT RedirectedPresent : 1;
      UINT NullRendering : 1;
      UINT Flip : 1;
      UINT FlipWithNoWait : 1;
      UINT ContentProtection : 1;
      UINT VideoProcessing : 1;
      UINT Reserved : 23;
    };
    UINT Value;
  };
} DXGK_SUBMITCOMMANDFLAGS;

typedef struct _DXGKARG_SUBMITCOMMAND {
  union {
    HANDLE hDevice;
    HANDLE hContext;
  };
  UINT DmaBufferSegmentId;
  PHYSICAL_ADDRESS DmaBufferPhysicalAddress;
  UINT DmaBufferSize;
  UINT DmaBufferSubmissionStartOffset;
  UINT DmaBufferSubmissionEndOffset;
  PVOID pDmaBufferPrivateData;
  UINT DmaBufferPrivateDataSize;
  UINT DmaBufferPrivateDataSubmissionStartOffset;
  UINT DmaBufferPrivateDataSubmissionEndOffset;
  UINT SubmissionFenceId;
  D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
  D3DDDI_FLIPINTERVAL_TYPE FlipInterval;
  DXGK_SUBMITCOMMANDFLAGS Flags;
  UINT EngineOrdinal;
  D3DGPU_VIRTUAL_ADDRESS DmaBufferVirtualAddress;
  UINT NodeOrdinal;
} DXGKARG_SUBMITCOMMAND;

/* DxgkDdiPatch (not in the lifetrace table: declared, never called). */
typedef struct _DXGK_PATCHFLAGS {
  union {
    struct {
      UINT Paging : 1;
      UINT Present : 1;
      UINT RedirectedPresent : 1;
      UINT NullRendering : 1;
      UINT Reserved : 28;
    };
    UINT Value;
  };
} DXGK_PATCHFLAGS;

typedef struct _DXGKARG_PATCH {
  union {
    HANDLE hDevice;
    HANDLE hContext;
  };
  UINT DmaBufferSegmentId;
  PHYSICAL_ADDRESS DmaBufferPhysicalAddress;
  PVOID pDmaBuffer;
  UINT DmaBufferSize;
  UINT DmaBufferSubmissionStartOffset;
  UINT DmaBufferSubmissionEndOffset;
  PVOID pDmaBufferPrivateData;
  UINT DmaBufferPrivateDataSize;
  UINT DmaBufferPrivateDataSubmissionStartOffset;
  UINT DmaBufferPrivateDataSubmissionEndOffset;
  const DXGK_ALLOCATIONLIST *pAllocationList;
  UINT AllocationListSize;
  const D3DDDI_PATCHLOCATIONLIST *pPatchLocationList;
  UINT PatchLocationListSize;
  UINT PatchLocationListSubmissionStart;
  UINT PatchLocationListSubmissionLength;
  UINT SubmissionFenceId;
  DXGK_PATCHFLAGS Flags;
  UINT EngineOrdinal;
} DXGKARG_PATCH;

/* DxgkDdiPresent (not in the lifetrace table: declared, never called). */
typedef struct _DXGK_PRESENTFLAGS {
  union {
    struct {
      UINT Blt : 1;
      UINT ColorFill : 1;
      UINT Flip : 1;
      UINT FlipWithNoWait : 1;
      UINT SrcColorKey : 1;
      UINT DstColorKey : 1;
      UINT LinearToSrgb : 1;
      UINT Rotate : 1;
      UINT Reserved : 24;
    };
    UINT Value;
  };
} DXGK_PRESENTFLAGS;

typedef struct _DXGKARG_PRESENT {
  PVOID pDmaBuffer;
  UINT DmaSize;
  PVOID pDmaBufferPrivateData;
  UINT DmaBufferPrivateDataSize;
  DXGK_ALLOCATIONLIST *pAllocationList;
  UINT AllocationListSize;
  D3DDDI_PATCHLOCATIONLIST *pPatchLocationList;
  UINT PatchLocationListSize;
  RECT SrcRect;
  RECT DstRect;
  UINT SubRectCnt;
  const RECT *pDstSubRects;
  UINT Color;
  DXGK_PRESENTFLAGS Flags;
  D3DDDI_FLIPINTERVAL_TYPE FlipInterval;
  UINT MultipassOffset;
  UINT DmaBufferSegmentId;
  PHYSICAL_ADDRESS DmaBufferPhysicalAddress;
  HANDLE hContext;
} DXGKARG_PRESENT;

/* ---- Paging ------------------------------------------------------------------ */
typedef enum _DXGK_BUILDPAGINGBUFFER_OPERATION {
  DXGK_OPERATION_TRANSFER = 0,
  DXGK_OPERATION_FILL = 1,
  DXGK_OPERATION_DISCARD_CONTENT = 2,
  DXGK_OPERATION_READ_PHYSICAL = 3,
  DXGK_OPERATION_WRITE_PHYSICAL = 4,
  DXGK_OPERATION_MAP_APERTURE_SEGMENT = 5,
  DXGK_OPERATION_UNMAP_APERTURE_SEGMENT = 6,
  DXGK_OPERATION_SPECIAL_LOCK_TRANSFER = 7,
} DXGK_BUILDPAGINGBUFFER_OPERATION;

typedef struct _DXGK_TRANSFERFLAGS {
  union {
    struct {
      UINT Swizzle : 1;
      UINT Unswizzle : 1;
      UINT AllocationIsIdle : 1;
      UINT TransferStart : 1;
      UINT TransferEnd : 1;
      UINT Reserved : 27;
    };
    UINT Value;
  };
} DXGK_TRANSFERFLAGS;

typedef struct _DXGK_DISCARDCONTENTFLAGS {
  union {
    struct {
      UINT AllocationIsIdle : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGK_DISCARDCONTENTFLAGS;

typedef struct _DXGK_MAPAPERTUREFLAGS {
  union {
    struct {
      UINT CacheCoherent : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGK_MAPAPERTUREFLAGS;

typedef struct _DXGKARG_BUILDPAGINGBUFFER {
  PVOID pDmaBuffer; /* harness-owned, DmaSize bytes */
  UINT DmaSize;
  PVOID pDmaBufferPrivateData; /* harness-owned */
  UINT DmaBufferPrivateDataSize;
  DXGK_BUILDPAGINGBUFFER_OPERATION Operation;
  UINT MultipassOffset;
  union {
    struct {
      HANDLE hAllocation;
      UINT TransferOffset;
      SIZE_T TransferSize; /* 0 = eviction notice after TDR (content lost) */
      struct {
        UINT SegmentId; /* 0 = system memory (pMdl NULL in lifetrace) */
        union {
          LARGE_INTEGER SegmentAddress;
          PMDL pMdl;
        };
      } Source;
      struct {
        UINT SegmentId;
        union {
          LARGE_INTEGER SegmentAddress;
          PMDL pMdl;
        };
      } Destination;
      DXGK_TRANSFERFLAGS Flags;
      UINT MdlOffset;
    } Transfer;
    struct {
      HANDLE hAllocation;
      SIZE_T FillSize;
      UINT FillPattern;
      struct {
        UINT SegmentId;
        LARGE_INTEGER SegmentAddress;
      } Destination;
    } Fill;
    struct {
      HANDLE hAllocation;
      DXGK_DISCARDCONTENTFLAGS Flags;
      UINT SegmentId;
      PHYSICAL_ADDRESS SegmentAddress;
    } DiscardContent;
    struct {
      UINT SegmentId;
      PHYSICAL_ADDRESS PhysicalAddress;
    } ReadPhysical;
    struct {
      UINT SegmentId;
      PHYSICAL_ADDRESS PhysicalAddress;
    } WritePhysical;
    struct {
      HANDLE hDevice;
      HANDLE hAllocation;
      UINT SegmentId;
      SIZE_T OffsetInPages;
      SIZE_T NumberOfPages;
      PMDL pMdl;
      DXGK_MAPAPERTUREFLAGS Flags;
      ULONG MdlOffset;
    } MapApertureSegment;
    struct {
      HANDLE hDevice;
      HANDLE hAllocation;
      UINT SegmentId;
      SIZE_T OffsetInPages;
      SIZE_T NumberOfPages;
      PHYSICAL_ADDRESS DummyPage;
    } UnmapApertureSegment;
    struct {
      HANDLE hAllocation;
      UINT TransferOffset;
      SIZE_T TransferSize;
      struct {
        UINT SegmentId;
        union {
          LARGE_INTEGER SegmentAddress;
          PMDL pMdl;
        };
      } Source;
      struct {
        UINT SegmentId;
        union {
          LARGE_INTEGER SegmentAddress;
          PMDL pMdl;
        };
      } Destination;
      DXGK_TRANSFERFLAGS Flags;
      UINT SwizzlingRangeId;
      UINT SwizzlingRangeData;
    } SpecialLockTransfer;
  };
  HANDLE hSystemContext;
  D3DGPU_VIRTUAL_ADDRESS DmaBufferGpuVirtualAddress;
  UINT DmaBufferWriteOffset;
} DXGKARG_BUILDPAGINGBUFFER;

/* ---- Scanout ----------------------------------------------------------------- */
typedef struct _DXGK_SETVIDPNSOURCEADDRESS_FLAGS {
  union {
    struct {
      UINT ModeChange : 1;
      UINT FlipImmediate : 1;
      UINT FlipOnNextVSync : 1;
      UINT FlipStereo : 1;
      UINT FlipStereoTemporaryMono : 1;
      UINT FlipStereoPreferRight : 1;
      UINT SharedPrimaryTransition : 1;
      UINT IndependentFlipExclusive : 1;
      UINT MoveFlip : 1;
      UINT Reserved : 23;
    };
    UINT Value;
  };
} DXGK_SETVIDPNSOURCEADDRESS_FLAGS;

typedef struct _DXGKARG_SETVIDPNSOURCEADDRESS {
  D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
  UINT PrimarySegment;
  PHYSICAL_ADDRESS PrimaryAddress;
  HANDLE hAllocation; /* NULL = blank */
  UINT ContextCount;
  HANDLE Context[1 + D3DDDI_MAX_BROADCAST_CONTEXT];
  DXGK_SETVIDPNSOURCEADDRESS_FLAGS Flags;
  UINT Duration;
} DXGKARG_SETVIDPNSOURCEADDRESS;

/* ---- CPU lock ---------------------------------------------------------------- */
typedef struct _DXGK_LOCKFLAGS {
  union {
    struct {
      UINT ReadOnly : 1;
      UINT WriteOnly : 1;
      UINT DonotWait : 1;
      UINT IgnoreSync : 1;
      UINT LockEntire : 1;
      UINT DonotEvict : 1;
      UINT AcquireAperture : 1;
      UINT Discard : 1;
      UINT NoExistingReference : 1;
      UINT UseAlternateVA : 1;
      UINT IgnoreReadSync : 1;
      UINT Reserved : 21;
    };
    UINT Value;
  };
} DXGK_LOCKFLAGS;

typedef struct _DXGKARG_LOCK {
  HANDLE hAllocation;
  UINT SegmentId;
  PHYSICAL_ADDRESS SegmentAddress;
  UINT NumPages;       /* 0: the whole allocation */
  const UINT *pPages;  /* NULL */
  PVOID pData;         /* out */
  DXGK_LOCKFLAGS Flags;
  D3DGPU_VIRTUAL_ADDRESS GpuVirtualAddress; /* 0 */
} DXGKARG_LOCK;

typedef struct _DXGKARG_UNLOCK {
  HANDLE hAllocation;
} DXGKARG_UNLOCK;

/* ---- Callback arguments ------------------------------------------------------ */
typedef enum _DXGK_HANDLE_TYPE {
  DXGK_HANDLE_ALLOCATION = 1,
  DXGK_HANDLE_RESOURCE = 2,
  DXGK_HANDLE_SYNCOBJECT = 3,
} DXGK_HANDLE_TYPE;

typedef struct _DXGKCB_GETHANDLEDATAFLAGS {
  union {
    struct {
      UINT DeviceSpecific : 1;
      UINT Reserved : 31;
    };
    UINT Value;
  };
} DXGKCB_GETHANDLEDATAFLAGS;

typedef struct _DXGKARGCB_GETHANDLEDATA {
  D3DKMT_HANDLE hObject;
  DXGK_HANDLE_TYPE Type;
  DXGKCB_GETHANDLEDATAFLAGS Flags;
} DXGKARGCB_GETHANDLEDATA;

typedef struct _DXGKARGCB_ENUMHANDLECHILDREN {
  D3DKMT_HANDLE hObject; /* the resource */
  UINT Index;
} DXGKARGCB_ENUMHANDLECHILDREN;

typedef struct _DXGKARGCB_RELEASEHANDLEDATA {
  DXGKARGCB_GETHANDLEDATA ReleaseData;
  HANDLE hHandleData;
} DXGKARGCB_RELEASEHANDLEDATA;

typedef enum _DXGK_INTERRUPT_TYPE {
  DXGK_INTERRUPT_DMA_COMPLETED = 1,
  DXGK_INTERRUPT_DMA_PREEMPTED = 2,
  DXGK_INTERRUPT_CRTC_VSYNC = 3,
  DXGK_INTERRUPT_DMA_FAULTED = 4,
  DXGK_INTERRUPT_DISPLAYONLY_VSYNC = 5,
  DXGK_INTERRUPT_DISPLAYONLY_PRESENT_PROGRESS = 6,
  DXGK_INTERRUPT_CRTC_VSYNC_WITH_MULTIPLANE_OVERLAY = 7,
  DXGK_INTERRUPT_MICACAST_CHUNK_PROCESSING_COMPLETE = 8,
  DXGK_INTERRUPT_DMA_PAGE_FAULTED = 9,
} DXGK_INTERRUPT_TYPE;

typedef struct _DXGKCB_NOTIFY_INTERRUPT_DATA_FLAGS {
  union {
    struct {
      UINT ValidPhysicalAdapterMask : 1;
      UINT HsyncFlipCompletion : 1;
      UINT Reserved : 30;
    };
    UINT Value;
  };
} DXGKCB_NOTIFY_INTERRUPT_DATA_FLAGS;

typedef struct _DXGKARGCB_NOTIFY_INTERRUPT_DATA {
  DXGK_INTERRUPT_TYPE InterruptType;
  union {
    struct {
      UINT SubmissionFenceId;
      UINT NodeOrdinal;
      UINT EngineOrdinal;
    } DmaCompleted;
    struct {
      UINT PreemptionFenceId;
      UINT LastCompletedFenceId;
      UINT NodeOrdinal;
      UINT EngineOrdinal;
    } DmaPreempted;
    struct {
      UINT FaultedFenceId;
      NTSTATUS Status;
      UINT NodeOrdinal;
      UINT EngineOrdinal;
    } DmaFaulted;
    struct {
      D3DDDI_VIDEO_PRESENT_TARGET_ID VidPnTargetId;
      PHYSICAL_ADDRESS PhysicalAddress;
      UINT PhysicalAdapterMask;
    } CrtcVsync;
    struct {
      D3DDDI_VIDEO_PRESENT_TARGET_ID VidPnTargetId;
    } DisplayOnlyVsync;
    struct {
      UINT Reserved[16];
    } Reserved;
  };
  DXGKCB_NOTIFY_INTERRUPT_DATA_FLAGS Flags;
} DXGKARGCB_NOTIFY_INTERRUPT_DATA;

/* CM_RESOURCE_LIST as DxgkCbGetDeviceInformation reports it (empty in
 * lifetrace: the simulated adapter has no BARs or interrupt lines). */
typedef struct _CM_PARTIAL_RESOURCE_DESCRIPTOR {
  UCHAR Type;
  UCHAR ShareDisposition;
  USHORT Flags;
  union {
    struct {
      PHYSICAL_ADDRESS Start;
      ULONG Length;
    } Generic, Port, Memory;
    struct {
      ULONG Level;
      ULONG Vector;
      ULONG_PTR Affinity;
    } Interrupt;
    struct {
      ULONG Data[3];
    } DeviceSpecificData;
  } u;
} CM_PARTIAL_RESOURCE_DESCRIPTOR, *PCM_PARTIAL_RESOURCE_DESCRIPTOR;

typedef struct _CM_PARTIAL_RESOURCE_LIST {
  USHORT Version;
  USHORT Revision;
  ULONG Count;
  CM_PARTIAL_RESOURCE_DESCRIPTOR PartialDescriptors[1];
} CM_PARTIAL_RESOURCE_LIST;

typedef struct _CM_FULL_RESOURCE_DESCRIPTOR {
  ULONG InterfaceType;
  ULONG BusNumber;
  CM_PARTIAL_RESOURCE_LIST PartialResourceList;
} CM_FULL_RESOURCE_DESCRIPTOR;

typedef struct _CM_RESOURCE_LIST {
  ULONG Count;
  CM_FULL_RESOURCE_DESCRIPTOR List[1];
} CM_RESOURCE_LIST, *PCM_RESOURCE_LIST;

typedef enum _DOCKING_STATE {
  DockStateUnsupported = 0,
  DockStateUnDocked = 1,
  DockStateDocked = 2,
  DockStateUnknown = 3,
} DOCKING_STATE;

typedef struct _DXGK_DEVICE_INFO {
  PVOID MiniportDeviceContext;
  PDEVICE_OBJECT PhysicalDeviceObject;
  UNICODE_STRING DeviceRegistryPath;
  PCM_RESOURCE_LIST TranslatedResourceList;
  LARGE_INTEGER SystemMemorySize;
  PHYSICAL_ADDRESS HighestPhysicalAddress;
  PHYSICAL_ADDRESS AgpApertureBase;
  SIZE_T AgpApertureSize;
  DOCKING_STATE DockingState;
} DXGK_DEVICE_INFO, *PDXGK_DEVICE_INFO;

/* Argument structures of callbacks lifetrace does not simulate: declared
 * incomplete, so a driver that fills one fails to compile naming it, and a
 * driver that only passes a pointer gets the callback's finding at run time. */
typedef struct _DXGK_CHILD_STATUS DXGK_CHILD_STATUS, *PDXGK_CHILD_STATUS;
typedef struct _INTERFACE INTERFACE, *PINTERFACE;
typedef struct _PCI_DEVICE_PRESENCE_PARAMETERS *PPCI_DEVICE_PRESENCE_PARAMETERS;
typedef struct _DXGK_DISPLAY_INFORMATION DXGK_DISPLAY_INFORMATION, *PDXGK_DISPLAY_INFORMATION;
typedef struct _DXGK_VIDPN_INTERFACE DXGK_VIDPN_INTERFACE;
typedef struct _DXGK_MONITOR_INTERFACE DXGK_MONITOR_INTERFACE;
typedef struct _DXGKARGCB_GETCAPTUREADDRESS DXGKARGCB_GETCAPTUREADDRESS;
typedef struct _DXGKARGCB_CREATECONTEXTALLOCATION DXGKARGCB_CREATECONTEXTALLOCATION;
typedef struct _DXGKARGCB_MAPCONTEXTALLOCATION DXGKARGCB_MAPCONTEXTALLOCATION;
typedef struct _DXGKARGCB_UPDATECONTEXTALLOCATION DXGKARGCB_UPDATECONTEXTALLOCATION;
typedef struct _DXGKARGCB_RESERVEGPUVIRTUALADDRESSRANGE DXGKARGCB_RESERVEGPUVIRTUALADDRESSRANGE;
typedef struct _DXGKARGCB_INVALIDATEHWCONTEXT DXGKARGCB_INVALIDATEHWCONTEXT;
typedef struct _DXGKARGCB_PROTECTEDSESSIONSTATUS DXGKARGCB_PROTECTEDSESSIONSTATUS;
typedef struct _DXGKARGCB_ALLOCATECONTIGUOUSMEMORY DXGKARGCB_ALLOCATECONTIGUOUSMEMORY;
typedef struct _DXGKARGCB_FREECONTIGUOUSMEMORY DXGKARGCB_FREECONTIGUOUSMEMORY;
typedef struct _DXGKARGCB_ALLOCATEPAGESFORMDL DXGKARGCB_ALLOCATEPAGESFORMDL;
typedef struct _DXGKARGCB_FREEPAGESFROMMDL DXGKARGCB_FREEPAGESFROMMDL;
typedef struct _DXGKARGCB_PINFRAMEBUFFERFORSAVE DXGKARGCB_PINFRAMEBUFFERFORSAVE;
typedef struct _DXGKARGCB_UNPINFRAMEBUFFERFORSAVE DXGKARGCB_UNPINFRAMEBUFFERFORSAVE;
typedef struct _DXGKARGCB_MAPFRAMEBUFFERPOINTER DXGKARGCB_MAPFRAMEBUFFERPOINTER;
typedef struct _DXGKARGCB_UNMAPFRAMEBUFFERPOINTER DXGKARGCB_UNMAPFRAMEBUFFERPOINTER;
typedef struct _DXGKARGCB_MAPMDLTOIOMMU DXGKARGCB_MAPMDLTOIOMMU;
typedef struct _DXGKARGCB_UNMAPMDLFROMIOMMU DXGKARGCB_UNMAPMDLFROMIOMMU;
typedef struct _DXGK_DIAGNOSTIC_HEADER DXGK_DIAGNOSTIC_HEADER, *PDXGK_DIAGNOSTIC_HEADER;
typedef struct _DXGKARGCB_SIGNALEVENT DXGKARGCB_SIGNALEVENT;
typedef struct _DXGKARGCB_ISFEATUREENABLED DXGKARGCB_ISFEATUREENABLED;
typedef struct _DXGK_SEGMENTMEMORYSTATE DXGK_SEGMENTMEMORYSTATE;
typedef struct _DXGK_DISPLAY_OWNERSHIP_FLAGS DXGK_DISPLAY_OWNERSHIP_FLAGS;

typedef enum _MEMORY_CACHING_TYPE {
  MmNonCached = 0,
  MmCached = 1,
  MmWriteCombined = 2,
} MEMORY_CACHING_TYPE;
typedef enum _DXGK_SERVICES { DxgkServicesAgp, DxgkServicesDebugReport, DxgkServicesTimedOperation,
                              DxgkServicesSPB, DxgkServicesBDD, DxgkServicesFirmwareTable,
                              DxgkServicesIDD, DxgkServicesPowerManagement } DXGK_SERVICES;
typedef UINT DXGK_VIDPN_INTERFACE_VERSION;
typedef UINT DXGK_MONITOR_INTERFACE_VERSION;
typedef HANDLE D3DKMDT_HVIDPN;

typedef BOOLEAN (*PKSYNCHRONIZE_ROUTINE)(PVOID SynchronizeContext);
typedef NTSTATUS (*DXGKDDI_PROTECTED_CALLBACK)(const PVOID MiniportDeviceContext,
                                               const PVOID ProtectedCallbackContext,
                                               const NTSTATUS ProtectionStatus);

/* ---- DXGKRNL_INTERFACE --------------------------------------------------------- */
/* The DxgkCb* function types, in dispmprt.h / d3dkmddi.h spellings. */
typedef NTSTATUS DXGKCB_EVAL_ACPI_METHOD(HANDLE DeviceHandle, ULONG DeviceUid, PVOID InputBuffer,
                                         ULONG InputBufferSize, PVOID OutputBuffer,
                                         ULONG OutputBufferSize);
typedef NTSTATUS DXGKCB_GET_DEVICE_INFORMATION(HANDLE DeviceHandle, PDXGK_DEVICE_INFO DeviceInfo);
typedef NTSTATUS DXGKCB_INDICATE_CHILD_STATUS(HANDLE DeviceHandle, PDXGK_CHILD_STATUS ChildStatus);
typedef NTSTATUS DXGKCB_MAP_MEMORY(HANDLE DeviceHandle, PHYSICAL_ADDRESS TranslatedAddress,
                                   ULONG Length, BOOLEAN InIoSpace, BOOLEAN MapToUserMode,
                                   MEMORY_CACHING_TYPE CacheType, PVOID *VirtualAddress);
typedef BOOLEAN DXGKCB_QUEUE_DPC(HANDLE DeviceHandle);
typedef NTSTATUS DXGKCB_QUERY_SERVICES(HANDLE DeviceHandle, DXGK_SERVICES ServicesType,
                                       PINTERFACE Interface);
typedef NTSTATUS DXGKCB_READ_DEVICE_SPACE(HANDLE DeviceHandle, ULONG DataType, PVOID Buffer,
                                          ULONG Offset, ULONG Length, ULONG *BytesRead);
typedef NTSTATUS DXGKCB_SYNCHRONIZE_EXECUTION(HANDLE DeviceHandle,
                                              PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                                              PVOID Context, ULONG MessageNumber,
                                              PBOOLEAN ReturnValue);
typedef NTSTATUS DXGKCB_UNMAP_MEMORY(HANDLE DeviceHandle, PVOID VirtualAddress);
typedef NTSTATUS DXGKCB_WRITE_DEVICE_SPACE(HANDLE DeviceHandle, ULONG DataType, PVOID Buffer,
                                           ULONG Offset, ULONG Length, ULONG *BytesWritten);
typedef NTSTATUS DXGKCB_IS_DEVICE_PRESENT(HANDLE DeviceHandle,
                                          PPCI_DEVICE_PRESENCE_PARAMETERS PresenceParameters,
                                          PBOOLEAN DevicePresent);
typedef PVOID DXGKCB_GETHANDLEDATA(const DXGKARGCB_GETHANDLEDATA *pData);
typedef D3DKMT_HANDLE DXGKCB_GETHANDLEPARENT(D3DKMT_HANDLE hAllocation);
typedef D3DKMT_HANDLE DXGKCB_ENUMHANDLECHILDREN(const DXGKARGCB_ENUMHANDLECHILDREN *pData);
typedef void DXGKCB_NOTIFY_INTERRUPT(const HANDLE hAdapter,
                                     const DXGKARGCB_NOTIFY_INTERRUPT_DATA *pData);
typedef void DXGKCB_NOTIFY_DPC(const HANDLE hAdapter);
typedef NTSTATUS DXGKCB_QUERYVIDPNINTERFACE(const D3DKMDT_HVIDPN hVidPn,
                                            const DXGK_VIDPN_INTERFACE_VERSION Version,
                                            const DXGK_VIDPN_INTERFACE **ppInterface);
typedef NTSTATUS DXGKCB_QUERYMONITORINTERFACE(const HANDLE hAdapter,
                                              const DXGK_MONITOR_INTERFACE_VERSION Version,
                                              const DXGK_MONITOR_INTERFACE **ppInterface);
typedef NTSTATUS DXGKCB_GETCAPTUREADDRESS(DXGKARGCB_GETCAPTUREADDRESS *pData);
typedef void DXGKCB_LOG_ETW_EVENT(const LPCGUID EventGuid, UCHAR Type, USHORT EventBufferSize,
                                  PVOID EventBuffer);
typedef NTSTATUS DXGKCB_EXCLUDE_ADAPTER_ACCESS(HANDLE DeviceHandle, ULONG Attributes,
                                               DXGKDDI_PROTECTED_CALLBACK DxgkProtectedCallback,
                                               PVOID ProtectedCallbackContext);
typedef NTSTATUS DXGKCB_CREATECONTEXTALLOCATION(DXGKARGCB_CREATECONTEXTALLOCATION *pData);
typedef NTSTATUS DXGKCB_DESTROYCONTEXTALLOCATION(const HANDLE hAdapter, const HANDLE hAllocation);
typedef NTSTATUS DXGKCB_SETPOWERCOMPONENTACTIVE(const HANDLE hAdapter, UINT ComponentIndex);
typedef NTSTATUS DXGKCB_SETPOWERCOMPONENTIDLE(const HANDLE hAdapter, UINT ComponentIndex);
typedef NTSTATUS DXGKCB_ACQUIRE_POST_DISPLAY_OWNERSHIP(HANDLE DeviceHandle,
                                                       PDXGK_DISPLAY_INFORMATION DisplayInfo);
typedef NTSTATUS DXGKCB_POWERRUNTIMECONTROLREQUEST(const HANDLE hAdapter, LPCGUID PowerControlCode,
                                                   PVOID InBuffer, SIZE_T InBufferSize,
                                                   PVOID OutBuffer, SIZE_T OutBufferSize,
                                                   PSIZE_T BytesReturned);
typedef NTSTATUS DXGKCB_SETPOWERCOMPONENTLATENCY(const HANDLE hAdapter, UINT ComponentIndex,
                                                 ULONGLONG Latency);
typedef NTSTATUS DXGKCB_SETPOWERCOMPONENTRESIDENCY(const HANDLE hAdapter, UINT ComponentIndex,
                                                   ULONGLONG Residency);
typedef void DXGKCB_COMPLETEFSTATETRANSITION(const HANDLE hAdapter, UINT ComponentIndex);
typedef void DXGKCB_COMPLETEPSTATETRANSITION(const HANDLE hAdapter, UINT ComponentIndex,
                                             UINT CompletedPState);
typedef D3DGPU_VIRTUAL_ADDRESS DXGKCB_MAPCONTEXTALLOCATION(
    const HANDLE hAdapter, const DXGKARGCB_MAPCONTEXTALLOCATION *pData);
typedef NTSTATUS DXGKCB_UPDATECONTEXTALLOCATION(const HANDLE hAdapter,
                                                const DXGKARGCB_UPDATECONTEXTALLOCATION *pData);
typedef NTSTATUS DXGKCB_RESERVEGPUVIRTUALADDRESSRANGE(
    const HANDLE hAdapter, DXGKARGCB_RESERVEGPUVIRTUALADDRESSRANGE *pData);
typedef PVOID DXGKCB_ACQUIREHANDLEDATA(const DXGKARGCB_GETHANDLEDATA *pData,
                                       DXGKARGCB_RELEASEHANDLEDATA *pReleaseData);
typedef void DXGKCB_RELEASEHANDLEDATA(DXGKARGCB_RELEASEHANDLEDATA ReleaseData);
typedef void DXGKCB_HARDWARECONTENTPROTECTIONTEARDOWN(const HANDLE hAdapter, UINT Flags);
typedef void DXGKCB_MULTIPLANEOVERLAYDISABLED(const HANDLE hAdapter, UINT VidPnSourceId);
typedef NTSTATUS DXGKCB_MITIGATEDRANGEUPDATE(const HANDLE hAdapter, ULONG VirtualFunctionIndex);
typedef void DXGKCB_INVALIDATEHWCONTEXT(const DXGKARGCB_INVALIDATEHWCONTEXT *pData);
typedef NTSTATUS DXGKCB_INDICATE_CONNECTOR_CHANGE(const HANDLE hAdapter);
typedef void DXGKCB_UNBLOCKUEFIFRAMEBUFFERRANGES(const HANDLE hAdapter,
                                                 const DXGK_SEGMENTMEMORYSTATE *pSegmentMemoryState);
typedef NTSTATUS DXGKCB_ACQUIRE_POST_DISPLAY_OWNERSHIP2(HANDLE DeviceHandle,
                                                        PDXGK_DISPLAY_INFORMATION DisplayInfo,
                                                        DXGK_DISPLAY_OWNERSHIP_FLAGS *Flags);
typedef void DXGKCB_SETPROTECTEDSESSIONSTATUS(const DXGKARGCB_PROTECTEDSESSIONSTATUS *pData);
typedef NTSTATUS DXGKCB_ALLOCATECONTIGUOUSMEMORY(const HANDLE hAdapter,
                                                 DXGKARGCB_ALLOCATECONTIGUOUSMEMORY *pData);
typedef NTSTATUS DXGKCB_FREECONTIGUOUSMEMORY(const HANDLE hAdapter,
                                             DXGKARGCB_FREECONTIGUOUSMEMORY *pData);
typedef NTSTATUS DXGKCB_ALLOCATEPAGESFORMDL(const HANDLE hAdapter,
                                            DXGKARGCB_ALLOCATEPAGESFORMDL *pData);
typedef NTSTATUS DXGKCB_FREEPAGESFROMMDL(const HANDLE hAdapter, DXGKARGCB_FREEPAGESFROMMDL *pData);
typedef NTSTATUS DXGKCB_PINFRAMEBUFFERFORSAVE(const HANDLE hAdapter,
                                              DXGKARGCB_PINFRAMEBUFFERFORSAVE *pData);
typedef NTSTATUS DXGKCB_UNPINFRAMEBUFFERFORSAVE(const HANDLE hAdapter,
                                                DXGKARGCB_UNPINFRAMEBUFFERFORSAVE *pData);
typedef NTSTATUS DXGKCB_MAPFRAMEBUFFERPOINTER(const HANDLE hAdapter,
                                              DXGKARGCB_MAPFRAMEBUFFERPOINTER *pData);
typedef NTSTATUS DXGKCB_UNMAPFRAMEBUFFERPOINTER(const HANDLE hAdapter,
                                                DXGKARGCB_UNMAPFRAMEBUFFERPOINTER *pData);
typedef NTSTATUS DXGKCB_MAPMDLTOIOMMU(const HANDLE hAdapter, DXGKARGCB_MAPMDLTOIOMMU *pData);
typedef void DXGKCB_UNMAPMDLFROMIOMMU(const HANDLE hAdapter, DXGKARGCB_UNMAPMDLFROMIOMMU *pData);
typedef NTSTATUS DXGKCB_REPORT_DIAGNOSTIC(HANDLE DeviceHandle, PDXGK_DIAGNOSTIC_HEADER pDiagnostic);
typedef NTSTATUS DXGKCB_SIGNALEVENT(const HANDLE hAdapter, DXGKARGCB_SIGNALEVENT *pData);
typedef NTSTATUS DXGKCB_ISFEATUREENABLED(HANDLE DeviceHandle, DXGKARGCB_ISFEATUREENABLED *pData);

/* The interface DxgkDdiStartDevice receives: every member in WDK order, then
 * lifetrace's own. None is NULL: each is simulated, or records a
 * miniport-bad-status finding naming itself and returns a failure
 * (docs/bring-your-own-driver.md has the table). */
typedef struct _DXGKRNL_INTERFACE {
  ULONG Size;
  ULONG Version;
  HANDLE DeviceHandle; /* dxgkrnl's adapter handle, first argument of callbacks */
  DXGKCB_EVAL_ACPI_METHOD *DxgkCbEvalAcpiMethod;
  DXGKCB_GET_DEVICE_INFORMATION *DxgkCbGetDeviceInformation;
  DXGKCB_INDICATE_CHILD_STATUS *DxgkCbIndicateChildStatus;
  DXGKCB_MAP_MEMORY *DxgkCbMapMemory;
  DXGKCB_QUEUE_DPC *DxgkCbQueueDpc;
  DXGKCB_QUERY_SERVICES *DxgkCbQueryServices;
  DXGKCB_READ_DEVICE_SPACE *DxgkCbReadDeviceSpace;
  DXGKCB_SYNCHRONIZE_EXECUTION *DxgkCbSynchronizeExecution;
  DXGKCB_UNMAP_MEMORY *DxgkCbUnmapMemory;
  DXGKCB_WRITE_DEVICE_SPACE *DxgkCbWriteDeviceSpace;
  DXGKCB_IS_DEVICE_PRESENT *DxgkCbIsDevicePresent;
  /* KMD private data behind a kernel handle (adapter hAllocation, resource);
   * NULL for an invalid handle and for Flags.DeviceSpecific. */
  DXGKCB_GETHANDLEDATA *DxgkCbGetHandleData;
  /* Kernel handle of an allocation's resource, or 0. */
  DXGKCB_GETHANDLEPARENT *DxgkCbGetHandleParent;
  /* Kernel handle of the Index-th allocation of a resource (0 past the end). */
  DXGKCB_ENUMHANDLECHILDREN *DxgkCbEnumHandleChildren;
  DXGKCB_NOTIFY_INTERRUPT *DxgkCbNotifyInterrupt;
  DXGKCB_NOTIFY_DPC *DxgkCbNotifyDpc;
  DXGKCB_QUERYVIDPNINTERFACE *DxgkCbQueryVidPnInterface;
  DXGKCB_QUERYMONITORINTERFACE *DxgkCbQueryMonitorInterface;
  DXGKCB_GETCAPTUREADDRESS *DxgkCbGetCaptureAddress;
  DXGKCB_LOG_ETW_EVENT *DxgkCbLogEtwEvent;
  DXGKCB_EXCLUDE_ADAPTER_ACCESS *DxgkCbExcludeAdapterAccess;
  DXGKCB_CREATECONTEXTALLOCATION *DxgkCbCreateContextAllocation;
  DXGKCB_DESTROYCONTEXTALLOCATION *DxgkCbDestroyContextAllocation;
  DXGKCB_SETPOWERCOMPONENTACTIVE *DxgkCbSetPowerComponentActive;
  DXGKCB_SETPOWERCOMPONENTIDLE *DxgkCbSetPowerComponentIdle;
  DXGKCB_ACQUIRE_POST_DISPLAY_OWNERSHIP *DxgkCbAcquirePostDisplayOwnership;
  DXGKCB_POWERRUNTIMECONTROLREQUEST *DxgkCbPowerRuntimeControlRequest;
  DXGKCB_SETPOWERCOMPONENTLATENCY *DxgkCbSetPowerComponentLatency;
  DXGKCB_SETPOWERCOMPONENTRESIDENCY *DxgkCbSetPowerComponentResidency;
  DXGKCB_COMPLETEFSTATETRANSITION *DxgkCbCompleteFStateTransition;
  DXGKCB_COMPLETEPSTATETRANSITION *DxgkCbCompletePStateTransition;
  DXGKCB_MAPCONTEXTALLOCATION *DxgkCbMapContextAllocation;
  DXGKCB_UPDATECONTEXTALLOCATION *DxgkCbUpdateContextAllocation;
  DXGKCB_RESERVEGPUVIRTUALADDRESSRANGE *DxgkCbReserveGpuVirtualAddressRange;
  DXGKCB_ACQUIREHANDLEDATA *DxgkCbAcquireHandleData;
  DXGKCB_RELEASEHANDLEDATA *DxgkCbReleaseHandleData;
  DXGKCB_HARDWARECONTENTPROTECTIONTEARDOWN *DxgkCbHardwareContentProtectionTeardown;
  DXGKCB_MULTIPLANEOVERLAYDISABLED *DxgkCbMultiPlaneOverlayDisabled;
  DXGKCB_MITIGATEDRANGEUPDATE *DxgkCbMitigatedRangeUpdate;
  DXGKCB_INVALIDATEHWCONTEXT *DxgkCbInvalidateHwContext;
  DXGKCB_INDICATE_CONNECTOR_CHANGE *DxgkCbIndicateConnectorChange;
  DXGKCB_UNBLOCKUEFIFRAMEBUFFERRANGES *DxgkCbUnblockUEFIFrameBufferRanges;
  DXGKCB_ACQUIRE_POST_DISPLAY_OWNERSHIP2 *DxgkCbAcquirePostDisplayOwnership2;
  DXGKCB_SETPROTECTEDSESSIONSTATUS *DxgkCbSetProtectedSessionStatus;
  DXGKCB_ALLOCATECONTIGUOUSMEMORY *DxgkCbAllocateContiguousMemory;
  DXGKCB_FREECONTIGUOUSMEMORY *DxgkCbFreeContiguousMemory;
  DXGKCB_ALLOCATEPAGESFORMDL *DxgkCbAllocatePagesForMdl;
  DXGKCB_FREEPAGESFROMMDL *DxgkCbFreePagesFromMdl;
  DXGKCB_PINFRAMEBUFFERFORSAVE *DxgkCbPinFrameBufferForSave;
  DXGKCB_UNPINFRAMEBUFFERFORSAVE *DxgkCbUnpinFrameBufferForSave;
  DXGKCB_MAPFRAMEBUFFERPOINTER *DxgkCbMapFrameBufferPointer;
  DXGKCB_UNMAPFRAMEBUFFERPOINTER *DxgkCbUnmapFrameBufferPointer;
  DXGKCB_MAPMDLTOIOMMU *DxgkCbMapMdlToIoMmu;
  DXGKCB_UNMAPMDLFROMIOMMU *DxgkCbUnmapMdlFromIoMmu;
  DXGKCB_REPORT_DIAGNOSTIC *DxgkCbReportDiagnostic;
  DXGKCB_SIGNALEVENT *DxgkCbSignalEvent;
  DXGKCB_ISFEATUREENABLED *DxgkCbIsFeatureEnabled;
  /* lifetrace: the highest fence the GPU has completed on a node (what a real
   * KMD reads from a fence register in its ISR). */
  UINT (*LtCbQueryCompletedFence)(HANDLE DeviceHandle, UINT NodeOrdinal);
  /* lifetrace: tell the harness which allocation the driver now believes a
   * VidPn source scans out (a real KMD programs a register). */
  void (*LtCbProgramScanout)(HANDLE DeviceHandle, UINT SourceId, UINT Segment,
                             PHYSICAL_ADDRESS Address, SIZE_T Size);
} DXGKRNL_INTERFACE, *PDXGKRNL_INTERFACE;

#ifdef __cplusplus
}
#endif
#endif
