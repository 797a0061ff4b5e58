/* aroundio.c - requests written around objpool must never leave a reply for
 * the next user of the connection (issue 14, item 1).
 *
 * Usage: aroundio (--port N | --unix PATH) --method M [--rounds N]
 *
 * Methods, each a way to write on a socket that no interposed libc call
 * sees: sendfile (from a temp file), dprintf (stdio's internal write),
 * syswrite (syscall(SYS_write)), syswritev (syscall(SYS_writev)).
 *
 * Every round, against a tagserver ("REQ <tag>\n" -> "REP <tag> <id>\n",
 * "SLEEP <ms>\n" -> "REP SLEEP <id>\n"):
 *   1. normal  socket, connect, write "REQ n1-R", read the reply, close
 *   2. normal  the same with "REQ n2-R" (the clean close before it parked a
 *              connection: this one and the next connect are pool hits)
 *   3. around  socket, connect, write the request with METHOD, close
 *              without reading. Rounds cycle through four shapes: R%4 == 0
 *              "REQ a-R" closed at once, 1 "SLEEP 1" closed at once, 2
 *              "REQ a-R" and 3 "SLEEP 1" closed only once the peer has
 *              taken the bytes (SIOCOUTQ == 0, bounded wait), so that the
 *              reply is still to come when the connection is closed.
 * A last normal round follows the last around round. A normal round that
 * reads anything but its own reply (another tag, "REP SLEEP", bytes after
 * its line) counts a foreign reply and prints FOREIGN on stderr.
 *
 * Prints "method=M rounds=N normal=N ok=N foreign=N errors=N settled=N".
 * Exit 1 on any foreign reply, 2 on any other error, else 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum method { M_SENDFILE, M_DPRINTF, M_SYSWRITE, M_SYSWRITEV };

static const char *const method_names[] = {"sendfile", "dprintf", "syswrite", "syswritev"};

static int g_port;
static const char *g_unix;
static enum method g_method = M_SYSWRITE;
static long g_rounds = 1000;
static int g_tmpfd = -1;
static long n_normal, n_ok, n_foreign, n_errors, n_settled;

static void usage(void)
{
    fprintf(stderr, "usage: aroundio (--port N | --unix PATH) "
                    "--method sendfile|dprintf|syswrite|syswritev [--rounds N]\n");
    exit(2);
}

/* A new socket connected to the server, as a legacy client makes per
 * request: the connect() is the call objpool may answer from the pool.
 * -1 (counted) on failure. */
