/* Triage: recording a triaged campaign in the results database, and the
 * Markdown and JSON summaries (see triage_run.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifetrace/triage_run.h"

/* ---- stats samples ------------------------------------------------------------------ */

/* One CSV line "t_ms,execs,exec_per_sec,corpus,coverage,features,rss_mb,crashes,timeouts". */
static int parse_stats(const char *line, lt_store_stats *st) {
  long long t;
  unsigned long long execs, corpus, cov, feat, crashes, timeouts;
  double eps, rss;
  if (sscanf(line, "%lld,%llu,%lf,%llu,%llu,%llu,%lf,%llu,%llu", &t, &execs, &eps, &corpus, &cov,
             &feat, &rss, &crashes, &timeouts) != 9)
    return -1;
  *st = (lt_store_stats){t, execs, eps, corpus, cov, feat, rss, crashes, timeouts};
  return 0;
}

static int record_stats(lt_store *s, int64_t run, const char *csv) {
  char line[512];
  lt_store_stats st;
  FILE *f = fopen(csv, "r");
  int err = 0;
  if (f == NULL)
    return 0; /* no samples (the campaign was too short) */
  while (err == 0 && fgets(line, sizeof line, f))
    if (parse_stats(line, &st) == 0 && st.t > 0)
      err = lt_store_add_stats(s, run, &st);
  fclose(f);
  return err;
}

/* ---- traces ------------------------------------------------------------------------ */

/* Keeps the one finding the crash stands for: the counted error with
 * signature want (a reproducer's group; it may follow another error in a
 * minimized trace), else the first counted error (what the fuzz target
 * aborted on). The errors after it are its consequences and are not
 * findings of their own; in kernel policy the GPU layer's reports of the
 * trace's own false AssumeNotInUse promises are not counted at all. */
static int keep_counted(const lt__triage *tr, const lt_findings *all, uint64_t want,
                        lt_findings *kept) {
  const lt_finding *pick = NULL;
  for (size_t i = 0; i < all->n; i++) {
    const lt_finding *f = &all->items[i];
    if (!lt__tri_counts(&tr->ctx, f))
      continue;
    if (pick == NULL || (want != 0 && f->signature == want && pick->signature != want))
      pick = f;
  }
  return pick ? lt_findings_add(kept, pick) : 0;
}

/* Replays a file with a bug set (cand) and records it with the finding it
 * stands for (see keep_counted; want 0 = its first); an unreadable file is
 * recorded with its diagnostic. */
static int record_trace(lt__triage *tr, lt_store *s, int64_t run, const char *path, int cand,
                        uint64_t want, const char *command) {
  lt__tri_trace t;
  lt__tri_verdict v;
  lt_findings all, kept;
  lt_diag d;
  lt_store_trace st;
  int err = 0;
  memset(&d, 0, sizeof d);
  memset(&st, 0, sizeof st);
  lt_findings_init(&all, 0);
  lt_findings_init(&kept, 0);
  st.path = path;
  st.repro_command = command;
  if (lt__tri_load(path, &t, &d) == 0) {
    if ((err = lt__tri_use_bugs(tr, cand)) == 0 &&
        (err = lt__tri_replay(&tr->ctx, &t, NULL, 0, 0, &v, &all)) == 0)
      err = keep_counted(tr, &all, want, &kept);
    st.n_events = t.n;
    st.verdict = lt_verdict_of(&kept);
    lt__tri_trace_reset(&t);
  } else {
    st.verdict = LT_VERDICT_UNREADABLE;
    st.diag = "does not decode as a lifetrace trace";
  }
  if (err == 0)
    err = lt_store_add_trace_ex(s, run, &st, &kept, NULL);
  lt_findings_reset(&all);
  lt_findings_reset(&kept);
  return err;
}

static size_t count_before(const lt__triage *tr, size_t idx) {
  size_t n = 0;
  for (size_t i = 0; i < idx; i++)
    n += tr->files.v[i].reproduced == tr->files.v[idx].reproduced &&
         tr->files.v[i].sig == tr->files.v[idx].sig;
  return n;
}

/* The paths of a "recorded" list, as one buffer of NUL-separated lines. */
static char *read_recorded(const char *path, size_t *len) {
  FILE *f = path ? fopen(path, "r") : NULL;
  char *buf = NULL;
  *len = 0;
  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    rewind(f);
    if (n > 0 && (buf = lt_malloc((size_t)n + 1)) != NULL) {
      *len = fread(buf, 1, (size_t)n, f);
      buf[*len] = 0;
      for (size_t i = 0; i < *len; i++)
        if (buf[i] == '\n')
          buf[i] = 0;
    }
  }
  fclose(f);
  return buf;
}

static int listed(const char *buf, size_t len, const char *path) {
  for (size_t i = 0; buf && i < len; i += strlen(buf + i) + 1)
    if (!strcmp(buf + i, path))
      return 1;
  return 0;
}

