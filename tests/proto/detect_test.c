/* detect_test.c - protocol detection (preload/conn/proto/detect.c) alone:
 * each input is the first bytes a program writes, with the protocol it
 * must be detected as and the byte count at which that is decided. Each is
 * fed whole, byte by byte (the decision must come exactly at that byte and
 * never change after it) and in two chunks split at every byte.
 */
#include "harness.h"

static const char *const names[PROTO_NIDS] = {
    [PROTO_AUTO] = "AUTO",   [PROTO_OPAQUE] = "OPAQUE",     [PROTO_HTTP] = "HTTP",
    [PROTO_REDIS] = "REDIS", [PROTO_MEMCACHE] = "MEMCACHE", [PROTO_LINE] = "LINE",
    [PROTO_POSTGRES] = "POSTGRES", [PROTO_TLS] = "TLS", [PROTO_UNKNOWN] = "UNKNOWN",
};

static const char *id_name(int id)
{
    return id >= 0 && id < PROTO_NIDS ? names[id] : "?";
}

/* The input, printable: it holds CR, LF and binary bytes. */
static const unsigned char *cur_p;
static size_t cur_n;

static int fail(const char *what, const char *how, int got, int want)
{
    fprintf(stderr, "FAIL %s \"", what);
    for (size_t i = 0; i < cur_n; i++) {
        unsigned char c = cur_p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\" (%s): %s, want %s\n", how, id_name(got), id_name(want));
    harness_failed++;
    return 0;
}

/* Feed p[0..n) byte by byte: the answer is AUTO before byte `at`, want
 * from there on (at 0: never decided within n). */
static int check_bytewise(const char *what, const unsigned char *p, size_t n, int want, size_t at)
{
    struct proto_detect d = {{0}, 0};
    for (size_t i = 0; i < n; i++) {
        int got = proto_detect_feed(&d, p + i, 1);
        int expected = at && i + 1 >= at ? want : PROTO_AUTO;
        if (got != expected) {
            char how[48];
            snprintf(how, sizeof how, "byte by byte, after %zu bytes", i + 1);
            return fail(what, how, got, expected);
        }
    }
    return 1;
}

static int check_detect(const char *what, const char *s, size_t n, int want, size_t at)
{
    const unsigned char *p = (const unsigned char *)s;
    struct proto_detect d = {{0}, 0};
    harness_cases++;
    cur_p = p;
    cur_n = n;
    int got = proto_detect_feed(&d, p, n);
    if (got != want)
        return fail(what, "whole", got, want);
    for (size_t k = 1; k < n; k++) {
        memset(&d, 0, sizeof d);
        got = proto_detect_feed(&d, p, k);
        if (got == PROTO_AUTO)
            got = proto_detect_feed(&d, p + k, n - k);
        if (got != want) {
            char how[32];
            snprintf(how, sizeof how, "split at %zu", k);
            return fail(what, how, got, want);
        }
    }
    return check_bytewise(what, p, n, want, at);
}

#define D(want, at, s) check_detect(#want " at " #at, (s), sizeof(s) - 1, (want), (at))

