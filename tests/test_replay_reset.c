/* Unit tests: lt_replay_reset, the fuzz targets' one engine per process. A
 * trace replayed in a reset engine, after other traces, must give what a
 * fresh engine gives: the same findings, at the same events, on the same
 * handles, with the same signatures (a crash the fuzzer finds must reproduce
 * from its input alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lifetrace/miniport.h"
#include "lifetrace/replay.h"
#include "lifetrace/trace.h"

/* Traces with findings under the seeded bugs below, and clean ones. */
static const char *const traces[] = {
    "corpus/regressions/clean/destroy-deferred-behind-gpu-work-kernel.jsonl",
    "corpus/regressions/clean/add-allocations-to-resource.jsonl",
    "corpus/regressions/clean/clone-mode-primary-then-device-destroy.jsonl",
    "corpus/regressions/trace/use-after-destroy.jsonl",
};
static const char *const bugs[] = {"p11", "p19", "p13", ""};
#define N_RUNS (sizeof traces / sizeof traces[0])

struct digest {
  size_t total;
  char text[4096]; /* kind, event, handle (pool addresses left out), signature per finding */
};

static void digest(const lt_replay *r, struct digest *d) {
  const lt_findings *fs = lt_replay_findings(r);
  size_t len = 0;
  memset(d, 0, sizeof *d);
  d->total = fs->total;
  for (size_t i = 0; i < fs->n && len < sizeof d->text - 100; i++) {
    const lt_finding *f = &fs->items[i];
    len += (size_t)snprintf(d->text + len, sizeof d->text - len, "%s@%llu:%llx:%llx;",
                            lt_finding_kind_name(f->kind), (unsigned long long)f->event,
                            f->object == LT_OBJ_POOL ? 0ull : (unsigned long long)f->handle,
                            (unsigned long long)f->signature);
  }
}

/* Replays trace i in *r: a new engine when *r is NULL, else a reset one. */
static void run(lt_replay **r, size_t i, struct digest *d) {
  char path[1024], err[128];
  const char *src = getenv("LT_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/%s", src ? src : ".", traces[i]);
  const LT_MINIPORT *mp = lt_linked_miniport();
  assert_int_equal(lt_miniport_set_bugs(mp, bugs[i], err, sizeof err), 0);
  lt_reader *rd = NULL;
  lt_diag diag;
  memset(&diag, 0, sizeof diag);
  assert_int_equal(lt_reader_open(&rd, path, 1, &diag), 0);
  lt_replay_opts o = {LT_POLICY_AUDIT, mp, 0, NULL, NULL};
  if (*r == NULL)
    assert_int_equal(lt_replay_new(r, lt_reader_header(rd), &o), 0);
  else
    assert_int_equal(lt_replay_reset(*r, lt_reader_header(rd), &o), 0);
  const lt_event *ev = NULL;
  while (lt_reader_next(rd, &ev, &diag) == 0 && ev)
    assert_int_equal(lt_replay_event(*r, ev), 0);
  assert_int_equal(lt_replay_finish(*r), 0);
  digest(*r, d);
  lt_reader_free(rd);
}

static void reset_engine_finds_what_a_fresh_one_finds(void **state) {
  long before = lt_alloc_live();
  struct digest fresh[N_RUNS], reused;
  for (size_t i = 0; i < N_RUNS; i++) {
    lt_replay *r = NULL;
    run(&r, i, &fresh[i]);
    lt_replay_free(r);
  }
  assert_true(fresh[0].total > 0); /* the seeded bugs are found at all */
  lt_replay *r = NULL;
  for (int round = 0; round < 2; round++) /* each trace after every other one */
    for (size_t i = 0; i < N_RUNS; i++) {
      run(&r, i, &reused);
      assert_int_equal(reused.total, fresh[i].total);
      assert_string_equal(reused.text, fresh[i].text);
      if (i % 2)
        lt_replay_clear(r); /* as the fuzz target does after each input */
    }
  lt_replay_free(r);
  char err[128];
  assert_int_equal(lt_miniport_set_bugs(lt_linked_miniport(), "", err, sizeof err), 0);
  assert_int_equal(lt_alloc_live(), before);
}

/* A cleared engine ignores events and keeps no findings until a reset. */
static void cleared_engine_ignores_events(void **state) {
  long before = lt_alloc_live();
  struct digest d;
  lt_replay *r = NULL;
  run(&r, 0, &d);
  lt_replay_clear(r);
  assert_int_equal(lt_replay_findings(r)->total, 0);
  lt_event ev = LIFETRACE__EVENT__INIT;
  assert_int_equal(lt_replay_event(r, &ev), 0);
  assert_int_equal(lt_replay_finish(r), 0);
  assert_int_equal(lt_replay_findings(r)->total, 0);
  lt_replay_free(r);
  char err[128];
  assert_int_equal(lt_miniport_set_bugs(lt_linked_miniport(), "", err, sizeof err), 0);
  assert_int_equal(lt_alloc_live(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reset_engine_finds_what_a_fresh_one_finds),
      cmocka_unit_test(cleared_engine_ignores_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
