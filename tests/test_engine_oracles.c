/* Unit tests: the replay engine's miniport oracles, driven with a small
 * misbehaving miniport defined here (crash, hang, leak, double free, bad
 * status, stale reference) and events built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <stdio.h>

#include "lifetrace/pool.h"
#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

enum { MODE_OK, MODE_CRASH, MODE_HANG, MODE_LEAK, MODE_DOUBLE_FREE, MODE_NULL_HANDLE, MODE_STALE };
static int mode;
static void *kept_alloc; /* MODE_STALE: a pointer kept after destroy */

#define TAG 0x74736554u /* 'Test' */

static NTSTATUS start(const DXGKRNL_INTERFACE *i, HANDLE *ph) {
  *ph = (HANDLE)0x1;
  return STATUS_SUCCESS;
}
static NTSTATUS stop(HANDLE h) { return STATUS_SUCCESS; }
static NTSTATUS create_device(HANDLE a, DXGKARG_CREATEDEVICE *d) {
  d->hDevice = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
  return d->hDevice ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}
static NTSTATUS destroy_device(HANDLE d) {
  ExFreePoolWithTag(d, TAG);
  return STATUS_SUCCESS;
}
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  /* abort_on_error: an ASan report inside a DDI reaches the crash guard
   * (asan_poison_reports_read_after_free). */
  return "handle_segv=0:allow_user_segv_handler=1:abort_on_error=1";
}

__attribute__((no_sanitize("null"))) static void null_store(volatile int *p) { *p = 1; }

static NTSTATUS create_allocation(HANDLE a, DXGKARG_CREATEALLOCATION *c) {
  if (mode == MODE_CRASH)
    null_store(NULL);
  for (UINT i = 0; i < c->NumAllocations; i++) {
    c->pAllocationInfo[i].hAllocation =
        mode == MODE_NULL_HANDLE ? NULL : ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG);
    if (mode == MODE_LEAK)
      (void)ExAllocatePool2(POOL_FLAG_NON_PAGED, 100, 0x6b61654cu); /* 'Leak' */
  }
  return STATUS_SUCCESS;
}
static NTSTATUS destroy_allocation(HANDLE a, const DXGKARG_DESTROYALLOCATION *d) {
  if (mode == MODE_HANG)
    for (volatile int spin = 1; spin;)
      ;
  for (UINT i = 0; i < d->NumAllocations; i++) {
    ExFreePoolWithTag(d->pAllocationList[i], TAG);
    if (mode == MODE_DOUBLE_FREE)
      ExFreePoolWithTag(d->pAllocationList[i], TAG);
    if (mode == MODE_STALE)
      kept_alloc = d->pAllocationList[i];
  }
  return STATUS_SUCCESS;
}
static NTSTATUS open_allocation(HANDLE d, const DXGKARG_OPENALLOCATION *o) {
  for (UINT i = 0; i < o->NumAllocations; i++)
    o->pOpenAllocation[i].hDeviceSpecificAllocation = (HANDLE)(uintptr_t)(i + 1);
  return STATUS_SUCCESS;
}
static NTSTATUS close_allocation(HANDLE d, const DXGKARG_CLOSEALLOCATION *c) {
  return STATUS_SUCCESS;
}
static void enum_refs(HANDLE a, LT_REFERENCE_CALLBACK report, void *ctx) {
  if (kept_alloc)
    report(ctx, kept_alloc, "test-cache");
}

static LT_MINIPORT test_miniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "test-miniport",
    .DxgkDdiStartDevice = start,
    .DxgkDdiStopDevice = stop,
    .DxgkDdiCreateDevice = create_device,
    .DxgkDdiDestroyDevice = destroy_device,
    .DxgkDdiCreateAllocation = create_allocation,
    .DxgkDdiDestroyAllocation = destroy_allocation,
    .DxgkDdiOpenAllocation = open_allocation,
    .DxgkDdiCloseAllocation = close_allocation,
    .LtEnumReferencedAllocations = enum_refs,
};

/* Replays: device_create; alloc_create(0x100); alloc_destroy(0x100);
 * device_destroy — a clean trace — with the test miniport in `m`. */