static void tls_binary_cases(void)
{
    D(PROTO_TLS, 2, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    D(PROTO_TLS, 2, "\x16\x03");
    D(PROTO_AUTO, 0, "\x16");
    D(PROTO_UNKNOWN, 2, "\x16\x01");
    D(PROTO_MEMCACHE, 1, "\x80\x00\x00\x05\x00\x00\x00\x00");      /* binary get */
    D(PROTO_MEMCACHE, 1, "\x80");
    D(PROTO_UNKNOWN, 1, "\x81\x00\x00\x05");                          /* a response magic */
    D(PROTO_UNKNOWN, 1, "\x05\x01\x00");                              /* SOCKS5 */
    D(PROTO_AUTO, 0, "\0"); /* a NUL byte: PostgreSQL's first length byte */
}

static void resp_cases(void)
{
    D(PROTO_REDIS, 2, "*1\r\n$4\r\nPING\r\n");
    D(PROTO_REDIS, 2, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    D(PROTO_REDIS, 2, "*0");
    D(PROTO_AUTO, 0, "*");
    D(PROTO_UNKNOWN, 2, "*x");
    D(PROTO_UNKNOWN, 2, "**");
    D(PROTO_UNKNOWN, 2, "*\r\n");
}

static void http_cases(void)
{
    D(PROTO_HTTP, 5, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    D(PROTO_HTTP, 5, "GET /index.html HTTP/1.0\r\n");
    D(PROTO_HTTP, 6, "HEAD / HTTP/1.1\r\n");
    D(PROTO_HTTP, 6, "POST /api HTTP/1.1\r\n");
    D(PROTO_HTTP, 5, "PUT /x HTTP/1.1\r\n");
    D(PROTO_HTTP, 8, "DELETE /x HTTP/1.1\r\n");
    D(PROTO_HTTP, 9, "OPTIONS * HTTP/1.1\r\n");
    D(PROTO_HTTP, 9, "OPTIONS / HTTP/1.1\r\n");
    D(PROTO_HTTP, 7, "PATCH /x HTTP/1.1\r\n");
    D(PROTO_HTTP, 7, "TRACE / HTTP/1.1\r\n");
    D(PROTO_HTTP, 9, "CONNECT example.com:443 HTTP/1.1\r\n");
    D(PROTO_HTTP, 11, "GET http://example.com/ HTTP/1.1\r\n");
    D(PROTO_HTTP, 12, "GET https://example.com/ HTTP/1.1\r\n");
    D(PROTO_HTTP, 11, "GET HTTP://example.com/ HTTP/1.1\r\n");
    D(PROTO_HTTP, 10, "PROPFIND /dav HTTP/1.1\r\n");                 /* any upper-case token */
    D(PROTO_HTTP, 17, "VERSION-CONTROL /x HTTP/1.1\r\n");
    D(PROTO_AUTO, 0, "GET");
    D(PROTO_AUTO, 0, "GET ");
    D(PROTO_AUTO, 0, "GET http:/");
    D(PROTO_AUTO, 0, "CONNECT ");
    D(PROTO_UNKNOWN, 4, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");           /* HTTP/2 preface */
    D(PROTO_UNKNOWN, 5, "FOO * HTTP/1.1\r\n");                        /* '*' is OPTIONS' only */
    D(PROTO_UNKNOWN, 5, "FOO x HTTP/1.1\r\n");
    D(PROTO_UNKNOWN, 2, "Post / HTTP/1.1\r\n");                       /* methods are upper case */
    D(PROTO_REDIS, 5, "GET  / HTTP/1.1\r\n"); /* not a request line: Redis inline GET "/" */
}

static void memcache_text_cases(void)
{
    D(PROTO_MEMCACHE, 4, "get foo\r\n");
    D(PROTO_MEMCACHE, 5, "gets a b c\r\n");
    D(PROTO_MEMCACHE, 4, "gat 10 k\r\n");
    D(PROTO_MEMCACHE, 5, "gats 10 k\r\n");
    D(PROTO_MEMCACHE, 4, "set k 0 0 1\r\nv\r\n");
    D(PROTO_MEMCACHE, 4, "add k 0 0 1\r\nv\r\n");
    D(PROTO_MEMCACHE, 8, "replace k 0 0 1\r\nv\r\n");
    D(PROTO_MEMCACHE, 7, "append k 0 0 1\r\nv\r\n");
    D(PROTO_MEMCACHE, 8, "prepend k 0 0 1\r\nv\r\n");
    D(PROTO_MEMCACHE, 4, "cas k 0 0 1 5\r\nv\r\n");
    D(PROTO_MEMCACHE, 7, "delete k\r\n");
    D(PROTO_MEMCACHE, 5, "incr n 1\r\n");
    D(PROTO_MEMCACHE, 5, "decr n 1\r\n");
    D(PROTO_MEMCACHE, 6, "touch k 10\r\n");
    D(PROTO_MEMCACHE, 7, "stats\r\n");
    D(PROTO_MEMCACHE, 6, "stats slabs\r\n");
    D(PROTO_MEMCACHE, 9, "version\r\n");
    D(PROTO_MEMCACHE, 10, "verbosity 1\r\n");
    D(PROTO_MEMCACHE, 11, "flush_all\r\n");
    D(PROTO_MEMCACHE, 3, "mg foo v\r\n");
    D(PROTO_MEMCACHE, 3, "ms foo 2\r\nhi\r\n");
    D(PROTO_MEMCACHE, 3, "md foo\r\n");
    D(PROTO_MEMCACHE, 3, "ma foo\r\n");
    D(PROTO_MEMCACHE, 4, "mn\r\n");
    D(PROTO_MEMCACHE, 3, "me foo\r\n");
    D(PROTO_MEMCACHE, 6, "quit\r\n");
    D(PROTO_AUTO, 0, "get");
    D(PROTO_AUTO, 0, "stats\r");
    D(PROTO_UNKNOWN, 4, "getx foo\r\n");
    D(PROTO_UNKNOWN, 7, "stats\rx");
    D(PROTO_UNKNOWN, 5, "quit\n");       /* SP or \r\n only */
}

static void redis_inline_cases(void)
{
    D(PROTO_REDIS, 6, "PING\r\n");
    D(PROTO_REDIS, 6, "ping\r\n");
    D(PROTO_REDIS, 7, "ECHO hi\r\n");  /* "h" could start http:// until "i" */
    D(PROTO_REDIS, 5, "SET k v\r\n");   /* upper case: Redis, not memcached */
    D(PROTO_REDIS, 5, "GET k\r\n");     /* GET not followed by a target */
    D(PROTO_REDIS, 6, "GET hello\r\n"); /* "h" could start http:// until "e" */
    D(PROTO_REDIS, 9, "GET httpd\r\n"); /* ... until "d" */
    D(PROTO_REDIS, 5, "DEL k\r\n");
    D(PROTO_REDIS, 6, "AUTH pw\r\n");
    D(PROTO_REDIS, 8, "SELECT 1\r\n");
    D(PROTO_REDIS, 7, "HELLO 3\r\n");
    D(PROTO_REDIS, 6, "INFO\r\n");
    D(PROTO_REDIS, 8, "EXISTS k\r\n");
    D(PROTO_REDIS, 6, "INCR n\r\n");
    D(PROTO_REDIS, 6, "KEYS *\r\n");    /* '*' is a target for OPTIONS only */
    D(PROTO_REDIS, 4, "Set k v\r\n");
    D(PROTO_REDIS, 5, "mget a b\r\n");  /* no memcached word */
    D(PROTO_REDIS, 7, "client list\r\n");
    D(PROTO_REDIS, 6, "QUIT\r\n");      /* upper case: Redis */
    D(PROTO_AUTO, 0, "PING");
    D(PROTO_AUTO, 0, "PING\r");
    D(PROTO_UNKNOWN, 6, "PINGX\r\n");
    D(PROTO_UNKNOWN, 5, "PING\n");
}

static void unknown_cases(void)
{
    D(PROTO_UNKNOWN, 5, "REQ a\n");     /* the tests' tag server: a custom line protocol */
    D(PROTO_UNKNOWN, 5, "REQ tag-1\n");
    D(PROTO_UNKNOWN, 2, "howdy there\n");
    D(PROTO_REDIS, 6, "hello there\n"); /* HELLO, inline */
    D(PROTO_UNKNOWN, 1, "{\"json\": 1}\n");
    D(PROTO_UNKNOWN, 1, "\r\n");
    D(PROTO_UNKNOWN, 1, " GET /\r\n");
    D(PROTO_UNKNOWN, 2, "G\n");
    /* nothing settled within PROTO_DETECT_MAX bytes */
    D(PROTO_UNKNOWN, 24, "ABCDEFGHIJKLMNOPQRSTUVWXYZ /");
    D(PROTO_AUTO, 0, "ABCDEFGHIJKLMNOPQRSTUVW");
}

/* The detector keeps at most PROTO_DETECT_MAX bytes; more are ignored, and
 * asking again gives the same answer. */
/* PostgreSQL's untyped first message: negotiation, cancel, start-up 3.0. */
static void postgres_cases(void)
{
    D(PROTO_POSTGRES, 8, "\0\0\0\x08\x04\xd2\x16\x2f");              /* SSLRequest */
    D(PROTO_POSTGRES, 8, "\0\0\0\x08\x04\xd2\x16\x30");              /* GSSENCRequest */
    D(PROTO_POSTGRES, 8, "\0\0\0\x10\x04\xd2\x16\x2e\0\0\x12\x34"); /* CancelRequest */
    D(PROTO_POSTGRES, 8, "\0\0\0\x28\0\x03\0\0user\0u_trust\0");     /* StartupMessage */
    D(PROTO_POSTGRES, 8, "\0\0\x27\x10\0\x03\0\0user\0");            /* 10000 bytes */
    D(PROTO_AUTO, 0, "\0\0\0\x08\x04\xd2\x16");
    D(PROTO_UNKNOWN, 8, "\0\0\0\x08\x04\xd2\x16\x31");
    D(PROTO_UNKNOWN, 8, "\0\0\0\x10\x04\xd2\x16\x2f");              /* SSLRequest, length 16 */
    D(PROTO_UNKNOWN, 5, "\0\0\0\x08\0\x03\0\0");                    /* no parameters */
    D(PROTO_UNKNOWN, 6, "\0\0\0\x28\0\x02\0\0user\0");               /* protocol 2 */
    D(PROTO_UNKNOWN, 3, "\0\0\x28\x00\0\x03\0\0");                   /* past 10000 bytes */
    D(PROTO_UNKNOWN, 2, "\0\x01\0\x08");
}

static void buffer_cases(void)
{
    struct proto_detect d = {{0}, 0};
    harness_cases++;
    cur_p = (const unsigned char *)"GET /x";
    cur_n = 6;
    if (proto_detect_feed(&d, (const unsigned char *)"GET", 3) != PROTO_AUTO ||
        proto_detect_feed(&d, NULL, 0) != PROTO_AUTO ||
        proto_detect_feed(&d, (const unsigned char *)" /x", 3) != PROTO_HTTP ||
        proto_detect_feed(&d, (const unsigned char *)"junk", 4) != PROTO_HTTP)
        fail("decided, asked again", "whole", PROTO_AUTO, PROTO_HTTP);
    static unsigned char big[4096];
    memset(big, 'A', sizeof big);
    memset(&d, 0, sizeof d);
    harness_cases++;
    cur_p = big;
    cur_n = 30;
    if (proto_detect_feed(&d, big, sizeof big) != PROTO_UNKNOWN || d.len != PROTO_DETECT_MAX)
        fail("4 KiB of one token", "whole", PROTO_AUTO, PROTO_UNKNOWN);
}

int main(void)
{
    (void)check_case; /* the harness's parser cases: not used by the detector */
    tls_binary_cases();
    resp_cases();
    http_cases();
    memcache_text_cases();
    redis_inline_cases();
    unknown_cases();
    postgres_cases();
    buffer_cases();
    return harness_done("detect");
}
