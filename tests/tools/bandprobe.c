/* bandprobe.c - calls on fd numbers the program never opened, in the band at
 * the top of the fd table where objpool keeps its idle connections and
 * spare sockets, while other threads connect and close through a pool so
 * that objpool makes and gives up numbers there all the time.
 *
 * Without objpool every such call fails with EBADF. With it the program's
 * view must be the same: close, fcntl, dup, dup2/dup3 from an unheld
 * number and close_range over unheld numbers never touch objpool's objects
 * (fdrace covers dup2 *onto* the band). A call that answers is a
 * "phantom"; a close or close_range that took one of objpool's objects
 * shows as a client error afterwards.
 *
 * Usage: bandprobe --port N [--clients C] [--probers P] [--ops N] [--span S]
 *   C client threads (default 3) do --ops request cycles each (socket,
 *   connect to 127.0.0.1:PORT, "REQ <tag>", read the reply, close), one
 *   cycle in four with a second connection open at the same time so the
 *   pool holds several idle connections; P prober threads (default 2) pick
 *   numbers among the S (default 64) below RLIMIT_NOFILE (each its own:
 *   every P-th) until the clients are done.
 *
 * Prints one key=value line; exit 1 if phantom or client errors are non-zero.
 */
#include <arpa/inet.h>
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
#include <unistd.h>

#include "tool.h"

#define MAX_THREADS 32

static int g_port, g_clients = 3, g_probers = 2, g_span = 64, g_lim;
static long g_ops = 20000;
static struct sockaddr_in g_addr;
static atomic_int g_done;
static atomic_long g_probes, g_phantom, g_client_err, g_requests;
/* a low number each prober owns, for dup2/dup3 from the band onto it */
static int g_own[MAX_THREADS];

static void note(atomic_long *c, const char *what, int n)
{
    if (atomic_fetch_add(c, 1) < 5)
        fprintf(stderr, "ERROR %s %d\n", what, n);
}

static const char *const op_names[] = {"fcntl(F_GETFD)", "fcntl(F_GETFL)", "close", "dup",
                                       "fcntl(F_DUPFD_CLOEXEC)", "dup2/dup3 from it",
                                       "close_range"};
static atomic_long g_phantom_by_op[7];

static void usage(void)
{
    fprintf(stderr, "usage: bandprobe --port N [--clients C] [--probers P] [--ops N] [--span S]\n");
    exit(2);
}

/* One exchange on fd: our reply, whole; 0 or -1. */
static int exchange(int fd, int id, long n)
{
    char req[64], want[64], buf[256];
    int rl = snprintf(req, sizeof req, "REQ b%d-%ld\n", id, n);
    int wl = snprintf(want, sizeof want, "REP b%d-%ld ", id, n);
    if (write(fd, req, (size_t)rl) != rl)
        return -1;
    size_t have = 0;
    while (have < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        char *nl = memchr(buf, '\n', have);
        if (nl)
            return strncmp(buf, want, (size_t)wl) == 0 && (size_t)(nl + 1 - buf) == have ? 0 : -1;
    }
    return -1;
}

static int open_conn(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *client_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (long n = 0; n < g_ops; n++) {
        int a = open_conn(), b = n % 4 == 0 ? open_conn() : -2;
        if (a < 0 || b == -1 || exchange(a, id, n) != 0 || (b >= 0 && exchange(b, id, -n) != 0))
            note(&g_client_err, "client: connect or exchange failed, cycle", (int)n);
        if (a >= 0 && close(a) != 0)
            note(&g_client_err, "client: close of its own fd failed, fd", a);
        if (b >= 0 && close(b) != 0)
            note(&g_client_err, "client: close of its own fd failed, fd", b);
        atomic_fetch_add(&g_requests, 1);
    }
    return NULL;
}

