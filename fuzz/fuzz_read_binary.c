/* lifetrace — fuzz target for the binary trace reader (.ltrace and
 * .ltrace.zst): "LTRC", a varint version, then length-delimited messages.
 *
 * The input is put behind the magic bytes unless it already starts with them
 * (or with the zstd frame magic), handed to lt_reader_open through a memfd
 * path, and read to the end. Any outcome is fine except a sanitizer report,
 * a hang or a leak: the reader must refuse corrupt input with a diagnostic.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "lifetrace/trace.h"

/* Reads the input as a binary trace to the end, behind the magic unless it
 * already has one; the outcome is ignored, only sanitizer reports, hangs and
 * leaks count. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path;
  static const uint8_t magic[] = {'L', 'T', 'R', 'C'}, zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
  int framed = size >= 4 && (!memcmp(data, magic, 4) || !memcmp(data, zstd, 4));
  if (!(path = lt_fuzz_memfd(magic, framed ? 0 : 4, data, size)))
    return 0;
  lt_reader *r = NULL;
  lt_diag diag;
  memset(&diag, 0, sizeof diag);
  if (lt_reader_open(&r, path, 0, &diag) == 0) {
    const lt_event *ev;
    for (int i = 0; i < 100000 && lt_reader_next(r, &ev, &diag) == 0; i++)
      (void)lt_reader_index(r);
  }
  char msg[1200];
  lt_diag_format(&diag, msg, sizeof msg);
  lt_reader_free(r);
  return 0;
}
