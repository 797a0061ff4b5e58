/* band.c - the fd band's lock and every call that makes, gives up or
 * settles a number under it (see band.h and docs/design.md). */
#include "band.h"

#include "registry.h"

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdint.h>

/* ---- the lock ---------------------------------------------------------- */
static _Atomic int high_readers, high_writer;
/* This thread holds the band exclusive: its own objpool work under it (a
 * discard that closes an idle number) must not wait for itself. */
static __thread int high_writer_here __attribute__((tls_model("initial-exec")));
/* Shared holds nest (a swap closing its idle number while it keeps the
 * program's fresh socket high): only the outermost one counts, since an
 * inner one would wait for a writer that waits for the outer one. */
static __thread int high_read_depth __attribute__((tls_model("initial-exec")));

void reg_high_enter(void)
{
    if (high_writer_here || high_read_depth++ > 0)
        return;
    for (;;) {
        while (atomic_load(&high_writer))
            sched_yield();
        atomic_fetch_add(&high_readers, 1);
        if (!atomic_load(&high_writer))
            return;
        atomic_fetch_sub(&high_readers, 1); /* a writer came first: let it go */
    }
}

void reg_high_leave(void)
{
    if (!high_writer_here && --high_read_depth == 0)
        atomic_fetch_sub(&high_readers, 1);
}

void reg_high_lock(void)
{
    int free_ = 0;
    while (!atomic_compare_exchange_weak(&high_writer, &free_, 1)) {
        free_ = 0;
        sched_yield();
    }
    while (atomic_load(&high_readers))
        sched_yield();
    high_writer_here = 1;
}

void reg_high_unlock(void)
{
    high_writer_here = 0;
    atomic_store(&high_writer, 0);
}

void reg_high_reinit(void)
{
    high_writer_here = 0;
    high_read_depth = 0;
    atomic_store(&high_readers, 0);
    atomic_store(&high_writer, 0);
}

/* ---- objpool's side: shared --------------------------------------------- */
int reg_move_high(int fd)
{
    return real.fcntl(fd, F_DUPFD_CLOEXEC, reg_floor);
}

int reg_place_high(int fd, struct record *l)
{
    reg_high_enter();
    int hi = reg_move_high(fd);
    if (hi >= 0) {
        l->fd = hi;
        reg_set(hi, l);
    }
    reg_high_leave();
    return hi;
}

/* The number leaves the registry and its object closes as one step, for
 * the same reason: between a bare reg_claim and real.close the number
 * looks free to the program's dup2 onto the band, which would put its
 * object there just in time for objpool's close to destroy it. */
int reg_close_high(int fd, struct record *l)
{
    reg_high_enter();
    /* a slot that no longer holds l: the number is not ours to close */
    int rc = reg_claim(fd, l) ? real.close(fd) : (errno = EBADF, -1);
    int err = errno;
    reg_high_leave();
    errno = err;
    return rc;
}

/* ---- the program's side: exclusive -------------------------------------- */
static const struct band_hooks *hooks;

void band_hooks_set(const struct band_hooks *h)
{
    hooks = h;
}

static int not_open(void)
{
    errno = EBADF;
    return -1;
}

/* A copy of a number objpool does not hold, for the layers above. */
static void plain_copy(int fd)
{
    if (hooks && hooks->plain_copy)
        hooks->plain_copy(fd);
}

/* What a band number holds, for a program's call on it. The caller holds
 * the band's lock exclusive, so the answer stays true until it lets go:
 * objpool makes a number there and registers it, or claims one and closes
 * it, only under the shared lock (reg_place_high, reg_close_high), and a
 * record there does not become a lease meanwhile (a hit claims the idle
 * number before it stores LEASED). Outside the lock a record seen a moment
 * ago proves nothing: its number may be closed and made again by now. */
enum band_view { BAND_FREE, BAND_OURS, BAND_LEASE };

static enum band_view band_view(int fd, struct record **lp)
{
    struct record *l = reg_get(fd);
    *lp = l;
    if (!l)
        return BAND_FREE; /* the program's number, or nothing */
    return record_is_ours(l) ? BAND_OURS : BAND_LEASE;
}

/* Is this a program's call on a band number, to be settled under the
 * band's lock? Not inside objpool (a signal handler there would wait for
 * itself), nor in a vfork child (its fd table is its own). */
