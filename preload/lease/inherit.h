/* inherit.h - what a child process inherits, and what objpool does about
 * it (the fork generation itself is in base/state.h). fork: the child closes its copies of idle objects and forgets every
 * lease; the parent marks its live leases shared (two processes hold them
 * now). spawn, system, popen, vfork: leases without FD_CLOEXEC reach the
 * child, so they are shared. */
#ifndef OBJPOOL_INHERIT_H
#define OBJPOOL_INHERIT_H

#include "../core/objpool.h"

void inherit_setup(void);
/* Every pool the preload creates, so fork can hold their locks. */
void pools_register(objpool_t *pool);
/* Before a child is started: mark leases shared. `all`: every lease (the
 * child gets explicit copies, e.g. posix_spawn file actions); otherwise
 * only those without FD_CLOEXEC. */
void inherit_before_spawn(int all);
#endif
