/* real.c - the next definitions of the interposed functions.
 *
 * Every pointer starts at a shim that makes the raw system call (or, for
 * library-only functions such as fopen, resolves the symbol on first use),
 * so an interposer never tests for NULL: calls that arrive before
 * real_resolve() - from another library's constructor, or from an
 * allocator initialising inside dlsym - still work. */
#include "real.h"

#include "export.h"
#include "raw.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

int raw_close(int fd)
{
    return (int)raw_syscall(SYS_close, fd);
}
static int raw_socket(int d, int t, int p)
{
    return (int)raw_syscall(SYS_socket, d, t, p);
}
static int raw_connect(int fd, const struct sockaddr *a, socklen_t l)
{
    return (int)raw_syscall(SYS_connect, fd, a, l);
}
static int raw_shutdown(int fd, int how)
{
    return (int)raw_syscall(SYS_shutdown, fd, how);
}
static int raw_setsockopt(int fd, int lv, int nm, const void *v, socklen_t l)
{
    return (int)raw_syscall(SYS_setsockopt, fd, lv, nm, v, l);
}
static int raw_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    return (int)raw_syscall(SYS_epoll_ctl, ep, op, fd, ev);
}
static int raw_epoll_create1(int flags)
{
    return (int)raw_syscall(SYS_epoll_create1, flags);
}
static int raw_epoll_create(int size)
{
    if (size <= 0) { /* the kernel's check; aarch64 has only epoll_create1 */
        errno = EINVAL;
        return -1;
    }
    return raw_epoll_create1(0);
}
static ssize_t raw_read(int fd, void *b, size_t n)
{
    return raw_syscall(SYS_read, fd, b, n);
}
static ssize_t raw_write(int fd, const void *b, size_t n)
{
    return raw_syscall(SYS_write, fd, b, n);
}
static ssize_t raw_readv(int fd, const struct iovec *v, int n)
{
    return raw_syscall(SYS_readv, fd, v, n);
}
static ssize_t raw_writev(int fd, const struct iovec *v, int n)
{
    return raw_syscall(SYS_writev, fd, v, n);
}
static ssize_t raw_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
    return raw_syscall(SYS_recvfrom, fd, b, n, f, a, l);
}
static ssize_t raw_recv(int fd, void *b, size_t n, int f)
{
    return raw_recvfrom(fd, b, n, f, NULL, NULL);
}
static ssize_t raw_recvmsg(int fd, struct msghdr *m, int f)
{
    return raw_syscall(SYS_recvmsg, fd, m, f);
}
static ssize_t raw_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
    return raw_syscall(SYS_sendto, fd, b, n, f, a, l);
}
static ssize_t raw_send(int fd, const void *b, size_t n, int f)
{
    return raw_sendto(fd, b, n, f, NULL, 0);
}
static ssize_t raw_sendmsg(int fd, const struct msghdr *m, int f)
{
    return raw_syscall(SYS_sendmsg, fd, m, f);
}
static ssize_t raw_read_chk(int fd, void *b, size_t n, size_t bl)
{
    (void)bl;
    return raw_read(fd, b, n);
}
static ssize_t raw_recv_chk(int fd, void *b, size_t n, size_t bl, int f)
{
    (void)bl;
    return raw_recv(fd, b, n, f);
}
static ssize_t raw_recvfrom_chk(int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a, socklen_t *l)
{
    (void)bl;
    return raw_recvfrom(fd, b, n, f, a, l);
}
static int raw_dup(int fd)
{
    return (int)raw_syscall(SYS_dup, fd);
}
static int raw_dup3(int a, int b, int f)
{
    return (int)raw_syscall(SYS_dup3, a, b, f);
}
static int raw_dup2(int a, int b)
{
    if (a == b) /* dup3 refuses a == b; dup2 checks a is open */
        return (int)raw_syscall(SYS_fcntl, a, F_GETFD) < 0 ? -1 : b;
    return raw_dup3(a, b, 0);
}
static int raw_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return (int)raw_syscall(SYS_fcntl, fd, cmd, arg);
}
static int raw_close_range(unsigned a, unsigned b, int f)
{
    return (int)raw_syscall(SYS_close_range, a, b, f);
}
static int raw_openat(int dir, const char *p, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    int mode = va_arg(ap, int);
    va_end(ap);
    return (int)raw_syscall(SYS_openat, dir, p, fl, mode);
}
static int raw_open(const char *p, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    int mode = va_arg(ap, int);
    va_end(ap);
    return raw_openat(AT_FDCWD, p, fl, mode);
}
static int raw_open_2(const char *p, int fl)
{
    return raw_openat(AT_FDCWD, p, fl, 0);
}
static int raw_openat_2(int dir, const char *p, int fl)
{
    return raw_openat(dir, p, fl, 0);
}

