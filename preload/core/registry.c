/* registry.c - the fd table, the record arena and the graveyard (see
 * registry.h). Lock-free but for one mutex around arena pops. */
#include "registry.h"

#include "slab.h"

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

_Atomic(struct record *) *reg_slots;
unsigned reg_nslots;
int reg_floor;

/* A cap on the table: fds above it are simply never pooled. 64k slots is
 * 512 KiB of address space, of which only touched pages cost memory. */
#define REG_MAX_SLOTS 65536u

int reg_init(unsigned reserve)
{
    struct rlimit rl;
    unsigned n = REG_MAX_SLOTS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n)
        n = (unsigned)rl.rlim_cur;
    if (n < 64)
        return -1;
    void *p = mmap(NULL, (size_t)n * sizeof *reg_slots, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    /* The idle band sits at the top of the fd space, below the soft limit,
     * at most a quarter of it, so the program's own numbering never meets it. */
    if (reserve > n / 4)
        reserve = n / 4;
    if (reserve < 8)
        reserve = 8;
    reg_slots = p;
    atomic_thread_fence(memory_order_release);
    reg_nslots = n;
    /* last: reg_passes reads the table once the floor is above 0 */
    atomic_thread_fence(memory_order_release);
    reg_floor = (int)(n - reserve);
    return 0;
}

void reg_set(int fd, struct record *l)
{
    if ((unsigned)fd < reg_nslots)
        atomic_store_explicit(&reg_slots[fd], l, memory_order_release);
}

int reg_claim(int fd, struct record *l)
{
    if ((unsigned)fd >= reg_nslots)
        return 0;
    struct record *want = l;
    return atomic_compare_exchange_strong(&reg_slots[fd], &want, NULL);
}

int record_make_busy(struct record *l)
{
    for (;;) {
        uint8_t want = STATE_IDLE;
        if (atomic_compare_exchange_weak(&l->state, &want, STATE_BUSY))
            return 1;
        if (want != STATE_IDLE && want != STATE_BUSY)
            return 0; /* not idle at all (leased, or freed): nothing to exclude */
        sched_yield();
    }
}

int record_try_busy(struct record *l)
{
    uint8_t want = STATE_IDLE;
    if (atomic_compare_exchange_strong(&l->state, &want, STATE_BUSY))
        return 1;
    return want == STATE_BUSY ? -1 : 0;
}

void reg_foreach(void (*fn)(int fd, struct record *l, void *ctx), void *ctx)
{
    for (unsigned i = 0; i < reg_nslots; i++) {
        struct record *l = atomic_load_explicit(&reg_slots[i], memory_order_acquire);
        if (l)
            fn((int)i, l, ctx);
    }
}

/* ---- the arena ---------------------------------------------------------
 * Allocation takes a mutex (it never runs on the re-entrant path); freeing
 * is a lock-free push, so a signal handler may free. Only the allocator pops,
 * one at a time under the mutex, so the pop cannot suffer ABA. */
static pthread_mutex_t arena_lock_ = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct record *) free_list;

#define ARENA_CHUNK 128

/* The current chunk is carved front to back on demand, so a process that
 * pools a handful of objects touches one page of records, not the chunk. */
static struct record *chunk_next, *chunk_end;

static void push(_Atomic(struct record *) *head, struct record *l)
{
    struct record *old = atomic_load(head);
    do
        l->next = old;
    while (!atomic_compare_exchange_weak(head, &old, l));
}

/* A reused record starts afresh. A thread may still hold a stale pointer
 * to it from a slot it read before the record was freed (records are never
 * unmapped): it only looks at the atomic fields, the kind's area included
 * (a connection's I/O counters), and acts only after a CAS of the state and
 * a second look at the slot, so those fields and the area are reset with
 * atomic stores and only the rest is zeroed in bulk. */
static void record_clear(struct record *l)
{
    atomic_store_explicit(&l->state, 0, memory_order_relaxed);
    atomic_store_explicit(&l->flags, 0, memory_order_relaxed);
    l->fd = -1;
    atomic_store_explicit(&l->kind, 0, memory_order_relaxed);
    l->ops = NULL;
    l->target = NULL;
    l->dev = 0;
    l->ino = 0;
    memset(&l->status_flags, 0, offsetof(struct record, area) - offsetof(struct record, status_flags));
    _Static_assert(RECORD_AREA_SIZE % sizeof(uint64_t) == 0, "the area clears in words");
    uint64_t *w = (uint64_t *)(void *)l->area;
    for (size_t i = 0; i < RECORD_AREA_SIZE / sizeof *w; i++)
        __atomic_store_n(&w[i], 0, __ATOMIC_RELAXED);
}

struct record *record_alloc(void)
{
    pthread_mutex_lock(&arena_lock_);
    struct record *l = atomic_load(&free_list);
    while (l && !atomic_compare_exchange_weak(&free_list, &l, l->next))
        ;
    if (!l) {
        if (chunk_next == chunk_end) {
            struct record *chunk = mmap(NULL, ARENA_CHUNK * sizeof *chunk, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (chunk != MAP_FAILED) {
                chunk_next = chunk;
                chunk_end = chunk + ARENA_CHUNK;
            }
        }
        if (chunk_next != chunk_end)
            l = chunk_next++;
    }
    pthread_mutex_unlock(&arena_lock_);
    if (l)
        record_clear(l);
    return l;
}

/* The slabs records' extra state comes from are allocated from with
 * the arena: fork holds them all. */
void arena_lock(void)
{
    pthread_mutex_lock(&arena_lock_);
    slab_lock_all();
}

void arena_unlock(void)
{
    slab_unlock_all();
    pthread_mutex_unlock(&arena_lock_);
}

void arena_reinit(void)
{
    pthread_mutex_init(&arena_lock_, NULL);
    slab_reinit_all();
}

int record_ext_attach(struct record *l, struct slab *slab)
{
    void *p = slab_alloc(slab);
    if (!p)
        return -1;
    l->ext_slab = slab;
    l->ext = p;
    return 0;
}

void record_free(struct record *l)
{
    /* lock-free, like the push below: a signal handler may free a record */
    if (l->ext) {
        slab_free(l->ext_slab, l->ext);
        l->ext = NULL;
    }
    /* no longer IDLE or BUSY: a thread waiting to take it stops waiting */
    atomic_store(&l->state, 0);
    push(&free_list, l);
}

/* ---- the graveyard ---------------------------------------------------- */
static _Atomic(struct record *) graveyard;

void graveyard_push(struct record *l)
{
    push(&graveyard, l);
}

struct record *graveyard_take(void)
{
    if (!atomic_load_explicit(&graveyard, memory_order_relaxed))
        return NULL;
    return atomic_exchange(&graveyard, NULL);
}

/* ---- side tables ------------------------------------------------------- */
void *reg_side_table(size_t entry_size)
{
    if (!reg_nslots)
        return NULL;
    void *p = mmap(NULL, (size_t)reg_nslots * entry_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
