/* The subcommands of the lifetrace tool. Each returns the process exit code
 * (see docs/exit-codes in README: 0 clean, 1 error findings, 2 usage,
 * 3 unreadable input, 4 internal error). argv[0] is the subcommand name. */
#ifndef LT_COMMANDS_H
#define LT_COMMANDS_H

#include <getopt.h>
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

/* ---- one option table per command ------------------------------------------
 * Each command declares its options once, as data (lt__opt); the getopt long
 * options, its --help text, `lifetrace help CMD`, the man page (lifetrace
 * __man) and the bash completion (lifetrace __complete bash) are all made
 * from that table, so they cannot disagree. */
#include <stdio.h>

typedef struct lt__opt {
  const char *name; /* long name, without "--"; NULL ends the table */
  int key;          /* what lt__getopt_next returns for it */
  char short_name;  /* its one-letter form ('q' = -q), 0 = none */
  const char *arg;  /* the argument's name (FILE, audit|kernel), NULL = a flag */
  const char *help; /* one sentence; "\n" continues on the next line */
} lt__opt;

typedef struct lt__cmd {
  const char *name;    /* "replay" */
  const char *args;    /* what follows the options: "TRACE..." */
  const char *summary; /* one line for `lifetrace help` */
  const char *about;   /* the paragraph under the usage line */
  const char *exits;   /* "0 ..., 1 ..." */
  const lt__opt *opts; /* ends with {NULL}; --help is implied */
  int (*run)(int argc, char **argv);
} lt__cmd;

/* Most options a command may have (checked by lt__getopt_next). */
#define LT__MAX_OPTS 40

/* Parser state over one command's table (getopt_long underneath). */
typedef struct lt__getopt {
  const lt__cmd *cmd;
  struct option lo[LT__MAX_OPTS + 2];
  char so[2 * LT__MAX_OPTS + 4];
  int built;
} lt__getopt;

/* lt__getopt_next results besides an option's key and -1 (no more). */
enum { LT__OPT_HELP = -2, LT__OPT_BAD = -3 };

/* Starts parsing argv with cmd's table (resets getopt). */
void lt__getopt_init(lt__getopt *g, const lt__cmd *cmd);
/* The next option's key, -1 at the end of the options, LT__OPT_HELP after
 * printing the help on stdout, or LT__OPT_BAD after saying on stderr which
 * option is wrong and the closest one the command has. optarg as getopt. */
int lt__getopt_next(lt__getopt *g, int argc, char **argv);
/* The exit code of an LT__OPT_HELP / LT__OPT_BAD result: 0 or 2. */
int lt__getopt_exit(int c);
/* Writes cmd's help (usage line, about, options, exit codes) to out. */
void lt__cmd_help(const lt__cmd *cmd, FILE *out);
/* A usage error: "lifetrace CMD: WHY" and where the help is; returns 2. */
int lt__usage_error(const lt__cmd *cmd, const char *why);
/* The one wording of a missing input: "lifetrace CMD: PATH: no such file"
 * (what = "file", "database", "directory"); returns 3. */
int lt__no_such_file(const char *cmd, const char *path, const char *what);
/* Every command, in the order `lifetrace help` lists them. */
extern const lt__cmd *const lt__commands[];
extern const size_t lt__n_commands;
/* The command named name, or NULL. */
const lt__cmd *lt__command(const char *name);
/* Writes the man page lifetrace(1) of every command (roff). */
void lt__write_man(FILE *out);
/* Writes the bash completion script of every command. */
void lt__write_bash_completion(FILE *out);
/* Edit distance (Levenshtein) of two short strings, for "did you mean". */
size_t lt__edit_distance(const char *a, const char *b);

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

/* Each command's option table and texts (in its cmd_*.c). */
extern const lt__cmd lt__def_encode;
extern const lt__cmd lt__def_dump;
extern const lt__cmd lt__def_info;
extern const lt__cmd lt__def_replay;
extern const lt__cmd lt__def_import;
extern const lt__cmd lt__def_check;
extern const lt__cmd lt__def_report;
extern const lt__cmd lt__def_findings;
extern const lt__cmd lt__def_mark;
extern const lt__cmd lt__def_diff;
extern const lt__cmd lt__def_minimize;
extern const lt__cmd lt__def_triage;

#endif
