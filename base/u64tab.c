/* lifetrace base kit — a uint64-keyed hash table with inline values (see
 * u64tab.h). */
#include <stdlib.h>
#include <string.h>

#include "u64map.h"
#include "u64tab.h"

/* Starts an empty table of values of vsize bytes. */
void lt__u64tab_init(lt__u64tab *t, size_t vsize) {
  memset(t, 0, sizeof *t);
  t->vsize = vsize;
}

static size_t slot_of(const lt__u64tab *t, uint64_t key) {
  size_t mask = t->cap - 1;
  size_t i = (size_t)lt__hash64(key) & mask;
  while (t->used[i] && t->keys[i] != key)
    i = (i + 1) & mask;
  return i;
}

/* The value of key, or NULL. */
void *lt__u64tab_get(const lt__u64tab *t, uint64_t key) {
  if (t->cap == 0)
    return NULL;
  size_t i = slot_of(t, key);
  return t->used[i] ? LT__U64TAB_VAL(t, i) : NULL;
}

static int grow(lt__u64tab *t) {
  size_t ncap = t->cap ? t->cap * 2 : 64;
  uint64_t *keys = lt_calloc(ncap, sizeof *keys);
  unsigned char *used = lt_calloc(ncap, 1);
  char *vals = lt_calloc(ncap, t->vsize);
  if (!keys || !used || !vals) {
    lt_free(keys);
    lt_free(used);
    lt_free(vals);
    return LT_ENOMEM;
  }
  lt__u64tab nt = {keys, used, vals, ncap, 0, t->vsize, t->dead};
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->used[i])
      continue;
    size_t j = slot_of(&nt, t->keys[i]);
    nt.used[j] = 1;
    nt.keys[j] = t->keys[i];
    memcpy(LT__U64TAB_VAL(&nt, j), LT__U64TAB_VAL(t, i), t->vsize);
    nt.n++;
  }
  lt_free(t->keys);
  lt_free(t->used);
  lt_free(t->vals);
  *t = nt;
  return 0;
}

/* Finds or inserts key (growing at 3/4 full); see u64tab.h. */
int lt__u64tab_put(lt__u64tab *t, uint64_t key, void **val, int *is_new) {
  if ((t->n + 1) * 4 > t->cap * 3) {
    int rc = grow(t);
    if (rc)
      return rc;
  }
  size_t i = slot_of(t, key);
  if (is_new)
    *is_new = !t->used[i];
  if (!t->used[i]) {
    t->used[i] = 1;
    t->keys[i] = key;
    memset(LT__U64TAB_VAL(t, i), 0, t->vsize);
    t->n++;
  }
  *val = LT__U64TAB_VAL(t, i);
  return 0;
}

/* Removes key; backward-shift deletion keeps probe chains intact without
 * tombstones. Returns 1 if it was there. */
int lt__u64tab_del(lt__u64tab *t, uint64_t key) {
  if (t->cap == 0)
    return 0;
  size_t mask = t->cap - 1, i = slot_of(t, key);
  if (!t->used[i])
    return 0;
  t->used[i] = 0;
  t->n--;
  for (size_t j = (i + 1) & mask; t->used[j]; j = (j + 1) & mask) {
    size_t home = (size_t)lt__hash64(t->keys[j]) & mask;
    /* Move j into the hole at i when its home is not in (i, j]. */
    int between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (between)
      continue;
    t->used[i] = 1;
    t->keys[i] = t->keys[j];
    memcpy(LT__U64TAB_VAL(t, i), LT__U64TAB_VAL(t, j), t->vsize);
    t->used[j] = 0;
    i = j;
  }
  return 1;
}

/* Frees the table; t is empty and reusable with the same value size. */
void lt__u64tab_reset(lt__u64tab *t) {
  lt_free(t->keys);
  lt_free(t->used);
  lt_free(t->vals);
  lt__u64tab_init(t, t->vsize);
}
