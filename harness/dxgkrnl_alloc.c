/* Allocation lifetime in the simulated dxgkrnl: CreateAllocation (+ the
 * creating device's OpenAllocation), Open/CloseAllocation, and the destroy
 * engine (validation, deferral, closing bindings, DestroyAllocation). */
#include <stddef.h>
#include <string.h>

#include "dxgkrnl.h"

#define MAX_LIST 256 /* allocations per call the simulator accepts */
#define SMALL_LIST 16 /* handle arrays up to this size live on the stack */
/* Largest resource-level private data the simulated runtime sends (bytes); a
 * create asking for more is refused like one with too many allocations. */
#define MAX_RESOURCE_DATA (1u << 20)

/* ---- DDI thunks ------------------------------------------------------------ */

/* Output contracts (checked): a DDI that reported success with a handle
 * that cannot be one is miniport-bad-status, named by its check; p is the
 * handle (its pool block's stacks go with the finding). */
static void bad_status(lt_replay *r, lt__obj *o, const char *check, const char *fmt,
                       const void *p, int i) {
  lt__bad_output(r, o, check, p, 0, fmt, p, i);
}

/* ---- the UMD's contract (LT_UMD_CONTRACT) -------------------------------------- */

static const LT_UMD_CONTRACT *contract(const lt_replay *r) {
  return r->mp ? r->mp->UmdContract : NULL;
}

/* Most allocations per call of one DDI under the contract (field offset into
 * LT_UMD_CONTRACT), SIZE_MAX when there is no limit. */
static size_t per_call(const lt_replay *r, size_t field) {
  const LT_UMD_CONTRACT *c = contract(r);
  UINT m = 0;
  if (c != NULL)
    memcpy(&m, (const char *)c + field, sizeof m);
  return m ? m : SIZE_MAX;
}
#define PER_CALL(r, f) per_call((r), offsetof(LT_UMD_CONTRACT, f))

/* Audit labels a trace event that breaks a clause of the UMD's contract (a
 * note naming the clause; the driver still sees only calls inside it). */
static void contract_note(lt_replay *r, const char *ddi, const char *clause, size_t have,
                          size_t max, const char *what) {
  if (lt__kernel(r))
    return;
  lt__note(r, "umd-contract", ddi, "event %llu breaks the UMD's contract (%s = %zu): %zu %s; "
           "dxgkrnl keeps the driver inside it", (unsigned long long)r->cur_event, clause, max,
           have, what);
}

/* ---- the UMD's private data (LT_UMD_PRIVATE_DATA) --------------------------------- */

/* Slack of zeroes after a blob the harness sized from the trace (a driver
 * that declares no layout): an over-read of it is the harness's guess, not
 * the driver's bug, so it must not reach ASan or the pool oracles. */
#define UNDECLARED_SLACK 4096u

static void umd_describe(const lt__alloc *a, LT_UMD_ALLOCATION *u) {
  memset(u, 0, sizeof *u);
  u->Index = a->umd_index;
  u->NumAllocations = a->umd_count;
  u->Size = a->size;
  u->Alignment = a->align;
  u->SupportedSegmentSet = a->segset;
  u->PreferredSegment = a->preferred;
  u->Flags = a->flags;
  u->Variant = a->umd_variant;
  u->hResource = a->umd_resource;
  u->Shared = (BOOLEAN)(a->shared != 0);
}

/* Points *data / *size at allocation a's private data: its LT_UMD_ALLOCATION_DATA
 * when the driver declares no layout, else a new zeroed blob of the declared
 * size (exactly: ASan sees an over-read), filled by the driver's builder. The
 * caller frees *owned. LT_ENOMEM when out of memory. */
static int alloc_blob(lt_replay *r, lt__alloc *a, void **data, UINT *size, void **owned) {
  const LT_UMD_PRIVATE_DATA *d = r->mp ? r->mp->UmdPrivateData : NULL;
  *owned = NULL;
  if (d == NULL) {
    *data = a->priv;
    *size = sizeof a->priv;
    return 0;
  }
  *data = NULL;
  *size = d->AllocationDataSize;
  if (*size == 0)
    return 0;
  if ((*owned = lt_calloc(1, *size)) == NULL)
    return LT_ENOMEM;
  *data = *owned;
  if (d->BuildAllocationData != NULL) {
    LT_UMD_ALLOCATION u;
    umd_describe(a, &u);
    d->BuildAllocationData(&u, *data, *size);
  }
  return 0;
}

/* The blobs of one call: one per allocation, freed together. */
static void free_blobs(void **owned, size_t n) {
  for (size_t i = 0; owned && i < n; i++)
    lt_free(owned[i]);
}

/* ---- bindings ----------------------------------------------------------------- */

static lt__binding *bind(lt_replay *r, lt__device *dev, lt__alloc *a, HANDLE kmd, int is_create,
                         lt__scope *group) {
  lt__binding *b = lt__slab_get(&r->binding_slab);
  if (b == NULL)
    return NULL;
  b->dev = dev;
  b->alloc = a;
  b->kmd = kmd;
  b->is_create = is_create;
  b->group = group;
  b->dev_next = dev->bindings;
  if (dev->bindings)
    dev->bindings->dev_prev = b;
  dev->bindings = b;
  b->alloc_next = a->bindings;
  a->bindings = b;
  return b;
}

static void unbind(lt_replay *r, lt__binding *b) {
  if (b->dev_prev)
    b->dev_prev->dev_next = b->dev_next;
  else
    b->dev->bindings = b->dev_next;
  if (b->dev_next)
    b->dev_next->dev_prev = b->dev_prev;
  for (lt__binding **pp = &b->alloc->bindings; *pp; pp = &(*pp)->alloc_next)
    if (*pp == b) {
      *pp = b->alloc_next;
      break;
    }
  lt__scope_put(r, b->group);
  lt__slab_put(&r->binding_slab, b);
}

static void close_call(lt_replay *r, lt__device *dev, lt__binding **b, size_t n);

/* G2 (modelled): closes n bindings, all of device dev, in
 * DxgkDdiCloseAllocation calls of at most MaxAllocationsPerClose handles
 * each (the UMD's contract), and forgets them; each binding's leak scope is
 * checked when its last member goes (M6). Used by alloc_close, by the closes
 * dxgkrnl does before a destroy, and by device teardown. */
void lt__close_bindings(lt_replay *r, lt__device *dev, lt__binding **b, size_t n) {
  size_t max = PER_CALL(r, MaxAllocationsPerClose);
  for (size_t off = 0; off < n; off += max)
    close_call(r, dev, b + off, n - off < max ? n - off : max);
}

