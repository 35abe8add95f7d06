/* Unit tests: the tracked kernel pool (ExAllocatePool2/ExFreePoolWithTag),
 * its scopes, quarantine, and the problems it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lifetrace/finding.h"
#include "lifetrace/pool.h"
#include "lifetrace/wddm.h"

#define TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))

struct seen {
  int problems[4];
  lt_pool_block_info last;
};

static void on_problem(void *data, int problem, const lt_pool_block_info *b) {
  struct seen *s = data;
  s->problems[problem]++;
  s->last = *b;
}

static lt_pool *setup_pool(struct seen *s) {
  lt_pool *p = NULL;
  memset(s, 0, sizeof *s);
  assert_int_equal(lt_pool_new(&p), 0);
  lt_pool_set_problem_cb(p, on_problem, s);
  lt_pool_set_current(p);
  return p;
}

static void alloc_free_roundtrip_is_clean(void **state) {
  long before = lt_alloc_live();
  struct seen s;
  lt_pool *p = setup_pool(&s);
  unsigned char *m = ExAllocatePool2(POOL_FLAG_NON_PAGED, 100, TAG('L', 't', 'A', 'l'));
  assert_non_null(m);
  for (int i = 0; i < 100; i++)
    assert_int_equal(m[i], 0); /* zeroed by default */
  assert_int_equal(lt_pool_live_blocks(p), 1);
  assert_int_equal(lt_pool_live_bytes(p), 100);
  ExFreePoolWithTag(m, TAG('L', 't', 'A', 'l'));
  assert_int_equal(lt_pool_live_blocks(p), 0);
  lt_pool_check_quarantine(p);
  assert_int_equal(s.problems[0] + s.problems[1] + s.problems[2] + s.problems[3], 0);
  lt_pool_free(p);
  assert_int_equal(lt_alloc_live(), before);
}

static void double_free_and_bad_free_are_reported(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  void *m = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, TAG('A', 'B', 'C', 'D'));
  ExFreePoolWithTag(m, TAG('A', 'B', 'C', 'D'));
  ExFreePoolWithTag(m, TAG('A', 'B', 'C', 'D'));
  assert_int_equal(s.problems[LT_POOL_DOUBLE_FREE], 1);
  assert_int_equal(s.last.size, 32);
  int stack_var;
  ExFreePoolWithTag(&stack_var, 0);
  assert_int_equal(s.problems[LT_POOL_BAD_FREE], 1);
  void *n = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG('A', 'B', 'C', 'D'));
  ExFreePoolWithTag(n, TAG('W', 'R', 'O', 'N'));
  assert_int_equal(s.problems[LT_POOL_TAG_MISMATCH], 1);
  lt_pool_free(p);
}

static void write_after_free_is_detected(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  unsigned char *m = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, TAG('L', 't', 'A', 'l'));
  ExFreePoolWithTag(m, TAG('L', 't', 'A', 'l'));
  lt_pool_check_quarantine(p);
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 0);
  m[10] = 0x42; /* the block is still in quarantine: a deliberate stale write */
  lt_pool_check_quarantine(p);
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 1);
  assert_int_equal(s.last.addr, (uintptr_t)m);
  lt_pool_check_quarantine(p); /* re-poisoned: reported once */
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 1);
  lt_pool_free(p);
}

static void count_block(void *data, const lt_pool_block_info *b) { (*(size_t *)data) += b->size; }

static void scopes_attribute_and_move(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  lt_pool_set_owner(p, LT_OBJ_RESOURCE, 0x20, 7);
  void *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 10, 1);
  void *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, 20, 1);
  lt_pool_set_owner(p, LT_OBJ_DEVICE, 0x1, 8);
  void *c = ExAllocatePool2(POOL_FLAG_NON_PAGED, 40, 1);
  size_t bytes = 0;
  assert_int_equal(lt_pool_each_live(p, 7, 0, count_block, &bytes), 2);
  assert_int_equal(bytes, 30);
  ExFreePoolWithTag(a, 1);
  assert_int_equal(lt_pool_each_live(p, 7, 0, NULL, NULL), 1);
  lt_pool_owner reported = {LT_OBJ_NONE, 0, 99};
  lt_pool_move_scope(p, 7, &reported);
  assert_int_equal(lt_pool_each_live(p, 7, 0, NULL, NULL), 0);
  assert_int_equal(lt_pool_each_live(p, 99, 0, NULL, NULL), 1);
  assert_int_equal(lt_pool_each_live(p, 0, 1, NULL, NULL), 2);
  assert_true(lt_pool_is_live(p, c));
  ExFreePoolWithTag(b, 1);
  assert_true(lt_pool_is_freed(p, b));
  ExFreePoolWithTag(c, 1);
  lt_pool_free(p);
}