static lt_replay *run(int m, int policy) {
  mode = m;
  kept_alloc = NULL;
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  lt_replay_opts o = {policy, &test_miniport, 0, NULL, NULL};
  lt_replay *r = NULL;
  assert_int_equal(lt_replay_new(&r, &h, &o), 0);
  lt_event ev = LIFETRACE__EVENT__INIT;
  ev.op = LIFETRACE__OP__DEVICE_CREATE;
  ev.device = 1;
  ev.pid = 7;
  assert_int_equal(lt_replay_event(r, &ev), 0);
  lt_allocinfo ai = LIFETRACE__ALLOC_INFO__INIT;
  ai.alloc = 0x100;
  ai.size = 4096;
  lt_allocinfo *aip = &ai;
  lt_event cr = LIFETRACE__EVENT__INIT;
  cr.op = LIFETRACE__OP__ALLOC_CREATE;
  cr.device = 1;
  cr.n_allocs = 1;
  cr.allocs = &aip;
  assert_int_equal(lt_replay_event(r, &cr), 0);
  uint64_t hnd = 0x100;
  lt_event de = LIFETRACE__EVENT__INIT;
  de.op = LIFETRACE__OP__ALLOC_DESTROY;
  de.n_handles = 1;
  de.handles = &hnd;
  assert_int_equal(lt_replay_event(r, &de), 0);
  lt_event dd = LIFETRACE__EVENT__INIT;
  dd.op = LIFETRACE__OP__DEVICE_DESTROY;
  dd.device = 1;
  assert_int_equal(lt_replay_event(r, &dd), 0);
  assert_int_equal(lt_replay_finish(r), 0);
  return r;
}

static const lt_finding *only(const lt_replay *r, int kind) {
  const lt_findings *fs = lt_replay_findings(r);
  if (fs->n != 1)
    for (size_t i = 0; i < fs->n; i++)
      lt_finding_write_text(stderr, &fs->items[i], "test");
  assert_int_equal(fs->n, 1);
  assert_int_equal(fs->items[0].kind, kind);
  return &fs->items[0];
}

static void well_behaved_driver_is_clean(void **state) {
  long before = lt_alloc_live();
  lt_replay *r = run(MODE_OK, LT_POLICY_AUDIT);
  assert_int_equal(lt_replay_findings(r)->total, 0);
  lt_replay_free(r);
  assert_int_equal(lt_alloc_live(), before);
}

static void crash_is_a_finding_and_stops_the_replay(void **state) {
  lt_replay *r = run(MODE_CRASH, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_CRASH);
  assert_int_equal(f->event, 1);
  assert_string_equal(f->ddi, "DxgkDdiCreateAllocation");
  lt_replay_free(r);
}

static void hang_is_interrupted_by_the_watchdog(void **state) {
  lt_replay *r = run(MODE_HANG, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_CRASH);
  assert_int_equal(f->event, 2);
  assert_non_null(strstr(f->message, "hung"));
  lt_replay_free(r);
}

static void leaked_block_is_reported_with_its_tag(void **state) {
  lt_replay *r = run(MODE_LEAK, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_LEAK);
  assert_int_equal(f->event, 2); /* at the destroy of allocation 0x100 */
  assert_int_equal(f->handle, 0x100);
  assert_int_equal(f->bytes, 100);
  assert_string_equal(f->site, "tag:Leak");
  lt_replay_free(r);
}

static void double_free_is_reported(void **state) {
  lt_replay *r = run(MODE_DOUBLE_FREE, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_DOUBLE_FREE);
  assert_int_equal(f->event, 2);
  assert_string_equal(f->ddi, "DxgkDdiDestroyAllocation");
  lt_replay_free(r);
}

static void null_handle_on_success_is_bad_status(void **state) {
  lt_replay *r = run(MODE_NULL_HANDLE, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_BAD_STATUS);
  assert_int_equal(f->event, 1);
  lt_replay_free(r);
}

