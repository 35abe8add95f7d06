/* The DXGKRNL_INTERFACE the simulated dxgkrnl hands the miniport at
 * DxgkDdiStartDevice: every DxgkCb* callback a driver can call back into,
 * in one place. */
#include "dxgkrnl.h"

/* The replay whose DDI is running on this thread (callbacks carry no
 * context of their own beyond DeviceHandle). */
_Thread_local lt_replay *lt__current;

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

static D3DKMT_HANDLE cb_enum_children(D3DKMT_HANDLE hResource, UINT Index) {
  lt__resource *res = lt__current ? lt__ht_lookup(&lt__current->kht, hResource, LT_OBJ_RESOURCE) : NULL;
  if (res == NULL)
    return 0;
  UINT i = 0;
  for (lt__alloc *a = res->allocs; a; a = a->res_next, i++)
    if (i == Index)
      return a->o.khandle;
  return 0;
}

static D3DKMT_HANDLE cb_get_parent(D3DKMT_HANDLE hAllocation) {
  lt__alloc *a = lt__current ? lt__ht_lookup(&lt__current->kht, hAllocation, LT_OBJ_ALLOCATION) : NULL;
  return (a && a->res) ? a->res->o.khandle : 0;
}

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

/* Fills r->iface, the interface DxgkDdiStartDevice receives. */
void lt__callbacks_init(lt_replay *r) {
  r->iface.Size = sizeof r->iface;
  r->iface.Version = LT_MINIPORT_ABI_VERSION;
  r->iface.DeviceHandle = r;
  r->iface.DxgkCbGetHandleData = cb_get_handle_data;
  r->iface.DxgkCbEnumHandleChildren = cb_enum_children;
  r->iface.DxgkCbGetHandleParent = cb_get_parent;
  r->iface.LtCbQueryCompletedFence = cb_completed_fence;
  r->iface.LtCbProgramScanout = cb_program_scanout;
}
