/* Triage of crash folders (what `lifetrace triage` and fuzz.sh run): collect
 * the crash files of either engine, replay each, sign it with its first
 * driver error finding, attribute it to the seeded bug(s) that cause it,
 * group by (signature, bug) with the errors a replay shows after its first
 * listed as the group's follow-ons (never groups of their own), minimize one reproducer per group and confirm
 * it by a replay from disk. Recording and reporting are in
 * triage_record.c. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lifetrace/triage_run.h"

/* ---- collecting files ------------------------------------------------------------ */

static lt__tri_files *walk_into; /* nftw has no user pointer */

static int add_file(lt__tri_files *fl, const char *path, off_t size, int hang) {
  if (fl->n == fl->cap) {
    size_t cap = fl->cap ? 2 * fl->cap : 256;
    lt__tri_crash *nv = lt_realloc(fl->v, cap * sizeof *nv);
    if (nv == NULL)
      return LT_ENOMEM;
    fl->v = nv;
    fl->cap = cap;
  }
  lt__tri_crash *c = &fl->v[fl->n];
  memset(c, 0, sizeof *c);
  if ((c->path = lt_strdup(path)) == NULL)
    return LT_ENOMEM;
  c->size = (uint64_t)size;
  c->hang = hang;
  fl->n++;
  return 0;
}

/* libFuzzer artifacts (crash-, leak-, oom-, timeout-<sha1>) and AFL++'s
 * crashes/id:... and hangs/id:... files. */
static int classify(const char *path, int *hang) {
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  size_t plen = (size_t)(base - path);
  *hang = 0;
  if (!strncmp(base, "crash-", 6) || !strncmp(base, "leak-", 5) || !strncmp(base, "oom-", 4))
    return 1;
  if (!strncmp(base, "timeout-", 8))
    return *hang = 1;
  if (strncmp(base, "id:", 3) != 0 || plen < 2)
    return 0;
  if (plen >= 8 && !strncmp(base - 8, "crashes/", 8))
    return 1;
  if (plen >= 6 && !strncmp(base - 6, "hangs/", 6))
    return *hang = 1;
  return 0;
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  int hang;
  (void)ftw;
  if (type != FTW_F || !classify(path, &hang))
    return 0;
  return add_file(walk_into, path, st->st_size, hang) ? 1 : 0;
}

static int cmp_crash(const void *a, const void *b) {
  const lt__tri_crash *x = a, *y = b;
  if (x->size != y->size)
    return x->size < y->size ? -1 : 1;
  return strcmp(x->path, y->path);
}

/* Adds the crash files named by paths (directories searched for fuzzer
 * artifacts); see lifetrace/triage_run.h. */
int lt__tri_collect(lt__tri_files *fl, char *const *paths, size_t npaths) {
  for (size_t i = 0; i < npaths; i++) {
    struct stat st;
    int hang = 0;
    if (stat(paths[i], &st) != 0)
      return LT_ENOENT;
    if (S_ISDIR(st.st_mode)) {
      walk_into = fl;
      if (nftw(paths[i], walk_one, 16, FTW_PHYS) != 0)
        return LT_ENOMEM;
    } else {
      (void)classify(paths[i], &hang);
      if (add_file(fl, paths[i], st.st_size, hang))
        return LT_ENOMEM;
    }
  }
  if (fl->n)
    qsort(fl->v, fl->n, sizeof *fl->v, cmp_crash);
  return 0;
}

/* Frees a crash-file list and leaves it empty. */
void lt__tri_files_reset(lt__tri_files *fl) {
  for (size_t i = 0; i < fl->n; i++)
    lt_free(fl->v[i].path);
  lt_free(fl->v);
  memset(fl, 0, sizeof *fl);
}

/* ---- seeded bugs ------------------------------------------------------------------ */

/* The candidates of a bug list: its tokens, with "all" expanded to every
 * number the driver accepts. */
int lt__tri_candidates(lt__triage *tr) {
  char err[256];
  tr->ncand = 0;
  if (tr->bugs == NULL || tr->mp->LtSetOption == NULL)
    return 0;
  tr->ncand = lt_miniport_bug_candidates(tr->mp, tr->bugs, tr->cand, LT_TRI_MAX_CAND);
  return lt_miniport_set_bugs(tr->mp, tr->bugs, err, sizeof err);
}

/* Switches the driver's seeded bugs to candidate cand, or the whole set for
 * -1; a driver without seeded bugs is left alone. See
 * lifetrace/triage_run.h. */
int lt__tri_use_bugs(lt__triage *tr, int cand) {
  char err[256];
  const char *list = cand < 0 ? tr->bugs : tr->cand[cand];
  if (list == NULL || tr->mp->LtSetOption == NULL)
    return 0;
  return lt_miniport_set_bugs(tr->mp, list, err, sizeof err);
}

