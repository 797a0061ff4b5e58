/* http_int.h - what the HTTP/1.x parser's files share: its bounds, the
 * states of a direction's machine, the state of a connection (struct http:
 * both directions and the FIFO of requests awaiting their response) and
 * the calls between http.c (the machine, line and section bounds, body
 * framing, operations), http_field.c (header fields and numbers),
 * http_request.c (requests the program writes) and http_response.c
 * (responses it reads). Private to those four files.
 */
#ifndef OBJPOOL_HTTP_INT_H
#define OBJPOOL_HTTP_INT_H

#include "proto.h"

#define HTTP_FIFO 8           /* requests outstanding (headers sent, no final response) */
#define HTTP_SECTION_MAX 65536 /* bytes of a header section, a chunk line, a trailer section */
#define HTTP_FIELDS_MAX 100   /* fields in a header or trailer section */
#define HTTP_TOK 20           /* header names kept (longest known: 19) */
#define HTTP_LEN_MAX ((uint64_t)INT64_MAX)
#define TOK_LONG 0xff         /* tlen of a token too long to be one we know */

/* Where a direction's machine stands: the part of a message its next byte
 * belongs to. */
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

/* One connection's parser state; all zero is the start (http_init). */
struct http {
    struct http_dir req, resp;
    uint8_t fifo[HTTP_FIFO];
    uint8_t head, count;
    uint8_t dead; /* 0, PV_NEVER or PV_CONFUSED: sticky */
};

_Static_assert(sizeof(struct http) <= PROTO_STATE_SIZE, "struct http must fit proto_state");

/* Lower case of an ASCII letter; other bytes unchanged. */
static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* Optional whitespace (RFC 9110 5.6.3): SP or HTAB, around values and
 * list elements. */
static inline int ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The machine, its lines and sections (http.c). */
void ht_die(struct http *h, int verdict);
void ht_msg_begin(struct http_dir *d);
void ht_msg_end(struct http_dir *d);
void ht_section_begin(struct http_dir *d, int state);
size_t ht_skip_line(struct http *h, struct http_dir *d, const unsigned char *p, size_t n,
                    int *eol);
int ht_eol_byte(struct http *h, struct http_dir *d, int resp, unsigned char c);
void ht_version_byte(struct http *h, struct http_dir *d, int resp, unsigned char c);

/* Header fields, the values that matter, chunk sizes (http_field.c). */
extern const unsigned char ht_tchar[256];
int ht_tok_is(const struct http_dir *d, const char *s);
void ht_tok_add(struct http_dir *d, unsigned char c, unsigned cap);
void ht_field_end(struct http *h, struct http_dir *d);
void ht_hline_byte(struct http *h, struct http_dir *d, int resp, unsigned char c);
size_t ht_name_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                     size_t n);
size_t ht_value_bytes(struct http *h, struct http_dir *d, int resp, const unsigned char *p,
                      size_t n);
void ht_csize_byte(struct http *h, struct http_dir *d, int resp, unsigned char c);

/* The request line and a request's header section (http_request.c). */
void ht_req_start(struct http *h, struct http_dir *d, unsigned char c);
void ht_method_byte(struct http *h, struct http_dir *d, unsigned char c);
size_t ht_target_bytes(struct http *h, struct http_dir *d, const unsigned char *p, size_t n);
void ht_req_headers_end(struct http *h, struct http_dir *d);

/* The status line and a response's header section (http_response.c). */
void ht_resp_start(struct http *h, struct http_dir *d, unsigned char c);
void ht_status_byte(struct http *h, struct http_dir *d, unsigned char c);
void ht_resp_headers_end(struct http *h, struct http_dir *d);
#endif
