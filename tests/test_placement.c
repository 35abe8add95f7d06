/* Unit tests: the simulated GPU's placement allocator and shadow memory —
 * segments fill up and report LT_ENOSPACE, freed space coalesces, alignment
 * and segment sets are honoured, the quarantine delays reuse without ever
 * causing a false failure, and a randomized run agrees with a simple
 * reference model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpu_internal.h"
#include "lifetrace/gpu.h"

#define PG 4096u

static lt_gpu *new_gpu(const lt_gpu_segment_desc *segs, size_t n) {
  lt_gpu *g = NULL;
  assert_int_equal(lt_gpu_new(&g, segs, n), 0);
  assert_non_null(g);
  return g;
}

static void place_ok(lt_gpu *g, uint32_t set, uint32_t pref, uint64_t size, uint64_t align,
                     uint64_t owner, uint32_t *seg, uint64_t *addr) {
  assert_int_equal(lt_gpu_place(g, set, pref, size, align, owner, seg, addr), 0);
}

static void full_segment_reports_nospace(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {1, LT_SEGMENT_LOCAL, 64 * PG};
  lt_gpu *g = new_gpu(&d, 1);
  uint32_t seg;
  uint64_t addr, seen[64];
  for (int i = 0; i < 64; i++) {
    place_ok(g, 0, 0, PG, 0, 100 + i, &seg, &addr);
    assert_int_equal(seg, 1);
    for (int k = 0; k < i; k++)
      assert_int_not_equal(seen[k], addr);
    seen[i] = addr;
  }
  assert_int_equal(lt_gpu_place(g, 0, 0, 1, 0, 999, &seg, &addr), LT_ENOSPACE);
  uint64_t used, free_bytes;
  lt_gpu_segment_usage(g, 1, &used, &free_bytes);
  assert_int_equal(used, 64 * PG);
  assert_int_equal(free_bytes, 0);
  /* Released one page at a time, the segment becomes one free extent again. */
  for (int i = 0; i < 64; i++)
    lt_gpu_release(g, 1, seen[i]);
  lt_gpu_segment_usage(g, 1, &used, &free_bytes);
  assert_int_equal(used, 0);
  assert_int_equal(free_bytes, 64 * PG);
  place_ok(g, 0, 0, 64 * PG, 0, 1000, &seg, &addr);
  assert_int_equal(addr, 0);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void released_neighbours_coalesce(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {1, LT_SEGMENT_LOCAL, 12 * PG};
  lt_gpu *g = new_gpu(&d, 1);
  uint32_t seg;
  uint64_t a, b, c, x;
  place_ok(g, 0, 0, 4 * PG, 0, 1, &seg, &a);
  place_ok(g, 0, 0, 4 * PG, 0, 2, &seg, &b);
  place_ok(g, 0, 0, 4 * PG, 0, 3, &seg, &c);
  lt_gpu_release(g, 1, b); /* middle first, then both sides */
  lt_gpu_release(g, 1, a);
  lt_gpu_release(g, 1, c);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  place_ok(g, 0, 0, 12 * PG, 0, 4, &seg, &x);
  assert_int_equal(x, 0);
  lt_gpu_release(g, 1, x);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void alignment_is_respected(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {1, LT_SEGMENT_LOCAL, 64ull << 20};
  lt_gpu *g = new_gpu(&d, 1);
  uint32_t seg;
  uint64_t addr;
  for (int i = 0; i < 50; i++) {
    place_ok(g, 0, 0, 3 * PG + 17, 0, 1 + 3 * i, &seg, &addr); /* misaligns what follows */
    assert_int_equal(addr % PG, 0);
    place_ok(g, 0, 0, 100, 256, 2 + 3 * i, &seg, &addr);
    assert_int_equal(addr % PG, 0);
    place_ok(g, 0, 0, 5 * PG, 64 * 1024, 3 + 3 * i, &seg, &addr);
    assert_int_equal(addr % (64 * 1024), 0);
  }
  place_ok(g, 0, 0, PG, 1u << 20, 1000, &seg, &addr);
  assert_int_equal(addr % (1u << 20), 0);
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 3 * PG, 1001, &seg, &addr), LT_EINVAL);
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 0, 0, &seg, &addr), LT_EINVAL);
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 0, 1002, NULL, &addr), LT_EINVAL);
  /* An alignment larger than the segment cannot be met. */
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 1ull << 40, 1003, &seg, &addr), LT_ENOSPACE);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void segment_sets_and_preferred_are_honoured(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, LT_SEGMENT_LOCAL, 8 * PG},
                             {2, LT_SEGMENT_APERTURE, 8 * PG},
                             {5, LT_SEGMENT_SYSTEM, 8 * PG}};
  lt_gpu *g = new_gpu(d, 3);
  uint32_t seg;
  uint64_t addr;
  uint32_t set25 = (1u << 1) | (1u << 4);
  place_ok(g, set25, 5, PG, 0, 1, &seg, &addr);
  assert_int_equal(seg, 5); /* preferred first */
  place_ok(g, set25, 1, PG, 0, 2, &seg, &addr);
  assert_int_equal(seg, 2); /* preferred outside the set is not used */
  place_ok(g, 0, 2, PG, 0, 3, &seg, &addr);
  assert_int_equal(seg, 2); /* set 0 = any segment */
  place_ok(g, 0, 0, PG, 0, 4, &seg, &addr);
  assert_int_equal(seg, 1); /* no preference: lowest id */
  place_ok(g, 1u << 4, 0, 7 * PG, 0, 5, &seg, &addr);
  assert_int_equal(seg, 5); /* segment 5 is now full */
  place_ok(g, set25, 5, PG, 0, 6, &seg, &addr);
  assert_int_equal(seg, 2); /* preferred full: the next of the set */
  assert_int_equal(lt_gpu_place(g, 1u << 4, 5, PG, 0, 7, &seg, &addr), LT_ENOSPACE);
  /* Only segments that do not exist. */
  assert_int_equal(lt_gpu_place(g, 1u << 9, 10, PG, 0, 8, &seg, &addr), LT_ENOSPACE);
  assert_int_equal(lt_gpu_owner_at(g, 5, 0), 1);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void quarantine_delays_reuse(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {1, LT_SEGMENT_LOCAL, 1ull << 30};
  lt_gpu *g = new_gpu(&d, 1);
  uint32_t seg;
  uint64_t x, y, owner = 1;
  place_ok(g, 0, 0, 2 * PG, 0, owner++, &seg, &x);
  lt_gpu_release(g, 1, x);
  assert_int_equal(lt_gpu_owner_at(g, 1, x), 0); /* the shadow says free at once */
  place_ok(g, 0, 0, 2 * PG, 0, owner++, &seg, &y);
  assert_int_not_equal(x, y); /* ... but the space is not handed out again yet */
  /* Many more releases push it out of the quarantine; then it is reused. */
  int reused = 0;
  for (int i = 0; i < 200 && !reused; i++) {
    uint64_t a;
    place_ok(g, 0, 0, 2 * PG, 0, owner++, &seg, &a);
    if (a == x) {
      reused = 1;
      assert_true(i >= LT__GPU_QUARANTINE_MAX - 2);
    }
    lt_gpu_release(g, 1, a);
  }
  assert_true(reused);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void quarantine_never_causes_false_failure(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, LT_SEGMENT_LOCAL, 16 * PG}, {2, LT_SEGMENT_APERTURE, 16 * PG}};
  lt_gpu *g = new_gpu(d, 2);
  uint32_t seg;
  uint64_t a[16], x, owner = 1;
  for (int i = 0; i < 16; i++)
    place_ok(g, 1, 0, PG, 0, owner++, &seg, &a[i]);
  /* Segment 1 is full; free one page: a same-size request still fits. */
  lt_gpu_release(g, 1, a[7]);
  place_ok(g, 1, 0, PG, 0, owner++, &seg, &x);
  assert_int_equal(x, a[7]);
  /* Free two neighbours: a two-page request fits in preferred segment 1
   * even though the other segment of the set has plenty of room. */
  lt_gpu_release(g, 1, a[3]);
  lt_gpu_release(g, 1, a[4]);
  place_ok(g, 3, 1, 2 * PG, 0, owner++, &seg, &x);
  assert_int_equal(seg, 1);
  assert_int_equal(x, a[3]);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void owner_at_follows_place_release_and_reuse(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {3, LT_SEGMENT_LOCAL, 4 * PG};
  lt_gpu *g = new_gpu(&d, 1);
  uint32_t seg;
  uint64_t a, b, c;
  place_ok(g, 0, 0, PG + 1, 0, 11, &seg, &a); /* two pages: the rounded range is owned */
  assert_int_equal(seg, 3);
  assert_int_equal(lt_gpu_owner_at(g, 3, a), 11);
  assert_int_equal(lt_gpu_owner_at(g, 3, a + PG + 5), 11);
  assert_int_equal(lt_gpu_owner_at(g, 3, a + 2 * PG - 1), 11);
  assert_int_equal(lt_gpu_owner_at(g, 3, a + 2 * PG), 0);
  assert_int_equal(lt_gpu_owner_at(g, 1, a), 0);       /* no such segment */
  assert_int_equal(lt_gpu_owner_at(g, 3, 1ull << 40), 0); /* beyond the end */
  place_ok(g, 0, 0, PG, 0, 12, &seg, &b);
  assert_int_equal(lt_gpu_owner_at(g, 3, b + 100), 12);
  lt_gpu_release(g, 3, a);
  assert_int_equal(lt_gpu_owner_at(g, 3, a), 0);
  assert_int_equal(lt_gpu_owner_at(g, 3, a + PG), 0);
  lt_gpu_release(g, 3, a); /* a second release is ignored */
  lt_gpu_release(g, 3, b + PG); /* not a placed range: ignored */
  assert_int_equal(lt_gpu_owner_at(g, 3, b), 12);
  place_ok(g, 0, 0, 2 * PG, 0, 13, &seg, &c); /* only a's space fits: reused */
  assert_int_equal(c, a);
  assert_int_equal(lt_gpu_owner_at(g, 3, a + PG), 13);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void odd_sizes_and_fault_injection(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, LT_SEGMENT_LOCAL, 10 * PG + 100}, {2, LT_SEGMENT_LOCAL, 0}};
  lt_gpu *g = new_gpu(d, 2);
  uint32_t seg;
  uint64_t addr, used, free_bytes;
  assert_int_equal(lt_gpu_place(g, 2, 0, 1, 0, 1, &seg, &addr), LT_ENOSPACE);
  assert_int_equal(lt_gpu_place(g, 0, 0, UINT64_MAX, 0, 1, &seg, &addr), LT_ENOSPACE);
  assert_int_equal(lt_gpu_place(g, 0, 0, UINT64_MAX - PG, 1ull << 63, 1, &seg, &addr),
                   LT_ENOSPACE);
  place_ok(g, 0, 0, 0, 0, 2, &seg, &addr); /* size 0 takes one page */
  lt_gpu_segment_usage(g, 1, &used, &free_bytes);
  assert_int_equal(used, PG);
  place_ok(g, 0, 0, 9 * PG, 0, 3, &seg, &addr);
  assert_int_equal(lt_gpu_place(g, 0, 0, 1, 0, 4, &seg, &addr), LT_ENOSPACE);
  lt_gpu_segment_usage(g, 1, &used, &free_bytes);
  assert_int_equal(used + free_bytes, 10 * PG + 100);
  assert_int_equal(free_bytes, 100);
  lt_gpu_release(g, 1, addr);
  lt_gpu_fail_nth(g, 2);
  place_ok(g, 0, 0, PG, 0, 5, &seg, &addr);
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 0, 6, &seg, &addr), LT_ENOSPACE);
  place_ok(g, 0, 0, PG, 0, 7, &seg, &addr);
  lt_gpu_segment_usage(g, 9, &used, &free_bytes);
  assert_int_equal(used + free_bytes, 0);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