/* One call on the unheld number n: it must fail with EBADF. */
static void probe(int id, int n, unsigned *rng)
{
    int r, own = g_own[id], op = (int)(rand_r(rng) % 7);
    switch (op) {
    case 0:
        r = fcntl(n, F_GETFD);
        break;
    case 1:
        r = fcntl(n, F_GETFL);
        break;
    case 2:
        r = close(n);
        break;
    case 3:
        r = dup(n);
        break;
    case 4:
        r = fcntl(n, F_DUPFD_CLOEXEC, 0);
        break;
    case 5:
        r = rand_r(rng) % 2 ? dup2(n, own) : dup3(n, own, O_CLOEXEC);
        break;
    default:
        r = close_range((unsigned)n, (unsigned)n, 0);
        if (r == 0)
            return; /* close_range of nothing succeeds: no answer to check */
        break;
    }
    atomic_fetch_add(&g_probes, 1);
    if (r == -1 && errno == EBADF)
        return;
    atomic_fetch_add(&g_phantom_by_op[op], 1);
    if (atomic_load(&g_phantom) < 5)
        fprintf(stderr, "ERROR phantom: %s of unheld fd %d answered\n", op_names[op], n);
    atomic_fetch_add(&g_phantom, 1);
    /* a copy made from objpool's object is the program's now */
    if (r >= 0 && r != own && r != n && (r < g_lim - g_span))
        close(r);
}

static void *prober_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned rng = 77u + (unsigned)id;
    /* each prober its own numbers (every P-th): two program threads
     * closing one number at once is a race of the program's own, which
     * TSan reports (and this test is not about) */
    unsigned mine = ((unsigned)g_span + (unsigned)g_probers - 1 - (unsigned)id) / (unsigned)g_probers;
    while (!atomic_load(&g_done))
        for (int i = 0; i < 64; i++) {
            unsigned k = (rand_r(&rng) % mine) * (unsigned)g_probers + (unsigned)id;
            probe(id, g_lim - 1 - (int)k, &rng);
        }
    return NULL;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--port"))
            g_port = atoi(v);
        else if (!strcmp(a, "--clients"))
            g_clients = atoi(v);
        else if (!strcmp(a, "--probers"))
            g_probers = atoi(v);
        else if (!strcmp(a, "--ops"))
            g_ops = atol(v);
        else if (!strcmp(a, "--span"))
            g_span = atoi(v);
        else
            usage();
    }
    if (argc % 2 == 0 || g_port <= 0 || g_clients < 1 || g_probers < 1 ||
        g_clients + g_probers > MAX_THREADS || g_ops < 1 || g_span < 1)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)g_span * 4) {
        fprintf(stderr, "bandprobe: RLIMIT_NOFILE too small\n");
        return 2;
    }
    g_lim = rl.rlim_cur > 1 << 20 ? 1 << 20 : (int)rl.rlim_cur;
    g_addr = loopback(g_port);
    pthread_t cl[MAX_THREADS], pr[MAX_THREADS];
    for (int p = 0; p < g_probers; p++)
        if ((g_own[p] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
            return 2;
    for (int p = 0; p < g_probers; p++)
        pthread_create(&pr[p], NULL, prober_main, (void *)(intptr_t)p);
    for (int c = 0; c < g_clients; c++)
        pthread_create(&cl[c], NULL, client_main, (void *)(intptr_t)c);
    for (int c = 0; c < g_clients; c++)
        pthread_join(cl[c], NULL);
    atomic_store(&g_done, 1);
    for (int p = 0; p < g_probers; p++)
        pthread_join(pr[p], NULL);
    long phantom = atomic_load(&g_phantom), cerr = atomic_load(&g_client_err);
    printf("requests=%ld probes=%ld phantom=%ld client_errors=%ld", atomic_load(&g_requests),
           atomic_load(&g_probes), phantom, cerr);
    for (int i = 0; i < 7; i++)
        if (atomic_load(&g_phantom_by_op[i]))
            printf(" [%s]=%ld", op_names[i], atomic_load(&g_phantom_by_op[i]));
    printf("\n");
    return phantom || cerr ? 1 : 0;
}