static int record_crashes(lt__triage *tr, lt_store *s, int64_t run, const lt__tri_record_opts *o) {
  size_t max = o->max_per_sig ? o->max_per_sig : 50, len;
  char *done = read_recorded(o->recorded, &len);
  FILE *log = o->recorded ? fopen(o->recorded, "a") : NULL;
  int err = 0;
  for (size_t i = 0; i < tr->files.n && err == 0; i++) {
    lt__tri_crash *c = &tr->files.v[i];
    if (c->hang || count_before(tr, i) >= max || listed(done, len, c->path))
      continue;
    char *cmd = lt__tri_command(tr, -1, c->path);
    err = record_trace(tr, s, run, c->path, -1, 0, cmd);
    c->recorded = err == 0;
    lt_free(cmd);
    if (err == 0 && log)
      fprintf(log, "%s\n", c->path);
  }
  if (log)
    fclose(log);
  lt_free(done);
  return err;
}

/* The reproducer of each signature: the confirmed one with fewest events. */
/* A resumed campaign's triage makes the same reproducers again: those an
 * earlier session recorded (listed in the "recorded" file) are not recorded
 * again, so their findings are not counted twice. */
static int record_repros(lt__triage *tr, lt_store *s, int64_t run, const lt__tri_record_opts *o) {
  size_t len;
  char *done = read_recorded(o->recorded, &len);
  FILE *log = o->recorded ? fopen(o->recorded, "a") : NULL;
  int err = 0;
  for (size_t i = 0; i < tr->ngroups && err == 0; i++) {
    const char *repro = tr->groups[i].repro;
    if (!repro || listed(done, len, repro))
      continue;
    err = record_trace(tr, s, run, repro, tr->groups[i].cand, tr->groups[i].sig,
                       tr->groups[i].command);
    if (err == 0 && log)
      fprintf(log, "%s\n", repro);
  }
  if (log)
    fclose(log);
  lt_free(done);
  for (size_t i = 0; i < tr->ngroups && err == 0; i++) {
    const lt__tri_group *g = &tr->groups[i], *best = g;
    int first = 1;
    for (size_t j = 0; j < tr->ngroups; j++) {
      const lt__tri_group *h = &tr->groups[j];
      if (h->sig != g->sig || !h->repro)
        continue;
      first &= j >= i;
      if (!best->repro || h->confirmed > best->confirmed ||
          (h->confirmed == best->confirmed && h->repro_events < best->repro_events))
        best = h;
    }
    if (!first || !best->repro)
      continue;
    char hex[17];
    lt_signature_hex(g->sig, hex);
    err = lt_store_set_reproducer(s, hex, best->repro, best->command);
    err = err == LT_ENOENT ? 0 : err; /* a finding the replay did not keep */
  }
  return err;
}

/* Records a triage (or a fuzz run's triage) in the results database: the
 * run, its stats, the crash files and the reproducers; see
 * lifetrace/triage_run.h. */
int lt__tri_record(lt__triage *tr, const lt__tri_record_opts *o, int exit_code, char *msg,
                   size_t msglen) {
  lt_store *s = NULL;
  lt_store_run_info ri;
  int64_t run;
  int err = lt_store_open(&s, o->db, msg, msglen);
  if (err)
    return err;
  memset(&ri, 0, sizeof ri);
  ri.kind = o->engine ? LT_RUN_FUZZ : LT_RUN_TRIAGE;
  ri.uuid = o->uuid;
  ri.command = o->command;
  ri.driver = tr->driver ? tr->driver : (tr->mp->Name ? tr->mp->Name : "reference");
  ri.policy = lt_policy_name(tr->ctx.policy);
  ri.engine = o->engine;
  ri.started_at = o->started_at;
  ri.driver_sha256 = o->driver_sha256;
  ri.driver_version = o->driver_version;
  if ((err = lt_store_run_begin(s, &ri, &run)) == 0 && o->stats_csv)
    err = record_stats(s, run, o->stats_csv);
  if (err == 0)
    err = record_crashes(tr, s, run, o);
  if (err == 0)
    err = record_repros(tr, s, run, o);
  int herr = 0;
  if (err == 0 && o->hits_dir && (herr = lt__tri_hits_load(tr, o->hits_dir)) == 0)
    herr = lt__tri_hits_record(tr, s, run, o->hits_dir);
  if (herr == LT_EIO)
    snprintf(msg, msglen, "%s: cannot read or update the crash counts", o->hits_dir);
  err = err ? err : herr;
  if (err == 0)
    err = lt_store_run_end(s, run, exit_code);
  if (err && herr != LT_EIO)
    snprintf(msg, msglen, "%s: %s", o->db, lt_store_errmsg(s));
  int rerr = lt__tri_use_bugs(tr, -1);
  lt_store_close(s);
  return err ? err : rerr;
}

