/* Unit tests: the UMD's private data and the UMD's contract an adapter file
 * declares (LT_MINIPORT.UmdPrivateData / UmdContract): the default blob, the
 * zeroed blob of a declared size, the builders, the calls dxgkrnl splits to
 * stay inside the contract, the audit label, and the mutator staying inside
 * the declaration over many mutations. A small recording miniport is
 * defined here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lifetrace/driver.h"
#include "lifetrace/mutator.h"
#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

#define TAG 0x646d5554u /* 'TUmd' */

/* What the recording miniport saw. */
static struct {
  UINT creates, destroys, opens, closes;
  UINT max_create, max_destroy, max_open, max_close;
  UINT alloc_data_size[64], n_sizes; /* PrivateDriverDataSize of every info */
  UINT resource_data_size;           /* of the last create */
  unsigned char first_blob[64];      /* first allocation data of the last create */
  unsigned char open_blob[64];       /* first allocation data of the last open */
  UINT destroy_flags[16];            /* Flags.DestroyResource per destroy call */
  UINT wrong_size;                   /* blobs whose size differs from the declaration */
  UINT outside;                      /* calls outside the contract */
} seen;
static UINT want_size = ~0u; /* declared allocation data size (~0: not checked) */
static const LT_UMD_CONTRACT *want_contract;

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
static UINT maxu(UINT a, UINT b) { return a > b ? a : b; }
static void check_limit(UINT n, UINT limit) { seen.outside += limit && n > limit; }

static NTSTATUS create_allocation(HANDLE a, DXGKARG_CREATEALLOCATION *c) {
  seen.creates++;
  seen.max_create = maxu(seen.max_create, c->NumAllocations);
  if (want_contract)
    check_limit(c->NumAllocations, want_contract->MaxAllocationsPerCreate);
  seen.resource_data_size = c->PrivateDriverDataSize;
  for (UINT i = 0; i < c->NumAllocations; i++) {
    DXGK_ALLOCATIONINFO *ai = &c->pAllocationInfo[i];
    if (seen.n_sizes < 64)
      seen.alloc_data_size[seen.n_sizes++] = ai->PrivateDriverDataSize;
    seen.wrong_size += want_size != ~0u && ai->PrivateDriverDataSize != want_size;
    if (i == 0 && ai->pPrivateDriverData)
      memcpy(seen.first_blob, ai->pPrivateDriverData,
             ai->PrivateDriverDataSize < 64 ? ai->PrivateDriverDataSize : 64);
    ai->hAllocation = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, TAG);
    if (ai->hAllocation == NULL)
      return STATUS_NO_MEMORY;
  }
  return STATUS_SUCCESS;
}
static NTSTATUS destroy_allocation(HANDLE a, const DXGKARG_DESTROYALLOCATION *d) {
  if (seen.destroys < 16)
    seen.destroy_flags[seen.destroys] = d->Flags.DestroyResource;
  seen.destroys++;
  seen.max_destroy = maxu(seen.max_destroy, d->NumAllocations);
  if (want_contract)
    check_limit(d->NumAllocations, want_contract->MaxAllocationsPerDestroy);
  for (UINT i = 0; i < d->NumAllocations; i++)
    ExFreePoolWithTag(d->pAllocationList[i], TAG);
  return STATUS_SUCCESS;
}
static NTSTATUS open_allocation(HANDLE d, const DXGKARG_OPENALLOCATION *o) {
  seen.opens++;
  seen.max_open = maxu(seen.max_open, o->NumAllocations);
  if (want_contract)
    check_limit(o->NumAllocations, want_contract->MaxAllocationsPerOpen);
  for (UINT i = 0; i < o->NumAllocations; i++) {
    DXGK_OPENALLOCATIONINFO *oi = &o->pOpenAllocation[i];
    seen.wrong_size += want_size != ~0u && oi->PrivateDriverDataSize != want_size;
    if (i == 0 && oi->pPrivateDriverData)
      memcpy(seen.open_blob, oi->pPrivateDriverData,
             oi->PrivateDriverDataSize < 64 ? oi->PrivateDriverDataSize : 64);
    oi->hDeviceSpecificAllocation = (HANDLE)(uintptr_t)(i + 1);
  }
  return STATUS_SUCCESS;
}
static NTSTATUS close_allocation(HANDLE d, const DXGKARG_CLOSEALLOCATION *c) {
  seen.closes++;
  seen.max_close = maxu(seen.max_close, c->NumAllocations);
  if (want_contract)
    check_limit(c->NumAllocations, want_contract->MaxAllocationsPerClose);
  return STATUS_SUCCESS;
}
static NTSTATUS create_context(HANDLE d, DXGKARG_CREATECONTEXT *c) {
  c->hContext = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG);
  return c->hContext ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}
