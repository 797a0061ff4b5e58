/* io.c - the program's I/O on a connection lease: counted (bytes, the last
 * I/O, calls in flight) for the release rules; goodbyes and half-closes
 * go to goodbye.c. */
#include "internal.h"

#include <errno.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"

/* Before the call: PostgreSQL's replayed start-up, MySQL's handshake, a goodbye objpool
 * answers, the served reply to one; MSG_OOB bytes are not accounted for;
 * one more call in flight. */
int conn_io_begin(struct record *l, int fd, int is_write, int flags, const struct io_data *d, ssize_t *result)
{
    /* PostgreSQL: the start-up replayed, the goodbye swallowed (pgreplay.c) */
    if (cp(l)->pg && pg_io_begin(l, is_write, flags, d, result))
        return 1;
    /* MySQL: the handshake replayed, the goodbye swallowed (myreplay.c) */
    if (cp(l)->my && my_io_begin(l, is_write, flags, d, result))
        return 1;
    if (atomic_load_explicit(&l->flags, memory_order_relaxed) & LF_SHUT_DEFERRED)
        return goodbye_ended(l, is_write, flags, result); /* EOF for reads, EPIPE for writes */
    if (is_write && goodbye_write(l, fd, flags, d, result))
        return 1;
    int gb = conn_goodbye_of(l)->state;
    if (!is_write && gb == GBS_REPLY)
        return goodbye_read(l, fd, flags, d, result);
    if (gb == GBS_ENDED)
        return goodbye_ended(l, is_write, flags, result);
    if (flags & MSG_OOB)
        atomic_fetch_or(&l->flags, LF_UNOBSERVED);
    atomic_fetch_add_explicit(&conn_rec(l)->inflight, 1, memory_order_relaxed);
    return 0;
}

/* After the call: what moved, and the first answer of a reused
 * connection (EOF or a reset there means the server dropped it idle). */
void conn_io_end(struct record *l, int is_write, int flags, ssize_t n, int err, const struct io_data *d)
{
    atomic_fetch_sub_explicit(&conn_rec(l)->inflight, 1, memory_order_relaxed);
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
        return; /* nothing moved */
    if (is_write) {
        if (n > 0) {
            atomic_fetch_add_explicit(&conn_rec(l)->bytes_out, (uint64_t)n, memory_order_relaxed);
            atomic_store_explicit(&conn_rec(l)->last_io, IO_WRITE, memory_order_relaxed);
            conn_proto_feed(l, 1, d, (size_t)n);
        } else if (n < 0) {
            atomic_store_explicit(&conn_rec(l)->last_io, IO_ERROR, memory_order_relaxed);
        }
    } else if (!(flags & MSG_PEEK)) {
        if (n > 0) {
            atomic_fetch_add_explicit(&conn_rec(l)->bytes_in, (uint64_t)n, memory_order_relaxed);
            atomic_store_explicit(&conn_rec(l)->last_io, IO_READ_DATA, memory_order_relaxed);
            conn_proto_feed(l, 0, d, (size_t)n);
            if (conn_goodbye_of(l)->state == GBS_EOF_AT_END && !atomic_load(&conn_rec(l)->inflight))
                goodbye_after_read(l);
        } else {
            atomic_store_explicit(&conn_rec(l)->last_io, n == 0 ? IO_READ_EOF : IO_ERROR, memory_order_relaxed);
        }
    }
    /* a reused connection whose first answer is EOF or a reset: the server
     * dropped it while it sat idle (docs/design.md, "What remains") */
    int f = atomic_load_explicit(&l->flags, memory_order_relaxed);
    if ((f & (LF_REUSED | LF_FIRST_IO_DONE)) == LF_REUSED && (!is_write || n < 0)) {
        atomic_fetch_or(&l->flags, LF_FIRST_IO_DONE);
        if (n == 0 || (n < 0 && (err == ECONNRESET || err == EPIPE)))
            atomic_fetch_add(&l->target->ctr->stale_reuse_errors, 1);
    }
}

/* shutdown(SHUT_WR or SHUT_RDWR) after a clean exchange parks the
 * connection and leaves the program a stub that answers as a shut-down
 * socket would (goodbye.c); any other shutdown is real and the lease
 * half-closed. */
int conn_shutdown(int fd, struct record *l, int how)
{
    if (goodbye_shutdown(fd, l, how) == 0) {
        log_debug("shutdown fd %d: parked, the program holds a stub", fd);
        return 0;
    }
    atomic_fetch_or(&l->flags, LF_HALF_CLOSED);
    return real.shutdown(fd, how);
}
