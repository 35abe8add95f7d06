/*
 * smpkmd_lifetrace.c - the lifetrace glue of the sample miniport.
 *
 * Not part of the driver that ships: the one file that adapts it to
 * lifetrace's miniport table (lifetrace/miniport.h). It
 *   - merges AddDevice + StartDevice and StopDevice + RemoveDevice into the
 *     table's two adapter entries,
 *   - exports the introspection hook (LtEnumReferencedAllocations): the
 *     allocations that the scanout table and the handle cache still point
 *     at, so that lifetrace's stale-reference oracle can check them after
 *     every destroy,
 *   - takes the option "bugs" (LtSetOption), which `lifetrace replay --bugs`,
 *     `lifetrace check` (the "bugs" of an expected verdict) and
 *     `fuzz.sh --bugs` set: "1" or "stale-handle-cache" switches sample bug 1
 *     on, "" or "none" switches it off, "all" = every sample bug.
 *
 * Environment, read at StartDevice:
 *   SMPKMD_NO_INTROSPECTION=1   the hook reports nothing (to see what the
 *                               pool oracles alone find)
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <lifetrace/driver.h>

#include "smpkmd.h"

static BOOLEAN SmpLtIntrospection = TRUE;

static NTSTATUS SmpLtStartDevice(const DXGKRNL_INTERFACE *pDxgkInterface, HANDLE *phAdapter)
{
    DXGKRNL_INTERFACE Interface;
    DXGK_START_INFO StartInfo;
    PVOID Context = NULL;
    ULONG Sources, Children;
    const char *Env = getenv("SMPKMD_NO_INTROSPECTION");
    NTSTATUS Status;

    if (pDxgkInterface == NULL || phAdapter == NULL) {
        return STATUS_INVALID_PARAMETER;
    }
    SmpLtIntrospection = !(Env != NULL && Env[0] != '\0' && Env[0] != '0');

    Status = SmpDdiAddDevice(NULL, &Context);
    if (!NT_SUCCESS(Status)) {
        return Status;
    }
    RtlZeroMemory(&StartInfo, sizeof(StartInfo));
    Interface = *pDxgkInterface;
    Status = SmpDdiStartDevice(Context, &StartInfo, &Interface, &Sources, &Children);
    if (!NT_SUCCESS(Status)) {
        (VOID)SmpDdiRemoveDevice(Context);
        return Status;
    }
    *phAdapter = Context;
    return STATUS_SUCCESS;
}

static NTSTATUS SmpLtStopDevice(HANDLE hAdapter)
{
    NTSTATUS Status = SmpDdiStopDevice(hAdapter);

    if (NT_SUCCESS(Status)) {
        Status = SmpDdiRemoveDevice(hAdapter);
    }
    return Status;
}

/*
 * LtEnumReferencedAllocations: every allocation pointer the adapter keeps
 * outside the blocks themselves: the current scanout of each source and each
 * handle-cache entry. Bindings are left out: dxgkrnl closes them before a
 * destroy, and DestroyAllocation detaches any it finds. Runs under the
 * adapter lock; Report copies the place name before returning.
 */
static void SmpLtEnumReferencedAllocations(HANDLE hAdapter, LT_REFERENCE_CALLBACK Report,
                                           void *Context)
{
    PSMP_ADAPTER pAdapter = (PSMP_ADAPTER)hAdapter;
    char Where[32];
    KIRQL OldIrql;

    if (pAdapter == NULL || Report == NULL || !SmpLtIntrospection) {
        return;
    }
    OldIrql = SmpAcquireAdapterLock(pAdapter);
    for (UINT s = 0; s < SMP_MAX_SOURCES; s++) {
        if (pAdapter->Sources[s].pPrimary != NULL) {
            snprintf(Where, sizeof(Where), "scanout[%u]", s);
            Report(Context, pAdapter->Sources[s].pPrimary, Where);
        }
    }
    for (UINT i = 0; i < SMP_HANDLE_CACHE_SIZE; i++) {
        //
        // One name for every slot: the slot follows from the handle value,
        // and a finding's signature (its dedup key) includes the place.
        //
        if (pAdapter->HandleCache[i].pAllocation != NULL) {
            Report(Context, pAdapter->HandleCache[i].pAllocation, "handle-cache");
        }
    }
    SmpReleaseAdapterLock(pAdapter, OldIrql);
}