static int open_conn(void)
{
    int fd;
    int rc;
    if (g_unix) {
        struct sockaddr_un a;
        memset(&a, 0, sizeof a);
        a.sun_family = AF_UNIX;
        snprintf(a.sun_path, sizeof a.sun_path, "%s", g_unix);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        rc = connect_retry(fd, &a, sizeof a);
    } else {
        struct sockaddr_in a = loopback(g_port);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        rc = connect_retry(fd, &a, sizeof a);
    }
    if (rc < 0) {
        fprintf(stderr, "ERROR connect: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* One normal round: the reply read must be exactly "REP <tag> <id>\n" and
 * nothing after it; anything else is someone else's reply. */
static void normal_round(const char *tag)
{
    char req[64], want[64], buf[512];
    snprintf(req, sizeof req, "REQ %s\n", tag);
    int wl = snprintf(want, sizeof want, "REP %s ", tag);
    n_normal++;
    int fd = open_conn();
    if (fd < 0 || write_all(fd, req, strlen(req)) < 0) {
        n_errors++;
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t have = 0;
    char *nl = NULL;
    while (!nl && have < sizeof buf - 1) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        nl = memchr(buf, '\n', have);
    }
    buf[have] = '\0';
    if (!nl) {
        n_errors++;
        fprintf(stderr, "ERROR %s: no reply line (got '%s')\n", tag, buf);
    } else if (strncmp(buf, want, (size_t)wl) != 0 || (size_t)(nl + 1 - buf) != have) {
        n_foreign++;
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = '|';
        fprintf(stderr, "FOREIGN %s: expected '%s...' got '%s'\n", tag, want, buf);
    } else {
        n_ok++;
    }
    close(fd);
}

/* Write all of buf on fd by METHOD, none of which goes through an
 * interposed call. 0 on success. */
static int write_around(int fd, const char *buf, size_t len)
{
    ssize_t w = -1;
    switch (g_method) {
    case M_SENDFILE: {
        off_t off = 0;
        if (pwrite(g_tmpfd, buf, len, 0) != (ssize_t)len || ftruncate(g_tmpfd, (off_t)len) != 0)
            return -1;
        w = sendfile(fd, g_tmpfd, &off, len);
        break;
    }
    case M_DPRINTF:
        w = dprintf(fd, "%s", buf);
        break;
    case M_SYSWRITE:
        w = syscall(SYS_write, fd, buf, len);
        break;
    case M_SYSWRITEV: {
        struct iovec iov[2] = {{(void *)buf, 3}, {(void *)(buf + 3), len - 3}};
        w = syscall(SYS_writev, fd, iov, 2);
        break;
    }
    }
    return w == (ssize_t)len ? 0 : -1;
}

/* Wait (at most ~2 s) until the peer has taken every byte written:
 * SIOCOUTQ is what the server has not read (Unix) or not acknowledged
 * (TCP). Then the request is in the server's hands and its reply is still
 * to come. */
static void settle(int fd)
{
    for (int i = 0; i < 40000; i++) {
        int q = 0;
        if (ioctl(fd, SIOCOUTQ, &q) < 0 || q == 0) {
            n_settled++;
            return;
        }
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

/* One around round: a request the program will never read the reply of. */
static void around_round(long r)
{
    char req[64];
    if (r % 2)
        snprintf(req, sizeof req, "SLEEP 1\n");
    else
        snprintf(req, sizeof req, "REQ a-%ld\n", r);
    int fd = open_conn();
    if (fd < 0) {
        n_errors++;
        return;
    }
    if (write_around(fd, req, strlen(req)) < 0) {
        n_errors++;
        fprintf(stderr, "ERROR %s write: %s\n", method_names[g_method], strerror(errno));
    } else if (r % 4 >= 2) {
        settle(fd);
    }
    close(fd);
}

/* The temp file sendfile() copies from (unlinked at once). */
static void open_tmpfile(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/aroundio.XXXXXX", dir && *dir ? dir : "/tmp");
    g_tmpfd = mkstemp(path);
    if (g_tmpfd < 0) {
        perror("aroundio: mkstemp");
        exit(2);
    }
    unlink(path);
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
        else if (!strcmp(a, "--unix"))
            g_unix = v;
        else if (!strcmp(a, "--rounds"))
            g_rounds = atol(v);
        else if (!strcmp(a, "--method")) {
            size_t m;
            for (m = 0; m < sizeof method_names / sizeof *method_names; m++)
                if (!strcmp(v, method_names[m]))
                    break;
            if (m == sizeof method_names / sizeof *method_names)
                usage();
            g_method = (enum method)m;
        } else
            usage();
    }
    if ((!g_port && !g_unix) || g_rounds < 1)
        usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN); /* a write error is counted, not fatal */
    open_tmpfile();
    char tag[32];
    for (long r = 0; r < g_rounds; r++) {
        snprintf(tag, sizeof tag, "n1-%ld", r);
        normal_round(tag);
        snprintf(tag, sizeof tag, "n2-%ld", r);
        normal_round(tag);
        around_round(r);
    }
    normal_round("last");
    printf("method=%s rounds=%ld normal=%ld ok=%ld foreign=%ld errors=%ld settled=%ld\n",
           method_names[g_method], g_rounds, n_normal, n_ok, n_foreign, n_errors, n_settled);
    return n_foreign ? 1 : n_errors ? 2 : 0;
}
