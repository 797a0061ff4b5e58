/* reasons.c - the names of the discard reasons (the report's JSON keys,
 * the debug log's words) and the order the report lists them in. */
#include "reasons.h"

static const char *const preload_reason_names[REASON_END - OBJPOOL_DISCARD_USER] = {
    [REASON_STALE_EOF - OBJPOOL_DISCARD_USER] = "stale_eof",
    [REASON_UNREAD_DATA - OBJPOOL_DISCARD_USER] = "unread_data",
    [REASON_ABANDONED - OBJPOOL_DISCARD_USER] = "abandoned_request",
    [REASON_UNOBSERVED_IO - OBJPOOL_DISCARD_USER] = "unobserved_io",
    [REASON_HALF_CLOSED - OBJPOOL_DISCARD_USER] = "half_closed",
    [REASON_NOT_SAME_SOCKET - OBJPOOL_DISCARD_USER] = "not_same_socket",
    [REASON_ERROR - OBJPOOL_DISCARD_USER] = "error",
    [REASON_SHARED - OBJPOOL_DISCARD_USER] = "shared",
    [REASON_CHECK_FAILED - OBJPOOL_DISCARD_USER] = "check_failed",
    [REASON_CHANGED_ON_DISK - OBJPOOL_DISCARD_USER] = "changed_on_disk",
    [REASON_INTERRUPTED - OBJPOOL_DISCARD_USER] = "interrupted",
    [REASON_UNPOOLABLE - OBJPOOL_DISCARD_USER] = "unpoolable",
    [REASON_MAX_USES - OBJPOOL_DISCARD_USER] = "max_uses",
    [REASON_NOT_SAME_FILE - OBJPOOL_DISCARD_USER] = "not_same_file",
    [REASON_INCOMPLETE - OBJPOOL_DISCARD_USER] = "incomplete_response",
    [REASON_SESSION_STATE - OBJPOOL_DISCARD_USER] = "session_state",
    [REASON_TLS - OBJPOOL_DISCARD_USER] = "tls",
    [REASON_UNKNOWN_PROTO - OBJPOOL_DISCARD_USER] = "unknown_protocol",
};

const char *reason_name(int reason)
{
    if (reason >= OBJPOOL_DISCARD_USER && reason < REASON_END)
        return preload_reason_names[reason - OBJPOOL_DISCARD_USER];
    return objpool_discard_name(reason);
}

const int report_reasons[] = {
    OBJPOOL_DISCARD_FULL, OBJPOOL_DISCARD_EXPIRED, OBJPOOL_DISCARD_LIFETIME, REASON_STALE_EOF,
    REASON_UNREAD_DATA, REASON_ABANDONED, REASON_UNOBSERVED_IO, REASON_HALF_CLOSED,
    REASON_NOT_SAME_SOCKET, REASON_NOT_SAME_FILE, REASON_ERROR, REASON_SHARED, REASON_CHECK_FAILED,
    REASON_CHANGED_ON_DISK, REASON_INTERRUPTED, REASON_UNPOOLABLE, REASON_MAX_USES,
    REASON_INCOMPLETE, REASON_SESSION_STATE, REASON_TLS, REASON_UNKNOWN_PROTO,
    OBJPOOL_DISCARD_INVALID, OBJPOOL_DISCARD_RESET_FAILED,
};
const int report_nreasons = (int)(sizeof report_reasons / sizeof *report_reasons);
