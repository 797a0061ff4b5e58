/* release.c - the program closes a connection lease: park it only when
 * the exchange is provably complete (release_reason), else the real close,
 * counted by reason. */
#include "internal.h"

#include <errno.h>
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
 * objpool saw through the interposed calls. bytes_received == bytes read
 * proves no unread byte and no FIN (the FIN counts too); bytes_acked ==
 * bytes written + 1 (the SYN) proves nothing is unsent or unacknowledged.
 * More than objpool saw means I/O went around it (sendfile, splice, stdio on
 * fdopen, a raw syscall). One getsockopt decides the common case; poll only
 * names the reason when it fails. */
static int tcp_reason(int fd, struct record *l)
{
    uint64_t out = atomic_load(&l->bytes_out), in = atomic_load(&l->bytes_in);
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
        tl < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return REASON_UNOBSERVED_IO; /* a kernel without the counters: cannot prove it */
    if (ti.tcpi_state == KTCP_ESTABLISHED && ti.tcpi_bytes_acked == out + 1 && ti.tcpi_bytes_received == in)
        return 0;
    int why = poll_reason(fd);
    if (why)
        return why;
    if (ti.tcpi_state != KTCP_ESTABLISHED)
        return ti.tcpi_state == KTCP_CLOSE_WAIT ? REASON_STALE_EOF : REASON_ERROR;
    if (ti.tcpi_bytes_acked < out + 1 && ti.tcpi_bytes_received == in)
        return REASON_ABANDONED; /* written, not yet acknowledged */
    return REASON_UNOBSERVED_IO;
}

/* 0 if the connection may be parked, else why not. */
static int release_reason(int fd, struct record *l)
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
    if (atomic_load(&l->inflight))
        return REASON_ABANDONED; /* another thread is still in a call on it */
    switch (atomic_load(&l->last_io)) {
    case IO_WRITE:
        return REASON_ABANDONED;
    case IO_READ_EOF:
        return REASON_STALE_EOF;
    case IO_ERROR:
        return REASON_ERROR;
    }
    /* A server that closes after N requests (nginx keepalive_requests) may
     * not have sent its FIN yet: retire the connection before it can. */
    unsigned max_uses = l->target->spec->opts.max_uses;
    if (max_uses && l->uses >= max_uses)
        return REASON_MAX_USES;
    if (l->target->family != AF_UNIX)
        return tcp_reason(fd, l);
    int why = poll_reason(fd);
    if (why)
        return why;
    /* Unix stream: bytes the server has not read yet */
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued)
        return REASON_ABANDONED;
    return 0;
}

/* kind_ops.release: park the connection at a high number, or close it. */
int conn_release(struct record *l, int fd, FILE *fp)
{
    (void)fp;
    struct target *t = l->target;
    int reason = release_reason(fd, l);
    if (!reason) {
        int hi = reg_move_high(fd);
        if (hi < 0) {
            reason = REASON_ERROR;
        } else {
            l->fd = hi;
            l->parked_ns = now_ns();
            atomic_store(&l->state, STATE_IDLE);
            reg_set(hi, l);
            real.close(fd);
            int r = objpool_release(t->pool, l); /* may still destroy: full, lifetime */
            log_debug("close fd %d of %s: %s", fd, t->label, r == OBJPOOL_PARKED ? "parked" : "pool full or too old, closed");
            lease_after_park(t);
            return 0;
        }
    }
    int rc = real.close(fd);
    int err = errno;
    lease_discard(l, reason);
    errno = err;
    return rc;
}
