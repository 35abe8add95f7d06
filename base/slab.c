/* Fixed-size object slab on top of lt_malloc (see slab.h). */
#include "slab.h"

#include <string.h>

#include "lifetrace/error.h"

#include "asan.h"

#define ALIGN 16 /* what malloc guarantees: objects may hold 16-byte members */
#define HDR ALIGN /* a chunk's first ALIGN bytes link the chunks */

/* Prepares an empty slab of objects of size bytes (rounded up to the
 * alignment), taken from lt_malloc per_chunk at a time. Allocates nothing
 * yet, so it cannot fail; see slab.h. */
void lt__slab_init(lt__slab *s, size_t size, size_t per_chunk) {
  memset(s, 0, sizeof *s);
  s->size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  s->per_chunk = per_chunk ? per_chunk : 1;
  s->used = s->per_chunk; /* no chunk yet: the first get makes one */
}

static void *carve(lt__slab *s) {
  if (s->used == s->per_chunk) {
    unsigned char *c = lt_malloc(HDR + s->size * s->per_chunk);
    if (c == NULL)
      return NULL;
    *(void **)c = s->chunks;
    s->chunks = c;
    s->used = 0;
    LT__POISON(c + HDR, s->size * s->per_chunk);
  }
  return (unsigned char *)s->chunks + HDR + s->size * s->used++;
}

/* Hands out a zeroed object, reusing a freed one first; NULL when out of
 * memory. See slab.h. */
void *lt__slab_get(lt__slab *s) {
  void *p = s->free;
  if (p != NULL) {
    LT__UNPOISON(p, s->size);
    s->free = *(void **)p;
  } else if ((p = carve(s)) == NULL) {
    return NULL;
  } else {
    LT__UNPOISON(p, s->size);
  }
  memset(p, 0, s->size);
  return p;
}

/* Takes back an object of this slab onto its free list (poisoned in debug
 * and ASan builds, so a stale pointer faults as after lt_free); NULL is a
 * no-op. See slab.h. */
void lt__slab_put(lt__slab *s, void *p) {
  if (p == NULL)
    return;
#ifdef LT_DEBUG
  memset(p, 0xDB, s->size); /* a stale read sees garbage, as after lt_free */
#endif
  *(void **)p = s->free;
  s->free = p;
  LT__POISON(p, s->size);
}

/* Gives back every chunk but the newest and hands that one out again from
 * its start; the free list is dropped (its objects were in the chunks).
 * See slab.h. */
void lt__slab_rewind(lt__slab *s) {
  void *keep = s->chunks;
  if (keep == NULL)
    return;
  s->chunks = *(void **)keep;
  lt__slab_reset(s);
  *(void **)keep = NULL;
  s->chunks = keep;
  s->used = 0;
  LT__POISON((unsigned char *)keep + HDR, s->size * s->per_chunk);
}

/* Gives every chunk back to lt_malloc and leaves the slab empty but usable;
 * objects still handed out become invalid. See slab.h. */
void lt__slab_reset(lt__slab *s) {
  while (s->chunks) {
    void *c = s->chunks;
    LT__UNPOISON(c, HDR + s->size * s->per_chunk);
    s->chunks = *(void **)c;
    lt_free(c);
  }
  s->free = NULL;
  s->used = s->per_chunk;
}
