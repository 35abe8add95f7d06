/* lifetrace — fuzz target for the ETW readers: tracerpt XML, tracerpt CSV,
 * xperf dumper output and native .etl captures, one target each
 * (LT_FUZZ_IMPORT_FORMAT is LT_IMPORT_XML, _CSV, _DUMPER or _ETL;
 * fuzz/CMakeLists.txt). For .etl that is the container (buffers, log-file
 * header, record kinds, extended data, the per-CPU merge, decompression) and
 * the DxgKrnl payload decoder feeding the joins.
 *
 * The input is fed to lt_import_* in chunks of 1 + LT_FUZZ_CHUNK * (its last
 * byte) bytes (a line, an XML record or an .etl buffer cut anywhere, and
 * assembled in the readers' buffers, which move as they grow), then
 * finished; odd-sized inputs are read with --keep-going.
 * Every event the joins produce is formatted as JSONL, and the header and
 * summaries are written, which exercises all the reader's output on
 * whatever it accepted. Any outcome is fine except a sanitizer report, a
 * hang or a leak: a reader must refuse bad input with a diagnostic.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lifetrace/import.h"
#include "lifetrace/trace.h"

#ifndef LT_FUZZ_IMPORT_FORMAT
#error "LT_FUZZ_IMPORT_FORMAT must name the reader (LT_IMPORT_XML, _CSV, _DUMPER or _ETL)"
#endif
#ifndef LT_FUZZ_CHUNK
#define LT_FUZZ_CHUNK 16
#endif

static int sink(void *data, const lt_event *ev) {
  char *line = NULL;
  size_t len = 0;
  (void)data;
  if (lt_jsonl_format_event(ev, &line, &len) == 0)
    lt_free(line);
  return 0;
}

static void outputs(lt_import *imp) {
  static FILE *null;
  const lt_header *h = lt_import_header(imp);
  char *line = NULL;
  size_t len = 0;
  if (h && lt_jsonl_format_header(h, &line, &len) == 0)
    lt_free(line);
  if (!null)
    null = fopen("/dev/null", "w");
  if (null) {
    lt_import_summary_write(null, imp);
    lt_import_summary_json(null, imp);
  }
}

/* Imports the input in chunks sized by its last byte with this target's
 * format, writing every event, the header and the summaries; any outcome but
 * a sanitizer report, hang or leak is fine. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lt_import_opts o = {LT_FUZZ_IMPORT_FORMAT, (int)(size & 1), "fuzz", sink, NULL, NULL, NULL};
  lt_import *imp = NULL;
  lt_diag diag;
  char msg[1200];
  memset(&diag, 0, sizeof diag);
  if (lt_import_new(&imp, &o))
    return 0;
  size_t chunk = size ? 1 + (size_t)data[size - 1] * LT_FUZZ_CHUNK : 1, off = 0;
  int rc = 0;
  for (; rc == 0 && off < size; off += chunk)
    rc = lt_import_feed(imp, data + off, size - off < chunk ? size - off : chunk, &diag);
  if (rc == 0)
    rc = lt_import_finish(imp, &diag);
  if (rc == 0)
    outputs(imp);
  else
    lt_diag_format(&diag, msg, sizeof msg);
  lt_import_free(imp);
  return 0;
}
