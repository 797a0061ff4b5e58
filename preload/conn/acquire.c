/* acquire.c - connect() to a configured target: reuse an idle connection
 * (swapped onto the program's fresh socket) or make a new one with the real
 * connect and adopt it as a lease. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/reasons.h"

/* The pool destroys an idle connection, or the record of a lease whose
 * object is closed already (LF_GONE). */
void conn_destroy(void *user, void *obj)
{
    (void)user;
    struct record *l = obj;
    record_make_busy(l);
    if (!(atomic_load(&l->flags) & LF_GONE) && l->fd >= 0) {
        reg_close_high(l->fd, l);
    }
    log_debug("discard fd %d of %s", l->fd, l->target->label);
    conn_proto_free(l);
    record_free(l);
}

/* Send the check bytes and require exactly the expected reply. */

/* The swap: the idle connection takes the place of the program's fresh
 * socket, with its status flags and options; the fresh socket becomes a
 * spare when it is pristine. c->fd < 0: the caller moves it (pg_take_idle). */
int conn_swap(void *user, void *obj, void *arg)
{
    (void)user;
    struct record *l = obj;
    struct acquire_ctx *c = arg;
    int idle_fd = l->fd;
    if (c->fd < 0)
        return 0; /* pgfresh.c moves it itself; it stays BUSY until then */
    if ((c->status ^ l->status_flags) & (O_NONBLOCK | O_ASYNC)) {
        if (real.fcntl(idle_fd, F_SETFL, c->status) < 0)
            goto fail;
        l->status_flags = c->status;
    }
    uint32_t mask = (c->optmask | conn_rec(l)->optmask) & OPT_COPYABLE;
    if (mask && sockopt_copy(c->fd, idle_fd, mask) < 0)
        goto fail;
    conn_rec(l)->optmask |= c->optmask & OPT_COPYABLE;
    if (l->target->family != AF_UNIX && sockopt_nodelay_default(idle_fd, c->optmask, mask, &conn_rec(l)->optmask) < 0)
        goto fail;
    /* recycle only a socket objpool saw made, since the last fork or spawn,
     * never copied, with no option set and no O_ASYNC */
    if (c->optmask == sockopt_birth_now() && !(c->status & O_ASYNC) && l->target->family != AF_UNIX)
        spare_put(c->fd, l->target->family, c->status);
    /* the program's epoll registrations go with its number (epoll.c) */
    struct epreg_move m;
    int dflags = c->cloexec ? O_CLOEXEC : 0;
    if (epreg_move_begin(c->fd, &m) < 0)
        goto fail;
    if (real.dup3(idle_fd, c->fd, dflags) < 0) {
        epreg_move_abort(c->fd, &m);
        goto fail;
    }
    if (epreg_move_end(c->fd, &m, dflags) < 0)
        goto fail;
    reg_close_high(idle_fd, l);
    l->fd = c->fd;
    l->uses++;
    atomic_store(&l->flags, LF_REUSED);
    atomic_store(&conn_rec(l)->inflight, 0);
    atomic_store(&conn_rec(l)->last_io, IO_NONE);
    atomic_store(&l->state, STATE_LEASED);
    reg_set(c->fd, l);
    return 0;
fail:
    atomic_store(&l->state, STATE_IDLE);
    return REASON_ERROR;
}


/* Is the program's socket one we can pool: a stream socket of the target's
 * family with no local address bound? */
static int poolable_socket(int fd, const struct target *t)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &len) < 0 || local.ss_family != t->family)
        return 0;
    int v;
    socklen_t vl = sizeof v;
    if (t->family == AF_UNIX) {
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0 || v != SOCK_STREAM)
            return 0;
        return len <= offsetof(struct sockaddr_un, sun_path) + 1; /* unbound */
    }
    /* IPPROTO_TCP implies SOCK_STREAM */
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) < 0 || v != IPPROTO_TCP)
        return 0;
    if (t->family == AF_INET) {
        const struct sockaddr_in *in = (const void *)&local;
        return in->sin_port == 0 && in->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    const struct sockaddr_in6 *in6 = (const void *)&local;
    return in6->sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
}

/* A lease record for the connection at fd (dev/ino for the release's
 * same-socket test). */
struct record *conn_record(int fd, struct target *t, int status, uint32_t optmask)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    struct record *l = lease_new(fd, KIND_SOCKET, t);
    if (!l)
        return NULL;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->status_flags = status;
    conn_rec(l)->optmask = optmask;
    struct conn_target *ct = conn_target(t);
    if (ct->ext.size && record_ext_attach(l, &ct->ext) < 0)
        log_debug("fd %d of %s: no memory for its session state", fd, t->label);
    conn_proto_start(l);
    return l;
}

/* A lease record at fd whose object is gone: the number was closed behind
 * objpool (a raw close) and now names another socket, which the kernel just
 * gave out (socket()) or which fstat shows (st is NULL: look). Forget it,
 * so counts stay right and the new socket pools. 1 if one was forgotten or
 * none was there. */
int conn_forget_stale(int fd, const struct stat *st)
{
    struct record *r = reg_get(fd);
    if (!r)
        return 1;
    if (record_is_ours(r))
        return 0;
    struct stat now;
    if (!st) {
        if (fstat(fd, &now) < 0)
            return 0;
        st = &now;
    }
    if (st->st_dev == r->dev && st->st_ino == r->ino)
        return 0; /* still the object recorded */
    lease_forget(fd, r, 0, 0);
    return 1;
}

/* connect() to target t: a hit returns 0 at once (also on a non-blocking
 * socket, as POSIX allows); a miss is the real connect, adopted as a lease
 * when it succeeds or is in progress. */
int conn_connect(int fd, struct target *t, const struct sockaddr *addr, socklen_t len)
{
    if (reg_get(fd) && !conn_forget_stale(fd, NULL))
        return real.connect(fd, addr, len); /* a live record: not a fresh socket */
    if (in_vfork_child() || !poolable_socket(fd, t))
        return real.connect(fd, addr, len);
    struct acquire_ctx c = {fd, 0, 0, 0};
    c.status = real.fcntl(fd, F_GETFL);
    c.cloexec = real.fcntl(fd, F_GETFD) & FD_CLOEXEC;
    c.optmask = sockopt_take(fd);
    if (c.status < 0 || (c.optmask & OPT_UNKNOWN) || epreg_unmovable(fd))
        return real.connect(fd, addr, len); /* copied, an option or epoll registration we cannot carry */

    unsigned gen;
    struct record *l = lease_reuse(t->pool, &c, &gen);
    if (l) {
        log_debug("connect fd %d to %s: reused", fd, t->label);
        return 0;
    }
    uint64_t t0 = now_ns();
    int rc = real.connect(fd, addr, len);
    int err = errno;
    if (rc == 0 || err == EINPROGRESS) {
        l = conn_record(fd, t, c.status, c.optmask & OPT_COPYABLE);
        if (l && rc)
            conn_mark_connecting(l);
        if (l) /* only a blocking connect's time is the connection's cost */
            lease_adopt(l, gen, rc == 0 ? now_ns() - t0 : 0, t);
        log_debug("connect fd %d to %s: new connection%s", fd, t->label, rc ? " (in progress)" : "");
    } else {
        lease_create_failed(t->pool);
        log_debug("connect fd %d to %s: failed, errno %d", fd, t->label, err);
    }
    errno = err;
    return rc;
}

