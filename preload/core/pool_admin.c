/* pool_admin.c - the generic pool's bookkeeping calls: its counters,
 * visiting or forgetting its leases, its lock across fork, and the scoped
 * borrow of OBJPOOL_BORROW. */
#include "pool_internal.h"

#include <string.h>

void objpool_get_stats(objpool_t *p, objpool_stats_t *out)
{
    pool_lock(p);
    *out = *p->st;
    pool_unlock(p);
}

void objpool_reset_stats(objpool_t *p)
{
    pool_lock(p);
    size_t idle = p->st->idle, leased = p->st->leased;
    memset(p->st, 0, sizeof *p->st);
    p->st->idle = p->st->peak_idle = idle;
    p->st->leased = p->st->peak_leased = leased;
    pool_unlock(p);
}

void objpool_foreach_leased(objpool_t *p, void (*fn)(void *obj, void *ctx), void *ctx)
{
    pool_lock(p);
    for (size_t i = 0; i < p->lease_cap; i++)
        if (p->leases[i].obj)
            fn(p->leases[i].obj, ctx);
    pool_unlock(p);
}

void objpool_forget_all(objpool_t *p, void (*fn)(void *obj, void *ctx), void *ctx)
{
    pool_lock(p);
    struct entry e;
    while (idle_pop(p, &e))
        if (fn)
            fn(e.obj, ctx);
    for (size_t i = 0; i < p->lease_cap; i++) {
        if (p->leases[i].obj && fn)
            fn(p->leases[i].obj, ctx);
        p->leases[i].obj = NULL;
    }
    p->lease_count = 0;
    p->st->leased = 0;
    p->st->idle = 0;
    pool_unlock(p);
}

/* The parent's fork handler held the lock across fork: the child's copy
 * of the sequence word is odd, and no thread of the child will unlock. */
void objpool_atfork_child(objpool_t *p)
{
    pthread_mutex_init(&p->lock, NULL);
    if (*p->seq & 1)
        __atomic_store_n(p->seq, *p->seq + 1, __ATOMIC_RELEASE);
}

/* Counters kept in the caller's memory (a shared mapping another process
 * reads): the current values move there and every later change goes
 * there, bracketed by *seq as pool_lock/pool_unlock do. */
void objpool_set_stats_area(objpool_t *p, objpool_stats_t *st, uint64_t *seq)
{
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(seq, (*seq | 1) + 2, __ATOMIC_RELAXED); /* odd */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(st, p->st, sizeof *st);
    p->st = st;
    p->seq = seq;
    __atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE); /* even: published */
    pthread_mutex_unlock(&p->lock);
}

void objpool_lock(objpool_t *p)
{
    pool_lock(p);
}

void objpool_unlock(objpool_t *p)
{
    pool_unlock(p);
}

struct objpool_borrow_scope objpool_borrow_begin(objpool_t *pool)
{
    struct objpool_borrow_scope s = {pool, objpool_acquire(pool), 0, 0};
    return s;
}

void objpool_borrow_end(struct objpool_borrow_scope *s)
{
    if (!s->obj)
        return;
    if (s->broken)
        objpool_discard(s->pool, s->obj, OBJPOOL_DISCARD_BROKEN);
    else
        objpool_release(s->pool, s->obj);
    s->obj = NULL;
}

