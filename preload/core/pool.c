/* pool.c - the generic object pool. Knows nothing of sockets or files.
 *
 * An object is either idle (in the ring `idle`, owned by the pool) or leased
 * (in the hash set `leases`, owned by the borrower). Every transition happens
 * under `lock`. Callbacks (create, validate, reset, destroy) run without the
 * lock held: a slow create or a validation probe never stalls other threads,
 * and a callback may itself use the pool.
 *
 * Memory comes from mmap, never malloc: the preload runs this code inside
 * interposed libc calls, some of which (close, connect) are async-signal-safe
 * and may run in a signal handler that interrupted malloc.
 */
#include "pool_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../base/clock.h"

static const char *const discard_names[OBJPOOL_DISCARD_MAX] = {
    [OBJPOOL_DISCARD_FULL] = "full",
    [OBJPOOL_DISCARD_EXPIRED] = "expired",
    [OBJPOOL_DISCARD_LIFETIME] = "max_lifetime",
    [OBJPOOL_DISCARD_INVALID] = "invalid",
    [OBJPOOL_DISCARD_RESET_FAILED] = "reset_failed",
    [OBJPOOL_DISCARD_BROKEN] = "broken",
    [OBJPOOL_DISCARD_CLEARED] = "cleared",
};

const char *objpool_discard_name(int reason)
{
    if (reason < 0 || reason >= OBJPOOL_DISCARD_MAX || !discard_names[reason])
        return "other";
    return discard_names[reason];
}

/* xorshift64: jitter only needs to spread expiries, not be unpredictable. */
static uint64_t next_random(objpool_t *p)
{
    uint64_t x = p->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return x;
}

/* Up to 10% earlier than max_lifetime, so objects made together do not all
 * expire together (HikariCP does the same). Each object draws its fraction
 * once; the deadline is computed from the current setting, so a
 * max_lifetime set after objects exist applies to them too. */
static uint64_t new_jitter(objpool_t *p)
{
    return next_random(p) >> 32;
}

/* ms to ns, saturating (UINT64_MAX ms is "forever", not a wrapped value). */
static uint64_t ms_to_ns(uint64_t ms)
{
    return ms > UINT64_MAX / 1000000ull ? UINT64_MAX : ms * 1000000ull;
}

/* ---- public API ------------------------------------------------------- */

objpool_t *objpool_new(objpool_create_fn create, objpool_destroy_fn destroy,
                       objpool_validate_fn validate, objpool_reset_fn reset, void *user,
                       size_t max_size)
{
    if (!create || !destroy) {
        errno = EINVAL;
        return NULL;
    }
    objpool_t *p = map_zero(sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->st = &p->st_local;
    p->seq = &p->seq_local;
    p->create = create;
    p->destroy = destroy;
    p->validate = validate;
    p->reset = reset;
    p->user = user;
    p->rng = (now_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)p) | 1;
    p->max_size = max_size;
    p->idle = p->idle0;
    p->idle_cap = sizeof p->idle0 / sizeof *p->idle0;
    p->leases = p->leases0;
    p->lease_cap = sizeof p->leases0 / sizeof *p->leases0;
    return p;
}

/* Take the oldest idle entry out of the ring (for shrinking). */
static int idle_pop_oldest(objpool_t *p, struct entry *out)
{
    if (!p->idle_count)
        return 0;
    *out = p->idle[p->idle_head];
    p->idle_head = (p->idle_head + 1) % p->idle_cap;
    p->idle_count--;
    p->st->idle = p->idle_count;
    return 1;
}

void objpool_set_max_size(objpool_t *p, size_t max_size)
{
    pool_lock(p);
    p->max_size = max_size;
    /* Shrinking: the oldest idle objects that no longer fit are destroyed.
     * The ring itself is kept (it only ever holds max_size entries). The
     * bound is re-read each round: another thread may change it meanwhile. */
    while (p->idle_count > p->max_size) {
        struct entry e;
        if (!idle_pop_oldest(p, &e))
            break; /* cannot happen (idle_count > 0); tells gcc -O1 e is set */
        count_discard(p, OBJPOOL_DISCARD_FULL);
        pool_unlock(p);
        p->destroy(p->user, e.obj);
        pool_lock(p);
    }
    pool_unlock(p);
}

