/* lifetrace — the replay fuzz target: one entry for libFuzzer and AFL++.
 *
 * An input is one Trace message (the fuzz form, trace.h). It is replayed in
 * kernel policy against the driver under test, so the simulated dxgkrnl
 * refuses what it would refuse (an invalid event is dropped quietly, never a
 * crash) and every error finding is the driver's. The first error finding
 * prints one line naming its kind and signature and aborts, which both
 * engines save as a crash:
 *
 *   ==lifetrace-fuzz== FINDING miniport-double-free sig=e2360b1b90d6bc60 ...
 *
 * Built three ways from this file (fuzz/CMakeLists.txt): with libFuzzer and
 * the structure-aware mutator (fuzz_replay), with libFuzzer's byte-level
 * mutators only (fuzz_replay_plain, -DLT_FUZZ_PLAIN), and with afl-clang-fast
 * -fsanitize=fuzzer, which links AFL++'s persistent-mode driver instead
 * (fuzz_replay_afl; the mutator then comes from afl_mutator.so).
 *
 * Configuration comes from the environment (the same for both engines):
 *   LT_FUZZ_DRIVER      driver under test (a .so exporting lt_miniport_entry;
 *                       unset or "reference" = the driver linked into this
 *                       target: the reference miniport for fuzz_replay)
 *   LT_FUZZ_BUGS        seeded bugs of the reference driver ("1,3,p13", "all")
 *   LT_FUZZ_GPU=1       GPU-layer error findings abort too (off by default:
 *                       in kernel policy they also follow a UMD's false
 *                       AssumeNotInUse promise, which is the trace's fault)
 *   LT_FUZZ_KNOWN=FILE  known-crash mode for long campaigns (fuzz.sh sets it):
 *                       a crash is keyed by (signature, seeded bug that
 *                       causes it alone — found by replaying the input with
 *                       each bug of LT_FUZZ_BUGS on its own); an input whose
 *                       keys are all in FILE is not a crash, so the engines
 *                       keep exploring instead of finding the same bug again;
 *                       a new crash appends its keys to FILE first (every
 *                       worker re-reads it when it changes)
 *   LT_FUZZ_SIGDIR=DIR  count every crash by signature: one byte is appended
 *                       to DIR/<signature> per crashing input (fuzz.sh sets
 *                       it to OUT/sigs; triage records the counts), and only
 *                       the first LT_FUZZ_KEEP of a signature abort; later
 *                       ones return normally, so the engine does not save
 *                       thousands of files of one bug. With LT_FUZZ_KNOWN a
 *                       crash with a new key aborts too
 *   LT_FUZZ_KEEP=N      crash files kept per signature (default 3)
 *   LT_FUZZ_MAX_EVENTS  longer inputs are skipped (default 1024)
 *   LT_FUZZ_SPECIAL_POOL=1  replay with the special pool: a driver touching
 *                       freed pool memory faults (miniport-use-after-free),
 *                       with or without ASan; slower
 *   LT_FUZZ_ASAN_POISON=0|1  in an ASan build, poison quarantined pool
 *                       blocks for ASan, so a read after free is an ASan
 *                       report (a crash the engine saves; triage replays it
 *                       in the special pool). Default: on, except in
 *                       known-crash mode and with LT_FUZZ_SIGDIR (a
 *                       campaign), where a report (which ends the process)
 *                       would bypass the known-crash filter and the bound
 *   LT_FUZZ_QUIET=1     no start-up banner
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lifetrace/mutator.h"
#include "lifetrace/replay_file.h"

#define MAX_CAND 32
#define MAX_KNOWN 4096

static const LT_MINIPORT *driver;
static void *driver_dl;
static const char *bug_list;
static char cand[MAX_CAND][LT_BUG_NAME_MAX];
static int ncand;
static int gpu_aborts;
static size_t max_events = 1024;
static int special_pool, asan_poison;
static struct sigaction abort_action; /* SIGABRT as the engine installed it */
static const char *sig_dir;           /* LT_FUZZ_SIGDIR */
static long keep_per_sig = 3;         /* LT_FUZZ_KEEP */
static int abort_saved;

/* Known-crash mode. */
static const char *known_path;
static struct key {
  uint64_t sig;
  int bug; /* candidate index, -1 = the whole bug set */
} known[MAX_KNOWN];
static size_t nknown;
static struct timespec known_mtime;
static off_t known_size;

