/* Tests of the reference miniport (drivers/reference/): driven DDI by DDI with a
 * hand-made DXGKRNL_INTERFACE and the real tracked pool. Every legal shape of
 * the lifecycle contract (wddm-contract.md §2) leaves no pool block behind
 * after StopDevice and no pool problem; every seeded bug, switched on, shows
 * its symptom through the pool or LtEnumReferencedAllocations, and does not
 * when it is off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel_shim.h"
#include "lifetrace/miniport.h"
#include "lifetrace/pool.h"
#include "refdrv_internal.h"

#define MAX_KHANDLES 256
#define MAX_REFS 64

/* ---- the hand-made dxgkrnl ------------------------------------------------ */

typedef struct fx {
  lt_pool *pool;
  const LT_MINIPORT *mp;
  DXGKRNL_INTERFACE iface;
  HANDLE adapter, device;
  long live_at_start;
  int problems[4];
  uint32_t problem_tag[4];
  /* kernel handle -> KMD hAllocation (what DxgkCbGetHandleData resolves) */
  HANDLE khandles[MAX_KHANDLES];
  D3DKMT_HANDLE next_khandle;
  UINT completed[RD_MAX_NODES];
  int scanout_calls[RD_MAX_SOURCES];
  UINT scanout_segment[RD_MAX_SOURCES];
  SIZE_T scanout_size[RD_MAX_SOURCES];
  /* what the last LtEnumReferencedAllocations reported */
  int n_refs;
  HANDLE ref_alloc[MAX_REFS];
  char ref_where[MAX_REFS][24];
} fx;

static fx *g;

static PVOID cb_get_handle_data(const DXGKARGCB_GETHANDLEDATA *Args) {
  if (Args->Type != DXGK_HANDLE_ALLOCATION || Args->hObject >= MAX_KHANDLES)
    return NULL;
  return g->khandles[Args->hObject];
}

static UINT cb_completed_fence(HANDLE dev, UINT node) {
  assert_ptr_equal(dev, g);
  return node < RD_MAX_NODES ? g->completed[node] : 0;
}

static void cb_program_scanout(HANDLE dev, UINT source, UINT segment, PHYSICAL_ADDRESS addr,
                               SIZE_T size) {
  assert_ptr_equal(dev, g);
  assert_true(source < RD_MAX_SOURCES);
  g->scanout_calls[source]++;
  g->scanout_segment[source] = segment;
  g->scanout_size[source] = size;
}

static void on_problem(void *data, int problem, const lt_pool_block_info *b) {
  fx *f = data;
  f->problems[problem]++;
  f->problem_tag[problem] = b->tag;
}

static int setup(void **state) {
  DXGKARG_CREATEDEVICE cd = {0};
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  g = f;
  f->live_at_start = lt_alloc_live();
  assert_int_equal(lt_pool_new(&f->pool), 0);
  lt_pool_set_current(f->pool);
  lt_pool_set_problem_cb(f->pool, on_problem, f);
  f->mp = lt_reference_miniport();
  assert_int_equal(f->mp->AbiVersion, LT_MINIPORT_ABI_VERSION);
  assert_int_equal(f->mp->LtSetOption("bugs", "none"), STATUS_SUCCESS);
  f->iface.Size = sizeof f->iface;
  f->iface.DeviceHandle = f;
  f->iface.DxgkCbGetHandleData = cb_get_handle_data;
  f->iface.LtCbQueryCompletedFence = cb_completed_fence;
  f->iface.LtCbProgramScanout = cb_program_scanout;
  f->next_khandle = 1;
  assert_int_equal(f->mp->DxgkDdiStartDevice(&f->iface, &f->adapter), STATUS_SUCCESS);
  cd.hDevice = (HANDLE)0x1000;
  assert_int_equal(f->mp->DxgkDdiCreateDevice(f->adapter, &cd), STATUS_SUCCESS);
  f->device = cd.hDevice;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  (void)f->mp->LtSetOption("bugs", "none");
  lt_pool_free(f->pool);
  assert_int_equal(lt_alloc_live(), f->live_at_start);
  free(f);
  g = NULL;
  return 0;
}

/* ---- DDI helpers ---------------------------------------------------------- */

static unsigned char alloc_blob[24] = "per-allocation UMD data";
static unsigned char resource_blob[40] = "resource-level UMD data";

/* CreateAllocation of n allocations; *hRes in/out; Resource flag when res.
 * A successful call must return n non-NULL handles unless `lenient`. */
static int lenient;
static NTSTATUS create(int res, HANDLE *hRes, UINT n, HANDLE *out, UINT flags) {
  DXGK_ALLOCATIONINFO info[16];
  DXGKARG_CREATEALLOCATION ca = {0};
  NTSTATUS st;
  assert_true(n <= 16);
  memset(info, 0, sizeof info);
  for (UINT i = 0; i < n; i++) {
    info[i].Size = 65536 + i;
    info[i].Alignment = 4096;
    info[i].SupportedWriteSegmentSet = 0x3;
    info[i].Flags.Value = flags;
    info[i].pPrivateDriverData = alloc_blob;
    info[i].PrivateDriverDataSize = sizeof alloc_blob;
    info[i].hAllocation = (HANDLE)0x5a5a; /* garbage the driver must overwrite */
  }
  ca.pPrivateDriverData = res ? resource_blob : NULL;
  ca.PrivateDriverDataSize = res ? sizeof resource_blob : 0;
  ca.NumAllocations = n;
  ca.pAllocationInfo = info;
  ca.hResource = *hRes;
  ca.Flags.Resource = res ? 1 : 0;
  st = g->mp->DxgkDdiCreateAllocation(g->adapter, &ca);
  for (UINT i = 0; i < n; i++) {
    out[i] = info[i].hAllocation;
    if (NT_SUCCESS(st) && !lenient) {
      assert_non_null(out[i]);
      assert_int_equal(info[i].Size % 4096, 0);
      assert_true(info[i].Size >= 65536 + i);
      assert_int_not_equal(info[i].AllocationPriority, 0);
    }
  }
  *hRes = ca.hResource;
  return st;
}

static NTSTATUS destroy(UINT n, const HANDLE *list, HANDLE hRes, int destroy_resource) {
  DXGKARG_DESTROYALLOCATION da = {0};
  da.NumAllocations = n;
  da.pAllocationList = n ? list : NULL;
  da.hResource = hRes;
  da.Flags.DestroyResource = destroy_resource ? 1 : 0;
  return g->mp->DxgkDdiDestroyAllocation(g->adapter, &da);
}

/* Gives an allocation a kernel handle that DxgkCbGetHandleData resolves. */
static D3DKMT_HANDLE khandle(HANDLE hAllocation) {
  D3DKMT_HANDLE k = g->next_khandle++;
  assert_true(k < MAX_KHANDLES);
  g->khandles[k] = hAllocation;
  return k;
}

