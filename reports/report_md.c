/* summary.md: the Markdown summary of the results for chat and pull-request
 * comments — counts, the open findings, what the latest run found new. */
#include <string.h>

#include "lifetrace/report.h"
#include "store_internal.h"

/* Writes s for a Markdown table cell, with HTML and Markdown metacharacters
 * neutralised and newlines as spaces; see lifetrace/report.h. */
void lt__md_escape(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    switch (*p) {
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '&': fputs("&amp;", out); break;
    case '|': fputs("\\|", out); break;
    case '\n': case '\r': case '\t': fputc(' ', out); break;
    case '\\': case '`': case '*': case '_': case '[': case ']': case '#': case '!':
    case '~': case '@':
      fputc('\\', out);
      fputc(*p, out);
      break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        fputc(' ', out);
      else
        fputc(*p, out);
    }
  }
}

/* A signature as stored: 16 hex digits. Anything else (a tampered database)
 * is shown as "?" rather than pasted into Markdown. */
static const char *sig_or_mark(const char *s) {
  size_t n = s ? strspn(s, "0123456789abcdef") : 0;
  return n == 16 && s[16] == 0 ? s : "?";
}

/* Signatures first seen in the most recent run. */
static void new_in_latest(sqlite3 *db, FILE *out) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db,
                         "SELECT f.signature, f.kind, f.severity, f.count FROM findings f WHERE "
                         "f.first_run = (SELECT id FROM runs ORDER BY started_at DESC, id DESC "
                         "LIMIT 1) ORDER BY f.severity, f.kind",
                         -1, &st, NULL) != SQLITE_OK)
    return;
  int any = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!any++)
      fputs("\n**New in the latest run:**\n\n", out);
    fputs("- `", out);
    fputs(sig_or_mark((const char *)sqlite3_column_text(st, 0)), out);
    fputs("` ", out);
    lt__md_escape(out, (const char *)sqlite3_column_text(st, 1));
    fputs(" (", out);
    lt__md_escape(out, (const char *)sqlite3_column_text(st, 2));
    fputs(")\n", out);
  }
  sqlite3_finalize(st);
}

static void finding_line(FILE *out, const lt_store_finding *f) {
  char last[20];
  lt__format_time(f->last_seen, last);
  fprintf(out, "| `%s` | ", sig_or_mark(f->signature));
  lt__md_escape(out, f->kind);
  fprintf(out, " | %s | %llu | %s | ", !strcmp(f->severity, "error") ? "**error**" : "warning",
          (unsigned long long)f->count, last);
  lt__md_escape(out, f->process ? f->process : "");
  fputs(" | ", out);
  lt__md_escape(out, f->message);
  fputs(" |\n", out);
}

/* Writes the Markdown summary of the store's open findings (the report's
 * summary.md, a PR comment); see lifetrace/report.h. */
int lt__report_markdown(lt_store *s, FILE *out, const lt_report_opts *o) {
  lt_store_finding *v = NULL;
  size_t n = 0, open = 0, errors = 0;
  int err = lt_store_findings(s, LT_STATUS_OPEN, &v, &n);
  if (err)
    return err;
  for (size_t i = 0; i < n; i++, open++)
    errors += !strcmp(v[i].severity, "error");
  fputs("## ", out);
  lt__md_escape(out, o && o->title ? o->title : "lifetrace results");
  fprintf(out, "\n\n%zu open finding(s), %zu of them errors.\n", open, errors);
  new_in_latest(lt__store_db(s), out);
  if (n) {
    fputs("\n| signature | kind | severity | count | last seen | process | message |\n"
          "|---|---|---|---:|---|---|---|\n", out);
    for (size_t i = 0; i < n && i < 50; i++)
      finding_line(out, &v[i]);
    if (n > 50)
      fprintf(out, "\n…and %zu more in the HTML report.\n", n - 50);
    for (size_t i = 0; i < n && i < 10; i++) {
      if (!v[i].repro_command)
        continue;
      fprintf(out, "\n<details><summary>reproduce %s</summary>\n\n```sh\n",
              sig_or_mark(v[i].signature));
      for (const char *p = v[i].repro_command; *p; p++) /* a fence cannot be closed early */
        fputc(*p == '`' || *p == '\n' ? ' ' : *p, out);
      fputs("\n```\n</details>\n", out);
    }
  }
  lt_store_findings_free(v, n);
  return ferror(out) ? LT_EIO : 0;
}
