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

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"replay", lt_cmd_replay, "replay traces against a miniport and report findings"},
    {"encode", lt_cmd_encode, "convert a JSONL trace to the binary form"},
    {"dump", lt_cmd_dump, "print a trace as JSONL (either form in)"},
    {"info", lt_cmd_info, "summarize a trace: events per op, span, processes, objects"},
    {"import", lt_cmd_import, "convert a DxgKrnl capture (tracerpt XML/CSV, xperf dumper) to a trace"},
    {"check", lt_cmd_check, "replay a regression corpus against expected verdicts (JUnit, SARIF)"},
    {"report", lt_cmd_report, "write the HTML report and summary.md of a results database"},
    {"findings", lt_cmd_findings, "list the findings of a results database by signature"},
    {"mark", lt_cmd_mark, "set a finding's status: fixed, ignored or open"},
    {"diff", lt_cmd_diff, "findings new, gone and unchanged between two runs"},
    {"minimize", lt_cmd_minimize, "shrink a trace to a smallest one showing the same finding"},
    {"triage", lt_cmd_triage, "replay, dedup, minimize and record the crashes of a fuzz campaign"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: lifetrace COMMAND [ARGS...]\n"
          "\n"
          "Trace-driven replay and fuzzing harness for WDDM allocation lifetimes.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\n"
          "Run 'lifetrace COMMAND --help' for a command's options.\n"
          "exit codes: 0 ok/no error findings, 1 error findings, 2 usage error,\n"
          "            3 unreadable or corrupt input, 4 internal error\n");
}

/* The lifetrace tool: dispatches argv[1] to its subcommand and returns the
 * subcommand's exit code (2 for an unknown command or none). */
int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return LT_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("lifetrace %s\n", LT_VERSION);
    return LT_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "lifetrace: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return LT_EXIT_USAGE;
}
