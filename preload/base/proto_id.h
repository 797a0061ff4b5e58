/* proto_id.h - the protocols a pool can be configured with (proto=) and a
 * connection can turn out to speak: the ids and their names, for the
 * configuration, the report and the protocol layer (conn/proto/), which
 * all read them from here. */
#ifndef OBJPOOL_PROTO_ID_H
#define OBJPOOL_PROTO_ID_H

#include <stddef.h>

/* AUTO is detected from the first bytes the program writes (once per
 * connection, kept across its leases). */
enum proto_id {
    PROTO_AUTO = 0, /* not known yet: detect */
    PROTO_OPAQUE,   /* explicit choice: the byte-level checks alone */
    PROTO_HTTP,
    PROTO_REDIS,
    PROTO_MEMCACHE,
    PROTO_LINE,
    PROTO_POSTGRES,
    PROTO_MYSQL,   /* detected from the server's greeting, which comes first */
    PROTO_TLS,     /* detected (0x16 0x03): never parked */
    PROTO_UNKNOWN, /* detected as nothing objpool parses: never parked */
    PROTO_NIDS
};

/* "auto", "opaque", "http", "redis", "memcache", "line", "postgres", "mysql", "tls",
 * "unknown" */
const char *proto_name(int id);
/* The id named by s[0..n) as written in proto=, or -1. Only AUTO, OPAQUE,
 * HTTP, REDIS, MEMCACHE, LINE, POSTGRES and MYSQL can be configured. */
int proto_parse_name(const char *s, size_t n);
#endif
