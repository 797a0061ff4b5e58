/* redis_test.c - the Redis parser (preload/conn/proto/redis.c) alone:
 * RESP and inline commands, RESP2 and RESP3 replies, pipelines, partly
 * read replies, the session-changing and never-park commands, the reset,
 * and every bound. Each CASE is replayed whole, split at every byte and
 * byte by byte (harness.h); the cases built at run time (large values,
 * deep pipelines, the reset) are checked here.
 */
#include "harness.h"

#define P proto_redis_ops

/* Commands as redis-py writes them. */
#define PING "*1\r\n$4\r\nPING\r\n"
#define GET_K "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
#define SET_KV "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
#define MULTI "*1\r\n$5\r\nMULTI\r\n"
#define EXEC "*1\r\n$4\r\nEXEC\r\n"
#define OK "+OK\r\n"

static void basic_cases(void)
{
    CASE(P, PV_CLEAN, O(""));                              /* nothing exchanged */
    CASE(P, PV_CLEAN, O(""), I(""));
    CASE(P, PV_CLEAN, O(PING), I("+PONG\r\n"));
    CASE(P, PV_CLEAN, O(SET_KV), I(OK), O(GET_K), I("$1\r\nv\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("$-1\r\n"));             /* RESP2 null bulk */
    CASE(P, PV_CLEAN, O(GET_K), I("$0\r\n\r\n"));          /* empty bulk */
    CASE(P, PV_CLEAN, O("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"), I(":42\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"), I(":-7\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("-WRONGTYPE Operation against a key\r\n"));
    CASE(P, PV_CLEAN, O("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"), I(OK)); /* empty argument */
    CASE(P, PV_CLEAN, O("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\r\n\r\n"), I(OK)); /* CRLF in a value */
    /* binary value with '*', '$' and CR in it, counted not scanned */
    CASE(P, PV_CLEAN, O("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\n*\r$\n+\r\n"), I(OK),
         O(GET_K), I("$5\r\n*\r$\n+\r\n"));
    /* arrays: MGET, null array, empty array, nested */
    CASE(P, PV_CLEAN, O("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"), I("*2\r\n$1\r\n1\r\n$-1\r\n"));
    CASE(P, PV_CLEAN, O("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n1\r\n"), I("*-1\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$4\r\nKEYS\r\n$1\r\nx\r\n"), I("*0\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n"),
         I("*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n:1\r\n"));
    CASE(P, PV_CLEAN, O("*3\r\n$4\r\nEVAL\r\n$9\r\nreturn {}\r\n$1\r\n0\r\n"),
         I("*2\r\n*2\r\n*0\r\n*1\r\n*1\r\n:1\r\n+x\r\n"));
    /* a null in RESP2 array position */
    CASE(P, PV_CLEAN, O("*1\r\n$4\r\nEXEC\r\n"), I("*-1\r\n"));
}

static void resp3_cases(void)
{
    /* HELLO 3 itself is SESSION; these are RESP3 replies on a clean line */
    CASE(P, PV_CLEAN, O(GET_K), I("_\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I(",3.14\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I(",inf\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("#t\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("(3492890328409238509324850943850943825024385\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("!21\r\nSYNTAX invalid syntax\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("=15\r\ntxt:Some string\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n"),
         I("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n"), I("%0\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$8\r\nSMEMBERS\r\n$1\r\ns\r\n"), I("~3\r\n+a\r\n+b\r\n+c\r\n"));
    /* maps of arrays of maps */
    CASE(P, PV_CLEAN, O(GET_K), I("%1\r\n$1\r\nk\r\n*2\r\n%1\r\n+a\r\n_\r\n~1\r\n#f\r\n"));
    /* attributes: before a top-level reply, before an element, empty */
    CASE(P, PV_CLEAN, O(GET_K), I("|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
                                  "*2\r\n:2039123\r\n:9543892\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("|0\r\n+OK\r\n"));
    CASE(P, PV_CLEAN, O(GET_K), I("*1\r\n|1\r\n+a\r\n|1\r\n+b\r\n+c\r\n+d\r\n+e\r\n"));
    /* an attribute read, its reply not yet: incomplete */
    CASE(P, PV_INCOMPLETE, O(GET_K), I("|1\r\n+ttl\r\n:3600\r\n"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n"));
}

static void pipeline_cases(void)
{
    CASE(P, PV_CLEAN, O(PING PING PING), I("+PONG\r\n+PONG\r\n+PONG\r\n"));
    CASE(P, PV_CLEAN, O(PING PING), I("+PONG\r\n"), O(PING), I("+PONG\r\n+PONG\r\n"));
    CASE(P, PV_CLEAN, O(SET_KV GET_K), I("+OK\r\n$1\r\nv\r\n"));
    CASE(P, PV_INCOMPLETE, O(PING PING PING), I("+PONG\r\n+PONG\r\n"));
    CASE(P, PV_INCOMPLETE, O(PING PING), I("+PONG\r\n+PO"));
    /* the state carries over: a second lease's exchange on the same state */
    CASE(P, PV_CLEAN, O(PING), I("+PONG\r\n"), O(SET_KV), I(OK), O(GET_K), I("$1\r\nv\r\n"));
    /* MULTI ... EXEC: one reply per command, the transaction closed */
    CASE(P, PV_CLEAN, O(MULTI SET_KV GET_K EXEC), I("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\nv\r\n"));
    CASE(P, PV_CLEAN, O(MULTI), I(OK), O(SET_KV), I("+QUEUED\r\n"), O("*1\r\n$7\r\nDISCARD\r\n"), I(OK));
    CASE(P, PV_CLEAN, O("*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n" MULTI SET_KV EXEC), I("+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n*1\r\n$7\r\nUNWATCH\r\n"), I(OK OK));
    /* an aborted transaction is closed too */
    CASE(P, PV_CLEAN, O(MULTI "*1\r\n$3\r\nBAD\r\n" EXEC),
         I("+OK\r\n-ERR unknown command 'BAD'\r\n-EXECABORT Transaction discarded\r\n"));
    /* a blocking command answered, and not (yet) */
    CASE(P, PV_CLEAN, O("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"), I("*2\r\n$1\r\nq\r\n$1\r\nx\r\n"));
    CASE(P, PV_INCOMPLETE, O("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"));
    /* *0 and *-1 from the program are no command: no reply comes */
    CASE(P, PV_CLEAN, O("*0\r\n"));
    CASE(P, PV_CLEAN, O("*-1\r\n" PING), I("+PONG\r\n"));
}

static void inline_cases(void)
{
    CASE(P, PV_CLEAN, O("PING\r\n"), I("+PONG\r\n"));
    CASE(P, PV_CLEAN, O("PING\n"), I("+PONG\r\n"));
    CASE(P, PV_CLEAN, O("SET k v\r\nGET k\r\n"), I("+OK\r\n$1\r\nv\r\n"));
    CASE(P, PV_CLEAN, O("  \t SET   k\tv  \r\n"), I(OK));
    CASE(P, PV_CLEAN, O("\r\n"));      /* an empty line: no command, no reply */
    CASE(P, PV_CLEAN, O(" \t \r\n\n")); /* white space alone: the same */
    CASE(P, PV_CLEAN, O("ECHO \"a b\"\r\n"), I("$3\r\na b\r\n")); /* quotes past the name */
    CASE(P, PV_CLEAN, O("PING\r\n" PING "PING\n"), I("+PONG\r\n+PONG\r\n+PONG\r\n")); /* mixed */
    CASE(P, PV_INCOMPLETE, O("PING"));
    CASE(P, PV_INCOMPLETE, O("PING\r"));
    CASE(P, PV_INCOMPLETE, O(" "));
    CASE(P, PV_INCOMPLETE, O("PING\r\n"));
    CASE(P, PV_SESSION, O("select 1\r\n"), I(OK));
    CASE(P, PV_SESSION, O("client   tracking on\n"), I(OK));
    CASE(P, PV_NEVER, O("client reply off\r\n"));
    CASE(P, PV_NEVER, O("SUBSCRIBE ch\r\n"));
    CASE(P, PV_SESSION, O("hello 3 setname x\r\n"), I("%0\r\n"));
    /* a name or subcommand longer than any keyword is just another command */
    CASE(P, PV_CLEAN, O("SELECTSELECTSELECTSELECTSELECT 1\r\n"), I("-ERR unknown command\r\n"));
    CASE(P, PV_CLEAN, O("CLIENT TRACKINGTRACKINGTRACKINGTRACKING on\r\n"), I("-ERR unknown\r\n"));
    CASE(P, PV_CLEAN, O("SELECTX 1\r\n"), I("-ERR unknown\r\n"));
    /* quotes in the words that classify a command are not followed */
    CASE(P, PV_CONFUSED, O("\"SELECT\" 1\r\n"), I(OK));
    CASE(P, PV_CONFUSED, O("CLIENT 'SETNAME' x\r\n"));
}

static void incomplete_cases(void)
{
    CASE(P, PV_INCOMPLETE, O(PING));
    CASE(P, PV_INCOMPLETE, O("*1\r\n$4\r\nPI"));     /* half-written command */
    CASE(P, PV_INCOMPLETE, O("*1\r\n$4\r\nPING\r"));
    CASE(P, PV_INCOMPLETE, O("*2\r\n$3\r\nGET\r\n"));
    CASE(P, PV_INCOMPLETE, O("*1"));
    CASE(P, PV_INCOMPLETE, O("*"));
    CASE(P, PV_INCOMPLETE, O(PING), I("+PONG\r"));
    CASE(P, PV_INCOMPLETE, O(PING), I("+PONG"));
    CASE(P, PV_INCOMPLETE, O(PING), I("+"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("$5\r\nhel"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("$5\r\nhello"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("$5\r\nhello\r"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("$5"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("*2\r\n$1\r\na\r\n"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("*2\r\n$1\r\na\r\n*1\r\n"));
    CASE(P, PV_INCOMPLETE, O(GET_K), I("%1\r\n+a\r\n"));
    /* replies all read, the next command half-written */
    CASE(P, PV_INCOMPLETE, O(PING), I("+PONG\r\n"), O("*1\r\n"));
    /* a session command half-answered is incomplete first */
    CASE(P, PV_INCOMPLETE, O("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"), I("+O"));
}

#define CMD1(name) "*1\r\n$" #name "\r\n"
static void session_cases(void)
{
    CASE(P, PV_SESSION, O("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*2\r\n$6\r\nselect\r\n$1\r\n0\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*2\r\n$6\r\nSeLeCt\r\n$1\r\n2\r\n"), I(OK), O(PING), I("+PONG\r\n"));
    CASE(P, PV_SESSION, O("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$2\r\npw\r\n"), I("-WRONGPASS invalid\r\n"));
    CASE(P, PV_SESSION, O("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"),
         I("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n"
           "$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
           "$7\r\nmodules\r\n*0\r\n"));
    CASE(P, PV_SESSION, O("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n"), I("%0\r\n"));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nclient\r\n$8\r\ntracking\r\n$3\r\noff\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nCLIENT\r\n$8\r\nNO-EVICT\r\n$2\r\non\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nCLIENT\r\n$8\r\nno-touch\r\n$2\r\non\r\n"), I(OK));
    CASE(P, PV_SESSION, O(CMD1(8) "READONLY\r\n"), I(OK));
    CASE(P, PV_SESSION, O(CMD1(9) "READWRITE\r\n"), I(OK));
    CASE(P, PV_SESSION, O(CMD1(6) "ASKING\r\n"), I(OK));
    CASE(P, PV_SESSION, O(MULTI), I(OK));                               /* in multi */
    CASE(P, PV_SESSION, O(MULTI SET_KV), I("+OK\r\n+QUEUED\r\n"));
    CASE(P, PV_SESSION, O(MULTI MULTI EXEC MULTI), I("+OK\r\n-ERR nested\r\n*0\r\n+OK\r\n"));
    CASE(P, PV_SESSION, O("*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n"), I(OK));   /* watching */
    CASE(P, PV_SESSION, O("*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n" PING), I("+OK\r\n+PONG\r\n"));
    /* SESSION once set holds until the reset, even after EXEC or RESET
     * from the program itself */
    CASE(P, PV_SESSION, O("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n" MULTI EXEC), I("+OK\r\n+OK\r\n*0\r\n"));
    CASE(P, PV_SESSION, O("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n" CMD1(5) "RESET\r\n"), I("+OK\r\n+RESET\r\n"));
    /* the program's own RESET ends its transaction */
    CASE(P, PV_CLEAN, O(MULTI CMD1(5) "RESET\r\n"), I("+OK\r\n+RESET\r\n"));
    /* other CLIENT subcommands and containers change nothing */
    CASE(P, PV_CLEAN, O("*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n"), I(":12\r\n"));
    CASE(P, PV_CLEAN, O("*3\r\n$6\r\nSCRIPT\r\n$6\r\nEXISTS\r\n$40\r\n"
                        "e0e1f9fabfc9d4800c877a703b823ac0578ff831\r\n"), I("*1\r\n:0\r\n"));
    CASE(P, PV_CLEAN, O("SCRIPT FLUSH\r\n"), I(OK));
    CASE(P, PV_CLEAN, O("*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n"), I("$5\r\nid=12\r\n"));
    CASE(P, PV_CLEAN, O("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$8\r\nTRACKING\r\n"), I("*0\r\n"));
    CASE(P, PV_CLEAN, O("*2\r\n$3\r\nGET\r\n$6\r\nSELECT\r\n"), I("$-1\r\n")); /* a key, not a command */
    CASE(P, PV_INCOMPLETE, O("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"));
}

/* What redis-py >= 5, node-redis, go-redis 9, Jedis 5 and Lettuce send on
 * every connect. */
#define SETINFO_NAME "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis-py\r\n"
#define SETINFO_VER "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$7\r\nLIB-VER\r\n$5\r\n5.0.1\r\n"
#define SETINFO_ERR "-ERR Unknown subcommand or wrong number of arguments for 'SETINFO'. Try CLIENT HELP.\r\n"
#define SETNAME_X "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$1\r\nx\r\n"

/* CLIENT SETINFO does not stop a park (RESET keeps lib-name and lib-ver:
 * nothing to reset); its reply is read like any other, +OK (Redis >= 7.2)
 * or an error (before). CLIENT SETNAME, and HELLO's SETNAME, are session
 * state: RESET clears the name. */
static void client_info_cases(void)
{
    CASE(P, PV_CLEAN, O(SETINFO_NAME), I(OK));
    CASE(P, PV_CLEAN, O(SETINFO_NAME), I(SETINFO_ERR));
    CASE(P, PV_CLEAN, O(SETINFO_NAME), I(OK), O(SETINFO_VER), I(OK), O(SET_KV), I(OK), O(GET_K), I("$1\r\nv\r\n"));
    CASE(P, PV_CLEAN, O(SETINFO_NAME), I(SETINFO_ERR), O(SETINFO_VER), I(SETINFO_ERR), O(GET_K), I("$-1\r\n"));
    CASE(P, PV_CLEAN, O(SETINFO_NAME SETINFO_VER GET_K), I(SETINFO_ERR SETINFO_ERR "$-1\r\n")); /* pipelined */
    CASE(P, PV_CLEAN, O("client setinfo lib-name redis-py\r\n"), I(OK));
    CASE(P, PV_CLEAN, O("*4\r\n$6\r\nclient\r\n$7\r\nsetinfo\r\n$7\r\nlib-ver\r\n$5\r\n5.0.1\r\n"), I(OK));
    /* its reply unread, or half read: not parked */
    CASE(P, PV_INCOMPLETE, O(SETINFO_NAME));
    CASE(P, PV_INCOMPLETE, O(SETINFO_NAME SETINFO_VER), I(SETINFO_ERR));
    CASE(P, PV_INCOMPLETE, O(SETINFO_NAME), I("-ERR Unknown subcommand"));
    CASE(P, PV_INCOMPLETE, O("*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis"));
    /* a name: reset, then parked */
    CASE(P, PV_SESSION, O(SETNAME_X), I(OK));
    CASE(P, PV_SESSION, O(SETINFO_NAME SETNAME_X), I(SETINFO_ERR OK));
    CASE(P, PV_SESSION, O("client setname x\r\n"), I(OK));
    CASE(P, PV_SESSION, O("*3\r\n$6\r\nclient\r\n$7\r\nsetname\r\n$0\r\n\r\n"), I(OK)); /* the name cleared: still reset */
    CASE(P, PV_SESSION, O("*4\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$7\r\nSETNAME\r\n$1\r\nx\r\n"), I("%0\r\n"));
    CASE(P, PV_SESSION, O("*7\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n$7\r\nsetname\r\n$1\r\nx\r\n"),
         I("%0\r\n"));
    CASE(P, PV_INCOMPLETE, O(SETNAME_X));
    /* the other CLIENT subcommands that cannot be undone stay never */
    CASE(P, PV_NEVER, O(SETINFO_NAME "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$1\r\n5\r\n"),
         I(OK ":1\r\n"));
}

static void never_cases(void)
{
    CASE(P, PV_NEVER, O("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n"), I("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"));
    CASE(P, PV_NEVER, O("*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nc*\r\n"));
    CASE(P, PV_NEVER, O("*2\r\n$10\r\nssubscribe\r\n$2\r\nch\r\n"));
    CASE(P, PV_NEVER, O("*3\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"),
         I("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"));
    CASE(P, PV_NEVER, O(CMD1(7) "MONITOR\r\n"), I(OK "+1700000000.1 [0 127.0.0.1:1] \"PING\"\r\n"));
    CASE(P, PV_NEVER, O(CMD1(4) "QUIT\r\n"), I(OK));
    CASE(P, PV_NEVER, O(CMD1(4) "SYNC\r\n"));
    CASE(P, PV_NEVER, O("*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n"));
    CASE(P, PV_NEVER, O("*3\r\n$8\r\nREPLCONF\r\n$4\r\nport\r\n$4\r\n6380\r\n"), I(OK));
    CASE(P, PV_NEVER, O(CMD1(8) "SHUTDOWN\r\n"));
    CASE(P, PV_NEVER, O("*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$1\r\n5\r\n"), I(":1\r\n"));
    CASE(P, PV_NEVER, O("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n"));
    CASE(P, PV_NEVER, O("*3\r\n$6\r\nSCRIPT\r\n$5\r\nDEBUG\r\n$3\r\nYES\r\n"), I(OK));
    CASE(P, PV_NEVER, O("script debug sync\r\n"), I(OK));
    CASE(P, PV_NEVER, O("*3\r\n$6\r\nCLIENT\r\n$5\r\nreply\r\n$4\r\nskip\r\n" PING));
    /* a push reply: at top level, between replies, nested; unasked too */
    CASE(P, PV_NEVER, O(GET_K), I(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$-1\r\n"));
    CASE(P, PV_NEVER, O(GET_K), I("$-1\r\n>2\r\n+a\r\n+b\r\n"));
    CASE(P, PV_NEVER, O(GET_K), I("*1\r\n>1\r\n+a\r\n"));
    CASE(P, PV_NEVER, I(">2\r\n+message\r\n+x\r\n"));
    /* sticky: whatever follows */
    CASE(P, PV_NEVER, O("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n"), I("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"),
         O(PING), I("*2\r\n$4\r\npong\r\n$0\r\n\r\n"), I("+junk\r\n"));
    CASE(P, PV_NEVER, O(CMD1(4) "QUIT\r\n"), I(OK), O(PING), I("+PONG\r\n"));
}

static void confused_cases(void)
{
    CASE(P, PV_CONFUSED, I("+OK\r\n"));                      /* nothing asked */
    CASE(P, PV_CONFUSED, I("-ERR\r\n"));
    CASE(P, PV_CONFUSED, O(PING), I("+PONG\r\n+PONG\r\n")); /* more replies than commands */
    CASE(P, PV_CONFUSED, O("*1\r\n$4\r\nPI"), I("+PONG\r\n")); /* answered before it was whole */
    CASE(P, PV_CONFUSED, O(PING), I("?what\r\n"));          /* not a type byte */
    CASE(P, PV_CONFUSED, O(PING), I("+PONG\n"));            /* LF without CR */
    CASE(P, PV_CONFUSED, O(PING), I("+PONG\n\r\n"));
    CASE(P, PV_CONFUSED, O(PING), I("+PONG\rX"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$1\r\nvv\r\n"));       /* bulk longer than said */
    CASE(P, PV_CONFUSED, O(GET_K), I("$1\r\nv\rX"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$\r\n"));              /* no digits */
    CASE(P, PV_CONFUSED, O(GET_K), I("$-\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$1x\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$1\rx"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$-2\r\n"));            /* only -1 is a null */
    CASE(P, PV_CONFUSED, O(GET_K), I("%-1\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("!-1\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$1-\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("$?\r\n;4\r\nHell\r\n;0\r\n"));  /* streamed string */
    CASE(P, PV_CONFUSED, O(GET_K), I("*?\r\n:1\r\n.\r\n"));           /* streamed aggregate */
    CASE(P, PV_CONFUSED, O(GET_K), I("$1099511627777\r\n"));  /* a bulk over 2^40 bytes */
    CASE(P, PV_CONFUSED, O(GET_K), I("$99999999999999999999999999\r\n")); /* overflow */
    CASE(P, PV_CONFUSED, O(GET_K), I("*1073741825\r\n"));     /* more than 2^30 elements */
    CASE(P, PV_CONFUSED, O(GET_K), I("%1073741825\r\n"));
    /* the program's bytes that are not RESP */
    CASE(P, PV_CONFUSED, O("*1\r\nPING\r\n"));               /* no '$' */
    CASE(P, PV_CONFUSED, O("*x\r\n"));
    CASE(P, PV_CONFUSED, O("*\r\n"));
    CASE(P, PV_CONFUSED, O("*1\n"));
    CASE(P, PV_CONFUSED, O("*1\r\n$x\r\n"));
    CASE(P, PV_CONFUSED, O("*1\r\n$-1\r\n"));
    CASE(P, PV_CONFUSED, O("*1\r\n$4\r\nPINGXX"));           /* payload past its length */
    CASE(P, PV_CONFUSED, O("*1\r\n$4\r\nPING\rX"));
    CASE(P, PV_CONFUSED, O("*1\r\n$4\nPING\r\n"));
    CASE(P, PV_CONFUSED, O("*2147483648\r\n"));              /* more than INT_MAX arguments */
    CASE(P, PV_CONFUSED, O("*1\r\n$1099511627777\r\n"));     /* an argument over 2^40 bytes */
    CASE(P, PV_CONFUSED, O("*1\r\n$99999999999999999999999\r\n"));
    /* sticky: a good exchange after it does not clear it */
    CASE(P, PV_CONFUSED, I("+OK\r\n"), O(PING), I("+PONG\r\n"));
    CASE(P, PV_CONFUSED, O("*x\r\n"), O(PING), I("+PONG\r\n"));
    /* nesting: 16 levels are followed, 17 are not */
    CASE(P, PV_CLEAN, O(GET_K), I("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                                  "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                                     "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"));
    /* 16 levels counting attributes and maps; empty aggregates take no level */
    CASE(P, PV_CLEAN, O(GET_K), I("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                                  "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*0\r\n"));
    CASE(P, PV_CONFUSED, O(GET_K), I("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                                     "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n%1\r\n|1\r\n+a\r\n+b\r\n+c\r\n+d\r\n"));
}

/* Run-time cases: a value too big for a literal, split anywhere, costs a
 * step per chunk (the harness replays it once per split point). */
static void large_value_cases(void)
{
    static char cmd[70000], reply[70000], val[65536];
    memset(val, 'x', sizeof val);
    val[100] = '\r';
    val[101] = '\n';
    val[200] = '*';
    int c = snprintf(cmd, sizeof cmd, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%zu\r\n", sizeof val);
    memcpy(cmd + c, val, sizeof val);
    memcpy(cmd + c + sizeof val, "\r\n", 2);
    int r = snprintf(reply, sizeof reply, "$%zu\r\n", sizeof val);
    memcpy(reply + r, val, sizeof val);
    memcpy(reply + r + sizeof val, "\r\n", 2);
    struct step s[] = {
        {'o', cmd, (size_t)c + sizeof val + 2}, {'i', OK, 5},
        {'o', GET_K, sizeof GET_K - 1},         {'i', reply, (size_t)r + sizeof val + 2},
    };
    check_case(&P, "CLEAN: 64 KiB value set and got", s, 4, PV_CLEAN);
    s[3].len -= 1; /* the reply's last byte not read */
    check_case(&P, "INCOMPLETE: 64 KiB reply but its last byte", s, 4, PV_INCOMPLETE);
    s[3].len = (size_t)r + 1000;
    check_case(&P, "INCOMPLETE: 64 KiB reply, 1000 bytes read", s, 4, PV_INCOMPLETE);
}

static void expect(const char *name, int got, int want)
{
    harness_cases++;
    if (got != want) {
        harness_report(name, "run-time", got, want);
        harness_failed++;
    }
}

static void expect_true(const char *name, int ok)
{
    harness_cases++;
    if (!ok) {
        fprintf(stderr, "FAIL %s\n", name);
        harness_failed++;
    }
}

static void feed(struct proto_state *st, char dir, const char *s)
{
    harness_feed(&P, st, dir, s, strlen(s));
}

/* The lease layer sends RESET, reads +RESET, then calls reset_done(): the
 * next lease starts clean, on the same state. */
static void reset_cases(void)
{
    struct proto_state st;
    memset(&st, 0xa5, sizeof st);
    P.init(&st);
    feed(&st, 'o', "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n" MULTI);
    feed(&st, 'i', "+OK\r\n+OK\r\n");
    expect("SESSION: select and multi before the reset", P.verdict(&st), PV_SESSION);
    P.reset_done(&st);
    expect("CLEAN: after the reset", P.verdict(&st), PV_CLEAN);
    feed(&st, 'o', GET_K);
    expect("INCOMPLETE: the next lease's command", P.verdict(&st), PV_INCOMPLETE);
    feed(&st, 'i', "$1\r\nv\r\n");
    expect("CLEAN: the next lease's exchange", P.verdict(&st), PV_CLEAN);
    feed(&st, 'o', "*2\r\n$5\r\nWATCH\r\n$1\r\nk\r\n");
    feed(&st, 'i', OK);
    expect("SESSION: watch on the next lease", P.verdict(&st), PV_SESSION);
    P.reset_done(&st);
    expect("CLEAN: after the second reset", P.verdict(&st), PV_CLEAN);
    feed(&st, 'o', SETINFO_NAME SETINFO_VER SETNAME_X);
    feed(&st, 'i', SETINFO_ERR SETINFO_ERR OK);
    expect("SESSION: setinfo and setname on the next lease", P.verdict(&st), PV_SESSION);
    P.reset_done(&st);
    expect("CLEAN: after the third reset (the name cleared)", P.verdict(&st), PV_CLEAN);
    feed(&st, 'o', SETINFO_NAME);
    feed(&st, 'i', OK);
    expect("CLEAN: setinfo alone on the next lease", P.verdict(&st), PV_CLEAN);
    expect_true("the reset request is RESET",
                P.reset_req_len == 15 && !memcmp(P.reset_req, "*1\r\n$5\r\nRESET\r\n", 15));
    expect_true("its reply is +RESET", P.reset_reply_len == 8 && !memcmp(P.reset_reply, "+RESET\r\n", 8));
    /* zeroed memory is a fresh state */
    memset(&st, 0, sizeof st);
    expect("CLEAN: zeroed state", P.verdict(&st), PV_CLEAN);
    feed(&st, 'o', PING);
    feed(&st, 'i', "+PONG\r\n");
    expect("CLEAN: exchange on a zeroed state", P.verdict(&st), PV_CLEAN);
}

/* The pipeline bound: 2^20 commands outstanding are followed, one more is
 * not. */
static void pending_bound_cases(void)
{
    static char buf[14 * 4096];
    for (int i = 0; i < 4096; i++)
        memcpy(buf + 14 * i, PING, 14);
    struct proto_state st;
    P.init(&st);
    for (int i = 0; i < 256; i++)
        P.out(&st, (const unsigned char *)buf, sizeof buf);
    expect("INCOMPLETE: 2^20 commands outstanding", P.verdict(&st), PV_INCOMPLETE);
    P.out(&st, (const unsigned char *)"PING\n", 5);
    expect("CONFUSED: 2^20 + 1 commands outstanding", P.verdict(&st), PV_CONFUSED);
    P.init(&st);
    for (int i = 0; i < 256; i++)
        P.out(&st, (const unsigned char *)buf, sizeof buf);
    for (int i = 0; i < 256 * 4096; i++)
        P.in(&st, (const unsigned char *)"+PONG\r\n", 7);
    expect("CLEAN: 2^20 commands answered", P.verdict(&st), PV_CLEAN);
}

int main(void)
{
    basic_cases();
    resp3_cases();
    pipeline_cases();
    inline_cases();
    incomplete_cases();
    session_cases();
    client_info_cases();
    never_cases();
    confused_cases();
    large_value_cases();
    reset_cases();
    pending_bound_cases();
    return harness_done("redis");
}
