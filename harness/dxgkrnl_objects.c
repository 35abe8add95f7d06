/* Object registry of the simulated dxgkrnl: trace handle maps, tombstones,
 * reference counts and leak-check scopes (see dxgkrnl.h). */
#include <string.h>

#include "dxgkrnl.h"

static lt__u64map *map_for(lt_replay *r, int type) {
  switch (type) {
  case LT_OBJ_DEVICE: return &r->devices;
  case LT_OBJ_CONTEXT: return &r->contexts;
  case LT_OBJ_RESOURCE: return &r->resources;
  default: return &r->allocs;
  }
}

/* The live or tombstoned object of type with trace handle handle, or NULL;
 * the map holds a reference, the caller gets none. */
lt__obj *lt__lookup(lt_replay *r, int type, uint64_t handle) {
  return lt__u64map_get(map_for(r, type), handle);
}

/* Takes a reference on o (NULL is a no-op), for a packet, a deferred destroy
 * or a child that must keep it from being freed. */
void lt__ref(lt__obj *o) {
  if (o)
    o->refs++;
}

static void free_obj(lt_replay *r, lt__obj *o) {
  switch (o->type) {
  case LT_OBJ_ALLOCATION: {
    lt__alloc *a = (lt__alloc *)o;
    if (a->kmd)
      (void)lt__u64map_del_if(&r->kmd_allocs, (uintptr_t)a->kmd, a);
    lt__unref(r, a->res ? &a->res->o : NULL);
    lt__unref(r, a->creator ? &a->creator->o : NULL);
    break;
  }
  case LT_OBJ_CONTEXT:
    lt__unref(r, ((lt__context *)o)->dev ? &((lt__context *)o)->dev->o : NULL);
    break;
  case LT_OBJ_RESOURCE:
    lt__unref(r, ((lt__resource *)o)->creator ? &((lt__resource *)o)->creator->o : NULL);
    break;
  default: break;
  }
  if (o->khandle)
    (void)lt__ht_free(&r->kht, o->khandle);
  if (o->type == LT_OBJ_ALLOCATION)
    lt__slab_put(&r->alloc_slab, o);
  else
    lt_free(o);
}

/* Drops a reference on o (NULL is a no-op); the last one frees it with its
 * kernel handle, and drops the references it held on its resource, device or
 * creator. */
void lt__unref(lt_replay *r, lt__obj *o) {
  if (o && --o->refs == 0)
    free_obj(r, o);
}

static void tomb_push(lt_replay *r, lt__obj *o) {
  o->tomb_next = NULL;
  if (r->tomb_tail)
    r->tomb_tail->tomb_next = o;
  else
    r->tomb_head = o;
  r->tomb_tail = o;
  if (++r->n_tombs <= LT_TOMBSTONES)
    return;
  lt__obj *old = r->tomb_head;
  r->tomb_head = old->tomb_next;
  if (r->tomb_head == NULL)
    r->tomb_tail = NULL;
  r->n_tombs--;
  lt__u64map *m = map_for(r, old->type);
  if (old->in_map)
    (void)lt__u64map_del_if(m, old->handle, old);
  old->in_map = 0;
  lt__unref(r, old);
}

/* Registers a new object under its handle, replacing a tombstone. The caller
 * has checked that no live object holds the handle. */
int lt__register(lt_replay *r, lt__obj *o) {
  lt__u64map *m = map_for(r, o->type);
  lt__obj *old = lt__u64map_get(m, o->handle);
  if (old)
    old->in_map = 0;
  int err = lt__u64map_put(m, o->handle, o);
  if (err)
    return err;
  o->in_map = 1;
  o->refs = 1;
  o->serial = lt__serial(r);
  o->created_at = r->cur ? (int64_t)r->cur_event : -1;
  lt__hist(r, o);
  return 0;
}

static lt__created *created_list(lt_replay *r, lt__obj *o) {
  lt__device *dev = o->type == LT_OBJ_RESOURCE ? ((lt__resource *)o)->creator
                                               : ((lt__alloc *)o)->creator;
  return dev ? &dev->created : &r->created_nodev;
}

