/* myreplay.c - MySQL sessions handed on: the handshake of a fresh
 * connection recorded, replayed to the program at each reuse.
 *
 * Recording (my_parse, on the connection's first lease): the server's turns
 * as bytes, the program's as a length and a keyed hash (myrec.h), up to the
 * handshake's OK. Kept only when every program turn is one packet, the
 * server never asked for the password itself (caching_sha2_password's full
 * authentication: a cleartext or RSA-encrypted password, random padding),
 * no TLS was asked, no ERR came, the program takes client plugins (so it
 * can follow an AuthSwitchRequest, myswitch.c), and objpool knows the
 * handshake's character set (the reset restores it); otherwise never
 * parked.
 *
 * Replay (my_io_begin, on a reused lease, after myreset.c checked the
 * reset's reply and left it on the socket): the program's reads get the
 * recorded greeting, its thread id and scramble, made readable by that
 * reply, which is drained when the greeting is used up. The program's
 * HandshakeResponse, computed over that scramble, is gathered: the same
 * length and keyed hash as the recorded one prove the same user, database,
 * options and password-derived secret (mysql_native_password,
 * caching_sha2_password's fast path and client_ed25519 answer a scramble
 * deterministically). It is swallowed and a COM_PING sent; the recorded
 * answer is served on the readiness of the ping's OK, which is drained
 * when the answer is used up. Any other response: myswitch.c.
 *
 * COM_QUIT written alone at a clean boundary is the protocol's goodbye
 * (proto/mysql.c): goodbye.c swallows it, the program gets the stub's EOF,
 * and the session is reset and parked.
 */
#include "myrec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../core/blocks.h"
#include "../core/reasons.h"

static const unsigned char PING[5] = {1, 0, 0, 0, 0x0e};

/* The program's turn in w is over: its length and keyed hash are kept, the
 * bytes wiped. The first one names the database and character set. */
static void rec_cli_end(struct myrec *g)
{
    int k = (g->nturns - 1) / 2;
    size_t n = g->pos;
    if (n < 4 || n != 4 + ((size_t)g->w[0] | (size_t)g->w[1] << 8 | (size_t)g->w[2] << 16))
        g->rec = MREC_BAD; /* not one whole packet */
    g->cli_len[k] = (uint16_t)n;
    conn_secret_tag(g->w, n, g->cli_tag[k]);
    struct my_resp rp;
    if (k == 0 && g->rec == MREC_ON) {
        if (my_resp_parse(g->w, n, &rp) < 0 || rp.db_len > MY_DB_MAX) {
            g->rec = MREC_BAD;
        } else {
            my_resp_id(g->w, n, &rp, g->id_tag);
            g->noplug = !(rp.caps & MY_CAP_PLUGIN_AUTH);
            if (rp.db_len) /* no database named: rp.db is NULL */
                memcpy(g->db, rp.db, rp.db_len);
            g->db_len = (uint16_t)rp.db_len;
            g->charset = (uint8_t)rp.charset;
        }
    }
    memset(g->w, 0, sizeof g->w);
    g->pos = 0;
}

/* Recorded bytes of one direction: a change of direction starts a turn. */
static void rec_add(struct myrec *g, int is_write, const unsigned char *b, size_t n)
{
    int dir = is_write ? MDIR_OUT : MDIR_IN;
    if (dir != g->last_dir) {
        if (g->last_dir == MDIR_OUT)
            rec_cli_end(g);
        if (g->nturns == MY_TURNS || (g->nturns % 2 == 0) != !is_write) {
            g->rec = MREC_BAD; /* too many turns, or the program spoke first */
            return;
        }
        g->nturns++;
        g->last_dir = (uint8_t)dir;
    }
    if (is_write) {
        if (n > sizeof g->w - g->pos) {
            g->rec = MREC_BAD;
            return;
        }
        memcpy(g->w + g->pos, b, n);
        g->pos = (uint16_t)(g->pos + n);
    } else {
        if (n > sizeof g->srv - g->srv_len) {
            g->rec = MREC_BAD;
            return;
        }
        memcpy(g->srv + g->srv_len, b, n);
        g->srv_len = (uint16_t)(g->srv_len + n);
        g->srv_end[(g->nturns - 1) / 2] = g->srv_len;
    }
}

