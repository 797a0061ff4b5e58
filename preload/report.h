/* report.h - the reuse report, at exit and before exec. */
#ifndef OBJPOOL_REPORT_H
#define OBJPOOL_REPORT_H

enum { REPORT_AT_EXIT = 0, REPORT_AT_EXEC };

void report_start(void);
/* Is this process the one whose counters these are (not a vfork child)? */
int report_is_owner(void);
void report_write(int when);
/* Forget what was reported (a failed exec must not count it twice). */
void report_after_exec_failed(void);
/* A forked child starts its own account: zero counters, a new clock. */
void report_after_fork(void);
#endif