/* One DxgkDdiCloseAllocation of n bindings of a device. */
static void close_call(lt_replay *r, lt__device *dev, lt__binding **b, size_t n) {
  if (n == 0)
    return;
  HANDLE small[SMALL_LIST]; /* most calls close a handful: no heap round trip */
  HANDLE *h = n <= SMALL_LIST ? small : lt_calloc(n, sizeof *h);
  if (h == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    h[i] = b[i]->kmd;
  DXGKARG_CLOSEALLOCATION args = {(UINT)n, h};
  struct lt__dev_call c = {dev->kmd, &args};
  (void)lt__ddi(r, "DxgkDdiCloseAllocation", LT_OBJ_DEVICE, dev->o.handle, dev->o.serial,
                lt__ddi_close_allocation, &c);
  const char *outer = r->cur_ddi;
  r->cur_ddi = "DxgkDdiCloseAllocation";
  for (size_t i = 0; i < n; i++)
    unbind(r, b[i]);
  r->cur_ddi = outer;
  if (h != small)
    lt_free(h);
}

/* Doubles a binding array that may still be the caller's stack buffer;
 * frees it and returns NULL when out of memory. */
static lt__binding **grow_sel(lt__binding **sel, lt__binding **small, size_t *cap) {
  lt__binding **ns = lt_malloc(*cap * 2 * sizeof *ns);
  if (ns != NULL)
    memcpy(ns, sel, *cap * sizeof *ns);
  if (sel != small)
    lt_free(sel);
  *cap *= 2;
  return ns;
}

/* G2 (modelled): closes every binding of the listed allocations before
 * DestroyAllocation, one DxgkDdiCloseAllocation per device. */
static void close_all_bindings(lt_replay *r, lt__alloc **list, size_t n) {
  lt__binding *small[SMALL_LIST]; /* the usual case: no heap round trip */
  for (;;) {
    lt__device *dev = NULL;
    size_t k = 0, cap = SMALL_LIST;
    lt__binding **sel = small;
    for (size_t i = 0; i < n; i++)
      for (lt__binding *b = list[i]->bindings; b; b = b->alloc_next) {
        if (dev == NULL)
          dev = b->dev;
        if (b->dev != dev)
          continue;
        if (k == cap && (sel = grow_sel(sel, small, &cap)) == NULL)
          return;
        sel[k++] = b;
      }
    if (dev != NULL)
      lt__close_bindings(r, dev, sel, k);
    if (sel != small)
      lt_free(sel);
    if (dev == NULL)
      return;
  }
}

/* ---- hResource read back (in/out in CreateAllocation and DestroyAllocation) -- */

/* What h is, if it is the driver handle of a live object other than res. */
static const char *other_live_object(lt_replay *r, const lt__resource *res, HANDLE h) {
  lt__alloc *a = lt__u64map_get(&r->kmd_allocs, (uintptr_t)h);
  if (a != NULL && !a->kmd_destroyed)
    return "allocation";
  const lt__u64map *maps[] = {&r->resources, &r->devices, &r->contexts};
  const char *names[] = {"resource", "device", "context"};
  for (int m = 0; m < 3; m++)
    for (size_t i = 0; i < maps[m]->cap; i++) {
      lt__obj *o = maps[m]->slots[i].val;
      if (o == NULL || o->state != ST_LIVE || o == &res->o)
        continue;
      HANDLE kmd = m == 0 ? ((lt__resource *)o)->kmd
                          : m == 1 ? ((lt__device *)o)->kmd : ((lt__context *)o)->kmd;
      if (kmd == h)
        return names[m];
    }
  return NULL;
}

/* M2, M3 (checked): the driver object of a resource dxgkrnl keeps must not
 * be freed (a resource released with its last allocation, by the wrong
 * call or on an error path). Reported once per resource, at the free (the
 * defect), `when` saying when it was found. */
static void kept_resource_check(lt_replay *r, lt__resource *res, const char *when) {
  if (res == NULL || res->kmd == NULL || res->kmd_destroyed || res->kmd_freed_seen ||
      r->crashed || !lt_pool_is_freed(r->pool, res->kmd))
    return;
  res->kmd_freed_seen = 1;
  lt__bad_output(r, &res->o, "kept-handle-freed", res->kmd, 1,
                 "%s, hResource of resource 0x%llx (which dxgkrnl keeps) is a pool block the "
                 "driver already freed", when, (unsigned long long)res->o.handle);
}

/* Reads back hResource after a call that leaves the resource alive (a
 * DestroyAllocation without DestroyResource, a CreateAllocation adding to
 * it): the driver may change it (the DDI pages allow it), and the new value
 * is the resource's driver handle from now on. A write is a cast-away-const
 * (DestroyAllocation) the driver relies on: a note. The value is checked as
 * any published handle: NULL (once there was one), a freed pool block or
 * another live object's handle is miniport-bad-status. A freed block is
 * reported even when the value did not change: the driver released the
 * object that dxgkrnl still names. */
static void resource_readback(lt_replay *r, lt__resource *res, HANDLE out, const char *ddi) {
  HANDLE old = res->kmd;
  const char *other = NULL, *outer = r->cur_ddi;
  r->cur_ddi = ddi;
  if (out != old) {
    lt__note(r, "hresource-changed", ddi,
             "%s changed hResource of a resource it keeps (%s): dxgkrnl uses the new value "
             "from now on", ddi, strcmp(ddi, "DxgkDdiDestroyAllocation") == 0
                                     ? "a write through the const DXGKARG_DESTROYALLOCATION"
                                     : "allowed when allocations are added");
    res->kmd = out;
    if (out == NULL && old != NULL)
      lt__bad_output(r, &res->o, "hresource-readback", NULL, 0,
                  "%s changed hResource to NULL for resource 0x%llx, which it keeps", ddi,
                  (unsigned long long)res->o.handle);
    else if (out != NULL && (other = other_live_object(r, res, out)) != NULL)
      lt__bad_output(r, &res->o, "hresource-readback", NULL, 0,
                  "%s changed hResource of resource 0x%llx to the handle of another live %s",
                  ddi, (unsigned long long)res->o.handle, other);
  }
  if (out != NULL && other == NULL) {
    char when[96];
    snprintf(when, sizeof when, "after %s returned", ddi);
    kept_resource_check(r, res, when);
  }
  r->cur_ddi = outer;
}

/* ---- the destroy engine ----------------------------------------------------------- */

static void forget_alloc(lt_replay *r, lt__alloc *a) {
  if (a->segment)
    lt__evict(r, a, LT_EVICT_SILENT);
  for (int s = 0; s < LT_MAX_SOURCES; s++)
    if (r->scanout[s] == a)
      r->scanout[s] = NULL;
  a->displayed = 0;
  a->locks = 0;
  if (a->kmd)
    a->kmd_destroyed = 1; /* the entry stays until the object is freed */
  if (a->res) {
    if (a->res_prev)
      a->res_prev->res_next = a->res_next;
    else if (a->res->allocs == a)
      a->res->allocs = a->res_next;
    if (a->res_next)
      a->res_next->res_prev = a->res_prev;
    a->res_prev = a->res_next = NULL;
    a->res->n_live--;
  }
  lt__scope *g = a->group;
  a->group = NULL;
  lt__scope_put(r, g);
}

static void destroy_call(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                         int destroy_resource);

/* Runs a destroy now: closes bindings, calls DestroyAllocation (split into
 * calls of at most MaxAllocationsPerDestroy allocations, as dxgkrnl would for
 * a UMD that destroys that many at a time: DestroyResource on the last),
 * then checks for leaked pool blocks and stale references. */
void lt__destroy_now(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                     int destroy_resource) {
  close_all_bindings(r, list, n);
  size_t max = PER_CALL(r, MaxAllocationsPerDestroy);
  if (n <= max) {
    destroy_call(r, list, n, res, destroy_resource);
    return;
  }
  for (size_t off = 0; off < n && !r->crashed; off += max) {
    size_t k = n - off < max ? n - off : max;
    destroy_call(r, list + off, k, res, destroy_resource && off + k == n);
  }
}

/* One DxgkDdiDestroyAllocation and what follows it. */
static void destroy_call(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                         int destroy_resource) {
  HANDLE small[SMALL_LIST]; /* a destroy names few allocations: no heap round trip */
  HANDLE *h = n == 0 ? NULL : n <= SMALL_LIST ? small : lt_calloc(n, sizeof *h);
  if (n && h == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    h[i] = list[i]->kmd;
  /* A deferred destroy that runs after its resource was destroyed (device
   * teardown) names no resource: the driver's resource object is gone. */
  if (res && res->kmd_destroyed && !destroy_resource)
    res = NULL;
  DXGKARG_DESTROYALLOCATION args = {(UINT)n, h, res ? res->kmd : NULL, {{0}}};
  args.Flags.DestroyResource = destroy_resource && res != NULL;
  uint64_t scope = res ? res->o.serial : (n && list[0]->group ? list[0]->group->serial : 0);
  const char *ddi = "DxgkDdiDestroyAllocation";
  (void)lt__ddi(r, ddi, res ? LT_OBJ_RESOURCE : LT_OBJ_ALLOCATION,
                res ? res->o.handle : (n ? list[0]->o.handle : 0), scope, lt__ddi_destroy_allocation, &args);
  const char *outer = r->cur_ddi;
  r->cur_ddi = ddi;
  /* The resources of the destroyed allocations that the call did not name
   * are kept too: the driver knows them from its allocations. */
  for (size_t i = 0; i < n; i++)
    if (list[i]->res != res)
      kept_resource_check(r, list[i]->res, "after DxgkDdiDestroyAllocation returned");
  for (size_t i = 0; i < n; i++)
    forget_alloc(r, list[i]);
  if (res && !args.Flags.DestroyResource && !r->crashed)
    resource_readback(r, res, args.hResource, ddi);
  if (args.Flags.DestroyResource)
    res->kmd_destroyed = 1;
  if (args.Flags.DestroyResource && res->n_live == 0) {
    lt__scope s = {res->o.serial, 0, LT_OBJ_RESOURCE, res->o.handle};
    lt__check_scope(r, &s, ddi);
  }
  r->cur_ddi = outer;
  lt__check_stale(r, ddi, 0);
  if (h != small)
    lt_free(h); /* NULL when n is 0 */
}

static int busy_or_displayed(lt__alloc **list, size_t n, int assume_not_in_use) {
  for (size_t i = 0; i < n; i++)
    if ((list[i]->pending_refs && !assume_not_in_use) || list[i]->displayed)
      return 1;
  return 0;
}

/* Whether another (live) device still has one of the allocations open. */
static int opened_elsewhere(lt__alloc **list, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (lt__binding *b = list[i]->bindings; b; b = b->alloc_next)
      if (b->dev != list[i]->creator && !b->dev->torn_down)
        return 1;
  return 0;
}

/* G5: ends the released objects of a destroy that waited for their openers:
 * they die in the trace's view now (the last binding is closed). After a
 * creator's teardown, the trace's own record of this destroy may follow. */
static void end_released(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                         int destroy_res) {
  lt__obj *o = NULL;
  for (size_t i = 0; i <= n; i++) {
    o = i < n ? &list[i]->o : (destroy_res && res ? &res->o : NULL);
    if (o == NULL || o->state != ST_LIVE || !o->released)
      continue;
    o->end_unrecorded = o->released == LT_RELEASED_TEARDOWN;
    lt__kill(r, o);
  }
}

/* G3, G4, G7 (modelled): queues a destroy until the allocations are idle
 * and not scanned out (and, with wait_bindings, until no other device has
 * them open: G5); it then runs later, after the call that asked for it
 * returned, as VidMm's deferred destruction does. */
void lt__defer(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res, int destroy_res,
               int wait_bindings) {
  lt__deferred *d = lt_calloc(1, sizeof *d);
  lt__alloc **copy = n ? lt_calloc(n, sizeof *copy) : NULL;
  if (d == NULL || (n && copy == NULL)) {
    lt_free(d);
    lt_free(copy);
    if (wait_bindings)
      end_released(r, list, n, res, destroy_res);
    lt__destroy_now(r, list, n, res, destroy_res); /* out of memory: do not lose it */
    return;
  }
  for (size_t i = 0; i < n; i++) {
    copy[i] = list[i];
    lt__ref(&list[i]->o);
  }
  lt__ref(res ? &res->o : NULL);
  d->n = n;
  d->allocs = copy;
  d->res = res;
  d->destroy_resource = destroy_res;
  d->wait_bindings = wait_bindings;
  d->event = r->cur_event;
  lt__deferred **tail = &r->deferred;
  while (*tail)
    tail = &(*tail)->next;
  *tail = d;
}

/* Runs every deferred destroy whose allocations are idle and not displayed
 * (all of them when force is set), in request order. */
void lt__run_deferred(lt_replay *r, int force) {
  lt__deferred **pp = &r->deferred;
  while (*pp) {
    lt__deferred *d = *pp;
    if (!force && (busy_or_displayed(d->allocs, d->n, 0) ||
                   (d->wait_bindings && opened_elsewhere(d->allocs, d->n)))) {
      pp = &d->next;
      continue;
    }
    *pp = d->next;
    if (d->wait_bindings)
      end_released(r, d->allocs, d->n, d->res, d->destroy_resource);
    lt__destroy_now(r, d->allocs, d->n, d->res, d->destroy_resource);
    for (size_t i = 0; i < d->n; i++)
      lt__unref(r, &d->allocs[i]->o);
    lt__unref(r, d->res ? &d->res->o : NULL);
    lt_free(d->allocs);
    lt_free(d);
  }
}

/* Closes the creating device's bindings of the listed allocations (what
 * dxgkrnl does for the requesting device when it releases a shared object). */
static void close_creator_bindings(lt_replay *r, lt__alloc **list, size_t n) {
  lt__binding *sel[MAX_LIST];
  lt__device *dev = n ? list[0]->creator : NULL;
  size_t k = 0;
  if (dev == NULL || dev->torn_down)
    return;
  for (size_t i = 0; i < n; i++)
    for (lt__binding *b = list[i]->bindings; b && k < MAX_LIST; b = b->alloc_next)
      if (b->dev == dev)
        sel[k++] = b;
  lt__close_bindings(r, dev, sel, k);
}

/* G5: the creator lets go of shared allocations (and their resource) that
 * another device still has open, by its teardown or a destroy request. They
 * stay live for the openers; DxgkDdiDestroyAllocation follows the last
 * CloseAllocation (lt__run_deferred), on the adapter: no device handle. */
void lt__release_shared(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                        int destroy_res, int how) {
  for (size_t i = 0; i < n; i++)
    lt__release(r, &list[i]->o, how);
  if (destroy_res && res)
    lt__release(r, &res->o, how);
  if (how == LT_RELEASED_DESTROY)
    close_creator_bindings(r, list, n);
  lt__defer(r, list, n, res, destroy_res, 1);
}

/* Whether a shared one of the allocations is open on a device other than
 * its creator (then a destroy request only releases it: G5). */
static int shared_open_elsewhere(lt__alloc **list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((list[i]->shared || (list[i]->res && list[i]->res->shared)) &&
        opened_elsewhere(&list[i], 1))
      return 1;
  return 0;
}

/* Whether a destroy takes whole objects: its resource with all members, or
 * allocations without a resource. dxgkrnl refuses to destroy members of a
 * shared resource one by one (WSL validate_alloc). */
static int whole_objects(lt__alloc **list, size_t n, lt__resource *res, int destroy_res) {
  if (destroy_res && res)
    return 1;
  for (size_t i = 0; i < n; i++)
    if (list[i]->res)
      return 0;
  return 1;
}

/* A destroy names an object its creator already released (G5), still open
 * on another device: audit reports it (a second destroy request, or one
 * while the opener still holds it); kernel refuses. Returns 1 if released. */
static int named_released(lt_replay *r, lt__obj *o) {
  if (!o->released)
    return 0;
  if (lt__kernel(r))
    return 1;
  if (o->released == LT_RELEASED_DESTROY)
    lt__finding(r, LT_F_DOUBLE_DESTROY, LT_SEV_ERROR, o, "alloc_destroy names %s 0x%llx, whose "
                "destroy was requested at event %llu (it lives on while another device has it "
                "open)", lt_object_name(o->type), (unsigned long long)o->handle,
                (unsigned long long)o->released_at);
  else
    lt__finding(r, LT_F_DESTROY_WHILE_OPEN, LT_SEV_ERROR, o, "%s 0x%llx destroyed while another "
                "device still has it open (its creator was torn down at event %llu)",
                lt_object_name(o->type), (unsigned long long)o->handle,
                (unsigned long long)o->released_at);
  return 1;
}

/* A create adding to a resource its creator released (G5): the resource is
 * sealed (WSL refuses to add to a shared resource) and its destroy waits.
 * Audit reports it; both policies drop the create. Returns 1 if released. */
static int adds_to_released(lt_replay *r, lt__resource *res) {
  if (!res->o.released)
    return 0;
  if (!lt__kernel(r))
    lt__finding(r, LT_F_USE_AFTER_DESTROY, LT_SEV_ERROR, &res->o, "alloc_create adds to "
                "resource 0x%llx, released by its creator at event %llu",
                (unsigned long long)res->o.handle, (unsigned long long)res->o.released_at);
  return 1;
}

/* Audit checks on each allocation about to be destroyed: G2 (every other
 * device's binding closed first: destroy-while-open), G3 (no submitted DMA
 * packet still references it: destroy-while-busy, a warning under
 * AssumeNotInUse), G4 (not scanned out: destroy-while-displayed), and no CPU
 * lock outstanding (destroy-while-locked). Kernel policy never gets here: it
 * closes the bindings (G2) and defers the destroy (G3, G4) instead. */
static void audit_destroy(lt_replay *r, lt__alloc *a, int assume_not_in_use) {
  for (lt__binding *b = a->bindings; b; b = b->alloc_next)
    if (!b->is_create) {
      lt__finding(r, LT_F_DESTROY_WHILE_OPEN, LT_SEV_ERROR, &a->o,
                  "allocation 0x%llx destroyed while device 0x%llx still has it open",
                  (unsigned long long)a->o.handle, (unsigned long long)b->dev->o.handle);
      break;
    }
  if (a->pending_refs)
    lt__finding(r, LT_F_DESTROY_WHILE_BUSY, assume_not_in_use ? LT_SEV_WARNING : LT_SEV_ERROR,
                &a->o, "allocation 0x%llx destroyed while %u submitted DMA packet(s) that "
                "reference it have not completed%s",
                (unsigned long long)a->o.handle, a->pending_refs,
                assume_not_in_use ? " (AssumeNotInUse was set)" : "");
  if (a->displayed)
    lt__finding(r, LT_F_DESTROY_WHILE_DISPLAYED, LT_SEV_ERROR, &a->o,
                "allocation 0x%llx destroyed while it is scanned out (sources mask 0x%x)",
                (unsigned long long)a->o.handle, a->displayed);
  if (a->locks)
    lt__finding(r, LT_F_DESTROY_WHILE_LOCKED, LT_SEV_ERROR, &a->o,
                "allocation 0x%llx destroyed with %u outstanding CPU lock(s)",
                (unsigned long long)a->o.handle, a->locks);
}

/* Starts a destroy the trace asked for: audit runs it now, kernel defers it
 * until earlier GPU work is done and the allocation is not scanned out (G3,
 * G4: dxgkrnl waits; `synchronous` completes the GPU work first, as a
 * synchronous destroy waits for it). A shared allocation another device
 * still has open is only released (G5). */
static void request_destroy(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                            int destroy_res, int assume_not_in_use, int synchronous) {
  if (shared_open_elsewhere(list, n)) {
    if (whole_objects(list, n, res, destroy_res)) {
      lt__release_shared(r, list, n, res, destroy_res, LT_RELEASED_DESTROY);
      return;
    }
    if (lt__kernel(r))
      return; /* members of a shared resource one by one: refused */
  }
  if (!lt__kernel(r))
    for (size_t i = 0; i < n; i++)
      audit_destroy(r, list[i], assume_not_in_use);
  for (size_t i = 0; i < n; i++)
    lt__kill(r, &list[i]->o);
  if (destroy_res && res)
    lt__kill(r, &res->o);
  if (lt__kernel(r) && synchronous && busy_or_displayed(list, n, assume_not_in_use)) {
    for (uint32_t node = 0; node < LT_MAX_NODES; node++)
      if (r->nodes[node].tail)
        lt__complete_node(r, node, r->nodes[node].tail->node_fence);
  }
  if (lt__kernel(r) && busy_or_displayed(list, n, assume_not_in_use)) {
    lt__defer(r, list, n, res, destroy_res, 0);
    return;
  }
  lt__destroy_now(r, list, n, res, destroy_res);
}

/* Collects a resource's live members not yet in the list (kernel: dxgkrnl
 * destroys the whole resource, so the driver sees every member listed with
 * DestroyResource: contract M1/M2; audit: resource-orphaned). */
static size_t add_orphans(lt_replay *r, lt__resource *res, lt__alloc **list, size_t n) {
  size_t orphans = 0;
  for (lt__alloc *a = res->allocs; a; a = a->res_next) {
    if (a->destroy_queued || a->o.state != ST_LIVE || a->o.released)
      continue;
    orphans++;
    if (lt__kernel(r) && n < MAX_LIST) {
      a->destroy_queued = 1;
      list[n++] = a;
    }
  }
  if (orphans && !lt__kernel(r))
    lt__finding(r, LT_F_RESOURCE_ORPHANED, LT_SEV_ERROR, &res->o,
                "resource 0x%llx destroyed while %zu of its allocations remain alive and unlisted",
                (unsigned long long)res->o.handle, orphans);
  return n;
}

/* alloc_destroy: DxgkDdiDestroyAllocation, the heart of lifetrace.
 *
 * The event lists 0..N allocations, optionally their resource and
 * destroy_resource (DXGK_DESTROYALLOCATIONFLAGS.DestroyResource), plus
 * assume_not_in_use and synchronous. What a real dxgkrnl guarantees the
 * driver, and so what is checked here before any DDI runs:
 *   G1  every listed handle is live and destroyed once: an unknown or dead
 *       handle is unknown-handle / double-destroy (lt__want); kernel policy
 *       fails the whole call, as dxgkrnl does, and the driver never sees it;
 *   the listed allocations belong to the named resource, and DestroyResource
 *       names one (resource-mismatch); DestroyResource with live members left
 *       out is resource-orphaned in audit, while kernel lists them all, as
 *       dxgkrnl destroys a resource whole;
 *   G2-G4 (audit_destroy), G5 (a shared allocation outlives its creator:
 *       request_destroy releases it), G6 (generation-checked handles in the
 *       handle tables, dxgkrnl_objects.c).
 * The DDI itself (lt__destroy_now) gets the listed allocations, hResource
 * (the driver's, read back afterwards: a driver may change it when it keeps
 * the resource) and Flags.DestroyResource; the oracles then check what the
 * driver did with its pool memory (M1/M2 leak scopes and double frees) and
 * whether its state still points at what it freed (M4 stale references). */
void lt__op_alloc_destroy(lt_replay *r, const lt_event *ev) {
  size_t nh = ev->n_handles;
  if (nh > MAX_LIST)
    return;
  if (nh > PER_CALL(r, MaxAllocationsPerDestroy))
    contract_note(r, "DxgkDdiDestroyAllocation", "MaxAllocationsPerDestroy", nh,
                  PER_CALL(r, MaxAllocationsPerDestroy), "allocations in one destroy");
  lt__alloc *list[MAX_LIST];
  size_t n = 0;
  int invalid = 0, res_gone = 0;
  lt__resource *res = NULL;
  if (ev->resource && ev->destroy_resource &&
      lt__end_recorded(r, LT_OBJ_RESOURCE, ev->resource)) {
    res_gone = 1; /* G5: the record of a destroy dxgkrnl already did */
  } else if (ev->resource) {
    res = lt__want(r, LT_OBJ_RESOURCE, ev->resource, ev->destroy_resource);
    invalid |= res == NULL;
    if (res && ev->destroy_resource && named_released(r, &res->o)) {
      invalid = res_gone = 1;
      res = NULL;
    }
  } else if (ev->destroy_resource) {
    invalid = 1;
    if (!lt__kernel(r))
      lt__finding(r, LT_F_RESOURCE_MISMATCH, LT_SEV_ERROR, NULL,
                  "alloc_destroy sets destroy_resource but names no resource");
  }
  for (size_t i = 0; i < nh; i++) {
    if (lt__end_recorded(r, LT_OBJ_ALLOCATION, ev->handles[i]))
      continue;
    lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->handles[i], 1);
    if (a == NULL || a->destroy_queued || (a && named_released(r, &a->o))) {
      invalid = 1;
      continue;
    }
    if (ev->resource && !res_gone && a->res != res) {
      invalid = 1;
      if (!lt__kernel(r))
        lt__finding(r, LT_F_RESOURCE_MISMATCH, LT_SEV_ERROR, &a->o,
                    "allocation 0x%llx does not belong to resource 0x%llx",
                    (unsigned long long)a->o.handle, (unsigned long long)ev->resource);
      if (res)
        continue;
    }
    a->destroy_queued = 1;
    list[n++] = a;
  }
  if (lt__kernel(r) && invalid) { /* dxgkrnl fails the whole call */
    for (size_t i = 0; i < n; i++)
      list[i]->destroy_queued = 0;
    return;
  }
  int destroy_res = ev->destroy_resource && res != NULL;
  if (destroy_res)
    n = add_orphans(r, res, list, n);
  for (size_t i = 0; i < n; i++)
    list[i]->destroy_queued = 0;
  if (n == 0 && !destroy_res)
    return;
  request_destroy(r, list, n, res, destroy_res, ev->assume_not_in_use, ev->synchronous);
}

/* Destroys an object whose Stop record was lost (a live handle value was
 * created again): dxgkrnl destroyed it at some point the trace did not see
 * (lost-destroy: handles are reused, G6/P17). */
void lt__lost_destroy(lt_replay *r, lt__obj *o) {
  lt__finding(r, LT_F_LOST_DESTROY, LT_SEV_WARNING, o,
              "%s 0x%llx is created again while still alive: a destroy record was lost",
              lt_object_name(o->type), (unsigned long long)o->handle);
  if (o->released) { /* its destroy is already queued behind its openers (G5) */
    lt__kill(r, o);
    return;
  }
  if (o->type == LT_OBJ_ALLOCATION) {
    lt__alloc *a = (lt__alloc *)o;
    lt__kill(r, o);
    lt__destroy_now(r, &a, 1, NULL, 0);
  } else if (o->type == LT_OBJ_RESOURCE) {
    lt__resource *res = (lt__resource *)o;
    lt__alloc *list[MAX_LIST];
    size_t n = 0;
    for (lt__alloc *a = res->allocs; a && n < MAX_LIST; a = a->res_next)
      if (a->o.state == ST_LIVE)
        list[n++] = a;
    for (size_t i = 0; i < n; i++)
      lt__kill(r, &list[i]->o);
    lt__kill(r, o);
    lt__destroy_now(r, list, n, res, 1);
  } else if (o->type == LT_OBJ_DEVICE) {
    lt__device_teardown(r, (lt__device *)o, -1);
  } else if (o->type == LT_OBJ_CONTEXT) {
    lt__context_destroy(r, (lt__context *)o);
  }
}

/* ---- CreateAllocation --------------------------------------------------------- */

struct create_state {
  size_t n;
  lt__device *dev;
  lt__resource *res;
  int new_res;
  lt__scope *group;
  lt__alloc *allocs[MAX_LIST];
  DXGK_ALLOCATIONINFO info[MAX_LIST];
};

/* Checks handles named by an alloc_create; in audit, lost destroys are
 * resolved; returns 0 when the event must be dropped. */
static int create_validate(lt_replay *r, const lt_event *ev, struct create_state *cs) {
  cs->n = ev->n_allocs;
  if (cs->n == 0 || cs->n > MAX_LIST || ev->resource_data > MAX_RESOURCE_DATA)
    return 0;
  if (ev->device && (cs->dev = lt__want(r, LT_OBJ_DEVICE, ev->device, 0)) == NULL)
    return 0;
  if (ev->resource && ev->new_resource) {
    lt__obj *old = lt__lookup(r, LT_OBJ_RESOURCE, ev->resource);
    if (old && old->state == ST_LIVE) {
      if (lt__kernel(r))
        return 0;
      lt__lost_destroy(r, old);
    }
    cs->new_res = 1;
  } else if (ev->resource) {
    if ((cs->res = lt__want(r, LT_OBJ_RESOURCE, ev->resource, 0)) == NULL ||
        adds_to_released(r, cs->res))
      return 0;
  }
  for (size_t i = 0; i < cs->n; i++) {
    uint64_t h = ev->allocs[i]->alloc;
    for (size_t j = 0; j < i; j++)
      if (ev->allocs[j]->alloc == h)
        return 0;
    lt__obj *old = lt__lookup(r, LT_OBJ_ALLOCATION, h);
    if (old && old->state == ST_LIVE) {
      if (lt__kernel(r))
        return 0;
      lt__lost_destroy(r, old);
    }
  }
  return !r->crashed;
}

static lt__alloc *new_alloc(lt_replay *r, const lt_event *ev, const lt_allocinfo *ai,
                            lt__device *dev) {
  lt__alloc *a = lt__slab_get(&r->alloc_slab);
  if (a == NULL)
    return NULL;
  a->o.type = LT_OBJ_ALLOCATION;
  a->o.handle = ai->alloc;
  a->o.pid = ev->pid ? ev->pid : (dev ? dev->o.pid : 0);
  a->o.rundown = ev->rundown;
  a->size = ai->size ? ai->size : 4096;
  a->align = ai->align;
  a->segset = ai->segments;
  a->preferred = ai->preferred;
  a->flags = ai->flags;
  a->shared = ev->shared;
  a->umd_variant = ai->variant;
  a->umd_resource = ev->resource;
  const LT_UMD_CONTRACT *c = contract(r);
  if (c != NULL && c->SegmentSet && (a->segset & ~c->SegmentSet)) {
    contract_note(r, "DxgkDdiCreateAllocation", "SegmentSet", a->segset, c->SegmentSet,
                  "is a segment set outside it");
    a->segset = (a->segset & c->SegmentSet) ? a->segset & c->SegmentSet : c->SegmentSet;
  }
  if (c != NULL && c->SegmentSet && a->preferred &&
      (a->preferred > 32 || !(c->SegmentSet & (1u << (a->preferred - 1)))))
    a->preferred = 0;
  memcpy(a->priv, &a->size, sizeof a->size);
  memcpy(a->priv + 8, &a->flags, sizeof a->flags);
  return a;
}

/* Registers every object of a failed create as failed, so later events that
 * name them are dropped quietly, and checks the call's scope for leaks. */
static void create_failed(lt_replay *r, struct create_state *cs) {
  for (size_t i = 0; i < cs->n; i++) {
    if (cs->allocs[i] && lt__register(r, &cs->allocs[i]->o) == 0)
      lt__fail(r, &cs->allocs[i]->o);
    else
      lt__slab_put(&r->alloc_slab, cs->allocs[i]);
    cs->allocs[i] = NULL;
  }
  if (cs->new_res && cs->res) {
    lt__scope s = {cs->res->o.serial, 0, LT_OBJ_RESOURCE, cs->res->o.handle};
    lt__check_scope(r, &s, "DxgkDdiCreateAllocation");
    lt__fail(r, &cs->res->o);
  }
  if (cs->group) {
    cs->group->live = 1;
    lt__scope_put(r, cs->group);
  }
}

/* Whether h is the KMD handle of an allocation the driver has not destroyed. */
static int live_kmd(lt_replay *r, HANDLE h) {
  lt__alloc *a = lt__u64map_get(&r->kmd_allocs, (uintptr_t)h);
  return a != NULL && !a->kmd_destroyed;
}

/* Checks DxgkDdiCreateAllocation's outputs (P7, P10); returns 0 if unusable. */
static int create_outputs_ok(lt_replay *r, struct create_state *cs, NTSTATUS st,
                             const DXGKARG_CREATEALLOCATION *args, HANDLE res_in) {
  lt__obj *o = cs->res ? &cs->res->o : NULL;
  if (!NT_SUCCESS(st)) {
    if (res_in == NULL && args->hResource != NULL && lt_pool_is_freed(r->pool, args->hResource))
      bad_status(r, o, "create-outputs", "DxgkDdiCreateAllocation failed but published "
                 "hResource %p, a freed block (call %d)", args->hResource, 0);
    /* M3: a failed call adding to a resource leaves it as it was; the
     * driver must not free the resource object dxgkrnl keeps. */
    if (res_in != NULL)
      kept_resource_check(r, cs->res, "after DxgkDdiCreateAllocation failed");
    return 0;
  }
  int ok = 1;
  for (size_t i = 0; i < cs->n; i++) {
    HANDLE h = cs->info[i].hAllocation;
    if (h == NULL) {
      bad_status(r, &cs->allocs[i]->o, "create-outputs", "DxgkDdiCreateAllocation returned success with a NULL "
                 "hAllocation %p for element %d", h, (int)i);
      ok = 0;
    } else if (lt_pool_is_freed(r->pool, h)) {
      bad_status(r, &cs->allocs[i]->o, "create-outputs", "DxgkDdiCreateAllocation returned success with "
                 "hAllocation %p (element %d), a pool block it already freed", h, (int)i);
    } else if (live_kmd(r, h)) {
      bad_status(r, &cs->allocs[i]->o, "create-outputs", "DxgkDdiCreateAllocation returned hAllocation %p "
                 "(element %d), which is the handle of another live allocation", h, (int)i);
      ok = 0;
    }
  }
  if (cs->new_res && args->hResource && lt_pool_is_freed(r->pool, args->hResource))
    bad_status(r, o, "create-outputs", "DxgkDdiCreateAllocation returned success with hResource %p, a pool "
               "block it already freed (%d)", args->hResource, 0);
  return ok;
}

/* Undoes what the driver made when dxgkrnl cannot publish it (handle-table
 * insertion failed): DestroyAllocation on objects the trace never saw. */
static void create_unmake(lt_replay *r, struct create_state *cs) {
  HANDLE h[MAX_LIST];
  for (size_t i = 0; i < cs->n; i++) {
    h[i] = cs->info[i].hAllocation;
    if (cs->allocs[i]->o.khandle)
      (void)lt__ht_free(&r->kht, cs->allocs[i]->o.khandle);
    cs->allocs[i]->o.khandle = 0;
  }
  size_t max = PER_CALL(r, MaxAllocationsPerDestroy); /* the UMD's contract holds here too */
  for (size_t off = 0; off < cs->n && !r->crashed; off += max) {
    size_t k = cs->n - off < max ? cs->n - off : max;
    DXGKARG_DESTROYALLOCATION d = {(UINT)k, h + off, cs->res ? cs->res->kmd : NULL, {{0}}};
    d.Flags.DestroyResource = cs->new_res && off + k == cs->n;
    (void)lt__ddi(r, "DxgkDdiDestroyAllocation", LT_OBJ_ALLOCATION, cs->allocs[off]->o.handle,
                  cs->res ? cs->res->o.serial : cs->group->serial, lt__ddi_destroy_allocation, &d);
    if (cs->res && !d.Flags.DestroyResource && !r->crashed)
      resource_readback(r, cs->res, d.hResource, "DxgkDdiDestroyAllocation");
  }
}

/* Publishes the created allocations: kernel handles, maps, resource lists.
 * On failure nothing is published. */
static int create_publish(lt_replay *r, struct create_state *cs, lt__alloc **made) {
  int fail_handles = r->handle_fail && --r->handle_fail == 0;
  for (size_t i = 0; i < cs->n; i++) {
    lt__alloc *a = cs->allocs[i];
    a->kmd = cs->info[i].hAllocation;
    if (fail_handles || lt__ht_alloc(&r->kht, a, LT_OBJ_ALLOCATION, &a->o.khandle)) {
      create_unmake(r, cs);
      return LT_ENOMEM;
    }
  }
  for (size_t i = 0; i < cs->n; i++) {
    lt__alloc *a = cs->allocs[i];
    made[i] = a;
    cs->allocs[i] = NULL;
    if (lt__register(r, &a->o) == 0 && lt__u64map_put(&r->kmd_allocs, (uintptr_t)a->kmd, a)) {
      /* Out of memory: the stale-reference oracle may misjudge this one. */
    }
    a->creator = cs->dev;
    lt__ref(cs->dev ? &cs->dev->o : NULL);
    if (cs->res == NULL)
      lt__created_add(r, cs->dev, &a->o);
    a->group = cs->group;
    if (cs->res) {
      a->res = cs->res;
      lt__ref(&cs->res->o);
      a->res_next = cs->res->allocs;
      if (a->res_next)
        a->res_next->res_prev = a;
      cs->res->allocs = a;
      cs->res->n_live++;
    }
  }
  return 0;
}

/* One OpenAllocation with Flags.Create for made[0..n) on the creating device. */
static int create_open_call(lt_replay *r, struct create_state *cs, lt__alloc **made, size_t n) {
  DXGK_OPENALLOCATIONINFO oi[MAX_LIST];
  void *owned[MAX_LIST] = {NULL};
  int rc = 0;
  memset(oi, 0, n * sizeof oi[0]);
  for (size_t i = 0; i < n && rc == 0; i++) {
    oi[i].hAllocation = made[i]->o.khandle;
    rc = alloc_blob(r, made[i], &oi[i].pPrivateDriverData, &oi[i].PrivateDriverDataSize,
                    &owned[i]);
  }
  DXGKARG_OPENALLOCATION args = {(UINT)n, oi, NULL, 0, {{0}}, 0, 0, 0};
  args.Flags.Create = 1;
  struct lt__dev_call c = {cs->dev->kmd, &args};
  uint64_t scope = cs->res ? cs->res->o.serial : cs->group->serial;
  NTSTATUS st = rc ? STATUS_NO_MEMORY
                   : lt__ddi(r, "DxgkDdiOpenAllocation", LT_OBJ_DEVICE, cs->dev->o.handle,
                             scope, lt__ddi_open_allocation, &c);
  free_blobs(owned, n);
  if (rc || st == LT_DDI_CRASHED || !NT_SUCCESS(st))
    return rc ? rc : LT_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (oi[i].hDeviceSpecificAllocation == NULL) {
      bad_status(r, &made[i]->o, "open-outputs", "DxgkDdiOpenAllocation returned success with a NULL "
                 "hDeviceSpecificAllocation %p for element %d", NULL, (int)i);
      continue;
    }
    if (bind(r, cs->dev, made[i], oi[i].hDeviceSpecificAllocation, 1, NULL) == NULL)
      return LT_ENOMEM;
  }
  return 0;
}