/* ---- replaying and grouping -------------------------------------------------------- */

static lt__tri_group *group_for(lt__triage *tr, uint64_t sig, int cand, const lt_finding *f) {
  for (size_t i = 0; i < tr->ngroups; i++)
    if (tr->groups[i].sig == sig && tr->groups[i].cand == cand)
      return &tr->groups[i];
  if (tr->ngroups == tr->capgroups) {
    size_t cap = tr->capgroups ? 2 * tr->capgroups : 16;
    lt__tri_group *nv = lt_realloc(tr->groups, cap * sizeof *nv);
    if (nv == NULL)
      return NULL;
    tr->groups = nv;
    tr->capgroups = cap;
  }
  lt__tri_group *g = &tr->groups[tr->ngroups++];
  memset(g, 0, sizeof *g);
  g->sig = sig;
  g->cand = cand;
  g->first = *f;
  g->best = -1;
  return g;
}

static lt__tri_group *join(lt__triage *tr, size_t idx, int cand, const lt_finding *f) {
  lt__tri_group *g = group_for(tr, f->signature, cand, f);
  if (g != NULL && g->crashes++ == 0)
    g->best = (long)idx; /* files are sorted: the first is the smallest */
  return g;
}

/* Whether sig is a group's signature; see triage_run.h. */
int lt__tri_is_group_sig(const lt__triage *tr, uint64_t sig) {
  for (size_t i = 0; i < tr->ngroups; i++)
    if (tr->groups[i].sig == sig)
      return 1;
  return 0;
}

/* The slot for a new follow-on of g: a free one, else (for one that is no
 * group's signature) one holding a group's signature, which the table shows
 * anyway; NULL when the list is full of consequences. */
static lt__tri_follow *follow_slot(const lt__triage *tr, lt__tri_group *g, uint64_t sig) {
  if (g->nfollow < LT_TRI_MAX_FOLLOW)
    return &g->follow[g->nfollow++];
  for (size_t i = 0; i < g->nfollow && !lt__tri_is_group_sig(tr, sig); i++)
    if (lt__tri_is_group_sig(tr, g->follow[i].sig)) {
      g->follow_more += g->follow[i].crashes;
      return &g->follow[i];
    }
  return NULL;
}

/* Counts one crash (idx) that showed follow-on error f under group g. */
static void note_follow(const lt__triage *tr, lt__tri_group *g, size_t idx, const lt_finding *f) {
  for (size_t i = 0; i < g->nfollow; i++) {
    lt__tri_follow *x = &g->follow[i];
    if (x->sig != f->signature)
      continue;
    if (x->last != (long)idx) {
      x->crashes++;
      x->last = (long)idx;
    }
    return;
  }
  lt__tri_follow *x = follow_slot(tr, g, f->signature);
  if (x == NULL) {
    g->follow_more++;
    return;
  }
  memset(x, 0, sizeof *x);
  x->sig = f->signature;
  x->kind = f->kind;
  snprintf(x->site, sizeof x->site, "%s", f->site);
  x->crashes = 1;
  x->last = (long)idx;
}

/* Lists under group g the driver errors a replay (fs) of crash idx showed
 * after its first: the first names the bug, the rest are its consequences
 * (a leaked object's private data, a double free after a bad status). */
static void follow_ons(const lt__triage *tr, lt__tri_group *g, size_t idx, const lt_findings *fs) {
  int first = 1;
  for (size_t i = 0; i < fs->n; i++) {
    const lt_finding *f = &fs->items[i];
    if (!lt__tri_counts(&tr->ctx, f))
      continue;
    if (!first && f->signature != g->sig)
      note_follow(tr, g, idx, f);
    first = 0;
  }
}

/* Explains a crash by the seeded bugs: each bug that crashes the input on
 * its own joins the group of (the signature it shows, that bug), with the
 * errors that replay shows after its first as follow-ons. A bug the whole
 * set masks (another bug's finding comes first at the same event) is found
 * this way too. When no single bug does it, the crash joins (its signature,
 * whole set). The whole set's follow-ons (whole) go to the groups of the
 * crash's own signature. */
