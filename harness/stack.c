/* Call stacks (see lifetrace/stack.h): raw capture with libunwind (it reads
 * .eh_frame, so a driver without frame pointers unwinds; from a signal
 * context it starts at the faulting instruction), lazy symbols with
 * elfutils' libdw. libdw rather than libbacktrace or libunwind:
 * it is Debian's maintained DWARF reader, it maps any address of the process
 * to its module by itself (/proc/self/maps: a driver loaded with --driver is
 * found without help, a driver linked into the binary too), and it reads the
 * line tables of any DWARF version the compilers here emit. Capture stays
 * with the C runtime's unwinder: it needs no extra library in the hot path.
 *
 * C++ names: a C++ driver's symbols and the DW_AT_linkage_name of its
 * inlined functions are Itanium-mangled (_ZN3rnd7Adapter...). Every writer
 * shows them demangled, as ASan does, with libstdc++'s __cxa_demangle (the
 * C ABI entry of abi::__cxa_demangle, declared below). Not libdw: elfutils
 * 0.188 exports no demangler (its eu-addr2line -C links this same
 * __cxa_demangle), and libstdc++ comes with every g++, is the demangler the
 * GNU toolchain itself uses (c++filt's, gdb's cp-demangle code) and follows
 * the ABI as g++ and clang++ evolve it. Only names that start with _Z are
 * demangled: a C name like "f" or "i" would otherwise read as a type ("float",
 * "int"). A frame is classified on its raw name, then its name demangled.
 *
 * The symbol cache uses the C heap, not lt_malloc: it lives as long as the
 * process, and tests count lt_malloc blocks. */
#define _GNU_SOURCE
#include "lifetrace/stack.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define FAULT_RAW 48

/* libstdc++ (libsupc++): abi::__cxa_demangle's C name. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static int enabled = -1;
static _Thread_local uintptr_t fault_pc[FAULT_RAW];
static _Thread_local int fault_n;
static _Thread_local int fault_exact_at = -1;

/* The walk from a signal context: libunwind from the interrupted frame
 * (its ucontext is libunwind's context on Linux), pc[0] exact. */
static int backtrace_signal(uintptr_t *pc, int max, const void *uc) {
  unw_cursor_t c;
  int n = 0;
  if (uc == NULL || unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
    return 0;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
      break;
    pc[n++] = (uintptr_t)ip;
  } while (n < max && unw_step(&c) > 0);
  return n;
}

/* Whether capture is on: LIFETRACE_STACKS=0 in the environment turns it off
 * (the benchmark's baseline); see lifetrace/stack.h. */
int lt_stack_enabled(void) {
  if (enabled < 0) {
    const char *e = getenv("LIFETRACE_STACKS");
    enabled = !(e && *e == '0');
  }
  return enabled;
}

/* Turns capture on or off for the process; see lifetrace/stack.h. */
void lt_stack_set_enabled(int on) { enabled = on != 0; }

/* Loads libgcc's unwinder now (its first use dlopens it, which a signal
 * handler must not do); see lifetrace/stack.h. */
