/* pool_internal.h - the generic pool's insides, shared by its files:
 * pool.c (the API: acquire, release, expiry), pool_sets.c (the lease set
 * and the idle ring) and pool_admin.c (stats, iteration, fork, borrow). */
#ifndef OBJPOOL_POOL_INTERNAL_H
#define OBJPOOL_POOL_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "objpool.h"

struct entry {
    void *obj;
    uint64_t created_ns;
    uint64_t jitter;      /* this object's share of the lifetime jitter, 0..2^32-1 */
    uint64_t parked_ns;   /* when it went idle (idle ring only) */
    uint64_t key;         /* the owner's key (objpool_set_key), 0: none */
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
    /* No idle object expires before this (a lower bound, never late): an
     * eviction pass before it returns without scanning the ring. Lowered by
     * every push, set exactly by a scan, 0 ("scan") when a setting changes. */
    uint64_t next_expiry_ns;

    struct entry *idle; /* ring of idle_cap entries, grown on demand up to max_size */
    size_t idle_cap, idle_head, idle_count;

    struct entry *leases; /* open addressing, linear probing, cap is 2^k */
    size_t lease_cap, lease_count;

    /* The counters, and the sequence word a reader of them checks: in the
     * pool itself (st_local, seq_local) unless objpool_set_stats_area put
     * them elsewhere (the preload's live-stats mapping). Written only under
     * `lock`; pool_lock makes seq odd, pool_unlock even again. */
    objpool_stats_t *st;
    uint64_t *seq;
    objpool_stats_t st_local;
    uint64_t seq_local;

    /* The first ring and lease table live inside the pool: with the rest of
     * the struct they fill one page, where three separate mappings would
     * take three (the idle and lease counts of most pools stay small). */
    struct entry idle0[16];
    struct entry leases0[64];
};

/* Every change to the counters happens between these two: the sequence
 * word is odd while the lock is held (a seqlock for readers in another
 * process, which cannot take the mutex), even once the changes are
 * published. Two plain stores on x86: no system call, no extra atomic RMW. */
static inline void pool_lock(objpool_t *p)
{
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(p->seq, *p->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void pool_unlock(objpool_t *p)
{
    __atomic_store_n(p->seq, *p->seq + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&p->lock);
}

/* pool_sets.c: the lease set (open addressing) and the idle ring; every
 * call under p->lock. */
void *map_zero(size_t bytes);
struct entry *lease_find(objpool_t *p, const void *obj);
int lease_add(objpool_t *p, const struct entry *e);
void lease_remove(objpool_t *p, struct entry *e);
int idle_reserve(objpool_t *p);
void idle_push(objpool_t *p, const struct entry *e);
int idle_pop(objpool_t *p, struct entry *out);
/* Take out the newest idle entry whose key is `key` (never 0). */
int idle_take_key(objpool_t *p, uint64_t key, struct entry *out);
/* Why an idle object may not be reused now (expired, past its lifetime), or 0. */
int expiry_reason(objpool_t *p, const struct entry *e, uint64_t now);
/* The first moment expiry_reason(p, e, now) can be non-zero; UINT64_MAX
 * when neither idle_timeout nor max_lifetime is set. */
uint64_t expiry_deadline(const objpool_t *p, const struct entry *e);
/* Is this object older than max_lifetime (less its jitter)? */
int past_lifetime(const objpool_t *p, const struct entry *e, uint64_t now);
void count_discard(objpool_t *p, int reason);
#endif