static NTSTATUS open_on(HANDLE device, UINT n, const D3DKMT_HANDLE *k, HANDLE *bindings,
                        int create_flag) {
  DXGK_OPENALLOCATIONINFO oi[16];
  DXGKARG_OPENALLOCATION oa = {0};
  NTSTATUS st;
  assert_true(n <= 16);
  memset(oi, 0, sizeof oi);
  for (UINT i = 0; i < n; i++) {
    oi[i].hAllocation = k[i];
    oi[i].pPrivateDriverData = alloc_blob;
    oi[i].PrivateDriverDataSize = sizeof alloc_blob;
  }
  oa.NumAllocations = n;
  oa.pOpenAllocation = oi;
  oa.Flags.Create = create_flag ? 1 : 0;
  st = g->mp->DxgkDdiOpenAllocation(device, &oa);
  for (UINT i = 0; i < n; i++) {
    bindings[i] = oi[i].hDeviceSpecificAllocation;
    if (NT_SUCCESS(st))
      assert_non_null(bindings[i]);
  }
  return st;
}

static void close_on(HANDLE device, UINT n, const HANDLE *bindings) {
  DXGKARG_CLOSEALLOCATION cl = {n, bindings};
  assert_int_equal(g->mp->DxgkDdiCloseAllocation(device, &cl), STATUS_SUCCESS);
}

static HANDLE new_device(void) {
  DXGKARG_CREATEDEVICE cd = {0};
  cd.hDevice = (HANDLE)0x2000;
  assert_int_equal(g->mp->DxgkDdiCreateDevice(g->adapter, &cd), STATUS_SUCCESS);
  return cd.hDevice;
}

static HANDLE new_context(HANDLE device, UINT node) {
  DXGKARG_CREATECONTEXT cc = {0};
  cc.hContext = (HANDLE)0x3000;
  cc.NodeOrdinal = node;
  assert_int_equal(g->mp->DxgkDdiCreateContext(device, &cc), STATUS_SUCCESS);
  return cc.hContext;
}

/* Render + SubmitCommand of one DMA buffer naming the given bindings. */
static void submit(HANDLE context, UINT node, UINT fence, UINT n, const HANDLE *bindings) {
  DXGK_ALLOCATIONLIST list[16];
  unsigned char priv[64];
  DXGKARG_RENDER rd = {0};
  DXGKARG_SUBMITCOMMAND sc = {0};
  assert_true(n <= 16 && g->mp->DmaBufferPrivateDataSize <= sizeof priv);
  memset(list, 0, sizeof list);
  memset(priv, 0, sizeof priv);
  for (UINT i = 0; i < n; i++) {
    list[i].hDeviceSpecificAllocation = bindings[i];
    list[i].WriteOperation = i & 1;
  }
  rd.AllocationListSize = n;
  rd.pAllocationList = list;
  rd.pDmaBufferPrivateData = priv;
  rd.DmaBufferPrivateDataSize = g->mp->DmaBufferPrivateDataSize;
  assert_int_equal(g->mp->DxgkDdiRender(context, &rd), STATUS_SUCCESS);
  sc.hContext = context;
  sc.NodeOrdinal = node;
  sc.SubmissionFenceId = fence;
  sc.pDmaBufferPrivateData = priv;
  sc.DmaBufferPrivateDataSize = g->mp->DmaBufferPrivateDataSize;
  lt__kernel_set_irql(DISPATCH_LEVEL);
  assert_int_equal(g->mp->DxgkDdiSubmitCommand(g->adapter, &sc), STATUS_SUCCESS);
  lt__kernel_set_irql(PASSIVE_LEVEL);
}

/* The GPU completes node up to fence: interrupt, then DPC. */
static void complete(UINT node, UINT fence) {
  g->completed[node] = fence;
  assert_true(g->mp->DxgkDdiInterruptRoutine(g->adapter, node));
  g->mp->DxgkDdiDpcRoutine(g->adapter);
}

static void set_scanout(UINT source, HANDLE hAllocation) {
  DXGKARG_SETVIDPNSOURCEADDRESS sa = {0};
  sa.VidPnSourceId = source;
  sa.hAllocation = hAllocation;
  sa.PrimarySegment = hAllocation ? 1 : 0;
  sa.PrimaryAddress.QuadPart = hAllocation ? 0x100000 : 0;
  assert_int_equal(g->mp->DxgkDdiSetVidPnSourceAddress(g->adapter, &sa), STATUS_SUCCESS);
}

static void paging(DXGK_BUILDPAGINGBUFFER_OPERATION op, HANDLE hAllocation, SIZE_T size,
                   UINT dst_segment) {
  DXGKARG_BUILDPAGINGBUFFER pb;
  memset(&pb, 0, sizeof pb);
  pb.Operation = op;
  pb.Transfer.hAllocation = hAllocation;
  pb.Transfer.TransferSize = size;
  pb.Transfer.Destination.SegmentId = dst_segment;
  pb.Transfer.Destination.SegmentAddress.QuadPart = dst_segment ? 0x200000 : 0;
  assert_int_equal(g->mp->DxgkDdiBuildPagingBuffer(g->adapter, &pb), STATUS_SUCCESS);
}

static void on_ref(void *data, HANDLE h, const char *where) {
  fx *f = data;
  if (f->n_refs < MAX_REFS) {
    f->ref_alloc[f->n_refs] = h;
    snprintf(f->ref_where[f->n_refs], sizeof f->ref_where[0], "%s", where);
  }
  f->n_refs++;
}

static int enum_refs(void) {
  g->n_refs = 0;
  g->mp->LtEnumReferencedAllocations(g->adapter, on_ref, g);
  return g->n_refs;
}

/* Is h referenced at a place whose name starts with prefix? */
static int referenced(HANDLE h, const char *prefix) {
  enum_refs();
  for (int i = 0; i < g->n_refs && i < MAX_REFS; i++)
    if (g->ref_alloc[i] == h && strncmp(g->ref_where[i], prefix, strlen(prefix)) == 0)
      return 1;
  return 0;
}

struct tag_count {
  uint32_t tag;
  size_t n;
};

static void count_tag(void *data, const lt_pool_block_info *b) {
  struct tag_count *c = data;
  if (b->tag == c->tag)
    c->n++;
}

static size_t live_with_tag(uint32_t tag) {
  struct tag_count c = {tag, 0};
  lt_pool_each_live(g->pool, 0, 1, count_tag, &c);
  return c.n;
}

static int total_problems(void) {
  lt_pool_check_quarantine(g->pool);
  return g->problems[0] + g->problems[1] + g->problems[2] + g->problems[3];
}