void lt_stack_prepare(void) {
  static int done;
  if (done)
    return;
  done = 1;
  void *pc[2];
  (void)unw_backtrace(pc, 2);
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

/* Captures up to LT_STACK_MAX return addresses of the caller's stack,
 * skipping this function and `skip` more; an empty stack when capture is
 * off. See lifetrace/stack.h. */
void lt_stack_capture(lt_stack *s, int skip) {
  s->n = 0;
  s->exact0 = 0;
  if (!lt_stack_enabled())
    return;
  void *raw[LT_STACK_MAX + 8];
  int drop = 1 + (skip > 0 ? skip : 0); /* frame 0 is this function */
  int want = LT_STACK_MAX + drop;
  if (want > (int)(sizeof raw / sizeof raw[0]))
    want = (int)(sizeof raw / sizeof raw[0]);
  int n = unw_backtrace(raw, want);
  for (int i = drop; i < n && s->n < LT_STACK_MAX; i++)
    s->pc[s->n++] = (uintptr_t)raw[i];
}

static uintptr_t context_pc(const void *uc) {
#if defined(__x86_64__)
  return uc ? (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP] : 0;
#elif defined(__aarch64__)
  return uc ? (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.pc : 0;
#else
  (void)uc;
  return 0;
#endif
}

/* Captures the interrupted stack into this thread's fault slot: the frames
 * from the faulting instruction (found in the unwound stack by the context's
 * program counter) outward; the handler's own frames are dropped. See
 * lifetrace/stack.h. */
void lt_stack_on_signal(const void *uc) {
  fault_n = 0;
  fault_exact_at = -1;
  if (!lt_stack_enabled())
    return;
  fault_n = backtrace_signal(fault_pc, FAULT_RAW, uc);
  if (fault_n == 0 && context_pc(uc)) /* no unwind info: the faulting pc alone */
    fault_pc[fault_n++] = context_pc(uc);
  fault_exact_at = fault_n ? 0 : -1;
}

/* Moves the pending fault stack into s, first dropping the system frames on
 * top of it (libc's raise/abort, a sanitizer's report machinery) so that the
 * bounded stack keeps the frames that matter. See lifetrace/stack.h. */
int lt_stack_take_fault(lt_stack *s) {
  s->n = 0;
  s->exact0 = 0;
  if (fault_n == 0)
    return 0;
  int from = 0;
  lt_frame f;
  while (from < fault_n - 1) {
    lt_frame_symbolize(fault_pc[from], from == fault_exact_at, &f);
    if (f.where != LT_FRAME_SYSTEM)
      break;
    from++;
  }
  s->exact0 = from == fault_exact_at;
  for (int i = from; i < fault_n && s->n < LT_STACK_MAX; i++)
    s->pc[s->n++] = fault_pc[i];
  fault_n = 0;
  return 1;
}

/* ---- symbols ---------------------------------------------------------------------- */

#define INLINE_MAX 4 /* logical frames kept per address (inlined calls) */

struct sym {
  uintptr_t key; /* pc, low bit set for an exact pc */
  int n;         /* logical frames: the innermost inlined function first */
  lt_frame f[INLINE_MAX];
  struct sym *next;
};

#define SYM_BUCKETS 4096
#define SYM_BUCKET(key) ((size_t)(((key) * 0x9E3779B97F4A7C15ULL) >> 52) % SYM_BUCKETS)
static struct sym *syms[SYM_BUCKETS];
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *dwfl;
static char *lt_root;       /* lifetrace's source root, "" when unknown */
static const char *lt_module; /* the module that holds lifetrace's harness */

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

/* (Re)reads the process's modules: a driver dlopen'd after the last report
 * is found on the next miss. */
static int report_modules(void) {
  if (dwfl == NULL && (dwfl = dwfl_begin(&callbacks)) == NULL)
    return -1;
  dwfl_report_begin(dwfl);
  int rc = dwfl_linux_proc_report(dwfl, getpid());
  dwfl_report_end(dwfl, NULL, NULL);
  return rc == 0 ? 0 : -1;
}

static const char *keep(const char *s) {
  if (s == NULL || *s == 0)
    return "";
  char *d = strdup(s);
  return d ? d : "";
}

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* Whether a frame is the system's: a shared library from the system's
 * directories, or a sanitizer / fuzzer runtime linked into the binary. */
static int is_system(const char *module_path, const char *fn) {
  static const char *rt[] = {"__asan", "__interceptor", "__sanitizer", "__ubsan", "__lsan",
                             "_ZN6__asan", "_ZN11__sanitizer", "_ZN7__ubsan", "_ZN6fuzzer",
                             "__libc_", "_start", "raise", "abort", "__GI_", "__pthread_kill"};
  for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++)
    if (has_prefix(fn, rt[i]))
      return 1;
  return module_path && (has_prefix(module_path, "/lib") || has_prefix(module_path, "/usr/lib")) &&
         !(lt_module && strcmp(module_path, lt_module) == 0);
}

/* Whether a source file is lifetrace's own (not a driver's, an example's or a
 * test driver's): under its root, in a folder of the tool itself. */
static int is_lifetrace_file(const char *file) {
  static const char *dirs[] = {"harness/", "replay/", "base/", "reports/", "cli/",
                               "fuzz/", "bench/", "include/"};
  if (lt_root == NULL || *lt_root == 0 || !has_prefix(file, lt_root))
    return 0;
  const char *rest = file + strlen(lt_root);
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (has_prefix(rest, dirs[i]))
      return 1;
  return 0;
}

static int classify(const char *module_path, const lt_frame *f) {
  if (is_system(module_path, f->function))
    return LT_FRAME_SYSTEM;
  if (*f->file)
    return is_lifetrace_file(f->file) ? LT_FRAME_LIFETRACE : LT_FRAME_DRIVER;
  /* No line information: lifetrace's naming, or a module of its own. */
  if (has_prefix(f->function, "lt_") || has_prefix(f->function, "Lt") ||
      has_prefix(f->function, "main") || *f->function == 0)
    return LT_FRAME_LIFETRACE;
  return LT_FRAME_DRIVER;
}

/* Looks pc up in libdw (no lock, no cache): module, function, file, line. */
static int lookup(uintptr_t pc, int exact, lt_frame *f, const char **module_path) {
  uintptr_t at = exact ? pc : pc - 1; /* a return address: the call is before it */
  Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, at) : NULL;
  if (m == NULL && report_modules() == 0)
    m = dwfl_addrmodule(dwfl, at);
  if (m == NULL)
    return -1;
  Dwarf_Addr start = 0;
  const char *name = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, module_path, NULL);
  if (*module_path == NULL)
    *module_path = name;
  const char *base = name ? strrchr(name, '/') : NULL;
  f->module = keep(base ? base + 1 : name);
  f->offset = pc - (uintptr_t)start;
  f->function = keep(dwfl_module_addrname(m, at));
  Dwfl_Line *line = dwfl_module_getsrc(m, at);
  int ln = 0;
  const char *file = line ? dwfl_lineinfo(line, NULL, &ln, NULL, NULL, NULL) : NULL;
  f->file = keep(file);
  f->line = file ? ln : 0;
  return 0;
}

