/* epoll.c - the program's epoll registrations of the sockets objpool may
 * swap or park, and their move on a swap.
 *
 * An event loop registers a fresh socket with epoll before it connects. A
 * registration belongs to the open file description (and the fd number it
 * was made through), so when a hit dup3()s an idle connection onto the
 * program's number the epoll set still holds the fresh socket: no event
 * would ever come, and the fresh socket would stay registered under the
 * program's number (the next ADD there fails with EEXIST). The epoll_ctl
 * interposer therefore records, per fd number, up to EPREG_PER_FD
 * registrations (epoll fd, events, data); a hit takes them off the fresh
 * socket before the dup3 and makes them again on the connection after it
 * (an ADD of a ready socket reports its readiness, edge-triggered too, so
 * the program sees the EPOLLOUT its connect would have given). Parking a
 * lease first deletes the registrations the program made of it, as its
 * close would have. A registration objpool could not record (table full, a
 * MOD of one it never saw, an ADD that met one) marks the number unknown:
 * its connect is a real one, and a lease there is never parked.
 *
 * The records may be stale (an object at this number closed without
 * objpool seeing it): that is harmless, because every use asks the kernel,
 * and a DEL that finds nothing (ENOENT, or an epoll fd closed since) means
 * there is nothing to move. What must not happen is a registration missing
 * here; see docs/design.md ("epoll, poll, select, io_uring"). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#include "../base/log.h"
#include "../base/real.h"
#include "../base/state.h"
#include "../core/reasons.h"

/* per fd number: word = lock bit, unknown bit, one "used" bit per entry */
struct ep_fd {
    _Atomic uint32_t word;
    struct epreg reg[EPREG_PER_FD];
};
#define EP_LOCK 1u
#define EP_UNKNOWN 2u
#define EP_USED(i) (4u << (i))
#define EP_SPINS 4096

static struct ep_fd *ep_table; /* by fd number, reg_nslots entries */

/* One entry per fd number beside the registry (reg_side_table). */
int epreg_setup(void)
{
    ep_table = reg_side_table(sizeof *ep_table);
    return ep_table ? 0 : -1;
}

/* fd's entry, or NULL for a number beyond the table. */
static struct ep_fd *slot_of(int fd)
{
    return REG_SIDE(ep_table, fd);
}

/* The lock is only ever held over a few stores, never a system call. A
 * holder interrupted by a signal handler of its own thread would make a
 * spin forever: after EP_SPINS tries the caller gives up (and marks the
 * number unknown instead). Returns the word as it was, or -1. */
static int64_t slot_lock(struct ep_fd *s)
{
    for (int i = 0; i < EP_SPINS; i++) {
        uint32_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
        if (!(w & EP_LOCK) &&
            atomic_compare_exchange_weak_explicit(&s->word, &w, w | EP_LOCK, memory_order_acquire,
                                                  memory_order_relaxed))
            return w;
        if (i > 64)
            sched_yield();
    }
    atomic_fetch_or_explicit(&s->word, EP_UNKNOWN, memory_order_relaxed);
    return -1;
}

static void slot_unlock(struct ep_fd *s, uint32_t w)
{
    atomic_store_explicit(&s->word, w & ~EP_LOCK, memory_order_release);
}

/* The entry for epfd, or -1. */
static int entry_of(const struct ep_fd *s, uint32_t w, int epfd)
{
    for (int i = 0; i < EPREG_PER_FD; i++)
        if ((w & EP_USED(i)) && s->reg[i].epfd == epfd)
            return i;
    return -1;
}

/* Update the record of fd after the kernel's answer to the program's
 * epoll_ctl (rc, err): the record follows what the kernel did. */
static void note(struct ep_fd *s, int fd, int epfd, int op, const struct epoll_event *ev, int rc, int err)
{
    int64_t got = slot_lock(s);
    if (got < 0)
        return;
    uint32_t w = (uint32_t)got;
    int i = entry_of(s, w, epfd);
    if (rc == 0 && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD)) {
        if (i < 0 && op == EPOLL_CTL_ADD)
            for (int j = 0; j < EPREG_PER_FD && i < 0; j++)
                if (!(w & EP_USED(j)))
                    i = j;
        if (i < 0) {
            w |= EP_UNKNOWN; /* more than the table holds, or a MOD of one never seen */
        } else {
            s->reg[i].epfd = epfd;
            s->reg[i].events = ev->events;
            s->reg[i].data = ev->data.u64;
            w |= EP_USED(i);
        }
        if (op == EPOLL_CTL_ADD)
            sockopt_note_epoll(fd);
    } else if (rc == 0 && op == EPOLL_CTL_DEL) {
        if (i >= 0)
            w &= ~EP_USED(i);
    } else if (op == EPOLL_CTL_ADD && err == EEXIST && i < 0) {
        w |= EP_UNKNOWN; /* registered behind objpool's back */
    } else if (err == ENOENT && i >= 0) {
        w &= ~EP_USED(i); /* not there after all */
    }
    slot_unlock(s, w);
}

/* Is the number objpool's (an idle connection, a spare, the log)? */
static int ours(int fd)
{
    struct record *r = reg_get(fd);
    return r && record_is_ours(r);
}

/* The program's epoll_ctl: an fd objpool holds is not open as far as the
 * program knows (EBADF, as close says); otherwise the real call, and the
 * record follows the kernel's answer. */
