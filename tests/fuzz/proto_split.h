/* proto_split.h - the split-invariance check shared by the fuzz targets
 * of the parsers behind struct proto_ops (proto_redis.c, proto_line.c).
 *
 * An input is a sequence of runs: a header byte h, then up to h >> 1
 * bytes the program wrote (h even) or read (h odd); h == 0xff is the lease
 * layer's reset, done when the verdict is PV_SESSION. The runs are fed to
 * three states: each run whole (state inited over garbage), in chunks of
 * sizes drawn from the input (a zeroed state, never inited: zeroed memory
 * must be a fresh state) and byte by byte. After every run the three
 * verdicts must be equal and within enum proto_verdict, and before each
 * write the three states must answer the goodbye question alike (with an
 * edit inside the write); anything else, or
 * a sanitizer report, aborts.
 */
#ifndef OBJPOOL_PROTO_SPLIT_H
#define OBJPOOL_PROTO_SPLIT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/conn/proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* xorshift32: chunk sizes that depend on the input only. */
static uint32_t split_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void split_feed(const struct proto_ops *ops, struct proto_state *st, int in,
                       const uint8_t *p, size_t n)
{
    if (in)
        ops->in(st, p, n);
    else
        ops->out(st, p, n);
}

/* Chunks of 1..4 bytes (inside CRLFs, length digits, names) or up to 64. */
static void split_chunked(const struct proto_ops *ops, struct proto_state *st, int in,
                          const uint8_t *p, size_t n, uint32_t *seed)
{
    while (n) {
        uint32_t r = split_rand(seed);
        size_t k = 1 + (r >> 8) % ((r & 1) ? 4 : 64);
        if (k > n)
            k = n;
        split_feed(ops, st, in, p, k);
        p += k;
        n -= k;
    }
}

static int split_verdicts(const struct proto_ops *ops, struct proto_state st[3])
{
    int v = ops->verdict(&st[0]);
    if (v < PV_CLEAN || v > PV_CONFUSED)
        abort();
    if (ops->verdict(&st[1]) != v || ops->verdict(&st[2]) != v)
        abort();
    return v;
}

/* The goodbye recogniser on a write of n bytes: a kind in range, an edit
 * inside the write, replies within their bounds; the kind is returned. */
static int split_goodbye(const struct proto_ops *ops, const struct proto_state *st, const uint8_t *p, size_t n)
{
    struct proto_goodbye g;
    if (!ops->goodbye)
        return GB_NONE;
    int k = ops->goodbye(st, p, n, &g);
    if (k < GB_NONE || k > GB_RENAME)
        abort();
    if ((k == GB_REPLY || k == GB_RENAME) && (g.off + g.len > n || g.expect_len > GB_MAX_REPLY ||
                                              g.serve_len > GB_MAX_REPLY))
        abort();
    return k;
}

static int split_check(const struct proto_ops *ops, const uint8_t *data, size_t size)
{
    struct proto_state st[3];
    memset(&st[0], 0xa5, sizeof st[0]);
    ops->init(&st[0]);
    memset(&st[1], 0, sizeof st[1]);
    memset(&st[2], 0x5a, sizeof st[2]);
    ops->init(&st[2]);
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)size;
    for (size_t i = 0; i < size && i < 8; i++)
        seed = seed * 31 + data[i];
    if (!seed)
        seed = 1;
    int v = split_verdicts(ops, st);
    if (v != PV_CLEAN) /* nothing exchanged yet */
        abort();
    size_t i = 0;
    while (i < size) {
        uint8_t h = data[i++];
        if (h == 0xff) {
            if (v == PV_SESSION && ops->reset_done)
                for (int k = 0; k < 3; k++)
                    ops->reset_done(&st[k]);
            v = split_verdicts(ops, st);
            continue;
        }
        size_t n = h >> 1;
        if (n > size - i)
            n = size - i;
        int in = h & 1;
        /* the goodbye is asked of the state before a write: the same
         * answer however the bytes before it were cut */
        if (!in) {
            int k = split_goodbye(ops, &st[0], data + i, n);
            if (split_goodbye(ops, &st[1], data + i, n) != k || split_goodbye(ops, &st[2], data + i, n) != k)
                abort();
        }
        split_feed(ops, &st[0], in, data + i, n);
        split_chunked(ops, &st[1], in, data + i, n, &seed);
        for (size_t j = 0; j < n; j++)
            split_feed(ops, &st[2], in, data + i + j, 1);
        i += n;
        v = split_verdicts(ops, st);
    }
    return 0;
}
#endif
