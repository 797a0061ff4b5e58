/* internal.h - what the files of the connection kind share among
 * themselves (conn.h is what the interposers see). One file per concern:
 * match.c the target table, sockopt.c option tracking and copying,
 * acquire.c the swap, probe.c idle validation, release.c the park rules,
 * io.c I/O accounting, goodbye.c goodbyes and half-closes (the stub),
 * spare.c spare sockets,
 * epoll.c the program's epoll registrations, prewarm.c start-up
 * connections, connecting.c connects adopted in progress, deepbind.c
 * libraries loaded with RTLD_DEEPBIND and rebind.c their GOT slots, conn.c the kind's
 * table and set-up. */
#ifndef OBJPOOL_CONN_INTERNAL_H
#define OBJPOOL_CONN_INTERNAL_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "../core/slab.h"
#include "../lease/lease.h"
#include "conn.h"

/* ---- the connection's own state, which only conn/ reads ----------------
 * Per record: struct conn_rec in the record's area (core/registry.h), and
 * beyond it, for the pools whose protocol needs more (a session's recorded
 * start-up answer), a block of the target's slab (r->ext). Per target:
 * struct conn_target in the target's area (base/spec.h). */

/* the last I/O objpool observed on a lease */
enum last_io { IO_NONE = 0, IO_WRITE, IO_READ_DATA, IO_READ_EOF, IO_ERROR };

/* a connection's record flags (core/registry.h has the shared ones) */
#define LF_HALF_CLOSED LF_KIND(0)   /* shutdown(SHUT_RD/WR) or a real SHUT_RDWR */
#define LF_SHUT_DEFERRED LF_KIND(1) /* reads give 0, writes EPIPE (PostgreSQL's Terminate: pgreplay.c) */
#define LF_FIRST_IO_DONE LF_KIND(2) /* the first I/O after a reuse has returned */
#define LF_SPARE LF_KIND(3)         /* a pristine unconnected socket kept for socket() */
#define LF_CONNECTING LF_KIND(4)    /* adopted while its connect was in progress (connecting.c) */

/* Room for protocol.c's struct conn_proto (the detector and the parser's
 * state), which it alone lays out and asserts to fit. */
#define CONN_PROTO_AREA 384

struct conn_rec {
    _Atomic int inflight; /* program I/O calls running on it */
    _Atomic int last_io;  /* enum last_io */
    _Atomic uint64_t bytes_out; /* through interposed calls, over its life */
    _Atomic uint64_t bytes_in;
    uint32_t optmask; /* socket options ever set on it (sockopt.c) */
    _Alignas(8) unsigned char proto[CONN_PROTO_AREA];
};
_Static_assert(sizeof(struct conn_rec) <= RECORD_AREA_SIZE, "a connection's state fits its record's area");

static inline struct conn_rec *conn_rec(struct record *r)
{
    return (struct conn_rec *)(void *)r->area;
}

struct conn_target {
    _Atomic int reset_refused; /* the server answered the session reset with an error */
    _Atomic unsigned pg_epoch; /* PostgreSQL: bumped when a password differs from a recorded one */
    _Atomic unsigned my_epoch; /* MySQL: bumped when a credential differs from a recorded one */
    /* per-connection state beyond the record, for this pool's protocol
     * (proto_ops.session_size); ext.size 0: the pool needs none */
    struct slab ext;
};
_Static_assert(sizeof(struct conn_target) <= TARGET_AREA_SIZE, "a connection pool's state fits its target's area");

static inline struct conn_target *conn_target(struct target *t)
{
    return (struct conn_target *)(void *)t->area;
}

/* The connection's state beyond its record (NULL: its pool needs none, or
 * none could be had; then it is never parked with session state). */
static inline void *conn_ext(struct record *r)
{
    return r->ext;
}

/* What a hit needs to know about the program's fresh socket. */
struct acquire_ctx {
    int fd;      /* the program's fresh socket; -1: taken where it is */
    int status;  /* its F_GETFL */
    int cloexec; /* its FD_CLOEXEC */
    uint32_t optmask;
};

/* kernel TCP states (include/net/tcp_states.h), not in the uapi headers */
enum { KTCP_ESTABLISHED = 1, KTCP_CLOSE_WAIT = 8 };

