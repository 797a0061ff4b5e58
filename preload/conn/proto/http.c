/* http.c - the HTTP/1.x parser of the protocol layer (RFC 9112, client side).
 *
 * out() sees the requests the program writes, in() the responses it reads.
 * Each direction is one streaming state machine over start line, header
 * fields and body (Content-Length counted, chunked with extensions and
 * trailers), fed chunks cut anywhere. Requests whose header section is
 * complete wait in a small FIFO (what their response's framing needs: HEAD,
 * HTTP/1.0) until the header section of their final response was read;
 * interim 1xx responses leave them waiting. Only the header names that
 * decide framing or reuse are recognised (content-length,
 * transfer-encoding, connection, the authentication fields); every other
 * value is skipped with memchr. Bodies are skipped by counting.
 *
 * A connection is never reused (PV_NEVER, sticky) on Connection: close from
 * either side, HTTP/1.0 without keep-alive, CONNECT, 101, a close-delimited
 * response, or connection-bound authentication (NTLM, Negotiate). What the
 * parser cannot follow within its bounds (64 KiB of header section, 100
 * fields, 8 outstanding requests, 63-bit lengths) or that is not HTTP is
 * PV_CONFUSED, sticky too. Once either is set nothing more is parsed.
 */
#include "proto.h"

#include <string.h>

#define HTTP_FIFO 8           /* requests outstanding (headers sent, no final response) */
#define HTTP_SECTION_MAX 65536 /* bytes of a header section, a chunk line, a trailer section */
#define HTTP_FIELDS_MAX 100   /* fields in a header or trailer section */
#define HTTP_TOK 20           /* header names kept (longest known: 19) */
#define HTTP_LEN_MAX ((uint64_t)INT64_MAX)
#define TOK_LONG 0xff         /* tlen of a token too long to be one we know */

enum {
    S_START = 0, /* between messages (zeroed memory starts here) */
    S_METHOD,
    S_TARGET,
    S_VERSION, /* "HTTP/1.x": request line's end, status line's start */
    S_STATUS,
    S_REASON,
    S_HLINE, /* start of a header line */
    S_HNAME,
    S_HVAL,
    S_BODY, /* Content-Length bytes */
    S_CSIZE,
    S_CEXT,
    S_CDATA,
    S_CDATA_END, /* the CRLF after chunk data */
    S_TLINE,     /* start of a trailer line */
    S_TSKIP,
};

/* The header fields that matter. */
enum { K_OTHER = 0, K_CL, K_TE, K_CONN, K_CHALLENGE, K_CREDS };

/* FIFO entry flags: what a response's framing and reuse depend on. */
#define F_HEAD 1
#define F_HTTP10 2

/* What one message's header section said. */
struct http_msg {
    uint64_t cl;  /* Content-Length, when cl_seen */
    uint64_t num; /* number being parsed: a Content-Length element, a chunk size */
    uint16_t status;
    uint8_t http10, head, cl_seen, te_seen, te_chunked, te_last_chunked;
    uint8_t conn_ka;
};

/* One direction's parser. */
struct http_dir {
    struct http_msg m;
    uint64_t left;    /* body or chunk-data bytes still to skip */
    uint32_t section; /* bytes of the current header section / chunk line / trailers */
    uint16_t fields;
    uint8_t state, cr; /* cr: a CR seen, its LF must follow */
    uint8_t fresh;     /* a section begins: 1 after this step, 2 at its one byte */
    uint8_t kind, sub, tlen, idx, m1, m2;
    unsigned char tok[HTTP_TOK];
};

struct http {
    struct http_dir req, resp;
    uint8_t fifo[HTTP_FIFO];
    uint8_t head, count;
    uint8_t dead; /* 0, PV_NEVER or PV_CONFUSED: sticky */
};

_Static_assert(sizeof(struct http) <= PROTO_STATE_SIZE, "struct http must fit proto_state");

