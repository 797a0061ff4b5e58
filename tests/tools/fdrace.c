/* fdrace.c - threads that connect through a pool while juggling fd numbers
 * with dup2/dup3/close_range in every region of the fd table (issue 14,
 * item 2). Run it without objpool for the baseline (every counter 0) and
 * with it: objpool's idle connections and spare sockets live at numbers the
 * program does not hold, so a dup2 onto them is legal, and the program must
 * never notice that objpool was there.
 *
 * Usage: fdrace --port N [--threads T] [--ops N] [--seed N]
 *
 * The fd table up to RLIMIT_NOFILE is cut into four regions: low (above
 * what lowest-free allocation reaches), the middle, the top quarter and the
 * last numbers before the limit. Each thread owns one block of BLOCK
 * numbers in each region; it dup2s only onto its own numbers, so no thread
 * ever touches another's fd. T threads (default 8) share --ops operations
 * (default 1000000), each picked at random:
 *   request    socket(), connect to 127.0.0.1:PORT, "REQ <tag>", read the
 *              reply, close
 *   reqdup     the same, with the lease dup2'd or dup3'd onto an own number,
 *              the exchange through the copy, both closed
 *   dup2 dup3  /dev/null onto an own number (held or not)
 *   close      close an own number it holds
 *   probe      an own number: held ones must still be /dev/null with the
 *              right FD_CLOEXEC; unheld ones must give EBADF (fcntl, close)
 *   range      close_range over one own block (or CLOSE_RANGE_CLOEXEC)
 * Before a dup onto an own number it does not hold, fstat() says whether an
 * fd was there anyway (objpool's): counted as `collisions`, not an error.
 *
 * Errors (program-visible, each 0 without objpool): enotsock (connect
 * failing ENOTSOCK), connerr (any other connect failure), nonsock (socket()
 * returning something that is not a fresh unconnected stream socket), ebadf
 * (close or dup of the program's own fd failing), wrong (a reply that is
 * not this request's), ioerr (write/read failing), clobbered (a held number
 * that changed under the program), phantom (an unheld number that answers).
 *
 * At the end every thread closes what it holds and the fds left in
 * /proc/self/fd beyond 0-2 and those open when main() started (inherited=)
 * are counted: extra_fds, split into connected sockets (extra_connected),
 * unconnected sockets (extra_unconnected) and the rest (extra_other); each
 * is named on stderr as "LEFT fd N: what".
 *
 * Prints one line of key=value; exit 1 if any error counter is non-zero.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

#define BLOCK 4
#define NREGIONS 4
#define OWN (NREGIONS * BLOCK)
#define MAX_THREADS 64

static int g_port, g_threads = 8;
static long g_ops = 1000000;
static unsigned g_seed = 1;
static int g_region_base[NREGIONS];
static struct sockaddr_in g_addr;
static dev_t g_null_rdev;

enum counter {
    C_REQUESTS, C_ENOTSOCK, C_CONNERR, C_NONSOCK, C_EBADF, C_WRONG, C_IOERR, C_CLOBBERED,
    C_PHANTOM, C_COLLISIONS, C_NCOUNTERS
};
static const char *const counter_names[] = {
    "requests", "enotsock", "connerr", "nonsock", "ebadf", "wrong", "ioerr", "clobbered",
    "phantom", "collisions"
};
static atomic_long g_count[C_NCOUNTERS];

/* What the thread put at one of its own numbers. */
struct slot {
    int held;
    int cloexec;
};

struct worker {
    int id;
    long ops;
    unsigned rng;
    int devnull;
    struct slot own[OWN];
};

static void count(enum counter c, int tid, const char *what)
{
    atomic_fetch_add(&g_count[c], 1);
    if (c != C_REQUESTS && c != C_COLLISIONS && atomic_load(&g_count[c]) <= 5)
        fprintf(stderr, "ERROR thread %d %s: %s (%s)\n", tid, counter_names[c], what,
                strerror(errno));
}