static const struct {
    const char *Name;
    ULONG Bug;
} SmpLtBugNames[] = {
    {"1", SMP_BUG_STALE_HANDLE_CACHE},
    {"stale-handle-cache", SMP_BUG_STALE_HANDLE_CACHE},
};

static BOOLEAN SmpLtTokenIs(const char *Token, size_t Length, const char *Name)
{
    if (strlen(Name) != Length) {
        return FALSE;
    }
    for (size_t i = 0; i < Length; i++) {
        if (tolower((unsigned char)Token[i]) != Name[i]) {
            return FALSE;
        }
    }
    return TRUE;
}

/* "bugs" = comma- or blank-separated numbers or names; "all"; "" or "none". */
static NTSTATUS SmpLtSetBugs(const char *Value)
{
    ULONG Mask = 0;

    for (const char *p = Value ? Value : ""; *p != '\0';) {
        size_t Length = strcspn(p, ", \t");
        BOOLEAN Known = FALSE;

        if (Length == 0) {
            p++;
            continue;
        }
        if (SmpLtTokenIs(p, Length, "all")) {
            Mask |= 1u << (SMP_BUG_STALE_HANDLE_CACHE - 1);
            Known = TRUE;
        } else if (SmpLtTokenIs(p, Length, "none")) {
            Known = TRUE;
        }
        for (size_t i = 0; i < ARRAYSIZE(SmpLtBugNames) && !Known; i++) {
            if (SmpLtTokenIs(p, Length, SmpLtBugNames[i].Name)) {
                Mask |= 1u << (SmpLtBugNames[i].Bug - 1);
                Known = TRUE;
            }
        }
        if (!Known) {
            return STATUS_INVALID_PARAMETER;
        }
        p += Length;
    }
    SmpBugMask = Mask;
    return STATUS_SUCCESS;
}

static NTSTATUS SmpLtSetOption(const char *Name, const char *Value)
{
    if (Name != NULL && strcmp(Name, "bugs") == 0) {
        return SmpLtSetBugs(Value);
    }
    return STATUS_INVALID_PARAMETER;
}

static const LT_MINIPORT SmpMiniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "smpkmd",
    .Version = "1.0",
    .DxgkDdiStartDevice = SmpLtStartDevice,
    .DxgkDdiStopDevice = SmpLtStopDevice,
    .DxgkDdiCreateDevice = SmpDdiCreateDevice,
    .DxgkDdiDestroyDevice = SmpDdiDestroyDevice,
    .DxgkDdiCreateContext = SmpDdiCreateContext,
    .DxgkDdiDestroyContext = SmpDdiDestroyContext,
    .DxgkDdiCreateAllocation = SmpDdiCreateAllocation,
    .DxgkDdiDestroyAllocation = SmpDdiDestroyAllocation,
    .DxgkDdiOpenAllocation = SmpDdiOpenAllocation,
    .DxgkDdiCloseAllocation = SmpDdiCloseAllocation,
    .DxgkDdiRender = SmpDdiRender,
    .DxgkDdiSubmitCommand = SmpDdiSubmitCommand,
    .DxgkDdiInterruptRoutine = SmpDdiInterruptRoutine,
    .DxgkDdiDpcRoutine = SmpDdiDpcRoutine,
    .DxgkDdiBuildPagingBuffer = SmpDdiBuildPagingBuffer,
    .DxgkDdiSetVidPnSourceAddress = SmpDdiSetVidPnSourceAddress,
    .DxgkDdiLock = SmpDdiLock,
    .DxgkDdiUnlock = SmpDdiUnlock,
    .DxgkDdiResetFromTimeout = SmpDdiResetFromTimeout,
    .DxgkDdiRestartFromTimeout = SmpDdiRestartFromTimeout,
    .LtEnumReferencedAllocations = SmpLtEnumReferencedAllocations,
    .LtSetOption = SmpLtSetOption,
    .DmaBufferPrivateDataSize = sizeof(SMP_DMA_PRIVATE),
};

LT_DEFINE_MINIPORT_ENTRY(SmpMiniport)
