/* lifetrace — reference miniport: the object model shared by the files of
 * drivers/reference/ (see docs/reference-driver.md).
 *
 * Every object lives in nonpaged pool under its own tag. The adapter owns
 * allocations and resources (adapter objects: nothing in them points at a
 * device, M5); a device owns its contexts and its bindings; a context owns the
 * DMA packets built or submitted on it. One adapter spin lock guards every
 * list and every field that the DPC, SubmitCommand or SetVidPnSourceAddress
 * can touch.
 */
#ifndef LT_REFDRV_INTERNAL_H
#define LT_REFDRV_INTERNAL_H

#include <stddef.h>

#include "lifetrace/miniport.h"

/* The reference miniport's table, for tests that drive it directly. */
const LT_MINIPORT *lt_reference_miniport(void);

/* ---- pool tags --------------------------------------------------------------
 * Built so that the tag reads left to right in memory order ("LtAl"), which is
 * how pool tools print it. */
#define RD_TAG(a, b, c, d) \
  ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
#define RD_TAG_ADAPTER RD_TAG('L', 't', 'A', 'd')
#define RD_TAG_DEVICE RD_TAG('L', 't', 'D', 'v')
#define RD_TAG_CONTEXT RD_TAG('L', 't', 'C', 'x')
#define RD_TAG_RESOURCE RD_TAG('L', 't', 'R', 's')
#define RD_TAG_ALLOCATION RD_TAG('L', 't', 'A', 'l')
#define RD_TAG_BINDING RD_TAG('L', 't', 'B', 'd')
#define RD_TAG_PRIVATE RD_TAG('L', 't', 'P', 'd')
#define RD_TAG_PACKET RD_TAG('L', 't', 'P', 'k')

/* Signatures (debug tripwires checked at DDI entry for long-lived objects). */
#define RD_SIG_ADAPTER RD_TAG('r', 'd', 'A', 'd')
#define RD_SIG_DEVICE RD_TAG('r', 'd', 'D', 'v')
#define RD_SIG_CONTEXT RD_TAG('r', 'd', 'C', 'x')
#define RD_SIG_DMA RD_TAG('r', 'd', 'D', 'm')
#define RD_SIG_LISTED RD_TAG('r', 'd', 'L', 's')

#define RD_MAX_SOURCES 16
#define RD_MAX_NODES 64
/* Upper bound for one UMD private-data blob the driver copies. */
#define RD_MAX_PRIVATE_DATA (64u * 1024u)
#define RD_PAGE_SIZE 4096u
/* D3DDDI_ALLOCATIONPRIORITY_NORMAL */
#define RD_PRIORITY_NORMAL 0x78000000u
/* Where Lock pretends the CPU aperture is mapped: a kernel-style address
 * that is never dereferenced by the driver (and faults if anyone does). */
#define RD_CPU_APERTURE_BASE ((ULONG_PTR)0xFFFFF70000000000ull)

/* ---- driver assertions ------------------------------------------------------
 * NT_ASSERT on a checked build: a failure breaks into the debugger, here it
 * aborts inside the DDI (the harness records a miniport crash). */
#ifdef LT_DEBUG
void lt__rd_assert_failed(const char *expr, const char *file, int line);
#define RD_ASSERT(e) ((e) ? (void)0 : lt__rd_assert_failed(#e, __FILE__, __LINE__))
#else
#define RD_ASSERT(e) ((void)0)
#endif
/* PAGED_CODE(): the routine runs at PASSIVE_LEVEL (or APC_LEVEL). */
#define RD_PAGED_CODE() RD_ASSERT(KeGetCurrentIrql() <= APC_LEVEL)

/* ---- doubly linked lists (LIST_ENTRY) --------------------------------------- */
typedef struct RD_LIST_ENTRY {
  struct RD_LIST_ENTRY *Flink;
  struct RD_LIST_ENTRY *Blink;
} RD_LIST_ENTRY;

#define RD_CONTAINING_RECORD(address, type, field) \
  ((type *)((char *)(address) - offsetof(type, field)))

