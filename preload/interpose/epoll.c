/* epoll.c - epoll_ctl, epoll_create and epoll_create1. With no connection
 * pool each is a load and a jump to the real function; with pools the
 * call is the real one, and conn/epoll.c records the registration (so that
 * a swap can move it onto the pooled connection and a park can take it
 * back) and the epoll instance (so that a park can take the connection out
 * of every set, also one it was put in through io_uring, which no
 * interposer sees). poll and select need nothing: they name their fds on
 * every call. */
#include <sys/epoll.h>

#include "../conn/conn.h"
#include "interpose.h"

OBJPOOL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (likely(conn_ntargets == 0))
        return real.epoll_ctl(epfd, op, fd, ev);
    return conn_epoll_ctl(epfd, op, fd, ev);
}

OBJPOOL_EXPORT int epoll_create1(int flags)
{
    int ep = real.epoll_create1(flags);
    if (conn_ntargets && ep >= 0)
        conn_epoll_created(ep);
    return ep;
}

OBJPOOL_EXPORT int epoll_create(int size)
{
    int ep = real.epoll_create(size);
    if (conn_ntargets && ep >= 0)
        conn_epoll_created(ep);
    return ep;
}
