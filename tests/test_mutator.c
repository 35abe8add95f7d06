/* Tests of the structure-aware trace mutator (fuzz/mutator.c): outputs
 * decode, stay within the size limit, are mostly well-formed for the kernel
 * policy, are deterministic per seed, every operation is reachable, and the
 * shapes the seeded-bug patterns need (resource-only destroys, partial
 * destroys, injected faults before a create) come out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lifetrace/mutator.h"
#include "lifetrace/trace.h"

#define MAXLEN 65536

static uint8_t seed_buf[4096];
static size_t seed_len;

/* device 1; a resource 0x20 of two allocations; a context and a submit. */
static void make_seed(void) {
  Lifetrace__TraceHeader h = LIFETRACE__TRACE_HEADER__INIT;
  Lifetrace__Event ev[5];
  Lifetrace__Event *evp[5];
  Lifetrace__AllocInfo ai[2], *aip[2];
  Lifetrace__Ref ref = LIFETRACE__REF__INIT, *refp = &ref;
  Lifetrace__Trace t = LIFETRACE__TRACE__INIT;
  for (int i = 0; i < 5; i++) {
    lifetrace__event__init(&ev[i]);
    evp[i] = &ev[i];
  }
  for (int i = 0; i < 2; i++) {
    lifetrace__alloc_info__init(&ai[i]);
    ai[i].alloc = 0x100 + (uint64_t)i;
    ai[i].size = 4096;
    aip[i] = &ai[i];
  }
  ev[0].op = LIFETRACE__OP__DEVICE_CREATE, ev[0].device = 1, ev[0].pid = 100;
  ev[1].op = LIFETRACE__OP__CONTEXT_CREATE, ev[1].device = 1, ev[1].context = 0x10;
  ev[2].op = LIFETRACE__OP__ALLOC_CREATE, ev[2].device = 1, ev[2].resource = 0x20;
  ev[2].new_resource = 1, ev[2].n_allocs = 2, ev[2].allocs = aip;
  ref.alloc = 0x100;
  ev[3].op = LIFETRACE__OP__SUBMIT, ev[3].context = 0x10, ev[3].fence = 1;
  ev[3].n_refs = 1, ev[3].refs = &refp;
  ev[4].op = LIFETRACE__OP__FENCE_DONE, ev[4].context = 0x10, ev[4].fence = 1;
  t.header = &h;
  t.n_events = 5;
  t.events = evp;
  seed_len = lifetrace__trace__pack(&t, seed_buf);
}

static long live_at_setup;

static int setup(void **state) {
  lt_mutator *m = NULL;
  if (seed_len == 0)
    make_seed();
  live_at_setup = lt_alloc_live();
  if (lt_mutator_new(&m))
    return -1;
  *state = m;
  return 0;
}

/* Every test ends with everything it made released. */
static int teardown(void **state) {
  lt_mutator_free(*state);
  return lt_alloc_live() == live_at_setup ? 0 : -1;
}

static void test_seed_is_well_formed(void **state) {
  size_t events, accepted;
  assert_int_equal(lt_mutator_check(*state, seed_buf, seed_len, &events, &accepted), 1);
  assert_int_equal(events, 5);
  assert_int_equal(accepted, 5);
}

static void test_garbage_input_gives_a_fresh_trace(void **state) {
  static uint8_t out[MAXLEN];
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};
  size_t events, accepted, n = lt_mutator_mutate(*state, junk, sizeof junk, out, sizeof out, 7);
  assert_true(n > 0);
  assert_int_equal(lt_mutator_check(*state, out, n, &events, &accepted), 1);
  assert_true(events >= 1);
  assert_string_equal(lt_mutator_describe(*state), "generate");
  assert_int_equal(lt_mutator_get_stats(*state)->undecodable, 1);
}

static void test_same_seed_same_output(void **state) {
  static uint8_t a[MAXLEN], b[MAXLEN];
  for (uint32_t seed = 1; seed < 200; seed++) {
    size_t na = lt_mutator_mutate(*state, seed_buf, seed_len, a, sizeof a, seed);
    size_t nb = lt_mutator_mutate(*state, seed_buf, seed_len, b, sizeof b, seed);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
  }
}