static ssize_t raw_sendfile(int out, int in, off_t *off, size_t n)
{
    return raw_syscall(SYS_sendfile, out, in, off, n);
}
static ssize_t raw_splice(int in, off_t *oi, int out, off_t *oo, size_t n, unsigned int f)
{
    return raw_syscall(SYS_splice, in, oi, out, oo, n, f);
}
static int raw_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int f)
{
    return (int)raw_syscall(SYS_sendmmsg, fd, v, n, f);
}
static int raw_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
    return (int)raw_syscall(SYS_recvmmsg, fd, v, n, f, t);
}

/* Library-only functions: resolve on first use. */
static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}
static FILE *lazy_fopen(const char *p, const char *m)
{
    FILE *(*f)(const char *, const char *) = (FILE * (*)(const char *, const char *)) next("fopen");
    return f ? f(p, m) : NULL;
}
static FILE *lazy_fopen64(const char *p, const char *m)
{
    FILE *(*f)(const char *, const char *) = (FILE * (*)(const char *, const char *)) next("fopen64");
    return f ? f(p, m) : NULL;
}
static int lazy_fclose(FILE *fp)
{
    int (*f)(FILE *) = (int (*)(FILE *))next("fclose");
    return f ? f(fp) : EOF;
}
static int lazy_vdprintf(int fd, const char *fmt, va_list ap)
{
    int (*f)(int, const char *, va_list) = (int (*)(int, const char *, va_list))next("vdprintf");
    return f ? f(fd, fmt, ap) : -1;
}
static int lazy_vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    int (*f)(int, int, const char *, va_list) = (int (*)(int, int, const char *, va_list))next("__vdprintf_chk");
    return f ? f(fd, flag, fmt, ap) : -1;
}
static FILE *lazy_fdopen(int fd, const char *m)
{
    FILE *(*f)(int, const char *) = (FILE * (*)(int, const char *)) next("fdopen");
    return f ? f(fd, m) : NULL;
}
static pid_t lazy_fork(void)
{
    pid_t (*f)(void) = (pid_t(*)(void))next("fork");
    return f ? f() : -1;
}

/* dlopen and dlmopen: resolved with dlsym once, on first use (which may
 * come before real_resolve(), from a constructor that ran before ours) or
 * at start-up. dlsym may call the allocator, and an allocator that called
 * dlopen meanwhile on this thread would come back here: that nested call
 * fails (NULL) instead of recursing. */
static __thread int dl_resolving __attribute__((tls_model("initial-exec")));

static void *resolve_dl(void **slot, const char *name, void *shim)
{
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (fn != shim || dl_resolving)
        return fn != shim ? fn : NULL;
    dl_resolving = 1;
    fn = dlsym(RTLD_NEXT, name);
    dl_resolving = 0;
    if (fn)
        __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    return fn;
}

/* The shims jump on (TAIL_CALL): the real function must see the
 * program's return address, not objpool's. */
static void *lazy_dlopen(const char *file, int mode);
static void *lazy_dlmopen(Lmid_t ns, const char *file, int mode);

TAIL_CALLER static void *lazy_dlopen(const char *file, int mode)
{
    void *(*fn)(const char *, int) =
        (void *(*)(const char *, int))resolve_dl((void **)&real.dlopen, "dlopen", (void *)lazy_dlopen);
    if (!fn)
        return NULL;
    TAIL_CALL return fn(file, mode);
}

TAIL_CALLER static void *lazy_dlmopen(Lmid_t ns, const char *file, int mode)
{
    void *(*fn)(Lmid_t, const char *, int) = (void *(*)(Lmid_t, const char *, int))resolve_dl(
        (void **)&real.dlmopen, "dlmopen", (void *)lazy_dlmopen);
    if (!fn)
        return NULL;
    TAIL_CALL return fn(ns, file, mode);
}

