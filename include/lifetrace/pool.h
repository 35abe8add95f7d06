/* lifetrace — the tracked kernel pool behind ExAllocatePool2 /
 * ExFreePoolWithTag.
 *
 * Like Driver Verifier's pool tracking: every block records its tag, size and
 * the object it serves (an owner: object kind + trace handle, set by the
 * simulated dxgkrnl around each DDI call). Freed blocks are poisoned and held
 * in a quarantine so that a write after free is detected when the block is
 * checked, and a second free is recognized. Problems are reported to a
 * callback as miniport findings; the pool never crashes on driver misuse.
 *
 * A read of a freed block leaves the pattern intact, so two modes catch it
 * at the access: under ASan, quarantined blocks are poisoned for ASan (an
 * access is an ASan report); in special-pool mode (Driver Verifier's special
 * pool) each block lives at the end of pages of its own with a guard page
 * after them, and a freed block's pages are inaccessible while it is in
 * quarantine, so an access faults. lt_pool_find maps the faulting address
 * back to its block.
 */
#ifndef LIFETRACE_POOL_H
#define LIFETRACE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"
#include "lifetrace/stack.h"

/* The byte every freed block is filled with: a pointer of eight of them
 * was read out of a freed block. */
#define LT_POOL_FREED_FILL 0xDF

enum lt_pool_problem {
  LT_POOL_DOUBLE_FREE,    /* freed a block already freed */
  LT_POOL_BAD_FREE,       /* freed a pointer the pool never returned */
  LT_POOL_TAG_MISMATCH,   /* ExFreePoolWithTag tag differs from the allocation's */
  LT_POOL_WRITE_AFTER_FREE, /* a quarantined block's poison was overwritten */
};

/* What a block serves: the object kind and trace handle (for reports) and a
 * scope, an engine serial that is never reused, under which the simulated
 * dxgkrnl checks for leaks when the scope's objects are gone. Scope 0 is the
 * adapter. */
typedef struct lt_pool_owner {
  int object;      /* enum lt_object (finding.h) */
  uint64_t handle; /* trace handle of that object */
  uint64_t scope;
} lt_pool_owner;

typedef struct lt_pool_block_info {
  uintptr_t addr;
  size_t size;
  uint32_t tag;
  lt_pool_owner owner;
  uint64_t serial; /* allocation order, for stable reports */
  /* Where the block was allocated and (when in quarantine) freed; NULL or
   * empty when unknown. They point into the pool: valid until the block
   * leaves the quarantine. */
  const lt_stack *allocated, *freed;
} lt_pool_block_info;

typedef void (*lt_pool_problem_cb)(void *data, int problem, const lt_pool_block_info *b);

typedef struct lt_pool lt_pool;

/* Creates an empty pool; free with lt_pool_free (which releases every block
 * still live without reporting: leak checks are the caller's job). */
LT_MUST_CHECK int lt_pool_new(lt_pool **out);
void lt_pool_free(lt_pool *p);
void lt_pool_set_problem_cb(lt_pool *p, lt_pool_problem_cb cb, void *data);

/* The pool that ExAllocatePool2/ExFreePoolWithTag use on this thread. */
void lt_pool_set_current(lt_pool *p);
lt_pool *lt_pool_current(void);

/* Owner that new blocks are attributed to until changed. */
void lt_pool_set_owner(lt_pool *p, int object, uint64_t handle, uint64_t scope);
/* Moves every live block of scope `from` to owner `to` (e.g. to a "reported"
 * scope once a leak has been reported, so it is reported once). */
void lt_pool_move_scope(lt_pool *p, uint64_t from, const lt_pool_owner *to);
/* Calls fn for each live block of a scope, in allocation order; with
 * all_scopes set, for every live block. Returns the number of blocks. */
size_t lt_pool_each_live(lt_pool *p, uint64_t scope, int all_scopes,
                         void (*fn)(void *data, const lt_pool_block_info *b), void *data);
/* Whether addr is the start of a live block / of a freed block still held in
 * quarantine (so a returned handle can be recognized as freed). */
int lt_pool_is_live(const lt_pool *p, const void *addr);
int lt_pool_is_freed(const lt_pool *p, const void *addr);
/* Live blocks and bytes. */
size_t lt_pool_live_blocks(const lt_pool *p);
size_t lt_pool_live_bytes(const lt_pool *p);
/* Checks the poison of every quarantined block; reports and re-poisons. */
void lt_pool_check_quarantine(lt_pool *p);
/* Checks only the n most recently freed blocks (cheap enough to run after
 * every completion); every block is still checked when it leaves the
 * quarantine. */
void lt_pool_check_recent(lt_pool *p, size_t n);
/* Makes the nth next allocation fail (1 = next); 0 disables. */
void lt_pool_fail_nth(lt_pool *p, unsigned nth);

/* Turns special-pool mode on or off; only before the first allocation
 * (LT_EBUSY after). A block whose pages cannot be mapped falls back to an
 * ordinary one. */
LT_MUST_CHECK int lt_pool_set_special(lt_pool *p, int on);
int lt_pool_special(const lt_pool *p);
/* Under ASan, poisons quarantined blocks for ASan (off by default): a driver
 * access to one is then an ASan report at the access, which ends the
 * process (a crash that a fuzz engine saves); the harness's own pattern
 * checks lift the poison while they look. Without ASan it does nothing.
 * Returns whether poisoning is now on. */
int lt_pool_set_asan_poison(lt_pool *p, int on);
/* Finds the block that addr falls in, live or still in quarantine: an
 * ordinary block by its bytes, a special-pool block by its pages (guard page
 * included). Fills *out (a copy) and *freed; returns 1, or 0 when no block
 * holds addr. Walks every block: meant for a crash, not a hot path. */
int lt_pool_find(const lt_pool *p, uintptr_t addr, lt_pool_block_info *out, int *freed);

/* Direct calls (what ExAllocatePool2 / ExFreePoolWithTag do). */
void *lt_pool_alloc(lt_pool *p, uint64_t flags, size_t size, uint32_t tag);
void lt_pool_release(lt_pool *p, void *addr, uint32_t tag);

#endif
