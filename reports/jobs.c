/* Worker processes for replay -j and check -j (see lifetrace/jobs.h). Each
 * worker writes an item's stdout, stderr and result to files of a private
 * directory; the parent, once every worker has exited, copies them out item
 * by item, so the output is byte for byte what one process prints. */
#include "lifetrace/jobs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define RC_NONE INT32_MIN /* the item's worker died before finishing it */

static void item_path(char *buf, size_t len, const char *dir, size_t i, const char *what) {
  snprintf(buf, len, "%s/%zu.%s", dir, i, what);
}

/* In a worker: item i with stdout and stderr sent to the item's files. */
static int work_item(const char *dir, size_t i, lt_job_work work, void *ctx, int *rc) {
  char out[512], err[512], res[512];
  item_path(out, sizeof out, dir, i, "out");
  item_path(err, sizeof err, dir, i, "err");
  item_path(res, sizeof res, dir, i, "res");
  fflush(NULL);
  if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
    return LT_EIO;
  FILE *r = fopen(res, "w+");
  if (r == NULL)
    return LT_EIO;
  *rc = work(ctx, i, r);
  int bad = fclose(r) != 0;
  fflush(NULL);
  return bad ? LT_EIO : 0;
}

static void copy_out(const char *path, FILE *to) {
  char buf[8192];
  size_t n;
  FILE *f = fopen(path, "r");
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
    fwrite(buf, 1, n, to);
  if (f)
    fclose(f);
  unlink(path);
}

/* In the parent: item i's output, then done. */
static int finish_item(const char *dir, size_t i, int rc, lt_job_done done, void *ctx) {
  char path[512];
  item_path(path, sizeof path, dir, i, "out");
  copy_out(path, stdout);
  item_path(path, sizeof path, dir, i, "err");
  fflush(stdout);
  copy_out(path, stderr);
  item_path(path, sizeof path, dir, i, "res");
  FILE *r = rc == RC_NONE ? NULL : fopen(path, "r");
  int err = done(ctx, i, r ? rc : LT_EIO, r);
  if (r)
    fclose(r);
  unlink(path);
  return err;
}

static pid_t start_worker(unsigned w, unsigned jobs, size_t n, const char *dir, int *rcs,
                          lt_job_work work, void *ctx) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  for (size_t i = w; i < n; i += jobs) {
    int rc = 0;
    if (work_item(dir, i, work, ctx, &rc))
      _exit(3);
    rcs[i] = rc;
  }
  fflush(NULL);
  _exit(0);
}

/* Forks the workers, waits for all of them, then hands every item to done
 * in order; see lifetrace/jobs.h. */
int lt_jobs_run(size_t n, unsigned jobs, lt_job_work work, lt_job_done done, void *ctx) {
  char dir[] = "/tmp/lifetrace-jobs-XXXXXX";
  int *rcs = NULL, err = LT_EIO;
  if (n == 0)
    return 0;
  if (jobs > n)
    jobs = (unsigned)n;
  if (mkdtemp(dir) == NULL)
    return LT_EIO;
  rcs = mmap(NULL, n * sizeof *rcs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (rcs == MAP_FAILED) {
    rmdir(dir);
    return LT_EIO;
  }
  for (size_t i = 0; i < n; i++)
    rcs[i] = RC_NONE;
  unsigned started = 0;
  for (; started < (jobs ? jobs : 1); started++)
    if (start_worker(started, jobs ? jobs : 1, n, dir, rcs, work, ctx) < 0)
      break;
  while (wait(NULL) > 0)
    ;
  err = 0;
  for (size_t i = 0; i < n && err == 0; i++)
    err = finish_item(dir, i, rcs[i], done, ctx);
  for (size_t i = 0; i < n; i++) { /* what an early stop left */
    char path[512];
    const char *what[] = {"out", "err", "res"};
    for (int k = 0; k < 3; k++) {
      item_path(path, sizeof path, dir, i, what[k]);
      unlink(path);
    }
  }
  munmap(rcs, n * sizeof *rcs);
  rmdir(dir);
  return err;
}

/* Writes the findings as raw records: the counts, the kept findings, the
 * tallies of those not kept. Both ends are the same binary. See
 * lifetrace/jobs.h. */
int lt_findings_write(FILE *f, const lt_findings *fs) {
  uint64_t head[5] = {fs->n, fs->total, fs->errors, fs->warnings, fs->n_over};
  if (fwrite(head, sizeof head, 1, f) != 1 ||
      (fs->n && fwrite(fs->items, sizeof *fs->items, fs->n, f) != fs->n) ||
      (fs->n_over && fwrite(fs->over, sizeof *fs->over, fs->n_over, f) != fs->n_over))
    return LT_EIO;
  return 0;
}

/* Reads what lt_findings_write wrote into fs, which the caller initialised
 * and frees; see lifetrace/jobs.h. */
int lt_findings_read(FILE *f, lt_findings *fs) {
  uint64_t head[5];
  if (fread(head, sizeof head, 1, f) != 1 || head[0] > (1u << 24) || head[4] > (1u << 24))
    return LT_EIO;
  lt_finding *items = lt_calloc(head[0] ? head[0] : 1, sizeof *items);
  lt_finding_tally *over = lt_calloc(head[4] ? head[4] : 1, sizeof *over);
  if (items == NULL || over == NULL || fread(items, sizeof *items, head[0], f) != head[0] ||
      fread(over, sizeof *over, head[4], f) != head[4]) {
    lt_free(items);
    lt_free(over);
    return items && over ? LT_EIO : LT_ENOMEM;
  }
  lt_free(fs->items);
  lt_free(fs->over);
  fs->items = items;
  fs->n = fs->alloc = head[0];
  fs->total = head[1];
  fs->errors = head[2];
  fs->warnings = head[3];
  fs->over = over;
  fs->n_over = fs->alloc_over = head[4];
  return 0;
}
