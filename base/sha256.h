/* lifetrace base kit — SHA-256 of a file (FIPS 180-4), for the results
 * store's record of which trace file was replayed. */
#ifndef LT_SHA256_H
#define LT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "lifetrace/error.h"

/* Computes the SHA-256 of a file as 64 lowercase hex digits plus NUL; also
 * returns its size in *size (may be NULL). LT_EIO/LT_ENOENT when unreadable. */
LT_MUST_CHECK int lt_sha256_file(const char *path, char hex[65], uint64_t *size);

/* The SHA-256 of n bytes at p, as 64 lowercase hex digits plus NUL. */
void lt__sha256_mem(const void *p, size_t n, char hex[65]);

#endif
