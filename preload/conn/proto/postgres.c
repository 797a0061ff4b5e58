/* postgres.c - the PostgreSQL frontend/backend protocol 3.0, both
 * directions, as the program's driver (libpq, node-postgres, ...) speaks it.
 *
 * The program writes first an untyped message (Int32 length, Int32 code):
 * an SSLRequest or GSSENCRequest, answered by one unframed byte ('N' to go
 * on in the clear), a CancelRequest (the server closes: never parked), or
 * the StartupMessage (protocol 3.0), after which every message both ways is
 * typed: a type byte, an Int32 length counting itself, the body.
 *
 * A request is anything the server answers with a ReadyForQuery ('Z'): the
 * StartupMessage, a simple Query, a Sync, a FunctionCall. The parser counts
 * them and the 'Z's read; a connection is at a boundary when every one has
 * its 'Z' read, no extended-protocol message waits for its Sync, no COPY
 * runs, and both directions stand between messages. Nothing of a payload is
 * kept but the first bytes of a server message's body (an authentication
 * code, a ReadyForQuery status, a command tag), so no message is too long
 * within the protocol's own bound.
 *
 * A session always holds state (its start-up, its settings): at a boundary
 * the verdict is PV_SESSION, and the layer above decides what a reuse needs
 * (the start-up replayed, the session reset). Never reusable: TLS or GSS
 * encryption accepted, a CancelRequest connection, an error during start-up
 * or one the server sent unasked (a FATAL before it closes), Terminate
 * written, CopyBoth (replication), a LOAD (its hooks survive a reset).
 */
#include "proto.h"

#include <string.h>

#define PG_MSG_MAX 0x40000000u    /* the server's own bound on a message (1 GiB) */
#define PG_STARTUP_MAX 10000u     /* the server's MAX_STARTUP_PACKET_LENGTH */
#define PG_PENDING_MAX (1u << 20) /* requests awaiting their ReadyForQuery */
#define PG_PEEK 8                 /* body bytes kept of a server message */

#define CODE_SSL 80877103u
#define CODE_GSSENC 80877104u
#define CODE_CANCEL 80877102u
#define CODE_V3 0x00030000u

/* One direction's framer: the header being read, then the body skipped. */
struct pg_dir {
    uint32_t left; /* body bytes still to come */
    uint8_t hlen;  /* header bytes so far (typed: 5; untyped: 8) */
    uint8_t plen;  /* body bytes kept in peek */
    unsigned char hdr[8];
    unsigned char peek[PG_PEEK];
};

struct pg {
    struct pg_dir o, i;
    uint32_t pending; /* requests written, their ReadyForQuery not yet read */
    uint8_t typed;    /* the StartupMessage was written: typed messages follow */
    uint8_t started;  /* the start-up's ReadyForQuery was read */
    uint8_t neg;      /* an SSLRequest/GSSENCRequest awaits its one-byte answer */
    uint8_t asked;    /* an SSLRequest/GSSENCRequest was written */
    uint8_t ext;      /* extended-protocol messages written after the last Sync */
    uint8_t copy_in, copy_out;
    uint8_t status;   /* the last ReadyForQuery's status: 'I', 'T', 'E' */
    uint8_t auth;     /* the first authentication request's code (0: none) */
    uint8_t dead;     /* 0, PV_NEVER or PV_CONFUSED: sticky */
};
_Static_assert(sizeof(struct pg) <= PROTO_STATE_SIZE, "struct pg must fit proto_state");

