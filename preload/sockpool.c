/* sockpool.c - connection pooling on top of the generic pool.
 *
 * Acquire (connect to a configured target): the program's fresh socket must
 * be an unbound stream socket of the target's family. An idle connection is
 * validated (poll: no data, no hang-up, no error; the check probe when
 * configured), given the fresh socket's status flags and the socket options
 * the program set, then dup3()'d onto the program's fd. On a miss the real
 * connect runs and the fd becomes a lease.
 *
 * Release (close of a lease): park only when the exchange is provably
 * complete - see release_reason(). Otherwise the real close, counted.
 */
#include "sockpool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's tcp_info: glibc's lacks the byte counters */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "inherit.h"
#include "init.h"
#include "log.h"
#include "real.h"
#include "reasons.h"

/* kernel TCP states (include/net/tcp_states.h), not in the uapi headers */
enum { KTCP_ESTABLISHED = 1, KTCP_CLOSE_WAIT = 8 };

int sock_ntargets;
static struct target **table; /* open addressing by address */
static unsigned table_mask;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int real_close(int fd)
{
    return real.close ? real.close(fd) : raw_close(fd);
}

/* ---- socket options ----------------------------------------------------
 * Options a program commonly sets before connect. The setsockopt
 * interposer records which ones it set on which fd (opt_seen, 4 bytes per
 * fd); a hit copies exactly those, plus the ones ever set on the idle
 * connection's own history, so the swapped-in socket behaves as the fresh
 * one would without reading a dozen options on every reuse. */
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
/* opt_seen[fd] also says where the socket at fd came from:
 * OPT_UNKNOWN: an option objpool cannot copy was set on it, or the fd was
 *   copied (dup family, F_DUPFD, SCM_RIGHTS): another reference may exist,
 *   so it is never swapped out (the copy would still name the old socket)
 *   nor recycled (the copy's holder would share the next user's socket).
 * birth (bits 16-30): socket() made it in this process in fork generation
 *   birth - 1. A fork or spawn since then may have handed a copy to a
 *   child: such a socket is never recycled. 0 means objpool did not see it
 *   made (before start-up, or by a raw system call). */
#define OPT_UNKNOWN (1u << 31)
#define OPT_COPYABLE 0xffffu
#define OPT_BIRTH_SHIFT 16
#define OPT_BIRTH_MASK (0x7fffu << OPT_BIRTH_SHIFT)

static uint32_t birth_now(void)
{
    return (((atomic_load(&fork_gen) & 0x7ffeu) + 1u) << OPT_BIRTH_SHIFT) & OPT_BIRTH_MASK;
}

static _Atomic uint32_t *opt_seen; /* by fd number, beside the registry */

void sockpool_note_copy(int fd)
{
    if (opt_seen && (unsigned)fd < reg_nslots)
        atomic_fetch_or_explicit(&opt_seen[fd], OPT_UNKNOWN, memory_order_relaxed);
}

void sockpool_note_option(int fd, int level, int optname)
{
    if (!opt_seen || (unsigned)fd >= reg_nslots)
        return;
    uint32_t bit = OPT_UNKNOWN;
    for (int i = 0; i < NSOCKOPTS; i++)
        if (sockopts[i].level == level && sockopts[i].name == optname)
            bit = 1u << i;
    atomic_fetch_or_explicit(&opt_seen[fd], bit, memory_order_relaxed);
    struct lease *l = reg_get(fd);
    if (l && l->kind == KIND_SOCKET)
        l->optmask |= bit;
}

static int copy_options(int from, int to, uint32_t mask)
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
        if (setsockopt(to, sockopts[i].level, sockopts[i].name, val, len) < 0)
            return -1;
    }
    return 0;
}

/* ---- the target table -------------------------------------------------- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Hash the part of an address that names the endpoint. For AF_UNIX the
 * path (without trailing NULs); 0 means "not a poolable address". */
static uint64_t addr_hash(const struct sockaddr *a, socklen_t len, const char **path, size_t *plen)
{
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)a->sa_family;
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

/* The quick reject: one bit per TCP port that some target uses, and a flag
 * for Unix targets. A connect() to an address no pool could match costs a
 * load and a test before the hash is ever computed. */
uint8_t sock_port_map[65536];

