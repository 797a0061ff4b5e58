/* proto_line.c - libFuzzer target for the line parser
 * (preload/conn/proto/line.c), linked with it alone: lines written and
 * read, fed whole, in chunks and byte by byte, must give the same verdict
 * after every run (proto_split.h), without a sanitizer report.
 */
#include "proto_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return split_check(&proto_line_ops, data, size);
}