static inline int settle_in_band(int fd)
{
    return reg_in_band(fd) && !in_objpool && !in_vfork_child();
}

/* close of a band number: the real close of a number that is the
 * program's, EBADF for objpool's, a lease's release after the lock. */
static int close_in_band(int fd)
{
    struct record *l;
    reg_high_lock();
    enum band_view v = band_view(fd, &l);
    int rc = v == BAND_FREE ? real.close(fd) : -1;
    int err = errno;
    reg_high_unlock();
    if (v == BAND_OURS)
        return not_open();
    if (v == BAND_LEASE)
        return hooks->lease_close(fd, l); /* the program's own: only it moves it */
    errno = err;
    return rc;
}

int band_close(int fd)
{
    if (settle_in_band(fd))
        return close_in_band(fd);
    struct record *l = reg_get(fd);
    if (!l || in_vfork_child())
        return real.close(fd); /* a vfork child's fd table is its own */
    if (record_is_ours(l))
        return not_open();
    return hooks->lease_close(fd, l);
}

/* The number `fd` is about to be replaced by the program (dup2/dup3 onto
 * it). Move an idle object there out of the way; a lease there is closed
 * by the kernel, so it is forgotten and counted. The caller holds the high
 * band's lock when fd is in the band, so no number objpool is making there
 * can land here meanwhile (docs/design.md, "A record's states"). -1 while
 * another thread works on the object there. */
static int clear_target_number(int fd)
{
    struct record *l = reg_get(fd);
    if (!l || in_vfork_child())
        return 0;
    if (l->kind == KIND_INTERNAL) {
        /* the log file: moved, or (no number left) closed by the kernel,
         * and the log goes to stderr rather than into the program's object */
        int hi = reg_move_high(fd);
        if (reg_claim(fd, l)) {
            l->fd = hi;
            log_fd = hi >= 0 ? hi : 2;
            if (hi >= 0)
                reg_set(hi, l);
        } else if (hi >= 0) {
            real.close(hi);
        }
        return 0;
    }
    if (atomic_load(&l->state) == STATE_LEASED) {
        hooks->lease_forget(fd, l); /* the kernel closes it */
        return 0;
    }
    int took = record_try_busy(l);
    if (took < 0)
        return -1; /* another thread is working on it: let it finish first */
    if (!took)
        return 0; /* leased meanwhile (a hit moved it to the program's number) or freed */
    if (reg_get(fd) == l && l->fd == fd) {
        int hi = reg_move_high(fd);
        if (hi >= 0) {
            l->fd = hi;
            reg_set(hi, l);
        } else {
            atomic_fetch_or(&l->flags, LF_GONE); /* the kernel closes it */
        }
        reg_claim(fd, l);
    }
    atomic_store(&l->state, STATE_IDLE); /* this thread took it IDLE -> BUSY */
    return 0;
}

/* A copy of a lease exists now: it may never be parked. -1 for objpool's
 * own number (the program's call sees EBADF). */
static int note_copy(int fd)
{
    struct record *l = reg_get(fd);
    if (!l)
        return 0;
    if (record_is_ours(l))
        return -1;
    atomic_fetch_or(&l->flags, LF_SHARED);
    return 0;
}

/* dup2 or dup3 (is3) onto newfd, with objpool's objects out of the way.
 * Onto the band, under its lock: objpool may be making a number there. A
 * signal handler inside objpool on this thread takes no lock (it would wait
 * for itself). */
int band_dup_onto(int oldfd, int newfd, int flags, int is3)
{
    int band = (reg_in_band(newfd) || reg_in_band(oldfd)) && !in_objpool;
    for (;;) {
        if (band)
            reg_high_lock();
        /* under the lock: an unheld band number being made by objpool
         * right now is either registered (EBADF) or not there at all */
        if (note_copy(oldfd) < 0) {
            if (band)
                reg_high_unlock();
            return not_open();
        }
        if (oldfd == newfd || clear_target_number(newfd) == 0)
            break;
        /* an object there is busy (a hit, a park): it may need the band's
         * lock to finish, so wait for it without holding the lock */
        if (band)
            reg_high_unlock();
        sched_yield();
    }
    int rc = is3 ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
    int err = errno;
    if (band)
        reg_high_unlock();
    errno = err;
    return rc;
}

