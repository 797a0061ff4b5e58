/* fd.c - close and the calls that copy or replace fd numbers.
 *
 * Who owns which number (see docs/design.md): a slot in the registry means
 * objpool owns the object at that number. The program's calls keep their
 * meaning as if objpool were not there:
 *   close(idle or internal fd)   EBADF, as for a number never opened
 *   close(lease)                 park or discard (lease_close, by its kind)
 *   dup*(lease)                  the lease becomes shared: never parked
 *   dup2/dup3(x, idle fd)        the idle object moves to another high
 *                                number first, then the program's call runs
 *   close_range/closefrom        skip idle fds, close leases as close() would
 */
#include <fcntl.h>
#include <sched.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <unistd.h>

#include "../base/log.h"
#include "../conn/conn.h"
#include "interpose.h"
#include "sys.h"

static int not_open(void)
{
    errno = EBADF;
    return -1;
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
    return unlikely(reg_in_band(fd)) && !in_objpool && !in_vfork_child();
}

/* close of a band number: the real close of a number that is the
 * program's, EBADF for objpool's, a lease's release after the lock. */
static __attribute__((noinline)) int close_in_band(int fd)
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
        return lease_close(fd, l, NULL); /* the program's own: only it moves it */
    errno = err;
    return rc;
}

/* close of a number that holds a record or lies in the band: out of line,
 * so the pass-through close sets up no stack frame. */
static __attribute__((noinline)) int close_owned(int fd, struct record *l)
{
    if (settle_in_band(fd))
        return close_in_band(fd);
    if (!l || in_vfork_child())
        return real.close(fd); /* a vfork child's fd table is its own */
    if (record_is_ours(l))
        return not_open();
    return lease_close(fd, l, NULL);
}

OBJPOOL_EXPORT int close(int fd)
{
    if (likely(reg_passes(fd)))
        return real.close(fd);
    return close_owned(fd, reg_get(fd));
}

/* The number `fd` is about to be replaced by the program (dup2/dup3 onto
 * it). Move an idle object there out of the way; a lease there is closed
 * by the kernel, so it is forgotten and counted. The caller holds the high
 * band's lock when fd is in the band, so no number objpool is making there
 * can land here meanwhile (docs/design.md, "A record's states"). */
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
        lease_forget(fd, l, 0, 0); /* the kernel closes it */
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

/* A copy of a lease exists now: it may never be parked. */
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
static int dup_onto(int oldfd, int newfd, int flags, int is3)
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


/* A copy of an fd the program holds, when connection pools exist: see
 * conn_note_copy. The dup family is rare enough for this store. */
static void note_plain_copy(int fd)
{
    if (conn_ntargets)
        conn_note_copy(fd);
}

/* dup2/dup3 put a new object at newfd: a copy, and the epoll records of
 * the object that was there are forgotten. */
static void note_replaced(int oldfd, int newfd)
{
    note_plain_copy(oldfd);
    if (conn_ntargets && oldfd != newfd) {
        conn_note_copy(newfd);
        conn_epoll_forget(newfd);
    }
}

/* dup of fd, as the program asked: its own number is copied (noted), a
 * lease's copy makes it shared, objpool's number is EBADF. */
static int dup_checked(int fd)
{
    if (!reg_get(fd)) {
        note_plain_copy(fd);
        return real.dup(fd);
    }
    if (note_copy(fd) < 0)
        return not_open();
    return real.dup(fd);
}

/* dup of a band number: decided and made under the band's lock. */
static __attribute__((noinline)) int dup_in_band(int fd)
{
    reg_high_lock();
    int rc = dup_checked(fd);
    int err = errno;
    reg_high_unlock();
    errno = err;
    return rc;
}

OBJPOOL_EXPORT int dup(int fd)
{
    if (likely(reg_passes(fd))) {
        note_plain_copy(fd);
        return real.dup(fd);
    }
    if (settle_in_band(fd))
        return dup_in_band(fd);
    return dup_checked(fd);
}

OBJPOOL_EXPORT int dup2(int oldfd, int newfd)
{
    note_replaced(oldfd, newfd);
    if (likely(reg_passes(oldfd) && reg_passes(newfd)))
        return real.dup2(oldfd, newfd);
    return dup_onto(oldfd, newfd, 0, 0);
}

