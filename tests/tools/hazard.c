/*
 * hazard: ownership hazards of pooled connections (issue 3), one case per
 * run.  Every case talks to a tagserver ("REQ <tag>\n" -> "REP <tag> <id>\n")
 * on 127.0.0.1:PORT, which the test configures as a pooled target.
 *
 * Usage: hazard CASE --port N [--port2 N] [--cycles N] [--cloexec]
 *
 * Cases (see tests/hazards.bats for what the report must say):
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
 *   rawclose-file        SYS_close in assembly (rawsys.h) on a lease, the number is reused
 *                        by a file, close() it
 *   rawclose-socket      ... reused by a socket to --port2 (not pooled)
 *   signal               a SIGALRM handler closes a lease (every ~50 us)
 *   signal-syscall       the same, every close syscall(SYS_close) (libuv's)
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
#include <stdarg.h>
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
#include "rawsys.h"

extern char **environ;

static int g_port, g_port2, g_cloexec;
static long g_cycles = 2000;
static int g_fail;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL [%d] %s\n", (int)getpid(), msg);
    g_fail = 1;
}

#define CHECK(cond, ...)            \
    do {                            \
        if (!(cond))                \
            failf(__VA_ARGS__);     \
    } while (0)

static void die(const char *what)
{
    fprintf(stderr, "FAIL [%d] %s: %s\n", (int)getpid(), what, strerror(errno));
    exit(1);
}

static int tcp_connect_to(int port, int flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        die("connect");
    return fd;
}

static int tcp_connect(void)
{
    return tcp_connect_to(g_port, g_cloexec ? SOCK_CLOEXEC : 0);
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
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

/* ---- 4. fork ------------------------------------------------------------------- */

static void xwrite1(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        die("sync write");
}

static void xread1(int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1) {
        failf("sync read: %s", r == 0 ? "EOF (the other side died)" : strerror(errno));
        exit(1);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void case_fork(void)
{
    /* a parked connection B and a live lease A before the fork */
    int a = tcp_connect();
    long ca = req(a, "parent-0");
    long cb;
    int idle = park_one(&cb);
    CHECK(cb != ca, "the parked connection is the lease");
    int p2c[2], c2p[2];
    if (pipe(p2c) < 0 || pipe(c2p) < 0)
        die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        printf("child_pid=%d\n", (int)getpid());
        /* the parent's idle connection is not in the child */
        CHECK(!proc_fd_exists(idle), "child has the parent's idle fd %d open", idle);
        xread1(p2c[0]); /* the parent talked on A and closed it */
        long cc = req(a, "child-1");
        CHECK(cc == ca, "child's copy of the lease talks to conn %ld, not %ld", cc, ca);
        /* replies left in flight on the shared connection */
        CHECK(send_str(a, "REQ child-2\nSLEEP 300\nREQ child-3\n") == 0, "child write: %s", strerror(errno));
        xwrite1(c2p[1], 's');
        close(a);
        /* the child's own pooled work: a miss, then a hit */
        int c = tcp_connect();
        long k1 = req(c, "child-own-1");
        CHECK(k1 != cb, "child's first connect reused the parent's idle connection %ld", cb);
        CHECK(k1 != ca, "child's first connect reused the shared lease %ld", ca);
        close(c);
        c = tcp_connect();
        long k2 = req(c, "child-own-2");
        close(c);
        printf("child_k1=%ld child_k2=%ld\n", k1, k2);
        fflush(stdout);
        exit(g_fail);
    }
    close(p2c[0]);
    close(c2p[1]);
    printf("pid=%d ca=%ld cb=%ld\n", (int)getpid(), ca, cb);
    long c = req(a, "parent-1");
    CHECK(c == ca, "parent's lease talks to conn %ld, not %ld", c, ca);
    CHECK(close(a) == 0, "parent close of the shared lease: %s", strerror(errno));
    int d = tcp_connect();
    xwrite1(p2c[1], 'g');
    xread1(c2p[0]); /* the child has written requests it will not read */
    long cd = req(d, "parent-2");
    printf("cd=%ld\n", cd);
    CHECK(cd != ca, "parent's connect after fork reused the shared connection %ld", ca);
    close(d);
    /* keep cycling while the child's SLEEP reply is in flight */
    double end = now_s() + 0.5;
    int i = 0;
    while (now_s() < end) {
        char tag[64];
        snprintf(tag, sizeof tag, "parent-loop-%d", i++);
        int e = tcp_connect();
        long ce = req(e, tag);
        CHECK(ce != ca, "cycle %d talked on the shared connection %ld", i, ca);
        close(e);
        usleep(10000);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status 0x%x)", st);
    printf("parent_cycles=%d\n", i);
}

