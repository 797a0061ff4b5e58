/* redis.c - the Redis protocol: RESP2 and RESP3 replies, RESP and inline
 * commands, pipelined.
 *
 * out() counts the commands the program wrote, keeping only the first
 * bytes of the arguments that classify a command (its name, CLIENT's
 * subcommand, CLIENT REPLY's mode, SCRIPT's subcommand); in() counts complete
 * top-level replies, following nested aggregates on a small stack of
 * remaining-element counts. Bulk payloads, both ways, are skipped by
 * counting. A connection parks when every command has its reply read, both
 * directions stand between messages and no command changed the session;
 * commands whose state RESET clears make it PV_SESSION, those that keep the
 * server talking or that RESET cannot undo make it PV_NEVER.
 *
 * This file owns the commands and the operations; the replies are read in
 * redis_reply.c, the state both share is in redis_int.h.
 */
#include "redis_int.h"

#include <string.h>

/* Session state a command leaves behind (struct redis.flags). */
#define F_DIRTY 1 /* a session-changing command since the last reset */
#define F_MULTI 2 /* MULTI not yet closed by EXEC or DISCARD */
#define F_WATCH 4 /* WATCH not yet closed by UNWATCH, EXEC or DISCARD */

/* What a command does, gathered while its arguments go by. */
#define E_SESSION 1
#define E_NEVER 2
#define E_MULTI 4
#define E_WATCH 8
#define E_UNWATCH 16
#define E_ENDTX 32 /* EXEC, DISCARD, RESET: no transaction, nothing watched */

/* Commands whose later arguments matter. */
enum { C_OTHER = 0, C_CLIENT, C_SCRIPT };
enum { S_OTHER = 0, S_REPLY };

/* The parser's view of the connection's opaque state. */
static struct redis *R(struct proto_state *st)
{
    return (struct redis *)st->u.bytes;
}

/* A keyword, its length, and what it means to the command it names. */
struct word {
    const char *s;
    uint8_t len, id, eff;
};
#define W(s, id, eff) {s, sizeof(s) - 1, id, eff}

static const struct word commands[] = {
    W("SELECT", C_OTHER, E_SESSION),   W("AUTH", C_OTHER, E_SESSION),
    W("HELLO", C_OTHER, E_SESSION),    W("READONLY", C_OTHER, E_SESSION),
    W("READWRITE", C_OTHER, E_SESSION), W("ASKING", C_OTHER, E_SESSION),
    W("MULTI", C_OTHER, E_MULTI),      W("EXEC", C_OTHER, E_ENDTX),
    W("DISCARD", C_OTHER, E_ENDTX),    W("RESET", C_OTHER, E_ENDTX),
    W("WATCH", C_OTHER, E_WATCH),      W("UNWATCH", C_OTHER, E_UNWATCH),
    W("CLIENT", C_CLIENT, 0),          W("SCRIPT", C_SCRIPT, 0),
    /* The server keeps talking, or the reply count is not one per command
     * (UNSUBSCRIBE answers once per channel), or the connection ends. */
    W("SUBSCRIBE", C_OTHER, E_NEVER),  W("PSUBSCRIBE", C_OTHER, E_NEVER),
    W("SSUBSCRIBE", C_OTHER, E_NEVER), W("UNSUBSCRIBE", C_OTHER, E_NEVER),
    W("PUNSUBSCRIBE", C_OTHER, E_NEVER), W("SUNSUBSCRIBE", C_OTHER, E_NEVER),
    W("MONITOR", C_OTHER, E_NEVER),    W("QUIT", C_OTHER, E_NEVER),
    W("SYNC", C_OTHER, E_NEVER),       W("PSYNC", C_OTHER, E_NEVER),
    W("REPLCONF", C_OTHER, E_NEVER),   W("SHUTDOWN", C_OTHER, E_NEVER),
};

static const struct word client_subs[] = {
    W("TRACKING", S_OTHER, E_SESSION), W("REPLY", S_REPLY, E_SESSION),
    W("NO-EVICT", S_OTHER, E_SESSION), W("NO-TOUCH", S_OTHER, E_SESSION),
    /* A name labels the connection as the program's own (CLIENT LIST,
     * CLIENT KILL by name): RESET clears it, so it is session state. KILL
     * may kill this very connection after its reply. SETINFO (lib-name,
     * lib-ver) is no entry: RESET keeps both on purpose, as the library
     * behind the connection, and the next user's library sends its own
     * (README: what a next user may see); its reply, +OK or an error
     * before Redis 7.2, is counted like any other. */
    W("SETNAME", S_OTHER, E_SESSION),  W("KILL", S_OTHER, E_NEVER),
};

/* The first verdict that stops the parser is the one kept: the rest of the
 * stream is not followed. */
void rd_die(struct redis *r, int v)
{
    if (!r->dead)
        r->dead = (uint8_t)v;
}

