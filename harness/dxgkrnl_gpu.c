/* GPU-facing paths of the simulated dxgkrnl: residency (VidMm placement and
 * BuildPagingBuffer), DMA submission and completion (VidSch node queues,
 * interrupt + DPC), CPU locks, scanout and TDR. */
#include <string.h>

#include "dxgkrnl.h"
#include "kernel_shim.h"

#define MAX_REFS 256

/* ---- residency ------------------------------------------------------------------ */

static void lru_unlink(lt_replay *r, lt__alloc *a) {
  if (a->lru_prev)
    a->lru_prev->lru_next = a->lru_next;
  else if (r->lru_head == a)
    r->lru_head = a->lru_next;
  if (a->lru_next)
    a->lru_next->lru_prev = a->lru_prev;
  else if (r->lru_tail == a)
    r->lru_tail = a->lru_prev;
  a->lru_prev = a->lru_next = NULL;
}

static void lru_append(lt_replay *r, lt__alloc *a) {
  a->lru_prev = r->lru_tail;
  a->lru_next = NULL;
  if (r->lru_tail)
    r->lru_tail->lru_next = a;
  else
    r->lru_head = a;
  r->lru_tail = a;
}

/* Takes an allocation out of its segment. TRANSFER pages it out through the
 * driver; TDR_NOTICE sends the post-reset eviction notice (TransferSize 0,
 * content lost); SILENT only frees the range (destroy). */
void lt__evict(lt_replay *r, lt__alloc *a, int mode) {
  if (a->segment == 0)
    return;
  if (mode != LT_EVICT_SILENT) {
    DXGKARG_BUILDPAGINGBUFFER pb;
    memset(&pb, 0, sizeof pb);
    pb.Operation = DXGK_OPERATION_TRANSFER;
    pb.Transfer.hAllocation = a->kmd;
    pb.Transfer.TransferSize = mode == LT_EVICT_TDR_NOTICE ? 0 : a->size;
    pb.Transfer.Source.SegmentId = a->segment;
    pb.Transfer.Source.SegmentAddress.QuadPart = (LONGLONG)a->addr;
    (void)lt__ddi(r, "DxgkDdiBuildPagingBuffer", LT_OBJ_ALLOCATION, a->o.handle, 0, lt__ddi_build_paging_buffer,
                  &pb);
  }
  lt_gpu_release(r->gpu, a->segment, a->addr);
  a->segment = 0;
  a->addr = 0;
  lru_unlink(r, a);
}

static int evictable(const lt__alloc *a) {
  return a->segment && !a->pending_refs && !a->displayed && !a->locks;
}

/* Pages an allocation in (VidMm on demand), evicting idle allocations in LRU
 * order when the segments are full. LT_ENOSPACE when nothing can make room. */
int lt__make_resident(lt_replay *r, lt__alloc *a, uint32_t preferred) {
  if (a->segment) {
    lru_unlink(r, a);
    lru_append(r, a);
    return 0;
  }
  uint32_t seg = 0;
  uint64_t addr = 0;
  for (;;) {
    int err = lt_gpu_place(r->gpu, a->segset, preferred ? preferred : a->preferred, a->size,
                           a->align, a->o.serial, &seg, &addr);
    if (err == 0)
      break;
    if (err != LT_ENOSPACE)
      return err;
    lt__alloc *victim = r->lru_head;
    while (victim && (!evictable(victim) || victim == a))
      victim = victim->lru_next;
    if (victim == NULL)
      return LT_ENOSPACE;
    lt__evict(r, victim, LT_EVICT_TRANSFER);
  }
  a->segment = seg;
  a->addr = addr;
  lru_append(r, a);
  DXGKARG_BUILDPAGINGBUFFER pb;
  memset(&pb, 0, sizeof pb);
  pb.Operation = DXGK_OPERATION_TRANSFER;
  pb.Transfer.hAllocation = a->kmd;
  pb.Transfer.TransferSize = a->size;
  pb.Transfer.Destination.SegmentId = seg;
  pb.Transfer.Destination.SegmentAddress.QuadPart = (LONGLONG)addr;
  (void)lt__ddi(r, "DxgkDdiBuildPagingBuffer", LT_OBJ_ALLOCATION, a->o.handle, 0, lt__ddi_build_paging_buffer, &pb);
  return 0;
}

/* evict, page_in, offer, reclaim: VidMm moving an allocation in or out of
 * its segment, which the driver sees as DxgkDdiBuildPagingBuffer
 * (DXGK_OPERATION_TRANSFER). Kernel policy, like VidMm, never evicts or
 * offers an allocation that in-flight DMA, a scanout or a CPU lock still
 * uses (G4); audit delivers the event as captured, so the GPU's shadow
 * memory then reports the access to an evicted allocation (gpu-fault).
 * Destroy is legal in any residency state, so nothing here blocks one. */