/* Opens the creating device's binding (OpenAllocation with Flags.Create), in
 * calls of at most MaxAllocationsPerOpen allocations. */
static int create_open(lt_replay *r, struct create_state *cs, lt__alloc **made) {
  if (cs->dev == NULL)
    return 0;
  size_t max = PER_CALL(r, MaxAllocationsPerOpen);
  for (size_t off = 0; off < cs->n; off += max) {
    int rc = create_open_call(r, cs, made + off, cs->n - off < max ? cs->n - off : max);
    if (rc)
      return rc;
  }
  return 0;
}

/* The resource-level private driver data the UMD sends with a create. When
 * the driver declares a layout: ResourceDataSize bytes on a resource create
 * (zeroed, filled by its builder), NULL otherwise. When it declares none: the
 * trace's resource_data bytes, deterministic content different per resource
 * and per call (so a driver that keeps a stale copy holds different bytes),
 * followed by zeroed slack (UNDECLARED_SLACK). *size = 0 and NULL when none. */
static int resource_blob(lt_replay *r, const lt_event *ev, struct create_state *cs,
                         unsigned char **out, UINT *size) {
  const LT_UMD_PRIVATE_DATA *d = r->mp ? r->mp->UmdPrivateData : NULL;
  *out = NULL;
  *size = d ? (ev->resource ? d->ResourceDataSize : 0) : ev->resource_data;
  if (*size == 0)
    return 0;
  unsigned char *blob = lt_calloc(1, (size_t)*size + (d ? 0 : UNDECLARED_SLACK));
  if (blob == NULL)
    return LT_ENOMEM;
  if (d && d->BuildResourceData) {
    LT_UMD_ALLOCATION u[MAX_LIST];
    for (size_t i = 0; i < cs->n; i++)
      umd_describe(cs->allocs[i], &u[i]);
    d->BuildResourceData(u, (UINT)cs->n, blob, *size);
  } else if (d == NULL) {
    uint64_t x = ev->resource * 0x9e3779b97f4a7c15ull + r->cur_event;
    for (uint32_t i = 0; i < *size; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      blob[i] = (unsigned char)(x >> 56);
    }
  }
  *out = blob;
  return 0;
}