static void usage(void)
{
    fprintf(stderr, "usage: fdrace --port N [--threads T] [--ops N] [--seed N]\n");
    exit(2);
}

/* The fd number of the thread's own slot i (region i / BLOCK). */
static int own_fd(const struct worker *w, int i)
{
    return g_region_base[i / BLOCK] + w->id * BLOCK + i % BLOCK;
}

/* Regions laid out from the limit: low starts above anything lowest-free
 * allocation can reach (each thread holds at most three fds that way), the
 * last region ends at RLIMIT_NOFILE - 1, where objpool keeps its fds. */
static void layout(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("fdrace: getrlimit");
        exit(2);
    }
    int lim = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    int span = g_threads * BLOCK;
    g_region_base[0] = 3 * g_threads + 16;
    g_region_base[1] = lim / 2;
    g_region_base[2] = lim * 3 / 4 + 8;
    g_region_base[3] = lim - span;
    for (int r = 1; r < NREGIONS; r++)
        if (g_region_base[r] < g_region_base[r - 1] + span) {
            fprintf(stderr, "fdrace: RLIMIT_NOFILE %d too small for %d threads\n", lim, g_threads);
            exit(2);
        }
}

/* A fresh socket() result must be an unconnected TCP stream socket: NULL,
 * or what it is instead. */
static const char *fresh_socket_problem(int fd)
{
    struct stat st;
    int type = 0;
    socklen_t tl = sizeof type;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fstat(fd, &st) != 0)
        return "socket() returned a closed number";
    if (!S_ISSOCK(st.st_mode))
        return "socket() returned a non-socket";
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
        return "socket() returned a socket that is not SOCK_STREAM";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
        return "socket() returned a connected socket";
    return NULL;
}

