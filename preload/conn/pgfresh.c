/* pgfresh.c - a PostgreSQL start-up that is not the recorded one: a fresh
 * connection takes the reused one's place on the program's number.
 *
 * The reused session cannot serve another start-up (the server admitted
 * one role to one database with these options, once), and a near match is
 * never taken. So objpool connects to the target anew (bounded by
 * connect_timeout), repeats on it the negotiation the program was already
 * answered 'N' (a server that now answers otherwise fails the program's
 * connect), sends the start-up bytes swallowed so far, copies the program's
 * socket options and status flags, and dup3()s it onto the program's
 * number with the program's epoll registrations moved (epoll.c), as the
 * swap at connect does. The reused session is closed by that dup3; the
 * lease is a fresh connection from then on, recorded like any other, and
 * the program's write goes on to it. When any step fails the program sees
 * its connection closed (EPIPE, then EOF).
 */
#include "pgrec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"

/* Wait until fd is ready for ev, before the deadline. */
static int wait_fd(int fd, short ev, uint64_t deadline)
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
static int send_all(int s, const unsigned char *b, size_t n, uint64_t deadline)
{
    while (n) {
        ssize_t k = real.send(s, b, n, MSG_NOSIGNAL);
        if (k > 0) {
            b += k;
            n -= (size_t)k;
        } else if (k < 0 && errno == EAGAIN) {
            if (wait_fd(s, POLLOUT, deadline) < 0)
                return -1;
        } else if (!(k < 0 && errno == EINTR)) {
            return -1;
        }
    }
    return 0;
}

/* A new connection to the target, made before the deadline; -1 if not. */
static int dial(const struct target *t, uint64_t deadline)
{
    int s = real.socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if ((real.connect(s, (const struct sockaddr *)&t->addr, target_addr_len(t)) < 0 && errno != EINPROGRESS) ||
        wait_fd(s, POLLOUT, deadline) < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        real.close(s);
        return -1;
    }
    return s;
}

/* The negotiation the program was answered 'N' for, asked again on s. */
static int negotiate(int s, const struct pgrec *g, size_t len, uint64_t deadline)
{
    unsigned char c = 0;
    if (send_all(s, g->cli, len, deadline) < 0 || wait_fd(s, POLLIN, deadline) < 0 ||
        real.recv(s, &c, 1, 0) != 1)
        return -1;
    return c == 'N' ? 0 : -1;
}

/* Put s on the program's number r->fd, as the swap at connect does. */
static int take_place(struct record *r, int s)
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

int pg_fresh(struct record *r, struct conn_proto *p, struct pgrec *g, size_t from, size_t upto)
{
    uint64_t deadline = now_ns() + r->target->spec->opts.connect_timeout_ms * 1000000ull;
    int s = dial(r->target, deadline);
    if (s < 0 || (from && negotiate(s, g, from, deadline) < 0) ||
        send_all(s, g->cli + from, upto - from, deadline) < 0 || take_place(r, s) < 0) {
        if (s >= 0)
            real.close(s);
        g->broken = 1;
        g->phase = PH_NONE;
        atomic_fetch_or(&r->flags, LF_SHUT_DEFERRED); /* io.c: EPIPE, then EOF */
        log_debug("fd %d of %s: PostgreSQL start-up differs; no fresh connection", r->fd, r->target->label);
        return 0;
    }
    real.close(s);
    /* a fresh connection from here: its counters, its parser and its
     * recording start from what the program said so far */
    unsigned char said[PGREC_CLI];
    memcpy(said, g->cli, upto);
    atomic_fetch_and(&r->flags, ~LF_REUSED);
    atomic_store(&conn_rec(r)->bytes_out, (uint64_t)upto);
    atomic_store(&conn_rec(r)->bytes_in, from ? 1u : 0u);
    proto_postgres_ops.init(&p->st);
    memset(g, 0, sizeof *g);
    if (from) {
        conn_proto_parse(r, p, 1, said, from);
        conn_proto_parse(r, p, 0, (const unsigned char *)"N", 1);
    }
    conn_proto_parse(r, p, 1, said + from, upto - from);
    log_debug("fd %d of %s: PostgreSQL start-up differs: a fresh connection", r->fd, r->target->label);
    return 0;
}
