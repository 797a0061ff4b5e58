/* memcache_text.c - the memcached text dialect: the line lexer, the text
 * and meta requests (what each expects back, its data block) and the
 * replies matched against them. Meta commands mix with text commands on
 * one connection; a meta 'q' flag makes a request quiet until mn.
 */
#include "memcache_int.h"

#include <string.h>

#define MC_LINE_MAX 2048          /* a command or reply line, \r\n included */
#define MC_GETLINE_MAX (1u << 20) /* get/gets/gat/gats carry many keys */
#define MC_NUM_MAX 20             /* digits of an incr/decr reply (uint64) */

/* What a request expects back (text dialect); binary entries are opcodes. */
enum kind {
    K_NONE = 0,
    K_GET,     /* VALUE blocks, then END */
    K_STORE,   /* STORED / NOT_STORED / EXISTS / NOT_FOUND */
    K_DELETE,  /* DELETED / NOT_FOUND */
    K_ARITH,   /* a number / NOT_FOUND */
    K_TOUCH,   /* TOUCHED / NOT_FOUND */
    K_STATS,   /* STAT (PREFIX, ITEM) lines, then END; or RESET / OK */
    K_VERSION, /* VERSION ... */
    K_OK,      /* OK (verbosity, flush_all) */
    K_MG,      /* VA <n> + data / HD / EN */
    K_MS,      /* HD / NS / EX / NF */
    K_MD,      /* HD / NF / EX */
    K_MA,      /* HD / VA <n> + data / NF / NS / EX */
    K_ME,      /* ME ... / EN */
    K_MN,      /* MN: the end of a quiet pipeline */
    K_QUIT,
    K_NKINDS
};

/* The first token of a reply line. */
enum word {
    W_UNKNOWN = 0, W_NUMBER, W_VALUE, W_END, W_STORED, W_NOT_STORED, W_EXISTS,
    W_NOT_FOUND, W_DELETED, W_TOUCHED, W_OK, W_VERSION, W_STAT, W_PREFIX, W_ITEM,
    W_RESET, W_ERROR, W_CLIENT_ERROR, W_SERVER_ERROR, W_VA, W_HD, W_EN, W_NF,
    W_NS, W_EX, W_MN, W_ME, W_NWORDS
};

/* ---- the line lexer ------------------------------------------------------ */

enum { LEX_MORE, LEX_WORD, LEX_EOL };

/* A token ended: remember whether it was "noreply". */
static void lex_end_token(struct lex *lx)
{
    if (!lx->intok)
        return;
    lx->intok = 0;
    lx->noreply = lx->nrm == 7;
}

/* The first byte of a token. */
static void lex_start_token(struct lex *lx, unsigned char c)
{
    lx->intok = 1;
    lx->nrm = 0;
    if (lx->ntok < 255)
        lx->ntok++;
    unsigned idx = lx->ntok - 1u;
    if (idx == 0)
        lx->wdigits = 1;
    if (lx->numtok && idx == lx->numtok) {
        lx->numst = NUM_DIGITS;
        lx->num = 0;
    }
    if (lx->flagfrom && idx >= lx->flagfrom && c == 'q')
        lx->quiet = 1;
}

/* A byte inside a token. */
static void lex_token_byte(struct lex *lx, unsigned char c)
{
    unsigned idx = lx->ntok - 1u;
    if (idx == 0) {
        if (lx->wlen < MC_WORD)
            lx->word[lx->wlen] = (char)c;
        if (lx->wlen < 255)
            lx->wlen++;
        if (c < '0' || c > '9')
            lx->wdigits = 0;
    } else if (lx->numtok && idx == lx->numtok && lx->numst == NUM_DIGITS) {
        uint32_t d = (uint32_t)c - '0';
        if (d > 9 || lx->num > (UINT32_MAX - d) / 10)
            lx->numst = NUM_BAD;
        else
            lx->num = lx->num * 10 + d;
    }
    if (lx->nrm < 7 && c == (unsigned char)"noreply"[lx->nrm])
        lx->nrm++;
    else
        lx->nrm = 0xff;
}

/* Feed bytes of one line until its end or the end of the chunk. Sets *ev:
 * LEX_WORD when token 0 just ended mid-line (the caller classifies it and
 * may set numtok, flagfrom, skip), LEX_EOL at the '\n', LEX_MORE when the
 * chunk ran out. Returns the bytes consumed; 0 is an error: a '\r' not
 * before '\n', a first token longer than any word, the line past max. */