/* Makes the engine's objects of a create (allocations not yet published). */
static int create_make(lt_replay *r, const lt_event *ev, struct create_state *cs) {
  for (size_t i = 0; i < cs->n; i++) {
    if ((cs->allocs[i] = new_alloc(r, ev, ev->allocs[i], cs->dev)) == NULL)
      return LT_ENOMEM;
    cs->allocs[i]->umd_index = (uint32_t)i;
    cs->allocs[i]->umd_count = (uint32_t)cs->n;
  }
  return 0;
}

static int create_call(lt_replay *r, const lt_event *ev, struct create_state *cs) {
  void *owned[MAX_LIST] = {NULL};
  unsigned char *blob = NULL;
  UINT blob_size = 0;
  int rc = 0;
  for (size_t i = 0; i < cs->n && rc == 0; i++)
    rc = alloc_blob(r, cs->allocs[i], &cs->info[i].pPrivateDriverData,
                    &cs->info[i].PrivateDriverDataSize, &owned[i]);
  if (rc || (rc = resource_blob(r, ev, cs, &blob, &blob_size))) {
    free_blobs(owned, cs->n);
    return rc;
  }
  DXGKARG_CREATEALLOCATION args = {blob, blob_size, (UINT)cs->n, cs->info, NULL, {{0}}};
  args.Flags.Resource = ev->resource != 0;
  HANDLE res_in = cs->res ? cs->res->kmd : NULL;
  args.hResource = res_in;
  if (res_in != NULL) /* a path no check after a DDI saw: named before it is passed on */
    kept_resource_check(r, cs->res, "before DxgkDdiCreateAllocation");
  uint64_t scope = cs->res ? cs->res->o.serial : cs->group->serial;
  NTSTATUS st = lt__ddi(r, "DxgkDdiCreateAllocation",
                        cs->res ? LT_OBJ_RESOURCE : LT_OBJ_ALLOCATION,
                        cs->res ? cs->res->o.handle : cs->allocs[0]->o.handle, scope, lt__ddi_create_allocation,
                        &args);
  lt_free(blob);
  free_blobs(owned, cs->n);
  if (st == LT_DDI_CRASHED)
    return LT_EINVAL;
  if (!create_outputs_ok(r, cs, st, &args, res_in))
    return LT_EINVAL;
  if (cs->res && !cs->new_res)
    resource_readback(r, cs->res, args.hResource, "DxgkDdiCreateAllocation");
  else if (cs->res)
    cs->res->kmd = args.hResource;
  return 0;
}

