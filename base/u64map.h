/* A hash map from 64-bit keys to pointers (open addressing, linear probing,
 * backward-shift deletion). Private to the harness. Key 0 is allowed. */
#ifndef LT_U64MAP_H
#define LT_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

typedef struct lt__u64map_slot {
  uint64_t key;
  void *val; /* NULL marks an empty slot: values are never NULL */
} lt__u64map_slot;

typedef struct lt__u64map {
  lt__u64map_slot *slots;
  size_t cap; /* power of two, or 0 */
  size_t n;
} lt__u64map;

void lt__u64map_init(lt__u64map *m);
/* Frees the table (not the values). */
void lt__u64map_reset(lt__u64map *m);
void *lt__u64map_get(const lt__u64map *m, uint64_t key);
/* Inserts or replaces; val must not be NULL. */
LT_MUST_CHECK int lt__u64map_put(lt__u64map *m, uint64_t key, void *val);
/* Removes key; returns the old value or NULL. */
void *lt__u64map_del(lt__u64map *m, uint64_t key);
/* Removes key only if it maps to val, in one probe (the engine's "still
 * mine?" check before a delete). Returns 1 if it was removed. */
int lt__u64map_del_if(lt__u64map *m, uint64_t key, const void *val);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].val) ... */

static inline uint64_t lt__hash64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

#endif