/* dup of fd, as the program asked: its own number is copied (noted), a
 * lease's copy makes it shared, objpool's number is EBADF. */
static int dup_checked(int fd)
{
    if (!reg_get(fd)) {
        plain_copy(fd);
        return real.dup(fd);
    }
    if (note_copy(fd) < 0)
        return not_open();
    return real.dup(fd);
}

/* dup of a band number is decided and made under the band's lock. */
int band_dup(int fd)
{
    if (!settle_in_band(fd))
        return dup_checked(fd);
    reg_high_lock();
    int rc = dup_checked(fd);
    int err = errno;
    reg_high_unlock();
    errno = err;
    return rc;
}

/* fcntl's third argument is an int or a pointer depending on cmd; like
 * glibc, carry it as a pointer-sized value. fd holds a record, or held one
 * when the caller looked. */
static int fcntl_owned(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    struct record *l = reg_get(fd);
    if (!l || in_vfork_child()) {
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
            plain_copy(fd);
        return fn(fd, cmd, arg); /* gone since the caller looked: not ours */
    }
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        if (note_copy(fd) < 0)
            return not_open();
        return fn(fd, cmd, arg);
    }
    if (record_is_ours(l))
        return not_open();
    int rc = fn(fd, cmd, arg);
    if (rc >= 0)
        hooks->lease_fcntl(l, cmd, (long)(intptr_t)arg);
    return rc;
}

/* fcntl of a band number: decided and made under the band's lock, so a
 * number objpool makes or gives up there at this moment never answers. */
int band_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    if (!settle_in_band(fd))
        return fcntl_owned(fn, fd, cmd, arg);
    reg_high_lock();
    int rc = fcntl_owned(fn, fd, cmd, arg);
    int err = errno;
    reg_high_unlock();
    errno = err;
    return rc;
}

/* A lease inside a close_range: closed as close() would, or given
 * FD_CLOEXEC as CLOSE_RANGE_CLOEXEC asks. */
static void close_lease_in_range(int fd, struct record *l, int flags)
{
    if (flags & CLOSE_RANGE_CLOEXEC)
        real.fcntl(fd, F_SETFD, FD_CLOEXEC);
    else
        hooks->lease_close(fd, l);
}

/* One band number of a close_range, under the band's lock, so a number
 * objpool is making is never closed with the program's. */
static void close_range_band_number(int fd, int flags)
{
    reg_high_lock();
    struct record *b;
    enum band_view v = band_view(fd, &b);
    if (v == BAND_FREE && (flags & CLOSE_RANGE_CLOEXEC))
        real.fcntl(fd, F_SETFD, FD_CLOEXEC);
    else if (v == BAND_FREE)
        real.close(fd);
    reg_high_unlock();
    if (v == BAND_LEASE)
        close_lease_in_range(fd, b, flags);
}

/* close_range over a span holding objpool's fds: close the program's own
 * numbers as asked (in gaps, so one call per run), leave idle and internal
 * fds alone, and close leases the way close() would. Flags such as
 * CLOSE_RANGE_CLOEXEC apply to the program's numbers only (ours have
 * FD_CLOEXEC already). The caller checked first < reg_nslots, first <= last. */
int band_close_range(unsigned first, unsigned last, int flags)
{
    if (in_vfork_child())
        return real.close_range(first, last, flags);
    unsigned top = last < reg_nslots ? last : reg_nslots - 1;
    unsigned gap = first;
    int rc = 0;
    for (unsigned fd = first; fd <= top; fd++) {
        if (reg_in_band((int)fd) && !in_objpool) {
            /* the band: number by number */
            if (fd > gap && real.close_range(gap, fd - 1, flags) < 0)
                rc = -1;
            gap = fd + 1;
            close_range_band_number((int)fd, flags);
        } else {
            struct record *l = reg_get((int)fd);
            if (!l)
                continue;
            if (fd > gap && real.close_range(gap, fd - 1, flags) < 0)
                rc = -1;
            gap = fd + 1;
            if (!record_is_ours(l))
                close_lease_in_range((int)fd, l, flags);
        }
        if (fd == top)
            break;
    }
    if (gap <= last && gap >= first && real.close_range(gap, last, flags) < 0)
        rc = -1;
    return rc;
}
