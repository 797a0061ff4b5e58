/* init.h - objpool's start-up and shutdown, the libfaketime way: resolve the
 * real functions once, mark init as started before running it, and let
 * every call that arrives meanwhile (from the same thread, through dlsym,
 * getaddrinfo or an allocator) pass straight through. */
#ifndef OBJPOOL_INIT_H
#define OBJPOOL_INIT_H

#include <stdatomic.h>

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

/* Leases closed on the lock-free path are accounted at the next chance. */
void bury_graveyard(void);
#endif
