//
// wdkkmd: adapter, devices, contexts and allocations (C), and the lifetrace
// table. WPP tracing through "wdkkmd.tmh".
//
#include <initguid.h>
#include "wdkkmd.h"
#include "wdkkmd.tmh"
#include <lifetrace/driver.h>

DEFINE_GUID(WDKKMD_TRACE_GUID, 0x6d1f3c2a, 0x4b7e, 0x4c1d, 0x9a, 0x2b, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66);

PWDK_ADAPTER g_WdkAdapter;
static BOOLEAN g_BugAssert, g_BugAcpi;

#pragma alloc_text(PAGE, WdkLtStartDevice)

static NTSTATUS
WdkLtStartDevice(
    _In_ const DXGKRNL_INTERFACE *pDxgkInterface,
    _Out_ HANDLE *phAdapter
    )
{
    PWDK_ADAPTER pAdapter;
    NTSTATUS Status;

    PAGED_CODE();
    WPP_INIT_TRACING(NULL, NULL);
    pAdapter = (PWDK_ADAPTER)ExAllocatePoolZero(NonPagedPoolNx, sizeof(*pAdapter), WDK_TAG_ADAPTER);
    if (pAdapter == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    RtlCopyMemory(&pAdapter->DxgkInterface, pDxgkInterface, sizeof(*pDxgkInterface));
    Status = pDxgkInterface->DxgkCbGetDeviceInformation(pDxgkInterface->DeviceHandle,
                                                        &pAdapter->DeviceInfo);
    if (!NT_SUCCESS(Status) || pAdapter->DeviceInfo.PhysicalDeviceObject == NULL) {
        ExFreePoolWithTag(pAdapter, WDK_TAG_ADAPTER);
        return STATUS_UNSUCCESSFUL;
    }
    NT_ASSERT(pAdapter->DeviceInfo.DeviceRegistryPath.Length > 0);
    pAdapter->BugAssert = g_BugAssert;
    pAdapter->BugAcpi = g_BugAcpi;
    Status = WdkDmaStart(pAdapter);
    if (!NT_SUCCESS(Status)) {
        ExFreePoolWithTag(pAdapter, WDK_TAG_ADAPTER);
        return Status;
    }
    TraceEvents(TRACE_LEVEL_INFORMATION, 1, "%!FUNC!: adapter %p started, %!STATUS!", pAdapter, Status);
    g_WdkAdapter = pAdapter;
    *phAdapter = pAdapter;
    return STATUS_SUCCESS;
}

static NTSTATUS
WdkLtStopDevice(
    _In_ HANDLE hAdapter
    )
{
    PWDK_ADAPTER pAdapter = (PWDK_ADAPTER)hAdapter;

    WdkDmaStop(pAdapter);
    NT_ASSERT(InterlockedCompareExchange(&pAdapter->LiveAllocations, 0, 0) == 0);
    WPP_CLEANUP(NULL);
    g_WdkAdapter = NULL;
    ExFreePool(pAdapter);   // untagged free
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiCreateDevice(
    IN_CONST_HANDLE hAdapter,
    INOUT_PDXGKARG_CREATEDEVICE pCreateDevice
    )
{
    PWDK_DEVICE pDevice;
    PWDK_ADAPTER pAdapter = (PWDK_ADAPTER)hAdapter;

    if (pAdapter->BugAcpi) {
        ULONG Out = 0;
        NTSTATUS Status = pAdapter->DxgkInterface.DxgkCbEvalAcpiMethod(
            pAdapter->DxgkInterface.DeviceHandle, 0, NULL, 0, &Out, sizeof(Out));
        TraceEvents(TRACE_LEVEL_WARNING, 1, "ACPI method: %!STATUS!", Status);
    }
    pDevice = (PWDK_DEVICE)ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pDevice), WDK_TAG_BIND);
    if (pDevice == NULL) {
        return STATUS_NO_MEMORY;
    }
    pDevice->pAdapter = pAdapter;
    if (pCreateDevice->pInfo != NULL) {
        pCreateDevice->pInfo->DmaBufferSize = 64 * 1024;
    }
    pCreateDevice->hDevice = pDevice;
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiDestroyDevice(
    IN_CONST_HANDLE hDevice
    )
{
    ExFreePoolWithTag(hDevice, WDK_TAG_BIND);
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiCreateContext(
    IN_CONST_HANDLE hDevice,
    INOUT_PDXGKARG_CREATECONTEXT pCreateContext
    )
{
    PWDK_DEVICE pDevice = (PWDK_DEVICE)hDevice;
    PWDK_CONTEXT pContext;

    if (pCreateContext->NodeOrdinal >= WDK_MAX_NODES || pCreateContext->Flags.GdiContext) {
        return STATUS_INVALID_PARAMETER;
    }
    pContext = (PWDK_CONTEXT)ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*pContext), WDK_TAG_BIND);
    if (pContext == NULL) {
        return STATUS_NO_MEMORY;
    }
    pContext->pAdapter = pDevice->pAdapter;
    pContext->NodeOrdinal = pCreateContext->NodeOrdinal;
    pCreateContext->ContextInfo.DmaBufferSize = 64 * 1024;
    pCreateContext->ContextInfo.AllocationListSize = 64;
    pCreateContext->hContext = pContext;
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiDestroyContext(
    IN_CONST_HANDLE hContext
    )
{
    PWDK_CONTEXT pContext = (PWDK_CONTEXT)hContext;
    PWDK_ADAPTER pAdapter = pContext->pAdapter;
    KIRQL OldIrql;
    BOOLEAN Busy = FALSE;

    // The GPU work of a context is complete, and the worker thread retired
    // its packets, before dxgkrnl destroys it.
    KeAcquireSpinLock(&pAdapter->PacketLock, &OldIrql);
    for (PLIST_ENTRY e = pAdapter->Pending.Flink; e != &pAdapter->Pending; e = e->Flink) {
        if (CONTAINING_RECORD(e, WDK_PACKET, Link)->hContext == hContext) {
            Busy = TRUE;
        }
    }
    KeReleaseSpinLock(&pAdapter->PacketLock, OldIrql);
    NT_ASSERT(!Busy);
    ExFreePoolWithTag(pContext, WDK_TAG_BIND);
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiCreateAllocation(
    IN_CONST_HANDLE hAdapter,
    INOUT_PDXGKARG_CREATEALLOCATION pCreateAllocation
    )
{
    PWDK_ADAPTER pAdapter = (PWDK_ADAPTER)hAdapter;
    UINT i;

    PAGED_CODE();
    if (pAdapter->BugAssert) {
        // The UMD contract this driver assumes: one allocation per call.
        NT_ASSERT(pCreateAllocation->NumAllocations == 1);
    }
    for (i = 0; i < pCreateAllocation->NumAllocations; i++) {
        DXGK_ALLOCATIONINFO *pInfo = &pCreateAllocation->pAllocationInfo[i];
        PWDK_ALLOCATION pAllocation;
        static const WCHAR Prefix[] = L"alloc";

        pAllocation = (PWDK_ALLOCATION)ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*pAllocation),
                                                       WDK_TAG_ALLOC);
        if (pAllocation == NULL) {
            while (i-- > 0) {
                ExFreePoolWithTag(pCreateAllocation->pAllocationInfo[i].hAllocation, WDK_TAG_ALLOC);
                pCreateAllocation->pAllocationInfo[i].hAllocation = NULL;
                InterlockedDecrement(&pAdapter->LiveAllocations);
            }
            return STATUS_NO_MEMORY;
        }
        pAllocation->Size = pInfo->Size ? pInfo->Size : PAGE_SIZE;
        (void)RtlStringCbPrintfA(pAllocation->Name, sizeof(pAllocation->Name), "alloc-%u-%zu", i,
                                 (size_t)pAllocation->Size);
        (void)RtlStringCchCopyW(pAllocation->WideName, RTL_NUMBER_OF(pAllocation->WideName), Prefix);
        NT_ASSERT(sizeof(Prefix) == 6 * sizeof(WCHAR));
        pInfo->Alignment = 0;
        pInfo->Size = ROUND_TO_PAGES(pAllocation->Size);
        pInfo->PitchAlignedSize = 0;
        pInfo->HintedBank.Value = 0;
        pInfo->PreferredSegment.Value = 0;
        pInfo->SupportedReadSegmentSet = 0x3;
        pInfo->SupportedWriteSegmentSet = 0x3;
        pInfo->EvictionSegmentSet = 0;
        pInfo->PhysicalAdapterIndex = 0;
        pInfo->FlagsWddm2.Value = 0;
        pInfo->pAllocationUsageHint = NULL;
        pInfo->AllocationPriority = 0x28000000;
        pInfo->Flags2.Value = 0;
        pInfo->hAllocation = pAllocation;
        InterlockedIncrement(&pAdapter->LiveAllocations);
    }
    if (pCreateAllocation->Flags.Resource && pCreateAllocation->hResource == NULL) {
        pCreateAllocation->hResource = (HANDLE)pAdapter;   // no per-resource state
    }
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiDestroyAllocation(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_DESTROYALLOCATION pDestroyAllocation
    )
{
    PWDK_ADAPTER pAdapter = (PWDK_ADAPTER)hAdapter;

    for (UINT i = 0; i < pDestroyAllocation->NumAllocations; i++) {
        ExFreePoolWithTag(pDestroyAllocation->pAllocationList[i], WDK_TAG_ALLOC);
        InterlockedDecrement(&pAdapter->LiveAllocations);
    }
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiOpenAllocation(
    IN_CONST_HANDLE hDevice,
    IN_CONST_PDXGKARG_OPENALLOCATION pOpenAllocation
    )
{
    PWDK_DEVICE pDevice = (PWDK_DEVICE)hDevice;
    DXGKARGCB_GETHANDLEDATA GetHandleData = {0};

    for (UINT i = 0; i < pOpenAllocation->NumAllocations; i++) {
        DXGK_OPENALLOCATIONINFO *pInfo = &pOpenAllocation->pOpenAllocation[i];
        GetHandleData.hObject = pInfo->hAllocation;
        GetHandleData.Type = DXGK_HANDLE_ALLOCATION;
        PWDK_ALLOCATION pAllocation = (PWDK_ALLOCATION)
            pDevice->pAdapter->DxgkInterface.DxgkCbGetHandleData(&GetHandleData);
        if (pAllocation == NULL) {
            return STATUS_INVALID_PARAMETER;
        }
        InterlockedIncrement(&pAllocation->Bindings);
        pInfo->hDeviceSpecificAllocation = pAllocation;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiCloseAllocation(
    IN_CONST_HANDLE hDevice,
    IN_CONST_PDXGKARG_CLOSEALLOCATION pCloseAllocation
    )
{
    UNREFERENCED_PARAMETER(hDevice);
    for (UINT i = 0; i < pCloseAllocation->NumAllocations; i++) {
        PWDK_ALLOCATION pAllocation = (PWDK_ALLOCATION)pCloseAllocation->pOpenHandleList[i];
        LONG Left = InterlockedDecrement(&pAllocation->Bindings);
        NT_ASSERT(Left >= 0);
    }
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiBuildPagingBuffer(
    IN_CONST_HANDLE hAdapter,
    IN_PDXGKARG_BUILDPAGINGBUFFER pBuildPagingBuffer
    )
{
    UNREFERENCED_PARAMETER(hAdapter);
    if (pBuildPagingBuffer->Operation == DXGK_OPERATION_TRANSFER) {
        NT_ASSERT(pBuildPagingBuffer->pDmaBuffer != NULL && pBuildPagingBuffer->DmaSize >= 16);
        RtlZeroMemory(pBuildPagingBuffer->pDmaBuffer, 16);   // a "copy" command
        pBuildPagingBuffer->pDmaBuffer = (PUCHAR)pBuildPagingBuffer->pDmaBuffer + 16;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiSetVidPnSourceAddress(
    IN_CONST_HANDLE hAdapter,
    IN_CONST_PDXGKARG_SETVIDPNSOURCEADDRESS pSetVidPnSourceAddress
    )
{
    UNREFERENCED_PARAMETER(hAdapter);
    UNREFERENCED_PARAMETER(pSetVidPnSourceAddress);
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiLock(IN_CONST_HANDLE hAdapter, INOUT_PDXGKARG_LOCK pLock)
{
    UNREFERENCED_PARAMETER(hAdapter);
    pLock->pData = NULL;
    return STATUS_NOT_SUPPORTED;
}

static NTSTATUS APIENTRY
WdkDdiUnlock(IN_CONST_HANDLE hAdapter, IN_CONST_PDXGKARG_UNLOCK pUnlock)
{
    UNREFERENCED_PARAMETER(hAdapter);
    UNREFERENCED_PARAMETER(pUnlock);
    return STATUS_SUCCESS;
}

static NTSTATUS APIENTRY
WdkDdiResetFromTimeout(IN_CONST_PVOID MiniportDeviceContext)
{
    UNREFERENCED_PARAMETER(MiniportDeviceContext);
    return STATUS_SUCCESS;
}

static NTSTATUS
WdkLtSetOption(const char *Name, const char *Value)
{
    CHAR Copy[32];

    if (strcmp(Name, "bugs") != 0 ||
        !NT_SUCCESS(RtlStringCbCopyA(Copy, sizeof(Copy), Value))) {
        return STATUS_INVALID_PARAMETER;
    }
    g_BugAssert = strstr(Copy, "assert") != NULL;
    g_BugAcpi = strstr(Copy, "acpi") != NULL;
    return (g_BugAssert || g_BugAcpi || Copy[0] == 0) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

static const LT_MINIPORT WdkMiniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "wdkkmd",
    .Version = "1.0",
    .DxgkDdiStartDevice = WdkLtStartDevice,
    .DxgkDdiStopDevice = WdkLtStopDevice,
    .DxgkDdiCreateDevice = WdkDdiCreateDevice,
    .DxgkDdiDestroyDevice = WdkDdiDestroyDevice,
    .DxgkDdiCreateContext = WdkDdiCreateContext,
    .DxgkDdiDestroyContext = WdkDdiDestroyContext,
    .DxgkDdiCreateAllocation = WdkDdiCreateAllocation,
    .DxgkDdiDestroyAllocation = WdkDdiDestroyAllocation,
    .DxgkDdiOpenAllocation = WdkDdiOpenAllocation,
    .DxgkDdiCloseAllocation = WdkDdiCloseAllocation,
    .DxgkDdiRender = WdkDdiRender,
    .DxgkDdiSubmitCommand = WdkDdiSubmitCommand,
    .DxgkDdiInterruptRoutine = WdkDdiInterruptRoutine,
    .DxgkDdiDpcRoutine = WdkDdiDpcRoutine,
    .DxgkDdiBuildPagingBuffer = WdkDdiBuildPagingBuffer,
    .DxgkDdiSetVidPnSourceAddress = WdkDdiSetVidPnSourceAddress,
    .DxgkDdiLock = WdkDdiLock,
    .DxgkDdiUnlock = WdkDdiUnlock,
    .DxgkDdiResetFromTimeout = WdkDdiResetFromTimeout,
    .DxgkDdiRestartFromTimeout = WdkDdiResetFromTimeout,
    .LtSetOption = WdkLtSetOption,
    .DmaBufferPrivateDataSize = 16,
};

LT_DEFINE_MINIPORT_ENTRY(WdkMiniport)
