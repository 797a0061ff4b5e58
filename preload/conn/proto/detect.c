/* detect.c - which protocol a connection speaks, from the first bytes the
 * program writes on it (proto=auto).
 *
 * Up to PROTO_DETECT_MAX bytes are kept. Each candidate protocol matches
 * them as NO (never, whatever follows), MAYBE (a prefix of a match) or YES
 * (a match, whatever follows). Candidates are tried in priority order and
 * the first YES wins once every candidate before it is NO, so a decision
 * never changes when more bytes arrive and is taken at the first byte that
 * settles it; while one is MAYBE the answer is PROTO_AUTO. Nothing that
 * matches, or nothing settled within the buffer, is PROTO_UNKNOWN: the
 * connection is never parked.
 */
#include "proto.h"

#include <string.h>

enum { NO = 0, MAYBE, YES };

/* ASCII only, without the locale: command names are ASCII. */
static unsigned char upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* b[0..n) against prefix s[0..len): a match needs all of s. fold compares
 * b upper-cased (s must then be upper case). */
static int match_prefix(const unsigned char *b, size_t n, const char *s, size_t len, int fold)
{
    for (size_t i = 0; i < len; i++) {
        if (i == n)
            return MAYBE;
        if ((fold ? upper(b[i]) : b[i]) != (unsigned char)s[i])
            return NO;
    }
    return YES;
}

/* A command word followed by SP or "\r\n", as both text protocols end it. */
static int match_word(const unsigned char *b, size_t n, const char *w, int fold)
{
    size_t len = strlen(w);
    int m = match_prefix(b, n, w, len, fold);
    if (m != YES)
        return m;
    if (n == len)
        return MAYBE;
    if (b[len] == ' ')
        return YES;
    if (b[len] != '\r')
        return NO;
    if (n == len + 1)
        return MAYBE;
    return b[len + 1] == '\n' ? YES : NO;
}

/* The best match of any word of a list (NULL-terminated). */
static int match_words(const unsigned char *b, size_t n, const char *const *list, int fold)
{
    int best = NO;
    for (; *list && best != YES; list++) {
        int m = match_word(b, n, *list, fold);
        if (m > best)
            best = m;
    }
    return best;
}

/* A TLS record: handshake (0x16), version 3.x. */
static int match_tls(const unsigned char *b, size_t n)
{
    if (b[0] != 0x16)
        return NO;
    if (n == 1)
        return MAYBE;
    return b[1] == 0x03 ? YES : NO;
}

/* PostgreSQL's first message, untyped: an Int32 length, then an Int32
 * code: SSLRequest (04 d2 16 2f) or GSSENCRequest (04 d2 16 30), length 8;
 * CancelRequest (04 d2 16 2e), length 16; a StartupMessage of protocol
 * 3.0 (00 03 00 00) within the server's 10000-byte bound. */
static int match_postgres(const unsigned char *b, size_t n)
{
    static const unsigned char v3[4] = {0, 3, 0, 0};
    unsigned char h[8] = {0};
    memcpy(h, b, n < 8 ? n : 8);
    if (h[0] || h[1] || h[2] > 0x27) /* a length of at most 10000 */
        return NO;
    if (n < 4)
        return MAYBE;
    uint32_t len = (uint32_t)h[2] << 8 | h[3];
    size_t k = n < 8 ? n - 4 : 4;
    static const unsigned char special[3] = {0x2e, 0x2f, 0x30};
    for (int i = 0; i < 3; i++) {
        unsigned char code[4] = {0x04, 0xd2, 0x16, special[i]};
        if (len == (i ? 8u : 16u) && !memcmp(h + 4, code, k))
            return k == 4 ? YES : MAYBE;
    }
    if (len > 8 && len <= 10000 && !memcmp(h + 4, v3, k))
        return k == 4 ? YES : MAYBE;
    return NO;
}

/* The memcached binary protocol's request magic. */
static int match_mcbin(const unsigned char *b, size_t n)
{
    (void)n;
    return b[0] == 0x80 ? YES : NO;
}

/* A RESP command: "*" and the first digit of its argument count. */
static int match_resp(const unsigned char *b, size_t n)
{
    if (b[0] != '*')
        return NO;
    if (n == 1)
        return MAYBE;
    return b[1] >= '0' && b[1] <= '9' ? YES : NO;
}

