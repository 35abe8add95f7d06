/* Unit tests: the simulated dxgkrnl kernel handle table (generations,
 * delayed reuse, type checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handle_table.h"

static void stale_handle_never_resolves_to_new_object(void **state) {
  long before = lt_alloc_live();
  lt__handle_table t;
  lt__ht_init(&t, 0); /* no delayed reuse: the slot comes back at once */
  int a = 1, b = 2;
  uint32_t ha, hb;
  assert_int_equal(lt__ht_alloc(&t, &a, 1, &ha), 0);
  assert_int_equal(lt__ht_free(&t, ha), 0);
  assert_int_equal(lt__ht_alloc(&t, &b, 1, &hb), 0);
  assert_int_equal(ha >> 8, hb >> 8);       /* same slot reused ... */
  assert_int_not_equal(ha, hb);             /* ... with a new generation */
  assert_null(lt__ht_lookup(&t, ha, 1));    /* the stale handle fails */
  assert_ptr_equal(lt__ht_lookup(&t, hb, 1), &b);
  assert_int_equal(lt__ht_free(&t, ha), LT_ENOENT); /* double free refused */
  lt__ht_reset(&t);
  assert_int_equal(lt_alloc_live(), before);
}

static void freed_slots_wait_before_reuse(void **state) {
  lt__handle_table t;
  lt__ht_init(&t, 16);
  int objs[64];
  uint32_t h[64];
  for (int i = 0; i < 64; i++)
    assert_int_equal(lt__ht_alloc(&t, &objs[i], 1, &h[i]), 0);
  assert_int_equal(lt__ht_free(&t, h[0]), 0);
  /* With fewer than 16 free slots a new handle takes a fresh slot. */
  uint32_t n;
  assert_int_equal(lt__ht_alloc(&t, &objs[0], 1, &n), 0);
  assert_int_not_equal(n >> 8, h[0] >> 8);
  for (int i = 1; i < 20; i++)
    assert_int_equal(lt__ht_free(&t, h[i]), 0);
  /* Now more than 16 are free: the oldest free slot (h[0]) is reused. */
  assert_int_equal(lt__ht_alloc(&t, &objs[1], 1, &n), 0);
  assert_int_equal(n >> 8, h[0] >> 8);
  assert_int_equal(t.live, 64 - 20 + 2);
  lt__ht_reset(&t);
}

static void type_and_bounds_are_checked(void **state) {
  lt__handle_table t;
  lt__ht_init(&t, 4);
  int x;
  uint32_t h;
  assert_int_equal(lt__ht_alloc(&t, &x, 7, &h), 0);
  assert_null(lt__ht_lookup(&t, h, 8));
  assert_ptr_equal(lt__ht_lookup(&t, h, -1), &x);
  assert_null(lt__ht_lookup(&t, 0, -1));
  assert_null(lt__ht_lookup(&t, 0xFFFFFF01u, -1));
  assert_null(lt__ht_lookup(&t, h ^ 0x80, 7)); /* wrong generation */
  lt__ht_reset(&t);
}

static void generations_survive_many_cycles(void **state) {
  lt__handle_table t;
  lt__ht_init(&t, 0);
  int x;
  uint32_t first, h;
  assert_int_equal(lt__ht_alloc(&t, &x, 1, &first), 0);
  assert_int_equal(lt__ht_free(&t, first), 0);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(lt__ht_alloc(&t, &x, 1, &h), 0);
    assert_int_not_equal(h & 0xff, 0);
    assert_int_equal(lt__ht_free(&t, h), 0);
    assert_null(lt__ht_lookup(&t, h, 1));
  }
  lt__ht_reset(&t);
}

/* Allocates and frees a pattern of handles past the first grow; returns the
 * handles it got, in order. */
static void churn(lt__handle_table *t, uint32_t *out, size_t n) {
  static int x;
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(lt__ht_alloc(t, &x, 1, &out[i]), 0);
    if (i % 3 == 0)
      assert_int_equal(lt__ht_free(t, out[i]), 0);
  }
}

/* A cleared table (a fuzz target's reset engine) hands out exactly the
 * handles a fresh one would, and keeps no old object reachable. */
static void cleared_table_behaves_as_a_fresh_one(void **state) {
  enum { N = 3000 };
  static uint32_t fresh[N], again[N];
  lt__handle_table t;
  lt__ht_init(&t, 16);
  churn(&t, fresh, N);
  lt__ht_clear(&t);
  assert_null(lt__ht_lookup(&t, fresh[1], -1));
  churn(&t, again, N);
  assert_memory_equal(fresh, again, sizeof fresh);
  lt__ht_reset(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stale_handle_never_resolves_to_new_object),
      cmocka_unit_test(cleared_table_behaves_as_a_fresh_one),
      cmocka_unit_test(freed_slots_wait_before_reuse),
      cmocka_unit_test(type_and_bounds_are_checked),
      cmocka_unit_test(generations_survive_many_cycles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
