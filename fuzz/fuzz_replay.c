/* lifetrace — the replay fuzz target: one entry for libFuzzer and AFL++.
 *
 * An input is one Trace message (the fuzz form, trace.h). It is replayed in
 * kernel policy against the driver under test, so the simulated dxgkrnl
 * refuses what it would refuse (an invalid event is dropped quietly, never a
 * crash) and every error finding is the driver's. The first error finding
 * prints one line naming its kind and signature and aborts, which both
 * engines save as a crash:
 *
 *   ==lifetrace-fuzz== FINDING miniport-double-free sig=e2360b1b90d6bc60 ...
 *
 * Built three ways from this file (fuzz/CMakeLists.txt): with libFuzzer and
 * the structure-aware mutator (fuzz_replay), with libFuzzer's byte-level
 * mutators only (fuzz_replay_plain, -DLT_FUZZ_PLAIN), and with afl-clang-fast
 * -fsanitize=fuzzer, which links AFL++'s persistent-mode driver instead
 * (fuzz_replay_afl; the mutator then comes from afl_mutator.so).
 *
 * Configuration comes from the environment (the same for both engines):
 *   LT_FUZZ_DRIVER      driver under test (a .so exporting lt_miniport_entry;
 *                       unset or "reference" = the reference miniport)
 *   LT_FUZZ_BUGS        seeded bugs of the reference driver ("1,3,p13", "all")
 *   LT_FUZZ_GPU=1       GPU-layer error findings abort too (off by default:
 *                       in kernel policy they also follow a UMD's false
 *                       AssumeNotInUse promise, which is the trace's fault)
 *   LT_FUZZ_MAX_EVENTS  longer inputs are skipped (default 1024)
 *   LT_FUZZ_QUIET=1     no start-up banner
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/mutator.h"
#include "lifetrace/replay.h"

static const LT_MINIPORT *driver;
static void *driver_dl;
static int gpu_aborts;
static size_t max_events = 1024;
static struct sigaction abort_action; /* the engine's SIGABRT handler */
static int abort_saved;

static void fail(const char *what, const char *why) {
  fprintf(stderr, "==lifetrace-fuzz== cannot start: %s: %s\n", what, why);
  exit(2);
}

static void setup(void) {
  static int done;
  char err[600];
  if (done)
    return;
  done = 1;
  const char *path = getenv("LT_FUZZ_DRIVER"), *bugs = getenv("LT_FUZZ_BUGS");
  if (path && (!*path || !strcmp(path, "reference")))
    path = NULL;
  if (lt_miniport_load(path, &driver, &driver_dl, err, sizeof err))
    fail(path, err);
  if (bugs && *bugs && lt_miniport_set_bugs(driver, bugs, err, sizeof err))
    fail("LT_FUZZ_BUGS", err);
  gpu_aborts = getenv("LT_FUZZ_GPU") && atoi(getenv("LT_FUZZ_GPU")) > 0;
  if (getenv("LT_FUZZ_MAX_EVENTS"))
    max_events = strtoul(getenv("LT_FUZZ_MAX_EVENTS"), NULL, 10);
  if (!getenv("LT_FUZZ_QUIET"))
    fprintf(stderr, "==lifetrace-fuzz== driver %s %s, seeded bugs: %s, policy kernel\n",
            driver->Name ? driver->Name : "?", driver->Version ? driver->Version : "",
            bugs && *bugs ? bugs : "none");
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setup();
  return 0;
}

/* Error findings of the driver (and, with LT_FUZZ_GPU, of the GPU) are
 * crashes: one line, then abort through the engine's own SIGABRT handler
 * (the replay engine installs one that would turn an abort inside a DDI into
 * a miniport-crash finding). */
static void on_finding(void *data, const lt_finding *f) {
  (void)data;
  if (f->severity != LT_SEV_ERROR || f->layer == LT_LAYER_TRACE ||
      (f->layer == LT_LAYER_GPU && !gpu_aborts))
    return;
  char sig[17];
  lt_signature_hex(f->signature, sig);
  fprintf(stderr, "==lifetrace-fuzz== FINDING %s sig=%s in %s%s%s at event %llu: %s\n",
          lt_finding_kind_name(f->kind), sig, f->ddi, f->site[0] ? " " : "", f->site,
          (unsigned long long)f->event, f->message);
  fflush(stderr);
  if (abort_saved)
    sigaction(SIGABRT, &abort_action, NULL);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  lt_trace *t = lt_trace_unpack(data, size);
  if (t == NULL)
    return 0;
  if (t->n_events > max_events) {
    lt_trace_free(t);
    return 0;
  }
  if (!abort_saved) {
    /* Before the first replay installs the engine's crash handlers. */
    sigaction(SIGABRT, NULL, &abort_action);
    abort_saved = 1;
  }
  lt_header none = LIFETRACE__TRACE_HEADER__INIT;
  lt_replay_opts o = {LT_POLICY_KERNEL, driver, 64, on_finding, NULL};
  lt_replay *r = NULL;
  if (lt_replay_new(&r, t->header ? t->header : &none, &o) == 0) {
    for (size_t i = 0; i < t->n_events; i++)
      (void)lt_replay_event(r, t->events[i]);
    (void)lt_replay_finish(r);
  }
  lt_replay_free(r);
  lt_trace_free(t);
  return 0;
}

#ifndef LT_FUZZ_PLAIN
/* The structure-aware mutator (libFuzzer). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static lt_mutator *mutator(void) {
  static lt_mutator *m;
  if (m == NULL) {
    if (lt_mutator_new(&m))
      fail("mutator", "out of memory");
    lt_mutator_set_byte_mutator(m, LLVMFuzzerMutate);
  }
  return m;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  return lt_mutator_mutate(mutator(), data, size, data, max_size, seed);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed) {
  return lt_mutator_crossover(mutator(), data1, size1, data2, size2, out, max_out_size, seed);
}
#endif