/* ---- summaries ----------------------------------------------------------------------- */

static void counts(const lt__triage *tr, size_t *hang, size_t *unreadable, size_t *none) {
  *hang = *unreadable = *none = 0;
  for (size_t i = 0; i < tr->files.n; i++) {
    const lt__tri_crash *c = &tr->files.v[i];
    *hang += c->hang;
    *unreadable += c->unreadable;
    *none += !c->hang && !c->unreadable && !c->reproduced;
  }
}

static int cand_found(const lt__triage *tr, size_t j) {
  for (size_t i = 0; i < tr->ngroups; i++)
    if (tr->groups[i].cand == (int)j)
      return 1;
  return 0;
}

static void bugs_line(const lt__triage *tr, FILE *out) {
  size_t found = 0;
  if (tr->ncand == 0)
    return;
  for (size_t j = 0; j < tr->ncand; j++)
    found += cand_found(tr, j);
  fprintf(out, "\nSeeded bugs found: %zu of %zu (", found, tr->ncand);
  for (size_t j = 0, k = 0; j < tr->ncand; j++)
    if (cand_found(tr, j))
      fprintf(out, "%s%s", k++ ? ", " : "", tr->cand[j]);
  fputs(")", out);
  if (found < tr->ncand) {
    fputs("; not found: ", out);
    for (size_t j = 0, k = 0; j < tr->ncand; j++)
      if (!cand_found(tr, j))
        fprintf(out, "%s%s", k++ ? ", " : "", tr->cand[j]);
  }
  fputs("\n", out);
}

/* The crash counts of the signature folder: every crashing input, also
 * those the workers did not keep as files. */
static void hits_md(const lt__triage *tr, FILE *out) {
  if (tr->nhits == 0)
    return;
  fputs("\nCrashing inputs counted by the workers, by signature (only the first few are kept as "
        "files):", out);
  for (size_t i = 0; i < tr->nhits; i++) {
    char hex[17];
    lt_signature_hex(tr->hits[i].sig, hex);
    fprintf(out, "%s `%s` %" PRIu64, i ? "," : "", hex, tr->hits[i].hits);
  }
  fputs(".\n", out);
}

/* The "then also" note under the table: per group, the driver errors its
 * crashes showed after the first, with how many crashes showed each. One
 * that is a group's signature too is a row of the table already: it is only
 * counted here (triage.json lists it, own_group true). */
static void follow_md(const lt__triage *tr, FILE *out) {
  int any = 0;
  for (size_t i = 0; i < tr->ngroups; i++) {
    const lt__tri_group *g = &tr->groups[i];
    size_t listed = 0, rows = 0;
    char hex[17];
    for (size_t k = 0; k < g->nfollow; k++) {
      const lt__tri_follow *x = &g->follow[k];
      if (lt__tri_is_group_sig(tr, x->sig)) {
        rows++;
        continue;
      }
      if (!any++)
        fputs("\nThen also (driver errors the same replays showed after the first: its consequences, "
              "not bugs of their own):\n", out);
      if (!listed++) {
        lt_signature_hex(g->sig, hex);
        fprintf(out, "- after `%s`", hex);
        if (g->cand >= 0)
          fprintf(out, " (bug %s)", tr->cand[g->cand]);
      }
      lt_signature_hex(x->sig, hex);
      fprintf(out, "%s %s `%s`%s%s (%zu crash%s)", listed > 1 ? "," : ":",
              lt_finding_kind_name(x->kind), hex, x->site[0] ? " " : "", x->site, x->crashes,
              x->crashes == 1 ? "" : "es");
    }
    if (listed && rows)
      fprintf(out, "; %zu more that %s a row above", rows, rows == 1 ? "is" : "are");
    if (listed && g->follow_more)
      fprintf(out, "; %zu more sighting(s) not listed", g->follow_more);
    if (listed)
      fputs("\n", out);
  }
}

/* Writes the triage's Markdown summary, one table row per reproducer group;
 * see lifetrace/triage_run.h. */
