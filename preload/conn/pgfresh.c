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
 *
 * Before that, a whole start-up written at once is looked up among the
 * target's idle connections (pg_take_idle): one whose recorded start-up is
 * byte for byte the program's (its key, a hash of those bytes and of who
 * made them, picks it under the pool's lock; the bytes are compared after)
 * and that passes what a reuse at connect passes (conn_validate: the reset
 * checked, the same euid/egid, the password epoch) takes the socket's
 * place the same way, and its recording is replayed. The mismatched
 * session goes back to idle under the taken one's record (its recording,
 * counters, age and options go with it), through the close path: reset
 * and parked, so the next reuse checks it as any other. Destroying it
 * instead would drain the pool by one at each such swap, and a program
 * rotating roles would soon find none idle.
 */
#include "pgrec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../base/siphash.h"
#include "../base/state.h"
#include "../core/blocks.h"
#include "../core/reasons.h"

/* The negotiation the program was answered 'N' for, asked again on s. */
static int negotiate(int s, const struct pgrec *g, size_t len, uint64_t deadline)
{
    unsigned char c = 0;
    if (conn_send_all(s, g->cli, len, deadline) < 0 || conn_wait_fd(s, POLLIN, deadline) < 0 ||
        real.recv(s, &c, 1, 0) != 1)
        return -1;
    return c == 'N' ? 0 : -1;
}

/* The mismatched session at keep gets a record of its own (counted as the
 * miss the fresh connection is) with its recording, parser state,
 * counters, options and age, and is reset and parked as at a close: the
 * pool grows towards one session per start-up the program uses. */
static void park_kept(struct record *r, struct conn_proto *p, int keep, unsigned gen)
{
    struct record *n = conn_record(keep, r->target, r->status_flags, conn_rec(r)->optmask);
    if (n && objpool_adopt(r->target->pool, n, 0) < 0) { /* never in the registry: the number is passing */
        real.close(keep);
        atomic_fetch_or(&n->flags, LF_GONE);
        conn_destroy(r->target, n); /* the record alone */
        return;
    }
    struct pgrec *fresh = n ? block_alloc() : NULL;
    if (!fresh) {
        real.close(keep);
        if (n)
            lease_discard(n, REASON_ERROR); /* LF_GONE: only the record goes */
        return;
    }
    struct conn_proto *np = cp(n);
    np->id = p->id;
    np->st = p->st;
    np->pg = p->pg;
    p->pg = fresh;
    p->pg->phase = PH_NONE;
    np->pg->phase = PH_NONE;
    np->pg->pos = 0;
    struct conn_rec *rc = conn_rec(r), *nc = conn_rec(n);
    atomic_store(&nc->bytes_out, atomic_load(&rc->bytes_out));
    atomic_store(&nc->bytes_in, atomic_load(&rc->bytes_in));
    atomic_store(&n->flags, atomic_load(&r->flags));
    n->uses = r->uses;
    r->uses = 1;
    objpool_swap_age(r->target->pool, r, n);
    objpool_set_key(r->target->pool, n, pg_key(np->pg));
    if (atomic_load(&fork_gen) != gen)
        atomic_fetch_or(&n->flags, LF_SHARED); /* a fork may have copied keep */
    conn_release_to(n, keep, -1, 0);
}

