/* sysexact.c - calls syscall() the way programs do - with 0 to 6 arguments,
 * with numbers no kernel has, with bad fds, and every number objpool's
 * syscall() routes on fds objpool does not own (pipes, socket pairs, UDP
 * and TCP sockets, a file) - and prints each result and errno (errno is
 * set to a marker before each call, so a success that touched it shows).
 * Its stdout must be byte-identical with and without the preload.
 *
 *   sysexact [--port P]   P: a TCP port the test configured a pool for
 *                         (connects there meet objpool's connect path)
 *   sysexact --where      prints the object syscall() resolves to
 *   sysexact --lease P N  N redis PINGs, each on a new connection to port P
 *                         made, written, read and closed only through
 *                         syscall(), cycling through write/read,
 *                         sendto/recvfrom, writev/readv, sendmsg/recvmsg;
 *                         prints "pings=N ok=N"
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MARK 4242

static void show(const char *what, long rc)
{
    printf("%-44s rc=%ld errno=%d\n", what, rc, errno);
}

#define CALL(what, ...)                       \
    do {                                      \
        errno = MARK;                         \
        long rc_ = syscall(__VA_ARGS__);      \
        show(what, rc_);                      \
    } while (0)

/* 0..6 arguments, and numbers beyond every table. */
static void arities(void)
{
    errno = MARK;
    long pid = syscall(SYS_getpid);
    printf("%-44s %s errno=%d\n", "getpid() 0 args", pid == getpid() ? "same" : "DIFFERENT", errno);
    CALL("close(-1) 1 arg", SYS_close, -1);
    CALL("dup3(-1, 5, 0) 3 args", SYS_dup3, -1, 5, 0);
    CALL("kill(0, 0) 2 args", SYS_kill, 0, 0);
    CALL("epoll_ctl(-1, ADD, -1, NULL) 4 args", SYS_epoll_ctl, -1, EPOLL_CTL_ADD, -1, NULL);
    CALL("prctl(-1, 0, 0, 0, 0) 5 args", SYS_prctl, -1, 0, 0, 0, 0);
    /* the sixth argument matters: mmap of a file at an offset */
    char path[] = "/tmp/sysexactXXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    char page[8192];
    memset(page, 'a', 4096);
    memset(page + 4096, 'b', 4096);
    if (fd < 0 || write(fd, page, sizeof page) != (ssize_t)sizeof page)
        exit(2);
    errno = MARK;
    long m = syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    printf("%-44s %s errno=%d\n", "mmap(.., fd, 4096) 6 args", m == -1 ? "failed" : *(char *)m == 'b' ? "page b" : "page a", errno);
    CALL("mmap(.., fd, 3) 6 args, bad offset", SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 3);
    close(fd);
    CALL("number -1", -1, 1, 2, 3, 4, 5, 6);
    CALL("number 511", 511);
    CALL("number 512", 512);
    CALL("number 100000", 100000);
    CALL("number LONG_MAX", LONG_MAX);
}

/* Every routed number on one fd, with arguments that are harmless for any
 * kind of fd (zero lengths where a length is asked, NULL vectors). */
static void routed_on(const char *kind, int fd)
{
    char w[96], buf[16] = "x";
    struct iovec iov = {buf, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    struct mmsghdr mm = {.msg_hdr = msg};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
#define ON(name, ...)                                \
    do {                                             \
        snprintf(w, sizeof w, "%s %s", kind, name);  \
        CALL(w, __VA_ARGS__);                        \
    } while (0)
    ON("read", SYS_read, fd, buf, 0);
    ON("write 0", SYS_write, fd, buf, 0);
    ON("readv", SYS_readv, fd, &iov, 0);
    ON("writev 0", SYS_writev, fd, &iov, 0);
    ON("recvfrom DONTWAIT", SYS_recvfrom, fd, buf, 1, MSG_DONTWAIT, NULL, NULL);
    ON("sendto 0", SYS_sendto, fd, buf, 0, MSG_DONTWAIT, NULL, 0);
    ON("sendto addr", SYS_sendto, fd, buf, 1, MSG_DONTWAIT, &sa, sizeof sa);
    ON("sendto addr, bad len", SYS_sendto, fd, buf, 1, MSG_DONTWAIT, &sa, 1);
    ON("recvmsg DONTWAIT", SYS_recvmsg, fd, &msg, MSG_DONTWAIT);
    ON("sendmsg", SYS_sendmsg, fd, &msg, MSG_DONTWAIT);
    ON("sendmmsg", SYS_sendmmsg, fd, &mm, 1, MSG_DONTWAIT);
    ON("recvmmsg", SYS_recvmmsg, fd, &mm, 1, MSG_DONTWAIT, NULL);
    ON("shutdown(99)", SYS_shutdown, fd, 99);
    ON("sendfile(fd, -1)", SYS_sendfile, fd, -1, NULL, 1);
    ON("splice(fd, -1)", SYS_splice, fd, NULL, -1, NULL, 1, 0);
    ON("fcntl GETFL", SYS_fcntl, fd, F_GETFL);
    ON("fcntl GETOWN", SYS_fcntl, fd, F_GETOWN);
    ON("fcntl 9999", SYS_fcntl, fd, 9999);
    ON("connect AF_INET 9", SYS_connect, fd, &sa, sizeof sa);
    ON("connect len 1", SYS_connect, fd, &sa, 1);
    ON("epoll_ctl(-1, ADD, fd)", SYS_epoll_ctl, -1, EPOLL_CTL_ADD, fd, NULL);
    errno = MARK;
    long d = syscall(SYS_dup, fd);
    snprintf(w, sizeof w, "%s dup", kind);
    show(w, d);
    if (d >= 0) {
        ON("dup3 onto the copy", SYS_dup3, fd, d, O_CLOEXEC);
        ON("dup3 onto itself", SYS_dup3, fd, fd, 0);
#ifdef SYS_dup2
        ON("dup2 onto the copy", SYS_dup2, fd, d);
        ON("dup2 onto itself", SYS_dup2, fd, fd);
#endif
        ON("fcntl DUPFD 300", SYS_fcntl, fd, F_DUPFD, 300);
        ON("close 300", SYS_close, 300);
        ON("close the copy", SYS_close, d);
        ON("close the copy again", SYS_close, d);
        ON("close_range(copy, copy)", SYS_close_range, d, d, 0);
    }
#undef ON
}

/* Numbers that name no open fd: -1, a closed one, one beyond the fd
 * table, one near the top of the limit (where objpool keeps its own). */
static void bad_fds(int port)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int top = rl.rlim_cur > 4096 ? 4000 : (int)rl.rlim_cur - 2;
    const int fds[] = {-1, 777, top, 1 << 20, INT_MAX};
    char kind[32];
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) {
        snprintf(kind, sizeof kind, "badfd[%zu]", i);
        routed_on(kind, fds[i]);
        char w[64];
        snprintf(w, sizeof w, "%s close", kind);
        CALL(w, SYS_close, fds[i]);
        snprintf(w, sizeof w, "%s close_range(fd, fd)", kind);
        CALL(w, SYS_close_range, fds[i], fds[i], 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        snprintf(w, sizeof w, "%s connect to the pooled port", kind);
        CALL(w, SYS_connect, fds[i], &sa, sizeof sa);
    }
    CALL("close_range(5, 4)", SYS_close_range, 5, 4, 0);
    CALL("close_range(900, 1000, 99)", SYS_close_range, 900, 1000, 99);
}