static lt__resource *new_resource(lt_replay *r, const lt_event *ev, lt__device *dev) {
  lt__resource *res = lt_calloc(1, sizeof *res);
  if (res == NULL)
    return NULL;
  res->o.type = LT_OBJ_RESOURCE;
  res->o.handle = ev->resource;
  res->o.pid = ev->pid ? ev->pid : (dev ? dev->o.pid : 0);
  res->o.rundown = ev->rundown;
  res->shared = ev->shared;
  if (lt__register(r, &res->o) ||
      lt__ht_alloc(&r->kht, res, LT_OBJ_RESOURCE, &res->o.khandle)) {
    if (res->o.in_map)
      lt__fail(r, &res->o);
    else
      lt_free(res);
    return NULL;
  }
  res->creator = dev;
  lt__ref(dev ? &dev->o : NULL);
  lt__created_add(r, dev, &res->o);
  return res;
}

/* Rolls back a create that the driver accepted but dxgkrnl cannot complete
 * (binding or handle failure): dxgkrnl destroys what it made. */
static void create_rollback(lt_replay *r, struct create_state *cs, lt__alloc **made, size_t n) {
  for (size_t i = 0; i < n; i++)
    lt__fail(r, &made[i]->o);
  if (cs->new_res)
    lt__fail(r, &cs->res->o);
  if (!r->crashed)
    lt__destroy_now(r, made, n, cs->res, cs->new_res);
}

