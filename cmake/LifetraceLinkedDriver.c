/* lifetrace — glue of the binaries that lifetrace_add_driver links a driver
 * into (LifetraceAddDriver.cmake). It names the driver the binary carries:
 * lt_linked_miniport() returns the table of the driver's own
 * LT_DEFINE_MINIPORT_ENTRY, and lifetrace uses it whenever no other driver is
 * given (no --driver, no LT_FUZZ_DRIVER). A binary without this glue has no
 * driver of its own and asks for one. The table is still checked against
 * LT_MINIPORT_ABI_VERSION at load. */
#include "lifetrace/miniport.h"

const LT_MINIPORT *lt_miniport_entry(void);

const LT_MINIPORT *lt_linked_miniport(void) { return lt_miniport_entry(); }