/* The handshake's OK was read: keep the recording when it can be checked. */
static void rec_finish(struct record *r, struct conn_proto *p, struct myrec *g)
{
    if (g->rec != MREC_ON)
        return;
    /* a program without client plugins (node's mysqljs) could not follow
     * the switch a differing response needs (myswitch.c): its connects
     * would fail where they succeed without objpool, so it is not reused */
    int ok = !g->noplug && g->nturns >= 3 && g->nturns % 2 == 1 && g->srv_end[0] > 4 && g->srv[4] == 10 &&
             proto_mysql_ops.verdict(&p->st) == PV_SESSION && my_set_names(g->charset) != NULL;
    if (!ok) {
        g->rec = MREC_BAD;
        return;
    }
    g->ok_status = (uint16_t)proto_my_status(&p->st);
    g->epoch = atomic_load(&conn_target(r->target)->my_epoch);
    g->euid = geteuid();
    g->egid = getegid();
    g->rec = MREC_DONE;
    log_debug("fd %d of %s: MySQL handshake recorded (%u turns, %u server bytes)", r->fd, r->target->label,
              g->nturns, g->srv_len);
}

void my_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n)
{
    int hs = proto_my_handshake(&p->st);
    if (hs != MY_HS_DONE && !p->my && !(atomic_load(&r->flags) & LF_REUSED))
        p->my = block_alloc(); /* NULL: not recorded, never parked */
    struct myrec *g = p->my;
    if (hs != MY_HS_DONE && g && g->rec == MREC_ON)
        rec_add(g, is_write, b, n);
    if (is_write)
        proto_mysql_ops.out(&p->st, b, n);
    else
        proto_mysql_ops.in(&p->st, b, n);
    if (hs == MY_HS_DONE || !g || g->rec != MREC_ON)
        return;
    int now = proto_my_handshake(&p->st);
    int v = proto_mysql_ops.verdict(&p->st);
    int tls = (proto_my_caps(&p->st) & 0x800u) != 0; /* CLIENT_SSL */
    if (now == MY_HS_FULL || tls || v == PV_NEVER || v == PV_CONFUSED) {
        g->rec = MREC_BAD; /* a password sent itself, TLS, an ERR: never recorded */
        memset(g->w, 0, sizeof g->w);
        if (now == MY_HS_FULL || tls) /* a refused login is not counted */
            atomic_fetch_add(&r->target->ctr->my_auth_unverifiable, 1);
    } else if (now == MY_HS_DONE) {
        rec_finish(r, p, g);
        if (g->rec != MREC_DONE)
            atomic_fetch_add(&r->target->ctr->my_auth_unverifiable, 1);
    }
}

void my_free(struct conn_proto *p)
{
    if (p->my)
        memset(p->my, 0, sizeof *p->my); /* a response being compared */
    block_free(p->my);
    p->my = NULL;
}

/* Park only a session at a boundary whose handshake was recorded, with no
 * answer owed to the program; then always after the reset. */
int my_reason(struct record *r, struct conn_proto *p, int *proven)
{
    *proven = 0;
    int v = proto_mysql_ops.verdict(&p->st);
    if (v == PV_CLEAN)
        return 0; /* nothing read or written on it yet: byte-level rules alone */
    if (v == PV_INCOMPLETE)
        return REASON_INCOMPLETE;
    if (v != PV_SESSION)
        return v == PV_NEVER ? REASON_SESSION_STATE : REASON_UNKNOWN_PROTO;
    struct myrec *g = p->my;
    if (!g || g->rec != MREC_DONE || g->broken || atomic_load(&conn_target(r->target)->reset_refused))
        return REASON_SESSION_STATE;
    if (g->phase != MPH_NONE)
        return REASON_INCOMPLETE; /* the replay stopped half-way */
    *proven = 1;
    return CONN_NEEDS_RESET;
}

void my_broken(struct record *r, struct myrec *g, const char *why)
{
    g->broken = 1;
    g->phase = MPH_NONE;
    memset(g->w, 0, sizeof g->w);
    /* the kernel's hang-up, so that poll, select and epoll wake the
     * program on it (an event loop waits for no read that never comes);
     * io.c answers its reads with 0 and its writes with EPIPE */
    real.shutdown(r->fd, SHUT_RDWR);
    atomic_fetch_or(&r->flags, LF_HALF_CLOSED | LF_SHUT_DEFERRED);
    atomic_fetch_add(&r->target->ctr->stale_reuse_errors, 1);
    log_debug("fd %d of %s: MySQL replay ends: %s", r->fd, r->target->label, why);
}

