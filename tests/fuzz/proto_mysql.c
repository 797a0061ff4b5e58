/* proto_mysql.c - libFuzzer target for the MySQL/MariaDB parser
 * (preload/conn/proto/mysql.c), linked with it alone. Each input is used
 * twice:
 * 1. as raw runs both ways (proto_split.h): fed whole, in chunks and byte by
 *    byte, the three verdicts agree after every run, and the goodbye
 *    question gets the same answer however the bytes before it were cut;
 * 2. as the choices of a model of a well-formed conversation, framed as the
 *    protocol frames it (3-byte length, sequence id, 0xffffff continuation):
 *    the greeting, a HandshakeResponse41 (CLIENT_SSL, DEPRECATE_EOF,
 *    CONNECT_WITH_DB as chosen), an OK, an ERR, an AuthSwitchRequest, the
 *    caching_sha2 fast path or its full authentication; then commands,
 *    sometimes pipelined, and their answers: OK with status flags (in a
 *    transaction, more results), ERR, result sets in the text and binary
 *    protocol (with or without EOFs, an ERR mid-rows, a row over 16 MiB),
 *    prepared statements' descriptions, LOCAL INFILE, the commands never
 *    answered, COM_QUIT, replication; and, where the input says, a packet
 *    cut short; at boundaries, when the input says, the session layer's
 *    reset read (reset_done) and more commands after it. Fed to three
 *    states whole, in chunks and byte by byte.
 *    After every packet the three verdicts agree and:
 *    - short of a boundary (handshake unfinished, a command unanswered,
 *      more results announced, LOCAL INFILE running, a packet half-sent or
 *      half-read) the verdict is neither CLEAN nor SESSION;
 *    - after a refusal (TLS asked, an ERR in the handshake, a cursor,
 *      COM_QUIT, COM_CHANGE_USER, replication) it stays neither, to the end;
 *    - at a boundary of an exchange that is none of these it is SESSION:
 *      the parser follows every answer a server gives, and COM_QUIT
 *      written alone is its goodbye there and nowhere else;
 *    - what the session layer reads of the state is right: the handshake
 *      under way, asked for the password itself (full authentication: the
 *      session layer's refusal, not the parser's) or done; the program's
 *      capabilities and collation; the status of the last answer's end.
 * Anything else, or a sanitizer report, aborts.
 */
#include <stdio.h>

#include "proto_split.h"

#define FAIL(why)                                                              \
    do {                                                                       \
        fprintf(stderr, "proto_mysql.c:%d: %s (verdict %d)\n", __LINE__, why, v); \
        abort();                                                               \
    } while (0)

/* ---- the input as a source of choices ------------------------------------ */
static const uint8_t *src;
static size_t src_n;

/* The next choice in [0, mod); 0 once the input is used up (the model then
 * ends the conversation at its next step). */
static unsigned pick(unsigned mod)
{
    if (!src_n)
        return 0;
    src_n--;
    return *src++ % mod;
}

/* ---- the three parser states and the feeding --------------------------- */
static struct proto_state sts[3];
static uint32_t cseed;

static void feed(int in, const uint8_t *p, size_t n)
{
    split_feed(&proto_mysql_ops, &sts[0], in, p, n);
    if (n > 4096) { /* a long payload's filler: two cuts, one in each */
        size_t a = split_rand(&cseed) % n, b = split_rand(&cseed) % n;
        split_feed(&proto_mysql_ops, &sts[1], in, p, a);
        split_feed(&proto_mysql_ops, &sts[1], in, p + a, n - a);
        split_feed(&proto_mysql_ops, &sts[2], in, p, b);
        split_feed(&proto_mysql_ops, &sts[2], in, p + b, n - b);
        return;
    }
    split_chunked(&proto_mysql_ops, &sts[1], in, p, n, &cseed);
    for (size_t j = 0; j < n; j++)
        split_feed(&proto_mysql_ops, &sts[2], in, p + j, 1);
}