/* ---- sockopt.c: what the program did to a socket before connect ---------
 * OPT_UNKNOWN: an option objpool cannot copy was set, or the fd was copied.
 * OPT_EPOLL: the program registered it with epoll (never a spare then).
 * Bits 0-14: copyable options set. Bits 16-30: the fork generation the
 * socket was made in (+1; 0 = not seen made). */
#define OPT_UNKNOWN (1u << 31)
#define OPT_EPOLL (1u << 15)
#define OPT_COPYABLE 0x7fffu
#define OPT_NODELAY_BIT 0x1u        /* TCP_NODELAY: sockopts[0] in sockopt.c */
#define OPT_NODELAY_OURS (1u << 30) /* in a record's optmask: objpool turned TCP_NODELAY on */
int sockopt_setup(void);
uint32_t sockopt_birth_now(void);
/* socket() made fd: forget what an earlier socket at this number had. */
void sockopt_born(int fd);
/* The program registered fd with epoll (conn/epoll.c). */
void sockopt_note_epoll(int fd);
/* connect(): what was recorded for fd, which is forgotten. */
uint32_t sockopt_take(int fd);
/* Copy the options in mask from one socket to another; -1 on failure. */
int sockopt_copy(int from, int to, uint32_t mask);
int sockopt_nodelay_default(int fd, uint32_t program_set, uint32_t copied, uint32_t *rec);

/* ---- acquire.c ---- */
struct stat;
int conn_forget_stale(int fd, const struct stat *st);
struct record *conn_record(int fd, struct target *t, int status, uint32_t optmask);
void conn_destroy(void *user, void *obj);
int conn_swap(void *user, void *obj, void *arg);

/* ---- connecting.c: a connect adopted in progress, refused later ---- */
/* The new lease's connect returned EINPROGRESS. */
void conn_mark_connecting(struct record *l);
/* At its close: 1 if it never connected, then fd is closed (*rc what close
 * returned, errno as it left it) and the adoption is undone (a create
 * failure); 0: release it as usual. */
int conn_release_unconnected(struct record *l, int fd, int *rc);

/* ---- probe.c ---- */
/* Unread bytes, a hang-up, an error: the reason one poll names, or 0. */
int poll_reason(int fd);
int conn_validate(void *user, void *obj, void *arg);

/* ---- release.c, io.c ---- */
int conn_release(struct record *r, int fd, FILE *fp);
/* The release rules alone: 0 if the lease at fd may be parked now
 * (*reset: after the session reset), else the reason. */
int conn_park_reason(int fd, struct record *l, int *reset);
/* Park (or destroy) the lease whose slot the caller claimed; stub >= 0 is
 * put at fd in its place (with the registrations) instead of a close.
 * forced: a reason to destroy it whatever the rules say (0: they decide). */
int conn_release_to(struct record *l, int fd, int stub, int forced);
int conn_io_begin(struct record *r, int fd, int is_write, int flags, const struct io_data *d, ssize_t *result);
void conn_io_end(struct record *r, int is_write, int flags, ssize_t n, int err, const struct io_data *d);

/* ---- protocol.c: the connection's protocol (detection, parser, reset) ---- */
#include "proto/proto.h"
/* A connection's protocol state, in its record's private area (kept
 * across its leases). */
struct pgrec;
/* A connection's goodbye state (goodbye.c), kept beside its parser's. */
#define CONN_GB_MAX 24
enum { GBS_NONE = 0, GBS_REPLY, GBS_EOF_AT_END, GBS_OWED, GBS_ENDED };
struct conn_goodbye {
    _Atomic uint8_t state; /* GBS_*: what the goodbye kept from the server still needs
                              (read by every I/O call, of any thread) */
    uint8_t bad;        /* the stand-in's reply was not the expected one: destroy */
    uint8_t expect_len; /* the server's reply to the stand-in request */
    uint8_t got;        /* of it, read by objpool */
    uint8_t serve_len;  /* the reply the program reads instead */
    uint8_t served;
    unsigned char expect[CONN_GB_MAX], seen[CONN_GB_MAX], serve[CONN_GB_MAX];
};
struct conn_proto {
    struct proto_state st;
    struct proto_detect det;
    uint8_t id;            /* enum proto_id: AUTO while detecting */
    uint8_t reset_pending; /* the reset was sent at park; its reply is read at reuse */
    uint8_t det_in;        /* detection: det holds the server's first bytes (MySQL) */
    _Atomic uint8_t busy;  /* a feed is running */
    struct pgrec *pg;      /* PostgreSQL: the recorded start-up (core/blocks.c), or NULL */
    struct myrec *my;      /* MySQL: the recorded handshake (core/blocks.c), or NULL */
    struct conn_goodbye gb; /* a goodbye kept from the server (goodbye.c) */
};
struct conn_proto *cp(struct record *r);
/* Feed the parser (and, for PostgreSQL, the recording) n bytes. */
void conn_proto_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n);
/* The record is destroyed: give back what its protocol holds. */
void conn_proto_free(struct record *r);

