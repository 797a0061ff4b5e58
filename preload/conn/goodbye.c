/* goodbye.c - the goodbyes a program says at the end of a connection
 * (Redis QUIT, memcached quit, HTTP Connection: close, a half-close after a
 * clean exchange), answered so that the connection can still be parked.
 *
 * The protocol names its goodbye (proto_ops.goodbye); this file does what
 * it says. Only real bytes, only real readiness: what the program reads in
 * place of the server's reply to its goodbye is the reply the protocol
 * fixes (+OK to QUIT), served when the server's real answer to the
 * harmless request sent instead (PING) has arrived and been read, so the
 * program's poll, select or epoll wakes on the server's own bytes; its EOF,
 * HUP and EPIPE then come from a stub, one end of a socketpair whose other
 * end is closed, put at the program's number (with its epoll
 * registrations) while the real connection parks. Two ledgers: the
 * record's byte counts, and the parser, follow the wire (what the kernel
 * counts); what the program wrote and read differs only by the goodbye
 * and its served reply. Whenever the park is refused after the goodbye was
 * kept from the server, the program gets the stub all the same and the
 * connection is destroyed. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "proto/proto.h"

_Static_assert(GB_MAX_REPLY == CONN_GB_MAX, "goodbye reply buffers agree");

#define GB_FLAT 2048 /* a goodbye write longer than this is sent as written */

/* May this lease take a goodbye now? */
static int quiet(struct record *l)
{
    int f = atomic_load(&l->flags);
    return l->target->spec->opts.shutdown_defer && !(f & (LF_SHARED | LF_UNOBSERVED | LF_HALF_CLOSED)) &&
           atomic_load(&conn_rec(l)->inflight) == 0 && conn_goodbye_of(l)->state == GBS_NONE;
}

/* The stub: a socketpair end whose peer is closed, non-blocking as the
 * program's socket is; -1 if none could be made. */
static int make_stub(int status)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    real.close(sv[1]);
    if ((status & O_NONBLOCK) && real.fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
        real.close(sv[0]);
        return -1;
    }
    return sv[0];
}

/* The goodbye was kept from the server and no stub could be made: end
 * the connection for real both ways, so poll, select and epoll report the
 * hang-up from the kernel, and answer the program's reads with 0 and
 * writes with EPIPE from here on (bytes of the server's still queued are
 * never handed to it). Destroyed at close. */
static void end_for_real(int fd, struct record *l)
{
    conn_goodbye_of(l)->state = GBS_ENDED;
    atomic_fetch_or(&l->flags, LF_HALF_CLOSED);
    real.shutdown(fd, SHUT_RDWR);
    log_debug("fd %d of %s: goodbye: no stub, shut down", fd, l->target->label);
}

int goodbye_park(int fd, struct record *l, int must_end)
{
    struct conn_goodbye *g = conn_goodbye_of(l);
    int bad = g->bad;
    g->state = GBS_NONE;
    g->bad = 0;
    int status = real.fcntl(fd, F_GETFL);
    if (status >= 0)
        l->status_flags = status; /* the park records it (FIONBIO is never seen) */
    int stub = status < 0 || atomic_load(&conn_rec(l)->inflight) || epreg_unmovable(fd) ? -1 : make_stub(status);
    if (stub < 0 || !guard_enter()) {
        if (stub >= 0)
            real.close(stub);
        if (must_end)
            end_for_real(fd, l);
        return must_end ? 0 : -1;
    }
    int reset = 0;
    /* a wrong reply to the stand-in: counted as a failed reset is; with
     * an EOF owed, conn_release_to alone applies the rules */
    int reason = bad ? OBJPOOL_DISCARD_RESET_FAILED : must_end ? 0 : conn_park_reason(fd, l, &reset);
    if ((reason && !must_end) || !reg_claim(fd, l)) {
        guard_leave();
        real.close(stub);
        return -1;
    }
    bury_graveyard();
    /* refused with an EOF owed: the program gets the stub all the same,
     * and the connection is destroyed */
    conn_release_to(l, fd, stub, reason);
    guard_leave();
    real.close(stub);
    log_debug("fd %d: goodbye: the program holds a stub now", fd);
    return 0;
}

