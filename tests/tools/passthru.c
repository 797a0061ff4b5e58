/* passthru.c - does ordinary file, pipe and socket work that objpool must not
 * disturb, and prints a deterministic description of every result (no pids,
 * no ports, no paths).  Its stdout must be byte-identical with and without
 * LD_PRELOAD=libobjpool.so, and it writes nothing to stderr.
 * Exit status 0 when every step behaved as expected, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

static int g_bad;

static void check(const char *what, int cond)
{
    printf("%-40s %s\n", what, cond ? "ok" : "FAILED");
    if (!cond)
        g_bad = 1;
}

static const char *errname(int e)
{
    switch (e) {
    case 0: return "0";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTCONN: return "ENOTCONN";
    case EAGAIN: return "EAGAIN";
    case ESPIPE: return "ESPIPE";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EPIPE: return "EPIPE";
    default: return "other";
    }
}

static void report_errno(const char *what, long rc, int e)
{
    printf("%-40s rc=%ld errno=%s (%s)\n", what, rc, errname(e),
           rc < 0 ? strerror(e) : "-");
}

static void file_io(void)
{
    char path[] = "/tmp/objpool-passthru-XXXXXX";
    int fd = mkstemp(path);
    check("mkstemp", fd >= 0);
    if (fd < 0)
        return;
    const char text[] = "line one\nline two\nline three\n";
    ssize_t w = write(fd, text, sizeof text - 1);
    check("write file", w == (ssize_t)(sizeof text - 1));
    off_t off = lseek(fd, 5, SEEK_SET);
    check("lseek SEEK_SET 5", off == 5);
    char buf[64] = { 0 };
    ssize_t r = read(fd, buf, 3);
    printf("%-40s %zd \"%.*s\"\n", "read 3 at 5", r, r > 0 ? (int)r : 0, buf);
    off = lseek(fd, 0, SEEK_END);
    printf("%-40s %ld\n", "lseek SEEK_END", (long)off);
    struct stat st;
    check("fstat size", fstat(fd, &st) == 0 && st.st_size == off);
    int fd2 = dup(fd);
    check("dup", fd2 >= 0);
    check("close dup", close(fd2) == 0);
    check("close file", close(fd) == 0);

    FILE *f = fopen(path, "r");
    check("fopen", f != NULL);
    if (f) {
        int n = 0;
        while (fgets(buf, sizeof buf, f)) {
            buf[strcspn(buf, "\n")] = '\0';
            printf("fgets %d: %s\n", ++n, buf);
        }
        check("fclose", fclose(f) == 0);
    }
    f = fopen(path, "a");
    if (f) {
        fprintf(f, "line four\n");
        check("fclose append", fclose(f) == 0);
    }
    fd = open(path, O_RDONLY);
    memset(buf, 0, sizeof buf);
    r = pread(fd, buf, 9, 29);
    printf("%-40s %zd \"%.*s\"\n", "pread 9 at 29", r, r > 0 ? (int)r : 0, buf);
    close(fd);
    check("unlink", unlink(path) == 0);
    errno = 0;
    fd = open(path, O_RDONLY);
    report_errno("open removed file", fd, errno);
}

static void bad_closes(void)
{
    errno = 0;
    int rc = close(-1);
    report_errno("close(-1)", rc, errno);
    errno = 0;
    rc = close(99999);
    report_errno("close(99999)", rc, errno);
    char c;
    errno = 0;
    ssize_t r = read(99998, &c, 1);
    report_errno("read(99998)", (long)r, errno);
}

static void socketpair_io(void)
{
    int sv[2];
    check("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    const char msg[] = "ping over socketpair";
    check("send socketpair", send(sv[0], msg, sizeof msg, 0) == (ssize_t)sizeof msg);
    char buf[64] = { 0 };
    ssize_t r = recv(sv[1], buf, sizeof buf, 0);
    printf("%-40s %zd \"%s\"\n", "recv socketpair", r, buf);
    check("write back", write(sv[1], "pong", 4) == 4);
    r = read(sv[0], buf, 4);
    printf("%-40s %zd \"%.4s\"\n", "read socketpair", r, buf);
    check("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR) == 0);
    r = read(sv[1], buf, sizeof buf);
    printf("%-40s %zd\n", "read after peer SHUT_WR", r);
    errno = 0;
    int rc = shutdown(1000, SHUT_RDWR);
    report_errno("shutdown(1000)", rc, errno);
    close(sv[0]);
    close(sv[1]);
}

static void udp_io(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    check("udp socket", u >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check("udp bind", bind(u, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    getsockname(u, (struct sockaddr *)&a, &al);
    const char msg[] = "datagram";
    check("sendto self", sendto(u, msg, sizeof msg, 0, (struct sockaddr *)&a,
                                sizeof a) == (ssize_t)sizeof msg);
    char buf[64] = { 0 };
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    printf("%-40s %zd \"%s\" from-self=%s\n", "recvfrom", r, buf,
           from.sin_port == a.sin_port ? "yes" : "no");
    /* connected UDP: connect() must behave normally for datagram sockets */
    check("udp connect", connect(u, (struct sockaddr *)&a, sizeof a) == 0);
    check("udp send", send(u, "x", 1, 0) == 1);
    r = recv(u, buf, sizeof buf, 0);
    printf("%-40s %zd\n", "udp recv connected", r);
    check("udp close", close(u) == 0);
}