int my_reply_kept(struct record *r)
{
    struct conn_proto *p = cp(r);
    return p->id == PROTO_MYSQL && p->my && p->my->phase == MPH_SERVE && p->my->turn == 0 && p->my->drain;
}

/* The bytes of a write, gathered from its buffer or iovecs (at most cap). */
static size_t gather(const struct io_data *d, unsigned char *out, size_t cap, size_t *total)
{
    size_t got = 0;
    *total = 0;
    if (d->buf) {
        *total = d->len;
        got = d->len < cap ? d->len : cap;
        memcpy(out, d->buf, got);
        return got;
    }
    for (int i = 0; i < d->iovcnt; i++) {
        size_t k = d->iov[i].iov_len;
        *total += k;
        if (got < cap) {
            size_t c = k < cap - got ? k : cap - got;
            memcpy(out + got, d->iov[i].iov_base, c);
            got += c;
        }
    }
    return got;
}

/* Copy recorded bytes into the program's buffer or iovecs. */
static size_t scatter(const struct io_data *d, const unsigned char *src, size_t n)
{
    if (d->buf) {
        size_t k = n < d->len ? n : d->len;
        memcpy((void *)(uintptr_t)d->buf, src, k);
        return k;
    }
    size_t done = 0;
    for (int i = 0; i < d->iovcnt && done < n; i++) {
        size_t k = d->iov[i].iov_len < n - done ? d->iov[i].iov_len : n - done;
        memcpy(d->iov[i].iov_base, src + done, k);
        done += k;
    }
    if (d->msg) { /* recvmsg: a connected stream names no peer, passes no control */
        struct msghdr *m = (struct msghdr *)(uintptr_t)d->msg;
        m->msg_namelen = 0;
        m->msg_controllen = 0;
        m->msg_flags = 0;
    }
    return done;
}

/* The next server turn is owed: it rides on the answer to a ping. */
static void serve_next(struct record *r, struct myrec *g)
{
    if (real.send(r->fd, PING, sizeof PING, MSG_NOSIGNAL) != (ssize_t)sizeof PING) {
        my_broken(r, g, "the ping could not be sent");
        return;
    }
    atomic_fetch_add(&conn_rec(r)->bytes_out, sizeof PING);
    g->turn++;
    g->phase = MPH_SERVE;
    g->served = g->srv_end[g->turn / 2 - 1];
    g->serve_end = g->srv_end[g->turn / 2];
}

/* A write while the program's turn is expected: gathered until one whole
 * packet, then compared with the recorded turn by length and keyed hash. */
static int cli_write(struct record *r, struct conn_proto *p, struct myrec *g, const struct io_data *d,
                     ssize_t *result)
{
    size_t total;
    size_t got = gather(d, g->w + g->pos, sizeof g->w - g->pos, &total);
    *result = (ssize_t)total;
    if (!total)
        return 1;
    int k = g->turn / 2;
    if (got != total) {
        atomic_fetch_add(&r->target->ctr->my_startup_mismatch, 1);
        my_broken(r, g, "a handshake packet longer than objpool compares");
        return 1;
    }
    g->pos = (uint16_t)(g->pos + total);
    if (g->pos < 4)
        return 1;
    size_t need = 4 + ((size_t)g->w[0] | (size_t)g->w[1] << 8 | (size_t)g->w[2] << 16);
    if (g->pos < need && need <= sizeof g->w)
        return 1;
    uint64_t tag[2] = {0, 0};
    if (g->pos == need)
        conn_secret_tag(g->w, need, tag);
    if (g->pos == need && need == g->cli_len[k] && tag[0] == g->cli_tag[k][0] && tag[1] == g->cli_tag[k][1]) {
        memset(g->w, 0, sizeof g->w);
        g->pos = 0;
        serve_next(r, g);
        return 1;
    }
    atomic_fetch_add(&r->target->ctr->my_startup_mismatch, 1);
    if (g->turn == 1 && g->pos == need) {
        my_switch(r, p, g, g->w, need); /* another user, database, option or password */
    } else {
        atomic_fetch_add(&conn_target(r->target)->my_epoch, 1); /* a later credential differs */
        my_broken(r, g, "the program's handshake differs after its response");
    }
    memset(g->w, 0, sizeof g->w);
    g->pos = 0;
    return 1;
}