static void fail(const char *what, const char *why) {
  fprintf(stderr, "==lifetrace-fuzz== cannot start: %s: %s\n", what, why ? why : "");
  exit(2);
}

/* The single bugs of LT_FUZZ_BUGS: its tokens, "all" expanded. */
static void find_candidates(void) {
  char err[256];
  ncand = (int)lt_miniport_bug_candidates(driver, bug_list, cand, MAX_CAND);
  if (lt_miniport_set_bugs(driver, bug_list, err, sizeof err))
    fail("LT_FUZZ_BUGS", err);
}

static void setup(void) {
  static int done;
  char err[600];
  if (done)
    return;
  done = 1;
  const char *path = getenv("LT_FUZZ_DRIVER");
  bug_list = getenv("LT_FUZZ_BUGS");
  if (path && (!*path || !strcmp(path, "reference")))
    path = NULL;
  if (lt_miniport_load(path, &driver, &driver_dl, err, sizeof err))
    fail(path, err);
  if (bug_list && *bug_list) {
    if (driver->LtSetOption == NULL)
      fail("LT_FUZZ_BUGS", "the driver has no options (no seeded bugs)");
    find_candidates();
  }
  gpu_aborts = getenv("LT_FUZZ_GPU") && atoi(getenv("LT_FUZZ_GPU")) > 0;
  if (getenv("LT_FUZZ_MAX_EVENTS"))
    max_events = strtoul(getenv("LT_FUZZ_MAX_EVENTS"), NULL, 10);
  known_path = getenv("LT_FUZZ_KNOWN");
  if (known_path && !*known_path)
    known_path = NULL;
  sig_dir = getenv("LT_FUZZ_SIGDIR");
  if (sig_dir && !*sig_dir)
    sig_dir = NULL;
  special_pool = getenv("LT_FUZZ_SPECIAL_POOL") && atoi(getenv("LT_FUZZ_SPECIAL_POOL")) > 0;
  /* An ASan report ends the process: it would bypass the known-crash filter
   * and the per-signature bound, so campaigns (which set either) catch reads
   * after free with the special pool instead (fuzz.sh --special-pool). */
  asan_poison = getenv("LT_FUZZ_ASAN_POISON") ? atoi(getenv("LT_FUZZ_ASAN_POISON")) > 0
                                              : known_path == NULL && sig_dir == NULL;
  if (getenv("LT_FUZZ_KEEP"))
    keep_per_sig = strtol(getenv("LT_FUZZ_KEEP"), NULL, 10);
  if (!getenv("LT_FUZZ_QUIET"))
    fprintf(stderr, "==lifetrace-fuzz== driver %s %s, seeded bugs: %s, policy kernel%s%s\n",
            driver->Name ? driver->Name : "?", driver->Version ? driver->Version : "",
            bug_list && *bug_list ? bug_list : "none", known_path ? ", known-crash mode" : "",
            special_pool ? ", special pool" : "");
}

/* libFuzzer entry: loads the driver (LT_FUZZ_DRIVER, else the linked one)
 * and its seeded bugs (LT_FUZZ_BUGS) once, before the first input; a bad
 * setting ends the process with a message. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  setup();
  return 0;
}

/* ---- one replay -------------------------------------------------------------------- */

struct run {
  int immediate; /* abort at the first crash finding */
  int crashed;
  lt_finding first;
};

static void die(const lt_finding *f, const char *keys) {
  char sig[17];
  lt_signature_hex(f->signature, sig);
  fprintf(stderr, "==lifetrace-fuzz== FINDING %s sig=%s in %s%s%s at event %llu%s%s: %s\n",
          lt_finding_kind_name(f->kind), sig, f->ddi, f->site[0] ? " " : "", f->site,
          (unsigned long long)f->event, keys ? ", new " : "", keys ? keys : "", f->message);
  fflush(stderr);
  /* Through the engine's own handler: the replay engine's guard would take
   * an abort inside a DDI for a driver crash. */
  if (abort_saved)
    sigaction(SIGABRT, &abort_action, NULL);
  abort();
}

/* Error findings of the driver (and, with LT_FUZZ_GPU, of the GPU) are
 * crashes. */