/* RFC 9110 tchar: the bytes of methods, header names and list tokens. */
static const unsigned char tchar[256] = {
    ['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1,         ['&'] = 1,         ['\''] = 1,        ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1,         ['^'] = 1,         ['_'] = 1,         ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* Lower case of an ASCII letter; other bytes unchanged. */
static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static inline int ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The first verdict that ends parsing wins: everything after it is moot. */
static void die(struct http *h, int verdict)
{
    if (!h->dead)
        h->dead = (uint8_t)verdict;
}

/* Does tok[0..tlen) equal the literal s? */
static int tok_is(const struct http_dir *d, const char *s)
{
    size_t n = strlen(s);
    return d->tlen == n && !memcmp(d->tok, s, n);
}

/* Keep a token byte, up to cap bytes; longer tokens match nothing. */
static void tok_add(struct http_dir *d, unsigned char c, unsigned cap)
{
    if (d->tlen < cap)
        d->tok[d->tlen++] = c;
    else
        d->tlen = TOK_LONG;
}

/* A new message starts at this byte: forget the previous one. */
static void msg_begin(struct http_dir *d)
{
    memset(&d->m, 0, sizeof d->m);
    d->fields = 0;
    d->fresh = 2;
    d->idx = 0;
    d->tlen = 0;
}

/* A message ends with this byte. What comes between messages (empty
 * lines before a request) is counted like a section too. */
static void msg_end(struct http_dir *d)
{
    d->state = S_START;
    d->fresh = 1;
}

/* A new counted section (chunk line, trailers) starts after this byte. */
static void section_begin(struct http_dir *d, int state)
{
    d->state = (uint8_t)state;
    d->fresh = 1;
    d->fields = 0;
    d->sub = 0;
    d->m.num = 0;
}

/* Skip to the end of a line with memchr. Returns the bytes consumed; *eol
 * is set when its LF was among them. A CR ending the chunk waits for its
 * LF (d->cr); a CR anywhere else is a bare CR: not HTTP we can follow. */
static size_t skip_line(struct http *h, struct http_dir *d, const unsigned char *p, size_t n,
                        int *eol)
{
    const unsigned char *lf = memchr(p, '\n', n);
    size_t end = lf ? (size_t)(lf - p) : n;
    const unsigned char *cr = memchr(p, '\r', end);
    *eol = 0;
    if (cr) {
        size_t at = (size_t)(cr - p);
        if (lf && at + 1 == end) {
            *eol = 1;
            return end + 1;
        }
        if (!lf && at + 1 == n) {
            d->cr = 1;
            return n;
        }
        die(h, PV_CONFUSED);
        return at + 1;
    }
    if (lf) {
        *eol = 1;
        return end + 1;
    }
    return n;
}

/* A request's header section is complete: decide reuse, queue it for its
 * response, and frame its body. An HTTP/1.0 request without keep-alive
 * will be answered by a close: never reused, at once. */
static void req_headers_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (m->http10 && !m->conn_ka) {
        die(h, PV_NEVER);
        return;
    }
    if (m->te_seen && (m->cl_seen || m->te_chunked > 1 || !m->te_last_chunked || m->http10)) {
        die(h, PV_CONFUSED);
        return;
    }
    if (h->count == HTTP_FIFO) {
        die(h, PV_CONFUSED);
        return;
    }
    h->fifo[(h->head + h->count) % HTTP_FIFO] =
        (uint8_t)((m->head ? F_HEAD : 0) | (m->http10 ? F_HTTP10 : 0));
    h->count++;
    if (m->te_seen)
        section_begin(d, S_CSIZE);
    else if (m->cl_seen && m->cl) {
        d->left = m->cl;
        d->state = S_BODY;
    } else
        msg_end(d);
}

/* A response's header section is complete. Interim 1xx leave their request
 * waiting; a final one takes it from the FIFO and is framed by it: HEAD,
 * 204 and 304 have no body, else Content-Length or chunked; anything else
 * is delimited by the close. */
static void resp_headers_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (m->status < 200) {
        msg_end(d);
        return;
    }
    uint8_t req = h->fifo[h->head];
    h->head = (uint8_t)((h->head + 1) % HTTP_FIFO);
    h->count--;
    if ((m->http10 || (req & F_HTTP10)) && !m->conn_ka) {
        die(h, PV_NEVER);
        return;
    }
    if ((req & F_HEAD) || m->status == 204 || m->status == 304) {
        msg_end(d);
    } else if (m->te_seen) {
        if (m->cl_seen || m->te_chunked > 1)
            die(h, PV_CONFUSED);
        else if (!m->te_last_chunked || m->http10)
            die(h, PV_NEVER); /* delimited by the close */
        else
            section_begin(d, S_CSIZE);
    } else if (m->cl_seen) {
        d->left = m->cl;
        if (m->cl)
            d->state = S_BODY;
        else
            msg_end(d);
    } else {
        die(h, PV_NEVER); /* delimited by the close */
    }
}