static void test_outputs_fit_the_limit(void **state) {
  static uint8_t out[MAXLEN];
  size_t events, accepted;
  lt_mutator_set_bytes_rate(*state, 0); /* byte flips may break decoding */
  for (uint32_t seed = 1; seed < 500; seed++) {
    size_t max = 16 + seed % 200;
    size_t n = lt_mutator_mutate(*state, seed_buf, seed_len, out, max, seed);
    assert_true(n <= max);
    assert_true(n > 0);
    assert_int_equal(lt_mutator_check(*state, out, n, &events, &accepted), 1);
  }
}

/* Evolves a pool like a fuzzer does and measures the outputs. */
static void test_most_outputs_are_well_formed(void **state) {
  static uint8_t pool[16][MAXLEN], out[MAXLEN];
  size_t len[16], npool = 1, decoded = 0, whole = 0, ev_total = 0, acc_total = 0;
  const size_t runs = 4000;
  memcpy(pool[0], seed_buf, seed_len);
  len[0] = seed_len;
  for (size_t i = 0; i < runs; i++) {
    size_t a = i % npool, b = (i * 7 + 3) % npool, n, events, accepted;
    if (i & 1)
      n = lt_mutator_crossover(*state, pool[a], len[a], pool[b], len[b], out, sizeof out,
                               (uint32_t)i);
    else
      n = lt_mutator_mutate(*state, pool[a], len[a], out, sizeof out, (uint32_t)i);
    if (lt_mutator_check(*state, out, n, &events, &accepted)) {
      decoded++;
      whole += events == accepted;
      ev_total += events;
      acc_total += accepted;
    }
    if (i % 5 == 0) {
      size_t k = npool < 16 ? npool++ : i % 16;
      memcpy(pool[k], out, n);
      len[k] = n;
    }
  }
  assert_true(decoded >= runs * 97 / 100);
  assert_true(whole >= runs * 85 / 100);
  assert_true(acc_total >= ev_total * 97 / 100);
}

static void test_every_operation_is_used(void **state) {
  static uint8_t a[MAXLEN], out[MAXLEN];
  size_t n = seed_len;
  memcpy(a, seed_buf, n);
  for (uint32_t seed = 1; seed < 20000; seed++) {
    size_t m = seed & 1 ? lt_mutator_crossover(*state, a, n, seed_buf, seed_len, out, sizeof out,
                                               seed)
                        : lt_mutator_mutate(*state, a, n, out, sizeof out, seed);
    if (seed % 3 == 0) {
      memcpy(a, out, m);
      n = m;
    }
  }
  const lt_mutator_stats *st = lt_mutator_get_stats(*state);
  for (int op = 0; op < LT_MUT__COUNT; op++)
    if (op != LT_MUT_GENERATE && st->applied[op] == 0)
      fail_msg("operation %s never applied", lt_mutator_op_name(op));
}

/* The shapes the seeded-bug patterns need are generated. */
static void test_bug_shapes_appear(void **state) {
  static uint8_t a[MAXLEN], out[MAXLEN];
  int resource_only = 0, partial = 0, fault_before_create = 0, assume = 0, add_to_res = 0;
  size_t n = seed_len;
  memcpy(a, seed_buf, n);
  for (uint32_t seed = 1; seed < 20000; seed++) {
    size_t m = lt_mutator_mutate(*state, a, n, out, sizeof out, seed);
    lt_trace *t = lt_trace_unpack(out, m);
    if (t == NULL)
      continue;
    for (size_t i = 0; i < t->n_events; i++) {
      const lt_event *e = t->events[i];
      if (e->op == LIFETRACE__OP__ALLOC_DESTROY && e->resource) {
        resource_only |= e->n_handles == 0 && e->destroy_resource;
        partial |= e->n_handles > 0 && !e->destroy_resource;
      }
      assume |= e->op == LIFETRACE__OP__ALLOC_DESTROY && e->assume_not_in_use;
      add_to_res |= e->op == LIFETRACE__OP__ALLOC_CREATE && e->resource && !e->new_resource;
      fault_before_create |= e->op == LIFETRACE__OP__INJECT_FAULT && i + 1 < t->n_events &&
                             t->events[i + 1]->op == LIFETRACE__OP__ALLOC_CREATE;
    }
    lt_trace_free(t);
    if (seed % 4 == 0 && m < sizeof a) {
      memcpy(a, out, m);
      n = m;
    }
  }
  assert_true(resource_only);
  assert_true(partial);
  assert_true(assume);
  assert_true(add_to_res);
  assert_true(fault_before_create);
}

