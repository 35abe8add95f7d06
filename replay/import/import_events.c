/* The Microsoft-Windows-DxgKrnl events the importer uses: (id, version,
 * task, opcode) with their ordered field templates, and the value maps text
 * exports print as names. Source: ../shared/reference/etw-dxgkrnl.md §2
 * (manifests of Windows 10 1511 .. Windows 11 26H1). Events whose task number
 * was never published (Process) are matched on id, version and opcode. */
#include <string.h>

#include "import_internal.h"

#define N(a) ((uint8_t)(sizeof(a) / sizeof(a)[0]))

static const char *const f_device_v0[] = {"hProcessId", "pDxgAdapter", "ClientType",
                                          "hDevice",    "RequestVSync", "DisableGpuTimeout"};
static const char *const f_device_v1[] = {"hProcessId", "pDxgAdapter",  "ClientType",
                                          "hDevice",    "RequestVSync", "DisableGpuTimeout",
                                          "hThunkHandle"};
static const char *const f_device_v2[] = {
    "hProcessId",   "pDxgAdapter", "ClientType",       "hDevice",   "RequestVSync",
    "DisableGpuTimeout", "hThunkHandle", "DxgProcess", "HostDeviceHandle", "VirtualGpu"};
static const char *const f_context[] = {
    "hDevice",       "NodeOrdinal",        "EngineAffinity", "DmaBufferSize",
    "DmaBufferSegmentSet", "DmaBufferPrivateDataSize", "AllocationListSize",
    "PatchLocationListSize", "Flags", "hContext", "ContextHandle", "ParentDxgContext"};
#define GALLOC_V1                                                                             \
  "hProcessId", "hDevice", "pDxgAdapter", "Flags", "allocSize", "ulAlignment", "dwReadSegment", \
      "dwWriteSegment", "PreferredSegment", "HintedBank", "dwEvictionSegment", "Priority",     \
      "hVidMmGlobalAlloc", "hDxgGlobalAlloc", "hDxgSharedResource", "UsageVersion",           \
      "UsageFlags", "Format", "SwizzledFormat", "ByteOffset", "Width", "Height", "Pitch",       \
      "Depth", "SlicePitch", "BackingStoreWasPinned", "pSectionObject"
static const char *const f_galloc_v1[] = {GALLOC_V1};
static const char *const f_galloc_v2[] = {GALLOC_V1, "PhysicalAdapterIndex"};
static const char *const f_galloc_v3[] = {GALLOC_V1, "PhysicalAdapterIndex",
                                          "PageTableOrDirectory"};
static const char *const f_galloc_v4[] = {GALLOC_V1, "PhysicalAdapterIndex",
                                          "PageTableOrDirectory", "PhysicalAllocation"};
#define DALLOC_V1                                                                              \
  "hProcessId", "hDevice", "pDxgAdapter", "hVidMmAlloc", "hVidMmGlobalAlloc", "hDxgResource", \
      "hDxgSharedResource", "hThunkAllocation", "hThunkResource",                              \
      "PrivateRuntimeResourceHandle", "pVirtualAddress", "hProcessAllocDetails"
static const char *const f_dalloc_v1[] = {DALLOC_V1};
static const char *const f_dalloc_v2[] = {DALLOC_V1, "hOtherPartitionHandle"};
static const char *const f_terminate[] = {"hVidMmAlloc"};
static const char *const f_lock[] = {"hDevice", "hAllocationHandle", "dwFlags", "uiLockStatus"};
static const char *const f_unlock[] = {"hDevice", "hAllocationHandle", "dwFlags"};
static const char *const f_refs[] = {"hContext", "pDmaBuffer", "uiNbAllocations", "Allocations",
                                     "Write"};
static const char *const f_dma_start[] = {"hContext", "hQueuePacketContext", "PacketType",
                                          "uliSubmissionId", "ulQueueSubmitSequence",
                                          "pDmaBuffer", "QuantumStatus"};
static const char *const f_dma_info[] = {
    "hContext",      "PacketType",    "uliCompletionId",      "ulQueueSubmitSequence",
    "InterruptType", "QuantumStatus", "FaultedVirtualAddress", "PageFaultFlags",
    "FaultedProcessHandle"};
