/* probe.c - is an idle connection still good? One poll (no data, no
 * hang-up, no error), then the check= probe when the pool has one and the
 * connection sat idle longer than check_delay. */
#include "internal.h"

#include <poll.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/real.h"
#include "../core/reasons.h"

/* Why a connection may not be parked or reused: unread bytes, a hang-up,
 * an error (one poll names it). 0 if poll sees nothing. */
int poll_reason(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    int n = poll(&p, 1, 0);
    if (n < 0)
        return REASON_ERROR;
    if (n == 0)
        return 0;
    if (p.revents & (POLLRDHUP | POLLHUP))
        return REASON_STALE_EOF;
    if (p.revents & (POLLERR | POLLNVAL))
        return REASON_ERROR;
    return REASON_UNREAD_DATA;
}

/* A hang-up or an error alone (the unread bytes are known). */
static int hangup_reason(int fd)
{
    struct pollfd p = {fd, POLLRDHUP, 0};
    if (poll(&p, 1, 0) < 0)
        return REASON_ERROR;
    if (p.revents & (POLLRDHUP | POLLHUP))
        return REASON_STALE_EOF;
    return p.revents & (POLLERR | POLLNVAL) ? REASON_ERROR : 0;
}

/* Send the check bytes and require exactly the expected reply. Its bytes
 * count as the connection's own, for the kernel counters check. */
static int run_check(struct record *l)
{
    const struct pool_opts *o = &l->target->spec->opts;
    ssize_t sent = real.send(l->fd, o->check, o->check_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0)
        atomic_fetch_add(&conn_rec(l)->bytes_out, (uint64_t)sent);
    if (sent != (ssize_t)o->check_len)
        return -1;
    char buf[MAX_PROBE];
    if (conn_read_exact(l, buf, o->expect_len, o->connect_timeout_ms) != o->expect_len ||
        memcmp(buf, o->expect, o->expect_len))
        return -1;
    /* a reply longer than expected leaves bytes behind: not reusable */
    return poll_reason(l->fd) == 0 ? 0 : -1;
}

/* The checks of an idle connection before reuse; 0 if it may be reused. */
static int idle_reason(struct target *t, struct record *l)
{
    if (my_reply_kept(l)) /* MySQL: the reset's reply is kept for the greeting's readiness */
        return hangup_reason(l->fd);
    int why = poll_reason(l->fd);
    if (why)
        return why; /* the server spoke or hung up while it sat idle */
    const struct pool_opts *o = &t->spec->opts;
    if (o->check_len && now_ns() - l->parked_ns >= o->check_delay_ms * 1000000ull) {
        if (run_check(l) < 0) {
            atomic_fetch_add(&t->ctr->check_failed, 1);
            return REASON_CHECK_FAILED;
        }
    }
    return 0;
}

/* Validation takes the object BUSY (its fd number is ours alone from here)
 * and keeps it BUSY for the swap; on failure it goes back to IDLE so that
 * destroy takes it like any idle object. */
int conn_validate(void *user, void *obj, void *arg)
{
    struct record *l = obj;
    (void)arg;
    record_make_busy(l);
    /* a dup2 onto its number that could not move it away (the band was
     * full): the kernel closed it, and the number is the program's now */
    if (atomic_load(&l->flags) & LF_GONE) {
        atomic_store(&l->state, STATE_IDLE);
        return REASON_NOT_SAME_SOCKET;
    }
    int reason = goodbye_finish(l); /* owed replies first: poll would see them as data */
    if (!reason)
        reason = conn_proto_finish_reset(l);
    if (!reason)
        reason = idle_reason(user, l);
    if (reason)
        atomic_store(&l->state, STATE_IDLE);
    return reason;
}
