/* postgres_test.c - the PostgreSQL parser (preload/conn/proto/postgres.c)
 * alone, on the bytes libpq 15 and PostgreSQL 15 exchange (captured with
 * strace): negotiation, start-up and authentication, simple and extended
 * queries, COPY both ways, and what is never reusable. Each CASE is
 * replayed whole, split at every byte and byte by byte (harness.h).
 */
#include "harness.h"

#define P proto_postgres_ops

/* What the program writes. */
#define SSLREQ "\0\0\0\x08\x04\xd2\x16\x2f"
#define GSSREQ "\0\0\0\x08\x04\xd2\x16\x30"
#define CANCEL "\0\0\0\x10\x04\xd2\x16\x2e" "\0\0\x12\x34\xde\xad\xbe\xef"
#define STARTUP "\0\0\0\x28\0\x03\0\0" "user\0u_trust\0database\0postgres\0\0"
#define MD5PW "p\0\0\0\x28" "md5" "0123456789abcdef0123456789abcdef" "\0"
#define QUERY "Q\0\0\0\x0d" "SELECT 1\0"
#define BEGIN "Q\0\0\0\x0a" "BEGIN\0"
#define SYNC "S\0\0\0\x04"
#define PARSE "P\0\0\0\x10" "\0" "SELECT 1\0" "\0\0"
#define BIND "B\0\0\0\x0c" "\0\0\0\0\0\0\0\0"
#define EXEC "E\0\0\0\x09" "\0\0\0\0\0"
#define COPYIN "Q\0\0\0\x16" "COPY t FROM STDIN\0"
#define CDATA "d\0\0\0\x06" "a\n"
#define CDONE "c\0\0\0\x04"
#define TERM "X\0\0\0\x04"

/* What the program reads. */
#define AUTHOK "R\0\0\0\x08\0\0\0\0"
#define AUTHMD5 "R\0\0\0\x0c\0\0\0\x05" "abcd"
#define AUTHSASL "R\0\0\0\x17\0\0\0\x0a" "SCRAM-SHA-256\0\0"
#define PSTATUS "S\0\0\0\x19" "client_encoding\0UTF8\0"
#define KEYDATA "K\0\0\0\x0c\0\0\x12\x34\xde\xad\xbe\xef"
#define ZI "Z\0\0\0\x05I"
#define ZT "Z\0\0\0\x05T"
#define ZE "Z\0\0\0\x05" "E"
#define WELCOME AUTHOK PSTATUS KEYDATA ZI
#define ROW "D\0\0\0\x0b\0\x01\0\0\0\x01" "1"
#define SELECTED "C\0\0\0\x0d" "SELECT 1\0"
#define BEGUN "C\0\0\0\x0a" "BEGIN\0"
#define ERROR "E\0\0\0\x0c" "SERROR\0\0"
#define NOTICE "N\0\0\0\x0d" "SNOTICE\0\0"
#define NOTIFY "A\0\0\0\x0d" "\0\0\0\x07" "ch\0" "x\0"
#define PARSED "1\0\0\0\x04"
#define BOUND "2\0\0\0\x04"
#define COPYINRESP "G\0\0\0\x07\0\0\0"
#define COPYOUTRESP "H\0\0\0\x07\0\0\0"
#define COPYBOTH "W\0\0\0\x07\0\0\0"
#define COPIED "C\0\0\0\x0b" "COPY 1\0"
#define LOADED "C\0\0\0\x09" "LOAD\0"

