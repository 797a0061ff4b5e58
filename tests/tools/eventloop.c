/* eventloop.c - the C programs of tests/interpose/eventloops.bats (issue 13), one case per
 * run.  Every case but "refused" talks to a tagserver ("REQ <tag>\n" ->
 * "REP <tag> <connid>\n") on 127.0.0.1:PORT, a pooled target.
 *
 * Usage: eventloop CASE --port N [--cycles N]
 *
 * Cases:
 *   rawclose     --cycles N times: socket, connect, one exchange, then
 *                syscall(SYS_close) - a close objpool never sees
 *   spawn-dup2   a SOCK_CLOEXEC lease handed to a posix_spawn child with
 *                posix_spawn_file_actions_adddup2; the parent closes its
 *                copy and makes --cycles connections while the child lives
 *   vfork-setfd  the same, the child made by vfork, which clears FD_CLOEXEC
 *                on the lease with fcntl(F_SETFD, 0) before exec
 *   refused      a non-blocking connect to PORT where nobody listens:
 *                EINPROGRESS, then SO_ERROR after POLLOUT
 *   argv0        one pooled exchange, then the program overwrites its
 *                argv[0] memory (as nginx's setproctitle does)
 *
 * Prints key=value fields on stdout (cycles= ok= errors= mismatches= as
 * tagclient does, conn ids, errno names).  A broken rule prints
 * "FAIL ..." or "MISMATCH ..." on stderr; exit status 1 if any.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

extern char **environ;

static int g_port;
static long g_cycles = 20;

/* A blocking connect to the pooled server, as a legacy client makes it. */
static int tcp_connect(int flags)
{
    return tcp_connect_to(g_port, flags);
}

/* Read one line (without '\n'); bytes after it would be someone else's
 * reply, so they are an error too. -1 on error, EOF or extra bytes. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, cap - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            *nl = '\0';
            return have == (size_t)(nl - buf) + 1 ? nl - buf : -1;
        }
        if (have >= cap - 1)
            return -1;
    }
}

/* One request/reply; returns the server's connection id, -1 on an error
 * or a reply that is not ours (printed as MISMATCH). */
static long req(int fd, const char *tag)
{
    char line[512];
    snprintf(line, sizeof line, "REQ %s\n", tag);
    if (write_all(fd, line, strlen(line)) < 0) {
        failf("write REQ %s on fd %d: %s", tag, fd, strerror(errno));
        return -1;
    }
    if (read_line(fd, line, sizeof line) < 0) {
        failf("read reply to %s on fd %d: %s", tag, fd, errno ? strerror(errno) : "EOF or extra bytes");
        return -1;
    }
    char want[300];
    int wl = snprintf(want, sizeof want, "REP %s ", tag);
    if (strncmp(line, want, (size_t)wl) != 0) {
        fprintf(stderr, "MISMATCH [%d] expected 'REP %s <id>' got '%s'\n", (int)getpid(), tag, line);
        g_fail = 1;
        return -1;
    }
    return strtol(line + wl, NULL, 10);
}

/* ---- rawclose: closes objpool never sees --------------------------------- */

/* A program (or a library inside it) that closes with the raw system call:
 * objpool must not keep treating the number as its lease, or every later
 * connection at that number goes unpooled and uncounted. */
static void case_rawclose(void)
{
    long ok = 0, errors = 0;
    for (long i = 0; i < g_cycles; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "raw-%ld", i);
        int fd = tcp_connect(0);
        if (req(fd, tag) > 0)
            ok++;
        else
            errors++;
        if (syscall(SYS_close, fd) != 0)
            die("SYS_close");
    }
    printf("cycles=%ld ok=%ld mismatches=0 errors=%ld\n", g_cycles, ok, errors);
}

/* ---- children that get a lease after they were made ------------------------ */

/* The child's shell: wait for "go", send a request on the inherited
 * connection (fd `held`), pass the reply back, then hold the connection
 * until the parent closes the go pipe. */
static void child_script(char *buf, size_t cap, int held, int go, int done)
{
    snprintf(buf, cap,
             "read x <&%d; printf 'REQ child\\n' >&%d; read reply <&%d; echo \"$reply\" >&%d; "
             "read y <&%d; exit 0",
             go, held, held, done, go);
}

/* posix_spawn: the lease is SOCK_CLOEXEC, the child gets it at fd 3 only
 * through the adddup2 file action. */
static pid_t spawn_dup2(int lease, int go, int done)
{
    char cmd[512];
    child_script(cmd, sizeof cmd, 3, go, done);
    char *argv[] = {"sh", "-c", cmd, NULL};
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0 || posix_spawn_file_actions_adddup2(&fa, lease, 3) != 0)
        die("posix_spawn_file_actions");
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        errno = e;
        die("posix_spawn");
    }
    return pid;
}

/* vfork: the lease is SOCK_CLOEXEC at vfork time; the child makes it
 * inheritable itself before exec. */
