/* memcache_test.c - unit tests of the memcached parser (memcache.c).
 *
 * Each case is an exchange replayed whole, split at every byte and byte by
 * byte (harness.h). The text cases are the bytes pymemcache, php-memcached
 * (libmemcached) and a telnet user sent to memcached 1.6 and what it
 * answered; the binary cases are libmemcached's binary-protocol packets.
 * Large values and long lines, which the harness would replay too slowly,
 * are checked at the end by feeding them in chunks of several sizes.
 */
#include "harness.h"

#define M proto_memcache_ops

/* A binary request / response header: op, key length, extras length,
 * status, body length each as one-byte string literals ("\x0a"). */
#define BREQ(op, kl, el, bl)                                                                \
    "\x80" op "\x00" kl el "\x00\x00\x00"                                                   \
    "\x00\x00\x00" bl "\x00\x00\x00\x00"                                                    \
    "\x00\x00\x00\x00\x00\x00\x00\x00"
#define BRES(op, kl, el, st, bl)                                                            \
    "\x81" op "\x00" kl el "\x00\x00" st "\x00\x00\x00" bl "\x00\x00\x00\x00"              \
    "\x00\x00\x00\x00\x00\x00\x00\x00"
#define NOOP_REQ BREQ("\x0a", "\x00", "\x00", "\x00")
#define NOOP_RES BRES("\x0a", "\x00", "\x00", "\x00", "\x00")