static void bugs(const char *list) {
  assert_int_equal(g->mp->LtSetOption("bugs", list), STATUS_SUCCESS);
}

/* StopDevice; then nothing the driver allocated may remain. */
static void stop_clean(void) {
  assert_int_equal(g->mp->DxgkDdiStopDevice(g->adapter), STATUS_SUCCESS);
  g->adapter = NULL;
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  assert_int_equal(total_problems(), 0);
}

static void stop(void) {
  assert_int_equal(g->mp->DxgkDdiStopDevice(g->adapter), STATUS_SUCCESS);
  g->adapter = NULL;
}

/* ---- legal shapes ---------------------------------------------------------- */

/* Group destroy of a 4-allocation resource with DestroyResource. */
static void test_group_destroy(void **state) {
  HANDLE hRes = NULL, a[4];
  assert_int_equal(create(1, &hRes, 4, a, 0), STATUS_SUCCESS);
  assert_non_null(hRes);
  assert_true(lt_pool_is_live(g->pool, hRes));
  assert_int_equal(live_with_tag(RD_TAG_ALLOCATION), 4);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 1);
  assert_int_equal(destroy(4, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_ALLOCATION), 0);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 0);
  assert_int_equal(live_with_tag(RD_TAG_PRIVATE), 0);
  assert_int_equal(total_problems(), 0);
  stop_clean();
}

/* Individual destroys carrying hResource with DestroyResource = 0 leave the
 * resource alive; the resource-only destroy {0, NULL, hResource, 1} frees it. */
