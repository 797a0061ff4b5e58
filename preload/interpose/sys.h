/* sys.h - the exported syscall() (sys.c, sysroute.c) and the internal
 * names it calls the other interposers by. A routed number on an object
 * objpool owns takes the path its interposer takes: the interposer's own
 * body, reached through a hidden alias (INTERNAL_ALIAS, beside each
 * definition), so the call stays inside objpool and never goes back out
 * through the PLT. */
#ifndef OBJPOOL_SYS_H
#define OBJPOOL_SYS_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#if defined(__GNUC__) && !defined(__clang__)
#define ALIAS_COPY(name) , copy(name) /* libc's leaf/nothrow, which GCC asks for */
#else
#define ALIAS_COPY(name)
#endif
/* Under -D_FORTIFY_SOURCE (Debian's build flags) read and recvfrom are
 * declared as always-inline "artificial" wrappers too: copy() takes that
 * attribute along, which an alias cannot have, and GCC says it ignores
 * it. Ignoring it is right (the alias names the out-of-line interposer),
 * so that one warning is silenced around the declaration. */
#define INTERNAL_ALIAS(name)                                                   \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wattributes\"") \
    extern __typeof(name) ip_##name __attribute__((alias(#name), visibility("hidden") ALIAS_COPY(name))); \
    _Pragma("GCC diagnostic pop")

/* syscall()'s look-up table and next function (sys.c). */
extern unsigned char sys_route[] __attribute__((visibility("hidden")));
extern long (*sys_next)(long, ...) __attribute__((visibility("hidden")));
void sys_resolve(void);
void sys_setup(void);
/* The slow path of the trampoline: a routed number, the caller's frame. */
long sys_routed(long nr, long a, long b, long c, long d, long e, long f);

int ip_close(int fd);
int ip_close_range(unsigned int first, unsigned int last, int flags);
ssize_t ip_read(int fd, void *buf, size_t n);
ssize_t ip_write(int fd, const void *buf, size_t n);
ssize_t ip_readv(int fd, const struct iovec *iov, int cnt);
ssize_t ip_writev(int fd, const struct iovec *iov, int cnt);
ssize_t ip_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *al);
ssize_t ip_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t al);
ssize_t ip_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t ip_sendmsg(int fd, const struct msghdr *msg, int flags);
int ip_shutdown(int fd, int how);
ssize_t ip_sendfile(int out, int in, off_t *off, size_t n);
ssize_t ip_splice(int in, off_t *off_in, int out, off_t *off_out, size_t n, unsigned int flags);
int ip_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);
int ip_recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t);
int ip_dup(int fd);
int ip_dup2(int oldfd, int newfd);
int ip_dup3(int oldfd, int newfd, int flags);
int ip_fcntl(int fd, int cmd, ...);
int ip_socket(int domain, int type, int protocol);
int ip_connect(int fd, const struct sockaddr *addr, socklen_t len);
#endif
