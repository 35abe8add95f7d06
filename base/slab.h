/* A free-list allocator for fixed-size harness objects (bindings, scopes,
 * allocations, packets). Private to the harness.
 *
 * The replay makes and drops several small objects per event; malloc/free of
 * each was about a sixth of a replay's CPU time. A slab hands out objects
 * from chunks it gets through lt_malloc (so tests still count and fail
 * allocations) and keeps freed objects on a list for reuse. Chunks are given
 * back only by lt__slab_reset, so memory follows the peak live set, which is
 * bounded, not the trace length. Debug builds poison freed objects, and
 * AddressSanitizer builds mark them unaddressable, as lt_free would. */
#ifndef LT_SLAB_H
#define LT_SLAB_H

#include <stddef.h>

typedef struct lt__slab {
  size_t size;      /* object size, a multiple of the alignment */
  size_t per_chunk; /* objects per chunk */
  void *free;       /* freed objects, linked through their first word */
  void *chunks;     /* chunks, linked through their first word */
  size_t used;      /* objects handed out of the newest chunk */
} lt__slab;

void lt__slab_init(lt__slab *s, size_t size, size_t per_chunk);
/* Returns a zeroed object, or NULL when out of memory. */
void *lt__slab_get(lt__slab *s);
/* Takes back an object from lt__slab_get of the same slab; NULL is a no-op. */
void lt__slab_put(lt__slab *s, void *p);
/* Frees every chunk. Objects still out become invalid. */
void lt__slab_reset(lt__slab *s);
/* Empties the slab but keeps its newest chunk for the next objects (a fuzz
 * target's replay reset: no malloc for the next input). Objects still out
 * become invalid. */
void lt__slab_rewind(lt__slab *s);

#endif
