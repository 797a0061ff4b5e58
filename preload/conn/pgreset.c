/* pgreset.c - a PostgreSQL session reset at park, checked at reuse.
 *
 * At park (non-blocking, as the Redis RESET): `ROLLBACK` when the last
 * ReadyForQuery said a transaction was open or failed ('T', 'E'), then
 * `DISCARD ALL` (it cannot run in a transaction block, hence two Query
 * messages, pipelined).
 *
 * At reuse, before the next program gets the connection, the reply is read
 * whole (each read bounded by connect_timeout) and checked message by
 * message: the command tags, the one row 't', ReadyForQuery 'I' for each
 * query; ParameterStatus only when it re-reports a value exactly as the
 * recorded start-up answer has it (DISCARD ALL's RESET ALL re-reports what
 * the session changed; a value that differs means the server's defaults
 * moved, and the recording is stale); notices and notifications queued
 * before the UNLISTEN are dropped. Anything else (an error) destroys the
 * connection (reset_failed). Then the login check, one query: whether the
 * session's role may still log in (rolcanlogin, rolvaliduntil; pg_roles is
 * readable by every role), asked at reuse so that a role made NOLOGIN,
 * expired or dropped while its session sat idle gets no session; its
 * ReadyForQuery brings any parameter a configuration reload changed while
 * the session sat idle (held to the same rule). The process's effective uid and gid must be
 * the recorded ones (peer and ident authentication).
 */
#include "pgrec.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../core/objpool.h"

static const char ROLLBACK[] = "ROLLBACK";
static const char DISCARD[] = "DISCARD ALL";
static const char LOGIN[] = "SELECT rolcanlogin AND (rolvaliduntil IS NULL OR rolvaliduntil > now()) "
                            "FROM pg_roles WHERE rolname = session_user";
#define PG_REPLY_MSG 1024 /* the longest reply message accepted */

/* Append one Query message of text s to buf at *n. */
static void put_query(unsigned char *buf, size_t *n, const char *s)
{
    size_t len = strlen(s) + 1;
    uint32_t ml = (uint32_t)(len + 4);
    unsigned char *p = buf + *n;
    p[0] = 'Q';
    p[1] = (unsigned char)(ml >> 24);
    p[2] = (unsigned char)(ml >> 16);
    p[3] = (unsigned char)(ml >> 8);
    p[4] = (unsigned char)ml;
    memcpy(p + 5, s, len);
    *n += 5 + len;
}

int pg_send_reset(struct record *r, struct conn_proto *p, int fd)
{
    struct pgrec *g = p->pg;
    unsigned char buf[256];
    size_t n = 0;
    int status = pg_rec_status(p);
    g->reset_q = 0;
    if (status == 'T' || status == 'E') {
        put_query(buf, &n, ROLLBACK);
        g->reset_q++;
        atomic_fetch_add(&r->target->ctr->pg_reset_rollback, 1);
    }
    memset(g->pw, 0, sizeof g->pw); /* a password message begun and abandoned */
    put_query(buf, &n, DISCARD);
    g->reset_q++;
    ssize_t k = real.send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0)
        return -1;
    atomic_fetch_add(&conn_rec(r)->bytes_out, (uint64_t)k);
    if ((size_t)k != n)
        return -1;
    p->reset_pending = 1;
    log_debug("fd %d of %s: PostgreSQL session reset sent", fd, r->target->label);
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One reply message into m (header and body); its body length, or -1. */
static long read_msg(struct record *r, unsigned char *m)
{
    uint64_t to = r->target->spec->opts.connect_timeout_ms;
    if (conn_read_exact(r, (char *)m, 5, to) != 5)
        return -1;
    uint32_t len = be32(m + 1);
    if (len < 4 || len - 4 > PG_REPLY_MSG - 5)
        return -1;
    size_t body = len - 4;
    if (body && conn_read_exact(r, (char *)m + 5, body, to) != body)
        return -1;
    return (long)body;
}

/* A CommandComplete of the reset: one of its three tags. */
static int tag_ok(const unsigned char *b, long n)
{
    static const char *const tags[] = {"ROLLBACK", "DISCARD ALL", "SELECT 1"};
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
        if ((size_t)n == strlen(tags[i]) + 1 && !memcmp(b, tags[i], (size_t)n))
            return 1;
    return 0;
}

/* The login check's one row: one column, "t". */
static int row_ok(const unsigned char *b, long n)
{
    static const unsigned char yes[7] = {0, 1, 0, 0, 0, 1, 't'};
    return n == 7 && !memcmp(b, yes, 7);
}

/* Read the reset's reply; 0 if every message is one it may hold and the
 * role may log in (rows: the login check's one row, or 0 for a Sync). */
static int check_reply(struct record *r, struct conn_proto *p, int queries, int want_rows)
{
    unsigned char m[PG_REPLY_MSG];
    int ready = 0, rows = 0;
    while (ready < queries) {
        long n = read_msg(r, m);
        if (n < 0)
            return -1;
        const unsigned char *b = m + 5;
        switch (m[0]) {
        case 'Z':
            if (n != 1 || b[0] != 'I')
                return -1;
            ready++;
            break;
        case 'C':
            if (!tag_ok(b, n))
                return -1;
            break;
        case 'T': /* the login check's row description */
            break;
        case 'D':
            if (!row_ok(b, n))
                return -1; /* NOLOGIN, expired, or not one row */
            rows++;
            break;
        case 'S':
            if (!pg_rec_has(p, m, (size_t)n + 5))
                return -1;
            pg_params_reset(p->pg, m, (size_t)n + 5);
            break;
        case 'N':
        case 'A':
            break;
        default: /* an ErrorResponse, or anything unknown */
            return -1;
        }
    }
    /* every parameter the session saw change was reset to its recorded value */
    return rows == want_rows && pg_params_clean(p->pg) ? 0 : -1;
}

/* The login check runs at reuse, not at park: a role made NOLOGIN or
 * expired after its session was parked gets no session. Its ReadyForQuery
 * also brings any parameter a configuration reload changed while the
 * session sat idle, so that a parameter that moved since the recording
 * destroys the connection here rather than after its stale value was
 * served. */
static int check_login(struct record *r, struct conn_proto *p)
{
    unsigned char q[sizeof LOGIN + 5];
    size_t n = 0;
    put_query(q, &n, LOGIN);
    if (real.send(r->fd, q, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
        return -1;
    atomic_fetch_add(&conn_rec(r)->bytes_out, n);
    return check_reply(r, p, 1, 1);
}

int pg_finish_reset(struct record *r, struct conn_proto *p)
{
    struct pgrec *g = p->pg;
    if (!p->reset_pending || !g || g->rec != REC_DONE)
        return OBJPOOL_DISCARD_RESET_FAILED; /* never reused without a checked reset */
    p->reset_pending = 0;
    if (check_reply(r, p, g->reset_q, 0) < 0 || check_login(r, p) < 0) {
        log_debug("fd %d of %s: PostgreSQL reset reply refused", r->fd, r->target->label);
        return OBJPOOL_DISCARD_RESET_FAILED;
    }
    if (g->euid != geteuid() || g->egid != getegid())
        return OBJPOOL_DISCARD_RESET_FAILED; /* another identity: peer auth would differ */
    if (g->auth_end && g->epoch != atomic_load(&conn_target(r->target)->pg_epoch))
        return OBJPOOL_DISCARD_RESET_FAILED; /* a password differed since: superseded */
    proto_postgres_ops.reset_done(&p->st);
    pg_replay_arm(r, p);
    return 0;
}
