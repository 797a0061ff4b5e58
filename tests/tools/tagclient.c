/* tagclient.c - the "legacy" client objpool speeds up.  Every cycle creates a
 * NEW socket, connects, sends "REQ <tag>\n", reads the "REP <tag> <connid>"
 * reply, checks the tag and closes the socket.
 *
 * Usage: tagclient --port N [--host 127.0.0.1|::1|localhost] [--unix PATH]
 *                  --cycles N [--mode M] [--threads T] [--sleep-ms N]
 *                  [--seed N] [--hold N] [--allow-errors]
 *
 * Modes:
 *   normal    socket/connect/write/read/close (default)
 *   abandon   odd cycles write the request and close without reading;
 *             even cycles are normal and their replies are checked
 *   nonblock  O_NONBLOCK socket, connect (0 or EINPROGRESS), poll POLLOUT,
 *             SO_ERROR, send, poll POLLIN, recv
 *   shutrdwr  after the reply: shutdown(SHUT_RDWR), then close
 *   shutwr    write request, shutdown(SHUT_WR), read reply, close
 *   unread    reads the reply byte by byte up to the first '\n' and closes
 *             (with server mode extra, the EXTRA line stays unread)
 *   pipeline  one cycle in four (cycle % 4 == 3) sends "REQ <tag>\nREQ
 *             <tag>-second\n" in one write, reads and checks only the first
 *             reply and closes (with tagserver --delay-second-ms the second
 *             reply is still on its way); the other cycles are normal, so a
 *             second reply that reached the next user is a mismatch, and
 *             their clean connections can be reused
 *   sendrecv  send()/recv()
 *   writev    writev()/readv()
 *   msg       sendmsg()/recvmsg()
 *
 * --threads T: T threads each doing --cycles cycles.
 * --hold N: each cycle opens N connections, does one exchange on each while
 *           all are open, then closes all N (cycles= counts exchanges).
 *
 * Prints "cycles=N ok=N mismatches=N errors=N conn_ids=K" on stdout.
 * Exit status: 1 if any mismatch, else 2 if any error (unless
 * --allow-errors), else 0.  A mismatch is printed to stderr as
 * "MISMATCH expected X got Y".
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum mode {
    M_NORMAL, M_ABANDON, M_NONBLOCK, M_SHUTRDWR, M_SHUTWR, M_UNREAD,
    M_SENDRECV, M_WRITEV, M_MSG, M_PIPELINE
};

static const char *const mode_names[] = {
    "normal", "abandon", "nonblock", "shutrdwr", "shutwr", "unread",
    "sendrecv", "writev", "msg", "pipeline"
};

static enum mode g_mode = M_NORMAL;
static const char *g_host = "127.0.0.1";
static const char *g_port;
static const char *g_unix;
static long g_cycles = -1;
static int g_threads = 1;
static long g_sleep_ms;
static int g_hold;
static int g_allow_errors;
static struct addrinfo *g_addrs;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static long g_total, g_ok, g_mismatch, g_errors;
static unsigned char *g_seen;   /* bitmap of server connection ids */
static size_t g_seen_bytes;
static long g_distinct;

static void usage(void)
{
    fprintf(stderr,
            "usage: tagclient --port N [--host H] [--unix PATH] --cycles N\n"
            "                 [--mode normal|abandon|nonblock|shutrdwr|shutwr|"
            "unread|sendrecv|writev|msg|pipeline]\n"
            "                 [--threads T] [--sleep-ms N] [--seed N] [--hold N]"
            " [--allow-errors]\n");
    exit(2);
}

static void note_connid(unsigned long id)
{
    pthread_mutex_lock(&g_lock);
    size_t byte = id / 8;
    if (byte >= g_seen_bytes) {
        size_t nb = g_seen_bytes ? g_seen_bytes : 1024;
        while (nb <= byte)
            nb *= 2;
        unsigned char *p = realloc(g_seen, nb);
        if (!p) {
            pthread_mutex_unlock(&g_lock);
            return;
        }
        memset(p + g_seen_bytes, 0, nb - g_seen_bytes);
        g_seen = p;
        g_seen_bytes = nb;
    }
    if (!(g_seen[byte] & (1u << (id % 8)))) {
        g_seen[byte] |= (unsigned char)(1u << (id % 8));
        g_distinct++;
    }
    pthread_mutex_unlock(&g_lock);
}

static void count(long *what)
{
    pthread_mutex_lock(&g_lock);
    (*what)++;
    pthread_mutex_unlock(&g_lock);
}

static void errorf(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ERROR %s\n", msg);
}

#include "tagclient/io.c"

/* Check a reply line against the expected tag. */
static void check_reply(const char *line, const char *tag)
{
    char got[256];
    unsigned long connid = 0;
    if (sscanf(line, "REP %255s %lu", got, &connid) == 2 &&
        strcmp(got, tag) == 0) {
        note_connid(connid);
        count(&g_ok);
        return;
    }
    if (sscanf(line, "REP %255s", got) != 1)
        snprintf(got, sizeof got, "%.200s", line);
    fprintf(stderr, "MISMATCH expected %s got %s\n", tag, got);
    count(&g_mismatch);
}

static const char *errstr(void)
{
    return errno ? strerror(errno) : "unexpected EOF";
}

