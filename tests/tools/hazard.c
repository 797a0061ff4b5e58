/* hazard.c - ownership hazards of pooled connections (issue 3), one case per
 * run.  Every case talks to a tagserver ("REQ <tag>\n" -> "REP <tag> <id>\n")
 * on 127.0.0.1:PORT, which the test configures as a pooled target.
 *
 * Usage: hazard CASE --port N [--port2 N] [--cycles N] [--cloexec]
 *
 * Cases (see tests/lease/ownership.bats for what the report must say):
 *   dup dup2 dup3 dupfd dupfd-cloexec   copy a lease, close the original,
 *                        connect again, talk through the old copy: the new
 *                        connection must be a fresh one and get its own reply
 *   dup-copy-first ...   (dup2-copy-first etc.) close the copy first, then
 *                        the original: still never parked
 *   dup2-idle dup3-idle  dup2/dup3 a pipe onto objpool's idle fd number
 *   idle-ebadf           close/read/write/fcntl of the idle fd number: EBADF
 *   scm-rights           send a lease over a socketpair, close it
 *   fork                 fork with a live lease and a parked connection
 *   vfork posix_spawn posix_spawnp system popen   a child inherits a lease
 *                        (no FD_CLOEXEC) and writes a request on it after the
 *                        parent closed it; --cloexec: the lease has
 *                        SOCK_CLOEXEC, the child does not get it
 *   exec-execv exec-execve exec-execvp exec-execvpe exec-execl exec-execlp
 *   exec-execle exec-fexecve   pooled work, then exec /bin/true
 *   exec-fail            pooled work, a failed execv, more pooled work
 *   close-range close-range-cloexec closefrom close-loop
 *   rawclose-file        syscall(SYS_close) on a lease, the number is reused
 *                        by a file, close() it
 *   rawclose-socket      ... reused by a socket to --port2 (not pooled)
 *   signal               a SIGALRM handler closes a lease (every ~50 us)
 *                        while the main thread does --cycles cycles
 *
 * Prints key=value lines on stdout (pid=, child_pid=, conn ids, hits seen).
 * A broken rule prints "FAIL ..." or "MISMATCH ..." on stderr; exit status
 * 1 if any, 0 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

extern char **environ;

static int g_port, g_port2, g_cloexec;
static long g_cycles = 2000;

#define CHECK(cond, ...)            \
    do {                            \
        if (!(cond))                \
            failf(__VA_ARGS__);     \
    } while (0)

static int tcp_connect(void)
{
    return tcp_connect_to(g_port, g_cloexec ? SOCK_CLOEXEC : 0);
}

static int send_str(int fd, const char *s)
{
    return write_all(fd, s, strlen(s));
}

/* Read one reply line (chunks, as a real client would). Returns its length
 * without '\n', -1 on error/EOF. Bytes after the newline are a reply that
 * was not ours: reported through *extra. */
static ssize_t read_line(int fd, char *buf, size_t cap, size_t *extra)
{
    size_t have = 0;
    *extra = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            *extra = have - (size_t)(nl - buf) - 1;
            *nl = '\0';
            return nl - buf;
        }
        if (have >= cap - 1)
            return -1;
    }
}

/* One request/reply. Returns the server's connection id, or -1 (a wrong
 * tag is a MISMATCH and fails the run; an I/O error fails it too unless
 * `soft`, then it is only returned). */
static long req_soft(int fd, const char *tag, int soft)
{
    char line[512];
    snprintf(line, sizeof line, "REQ %s\n", tag);
    if (send_str(fd, line) < 0) {
        if (!soft)
            failf("write REQ %s on fd %d: %s", tag, fd, strerror(errno));
        return -1;
    }
    size_t extra;
    ssize_t n = read_line(fd, line, sizeof line, &extra);
    if (n < 0) {
        if (!soft)
            failf("read reply to %s on fd %d: %s", tag, fd, errno ? strerror(errno) : "EOF");
        return -1;
    }
    char want[300];
    int wl = snprintf(want, sizeof want, "REP %s ", tag);
    if (strncmp(line, want, (size_t)wl) != 0 || extra) {
        fprintf(stderr, "MISMATCH [%d] expected 'REP %s <id>' got '%s' (%zu more bytes)\n",
                (int)getpid(), tag, line, extra);
        g_fail = 1;
        return -1;
    }
    return strtol(line + wl, NULL, 10);
}

static long req(int fd, const char *tag)
{
    return req_soft(fd, tag, 0);
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* The highest fd number open in this process (objpool's idle connections
 * live near the top of RLIMIT_NOFILE). */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("opendir /proc/self/fd");
    int self = dirfd(d), hi = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd != self && fd > hi)
            hi = fd;
    }
    closedir(d);
    return hi;
}

static int proc_fd_exists(int fd)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    return access(p, F_OK) == 0;
}

