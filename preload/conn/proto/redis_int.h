/* redis_int.h - what the Redis parser's files share: the parser's bounds,
 * where each direction's byte stream stands, the state of a connection
 * (struct redis) and the calls between redis.c (commands the program
 * writes, operations) and redis_reply.c (replies it reads). Private to
 * those two files.
 */
#ifndef OBJPOOL_REDIS_INT_H
#define OBJPOOL_REDIS_INT_H

#include "proto.h"

#define REDIS_ARG_MAX 24                /* bytes of an argument kept to classify it */
#define REDIS_ARG_LONG (REDIS_ARG_MAX + 1) /* alen of an argument too long to be a keyword */
#define REDIS_DEPTH 16                  /* nesting of aggregates in a reply */
#define REDIS_MAX_PENDING (1u << 20)    /* commands written and not yet answered */
#define REDIS_MAX_ARGS 0x7fffffffu      /* arguments of one command (Redis: INT_MAX) */
#define REDIS_MAX_BULK (1ull << 40)     /* bytes of one bulk string */
#define REDIS_MAX_ELEMS (1u << 30)      /* elements of one aggregate */

/* Where the program's byte stream stands. O_START is between commands. */
enum { O_START = 0, O_MBLEN, O_MBLF, O_BHDR, O_BLEN, O_BLF, O_BDATA, O_BCR, O_BLF2, O_INLINE };
/* Where the server's byte stream stands. I_TYPE expects a type byte. */
enum { I_TYPE = 0, I_LINE, I_LINELF, I_NUM, I_NUMLF, I_BULK, I_BCR, I_BLF };

/* One connection's parser state; all zero is the start (redis_init). */
struct redis {
    uint64_t onum;              /* out: the number being read, then bulk bytes left */
    uint64_t inum;              /* in: the same */
    uint32_t pending;           /* commands written, replies not yet complete */
    uint32_t argc;              /* arguments left in the command being written */
    uint32_t left[REDIS_DEPTH]; /* elements left in each open aggregate */
    uint16_t attr;              /* bit d: the aggregate at depth d is an attribute */
    uint8_t dead;               /* 0, PV_NEVER or PV_CONFUSED: sticky */
    uint8_t flags;              /* F_* (redis.c) */
    uint8_t ostate, osign;      /* osign: bit 0 '-' seen, bit 1 a digit seen */
    uint8_t argi;               /* index of the current argument, saturated at 3 */
    uint8_t alen;               /* bytes in arg[], or REDIS_ARG_LONG */
    uint8_t cmd, sub, eff;      /* C_*, S_*, E_* (redis.c) of the command being written */
    uint8_t inword;             /* inline: inside a word */
    uint8_t istate, isign, itype, depth;
    unsigned char arg[REDIS_ARG_MAX];
};
_Static_assert(sizeof(struct redis) <= PROTO_STATE_SIZE, "struct redis must fit proto_state");

/* The first verdict that stops the parser is kept (redis.c). */
void rd_die(struct redis *r, int v);

/* One byte of a decimal length or count, either direction (redis.c). */
int rd_num_byte(uint64_t *v, uint8_t *sign, unsigned char c, uint64_t max);

/* Bytes the program read: the server's replies (redis_reply.c). */
void rd_reply_in(struct redis *r, const unsigned char *p, size_t n);
#endif