static void sockpool_mark_addr(const struct sockaddr *a)
{
    uint16_t key;
    memcpy(&key, (const char *)a + 2, sizeof key);
    sock_port_map[key] = 1;
}
static int unix_targets;

static int maybe_configured(const struct sockaddr *a, socklen_t len)
{
    if (len >= 4 && !sockpool_addr_maybe(a))
        return 0;
    return a->sa_family == AF_INET || a->sa_family == AF_INET6 || (a->sa_family == AF_UNIX && unix_targets);
}

struct target *sockpool_match(const struct sockaddr *addr, socklen_t len)
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

/* ---- callbacks for the generic pool ------------------------------------ */

struct acquire_ctx {
    int fd;          /* the program's fresh socket */
    int status;      /* its F_GETFL */
    int cloexec;     /* its FD_CLOEXEC */
    uint32_t optmask;
};

static void *never_create(void *user, void *arg)
{
    (void)user;
    (void)arg;
    errno = ENOSYS; /* the preload creates through the real connect itself */
    return NULL;
}

static void sock_destroy(void *user, void *obj)
{
    (void)user;
    struct lease *l = obj;
    lease_take_idle(l);
    if (!(atomic_load(&l->flags) & LF_GONE) && l->fd >= 0) {
        reg_claim(l->fd, l);
        real_close(l->fd);
    }
    log_debug("discard fd %d of %s", l->fd, l->target->label);
    lease_free(l);
}

/* Send the check bytes and require exactly the expected reply. */
static int run_check(struct lease *l)
{
    const struct pool_opts *o = &l->target->spec->opts;
    if (real.send(l->fd, o->check, o->check_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)o->check_len)
        return -1;
    char buf[MAX_PROBE];
    size_t got = 0;
    uint64_t deadline = now_ns() + o->connect_timeout_ms * 1000000ull;
    while (got < o->expect_len) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return -1;
        struct pollfd p = {l->fd, POLLIN, 0};
        int ms = (int)((deadline - now) / 1000000ull) + 1;
        if (poll(&p, 1, ms) <= 0)
            return -1;
        ssize_t n = real.recv(l->fd, buf + got, o->expect_len - got, MSG_DONTWAIT);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    if (memcmp(buf, o->expect, o->expect_len))
        return -1;
    /* a reply longer than expected leaves bytes behind: not reusable */
    struct pollfd p = {l->fd, POLLIN | POLLRDHUP, 0};
    return poll(&p, 1, 0) == 0 ? 0 : -1;
}

/* The checks of an idle connection before reuse; 0 if it may be reused. */
static int idle_reason(struct target *t, struct lease *l)
{
    struct pollfd p = {l->fd, POLLIN | POLLRDHUP, 0};
    int n = poll(&p, 1, 0);
    if (n < 0)
        return REASON_ERROR;
    if (n > 0) {
        if (p.revents & (POLLRDHUP | POLLHUP))
            return REASON_STALE_EOF;
        if (p.revents & (POLLERR | POLLNVAL))
            return REASON_ERROR;
        return REASON_UNREAD_DATA;
    }
    const struct pool_opts *o = &t->spec->opts;
    if (o->check_len && now_ns() - l->parked_ns >= o->check_delay_ms * 1000000ull) {
        if (run_check(l) < 0) {
            atomic_fetch_add(&t->check_failed, 1);
            return REASON_CHECK_FAILED;
        }
    }
    return 0;
}

/* Validation takes the object BUSY (its fd number is ours alone from here)
 * and keeps it BUSY for the swap; on failure it goes back to IDLE so that
 * destroy takes it like any idle object. */
static int sock_validate(void *user, void *obj, void *arg)
{
    struct lease *l = obj;
    (void)arg;
    lease_take_idle(l);
    int reason = idle_reason(user, l);
    if (reason)
        atomic_store(&l->state, STATE_IDLE);
    return reason;
}

/* ---- spare sockets ---------------------------------------------------------
 * On a hit the program's fresh socket is thrown away, and a socket's
 * creation plus its destruction cost more here (1.7 us) than the rest of the
 * reuse path. A fresh socket that is pristine (unbound, unconnected, no
 * option set, no O_ASYNC) is kept instead, at a high fd like an idle object,
 * and the next socket() for that family gets it at the lowest free number,
 * with the flags socket() would have given it. It never carried a byte, so
 * nothing can pass from one user to the next. */
