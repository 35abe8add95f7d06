/* Layering probe: the reports reaching up into the command-line tool. Must
 * not compile (tests/layers/probe.sh). */
#include "store_priv.h"
#include "commands.h"