static void bad_segment_tables_are_refused(void **state) {
  long before = lt_alloc_live();
  lt_gpu *g = NULL;
  lt_gpu_segment_desc dup[] = {{1, 0, PG}, {1, 0, PG}};
  lt_gpu_segment_desc zero = {0, 0, PG}, big = {33, 0, PG};
  assert_int_equal(lt_gpu_new(&g, dup, 2), LT_EINVAL);
  assert_int_equal(lt_gpu_new(&g, &zero, 1), LT_EINVAL);
  assert_int_equal(lt_gpu_new(&g, &big, 1), LT_EINVAL);
  assert_int_equal(lt_gpu_new(&g, NULL, 1), LT_EINVAL);
  assert_null(g);
  assert_int_equal(lt_gpu_new(&g, NULL, 0), 0); /* a GPU without memory */
  uint32_t seg;
  uint64_t addr;
  assert_int_equal(lt_gpu_place(g, 0, 0, PG, 0, 1, &seg, &addr), LT_ENOSPACE);
  lt_gpu_free(g);
  lt_gpu_free(NULL);
  assert_int_equal(lt_alloc_live(), before);
}

static void out_of_memory_unwinds_cleanly(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, 0, 1ull << 32}, {2, 1, 1ull << 30}};
  for (long nth = 1;; nth++) {
    lt_gpu *g = NULL;
    lt_alloc_fail_nth(nth);
    int rc = lt_gpu_new(&g, d, 2);
    int failed = rc != 0;
    if (rc == 0) {
      for (uint64_t i = 1; i <= 3000 && rc == 0; i++) {
        uint32_t seg;
        uint64_t addr;
        rc = lt_gpu_place(g, 0, 0, PG * (1 + i % 5), 0, i, &seg, &addr);
        if (rc == 0 && i % 3 == 0)
          lt_gpu_release(g, seg, addr);
      }
      failed = rc != 0;
      if (rc == LT_ENOMEM)
        assert_int_equal(lt__gpu_check_invariants(g), 0);
      lt_gpu_free(g);
    }
    lt_alloc_fail_nth(0);
    if (failed)
      assert_int_equal(rc, LT_ENOMEM);
    assert_int_equal(lt_alloc_live(), before);
    if (!failed)
      break;
  }
}

