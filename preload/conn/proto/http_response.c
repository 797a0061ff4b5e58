/* http_response.c - the responses the program reads, for the HTTP/1.x
 * parser (http.c): the status line (the shared "HTTP/1.x", a status code,
 * a skipped reason), and the end of a response's header section, which
 * takes its request from the FIFO (interim 1xx leave it there) and frames
 * the body by it.
 */
#include "http_int.h"

/* A response's header section is complete. Interim 1xx leave their request
 * waiting; a final one takes it from the FIFO and is framed by it: HEAD,
 * 204 and 304 have no body, else Content-Length or chunked; anything else
 * is delimited by the close. */
void ht_resp_headers_end(struct http *h, struct http_dir *d)
{
    struct http_msg *m = &d->m;
    if (m->status < 200) {
        ht_msg_end(d);
        return;
    }
    uint8_t req = h->fifo[h->head];
    h->head = (uint8_t)((h->head + 1) % HTTP_FIFO);
    h->count--;
    if ((m->http10 || (req & F_HTTP10)) && !m->conn_ka) {
        ht_die(h, PV_NEVER);
        return;
    }
    if ((req & F_HEAD) || m->status == 204 || m->status == 304) {
        ht_msg_end(d);
    } else if (m->te_seen) {
        if (m->cl_seen || m->te_chunked > 1)
            ht_die(h, PV_CONFUSED);
        else if (!m->te_last_chunked || m->http10)
            ht_die(h, PV_NEVER); /* delimited by the close */
        else
            ht_section_begin(d, S_CSIZE);
    } else if (m->cl_seen) {
        d->left = m->cl;
        if (m->cl)
            d->state = S_BODY;
        else
            ht_msg_end(d);
    } else {
        ht_die(h, PV_NEVER); /* delimited by the close */
    }
}

/* The first byte of a response: only ever an answer to a request. */
void ht_resp_start(struct http *h, struct http_dir *d, unsigned char c)
{
    if (!h->count) {
        ht_die(h, PV_CONFUSED); /* the server speaks unasked */
        return;
    }
    ht_msg_begin(d);
    d->state = S_VERSION;
    ht_version_byte(h, d, 1, c);
}

/* The three digits of a status code, then SP and a reason, or the end. */
void ht_status_byte(struct http *h, struct http_dir *d, unsigned char c)
{
    if (d->idx < 3) {
        if (c < '0' || c > '9' || (d->idx == 0 && (c < '1' || c > '5'))) {
            ht_die(h, PV_CONFUSED);
            return;
        }
        d->m.status = (uint16_t)(d->m.status * 10 + (c - '0'));
        if (++d->idx == 3 && d->m.status == 101)
            ht_die(h, PV_NEVER); /* switching protocols: not HTTP any more */
    } else if (c == ' ') {
        d->state = S_REASON;
    } else if (!ht_eol_byte(h, d, 1, c)) {
        ht_die(h, PV_CONFUSED);
    }
}
