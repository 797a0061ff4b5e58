/* spare.c - checks of socket recycling: after a pooled connect() reuses an
 * idle connection, the program's throwaway socket may be kept and handed
 * to the next socket() call. That socket must be indistinguishable from a
 * new one: lowest free fd, exactly the SOCK_NONBLOCK/SOCK_CLOEXEC asked for,
 * no option a previous user set, unconnected. Prints FAIL lines and exits 1
 * on any difference.
 *
 *   spare --port N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

static int failures;
static struct sockaddr_in addr;

#define CHECK(cond, ...)                      \
    do {                                      \
        if (!(cond)) {                        \
            printf("FAIL: " __VA_ARGS__);     \
            printf("\n");                     \
            failures++;                       \
        }                                     \
    } while (0)

/* One request/reply on a connected socket: a complete exchange, so the
 * close parks the connection. */
static void exchange(int fd, const char *tag)
{
    char req[64], buf[128];
    int n = snprintf(req, sizeof req, "REQ %s\n", tag);
    if (write(fd, req, (size_t)n) != n) {
        printf("FAIL: write: %s\n", strerror(errno));
        exit(1);
    }
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t r = read(fd, buf + got, 1);
        if (r <= 0) {
            printf("FAIL: read: %s\n", r ? strerror(errno) : "EOF");
            exit(1);
        }
        got++;
        if (buf[got - 1] == '\n')
            break;
    }
    buf[got] = 0;
    CHECK(strncmp(buf + 4, tag, strlen(tag)) == 0, "reply %s for %s", buf, tag);
}

static int lowest_free(void)
{
    int fd = dup(2); /* the lowest free number, as any new fd gets */
    close(fd);
    return fd;
}

/* A cycle whose connect is (after the first) a hit: its fresh socket may
 * become a spare. `opt` sets TCP_NODELAY on the fresh socket first. */
static void cycle(const char *tag, int opt)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (opt) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("FAIL: connect: %s\n", strerror(errno));
        exit(1);
    }
    exchange(fd, tag);
    close(fd);
}

static void check_fresh(const char *what, int type)
{
    int expect_fd = lowest_free();
    int fd = socket(AF_INET, SOCK_STREAM | type, 0);
    CHECK(fd == expect_fd, "%s: socket() returned fd %d, lowest free is %d", what, fd, expect_fd);
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    CHECK(!!(fl & O_NONBLOCK) == !!(type & SOCK_NONBLOCK), "%s: O_NONBLOCK is %d", what, !!(fl & O_NONBLOCK));
    CHECK(!!(fdfl & FD_CLOEXEC) == !!(type & SOCK_CLOEXEC), "%s: FD_CLOEXEC is %d", what, !!(fdfl & FD_CLOEXEC));
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l);
    CHECK(v == 0, "%s: TCP_NODELAY is %d on a new socket", what, v);
    struct sockaddr_in peer;
    l = sizeof peer;
    CHECK(getpeername(fd, (struct sockaddr *)&peer, &l) < 0 && errno == ENOTCONN, "%s: socket is connected", what);
    struct sockaddr_in local;
    l = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &l);
    CHECK(local.sin_port == 0, "%s: socket is bound", what);
    /* and it works: a pooled connect and an exchange on it */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        printf("FAIL: %s: connect: %s\n", what, strerror(errno));
        failures++;
    } else {
        if (type & SOCK_NONBLOCK)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        exchange(fd, what);
    }
    close(fd);
}

static ino_t inode_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* The program copies its fresh socket before connect: both numbers must
 * still name one socket afterwards (a swap would leave the copy on the old
 * one), and that socket must never come back from socket(). */
static void copied_before_connect(const char *what, int use_fcntl)
{
    cycle("warm-copy", 0); /* make sure an idle connection waits */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int s2 = use_fcntl ? fcntl(s, F_DUPFD, 0) : dup(s);
    ino_t ino = inode_of(s);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("FAIL: %s: connect: %s\n", what, strerror(errno));
        failures++;
        return;
    }
    CHECK(inode_of(s) == inode_of(s2), "%s: the copy names another socket than the connected fd", what);
    struct sockaddr_in peer;
    socklen_t l = sizeof peer;
    CHECK(getpeername(s2, (struct sockaddr *)&peer, &l) == 0, "%s: the copy is not connected", what);
    exchange(s, what);
    close(s2);
    close(s);
    cycle("after-copy", 0);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(inode_of(t) != ino, "%s: socket() returned the socket the program had copied", what);
    close(t);
}

/* A child forked while the program held an unconnected socket keeps a copy
 * of it: after the parent's pooled connect, socket() must not hand that
 * same socket out again (the child would share it with the next user). */
static void forked_before_connect(void)
{
    cycle("warm-fork", 0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ino_t ino = inode_of(s);
    int go[2];
    if (pipe(go) < 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0)
            _exit(1);
        _exit(0); /* held the copy of s until the parent was done */
    }
    close(go[0]);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("FAIL: fork-copy: connect: %s\n", strerror(errno));
        failures++;
    } else {
        exchange(s, "fork-copy");
    }
    close(s);
    for (int i = 0; i < 3; i++) {
        int t = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(inode_of(t) != ino, "fork-copy: socket() returned the socket a child holds");
        close(t);
    }
    if (write(go[1], "x", 1) < 0)
        failures++;
    close(go[1]);
    int st;
    waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--port")) {
        fprintf(stderr, "usage: spare --port N\n");
        return 2;
    }
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    cycle("warm", 0);     /* miss: parks one connection */
    cycle("nodelay", 1);  /* hit: its fresh socket carried an option */
    check_fresh("after-option", 0);
    cycle("plain", 0);    /* hit: its fresh socket is pristine */
    check_fresh("plain", 0);
    cycle("plain2", 0);
    check_fresh("nonblock-cloexec", SOCK_NONBLOCK | SOCK_CLOEXEC);
    cycle("plain3", 0);
    check_fresh("cloexec", SOCK_CLOEXEC);
    /* a gap in the numbering: the recycled socket takes the lowest number */
    cycle("plain4", 0);
    close(0);
    check_fresh("fd0", 0);

    /* a forked child never gets its parent's spares */
    cycle("plain5", 0);
    pid_t pid = fork();
    if (pid == 0) {
        check_fresh("child", 0);
        _exit(failures ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
    /* had the child taken a spare the parent still lists, the parent would
     * now get a socket the child connected */
    check_fresh("parent-after-child", 0);
    copied_before_connect("dup-copy", 0);
    copied_before_connect("fcntl-copy", 1);
    forked_before_connect();
    printf("%s\n", failures ? "spare: FAILED" : "spare: ok");
    return failures ? 1 : 0;
}
