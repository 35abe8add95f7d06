/* lifetrace — how the reader fuzz targets hand an input to a reader that
 * opens a path: the bytes (behind an optional prefix) in one memfd, reused
 * for every input, named by /proc/self/fd/N. */
#ifndef LT_FUZZ_MEMFD_H
#define LT_FUZZ_MEMFD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

/* Writes prefix (plen bytes, may be 0) and data into the target's memfd and
 * returns its path, or NULL when the memfd cannot be made or written. */
static inline const char *lt_fuzz_memfd(const uint8_t *prefix, size_t plen, const uint8_t *data,
                                        size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("lt-fuzz-input", 0);
    if (fd < 0)
      return NULL;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || (plen && pwrite(fd, prefix, plen, 0) != (ssize_t)plen) ||
      pwrite(fd, data, size, (off_t)plen) != (ssize_t)size)
    return NULL;
  return path;
}

#endif
