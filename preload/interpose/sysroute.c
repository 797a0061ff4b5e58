/* sysroute.c - what syscall() does with a routed number (sys.c jumps
 * here with the program's frame untouched).
 *
 * The rule for every number: if the interposer of that call would pass it
 * straight through (no object of objpool's at the fd), so does this, to
 * libc's syscall with all seven values as the program gave them, so the
 * result, errno and the absence of a cancellation point are libc's.
 * Otherwise the interposer's own body runs (ip_*: its hidden alias), so a
 * close of a lease parks it, I/O on a lease is observed I/O (counted, for
 * the protocol), a dup makes it shared, and so on, exactly as for the
 * named call; its guard against a signal handler inside objpool
 * (in_objpool) and its vfork-child test come with it. The copies a dup or
 * F_DUPFD makes of the program's own sockets are noted here as the
 * interposers note them. Return convention: syscall()'s, -1 and errno. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../conn/conn.h"
#include "interpose.h"
#include "sys.h"

#define FD(x) ((int)(x)) /* the kernel reads an fd argument as an int */
#define PTR(x) ((void *)(x))

/* dup2/dup3 onto newfd, as the interposer notes them. */
static void note_replaced(int oldfd, int newfd)
{
    if (!conn_ntargets)
        return;
    conn_note_copy(oldfd);
    if (oldfd != newfd) {
        conn_note_copy(newfd);
        conn_epoll_forget(newfd);
    }
}

/* The fd family: the fd's record decides. 1 with *r set if taken. */
static int fd_call(long nr, long a, long b, long c, long d, long e, long *r)
{
    int fd = FD(a);
    if (!reg_get(fd))
        return 0;
    switch (nr) {
    case SYS_read: *r = ip_read(fd, PTR(b), (size_t)c); break;
    case SYS_write: *r = ip_write(fd, PTR(b), (size_t)c); break;
    case SYS_readv: *r = ip_readv(fd, PTR(b), FD(c)); break;
    case SYS_writev: *r = ip_writev(fd, PTR(b), FD(c)); break;
    case SYS_recvmsg: *r = ip_recvmsg(fd, PTR(b), FD(c)); break;
    case SYS_shutdown: *r = ip_shutdown(fd, FD(b)); break;
    case SYS_sendmmsg: *r = ip_sendmmsg(fd, PTR(b), (unsigned)c, FD(d)); break;
    case SYS_recvmmsg: *r = ip_recvmmsg(fd, PTR(b), (unsigned)c, FD(d), PTR(e)); break;
    default: return 0;
    }
    return 1;
}

/* Everything but the quick pass: out of line, so that the quick pass
 * saves no register. */
static __attribute__((noinline)) long sys_owned(long nr, long a, long b, long c, long d, long e, long f)
{
    long r;
    switch (nr) {
    case SYS_close:
        if (reg_passes(FD(a)))
            break;
        return ip_close(FD(a));
    case SYS_close_range:
        if (!reg_nslots || (unsigned)a >= reg_nslots || (unsigned)a > (unsigned)b)
            break;
        return ip_close_range((unsigned)a, (unsigned)b, FD(c));
    case SYS_recvfrom:
        if (reg_get(FD(a)))
            return ip_recvfrom(FD(a), PTR(b), (size_t)c, FD(d), PTR(e), PTR(f));
        break;
    case SYS_sendto:
        if (reg_get(FD(a)))
            return ip_sendto(FD(a), PTR(b), (size_t)c, FD(d), PTR(e), (socklen_t)f);
        break;
    case SYS_sendmsg: {
        const struct msghdr *m = PTR(b);
        if (reg_get(FD(a)) || (m && m->msg_controllen)) /* fds passed make leases shared */
            return ip_sendmsg(FD(a), m, FD(c));
        break;
    }
    case SYS_sendfile:
        if (reg_get(FD(a)) || reg_get(FD(b)))
            return ip_sendfile(FD(a), FD(b), PTR(c), (size_t)d);
        break;
    case SYS_splice:
        if (reg_get(FD(a)) || reg_get(FD(c)))
            return ip_splice(FD(a), PTR(b), FD(c), PTR(d), (size_t)e, (unsigned)f);
        break;
    case SYS_dup:
        if (conn_ntargets || !reg_passes(FD(a)))
            return ip_dup(FD(a));
        break;
#ifdef SYS_dup2
    case SYS_dup2:
        note_replaced(FD(a), FD(b));
        if (reg_passes(FD(a)) && reg_passes(FD(b)))
            break;
        return ip_dup2(FD(a), FD(b));
#endif
    case SYS_dup3:
        note_replaced(FD(a), FD(b));
        if (reg_passes(FD(a)) && reg_passes(FD(b)))
            break;
        return ip_dup3(FD(a), FD(b), FD(c));
    case SYS_fcntl:
        if (reg_passes(FD(a))) {
            if (conn_ntargets && (FD(b) == F_DUPFD || FD(b) == F_DUPFD_CLOEXEC))
                conn_note_copy(FD(a));
            break; /* libc's fcntl() rewrites F_GETOWN; the raw call must not */
        }
        return ip_fcntl(FD(a), FD(b), PTR(c));
    case SYS_socket:
        return ip_socket(FD(a), FD(b), FD(c));
    case SYS_connect: {
        const struct sockaddr *sa = PTR(b);
        if (sa && (socklen_t)c >= 4 && !conn_addr_maybe(sa))
            break;
        return ip_connect(FD(a), sa, (socklen_t)c);
    }
    case SYS_epoll_ctl:
        return conn_epoll_ctl(FD(a), FD(b), FD(c), PTR(d));
    case SYS_epoll_create1:
#ifdef SYS_epoll_create
    case SYS_epoll_create:
#endif
        r = sys_next(nr, a, b, c, d, e, f);
        if (r >= 0)
            conn_epoll_created(FD(r));
        return r;
    default:
        if (fd_call(nr, a, b, c, d, e, &r))
            return r;
        break;
    }
    return sys_next(nr, a, b, c, d, e, f);
}

/* The common case, decided before anything is saved: a number whose fd
 * holds nothing of objpool's (and, for dup and fcntl, no copy to note)
 * goes on at once. Everything else sys_owned decides again. */
static inline int quick_pass(long nr, long a, long b, long c)
{
    switch (nr) {
    case SYS_close:
        return reg_passes(FD(a));
    case SYS_read:
    case SYS_write:
    case SYS_readv:
    case SYS_writev:
    case SYS_recvfrom:
    case SYS_sendto:
    case SYS_recvmsg:
    case SYS_shutdown:
    case SYS_sendmmsg:
    case SYS_recvmmsg:
        return !reg_get(FD(a));
    case SYS_sendfile:
        return !reg_get(FD(a)) && !reg_get(FD(b));
    case SYS_splice:
        return !reg_get(FD(a)) && !reg_get(FD(c));
    case SYS_dup:
    case SYS_fcntl:
        return !conn_ntargets && reg_passes(FD(a));
    default:
        return 0;
    }
}

long sys_routed(long nr, long a, long b, long c, long d, long e, long f)
{
    if (likely(quick_pass(nr, a, b, c)))
        return sys_next(nr, a, b, c, d, e, f);
    return sys_owned(nr, a, b, c, d, e, f);
}
