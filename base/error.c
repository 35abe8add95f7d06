/* Error table and the swappable allocator (see lifetrace/error.h). */
#include "lifetrace/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>

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

void *lt_malloc(size_t n) {
  if (should_fail())
    return NULL;
  void *p = malloc(n ? n : 1);
  if (p)
    live_blocks++;
  return p;
}

void *lt_calloc(size_t count, size_t n) {
  if (should_fail())
    return NULL;
  void *p = calloc(count ? count : 1, n ? n : 1);
  if (p)
    live_blocks++;
  return p;
}

void *lt_realloc(void *p, size_t n) {
  if (p == NULL)
    return lt_malloc(n);
  if (should_fail())
    return NULL;
  return realloc(p, n ? n : 1);
}

void lt_free(void *p) {
  if (p == NULL)
    return;
  live_blocks--;
  free(p);
}

char *lt_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = lt_malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

long lt_alloc_live(void) { return live_blocks; }

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
