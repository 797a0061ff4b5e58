/* proto_detect.c - libFuzzer target for protocol detection
 * (preload/conn/proto/detect.c), linked with it alone. The first input
 * byte seeds the chunk sizes; the rest is what the program writes. Fed
 * whole, in chunks until decided, and byte by byte to the end, the answer
 * must be the same, one of the ids the detector may give, never PROTO_AUTO
 * once PROTO_DETECT_MAX bytes were seen, and never change once given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/conn/proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(int id)
{
    if (id != PROTO_AUTO && id != PROTO_HTTP && id != PROTO_REDIS && id != PROTO_MEMCACHE &&
        id != PROTO_POSTGRES &&
        id != PROTO_TLS && id != PROTO_UNKNOWN)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    uint32_t seed = data[0] * 2654435761u + 1;
    data++;
    size--;

    struct proto_detect whole;
    memset(&whole, 0, sizeof whole);
    int w = proto_detect_feed(&whole, data, size);
    check_id(w);
    if (w == PROTO_AUTO && size >= PROTO_DETECT_MAX)
        abort();
    if (whole.len > PROTO_DETECT_MAX)
        abort();

    struct proto_detect chunked;
    memset(&chunked, 0, sizeof chunked);
    int c = proto_detect_feed(&chunked, data, 0);
    for (size_t i = 0; i < size && c == PROTO_AUTO;) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        size_t k = 1 + (seed >> 8) % 6;
        if (k > size - i)
            k = size - i;
        c = proto_detect_feed(&chunked, data + i, k);
        check_id(c);
        i += k;
    }
    if (c != w)
        abort();

    struct proto_detect bytes;
    memset(&bytes, 0, sizeof bytes);
    int first = PROTO_AUTO;
    for (size_t i = 0; i < size; i++) {
        int b = proto_detect_feed(&bytes, data + i, 1);
        check_id(b);
        if (first != PROTO_AUTO && b != first)
            abort();
        first = b;
    }
    if (first != w)
        abort();
    return 0;
}