#define SPARES 4
static _Atomic(struct lease *) spares[2][SPARES];

static int spare_family(int family)
{
    return family == AF_INET6;
}

static void spare_put(int fd, int family, int status)
{
    _Atomic(struct lease *) *row = spares[spare_family(family)];
    int room = 0;
    for (int i = 0; i < SPARES; i++)
        if (!atomic_load_explicit(&row[i], memory_order_relaxed))
            room = 1;
    if (!room)
        return;
    struct lease *l = lease_alloc();
    if (!l)
        return;
    int hi = reg_move_high(fd);
    if (hi < 0) {
        lease_free(l);
        return;
    }
    l->fd = hi;
    l->kind = KIND_SOCKET;
    l->status_flags = status;
    atomic_store(&l->flags, LF_SPARE);
    atomic_store(&l->state, STATE_IDLE);
    reg_set(hi, l);
    for (int i = 0; i < SPARES; i++) {
        struct lease *none = NULL;
        if (atomic_compare_exchange_strong(&row[i], &none, l))
            return;
    }
    reg_claim(hi, l); /* filled meanwhile */
    real_close(hi);
    lease_free(l);
}

static struct lease *spare_take(int family)
{
    _Atomic(struct lease *) *row = spares[spare_family(family)];
    for (int i = 0; i < SPARES; i++) {
        if (!atomic_load_explicit(&row[i], memory_order_relaxed))
            continue;
        struct lease *l = atomic_exchange(&row[i], NULL);
        if (l)
            return l;
    }
    return NULL;
}