int conn_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (ours(fd) || ours(epfd)) {
        errno = EBADF;
        return -1;
    }
    int rc = real.epoll_ctl(epfd, op, fd, ev);
    struct ep_fd *s = slot_of(fd);
    if (!s || in_vfork_child())
        return rc; /* a vfork child's epoll_ctl: its fd table, not ours */
    int err = errno;
    note(s, fd, epfd, op, ev, rc, rc ? err : 0);
    errno = err;
    return rc;
}

/* A new object at fd: what the program registered of the old one is no
 * longer about this number. */
void conn_epoll_forget(int fd)
{
    struct ep_fd *s = slot_of(fd);
    if (s && slot_lock(s) >= 0)
        slot_unlock(s, 0);
}

/* A number beyond the table cannot be recorded at all. */
int epreg_unmovable(int fd)
{
    struct ep_fd *s = slot_of(fd);
    return !s || (atomic_load_explicit(&s->word, memory_order_relaxed) & EP_UNKNOWN);
}

/* Copy out fd's registrations; -1 if some are unknown. */
static int snapshot(int fd, struct epreg *out, int *n)
{
    struct ep_fd *s = slot_of(fd);
    *n = 0;
    if (!s)
        return -1;
    int64_t got = slot_lock(s);
    if (got < 0)
        return -1;
    uint32_t w = (uint32_t)got;
    for (int i = 0; i < EPREG_PER_FD; i++)
        if (w & EP_USED(i))
            out[(*n)++] = s->reg[i];
    slot_unlock(s, w);
    return (w & EP_UNKNOWN) ? -1 : 0;
}

/* The registrations of fd now are exactly these (after a move). */
static void store(int fd, const struct epreg *r, int n)
{
    struct ep_fd *s = slot_of(fd);
    int64_t got = s ? slot_lock(s) : -1;
    if (got < 0)
        return;
    uint32_t w = (uint32_t)got & EP_UNKNOWN;
    for (int i = 0; i < n; i++) {
        s->reg[i] = r[i];
        w |= EP_USED(i);
    }
    slot_unlock(s, w);
}

/* Make registrations [0, n) of fd. On a failed ADD the ones made are taken
 * back: 0, or -1 with nothing changed. */
static int add_all(int fd, const struct epreg *r, int n)
{
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = r[i].events, .data.u64 = r[i].data};
        if (real.epoll_ctl(r[i].epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            while (i-- > 0)
                real.epoll_ctl(r[i].epfd, EPOLL_CTL_DEL, fd, &ev);
            return -1;
        }
    }
    return 0;
}

/* A DEL that failed because there was nothing to delete: no registration
 * (ENOENT), or the epoll fd closed or replaced since (EBADF, EINVAL). */
static int nothing_there(int err)
{
    return err == ENOENT || err == EBADF || err == EINVAL;
}

/* Before the dup3: off the fresh socket, keeping what was really there. */
int epreg_move_begin(int fd, struct epreg_move *m)
{
    struct epreg all[EPREG_PER_FD];
    int n;
    m->n = 0;
    m->keep = -1;
    if (snapshot(fd, all, &n) < 0)
        return -1;
    if (!n)
        return 0;
    /* the fresh socket stays open at a high number until the move is done:
     * if the connection cannot take its registrations, it goes back. That
     * number is objpool's without a record, so the band stays shared-held
     * until it is closed (no dup2 of the program's may land on it). */
    reg_high_enter();
    m->keep = reg_move_high(fd);
    if (m->keep < 0) {
        reg_high_leave();
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {0};
        if (real.epoll_ctl(all[i].epfd, EPOLL_CTL_DEL, fd, &ev) == 0) {
            m->reg[m->n++] = all[i];
        } else if (!nothing_there(errno)) {
            epreg_move_abort(fd, m);
            return -1;
        }
    }
    return 0;
}

/* The swap did not happen: the fresh socket gets its registrations back. */
void epreg_move_abort(int fd, struct epreg_move *m)
{
    if (m->n && add_all(fd, m->reg, m->n) < 0)
        log_msg(LOG_ERROR, "epoll: fd %d: %s", fd, "cannot restore the program's registrations");
    if (m->keep >= 0) {
        real.close(m->keep);
        reg_high_leave();
    }
    m->keep = -1;
}

/* After the dup3: the same registrations on the connection, or the fresh
 * socket back with them (the connect is then a miss, never a hang). */
int epreg_move_end(int fd, struct epreg_move *m, int dup_flags)
{
    if (m->keep < 0)
        return 0;
    if (add_all(fd, m->reg, m->n) == 0) {
        store(fd, m->reg, m->n);
        real.close(m->keep);
        m->keep = -1;
        reg_high_leave();
        return 0;
    }
    /* the fresh socket back at the program's number, as it was */
    if (real.dup3(m->keep, fd, dup_flags) < 0) {
        /* fd keeps a copy of the connection, which the pool now destroys:
         * the program's connect fails (EISCONN) rather than wait */
        log_msg(LOG_ERROR, "epoll: fd %d: %s", fd, "cannot put the fresh socket back");
        m->n = 0;
    }
    epreg_move_abort(fd, m);
    return -1;
}

/* A parked connection must give the program no more events: delete what
 * it registered, as its close would have (the description stays open). */
int epreg_park(int fd)
{
    struct epreg all[EPREG_PER_FD];
    int n;
    if (snapshot(fd, all, &n) < 0)
        return REASON_SHARED; /* registered where objpool cannot take it back */
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {0};
        if (real.epoll_ctl(all[i].epfd, EPOLL_CTL_DEL, fd, &ev) < 0 && !nothing_there(errno))
            return REASON_ERROR;
    }
    return 0;
}
