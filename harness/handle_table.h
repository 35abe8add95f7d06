/* The simulated dxgkrnl kernel handle table (D3DKMT_HANDLE values).
 *
 * A handle is (index << 8) | generation, never 0. A freed slot's generation
 * is bumped, so a stale handle fails lookup instead of resolving to a new
 * object (the weakness of WSL's 2-bit unique field, P17, is the reason for a
 * full byte), and a freed slot is reused only after at least min_free other
 * slots are free (delayed reuse, as dxgkrnl's HMGRTABLE_MIN_FREE_ENTRIES). */
#ifndef LT_HANDLE_TABLE_H
#define LT_HANDLE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

#define LT_HANDLE_MAX_INDEX 0xFFFFFFu

typedef struct lt__htentry {
  void *obj;      /* NULL when free */
  int type;       /* caller's type tag */
  uint8_t gen;
  uint32_t next_free; /* index of the next free slot in the FIFO (0 = none) */
} lt__htentry;

typedef struct lt__handle_table {
  lt__htentry *e; /* e[0] is never used: handle 0 is invalid */
  uint32_t cap, used_top;
  uint32_t free_head, free_tail, n_free;
  uint32_t min_free;
  uint32_t room; /* entries allocated (cap may be less after lt__ht_clear) */
  size_t live;
} lt__handle_table;

void lt__ht_init(lt__handle_table *t, uint32_t min_free);
void lt__ht_reset(lt__handle_table *t);
/* Empties the table as lt__ht_reset does, with the same handles to come, but
 * keeps its entries' memory (a fuzz target's replay reset). */
void lt__ht_clear(lt__handle_table *t);
/* Allocates a handle for obj (non-NULL) with a type tag. */
LT_MUST_CHECK int lt__ht_alloc(lt__handle_table *t, void *obj, int type, uint32_t *handle);
/* Object behind a handle of the given type (type < 0: any), or NULL when the
 * handle is 0, out of range, free, of another type or of an old generation. */
void *lt__ht_lookup(const lt__handle_table *t, uint32_t handle, int type);
/* Frees a handle; returns LT_ENOENT when it is not live. */
int lt__ht_free(lt__handle_table *t, uint32_t handle);

#endif
