/* fdbudget.c - how many sockets a program can open before EMFILE, with and
 * without objpool (issue 14, item 5). objpool's own fds (idle connections,
 * spare sockets) share the program's RLIMIT_NOFILE; the test compares the
 * two counts against the idle connections the report says objpool holds.
 *
 * Usage: fdbudget --port N [--mode socket|connect] [--lower N]
 *
 * First a warm-up against a tagserver on 127.0.0.1:PORT: two cycles of
 * socket, connect, "REQ", read the reply, close (under objpool the first
 * parks a connection, the second reuses it, which leaves the second's fresh
 * socket as a spare). --lower N then sets the soft RLIMIT_NOFILE to N, below
 * the numbers objpool's fds took. Then, keeping every fd open:
 *   socket   socket(AF_INET, SOCK_STREAM, 0) until it fails
 *   connect  the same, each socket connected to PORT (the first connect
 *            may be answered from the pool)
 * Every socket() result must be a fresh unconnected stream socket below the
 * soft limit.
 *
 * One /dev/null fd is held while counting and closed after it, so that
 * objpool has an fd for its report at exit.
 *
 * Prints "mode=M opened=N fail_errno=NAME nonsock=N beyond=N connerr=N
 * warmup_errors=N limit=N idle_before=N spares_before=N" (idle_before and
 * spares_before: the connected and unconnected sockets in the fd table
 * after the warm-up, all objpool's) and exits without closing the sockets
 * (the report then shows the idle connections objpool held while
 * counting). Exit 1 if nonsock, beyond, connerr or warmup_errors is
 * non-zero.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

static int g_port, g_connect, g_lower;
static struct sockaddr_in g_addr;

static void usage(void)
{
    fprintf(stderr, "usage: fdbudget --port N [--mode socket|connect] [--lower N]\n");
    exit(2);
}

static int do_connect(int fd)
{
    return connect_retry(fd, &g_addr, sizeof g_addr);
}

/* One request/reply cycle on a new connection; 0 if the reply was ours. */
static int cycle(int n)
{
    char req[32], want[32], buf[128] = "";
    snprintf(req, sizeof req, "REQ w%d\n", n);
    int wl = snprintf(want, sizeof want, "REP w%d ", n);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    ssize_t got = 0;
    if (do_connect(fd) == 0 && write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        while (got < (ssize_t)sizeof buf - 1) {
            ssize_t r = read(fd, buf + got, sizeof buf - 1 - (size_t)got);
            if (r <= 0)
                break;
            got += r;
            if (memchr(buf, '\n', (size_t)got))
                break;
        }
    }
    close(fd);
    return got > wl && !strncmp(buf, want, (size_t)wl) && buf[got - 1] == '\n' ? 0 : -1;
}

/* A socket() result must be a socket, unconnected. */
static int fresh(int fd)
{
    struct stat st;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return 0;
    return getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 && errno == ENOTCONN;
}

/* Sockets in the fd table before counting: the program holds none then,
 * so connected ones are objpool's idle connections, unconnected ones its
 * spare sockets. */
static void census(long *connected, long *unconnected)
{
    *connected = *unconnected = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        struct stat st;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
            (*connected)++;
        else
            (*unconnected)++;
    }
    closedir(d);
}

static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "none";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    default: return strerror(e);
    }
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
        else if (!strcmp(a, "--lower"))
            g_lower = atoi(v);
        else if (!strcmp(a, "--mode") && (!strcmp(v, "socket") || !strcmp(v, "connect")))
            g_connect = !strcmp(v, "connect");
        else
            usage();
    }
    if (g_port <= 0)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    g_addr = loopback(g_port);

    /* held while counting, closed after: the exit report needs one fd */
    int reserve = open("/dev/null", O_RDONLY);
    if (reserve < 0) {
        perror("fdbudget: /dev/null");
        return 2;
    }
    int warmup_errors = 0;
    for (int n = 0; n < 2; n++)
        if (cycle(n) != 0)
            warmup_errors++;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (g_lower > 0) {
        rl.rlim_cur = (rlim_t)g_lower;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            perror("fdbudget: setrlimit");
            return 2;
        }
    }

    long idle_before, spares_before;
    census(&idle_before, &spares_before);
    long opened = 0, nonsock = 0, beyond = 0, connerr = 0;
    int fail_errno = 0;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            fail_errno = errno;
            break;
        }
        opened++;
        if ((rlim_t)fd >= rl.rlim_cur)
            beyond++;
        if (!fresh(fd))
            nonsock++;
        else if (g_connect && do_connect(fd) != 0)
            connerr++;
        if (opened > 1 << 20)
            break;
    }
    printf("mode=%s opened=%ld fail_errno=%s nonsock=%ld beyond=%ld connerr=%ld warmup_errors=%d "
           "limit=%ld idle_before=%ld spares_before=%ld\n",
           g_connect ? "connect" : "socket", opened, errno_name(fail_errno), nonsock, beyond,
           connerr, warmup_errors, (long)rl.rlim_cur, idle_before, spares_before);
    fflush(stdout);
    close(reserve);
    return nonsock || beyond || connerr || warmup_errors ? 1 : 0;
}
