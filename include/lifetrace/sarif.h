/* SARIF 2.1.0 output of `lifetrace check`: one run, one rule per finding
 * kind, one result per finding, partialFingerprints = the signature, the
 * location = the trace's repo-relative path and the event's line. A finding
 * the trace's .expected.json names is a suppressed result (kind external,
 * status accepted, "expected by NAME.expected.json"): a passing gate opens no
 * alert, a failing one exactly its unexpected findings. */
#ifndef LT_REPORTS_SARIF_H
#define LT_REPORTS_SARIF_H

#include <stdio.h>

#include "lifetrace/check.h"

/* Writes the log for every finding of every case of c. automation_id is the
 * runAutomationDetails id ("category/run-id") or NULL. Returns 0 or LT_ENOMEM
 * / LT_EIO. */
int lt__sarif_write(FILE *out, const lt_check *c, const char *automation_id);

/* The line of a finding in its trace file: event + 2 for JSONL, else the
 * origin line of an imported event, else 0 (unknown). */
uint64_t lt__finding_line(const lt_finding *f, int jsonl);

#endif