static void injected_failure_returns_null_once(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  lt_pool_fail_nth(p, 2);
  void *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 1);
  void *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 1);
  void *c = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 1);
  assert_non_null(a);
  assert_null(b);
  assert_non_null(c);
  ExFreePoolWithTag(a, 1);
  ExFreePoolWithTag(c, 1);
  lt_pool_free(p);
}

/* Special pool: a block ends at its page's end (16-byte aligned), is found
 * by any address in its pages, guard page included, and its pages are
 * inaccessible once freed. */
static void special_pool_places_and_finds_blocks(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  assert_int_equal(lt_pool_set_special(p, 1), 0);
  assert_true(lt_pool_special(p));
  size_t ps = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 40, TAG('S', 'p', 'c', 'l'));
  assert_non_null(a);
  assert_int_equal((uintptr_t)a % 16, 0);
  assert_int_equal(((uintptr_t)a + 48) % ps, 0); /* 40 rounded to 16, at the page end */
  memset(a, 1, 40);
  assert_int_equal(lt_pool_set_special(p, 0), LT_EBUSY);
  lt_pool_block_info b;
  int freed = -1;
  assert_int_equal(lt_pool_find(p, (uintptr_t)a + 3, &b, &freed), 1);
  assert_int_equal(freed, 0);
  assert_int_equal(b.addr, (uintptr_t)a);
  assert_int_equal(b.size, 40);
  assert_int_equal(lt_pool_find(p, (uintptr_t)a + 48, &b, &freed), 1); /* the guard page */
  ExFreePoolWithTag(a, TAG('S', 'p', 'c', 'l'));
  assert_int_equal(lt_pool_find(p, (uintptr_t)a + 8, &b, &freed), 1);
  assert_int_equal(freed, 1);
  assert_int_equal(b.tag, TAG('S', 'p', 'c', 'l'));
  assert_int_equal(lt_pool_find(p, (uintptr_t)&s, &b, &freed), 0);
  /* The pages are gone from the process's readable memory: a write(2) from
   * them fails with EFAULT instead of faulting the test. */
  int fd[2];
  assert_int_equal(pipe(fd), 0);
  assert_int_equal(write(fd[1], a, 8), -1);
  close(fd[0]);
  close(fd[1]);
  ExFreePoolWithTag(a, TAG('S', 'p', 'c', 'l'));
  assert_int_equal(s.problems[LT_POOL_DOUBLE_FREE], 1);
  lt_pool_check_quarantine(p); /* must not touch the inaccessible pages */
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 0);
  lt_pool_free(p);
}

/* An ordinary block is found by its bytes only. */
static void find_locates_ordinary_blocks_by_their_bytes(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  unsigned char *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, 7);
  lt_pool_block_info b;
  int freed = -1;
  assert_int_equal(lt_pool_find(p, (uintptr_t)a + 23, &b, &freed), 1);
  assert_int_equal(lt_pool_find(p, (uintptr_t)a + 24, &b, &freed), 0);
  ExFreePoolWithTag(a, 7);
  assert_int_equal(lt_pool_find(p, (uintptr_t)a, &b, &freed), 1);
  assert_int_equal(freed, 1);
  lt_pool_free(p);
}

/* The pool finds a block from the header in front of the driver's pointer;
 * a pointer the pool never gave out must still be a reported bad free, never
 * a read of memory that is not there (a header guessed on an inaccessible
 * page), and a pointer into a block or to a block gone from the quarantine
 * is not taken for a block. */