/* Adds a live device allocation or resource to its creator's list. */
void lt__created_add(lt_replay *r, lt__device *dev, lt__obj *o) {
  lt__created *l = dev ? &dev->created : &r->created_nodev;
  o->created_prev = NULL;
  o->created_next = l->head;
  if (l->head)
    l->head->created_prev = o;
  l->head = o;
  o->in_created = 1;
}

static void created_remove(lt_replay *r, lt__obj *o) {
  if (!o->in_created)
    return;
  lt__created *l = created_list(r, o);
  if (o->created_prev)
    o->created_prev->created_next = o->created_next;
  else
    l->head = o->created_next;
  if (o->created_next)
    o->created_next->created_prev = o->created_prev;
  o->created_prev = o->created_next = NULL;
  o->in_created = 0;
}

/* Takes a shared object off its creator's list and marks it released: it
 * stays live in the trace's view for the devices that still have it open
 * (G5), and a deferred destroy waits for them (lt__release_shared). */
void lt__release(lt_replay *r, lt__obj *o, int how) {
  if (o->state != ST_LIVE || o->released)
    return;
  created_remove(r, o);
  o->released = how;
  o->released_at = r->cur_event;
  lt__hist(r, o);
}

/* A destroy naming an object that dxgkrnl destroyed on its own when the last
 * opener closed it, after its creator was torn down: that destroy's record
 * (AdapterAllocation stop) arrives after the close. Accepted once. */
int lt__end_recorded(lt_replay *r, int type, uint64_t handle) {
  lt__obj *o = lt__lookup(r, type, handle);
  if (o == NULL || o->state != ST_DEAD || !o->end_unrecorded)
    return 0;
  o->end_unrecorded = 0;
  lt__hist(r, o);
  return 1;
}

/* Marks an object destroyed (or failed) in the trace's view and hands its
 * registration reference to the tombstone FIFO. */
void lt__kill(lt_replay *r, lt__obj *o) {
  if (o->state != ST_LIVE)
    return;
  created_remove(r, o);
  o->state = ST_DEAD;
  if (r->cur && o->n_destroyed < LT_FINDING_MAX_DESTROYS)
    o->destroyed_at[o->n_destroyed++] = r->cur_event;
  lt__hist(r, o);
  tomb_push(r, o);
}

/* Marks a registered object whose creation failed: later events naming it
 * are dropped without findings. */
void lt__fail(lt_replay *r, lt__obj *o) {
  if (o->state != ST_LIVE)
    return;
  created_remove(r, o);
  o->state = ST_FAILED;
  tomb_push(r, o);
}

/* A leak-check scope for live objects of kind object made in one call: pool
 * blocks made while serving them are charged to its serial, and checked when
 * the last of them goes. NULL when out of memory. */
lt__scope *lt__scope_new(lt_replay *r, int object, uint64_t handle, uint32_t live) {
  lt__scope *s = lt__slab_get(&r->scope_slab);
  if (s == NULL)
    return NULL;
  s->serial = lt__serial(r);
  s->object = object;
  s->handle = handle;
  s->live = live;
  return s;
}

/* Drops one member of a scope; when none is left, checks it for leaked
 * pool blocks and frees it. */
void lt__scope_put(lt_replay *r, lt__scope *s) {
  if (s == NULL || --s->live > 0)
    return;
  lt__check_scope(r, s, r->cur_ddi);
  lt__slab_put(&r->scope_slab, s);
}

/* G1 (checked): the object an event names must be live. Returns it, or NULL
 * after recording why not: a handle never created is unknown-handle (a
 * warning for a destroy in a window trace: it may predate the capture), a
 * destroyed one is double-destroy (destroy) or use-after-destroy (any other
 * use), with the tombstone's history. Kernel policy records nothing: the
 * caller refuses the event, as dxgkrnl fails the call. */