static void stale_reference_after_destroy_is_reported(void **state) {
  lt_replay *r = run(MODE_STALE, LT_POLICY_KERNEL);
  const lt_finding *f = only(r, LT_F_MINIPORT_STALE_REFERENCE);
  assert_int_equal(f->event, 2);
  assert_string_equal(f->site, "test-cache");
  lt_replay_free(r);
}

static void abi_mismatch_is_refused(void **state) {
  LT_MINIPORT bad = test_miniport;
  bad.AbiVersion = LT_MINIPORT_ABI_VERSION + 1;
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  lt_replay_opts o = {LT_POLICY_AUDIT, &bad, 0, NULL, NULL};
  lt_replay *r = NULL;
  assert_int_equal(lt_replay_new(&r, &h, &o), LT_EABI);
  assert_null(r);
}

/* ---- G5: shared allocations outlive their creator ------------------------
 * The reference miniport, wrapped to log the DDIs that end a shared
 * allocation's life: "cdN" CreateDevice (N: creation order), "opN"/"clN"
 * Open/CloseAllocation on device N, "ddN" DestroyDevice, "da"
 * DestroyAllocation. The wrapper also checks that no DDI gets the handle of
 * a destroyed device and that every DestroyAllocation frees pool memory. */

static const LT_MINIPORT *ref;
static HANDLE devs[8];
static int n_devs, dead_device_used, destroy_freed_nothing;
static char ddi_log[256];

static int dev_index(HANDLE h) {
  for (int i = 0; i < n_devs; i++)
    if (devs[i] == h)
      return i + 1;
  dead_device_used = 1;
  return 0;
}

static void log_ddi(const char *what, int dev) {
  size_t len = strlen(ddi_log);
  snprintf(ddi_log + len, sizeof ddi_log - len, len ? " %s%.0d" : "%s%.0d", what, dev);
}

static NTSTATUS g5_create_device(HANDLE a, DXGKARG_CREATEDEVICE *d) {
  NTSTATUS st = ref->DxgkDdiCreateDevice(a, d);
  if (NT_SUCCESS(st) && n_devs < 8)
    devs[n_devs++] = d->hDevice;
  log_ddi("cd", n_devs);
  return st;
}
static NTSTATUS g5_destroy_device(HANDLE d) {
  int i = dev_index(d);
  log_ddi("dd", i);
  if (i)
    devs[i - 1] = NULL; /* a later DDI naming it is a dead-device use */
  return ref->DxgkDdiDestroyDevice(d);
}
static NTSTATUS g5_open(HANDLE d, const DXGKARG_OPENALLOCATION *o) {
  log_ddi("op", dev_index(d));
  return ref->DxgkDdiOpenAllocation(d, o);
}
static NTSTATUS g5_close(HANDLE d, const DXGKARG_CLOSEALLOCATION *c) {
  log_ddi("cl", dev_index(d));
  return ref->DxgkDdiCloseAllocation(d, c);
}
static NTSTATUS g5_destroy(HANDLE a, const DXGKARG_DESTROYALLOCATION *d) {
  size_t before = lt_pool_live_blocks(lt_pool_current());
  NTSTATUS st = ref->DxgkDdiDestroyAllocation(a, d);
  destroy_freed_nothing |= lt_pool_live_blocks(lt_pool_current()) >= before;
  log_ddi("da", 0);
  return st;
}
static NTSTATUS g5_create_context(HANDLE d, DXGKARG_CREATECONTEXT *c) {
  (void)dev_index(d);
  return ref->DxgkDdiCreateContext(d, c);
}

/* Replays corpus/regressions/<name>.jsonl in one policy against the wrapped
 * reference miniport; returns the number of findings. */
