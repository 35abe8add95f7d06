/* Layering probe: an importer reaching sideways into the harness. Must not
 * compile (tests/layers/probe.sh). */
#include "import_internal.h"
#include "dxgkrnl.h"
