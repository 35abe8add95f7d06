/* lifetrace — fuzz target for the native .etl reader (LT_IMPORT_ETL): the
 * container (buffers, log-file header, record kinds, extended data, the
 * per-CPU merge, decompression) and the DxgKrnl payload decoder feeding the
 * joins. The input is fed in chunks of 1 + 64 * (its last byte) bytes (a
 * buffer cut anywhere), odd-sized inputs with --keep-going. Any outcome is
 * fine except a sanitizer report, a hang or a leak. */
#include <stdint.h>
#include <string.h>

#include "lifetrace/import.h"
#include "lifetrace/trace.h"

static int sink(void *data, const lt_event *ev) {
  char *line = NULL;
  size_t len = 0;
  (void)data;
  if (lt_jsonl_format_event(ev, &line, &len) == 0)
    lt_free(line);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lt_import_opts o = {LT_IMPORT_ETL, (int)(size & 1), "fuzz.etl", sink, NULL, NULL, NULL};
  lt_import *imp = NULL;
  lt_diag diag;
  char msg[1200];
  memset(&diag, 0, sizeof diag);
  if (lt_import_new(&imp, &o))
    return 0;
  size_t chunk = size ? 1 + (size_t)data[size - 1] * 64 : 1, off = 0;
  int rc = 0;
  for (; rc == 0 && off < size; off += chunk)
    rc = lt_import_feed(imp, data + off, size - off < chunk ? size - off : chunk, &diag);
  if (rc == 0)
    rc = lt_import_finish(imp, &diag);
  if (rc == 0) {
    const lt_header *h = lt_import_header(imp);
    char *line = NULL;
    size_t len = 0;
    if (h && lt_jsonl_format_header(h, &line, &len) == 0)
      lt_free(line);
  } else {
    lt_diag_format(&diag, msg, sizeof msg);
  }
  lt_import_free(imp);
  return 0;
}
