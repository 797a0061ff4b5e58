/* mysql_int.h - what the MySQL parser's two files share: its state, the
 * answer kinds of commands, and the answer half (mysql_answer.c: the
 * server's answers to commands, result sets, prepared statements). */
#ifndef OBJPOOL_PROTO_MYSQL_INT_H
#define OBJPOOL_PROTO_MYSQL_INT_H

#include "proto.h"

#define MY_HEAD 32 /* payload bytes kept of a packet: an OK's status, a response's
                    * MariaDB capabilities (bytes 28..31) */
#define MY_Q 8     /* commands awaiting their answer */

/* client capability flags */
#define CAP_CONNECT_WITH_DB 0x8u
#define CAP_PROTOCOL_41 0x200u
#define CAP_SSL 0x800u
#define CAP_MULTI_STATEMENTS 0x10000u
#define CAP_DEPRECATE_EOF 0x1000000u
#define CAP_MYSQL 0x1u /* unset by MariaDB's drivers: extended capabilities follow */
/* MariaDB's extended capabilities (a response's bytes 28-31) */
#define XCAP_PROGRESS 0x1u       /* progress reports: an ERR 0xffff that ends nothing */
#define XCAP_CACHE_METADATA 0x10u /* a result's column count says whether definitions follow */
/* server status flags */
#define ST_IN_TRANS 0x1u
#define ST_MORE_RESULTS 0x8u
#define ST_CURSOR_EXISTS 0x40u

/* the handshake's phases */
enum { HS_GREETING = 0, HS_RESPONSE, HS_ANSWER, HS_MORE, HS_READY };
/* what the head command's answer is at */
enum { RS_FIRST = 0, RS_COLDEFS, RS_COLEOF, RS_ROWS, RS_PARAMS, RS_PARAMEOF, RS_PCOLS, RS_PCOLEOF, RS_INFILE, RS_INFILE_END };
/* the kinds of answer a command gets */
enum { AN_NONE = 0, AN_OK, AN_QUERY, AN_PREPARE, AN_ONE, AN_FIELDS };

/* One direction's framer: the header, then the payload skipped, its first
 * bytes kept. */
struct my_dir {
    uint32_t left; /* payload bytes of the current packet still to come */
    uint32_t len;  /* the logical packet's length so far */
    uint8_t hlen;  /* header bytes so far */
    uint8_t cont;  /* the last packet was 0xffffff long: this one goes on with it */
    uint8_t klen;  /* payload bytes kept */
    unsigned char hdr[4];
    unsigned char head[MY_HEAD];
};

struct my {
    struct my_dir o, i;
    uint32_t caps;    /* the program's capability flags */
    uint32_t xcaps;   /* MariaDB's extended ones */
    uint16_t status;  /* the server's last status flags */
    uint8_t hs;       /* HS_* */
    uint8_t dead;     /* 0, PV_NEVER or PV_CONFUSED: sticky */
    uint8_t full;     /* the handshake asked for a full authentication (0x01 0x04) */
    uint8_t qn;       /* commands queued */
    uint8_t q[MY_Q];  /* their answer kinds, oldest first */
    uint8_t rs;       /* RS_*: where the oldest one's answer is */
    uint8_t pad;
    uint64_t n;       /* column definitions or parameters still to come */
    uint32_t ncols;   /* a prepared statement's columns, after its parameters */
    uint8_t charset;  /* the handshake's collation id */
    uint8_t answers;  /* server packets of the handshake after the response */
    uint8_t multi;    /* multi-statements on now (COM_SET_OPTION changes it) */
};
_Static_assert(sizeof(struct my) <= PROTO_STATE_SIZE, "the MySQL parser's state fits");

#define M(st) ((struct my *)(void *)(st)->u.bytes)
#define CM(st) ((const struct my *)(const void *)(st)->u.bytes)

/* Sticky: the first reason a connection can never be parked. */
static inline void my_die(struct my *m, int why)
{
    if (!m->dead)
        m->dead = (uint8_t)why;
}

static inline uint16_t my_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The status flags of an OK packet (0x00 or 0xfe header); -1 when they are
 * past the kept bytes. */
int my_ok_status(const unsigned char *h, size_t n);
/* The answer kind of a command; AN_NONE for those the server never
 * answers, -1 for those that end reuse. */
int my_answer_of(int cmd);
/* A whole server packet after the handshake: the head command's answer. */
void my_answer(struct my *m, const unsigned char *h, uint32_t len, size_t kept);
#endif
