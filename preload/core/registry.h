/* registry.h - who owns which fd number, and the records that say so.
 *
 * reg_slots[fd] is NULL for every fd objpool does not own: the pass-through
 * test in every interposer is one bounds check and one atomic load. A
 * non-NULL slot points at the record of the object living at that number:
 * a lease (the program holds it), an idle object (objpool holds it, at a
 * high number with FD_CLOEXEC), a spare socket, the guard of a file's home
 * number, or an internal fd (the log file). docs/design.md draws the
 * states and who may move a record between them.
 *
 * Records come from an mmap'd arena, never malloc. Slots are claimed with
 * compare-and-swap, so two closes racing for one fd cannot both own it.
 * Records closed where no lock may be taken wait in the graveyard (a
 * lock-free stack) for the lease layer to account for them.
 */
#ifndef OBJPOOL_REGISTRY_H
#define OBJPOOL_REGISTRY_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct target;
struct kind_ops;

enum record_kind { KIND_SOCKET = 1, KIND_FILE, KIND_INTERNAL };

/* Room for a kind's own per-object state (struct record.area): each kind
 * lays it out in its own header (conn/internal.h struct conn_rec,
 * file/internal.h struct file_rec) and asserts that it fits. */
#define RECORD_AREA_SIZE 336
/* LEASED: the program holds it. IDLE: objpool holds it (parked in its
 * pool's idle list, a spare, a home guard). BUSY: an idle object one thread
 * is working on (validating, swapping, destroying, or moving it out of the
 * way of a dup2): whoever moves a record out of IDLE owns its fd number
 * until it leaves BUSY. */
enum record_state { STATE_LEASED = 1, STATE_IDLE, STATE_BUSY };

/* record flags every layer reads; a kind defines its own bits from
 * LF_KIND(0) up in its own header (conn/internal.h, file/internal.h) */
#define LF_SHARED 0x01     /* dup'd, inherited or sent: never park */
#define LF_UNOBSERVED 0x02 /* I/O objpool could not account for (MSG_OOB...) */
#define LF_REUSED 0x04     /* handed out from the idle list */
#define LF_GONE 0x08       /* the object is already closed; destroy only frees */
#define LF_KIND(n) (0x100 << (n))

struct slab;

struct record {
    int fd; /* where the object lives now */
    _Atomic uint8_t kind; /* atomic: a stale reader of a reused record may look at it */
    _Atomic uint8_t state;
    const struct kind_ops *ops; /* what its kind does on close and I/O (lease/lease.h) */
    struct target *target;
    dev_t dev; /* the object's identity, compared at release */
    ino_t ino;
    _Atomic int flags;
    int status_flags;    /* O_NONBLOCK etc. as last known */
    uint32_t uses;       /* leases so far, for max_uses */
    uint64_t parked_ns;  /* when it went idle */
    /* state beyond the area, for the pools that need it: a block of a slab
     * (core/slab.h) the kind attaches (record_ext_attach), freed with the
     * record */
    void *ext;
    struct slab *ext_slab;
    struct record *next; /* arena free list / graveyard */
    /* the kind's own per-object state, opaque here; zeroed by record_alloc */
    _Alignas(16) unsigned char area[RECORD_AREA_SIZE];
};

/* hidden: the pass-through test reads them RIP-relative, with no GOT load */
extern _Atomic(struct record *) *reg_slots __attribute__((visibility("hidden")));
extern unsigned reg_nslots __attribute__((visibility("hidden")));
extern int reg_floor __attribute__((visibility("hidden"))); /* idle objects live at fd numbers >= reg_floor */

static inline struct record *reg_get(int fd)
{
    if ((unsigned)fd >= reg_nslots)
        return NULL;
    return atomic_load_explicit(&reg_slots[fd], memory_order_acquire);
}

/* Is fd in the band of high numbers where objpool keeps its objects? */
static inline int reg_in_band(int fd)
{
    return fd >= reg_floor && (unsigned)fd < reg_nslots;
}

/* Does a program's call on fd need nothing from objpool: below the band
 * with no record, or beyond the table? The pass-through test of close,
 * dup and fcntl, one compare fewer than !reg_get && !reg_in_band: the
 * band's floor is 0 until the table exists, so every number then passes. */
static inline int reg_passes(int fd)
{
    if ((unsigned)fd < (unsigned)reg_floor)
        return atomic_load_explicit(&reg_slots[fd], memory_order_acquire) == NULL;
    return (unsigned)fd >= reg_nslots;
}

/* Is the object at this record objpool's own (idle, busy, a spare, a
 * guard, the log)? The program's calls on its number see EBADF. */
static inline int record_is_ours(const struct record *r)
{
    return r->kind == KIND_INTERNAL || atomic_load(&r->state) != STATE_LEASED;
}

int reg_init(unsigned reserve);
void reg_set(int fd, struct record *r);
/* Take fd's slot if it still holds `r`; 1 on success. */
int reg_claim(int fd, struct record *r);

struct record *record_alloc(void);
/* fork: hold the arena lock across it; the child re-initialises it. */
void arena_lock(void);
void arena_unlock(void);
void arena_reinit(void);
void record_free(struct record *r);
/* Give r a zeroed block of `slab` (r->ext), freed with the record. 0, or
 * -1 if none could be had (the kind then destroys rather than keeps state
 * it has nowhere to put). Takes the slab's mutex: not in a signal handler. */
int record_ext_attach(struct record *r, struct slab *slab);

/* Take an idle record for exclusive work on it: IDLE -> BUSY by CAS,
 * waiting out another thread's short BUSY spell. 1 if this thread took it;
 * 0 if it is not idle (leased, or freed): then it is left as it is, and the
 * caller must not put it back to IDLE. */
int record_make_busy(struct record *r);
/* The same without waiting: 1 taken, 0 not idle, -1 busy with another thread. */
int record_try_busy(struct record *r);

/* Records closed on a lock-free path wait here for the next locked moment. */
void graveyard_push(struct record *r);
struct record *graveyard_take(void);

/* Visit every non-empty slot (fork handlers, close_range). */
void reg_foreach(void (*fn)(int fd, struct record *r, void *ctx), void *ctx);

/* A table beside the registry, one entry of entry_size bytes per fd number
 * (what a kind keeps per number whether or not objpool holds it: epoll
 * registrations, socket options seen), zeroed, mapped MAP_NORESERVE so
 * pages never written cost nothing; NULL if it cannot be mapped. Call
 * after reg_init. REG_SIDE(table, fd) is fd's entry, or NULL beyond the
 * table or without one. */
void *reg_side_table(size_t entry_size);
#define REG_SIDE(table, fd) ((table) && (unsigned)(fd) < reg_nslots ? &(table)[(fd)] : NULL)

/* The band of high numbers and its lock: the rest of the ownership
 * protocol, beside the registry. */
#include "band.h"
#endif
