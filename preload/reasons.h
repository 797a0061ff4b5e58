/* reasons.h - why the preload discards an object. The generic reasons
 * (full, expired, max_lifetime, ...) come from objpool.h; these follow. */
#ifndef OBJPOOL_REASONS_H
#define OBJPOOL_REASONS_H

#include "objpool.h"

enum preload_reason {
    REASON_STALE_EOF = OBJPOOL_DISCARD_USER, /* the peer closed or hung up */
    REASON_UNREAD_DATA,      /* bytes the program never read */
    REASON_ABANDONED,        /* a request written and not answered, or unsent bytes */
    REASON_UNOBSERVED_IO,    /* I/O went around objpool (counters disagree) */
    REASON_HALF_CLOSED,      /* shutdown(SHUT_RD/SHUT_WR), or a real SHUT_RDWR */
    REASON_NOT_SAME_SOCKET,  /* the fd no longer names the object (closed behind us) */
    REASON_ERROR,            /* an error on the object, or in objpool's own calls */
    REASON_SHARED,           /* dup'd, inherited by a child, or sent to another process */
    REASON_CHECK_FAILED,     /* the check= probe got no or the wrong reply */
    REASON_CHANGED_ON_DISK,  /* the path names another file now */
    REASON_INTERRUPTED,      /* closed from a signal handler inside objpool */
    REASON_UNPOOLABLE,       /* a FILE the program made unpoolable (setvbuf, wide) */
    REASON_MAX_USES,         /* served max_uses leases: the server would close it next */
};

const char *reason_name(int reason);
#endif
