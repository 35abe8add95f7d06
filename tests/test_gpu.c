/* Unit tests: the simulated GPU's DMA queues, fences and scanout sources —
 * a packet that touches memory released before its fence completes reports
 * use-after-free exactly once with the right tag, a non-resident access
 * reports not-resident, packets complete in submission order up to the
 * fence, drain executes and forgets a context, reset drops everything, and
 * a scanout of a released range is reported at the next read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gpu_internal.h"
#include "lifetrace/gpu.h"

#define PG 4096u

typedef struct seen {
  int kind;
  lt_gpu_access a;
  uint64_t found;
  int from_scanout;
  uint32_t source;
} seen;

typedef struct vlog {
  seen v[64];
  int n;
} vlog;

static void record(void *data, int kind, const lt_gpu_access *a, uint64_t found, int from_scanout,
                   uint32_t source) {
  vlog *l = data;
  if (l->n < 64)
    l->v[l->n] = (seen){kind, *a, found, from_scanout, source};
  l->n++;
}

typedef struct fixture {
  lt_gpu *g;
  vlog log;
  long live_before;
} fixture;

static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof(f));
  f.live_before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, LT_SEGMENT_LOCAL, 64 * PG}, {2, LT_SEGMENT_APERTURE, 2 * PG}};
  if (lt_gpu_new(&f.g, d, 2) != 0)
    return -1;
  lt_gpu_set_violation_cb(f.g, record, &f.log);
  *state = &f;
  return 0;
}

/* Every test ends with everything released. */
static int teardown(void **state) {
  fixture *f = *state;
  lt_gpu_free(f->g);
  return lt_alloc_live() == f->live_before ? 0 : -1;
}

static lt_gpu_access place(lt_gpu *g, uint32_t set, uint64_t size, uint64_t owner, uint64_t tag) {
  lt_gpu_access a = {.size = size, .owner = owner, .tag = tag};
  assert_int_equal(lt_gpu_place(g, set, 0, size, 0, owner, &a.segment, &a.addr), 0);
  return a;
}

static void dma_after_release_reports_use_after_free_once(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, 3 * PG, 7, 0xabc);
  lt_gpu_access b = place(f->g, 1, PG, 8, 0xdef);
  lt_gpu_access acc[] = {a, b};
  assert_int_equal(lt_gpu_submit(f->g, 42, 1, acc, 2), 0);
  lt_gpu_release(f->g, a.segment, a.addr); /* released before the fence completes */
  assert_int_equal(f->log.n, 0);             /* nothing happens at release */
  assert_int_equal(lt_gpu_complete(f->g, 42, 1), 1);
  assert_int_equal(f->log.n, 1);
  assert_int_equal(f->log.v[0].kind, LT_GPU_V_USE_AFTER_FREE);
  assert_int_equal(f->log.v[0].a.tag, 0xabc);
  assert_int_equal(f->log.v[0].a.owner, 7);
  assert_int_equal(f->log.v[0].found, 0); /* quarantined: reads as free */
  assert_int_equal(f->log.v[0].from_scanout, 0);
  assert_int_equal(lt_gpu_complete(f->g, 42, 5), 0);
  assert_int_equal(f->log.n, 1); /* exactly once */
  assert_int_equal(lt_gpu_pending(f->g), 0);
}

static void dma_to_reused_memory_names_the_new_owner(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 2, 2 * PG, 7, 1); /* fills segment 2 */
  assert_int_equal(lt_gpu_submit(f->g, 1, 10, &a, 1), 0);
  lt_gpu_release(f->g, 2, a.addr);
  lt_gpu_access b = place(f->g, 2, 2 * PG, 9, 2); /* the only room: a's old range */
  assert_int_equal(b.addr, a.addr);
  assert_int_equal(lt_gpu_complete(f->g, 1, 10), 1);
  assert_int_equal(f->log.n, 1);
  assert_int_equal(f->log.v[0].kind, LT_GPU_V_USE_AFTER_FREE);
  assert_int_equal(f->log.v[0].a.tag, 1);
  assert_int_equal(f->log.v[0].found, 9);
}