/* What pymemcache sends (its default is noreply for storage commands). */
static void text_pymemcache(void)
{
    CASE(M, PV_CLEAN, O(""));
    CASE(M, PV_CLEAN, O("get missing\r\n"), I("END\r\n"));
    CASE(M, PV_CLEAN, O("set k1 0 0 5 noreply\r\nhello\r\n"));
    CASE(M, PV_CLEAN, O("set k1 0 0 5 noreply\r\nhello\r\n"), O("get k1\r\n"),
         I("VALUE k1 0 5\r\nhello\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("get k1 nope k2\r\n"), I("VALUE k1 0 5\r\nhello\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("gets k1\r\n"), I("VALUE k1 0 5 1\r\nhello\r\nEND\r\n"),
         O("cas k1 0 0 5 1\r\nworld\r\n"), I("STORED\r\n"));
    CASE(M, PV_CLEAN, O("set n 0 0 2\r\n10\r\n"), I("STORED\r\n"), O("incr n 5\r\n"), I("15\r\n"),
         O("decr n 2\r\n"), I("13\r\n"));
    CASE(M, PV_CLEAN, O("incr n 18446744073709551615\r\n"), I("18446744073709551614\r\n"));
    CASE(M, PV_CLEAN, O("touch k1 100 noreply\r\n"), O("delete k1 noreply\r\nstats\r\n"),
         I("STAT pid 25901\r\nSTAT uptime 6\r\nSTAT version 1.6.18\r\n"),
         I("STAT libevent 2.1.12-stable\r\nSTAT rusage_user 0.000000\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("version\r\n"), I("VERSION 1.6.18\r\n"));
    CASE(M, PV_CLEAN, O("add k3 0 0 1 noreply\r\nx\r\n"), O("flush_all 0 noreply\r\n"));
    CASE(M, PV_NEVER, O("add k3 0 0 1 noreply\r\nx\r\n"), O("flush_all 0 noreply\r\nquit\r\n"));
}

/* What php-memcached (libmemcached) sends in the text protocol. */
static void text_libmemcached(void)
{
    CASE(M, PV_CLEAN, O("get missing\r\n"), I("END\r\n"), O("set k1 0 0 5\r\nhello\r\n"),
         I("STORED\r\n"), O("get k1\r\n"), I("VALUE k1 0 5\r\nhello\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("gets k1\r\n"), I("VALUE k1 0 5 8\r\nhello\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("set n 1 0 2\r\n10\r\n"), I("STORED\r\n"), O("touch k1 100\r\n"),
         I("TOUCHED\r\n"), O("delete k1\r\n"), I("DELETED\r\n"));
    CASE(M, PV_CLEAN, O("version\r\n"), I("VERSION 1.6.18\r\n"), O("stats \r\n"),
         I("STAT pid 25901\r\nSTAT uptime 11\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("set k2 0 0 1 noreply\r\nx\r\n"), O("get k2\r\n"),
         I("VALUE k2 0 1\r\nx\r\nEND\r\n"));
    CASE(M, PV_NEVER, O("get k2\r\n"), I("VALUE k2 0 1\r\nx\r\nEND\r\n"), O("quit\r\n"));
}

/* Every text command and its replies, one at a time. */
static void text_commands(void)
{
    CASE(M, PV_CLEAN, O("add mk 0 0 1\r\nx\r\n"), I("STORED\r\n"));
    CASE(M, PV_CLEAN, O("add mk 0 0 1\r\nx\r\n"), I("NOT_STORED\r\n"));
    CASE(M, PV_CLEAN, O("replace mk 0 0 1\r\nx\r\n"), I("NOT_STORED\r\n"));
    CASE(M, PV_CLEAN, O("append nokey 0 0 1\r\nx\r\n"), I("NOT_STORED\r\n"));
    CASE(M, PV_CLEAN, O("prepend mk 0 0 1\r\nx\r\n"), I("STORED\r\n"));
    CASE(M, PV_CLEAN, O("cas mk 0 0 1 123\r\nx\r\n"), I("NOT_FOUND\r\n"));
    CASE(M, PV_CLEAN, O("cas mk 0 0 1 123\r\nx\r\n"), I("EXISTS\r\n"));
    CASE(M, PV_CLEAN, O("cas mk 0 0 1 123 noreply\r\nx\r\n"));
    CASE(M, PV_CLEAN, O("set e 0 0 0\r\n\r\n"), I("STORED\r\n"));
    CASE(M, PV_CLEAN, O("incr mk 1\r\n"), I("NOT_FOUND\r\n"));
    CASE(M, PV_CLEAN, O("incr mk 1 noreply\r\ndecr mk 1 noreply\r\n"));
    CASE(M, PV_CLEAN, O("touch nokey 10\r\n"), I("NOT_FOUND\r\n"));
    CASE(M, PV_CLEAN, O("delete nokey\r\n"), I("NOT_FOUND\r\n"));
    CASE(M, PV_CLEAN, O("gat 100 mk cnt\r\n"), I("END\r\n"));
    CASE(M, PV_CLEAN, O("gats 100 mk\r\n"), I("VALUE mk 0 1 7\r\nx\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("stats detail dump\r\n"), I("PREFIX a get 1 hit 1 set 0 del 0\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("stats cachedump 1 0\r\n"), I("ITEM mk [1 b; 0 s]\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("stats reset\r\n"), I("RESET\r\n"));
    CASE(M, PV_CLEAN, O("stats detail on\r\n"), I("OK\r\n"));
    CASE(M, PV_CLEAN, O("stats bogus\r\n"), I("ERROR\r\n"));
    CASE(M, PV_CLEAN, O("verbosity 1\r\n"), I("OK\r\n"));
    CASE(M, PV_CLEAN, O("verbosity 1 noreply\r\n"));
    CASE(M, PV_CLEAN, O("flush_all\r\n"), I("OK\r\n"));
    CASE(M, PV_CLEAN, O("get\r\n"), I("ERROR\r\n"));
    CASE(M, PV_CLEAN, O("get k\r\n"), I("SERVER_ERROR out of memory writing get response\r\n"));
    CASE(M, PV_CLEAN, O("incr mk abc\r\n"), I("CLIENT_ERROR invalid numeric delta argument\r\n"));
    /* a key too long for the server: the line is rejected, no data block */
    CASE(M, PV_CLEAN, O("get kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\r\n"),
         I("CLIENT_ERROR bad command line format\r\n"));
    /* an object too large: the server swallows the data block */
    CASE(M, PV_CLEAN, O("set big 0 0 3\r\nabc\r\n"), I("SERVER_ERROR object too large for cache\r\n"));
}

/* A telnet user: bare \n line ends, leading and doubled spaces. */
static void text_telnet(void)
{
    CASE(M, PV_CLEAN, O("get k1\n"), I("END\r\n"));
    CASE(M, PV_CLEAN, O("get k1\n"), I("END\n"));
    CASE(M, PV_CLEAN, O("set tk 0 0 2\nab\r\nget tk\n"), I("STORED\r\nVALUE tk 0 2\r\nab\r\nEND\r\n"));
    CASE(M, PV_CLEAN, O("  get   k1  \r\n"), I("END\r\n"));
    /* memcached takes "k\rx" as a key: a get line is not looked into */
    CASE(M, PV_CLEAN, O("get k\rx\r\n"), I("END\r\n"));
    CASE(M, PV_CLEAN, O("set  k  0  0  2   noreply \r\nab\r\n"));
    CASE(M, PV_INCOMPLETE, O("get k1"));
    CASE(M, PV_INCOMPLETE, O("get k1\r"));
    CASE(M, PV_NEVER, O("quit\n"));
}

/* Pipelines and replies read only in part. */
static void text_partial(void)
{
    CASE(M, PV_INCOMPLETE, O("get missing\r\n"));
    CASE(M, PV_INCOMPLETE, O("get missing\r\n"), I("EN"));
    CASE(M, PV_INCOMPLETE, O("get missing\r\n"), I("END\r"));
    CASE(M, PV_INCOMPLETE, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\n"));
    CASE(M, PV_INCOMPLETE, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\nhel"));
    CASE(M, PV_INCOMPLETE, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\nhello\r"));
    CASE(M, PV_INCOMPLETE, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\nhello\r\n"));
    CASE(M, PV_INCOMPLETE, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\nhello\r\nVALUE k2 0 1\r\nx\r\n"));
    CASE(M, PV_CLEAN, O("get k1 k2\r\n"), I("VALUE k1 0 5\r\nhello\r\nVALUE k2 0 1\r\nx\r\nEND\r\n"));
    CASE(M, PV_INCOMPLETE, O("set k 0 0 5\r\nhel"));
    CASE(M, PV_INCOMPLETE, O("set k 0 0 5\r\nhello"));
    CASE(M, PV_INCOMPLETE, O("set k 0 0 5\r\nhello\r"));
    CASE(M, PV_INCOMPLETE, O("set k 0 0 5\r\nhello\r\n"));
    CASE(M, PV_INCOMPLETE, O("set k 0 0 5 noreply\r\nhello"));
    CASE(M, PV_INCOMPLETE, O("stats\r\n"), I("STAT pid 1\r\nSTAT uptime 2\r\n"));
    CASE(M, PV_INCOMPLETE, O("version\r\n"), I("VERSION 1.6"));
    /* pipelined in one write, answered in one read */
    CASE(M, PV_CLEAN, O("get a\r\nget b\r\nset c 0 0 1\r\nx\r\ndelete d\r\nincr e 1\r\n"),
         I("END\r\nVALUE b 0 1\r\ny\r\nEND\r\nSTORED\r\nNOT_FOUND\r\n7\r\n"));
    CASE(M, PV_INCOMPLETE, O("get a\r\nget b\r\nset c 0 0 1\r\nx\r\ndelete d\r\nincr e 1\r\n"),
         I("END\r\nVALUE b 0 1\r\ny\r\nEND\r\nSTORED\r\nNOT_FOUND\r\n"));
    /* a data block holding protocol text is skipped, not read */
    CASE(M, PV_CLEAN, O("set k 0 0 10\r\nEND\r\nEND\r\n\r\n"), I("STORED\r\n"), O("get k\r\n"),
         I("VALUE k 0 10\r\nEND\r\nEND\r\n\r\nEND\r\n"));
    CASE(M, PV_INCOMPLETE, O("get k\r\n"), I("VALUE k 0 10\r\nEND\r\nEND\r\n\r\n"));
    /* the state carries over to the next user of the connection */
    CASE(M, PV_CLEAN, O("get a\r\n"), I("END\r\n"), O("get a\r\n"), I("END\r\n"), O("mn\r\n"),
         I("MN\r\n"));
}

/* Meta commands, with and without quiet mode (replies from memcached). */
static void text_meta(void)
{
    CASE(M, PV_CLEAN, O("mn\r\n"), I("MN\r\n"));
    CASE(M, PV_CLEAN, O("mg missing v\r\n"), I("EN\r\n"));
    CASE(M, PV_CLEAN, O("mg mk v k f t c s\r\n"), I("VA 3 kmk f0 t-1 c19 s3\r\nabc\r\n"));
    CASE(M, PV_CLEAN, O("mg mk\r\n"), I("HD\r\n"));
    CASE(M, PV_CLEAN, O("mg mk v\r\nmg mk v\r\nmg mk v\r\n"), I("VA 1\r\nx\r\nVA 1\r\nx\r\nVA 1\r\nx\r\n"));
    CASE(M, PV_CLEAN, O("ms mk 3 T0\r\nabc\r\n"), I("HD\r\n"));
    CASE(M, PV_CLEAN, O("ms mk 3 C99\r\nabc\r\n"), I("NF\r\n"));
    CASE(M, PV_CLEAN, O("ms mk 3 MA\r\nabc\r\n"), I("NS\r\n"));
    CASE(M, PV_CLEAN, O("md mk\r\n"), I("HD\r\n"));
    CASE(M, PV_CLEAN, O("md mk C1\r\n"), I("EX\r\n"));
    CASE(M, PV_CLEAN, O("me cnt\r\nme nokey\r\n"),
         I("ME cnt exp=-1 la=1 cas=22 fetch=no cls=1 size=63\r\nEN\r\n"));
    CASE(M, PV_CLEAN, O("ms cnt 1\r\n5\r\nma cnt v\r\nma cnt\r\nma nokey\r\n"),
         I("HD\r\nVA 1\r\n6\r\nHD\r\nNF\r\n"));
    CASE(M, PV_CLEAN, O("mg k Oabc k\r\n"), I("HD Oabc kk\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg mk v\r\n"), I("VA 3\r\nab"));
    CASE(M, PV_INCOMPLETE, O("ms mk 3\r\nab"));
    CASE(M, PV_INCOMPLETE, O("mn\r\n"));
    /* quiet mode: unknown reply count until mn is answered */
    CASE(M, PV_CLEAN, O("mg missing v q\r\nmn\r\n"), I("MN\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg missing v q\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg missing v q\r\nmn\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg missing v q\r\nmn\r\n"), I("MN\r"));
    CASE(M, PV_INCOMPLETE, O("mg mk q v\r\n"), I("VA 3\r\nabc\r\n"));
    CASE(M, PV_CLEAN, O("ms mk 3 q\r\nabc\r\nmn\r\n"), I("MN\r\n"));
    CASE(M, PV_CLEAN, O("mg mk q v\r\nmg missing q v\r\nmg mk q\r\nmn\r\n"),
         I("VA 3\r\nabc\r\nHD\r\nMN\r\n"));
    CASE(M, PV_CLEAN, O("md mk q\r\nmd mk q\r\nmn\r\n"), I("NF\r\nMN\r\n"));
    CASE(M, PV_CLEAN, O("ms cnt 1\r\n5\r\nma cnt v\r\nma cnt\r\nma nokey\r\nma nokey q\r\nmn\r\n"),
         I("HD\r\nVA 1\r\n6\r\nHD\r\nNF\r\nNF\r\nMN\r\n"));
    CASE(M, PV_CLEAN, O("mg a q v\r\n"), I("VA 1\r\nx\r\n"), O("mn\r\n"), I("MN\r\n"));
    /* a value that reads "MN\r\n" does not close the quiet run */
    CASE(M, PV_INCOMPLETE, O("mg a q v\r\nmn\r\n"), I("VA 4\r\nMN\r\n\r\n"));
    CASE(M, PV_CLEAN, O("mg a q v\r\nmn\r\n"), I("VA 4\r\nMN\r\n\r\nMN\r\n"));
    /* text commands inside a quiet run are framed, then closed by MN */
    CASE(M, PV_CLEAN, O("mg a q v\r\nget b\r\nstats\r\nmn\r\n"),
         I("VALUE b 0 2\r\nMN\r\nEND\r\nSTAT pid 1\r\nEND\r\nMN\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg a q v\r\nget b\r\nmn\r\n"), I("VALUE b 0 2\r\nMN\r\nEND\r\n"));
    /* two quiet runs, and plain commands after the first */
    CASE(M, PV_CLEAN, O("mg a q\r\nmn\r\nget c\r\nmd b q\r\nmn\r\n"),
         I("MN\r\nEND\r\nNF\r\nMN\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg a q\r\nmn\r\nget c\r\nmd b q\r\nmn\r\n"), I("MN\r\nEND\r\nNF\r\n"));
    CASE(M, PV_INCOMPLETE, O("mg a q\r\nmn\r\nget c\r\n"), I("MN\r\n"));
    CASE(M, PV_CLEAN, O("mg a q\r\nmn\r\nget c\r\n"), I("MN\r\nEND\r\n"));
    /* a thousand quiet commands are one entry */
    CASE(M, PV_CLEAN,
         O("mg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\n"
           "mg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\nmg a q\r\n"
           "mg a q\r\nmg a q\r\nmg a q\r\nmn\r\n"),
         I("MN\r\n"));
}

/* Replies after which the connection must not be reused. */
static void text_never(void)
{
    CASE(M, PV_NEVER, O("quit\r\n"));
    CASE(M, PV_NEVER, O("get a\r\nquit\r\n"));
    CASE(M, PV_NEVER, O("get a\r\n"), I("END\r\n"), O("quit\r\n"));
    /* a rejected storage line: the data block may run as commands */
    CASE(M, PV_NEVER, O("set k 0 0 5\r\nhello\r\n"), I("CLIENT_ERROR bad data chunk\r\n"));
    CASE(M, PV_NEVER, O("set k 0 0 5\r\nhello\r\n"), I("ERROR\r\n"));
    CASE(M, PV_NEVER, O("cas k 0 0 5 1\r\nhello\r\n"), I("CLIENT_ERROR bad command line format\r\n"));
    CASE(M, PV_NEVER, O("ms k 5\r\nhello\r\n"), I("CLIENT_ERROR bad command line format\r\n"));
    CASE(M, PV_NEVER, O("ms k 5 q\r\nhello\r\nmn\r\n"), I("CLIENT_ERROR bad data chunk\r\nMN\r\n"));
    CASE(M, PV_NEVER, O("mg k q\r\nmn\r\n"), I("ERROR\r\nMN\r\n"));
}

/* Bytes the parser cannot follow, and its bounds. */
static void text_confused(void)
{
    CASE(M, PV_CONFUSED, O("bogus\r\n"));
    CASE(M, PV_CONFUSED, O("watch\r\n"));
    CASE(M, PV_CONFUSED, O("GET k\r\n"));
    CASE(M, PV_CONFUSED, O("\r\n"));
    CASE(M, PV_CONFUSED, O("delete k\rx\r\n"));
    CASE(M, PV_CONFUSED, O("set k\r 0 0 1\r\nx\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 abc\r\nhello\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 -1\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 5 noreply extra\r\nhello\r\n"));
    CASE(M, PV_CONFUSED, O("cas mk 0 0 1\r\nx\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 4294967296\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 99999999999999999999999\r\n"));
    CASE(M, PV_CONFUSED, O("ms bad xx\r\nabc\r\n"));
    CASE(M, PV_CONFUSED, O("ms bad\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 5 noreply\r\nhelloXX\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 5 noreply\r\nhello\n"));
    CASE(M, PV_CONFUSED, O("get_a_command_word_longer_than_any\r\n"));
    /* the server speaking unasked */
    CASE(M, PV_CONFUSED, I("END\r\n"));
    CASE(M, PV_CONFUSED, O("set k 0 0 1 noreply\r\nx\r\n"), I("CLIENT_ERROR x\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("END\r\nEND\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("END\r\nE"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("VALUE a 0 1\r\nx\r\nEND\r\nVALUE"));
    /* replies that do not answer the request */
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("STORED\r\n"));
    CASE(M, PV_CONFUSED, O("set a 0 0 1\r\nx\r\n"), I("END\r\n"));
    CASE(M, PV_CONFUSED, O("incr a 1\r\n"), I("DELETED\r\n"));
    CASE(M, PV_CONFUSED, O("incr a 1\r\n"), I("123456789012345678901\r\n"));
    CASE(M, PV_CONFUSED, O("mg a\r\n"), I("MN\r\n"));
    CASE(M, PV_CONFUSED, O("mn\r\n"), I("HD\r\n"));
    CASE(M, PV_CONFUSED, O("mg a q\r\n"), I("MN\r\n"));
    CASE(M, PV_CONFUSED, O("version\r\n"), I("HELLO\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("VALUE a 0 x\r\nx\r\nEND\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("VALUE a 0\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("VALUE a 0 1\r\nxy\r\nEND\r\n"));
    CASE(M, PV_CONFUSED, O("mg a v\r\n"), I("VA\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("END\rX\n"));
    /* too many requests outstanding: 16 are fine, 17 are not */
    CASE(M, PV_INCOMPLETE, O("get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"
                             "get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"));
    CASE(M, PV_CLEAN, O("get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"
                        "get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"),
         I("END\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\n"
           "END\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\nEND\r\n"));
    CASE(M, PV_CONFUSED, O("get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"
                           "get a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\nget a\r\n"
                           "get a\r\n"));
    /* a binary packet on a text connection */
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("END\r\n"), O(BREQ("\x00", "\x00", "\x00", "\x00")));
    CASE(M, PV_CONFUSED, O("get a\r\n"), I("END\r\n"), O(NOOP_REQ));
}

/* libmemcached's binary protocol (php-memcached with OPT_BINARY_PROTOCOL). */
static void binary_libmemcached(void)
{
    /* get of a missing key: GETKQ + NOOP, only the NOOP answered */
    CASE(M, PV_CLEAN, O(BREQ("\x0d", "\x07", "\x00", "\x07") "missing" NOOP_REQ), I(NOOP_RES));
    /* set and its response */
    CASE(M, PV_CLEAN,
         O(BREQ("\x01", "\x02", "\x08", "\x0f") "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                "k1hello"),
         I(BRES("\x01", "\x00", "\x00", "\x00", "\x00")));
    /* get of a present key, NOOP in the same write */
    CASE(M, PV_CLEAN, O(BREQ("\x0d", "\x02", "\x00", "\x02") "k1" NOOP_REQ),
         I(BRES("\x0d", "\x02", "\x04", "\x00", "\x0b") "\x00\x00\x00\x00"
                                                        "k1hello" NOOP_RES));
    /* multi-get: three GETKQ, the hits read, then the NOOP written */
    CASE(M, PV_CLEAN,
         O(BREQ("\x0d", "\x02", "\x00", "\x02") "k1" BREQ("\x0d", "\x04", "\x00", "\x04") "nope"
               BREQ("\x0d", "\x02", "\x00", "\x02") "k2"),
         I(BRES("\x0d", "\x02", "\x04", "\x00", "\x0b") "\x00\x00\x00\x00"
                                                        "k1hello"
           BRES("\x0d", "\x02", "\x04", "\x00", "\x07") "\x00\x00\x00\x00"
                                                        "k2x"),
         O(NOOP_REQ), I(NOOP_RES));
    CASE(M, PV_INCOMPLETE,
         O(BREQ("\x0d", "\x02", "\x00", "\x02") "k1" BREQ("\x0d", "\x04", "\x00", "\x04") "nope"),
         I(BRES("\x0d", "\x02", "\x04", "\x00", "\x0b") "\x00\x00\x00\x00"
                                                        "k1hello"));
    /* increment and decrement with their 20 bytes of extras */
    CASE(M, PV_CLEAN,
         O(BREQ("\x05", "\x01", "\x14", "\x15") "\x00\x00\x00\x00\x00\x00\x00\x05"
                                                "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                "\xff\xff\xff\xff"
                                                "n"),
         I(BRES("\x05", "\x00", "\x00", "\x00", "\x08") "\x00\x00\x00\x00\x00\x00\x00\x0f"),
         O(BREQ("\x06", "\x01", "\x14", "\x15") "\x00\x00\x00\x00\x00\x00\x00\x02"
                                                "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                "\xff\xff\xff\xff"
                                                "n"),
         I(BRES("\x06", "\x00", "\x00", "\x00", "\x08") "\x00\x00\x00\x00\x00\x00\x00\x0d"));
    /* touch, delete, version */
    CASE(M, PV_CLEAN, O(BREQ("\x1c", "\x02", "\x04", "\x06") "\x00\x00\x00\x64"
                                                             "k1"),
         I(BRES("\x1c", "\x00", "\x04", "\x00", "\x04") "\x00\x00\x00\x00"));
    CASE(M, PV_CLEAN, O(BREQ("\x04", "\x02", "\x00", "\x02") "k1"),
         I(BRES("\x04", "\x00", "\x00", "\x00", "\x00")));
    CASE(M, PV_CLEAN, O(BREQ("\x0b", "\x00", "\x00", "\x00")),
         I(BRES("\x0b", "\x00", "\x00", "\x00", "\x06") "1.6.18"));
    /* stats: packets until one with an empty key */
    CASE(M, PV_CLEAN, O(BREQ("\x10", "\x00", "\x00", "\x00")),
         I(BRES("\x10", "\x03", "\x00", "\x00", "\x08") "pid25901"
           BRES("\x10", "\x06", "\x00", "\x00", "\x08") "uptime11"
           BRES("\x10", "\x00", "\x00", "\x00", "\x00")));
    CASE(M, PV_INCOMPLETE, O(BREQ("\x10", "\x00", "\x00", "\x00")),
         I(BRES("\x10", "\x03", "\x00", "\x00", "\x08") "pid25901"
           BRES("\x10", "\x06", "\x00", "\x00", "\x08") "uptime11"));
    /* noreply set (SETQ), then a get (GETKQ + NOOP) */
    CASE(M, PV_CLEAN,
         O(BREQ("\x11", "\x02", "\x08", "\x0b") "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                "k2x"),
         O(BREQ("\x0d", "\x02", "\x00", "\x02") "k2" NOOP_REQ),
         I(BRES("\x0d", "\x02", "\x04", "\x00", "\x07") "\x00\x00\x00\x00"
                                                        "k2x" NOOP_RES));
    CASE(M, PV_NEVER, O(BREQ("\x07", "\x00", "\x00", "\x00")));
}

/* The rest of the binary protocol: plain gets, quiet runs, never-park. */
static void binary_more(void)
{
    /* GET miss: "Not found" with status 1 */
    CASE(M, PV_CLEAN, O(BREQ("\x00", "\x01", "\x00", "\x01") "a"),
         I(BRES("\x00", "\x00", "\x00", "\x01", "\x09") "Not found"));
    CASE(M, PV_CLEAN, O(BREQ("\x0c", "\x01", "\x00", "\x01") "a"),
         I(BRES("\x0c", "\x01", "\x04", "\x00", "\x06") "\x00\x00\x00\x00"
                                                        "ax"));
    CASE(M, PV_CLEAN, O(NOOP_REQ), I(NOOP_RES));
    CASE(M, PV_CLEAN, O(BREQ("\x08", "\x00", "\x00", "\x00")), I(BRES("\x08", "\x00", "\x00", "\x00", "\x00")));
    CASE(M, PV_CLEAN, O(BREQ("\x00", "\x01", "\x00", "\x01") "a" BREQ("\x00", "\x01", "\x00", "\x01") "b"),
         I(BRES("\x00", "\x00", "\x00", "\x01", "\x00") BRES("\x00", "\x00", "\x00", "\x01", "\x00")));
    /* GETQ without a NOOP: the miss is never answered */
    CASE(M, PV_INCOMPLETE, O(BREQ("\x09", "\x01", "\x00", "\x01") "a"));
    CASE(M, PV_INCOMPLETE, O(BREQ("\x09", "\x01", "\x00", "\x01") "a" NOOP_REQ));
    CASE(M, PV_CLEAN, O(BREQ("\x09", "\x01", "\x00", "\x01") "a" NOOP_REQ), I(NOOP_RES));
    CASE(M, PV_CLEAN,
         O(BREQ("\x14", "\x01", "\x00", "\x01") "a" BREQ("\x18", "\x00", "\x00", "\x00")
               BREQ("\x1e", "\x01", "\x04", "\x05") "\x00\x00\x00\x00"
                                                    "a" BREQ("\x24", "\x01", "\x04", "\x05")
                                                        "\x00\x00\x00\x00"
                                                        "b" NOOP_REQ),
         I(BRES("\x14", "\x00", "\x00", "\x01", "\x00") NOOP_RES));
    /* a quiet run with a plain get inside, then a plain get after */
    CASE(M, PV_CLEAN,
         O(BREQ("\x09", "\x01", "\x00", "\x01") "a" BREQ("\x00", "\x01", "\x00", "\x01") "b" NOOP_REQ
               BREQ("\x00", "\x01", "\x00", "\x01") "c"),
         I(BRES("\x00", "\x00", "\x00", "\x01", "\x00") NOOP_RES BRES("\x00", "\x00", "\x00", "\x01", "\x00")));
    CASE(M, PV_INCOMPLETE,
         O(BREQ("\x09", "\x01", "\x00", "\x01") "a" NOOP_REQ BREQ("\x00", "\x01", "\x00", "\x01") "c"),
         I(NOOP_RES));
    /* halves of packets */
    CASE(M, PV_INCOMPLETE, O("\x80\x00\x00\x01"));
    CASE(M, PV_INCOMPLETE, O(BREQ("\x00", "\x03", "\x00", "\x03") "ab"));
    CASE(M, PV_INCOMPLETE, O(NOOP_REQ), I("\x81\x0a\x00\x00"));
    CASE(M, PV_INCOMPLETE, O(BREQ("\x0b", "\x00", "\x00", "\x00")),
         I(BRES("\x0b", "\x00", "\x00", "\x00", "\x06") "1.6"));
    /* never: quit, quietly or not, and SASL (the session is authenticated) */
    CASE(M, PV_NEVER, O(BREQ("\x17", "\x00", "\x00", "\x00")));
    CASE(M, PV_NEVER, O(NOOP_REQ), I(NOOP_RES), O(BREQ("\x07", "\x00", "\x00", "\x00")));
    CASE(M, PV_NEVER, O(BREQ("\x20", "\x00", "\x00", "\x00")),
         I(BRES("\x20", "\x00", "\x00", "\x00", "\x05") "PLAIN"));
    CASE(M, PV_NEVER, O(BREQ("\x21", "\x05", "\x00", "\x10") "PLAIN"
                                                             "\x00user\x00pass\x00\x00"),
         I(BRES("\x21", "\x00", "\x00", "\x00", "\x0d") "Authenticated"));
    CASE(M, PV_NEVER, O(BREQ("\x22", "\x05", "\x00", "\x05") "PLAIN"));
}

/* Binary bytes the parser cannot follow. */
static void binary_confused(void)
{
    CASE(M, PV_CONFUSED, O(NOOP_REQ "\x81\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
    CASE(M, PV_CONFUSED, O(NOOP_REQ), I("\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"));
    CASE(M, PV_CONFUSED, O(NOOP_REQ), I(NOOP_RES NOOP_RES));
    CASE(M, PV_CONFUSED, O(NOOP_REQ), I(NOOP_RES "\x81"));
    CASE(M, PV_CONFUSED, O(NOOP_REQ), I(BRES("\x00", "\x00", "\x00", "\x00", "\x00")));
    CASE(M, PV_CONFUSED, O(BREQ("\x09", "\x01", "\x00", "\x01") "a"), I(NOOP_RES));
    CASE(M, PV_CONFUSED, O(BREQ("\x1f", "\x00", "\x00", "\x00")));
    CASE(M, PV_CONFUSED, O(BREQ("\x30", "\x00", "\x00", "\x00")));
    CASE(M, PV_CONFUSED, O(BREQ("\xff", "\x00", "\x00", "\x00")));
    CASE(M, PV_CONFUSED, O(BREQ("\x00", "\x05", "\x00", "\x03") "abc"));
    CASE(M, PV_CONFUSED, O(BREQ("\x01", "\x01", "\x08", "\x08") "\x00\x00\x00\x00\x00\x00\x00\x00"));
    CASE(M, PV_CONFUSED, O(BREQ("\x00", "\x01", "\x00", "\x01") "a"),
         I(BRES("\x00", "\x05", "\x00", "\x00", "\x01") "a"));
    CASE(M, PV_CONFUSED, O(NOOP_REQ), I(NOOP_RES), O("get a\r\n"));
    /* seventeen plain requests outstanding */
    CASE(M, PV_CONFUSED, O(NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ
                             NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ
                                 NOOP_REQ));
    CASE(M, PV_INCOMPLETE, O(NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ
                               NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ NOOP_REQ
                                   NOOP_REQ));
}

/* Feed bytes in chunks of `chunk` bytes; returns nothing, the state does. */
static void feed(struct proto_state *st, char dir, const char *p, size_t n, size_t chunk)
{
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        harness_feed(&M, st, dir, p + off, k);
    }
}

/* Check one verdict outside CASE (for exchanges too large to replay at
 * every split point). */
static void check(const char *name, int got, int want)
{
    harness_cases++;
    if (got != want) {
        harness_report(name, "chunked", got, want);
        harness_failed++;
    }
}

static char big[1 << 20];

/* A 4 GiB - 1 binary body and a 1 MB data block are skipped by counting,
 * a get line of many keys may be long but not past 1 MiB, other lines not
 * past 2 KiB. */
static void large(void)
{
    static const size_t chunks[] = {1, 7, 4096, 65536, sizeof big};
    struct proto_state st;
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        size_t ch = chunks[c];
        if (ch > 1) {
            M.init(&st);
            feed(&st, 'o', "set k 0 0 1048576\r\n", 19, ch);
            feed(&st, 'o', big, sizeof big, ch);
            check("1 MiB value, data only", M.verdict(&st), PV_INCOMPLETE);
            feed(&st, 'o', "\r\n", 2, ch);
            feed(&st, 'i', "STORED\r\n", 8, ch);
            check("1 MiB value", M.verdict(&st), PV_CLEAN);
        }
        /* a get line of 4000 keys: long, fine */
        M.init(&st);
        memset(big, 'k', sizeof big);
        for (size_t i = 0; i < 16000; i += 4)
            big[i] = ' ';
        feed(&st, 'o', "get", 3, ch);
        feed(&st, 'o', big, 16000, ch);
        feed(&st, 'o', "\r\n", 2, ch);
        feed(&st, 'i', "END\r\n", 5, ch);
        check("get of 4000 keys", M.verdict(&st), PV_CLEAN);
        /* past 1 MiB */
        M.init(&st);
        feed(&st, 'o', "get", 3, ch);
        feed(&st, 'o', big, sizeof big, ch);
        feed(&st, 'o', "\r\n", 2, ch);
        check("get line past 1 MiB", M.verdict(&st), PV_CONFUSED);
        /* a delete line past 2 KiB */
        M.init(&st);
        feed(&st, 'o', "delete ", 7, ch);
        feed(&st, 'o', big, 2042, ch);
        feed(&st, 'o', "\r\n", 2, ch);
        check("delete line of 2051 bytes", M.verdict(&st), PV_CONFUSED);
        M.init(&st);
        feed(&st, 'o', "delete ", 7, ch);
        feed(&st, 'o', big, 2039, ch);
        feed(&st, 'o', "\r\n", 2, ch);
        check("delete line of 2048 bytes", M.verdict(&st), PV_INCOMPLETE);
        /* a reply line past 2 KiB */
        M.init(&st);
        feed(&st, 'o', "stats\r\n", 7, ch);
        feed(&st, 'i', "STAT x ", 7, ch);
        feed(&st, 'i', big, 4000, ch);
        check("reply line past 2 KiB", M.verdict(&st), PV_CONFUSED);
        memset(big, 0, sizeof big);
    }
    /* 4 GiB - 1 of body: 65536 calls */
    static const unsigned char hdr[24] = {0x80, 0x01, 0x00, 0x01, 0x08, 0, 0, 0,
                                          0xff, 0xff, 0xff, 0xff};
    M.init(&st);
    M.out(&st, hdr, sizeof hdr);
    for (unsigned i = 0; i < 65535; i++)
        M.out(&st, (const unsigned char *)big, 65536);
    M.out(&st, (const unsigned char *)big, 65534);
    check("4 GiB body, one byte short", M.verdict(&st), PV_INCOMPLETE);
    M.out(&st, (const unsigned char *)big, 1);
    check("4 GiB body, unanswered", M.verdict(&st), PV_INCOMPLETE);
    M.in(&st, (const unsigned char *)BRES("\x01", "\x00", "\x00", "\x00", "\x00"), 24);
    check("4 GiB body", M.verdict(&st), PV_CLEAN);
}

/* quit and binary QUITQ are swallowed, binary QUIT answered from a NOOP
 * with its opaque; only written alone at a clean boundary. */
static void goodbye_cases(void)
{
    static const char quit_b[] = "\x80\x07\0\0\0\0\0\0\0\0\0\0\x12\x34\x56\x78\0\0\0\0\0\0\0\0";
    static const char quitq_b[] = "\x80\x17\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    static const char noop_r[] = "\x81\x0a\0\0\0\0\0\0\0\0\0\0\x12\x34\x56\x78\0\0\0\0\0\0\0\0";
    struct proto_state st;
    struct proto_goodbye g;
    GOODBYE(M, GB_SWALLOW, "quit\r\n", NULL, O("set k 0 0 1\r\nv\r\n"), I("STORED\r\n"));
    GOODBYE(M, GB_SWALLOW, "quit\r\n", NULL, O(""));
    GOODBYE(M, GB_NONE, "quit\r\n", NULL, O("get k\r\n"));          /* a reply owed */
    GOODBYE(M, GB_NONE, "get k\r\nquit\r\n", NULL, O(""));
    GOODBYE(M, GB_NONE, "quit 1\r\n", NULL, O(""));
    harness_cases++;
    M.init(&st);
    if (M.goodbye(&st, (const unsigned char *)quitq_b, 24, &g) != GB_SWALLOW ||
        M.goodbye(&st, (const unsigned char *)quit_b, 24, &g) != GB_REPLY || g.expect_len != 24 ||
        memcmp(g.expect, noop_r, 24) || g.serve[1] != 0x07 || memcmp(g.serve + 12, quit_b + 12, 4) ||
        g.off != 1 || g.len != 1 || g.with[0] != 0x0a) {
        fprintf(stderr, "FAIL goodbye binary QUIT/QUITQ\n");
        harness_failed++;
    }
    for (size_t k = 1; k < 24; k++)
        if (M.goodbye(&st, (const unsigned char *)quit_b, k, &g) != GB_NONE) {
            fprintf(stderr, "FAIL goodbye binary QUIT split at %zu\n", k);
            harness_failed++;
        }
}

int main(void)
{
    text_pymemcache();
    text_libmemcached();
    text_commands();
    text_telnet();
    text_partial();
    text_meta();
    text_never();
    text_confused();
    binary_libmemcached();
    binary_more();
    binary_confused();
    large();
    goodbye_cases();
    return harness_done("memcache");
}
