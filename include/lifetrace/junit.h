/* JUnit XML output of `lifetrace check` (Surefire/Jenkins style, as GitLab
 * and Jenkins read it): one <testsuite> per corpus group, one <testcase> per
 * trace with classname = group, <failure> with the full difference in the
 * body, <error> for a trace that could not be read or replayed. */
#ifndef LT_REPORTS_JUNIT_H
#define LT_REPORTS_JUNIT_H

#include <stdio.h>

#include "lifetrace/check.h"

/* Writes the report for c; returns 0 or LT_EIO. */
int lt__junit_write(FILE *out, const lt_check *c);

/* Writes the human text of a case's difference (missing / unexpected
 * findings, or its diag) — the JUnit failure body and the check's stderr. */
void lt__check_describe(FILE *out, const lt_check_case *k);

#endif
