/* The tracked pool behind a C++ driver's global operator new / delete: the
 * routines that cmake/LifetraceCxxNew.cpp (compiled into every build of a
 * driver with C++ sources) calls, declared in lifetrace/driver.h. Blocks are
 * ordinary pool blocks: attributed to the object the current DDI serves, leak-
 * and double-free-checked like ExAllocatePool2's. */
#include "lifetrace/driver.h"
#include "lifetrace/pool.h"

#define POOL_ALIGN 16 /* what every pool block already has */

/* Allocates from the current replay's pool; an alignment above 16 takes a
 * larger block and returns an aligned address inside it (LtCxxFree finds the
 * block again from that address). */
void *LtCxxAllocate(SIZE_T Size, SIZE_T Alignment, ULONG Tag) {
  lt_pool *p = lt_pool_current();
  if (p == NULL)
    return NULL;
  if (Alignment <= POOL_ALIGN)
    return lt_pool_alloc(p, POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, Size, Tag);
  if (Size > (SIZE_T)-1 - Alignment)
    return NULL;
  unsigned char *b = lt_pool_alloc(p, POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED,
                                   Size + Alignment, Tag);
  if (b == NULL)
    return NULL;
  uintptr_t a = ((uintptr_t)b + Alignment - 1) & ~(uintptr_t)(Alignment - 1);
  return (void *)a;
}

/* Frees with the block's own tag, so lifetrace's operator delete (which has
 * no tag) never reports a tag mismatch. An aligned delete may name an address
 * inside its block; any other address must be a block's start, or the pool
 * reports a bad free (or a double free, when the block is in quarantine). */
void LtCxxFree(void *P, SIZE_T Alignment) {
  lt_pool *p = lt_pool_current();
  if (p == NULL || P == NULL)
    return;
  void *start = P;
  uint32_t tag = LT_CXX_DEFAULT_POOL_TAG;
  if (!lt_pool_tag_of(p, P, &tag) && Alignment > POOL_ALIGN) {
    lt_pool_block_info b = {0};
    int freed = 0;
    if (lt_pool_find(p, (uintptr_t)P, &b, &freed)) { /* inside an over-aligned block */
      start = (void *)b.addr;
      tag = b.tag;
    }
  }
  lt_pool_release(p, start, tag);
}
