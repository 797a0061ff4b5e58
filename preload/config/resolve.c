/* resolve.c - pool specifications into targets: a host name resolves once,
 * at start-up, to every address it has (each its own target); duplicates
 * are dropped with a warning. */
#include "internal.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static struct target *new_target(struct config *cfg, struct pool_spec *sp, int *cap)
{
    if (cfg->ntargets == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        struct target *n = realloc(cfg->targets, (size_t)ncap * sizeof *n);
        if (!n)
            return NULL;
        cfg->targets = n;
        *cap = ncap;
    }
    struct target *t = &cfg->targets[cfg->ntargets];
    memset(t, 0, sizeof *t);
    t->spec = sp;
    return t;
}

static int same_address(const struct target *a, const struct target *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == AF_INET)
        return a->addr.in4.sin_port == b->addr.in4.sin_port &&
               a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
    if (a->family == AF_INET6)
        return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
               !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 16);
    if (a->family == AF_UNIX)
        return !strcmp(a->addr.un.sun_path, b->addr.un.sun_path);
    return !strcmp(a->spec->path, b->spec->path);
}

static int is_duplicate(const struct config *cfg, const struct target *t)
{
    for (int i = 0; i < cfg->ntargets; i++)
        if (same_address(&cfg->targets[i], t))
            return 1;
    return 0;
}

/* The targets of one spec. Returns how many were added, -1 if the host
 * name does not resolve (warned here). */
static int add_resolved(struct config *cfg, struct pool_spec *sp, int *cap)
{
    if (sp->kind == POOL_UNIX || sp->kind == POOL_FILE || sp->kind == POOL_TLSCA) {
        struct target *t = new_target(cfg, sp, cap);
        if (!t)
            return -1;
        if (sp->kind == POOL_UNIX) {
            t->family = AF_UNIX;
            t->addr.un.sun_family = AF_UNIX;
            strcpy(t->addr.un.sun_path, sp->path);
        } else if (sp->kind == POOL_FILE) {
            t->has_glob = strpbrk(sp->path, "*?[") != NULL;
        }
        if (is_duplicate(cfg, t))
            return 0;
        fmt_buf(t->label, sizeof t->label, "%s", sp->url);
        cfg->ntargets++;
        return 1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    fmt_buf(port, sizeof port, "%u", sp->port);
    int rc = getaddrinfo(sp->host, port, &hints, &res);
    if (rc != 0 || !res) {
        config_warn(sp->source, sp->host, "host name does not resolve; this pool is skipped");
        return -1;
    }
    int added = 0;
    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            count++;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        struct target *t = new_target(cfg, sp, cap);
        if (!t)
            break;
        t->family = ai->ai_family;
        memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
        const void *a = ai->ai_family == AF_INET ? (const void *)&t->addr.in4.sin_addr
                                                 : (const void *)&t->addr.in6.sin6_addr;
        inet_ntop(ai->ai_family, a, t->addr_text, sizeof t->addr_text);
        if (is_duplicate(cfg, t))
            continue;
        int literal = !strcmp(t->addr_text, sp->host);
        if (literal || count == 1)
            fmt_buf(t->label, sizeof t->label, "%s", sp->url);
        else
            fmt_buf(t->label, sizeof t->label, "%s (%s)", sp->url, t->addr_text);
        cfg->ntargets++;
        added++;
    }
    freeaddrinfo(res);
    return added;
}

int config_resolve(struct config *cfg)
{
    int cap = 0;
    for (int i = 0; i < cfg->nspecs; i++) {
        /* the same target twice: the first spec wins, say so */
        if (add_resolved(cfg, &cfg->specs[i], &cap) == 0)
            config_warn(cfg->specs[i].source, cfg->specs[i].url, "duplicate target ignored");
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->specs);
    free(cfg->targets);
    cfg->specs = NULL;
    cfg->targets = NULL;
}

