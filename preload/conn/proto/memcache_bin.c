/* memcache_bin.c - the memcached binary protocol: 24-byte headers
 * collected across chunks, bodies skipped by counting, each request
 * opcode classed (plain, quiet, never parked) and each response matched
 * to the oldest request; quiet runs close at the answer to NOOP.
 */
#include "memcache_int.h"

#include <string.h>

#define B_NOOP 0x0a /* binary NOOP: the end of a quiet pipeline */
#define B_STAT 0x10 /* binary STAT: packets until one with an empty key */

enum { OP_BAD = 0, OP_PLAIN, OP_QUIET, OP_NEVER };

/* What each request opcode does to the connection. */
static const uint8_t opclass[0x25] = {
    [0x00] = OP_PLAIN, [0x01] = OP_PLAIN, [0x02] = OP_PLAIN, [0x03] = OP_PLAIN, /* get set add replace */
    [0x04] = OP_PLAIN, [0x05] = OP_PLAIN, [0x06] = OP_PLAIN,                    /* delete incr decr */
    [0x07] = OP_NEVER,                                                          /* quit */
    [0x08] = OP_PLAIN, [0x09] = OP_QUIET, [0x0a] = OP_PLAIN, [0x0b] = OP_PLAIN, /* flush getq noop version */
    [0x0c] = OP_PLAIN, [0x0d] = OP_QUIET, [0x0e] = OP_PLAIN, [0x0f] = OP_PLAIN, /* getk getkq append prepend */
    [0x10] = OP_PLAIN,                                                          /* stat */
    [0x11] = OP_QUIET, [0x12] = OP_QUIET, [0x13] = OP_QUIET, [0x14] = OP_QUIET, /* setq addq replaceq deleteq */
    [0x15] = OP_QUIET, [0x16] = OP_QUIET, [0x17] = OP_NEVER, [0x18] = OP_QUIET, /* incrq decrq quitq flushq */
    [0x19] = OP_QUIET, [0x1a] = OP_QUIET, [0x1b] = OP_PLAIN, [0x1c] = OP_PLAIN, /* appendq prependq verbosity touch */
    [0x1d] = OP_PLAIN, [0x1e] = OP_QUIET,                                       /* gat gatq */
    [0x20] = OP_NEVER, [0x21] = OP_NEVER, [0x22] = OP_NEVER,                    /* sasl list, auth, step */
    [0x23] = OP_PLAIN, [0x24] = OP_QUIET,                                       /* gatk gatkq */
};

/* Collect a header; returns the bytes consumed. */
static size_t bin_header_feed(struct bside *s, const unsigned char *p, size_t n)
{
    size_t k = MC_HDR - s->hlen;
    if (k > n)
        k = n;
    memcpy(s->h + s->hlen, p, k);
    s->hlen = (uint8_t)(s->hlen + k);
    return k;
}

/* Check a complete header's lengths and arm its body; 0 if inconsistent. */
static int bin_header_done(struct bside *s)
{
    const unsigned char *h = s->h;
    uint32_t keylen = (uint32_t)h[2] << 8 | h[3];
    uint32_t body = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
    s->hlen = 0;
    if (body < keylen + h[4])
        return 0;
    s->body = body;
    return 1;
}

/* A complete request header: queue its reply. */
static void bin_request(struct mc *m, const unsigned char *h)
{
    int c = h[1] < sizeof opclass ? opclass[h[1]] : OP_BAD;
    if (c == OP_BAD)
        m->bad = PV_CONFUSED;
    else if (c == OP_NEVER)
        m->bad = PV_NEVER;
    else
        mc_fifo_push(m, c == OP_QUIET ? Q_ENTRY : h[1], B_NOOP);
}

/* A complete response header: match it to the oldest request. */
static void bin_response(struct mc *m, const unsigned char *h)
{
    uint8_t k = mc_fifo_head(m);
    if (k == Q_ENTRY) {
        if (h[1] == B_NOOP)
            mc_fifo_close_quiet(m, B_NOOP);
        return;
    }
    if (h[1] != k) {
        m->bad = PV_CONFUSED;
        return;
    }
    if (k == B_STAT && (h[2] | h[3]))
        return; /* one statistic; the last packet has an empty key */
    mc_fifo_pop(m);
}

/* Feed one direction of the binary dialect. */
void mc_bin_feed(struct mc *m, struct bside *s, int out, const unsigned char *p, size_t n)
{
    while (n && !m->bad) {
        size_t k;
        if (s->body) {
            k = n < s->body ? n : s->body;
            s->body -= (uint32_t)k;
        } else {
            if (!out && !s->hlen && !m->count) {
                m->bad = PV_CONFUSED; /* the server speaks unasked */
                return;
            }
            k = bin_header_feed(s, p, n);
            if (s->h[0] != (out ? 0x80 : 0x81))
                m->bad = PV_CONFUSED; /* checked at once: not a packet */
            else if (s->hlen == MC_HDR) {
                if (!bin_header_done(s))
                    m->bad = PV_CONFUSED;
                else if (out)
                    bin_request(m, s->h);
                else
                    bin_response(m, s->h);
            }
        }
        p += k;
        n -= k;
    }
}
