/* The simulated GPU: its lifetime, the violation callback and the scanout
 * sources. Placement is in gpu_placement.c, the shadow memory in
 * gpu_shadow.c, the DMA queues in gpu_queue.c; docs/gpu-model.md has the
 * model and the costs.
 */
#include "gpu_internal.h"

#include <string.h>

#include "lifetrace/error.h"

static int check_segments(const lt_gpu_segment_desc *segs, size_t n) {
  uint32_t seen = 0;
  if (segs == NULL && n != 0)
    return LT_EINVAL;
  for (size_t i = 0; i < n; i++) {
    uint32_t id = segs[i].id;
    if (id == 0 || id > LT__GPU_MAX_SEGMENT || (seen >> (id - 1) & 1u) != 0)
      return LT_EINVAL;
    seen |= 1u << (id - 1);
  }
  return 0;
}

/* Fails with LT_EINVAL for a segment id outside 1..32 or given twice. */
int lt_gpu_new(lt_gpu **out, const lt_gpu_segment_desc *segs, size_t n) {
  lt_gpu *g = NULL;
  int rc = check_segments(segs, n);
  if (out == NULL)
    rc = LT_EINVAL;
  if (rc != 0)
    return rc;
  g = lt_calloc(1, sizeof(*g));
  if (g == NULL)
    return LT_ENOMEM;
  g->magic = LT__GPU_MAGIC;
  g->segs = lt_calloc(n, sizeof(*g->segs));
  if (g->segs == NULL) {
    rc = LT_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    g->nsegs++;
    rc = lt__gpu_segment_init(&g->segs[i], &segs[i], &g->pool);
    if (rc != 0)
      goto out;
    g->seg_index[segs[i].id] = (uint8_t)(i + 1);
  }
  *out = g;
  g = NULL;
out:
  lt_gpu_free(g);
  return rc;
}

/* Frees the GPU with everything still placed, quarantined or queued. */
void lt_gpu_free(lt_gpu *g) {
  if (g == NULL)
    return;
  LT__GPU_MUTABLE(g);
  lt__gpu_queues_free(g);
  for (size_t i = 0; i < g->nsegs; i++)
    lt__gpu_segment_destroy(&g->segs[i]);
  lt__gpu_pool_free(&g->pool);
  lt__gpu_shadow_free(g);
  lt_free(g->segs);
  g->magic = LT__GPU_DEAD;
  lt_free(g);
}

/* Sets the callback that receives each access by the GPU to memory its owner
 * no longer holds (the G3/G4 use-after-free of video memory); see
 * lifetrace/gpu.h. */
void lt_gpu_set_violation_cb(lt_gpu *g, lt_gpu_violation_cb cb, void *data) {
  LT__GPU_CHECK(g);
  g->cb = cb;
  g->cb_data = data;
}

/* Sources 0..LT__GPU_SOURCES-1 exist; others are ignored. A set source is
 * checked at each read until it reports one violation (it is then disarmed:
 * one finding per scanout, not one per vblank); setting it again re-arms it.
 * Segment 0 or a NULL access blanks the source. */
void lt_gpu_scanout_set(lt_gpu *g, uint32_t source, const lt_gpu_access *a) {
  LT__GPU_MUTABLE(g);
  if (source >= LT__GPU_SOURCES)
    return;
  if (a == NULL || a->segment == 0) {
    g->armed &= ~((uint64_t)1 << source);
    return;
  }
  g->src[source] = *a;
  g->armed |= (uint64_t)1 << source;
}

/* Blanks scanout source (nothing is read from it until set again); see
 * lifetrace/gpu.h. */
void lt_gpu_scanout_clear(lt_gpu *g, uint32_t source) {
  lt_gpu_scanout_set(g, source, NULL);
}

/* One vblank: every armed source reads its range and is disarmed after its
 * first violation, so a freed primary on screen (G4) is reported once per
 * scanout. See lifetrace/gpu.h. */
void lt_gpu_scanout_read(lt_gpu *g) {
  LT__GPU_MUTABLE(g);
  for (uint64_t todo = g->armed; todo != 0; todo &= todo - 1) {
    uint32_t i = (uint32_t)__builtin_ctzll(todo);
    if (lt__gpu_check_access(g, &g->src[i], 1, i))
      g->armed &= ~((uint64_t)1 << i);
  }
}
