/* mysql.c - the MySQL/MariaDB client/server protocol (protocol 10, 4.1
 * packets), both directions, as the program's driver speaks it.
 *
 * Every message is a packet: a 3-byte little-endian payload length, a
 * sequence id, the payload; a payload of 0xffffff bytes goes on in the next
 * packet. The server speaks first (the greeting, protocol version 10); the
 * program answers (HandshakeResponse41, or an SSLRequest: TLS, never
 * parked); the server's answer is an OK (logged in), an ERR, an
 * AuthSwitchRequest (0xfe) or more authentication data (0x01), which the
 * program answers in turn, until the OK.
 *
 * Then the program sends commands, one packet each (the first payload byte
 * the command), and the server answers each: an OK or ERR, a result set
 * (column count, column definitions, an EOF unless CLIENT_DEPRECATE_EOF,
 * rows, an EOF or OK that ends them, whose status says whether another
 * result follows: SERVER_MORE_RESULTS_EXISTS), a prepared statement's
 * description, a LOCAL INFILE request (the program then sends the file and
 * an empty packet, answered by an OK or ERR), or nothing (COM_STMT_CLOSE,
 * COM_STMT_SEND_LONG_DATA). The parser keeps a queue of the commands
 * awaiting their answer and the answer's place. A connection is at a
 * boundary when the handshake's OK was read, the queue is empty, no
 * LOCAL INFILE runs, and both directions stand between packets.
 *
 * A session always holds state (its login, its database, its variables):
 * at a boundary the verdict is PV_SESSION, and the layer above resets it
 * (conn/myreset.c); COM_QUIT alone there is its goodbye. Never reusable: TLS asked, an ERR during the handshake,
 * COM_QUIT, COM_CHANGE_USER (another login), replication and other
 * commands the parser does not know, a server-side cursor.
 */
#include "mysql_int.h"

#include <string.h>

static void my_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A whole server packet during the handshake. */
static void handshake_in(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    if (!len) {
        my_die(m, PV_CONFUSED);
        return;
    }
    if (m->hs == HS_GREETING) {
        if (h[0] != 10)
            my_die(m, h[0] == 0xff ? PV_NEVER : PV_CONFUSED); /* too many connections, a blocked host */
        m->hs = HS_RESPONSE;
        return;
    }
    if (m->hs != HS_ANSWER) {
        my_die(m, PV_CONFUSED); /* the server spoke out of turn */
        return;
    }
    if (m->answers < 255)
        m->answers++;
    if (h[0] == 0x00) {
        int s = my_ok_status(h, kept);
        m->status = s < 0 ? 0 : (uint16_t)s;
        m->hs = HS_READY;
    } else if (h[0] == 0xff) {
        my_die(m, PV_NEVER); /* refused */
    } else if (h[0] == 0x01 && len == 2 && kept >= 2 && h[1] == 0x03) {
        /* caching_sha2_password's fast path: the OK follows */
    } else if (h[0] == 0x01 || h[0] == 0xfe) {
        if (h[0] == 0x01 && len == 2 && kept >= 2 && h[1] == 0x04)
            m->full = 1; /* the password itself is asked for */
        m->hs = HS_MORE;
    } else {
        my_die(m, PV_CONFUSED);
    }
}

/* A whole client packet during the handshake. */
static void handshake_out(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    if (m->hs == HS_MORE) {
        m->hs = HS_ANSWER;
        return;
    }
    if (m->hs != HS_RESPONSE || kept < 9) {
        my_die(m, PV_CONFUSED);
        return;
    }
    m->caps = le32(h);
    m->charset = h[8];
    /* libmariadb asks for progress reports and cached metadata here; both
     * change the answers' bytes (mysql_answer.c) */
    if (!(m->caps & CAP_MYSQL) && kept >= 32)
        m->xcaps = le32(h + 28);
    m->multi = (m->caps & CAP_MULTI_STATEMENTS) != 0;
    if (!(m->caps & CAP_PROTOCOL_41) || (m->caps & CAP_SSL) || len == 32)
        my_die(m, PV_NEVER); /* a pre-4.1 client, or TLS asked */
    m->hs = HS_ANSWER;
}

/* A whole client packet after the handshake: a command, or a LOCAL
 * INFILE's data. */
static void command(struct my *m, const unsigned char *h, uint32_t len)
{
    if (m->qn && m->q[0] == AN_QUERY && m->rs == RS_INFILE) {
        if (len == 0)
            m->rs = RS_INFILE_END;
        return;
    }
    if (!len) {
        my_die(m, PV_CONFUSED);
        return;
    }
    /* COM_SET_OPTION: multi-statements on (0) or off (1); the server keeps
     * it across COM_RESET_CONNECTION (measured on MariaDB 10.11) */
    if (h[0] == 0x1b && len == 3 && h[2] == 0 && h[1] <= 1)
        m->multi = h[1] == 0;
    int an = my_answer_of(h[0]);
    if (an < 0) {
        my_die(m, PV_NEVER);
        return;
    }
    if (an == AN_NONE)
        return;
    if (m->qn == MY_Q) {
        my_die(m, PV_CONFUSED);
        return;
    }
    m->q[m->qn++] = (uint8_t)an;
}

