/* pool_admin.c - the generic pool's bookkeeping calls: its counters,
 * visiting or forgetting its leases, its lock across fork, and the scoped
 * borrow of OBJPOOL_BORROW. */
#include "pool_internal.h"

#include <string.h>

void objpool_get_stats(objpool_t *p, objpool_stats_t *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    pthread_mutex_unlock(&p->lock);
}

void objpool_reset_stats(objpool_t *p)
{
    pthread_mutex_lock(&p->lock);
    size_t idle = p->st.idle, leased = p->st.leased;
    memset(&p->st, 0, sizeof p->st);
    p->st.idle = p->st.peak_idle = idle;
    p->st.leased = p->st.peak_leased = leased;
    pthread_mutex_unlock(&p->lock);
}

void objpool_foreach_leased(objpool_t *p, void (*fn)(void *obj, void *ctx), void *ctx)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->lease_cap; i++)
        if (p->leases[i].obj)
            fn(p->leases[i].obj, ctx);
    pthread_mutex_unlock(&p->lock);
}

void objpool_forget_all(objpool_t *p, void (*fn)(void *obj, void *ctx), void *ctx)
{
    pthread_mutex_lock(&p->lock);
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
    p->st.leased = 0;
    p->st.idle = 0;
    pthread_mutex_unlock(&p->lock);
}

void objpool_atfork_child(objpool_t *p)
{
    pthread_mutex_init(&p->lock, NULL);
}

void objpool_lock(objpool_t *p)
{
    pthread_mutex_lock(&p->lock);
}

void objpool_unlock(objpool_t *p)
{
    pthread_mutex_unlock(&p->lock);
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