/* ASCII only, without the locale: command names are ASCII. */
static unsigned char upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* The argument as a keyword of table t: Redis names are case-insensitive. */
static const struct word *lookup(const struct word *t, size_t n, const unsigned char *a,
                                 size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].len != len)
            continue;
        size_t j = 0;
        while (j < len && upper(a[j]) == (unsigned char)t[i].s[j])
            j++;
        if (j == len)
            return &t[i];
    }
    return NULL;
}

/* The current argument is the keyword kw (any case). */
static int is_kw(const struct redis *r, const char *kw, size_t len)
{
    struct word w = {kw, (uint8_t)len, 0, 0};
    return lookup(&w, 1, r->arg, r->alen) != NULL;
}

/* Whether the argument now being written can change the command's class:
 * once this is false for a command it stays false, which lets an inline
 * command's tail be skipped with memchr. */
static int need_arg(const struct redis *r)
{
    if (r->argi == 0)
        return 1;
    if (r->cmd == C_CLIENT)
        return r->argi == 1 || (r->argi == 2 && r->sub == S_REPLY);
    if (r->cmd == C_SCRIPT)
        return r->argi == 1;
    return 0;
}

/* An argument just ended: classify the command by it if it is one that
 * matters, so the command's effect is known at its end. */
static void classify(struct redis *r)
{
    const struct word *w;
    if (r->argi == 0) {
        w = lookup(commands, sizeof commands / sizeof *commands, r->arg, r->alen);
        r->cmd = w ? w->id : C_OTHER;
        r->eff = w ? w->eff : 0;
    } else if (r->cmd == C_CLIENT && r->argi == 1) {
        w = lookup(client_subs, sizeof client_subs / sizeof *client_subs, r->arg, r->alen);
        r->sub = w ? w->id : S_OTHER;
        r->eff |= w ? w->eff : 0;
    } else if (r->cmd == C_CLIENT) {
        /* CLIENT REPLY OFF|SKIP: replies stop matching commands */
        if (is_kw(r, "OFF", 3) || is_kw(r, "SKIP", 4))
            r->eff |= E_NEVER;
    } else if (r->cmd == C_SCRIPT && is_kw(r, "DEBUG", 5)) {
        r->eff |= E_NEVER; /* the next EVAL opens a debugger session */
    }
}

/* An argument ended (bulk CRLF, or white space after an inline word):
 * too long an argument is no keyword, so it leaves the class unchanged. */
static void arg_done(struct redis *r)
{
    if (need_arg(r) && r->alen <= REDIS_ARG_MAX)
        classify(r);
    if (r->argi < 3)
        r->argi++;
    r->alen = 0;
}

/* A new command: nothing known of it yet. */
static void cmd_start(struct redis *r)
{
    r->argi = 0;
    r->alen = 0;
    r->cmd = C_OTHER;
    r->sub = S_OTHER;
    r->eff = 0;
    r->inword = 0;
}

/* A whole command was written: it now waits for its reply, and what it
 * does to the session applies (in order, as the server runs them). */
static void cmd_done(struct redis *r)
{
    uint8_t e = r->eff;
    r->ostate = O_START;
    if (e & E_NEVER) {
        rd_die(r, PV_NEVER);
        return;
    }
    if (e & E_SESSION)
        r->flags |= F_DIRTY;
    if (e & E_MULTI)
        r->flags |= F_MULTI;
    if (e & E_WATCH)
        r->flags |= F_WATCH;
    if (e & E_UNWATCH)
        r->flags &= (uint8_t)~F_WATCH;
    if (e & E_ENDTX)
        r->flags &= (uint8_t)~(F_MULTI | F_WATCH);
    if (++r->pending > REDIS_MAX_PENDING)
        rd_die(r, PV_CONFUSED);
}

/* One byte of a decimal length or count: 1 to go on, 0 at its '\r',
 * -1 when it is not a number (or exceeds max, or has no digit). */
int rd_num_byte(uint64_t *v, uint8_t *sign, unsigned char c, uint64_t max)
{
    if (c >= '0' && c <= '9') {
        *v = *v * 10 + (uint64_t)(c - '0');
        *sign |= 2;
        return *v > max ? -1 : 1;
    }
    if (c == '-' && !*sign) {
        *sign = 1;
        return 1;
    }
    return c == '\r' && (*sign & 2) ? 0 : -1;
}

/* Inline command: words split by white space up to '\n' (a '\r' before it
 * is white space too). The words that classify the command are looked at
 * byte by byte; the rest of the line is skipped with memchr. Quotes in a
 * word that classifies would need Redis's unquoting: not followed. */
static const unsigned char *inline_step(struct redis *r, const unsigned char *p,
                                        const unsigned char *end)
{
    if (!need_arg(r)) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return end;
        cmd_done(r);
        return nl + 1;
    }
    unsigned char c = *p;
    if (c == '\n') {
        if (r->inword)
            arg_done(r);
        if (r->argi)
            cmd_done(r);
        else
            r->ostate = O_START; /* an empty line is no command */
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
        if (r->inword)
            arg_done(r);
        r->inword = 0;
    } else if (c == '"' || c == '\'') {
        rd_die(r, PV_CONFUSED);
    } else {
        r->inword = 1;
        if (r->alen < REDIS_ARG_MAX)
            r->arg[r->alen++] = c;
        else
            r->alen = REDIS_ARG_LONG;
    }
    return p + 1;
}

