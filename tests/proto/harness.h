/* harness.h - the shared harness of the protocol parsers' unit tests.
 *
 * A case is an exchange: steps of bytes the program wrote ('o') or read
 * ('i'), in order, and the verdict expected at close after the last step.
 * check_case() replays it whole, then once for every split point of every
 * step (that step fed as two chunks), then byte by byte: a streaming
 * parser must give the same verdict however the kernel cut the bytes.
 * Each test program is `main` calling check_case() for its cases and
 * ending with harness_done(), which prints "N cases, N failed" and exits
 * non-zero on any failure.
 */
#ifndef OBJPOOL_PROTO_HARNESS_H
#define OBJPOOL_PROTO_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct step {
    char dir;         /* 'o': the program wrote it; 'i': the program read it */
    const char *data; /* the bytes */
    size_t len;       /* 0: strlen(data) */
};

static int harness_cases, harness_failed;

static const char *const harness_verdicts[] = {"CLEAN", "INCOMPLETE", "SESSION", "NEVER", "CONFUSED"};

static void harness_feed(const struct proto_ops *ops, struct proto_state *st, char dir,
                         const char *p, size_t n)
{
    if (dir == 'o')
        ops->out(st, (const unsigned char *)p, n);
    else
        ops->in(st, (const unsigned char *)p, n);
}

static size_t harness_len(const struct step *s)
{
    return s->len ? s->len : strlen(s->data);
}

/* Replay the steps; step `split` (or none, -1) is cut at byte k; bytewise
 * feeds every byte alone. Returns the verdict. */
static int harness_run(const struct proto_ops *ops, const struct step *steps, int nsteps,
                       int split, size_t k, int bytewise)
{
    struct proto_state st;
    memset(&st, 0xa5, sizeof st); /* init() must not rely on zeroed memory */
    ops->init(&st);
    for (int i = 0; i < nsteps; i++) {
        size_t n = harness_len(&steps[i]);
        const char *p = steps[i].data;
        if (bytewise) {
            for (size_t j = 0; j < n; j++)
                harness_feed(ops, &st, steps[i].dir, p + j, 1);
        } else if (i == split) {
            harness_feed(ops, &st, steps[i].dir, p, k);
            harness_feed(ops, &st, steps[i].dir, p + k, n - k);
        } else {
            harness_feed(ops, &st, steps[i].dir, p, n);
        }
    }
    return ops->verdict(&st);
}

static void harness_report(const char *name, const char *how, int got, int want)
{
    fprintf(stderr, "FAIL %s (%s): verdict %s, want %s\n", name, how,
            got >= 0 && got <= 4 ? harness_verdicts[got] : "?", harness_verdicts[want]);
}

static int check_case(const struct proto_ops *ops, const char *name, const struct step *steps,
                      int nsteps, int want)
{
    harness_cases++;
    int got = harness_run(ops, steps, nsteps, -1, 0, 0);
    if (got != want) {
        harness_report(name, "whole", got, want);
        harness_failed++;
        return 0;
    }
    for (int i = 0; i < nsteps; i++) {
        size_t n = harness_len(&steps[i]);
        for (size_t k = 1; k < n; k++) {
            got = harness_run(ops, steps, nsteps, i, k, 0);
            if (got != want) {
                char how[64];
                snprintf(how, sizeof how, "step %d split at %zu", i, k);
                harness_report(name, how, got, want);
                harness_failed++;
                return 0;
            }
        }
    }
    got = harness_run(ops, steps, nsteps, -1, 0, 1);
    if (got != want) {
        harness_report(name, "byte by byte", got, want);
        harness_failed++;
        return 0;
    }
    return 1;
}

#define CASE(ops, want, ...)                                                                \
    do {                                                                                    \
        static const struct step s_[] = {__VA_ARGS__};                                      \
        check_case(&(ops), #want ": " __FILE__ ":" _HARNESS_STR(__LINE__), s_,              \
                   (int)(sizeof s_ / sizeof *s_), (want));                                  \
    } while (0)