static void valid_and_partial_accesses(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, 2 * PG, 7, 1);
  lt_gpu_access b = place(f->g, 1, PG, 8, 2);
  assert_int_equal(b.addr, a.addr + 2 * PG);
  lt_gpu_access inside = a, zero = a, over = a, wrong = a;
  inside.addr += PG + 8;
  inside.size = 100;
  zero.size = 0;
  over.size = 2 * PG + 1; /* runs into b */
  over.tag = 3;
  wrong.owner = 8; /* a's range, b's serial */
  wrong.tag = 4;
  lt_gpu_access acc[] = {a, inside, zero, over, wrong};
  assert_int_equal(lt_gpu_submit(f->g, 3, 1, acc, 5), 0);
  assert_int_equal(lt_gpu_complete(f->g, 3, 1), 1);
  assert_int_equal(f->log.n, 2);
  assert_int_equal(f->log.v[0].a.tag, 3);
  assert_int_equal(f->log.v[0].found, 8); /* the owner of the first byte not its own */
  assert_int_equal(f->log.v[1].a.tag, 4);
  assert_int_equal(f->log.v[1].found, 7);
}

static void not_resident_access_is_reported(void **state) {
  fixture *f = *state;
  lt_gpu_access a = {.segment = 0, .addr = 0, .size = PG, .owner = 5, .tag = 77, .write = 1};
  assert_int_equal(lt_gpu_submit(f->g, 9, 3, &a, 1), 0);
  assert_int_equal(lt_gpu_complete(f->g, 9, 3), 1);
  assert_int_equal(f->log.n, 1);
  assert_int_equal(f->log.v[0].kind, LT_GPU_V_NOT_RESIDENT);
  assert_int_equal(f->log.v[0].a.tag, 77);
  assert_int_equal(f->log.v[0].a.write, 1);
  /* An access to a segment that does not exist touches nobody's memory. */
  a.segment = 17;
  assert_int_equal(lt_gpu_submit(f->g, 9, 4, &a, 1), 0);
  assert_int_equal(lt_gpu_complete(f->g, 9, 4), 1);
  assert_int_equal(f->log.v[1].kind, LT_GPU_V_USE_AFTER_FREE);
}

static void packets_complete_in_order_up_to_the_fence(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  lt_gpu_release(f->g, a.segment, a.addr); /* every access below is reported: we see the order */
  uint64_t fences[] = {1, 2, 2, 5, 9};
  for (int i = 0; i < 5; i++) {
    lt_gpu_access acc[2] = {a, a};
    acc[0].tag = 100 + 2 * i;
    acc[1].tag = 101 + 2 * i;
    assert_int_equal(lt_gpu_submit(f->g, 6, fences[i], acc, 2), 0);
  }
  assert_int_equal(lt_gpu_submit(f->g, 6, 4, &a, 1), LT_EINVAL); /* fences must not decrease */
  assert_int_equal(lt_gpu_submit(f->g, 6, 10, NULL, 1), LT_EINVAL);
  assert_int_equal(lt_gpu_submitted_fence(f->g, 6), 9);
  assert_int_equal(lt_gpu_pending(f->g), 5);
  assert_int_equal(lt_gpu_complete(f->g, 6, 0), 0);
  assert_int_equal(lt_gpu_complete(f->g, 6, 2), 3);
  assert_int_equal(lt_gpu_completed_fence(f->g, 6), 2);
  assert_int_equal(lt_gpu_pending(f->g), 2);
  assert_int_equal(lt_gpu_complete(f->g, 6, 1), 0); /* going back completes nothing */
  assert_int_equal(lt_gpu_completed_fence(f->g, 6), 2);
  assert_int_equal(lt_gpu_complete(f->g, 6, 8), 1);
  assert_int_equal(lt_gpu_complete(f->g, 6, 9), 1);
  assert_int_equal(f->log.n, 10);
  for (int i = 0; i < 10; i++)
    assert_int_equal(f->log.v[i].a.tag, 100 + i);
  assert_int_equal(lt_gpu_submit(f->g, 6, 11, NULL, 0), 0); /* a packet without accesses */
  assert_int_equal(lt_gpu_complete(f->g, 6, 11), 1);
  assert_int_equal(lt_gpu_completed_fence(f->g, 77), 0); /* unknown context */
  assert_int_equal(lt_gpu_submitted_fence(f->g, 77), 0);
}