/* Send "REQ tag" on wfd, read the reply on rfd: it must be exactly ours. */
static void exchange(struct worker *w, int wfd, int rfd, long n)
{
    char req[64], want[64], buf[256];
    snprintf(req, sizeof req, "REQ t%d-%ld\n", w->id, n);
    int wl = snprintf(want, sizeof want, "REP t%d-%ld ", w->id, n);
    if (write_all(wfd, req, strlen(req)) < 0) {
        count(C_IOERR, w->id, "write");
        return;
    }
    size_t have = 0;
    char *nl = NULL;
    while (!nl && have < sizeof buf - 1) {
        /* a request that went somewhere else gets no reply: do not hang */
        struct pollfd p = {rfd, POLLIN, 0};
        if (poll(&p, 1, 5000) == 0) {
            errno = ETIMEDOUT;
            break;
        }
        ssize_t r = read(rfd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        nl = memchr(buf, '\n', have);
    }
    buf[have] = '\0';
    if (!nl)
        count(C_IOERR, w->id, "no reply");
    else if (strncmp(buf, want, (size_t)wl) || (size_t)(nl + 1 - buf) != have)
        count(C_WRONG, w->id, buf);
}

/* socket() + connect(); -1 (counted) on failure. */
static int open_conn(struct worker *w)
{
    int flags = rand_r(&w->rng) % 2 ? SOCK_CLOEXEC : 0;
    int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (fd < 0) {
        count(C_NONSOCK, w->id, "socket() failed");
        return -1;
    }
    const char *problem = fresh_socket_problem(fd);
    if (problem) {
        count(C_NONSOCK, w->id, problem);
        close(fd);
        return -1;
    }
    if (connect_retry(fd, &g_addr, sizeof g_addr) < 0) {
        count(errno == ENOTSOCK ? C_ENOTSOCK : C_CONNERR, w->id, "connect");
        close(fd);
        return -1;
    }
    atomic_fetch_add(&g_count[C_REQUESTS], 1);
    return fd;
}

static void close_own(struct worker *w, int fd, const char *what)
{
    if (close(fd) != 0)
        count(C_EBADF, w->id, what);
}

/* Before the program puts something at an own number it does not hold:
 * anything there is objpool's (counted, it is the case under test). */
static void note_collision(struct worker *w, int i)
{
    struct stat st;
    if (!w->own[i].held && fstat(own_fd(w, i), &st) == 0)
        count(C_COLLISIONS, w->id, "");
}

/* dup2 or dup3 of src onto own slot i; 0 on success. */
static int dup_onto(struct worker *w, int src, int i, int use_dup3)
{
    int target = own_fd(w, i);
    note_collision(w, i);
    int r = use_dup3 ? dup3(src, target, O_CLOEXEC) : dup2(src, target);
    if (r != target) {
        count(C_EBADF, w->id, use_dup3 ? "dup3" : "dup2");
        return -1;
    }
    w->own[i].held = 1;
    w->own[i].cloexec = use_dup3;
    return 0;
}

static void op_request(struct worker *w, long n)
{
    int fd = open_conn(w);
    if (fd < 0)
        return;
    exchange(w, fd, fd, n);
    close_own(w, fd, "close of a lease");
}

/* The lease copied onto an own number: the exchange goes through both. */
static void op_reqdup(struct worker *w, long n)
{
    int fd = open_conn(w);
    if (fd < 0)
        return;
    int i = (int)(rand_r(&w->rng) % OWN);
    if (dup_onto(w, fd, i, rand_r(&w->rng) % 2) == 0) {
        exchange(w, own_fd(w, i), fd, n);
        close_own(w, own_fd(w, i), "close of the lease's copy");
        w->own[i].held = 0;
    }
    close_own(w, fd, "close of a copied lease");
}

static void op_dup_null(struct worker *w, int use_dup3)
{
    int i = (int)(rand_r(&w->rng) % OWN);
    dup_onto(w, w->devnull, i, use_dup3);
}

static void op_close(struct worker *w)
{
    int i = (int)(rand_r(&w->rng) % OWN);
    if (!w->own[i].held)
        return;
    close_own(w, own_fd(w, i), "close of a held number");
    w->own[i].held = 0;
}

/* A held number is still /dev/null with its FD_CLOEXEC; an unheld one does
 * not answer. */
static void op_probe(struct worker *w)
{
    int i = (int)(rand_r(&w->rng) % OWN), fd = own_fd(w, i);
    if (w->own[i].held) {
        struct stat st;
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0 || fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != g_null_rdev ||
            !!(fl & FD_CLOEXEC) != w->own[i].cloexec)
            count(C_CLOBBERED, w->id, "held number changed");
        return;
    }
    if (rand_r(&w->rng) % 2) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            count(C_PHANTOM, w->id, "fcntl of an unheld number");
    } else if (close(fd) != -1 || errno != EBADF) {
        count(C_PHANTOM, w->id, "close of an unheld number");
    }
}

static void op_range(struct worker *w)
{
    int b = (int)(rand_r(&w->rng) % NREGIONS), cloexec = rand_r(&w->rng) % 2;
    unsigned lo = (unsigned)own_fd(w, b * BLOCK), hi = lo + BLOCK - 1;
    if (close_range(lo, hi, cloexec ? CLOSE_RANGE_CLOEXEC : 0) != 0) {
        count(C_EBADF, w->id, "close_range");
        return;
    }
    for (int i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
        if (cloexec)
            w->own[i].cloexec = 1;
        else
            w->own[i].held = 0;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (long n = 0; n < w->ops; n++) {
        unsigned r = (unsigned)rand_r(&w->rng) % 100;
        if (r < 30)
            op_request(w, n);
        else if (r < 36)
            op_reqdup(w, n);
        else if (r < 54)
            op_dup_null(w, 0);
        else if (r < 64)
            op_dup_null(w, 1);
        else if (r < 76)
            op_close(w);
        else if (r < 94)
            op_probe(w);
        else
            op_range(w);
    }
    for (int i = 0; i < OWN; i++)
        if (w->own[i].held)
            close_own(w, own_fd(w, i), "final close");
    close_own(w, w->devnull, "close of /dev/null");
    return NULL;
}

/* Numbers open when main() starts: inherited from the caller (the same
 * with and without objpool, unless objpool opened some before main). */
static unsigned char g_inherited[1 << 20];

static int is_own_number(int fd)
{
    for (int r = 0; r < NREGIONS; r++)
        if (fd >= g_region_base[r] && fd < g_region_base[r] + g_threads * BLOCK)
            return 1;
    return 0;
}

static void note_inherited(void)
{
    long n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        perror("fdrace: /proc/self/fd");
        exit(2);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || fd >= (int)sizeof g_inherited)
            continue;
        if (is_own_number(fd)) {
            fprintf(stderr, "fdrace: fd %d is open at start, among the threads' numbers\n", fd);
            exit(2);
        }
        g_inherited[fd] = 1;
        n++;
    }
    closedir(d);
    printf(" inherited=%ld", n);
}

