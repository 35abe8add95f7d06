/* The results reports: a self-contained HTML report (index.html, one page
 * per finding under findings/, inline SVG charts, no network, no script) and
 * summary.md for pull-request comments, all read from the results store. */
#ifndef LT_REPORTS_REPORT_H
#define LT_REPORTS_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lifetrace/store.h"

typedef struct lt_report_opts {
  const char *title;      /* NULL = "lifetrace results" */
  size_t max_runs;        /* runs listed (0 = 50) */
  size_t max_occurrences; /* occurrences listed per finding page (0 = 100) */
} lt_report_opts;

/* Writes outdir/index.html, outdir/findings/<signature>.html and
 * outdir/summary.md (creating the directories). Returns 0 or an LT_E* code
 * with a message in msg. */
int lt__report_write(lt_store *s, const char *outdir, const lt_report_opts *o, char *msg,
                     size_t msglen);

/* Writes the Markdown summary alone (also used by `lifetrace report --md -`). */
int lt__report_markdown(lt_store *s, FILE *out, const lt_report_opts *o);

/* One series of a chart: points (x = Unix ms, y), drawn as bars or a line.
 * group (NULL: one line) numbers each point's run: a line is broken where
 * the group changes, so no line is drawn across the gap between two runs. */
typedef struct lt__series {
  const char *name, *color;
  int bars;
  size_t n;
  const double *x, *y;
  const double *group;
} lt__series;

/* Writes an inline SVG chart (id attribute = id) with a title, axes, time
 * labels and a legend; "no data yet" when every series is empty. by_index
 * spaces the points evenly in order (one slot per run) instead of by time;
 * the series then share the first one's x (times, for the labels). At most
 * 4 series. */
void lt__svg_chart(FILE *out, const char *id, const char *title, const lt__series *s, size_t ns,
                   int by_index);

/* Formats Unix ms as "YYYY-MM-DD HH:MM" UTC into buf[20]. */
void lt__format_time(int64_t ms, char buf[20]);

/* Writes s escaped for Markdown table cells: HTML and Markdown metacharacters
 * are neutralised, newlines become spaces. */
void lt__md_escape(FILE *out, const char *s);

#endif
