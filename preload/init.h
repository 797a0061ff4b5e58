/* init.h - objpool's start-up and shutdown, the libfaketime way: resolve the
 * real functions once, mark init as started before running it, and let
 * every call that arrives meanwhile (from the same thread, through dlsym,
 * getaddrinfo or an allocator) pass straight through. */
#ifndef OBJPOOL_INIT_H
#define OBJPOOL_INIT_H

#include <stdatomic.h>
#include <sys/types.h>

#include "config.h"
#include "registry.h"

enum { INIT_NONE = 0, INIT_RUNNING, INIT_DONE };

extern _Atomic int init_state;
extern struct config cfg;
extern int pooling_on; /* there are pools, the config was good, not disabled */

void objpool_init_slow(void);

/* 1 when objpool is ready; otherwise the caller passes through. */
static inline int objpool_ready(void)
{
    if (__builtin_expect(atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE, 1))
        return 1;
    objpool_init_slow();
    return atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE;
}

/* Enter objpool code that takes locks. 0 if this thread is already inside
 * (a signal handler or libc calling back): take the lock-free path then. */
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

/* The process objpool's state belongs to (set at init and in a fork child). */
extern pid_t objpool_pid;

/* Set by the vfork trampoline on the calling thread. A vfork child runs on
 * that thread's stack and TLS but in its own process, sharing our memory:
 * it must not touch objpool's state. Checked only on owned-fd slow paths. */
extern __thread int vfork_pending __attribute__((tls_model("initial-exec")));

int vfork_child_slow(void);
static inline int in_vfork_child(void)
{
    return __builtin_expect(vfork_pending, 0) ? vfork_child_slow() : 0;
}

/* Leases closed on the lock-free path are accounted at the next chance. */
void bury_graveyard(void);
#endif
