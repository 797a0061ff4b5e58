/* epoll.c - epoll_ctl. With no connection pool it is a load and a jump to
 * the real function; with pools the call is the real one, and conn/epoll.c
 * records the registration so that a swap can move it onto the pooled
 * connection and a park can take it back. poll and select need nothing:
 * they name their fds on every call. */
#include <sys/epoll.h>

#include "../conn/conn.h"
#include "interpose.h"

OBJPOOL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (likely(conn_ntargets == 0))
        return real.epoll_ctl(epfd, op, fd, ev);
    return conn_epoll_ctl(epfd, op, fd, ev);
}
