/* proto_id.c - the names of the protocols (proto_id.h): what proto= takes
 * and what the report and the debug log print. */
#include "proto_id.h"

#include <string.h>

static const char *const names[PROTO_NIDS] = {
    [PROTO_AUTO] = "auto",   [PROTO_OPAQUE] = "opaque",     [PROTO_HTTP] = "http",
    [PROTO_REDIS] = "redis", [PROTO_MEMCACHE] = "memcache", [PROTO_LINE] = "line",
    [PROTO_POSTGRES] = "postgres", [PROTO_MYSQL] = "mysql", [PROTO_TLS] = "tls", [PROTO_UNKNOWN] = "unknown",
};

const char *proto_name(int id)
{
    return id >= 0 && id < PROTO_NIDS ? names[id] : "?";
}

int proto_parse_name(const char *s, size_t n)
{
    for (int id = PROTO_AUTO; id <= PROTO_MYSQL; id++)
        if (strlen(names[id]) == n && !memcmp(names[id], s, n))
            return id;
    return -1;
}