/* What is left in the fd table beyond 0-2 and the inherited fds once the
 * program closed all it opened: without objpool nothing. Connected sockets
 * are idle connections, unconnected ones spare sockets. */
static void count_leftovers(void)
{
    long extra = 0, connected = 0, unconnected = 0, other = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        perror("fdrace: /proc/self/fd");
        exit(2);
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == dirfd(d) || (fd < (int)sizeof g_inherited && g_inherited[fd]))
            continue;
        extra++;
        char link[256] = "";
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t ll = readlink(path, link, sizeof link - 1);
        link[ll > 0 ? ll : 0] = '\0';
        fprintf(stderr, "LEFT fd %d: %s\n", fd, link);
        struct stat st;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            other++;
        else if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            connected++;
        else
            unconnected++;
    }
    closedir(d);
    printf(" extra_fds=%ld extra_connected=%ld extra_unconnected=%ld extra_other=%ld", extra,
           connected, unconnected, other);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--port"))
            g_port = atoi(v);
        else if (!strcmp(a, "--threads"))
            g_threads = atoi(v);
        else if (!strcmp(a, "--ops"))
            g_ops = atol(v);
        else if (!strcmp(a, "--seed"))
            g_seed = (unsigned)strtoul(v, NULL, 10);
        else
            usage();
    }
    if (g_port <= 0 || g_threads < 1 || g_threads > MAX_THREADS || g_ops < 1)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN); /* a write error is counted, not fatal */
    layout();
    printf("ops=%ld threads=%d", g_ops, g_threads);
    note_inherited();
    g_addr = loopback(g_port);
    struct stat st;
    if (stat("/dev/null", &st) != 0) {
        perror("fdrace: /dev/null");
        return 2;
    }
    g_null_rdev = st.st_rdev;

    static struct worker workers[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    for (int t = 0; t < g_threads; t++) {
        struct worker *w = &workers[t];
        w->id = t;
        w->ops = g_ops / g_threads + (t < g_ops % g_threads);
        w->rng = g_seed * 7919u + (unsigned)t;
        w->devnull = open("/dev/null", O_RDWR);
        if (w->devnull < 0) {
            perror("fdrace: open /dev/null");
            return 2;
        }
    }
    for (int t = 0; t < g_threads; t++)
        if (pthread_create(&th[t], NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "fdrace: pthread_create failed\n");
            return 2;
        }
    for (int t = 0; t < g_threads; t++)
        pthread_join(th[t], NULL);

    long errors = 0;
    for (int c = 0; c < C_NCOUNTERS; c++) {
        long v = atomic_load(&g_count[c]);
        printf(" %s=%ld", counter_names[c], v);
        if (c != C_REQUESTS && c != C_COLLISIONS)
            errors += v;
    }
    printf(" errors=%ld", errors);
    count_leftovers();
    printf("\n");
    return errors ? 1 : 0;
}
