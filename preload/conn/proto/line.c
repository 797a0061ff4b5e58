/* line.c - line protocols: each line the program writes is one request,
 * each line it reads is one reply (a custom protocol such as "REQ a\n" /
 * "REP a\n"). Lines are counted with memchr for '\n'; nothing is kept of
 * their bytes, so no line is too long. A connection parks when every line
 * written has its reply line read and both directions end at a '\n'.
 */
#include "proto.h"

#include <string.h>

/* Request lines written and not yet answered: a deeper pipeline is a bulk
 * transfer, not a client worth pooling, and the counter stays bounded. */
#define LINE_MAX_PENDING (1u << 20)

struct line {
    uint32_t pending; /* request lines written, reply lines not yet read */
    uint8_t omid;     /* the program wrote part of a line */
    uint8_t imid;     /* the program read part of a line */
    uint8_t confused; /* sticky */
};
_Static_assert(sizeof(struct line) <= PROTO_STATE_SIZE, "struct line must fit proto_state");

/* The parser's view of the connection's opaque state. */
static struct line *L(struct proto_state *st)
{
    return (struct line *)st->u.bytes;
}

/* Zero is the start state: no line pending, none half-way. */
static void line_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

/* Each '\n' written completes a request line. */
static void line_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct line *l = L(st);
    while (n && !l->confused) {
        const unsigned char *nl = memchr(p, '\n', n);
        if (!nl) {
            l->omid = 1;
            return;
        }
        l->omid = 0;
        if (++l->pending > LINE_MAX_PENDING)
            l->confused = 1;
        n -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
}

/* A reply line may only begin once a request line is complete and
 * unanswered: the server cannot answer what it has not been sent. */
static void line_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct line *l = L(st);
    while (n && !l->confused) {
        if (!l->imid && !l->pending) {
            l->confused = 1;
            return;
        }
        const unsigned char *nl = memchr(p, '\n', n);
        if (!nl) {
            l->imid = 1;
            return;
        }
        l->imid = 0;
        l->pending--;
        n -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
}

/* Parks only with every line answered and both directions at a '\n'. */
static int line_verdict(const struct proto_state *st)
{
    const struct line *l = (const struct line *)st->u.bytes;
    if (l->confused)
        return PV_CONFUSED;
    return l->pending || l->omid || l->imid ? PV_INCOMPLETE : PV_CLEAN;
}

const struct proto_ops proto_line_ops = {
    .name = "line",
    .init = line_init,
    .out = line_out,
    .in = line_in,
    .verdict = line_verdict,
};
