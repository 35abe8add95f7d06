/* Triage: traces in memory, writing them back, and judging one replay the
 * way the fuzz target does (see triage.h). */
#include <string.h>

#include "lifetrace/replay_file.h"
#include "lifetrace/triage.h"

/* Frees a loaded trace's events and header and leaves it empty. */
void lt__tri_trace_reset(lt__tri_trace *t) {
  for (size_t i = 0; i < t->n; i++)
    lt_event_free(t->ev[i]);
  lt_free(t->ev);
  lt_header_free(t->header);
  memset(t, 0, sizeof *t);
}

static int append(lt__tri_trace *t, const lt_event *ev) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    lt_event **nv = lt_realloc(t->ev, cap * sizeof *nv);
    if (nv == NULL)
      return LT_ENOMEM;
    t->ev = nv;
    t->cap = cap;
  }
  if ((t->ev[t->n] = lt_event_copy(ev)) == NULL)
    return LT_ENOMEM;
  t->n++;
  return 0;
}

/* Reads a whole trace into memory for triage; see lifetrace/triage.h. */
int lt__tri_load(const char *path, lt__tri_trace *t, lt_diag *diag) {
  lt_reader *rd = NULL;
  const lt_event *ev;
  int err;
  memset(t, 0, sizeof *t);
  if ((err = lt_reader_open(&rd, path, 0, diag)) != 0)
    return err;
  if ((t->header = lt_header_copy(lt_reader_header(rd))) == NULL)
    err = LT_ENOMEM;
  while (err == 0 && (err = lt_reader_next(rd, &ev, diag)) == 0)
    err = append(t, ev);
  lt_reader_free(rd);
  if (err == LT_EEOF)
    return 0;
  lt__tri_trace_reset(t);
  return err;
}

/* Writes t in the form its name asks for; see lifetrace/triage.h. */
int lt__tri_write(const char *path, const lt__tri_trace *t) {
  lt_writer *w = NULL;
  int err = lt_writer_open(&w, path, LT_FORMAT_AUTO, t->header);
  for (size_t i = 0; err == 0 && i < t->n; i++)
    err = lt_writer_put(w, t->ev[i]);
  if (w) {
    int cerr = lt_writer_close(w);
    if (err == 0)
      err = cerr;
  }
  return err;
}

/* A crash as the fuzz target counts one (lt_finding_is_crash). */
int lt__tri_counts(const lt__tri_ctx *c, const lt_finding *f) {
  return lt_finding_is_crash(f, c->policy, c->gpu);
}

/* One replay, in the ordinary pool or (special) in the special pool. */
static int replay_once(lt__tri_ctx *c, const lt__tri_trace *t, const size_t *keep, size_t nkeep,
                       uint64_t target, lt__tri_verdict *v, lt_findings *fs, int special) {
  lt_replay_opts o = {c->policy, c->mp, fs ? 0 : 256, NULL, NULL, special, 0};
  lt_replay *r = NULL;
  memset(v, 0, sizeof *v);
  c->replays++;
  int err = lt_replay_trace(&r, t->header, t->ev, keep, keep ? nkeep : t->n, &o);
  if (r == NULL)
    return err;
  const lt_findings *all = lt_replay_findings(r);
  for (size_t i = 0; i < all->n; i++) {
    const lt_finding *f = &all->items[i];
    if (!lt__tri_counts(c, f))
      continue;
    if (!v->crashed) {
      v->crashed = 1;
      v->first = *f;
    }
    v->has_target |= target != 0 && f->signature == target;
  }
  for (size_t i = 0; fs && err == 0 && i < all->n; i++)
    err = lt_findings_add(fs, &all->items[i]);
  lt_replay_free(r);
  return err;
}

/* In a campaign run with the special pool every replay uses it. Otherwise a
 * crash that the ordinary pool does not reproduce is replayed again in the
 * special pool: a read of freed pool memory, which the ASan fuzz build
 * reports (quarantine poisoning) but a Release triage build would not see,
 * then faults and is signed as miniport-use-after-free. */
int lt__tri_replay(lt__tri_ctx *c, const lt__tri_trace *t, const size_t *keep, size_t nkeep,
                   uint64_t target, lt__tri_verdict *v, lt_findings *fs) {
  if (c->special) /* the campaign fuzzed in the special pool: sign as it did */
    return replay_once(c, t, keep, nkeep, target, v, fs, 1);
  int err = replay_once(c, t, keep, nkeep, target, v, fs, 0);
  if (err || v->crashed)
    return err;
  if (fs) { /* keep only the second replay's findings */
    lt_findings_reset(fs);
    lt_findings_init(fs, 0);
  }
  return replay_once(c, t, keep, nkeep, target, v, fs, 1);
}