/* ---- randomized run against a reference model ---- */

typedef struct ref {
  uint32_t seg;
  uint64_t addr, len, owner;
} ref;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static int by_addr(const void *x, const void *y) {
  const ref *a = x, *b = y;
  if (a->seg != b->seg)
    return a->seg < b->seg ? -1 : 1;
  return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* Could a range of len bytes at align fit in seg's complement of live? */
static int ref_fits(ref *live, size_t n, uint32_t seg, uint64_t size, uint64_t len, uint64_t align) {
  uint64_t at = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && live[i].seg != seg)
      continue;
    uint64_t end = i < n ? live[i].addr : size;
    uint64_t start = (at + align - 1) & ~(align - 1);
    if (start >= at && start <= end && end - start >= len)
      return 1;
    if (i < n)
      at = live[i].addr + live[i].len;
  }
  return 0;
}

static void check_against_model(lt_gpu *g, const lt_gpu_segment_desc *d, size_t nd, ref *live,
                                size_t n) {
  qsort(live, n, sizeof(*live), by_addr);
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && live[i - 1].seg == live[i].seg)
      assert_true(live[i - 1].addr + live[i - 1].len <= live[i].addr); /* no overlap */
    assert_int_equal(lt_gpu_owner_at(g, live[i].seg, live[i].addr), live[i].owner);
    assert_int_equal(lt_gpu_owner_at(g, live[i].seg, live[i].addr + live[i].len - 1),
                     live[i].owner);
    uint64_t after = live[i].addr + live[i].len;
    int next_adjacent = i + 1 < n && live[i + 1].seg == live[i].seg && live[i + 1].addr == after;
    if (!next_adjacent)
      assert_int_equal(lt_gpu_owner_at(g, live[i].seg, after), 0);
  }
  for (size_t k = 0; k < nd; k++) { /* every byte is accounted for */
    uint64_t used = 0, u, f;
    for (size_t i = 0; i < n; i++)
      used += live[i].seg == d[k].id ? live[i].len : 0;
    lt_gpu_segment_usage(g, d[k].id, &u, &f);
    assert_int_equal(u, used);
    assert_int_equal(u + f, d[k].size);
  }
  assert_int_equal(lt__gpu_check_invariants(g), 0);
}

