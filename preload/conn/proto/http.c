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
 *
 * This file owns the machine: one step per state, line and section bounds,
 * message boundaries, the "HTTP/1.x" both start lines share, body and
 * chunk framing, and the operations. Header fields are read in
 * http_field.c, request lines and their header sections' ends in
 * http_request.c, status lines and theirs in http_response.c.
 */
#include "http_int.h"

#include <string.h>

/* The first verdict that ends parsing wins: everything after it is moot. */
void ht_die(struct http *h, int verdict)
{
    if (!h->dead)
        h->dead = (uint8_t)verdict;
}

/* A new message starts at this byte: forget the previous one. */
void ht_msg_begin(struct http_dir *d)
{
    memset(&d->m, 0, sizeof d->m);
    d->fields = 0;
    d->fresh = 2;
    d->idx = 0;
    d->tlen = 0;
}

/* A message ends with this byte. What comes between messages (empty
 * lines before a request) is counted like a section too. */
void ht_msg_end(struct http_dir *d)
{
    d->state = S_START;
    d->fresh = 1;
}

/* A new counted section (chunk line, trailers) starts after this byte. */
void ht_section_begin(struct http_dir *d, int state)
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
size_t ht_skip_line(struct http *h, struct http_dir *d, const unsigned char *p, size_t n,
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
        ht_die(h, PV_CONFUSED);
        return at + 1;
    }
    if (lf) {
        *eol = 1;
        return end + 1;
    }
    return n;
}

/* A chunk-size line ends: data follows, or the trailer section (size 0). */
static void chunk_line_end(struct http_dir *d)
{
    if (d->m.num) {
        d->left = d->m.num;
        d->state = S_CDATA;
    } else {
        ht_section_begin(d, S_TLINE);
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
            ht_resp_headers_end(h, d);
        else
            ht_req_headers_end(h, d);
        break;
    case S_HVAL:
        ht_field_end(h, d);
        break;
    case S_CSIZE:
    case S_CEXT:
        chunk_line_end(d);
        break;
    case S_CDATA_END:
        ht_section_begin(d, S_CSIZE);
        break;
    case S_TLINE:
        ht_msg_end(d);
        break;
    case S_TSKIP:
        d->state = S_TLINE;
        break;
    default:
        ht_die(h, PV_CONFUSED);
    }
}

/* A line may end here: CR (its LF must follow) or LF. Returns 1 if c was
 * one of them. */
int ht_eol_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
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

/* "HTTP/1.x" and what must follow it: the request line's end, or the SP
 * before a status code. d->idx counts the bytes matched. */
void ht_version_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    static const char ver[] = "HTTP/1.";
    if (d->idx < 7) {
        if (c != (unsigned char)ver[d->idx])
            ht_die(h, PV_CONFUSED);
        d->idx++;
    } else if (d->idx == 7) {
        if (c < '0' || c > '9')
            ht_die(h, PV_CONFUSED);
        d->m.http10 = c == '0';
        d->idx++;
    } else if (resp && c == ' ') {
        d->idx = 0;
        d->state = S_STATUS;
    } else if (resp || !ht_eol_byte(h, d, resp, c)) {
        ht_die(h, PV_CONFUSED);
    }
}

/* The start of a trailer line: a field (skipped), or the end of the
 * message. */
static void tline_byte(struct http *h, struct http_dir *d, int resp, unsigned char c)
{
    if (ht_eol_byte(h, d, resp, c))
        return;
    if (!ht_tchar[c] || ++d->fields > HTTP_FIELDS_MAX)
        ht_die(h, PV_CONFUSED);
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
        ht_msg_end(d);
    else
        d->state = (uint8_t)next;
    return k;
}

/* A line-skipping state: on its LF, line_end(). */
static size_t skip_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                         size_t n)
{
    int eol;
    size_t k = ht_skip_line(h, d, p, n, &eol);
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
            ht_die(h, PV_CONFUSED); /* a bare CR */
        return 1;
    }
    switch (d->state) {
    case S_START:
        if (resp)
            ht_resp_start(h, d, c);
        else
            ht_req_start(h, d, c);
        return 1;
    case S_METHOD:
        ht_method_byte(h, d, c);
        return 1;
    case S_TARGET:
        return ht_target_bytes(h, d, p, n);
    case S_VERSION:
        ht_version_byte(h, d, resp, c);
        return 1;
    case S_STATUS:
        ht_status_byte(h, d, c);
        return 1;
    case S_HLINE:
        ht_hline_byte(h, d, resp, c);
        return 1;
    case S_HNAME:
        return ht_name_bytes(h, d, resp, p, n);
    case S_HVAL:
        return ht_value_bytes(h, d, resp, p, n);
    case S_BODY:
        return count_bytes(d, n, S_START);
    case S_CSIZE:
        ht_csize_byte(h, d, resp, c);
        return 1;
    case S_CDATA:
        return count_bytes(d, n, S_CDATA_END);
    case S_CDATA_END:
        if (!ht_eol_byte(h, d, resp, c))
            ht_die(h, PV_CONFUSED);
        return 1;
    case S_TLINE:
        tline_byte(h, d, resp, c);
        return 1;
    case S_REASON:
    case S_CEXT:
    case S_TSKIP:
        return skip_bytes(h, d, resp, p, n);
    default:
        ht_die(h, PV_CONFUSED);
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
                ht_die(h, PV_CONFUSED);
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

/* A fresh connection: all zero is both directions between messages, no
 * request outstanding, nothing decided. */
static void http_init(struct proto_state *st)
{
    memset(st, 0, sizeof *st);
}

/* Bytes the program wrote: its requests. */
static void http_out(struct proto_state *st, const unsigned char *p, size_t n)
{
    feed((struct http *)st->u.bytes, 0, p, n);
}

/* Bytes the program read: the server's responses. */
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
    .goodbye = proto_http_goodbye,
};
