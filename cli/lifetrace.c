/* lifetrace — command-line entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* In sanitizer builds, let lifetrace's own guard turn a driver's SIGSEGV
 * into a miniport-crash finding instead of ASan ending the process. */
const char *__asan_default_options(void);
/* ASan's defaults for the tool: the engine installs its own SIGSEGV/SIGBUS
 * handlers to turn a driver's fault into a miniport-crash finding, so ASan
 * must leave those signals to it. */
const char *__asan_default_options(void) {
  return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:allow_user_segv_handler=1";
}

#ifndef LT_COMMIT
#define LT_COMMIT "unknown"
#endif

static void usage(FILE *out) {
  fprintf(out,
          "usage: lifetrace COMMAND [ARGS...]\n"
          "\n"
          "Trace-driven replay and fuzzing harness for WDDM allocation lifetimes.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < lt__n_commands; i++)
    fprintf(out, "  %-10s %s\n", lt__commands[i]->name, lt__commands[i]->summary);
  fprintf(out,
          "\n"
          "Run 'lifetrace help COMMAND' (or 'lifetrace COMMAND --help') for a command's options.\n"
          "exit codes: 0 ok/no error findings, 1 error findings, 2 usage error,\n"
          "            3 unreadable or corrupt input, 4 internal error\n");
}

/* `lifetrace help [CMD]`: the tool's or one command's help. */
static int help(int argc, char **argv) {
  const lt__cmd *c = argc > 2 ? lt__command(argv[2]) : NULL;
  if (argc <= 2) {
    usage(stdout);
    return LT_EXIT_OK;
  }
  if (c == NULL) {
    fprintf(stderr, "lifetrace help: no command '%s'\n\n", argv[2]);
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  lt__cmd_help(c, stdout);
  return LT_EXIT_OK;
}

/* `lifetrace __man FILE` / `lifetrace __complete bash FILE`: what the build
 * generates from the option tables and installs ("-" = standard output). */
static int generate(int argc, char **argv) {
  int man = !strcmp(argv[1], "__man");
  if (argc != (man ? 3 : 4) || (!man && strcmp(argv[2], "bash"))) {
    fprintf(stderr, "usage: lifetrace __man FILE | lifetrace __complete bash FILE\n");
    return LT_EXIT_USAGE;
  }
  const char *path = argv[man ? 2 : 3];
  FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
  if (f == NULL) {
    fprintf(stderr, "lifetrace: %s: cannot write\n", path);
    return LT_EXIT_INTERNAL;
  }
  if (man)
    lt__write_man(f);
  else
    lt__write_bash_completion(f);
  int bad = ferror(f);
  if ((f != stdout && fclose(f)) || bad) {
    fprintf(stderr, "lifetrace: %s: write failed\n", path);
    return LT_EXIT_INTERNAL;
  }
  return LT_EXIT_OK;
}

static int unknown_command(const char *name) {
  const char *best = NULL;
  size_t bd = (size_t)-1;
  for (size_t i = 0; i < lt__n_commands; i++) {
    size_t d = lt__edit_distance(name, lt__commands[i]->name);
    if (d < bd)
      bd = d, best = lt__commands[i]->name;
  }
  fprintf(stderr, "lifetrace: unknown command '%s'", name);
  if (best && bd <= 2)
    fprintf(stderr, "; did you mean '%s'?", best);
  fputs("\n\n", stderr);
  usage(stderr);
  return LT_EXIT_USAGE;
}

/* The lifetrace tool: dispatches argv[1] to its subcommand and returns the
 * subcommand's exit code (2 for an unknown command or none). */
int main(int argc, char **argv) {
  const lt__cmd *c;
  if (argc < 2) {
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
    return usage(stdout), LT_EXIT_OK;
  if (!strcmp(argv[1], "help"))
    return help(argc, argv);
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
    printf("lifetrace %s (commit %s)\n", LT_VERSION, LT_COMMIT);
    return LT_EXIT_OK;
  }
  if (!strcmp(argv[1], "__man") || !strcmp(argv[1], "__complete"))
    return generate(argc, argv);
  if ((c = lt__command(argv[1])) != NULL)
    return c->run(argc - 1, argv + 1);
  return unknown_command(argv[1]);
}
