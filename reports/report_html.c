/* The HTML report: index.html (overview, charts, findings by signature,
 * runs) and one page per finding (history, occurrences, reproducer). Every
 * string that comes from the database is escaped: process names, paths and
 * messages come from traces and are attacker-controlled. No script, no
 * external resource: the page works offline and from a CI artifact. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "sha256.h"
#include "kinds.h"
#include "lifetrace/report.h"
#include "store_internal.h"

#define E(out, s) lt__html_escape(out, s)

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}td.num{text-align:right}"
    ".error{color:#b00020;font-weight:bold}.warning{color:#a86400}"
    ".open{color:#b00020}.fixed{color:#2e7d32}.ignored{color:#777}"
    "code,pre{font-family:ui-monospace,monospace;font-size:12px}"
    "pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;word-break:break-all}"
    "#whats-new{border:2px solid #1565c0;padding:4px 16px;margin:8px 0}"
    "#whats-new h2{margin-top:8px}.regressed{color:#b00020;font-weight:bold}"
    "th[data-key]{cursor:pointer}td.repro code{white-space:pre-wrap;word-break:break-all}"
    ".charts{display:flex;flex-wrap:wrap}.charts svg{border:1px solid #eee;margin:4px}.cards span{display:inline-block;"
    "border:1px solid #ddd;padding:6px 12px;margin-right:8px}";

typedef struct report {
  lt_store *s;
  sqlite3 *db;
  const lt_report_opts *o;
  const char *dir;
  char *msg;
  size_t msglen;
} report;

static const char *col(sqlite3_stmt *st, int i) {
  const unsigned char *v = sqlite3_column_text(st, i);
  return v ? (const char *)v : "";
}

static void time_cell(FILE *out, int64_t ms) {
  char t[20];
  if (ms <= 0) {
    fputs("<td>—</td>", out);
    return;
  }
  lt__format_time(ms, t);
  fprintf(out, "<td>%s</td>", t);
}

static void head_csp(FILE *out, const char *title, const char *script_hash) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:", out);
  if (script_hash) /* only the one inline script whose hash this is may run */
    fprintf(out, "; script-src 'sha256-%s'", script_hash);
  fputs("\">\n<title>", out);
  E(out, title);
  fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n", css);
}

static void head(FILE *out, const char *title, const char *css_prefix) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">\n<title>", out);
  E(out, title);
  fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n", css);
  (void)css_prefix;
}

static int prepare(report *r, sqlite3_stmt **st, const char *sql) {
  if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) == SQLITE_OK)
    return 0;
  snprintf(r->msg, r->msglen, "query failed: %s", sqlite3_errmsg(r->db));
  return LT_EIO;
}

