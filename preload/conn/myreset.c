/* myreset.c - a MySQL session reset at park, checked at reuse.
 *
 * At park (non-blocking, as the Redis RESET), pipelined: COM_RESET_CONNECTION
 * (rolls back, releases table locks and GET_LOCK() locks, drops temporary
 * tables and prepared statements, clears user variables, sets every
 * session variable to its global value, SET NAMES's included), then
 * COM_INIT_DB of the handshake's database (the reset keeps the current
 * one), or, when the handshake named none, SELECT DATABASE() (no command
 * leaves a database, so one a session chose makes it unfit), then SET NAMES
 * with the handshake's collation (the reset put the global one back; with
 * it, in the same statement, what CLIENT_IGNORE_SPACE and
 * CLIENT_INTERACTIVE set at login), and
 * COM_SET_OPTION when the session switched multi-statements from what the
 * handshake asked (mysqlnd's multi_query; the reset keeps that option).
 *
 * At reuse, before the next program gets the connection, the whole reply
 * is awaited and checked without reading it (MSG_PEEK): an OK for each
 * command, no transaction open, autocommit as the handshake's OK had it,
 * the one NULL row, nothing else. It stays on the socket: its arrival is
 * the real readiness of the greeting the program reads first (myreplay.c),
 * which drains it. A server without COM_RESET_CONNECTION (MySQL < 5.7.3,
 * MariaDB < 10.2.4) answers ERR 1047: its sessions are never parked again.
 */
#include "myrec.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"
#include "../core/objpool.h"

#define ST_IN_TRANS 0x1u
#define ST_AUTOCOMMIT 0x2u
#define ST_MORE_RESULTS 0x8u
#define CAP_DEPRECATE_EOF 0x1000000u
#define CAP_MULTI_STATEMENTS 0x10000u
#define CAP_IGNORE_SPACE 0x100u
#define CAP_INTERACTIVE 0x400u
#define XCAP_CACHE_METADATA 0x10u
#define ER_UNKNOWN_COM 1047
#define MY_REPLY_MAX 1024 /* the longest reset reply accepted */

/* The collations whose SET NAMES objpool knows, by handshake id: those
 * the drivers send (utf8mb4 for PyMySQL, mysqlnd, libmariadb; its unicode
 * collation for node mysql2; latin1 and utf8 for older defaults). */
static const struct {
    uint8_t id;
    const char *set;
} names[] = {
    {8, "SET NAMES latin1 COLLATE latin1_swedish_ci"},
    {33, "SET NAMES utf8 COLLATE utf8_general_ci"},
    {45, "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci"},
    {46, "SET NAMES utf8mb4 COLLATE utf8mb4_bin"},
    {47, "SET NAMES latin1 COLLATE latin1_bin"},
    {63, "SET NAMES binary"},
    {83, "SET NAMES utf8 COLLATE utf8_bin"},
    {192, "SET NAMES utf8 COLLATE utf8_unicode_ci"},
    {224, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"},
    {255, "SET NAMES utf8mb4 COLLATE utf8mb4_0900_ai_ci"},
};

const char *my_set_names(int charset)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].id == charset)
            return names[i].set;
    return NULL;
}

/* The SET that gives the session back what its handshake set: the
 * collation, and what the server derives from two capabilities at login
 * (CLIENT_IGNORE_SPACE: IGNORE_SPACE added to the global sql_mode;
 * CLIENT_INTERACTIVE: wait_timeout from interactive_timeout), which the
 * reset put back to the global values. One statement, one OK. */
static size_t set_query(char *q, size_t cap, const char *set, unsigned caps)
{
    static const char SPACE[] = ", SESSION sql_mode = CONCAT_WS(',', @@GLOBAL.sql_mode, 'IGNORE_SPACE')";
    static const char INTERACTIVE[] = ", SESSION wait_timeout = @@SESSION.interactive_timeout";
    size_t n = strlen(set);
    if (n + 1 > cap)
        return 0;
    memcpy(q, set, n + 1); /* each piece with its NUL, which the next one covers */
    if ((caps & CAP_IGNORE_SPACE) && n + sizeof SPACE <= cap) {
        memcpy(q + n, SPACE, sizeof SPACE);
        n += sizeof SPACE - 1;
    }
    if ((caps & CAP_INTERACTIVE) && n + sizeof INTERACTIVE <= cap) {
        memcpy(q + n, INTERACTIVE, sizeof INTERACTIVE);
        n += sizeof INTERACTIVE - 1;
    }
    return n;
}