/* The characters of an upper-case HTTP method (WebDAV's VERSION-CONTROL). */
static int is_method_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* An HTTP/1.x request line: an upper-case method, SP, and a target in
 * origin form ('/'), absolute form ("http://", "https://"), asterisk form
 * (OPTIONS only, so that Redis's "KEYS *" stays Redis) or, for CONNECT,
 * any authority. "PRI *" is the HTTP/2 preface: not HTTP/1.x. */
static int match_http(const unsigned char *b, size_t n)
{
    size_t i = 0;
    if (b[0] < 'A' || b[0] > 'Z')
        return NO;
    while (i < n && is_method_char(b[i]))
        i++;
    if (i == n)
        return MAYBE;
    if (b[i] != ' ' || (i == 3 && !memcmp(b, "PRI", 3)))
        return NO;
    if (++i == n)
        return MAYBE;
    if (i == 8 && !memcmp(b, "CONNECT", 7))
        return YES;
    if (b[i] == '/')
        return YES;
    if (b[i] == '*')
        return i == 8 && !memcmp(b, "OPTIONS", 7) ? YES : NO;
    int m = match_prefix(b + i, n - i, "HTTP://", 7, 1);
    if (m != NO)
        return m;
    return match_prefix(b + i, n - i, "HTTPS://", 8, 1);
}

static const char *const memcache_words[] = {
    "get", "gets", "gat", "gats", "set", "add", "replace", "append", "prepend", "cas",
    "delete", "incr", "decr", "touch", "stats", "version", "verbosity", "flush_all",
    "mg", "ms", "md", "ma", "mn", "me", "quit", NULL,
};

/* Memcached's text and meta commands are lower case; upper-case GET or SET
 * is not memcached (which would answer ERROR) but Redis inline. */
static int match_memcache(const unsigned char *b, size_t n)
{
    return match_words(b, n, memcache_words, 0);
}

static const char *const redis_words[] = {
    "PING", "ECHO", "SET", "GET", "DEL", "AUTH", "SELECT", "HELLO", "INFO", "EXISTS",
    "INCR", "DECR", "INCRBY", "DECRBY", "MGET", "MSET", "SETEX", "SETNX", "GETSET",
    "APPEND", "STRLEN", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "PERSIST", "KEYS", "SCAN",
    "TYPE", "RENAME", "HGET", "HSET", "HMGET", "HMSET", "HDEL", "HGETALL", "HINCRBY",
    "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "LLEN", "SADD", "SREM", "SMEMBERS",
    "SISMEMBER", "SCARD", "ZADD", "ZREM", "ZRANGE", "ZSCORE", "ZCARD", "PUBLISH",
    "SUBSCRIBE", "MULTI", "EXEC", "DISCARD", "WATCH", "FLUSHDB", "FLUSHALL", "DBSIZE",
    "CLIENT", "CONFIG", "COMMAND", "MONITOR", "QUIT", "RESET", "TIME", "EVAL", "EVALSHA",
    NULL,
};

/* Inline Redis: a known command word, any case. */
static int match_redis_inline(const unsigned char *b, size_t n)
{
    return match_words(b, n, redis_words, 1);
}

/* In priority order: a candidate decides only when all before it are NO. */
static const struct {
    int id;
    int (*match)(const unsigned char *b, size_t n);
} candidates[] = {
    {PROTO_POSTGRES, match_postgres}, {PROTO_TLS, match_tls},
    {PROTO_MEMCACHE, match_mcbin},
    {PROTO_REDIS, match_resp},        {PROTO_HTTP, match_http},
    {PROTO_MEMCACHE, match_memcache}, {PROTO_REDIS, match_redis_inline},
};

/* The answer for the bytes so far. With the buffer full, a MAYBE can no
 * longer become YES: it counts as NO. */
static int decide(const unsigned char *b, size_t n)
{
    if (!n)
        return PROTO_AUTO;
    int full = n >= PROTO_DETECT_MAX;
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        int m = candidates[i].match(b, n);
        if (m == YES)
            return candidates[i].id;
        if (m == MAYBE && !full)
            return PROTO_AUTO;
    }
    return PROTO_UNKNOWN;
}

/* Keep what fits of the new bytes and decide on all kept so far; a len
 * past the buffer (memory not from a zeroed detector) is clamped. */
int proto_detect_feed(struct proto_detect *d, const unsigned char *p, size_t n)
{
    if (d->len > PROTO_DETECT_MAX)
        d->len = PROTO_DETECT_MAX;
    size_t room = PROTO_DETECT_MAX - (size_t)d->len;
    if (n > room)
        n = room;
    if (n) {
        memcpy(d->buf + d->len, p, n);
        d->len = (uint8_t)(d->len + n);
    }
    return decide(d->buf, d->len);
}
