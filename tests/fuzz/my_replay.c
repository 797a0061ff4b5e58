/* my_replay.c - libFuzzer target for the MySQL replay (preload/conn/
 * myreplay.c, linked with myswitch.c, myreset.c, secret.c and the parser
 * proto/mysql*.c; the socket, the blocks and the fresh connection are
 * stubs here). A handshake (the greeting, a HandshakeResponse41 with a
 * 20-byte credential, a database or none, and connection attributes; an OK,
 * or an AuthSwitchRequest, the program's second credential and the OK) is
 * fed to the recorder through my_parse, split where the input says; the
 * lease is armed as after a checked reset (my_replay_arm, the reset's
 * reply waiting on the socket), and the program's turns go through
 * my_io_begin, split where the input says (buffers or iovecs), one byte
 * possibly changed, its reads in pieces of the input's sizes (some with
 * MSG_PEEK, some through recvmsg, some with MSG_DONTWAIT or on an
 * O_NONBLOCK socket, the ping's answer arriving when the input says).
 * The checks:
 * - unchanged: every turn is swallowed, the program reads exactly the
 *   recorded server turns, the reset's reply and each ping's OK are
 *   drained whole, a non-blocking read gets EAGAIN only before the ping's
 *   answer came (and a blocking one never), the replay is counted once,
 *   and a COM_QUIT written alone afterwards is passed on, the parser
 *   naming it the goodbye;
 * - a changed byte is never accepted: no ping is sent for that turn; in
 *   the response, a fresh connection gets it rebuilt with an empty
 *   credential (no byte of the program's credential reaches it), and a
 *   change inside the credential alone counts an auth_mismatch and bumps
 *   the credential epoch; elsewhere, or when the fresh connection fails,
 *   the replay ends (broken) and the lease is shut down;
 * - a program without client plugins (it could not follow a switch) is
 *   never recorded.
 * Built with -DMY_REPLAY_MAIN it is a deterministic test instead: every
 * piece size of the recording, the writes and the reads, the program's
 * bytes cut at every byte, every single changed byte, both handshakes
 * with and without a database and client plugins, blocking and not, the
 * fresh connection made and failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../../preload/conn/myrec.h"
#include "../../preload/base/log.h"
#include "../../preload/base/real.h"
#include "../../preload/core/blocks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A check failed: say where, and abort (libFuzzer keeps the input). */
#define FAIL()                                                        \
    do {                                                              \
        fprintf(stderr, "my_replay.c:%d: check failed\n", __LINE__); \
        abort();                                                      \
    } while (0)

/* ---- stubs: the socket is a queue of the bytes the server sent --------- */
struct real_fns real;
int log_level = LOG_ERROR;
void log_msg(int level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}
static _Alignas(64) unsigned char block[4096];
void *block_alloc(void)
{
    memset(block, 0, sizeof block);
    return block;
}
void block_free(void *b)
{
    (void)b;
}
static struct conn_proto proto;
struct conn_proto *cp(struct record *r)
{
    (void)r;
    return &proto;
}
/* The pooled socket: its unread server bytes are a queue here; its
 * readiness is a real socket pair (sp[0] the lease's fd), written one byte
 * when a ping's answer "arrives", so that poll() tells the truth. */