OBJPOOL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    note_replaced(oldfd, newfd);
    if (likely(reg_passes(oldfd) && reg_passes(newfd)))
        return real.dup3(oldfd, newfd, flags);
    return dup_onto(oldfd, newfd, flags, 1);
}

/* fcntl's third argument is an int or a pointer depending on cmd; like
 * glibc, carry it as a pointer-sized value. fd holds a record, or held one
 * when the caller looked. */
static int fcntl_owned(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    struct record *l = reg_get(fd);
    if (!l || in_vfork_child()) {
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
            note_plain_copy(fd);
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
    if (rc >= 0 && l->ops && l->ops->fcntl)
        l->ops->fcntl(l, cmd, (long)(intptr_t)arg);
    return rc;
}

/* fcntl of a band number: decided and made under the band's lock, so a
 * number objpool makes or gives up there at this moment never answers. */
static __attribute__((noinline)) int fcntl_in_band(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    reg_high_lock();
    int rc = fcntl_owned(fn, fd, cmd, arg);
    int err = errno;
    reg_high_unlock();
    errno = err;
    return rc;
}

/* fcntl and fcntl64 differ only in the libc function they end in. */
static int fcntl_via(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    if (likely(reg_passes(fd))) {
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
            note_plain_copy(fd);
        return fn(fd, cmd, arg);
    }
    if (settle_in_band(fd))
        return fcntl_in_band(fn, fd, cmd, arg);
    return fcntl_owned(fn, fd, cmd, arg);
}

OBJPOOL_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_via(real.fcntl, fd, cmd, arg);
}

OBJPOOL_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_via(real.fcntl64, fd, cmd, arg);
}

/* A lease inside a close_range: closed as close() would, or given
 * FD_CLOEXEC as CLOSE_RANGE_CLOEXEC asks. */
static void close_lease_in_range(int fd, struct record *l, int flags)
{
    if (flags & CLOSE_RANGE_CLOEXEC)
        real.fcntl(fd, F_SETFD, FD_CLOEXEC);
    else
        lease_close(fd, l, NULL);
}

/* close_range over a span holding objpool's fds: close the program's own
 * numbers as asked (in gaps, so one call per run), leave idle and internal
 * fds alone, and close leases the way close() would. Flags such as
 * CLOSE_RANGE_CLOEXEC apply to the program's numbers only (ours have
 * FD_CLOEXEC already). */
static int close_range_owned(unsigned first, unsigned last, int flags)
{
    if (in_vfork_child())
        return real.close_range(first, last, flags);
    unsigned top = last < reg_nslots ? last : reg_nslots - 1;
    unsigned gap = first;
    int rc = 0;
    for (unsigned fd = first; fd <= top; fd++) {
        if (reg_in_band((int)fd) && !in_objpool) {
            /* the band: number by number, each under the band's lock, so a
             * number objpool is making is never closed with the program's */
            if (fd > gap && real.close_range(gap, fd - 1, flags) < 0)
                rc = -1;
            gap = fd + 1;
            reg_high_lock();
            struct record *b;
            enum band_view v = band_view((int)fd, &b);
            if (v == BAND_FREE && (flags & CLOSE_RANGE_CLOEXEC))
                real.fcntl((int)fd, F_SETFD, FD_CLOEXEC);
            else if (v == BAND_FREE)
                real.close((int)fd);
            reg_high_unlock();
            if (v == BAND_LEASE)
                close_lease_in_range((int)fd, b, flags);
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

/* close_range, as the program's call or closefrom's. */
static int close_range_any(unsigned first, unsigned last, int flags)
{
    if (likely(reg_nslots == 0) || first >= reg_nslots || first > last)
        return real.close_range(first, last, flags);
    return close_range_owned(first, last, flags);
}

OBJPOOL_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    return close_range_any(first, last, flags);
}

OBJPOOL_EXPORT void closefrom(int lowfd)
{
    if (lowfd < 0)
        lowfd = 0;
    if (likely(reg_nslots == 0) && real.closefrom) {
        real.closefrom(lowfd);
        return;
    }
    close_range_any((unsigned)lowfd, ~0u, 0);
}

/* syscall()'s routed numbers take these bodies (interpose/sysroute.c). */
INTERNAL_ALIAS(close);
INTERNAL_ALIAS(close_range);
INTERNAL_ALIAS(dup);
INTERNAL_ALIAS(dup2);
INTERNAL_ALIAS(dup3);
INTERNAL_ALIAS(fcntl);