static NTSTATUS destroy_context(HANDLE c) {
  ExFreePoolWithTag(c, TAG);
  return STATUS_SUCCESS;
}

static LT_MINIPORT umd_miniport = {
    .AbiVersion = LT_MINIPORT_ABI_VERSION,
    .Size = sizeof(LT_MINIPORT),
    .Name = "umd-test",
    .DxgkDdiStartDevice = start,
    .DxgkDdiStopDevice = stop,
    .DxgkDdiCreateDevice = create_device,
    .DxgkDdiDestroyDevice = destroy_device,
    .DxgkDdiCreateContext = create_context,
    .DxgkDdiDestroyContext = destroy_context,
    .DxgkDdiCreateAllocation = create_allocation,
    .DxgkDdiDestroyAllocation = destroy_allocation,
    .DxgkDdiOpenAllocation = open_allocation,
    .DxgkDdiCloseAllocation = close_allocation,
};

/* The builders: a layout of the test's own UMD. */
typedef struct {
  uint64_t size;
  uint32_t index, count, variant, flags;
  uint64_t resource;
  uint32_t magic;
} umd_blob;

static void build_alloc(const LT_UMD_ALLOCATION *a, void *p, UINT n) {
  assert_int_equal(n, sizeof(umd_blob));
  umd_blob b = {a->Size, a->Index, a->NumAllocations, a->Variant, a->Flags, a->hResource, 0x55aa};
  memcpy(p, &b, sizeof b);
}
static void build_resource(const LT_UMD_ALLOCATION *a, UINT n, void *p, UINT size) {
  memset(p, (int)n, size);
}

static const char *header_line = "{\"lifetrace\": 1, \"ends\": \"teardown\", \"segments\": "
                                 "[{\"id\": 1, \"kind\": \"local\", \"size\": 67108864}, "
                                 "{\"id\": 2, \"kind\": \"aperture\", \"size\": 16777216}]}";

/* A resource of three allocations on device 1, opened and closed by device
 * 2, destroyed in one call with destroy_resource, then the devices. */
static const char *three_lines[] = {
    "{\"op\": \"device_create\", \"device\": 1, \"pid\": 100}",
    "{\"op\": \"device_create\", \"device\": 2, \"pid\": 100}",
    "{\"op\": \"alloc_create\", \"device\": 1, \"resource\": 50, \"new_resource\": true, "
    "\"resource_data\": 12, \"allocs\": [{\"alloc\": 256, \"size\": 8192, \"segments\": [1, 2], "
    "\"variant\": 7}, {\"alloc\": 257, \"size\": 4096}, {\"alloc\": 258, \"size\": 4096}]}",
    "{\"op\": \"alloc_open\", \"device\": 2, \"allocs\": [256, 257, 258]}",
    "{\"op\": \"alloc_close\", \"device\": 2, \"allocs\": [256, 257, 258]}",
    "{\"op\": \"alloc_destroy\", \"allocs\": [256, 257, 258], \"resource\": 50, "
    "\"destroy_resource\": true}",
    "{\"op\": \"device_destroy\", \"device\": 2}",
    "{\"op\": \"device_destroy\", \"device\": 1}",
    NULL};