static size_t lex_feed(struct lex *lx, const unsigned char *p, size_t n, uint32_t max, int *ev)
{
    size_t i = 0;
    *ev = LEX_MORE;
    if (lx->skip) {
        if (lx->cr && p[0] != '\n')
            return 0;
        const unsigned char *nl = memchr(p, '\n', n);
        i = nl ? (size_t)(nl - p) + 1 : n;
        if (nl)
            *ev = LEX_EOL;
    } else {
        while (i < n) {
            unsigned char c = p[i++];
            if (lx->cr && c != '\n')
                return 0;
            if (c == '\n' || c == '\r' || c == ' ') {
                int was_word = lx->intok && lx->ntok == 1;
                lex_end_token(lx);
                if (c == '\n') {
                    *ev = LEX_EOL;
                    break;
                }
                lx->cr = c == '\r';
                if (was_word) {
                    *ev = LEX_WORD;
                    break;
                }
                continue;
            }
            if (!lx->intok)
                lex_start_token(lx, c);
            lex_token_byte(lx, c);
            if (lx->wlen > MC_NUM_MAX)
                return 0; /* no command or reply word is this long */
        }
    }
    if (i > max - lx->len)
        return 0;
    lx->len += (uint32_t)i;
    return i;
}

/* Token 0 as the caller saw it: 1..MC_WORD bytes kept, or too long. */
static int lex_word_is(const struct lex *lx, const char *w)
{
    size_t n = strlen(w);
    return lx->wlen == n && !memcmp(lx->word, w, n);
}

/* ---- text requests ------------------------------------------------------- */

#define CF_NOREPLY 1u /* a last token "noreply" suppresses the reply */
#define CF_DATA 2u    /* a data block of token numtok's length follows */
#define CF_SKIP 4u    /* nothing after the word matters */
#define CF_LONG 8u    /* the line may be long (many keys) */

struct cmd {
    const char *name;
    uint8_t kind, numtok, flagfrom, flags;
    uint8_t mintok, maxtok; /* token counts a data command must have */
};

static const struct cmd cmds[] = {
    {"get", K_GET, 0, 0, CF_SKIP | CF_LONG, 0, 0},
    {"gets", K_GET, 0, 0, CF_SKIP | CF_LONG, 0, 0},
    {"gat", K_GET, 0, 0, CF_SKIP | CF_LONG, 0, 0},
    {"gats", K_GET, 0, 0, CF_SKIP | CF_LONG, 0, 0},
    {"set", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 5, 6},
    {"add", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 5, 6},
    {"replace", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 5, 6},
    {"append", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 5, 6},
    {"prepend", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 5, 6},
    {"cas", K_STORE, 4, 0, CF_NOREPLY | CF_DATA, 6, 7},
    {"delete", K_DELETE, 0, 0, CF_NOREPLY, 0, 0},
    {"incr", K_ARITH, 0, 0, CF_NOREPLY, 0, 0},
    {"decr", K_ARITH, 0, 0, CF_NOREPLY, 0, 0},
    {"touch", K_TOUCH, 0, 0, CF_NOREPLY, 0, 0},
    {"stats", K_STATS, 0, 0, CF_SKIP, 0, 0},
    {"version", K_VERSION, 0, 0, CF_SKIP, 0, 0},
    {"verbosity", K_OK, 0, 0, CF_NOREPLY, 0, 0},
    {"flush_all", K_OK, 0, 0, CF_NOREPLY, 0, 0},
    {"quit", K_QUIT, 0, 0, CF_SKIP, 0, 0},
    {"mg", K_MG, 0, 2, 0, 0, 0},
    {"ms", K_MS, 2, 3, CF_DATA, 3, 255},
    {"md", K_MD, 0, 2, 0, 0, 0},
    {"ma", K_MA, 0, 2, 0, 0, 0},
    {"me", K_ME, 0, 2, 0, 0, 0},
    {"mn", K_MN, 0, 0, 0, 0, 0},
};
#define NCMDS (sizeof cmds / sizeof *cmds)

/* Classify a request's command word (index into cmds + 1, 0: unknown) and
 * tell the lexer which tokens to watch for the rest of the line. */
static void classify_request(struct lex *lx)
{
    lx->classed = 1;
    lx->cls = 0;
    for (size_t i = 0; i < NCMDS; i++) {
        if (lex_word_is(lx, cmds[i].name)) {
            lx->cls = (uint8_t)(i + 1);
            lx->numtok = cmds[i].numtok;
            lx->flagfrom = cmds[i].flagfrom;
            lx->skip = (cmds[i].flags & CF_SKIP) != 0;
            return;
        }
    }
}