static unsigned char sock[256];
static size_t sock_n;
static int pings, late, nonblock, sp[2] = {-1, -1};
static const unsigned char PING[5] = {1, 0, 0, 0, 0x0e};
static const unsigned char PING_OK[11] = {7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0};
static ssize_t fake_send(int fd, const void *b, size_t n, int flags)
{
    (void)flags;
    if (fd != sp[0] || n != sizeof PING || memcmp(b, PING, n) || late)
        FAIL(); /* the replay writes nothing but its pings, one at a time */
    pings++;
    memcpy(sock + sock_n, PING_OK, sizeof PING_OK);
    sock_n += sizeof PING_OK;
    late = 1; /* on its way */
    return (ssize_t)n;
}
/* The ping's answer arrives: the lease's fd becomes readable. */
static void arrive(void)
{
    if (late && write(sp[1], "x", 1) != 1)
        FAIL();
    late = 0;
}
static int shut; /* my_broken() shut the lease down, to wake the program */
static int fake_shutdown(int fd, int how)
{
    if (fd != sp[0] || how != SHUT_RDWR)
        FAIL();
    shut = 1;
    return 0;
}
static int fake_fcntl(int fd, int cmd, ...)
{
    if (fd != sp[0] || cmd != F_GETFL)
        FAIL();
    return O_RDWR | (nonblock ? O_NONBLOCK : 0);
}
size_t conn_read_exact(struct record *r, char *buf, size_t len, uint64_t timeout_ms)
{
    (void)r;
    (void)timeout_ms;
    char mark;
    arrive(); /* a blocking read waits for it */
    while (recv(sp[0], &mark, 1, MSG_DONTWAIT) == 1) {
    }
    if (len > sock_n)
        return 0;
    memcpy(buf, sock, len);
    memmove(sock, sock + len, sock_n - len);
    sock_n -= len;
    return len;
}
/* the fresh connection of myswitch.c: fd 9, its greeting, what it was sent */
static int dial_ok, dialed, placed;
static unsigned char sent[2048];
static size_t sent_n, greet_at;
static unsigned char greet[128];
static size_t greet_n;
int conn_dial(const struct target *t, uint64_t deadline)
{
    (void)t;
    (void)deadline;
    dialed++;
    greet_at = 0;
    return dial_ok ? 9 : -1;
}
int conn_wait_fd(int fd, short ev, uint64_t deadline)
{
    (void)ev;
    (void)deadline;
    return fd == 9 ? 0 : -1;
}
static ssize_t fake_recv(int fd, void *b, size_t n, int flags)
{
    (void)flags;
    if (fd != 9)
        FAIL();
    size_t k = n < greet_n - greet_at ? n : greet_n - greet_at;
    memcpy(b, greet + greet_at, k);
    greet_at += k;
    return (ssize_t)k;
}
static int fake_close(int fd)
{
    if (fd != 9)
        FAIL();
    return 0;
}
int conn_send_all(int s, const unsigned char *b, size_t n, uint64_t deadline)
{
    (void)deadline;
    if (s != 9 || n > sizeof sent)
        FAIL();
    memcpy(sent, b, n);
    sent_n = n;
    return 0;
}
int conn_take_place(struct record *r, int s)
{
    (void)r;
    if (s != 9)
        FAIL();
    placed++;
    return 0;
}

/* ---- the recorded handshake ------------------------------------------- */
static unsigned char srv[512], cli[256];
static size_t srv_n, cli_n, srv_end[3], cli_end[2]; /* where each turn ends */
static size_t auth_at, auth_end;                    /* the response's credential */
static int nturns;

static void pkt(unsigned char *b, size_t *n, uint8_t seq, const void *payload, size_t len)
{
    b[(*n)++] = (unsigned char)len, b[(*n)++] = (unsigned char)(len >> 8), b[(*n)++] = (unsigned char)(len >> 16);
    b[(*n)++] = seq;
    memcpy(b + *n, payload, len);
    *n += len;
}

