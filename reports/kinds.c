/* Descriptions of the finding kinds for reports (see kinds.h). */
#include "kinds.h"

#include "lifetrace/finding.h"

static const struct {
  const char *summary, *help;
} kinds[LT_F__COUNT] = {
    [LT_F_DOUBLE_DESTROY] = {"A destroy names an allocation or resource already destroyed (G1).",
                             "DxgkDdiDestroyAllocation was asked to destroy a handle that an "
                             "earlier destroy already released. Look at the earlier destroy in "
                             "the history: a lost Stop record in the capture, or a driver that "
                             "destroys twice when DestroyResource is set."},
    [LT_F_UNKNOWN_HANDLE] = {"An event names a handle never created nor seeded by rundown.",
                             "The handle was never created in this trace. In a window trace a "
                             "destroy of such a handle is only a warning: the object may predate "
                             "the capture."},
    [LT_F_USE_AFTER_DESTROY] = {"An allocation is used after it was destroyed.",
                                "A submit, lock, open, close, scanout or page-in names an "
                                "allocation that was already destroyed."},
    [LT_F_DESTROY_WHILE_OPEN] = {"DestroyAllocation while another device still holds a binding "
                                 "(G2, G5).",
                                 "Every OpenAllocation binding must be closed with "
                                 "CloseAllocation before the allocation is destroyed."},
    [LT_F_DESTROY_WHILE_BUSY] = {"Destroyed while a referencing DMA packet has not completed (G3).",
                                 "The GPU may still read or write the memory. dxgkrnl defers "
                                 "destruction until the fence completes unless "
                                 "assume_not_in_use is set (then this is a warning)."},
    [LT_F_DESTROY_WHILE_DISPLAYED] = {"Destroyed while scanned out (G4).",
                                      "A VidPn source still scans out the allocation."},
    [LT_F_DESTROY_WHILE_LOCKED] = {"Destroyed with an outstanding CPU lock.",
                                   "Lock was not matched by Unlock before the destroy."},
    [LT_F_RESOURCE_ORPHANED] = {"destroy_resource while allocations of the resource remain alive.",
                                "DestroyResource releases the resource while some of its "
                                "allocations are neither listed nor destroyed."},
    [LT_F_RESOURCE_MISMATCH] = {"Listed allocations do not belong to the resource.",
                                "The destroy names allocations of another resource, or sets "
                                "destroy_resource on a call without a resource."},
    [LT_F_LOST_DESTROY] = {"A live handle value is created again (a Stop record was lost).",
                           "The capture shows a create for a handle value that is still alive."},
    [LT_F_LEAK] = {"An object is still alive when its device, process or trace ends.",
                   "A warning when dxgkrnl destroys it at device or process teardown; an "
                   "error when it is alive after the last event of a teardown trace."},
    [LT_F_MINIPORT_DOUBLE_FREE] = {"The driver freed a pool block or released an object twice.",
                                   "The tracked kernel pool saw a second ExFreePoolWithTag of "
                                   "the same block."},
    [LT_F_MINIPORT_LEAK] = {"Driver pool memory outlives the object it belongs to.",
                            "Pool blocks (by tag) are still allocated after the object they "
                            "serve was destroyed, or after the adapter stopped."},
    [LT_F_MINIPORT_USE_AFTER_FREE] = {"The driver touched freed pool memory.",
                                      "Freed pool blocks are poisoned; the driver read or "
                                      "wrote one."},
    [LT_F_MINIPORT_STALE_REFERENCE] = {"Driver state still points at a destroyed allocation.",
                                       "After the DDI returned, the driver's scanout or queue "
                                       "state still references the allocation."},
    [LT_F_MINIPORT_BAD_STATUS] = {"A DDI broke its output contract.",
                                  "Success with a NULL handle, or handles published on "
                                  "failure."},
    [LT_F_MINIPORT_CRASH] = {"The driver crashed or hung inside a DDI.",
                             "The miniport faulted or exceeded the watchdog inside a DDI call."},
    [LT_F_GPU_USE_AFTER_FREE] = {"A DMA or scanout touched memory its allocation no longer owns.",
                                 "GPU shadow memory shows the range belongs to another "
                                 "allocation (or generation) or to nobody."},
    [LT_F_GPU_FAULT] = {"A DMA referenced an allocation that was not resident.",
                        "The allocation was evicted or never paged in when the packet ran."},
};

/* The one-line meaning of a finding kind, "" when unknown; see kinds.h. */
const char *lt__kind_summary(int kind) {
  return kind >= 0 && kind < LT_F__COUNT && kinds[kind].summary ? kinds[kind].summary : "";
}

/* The rule behind a finding kind and what to look at, "" when unknown; see
 * kinds.h. */
const char *lt__kind_help(int kind) {
  return kind >= 0 && kind < LT_F__COUNT && kinds[kind].help ? kinds[kind].help : "";
}
