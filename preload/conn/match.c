/* match.c - which connect() addresses are configured: the quick reject by
 * the two bytes after sa_family (conn_key_map), then an open-addressing
 * table of targets by address hash. Built once at start-up, read lock-free. */
#include "internal.h"

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>

#include "../base/hash.h"

static struct target **table; /* open addressing by address */
static unsigned table_mask;
static int unix_targets;

/* Hash the part of an address that names the endpoint. For AF_UNIX the
 * path (without trailing NULs); 0 means "not a poolable address". */
static uint64_t addr_hash(const struct sockaddr *a, socklen_t len, const char **path, size_t *plen)
{
    uint64_t h = HASH_SEED ^ (uint64_t)a->sa_family;
    if (a->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const void *)a;
        h = hash_bytes(h, &in->sin_port, 2);
        return hash_bytes(h, &in->sin_addr, 4) | 1;
    }
    if (a->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const void *)a;
        h = hash_bytes(h, &in6->sin6_port, 2);
        return hash_bytes(h, &in6->sin6_addr, 16) | 1;
    }
    if (a->sa_family == AF_UNIX && len > offsetof(struct sockaddr_un, sun_path)) {
        const struct sockaddr_un *un = (const void *)a;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n > sizeof un->sun_path)
            n = sizeof un->sun_path;
        size_t real_len = strnlen(un->sun_path, n);
        if (!real_len)
            return 0; /* abstract or unnamed */
        *path = un->sun_path;
        *plen = real_len;
        return hash_bytes(h, un->sun_path, real_len) | 1;
    }
    return 0;
}

static int target_matches(const struct target *t, const struct sockaddr *a, const char *path, size_t plen)
{
    if (t->family != a->sa_family)
        return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)a;
        return in->sin_port == t->addr.in4.sin_port && in->sin_addr.s_addr == t->addr.in4.sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)a;
        return in6->sin6_port == t->addr.in6.sin6_port &&
               !memcmp(&in6->sin6_addr, &t->addr.in6.sin6_addr, 16);
    }
    return strlen(t->addr.un.sun_path) == plen && !memcmp(t->addr.un.sun_path, path, plen);
}

/* The quick reject (conn.h): a byte per value of the two bytes after
 * sa_family. A connect() to an address no pool could match costs a load and
 * a test before the hash is ever computed. */
uint8_t conn_key_map[65536];


static void mark_key(const struct sockaddr *a)
{
    uint16_t key;
    memcpy(&key, (const char *)a + 2, sizeof key);
    conn_key_map[key] = 1;
}
static int maybe_configured(const struct sockaddr *a, socklen_t len)
{
    if (len >= 4 && !conn_addr_maybe(a))
        return 0;
    return a->sa_family == AF_INET || a->sa_family == AF_INET6 || (a->sa_family == AF_UNIX && unix_targets);
}

struct target *conn_match(const struct sockaddr *addr, socklen_t len)
{
    if (!table || !addr || len < (socklen_t)sizeof(sa_family_t) || !maybe_configured(addr, len))
        return NULL;
    const char *path = NULL;
    size_t plen = 0;
    uint64_t h = addr_hash(addr, len, &path, &plen);
    if (!h)
        return NULL;
    for (unsigned i = (unsigned)h & table_mask;; i = (i + 1) & table_mask) {
        struct target *t = table[i];
        if (!t)
            return NULL;
        if (target_matches(t, addr, path, plen))
            return t;
    }
}


socklen_t target_addr_len(const struct target *t)
{
    return t->family == AF_INET    ? sizeof t->addr.in4
           : t->family == AF_INET6 ? sizeof t->addr.in6
                                   : sizeof t->addr.un;
}

/* The table for the n connection targets of c. */
int match_setup(struct config *c, int n)
{
    unsigned size = 16;
    while (size < (unsigned)n * 2)
        size *= 2;
    /* a few targets fit in static storage (a page of their own would be a
     * good part of the memory one pooled connection costs) */
    static struct target *table_static[64];
    table = size <= 64 ? table_static
                       : mmap(NULL, size * sizeof *table, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) {
        table = NULL;
        return -1;
    }
    table_mask = size - 1;
    for (int i = 0; i < c->ntargets; i++) {
        struct target *t = &c->targets[i];
        if (!t->family)
            continue;
        const char *path = NULL;
        size_t plen = 0;
        uint64_t h = addr_hash((const struct sockaddr *)&t->addr, target_addr_len(t), &path, &plen);
        if (t->family == AF_UNIX)
            unix_targets = 1;
        /* the two bytes after sa_family: the port, or the path's first two */
        mark_key((const struct sockaddr *)&t->addr);
        unsigned j = (unsigned)h & table_mask;
        while (table[j])
            j = (j + 1) & table_mask;
        table[j] = t;
    }
    return 0;
}
