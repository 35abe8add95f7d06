/* bench_decode — decode-only throughput of a trace reader.
 *
 *   bench_decode TRACE [ROUNDS]
 *
 * Reads every event of TRACE (any form) ROUNDS times (default 3) through
 * lt_reader and reports the best round: one JSON line on stdout (for scripts)
 * and a summary on stderr. MB/s counts the bytes of the file as stored
 * (compressed for .zst). No replay: this is the ceiling the reader puts on
 * the replay's events/s. Rates are given per wall second and per CPU second
 * of this process (the second is steadier on a busy machine).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lifetrace/trace.h"

static double now(clockid_t clock) {
  struct timespec ts;

  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass; returns 0 and the event count and bytes, or an error. */
static int decode(const char *path, uint64_t *events, uint64_t *bytes, uint64_t *check) {
  const lt_event *ev;
  lt_reader *r = NULL;
  lt_diag d;
  char msg[1200];
  int rc = lt_reader_open(&r, path, 0, &d);

  *events = 0;
  if (rc == 0) {
    while ((rc = lt_reader_next(r, &ev, &d)) == 0) {
      *check += (uint64_t)ev->op + ev->n_allocs + ev->n_handles + ev->n_refs;
      ++*events;
    }
  }
  if (rc != LT_EEOF) {
    lt_diag_format(&d, msg, sizeof msg);
    fprintf(stderr, "bench_decode: %s\n", msg);
    lt_reader_free(r);
    return rc;
  }
  *bytes = lt_reader_bytes(r);
  lt_reader_free(r);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t events = 0, bytes = 0, check = 0;
  double best = 0, best_cpu = 0;
  int rounds;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: bench_decode TRACE [ROUNDS]\n");
    return 2;
  }
  rounds = argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 3;
  for (int i = 0; i < rounds; i++) {
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID), dt, dc;
    if (decode(argv[1], &events, &bytes, &check))
      return 3;
    dt = now(CLOCK_MONOTONIC) - t0;
    dc = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (i == 0 || dt < best)
      best = dt;
    if (i == 0 || dc < best_cpu)
      best_cpu = dc;
  }
  best = best > 0 ? best : 1e-9;
  best_cpu = best_cpu > 0 ? best_cpu : 1e-9;
  printf("{\"file\": \"%s\", \"events\": %" PRIu64 ", \"bytes\": %" PRIu64
         ", \"seconds\": %.6f, \"cpu_seconds\": %.6f, \"events_per_s\": %.0f, "
         "\"events_per_cpu_s\": %.0f, \"mb_per_s\": %.1f, \"ns_per_event_cpu\": %.1f}\n",
         argv[1], events, bytes, best, best_cpu, (double)events / best, (double)events / best_cpu,
         (double)bytes / best / 1e6, events ? best_cpu * 1e9 / (double)events : 0.0);
  fprintf(stderr,
          "bench_decode: %s: %" PRIu64 " events, %" PRIu64 " bytes, best of %d: %.3f s wall "
          "(%.2fM events/s, %.1f MB/s), %.3f s CPU (%.2fM events/s) [check %" PRIu64 "]\n",
          argv[1], events, bytes, rounds, best, (double)events / best / 1e6,
          (double)bytes / best / 1e6, best_cpu, (double)events / best_cpu / 1e6, check);
  return 0;
}
