/* Devices, contexts and teardown in the simulated dxgkrnl: create/destroy,
 * device teardown in WSL's documented order, process exit, and the end of a
 * trace (leak checks, adapter stop). */
#include <string.h>

#include "dxgkrnl.h"

/* In audit a live handle created again means a lost destroy; kernel refuses.
 * Returns 0 when the create must be dropped. */
static int fresh_handle(lt_replay *r, int type, uint64_t handle) {
  lt__obj *old = lt__lookup(r, type, handle);
  if (old == NULL || old->state != ST_LIVE)
    return 1;
  if (lt__kernel(r))
    return 0;
  lt__lost_destroy(r, old);
  return !r->crashed;
}

static void scope_check_obj(lt_replay *r, lt__obj *o, const char *ddi) {
  lt__scope s = {o->serial, 0, o->type, o->handle};
  lt__check_scope(r, &s, ddi);
}

/* device_create: DxgkDdiCreateDevice for one process's D3D device. A live
 * device handle created again is a lost destroy in audit and refused in
 * kernel (G1: each object is destroyed once before its handle is reused).
 * Success with a NULL hDevice is a bad status; a failed or crashed call must
 * leave no pool memory behind, which the device's leak scope checks (M3),
 * and the device is then marked failed so later events on it are dropped
 * quietly. */
void lt__op_device_create(lt_replay *r, const lt_event *ev) {
  if (!fresh_handle(r, LT_OBJ_DEVICE, ev->device))
    return;
  lt__device *d = lt_calloc(1, sizeof *d);
  if (d == NULL)
    return;
  d->o.type = LT_OBJ_DEVICE;
  d->o.handle = ev->device;
  d->o.pid = ev->pid;
  d->o.rundown = ev->rundown;
  if (lt__register(r, &d->o)) {
    lt_free(d);
    return;
  }
  DXGKARG_CREATEDEVICE args;
  memset(&args, 0, sizeof args);
  args.hDevice = d;
  NTSTATUS st = lt__ddi(r, "DxgkDdiCreateDevice", LT_OBJ_DEVICE, d->o.handle, d->o.serial,
                        lt__ddi_create_device, &args);
  if (st != LT_DDI_CRASHED && NT_SUCCESS(st) && args.hDevice == NULL)
    lt__finding(r, LT_F_MINIPORT_BAD_STATUS, LT_SEV_ERROR, &d->o,
                "DxgkDdiCreateDevice returned success with a NULL hDevice");
  if (st == LT_DDI_CRASHED || !NT_SUCCESS(st) || args.hDevice == NULL) {
    scope_check_obj(r, &d->o, "DxgkDdiCreateDevice");
    lt__fail(r, &d->o);
    return;
  }
  d->kmd = args.hDevice;
}

/* context_create: DxgkDdiCreateContext on a live device (G1) for one GPU
 * node. Same output contract as device_create: success with a NULL hContext
 * is a bad status, and a failed call must leave nothing in its leak scope
 * (M3). The context holds a reference on its device until it is destroyed. */