/* Returns the replay's create work area, cleared for an event of n
 * allocations (entries past n are never read). */
static struct create_state *create_scratch(lt_replay *r, size_t n) {
  if (r->create_scratch == NULL && (r->create_scratch = lt_malloc(sizeof(struct create_state))) == NULL)
    return NULL;
  struct create_state *cs = r->create_scratch;
  n = n < MAX_LIST ? n : MAX_LIST;
  memset(cs, 0, offsetof(struct create_state, allocs));
  memset(cs->allocs, 0, n * sizeof cs->allocs[0]);
  memset(cs->info, 0, n * sizeof cs->info[0]);
  return cs;
}

/* Whether a create would leave its resource with more live allocations than
 * the UMD's contract allows (MaxAllocationsPerResource). */
static int over_resource_max(lt_replay *r, struct create_state *cs) {
  size_t max = PER_CALL(r, MaxAllocationsPerResource);
  size_t have = cs->res && !cs->new_res ? cs->res->n_live : 0;
  if (cs->res == NULL || have + cs->n <= max)
    return 0;
  contract_note(r, "DxgkDdiCreateAllocation", "MaxAllocationsPerResource", have + cs->n, max,
                "allocations in one resource");
  return 1;
}

static void create_one(lt_replay *r, const lt_event *ev);

