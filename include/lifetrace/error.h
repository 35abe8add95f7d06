/* lifetrace — error codes and the one allocator every part uses.
 *
 * An *error* means the harness could not do its job (bad file, out of memory,
 * bad usage). A *finding* (finding.h) means the trace or the driver did
 * something wrong. The two never share a channel.
 */
#ifndef LIFETRACE_ERROR_H
#define LIFETRACE_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define LT_MUST_CHECK __attribute__((warn_unused_result))
#define LT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LT_MUST_CHECK
#define LT_PRINTF(a, b)
#endif

/* X(name, value, message): the single table of error codes. */
#define LT_ERRNO_MAP(X)                                              \
  X(NOMEM, -1, "out of memory")                                      \
  X(IO, -2, "input/output error")                                    \
  X(CORRUPT, -3, "corrupt or truncated input")                       \
  X(FORMAT, -4, "unsupported format or version")                     \
  X(INVAL, -5, "invalid argument")                                   \
  X(TOOBIG, -6, "input exceeds a size limit")                        \
  X(BUSY, -7, "object still has live children")                      \
  X(NOENT, -8, "no such object or file")                             \
  X(ABI, -9, "miniport ABI version mismatch")                        \
  X(INTERNAL, -10, "internal error")                                 \
  X(EOF, -11, "end of input")                                       \
  X(NOSPACE, -12, "no space left in segment")

enum {
#define LT_ERR_ENUM(name, val, msg) LT_E##name = val,
  LT_ERRNO_MAP(LT_ERR_ENUM)
#undef LT_ERR_ENUM
};

/* Returns a static message for an LT_E* code (or "unknown error"). */
const char *lt_strerror(int err);
/* Returns the symbolic name ("LT_ECORRUPT") for an LT_E* code. */
const char *lt_err_name(int err);

/* The allocator. Every harness allocation goes through these so tests can
 * count and fail them. lt_free(NULL) is a no-op. */
void *lt_malloc(size_t n);
void *lt_calloc(size_t count, size_t n);
void *lt_realloc(void *p, size_t n);
void lt_free(void *p);
char *lt_strdup(const char *s);

/* Number of live lt_malloc blocks; tests check it returns to its start value. */
long lt_alloc_live(void);
/* Make the nth next allocation (1 = next) fail; 0 disables. For tests. */
void lt_alloc_fail_nth(long nth);

/* A ProtobufCAllocator that routes protobuf-c through lt_malloc. */
struct ProtobufCAllocator;
extern struct ProtobufCAllocator lt_protobuf_allocator;

#endif