void objpool_set_idle_timeout_ms(objpool_t *p, uint64_t ms)
{
    pool_lock(p);
    p->idle_timeout_ns = ms_to_ns(ms);
    p->next_expiry_ns = 0; /* the idle objects' deadlines moved */
    pool_unlock(p);
}

void objpool_set_max_lifetime_ms(objpool_t *p, uint64_t ms)
{
    pool_lock(p);
    p->max_lifetime_ns = ms_to_ns(ms);
    p->next_expiry_ns = 0; /* the idle objects' deadlines moved */
    pool_unlock(p);
}

void objpool_set_order(objpool_t *p, enum objpool_order order)
{
    pool_lock(p);
    p->order = order;
    pool_unlock(p);
}

/* An idle entry, popped: 0 if it passes expiry, validate and reset, else
 * the reason it was destroyed. Called with the lock held; it is dropped
 * around the callbacks and held again on return. */
static int vet(objpool_t *p, void *arg, struct entry *got)
{
    /* the settings are read under the lock; the callbacks run without it */
    int reason = expiry_reason(p, got, now_ns());
    pool_unlock(p);
    if (!reason && p->validate) {
        reason = p->validate(p->user, got->obj, arg);
        if (reason < 0) /* a C-style -1 is a refusal too, and must be counted */
            reason = OBJPOOL_DISCARD_INVALID;
    }
    if (!reason && p->reset) {
        reason = p->reset(p->user, got->obj, arg);
        if (reason < 0)
            reason = OBJPOOL_DISCARD_RESET_FAILED;
    }
    if (reason)
        p->destroy(p->user, got->obj);
    pool_lock(p);
    if (reason)
        count_discard(p, reason);
    return reason;
}

/* Pop idle objects until one passes expiry, validate and reset (key 0:
 * any, else only those with that key). The lock is held on entry and on
 * return. */
static void *take_idle(objpool_t *p, void *arg, struct entry *got, uint64_t key)
{
    while (key ? idle_take_key(p, key, got) : idle_pop(p, got)) {
        if (!vet(p, arg, got))
            return got->obj;
    }
    return NULL;
}

static int lease_in(objpool_t *p, const struct entry *e)
{
    if (lease_add(p, e) < 0)
        return -1;
    p->st->acquired++;
    return 0;
}

/* objpool_try_acquire, and objpool_try_acquire_key (key != 0). */
static void *try_acquire(objpool_t *p, void *arg, uint64_t key)
{
    int saved = errno;
    struct entry e;
    pool_lock(p);
    void *obj = take_idle(p, arg, &e, key);
    if (obj) {
        if (lease_in(p, &e) < 0) {
            pool_unlock(p);
            p->destroy(p->user, obj);
            errno = ENOMEM;
            return NULL;
        }
        p->st->hits++;
    }
    pool_unlock(p);
    errno = saved;
    return obj;
}

void *objpool_try_acquire(objpool_t *p, void *arg)
{
    return try_acquire(p, arg, 0);
}

void *objpool_try_acquire_key(objpool_t *p, uint64_t key, void *arg)
{
    return key ? try_acquire(p, arg, key) : NULL;
}

void objpool_swap_age(objpool_t *p, void *a, void *b)
{
    pool_lock(p);
    struct entry *ea = lease_find(p, a), *eb = lease_find(p, b);
    if (ea && eb) {
        struct entry t = *ea;
        ea->created_ns = eb->created_ns;
        ea->jitter = eb->jitter;
        eb->created_ns = t.created_ns;
        eb->jitter = t.jitter;
    }
    pool_unlock(p);
}

