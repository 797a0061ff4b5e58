/* protocol.c - a connection's protocol, between the I/O accounting and the
 * release rules: it detects the protocol (proto=auto) from the program's
 * first bytes, feeds the parser (conn/proto/) exactly the bytes each
 * observed I/O call moved, turns the parser's verdict into a release
 * reason, and carries the session reset (Redis RESET): sent when the
 * connection is parked, its reply read and checked before the next user
 * gets it, so a close never waits for the server.
 *
 * The state lives in the record (conn_rec's proto area), kept across the
 * connection's leases. Two threads' I/O on one lease may finish at the same
 * moment: the feed takes a flag, and the loser marks the lease unobserved
 * (never parked) rather than wait, since a signal handler may be the one
 * waiting. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../core/reasons.h"
#include "proto/proto.h"

_Static_assert(sizeof(struct conn_proto) <= CONN_PROTO_AREA, "a connection's protocol state fits its area");

struct conn_proto *cp(struct record *r)
{
    return (struct conn_proto *)(void *)conn_rec(r)->proto;
}

/* The connection's protocol is known now: count it for the report, say so
 * in the debug log, start its parser on what was written so far. */
static void decided(struct record *r, struct conn_proto *p, int id)
{
    p->id = (uint8_t)id;
    atomic_fetch_or_explicit(&r->target->ctr->proto_seen, 1u << id, memory_order_relaxed);
    log_debug("fd %d of %s: protocol %s (detected)", r->fd, r->target->label, proto_name(id));
    const struct proto_ops *ops = proto_ops_for(id);
    if (ops) {
        ops->init(&p->st);
        conn_proto_parse(r, p, 1, p->det.buf, p->det.len);
    }
}

/* The parser's bytes; PostgreSQL's start-up is also recorded (pgreplay.c). */
void conn_proto_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n)
{
    const struct proto_ops *ops = proto_ops_for(p->id);
    if (p->id == PROTO_POSTGRES) {
        pg_parse(r, p, is_write, b, n);
    } else if (p->id == PROTO_MYSQL) {
        my_parse(r, p, is_write, b, n);
    } else if (is_write) {
        ops->out(&p->st, b, n);
    } else {
        ops->in(&p->st, b, n);
    }
}

struct conn_goodbye *conn_goodbye_of(struct record *r)
{
    return &cp(r)->gb;
}

int conn_proto_verdict(struct record *r)
{
    const struct proto_ops *ops = proto_ops_for(cp(r)->id);
    return ops ? ops->verdict(&cp(r)->st) : PV_CLEAN;
}

/* A goodbye is recognised on the parser's state before the write; a
 * connection still detecting its protocol, with nothing written yet, is
 * asked as a fresh one of the protocol these bytes show. */
int conn_proto_goodbye(struct record *r, const unsigned char *b, size_t n, struct proto_goodbye *g)
{
    struct conn_proto *p = cp(r);
    int id = p->id;
    if (id == PROTO_AUTO) {
        if (p->det.len)
            return GB_NONE;
        struct proto_detect d = {0};
        id = proto_detect_feed(&d, b, n);
        const struct proto_ops *ops = proto_ops_for(id);
        if (!ops || !ops->goodbye)
            return GB_NONE;
        struct proto_state fresh;
        ops->init(&fresh);
        return ops->goodbye(&fresh, b, n, g);
    }
    const struct proto_ops *ops = proto_ops_for(id);
    return ops && ops->goodbye ? ops->goodbye(&p->st, b, n, g) : GB_NONE;
}

void conn_proto_start(struct record *r)
{
    struct conn_proto *p = cp(r);
    memset(p, 0, sizeof *p);
    p->id = (uint8_t)r->target->spec->opts.proto;
    const struct proto_ops *ops = proto_ops_for(p->id);
    if (ops)
        ops->init(&p->st);
    if (p->id != PROTO_AUTO)
        atomic_fetch_or_explicit(&r->target->ctr->proto_seen, 1u << p->id, memory_order_relaxed);
}