static void contexts_are_independent(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  uint64_t ids[] = {0, 1, UINT64_MAX, 0xffff800012345678u, 17};
  for (int i = 0; i < 5; i++) {
    a.tag = (uint64_t)i;
    assert_int_equal(lt_gpu_submit(f->g, ids[i], 100 + (uint64_t)i, &a, 1), 0);
  }
  assert_int_equal(lt_gpu_complete(f->g, ids[2], 1000), 1);
  assert_int_equal(lt_gpu_pending(f->g), 4);
  assert_int_equal(lt_gpu_submitted_fence(f->g, ids[3]), 103);
  assert_int_equal(lt_gpu_completed_fence(f->g, ids[3]), 0);
  assert_int_equal(lt_gpu_completed_fence(f->g, ids[2]), 1000);
  assert_int_equal(f->log.n, 0);
}

static void drain_executes_and_forgets(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 5);
  assert_int_equal(lt_gpu_submit(f->g, 4, 1, &a, 1), 0);
  assert_int_equal(lt_gpu_submit(f->g, 4, 2, &a, 1), 0);
  assert_int_equal(lt_gpu_submit(f->g, 8, 1, &a, 1), 0);
  lt_gpu_release(f->g, a.segment, a.addr);
  assert_int_equal(lt_gpu_context_drain(f->g, 4), 2);
  assert_int_equal(f->log.n, 2); /* teardown executes: the GPU touched the memory */
  assert_int_equal(lt_gpu_submitted_fence(f->g, 4), 0);
  assert_int_equal(lt_gpu_completed_fence(f->g, 4), 0);
  assert_int_equal(lt_gpu_pending(f->g), 1);
  assert_int_equal(lt_gpu_context_drain(f->g, 4), 0); /* already forgotten */
  assert_int_equal(lt_gpu_context_drain(f->g, 8), 1);
  assert_int_equal(lt_gpu_pending(f->g), 0);
  /* A drained context id can be used again from scratch. */
  assert_int_equal(lt_gpu_submit(f->g, 4, 1, NULL, 0), 0);
  assert_int_equal(lt_gpu_submitted_fence(f->g, 4), 1);
}

static void reset_drops_without_executing(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 5);
  for (uint64_t fence = 1; fence <= 3; fence++) {
    assert_int_equal(lt_gpu_submit(f->g, 4, fence, &a, 1), 0);
    assert_int_equal(lt_gpu_submit(f->g, 5, fence, &a, 1), 0);
  }
  lt_gpu_release(f->g, a.segment, a.addr);
  lt_gpu_reset(f->g);
  assert_int_equal(lt_gpu_pending(f->g), 0);
  assert_int_equal(lt_gpu_completed_fence(f->g, 4), 3); /* the dropped fences count as done */
  assert_int_equal(lt_gpu_submitted_fence(f->g, 4), 3);
  assert_int_equal(lt_gpu_complete(f->g, 4, 3), 0);
  assert_int_equal(lt_gpu_context_drain(f->g, 5), 0);
  assert_int_equal(f->log.n, 0);
  assert_int_equal(lt_gpu_submit(f->g, 4, 4, NULL, 0), 0);
}

