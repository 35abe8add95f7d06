/* lifetrace — fuzz target for the JSONL trace reader: line 1 the header
 * object, every further line one event; handles as integers or "0x..."
 * strings; unknown keys an error in strict mode.
 *
 * Inputs that do not start with '{' are skipped (the reader would take them
 * for another form). Odd-sized inputs are read in strict mode. Each event is
 * also formatted back to JSONL, which exercises the writer on whatever the
 * parser accepted.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "lifetrace/trace.h"

/* Reads the input as a JSONL trace (strict mode for odd sizes) and formats
 * each event back to JSONL; any outcome but a sanitizer report, hang or leak
 * is fine. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path;
  if (size == 0 || data[0] != '{' || !(path = lt_fuzz_memfd(NULL, 0, data, size)))
    return 0;
  lt_reader *r = NULL;
  lt_diag diag;
  memset(&diag, 0, sizeof diag);
  if (lt_reader_open(&r, path, (int)(size & 1), &diag) == 0) {
    const lt_event *ev;
    char *line = NULL;
    size_t len = 0;
    if (lt_jsonl_format_header(lt_reader_header(r), &line, &len) == 0)
      lt_free(line);
    for (int i = 0; i < 100000 && lt_reader_next(r, &ev, &diag) == 0; i++) {
      line = NULL;
      if (lt_jsonl_format_event(ev, &line, &len) == 0)
        lt_free(line);
    }
  }
  lt_reader_free(r);
  return 0;
}