static lt_replay *replay_lines(const char **lines, int policy) {
  char err[256];
  lt_header *h = NULL;
  lt_replay *r = NULL;
  memset(&seen, 0, sizeof seen);
  assert_int_equal(lt_jsonl_parse_header(header_line, strlen(header_line), 1, &h, err, sizeof err),
                   0);
  lt_replay_opts o = {policy, &umd_miniport, 0, NULL, NULL};
  assert_int_equal(lt_replay_new(&r, h, &o), 0);
  for (size_t i = 0; lines[i]; i++) {
    lt_event *ev = NULL;
    assert_int_equal(lt_jsonl_parse_event(lines[i], strlen(lines[i]), 1, &ev, err, sizeof err), 0);
    assert_int_equal(lt_replay_event(r, ev), 0);
    lt_event_free(ev);
  }
  assert_int_equal(lt_replay_finish(r), 0);
  lt_header_free(h);
  return r;
}

static void assert_clean(lt_replay *r) {
  const lt_findings *fs = lt_replay_findings(r);
  for (size_t i = 0; i < fs->n; i++)
    fprintf(stderr, "finding: %s\n", fs->items[i].message);
  assert_int_equal(fs->n, 0);
}

static void declare(const LT_UMD_PRIVATE_DATA *d, const LT_UMD_CONTRACT *c) {
  umd_miniport.UmdPrivateData = d;
  umd_miniport.UmdContract = c;
  want_contract = c;
  want_size = d ? d->AllocationDataSize : ~0u;
}

/* No declaration: LT_UMD_ALLOCATION_DATA for each allocation, the trace's
 * resource_data for the resource. */
static void default_blob_is_lt_umd_allocation_data(void **state) {
  declare(NULL, NULL);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_KERNEL);
  assert_clean(r);
  assert_int_equal(seen.alloc_data_size[0], LT_UMD_ALLOCATION_DATA_SIZE);
  LT_UMD_ALLOCATION_DATA d;
  assert_true(LtReadUmdAllocationData(seen.first_blob, LT_UMD_ALLOCATION_DATA_SIZE, &d));
  assert_int_equal(d.Size, 8192);
  assert_int_equal(seen.resource_data_size, 12);
  lt_replay_free(r);
}

/* A declared size without a builder: zeroed blobs of exactly that size, and
 * no resource blob when ResourceDataSize is 0 (whatever the trace says). */
static void declared_size_without_builder_is_zeroed(void **state) {
  static const LT_UMD_PRIVATE_DATA d = {40, 0, NULL, NULL};
  declare(&d, NULL);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_KERNEL);
  assert_clean(r);
  assert_int_equal(seen.n_sizes, 3);
  for (UINT i = 0; i < seen.n_sizes; i++)
    assert_int_equal(seen.alloc_data_size[i], 40);
  static const unsigned char zero[40];
  assert_memory_equal(seen.first_blob, zero, sizeof zero);
  assert_int_equal(seen.resource_data_size, 0);
  assert_int_equal(seen.wrong_size, 0);
  lt_replay_free(r);
  declare(NULL, NULL);
}

/* Builders get the trace's allocation (size, index, count, variant,
 * resource); the open gets the same bytes the create got. */
static void builders_describe_the_trace_allocation(void **state) {
  static const LT_UMD_PRIVATE_DATA d = {sizeof(umd_blob), 20, build_alloc, build_resource};
  declare(&d, NULL);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_KERNEL);
  assert_clean(r);
  umd_blob b;
  memcpy(&b, seen.first_blob, sizeof b);
  assert_int_equal(b.size, 8192);
  assert_int_equal(b.index, 0);
  assert_int_equal(b.count, 3);
  assert_int_equal(b.variant, 7);
  assert_int_equal(b.resource, 50);
  assert_int_equal(b.magic, 0x55aa);
  assert_memory_equal(seen.open_blob, seen.first_blob, sizeof b);
  assert_int_equal(seen.resource_data_size, 20);
  assert_int_equal(seen.wrong_size, 0);
  lt_replay_free(r);
  declare(NULL, NULL);
}

static const LT_UMD_CONTRACT one_at_a_time = {1, 1, 1, 1, 0, 0};

/* One allocation per call: the kernel policy makes three creates, opens,
 * closes and destroys, DestroyResource on the last destroy only, and the
 * replay is clean. */