/* A Content-Length element ends (at ',' or the line's end): the same value
 * may repeat, a different one is a framing conflict. */
static void cl_element_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (d->sub == 0 || (m->cl_seen && m->cl != m->num)) {
        die(h, PV_CONFUSED);
        return;
    }
    m->cl = m->num;
    m->cl_seen = 1;
    m->num = 0;
    d->sub = 0;
}

/* One byte of a Content-Length value: 1*DIGIT elements with OWS around,
 * separated by commas; sub 0 before digits, 1 in them, 2 after. */
static void cl_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (c >= '0' && c <= '9' && d->sub < 2) {
        unsigned v = c - '0';
        if (d->m.num > (HTTP_LEN_MAX - v) / 10) {
            die(h, PV_CONFUSED);
            return;
        }
        d->m.num = d->m.num * 10 + v;
        d->sub = 1;
    } else if (ows(c)) {
        if (d->sub == 1)
            d->sub = 2;
    } else if (c == ',') {
        cl_element_end(h, d);
    } else {
        die(h, PV_CONFUSED);
    }
}

/* A token of a Connection or Transfer-Encoding list ends. Connection:
 * close from either side means the server closes after this exchange: the
 * connection is never reused, decided at once. */
static void list_token_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (d->kind == K_TE) {
        m->te_last_chunked = tok_is(d, "chunked");
        if (m->te_last_chunked && m->te_chunked < 2)
            m->te_chunked++;
    } else if (tok_is(d, "close")) {
        die(h, PV_NEVER);
    } else if (tok_is(d, "keep-alive")) {
        m->conn_ka = 1;
    }
}

/* One byte of a token list (Connection, Transfer-Encoding): sub 0 between
 * elements, 1 in a token, 2 after it, 3 in its parameters, 4 in a quoted
 * string, 5 after a backslash in one. Transfer-Encoding decides framing
 * and is held to the grammar; Connection is read leniently (any "close"
 * token counts). */
static void list_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    switch (d->sub) {
    case 0:
        if (ows(c) || c == ',')
            return;
        d->tlen = 0;
        d->sub = 1;
        /* fall through */
    case 1:
        if (tchar[c]) {
            tok_add(d, lower(c), 10);
            return;
        }
        if (ows(c) || c == ',' || c == ';') {
            list_token_end(h, d);
            d->sub = c == ',' ? 0 : c == ';' ? 3 : 2;
        } else if (d->kind == K_TE) {
            die(h, PV_CONFUSED);
        } else {
            d->tlen = TOK_LONG;
        }
        return;
    case 2:
        if (c == ',' || c == ';')
            d->sub = c == ',' ? 0 : 3;
        else if (d->kind == K_TE && !ows(c))
            die(h, PV_CONFUSED);
        else if (!ows(c)) {
            d->tlen = 0;
            d->sub = 1;
            list_byte(h, d, c);
        }
        return;
    case 3:
        if (c == '"')
            d->sub = 4;
        else if (c == ',')
            d->sub = 0;
        return;
    case 4:
        if (c == '\\')
            d->sub = 5;
        else if (c == '"')
            d->sub = 3;
        return;
    default:
        d->sub = 4;
        return;
    }
}

/* Step a substring matcher; the patterns ("ntlm", "negotiate") have no
 * prefix that is also a suffix, so a mismatch restarts at 0 or 1. */
static uint8_t match(uint8_t i, unsigned char c, const char *pat)
{
    if (c == (unsigned char)pat[i])
        return (uint8_t)(i + 1);
    return c == (unsigned char)pat[0];
}

/* One byte of an authentication field: a challenge (WWW-/Proxy-
 * Authenticate) naming NTLM or Negotiate anywhere, or credentials
 * (Authorization) whose scheme is one, authenticate the connection, not
 * the request: a next user would inherit the login. */
static void auth_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (d->kind == K_CREDS) {
        if (d->sub == 2 || (d->sub == 0 && ows(c)))
            return;
        if (ows(c)) {
            d->sub = 2; /* only the scheme matters */
            return;
        }
        d->sub = 1;
    }
    c = lower(c);
    d->m1 = match(d->m1, c, "ntlm");
    d->m2 = match(d->m2, c, "negotiate");
    if (d->m1 == 4 || d->m2 == 9)
        die(h, PV_NEVER);
}