/* ---- the model ----------------------------------------------------------- */
enum { Q_OK = 1, Q_QUERY, Q_EXEC, Q_PREPARE, Q_INFILE };
static struct {
    uint32_t caps;     /* the capabilities both sides use */
    int deprecate;     /* CLIENT_DEPRECATE_EOF */
    int ready;         /* the handshake's OK was read */
    int refused;       /* sticky: never reusable */
    int full;          /* the server asked for the password itself */
    unsigned charset;  /* the HandshakeResponse's collation */
    uint16_t status;   /* the status flags of the last answer's end */
    int more;          /* the last answer announced another result */
    int infile;        /* LOCAL INFILE running */
    uint8_t q[8];      /* commands sent, awaiting their answer */
    unsigned qn;
    uint8_t seq_o, seq_i;
    int big_done;      /* one row over 16 MiB per input at most */
} m;

/* The verdicts after a step: equal, in range, and what the model allows. */
static void check(int cut)
{
    int v = split_verdicts(&proto_mysql_ops, sts);
    int boundary = m.ready && !m.qn && !m.more && !m.infile && !cut;
    if (m.refused) {
        if (v == PV_CLEAN || v == PV_SESSION)
            FAIL("refused, yet reusable");
    } else if (!boundary) {
        if (v == PV_CLEAN || v == PV_SESSION)
            FAIL("short of a boundary, yet reusable");
    } else if (v != PV_SESSION) {
        FAIL("a boundary of a well-formed session, not SESSION");
    }
    if (m.refused || cut)
        return;
    int hs = proto_my_handshake(&sts[0]);
    if (hs != proto_my_handshake(&sts[1]) || hs != proto_my_handshake(&sts[2]))
        FAIL("the handshake's state differs with the cuts");
    if (hs != (m.ready ? MY_HS_DONE : m.full ? MY_HS_FULL : MY_HS_ON))
        FAIL("the handshake's state is wrong");
    if (!m.ready)
        return;
    for (int k = 0; k < 3; k++)
        if (proto_my_caps(&sts[k]) != m.caps || proto_my_charset(&sts[k]) != (int)m.charset)
            FAIL("the program's capabilities or collation are wrong");
    if (boundary && proto_my_status(&sts[0]) != m.status)
        FAIL("the last status flags are wrong");
}

/* k payload bytes of one piece: the first plen from p, the rest a
 * pattern; stops at cut (0: none). 1 when the cut was reached. */
static int piece(int in, const uint8_t *p, size_t plen, size_t k, size_t cut, size_t *fed)
{
    static uint8_t fill[65536];
    size_t off = 0;
    while (off < k) {
        size_t n = k - off;
        const uint8_t *b = fill;
        if (off < plen) {
            b = p + off;
            n = n < plen - off ? n : plen - off;
        } else if (n > sizeof fill) {
            n = sizeof fill;
        }
        if (cut && n > cut - *fed)
            n = cut - *fed;
        feed(in, b, n);
        *fed += n;
        off += n;
        if (cut && *fed == cut)
            return 1;
    }
    return 0;
}

/* One packet of len payload bytes (the first plen from p, the rest a
 * pattern), framed in 0xffffff pieces (an exact multiple ends with an
 * empty one), fed; with cut, only its first cut bytes, headers included. */
static void packet(int in, const uint8_t *p, size_t plen, size_t len, size_t cut)
{
    uint8_t *seq = in ? &m.seq_i : &m.seq_o;
    size_t fed = 0, pieces = len / 0xffffff + 1;
    for (size_t i = 0; i < pieces; i++) {
        size_t k = i + 1 < pieces ? 0xffffff : len % 0xffffff;
        uint8_t h[4] = {(uint8_t)k, (uint8_t)(k >> 8), (uint8_t)(k >> 16), (*seq)++};
        size_t hn = cut && cut - fed < 4 ? cut - fed : 4;
        feed(in, h, hn);
        fed += hn;
        if (hn < 4 || piece(in, p, plen, k, cut, &fed))
            return;
        p = plen > k ? p + k : NULL;
        plen = plen > k ? plen - k : 0;
    }
}

