/* The simulated dxgkrnl: private state of the replay engine (replay.h).
 *
 * Objects mirror dxgkrnl's (WSL's dxgdevice/dxgcontext/dxgresource/
 * dxgallocation): a device owns contexts and bindings; allocations and
 * resources are adapter objects created through a device. Trace handles map
 * to objects through one hash map per object type; a destroyed object stays
 * there as a tombstone (state DEAD) until pushed out of a bounded FIFO, so a
 * double destroy is recognized with its history while memory stays bounded.
 */
#ifndef LT_DXGKRNL_H
#define LT_DXGKRNL_H

#include <setjmp.h>

#include "handle_table.h"
#include "kernel_sched.h"
#include "lifetrace/gpu.h"
#include "lifetrace/pool.h"
#include "lifetrace/replay.h"
#include "slab.h"
#include "u64map.h"

#define LT_MAX_NODES 64
#define LT_MAX_SOURCES 16
#define LT_TOMBSTONES 8192
#define LT_HIST 8

enum obj_state {
  ST_LIVE,    /* alive in the trace's view */
  ST_DEAD,    /* destroyed (or destroy requested) in the trace's view */
  ST_FAILED,  /* its creation failed (injected fault, driver error) */
};

typedef struct lt__obj lt__obj;
typedef struct lt__device lt__device;
typedef struct lt__context lt__context;
typedef struct lt__resource lt__resource;
typedef struct lt__alloc lt__alloc;
typedef struct lt__binding lt__binding;
typedef struct lt__scope lt__scope;

struct lt__obj {
  int type;  /* LT_OBJ_* */
  int state; /* enum obj_state */
  int refs;  /* the handle map, packets, deferred destroys, children */
  int rundown;
  uint64_t handle, serial, pid;
  int64_t created_at;
  int n_destroyed;
  uint64_t destroyed_at[LT_FINDING_MAX_DESTROYS];
  int hist_n, hist_pos;
  lt_history_entry hist[LT_HIST];
  uint32_t khandle; /* dxgkrnl kernel handle (allocations, resources) */
  lt__obj *tomb_next;
  int in_map;
  /* Membership in the creating device's list of live objects it created
   * (device allocations and resources), walked at device teardown. */
  lt__obj *created_prev, *created_next;
  int in_created;
  /* G5: the creator let go of this shared object (LT_RELEASED_*) while
   * another device had it open; it lives until the last of those bindings
   * is closed, then dxgkrnl destroys it. released_at: the event. */
  int released;
  uint64_t released_at;
  /* dxgkrnl ended it on its own after the creator's teardown; the trace's
   * record of that destroy may still follow and is then not a double one. */
  int end_unrecorded;
};

enum { LT_RELEASED_TEARDOWN = 1, LT_RELEASED_DESTROY = 2 };

/* A list of live objects created through one device (or through none). */
typedef struct lt__created {
  lt__obj *head;
} lt__created;

/* A leak-check scope: pool blocks made while serving these objects. */
struct lt__scope {
  uint64_t serial;
  uint32_t live;
  int object;
  uint64_t handle;
};

struct lt__device {
  lt__obj o;
  HANDLE kmd;
  lt__context *contexts; /* list via next */
  lt__binding *bindings; /* list via dev_next */
  lt__created created;
  int torn_down;
};

struct lt__context {
  lt__obj o;
  HANDLE kmd;
  lt__device *dev;
  lt__context *next;
  uint32_t node;
  uint64_t last_fence; /* last trace fence submitted */
  uint64_t last_node_fence;
};

struct lt__resource {
  lt__obj o;
  HANDLE kmd;
  lt__device *creator;
  lt__alloc *allocs; /* live member allocations, via res_next */
  uint32_t n_live;
  int shared;
  int kmd_destroyed; /* a DestroyAllocation with DestroyResource returned for it */
  int kmd_freed_seen; /* its driver object was found freed (reported once) */
};