static struct pg *G(struct proto_state *st)
{
    return (struct pg *)st->u.bytes;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Confusion outranks a refusal: both are sticky. */
static void die(struct pg *g, int verdict)
{
    if (g->dead != PV_CONFUSED)
        g->dead = (uint8_t)verdict;
}

static void pg_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

/* A request whose ReadyForQuery will come; a pipeline deeper than the
 * bound is a bulk load, not a client worth pooling. */
static void pend(struct pg *g)
{
    if (++g->pending > PG_PENDING_MAX)
        die(g, PV_CONFUSED);
}

/* The untyped message the program wrote, its header whole: its length is
 * checked against its code, and what it asks for recorded. */
static void untyped_header(struct pg *g, uint32_t len, uint32_t code)
{
    if (g->neg) { /* written before the negotiation's answer was read */
        die(g, PV_CONFUSED);
        return;
    }
    if ((code == CODE_SSL || code == CODE_GSSENC) && len == 8) {
        g->neg = 1;
        g->asked = 1;
        return;
    }
    if (code == CODE_CANCEL && len == 16) {
        die(g, PV_NEVER);
        return;
    }
    if (code == CODE_V3 && len > 8 && len <= PG_STARTUP_MAX) {
        g->typed = 1;
        pend(g);
        return;
    }
    die(g, PV_CONFUSED);
}

/* Is c a message type the program may write? */
static int out_type_ok(unsigned char c)
{
    return c && strchr("BCcdDEfFHpPQSX", c) != NULL;
}

/* A typed message the program wrote, its header whole: what it asks of
 * the server. */
static void out_message(struct pg *g, unsigned char type)
{
    if (!g->started && type != 'p' && type != 'X') {
        die(g, PV_CONFUSED); /* only authentication answers during start-up */
        return;
    }
    switch (type) {
    case 'Q':
    case 'F':
        pend(g);
        break;
    case 'S':
        g->ext = 0;
        pend(g);
        break;
    case 'P':
    case 'B':
    case 'E':
    case 'D':
    case 'C':
    case 'H':
        g->ext = 1;
        break;
    case 'c':
    case 'f':
        g->copy_in = 0;
        break;
    case 'X':
        die(g, PV_NEVER); /* the goodbye: the server closes */
        break;
    }
}

/* Header bytes of one direction; returns bytes used. The header is whole
 * when hlen reaches want. */
static size_t header_bytes(struct pg_dir *d, size_t want, const unsigned char *p, size_t n)
{
    size_t k = want - d->hlen;
    if (k > n)
        k = n;
    memcpy(d->hdr + d->hlen, p, k);
    d->hlen = (uint8_t)(d->hlen + k);
    return k;
}

/* The program wrote p[0..n). */
static void pg_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct pg *g = G(st);
    struct pg_dir *d = &g->o;
    while (n && !g->dead) {
        if (d->left) {
            size_t k = d->left < n ? d->left : n;
            d->left -= (uint32_t)k;
            p += k;
            n -= k;
            continue;
        }
        size_t want = g->typed ? 5 : 8;
        size_t k = header_bytes(d, want, p, n);
        p += k;
        n -= k;
        if (d->hlen < want)
            return;
        d->hlen = 0;
        if (!g->typed) {
            uint32_t len = be32(d->hdr);
            untyped_header(g, len, be32(d->hdr + 4));
            d->left = g->dead ? 0 : len - 8;
            continue;
        }
        uint32_t len = be32(d->hdr + 1);
        if (!out_type_ok(d->hdr[0]) || len < 4 || len > PG_MSG_MAX) {
            die(g, PV_CONFUSED);
            return;
        }
        out_message(g, d->hdr[0]);
        d->left = len - 4;
    }
}

/* Is c a message type the server may send? */
static int in_type_ok(unsigned char c)
{
    return c && strchr("123AcCdDEGHIKnNRsStTvWZ", c) != NULL;
}

/* The smallest body a server message can have. */
static uint32_t in_min_body(unsigned char type)
{
    switch (type) {
    case 'R':
        return 4;
    case 'K':
        return 8;
    case 'Z':
        return 1;
    }
    return 0;
}

/* A ReadyForQuery: its request answered. One with none outstanding is a
 * desync. */
static void ready(struct pg *g, unsigned char status)
{
    if (!g->pending || (status != 'I' && status != 'T' && status != 'E')) {
        die(g, PV_CONFUSED);
        return;
    }
    g->pending--;
    g->started = 1;
    g->status = status;
}

/* An authentication request: only during start-up. Its code is kept (the
 * first one: cleartext 3, md5 5, SASL 10, ...), for the layer above. */
static void auth_request(struct pg *g, const unsigned char *body)
{
    if (g->started) {
        die(g, PV_CONFUSED);
        return;
    }
    uint32_t code = be32(body);
    if (!g->auth && code)
        g->auth = code < 0xff ? (uint8_t)code : 0xff;
}

