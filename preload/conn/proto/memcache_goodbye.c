/* memcache_goodbye.c - memcached's goodbyes, each written alone at a clean
 * boundary: text `quit` and binary QUITQ have no reply (nothing is sent,
 * the program reads EOF at once); binary QUIT has one, so objpool sends a
 * NOOP with the same opaque in its place (one opcode byte changed) and
 * serves the QUIT response the protocol fixes from the NOOP's. */
#include <string.h>

#include "proto.h"

enum { B_REQ = 0x80, B_RES = 0x81, B_QUIT = 0x07, B_QUITQ = 0x17, B_NOOP = 0x0a, B_HDR = 24 };

/* A response header: magic, opcode, all zero but the request's opaque. */
static void header(unsigned char *h, unsigned char op, const unsigned char *req)
{
    memset(h, 0, B_HDR);
    h[0] = B_RES;
    h[1] = op;
    memcpy(h + 12, req + 12, 4);
}

/* A binary request with no key, extras or body (bytes 2-3, 4, 5, 8-11). */
static int bare(const unsigned char *p)
{
    static const unsigned char zero[4] = {0};
    return p[0] == B_REQ && !memcmp(p + 2, zero, 2) && !p[4] && !p[5] && !memcmp(p + 8, zero, 4);
}

int proto_memcache_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g)
{
    if (proto_memcache_ops.verdict(st) != PV_CLEAN)
        return GB_NONE;
    if (n == 6 && !memcmp(p, "quit\r\n", 6))
        return GB_SWALLOW;
    if (n != B_HDR || !bare(p))
        return GB_NONE;
    if (p[1] == B_QUITQ)
        return GB_SWALLOW;
    if (p[1] != B_QUIT)
        return GB_NONE;
    static const unsigned char noop = B_NOOP;
    g->off = 1;
    g->len = 1;
    g->with = (const char *)&noop;
    header(g->expect, B_NOOP, p);
    g->expect_len = B_HDR;
    header(g->serve, B_QUIT, p);
    g->serve_len = B_HDR;
    return GB_REPLY;
}