static void overview(report *r, FILE *out) {
  sqlite3_stmt *st;
  if (prepare(r, &st, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM traces), "
                      "(SELECT count(*) FROM findings WHERE status = 'open'), (SELECT count(*) "
                      "FROM findings WHERE status = 'fixed'), (SELECT count(*) FROM findings "
                      "WHERE status = 'ignored'), (SELECT count(*) FROM occurrences)"))
    return;
  if (sqlite3_step(st) == SQLITE_ROW)
    fprintf(out,
            "<p class=\"cards\" id=\"overview\"><span>%lld runs</span><span>%lld traces "
            "replayed</span><span class=\"open\">%lld open</span><span class=\"fixed\">%lld "
            "fixed</span><span class=\"ignored\">%lld ignored</span><span>%lld "
            "occurrences</span></p>\n",
            (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
            (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
            (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5));
  sqlite3_finalize(st);
}

/* Loads up to three numeric columns of a query as series data. */
typedef struct cols {
  double *v[5];
  size_t n;
} cols;

static int load_cols(report *r, const char *sql, int ncol, const char *bind, cols *c) {
  sqlite3_stmt *st;
  size_t cap = 0;
  memset(c, 0, sizeof *c);
  if (prepare(r, &st, sql))
    return LT_EIO;
  if (bind)
    sqlite3_bind_text(st, 1, bind, -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (c->n == cap) {
      cap = cap ? 2 * cap : 64;
      for (int i = 0; i < ncol; i++) {
        double *g = lt_realloc(c->v[i], cap * sizeof(double));
        if (g == NULL) {
          sqlite3_finalize(st);
          return LT_ENOMEM;
        }
        c->v[i] = g;
      }
    }
    for (int i = 0; i < ncol; i++)
      c->v[i][c->n] = sqlite3_column_double(st, i);
    c->n++;
  }
  sqlite3_finalize(st);
  return 0;
}

static void free_cols(cols *c) {
  for (int i = 0; i < 5; i++)
    lt_free(c->v[i]);
}

static int charts(report *r, FILE *out) {
  cols f, s;
  int err = load_cols(r,
                      "SELECT started_at, (SELECT count(*) FROM occurrences o WHERE o.run_id = "
                      "r.id), (SELECT count(*) FROM findings f WHERE f.first_run = r.id) FROM "
                      "runs r ORDER BY started_at, id",
                      3, NULL, &f);
  if (err == 0)
    err = load_cols(r, "SELECT t, exec_per_sec, coverage, corpus_size, run_id FROM stats "
                    "ORDER BY t, run_id", 5, NULL, &s);
  if (err == 0) {
    lt__series fo[] = {{"occurrences", "#c62828", 1, f.n, f.v[0], f.v[1]},
                       {"new signatures", "#1565c0", 0, f.n, f.v[0], f.v[2]}};
    /* one line per run: no line drawn across the gap between two runs */
    lt__series ex[] = {{"exec/s", "#2e7d32", 0, s.n, s.v[0], s.v[1], s.v[4]}};
    lt__series cv[] = {{"coverage", "#6a1b9a", 0, s.n, s.v[0], s.v[2], s.v[4]},
                       {"corpus", "#ef6c00", 0, s.n, s.v[0], s.v[3], s.v[4]}};
    fputs("<h2>Over time</h2>\n<div class=\"charts\">\n", out);
    lt__svg_chart(out, "chart-findings", "Findings per run", fo, 2, 1);
    lt__svg_chart(out, "chart-execs", "Executions per second", ex, 1, 0);
    lt__svg_chart(out, "chart-coverage", "Coverage and corpus size", cv, 2, 0);
    fputs("</div>\n", out);
  }
  free_cols(&f);
  free_cols(&s);
  return err;
}

static int is_signature(const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", s[i]))
      return 0;
  return n == 16;
}

/* The seeded bug a finding is put down to: the --bugs of its reproduce
 * command (triage replays each crash with each bug alone), into buf. */
static int seeded_bug(const lt_store_finding *f, char *buf, size_t len) {
  const char *p = f->repro_command ? strstr(f->repro_command, " --bugs ") : NULL;
  if (p == NULL)
    return 0;
  p += 8;
  p += *p == '\'';
  snprintf(buf, len, "%.*s", (int)strcspn(p, "' "), p);
  return buf[0] != 0;
}

/* Where the reproducer is copied in the report folder: repro/SIG-NAME. */
static void repro_copy_name(const lt_store_finding *f, char *buf, size_t len) {
  const char *base = strrchr(f->repro_path, '/');
  snprintf(buf, len, "repro/%s-%s", f->signature, base ? base + 1 : f->repro_path);
  for (char *p = buf + 6; *p; p++) /* a plain name: nothing to quote when pasted */
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
      *p = '_';
}

static int copy_file(const char *from, const char *to) {
  char buf[16384];
  size_t n;
  int bad = 0;
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  while (out && (n = fread(buf, 1, sizeof buf, in)) > 0)
    bad |= fwrite(buf, 1, n, out) != n;
  bad |= in == NULL || out == NULL || ferror(in);
  if (in)
    fclose(in);
  if (out && fclose(out))
    bad = 1;
  return bad ? -1 : 0;
}

/* The reproduce command of a finding as it runs from the report folder: the
 * reproducer copied to repro/ and the command's path to it replaced by the
 * copy's. NULL when there is no reproducer file or command. Caller frees. */
static char *local_repro(report *r, const lt_store_finding *f) {
  char rel[256], path[4096];
  const char *at;
  if (!f->repro_path || !f->repro_command || !is_signature(f->signature) ||
      (at = strstr(f->repro_command, f->repro_path)) == NULL)
    return NULL;
  repro_copy_name(f, rel, sizeof rel);
  snprintf(path, sizeof path, "%s/%s", r->dir, rel);
  if (copy_file(f->repro_path, path))
    return NULL;
  size_t head = (size_t)(at - f->repro_command), tail = strlen(at + strlen(f->repro_path));
  char *cmd = lt_malloc(head + strlen(rel) + tail + 1);
  if (cmd)
    sprintf(cmd, "%.*s%s%s", (int)head, f->repro_command, rel, at + strlen(f->repro_path));
  return cmd;
}

static void num_cell(FILE *out, uint64_t v) {
  fprintf(out, "<td class=\"num\" data-v=\"%llu\">%llu</td>", (unsigned long long)v,
          (unsigned long long)v);
}

static void sort_time_cell(FILE *out, int64_t ms) {
  char t[20];
  lt__format_time(ms, t);
  fprintf(out, "<td data-v=\"%lld\">%s</td>", (long long)ms, ms > 0 ? t : "—");
}

static void finding_row(report *r, FILE *out, const lt_store_finding *f, int bugs) {
  const char *st = lt_status_name(f->status) ? lt_status_name(f->status) : "?";
  char bug[64];
  fprintf(out, "<tr class=\"finding\" data-status=\"%s\">", st);
  if (is_signature(f->signature))
    fprintf(out, "<td><a href=\"findings/%s.html\"><code>%s</code></a></td>", f->signature,
            f->signature);
  else
    fputs("<td>?</td>", out);
  fputs("<td>", out);
  E(out, f->kind);
  fprintf(out, "</td><td class=\"%s\">%s</td><td class=\"%s\">%s</td><td class=\"site\">",
          !strcmp(f->severity, "error") ? "error" : "warning",
          !strcmp(f->severity, "error") ? "error" : "warning", st, st);
  E(out, f->site[0] ? f->site : "—");
  fputs("<br><small>", out);
  E(out, f->ddi);
  fputs("</small></td>", out);
  sort_time_cell(out, f->first_seen);
  sort_time_cell(out, f->last_seen);
  num_cell(out, f->count);
  num_cell(out, f->n_runs);
  if (bugs) {
    fputs("<td class=\"bug\">", out);
    E(out, seeded_bug(f, bug, sizeof bug) ? bug : "");
    fputs("</td>", out);
  }
  char *cmd = local_repro(r, f);
  fputs("<td class=\"repro\"><code>", out);
  E(out, cmd ? cmd : f->repro_command ? f->repro_command : "");
  fputs("</code></td><td>", out);
  lt_free(cmd);
  E(out, f->message);
  fputs("</td></tr>\n", out);
}

static const char filter_controls[] =
    "<p class=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"filter: kind, "
    "site, message…\"> <select id=\"status-filter\"><option value=\"\">any status</option>"
    "<option>open</option><option>fixed</option><option>ignored</option><option>expected"
    "</option></select> <span id=\"shown\"></span> shown; click a column to sort.</p>\n";

static void findings_table(report *r, FILE *out, const lt_store_finding *v, size_t n) {
  char bug[64];
  int bugs = 0;
  fputs("<h2>Findings by signature</h2>\n", out);
  if (n == 0) {
    fputs("<p id=\"no-findings\">No findings recorded.</p>\n", out);
    return;
  }
  for (size_t i = 0; i < n; i++)
    bugs |= seeded_bug(&v[i], bug, sizeof bug);
  fprintf(out, "<p>Reproduce commands run from this folder (the reproducers are copied to "
               "<code>repro/</code>) with <code>lifetrace</code> %s on the PATH; a command "
               "that names <code>--driver</code> needs that driver file.</p>\n", LT_VERSION);
  fputs(filter_controls, out);
  fprintf(out, "<table id=\"findings\"><thead><tr><th data-key=\"signature\">signature</th>"
               "<th data-key=\"kind\">kind</th><th data-key=\"severity\">severity</th>"
               "<th data-key=\"status\">status</th><th data-key=\"site\">driver site</th>"
               "<th data-key=\"first\">first seen</th><th data-key=\"last\">last seen</th>"
               "<th data-key=\"count\">count</th><th data-key=\"runs\">runs</th>%s"
               "<th data-key=\"repro\">reproduce</th><th data-key=\"message\">message</th>"
               "</tr></thead><tbody>\n",
          bugs ? "<th data-key=\"bug\">seeded bug</th>" : "");
  for (int pass = 0; pass < 4; pass++) /* open first, then fixed, ignored, expected */
    for (size_t i = 0; i < n; i++)
      if (v[i].status == pass)
        finding_row(r, out, &v[i], bugs);
  fputs("</tbody></table>\n", out);
}

/* ---- the first screen: what is new since the last run -------------------------------- */

static int latest_run(report *r, FILE *out) {
  sqlite3_stmt *st;
  int64_t id = 0;
  if (prepare(r, &st, "SELECT id, kind, started_at, coalesce(driver_version, ''), "
                      "coalesce(driver_sha256, '') FROM runs ORDER BY started_at DESC, id DESC "
                      "LIMIT 1"))
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW) {
    char t[20];
    id = sqlite3_column_int64(st, 0);
    lt__format_time(sqlite3_column_int64(st, 2), t);
    fprintf(out, "<p>Latest run: <b>%lld</b> (", (long long)id);
    E(out, col(st, 1));
    fprintf(out, ", started %s UTC", t);
    if (col(st, 3)[0] || col(st, 4)[0]) {
      fputs(", driver ", out);
      E(out, col(st, 3)[0] ? col(st, 3) : "");
      fprintf(out, " %.12s", col(st, 4));
    }
    fputs(") compared with every run before it.</p>\n", out);
  }
  sqlite3_finalize(st);
  return (int)id;
}

