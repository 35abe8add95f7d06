/* Harness side of the simulated kernel's scheduler (kernel_sched.c,
 * kernel_sync.c): system threads as coroutines, the DPC queue, timers and
 * the virtual clock of one replay. The routines a driver calls are declared
 * in lifetrace/wdk/lt_kernel.h.
 *
 * Why coroutines (ucontext) and not pthreads: the replay must stay
 * single-threaded and reproducible, and everything the harness keeps per
 * thread (the current replay, the DDI guard, the pool, the IRQL) is
 * thread-local; a coroutine runs on the replay's own OS thread, so all of it
 * holds, a crash in a driver thread reaches the same crash guard, and the
 * order of every switch is the harness's. ASan is told about every stack
 * switch (__sanitizer_start/finish_switch_fiber).
 */
#ifndef LT_KERNEL_SCHED_H
#define LT_KERNEL_SCHED_H

#include <ucontext.h>

#include "lifetrace/wddm_kernel.h"

/* DISPATCHER_HEADER.Type of the objects the harness knows. */
enum {
  LT_KOBJ_EVENT_NOTIFY = 0x4c540001,
  LT_KOBJ_EVENT_SYNC,
  LT_KOBJ_MUTEX,
  LT_KOBJ_SEMAPHORE,
  LT_KOBJ_THREAD,
  LT_KOBJ_TIMER_NOTIFY,
  LT_KOBJ_TIMER_SYNC,
  LT_KOBJ_FAST_MUTEX,
};

enum { LT_KTHREAD_NEW, LT_KTHREAD_RUNNING, LT_KTHREAD_WAITING, LT_KTHREAD_DONE };

struct _KTHREAD {
  DISPATCHER_HEADER Header; /* signalled when the thread has ended */
  ucontext_t uc;
  void *map;        /* mmap'ed guard page + stack */
  size_t map_size;
  void *stack;      /* usable stack (above the guard page) */
  size_t stack_size;
  PKSTART_ROUTINE start;
  PVOID start_context;
  int state;
  KIRQL irql;
  /* the wait in progress (state WAITING) */
  ULONG wait_n;
  PVOID wait_objs[MAXIMUM_WAIT_OBJECTS];
  WAIT_TYPE wait_type;
  int has_deadline;
  uint64_t deadline;
  void *asan_fake;
  HANDLE handle;   /* the kernel handle PsCreateSystemThread returned */
  int handle_open;
  LONG refs;
  uint32_t id;
  struct _KTHREAD *next;
};

typedef struct lt__kstate {
  uint64_t now; /* virtual system time, 100 ns units */
  struct _KTHREAD *threads, *threads_tail;
  struct _KTHREAD *current; /* the running system thread, NULL in the harness's context */
  ucontext_t main_uc;
  const void *main_bottom; /* the harness stack, for ASan's fiber switches */
  size_t main_size;
  void *main_fake;
  PKDPC dpc_head, dpc_tail;
  PKTIMER timers;
  uint32_t next_id;
  int scheduling;     /* inside lt__kernel_schedule */
  int dxgk_dpc_queued; /* DxgkCbQueueDpc since the last DxgkDdiDpcRoutine */
  int dxgk_dpc_used;   /* the driver has called DxgkCbQueueDpc in this replay */
  int in_isr;          /* DxgkDdiInterruptRoutine is running */
  KDPC dxgk_dpc;       /* DxgkDdiDpcRoutine queued from outside the ISR */
  unsigned char *dma;  /* the DMA buffer of Render / BuildPagingBuffer */
} lt__kstate;

#define LT_KERNEL_DMA_SIZE (64u * 1024u)
#define LT_KERNEL_TICK 10000ull /* one trace event: 1 ms in 100 ns units */

/* The state routines use: the current replay's, or a per-thread fallback
 * when a driver runs outside any replay (unit tests call DDIs directly). */
lt__kstate *lt__kernel_state(void);
/* Prepares a replay's state (virtual clock at its fixed start). */
void lt__kernel_init(lt__kstate *k);
/* Frees thread stacks and forgets queued DPCs and timers. */
void lt__kernel_reset(lt__kstate *k);
/* Advances the virtual clock by one trace event. */
void lt__kernel_tick(lt__kstate *k);
/* Whether timers are due or threads or DPCs can run. */
int lt__kernel_has_work(lt__kstate *k);
/* Runs expired timers, queued DPCs and runnable system threads until none
 * can run (a schedule point). Called in the harness's context, inside a DDI
 * guard. */
void lt__kernel_schedule(lt__kstate *k);
/* One pass of the schedule; returns whether anything ran. */
int lt__kernel_step(lt__kstate *k);
/* After the DDI guard caught a crash: the running thread (if any) is
 * abandoned and the harness's context is current again. */
void lt__kernel_abandon(lt__kstate *k);
/* Earliest timer due time, or UINT64_MAX. */
uint64_t lt__kernel_next_timer(lt__kstate *k);

/* kernel_sync.c: whether a wait on objs is satisfied for the running
 * context (without taking anything). */
int lt__kernel_wait_ready(const struct _KTHREAD *t);
/* Suspends the running system thread until the scheduler runs it again. */
void lt__kernel_yield(lt__kstate *k, int exiting);
/* The owner identity of the running context (a thread, or the harness). */
PVOID lt__kernel_self(lt__kstate *k);

/* kernel_debug.c / dxgkrnl_ddi.c: a finding about the miniport from a
 * kernel routine, with a driver site ("file.c:12" or a routine name);
 * fatal ends the running DDI as a crash does. */
void lt__kernel_finding(int kind, int fatal, const char *site, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