#define QP_START_V0                                                                     \
  "hContext", "PacketType", "SubmitSequence", "DmaBufferSize", "AllocationListSize", \
      "PatchLocationListSize", "bPresent", "hDmaBuffer"
static const char *const f_qp_start_v0[] = {QP_START_V0};
static const char *const f_qp_start_v1[] = {QP_START_V0, "pQueuePacket", "ProgressFenceValue"};
static const char *const f_qp_stop_v0[] = {"hContext", "PacketType", "SubmitSequence",
                                           "bPreempted", "bTimeouted"};
static const char *const f_qp_stop_v1[] = {"hContext",   "PacketType", "SubmitSequence",
                                           "bPreempted", "bTimeouted", "pQueuePacket"};
static const char *const f_evict[] = {"hGlobalAllocationHandle"};
static const char *const f_page_in_v0[] = {"hAllocationHandle", "uiSegmentId", "uliOffset"};
static const char *const f_page_in_v2[] = {"hAllocationHandle"};
static const char *const f_displayed[] = {"pDxgAdapter", "Allocation", "VidPnSourceId",
                                          "PlaneIndex", "VidPnSourceVisibilty"};
static const char *const f_offer_start[] = {"hAllocationHandle", "Priority"};
static const char *const f_offer_info[] = {"hAllocationHandle"};
static const char *const f_offer_stop[] = {"hGlobalAllocationHandle"};
static const char *const f_report_offer[] = {"hGlobalAllocationHandle", "State", "Priority"};
static const char *const f_reclaim[] = {"hAllocationHandle", "Priority", "State"};
static const char *const f_process[] = {"DxgProcess", "ProcessId", "HostProcessHandle",
                                        "ProcessFlags"};
static const char *const f_process_vm[] = {
    "DxgProcess",     "ProcessId",         "HostProcessHandle", "ProcessFlags",
    "ProcessIdInVm",  "DxgProcessInVm",    "DxgVirtualMachine", "ProcessNameInVm"};
#define SEGMENT_V0                                                                 \
  "ulSegmentId", "pDxgAdapter", "BaseAddress", "CpuTranslatedAddress", "Size", \
      "NbOfBanks", "Flags", "CommitLimit", "SystemMemoryEndAddress"
static const char *const f_segment_v0[] = {SEGMENT_V0};
static const char *const f_segment_v1[] = {SEGMENT_V0, "MemorySegmentGroup"};

