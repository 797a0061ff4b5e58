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
 * Each interposer here is its pass-through test and a call into core/band.c,
 * which settles every other case under the ownership protocol; this file
 * gives it the lease layer's part (band_hooks).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "../conn/conn.h"
#include "interpose.h"

/* The lease layer's part of the band's calls (core/band.h). */
static int hook_lease_close(int fd, struct record *l)
{
    return lease_close(fd, l, NULL);
}

static void hook_lease_forget(int fd, struct record *l)
{
    lease_forget(fd, l, 0, 0);
}

static void hook_lease_fcntl(struct record *l, int cmd, long arg)
{
    if (l->ops && l->ops->fcntl)
        l->ops->fcntl(l, cmd, arg);
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

static const struct band_hooks fd_hooks = {
    .lease_close = hook_lease_close,
    .lease_forget = hook_lease_forget,
    .lease_fcntl = hook_lease_fcntl,
    .plain_copy = note_plain_copy,
};

void fd_hooks_install(void)
{
    band_hooks_set(&fd_hooks);
}

OBJPOOL_EXPORT int close(int fd)
{
    if (likely(reg_passes(fd)))
        return real.close(fd);
    return band_close(fd);
}

OBJPOOL_EXPORT int dup(int fd)
{
    if (likely(reg_passes(fd))) {
        note_plain_copy(fd);
        return real.dup(fd);
    }
    return band_dup(fd);
}

OBJPOOL_EXPORT int dup2(int oldfd, int newfd)
{
    note_replaced(oldfd, newfd);
    if (likely(reg_passes(oldfd) && reg_passes(newfd)))
        return real.dup2(oldfd, newfd);
    return band_dup_onto(oldfd, newfd, 0, 0);
}

OBJPOOL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    note_replaced(oldfd, newfd);
    if (likely(reg_passes(oldfd) && reg_passes(newfd)))
        return real.dup3(oldfd, newfd, flags);
    return band_dup_onto(oldfd, newfd, flags, 1);
}

/* fcntl and fcntl64 differ only in the libc function they end in. */
static int fcntl_via(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
    if (likely(reg_passes(fd))) {
        if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
            note_plain_copy(fd);
        return fn(fd, cmd, arg);
    }
    return band_fcntl(fn, fd, cmd, arg);
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

/* close_range, as the program's call or closefrom's. */
static int close_range_any(unsigned first, unsigned last, int flags)
{
    if (likely(reg_nslots == 0) || first >= reg_nslots || first > last)
        return real.close_range(first, last, flags);
    return band_close_range(first, last, flags);
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
