/* proto_redis.c - libFuzzer target for the Redis parser
 * (preload/conn/proto/redis.c), linked with it alone: arbitrary commands
 * and replies, fed whole, in chunks and byte by byte, must give the same
 * verdict after every run (proto_split.h), without a sanitizer report.
 */
#include "proto_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return split_check(&proto_redis_ops, data, size);
}