void lt__tri_summary_md(const lt__triage *tr, FILE *out) {
  size_t hang, unreadable, none, sigs = 0;
  counts(tr, &hang, &unreadable, &none);
  for (size_t i = 0; i < tr->ngroups; i++) {
    int seen = 0;
    for (size_t j = 0; j < i; j++)
      seen |= tr->groups[j].sig == tr->groups[i].sig;
    sigs += !seen;
  }
  fprintf(out, "## lifetrace triage: %zu crash file(s), %zu signature(s), %zu reproducer(s)\n\n",
          tr->files.n, sigs, tr->ngroups);
  if (tr->ngroups) {
    fprintf(out, "| seeded bug | finding | signature | where | crashes | reproducer | events | "
                 "confirmed |\n|---|---|---|---|---|---|---|---|\n");
  }
  for (size_t i = 0; i < tr->ngroups; i++) {
    const lt__tri_group *g = &tr->groups[i];
    char hex[17];
    lt_signature_hex(g->sig, hex);
    fprintf(out, "| %s | %s | `%s` | %s%s%s | %zu | `%s` | %zu%s | %s |\n",
            g->cand >= 0 ? tr->cand[g->cand] : (tr->ncand ? "(several)" : "-"),
            lt_finding_kind_name(g->first.kind), hex, g->first.ddi,
            g->first.site[0] ? " " : "", g->first.site, g->crashes,
            g->repro ? g->repro : "(none)", g->repro_events, g->min_gave_up ? "+" : "",
            g->confirmed ? "yes" : "NO");
  }
  follow_md(tr, out);
  bugs_line(tr, out);
  hits_md(tr, out);
  if (hang || unreadable || none)
    fprintf(out, "\nNot triaged: %zu hang/timeout file(s), %zu undecodable, %zu without an "
                 "error finding on replay.\n", hang, unreadable, none);
  if (tr->ngroups)
    fprintf(out, "\nConfirm a reproducer: `%s`\n", tr->groups[0].command ? tr->groups[0].command : "");
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  fputc('"', f);
}

static void json_group(const lt__triage *tr, const lt__tri_group *g, FILE *f) {
  char hex[17];
  lt_signature_hex(g->sig, hex);
  fprintf(f, "{\"signature\": \"%s\", \"kind\": ", hex);
  json_str(f, lt_finding_kind_name(g->first.kind));
  fprintf(f, ", \"layer\": \"%s\", \"ddi\": ", lt_layer_name(g->first.layer));
  json_str(f, g->first.ddi);
  fputs(", \"site\": ", f);
  json_str(f, g->first.site);
  fputs(", \"bug\": ", f);
  json_str(f, g->cand >= 0 ? tr->cand[g->cand] : "");
  fprintf(f, ", \"crashes\": %zu, \"smallest_crash\": ", g->crashes);
  json_str(f, g->best >= 0 ? tr->files.v[g->best].path : "");
  fputs(", \"reproducer\": ", f);
  json_str(f, g->repro);
  fprintf(f, ", \"events\": %zu, \"minimal\": %s, \"confirmed\": %s, \"command\": ",
          g->repro_events, g->min_gave_up ? "false" : "true", g->confirmed ? "true" : "false");
  json_str(f, g->command);
  fputs(", \"follow_ons\": [", f);
  for (size_t k = 0; k < g->nfollow; k++) {
    const lt__tri_follow *x = &g->follow[k];
    lt_signature_hex(x->sig, hex);
    fprintf(f, "%s{\"signature\": \"%s\", \"kind\": ", k ? ", " : "", hex);
    json_str(f, lt_finding_kind_name(x->kind));
    fputs(", \"site\": ", f);
    json_str(f, x->site);
    fprintf(f, ", \"crashes\": %zu, \"own_group\": %s}", x->crashes,
            lt__tri_is_group_sig(tr, x->sig) ? "true" : "false");
  }
  fprintf(f, "], \"follow_ons_unlisted\": %zu}", g->follow_more);
}

/* Writes the triage's JSON summary to path; LT_EIO when it cannot be
 * written. See lifetrace/triage_run.h. */
int lt__tri_summary_json(const lt__triage *tr, const char *path) {
  size_t hang, unreadable, none;
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return LT_EIO;
  counts(tr, &hang, &unreadable, &none);
  fprintf(f, "{\"crash_files\": %zu, \"hangs\": %zu, \"unreadable\": %zu, \"not_reproduced\": %zu,\n",
          tr->files.n, hang, unreadable, none);
  fputs(" \"bugs\": {\"candidates\": [", f);
  for (size_t j = 0; j < tr->ncand; j++) {
    fputs(j ? ", " : "", f);
    json_str(f, tr->cand[j]);
  }
  fputs("], \"found\": [", f);
  for (size_t j = 0, k = 0; j < tr->ncand; j++)
    if (cand_found(tr, j)) {
      fputs(k++ ? ", " : "", f);
      json_str(f, tr->cand[j]);
    }
  fputs("]},\n \"hits\": {", f);
  for (size_t i = 0; i < tr->nhits; i++) {
    char hex[17];
    lt_signature_hex(tr->hits[i].sig, hex);
    fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", hex, tr->hits[i].hits);
  }
  fputs("},\n \"groups\": [", f);
  for (size_t i = 0; i < tr->ngroups; i++) {
    fputs(i ? ",\n  " : "\n  ", f);
    json_group(tr, &tr->groups[i], f);
  }
  fputs("]}\n", f);
  return fclose(f) ? LT_EIO : 0;
}