static void test_individual_then_resource_only(void **state) {
  HANDLE hRes = NULL, a[3];
  assert_int_equal(create(1, &hRes, 3, a, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(1, &a[1], hRes, 0), STATUS_SUCCESS);
  assert_true(lt_pool_is_live(g->pool, hRes));
  assert_int_equal(destroy(2, (HANDLE[]){a[0], a[2]}, hRes, 0), STATUS_SUCCESS);
  assert_true(lt_pool_is_live(g->pool, hRes));
  assert_int_equal(live_with_tag(RD_TAG_ALLOCATION), 0);
  assert_int_equal(destroy(0, NULL, hRes, 1), STATUS_SUCCESS);
  assert_false(lt_pool_is_live(g->pool, hRes));
  stop_clean();
}

/* Individual destroys with hResource NULL, then the resource-only destroy. */
static void test_individual_without_hresource(void **state) {
  HANDLE hRes = NULL, a[2];
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(1, &a[0], NULL, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(1, &a[1], NULL, 0), STATUS_SUCCESS);
  assert_true(lt_pool_is_live(g->pool, hRes));
  assert_int_equal(destroy(0, NULL, hRes, 1), STATUS_SUCCESS);
  stop_clean();
}

/* Device allocations (no resource object): DestroyResource = 1 with
 * hResource NULL, and an empty call, are both harmless. */
static void test_destroy_resource_without_hresource(void **state) {
  HANDLE hRes = NULL, a[3];
  assert_int_equal(create(0, &hRes, 3, a, 0), STATUS_SUCCESS);
  assert_null(hRes);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 0);
  assert_int_equal(destroy(3, a, NULL, 1), STATUS_SUCCESS);
  assert_int_equal(destroy(0, NULL, NULL, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(0, NULL, NULL, 1), STATUS_SUCCESS);
  stop_clean();
}

/* Adding allocations to an existing resource reuses it and replaces its
 * resource-level blob. */
static void test_add_to_existing_resource(void **state) {
  HANDLE hRes = NULL, a[2], b[3];
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  HANDLE first = hRes;
  assert_int_equal(create(1, &hRes, 3, b, 0), STATUS_SUCCESS);
  assert_ptr_equal(hRes, first);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 1);
  /* one blob per allocation plus one (replaced) resource blob */
  assert_int_equal(live_with_tag(RD_TAG_PRIVATE), 5 + 1);
  assert_int_equal(((RD_RESOURCE *)hRes)->cAllocations, 5);
  assert_int_equal(destroy(2, a, hRes, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(3, b, hRes, 1), STATUS_SUCCESS);
  stop_clean();
}

/* A shared allocation bound on three devices: each device closes, then the
 * creator's device goes away before the allocation is destroyed. */
static void test_shared_allocation(void **state) {
  HANDLE hRes = NULL, a[1], b0[1], b1[1], b2[1];
  HANDLE dev1 = new_device(), dev2 = new_device();
  assert_int_equal(create(1, &hRes, 1, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k = khandle(a[0]);
  assert_int_equal(open_on(g->device, 1, &k, b0, 1), STATUS_SUCCESS);
  assert_int_equal(open_on(dev1, 1, &k, b1, 0), STATUS_SUCCESS);
  assert_int_equal(open_on(dev2, 1, &k, b2, 0), STATUS_SUCCESS);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cOpens, 3);
  assert_int_equal(enum_refs(), 0); /* bindings are dxgkrnl's bookkeeping */
  close_on(g->device, 1, b0);
  assert_int_equal(g->mp->DxgkDdiDestroyDevice(g->device), STATUS_SUCCESS);
  g->device = NULL;
  close_on(dev1, 1, b1);
  close_on(dev2, 1, b2);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cOpens, 0);
  assert_int_equal(destroy(1, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(enum_refs(), 0);
  assert_int_equal(g->mp->DxgkDdiDestroyDevice(dev1), STATUS_SUCCESS);
  assert_int_equal(g->mp->DxgkDdiDestroyDevice(dev2), STATUS_SUCCESS);
  stop_clean();
}

/* Destroying the allocation being scanned out clears the scanout pointer
 * (M4) and blanks the source. */
static void test_destroy_scanned_out(void **state) {
  HANDLE hRes = NULL, a[2];
  assert_int_equal(create(1, &hRes, 2, a, 0x80000000u), STATUS_SUCCESS);
  set_scanout(0, a[0]);
  set_scanout(1, a[1]);
  assert_int_equal(g->scanout_segment[0], 1);
  assert_int_equal(g->scanout_size[0], ((RD_ALLOCATION *)a[0])->Size);
  set_scanout(0, a[1]); /* flip source 0 to a[1] */
  assert_int_equal(((RD_ALLOCATION *)a[0])->ScanoutMask, 0);
  assert_int_equal(((RD_ALLOCATION *)a[1])->ScanoutMask, 3);
  int calls = g->scanout_calls[0];
  assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(g->scanout_calls[0], calls + 1);
  assert_int_equal(g->scanout_segment[0], 0);
  assert_int_equal(g->scanout_segment[1], 0);
  assert_int_equal(enum_refs(), 0);
  set_scanout(0, NULL);
  stop_clean();
}

/* DMA: Render/Submit reference the allocations, the DPC completes up to the
 * fence the GPU reports; a destroy with AssumeNotInUse while a packet is
 * still queued takes the allocation out of the packet. */
static void test_dma_completion_and_early_destroy(void **state) {
  HANDLE hRes = NULL, a[2], b[2];
  HANDLE ctx = new_context(g->device, 2);
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k[2] = {khandle(a[0]), khandle(a[1])};
  assert_int_equal(open_on(g->device, 2, k, b, 1), STATUS_SUCCESS);
  submit(ctx, 2, 1, 2, b);
  submit(ctx, 2, 2, 1, &b[1]);
  RD_ALLOCATION *a0 = a[0], *a1 = a[1];
  assert_int_equal(a1->cDmaRefs, 2);
  assert_true(referenced(a[1], "dma-queue"));
  complete(2, 1);
  assert_int_equal(a0->cDmaRefs, 0);
  assert_int_equal(a0->LastCompletedFence, 1);
  assert_int_equal(a1->cDmaRefs, 1);
  close_on(g->device, 2, b);
  assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(enum_refs(), 0);
  complete(2, 2);
  assert_int_equal(live_with_tag(RD_TAG_PACKET), 0);
  assert_int_equal(g->mp->DxgkDdiDestroyContext(ctx), STATUS_SUCCESS);
  stop_clean();
}

/* TDR: ResetFromTimeout drops pending DMA, eviction notices (TRANSFER with
 * TransferSize 0) mark the content lost, then the normal teardown. */
static void test_tdr_eviction_notice(void **state) {
  HANDLE hRes = NULL, a[2], b[2];
  HANDLE ctx = new_context(g->device, 0);
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k[2] = {khandle(a[0]), khandle(a[1])};
  assert_int_equal(open_on(g->device, 2, k, b, 1), STATUS_SUCCESS);
  paging(DXGK_OPERATION_TRANSFER, a[0], 65536, 1);
  paging(DXGK_OPERATION_FILL, a[1], 65536, 1);
  assert_int_equal(((RD_ALLOCATION *)a[0])->Segment, 1);
  submit(ctx, 0, 7, 2, b);
  assert_int_equal(g->mp->DxgkDdiResetFromTimeout(g->adapter), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_PACKET), 0);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cDmaRefs, 0);
  paging(DXGK_OPERATION_TRANSFER, a[0], 0, 0);
  paging(DXGK_OPERATION_TRANSFER, a[1], 0, 0);
  assert_int_equal(g->mp->DxgkDdiRestartFromTimeout(g->adapter), STATUS_SUCCESS);
  assert_int_equal(((RD_ALLOCATION *)a[0])->Segment, 0);
  assert_true(((RD_ALLOCATION *)a[0])->ContentLost);
  assert_int_equal(((RD_ADAPTER *)g->adapter)->EvictionNotices, 2);
  complete(0, 7); /* a late interrupt completes nothing */
  close_on(g->device, 2, b);
  assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(g->mp->DxgkDdiDestroyContext(ctx), STATUS_SUCCESS);
  stop_clean();
}

/* The lifetrace UMD describes each allocation in its 16-byte private blob
 * (size, then flags), as harness/dxgkrnl_alloc.c sends it; the driver reports
 * the page-rounded size and the flags back and keeps a copy of the blob. */
static void test_umd_blob_describes_allocation(void **state) {
  unsigned char blob[16];
  uint64_t size = 10000;
  uint32_t flags = 0x80000001u; /* Primary | CpuVisible */
  DXGK_ALLOCATIONINFO info;
  DXGKARG_CREATEALLOCATION ca = {0};
  memset(blob, 0, sizeof blob);
  memcpy(blob, &size, sizeof size);
  memcpy(blob + 8, &flags, sizeof flags);
  memset(&info, 0, sizeof info);
  info.pPrivateDriverData = blob + 0; /* no alignment promise */
  info.PrivateDriverDataSize = sizeof blob;
  ca.NumAllocations = 1;
  ca.pAllocationInfo = &info;
  assert_int_equal(g->mp->DxgkDdiCreateAllocation(g->adapter, &ca), STATUS_SUCCESS);
  assert_int_equal(info.Size, 12288);
  assert_int_equal(info.Flags.Value, flags);
  assert_true(info.Flags.Primary);
  RD_ALLOCATION *a = info.hAllocation;
  assert_int_equal(a->Size, 12288);
  assert_int_equal(a->PrivateDataSize, sizeof blob);
  assert_memory_equal(a->pPrivateData, blob, sizeof blob);
  set_scanout(2, a);
  assert_int_equal(g->scanout_size[2], 12288);
  /* the harness's page-out: TRANSFER to system memory (segment 0) */
  paging(DXGK_OPERATION_TRANSFER, a, 12288, 1);
  assert_int_equal(a->Segment, 1);
  paging(DXGK_OPERATION_TRANSFER, a, 12288, 0);
  assert_int_equal(a->Segment, 0);
  assert_int_equal(destroy(1, (HANDLE[]){a}, NULL, 0), STATUS_SUCCESS);
  assert_int_equal(g->scanout_segment[2], 0);
  /* a size that cannot be rounded is refused, and nothing is left behind */
  size = UINT64_MAX;
  memcpy(blob, &size, sizeof size);
  info.Size = 0;
  assert_int_equal(g->mp->DxgkDdiCreateAllocation(g->adapter, &ca), STATUS_INVALID_PARAMETER);
  assert_null(info.hAllocation);
  stop_clean();
}

/* Lock/Unlock and aperture map/unmap keep their counts. */
static void test_lock_and_aperture(void **state) {
  HANDLE hRes = NULL, a[1];
  DXGKARG_LOCK lk = {0};
  DXGKARG_UNLOCK ul = {0};
  assert_int_equal(create(0, &hRes, 1, a, 0x1), STATUS_SUCCESS);
  DXGKARG_BUILDPAGINGBUFFER pb;
  memset(&pb, 0, sizeof pb);
  pb.Operation = DXGK_OPERATION_MAP_APERTURE_SEGMENT;
  pb.MapApertureSegment.hAllocation = a[0];
  pb.MapApertureSegment.SegmentId = 2;
  pb.MapApertureSegment.NumberOfPages = 16;
  assert_int_equal(g->mp->DxgkDdiBuildPagingBuffer(g->adapter, &pb), STATUS_SUCCESS);
  assert_int_equal(((RD_ALLOCATION *)a[0])->Segment, 2);
  lk.hAllocation = a[0];
  assert_int_equal(g->mp->DxgkDdiLock(g->adapter, &lk), STATUS_SUCCESS);
  assert_non_null(lk.pData);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cLocks, 1);
  ul.hAllocation = a[0];
  assert_int_equal(g->mp->DxgkDdiUnlock(g->adapter, &ul), STATUS_SUCCESS);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cLocks, 0);
  pb.Operation = DXGK_OPERATION_UNMAP_APERTURE_SEGMENT;
  assert_int_equal(g->mp->DxgkDdiBuildPagingBuffer(g->adapter, &pb), STATUS_SUCCESS);
  assert_int_equal(((RD_ALLOCATION *)a[0])->Segment, 0);
  assert_int_equal(destroy(1, a, NULL, 0), STATUS_SUCCESS);
  stop_clean();
}