static int seg_allowed(uint32_t set, uint32_t id) { return set == 0 || (set >> (id - 1)) & 1; }

static void one_random_placement(lt_gpu *g, const lt_gpu_segment_desc *d, size_t nd, ref *live,
                                 size_t *n, uint64_t owner) {
  static const uint64_t aligns[] = {0, 0, 0, 256, PG, 2 * PG, 16 * PG};
  uint64_t r = rnd();
  uint64_t size = r % 4 == 0 ? 1 + rnd() % (40 * PG) : PG * (1 + rnd() % 8);
  uint64_t align = aligns[rnd() % 7];
  uint32_t set = (uint32_t)(rnd() % 8); /* segments 1..3 */
  uint32_t pref = (uint32_t)(rnd() % 4);
  uint64_t len = (size + PG - 1) / PG * PG, al = align > PG ? align : PG;
  uint32_t seg;
  uint64_t addr;
  int rc = lt_gpu_place(g, set, pref, size, align, owner, &seg, &addr);
  qsort(live, *n, sizeof(*live), by_addr);
  if (rc == LT_ENOSPACE) { /* only when nothing allowed really had room */
    for (size_t k = 0; k < nd; k++)
      if (seg_allowed(set, d[k].id))
        assert_false(ref_fits(live, *n, d[k].id, d[k].size, len, al));
    return;
  }
  assert_int_equal(rc, 0);
  assert_true(seg_allowed(set, seg));
  assert_int_equal(addr % al, 0);
  assert_true(addr + len <= d[seg - 1].size);
  /* Every segment tried before the chosen one really had no room. */
  for (size_t k = 0; k < nd; k++) {
    uint32_t id = d[k].id;
    int before = seg_allowed(set, id) && id != seg &&
                 (id == pref || (seg != pref && id < seg));
    if (before)
      assert_false(ref_fits(live, *n, id, d[k].size, len, al));
  }
  live[(*n)++] = (ref){seg, addr, len, owner};
}

