/* lifetrace — fuzz target for the reader of `check`'s expected verdicts
 * (NAME.expected.json beside each regression trace: {"policy", "bugs",
 * "findings": [{"kind", "event", "severity"}]}), through
 * lt__check_parse_expected (reports/check.c) on a memfd path. Any outcome
 * is fine except a sanitizer report, a hang or a leak.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_memfd.h"
#include "lifetrace/check.h"

/* Parses the input as an expected-verdict file and frees what it made; any
 * outcome but a sanitizer report, hang or leak is fine. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path;
  lt_check_case k;
  char msg[1024];
  if (!(path = lt_fuzz_memfd(NULL, 0, data, size)))
    return 0;
  memset(&k, 0, sizeof k);
  (void)lt__check_parse_expected(&k, path, msg, sizeof msg);
  lt_free(k.bugs);
  lt_free(k.expected);
  return 0;
}
