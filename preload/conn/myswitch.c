/* myswitch.c - a MySQL HandshakeResponse that is not the recorded one: a
 * fresh connection takes the reused one's place on the program's number.
 *
 * The program answered the replayed greeting's scramble: its response
 * proves nothing to another connection, whose server sent another scramble,
 * and a near match is never taken. So objpool connects to the target anew
 * (bounded by connect_timeout), reads its greeting, and sends it the
 * program's response with the credential left empty and a client plugin
 * name no server has. The server then asks the program to authenticate
 * with the account's own plugin over the fresh connection's scramble (an
 * AuthSwitchRequest, which every current driver answers), and it alone
 * decides: a wrong password is refused as it would be without objpool.
 * The fresh connection is put on the program's number as the swap at
 * connect does (dial.c), which closes the reused session: the thread id the
 * program was served is its own no longer, so that session never serves
 * anyone again. The lease is never recorded (no greeting of its own was
 * read by the program) and never parked.
 *
 * A client that cannot follow a switch (no CLIENT_PLUGIN_AUTH: node's
 * mysqljs) is never recorded; should one still meet a recorded session, it
 * sees that one connect fail, and the target's recorded sessions are
 * retired, so that its next connect gets a fresh connection.
 *
 * A response that differs from the recorded one only in its credential (the
 * same user, database, options and attributes) is a password that changed
 * or a wrong one: every session recorded before is superseded (the target's
 * credential epoch moves on), so once another password logged in the old
 * one never gets a session.
 */
#include "myrec.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/real.h"

#define CAP_MYSQL 0x1u
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_SSL 0x800u
#define CAP_SECURE_CONNECTION 0x8000u
#define CAP_LENENC_AUTH 0x200000u

static const char SWITCH_PLUGIN[] = "objpool_switch"; /* a client plugin no server has */

/* The end of the NUL-terminated string at p[at, n); 0 if it has none. */
static size_t str_end(const unsigned char *p, size_t at, size_t n)
{
    const unsigned char *z = at < n ? memchr(p + at, 0, n - at) : NULL;
    return z ? (size_t)(z - p) + 1 : 0;
}

int my_resp_parse(const unsigned char *w, size_t n, struct my_resp *rp)
{
    memset(rp, 0, sizeof *rp);
    if (n < 4 + 33)
        return -1;
    const unsigned char *p = w + 4;
    size_t len = n - 4;
    rp->caps = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    rp->charset = p[8];
    if (!(rp->caps & CAP_MYSQL)) /* MariaDB's extended capabilities, in the filler's end */
        rp->xcaps = (uint32_t)p[28] | (uint32_t)p[29] << 8 | (uint32_t)p[30] << 16 | (uint32_t)p[31] << 24;
    if (!(rp->caps & CAP_PROTOCOL_41) || (rp->caps & CAP_SSL))
        return -1;
    size_t at = str_end(p, 32, len);
    if (!at)
        return -1;
    rp->user_end = 4 + at;
    if (rp->caps & (CAP_LENENC_AUTH | CAP_SECURE_CONNECTION)) {
        /* one length byte (a length-encoded one under 251 is the same) */
        if (at >= len || p[at] >= 0xfb)
            return -1; /* a credential longer than 250 bytes: never one objpool takes apart */
        rp->auth = 4 + at + 1;
        at += 1 + (size_t)p[at];
        if (at > len)
            return -1;
        rp->auth_end = 4 + at;
    } else {
        size_t e = str_end(p, at, len);
        if (!e)
            return -1;
        rp->auth = 4 + at;
        rp->auth_end = 4 + e - 1; /* the NUL stays outside the credential */
        at = e;
    }
    if (rp->caps & CAP_CONNECT_WITH_DB) {
        size_t e = str_end(p, at, len);
        if (!e)
            return -1;
        rp->db = p + at;
        rp->db_len = e - at - 1;
        at = e;
    }
    rp->rest = 4 + at;
    return 0;
}

void my_resp_id(const unsigned char *w, size_t n, const struct my_resp *rp, uint64_t tag[2])
{
    unsigned char buf[MYREC_CLI];
    size_t head = rp->auth - 4, tail = n - rp->auth_end;
    if (head + tail > sizeof buf) {
        tag[0] = tag[1] = 0;
        return;
    }
    memcpy(buf, w + 4, head);
    memcpy(buf + head, w + rp->auth_end, tail);
    conn_secret_tag(buf, head + tail, tag);
}

/* The program's response rebuilt without its credential, under the switch
 * plugin: out[0, *len). -1 when it cannot be (no client plugins). */
