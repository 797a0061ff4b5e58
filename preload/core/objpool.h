/* objpool.h - a generic object pool for C (pattern_kit's ObjectPool, plus
 * validation, expiry, LIFO/FIFO order and per-reason discard counts).
 *
 *   objpool_t *p = objpool_new(make_conn, close_conn, NULL, NULL, ctx, 10);
 *   conn_t *c = objpool_acquire(p);      // idle object, or a new one on a miss
 *   ...
 *   objpool_release(p, c);               // parked, or destroyed if the pool is full
 *
 * max_size bounds the *idle* objects only: acquire never blocks and never
 * refuses because too many objects are out. A release into a full pool
 * destroys the object (pattern_kit silently drops it; we close it).
 * Thread-safe. Releasing an object that is not out on loan from this pool
 * (foreign or double release) is detected, counted and returns
 * OBJPOOL_ENOTLEASED; the pool is left untouched.
 */
#ifndef OBJPOOL_H
#define OBJPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OBJPOOL_BUILD_SHARED)
#define OBJPOOL_API __attribute__((visibility("default")))
#else
#define OBJPOOL_API
#endif

typedef struct objpool objpool_t;

/* Callbacks. `user` is the pointer given to objpool_new(); `arg` is the one
 * given to objpool_acquire_arg() (NULL for objpool_acquire()).
 * create:   make a new object; NULL on failure (errno is preserved).
 * destroy:  free an object the pool discards.
 * validate: optional; 0 if an idle object may be reused, otherwise a discard
 *           reason (OBJPOOL_DISCARD_INVALID or a caller-defined code).
 * reset:    optional; prepare a reused object; 0 on success, otherwise a
 *           discard reason as for validate. */
typedef void *(*objpool_create_fn)(void *user, void *arg);
typedef void (*objpool_destroy_fn)(void *user, void *obj);
typedef int (*objpool_validate_fn)(void *user, void *obj, void *arg);
typedef int (*objpool_reset_fn)(void *user, void *obj, void *arg);

/* Why an object was destroyed. Codes from OBJPOOL_DISCARD_USER up to
 * OBJPOOL_DISCARD_MAX - 1 are free for callers' own reasons. */
enum objpool_discard {
    OBJPOOL_DISCARD_FULL = 0,     /* released into a pool with max_size idle */
    OBJPOOL_DISCARD_EXPIRED,      /* idle longer than idle_timeout */
    OBJPOOL_DISCARD_LIFETIME,     /* older than max_lifetime */
    OBJPOOL_DISCARD_INVALID,      /* validate() said no */
    OBJPOOL_DISCARD_RESET_FAILED, /* reset() failed */
    OBJPOOL_DISCARD_BROKEN,       /* the borrower marked it broken */
    OBJPOOL_DISCARD_CLEARED,      /* objpool_clear() or objpool_free() */
    OBJPOOL_DISCARD_USER = 8,
    OBJPOOL_DISCARD_MAX = 32
};

enum objpool_order { OBJPOOL_LIFO = 0, OBJPOOL_FIFO = 1 };

/* Return values of objpool_release() and friends. */
#define OBJPOOL_PARKED 0
#define OBJPOOL_DESTROYED 1
#define OBJPOOL_ENOTLEASED (-1)

typedef struct objpool_stats {
    uint64_t acquired;        /* successful acquires: hits + misses */
    uint64_t hits;            /* served from the idle list */
    uint64_t misses;          /* served by create() */
    uint64_t create_failures; /* create() returned NULL */
    uint64_t released;        /* releases of a live lease */
    uint64_t parked;          /* releases that kept the object idle */
    uint64_t bad_releases;    /* foreign or double releases (ignored) */
    uint64_t discarded[OBJPOOL_DISCARD_MAX];
    uint64_t create_ns_total; /* time spent in create(), for the mean */
    size_t idle;              /* idle now */
    size_t leased;            /* out on loan now */
    size_t peak_idle;
    size_t peak_leased;
} objpool_stats_t;

OBJPOOL_API objpool_t *objpool_new(objpool_create_fn create, objpool_destroy_fn destroy,
                                   objpool_validate_fn validate, objpool_reset_fn reset,
                                   void *user, size_t max_size);
OBJPOOL_API void *objpool_acquire(objpool_t *pool);
OBJPOOL_API void *objpool_acquire_arg(objpool_t *pool, void *arg);
/* Take an idle object that passes validation; NULL (no create) if none. */
OBJPOOL_API void *objpool_try_acquire(objpool_t *pool, void *arg);
/* The same, among the idle objects whose owner gave them `key` (not 0);
 * the others stay idle. The key is a plain number compared under the
 * pool's lock, so no callback runs there. */
void *objpool_try_acquire_key(objpool_t *pool, uint64_t key, void *arg);
/* Give the leased obj a key; it stays with obj while idle and when taken. */
void objpool_set_key(objpool_t *pool, void *obj, uint64_t key);
/* Two leases trade their objects: their ages (for max_lifetime) trade too. */
void objpool_swap_age(objpool_t *pool, void *a, void *b);
OBJPOOL_API int objpool_release(objpool_t *pool, void *obj);
/* Release and destroy instead of parking, counting `reason`. */
OBJPOOL_API int objpool_discard(objpool_t *pool, void *obj, int reason);
/* Adopt an object made elsewhere as a lease (counted as a miss). */
OBJPOOL_API int objpool_adopt(objpool_t *pool, void *obj, uint64_t create_ns);
/* Take back the adoption of obj, whose creation turned out to have failed
 * (a non-blocking connect refused after it was adopted): the lease is
 * removed, its acquire and miss become a create failure, and obj is
 * destroyed. The create time given to objpool_adopt stays counted: adopt
 * with 0 what may still fail. OBJPOOL_DESTROYED, or OBJPOOL_ENOTLEASED
 * (counted as a bad release) if obj is not out on loan. */