static int attribute(lt__triage *tr, const lt__tri_trace *t, size_t idx, const lt_findings *whole) {
  lt__tri_crash *c = &tr->files.v[idx];
  lt__tri_verdict v;
  lt_findings fs;
  int err = 0;
  for (size_t j = 0; j < tr->ncand && err == 0; j++) {
    lt_findings_init(&fs, 0);
    if (tr->ncand == 1) {
      v.crashed = 1;
      v.first = c->first;
    } else if ((err = lt__tri_use_bugs(tr, (int)j)) != 0 ||
               (err = lt__tri_replay(&tr->ctx, t, NULL, 0, 0, &v, &fs)) != 0) {
      lt_findings_reset(&fs);
      break;
    }
    if (v.crashed) {
      lt__tri_group *g = join(tr, idx, (int)j, &v.first);
      c->mask |= 1u << j;
      if (g == NULL)
        err = LT_ENOMEM;
      else if (tr->ncand > 1)
        follow_ons(tr, g, idx, &fs);
      if (g != NULL && g->sig == c->sig)
        follow_ons(tr, g, idx, whole);
    }
    lt_findings_reset(&fs);
  }
  int rerr = lt__tri_use_bugs(tr, -1);
  if (err == 0 && rerr == 0 && c->mask == 0) {
    lt__tri_group *g = join(tr, idx, -1, &c->first);
    if (g == NULL)
      err = LT_ENOMEM;
    else
      follow_ons(tr, g, idx, whole);
  }
  return err ? err : rerr;
}

/* Replays one crash file with the whole bug set and signs it with its first
 * counted error; the errors after it are follow-ons of its group(s), never
 * groups of their own. */
static int replay_crash(lt__triage *tr, size_t idx) {
  lt__tri_crash *c = &tr->files.v[idx];
  lt__tri_trace t;
  lt__tri_verdict v;
  lt_diag diag;
  int err;
  memset(&diag, 0, sizeof diag);
  if (c->hang)
    return 0;
  if (lt__tri_load(c->path, &t, &diag) != 0) {
    c->unreadable = 1;
    return 0;
  }
  c->events = t.n;
  lt_findings fs;
  lt_findings_init(&fs, 0);
  if ((err = lt__tri_replay(&tr->ctx, &t, NULL, 0, 0, &v, &fs)) == 0 && v.crashed) {
    c->reproduced = 1;
    c->first = v.first;
    c->sig = v.first.signature;
    if (tr->ncand) {
      err = attribute(tr, &t, idx, &fs);
    } else {
      lt__tri_group *g = join(tr, idx, -1, &c->first);
      if (g == NULL)
        err = LT_ENOMEM;
      else
        follow_ons(tr, g, idx, &fs);
    }
  }
  lt_findings_reset(&fs);
  lt__tri_trace_reset(&t);
  return err;
}

/* Replays every crash file with the whole bug set, signing and grouping
 * each, with progress on stderr for large sets; see lifetrace/triage_run.h. */
int lt__tri_replay_all(lt__triage *tr) {
  int err = lt__tri_use_bugs(tr, -1);
  for (size_t i = 0; i < tr->files.n && err == 0; i++) {
    err = replay_crash(tr, i);
    if (tr->progress && (i + 1) % 200 == 0)
      fprintf(stderr, "\r  triage: %zu of %zu crash files replayed", i + 1, tr->files.n);
  }
  if (tr->progress && tr->files.n >= 200)
    fputc('\n', stderr);
  return err;
}

/* ---- reproducers --------------------------------------------------------------------- */

/* The file name stem of a group's reproducer; see lifetrace/triage_run.h. */
void lt__tri_group_name(const lt__triage *tr, const lt__tri_group *g, char *buf, size_t len) {
  char hex[17];
  lt_signature_hex(g->sig, hex);
  if (g->cand >= 0)
    snprintf(buf, len, "%s-bug-%s", hex, tr->cand[g->cand]);
  else
    snprintf(buf, len, "%s", hex);
}

/* The command that confirms a reproducer. The caller frees it. */
char *lt__tri_command(const lt__triage *tr, int cand, const char *path) {
  lt_repro rp = {lt_policy_name(tr->ctx.policy), tr->driver, cand >= 0 ? tr->cand[cand] : tr->bugs,
                 tr->ctx.special, path};
  return lt_store_repro_command(&rp);
}

/* Minimizes the group's smallest crash with only its bug on, writes it and
 * confirms it by loading the written file and replaying it. */
