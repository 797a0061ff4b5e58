/* report.h - the reuse report, at exit and before exec (a forked child
 * starts an account of its own: report_start registers the handler). */
#ifndef OBJPOOL_REPORT_H
#define OBJPOOL_REPORT_H

enum { REPORT_AT_EXIT = 0, REPORT_AT_EXEC };

void report_start(void);
/* Is this process the one whose counters these are (not a vfork child)? */
int report_is_owner(void);
void report_write(int when);
/* Forget what was reported (a failed exec must not count it twice). */
void report_after_exec_failed(void);
#endif
