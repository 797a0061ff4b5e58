/* sockopt.c - what the program did to a socket before connect, and the
 * copying of its options onto a swapped-in connection.
 *
 * Options a program commonly sets before connect. The setsockopt
 * interposer records which ones it set on which fd (opt_seen, 4 bytes per
 * fd); a hit copies exactly those, plus the ones ever set on the idle
 * connection's own history, so the swapped-in socket behaves as the fresh
 * one would without reading a dozen options on every reuse. */

#include "internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "../base/real.h"
#include "../base/state.h"

struct sockopt_def {
    int level, name;
};
static const struct sockopt_def sockopts[] = {
    {IPPROTO_TCP, TCP_NODELAY}, {SOL_SOCKET, SO_KEEPALIVE}, {IPPROTO_TCP, TCP_KEEPIDLE},
    {IPPROTO_TCP, TCP_KEEPINTVL}, {IPPROTO_TCP, TCP_KEEPCNT}, {SOL_SOCKET, SO_RCVTIMEO},
    {SOL_SOCKET, SO_SNDTIMEO}, {SOL_SOCKET, SO_LINGER}, {SOL_SOCKET, SO_RCVBUF},
    {SOL_SOCKET, SO_SNDBUF}, {SOL_SOCKET, SO_PRIORITY}, {IPPROTO_IP, IP_TOS},
    {IPPROTO_IPV6, IPV6_TCLASS}, {IPPROTO_TCP, TCP_USER_TIMEOUT}, {IPPROTO_TCP, TCP_QUICKACK},
};
#define NSOCKOPTS (int)(sizeof sockopts / sizeof *sockopts)
_Static_assert(NSOCKOPTS <= 15, "copyable options fit in OPT_COPYABLE");
/* opt_seen[fd] also says where the socket at fd came from:
 * OPT_UNKNOWN: an option objpool cannot copy was set on it, or the fd was
 *   copied (dup family, F_DUPFD, SCM_RIGHTS): another reference may exist,
 *   so it is never swapped out (the copy would still name the old socket)
 *   nor recycled (the copy's holder would share the next user's socket).
 * OPT_EPOLL: the program registered it with epoll; it is never recycled
 *   as a spare (a registration objpool did not see would follow it).
 * birth (bits 16-30): socket() made it in this process in fork generation
 *   birth - 1. A fork or spawn since then may have handed a copy to a
 *   child: such a socket is never recycled. 0 means objpool did not see it
 *   made (before start-up, or by a raw system call). */
#define OPT_BIRTH_SHIFT 16
#define OPT_BIRTH_MASK (0x7fffu << OPT_BIRTH_SHIFT)

uint32_t sockopt_birth_now(void)
{
    return (((atomic_load(&fork_gen) & 0x7ffeu) + 1u) << OPT_BIRTH_SHIFT) & OPT_BIRTH_MASK;
}

static _Atomic uint32_t *opt_seen; /* by fd number, beside the registry */

void conn_note_copy(int fd)
{
    _Atomic uint32_t *seen = REG_SIDE(opt_seen, fd);
    if (seen)
        atomic_fetch_or_explicit(seen, OPT_UNKNOWN, memory_order_relaxed);
}

void conn_note_option(int fd, int level, int optname)
{
    _Atomic uint32_t *seen = REG_SIDE(opt_seen, fd);
    if (!seen)
        return;
    uint32_t bit = OPT_UNKNOWN;
    for (int i = 0; i < NSOCKOPTS; i++)
        if (sockopts[i].level == level && sockopts[i].name == optname)
            bit = 1u << i;
    atomic_fetch_or_explicit(seen, bit, memory_order_relaxed);
    struct record *l = reg_get(fd);
    if (l && l->kind == KIND_SOCKET)
        conn_rec(l)->optmask |= bit;
}

void sockopt_note_epoll(int fd)
{
    _Atomic uint32_t *seen = REG_SIDE(opt_seen, fd);
    if (seen)
        atomic_fetch_or_explicit(seen, OPT_EPOLL, memory_order_relaxed);
}

int sockopt_copy(int from, int to, uint32_t mask)
{
    for (int i = 0; i < NSOCKOPTS; i++) {
        if (!(mask & (1u << i)))
            continue;
        char val[32];
        socklen_t len = sizeof val;
        if (getsockopt(from, sockopts[i].level, sockopts[i].name, val, &len) < 0)
            continue; /* not applicable to this family: nothing to copy */
        if (sockopts[i].name == SO_RCVBUF || sockopts[i].name == SO_SNDBUF) {
            /* the kernel reports twice what was set and doubles what is set */
            if (sockopts[i].level == SOL_SOCKET && len == sizeof(int)) {
                int v;
                memcpy(&v, val, sizeof v);
                v /= 2;
                memcpy(val, &v, sizeof v);
            }
        }
        if (real.setsockopt(to, sockopts[i].level, sockopts[i].name, val, len) < 0)
            return -1;
    }
    return 0;
}


int sockopt_setup(void)
{
    opt_seen = reg_side_table(sizeof *opt_seen);
    return opt_seen ? 0 : -1;
}

void sockopt_born(int fd)
{
    _Atomic uint32_t *seen = REG_SIDE(opt_seen, fd);
    if (seen)
        atomic_store_explicit(seen, sockopt_birth_now(), memory_order_relaxed);
    conn_epoll_forget(fd);
}

uint32_t sockopt_take(int fd)
{
    _Atomic uint32_t *seen = REG_SIDE(opt_seen, fd);
    return seen ? atomic_exchange_explicit(seen, 0, memory_order_relaxed) : 0;
}

/* Nagle on a warm connection. A fresh connection's first small writes are
 * answered at once by the server's quick-ACK mode; on a reused one the
 * server delays its ACK (~40 ms) and Nagle holds a second small write until
 * it comes: pymemcache's set-noreply-then-get took 200 times longer. So a
 * reused connection whose program never set TCP_NODELAY gets it on: its
 * latency is then a fresh connection's. The program's own setting, copied
 * with the others, wins. `copied`: the options sockopt_copy just copied;
 * *rec: the record's mask, whose OPT_NODELAY_OURS says it is on already. */
int sockopt_nodelay_default(int fd, uint32_t program_set, uint32_t copied, uint32_t *rec)
{
    if (program_set & OPT_NODELAY_BIT) {
        *rec &= ~OPT_NODELAY_OURS;
        return 0;
    }
    if ((*rec & OPT_NODELAY_OURS) && !(copied & OPT_NODELAY_BIT))
        return 0; /* on since an earlier reuse, and nothing turned it off */
    int one = 1;
    if (real.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        return -1;
    *rec |= OPT_NODELAY_OURS;
    return 0;
}