/* One exchange on a fresh connection (all modes but --hold). */
static void one_cycle(int th, long cyc)
{
    char tag[128], req[160], line[512];
    snprintf(tag, sizeof tag, "%ld-%d-%ld", (long)getpid(), th, cyc);
    int n;
    if (g_mode == M_PIPELINE && (cyc % 4) == 3)
        n = snprintf(req, sizeof req, "REQ %s\nREQ %s-second\n", tag, tag);
    else
        n = snprintf(req, sizeof req, "REQ %s\n", tag);
    count(&g_total);

    int fd = open_conn();
    if (fd < 0) {
        errorf("%s: connect: %s", tag, strerror(errno));
        count(&g_errors);
        return;
    }
    if (send_req(fd, req, (size_t)n) != 0) {
        errorf("%s: send: %s", tag, strerror(errno));
        count(&g_errors);
        close(fd);
        return;
    }
    if (g_mode == M_ABANDON && (cyc % 2) == 1) {
        /* abandon: the reply to this request must never reach anyone */
        close(fd);
        count(&g_ok);
        return;
    }
    if (g_mode == M_SHUTWR && shutdown(fd, SHUT_WR) != 0) {
        errorf("%s: shutdown(SHUT_WR): %s", tag, strerror(errno));
        count(&g_errors);
        close(fd);
        return;
    }
    if (read_reply(fd, line, sizeof line) != 0) {
        errorf("%s: read: %s", tag, errstr());
        count(&g_errors);
        close(fd);
        return;
    }
    check_reply(line, tag);
    if (g_mode == M_SHUTRDWR && shutdown(fd, SHUT_RDWR) != 0) {
        errorf("%s: shutdown(SHUT_RDWR): %s", tag, strerror(errno));
        count(&g_errors);
    }
    if (close(fd) != 0) {
        errorf("%s: close: %s", tag, strerror(errno));
        count(&g_errors);
    }
}

/* --hold: open g_hold connections, exchange on each, then close them all. */
static void hold_cycle(int th, long cyc)
{
    int fds[g_hold];
    char tag[128], req[160], line[512];
    for (int i = 0; i < g_hold; i++) {
        fds[i] = -1;
        snprintf(tag, sizeof tag, "%ld-%d-%ld.%d", (long)getpid(), th, cyc, i);
        int n = snprintf(req, sizeof req, "REQ %s\n", tag);
        count(&g_total);
        int fd = open_conn();
        if (fd < 0) {
            errorf("%s: connect: %s", tag, strerror(errno));
            count(&g_errors);
            continue;
        }
        fds[i] = fd;
        if (send_req(fd, req, (size_t)n) != 0) {
            errorf("%s: send: %s", tag, strerror(errno));
            count(&g_errors);
            continue;
        }
        if (read_reply(fd, line, sizeof line) != 0) {
            errorf("%s: read: %s", tag, errstr());
            count(&g_errors);
            continue;
        }
        check_reply(line, tag);
    }
    for (int i = 0; i < g_hold; i++)
        if (fds[i] >= 0 && close(fds[i]) != 0) {
            errorf("close: %s", strerror(errno));
            count(&g_errors);
        }
}

static void *worker(void *arg)
{
    int th = (int)(long)arg;
    for (long c = 0; c < g_cycles; c++) {
        if (c > 0 && g_sleep_ms > 0)
            sleep_ms(g_sleep_ms);
        if (g_hold > 0)
            hold_cycle(th, c);
        else
            one_cycle(th, c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--allow-errors") == 0) {
            g_allow_errors = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage();
        const char *v = (i + 1 < argc) ? argv[++i] : NULL;
        if (!v)
            usage();
        if (strcmp(a, "--port") == 0)
            g_port = v;
        else if (strcmp(a, "--host") == 0)
            g_host = v;
        else if (strcmp(a, "--unix") == 0)
            g_unix = v;
        else if (strcmp(a, "--cycles") == 0)
            g_cycles = strtol(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            g_threads = atoi(v);
        else if (strcmp(a, "--sleep-ms") == 0)
            g_sleep_ms = strtol(v, NULL, 10);
        else if (strcmp(a, "--hold") == 0)
            g_hold = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            srand((unsigned)strtoul(v, NULL, 10));
        else if (strcmp(a, "--mode") == 0) {
            size_t k;
            for (k = 0; k < sizeof mode_names / sizeof mode_names[0]; k++)
                if (strcmp(v, mode_names[k]) == 0)
                    break;
            if (k == sizeof mode_names / sizeof mode_names[0]) {
                fprintf(stderr, "tagclient: unknown mode %s\n", v);
                usage();
            }
            g_mode = (enum mode)k;
        } else {
            fprintf(stderr, "tagclient: unknown option %s\n", a);
            usage();
        }
    }
    if (g_cycles < 0 || (!g_port && !g_unix) || g_threads < 1 || g_hold < 0 ||
        g_hold > 4096)
        usage();

    signal(SIGPIPE, SIG_IGN);

    if (!g_unix) {
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        int rc = getaddrinfo(g_host, g_port, &hints, &g_addrs);
        if (rc != 0) {
            fprintf(stderr, "tagclient: %s: %s\n", g_host, gai_strerror(rc));
            return 2;
        }
    }

    if (g_threads == 1) {
        worker((void *)0L);
    } else {
        pthread_t *ths = calloc((size_t)g_threads, sizeof *ths);
        if (!ths)
            return 2;
        int started = 0;
        for (int t = 0; t < g_threads; t++) {
            if (pthread_create(&ths[t], NULL, worker, (void *)(long)t) != 0) {
                fprintf(stderr, "tagclient: pthread_create failed\n");
                g_errors++;
                break;
            }
            started++;
        }
        for (int t = 0; t < started; t++)
            pthread_join(ths[t], NULL);
        free(ths);
    }

    printf("cycles=%ld ok=%ld mismatches=%ld errors=%ld conn_ids=%ld\n",
           g_total, g_ok, g_mismatch, g_errors, g_distinct);
    fflush(stdout);
    if (g_addrs)
        freeaddrinfo(g_addrs);
    free(g_seen);
    if (g_mismatch)
        return 1;
    if (g_errors && !g_allow_errors)
        return 2;
    return 0;
}