#define D(id, ver, opc, task, tname, h, f) \
  {id, ver, LT__OPC_##opc, task, LT__H_##h, N(f), tname, f}

/* Sorted by id, then version. */
static const struct lt__evdef defs[] = {
    D(27, 0, START, 19, "Device", DEVICE, f_device_v0),
    D(27, 1, START, 19, "Device", DEVICE, f_device_v1),
    D(27, 2, START, 19, "Device", DEVICE, f_device_v2),
    D(28, 0, STOP, 19, "Device", DEVICE, f_device_v0),
    D(28, 1, STOP, 19, "Device", DEVICE, f_device_v1),
    D(28, 2, STOP, 19, "Device", DEVICE, f_device_v2),
    D(29, 0, DC_START, 19, "Device", DEVICE, f_device_v0),
    D(29, 1, DC_START, 19, "Device", DEVICE, f_device_v1),
    D(29, 2, DC_START, 19, "Device", DEVICE, f_device_v2),
    D(30, 0, START, 20, "Context", CONTEXT, f_context),
    D(31, 0, STOP, 20, "Context", CONTEXT, f_context),
    D(32, 0, DC_START, 20, "Context", CONTEXT, f_context),
    D(33, 1, START, 21, "AdapterAllocation", GALLOC, f_galloc_v1),
    D(33, 2, START, 21, "AdapterAllocation", GALLOC, f_galloc_v2),
    D(33, 3, START, 21, "AdapterAllocation", GALLOC, f_galloc_v3),
    D(33, 4, START, 21, "AdapterAllocation", GALLOC, f_galloc_v4),
    D(34, 1, STOP, 21, "AdapterAllocation", GALLOC, f_galloc_v1),
    D(34, 2, STOP, 21, "AdapterAllocation", GALLOC, f_galloc_v2),
    D(34, 3, STOP, 21, "AdapterAllocation", GALLOC, f_galloc_v3),
    D(34, 4, STOP, 21, "AdapterAllocation", GALLOC, f_galloc_v4),
    D(35, 1, DC_START, 21, "AdapterAllocation", GALLOC, f_galloc_v1),
    D(35, 2, DC_START, 21, "AdapterAllocation", GALLOC, f_galloc_v2),
    D(35, 3, DC_START, 21, "AdapterAllocation", GALLOC, f_galloc_v3),
    D(35, 4, DC_START, 21, "AdapterAllocation", GALLOC, f_galloc_v4),
    D(36, 1, START, 22, "DeviceAllocation", DALLOC, f_dalloc_v1),
    D(36, 2, START, 22, "DeviceAllocation", DALLOC, f_dalloc_v2),
    D(37, 1, STOP, 22, "DeviceAllocation", DALLOC, f_dalloc_v1),
    D(37, 2, STOP, 22, "DeviceAllocation", DALLOC, f_dalloc_v2),
    D(38, 1, DC_START, 22, "DeviceAllocation", DALLOC, f_dalloc_v1),
    D(38, 2, DC_START, 22, "DeviceAllocation", DALLOC, f_dalloc_v2),
    D(39, 0, INFO, 23, "TerminateAllocation", TERMINATE, f_terminate),
    D(40, 0, INFO, 75, "ProcessTerminateAllocation", PTERMINATE, f_terminate),
    D(41, 0, INFO, 24, "Lock", LOCK, f_lock),
    D(42, 0, INFO, 25, "Unlock", UNLOCK, f_unlock),
    D(43, 0, INFO, 27, "ReferenceAllocations", REFS, f_refs),
    D(73, 0, INFO, 49, "PageInAllocation", PAGE_IN, f_page_in_v0),
    D(73, 1, INFO, 49, "PageInAllocation", PAGE_IN, f_page_in_v0),
    D(73, 2, INFO, 49, "PageInAllocation", PAGE_IN, f_page_in_v2),
    D(74, 0, INFO, 50, "EvictAllocation", EVICT, f_evict),
    D(78, 0, INFO, 53, "ReportSegment", SEGMENT, f_segment_v0),
    D(78, 1, INFO, 53, "ReportSegment", SEGMENT, f_segment_v1),
    D(175, 1, START, 8, "DmaPacket", DMA_START, f_dma_start),
    D(177, 1, INFO, 8, "DmaPacket", DMA_INFO, f_dma_info),
    D(178, 0, START, 9, "QueuePacket", QP_START, f_qp_start_v0),
    D(178, 1, START, 9, "QueuePacket", QP_START, f_qp_start_v1),
    D(180, 0, STOP, 9, "QueuePacket", QP_STOP, f_qp_stop_v0),
    D(180, 1, STOP, 9, "QueuePacket", QP_STOP, f_qp_stop_v1),
    D(186, 0, START, 109, "OfferAllocation", OFFER, f_offer_start),
    D(187, 0, INFO, 109, "OfferAllocation", OFFER, f_offer_info),
    D(188, 0, STOP, 109, "OfferAllocation", OFFER_END, f_offer_stop),
    D(189, 0, INFO, 110, "ReportOfferAllocation", OFFER_END, f_report_offer),
    D(190, 0, INFO, 111, "ReclaimAllocation", RECLAIM, f_reclaim),
    D(401, 0, INFO, 242, "DestroyDisplayedAllocation", DISPLAYED, f_displayed),
    D(471, 0, START, -1, "Process", PROCESS, f_process),
    D(472, 0, START, -1, "Process", PROCESS, f_process_vm),
    D(473, 0, STOP, -1, "Process", PROCESS, f_process),
    D(477, 0, STOP, -1, "Process", PROCESS, f_process_vm),
    D(491, 0, DC_START, -1, "Process", PROCESS, f_process),
    D(492, 0, DC_START, -1, "Process", PROCESS, f_process_vm),
};

/* The importer's definition of DxgKrnl event (id, version, task, opcode), or
 * NULL; task or opcode < 0 match any. Ids were reused across Windows builds,
 * so task and opcode must agree when known. See import_internal.h. */
const struct lt__evdef *lt__evdef_find(int id, int version, int task, int opcode, int *id_known) {
  *id_known = 0;
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    const struct lt__evdef *d = &defs[i];
    if (d->id != id)
      continue;
    *id_known = 1;
    if (d->version != version)
      continue;
    /* Ids were reused across builds: the task and opcode must agree too. */
    if (opcode >= 0 && d->opcode != opcode)
      continue;
    if (task >= 0 && d->task >= 0 && d->task != task)
      continue;
    return d;
  }
  return NULL;
}