static inline void RdInitializeListHead(RD_LIST_ENTRY *Head) {
  Head->Flink = Head->Blink = Head;
}
static inline BOOLEAN RdIsListEmpty(const RD_LIST_ENTRY *Head) { return Head->Flink == Head; }
static inline void RdInsertTailList(RD_LIST_ENTRY *Head, RD_LIST_ENTRY *Entry) {
  Entry->Flink = Head;
  Entry->Blink = Head->Blink;
  Head->Blink->Flink = Entry;
  Head->Blink = Entry;
}
static inline void RdRemoveEntryList(RD_LIST_ENTRY *Entry) {
  Entry->Blink->Flink = Entry->Flink;
  Entry->Flink->Blink = Entry->Blink;
  Entry->Flink = Entry->Blink = Entry;
}
static inline RD_LIST_ENTRY *RdRemoveHeadList(RD_LIST_ENTRY *Head) {
  RD_LIST_ENTRY *Entry = Head->Flink;
  RdRemoveEntryList(Entry);
  return Entry;
}
/* Unlinks Entry if it is on the list; compares addresses only, so a pointer
 * that is no longer on the list is never followed. Returns TRUE if found. */
BOOLEAN lt__rd_remove_if_listed(RD_LIST_ENTRY *Head, RD_LIST_ENTRY *Entry);
/* Unlinks Entry in O(1) if *Listed says it is on a list and both neighbours
 * point back at it; otherwise falls back to lt__rd_remove_if_listed. Only
 * the entry's own block is read before the check, and a freed block is
 * poisoned, so a stale pointer is never followed. */
BOOLEAN lt__rd_unlink_flagged(RD_LIST_ENTRY *Head, RD_LIST_ENTRY *Entry, ULONG *Listed);

/* ---- objects ---------------------------------------------------------------- */
typedef struct RD_ALLOCATION RD_ALLOCATION;

typedef struct RD_SOURCE {
  RD_ALLOCATION *pPrimary; /* current scanout (NULL = blank) */
  UINT Segment;
  PHYSICAL_ADDRESS Address;
} RD_SOURCE;

typedef struct RD_NODE {
  UINT CompletedFence; /* last fence read from the GPU */
  UINT ContextCount;
  RD_LIST_ENTRY BusyList; /* RD_CONTEXT.BusyLink: contexts with submitted packets, for the DPC */
} RD_NODE;

typedef struct RD_ADAPTER {
  ULONG Signature;
  DXGKRNL_INTERFACE Dxgk;
  KSPIN_LOCK Lock;
  RD_LIST_ENTRY DeviceList;     /* RD_DEVICE.AdapterLink */
  RD_LIST_ENTRY ContextList;    /* RD_CONTEXT.AdapterLink: every context, for the DPC */
  RD_LIST_ENTRY AllocationList; /* RD_ALLOCATION.AdapterLink */
  RD_LIST_ENTRY ResourceList;   /* RD_RESOURCE.AdapterLink */
  RD_SOURCE Sources[RD_MAX_SOURCES];
  RD_NODE Nodes[RD_MAX_NODES];
  ULONG64 NodesInUse; /* bit n: Nodes[n].ContextCount != 0, so the DPC visits only those */
  BOOLEAN InReset;       /* between ResetFromTimeout and RestartFromTimeout */
  ULONG EvictionNotices; /* TRANSFER with TransferSize 0 received */
  ULONG ResetCount;
} RD_ADAPTER;

typedef struct RD_DEVICE {
  ULONG Signature;
  RD_LIST_ENTRY AdapterLink;
  RD_ADAPTER *pAdapter;
  HANDLE hDxgkDevice;
  DXGK_CREATEDEVICEFLAGS Flags;
  RD_LIST_ENTRY ContextList; /* RD_CONTEXT.DeviceLink */
  RD_LIST_ENTRY BindingList; /* RD_BINDING.DeviceLink */
} RD_DEVICE;

typedef struct RD_CONTEXT {
  ULONG Signature;
  RD_LIST_ENTRY DeviceLink;
  RD_LIST_ENTRY AdapterLink;
  RD_DEVICE *pDevice;
  HANDLE hDxgkContext;
  UINT NodeOrdinal;
  RD_LIST_ENTRY BuiltList;   /* packets built by Render, not yet submitted */
  RD_LIST_ENTRY PendingList; /* submitted packets, in fence order */
  RD_LIST_ENTRY BusyLink;    /* on its node's BusyList while PendingList is not empty */
  BOOLEAN Busy;
  UINT LastSubmittedFence;
} RD_CONTEXT;

/* A resource: the UMD's resource-level blob and a count of its allocations
 * (the allocations point to it; it holds no pointer to them). */
typedef struct RD_RESOURCE {
  RD_LIST_ENTRY AdapterLink;
  ULONG Listed; /* RD_SIG_LISTED while on ResourceList; a freed block is poisoned */
  UINT cAllocations;
  PVOID pPrivateData; /* 'LtPd' copy of the resource-level blob, or NULL */
  UINT PrivateDataSize;
} RD_RESOURCE;

