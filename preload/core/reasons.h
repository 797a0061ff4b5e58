/* reasons.h - why the preload discards an object: the codes, their names
 * and the order the report lists them in, all in reasons.c. The preload's
 * reasons extend the generic pool's (full, expired, max_lifetime, ...;
 * objpool.h), so they sit beside it. */
#ifndef OBJPOOL_REASONS_H
#define OBJPOOL_REASONS_H

#include "objpool.h"

enum preload_reason {
    REASON_STALE_EOF = OBJPOOL_DISCARD_USER, /* the peer closed or hung up */
    REASON_UNREAD_DATA,      /* bytes the program never read */
    REASON_ABANDONED,        /* a request written and not answered, or unsent bytes */
    REASON_UNOBSERVED_IO,    /* I/O went around objpool (counters disagree) */
    REASON_HALF_CLOSED,      /* shutdown(SHUT_RD/SHUT_WR), or a real SHUT_RDWR */
    REASON_NOT_SAME_SOCKET,  /* the fd no longer names the connection (closed behind us) */
    REASON_ERROR,            /* an error on the object, or in objpool's own calls */
    REASON_SHARED,           /* dup'd, inherited by a child, or sent to another process */
    REASON_CHECK_FAILED,     /* the check= probe got no or the wrong reply */
    REASON_CHANGED_ON_DISK,  /* the path names another file now */
    REASON_INTERRUPTED,      /* closed from a signal handler inside objpool */
    REASON_UNPOOLABLE,       /* a FILE the program made unpoolable (setvbuf, wide) */
    REASON_MAX_USES,         /* served max_uses leases: the server would close it next */
    REASON_NOT_SAME_FILE,    /* the fd no longer names the file (closed behind us) */
    REASON_INCOMPLETE,       /* the protocol: a request unanswered or a response not fully read */
    REASON_SESSION_STATE,    /* the protocol: session state no reset clears, or the exchange ends the connection */
    REASON_TLS,              /* a TLS connection: never parked */
    REASON_UNKNOWN_PROTO,    /* a protocol objpool does not parse, or bytes it could not follow */
    REASON_END
};

_Static_assert((int)REASON_END <= (int)OBJPOOL_DISCARD_MAX, "the pool's stats count every reason");

const char *reason_name(int reason);
/* Every reason in the order the report lists them. */
extern const int report_reasons[];
extern const int report_nreasons;
#endif
