/* The DXGKRNL_INTERFACE the simulated dxgkrnl hands the miniport at
 * DxgkDdiStartDevice: every DxgkCb* callback of the WDK, in its order, then
 * lifetrace's own. Each is simulated, or — where the simulated machine has
 * nothing behind it (ACPI, BARs, VidPN, power, IOMMU, ...) — records a
 * miniport-bad-status finding that names it and returns a failure: the
 * driver's next steps would not be what they are on Windows, so the replay
 * must not pass as clean, and the finding says which facility to stub or
 * compile out. No member is ever NULL. */
#include <stdio.h>
#include <string.h>

#include "dxgkrnl.h"
#include "kernel_shim.h"

/* The replay whose DDI is running on this thread (callbacks carry no
 * context of their own beyond DeviceHandle). */
_Thread_local lt_replay *lt__current;

/* What DxgkCbGetDeviceInformation reports (one per process: read-only). */
struct _DEVICE_OBJECT {
  ULONG Lt;
};
static struct _DEVICE_OBJECT pdo;
static CM_RESOURCE_LIST no_resources;
static const WCHAR registry_path[] = {'\\', 'R', 'e', 'g', 'i', 's', 't', 'r', 'y', '\\', 'M', 'a',
                                      'c', 'h', 'i', 'n', 'e', '\\', 'l', 'i', 'f', 'e', 't', 'r',
                                      'a', 'c', 'e', 0};
/* PCI configuration space: a 256-byte header (vendor 0x1414, device 0x4c54). */
static _Thread_local UCHAR config_space[256] = {0x14, 0x14, 0x54, 0x4c};

static void unsimulated(const char *name) {
  lt__kernel_finding(LT_F_MINIPORT_BAD_STATUS, 0, name,
                     "the miniport called %s, which lifetrace does not simulate; it returned a "
                     "failure, so the driver's next steps are not those it takes on Windows",
                     name);
}

/* ---- handles ------------------------------------------------------------------- */

static PVOID cb_get_handle_data(const DXGKARGCB_GETHANDLEDATA *a) {
  if (lt__current == NULL || a == NULL)
    return NULL;
  int type = a->Type == DXGK_HANDLE_RESOURCE ? LT_OBJ_RESOURCE : LT_OBJ_ALLOCATION;
  lt__obj *o = lt__ht_lookup(&lt__current->kht, a->hObject, type);
  if (o == NULL || o->state != ST_LIVE)
    return NULL;
  if (a->Flags.DeviceSpecific)
    return NULL; /* the harness does not resolve device-specific handles */
  return type == LT_OBJ_RESOURCE ? ((lt__resource *)o)->kmd : ((lt__alloc *)o)->kmd;
}

static D3DKMT_HANDLE cb_enum_children(const DXGKARGCB_ENUMHANDLECHILDREN *e) {
  lt__resource *res = lt__current && e ? lt__ht_lookup(&lt__current->kht, e->hObject,
                                                       LT_OBJ_RESOURCE)
                                       : NULL;
  if (res == NULL)
    return 0;
  UINT i = 0;
  for (lt__alloc *a = res->allocs; a; a = a->res_next, i++)
    if (i == e->Index)
      return a->o.khandle;
  return 0;
}

static D3DKMT_HANDLE cb_get_parent(D3DKMT_HANDLE hAllocation) {
  lt__alloc *a = lt__current ? lt__ht_lookup(&lt__current->kht, hAllocation, LT_OBJ_ALLOCATION) : NULL;
  return (a && a->res) ? a->res->o.khandle : 0;
}

static PVOID cb_acquire_handle_data(const DXGKARGCB_GETHANDLEDATA *a,
                                    DXGKARGCB_RELEASEHANDLEDATA *release) {
  PVOID data = cb_get_handle_data(a);
  if (release) {
    memset(release, 0, sizeof *release);
    if (a)
      release->ReleaseData = *a;
    release->hHandleData = data;
  }
  return data;
}

static void cb_release_handle_data(DXGKARGCB_RELEASEHANDLEDATA data) { (void)data; }

/* ---- device ---------------------------------------------------------------------- */