static void foreign_frees_are_reported_without_faulting(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  long ps = sysconf(_SC_PAGESIZE);
  unsigned char *none = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(none != MAP_FAILED);
  ExFreePoolWithTag(none + ps, 1);      /* its header would be on the page before */
  ExFreePoolWithTag(none + ps + 64, 1); /* and here on the same, inaccessible page */
  assert_false(lt_pool_is_live(p, none + ps + 64));
  assert_false(lt_pool_is_freed(p, none + ps));
  assert_int_equal(s.problems[LT_POOL_BAD_FREE], 2);
  unsigned char *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 600, 5);
  ExFreePoolWithTag(a + 16, 5); /* inside a live block */
  assert_int_equal(s.problems[LT_POOL_BAD_FREE], 3);
  assert_true(lt_pool_is_live(p, a));
  ExFreePoolWithTag(a, 5);
  assert_true(lt_pool_is_freed(p, a));
  for (int i = 0; i < 600; i++) /* a leaves the quarantine, and the pool */
    ExFreePoolWithTag(ExAllocatePool2(POOL_FLAG_NON_PAGED, 700, 9), 9);
  assert_false(lt_pool_is_freed(p, a));
  assert_int_equal(s.problems[LT_POOL_DOUBLE_FREE], 0);
  munmap(none, 2 * ps);
  lt_pool_free(p);
}

static void record_tag(void *data, const lt_pool_block_info *b) {
  uint32_t *tags = data;
  tags[tags[0]++ + 1] = b->tag;
}

/* Every live block, across scopes, is visited in allocation order, so the
 * leaks reported at the end of a replay come in the same order every run. */
static void live_blocks_are_visited_in_allocation_order(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  void *m[6];
  for (uint32_t i = 0; i < 6; i++) {
    lt_pool_set_owner(p, LT_OBJ_NONE, 0, 10 - i % 3);
    m[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16 * (i + 1), 100 + i);
  }
  ExFreePoolWithTag(m[2], 102);
  uint32_t tags[8] = {0};
  assert_int_equal(lt_pool_each_live(p, 0, 1, record_tag, tags), 5);
  uint32_t want[] = {100, 101, 103, 104, 105};
  for (int i = 0; i < 5; i++)
    assert_int_equal(tags[i + 1], want[i]);
  lt_pool_free(p);
}

#if defined(__SANITIZE_ADDRESS__)
#define POOL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_TEST_ASAN 1
#endif
#endif
#ifdef POOL_TEST_ASAN
#include <sanitizer/asan_interface.h>
/* Quarantine poisoning for ASan: on only when asked; the pattern check and
 * the eviction lift it for the harness's own access. */
static void asan_poison_covers_the_quarantine(void **state) {
  struct seen s;
  lt_pool *p = setup_pool(&s);
  unsigned char *a = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, 9);
  ExFreePoolWithTag(a, 9);
  assert_false(__asan_address_is_poisoned(a)); /* off by default */
  assert_int_equal(lt_pool_set_asan_poison(p, 1), 1);
  unsigned char *c = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, 9);
  assert_false(__asan_address_is_poisoned(c));
  ExFreePoolWithTag(c, 9);
  assert_true(__asan_address_is_poisoned(c));
  assert_true(__asan_address_is_poisoned(c + 31));
  lt_pool_check_quarantine(p); /* no ASan report: the check unpoisons */
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 0);
  assert_true(__asan_address_is_poisoned(c));
  for (int i = 0; i < 600; i++) /* push both blocks out of the quarantine */
    ExFreePoolWithTag(ExAllocatePool2(POOL_FLAG_NON_PAGED, 1000, 9), 9);
  assert_int_equal(s.problems[LT_POOL_WRITE_AFTER_FREE], 0);
  lt_pool_free(p);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(alloc_free_roundtrip_is_clean),
      cmocka_unit_test(double_free_and_bad_free_are_reported),
      cmocka_unit_test(write_after_free_is_detected),
      cmocka_unit_test(scopes_attribute_and_move),
      cmocka_unit_test(injected_failure_returns_null_once),
      cmocka_unit_test(special_pool_places_and_finds_blocks),
      cmocka_unit_test(find_locates_ordinary_blocks_by_their_bytes),
      cmocka_unit_test(foreign_frees_are_reported_without_faulting),
      cmocka_unit_test(live_blocks_are_visited_in_allocation_order),
#ifdef POOL_TEST_ASAN
      cmocka_unit_test(asan_poison_covers_the_quarantine),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
