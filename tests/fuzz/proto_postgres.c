/* proto_postgres.c - libFuzzer target for the PostgreSQL parser
 * (preload/conn/proto/postgres.c), linked with it alone: arbitrary
 * messages both ways, fed whole, in chunks and byte by byte, must give the
 * same verdict after every run (proto_split.h), without a sanitizer report.
 */
#include "proto_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return split_check(&proto_postgres_ops, data, size);
}