int sockpool_socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct lease *l = NULL;
    if ((domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
        (protocol == 0 || protocol == IPPROTO_TCP) && !in_vfork_child() && guard_enter()) {
        l = spare_take(domain);
        guard_leave();
    }
    int fd = -1;
    if (l) {
        lease_take_idle(l); /* wait out a dup2 moving it */
        int spare = l->fd;
        fd = real.fcntl(spare, (type & SOCK_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
        int want = (l->status_flags & ~O_NONBLOCK) | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
        if (fd >= 0 && want != l->status_flags && real.fcntl(fd, F_SETFL, want) < 0) {
            real_close(fd);
            fd = -1;
        }
        reg_claim(spare, l);
        real_close(spare);
        lease_free(l);
    }
    if (fd < 0) {
        int err = errno;
        fd = real.socket(domain, type, protocol);
        if (fd < 0)
            return fd;
        errno = err;
    }
    /* a number's history must not follow it: options recorded for an
     * earlier socket at this number are forgotten */
    if (opt_seen && (unsigned)fd < reg_nslots)
        atomic_store_explicit(&opt_seen[fd], birth_now(), memory_order_relaxed);
    return fd;
}

void sockpool_after_fork_child(void)
{
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < SPARES; i++)
            atomic_store(&spares[f][i], NULL); /* child_drop closed their fds */
}

/* The swap: the idle connection takes the place of the fresh socket. */
static int sock_swap(void *user, void *obj, void *arg)
{
    (void)user;
    struct lease *l = obj;
    struct acquire_ctx *c = arg;
    int idle_fd = l->fd;
    if ((c->status ^ l->status_flags) & (O_NONBLOCK | O_ASYNC)) {
        if (real.fcntl(idle_fd, F_SETFL, c->status) < 0)
            goto fail;
        l->status_flags = c->status;
    }
    uint32_t mask = (c->optmask | l->optmask) & OPT_COPYABLE;
    if (mask && copy_options(c->fd, idle_fd, mask) < 0)
        goto fail;
    l->optmask |= c->optmask & OPT_COPYABLE;
    /* recycle only a socket objpool saw made, since the last fork or spawn,
     * never copied, with no option set and no O_ASYNC */
    if (c->optmask == birth_now() && !(c->status & O_ASYNC) && l->target->family != AF_UNIX)
        spare_put(c->fd, l->target->family, c->status);
    if (real.dup3(idle_fd, c->fd, c->cloexec ? O_CLOEXEC : 0) < 0)
        goto fail;
    reg_claim(idle_fd, l);
    real_close(idle_fd);
    l->fd = c->fd;
    l->uses++;
    atomic_store(&l->flags, LF_REUSED);
    atomic_store(&l->inflight, 0);
    atomic_store(&l->last_io, IO_NONE);
    atomic_store(&l->state, STATE_LEASED);
    reg_set(c->fd, l);
    return 0;
fail:
    atomic_store(&l->state, STATE_IDLE);
    return REASON_ERROR;
}

int sockpool_setup(struct config *c)
{
    int n = 0;
    for (int i = 0; i < c->ntargets; i++)
        if (c->targets[i].family)
            n++;
    if (!n)
        return 0;
    unsigned size = 16;
    while (size < (unsigned)n * 2)
        size *= 2;
    /* a few targets fit in static storage (a page of their own would be a
     * good part of the memory one pooled connection costs) */
    static struct target *table_static[64];
    table = size <= 64 ? table_static
                       : mmap(NULL, size * sizeof *table, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    opt_seen = mmap(NULL, (size_t)reg_nslots * sizeof *opt_seen, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (table == MAP_FAILED || opt_seen == MAP_FAILED) {
        table = NULL;
        opt_seen = NULL;
        return -1;
    }
    table_mask = size - 1;
    for (int i = 0; i < c->ntargets; i++) {
        struct target *t = &c->targets[i];
        if (!t->family)
            continue;
        const struct pool_opts *o = &t->spec->opts;
        t->pool = objpool_new(never_create, sock_destroy, sock_validate, sock_swap, t, o->max_size);
        if (!t->pool)
            return -1;
        pools_register(t->pool);
        objpool_set_idle_timeout_ms(t->pool, o->idle_timeout_ms);
        objpool_set_max_lifetime_ms(t->pool, o->max_lifetime_ms);
        objpool_set_order(t->pool, o->order);
        const char *path = NULL;
        size_t plen = 0;
        socklen_t alen = t->family == AF_INET    ? sizeof t->addr.in4
                         : t->family == AF_INET6 ? sizeof t->addr.in6
                                                 : sizeof t->addr.un;
        uint64_t h = addr_hash((const struct sockaddr *)&t->addr, alen, &path, &plen);
        if (t->family == AF_UNIX)
            unix_targets = 1;
        /* the two bytes after sa_family: the port, or the path's first two */
        sockpool_mark_addr((const struct sockaddr *)&t->addr);
        unsigned j = (unsigned)h & table_mask;
        while (table[j])
            j = (j + 1) & table_mask;
        table[j] = t;
    }
    sock_ntargets = n;
    return 0;
}

/* ---- acquire ----------------------------------------------------------- */

/* Is the program's socket one we can pool: a stream socket of the target's
 * family with no local address bound? */
static int poolable_socket(int fd, const struct target *t)
{
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &len) < 0 || local.ss_family != t->family)
        return 0;
    int v;
    socklen_t vl = sizeof v;
    if (t->family == AF_UNIX) {
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0 || v != SOCK_STREAM)
            return 0;
        return len <= offsetof(struct sockaddr_un, sun_path) + 1; /* unbound */
    }
    /* IPPROTO_TCP implies SOCK_STREAM */
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) < 0 || v != IPPROTO_TCP)
        return 0;
    if (t->family == AF_INET) {
        const struct sockaddr_in *in = (const void *)&local;
        return in->sin_port == 0 && in->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    const struct sockaddr_in6 *in6 = (const void *)&local;
    return in6->sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
}

static struct lease *make_lease(int fd, struct target *t, int status, uint32_t optmask)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    struct lease *l = lease_alloc();
    if (!l)
        return NULL;
    l->fd = fd;
    l->kind = KIND_SOCKET;
    l->target = t;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->status_flags = status;
    l->optmask = optmask;
    l->uses = 1;
    atomic_store(&l->state, STATE_LEASED);
    return l;
}