static size_t replay_g5(const char *name, int policy) {
  char path[1024];
  const char *src = getenv("LT_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/corpus/regressions/%s.jsonl", src ? src : ".", name);
  ref = lt_linked_miniport();
  LT_MINIPORT mp = *ref;
  mp.DxgkDdiCreateDevice = g5_create_device;
  mp.DxgkDdiDestroyDevice = g5_destroy_device;
  mp.DxgkDdiOpenAllocation = g5_open;
  mp.DxgkDdiCloseAllocation = g5_close;
  mp.DxgkDdiDestroyAllocation = g5_destroy;
  mp.DxgkDdiCreateContext = g5_create_context;
  n_devs = dead_device_used = destroy_freed_nothing = 0;
  ddi_log[0] = 0;
  lt_reader *rd = NULL;
  lt_diag diag;
  memset(&diag, 0, sizeof diag);
  assert_int_equal(lt_reader_open(&rd, path, 1, &diag), 0);
  lt_replay_opts o = {policy, &mp, 0, NULL, NULL};
  lt_replay *r = NULL;
  assert_int_equal(lt_replay_new(&r, lt_reader_header(rd), &o), 0);
  const lt_event *ev = NULL;
  while (lt_reader_next(rd, &ev, &diag) == 0 && ev)
    assert_int_equal(lt_replay_event(r, ev), 0);
  assert_int_equal(lt_replay_finish(r), 0);
  const lt_findings *fs = lt_replay_findings(r);
  for (size_t i = 0; i < fs->n; i++)
    lt_finding_write_text(stderr, &fs->items[i], name);
  size_t n = fs->total;
  lt_replay_free(r);
  lt_reader_free(rd);
  return n;
}

/* Each G5 shape is clean in both policies, the opener's CloseAllocation gets
 * the opener's device, and DestroyAllocation (adapter-level: no device
 * handle) comes after the last binding is closed, frees the driver's pool
 * memory, and precedes the opener's own DestroyDevice. */
static void check_g5(const char *name, const char *want_log) {
  for (int policy = LT_POLICY_AUDIT; policy <= LT_POLICY_KERNEL; policy++) {
    long before = lt_alloc_live();
    assert_int_equal(replay_g5(name, policy), 0);
    assert_string_equal(ddi_log, want_log);
    assert_int_equal(dead_device_used, 0);
    assert_int_equal(destroy_freed_nothing, 0);
    assert_int_equal(lt_alloc_live(), before);
  }
}

static void shared_outlives_creator_until_opener_closes(void **state) {
  check_g5("clean/shared-creator-torn-down-opener-closes", "cd1 cd2 op1 op2 cl1 dd1 cl2 da dd2");
}

static void shared_ends_with_the_opener_teardown(void **state) {
  check_g5("clean/shared-creator-torn-down-opener-torn-down",
           "cd1 cd2 op1 op2 cl1 dd1 cl2 da dd2");
}

static void shared_survives_creator_process_exit(void **state) {
  check_g5("clean/shared-both-processes-exit", "cd1 cd2 op1 op2 cl1 dd1 cl2 da dd2");
}

static void shared_destroy_request_waits_for_opener(void **state) {
  check_g5("clean/shared-destroyed-while-open-then-closed", "cd1 cd2 op1 op2 cl1 cl2 da dd2 dd1");
}

static void shared_opener_torn_down_before_creator(void **state) {
  check_g5("clean/shared-opener-torn-down-first", "cd1 cd2 op1 op2 cl2 dd2 cl1 da dd1");
}
/* ---- a driver that reads freed pool memory ------------------------------------------ */

/* DestroyAllocation frees the allocation's block but keeps the pointer;
 * DestroyDevice then reads through it (a read after free: the fill pattern
 * stays intact, so the quarantine's pattern check cannot see it). In
 * UAF_OVERRUN mode CreateAllocation writes one byte past its 64-byte block. */
#define UAF_TAG 0x41666155u /* 'UafA' */
#if defined(__SANITIZE_ADDRESS__)
#define UAF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UAF_ASAN 1
#endif
#endif
enum { UAF_READ, UAF_OVERRUN };
static int uaf_mode;
static volatile uint32_t *uaf_freed;
static uint32_t uaf_seen;