/* A header field's line ends: finish its value. */
static void field_end(struct http *h, struct http_dir *d)
{
    if (d->kind == K_CL)
        cl_element_end(h, d);
    else if (d->kind == K_TE || d->kind == K_CONN) {
        if (d->sub == 1)
            list_token_end(h, d);
        else if (d->sub >= 4)
            die(h, PV_CONFUSED); /* quoted string left open */
    }
    d->state = S_HLINE;
}

/* A chunk-size line ends: data follows, or the trailer section (size 0). */
static void chunk_line_end(struct http_dir *d)
{
    if (d->m.num) {
        d->left = d->m.num;
        d->state = S_CDATA;
    } else {
        section_begin(d, S_TLINE);
    }
}

/* The LF ending a line in the current state: what follows it. */
static void line_end(struct http *h, struct http_dir *d, int resp)
{
    switch (d->state) {
    case S_START: /* an empty line before a request: ignored (RFC 9112 2.2) */
        break;
    case S_VERSION:
    case S_STATUS:
    case S_REASON:
        d->state = S_HLINE;
        break;
    case S_HLINE:
        if (resp)
            resp_headers_end(h, d);
        else
            req_headers_end(h, d);
        break;
    case S_HVAL:
        field_end(h, d);
        break;
    case S_CSIZE:
    case S_CEXT:
        chunk_line_end(d);
        break;
    case S_CDATA_END:
        section_begin(d, S_CSIZE);
        break;
    case S_TLINE:
        msg_end(d);
        break;
    case S_TSKIP:
        d->state = S_TLINE;
        break;
    default:
        die(h, PV_CONFUSED);
    }
}

/* A line may end here: CR (its LF must follow) or LF. Returns 1 if c was
 * one of them. */
static int eol_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    if (c == '\r') {
        d->cr = 1;
        return 1;
    }
    if (c == '\n') {
        line_end(h, d, resp);
        return 1;
    }
    return 0;
}

/* The first byte of a request: its method, or an empty line before it. */
static void req_start(struct http *h, struct http_dir *d, unsigned char c)
{
    if (eol_byte(h, d, 0, c))
        return;
    if (!tchar[c]) {
        die(h, PV_CONFUSED);
        return;
    }
    msg_begin(d);
    tok_add(d, c, 7);
    d->state = S_METHOD;
}

/* "HTTP/1.x" and what must follow it: the request line's end, or the SP
 * before a status code. d->idx counts the bytes matched. */
static void version_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    static const char ver[] = "HTTP/1.";
    if (d->idx < 7) {
        if (c != (unsigned char)ver[d->idx])
            die(h, PV_CONFUSED);
        d->idx++;
    } else if (d->idx == 7) {
        if (c < '0' || c > '9')
            die(h, PV_CONFUSED);
        d->m.http10 = c == '0';
        d->idx++;
    } else if (resp && c == ' ') {
        d->idx = 0;
        d->state = S_STATUS;
    } else if (resp || !eol_byte(h, d, resp, c)) {
        die(h, PV_CONFUSED);
    }
}

/* The first byte of a response: only ever an answer to a request. */
static void resp_start(struct http *h, struct http_dir *d, unsigned char c)
{
    if (!h->count) {
        die(h, PV_CONFUSED); /* the server speaks unasked */
        return;
    }
    msg_begin(d);
    d->state = S_VERSION;
    version_byte(h, d, 1, c);
}

/* The method ends at its SP: HEAD shapes the response, CONNECT makes the
 * connection a tunnel. */
static void method_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (tchar[c]) {
        tok_add(d, c, 7);
    } else if (c == ' ') {
        if (tok_is(d, "CONNECT"))
            die(h, PV_NEVER);
        d->m.head = tok_is(d, "HEAD");
        d->sub = 0;
        d->state = S_TARGET;
    } else {
        die(h, PV_CONFUSED);
    }
}

/* The request target: visible bytes up to one SP (none is HTTP/0.9). */
static size_t target_bytes(struct http *h, struct http_dir *d, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] > ' ' && p[i] != 0x7f)
        i++;
    if (i)
        d->sub = 1;
    if (i == n)
        return n;
    if (p[i] == ' ' && d->sub) {
        d->idx = 0;
        d->state = S_VERSION;
    } else {
        die(h, PV_CONFUSED);
    }
    return i + 1;
}

