/* memcache_int.h - what the memcached parser's files share: the state of
 * a connection (struct mc: the dialect, the FIFO of outstanding requests,
 * each direction's lexer or packet framer) and the calls between
 * memcache.c (FIFO, operations), memcache_text.c (text and meta commands)
 * and memcache_bin.c (binary protocol). Private to those three files.
 */
#ifndef OBJPOOL_MEMCACHE_INT_H
#define OBJPOOL_MEMCACHE_INT_H

#include "proto.h"

#define MC_FIFO 16 /* requests outstanding */
#define MC_WORD 14 /* bytes kept of a line's first token */
#define MC_HDR 24  /* a binary packet header */

#define Q_ENTRY 0xff /* FIFO entry of quiet requests: zero or more replies each */

/* Line lexer: tokens split on ' ', lines end in \n or \r\n. It keeps the
 * first token, the value of one numeric token, whether a meta flag token
 * starts with 'q' and whether the last token was "noreply". */
struct lex {
    uint32_t len;     /* bytes of the line so far */
    uint32_t num;     /* value of token numtok */
    uint8_t ntok;     /* tokens started (saturating) */
    uint8_t intok;    /* inside a token */
    uint8_t wlen;     /* bytes of token 0 (saturating) */
    uint8_t wdigits;  /* token 0 is all digits so far */
    uint8_t classed;  /* token 0 ended and the caller classified it */
    uint8_t cls;      /* the caller's class of token 0 */
    uint8_t cr;       /* the last byte was '\r' */
    uint8_t skip;     /* the rest of the line needs no look */
    uint8_t numtok;   /* index of the numeric token wanted, 0: none */
    uint8_t numst;    /* NUM_* */
    uint8_t flagfrom; /* first token index holding meta flags, 0: none */
    uint8_t quiet;    /* a flag token starting with 'q' */
    uint8_t nrm;      /* bytes of "noreply" matched in this token, 0xff: no */
    uint8_t noreply;  /* the last complete token was "noreply" */
    char word[MC_WORD];
};
enum { NUM_NONE = 0, NUM_DIGITS, NUM_BAD };

/* One direction of the text dialect. */
struct tside {
    struct lex lx;
    uint32_t data; /* data block bytes left */
    uint8_t trail; /* bytes of the block's "\r\n" left */
};

/* One direction of the binary dialect. */
struct bside {
    uint32_t body; /* body bytes left */
    uint8_t hlen;  /* header bytes so far */
    unsigned char h[MC_HDR];
};

enum { D_NONE = 0, D_TEXT, D_BIN };

struct mc {
    uint8_t dialect;
    uint8_t bad; /* 0, PV_NEVER or PV_CONFUSED: sticky */
    uint8_t head, count;
    uint8_t fifo[MC_FIFO];
    union {
        struct {
            struct tside tx, rx;
        } t;
        struct {
            struct bside tx, rx;
        } b;
    } u;
};
_Static_assert(sizeof(struct mc) <= PROTO_STATE_SIZE, "memcache state too large");

/* The FIFO of outstanding requests (memcache.c). Entries are enum kind
 * (text), opcodes (binary) or Q_ENTRY; closer is K_MN or B_NOOP. */
void mc_fifo_push(struct mc *m, uint8_t e, uint8_t closer);
uint8_t mc_fifo_head(const struct mc *m);
void mc_fifo_pop(struct mc *m);
void mc_fifo_close_quiet(struct mc *m, uint8_t closer);

/* Bytes the program wrote / read, text dialect (memcache_text.c). */
void mc_text_out(struct mc *m, const unsigned char *p, size_t n);
void mc_text_in(struct mc *m, const unsigned char *p, size_t n);

/* One direction of the binary dialect, out: the program wrote it
 * (memcache_bin.c). */
void mc_bin_feed(struct mc *m, struct bside *s, int out, const unsigned char *p, size_t n);
#endif
