/* Layering probe: the harness reaching up into the results store. Must not
 * compile (tests/layers/probe.sh). */
#include "dxgkrnl.h"
#include "store_priv.h"
