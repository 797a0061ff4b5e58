/* socket.c - socket, connect, shutdown and setsockopt. With no
 * connection pool each is a load and a jump to the real function; connect
 * to an address no pool can match is decided by the quick reject
 * (conn_addr_maybe) in the exported function itself. conn/ does the rest. */
#include <sys/socket.h>
#include <unistd.h>

#include "../conn/conn.h"
#include "interpose.h"
#include "sys.h"

static __attribute__((noinline)) int connect_configured(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct target *t = conn_match(addr, len);
    if (!t || !guard_enter())
        return real.connect(fd, addr, len);
    int rc = conn_connect(fd, t, addr, len);
    int err = errno;
    guard_leave();
    errno = err;
    return rc;
}

OBJPOOL_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    /* the common case, decided here: an address no pool can match (see
     * conn_addr_maybe; the map is all zero when there are no pools) */
    if (likely(addr && len >= 4 && !conn_addr_maybe(addr)))
        return real.connect(fd, addr, len);
    if (likely(conn_ntargets == 0))
        return real.connect(fd, addr, len);
    return connect_configured(fd, addr, len);
}

OBJPOOL_EXPORT int socket(int domain, int type, int protocol)
{
    if (likely(conn_ntargets == 0))
        return real.socket(domain, type, protocol);
    return conn_socket(domain, type, protocol);
}

OBJPOOL_EXPORT int shutdown(int fd, int how)
{
    struct record *l = reg_get(fd);
    if (likely(!l))
        return real.shutdown(fd, how);
    if (l->kind != KIND_SOCKET || atomic_load(&l->state) != STATE_LEASED) {
        errno = l->kind == KIND_SOCKET ? EBADF : ENOTSOCK;
        return -1;
    }
    return conn_shutdown(fd, l, how);
}

OBJPOOL_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    int rc = real.setsockopt(fd, level, name, val, len);
    if (rc == 0 && conn_ntargets)
        conn_note_option(fd, level, name);
    return rc;
}


/* syscall()'s routed numbers take these bodies (interpose/sysroute.c). */
INTERNAL_ALIAS(socket);
INTERNAL_ALIAS(connect);
INTERNAL_ALIAS(shutdown);
