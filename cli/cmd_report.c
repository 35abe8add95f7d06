/* `lifetrace report --db FILE --out DIR`: the HTML report and summary.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/report.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: lifetrace report --db FILE [--out DIR] [--title TEXT] [--md FILE|-]\n"
          "\n"
          "Writes a self-contained HTML report of a results database: DIR/index.html (charts\n"
          "of findings, exec/s and coverage over time, findings by signature, runs), one page\n"
          "per finding under DIR/findings/, and DIR/summary.md for pull-request comments.\n"
          "--md writes only the Markdown summary (\"-\" = standard output).\n"
          "\n"
          "options:\n"
          "  --db FILE        the results database (required)\n"
          "  --out DIR        output directory (default: report)\n"
          "  --title TEXT     page title\n"
          "  --runs N         runs listed (default 50)\n"
          "  --md FILE        Markdown summary only\n"
          "\n"
          "exit: 0 written, 2 usage, 3 database unreadable, 4 cannot write\n");
}

/* lifetrace report: writes the HTML report and summary.md of a results
 * database into --out, or the Markdown summary alone with --md. Exits 3 when
 * the database cannot be read, 2 for usage. */
int lt_cmd_report(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'd'},    {"out", required_argument, 0, 'o'},
      {"title", required_argument, 0, 't'}, {"runs", required_argument, 0, 'r'},
      {"md", required_argument, 0, 'm'},    {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *db = NULL, *dir = "report", *md = NULL;
  lt_report_opts o = {0};
  char msg[1024];
  int c, err;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'o': dir = optarg; break;
    case 't': o.title = optarg; break;
    case 'r': o.max_runs = (size_t)strtoul(optarg, NULL, 10); break;
    case 'm': md = optarg; break;
    case 'h': usage(stdout); return LT_EXIT_OK;
    default: usage(stderr); return LT_EXIT_USAGE;
    }
  }
  if (db == NULL || optind != argc) {
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  struct stat st;
  if (stat(db, &st) != 0) { /* reading a report must not create a database */
    fprintf(stderr, "lifetrace report: %s: no such database\n", db);
    return LT_EXIT_INPUT;
  }
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