static void on_finding(void *data, const lt_finding *f) {
  struct run *run = data;
  if (!lt_finding_is_crash(f, LT_POLICY_KERNEL, gpu_aborts) || run->crashed)
    return;
  run->crashed = 1;
  run->first = *f;
  if (run->immediate)
    die(f, NULL);
}

/* One engine for the whole process, reset per input: making and freeing it
 * was a tenth of an execution. Emptied after each input, so an input's
 * mallocs and frees balance (libFuzzer's leak check). */
static lt_replay *engine;

static void replay(const lt_trace *t, struct run *run) {
  lt_header none = LIFETRACE__TRACE_HEADER__INIT;
  const lt_header *h = t->header ? t->header : &none;
  lt_replay_opts o = {LT_POLICY_KERNEL, driver, 64, on_finding, run, special_pool, asan_poison};
  int err = engine ? lt_replay_reset(engine, h, &o) : lt_replay_new(&engine, h, &o);
  for (size_t i = 0; err == 0 && i < t->n_events; i++)
    err = lt_replay_event(engine, t->events[i]);
  if (err == 0)
    err = lt_replay_finish(engine);
  if (err) { /* an engine that failed can only be freed */
    lt_replay_free(engine);
    engine = NULL;
    return;
  }
  lt_replay_clear(engine);
}

/* ---- known-crash mode ----------------------------------------------------------------- */

static int is_known(uint64_t sig, int bug) {
  for (size_t i = 0; i < nknown; i++)
    if (known[i].sig == sig && known[i].bug == bug)
      return 1;
  return 0;
}

/* Re-reads the known-crash file when it changed ("SIG BUG" lines, BUG a
 * token of LT_FUZZ_BUGS or "-"). */
static void load_known(void) {
  struct stat st;
  char line[128], hex[32], bug[64];
  if (stat(known_path, &st) != 0 || (st.st_size == known_size &&
                                     st.st_mtim.tv_sec == known_mtime.tv_sec &&
                                     st.st_mtim.tv_nsec == known_mtime.tv_nsec))
    return;
  FILE *f = fopen(known_path, "r");
  if (f == NULL)
    return;
  known_mtime = st.st_mtim;
  known_size = st.st_size;
  nknown = 0;
  while (nknown < MAX_KNOWN && fgets(line, sizeof line, f))
    if (sscanf(line, "%31s %63s", hex, bug) == 2) {
      int b = -1;
      for (int j = 0; j < ncand; j++)
        if (!strcmp(cand[j], bug))
          b = j;
      known[nknown++] = (struct key){strtoull(hex, NULL, 16), b};
    }
  fclose(f);
}

static void append_known(const struct key *k, int n, char *desc, size_t len) {
  char buf[4096];
  size_t off = 0;
  desc[0] = 0;
  for (int i = 0; i < n && off < sizeof buf - 64; i++) {
    char hex[17];
    lt_signature_hex(k[i].sig, hex);
    const char *bug = k[i].bug >= 0 ? cand[k[i].bug] : "-";
    off += (size_t)snprintf(buf + off, sizeof buf - off, "%s %s\n", hex, bug);
    size_t dl = strlen(desc);
    snprintf(desc + dl, len - dl, "%sbug %s: %s", dl ? ", " : "", bug, hex);
  }
  int fd = open(known_path, O_WRONLY | O_APPEND | O_CREAT, 0666);
  if (fd >= 0) {
    (void)!write(fd, buf, off); /* one write: lines of workers do not interleave */
    close(fd);
  }
}

/* The crash's keys: (signature, bug) for every candidate bug that crashes
 * the input on its own, else (signature of the whole set, -1). */
static int crash_keys(const lt_trace *t, const lt_finding *first, struct key *keys) {
  char err[256];
  int n = 0;
  for (int j = 0; j < ncand && ncand > 1; j++) {
    struct run one = {0, 0, {0}};
    (void)lt_miniport_set_bugs(driver, cand[j], err, sizeof err);
    replay(t, &one);
    if (one.crashed)
      keys[n++] = (struct key){one.first.signature, j};
  }
  if (ncand > 1)
    (void)lt_miniport_set_bugs(driver, bug_list, err, sizeof err);
  if (ncand == 1)
    keys[n++] = (struct key){first->signature, 0};
  if (n == 0)
    keys[n++] = (struct key){first->signature, -1};
  return n;
}

