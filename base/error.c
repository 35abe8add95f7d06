/* Error table and the swappable allocator (see lifetrace/error.h). */
#include "lifetrace/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>

/* The message of an LT_E* code, from the one error table; unknown codes get
 * "unknown error" rather than NULL. See lifetrace/error.h. */
const char *lt_strerror(int err) {
  switch (err) {
#define LT_ERR_MSG(name, val, msg) \
  case val:                        \
    return msg;
    LT_ERRNO_MAP(LT_ERR_MSG)
#undef LT_ERR_MSG
  case 0:
    return "success";
  }
  return "unknown error";
}

/* The symbolic name of an LT_E* code, as the CLI and the JSON outputs print
 * it; see lifetrace/error.h. */
const char *lt_err_name(int err) {
  switch (err) {
#define LT_ERR_NAME(name, val, msg) \
  case val:                         \
    return "LT_E" #name;
    LT_ERRNO_MAP(LT_ERR_NAME)
#undef LT_ERR_NAME
  case 0:
    return "OK";
  }
  return "LT_E?";
}

static long live_blocks;
static long fail_countdown;

static int should_fail(void) {
  if (fail_countdown <= 0)
    return 0;
  return --fail_countdown == 0;
}

/* The allocator every harness allocation goes through; it counts live blocks
 * and fails on request so tests can check cleanup and error paths. Zero
 * bytes still return a unique block. See lifetrace/error.h. */
void *lt_malloc(size_t n) {
  if (should_fail())
    return NULL;
  void *p = malloc(n ? n : 1);
  if (p)
    live_blocks++;
  return p;
}

/* Zeroed allocation through the counted allocator; see lt_malloc and
 * lifetrace/error.h. */
void *lt_calloc(size_t count, size_t n) {
  if (should_fail())
    return NULL;
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (p)
    live_blocks++;
  return p;
}

/* Resizes a block of lt_malloc; NULL p allocates. On failure p is left
 * untouched and still owned by the caller. The live count does not change.
 * See lifetrace/error.h. */
void *lt_realloc(void *p, size_t n) {
  if (p == NULL)
    return lt_malloc(n);
  if (should_fail())
    return NULL;
  return realloc(p, n ? n : 1);
}

/* Frees a block of the counted allocator; NULL is a no-op. See
 * lifetrace/error.h. */
void lt_free(void *p) {
  if (p == NULL)
    return;
  live_blocks--;
  free(p);
}

/* Copies s into a block the caller frees with lt_free; NULL when out of
 * memory. See lifetrace/error.h. */
char *lt_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = lt_malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* The number of live lt_malloc blocks, for the tests' leak check; see
 * lifetrace/error.h. */
long lt_alloc_live(void) { return live_blocks; }

/* Arms the allocator to fail the nth next allocation (0 disarms), so tests
 * can walk every OOM path; see lifetrace/error.h. */
void lt_alloc_fail_nth(long nth) { fail_countdown = nth; }

static void *pb_alloc(void *data, size_t size) {
  (void)data;
  return lt_malloc(size);
}

static void pb_free(void *data, void *p) {
  (void)data;
  lt_free(p);
}

ProtobufCAllocator lt_protobuf_allocator = {pb_alloc, pb_free, NULL};