static void kinds(int port)
{
    int p[2], sp[2];
    if (pipe(p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        exit(2);
    routed_on("pipe-r", p[0]);
    routed_on("pipe-w", p[1]);
    routed_on("unix", sp[0]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    routed_on("udp", u);
    int f = open("/dev/null", O_RDWR);
    routed_on("file", f);
    errno = MARK;
    long t = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    show("socket(AF_INET, STREAM)", t);
    routed_on("tcp", (int)t);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CALL("tcp connect to the pooled port", SYS_connect, t, &sa, sizeof sa);
    CALL("socket(99, 0, 0)", SYS_socket, 99, 0, 0);
    CALL("epoll_create1(0)", SYS_epoll_create1, 0);
    CALL("epoll_create1(-1)", SYS_epoll_create1, -1);
#ifdef SYS_epoll_create
    CALL("epoll_create(0)", SYS_epoll_create, 0);
    CALL("epoll_create(1)", SYS_epoll_create, 1);
#endif
    int fds[] = {p[0], p[1], sp[0], sp[1], u, f, (int)t};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        CALL("close", SYS_close, fds[i]);
}

/* One PING on a new connection, every call through syscall(); way picks
 * the pair of I/O numbers. 1 if +PONG came back. */
static int lease_ping(int port, int way)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || syscall(SYS_connect, fd, &sa, sizeof sa) < 0)
        return 0;
    char req[] = "PING\r\n", buf[16] = {0};
    struct iovec out = {req, 6}, in = {buf, 7};
    struct msghdr mo = {.msg_iov = &out, .msg_iovlen = 1}, mi = {.msg_iov = &in, .msg_iovlen = 1};
    long w, r;
    switch (way % 4) {
    case 0:
        w = syscall(SYS_write, fd, req, 6);
        r = syscall(SYS_read, fd, buf, 7);
        break;
    case 1:
        w = syscall(SYS_sendto, fd, req, 6, 0, NULL, 0);
        r = syscall(SYS_recvfrom, fd, buf, 7, MSG_WAITALL, NULL, NULL);
        break;
    case 2:
        w = syscall(SYS_writev, fd, &out, 1);
        r = syscall(SYS_readv, fd, &in, 1);
        break;
    default:
        w = syscall(SYS_sendmsg, fd, &mo, 0);
        r = syscall(SYS_recvmsg, fd, &mi, MSG_WAITALL);
        break;
    }
    int ok = w == 6 && r == 7 && memcmp(buf, "+PONG\r\n", 7) == 0;
    syscall(SYS_close, fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc > 3 && strcmp(argv[1], "--lease") == 0) {
        int port = atoi(argv[2]), n = atoi(argv[3]), ok = 0;
        for (int i = 0; i < n; i++)
            ok += lease_ping(port, i);
        printf("pings=%d ok=%d\n", n, ok);
        return ok == n ? 0 : 1;
    }
    if (argc > 1 && strcmp(argv[1], "--where") == 0) {
        Dl_info di;
        void *fn = dlsym(RTLD_DEFAULT, "syscall");
        printf("%s\n", fn && dladdr(fn, &di) && di.dli_fname ? di.dli_fname : "?");
        return 0;
    }
    int port = argc > 2 && strcmp(argv[1], "--port") == 0 ? atoi(argv[2]) : 9;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* EPIPE is a result like any other */
    arities();
    kinds(port);
    bad_fds(port);
    return 0;
}