/* An OOM at every pool request of a multi-allocation create: the call fails
 * with STATUS_NO_MEMORY, publishes nothing and leaves no block behind; when
 * adding to an existing resource, that resource survives. */
static void oom_sweep(int add_to_existing) {
  HANDLE hRes = NULL, a[1], b[4];
  int failures = 0;
  if (add_to_existing)
    assert_int_equal(create(1, &hRes, 1, a, 0), STATUS_SUCCESS);
  HANDLE existing = hRes;
  size_t live = lt_pool_live_blocks(g->pool);
  for (unsigned nth = 1;; nth++) {
    HANDLE in = existing;
    lt_pool_fail_nth(g->pool, nth);
    NTSTATUS st = create(1, &in, 4, b, 0);
    lt_pool_fail_nth(g->pool, 0);
    if (NT_SUCCESS(st)) {
      assert_int_equal(destroy(4, b, in, !add_to_existing), STATUS_SUCCESS);
      break;
    }
    failures++;
    assert_int_equal(st, STATUS_NO_MEMORY);
    assert_ptr_equal(in, existing); /* hResource unchanged */
    for (int i = 0; i < 4; i++)
      assert_null(b[i]);
    assert_int_equal(lt_pool_live_blocks(g->pool), live);
    if (existing)
      assert_true(lt_pool_is_live(g->pool, existing));
  }
  assert_true(failures >= 8); /* every allocation and blob, and the resource */
  if (add_to_existing)
    assert_int_equal(destroy(1, a, existing, 1), STATUS_SUCCESS);
  stop_clean();
}

static void test_oom_new_resource(void **state) { oom_sweep(0); }
static void test_oom_existing_resource(void **state) { oom_sweep(1); }

/* A failed OpenAllocation (unresolvable handle, or OOM) rolls back the
 * bindings of earlier elements and reports the right status. */
static void test_open_failure_rolls_back(void **state) {
  HANDLE hRes = NULL, a[3], b[4];
  assert_int_equal(create(1, &hRes, 3, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k[4] = {khandle(a[0]), khandle(a[1]), 200 /* never issued */, khandle(a[2])};
  size_t live = lt_pool_live_blocks(g->pool);
  assert_int_equal(open_on(g->device, 4, k, b, 0), STATUS_INVALID_HANDLE);
  for (int i = 0; i < 4; i++)
    assert_null(b[i]);
  assert_int_equal(lt_pool_live_blocks(g->pool), live);
  lt_pool_fail_nth(g->pool, 2);
  assert_int_equal(open_on(g->device, 2, (D3DKMT_HANDLE[]){k[0], k[1]}, b, 0), STATUS_NO_MEMORY);
  lt_pool_fail_nth(g->pool, 0);
  assert_int_equal(lt_pool_live_blocks(g->pool), live);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cOpens, 0);
  assert_int_equal(open_on(g->device, 3, (D3DKMT_HANDLE[]){k[0], k[1], k[3]}, b, 0),
                   STATUS_SUCCESS);
  close_on(g->device, 3, b);
  assert_int_equal(destroy(3, a, hRes, 1), STATUS_SUCCESS);
  stop_clean();
}

/* DestroyDevice frees its contexts (with queued packets) and the bindings
 * it still holds; StopDevice frees every object left. */
static void test_teardown_frees_everything(void **state) {
  HANDLE hRes = NULL, a[3], b0[3], b1[3], c[2];
  HANDLE dev1 = new_device();
  HANDLE ctx0 = new_context(g->device, 1), ctx1 = new_context(dev1, 1);
  assert_int_equal(create(1, &hRes, 3, a, 0x80000000u), STATUS_SUCCESS);
  assert_int_equal(create(0, &(HANDLE){NULL}, 2, c, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k[3] = {khandle(a[0]), khandle(a[1]), khandle(a[2])};
  assert_int_equal(open_on(g->device, 3, k, b0, 1), STATUS_SUCCESS);
  assert_int_equal(open_on(dev1, 3, k, b1, 0), STATUS_SUCCESS);
  submit(ctx0, 1, 1, 3, b0);
  submit(ctx1, 1, 2, 3, b1);
  set_scanout(3, a[2]);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cOpens, 2);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cDmaRefs, 2);
  assert_int_equal(g->mp->DxgkDdiDestroyDevice(dev1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_CONTEXT), 1);
  assert_int_equal(live_with_tag(RD_TAG_BINDING), 3);
  assert_int_equal(live_with_tag(RD_TAG_PACKET), 1);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cOpens, 1);
  assert_int_equal(((RD_ALLOCATION *)a[0])->cDmaRefs, 1);
  stop_clean(); /* device 0, its context, packets, bindings, allocations, resource */
}

/* Unlinking by address finds every member of lists of every length from
 * either end, and leaves a list alone for an entry that is not on it. */
static void test_remove_if_listed(void **state) {
  RD_LIST_ENTRY head, e[7], stranger;
  for (int n = 0; n <= 7; n++) {
    for (int victim = -1; victim < n; victim++) {
      RdInitializeListHead(&head);
      for (int i = 0; i < n; i++)
        RdInsertTailList(&head, &e[i]);
      RD_LIST_ENTRY *target = victim < 0 ? &stranger : &e[victim];
      assert_int_equal(lt__rd_remove_if_listed(&head, target), victim >= 0);
      int count = 0;
      for (RD_LIST_ENTRY *x = head.Flink; x != &head; x = x->Flink, count++) {
        assert_ptr_not_equal(x, target);
        assert_ptr_equal(x->Flink->Blink, x);
      }
      assert_int_equal(count, victim < 0 ? n : n - 1);
    }
  }
  stop_clean();
}

/* ---- options --------------------------------------------------------------- */