/* The greeting: protocol 10, thread id 7, a 20-byte scramble. */
static size_t make_greeting(unsigned char *b, uint32_t thread)
{
    unsigned char g[96];
    size_t n = 0;
    uint32_t caps = 0x00000200u | 0x00008000u | 0x00080000u | 0x00200000u | 0x00100000u | 0x8u | 0x01000000u;
    memcpy(g, "\n10.11.6-MariaDB\0", 17), n = 17;
    g[n++] = (unsigned char)thread, g[n++] = 0, g[n++] = 0, g[n++] = 0;
    memcpy(g + n, "abcdefgh\0", 9), n += 9;
    g[n++] = (unsigned char)caps, g[n++] = (unsigned char)(caps >> 8), g[n++] = 45, g[n++] = 2, g[n++] = 0;
    g[n++] = (unsigned char)(caps >> 16), g[n++] = (unsigned char)(caps >> 24), g[n++] = 21;
    memset(g + n, 0, 10), n += 10;
    memcpy(g + n, "ijklmnopqrst\0", 13), n += 13;
    memcpy(g + n, "mysql_native_password\0", 22), n += 22;
    size_t out = 0;
    pkt(b, &out, 0, g, n);
    return out;
}

/* HS_SWITCH: an AuthSwitchRequest and a second credential; HS_NO_DB: no
 * database named (no CLIENT_CONNECT_WITH_DB), as pymysql without one. */
enum { HS_SWITCH = 1, HS_NO_DB = 2, HS_NONBLOCK = 4 /* the replay: an O_NONBLOCK socket */,
       HS_NO_PLUGIN = 8 /* no CLIENT_PLUGIN_AUTH (node's mysqljs): never recorded */ };
static void make_handshake(int variant)
{
    int with_switch = variant & HS_SWITCH;
    srv_n = cli_n = 0;
    srv_n = make_greeting(srv, 7);
    srv_end[0] = srv_n;
    unsigned char r[160];
    size_t n = 0;
    uint32_t caps = 0x00000200u | 0x00008000u | 0x00200000u | 0x00100000u | 0x01000000u;
    if (!(variant & HS_NO_DB))
        caps |= 0x8u;
    if (!(variant & HS_NO_PLUGIN))
        caps |= 0x00080000u;
    r[n++] = (unsigned char)caps, r[n++] = (unsigned char)(caps >> 8), r[n++] = (unsigned char)(caps >> 16);
    r[n++] = (unsigned char)(caps >> 24);
    r[n++] = 0, r[n++] = 0, r[n++] = 0, r[n++] = 1, r[n++] = 45;
    memset(r + n, 0, 23), n += 23;
    memcpy(r + n, "u_native\0", 9), n += 9;
    r[n++] = 20;
    auth_at = 4 + n;
    for (int i = 0; i < 20; i++)
        r[n++] = (unsigned char)(0xa0 + i); /* the credential: bytes found nowhere else */
    auth_end = 4 + n;
    if (!(variant & HS_NO_DB))
        memcpy(r + n, "db1", 4), n += 4;
    if (!(variant & HS_NO_PLUGIN))
        memcpy(r + n, "mysql_native_password", 22), n += 22;
    static const char attrs[] = "\x0c_client_name\x07pymysql";
    r[n++] = sizeof attrs - 1;
    memcpy(r + n, attrs, sizeof attrs - 1), n += sizeof attrs - 1;
    pkt(cli, &cli_n, 1, r, n);
    cli_end[0] = cli_n;
    static const unsigned char ok[7] = {0, 0, 0, 2, 0, 0, 0};
    if (!with_switch) {
        pkt(srv, &srv_n, 2, ok, sizeof ok);
        srv_end[1] = srv_n;
        nturns = 3;
        return;
    }
    static const char sw[] = "\xfemysql_native_password\0ABCDEFGHIJKLMNOPQRST";
    pkt(srv, &srv_n, 2, sw, sizeof sw);
    srv_end[1] = srv_n;
    unsigned char c2[20];
    for (int i = 0; i < 20; i++)
        c2[i] = (unsigned char)(0xc0 + i);
    pkt(cli, &cli_n, 3, c2, sizeof c2);
    cli_end[1] = cli_n;
    pkt(srv, &srv_n, 4, ok, sizeof ok);
    srv_end[2] = srv_n;
    nturns = 5;
}

static struct pool_spec spec;
static struct target_counters ctr;
static struct target target;
static struct record rec;