/* The three digits of a status code, then SP and a reason, or the end. */
static void status_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (d->idx < 3) {
        if (c < '0' || c > '9' || (d->idx == 0 && (c < '1' || c > '5'))) {
            die(h, PV_CONFUSED);
            return;
        }
        d->m.status = (uint16_t)(d->m.status * 10 + (c - '0'));
        if (++d->idx == 3 && d->m.status == 101)
            die(h, PV_NEVER); /* switching protocols: not HTTP any more */
    } else if (c == ' ') {
        d->state = S_REASON;
    } else if (!eol_byte(h, d, 1, c)) {
        die(h, PV_CONFUSED);
    }
}

/* The start of a header line: a field name, or the empty line ending the
 * section. Leading whitespace is obs-fold (or junk): refused. */
static void hline_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    if (eol_byte(h, d, resp, c))
        return;
    if (!tchar[c] || ++d->fields > HTTP_FIELDS_MAX) {
        die(h, PV_CONFUSED);
        return;
    }
    d->tlen = 0;
    tok_add(d, lower(c), HTTP_TOK - 1);
    d->state = S_HNAME;
}

/* Which field a complete (lower-cased) name is. */
static void name_end(struct http_dir *d, int resp)
{
    d->kind = K_OTHER;
    d->sub = d->m1 = d->m2 = 0;
    if (tok_is(d, "content-length"))
        d->kind = K_CL;
    else if (tok_is(d, "transfer-encoding")) {
        d->kind = K_TE;
        d->m.te_seen = 1;
    } else if (tok_is(d, "connection"))
        d->kind = K_CONN;
    else if (resp && (tok_is(d, "www-authenticate") || tok_is(d, "proxy-authenticate")))
        d->kind = K_CHALLENGE;
    else if (!resp && (tok_is(d, "authorization") || tok_is(d, "proxy-authorization")))
        d->kind = K_CREDS;
    d->state = S_HVAL;
}

/* A field name up to its colon; whitespace before the colon is refused
 * (RFC 9112 5.1). */
static size_t name_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                         size_t n)
{
    size_t i = 0;
    for (; i < n && tchar[p[i]]; i++)
        tok_add(d, lower(p[i]), HTTP_TOK - 1);
    if (i == n)
        return n;
    if (p[i] == ':')
        name_end(d, resp);
    else
        die(h, PV_CONFUSED);
    return i + 1;
}

/* A field value: skipped with memchr unless its field matters. */
static size_t value_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                          size_t n)
{
    if (d->kind == K_OTHER) {
        int eol;
        size_t k = skip_line(h, d, p, n, &eol);
        if (eol)
            field_end(h, d);
        return k;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (eol_byte(h, d, resp, c))
            return i + 1;
        if (c == '\0' || c == 0x7f || (c < ' ' && c != '\t'))
            die(h, PV_CONFUSED);
        else if (d->kind == K_CL)
            cl_byte(h, d, c);
        else if (d->kind == K_TE || d->kind == K_CONN)
            list_byte(h, d, c);
        else
            auth_byte(h, d, c);
        if (h->dead)
            return i + 1;
    }
    return n;
}

/* A chunk-size digit; after at least one, an extension or the line's end. */
static void csize_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    unsigned v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (lower(c) >= 'a' && lower(c) <= 'f')
        v = lower(c) - 'a' + 10;
    else {
        if (!d->sub)
            die(h, PV_CONFUSED); /* no digit */
        else if (ows(c) || c == ';')
            d->state = S_CEXT;
        else if (!eol_byte(h, d, resp, c))
            die(h, PV_CONFUSED);
        return;
    }
    if (d->m.num > (HTTP_LEN_MAX - v) >> 4) {
        die(h, PV_CONFUSED);
        return;
    }
    d->m.num = (d->m.num << 4) | v;
    d->sub = 1;
}

/* The start of a trailer line: a field (skipped), or the end of the
 * message. */
static void tline_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    if (eol_byte(h, d, resp, c))
        return;
    if (!tchar[c] || ++d->fields > HTTP_FIELDS_MAX)
        die(h, PV_CONFUSED);
    else
        d->state = S_TSKIP;
}

