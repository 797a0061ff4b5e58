/* io.c - the I/O family on sockets and files: read, write, readv,
 * writev, recv, recvfrom, recvmsg, send, sendto, sendmsg and glibc's
 * fortified __read_chk, __recv_chk, __recvfrom_chk. On an fd objpool does
 * not own, each is a bounds check, an atomic load and a tail call of the
 * real function; on a record, the one body IO_ON_LEASE, in a function of
 * its own so the pass-through path spills no register. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../conn/conn.h"
#include "interpose.h"

/* glibc's fortified entry points (what -D_FORTIFY_SOURCE builds call);
 * their headers declare them only inside fortify wrappers. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *a,
                       socklen_t *al);

static __attribute__((noinline)) ssize_t read_leased(struct record *l, int fd, void *buf, size_t n)
{
    IO_ON_LEASE(l, 0, 0, IO_BUF(buf, n), real.read(fd, buf, n));
}

OBJPOOL_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.read(fd, buf, n);
    return read_leased(l, fd, buf, n);
}

static __attribute__((noinline)) ssize_t __read_chk_leased(struct record *l, int fd, void *buf, size_t n, size_t buflen)
{
    IO_ON_LEASE(l, 0, 0, IO_BUF(buf, n), real.read_chk(fd, buf, n, buflen));
}

OBJPOOL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.read_chk(fd, buf, n, buflen);
    return __read_chk_leased(l, fd, buf, n, buflen);
}

static __attribute__((noinline)) ssize_t write_leased(struct record *l, int fd, const void *buf, size_t n)
{
    IO_ON_LEASE(l, 1, 0, IO_BUF(buf, n), real.write(fd, buf, n));
}

OBJPOOL_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.write(fd, buf, n);
    return write_leased(l, fd, buf, n);
}

static __attribute__((noinline)) ssize_t readv_leased(struct record *l, int fd, const struct iovec *iov, int cnt)
{
    IO_ON_LEASE(l, 0, 0, IO_IOV(iov, cnt), real.readv(fd, iov, cnt));
}

OBJPOOL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.readv(fd, iov, cnt);
    return readv_leased(l, fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t writev_leased(struct record *l, int fd, const struct iovec *iov, int cnt)
{
    IO_ON_LEASE(l, 1, 0, IO_IOV(iov, cnt), real.writev(fd, iov, cnt));
}

OBJPOOL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.writev(fd, iov, cnt);
    return writev_leased(l, fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t recv_leased(struct record *l, int fd, void *buf, size_t n, int flags)
{
    IO_ON_LEASE(l, 0, flags, IO_BUF(buf, n), real.recv(fd, buf, n, flags));
}

OBJPOOL_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.recv(fd, buf, n, flags);
    return recv_leased(l, fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t __recv_chk_leased(struct record *l, int fd, void *buf, size_t n, size_t buflen, int flags)
{
    IO_ON_LEASE(l, 0, flags, IO_BUF(buf, n), real.recv_chk(fd, buf, n, buflen, flags));
}

OBJPOOL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.recv_chk(fd, buf, n, buflen, flags);
    return __recv_chk_leased(l, fd, buf, n, buflen, flags);
}

static __attribute__((noinline)) ssize_t recvfrom_leased(struct record *l, int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    IO_ON_LEASE(l, 0, flags, IO_BUF(buf, n), real.recvfrom(fd, buf, n, flags, a, al));
}

OBJPOOL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.recvfrom(fd, buf, n, flags, a, al);
    return recvfrom_leased(l, fd, buf, n, flags, a, al);
}

static __attribute__((noinline)) ssize_t __recvfrom_chk_leased(struct record *l, int fd, void *buf, size_t n, size_t buflen, int flags,
                                      struct sockaddr *a, socklen_t *al)
{
    IO_ON_LEASE(l, 0, flags, IO_BUF(buf, n), real.recvfrom_chk(fd, buf, n, buflen, flags, a, al));
}

OBJPOOL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                      struct sockaddr *a, socklen_t *al)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.recvfrom_chk(fd, buf, n, buflen, flags, a, al);
    return __recvfrom_chk_leased(l, fd, buf, n, buflen, flags, a, al);
}

static __attribute__((noinline)) ssize_t recvmsg_leased(struct record *l, int fd, struct msghdr *msg, int flags)
{
    IO_ON_LEASE(l, 0, flags, IO_MSG(msg), real.recvmsg(fd, msg, flags));
}

OBJPOOL_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.recvmsg(fd, msg, flags);
    return recvmsg_leased(l, fd, msg, flags);
}

static __attribute__((noinline)) ssize_t send_leased(struct record *l, int fd, const void *buf, size_t n, int flags)
{
    IO_ON_LEASE(l, 1, flags, IO_BUF(buf, n), real.send(fd, buf, n, flags));
}

OBJPOOL_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.send(fd, buf, n, flags);
    return send_leased(l, fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t sendto_leased(struct record *l, int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al)
{
    IO_ON_LEASE(l, 1, flags, IO_BUF(buf, n), real.sendto(fd, buf, n, flags, a, al));
}

OBJPOOL_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.sendto(fd, buf, n, flags, a, al);
    return sendto_leased(l, fd, buf, n, flags, a, al);
}

/* Any lease whose fd rides in an SCM_RIGHTS message is shared from now on:
 * the receiving process holds the same connection. */
static void mark_passed_fds(const struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int *fds = (const int *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            struct record *p = reg_get(fds[i]);
            if (p)
                atomic_fetch_or(&p->flags, LF_SHARED);
            else if (conn_ntargets)
                conn_note_copy(fds[i]);
        }
    }
}

static __attribute__((noinline)) ssize_t sendmsg_leased(struct record *l, int fd, const struct msghdr *msg, int flags)
{
    IO_ON_LEASE(l, 1, flags, IO_MSG(msg), real.sendmsg(fd, msg, flags));
}

OBJPOOL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (msg && msg->msg_controllen && reg_nslots)
        mark_passed_fds(msg);
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.sendmsg(fd, msg, flags);
    return sendmsg_leased(l, fd, msg, flags);
}
