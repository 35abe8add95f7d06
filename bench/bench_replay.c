/* bench_replay FILE [POLICY]: replays a trace with the reference miniport and
 * prints events per wall and per CPU second and peak RSS as one JSON object. Used by
 * bench/run.sh, which compares it with decode-only throughput of the same
 * file measured in the same run. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lifetrace/replay_file.h"

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_replay FILE [audit|kernel]\n");
    return 2;
  }
  int policy = argc > 2 ? lt_policy_from_name(argv[2]) : LT_POLICY_AUDIT;
  if (policy < 0) {
    fprintf(stderr, "bench_replay: unknown policy '%s'\n", argv[2]);
    return 2;
  }
  lt_replay_opts o = {policy, lt_linked_miniport(), 100, NULL, NULL};
  lt_replay_file_result res;
  double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  int err = lt_replay_file(&res, argv[1], 0, &o, NULL, NULL);
  if (err || res.read_error) {
    char msg[1200];
    lt_diag_format(&res.diag, msg, sizeof msg);
    fprintf(stderr, "bench_replay: %s\n", res.reader && !res.read_error ? lt_strerror(err) : msg);
    lt_replay_file_free(&res);
    return res.engine_error ? 4 : 3;
  }
  double secs = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const lt_replay *r = res.replay;
  const lt_findings *fs = lt_replay_findings(r);
  printf("{\"file\":\"%s\",\"policy\":\"%s\",\"events\":%llu,\"seconds\":%.3f,"
         "\"cpu_seconds\":%.3f,\"events_per_second\":%.0f,\"events_per_cpu_s\":%.0f,"
         "\"peak_rss_mb\":%.1f,\"findings\":%llu}\n",
         argv[1], lt_policy_name(policy), (unsigned long long)lt_replay_events(r), secs, cpu,
         lt_replay_events(r) / secs, lt_replay_events(r) / (cpu > 0 ? cpu : 1e-9),
         ru.ru_maxrss / 1024.0, (unsigned long long)fs->total);
  lt_replay_file_free(&res);
  return 0;
}
