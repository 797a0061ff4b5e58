/* stress.c - threads racing on one pooled target (issue 3, item 10).
 *
 * Usage: stress --port N [--threads T] [--cycles N | --requests N] [--seed N]
 *
 * T threads (default 8) each run cycles against a tagserver (best with
 * --random-close 5). Each cycle opens a NEW socket, connects and then, at
 * random:
 *   normal    one to three REQ/REP exchanges, close
 *   early     close right after connect (no I/O)
 *   abandon   write a request, close without reading
 *   partial   write a request, read only part of the reply, close
 *   handoff   a complete exchange, then the lease is handed to whichever
 *             thread comes next, which closes it while others connect
 * Every byte read must belong to the reply to the request this thread just
 * sent on that socket: "REP <tag> <id>\n" with its own tag, nothing after
 * it. Anything else is a MISMATCH (printed on stderr). EOF, resets and
 * timeouts are errors, expected with --random-close.
 *
 * --cycles N: N cycles per thread (default 2000). --requests N: run until
 * the threads together have sent N requests.
 *
 * Prints "cycles=N requests=N ok=N mismatches=N errors=N early=N abandoned=N
 * partial=N handoffs=N". Exit 1 on any mismatch, else 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tool.h"

static int g_port, g_threads = 8;
static long g_cycles = 2000, g_requests_goal;
static unsigned g_seed = 1;
static struct sockaddr_in g_addr;

static atomic_long n_cycles, n_requests, n_ok, n_mismatch, n_errors, n_early, n_abandon, n_partial,
    n_handoff;
static atomic_int g_handoff_slot = -1;

static void mismatch(int tid, const char *want, const char *got, size_t gotlen)
{
    atomic_fetch_add(&n_mismatch, 1);
    char shown[256];
    size_t n = gotlen < sizeof shown - 1 ? gotlen : sizeof shown - 1;
    memcpy(shown, got, n);
    shown[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (shown[i] == '\n')
            shown[i] = '|';
    fprintf(stderr, "MISMATCH thread %d: expected '%s...' got '%s'\n", tid, want, shown);
}

static int open_conn(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&g_addr, sizeof g_addr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_req(int fd, const char *tag)
{
    char line[128];
    int n = snprintf(line, sizeof line, "REQ %s\n", tag);
    atomic_fetch_add(&n_requests, 1);
    return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* Read the whole reply; 1 ok, 0 error (EOF etc.), -1 mismatch. */
static int read_reply(int tid, int fd, const char *tag)
{
    char want[128], buf[512];
    int wl = snprintf(want, sizeof want, "REP %s ", tag);
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* what arrived before the error must still be ours */
            if (have && memcmp(buf, want, have < (size_t)wl ? have : (size_t)wl)) {
                mismatch(tid, want, buf, have);
                return -1;
            }
            return 0;
        }
        have += (size_t)r;
        size_t cmp = have < (size_t)wl ? have : (size_t)wl;
        if (memcmp(buf, want, cmp)) {
            mismatch(tid, want, buf, have);
            return -1;
        }
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            if ((size_t)(nl - buf) + 1 != have || (size_t)(nl - buf) <= (size_t)wl) {
                mismatch(tid, want, buf, have);
                return -1;
            }
            return 1;
        }
        if (have >= sizeof buf - 1) {
            mismatch(tid, want, buf, have);
            return -1;
        }
    }
}

static int exchange(int tid, int fd, const char *tag)
{
    if (send_req(fd, tag) < 0) {
        atomic_fetch_add(&n_errors, 1);
        return 0;
    }
    int r = read_reply(tid, fd, tag);
    if (r > 0)
        atomic_fetch_add(&n_ok, 1);
    else if (r == 0)
        atomic_fetch_add(&n_errors, 1);
    return r;
}

static int more(long i)
{
    if (g_requests_goal)
        return atomic_load(&n_requests) < g_requests_goal;
    return i < g_cycles;
}

static void *worker(void *arg)
{
    int tid = (int)(long)arg;
    unsigned rs = g_seed * 7919u + (unsigned)tid * 104729u;
    for (long i = 0; more(i); i++) {
        atomic_fetch_add(&n_cycles, 1);
        char tag[64];
        snprintf(tag, sizeof tag, "t%d-%ld-%u", tid, i, rand_r(&rs) % 100000);
        int fd = open_conn();
        if (fd < 0) {
            atomic_fetch_add(&n_errors, 1);
            continue;
        }
        int what = (int)(rand_r(&rs) % 100);
        if (what < 8) { /* early close */
            atomic_fetch_add(&n_early, 1);
        } else if (what < 18) { /* abandoned request */
            atomic_fetch_add(&n_abandon, 1);
            send_req(fd, tag);
        } else if (what < 28) { /* partial read */
            atomic_fetch_add(&n_partial, 1);
            if (send_req(fd, tag) == 0) {
                char want[96], buf[16];
                snprintf(want, sizeof want, "REP %s ", tag);
                size_t k = 1 + rand_r(&rs) % 8;
                ssize_t r;
                do
                    r = recv(fd, buf, k, 0);
                while (r < 0 && errno == EINTR);
                if (r > 0 && memcmp(buf, want, (size_t)r))
                    mismatch(tid, want, buf, (size_t)r);
            }
        } else if (what < 38) { /* complete, then hand the lease over */
            if (exchange(tid, fd, tag) > 0) {
                atomic_fetch_add(&n_handoff, 1);
                fd = atomic_exchange(&g_handoff_slot, fd); /* another thread's lease, or -1 */
            }
        } else { /* normal: one to three exchanges */
            int k = 1 + (int)(rand_r(&rs) % 3);
            for (int j = 0; j < k; j++) {
                char t2[80];
                snprintf(t2, sizeof t2, "%s.%d", tag, j);
                if (exchange(tid, fd, t2) <= 0)
                    break;
            }
        }
        if (fd >= 0)
            close(fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "stress: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--port"))
            g_port = atoi(v);
        else if (!strcmp(a, "--threads"))
            g_threads = atoi(v);
        else if (!strcmp(a, "--cycles"))
            g_cycles = atol(v);
        else if (!strcmp(a, "--requests"))
            g_requests_goal = atol(v);
        else if (!strcmp(a, "--seed"))
            g_seed = (unsigned)strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "usage: stress --port N [--threads T] [--cycles N | --requests N] [--seed N]\n");
            return 2;
        }
    }
    if (!g_port || g_threads < 1) {
        fprintf(stderr, "usage: stress --port N [--threads T] [--cycles N | --requests N] [--seed N]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    g_addr = loopback(g_port);
    pthread_t *th = calloc((size_t)g_threads, sizeof *th);
    for (int t = 0; t < g_threads; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(long)t) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int t = 0; t < g_threads; t++)
        pthread_join(th[t], NULL);
    int last = atomic_exchange(&g_handoff_slot, -1);
    if (last >= 0)
        close(last);
    printf("cycles=%ld requests=%ld ok=%ld mismatches=%ld errors=%ld early=%ld abandoned=%ld partial=%ld "
           "handoffs=%ld\n",
           atomic_load(&n_cycles), atomic_load(&n_requests), atomic_load(&n_ok), atomic_load(&n_mismatch),
           atomic_load(&n_errors), atomic_load(&n_early), atomic_load(&n_abandon), atomic_load(&n_partial),
           atomic_load(&n_handoff));
    return atomic_load(&n_mismatch) ? 1 : 0;
}
