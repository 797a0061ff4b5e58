/* pgreplay.c - PostgreSQL sessions handed on: the start-up of a fresh
 * connection recorded, replayed to the program at each reuse.
 *
 * Recording (pg_parse, on the connection's first lease): the program's
 * negotiation (an SSLRequest or GSSENCRequest answered 'N', 8 bytes) and
 * StartupMessage, and what it read from the server up to the first
 * ReadyForQuery. Only a start-up the server admitted without asking for a
 * credential (trust, peer) is kept; anything else makes the connection
 * never parked. The recording lives in a 4 KiB block (core/blocks.c), kept
 * with the record across leases.
 *
 * Replay (pg_io_begin, on a reused lease, after pgreset.c checked the
 * reset): the program writes its negotiation and start-up again. Bytes
 * equal to the recorded ones are swallowed; once a message is whole objpool
 * sends a Sync, whose ReadyForQuery makes the socket readable through every
 * mechanism (rule 2: real readiness); the program's reads get the recorded
 * answer, and when it is used up objpool drains the Sync's 6-byte answer.
 * A difference (another user, database, option) in a whole start-up
 * written at once makes an idle connection that recorded exactly it take
 * the socket's place (pgfresh.c), else a fresh one, with the bytes
 * swallowed so far forwarded to it: never a near match.
 *
 * Terminate written alone at a clean boundary is swallowed, and the lease
 * then reads EOF and writes EPIPE (the deferred shutdown of io.c), as
 * after the server's own close; the session is reset and parked.
 */
#include "pgrec.h"

#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/siphash.h"
#include "../base/real.h"
#include "../core/reasons.h"
#include "../core/blocks.h"

static const unsigned char SYNC[5] = {'S', 0, 0, 0, 4};
static const unsigned char READY_I[6] = {'Z', 0, 0, 0, 5, 'I'};
static const unsigned char TERMINATE[5] = {'X', 0, 0, 0, 4};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Append to a recording buffer; an overflow spoils the recording. */
static void rec_add(struct pgrec *g, unsigned char *buf, uint16_t *len, size_t cap,
                    const unsigned char *b, size_t n)
{
    if (n > cap - *len) {
        g->rec = REC_BAD;
        return;
    }
    memcpy(buf + *len, b, n);
    *len = (uint16_t)(*len + n);
}

/* Is p an SSLRequest or GSSENCRequest? */
static int is_negotiation(const unsigned char *p)
{
    return be32(p) == 8 && (be32(p + 4) == 80877103u || be32(p + 4) == 80877104u);
}

/* A password exchange objpool can check at reuse: the server asked once
 * for a cleartext (3) or md5 (5, with its salt) password, the program
 * answered with one password message, and the server's next message is
 * AuthenticationOk. The message's keyed hash is kept, never its bytes:
 * the same salt replayed, an equal hash proves the same password. */
static int rec_password(struct pgrec *g, int auth, size_t neg, size_t start_end)
{
    static const unsigned char auth_ok[9] = {'R', 0, 0, 0, 8, 0, 0, 0, 0};
    size_t at = neg ? 1 : 0;
    uint32_t want = auth == 5 ? 12 : 8;
    if (g->srv_len < at + 1 + want || g->srv[at] != 'R' || be32(g->srv + at + 1) != want ||
        be32(g->srv + at + 5) != (uint32_t)auth)
        return -1;
    size_t end = at + 1 + want;
    if (g->srv_len < end + sizeof auth_ok || memcmp(g->srv + end, auth_ok, sizeof auth_ok))
        return -1;
    size_t plen = g->cli_len - start_end;
    if (plen < 5 || plen > PGREC_PW || g->cli[start_end] != 'p' ||
        be32(g->cli + start_end + 1) != (uint32_t)(plen - 1))
        return -1;
    conn_secret_tag(g->cli + start_end, plen, g->pw_tag);
    g->auth_end = (uint16_t)end;
    g->cli_len = (uint16_t)start_end;
    return 0;
}

/* auth=process: a SASL (SCRAM) exchange is not checked but dropped from
 * the recording: the next program of this process with this start-up is
 * answered AuthenticationOk at once, as the pool's option promised. */
static int rec_unchecked(struct pgrec *g, size_t neg)
{
    size_t at = neg ? 1 : 0, pos = at;
    while (pos + 9 <= g->srv_len) {
        uint32_t len = be32(g->srv + pos + 1);
        if (g->srv[pos] != 'R' || len < 8 || len > g->srv_len - pos - 1)
            return -1;
        if (len == 8 && be32(g->srv + pos + 5) == 0) {
            memmove(g->srv + at, g->srv + pos, g->srv_len - pos);
            g->srv_len = (uint16_t)(g->srv_len - (pos - at));
            return 0;
        }
        pos += 1 + len;
    }
    return -1;
}

