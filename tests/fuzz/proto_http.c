/* proto_http.c - libFuzzer target for the HTTP/1.x parser
 * (preload/conn/proto/http.c), built by `make fuzz-proto`.
 *
 * The input is a script: two seed bytes for the split points, then
 * control bytes, each naming a direction and either a canned HTTP fragment
 * (so the fuzzer reaches bodies, chunks and pipelines quickly, and a long
 * pad reaches the 64 KiB bounds) or a run of
 * raw bytes taken from the input. Consecutive pieces of one direction
 * form a direction-run. The runs are fed three ways: each run whole, each
 * run cut at pseudo-random points, and byte by byte. Each verdict must be
 * one of the enum (never PV_SESSION: HTTP has no session reset), and the
 * three must agree: a streaming parser cannot depend on how the kernel
 * cut the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/conn/proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const frags[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /u HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET / HTTP/1.1\r\n",
    "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.0 200 OK\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
    "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    "Content-Length: ",
    "Content-Length: 5\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Connection: keep-alive\r\n",
    "Connection: keep-alive, close\r\n",
    "WWW-Authenticate: Basic realm=\"x\", NTLM\r\n",
    "Authorization: Negotiate YII=\r\n",
    "X-Other: value\r\n",
    "Connection: Upgrade , x;p=\"a,b\\\"\" close\r\n",
    "Transfer-Encoding: gzip;q=\"1,\\\"\" , chunked\r\n",
    "CONNECT h:443 HTTP/1.1\r\n\r\n",
    "HTTP/1.1 599 X\r\n",
    "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
    "5\r\nhello\r\n",
    "a;ext=\"q;\\\"\"\r\n0123456789\r\n",
    "0\r\n\r\n",
    "0\r\nX-Trailer: 1\r\n\r\n",
    "\r\n",
    "\r",
    "\n",
    "hello",
};
#define NFRAGS (sizeof frags / sizeof *frags)
/* One more "fragment": PAD bytes of 'a', to reach the 64 KiB bounds. */
#define PAD 8192

#define MAX_PIECES 512
#define MAX_BYTES (1 << 18)
#define BYTEWISE_MAX (1 << 15)

struct run {
    char dir;
    size_t off, len;
};

static unsigned char buf[MAX_BYTES];
static unsigned char pad[PAD];
static struct run runs[MAX_PIECES];

/* Append a piece to the script; a piece of the same direction as the last
 * run extends it. */
static int add(int *nruns, size_t *used, char dir, const void *p, size_t n)
{
    if (*used + n > MAX_BYTES || !n)
        return *used + n <= MAX_BYTES;
    memcpy(buf + *used, p, n);
    if (*nruns && runs[*nruns - 1].dir == dir) {
        runs[*nruns - 1].len += n;
    } else {
        if (*nruns == MAX_PIECES)
            return 0;
        runs[(*nruns)++] = (struct run){dir, *used, n};
    }
    *used += n;
    return 1;
}

static void feed(struct proto_state *st, char dir, const unsigned char *p, size_t n)
{
    if (dir == 'o') {
        /* the goodbye question before a write: in range, an edit inside it */
        struct proto_goodbye g;
        int k = proto_http_ops.goodbye(st, p, n, &g);
        if (k < GB_NONE || k > GB_RENAME ||
            ((k == GB_REPLY || k == GB_RENAME) && (g.off + g.len > n || g.expect_len > GB_MAX_REPLY)))
            abort();
        proto_http_ops.out(st, p, n);
    }
    else
        proto_http_ops.in(st, p, n);
}

/* Replay the runs: mode 0 whole, 1 at pseudo-random cuts, 2 byte by byte. */
static int replay(int nruns, int mode, uint32_t seed)
{
    struct proto_state st;
    memset(&st, 0xa5, sizeof st);
    proto_http_ops.init(&st);
    for (int r = 0; r < nruns; r++) {
        const unsigned char *p = buf + runs[r].off;
        size_t n = runs[r].len;
        while (n) {
            size_t k = n;
            if (mode == 2) {
                k = 1;
            } else if (mode == 1) {
                seed = seed * 1103515245u + 12345u;
                k = 1 + (seed >> 16) % (n < 64 ? n : 64);
            }
            feed(&st, runs[r].dir, p, k);
            p += k;
            n -= k;
        }
    }
    int v = proto_http_ops.verdict(&st);
    if (v < PV_CLEAN || v > PV_CONFUSED || v == PV_SESSION) {
        fprintf(stderr, "verdict %d out of range\n", v);
        abort();
    }
    if (proto_http_ops.verdict(&st) != v) {
        fprintf(stderr, "verdict is not pure\n");
        abort();
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t seed = (uint32_t)data[0] << 8 | data[1];
    int nruns = 0;
    size_t used = 0, i = 2;
    while (i < size) {
        uint8_t c = data[i++];
        char dir = c & 1 ? 'i' : 'o';
        int ok;
        if (c & 0x80) {
            size_t f = ((c >> 1) & 0x3f) % (NFRAGS + 1);
            if (f == NFRAGS) {
                memset(pad, 'a', PAD);
                ok = add(&nruns, &used, dir, pad, PAD);
            } else {
                ok = add(&nruns, &used, dir, frags[f], strlen(frags[f]));
            }
        } else {
            size_t n = ((c >> 1) & 0x3f) + 1;
            if (n > size - i)
                n = size - i;
            ok = add(&nruns, &used, dir, data + i, n);
            i += n;
        }
        if (!ok)
            break;
    }
    int whole = replay(nruns, 0, seed);
    int cut = replay(nruns, 1, seed);
    /* byte by byte is slow on the long pads: the cuts still cover them */
    int bytes = used <= BYTEWISE_MAX ? replay(nruns, 2, seed) : whole;
    if (whole != cut || whole != bytes) {
        fprintf(stderr, "split variance: whole %d, cut %d, byte by byte %d\n", whole, cut, bytes);
        abort();
    }
    return 0;
}
