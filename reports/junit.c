/* JUnit XML writer for `lifetrace check` (see junit.h). */
#include "lifetrace/junit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "lifetrace/trace.h"

static void describe_finding(FILE *out, const lt_check_case *k, const lt_finding *f) {
  uint64_t line = k->jsonl ? f->event + 2 : 0;
  fprintf(out, "  %s %s at event %llu", lt_severity_name(f->severity),
          lt_finding_kind_name(f->kind), (unsigned long long)f->event);
  if (line)
    fprintf(out, " (%s:%llu)", k->path, (unsigned long long)line);
  fprintf(out, ": %s\n", f->message);
}

/* Writes why a case passed, failed or erred in words (its missing and
 * unexpected findings, or its diagnostic); see lifetrace/junit.h. */
void lt__check_describe(FILE *out, const lt_check_case *k) {
  if (k->outcome == LT_CHECK_ERROR) {
    fprintf(out, "%s\n", k->diag);
    return;
  }
  if (k->outcome == LT_CHECK_PASS) {
    fprintf(out, "%zu finding(s) as expected\n", k->got.n);
    return;
  }
  if (k->diag[0])
    fprintf(out, "%s\n", k->diag);
  if (k->n_missing)
    fprintf(out, "missing (expected, not produced):\n");
  for (size_t i = 0; i < k->n_missing; i++)
    fprintf(out, "  %s %s at event %llu\n", lt_severity_name(k->missing[i].severity),
            lt_finding_kind_name(k->missing[i].kind), (unsigned long long)k->missing[i].event);
  if (k->n_unexpected)
    fprintf(out, "unexpected (produced, not expected):\n");
  for (size_t i = 0; i < k->n_unexpected; i++)
    describe_finding(out, k, &k->got.items[k->unexpected[i]]);
}

/* The body text is built in memory so it can be XML-escaped as a whole. */
static void write_escaped_describe(FILE *out, const lt_check_case *k) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (mem == NULL)
    return;
  lt__check_describe(mem, k);
  fclose(mem);
  lt__xml_escape(out, text);
  free(text);
}

static void write_case(FILE *out, const lt_check_case *k) {
  fputs("    <testcase classname=\"", out);
  lt__xml_escape(out, k->group);
  fputs("\" name=\"", out);
  lt__xml_escape(out, k->name);
  fputs("\" file=\"", out);
  lt__xml_escape(out, k->uri);
  fprintf(out, "\" time=\"%.6f\"", k->seconds);
  if (k->outcome == LT_CHECK_PASS) {
    fputs("/>\n", out);
    return;
  }
  const char *el = k->outcome == LT_CHECK_ERROR ? "error" : "failure";
  fprintf(out, ">\n      <%s type=\"%s\" message=\"", el,
          k->outcome == LT_CHECK_ERROR ? "unreadable" : "verdict-mismatch");
  if (k->outcome == LT_CHECK_ERROR)
    lt__xml_escape(out, k->diag);
  else
    fprintf(out, "%zu missing, %zu unexpected finding(s)", k->n_missing, k->n_unexpected);
  fputs("\">", out);
  write_escaped_describe(out, k);
  fprintf(out, "</%s>\n    </testcase>\n", el);
}

static void suite_counts(const lt_check *c, size_t from, size_t to, size_t *fail, size_t *err,
                         double *secs) {
  *fail = *err = 0;
  *secs = 0;
  for (size_t i = from; i < to; i++) {
    *fail += c->cases[i].outcome == LT_CHECK_FAIL;
    *err += c->cases[i].outcome == LT_CHECK_ERROR;
    *secs += c->cases[i].seconds;
  }
}

/* Writes the check as a JUnit XML report, one testsuite per group and one
 * testcase per trace, for CI test views; see lifetrace/junit.h. */
int lt__junit_write(FILE *out, const lt_check *c) {
  char stamp[32], host[256] = "localhost";
  time_t now = time(NULL);
  struct tm tm;
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime_r(&now, &tm));
  if (gethostname(host, sizeof host - 1) != 0)
    snprintf(host, sizeof host, "localhost");
  fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"lifetrace check\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"%zu\" time=\"%.6f\">\n",
          c->n, c->failed, c->errors, c->seconds);
  for (size_t i = 0; i < c->n;) {
    size_t j = i, fail, err;
    double secs;
    while (j < c->n && !strcmp(c->cases[j].group, c->cases[i].group))
      j++;
    suite_counts(c, i, j, &fail, &err, &secs);
    fputs("  <testsuite name=\"", out);
    lt__xml_escape(out, c->cases[i].group);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.6f\" "
                 "timestamp=\"%s\" hostname=\"", j - i, fail, err, secs, stamp);
    lt__xml_escape(out, host);
    fputs("\">\n", out);
    for (; i < j; i++)
      write_case(out, &c->cases[i]);
    fputs("  </testsuite>\n", out);
  }
  fputs("</testsuites>\n", out);
  return ferror(out) ? LT_EIO : 0;
}
