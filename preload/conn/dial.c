/* dial.c - what a session protocol needs when the program's connection must
 * change under it (PostgreSQL's start-up that differs, MySQL's
 * HandshakeResponse that differs): a new connection to the target, made
 * and written to within a deadline, put on the program's number with its
 * socket options, status flags and epoll registrations, as the swap at
 * connect does. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/real.h"

/* Wait until fd is ready for ev, before the deadline. */
int conn_wait_fd(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return -1;
        struct pollfd pf = {fd, ev, 0};
        int n = poll(&pf, 1, (int)((deadline - now) / 1000000ull) + 1);
        if (n > 0)
            return pf.revents & (ev | POLLHUP | POLLERR) ? 0 : -1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* Send all of b[0..n) on the non-blocking s before the deadline. */
int conn_send_all(int s, const unsigned char *b, size_t n, uint64_t deadline)
{
    while (n) {
        ssize_t k = real.send(s, b, n, MSG_NOSIGNAL);
        if (k > 0) {
            b += k;
            n -= (size_t)k;
        } else if (k < 0 && errno == EAGAIN) {
            if (conn_wait_fd(s, POLLOUT, deadline) < 0)
                return -1;
        } else if (!(k < 0 && errno == EINTR)) {
            return -1;
        }
    }
    return 0;
}

/* A new connection to the target, made before the deadline; -1 if not. */
int conn_dial(const struct target *t, uint64_t deadline)
{
    int s = real.socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if ((real.connect(s, (const struct sockaddr *)&t->addr, target_addr_len(t)) < 0 && errno != EINPROGRESS) ||
        conn_wait_fd(s, POLLOUT, deadline) < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        real.close(s);
        return -1;
    }
    return s;
}

/* Put s on the program's number r->fd, as the swap at connect does. */
int conn_take_place(struct record *r, int s)
{
    int fl = real.fcntl(r->fd, F_GETFL);
    int fdfl = real.fcntl(r->fd, F_GETFD);
    if (fl < 0 || fdfl < 0 || sockopt_copy(r->fd, s, OPT_COPYABLE) < 0 || real.fcntl(s, F_SETFL, fl) < 0)
        return -1;
    int dflags = (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0;
    struct epreg_move m;
    if (epreg_move_begin(r->fd, &m) < 0)
        return -1;
    if (real.dup3(s, r->fd, dflags) < 0) {
        epreg_move_abort(r->fd, &m);
        return -1;
    }
    if (epreg_move_end(r->fd, &m, dflags) < 0)
        return -1; /* the reused connection is back on the number */
    struct stat st;
    if (fstat(r->fd, &st) == 0) {
        r->dev = st.st_dev;
        r->ino = st.st_ino;
    }
    return 0;
}

/* A copy of the program's socket (the mismatched session, reset and at a
 * boundary), made before a fresh one takes its number; -1 if none. */
int conn_keep_copy(struct record *r, struct stat *st)
{
    int keep = real.fcntl(r->fd, F_DUPFD_CLOEXEC, 3);
    if (keep >= 0 && fstat(keep, st) < 0) {
        real.close(keep);
        keep = -1;
    }
    return keep;
}

