/* Human descriptions of the finding kinds, shared by the SARIF rules and the
 * HTML report (the table of DESIGN.md, "Findings"). */
#ifndef LT_REPORTS_KINDS_H
#define LT_REPORTS_KINDS_H

/* One line: what the kind means. "" for an unknown kind. */
const char *lt__kind_summary(int kind);
/* A few sentences: the contract rule behind it and what to look at. */
const char *lt__kind_help(int kind);

#endif
