/* The replay engine: lifecycle, event dispatch, findings plumbing and the
 * DXGKRNL_INTERFACE callbacks (see lifetrace/replay.h and dxgkrnl.h). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define LT_ENGINE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LT_ENGINE_ASAN 1
#endif
#endif
#ifdef LT_ENGINE_ASAN
#include <sanitizer/asan_interface.h>
#endif

#include "dxgkrnl.h"
#include "kernel_shim.h"

static _Thread_local lt_replay *current;

const char *lt_policy_name(int policy) { return policy == LT_POLICY_KERNEL ? "kernel" : "audit"; }

int lt_policy_from_name(const char *name) {
  if (!strcmp(name, "audit"))
    return LT_POLICY_AUDIT;
  if (!strcmp(name, "kernel"))
    return LT_POLICY_KERNEL;
  return -1;
}

uint64_t lt__serial(lt_replay *r) { return ++r->serial; }

/* Appends the current event to an object's history ring. */
void lt__hist(lt_replay *r, lt__obj *o) {
  if (o == NULL || r->cur == NULL)
    return;
  if (o->hist_n > 0) {
    int last = (o->hist_pos + LT_HIST - 1) % LT_HIST;
    if (o->hist[last].event == r->cur_event)
      return;
  }
  lt_history_entry *h = &o->hist[o->hist_pos];
  h->event = r->cur_event;
  h->op = r->cur->op;
  h->has_origin = r->cur->origin != NULL;
  h->origin_record = h->has_origin ? r->cur->origin->record : 0;
  h->origin_line = h->has_origin ? r->cur->origin->line : 0;
  o->hist_pos = (o->hist_pos + 1) % LT_HIST;
  if (o->hist_n < LT_HIST)
    o->hist_n++;
}

/* Records a finding already filled in, adding event, origin and signature. */
void lt__finding_at(lt_replay *r, lt_finding *f) {
  f->layer = lt_finding_kind_layer(f->kind);
  if (lt__kernel(r) && f->layer == LT_LAYER_TRACE)
    return; /* kernel policy refuses what the trace breaks: only driver/GPU findings */
  f->event = r->cur_event;
  if (r->cur && r->cur->origin) {
    f->has_origin = 1;
    f->origin_record = r->cur->origin->record;
    f->origin_line = r->cur->origin->line;
  }
  if (f->ddi[0] == 0) {
    const char *op = r->cur ? lt_op_name(r->cur->op) : "teardown";
    snprintf(f->ddi, sizeof f->ddi, "%s", r->cur_ddi ? r->cur_ddi : (op ? op : "?"));
  }
  lt_finding_sign(f);
  if (lt_findings_add(&r->findings, f) == 0 && r->opts.on_finding)
    r->opts.on_finding(r->opts.on_finding_data, f);
}

/* Copies what a finding tells about its object: kind and handle, process,
 * where it was created and destroyed, and its history (oldest first). */
void lt__finding_describe(lt_finding *f, const lt__obj *o) {
  f->object = o->type;
  f->handle = o->handle;
  f->pid = o->pid;
  f->created_at = o->created_at;
  f->n_destroyed = o->n_destroyed;
  memcpy(f->destroyed_at, o->destroyed_at, sizeof f->destroyed_at);
  f->n_history = o->hist_n;
  for (int i = 0; i < o->hist_n; i++)
    f->history[i] = o->hist[(o->hist_pos - o->hist_n + i + 2 * LT_HIST) % LT_HIST];
}

/* Records a finding about object o (may be NULL) at the current event. */
void lt__finding(lt_replay *r, int kind, int sev, lt__obj *o, const char *fmt, ...) {
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.kind = kind;
  f.severity = sev;
  f.created_at = -1;
  if (o) {
    lt__hist(r, o);
    lt__finding_describe(&f, o);
  } else if (r->cur) {
    f.pid = r->cur->pid;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f.message, sizeof f.message, fmt, ap);
  va_end(ap);
  lt__finding_at(r, &f);
}

/* ---- faults in pool memory ---------------------------------------------------------- */

