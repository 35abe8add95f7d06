/* bench_replay FILE [POLICY]: replays a trace with the reference miniport and
 * prints events/s, wall time and peak RSS as one JSON object. Used by
 * bench/run.sh, which compares it with decode-only throughput of the same
 * file measured in the same run. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lifetrace/replay.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_replay FILE [audit|kernel]\n");
    return 2;
  }
  int policy = argc > 2 ? lt_policy_from_name(argv[2]) : LT_POLICY_AUDIT;
  lt_diag diag;
  lt_reader *rd = NULL;
  if (policy < 0 || lt_reader_open(&rd, argv[1], 0, &diag)) {
    char msg[1200];
    lt_diag_format(&diag, msg, sizeof msg);
    fprintf(stderr, "bench_replay: %s\n", msg);
    return 3;
  }
  lt_replay_opts o = {policy, NULL, 100, NULL, NULL};
  lt_replay *r = NULL;
  if (lt_replay_new(&r, lt_reader_header(rd), &o))
    return 4;
  double t0 = now_s();
  const lt_event *ev;
  int err;
  while ((err = lt_reader_next(rd, &ev, &diag)) == 0)
    if (lt_replay_event(r, ev))
      return 4;
  if (err != LT_EEOF || lt_replay_finish(r))
    return 3;
  double secs = now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const lt_findings *fs = lt_replay_findings(r);
  printf("{\"file\":\"%s\",\"policy\":\"%s\",\"events\":%llu,\"seconds\":%.3f,"
         "\"events_per_second\":%.0f,\"peak_rss_mb\":%.1f,\"findings\":%llu}\n",
         argv[1], lt_policy_name(policy), (unsigned long long)lt_replay_events(r), secs,
         lt_replay_events(r) / secs, ru.ru_maxrss / 1024.0, (unsigned long long)fs->total);
  lt_replay_free(r);
  lt_reader_free(rd);
  return 0;
}