static NTSTATUS cb_get_device_information(HANDLE dev, PDXGK_DEVICE_INFO info) {
  lt_replay *r = dev;
  if (info == NULL)
    return STATUS_INVALID_PARAMETER;
  memset(info, 0, sizeof *info);
  info->MiniportDeviceContext = r ? r->adapter : NULL;
  info->PhysicalDeviceObject = &pdo;
  info->DeviceRegistryPath.Buffer = (PWSTR)registry_path;
  info->DeviceRegistryPath.Length = (USHORT)(sizeof registry_path - sizeof(WCHAR));
  info->DeviceRegistryPath.MaximumLength = (USHORT)sizeof registry_path;
  info->TranslatedResourceList = &no_resources;
  info->SystemMemorySize.QuadPart = 16ll << 30;
  info->HighestPhysicalAddress.QuadPart = (64ll << 30) - 1;
  info->DockingState = DockStateUnsupported;
  return STATUS_SUCCESS;
}

static NTSTATUS device_space(PVOID Buffer, ULONG Offset, ULONG Length, ULONG *Done, int write) {
  if (Done)
    *Done = 0;
  if (Buffer == NULL || Offset > sizeof config_space || Length > sizeof config_space - Offset)
    return STATUS_INVALID_PARAMETER;
  if (write)
    memcpy(config_space + Offset, Buffer, Length);
  else
    memcpy(Buffer, config_space + Offset, Length);
  if (Done)
    *Done = Length;
  return STATUS_SUCCESS;
}

static NTSTATUS cb_read_device_space(HANDLE dev, ULONG DataType, PVOID Buffer, ULONG Offset,
                                     ULONG Length, ULONG *BytesRead) {
  (void)dev;
  (void)DataType;
  return device_space(Buffer, Offset, Length, BytesRead, 0);
}

static NTSTATUS cb_write_device_space(HANDLE dev, ULONG DataType, PVOID Buffer, ULONG Offset,
                                      ULONG Length, ULONG *BytesWritten) {
  (void)dev;
  (void)DataType;
  return device_space(Buffer, Offset, Length, BytesWritten, 1);
}

static NTSTATUS cb_is_device_present(HANDLE dev, PPCI_DEVICE_PRESENCE_PARAMETERS p,
                                     PBOOLEAN present) {
  (void)dev;
  (void)p;
  if (present)
    *present = TRUE;
  return STATUS_SUCCESS;
}

/* ---- interrupts and DPCs ----------------------------------------------------------- */

static void dxgk_dpc(PKDPC Dpc, PVOID ctx, PVOID a1, PVOID a2) {
  lt_replay *r = ctx;
  (void)Dpc;
  (void)a1;
  (void)a2;
  r->kernel.dxgk_dpc_queued = 0;
  r->mp->DxgkDdiDpcRoutine(r->adapter);
}

/* From the ISR: DxgkDdiDpcRoutine runs when the ISR returns. From anywhere
 * else: at the next schedule point. */
static BOOLEAN cb_queue_dpc(HANDLE dev) {
  lt_replay *r = dev;
  if (r == NULL)
    return FALSE;
  lt__kstate *k = &r->kernel;
  k->dxgk_dpc_used = 1;
  if (k->in_isr) {
    BOOLEAN fresh = !k->dxgk_dpc_queued;
    k->dxgk_dpc_queued = 1;
    return fresh;
  }
  if (k->dxgk_dpc.DeferredRoutine == NULL)
    KeInitializeDpc(&k->dxgk_dpc, dxgk_dpc, r);
  return KeInsertQueueDpc(&k->dxgk_dpc, NULL, NULL);
}

/* Runs the routine at the interrupt's IRQL (the ISR's, HIGH_LEVEL). */
static NTSTATUS cb_synchronize_execution(HANDLE dev, PKSYNCHRONIZE_ROUTINE routine, PVOID ctx,
                                         ULONG msg, PBOOLEAN ret) {
  (void)dev;
  (void)msg;
  if (routine == NULL)
    return STATUS_INVALID_PARAMETER;
  KIRQL old = KeGetCurrentIrql();
  lt__kernel_set_irql(HIGH_LEVEL);
  BOOLEAN b = routine(ctx);
  lt__kernel_set_irql(old);
  if (ret)
    *ret = b;
  return STATUS_SUCCESS;
}

/* Checks what the ISR reports: a completed or preempted fence must have
 * been submitted on that node, and only at interrupt IRQL. */