static void test_bug_option_syntax(void **state) {
  NTSTATUS (*set)(const char *, const char *) = g->mp->LtSetOption;
  assert_int_equal(set("bugs", "1, 3 ,p13"), STATUS_SUCCESS);
  assert_true(lt__rd_bug(1) && lt__rd_bug(3) && lt__rd_bug(9));
  assert_false(lt__rd_bug(2));
  assert_int_equal(set("bugs", "P1-HResource-Decides,p19"), STATUS_SUCCESS);
  assert_true(lt__rd_bug(1) && lt__rd_bug(10));
  assert_false(lt__rd_bug(3));
  assert_int_equal(set("bugs", "p7-publish-on-failure"), STATUS_SUCCESS);
  assert_true(lt__rd_bug(6));
  assert_int_equal(set("bugs", "2,bogus"), STATUS_INVALID_PARAMETER);
  assert_true(lt__rd_bug(6)); /* unchanged */
  assert_false(lt__rd_bug(2));
  assert_int_equal(set("bugs", "11"), STATUS_INVALID_PARAMETER);
  assert_int_equal(set("bugs", "0"), STATUS_INVALID_PARAMETER);
  assert_int_equal(set("colour", "1"), STATUS_INVALID_PARAMETER);
  assert_int_equal(set("bugs", "all"), STATUS_SUCCESS);
  for (int i = 1; i <= RD_BUG__MAX; i++)
    assert_true(lt__rd_bug(i));
  assert_int_equal(set("bugs", ""), STATUS_SUCCESS);
  for (int i = 1; i <= RD_BUG__MAX; i++)
    assert_false(lt__rd_bug(i));
  assert_int_equal(set("bugs", "4"), STATUS_SUCCESS);
  assert_int_equal(set("bugs", "none"), STATUS_SUCCESS);
  assert_false(lt__rd_bug(4));
  stop_clean();
}

/* ---- seeded bugs: symptom when on, none when off ---------------------------- */

/* Bug 1 (P1): an individual destroy of a subset with hResource set releases
 * the resource; the real resource destroy frees it a second time. */
