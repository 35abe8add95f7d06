/* The simulated dxgkrnl: the adapter's life (DxgkDdiStartDevice to
 * DxgkDdiStopDevice), the dispatch of each trace event to the op that models
 * it, and notes (see lifetrace/replay.h, dxgkrnl.h, docs/replay-engine.md).
 * Where the rest lives: the DDI call sites and their guard in dxgkrnl_ddi.c,
 * the DxgkCb* callbacks in dxgkrnl_callbacks.c, objects and handle tables in
 * dxgkrnl_objects.c, the ops in dxgkrnl_alloc.c (allocations, G1-G5),
 * dxgkrnl_gpu.c (GPU work, residency, locks, scanout, TDR: G3, G4, G6) and
 * dxgkrnl_teardown.c (devices, contexts, process exit: G7, G8), and the
 * oracles in dxgkrnl_oracles.c. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asan.h"

#include "dxgkrnl.h"
#include "kernel_shim.h"

/* "kernel" or "audit", as the CLI and verdicts name a policy; see
 * lifetrace/replay.h. */
const char *lt_policy_name(int policy) { return policy == LT_POLICY_KERNEL ? "kernel" : "audit"; }

/* The policy named name, or -1; see lifetrace/replay.h. */
int lt_policy_from_name(const char *name) {
  if (!strcmp(name, "audit"))
    return LT_POLICY_AUDIT;
  if (!strcmp(name, "kernel"))
    return LT_POLICY_KERNEL;
  return -1;
}

/* The engine's next serial number, never reused within a replay: it names
 * GPU owners and pool scopes, so a reused handle or range is told apart from
 * the freed one. */
uint64_t lt__serial(lt_replay *r) { return ++r->serial; }

/* ---- lifecycle ------------------------------------------------------------------ */

static int make_gpu(lt_replay *r) {
  lt_gpu_segment_desc segs[32];
  size_t n = 0;
  for (size_t i = 0; i < r->header->n_segments && n < 32; i++) {
    const Lifetrace__Segment *s = r->header->segments[i];
    if (s->id == 0 || s->id > 32 || s->size == 0)
      continue;
    segs[n++] = (lt_gpu_segment_desc){s->id, (int)s->kind, s->size};
  }
  if (n == 0) {
    segs[n++] = (lt_gpu_segment_desc){1, LT_SEGMENT_LOCAL, 1ull << 30};
    segs[n++] = (lt_gpu_segment_desc){2, LT_SEGMENT_APERTURE, 256ull << 20};
  }
  int err = lt_gpu_new(&r->gpu, segs, n);
  if (err)
    return err;
  lt_gpu_set_violation_cb(r->gpu, lt__gpu_violation, r);
  return 0;
}

static int copy_header(lt_replay *r, const lt_header *h) {
  r->header = lt_header_copy(h);
  return r->header ? 0 : LT_ENOMEM;
}

/* Makes the machine in a zeroed engine (its slabs and handle table set up)
 * and starts the adapter; on an error the engine is left for
 * lt_replay_free. */
static int replay_start(lt_replay *r, const lt_header *h, const lt_replay_opts *o) {
  r->opts = *o;
  r->mp = o->miniport;
  lt__kernel_init(&r->kernel);
  lt_findings_init(&r->findings, o->max_findings ? o->max_findings : 10000);
  r->reported_scope = UINT64_MAX;
  int err = LT_EABI;
  if (r->mp == NULL || r->mp->AbiVersion != LT_MINIPORT_ABI_VERSION ||
      r->mp->Size != sizeof(LT_MINIPORT))
    return err;
  if ((err = copy_header(r, h)) || (err = make_gpu(r)) || (err = lt_pool_new(&r->pool)) ||
      (err = lt_pool_set_special(r->pool, o->special_pool)))
    return err;
  r->window = r->header->ends == LIFETRACE__ENDS__ENDS_WINDOW;
  (void)lt_pool_set_asan_poison(r->pool, o->asan_poison);
  lt_pool_set_problem_cb(r->pool, lt__pool_problem, r);
  lt__callbacks_init(r);
  lt__install_crash_handlers();
  lt__current = r;
  lt_pool_set_current(r->pool);
  NTSTATUS st = lt__ddi(r, "DxgkDdiStartDevice", LT_OBJ_NONE, 0, 0, lt__ddi_start_device, NULL);
  if (st == LT_DDI_CRASHED)
    r->crashed = 1;
  else if (!NT_SUCCESS(st))
    lt__finding(r, LT_F_MINIPORT_BAD_STATUS, LT_SEV_ERROR, NULL,
                "DxgkDdiStartDevice failed with status 0x%08x", (unsigned)st);
  else
    r->started = 1;
  return 0;
}

