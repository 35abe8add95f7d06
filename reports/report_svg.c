/* Inline SVG charts for the HTML report: no script, no external resources. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "lifetrace/report.h"

#define W 640
#define H 220
#define ML 56 /* margins: left, right, top, bottom */
#define MR 16
#define MT 28
#define MB 36

/* Formats Unix ms as "YYYY-MM-DD HH:MM" UTC ("?" when out of range); see
 * lifetrace/report.h. */
void lt__format_time(int64_t ms, char buf[20]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || !strftime(buf, 20, "%Y-%m-%d %H:%M", &tm))
    snprintf(buf, 20, "?");
}

typedef struct range {
  double x0, x1, y1;
} range;

/* The smallest 1, 2 or 5 times a power of ten that is >= x: axis ticks at
 * round numbers (counts get whole-number ticks). */
static double nice_step(double x) {
  double p = pow(10, floor(log10(x)));
  double m = x / p;
  double step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  return x >= 0.2 && step < 1 ? 1 : step;
}

static int find_range(const lt__series *s, size_t ns, range *r) {
  int any = 0;
  r->x0 = INFINITY, r->x1 = -INFINITY, r->y1 = 0;
  for (size_t i = 0; i < ns; i++)
    for (size_t j = 0; j < s[i].n; j++, any = 1) {
      r->x0 = fmin(r->x0, s[i].x[j]);
      r->x1 = fmax(r->x1, s[i].x[j]);
      r->y1 = fmax(r->y1, s[i].y[j]);
    }
  if (!any)
    return 0;
  if (r->x1 - r->x0 < 1000) /* one point, or all at once: a minute around it */
    r->x0 -= 30000, r->x1 += 30000;
  r->y1 = 4 * nice_step(r->y1 > 0 ? r->y1 / 4 : 0.25);
  return 1;
}

static double px(const range *r, double x) { return ML + (x - r->x0) / (r->x1 - r->x0) * (W - ML - MR); }
static double py(const range *r, double y) { return H - MB - y / r->y1 * (H - MT - MB); }

static void axes(FILE *out, const range *r, const double *times, size_t nt) {
  char a[20], b[20];
  fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
          ML, H - MB, W - MR, H - MB);
  fprintf(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n",
          ML, MT, ML, H - MB);
  for (int i = 0; i <= 4; i++) {
    double v = r->y1 * i / 4;
    fprintf(out,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
            "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.4g</text>\n",
            ML, py(r, v), W - MR, py(r, v), ML - 4, py(r, v) + 3, v);
  }
  lt__format_time((int64_t)(times ? times[0] : r->x0), a);
  lt__format_time((int64_t)(times ? times[nt - 1] : r->x1), b);
  fprintf(out,
          "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>"
          "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
          ML, H - MB + 14, a, W - MR, H - MB + 14, b);
}

static void series(FILE *out, const range *r, const lt__series *s, size_t k, size_t ns) {
  double slot = (W - ML - MR) / (double)(s->n + 1), bw = fmax(2, fmin(24, slot / (double)ns));
  if (s->bars) {
    for (size_t j = 0; j < s->n; j++)
      fprintf(out,
              "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
              "fill=\"%s\"><title>%.6g</title></rect>\n",
              px(r, s->x[j]) - bw / 2 + (double)k * 2, py(r, s->y[j]), bw,
              H - MB - py(r, s->y[j]), s->color, s->y[j]);
    return;
  }
  for (size_t j = 0; j < s->n; j++) { /* one polyline per group (run) */
    int first = j == 0 || (s->group && s->group[j] != s->group[j - 1]);
    if (first)
      fprintf(out, "%s<polyline class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                   "points=\"", j ? "\"/>\n" : "", s->color);
    fprintf(out, "%s%.1f,%.1f", first ? "" : " ", px(r, s->x[j]), py(r, s->y[j]));
  }
  if (s->n)
    fputs("\"/>\n", out);
  for (size_t j = 0; j < s->n; j++)
    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%.6g</title>"
                 "</circle>\n", px(r, s->x[j]), py(r, s->y[j]), s->color, s->y[j]);
}

/* Writes an inline SVG line chart of up to 4 series, for the report's trend
 * pages; see lifetrace/report.h. */
void lt__svg_chart(FILE *out, const char *id, const char *title, const lt__series *in, size_t ns,
                   int by_index) {
  range r;
  lt__series s[4];
  double *idx = NULL;
  size_t n = ns && in[0].n ? in[0].n : 0;
  ns = ns < 4 ? ns : 4;
  memcpy(s, in, ns * sizeof *s);
  if (by_index && n && (idx = lt_malloc(n * sizeof *idx)) != NULL) {
    for (size_t j = 0; j < n; j++)
      idx[j] = (double)j;
    for (size_t i = 0; i < ns; i++)
      s[i].x = idx;
  }
  fprintf(out, "<svg class=\"chart\" id=\"");
  lt__html_escape(out, id);
  fprintf(out, "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H, W, H);
  lt__html_escape(out, title);
  fputs("\">\n<title>", out);
  lt__html_escape(out, title);
  fprintf(out, "</title>\n<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", ML);
  lt__html_escape(out, title);
  fputs("</text>\n", out);
  if (!find_range(s, ns, &r)) {
    fprintf(out, "<text class=\"empty\" x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#888\">"
                 "no data yet</text>\n</svg>\n", W / 2 - 30, H / 2);
    lt_free(idx);
    return;
  }
  if (idx) /* one slot per point, half a slot of margin each side */
    r.x0 = -0.5, r.x1 = (double)n - 0.5;
  axes(out, &r, idx ? in[0].x : NULL, n);
  for (size_t i = 0; i < ns; i++) {
    series(out, &r, &s[i], i, ns);
    fprintf(out, "<rect x=\"%zu\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                 "<text x=\"%zu\" y=\"15\" font-size=\"11\">", (size_t)W - 200 + i * 100,
            s[i].color, (size_t)W - 186 + i * 100);
    lt__html_escape(out, s[i].name);
    fputs("</text>\n", out);
  }
  fputs("</svg>\n", out);
  lt_free(idx);
}