void objpool_set_key(objpool_t *p, void *obj, uint64_t key)
{
    pool_lock(p);
    struct entry *le = lease_find(p, obj);
    if (le)
        le->key = key;
    pool_unlock(p);
}

void *objpool_acquire_arg(objpool_t *p, void *arg)
{
    void *obj = objpool_try_acquire(p, arg);
    if (obj)
        return obj;
    uint64_t t0 = now_ns();
    obj = p->create(p->user, arg);
    int saved = errno;
    uint64_t t1 = now_ns();
    if (!obj) {
        pool_lock(p);
        p->st->create_failures++;
        pool_unlock(p);
        errno = saved;
        return NULL;
    }
    if (objpool_adopt(p, obj, t1 - t0) < 0) {
        p->destroy(p->user, obj);
        errno = ENOMEM;
        return NULL;
    }
    errno = saved;
    return obj;
}

void *objpool_acquire(objpool_t *p)
{
    return objpool_acquire_arg(p, NULL);
}

int objpool_adopt(objpool_t *p, void *obj, uint64_t create_ns)
{
    uint64_t now = now_ns();
    pool_lock(p);
    struct entry e = {obj, now, new_jitter(p), 0, 0};
    int rc = lease_in(p, &e);
    if (rc == 0) {
        p->st->misses++;
        p->st->create_ns_total += create_ns;
    }
    pool_unlock(p);
    return rc;
}

/* Lock the pool and find obj's lease entry. A release of an object that
 * is not a live lease (double or foreign) is counted, told to the hook and
 * is a no-op: NULL, with the lock released. */
static struct entry *lock_lease(objpool_t *p, void *obj)
{
    pool_lock(p);
    struct entry *le = lease_find(p, obj);
    if (le)
        return le;
    p->st->bad_releases++;
    objpool_bad_release_fn hook = p->bad_release;
    pool_unlock(p);
    if (hook)
        hook(p->user, obj);
    return NULL;
}

/* A create made elsewhere can fail after its object was adopted: a
 * non-blocking connect is adopted when it is in progress, and refused
 * later. Counted as a miss it would say an object was made and handed out;
 * it was not, so the adoption is taken back and counted as the failure it
 * was. Only for an object objpool_adopt made a lease (the core cannot tell
 * a hit from a miss once it is out). */
int objpool_adopt_failed(objpool_t *p, void *obj)
{
    int saved = errno;
    struct entry *le = lock_lease(p, obj);
    if (!le) {
        errno = saved;
        return OBJPOOL_ENOTLEASED;
    }
    lease_remove(p, le);
    /* counters reset since the adoption (a fork child) have nothing to undo */
    if (p->st->acquired && p->st->misses) {
        p->st->acquired--;
        p->st->misses--;
    }
    p->st->create_failures++;
    pool_unlock(p);
    p->destroy(p->user, obj);
    errno = saved;
    return OBJPOOL_DESTROYED;
}

void objpool_note_create_failure(objpool_t *p)
{
    pool_lock(p);
    p->st->create_failures++;
    pool_unlock(p);
}

int objpool_add_idle(objpool_t *p, void *obj)
{
    uint64_t now = now_ns();
    pool_lock(p);
    int room = p->idle_count < p->max_size && idle_reserve(p) == 0;
    if (room) {
        struct entry e = {obj, now, new_jitter(p), now, 0};
        idle_push(p, &e);
    } else {
        count_discard(p, OBJPOOL_DISCARD_FULL);
    }
    pool_unlock(p);
    if (!room)
        p->destroy(p->user, obj);
    return room ? OBJPOOL_PARKED : OBJPOOL_DESTROYED;
}

