/* mysql_answer.c - the server's answers to the program's commands
 * (mysql.c frames them): an OK or ERR, a result set whose end says whether
 * another result follows, a prepared statement's definitions, a LOCAL
 * INFILE exchange. */
#include "mysql_int.h"

#include <string.h>

/* A length-encoded integer at p (at most n bytes kept); its size in *used,
 * 0 when it is not whole in the kept bytes or is not one (0xfb, 0xff). */
static uint64_t lenenc(const unsigned char *p, size_t n, size_t *used)
{
    *used = 0;
    if (!n)
        return 0;
    size_t w = p[0] < 0xfb ? 1 : p[0] == 0xfc ? 3 : p[0] == 0xfd ? 4 : p[0] == 0xfe ? 9 : 0;
    if (!w || w > n)
        return 0;
    *used = w;
    if (w == 1)
        return p[0];
    uint64_t v = 0;
    for (size_t k = w - 1; k >= 1; k--)
        v = v << 8 | p[k];
    return v;
}

/* The status flags of an OK packet (0x00 or 0xfe header); -1 when they are
 * past the kept bytes. */
int my_ok_status(const unsigned char *h, size_t n)
{
    size_t a, b;
    lenenc(h + 1, n - 1, &a);
    if (!a)
        return -1;
    lenenc(h + 1 + a, n - 1 - a, &b);
    if (!b || 1 + a + b + 2 > n)
        return -1;
    return my_le16(h + 1 + a + b);
}

/* Is this server packet the end of rows or columns: an EOF (0xfe, under 9
 * bytes) or, with CLIENT_DEPRECATE_EOF, an OK with a 0xfe header? */
static int is_eof(const struct my *m, const unsigned char *h, uint32_t len)
{
    if (!len || h[0] != 0xfe)
        return 0;
    return (m->caps & CAP_DEPRECATE_EOF) ? len < 0xffffffu : len < 9;
}

/* The status an end-of-rows packet carries. */
static int eof_status(const struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    if ((m->caps & CAP_DEPRECATE_EOF) && len >= 7)
        return my_ok_status(h, kept);
    return len >= 5 ? my_le16(h + 3) : 0;
}

/* The answer kind of a command; AN_NONE for those the server never answers,
 * -1 for those that end reuse. */
int my_answer_of(int cmd)
{
    switch (cmd) {
    case 0x03: /* COM_QUERY */
    case 0x17: /* COM_STMT_EXECUTE */
        return AN_QUERY;
    case 0xfa: /* COM_STMT_BULK_EXECUTE (MariaDB) */
        return AN_QUERY;
    case 0x16: /* COM_STMT_PREPARE */
        return AN_PREPARE;
    case 0x02: /* COM_INIT_DB */
    case 0x0e: /* COM_PING */
    case 0x1f: /* COM_RESET_CONNECTION */
    case 0x1a: /* COM_STMT_RESET */
    case 0x0c: /* COM_PROCESS_KILL */
    case 0x07: /* COM_REFRESH */
    case 0x1b: /* COM_SET_OPTION (OK, or an EOF from older servers) */
    case 0x0d: /* COM_DEBUG (an EOF) */
        return AN_OK;
    case 0x09: /* COM_STATISTICS: one string packet */
        return AN_ONE;
    case 0x04: /* COM_FIELD_LIST */
        return AN_FIELDS;
    case 0x19: /* COM_STMT_CLOSE */
    case 0x18: /* COM_STMT_SEND_LONG_DATA */
        return AN_NONE;
    default: /* COM_QUIT, COM_CHANGE_USER, COM_STMT_FETCH, replication, unknown */
        return -1;
    }
}

/* The head command's answer is whole: the next one's begins. */
static void answered(struct my *m)
{
    memmove(m->q, m->q + 1, (size_t)(MY_Q - 1));
    m->qn--;
    m->rs = RS_FIRST;
}

/* The status of a packet ending an answer: another result may follow. */
static void end_status(struct my *m, int status)
{
    if (status < 0) {
        my_die(m, PV_CONFUSED);
        return;
    }
    m->status = (uint16_t)status;
    if (status & ST_CURSOR_EXISTS)
        my_die(m, PV_NEVER); /* a cursor the program fetches from */
    if (status & ST_MORE_RESULTS)
        m->rs = RS_FIRST;
    else
        answered(m);
}

/* A result set's column count. With MariaDB's cached metadata a byte
 * follows it: 0 when the definitions are not sent again (an execution of a
 * prepared statement whose columns the program knows), the EOF (unless
 * CLIENT_DEPRECATE_EOF) coming right after the count. */
