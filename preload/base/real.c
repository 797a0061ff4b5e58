/* real.c - the next definitions of the interposed functions.
 *
 * Every pointer starts at a shim that makes the raw system call (or, for
 * library-only functions such as fopen, resolves the symbol on first use),
 * so an interposer never tests for NULL: calls that arrive before
 * real_resolve() - from another library's constructor, or from an
 * allocator initialising inside dlsym - still work. */
#include "real.h"

#include "export.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

int raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}
static int raw_socket(int d, int t, int p)
{
    return (int)syscall(SYS_socket, d, t, p);
}
static int raw_connect(int fd, const struct sockaddr *a, socklen_t l)
{
    return (int)syscall(SYS_connect, fd, a, l);
}
static int raw_shutdown(int fd, int how)
{
    return (int)syscall(SYS_shutdown, fd, how);
}
static int raw_setsockopt(int fd, int lv, int nm, const void *v, socklen_t l)
{
    return (int)syscall(SYS_setsockopt, fd, lv, nm, v, l);
}
static int raw_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    return (int)syscall(SYS_epoll_ctl, ep, op, fd, ev);
}
static ssize_t raw_read(int fd, void *b, size_t n)
{
    return syscall(SYS_read, fd, b, n);
}
static ssize_t raw_write(int fd, const void *b, size_t n)
{
    return syscall(SYS_write, fd, b, n);
}
static ssize_t raw_readv(int fd, const struct iovec *v, int n)
{
    return syscall(SYS_readv, fd, v, n);
}
static ssize_t raw_writev(int fd, const struct iovec *v, int n)
{
    return syscall(SYS_writev, fd, v, n);
}
static ssize_t raw_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
    return syscall(SYS_recvfrom, fd, b, n, f, a, l);
}
static ssize_t raw_recv(int fd, void *b, size_t n, int f)
{
    return raw_recvfrom(fd, b, n, f, NULL, NULL);
}
static ssize_t raw_recvmsg(int fd, struct msghdr *m, int f)
{
    return syscall(SYS_recvmsg, fd, m, f);
}
static ssize_t raw_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
    return syscall(SYS_sendto, fd, b, n, f, a, l);
}
static ssize_t raw_send(int fd, const void *b, size_t n, int f)
{
    return raw_sendto(fd, b, n, f, NULL, 0);
}
static ssize_t raw_sendmsg(int fd, const struct msghdr *m, int f)
{
    return syscall(SYS_sendmsg, fd, m, f);
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
    return (int)syscall(SYS_dup, fd);
}
static int raw_dup3(int a, int b, int f)
{
    return (int)syscall(SYS_dup3, a, b, f);
}
static int raw_dup2(int a, int b)
{
    if (a == b) /* dup3 refuses a == b; dup2 checks a is open */
        return (int)syscall(SYS_fcntl, a, F_GETFD) < 0 ? -1 : b;
    return raw_dup3(a, b, 0);
}
static int raw_fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}
static int raw_close_range(unsigned a, unsigned b, int f)
{
    return (int)syscall(SYS_close_range, a, b, f);
}
static int raw_openat(int dir, const char *p, int fl, ...)
{
    va_list ap;
    va_start(ap, fl);
    int mode = va_arg(ap, int);
    va_end(ap);
    return (int)syscall(SYS_openat, dir, p, fl, mode);
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
    return syscall(SYS_sendfile, out, in, off, n);
}
static ssize_t raw_splice(int in, off_t *oi, int out, off_t *oo, size_t n, unsigned int f)
{
    return syscall(SYS_splice, in, oi, out, oo, n, f);
}
static int raw_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int f)
{
    return (int)syscall(SYS_sendmmsg, fd, v, n, f);
}
static int raw_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t)
{
    return (int)syscall(SYS_recvmmsg, fd, v, n, f, t);
}
static int raw_flock(int fd, int op)
{
    return (int)syscall(SYS_flock, fd, op);
}

/* The next definition of a symbol after objpool's: what an interposer's
 * shim, real_resolve() and the deep-binding re-binder (conn/rebind.c)
 * look up, in this one file. */
void *real_next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Library-only functions: resolve on first use. */
static FILE *lazy_fopen(const char *p, const char *m)
{
    FILE *(*f)(const char *, const char *) = (FILE * (*)(const char *, const char *)) real_next("fopen");
    return f ? f(p, m) : NULL;
}
static FILE *lazy_fopen64(const char *p, const char *m)
{
    FILE *(*f)(const char *, const char *) = (FILE * (*)(const char *, const char *)) real_next("fopen64");
    return f ? f(p, m) : NULL;
}
static int lazy_fclose(FILE *fp)
{
    int (*f)(FILE *) = (int (*)(FILE *))real_next("fclose");
    return f ? f(fp) : EOF;
}
static int lazy_vdprintf(int fd, const char *fmt, va_list ap)
{
    int (*f)(int, const char *, va_list) = (int (*)(int, const char *, va_list))real_next("vdprintf");
    return f ? f(fd, fmt, ap) : -1;
}
static int lazy_vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    int (*f)(int, int, const char *, va_list) = (int (*)(int, int, const char *, va_list))real_next("__vdprintf_chk");
    return f ? f(fd, flag, fmt, ap) : -1;
}
static FILE *lazy_fdopen(int fd, const char *m)
{
    FILE *(*f)(int, const char *) = (FILE * (*)(int, const char *)) real_next("fdopen");
    return f ? f(fd, m) : NULL;
}
static FILE *lazy_freopen(const char *p, const char *m, FILE *fp)
{
    FILE *(*f)(const char *, const char *, FILE *) = (FILE * (*)(const char *, const char *, FILE *)) real_next("freopen");
    return f ? f(p, m, fp) : NULL;
}
static FILE *lazy_freopen64(const char *p, const char *m, FILE *fp)
{
    FILE *(*f)(const char *, const char *, FILE *) = (FILE * (*)(const char *, const char *, FILE *))
        real_next("freopen64");
    return f ? f(p, m, fp) : NULL;
}
static int lazy_fcloseall(void)
{
    int (*f)(void) = (int (*)(void))real_next("fcloseall");
    return f ? f() : EOF;
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

/* Every member starts at its shim (base/real_list.h). */
#define REAL_SHIM(name, symbol, ret, params, shim) .name = shim,
struct real_fns real = {REAL_FUNCTIONS(REAL_SHIM)};

/* Overwrite a pointer only when dlsym finds the symbol: a libc without
 * (say) closefrom keeps the shim or NULL, and the interposer checks.
 * dlopen and dlmopen go through resolve_dl, whose guard a nested call
 * from the allocator inside dlsym meets. */
static void resolve_one(void **slot, const char *symbol, void *shim)
{
    if (shim == (void *)lazy_dlopen || shim == (void *)lazy_dlmopen) {
        resolve_dl(slot, symbol, shim);
        return;
    }
    void *sym = dlsym(RTLD_NEXT, symbol);
    if (sym)
        *slot = sym;
}

/* In the list's order: close, read and write first, as an allocator
 * initialising inside dlsym may call them and the shims serve until then. */
#define REAL_LOOKUP(name, symbol, ret, params, shim) resolve_one((void **)&real.name, symbol, (void *)(shim));
void real_resolve(void)
{
    REAL_FUNCTIONS(REAL_LOOKUP)
}
