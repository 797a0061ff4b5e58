/* prewarm.c - at start-up, open `prewarm` connections per target, non-blocking and all
 * in parallel, and park the ones that connect within connect_timeout.
 * Failures are counted, never fatal; start-up waits at most the longest
 * connect_timeout of the pools. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>

#include "../base/clock.h"
#include "../base/real.h"
#include "../base/state.h"

struct warming {
    struct target *t;
    int fd;
};

static int prewarm_open(struct target *t)
{
    int s = real.socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int hi = reg_move_high(s);
    real.close(s);
    if (hi < 0)
        return -1;
    if (real.connect(hi, (const struct sockaddr *)&t->addr, target_addr_len(t)) < 0 && errno != EINPROGRESS) {
        real.close(hi);
        return -1;
    }
    return hi;
}

static void prewarm_park(struct target *t, int fd)
{
    struct record *l = conn_record(fd, t, real.fcntl(fd, F_GETFL), 0);
    if (!l) {
        real.close(fd);
        atomic_fetch_add(&t->ctr->prewarm_failed, 1);
        return;
    }
    l->parked_ns = now_ns();
    l->uses = 0; /* nothing served on it yet */
    atomic_store(&l->state, STATE_IDLE);
    reg_set(fd, l);
    atomic_fetch_add(&t->ctr->prewarmed, 1);
    objpool_add_idle(t->pool, l);
}

void conn_prewarm(void)
{
    unsigned total = 0;
    uint64_t timeout_ms = 0;
    for (int i = 0; i < cfg.ntargets; i++) {
        struct target *t = &cfg.targets[i];
        if (!t->family || !t->spec->opts.prewarm)
            continue;
        total += t->spec->opts.prewarm;
        if (t->spec->opts.connect_timeout_ms > timeout_ms)
            timeout_ms = t->spec->opts.connect_timeout_ms;
    }
    if (!total)
        return;
    in_objpool = 1;
    struct warming *w = mmap(NULL, total * sizeof *w, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct pollfd *pf = mmap(NULL, total * sizeof *pf, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED || pf == MAP_FAILED) {
        in_objpool = 0;
        return;
    }
    unsigned n = 0;
    for (int i = 0; i < cfg.ntargets; i++) {
        struct target *t = &cfg.targets[i];
        if (!t->family)
            continue;
        for (unsigned k = 0; k < t->spec->opts.prewarm; k++) {
            int fd = prewarm_open(t);
            if (fd < 0) {
                atomic_fetch_add(&t->ctr->prewarm_failed, 1);
                continue;
            }
            w[n].t = t;
            w[n].fd = fd;
            n++;
        }
    }
    uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
    unsigned pending = n;
    while (pending) {
        unsigned m = 0;
        for (unsigned i = 0; i < n; i++)
            if (w[i].fd >= 0)
                pf[m++] = (struct pollfd){w[i].fd, POLLOUT, 0};
        uint64_t now = now_ns();
        if (now >= deadline || poll(pf, m, (int)((deadline - now) / 1000000ull) + 1) <= 0)
            break;
        for (unsigned i = 0, j = 0; i < n; i++) {
            if (w[i].fd < 0)
                continue;
            struct pollfd *p = &pf[j++];
            if (!p->revents)
                continue;
            int err = 0;
            socklen_t el = sizeof err;
            if (getsockopt(w[i].fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0 &&
                !(p->revents & (POLLERR | POLLHUP))) {
                prewarm_park(w[i].t, w[i].fd);
            } else {
                real.close(w[i].fd);
                atomic_fetch_add(&w[i].t->ctr->prewarm_failed, 1);
            }
            w[i].fd = -1;
            pending--;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (w[i].fd >= 0) {
            real.close(w[i].fd); /* not connected within connect_timeout */
            atomic_fetch_add(&w[i].t->ctr->prewarm_failed, 1);
        }
    }
    munmap(w, total * sizeof *w);
    munmap(pf, total * sizeof *pf);
    in_objpool = 0;
}

