/* secret.c - the keyed hash of a secret a session protocol compares but
 * never keeps (a PostgreSQL password message, a MySQL HandshakeResponse):
 * 128 bits of SipHash under a per-process key drawn once, so that an equal
 * hash proves equal bytes and the bytes can be wiped at once. */
#include "internal.h"

#include <sys/random.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/siphash.h"

static uint64_t secret_key[2];

/* The per-process key, drawn once (a fork keeps it: the recordings too). */
void conn_secret_tag(const unsigned char *msg, size_t len, uint64_t tag[2])
{
    if (!secret_key[0] && !secret_key[1]) {
        uint64_t k[2] = {0, 0};
        if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k)
            k[0] = now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&k;
        secret_key[0] = k[0] | 1; /* never both zero again */
        secret_key[1] = k[1];
    }
    tag[0] = siphash24(secret_key[0], secret_key[1], msg, len);
    tag[1] = siphash24(secret_key[1], secret_key[0] ^ 0x5bd1e995u, msg, len);
}