static void bug1_scenario(int on) {
  HANDLE hRes = NULL, a[3];
  bugs(on ? "p1" : "none");
  assert_int_equal(create(1, &hRes, 3, a, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(1, a, hRes, 0), STATUS_SUCCESS);
  assert_int_equal(lt_pool_is_freed(g->pool, hRes), on);
  assert_int_equal(destroy(2, &a[1], hRes, 1), STATUS_SUCCESS);
  lt_pool_check_quarantine(g->pool);
  assert_int_equal(g->problems[LT_POOL_DOUBLE_FREE], on);
  if (on)
    assert_int_equal(g->problem_tag[LT_POOL_DOUBLE_FREE], RD_TAG_RESOURCE);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  if (!on)
    assert_int_equal(total_problems(), 0);
}
static void test_bug1_on(void **state) { bug1_scenario(1); }
static void test_bug1_off(void **state) { bug1_scenario(0); }

/* Bug 2 (P3): a group destroy frees only pAllocationList[0]. */
static void bug2_scenario(int on) {
  HANDLE hRes = NULL, a[3];
  bugs(on ? "2" : "none");
  assert_int_equal(create(1, &hRes, 3, a, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(3, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_ALLOCATION), on ? 2 : 0);
  assert_int_equal(lt_pool_is_live(g->pool, a[1]), on);
  assert_int_equal(lt_pool_is_live(g->pool, a[2]), on);
  assert_int_equal(total_problems(), 0);
  stop_clean(); /* StopDevice still frees what the adapter tracks */
}
static void test_bug2_on(void **state) { bug2_scenario(1); }
static void test_bug2_off(void **state) { bug2_scenario(0); }

/* Bug 3 (P2): a resource-only destroy reads pAllocationList[0] with
 * NumAllocations 0 and pAllocationList NULL: the driver crashes (run in a
 * child process; the harness records it as miniport-crash). */
static int bug3_child(int on) {
  HANDLE hRes = NULL, a[2];
  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal(sigs[i], SIG_DFL); /* not cmocka's handler: let the child die */
  bugs(on ? "p2-zero-allocations" : "none");
  if (!NT_SUCCESS(create(1, &hRes, 2, a, 0)))
    return 2;
  if (destroy(2, a, hRes, 0) != STATUS_SUCCESS) /* individual destroys */
    return 3;
  if (destroy(0, NULL, hRes, 1) != STATUS_SUCCESS) /* resource-only destroy */
    return 4;
  stop();
  return lt_pool_live_blocks(g->pool) == 0 && total_problems() == 0 ? 0 : 5;
}

static void bug3_scenario(int on) {
  int status;
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(bug3_child(on));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (on)
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  else
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  stop();
}
static void test_bug3_on(void **state) { bug3_scenario(1); }
static void test_bug3_off(void **state) { bug3_scenario(0); }

/* Bug 4 (P5): adding allocations to an existing resource creates a second
 * resource object; the first one outlives the resource's destruction. */
static void bug4_scenario(int on) {
  HANDLE hRes = NULL, a[1], b[2];
  bugs(on ? "p5" : "none");
  assert_int_equal(create(1, &hRes, 1, a, 0), STATUS_SUCCESS);
  HANDLE first = hRes;
  assert_int_equal(create(1, &hRes, 2, b, 0), STATUS_SUCCESS);
  assert_int_equal(hRes != first, on);
  assert_int_equal(destroy(1, a, hRes, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(2, b, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), on);
  assert_int_equal(lt_pool_is_live(g->pool, first), on);
  assert_int_equal(total_problems(), 0);
  stop_clean();
}
static void test_bug4_on(void **state) { bug4_scenario(1); }
static void test_bug4_off(void **state) { bug4_scenario(0); }

/* Bug 5 (P6): an OOM while adding allocations frees the caller's resource;
 * its later DestroyResource frees it again. */
static void bug5_scenario(int on) {
  HANDLE hRes = NULL, a[1], b[2];
  bugs(on ? "5" : "none");
  assert_int_equal(create(1, &hRes, 1, a, 0), STATUS_SUCCESS);
  HANDLE existing = hRes;
  /* pool requests of the add: resource blob, then per allocation object + blob */
  lt_pool_fail_nth(g->pool, 4);
  assert_int_equal(create(1, &hRes, 2, b, 0), STATUS_NO_MEMORY);
  lt_pool_fail_nth(g->pool, 0);
  assert_ptr_equal(hRes, existing);
  assert_int_equal(lt_pool_is_freed(g->pool, existing), on);
  assert_int_equal(destroy(1, a, existing, 1), STATUS_SUCCESS);
  lt_pool_check_quarantine(g->pool);
  assert_int_equal(g->problems[LT_POOL_DOUBLE_FREE], on);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  if (!on)
    assert_int_equal(total_problems(), 0);
}
static void test_bug5_on(void **state) { bug5_scenario(1); }
static void test_bug5_off(void **state) { bug5_scenario(0); }

/* Bug 6 (P7): a failure in the middle of a create does not stop the loop; a
 * later success overwrites the status, and freed handles are handed back. */
static void bug6_scenario(int on) {
  HANDLE hRes = NULL, a[3];
  bugs(on ? "p7-publish-on-failure" : "none");
  /* pool requests: resource, resource blob, A, A blob, B <- fails */
  lt_pool_fail_nth(g->pool, 5);
  lenient = 1;
  NTSTATUS st = create(1, &hRes, 3, a, 0);
  lenient = 0;
  lt_pool_fail_nth(g->pool, 0);
  if (!on) {
    assert_int_equal(st, STATUS_NO_MEMORY);
    assert_null(hRes);
    for (int i = 0; i < 3; i++)
      assert_null(a[i]);
    stop_clean();
    return;
  }
  assert_int_equal(st, STATUS_SUCCESS);
  assert_true(lt_pool_is_freed(g->pool, a[0])); /* a freed handle, published */
  assert_null(a[1]);                             /* success with a NULL handle */
  assert_true(lt_pool_is_live(g->pool, a[2]));
  assert_int_equal(destroy(1, &a[2], hRes, 1), STATUS_SUCCESS);
  stop_clean();
}
static void test_bug6_on(void **state) { bug6_scenario(1); }
static void test_bug6_off(void **state) { bug6_scenario(0); }

/* Bug 7 (P9): a failed OpenAllocation leaks the bindings of the elements
 * before the failing one; they survive device and adapter teardown. */
static void bug7_scenario(int on) {
  HANDLE hRes = NULL, a[2], b[3];
  HANDLE dev1 = new_device();
  bugs(on ? "7" : "none");
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k[3] = {khandle(a[0]), khandle(a[1]), 99};
  assert_int_equal(open_on(dev1, 3, k, b, 0), STATUS_INVALID_HANDLE);
  assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(g->mp->DxgkDdiDestroyDevice(dev1), STATUS_SUCCESS);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), on ? 2 : 0);
  assert_int_equal(live_with_tag(RD_TAG_BINDING), on ? 2 : 0);
  assert_int_equal(total_problems(), 0);
}
static void test_bug7_on(void **state) { bug7_scenario(1); }
static void test_bug7_off(void **state) { bug7_scenario(0); }

/* Bug 8 (P11): DestroyAllocation (AssumeNotInUse) leaves the allocation in a
 * queued packet; the DPC then writes into the freed block. */
static void bug8_scenario(int on) {
  HANDLE hRes = NULL, a[1], b[1];
  HANDLE ctx = new_context(g->device, 3);
  bugs(on ? "p11" : "none");
  assert_int_equal(create(0, &hRes, 1, a, 0), STATUS_SUCCESS);
  D3DKMT_HANDLE k = khandle(a[0]);
  assert_int_equal(open_on(g->device, 1, &k, b, 1), STATUS_SUCCESS);
  submit(ctx, 3, 1, 1, b);
  close_on(g->device, 1, b);
  assert_int_equal(destroy(1, a, NULL, 0), STATUS_SUCCESS);
  assert_int_equal(referenced(a[0], "dma-queue"), on); /* stale reference */
  assert_int_equal(total_problems(), 0);
  complete(3, 1);
  lt_pool_check_quarantine(g->pool);
  assert_int_equal(g->problems[LT_POOL_WRITE_AFTER_FREE], on);
  if (on)
    assert_int_equal(g->problem_tag[LT_POOL_WRITE_AFTER_FREE], RD_TAG_ALLOCATION);
  assert_int_equal(g->mp->DxgkDdiDestroyContext(ctx), STATUS_SUCCESS);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  if (!on)
    assert_int_equal(total_problems(), 0);
}
static void test_bug8_on(void **state) { bug8_scenario(1); }
static void test_bug8_off(void **state) { bug8_scenario(0); }

/* Bug 9 (P13): the scanout pointer survives the destroy of its allocation:
 * LtEnumReferencedAllocations reports it, and the next flip writes into the
 * freed block. */
static void bug9_scenario(int on) {
  HANDLE hRes = NULL, a[1];
  bugs(on ? "p13-stale-scanout" : "none");
  assert_int_equal(create(1, &hRes, 1, a, 0x80000000u), STATUS_SUCCESS);
  set_scanout(0, a[0]);
  assert_int_equal(destroy(1, a, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(referenced(a[0], "scanout[0]"), on);
  assert_int_equal(total_problems(), 0);
  set_scanout(0, NULL);
  lt_pool_check_quarantine(g->pool);
  assert_int_equal(g->problems[LT_POOL_WRITE_AFTER_FREE], on);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  if (!on)
    assert_int_equal(total_problems(), 0);
}
static void test_bug9_on(void **state) { bug9_scenario(1); }
static void test_bug9_off(void **state) { bug9_scenario(0); }

/* Bug 10 (P19): the resource is released with its last allocation and again
 * by DestroyResource, in a group destroy and in individual destroys. */
static void bug10_scenario(int on, int individually) {
  HANDLE hRes = NULL, a[2];
  bugs(on ? "p19-resource-double-release" : "none");
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  if (individually) {
    assert_int_equal(destroy(1, &a[0], hRes, 0), STATUS_SUCCESS);
    assert_int_equal(destroy(1, &a[1], hRes, 0), STATUS_SUCCESS);
    assert_int_equal(lt_pool_is_freed(g->pool, hRes), on);
    assert_int_equal(destroy(0, NULL, hRes, 1), STATUS_SUCCESS);
  } else {
    assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  }
  lt_pool_check_quarantine(g->pool);
  assert_int_equal(g->problems[LT_POOL_DOUBLE_FREE], on);
  if (on)
    assert_int_equal(g->problem_tag[LT_POOL_DOUBLE_FREE], RD_TAG_RESOURCE);
  stop();
  assert_int_equal(lt_pool_live_blocks(g->pool), 0);
  if (!on)
    assert_int_equal(total_problems(), 0);
}
static void test_bug10_on(void **state) { bug10_scenario(1, 0); }
static void test_bug10_on_individual(void **state) { bug10_scenario(1, 1); }
static void test_bug10_off(void **state) { bug10_scenario(0, 0); }

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- modes and named variants (move-resource, resource-blob-leak) ------------ */

/* The named switches share the bugs list but are not numbered and not in
 * "all"; move-resource-freed implies move-resource. */
static void test_mode_option_names(void **state) {
  NTSTATUS (*set)(const char *, const char *) = g->mp->LtSetOption;
  (void)state;
  assert_int_equal(set("bugs", "Move-Resource"), STATUS_SUCCESS);
  assert_true(lt__rd_mode(RD_MODE_MOVE_RESOURCE));
  assert_false(lt__rd_mode(RD_VARIANT_MOVE_RESOURCE_FREED));
  for (int i = 1; i <= RD_BUG__MAX; i++)
    assert_false(lt__rd_bug(i));
  assert_int_equal(set("bugs", "4,move-resource-freed"), STATUS_SUCCESS);
  assert_true(lt__rd_bug(4) && lt__rd_mode(RD_MODE_MOVE_RESOURCE) &&
              lt__rd_mode(RD_VARIANT_MOVE_RESOURCE_FREED));
  assert_int_equal(set("bugs", "all"), STATUS_SUCCESS);
  for (int m = 0; m < RD_MODE__COUNT; m++)
    assert_false(lt__rd_mode(m));
  assert_int_equal(set("bugs", "resource-blob-leak"), STATUS_SUCCESS);
  assert_true(lt__rd_mode(RD_VARIANT_RESOURCE_BLOB_LEAK));
  assert_int_equal(set("bugs", "move-resources"), STATUS_INVALID_PARAMETER);
  assert_int_equal(set("bugs", "none"), STATUS_SUCCESS);
  assert_int_equal(g->mp->DxgkDdiStopDevice(g->adapter), STATUS_SUCCESS);
}

/* move-resource: a group destroy does not move anything. */
static void test_move_resource_mode_is_clean(void **state) {
  (void)state;
  HANDLE hRes = NULL, a[2];
  bugs("move-resource");
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(2, a, hRes, 1), STATUS_SUCCESS);
  stop_clean();
}

/* move-resource: a partial destroy and an add each move the resource object;
 * the new handle comes back in hResource (through the const destroy
 * arguments), the old block is freed, the blob moves along, and the resource
 * is destroyed through the newest handle with nothing left. */
static void test_move_resource_moves(void **state) {
  (void)state;
  HANDLE hRes = NULL, a[3], b[1], before;
  DXGKARG_DESTROYALLOCATION da = {0};
  bugs("move-resource");
  assert_int_equal(create(1, &hRes, 3, a, 0), STATUS_SUCCESS);
  before = hRes;
  da.NumAllocations = 1;
  da.pAllocationList = a;
  da.hResource = hRes;
  assert_int_equal(g->mp->DxgkDdiDestroyAllocation(g->adapter, &da), STATUS_SUCCESS);
  assert_ptr_not_equal(da.hResource, before);
  assert_true(lt_pool_is_freed(g->pool, before));
  assert_true(lt_pool_is_live(g->pool, da.hResource));
  hRes = da.hResource;
  before = hRes;
  assert_int_equal(create(1, &hRes, 1, b, 0), STATUS_SUCCESS);
  assert_ptr_not_equal(hRes, before);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 1);
  assert_int_equal(live_with_tag(RD_TAG_PRIVATE), 4); /* 3 allocations + 1 resource blob */
  da.NumAllocations = 2;
  da.pAllocationList = a + 1;
  da.hResource = hRes;
  assert_int_equal(g->mp->DxgkDdiDestroyAllocation(g->adapter, &da), STATUS_SUCCESS);
  hRes = da.hResource;
  assert_int_equal(destroy(1, b, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_RESOURCE), 0);
  stop_clean();
}

/* The variant frees the old object and hands it back: dxgkrnl's handle now
 * names a freed block, and the final destroy through it frees it again. */
static void test_move_resource_freed_variant(void **state) {
  (void)state;
  HANDLE hRes = NULL, a[2], before;
  DXGKARG_DESTROYALLOCATION da = {0};
  bugs("move-resource-freed");
  assert_int_equal(create(1, &hRes, 2, a, 0), STATUS_SUCCESS);
  before = hRes;
  da.NumAllocations = 1;
  da.pAllocationList = a;
  da.hResource = hRes;
  assert_int_equal(g->mp->DxgkDdiDestroyAllocation(g->adapter, &da), STATUS_SUCCESS);
  assert_ptr_equal(da.hResource, before);
  assert_true(lt_pool_is_freed(g->pool, da.hResource));
  assert_int_equal(destroy(1, a + 1, da.hResource, 1), STATUS_SUCCESS);
  assert_true(total_problems() > 0);
  assert_int_equal(g->problem_tag[LT_POOL_DOUBLE_FREE], RD_TAG_RESOURCE);
  memset(g->problems, 0, sizeof g->problems);
  assert_int_equal(g->mp->DxgkDdiStopDevice(g->adapter), STATUS_SUCCESS);
  g->adapter = NULL;
}

/* Adding allocations with a new resource blob replaces the copy: the old one
 * is freed (off), or left allocated with no owner (variant on). */
static void blob_replaced(int leak) {
  HANDLE hRes = NULL, a[1], b[1];
  bugs(leak ? "resource-blob-leak" : "none");
  assert_int_equal(create(1, &hRes, 1, a, 0), STATUS_SUCCESS);
  assert_int_equal(create(1, &hRes, 1, b, 0), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_PRIVATE), 2 + 1 + (leak ? 1 : 0));
  assert_int_equal(destroy(1, a, hRes, 0), STATUS_SUCCESS);
  assert_int_equal(destroy(1, b, hRes, 1), STATUS_SUCCESS);
  assert_int_equal(live_with_tag(RD_TAG_PRIVATE), leak ? 1 : 0);
}

