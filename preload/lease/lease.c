/* lease.c - the lease lifecycle every kind shares (lease.h): acquire or
 * adopt, close, discard, forget, and the graveyard. The kinds' own rules
 * come in through struct kind_ops. */
#include "lease.h"

#include <errno.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/reasons.h"
#include "inherit.h"
#include "live.h"

/* The preload makes every object itself, through the real call, and only
 * ever asks the pool for an idle one (objpool_try_acquire). */
static void *never_create(void *user, void *arg)
{
    (void)user;
    (void)arg;
    errno = ENOSYS;
    return NULL;
}

objpool_t *lease_pool_new(struct target *t, objpool_destroy_fn destroy, objpool_validate_fn validate,
                          objpool_reset_fn reset, void *user)
{
    const struct pool_opts *o = &t->spec->opts;
    objpool_t *p = objpool_new(never_create, destroy, validate, reset, user, o->max_size);
    if (!p)
        return NULL;
    objpool_set_idle_timeout_ms(p, o->idle_timeout_ms);
    objpool_set_max_lifetime_ms(p, o->max_lifetime_ms);
    objpool_set_order(p, o->order);
    pools_register(p);
    live_attach_pool(p, t);
    return p;
}

/* A fork that overlapped the acquire may have copied the fd into a child
 * before the record existed: then it is shared. */
static void mark_if_forked(struct record *r, unsigned gen)
{
    if (atomic_load(&fork_gen) != gen)
        atomic_fetch_or(&r->flags, LF_SHARED);
}

struct record *lease_reuse(objpool_t *pool, void *ctx, unsigned *gen)
{
    bury_graveyard();
    *gen = atomic_load(&fork_gen);
    struct record *r = objpool_try_acquire(pool, ctx);
    if (r)
        mark_if_forked(r, *gen);
    return r;
}

struct record *lease_new(int fd, int kind, struct target *t)
{
    struct record *r = record_alloc();
    if (!r)
        return NULL;
    r->fd = fd;
    r->kind = (uint8_t)kind;
    r->target = t;
    r->ops = t->ops;
    r->uses = 1;
    atomic_store(&r->state, STATE_LEASED);
    return r;
}

/* The report's mean create time and time saved come from the real calls
 * that were timed (blocking connects, opens), per configured target. */
static void note_create_time(struct target *t, uint64_t ns)
{
    atomic_fetch_add_explicit(&t->ctr->create_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->ctr->create_timed, 1, memory_order_relaxed);
}

void lease_adopt(struct record *r, unsigned gen, uint64_t create_ns, struct target *timing)
{
    mark_if_forked(r, gen);
    reg_set(r->fd, r);
    objpool_adopt(r->target->pool, r, create_ns);
    if (create_ns && timing)
        note_create_time(timing, create_ns);
}

void lease_create_failed(objpool_t *pool)
{
    objpool_note_create_failure(pool);
}

/* The pool's objpool_adopt_failed, for a record whose object the kind has
 * closed already: LF_GONE first, so the destroy callback only frees it. */
void lease_adopt_failed(struct record *r)
{
    atomic_fetch_or(&r->flags, LF_GONE);
    log_debug("fd %d of %s: never connected: a failed create", r->fd, r->target->label);
    objpool_adopt_failed(r->target->pool, r);
}

/* The real close of what the program holds: its FILE, or its fd. */
static int close_object(int fd, FILE *fp)
{
    return fp ? real.fclose(fp) : real.close(fd);
}

int lease_close(int fd, struct record *r, FILE *fp)
{
    if (!reg_claim(fd, r))
        return close_object(fd, fp); /* another close won the race for it */
    if (!guard_enter()) {
        /* inside objpool on this thread (a signal handler): no locks; the
         * next locked operation accounts for it (bury_graveyard) */
        int rc = close_object(fd, fp);
        int err = errno;
        atomic_fetch_or(&r->flags, LF_GONE);
        graveyard_push(r);
        errno = err;
        return rc;
    }
    bury_graveyard();
    int rc = r->ops->release(r, fd, fp);
    int err = errno;
    guard_leave();
    errno = err;
    return rc;
}

void lease_discard(struct record *r, int reason)
{
    atomic_fetch_or(&r->flags, LF_GONE);
    log_debug("fd %d of %s: not parked: %s", r->fd, r->target->label, reason_name(reason));
    objpool_discard(r->target->pool, r, reason);
}

void lease_forget(int fd, struct record *r, int reason, int inside)
{
    if (record_is_ours(r) || !reg_claim(fd, r))
        return;
    if (!reason)
        reason = r->ops->replaced_reason;
    if (inside) {
        lease_discard(r, reason);
    } else if (guard_enter()) {
        lease_discard(r, reason);
        guard_leave();
    } else {
        atomic_fetch_or(&r->flags, LF_GONE);
        graveyard_push(r); /* a signal handler inside objpool: no locks */
    }
}

void lease_after_park(struct target *t)
{
    /* with LIFO the oldest idle objects never come up again: age them out
     * here, since objpool starts no thread for it */
    if (t->spec->opts.idle_timeout_ms || t->spec->opts.max_lifetime_ms)
        objpool_evict_expired(t->pool);
}

void bury_graveyard(void)
{
    struct record *r = graveyard_take();
    while (r) {
        struct record *next = r->next;
        objpool_discard(r->target->pool, r, REASON_INTERRUPTED);
        r = next;
    }
}

int lease_io_begin(struct record *r, int fd, int is_write, int flags, const struct io_data *d, ssize_t *result)
{
    if (in_vfork_child()) {
        /* a vfork child's I/O: the parent must never park this lease */
        atomic_fetch_or(&r->flags, LF_UNOBSERVED);
        return 0;
    }
    if (record_is_ours(r)) {
        errno = EBADF; /* an idle fd number is closed, as far as the program knows */
        *result = -1;
        return 1;
    }
    return r->ops->io_begin ? r->ops->io_begin(r, fd, is_write, flags, d, result) : 0;
}

void lease_io_end(struct record *r, int is_write, int flags, ssize_t n, const struct io_data *d)
{
    if (!r->ops || !r->ops->io_end || in_vfork_child())
        return;
    int err = errno;
    r->ops->io_end(r, is_write, flags, n, err, d);
    errno = err;
}
