/* sockpool.h - pooled connections: TCP and Unix stream sockets.
 * The acquire/release rules are shared/design.md §3; sockpool.c says how. */
#ifndef OBJPOOL_SOCKPOOL_H
#define OBJPOOL_SOCKPOOL_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "registry.h"

extern int sock_ntargets __attribute__((visibility("hidden")));

/* connect()'s quick reject: a byte per TCP port, non-zero when some target
 * uses it, indexed by the port as stored (network order) so the test needs
 * no byte swap. All zero when no pool is configured. 64 KiB of .bss: pages
 * never written stay the shared zero page. */
extern uint8_t sock_port_map[65536] __attribute__((visibility("hidden")));

/* May an AF_INET/AF_INET6 address be configured? sin_port and sin6_port
 * sit at the same offset. */
static inline int sockpool_port_maybe(const struct sockaddr *a)
{
    return sock_port_map[((const struct sockaddr_in *)(const void *)a)->sin_port];
}

int sockpool_setup(struct config *cfg);
/* The target for this address, or NULL: the pass-through test of connect. */
struct target *sockpool_match(const struct sockaddr *addr, socklen_t len);
int sockpool_connect(int fd, struct target *t, const struct sockaddr *addr, socklen_t len);
/* The program closes a lease whose slot the caller has claimed. */
int sockpool_close(int fd, struct lease *l);
int sockpool_shutdown(int fd, struct lease *l, int how);
/* A socket option the program set on fd (any fd). */
void sockpool_note_option(int fd, int level, int optname);
/* Around every program I/O call on a lease. io_begin returns 1 when the
 * call must not reach the kernel (*result and errno are set). */
int sockpool_io_begin(struct lease *l, int is_write, int flags, ssize_t *result);
void sockpool_io_end(struct lease *l, int is_write, int flags, ssize_t n, int err);
/* Discard a lease closed where no lock may be taken (signal handler). */
void sockpool_close_unlocked(int fd, struct lease *l, int *rc);
void sockpool_prewarm(void);
/* socket() while TCP pools exist: hand out a recycled spare socket when one
 * fits, else the real call. */
int sockpool_socket(int domain, int type, int protocol);
/* A forked child: forget the spare list (its fds are closed with the idle ones). */
void sockpool_after_fork_child(void);
#endif