/* alloc_create: DxgkDdiCreateAllocation, then the creating device's
 * OpenAllocation. A create of more allocations than the UMD's contract
 * allows per call becomes several calls, as that UMD would make them (the
 * first creates the resource, the others add to it).
 * Rules: G1 (checked: a handle the trace creates must not be live, which is
 *   a lost destroy in audit and refused by kernel policy; the driver's
 *   hAllocation values, which dxgkrnl hands back later, must be new: not
 *   NULL, not a freed pool block, not another live allocation's), G5 (a
 *   create adding to a resource its creator released is dropped), G6 (each
 *   allocation gets a generation-checked kernel handle; when one cannot be
 *   made, dxgkrnl undoes the create with DxgkDdiDestroyAllocation), M3
 *   (checked: a failed call leaves its leak scope empty and does not free
 *   the resource an incoming hResource names) and M6 (the creating device's
 *   binding, DxgkDdiOpenAllocation with Flags.Create; if it fails the
 *   create is rolled back). */
void lt__op_alloc_create(lt_replay *r, const lt_event *ev) {
  size_t max = PER_CALL(r, MaxAllocationsPerCreate);
  if (ev->n_allocs <= max) {
    create_one(r, ev);
    return;
  }
  contract_note(r, "DxgkDdiCreateAllocation", "MaxAllocationsPerCreate", ev->n_allocs, max,
                "allocations in one create");
  for (size_t off = 0; off < ev->n_allocs && !r->crashed; off += max) {
    lt_event sub = *ev;
    sub.allocs = ev->allocs + off;
    sub.n_allocs = ev->n_allocs - off < max ? ev->n_allocs - off : max;
    sub.new_resource = ev->new_resource && off == 0;
    create_one(r, &sub);
  }
}