static void cb_notify_interrupt(const HANDLE dev, const DXGKARGCB_NOTIFY_INTERRUPT_DATA *d) {
  lt_replay *r = dev;
  if (r == NULL || d == NULL)
    return;
  if (KeGetCurrentIrql() < HIGH_LEVEL)
    lt__kernel_finding(LT_F_MINIPORT_BAD_STATUS, 0, "DxgkCbNotifyInterrupt",
                       "DxgkCbNotifyInterrupt called at IRQL %u, outside the ISR and "
                       "DxgkCbSynchronizeExecution", (unsigned)KeGetCurrentIrql());
  UINT node = 0, fence = 0;
  if (d->InterruptType == DXGK_INTERRUPT_DMA_COMPLETED) {
    node = d->DmaCompleted.NodeOrdinal;
    fence = d->DmaCompleted.SubmissionFenceId;
  } else if (d->InterruptType == DXGK_INTERRUPT_DMA_PREEMPTED) {
    node = d->DmaPreempted.NodeOrdinal;
    fence = d->DmaPreempted.LastCompletedFenceId;
  } else {
    return; /* vsync, faults: recorded by nothing yet */
  }
  if (node >= LT_MAX_NODES || fence > r->nodes[node].next_fence)
    lt__kernel_finding(LT_F_MINIPORT_BAD_STATUS, 0, "DxgkCbNotifyInterrupt",
                       "DxgkCbNotifyInterrupt reports fence %u on node %u, which was never "
                       "submitted there", fence, node);
}

static void cb_notify_dpc(const HANDLE dev) {
  (void)dev;
  if (KeGetCurrentIrql() != DISPATCH_LEVEL)
    lt__kernel_finding(LT_F_MINIPORT_BAD_STATUS, 0, "DxgkCbNotifyDpc",
                       "DxgkCbNotifyDpc called at IRQL %u, outside the DPC",
                       (unsigned)KeGetCurrentIrql());
}

static void cb_log_etw_event(const LPCGUID guid, UCHAR type, USHORT size, PVOID buffer) {
  (void)guid; /* the simulated machine has no ETW session: the event is dropped */
  (void)type;
  (void)size;
  (void)buffer;
}

/* ---- lifetrace's own -------------------------------------------------------------- */

static UINT cb_completed_fence(HANDLE dev, UINT node) {
  lt_replay *r = dev;
  if (r == NULL || node >= LT_MAX_NODES)
    return 0;
  return (UINT)r->nodes[node].completed;
}

static void cb_program_scanout(HANDLE dev, UINT source, UINT segment, PHYSICAL_ADDRESS addr,
                               SIZE_T size) {
  lt_replay *r = dev;
  if (r == NULL || source >= LT_MAX_SOURCES)
    return;
  if (segment == 0) {
    lt_gpu_scanout_clear(r->gpu, source);
    return;
  }
  lt_gpu_access acc = {.segment = segment, .addr = (uint64_t)addr.QuadPart, .size = size};
  acc.owner = lt_gpu_owner_at(r->gpu, segment, acc.addr);
  /* Which allocation does the driver mean? The one the range belongs to now;
   * the GPU will report if that owner goes away while the source is set. */
  lt__alloc *a = r->scanout[source];
  acc.tag = a ? a->o.handle : 0;
  lt_gpu_scanout_set(r->gpu, source, &acc);
}

/* ---- what is not simulated ---------------------------------------------------------- */
/* Each records the finding naming itself and fails (STATUS_NOT_SUPPORTED,
 * NULL, 0 or nothing, as its type allows). */
#define UNSIM(name) unsimulated(#name)