/* One list of the first screen; returns how many items it had. */
static int sig_list(report *r, FILE *out, const char *id, const char *what, const char *sql,
                    int64_t run) {
  sqlite3_stmt *st;
  int n = 0;
  if (prepare(r, &st, sql))
    return 0;
  sqlite3_bind_int64(st, 1, run);
  fprintf(out, "<h3>%s</h3>\n<ul id=\"%s\">\n", what, id);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *sig = col(st, 0);
    n++;
    if (n > 50)
      continue;
    fputs("<li>", out);
    if (is_signature(sig))
      fprintf(out, "<a href=\"findings/%s.html\"><code>%s</code></a> ", sig, sig);
    E(out, col(st, 1));
    fprintf(out, " <span class=\"%s\">%s</span>, %lld occurrence(s)",
            !strcmp(col(st, 2), "error") ? "error" : "warning",
            !strcmp(col(st, 2), "error") ? "error" : "warning",
            (long long)sqlite3_column_int64(st, 3));
    if (col(st, 4)[0]) {
      fputs(", at ", out);
      E(out, col(st, 4));
    }
    fputs("</li>\n", out);
  }
  if (n == 0)
    fputs("<li class=\"none\">none</li>\n", out);
  else if (n > 50)
    fprintf(out, "<li>…and %d more in the table below</li>\n", n - 50);
  fputs("</ul>\n", out);
  sqlite3_finalize(st);
  return n;
}

