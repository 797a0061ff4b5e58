/* http_goodbye.c - HTTP's goodbye: an HTTP/1.1 request whose Connection
 * field carries the token `close`, its whole header section written in one
 * call at a clean boundary. objpool renames the token to `opool` (the same
 * length, as load balancers rename the field: the program's byte counts
 * hold), so the server keeps the connection; the program gets EOF once the
 * response is complete. HTTP/1.0 requests are left alone: the server's
 * answer to them (framing, Connection) differs from a 1.1 exchange. */
#include <string.h>
#include <strings.h>

#include "proto.h"

#define RENAMED "opool"

/* p[0, n) holds a line ending in CRLF at p[e]; the end of the head, or 0. */
static size_t head_end(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return i + 2;
    return 0;
}

static int is_sep(unsigned char c)
{
    return c == ' ' || c == '\t' || c == ',';
}

/* The close tokens in a Connection value [v, e): how many, and where the
 * last one starts (*at); -1 on a token objpool will not keep (upgrade). */
static int close_tokens(const unsigned char *p, size_t v, size_t e, size_t *at)
{
    int found = 0;
    size_t i = v;
    while (i < e) {
        while (i < e && is_sep(p[i]))
            i++;
        size_t s = i;
        while (i < e && !is_sep(p[i]))
            i++;
        if (i - s == 5 && !strncasecmp((const char *)p + s, "close", 5)) {
            found++;
            *at = s;
        } else if (i - s == 7 && !strncasecmp((const char *)p + s, "upgrade", 7)) {
            return -1;
        }
    }
    return found;
}

int proto_http_goodbye(const struct proto_state *st, const unsigned char *p, size_t n, struct proto_goodbye *g)
{
    if (proto_http_ops.verdict(st) != PV_CLEAN)
        return GB_NONE;
    size_t end = head_end(p, n);
    if (!end)
        return GB_NONE;
    size_t line = 0;
    while (line < end && p[line] != '\r')
        line++;
    if (line < 9 || memcmp(p + line - 9, " HTTP/1.1", 9) || !memcmp(p, "CONNECT ", 8))
        return GB_NONE;
    int closes = 0;
    size_t at = 0;
    for (size_t i = line + 2; i < end;) {
        size_t e = i;
        while (e < end && p[e] != '\r')
            e++;
        if (e - i > 11 && !strncasecmp((const char *)p + i, "connection:", 11)) {
            int c = close_tokens(p, i + 11, e, &at);
            if (c < 0)
                return GB_NONE;
            closes += c;
        }
        i = e + 2;
    }
    if (closes != 1)
        return GB_NONE;
    g->off = at;
    g->len = 5;
    g->with = RENAMED;
    g->expect_len = g->serve_len = 0;
    return GB_RENAME;
}
