/* redis_reply.c - the server's side of the Redis protocol: RESP2 and RESP3
 * replies, counted complete at the top level. Nested aggregates are
 * followed on a small stack of remaining-element counts, attributes
 * annotate the element after them, blob payloads are skipped by counting;
 * a push, or a reply no command asked for, stops the parser.
 */
#include "redis_int.h"

#include <string.h>

/* An element of a reply is complete: close every aggregate it completes.
 * An attribute ('|') annotates the element after it, so its end completes
 * nothing; the end of a top-level element answers one command. */
static void elem_done(struct redis *r)
{
    r->istate = I_TYPE;
    while (r->depth) {
        unsigned d = r->depth - 1u;
        if (--r->left[d])
            return;
        r->depth--;
        if (r->attr & (1u << d)) {
            r->attr &= (uint16_t) ~(1u << d);
            return;
        }
    }
    r->pending--; /* > 0: checked at the reply's type byte */
}

/* A type byte. Simple types are a line; blobs a length; aggregates a
 * count. A push, anywhere, is the server speaking unasked. */
static void reply_type(struct redis *r, unsigned char c)
{
    if (c == '>') {
        rd_die(r, PV_NEVER);
        return;
    }
    if (!r->depth && !r->pending) {
        rd_die(r, PV_CONFUSED); /* a reply no command asked for */
        return;
    }
    switch (c) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        r->istate = I_LINE;
        return;
    case '$': case '!': case '=': case '*': case '%': case '~': case '|':
        r->istate = I_NUM;
        r->itype = c;
        r->inum = 0;
        r->isign = 0;
        return;
    }
    rd_die(r, PV_CONFUSED);
}

/* The end of a length or count line. Only "$-1" and "*-1" (RESP2 nulls)
 * are negative; streamed ("?") lengths never reach here. */
static void num_done(struct redis *r)
{
    uint64_t v = r->inum;
    unsigned char t = r->itype;
    r->istate = I_TYPE;
    if (r->isign & 1) {
        if (v == 1 && (t == '$' || t == '*'))
            elem_done(r);
        else
            rd_die(r, PV_CONFUSED);
        return;
    }
    if (t == '$' || t == '!' || t == '=') {
        r->istate = v ? I_BULK : I_BCR;
        return;
    }
    if (v > REDIS_MAX_ELEMS || (v && r->depth == REDIS_DEPTH)) {
        rd_die(r, PV_CONFUSED);
        return;
    }
    if (!v) {
        if (t != '|')
            elem_done(r);
        return;
    }
    r->left[r->depth] = (uint32_t)(t == '%' || t == '|' ? 2 * v : v);
    if (t == '|')
        r->attr |= (uint16_t)(1u << r->depth);
    else
        r->attr &= (uint16_t) ~(1u << r->depth);
    r->depth++;
}

/* A simple line: CR or LF cannot occur inside one, so the line ends at the
 * first '\r', which must be followed by '\n'. */
static const unsigned char *line_in(struct redis *r, const unsigned char *p,
                                    const unsigned char *end)
{
    const unsigned char *cr = memchr(p, '\r', (size_t)(end - p));
    const unsigned char *stop = cr ? cr : end;
    if (memchr(p, '\n', (size_t)(stop - p))) {
        rd_die(r, PV_CONFUSED);
        return end;
    }
    if (!cr)
        return end;
    r->istate = I_LINELF;
    return cr + 1;
}

/* One step of the server's stream: consumes at least one byte. */
static const unsigned char *in_step(struct redis *r, const unsigned char *p,
                                    const unsigned char *end)
{
    unsigned char c = *p;
    int k;
    size_t avail, skip;
    switch (r->istate) {
    case I_TYPE:
        reply_type(r, c);
        return p + 1;
    case I_LINE:
        return line_in(r, p, end);
    case I_NUM:
        k = rd_num_byte(&r->inum, &r->isign, c, REDIS_MAX_BULK);
        if (k < 0)
            rd_die(r, PV_CONFUSED);
        else if (k == 0)
            r->istate = I_NUMLF;
        return p + 1;
    case I_BULK:
        avail = (size_t)(end - p);
        skip = r->inum < avail ? (size_t)r->inum : avail;
        r->inum -= skip;
        if (!r->inum)
            r->istate = I_BCR;
        return p + skip;
    case I_BCR:
        if (c != '\r')
            rd_die(r, PV_CONFUSED);
        r->istate = I_BLF;
        return p + 1;
    default: /* I_LINELF, I_NUMLF, I_BLF: the '\n' of a CRLF */
        if (c != '\n')
            rd_die(r, PV_CONFUSED);
        else if (r->istate == I_NUMLF)
            num_done(r);
        else
            elem_done(r);
        return p + 1;
    }
}

/* Bytes the program read; once dead the rest is not followed. */
void rd_reply_in(struct redis *r, const unsigned char *p, size_t n)
{
    const unsigned char *end = p + n;
    while (p < end && !r->dead)
        p = in_step(r, p, end);
}