struct lt__alloc {
  lt__obj o;
  HANDLE kmd;
  lt__resource *res;
  lt__device *creator;
  lt__scope *group; /* creation call scope when there is no resource */
  lt__alloc *res_prev, *res_next;
  lt__binding *bindings; /* via alloc_next */
  uint64_t size, align;
  uint32_t segset, preferred, flags;
  int shared, offered, destroy_queued;
  int kmd_destroyed; /* DxgkDdiDestroyAllocation has returned for it */
  uint32_t segment; /* 0 = not resident */
  uint64_t addr;
  lt__alloc *lru_prev, *lru_next;
  uint32_t locks;
  uint32_t displayed; /* bitmask of VidPn sources (trace view) */
  uint32_t pending_refs;
  unsigned char priv[16]; /* LT_UMD_ALLOCATION_DATA, when the driver declares no layout */
  /* What the UMD's private data is built from (LT_UMD_ALLOCATION). */
  uint32_t umd_index, umd_count, umd_variant;
  uint64_t umd_resource;
};

struct lt__binding {
  lt__device *dev;
  lt__alloc *alloc;
  HANDLE kmd; /* hDeviceSpecificAllocation */
  int is_create;
  lt__scope *group;
  lt__binding *dev_prev, *dev_next, *alloc_next;
};

typedef struct lt__packet {
  struct lt__packet *next;
  lt__context *ctx;
  uint64_t fence, node_fence;
  size_t n;
  lt__alloc **allocs; /* few_allocs when n fits, else an lt_calloc array */
  void *priv;
  lt__alloc *few_allocs[4]; /* most submits reference a few allocations */
} lt__packet;

typedef struct lt__node {
  lt__packet *head, *tail;
  uint64_t next_fence, completed;
} lt__node;

typedef struct lt__deferred {
  struct lt__deferred *next;
  size_t n;
  lt__alloc **allocs;
  lt__resource *res;
  int destroy_resource;
  int wait_bindings; /* a shared object: wait until other devices closed it */
  uint64_t event;
} lt__deferred;

struct lt_replay {
  lt_replay_opts opts;
  lt_header *header;
  const LT_MINIPORT *mp;
  HANDLE adapter;
  DXGKRNL_INTERFACE iface;
  lt_pool *pool;
  lt_gpu *gpu;
  lt_findings findings;
  lt_note notes[LT_REPLAY_MAX_NOTES];
  size_t n_notes;
  lt__handle_table kht;
  lt__u64map devices, contexts, resources, allocs;
  lt__u64map kmd_allocs; /* KMD hAllocation -> live lt__alloc */
  lt__u64map stale_seen;
  lt__obj *tomb_head, *tomb_tail;
  size_t n_tombs;
  lt__node nodes[LT_MAX_NODES];
  lt__alloc *scanout[LT_MAX_SOURCES]; /* trace view */
  lt__alloc *lru_head, *lru_tail;
  lt__deferred *deferred;
  lt__created created_nodev; /* objects created with device 0 */
  uint64_t serial;
  uint64_t n_events, cur_event;
  const lt_event *cur;
  const char *cur_ddi;
  uint32_t handle_fail;
  int crashed, started, finished, window;
  uint32_t scanout_reported; /* sources whose violation was reported */
  uint64_t reported_scope;
  uint64_t stale_skip, stale_cost; /* destroys since the last walk; its length (refs) */
  /* Per-event work areas of alloc_create and submit (tens of KB each):
   * made once and reused, because zeroing a fresh one per event cost more
   * than the event. Only the entries an event uses are cleared. */
  void *create_scratch, *submit_scratch;
  /* Engine objects made and dropped per event (see slab.h). */
  lt__slab alloc_slab, binding_slab, scope_slab, packet_slab;
  /* The simulated kernel: system threads, DPCs, timers, virtual clock. */
  lt__kstate kernel;
};

/* replay_engine.c */
void lt__finding(lt_replay *r, int kind, int sev, lt__obj *o, const char *fmt, ...)
    LT_PRINTF(5, 6);
void lt__bad_output(lt_replay *r, lt__obj *o, const char *check, const void *block,
                    int free_is_cause, const char *fmt, ...) LT_PRINTF(6, 7);
void lt__finding_init(lt_finding *f, int kind, int sev);
void lt__finding_pool_block(lt_finding *f, uint32_t tag, uint64_t bytes, const char *ddi);
void lt__finding_at(lt_replay *r, lt_finding *f);
void lt__finding_describe(lt_finding *f, const lt__obj *o);
void lt__note(lt_replay *r, const char *kind, const char *ddi, const char *fmt, ...)
    LT_PRINTF(4, 5);
