/* state.h - process-wide state, the bottom of the house: the configuration
 * in force, whether pooling is on, the process objpool's counters belong
 * to, the per-thread re-entrancy guard, the vfork-child test and the fork
 * generation. Imports nothing of objpool but the configuration's types, so
 * every layer may read it. init (interpose/init.c) writes it once at
 * start-up; the fork handlers (lease/inherit.c) in a child. */
#ifndef OBJPOOL_STATE_H
#define OBJPOOL_STATE_H

#include <stdatomic.h>
#include <sys/types.h>

#include "spec.h"

/* libfaketime's discipline: NONE -> RUNNING by CAS before init runs, so a
 * call that arrives meanwhile (dlsym's allocator, getaddrinfo, another
 * thread) passes straight through; DONE after. */
enum { INIT_NONE = 0, INIT_RUNNING, INIT_DONE };
extern _Atomic int init_state;

extern struct config cfg;
extern int pooling_on; /* there are pools, the config was good, not disabled */

/* The process objpool's state belongs to (set at init and in a fork child). */
extern pid_t objpool_pid;

/* The program's name as it started (program_invocation_short_name, copied
 * at init): programs such as nginx overwrite their argv[0] with a title,
 * and glibc's name points into it. A fork child keeps the copy. */
#define OBJPOOL_PROGRAM_MAX 256
extern char objpool_program[OBJPOOL_PROGRAM_MAX];

/* Bumped before every fork and spawn: a socket made before it may be held
 * by a child, and an acquire that overlaps it marks its lease shared. */
extern _Atomic unsigned fork_gen;

/* The re-entrancy guard. Set while a thread runs objpool code that takes
 * locks; an interposed call made on that thread meanwhile (a signal
 * handler, or libc calling back into an interposer) takes a lock-free path.
 * Initial-exec TLS: its first access never allocates. */
extern __thread int in_objpool __attribute__((tls_model("initial-exec")));

/* Enter objpool code that takes locks. 0 if this thread is already inside:
 * take the lock-free path then. */
static inline int guard_enter(void)
{
    if (in_objpool)
        return 0;
    in_objpool = 1;
    return 1;
}

static inline void guard_leave(void)
{
    in_objpool = 0;
}

/* Set by the vfork trampoline on the calling thread. A vfork child runs on
 * that thread's stack and TLS but in its own process, sharing our memory:
 * it must not touch objpool's state. Checked only on owned-fd slow paths. */
extern __thread int vfork_pending __attribute__((tls_model("initial-exec")));

int vfork_child_slow(void);
static inline int in_vfork_child(void)
{
    return __builtin_expect(vfork_pending, 0) ? vfork_child_slow() : 0;
}
#endif