static void test_resource_blob_replaced(void **state) {
  (void)state;
  blob_replaced(0);
  stop_clean();
}

static void test_resource_blob_leak_variant(void **state) {
  (void)state;
  blob_replaced(1);
  assert_int_equal(g->mp->DxgkDdiStopDevice(g->adapter), STATUS_SUCCESS);
  g->adapter = NULL;
  assert_int_equal(lt_pool_live_blocks(g->pool), 1); /* the dropped blob */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_group_destroy),
      T(test_mode_option_names),
      T(test_move_resource_mode_is_clean),
      T(test_move_resource_moves),
      T(test_move_resource_freed_variant),
      T(test_resource_blob_replaced),
      T(test_resource_blob_leak_variant),
      T(test_individual_then_resource_only),
      T(test_individual_without_hresource),
      T(test_destroy_resource_without_hresource),
      T(test_add_to_existing_resource),
      T(test_shared_allocation),
      T(test_destroy_scanned_out),
      T(test_dma_completion_and_early_destroy),
      T(test_tdr_eviction_notice),
      T(test_umd_blob_describes_allocation),
      T(test_lock_and_aperture),
      T(test_oom_new_resource),
      T(test_oom_existing_resource),
      T(test_open_failure_rolls_back),
      T(test_teardown_frees_everything),
      T(test_remove_if_listed),
      T(test_bug_option_syntax),
      T(test_bug1_on),
      T(test_bug1_off),
      T(test_bug2_on),
      T(test_bug2_off),
      T(test_bug3_on),
      T(test_bug3_off),
      T(test_bug4_on),
      T(test_bug4_off),
      T(test_bug5_on),
      T(test_bug5_off),
      T(test_bug6_on),
      T(test_bug6_off),
      T(test_bug7_on),
      T(test_bug7_off),
      T(test_bug8_on),
      T(test_bug8_off),
      T(test_bug9_on),
      T(test_bug9_off),
      T(test_bug10_on),
      T(test_bug10_on_individual),
      T(test_bug10_off),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