void lt__hist(lt_replay *r, lt__obj *o);
uint64_t lt__serial(lt_replay *r);
int lt__pool_fault(lt_replay *r, const char *ddi, int sig, uintptr_t fault_addr);

/* dxgkrnl_objects.c */
lt__obj *lt__lookup(lt_replay *r, int type, uint64_t handle);
LT_MUST_CHECK int lt__register(lt_replay *r, lt__obj *o);
void lt__kill(lt_replay *r, lt__obj *o);
void lt__created_add(lt_replay *r, lt__device *dev, lt__obj *o);
/* Marks a shared object released by its creator (G5): out of the creator's
 * list, still live for the devices that have it open. how: LT_RELEASED_*. */
void lt__release(lt_replay *r, lt__obj *o, int how);
/* Whether a destroy naming this handle is the trace's record of a destroy
 * dxgkrnl already did on its own (G5); consumes that record. */
int lt__end_recorded(lt_replay *r, int type, uint64_t handle);
void lt__fail(lt_replay *r, lt__obj *o);
void lt__ref(lt__obj *o);
void lt__unref(lt_replay *r, lt__obj *o);
void lt__objects_reset(lt_replay *r);
lt__scope *lt__scope_new(lt_replay *r, int object, uint64_t handle, uint32_t live);
void lt__scope_put(lt_replay *r, lt__scope *s);
/* Validates a handle named by the current event. Returns the live object, or
 * NULL after recording the audit finding (unknown-handle / use-after-destroy /
 * double-destroy) that fits; `destroy` selects double-destroy wording. */
void *lt__want(lt_replay *r, int type, uint64_t handle, int destroy);

/* dxgkrnl_ddi.c: every DDI call goes through the guard (crash, deadlock,
 * pool attribution, stale-reference and leak oracles). */
#define LT_DDI_CRASHED ((NTSTATUS)0xDEADDEADu)
/* The replay whose DDI runs on this thread, for the DxgkCb* callbacks
 * (dxgkrnl_callbacks.c), which get no other context. */
extern _Thread_local lt_replay *lt__current;
/* Fills r->iface, the DXGKRNL_INTERFACE of DxgkDdiStartDevice. */
void lt__callbacks_init(lt_replay *r);
/* A pool tag as four characters, '?' for the non-printable ones. */
void lt__tag_text(uint32_t tag, char out[5]);
/* The stale-reference oracle's LtEnumReferencedAllocations callback
 * (dxgkrnl_oracles.c); data is its walk's context. */
void lt__stale_report(void *data, HANDLE h, const char *where);

typedef NTSTATUS (*lt__ddi_fn)(lt_replay *r, void *arg);

/* The DDI call sites (dxgkrnl_ddi.c), one per DDI, for lt__ddi: the only
 * code that calls into the miniport's table. arg is the DDI's argument
 * structure, or for a DDI on a device or context one of these: */
struct lt__dev_call {
  HANDLE dev;
  void *args;
};

struct lt__render_call {
  HANDLE ctx;
  DXGKARG_RENDER args;
};

struct lt__ctx_call {
  HANDLE dev;
  DXGKARG_CREATECONTEXT args;
};

NTSTATUS lt__ddi_create_allocation(lt_replay *r, void *arg);
NTSTATUS lt__ddi_open_allocation(lt_replay *r, void *arg);
NTSTATUS lt__ddi_close_allocation(lt_replay *r, void *arg);
NTSTATUS lt__ddi_destroy_allocation(lt_replay *r, void *arg);
NTSTATUS lt__ddi_build_paging_buffer(lt_replay *r, void *arg);
NTSTATUS lt__ddi_render(lt_replay *r, void *arg);
NTSTATUS lt__ddi_submit_command(lt_replay *r, void *arg);
NTSTATUS lt__ddi_interrupt_and_dpc(lt_replay *r, void *arg);
NTSTATUS lt__ddi_lock(lt_replay *r, void *arg);
NTSTATUS lt__ddi_unlock(lt_replay *r, void *arg);
NTSTATUS lt__ddi_set_vidpn_source_address(lt_replay *r, void *arg);
NTSTATUS lt__ddi_reset_from_timeout(lt_replay *r, void *arg);
NTSTATUS lt__ddi_restart_from_timeout(lt_replay *r, void *arg);
NTSTATUS lt__ddi_create_device(lt_replay *r, void *arg);
NTSTATUS lt__ddi_destroy_device(lt_replay *r, void *arg);
NTSTATUS lt__ddi_create_context(lt_replay *r, void *arg);
NTSTATUS lt__ddi_destroy_context(lt_replay *r, void *arg);
NTSTATUS lt__ddi_stop_device(lt_replay *r, void *arg);
NTSTATUS lt__ddi_start_device(lt_replay *r, void *arg);
NTSTATUS lt__ddi_enum_referenced_allocations(lt_replay *r, void *arg);
/* A schedule point outside any DDI (a timer fell due at a trace event):
 * arg unused. */
