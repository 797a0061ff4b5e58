/* pg_replay.c - libFuzzer target for the PostgreSQL replay state machine
 * (preload/conn/pgreplay.c, linked with pgparams.c and the parser
 * proto/postgres.c; the socket, the blocks and the fresh connection are
 * stubs here). A recorded start-up (SSLRequest answered 'N', a
 * StartupMessage, the server's answer up to ReadyForQuery) is fed to the
 * recorder through pg_parse, split where the input says; the lease is armed
 * as after a checked reset, and the program's negotiation and start-up go
 * through pg_io_begin, split where the input says, one byte possibly
 * changed, and the answers are read in pieces of the input's sizes (some
 * with MSG_PEEK). The checks: an unchanged start-up is swallowed whole and
 * the program reads exactly 'N' and then the recorded answer, each Sync's
 * ReadyForQuery drained; a changed byte goes to the fresh connection
 * (pg_fresh) with exactly the bytes matched before it, never later.
 * Built with -DPG_REPLAY_MAIN it is a deterministic test instead: every
 * split of the recording and of the program's bytes at every byte, and
 * every single changed byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../preload/conn/pgrec.h"
#include "../../preload/base/log.h"
#include "../../preload/base/real.h"
#include "../../preload/core/blocks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A check failed: say where, and abort (libFuzzer keeps the input). */
#define FAIL()                                                        \
    do {                                                              \
        fprintf(stderr, "pg_replay.c:%d: check failed\n", __LINE__); \
        abort();                                                      \
    } while (0)

/* ---- stubs ------------------------------------------------------------ */
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
static int owed; /* ReadyForQuery answers owed for the Syncs sent */
static const unsigned char READY[6] = {'Z', 0, 0, 0, 5, 'I'};
static ssize_t fake_send(int fd, const void *b, size_t n, int flags)
{
    (void)fd;
    (void)flags;
    if (n == 5 && !memcmp(b, "S\0\0\0\4", 5))
        owed++;
    return (ssize_t)n;
}
size_t conn_read_exact(struct record *r, char *buf, size_t len, uint64_t timeout_ms)
{
    (void)r;
    (void)timeout_ms;
    if (!owed || len != sizeof READY)
        return 0;
    owed--;
    memcpy(buf, READY, len);
    return len;
}
static long fresh_at = -1; /* the bytes matched when pg_fresh was called */
int pg_fresh(struct record *r, struct conn_proto *p, struct pgrec *g, size_t from, size_t upto, int park)
{
    (void)r;
    (void)p;
    (void)from;
    (void)park;
    fresh_at = (long)upto;
    g->phase = PH_NONE;
    return 0;
}
int pg_take_idle(struct record *r, struct conn_proto *p, const unsigned char *neg, size_t from,
                 const unsigned char *w, size_t n)
{
    (void)r, (void)p, (void)neg, (void)from, (void)w, (void)n;
    return 0;
}
uint64_t pg_key(const struct pgrec *g)
{
    (void)g;
    return 1;
}
void objpool_set_key(objpool_t *p, void *obj, uint64_t key)
{
    (void)p, (void)obj, (void)key;
}

/* ---- the recorded start-up ------------------------------------------------ */
static unsigned char cli[128], srv[256];
static size_t cli_n, srv_n, neg_n = 8;

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}
static void msg(unsigned char *b, size_t *n, char type, const char *body, size_t blen)
{
    b[(*n)++] = (unsigned char)type;
    put32(b + *n, (uint32_t)(blen + 4));
    memcpy(b + *n + 4, body, blen);
    *n += 4 + blen;
}
static void make_startup(void)
{
    put32(cli, 8), put32(cli + 4, 80877103u); /* SSLRequest */
    static const char params[] = "\0\3\0\0user\0u_trust\0database\0postgres\0\0";
    put32(cli + 8, (uint32_t)(4 + sizeof params - 1));
    memcpy(cli + 12, params, sizeof params - 1);
    cli_n = 12 + sizeof params - 1;
    srv[0] = 'N';
    srv_n = 1;
    msg(srv, &srv_n, 'R', "\0\0\0\0", 4);
    msg(srv, &srv_n, 'S', "TimeZone\0UTC\0", 13);
    msg(srv, &srv_n, 'S', "server_version\0" "15.0\0", 20);
    msg(srv, &srv_n, 'K', "\0\0\0\1\0\0\0\2", 8);
    msg(srv, &srv_n, 'Z', "I", 1);
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
        pg_parse(&rec, &proto, is_write, b + at, k);
        at += k;
    }
}

/* The next read's piece size (bit 7: a MSG_PEEK); never two peeks in a
 * row, so that every second read makes progress. */
static int peeked;
static uint8_t next_read(const uint8_t *rd, size_t nrd, size_t *ri)
{
    uint8_t c = nrd ? rd[(*ri)++ % nrd] : 60;
    if (peeked)
        c &= 127;
    peeked = (c & 128) != 0;
    return c;
}

/* One run: recorded with the cut sizes rc, replayed with the program's
 * bytes (byte `bad` xored with `x`, none if x == 0) written in pieces wc and
 * read in pieces rd (a piece's size byte with bit 7 set is a MSG_PEEK). */