static void tag_chars(uint32_t tag, char out[5]) {
  for (int i = 0; i < 4; i++) {
    unsigned char c = (unsigned char)(tag >> (8 * i));
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  out[4] = 0;
}

/* The address a crash touched: si_addr of a fault, or, when ASan stopped the
 * driver (a report, then abort with abort_on_error=1), the address of the
 * access ASan reported. 0 when unknown. */
static uintptr_t fault_address(int sig, uintptr_t si_address) {
  if (sig == SIGSEGV || sig == SIGBUS)
    return si_address;
#ifdef LT_ENGINE_ASAN
  if (sig == SIGABRT && __asan_report_present())
    return (uintptr_t)__asan_get_report_address();
#endif
  return 0;
}

/* Fills the owner part of a pool fault finding: the object the block served
 * (its history when the engine still knows it), or the pool itself. */
static void describe_owner(lt_replay *r, lt_finding *f, const lt_pool_block_info *b) {
  lt__obj *o = NULL;
  if (b->owner.object != LT_OBJ_NONE)
    o = lt__lookup(r, b->owner.object, b->owner.handle);
  if (o) {
    lt__finding_describe(f, o);
    return;
  }
  f->object = b->owner.object != LT_OBJ_NONE ? b->owner.object : LT_OBJ_POOL;
  f->handle = b->owner.object != LT_OBJ_NONE ? b->owner.handle : 0;
}

/* Turns a crash inside DDI `ddi` whose address lies in a pool block into a
 * finding about that block: miniport-use-after-free when the block is in
 * quarantine (a special-pool page fault or an ASan report), miniport-crash
 * naming the block when it is live (a special-pool guard page: an overrun).
 * Returns 1 when it recorded a finding, 0 when the address is no pool
 * block's (the caller reports a plain crash). */
int lt__pool_fault(lt_replay *r, const char *ddi, int sig, uintptr_t fault_addr) {
  uintptr_t addr = fault_address(sig, fault_addr);
  lt_pool_block_info b;
  int freed = 0;
  if (addr == 0 || !lt_pool_find(r->pool, addr, &b, &freed) || (sig == SIGABRT && !freed))
    return 0;
  lt_finding f;
  memset(&f, 0, sizeof f);
  f.kind = freed ? LT_F_MINIPORT_USE_AFTER_FREE : LT_F_MINIPORT_CRASH;
  f.severity = LT_SEV_ERROR;
  f.created_at = -1;
  describe_owner(r, &f, &b);
  f.pool_tag = b.tag;
  f.bytes = b.size;
  char tag[5], owner[64];
  tag_chars(b.tag, tag);
  snprintf(f.site, sizeof f.site, "tag:%s", tag);
  snprintf(f.ddi, sizeof f.ddi, "%s", ddi);
  if (b.owner.object != LT_OBJ_NONE)
    snprintf(owner, sizeof owner, "%s 0x%llx", lt_object_name(b.owner.object),
             (unsigned long long)b.owner.handle);
  else
    snprintf(owner, sizeof owner, "the adapter");
  long long off = (long long)(addr - b.addr);
  snprintf(f.message, sizeof f.message,
           "%s touched pool block (tag '%s', %zu bytes, made for %s) at offset %lld, %s (%s)",
           ddi, tag, b.size, owner, off,
           freed ? "after it was freed" : "outside its bytes: an overrun into the guard page",
           sig == SIGABRT ? "ASan report on the quarantined block" : "special pool page fault");
  lt__finding_at(r, &f);
  return 1;
}

/* ---- DXGKRNL_INTERFACE callbacks --------------------------------------------- */

static PVOID cb_get_handle_data(const DXGKARGCB_GETHANDLEDATA *a) {
  if (current == NULL || a == NULL)
    return NULL;
  int type = a->Type == DXGK_HANDLE_RESOURCE ? LT_OBJ_RESOURCE : LT_OBJ_ALLOCATION;
  lt__obj *o = lt__ht_lookup(&current->kht, a->hObject, type);
  if (o == NULL || o->state != ST_LIVE)
    return NULL;
  if (a->Flags.DeviceSpecific)
    return NULL; /* the harness does not resolve device-specific handles */
  return type == LT_OBJ_RESOURCE ? ((lt__resource *)o)->kmd : ((lt__alloc *)o)->kmd;
}

static D3DKMT_HANDLE cb_enum_children(D3DKMT_HANDLE hResource, UINT Index) {
  lt__resource *res = current ? lt__ht_lookup(&current->kht, hResource, LT_OBJ_RESOURCE) : NULL;
  if (res == NULL)
    return 0;
  UINT i = 0;
  for (lt__alloc *a = res->allocs; a; a = a->res_next, i++)
    if (i == Index)
      return a->o.khandle;
  return 0;
}

static D3DKMT_HANDLE cb_get_parent(D3DKMT_HANDLE hAllocation) {
  lt__alloc *a = current ? lt__ht_lookup(&current->kht, hAllocation, LT_OBJ_ALLOCATION) : NULL;
  return (a && a->res) ? a->res->o.khandle : 0;
}

static UINT cb_completed_fence(HANDLE dev, UINT node) {
  lt_replay *r = dev;
  if (r == NULL || node >= LT_MAX_NODES)
    return 0;
  return (UINT)r->nodes[node].completed;
}

static void cb_program_scanout(HANDLE dev, UINT source, UINT segment, PHYSICAL_ADDRESS addr,
                               SIZE_T size) {
  lt_replay *r = dev;
  if (r == NULL || source >= LT_MAX_SOURCES)
    return;
  if (segment == 0) {
    lt_gpu_scanout_clear(r->gpu, source);
    return;
  }
  lt_gpu_access acc = {.segment = segment, .addr = (uint64_t)addr.QuadPart, .size = size};
  acc.owner = lt_gpu_owner_at(r->gpu, segment, acc.addr);
  /* Which allocation does the driver mean? The one the range belongs to now;
   * the GPU will report if that owner goes away while the source is set. */
  lt__alloc *a = r->scanout[source];
  acc.tag = a ? a->o.handle : 0;
  lt_gpu_scanout_set(r->gpu, source, &acc);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static NTSTATUS ddi_start(lt_replay *r, void *arg) {
  return r->mp->DxgkDdiStartDevice(&r->iface, &r->adapter);
}

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
  size_t len = lifetrace__trace_header__get_packed_size(h);
  uint8_t *buf = lt_malloc(len ? len : 1);
  if (buf == NULL)
    return LT_ENOMEM;
  lifetrace__trace_header__pack(h, buf);
  r->header = lifetrace__trace_header__unpack(&lt_protobuf_allocator, len, buf);
  lt_free(buf);
  return r->header ? 0 : LT_ENOMEM;
}

int lt_replay_new(lt_replay **out, const lt_header *h, const lt_replay_opts *o) {
  lt_replay *r = lt_calloc(1, sizeof *r);
  if (r == NULL)
    return LT_ENOMEM;
  r->opts = *o;
  lt__slab_init(&r->alloc_slab, sizeof(lt__alloc), 64);
  lt__slab_init(&r->binding_slab, sizeof(lt__binding), 256);
  lt__slab_init(&r->scope_slab, sizeof(lt__scope), 256);
  lt__slab_init(&r->packet_slab, sizeof(lt__packet), 256);
  r->mp = o->miniport;
  lt_findings_init(&r->findings, o->max_findings ? o->max_findings : 10000);
  lt__ht_init(&r->kht, 1024);
  r->reported_scope = UINT64_MAX;
  int err = LT_EABI;
  if (r->mp == NULL || r->mp->AbiVersion != LT_MINIPORT_ABI_VERSION ||
      r->mp->Size != sizeof(LT_MINIPORT))
    goto fail;
  if ((err = copy_header(r, h)) || (err = make_gpu(r)) || (err = lt_pool_new(&r->pool)) ||
      (err = lt_pool_set_special(r->pool, o->special_pool)))
    goto fail;
  r->window = r->header->ends == LIFETRACE__ENDS__ENDS_WINDOW;
  (void)lt_pool_set_asan_poison(r->pool, o->asan_poison);
  lt_pool_set_problem_cb(r->pool, lt__pool_problem, r);
  r->iface.Size = sizeof r->iface;
  r->iface.Version = LT_MINIPORT_ABI_VERSION;
  r->iface.DeviceHandle = r;
  r->iface.DxgkCbGetHandleData = cb_get_handle_data;
  r->iface.DxgkCbEnumHandleChildren = cb_enum_children;
  r->iface.DxgkCbGetHandleParent = cb_get_parent;
  r->iface.LtCbQueryCompletedFence = cb_completed_fence;
  r->iface.LtCbProgramScanout = cb_program_scanout;
  lt__install_crash_handlers();
  current = r;
  lt_pool_set_current(r->pool);
  NTSTATUS st = lt__ddi(r, "DxgkDdiStartDevice", LT_OBJ_NONE, 0, 0, ddi_start, NULL);
  if (st == LT_DDI_CRASHED)
    r->crashed = 1;
  else if (!NT_SUCCESS(st))
    lt__finding(r, LT_F_MINIPORT_BAD_STATUS, LT_SEV_ERROR, NULL,
                "DxgkDdiStartDevice failed with status 0x%08x", (unsigned)st);
  else
    r->started = 1;
  *out = r;
  return 0;
fail:
  lt_replay_free(r);
  return err;
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

int lt_replay_event(lt_replay *r, const lt_event *ev) {
  r->cur_event = r->n_events++;
  if (r->crashed || !r->started || r->finished)
    return 0;
  current = r;
  lt_pool_set_current(r->pool);
  r->cur = ev;
  dispatch(r, ev);
  r->cur = NULL;
  return 0;
}

int lt_replay_finish(lt_replay *r) {
  if (r->finished)
    return 0;
  r->finished = 1;
  if (r->crashed || !r->started)
    return 0;
  current = r;
  lt_pool_set_current(r->pool);
  r->cur_event = r->n_events ? r->n_events - 1 : 0;
  lt__teardown_all(r, r->window ? -1 : LT_SEV_ERROR);
  return 0;
}

const lt_findings *lt_replay_findings(const lt_replay *r) { return &r->findings; }

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
uint64_t lt_replay_events(const lt_replay *r) { return r->n_events; }

void lt_replay_free(lt_replay *r) {
  if (r == NULL)
    return;
  lt__objects_reset(r);
  lt_gpu_free(r->gpu);
  lt_pool_free(r->pool);
  lt__ht_reset(&r->kht);
  lt_findings_reset(&r->findings);
  lt_free(r->create_scratch);
  lt_free(r->submit_scratch);
  lt__slab_reset(&r->alloc_slab);
  lt__slab_reset(&r->binding_slab);
  lt__slab_reset(&r->scope_slab);
  lt__slab_reset(&r->packet_slab);
  if (r->header)
    lifetrace__trace_header__free_unpacked(r->header, &lt_protobuf_allocator);
  if (current == r)
    current = NULL;
  lt_free(r);
}