NTSTATUS lt__ddi_kernel_schedule(lt_replay *r, void *arg);

NTSTATUS lt__ddi(lt_replay *r, const char *name, int object, uint64_t handle, uint64_t scope,
                 lt__ddi_fn fn, void *arg);
void lt__check_scope(lt_replay *r, const lt__scope *s, const char *ddi);
void lt__check_stale(lt_replay *r, const char *ddi, int force);
void lt__install_crash_handlers(void);
void lt__check_recent_frees(lt_replay *r, const char *ddi);
void lt__pool_problem(void *data, int problem, const lt_pool_block_info *b);

/* dxgkrnl_alloc.c */
void lt__op_alloc_create(lt_replay *r, const lt_event *ev);
void lt__op_alloc_open(lt_replay *r, const lt_event *ev);
void lt__op_alloc_close(lt_replay *r, const lt_event *ev);
void lt__op_alloc_destroy(lt_replay *r, const lt_event *ev);
void lt__destroy_now(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                     int destroy_resource);
void lt__run_deferred(lt_replay *r, int force);
void lt__close_bindings(lt_replay *r, lt__device *dev, lt__binding **b, size_t n);
void lt__lost_destroy(lt_replay *r, lt__obj *o);
void lt__defer(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res, int destroy_res,
               int wait_bindings);
void lt__release_shared(lt_replay *r, lt__alloc **list, size_t n, lt__resource *res,
                        int destroy_res, int how);

/* dxgkrnl_gpu.c */
void lt__op_submit(lt_replay *r, const lt_event *ev);
void lt__op_fence_done(lt_replay *r, const lt_event *ev);
void lt__op_lock(lt_replay *r, const lt_event *ev, int lock);
void lt__op_residency(lt_replay *r, const lt_event *ev);
void lt__op_scanout(lt_replay *r, const lt_event *ev);
void lt__op_tdr(lt_replay *r);
void lt__complete_node(lt_replay *r, uint32_t node, uint64_t node_fence);
void lt__retire_packets(lt_replay *r, lt__node *nd, uint64_t node_fence);
void lt__drain_context(lt_replay *r, lt__context *c);
int lt__make_resident(lt_replay *r, lt__alloc *a, uint32_t preferred);
enum { LT_EVICT_TRANSFER, LT_EVICT_SILENT, LT_EVICT_TDR_NOTICE };
void lt__evict(lt_replay *r, lt__alloc *a, int mode);
void lt__gpu_violation(void *data, int violation, const lt_gpu_access *a, uint64_t found_owner,
                       int from_scanout, uint32_t source);

/* dxgkrnl_teardown.c */
void lt__op_device_create(lt_replay *r, const lt_event *ev);
void lt__op_device_destroy(lt_replay *r, const lt_event *ev);
void lt__op_context_create(lt_replay *r, const lt_event *ev);
void lt__op_context_destroy(lt_replay *r, const lt_event *ev);
void lt__op_process_exit(lt_replay *r, const lt_event *ev);
void lt__context_destroy(lt_replay *r, lt__context *c);
void lt__check_adapter_leaks(lt_replay *r);
void lt__device_teardown(lt_replay *r, lt__device *d, int report_leaks);
void lt__teardown_all(lt_replay *r, int leak_severity);

static inline int lt__kernel(const lt_replay *r) { return r->opts.policy == LT_POLICY_KERNEL; }

#endif
