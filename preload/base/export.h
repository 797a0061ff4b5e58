/* export.h - how an interposer is exported, and the branch hint every
 * pass-through test uses. The shared object is built with
 * -fvisibility=hidden: only what is marked here is visible to the program. */
#ifndef OBJPOOL_EXPORT_H
#define OBJPOOL_EXPORT_H

#define OBJPOOL_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* A call that must be a jump, whatever the optimisation level: dlopen and
 * dlmopen take their caller from their return address (its RUNPATH for a
 * bare name, $ORIGIN, its namespace), so an interposer that called them
 * would make objpool the caller. `TAIL_CALLER` on the function,
 * `TAIL_CALL return f(...);` with the function's own signature: clang's
 * musttail, or GCC's sibling calls switched on for that function (at -O0
 * too, hence its O2). tests/interpose/eventloops.bats checks that the real dlopen
 * still sees the program (its RUNPATH, its $ORIGIN). */
#if defined(__clang__)
#define TAIL_CALL __attribute__((musttail))
#define TAIL_CALLER
#else
#define TAIL_CALL
#define TAIL_CALLER __attribute__((optimize("O2", "optimize-sibling-calls")))
#endif
#endif