/* A connection the pool parks: connect, one exchange, close. Returns the
 * fd number it was parked at (the highest open fd afterwards). */
static int park_one(long *connid)
{
    int before = highest_fd();
    int fd = tcp_connect();
    *connid = req(fd, "park-0");
    if (close(fd) != 0)
        failf("close of a clean lease: %s", strerror(errno));
    int idle = highest_fd();
    CHECK(idle > before && idle > fd, "no idle fd appeared after a clean close (highest fd %d, before %d)",
          idle, before);
    printf("idle_fd=%d\n", idle);
    return idle;
}

/* ---- 1. dup family --------------------------------------------------------- */

static int make_copy(const char *how, int fd)
{
    int target = fd + 20;
    if (!strcmp(how, "dup"))
        return dup(fd);
    if (!strcmp(how, "dup2"))
        return dup2(fd, target);
    if (!strcmp(how, "dup3"))
        return dup3(fd, target, O_CLOEXEC);
    if (!strcmp(how, "dupfd"))
        return fcntl(fd, F_DUPFD, 10);
    if (!strcmp(how, "dupfd-cloexec"))
        return fcntl(fd, F_DUPFD_CLOEXEC, 10);
    fprintf(stderr, "hazard: unknown copy %s\n", how);
    exit(2);
}

static void case_dup(const char *how, int copy_first)
{
    int fd = tcp_connect();
    long c1 = req(fd, "first");
    int copy = make_copy(how, fd);
    if (copy < 0)
        die(how);
    CHECK(copy != fd, "%s returned the same number", how);
    /* the copy is the same connection (no I/O on it yet: bytes that went
     * around objpool would make it discard for another reason) */
    struct stat s1, s2;
    CHECK(fstat(fd, &s1) == 0 && fstat(copy, &s2) == 0 && s1.st_ino == s2.st_ino,
          "%s made no copy of the socket", how);
    if (copy_first) {
        if (close(copy) != 0)
            failf("close copy: %s", strerror(errno));
        if (close(fd) != 0)
            failf("close lease: %s", strerror(errno));
    } else {
        if (close(fd) != 0)
            failf("close lease: %s", strerror(errno));
    }
    int fd2 = tcp_connect();
    if (!copy_first) {
        /* the old owner still holds the copy and sends on it: its reply
         * must not reach the new connection */
        CHECK(send_str(copy, "REQ stale-copy\n") == 0, "write on the copy: %s", strerror(errno));
    }
    long c2 = req(fd2, "second");
    printf("c1=%ld c2=%ld\n", c1, c2);
    CHECK(c2 != c1, "connect after closing a shared lease reused it (server conn %ld)", c1);
    if (!copy_first)
        close(copy);
    /* fd2 stays open to exit: nothing else is parked */
}

/* ---- 2. dup2/dup3 onto an idle fd number ------------------------------------ */

static void case_dup_idle(const char *how)
{
    long c1;
    int idle = park_one(&c1);
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    int r = !strcmp(how, "dup2") ? dup2(p[1], idle) : dup3(p[1], idle, O_CLOEXEC);
    CHECK(r == idle, "%s(pipe, %d) returned %d (%s)", how, idle, r, r < 0 ? strerror(errno) : "");
    if (!strcmp(how, "dup3"))
        CHECK(fcntl(idle, F_GETFD) == FD_CLOEXEC, "dup3(O_CLOEXEC): FD_CLOEXEC not set on %d", idle);
    else
        CHECK(fcntl(idle, F_GETFD) == 0, "dup2: FD_CLOEXEC set on %d", idle);
    /* the number is the program's pipe now */
    CHECK(write(idle, "hello\n", 6) == 6, "write through %d: %s", idle, strerror(errno));
    char buf[64] = {0};
    CHECK(read(p[0], buf, sizeof buf) == 6 && !memcmp(buf, "hello\n", 6), "pipe got '%s'", buf);

    /* pooling still works while the program holds that number */
    int fd2 = tcp_connect();
    long c2 = req(fd2, "after-dup");
    printf("c1=%ld c2=%ld hit=%d\n", c1, c2, c1 == c2);
    CHECK(write(idle, "again\n", 6) == 6, "write through %d after connect: %s", idle, strerror(errno));
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 6 && !memcmp(buf, "again\n", 6), "pipe got '%s' after connect", buf);
    CHECK(close(fd2) == 0, "close lease: %s", strerror(errno));

    /* the program's close of that number really closes its pipe */
    CHECK(close(p[1]) == 0, "close pipe write end");
    CHECK(close(idle) == 0, "close(%d) of the program's pipe: %s", idle, strerror(errno));
    CHECK(!fd_is_open(idle), "fd %d still open after close", idle);
    CHECK(read(p[0], buf, sizeof buf) == 0, "pipe has no EOF: a write end is still open");
    close(p[0]);

    int fd3 = tcp_connect();
    long c3 = req(fd3, "after-close");
    printf("c3=%ld hit=%d\n", c3, c3 == c2);
    close(fd3);
}

