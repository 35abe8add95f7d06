/* Stacks and frame-based signatures (issue 14): capture names this file's
 * functions with file and line; one stale-reference bug at scanout[0..3]
 * signs once; handles, addresses and the DDI do not change a signature
 * that has driver frames; a fault's stack starts at the faulting function;
 * a C++ function is named demangled and signs without its parameters. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lifetrace/finding.h"
#include "lifetrace/stack.h"

__attribute__((noinline)) static void leaf_capture(lt_stack *s) {
  lt_stack_capture(s, 0);
  __asm__ volatile("");
}

__attribute__((noinline)) static void caller_capture(lt_stack *s) {
  leaf_capture(s);
  __asm__ volatile("");
}

static void test_capture_symbolizes_test_frames(void **state) {
  lt_stack s;
  lt_frame fr[LT_FRAMES_MAX];
  caller_capture(&s);
  assert_true(s.n > 2);
  int n = lt_stack_symbolize(&s, fr, LT_FRAMES_MAX), leaf = -1;
  for (int i = 0; i < n && leaf < 0; i++)
    if (!strcmp(fr[i].function, "leaf_capture"))
      leaf = i;
  assert_true(leaf >= 0);
  assert_int_equal(fr[leaf].where, LT_FRAME_DRIVER); /* not lifetrace's: a test file */
  assert_non_null(strstr(fr[leaf].file, "test_stack.c"));
  assert_true(fr[leaf].line > 0);
  assert_string_equal(fr[leaf + 1].function, "caller_capture");
}

/* A C function under a C++ (Itanium-mangled) symbol name: what a frame of a
 * C++ driver's member function looks like to the symbolizer. */
static void cxx_named_capture(lt_stack *s) __asm__("_ZN3rnd7Adapter17DestroyAllocationEPv");
__attribute__((noinline)) static void cxx_named_capture(lt_stack *s) {
  lt_stack_capture(s, 0);
  __asm__ volatile("");
}

static void test_cxx_frame_is_demangled(void **state) {
  lt_stack s;
  lt_frame fr[LT_FRAMES_MAX];
  cxx_named_capture(&s);
  int n = lt_stack_symbolize(&s, fr, LT_FRAMES_MAX), at = -1;
  for (int i = 0; i < n; i++) {
    assert_false(strncmp(fr[i].function, "_Z", 2) == 0);
    if (!strcmp(fr[i].function, "rnd::Adapter::DestroyAllocation(void*)"))
      at = i;
  }
  assert_true(at >= 0);
  assert_int_equal(fr[at].where, LT_FRAME_DRIVER);
  assert_non_null(strstr(fr[at].file, "test_stack.c"));
  assert_true(fr[at].line > 0);
  char name[128];
  lt_frame_stable_name(&fr[at], name, sizeof name);
  assert_string_equal(name, "rnd::Adapter::DestroyAllocation");
}

static void test_stable_names(void **state) {
  static const char *cases[][2] = {
      /* C names: as before demangling, only a clone suffix goes */
      {"SmpDdiCreateAllocation", "SmpDdiCreateAllocation"},
      {"SmpFreeBlock.isra.0", "SmpFreeBlock"},
      {"f", "f"},
      /* C++ names: no parameter list, no qualifiers after it, no clone suffix */
      {"(anonymous namespace)::RndLtEnumReferencedAllocations(void*, void (*)(void*, void*, char "
       "const*), void*)",
       "(anonymous namespace)::RndLtEnumReferencedAllocations"},
      {"operator new(unsigned long, _POOL_TYPE, unsigned int)", "operator new"},
      {"rnd::Adapter::Get(unsigned int) const [clone .isra.0]", "rnd::Adapter::Get"},
      {"rnd::Queue<int>::operator()() &&", "rnd::Queue<int>::operator()"},
      {"(anonymous namespace)::kTable", "(anonymous namespace)::kTable"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    lt_frame f = {.function = cases[i][0]};
    char name[128];
    lt_frame_stable_name(&f, name, sizeof name);
    assert_string_equal(name, cases[i][1]);
  }
  /* two overloads at the same place sign alike */
  lt_frame a = {.function = "rnd::Adapter::Get(unsigned int)"};
  lt_frame b = {.function = "rnd::Adapter::Get(unsigned long)"};
  char na[64], nb[64];
  lt_frame_stable_name(&a, na, sizeof na);
  lt_frame_stable_name(&b, nb, sizeof nb);
  assert_string_equal(na, nb);
}

static lt_finding stale(const char *site, uint64_t handle, const lt_stack *s) {
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.kind = LT_F_MINIPORT_STALE_REFERENCE;
  f.layer = LT_LAYER_MINIPORT;
  f.object = LT_OBJ_ALLOCATION;
  f.handle = handle;
  f.address = handle * 4096;
  snprintf(f.site, sizeof f.site, "%s", site);
  snprintf(f.ddi, sizeof f.ddi, "LtEnumReferencedAllocations");
  lt_finding_add_stack(&f, LT_STACK_FOUND, s);
  lt_finding_sign(&f);
  return f;
}

static void test_site_class_signs_once(void **state) {
  lt_stack s;
  caller_capture(&s);
  lt_finding a = stale("scanout[0]", 0x100, &s), b = stale("scanout[3]", 0x200, &s);
  lt_finding c = stale("cursor[0]", 0x100, &s);
  assert_true(a.signature == b.signature);
  assert_true(a.signature != c.signature);
  lt_finding d = a;
  snprintf(d.ddi, sizeof d.ddi, "DxgkDdiDestroyAllocation");
  lt_finding_sign(&d);
  assert_true(d.signature == a.signature); /* the frames, not the DDI */
}

static void test_no_driver_frame_keeps_ddi_signature(void **state) {
  lt_finding a = stale("scanout[0]", 0x100, &(lt_stack){0});
  lt_finding b = a;
  snprintf(b.ddi, sizeof b.ddi, "DxgkDdiDestroyAllocation");
  lt_finding_sign(&b);
  assert_true(a.signature != b.signature);
}

static sigjmp_buf jb;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  lt_stack_on_signal(uc);
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static int faulting_read(volatile int *p) { return *p; }

static void test_fault_stack_starts_at_fault(void **state) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  lt_stack_prepare();
  sigaction(SIGSEGV, &sa, &old);
  if (sigsetjmp(jb, 0) == 0)
    faulting_read((volatile int *)16);
  sigaction(SIGSEGV, &old, NULL);
  lt_stack s;
  lt_frame fr[LT_FRAMES_MAX];
  assert_true(lt_stack_take_fault(&s));
  assert_true(s.exact0);
  int n = lt_stack_symbolize(&s, fr, LT_FRAMES_MAX);
  assert_true(n > 1);
  assert_string_equal(fr[0].function, "faulting_read");
  assert_false(lt_stack_take_fault(&s)); /* taken once */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_capture_symbolizes_test_frames),
      cmocka_unit_test(test_site_class_signs_once),
      cmocka_unit_test(test_no_driver_frame_keeps_ddi_signature),
      cmocka_unit_test(test_fault_stack_starts_at_fault),
      cmocka_unit_test(test_cxx_frame_is_demangled),
      cmocka_unit_test(test_stable_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
