//
// wdkkmd: a test KMD written the way WDK drivers are (ntddk.h, d3dkmddi.h,
// SAL, WPP, NT_ASSERT, a DMA worker thread, a DPC, a timer), compiled
// against lifetrace's WDK stand-ins with no shim of its own. Its allocation
// code is C (wdkkmd.c); its DMA engine is C++ (wdkkmd_dma.cpp).
//
#pragma once

#include <ntddk.h>
#include <wdm.h>
#include <ntstrsafe.h>
#include <dispmprt.h>
#include <d3dkmddi.h>
#include <d3dkmthk.h>
#include <d3d10umddi.h>
#include <dxgiformat.h>

#define WDK_TAG_ADAPTER 'dAkW'
#define WDK_TAG_ALLOC   'lAkW'
#define WDK_TAG_BIND    'bBkW'
#define WDK_TAG_PACKET  'kPkW'
#define WDK_MAX_NODES   4

#include <pshpack1.h>
// What the UMD would send (packed, as such blobs often are).
typedef struct _WDK_UMD_HEADER {
    UCHAR  Version;
    UINT32 Format;          // a DXGI_FORMAT
} WDK_UMD_HEADER;
#include <poppack.h>
C_ASSERT(sizeof(WDK_UMD_HEADER) == 5);

typedef struct _WDK_ALLOCATION {
    SIZE_T  Size;
    LONG    Bindings;
    CHAR    Name[24];
    WCHAR   WideName[8];
} WDK_ALLOCATION, *PWDK_ALLOCATION;

typedef struct _WDK_PACKET {
    LIST_ENTRY Link;
    UINT       NodeOrdinal;
    UINT       FenceId;
    HANDLE     hContext;
} WDK_PACKET, *PWDK_PACKET;

typedef struct _WDK_ADAPTER {
    DXGKRNL_INTERFACE DxgkInterface;
    DXGK_DEVICE_INFO  DeviceInfo;
    KSPIN_LOCK        PacketLock;       // DISPATCH_LEVEL: Submit, DPC, worker
    LIST_ENTRY        Pending;
    UINT              CompletedFence[WDK_MAX_NODES];
    KEVENT            WorkEvent;        // DPC -> worker
    KEVENT            StopEvent;
    PKTHREAD          Worker;
    FAST_MUTEX        StatsMutex;
    ULONG             PacketsRetired;   // under StatsMutex
    KDPC              WatchdogDpc;
    KTIMER            WatchdogTimer;
    volatile LONG     WatchdogTicks;
    volatile LONG     Outstanding;      // packets not yet retired
    volatile LONG64   Submitted64;
    volatile LONG     LiveAllocations;
    BOOLEAN           BugAssert;        // NT_ASSERT a UMD contract the trace breaks
    BOOLEAN           BugAcpi;          // call an unsimulated callback
} WDK_ADAPTER, *PWDK_ADAPTER;

typedef struct _WDK_CONTEXT {
    PWDK_ADAPTER pAdapter;
    UINT         NodeOrdinal;
} WDK_CONTEXT, *PWDK_CONTEXT;

typedef struct _WDK_DEVICE {
    PWDK_ADAPTER pAdapter;
} WDK_DEVICE, *PWDK_DEVICE;

extern PWDK_ADAPTER g_WdkAdapter;

EXTERN_C_START
// wdkkmd_dma.cpp
_IRQL_requires_(PASSIVE_LEVEL) NTSTATUS WdkDmaStart(_Inout_ PWDK_ADAPTER pAdapter);
_IRQL_requires_(PASSIVE_LEVEL) VOID WdkDmaStop(_Inout_ PWDK_ADAPTER pAdapter);
DXGKDDI_RENDER WdkDdiRender;
DXGKDDI_SUBMITCOMMAND WdkDdiSubmitCommand;
DXGKDDI_INTERRUPT_ROUTINE WdkDdiInterruptRoutine;
DXGKDDI_DPC_ROUTINE WdkDdiDpcRoutine;
EXTERN_C_END
