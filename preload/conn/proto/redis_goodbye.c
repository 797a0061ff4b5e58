/* redis_goodbye.c - Redis' goodbye: QUIT, written alone (inline or as a
 * one-element array) at a clean boundary. objpool sends PING in its place
 * (the same length), reads the server's +PONG and serves the program the
 * +OK that QUIT always gets; the program then reads EOF. */
#include <string.h>
#include <strings.h>

#include "proto.h"

static void reply(struct proto_goodbye *g, size_t off)
{
    static const char pong[] = "+PONG\r\n", ok[] = "+OK\r\n";
    g->off = off;
    g->len = 4;
    g->with = "PING";
    memcpy(g->expect, pong, sizeof pong - 1);
    g->expect_len = sizeof pong - 1;
    memcpy(g->serve, ok, sizeof ok - 1);
    g->serve_len = sizeof ok - 1;
}

int proto_redis_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g)
{
    static const char arr[] = "*1\r\n$4\r\n";
    if (proto_redis_ops.verdict(st) != PV_CLEAN)
        return GB_NONE;
    if (n == 6 && !strncasecmp((const char *)p, "QUIT\r\n", 6)) {
        reply(g, 0);
        return GB_REPLY;
    }
    if (n == 14 && !memcmp(p, arr, 8) && !strncasecmp((const char *)p + 8, "QUIT\r\n", 6)) {
        reply(g, 8);
        return GB_REPLY;
    }
    return GB_NONE;
}