#define SIG_COLS "SELECT f.signature, f.kind, f.severity, f.count, f.site FROM findings f "

/* Signatures the latest run showed first. */
static const char new_sql[] = SIG_COLS "WHERE f.first_run = ?1 ORDER BY f.severity, f.kind";
/* Fixed findings the latest run showed again (reopened by it): open, with a
 * status change at or after the run's start, seen in it, and seen before it
 * where nothing expected them (so not an expected finding turning open). */
#define BACK_WHERE                                                                             \
  "f.status = 'open' AND f.first_run <> ?1 AND f.status_at IS NOT NULL AND "                   \
  "f.status_at >= (SELECT started_at FROM runs WHERE id = ?1) AND EXISTS (SELECT 1 FROM "      \
  "occurrences o WHERE o.signature = f.signature AND o.run_id = ?1) AND EXISTS (SELECT 1 "     \
  "FROM occurrences o WHERE o.signature = f.signature AND o.run_id <> ?1 AND o.expected = 0)"
static const char back_sql[] = SIG_COLS "WHERE " BACK_WHERE " ORDER BY f.severity, f.kind";
/* Open findings older than the latest run, other than those it reopened. */
static const char open_sql[] = SIG_COLS "WHERE f.status = 'open' AND f.first_run <> ?1 AND NOT ("
                               BACK_WHERE ") ORDER BY f.severity, f.last_seen DESC";

static void whats_new(report *r, FILE *out) {
  fputs("<section id=\"whats-new\">\n<h2>What is new since the last run</h2>\n", out);
  int run = latest_run(r, out);
  if (run <= 0) {
    fputs("<p>No runs recorded yet.</p>\n</section>\n", out);
    return;
  }
  int n_new = sig_list(r, out, "new", "New signatures", new_sql, run);
  int n_back = sig_list(r, out, "regressed", "Fixed, and back (regressions)", back_sql, run);
  int n_open = sig_list(r, out, "still-open", "Still open from earlier runs", open_sql, run);
  fprintf(out, "<p id=\"verdict\" class=\"%s\">%d new, %d back, %d still open.</p>\n</section>\n",
          n_new || n_back ? "regressed" : "", n_new, n_back, n_open);
}

/* The table's sorting and filtering (and #q=, #status=, #sort= in the URL):
 * the page's one script, allowed by its hash in the Content-Security-Policy. */