void lt__op_residency(lt_replay *r, const lt_event *ev) {
  lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->alloc, 0);
  if (a == NULL)
    return;
  int busy = a->pending_refs || a->displayed || a->locks;
  switch (ev->op) {
  case LIFETRACE__OP__EVICT:
    if (!(lt__kernel(r) && busy))
      lt__evict(r, a, LT_EVICT_TRANSFER);
    break;
  case LIFETRACE__OP__PAGE_IN:
    (void)lt__make_resident(r, a, ev->segment);
    break;
  case LIFETRACE__OP__OFFER:
    if (lt__kernel(r) && busy)
      break;
    lt__evict(r, a, LT_EVICT_TRANSFER);
    a->offered = 1;
    break;
  default: /* reclaim */
    a->offered = 0;
    break;
  }
}

/* ---- DMA -------------------------------------------------------------------------- */

static lt__binding *binding_on(lt__alloc *a, lt__device *dev) {
  for (lt__binding *b = a->bindings; b; b = b->alloc_next)
    if (b->dev == dev)
      return b;
  return NULL;
}

struct submit_state {
  lt__alloc *allocs[MAX_REFS];
  DXGK_ALLOCATIONLIST list[MAX_REFS];
  lt_gpu_access acc[MAX_REFS];
  size_t n, nlist;
};

/* Resolves a submit's references; returns 0 when the event must be dropped. */
static int submit_refs(lt_replay *r, const lt_event *ev, lt__context *ctx,
                       struct submit_state *s) {
  if (ev->n_refs > MAX_REFS)
    return 0;
  for (size_t i = 0; i < ev->n_refs; i++) {
    lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->refs[i]->alloc, 0);
    if (a == NULL) {
      if (lt__kernel(r))
        return 0;
      continue;
    }
    if (lt__make_resident(r, a, 0) && lt__kernel(r))
      return 0; /* VidMm could not make room: the submission fails */
    s->allocs[s->n] = a;
    s->acc[s->n] = (lt_gpu_access){a->segment, a->addr, a->size, a->o.serial,
                                   ev->refs[i]->write, (uintptr_t)a};
    s->n++;
    lt__binding *b = binding_on(a, ctx->dev);
    if (b) {
      DXGK_ALLOCATIONLIST *l = &s->list[s->nlist++];
      l->hDeviceSpecificAllocation = b->kmd;
      l->WriteOperation = ev->refs[i]->write;
      l->SegmentId = a->segment & 31;
      l->PhysicalAddress.QuadPart = (LONGLONG)a->addr;
    }
  }
  return 1;
}

static void enqueue(lt_replay *r, lt__context *ctx, uint64_t fence, uint64_t node_fence,
                    struct submit_state *s, void *priv) {
  lt__packet *p = lt__slab_get(&r->packet_slab);
  lt__alloc **allocs = p == NULL || s->n == 0 ? NULL
                       : s->n <= sizeof p->few_allocs / sizeof p->few_allocs[0]
                           ? p->few_allocs
                           : lt_calloc(s->n, sizeof *allocs);
  if (p == NULL || (s->n && allocs == NULL)) {
    lt__slab_put(&r->packet_slab, p);
    lt_free(allocs);
    lt_free(priv);
    return;
  }
  p->ctx = ctx;
  lt__ref(&ctx->o);
  p->fence = fence;
  p->node_fence = node_fence;
  p->n = s->n;
  p->allocs = allocs;
  p->priv = priv;
  for (size_t i = 0; i < s->n; i++) {
    allocs[i] = s->allocs[i];
    lt__ref(&allocs[i]->o);
    allocs[i]->pending_refs++;
  }
  lt__node *node = &r->nodes[ctx->node];
  if (node->tail)
    node->tail->next = p;
  else
    node->head = p;
  node->tail = p;
}

/* Returns the replay's submit work area, cleared for n references (entries
 * past n are never read; allocs and acc are written before they are read). */
static struct submit_state *submit_scratch(lt_replay *r, size_t n) {
  if (r->submit_scratch == NULL && (r->submit_scratch = lt_malloc(sizeof(struct submit_state))) == NULL)
    return NULL;
  struct submit_state *s = r->submit_scratch;
  s->n = s->nlist = 0;
  memset(s->list, 0, (n < MAX_REFS ? n : MAX_REFS) * sizeof s->list[0]);
  return s;
}

