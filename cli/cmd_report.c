/* `lifetrace report --db FILE --out DIR`: the HTML report and summary.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/report.h"

static const lt__opt report_opts[] = {
    {"db", 'd', 0, "FILE", "the results database (required)"},
    {"out", 'o', 0, "DIR", "output directory (default: report)"},
    {"title", 't', 0, "TEXT", "page title"},
    {"runs", 'r', 0, "N", "runs listed (default 50)"},
    {"md", 'm', 0, "FILE", "write the Markdown summary only (\"-\" = standard output)"},
    {NULL, 0, 0, NULL, NULL}};

/* report's options and texts (help, man page, completion). */
const lt__cmd lt__def_report = {
    "report", NULL, "write the HTML report and summary.md of a results database",
    "Writes a self-contained HTML report of a results database: DIR/index.html (first\n"
    "what the latest run found new, what came back and what is still open; then one row\n"
    "per signature with a reproduce command to paste in DIR, sortable and filterable;\n"
    "charts of findings, exec/s and coverage over time; runs), one page per finding\n"
    "under DIR/findings/, the reproducers under DIR/repro/ and DIR/summary.md for\n"
    "pull-request comments.",
    "0 written, 2 usage, 3 database unreadable, 4 cannot write",
    report_opts, lt_cmd_report};

/* lifetrace report: writes the HTML report and summary.md of a results
 * database into --out, or the Markdown summary alone with --md. Exits 3 when
 * the database cannot be read, 2 for usage. */
int lt_cmd_report(int argc, char **argv) {
  const char *db = NULL, *dir = "report", *md = NULL;
  lt_report_opts o = {0};
  char msg[1024];
  int c, err;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_report);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'o': dir = optarg; break;
    case 't': o.title = optarg; break;
    case 'r': o.max_runs = (size_t)strtoul(optarg, NULL, 10); break;
    case 'm': md = optarg; break;
    default: return lt__getopt_exit(c);
    }
  }
  if (db == NULL || optind != argc)
    return lt__usage_error(&lt__def_report, db ? "unexpected argument" : "--db FILE is required");
  struct stat st;
  if (stat(db, &st) != 0) /* reading a report must not create a database */
    return lt__no_such_file("report", db, "database");
  lt_store *s;
  if ((err = lt_store_open(&s, db, msg, sizeof msg))) {
    fprintf(stderr, "lifetrace report: %s\n", msg);
    return LT_EXIT_INPUT;
  }
  if (md) {
    FILE *f = strcmp(md, "-") ? fopen(md, "w") : stdout;
    err = f ? lt__report_markdown(s, f, &o) : LT_EIO;
    if (f && f != stdout && fclose(f))
      err = LT_EIO;
    snprintf(msg, sizeof msg, "%s: cannot write", md);
  } else {
    err = lt__report_write(s, dir, &o, msg, sizeof msg);
    if (err == 0)
      printf("report written to %s/index.html\n", dir);
  }
  lt_store_close(s);
  if (err)
    fprintf(stderr, "lifetrace report: %s\n", msg);
  return err ? LT_EXIT_INTERNAL : LT_EXIT_OK;
}