static NTSTATUS cb_eval_acpi_method(HANDLE d, ULONG u, PVOID i, ULONG is, PVOID o, ULONG os) {
  (void)d, (void)u, (void)i, (void)is, (void)o, (void)os;
  UNSIM(DxgkCbEvalAcpiMethod);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_indicate_child_status(HANDLE d, PDXGK_CHILD_STATUS s) {
  (void)d, (void)s;
  UNSIM(DxgkCbIndicateChildStatus);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_map_memory(HANDLE d, PHYSICAL_ADDRESS a, ULONG l, BOOLEAN io, BOOLEAN um,
                              MEMORY_CACHING_TYPE c, PVOID *va) {
  (void)d, (void)a, (void)l, (void)io, (void)um, (void)c;
  if (va)
    *va = NULL;
  UNSIM(DxgkCbMapMemory);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_query_services(HANDLE d, DXGK_SERVICES t, PINTERFACE i) {
  (void)d, (void)t, (void)i;
  UNSIM(DxgkCbQueryServices);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_unmap_memory(HANDLE d, PVOID va) {
  (void)d, (void)va;
  UNSIM(DxgkCbUnmapMemory);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_query_vidpn_interface(const D3DKMDT_HVIDPN h, const DXGK_VIDPN_INTERFACE_VERSION v,
                                         const DXGK_VIDPN_INTERFACE **pp) {
  (void)h, (void)v;
  if (pp)
    *pp = NULL;
  UNSIM(DxgkCbQueryVidPnInterface);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_query_monitor_interface(const HANDLE h, const DXGK_MONITOR_INTERFACE_VERSION v,
                                           const DXGK_MONITOR_INTERFACE **pp) {
  (void)h, (void)v;
  if (pp)
    *pp = NULL;
  UNSIM(DxgkCbQueryMonitorInterface);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_get_capture_address(DXGKARGCB_GETCAPTUREADDRESS *p) {
  (void)p;
  UNSIM(DxgkCbGetCaptureAddress);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_exclude_adapter_access(HANDLE d, ULONG a, DXGKDDI_PROTECTED_CALLBACK cb, PVOID c) {
  (void)d, (void)a, (void)cb, (void)c;
  UNSIM(DxgkCbExcludeAdapterAccess);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_create_context_allocation(DXGKARGCB_CREATECONTEXTALLOCATION *p) {
  (void)p;
  UNSIM(DxgkCbCreateContextAllocation);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_destroy_context_allocation(const HANDLE a, const HANDLE h) {
  (void)a, (void)h;
  UNSIM(DxgkCbDestroyContextAllocation);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_set_power_component_active(const HANDLE a, UINT i) {
  (void)a, (void)i;
  UNSIM(DxgkCbSetPowerComponentActive);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_set_power_component_idle(const HANDLE a, UINT i) {
  (void)a, (void)i;
  UNSIM(DxgkCbSetPowerComponentIdle);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_acquire_post_display_ownership(HANDLE d, PDXGK_DISPLAY_INFORMATION i) {
  (void)d, (void)i;
  UNSIM(DxgkCbAcquirePostDisplayOwnership);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_power_runtime_control_request(const HANDLE a, LPCGUID g, PVOID i, SIZE_T is,
                                                 PVOID o, SIZE_T os, PSIZE_T r) {
  (void)a, (void)g, (void)i, (void)is, (void)o, (void)os;
  if (r)
    *r = 0;
  UNSIM(DxgkCbPowerRuntimeControlRequest);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_set_power_component_latency(const HANDLE a, UINT i, ULONGLONG l) {
  (void)a, (void)i, (void)l;
  UNSIM(DxgkCbSetPowerComponentLatency);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_set_power_component_residency(const HANDLE a, UINT i, ULONGLONG l) {
  (void)a, (void)i, (void)l;
  UNSIM(DxgkCbSetPowerComponentResidency);
  return STATUS_NOT_SUPPORTED;
}
static void cb_complete_fstate_transition(const HANDLE a, UINT i) {
  (void)a, (void)i;
  UNSIM(DxgkCbCompleteFStateTransition);
}
static void cb_complete_pstate_transition(const HANDLE a, UINT i, UINT p) {
  (void)a, (void)i, (void)p;
  UNSIM(DxgkCbCompletePStateTransition);
}
static D3DGPU_VIRTUAL_ADDRESS cb_map_context_allocation(const HANDLE a,
                                                        const DXGKARGCB_MAPCONTEXTALLOCATION *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbMapContextAllocation);
  return 0;
}
static NTSTATUS cb_update_context_allocation(const HANDLE a,
                                             const DXGKARGCB_UPDATECONTEXTALLOCATION *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbUpdateContextAllocation);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_reserve_gpu_va_range(const HANDLE a, DXGKARGCB_RESERVEGPUVIRTUALADDRESSRANGE *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbReserveGpuVirtualAddressRange);
  return STATUS_NOT_SUPPORTED;
}
static void cb_hw_content_protection_teardown(const HANDLE a, UINT f) {
  (void)a, (void)f;
  UNSIM(DxgkCbHardwareContentProtectionTeardown);
}
static void cb_mpo_disabled(const HANDLE a, UINT s) {
  (void)a, (void)s;
  UNSIM(DxgkCbMultiPlaneOverlayDisabled);
}
static NTSTATUS cb_mitigated_range_update(const HANDLE a, ULONG v) {
  (void)a, (void)v;
  UNSIM(DxgkCbMitigatedRangeUpdate);
  return STATUS_NOT_SUPPORTED;
}
static void cb_invalidate_hw_context(const DXGKARGCB_INVALIDATEHWCONTEXT *p) {
  (void)p;
  UNSIM(DxgkCbInvalidateHwContext);
}
static NTSTATUS cb_indicate_connector_change(const HANDLE a) {
  (void)a;
  UNSIM(DxgkCbIndicateConnectorChange);
  return STATUS_NOT_SUPPORTED;
}
static void cb_unblock_uefi_ranges(const HANDLE a, const DXGK_SEGMENTMEMORYSTATE *s) {
  (void)a, (void)s;
  UNSIM(DxgkCbUnblockUEFIFrameBufferRanges);
}
static NTSTATUS cb_acquire_post_display_ownership2(HANDLE d, PDXGK_DISPLAY_INFORMATION i,
                                                   DXGK_DISPLAY_OWNERSHIP_FLAGS *f) {
  (void)d, (void)i, (void)f;
  UNSIM(DxgkCbAcquirePostDisplayOwnership2);
  return STATUS_NOT_SUPPORTED;
}
static void cb_set_protected_session_status(const DXGKARGCB_PROTECTEDSESSIONSTATUS *p) {
  (void)p;
  UNSIM(DxgkCbSetProtectedSessionStatus);
}
static NTSTATUS cb_allocate_contiguous_memory(const HANDLE a, DXGKARGCB_ALLOCATECONTIGUOUSMEMORY *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbAllocateContiguousMemory);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_free_contiguous_memory(const HANDLE a, DXGKARGCB_FREECONTIGUOUSMEMORY *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbFreeContiguousMemory);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_allocate_pages_for_mdl(const HANDLE a, DXGKARGCB_ALLOCATEPAGESFORMDL *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbAllocatePagesForMdl);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_free_pages_from_mdl(const HANDLE a, DXGKARGCB_FREEPAGESFROMMDL *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbFreePagesFromMdl);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_pin_frame_buffer(const HANDLE a, DXGKARGCB_PINFRAMEBUFFERFORSAVE *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbPinFrameBufferForSave);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_unpin_frame_buffer(const HANDLE a, DXGKARGCB_UNPINFRAMEBUFFERFORSAVE *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbUnpinFrameBufferForSave);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_map_frame_buffer_pointer(const HANDLE a, DXGKARGCB_MAPFRAMEBUFFERPOINTER *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbMapFrameBufferPointer);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_unmap_frame_buffer_pointer(const HANDLE a, DXGKARGCB_UNMAPFRAMEBUFFERPOINTER *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbUnmapFrameBufferPointer);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_map_mdl_to_iommu(const HANDLE a, DXGKARGCB_MAPMDLTOIOMMU *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbMapMdlToIoMmu);
  return STATUS_NOT_SUPPORTED;
}
static void cb_unmap_mdl_from_iommu(const HANDLE a, DXGKARGCB_UNMAPMDLFROMIOMMU *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbUnmapMdlFromIoMmu);
}
static NTSTATUS cb_report_diagnostic(HANDLE d, PDXGK_DIAGNOSTIC_HEADER p) {
  (void)d, (void)p;
  UNSIM(DxgkCbReportDiagnostic);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_signal_event(const HANDLE a, DXGKARGCB_SIGNALEVENT *p) {
  (void)a, (void)p;
  UNSIM(DxgkCbSignalEvent);
  return STATUS_NOT_SUPPORTED;
}
static NTSTATUS cb_is_feature_enabled(HANDLE d, DXGKARGCB_ISFEATUREENABLED *p) {
  (void)d, (void)p;
  UNSIM(DxgkCbIsFeatureEnabled);
  return STATUS_NOT_SUPPORTED;
}

/* Fills r->iface, the interface DxgkDdiStartDevice receives. */
void lt__callbacks_init(lt_replay *r) {
  DXGKRNL_INTERFACE *i = &r->iface;
  i->Size = sizeof *i;
  i->Version = LT_MINIPORT_ABI_VERSION;
  i->DeviceHandle = r;
  i->DxgkCbEvalAcpiMethod = cb_eval_acpi_method;
  i->DxgkCbGetDeviceInformation = cb_get_device_information;
  i->DxgkCbIndicateChildStatus = cb_indicate_child_status;
  i->DxgkCbMapMemory = cb_map_memory;
  i->DxgkCbQueueDpc = cb_queue_dpc;
  i->DxgkCbQueryServices = cb_query_services;
  i->DxgkCbReadDeviceSpace = cb_read_device_space;
  i->DxgkCbSynchronizeExecution = cb_synchronize_execution;
  i->DxgkCbUnmapMemory = cb_unmap_memory;
  i->DxgkCbWriteDeviceSpace = cb_write_device_space;
  i->DxgkCbIsDevicePresent = cb_is_device_present;
  i->DxgkCbGetHandleData = cb_get_handle_data;
  i->DxgkCbGetHandleParent = cb_get_parent;
  i->DxgkCbEnumHandleChildren = cb_enum_children;
  i->DxgkCbNotifyInterrupt = cb_notify_interrupt;
  i->DxgkCbNotifyDpc = cb_notify_dpc;
  i->DxgkCbQueryVidPnInterface = cb_query_vidpn_interface;
  i->DxgkCbQueryMonitorInterface = cb_query_monitor_interface;
  i->DxgkCbGetCaptureAddress = cb_get_capture_address;
  i->DxgkCbLogEtwEvent = cb_log_etw_event;
  i->DxgkCbExcludeAdapterAccess = cb_exclude_adapter_access;
  i->DxgkCbCreateContextAllocation = cb_create_context_allocation;
  i->DxgkCbDestroyContextAllocation = cb_destroy_context_allocation;
  i->DxgkCbSetPowerComponentActive = cb_set_power_component_active;
  i->DxgkCbSetPowerComponentIdle = cb_set_power_component_idle;
  i->DxgkCbAcquirePostDisplayOwnership = cb_acquire_post_display_ownership;
  i->DxgkCbPowerRuntimeControlRequest = cb_power_runtime_control_request;
  i->DxgkCbSetPowerComponentLatency = cb_set_power_component_latency;
  i->DxgkCbSetPowerComponentResidency = cb_set_power_component_residency;
  i->DxgkCbCompleteFStateTransition = cb_complete_fstate_transition;
  i->DxgkCbCompletePStateTransition = cb_complete_pstate_transition;
  i->DxgkCbMapContextAllocation = cb_map_context_allocation;
  i->DxgkCbUpdateContextAllocation = cb_update_context_allocation;
  i->DxgkCbReserveGpuVirtualAddressRange = cb_reserve_gpu_va_range;
  i->DxgkCbAcquireHandleData = cb_acquire_handle_data;
  i->DxgkCbReleaseHandleData = cb_release_handle_data;
  i->DxgkCbHardwareContentProtectionTeardown = cb_hw_content_protection_teardown;
  i->DxgkCbMultiPlaneOverlayDisabled = cb_mpo_disabled;
  i->DxgkCbMitigatedRangeUpdate = cb_mitigated_range_update;
  i->DxgkCbInvalidateHwContext = cb_invalidate_hw_context;
  i->DxgkCbIndicateConnectorChange = cb_indicate_connector_change;
  i->DxgkCbUnblockUEFIFrameBufferRanges = cb_unblock_uefi_ranges;
  i->DxgkCbAcquirePostDisplayOwnership2 = cb_acquire_post_display_ownership2;
  i->DxgkCbSetProtectedSessionStatus = cb_set_protected_session_status;
  i->DxgkCbAllocateContiguousMemory = cb_allocate_contiguous_memory;
  i->DxgkCbFreeContiguousMemory = cb_free_contiguous_memory;
  i->DxgkCbAllocatePagesForMdl = cb_allocate_pages_for_mdl;
  i->DxgkCbFreePagesFromMdl = cb_free_pages_from_mdl;
  i->DxgkCbPinFrameBufferForSave = cb_pin_frame_buffer;
  i->DxgkCbUnpinFrameBufferForSave = cb_unpin_frame_buffer;
  i->DxgkCbMapFrameBufferPointer = cb_map_frame_buffer_pointer;
  i->DxgkCbUnmapFrameBufferPointer = cb_unmap_frame_buffer_pointer;
  i->DxgkCbMapMdlToIoMmu = cb_map_mdl_to_iommu;
  i->DxgkCbUnmapMdlFromIoMmu = cb_unmap_mdl_from_iommu;
  i->DxgkCbReportDiagnostic = cb_report_diagnostic;
  i->DxgkCbSignalEvent = cb_signal_event;
  i->DxgkCbIsFeatureEnabled = cb_is_feature_enabled;
  i->LtCbQueryCompletedFence = cb_completed_fence;
  i->LtCbProgramScanout = cb_program_scanout;
}
