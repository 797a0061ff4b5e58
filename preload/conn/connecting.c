/* connecting.c - a connection adopted while its connect was in progress.
 *
 * A non-blocking connect that returns EINPROGRESS is adopted at once (the
 * program may use the socket as soon as it is writable), so its pool counts
 * an acquire and a miss. The server may still refuse it. Such a lease is
 * marked LF_CONNECTING; at its close, if the connection provably never
 * came to be, the adoption is taken back and counted as the create failure
 * it was (as a refused blocking connect is), instead of an acquired
 * connection discarded as stale. */
#include "internal.h"

#include <errno.h>
#include <linux/tcp.h> /* the kernel's tcp_info: glibc's lacks tcpi_bytes_acked */
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/real.h"

/* A connect returned EINPROGRESS on the new lease l. (A reuse clears the
 * mark: conn_swap sets the flags afresh.) */
void conn_mark_connecting(struct record *l)
{
    atomic_fetch_or(&l->flags, LF_CONNECTING);
}

/* Did the connection at fd never get established? Only the kernel knows:
 * the program may have read SO_ERROR already (that clears it), and a
 * refused connect and a reset one both end in TCP_CLOSE. What tells them
 * apart is the SYN: tcpi_bytes_acked counts the server's acknowledgement
 * of it, so 0 with no byte received means no handshake ever completed
 * (refused, unreachable, or still in SYN_SENT when the program gave up).
 * Without TCP_INFO (or on a Unix socket), a pending SO_ERROR is the sign. */
static int never_connected(int fd, const struct record *l)
{
    if (l->target->family != AF_UNIX) {
        struct tcp_info ti;
        socklen_t tl = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
            tl >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
            return ti.tcpi_state != KTCP_ESTABLISHED && ti.tcpi_bytes_acked == 0 &&
                   ti.tcpi_bytes_received == 0;
    }
    int err = 0;
    socklen_t el = sizeof err;
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err != 0;
}

/* The release's first question for a lease still marked: if it never
 * connected (and moved no byte objpool saw, and fd is still its socket),
 * close it and undo the adoption. */
int conn_release_unconnected(struct record *l, int fd, int *rc)
{
    if (!(atomic_load(&l->flags) & LF_CONNECTING) || atomic_load(&conn_rec(l)->bytes_out) ||
        atomic_load(&conn_rec(l)->bytes_in))
        return 0;
    int saved = errno;
    struct stat st;
    int connected = fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino ||
                    !never_connected(fd, l);
    errno = saved;
    if (connected)
        return 0; /* it did connect: the ordinary release rules decide */
    *rc = real.close(fd);
    int err = errno;
    lease_adopt_failed(l);
    errno = err;
    return 1;
}