static void kernel_splits_calls_to_the_contract(void **state) {
  declare(NULL, &one_at_a_time);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_KERNEL);
  assert_clean(r);
  assert_int_equal(seen.creates, 3);
  assert_int_equal(seen.max_create, 1);
  assert_int_equal(seen.destroys, 3);
  assert_int_equal(seen.max_destroy, 1);
  assert_int_equal(seen.max_open, 1);
  assert_int_equal(seen.max_close, 1);
  assert_int_equal(seen.destroy_flags[0], 0);
  assert_int_equal(seen.destroy_flags[1], 0);
  assert_int_equal(seen.destroy_flags[2], 1);
  assert_int_equal(seen.outside, 0);
  size_t n = 0;
  (void)lt_replay_notes(r, &n);
  assert_int_equal(n, 0); /* kernel: the split is what dxgkrnl does, no label */
  lt_replay_free(r);
  declare(NULL, NULL);
}

static const lt_note *find_note(const lt_replay *r, const char *ddi) {
  size_t n = 0;
  const lt_note *nt = lt_replay_notes(r, &n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(nt[i].kind, "umd-contract") && !strcmp(nt[i].ddi, ddi))
      return &nt[i];
  return NULL;
}

/* Audit: the same calls reach the driver, and each event that breaks a
 * clause is labelled with a note naming the clause; no finding. */
static void audit_labels_events_outside_the_contract(void **state) {
  declare(NULL, &one_at_a_time);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_AUDIT);
  assert_clean(r);
  assert_int_equal(seen.outside, 0);
  const lt_note *nt = find_note(r, "DxgkDdiDestroyAllocation");
  assert_non_null(nt);
  assert_non_null(strstr(nt->message, "MaxAllocationsPerDestroy = 1"));
  assert_int_equal(nt->event, 5);
  nt = find_note(r, "DxgkDdiCreateAllocation");
  assert_non_null(nt);
  assert_non_null(strstr(nt->message, "MaxAllocationsPerCreate"));
  assert_non_null(find_note(r, "DxgkDdiOpenAllocation"));
  assert_non_null(find_note(r, "DxgkDdiCloseAllocation"));
  lt_replay_free(r);
  declare(NULL, NULL);
}

/* A resource limited to two allocations: a create of three is refused (the
 * UMD never asks for it) and what names them later is dropped quietly. */
static void resource_maximum_refuses_the_create(void **state) {
  static const LT_UMD_CONTRACT two = {0, 0, 0, 0, 2, 0};
  declare(NULL, &two);
  lt_replay *r = replay_lines(three_lines, LT_POLICY_KERNEL);
  assert_clean(r);
  assert_int_equal(seen.creates, 0);
  assert_int_equal(seen.destroys, 0);
  lt_replay_free(r);
  r = replay_lines(three_lines, LT_POLICY_AUDIT);
  assert_clean(r);
  assert_non_null(strstr(find_note(r, "DxgkDdiCreateAllocation")->message,
                         "MaxAllocationsPerResource"));
  lt_replay_free(r);
  declare(NULL, NULL);
}

/* A create dxgkrnl cannot publish (handle-table failure) is undone with
 * DestroyAllocation: inside the contract too (found by fuzz-cxxplain). */
static void undone_create_stays_inside_the_contract(void **state) {
  static const char *lines[] = {
      "{\"op\": \"device_create\", \"device\": 1, \"pid\": 100}",
      "{\"op\": \"inject_fault\", \"site\": \"handle\", \"nth\": 1}",
      "{\"op\": \"alloc_create\", \"device\": 1, \"resource\": 32, \"new_resource\": true, "
      "\"allocs\": [{\"alloc\": 256}, {\"alloc\": 257}, {\"alloc\": 258}]}",
      "{\"op\": \"device_destroy\", \"device\": 1}",
      NULL};
  static const LT_UMD_CONTRACT destroy_one = {0, 0, 0, 1, 0, 0};
  declare(NULL, &destroy_one);
  lt_replay *r = replay_lines(lines, LT_POLICY_KERNEL);
  assert_clean(r);
  assert_int_equal(seen.destroys, 3);
  assert_int_equal(seen.outside, 0);
  assert_int_equal(seen.destroy_flags[2], 1);
  lt_replay_free(r);
  declare(NULL, NULL);
}

