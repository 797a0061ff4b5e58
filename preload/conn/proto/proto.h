/* proto.h - the protocol layer's one interface.
 *
 * A connection is parked only when its protocol proves that every request
 * the program sent has its complete response read by the program, that both
 * directions stand at a message boundary, and that the session holds no
 * state a next user could inherit. Each protocol is a streaming state
 * machine in a file of its own (http.c, redis.c, memcache.c, line.c) behind
 * one table of operations (struct proto_ops), fed with exactly the bytes the
 * kernel moved on every observed I/O call of a lease: out() what the program
 * wrote, in() what it read. Its state is fixed-size (struct proto_state,
 * kept with the connection across its leases), it never allocates, never
 * copies a payload, and what it cannot follow within its bounds (an
 * over-long line or header, nesting past its limit, bytes that are not the
 * protocol) makes it answer PV_CONFUSED, never a crash.
 *
 * The parsers import nothing of objpool but this header (and the ids of
 * base/proto_id.h): they are unit tested and fuzzed alone (tests/proto/,
 * tests/fuzz/proto_*.c).
 */
#ifndef OBJPOOL_PROTO_H
#define OBJPOOL_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The protocol ids (enum proto_id) and their names are in base/proto_id.h:
 * the configuration and the report read them too. */
#include "../../base/proto_id.h"

/* A protocol's answer at close. Only PV_CLEAN parks; PV_SESSION parks
 * after the protocol's reset (reset_req, answered with reset_reply). */
enum proto_verdict {
    PV_CLEAN = 0,   /* all answered and read, both directions at a boundary, no state */
    PV_INCOMPLETE,  /* a request unanswered, a response not fully read, a message half-written */
    PV_SESSION,     /* complete, but the session holds state the reset clears */
    PV_NEVER,       /* never reusable: close-delimited, Connection: close, upgrade,
                       SASL, push/subscribe, QUIT, state the reset cannot clear */
    PV_CONFUSED,    /* bytes the parser could not follow within its bounds */
};

/* Per-connection parser state. Each parser casts u.bytes to its own struct
 * (static_assert'ed to fit). Zeroed memory is a valid fresh state for every
 * parser, so init() may be a memset. */
#define PROTO_STATE_SIZE 256
struct proto_state {
    union {
        unsigned char bytes[PROTO_STATE_SIZE];
        uint64_t align_;
    } u;
};

/* A goodbye the program writes (QUIT, quit, Connection: close) and what
 * objpool does instead of sending it (conn/goodbye.c):
 * GB_SWALLOW: nothing is sent; the program gets EOF at once (memcached quit).
 * GB_REPLY: bytes [off, off+len) become `with` (same length: a harmless
 *   request, Redis PING for QUIT); the server's answer, exactly `expect`,
 *   is read in its place and the program reads `serve` (the reply the
 *   protocol fixes for the goodbye), then EOF.
 * GB_RENAME: bytes [off, off+len) become `with` (same length: the close
 *   token of Connection renamed); the program gets EOF once the response
 *   is complete. */
enum { GB_NONE = 0, GB_SWALLOW, GB_REPLY, GB_RENAME };
#define GB_MAX_REPLY 24
struct proto_goodbye {
    size_t off, len;
    const char *with;
    unsigned char expect[GB_MAX_REPLY], serve[GB_MAX_REPLY];
    uint8_t expect_len, serve_len;
};
int proto_redis_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g);
int proto_memcache_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g);
int proto_http_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g);

struct proto_ops {
    const char *name; /* "http", "redis", "memcache", "line" */
    /* A new connection (zeroes the state). */
    void (*init)(struct proto_state *st);
    /* Bytes the program wrote and the kernel accepted (a short write feeds
     * only what was written), in order. */
    void (*out)(struct proto_state *st, const unsigned char *p, size_t n);
    /* Bytes the program read (never MSG_PEEK), in order. */
    void (*in)(struct proto_state *st, const unsigned char *p, size_t n);
    /* enum proto_verdict for a close now. Pure: no state change. */
    int (*verdict)(const struct proto_state *st);
    /* The session reset, or NULL: the request to send on PV_SESSION and the
     * exact reply that proves it (Redis: RESET / +RESET). reset_done()
     * marks the session clean again once the reply was read. */
    const char *reset_req;
    size_t reset_req_len;
    const char *reset_reply;
    size_t reset_reply_len;
    void (*reset_done)(struct proto_state *st);
    /* The protocol's goodbye (NULL: it has none): is this write, made in
     * state st, the goodbye written alone at a clean message boundary?
     * GB_NONE, or the kind with *g filled. Pure: the caller feeds out()
     * with what it then really sends (goodbye.h). */
    int (*goodbye)(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g);
    /* Bytes of per-connection state beyond proto_state (a session's
     * recorded start-up answer), or 0: a block of that size comes from the
     * pool's slab at adoption (conn/internal.h, conn_ext), so that only the
     * pools of such a protocol pay for it. */
    size_t session_size;
};

extern const struct proto_ops proto_http_ops;
extern const struct proto_ops proto_redis_ops;
extern const struct proto_ops proto_memcache_ops;
extern const struct proto_ops proto_line_ops;
extern const struct proto_ops proto_postgres_ops;
extern const struct proto_ops proto_mysql_ops;
/* MySQL (mysql.c): the handshake's state (MY_HS_DONE: its OK read;
 * MY_HS_FULL: the server asked for the password itself), the program's
 * capability flags, the server's last status flags, the handshake's
 * collation id; a state as just after a HandshakeResponse was written. */
enum { MY_HS_ON = 0, MY_HS_DONE, MY_HS_FULL };
int proto_my_handshake(const struct proto_state *st);
unsigned proto_my_caps(const struct proto_state *st);
unsigned proto_my_status(const struct proto_state *st);
int proto_my_charset(const struct proto_state *st);
/* MariaDB's extended capabilities; whether COM_SET_OPTION left
 * multi-statements otherwise than the handshake asked. */
unsigned proto_my_xcaps(const struct proto_state *st);
int proto_my_multi_changed(const struct proto_state *st);
void proto_my_after_response(struct proto_state *st, unsigned caps, unsigned xcaps, int charset);
/* PostgreSQL (postgres.c): the last ReadyForQuery's status ('I', 'T', 'E';
 * 0 before the first) and the first authentication request's code (0: none
 * asked; 3 cleartext, 5 md5, 10 SASL, 0xff: a code past 254). */
int proto_pg_status(const struct proto_state *st);
int proto_pg_auth(const struct proto_state *st);

/* The parser of a protocol id; NULL for AUTO, OPAQUE, TLS, UNKNOWN. */
const struct proto_ops *proto_ops_for(int id);
/* Detection from the first bytes the program writes on a connection
 * (detect.c). Feed every written chunk until the answer is not PROTO_AUTO;
 * it decides after at most PROTO_DETECT_MAX bytes. A connection whose
 * program reads before it ever wrote (a server that speaks first) is
 * PROTO_UNKNOWN: the caller decides that, not the detector. Zeroed memory is
 * a fresh detector. */
#define PROTO_DETECT_MAX 24
struct proto_detect {
    unsigned char buf[PROTO_DETECT_MAX];
    uint8_t len;
};
int proto_detect_feed(struct proto_detect *d, const unsigned char *p, size_t n);
#endif