/* After end_for_real: what a shut-down socket answers. */
int goodbye_ended(struct record *l, int is_write, int flags, ssize_t *result)
{
    (void)l;
    if (is_write) {
        if (!(flags & MSG_NOSIGNAL))
            raise(SIGPIPE);
        errno = EPIPE;
        *result = -1;
    } else {
        *result = 0;
    }
    return 1;
}

/* The program's bytes of one write, in one piece: its buffer, or a copy of
 * its iovecs into flat. 0 if too long to be a goodbye. */
static size_t gather(const struct io_data *d, unsigned char *flat, const unsigned char **p)
{
    if (d->buf) {
        *p = d->buf;
        return d->len <= GB_FLAT ? d->len : 0;
    }
    size_t n = 0;
    for (int i = 0; i < d->iovcnt; i++) {
        if (d->iov[i].iov_len > GB_FLAT - n)
            return 0; /* measured before anything is copied */
        n += d->iov[i].iov_len;
    }
    for (int i = 0, off = 0; i < d->iovcnt; off += (int)d->iov[i].iov_len, i++)
        memcpy(flat + off, d->iov[i].iov_base, d->iov[i].iov_len);
    *p = flat;
    return n;
}

/* Send the goodbye edited (bytes [off, off+len) become g->with) and
 * account for what went over the wire. */
static ssize_t send_edited(struct record *l, int fd, int flags, const unsigned char *p, size_t n,
                           const struct proto_goodbye *g, int kind)
{
    struct iovec v[3] = {
        {(void *)p, g->off},
        {(void *)g->with, g->len},
        {(void *)(p + g->off + g->len), n - g->off - g->len},
    };
    struct msghdr m = {.msg_iov = v, .msg_iovlen = 3};
    atomic_fetch_add(&conn_rec(l)->inflight, 1);
    ssize_t r = real.sendmsg(fd, &m, flags);
    int err = errno;
    struct conn_goodbye *cg = conn_goodbye_of(l);
    if (r >= (ssize_t)(g->off + g->len)) {
        memcpy(cg->expect, g->expect, g->expect_len);
        cg->expect_len = g->expect_len;
        memcpy(cg->serve, g->serve, g->serve_len);
        cg->serve_len = g->serve_len;
        cg->got = cg->served = 0;
        cg->state = kind == GB_REPLY ? GBS_REPLY : GBS_EOF_AT_END; /* published last */
    } else if (r > 0) {
        atomic_fetch_or(&l->flags, LF_UNOBSERVED); /* the program sends the rest unedited */
    }
    struct io_data wire = IO_IOV(v, 3);
    conn_io_end(l, 1, flags, r, err, &wire);
    errno = err;
    return r;
}

int goodbye_write(struct record *l, int fd, int flags, const struct io_data *d, ssize_t *result)
{
    if (!quiet(l) || (flags & MSG_OOB))
        return 0;
    unsigned char flat[GB_FLAT];
    const unsigned char *p;
    size_t n = gather(d, flat, &p);
    struct proto_goodbye g;
    int kind = n ? conn_proto_goodbye(l, p, n, &g) : GB_NONE;
    if (!kind)
        return 0; /* sent as written */
    /* the release rules are asked once, at the park: if they refuse then,
     * the program still gets its EOF from the stub, and the server sees
     * a close where it would have seen the goodbye */
    log_debug("fd %d of %s: goodbye (%s) kept from the server", fd, l->target->label,
              kind == GB_SWALLOW ? "swallowed" : kind == GB_REPLY ? "answered" : "renamed");
    if (kind == GB_SWALLOW) {
        /* the program wrote it; the wire never sees it */
        goodbye_park(fd, l, 1);
        *result = (ssize_t)n;
        return 1;
    }
    *result = send_edited(l, fd, flags, p, n, &g, kind);
    return 1;
}