/* A server that speaks first: MySQL's greeting (a packet of sequence 0
 * whose payload begins with protocol version 10), gathered until its first
 * five bytes are read (drivers read the 4-byte header alone first). The
 * program writing before that, or other bytes, is nothing objpool parses. */
static void detect_in(struct record *r, struct conn_proto *p, const unsigned char *b, size_t n)
{
    size_t before = p->det.len, k = n < (size_t)(5 - before) ? n : (size_t)(5 - before);
    memcpy(p->det.buf + before, b, k);
    p->det.len = (uint8_t)(before + k);
    p->det_in = 1;
    if (p->det.len < 5)
        return;
    const unsigned char *h = p->det.buf;
    size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    if (h[3] != 0 || h[4] != 10 || len < 30 || len > 1024) {
        decided(r, p, PROTO_UNKNOWN);
        return;
    }
    p->id = PROTO_MYSQL;
    atomic_fetch_or_explicit(&r->target->ctr->proto_seen, 1u << PROTO_MYSQL, memory_order_relaxed);
    log_debug("fd %d of %s: protocol mysql (detected)", r->fd, r->target->label);
    proto_mysql_ops.init(&p->st);
    conn_proto_parse(r, p, 0, p->det.buf, p->det.len);
    if (n > k)
        conn_proto_parse(r, p, 0, b + k, n - k);
}

/* Detection: the program's writes until the detector decides. A read
 * before any write means the server speaks first: MySQL, or nothing
 * objpool parses. */
static void detect(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n)
{
    if (!is_write && (p->det_in || !p->det.len)) {
        detect_in(r, p, b, n);
        return;
    }
    if (!is_write || p->det_in) {
        decided(r, p, PROTO_UNKNOWN);
        return;
    }
    size_t before = p->det.len;
    int id = proto_detect_feed(&p->det, b, n);
    if (id == PROTO_AUTO)
        return;
    size_t used = (size_t)p->det.len - before; /* decided() fed those from det.buf */
    decided(r, p, id);
    const struct proto_ops *ops = proto_ops_for(id);
    if (ops && n > used)
        conn_proto_parse(r, p, 1, b + used, n - used);
}

static void feed_chunk(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n)
{
    if (!n)
        return;
    if (p->id == PROTO_AUTO) {
        detect(r, p, is_write, b, n);
        return;
    }
    const struct proto_ops *ops = proto_ops_for(p->id);
    if (!ops)
        return;
    conn_proto_parse(r, p, is_write, b, n);
}

void conn_proto_feed(struct record *r, int is_write, const struct io_data *d, size_t n)
{
    struct conn_proto *p = cp(r);
    if (p->id == PROTO_OPAQUE || p->id == PROTO_TLS || p->id == PROTO_UNKNOWN)
        return;
    if (atomic_exchange_explicit(&p->busy, 1, memory_order_acquire)) {
        atomic_fetch_or(&r->flags, LF_UNOBSERVED); /* two feeds at once: cannot follow */
        return;
    }
    if (d->buf) {
        feed_chunk(r, p, is_write, d->buf, n);
    } else {
        for (int i = 0; i < d->iovcnt && n; i++) {
            size_t k = d->iov[i].iov_len < n ? d->iov[i].iov_len : n;
            feed_chunk(r, p, is_write, d->iov[i].iov_base, k);
            n -= k;
        }
    }
    atomic_store_explicit(&p->busy, 0, memory_order_release);
}

