/* http_field.c - the header fields of both directions of the HTTP/1.x
 * parser (http.c): names up to their colon, lower-cased and kept only
 * while they can still be one that matters; the values that decide
 * framing or reuse (Content-Length, Transfer-Encoding, Connection, the
 * NTLM/Negotiate authentication fields) read byte by byte against their
 * grammar, every other value skipped with memchr; and the hexadecimal
 * chunk size, the other number a body's framing depends on.
 */
#include "http_int.h"

#include <string.h>

/* RFC 9110 tchar: the bytes of methods, header names and list tokens. */
const unsigned char ht_tchar[256] = {
    ['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1,
    ['%'] = 1,         ['&'] = 1,         ['\''] = 1,        ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1,         ['^'] = 1,         ['_'] = 1,         ['`'] = 1, ['|'] = 1, ['~'] = 1,
};

/* Does tok[0..tlen) equal the literal s? */
int ht_tok_is(const struct http_dir *d, const char *s)
{
    size_t n = strlen(s);
    return d->tlen == n && !memcmp(d->tok, s, n);
}

/* Keep a token byte, up to cap bytes; longer tokens match nothing. */
void ht_tok_add(struct http_dir *d, unsigned char c, unsigned cap)
{
    if (d->tlen < cap)
        d->tok[d->tlen++] = c;
    else
        d->tlen = TOK_LONG;
}

/* A Content-Length element ends (at ',' or the line's end): the same value
 * may repeat, a different one is a framing conflict. */
static void cl_element_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (d->sub == 0 || (m->cl_seen && m->cl != m->num)) {
        ht_die(h, PV_CONFUSED);
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
            ht_die(h, PV_CONFUSED);
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
        ht_die(h, PV_CONFUSED);
    }
}

/* A token of a Connection or Transfer-Encoding list ends. Connection:
 * close from either side means the server closes after this exchange: the
 * connection is never reused, decided at once. */
static void list_token_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (d->kind == K_TE) {
        m->te_last_chunked = ht_tok_is(d, "chunked");
        if (m->te_last_chunked && m->te_chunked < 2)
            m->te_chunked++;
    } else if (ht_tok_is(d, "close")) {
        ht_die(h, PV_NEVER);
    } else if (ht_tok_is(d, "keep-alive")) {
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
        if (ht_tchar[c]) {
            ht_tok_add(d, lower(c), 10);
            return;
        }
        if (ows(c) || c == ',' || c == ';') {
            list_token_end(h, d);
            d->sub = c == ',' ? 0 : c == ';' ? 3 : 2;
        } else if (d->kind == K_TE) {
            ht_die(h, PV_CONFUSED);
        } else {
            d->tlen = TOK_LONG;
        }
        return;
    case 2:
        if (c == ',' || c == ';')
            d->sub = c == ',' ? 0 : 3;
        else if (d->kind == K_TE && !ows(c))
            ht_die(h, PV_CONFUSED);
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
        ht_die(h, PV_NEVER);
}

/* A header field's line ends: finish its value. */
void ht_field_end(struct http *h, struct http_dir *d)
{
    if (d->kind == K_CL)
        cl_element_end(h, d);
    else if (d->kind == K_TE || d->kind == K_CONN) {
        if (d->sub == 1)
            list_token_end(h, d);
        else if (d->sub >= 4)
            ht_die(h, PV_CONFUSED); /* quoted string left open */
    }
    d->state = S_HLINE;
}

/* The start of a header line: a field name, or the empty line ending the
 * section. Leading whitespace is obs-fold (or junk): refused. */
void ht_hline_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    if (ht_eol_byte(h, d, resp, c))
        return;
    if (!ht_tchar[c] || ++d->fields > HTTP_FIELDS_MAX) {
        ht_die(h, PV_CONFUSED);
        return;
    }
    d->tlen = 0;
    ht_tok_add(d, lower(c), HTTP_TOK - 1);
    d->state = S_HNAME;
}

/* Which field a complete (lower-cased) name is. */
static void name_end(struct http_dir *d, int resp)
{
    d->kind = K_OTHER;
    d->sub = d->m1 = d->m2 = 0;
    if (ht_tok_is(d, "content-length"))
        d->kind = K_CL;
    else if (ht_tok_is(d, "transfer-encoding")) {
        d->kind = K_TE;
        d->m.te_seen = 1;
    } else if (ht_tok_is(d, "connection"))
        d->kind = K_CONN;
    else if (resp && (ht_tok_is(d, "www-authenticate") || ht_tok_is(d, "proxy-authenticate")))
        d->kind = K_CHALLENGE;
    else if (!resp && (ht_tok_is(d, "authorization") || ht_tok_is(d, "proxy-authorization")))
        d->kind = K_CREDS;
    d->state = S_HVAL;
}

/* A field name up to its colon; whitespace before the colon is refused
 * (RFC 9112 5.1). */
size_t ht_name_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                     size_t n)
{
    size_t i = 0;
    for (; i < n && ht_tchar[p[i]]; i++)
        ht_tok_add(d, lower(p[i]), HTTP_TOK - 1);
    if (i == n)
        return n;
    if (p[i] == ':')
        name_end(d, resp);
    else
        ht_die(h, PV_CONFUSED);
    return i + 1;
}

/* A field value: skipped with memchr unless its field matters. */
size_t ht_value_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                      size_t n)
{
    if (d->kind == K_OTHER) {
        int eol;
        size_t k = ht_skip_line(h, d, p, n, &eol);
        if (eol)
            ht_field_end(h, d);
        return k;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (ht_eol_byte(h, d, resp, c))
            return i + 1;
        if (c == '\0' || c == 0x7f || (c < ' ' && c != '\t'))
            ht_die(h, PV_CONFUSED);
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
void ht_csize_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    unsigned v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (lower(c) >= 'a' && lower(c) <= 'f')
        v = lower(c) - 'a' + 10;
    else {
        if (!d->sub)
            ht_die(h, PV_CONFUSED); /* no digit */
        else if (ows(c) || c == ';')
            d->state = S_CEXT;
        else if (!ht_eol_byte(h, d, resp, c))
            ht_die(h, PV_CONFUSED);
        return;
    }
    if (d->m.num > (HTTP_LEN_MAX - v) >> 4) {
        ht_die(h, PV_CONFUSED);
        return;
    }
    d->m.num = (d->m.num << 4) | v;
    d->sub = 1;
}
