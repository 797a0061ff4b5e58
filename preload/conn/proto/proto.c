/* proto.c - the table of protocols: names for proto= and the report, and
 * the parser behind each id. Adding a protocol is a line here and a file
 * of its own. */
#include "proto.h"

#include <string.h>

static const char *const names[PROTO_NIDS] = {
    [PROTO_AUTO] = "auto",   [PROTO_OPAQUE] = "opaque", [PROTO_HTTP] = "http",
    [PROTO_REDIS] = "redis", [PROTO_MEMCACHE] = "memcache", [PROTO_LINE] = "line",
    [PROTO_TLS] = "tls",     [PROTO_UNKNOWN] = "unknown",
};

static const struct proto_ops *const parsers[PROTO_NIDS] = {
    [PROTO_HTTP] = &proto_http_ops,
    [PROTO_REDIS] = &proto_redis_ops,
    [PROTO_MEMCACHE] = &proto_memcache_ops,
    [PROTO_LINE] = &proto_line_ops,
};

const struct proto_ops *proto_ops_for(int id)
{
    return id >= 0 && id < PROTO_NIDS ? parsers[id] : NULL;
}

const char *proto_name(int id)
{
    return id >= 0 && id < PROTO_NIDS ? names[id] : "?";
}

int proto_parse_name(const char *s, size_t n)
{
    for (int id = PROTO_AUTO; id <= PROTO_LINE; id++)
        if (strlen(names[id]) == n && !memcmp(names[id], s, n))
            return id;
    return -1;
}