/* The real reply that made the served turn readable, read whole: the reset's
 * (the greeting) or the ping's OK. */
static int drain(struct record *r, struct myrec *g)
{
    uint64_t to = r->target->spec->opts.connect_timeout_ms;
    if (g->turn == 0) {
        char buf[512];
        size_t n = g->drain;
        g->drain = 0;
        return n <= sizeof buf && conn_read_exact(r, buf, n, to) == n ? 0 : -1;
    }
    unsigned char h[4], body[64];
    if (conn_read_exact(r, (char *)h, 4, to) != 4)
        return -1;
    size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    if (h[3] != 1 || len < 1 || len > sizeof body || conn_read_exact(r, (char *)body, len, to) != len)
        return -1;
    return body[0] == 0x00 ? 0 : -1;
}

/* Has the reply that makes the owed turn readable arrived? A blocking
 * read waits for it in drain(); a non-blocking one (O_NONBLOCK,
 * MSG_DONTWAIT) must not wait, as the kernel would not. */
static int arrived(struct record *r, int flags)
{
    int fl = real.fcntl(r->fd, F_GETFL);
    if (!(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK))
        return 1;
    struct pollfd pf = {r->fd, POLLIN, 0};
    return poll(&pf, 1, 0) > 0;
}

/* A read while a server turn is owed: served from the recording; once it is
 * used up, the reply that made it readable is drained. */
static int serve_read(struct record *r, struct myrec *g, int flags, const struct io_data *d, ssize_t *result)
{
    if (g->turn && g->served == g->srv_end[g->turn / 2 - 1] && !arrived(r, flags)) {
        errno = EAGAIN; /* a non-blocking read before the ping's answer came: as the kernel would */
        *result = -1;
        return 1;
    }
    size_t k = scatter(d, g->srv + g->served, (size_t)(g->serve_end - g->served));
    *result = (ssize_t)k;
    if (flags & MSG_PEEK)
        return 1;
    g->served = (uint16_t)(g->served + k);
    atomic_store_explicit(&conn_rec(r)->last_io, IO_READ_DATA, memory_order_relaxed);
    if (g->served < g->serve_end)
        return 1;
    if (drain(r, g) < 0) {
        my_broken(r, g, "the reply carrying the served bytes was not the expected one");
        return 1;
    }
    if (g->turn + 1 < g->nturns) {
        g->turn++;
        g->phase = MPH_CLI;
        g->pos = 0;
        return 1;
    }
    g->phase = MPH_NONE;
    atomic_fetch_add(&r->target->ctr->my_replayed, 1);
    log_debug("fd %d of %s: MySQL handshake replayed", r->fd, r->target->label);
    return 1;
}

/* The reset was checked and its reply left on the socket: the next
 * program's handshake is replayed, the greeting first. */
void my_replay_arm(struct myrec *g, size_t reply_len)
{
    g->phase = MPH_SERVE;
    g->turn = 0;
    g->served = 0;
    g->serve_end = g->srv_end[0];
    g->drain = (uint16_t)reply_len;
    g->pos = 0;
    memset(g->w, 0, sizeof g->w);
}

int my_io_begin(struct record *r, int is_write, int flags, const struct io_data *d, ssize_t *result)
{
    struct conn_proto *p = cp(r);
    struct myrec *g = p->my;
    if (p->id != PROTO_MYSQL || !g || (g->phase != MPH_SERVE && !is_write) ||
        (atomic_load(&r->flags) & LF_SHUT_DEFERRED))
        return 0;
    if (atomic_exchange_explicit(&p->busy, 1, memory_order_acquire)) {
        if (g->phase != MPH_NONE)
            my_broken(r, g, "two calls at once during the handshake");
        atomic_fetch_or(&r->flags, LF_UNOBSERVED);
        return 0;
    }
    int done = 0;
    switch (g->phase) {
    case MPH_NONE: /* COM_QUIT: proto/mysql.c names it, goodbye.c answers it */
        break;
    case MPH_CLI:
        done = cli_write(r, p, g, d, result);
        break;
    default: /* MPH_SERVE */
        if (is_write)
            my_broken(r, g, "a write before the served answer was read"); /* io.c: EPIPE */
        else
            done = serve_read(r, g, flags, d, result);
    }
    atomic_store_explicit(&p->busy, 0, memory_order_release);
    return done;
}