static const char table_script[] =
    "(function(){var t=document.getElementById('findings');if(!t)return;"
    "var b=t.tBodies[0],q=document.getElementById('filter'),"
    "st=document.getElementById('status-filter'),hs=t.tHead.rows[0].cells;"
    "function rows(){return Array.prototype.slice.call(b.rows);}"
    "function key(c){var v=c.getAttribute('data-v');return v===null?c.textContent:parseFloat(v);}"
    "function apply(){var s=q.value.toLowerCase(),v=st.value,n=0;rows().forEach(function(r){"
    "r.hidden=!((!s||r.textContent.toLowerCase().indexOf(s)>=0)&&"
    "(!v||r.getAttribute('data-status')===v));n+=!r.hidden;});"
    "document.getElementById('shown').textContent=n;}"
    "function sort(i,desc){var rs=rows();rs.sort(function(x,y){var a=key(x.cells[i]),"
    "c=key(y.cells[i]),d=typeof a==='number'?a-c:String(a).localeCompare(String(c));"
    "return desc?-d:d;});rs.forEach(function(r){b.appendChild(r);});"
    "t.setAttribute('data-sorted',hs[i].getAttribute('data-key')+(desc?' desc':' asc'));}"
    "Array.prototype.forEach.call(hs,function(h,i){h.addEventListener('click',function(){"
    "var d=h.getAttribute('data-dir')!=='desc';h.setAttribute('data-dir',d?'desc':'asc');"
    "sort(i,d);});});q.addEventListener('input',apply);st.addEventListener('change',apply);"
    "function arg(k){var m=new RegExp('(?:^|[#&])'+k+'=([^&]*)').exec(location.hash);"
    "return m?decodeURIComponent(m[1]):null;}"
    "if(arg('q')!==null)q.value=arg('q');if(arg('status')!==null)st.value=arg('status');"
    "var k=arg('sort');if(k)Array.prototype.forEach.call(hs,function(h,i){"
    "if(h.getAttribute('data-key')===k)sort(i,true);});apply();})();";

/* The script's CSP hash: base64 of its SHA-256. */
static void script_hash(char out[45]) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char hex[65];
  unsigned char d[33] = {0};
  lt__sha256_mem(table_script, sizeof table_script - 1, hex);
  for (int i = 0; i < 32; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    d[i] = (unsigned char)v;
  }
  for (int i = 0, o = 0; i < 33; i += 3, o += 4) {
    unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | (i + 2 < 33 ? d[i + 2] : 0);
    out[o] = b64[v >> 18 & 63], out[o + 1] = b64[v >> 12 & 63];
    out[o + 2] = i + 1 < 32 ? b64[v >> 6 & 63] : '=';
    out[o + 3] = i + 2 < 32 ? b64[v & 63] : '=';
  }
  out[44] = 0;
}

