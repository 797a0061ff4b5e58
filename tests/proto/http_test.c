/* http_test.c - unit tests of the HTTP/1.x parser (preload/conn/proto/http.c).
 *
 * Exchanges as real clients write them (curl, python-requests, urllib)
 * and as nginx answers them, each replayed by the harness whole, split at
 * every byte and byte by byte: complete exchanges, pipelining, interim
 * responses, bodies and chunked streams read part way, every rule that
 * forbids reuse, and every bound. Exchanges too large to replay at every
 * split (bounds, big bodies) are built at run time and split at sampled
 * points.
 */
#include "harness.h"

#define H proto_http_ops

/* --- requests as real clients write them ------------------------------- */
#define CURL_GET                                                                     \
    "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n" \
    "Accept: */*\r\n\r\n"
#define CURL_HEAD                                                                     \
    "HEAD /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n" \
    "Accept: */*\r\n\r\n"
#define REQUESTS_GET                                                                 \
    "GET /api/items?id=7 HTTP/1.1\r\nHost: localhost:8000\r\n"                       \
    "User-Agent: python-requests/2.28.1\r\nAccept-Encoding: gzip, deflate, br\r\n" \
    "Accept: */*\r\nConnection: keep-alive\r\n\r\n"
#define REQUESTS_POST                                                                \
    "POST /api/items HTTP/1.1\r\nHost: localhost:8000\r\n"                           \
    "User-Agent: python-requests/2.28.1\r\nAccept-Encoding: gzip, deflate\r\n"      \
    "Accept: */*\r\nConnection: keep-alive\r\nContent-Length: 13\r\n"               \
    "Content-Type: application/json\r\n\r\n{\"name\": \"x\"}"
#define URLLIB_GET                                                                   \
    "GET /data HTTP/1.1\r\nAccept-Encoding: identity\r\nHost: localhost:8000\r\n"   \
    "User-Agent: Python-urllib/3.11\r\nConnection: close\r\n\r\n"
#define HTTPCLIENT_GET "GET /x HTTP/1.1\r\nHost: localhost:8000\r\nAccept-Encoding: identity\r\n\r\n"
#define REQUESTS_CHUNKED_POST                                                       \
    "POST /stream HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: python-requests/2.28.1\r\n" \
    "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n"           \
    "Transfer-Encoding: chunked\r\n\r\n"
#define AB_GET "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"

/* --- responses as nginx writes them ----------------------------------- */
#define NGX_HEAD(status, len)                                                       \
    "HTTP/1.1 " status "\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" \
    "Content-Type: text/html\r\nContent-Length: " len "\r\n"                              \
    "Last-Modified: Sun, 31 Dec 2023 10:00:00 GMT\r\nConnection: keep-alive\r\n"          \
    "ETag: \"6590b8e8-5\"\r\nAccept-Ranges: bytes\r\n\r\n"
#define NGX_200 NGX_HEAD("200 OK", "5") "hello"
#define NGX_CHUNKED_HEAD                                                              \
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" \
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"                  \
    "Connection: keep-alive\r\n\r\n"
#define SMALL_200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define SMALL_GET "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"

