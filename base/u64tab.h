/* lifetrace base kit — a hash table from uint64 keys to fixed-size values
 * stored inline (open addressing, linear probing, backward-shift deletion):
 * for state kept per handle where a value is small and one allocation per
 * entry would cost more than the entry (the importers' joins, `info`'s
 * object census). lt__u64map (u64map.h) is the pointer map of the hot paths. */
#ifndef LT_U64TAB_H
#define LT_U64TAB_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

typedef struct lt__u64tab {
  uint64_t *keys;
  unsigned char *used;
  char *vals;
  size_t cap, n, vsize;
  size_t dead; /* a counter the owner may keep (entries it marked dead) */
} lt__u64tab;

void lt__u64tab_init(lt__u64tab *t, size_t vsize);
void *lt__u64tab_get(const lt__u64tab *t, uint64_t key);
/* Finds or inserts key; *val points at its value (zeroed when new). Pointers
 * into the table are invalidated by lt__u64tab_put and lt__u64tab_del. */
LT_MUST_CHECK int lt__u64tab_put(lt__u64tab *t, uint64_t key, void **val, int *is_new);
int lt__u64tab_del(lt__u64tab *t, uint64_t key);
void lt__u64tab_reset(lt__u64tab *t);
/* The value in slot i (iteration: for i < cap, if used[i]). */
#define LT__U64TAB_VAL(t, i) ((void *)((t)->vals + (i) * (t)->vsize))

#endif
