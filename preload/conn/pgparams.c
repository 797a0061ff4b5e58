/* pgparams.c - the server parameters a PostgreSQL session reported after
 * its start-up, against the recorded ones.
 *
 * The recorded start-up answer carries each reported parameter's value
 * (ParameterStatus: client_encoding, standard_conforming_strings, TimeZone,
 * DateStyle, application_name, ...), and drivers act on them (libpq
 * escapes strings by standard_conforming_strings). A value can change two
 * ways while the session is leased: the session sets it (then DISCARD
 * ALL's RESET ALL re-reports the start-up value, which pgreset.c requires
 * to equal the recorded one), or a configuration reload changes the
 * default (then nothing re-reports it, and the recording would hand the
 * next program a value the server no longer has). So every ParameterStatus
 * the program reads that differs from the recording puts its name on a
 * short list; the reset's reply must take each name off again, or the
 * connection is destroyed. A message too long to compare, or more names
 * than the list holds, count as a difference that cannot be taken off.
 */
#include "pgrec.h"

#include <string.h>

#include "../base/hash.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The hash of a ParameterStatus message's name (its body up to the NUL). */
static uint64_t name_hash(const unsigned char *msg, size_t len)
{
    size_t n = 0;
    while (5 + n < len && msg[5 + n])
        n++;
    return hash_bytes(HASH_SEED, msg + 5, n);
}

/* A whole ParameterStatus read by the program. */
static void status_read(struct pgrec *g)
{
    struct pgps *s = &g->ps;
    if (s->full) {
        s->overflow = 1;
        return;
    }
    if (memmem(g->srv, g->srv_len, s->cap, s->clen))
        return; /* the recorded value */
    uint64_t h = name_hash(s->cap, s->clen);
    for (int i = 0; i < s->ndirty; i++)
        if (s->dirty[i] == h)
            return;
    if (s->ndirty == PGPS_DIRTY)
        s->overflow = 1;
    else
        s->dirty[s->ndirty++] = h;
}

/* Frame what the program read; capture each 'S' message. */
void pg_params_in(struct pgrec *g, const unsigned char *b, size_t n)
{
    struct pgps *s = &g->ps;
    while (n) {
        if (s->hlen < 5) {
            s->hdr[s->hlen++] = *b++;
            n--;
            if (s->hlen < 5)
                continue;
            uint32_t len = be32(s->hdr + 1);
            if (len < 4) {
                s->overflow = 1; /* the parser sees the desync too */
                len = 4;
            }
            s->left = len - 4;
            s->is_s = s->hdr[0] == 'S';
            s->full = 0;
            memcpy(s->cap, s->hdr, 5);
            s->clen = 5;
        } else {
            size_t k = s->left < n ? s->left : n;
            if (s->is_s) {
                if (k <= (size_t)PGPS_CAP - s->clen) {
                    memcpy(s->cap + s->clen, b, k);
                    s->clen = (uint16_t)(s->clen + k);
                } else {
                    s->full = 1;
                }
            }
            s->left -= (uint32_t)k;
            b += k;
            n -= k;
        }
        if (s->hlen == 5 && !s->left) {
            if (s->is_s)
                status_read(g);
            s->hlen = 0;
        }
    }
}

void pg_params_reset(struct pgrec *g, const unsigned char *msg, size_t len)
{
    struct pgps *s = &g->ps;
    uint64_t h = name_hash(msg, len);
    for (int i = 0; i < s->ndirty; i++)
        if (s->dirty[i] == h) {
            s->dirty[i] = s->dirty[--s->ndirty];
            return;
        }
}

int pg_params_clean(struct pgrec *g)
{
    struct pgps *s = &g->ps;
    int clean = !s->overflow && !s->ndirty && s->hlen == 0;
    memset(s, 0, sizeof *s);
    return clean;
}