/* submit: a DMA buffer referencing allocations on a context, delivered as
 * DxgkDdiRender (building the packet and its DMA private data) then
 * DxgkDdiSubmitCommand at DISPATCH_LEVEL with a node fence. VidMm makes
 * every referenced allocation resident first (evicting idle ones in LRU
 * order); kernel policy refuses fences that do not grow and references that
 * are not live (G1), audit reports them and submits the rest. The queued
 * packet holds a reference on each allocation until its fence completes,
 * which is what makes a destroy wait for earlier GPU work (G3) and lets the
 * GPU report an access to freed video memory (gpu-use-after-free, G3/G4)
 * when it runs. */
void lt__op_submit(lt_replay *r, const lt_event *ev) {
  lt__context *ctx = lt__want(r, LT_OBJ_CONTEXT, ev->context, 0);
  if (ctx == NULL)
    return;
  if (lt__kernel(r) && ctx->last_fence && ev->fence <= ctx->last_fence)
    return; /* fences on a context only grow */
  struct submit_state *s = submit_scratch(r, ev->n_refs);
  if (s == NULL || !submit_refs(r, ev, ctx, s))
    return;
  UINT privsize = r->mp->DmaBufferPrivateDataSize;
  void *priv = lt_calloc(1, privsize ? privsize : 1);
  struct lt__render_call rc = {ctx->kmd, {.pDmaBufferPrivateData = priv,
                                          .DmaBufferPrivateDataSize = privsize,
                                          .pAllocationList = s->list,
                                          .AllocationListSize = (UINT)s->nlist}};
  NTSTATUS st = priv ? lt__ddi(r, "DxgkDdiRender", LT_OBJ_CONTEXT, ctx->o.handle, ctx->o.serial,
                               lt__ddi_render, &rc)
                     : STATUS_NO_MEMORY;
  lt__node *node = &r->nodes[ctx->node];
  uint64_t node_fence = node->next_fence + 1;
  DXGKARG_SUBMITCOMMAND sc = {.hContext = ctx->kmd, .NodeOrdinal = ctx->node,
                              .SubmissionFenceId = (UINT)node_fence,
                              .pDmaBufferPrivateData = priv, .DmaBufferPrivateDataSize = privsize};
  if (NT_SUCCESS(st) && st != LT_DDI_CRASHED)
    st = lt__ddi(r, "DxgkDdiSubmitCommand", LT_OBJ_CONTEXT, ctx->o.handle, ctx->o.serial,
                 lt__ddi_submit_command, &sc);
  if (!NT_SUCCESS(st) || st == LT_DDI_CRASHED || lt_gpu_submit(r->gpu, ctx->node, node_fence,
                                                               s->acc, s->n)) {
    lt_free(priv);
    return;
  }
  node->next_fence = node_fence;
  ctx->last_fence = ev->fence;
  ctx->last_node_fence = node_fence;
  enqueue(r, ctx, ev->fence, node_fence, s, priv);
}

/* Forgets the packets of a node up to node_fence (all: UINT64_MAX), dropping
 * their references and the driver's DMA private data. */
void lt__retire_packets(lt_replay *r, lt__node *nd, uint64_t node_fence) {
  while (nd->head && nd->head->node_fence <= node_fence) {
    lt__packet *p = nd->head;
    nd->head = p->next;
    if (nd->head == NULL)
      nd->tail = NULL;
    for (size_t i = 0; i < p->n; i++) {
      p->allocs[i]->pending_refs--;
      lt__unref(r, &p->allocs[i]->o);
    }
    lt__unref(r, &p->ctx->o);
    if (p->allocs != p->few_allocs)
      lt_free(p->allocs);
    lt_free(p->priv);
    lt__slab_put(&r->packet_slab, p);
  }
}

/* Completes every packet of a node up to node_fence: the GPU touches their
 * memory, the driver's ISR and DPC run, then the engine retires the packets
 * and runs the destroys that were waiting for them. */
void lt__complete_node(lt_replay *r, uint32_t node, uint64_t node_fence) {
  lt__node *nd = &r->nodes[node];
  if (node_fence <= nd->completed) {
    lt_gpu_scanout_read(r->gpu);
    return;
  }
  lt_gpu_complete(r->gpu, node, node_fence);
  nd->completed = node_fence;
  ULONG msg = node;
  (void)lt__ddi(r, "DxgkDdiDpcRoutine", LT_OBJ_NONE, 0, 0, lt__ddi_interrupt_and_dpc, &msg);
  lt__retire_packets(r, nd, node_fence);
  lt__check_recent_frees(r, "DxgkDdiDpcRoutine");
  lt__run_deferred(r, 0);
}