static int rebuild(const unsigned char *w, size_t n, const struct my_resp *rp, unsigned char *out, size_t cap,
                   size_t *len)
{
    if (!(rp->caps & MY_CAP_PLUGIN_AUTH))
        return -1; /* an old client: it would not follow a switch */
    const unsigned char *p = w + 4;
    size_t plen = n - 4, at = rp->rest - 4;
    size_t db = (rp->caps & CAP_CONNECT_WITH_DB) ? rp->db_len + 1 : 0;
    size_t plugin_end = str_end(p, at, plen);
    if (!plugin_end)
        return -1;
    size_t attrs = plen - plugin_end, head = rp->user_end - 4;
    size_t total = head + 1 + db + sizeof SWITCH_PLUGIN + attrs;
    if (4 + total > cap)
        return -1;
    size_t o = 4;
    memcpy(out + o, p, head);
    o += head;
    out[o++] = 0; /* an empty credential */
    if (db) /* the database's name and its NUL */
        memcpy(out + o, rp->db, db);
    o += db;
    memcpy(out + o, SWITCH_PLUGIN, sizeof SWITCH_PLUGIN);
    o += sizeof SWITCH_PLUGIN;
    memcpy(out + o, p + plugin_end, attrs);
    o += attrs;
    out[0] = (unsigned char)total;
    out[1] = (unsigned char)(total >> 8);
    out[2] = (unsigned char)(total >> 16);
    out[3] = w[3];
    *len = o;
    return 0;
}

/* Read the fresh connection's greeting whole (protocol 10) before the
 * deadline; its length, or -1. */
static long read_greeting(int s, uint64_t deadline)
{
    unsigned char b[1024];
    size_t got = 0, need = 4;
    while (got < need) {
        if (conn_wait_fd(s, POLLIN, deadline) < 0)
            return -1;
        ssize_t k = real.recv(s, b + got, need - got, MSG_DONTWAIT);
        if (k <= 0) {
            if (k < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            return -1;
        }
        got += (size_t)k;
        if (got == 4) {
            need = 4 + ((size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16);
            if (need > sizeof b || b[3] != 0)
                return -1;
        }
    }
    return need > 4 && b[4] == 10 ? (long)need : -1;
}

void my_switch(struct record *r, struct conn_proto *p, struct myrec *g, const unsigned char *w, size_t n)
{
    struct my_resp rp;
    unsigned char out[MYREC_CLI + sizeof SWITCH_PLUGIN];
    size_t len = 0;
    if (my_resp_parse(w, n, &rp) < 0 || rebuild(w, n, &rp, out, sizeof out, &len) < 0) {
        /* a client without plugins (node's mysqljs) cannot follow a
         * switch: this connect fails, and every recorded session of the
         * target is retired, so that the next one is made afresh */
        atomic_fetch_add(&conn_target(r->target)->my_epoch, 1);
        my_broken(r, g, "a HandshakeResponse objpool cannot hand to a fresh connection");
        return;
    }
    uint64_t id[2];
    my_resp_id(w, n, &rp, id);
    if (id[0] == g->id_tag[0] && id[1] == g->id_tag[1]) {
        atomic_fetch_add(&r->target->ctr->my_auth_mismatch, 1);
        atomic_fetch_add(&conn_target(r->target)->my_epoch, 1); /* supersedes every recording */
    }
    uint64_t deadline = now_ns() + r->target->spec->opts.connect_timeout_ms * 1000000ull;
    int s = conn_dial(r->target, deadline);
    long greeting = s < 0 ? -1 : read_greeting(s, deadline);
    if (greeting < 0 || conn_send_all(s, out, len, deadline) < 0 ||
        conn_take_place(r, s) < 0) {
        memset(out, 0, sizeof out);
        if (s >= 0)
            real.close(s);
        my_broken(r, g, "no fresh connection for a differing HandshakeResponse");
        return;
    }
    memset(out, 0, sizeof out);
    real.close(s);
    /* a fresh connection from here, never recorded: the server's switch
     * request is its next bytes, answered by the program */
    atomic_fetch_and(&r->flags, ~LF_REUSED);
    atomic_store(&conn_rec(r)->bytes_out, (uint64_t)len);
    atomic_store(&conn_rec(r)->bytes_in, (uint64_t)greeting);
    proto_my_after_response(&p->st, rp.caps, rp.xcaps, rp.charset);
    memset(g, 0, sizeof *g);
    g->rec = MREC_BAD;
    atomic_fetch_add(&r->target->ctr->my_switched, 1);
    log_debug("fd %d of %s: MySQL handshake differs: a fresh connection, the program re-authenticates",
              r->fd, r->target->label);
}
