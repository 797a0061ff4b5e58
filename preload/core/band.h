/* band.h - the fd band's ownership protocol, in one room.
 *
 * Idle objects, spares, guards and the log file live at high numbers,
 * fd >= reg_floor: the band. objpool makes a number there and registers it
 * (reg_place_high), or claims one and closes it (reg_close_high), only
 * under the band's lock held shared; every program call that manages a
 * band number (close, dup, dup2/dup3 from or onto it, fcntl, close_range
 * across it) is decided and made under the lock held exclusive (band_*
 * below), so it never lands between objpool's make-and-register or
 * claim-and-close. docs/design.md ("The high band's lock") tells the whole
 * protocol; this file and band.c are all of its code.
 *
 * The lease layer's part of a program call (closing or forgetting a lease,
 * what an fcntl means to its kind, noting a copy of a plain number) comes
 * through struct band_hooks, set once at start-up by interpose/. */
#ifndef OBJPOOL_BAND_H
#define OBJPOOL_BAND_H

struct record;

/* Move fd to a free number >= reg_floor with FD_CLOEXEC; -1 on failure.
 * The caller registers the new number inside reg_high_enter/leave. */
int reg_move_high(int fd);
/* The band's lock, shared (objpool's side) and exclusive (the program's).
 * Spin locks of atomics: the program's side only ever waits for an
 * allocation in progress (one system call). Shared holds nest on one
 * thread; a thread holding it exclusive passes its own shared takes. */
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
 * (else -1, EBADF: the number is not objpool's), as one step with respect
 * to the program's replacing calls: every number objpool gives up in the
 * band goes this way. */
int reg_close_high(int fd, struct record *r);

/* What the layers above do for a program's call on a lease or a plain
 * number; called with the band's lock held where the band is involved,
 * except lease_close, which always runs after the lock is let go. */
struct band_hooks {
    int (*lease_close)(int fd, struct record *r);          /* close() of a lease */
    void (*lease_forget)(int fd, struct record *r);        /* the kernel closes the lease at fd */
    void (*lease_fcntl)(struct record *r, int cmd, long arg); /* an fcntl that succeeded on a lease */
    void (*plain_copy)(int fd);                             /* a copy of a number objpool does not hold */
};
void band_hooks_set(const struct band_hooks *hooks);

/* The program's calls on a number that holds a record or lies in the band
 * (the interposers' pass-through tests failed): as the call would do
 * without objpool, with objpool's own numbers EBADF and leases released,
 * shared or forgotten as their kind says. errno as the call sets it. */
int band_close(int fd);
int band_dup(int fd);
int band_dup_onto(int oldfd, int newfd, int flags, int is3);
int band_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg);
int band_close_range(unsigned first, unsigned last, int flags);
#endif
