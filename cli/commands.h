/* The subcommands of the lifetrace tool. Each returns the process exit code
 * (see docs/exit-codes in README: 0 clean, 1 error findings, 2 usage,
 * 3 unreadable input, 4 internal error). argv[0] is the subcommand name. */
#ifndef LT_COMMANDS_H
#define LT_COMMANDS_H

enum {
  LT_EXIT_OK = 0,
  LT_EXIT_FINDINGS = 1,
  LT_EXIT_USAGE = 2,
  LT_EXIT_INPUT = 3,
  LT_EXIT_INTERNAL = 4,
};

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