/* Completes every packet submitted on context c, with the ISR/DPC calls and
 * the destroys that waited for them, as dxgkrnl idles a context before
 * DxgkDdiDestroyContext (and a device before its teardown). */
void lt__drain_context(lt_replay *r, lt__context *c) {
  if (c->last_node_fence > r->nodes[c->node].completed)
    lt__complete_node(r, c->node, c->last_node_fence);
}

/* fence_done: the GPU completed the context's fence: the packets up to it
 * run on the simulated GPU (checking their accesses against the shadow
 * memory: G3/G4), the driver's DxgkDdiInterruptRoutine and DxgkDdiDpcRoutine
 * see the completion, the packets are retired, and the destroys deferred
 * behind them run (G3, G7: DestroyAllocation on a later call than the one
 * that asked). Afterwards the recently freed pool blocks are checked, since
 * a DPC that touches a destroyed allocation's data is pattern P11 (M4). */
void lt__op_fence_done(lt_replay *r, const lt_event *ev) {
  lt__context *ctx = lt__want(r, LT_OBJ_CONTEXT, ev->context, 0);
  if (ctx == NULL)
    return;
  uint64_t target = 0;
  for (lt__packet *p = r->nodes[ctx->node].head; p; p = p->next) {
    if (p->ctx != ctx)
      continue;
    if (p->fence > ev->fence)
      break;
    target = p->node_fence;
  }
  lt__complete_node(r, ctx->node, target);
}

/* ---- CPU locks -------------------------------------------------------------------- */

/* lock / unlock (lock selects): DxgkDdiLock maps an allocation for the CPU,
 * paging it in first; DxgkDdiUnlock undoes one lock (an unlock with none
 * held is dropped). No G/M rule names CPU locks; the engine treats a held
 * lock like in-flight DMA (G3): the allocation stays resident, and
 * destroying it is destroy-while-locked in audit, as the CPU mapping would
 * dangle. */
void lt__op_lock(lt_replay *r, const lt_event *ev, int lock) {
  lt__alloc *a = lt__want(r, LT_OBJ_ALLOCATION, ev->alloc, 0);
  if (a == NULL)
    return;
  if (!lock) {
    if (a->locks == 0)
      return;
    DXGKARG_UNLOCK u = {a->kmd};
    (void)lt__ddi(r, "DxgkDdiUnlock", LT_OBJ_ALLOCATION, a->o.handle, 0, lt__ddi_unlock, &u);
    a->locks--;
    return;
  }
  if (lt__make_resident(r, a, 0))
    return;
  DXGKARG_LOCK l;
  memset(&l, 0, sizeof l);
  l.hAllocation = a->kmd;
  l.SegmentId = a->segment;
  l.SegmentAddress.QuadPart = (LONGLONG)a->addr;
  NTSTATUS st = lt__ddi(r, "DxgkDdiLock", LT_OBJ_ALLOCATION, a->o.handle, 0, lt__ddi_lock, &l);
  if (NT_SUCCESS(st) && st != LT_DDI_CRASHED)
    a->locks++;
}

/* ---- scanout ---------------------------------------------------------------------- */

/* scanout: DxgkDdiSetVidPnSourceAddress points VidPn source at an allocation
 * (paged in first) or blanks it (alloc 0); the GPU then reads it at each
 * vblank. A displayed allocation may not be destroyed (G4: dxgkrnl defers
 * the destroy in kernel policy, audit reports destroy-while-displayed), and
 * a driver that keeps its own scanout pointer must drop it when the
 * allocation is freed (M4, pattern P13): the recent frees are checked after
 * the flip. If the DDI fails or crashes the old scanout stays. */
void lt__op_scanout(lt_replay *r, const lt_event *ev) {
  uint32_t src = ev->source;
  if (src >= LT_MAX_SOURCES)
    return;
  lt__alloc *a = NULL;
  if (ev->alloc) {
    a = lt__want(r, LT_OBJ_ALLOCATION, ev->alloc, 0);
    if (a == NULL || lt__make_resident(r, a, 0))
      return;
  }
  DXGKARG_SETVIDPNSOURCEADDRESS sa;
  memset(&sa, 0, sizeof sa);
  sa.VidPnSourceId = src;
  if (a) {
    sa.PrimarySegment = a->segment;
    sa.PrimaryAddress.QuadPart = (LONGLONG)a->addr;
    sa.hAllocation = a->kmd;
  }
  lt__alloc *old = r->scanout[src];
  r->scanout[src] = a; /* the GPU tags the source with this allocation */
  NTSTATUS st = lt__ddi(r, "DxgkDdiSetVidPnSourceAddress", a ? LT_OBJ_ALLOCATION : LT_OBJ_NONE,
                        a ? a->o.handle : 0, 0, lt__ddi_set_vidpn_source_address, &sa);
  if (!NT_SUCCESS(st) || st == LT_DDI_CRASHED) {
    r->scanout[src] = old;
    return;
  }
  r->scanout_reported &= ~(1u << src);
  lt__check_recent_frees(r, "DxgkDdiSetVidPnSourceAddress");
  if (old)
    old->displayed &= ~(1u << src);
  if (a)
    a->displayed |= 1u << src;
  lt__run_deferred(r, 0);
}