int sockpool_connect(int fd, struct target *t, const struct sockaddr *addr, socklen_t len)
{
    if (reg_get(fd) || in_vfork_child() || !poolable_socket(fd, t))
        return real.connect(fd, addr, len);
    struct acquire_ctx c = {fd, 0, 0, 0};
    c.status = real.fcntl(fd, F_GETFL);
    c.cloexec = real.fcntl(fd, F_GETFD) & FD_CLOEXEC;
    if (opt_seen)
        c.optmask = atomic_exchange_explicit(&opt_seen[fd], 0, memory_order_relaxed);
    if (c.status < 0 || (c.optmask & OPT_UNKNOWN))
        return real.connect(fd, addr, len); /* copied, or an option we cannot carry */

    bury_graveyard();
    unsigned gen = atomic_load(&fork_gen);
    struct lease *l = objpool_try_acquire(t->pool, &c);
    if (l) {
        if (atomic_load(&fork_gen) != gen)
            atomic_fetch_or(&l->flags, LF_SHARED); /* a fork overlapped the swap */
        log_debug("connect fd %d to %s: reused", fd, t->label);
        return 0;
    }
    uint64_t t0 = now_ns();
    int rc = real.connect(fd, addr, len);
    int err = errno;
    if (rc == 0 || err == EINPROGRESS) {
        l = make_lease(fd, t, c.status, c.optmask & OPT_COPYABLE);
        if (l) {
            if (atomic_load(&fork_gen) != gen)
                atomic_fetch_or(&l->flags, LF_SHARED);
            reg_set(fd, l);
            objpool_adopt(t->pool, l, 0);
            if (rc == 0) {
                atomic_fetch_add(&t->connect_ns, now_ns() - t0);
                atomic_fetch_add(&t->connect_timed, 1);
            }
        }
        log_debug("connect fd %d to %s: new connection%s", fd, t->label, rc ? " (in progress)" : "");
    } else {
        objpool_note_create_failure(t->pool);
        log_debug("connect fd %d to %s: failed, errno %d", fd, t->label, err);
    }
    errno = err;
    return rc;
}

/* ---- I/O accounting ----------------------------------------------------- */

int sockpool_io_begin(struct lease *l, int is_write, int flags, ssize_t *result)
{
    if (in_vfork_child()) {
        /* a vfork child's I/O: the parent must never park this lease */
        atomic_fetch_or(&l->flags, LF_UNOBSERVED);
        return 0;
    }
    if (atomic_load_explicit(&l->state, memory_order_relaxed) != STATE_LEASED || l->kind == KIND_INTERNAL) {
        errno = EBADF; /* an idle fd number is closed, as far as the program knows */
        *result = -1;
        return 1;
    }
    if (l->kind != KIND_SOCKET)
        return 0;
    int f = atomic_load_explicit(&l->flags, memory_order_relaxed);
    if (f & LF_SHUT_DEFERRED) {
        /* the emulated shutdown(SHUT_RDWR): EOF for reads, EPIPE for writes */
        if (is_write) {
            if (!(flags & MSG_NOSIGNAL))
                raise(SIGPIPE);
            errno = EPIPE;
            *result = -1;
        } else {
            *result = 0;
        }
        return 1;
    }
    if (flags & MSG_OOB)
        atomic_fetch_or(&l->flags, LF_UNOBSERVED);
    atomic_fetch_add_explicit(&l->inflight, 1, memory_order_relaxed);
    return 0;
}

void sockpool_io_end(struct lease *l, int is_write, int flags, ssize_t n, int err)
{
    if (l->kind != KIND_SOCKET || in_vfork_child())
        return;
    atomic_fetch_sub_explicit(&l->inflight, 1, memory_order_relaxed);
    if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
        return; /* nothing moved */
    if (is_write) {
        if (n > 0) {
            atomic_fetch_add_explicit(&l->bytes_out, (uint64_t)n, memory_order_relaxed);
            atomic_store_explicit(&l->last_io, IO_WRITE, memory_order_relaxed);
        } else if (n < 0) {
            atomic_store_explicit(&l->last_io, IO_ERROR, memory_order_relaxed);
        }
    } else if (!(flags & MSG_PEEK)) {
        if (n > 0) {
            atomic_fetch_add_explicit(&l->bytes_in, (uint64_t)n, memory_order_relaxed);
            atomic_store_explicit(&l->last_io, IO_READ_DATA, memory_order_relaxed);
        } else {
            atomic_store_explicit(&l->last_io, n == 0 ? IO_READ_EOF : IO_ERROR, memory_order_relaxed);
        }
    }
    /* a reused connection whose first answer is EOF or a reset: the server
     * dropped it while it sat idle (design §3, "what remains") */
    int f = atomic_load_explicit(&l->flags, memory_order_relaxed);
    if ((f & (LF_REUSED | LF_FIRST_IO_DONE)) == LF_REUSED && (!is_write || n < 0)) {
        atomic_fetch_or(&l->flags, LF_FIRST_IO_DONE);
        if (n == 0 || (n < 0 && (err == ECONNRESET || err == EPIPE)))
            atomic_fetch_add(&l->target->stale_reuse_errors, 1);
    }
}