/* ---- 5. children that inherit fds: vfork, posix_spawn(p), system, popen ---------- */

static void inheritable(int fd)
{
    if (fcntl(fd, F_SETFD, 0) < 0)
        die("F_SETFD");
}

static void case_spawn(const char *how)
{
    int a = tcp_connect();
    long ca = req(a, "before-spawn");
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
        die("pipe2");
    inheritable(go[0]);
    inheritable(done[1]);
    int is_popen = !strcmp(how, "popen"), is_system = !strcmp(how, "system");
    char script[512], cmd[600];
    /* the child waits until the parent has closed its lease and connected
     * again, then (when it has the fd) sends a request on the inherited
     * connection and never reads the reply */
    if (g_cloexec)
        snprintf(script, sizeof script, "read x <&%d; echo done >&%d", go[0],
                 is_popen ? 1 : done[1]);
    else
        snprintf(script, sizeof script, "read x <&%d; printf 'REQ child-%s\\n' >&%d; echo done >&%d",
                 go[0], how, a, is_popen ? 1 : done[1]);
    if (is_system)
        snprintf(cmd, sizeof cmd, "( %s ) &", script);
    else
        snprintf(cmd, sizeof cmd, "%s", script);
    char *argv[] = {"sh", "-c", cmd, NULL};
    pid_t pid = -1;
    FILE *pf = NULL;
    fflush(stdout);
    if (!strcmp(how, "vfork")) {
        pid = vfork();
        if (pid == 0) {
            execve("/bin/sh", argv, environ);
            _exit(127);
        }
        if (pid < 0)
            die("vfork");
    } else if (!strcmp(how, "posix_spawn")) {
        int e = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
        if (e) {
            errno = e;
            die("posix_spawn");
        }
    } else if (!strcmp(how, "posix_spawnp")) {
        int e = posix_spawnp(&pid, "sh", NULL, NULL, argv, environ);
        if (e) {
            errno = e;
            die("posix_spawnp");
        }
    } else if (is_system) {
        int st = system(cmd);
        CHECK(st == 0, "system() returned %d", st);
    } else if (is_popen) {
        pf = popen(cmd, "r");
        if (!pf)
            die("popen");
    } else {
        fprintf(stderr, "hazard: unknown spawn %s\n", how);
        exit(2);
    }
    close(go[0]);
    close(done[1]);
    CHECK(close(a) == 0, "close of the lease after spawn: %s", strerror(errno));
    int d = tcp_connect();
    xwrite1(go[1], '\n');
    char line[64] = {0};
    if (is_popen) {
        if (!fgets(line, sizeof line, pf))
            failf("popen child said nothing");
    } else {
        FILE *f = fdopen(done[0], "r");
        if (!f || !fgets(line, sizeof line, f))
            failf("child said nothing");
    }
    CHECK(!strncmp(line, "done", 4), "child said '%s'", line);
    long cd = req(d, "parent-after-spawn");
    printf("pid=%d ca=%ld cd=%ld hit=%d\n", (int)getpid(), ca, cd, ca == cd);
    /* a vfork child runs the program's code before it execs and may clear
     * FD_CLOEXEC: there even an FD_CLOEXEC lease is shared */
    int child_runs_code = !strcmp(how, "vfork");
    if (g_cloexec && !child_runs_code)
        CHECK(cd == ca, "FD_CLOEXEC lease was not reused after %s (conn %ld, then %ld)", how, ca, cd);
    else
        CHECK(cd != ca, "lease inherited by a %s child was reused (conn %ld)", how, ca);
    if (pf) {
        int st = pclose(pf);
        CHECK(st == 0, "pclose: %d", st);
    } else if (pid > 0) {
        int st;
        if (waitpid(pid, &st, 0) != pid)
            die("waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    }
    /* d stays open to exit */
}

/* ---- 6. exec ---------------------------------------------------------------------- */

static void two_cycles(const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "%s-%d", prefix, i);
        int fd = tcp_connect();
        req(fd, tag);
        close(fd);
    }
}