/* Makes the simulated machine for a trace with header h (copied) and starts
 * the adapter through DxgkDdiStartDevice; the caller owns *out and frees it
 * with lt_replay_free. LT_EABI when the miniport is missing or of another
 * ABI, LT_ENOMEM when out of memory. See lifetrace/replay.h. */
int lt_replay_new(lt_replay **out, const lt_header *h, const lt_replay_opts *o) {
  lt_replay *r = lt_calloc(1, sizeof *r);
  if (r == NULL)
    return LT_ENOMEM;
  lt__slab_init(&r->alloc_slab, sizeof(lt__alloc), 64);
  lt__slab_init(&r->binding_slab, sizeof(lt__binding), 256);
  lt__slab_init(&r->scope_slab, sizeof(lt__scope), 256);
  lt__slab_init(&r->packet_slab, sizeof(lt__packet), 256);
  lt__ht_init(&r->kht, 1024);
  int err = replay_start(r, h, o);
  if (err) {
    lt_replay_free(r);
    return err;
  }
  *out = r;
  return 0;
}

/* Frees what one trace's replay made: objects, GPU, pool, findings, the
 * simulated kernel, the header. Does not call the driver. */
static void replay_release(lt_replay *r) {
  lt__objects_reset(r);
  lt_gpu_free(r->gpu);
  lt_pool_free(r->pool);
  lt_findings_reset(&r->findings);
  lt__kernel_reset(&r->kernel);
  if (r->header)
    lifetrace__trace_header__free_unpacked(r->header, &lt_protobuf_allocator);
  if (lt__current == r)
    lt__current = NULL;
}

/* Empties the engine of its trace, as lt_replay_free would, but keeps the
 * memory a next trace reuses (work areas, a slab chunk of each kind, the
 * handle table's entries); events are then ignored until lt_replay_reset.
 * See lifetrace/replay.h. */
void lt_replay_clear(lt_replay *r) {
  replay_release(r);
  lt__slab slabs[4] = {r->alloc_slab, r->binding_slab, r->scope_slab, r->packet_slab};
  for (int i = 0; i < 4; i++)
    lt__slab_rewind(&slabs[i]);
  lt__handle_table kht = r->kht;
  lt__ht_clear(&kht);
  void *cs = r->create_scratch, *ss = r->submit_scratch;
  memset(r, 0, sizeof *r);
  r->alloc_slab = slabs[0];
  r->binding_slab = slabs[1];
  r->scope_slab = slabs[2];
  r->packet_slab = slabs[3];
  r->kht = kht;
  r->create_scratch = cs;
  r->submit_scratch = ss;
  r->finished = 1; /* nothing to replay until a reset */
}

/* Replays a new trace with header h in an engine made by lt_replay_new: the
 * same as lt_replay_free and lt_replay_new, the same findings and handles,
 * without making the engine again (a fuzz target runs one trace per input).
 * On an error the engine can only be freed. See lifetrace/replay.h. */
int lt_replay_reset(lt_replay *r, const lt_header *h, const lt_replay_opts *o) {
  if (r->header != NULL || r->pool != NULL)
    lt_replay_clear(r);
  r->finished = 0;
  return replay_start(r, h, o);
}

static void dispatch(lt_replay *r, const lt_event *ev) {
  switch (ev->op) {
  case LIFETRACE__OP__DEVICE_CREATE: lt__op_device_create(r, ev); break;
  case LIFETRACE__OP__DEVICE_DESTROY: lt__op_device_destroy(r, ev); break;
  case LIFETRACE__OP__CONTEXT_CREATE: lt__op_context_create(r, ev); break;
  case LIFETRACE__OP__CONTEXT_DESTROY: lt__op_context_destroy(r, ev); break;
  case LIFETRACE__OP__ALLOC_CREATE: lt__op_alloc_create(r, ev); break;
  case LIFETRACE__OP__ALLOC_OPEN: lt__op_alloc_open(r, ev); break;
  case LIFETRACE__OP__ALLOC_CLOSE: lt__op_alloc_close(r, ev); break;
  case LIFETRACE__OP__ALLOC_DESTROY: lt__op_alloc_destroy(r, ev); break;
  case LIFETRACE__OP__SUBMIT: lt__op_submit(r, ev); break;
  case LIFETRACE__OP__FENCE_DONE: lt__op_fence_done(r, ev); break;
  case LIFETRACE__OP__LOCK: lt__op_lock(r, ev, 1); break;
  case LIFETRACE__OP__UNLOCK: lt__op_lock(r, ev, 0); break;
  case LIFETRACE__OP__EVICT:
  case LIFETRACE__OP__PAGE_IN:
  case LIFETRACE__OP__OFFER:
  case LIFETRACE__OP__RECLAIM: lt__op_residency(r, ev); break;
  case LIFETRACE__OP__SCANOUT: lt__op_scanout(r, ev); break;
  case LIFETRACE__OP__TDR: lt__op_tdr(r); break;
  case LIFETRACE__OP__PROCESS_EXIT: lt__op_process_exit(r, ev); break;
  case LIFETRACE__OP__INJECT_FAULT:
    if (ev->site == LIFETRACE__FAULT_SITE__FAULT_POOL)
      lt_pool_fail_nth(r->pool, ev->nth ? ev->nth : 1);
    else if (ev->site == LIFETRACE__FAULT_SITE__FAULT_VRAM)
      lt_gpu_fail_nth(r->gpu, ev->nth ? ev->nth : 1);
    else if (ev->site == LIFETRACE__FAULT_SITE__FAULT_HANDLE)
      r->handle_fail = ev->nth ? ev->nth : 1;
    break;
  default: break;
  }
}