static void judge_known(const lt_trace *t, const lt_finding *first, int keep) {
  struct key keys[MAX_CAND + 1], fresh[MAX_CAND + 1];
  int n = crash_keys(t, first, keys), nfresh = 0;
  char desc[1024];
  load_known();
  for (int i = 0; i < n; i++)
    if (!is_known(keys[i].sig, keys[i].bug))
      fresh[nfresh++] = keys[i];
  if (nfresh == 0) {
    if (keep)
      die(first, NULL); /* one of the few examples of its signature */
    return;             /* only crashes the campaign already has: keep exploring */
  }
  append_known(fresh, nfresh, desc, sizeof desc);
  die(first, desc);
}

/* ---- crash counts by signature --------------------------------------------------------- */

/* Counts one crash of signature sig: appends one byte to SIGDIR/<sig>.
 * O_APPEND makes the append atomic among all workers (both engines, any
 * number of processes), and the file offset after it is this crash's
 * ordinal. Returns the ordinal, or 0 when the crash cannot be counted. */
static long count_crash(uint64_t sig) {
  char path[4096], hex[17];
  lt_signature_hex(sig, hex);
  snprintf(path, sizeof path, "%s/%s", sig_dir, hex);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    return 0;
  off_t nth = write(fd, "x", 1) == 1 ? lseek(fd, 0, SEEK_CUR) : 0;
  close(fd);
  return nth > 0 ? (long)nth : 0;
}

/* Whether a crash of this signature is kept (the engine saves a file). The
 * same input again right after one that was not kept is neither counted nor
 * kept: libFuzzer runs an input a second time to look for leaks when its
 * mallocs and frees do not match. */
static int keep_crash(uint64_t sig, const uint8_t *data, size_t size) {
  static uint64_t last; /* FNV-1a of the last crashing input not kept */
  uint64_t h = 0xcbf29ce484222325ull;
  if (sig_dir == NULL)
    return 1;
  for (size_t i = 0; i < size; i++)
    h = (h ^ data[i]) * 0x100000001b3ull;
  if (h == last)
    return 0;
  long nth = count_crash(sig);
  int keep = nth == 0 || nth <= keep_per_sig;
  last = keep ? 0 : h;
  return keep;
}

/* ---- the entry ------------------------------------------------------------------------ */

/* Replays one fuzz-form trace in kernel policy against the driver; an
 * undecodable or over-long input is skipped. The first error finding prints
 * its kind and signature and aborts, which both engines save as a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  lt_trace *t = lt_trace_unpack(data, size);
  if (t == NULL)
    return 0;
  if (t->n_events > max_events) {
    lt_trace_free(t);
    return 0;
  }
  if (!abort_saved) {
    /* Before the first replay installs the engine's crash handlers. */
    sigaction(SIGABRT, NULL, &abort_action);
    abort_saved = 1;
  }
  struct run run = {known_path == NULL && sig_dir == NULL, 0, {0}};
  replay(t, &run);
  if (run.crashed) {
    int keep = keep_crash(run.first.signature, data, size);
    if (known_path)
      judge_known(t, &run.first, keep);
    else if (keep)
      die(&run.first, NULL);
  }
  lt_trace_free(t);
  return 0;
}

#ifndef LT_FUZZ_PLAIN
/* The structure-aware mutator (libFuzzer). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static lt_mutator *mutator(void) {
  static lt_mutator *m;
  if (m == NULL) {
    if (lt_mutator_new(&m))
      fail("mutator", "out of memory");
    lt_mutator_set_byte_mutator(m, LLVMFuzzerMutate);
    setup(); /* the driver's UMD contract keeps the outputs inside it */
    lt_mutator_set_umd_contract(m, driver->UmdContract);
  }
  return m;
}

/* libFuzzer entry: the structure-aware mutator, in place in data. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  return lt_mutator_mutate(mutator(), data, size, data, max_size, seed);
}

/* libFuzzer entry: the structure-aware crossover of two inputs into out. */
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed) {
  return lt_mutator_crossover(mutator(), data1, size1, data2, size2, out, max_out_size, seed);
}
#endif
