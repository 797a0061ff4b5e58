/* myrec.h - what myreplay.c, myreset.c and myswitch.c share: a MySQL
 * connection's recorded handshake and the replay's place in it (struct
 * myrec, one 4 KiB block (core/blocks.c) per connection, kept across its
 * leases).
 *
 * A handshake is turns: the server's greeting (turn 0), the program's
 * HandshakeResponse (1), the server's answer (2), and when that answer asks
 * for more (an AuthSwitchRequest, more authentication data) the program's
 * next packet and the server's next answer, up to the OK. The server's
 * turns are kept as bytes (they are served again); the program's only as a
 * length and a keyed hash: a response holds a password-derived secret,
 * which objpool compares but never keeps. */
#ifndef OBJPOOL_MYREC_H
#define OBJPOOL_MYREC_H

#include <stdint.h>

#include "internal.h"

#define MYREC_SRV 2048 /* the server's turns */
#define MYREC_CLI 1024 /* the longest program turn compared */
#define MY_TURNS 8     /* turns of a handshake, server's and program's */
#define MY_DB_MAX 192  /* the longest database name kept (64 characters of up to 3 bytes) */

/* The recording: zeroed memory is MREC_ON, filling on a fresh connection. */
enum { MREC_ON = 0, MREC_DONE, MREC_BAD };
/* The replay on a reused lease. MPH_SERVE: a server turn is owed to the
 * program's reads; MPH_CLI: the program's turn is gathered and compared. */
enum { MPH_NONE = 0, MPH_SERVE, MPH_CLI };
/* The direction of the last recorded bytes. */
enum { MDIR_NONE = 0, MDIR_OUT, MDIR_IN };

struct myrec {
    uint32_t euid, egid; /* who made the handshake (unix_socket authentication) */
    uint32_t epoch;      /* the target's credential epoch when recorded */
    uint8_t rec, phase, broken, nturns;
    uint8_t turn;     /* the replay's turn */
    uint8_t last_dir; /* recording: MDIR_* */
    uint8_t reset_q;  /* queries of the reset at park (its reply's answers) */
    uint8_t charset;  /* the handshake's collation id */
    uint8_t set_opt;  /* the reset sends COM_SET_OPTION */
    uint8_t noplug;   /* the program asked for no client plugins: it could not follow a switch */
    uint16_t srv_len;
    uint16_t srv_end[MY_TURNS / 2]; /* where each server turn ends in srv */
    uint16_t cli_len[MY_TURNS / 2]; /* each program turn's length */
    uint16_t pos;       /* bytes of the program's turn gathered in w */
    uint16_t served;    /* recorded bytes served */
    uint16_t serve_end; /* ... up to here */
    uint16_t drain;     /* the reset's reply, left on the socket: its length */
    uint16_t ok_status; /* the handshake OK's status flags */
    uint16_t db_len;
    uint64_t cli_tag[MY_TURNS / 2][2]; /* each program turn's keyed hash */
    uint64_t id_tag[2]; /* the HandshakeResponse without its credential: who, where, how */
    char db[MY_DB_MAX]; /* the handshake's database (COM_INIT_DB at each reset) */
    unsigned char srv[MYREC_SRV];
    unsigned char w[MYREC_CLI]; /* a program turn being gathered, wiped after */
};
_Static_assert(sizeof(struct myrec) <= 4096, "a recording fits its block");

#define MY_CAP_PLUGIN_AUTH 0x80000u

/* A HandshakeResponse41 packet (header included), taken apart: the
 * credential's place [auth, auth_end), the database, the capabilities. */
struct my_resp {
    uint32_t caps, xcaps;
    size_t user_end; /* just past the user name's NUL */
    size_t auth, auth_end;
    const unsigned char *db;
    size_t db_len;
    size_t rest; /* where the client plugin's name begins */
    int charset;
};
/* 0, or -1 when the packet is not one objpool can take apart. */
int my_resp_parse(const unsigned char *w, size_t n, struct my_resp *rp);
/* The keyed hash of the response without its credential. */
void my_resp_id(const unsigned char *w, size_t n, const struct my_resp *rp, uint64_t tag[2]);

/* myswitch.c: the program's HandshakeResponse w[0, n) differs from the
 * recorded one: a fresh connection takes the socket's place, sent the
 * response without its credential and under a client plugin no server
 * knows, so that the server asks the program to authenticate again
 * (AuthSwitchRequest) over the fresh connection's own scramble. */
void my_switch(struct record *r, struct conn_proto *p, struct myrec *g, const unsigned char *w, size_t n);
/* The replay cannot go on: the connection is shut down (the kernel's
 * hang-up wakes the program's poll or epoll), its next read sees EOF, its
 * next write EPIPE, and it is destroyed at close. */
void my_broken(struct record *r, struct myrec *g, const char *why);
/* myreplay.c for myreset.c: the reset's reply (reply_len bytes) was
 * checked and left on the socket: the greeting is served next. */
void my_replay_arm(struct myrec *g, size_t reply_len);
/* myreset.c: SET NAMES for a collation id; NULL when objpool does not know it. */
const char *my_set_names(int charset);
#endif