/* The index of field name in d's template, or -1. */
int lt__evdef_field(const struct lt__evdef *d, const char *name) {
  for (int i = 0; i < d->nfields; i++)
    if (!strcmp(d->fields[i], name))
      return i;
  return -1;
}

static int has_col(const char *name, const char *const *cols, const size_t *lens, size_t n) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++) {
    /* Array columns print as "Name[CountField]". */
    if (lens[i] >= len && !memcmp(cols[i], name, len) && (lens[i] == len || cols[i][len] == '['))
      return 1;
  }
  return 0;
}

/* xperf names an event "<Provider>/<Task>/<Opcode>" and prints no id or
 * version; several ids share a task and opcode (Process Start 471/472), so
 * the candidate whose whole template appears among the columns wins, the
 * longest template first. */
const struct lt__evdef *lt__evdef_by_name(const char *task, size_t task_len, const char *opcode,
                                          size_t opcode_len, const char *const *cols,
                                          const size_t *col_lens, size_t ncols) {
  int opc = lt__opcode_from_name(opcode, opcode_len);
  const struct lt__evdef *best = NULL;
  if (opc < 0)
    return NULL;
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    const struct lt__evdef *d = &defs[i];
    if (d->opcode != opc || strlen(d->task_name) != task_len ||
        memcmp(d->task_name, task, task_len))
      continue;
    int all = 1;
    for (int k = 0; k < d->nfields && all; k++)
      all = has_col(d->fields[k], cols, col_lens, ncols);
    if (all && (!best || d->nfields > best->nfields))
      best = d;
  }
  return best;
}

/* The ETW name of an opcode ("Start", "Stop", "DC_Start", "Info"); "?" for
 * others. */
const char *lt__opcode_name(int opcode) {
  switch (opcode) {
  case LT__OPC_INFO:
    return "Info";
  case LT__OPC_START:
    return "Start";
  case LT__OPC_STOP:
    return "Stop";
  case LT__OPC_DC_START:
    return "DC_Start";
  }
  return "?";
}

/* Parses an opcode as the exports spell it ("win:Start", "DCStart", "End", a
 * number below 256); -1 when unknown. */
int lt__opcode_from_name(const char *s, size_t n) {
  lt__trim(&s, &n);
  if (n > 4 && lt__eq_ci(s, 4, "win:"))
    s += 4, n -= 4;
  if (lt__eq_ci(s, n, "Info") || lt__eq_ci(s, n, "Information"))
    return LT__OPC_INFO;
  if (lt__eq_ci(s, n, "Start"))
    return LT__OPC_START;
  if (lt__eq_ci(s, n, "Stop") || lt__eq_ci(s, n, "End"))
    return LT__OPC_STOP;
  if (lt__eq_ci(s, n, "DC_Start") || lt__eq_ci(s, n, "DCStart"))
    return LT__OPC_DC_START;
  uint64_t v;
  if (lt__parse_u64(s, n, &v) == 0 && v < 256)
    return (int)v;
  return -1;
}

/* ---- maps ------------------------------------------------------------------ */

