/* Triage: the event-level minimizer (see triage.h). Every candidate is judged
 * by a full replay from the start, so the result is exactly what
 * `lifetrace replay` will show. */
#include <protobuf-c/protobuf-c.h>
#include <string.h>

#include "lifetrace/triage.h"

struct min {
  lt__tri_ctx *c;
  lt__tri_trace *t;
  uint64_t sig, budget_end;
  lt__tri_min_stats *st;
  size_t *keep, *cand, nkeep;
};

/* Replays a selection; *ok = the signature is still there. */
static int test(struct min *m, const size_t *keep, size_t n, int *ok) {
  lt__tri_verdict v;
  *ok = 0;
  if (m->c->replays >= m->budget_end) {
    m->st->gave_up = 1;
    return 0;
  }
  int err = lt__tri_replay(m->c, m->t, keep, n, m->sig, &v, NULL);
  *ok = err == 0 && v.has_target;
  return err;
}

static int test_all(struct min *m, int *ok) { return test(m, NULL, 0, ok); }

/* ddmin over the selected events, testing complements; ends 1-minimal
 * (every single event was tried for removal) unless the budget ran out. */
static int ddmin(struct min *m) {
  size_t gran = 2;
  int err = 0;
  while (m->nkeep >= 2 && !m->st->gave_up) {
    size_t chunk = (m->nkeep + gran - 1) / gran;
    int reduced = 0;
    for (size_t start = 0; start < m->nkeep && !reduced && !m->st->gave_up; start += chunk) {
      size_t k = 0;
      int ok;
      for (size_t i = 0; i < m->nkeep; i++)
        if (i < start || i >= start + chunk)
          m->cand[k++] = m->keep[i];
      if (k == 0)
        continue;
      if ((err = test(m, m->cand, k, &ok)) != 0)
        return err;
      if (ok) {
        memcpy(m->keep, m->cand, k * sizeof *m->keep);
        m->nkeep = k;
        gran = gran > 2 ? gran - 1 : 2;
        reduced = 1;
      }
    }
    if (!reduced) {
      if (gran >= m->nkeep)
        break;
      gran = gran * 2 < m->nkeep ? gran * 2 : m->nkeep;
    }
  }
  return 0;
}

/* Drops the events not selected from the trace itself. */
static void compact(struct min *m) {
  size_t k = 0, j = 0;
  for (size_t i = 0; i < m->t->n; i++) {
    if (j < m->nkeep && m->keep[j] == i) {
      m->t->ev[k++] = m->t->ev[i];
      j++;
    } else {
      lt_event_free(m->t->ev[i]);
    }
  }
  m->t->n = k;
  for (size_t i = 0; i < k; i++)
    m->keep[i] = i;
  m->nkeep = k;
}

/* ---- inside events -------------------------------------------------------------- */

static void free_msg(void *msg) {
  if (msg)
    protobuf_c_message_free_unpacked(msg, &lt_protobuf_allocator);
}

/* Candidate transformation number `which` of an event, applied to e (a
 * copy). Returns 0 when there is no such transformation. */