static void pipe_dup2(void)
{
    int p[2];
    check("pipe", pipe(p) == 0);
    int saved = dup(STDOUT_FILENO);
    fflush(stdout);
    int d = dup2(p[1], STDOUT_FILENO);
    const char m[] = "via dup2\n";
    ssize_t w = write(STDOUT_FILENO, m, sizeof m - 1);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    check("dup2 pipe->stdout", d == STDOUT_FILENO);
    printf("%-40s %zd\n", "write to dup2'd stdout", w);
    close(p[1]);
    char buf[64] = { 0 };
    ssize_t r = read(p[0], buf, sizeof buf - 1);
    buf[strcspn(buf, "\n")] = '\0';
    printf("%-40s %zd \"%s\"\n", "read pipe", r, buf);
    r = read(p[0], buf, sizeof buf);
    printf("%-40s %zd\n", "read pipe at EOF", r);
    close(p[0]);
    errno = 0;
    off_t o = lseek(p[0], 0, SEEK_SET);
    report_errno("lseek closed pipe", (long)o, errno);
    int q[2];
    check("pipe 2", pipe(q) == 0);
    errno = 0;
    o = lseek(q[0], 0, SEEK_SET);
    report_errno("lseek pipe", (long)o, errno);
    close(q[0]);
    close(q[1]);
}

static void tcp_io(void)
{
    /* A bound but not listening socket: connecting to it is refused. */
    int holder = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check("bind port holder", bind(holder, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    getsockname(holder, (struct sockaddr *)&a, &al);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    int rc = connect(c, (struct sockaddr *)&a, sizeof a);
    report_errno("connect to closed port", rc, errno);
    check("close refused socket", close(c) == 0);
    close(holder);

    /* An ordinary, unpooled TCP exchange over loopback. */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check("tcp bind", bind(l, (struct sockaddr *)&a, sizeof a) == 0);
    check("tcp listen", listen(l, 4) == 0);
    al = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &al);
    c = socket(AF_INET, SOCK_STREAM, 0);
    check("tcp connect", connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    int s = accept(l, NULL, NULL);
    check("tcp accept", s >= 0);
    check("tcp write", write(c, "hello tcp", 9) == 9);
    char buf[64] = { 0 };
    ssize_t r = read(s, buf, sizeof buf);
    printf("%-40s %zd \"%.*s\"\n", "tcp read", r, r > 0 ? (int)r : 0, buf);
    struct iovec iov[2] = { { "re", 2 }, { "ply", 3 } };
    check("tcp writev", writev(s, iov, 2) == 5);
    memset(buf, 0, sizeof buf);
    struct pollfd pfd = { c, POLLIN, 0 };
    check("tcp poll", poll(&pfd, 1, 5000) == 1);
    r = recv(c, buf, sizeof buf, 0);
    printf("%-40s %zd \"%.*s\"\n", "tcp recv", r, r > 0 ? (int)r : 0, buf);
    check("tcp close client", close(c) == 0);
    r = read(s, buf, sizeof buf);
    printf("%-40s %zd\n", "tcp read after peer close", r);
    close(s);
    close(l);
}

static void child_process(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        ssize_t w = write(fd, "x", 1);
        close(fd);
        _exit(w == 1 ? 7 : 8);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("%-40s %d\n", "child exit status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("passthru start\n");
    file_io();
    bad_closes();
    socketpair_io();
    udp_io();
    pipe_dup2();
    tcp_io();
    child_process();
    printf("passthru end: %s\n", g_bad ? "FAILURES" : "all ok");
    return g_bad ? 1 : 0;
}
