/* interpose_socket.c - connect, shutdown, setsockopt and the socket I/O
 * family. On an fd objpool does not own, each is a bounds check, an atomic
 * load and the real call. On a lease, the I/O is counted (sockpool.c uses
 * the counts to decide whether the exchange was complete). */
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "interpose.h"

/* glibc's fortified entry points (what -D_FORTIFY_SOURCE builds call);
 * their headers declare them only inside fortify wrappers. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *a,
                       socklen_t *al);

static __attribute__((noinline)) int connect_configured(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct target *t = sockpool_match(addr, len);
    if (!t || !guard_enter())
        return real.connect(fd, addr, len);
    int rc = sockpool_connect(fd, t, addr, len);
    int err = errno;
    guard_leave();
    errno = err;
    return rc;
}

OBJPOOL_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    /* the common case, decided here: an address no pool can match (see
     * sockpool_addr_maybe; the map is all zero when there are no pools) */
    if (likely(addr && len >= 4 && !sockpool_addr_maybe(addr)))
        return real.connect(fd, addr, len);
    if (likely(sock_ntargets == 0))
        return real.connect(fd, addr, len);
    return connect_configured(fd, addr, len);
}

OBJPOOL_EXPORT int socket(int domain, int type, int protocol)
{
    if (likely(sock_ntargets == 0))
        return real.socket(domain, type, protocol);
    return sockpool_socket(domain, type, protocol);
}

OBJPOOL_EXPORT int shutdown(int fd, int how)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.shutdown(fd, how);
    if (l->kind != KIND_SOCKET || atomic_load(&l->state) != STATE_LEASED) {
        errno = l->kind == KIND_SOCKET ? EBADF : ENOTSOCK;
        return -1;
    }
    return sockpool_shutdown(fd, l, how);
}

OBJPOOL_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int rc = real.setsockopt(fd, level, name, val, len);
    if (rc == 0 && sock_ntargets)
        sockpool_note_option(fd, level, name);
    return rc;
}

static __attribute__((noinline)) ssize_t read_leased(struct lease *l, int fd, void *buf, size_t n)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, 0, &r))
        return r;
    r = real.read(fd, buf, n);
    io_done(l, 0, 0, r);
    return r;
}

OBJPOOL_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.read(fd, buf, n);
    return read_leased(l, fd, buf, n);
}

static __attribute__((noinline)) ssize_t __read_chk_leased(struct lease *l, int fd, void *buf, size_t n, size_t buflen)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, 0, &r))
        return r;
    r = real.read_chk(fd, buf, n, buflen);
    io_done(l, 0, 0, r);
    return r;
}

OBJPOOL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.read_chk(fd, buf, n, buflen);
    return __read_chk_leased(l, fd, buf, n, buflen);
}

static __attribute__((noinline)) ssize_t write_leased(struct lease *l, int fd, const void *buf, size_t n)
{
    ssize_t r;
    if (sockpool_io_begin(l, 1, 0, &r))
        return r;
    r = real.write(fd, buf, n);
    io_done(l, 1, 0, r);
    return r;
}

OBJPOOL_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.write(fd, buf, n);
    return write_leased(l, fd, buf, n);
}

static __attribute__((noinline)) ssize_t readv_leased(struct lease *l, int fd, const struct iovec *iov, int cnt)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, 0, &r))
        return r;
    r = real.readv(fd, iov, cnt);
    io_done(l, 0, 0, r);
    return r;
}

OBJPOOL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.readv(fd, iov, cnt);
    return readv_leased(l, fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t writev_leased(struct lease *l, int fd, const struct iovec *iov, int cnt)
{
    ssize_t r;
    if (sockpool_io_begin(l, 1, 0, &r))
        return r;
    r = real.writev(fd, iov, cnt);
    io_done(l, 1, 0, r);
    return r;
}

OBJPOOL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.writev(fd, iov, cnt);
    return writev_leased(l, fd, iov, cnt);
}

static __attribute__((noinline)) ssize_t recv_leased(struct lease *l, int fd, void *buf, size_t n, int flags)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, flags, &r))
        return r;
    r = real.recv(fd, buf, n, flags);
    io_done(l, 0, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.recv(fd, buf, n, flags);
    return recv_leased(l, fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t __recv_chk_leased(struct lease *l, int fd, void *buf, size_t n, size_t buflen, int flags)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, flags, &r))
        return r;
    r = real.recv_chk(fd, buf, n, buflen, flags);
    io_done(l, 0, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.recv_chk(fd, buf, n, buflen, flags);
    return __recv_chk_leased(l, fd, buf, n, buflen, flags);
}

static __attribute__((noinline)) ssize_t recvfrom_leased(struct lease *l, int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, flags, &r))
        return r;
    r = real.recvfrom(fd, buf, n, flags, a, al);
    io_done(l, 0, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.recvfrom(fd, buf, n, flags, a, al);
    return recvfrom_leased(l, fd, buf, n, flags, a, al);
}

static __attribute__((noinline)) ssize_t __recvfrom_chk_leased(struct lease *l, int fd, void *buf, size_t n, size_t buflen, int flags,
                                      struct sockaddr *a, socklen_t *al)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, flags, &r))
        return r;
    r = real.recvfrom_chk(fd, buf, n, buflen, flags, a, al);
    io_done(l, 0, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                                      struct sockaddr *a, socklen_t *al)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.recvfrom_chk(fd, buf, n, buflen, flags, a, al);
    return __recvfrom_chk_leased(l, fd, buf, n, buflen, flags, a, al);
}

static __attribute__((noinline)) ssize_t recvmsg_leased(struct lease *l, int fd, struct msghdr *msg, int flags)
{
    ssize_t r;
    if (sockpool_io_begin(l, 0, flags, &r))
        return r;
    r = real.recvmsg(fd, msg, flags);
    io_done(l, 0, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.recvmsg(fd, msg, flags);
    return recvmsg_leased(l, fd, msg, flags);
}

static __attribute__((noinline)) ssize_t send_leased(struct lease *l, int fd, const void *buf, size_t n, int flags)
{
    ssize_t r;
    if (sockpool_io_begin(l, 1, flags, &r))
        return r;
    r = real.send(fd, buf, n, flags);
    io_done(l, 1, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.send(fd, buf, n, flags);
    return send_leased(l, fd, buf, n, flags);
}

static __attribute__((noinline)) ssize_t sendto_leased(struct lease *l, int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al)
{
    ssize_t r;
    if (sockpool_io_begin(l, 1, flags, &r))
        return r;
    r = real.sendto(fd, buf, n, flags, a, al);
    io_done(l, 1, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al)
{
    struct lease *l = reg_get(fd);
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
            struct lease *p = reg_get(fds[i]);
            if (p)
                atomic_fetch_or(&p->flags, LF_SHARED);
            else if (sock_ntargets)
                sockpool_note_copy(fds[i]);
        }
    }
}

static __attribute__((noinline)) ssize_t sendmsg_leased(struct lease *l, int fd, const struct msghdr *msg, int flags)
{
    ssize_t r;
    if (sockpool_io_begin(l, 1, flags, &r))
        return r;
    r = real.sendmsg(fd, msg, flags);
    io_done(l, 1, flags, r);
    return r;
}

OBJPOOL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (msg && msg->msg_controllen && reg_nslots)
        mark_passed_fds(msg);
    struct lease *l = reg_get(fd);
    if (likely(!l))
        return real.sendmsg(fd, msg, flags);
    return sendmsg_leased(l, fd, msg, flags);
}