static void randomized_against_reference(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d[] = {{1, LT_SEGMENT_LOCAL, 512 * PG},
                             {2, LT_SEGMENT_APERTURE, 256 * PG + 1234},
                             {3, LT_SEGMENT_SYSTEM, 1024 * PG}};
  lt_gpu *g = new_gpu(d, 3);
  ref *live = calloc(4096, sizeof(*live));
  size_t n = 0;
  uint64_t owner = 1;
  for (int step = 0; step < 20000; step++) {
    if (n > 0 && (rnd() % 100 < 45 || n >= 4000)) {
      size_t i = rnd() % n;
      lt_gpu_release(g, live[i].seg, live[i].addr);
      live[i] = live[--n];
    } else {
      one_random_placement(g, d, 3, live, &n, owner++);
    }
    if (step % 97 == 0)
      check_against_model(g, d, 3, live, n);
  }
  check_against_model(g, d, 3, live, n);
  free(live);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

/* Tens of thousands of live ranges: a tree several levels deep, splitting
 * and merging nodes, with the shadow table growing and shrinking. */
static void many_live_ranges(void **state) {
  long before = lt_alloc_live();
  lt_gpu_segment_desc d = {1, LT_SEGMENT_LOCAL, 1ull << 34};
  lt_gpu *g = new_gpu(&d, 1);
  enum { N = 40000 };
  ref *live = calloc(N, sizeof(*live));
  uint32_t seg;
  for (size_t i = 0; i < N; i++) {
    uint64_t size = PG * (1 + rnd() % 40);
    place_ok(g, 0, 0, size, 0, i + 1, &seg, &live[i].addr);
    live[i] = (ref){seg, live[i].addr, size, i + 1};
  }
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  uint64_t owner = N + 1;
  for (int k = 0; k < 4 * N; k++) {
    size_t i = rnd() % N;
    lt_gpu_release(g, 1, live[i].addr);
    uint64_t size = PG * (1 + rnd() % 40);
    place_ok(g, 0, 0, size, 0, owner, &seg, &live[i].addr);
    live[i] = (ref){seg, live[i].addr, size, owner++};
  }
  check_against_model(g, &d, 1, live, N);
  size_t peak = g->sh_cap;
  for (size_t i = 0; i < N; i++) /* almost everything goes */
    if (i % 50 != 0)
      lt_gpu_release(g, 1, live[i].addr);
  assert_int_equal(lt__gpu_check_invariants(g), 0);
  /* Memory follows the live ranges: the shadow table shrank with them. */
  assert_int_equal(g->sh_count, N / 50);
  assert_true(g->sh_cap <= peak / 8);
  free(live);
  lt_gpu_free(g);
  assert_int_equal(lt_alloc_live(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_segment_reports_nospace),
      cmocka_unit_test(released_neighbours_coalesce),
      cmocka_unit_test(alignment_is_respected),
      cmocka_unit_test(segment_sets_and_preferred_are_honoured),
      cmocka_unit_test(quarantine_delays_reuse),
      cmocka_unit_test(quarantine_never_causes_false_failure),
      cmocka_unit_test(owner_at_follows_place_release_and_reuse),
      cmocka_unit_test(odd_sizes_and_fault_injection),
      cmocka_unit_test(bad_segment_tables_are_refused),
      cmocka_unit_test(out_of_memory_unwinds_cleanly),
      cmocka_unit_test(randomized_against_reference),
      cmocka_unit_test(many_live_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
