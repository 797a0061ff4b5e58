/* release.c - the program closes a connection lease: park it only when
 * the exchange is provably complete (release_reason), else the real close,
 * counted by reason. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h> /* the kernel's tcp_info: glibc's lacks the byte counters */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../core/reasons.h"

/* TCP: the kernel's own count of what crossed the wire must equal what
 * objpool saw through the interposed calls. Written: bytes_sent (no SYN,
 * no FIN) less retransmissions, plus what is queued unsent, is every byte
 * the socket accepted from this process, acknowledged or not, so a byte
 * written around objpool (sendfile, splice, stdio on fdopen, a raw
 * syscall) shows even before the server's delayed ACK. Read: bytes_received
 * (its FIN counts too) equal to what the program read proves no unread
 * byte and no FIN. Unless the protocol proved the exchange complete, every
 * written byte must also be acknowledged (bytes_acked counts the SYN). One
 * getsockopt decides the common case; poll only names a failure. */
static int tcp_reason(int fd, struct record *l, int proven, uint64_t owed)
{
    uint64_t out = atomic_load(&conn_rec(l)->bytes_out), in = atomic_load(&conn_rec(l)->bytes_in);
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
        tl < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof ti.tcpi_bytes_retrans)
        return REASON_UNOBSERVED_IO; /* a kernel without the counters: cannot prove it */
    uint64_t written = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans + ti.tcpi_notsent_bytes;
    uint64_t acked = ti.tcpi_bytes_acked ? ti.tcpi_bytes_acked - 1 : 0;
    /* owed: the reply to a goodbye's stand-in, read at the next acquire */
    int in_ok = ti.tcpi_bytes_received >= in && ti.tcpi_bytes_received - in <= owed;
    if (ti.tcpi_state == KTCP_ESTABLISHED && written == out && in_ok && (proven || acked == out))
        return 0;
    if (owed)
        return REASON_ABANDONED;
    int why = poll_reason(fd);
    if (why)
        return why;
    if (ti.tcpi_state != KTCP_ESTABLISHED)
        return ti.tcpi_state == KTCP_CLOSE_WAIT ? REASON_STALE_EOF : REASON_ERROR;
    if (written == out && ti.tcpi_bytes_received == in)
        return REASON_ABANDONED; /* written, not yet acknowledged */
    return REASON_UNOBSERVED_IO;
}

/* The byte-level rules: what the last observed call and the kernel say.
 * `proven`: the protocol proved every request answered, so a last write
 * (a memcached noreply set) is no abandoned request. */
static int wire_reason(struct record *l, int proven)
{
    switch (atomic_load(&conn_rec(l)->last_io)) {
    case IO_WRITE:
        if (!proven)
            return REASON_ABANDONED;
        break;
    case IO_READ_EOF:
        return REASON_STALE_EOF;
    case IO_ERROR:
        return REASON_ERROR;
    }
    return 0;
}

/* Unix stream: poll names unread bytes or a hang-up; SIOCOUTQ what the
 * server has not read yet, unless queued_ok: a protocol that proved no
 * answer owed (a MySQL COM_STMT_CLOSE just written) and checks its reset's
 * whole reply, which any answer to bytes written around objpool would
 * spoil. */
static int unix_reason(int fd, int queued_ok)
{
    int why = poll_reason(fd);
    if (why)
        return why;
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) < 0 || (queued && !queued_ok))
        return REASON_ABANDONED;
    return 0;
}

/* 0 if the connection may be parked, else why not; *reset: park only after
 * the protocol's session reset. */