static void session_cases(void)
{
    CASE(P, PV_CLEAN, O(""));
    /* trust on a Unix socket: the start-up is the first write */
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME));
    CASE(P, PV_SESSION, O(STARTUP), I(AUTHOK), I(PSTATUS PSTATUS), I(KEYDATA), I(ZI));
    /* TCP: SSLRequest answered N first */
    CASE(P, PV_SESSION, O(SSLREQ), I("N"), O(STARTUP), I(WELCOME));
    CASE(P, PV_SESSION, O(GSSREQ), I("N"), O(SSLREQ), I("N"), O(STARTUP), I(WELCOME));
    /* md5 and cleartext */
    CASE(P, PV_SESSION, O(SSLREQ), I("N"), O(STARTUP), I(AUTHMD5), O(MD5PW), I(WELCOME));
    CASE(P, PV_SESSION, O(STARTUP), I("R\0\0\0\x08\0\0\0\x03"), O("p\0\0\0\x08" "pw1\0"),
         I(WELCOME));
    /* queries */
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(QUERY), I(SELECTED ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(QUERY QUERY), I(ROW SELECTED ZI),
         I(ROW SELECTED ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(BEGIN), I(BEGUN ZT), O(QUERY),
         I(ERROR ZE));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(QUERY), I(NOTICE ROW SELECTED ZI), I(NOTIFY),
         I(PSTATUS), I(NOTICE));
    /* extended protocol */
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(PARSE BIND EXEC SYNC),
         I(PARSED BOUND ROW SELECTED ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(PARSE BIND EXEC SYNC), I(ERROR ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(SYNC SYNC), I(ZI ZI));
    /* COPY in and out */
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(COPYIN), I(COPYINRESP), O(CDATA CDATA CDONE),
         I(COPIED ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(COPYIN), I(COPYINRESP),
         O(CDATA "f\0\0\0\x06" "x\0"), I(ERROR ZI));
    CASE(P, PV_SESSION, O(STARTUP), I(WELCOME), O(QUERY), I(COPYOUTRESP CDATA CDATA),
         I(CDONE COPIED ZI));
}

static void incomplete_cases(void)
{
    CASE(P, PV_INCOMPLETE, O(SSLREQ));
    CASE(P, PV_INCOMPLETE, O("\0\0\0\x08\x04\xd2"));
    CASE(P, PV_INCOMPLETE, O(SSLREQ), I("N")); /* the start-up never came */
    CASE(P, PV_INCOMPLETE, O(STARTUP));
    CASE(P, PV_INCOMPLETE, O("\0\0\0\x28\0\x03\0\0" "user\0u_tr"));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(AUTHOK PSTATUS KEYDATA));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(AUTHMD5));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(AUTHSASL));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O("Q\0\0\0\x0d" "SEL"));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY), I(ROW SELECTED));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY), I(ROW SELECTED "Z\0\0"));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY QUERY), I(ROW SELECTED ZI));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY), I(NOTICE ROW SELECTED ZI),
         I("N\0\0\0\x0d" "SNO"));
    /* extended messages after the last Sync */
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(PARSE BIND EXEC));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(PARSE BIND EXEC SYNC),
         I(PARSED BOUND ROW SELECTED ZI), O(PARSE "H\0\0\0\x04"), I(PARSED));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(SYNC));
    /* COPY not finished */
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(COPYIN), I(COPYINRESP), O(CDATA));
    CASE(P, PV_INCOMPLETE, O(STARTUP), I(WELCOME), O(QUERY), I(COPYOUTRESP CDATA));
}

static void never_cases(void)
{
    CASE(P, PV_NEVER, O(SSLREQ), I("S"));                     /* TLS */
    CASE(P, PV_NEVER, O(SSLREQ), I("S\x16\x03\x03"), O("\x16\x03\x01")); /* then TLS bytes */
    CASE(P, PV_NEVER, O(GSSREQ), I("G"));                     /* GSS encryption */
    CASE(P, PV_NEVER, O(SSLREQ), I("E"));                     /* a pre-7.0 server */
    CASE(P, PV_NEVER, O(CANCEL));                             /* a CancelRequest */
    CASE(P, PV_NEVER, O(STARTUP), I("E\0\0\0\x0c" "SFATAL\0\0")); /* start-up refused */
    CASE(P, PV_NEVER, O(STARTUP), I(AUTHMD5), O(MD5PW), I("E\0\0\0\x0c" "SFATAL\0\0"));
    CASE(P, PV_NEVER, O(STARTUP), I(WELCOME), O(TERM));       /* the goodbye */
    CASE(P, PV_NEVER, O(STARTUP), I(WELCOME), O(TERM QUERY));
    CASE(P, PV_NEVER, O(STARTUP), I(WELCOME), O(QUERY), I(LOADED ZI));
    CASE(P, PV_NEVER, O(STARTUP), I(WELCOME), O(QUERY), I(COPYBOTH));
    CASE(P, PV_NEVER, O(STARTUP), I(WELCOME), I(ERROR));      /* a FATAL unasked */
}