static NTSTATUS uaf_create_allocation(HANDLE a, DXGKARG_CREATEALLOCATION *c) {
  for (UINT i = 0; i < c->NumAllocations; i++) {
    volatile uint32_t *blk = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, UAF_TAG);
    if (blk == NULL)
      return STATUS_NO_MEMORY;
    blk[0] = 0x600d;
    if (uaf_mode == UAF_OVERRUN)
      ((volatile unsigned char *)blk)[64] = 1;
    c->pAllocationInfo[i].hAllocation = (HANDLE)blk;
  }
  return STATUS_SUCCESS;
}
static NTSTATUS uaf_destroy_allocation(HANDLE a, const DXGKARG_DESTROYALLOCATION *d) {
  for (UINT i = 0; i < d->NumAllocations; i++) {
    ExFreePoolWithTag(d->pAllocationList[i], UAF_TAG);
    uaf_freed = d->pAllocationList[i];
  }
  return STATUS_SUCCESS;
}
static NTSTATUS uaf_destroy_device(HANDLE d) {
  if (uaf_freed)
    uaf_seen = uaf_freed[0]; /* the bug */
  ExFreePoolWithTag(d, TAG);
  return STATUS_SUCCESS;
}

static LT_MINIPORT uaf_miniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "uaf-miniport",
    .DxgkDdiStartDevice = start,
    .DxgkDdiStopDevice = stop,
    .DxgkDdiCreateDevice = create_device,
    .DxgkDdiDestroyDevice = uaf_destroy_device,
    .DxgkDdiCreateAllocation = uaf_create_allocation,
    .DxgkDdiDestroyAllocation = uaf_destroy_allocation,
    .DxgkDdiOpenAllocation = open_allocation,
    .DxgkDdiCloseAllocation = close_allocation,
};

/* The clean trace of run() against the read-after-free driver. */
static lt_replay *run_uaf(int m, int special_pool, int asan_poison) {
  uaf_mode = m;
  uaf_freed = NULL;
  uaf_seen = 0;
  lt_header h = LIFETRACE__TRACE_HEADER__INIT;
  lt_replay_opts o = {LT_POLICY_KERNEL, &uaf_miniport, 0, NULL, NULL, special_pool, asan_poison};
  lt_replay *r = NULL;
  assert_int_equal(lt_replay_new(&r, &h, &o), 0);
  lt_allocinfo ai = LIFETRACE__ALLOC_INFO__INIT;
  ai.alloc = 0x100;
  ai.size = 4096;
  lt_allocinfo *aip = &ai;
  uint64_t hnd = 0x100;
  lt_event ev[4];
  for (int i = 0; i < 4; i++)
    lifetrace__event__init(&ev[i]);
  ev[0].op = LIFETRACE__OP__DEVICE_CREATE;
  ev[0].device = 1;
  ev[0].pid = 7;
  ev[1].op = LIFETRACE__OP__ALLOC_CREATE;
  ev[1].device = 1;
  ev[1].n_allocs = 1;
  ev[1].allocs = &aip;
  ev[2].op = LIFETRACE__OP__ALLOC_DESTROY;
  ev[2].n_handles = 1;
  ev[2].handles = &hnd;
  ev[3].op = LIFETRACE__OP__DEVICE_DESTROY;
  ev[3].device = 1;
  for (int i = 0; i < 4; i++)
    assert_int_equal(lt_replay_event(r, &ev[i]), 0);
  assert_int_equal(lt_replay_finish(r), 0);
  return r;
}

/* Documents the blind spot the special pool closes: the ordinary pool
 * (Release, or ASan without quarantine poisoning) lets the read through,
 * and it returns the fill pattern. */
static void plain_pool_misses_read_after_free(void **state) {
  lt_replay *r = run_uaf(UAF_READ, 0, 0);
  assert_int_equal(lt_replay_findings(r)->total, 0);
  assert_int_equal(uaf_seen, 0xDFDFDFDFu);
  lt_replay_free(r);
}