/* A whole packet, or, one time in 64 when the input says, a cut one. */
static int send_pkt(int in, const uint8_t *p, size_t len)
{
    if (pick(64) == 63) {
        size_t cut = 1 + pick(255) % (len + 4);
        if (cut < len + 4) {
            packet(in, p, len, len, cut);
            check(1);
            return -1;
        }
    }
    packet(in, p, len, len, 0);
    return 0;
}

static size_t put_lenenc(uint8_t *b, uint64_t v)
{
    if (v < 251) {
        b[0] = (uint8_t)v;
        return 1;
    }
    int w = v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 8;
    b[0] = w == 2 ? 0xfc : w == 3 ? 0xfd : 0xfe;
    for (int k = 0; k < w; k++)
        b[1 + k] = (uint8_t)(v >> (8 * k));
    return (size_t)w + 1;
}

/* Status flags for an answer's end: autocommit, sometimes in a
 * transaction, more results, or a cursor (a refusal). */
static uint16_t status_flags(int last)
{
    unsigned r = pick(32);
    uint16_t s = 0x0002;
    if (r & 1)
        s |= 0x0001;
    if (!last && (r & 6) == 6)
        s |= 0x0008;
    if (r == 31)
        s |= 0x0040;
    return s;
}

/* An OK (header 0x00, or 0xfe when it ends rows under DEPRECATE_EOF). */
static int ok_pkt(uint8_t hdr, uint16_t status)
{
    uint8_t b[16];
    size_t n = 0;
    b[n++] = hdr;
    n += put_lenenc(b + n, pick(4) == 3 ? 70000 : pick(3));
    n += put_lenenc(b + n, pick(2));
    b[n++] = (uint8_t)status, b[n++] = (uint8_t)(status >> 8);
    b[n++] = 0, b[n++] = 0;
    if (send_pkt(1, b, n) < 0)
        return -1;
    if (status & 0x0040)
        m.refused = 1;
    m.more = (status & 0x0008) != 0;
    m.status = status;
    return 0;
}

static int err_pkt(void)
{
    static const uint8_t e[] = {0xff, 0x28, 0x04, '#', '4', '2', '0', '0', '0', 'n', 'o'};
    m.more = 0;
    return send_pkt(1, e, sizeof e);
}

/* The end of definitions (an EOF) or of rows (an EOF, or the 0xfe OK). */
static int eof_pkt(uint16_t status, int rows)
{
    if (m.deprecate && rows)
        return ok_pkt(0xfe, status);
    uint8_t b[5] = {0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8)};
    if (send_pkt(1, b, sizeof b) < 0)
        return -1;
    if (status & 0x0040)
        m.refused = 1;
    if (rows) {
        m.more = (status & 0x0008) != 0;
        m.status = status;
    }
    return 0;
}

static int coldefs(unsigned n)
{
    static const uint8_t def[] = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'x', 0, 0x0c, 0x3f, 0, 1, 0, 0, 0, 8, 0x81, 0, 0, 0, 0};
    for (unsigned k = 0; k < n; k++)
        if (send_pkt(1, def, sizeof def) < 0)
            return -1;
    return 0;
}