static pid_t vfork_setfd(int lease, int go, int done)
{
    char cmd[512];
    child_script(cmd, sizeof cmd, lease, go, done);
    char *argv[] = {"sh", "-c", cmd, NULL};
    pid_t pid = vfork();
    if (pid == 0) {
        if (fcntl(lease, F_SETFD, 0) < 0)
            _exit(126);
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    if (pid < 0)
        die("vfork");
    return pid;
}

/* Tell the child's shell to go on (one line on its go pipe). */
static void send_go(int fd)
{
    if (write_all(fd, "\n", 1) < 0)
        die("write go");
}

/* While the child holds the first connection, the parent closes its copy
 * and connects --cycles times: no connect may hand it that connection.
 * Then the child talks on it and must get its own reply, and the parent's
 * open connection must still get the parent's. */
static void case_spawn(const char *how)
{
    int a = tcp_connect(SOCK_CLOEXEC);
    long ca = req(a, "before-spawn");
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
        die("pipe2");
    inheritable(go[0]);
    inheritable(done[1]);
    fflush(stdout);
    pid_t pid = !strcmp(how, "spawn-dup2") ? spawn_dup2(a, go[0], done[1]) : vfork_setfd(a, go[0], done[1]);
    close(go[0]);
    close(done[1]);
    if (close(a) != 0)
        failf("close of the lease after the spawn: %s", strerror(errno));
    long reused = 0;
    for (long i = 0; i < g_cycles; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "parent-%ld", i);
        int d = tcp_connect(SOCK_CLOEXEC);
        long cd = req(d, tag);
        if (cd == ca) {
            reused++;
            failf("cycle %ld: the connection the %s child holds (conn %ld) was handed to the parent", i, how, ca);
        }
        close(d);
    }
    int d = tcp_connect(SOCK_CLOEXEC);
    long cd = req(d, "parent-held");
    send_go(go[1]);
    char line[128] = {0}, want[64];
    FILE *f = fdopen(done[0], "r");
    if (!f || !fgets(line, sizeof line, f))
        failf("the child passed no reply back");
    line[strcspn(line, "\n")] = '\0';
    snprintf(want, sizeof want, "REP child %ld", ca);
    if (strcmp(line, want))
        failf("the child's reply on its connection: '%s', expected '%s'", line, want);
    long cd2 = req(d, "parent-after-child");
    if (cd2 != cd)
        failf("the parent's open connection changed: conn %ld, then %ld", cd, cd2);
    close(go[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        failf("child status 0x%x", st);
    printf("pid=%d ca=%ld cd=%ld reused=%ld child_reply=%s\n", (int)getpid(), ca, cd, reused,
           line[0] ? "ok" : "none");
    /* d stays open to exit */
}

/* ---- refused: a connect that never succeeded -------------------------------- */

/* A non-blocking connect's failure arrives later, through SO_ERROR: objpool
 * must count it as a failed create, not as an acquired connection. */
static void case_refused(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = loopback(g_port);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int cerr = rc < 0 ? errno : 0;
    int soerr = -1;
    if (cerr == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 2000) != 1)
            failf("no POLLOUT within 2 s for a refused connect");
        socklen_t len = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            die("getsockopt SO_ERROR");
    }
    if (close(fd) != 0)
        failf("close: %s", strerror(errno));
    printf("connect_errno=%s so_error=%s\n", cerr == EINPROGRESS ? "EINPROGRESS" : strerror(cerr),
           soerr == ECONNREFUSED ? "ECONNREFUSED" : soerr < 0 ? "none" : strerror(soerr));
}

/* ---- argv0: a program that renames itself ---------------------------------- */

/* nginx and many daemons write their title over argv[0] (and what follows
 * it); glibc's program_invocation_short_name points into that memory. */
static void case_argv0(int argc, char **argv)
{
    int fd = tcp_connect(0);
    req(fd, "argv0");
    close(fd);
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
    const char *title = "renamed: worker process is shutting down";
    size_t room = (size_t)(end - start);
    memset(start, 0, room);
    snprintf(start, room, "%s", title); /* cut to the room argv had */
    printf("argv0=%s\n", argv[0]);
}

/* Exit 2: a wrong command line is the test's fault, not objpool's. */
static void usage(void)
{
    fprintf(stderr, "usage: eventloop rawclose|spawn-dup2|vfork-setfd|refused|argv0 --port N [--cycles N]\n");
    exit(2);
}

/* One case per run, so each test's report holds only that case's work. */
int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *c = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            g_port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            g_cycles = atol(argv[++i]);
        else
            usage();
    }
    if (g_port <= 0)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(c, "rawclose"))
        case_rawclose();
    else if (!strcmp(c, "spawn-dup2") || !strcmp(c, "vfork-setfd"))
        case_spawn(c);
    else if (!strcmp(c, "refused"))
        case_refused();
    else if (!strcmp(c, "argv0"))
        case_argv0(argc, argv);
    else
        usage();
    return g_fail ? 1 : 0;
}
