/* line_test.c - the line parser (preload/conn/proto/line.c) alone: a line
 * written is a request, a line read its reply. Each CASE is replayed
 * whole, split at every byte and byte by byte (harness.h); the pipeline
 * bound and a long line are checked at run time.
 */
#include "harness.h"

#define P proto_line_ops

static void clean_cases(void)
{
    CASE(P, PV_CLEAN, O(""));
    CASE(P, PV_CLEAN, O("REQ a\n"), I("REP a\n"));
    CASE(P, PV_CLEAN, O("REQ a\r\n"), I("REP a\r\n"));
    CASE(P, PV_CLEAN, O("\n"), I("\n")); /* empty lines count */
    CASE(P, PV_CLEAN, O("REQ a\nREQ b\nREQ c\n"), I("REP a\nREP b\nREP c\n"));
    CASE(P, PV_CLEAN, O("REQ a\nREQ b\n"), I("REP a\n"), O("REQ c\n"), I("REP b\nREP c\n"));
    CASE(P, PV_CLEAN, O("REQ a\n"), I("REP a\n"), O("REQ b\n"), I("REP b\n")); /* next lease */
    CASE(P, PV_CLEAN, O("R"), O("EQ a"), O("\n"), I("RE"), I("P a\n"));
    /* bytes of other protocols are just line content */
    CASE(P, PV_CLEAN, O("*1\r\n$4\r\nPING\r\n"), I("+1\n+2\n+3\n"));
    CASE(P, PV_CLEAN, O("a\0b\n"), I("\xff\xfe\n"));
}

static void incomplete_cases(void)
{
    CASE(P, PV_INCOMPLETE, O("REQ a\n"));
    CASE(P, PV_INCOMPLETE, O("REQ a"));
    CASE(P, PV_INCOMPLETE, O("REQ a\nREQ b"), I("REP a\n"));
    CASE(P, PV_INCOMPLETE, O("REQ a\n"), I("REP a"));
    CASE(P, PV_INCOMPLETE, O("REQ a\n"), I("REP a\r"));
    CASE(P, PV_INCOMPLETE, O("REQ a\nREQ b\n"), I("REP a\n"));
    CASE(P, PV_INCOMPLETE, O("REQ a\nREQ b\n"), I("REP a\nREP"));
    CASE(P, PV_INCOMPLETE, O("REQ a\n"), I("REP a\n"), O("REQ b\n"));
}

static void confused_cases(void)
{
    CASE(P, PV_CONFUSED, I("HELLO\n"));            /* the server speaks first */
    CASE(P, PV_CONFUSED, I("H"));
    CASE(P, PV_CONFUSED, O("REQ a"), I("REP a\n")); /* answered before it was whole */
    CASE(P, PV_CONFUSED, O("REQ a\n"), I("REP a\nREP b\n"));
    CASE(P, PV_CONFUSED, O("REQ a\n"), I("REP a\nX"));
    CASE(P, PV_CONFUSED, I("X\n"), O("REQ a\n"), I("REP a\n")); /* sticky */
    CASE(P, PV_CONFUSED, O("REQ a\n"), I("REP a\n\n"), O("REQ b\n"), I("REP b\n"));
}

static void expect(const char *name, int got, int want)
{
    harness_cases++;
    if (got != want) {
        harness_report(name, "run-time", got, want);
        harness_failed++;
    }
}

/* 2^20 lines outstanding are followed, one more is not; a line of 1 MiB
 * costs nothing but its chunks. */
static void bound_cases(void)
{
    static unsigned char buf[1 << 16];
    struct proto_state st;
    memset(buf, '\n', sizeof buf);
    P.init(&st);
    for (int i = 0; i < 16; i++)
        P.out(&st, buf, sizeof buf);
    expect("INCOMPLETE: 2^20 lines outstanding", P.verdict(&st), PV_INCOMPLETE);
    for (int i = 0; i < 16; i++)
        P.in(&st, buf, sizeof buf);
    expect("CLEAN: 2^20 lines answered", P.verdict(&st), PV_CLEAN);
    for (int i = 0; i < 16; i++)
        P.out(&st, buf, sizeof buf);
    P.out(&st, buf, 1);
    expect("CONFUSED: 2^20 + 1 lines outstanding", P.verdict(&st), PV_CONFUSED);

    memset(buf, 'x', sizeof buf);
    memset(&st, 0, sizeof st); /* zeroed memory is a fresh state */
    for (int i = 0; i < 16; i++)
        P.out(&st, buf, sizeof buf);
    expect("INCOMPLETE: 1 MiB of one line written", P.verdict(&st), PV_INCOMPLETE);
    P.out(&st, (const unsigned char *)"\n", 1);
    for (int i = 0; i < 16; i++)
        P.in(&st, buf, sizeof buf);
    expect("INCOMPLETE: 1 MiB of its reply read", P.verdict(&st), PV_INCOMPLETE);
    P.in(&st, (const unsigned char *)"\n", 1);
    expect("CLEAN: a 1 MiB line each way", P.verdict(&st), PV_CLEAN);
    expect("line has no reset", P.reset_req == NULL && P.reset_done == NULL, 1);
}

int main(void)
{
    clean_cases();
    incomplete_cases();
    confused_cases();
    bound_cases();
    return harness_done("line");
}