static void column_count(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    size_t used;
    int cache = (m->xcaps & XCAP_CACHE_METADATA) != 0;
    m->n = lenenc(h, kept, &used);
    if (!used || used + (size_t)cache != len || kept < len || !m->n) {
        my_die(m, PV_CONFUSED);
        return;
    }
    m->rs = RS_COLDEFS;
    if (cache && h[used] == 0)
        m->rs = (m->caps & CAP_DEPRECATE_EOF) ? RS_ROWS : RS_COLEOF;
    else if (cache && h[used] != 1)
        my_die(m, PV_CONFUSED);
}

/* The first packet of an answer to a query or a statement's execution. */
static void query_first(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    if (h[0] == 0x00) {
        end_status(m, my_ok_status(h, kept));
    } else if (h[0] == 0xff) {
        answered(m);
    } else if (h[0] == 0xfb) {
        m->rs = RS_INFILE; /* the program sends a file */
    } else {
        column_count(m, h, len, kept);
    }
}

/* A later packet of a result set. */
static void result_next(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    int deprecate = (m->caps & CAP_DEPRECATE_EOF) != 0;
    switch (m->rs) {
    case RS_COLDEFS:
        if (--m->n == 0)
            m->rs = deprecate ? RS_ROWS : RS_COLEOF;
        break;
    case RS_COLEOF:
        if (!is_eof(m, h, len))
            my_die(m, PV_CONFUSED);
        else if (eof_status(m, h, len, kept) & ST_CURSOR_EXISTS)
            my_die(m, PV_NEVER);
        m->rs = RS_ROWS;
        break;
    default: /* RS_ROWS */
        if (h[0] == 0xff && len < 0xffffffu)
            answered(m);
        else if (is_eof(m, h, len))
            end_status(m, eof_status(m, h, len, kept));
    }
}

/* A prepared statement's columns come after its parameters (if any). */
static void prepare_cols(struct my *m)
{
    if (m->ncols) {
        m->rs = RS_PCOLS;
        m->n = m->ncols;
    } else {
        answered(m);
    }
}

/* The answer to COM_STMT_PREPARE: an OK naming how many parameter and
 * column definitions follow, each group ended by an EOF unless
 * CLIENT_DEPRECATE_EOF. */
static void prepare_next(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    int deprecate = (m->caps & CAP_DEPRECATE_EOF) != 0;
    switch (m->rs) {
    case RS_FIRST:
        if (h[0] == 0xff) {
            answered(m);
        } else if (h[0] != 0x00 || kept < 9) {
            my_die(m, PV_CONFUSED);
        } else {
            m->ncols = my_le16(h + 5);
            m->n = my_le16(h + 7);
            if (m->n)
                m->rs = RS_PARAMS;
            else
                prepare_cols(m);
        }
        break;
    case RS_PARAMS:
        if (--m->n == 0) {
            if (deprecate)
                prepare_cols(m);
            else
                m->rs = RS_PARAMEOF;
        }
        break;
    case RS_PCOLS:
        if (--m->n == 0) {
            if (deprecate)
                answered(m);
            else
                m->rs = RS_PCOLEOF;
        }
        break;
    default: /* RS_PARAMEOF, RS_PCOLEOF */
        if (!is_eof(m, h, len))
            my_die(m, PV_CONFUSED);
        else if (m->rs == RS_PARAMEOF)
            prepare_cols(m);
        else
            answered(m);
    }
}

/* A whole server packet after the handshake: the head command's answer. */
void my_answer(struct my *m, const unsigned char *h, uint32_t len, size_t kept)
{
    if (!m->qn || !len) {
        my_die(m, PV_CONFUSED); /* the server spoke unasked (a kill's ERR before it closes) */
        return;
    }
    /* MariaDB's progress report (an ERR of code 0xffff), asked by the
     * program's driver, comes before the statement's answer (ALTER TABLE,
     * LOAD DATA...): the command is still running */
    if ((m->xcaps & XCAP_PROGRESS) && h[0] == 0xff && kept >= 3 && h[1] == 0xff && h[2] == 0xff)
        return;
    switch (m->q[0]) {
    case AN_OK:
        if (h[0] == 0x00)
            end_status(m, my_ok_status(h, kept));
        else if (h[0] == 0xff || h[0] == 0xfe)
            answered(m);
        else
            my_die(m, PV_CONFUSED);
        break;
    case AN_ONE:
        answered(m);
        break;
    case AN_FIELDS:
        if (h[0] == 0xff || is_eof(m, h, len))
            answered(m);
        break;
    case AN_PREPARE:
        prepare_next(m, h, len, kept);
        break;
    default: /* AN_QUERY */
        if (m->rs == RS_FIRST)
            query_first(m, h, len, kept);
        else if (m->rs == RS_INFILE)
            my_die(m, PV_CONFUSED); /* the server answered before the file's end */
        else if (m->rs == RS_INFILE_END && h[0] == 0x00)
            end_status(m, my_ok_status(h, kept));
        else if (m->rs == RS_INFILE_END)
            answered(m);
        else
            result_next(m, h, len, kept);
    }
}