/* Copy up to the program's buffer of the served reply; the count. */
static size_t serve(struct conn_goodbye *g, const struct io_data *d, int peek)
{
    size_t left = (size_t)(g->serve_len - g->served), k = 0;
    if (d->buf) {
        k = d->len < left ? d->len : left;
        memcpy((void *)d->buf, g->serve + g->served, k);
    } else {
        for (int i = 0; i < d->iovcnt && k < left; i++) {
            size_t c = d->iov[i].iov_len < left - k ? d->iov[i].iov_len : left - k;
            memcpy(d->iov[i].iov_base, g->serve + g->served + k, c);
            k += c;
        }
    }
    if (!peek)
        g->served = (uint8_t)(g->served + k);
    return k;
}

int goodbye_read(struct record *l, int fd, int flags, const struct io_data *d, ssize_t *result)
{
    struct conn_goodbye *g = conn_goodbye_of(l);
    while (g->got < g->expect_len && !g->bad) {
        /* the server's reply to the stand-in request: its readiness is
         * the program's, blocking or not, as its own read would be */
        ssize_t k = real.recv(fd, g->seen + g->got, (size_t)(g->expect_len - g->got), flags & MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            *result = -1;
            return 1;
        }
        if (k <= 0) {
            g->bad = 1; /* the server is gone: the program still gets its fixed reply */
            break;
        }
        atomic_fetch_add(&conn_rec(l)->bytes_in, (uint64_t)k);
        atomic_store(&conn_rec(l)->last_io, IO_READ_DATA);
        struct io_data wire = IO_BUF(g->seen + g->got, (size_t)k);
        conn_proto_feed(l, 0, &wire, (size_t)k);
        g->got = (uint8_t)(g->got + k);
    }
    if (g->got == g->expect_len && memcmp(g->seen, g->expect, g->expect_len))
        g->bad = 1;
    *result = (ssize_t)serve(g, d, flags & MSG_PEEK);
    if (g->served == g->serve_len)
        goodbye_park(fd, l, 1);
    return 1;
}

void goodbye_after_read(struct record *l)
{
    struct conn_goodbye *g = conn_goodbye_of(l);
    int v = conn_proto_verdict(l);
    if (v == PV_INCOMPLETE)
        return;
    if (v == PV_CLEAN) {
        goodbye_park(l->fd, l, 1);
    } else {
        g->state = GBS_NONE; /* the server closes this one itself */
    }
}

int goodbye_shutdown(int fd, struct record *l, int how)
{
    if (how == SHUT_RD || !quiet(l))
        return -1;
    return goodbye_park(fd, l, 0);
}

int goodbye_at_close(struct record *l, uint64_t *owed)
{
    struct conn_goodbye *g = conn_goodbye_of(l);
    *owed = 0;
    int state = g->state, bad = g->bad;
    g->state = GBS_NONE;
    g->bad = 0;
    if (bad)
        return -1;
    if (state != GBS_REPLY)
        return 0;
    if (g->got == g->expect_len && memcmp(g->seen, g->expect, g->expect_len))
        return -1;
    g->state = GBS_OWED;
    size_t rest = (size_t)(g->expect_len - g->got);
    if (rest) {
        struct io_data d = IO_BUF(g->expect + g->got, rest);
        conn_proto_feed(l, 0, &d, rest); /* the parser's view once it is read */
    }
    *owed = rest;
    return 0;
}

int goodbye_finish(struct record *l)
{
    struct conn_goodbye *g = conn_goodbye_of(l);
    if (g->state != GBS_OWED)
        return 0;
    g->state = GBS_NONE;
    size_t owed = (size_t)(g->expect_len - g->got);
    char buf[CONN_GB_MAX];
    if (!owed)
        return 0;
    if (conn_read_exact(l, buf, owed, l->target->spec->opts.connect_timeout_ms) != owed ||
        memcmp(buf, g->expect + g->got, owed))
        return OBJPOOL_DISCARD_RESET_FAILED;
    return 0;
}
