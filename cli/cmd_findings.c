/* `lifetrace findings --db FILE`: list findings by signature. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "lifetrace/report.h"

static const lt__opt findings_opts[] = {
    {"db", 'd', 0, "FILE", "the results database (required)"},
    {"status", 's', 0, "open|fixed|ignored|expected|all", "which findings (default: open)"},
    {"kind", 'k', 0, "KIND", "only findings of this kind (e.g. double-destroy)"},
    {"json", 'j', 0, NULL, "print one JSON array"},
    {NULL, 0, 0, NULL, NULL}};

/* findings' options and texts (help, man page, completion). */
const lt__cmd lt__def_findings = {
    "findings", NULL, "list the findings of a results database by signature",
    "Lists the findings of a results database by signature, most recently seen\n"
    "first (default: open ones; 'expected' ones were only seen where a regression\n"
    "corpus expects them). Each names the driver (--driver-version, sha256) of\n"
    "the runs that first and last showed it.",
    "0 listed, 2 usage, 3 no such database",
    findings_opts, lt_cmd_findings};

static const char *opt(const char *s) { return s[0] ? s : NULL; }

/* "VERSION (sha256 0123456789ab)", whichever is known, or "unknown". */
static void driver_text(char *out, size_t len, const char *version, const char *sha) {
  if (version[0] && sha[0])
    snprintf(out, len, "%s (sha256 %.12s)", version, sha);
  else if (version[0] || sha[0])
    snprintf(out, len, version[0] ? "%s" : "sha256 %.12s", version[0] ? version : sha);
  else
    snprintf(out, len, "unknown");
}

static json_t *to_json(const lt_store_finding *f) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
                        "signature", f->signature, "kind", f->kind, "layer", f->layer, "object",
                        f->object, "severity", f->severity, "status", lt_status_name(f->status),
                        "ddi", f->ddi, "site", f->site, "count", (json_int_t)f->count, "runs",
                        (json_int_t)f->n_runs, "first_seen", (json_int_t)f->first_seen,
                        "last_seen", (json_int_t)f->last_seen, "first_run",
                        (json_int_t)f->first_run, "last_run", (json_int_t)f->last_run);
  if (o == NULL)
    return NULL;
  json_object_set_new(o, "message", json_string(f->message ? f->message : ""));
  json_object_set_new(o, "process", f->process ? json_string(f->process) : json_null());
  json_object_set_new(o, "repro_path", f->repro_path ? json_string(f->repro_path) : json_null());
  json_object_set_new(o, "repro_size", f->repro_size >= 0 ? json_integer(f->repro_size) : json_null());
  json_object_set_new(o, "repro_command",
                      f->repro_command ? json_string(f->repro_command) : json_null());
  json_object_set_new(o, "first_driver", json_pack("{s:s?, s:s?}", "version",
                      opt(f->first_driver_version), "sha256", opt(f->first_driver_sha256)));
  json_object_set_new(o, "last_driver", json_pack("{s:s?, s:s?}", "version",
                      opt(f->last_driver_version), "sha256", opt(f->last_driver_sha256)));
  return o;
}

static void print_text(const lt_store_finding *v, size_t n, const char *kind) {
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    char last[20];
    if (kind && strcmp(kind, v[i].kind))
      continue;
    lt__format_time(v[i].last_seen, last);
    printf("%s  %-7s %-7s %-26s %6llu  %s  %s\n", v[i].signature, lt_status_name(v[i].status),
           v[i].severity, v[i].kind, (unsigned long long)v[i].count, last,
           v[i].message ? v[i].message : "");
    char first[120], latest[120];
    driver_text(first, sizeof first, v[i].first_driver_version, v[i].first_driver_sha256);
    driver_text(latest, sizeof latest, v[i].last_driver_version, v[i].last_driver_sha256);
    printf("    driver: first seen with %s, last with %s\n", first, latest);
    if (v[i].repro_command)
      printf("    reproduce: %s\n", v[i].repro_command);
    shown++;
  }
  printf("%zu finding(s)\n", shown);
}

static int print_json(const lt_store_finding *v, size_t n, const char *kind) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (!kind || !strcmp(kind, v[i].kind))
      json_array_append_new(a, to_json(&v[i]));
  if (a == NULL || json_dumpf(a, stdout, JSON_INDENT(2)) != 0) {
    json_decref(a);
    return LT_ENOMEM;
  }
  putchar('\n');
  json_decref(a);
  return 0;
}

/* lifetrace findings: lists the results database's findings by signature
 * (open ones unless --status says otherwise, optionally of one --kind), as
 * text or --json. Exits 3 when the database cannot be read, 2 for usage. */
int lt_cmd_findings(int argc, char **argv) {
  const char *db = NULL, *kind = NULL;
  int status = LT_STATUS_OPEN, json = 0, c, err;
  lt__getopt g;
  lt__getopt_init(&g, &lt__def_findings);
  while ((c = lt__getopt_next(&g, argc, argv)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'k': kind = optarg; break;
    case 'j': json = 1; break;
    case 's':
      status = strcmp(optarg, "all") ? lt_status_from_name(optarg) : -1;
      if (status < 0 && strcmp(optarg, "all")) {
        fprintf(stderr, "lifetrace findings: --status: open, fixed, ignored, expected or all\n");
        return LT_EXIT_USAGE;
      }
      break;
    default: return lt__getopt_exit(c);
    }
  }
  if (db == NULL || optind != argc)
    return lt__usage_error(&lt__def_findings, db ? "unexpected argument" : "--db FILE is required");
  lt_store *s;
  lt_store_finding *v;
  size_t n;
  char msg[1024];
  struct stat st;
  if (stat(db, &st) != 0)
    return lt__no_such_file("findings", db, "database");
  if (lt_store_open(&s, db, msg, sizeof msg)) {
    fprintf(stderr, "lifetrace findings: %s\n", msg);
    return LT_EXIT_INPUT;
  }
  if ((err = lt_store_findings(s, status, &v, &n)) == 0) {
    if (json)
      err = print_json(v, n, kind);
    else
      print_text(v, n, kind);
    lt_store_findings_free(v, n);
  }
  if (err)
    fprintf(stderr, "lifetrace findings: %s\n", lt_store_errmsg(s));
  lt_store_close(s);
  return err ? LT_EXIT_INTERNAL : LT_EXIT_OK;
}