static int make_repro(lt__triage *tr, lt__tri_group *g) {
  lt__tri_trace t;
  lt__tri_min_stats st;
  lt__tri_verdict v;
  lt_diag diag;
  char name[96], path[1024];
  int err;
  memset(&diag, 0, sizeof diag);
  memset(&st, 0, sizeof st);
  lt__tri_group_name(tr, g, name, sizeof name);
  snprintf(path, sizeof path, "%s/repro/%s.jsonl", tr->outdir, name);
  if ((err = lt__tri_use_bugs(tr, g->cand)) != 0)
    return err;
  if ((err = lt__tri_load(tr->files.v[g->best].path, &t, &diag)) != 0)
    return err;
  if (tr->minimize)
    err = lt__tri_minimize(&tr->ctx, &t, g->sig, tr->max_replays, &st);
  if (err == 0 || err == LT_ENOENT)
    err = lt__tri_write(path, &t);
  g->repro_events = t.n;
  g->min_gave_up = st.gave_up;
  lt__tri_trace_reset(&t);
  if (err)
    return err;
  if ((g->repro = lt_strdup(path)) == NULL || (g->command = lt__tri_command(tr, g->cand, path)) == NULL)
    return LT_ENOMEM;
  if (lt__tri_load(path, &t, &diag) == 0) {
    err = lt__tri_replay(&tr->ctx, &t, NULL, 0, g->sig, &v, NULL);
    g->confirmed = err == 0 && v.has_target;
    lt__tri_trace_reset(&t);
  }
  return err;
}

static int cmp_group(const void *a, const void *b) {
  const lt__tri_group *x = a, *y = b;
  unsigned cx = (unsigned)x->cand, cy = (unsigned)y->cand; /* -1 sorts last */
  if (cx != cy)
    return cx < cy ? -1 : 1;
  if (x->crashes != y->crashes)
    return x->crashes > y->crashes ? -1 : 1;
  return x->sig < y->sig ? -1 : x->sig > y->sig;
}

/* Adds src's follow-ons to dst (crash counts summed). */
static void merge_follow(lt__tri_group *dst, const lt__tri_group *src) {
  for (size_t i = 0; i < src->nfollow; i++) {
    const lt__tri_follow *x = &src->follow[i];
    size_t k = 0;
    while (k < dst->nfollow && dst->follow[k].sig != x->sig)
      k++;
    if (k < dst->nfollow)
      dst->follow[k].crashes += x->crashes;
    else if (dst->nfollow < LT_TRI_MAX_FOLLOW)
      dst->follow[dst->nfollow++] = *x;
    else
      dst->follow_more += x->crashes;
  }
  dst->follow_more += src->follow_more;
}

/* The first single-bug group with the signature of whole-set group i, or -1. */
static long covering(const lt__triage *tr, size_t i) {
  for (size_t j = 0; j < tr->ngroups && tr->groups[i].cand < 0; j++)
    if (tr->groups[j].cand >= 0 && tr->groups[j].sig == tr->groups[i].sig)
      return (long)j;
  return -1;
}

/* A whole-set group is redundant where a single bug explains the signature;
 * its follow-ons go to the first such group (merged before any group moves). */
static void drop_covered(lt__triage *tr) {
  size_t k = 0;
  for (size_t i = 0; i < tr->ngroups; i++) {
    long j = covering(tr, i);
    if (j >= 0)
      merge_follow(&tr->groups[j], &tr->groups[i]);
  }
  for (size_t i = 0; i < tr->ngroups; i++)
    if (covering(tr, i) < 0)
      tr->groups[k++] = tr->groups[i];
  tr->ngroups = k;
}

/* Drops groups another covers, then minimizes, writes and confirms one
 * reproducer per group under outdir/repro; a group whose file cannot be
 * written is reported on stderr. See lifetrace/triage_run.h. */
int lt__tri_make_repros(lt__triage *tr) {
  char dir[1024];
  int err = 0;
  drop_covered(tr);
  if (tr->ngroups)
    qsort(tr->groups, tr->ngroups, sizeof *tr->groups, cmp_group);
  snprintf(dir, sizeof dir, "%s/repro", tr->outdir);
  mkdir(tr->outdir, 0777);
  mkdir(dir, 0777);
  for (size_t i = 0; i < tr->ngroups && err == 0; i++) {
    err = make_repro(tr, &tr->groups[i]);
    if (err)
      fprintf(stderr, "lifetrace triage: %s: cannot write a reproducer: %s\n",
              tr->files.v[tr->groups[i].best].path, lt_strerror(err));
    err = err == LT_ENOMEM ? err : 0;
  }
  int rerr = lt__tri_use_bugs(tr, -1);
  return err ? err : rerr;
}

/* Frees the triage's groups, crash files and hit counts, keeping its
 * options. */
void lt__triage_reset(lt__triage *tr) {
  for (size_t i = 0; i < tr->ngroups; i++) {
    lt_free(tr->groups[i].repro);
    lt_free(tr->groups[i].command);
  }
  lt_free(tr->groups);
  tr->groups = NULL;
  tr->ngroups = tr->capgroups = 0;
  lt__tri_files_reset(&tr->files);
  lt_free(tr->hits);
  tr->hits = NULL;
  tr->nhits = 0;
}