static void confused_cases(void)
{
    CASE(P, PV_CONFUSED, I(AUTHOK));                           /* the server speaks first */
    CASE(P, PV_CONFUSED, I("N"));
    CASE(P, PV_CONFUSED, O("\0\0\0\x28\0\x02\0\0" "user\0u_trust\0database\0postgres\0\0"));
    CASE(P, PV_CONFUSED, O("\0\0\0\x07\0\x03\0\0"));          /* shorter than its header */
    CASE(P, PV_CONFUSED, O("\0\0\x27\x11\0\x03\0\0"));        /* past 10000 bytes */
    CASE(P, PV_CONFUSED, O("\0\0\0\x10\x04\xd2\x16\x2f"));    /* SSLRequest of length 16 */
    CASE(P, PV_CONFUSED, O(SSLREQ SSLREQ));                   /* before the answer */
    CASE(P, PV_CONFUSED, O(SSLREQ), I("X"));
    CASE(P, PV_CONFUSED, O(STARTUP QUERY));                    /* a query during start-up */
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME ZI));           /* a Z nobody asked for */
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), I(ROW));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I("Z\0\0\0\x05X"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I("Z\0\0\0\x06II"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I("x\0\0\0\x04"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I("D\0\0\0\x03"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I("D\x40\0\0\x01"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O("q\0\0\0\x04"));
    CASE(P, PV_CONFUSED, O(STARTUP), I(WELCOME), O(QUERY), I(AUTHOK ZI));
    CASE(P, PV_CONFUSED, O(STARTUP), I(ROW));                  /* not a start-up message */
    CASE(P, PV_CONFUSED, I("x"), O(STARTUP), I(WELCOME));      /* sticky */
}

static void expect(const char *name, int got, int want)
{
    harness_cases++;
    if (got != want) {
        fprintf(stderr, "FAIL %s: %d, want %d\n", name, got, want);
        harness_failed++;
    }
}

#define FEED(f, s) P.f(&st, (const unsigned char *)(s), sizeof(s) - 1)

/* What the layer above reads: the status and the authentication method;
 * the pipeline bound. */
static void runtime_cases(void)
{
    struct proto_state st;
    memset(&st, 0, sizeof st); /* zeroed memory is a fresh state */
    expect("status before start-up", proto_pg_status(&st), 0);
    FEED(out, STARTUP);
    FEED(in, AUTHMD5);
    expect("auth md5", proto_pg_auth(&st), 5);
    FEED(out, MD5PW);
    FEED(in, WELCOME);
    expect("status I", proto_pg_status(&st), 'I');
    FEED(out, BEGIN);
    FEED(in, BEGUN ZT);
    expect("status T", proto_pg_status(&st), 'T');
    expect("auth kept", proto_pg_auth(&st), 5);

    P.init(&st);
    FEED(out, STARTUP);
    FEED(in, WELCOME);
    expect("trust: no auth", proto_pg_auth(&st), 0);

    /* SCRAM: the session is whole; the method is the layer above's to judge */
    P.init(&st);
    FEED(out, STARTUP);
    FEED(in, AUTHSASL);
    FEED(out, "p\0\0\0\x08" "abc\0");
    FEED(in, "R\0\0\0\x0b\0\0\0\x0b" "r=x");
    FEED(out, "p\0\0\0\x08" "abc\0");
    FEED(in, "R\0\0\0\x0b\0\0\0\x0c" "v=x");
    FEED(in, WELCOME);
    expect("SCRAM: a session", P.verdict(&st), PV_SESSION);
    expect("SCRAM: auth 10", proto_pg_auth(&st), 10);

    P.init(&st);
    FEED(out, STARTUP);
    FEED(in, WELCOME);
    for (unsigned i = 0; i < (1u << 20); i++)
        FEED(out, SYNC);
    expect("2^20 Syncs outstanding", P.verdict(&st), PV_INCOMPLETE);
    FEED(out, SYNC);
    expect("2^20 + 1 Syncs outstanding", P.verdict(&st), PV_CONFUSED);

    /* a 1 GiB message is followed, a longer one is not */
    P.init(&st);
    FEED(out, STARTUP);
    FEED(in, WELCOME);
    FEED(out, QUERY);
    FEED(in, "D\x40\0\0\0");
    expect("1 GiB row half-read", P.verdict(&st), PV_INCOMPLETE);
}

int main(void)
{
    session_cases();
    incomplete_cases();
    never_cases();
    confused_cases();
    runtime_cases();
    return harness_done("postgres");
}