/* Replays one event through the dispatcher; after a driver crash, before the
 * adapter started or after finish it only counts the event. Returns 0, since
 * what goes wrong is a finding, not an error. See lifetrace/replay.h. */
int lt_replay_event(lt_replay *r, const lt_event *ev) {
  r->cur_event = r->n_events++;
  if (r->crashed || !r->started || r->finished)
    return 0;
  lt__current = r;
  lt_pool_set_current(r->pool);
  r->cur = ev;
  lt__kernel_tick(&r->kernel);
  if (lt__kernel_has_work(&r->kernel))
    (void)lt__ddi(r, "LtKernelSchedule", LT_OBJ_NONE, 0, 0, lt__ddi_kernel_schedule, NULL);
  dispatch(r, ev);
  r->cur = NULL;
  return 0;
}

/* Ends the trace once (later calls do nothing): tears down what is still
 * live as dxgkrnl would at process exit, or, for a window trace, leaves it
 * alone; runs the leak checks and stops the adapter. See lifetrace/replay.h. */
int lt_replay_finish(lt_replay *r) {
  if (r->finished)
    return 0;
  r->finished = 1;
  if (r->crashed || !r->started)
    return 0;
  lt__current = r;
  lt_pool_set_current(r->pool);
  r->cur_event = r->n_events ? r->n_events - 1 : 0;
  lt__teardown_all(r, r->window ? -1 : LT_SEV_ERROR);
  return 0;
}

/* The findings so far, owned by the engine and valid until lt_replay_free;
 * see lifetrace/store.h. */
const lt_findings *lt_replay_findings(const lt_replay *r) { return &r->findings; }

/* The run's notes (owned by the engine, valid until lt_replay_free) and
 * their number in *n; see lifetrace/replay.h. */
const lt_note *lt_replay_notes(const lt_replay *r, size_t *n) {
  *n = r->n_notes;
  return r->notes;
}

/* Records a note (see lt_note) at the current event: the first of each
 * (kind, DDI) keeps its event and message, later ones only count. */
void lt__note(lt_replay *r, const char *kind, const char *ddi, const char *fmt, ...) {
  for (size_t i = 0; i < r->n_notes; i++)
    if (strcmp(r->notes[i].kind, kind) == 0 && strcmp(r->notes[i].ddi, ddi) == 0) {
      r->notes[i].count++;
      return;
    }
  if (r->n_notes == LT_REPLAY_MAX_NOTES)
    return;
  lt_note *nt = &r->notes[r->n_notes++];
  nt->kind = kind;
  snprintf(nt->ddi, sizeof nt->ddi, "%s", ddi);
  nt->event = r->cur_event;
  nt->count = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nt->message, sizeof nt->message, fmt, ap);
  va_end(ap);
}
/* The number of events fed to lt_replay_event so far; see
 * lifetrace/replay.h. */
uint64_t lt_replay_events(const lt_replay *r) { return r->n_events; }

/* Frees the engine with every object, the pool, the GPU and the findings;
 * NULL is a no-op. Does not call the driver: call lt_replay_finish first for
 * the teardown and leak checks. See lifetrace/replay.h. */
void lt_replay_free(lt_replay *r) {
  if (r == NULL)
    return;
  replay_release(r);
  lt__ht_reset(&r->kht);
  lt_free(r->create_scratch);
  lt_free(r->submit_scratch);
  lt__slab_reset(&r->alloc_slab);
  lt__slab_reset(&r->binding_slab);
  lt__slab_reset(&r->scope_slab);
  lt__slab_reset(&r->packet_slab);
  lt_free(r);
}
