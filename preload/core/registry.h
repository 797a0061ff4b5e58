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

/* Room for a kind's own per-object state (struct record.priv). */
#define RECORD_PRIV_SIZE 384
/* LEASED: the program holds it. IDLE: objpool holds it (parked in its
 * pool's idle list, a spare, a home guard). BUSY: an idle object one thread
 * is working on (validating, swapping, destroying, or moving it out of the
 * way of a dup2): whoever moves a record out of IDLE owns its fd number
 * until it leaves BUSY. */
enum record_state { STATE_LEASED = 1, STATE_IDLE, STATE_BUSY };

/* record flags */
#define LF_SHARED 0x01        /* dup'd, inherited or sent: never park */
#define LF_HALF_CLOSED 0x02   /* shutdown(SHUT_RD/WR) or a real SHUT_RDWR */
#define LF_UNOBSERVED 0x08    /* I/O objpool could not account for (MSG_OOB...) */
#define LF_REUSED 0x10        /* handed out from the idle list */
#define LF_FIRST_IO_DONE 0x20 /* the first I/O after a reuse has returned */
#define LF_GONE 0x40          /* the object is already closed; destroy only frees */
#define LF_UNBUFFERED 0x80    /* FILE: program changed buffering/orientation */
#define LF_SPARE 0x100        /* a pristine unconnected socket kept for socket() */
#define LF_CONNECTING 0x200   /* adopted while its connect was in progress (conn/connecting.c) */

/* the last I/O objpool observed on a lease */
enum last_io { IO_NONE = 0, IO_WRITE, IO_READ_DATA, IO_READ_EOF, IO_ERROR };

struct record {
    int fd; /* where the object lives now */
    _Atomic uint8_t kind; /* atomic: a stale reader of a reused record may look at it */
    _Atomic uint8_t state;
    const struct kind_ops *ops; /* what its kind does on close and I/O (lease/lease.h) */
    struct target *target;
    dev_t dev;
    ino_t ino;
    _Atomic int flags;
    _Atomic int inflight;     /* program I/O calls running on it */
    _Atomic int last_io;
    _Atomic uint64_t bytes_out; /* through interposed calls, over its life */
    _Atomic uint64_t bytes_in;
    uint64_t parked_ns;  /* when it went idle */
    uint32_t uses;       /* leases so far, for max_uses */
    uint32_t optmask;    /* socket options ever set on it (conn/sockopt.c) */
    int status_flags;    /* O_NONBLOCK etc. as last known */
    FILE *fp;            /* file pool: the FILE the program holds, if any */
    int open_flags;      /* file pool: the flags it was opened with */
    struct record *home; /* file pool: guards the object's own high fd while leased */
    struct record *next; /* arena free list / graveyard */
    /* what the object's kind keeps per object (a connection's protocol
     * state: conn/protocol.c), opaque here; zeroed by record_alloc */
    _Alignas(8) unsigned char priv[RECORD_PRIV_SIZE];
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

/* Take an idle record for exclusive work on it: IDLE -> BUSY by CAS,
 * waiting out another thread's short BUSY spell. 1 if this thread took it;
 * 0 if it is not idle (leased, or freed): then it is left as it is, and the
 * caller must not put it back to IDLE. */
int record_make_busy(struct record *r);
/* The same without waiting: 1 taken, 0 not idle, -1 busy with another thread. */
int record_try_busy(struct record *r);

/* Move fd to a free number >= reg_floor with FD_CLOEXEC; -1 on failure.
 * The caller registers the new number inside reg_high_enter/leave. */
int reg_move_high(int fd);
/* The high band's lock. objpool takes it shared around making a number in
 * the band and registering it (reg_move_high + reg_set), so that no
 * program dup2/dup3/close_range onto the band, which takes it exclusive,
 * can land between the two and clobber an object objpool believes it
 * holds. Spin locks of atomics: the program's side only ever waits for an
 * allocation in progress (one system call). */
void reg_high_enter(void);
void reg_high_leave(void);
void reg_high_lock(void);
void reg_high_unlock(void);
/* fork: the child has no other thread; it starts unlocked. */
void reg_high_reinit(void);
/* reg_move_high and reg_set of the new number to r (r->fd = it), as one
 * step with respect to the program's replacing calls. */
int reg_place_high(int fd, struct record *r);
/* reg_claim of fd and, if it still held r, the real close of the number
 * (else -1, EBADF: the number is not objpool's), as one step with respect to the program's replacing calls: every number
 * objpool gives up in the band goes this way. */
int reg_close_high(int fd, struct record *r);

/* Records closed on a lock-free path wait here for the next locked moment. */
void graveyard_push(struct record *r);
struct record *graveyard_take(void);

/* Visit every non-empty slot (fork handlers, close_range). */
void reg_foreach(void (*fn)(int fd, struct record *r, void *ctx), void *ctx);
#endif
