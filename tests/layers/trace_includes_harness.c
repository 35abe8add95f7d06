/* Layering probe: the trace model reaching up into the harness. Must not
 * compile (tests/layers/probe.sh). */
#include "dxgkrnl.h"
#include "trace_io.h"