/* Bulk argument bytes: counted off, the first ones kept if they classify. */
static const unsigned char *bulk_out(struct redis *r, const unsigned char *p,
                                     const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    size_t k = r->onum < avail ? (size_t)r->onum : avail;
    if (r->alen < REDIS_ARG_MAX && need_arg(r)) {
        size_t m = REDIS_ARG_MAX - r->alen;
        if (m > k)
            m = k;
        memcpy(r->arg + r->alen, p, m);
        r->alen = (uint8_t)(r->alen + m);
    }
    r->onum -= k;
    if (!r->onum)
        r->ostate = O_BCR;
    return p + k;
}

/* The end of a multibulk header ("*N\r\n"): N <= 0 is no command at all. */
static void mbulk_start(struct redis *r)
{
    if ((r->osign & 1) || r->onum == 0) {
        r->ostate = O_START;
        return;
    }
    r->argc = (uint32_t)r->onum;
    r->ostate = O_BHDR;
}

/* One step of the program's stream: consumes at least one byte, except
 * when a command starts inline (the byte is then the inline parser's). */
static const unsigned char *out_step(struct redis *r, const unsigned char *p,
                                     const unsigned char *end)
{
    unsigned char c = *p;
    int k;
    switch (r->ostate) {
    case O_START:
        cmd_start(r);
        r->ostate = c == '*' ? O_MBLEN : O_INLINE;
        r->onum = 0;
        r->osign = 0;
        return c == '*' ? p + 1 : p;
    case O_MBLEN:
    case O_BLEN:
        k = rd_num_byte(&r->onum, &r->osign, c,
                        r->ostate == O_MBLEN ? REDIS_MAX_ARGS : REDIS_MAX_BULK);
        if (k < 0 || (r->ostate == O_BLEN && (r->osign & 1)))
            rd_die(r, PV_CONFUSED);
        else if (k == 0)
            r->ostate = r->ostate == O_MBLEN ? O_MBLF : O_BLF;
        return p + 1;
    case O_MBLF:
        if (c != '\n')
            rd_die(r, PV_CONFUSED);
        else
            mbulk_start(r);
        return p + 1;
    case O_BHDR:
        if (c != '$')
            rd_die(r, PV_CONFUSED);
        r->ostate = O_BLEN;
        r->onum = 0;
        r->osign = 0;
        return p + 1;
    case O_BLF:
        if (c != '\n')
            rd_die(r, PV_CONFUSED);
        r->alen = r->onum > REDIS_ARG_MAX ? REDIS_ARG_LONG : 0;
        r->ostate = r->onum ? O_BDATA : O_BCR;
        return p + 1;
    case O_BDATA:
        return bulk_out(r, p, end);
    case O_BCR:
        if (c != '\r')
            rd_die(r, PV_CONFUSED);
        r->ostate = O_BLF2;
        return p + 1;
    case O_BLF2:
        if (c != '\n') {
            rd_die(r, PV_CONFUSED);
            return p + 1;
        }
        arg_done(r);
        if (--r->argc == 0)
            cmd_done(r);
        else
            r->ostate = O_BHDR;
        return p + 1;
    default:
        return inline_step(r, p, end);
    }
}

/* Bytes the program wrote; once dead the rest is not followed. */
static void redis_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    struct redis *r = R(st);
    const unsigned char *end = p + n;
    while (p < end && !r->dead)
        p = out_step(r, p, end);
}

/* Bytes the program read: the replies, followed in redis_reply.c. */
static void redis_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    rd_reply_in(R(st), p, n);
}

/* Dead first (sticky), then anything unanswered or half-way, then the
 * session state the reset clears. */
static int redis_verdict(const struct proto_state *st)
{
    const struct redis *r = (const struct redis *)st->u.bytes;
    if (r->dead)
        return r->dead;
    if (r->pending || r->depth || r->ostate != O_START || r->istate != I_TYPE)
        return PV_INCOMPLETE;
    return r->flags ? PV_SESSION : PV_CLEAN;
}

/* Zero is the start state of every field. */
static void redis_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

/* RESET answered +RESET: the session is as on a new connection. */
static void redis_reset_done(struct proto_state *st)
{
    R(st)->flags = 0;
}

#define RESET_REQ "*1\r\n$5\r\nRESET\r\n"
#define RESET_REPLY "+RESET\r\n"

const struct proto_ops proto_redis_ops = {
    .name = "redis",
    .init = redis_init,
    .out = redis_out,
    .in = redis_in,
    .verdict = redis_verdict,
    .reset_req = RESET_REQ,
    .reset_req_len = sizeof RESET_REQ - 1,
    .reset_reply = RESET_REPLY,
    .reset_reply_len = sizeof RESET_REPLY - 1,
    .reset_done = redis_reset_done,
};