OBJPOOL_API int objpool_adopt_failed(objpool_t *pool, void *obj);
/* Count a create made elsewhere that failed. */
OBJPOOL_API void objpool_note_create_failure(objpool_t *pool);
/* Park an object made elsewhere straight into the idle list (pre-warming). */
OBJPOOL_API int objpool_add_idle(objpool_t *pool, void *obj);
/* Destroy every idle object now (counted as cleared). */
OBJPOOL_API void objpool_clear(objpool_t *pool);
/* Destroy the idle objects past idle_timeout or max_lifetime. */
OBJPOOL_API void objpool_evict_expired(objpool_t *pool);
OBJPOOL_API void objpool_free(objpool_t *pool);

OBJPOOL_API void objpool_set_max_size(objpool_t *pool, size_t max_size);
OBJPOOL_API void objpool_set_idle_timeout_ms(objpool_t *pool, uint64_t ms);  /* 0 = none */
OBJPOOL_API void objpool_set_max_lifetime_ms(objpool_t *pool, uint64_t ms);  /* 0 = none */
OBJPOOL_API void objpool_set_order(objpool_t *pool, enum objpool_order order);
OBJPOOL_API void objpool_get_stats(objpool_t *pool, objpool_stats_t *out);
OBJPOOL_API const char *objpool_discard_name(int reason);
/* Debug hook for foreign and double releases: fn(user, obj) runs, without
 * the pool lock, after the bad release was counted (the core itself does no
 * I/O; log from fn). NULL removes it. */
typedef void (*objpool_bad_release_fn)(void *user, void *obj);
OBJPOOL_API void objpool_set_bad_release_hook(objpool_t *pool, objpool_bad_release_fn fn);
/* Is obj out on loan from this pool right now? */
OBJPOOL_API int objpool_is_leased(objpool_t *pool, void *obj);

/* Visit every object out on loan (under the pool lock: fn must not call
 * back into the pool). */
OBJPOOL_API void objpool_foreach_leased(objpool_t *pool, void (*fn)(void *obj, void *ctx), void *ctx);
/* Visit every idle object and forget it without destroy() (after fork, the
 * child's copies are handled by the caller). */
OBJPOOL_API void objpool_forget_all(objpool_t *pool, void (*fn)(void *obj, void *ctx), void *ctx);
/* Keep the counters in memory the caller gives (e.g. a MAP_SHARED file
 * another process reads): the current values are copied there, and every
 * later change is made there while *seq is odd (a seqlock: a reader takes
 * *seq, copies, takes *seq again, and retries if it was odd or changed).
 * The memory must stay valid for the pool's life. */
OBJPOOL_API void objpool_set_stats_area(objpool_t *pool, objpool_stats_t *st, uint64_t *seq);
/* Reset the counters (a forked child starts its own account). */
OBJPOOL_API void objpool_reset_stats(objpool_t *pool);
/* Reinitialise the lock in a forked child (the parent's holder is gone). */
OBJPOOL_API void objpool_atfork_child(objpool_t *pool);
OBJPOOL_API void objpool_lock(objpool_t *pool);
OBJPOOL_API void objpool_unlock(objpool_t *pool);

/* Scoped borrow, the analogue of `with pool.borrow() as obj:`.
 *
 *   OBJPOOL_BORROW(pool, conn_t *, c) {
 *       if (send_request(c) < 0) { objpool_borrow_broken(c); break; }
 *   }
 *
 * Leaving the block by any path (end, break, return, goto out of it)
 * releases the object; objpool_borrow_broken() makes that release destroy
 * it instead. If the acquire fails the body does not run. */
struct objpool_borrow_scope {
    objpool_t *pool;
    void *obj;
    int broken;
    int done;
};
/* The macro's halves: begin acquires (evaluating `pool` once), end releases
 * or, if broken, discards. Usable directly for a hand-made scope. */
OBJPOOL_API struct objpool_borrow_scope objpool_borrow_begin(objpool_t *pool);
OBJPOOL_API void objpool_borrow_end(struct objpool_borrow_scope *scope);

#define OBJPOOL_CAT_(a, b) a##b
#define OBJPOOL_CAT(a, b) OBJPOOL_CAT_(a, b)
#define OBJPOOL_BORROW(pool, type, var)                                                  \
    for (struct objpool_borrow_scope OBJPOOL_CAT(objpool_scope_, var)                   \
             __attribute__((cleanup(objpool_borrow_end))) = objpool_borrow_begin(pool);    \
         !OBJPOOL_CAT(objpool_scope_, var).done && OBJPOOL_CAT(objpool_scope_, var).obj;  \
         OBJPOOL_CAT(objpool_scope_, var).done = 1)                                       \
        for (type var = (type)OBJPOOL_CAT(objpool_scope_, var).obj; var; var = NULL)

/* Mark the object of the innermost borrow of `var` broken. */
#define objpool_borrow_broken(var) (OBJPOOL_CAT(objpool_scope_, var).broken = 1)

#ifdef __cplusplus
}
#endif
#endif