static int transform(lt_event *e, size_t which) {
  size_t w = which;
  if (w < e->n_allocs) { /* drop one allocation (a create keeps one) */
    if (e->n_allocs == 1)
      return 2;
    free_msg(e->allocs[w]);
    memmove(&e->allocs[w], &e->allocs[w + 1], (e->n_allocs - w - 1) * sizeof e->allocs[0]);
    e->n_allocs--;
    return 1;
  }
  w -= e->n_allocs;
  if (w < e->n_handles) { /* drop one listed handle */
    memmove(&e->handles[w], &e->handles[w + 1], (e->n_handles - w - 1) * sizeof e->handles[0]);
    e->n_handles--;
    return 1;
  }
  w -= e->n_handles;
  if (w < e->n_refs) { /* drop one DMA reference */
    free_msg(e->refs[w]);
    memmove(&e->refs[w], &e->refs[w + 1], (e->n_refs - w - 1) * sizeof e->refs[0]);
    e->n_refs--;
    return 1;
  }
  w -= e->n_refs;
  if (w < e->n_allocs) { /* a plain allocation: default size, no flags or segments */
    Lifetrace__AllocInfo *a = e->allocs[w];
    if (!a->size && !a->align && !a->segments && !a->preferred && !a->flags)
      return 2;
    a->size = a->align = 0;
    a->segments = a->preferred = a->flags = 0;
    return 1;
  }
  w -= e->n_allocs;
  switch (w) {
  case 0:
    if (!e->shared && !e->synchronous && !e->rundown)
      return 2;
    e->shared = e->synchronous = e->rundown = 0;
    return 1;
  case 1:
    if (!e->assume_not_in_use)
      return 2;
    e->assume_not_in_use = 0;
    return 1;
  case 2: {
    int any = 0;
    for (size_t i = 0; i < e->n_refs; i++) {
      any |= e->refs[i]->write;
      e->refs[i]->write = 0;
    }
    return any ? 1 : 2;
  }
  }
  return 0;
}

/* Tries each transformation of each event once; returns 0 or an error and
 * sets *changed. */
static int simplify_events(struct min *m, int *changed) {
  for (size_t i = 0; i < m->t->n && !m->st->gave_up; i++) {
    for (size_t which = 0;; which++) {
      lt_event *old = m->t->ev[i], *cand = lt_event_copy(old);
      int ok, r, err;
      if (cand == NULL)
        return LT_ENOMEM;
      if ((r = transform(cand, which)) != 1) {
        lt_event_free(cand);
        if (r == 0)
          break;
        continue;
      }
      m->t->ev[i] = cand;
      if ((err = test_all(m, &ok)) != 0 || !ok) {
        m->t->ev[i] = old;
        lt_event_free(cand);
        if (err)
          return err;
        if (m->st->gave_up)
          break;
        continue;
      }
      lt_event_free(old);
      *changed = 1;
      which--; /* the list shrank: the same index names the next element */
    }
  }
  return 0;
}

/* ---- whole-trace clean-ups ------------------------------------------------------ */

/* The small value the n-th distinct handle of a kind gets. */
static const uint64_t handle_base[] = {1, 0x10, 0x20, 0x100, 100};
enum { K_DEVICE, K_CONTEXT, K_RESOURCE, K_ALLOC, K_PID, K__N };

struct renum {
  uint64_t *old[K__N];
  size_t n[K__N], cap[K__N];
  int oom;
};

static uint64_t map_handle(struct renum *r, int kind, uint64_t h) {
  if (h == 0)
    return 0;
  for (size_t i = 0; i < r->n[kind]; i++)
    if (r->old[kind][i] == h)
      return kind == K_PID ? handle_base[K_PID] * (i + 1) : handle_base[kind] + i;
  if (r->n[kind] == r->cap[kind]) {
    size_t cap = r->cap[kind] ? 2 * r->cap[kind] : 16;
    uint64_t *nv = lt_realloc(r->old[kind], cap * sizeof *nv);
    if (nv == NULL) {
      r->oom = 1;
      return h;
    }
    r->old[kind] = nv;
    r->cap[kind] = cap;
  }
  r->old[kind][r->n[kind]++] = h;
  return map_handle(r, kind, h);
}

static void renumber_event(struct renum *r, lt_event *e) {
  e->pid = map_handle(r, K_PID, e->pid);
  e->device = map_handle(r, K_DEVICE, e->device);
  e->context = map_handle(r, K_CONTEXT, e->context);
  e->resource = map_handle(r, K_RESOURCE, e->resource);
  e->alloc = map_handle(r, K_ALLOC, e->alloc);
  for (size_t i = 0; i < e->n_allocs; i++)
    e->allocs[i]->alloc = map_handle(r, K_ALLOC, e->allocs[i]->alloc);
  for (size_t i = 0; i < e->n_handles; i++)
    e->handles[i] = map_handle(r, K_ALLOC, e->handles[i]);
  for (size_t i = 0; i < e->n_refs; i++)
    e->refs[i]->alloc = map_handle(r, K_ALLOC, e->refs[i]->alloc);
  e->t = 0;
  e->tid = 0;
  free_msg(e->origin);
  e->origin = NULL;
}