static void case_idle_ebadf(void)
{
    long c1;
    int idle = park_one(&c1);
    char b[8];
    errno = 0;
    CHECK(close(idle) == -1 && errno == EBADF, "close(idle %d): want EBADF, got %s", idle, strerror(errno));
    errno = 0;
    CHECK(read(idle, b, 1) == -1 && errno == EBADF, "read(idle): want EBADF, got %s", strerror(errno));
    errno = 0;
    CHECK(write(idle, "REQ x\n", 6) == -1 && errno == EBADF, "write(idle): want EBADF, got %s", strerror(errno));
    errno = 0;
    CHECK(fcntl(idle, F_GETFD) == -1 && errno == EBADF, "fcntl(idle, F_GETFD): want EBADF, got %s",
          strerror(errno));
    errno = 0;
    CHECK(dup(idle) == -1 && errno == EBADF, "dup(idle): want EBADF, got %s", strerror(errno));
    int fd = tcp_connect();
    long c2 = req(fd, "after");
    printf("c1=%ld c2=%ld\n", c1, c2);
    CHECK(c2 == c1, "the idle connection was not reused after the program poked it (%ld vs %ld)", c2, c1);
    close(fd);
}

/* ---- 3. SCM_RIGHTS ----------------------------------------------------------- */

static void send_fd(int sock, int fd)
{
    char data = 'x';
    struct iovec iov = {&data, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &m, 0) != 1)
        die("sendmsg SCM_RIGHTS");
}

static int recv_fd(int sock)
{
    char data;
    struct iovec iov = {&data, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    if (recvmsg(sock, &m, 0) != 1)
        die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS) {
        failf("no SCM_RIGHTS received");
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void case_scm_rights(void)
{
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        die("socketpair");
    int fd = tcp_connect();
    long c1 = req(fd, "first");
    send_fd(sp[0], fd);
    int got = recv_fd(sp[1]); /* "the other process" */
    CHECK(close(fd) == 0, "close lease: %s", strerror(errno));
    int fd2 = tcp_connect();
    CHECK(send_str(got, "REQ stale-passed\n") == 0, "write on the passed fd: %s", strerror(errno));
    long c2 = req(fd2, "second");
    printf("c1=%ld c2=%ld\n", c1, c2);
    CHECK(c2 != c1, "connect after closing a passed lease reused it (server conn %ld)", c1);
    close(got);
}

#include "hazard/inherit.c"

/* ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hazard CASE --port N [--port2 N] [--cycles N] [--cloexec]\n");
        return 2;
    }
    const char *c = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            g_port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--port2") && i + 1 < argc)
            g_port2 = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            g_cycles = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cloexec"))
            g_cloexec = 1;
        else {
            fprintf(stderr, "hazard: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!g_port) {
        fprintf(stderr, "hazard: --port is required\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    size_t n = strlen(c);
    if (!strcmp(c, "dup") || !strcmp(c, "dup2") || !strcmp(c, "dup3") || !strcmp(c, "dupfd") ||
        !strcmp(c, "dupfd-cloexec"))
        case_dup(c, 0);
    else if (n > 11 && !strcmp(c + n - 11, "-copy-first")) {
        char how[32];
        snprintf(how, sizeof how, "%.*s", (int)(n - 11), c);
        case_dup(how, 1);
    } else if (!strcmp(c, "dup2-idle") || !strcmp(c, "dup3-idle")) {
        char how[8];
        snprintf(how, sizeof how, "%.4s", c);
        case_dup_idle(how);
    } else if (!strcmp(c, "idle-ebadf"))
        case_idle_ebadf();
    else if (!strcmp(c, "scm-rights"))
        case_scm_rights();
    else if (!strcmp(c, "fork"))
        case_fork();
    else if (!strcmp(c, "vfork") || !strcmp(c, "posix_spawn") || !strcmp(c, "posix_spawnp") ||
             !strcmp(c, "system") || !strcmp(c, "popen"))
        case_spawn(c);
    else if (!strcmp(c, "exec-fail"))
        case_exec_fail();
    else if (!strncmp(c, "exec-", 5))
        case_exec(c + 5);
    else if (!strcmp(c, "close-range") || !strcmp(c, "close-range-cloexec") || !strcmp(c, "closefrom") ||
             !strcmp(c, "close-loop"))
        case_close_range(c);
    else if (!strcmp(c, "rawclose-file"))
        case_rawclose("file");
    else if (!strcmp(c, "rawclose-socket"))
        case_rawclose("socket");
    else if (!strcmp(c, "signal"))
        case_signal();
    else {
        fprintf(stderr, "hazard: unknown case %s\n", c);
        return 2;
    }
    return g_fail;
}