/* A logical packet is whole in direction d (out: the program wrote it). */
static void packet(struct my *m, int out, const struct my_dir *d)
{
    const unsigned char *h = d->head;
    if (out) {
        if (m->hs == HS_READY)
            command(m, h, d->len);
        else
            handshake_out(m, h, d->len, d->klen);
    } else if (m->hs == HS_READY) {
        my_answer(m, h, d->len, d->klen);
    } else {
        handshake_in(m, h, d->len, d->klen);
    }
}

/* Frame n bytes of one direction into packets. */
static void feed(struct my *m, int out, const unsigned char *p, size_t n)
{
    struct my_dir *d = out ? &m->o : &m->i;
    while (n && !m->dead) {
        if (d->hlen < 4) {
            d->hdr[d->hlen++] = *p++;
            n--;
            if (d->hlen < 4)
                continue;
            d->left = (uint32_t)d->hdr[0] | (uint32_t)d->hdr[1] << 8 | (uint32_t)d->hdr[2] << 16;
            if (!d->cont) {
                d->len = 0;
                d->klen = 0;
            }
            /* saturated: 257 pieces of 0xffffff would wrap to a short length,
             * and a row beginning 0xfe would pass for the end of rows */
            d->len = d->left > UINT32_MAX - d->len ? UINT32_MAX : d->len + d->left;
        } else {
            size_t k = n < d->left ? n : d->left;
            if (d->klen < MY_HEAD) {
                size_t c = k < (size_t)(MY_HEAD - d->klen) ? k : (size_t)(MY_HEAD - d->klen);
                memcpy(d->head + d->klen, p, c);
                d->klen = (uint8_t)(d->klen + c);
            }
            d->left -= (uint32_t)k;
            p += k;
            n -= k;
        }
        if (d->hlen == 4 && d->left == 0) {
            d->cont = d->hdr[0] == 0xff && d->hdr[1] == 0xff && d->hdr[2] == 0xff;
            d->hlen = 0;
            if (!d->cont)
                packet(m, out, d);
        }
    }
}

static void my_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    feed(M(st), 1, p, n);
}

static void my_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    feed(M(st), 0, p, n);
}

static int my_verdict(const struct proto_state *st)
{
    const struct my *m = CM(st);
    if (m->dead)
        return m->dead;
    if (m->hs == HS_GREETING && !m->i.hlen && !m->i.cont && !m->o.hlen && !m->o.cont)
        return PV_CLEAN; /* nothing read, nothing written (a packet begun is not clean) */
    if (m->hs != HS_READY || m->qn || m->o.hlen || m->o.cont || m->i.hlen || m->i.cont)
        return PV_INCOMPLETE;
    /* multi-statements switched from what the handshake asked (mysqlnd's
     * multi_query turns them on for good, and COM_RESET_CONNECTION keeps
     * them): the reset sends COM_SET_OPTION back (proto_my_multi_changed) */
    return PV_SESSION;
}

/* The reset (conn/myreset.c) was read: a session at a boundary, its last
 * status as the handshake's OK left it. */
static void my_reset_done(struct proto_state *st)
{
    struct my *m = M(st);
    m->qn = 0;
    m->rs = RS_FIRST;
    m->hs = HS_READY;
    m->status &= (uint16_t)~(ST_IN_TRANS | ST_MORE_RESULTS);
    m->multi = (m->caps & CAP_MULTI_STATEMENTS) != 0; /* the reset set it back */
}

int proto_my_handshake(const struct proto_state *st)
{
    const struct my *m = CM(st);
    return m->hs == HS_READY ? MY_HS_DONE : m->full ? MY_HS_FULL : MY_HS_ON;
}

unsigned proto_my_caps(const struct proto_state *st)
{
    return CM(st)->caps;
}

unsigned proto_my_status(const struct proto_state *st)
{
    return CM(st)->status;
}

int proto_my_charset(const struct proto_state *st)
{
    return CM(st)->charset;
}

unsigned proto_my_xcaps(const struct proto_state *st)
{
    return CM(st)->xcaps;
}

int proto_my_multi_changed(const struct proto_state *st)
{
    const struct my *m = CM(st);
    return m->multi != ((m->caps & CAP_MULTI_STATEMENTS) != 0);
}

/* A state just after the program wrote its HandshakeResponse with these
 * capabilities, MariaDB's extended ones included (the switch of
 * conn/myswitch.c: the server's answer comes next). */
void proto_my_after_response(struct proto_state *st, unsigned caps, unsigned xcaps, int charset)
{
    struct my *m = M(st);
    memset(st, 0, sizeof *st);
    m->caps = caps;
    m->xcaps = xcaps;
    m->charset = (uint8_t)charset;
    m->multi = (caps & CAP_MULTI_STATEMENTS) != 0;
    m->hs = HS_ANSWER;
}

/* COM_QUIT written alone at a boundary: swallowed (goodbye.c), the program
 * gets its EOF from the stub and the session is reset and parked. */
static int my_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g)
{
    static const unsigned char quit[5] = {1, 0, 0, 0, 0x01};
    (void)g;
    return n == sizeof quit && !memcmp(p, quit, n) && my_verdict(st) == PV_SESSION ? GB_SWALLOW : GB_NONE;
}

const struct proto_ops proto_mysql_ops = {
    .name = "mysql",
    .init = my_init,
    .out = my_out,
    .in = my_in,
    .verdict = my_verdict,
    .reset_done = my_reset_done,
    .goodbye = my_goodbye,
};