static void scanout_of_released_range_is_reported_at_next_read(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, 8 * PG, 7, 0x51);
  lt_gpu_access b = place(f->g, 1, PG, 8, 0x52);
  lt_gpu_scanout_set(f->g, 3, &a);
  lt_gpu_scanout_set(f->g, 15, &b);
  lt_gpu_scanout_read(f->g);
  assert_int_equal(f->log.n, 0);
  lt_gpu_release(f->g, a.segment, a.addr);
  assert_int_equal(f->log.n, 0);
  lt_gpu_scanout_read(f->g);
  assert_int_equal(f->log.n, 1);
  assert_int_equal(f->log.v[0].kind, LT_GPU_V_USE_AFTER_FREE);
  assert_int_equal(f->log.v[0].from_scanout, 1);
  assert_int_equal(f->log.v[0].source, 3);
  assert_int_equal(f->log.v[0].a.tag, 0x51);
  lt_gpu_scanout_read(f->g);
  assert_int_equal(f->log.n, 1); /* once per scanout, not once per vblank */
  /* A fence completion is a vblank too; re-setting the source re-arms it. */
  lt_gpu_scanout_set(f->g, 3, &a);
  assert_int_equal(lt_gpu_complete(f->g, 99, 1), 0);
  assert_int_equal(f->log.n, 2);
  assert_int_equal(f->log.v[1].source, 3);
  /* Cleared or blanked sources read nothing. */
  lt_gpu_release(f->g, b.segment, b.addr);
  lt_gpu_scanout_clear(f->g, 15);
  lt_gpu_access blank = {0};
  lt_gpu_scanout_set(f->g, 3, &a);
  lt_gpu_scanout_set(f->g, 3, &blank);
  lt_gpu_scanout_set(f->g, 1000, &a); /* no such source: ignored */
  lt_gpu_scanout_read(f->g);
  assert_int_equal(f->log.n, 2);
}

static void scanout_with_another_owner_reports_it(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 2, 2 * PG, 7, 1);
  lt_gpu_scanout_set(f->g, 0, &a);
  lt_gpu_release(f->g, 2, a.addr);
  lt_gpu_access b = place(f->g, 2, 2 * PG, 9, 2);
  assert_int_equal(b.addr, a.addr);
  lt_gpu_scanout_read(f->g);
  assert_int_equal(f->log.n, 1);
  assert_int_equal(f->log.v[0].found, 9);
  assert_int_equal(f->log.v[0].source, 0);
}

/* Hundreds of contexts come and go: the table grows and deletes without
 * losing any (backward-shift deletion). */
static void many_contexts(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  uint64_t fence[600] = {0};
  size_t pending = 0;
  for (int round = 0; round < 20; round++) {
    for (uint64_t c = 0; c < 600; c++) {
      if ((c + (uint64_t)round) % 3 == 0) {
        pending -= fence[c] != 0 ? lt_gpu_context_drain(f->g, c * 0x9e3779b9u) : 0;
        fence[c] = 0;
      } else {
        assert_int_equal(lt_gpu_submit(f->g, c * 0x9e3779b9u, ++fence[c], &a, 1), 0);
        pending++;
      }
    }
    assert_int_equal(lt_gpu_pending(f->g), pending);
    for (uint64_t c = 0; c < 600; c++)
      assert_int_equal(lt_gpu_submitted_fence(f->g, c * 0x9e3779b9u), fence[c]);
  }
  assert_int_equal(f->log.n, 0);
}

/* Long queues wrap around their ring buffers and grow while wrapped. */
static void queues_wrap_and_grow(void **state) {
  fixture *f = *state;
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  lt_gpu_access acc[5];
  uint64_t fence = 0, done = 0;
  for (int round = 0; round < 200; round++) {
    for (int k = 0; k < round % 13 + 1; k++) {
      for (int i = 0; i < 5; i++) {
        acc[i] = a;
        acc[i].tag = fence * 8 + (uint64_t)i;
      }
      fence++;
      assert_int_equal(lt_gpu_submit(f->g, 2, fence, acc, (size_t)(fence % 6)), 0);
    }
    done += lt_gpu_complete(f->g, 2, fence - (uint64_t)(round % 4));
  }
  done += lt_gpu_context_drain(f->g, 2);
  assert_int_equal(done, fence);
  assert_int_equal(f->log.n, 0);
  lt_gpu_release(f->g, a.segment, a.addr);
  /* Now every access is reported, in order. */
  for (uint64_t k = 1; k <= 40; k++) {
    a.tag = k;
    assert_int_equal(lt_gpu_submit(f->g, 2, k, &a, 1), 0);
  }
  assert_int_equal(lt_gpu_complete(f->g, 2, 40), 40);
  for (int k = 0; k < 40; k++)
    assert_int_equal(f->log.v[k].a.tag, (uint64_t)k + 1);
}