static void run_row(FILE *out, sqlite3_stmt *st) {
  fprintf(out, "<tr><td class=\"num\">%lld</td><td><code title=\"",
          (long long)sqlite3_column_int64(st, 0));
  E(out, col(st, 1));
  fputs("\">", out);
  char shortid[9];
  snprintf(shortid, sizeof shortid, "%s", col(st, 1));
  E(out, shortid);
  fputs("</code></td><td>", out);
  E(out, col(st, 2));
  fputs("</td>", out);
  time_cell(out, sqlite3_column_int64(st, 3));
  if (sqlite3_column_type(st, 4) == SQLITE_NULL)
    fputs("<td>unfinished</td><td></td>", out);
  else
    fprintf(out, "<td class=\"num\">%.1f s</td><td class=\"num\">%d</td>",
            (double)(sqlite3_column_int64(st, 4) - sqlite3_column_int64(st, 3)) / 1000.0,
            sqlite3_column_int(st, 5));
  fprintf(out, "<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
          (long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
  E(out, col(st, 8));
  fputs("</td><td>", out);
  E(out, col(st, 9));
  fputs("</td><td><code>", out);
  E(out, col(st, 10));
  fputs("</code></td></tr>\n", out);
}

static int runs_table(report *r, FILE *out) {
  sqlite3_stmt *st;
  if (prepare(r, &st, "SELECT id, uuid, kind, started_at, ended_at, exit_code, (SELECT count(*) "
                      "FROM traces t WHERE t.run_id = r.id), (SELECT count(*) FROM occurrences o "
                      "WHERE o.run_id = r.id), coalesce(driver, ''), coalesce(host, ''), "
                      "coalesce(command, '') FROM runs r ORDER BY started_at DESC, id DESC "
                      "LIMIT ?"))
    return LT_EIO;
  sqlite3_bind_int64(st, 1, r->o->max_runs ? (int64_t)r->o->max_runs : 50);
  fputs("<h2>Runs</h2>\n<table id=\"runs\"><thead><tr><th>id</th><th>uuid</th><th>kind</th>"
        "<th>started</th><th>duration</th><th>exit</th><th>traces</th><th>findings</th>"
        "<th>driver</th><th>host</th><th>command</th></tr></thead><tbody>\n", out);
  while (sqlite3_step(st) == SQLITE_ROW)
    run_row(out, st);
  fputs("</tbody></table>\n", out);
  sqlite3_finalize(st);
  return 0;
}

static FILE *open_out(report *r, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", r->dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    snprintf(r->msg, r->msglen, "%s: %s", path, strerror(errno));
  return f;
}

static int close_out(report *r, FILE *f, const char *name) {
  int bad = ferror(f);
  if (fclose(f) || bad) {
    snprintf(r->msg, r->msglen, "%s/%s: write failed", r->dir, name);
    return LT_EIO;
  }
  return 0;
}

static int write_index(report *r, const lt_store_finding *v, size_t n) {
  const char *title = r->o->title ? r->o->title : "lifetrace results";
  char now[20], hash[45];
  FILE *out = open_out(r, "index.html");
  if (out == NULL)
    return LT_EIO;
  script_hash(hash);
  head_csp(out, title, hash);
  lt__format_time(lt__now_ms(), now);
  fputs("<h1>", out);
  E(out, title);
  fprintf(out, "</h1>\n<p>Generated %s UTC by lifetrace %s. See <a href=\"summary.md\">"
               "summary.md</a> for a pull-request comment.</p>\n", now, LT_VERSION);
  whats_new(r, out);
  overview(r, out);
  findings_table(r, out, v, n);
  int err = charts(r, out);
  if (err == 0)
    err = runs_table(r, out);
  fprintf(out, "<script>%s</script>\n</body></html>\n", table_script);
  int cerr = close_out(r, out, "index.html");
  return err ? err : cerr;
}

/* Renders the JSON history column: one line per event on the handle. */
static void history_cell(FILE *out, const char *json) {
  json_t *a = json_loads(json, 0, NULL);
  size_t i;
  json_t *e;
  if (!json_is_array(a)) {
    E(out, json);
    json_decref(a);
    return;
  }
  json_array_foreach(a, i, e) {
    json_t *origin = json_object_get(e, "origin");
    fprintf(out, "%s%lld&nbsp;", i ? "<br>" : "",
            (long long)json_integer_value(json_object_get(e, "event")));
    E(out, json_string_value(json_object_get(e, "op")));
    if (origin)
      fprintf(out, " (record %lld, line %lld)",
              (long long)json_integer_value(json_object_get(origin, "record")),
              (long long)json_integer_value(json_object_get(origin, "line")));
  }
  json_decref(a);
}

static void occurrence_row(FILE *out, sqlite3_stmt *st) {
  fputs("<tr>", out);
  time_cell(out, sqlite3_column_int64(st, 0));
  fprintf(out, "<td class=\"num\">%lld</td><td><code>", (long long)sqlite3_column_int64(st, 1));
  E(out, col(st, 2));
  fprintf(out, "</code></td><td class=\"num\">%lld</td><td class=\"%s\">%s</td>"
               "<td><code>0x%llx</code></td><td class=\"num\">%lld</td><td class=\"process\">",
          (long long)sqlite3_column_int64(st, 3), !strcmp(col(st, 4), "error") ? "error" : "warning",
          !strcmp(col(st, 4), "error") ? "error" : "warning",
          (unsigned long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6));
  E(out, col(st, 7));
  fputs("</td><td>", out);
  if (sqlite3_column_type(st, 8) != SQLITE_NULL)
    fprintf(out, "%lld", (long long)sqlite3_column_int64(st, 8));
  fputs("</td><td>", out);
  E(out, col(st, 9));
  fputs("</td><td>", out);
  history_cell(out, col(st, 10));
  fputs("</td><td>", out);
  E(out, col(st, 11));
  fputs("</td></tr>\n", out);
}

static int occurrences_table(report *r, FILE *out, const char *sig) {
  sqlite3_stmt *st;
  if (prepare(r, &st, "SELECT o.seen_at, o.run_id, t.path, o.event, o.severity, o.handle, o.pid, "
                      "coalesce(o.process, ''), o.created_at, o.destroyed_at, o.history, "
                      "o.message FROM occurrences o JOIN traces t ON t.id = o.trace_id WHERE "
                      "o.signature = ? ORDER BY o.seen_at DESC, o.id DESC LIMIT ?"))
    return LT_EIO;
  sqlite3_bind_text(st, 1, sig, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, r->o->max_occurrences ? (int64_t)r->o->max_occurrences : 100);
  fputs("<h2>Occurrences (most recent first)</h2>\n<table id=\"occurrences\"><thead><tr>"
        "<th>seen</th><th>run</th><th>trace</th><th>event</th><th>severity</th><th>handle</th>"
        "<th>pid</th><th>process</th><th>created at</th><th>destroyed at</th>"
        "<th>history on the handle</th><th>message</th></tr></thead><tbody>\n", out);
  while (sqlite3_step(st) == SQLITE_ROW)
    occurrence_row(out, st);
  fputs("</tbody></table>\n", out);
  sqlite3_finalize(st);
  return 0;
}

static void field(FILE *out, const char *name, const char *value) {
  fprintf(out, "<tr><th>%s</th><td>", name);
  E(out, value);
  fputs("</td></tr>\n", out);
}

static void finding_facts(FILE *out, const lt_store_finding *f) {
  char a[20], b[20], num[64];
  fputs("<table id=\"facts\">\n", out);
  field(out, "kind", f->kind);
  field(out, "layer", f->layer);
  field(out, "object", f->object);
  field(out, "severity", f->severity);
  field(out, "status", lt_status_name(f->status) ? lt_status_name(f->status) : "?");
  field(out, "DDI", f->ddi);
  field(out, "driver site", f->site);
  snprintf(num, sizeof num, "%llu in %llu run(s)", (unsigned long long)f->count,
           (unsigned long long)f->n_runs);
  field(out, "occurrences", num);
  lt__format_time(f->first_seen, a);
  lt__format_time(f->last_seen, b);
  snprintf(num, sizeof num, "%s (run %lld)", a, (long long)f->first_run);
  field(out, "first seen", num);
  snprintf(num, sizeof num, "%s (run %lld)", b, (long long)f->last_run);
  field(out, "last seen", num);
  field(out, "message", f->message ? f->message : "");
  fputs("</table>\n", out);
}

/* Occurrences of one signature in each run since it was first seen: does it
 * still happen, and how often (the syzbot/ClusterFuzz per-crash view). */
static int finding_chart(report *r, FILE *out, const char *sig) {
  cols c;
  int err = load_cols(r,
                      "SELECT r.started_at, (SELECT count(*) FROM occurrences o WHERE o.run_id = "
                      "r.id AND o.signature = ?1) FROM runs r WHERE r.started_at >= (SELECT "
                      "started_at FROM runs WHERE id = (SELECT first_run FROM findings WHERE "
                      "signature = ?1)) ORDER BY r.started_at, r.id",
                      2, sig, &c);
  if (err == 0) {
    lt__series s[] = {{"occurrences", "#c62828", 1, c.n, c.v[0], c.v[1]}};
    lt__svg_chart(out, "chart-finding", "Occurrences per run since first seen", s, 1, 1);
  }
  free_cols(&c);
  return err;
}

/* The source lines around line of file (two before, two after), the line
 * itself marked; nothing when the file cannot be read. */
static void source_excerpt(FILE *out, const char *file, int line) {
  FILE *src = line > 0 && *file ? fopen(file, "r") : NULL;
  char buf[512];
  int n = 0, shown = 0;
  while (src && fgets(buf, sizeof buf, src) && ++n <= line + 2) {
    size_t len = strlen(buf);
    if (len && buf[len - 1] == '\n')
      buf[len - 1] = 0;
    else /* a longer line: skip the rest of it */
      for (int ch; (ch = fgetc(src)) != EOF && ch != '\n';)
        ;
    if (n < line - 2)
      continue;
    if (!shown++)
      fputs("<pre class=\"src\">", out);
    fprintf(out, "%s%5d  ", n == line ? "<b>&gt;" : " ", n);
    E(out, buf);
    fputs(n == line ? "</b>\n" : "\n", out);
  }
  if (shown)
    fputs("</pre>\n", out);
  if (src)
    fclose(src);
}

/* One stack of a finding: ASan-style frames, the driver's with the source
 * lines around them when the file is readable here. */
static void stack_frame(FILE *out, sqlite3_stmt *st) {
  char pos[32];
  int line = sqlite3_column_int(st, 4), driver = sqlite3_column_int(st, 6);
  snprintf(pos, sizeof pos, ":%d", line);
  fprintf(out, "<li%s><code>#%d ", driver ? " class=\"driver\"" : "", sqlite3_column_int(st, 2));
  E(out, *col(st, 3) ? col(st, 3) : "??");
  fputs(" ", out);
  E(out, col(st, 5));
  if (line > 0)
    fputs(pos, out);
  fputs(" (", out);
  E(out, col(st, 7));
  fputs(")</code>", out);
  if (driver)
    source_excerpt(out, col(st, 5), line);
  fputs("</li>\n", out);
}

/* The finding's stacks (allocated / freed / accessed / faulting ...), from
 * the frames table. */
static int finding_stacks(report *r, FILE *out, const char *sig) {
  sqlite3_stmt *st = NULL;
  int err = prepare(r, &st, "SELECT stack, role, depth, function, line, file, in_driver, module "
                            "FROM frames WHERE signature = ? ORDER BY stack, depth");
  if (err)
    return err;
  sqlite3_bind_text(st, 1, sig, -1, SQLITE_TRANSIENT);
  int last = -1;
  while (sqlite3_step(st) == SQLITE_ROW) {
    int stack = sqlite3_column_int(st, 0);
    if (last < 0)
      fputs("<h2>Stacks</h2>\n<div id=\"stacks\">\n", out);
    if (stack != last) {
      fputs(last >= 0 ? "</ol>\n<h3>" : "<h3>", out);
      E(out, col(st, 1));
      fputs("</h3>\n<ol class=\"stack\">\n", out);
      last = stack;
    }
    stack_frame(out, st);
  }
  if (last >= 0)
    fputs("</ol>\n</div>\n", out);
  sqlite3_finalize(st);
  return 0;
}

static int write_finding(report *r, const lt_store_finding *f) {
  char name[64], title[128];
  int kind = lt_finding_kind_from_name(f->kind);
  if (!is_signature(f->signature))
    return 0;
  snprintf(name, sizeof name, "findings/%s.html", f->signature);
  snprintf(title, sizeof title, "%.31s %s", f->kind, f->signature);
  FILE *out = open_out(r, name);
  if (out == NULL)
    return LT_EIO;
  head(out, title, "../");
  fputs("<p><a href=\"../index.html\">← all findings</a></p>\n<h1>", out);
  E(out, title);
  fputs("</h1>\n<p>", out);
  E(out, lt__kind_summary(kind));
  fputs(" ", out);
  E(out, lt__kind_help(kind));
  fputs("</p>\n", out);
  finding_facts(out, f);
  int err = finding_stacks(r, out, f->signature);
  if (err == 0)
    err = finding_chart(r, out, f->signature);
  fputs("<h2>Reproduce</h2>\n", out);
  if (f->repro_command) {
    fputs("<pre id=\"repro\">", out);
    E(out, f->repro_command);
    fputs("</pre>\n", out);
  }
  fputs("<p>Reproducer: <code>", out);
  E(out, f->repro_path ? f->repro_path : "none recorded");
  fprintf(out, "</code>%s", f->repro_size >= 0 ? "" : "</p>\n");
  if (f->repro_size >= 0)
    fprintf(out, " (%lld bytes)</p>\n", (long long)f->repro_size);
  if (err == 0)
    err = occurrences_table(r, out, f->signature);
  fputs("</body></html>\n", out);
  int cerr = close_out(r, out, name);
  return err ? err : cerr;
}

static int make_dirs(report *r) {
  char path[4096];
  char repro[4096];
  snprintf(path, sizeof path, "%s/findings", r->dir);
  snprintf(repro, sizeof repro, "%s/repro", r->dir);
  if ((mkdir(r->dir, 0777) && errno != EEXIST) || (mkdir(path, 0777) && errno != EEXIST) ||
      (mkdir(repro, 0777) && errno != EEXIST)) {
    snprintf(r->msg, r->msglen, "%s: %s", path, strerror(errno));
    return LT_EIO;
  }
  return 0;
}

/* Writes the HTML report of every finding in the store into outdir (index,
 * one page per finding, the Markdown summary); see lifetrace/report.h. */
int lt__report_write(lt_store *s, const char *outdir, const lt_report_opts *o, char *msg,
                     size_t msglen) {
  report r = {s, lt__store_db(s), o, outdir, msg, msglen};
  lt_store_finding *v = NULL;
  size_t n = 0;
  int err = make_dirs(&r);
  if (err == 0 && (err = lt_store_findings(s, -1, &v, &n)))
    snprintf(msg, msglen, "%s", lt_store_errmsg(s));
  if (err == 0)
    err = write_index(&r, v, n);
  for (size_t i = 0; err == 0 && i < n; i++)
    err = write_finding(&r, &v[i]);
  if (err == 0) {
    FILE *md = open_out(&r, "summary.md");
    err = md ? lt__report_markdown(s, md, o) : LT_EIO;
    if (md && close_out(&r, md, "summary.md"))
      err = LT_EIO;
  }
  lt_store_findings_free(v, n);
  return err;
}