/* The resource-level private data of alloc_create is set (a blob the seed
 * lacks), changed, cleared, and reaches a create that adds to a resource
 * (where a driver replaces its old blob). */
static void test_resource_data_is_mutated(void **state) {
  static uint8_t a[MAXLEN], out[MAXLEN];
  int set_on_add = 0, cleared = 0, input_had = 0;
  uint32_t sizes_seen = 0;
  size_t n = seed_len;
  memcpy(a, seed_buf, n);
  for (uint32_t seed = 1; seed < 20000; seed++) {
    size_t m = lt_mutator_mutate(*state, a, n, out, sizeof out, seed);
    lt_trace *t = lt_trace_unpack(out, m);
    if (t == NULL)
      continue;
    int had = 0;
    for (size_t i = 0; i < t->n_events; i++) {
      const lt_event *e = t->events[i];
      if (e->op != LIFETRACE__OP__ALLOC_CREATE)
        continue;
      had |= e->resource_data != 0;
      set_on_add |= e->resource && !e->new_resource && e->resource_data;
      if (e->resource_data)
        sizes_seen |= 1u << (__builtin_ctz(e->resource_data) & 31);
    }
    lt_trace_free(t);
    cleared |= input_had && !had; /* an input with a blob lost it */
    if (seed % 4 == 0 && m < sizeof a) {
      memcpy(a, out, m);
      n = m;
      input_had = had;
    }
  }
  assert_true(set_on_add);
  assert_true(cleared);
  assert_true(__builtin_popcount(sizes_seen) >= 3);
}

static void test_trim_drops_one_event(void **state) {
  static uint8_t out[MAXLEN];
  size_t events, accepted;
  assert_int_equal(lt_mutator_load(*state, seed_buf, seed_len), 5);
  size_t n = lt_mutator_emit_without(*state, 4, 1, out, sizeof out);
  assert_int_equal(lt_mutator_check(*state, out, n, &events, &accepted), 1);
  assert_int_equal(events, 4);
  assert_int_equal(lt_mutator_load(*state, (const uint8_t *)"\xff\xff", 2), 0);
}

static void test_check_flags_refused_events(void **state) {
  static uint8_t out[MAXLEN];
  size_t events, accepted;
  /* The seed without its device_create: every later event is refused. */
  assert_int_equal(lt_mutator_load(*state, seed_buf, seed_len), 5);
  size_t n = lt_mutator_emit_without(*state, 0, 1, out, sizeof out);
  assert_int_equal(lt_mutator_check(*state, out, n, &events, &accepted), 1);
  assert_int_equal(events, 4);
  assert_int_equal(accepted, 0);
}

static void test_no_leaks(void **state) {
  static uint8_t out[MAXLEN];
  long live = lt_alloc_live();
  for (uint32_t seed = 1; seed < 300; seed++)
    (void)lt_mutator_mutate(*state, seed_buf, seed_len, out, sizeof out, seed);
  assert_int_equal(lt_alloc_live(), live);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_seed_is_well_formed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage_input_gives_a_fresh_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_same_seed_same_output, setup, teardown),
      cmocka_unit_test_setup_teardown(test_outputs_fit_the_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_most_outputs_are_well_formed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_operation_is_used, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bug_shapes_appear, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trim_drops_one_event, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check_flags_refused_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_leaks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resource_data_is_mutated, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
