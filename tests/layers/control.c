/* Layering probe, the control: each layer's own private headers and the
 * public ones compile (tests/layers/probe.sh), so a failing probe fails for
 * its wrong-way include alone. */
#include "lifetrace/replay.h"
#include PROBE_OWN_HEADER
