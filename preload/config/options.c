/* options.c - the per-pool options: their names (the one table of them),
 * defaults, value parsers (numbers, durations, escaped probe bytes, modes)
 * and how `objpool check` prints them. */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../base/proto_id.h"
#include "../core/objpool.h"

static const char *const opt_names[OPT_COUNT] = {
    "max_size", "idle_timeout", "max_lifetime", "prewarm", "connect_timeout", "order",
    "check", "expect", "check_delay", "validate", "modes", "shutdown", "max_uses", "proto",
    "auth",
};

const char *opt_name(int id)
{
    return id >= 0 && id < OPT_COUNT ? opt_names[id] : "?";
}


int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

/* "250ms", "30s", "5m", "1h"; a bare number is seconds. */
int parse_duration_ms(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9' && n < sizeof num - 1) {
        num[n] = s[n];
        n++;
    }
    num[n] = '\0';
    uint64_t v, mult;
    const char *unit = s + n;
    if (!strcmp(unit, "ms"))
        mult = 1;
    else if (!strcmp(unit, "s") || !*unit)
        mult = 1000;
    else if (!strcmp(unit, "m"))
        mult = 60000;
    else if (!strcmp(unit, "h"))
        mult = 3600000;
    else
        return -1;
    if (parse_uint(num, 1000000000ull, &v) < 0)
        return -1;
    *out = v * mult;
    return 0;
}

/* C escapes: \r \n \t \0 \\ \xHH. Returns the length, -1 if bad. */
static long parse_escaped(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == '\\') {
            s++;
            switch (*s) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = '\0'; break;
            case '\\': c = '\\'; break;
            case 'x': {
                if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
                    return -1;
                char hex[3] = {s[1], s[2], 0};
                c = (char)strtol(hex, NULL, 16);
                s += 2;
                break;
            }
            default:
                return -1;
            }
        }
        if (n >= size)
            return -1;
        out[n++] = c;
    }
    return (long)n;
}

static int parse_modes(const char *s, int *out)
{
    int m = 0;
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "r") || !strcmp(tok, "read"))
            m |= MODE_READ;
        else if (!strcmp(tok, "w") || !strcmp(tok, "write"))
            m |= MODE_WRITE;
        else if (!strcmp(tok, "a") || !strcmp(tok, "append"))
            m |= MODE_APPEND;
        else if (!strcmp(tok, "r+") || !strcmp(tok, "rw"))
            m |= MODE_RW;
        else
            return -1;
    }
    if (!m)
        return -1;
    *out = m;
    return 0;
}

void default_opts(struct pool_opts *o, unsigned max_size)
{
    memset(o, 0, sizeof *o);
    o->max_size = max_size;
    o->connect_timeout_ms = 1000;
    /* A server drained for a rolling deploy keeps its established
     * connections: a lifetime bounds how long pooled clients stay there
     * (HikariCP: 30 min; transparent pooling retires sooner, and a new
     * connection a minute costs nothing). max_lifetime=0 turns it off. */
    o->max_lifetime_ms = 60000;
    o->order = OBJPOOL_LIFO;
    o->validate = 1;
    o->modes = MODE_READ;
    o->shutdown_defer = 1;
}

