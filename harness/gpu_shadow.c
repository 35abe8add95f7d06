/* The simulated GPU's shadow memory: which owner serial holds each placed
 * range. A hash table keyed by (segment, start address) answers the common
 * question — is this access, which starts where its allocation was placed,
 * still inside a range its owner holds? — with one probe; any other address
 * is found through the segment's extent map (a floor lookup) and then the
 * hash. Quarantined ranges are absent, so they read as free. See
 * docs/gpu-model.md.
 */
#include "gpu_internal.h"

#include <string.h>

#include "lifetrace/error.h"

#define MIN_CAP 64

static uint64_t key_of(uint32_t seg, uint64_t addr) { return addr | seg; }

static size_t slot_of(uint64_t key, size_t cap) { return lt__hash64(key) & (cap - 1); }

static int rehash(lt_gpu *g, size_t cap) {
  lt__gpu_rec *t = lt_calloc(cap, sizeof(*t));
  if (t == NULL)
    return LT_ENOMEM;
  for (size_t i = 0; i < g->sh_cap; i++) {
    if (g->shadow[i].key == 0)
      continue;
    size_t j = slot_of(g->shadow[i].key, cap);
    while (t[j].key != 0)
      j = (j + 1) & (cap - 1);
    t[j] = g->shadow[i];
  }
  lt_free(g->shadow);
  g->shadow = t;
  g->sh_cap = cap;
  return 0;
}

/* Makes sure one more record fits (load kept at or below one half). */
int lt__gpu_shadow_reserve(lt_gpu *g) {
  if ((g->sh_count + 1) * 2 <= g->sh_cap)
    return 0;
  return rehash(g, g->sh_cap != 0 ? g->sh_cap * 2 : MIN_CAP);
}

/* Records owner for [addr, addr + len) of seg (reserve first). */
void lt__gpu_shadow_add(lt_gpu *g, uint32_t seg, uint64_t addr, uint64_t len, uint64_t owner) {
  uint64_t key = key_of(seg, addr);
  size_t i = slot_of(key, g->sh_cap);
  while (g->shadow[i].key != 0)
    i = (i + 1) & (g->sh_cap - 1);
  g->shadow[i] = (lt__gpu_rec){key, len, owner, 0};
  g->sh_count++;
}

static size_t find_slot(const lt_gpu *g, uint64_t key) {
  if (g->sh_cap == 0)
    return SIZE_MAX;
  for (size_t i = slot_of(key, g->sh_cap);; i = (i + 1) & (g->sh_cap - 1)) {
    if (g->shadow[i].key == key)
      return i;
    if (g->shadow[i].key == 0)
      return SIZE_MAX;
  }
}

/* The record of the range placed at exactly (seg, addr), or NULL. */
const lt__gpu_rec *lt__gpu_shadow_find(const lt_gpu *g, uint32_t seg, uint64_t addr) {
  if ((addr & (LT__GPU_PAGE - 1)) != 0)
    return NULL;
  size_t i = find_slot(g, key_of(seg, addr));
  return i != SIZE_MAX ? &g->shadow[i] : NULL;
}

/* Empties slot hole, shifting later members of its probe run back so that
 * lookups never need tombstones. */
static void delete_slot(lt_gpu *g, size_t hole) {
  size_t mask = g->sh_cap - 1;
  g->shadow[hole].key = 0;
  g->sh_count--;
  for (size_t i = (hole + 1) & mask; g->shadow[i].key != 0; i = (i + 1) & mask) {
    size_t home = slot_of(g->shadow[i].key, g->sh_cap);
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      g->shadow[hole] = g->shadow[i];
      g->shadow[i].key = 0;
      hole = i;
    }
  }
}

/* Forgets the range placed at (seg, addr); 0 when there is none. The table
 * shrinks when it is mostly empty, so its memory follows the live ranges. */
int lt__gpu_shadow_take(lt_gpu *g, uint32_t seg, uint64_t addr, uint64_t *len) {
  if ((addr & (LT__GPU_PAGE - 1)) != 0)
    return 0;
  size_t i = find_slot(g, key_of(seg, addr));
  if (i == SIZE_MAX)
    return 0;
  *len = g->shadow[i].len;
  delete_slot(g, i);
  if (g->sh_cap > MIN_CAP && g->sh_count * 8 < g->sh_cap)
    (void)rehash(g, g->sh_cap / 2); /* out of memory: stay big */
  return 1;
}

/* Frees the shadow memory's records and leaves it empty, for lt_gpu_free. */
void lt__gpu_shadow_free(lt_gpu *g) {
  lt_free(g->shadow);
  g->shadow = NULL;
  g->sh_cap = g->sh_count = 0;
}

/* The placed range holding addr of seg: start, length and owner. */
static int placed_at(const lt_gpu *g, uint32_t seg, uint64_t addr, uint64_t *start,
                     const lt__gpu_rec **rec) {
  const lt__gpu_rec *r = lt__gpu_shadow_find(g, seg, addr);
  if (r == NULL) {
    const lt__gpu_segment *s = lt__gpu_seg(g, seg);
    lt__gpu_extent e;
    if (s == NULL || !lt__gpu_map_floor(&s->map, addr, &e) || e.state != LT__GPU_TAKEN ||
        addr - e.addr >= e.len)
      return 0;
    r = lt__gpu_shadow_find(g, seg, e.addr); /* NULL: quarantined */
    if (r == NULL)
      return 0;
    addr = e.addr;
  }
  *start = addr;
  *rec = r;
  return 1;
}

/* The owner serial of byte addr of segment, or 0 when free; see
 * lifetrace/gpu.h. */
uint64_t lt_gpu_owner_at(const lt_gpu *g, uint32_t segment, uint64_t addr) {
  LT__GPU_CHECK(g);
  uint64_t start;
  const lt__gpu_rec *r;
  return placed_at(g, segment, addr, &start, &r) ? r->owner : 0;
}

/* Returns 0 when the access is valid, else the violation kind + 1 and, in
 * *found, the owner of the first byte of the range its owner does not own. */
static int classify(const lt_gpu *g, const lt_gpu_access *a, uint64_t *found) {
  uint64_t start;
  const lt__gpu_rec *r;
  *found = 0;
  if (a->segment == 0)
    return LT_GPU_V_NOT_RESIDENT + 1;
  if (!placed_at(g, a->segment, a->addr, &start, &r))
    return LT_GPU_V_USE_AFTER_FREE + 1;
  if (r->owner != a->owner) {
    *found = r->owner;
    return LT_GPU_V_USE_AFTER_FREE + 1;
  }
  uint64_t end = start + r->len;
  if (a->size <= end - a->addr)
    return 0;
  /* Starts in its own range but runs past its end. */
  if (placed_at(g, a->segment, end, &start, &r))
    *found = r->owner;
  return LT_GPU_V_USE_AFTER_FREE + 1;
}

/* Checks one access against the shadow memory and reports a violation to
 * the callback. A size of 0 is checked as its first byte. Returns 1 when
 * the access was a violation. */
int lt__gpu_check_access(lt_gpu *g, const lt_gpu_access *a, int from_scanout, uint32_t source) {
  uint64_t found;
  int v = classify(g, a, &found);
  if (v == 0)
    return 0;
  if (g->cb != NULL) {
    g->in_cb = 1;
    g->cb(g->cb_data, v - 1, a, found, from_scanout, source);
    g->in_cb = 0;
  }
  return 1;
}