static void no_callback_no_crash(void **state) {
  fixture *f = *state;
  lt_gpu_set_violation_cb(f->g, NULL, NULL);
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  assert_int_equal(lt_gpu_submit(f->g, 2, 1, &a, 1), 0);
  lt_gpu_scanout_set(f->g, 2, &a);
  lt_gpu_release(f->g, a.segment, a.addr);
  assert_int_equal(lt_gpu_complete(f->g, 2, 1), 1);
  assert_int_equal(f->log.n, 0);
}

/* lt_gpu_free releases whatever is still placed, quarantined or queued. */
static void free_releases_everything(void **state) {
  fixture *f = *state;
  for (uint64_t i = 1; i <= 40; i++) {
    lt_gpu_access a = place(f->g, 1, PG, i, i);
    assert_int_equal(lt_gpu_submit(f->g, i % 7, i, &a, 1), 0);
    if (i % 2)
      lt_gpu_release(f->g, a.segment, a.addr);
  }
  lt_gpu_scanout_set(f->g, 5, &(lt_gpu_access){1, 0, PG, 1, 0, 0});
  assert_int_equal(lt_gpu_pending(f->g), 40);
  /* teardown frees the GPU and checks lt_alloc_live() */
}

static void submit_out_of_memory_queues_nothing(void **state) {
  fixture *f = *state;
  lt_gpu_access acc[40];
  lt_gpu_access a = place(f->g, 1, PG, 7, 0);
  for (int i = 0; i < 40; i++)
    acc[i] = a;
  for (long nth = 1; nth < 8; nth++) {
    lt_alloc_fail_nth(nth);
    int rc = lt_gpu_submit(f->g, 1000 + (uint64_t)nth, 1, acc, 40);
    lt_alloc_fail_nth(0);
    if (rc == 0) {
      assert_int_equal(lt_gpu_pending(f->g), 1);
      assert_int_equal(lt_gpu_context_drain(f->g, 1000 + (uint64_t)nth), 1);
    } else {
      assert_int_equal(rc, LT_ENOMEM);
      assert_int_equal(lt_gpu_pending(f->g), 0);
    }
  }
  assert_int_equal(f->log.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(dma_after_release_reports_use_after_free_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(dma_to_reused_memory_names_the_new_owner, setup, teardown),
      cmocka_unit_test_setup_teardown(valid_and_partial_accesses, setup, teardown),
      cmocka_unit_test_setup_teardown(not_resident_access_is_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(packets_complete_in_order_up_to_the_fence, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(contexts_are_independent, setup, teardown),
      cmocka_unit_test_setup_teardown(drain_executes_and_forgets, setup, teardown),
      cmocka_unit_test_setup_teardown(reset_drops_without_executing, setup, teardown),
      cmocka_unit_test_setup_teardown(scanout_of_released_range_is_reported_at_next_read, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(scanout_with_another_owner_reports_it, setup, teardown),
      cmocka_unit_test_setup_teardown(many_contexts, setup, teardown),
      cmocka_unit_test_setup_teardown(queues_wrap_and_grow, setup, teardown),
      cmocka_unit_test_setup_teardown(no_callback_no_crash, setup, teardown),
      cmocka_unit_test_setup_teardown(free_releases_everything, setup, teardown),
      cmocka_unit_test_setup_teardown(submit_out_of_memory_queues_nothing, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