const struct lt__map lt__map_allocflags[] = {
    {"CpuVisible", 0x1},          {"PermanentSysMem", 0x2},      {"Cached", 0x4},
    {"Protected", 0x8},           {"ExistingSysMem", 0x10},      {"ExistingKernelSysMem", 0x20},
    {"FromEndOfSegment", 0x40},   {"Swizzled", 0x80},            {"Overlay", 0x100},
    {"Capture", 0x200},           {"UseAlternateVA", 0x400},     {"SynchronousPaging", 0x800},
    {"LinkMirrored", 0x1000},     {"LinkInstanced", 0x2000},     {"CrossAdapter", 0x100000},
    {"SwapChainBackBuffer", 0x200000}, {"SectionSupplied", 0x400000},
    {"CddCached", 0x800000},      {"CddWriteCombined", 0x1000000}, {"DoDPrimary", 0x2000000},
    {"CddBitmap", 0x4000000},     {"PinnedBackingStore", 0x8000000},
    {"PagingBuffer", 0x10000000}, {"Shareable", 0x20000000},     {"Primary", 0x40000000},
    {"ManagedPrimary", 0x80000000}, {NULL, 0}};
const struct lt__map lt__map_interrupt[] = {{"DMA_COMPLETED", 1},   {"COMPLETED", 1},
                                            {"DMA_PREEMPTED", 2},   {"PREEMPTED", 2},
                                            {"DMA_FAULTED", 4},     {"FAULTED", 4},
                                            {"DMA_PAGE_FAULTED", 9}, {"PAGE_FAULTED", 9},
                                            {NULL, 0}};
const struct lt__map lt__map_packet[] = {
    {"CLIENT_RENDER", 0}, {"CLIENT_PAGING", 1}, {"SYSTEM_PAGING", 2}, {"SYSTEM_PREEMTION", 3},
    {"RENDER", 0},        {"DEFERRED", 1},      {"SYSTEM", 2},        {"MMIOFLIP", 3},
    {"WAIT", 4},          {"SIGNAL", 5},        {"DEVICE", 6},        {"SOFTWARE", 7},
    {"PAGING", 8},        {NULL, 0}};
const struct lt__map lt__map_offerstate[] = {{"NOT_OFFERED", 0}, {"OFFER_PENDING", 1},
                                             {"OFFERED", 2},     {"DISCARDED", 3},
                                             {NULL, 0}};
const struct lt__map lt__map_offerprio[] = {
    {"Low", 1}, {"Normal", 2}, {"High", 3}, {"Maximum", 4}, {NULL, 0}};

/* A map name may carry a type prefix in some renderings ("DXGK_..._COMPLETED"
 * or "D3DDDI_OFFER_PRIORITY_LOW"): match the whole token, else its suffix
 * after an underscore. */
static int map_token(const char *s, size_t n, const struct lt__map *map, uint64_t *out) {
  if (lt__parse_u64(s, n, out) == 0)
    return 0;
  for (const struct lt__map *m = map; m->name; m++)
    if (lt__eq_ci(s, n, m->name)) {
      *out = m->value;
      return 0;
    }
  for (const struct lt__map *m = map; m->name; m++) {
    size_t len = strlen(m->name);
    if (n > len && s[n - len - 1] == '_' && lt__eq_ci(s + n - len, len, m->name)) {
      *out = m->value;
      return 0;
    }
  }
  return -1;
}

/* Parses a field that is a number or a name of map, or for a bitmap several
 * names joined by '|', ',', '+' or blanks (empty is 0); 0, or -1 for an
 * unknown name. See import_internal.h. */
int lt__parse_mapped(const char *s, size_t n, const struct lt__map *map, int bitmap,
                     uint64_t *out) {
  lt__trim(&s, &n);
  if (!bitmap)
    return map_token(s, n, map, out);
  if (n == 0) {
    *out = 0;
    return 0;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && strchr("|,+ \t", s[i]))
      i++;
    size_t j = i;
    while (j < n && !strchr("|,+ \t", s[j]))
      j++;
    if (j > i) {
      uint64_t t;
      if (map_token(s + i, j - i, map, &t))
        return -1;
      v |= t;
    }
    i = j;
  }
  *out = v;
  return 0;
}