/* Swaps in a transformed copy of every event (and of the header); keeps it
 * if the signature survives. */
static int try_whole(struct min *m, int renumber, int *changed) {
  lt_event **copy = lt_calloc(m->t->n ? m->t->n : 1, sizeof *copy);
  struct renum r;
  int err = 0, ok = 0;
  memset(&r, 0, sizeof r);
  for (size_t i = 0; copy && i < m->t->n; i++)
    if ((copy[i] = lt_event_copy(m->t->ev[i])) == NULL)
      err = LT_ENOMEM;
  for (size_t i = 0; copy && err == 0 && i < m->t->n; i++)
    if (renumber)
      renumber_event(&r, copy[i]);
  if (copy == NULL || r.oom)
    err = LT_ENOMEM;
  lt_event **old = m->t->ev;
  if (err == 0) {
    m->t->ev = copy;
    err = test_all(m, &ok);
  }
  lt_event **drop = (err == 0 && ok) ? old : copy;
  if (drop == copy)
    m->t->ev = old;
  else
    *changed |= 1;
  for (size_t i = 0; drop && i < m->t->n; i++)
    lt_event_free(drop[i]);
  lt_free(drop);
  for (int k = 0; k < K__N; k++)
    lt_free(r.old[k]);
  return err;
}

/* Drops the header's process names and source text if the finding stays. */
static int simplify_header(struct min *m) {
  lt_header *h = m->t->header;
  if (h->n_processes == 0)
    return 0;
  size_t n = h->n_processes;
  int ok, err;
  h->n_processes = 0;
  if ((err = test_all(m, &ok)) != 0 || !ok) {
    h->n_processes = n;
    return err;
  }
  for (size_t i = 0; i < n; i++)
    free_msg(h->processes[i]);
  lt_free(h->processes);
  h->processes = NULL;
  return 0;
}

/* Shrinks trace t while it still shows finding sig, within max_replays
 * replays; see lifetrace/triage.h. */
int lt__tri_minimize(lt__tri_ctx *c, lt__tri_trace *t, uint64_t sig, uint64_t max_replays,
                     lt__tri_min_stats *st) {
  struct min m = {c, t, sig, c->replays + max_replays, st, NULL, NULL, t->n};
  lt__tri_verdict v;
  int err, changed = 1;
  memset(st, 0, sizeof *st);
  st->events_before = t->n;
  uint64_t r0 = c->replays;
  if ((err = lt__tri_replay(c, t, NULL, 0, sig, &v, NULL)) != 0)
    return err;
  if (!v.has_target)
    return LT_ENOENT;
  m.keep = lt_calloc(t->n ? t->n : 1, sizeof *m.keep);
  m.cand = lt_calloc(t->n ? t->n : 1, sizeof *m.cand);
  if (m.keep == NULL || m.cand == NULL)
    err = LT_ENOMEM;
  for (size_t i = 0; i < t->n && m.keep; i++)
    m.keep[i] = i;
  for (int round = 0; err == 0 && changed && round < 4 && !st->gave_up; round++) {
    size_t before = t->n;
    changed = 0;
    if ((err = ddmin(&m)) == 0) {
      compact(&m);
      changed = t->n != before;
      err = simplify_events(&m, &changed);
    }
  }
  if (err == 0 && !st->gave_up)
    err = try_whole(&m, 1, &changed);
  if (err == 0 && !st->gave_up)
    err = simplify_header(&m);
  st->events_after = t->n;
  st->replays = c->replays - r0;
  lt_free(m.keep);
  lt_free(m.cand);
  return err;
}
