/* pgrec.h - what pgreplay.c, pgreset.c and pgfresh.c share: a PostgreSQL
 * connection's recorded start-up and the replay's place in it (struct
 * pgrec, one 4 KiB block (core/blocks.c) per connection, kept across its leases). */
#ifndef OBJPOOL_PGREC_H
#define OBJPOOL_PGREC_H

#include <stdint.h>

#include "internal.h"

#define PGREC_CLI 1024 /* the program's negotiation and StartupMessage */
#define PGREC_SRV 2048 /* the negotiation's 'N', then the answer to the first ReadyForQuery */

/* The recording: zeroed memory is REC_ON, filling on a fresh connection. */
enum { REC_ON = 0, REC_DONE, REC_BAD };
/* The replay on a reused lease. NEG/STARTUP: the program's bytes are
 * compared; NEG_SERVE/SERVE: the recorded answer is owed, a Sync's answer
 * waits on the socket. */
enum { PH_NONE = 0, PH_NEG, PH_NEG_SERVE, PH_STARTUP, PH_SERVE, PH_PASSWORD };

#define PGREC_PW 512 /* the longest password message compared */
#define PGPS_CAP 160  /* the longest ParameterStatus message followed */
#define PGPS_DIRTY 8  /* parameters reported changed in one session */

/* The ParameterStatus messages the program read during its session
 * (pgparams.c): the in-direction framed again, each 'S' compared with the
 * recording; the names of those that differ must be re-reported as
 * recorded by the reset, or the recording is stale (a reload changed a
 * default the session never set). */
struct pgps {
    uint32_t left;   /* body bytes of the current message still to come */
    uint8_t hlen;    /* its header bytes so far */
    uint8_t is_s, full, overflow;
    uint8_t ndirty;
    uint16_t clen;
    unsigned char hdr[5];
    uint64_t dirty[PGPS_DIRTY]; /* hashes of the changed names */
    unsigned char cap[PGPS_CAP];
};

struct pgrec {
    uint32_t euid, egid; /* who made the start-up (peer and ident auth) */
    uint16_t cli_len, neg_len, srv_len;
    uint8_t rec, phase, broken, reset_q;
    uint16_t pos;       /* bytes of the current phase's message matched */
    uint16_t served;    /* recorded answer bytes served */
    uint16_t serve_end; /* ... up to here */
    uint16_t auth_end;  /* password auth: srv's authentication request ends here, else 0 */
    uint32_t epoch;     /* password auth: the target's credential epoch when recorded */
    uint64_t pw_tag[2]; /* password auth: keyed hash of the password message */
    unsigned char cli[PGREC_CLI];
    unsigned char srv[PGREC_SRV];
    unsigned char pw[PGREC_PW]; /* a password message being written (replay), wiped after */
    struct pgps ps;
};
_Static_assert(sizeof(struct pgrec) <= 4096, "a recording fits its block");

/* pgfresh.c: the program's start-up differs from the recorded one: a new
 * connection to the target takes the socket's place, the negotiation the
 * program was answered and the bytes swallowed so far, rec[from, upto),
 * sent on it; park: the old session, reset and at a boundary, is parked
 * under a record of its own. 0: the program's call goes on to it. */
int pg_fresh(struct record *r, struct conn_proto *p, struct pgrec *g, size_t from, size_t upto, int park);
/* pgfresh.c: the program wrote a whole start-up w[0, n), after the
 * negotiation neg[0, from) it was answered, and it is not the recorded one:
 * an idle connection of the target whose recording is exactly neg + w,
 * admitted as a reuse at connect would be, takes the socket's place, its
 * recording p->pg (its replay at the start-up). 1 if one did. */
int pg_take_idle(struct record *r, struct conn_proto *p, const unsigned char *neg, size_t from,
                 const unsigned char *w, size_t n);
/* The pool key of a recording: its start-up bytes and who made it. */
uint64_t pg_key(const struct pgrec *g);
/* pgparams.c: bytes the program read after the start-up; a ParameterStatus
 * of the reset's reply (equal to the recorded one); whether every changed
 * parameter was re-reported (then the tracking starts afresh). */
void pg_params_in(struct pgrec *g, const unsigned char *b, size_t n);
void pg_params_reset(struct pgrec *g, const unsigned char *msg, size_t len);
int pg_params_clean(struct pgrec *g);

#endif
