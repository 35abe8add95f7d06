/* The subcommands of the lifetrace tool. Each returns the process exit code
 * (see docs/exit-codes in README: 0 clean, 1 error findings, 2 usage,
 * 3 unreadable input, 4 internal error). argv[0] is the subcommand name. */
#ifndef LT_COMMANDS_H
#define LT_COMMANDS_H

#include <stdint.h>

#include "lifetrace/trace.h"

enum {
  LT_EXIT_OK = 0,
  LT_EXIT_FINDINGS = 1,
  LT_EXIT_USAGE = 2,
  LT_EXIT_INPUT = 3,
  LT_EXIT_INTERNAL = 4,
};

/* Progress line on stderr for long runs, only when stderr is a terminal. */
typedef struct lt__progress {
  int enabled, shown;
  const char *what;
  double start, last;
} lt__progress;

void lt__progress_init(lt__progress *p, const char *what);
/* Call once per event; cheap. Prints at most twice a second, after 1 s. */
void lt__progress_tick(lt__progress *p, const lt_reader *r, uint64_t events);
/* Erases the line if one was shown. */
void lt__progress_done(lt__progress *p);
/* Whether two paths name the same existing file ("-" never does). */
int lt__same_file(const char *a, const char *b);
/* Prints "lifetrace: " + the formatted diag on stderr. */
void lt__print_diag(const lt_diag *d);
/* Exit code for an error returned by a reader. */
int lt__exit_for_read_error(int err);

int lt_cmd_encode(int argc, char **argv);
int lt_cmd_dump(int argc, char **argv);
int lt_cmd_info(int argc, char **argv);
int lt_cmd_replay(int argc, char **argv);
int lt_cmd_import(int argc, char **argv);
int lt_cmd_check(int argc, char **argv);
int lt_cmd_report(int argc, char **argv);
int lt_cmd_findings(int argc, char **argv);
int lt_cmd_mark(int argc, char **argv);
int lt_cmd_diff(int argc, char **argv);
int lt_cmd_minimize(int argc, char **argv);
int lt_cmd_triage(int argc, char **argv);

#endif
