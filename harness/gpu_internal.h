/* Private to the simulated GPU (gpu.c, gpu_shadow.c, gpu_placement.c,
 * gpu_queue.c) and its unit tests. The design is in docs/gpu-model.md.
 */
#ifndef LIFETRACE_GPU_INTERNAL_H
#define LIFETRACE_GPU_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/gpu.h"
#include "u64map.h"

#define LT__GPU_PAGE 4096u        /* placement granule and default alignment */
#define LT__GPU_MAX_SEGMENT 32u   /* segment ids are 1..32 */
#define LT__GPU_SOURCES 64u       /* scanout sources 0..63 */
#define LT__GPU_QUARANTINE_MAX 64 /* releases held back before reuse, per segment */
#define LT__GPU_MAGIC 0x4c544750u /* "LTGP" */
#define LT__GPU_DEAD 0xdeadbeefu

/* A segment is tiled by extents, free (coalesced: never two in a row) or
 * taken (one per placed, quarantined or recycled range). They live in a
 * B+tree keyed by address whose inner nodes keep the largest free extent
 * below each child, so a first fit or a floor lookup is one O(log n)
 * descent. Who owns a taken extent is in the shadow (a hash by start
 * address): absent means quarantined or recycled, i.e. free for every
 * check. */
enum { LT__GPU_FREE = 0, LT__GPU_TAKEN = 1 };

typedef struct lt__gpu_extent {
  uint64_t addr, len;
  int state;
} lt__gpu_extent;

/* A placed range in the shadow; key = addr | segment id (addr is page
 * aligned, so the id fits in the low bits), 0 = empty slot. */
typedef struct lt__gpu_rec {
  uint64_t key, len, owner, spare;
} lt__gpu_rec;

typedef union lt__gpu_bnode lt__gpu_bnode;

/* Spare tree nodes shared by all segments (bounded; the rest are freed). */
typedef struct lt__gpu_pool {
  lt__gpu_bnode *free;
  size_t n;
} lt__gpu_pool;

typedef struct lt__gpu_map {
  lt__gpu_bnode *root; /* NULL when empty */
  int height;          /* inner levels above the leaves */
  size_t count;        /* extents */
  lt__gpu_pool *pool;
} lt__gpu_map;

#define LT__GPU_QUARANTINE_RING 64 /* >= LT__GPU_QUARANTINE_MAX, a power of two */
#define LT__GPU_BINS 64     /* recycle bins per segment, a power of two */
#define LT__GPU_BIN_DEPTH 8 /* ranges kept per bin, newest last */

/* Ranges of one size out of the quarantine, still taken in the map, handed
 * out again to placements of exactly that size without touching the map.
 * Bins are direct-mapped by size; a bin serves one size while non-empty. */
typedef struct lt__gpu_bin {
  uint64_t len;
  uint64_t addr[LT__GPU_BIN_DEPTH];
  int n;
} lt__gpu_bin;

typedef struct lt__gpu_segment {
  uint32_t id;
  int kind;
  uint64_t size;
  uint64_t used; /* bytes in placed extents */
  lt__gpu_map map;
  uint64_t q_addr[LT__GPU_QUARANTINE_RING]; /* quarantine, a FIFO ring */
  uint64_t q_len[LT__GPU_QUARANTINE_RING];
  size_t q_head, q_count;
  uint64_t q_bytes;
  lt__gpu_bin bin[LT__GPU_BINS];
} lt__gpu_segment;

/* A growable FIFO of fixed-size elements; cap is 0 or a power of two. */
typedef struct lt__gpu_ring {
  unsigned char *buf;
  size_t cap, head, len;
} lt__gpu_ring;

typedef struct lt__gpu_ctx {
  uint64_t submitted, completed;
  lt__gpu_ring pkts; /* lt__gpu_packet */
  lt__gpu_ring accs; /* lt_gpu_access, the packets' accesses back to back */
} lt__gpu_ctx;

typedef struct lt__gpu_packet {
  uint64_t fence;
  size_t n;
} lt__gpu_packet;

struct lt_gpu {
  uint32_t magic;
  lt__gpu_segment *segs;
  size_t nsegs;
  uint8_t seg_index[LT__GPU_MAX_SEGMENT + 1]; /* id -> index + 1, 0 = none */
  lt__gpu_pool pool;
  lt__gpu_rec *shadow; /* placed ranges, open addressing, power-of-two capacity */
  size_t sh_cap, sh_count;
  unsigned fail_countdown;
  lt_gpu_violation_cb cb;
  void *cb_data;
  int in_cb;
  lt__u64map ctxs; /* context id -> lt__gpu_ctx */
  size_t pending;
  lt_gpu_access src[LT__GPU_SOURCES]; /* what each scanout source reads */
  uint64_t armed; /* sources set and not yet reported since */
};

#ifdef LT_DEBUG
#include <assert.h>
#define LT__GPU_CHECK(g) assert((g) != NULL && (g)->magic == LT__GPU_MAGIC)
#define LT__GPU_MUTABLE(g) (LT__GPU_CHECK(g), assert(!(g)->in_cb))
#else
#define LT__GPU_CHECK(g) ((void)0)
#define LT__GPU_MUTABLE(g) ((void)0)
#endif

/* gpu_placement.c: the extent map, placement and the quarantine. */
LT_MUST_CHECK int lt__gpu_segment_init(lt__gpu_segment *s, const lt_gpu_segment_desc *d,
                                       lt__gpu_pool *pool);
void lt__gpu_segment_destroy(lt__gpu_segment *s);
void lt__gpu_pool_free(lt__gpu_pool *pool);
/* The extent with the greatest addr <= addr; 0 when there is none. */
int lt__gpu_map_floor(const lt__gpu_map *m, uint64_t addr, lt__gpu_extent *out);
lt__gpu_segment *lt__gpu_seg(const lt_gpu *g, uint32_t id);

/* gpu_shadow.c: who owns each placed range, and the checks. */
LT_MUST_CHECK int lt__gpu_shadow_reserve(lt_gpu *g);
void lt__gpu_shadow_add(lt_gpu *g, uint32_t seg, uint64_t addr, uint64_t len, uint64_t owner);
int lt__gpu_shadow_take(lt_gpu *g, uint32_t seg, uint64_t addr, uint64_t *len);
const lt__gpu_rec *lt__gpu_shadow_find(const lt_gpu *g, uint32_t seg, uint64_t addr);
void lt__gpu_shadow_free(lt_gpu *g);
int lt__gpu_check_access(lt_gpu *g, const lt_gpu_access *a, int from_scanout, uint32_t source);

/* gpu_queue.c */
void lt__gpu_queues_free(lt_gpu *g);

/* gpu_placement.c: checks every invariant of the extent maps, the shadow
 * and the quarantines. Returns 0 or LT_EINTERNAL. For tests. */
int lt__gpu_check_invariants(const lt_gpu *g);

#endif