void lt__op_context_create(lt_replay *r, const lt_event *ev) {
  lt__device *dev = lt__want(r, LT_OBJ_DEVICE, ev->device, 0);
  if (dev == NULL || !fresh_handle(r, LT_OBJ_CONTEXT, ev->context))
    return;
  lt__context *c = lt_calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->o.type = LT_OBJ_CONTEXT;
  c->o.handle = ev->context;
  c->o.pid = ev->pid ? ev->pid : dev->o.pid;
  c->node = ev->node % LT_MAX_NODES;
  if (lt__register(r, &c->o)) {
    lt_free(c);
    return;
  }
  c->dev = dev;
  lt__ref(&dev->o);
  struct lt__ctx_call cc = {dev->kmd, {.hContext = c, .NodeOrdinal = c->node,
                                       .EngineAffinity = c->node < 32 ? 1u << c->node : 0}};
  NTSTATUS st = lt__ddi(r, "DxgkDdiCreateContext", LT_OBJ_CONTEXT, c->o.handle, c->o.serial,
                        lt__ddi_create_context, &cc);
  if (st != LT_DDI_CRASHED && NT_SUCCESS(st) && cc.args.hContext == NULL)
    lt__finding(r, LT_F_MINIPORT_BAD_STATUS, LT_SEV_ERROR, &c->o,
                "DxgkDdiCreateContext returned success with a NULL hContext");
  if (st == LT_DDI_CRASHED || !NT_SUCCESS(st) || cc.args.hContext == NULL) {
    scope_check_obj(r, &c->o, "DxgkDdiCreateContext");
    lt__fail(r, &c->o);
    return;
  }
  c->kmd = cc.args.hContext;
  c->next = dev->contexts;
  dev->contexts = c;
}

/* Destroys a context after its GPU work has run (context teardown executes
 * pending packets), then checks its pool scope. */
