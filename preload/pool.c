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
#include "objpool.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct entry {
    void *obj;
    uint64_t created_ns;
    uint64_t jitter;      /* this object's share of the lifetime jitter, 0..2^32-1 */
    uint64_t parked_ns;   /* when it went idle (idle ring only) */
};

struct objpool {
    pthread_mutex_t lock;
    objpool_create_fn create;
    objpool_destroy_fn destroy;
    objpool_validate_fn validate;
    objpool_reset_fn reset;
    objpool_bad_release_fn bad_release;
    void *user;

    size_t max_size;
    enum objpool_order order;
    uint64_t idle_timeout_ns;
    uint64_t max_lifetime_ns;
    uint64_t rng;

    struct entry *idle; /* ring of idle_cap entries, grown on demand up to max_size */
    size_t idle_cap, idle_head, idle_count;

    struct entry *leases; /* open addressing, linear probing, cap is 2^k */
    size_t lease_cap, lease_count;

    objpool_stats_t st;

    /* The first ring and lease table live inside the pool: with the rest of
     * the struct they fill one page, where three separate mappings would
     * take three (the idle and lease counts of most pools stay small). */
    struct entry idle0[16];
    struct entry leases0[64];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *map_zero(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

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

static int past_lifetime(const objpool_t *p, const struct entry *e, uint64_t now)
{
    if (!p->max_lifetime_ns)
        return 0;
    uint64_t spread = p->max_lifetime_ns / 10;
    uint64_t jitter = (uint64_t)(((unsigned __int128)spread * e->jitter) >> 32);
    return now - e->created_ns >= p->max_lifetime_ns - jitter;
}

/* ms to ns, saturating (UINT64_MAX ms is "forever", not a wrapped value). */
static uint64_t ms_to_ns(uint64_t ms)
{
    return ms > UINT64_MAX / 1000000ull ? UINT64_MAX : ms * 1000000ull;
}

/* ---- the lease set ---------------------------------------------------- */

static size_t slot_of(const void *obj, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

static struct entry *lease_find(objpool_t *p, const void *obj)
{
    if (!p->lease_cap)
        return NULL;
    for (size_t i = slot_of(obj, p->lease_cap);; i = (i + 1) & (p->lease_cap - 1)) {
        if (p->leases[i].obj == obj)
            return &p->leases[i];
        if (!p->leases[i].obj)
            return NULL;
    }
}

static void lease_put_raw(struct entry *tab, size_t cap, const struct entry *e)
{
    size_t i = slot_of(e->obj, cap);
    while (tab[i].obj)
        i = (i + 1) & (cap - 1);
    tab[i] = *e;
}

static int lease_grow(objpool_t *p)
{
    size_t cap = p->lease_cap ? p->lease_cap * 2 : 64;
    struct entry *tab = map_zero(cap * sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < p->lease_cap; i++)
        if (p->leases[i].obj)
            lease_put_raw(tab, cap, &p->leases[i]);
    if (p->leases != p->leases0)
        munmap(p->leases, p->lease_cap * sizeof *p->leases);
    p->leases = tab;
    p->lease_cap = cap;
    return 0;
}

static int lease_add(objpool_t *p, const struct entry *e)
{
    if ((p->lease_count + 1) * 2 > p->lease_cap && lease_grow(p) < 0)
        return -1;
    lease_put_raw(p->leases, p->lease_cap, e);
    p->lease_count++;
    p->st.leased = p->lease_count;
    if (p->st.leased > p->st.peak_leased)
        p->st.peak_leased = p->st.leased;
    return 0;
}

/* Remove by backward shift, so lookups never meet tombstones. */
static void lease_remove(objpool_t *p, struct entry *e)
{
    size_t mask = p->lease_cap - 1;
    size_t i = (size_t)(e - p->leases);
    size_t j = i;
    for (;;) {
        p->leases[i].obj = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!p->leases[j].obj)
                goto done;
            size_t home = slot_of(p->leases[j].obj, p->lease_cap);
            /* leave j where it is if its home lies cyclically in (i, j] */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        p->leases[i] = p->leases[j];
        i = j;
    }
done:
    p->lease_count--;
    p->st.leased = p->lease_count;
}

/* ---- the idle ring ---------------------------------------------------- */

/* Make room for one more idle entry: the ring doubles (from 16) up to
 * max_size, so a large max_size (SIZE_MAX for "no bound") costs nothing up
 * front. -1 if it cannot grow: the caller treats the pool as full. */
static int idle_reserve(objpool_t *p)
{
    if (p->idle_count < p->idle_cap)
        return 0;
    size_t cap = p->idle_cap ? p->idle_cap * 2 : 16;
    if (cap > p->max_size || cap < p->idle_cap)
        cap = p->max_size;
    if (cap <= p->idle_count || cap > SIZE_MAX / sizeof(struct entry))
        return -1;
    struct entry *ring = map_zero(cap * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < p->idle_count; i++)
        ring[i] = p->idle[(p->idle_head + i) % p->idle_cap];
    if (p->idle != p->idle0)
        munmap(p->idle, p->idle_cap * sizeof *p->idle);
    p->idle = ring;
    p->idle_cap = cap;
    p->idle_head = 0;
    return 0;
}

/* The caller has checked idle_count < max_size and called idle_reserve(). */
static void idle_push(objpool_t *p, const struct entry *e)
{
    size_t tail = (p->idle_head + p->idle_count) % p->idle_cap;
    p->idle[tail] = *e;
    p->idle_count++;
    p->st.idle = p->idle_count;
    if (p->st.idle > p->st.peak_idle)
        p->st.peak_idle = p->st.idle;
}

static int idle_pop(objpool_t *p, struct entry *out)
{
    if (!p->idle_count)
        return 0;
    if (p->order == OBJPOOL_FIFO) {
        *out = p->idle[p->idle_head];
        p->idle_head = (p->idle_head + 1) % p->idle_cap;
    } else {
        *out = p->idle[(p->idle_head + p->idle_count - 1) % p->idle_cap];
    }
    p->idle_count--;
    p->st.idle = p->idle_count;
    return 1;
}

/* 0 if still fresh, else the discard reason. */
static int expiry_reason(objpool_t *p, const struct entry *e, uint64_t now)
{
    if (p->idle_timeout_ns && now - e->parked_ns > p->idle_timeout_ns)
        return OBJPOOL_DISCARD_EXPIRED;
    if (past_lifetime(p, e, now))
        return OBJPOOL_DISCARD_LIFETIME;
    return 0;
}

static void count_discard(objpool_t *p, int reason)
{
    if (reason < 0 || reason >= OBJPOOL_DISCARD_MAX)
        reason = OBJPOOL_DISCARD_INVALID;
    p->st.discarded[reason]++;
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
    p->st.idle = p->idle_count;
    return 1;
}

void objpool_set_max_size(objpool_t *p, size_t max_size)
{
    pthread_mutex_lock(&p->lock);
    p->max_size = max_size;
    /* Shrinking: the oldest idle objects that no longer fit are destroyed.
     * The ring itself is kept (it only ever holds max_size entries). The
     * bound is re-read each round: another thread may change it meanwhile. */
    while (p->idle_count > p->max_size) {
        struct entry e;
        if (!idle_pop_oldest(p, &e))
            break; /* cannot happen (idle_count > 0); tells gcc -O1 e is set */
        count_discard(p, OBJPOOL_DISCARD_FULL);
        pthread_mutex_unlock(&p->lock);
        p->destroy(p->user, e.obj);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

void objpool_set_idle_timeout_ms(objpool_t *p, uint64_t ms)
{
    pthread_mutex_lock(&p->lock);
    p->idle_timeout_ns = ms_to_ns(ms);
    pthread_mutex_unlock(&p->lock);
}

void objpool_set_max_lifetime_ms(objpool_t *p, uint64_t ms)
{
    pthread_mutex_lock(&p->lock);
    p->max_lifetime_ns = ms_to_ns(ms);
    pthread_mutex_unlock(&p->lock);
}

void objpool_set_order(objpool_t *p, enum objpool_order order)
{
    pthread_mutex_lock(&p->lock);
    p->order = order;
    pthread_mutex_unlock(&p->lock);
}

/* Pop idle objects until one passes expiry, validate and reset. The lock is
 * held on entry and on return; it is dropped around the callbacks. */
static void *take_idle(objpool_t *p, void *arg, struct entry *got)
{
    int pending = -1; /* a discard to count at the next locked moment */
    for (;;) {
        if (pending >= 0) {
            count_discard(p, pending);
            pending = -1;
        }
        if (!idle_pop(p, got))
            return NULL;
        /* the settings are read under the lock; the callbacks run without it */
        int reason = expiry_reason(p, got, now_ns());
        pthread_mutex_unlock(&p->lock);
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
        pthread_mutex_lock(&p->lock);
        if (!reason)
            return got->obj;
        pending = reason;
    }
}

static int lease_in(objpool_t *p, const struct entry *e)
{
    if (lease_add(p, e) < 0)
        return -1;
    p->st.acquired++;
    return 0;
}

void *objpool_try_acquire(objpool_t *p, void *arg)
{
    int saved = errno;
    struct entry e;
    pthread_mutex_lock(&p->lock);
    void *obj = take_idle(p, arg, &e);
    if (obj) {
        if (lease_in(p, &e) < 0) {
            pthread_mutex_unlock(&p->lock);
            p->destroy(p->user, obj);
            errno = ENOMEM;
            return NULL;
        }
        p->st.hits++;
    }
    pthread_mutex_unlock(&p->lock);
    errno = saved;
    return obj;
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
        pthread_mutex_lock(&p->lock);
        p->st.create_failures++;
        pthread_mutex_unlock(&p->lock);
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
    pthread_mutex_lock(&p->lock);
    struct entry e = {obj, now, new_jitter(p), 0};
    int rc = lease_in(p, &e);
    if (rc == 0) {
        p->st.misses++;
        p->st.create_ns_total += create_ns;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void objpool_note_create_failure(objpool_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->st.create_failures++;
    pthread_mutex_unlock(&p->lock);
}

int objpool_add_idle(objpool_t *p, void *obj)
{
    uint64_t now = now_ns();
    pthread_mutex_lock(&p->lock);
    int room = p->idle_count < p->max_size && idle_reserve(p) == 0;
    if (room) {
        struct entry e = {obj, now, new_jitter(p), now};
        idle_push(p, &e);
    } else {
        count_discard(p, OBJPOOL_DISCARD_FULL);
    }
    pthread_mutex_unlock(&p->lock);
    if (!room)
        p->destroy(p->user, obj);
    return room ? OBJPOOL_PARKED : OBJPOOL_DESTROYED;
}

/* Common tail of release and discard: `reason` < 0 means park if allowed. */
static int give_back(objpool_t *p, void *obj, int reason)
{
    int saved = errno;
    pthread_mutex_lock(&p->lock);
    struct entry *le = lease_find(p, obj);
    if (!le) {
        p->st.bad_releases++;
        objpool_bad_release_fn hook = p->bad_release;
        pthread_mutex_unlock(&p->lock);
        if (hook)
            hook(p->user, obj);
        errno = saved;
        return OBJPOOL_ENOTLEASED;
    }
    struct entry e = *le;
    lease_remove(p, le);
    p->st.released++;
    uint64_t now = now_ns();
    if (reason < 0 && past_lifetime(p, &e, now))
        reason = OBJPOOL_DISCARD_LIFETIME;
    if (reason < 0 && (p->idle_count >= p->max_size || idle_reserve(p) < 0))
        reason = OBJPOOL_DISCARD_FULL;
    if (reason < 0) {
        e.parked_ns = now;
        idle_push(p, &e);
        p->st.parked++;
    } else {
        count_discard(p, reason);
    }
    pthread_mutex_unlock(&p->lock);
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
    pthread_mutex_lock(&p->lock);
    p->bad_release = fn;
    pthread_mutex_unlock(&p->lock);
}

int objpool_is_leased(objpool_t *p, void *obj)
{
    pthread_mutex_lock(&p->lock);
    int yes = lease_find(p, obj) != NULL;
    pthread_mutex_unlock(&p->lock);
    return yes;
}

/* Move the idle objects matching `pick` out under the lock, destroy them
 * after it, counting each under `reason` (or its own expiry reason). */
static void drain_idle(objpool_t *p, int only_expired)
{
    for (;;) {
        struct entry e;
        int reason = 0;
        pthread_mutex_lock(&p->lock);
        uint64_t now = now_ns();
        size_t n = p->idle_count;
        int found = 0;
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
            }
        }
        p->st.idle = p->idle_count;
        if (found)
            count_discard(p, reason);
        pthread_mutex_unlock(&p->lock);
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
