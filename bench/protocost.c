/* protocost.c - what the protocol layer costs per request: ns per
 * request/response exchange of each parser (preload/conn/proto/), fed the
 * way objpool feeds it on a pooled connection (bench.py's table 9).
 *
 *   protocost [--iters N] [--rounds R]
 *
 * One exchange is out() of the request the program wrote, in() of the
 * response it read (one chunk each, as one write and one read move them on
 * loopback), then verdict(), which must be PV_CLEAN. The state is started
 * once and kept, as a connection's parser state is kept across its leases.
 * The bytes are those the real clients send and the real servers answer
 * (requests and nginx, redis-py and redis-server, pymemcache and memcached,
 * the tag server's lines). Prints, per exchange, the best of R rounds of N
 * (the least disturbed: noise only adds time):
 *   proto=NAME exchange="WHAT" out=BYTES in=BYTES ns=X
 * Exits 1 if a verdict is not PV_CLEAN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

struct exchange {
    const struct proto_ops *ops;
    const char *what;
    const char *req;
    const char *resp; /* "" for a request without a reply (noreply) */
};

static const struct exchange exchanges[] = {
    {&proto_http_ops, "GET + 200, 1-byte body",
     "GET /f/0 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-requests/2.28.1\r\n"
     "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
     "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 21:20:57 GMT\r\n"
     "Content-Type: application/octet-stream\r\nContent-Length: 1\r\n"
     "Last-Modified: Wed, 25 Nov 2026 21:20:50 GMT\r\nConnection: keep-alive\r\n"
     "ETag: \"6566a4e2-1\"\r\nAccept-Ranges: bytes\r\n\r\nf"},
    {&proto_redis_ops, "SET / +OK", "*3\r\n$3\r\nSET\r\n$9\r\nloops:123\r\n$12\r\n1234.5678-12\r\n",
     "+OK\r\n"},
    {&proto_redis_ops, "GET / $ bulk", "*2\r\n$3\r\nGET\r\n$9\r\nloops:123\r\n",
     "$12\r\n1234.5678-12\r\n"},
    {&proto_memcache_ops, "get / VALUE + END", "get loops_123\r\n",
     "VALUE loops_123 0 12\r\n1234.5678-12\r\nEND\r\n"},
    {&proto_memcache_ops, "set noreply", "set loops_123 0 0 12 noreply\r\n1234.5678-12\r\n", ""},
    {&proto_line_ops, "REQ / REP line", "REQ 000000000000000000000000123\n",
     "REP 000000000000000000000000123 1\n"},
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The best ns per exchange over the rounds; -1 if a verdict was not clean. */
static double measure(const struct exchange *x, long iters, long rounds)
{
    struct proto_state st;
    const unsigned char *req = (const unsigned char *)x->req, *resp = (const unsigned char *)x->resp;
    size_t nreq = strlen(x->req), nresp = strlen(x->resp);
    x->ops->init(&st);
    double best = 1e30;
    for (long r = 0; r < rounds; r++) {
        long bad = 0;
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            x->ops->out(&st, req, nreq);
            if (nresp)
                x->ops->in(&st, resp, nresp);
            bad += x->ops->verdict(&st) != PV_CLEAN;
        }
        double per = (now_ns() - t0) / (double)iters;
        if (bad)
            return -1;
        if (per < best)
            best = per;
    }
    return best;
}

int main(int argc, char **argv)
{
    long iters = 200000, rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: protocost [--iters N] [--rounds R]\n");
            return 2;
        }
    }
    if (iters <= 0 || rounds <= 0)
        return 2;
    int status = 0;
    for (size_t k = 0; k < sizeof exchanges / sizeof *exchanges; k++) {
        const struct exchange *x = &exchanges[k];
        double ns = measure(x, iters, rounds);
        if (ns < 0) {
            fprintf(stderr, "protocost: %s %s: verdict not CLEAN\n", x->ops->name, x->what);
            status = 1;
            continue;
        }
        printf("proto=%s exchange=\"%s\" out=%zu in=%zu ns=%.1f\n", x->ops->name, x->what,
               strlen(x->req), strlen(x->resp), ns);
    }
    return status;
}
