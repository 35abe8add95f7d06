/* lifetrace — the simulated GPU: memory segments with a real placement
 * allocator, shadow memory recording which object owns every byte range,
 * per-context DMA queues with fences, and scanout sources.
 *
 * Objects are named by an owner serial: a 64-bit number the caller gives each
 * allocation object, never reused (so a reused range is told apart from the
 * range of a freed object). Serial 0 means "nobody".
 *
 * The GPU is asynchronous: a DMA packet touches the memory of its accesses
 * only when its fence completes (lt_gpu_complete) or its context is torn down
 * (lt_gpu_context_drain); scanout sources read their range on every
 * lt_gpu_scanout_read. A touch of memory whose current owner is not the
 * recorded owner is reported to the violation callback.
 */
#ifndef LIFETRACE_GPU_H
#define LIFETRACE_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

enum lt_segment_kind { LT_SEGMENT_LOCAL = 0, LT_SEGMENT_APERTURE = 1, LT_SEGMENT_SYSTEM = 2 };

typedef struct lt_gpu_segment_desc {
  uint32_t id;   /* 1..32 */
  int kind;      /* enum lt_segment_kind */
  uint64_t size; /* bytes */
} lt_gpu_segment_desc;

/* One memory access of a DMA packet or a scanout. */
typedef struct lt_gpu_access {
  uint32_t segment; /* 0 = not resident when submitted */
  uint64_t addr;
  uint64_t size;
  uint64_t owner;   /* serial of the allocation the access is for */
  int write;
  uint64_t tag;     /* caller's cookie (e.g. trace handle), passed back */
} lt_gpu_access;

enum lt_gpu_violation {
  LT_GPU_V_USE_AFTER_FREE, /* range owned by nobody or by another serial */
  LT_GPU_V_NOT_RESIDENT,   /* access with segment 0 (allocation was not resident) */
};

/* Called for each violation: the access, what kind, the serial that owns the
 * start of the range now (0 = free), and whether it came from scanout. */
typedef void (*lt_gpu_violation_cb)(void *data, int violation, const lt_gpu_access *a,
                                    uint64_t found_owner, int from_scanout, uint32_t source);

typedef struct lt_gpu lt_gpu;

/* Creates a GPU with the given segments (copied). Free with lt_gpu_free. */
LT_MUST_CHECK int lt_gpu_new(lt_gpu **out, const lt_gpu_segment_desc *segs, size_t n);
void lt_gpu_free(lt_gpu *g);
void lt_gpu_set_violation_cb(lt_gpu *g, lt_gpu_violation_cb cb, void *data);

/* Placement. Finds room for size bytes (aligned to align, a power of two or 0
 * for the page size) in one of the segments of segment_set (bit0 = segment 1;
 * 0 = any), trying preferred first, records owner in the shadow memory and
 * returns the segment and address. LT_ENOSPACE when nothing fits. */
LT_MUST_CHECK int lt_gpu_place(lt_gpu *g, uint32_t segment_set, uint32_t preferred,
                               uint64_t size, uint64_t align, uint64_t owner,
                               uint32_t *segment, uint64_t *addr);
/* Releases a placed range: the shadow records it as free at once; the space
 * is reused only after other releases have pushed it out of a quarantine,
 * so stale accesses find "free" rather than a new owner when possible. */
void lt_gpu_release(lt_gpu *g, uint32_t segment, uint64_t addr);
/* The serial owning byte addr of segment (0 = free). */
uint64_t lt_gpu_owner_at(const lt_gpu *g, uint32_t segment, uint64_t addr);
/* Bytes in use and free in a segment (for info and tests). */
void lt_gpu_segment_usage(const lt_gpu *g, uint32_t segment, uint64_t *used, uint64_t *free_bytes);
/* Makes the nth next placement fail (1 = next); 0 disables. */
void lt_gpu_fail_nth(lt_gpu *g, unsigned nth);

/* DMA. Queues a packet on a context's queue with the given fence (fences on
 * one context must not decrease); accesses are copied. */
LT_MUST_CHECK int lt_gpu_submit(lt_gpu *g, uint64_t context, uint64_t fence,
                                const lt_gpu_access *acc, size_t n);
/* Completes every packet of the context with fence <= fence, in order,
 * checking each access against the shadow memory, then reads every scanout
 * source. Returns the number of packets completed. */
size_t lt_gpu_complete(lt_gpu *g, uint64_t context, uint64_t fence);
/* Completes (executes) every pending packet of the context and forgets it. */
size_t lt_gpu_context_drain(lt_gpu *g, uint64_t context);
/* Drops every pending packet of every context without executing it (TDR). */
void lt_gpu_reset(lt_gpu *g);
/* Highest completed / submitted fence of a context (0 if none). */
uint64_t lt_gpu_completed_fence(const lt_gpu *g, uint64_t context);
uint64_t lt_gpu_submitted_fence(const lt_gpu *g, uint64_t context);
/* Number of packets pending on all contexts. */
size_t lt_gpu_pending(const lt_gpu *g);

/* Scanout. Sets source to read a range for owner (segment 0 = blank). */
void lt_gpu_scanout_set(lt_gpu *g, uint32_t source, const lt_gpu_access *a);
void lt_gpu_scanout_clear(lt_gpu *g, uint32_t source);
/* Reads every set scanout source once (a vblank), checking ownership. */
void lt_gpu_scanout_read(lt_gpu *g);

#endif