/* Feed b[0, n) in pieces whose sizes come from cuts (1 + each byte % 61). */
static void record_split(int is_write, const unsigned char *b, size_t n, const uint8_t *cuts, size_t ncuts)
{
    size_t at = 0, i = 0;
    while (at < n) {
        size_t k = ncuts ? 1 + (size_t)(cuts[i++ % ncuts] % 61) : n;
        if (k > n - at)
            k = n - at;
        my_parse(&rec, &proto, is_write, b + at, k);
        at += k;
    }
}

/* The next read's piece size and kind (bit 7: MSG_PEEK, bit 6: recvmsg);
 * never two peeks in a row, so that every second read makes progress. */
static int peeked;
static uint8_t next_read(const uint8_t *rd, size_t nrd, size_t *ri)
{
    uint8_t c = nrd ? rd[(*ri)++ % nrd] : 60;
    if (peeked)
        c &= 127;
    peeked = (c & 128) != 0;
    return c;
}

/* The program reads while a server turn is owed; what it got is appended. */
static void read_turn(struct myrec *g, const uint8_t *rd, size_t nrd, size_t *ri, unsigned char *got, size_t *got_n)
{
    while (g->phase == MPH_SERVE && !g->broken) {
        uint8_t c = next_read(rd, nrd, ri);
        unsigned char buf[64];
        size_t want = 1 + (size_t)(c & 15);
        int flags = ((c & 128) ? MSG_PEEK : 0) | ((c & 32) ? MSG_DONTWAIT : 0);
        if (c & 16)
            arrive();
        struct iovec iov[2] = {{buf, want / 2}, {buf + want / 2, want - want / 2}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
        const struct msghdr *mp = &m;
        struct io_data d = (c & 64) ? IO_MSG(mp) : IO_BUF(buf, want);
        ssize_t res = -1;
        errno = 0;
        if (!my_io_begin(&rec, 0, flags, &d, &res))
            FAIL();
        if (res < 0) { /* only a non-blocking read, before the answer came */
            if (errno != EAGAIN || !late || !(nonblock || (flags & MSG_DONTWAIT)))
                FAIL();
            arrive(); /* the program polls; the answer comes */
            continue;
        }
        if (res == 0 || (size_t)res > want)
            FAIL();
        if (!(c & 128)) {
            if (*got_n + (size_t)res > sizeof srv)
                FAIL();
            memcpy(got + *got_n, buf, (size_t)res);
            *got_n += (size_t)res;
        }
    }
}

/* One run: recorded with the cut sizes rc, replayed with the program's
 * bytes (byte `bad` xored with `x`, none if x == 0) written in pieces wc
 * (bit 7: as two iovecs) and read in pieces rd. */
static void run(int variant, int dial, const uint8_t *rc, size_t nrc, const uint8_t *wc, size_t nwc,
                const uint8_t *rd, size_t nrd, size_t bad, unsigned char x)
{
    make_handshake(variant);
    nonblock = (variant & HS_NONBLOCK) != 0;
    memset(&proto, 0, sizeof proto);
    memset(&rec, 0, sizeof rec);
    memset(&ctr, 0, sizeof ctr);
    memset(target.area, 0, sizeof target.area);
    sock_n = 0, pings = 0, peeked = 0;
    dial_ok = dial, dialed = placed = 0, sent_n = 0;
    greet_n = make_greeting(greet, 8);
    real.send = fake_send;
    real.recv = fake_recv;
    real.close = fake_close;
    real.fcntl = fake_fcntl;
    real.shutdown = fake_shutdown;
    shut = 0;
    if (sp[0] < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        FAIL();
    char mark;
    while (recv(sp[0], &mark, 1, MSG_DONTWAIT) == 1) {
    }
    late = 0;
    target.spec = &spec;
    target.ctr = &ctr;
    spec.opts.connect_timeout_ms = 1000;
    rec.target = &target;
    rec.fd = sp[0];
    proto.id = PROTO_MYSQL;
    proto_mysql_ops.init(&proto.st);
    /* the fresh connection: each turn in its direction, split anyhow */
    size_t s0 = 0, c0 = 0;
    for (int t = 0; t < nturns; t++) {
        if (t % 2 == 0) {
            record_split(0, srv + s0, srv_end[t / 2] - s0, rc, nrc);
            s0 = srv_end[t / 2];
        } else {
            record_split(1, cli + c0, cli_end[t / 2] - c0, rc, nrc);
            c0 = cli_end[t / 2];
        }
    }
    struct myrec *g = proto.my;
    if (variant & HS_NO_PLUGIN) {
        if (g && g->rec == MREC_DONE)
            FAIL(); /* a program that could not follow a switch is never recorded */
        return;
    }
    if (!g || g->rec != MREC_DONE || g->nturns != nturns || g->srv_len != srv_n ||
        proto_mysql_ops.verdict(&proto.st) != PV_SESSION)
        FAIL(); /* a clean handshake, split anyhow, is recorded */
    /* parked: the reset's reply (three OKs) waits on the socket */
    proto_mysql_ops.reset_done(&proto.st);
    for (int i = 0; i < 3; i++)
        memcpy(sock + sock_n, PING_OK, sizeof PING_OK), sock_n += sizeof PING_OK;
    my_replay_arm(g, sock_n);
    atomic_fetch_or(&rec.flags, LF_REUSED);

    unsigned char w[sizeof cli];
    memcpy(w, cli, cli_n);
    int changed = x && bad < cli_n;
    if (changed)
        w[bad] ^= x;
    unsigned char got[sizeof srv];
    size_t got_n = 0, wrote = 0, wi = 0, ri = 0;
    for (int turn = 1; turn < nturns; turn += 2) {
        read_turn(g, rd, nrd, &ri, got, &got_n);
        if (g->broken || g->phase != MPH_CLI)
            FAIL(); /* an unchanged server turn always hands over to the program */
        int before = pings;
        size_t end = cli_end[turn / 2];
        while (wrote < end) {
            uint8_t c = nwc ? wc[wi++ % nwc] : 60;
            size_t k = 1 + (size_t)(c % 61);
            if (k > end - wrote)
                k = end - wrote;
            struct iovec iov[2] = {{w + wrote, k / 2}, {w + wrote + k / 2, k - k / 2}};
            struct io_data d = (c & 128) ? IO_IOV(iov, 2) : IO_BUF(w + wrote, k);
            ssize_t res = -1;
            if (!my_io_begin(&rec, 1, 0, &d, &res) || res != (ssize_t)k)
                FAIL(); /* every byte of the program's turn is taken */
            wrote += k;
            if (g->broken || placed)
                break;
        }
        int in_turn = changed && bad < end && bad >= (turn == 1 ? 0 : cli_end[0]);
        if (in_turn && pings != before)
            FAIL(); /* a changed turn was accepted */
        if (!in_turn && pings != before + 1)
            FAIL(); /* an unchanged turn gets its ping */
        if (in_turn)
            break;
    }
    if (!changed) {
        read_turn(g, rd, nrd, &ri, got, &got_n);
        if (g->phase != MPH_NONE || g->broken || sock_n || got_n != srv_n || memcmp(got, srv, srv_n) ||
            ctr.my_replayed != 1 || ctr.my_startup_mismatch || dialed || shut)
            FAIL(); /* swallowed whole, served exactly, every reply drained */
        static const unsigned char QUIT[5] = {1, 0, 0, 0, 1};
        struct io_data d = IO_BUF(QUIT, sizeof QUIT);
        struct proto_goodbye gb;
        ssize_t res = -1;
        if (my_io_begin(&rec, 1, 0, &d, &res) ||
            proto_mysql_ops.goodbye(&proto.st, QUIT, sizeof QUIT, &gb) != GB_SWALLOW)
            FAIL(); /* the replay passes the goodbye on, and the parser names it */
        return;
    }
    if (ctr.my_replayed || g->broken != shut)
        FAIL(); /* a replay that ends shuts the lease down, to wake the program */
    unsigned epoch = atomic_load(&conn_target(&target)->my_epoch);
    if (placed) { /* the fresh connection took the response, without its credential */
        if (!dial || bad >= cli_end[0] || ctr.my_switched != 1 || g->rec != MREC_BAD ||
            (atomic_load(&rec.flags) & LF_REUSED) || !sent_n || !memmem(sent, sent_n, "objpool_switch", 15))
            FAIL();
        /* where the credential is stays put unless the change moved it (the
         * capabilities, the user name, the credential's length) */
        int moved = bad < 4 + 4 || (bad >= 4 + 32 && bad < auth_at);
        for (size_t i = auth_at; !moved && i + 4 <= auth_end; i++)
            if (memmem(sent, sent_n, w + i, 4))
                FAIL(); /* the program's credential reached the fresh connection */
    } else if (wrote == (bad < cli_end[0] ? cli_end[0] : cli_n) && !g->broken) {
        /* the whole turn written, neither switched nor ended: only a length
         * header that promises more than the program wrote, still gathered */
        if (bad - (bad < cli_end[0] ? 0 : cli_end[0]) > 2 || g->phase != MPH_CLI)
            FAIL();
    }
    if (bad >= auth_at && bad < auth_end && (ctr.my_auth_mismatch != 1 || epoch != 1))
        FAIL(); /* the credential alone differs: a new password superseding the old */
    if (((bad >= 4 && bad < auth_at - 1) || (bad >= auth_end && bad < cli_end[0])) && ctr.my_auth_mismatch)
        FAIL(); /* another user, database, option or collation is no password change */
    if (bad >= cli_end[0] + 3 && (!g->broken || epoch != 1))
        FAIL(); /* a later turn differs: the replay ends, the recorded credentials superseded */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t third = (size - 5) / 3;
    int variant = data[4] & 15, dial = (data[4] & 16) == 0;
    make_handshake(variant);
    run(variant, dial, data + 5, third, data + 5 + third, third, data + 5 + 2 * third,
        size - 5 - 2 * third, data[0] % (cli_n + 8), (unsigned char)(data[1] & data[2] & data[3]));
    return 0;
}

#ifdef MY_REPLAY_MAIN
int main(void)
{
    unsigned long runs = 0;
    for (int v = 0; v < 16; v++) { /* both handshakes, with and without a database, (non-)blocking, plugins */
        make_handshake(v);
        size_t total = cli_n;
        for (size_t a = 1; a <= 61; a++) { /* every piece size, recording, writes and reads */
            uint8_t c = (uint8_t)(a - 1);
            run(v, 1, &c, 1, &c, 1, &c, 1, 0, 0);
            uint8_t peek = (uint8_t)(c | 128), msg = (uint8_t)(c | 64), iov = (uint8_t)(c | 128);
            uint8_t rd[3] = {peek, c, msg};
            run(v, 1, NULL, 0, &iov, 1, rd, 3, 0, 0);
            runs += 2;
        }
        for (size_t split = 1; split < total; split++) { /* the program's bytes cut at every byte */
            uint8_t two[2] = {(uint8_t)(split - 1), 60};
            run(v, 1, two, 2, two, 2, NULL, 0, 0, 0);
            runs++;
        }
        for (size_t bad = 0; bad < total; bad++) /* every byte changed, whole or byte by byte, dial or not */
            for (int bytewise = 0; bytewise < 2; bytewise++)
                for (int dial = 0; dial < 2; dial++) {
                    uint8_t one = 0;
                    run(v, dial, NULL, 0, bytewise ? &one : NULL, bytewise, NULL, 0, bad, 0x20);
                    runs++;
                }
    }
    printf("my_replay: %lu runs ok\n", runs);
    return 0;
}
#endif