/* Replays a fuzz-form trace with the kernel policy. */
static void replay_fuzz(const uint8_t *buf, size_t n) {
  lt_trace *t = lt_trace_unpack(buf, n);
  memset(&seen, 0, sizeof seen);
  if (t == NULL)
    return;
  lt_header empty = LIFETRACE__TRACE_HEADER__INIT;
  lt_replay_opts o = {LT_POLICY_KERNEL, &umd_miniport, 0, NULL, NULL};
  lt_replay *r = NULL;
  assert_int_equal(lt_replay_new(&r, t->header ? t->header : &empty, &o), 0);
  for (size_t i = 0; i < t->n_events; i++)
    if (lt_replay_event(r, t->events[i]))
      break;
  int rc = lt_replay_finish(r);
  assert_true(rc == 0 || rc == LT_ENOMEM);
  lt_replay_free(r);
  lt_trace_free(t);
}

/* Property: over many mutations with a contract and a declared layout, every
 * output stays inside the contract (the trace) and the driver never sees a
 * call outside it nor a blob of a size it did not declare (the replay). */
static void mutator_stays_inside_the_declaration(void **state) {
  static const LT_UMD_CONTRACT c = {1, 2, 1, 1, 2, 0x1};
  static const LT_UMD_PRIVATE_DATA d = {sizeof(umd_blob), 8, build_alloc, NULL};
  declare(&d, &c);
  lt_mutator *m = NULL;
  assert_int_equal(lt_mutator_new(&m), 0);
  lt_mutator_set_umd_contract(m, &c);
  lt_mutator_set_bytes_rate(m, 0);
  static uint8_t buf[1 << 16];
  size_t n = 0, variants = 0, outside = 0, wrong = 0, seen_calls = 0;
  for (uint32_t seed = 1; seed <= 3000; seed++) {
    n = lt_mutator_mutate(m, buf, seed % 50 == 1 ? 0 : n, buf, sizeof buf, seed);
    lt_trace *t = lt_trace_unpack(buf, n);
    assert_non_null(t);
    for (size_t i = 0; i < t->n_events; i++) {
      const lt_event *ev = t->events[i];
      size_t lim = ev->op == LIFETRACE__OP__ALLOC_OPEN ? 2 : 1;
      int listed = ev->op == LIFETRACE__OP__ALLOC_OPEN || ev->op == LIFETRACE__OP__ALLOC_CLOSE ||
                   ev->op == LIFETRACE__OP__ALLOC_DESTROY;
      outside += ev->op == LIFETRACE__OP__ALLOC_CREATE && ev->n_allocs > 1;
      outside += listed && ev->n_handles > lim;
      for (size_t k = 0; k < ev->n_allocs; k++) {
        outside += (ev->allocs[k]->segments & ~1u) != 0;
        variants += ev->allocs[k]->variant != 0;
      }
    }
    lt_trace_free(t);
    replay_fuzz(buf, n);
    wrong += seen.wrong_size;
    outside += seen.outside;
    seen_calls += seen.creates;
  }
  lt_mutator_free(m);
  assert_int_equal(outside, 0);
  assert_int_equal(wrong, 0);
  assert_true(variants > 0);    /* the mutator does vary the blobs */
  assert_true(seen_calls > 100); /* and the driver was exercised */
  declare(NULL, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_blob_is_lt_umd_allocation_data),
      cmocka_unit_test(declared_size_without_builder_is_zeroed),
      cmocka_unit_test(builders_describe_the_trace_allocation),
      cmocka_unit_test(kernel_splits_calls_to_the_contract),
      cmocka_unit_test(audit_labels_events_outside_the_contract),
      cmocka_unit_test(resource_maximum_refuses_the_create),
      cmocka_unit_test(undone_create_stays_inside_the_contract),
      cmocka_unit_test(mutator_stays_inside_the_declaration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