#define _HARNESS_STR2(x) #x
#define _HARNESS_STR(x) _HARNESS_STR2(x)
#define O(s) {'o', (s), sizeof(s) - 1}
#define I(s) {'i', (s), sizeof(s) - 1}

/* A goodbye: after the history steps (replayed whole and split at every
 * byte, as check_case does), the write `gb` must be recognised as `kind`;
 * each of its proper prefixes alone must not be another kind (a goodbye
 * split across writes goes to the server as written). For GB_REPLY and GB_RENAME the
 * edited bytes are then fed, with `reply` read after them (for GB_REPLY
 * the expected stand-in reply when reply is NULL), and the verdict must
 * be PV_CLEAN: the connection parks. (A prefix may be a whole goodbye of
 * the same kind: an HTTP head written before its body.) */
__attribute__((unused)) static void goodbye_state(const struct proto_ops *ops, struct proto_state *st, const struct step *steps,
                          int nsteps, int split, size_t k)
{
    memset(st, 0xa5, sizeof *st);
    ops->init(st);
    for (int i = 0; i < nsteps; i++) {
        size_t n = harness_len(&steps[i]);
        if (i == split) {
            harness_feed(ops, st, steps[i].dir, steps[i].data, k);
            harness_feed(ops, st, steps[i].dir, steps[i].data + k, n - k);
        } else {
            harness_feed(ops, st, steps[i].dir, steps[i].data, n);
        }
    }
}

__attribute__((unused)) static int goodbye_one(const struct proto_ops *ops, const struct proto_state *st0, const char *gb, size_t n,
                       int kind, const char *reply)
{
    struct proto_goodbye g;
    if (ops->goodbye(st0, (const unsigned char *)gb, n, &g) != kind)
        return 0;
    for (size_t k = 1; kind != GB_NONE && k < n; k++) {
        int got = ops->goodbye(st0, (const unsigned char *)gb, k, &g);
        if (got != GB_NONE && got != kind)
            return 0;
    }
    if (kind != GB_REPLY && kind != GB_RENAME)
        return 1;
    ops->goodbye(st0, (const unsigned char *)gb, n, &g);
    if (g.off + g.len > n || strlen(g.with) < g.len)
        return 0;
    struct proto_state st = *st0;
    ops->out(&st, (const unsigned char *)gb, g.off);
    ops->out(&st, (const unsigned char *)g.with, g.len);
    ops->out(&st, (const unsigned char *)gb + g.off + g.len, n - g.off - g.len);
    if (reply)
        ops->in(&st, (const unsigned char *)reply, strlen(reply));
    else
        ops->in(&st, g.expect, g.expect_len);
    return ops->verdict(&st) == PV_CLEAN;
}

__attribute__((unused)) static int check_goodbye(const struct proto_ops *ops, const char *name, const struct step *steps, int nsteps,
                         const char *gb, size_t n, int kind, const char *reply)
{
    struct proto_state st;
    harness_cases++;
    goodbye_state(ops, &st, steps, nsteps, -1, 0);
    int ok = goodbye_one(ops, &st, gb, n, kind, reply);
    for (int i = 0; ok && i < nsteps; i++)
        for (size_t k = 1; ok && k < harness_len(&steps[i]); k++) {
            goodbye_state(ops, &st, steps, nsteps, i, k);
            ok = goodbye_one(ops, &st, gb, n, kind, reply);
        }
    if (!ok) {
        fprintf(stderr, "FAIL goodbye %s\n", name);
        harness_failed++;
    }
    return ok;
}

#define GOODBYE(ops, kind, gb, reply, ...)                                                  \
    do {                                                                                    \
        static const struct step s_[] = {__VA_ARGS__};                                      \
        check_goodbye(&(ops), #kind ": " __FILE__ ":" _HARNESS_STR(__LINE__), s_,           \
                      (int)(sizeof s_ / sizeof *s_), (gb), sizeof(gb) - 1, (kind), (reply)); \
    } while (0)

static int harness_done(const char *what)
{
    printf("%s: %d cases, %d failed\n", what, harness_cases, harness_failed);
    return harness_failed ? 1 : 0;
}
#endif