void lt__context_destroy(lt_replay *r, lt__context *c) {
  lt__drain_context(r, c);
  for (lt__context **pp = &c->dev->contexts; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  lt__kill(r, &c->o);
  (void)lt__ddi(r, "DxgkDdiDestroyContext", LT_OBJ_CONTEXT, c->o.handle, c->o.serial,
                lt__ddi_destroy_context, c->kmd);
  scope_check_obj(r, &c->o, "DxgkDdiDestroyContext");
  lt__check_stale(r, "DxgkDdiDestroyContext", 0);
  lt__check_recent_frees(r, "DxgkDdiDestroyContext");
}

/* context_destroy: dxgkrnl idles the context (its queued packets complete)
 * and calls DxgkDdiDestroyContext; then the context's leak scope, the
 * driver's stale references (M4) and the recent frees are checked. A dead or
 * unknown context is reported by lt__want as a double or unknown destroy
 * (G1). */
void lt__op_context_destroy(lt_replay *r, const lt_event *ev) {
  lt__context *c = lt__want(r, LT_OBJ_CONTEXT, ev->context, 1);
  if (c)
    lt__context_destroy(r, c);
}

/* device_destroy: the full device teardown of section 2.2.5 (WSL's
 * dxgdevice_destroy order): flush its GPU work, destroy the allocations and
 * resources it created (shared ones another device still has open are only
 * released: G5), close its other bindings with DxgkDdiCloseAllocation (G2),
 * destroy its contexts with DxgkDdiDestroyContext, then
 * DxgkDdiDestroyDevice. Objects the app left alive are warnings (leak), not
 * errors: dxgkrnl cleans them up. M5 is checked by the device's leak scope
 * and the stale-reference walk after DestroyDevice. */
void lt__op_device_destroy(lt_replay *r, const lt_event *ev) {
  lt__device *d = lt__want(r, LT_OBJ_DEVICE, ev->device, 1);
  if (d)
    lt__device_teardown(r, d, LT_SEV_WARNING);
}

/* Collects live objects of one type matching a predicate, taking a reference
 * on each (maps change while they are destroyed). */
static size_t collect(lt_replay *r, lt__u64map *m, int (*pred)(lt__obj *, void *), void *arg,
                      lt__obj ***out) {
  size_t n = 0;
  *out = NULL;
  lt__obj **v = lt_calloc(m->n ? m->n : 1, sizeof *v);
  if (v == NULL)
    return 0;
  for (size_t i = 0; i < m->cap; i++) {
    lt__obj *o = m->slots[i].val;
    if (o && o->state == ST_LIVE && o->in_map && pred(o, arg)) {
      lt__ref(o);
      v[n++] = o;
    }
  }
  *out = v;
  return n;
}

static void release_all(lt_replay *r, lt__obj **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    lt__unref(r, v[i]);
  lt_free(v);
}

/* Takes the live objects of one type from a creation list, referenced. */
static size_t collect_created(lt__created *l, int type, lt__obj ***out) {
  size_t n = 0;
  *out = NULL;
  for (lt__obj *o = l->head; o; o = o->created_next)
    n += o->type == type;
  lt__obj **v = lt_calloc(n ? n : 1, sizeof *v);
  if (v == NULL)
    return 0;
  n = 0;
  for (lt__obj *o = l->head; o; o = o->created_next)
    if (o->type == type && o->state == ST_LIVE) {
      lt__ref(o);
      v[n++] = o;
    }
  *out = v;
  return n;
}

static int any_obj(lt__obj *o, void *arg) { return 1; }

static void report_leak(lt_replay *r, lt__obj *o, int sev, const char *why) {
  if (sev >= 0)
    lt__finding(r, LT_F_LEAK, sev, o, "%s 0x%llx is still alive %s", lt_object_name(o->type),
                (unsigned long long)o->handle, why);
}

/* Destroys what a device created: device allocations one by one, resources
 * with all their allocations. Shared ones another device has open are only
 * released (G5): they live on until their last opener closes them. */
static void destroy_created(lt_replay *r, lt__device *d, int sev) {
  lt__obj **v;
  lt__created *clist = d ? &d->created : &r->created_nodev;
  size_t n = collect_created(clist, LT_OBJ_ALLOCATION, &v);
  for (size_t i = 0; i < n && !r->crashed; i++) {
    lt__alloc *a = (lt__alloc *)v[i];
    if (a->o.state != ST_LIVE)
      continue;
    int shared = 0;
    for (lt__binding *b = a->bindings; b; b = b->alloc_next)
      shared |= b->dev != d;
    if (shared) {
      lt__release_shared(r, &a, 1, NULL, 0, LT_RELEASED_TEARDOWN);
      continue;
    }
    report_leak(r, &a->o, sev, "when its device is destroyed");
    lt__kill(r, &a->o);
    lt__destroy_now(r, &a, 1, NULL, 0);
  }
  release_all(r, v, n);
  n = collect_created(clist, LT_OBJ_RESOURCE, &v);
  for (size_t i = 0; i < n && !r->crashed; i++) {
    lt__resource *res = (lt__resource *)v[i];
    lt__alloc *list[256];
    size_t k = 0;
    int shared = 0;
    for (lt__alloc *a = res->allocs; a && k < 256; a = a->res_next)
      if (a->o.state == ST_LIVE) {
        list[k++] = a;
        for (lt__binding *b = a->bindings; b; b = b->alloc_next)
          shared |= b->dev != d;
      }
    if (shared) {
      lt__release_shared(r, list, k, res, 1, LT_RELEASED_TEARDOWN);
      continue;
    }
    report_leak(r, &res->o, sev, "when its device is destroyed");
    for (size_t j = 0; j < k; j++)
      lt__kill(r, &list[j]->o);
    lt__kill(r, &res->o);
    lt__destroy_now(r, list, k, res, 1);
  }
  release_all(r, v, n);
}

/* G2, G5 (modelled): tears a device down as dxgkrnl does (WSL dxgdevice_destroy): flush its GPU
 * work, destroy what it created, close its other bindings (a shared object
 * whose creator is gone dies with its last one: G5), destroy its contexts,
 * then DestroyDevice. sev: severity of leak findings, -1 none. */
void lt__device_teardown(lt_replay *r, lt__device *d, int sev) {
  if (d->torn_down)
    return;
  d->torn_down = 1;
  lt__ref(&d->o);
  for (lt__context *c = d->contexts; c; c = c->next)
    lt__drain_context(r, c);
  destroy_created(r, d, sev);
  size_t n = 0;
  for (lt__binding *b = d->bindings; b; b = b->dev_next)
    n++;
  lt__binding **sel = n ? lt_calloc(n, sizeof *sel) : NULL;
  n = 0;
  for (lt__binding *b = d->bindings; b && sel; b = b->dev_next)
    sel[n++] = b;
  if (!r->crashed)
    lt__close_bindings(r, d, sel, n);
  lt_free(sel);
  if (n && !r->crashed)
    lt__run_deferred(r, 0);
  while (d->contexts && !r->crashed) {
    report_leak(r, &d->contexts->o, sev, "when its device is destroyed");
    lt__context_destroy(r, d->contexts);
  }
  lt__kill(r, &d->o);
  (void)lt__ddi(r, "DxgkDdiDestroyDevice", LT_OBJ_DEVICE, d->o.handle, d->o.serial,
                lt__ddi_destroy_device, d->kmd);
  scope_check_obj(r, &d->o, "DxgkDdiDestroyDevice");
  lt__check_stale(r, "DxgkDdiDestroyDevice", 1);
  lt__run_deferred(r, 0);
  lt__unref(r, &d->o);
}

static int of_pid(lt__obj *o, void *pid) { return o->pid == *(uint64_t *)pid; }

/* process_exit: the process's devices are torn down as at device_destroy,
 * one after another (WSL's dxgprocess_destroy: flush each device's work,
 * then destroy it), so the driver sees the ordinary DxgkDdiCloseAllocation,
 * DxgkDdiDestroyAllocation, DxgkDdiDestroyContext and DxgkDdiDestroyDevice
 * calls (G2, G5). What the process left alive is a warning. */
void lt__op_process_exit(lt_replay *r, const lt_event *ev) {
  uint64_t pid = ev->pid;
  lt__obj **v;
  size_t n = collect(r, &r->devices, of_pid, &pid, &v);
  for (size_t i = 0; i < n && !r->crashed; i++)
    lt__device_teardown(r, (lt__device *)v[i], LT_SEV_WARNING);
  release_all(r, v, n);
}

static void report_all_leaks(lt_replay *r, int sev) {
  lt__u64map *maps[] = {&r->allocs, &r->resources, &r->contexts, &r->devices};
  for (int m = 0; m < 4; m++) {
    lt__obj **v;
    size_t n = collect(r, maps[m], any_obj, NULL, &v);
    for (size_t i = 0; i < n; i++)
      report_leak(r, v[i], sev, "after the last event of a teardown trace");
    release_all(r, v, n);
  }
}

/* Ends the trace: leak findings (teardown traces), then the rest of the
 * run's life as dxgkrnl would finish it, DxgkDdiStopDevice, and the adapter
 * leak check. sev: severity of end-of-trace leaks, -1 for window traces. */
void lt__teardown_all(lt_replay *r, int sev) {
  report_all_leaks(r, sev);
  for (uint32_t node = 0; node < LT_MAX_NODES && !r->crashed; node++)
    if (r->nodes[node].tail)
      lt__complete_node(r, node, r->nodes[node].tail->node_fence);
  lt__obj **v;
  size_t n = collect(r, &r->devices, any_obj, NULL, &v);
  for (size_t i = 0; i < n && !r->crashed; i++)
    lt__device_teardown(r, (lt__device *)v[i], -1);
  release_all(r, v, n);
  /* Objects created without a device (device 0, e.g. imported rundown). */
  for (size_t i = 0; i < LT_MAX_SOURCES; i++)
    if (r->scanout[i])
      r->scanout[i]->displayed = 0;
  lt__run_deferred(r, 1);
  destroy_created(r, NULL, -1);
  if (r->crashed)
    return;
  const char *outer = r->cur_ddi;
  r->cur_ddi = "teardown";
  lt_pool_check_quarantine(r->pool);
  r->cur_ddi = outer;
  (void)lt__ddi(r, "DxgkDdiStopDevice", LT_OBJ_NONE, 0, 0, lt__ddi_stop_device, NULL);
  if (!r->crashed)
    lt__check_adapter_leaks(r);
}
