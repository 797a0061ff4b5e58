/* pool_sets.c - where the generic pool keeps its objects: the lease set
 * (leased objects, open addressing with linear probing) and the idle ring
 * (grown on demand up to max_size), and the expiry test of an idle entry.
 * Memory from mmap, never malloc (pool.c says why). Every function runs
 * under the pool's lock. */
#include "pool_internal.h"

#include <string.h>
#include <sys/mman.h>

void *map_zero(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* This object's lifetime: max_lifetime less its share of the jitter. */
static uint64_t lifetime_of(const objpool_t *p, const struct entry *e)
{
    uint64_t spread = p->max_lifetime_ns / 10;
    return p->max_lifetime_ns - (uint64_t)(((unsigned __int128)spread * e->jitter) >> 32);
}

int past_lifetime(const objpool_t *p, const struct entry *e, uint64_t now)
{
    return p->max_lifetime_ns && now - e->created_ns >= lifetime_of(p, e);
}

/* a + b, saturating: a deadline past the clock's range is "never". */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The same two tests as expiry_reason, solved for `now`. */
uint64_t expiry_deadline(const objpool_t *p, const struct entry *e)
{
    uint64_t at = UINT64_MAX;
    if (p->idle_timeout_ns)
        at = add_sat(e->parked_ns, add_sat(p->idle_timeout_ns, 1));
    if (p->max_lifetime_ns) {
        uint64_t end = add_sat(e->created_ns, lifetime_of(p, e));
        if (end < at)
            at = end;
    }
    return at;
}

static size_t slot_of(const void *obj, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)obj * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (cap - 1);
}

struct entry *lease_find(objpool_t *p, const void *obj)
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

int lease_add(objpool_t *p, const struct entry *e)
{
    if ((p->lease_count + 1) * 2 > p->lease_cap && lease_grow(p) < 0)
        return -1;
    lease_put_raw(p->leases, p->lease_cap, e);
    p->lease_count++;
    p->st->leased = p->lease_count;
    if (p->st->leased > p->st->peak_leased)
        p->st->peak_leased = p->st->leased;
    return 0;
}

/* Remove by backward shift, so lookups never meet tombstones. */
void lease_remove(objpool_t *p, struct entry *e)
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
    p->st->leased = p->lease_count;
}

/* ---- the idle ring ---------------------------------------------------- */

/* Make room for one more idle entry: the ring doubles (from 16) up to
 * max_size, so a large max_size (SIZE_MAX for "no bound") costs nothing up
 * front. -1 if it cannot grow: the caller treats the pool as full. */
int idle_reserve(objpool_t *p)
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
void idle_push(objpool_t *p, const struct entry *e)
{
    size_t tail = (p->idle_head + p->idle_count) % p->idle_cap;
    p->idle[tail] = *e;
    p->idle_count++;
    uint64_t at = expiry_deadline(p, e);
    if (at < p->next_expiry_ns)
        p->next_expiry_ns = at;
    p->st->idle = p->idle_count;
    if (p->st->idle > p->st->peak_idle)
        p->st->peak_idle = p->st->idle;
}

int idle_pop(objpool_t *p, struct entry *out)
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
    p->st->idle = p->idle_count;
    return 1;
}

int idle_take_key(objpool_t *p, uint64_t key, struct entry *out)
{
    for (size_t i = p->idle_count; key && i-- > 0;) {
        if (p->idle[(p->idle_head + i) % p->idle_cap].key != key)
            continue;
        *out = p->idle[(p->idle_head + i) % p->idle_cap];
        for (size_t j = i; j + 1 < p->idle_count; j++) /* close the gap */
            p->idle[(p->idle_head + j) % p->idle_cap] = p->idle[(p->idle_head + j + 1) % p->idle_cap];
        p->idle_count--;
        p->st->idle = p->idle_count;
        return 1;
    }
    return 0;
}

/* 0 if still fresh, else the discard reason. */
int expiry_reason(objpool_t *p, const struct entry *e, uint64_t now)
{
    if (p->idle_timeout_ns && now - e->parked_ns > p->idle_timeout_ns)
        return OBJPOOL_DISCARD_EXPIRED;
    if (past_lifetime(p, e, now))
        return OBJPOOL_DISCARD_LIFETIME;
    return 0;
}

void count_discard(objpool_t *p, int reason)
{
    if (reason < 0 || reason >= OBJPOOL_DISCARD_MAX)
        reason = OBJPOOL_DISCARD_INVALID;
    p->st->discarded[reason]++;
}

