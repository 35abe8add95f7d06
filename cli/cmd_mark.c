/* `lifetrace mark SIGNATURE fixed|ignored|open`: triage a finding. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/store.h"

static const lt__opt mark_opts[] = {
    {"db", 'd', 0, "FILE", "the results database (required)"},
    {"all", 'a', 0, NULL, "mark every finding the prefix matches"},
    {NULL, 0, 0, NULL, NULL}};

/* The states a finding can be marked with, and what each means. */
static const char states_help[] =
    "  open     still to be fixed (a finding starts open)\n"
    "  fixed    fixed in the driver; it is reopened when it occurs again later\n"
    "  ignored  not a bug worth fixing; it stays ignored when it occurs again\n";

/* mark's options and texts (help, man page, completion). */
const lt__cmd lt__def_mark = {
    "mark", "SIGNATURE open|fixed|ignored", "set a finding's status: fixed, ignored or open",
    "Sets the triage status of a finding. SIGNATURE may be a prefix of at least 4\n"
    "hex digits; --all marks every finding it matches. The states:\n"
    "  open     still to be fixed (a finding starts open)\n"
    "  fixed    fixed in the driver; it is reopened when it occurs again later\n"
    "  ignored  not a bug worth fixing; it stays ignored when it occurs again",
    "0 marked, 1 no such finding, 2 usage or ambiguous prefix, 3 no database",
    mark_opts, lt_cmd_mark};

/* lifetrace mark SIGNATURE STATUS: sets a finding's status (fixed, ignored,
 * open) by a signature prefix. Exits 1 when no finding matches, 2 for usage
 * or an ambiguous prefix without --all, 3 when the database cannot be read. */
int lt_cmd_mark(int argc, char **argv) {
  const char *db = NULL;
  int all = 0, c;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_mark);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'a': all = 1; break;
    default: return lt__getopt_exit(c);
    }
  }
  if (db == NULL || optind + 2 != argc)
    return lt__usage_error(&lt__def_mark, db ? "give a SIGNATURE and a state" : "--db FILE is required");
  int status = lt_status_from_name(argv[optind + 1]);
  if (status < 0 || status == LT_STATUS_EXPECTED) {
    fprintf(stderr, "lifetrace mark: '%s' is not a state a finding can be marked with; one of:\n%s",
            argv[optind + 1], states_help);
    return LT_EXIT_USAGE;
  }
  lt_store *s;
  char msg[1024];
  struct stat st;
  if (stat(db, &st) != 0)
    return lt__no_such_file("mark", db, "database");
  if (lt_store_open(&s, db, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace mark: %s\n", msg);
    return LT_EXIT_INPUT;
  }
  int matched = 0, err = lt_store_mark(s, argv[optind], status, all, &matched), rc = LT_EXIT_OK;
  if (err == LT_ENOENT) {
    fprintf(stderr, "lifetrace mark: no finding with signature %s\n", argv[optind]);
    rc = LT_EXIT_FINDINGS;
  } else if (err == LT_EINVAL && matched > 1) {
    fprintf(stderr, "lifetrace mark: %s matches %d findings; give more digits or --all\n",
            argv[optind], matched);
    rc = LT_EXIT_USAGE;
  } else if (err == LT_EINVAL) {
    fprintf(stderr, "lifetrace mark: '%s' is not a signature (4-16 lowercase hex digits)\n",
            argv[optind]);
    rc = LT_EXIT_USAGE;
  } else if (err) {
    fprintf(stderr, "lifetrace mark: %s\n", lt_store_errmsg(s));
    rc = LT_EXIT_INTERNAL;
  } else {
    printf("marked %d finding(s) %s\n", matched, lt_status_name(status));
  }
  lt_store_close(s);
  return rc;
}