/* Skip counted bytes (a body, chunk data); O(1) whatever their number. */
static size_t count_bytes(struct http_dir *d, size_t n, int next)
{
    size_t k = d->left < n ? (size_t)d->left : n;
    d->left -= k;
    if (d->left)
        return k;
    if (next == S_START)
        msg_end(d);
    else
        d->state = (uint8_t)next;
    return k;
}

/* A line-skipping state: on its LF, line_end(). */
static size_t skip_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                         size_t n)
{
    int eol;
    size_t k = skip_line(h, d, p, n, &eol);
    if (eol)
        line_end(h, d, resp);
    return k;
}

/* One step of the machine from the current state; consumes at least one
 * byte and never goes past the end of a line. */
static size_t step(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                   size_t n)
{
    unsigned char c = p[0];
    if (d->cr) {
        d->cr = 0;
        if (c == '\n')
            line_end(h, d, resp);
        else
            die(h, PV_CONFUSED); /* a bare CR */
        return 1;
    }
    switch (d->state) {
    case S_START:
        if (resp)
            resp_start(h, d, c);
        else
            req_start(h, d, c);
        return 1;
    case S_METHOD:
        method_byte(h, d, c);
        return 1;
    case S_TARGET:
        return target_bytes(h, d, p, n);
    case S_VERSION:
        version_byte(h, d, resp, c);
        return 1;
    case S_STATUS:
        status_byte(h, d, c);
        return 1;
    case S_HLINE:
        hline_byte(h, d, resp, c);
        return 1;
    case S_HNAME:
        return name_bytes(h, d, resp, p, n);
    case S_HVAL:
        return value_bytes(h, d, resp, p, n);
    case S_BODY:
        return count_bytes(d, n, S_START);
    case S_CSIZE:
        csize_byte(h, d, resp, c);
        return 1;
    case S_CDATA:
        return count_bytes(d, n, S_CDATA_END);
    case S_CDATA_END:
        if (!eol_byte(h, d, resp, c))
            die(h, PV_CONFUSED);
        return 1;
    case S_TLINE:
        tline_byte(h, d, resp, c);
        return 1;
    case S_REASON:
    case S_CEXT:
    case S_TSKIP:
        return skip_bytes(h, d, resp, p, n);
    default:
        die(h, PV_CONFUSED);
        return n;
    }
}

/* Feed one direction. Header sections, chunk lines, trailer sections and
 * what lies between messages are counted and cut at HTTP_SECTION_MAX bytes
 * exactly, so the byte that overflows is refused however the input was
 * chunked. */
static void feed(struct http *h, int resp, const unsigned char *p, size_t n)
{
    struct http_dir *d = resp ? &h->resp : &h->req;
    while (n && !h->dead) {
        int counted = d->state != S_BODY && d->state != S_CDATA;
        size_t lim = n;
        if (counted) {
            if (d->section >= HTTP_SECTION_MAX) {
                die(h, PV_CONFUSED);
                return;
            }
            if (lim > HTTP_SECTION_MAX - d->section)
                lim = HTTP_SECTION_MAX - d->section;
        }
        size_t k = step(h, d, resp, p, lim);
        if (counted)
            d->section += (uint32_t)k;
        if (d->fresh) { /* a section began: after this step, or at its byte */
            d->section = d->fresh - 1u;
            d->fresh = 0;
        }
        p += k;
        n -= k;
    }
}

static void http_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

static void http_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    feed((struct http *)st->u.bytes, 0, p, n);
}

static void http_in(struct proto_state *st, const unsigned char *p, size_t n)
{
    feed((struct http *)st->u.bytes, 1, p, n);
}

/* Clean only with every request complete and answered in full, both
 * directions between messages. */
static int http_verdict(const struct proto_state *st)
{
    const struct http *h = (const struct http *)st->u.bytes;
    if (h->dead)
        return h->dead;
    if (h->req.state != S_START || h->req.cr || h->resp.state != S_START || h->resp.cr ||
        h->count)
        return PV_INCOMPLETE;
    return PV_CLEAN;
}

const struct proto_ops proto_http_ops = {
    .name = "http",
    .init = http_init,
    .out = http_out,
    .in = http_in,
    .verdict = http_verdict,
    .reset_req = NULL,
    .reset_req_len = 0,
    .reset_reply = NULL,
    .reset_reply_len = 0,
    .reset_done = NULL,
};
