/* lifetrace — what the subcommands share: reporting a read error, the exit
 * code for it, the progress line of long runs, and the same-file check before
 * writing an output. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"

/* Whether a and b name one existing file, so that writing b would destroy a. */
int lt__same_file(const char *a, const char *b) {
  struct stat sa, sb;

  if (!strcmp(a, "-") || !strcmp(b, "-"))
    return 0;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Reports a read error the way every command does. */
void lt__print_diag(const lt_diag *d) {
  char buf[1200];

  lt_diag_format(d, buf, sizeof buf);
  fprintf(stderr, "lifetrace: %s\n", buf);
}

/* 3 for anything wrong with the input, 4 when the harness itself failed. */
int lt__exit_for_read_error(int err) {
  switch (err) {
  case LT_ENOMEM:
  case LT_EINTERNAL:
    return LT_EXIT_INTERNAL;
  }
  return LT_EXIT_INPUT;
}

/* ---- progress ------------------------------------------------------------- */

static double now(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts a progress line; it shows only on a terminal and only after 1 s. */
void lt__progress_init(lt__progress *p, const char *what) {
  memset(p, 0, sizeof *p);
  p->what = what;
  p->enabled = isatty(STDERR_FILENO);
  p->start = p->last = p->enabled ? now() : 0;
}

/* Updates the line at most twice a second; cheap enough to call per event. */
void lt__progress_tick(lt__progress *p, const lt_reader *r, uint64_t events) {
  double t, rate;
  uint64_t size;

  if (!p->enabled || (events & 0x3fff))
    return;
  t = now();
  if (t - p->start < 1.0 || t - p->last < 0.5)
    return;
  p->last = t;
  rate = (double)events / (t - p->start);
  size = lt_reader_size(r);
  if (size)
    fprintf(stderr, "\r%s: %llu events, %.0f%% read, %.2fM events/s ", p->what,
            (unsigned long long)events, 100.0 * (double)lt_reader_bytes(r) / (double)size,
            rate / 1e6);
  else
    fprintf(stderr, "\r%s: %llu events, %.2fM events/s ", p->what, (unsigned long long)events,
            rate / 1e6);
  p->shown = 1;
}

/* Erases the line, so that what follows starts on a clean line. */
void lt__progress_done(lt__progress *p) {
  if (p->shown)
    fprintf(stderr, "\r\033[K");
  p->shown = 0;
}