/* A server message read whole (its first body bytes in d->peek). */
static void in_message(struct pg *g, struct pg_dir *d, unsigned char type, uint32_t len)
{
    if (!g->pending && !g->ext && type != 'A' && type != 'N' && type != 'S' && type != 'E') {
        die(g, PV_CONFUSED); /* an answer nobody asked for (a Flush asks too) */
        return;
    }
    switch (type) {
    case 'Z':
        if (len != 1)
            die(g, PV_CONFUSED);
        else
            ready(g, d->peek[0]);
        break;
    case 'R':
        auth_request(g, d->peek);
        break;
    case 'E':
        if (!g->started || !g->pending)
            die(g, PV_NEVER); /* the server closes after it */
        break;
    case 'G':
        g->copy_in = 1;
        break;
    case 'H':
        g->copy_out = 1;
        break;
    case 'c':
        g->copy_out = 0;
        break;
    case 'W':
        die(g, PV_NEVER); /* CopyBoth: streaming replication */
        break;
    case 'C':
        if (len >= 5 && !memcmp(d->peek, "LOAD", 5))
            die(g, PV_NEVER);
        break;
    }
    if (!g->started && strchr("RSKNEvZ", type) == NULL)
        die(g, PV_CONFUSED); /* not a start-up message */
}

/* The one-byte answer to an SSLRequest / GSSENCRequest: 'N' goes on in the
 * clear; 'S' or 'G' starts encryption objpool cannot follow; an old server
 * answers 'E' and closes. */
static void negotiated(struct pg *g, unsigned char c)
{
    g->neg = 0;
    if (c == 'S' || c == 'G' || c == 'E')
        die(g, PV_NEVER);
    else if (c != 'N')
        die(g, PV_CONFUSED);
}

/* Body bytes of a server message: the first PG_PEEK are kept. */
static size_t body_bytes(struct pg_dir *d, const unsigned char *p, size_t n)
{
    size_t k = d->left < n ? d->left : n;
    if (d->plen < PG_PEEK) {
        size_t room = (size_t)PG_PEEK - d->plen;
        size_t c = room < k ? room : k;
        memcpy(d->peek + d->plen, p, c);
        d->plen = (uint8_t)(d->plen + c);
    }
    d->left -= (uint32_t)k;
    return k;
}

/* The program read p[0..n). A message is acted on once whole. */
static void pg_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct pg *g = G(st);
    struct pg_dir *d = &g->i;
    while (n && !g->dead) {
        if (d->hlen == 5) {
            size_t k = body_bytes(d, p, n);
            p += k;
            n -= k;
            if (d->left)
                return;
            d->hlen = 0;
            in_message(g, d, d->hdr[0], be32(d->hdr + 1) - 4);
            continue;
        }
        if (!d->hlen && g->neg) {
            negotiated(g, *p);
            p++;
            n--;
            continue;
        }
        if (!d->hlen && !g->typed) {
            die(g, PV_CONFUSED); /* the server spoke before the start-up */
            return;
        }
        size_t k = header_bytes(d, 5, p, n);
        p += k;
        n -= k;
        if (d->hlen < 5)
            return;
        uint32_t len = be32(d->hdr + 1);
        if (!in_type_ok(d->hdr[0]) || len < 4 || len > PG_MSG_MAX ||
            len - 4 < in_min_body(d->hdr[0])) {
            die(g, PV_CONFUSED);
            return;
        }
        d->left = len - 4;
        d->plen = 0;
        if (!d->left) {
            d->hlen = 0;
            in_message(g, d, d->hdr[0], 0);
        }
    }
}

/* Nothing written is clean; a negotiation without its start-up is not
 * (the server waits for the start-up, and refuses a second request); a
 * session at a boundary is PV_SESSION. */
static int pg_verdict(const struct proto_state *st)
{
    const struct pg *g = (const struct pg *)st->u.bytes;
    if (g->dead)
        return g->dead;
    if (g->o.hlen || g->o.left || g->i.hlen || g->neg || g->pending || g->ext || g->copy_in ||
        g->copy_out || (g->asked && !g->typed))
        return PV_INCOMPLETE;
    return g->typed ? PV_SESSION : PV_CLEAN;
}

/* The layer above reset the session (ROLLBACK, DISCARD ALL): idle again. */
static void pg_reset_done(struct proto_state *st)
{
    G(st)->status = 'I';
}

int proto_pg_status(const struct proto_state *st)
{
    return ((const struct pg *)st->u.bytes)->status;
}

int proto_pg_auth(const struct proto_state *st)
{
    return ((const struct pg *)st->u.bytes)->auth;
}

const struct proto_ops proto_postgres_ops = {
    .name = "postgres",
    .init = pg_init,
    .out = pg_out,
    .in = pg_in,
    .verdict = pg_verdict,
    .reset_done = pg_reset_done,
};