static void run(const uint8_t *rc, size_t nrc, const uint8_t *wc, size_t nwc, const uint8_t *rd, size_t nrd,
                size_t bad, unsigned char x)
{
    memset(&proto, 0, sizeof proto);
    memset(&rec, 0, sizeof rec);
    owed = 0;
    peeked = 0;
    fresh_at = -1;
    real.send = fake_send;
    target.spec = &spec;
    target.ctr = &ctr;
    spec.opts.connect_timeout_ms = 1000;
    rec.target = &target;
    rec.fd = 3;
    proto.id = PROTO_POSTGRES;
    proto_postgres_ops.init(&proto.st);
    /* the fresh connection: negotiation, its 'N', the start-up, the answer */
    record_split(1, cli, neg_n, rc, nrc);
    record_split(0, srv, 1, rc, nrc);
    record_split(1, cli + neg_n, cli_n - neg_n, rc, nrc);
    record_split(0, srv + 1, srv_n - 1, rc, nrc);
    struct pgrec *g = proto.pg;
    if (!g || g->rec != REC_DONE || g->cli_len != cli_n || g->srv_len != srv_n)
        FAIL(); /* a clean start-up, split anyhow, is recorded */
    proto_postgres_ops.reset_done(&proto.st);
    pg_replay_arm(&rec, &proto);
    atomic_fetch_or(&rec.flags, LF_REUSED);

    unsigned char w[sizeof cli];
    memcpy(w, cli, cli_n);
    if (x && bad < cli_n)
        w[bad] ^= x;
    int changed = x && bad < cli_n;
    size_t wrote = 0, wi = 0, ri = 0;
    unsigned char got[sizeof srv];
    size_t got_n = 0;
    while (wrote < cli_n) {
        /* the negotiation's answer is read before the start-up is written */
        while (g->phase == PH_NEG_SERVE || (g->phase == PH_SERVE && wrote == cli_n)) {
            uint8_t c = next_read(rd, nrd, &ri);
            unsigned char buf[64];
            struct io_data d = IO_BUF(buf, 1 + (size_t)(c & 63));
            ssize_t res = -1;
            if (!pg_io_begin(&rec, 0, (c & 128) ? MSG_PEEK : 0, &d, &res) || res <= 0)
                FAIL();
            if (!(c & 128)) {
                memcpy(got + got_n, buf, (size_t)res);
                got_n += (size_t)res;
            }
        }
        size_t end = g->phase == PH_NEG ? neg_n : cli_n;
        size_t k = nwc ? 1 + (size_t)(wc[wi++ % nwc] % 61) : end - wrote;
        if (k > end - wrote) /* the program waits for the negotiation's answer */
            k = end - wrote;
        struct io_data d = IO_BUF(w + wrote, k);
        ssize_t res = -1;
        int done = pg_io_begin(&rec, 1, 0, &d, &res);
        if (!done) { /* handed to the fresh connection: only at a difference */
            if (!changed || fresh_at < 0 || (size_t)fresh_at > bad || bad >= wrote + k)
                FAIL();
            return;
        }
        if (res != (ssize_t)k)
            FAIL();
        wrote += k;
    }
    while (g->phase == PH_SERVE || g->phase == PH_NEG_SERVE) {
        uint8_t c = next_read(rd, nrd, &ri);
        unsigned char buf[64];
        struct io_data d = IO_BUF(buf, 1 + (size_t)(c & 63));
        ssize_t res = -1;
        if (!pg_io_begin(&rec, 0, (c & 128) ? MSG_PEEK : 0, &d, &res) || res <= 0)
            FAIL();
        if (!(c & 128)) {
            memcpy(got + got_n, buf, (size_t)res);
            got_n += (size_t)res;
        }
    }
    if (changed || g->phase != PH_NONE || g->broken || owed || got_n != srv_n || memcmp(got, srv, srv_n))
        FAIL(); /* swallowed whole, served exactly, every Sync's answer drained */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cli_n)
        make_startup();
    if (size < 4)
        return 0;
    size_t third = (size - 4) / 3;
    run(data + 4, third, data + 4 + third, third, data + 4 + 2 * third, size - 4 - 2 * third,
        data[0] % (cli_n + 8), (unsigned char)(data[1] & data[2] & data[3]));
    return 0;
}

#ifdef PG_REPLAY_MAIN
int main(void)
{
    make_startup();
    unsigned long runs = 0;
    for (size_t a = 1; a <= 61; a++) { /* every piece size, recording, writes and reads */
        uint8_t c = (uint8_t)(a - 1);
        run(&c, 1, &c, 1, &c, 1, 0, 0);
        uint8_t peek = (uint8_t)(c | 128);
        uint8_t rd[2] = {peek, c};
        run(NULL, 0, NULL, 0, rd, 2, 0, 0);
        runs += 2;
    }
    for (size_t split = 1; split < cli_n; split++) { /* the program's bytes cut at every byte */
        uint8_t two[2] = {(uint8_t)(split - 1), 60};
        run(two, 2, two, 2, NULL, 0, 0, 0);
        runs++;
    }
    for (size_t bad = 0; bad < cli_n; bad++) /* every byte changed, written whole or byte by byte */
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            uint8_t one = 0;
            run(NULL, 0, bytewise ? &one : NULL, bytewise, NULL, 0, bad, 0x20);
            runs++;
        }
    printf("pg_replay: %lu runs ok\n", runs);
    return 0;
}
#endif
