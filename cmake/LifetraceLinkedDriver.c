/* lifetrace — glue of the binaries that lifetrace_add_driver links a driver
 * into (LifetraceAddDriver.cmake). They are linked with
 * -Wl,--wrap=lt_reference_miniport, so every place in lifetrace that falls
 * back to "the reference miniport" (no --driver, --driver reference, no
 * LT_FUZZ_DRIVER) gets the linked driver's table instead, through the
 * lt_miniport_entry() that its glue defines (LT_DEFINE_MINIPORT_ENTRY). The
 * table is still checked against LT_MINIPORT_ABI_VERSION at load. */
#include "lifetrace/miniport.h"

const LT_MINIPORT *lt_miniport_entry(void);
const LT_MINIPORT *__wrap_lt_reference_miniport(void);

const LT_MINIPORT *__wrap_lt_reference_miniport(void) { return lt_miniport_entry(); }
