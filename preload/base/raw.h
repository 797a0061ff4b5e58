/* raw.h - objpool's own system calls by number. objpool exports
 * `syscall` (interpose/sys.c), so a call of `raw_syscall(SYS_...)` from its own
 * code would come back through that export; every raw system call objpool
 * makes goes through raw_syscall instead: a hidden function in assembly
 * with syscall()'s convention (the number, up to six arguments, -1 and
 * errno on failure). tests/layering.bats checks no call of the export is
 * left. */
#ifndef OBJPOOL_RAW_H
#define OBJPOOL_RAW_H

long raw_syscall(long nr, ...) __attribute__((visibility("hidden")));
/* The error tail of raw_syscall: sets errno, returns -1. */
long raw_syscall_error(long neg) __attribute__((visibility("hidden")));
#endif
