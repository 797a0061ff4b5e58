/* inherit.c - fork handlers and spawn marking: the list of every pool (so
 * fork can hold their locks), what a child's creation does to leases, and
 * what a forked child drops. Kinds with state of their own (spare sockets,
 * file keys, the report's clock) register their own fork handlers. */
#include "inherit.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/real.h"
#include "../base/state.h"
#include "../core/registry.h"

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
/* The first pools fit in static storage: a page of its own for a handful of
 * pointers would be most of what pooling one connection costs in memory. */
static objpool_t *pools_static[64];
static objpool_t **pools = pools_static;
static size_t npools, cap_pools = sizeof pools_static / sizeof *pools_static;

void pools_register(objpool_t *p)
{
    pthread_mutex_lock(&pools_lock);
    if (npools == cap_pools) {
        size_t cap = cap_pools ? cap_pools * 2 : 64;
        objpool_t **n = mmap(NULL, cap * sizeof *n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (n == MAP_FAILED) {
            pthread_mutex_unlock(&pools_lock);
            return;
        }
        for (size_t i = 0; i < npools; i++)
            n[i] = pools[i];
        if (pools != pools_static)
            munmap(pools, cap_pools * sizeof *pools);
        pools = n;
        cap_pools = cap;
    }
    pools[npools++] = p;
    pthread_mutex_unlock(&pools_lock);
}

static void mark_shared(int fd, struct record *l, void *ctx)
{
    int only_inheritable = *(const int *)ctx;
    if (record_is_ours(l))
        return;
    if (only_inheritable) {
        int fl = real.fcntl(fd, F_GETFD);
        if (fl >= 0 && (fl & FD_CLOEXEC))
            return;
    }
    atomic_fetch_or(&l->flags, LF_SHARED);
}

void inherit_before_spawn(int all)
{
    if (!reg_nslots)
        return;
    /* a child may hold copies now: sockets made before it are not recycled,
     * and an acquire overlapping the spawn marks its lease shared */
    atomic_fetch_add(&fork_gen, 1);
    int only_inheritable = !all;
    reg_foreach(mark_shared, &only_inheritable);
}

/* ---- fork --------------------------------------------------------------
 * prepare: take every pool lock (and the arena's) so the child never
 * inherits a lock held by a thread that does not exist there, and mark the
 * leases shared before the child can hold copies. */
static void before_fork(void)
{
    inherit_before_spawn(1); /* also bumps fork_gen */
    pthread_mutex_lock(&pools_lock);
    for (size_t i = 0; i < npools; i++)
        objpool_lock(pools[i]);
    arena_lock();
}

static void parent_after_fork(void)
{
    arena_unlock();
    for (size_t i = npools; i-- > 0;)
        objpool_unlock(pools[i]);
    pthread_mutex_unlock(&pools_lock);
    /* leases registered while the fork was under way */
    inherit_before_spawn(1);
}

/* The child's copies: idle objects are closed (they belong to the parent's
 * pools), leases are forgotten (the parent holds them too: the child's
 * close is a plain close). The log file stays. */
static void child_drop(int fd, struct record *l, void *ctx)
{
    (void)ctx;
    if (l->kind == KIND_INTERNAL)
        return;
    reg_set(fd, NULL);
    if (atomic_load(&l->state) != STATE_LEASED)
        raw_close(fd);
}

static void free_record(void *obj, void *ctx)
{
    (void)ctx;
    record_free(obj);
}

static void child_after_fork(void)
{
    objpool_pid = getpid();
    vfork_pending = 0;
    arena_reinit();
    reg_high_reinit();
    pthread_mutex_init(&pools_lock, NULL);
    for (size_t i = 0; i < npools; i++)
        objpool_atfork_child(pools[i]);
    reg_foreach(child_drop, NULL);
    for (size_t i = 0; i < npools; i++) {
        objpool_forget_all(pools[i], free_record, NULL);
        objpool_reset_stats(pools[i]);
    }
}

void inherit_setup(void)
{
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
}