/* ---- pgreplay.c, pgreset.c: PostgreSQL sessions handed on ----
 * A fresh connection's start-up is recorded; at park the session is reset
 * and the role's right to log in asked; at reuse the program's start-up is
 * swallowed when it is the recorded one and the recorded answer served on
 * the readiness of a real Sync, else a fresh connection takes its place. */
void pg_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n);
int pg_reason(struct record *r, struct conn_proto *p, int *proven);
int pg_send_reset(struct record *r, struct conn_proto *p, int fd);
int pg_finish_reset(struct record *r, struct conn_proto *p);
void pg_free(struct conn_proto *p);
/* Before a program I/O call on a PostgreSQL lease: 1 when objpool answers
 * it (*result, errno set), 0 to let it through. */
int pg_io_begin(struct record *r, int is_write, int flags, const struct io_data *d, ssize_t *result);
/* pgreplay.c for pgreset.c: the reset was read and checked. */
void pg_replay_arm(struct record *r, struct conn_proto *p);
/* The recorded start-up answer holds exactly this message (a ParameterStatus
 * the reset re-reported). */
int pg_rec_has(const struct conn_proto *p, const unsigned char *msg, size_t len);
int pg_rec_status(const struct conn_proto *p); /* the last ReadyForQuery status */
/* ---- myreplay.c, myreset.c, myswitch.c: MySQL sessions handed on ----
 * A fresh connection's handshake is recorded; at park the session is reset
 * (COM_RESET_CONNECTION, the recorded database and character set); at
 * reuse the reset's reply is checked and left on the socket, where it
 * makes the recorded greeting readable; the program's HandshakeResponse is
 * swallowed when it is the recorded one and the recorded OK served on a
 * COM_PING's, else a fresh connection takes its place (myswitch.c). */
void my_parse(struct record *r, struct conn_proto *p, int is_write, const unsigned char *b, size_t n);
int my_reason(struct record *r, struct conn_proto *p, int *proven);
int my_send_reset(struct record *r, struct conn_proto *p, int fd);
int my_finish_reset(struct record *r, struct conn_proto *p);
void my_free(struct conn_proto *p);
int my_io_begin(struct record *r, int is_write, int flags, const struct io_data *d, ssize_t *result);
/* The reset's reply is kept on the socket for the greeting's readiness:
 * the idle checks must not count it as unread data. */
int my_reply_kept(struct record *r);
/* conn_proto_reason's answer when the session must be reset before reuse. */
#define CONN_NEEDS_RESET (-1)
/* A new connection: its pool's protocol, or detection. */
void conn_proto_start(struct record *r);
/* The n bytes an I/O call moved (written when is_write). */
void conn_proto_feed(struct record *r, int is_write, const struct io_data *d, size_t n);
/* 0 if the protocol allows parking (*proven: it proved the exchange
 * complete), CONN_NEEDS_RESET, or the reason it does not. */
int conn_proto_reason(struct record *r, int *proven);
/* The parser's verdict now (enum proto_verdict); PV_CLEAN without one. */
int conn_proto_verdict(struct record *r);
/* Is this write the protocol's goodbye (proto_ops.goodbye)? */
struct proto_goodbye;
int conn_proto_goodbye(struct record *r, const unsigned char *p, size_t n, struct proto_goodbye *g);
/* Park time: send the session reset; -1 if it could not be sent whole. */
int conn_proto_send_reset(struct record *r, int fd);
/* The reset's reply is checked whole: nothing more may come before it. */
int conn_proto_reset_whole(struct record *r);
/* Reuse time: read and check the reset's reply; 0, or a discard reason. */
int conn_proto_finish_reset(struct record *r);
size_t conn_read_exact(struct record *r, char *buf, size_t len, uint64_t timeout_ms);