/* A result set: the column count, definitions, (EOF), rows, the end. */
static int result_set(int binary)
{
    unsigned cols = 1 + pick(3), rows = pick(4);
    uint8_t b[16];
    if (send_pkt(1, b, put_lenenc(b, cols)) < 0 || coldefs(cols) < 0)
        return -1;
    if (!m.deprecate && eof_pkt(0x0002, 0) < 0)
        return -1;
    for (unsigned r = 0; r < rows; r++) {
        if (!m.big_done && pick(64) == 0) { /* one text row over 16 MiB */
            m.big_done = 1;
            size_t big = 0xffffff + 16;
            uint8_t h[9];
            size_t hn = put_lenenc(h, big - 9);
            h[0] = binary ? 0x00 : h[0];
            packet(1, h, hn, big - 9 + hn, 0);
            continue;
        }
        uint8_t row[8] = {0x00, 0x00, 1, '7'};
        size_t n = binary ? 4 : 2;
        if (!binary)
            row[0] = 1, row[1] = pick(2) ? '7' : 0xfb;
        if (!binary && row[1] == 0xfb)
            row[0] = 0xfb, n = 1; /* a NULL column */
        if (send_pkt(1, row, n) < 0)
            return -1;
    }
    if (pick(16) == 0)
        return err_pkt(); /* killed mid-rows */
    return eof_pkt(status_flags(0), 1);
}

/* The answer to the oldest command; 0, or -1 when the conversation ended. */
static int answer(void)
{
    uint8_t kind = m.q[0];
    memmove(m.q, m.q + 1, sizeof m.q - 1);
    m.qn--;
    m.seq_i = 1;
    if (kind == Q_PREPARE) {
        if (pick(8) == 0)
            return err_pkt();
        unsigned cols = pick(3), params = pick(3);
        uint8_t ok[12] = {0, 1, 0, 0, 0, (uint8_t)cols, 0, (uint8_t)params, 0, 0, 0, 0};
        if (send_pkt(1, ok, sizeof ok) < 0 || coldefs(params) < 0)
            return -1;
        if (params && !m.deprecate && eof_pkt(0x0002, 0) < 0)
            return -1;
        if (coldefs(cols) < 0)
            return -1;
        if (cols && !m.deprecate && eof_pkt(0x0002, 0) < 0)
            return -1;
        m.more = 0;
        return 0;
    }
    if (kind == Q_INFILE) { /* the server asks for the file, the program sends it */
        static const uint8_t req[] = {0xfb, '/', 't', 'm', 'p', '/', 'f'};
        if (send_pkt(1, req, sizeof req) < 0)
            return -1;
        m.infile = 1;
        check(0);
        m.seq_o = 2;
        static const uint8_t line[] = "1\n2\n";
        for (unsigned k = pick(3); k; k--)
            if (send_pkt(0, line, 4) < 0)
                return -1;
        uint8_t end[4] = {0, 0, 0, m.seq_o++}; /* the empty packet: the file's end */
        feed(0, end, sizeof end);
        check(0);
        m.infile = 0;
        m.seq_i = m.seq_o;
        return ok_pkt(0, 0x0002);
    }
    do {
        unsigned r = pick(8);
        int rc = kind == Q_OK || r < 3 ? ok_pkt(0, status_flags(kind == Q_OK))
                 : r == 3           ? err_pkt()
                                    : result_set(kind == Q_EXEC);
        if (rc < 0)
            return -1;
        if (m.more)
            check(0);
    } while (m.more && src_n);
    return m.more ? -1 : 0;
}

/* The program sends one command; 1 when the conversation must end (a
 * refusal that closes, the input used up). */