static void exchanges(void)
{
    /* nothing exchanged yet */
    CASE(H, PV_CLEAN, O(""));
    CASE(H, PV_CLEAN, O(CURL_GET), I(NGX_200));
    CASE(H, PV_CLEAN, O(REQUESTS_GET), I(NGX_200));
    CASE(H, PV_CLEAN, O(HTTPCLIENT_GET), I(NGX_200));
    CASE(H, PV_CLEAN, O(REQUESTS_CHUNKED_POST), O("5\r\nhello\r\n"), O("0\r\n\r\n"), I(SMALL_200));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_CHUNKED_POST), O("5\r\nhello\r\n"), I(SMALL_200));
    CASE(H, PV_CLEAN, O(REQUESTS_POST),
         I("HTTP/1.1 201 Created\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"));
    /* request and response in one read each, then a second lease */
    CASE(H, PV_CLEAN, O(CURL_GET), I(NGX_200), O(REQUESTS_GET), I(NGX_HEAD("404 Not Found", "0")));
    /* the status line's reason phrase may be empty or missing */
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"));
    /* bare LF line ends are accepted (RFC 9112 2.2) */
    CASE(H, PV_CLEAN, O("GET / HTTP/1.1\nHost: a\n\n"), I("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    /* empty lines before a request line are ignored */
    CASE(H, PV_CLEAN, O("\r\n" SMALL_GET), I(SMALL_200));
    CASE(H, PV_CLEAN, O(SMALL_GET), I(SMALL_200), O("\r\n"));
    /* header names are case-insensitive; values are trimmed */
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:   2  \r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\ncontent-length:2\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET),
         I("HTTP/1.1 200 OK\r\nTRANSFER-ENCODING:\tChunked \r\n\r\n2\r\nok\r\n0\r\n\r\n"));
    /* fields that merely look like the ones that matter */
    CASE(H, PV_CLEAN, O(SMALL_GET),
         I("HTTP/1.1 200 OK\r\nX-Content-Length: 99\r\nContent-Lengthy: 7\r\n"
           "Content-Location: /a\r\nConnectionx: close\r\nProxy-Connection: close\r\n"
           "Keep-Alive: timeout=5, max=100\r\nContent-Length: 2\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nConnection: keep-alive, Upgrade-Insecure\r\nContent-Length: 0\r\n\r\n"));
    /* an equal Content-Length repeated, in a list or in two fields */
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 002\r\n\r\nok"));
    /* methods other than GET; an asterisk target; a long unknown method */
    CASE(H, PV_CLEAN, O("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), I("HTTP/1.1 204 No Content\r\nAllow: GET\r\n\r\n"));
    CASE(H, PV_CLEAN, O("VERSION-CONTROL /r HTTP/1.1\r\nHost: a\r\n\r\n"), I(SMALL_200));
    CASE(H, PV_CLEAN, O("DELETE /api/items/7 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"),
         I("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    /* a Basic challenge binds nothing to the connection */
    CASE(H, PV_CLEAN, O(SMALL_GET),
         I("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ntl m\"\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_CLEAN, O("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic TlRMTU5lZ290aWF0ZQ==\r\n\r\n"),
         I(SMALL_200));
    /* HTTP/1.x minor versions past 1 are 1.1 */
    CASE(H, PV_CLEAN, O("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), I(SMALL_200));
}

static void no_body(void)
{
    /* HEAD: no body whatever Content-Length or Transfer-Encoding say */
    CASE(H, PV_CLEAN, O(CURL_HEAD), I(NGX_HEAD("200 OK", "12345")));
    CASE(H, PV_CLEAN, O(CURL_HEAD), I(NGX_CHUNKED_HEAD));
    CASE(H, PV_CLEAN, O(CURL_HEAD), I("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"));
    /* the HEAD response's length is not read as a body: the next response follows */
    CASE(H, PV_CLEAN, O(CURL_HEAD CURL_GET), I(NGX_HEAD("200 OK", "5") NGX_200));
    CASE(H, PV_INCOMPLETE, O(CURL_HEAD CURL_GET), I(NGX_HEAD("200 OK", "5")));
    /* 204 and 304 have no body, even with a Content-Length */
    CASE(H, PV_CLEAN, O(CURL_GET), I(NGX_HEAD("304 Not Modified", "5")));
    CASE(H, PV_CLEAN, O(CURL_GET), I("HTTP/1.1 304 Not Modified\r\nServer: nginx\r\nETag: \"x\"\r\n\r\n"));
    CASE(H, PV_CLEAN, O(CURL_GET), I("HTTP/1.1 204 No Content\r\nServer: nginx\r\n\r\n"));
    CASE(H, PV_CLEAN, O(CURL_GET), I("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(CURL_GET CURL_GET), I("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n" SMALL_200));
    /* a body of length 0 */
    CASE(H, PV_CLEAN, O(CURL_GET), I(NGX_HEAD("200 OK", "0")));
    /* the 304's length must not swallow the next response's bytes */
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_HEAD("304 Not Modified", "5") "hello"));
}

static void bodies(void)
{
    /* request bodies by Content-Length, chunked with extensions and trailers */
    CASE(H, PV_CLEAN, O("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), O("abcde"),
         I(SMALL_200));
    CASE(H, PV_CLEAN,
         O("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5;name=value;q=\"a;b\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 77\r\n\r\n"),
         I(SMALL_200));
    CASE(H, PV_INCOMPLETE, O("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcd"));
    CASE(H, PV_INCOMPLETE, O("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcd"), I(SMALL_200));
    CASE(H, PV_INCOMPLETE, O("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    /* response bodies: Content-Length, chunked with extensions and trailers */
    CASE(H, PV_CLEAN, O(REQUESTS_GET),
         I(NGX_CHUNKED_HEAD "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
           "3;ext=1 ; other=\"q;\\\"x\"\r\n123\r\n0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(REQUESTS_GET),
         I(NGX_CHUNKED_HEAD "5\r\nhello\r\n0;last\r\nServer-Timing: db;dur=53\r\nX-Trailer: 1\r\n\r\n"));
    CASE(H, PV_CLEAN, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "0005 \r\nhello\r\n0\r\n\r\n"));
    /* gzip then chunked: chunked is last, the framing holds */
    CASE(H, PV_CLEAN, O(REQUESTS_GET),
         I("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(REQUESTS_GET),
         I("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nzz\r\n0\r\n\r\n"));
    /* read part way, at each boundary */
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I(NGX_HEAD("200 OK", "5") "hell"));
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I(NGX_HEAD("200 OK", "5")));
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I("HTTP/1.1 200 OK\r\nServer: nginx\r\n"));
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r"));
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I("HTTP/1.1 20"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhel"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhello"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhello\r\n"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhello\r\n0\r\n"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhello\r\n0\r\n\r"));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET), I(NGX_CHUNKED_HEAD "5\r\nhello\r\n0\r\nX-T: 1\r\n"));
    /* the largest lengths that fit 63 bits are fine (and unread) */
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc"));
    CASE(H, PV_INCOMPLETE, O(CURL_GET),
         I("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nabc"));
}

static void interim(void)
{
    /* Expect: 100-continue: headers, 100, body, final response */
    CASE(H, PV_CLEAN,
         O("PUT /f HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/7.88.1\r\nContent-Length: 4\r\n"
           "Expect: 100-continue\r\n\r\n"),
         I("HTTP/1.1 100 Continue\r\n\r\n"), O("data"), I("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_INCOMPLETE,
         O("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"),
         I("HTTP/1.1 100 Continue\r\n\r\n"), O("data"));
    CASE(H, PV_INCOMPLETE,
         O("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"),
         I("HTTP/1.1 100 Continue\r\n\r\n"));
    /* the server refuses before the body: the request stays half-written */
    CASE(H, PV_INCOMPLETE,
         O("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"),
         I("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"));
    /* an early answer, then the rest of the body: all complete */
    CASE(H, PV_CLEAN, O("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc"),
         I("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), O("def"));
    /* 102 and 103 do not complete the request; several may come */
    CASE(H, PV_CLEAN, O(CURL_GET),
         I("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
           "HTTP/1.1 102 Processing\r\n\r\n" NGX_200));
    CASE(H, PV_INCOMPLETE, O(CURL_GET), I("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"));
    /* an interim response answers the first of two pipelined requests */
    CASE(H, PV_CLEAN, O(CURL_GET SMALL_GET), I("HTTP/1.1 100 Continue\r\n\r\n" NGX_200 SMALL_200));
    CASE(H, PV_INCOMPLETE, O(CURL_GET SMALL_GET), I("HTTP/1.1 100 Continue\r\n\r\n" NGX_200));
}

static void pipelining(void)
{
    CASE(H, PV_CLEAN, O(CURL_GET CURL_GET), I(NGX_200 NGX_200));
    CASE(H, PV_CLEAN, O(CURL_GET), O(REQUESTS_GET), I(NGX_200), I(NGX_CHUNKED_HEAD "0\r\n\r\n"));
    CASE(H, PV_CLEAN, O(CURL_GET), I(NGX_200), O(CURL_GET), I(NGX_200));
    CASE(H, PV_CLEAN, O(REQUESTS_GET CURL_GET CURL_HEAD),
         I(NGX_CHUNKED_HEAD "2\r\nok\r\n0\r\n\r\n" NGX_200 NGX_HEAD("200 OK", "5")));
    CASE(H, PV_INCOMPLETE, O(REQUESTS_GET CURL_GET CURL_HEAD),
         I(NGX_CHUNKED_HEAD "2\r\nok\r\n0\r\n\r\n" NGX_200));
    CASE(H, PV_INCOMPLETE, O(CURL_GET CURL_GET), I(NGX_200));
    CASE(H, PV_INCOMPLETE, O(CURL_GET CURL_GET), I(NGX_200 "HTTP/1.1 200 OK\r\n"));
    CASE(H, PV_INCOMPLETE, O(CURL_GET));
    CASE(H, PV_INCOMPLETE, O(CURL_GET "GET / HT"), I(NGX_200));
    CASE(H, PV_INCOMPLETE, O("GET / HTTP/1.1\r\nHost: a\r\n"));
    CASE(H, PV_INCOMPLETE, O("GET / HTTP/1.1\r\nHost: a\r\n\r"));
    CASE(H, PV_INCOMPLETE, O("\r"));
    CASE(H, PV_INCOMPLETE, O("G"));
    /* eight outstanding are held; a ninth is past the bound */
    CASE(H, PV_INCOMPLETE,
         O(SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET));
    CASE(H, PV_CLEAN,
         O(SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET),
         I(SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200));
    CASE(H, PV_CLEAN,
         O(SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET),
         I(SMALL_200 SMALL_200 SMALL_200), O(SMALL_GET SMALL_GET SMALL_GET),
         I(SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200 SMALL_200));
    CASE(H, PV_CONFUSED,
         O(SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET SMALL_GET));
}

static void never(void)
{
    /* Connection: close on either side, as a token in a list */
    CASE(H, PV_NEVER, O(URLLIB_GET));
    CASE(H, PV_NEVER, O(URLLIB_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, close\r\n\r\nok"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection:Keep-Alive,CLOSE\r\n\r\nok"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nConnection: ,, close ,\r\nContent-Length: 2\r\n\r\nok"));
    CASE(H, PV_NEVER, O("GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, close\r\nTE: trailers\r\n\r\n"));
    /* decided at once, before the header section ends */
    CASE(H, PV_NEVER, O("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Le"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"));
    /* HTTP/1.0 without keep-alive, on either side */
    CASE(H, PV_NEVER, O("GET / HTTP/1.0\r\nHost: a\r\n\r\n"));
    CASE(H, PV_NEVER, O(SMALL_GET), I("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    CASE(H, PV_NEVER, O(AB_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(AB_GET), I("HTTP/1.0 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(AB_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"));
    CASE(H, PV_CLEAN, O(SMALL_GET), I("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\nok"));
    /* close-delimited responses */
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhello"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"));
    CASE(H, PV_NEVER, O(AB_GET),
         I("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    /* switching protocols, with or without asking; CONNECT */
    CASE(H, PV_NEVER,
         O("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
         I("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello"));
    CASE(H, PV_NEVER, O(SMALL_GET), I("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
    /* an upgrade asked for and refused leaves plain HTTP */
    CASE(H, PV_CLEAN, O("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                        "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"),
         I(SMALL_200));
    CASE(H, PV_NEVER, O("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
         I("HTTP/1.1 200 Connection Established\r\n\r\n"));
    CASE(H, PV_NEVER, O("CONNECT example.com:443 HTTP/1.1\r\n"));
    /* connection-bound authentication */
    CASE(H, PV_NEVER, O(SMALL_GET),
         I("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_NEVER, O(SMALL_GET), I("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM"));
    CASE(H, PV_NEVER, O(SMALL_GET),
         I("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\", negotiate\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_NEVER, O(SMALL_GET),
         I("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NEGOTIATE\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_NEVER, O(SMALL_GET),
         I("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NNTLM TlRMTVNTUAACAAAA\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_NEVER, O(SMALL_GET),
         I("HTTP/1.1 200 OK\r\nWWW-Authenticate: Negotiate oYGwMIGtoAMKAQChCwYJ\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_NEVER, O("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"));
    CASE(H, PV_NEVER, O("GET / HTTP/1.1\r\nHost: a\r\nProxy-Authorization:  Negotiate YIIC\r\n\r\n"));
    /* sticky: a clean exchange after it changes nothing */
    CASE(H, PV_NEVER, O(URLLIB_GET), I(SMALL_200), O(SMALL_GET), I(SMALL_200));
    CASE(H, PV_NEVER, O(CURL_GET), I("HTTP/1.1 200 OK\r\n\r\n"), O(SMALL_GET), I(SMALL_200));
}

static void confused(void)
{
    /* the server speaks unasked */
    CASE(H, PV_CONFUSED, I("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_200 "x"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_200 "\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_HEAD("200 OK", "5") "hello!"));
    /* a response before the request's header section is complete */
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost: a\r\n"), I(SMALL_200));
    /* not HTTP/1.x */
    CASE(H, PV_CONFUSED, O("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET /\r\n"));
    CASE(H, PV_CONFUSED, O("GET / http/1.1\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1 \r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.10\r\n"));
    CASE(H, PV_CONFUSED, O("GET  / HTTP/1.1\r\n"));
    CASE(H, PV_CONFUSED, O("GET /a b HTTP/1.1\r\n"));
    CASE(H, PV_CONFUSED, O("GET /\x01 HTTP/1.1\r\n"));
    CASE(H, PV_CONFUSED, O("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"));
    CASE(H, PV_CONFUSED, O("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/2 200\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1 20 OK\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1 2000 OK\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1 600 Odd\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1  200 OK\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("ICY 200 OK\r\n\r\n"));
    /* obs-fold, whitespace before the colon or the first field, bare CR */
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: a\r\n\tb\r\n\r\nok"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost : a\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\n Host: a\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\n: a\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nConnection: x\ry\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\rHost: a\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("\r\r\n"));
    CASE(H, PV_CONFUSED, O(SMALL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\r\nok"));
    /* Content-Length: overflow, differing duplicates, not a number */
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n\r\nok"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\nok"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
    /* Transfer-Encoding: with Content-Length, chunked twice, not last in a request */
    CASE(H, PV_CONFUSED, O(CURL_GET),
         I("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: gzip chunked\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.1\r\nTransfer-Encoding: x;a=\"chunked\r\n\r\n"));
    CASE(H, PV_CONFUSED, O("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"));
    /* chunk framing: size overflow, not hex, data not followed by CRLF */
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "8000000000000000\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "fffffffffffffffff\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "-1\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "g\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD " 5\r\nhello\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "5\r\nhello!\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "5\r\nhello\r\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "5;a\rb\r\nhello\r\n"));
    CASE(H, PV_CONFUSED, O(CURL_GET), I(NGX_CHUNKED_HEAD "0\r\n X: folded\r\n\r\n"));
    /* sticky */
    CASE(H, PV_CONFUSED, O("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), I(SMALL_200), O(SMALL_GET), I(SMALL_200));
    CASE(H, PV_CONFUSED, I("x"), O(URLLIB_GET));
}

/* --- exchanges built at run time --------------------------------------- */

/* Replay like check_case(), but split each step only at about `samples`
 * points (its edges included): for steps too long to split everywhere. */
static void check_sampled(const char *name, const struct step *steps, int nsteps, int want,
                          size_t samples)
{
    harness_cases++;
    int got = harness_run(&H, steps, nsteps, -1, 0, 0);
    if (got != want) {
        harness_report(name, "whole", got, want);
        harness_failed++;
        return;
    }
    for (int i = 0; i < nsteps; i++) {
        size_t n = harness_len(&steps[i]);
        size_t stride = n / samples + 1;
        for (size_t k = 1; k < n; k += (k < 8 || k + 8 > n) ? 1 : stride) {
            got = harness_run(&H, steps, nsteps, i, k, 0);
            if (got != want) {
                char how[64];
                snprintf(how, sizeof how, "step %d split at %zu", i, k);
                harness_report(name, how, got, want);
                harness_failed++;
                return;
            }
        }
    }
    got = harness_run(&H, steps, nsteps, -1, 0, 1);
    if (got != want) {
        harness_report(name, "byte by byte", got, want);
        harness_failed++;
    }
}

static char big[1 << 21];

/* A request with `fields` header fields, the last one padded so that the
 * whole header section is `total` bytes (0: no padding). */
static size_t build_fields(char *b, int fields, size_t total)
{
    size_t n = (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
    for (int i = 1; i < fields; i++)
        n += (size_t)sprintf(b + n, "X-F%d: v\r\n", i);
    n += (size_t)sprintf(b + n, "Cookie: ");
    while (total && n < total - 4)
        b[n++] = 'c';
    n += (size_t)sprintf(b + n, "\r\n\r\n");
    return n;
}

static void bounds(void)
{
    struct step s[2] = {{'o', big, 0}, {'i', SMALL_200, 0}};
    /* 100 fields are fine, 101 are not */
    s[0].len = build_fields(big, 100, 0);
    check_sampled("100 fields", s, 2, PV_CLEAN, 200);
    s[0].len = build_fields(big, 101, 0);
    check_sampled("101 fields", s, 2, PV_CONFUSED, 200);
    /* a header section of exactly 64 KiB is fine, one byte more is not */
    s[0].len = build_fields(big, 3, 65536);
    check_sampled("64 KiB header section", s, 2, PV_CLEAN, 200);
    s[0].len = build_fields(big, 3, 65537);
    check_sampled("64 KiB + 1 header section", s, 2, PV_CONFUSED, 200);
    /* a long line is fine within the section */
    s[0].len = build_fields(big, 1, 60000);
    check_sampled("60 KB cookie", s, 2, PV_CLEAN, 200);

    /* a response: 1 MiB body, read whole or all but its last byte */
    size_t hl = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 1 << 20);
    memset(big + hl, 'b', 1 << 20);
    struct step r[2] = {{'o', CURL_GET, 0}, {'i', big, hl + (1 << 20)}};
    check_sampled("1 MiB body", r, 2, PV_CLEAN, 64);
    r[1].len--;
    check_sampled("1 MiB body less a byte", r, 2, PV_INCOMPLETE, 64);
    r[1].len += 2;
    check_sampled("1 MiB body and a byte", r, 2, PV_CONFUSED, 64);

    /* a chunk line and a trailer section are bounded too */
    size_t n = (size_t)sprintf(big, NGX_CHUNKED_HEAD "5;x=");
    memset(big + n, 'e', 70000);
    n += 70000;
    n += (size_t)sprintf(big + n, "\r\nhello\r\n0\r\n\r\n");
    r[1].len = n;
    check_sampled("chunk extension past 64 KiB", r, 2, PV_CONFUSED, 64);
    n = (size_t)sprintf(big, NGX_CHUNKED_HEAD "0\r\n");
    for (int i = 0; i < 101; i++)
        n += (size_t)sprintf(big + n, "T%d: v\r\n", i);
    r[1].len = n + (size_t)sprintf(big + n, "\r\n");
    check_sampled("101 trailer fields", r, 2, PV_CONFUSED, 64);
    n = (size_t)sprintf(big, NGX_CHUNKED_HEAD "0\r\n");
    for (int i = 0; i < 100; i++)
        n += (size_t)sprintf(big + n, "T%d: v\r\n", i);
    r[1].len = n + (size_t)sprintf(big + n, "\r\n");
    check_sampled("100 trailer fields", r, 2, PV_CLEAN, 64);
}

/* A body handed over in one call costs one step, not one per byte: a
 * declared length larger than memory is counted down by a few calls. */
static void counted_not_scanned(void)
{
    struct proto_state st;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 4000000000000\r\n\r\n";
    harness_cases++;
    H.init(&st);
    H.out(&st, (const unsigned char *)CURL_GET, sizeof CURL_GET - 1);
    H.in(&st, (const unsigned char *)head, sizeof head - 1);
    memset(big, 'z', sizeof big);
    for (long i = 0; i < 4000000000000L / (long)sizeof big; i++)
        H.in(&st, (const unsigned char *)big, sizeof big);
    H.in(&st, (const unsigned char *)big, 4000000000000L % sizeof big);
    if (H.verdict(&st) != PV_CLEAN) {
        fprintf(stderr, "FAIL counted_not_scanned: verdict %d\n", H.verdict(&st));
        harness_failed++;
    }
}

/* A zeroed state is a fresh parser, and garbage is cleared by init(). */
static void fresh_states(void)
{
    struct proto_state st;
    harness_cases++;
    memset(&st, 0, sizeof st);
    if (H.verdict(&st) != PV_CLEAN || H.reset_req || H.reset_done ||
        strcmp(H.name, "http") != 0) {
        fprintf(stderr, "FAIL fresh_states\n");
        harness_failed++;
    }
    H.out(&st, (const unsigned char *)SMALL_GET, sizeof SMALL_GET - 1);
    H.in(&st, (const unsigned char *)SMALL_200, sizeof SMALL_200 - 1);
    if (H.verdict(&st) != PV_CLEAN) {
        fprintf(stderr, "FAIL fresh_states: zeroed state, verdict %d\n", H.verdict(&st));
        harness_failed++;
    }
}

/* An HTTP/1.1 request with Connection: close, its header section whole
 * in one write at a clean boundary: the token renamed, and once the
 * response is read the connection is clean. HTTP/1.0, upgrades, a
 * request still answered, a head split across writes: sent as written. */
#define RESP200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi"
static void goodbye_cases(void)
{
    GOODBYE(H, GB_RENAME, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", RESP200, O(""));
    GOODBYE(H, GB_RENAME, "GET / HTTP/1.1\r\nHost: a\r\nconnection: TE, Close\r\nTE: trailers\r\n\r\n", RESP200,
            O(""));
    GOODBYE(H, GB_RENAME, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            O("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), I(RESP200));
    GOODBYE(H, GB_RENAME, "POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", RESP200, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nConnection: close, upgrade\r\nUpgrade: x\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nConnection: close\r\nConnection: close\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n", NULL, O(""));
    GOODBYE(H, GB_NONE, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", NULL, O("GET / HTTP/1.1\r\n\r\n"));
    GOODBYE(H, GB_NONE, "CONNECT a:1 HTTP/1.1\r\nConnection: close\r\n\r\n", NULL, O(""));
}

int main(void)
{
    exchanges();
    no_body();
    bodies();
    interim();
    pipelining();
    never();
    confused();
    bounds();
    counted_not_scanned();
    fresh_states();
    goodbye_cases();
    return harness_done("http");
}
