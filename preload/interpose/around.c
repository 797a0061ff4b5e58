/* around.c - the calls that move a lease's bytes where objpool cannot count
 * them: sendfile, splice, sendmmsg/recvmmsg, dprintf/vdprintf (glibc writes
 * through its own internal write), and fdopen (stdio on the socket). Each
 * marks the lease unobserved (never parked: its protocol and its byte
 * counts are no proof any more) and then makes the real call. For TCP the
 * kernel's counters would catch most of these at release anyway; for Unix
 * sockets, which have no such counters, this is the only proof. On an fd
 * objpool does not own each is a bounds check, a load and the real call. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include "interpose.h"
#include "sys.h"

/* A program call on fd moves bytes objpool will not see: 1 if it must not
 * run (fd is objpool's own number: EBADF, as for a closed number). */
static __attribute__((noinline)) int unobserved(struct record *r)
{
    if (record_is_ours(r)) {
        errno = EBADF;
        return 1;
    }
    atomic_fetch_or(&r->flags, LF_UNOBSERVED);
    return 0;
}

/* Mark fd's lease, if there is one; 1 if the call must fail with EBADF. */
static inline int mark(int fd)
{
    struct record *r = reg_get(fd);
    return unlikely(r != NULL) && unobserved(r);
}

OBJPOOL_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
    if (mark(out) || mark(in))
        return -1;
    return real.sendfile(out, in, off, n);
}

OBJPOOL_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
    if (mark(out) || mark(in))
        return -1;
    return real.sendfile64(out, in, off, n);
}

OBJPOOL_EXPORT ssize_t splice(int in, off_t *off_in, int out, off_t *off_out, size_t n, unsigned int flags)
{
    if (mark(out) || mark(in))
        return -1;
    return real.splice(in, off_in, out, off_out, n, flags);
}

OBJPOOL_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
    if (mark(fd))
        return -1;
    return real.sendmmsg(fd, v, n, flags);
}

OBJPOOL_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
    if (mark(fd))
        return -1;
    return real.recvmmsg(fd, v, n, flags, t);
}

OBJPOOL_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
    if (mark(fd))
        return -1;
    return real.vdprintf(fd, fmt, ap);
}

OBJPOOL_EXPORT int dprintf(int fd, const char *fmt, ...)
{
    if (mark(fd))
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = real.vdprintf(fd, fmt, ap);
    va_end(ap);
    return n;
}

/* glibc's fortified entry points (what -D_FORTIFY_SOURCE builds call). */
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);

OBJPOOL_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    if (mark(fd))
        return -1;
    return real.vdprintf_chk(fd, flag, fmt, ap);
}

OBJPOOL_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    if (mark(fd))
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = real.vdprintf_chk(fd, flag, fmt, ap);
    va_end(ap);
    return n;
}

OBJPOOL_EXPORT FILE *fdopen(int fd, const char *mode)
{
    if (mark(fd))
        return NULL;
    return real.fdopen(fd, mode);
}

/* syscall()'s routed numbers take these bodies (interpose/sysroute.c). */
INTERNAL_ALIAS(sendfile);
INTERNAL_ALIAS(splice);
INTERNAL_ALIAS(sendmmsg);
INTERNAL_ALIAS(recvmmsg);
