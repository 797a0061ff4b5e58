/* memcache.c - the memcached parser: the text protocol, the meta commands
 * (which mix with text commands on one connection) and the binary protocol.
 *
 * The dialect is fixed by the first byte the program writes (0x80: binary,
 * as memcached itself decides once per connection). Each request pushes
 * what it expects back on a small FIFO; each reply pops its entry once it
 * is complete. Data blocks and binary bodies are skipped by counting.
 * Requests whose reply may or may not come (meta 'q', binary GETQ, SETQ
 * ...) collapse into one "quiet" entry: replies are then only framed, not
 * matched, until the answer to a later mn / NOOP proves all of them done.
 * A connection is clean when the FIFO is empty and both directions stand
 * between messages. quit, binary QUIT and SASL never park; so does an
 * error reply to a storage command (the server may have run its data block
 * as commands). Anything outside the parser's bounds is PV_CONFUSED.
 *
 * This file owns the FIFO and the operations; the text and meta commands
 * are in memcache_text.c, the binary protocol in memcache_bin.c, the state
 * they share in memcache_int.h.
 */
#include "memcache_int.h"

#include <string.h>

/* ---- FIFO of outstanding requests --------------------------------------- */

/* The newest entry: a quiet one absorbs the requests behind it. */
static uint8_t fifo_tail(const struct mc *m)
{
    return m->fifo[(m->head + m->count - 1) % MC_FIFO];
}

/* Queue what a request expects. A quiet request after a quiet one adds
 * nothing, and so does any request but the closing mn/NOOP after a quiet
 * one: until that answer every reply is only framed, so a pipeline of
 * thousands of GETKQ costs one entry. */
void mc_fifo_push(struct mc *m, uint8_t e, uint8_t closer)
{
    if (m->count && fifo_tail(m) == Q_ENTRY && e != closer)
        return;
    if (m->count == MC_FIFO) {
        m->bad = PV_CONFUSED;
        return;
    }
    m->fifo[(m->head + m->count) % MC_FIFO] = e;
    m->count++;
}

/* The oldest entry: the request the next reply answers. */
uint8_t mc_fifo_head(const struct mc *m)
{
    return m->fifo[m->head];
}

/* The oldest request's reply is complete. */
void mc_fifo_pop(struct mc *m)
{
    m->head = (uint8_t)((m->head + 1) % MC_FIFO);
    m->count--;
}

/* The answer to mn / NOOP arrived while quiet requests were open: the
 * quiet entry and the closer behind it are done. */
void mc_fifo_close_quiet(struct mc *m, uint8_t closer)
{
    mc_fifo_pop(m);
    if (!m->count || mc_fifo_head(m) != closer) {
        m->bad = PV_CONFUSED;
        return;
    }
    mc_fifo_pop(m);
}

/* ---- the operations ------------------------------------------------------- */

/* A new connection: zeroed state is no dialect, nothing outstanding. */
static void mc_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

/* Bytes the program wrote; the first byte of a connection fixes its
 * dialect, as memcached decides. */
static void mc_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct mc *m = (struct mc *)st->u.bytes;
    if (!n || m->bad)
        return;
    if (m->dialect == D_NONE)
        m->dialect = p[0] == 0x80 ? D_BIN : D_TEXT;
    if (m->dialect == D_BIN)
        mc_bin_feed(m, &m->u.b.tx, 1, p, n);
    else
        mc_text_out(m, p, n);
}

/* Bytes the program read, framed by the dialect its writes chose. */
static void mc_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct mc *m = (struct mc *)st->u.bytes;
    if (!n || m->bad)
        return;
    if (m->dialect == D_NONE)
        m->bad = PV_CONFUSED; /* read before anything was asked */
    else if (m->dialect == D_BIN)
        mc_bin_feed(m, &m->u.b.rx, 0, p, n);
    else
        mc_text_in(m, p, n);
}

/* Whether a text direction stands between messages: no partial line, no
 * data block left. */
static int text_idle(const struct tside *s)
{
    return !s->lx.len && !s->data && !s->trail;
}

/* Whether a binary direction stands between packets. */
static int bin_idle(const struct bside *s)
{
    return !s->hlen && !s->body;
}

/* Clean only with nothing outstanding and both directions between
 * messages of the connection's dialect; a sticky verdict wins. */
static int mc_verdict(const struct proto_state *st)
{
    const struct mc *m = (const struct mc *)st->u.bytes;
    if (m->bad)
        return m->bad;
    if (m->count)
        return PV_INCOMPLETE;
    if (m->dialect == D_TEXT && !(text_idle(&m->u.t.tx) && text_idle(&m->u.t.rx)))
        return PV_INCOMPLETE;
    if (m->dialect == D_BIN && !(bin_idle(&m->u.b.tx) && bin_idle(&m->u.b.rx)))
        return PV_INCOMPLETE;
    return PV_CLEAN;
}

const struct proto_ops proto_memcache_ops = {
    .name = "memcache",
    .init = mc_init,
    .out = mc_out,
    .in = mc_in,
    .verdict = mc_verdict,
    .reset_req = NULL,
    .reset_req_len = 0,
    .reset_reply = NULL,
    .reset_reply_len = 0,
    .reset_done = NULL,
    .goodbye = proto_memcache_goodbye,
};
