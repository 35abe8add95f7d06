/* Kernel handle table with generations and delayed reuse (handle_table.h):
 * G6 (modelled) — a freed D3DKMT_HANDLE fails lookup instead of resolving to
 * a newer object (an 8-bit generation, against WSL's 2-bit unique field: P17). */
#include "handle_table.h"

#include <string.h>

/* Makes an empty handle table; a freed slot is reused only when more than
 * min_free slots are free (or the table is full), so a stale handle keeps
 * failing lookup for a while (G6). Allocates nothing, so it cannot fail. */
void lt__ht_init(lt__handle_table *t, uint32_t min_free) {
  memset(t, 0, sizeof *t);
  t->min_free = min_free;
}

/* Frees the table's entries (not the objects) and leaves it empty and usable
 * with the same min_free. */
void lt__ht_reset(lt__handle_table *t) {
  lt_free(t->e);
  uint32_t mf = t->min_free;
  lt__ht_init(t, mf);
}

/* Empties the table keeping its entries' memory: the same state as after
 * lt__ht_reset (cap 0), so the handles handed out next are the same. See
 * handle_table.h. */
void lt__ht_clear(lt__handle_table *t) {
  lt__htentry *e = t->e;
  uint32_t room = t->room, mf = t->min_free;
  lt__ht_init(t, mf);
  t->e = e;
  t->room = room;
}

static int grow(lt__handle_table *t) {
  uint32_t ncap = t->cap ? t->cap * 2 : 1024;
  if (ncap > LT_HANDLE_MAX_INDEX + 1)
    ncap = LT_HANDLE_MAX_INDEX + 1;
  if (ncap <= t->cap)
    return LT_ETOOBIG;
  lt__htentry *ne = t->e;
  if (ncap > t->room && (ne = lt_realloc(t->e, (size_t)ncap * sizeof *ne)) == NULL)
    return LT_ENOMEM;
  if (ncap > t->room)
    t->room = ncap;
  memset(ne + t->cap, 0, (size_t)(ncap - t->cap) * sizeof *ne);
  t->e = ne;
  if (t->cap == 0)
    t->used_top = 1; /* slot 0 stays unused */
  t->cap = ncap;
  return 0;
}

static uint32_t take_slot(lt__handle_table *t) {
  if (t->n_free > t->min_free || (t->used_top >= t->cap && t->n_free > 0)) {
    uint32_t i = t->free_head;
    t->free_head = t->e[i].next_free;
    if (t->free_head == 0)
      t->free_tail = 0;
    t->n_free--;
    return i;
  }
  if (t->used_top >= t->cap && grow(t))
    return 0;
  return t->used_top++;
}

/* Gives obj (non-NULL) a handle of the given type: slot index and a
 * generation byte, like a D3DKMT_HANDLE. LT_ENOMEM when the table cannot
 * grow. See handle_table.h. */
int lt__ht_alloc(lt__handle_table *t, void *obj, int type, uint32_t *handle) {
  if (t->cap == 0 && grow(t))
    return LT_ENOMEM;
  uint32_t i = take_slot(t);
  if (i == 0)
    return LT_ENOMEM;
  lt__htentry *e = &t->e[i];
  e->obj = obj;
  e->type = type;
  e->next_free = 0;
  if (e->gen == 0)
    e->gen = 1;
  t->live++;
  *handle = (i << 8) | e->gen;
  return 0;
}

/* The object behind handle, or NULL when it is 0, out of range, free, of
 * another type (type < 0 accepts any) or of an older generation: a freed
 * handle fails lookup rather than resolving to a new object (G6). */
void *lt__ht_lookup(const lt__handle_table *t, uint32_t handle, int type) {
  uint32_t i = handle >> 8;
  if (i == 0 || i >= t->used_top)
    return NULL;
  const lt__htentry *e = &t->e[i];
  if (e->obj == NULL || e->gen != (uint8_t)(handle & 0xff))
    return NULL;
  if (type >= 0 && e->type != type)
    return NULL;
  return e->obj;
}

/* Frees a live handle, bumping its slot's generation so the old value no
 * longer resolves, and queues the slot for reuse last; LT_ENOENT when handle
 * is not live. */
int lt__ht_free(lt__handle_table *t, uint32_t handle) {
  if (lt__ht_lookup(t, handle, -1) == NULL)
    return LT_ENOENT;
  uint32_t i = handle >> 8;
  lt__htentry *e = &t->e[i];
  e->obj = NULL;
  e->gen = (uint8_t)(e->gen + 1);
  if (e->gen == 0)
    e->gen = 1;
  e->next_free = 0;
  if (t->free_tail)
    t->e[t->free_tail].next_free = i;
  else
    t->free_head = i;
  t->free_tail = i;
  t->n_free++;
  t->live--;
  return 0;
}