struct real_fns real = {
    .close = raw_close, .socket = raw_socket, .connect = raw_connect, .shutdown = raw_shutdown,
    .setsockopt = raw_setsockopt, .epoll_ctl = raw_epoll_ctl,
    .epoll_create = raw_epoll_create, .epoll_create1 = raw_epoll_create1, .read = raw_read, .write = raw_write, .readv = raw_readv,
    .writev = raw_writev, .recv = raw_recv, .recvfrom = raw_recvfrom, .recvmsg = raw_recvmsg,
    .send = raw_send, .sendto = raw_sendto, .sendmsg = raw_sendmsg, .read_chk = raw_read_chk,
    .recv_chk = raw_recv_chk, .recvfrom_chk = raw_recvfrom_chk, .dup = raw_dup, .dup2 = raw_dup2,
    .dup3 = raw_dup3, .fcntl = raw_fcntl, .fcntl64 = raw_fcntl, .close_range = raw_close_range,
    .fork = lazy_fork, .fopen = lazy_fopen, .fopen64 = lazy_fopen64, .fclose = lazy_fclose,
    .open = raw_open, .open64 = raw_open, .openat = raw_openat, .openat64 = raw_openat,
    .open_2 = raw_open_2, .open64_2 = raw_open_2, .openat_2 = raw_openat_2, .openat64_2 = raw_openat_2,
    .sendfile = raw_sendfile, .sendfile64 = raw_sendfile, .splice = raw_splice, .sendmmsg = raw_sendmmsg,
    .recvmmsg = raw_recvmmsg, .vdprintf = lazy_vdprintf, .vdprintf_chk = lazy_vdprintf_chk, .fdopen = lazy_fdopen,
    .dlopen = lazy_dlopen, .dlmopen = lazy_dlmopen,
};

/* Overwrite a pointer only when dlsym finds the symbol: a libc without
 * (say) closefrom keeps the shim or NULL, and the interposer checks. */
#define RESOLVE(field, name)                 \
    do {                                     \
        void *sym_ = dlsym(RTLD_NEXT, name); \
        if (sym_)                            \
            *(void **)&real.field = sym_;    \
    } while (0)

void real_resolve(void)
{
    /* close/read/write first: an allocator initialising inside dlsym may
     * call them, and the shims serve until then. */
    RESOLVE(close, "close");
    RESOLVE(read, "read");
    RESOLVE(write, "write");
    RESOLVE(socket, "socket");
    RESOLVE(connect, "connect");
    RESOLVE(shutdown, "shutdown");
    RESOLVE(setsockopt, "setsockopt");
    RESOLVE(epoll_ctl, "epoll_ctl");
    RESOLVE(epoll_create, "epoll_create");
    RESOLVE(epoll_create1, "epoll_create1");
    RESOLVE(readv, "readv");
    RESOLVE(writev, "writev");
    RESOLVE(recv, "recv");
    RESOLVE(recvfrom, "recvfrom");
    RESOLVE(recvmsg, "recvmsg");
    RESOLVE(send, "send");
    RESOLVE(sendto, "sendto");
    RESOLVE(sendmsg, "sendmsg");
    RESOLVE(read_chk, "__read_chk");
    RESOLVE(recv_chk, "__recv_chk");
    RESOLVE(recvfrom_chk, "__recvfrom_chk");
    RESOLVE(dup, "dup");
    RESOLVE(dup2, "dup2");
    RESOLVE(dup3, "dup3");
    RESOLVE(fcntl, "fcntl");
    RESOLVE(fcntl64, "fcntl64");
    RESOLVE(close_range, "close_range");
    RESOLVE(closefrom, "closefrom");
    RESOLVE(fork, "fork");
    RESOLVE(vfork, "vfork");
    RESOLVE(posix_spawn, "posix_spawn");
    RESOLVE(posix_spawnp, "posix_spawnp");
    RESOLVE(system, "system");
    RESOLVE(popen, "popen");
    RESOLVE(execve, "execve");
    RESOLVE(execv, "execv");
    RESOLVE(execvp, "execvp");
    RESOLVE(execvpe, "execvpe");
    RESOLVE(fexecve, "fexecve");
    RESOLVE(fopen, "fopen");
    RESOLVE(fopen64, "fopen64");
    RESOLVE(fclose, "fclose");
    RESOLVE(open, "open");
    RESOLVE(open64, "open64");
    RESOLVE(openat, "openat");
    RESOLVE(openat64, "openat64");
    RESOLVE(open_2, "__open_2");
    RESOLVE(open64_2, "__open64_2");
    RESOLVE(openat_2, "__openat_2");
    RESOLVE(openat64_2, "__openat64_2");
    RESOLVE(sendfile, "sendfile");
    RESOLVE(sendfile64, "sendfile64");
    RESOLVE(splice, "splice");
    RESOLVE(sendmmsg, "sendmmsg");
    RESOLVE(recvmmsg, "recvmmsg");
    RESOLVE(vdprintf, "vdprintf");
    RESOLVE(vdprintf_chk, "__vdprintf_chk");
    RESOLVE(fdopen, "fdopen");
    resolve_dl((void **)&real.dlopen, "dlopen", (void *)lazy_dlopen);
    resolve_dl((void **)&real.dlmopen, "dlmopen", (void *)lazy_dlmopen);
}
