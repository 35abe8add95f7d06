/* `lifetrace mark SIGNATURE fixed|ignored|open`: triage a finding. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/store.h"

static void usage(FILE *out) {
  fprintf(out, "usage: lifetrace mark --db FILE [--all] SIGNATURE fixed|ignored|open\n"
               "\n"
               "Sets the triage status of a finding. SIGNATURE may be a prefix of at least 4\n"
               "hex digits; --all marks every finding it matches. A fixed finding that occurs\n"
               "again later is reopened; an ignored one stays ignored.\n"
               "exit: 0 marked, 1 no such finding, 2 usage or ambiguous prefix, 3 no database\n");
}

/* lifetrace mark SIGNATURE STATUS: sets a finding's status (fixed, ignored,
 * open) by a signature prefix. Exits 1 when no finding matches, 2 for usage
 * or an ambiguous prefix without --all, 3 when the database cannot be read. */
int lt_cmd_mark(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"all", no_argument, 0, 'a'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = NULL;
  int all = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'a': all = 1; break;
    case 'h': usage(stdout); return LT_EXIT_OK;
    default: usage(stderr); return LT_EXIT_USAGE;
    }
  }
  int status = optind + 2 == argc ? lt_status_from_name(argv[optind + 1]) : -1;
  if (db == NULL || status < 0) {
    usage(stderr);
    return LT_EXIT_USAGE;
  }
  lt_store *s;
  char msg[1024];
  struct stat st;
  if (stat(db, &st) != 0 || lt_store_open(&s, db, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace mark: %s\n", stat(db, &st) ? "no such database" : msg);
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