int conn_proto_reason(struct record *r, int *proven)
{
    struct conn_proto *p = cp(r);
    *proven = 0;
    switch (p->id) {
    case PROTO_OPAQUE:
    case PROTO_AUTO: /* nothing written: byte-level checks alone decide */
        return 0;
    case PROTO_TLS:
        return REASON_TLS;
    case PROTO_UNKNOWN:
        return REASON_UNKNOWN_PROTO;
    }
    const struct proto_ops *ops = proto_ops_for(p->id);
    if (p->id == PROTO_POSTGRES)
        return pg_reason(r, p, proven);
    if (p->id == PROTO_MYSQL)
        return my_reason(r, p, proven);
    switch (ops->verdict(&p->st)) {
    case PV_CLEAN:
        *proven = 1;
        return 0;
    case PV_INCOMPLETE:
        return REASON_INCOMPLETE;
    case PV_SESSION:
        if (!ops->reset_req || atomic_load(&conn_target(r->target)->reset_refused))
            return REASON_SESSION_STATE;
        *proven = 1;
        return CONN_NEEDS_RESET;
    case PV_NEVER:
        return REASON_SESSION_STATE;
    }
    return REASON_UNKNOWN_PROTO; /* PV_CONFUSED */
}

int conn_proto_send_reset(struct record *r, int fd)
{
    if (cp(r)->id == PROTO_POSTGRES)
        return pg_send_reset(r, cp(r), fd);
    if (cp(r)->id == PROTO_MYSQL)
        return my_send_reset(r, cp(r), fd);
    const struct proto_ops *ops = proto_ops_for(cp(r)->id);
    ssize_t n = real.send(fd, ops->reset_req, ops->reset_req_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return -1;
    atomic_fetch_add(&conn_rec(r)->bytes_out, (uint64_t)n); /* the kernel counts them too */
    if ((size_t)n != ops->reset_req_len)
        return -1;
    cp(r)->reset_pending = 1;
    log_debug("fd %d of %s: session reset sent", fd, r->target->label);
    return 0;
}

/* Read exactly `len` bytes into buf within the deadline; the number read
 * (less on a timeout, EOF or error). Every byte is counted for the kernel
 * counters check. */
size_t conn_read_exact(struct record *r, char *buf, size_t len, uint64_t timeout_ms)
{
    size_t got = 0;
    uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
    while (got < len) {
        uint64_t now = now_ns();
        if (now >= deadline)
            break;
        struct pollfd pf = {r->fd, POLLIN, 0};
        if (poll(&pf, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
            break;
        ssize_t n = real.recv(r->fd, buf + got, len - got, MSG_DONTWAIT);
        if (n <= 0)
            break;
        got += (size_t)n;
        atomic_fetch_add(&conn_rec(r)->bytes_in, (uint64_t)n);
    }
    return got;
}

int conn_proto_finish_reset(struct record *r)
{
    struct conn_proto *p = cp(r);
    if (p->id == PROTO_POSTGRES)
        return pg_finish_reset(r, p); /* a PostgreSQL session is never reused without one */
    if (p->id == PROTO_MYSQL)
        return my_finish_reset(r, p); /* nor a MySQL one */
    if (!p->reset_pending)
        return 0;
    const struct proto_ops *ops = proto_ops_for(p->id);
    char buf[64];
    size_t want = ops->reset_reply_len < sizeof buf ? ops->reset_reply_len : sizeof buf;
    size_t got = conn_read_exact(r, buf, want, r->target->spec->opts.connect_timeout_ms);
    if (got == want && !memcmp(buf, ops->reset_reply, want)) {
        ops->reset_done(&p->st);
        p->reset_pending = 0;
        return 0;
    }
    if (got && buf[0] == '-') {
        /* an error reply (a server older than the reset, or a proxy that
         * refuses it): dirty sessions of this pool are destroyed from now on */
        atomic_store(&conn_target(r->target)->reset_refused, 1);
        log_msg(LOG_WARN, "%s: the server refused the session reset: connections with session state are not reused",
                r->target->label);
    }
    return OBJPOOL_DISCARD_RESET_FAILED;
}

/* A reset whose reply is read whole and exactly (MySQL's): a stray
 * answer to bytes the program wrote around objpool would spoil it. */
int conn_proto_reset_whole(struct record *r)
{
    return cp(r)->id == PROTO_MYSQL;
}

void conn_proto_free(struct record *r)
{
    struct conn_proto *p = cp(r);
    if (p->id == PROTO_POSTGRES)
        pg_free(p);
    if (p->id == PROTO_MYSQL)
        my_free(p);
}
