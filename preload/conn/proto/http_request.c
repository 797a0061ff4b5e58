/* http_request.c - the requests the program writes, for the HTTP/1.x
 * parser (http.c): the request line (method, target, then the shared
 * "HTTP/1.x"), and the end of a request's header section, which decides
 * reuse, queues what its response's framing needs and frames its body.
 */
#include "http_int.h"

/* A request's header section is complete: decide reuse, queue it for its
 * response, and frame its body. An HTTP/1.0 request without keep-alive
 * will be answered by a close: never reused, at once. */
void ht_req_headers_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (m->http10 && !m->conn_ka) {
        ht_die(h, PV_NEVER);
        return;
    }
    if (m->te_seen && (m->cl_seen || m->te_chunked > 1 || !m->te_last_chunked || m->http10)) {
        ht_die(h, PV_CONFUSED);
        return;
    }
    if (h->count == HTTP_FIFO) {
        ht_die(h, PV_CONFUSED);
        return;
    }
    h->fifo[(h->head + h->count) % HTTP_FIFO] =
        (uint8_t)((m->head ? F_HEAD : 0) | (m->http10 ? F_HTTP10 : 0));
    h->count++;
    if (m->te_seen)
        ht_section_begin(d, S_CSIZE);
    else if (m->cl_seen && m->cl) {
        d->left = m->cl;
        d->state = S_BODY;
    } else
        ht_msg_end(d);
}

/* The first byte of a request: its method, or an empty line before it. */
void ht_req_start(struct http *h, struct http_dir *d, unsigned char c)
{
    if (ht_eol_byte(h, d, 0, c))
        return;
    if (!ht_tchar[c]) {
        ht_die(h, PV_CONFUSED);
        return;
    }
    ht_msg_begin(d);
    ht_tok_add(d, c, 7);
    d->state = S_METHOD;
}

/* The method ends at its SP: HEAD shapes the response, CONNECT makes the
 * connection a tunnel. */
void ht_method_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (ht_tchar[c]) {
        ht_tok_add(d, c, 7);
    } else if (c == ' ') {
        if (ht_tok_is(d, "CONNECT"))
            ht_die(h, PV_NEVER);
        d->m.head = ht_tok_is(d, "HEAD");
        d->sub = 0;
        d->state = S_TARGET;
    } else {
        ht_die(h, PV_CONFUSED);
    }
}

/* The request target: visible bytes up to one SP (none is HTTP/0.9). */
size_t ht_target_bytes(struct http *h, struct http_dir *d, const unsigned char *p, size_t n)
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
        ht_die(h, PV_CONFUSED);
    }
    return i + 1;
}