struct RD_ALLOCATION {
  RD_LIST_ENTRY AdapterLink;
  RD_RESOURCE *pResource; /* NULL for a device allocation */
  SIZE_T Size;
  UINT Alignment;
  UINT SegmentSet;
  DXGK_SEGMENTPREFERENCE Preferred;
  DXGK_ALLOCATIONINFOFLAGS Flags;
  PVOID pPrivateData; /* 'LtPd' copy of the per-allocation blob, or NULL */
  UINT PrivateDataSize;
  UINT cOpens;    /* device bindings */
  UINT cDmaRefs;  /* references from built or submitted DMA packets */
  UINT cLocks;    /* outstanding CPU locks */
  UINT ScanoutMask; /* VidPn sources that scan it out */
  UINT Segment;   /* 0 = not resident */
  PHYSICAL_ADDRESS SegmentAddress;
  BOOLEAN ApertureMapped;
  BOOLEAN ContentLost;
  UINT LastCompletedFence; /* written by the DPC on completion */
};

/* One device's binding of an allocation (hDeviceSpecificAllocation). */
typedef struct RD_BINDING {
  RD_LIST_ENTRY DeviceLink;
  RD_DEVICE *pDevice;
  RD_ALLOCATION *pAllocation; /* NULL once detached from a destroyed allocation */
  D3DKMT_HANDLE hKernel;
  BOOLEAN ReadOnly;
} RD_BINDING;

typedef struct RD_PACKET_REF {
  RD_ALLOCATION *pAllocation; /* NULL once the allocation was destroyed */
  BOOLEAN Write;
} RD_PACKET_REF;

/* A DMA packet as the driver tracks it from Render to completion. */
typedef struct RD_PACKET {
  RD_LIST_ENTRY Link; /* RD_CONTEXT.BuiltList or .PendingList */
  RD_CONTEXT *pContext;
  UINT FenceId;
  BOOLEAN Submitted;
  UINT NumRefs;
  RD_PACKET_REF aRefs[];
} RD_PACKET;

/* The per-allocation private data of the lifetrace UMD (what the simulated
 * runtime in harness/dxgkrnl_alloc.c sends): the size and
 * DXGK_ALLOCATIONINFOFLAGS bits the application asked for. Read with memcpy,
 * since the blob has no alignment guarantee. */
typedef struct RD_UMD_ALLOCATION {
  ULONGLONG Size;
  UINT Flags;
} RD_UMD_ALLOCATION;
#define RD_UMD_ALLOCATION_BYTES (sizeof(ULONGLONG) + sizeof(UINT))

/* The DMA buffer private data (LT_MINIPORT.DmaBufferPrivateDataSize bytes):
 * what Render leaves for SubmitCommand, which runs at DISPATCH_LEVEL and has
 * no allocation list. */
typedef struct RD_DMA_PRIVATE {
  ULONG Signature;     /* RD_SIG_DMA once Render built it */
  UINT NumAllocations;
  RD_PACKET *pPacket;  /* the packet holding the allocation pointers */
} RD_DMA_PRIVATE;

static inline KIRQL RdLockAdapter(RD_ADAPTER *pAdapter) {
  KIRQL OldIrql;
  KeAcquireSpinLock(&pAdapter->Lock, &OldIrql);
  return OldIrql;
}
static inline void RdUnlockAdapter(RD_ADAPTER *pAdapter, KIRQL OldIrql) {
  KeReleaseSpinLock(&pAdapter->Lock, OldIrql);
}

/* Fence a is at or before fence b (32-bit fences wrap). */
static inline BOOLEAN RdFenceReached(UINT a, UINT b) { return (LONG)(a - b) <= 0; }

/* ---- seeded bugs (refdrv_bugs.c) -------------------------------------------- */
enum rd_bug {
  RD_BUG_P1_HRESOURCE_DECIDES = 1,
  RD_BUG_P3_FIRST_ONLY = 2,
  RD_BUG_P2_ZERO_ALLOCATIONS = 3,
  RD_BUG_P5_RECREATE_RESOURCE = 4,
  RD_BUG_P6_OOM_FREES_RESOURCE = 5,
  RD_BUG_P7_PUBLISH_ON_FAILURE = 6,
  RD_BUG_P9_OPEN_NO_ROLLBACK = 7,
  RD_BUG_P11_DPC_AFTER_DESTROY = 8,
  RD_BUG_P13_STALE_SCANOUT = 9,
  RD_BUG_P19_RESOURCE_DOUBLE_RELEASE = 10,
  RD_BUG__MAX = 10
};