/* The start-up is over (the first ReadyForQuery read): keep it only if it
 * is one negotiation at most, then one StartupMessage, answered without a
 * credential or with a password exchange rec_password can check, ending
 * exactly at that ReadyForQuery 'I'. The password message never stays. */
static void rec_finish(struct record *r, struct conn_proto *p, struct pgrec *g)
{
    if (g->rec != REC_ON)
        return;
    g->rec = REC_BAD;
    int auth = proto_pg_auth(&p->st);
    size_t neg = g->cli_len >= 8 && is_negotiation(g->cli) ? 8 : 0;
    size_t start_end = g->cli_len >= neg + 8 ? neg + be32(g->cli + neg) : 0;
    int ok = proto_postgres_ops.verdict(&p->st) == PV_SESSION && g->srv_len >= 6 &&
             !memcmp(g->srv + g->srv_len - 6, READY_I, 6) && (!neg || (g->srv_len >= 7 && g->srv[0] == 'N')) &&
             start_end > neg + 8 && start_end <= g->cli_len;
    size_t written = g->cli_len;
    int process = r->target->spec->opts.auth_process;
    if (ok && auth == 0) {
        ok = start_end == g->cli_len; /* nothing but the start-up */
    } else if (ok && (auth == 3 || auth == 5)) {
        ok = rec_password(g, auth, neg, start_end) == 0;
    } else if (ok && auth == 10 && process) {
        ok = rec_unchecked(g, neg) == 0;
        g->cli_len = (uint16_t)start_end;
    } else {
        ok = 0;
        if (auth)
            atomic_fetch_add(&r->target->ctr->pg_auth_unverifiable, 1);
    }
    if (start_end && written > start_end)
        memset(g->cli + start_end, 0, written - start_end); /* a password never stays */
    if (!ok)
        return;
    g->epoch = atomic_load(&conn_target(r->target)->pg_epoch);
    g->neg_len = (uint16_t)neg;
    g->euid = geteuid();
    g->egid = getegid();
    g->rec = REC_DONE;
    objpool_set_key(r->target->pool, r, pg_key(g)); /* pg_take_idle finds it by this */
    log_debug("fd %d of %s: PostgreSQL start-up recorded (%u + %u bytes)", r->fd, r->target->label,
              g->cli_len, g->srv_len);
}

void pg_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n)
{
    int started = proto_pg_status(&p->st) != 0;
    if (!started && !p->pg && !(atomic_load(&r->flags) & LF_REUSED))
        p->pg = block_alloc(); /* NULL: not recorded, never parked */
    struct pgrec *g = p->pg;
    if (started && g && g->rec == REC_DONE && !is_write)
        pg_params_in(g, b, n); /* pgparams.c: values the session saw change */
    if (!started && g && g->rec == REC_ON) {
        if (is_write)
            rec_add(g, g->cli, &g->cli_len, PGREC_CLI, b, n);
        else
            rec_add(g, g->srv, &g->srv_len, PGREC_SRV, b, n);
    }
    if (is_write)
        proto_postgres_ops.out(&p->st, b, n);
    else
        proto_postgres_ops.in(&p->st, b, n);
    if (!started && g && proto_pg_status(&p->st))
        rec_finish(r, p, g);
}

void pg_free(struct conn_proto *p)
{
    if (p->pg)
        memset(p->pg, 0, sizeof *p->pg); /* a password being compared, a start-up */
    block_free(p->pg);
    p->pg = NULL;
}

/* Park only a session at a boundary whose start-up was recorded, with no
 * answer owed to the program; then always after the reset. */
int pg_reason(struct record *r, struct conn_proto *p, int *proven)
{
    (void)r;
    *proven = 0;
    int v = proto_postgres_ops.verdict(&p->st);
    if (v == PV_CLEAN)
        return 0; /* nothing written on it yet: byte-level rules alone */
    if (v == PV_INCOMPLETE)
        return REASON_INCOMPLETE;
    if (v != PV_SESSION)
        return v == PV_NEVER ? REASON_SESSION_STATE : REASON_UNKNOWN_PROTO;
    struct pgrec *g = p->pg;
    if (!g || g->rec != REC_DONE || g->broken)
        return REASON_SESSION_STATE;
    if (g->phase == PH_NEG_SERVE || g->phase == PH_SERVE)
        return REASON_INCOMPLETE; /* a Sync's answer still unread */
    *proven = 1;
    return CONN_NEEDS_RESET;
}

/* The recorded bytes a phase expects from the program, [from, to). */
static void phase_span(const struct pgrec *g, int phase, size_t *from, size_t *to)
{
    *from = phase == PH_NEG ? 0 : g->neg_len;
    *to = phase == PH_NEG ? g->neg_len : g->cli_len;
}

