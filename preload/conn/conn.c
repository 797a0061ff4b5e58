/* conn.c - the connection kind: its table of operations for the lease
 * layer, and its set-up (a generic pool per target, the address table,
 * option tracking, epoll records, spare sockets). */
#include "internal.h"

#include <fcntl.h>

#include "../base/log.h"
#include "../base/proto_id.h"
#include "../core/reasons.h"
#include "proto/proto.h"

int conn_ntargets;

/* A connection pool's counters are its generic pool's. */
static void conn_stats(struct target *t, objpool_stats_t *out)
{
    objpool_get_stats(t->pool, out);
}

static void conn_evict(struct target *t)
{
    objpool_evict_expired(t->pool);
}

static void conn_reset_stats(struct target *t)
{
    objpool_reset_stats(t->pool);
}

/* fcntl(F_SETFL) on a lease: the status flags a swap must give the next
 * fresh socket's successor are the ones the program set last. */
static void conn_fcntl(struct record *r, int cmd, long arg)
{
    if (cmd == F_SETFL)
        r->status_flags = (int)arg;
}

/* One table per address family, differing only in the report's word. */
#define CONN_OPS(word)                                  \
    {                                                   \
        .name = (word), .release = conn_release,        \
        .io_begin = conn_io_begin, .io_end = conn_io_end, \
        .fcntl = conn_fcntl,                            \
        .replaced_reason = REASON_NOT_SAME_SOCKET,      \
        .detached_reason = REASON_NOT_SAME_SOCKET,      \
        .stats = conn_stats, .evict_expired = conn_evict, \
        .reset_stats = conn_reset_stats,                \
    }
static const struct kind_ops conn_tcp_ops = CONN_OPS("tcp");
static const struct kind_ops conn_unix_ops = CONN_OPS("unix");

/* The per-connection state beyond the record a pool's protocol needs: its
 * parser's session_size, or for proto=auto the largest any parser has
 * (the protocol is known only after adoption). 0: none. */
static size_t session_size(int proto)
{
    const struct proto_ops *ops = proto_ops_for(proto);
    if (ops || proto != PROTO_AUTO)
        return ops ? ops->session_size : 0;
    size_t most = 0;
    for (int id = 0; id < PROTO_NIDS; id++)
        if ((ops = proto_ops_for(id)) && ops->session_size > most)
            most = ops->session_size;
    return most;
}

int conn_setup(struct config *c)
{
    int n = 0;
    for (int i = 0; i < c->ntargets; i++)
        if (c->targets[i].family)
            n++;
    if (!n)
        return 0;
    if (match_setup(c, n) < 0 || sockopt_setup() < 0 || epreg_setup() < 0)
        return -1;
    for (int i = 0; i < c->ntargets; i++) {
        struct target *t = &c->targets[i];
        if (!t->family)
            continue;
        t->ops = t->family == AF_UNIX ? &conn_unix_ops : &conn_tcp_ops;
        size_t ext = session_size(t->spec->opts.proto);
        if (ext && slab_init(&conn_target(t)->ext, ext) < 0)
            return -1;
        t->pool = lease_pool_new(t, conn_destroy, conn_validate, conn_swap, t);
        if (!t->pool)
            return -1;
        log_debug("pool %s: protocol %s%s", t->label, proto_name(t->spec->opts.proto),
                  t->spec->opts.proto == PROTO_AUTO ? " (detected per connection)" : "");
    }
    spare_setup();
    conn_ntargets = n; /* last: from here the interposers look */
    return 0;
}