/* A complete request line: queue its reply, arm its data block. */
static void request_line(struct mc *m, struct tside *tx)
{
    struct lex *lx = &tx->lx;
    if (!lx->classed)
        classify_request(lx);
    if (!lx->cls) {
        m->bad = PV_CONFUSED; /* empty line or unknown command */
        return;
    }
    const struct cmd *c = &cmds[lx->cls - 1];
    int noreply = (c->flags & CF_NOREPLY) && lx->noreply;
    if (c->flags & CF_DATA) {
        /* a malformed line has the server run the data block as commands */
        if (lx->ntok < c->mintok || lx->ntok > c->maxtok || lx->numst != NUM_DIGITS) {
            m->bad = PV_CONFUSED;
            return;
        }
        tx->data = lx->num;
        tx->trail = 2;
    }
    if (c->kind == K_QUIT)
        m->bad = PV_NEVER;
    else if (lx->quiet)
        mc_fifo_push(m, Q_ENTRY, K_MN);
    else if (!noreply)
        mc_fifo_push(m, c->kind, K_MN);
}

/* Skip a data block by counting, then check its "\r\n". Returns the bytes
 * consumed. */
static size_t data_feed(struct mc *m, struct tside *s, const unsigned char *p, size_t n)
{
    if (s->data) {
        size_t k = n < s->data ? n : s->data;
        s->data -= (uint32_t)k;
        return k;
    }
    if (p[0] != (s->trail == 2 ? '\r' : '\n'))
        m->bad = PV_CONFUSED;
    s->trail--;
    return 1;
}

/* Feed bytes the program wrote (text dialect). */
void mc_text_out(struct mc *m, const unsigned char *p, size_t n)
{
    struct tside *tx = &m->u.t.tx;
    while (n && !m->bad) {
        size_t k;
        if (tx->data || tx->trail) {
            k = data_feed(m, tx, p, n);
        } else {
            int ev;
            uint32_t max = MC_LINE_MAX;
            if (tx->lx.classed && tx->lx.cls && (cmds[tx->lx.cls - 1].flags & CF_LONG))
                max = MC_GETLINE_MAX;
            k = lex_feed(&tx->lx, p, n, max, &ev);
            if (!k) {
                m->bad = PV_CONFUSED;
                return;
            }
            if (ev == LEX_WORD) {
                classify_request(&tx->lx);
            } else if (ev == LEX_EOL) {
                request_line(m, tx);
                memset(&tx->lx, 0, sizeof tx->lx);
            }
        }
        p += k;
        n -= k;
    }
}

/* ---- text replies -------------------------------------------------------- */

static const char *const words[W_NWORDS] = {
    [W_VALUE] = "VALUE", [W_END] = "END", [W_STORED] = "STORED",
    [W_NOT_STORED] = "NOT_STORED", [W_EXISTS] = "EXISTS", [W_NOT_FOUND] = "NOT_FOUND",
    [W_DELETED] = "DELETED", [W_TOUCHED] = "TOUCHED", [W_OK] = "OK",
    [W_VERSION] = "VERSION", [W_STAT] = "STAT", [W_PREFIX] = "PREFIX", [W_ITEM] = "ITEM",
    [W_RESET] = "RESET", [W_ERROR] = "ERROR", [W_CLIENT_ERROR] = "CLIENT_ERROR",
    [W_SERVER_ERROR] = "SERVER_ERROR", [W_VA] = "VA", [W_HD] = "HD", [W_EN] = "EN",
    [W_NF] = "NF", [W_NS] = "NS", [W_EX] = "EX", [W_MN] = "MN", [W_ME] = "ME",
};