static void special_pool_reports_read_after_free_with_tag_and_owner(void **state) {
  long before = lt_alloc_live();
  lt_replay *r = run_uaf(UAF_READ, 1, 0);
  const lt_finding *f = only(r, LT_F_MINIPORT_USE_AFTER_FREE);
  assert_int_equal(f->event, 3);
  assert_string_equal(f->ddi, "DxgkDdiDestroyDevice");
  assert_int_equal(f->pool_tag, UAF_TAG);
  assert_string_equal(f->site, "tag:UafA");
  assert_int_equal(f->bytes, 64);
  assert_int_equal(f->object, LT_OBJ_ALLOCATION); /* the owner: allocation 0x100 */
  assert_int_equal(f->handle, 0x100);
  assert_int_equal(f->created_at, 1);
  assert_non_null(strstr(f->message, "allocation 0x100"));
  assert_non_null(strstr(f->message, "after it was freed"));
  lt_replay_free(r);
  assert_int_equal(lt_alloc_live(), before);
}

static void special_pool_overrun_hits_the_guard_page(void **state) {
  lt_replay *r = run_uaf(UAF_OVERRUN, 1, 0);
  const lt_finding *f = only(r, LT_F_MINIPORT_CRASH);
  assert_int_equal(f->event, 1);
  assert_string_equal(f->ddi, "DxgkDdiCreateAllocation");
  assert_string_equal(f->site, "tag:UafA");
  assert_non_null(strstr(f->message, "offset 64"));
  assert_non_null(strstr(f->message, "guard page"));
  lt_replay_free(r);
}

#ifdef UAF_ASAN
/* Under ASan with quarantine poisoning, the read is an ASan report (which
 * ends the process: run in a child). With abort_on_error the report reaches
 * the crash guard, which names the block like the special pool does. */
static void asan_poison_reports_read_after_free(void **state) {
  int out[2], err[2];
  assert_int_equal(pipe(out), 0);
  assert_int_equal(pipe(err), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    lt_replay *r = run_uaf(UAF_READ, 0, 1);
    const lt_findings *fs = lt_replay_findings(r);
    char line[600];
    int n = snprintf(line, sizeof line, "%zu %s %s %s", fs->n,
                     fs->n ? lt_finding_kind_name(fs->items[0].kind) : "-",
                     fs->n ? fs->items[0].site : "-", fs->n ? fs->items[0].message : "-");
    (void)!write(out[1], line, (size_t)n);
    _exit(0); /* no leak check: ASan's report left its locks held */
  }
  close(out[1]);
  close(err[1]);
  static char report[1 << 16], line[600];
  size_t len = 0;
  ssize_t k;
  while ((k = read(err[0], report + len, sizeof report - 1 - len)) > 0)
    len += (size_t)k;
  report[len] = 0;
  k = read(out[0], line, sizeof line - 1);
  line[k > 0 ? k : 0] = 0;
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  close(err[0]);
  assert_non_null(strstr(report, "use-after-poison"));
  assert_non_null(strstr(line, "1 miniport-use-after-free tag:UafA"));
  assert_non_null(strstr(line, "allocation 0x100"));
  assert_non_null(strstr(line, "ASan report"));
}
#endif

int main(void) {
  setenv("LIFETRACE_DDI_TIMEOUT", "1", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(well_behaved_driver_is_clean),
      cmocka_unit_test(crash_is_a_finding_and_stops_the_replay),
      cmocka_unit_test(hang_is_interrupted_by_the_watchdog),
      cmocka_unit_test(leaked_block_is_reported_with_its_tag),
      cmocka_unit_test(double_free_is_reported),
      cmocka_unit_test(null_handle_on_success_is_bad_status),
      cmocka_unit_test(stale_reference_after_destroy_is_reported),
      cmocka_unit_test(abi_mismatch_is_refused),
      cmocka_unit_test(shared_outlives_creator_until_opener_closes),
      cmocka_unit_test(shared_ends_with_the_opener_teardown),
      cmocka_unit_test(shared_survives_creator_process_exit),
      cmocka_unit_test(shared_destroy_request_waits_for_opener),
      cmocka_unit_test(shared_opener_torn_down_before_creator),
      cmocka_unit_test(plain_pool_misses_read_after_free),
      cmocka_unit_test(special_pool_reports_read_after_free_with_tag_and_owner),
      cmocka_unit_test(special_pool_overrun_hits_the_guard_page),
#ifdef UAF_ASAN
      cmocka_unit_test(asan_poison_reports_read_after_free),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