static void create_one(lt_replay *r, const lt_event *ev) {
  struct create_state *cs = create_scratch(r, ev->n_allocs);
  if (cs == NULL || !create_validate(r, ev, cs))
    return;
  if (cs->new_res && (cs->res = new_resource(r, ev, cs->dev)) == NULL)
    return;
  if (cs->res == NULL &&
      (cs->group = lt__scope_new(r, LT_OBJ_ALLOCATION, ev->allocs[0]->alloc, (uint32_t)cs->n)) ==
          NULL)
    return;
  if (create_make(r, ev, cs) || over_resource_max(r, cs) || create_call(r, ev, cs)) {
    create_failed(r, cs);
    return;
  }
  lt__alloc *made[MAX_LIST];
  if (create_publish(r, cs, made)) {
    create_failed(r, cs);
    return;
  }
  if (create_open(r, cs, made))
    create_rollback(r, cs, made, cs->n);
}

/* ---- Open / Close ------------------------------------------------------------------ */

/* One DxgkDdiOpenAllocation of list[0..k) on dev, with its own leak scope. */
static void open_call(lt_replay *r, lt__device *dev, lt__alloc **list, size_t k) {
  DXGK_OPENALLOCATIONINFO oi[MAX_LIST];
  void *owned[MAX_LIST] = {NULL};
  int rc = 0;
  memset(oi, 0, k * sizeof oi[0]);
  for (size_t i = 0; i < k && rc == 0; i++) {
    oi[i].hAllocation = list[i]->o.khandle;
    rc = alloc_blob(r, list[i], &oi[i].pPrivateDriverData, &oi[i].PrivateDriverDataSize,
                    &owned[i]);
  }
  DXGKARG_OPENALLOCATION args = {(UINT)k, oi, NULL, 0, {{0}}, 0, 0, 0};
  lt__scope *group = rc ? NULL : lt__scope_new(r, LT_OBJ_DEVICE, dev->o.handle, (uint32_t)k);
  if (group == NULL) {
    free_blobs(owned, k);
    return;
  }
  struct lt__dev_call c = {dev->kmd, &args};
  NTSTATUS st = lt__ddi(r, "DxgkDdiOpenAllocation", LT_OBJ_DEVICE, dev->o.handle, group->serial,
                        lt__ddi_open_allocation, &c);
  free_blobs(owned, k);
  if (st == LT_DDI_CRASHED || !NT_SUCCESS(st)) {
    /* Nothing is bound: whatever the driver made for this call must be gone. */
    group->live = 1;
    const char *outer = r->cur_ddi;
    r->cur_ddi = "DxgkDdiOpenAllocation";
    lt__scope_put(r, group);
    r->cur_ddi = outer;
    return;
  }
  uint32_t bound = 0;
  for (size_t i = 0; i < k; i++) {
    if (oi[i].hDeviceSpecificAllocation == NULL) {
      bad_status(r, &list[i]->o, "open-outputs", "DxgkDdiOpenAllocation returned success with a NULL "
                 "hDeviceSpecificAllocation %p for element %d", NULL, (int)i);
      continue;
    }
    if (bind(r, dev, list[i], oi[i].hDeviceSpecificAllocation, 0, group))
      bound++;
  }
  group->live = bound ? bound : 1;
  if (bound == 0)
    lt__scope_put(r, group);
}

/* alloc_open: DxgkDdiOpenAllocation on another device, in calls of at most
 * MaxAllocationsPerOpen allocations (the UMD's contract).
 * Rules: G1 (checked: the device and every handle must be live; kernel
 *   policy refuses the whole call for a dead one, audit opens the rest),
 *   G6 (each allocation is named by its generation-checked kernel handle)
 *   and M6 (checked: one binding per allocation the driver opened with a
 *   non-NULL hDeviceSpecificAllocation; a failed or crashed call must leave
 *   nothing in its leak scope, so partial opens are rolled back). */
void lt__op_alloc_open(lt_replay *r, const lt_event *ev) {
  lt__device *dev = lt__want(r, LT_OBJ_DEVICE, ev->device, 0);
  size_t n = ev->n_handles;
  if (dev == NULL || n == 0 || n > MAX_LIST)
    return;
  lt__alloc *list[MAX_LIST];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->handles[i], 0);
    if (a == NULL) {
      if (lt__kernel(r))
        return;
      continue;
    }
    list[k++] = a;
  }
  size_t max = PER_CALL(r, MaxAllocationsPerOpen);
  if (n > max)
    contract_note(r, "DxgkDdiOpenAllocation", "MaxAllocationsPerOpen", n, max,
                  "allocations in one open");
  for (size_t off = 0; off < k && !r->crashed; off += max)
    open_call(r, dev, list + off, k - off < max ? k - off : max);
}

/* alloc_close: DxgkDdiCloseAllocation of the listed allocations' bindings on
 * one device, in calls of at most MaxAllocationsPerClose (the UMD's
 * contract; more in one event is a contract note). Each handle must be live
 * (G1, checked by lt__want; a dead one is reported and skipped) and closes
 * one binding of that device, an OpenAllocation's before the creating
 * device's own, so a device that opened an allocation twice closes twice
 * (M6: one binding per open, whose leak scope is checked when it is closed).
 * A close may be the last opener of a shared allocation whose destroy waited
 * for it (G2, G5), so deferred destroys run afterwards. */
void lt__op_alloc_close(lt_replay *r, const lt_event *ev) {
  lt__device *dev = lt__want(r, LT_OBJ_DEVICE, ev->device, 0);
  size_t n = ev->n_handles;
  if (dev == NULL || n == 0 || n > MAX_LIST)
    return;
  if (n > PER_CALL(r, MaxAllocationsPerClose))
    contract_note(r, "DxgkDdiCloseAllocation", "MaxAllocationsPerClose", n,
                  PER_CALL(r, MaxAllocationsPerClose), "allocations in one close");
  lt__binding *sel[MAX_LIST];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->handles[i], 0);
    if (a == NULL)
      continue;
    lt__binding *pick = NULL;
    for (lt__binding *b = a->bindings; b; b = b->alloc_next) {
      int taken = 0;
      for (size_t j = 0; j < k; j++)
        taken |= sel[j] == b;
      if (b->dev == dev && !taken && (pick == NULL || pick->is_create))
        pick = b;
    }
    if (pick)
      sel[k++] = pick;
  }
  lt__close_bindings(r, dev, sel, k);
  lt__run_deferred(r, 0);
}