int pg_fresh(struct record *r, struct conn_proto *p, struct pgrec *g, size_t from, size_t upto, int park)
{
    uint64_t deadline = now_ns() + r->target->spec->opts.connect_timeout_ms * 1000000ull;
    unsigned gen = atomic_load(&fork_gen);
    int s = conn_dial(r->target, deadline), keep = -1;
    struct stat kst;
    if (s < 0 || (from && negotiate(s, g, from, deadline) < 0) ||
        conn_send_all(s, g->cli + from, upto - from, deadline) < 0 || (park && (keep = conn_keep_copy(r, &kst)) < 0) ||
        conn_take_place(r, s) < 0) {
        if (s >= 0)
            real.close(s);
        if (keep >= 0)
            real.close(keep);
        g->broken = 1;
        g->phase = PH_NONE;
        atomic_fetch_or(&r->flags, LF_SHUT_DEFERRED); /* io.c: EPIPE, then EOF */
        log_debug("fd %d of %s: PostgreSQL start-up differs; no fresh connection", r->fd, r->target->label);
        return 0;
    }
    real.close(s);
    objpool_set_key(r->target->pool, r, 0);
    /* a fresh connection from here: its counters, its parser and its
     * recording start from what the program said so far */
    unsigned char said[PGREC_CLI];
    memcpy(said, g->cli, upto);
    if (keep >= 0) {
        (void)kst;
        park_kept(r, p, keep, gen);
        g = p->pg;
    }
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

/* The key of start-up bytes made by (euid, egid); never 0. */
static uint64_t key_of(const unsigned char *b, size_t n, uint32_t euid, uint32_t egid)
{
    uint64_t h = siphash24((uint64_t)euid << 32 | egid, 0x706773746172747bull, b, n);
    return h ? h : 1;
}

uint64_t pg_key(const struct pgrec *g)
{
    return key_of(g->cli, g->cli_len, g->euid, g->egid);
}

/* Give the idle connection l back to the pool to be destroyed. */
static void drop(struct record *l)
{
    atomic_store(&l->state, STATE_LEASED);
    objpool_discard(l->target->pool, l, REASON_SESSION_STATE);
}

/* The sessions of r and l change records: r (the program's number) goes on
 * with l's, and l takes the mismatched one, now at the number keep. */
static void trade(struct record *r, struct conn_proto *p, struct record *l, int keep, const struct stat *st)
{
    struct conn_proto *lp = cp(l);
    struct pgrec *g = p->pg;
    struct proto_state ps = p->st;
    p->st = lp->st;
    lp->st = ps;
    p->pg = lp->pg;
    lp->pg = g;
    g->phase = PH_NONE; /* reset, and its negotiation's Sync answered: at a boundary */
    g->pos = 0;
    struct conn_rec *rc = conn_rec(r), *lc = conn_rec(l);
    uint64_t out = atomic_load(&rc->bytes_out), in = atomic_load(&rc->bytes_in);
    atomic_store(&rc->bytes_out, atomic_load(&lc->bytes_out));
    atomic_store(&rc->bytes_in, atomic_load(&lc->bytes_in));
    atomic_store(&lc->bytes_out, out);
    atomic_store(&lc->bytes_in, in);
    lc->optmask = rc->optmask; /* the options copied onto l's socket came from it */
    atomic_store(&lc->last_io, IO_NONE); /* every exchange since its reset answered */
    atomic_store(&l->flags, atomic_load(&r->flags));
    unsigned uses = r->uses;
    r->uses = l->uses + 1;
    l->uses = uses;
    l->fd = keep;
    l->dev = st->st_dev;
    l->ino = st->st_ino;
    objpool_swap_age(r->target->pool, r, l);
    objpool_set_key(r->target->pool, l, pg_key(g)); /* the key follows the recording */
}

int pg_take_idle(struct record *r, struct conn_proto *p, const unsigned char *neg, size_t from,
                 const unsigned char *w, size_t n)
{
    unsigned char want[PGREC_CLI];
    if (from + n > sizeof want)
        return 0;
    memcpy(want, neg, from);
    memcpy(want + from, w, n);
    uint64_t key = key_of(want, from + n, (uint32_t)geteuid(), (uint32_t)getegid());
    struct acquire_ctx c = {-1, 0, 0, 0};
    unsigned gen = atomic_load(&fork_gen);
    struct record *l = objpool_try_acquire_key(r->target->pool, key, &c);
    if (!l)
        return 0;
    struct pgrec *lg = cp(l)->pg;
    if (!lg || lg->rec != REC_DONE || lg->neg_len != from || lg->cli_len != from + n ||
        memcmp(lg->cli, want, from + n)) {
        drop(l); /* a key that collided: never a near match */
        return 0;
    }
    /* the mismatched session is kept at a number of its own, for l's record */
    struct stat st;
    int keep = conn_keep_copy(r, &st);
    int idle_fd = l->fd;
    if (keep < 0 || conn_take_place(r, idle_fd) < 0) {
        if (keep >= 0)
            real.close(keep);
        drop(l);
        return 0;
    }
    reg_close_high(idle_fd, l); /* its socket lives on at the program's number */
    trade(r, p, l, keep, &st);
    lg->phase = PH_STARTUP; /* the program was answered the negotiation already */
    lg->pos = 0;
    objpool_set_key(r->target->pool, r, key);
    atomic_store(&l->state, STATE_LEASED);
    if (atomic_load(&fork_gen) != gen) { /* a fork overlapped: both may be copied */
        atomic_fetch_or(&l->flags, LF_SHARED);
        atomic_fetch_or(&r->flags, LF_SHARED);
    }
    conn_release_to(l, keep, -1, 0); /* reset and parked, as at a close */
    log_debug("fd %d of %s: PostgreSQL start-up differs: an idle session with it", r->fd, r->target->label);
    return 1;
}