#define B(w) (1u << (w))
#define ERRS (B(W_ERROR) | B(W_CLIENT_ERROR) | B(W_SERVER_ERROR))
/* The reply words each kind of request accepts. */
static const uint32_t accepts[K_NKINDS] = {
    [K_GET] = B(W_VALUE) | B(W_END) | ERRS,
    [K_STORE] = B(W_STORED) | B(W_NOT_STORED) | B(W_EXISTS) | B(W_NOT_FOUND) | ERRS,
    [K_DELETE] = B(W_DELETED) | B(W_NOT_FOUND) | ERRS,
    [K_ARITH] = B(W_NUMBER) | B(W_NOT_FOUND) | ERRS,
    [K_TOUCH] = B(W_TOUCHED) | B(W_NOT_FOUND) | ERRS,
    [K_STATS] = B(W_STAT) | B(W_PREFIX) | B(W_ITEM) | B(W_END) | B(W_RESET) | B(W_OK) | ERRS,
    [K_VERSION] = B(W_VERSION) | ERRS,
    [K_OK] = B(W_OK) | ERRS,
    [K_MG] = B(W_VA) | B(W_HD) | B(W_EN) | ERRS,
    [K_MS] = B(W_HD) | B(W_NS) | B(W_EX) | B(W_NF) | ERRS,
    [K_MD] = B(W_HD) | B(W_NF) | B(W_EX) | ERRS,
    [K_MA] = B(W_HD) | B(W_VA) | B(W_NF) | B(W_NS) | B(W_EX) | ERRS,
    [K_ME] = B(W_ME) | B(W_EN) | ERRS,
    [K_MN] = B(W_MN) | ERRS,
};

/* Classify a reply's first token; VALUE and VA announce a data block whose
 * length is token 3 / token 1, every other line is looked at no further. */
static void classify_reply(struct lex *lx)
{
    lx->classed = 1;
    lx->cls = W_UNKNOWN;
    if (lx->wdigits && lx->wlen >= 1 && lx->wlen <= MC_NUM_MAX) {
        lx->cls = W_NUMBER;
    } else {
        for (int w = W_VALUE; w < W_NWORDS; w++) {
            if (lex_word_is(lx, words[w])) {
                lx->cls = (uint8_t)w;
                break;
            }
        }
    }
    if (lx->cls == W_VALUE)
        lx->numtok = 3;
    else if (lx->cls == W_VA)
        lx->numtok = 1;
    else
        lx->skip = 1;
}

/* A reply line while quiet requests are open: frame it, and close the
 * quiet run at MN. An error there may answer a storage command whose data
 * block the server then ran as commands: never park. */
static void quiet_reply(struct mc *m, int w)
{
    if (w == W_MN)
        mc_fifo_close_quiet(m, K_MN);
    else if (w == W_ERROR || w == W_CLIENT_ERROR)
        m->bad = PV_NEVER;
}

/* A complete reply line: arm its data block, match it to the oldest
 * request, pop that request when its reply is complete. */
static void reply_line(struct mc *m, struct tside *rx)
{
    struct lex *lx = &rx->lx;
    if (!lx->classed)
        classify_reply(lx);
    int w = lx->cls;
    if (w == W_UNKNOWN) {
        m->bad = PV_CONFUSED;
        return;
    }
    if (w == W_VALUE || w == W_VA) {
        if (lx->numst != NUM_DIGITS) {
            m->bad = PV_CONFUSED;
            return;
        }
        rx->data = lx->num;
        rx->trail = 2;
    }
    uint8_t k = mc_fifo_head(m);
    if (k == Q_ENTRY) {
        quiet_reply(m, w);
        return;
    }
    if (!(accepts[k] & B(w))) {
        m->bad = PV_CONFUSED;
        return;
    }
    if ((w == W_ERROR || w == W_CLIENT_ERROR) && (k == K_STORE || k == K_MS)) {
        m->bad = PV_NEVER;
        return;
    }
    if (k == K_GET && w == W_VALUE)
        return;
    if (k == K_STATS && (w == W_STAT || w == W_PREFIX || w == W_ITEM))
        return;
    mc_fifo_pop(m);
}

/* Feed bytes the program read (text dialect). */
void mc_text_in(struct mc *m, const unsigned char *p, size_t n)
{
    struct tside *rx = &m->u.t.rx;
    while (n && !m->bad) {
        size_t k;
        if (rx->data || rx->trail) {
            k = data_feed(m, rx, p, n);
        } else {
            if (!rx->lx.len && !m->count) {
                m->bad = PV_CONFUSED; /* the server speaks unasked */
                return;
            }
            int ev;
            k = lex_feed(&rx->lx, p, n, MC_LINE_MAX, &ev);
            if (!k) {
                m->bad = PV_CONFUSED;
                return;
            }
            if (ev == LEX_WORD) {
                classify_reply(&rx->lx);
            } else if (ev == LEX_EOL) {
                reply_line(m, rx);
                memset(&rx->lx, 0, sizeof rx->lx);
            }
        }
        p += k;
        n -= k;
    }
}
