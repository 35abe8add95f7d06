/* lifetrace — keeping mutated traces inside the driver's UMD contract
 * (LT_UMD_CONTRACT, lifetrace/miniport.h; lt_mutator_set_umd_contract). A
 * trace outside it is still replayed correctly (dxgkrnl splits the calls),
 * but every input the fuzzer spends there is one the UMD never sends, and
 * the splits make the mutator's own operations (merge destroys, add
 * allocations) pointless: so the outputs are rewritten into the calls that
 * UMD would make. */
#include <string.h>

#include "lifetrace/miniport.h"
#include "lifetrace/trace.h"
#include "mutator_internal.h"

#define RES_TRACKED 64 /* resources whose allocation count is followed */

typedef struct res_count {
  uint64_t handle[RES_TRACKED];
  uint32_t n[RES_TRACKED];
  size_t used;
} res_count;

/* The allocations created so far for a resource (a counter slot; NULL when
 * the table is full: such a resource is left alone). Counts only grow until
 * the resource is destroyed: an upper bound of what is alive, so the cut is
 * never too lenient. */
static uint32_t *res_slot(res_count *rc, uint64_t h) {
  for (size_t i = 0; i < rc->used; i++)
    if (rc->handle[i] == h)
      return &rc->n[i];
  if (rc->used == RES_TRACKED)
    return NULL;
  rc->handle[rc->used] = h;
  rc->n[rc->used] = 0;
  return &rc->n[rc->used++];
}

static size_t limit(UINT m) { return m ? m : MX_LIST; }

/* Cuts segment sets and preferred segments to the contract's segments. */
static int cut_segments(mev *e, uint32_t set) {
  int changed = 0;
  for (size_t i = 0; set && i < e->n_allocs; i++) {
    mallocinfo *a = &e->allocs[i];
    uint32_t s = a->segments & set ? a->segments & set : set;
    int keep_pref = a->preferred == 0 || (a->preferred <= 32 && (set >> (a->preferred - 1)) & 1);
    changed |= s != a->segments || !keep_pref;
    a->segments = s;
    a->preferred = keep_pref ? a->preferred : 0;
  }
  return changed;
}

/* Drops the allocations of a create beyond its resource's maximum; returns
 * whether anything changed. */
static int cut_resource(mev *e, res_count *rc, UINT max) {
  if (max == 0 || e->resource == 0)
    return 0;
  uint32_t *n = res_slot(rc, e->resource);
  if (n == NULL)
    return 0;
  if (e->new_resource)
    *n = 0;
  size_t room = *n < max ? max - *n : 0;
  int changed = e->n_allocs > room;
  if (changed)
    e->n_allocs = (uint8_t)room;
  *n += e->n_allocs;
  return changed;
}

/* Appends e to out split into parts of at most max list entries. */
static int split_into(mtrace *out, const mev *e, size_t max) {
  size_t total = e->op == LIFETRACE__OP__ALLOC_CREATE ? e->n_allocs : e->n_handles;
  if (total <= max) {
    if (out->n < MX_EVENTS)
      out->ev[out->n++] = *e;
    return 0;
  }
  for (size_t off = 0; off < total && out->n < MX_EVENTS; off += max) {
    size_t k = total - off < max ? total - off : max;
    mev *p = &out->ev[out->n++];
    *p = *e;
    if (e->op == LIFETRACE__OP__ALLOC_CREATE) {
      memmove(p->allocs, e->allocs + off, k * sizeof p->allocs[0]);
      p->n_allocs = (uint8_t)k;
      p->new_resource = e->new_resource && off == 0;
    } else {
      memmove(p->handles, e->handles + off, k * sizeof p->handles[0]);
      p->n_handles = (uint8_t)k;
      p->destroy_resource = e->destroy_resource && off + k == total;
    }
  }
  return 1;
}

static size_t op_limit(const mev *e, const LT_UMD_CONTRACT *c) {
  switch (e->op) {
  case LIFETRACE__OP__ALLOC_CREATE: return limit(c->MaxAllocationsPerCreate);
  case LIFETRACE__OP__ALLOC_OPEN: return limit(c->MaxAllocationsPerOpen);
  case LIFETRACE__OP__ALLOC_CLOSE: return limit(c->MaxAllocationsPerClose);
  case LIFETRACE__OP__ALLOC_DESTROY: return limit(c->MaxAllocationsPerDestroy);
  }
  return MX_LIST;
}

/* Rewrites t (through scratch) so every event stays inside the UMD's
 * contract c: a create cut to the contract's segment set and to
 * MaxAllocationsPerResource allocations created in its resource (an upper
 * bound of the live ones; a create left empty is dropped, a destroy with
 * destroy_resource starts the count again), then every create, open, close
 * and destroy split into calls of the allowed size. Returns how many events
 * changed. Why: the replay would split such calls itself, but an input the
 * UMD never sends is fuzzing time lost. See mutator_internal.h. */
size_t lt__mc_constrain(mtrace *t, mtrace *scratch, const struct LT_UMD_CONTRACT *c) {
  res_count rc = {{0}, {0}, 0};
  size_t changed = 0;
  scratch->n = 0;
  for (size_t i = 0; i < t->n; i++) {
    mev e = t->ev[i];
    int ch = 0;
    if (e.op == LIFETRACE__OP__ALLOC_CREATE) {
      ch |= cut_segments(&e, c->SegmentSet);
      ch |= cut_resource(&e, &rc, c->MaxAllocationsPerResource);
      if (e.n_allocs == 0) {
        changed++;
        continue;
      }
    } else if (e.op == LIFETRACE__OP__ALLOC_DESTROY && e.destroy_resource && e.resource) {
      uint32_t *n = res_slot(&rc, e.resource);
      if (n)
        *n = 0;
    }
    ch |= split_into(scratch, &e, op_limit(&e, c));
    changed += ch != 0;
  }
  memcpy(t->ev, scratch->ev, scratch->n * sizeof t->ev[0]);
  t->n = scratch->n;
  return changed;
}
