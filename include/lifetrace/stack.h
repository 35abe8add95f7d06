/* lifetrace — call stacks: where in the driver a finding happened.
 *
 * Capture is cheap and raw: a bounded number of return addresses, taken at
 * pool allocation and free, at a finding, and from a fault's signal context,
 * with the unwinder of the C runtime (libgcc's, which reads .eh_frame, so a
 * driver built without frame pointers unwinds too). Symbols are looked up
 * lazily, only for what is reported, with elfutils' libdw (the module, the
 * function, the source file and line from DWARF), cached per address.
 *
 * A frame is classified as the driver's, lifetrace's own (the harness, the
 * replay loop, the public headers' inline helpers) or the system's (libc,
 * the sanitizer and fuzzer runtimes); a finding's signature names the top
 * driver frames, and every writer shows the frames ASan-style.
 */
#ifndef LIFETRACE_STACK_H
#define LIFETRACE_STACK_H

#include <stddef.h>
#include <stdint.h>

#define LT_STACK_MAX 12 /* return addresses kept per stack */
#define LT_FRAMES_MAX 32 /* symbolized frames of one stack (inlined calls expanded) */

/* A raw stack, innermost first. exact0: pc[0] is the faulting instruction
 * itself (from a signal context), not a return address. */
typedef struct lt_stack {
  uint16_t n;
  uint16_t exact0;
  uintptr_t pc[LT_STACK_MAX];
} lt_stack;

/* What a stack of a finding shows (ASan's "allocated by", "freed by", ...). */
enum lt_stack_role {
  LT_STACK_ALLOCATED,   /* where the block was allocated */
  LT_STACK_FREED,       /* where it was (first) freed */
  LT_STACK_FREED_AGAIN, /* the second free */
  LT_STACK_ACCESS,      /* the access to freed memory */
  LT_STACK_FAULT,       /* the faulting (or hanging) stack */
  LT_STACK_FOUND,       /* where the driver reported the reference */
  LT_STACK_DDI,         /* the DDI the finding names (its entry point) */
  LT_STACK_AT,          /* the driver's call that led to the finding */
  LT_STACK_STORED,      /* the DDI that last gave the driver a stale reference's allocation */
  LT_STACK__COUNT
};

enum lt_frame_where { LT_FRAME_DRIVER, LT_FRAME_LIFETRACE, LT_FRAME_SYSTEM };

/* One symbolized frame. Strings are owned by the symbol cache and live until
 * the process ends; any may be "" when unknown (no debug info). A C++
 * function is named demangled, with its parameters
 * ("rnd::Adapter::DestroyAllocation(_DXGKARG_DESTROYALLOCATION const*)"). */
typedef struct lt_frame {
  uintptr_t pc;
  const char *function;
  const char *file;
  int line;
  const char *module; /* the file name of the ELF object */
  uintptr_t offset;   /* pc - module load address (stable across ASLR) */
  int where;          /* enum lt_frame_where */
} lt_frame;

/* Whether capture is on (LIFETRACE_STACKS=0 turns it off; default on). */
int lt_stack_enabled(void);
/* Turns capture on or off for this process (bench, tests). */
void lt_stack_set_enabled(int on);
/* Captures the caller's stack, skipping `skip` frames above the caller. */
void lt_stack_capture(lt_stack *s, int skip);
/* From a signal handler: captures the interrupted stack (from ucontext uc,
 * which may be NULL) into a per-thread slot that lt_stack_take_fault
 * empties. Async-signal-safe once lt_stack_prepare has run. */
void lt_stack_on_signal(const void *uc);
/* Moves the pending fault stack into s; 0 when there is none. */
int lt_stack_take_fault(lt_stack *s);
/* Loads the unwinder (so capture in a signal handler allocates nothing). */
void lt_stack_prepare(void);

/* Symbolizes pc (exact: pc is an instruction, not a return address) into
 * out; 0 on success, -1 when nothing is known (out still has pc). */
int lt_frame_symbolize(uintptr_t pc, int exact, lt_frame *out);
/* Symbolizes up to max frames of s into out, each address expanded into the
 * functions inlined there (innermost first, as ASan shows them); returns how
 * many. */
int lt_stack_symbolize(const lt_stack *s, lt_frame *out, int max);
/* Like lt_stack_symbolize, but only the part a report shows when the stack
 * has driver frames: the frame that called into the driver's first one
 * (ExAllocatePool2, a DxgkCb* callback), the driver's frames, and two of the
 * harness frames below them (the DDI call site). */
int lt_stack_symbolize_shown(const lt_stack *s, lt_frame *out, int max);
/* The role's name as reports print it ("allocated", "freed", ...). */
const char *lt_stack_role_name(int role);
/* The heading of a role's stack in a text report ("allocated by thread T0 here"). */
const char *lt_stack_role_title(int role);
/* The frame's function as the signature uses it: the name without any
 * compiler clone suffix (".isra.0", ".constprop.1", ".cold", " [clone
 * .cold]") and, for a demangled C++ name, without its parameter list
 * ("rnd::Adapter::DestroyAllocation"): a changed parameter type (ULONG is
 * unsigned int on Windows, unsigned long here) does not split a bug. */
void lt_frame_stable_name(const lt_frame *f, char *buf, size_t cap);

#endif