/* Apply one key=value. NULL on success, else why it is bad. */
const char *set_opt(struct pool_opts *o, const char *key, const char *val, int *id_out)
{
    uint64_t v;
    long n;
    int id = -1;
    for (int i = 0; i < OPT_COUNT; i++)
        if (!strcmp(key, opt_names[i]))
            id = i;
    *id_out = id;
    if (id < 0)
        return "unknown key";
    if (strlen(val) > MAX_PROBE * 4)
        return "value too long";
    switch (id) {
    case OPT_MAX_SIZE:
        if (parse_uint(val, 100000, &v) < 0)
            return "not a number from 0 to 100000";
        o->max_size = (unsigned)v;
        break;
    case OPT_MAX_USES:
        if (parse_uint(val, 1000000000, &v) < 0)
            return "not a number from 0 to 1000000000";
        o->max_uses = (unsigned)v;
        break;
    case OPT_PREWARM:
        if (parse_uint(val, 1000, &v) < 0)
            return "not a number from 0 to 1000";
        o->prewarm = (unsigned)v;
        break;
    case OPT_IDLE_TIMEOUT:
    case OPT_MAX_LIFETIME:
    case OPT_CONNECT_TIMEOUT:
    case OPT_CHECK_DELAY:
        if (parse_duration_ms(val, &v) < 0)
            return "bad duration (use e.g. 250ms, 30s, 5m)";
        if (id == OPT_IDLE_TIMEOUT)
            o->idle_timeout_ms = v;
        else if (id == OPT_MAX_LIFETIME)
            o->max_lifetime_ms = v;
        else if (id == OPT_CONNECT_TIMEOUT)
            o->connect_timeout_ms = v;
        else
            o->check_delay_ms = v;
        break;
    case OPT_ORDER:
        if (!strcmp(val, "lifo"))
            o->order = OBJPOOL_LIFO;
        else if (!strcmp(val, "fifo"))
            o->order = OBJPOOL_FIFO;
        else
            return "not lifo or fifo";
        break;
    case OPT_CHECK:
    case OPT_EXPECT:
        n = parse_escaped(val, id == OPT_CHECK ? o->check : o->expect, MAX_PROBE);
        if (n <= 0)
            return "bad or empty escaped string (\\r \\n \\t \\0 \\\\ \\xHH, at most 256 bytes)";
        if (id == OPT_CHECK)
            o->check_len = (size_t)n;
        else
            o->expect_len = (size_t)n;
        break;
    case OPT_VALIDATE:
        if (!strcmp(val, "stat"))
            o->validate = 1;
        else if (!strcmp(val, "none"))
            o->validate = 0;
        else
            return "not stat or none";
        break;
    case OPT_MODES:
        if (parse_modes(val, &o->modes) < 0)
            return "not a list of r, w, a, r+";
        break;
    case OPT_PROTO: {
        int p = proto_parse_name(val, strlen(val));
        if (p < 0)
            return "not auto, http, redis, memcache, line, postgres, mysql or opaque";
        o->proto = p;
        break;
    }
    case OPT_AUTH:
        if (!strcmp(val, "strict"))
            o->auth_process = 0;
        else if (!strcmp(val, "process"))
            o->auth_process = 1;
        else
            return "not strict or process";
        break;
    case OPT_SHUTDOWN:
        if (!strcmp(val, "defer"))
            o->shutdown_defer = 1;
        else if (!strcmp(val, "pass"))
            o->shutdown_defer = 0;
        else
            return "not defer or pass";
        break;
    }
    return NULL;
}

void opt_format(const struct pool_opts *o, int id, char *buf, size_t size)
{
    const char *s = NULL;
    switch (id) {
    case OPT_MAX_SIZE: fmt_buf(buf, size, "%u", o->max_size); return;
    case OPT_PREWARM: fmt_buf(buf, size, "%u", o->prewarm); return;
    case OPT_MAX_USES: fmt_buf(buf, size, "%u", o->max_uses); return;
    case OPT_IDLE_TIMEOUT: fmt_buf(buf, size, "%llums", (unsigned long long)o->idle_timeout_ms); return;
    case OPT_MAX_LIFETIME: fmt_buf(buf, size, "%llums", (unsigned long long)o->max_lifetime_ms); return;
    case OPT_CONNECT_TIMEOUT: fmt_buf(buf, size, "%llums", (unsigned long long)o->connect_timeout_ms); return;
    case OPT_CHECK_DELAY: fmt_buf(buf, size, "%llums", (unsigned long long)o->check_delay_ms); return;
    case OPT_ORDER: s = o->order == OBJPOOL_FIFO ? "fifo" : "lifo"; break;
    case OPT_VALIDATE: s = o->validate ? "stat" : "none"; break;
    case OPT_SHUTDOWN: s = o->shutdown_defer ? "defer" : "pass"; break;
    case OPT_PROTO: s = proto_name(o->proto); break;
    case OPT_AUTH: s = o->auth_process ? "process" : "strict"; break;
    case OPT_MODES:
        fmt_buf(buf, size, "%s%s%s%s", o->modes & MODE_READ ? "r," : "", o->modes & MODE_WRITE ? "w," : "",
                o->modes & MODE_APPEND ? "a," : "", o->modes & MODE_RW ? "r+," : "");
        if (*buf)
            buf[strlen(buf) - 1] = '\0';
        return;
    case OPT_CHECK:
    case OPT_EXPECT: {
        const char *src = id == OPT_CHECK ? o->check : o->expect;
        size_t len = id == OPT_CHECK ? o->check_len : o->expect_len, pos = 0;
        if (!len) {
            fmt_buf(buf, size, "(none)");
            return;
        }
        for (size_t i = 0; i < len && pos + 5 < size; i++) {
            unsigned char c = (unsigned char)src[i];
            if (c == '\r') { buf[pos++] = '\\'; buf[pos++] = 'r'; }
            else if (c == '\n') { buf[pos++] = '\\'; buf[pos++] = 'n'; }
            else if (c == '\\') { buf[pos++] = '\\'; buf[pos++] = '\\'; }
            else if (c < 32 || c >= 127) pos += fmt_buf(buf + pos, size - pos, "\\x%x%x", c >> 4, c & 15);
            else buf[pos++] = (char)c;
        }
        buf[pos] = '\0';
        return;
    }
    }
    fmt_buf(buf, size, "%s", s ? s : "?");
}