static void case_exec(const char *fn)
{
    two_cycles("before-exec", 2);
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    if (g_fail)
        exit(1);
    char *argv[] = {"true", NULL};
    if (!strcmp(fn, "execv"))
        execv("/bin/true", argv);
    else if (!strcmp(fn, "execve"))
        execve("/bin/true", argv, environ);
    else if (!strcmp(fn, "execvp"))
        execvp("true", argv);
    else if (!strcmp(fn, "execvpe"))
        execvpe("true", argv, environ);
    else if (!strcmp(fn, "execl"))
        execl("/bin/true", "true", (char *)NULL);
    else if (!strcmp(fn, "execlp"))
        execlp("true", "true", (char *)NULL);
    else if (!strcmp(fn, "execle"))
        execle("/bin/true", "true", (char *)NULL, environ);
    else if (!strcmp(fn, "fexecve")) {
        int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open /bin/true");
        fexecve(fd, argv, environ);
    } else {
        fprintf(stderr, "hazard: unknown exec %s\n", fn);
        exit(2);
    }
    die(fn);
}

static void case_exec_fail(void)
{
    two_cycles("before-exec", 2);
    char *argv[] = {"nonexistent", NULL};
    errno = 0;
    execv("/nonexistent/objpool-hazard", argv);
    CHECK(errno == ENOENT, "failed execv: errno %d", errno);
    two_cycles("after-exec", 3);
    printf("pid=%d\n", (int)getpid());
}

/* ---- 7. close_range, closefrom, close loops ----------------------------------------- */

static void case_close_range(const char *how)
{
    /* the program's own fds, some above, some below a live lease, and a
     * second connection parked while the lease is open */
    int f1 = open("/dev/null", O_RDONLY);
    int lease = tcp_connect();
    long cl = req(lease, "lease-in-range");
    long c1;
    int idle = park_one(&c1);
    CHECK(c1 != cl, "the parked connection is the lease");
    int f2 = open("/dev/null", O_RDONLY);
    int p[2];
    if (f1 < 0 || f2 < 0 || pipe(p) < 0)
        die("open");
    int f3 = dup2(f1, 500);
    CHECK(f3 == 500, "dup2 to 500");
    printf("idle=%d lease=%d c1=%ld cl=%ld\n", idle, lease, c1, cl);
    int cloexec = 0;
    if (!strcmp(how, "close-range")) {
        CHECK(close_range(3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
    } else if (!strcmp(how, "close-range-cloexec")) {
        CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0, "close_range CLOEXEC: %s", strerror(errno));
        cloexec = 1;
    } else if (!strcmp(how, "closefrom")) {
        closefrom(3);
    } else if (!strcmp(how, "close-loop")) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("getrlimit");
        int closed = 0;
        for (long fd = 3; fd < (long)rl.rlim_cur; fd++)
            if (close((int)fd) == 0)
                closed++;
        printf("closed=%d\n", closed);
        CHECK(closed >= 6, "the close loop closed %d fds, the program had 6 (f1 f2 lease pipe[2] 500)",
              closed);
    } else {
        fprintf(stderr, "hazard: unknown close %s\n", how);
        exit(2);
    }
    int fds[] = {f1, f2, p[0], p[1], f3, lease};
    for (unsigned i = 0; i < sizeof fds / sizeof *fds; i++) {
        int fl = fcntl(fds[i], F_GETFD);
        if (cloexec)
            CHECK(fl == FD_CLOEXEC, "fd %d after CLOSE_RANGE_CLOEXEC: F_GETFD %d (%s)", fds[i], fl,
                  fl < 0 ? strerror(errno) : "FD_CLOEXEC not set");
        else
            CHECK(fl < 0 && errno == EBADF, "fd %d still open after %s", fds[i], how);
    }
    if (cloexec) {
        /* the lease stays usable, then closes normally */
        long c = req(lease, "lease-after-cloexec");
        CHECK(c == cl, "lease now talks to conn %ld, not %ld", c, cl);
        CHECK(write(p[1], "x", 1) == 1, "pipe after CLOSE_RANGE_CLOEXEC");
        close(lease);
    }
    int fd = tcp_connect();
    long c2 = req(fd, "after-close-all");
    printf("c2=%ld\n", c2);
    CHECK(c2 == c1 || c2 == cl, "connect after %s was not a reuse (conn %ld; idle was %ld, lease %ld)", how, c2,
          c1, cl);
    CHECK(fd_is_open(fd), "new lease not open");
    close(fd);
}