/* ---- TDR ------------------------------------------------------------------------------ */

/* Drops every pending packet without executing it (the GPU was reset). */
static void drop_packets(lt_replay *r) {
  for (int n = 0; n < LT_MAX_NODES; n++) {
    lt__node *nd = &r->nodes[n];
    lt__retire_packets(r, nd, UINT64_MAX);
    nd->completed = nd->next_fence;
  }
  lt_gpu_reset(r->gpu);
}

/* tdr: a GPU timeout recovered as section 2.6 of the contract describes:
 * DxgkDdiResetFromTimeout, every pending packet dropped unexecuted, each
 * resident allocation purged with a DxgkDdiBuildPagingBuffer eviction notice
 * (TRANSFER with size 0, content lost), then DxgkDdiRestartFromTimeout.
 * Allocation handles stay valid across it (G8) and the app destroys them
 * later through the normal path; the driver must have dropped the packets'
 * references in its reset (M4, M7), which the stale-reference walk forced
 * here and the recent-free check verify. */
void lt__op_tdr(lt_replay *r) {
  (void)lt__ddi(r, "DxgkDdiResetFromTimeout", LT_OBJ_NONE, 0, 0, lt__ddi_reset_from_timeout, NULL);
  drop_packets(r);
  for (lt__alloc *a = r->lru_head, *next; a; a = next) {
    next = a->lru_next;
    lt__evict(r, a, LT_EVICT_TDR_NOTICE);
  }
  (void)lt__ddi(r, "DxgkDdiRestartFromTimeout", LT_OBJ_NONE, 0, 0, lt__ddi_restart_from_timeout, NULL);
  lt__check_stale(r, "DxgkDdiResetFromTimeout", 1);
  lt__check_recent_frees(r, "DxgkDdiRestartFromTimeout");
  lt__run_deferred(r, 0);
}

/* GPU violation callback: a DMA or scanout touched memory its allocation does
 * not own (freed: gpu-use-after-free; evicted or never resident: gpu-fault). */
void lt__gpu_violation(void *data, int violation, const lt_gpu_access *a, uint64_t found_owner,
                       int from_scanout, uint32_t source) {
  lt_replay *r = data;
  if (from_scanout) {
    if (source < 32 && (r->scanout_reported & (1u << source)))
      return;
    if (source < 32)
      r->scanout_reported |= 1u << source;
    lt_finding f;
    lt__finding_init(&f, LT_F_GPU_USE_AFTER_FREE, LT_SEV_ERROR);
    f.object = LT_OBJ_ALLOCATION;
    f.handle = a->tag;
    f.bytes = a->size;
    snprintf(f.ddi, sizeof f.ddi, "scanout");
    snprintf(f.site, sizeof f.site, "scanout[%u]", source);
    lt__obj *o = lt__lookup(r, LT_OBJ_ALLOCATION, a->tag);
    if (o)
      lt__finding_describe(&f, o);
    snprintf(f.message, sizeof f.message,
             "scanout source %u reads segment %u offset 0x%llx (%llu bytes), memory %s",
             source, a->segment, (unsigned long long)a->addr, (unsigned long long)a->size,
             found_owner ? "now owned by another allocation" : "that was freed");
    lt__finding_at(r, &f);
    return;
  }
  lt__alloc *al = (lt__alloc *)(uintptr_t)a->tag;
  int freed = al->o.state == ST_DEAD && violation == LT_GPU_V_USE_AFTER_FREE;
  lt__finding(r, freed ? LT_F_GPU_USE_AFTER_FREE : LT_F_GPU_FAULT, LT_SEV_ERROR, &al->o,
              "a DMA packet %s allocation 0x%llx %s",
              a->write ? "writes" : "reads", (unsigned long long)al->o.handle,
              freed ? (found_owner ? "whose memory now belongs to another allocation"
                                   : "after its memory was freed")
                    : "while it is not resident");
}