/* The reset was checked: the next program's start-up is replayed. */
void pg_replay_arm(struct record *r, struct conn_proto *p)
{
    (void)r;
    struct pgrec *g = p->pg;
    g->phase = g->neg_len ? PH_NEG : PH_STARTUP;
    g->pos = 0;
    g->served = 0;
    memset(g->pw, 0, sizeof g->pw);
}

int pg_rec_has(const struct conn_proto *p, const unsigned char *msg, size_t len)
{
    const struct pgrec *g = p->pg;
    return g && len && memmem(g->srv, g->srv_len, msg, len) != NULL;
}

int pg_rec_status(const struct conn_proto *p)
{
    return proto_pg_status(&p->st);
}

/* The replay cannot go on (the server gone, a thread racing it): the
 * program's next read sees EOF and its next write EPIPE, as if the server
 * had closed, and the connection is destroyed at close. */
static void broken(struct record *r, struct pgrec *g, const char *why)
{
    g->broken = 1;
    g->phase = PH_NONE;
    atomic_fetch_or(&r->flags, LF_SHUT_DEFERRED);
    atomic_fetch_add(&r->target->ctr->stale_reuse_errors, 1);
    log_debug("fd %d of %s: PostgreSQL replay ends: %s", r->fd, r->target->label, why);
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

/* A write during a start-up phase: swallowed while it matches. */
static int replay_write(struct record *r, struct conn_proto *p, struct pgrec *g,
                        const struct io_data *d, ssize_t *result)
{
    unsigned char w[PGREC_CLI];
    size_t from, to, total;
    phase_span(g, g->phase, &from, &to);
    size_t got = gather(d, w, sizeof w, &total);
    size_t at = from + g->pos;
    if (!total) {
        *result = 0;
        return 1;
    }
    if (got != total || total > to - at || memcmp(w, g->cli + at, total)) {
        atomic_fetch_add(&r->target->ctr->pg_startup_mismatch, 1);
        if (at == from && got == total && pg_take_idle(r, p, g->cli, from, w, total))
            return replay_write(r, p, p->pg, d, result); /* an idle one recorded exactly this */
        return pg_fresh(r, p, g, from, at, at == from); /* 0: on to a fresh one */
    }
    g->pos = (uint16_t)(g->pos + total);
    *result = (ssize_t)total;
    if (at + total < to)
        return 1;
    /* the message is whole: its answer rides on a Sync's ReadyForQuery */
    if (real.send(r->fd, SYNC, sizeof SYNC, MSG_NOSIGNAL) != (ssize_t)sizeof SYNC) {
        broken(r, g, "the Sync could not be sent");
        return 1;
    }
    atomic_fetch_add(&conn_rec(r)->bytes_out, sizeof SYNC);
    if (g->phase == PH_NEG) {
        g->phase = PH_NEG_SERVE;
        g->served = 0;
        g->serve_end = 1;
    } else {
        g->phase = PH_SERVE;
        g->served = g->neg_len ? 1 : 0;
        g->serve_end = g->auth_end ? g->auth_end : g->srv_len;
    }
    return 1;
}

/* A password that is not the recorded one: the recorded sessions of this
 * target that were admitted by a password are never reused again (the
 * epoch moves on), and a fresh connection takes this one's place with the
 * start-up; the program's password message is dropped, since it answers a
 * salt the fresh server did not send, and the program reads the fresh
 * server's own authentication request next (libpq and node-postgres
 * answer a second request), so the server alone decides. */
static int password_mismatch(struct record *r, struct conn_proto *p, struct pgrec *g, size_t total,
                             ssize_t *result)
{
    memset(g->pw, 0, sizeof g->pw);
    atomic_fetch_add(&r->target->ctr->pg_auth_mismatch, 1);
    atomic_fetch_add(&conn_target(r->target)->pg_epoch, 1);
    pg_fresh(r, p, g, g->neg_len, g->cli_len, 0);
    *result = (ssize_t)total;
    return 1;
}

/* A write while the password message is expected: gathered until whole
 * (never kept past this), then its keyed hash compared. */
static int password_write(struct record *r, struct conn_proto *p, struct pgrec *g,
                          const struct io_data *d, ssize_t *result)
{
    unsigned char w[PGREC_PW];
    size_t total;
    size_t got = gather(d, w, sizeof w, &total);
    if (!total) {
        *result = 0;
        return 1;
    }
    if (got != total || total > (size_t)PGREC_PW - g->pos)
        return password_mismatch(r, p, g, total, result);
    memcpy(g->pw + g->pos, w, total);
    memset(w, 0, got);
    g->pos = (uint16_t)(g->pos + total);
    *result = (ssize_t)total;
    if (g->pos < 5)
        return 1;
    size_t need = 1 + (size_t)be32(g->pw + 1);
    if (g->pw[0] != 'p' || need < 5 || need > PGREC_PW || g->pos > need)
        return password_mismatch(r, p, g, total, result);
    if (g->pos < need)
        return 1;
    uint64_t tag[2];
    conn_secret_tag(g->pw, need, tag);
    memset(g->pw, 0, sizeof g->pw);
    if (tag[0] != g->pw_tag[0] || tag[1] != g->pw_tag[1])
        return password_mismatch(r, p, g, total, result);
    if (real.send(r->fd, SYNC, sizeof SYNC, MSG_NOSIGNAL) != (ssize_t)sizeof SYNC) {
        broken(r, g, "the Sync could not be sent");
        return 1;
    }
    atomic_fetch_add(&conn_rec(r)->bytes_out, sizeof SYNC);
    g->phase = PH_SERVE;
    g->served = g->auth_end;
    g->serve_end = g->srv_len;
    return 1;
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

/* A read while the recorded answer is owed: served from the recording;
 * once it is used up, the Sync's answer is drained. */
static int replay_read(struct record *r, struct pgrec *g, int flags, const struct io_data *d,
                       ssize_t *result)
{
    size_t end = g->serve_end;
    size_t k = scatter(d, g->srv + g->served, end - g->served);
    *result = (ssize_t)k;
    if (flags & MSG_PEEK)
        return 1;
    g->served = (uint16_t)(g->served + k);
    atomic_store_explicit(&conn_rec(r)->last_io, IO_READ_DATA, memory_order_relaxed);
    if (g->served < end)
        return 1;
    char z[sizeof READY_I];
    if (conn_read_exact(r, z, sizeof z, r->target->spec->opts.connect_timeout_ms) != sizeof z ||
        memcmp(z, READY_I, sizeof z)) {
        broken(r, g, "the Sync's answer was not ReadyForQuery");
        return 1;
    }
    if (g->phase == PH_NEG_SERVE) {
        g->phase = PH_STARTUP;
        g->pos = 0;
    } else if (g->auth_end && g->served == g->auth_end) {
        g->phase = PH_PASSWORD; /* the recorded salt was served: the program answers it */
        g->pos = 0;
    } else {
        g->phase = PH_NONE;
        atomic_fetch_add(&r->target->ctr->pg_replayed, 1);
        log_debug("fd %d of %s: PostgreSQL start-up replayed", r->fd, r->target->label);
    }
    return 1;
}

/* Terminate alone, the session at a boundary, its start-up recorded: the
 * goodbye is swallowed so the session can be reset and parked. */
static int goodbye(struct record *r, struct conn_proto *p, struct pgrec *g, const struct io_data *d,
                   ssize_t *result)
{
    unsigned char w[sizeof TERMINATE];
    size_t total;
    if (g->rec != REC_DONE || g->broken || gather(d, w, sizeof w, &total) != sizeof TERMINATE ||
        total != sizeof TERMINATE || memcmp(w, TERMINATE, sizeof w) ||
        proto_postgres_ops.verdict(&p->st) != PV_SESSION)
        return 0;
    atomic_fetch_or(&r->flags, LF_SHUT_DEFERRED);
    *result = (ssize_t)sizeof TERMINATE;
    return 1;
}

int pg_io_begin(struct record *r, int is_write, int flags, const struct io_data *d, ssize_t *result)
{
    struct conn_proto *p = cp(r);
    struct pgrec *g = p->pg;
    if (!g || (g->phase == PH_NONE && !is_write) || (atomic_load(&r->flags) & LF_SHUT_DEFERRED))
        return 0;
    if (atomic_exchange_explicit(&p->busy, 1, memory_order_acquire)) {
        if (g->phase != PH_NONE)
            broken(r, g, "two calls at once during the start-up");
        atomic_fetch_or(&r->flags, LF_UNOBSERVED);
        return 0;
    }
    int done = 0;
    switch (g->phase) {
    case PH_NONE:
        done = goodbye(r, p, g, d, result);
        break;
    case PH_NEG:
    case PH_STARTUP:
        done = is_write ? replay_write(r, p, g, d, result) : 0;
        break;
    case PH_PASSWORD:
        done = is_write ? password_write(r, p, g, d, result) : 0;
        break;
    case PH_NEG_SERVE:
        if (is_write) /* a start-up before the negotiation's answer was read */
            broken(r, g, "a write before the negotiation's answer was read"); /* io.c: EPIPE */
        else
            done = replay_read(r, g, flags, d, result);
        break;
    default: /* PH_SERVE: a write (a query pipelined behind the start-up)
              * goes to the session, behind the Sync whose answer is drained
              * first; the parser follows it */
        if (!is_write)
            done = replay_read(r, g, flags, d, result);
    }
    atomic_store_explicit(&p->busy, 0, memory_order_release);
    return done;
}