/* Named switches of the same option list that are not numbered (so "all",
 * the numbers 1-10 and the benchmarks keep their meaning). A mode is legal
 * behaviour; a variant is a seeded bug that is switched on by name only. */
enum rd_mode {
  RD_MODE_MOVE_RESOURCE = 0,      /* "move-resource": reallocate the resource object
                                     when its allocations change, return the new
                                     hResource (legal) */
  RD_VARIANT_MOVE_RESOURCE_FREED, /* "move-resource-freed": the same move, but hand
                                     back the old, freed object (seeded) */
  RD_VARIANT_RESOURCE_BLOB_LEAK,  /* "resource-blob-leak": adding allocations with a
                                     new resource blob drops the old one unfreed
                                     (seeded) */
  RD_MODE__COUNT
};

/* Whether seeded bug `bug` is switched on. */
BOOLEAN lt__rd_bug(int bug);
/* Whether a named mode or variant is switched on. */
BOOLEAN lt__rd_mode(int mode);
/* Parses a "bugs" option value and switches exactly those bugs on. */
NTSTATUS lt__rd_set_bugs(const char *Value);

/* ---- DDIs by file ----------------------------------------------------------- */
/* refdrv_device.c */
NTSTATUS lt__rd_create_device(HANDLE hAdapter, DXGKARG_CREATEDEVICE *pCreateDevice);
NTSTATUS lt__rd_destroy_device(HANDLE hDevice);
NTSTATUS lt__rd_create_context(HANDLE hDevice, DXGKARG_CREATECONTEXT *pCreateContext);
NTSTATUS lt__rd_destroy_context(HANDLE hContext);
/* Unlinks a device and everything it owns from the adapter and frees it. */
void lt__rd_device_teardown(RD_ADAPTER *pAdapter, RD_DEVICE *pDevice);

/* refdrv_alloc.c */
NTSTATUS lt__rd_create_allocation(HANDLE hAdapter, DXGKARG_CREATEALLOCATION *pCreate);
NTSTATUS lt__rd_destroy_allocation(HANDLE hAdapter, const DXGKARG_DESTROYALLOCATION *pDestroy);
/* Frees an allocation or resource left at adapter stop (lists already cut). */
void lt__rd_allocation_free(RD_ALLOCATION *pAllocation);
void lt__rd_resource_free(RD_RESOURCE *pResource);

/* refdrv_open.c */
NTSTATUS lt__rd_open_allocation(HANDLE hDevice, const DXGKARG_OPENALLOCATION *pOpen);
NTSTATUS lt__rd_close_allocation(HANDLE hDevice, const DXGKARG_CLOSEALLOCATION *pClose);
/* Detaches every binding of an allocation being destroyed (lock held). */
void lt__rd_detach_bindings_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation);

/* refdrv_dma.c */
NTSTATUS lt__rd_render(HANDLE hContext, DXGKARG_RENDER *pRender);
NTSTATUS lt__rd_submit_command(HANDLE hAdapter, const DXGKARG_SUBMITCOMMAND *pSubmit);
BOOLEAN lt__rd_interrupt_routine(HANDLE hAdapter, ULONG MessageNumber);
void lt__rd_dpc_routine(HANDLE hAdapter);
NTSTATUS lt__rd_reset_from_timeout(HANDLE hAdapter);
NTSTATUS lt__rd_restart_from_timeout(HANDLE hAdapter);
/* Drops (without completing) every packet of a context (lock held). */
void lt__rd_context_drop_packets_locked(RD_CONTEXT *pContext);
/* Removes an allocation from every packet that still names it (lock held). */
void lt__rd_unreference_dma_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation);

/* refdrv_memory.c */
NTSTATUS lt__rd_build_paging_buffer(HANDLE hAdapter, DXGKARG_BUILDPAGINGBUFFER *pArgs);
NTSTATUS lt__rd_set_vidpn_source_address(HANDLE hAdapter,
                                         const DXGKARG_SETVIDPNSOURCEADDRESS *pSet);
NTSTATUS lt__rd_lock(HANDLE hAdapter, DXGKARG_LOCK *pLock);
NTSTATUS lt__rd_unlock(HANDLE hAdapter, const DXGKARG_UNLOCK *pUnlock);
/* Clears every scanout pointer to an allocation (lock held); returns the mask
 * of sources cleared, to be blanked with RdProgramBlank after unlocking. */
UINT lt__rd_unassign_scanout_locked(RD_ADAPTER *pAdapter, RD_ALLOCATION *pAllocation);
void lt__rd_program_blank(RD_ADAPTER *pAdapter, UINT SourceMask);

#endif