void *lt__want(lt_replay *r, int type, uint64_t handle, int destroy) {
  lt__obj *o = lt__lookup(r, type, handle);
  if (o == NULL) {
    int sev = r->window ? LT_SEV_WARNING : LT_SEV_ERROR;
    lt_finding f;
    lt__finding_init(&f, LT_F_UNKNOWN_HANDLE, sev);
    f.object = type;
    f.handle = handle;
    f.pid = r->cur ? r->cur->pid : 0;
    snprintf(f.message, sizeof f.message, "%s names %s 0x%llx, which was never created%s",
             lt_op_name(r->cur->op), lt_object_name(type), (unsigned long long)handle,
             r->window ? " in this capture (it may predate it)" : "");
    if (r->cur) {
      f.n_history = 1;
      f.history[0].event = r->cur_event;
      f.history[0].op = r->cur->op;
    }
    if (!lt__kernel(r))
      lt__finding_at(r, &f);
    return NULL;
  }
  if (o->state == ST_FAILED)
    return NULL;
  if (o->state == ST_DEAD) {
    if (!lt__kernel(r))
      lt__finding(r, destroy ? LT_F_DOUBLE_DESTROY : LT_F_USE_AFTER_DESTROY, LT_SEV_ERROR, o,
                  "%s names %s 0x%llx, destroyed at event %llu", lt_op_name(r->cur->op),
                  lt_object_name(type), (unsigned long long)handle,
                  (unsigned long long)(o->n_destroyed ? o->destroyed_at[o->n_destroyed - 1] : 0));
    return NULL;
  }
  lt__hist(r, o);
  return o;
}

/* Frees every object the engine still tracks (packets, deferred destroys,
 * live objects, tombstones) without calling the driver or reporting
 * anything; used by lt_replay_free after finish has done the checks. */
void lt__objects_reset(lt_replay *r) {
  for (int n = 0; n < LT_MAX_NODES; n++)
    lt__retire_packets(r, &r->nodes[n], UINT64_MAX);
  while (r->deferred) {
    lt__deferred *d = r->deferred;
    r->deferred = d->next;
    for (size_t i = 0; i < d->n; i++)
      lt__unref(r, &d->allocs[i]->o);
    lt__unref(r, d->res ? &d->res->o : NULL);
    lt_free(d->allocs);
    lt_free(d);
  }
  /* Collect live objects first: tombstones in the maps may be freed below. */
  lt__u64map *maps[] = {&r->allocs, &r->contexts, &r->resources, &r->devices};
  size_t n_live = 0, k = 0;
  for (int m = 0; m < 4; m++)
    n_live += maps[m]->n;
  lt__obj **live = lt_calloc(n_live ? n_live : 1, sizeof *live);
  for (int m = 0; m < 4 && live; m++)
    for (size_t i = 0; i < maps[m]->cap; i++) {
      lt__obj *o = maps[m]->slots[i].val;
      if (o && o->state == ST_LIVE && o->in_map)
        live[k++] = o;
    }
  lt__u64map_reset(&r->devices);
  lt__u64map_reset(&r->contexts);
  lt__u64map_reset(&r->resources);
  lt__u64map_reset(&r->allocs);
  lt__u64map_reset(&r->kmd_allocs);
  lt__u64map_reset(&r->stale_seen);
  for (size_t i = 0; i < k; i++) {
    lt__obj *o = live[i];
    if (o->type == LT_OBJ_ALLOCATION) {
      lt__alloc *a = (lt__alloc *)o;
      while (a->bindings) {
        lt__binding *b = a->bindings;
        a->bindings = b->alloc_next;
        if (b->group && --b->group->live == 0)
          lt__slab_put(&r->scope_slab, b->group);
        lt__slab_put(&r->binding_slab, b);
      }
      if (a->group && --a->group->live == 0)
        lt__slab_put(&r->scope_slab, a->group);
      a->group = NULL;
    }
  }
  while (r->tomb_head) {
    lt__obj *o = r->tomb_head;
    r->tomb_head = o->tomb_next;
    lt__unref(r, o);
  }
  r->tomb_tail = NULL;
  r->n_tombs = 0;
  for (size_t i = 0; i < k; i++)
    lt__unref(r, live[i]);
  lt_free(live);
}
