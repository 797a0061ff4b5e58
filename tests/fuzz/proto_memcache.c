/* proto_memcache.c - libFuzzer target for the memcached parser
 * (preload/conn/proto/memcache.c), built by `make fuzz-proto`.
 *
 * The input is a seed byte then segments: a header byte (top bit: the
 * program read it, else wrote it; low 7 bits + 1: its length) and that
 * many bytes. Consecutive segments of one direction form a run. The same
 * direction-tagged bytes are fed four ways: each run whole, each segment
 * as its own chunk, chunks cut at points drawn from the seed, and byte by
 * byte. At every run boundary the four states must give the same verdict
 * (a streaming parser may not depend on how the kernel cut the bytes), the
 * verdict must be one of enum proto_verdict and never PV_SESSION (the
 * parser has no session reset), and verdict() must be pure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/conn/proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WAYS 4
#define MAX_SEGS 4096

struct seg {
    char dir;
    const uint8_t *p;
    size_t n;
};

static const struct proto_ops *const ops = &proto_memcache_ops;

/* Split the input into direction-tagged segments. */
static size_t parse_segments(const uint8_t *data, size_t size, struct seg *segs)
{
    size_t nsegs = 0, off = 0;
    while (off < size && nsegs < MAX_SEGS) {
        uint8_t h = data[off++];
        size_t n = (size_t)(h & 0x7f) + 1;
        if (n > size - off)
            n = size - off;
        segs[nsegs].dir = (h & 0x80) ? 'i' : 'o';
        segs[nsegs].p = data + off;
        segs[nsegs].n = n;
        nsegs++;
        off += n;
    }
    return nsegs;
}

static void feed(struct proto_state *st, char dir, const uint8_t *p, size_t n)
{
    if (dir == 'o') {
        /* the goodbye question before a write: in range, an edit inside it */
        struct proto_goodbye g;
        int k = ops->goodbye(st, p, n, &g);
        if (k < GB_NONE || k > GB_RENAME ||
            ((k == GB_REPLY || k == GB_RENAME) && (g.off + g.len > n || g.expect_len > GB_MAX_REPLY)))
            abort();
        ops->out(st, p, n);
    }
    else
        ops->in(st, p, n);
}

/* A small PRNG for the split points (xorshift, seeded from the input). */
static uint32_t next_rand(uint32_t *r)
{
    *r ^= *r << 13;
    *r ^= *r >> 17;
    *r ^= *r << 5;
    return *r;
}

/* Feed one segment in random-length chunks. */
static void feed_random(struct proto_state *st, const struct seg *s, uint32_t *r)
{
    size_t off = 0;
    while (off < s->n) {
        size_t k = 1 + next_rand(r) % (s->n - off);
        feed(st, s->dir, s->p + off, k);
        off += k;
    }
}

/* Feed the run segs[a..b) in the given way. */
static void feed_run(struct proto_state *st, int way, const struct seg *segs, size_t a, size_t b,
                     uint8_t *runbuf, uint32_t *r)
{
    size_t len = 0;
    switch (way) {
    case 0: /* the run whole */
        for (size_t i = a; i < b; i++) {
            memcpy(runbuf + len, segs[i].p, segs[i].n);
            len += segs[i].n;
        }
        feed(st, segs[a].dir, runbuf, len);
        break;
    case 1: /* each segment whole */
        for (size_t i = a; i < b; i++)
            feed(st, segs[i].dir, segs[i].p, segs[i].n);
        break;
    case 2: /* random cuts */
        for (size_t i = a; i < b; i++)
            feed_random(st, &segs[i], r);
        break;
    default: /* byte by byte */
        for (size_t i = a; i < b; i++)
            for (size_t j = 0; j < segs[i].n; j++)
                feed(st, segs[i].dir, segs[i].p + j, 1);
        break;
    }
}

/* The verdict, checked to be in range, not SESSION, and pure. */
static int checked_verdict(const struct proto_state *st)
{
    struct proto_state copy;
    memcpy(&copy, st, sizeof copy);
    int v = ops->verdict(st);
    if (v < PV_CLEAN || v > PV_CONFUSED || v == PV_SESSION)
        abort();
    if (ops->verdict(st) != v || memcmp(copy.u.bytes, st->u.bytes, sizeof copy.u.bytes))
        abort();
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct seg segs[MAX_SEGS];
    static uint8_t runbuf[1 << 16];
    if (size < 1 || size > sizeof runbuf)
        return 0;
    uint32_t r = 0x9e3779b9u ^ data[0];
    size_t nsegs = parse_segments(data + 1, size - 1, segs);

    struct proto_state st[WAYS];
    for (int w = 0; w < WAYS; w++) {
        memset(&st[w], 0xa5, sizeof st[w]);
        ops->init(&st[w]);
    }
    if (checked_verdict(&st[0]) != PV_CLEAN)
        abort();
    size_t a = 0;
    while (a < nsegs) {
        size_t b = a + 1;
        while (b < nsegs && segs[b].dir == segs[a].dir)
            b++;
        int v0 = -1;
        for (int w = 0; w < WAYS; w++) {
            feed_run(&st[w], w, segs, a, b, runbuf, &r);
            int v = checked_verdict(&st[w]);
            if (w == 0)
                v0 = v;
            else if (v != v0)
                abort(); /* the verdict depends on the chunking */
        }
        a = b;
    }
    return 0;
}