/* Append one command packet (sequence 0) to buf at *n. */
static void put_cmd(unsigned char *buf, size_t *n, int cmd, const void *arg, size_t len)
{
    unsigned char *p = buf + *n;
    size_t plen = len + 1;
    p[0] = (unsigned char)plen;
    p[1] = (unsigned char)(plen >> 8);
    p[2] = (unsigned char)(plen >> 16);
    p[3] = 0;
    p[4] = (unsigned char)cmd;
    memcpy(p + 5, arg, len);
    *n += 5 + len;
}

int my_send_reset(struct record *r, struct conn_proto *p, int fd)
{
    struct myrec *g = p->my;
    unsigned char buf[MY_DB_MAX + 400];
    size_t n = 0;
    const char *set = my_set_names(g->charset);
    static const char SELECT_DB[] = "SELECT DATABASE()";
    memset(g->w, 0, sizeof g->w); /* a response begun and abandoned */
    put_cmd(buf, &n, 0x1f, "", 0); /* COM_RESET_CONNECTION */
    if (g->db_len)
        put_cmd(buf, &n, 0x02, g->db, g->db_len); /* COM_INIT_DB */
    else
        put_cmd(buf, &n, 0x03, SELECT_DB, sizeof SELECT_DB - 1);
    char q[256]; /* the longest SET NAMES (46) and both additions (130) fit */
    size_t ql = set_query(q, sizeof q, set, proto_my_caps(&p->st));
    put_cmd(buf, &n, 0x03, q, ql);
    g->reset_q = 3;
    g->set_opt = 0;
    if (proto_my_multi_changed(&p->st)) {
        /* COM_SET_OPTION back to the handshake's multi-statements (on: 0, off: 1) */
        unsigned char opt[2] = {(proto_my_caps(&p->st) & CAP_MULTI_STATEMENTS) ? 0 : 1, 0};
        put_cmd(buf, &n, 0x1b, opt, sizeof opt);
        g->reset_q = 4;
        g->set_opt = 1;
    }
    ssize_t k = real.send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0)
        return -1;
    atomic_fetch_add(&conn_rec(r)->bytes_out, (uint64_t)k);
    if ((size_t)k != n)
        return -1;
    p->reset_pending = 1;
    log_debug("fd %d of %s: MySQL session reset sent", fd, r->target->label);
    return 0;
}

/* Skip a length-encoded integer at b[*at]; -1 past the end. */
static int skip_lenenc(const unsigned char *b, size_t end, size_t *at)
{
    if (*at >= end)
        return -1;
    unsigned c = b[*at];
    size_t w = c < 0xfb ? 1 : c == 0xfc ? 3 : c == 0xfd ? 4 : c == 0xfe ? 9 : 0;
    if (!w || *at + w > end)
        return -1;
    *at += w;
    return 0;
}

/* The checks of an OK packet's payload p[0, len): no transaction, autocommit as recorded. */
static int ok_fine(const struct myrec *g, const unsigned char *p, size_t len)
{
    size_t at = 1;
    if (len < 1 || (p[0] != 0x00 && p[0] != 0xfe) || skip_lenenc(p, len, &at) < 0 ||
        skip_lenenc(p, len, &at) < 0 || at + 2 > len)
        return 0;
    unsigned st = (unsigned)(p[at] | p[at + 1] << 8);
    return !(st & (ST_IN_TRANS | ST_MORE_RESULTS)) && (st & ST_AUTOCOMMIT) == (g->ok_status & ST_AUTOCOMMIT);
}

/* One packet at b[*at]: its payload and sequence id; 0 when it is not
 * whole yet. */
static int next_packet(const unsigned char *b, size_t n, size_t *at, const unsigned char **pl, size_t *len,
                       int *seq)
{
    if (n - *at < 4)
        return 0;
    *len = (size_t)b[*at] | (size_t)b[*at + 1] << 8 | (size_t)b[*at + 2] << 16;
    *seq = b[*at + 3];
    if (n - *at - 4 < *len)
        return 0;
    *pl = b + *at + 4;
    *at += 4 + *len;
    return 1;
}

/* The column count of SELECT DATABASE()'s answer: 1, with its definition
 * following (MariaDB's metadata cache adds a byte that says so). */
static int one_column(const unsigned char *pl, size_t len, unsigned xcaps)
{
    if (xcaps & XCAP_CACHE_METADATA)
        return len == 2 && pl[0] == 1 && pl[1] == 1;
    return len == 1 && pl[0] == 1;
}

/* The reply of SELECT DATABASE(): one column, one row, NULL. 1 when it is
 * that, 0 when more bytes are needed, -1 otherwise. */