/* Common tail of release and discard: `reason` < 0 means park if allowed. */
static int give_back(objpool_t *p, void *obj, int reason)
{
    int saved = errno;
    struct entry *le = lock_lease(p, obj);
    if (!le) {
        errno = saved;
        return OBJPOOL_ENOTLEASED;
    }
    struct entry e = *le;
    lease_remove(p, le);
    p->st->released++;
    uint64_t now = now_ns();
    if (reason < 0 && past_lifetime(p, &e, now))
        reason = OBJPOOL_DISCARD_LIFETIME;
    if (reason < 0 && (p->idle_count >= p->max_size || idle_reserve(p) < 0))
        reason = OBJPOOL_DISCARD_FULL;
    if (reason < 0) {
        e.parked_ns = now;
        idle_push(p, &e);
        p->st->parked++;
    } else {
        count_discard(p, reason);
    }
    pool_unlock(p);
    if (reason >= 0)
        p->destroy(p->user, obj);
    errno = saved;
    return reason < 0 ? OBJPOOL_PARKED : OBJPOOL_DESTROYED;
}

int objpool_release(objpool_t *p, void *obj)
{
    return give_back(p, obj, -1);
}

int objpool_discard(objpool_t *p, void *obj, int reason)
{
    if (reason < 0 || reason >= OBJPOOL_DISCARD_MAX)
        reason = OBJPOOL_DISCARD_INVALID;
    return give_back(p, obj, reason);
}

void objpool_set_bad_release_hook(objpool_t *p, objpool_bad_release_fn fn)
{
    pool_lock(p);
    p->bad_release = fn;
    pool_unlock(p);
}

int objpool_is_leased(objpool_t *p, void *obj)
{
    pool_lock(p);
    int yes = lease_find(p, obj) != NULL;
    pool_unlock(p);
    return yes;
}

/* Move the idle objects out one at a time (all of them, or only the
 * expired ones) under the lock, destroying each after it. An expiry pass
 * that comes before the pool's earliest deadline returns at once: the
 * preload runs one after every park, and a ring of a thousand fresh idle
 * objects must not be read a thousand entries at a time for nothing. */
static void drain_idle(objpool_t *p, int only_expired)
{
    for (;;) {
        struct entry e;
        int reason = 0;
        pool_lock(p);
        uint64_t now = now_ns();
        if (only_expired && now < p->next_expiry_ns) {
            pool_unlock(p);
            return;
        }
        size_t n = p->idle_count;
        int found = 0;
        uint64_t next = UINT64_MAX; /* the earliest deadline of what stays */
        /* rotate through the ring once, keeping what stays */
        for (size_t i = 0; i < n; i++) {
            struct entry cur = p->idle[p->idle_head];
            p->idle_head = (p->idle_head + 1) % p->idle_cap;
            p->idle_count--;
            int r = only_expired ? expiry_reason(p, &cur, now) : OBJPOOL_DISCARD_CLEARED;
            if (r && !found) {
                found = 1;
                e = cur;
                reason = r;
            } else {
                p->idle[(p->idle_head + p->idle_count) % p->idle_cap] = cur;
                p->idle_count++;
                uint64_t at = expiry_deadline(p, &cur);
                if (at < next)
                    next = at;
            }
        }
        /* Exact when nothing was taken; when one was, the others may be
         * expired too, and the next round (which rescans) finds them. */
        p->next_expiry_ns = found ? 0 : next;
        p->st->idle = p->idle_count;
        if (found)
            count_discard(p, reason);
        pool_unlock(p);
        if (!found)
            return;
        p->destroy(p->user, e.obj);
    }
}

void objpool_clear(objpool_t *p)
{
    drain_idle(p, 0);
}

void objpool_evict_expired(objpool_t *p)
{
    drain_idle(p, 1);
}

void objpool_free(objpool_t *p)
{
    if (!p)
        return;
    objpool_clear(p);
    if (p->leases != p->leases0)
        munmap(p->leases, p->lease_cap * sizeof *p->leases);
    if (p->idle != p->idle0)
        munmap(p->idle, p->idle_cap * sizeof *p->idle);
    pthread_mutex_destroy(&p->lock);
    munmap(p, sizeof *p);
}