/* The name of a subprogram or inlined subroutine DIE (through its abstract
 * origin), or NULL. */
static const char *die_name(Dwarf_Die *d) {
  Dwarf_Attribute a;
  const char *name = NULL;
  if (dwarf_attr_integrate(d, DW_AT_linkage_name, &a))
    name = dwarf_formstring(&a);
  if (name == NULL && dwarf_attr_integrate(d, DW_AT_name, &a))
    name = dwarf_formstring(&a);
  return name;
}

/* Expands the functions inlined at `at` into logical frames, as ASan's
 * symbolizer does: f[0] the innermost inlined function at the line of f's
 * line table entry, each next one its caller at the inlined call's line, so
 * an optimized build names the same functions as an unoptimized one.
 * Returns the number of frames (1 when nothing is inlined or no DWARF). */
static int expand_inlines(Dwfl_Module *m, uintptr_t at, lt_frame *f, int max) {
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(m, at, &bias), *scopes = NULL;
  int ns = cu ? dwarf_getscopes(cu, at - bias, &scopes) : 0, n = 1;
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  if (ns > 0 && dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
    files = NULL;
  const char *sym = f[0].function; /* the symbol: the outermost function here */
  for (int i = 0; i < ns && n < max; i++) {
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
      continue;
    const char *inner = die_name(&scopes[i]);
    if (inner && n == 1)
      f[0].function = keep(inner); /* sym stays owned by the caller's frame */
    /* Its caller: the next enclosing function scope, at the call's line. */
    const char *outer = NULL;
    for (int j = i + 1; j < ns && outer == NULL; j++)
      if (dwarf_tag(&scopes[j]) == DW_TAG_inlined_subroutine ||
          dwarf_tag(&scopes[j]) == DW_TAG_subprogram)
        outer = die_name(&scopes[j]);
    Dwarf_Attribute a;
    Dwarf_Word cf = 0, cl = 0;
    if (dwarf_attr(&scopes[i], DW_AT_call_file, &a))
      dwarf_formudata(&a, &cf);
    if (dwarf_attr(&scopes[i], DW_AT_call_line, &a))
      dwarf_formudata(&a, &cl);
    const char *file = files && cf < nfiles ? dwarf_filesrc(files, cf, NULL, NULL) : NULL;
    f[n] = f[0];
    f[n].function = keep(outer ? outer : sym);
    f[n].file = keep(file);
    f[n].line = (int)cl;
    n++;
  }
  free(scopes);
  int used = 0;
  for (int i = 0; i < n; i++)
    used |= f[i].function == sym;
  if (!used && *sym)
    free((char *)sym);
  return n;
}

/* Learns lifetrace's own module and source root from this function's
 * address (…/harness/stack.c), so frames can be classified. */
static void learn_root(void) {
  if (lt_root)
    return;
  lt_root = "";
  lt_frame f;
  memset(&f, 0, sizeof f);
  const char *mod = NULL;
  if (lookup((uintptr_t)&learn_root, 1, &f, &mod) != 0)
    return;
  lt_module = mod ? keep(mod) : NULL;
  const char *tail = strstr(f.file, "harness/stack.c");
  if (tail) {
    char *root = strndup(f.file, (size_t)(tail - f.file));
    lt_root = root ? root : "";
  }
  const char *owned[] = {f.function, f.file, f.module};
  for (size_t i = 0; i < 3; i++)
    if (*owned[i])
      free((char *)owned[i]);
}

/* Replaces a mangled C++ function name (owned by the cache) by its
 * demangled form; any other name stays as it is. */
static const char *demangled(const char *fn) {
  int status = -1;
  char *d = has_prefix(fn, "_Z") ? __cxa_demangle(fn, NULL, NULL, &status) : NULL;
  if (d == NULL || status != 0) {
    free(d);
    return fn;
  }
  free((char *)fn);
  return d;
}

/* Fills a new cache entry: lookup, inline expansion, classification, C++
 * names demangled. */
static void fill(struct sym *s, uintptr_t key, uintptr_t pc, int exact) {
  const char *mod = NULL;
  s->key = key;
  s->n = 1;
  s->f[0].pc = pc;
  s->f[0].function = s->f[0].file = s->f[0].module = "";
  if (lookup(pc, exact, &s->f[0], &mod) != 0) {
    s->f[0].where = LT_FRAME_SYSTEM;
  } else {
    Dwfl_Module *m = dwfl_addrmodule(dwfl, exact ? pc : pc - 1);
    if (m)
      s->n = expand_inlines(m, exact ? pc : pc - 1, s->f, INLINE_MAX);
    for (int i = 0; i < s->n; i++) {
      s->f[i].where = classify(mod, &s->f[i]);
      s->f[i].function = demangled(s->f[i].function);
    }
  }
  s->next = syms[SYM_BUCKET(key)];
  syms[SYM_BUCKET(key)] = s;
}

/* The cache entry of one address (exact: the pc itself, not a return
 * address), symbolized with libdw on a miss; NULL without memory. Called
 * with sym_lock held. */
static struct sym *sym_get(uintptr_t pc, int exact) {
  uintptr_t key = pc | (exact ? 1 : 0);
  learn_root();
  struct sym *s = syms[SYM_BUCKET(key)];
  while (s && s->key != key)
    s = s->next;
  if (s == NULL && (s = calloc(1, sizeof *s)) != NULL)
    fill(s, key, pc, exact);
  return s;
}

/* All logical frames of one address (inlined calls expanded), through the
 * cache; returns how many were written (at least 1). */
static int symbolize_all(uintptr_t pc, int exact, lt_frame *out, int max) {
  int n = 0;
  pthread_mutex_lock(&sym_lock);
  struct sym *s = sym_get(pc, exact);
  for (int i = 0; s && i < s->n && n < max; i++)
    out[n++] = s->f[i];
  pthread_mutex_unlock(&sym_lock);
  if (n == 0 && max > 0) {
    memset(out, 0, sizeof *out);
    out->pc = pc;
    out->function = out->file = out->module = "";
    out->where = LT_FRAME_SYSTEM;
    n = 1;
  }
  return n;
}

/* Symbolizes one address through the cache (libdw on a miss); see
 * lifetrace/stack.h. */
int lt_frame_symbolize(uintptr_t pc, int exact, lt_frame *out) {
  int rc = 0;
  pthread_mutex_lock(&sym_lock);
  struct sym *s = sym_get(pc, exact);
  if (s) {
    *out = s->f[0];
    rc = *s->f[0].function || *s->f[0].file ? 0 : -1;
  } else {
    memset(out, 0, sizeof *out);
    out->pc = pc;
    out->function = out->file = out->module = "";
    out->where = LT_FRAME_SYSTEM;
    rc = -1;
  }
  pthread_mutex_unlock(&sym_lock);
  return rc;
}

/* Symbolizes the frames of s (the first exact when s says so); see
 * lifetrace/stack.h. */
int lt_stack_symbolize(const lt_stack *s, lt_frame *out, int max) {
  int n = 0;
  for (int i = 0; i < s->n && n < max; i++)
    n += symbolize_all(s->pc[i], i == 0 && s->exact0, out + n, max - n);
  return n;
}

/* Symbolizes the part of s a report shows; see lifetrace/stack.h. */
int lt_stack_symbolize_shown(const lt_stack *s, lt_frame *out, int max) {
  int n = lt_stack_symbolize(s, out, max), first = -1, last = -1;
  for (int i = 0; i < n; i++)
    if (out[i].where == LT_FRAME_DRIVER) {
      if (first < 0)
        first = i;
      last = i;
    }
  if (first < 0)
    return n;
  int from = first > 0 ? first - 1 : 0;
  int to = last + 2 < n ? last + 2 : n - 1;
  for (int i = from; i <= to; i++)
    out[i - from] = out[i];
  return to - from + 1;
}

/* The role names of lifetrace/stack.h, as JSON and SARIF carry them. */
const char *lt_stack_role_name(int role) {
  static const char *names[] = {"allocated", "freed", "freed-again", "access",
                                "fault", "found", "ddi", "at", "stored"};
  return role >= 0 && role < LT_STACK__COUNT ? names[role] : "?";
}

/* The heading a text report puts above a stack, ASan's wording where it has
 * one; see lifetrace/stack.h. */
const char *lt_stack_role_title(int role) {
  static const char *titles[] = {"allocated here",
                                 "freed here",
                                 "freed again here",
                                 "accessed after free here",
                                 "faulting stack",
                                 "reference reported from here",
                                 "in this DDI of the driver",
                                 "driver call that led here",
                                 "given to the driver by this DDI (where it can have kept it)"};
  return role >= 0 && role < LT_STACK__COUNT ? titles[role] : "?";
}

/* The length of a demangled C++ name without its parameter list: the last
 * balanced "(...)" when only cv- and ref-qualifiers follow it, so that
 * "(anonymous namespace)::Enum(void*, void (*)(void*)) const" keeps
 * "(anonymous namespace)::Enum" and "operator()(int)" keeps "operator()". */
static size_t without_params(const char *fn, size_t n) {
  size_t e = n;
  while (e > 0 && fn[e - 1] != ')' && strchr("abcdefghijklmnopqrstuvwxyz &", fn[e - 1]))
    e--;
  if (e == 0 || fn[e - 1] != ')')
    return n;
  int depth = 0;
  for (size_t i = e; i > 0; i--) {
    depth += fn[i - 1] == ')' ? 1 : fn[i - 1] == '(' ? -1 : 0;
    if (depth == 0)
      return i - 1 > 0 ? i - 1 : n;
  }
  return n;
}

/* Copies the function name without a compiler clone suffix, so a rebuild
 * that clones differently signs alike, and a C++ name without its parameter
 * list; a C name (no '(', ':', '<' or ' ') only loses the suffix, as before
 * C++ names were demangled. See lifetrace/stack.h. */
void lt_frame_stable_name(const lt_frame *f, char *buf, size_t cap) {
  const char *fn = f->function && *f->function ? f->function : "?";
  size_t n = strlen(fn);
  if (strcspn(fn, "(:< ") == n) {
    n = strcspn(fn, ".");
  } else {
    const char *clone = strstr(fn, " [clone ");
    if (clone)
      n = (size_t)(clone - fn);
    n = without_params(fn, n);
  }
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, fn, n);
  buf[n] = 0;
}