static int command(void)
{
    static const uint8_t q[] = {0x03, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'};
    uint8_t b[16] = {0};
    unsigned r = pick(16);
    m.seq_o = 0;
    if (r == 15) { /* COM_QUIT, asked the goodbye question first */
        b[0] = 0x01;
        uint8_t h[5] = {1, 0, 0, 0, 0x01};
        int v = split_goodbye(&proto_mysql_ops, &sts[0], h, 5);
        if (split_goodbye(&proto_mysql_ops, &sts[1], h, 5) != v ||
            split_goodbye(&proto_mysql_ops, &sts[2], h, 5) != v)
            FAIL("goodbye answers differ");
        int clean = m.ready && !m.qn && !m.more && !m.infile && !m.refused;
        if (v != (clean ? GB_SWALLOW : GB_NONE))
            FAIL("COM_QUIT alone is the goodbye exactly at a boundary of a session");
        m.refused = 1;
        send_pkt(0, b, 1);
        check(0);
        return 1;
    }
    if (r == 14) { /* COM_CHANGE_USER, COM_BINLOG_DUMP, COM_REGISTER_SLAVE */
        static const uint8_t never[] = {0x11, 0x12, 0x15};
        b[0] = never[pick(3)];
        m.refused = 1;
        send_pkt(0, b, 8);
        check(0);
        return 1;
    }
    if (r == 13 || r == 12) { /* COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: no answer */
        b[0] = r == 13 ? 0x19 : 0x18;
        b[1] = 1;
        return send_pkt(0, b, 9) < 0;
    }
    uint8_t kind = r < 4 ? Q_QUERY : r < 6 ? Q_OK : r < 8 ? Q_PREPARE : r < 10 ? Q_EXEC : r == 10 ? Q_INFILE : Q_OK;
    static const uint8_t ok_cmds[] = {0x0e, 0x02, 0x1f}; /* PING, INIT_DB, RESET_CONNECTION */
    size_t n = 1;
    if (kind == Q_QUERY || kind == Q_INFILE || kind == Q_PREPARE) {
        memcpy(b, q, sizeof q);
        n = sizeof q;
        if (kind == Q_PREPARE)
            b[0] = 0x16; /* the same text, prepared */
    } else if (kind == Q_OK) {
        b[0] = ok_cmds[pick(3)];
        b[1] = 'd';
        n = b[0] == 0x02 ? 2 : 1;
    } else {
        b[0] = 0x17; /* COM_STMT_EXECUTE of statement 1, no parameters */
        b[1] = 1;
        n = 11;
    }
    if (send_pkt(0, b, n) < 0)
        return 1;
    m.q[m.qn++] = kind;
    check(0);
    return 0;
}

/* The handshake; 0 when logged in, else the conversation is over. */
static int handshake(void)
{
    uint32_t scaps = 0x00000200u | 0x00008000u | 0x00080000u | 0x00000008u | 0x00000800u | 0x01000000u |
                     0x00010000u | 0x00020000u;
    uint8_t g[80] = {10, '1', '0', '.', '1', '1', 0, 7, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0};
    size_t n = 20;
    g[n++] = (uint8_t)scaps, g[n++] = (uint8_t)(scaps >> 8), g[n++] = 45, g[n++] = 2, g[n++] = 0;
    g[n++] = (uint8_t)(scaps >> 16), g[n++] = (uint8_t)(scaps >> 24), g[n++] = 21;
    n += 10;
    memcpy(g + n, "ijklmnopqrst", 13), n += 13;
    memcpy(g + n, "mysql_native_password", 22), n += 22;
    m.seq_i = 0;
    if (send_pkt(1, g, n) < 0)
        return -1;
    check(0);
    unsigned r = pick(256);
    m.caps = 0x00000200u | 0x00008000u | 0x00080000u;
    if (r & 1)
        m.caps |= 0x01000000u; /* DEPRECATE_EOF */
    if (r & 2)
        m.caps |= 0x00000008u; /* CONNECT_WITH_DB */
    if (r & 4)
        m.caps |= 0x00010000u | 0x00020000u; /* multi statements and results */
    m.deprecate = (m.caps & 0x01000000u) != 0;
    int ssl = (r >> 3) % 16 == 0;
    uint8_t resp[96] = {0};
    uint32_t c = m.caps | (ssl ? 0x00000800u : 0);
    resp[0] = (uint8_t)c, resp[1] = (uint8_t)(c >> 8), resp[2] = (uint8_t)(c >> 16), resp[3] = (uint8_t)(c >> 24);
    m.charset = 45 + pick(2) * 200; /* utf8mb4_general_ci, or an id past 127 */
    resp[6] = 1, resp[8] = (uint8_t)m.charset;
    m.seq_o = 1;
    if (ssl) { /* an SSLRequest: what follows is TLS */
        m.refused = 1;
        send_pkt(0, resp, 32);
        check(0);
        uint8_t tls[6] = {0x16, 3, 1, 0, 1, 1};
        feed(0, tls, sizeof tls);
        check(0);
        return -1;
    }
    n = 32;
    memcpy(resp + n, "u_native", 9), n += 9;
    resp[n++] = 20, n += 20;
    if (m.caps & 0x00000008u)
        memcpy(resp + n, "db1", 4), n += 4;
    memcpy(resp + n, "mysql_native_password", 22), n += 22;
    if (send_pkt(0, resp, n) < 0)
        return -1;
    check(0);
    m.seq_i = 2;
    switch (r >> 7 ? pick(8) : 0) {
    case 1: /* a wrong password */
        m.refused = 1;
        err_pkt();
        check(0);
        return -1;
    case 2: { /* an AuthSwitchRequest, the program's answer */
        static const uint8_t sw[] = {0xfe, 'm', 'y', 's', 'q', 'l', '_', 'n', 'a', 't', 'i', 'v', 'e', '_', 'p', 'a',
                                     's', 's', 'w', 'o', 'r', 'd', 0, '1', '2', '3', '4', '5', '6', '7', '8', '9',
                                     '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 0};
        if (send_pkt(1, sw, sizeof sw) < 0)
            return -1;
        check(0);
        m.seq_o = 3;
        if (send_pkt(0, resp, 20) < 0)
            return -1;
        check(0);
        m.seq_i = 4;
        break;
    }
    case 3: { /* caching_sha2_password's fast path */
        static const uint8_t fast[] = {0x01, 0x03};
        if (send_pkt(1, fast, 2) < 0)
            return -1;
        check(0);
        break;
    }
    case 4: { /* its full authentication: the public key asked, RSA */
        static const uint8_t full[] = {0x01, 0x04}, askkey[] = {0x02};
        static const uint8_t key[] = "\x01-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----\n";
        static uint8_t rsa[256];
        m.full = 1;
        if (send_pkt(1, full, 2) < 0)
            return -1;
        check(0);
        m.seq_o = 3;
        if (send_pkt(0, askkey, 1) < 0)
            return -1;
        check(0);
        if (send_pkt(1, key, sizeof key - 1) < 0)
            return -1;
        check(0);
        m.seq_o = 5;
        if (send_pkt(0, rsa, sizeof rsa) < 0)
            return -1;
        check(0);
        m.seq_i = 6;
        break;
    }
    default:
        break;
    }
    if (ok_pkt(0, 0x0002) < 0)
        return -1;
    m.ready = 1;
    m.more = 0;
    check(0);
    return m.refused ? -1 : 0;
}

static void conversation(const uint8_t *data, size_t size)
{
    memset(&m, 0, sizeof m);
    src = data, src_n = size;
    memset(&sts[0], 0xa5, sizeof sts[0]);
    proto_mysql_ops.init(&sts[0]);
    memset(&sts[1], 0, sizeof sts[1]);
    memset(&sts[2], 0x5a, sizeof sts[2]);
    proto_mysql_ops.init(&sts[2]);
    cseed = 0x2545f491u ^ (uint32_t)size;
    if (handshake() < 0)
        return;
    while (src_n) {
        /* pipelined: up to three commands out before their answers */
        unsigned burst = 1 + (pick(8) == 0) * pick(3);
        for (unsigned k = 0; k < burst && m.qn < 4; k++)
            if (command())
                return;
        while (m.qn)
            if (answer() < 0)
                return;
        check(0);
        if (!m.refused && pick(8) == 0) {
            /* parked: the session layer's reset was read, the next program
             * goes on with commands (its handshake was replayed) */
            for (int k = 0; k < 3; k++)
                proto_mysql_ops.reset_done(&sts[k]);
            m.status &= (uint16_t)~0x0009u; /* no transaction, no more results */
            check(0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    split_check(&proto_mysql_ops, data, size);
    conversation(data, size);
    return 0;
}