/* ---- goodbye.c: goodbyes kept from the server, the stub ----
 * A connection's goodbye state, beside its parser's (protocol.c). */
struct conn_goodbye *conn_goodbye_of(struct record *r);
/* A write of the program: 1 if it was a goodbye objpool answered
 * (*result, errno set); 0: send it as written. */
int goodbye_write(struct record *l, int fd, int flags, const struct io_data *d, ssize_t *result);
/* A read while the stand-in's reply is served (state GBS_REPLY). */
int goodbye_read(struct record *l, int fd, int flags, const struct io_data *d, ssize_t *result);
/* GBS_ENDED (no stub could be made): reads give 0, writes EPIPE. */
int goodbye_ended(struct record *l, int is_write, int flags, ssize_t *result);
/* After a read while GBS_EOF_AT_END: the stub once the response is complete. */
void goodbye_after_read(struct record *l);
/* shutdown(how) on a lease: 0 if the connection parked and the program
 * holds the stub, -1: do the real shutdown. */
int goodbye_shutdown(int fd, struct record *l, int how);
/* Park the lease now and put the stub at fd. must_end: the program's EOF
 * is owed (its goodbye never reached the server), so a refused park still
 * puts the stub there and destroys the connection (or, with no stub,
 * shuts it down: GBS_ENDED); otherwise a refusal returns -1. */
int goodbye_park(int fd, struct record *l, int must_end);
/* The program's close: -1 if the goodbye makes the connection unfit;
 * *owed: bytes of the stand-in's reply still on their way (read and
 * checked by goodbye_finish at the next acquire). */
int goodbye_at_close(struct record *l, uint64_t *owed);
int goodbye_finish(struct record *l);

/* ---- epoll.c: the program's epoll registrations, by fd number ----
 * A hit moves them from the fresh socket to the connection: begin (before
 * the dup3) takes them off the fresh socket, keeping it open at a high
 * number; end (after it) makes them on the connection, or puts the fresh
 * socket back with them and fails; abort (the dup3 failed) puts them back. */
#define EPREG_PER_FD 2
struct epreg {
    int epfd;
    uint32_t events;
    uint64_t data;
};
struct epreg_move {
    int n, keep;
    struct epreg reg[EPREG_PER_FD];
};
int epreg_setup(void);
/* Registered in a way objpool could not record: connect must be real. */
int epreg_unmovable(int fd);
int epreg_move_begin(int fd, struct epreg_move *m);
int epreg_move_end(int fd, struct epreg_move *m, int dup_flags);
void epreg_move_abort(int fd, struct epreg_move *m);
/* Park time: delete the program's registrations of fd (kept in m when not
 * NULL, for epreg_give); 0, or the reason the lease cannot be parked. */
int epreg_park(int fd, struct epreg_move *m);
/* The registrations kept by epreg_park, made on the object now at fd. */
void epreg_give(int fd, struct epreg_move *m);

/* ---- dial.c: a connection changed under the program ---- */
/* Wait until fd is ready for ev before the deadline (ns); -1 if not. */
int conn_wait_fd(int fd, short ev, uint64_t deadline);
/* Send all of b[0..n) on the non-blocking s before the deadline. */
int conn_send_all(int s, const unsigned char *b, size_t n, uint64_t deadline);
/* A new non-blocking connection to the target; -1 if none by the deadline. */
int conn_dial(const struct target *t, uint64_t deadline);
/* Put s on the program's number r->fd (options, flags, registrations). */
int conn_take_place(struct record *r, int s);
/* A copy of the program's socket at a number of objpool's; -1 if none. */
struct stat;
int conn_keep_copy(struct record *r, struct stat *st);

/* ---- secret.c: the keyed hash of bytes compared, never kept ---- */
void conn_secret_tag(const unsigned char *msg, size_t len, uint64_t tag[2]);

/* ---- spare.c ---- */
void spare_put(int fd, int family, int status);
void spare_setup(void);

/* ---- match.c ---- */
int match_setup(struct config *c, int n);
socklen_t target_addr_len(const struct target *t);
#endif
