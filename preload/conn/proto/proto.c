/* proto.c - the parser behind each protocol id. Adding a protocol is a
 * line here, its id and name in base/proto_id.h, and a file of its own. */
#include "proto.h"

static const struct proto_ops *const parsers[PROTO_NIDS] = {
    [PROTO_HTTP] = &proto_http_ops,
    [PROTO_REDIS] = &proto_redis_ops,
    [PROTO_MEMCACHE] = &proto_memcache_ops,
    [PROTO_LINE] = &proto_line_ops,
    [PROTO_POSTGRES] = &proto_postgres_ops,
    [PROTO_MYSQL] = &proto_mysql_ops,
};

const struct proto_ops *proto_ops_for(int id)
{
    return id >= 0 && id < PROTO_NIDS ? parsers[id] : NULL;
}