static int null_row(const struct myrec *g, unsigned caps, unsigned xcaps, const unsigned char *b, size_t n,
                    size_t *at)
{
    const unsigned char *pl;
    size_t len;
    int seq, want = (caps & CAP_DEPRECATE_EOF) ? 4 : 5; /* count, definition, [EOF,] row, end */
    for (int i = 0; i < want; i++) {
        if (!next_packet(b, n, at, &pl, &len, &seq))
            return 0;
        int last = i == want - 1, row = i == want - 2, eof = !(caps & CAP_DEPRECATE_EOF) && i == 2;
        if (seq != i + 1 || (i == 0 && !one_column(pl, len, xcaps)) || (row && (len != 1 || pl[0] != 0xfb)) ||
            (eof && (len >= 9 || pl[0] != 0xfe)))
            return -1;
        if (last && (pl[0] != 0xfe || ((caps & CAP_DEPRECATE_EOF) ? !ok_fine(g, pl, len) : len < 5 ||
                                                                        ((pl[3] | pl[4] << 8) & ST_MORE_RESULTS))))
            return -1;
    }
    return 1;
}

/* The whole reset reply in b[0, n): its length when it is whole and right,
 * 0 when more bytes are needed, -1 when it is wrong (*no_reset: the server
 * does not know COM_RESET_CONNECTION). */
static long check_reply(const struct myrec *g, unsigned caps, unsigned xcaps, const unsigned char *b, size_t n,
                        int *no_reset)
{
    size_t at = 0, len;
    const unsigned char *pl;
    int seq;
    for (int q = 0; q < g->reset_q; q++) {
        if (q == 1 && !g->db_len) {
            int k = null_row(g, caps, xcaps, b, n, &at);
            if (k <= 0)
                return k;
            continue;
        }
        if (!next_packet(b, n, &at, &pl, &len, &seq))
            return 0;
        if (q == 0 && len >= 3 && pl[0] == 0xff && (pl[1] | pl[2] << 8) == ER_UNKNOWN_COM)
            *no_reset = 1;
        if (q == 3 && !(caps & CAP_DEPRECATE_EOF)) { /* COM_SET_OPTION: an EOF */
            if (seq != 1 || len != 5 || pl[0] != 0xfe || ((pl[3] | pl[4] << 8) & (ST_IN_TRANS | ST_MORE_RESULTS)))
                return -1;
            continue;
        }
        if (seq != 1 || !ok_fine(g, pl, len))
            return -1;
    }
    return at == n ? (long)at : -1; /* anything more was not asked for */
}

/* Await the whole reply, looking, not reading; its length, or -1. */
static long peek_reply(struct record *r, struct myrec *g, unsigned caps, unsigned xcaps, int *no_reset)
{
    unsigned char b[MY_REPLY_MAX];
    uint64_t deadline = now_ns() + r->target->spec->opts.connect_timeout_ms * 1000000ull;
    for (;;) {
        ssize_t n = real.recv(r->fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return -1;
        long k = n > 0 ? check_reply(g, caps, xcaps, b, (size_t)n, no_reset) : 0;
        if (k != 0 || n == (ssize_t)sizeof b)
            return k ? k : -1;
        uint64_t now = now_ns();
        if (now >= deadline)
            return -1;
        /* nothing yet: wait for data; part of it: for the rest, a while */
        struct pollfd pf = {r->fd, POLLIN, 0};
        if (n > 0)
            poll(NULL, 0, 1);
        else if (poll(&pf, 1, (int)((deadline - now) / 1000000ull) + 1) < 0 && errno != EINTR)
            return -1;
    }
}

int my_finish_reset(struct record *r, struct conn_proto *p)
{
    struct myrec *g = p->my;
    if (!p->reset_pending || !g || g->rec != MREC_DONE)
        return OBJPOOL_DISCARD_RESET_FAILED; /* never reused without a checked reset */
    p->reset_pending = 0;
    int no_reset = 0;
    long len = peek_reply(r, g, proto_my_caps(&p->st), proto_my_xcaps(&p->st), &no_reset);
    if (no_reset) {
        atomic_fetch_add(&r->target->ctr->my_no_reset, 1);
        atomic_store(&conn_target(r->target)->reset_refused, 1);
        log_msg(LOG_WARN, "%s: the server has no COM_RESET_CONNECTION: MySQL sessions are not reused",
                r->target->label);
    }
    if (len <= 0) {
        log_debug("fd %d of %s: MySQL reset reply refused", r->fd, r->target->label);
        return OBJPOOL_DISCARD_RESET_FAILED;
    }
    if (g->euid != geteuid() || g->egid != getegid())
        return OBJPOOL_DISCARD_RESET_FAILED; /* another identity: unix_socket auth would differ */
    if (g->epoch != atomic_load(&conn_target(r->target)->my_epoch))
        return OBJPOOL_DISCARD_RESET_FAILED; /* a credential differed since: superseded */
    proto_mysql_ops.reset_done(&p->st);
    my_replay_arm(g, (size_t)len);
    return 0;
}
