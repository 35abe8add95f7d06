/* Open-addressing hash map from uint64 keys to pointers (see u64map.h). */
#include "u64map.h"

#include <string.h>

/* Makes an empty map; it allocates on the first put, so init cannot fail. */
void lt__u64map_init(lt__u64map *m) { memset(m, 0, sizeof *m); }

/* Frees the slot table, not the values (the caller owns them), and leaves
 * the map empty and usable. */
void lt__u64map_reset(lt__u64map *m) {
  lt_free(m->slots);
  memset(m, 0, sizeof *m);
}

/* The value of key, or NULL when absent (values are never NULL). */
void *lt__u64map_get(const lt__u64map *m, uint64_t key) {
  if (m->cap == 0)
    return NULL;
  size_t mask = m->cap - 1;
  for (size_t i = lt__hash64(key) & mask;; i = (i + 1) & mask) {
    if (m->slots[i].val == NULL)
      return NULL;
    if (m->slots[i].key == key)
      return m->slots[i].val;
  }
}

static int grow(lt__u64map *m) {
  size_t ncap = m->cap ? m->cap * 2 : 16;
  lt__u64map_slot *ns = lt_calloc(ncap, sizeof *ns);
  if (ns == NULL)
    return LT_ENOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].val == NULL)
      continue;
    size_t j = lt__hash64(m->slots[i].key) & (ncap - 1);
    while (ns[j].val != NULL)
      j = (j + 1) & (ncap - 1);
    ns[j] = m->slots[i];
  }
  lt_free(m->slots);
  m->slots = ns;
  m->cap = ncap;
  return 0;
}

/* Inserts key or replaces its value; grows at 3/4 load. val must not be NULL
 * (NULL marks an empty slot). Fails only with LT_ENOMEM, leaving the map as
 * it was. See u64map.h. */
int lt__u64map_put(lt__u64map *m, uint64_t key, void *val) {
  if ((m->n + 1) * 4 > m->cap * 3) {
    int err = grow(m);
    if (err)
      return err;
  }
  size_t mask = m->cap - 1;
  size_t i = lt__hash64(key) & mask;
  while (m->slots[i].val != NULL) {
    if (m->slots[i].key == key) {
      m->slots[i].val = val;
      return 0;
    }
    i = (i + 1) & mask;
  }
  m->slots[i].key = key;
  m->slots[i].val = val;
  m->n++;
  return 0;
}

/* The slot holding key, or the empty slot that ends its probe sequence. */
static size_t find(const lt__u64map *m, uint64_t key) {
  size_t mask = m->cap - 1;
  size_t i = lt__hash64(key) & mask;
  while (m->slots[i].val != NULL && m->slots[i].key != key)
    i = (i + 1) & mask;
  return i;
}

static void remove_at(lt__u64map *m, size_t i) {
  size_t mask = m->cap - 1;
  /* Backward-shift: pull later members of the cluster into the hole. */
  size_t hole = i;
  for (size_t j = (i + 1) & mask; m->slots[j].val != NULL; j = (j + 1) & mask) {
    size_t home = lt__hash64(m->slots[j].key) & mask;
    int movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      m->slots[hole] = m->slots[j];
      hole = j;
    }
  }
  m->slots[hole].val = NULL;
  m->slots[hole].key = 0;
  m->n--;
}

/* Removes key and returns its old value, or NULL when absent; backward-shift
 * deletion keeps probes short without tombstones. */
void *lt__u64map_del(lt__u64map *m, uint64_t key) {
  if (m->cap == 0)
    return NULL;
  size_t i = find(m, key);
  void *old = m->slots[i].val;
  if (old != NULL)
    remove_at(m, i);
  return old;
}

/* Removes key only if it still maps to val, in one probe; returns 1 if
 * removed. See u64map.h. */
int lt__u64map_del_if(lt__u64map *m, uint64_t key, const void *val) {
  if (m->cap == 0)
    return 0;
  size_t i = find(m, key);
  if (m->slots[i].val == NULL || m->slots[i].val != val)
    return 0;
  remove_at(m, i);
  return 1;
}
