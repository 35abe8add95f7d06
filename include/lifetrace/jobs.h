/* Work spread over worker processes with the output of a single process:
 * `lifetrace replay -j N` and `lifetrace check -j N`. */
#ifndef LT_JOBS_H
#define LT_JOBS_H

#include <stddef.h>
#include <stdio.h>

#include "lifetrace/error.h"
#include "lifetrace/finding.h"

/* Runs in a worker for item i: may print to stdout and stderr and writes to
 * result what the parent needs; returns the item's code. */
typedef int (*lt_job_work)(void *ctx, size_t i, FILE *result);
/* Runs in the parent for item i, in item order, after the item's stdout and
 * stderr were copied out: rc is work's code, result (rewound) what it wrote,
 * or rc is LT_EIO and result NULL when its worker died. Nonzero stops. */
typedef int (*lt_job_done)(void *ctx, size_t i, int rc, FILE *result);

/* Runs work for items 0..n-1 over `jobs` forked workers (item i in worker
 * i % jobs), then hands each item to done in order, so what is printed and
 * recorded is what one process would print and record. LT_EIO when the
 * workers cannot be started or their files written, or done's code. */
LT_MUST_CHECK int lt_jobs_run(size_t n, unsigned jobs, lt_job_work work, lt_job_done done,
                              void *ctx);

/* Writes fs (kept findings, totals, per-signature tallies) to f; reads it back
 * into fs (initialised by the caller) for a worker's findings. */
LT_MUST_CHECK int lt_findings_write(FILE *f, const lt_findings *fs);
LT_MUST_CHECK int lt_findings_read(FILE *f, lt_findings *fs);

#endif
