/* spare.c - spare sockets.
 *
 * On a hit the program's fresh socket is thrown away, and a socket's
 * creation plus its destruction cost more here (1.7 us) than the rest of the
 * reuse path. A fresh socket that is pristine (unbound, unconnected, no
 * option set, no O_ASYNC) is kept instead, at a high fd like an idle object,
 * and the next socket() for that family gets it at the lowest free number,
 * with the flags socket() would have given it. It never carried a byte, so
 * nothing can pass from one user to the next. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "../base/real.h"
#include "../base/state.h"

#define SPARES 4
static _Atomic(struct record *) spares[2][SPARES];

static int spare_family(int family)
{
    return family == AF_INET6;
}

/* Keep a pristine fresh socket for the next socket() of its family. */
void spare_put(int fd, int family, int status)
{
    _Atomic(struct record *) *row = spares[spare_family(family)];
    int room = 0;
    for (int i = 0; i < SPARES; i++)
        if (!atomic_load_explicit(&row[i], memory_order_relaxed))
            room = 1;
    if (!room)
        return;
    struct record *l = record_alloc();
    if (!l)
        return;
    l->kind = KIND_SOCKET;
    l->status_flags = status;
    atomic_store(&l->flags, LF_SPARE);
    atomic_store(&l->state, STATE_IDLE);
    int hi = reg_place_high(fd, l);
    if (hi < 0) {
        record_free(l);
        return;
    }
    for (int i = 0; i < SPARES; i++) {
        struct record *none = NULL;
        if (atomic_compare_exchange_strong(&row[i], &none, l))
            return;
    }
    /* filled meanwhile: a dup2 may have moved it off hi since (it was
     * IDLE), so close where it is now */
    if (record_make_busy(l))
        reg_close_high(l->fd, l);
    record_free(l);
}

static struct record *spare_take(int family)
{
    _Atomic(struct record *) *row = spares[spare_family(family)];
    for (int i = 0; i < SPARES; i++) {
        if (!atomic_load_explicit(&row[i], memory_order_relaxed))
            continue;
        struct record *l = atomic_exchange(&row[i], NULL);
        if (l)
            return l;
    }
    return NULL;
}

int conn_socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct record *l = NULL;
    if ((domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
        (protocol == 0 || protocol == IPPROTO_TCP) && !in_vfork_child() && guard_enter()) {
        l = spare_take(domain);
        guard_leave();
    }
    int fd = -1;
    if (l) {
        record_make_busy(l); /* wait out a dup2 moving it */
        int spare = l->fd;
        if ((atomic_load(&l->flags) & LF_GONE) || reg_get(spare) != l) {
            /* a dup2 onto it could not move it away: the kernel closed it,
             * and the number is the program's now: touch nothing there */
            record_free(l);
            l = NULL;
        }
    }
    if (l) {
        int spare = l->fd;
        fd = real.fcntl(spare, (type & SOCK_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
        int want = (l->status_flags & ~O_NONBLOCK) | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
        if (fd >= 0 && want != l->status_flags && real.fcntl(fd, F_SETFL, want) < 0) {
            real.close(fd);
            fd = -1;
        }
        reg_close_high(spare, l);
        record_free(l);
    }
    if (fd < 0) {
        int err = errno;
        fd = real.socket(domain, type, protocol);
        if (fd < 0)
            return fd;
        errno = err;
    }
    /* a number's history must not follow it: options recorded for an
     * earlier socket at this number are forgotten, and so is a lease whose
     * close objpool never saw (libuv's syscall(SYS_close)) */
    sockopt_born(fd);
    conn_forget_stale(fd, NULL);
    return fd;
}

/* A forked child: forget the spare list (the fork handlers closed its fds
 * with the idle ones). */
static void spare_after_fork_child(void)
{
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < SPARES; i++)
            atomic_store(&spares[f][i], NULL); /* child_drop closed their fds */
}

/* The swap: the idle connection takes the place of the fresh socket. */

void spare_setup(void)
{
    pthread_atfork(NULL, NULL, spare_after_fork_child);
}