int sockpool_shutdown(int fd, struct lease *l, int how)
{
    int f = atomic_load(&l->flags);
    int clean_exchange = atomic_load(&l->last_io) == IO_NONE || atomic_load(&l->last_io) == IO_READ_DATA;
    if (how == SHUT_RDWR && l->target->spec->opts.shutdown_defer && clean_exchange &&
        !(f & (LF_SHARED | LF_HALF_CLOSED | LF_UNOBSERVED)) && atomic_load(&l->inflight) == 0) {
        atomic_fetch_or(&l->flags, LF_SHUT_DEFERRED);
        log_debug("shutdown fd %d: SHUT_RDWR deferred to close", fd);
        return 0;
    }
    if (f & LF_SHUT_DEFERRED)
        return 0;
    atomic_fetch_or(&l->flags, LF_HALF_CLOSED);
    return real.shutdown(fd, how);
}

/* ---- release ------------------------------------------------------------ */

/* Why a connection that failed the quick checks may not be parked: unread
 * bytes, a hang-up, an error (one poll names it). 0 if poll sees nothing. */
static int poll_reason(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    int n = poll(&p, 1, 0);
    if (n < 0)
        return REASON_ERROR;
    if (n == 0)
        return 0;
    if (p.revents & (POLLRDHUP | POLLHUP))
        return REASON_STALE_EOF;
    if (p.revents & (POLLERR | POLLNVAL))
        return REASON_ERROR;
    return REASON_UNREAD_DATA;
}

/* TCP: the kernel's own count of what crossed the wire must equal what
 * objpool saw through the interposed calls. bytes_received == bytes read
 * proves no unread byte and no FIN (the FIN counts too); bytes_acked ==
 * bytes written + 1 (the SYN) proves nothing is unsent or unacknowledged.
 * More than objpool saw means I/O went around it (sendfile, splice, stdio on
 * fdopen, a raw syscall). One getsockopt decides the common case; poll only
 * names the reason when it fails. */
static int tcp_reason(int fd, struct lease *l)
{
    uint64_t out = atomic_load(&l->bytes_out), in = atomic_load(&l->bytes_in);
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
        tl < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return REASON_UNOBSERVED_IO; /* a kernel without the counters: cannot prove it */
    if (ti.tcpi_state == KTCP_ESTABLISHED && ti.tcpi_bytes_acked == out + 1 && ti.tcpi_bytes_received == in)
        return 0;
    int why = poll_reason(fd);
    if (why)
        return why;
    if (ti.tcpi_state != KTCP_ESTABLISHED)
        return ti.tcpi_state == KTCP_CLOSE_WAIT ? REASON_STALE_EOF : REASON_ERROR;
    if (ti.tcpi_bytes_acked < out + 1 && ti.tcpi_bytes_received == in)
        return REASON_ABANDONED; /* written, not yet acknowledged */
    return REASON_UNOBSERVED_IO;
}