static int release_reason(int fd, struct record *l, int *reset, uint64_t owed)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino)
        return REASON_NOT_SAME_SOCKET;
    int f = atomic_load(&l->flags);
    if (f & LF_SHARED)
        return REASON_SHARED;
    if (f & LF_UNOBSERVED)
        return REASON_UNOBSERVED_IO;
    if (f & LF_HALF_CLOSED)
        return REASON_HALF_CLOSED;
    if (atomic_load(&conn_rec(l)->inflight))
        return REASON_ABANDONED; /* another thread is still in a call on it */
    int proven;
    int pr = conn_proto_reason(l, &proven);
    if (pr == REASON_TLS || pr == REASON_UNKNOWN_PROTO)
        return pr; /* never parked, whatever the bytes say */
    int why = wire_reason(l, proven);
    /* A server that closes after N requests (nginx keepalive_requests) may
     * not have sent its FIN yet: retire the connection before it can. */
    unsigned max_uses = l->target->spec->opts.max_uses;
    if (!why && max_uses && l->uses >= max_uses)
        why = REASON_MAX_USES;
    /* what the kernel sees is a fact (bytes unread, a FIN); what the
     * protocol says (a reply still owed, session state) comes after */
    if (!why)
        why = l->target->family != AF_UNIX ? tcp_reason(fd, l, proven, owed)
                                           : owed ? REASON_ABANDONED
                                                  : unix_reason(fd, pr == CONN_NEEDS_RESET && conn_proto_reset_whole(l));
    if (why)
        return why;
    if (pr > 0)
        return pr;
    *reset = pr == CONN_NEEDS_RESET;
    return 0;
}

int conn_park_reason(int fd, struct record *l, int *reset)
{
    *reset = 0;
    return release_reason(fd, l, reset, 0);
}

/* The stub takes the program's number (its close-on-exec flag kept) and
 * its epoll registrations: what closes from here is the stub. */
static void give_stub(int fd, int stub, int fdflags, struct epreg_move *m)
{
    if (real.dup3(stub, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
        real.close(fd); /* cannot happen (fd is open): the program gets EBADF, never the pooled socket */
        return;
    }
    epreg_give(fd, m);
}

int conn_release_to(struct record *l, int fd, int stub, int forced)
{
    struct target *t = l->target;
    int reset = 0;
    uint64_t owed = 0;
    int reason = goodbye_at_close(l, &owed) < 0 ? OBJPOOL_DISCARD_RESET_FAILED : forced;
    if (!reason)
        reason = release_reason(fd, l, &reset, owed);
    if (!reason && reset && conn_proto_send_reset(l, fd) < 0)
        reason = OBJPOOL_DISCARD_RESET_FAILED;
    struct epreg_move m = {0};
    int fdflags = stub >= 0 ? real.fcntl(fd, F_GETFD) : 0;
    if (stub >= 0) { /* the registrations go to the stub, parked or not */
        int why = epreg_park(fd, &m);
        if (!reason)
            reason = why;
    } else if (!reason) { /* the program's epoll registrations end with its close */
        reason = epreg_park(fd, NULL);
    }
    conn_epoll_forget(fd);
    if (!reason) {
        /* the program may have changed O_NONBLOCK behind fcntl (ioctl
         * FIONBIO, as Python's setblocking does): the next swap compares
         * the fresh socket's flags with these */
        int st = stub >= 0 ? l->status_flags : real.fcntl(fd, F_GETFL); /* goodbye_park read it */
        if (st >= 0)
            l->status_flags = st;
        l->parked_ns = now_ns();
        atomic_store(&l->state, STATE_IDLE);
        int hi = reg_place_high(fd, l);
        if (hi < 0) {
            atomic_store(&l->state, STATE_LEASED);
            reason = REASON_ERROR;
        } else {
            if (stub >= 0)
                give_stub(fd, stub, fdflags, &m);
            else
                real.close(fd);
            int r = objpool_release(t->pool, l); /* may still destroy: full, lifetime */
            log_debug("close fd %d of %s: %s", fd, t->label, r == OBJPOOL_PARKED ? "parked" : "pool full or too old, closed");
            lease_after_park(t);
            return 0;
        }
    }
    int rc = 0;
    if (stub >= 0)
        give_stub(fd, stub, fdflags, &m);
    else
        rc = real.close(fd);
    int err = errno;
    lease_discard(l, reason);
    errno = err;
    return rc;
}

/* kind_ops.release: park the connection at a high number, or close it. */
int conn_release(struct record *l, int fd, FILE *fp)
{
    (void)fp;
    int unconnected_rc;
    if (conn_release_unconnected(l, fd, &unconnected_rc))
        return unconnected_rc; /* refused after EINPROGRESS: a failed create */
    return conn_release_to(l, fd, -1, 0);
}