/* ---- 8. a close objpool never saw ---------------------------------------------------- */

static void case_rawclose(const char *what)
{
    /* the file exists before the lease: creating it takes no fd later */
    char path[] = "/tmp/objpool-hazard-XXXXXX";
    int t = mkstemp(path);
    if (t < 0)
        die("mkstemp");
    CHECK(write(t, "hello\n", 6) == 6, "write tmp");
    close(t);
    int fd = tcp_connect();
    long c1 = -1;
    if (!strcmp(what, "file"))
        c1 = req(fd, "raw-closed");
    /* (socket: no I/O on the lease, so that a byte count cannot tell) */
    if (rawsys(SYS_close, fd, 0, 0) != 0)
        die("SYS_close");
    if (!strcmp(what, "file")) {
        int f = open(path, O_RDONLY);
        unlink(path);
        CHECK(f == fd, "file got fd %d, not the lease's number %d", f, fd);
        char buf[16] = {0};
        CHECK(read(f, buf, sizeof buf) == 6 && !memcmp(buf, "hello\n", 6), "file read '%s'", buf);
        CHECK(close(f) == 0, "close(file): %s", strerror(errno));
        CHECK(!fd_is_open(f), "file fd %d still open after close()", f);
    } else {
        int s = tcp_connect_to(g_port2, 0);
        CHECK(s == fd, "socket got fd %d, not the lease's number %d", s, fd);
        long c = req(s, "unrelated");
        CHECK(c > 0, "unrelated server reply");
        CHECK(close(s) == 0, "close(socket): %s", strerror(errno));
        CHECK(!fd_is_open(s), "socket fd %d still open after close()", s);
        unlink(path);
    }
    /* the pool must not hold that object: the next connect is a new
     * connection to the pooled server */
    int d = tcp_connect();
    long c2 = req(d, "after");
    printf("c1=%ld c2=%ld\n", c1, c2);
    /* d stays open to exit */
}

/* ---- 9. a signal handler closes a lease -------------------------------------------------- */

static volatile int g_victim = -1;
static volatile long g_handler_closes;
static int g_sysclose; /* signal-syscall: every close is syscall(SYS_close), as libuv's */

static void close_lease(int fd)
{
    if (g_sysclose)
        syscall(SYS_close, fd);
    else
        close(fd);
}

static void on_alarm(int sig)
{
    (void)sig;
    int e = errno;
    int fd = __atomic_exchange_n(&g_victim, -1, __ATOMIC_SEQ_CST);
    if (fd >= 0) {
        close_lease(fd);
        g_handler_closes++;
    }
    errno = e;
}

static void case_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        die("setitimer");
    long ok = 0, errors = 0;
    for (long i = 0; i < g_cycles; i++) {
        char tag[64];
        /* a victim lease with a complete exchange, for the handler */
        int v = tcp_connect();
        snprintf(tag, sizeof tag, "victim-%ld", i);
        if (req_soft(v, tag, 1) < 0)
            errors++;
        __atomic_store_n(&g_victim, v, __ATOMIC_SEQ_CST);
        /* the main thread's own cycles, inside objpool's pool operations
         * while the handler fires */
        for (int k = 0; k < 3; k++) {
            int fd = tcp_connect();
            snprintf(tag, sizeof tag, "main-%ld-%d", i, k);
            if (req_soft(fd, tag, 1) < 0)
                errors++;
            else
                ok++;
            close_lease(fd);
        }
        int left = __atomic_exchange_n(&g_victim, -1, __ATOMIC_SEQ_CST);
        if (left >= 0)
            close_lease(left);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("cycles=%ld ok=%ld errors=%ld handler_closes=%ld\n", g_cycles, ok, errors, g_handler_closes);
    CHECK(g_handler_closes > 0, "the handler never closed a lease");
    CHECK(ok >= g_cycles * 3 * 9 / 10, "only %ld of %ld exchanges succeeded", ok, g_cycles * 3);
}

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
    else if (!strcmp(c, "signal-syscall")) {
        g_sysclose = 1;
        case_signal();
    }
    else {
        fprintf(stderr, "hazard: unknown case %s\n", c);
        return 2;
    }
    return g_fail;
}