/* 0 if the connection may be parked, else why not. */
static int release_reason(int fd, struct lease *l)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino)
        return REASON_NOT_SAME_SOCKET;
    int f = atomic_load(&l->flags);
    if (f & LF_SHARED)
        return REASON_SHARED;
    if (f & LF_UNOBSERVED)
        return REASON_UNOBSERVED_IO;
    if (f & LF_HALF_CLOSED)
        return REASON_HALF_CLOSED;
    if (atomic_load(&l->inflight))
        return REASON_ABANDONED; /* another thread is still in a call on it */
    switch (atomic_load(&l->last_io)) {
    case IO_WRITE:
        return REASON_ABANDONED;
    case IO_READ_EOF:
        return REASON_STALE_EOF;
    case IO_ERROR:
        return REASON_ERROR;
    }
    /* A server that closes after N requests (nginx keepalive_requests) may
     * not have sent its FIN yet: retire the connection before it can. */
    unsigned max_uses = l->target->spec->opts.max_uses;
    if (max_uses && l->uses >= max_uses)
        return REASON_MAX_USES;
    if (l->target->family != AF_UNIX)
        return tcp_reason(fd, l);
    int why = poll_reason(fd);
    if (why)
        return why;
    /* Unix stream: bytes the server has not read yet */
    int queued = 0;
    if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued)
        return REASON_ABANDONED;
    return 0;
}

int sockpool_close(int fd, struct lease *l)
{
    struct target *t = l->target;
    bury_graveyard();
    int reason = release_reason(fd, l);
    if (!reason) {
        int hi = reg_move_high(fd);
        if (hi < 0) {
            reason = REASON_ERROR;
        } else {
            l->fd = hi;
            l->parked_ns = now_ns();
            atomic_store(&l->state, STATE_IDLE);
            reg_set(hi, l);
            real_close(fd);
            int r = objpool_release(t->pool, l); /* may still destroy: full, lifetime */
            log_debug("close fd %d of %s: %s", fd, t->label, r == OBJPOOL_PARKED ? "parked" : "pool full or too old, closed");
            /* with LIFO the oldest idle objects never come up again; age
             * them out here (objpool starts no thread for it) */
            if (t->spec->opts.idle_timeout_ms || t->spec->opts.max_lifetime_ms)
                objpool_evict_expired(t->pool);
            return 0;
        }
    }
    int rc = real_close(fd);
    int err = errno;
    atomic_fetch_or(&l->flags, LF_GONE);
    log_debug("close fd %d of %s: not parked: %s", fd, t->label, reason_name(reason));
    objpool_discard(t->pool, l, reason);
    errno = err;
    return rc;
}

void sockpool_close_unlocked(int fd, struct lease *l, int *rc)
{
    *rc = real_close(fd);
    atomic_fetch_or(&l->flags, LF_GONE);
    graveyard_push(l);
}

/* ---- prewarm ------------------------------------------------------------
 * At start-up, open `prewarm` connections per target, non-blocking and all
 * in parallel, and park the ones that connect within connect_timeout.
 * Failures are counted, never fatal; start-up waits at most the longest
 * connect_timeout of the pools. */
struct warming {
    struct target *t;
    int fd;
};

static int prewarm_open(struct target *t)
{
    int s = socket(t->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int hi = reg_move_high(s);
    real_close(s);
    if (hi < 0)
        return -1;
    socklen_t alen = t->family == AF_INET ? sizeof t->addr.in4
                     : t->family == AF_INET6 ? sizeof t->addr.in6 : sizeof t->addr.un;
    if (real.connect(hi, (const struct sockaddr *)&t->addr, alen) < 0 && errno != EINPROGRESS) {
        real_close(hi);
        return -1;
    }
    return hi;
}

static void prewarm_park(struct target *t, int fd)
{
    struct lease *l = make_lease(fd, t, real.fcntl(fd, F_GETFL), 0);
    if (!l) {
        real_close(fd);
        atomic_fetch_add(&t->prewarm_failed, 1);
        return;
    }
    l->parked_ns = now_ns();
    l->uses = 0; /* nothing served on it yet */
    atomic_store(&l->state, STATE_IDLE);
    reg_set(fd, l);
    atomic_fetch_add(&t->prewarmed, 1);
    objpool_add_idle(t->pool, l);
}

void sockpool_prewarm(void)
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
                atomic_fetch_add(&t->prewarm_failed, 1);
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
                real_close(w[i].fd);
                atomic_fetch_add(&w[i].t->prewarm_failed, 1);
            }
            w[i].fd = -1;
            pending--;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (w[i].fd >= 0) {
            real_close(w[i].fd); /* not connected within connect_timeout */
            atomic_fetch_add(&w[i].t->prewarm_failed, 1);
        }
    }
    munmap(w, total * sizeof *w);
    munmap(pf, total * sizeof *pf);
    in_objpool = 0;
}
