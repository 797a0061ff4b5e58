/* config.c - parse pool specifications and globals.
 *
 * Sources, weakest first: the config file (OBJPOOL_CONFIG or -f), then the
 * environment. A spec is `URL[?key=value&...]` in OBJPOOL_POOLS, or
 * `pool URL [key=value ...]` in the file; both go through parse_spec().
 * Every error is one line naming the source, the token and why; any error
 * turns pooling off for the run (the program still runs).
 */
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const opt_names[OPT_COUNT] = {
    "max_size", "idle_timeout", "max_lifetime", "prewarm", "connect_timeout", "order",
    "check", "expect", "check_delay", "validate", "modes", "shutdown", "max_uses",
};

const char *opt_name(int id)
{
    return id >= 0 && id < OPT_COUNT ? opt_names[id] : "?";
}

/* A hostile token or file name can be longer than a log line: cut it, so
 * that the reason at the end of the line is never lost. */
static const char *cut_long(const char *s, char *buf, size_t size)
{
    size_t len = strlen(s);
    if (len <= 200 || size < 232)
        return s;
    memcpy(buf, s, 200);
    fmt_buf(buf + 200, size - 200, "... (%zu bytes)", len);
    return buf;
}

void config_error(struct config *cfg, const char *source, const char *token, const char *why)
{
    char s_cut[256], t_cut[256];
    cfg->errors++;
    log_msg(LOG_ERROR, "config: %s: %s: %s", cut_long(source, s_cut, sizeof s_cut),
            cut_long(token, t_cut, sizeof t_cut), why);
}

static void config_warn(const char *source, const char *token, const char *why)
{
    char s_cut[256], t_cut[256];
    log_msg(LOG_WARN, "config: %s: %s: %s", cut_long(source, s_cut, sizeof s_cut),
            cut_long(token, t_cut, sizeof t_cut), why);
}

/* ---- values ----------------------------------------------------------- */

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
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

static void default_opts(struct pool_opts *o, unsigned max_size)
{
    memset(o, 0, sizeof *o);
    o->max_size = max_size;
    o->connect_timeout_ms = 1000;
    o->order = OBJPOOL_LIFO;
    o->validate = 1;
    o->modes = MODE_READ;
    o->shutdown_defer = 1;
}

/* Apply one key=value. NULL on success, else why it is bad. */
static const char *set_opt(struct pool_opts *o, const char *key, const char *val, int *id_out)
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

/* ---- URLs ------------------------------------------------------------- */

static const char *parse_url(struct pool_spec *sp, const char *url)
{
    if (strlen(url) > MAX_URL)
        return "target too long";
    strcpy(sp->url, url);
    if (!strncmp(url, "tcp://", 6)) {
        const char *h = url + 6, *colon;
        sp->kind = POOL_TCP;
        if (*h == '[') {
            const char *end = strchr(h, ']');
            if (!end || end[1] != ':')
                return "expected tcp://[IPV6]:PORT";
            if ((size_t)(end - h - 1) > MAX_HOST || end == h + 1)
                return "bad host";
            memcpy(sp->host, h + 1, (size_t)(end - h - 1));
            sp->host[end - h - 1] = '\0';
            colon = end + 1;
        } else {
            colon = strrchr(h, ':');
            if (!colon || colon == h)
                return "expected tcp://HOST:PORT";
            if ((size_t)(colon - h) > MAX_HOST)
                return "host name too long";
            memcpy(sp->host, h, (size_t)(colon - h));
            sp->host[colon - h] = '\0';
            if (strchr(sp->host, ':'))
                return "IPv6 addresses go in brackets: tcp://[::1]:PORT";
        }
        uint64_t port;
        if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
            return "port must be a number from 1 to 65535";
        sp->port = (unsigned)port;
        for (const char *c = sp->host; *c; c++)
            if (!isalnum((unsigned char)*c) && !strchr(".-_:%", *c))
                return "bad character in host name";
        return NULL;
    }
    if (!strncmp(url, "unix://", 7)) {
        sp->kind = POOL_UNIX;
        const char *p = url + 7;
        if (*p != '/')
            return "expected unix:///ABSOLUTE/PATH";
        if (strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return "socket path too long (at most 107 bytes)";
        strcpy(sp->path, p);
        return NULL;
    }
    if (!strncmp(url, "file://", 7)) {
        sp->kind = POOL_FILE;
        const char *p = url + 7;
        if (*p != '/')
            return "expected file:///ABSOLUTE/PATH";
        if (strlen(p) >= 4096)
            return "path too long";
        strcpy(sp->path, p);
        return NULL;
    }
    return "unknown scheme (use tcp://, unix:// or file://)";
}

static struct pool_spec *new_spec(struct config *cfg)
{
    if (cfg->nspecs == cfg->cap_specs) {
        int cap = cfg->cap_specs ? cfg->cap_specs * 2 : 8;
        struct pool_spec *n = realloc(cfg->specs, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        cfg->specs = n;
        cfg->cap_specs = cap;
    }
    struct pool_spec *sp = &cfg->specs[cfg->nspecs];
    memset(sp, 0, sizeof *sp);
    return sp;
}

/* Text: no control bytes but tab, and valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). Returns the offset of the first
 * byte that is not text, or -1 if all is text. */
static long bad_text_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        long at = (long)(p - (const unsigned char *)s);
        if ((c < 32 && c != '\t') || c == 127)
            return at;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n;
        unsigned cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return at;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return at; /* also stops at the terminating NUL */
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return at;
        p += n + 1;
    }
    return -1;
}

/* "byte 0x01 at column 7": the token of a not-text error (columns from 1) */
static void bad_byte_token(char *buf, size_t size, unsigned char c, long at)
{
    fmt_buf(buf, size, "byte 0x%c%c at column %ld", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15],
            at + 1);
}

/* Parse `key=value` into o, reporting errors. 0 on success. */
static int apply_kv(struct config *cfg, const char *source, struct pool_opts *o, char *kv, int is_default)
{
    char *eq = strchr(kv, '=');
    if (!eq) {
        config_error(cfg, source, kv, "expected key=value");
        return -1;
    }
    *eq = '\0';
    int id;
    const char *why = set_opt(o, kv, eq + 1, &id);
    *eq = '=';
    if (why) {
        config_error(cfg, source, kv, why);
        return -1;
    }
    if (is_default)
        o->set_default |= 1u << id;
    else
        o->set_here |= 1u << id;
    return 0;
}

/* One spec: the URL and its options already split apart. */
static void add_spec(struct config *cfg, const char *source, const char *url, char **kvs, int nkv,
                     const struct pool_opts *defaults)
{
    struct pool_spec *sp = new_spec(cfg);
    if (!sp) {
        config_error(cfg, source, url, "out of memory");
        return;
    }
    sp->opts = *defaults;
    sp->opts.set_here = 0;
    fmt_buf(sp->source, sizeof sp->source, "%s", source);
    const char *why = parse_url(sp, url);
    if (why) {
        config_error(cfg, source, url, why);
        return;
    }
    for (int i = 0; i < nkv; i++)
        if (apply_kv(cfg, source, &sp->opts, kvs[i], 0) < 0)
            return;
    if (sp->opts.expect_len && !sp->opts.check_len) {
        config_error(cfg, source, url, "expect= needs check=");
        return;
    }
    cfg->nspecs++;
}

/* An OBJPOOL_POOLS item: URL?k=v&k=v */
static void parse_env_item(struct config *cfg, const char *source, char *item, const struct pool_opts *defaults)
{
    char *kvs[OPT_COUNT * 2];
    int nkv = 0;
    char *q = strchr(item, '?');
    if (q) {
        *q++ = '\0';
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            if (nkv == (int)(sizeof kvs / sizeof *kvs)) {
                config_error(cfg, source, kv, "too many options");
                return;
            }
            kvs[nkv++] = kv;
        }
    }
    add_spec(cfg, source, item, kvs, nkv, defaults);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static void parse_pools_env(struct config *cfg, const char *text, const struct pool_opts *defaults)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, text, len + 1);
    int n = 0;
    for (char *save = NULL, *item = strtok_r(copy, ";\n", &save); item; item = strtok_r(NULL, ";\n", &save)) {
        item = trim(item);
        n++;
        if (!*item)
            continue;
        char source[48];
        fmt_buf(source, sizeof source, "OBJPOOL_POOLS:%d", n);
        long bad = bad_text_at(item);
        if (bad >= 0) {
            char tok[48];
            bad_byte_token(tok, sizeof tok, (unsigned char)item[bad], bad);
            config_error(cfg, source, tok, "bytes that are not text");
            continue;
        }
        parse_env_item(cfg, source, item, defaults);
    }
    free(copy);
}

/* `set NAME VALUE` and the environment's globals share this. */
static void set_global(struct config *cfg, const char *source, const char *name, const char *val)
{
    uint64_t v;
    if (!strcmp(name, "report")) {
        if (strlen(val) > MAX_URL || !*val)
            config_error(cfg, source, val, "bad report destination");
        else
            strcpy(cfg->report, val);
    } else if (!strcmp(name, "report_format")) {
        if (!strcmp(val, "text"))
            cfg->report_format = REPORT_TEXT;
        else if (!strcmp(val, "json"))
            cfg->report_format = REPORT_JSON;
        else
            config_error(cfg, source, val, "not text or json");
    } else if (!strcmp(name, "log")) {
        if (!strcmp(val, "error"))
            cfg->log_level = LOG_ERROR;
        else if (!strcmp(val, "warn"))
            cfg->log_level = LOG_WARN;
        else if (!strcmp(val, "info"))
            cfg->log_level = LOG_INFO;
        else if (!strcmp(val, "debug"))
            cfg->log_level = LOG_DEBUG;
        else
            config_error(cfg, source, val, "not error, warn, info or debug");
    } else if (!strcmp(name, "log_file")) {
        if (strlen(val) > MAX_URL || !*val)
            config_error(cfg, source, val, "bad log file");
        else
            strcpy(cfg->log_file, val);
    } else if (!strcmp(name, "max_size")) {
        if (parse_uint(val, 100000, &v) < 0)
            config_error(cfg, source, val, "not a number from 0 to 100000");
        else
            cfg->default_max_size = (unsigned)v;
    } else {
        config_error(cfg, source, name, "unknown setting (report, report_format, log, log_file, max_size)");
    }
}

/* Read a whole small file with raw system calls (no interposer sees it). */
static char *slurp(const char *path, size_t *len_out, int *err)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            break;
        if (len == cap) {
            if (cap >= (1u << 20)) {
                free(buf);
                buf = NULL;
                *err = EFBIG;
                break;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        long n = syscall(SYS_read, fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = errno;
            free(buf);
            buf = NULL;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    syscall(SYS_close, fd);
    if (buf) {
        buf[len] = '\0';
        *len_out = len;
    }
    return buf;
}

/* File globals are applied first and then overridden by the environment,
 * so keep them apart until config_load() merges. */
static void parse_file(struct config *cfg, const char *path, int max_size_from_env)
{
    struct pool_opts file_defaults, *defaults = &file_defaults;
    default_opts(defaults, cfg->default_max_size);
    size_t len = 0;
    int err = 0;
    char *text = slurp(path, &len, &err);
    if (!text) {
        char src[MAX_URL + 16];
        fmt_buf(src, sizeof src, "%s", path);
        config_error(cfg, src, path, err ? strerror(err) : "cannot read");
        return;
    }
    int lineno = 0;
    char *p = text;
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        char *end = nl ? nl : text + len;
        lineno++;
        char source[MAX_URL + 32];
        fmt_buf(source, sizeof source, "%s:%d", path, lineno);
        char *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul) {
            char tok[48];
            bad_byte_token(tok, sizeof tok, 0, (long)(nul - p));
            config_error(cfg, source, tok, "bytes that are not text");
            p = end + 1;
            continue;
        }
        *end = '\0';
        if (end - p > MAX_LINE) {
            char tok[48];
            fmt_buf(tok, sizeof tok, "line of %ld bytes", (long)(end - p));
            config_error(cfg, source, tok, "line longer than 4096 bytes");
            p = end + 1;
            continue;
        }
        char *start = p, *line = trim(p);
        p = end + 1;
        if (!*line || *line == '#')
            continue;
        long bad = bad_text_at(line);
        if (bad >= 0) {
            char tok[48];
            /* the column in the line as written, before trimming */
            bad_byte_token(tok, sizeof tok, (unsigned char)line[bad], bad + (long)(line - start));
            config_error(cfg, source, tok, "bytes that are not text");
            continue;
        }
        char *words[OPT_COUNT * 2 + 2];
        int nw = 0;
        for (char *save = NULL, *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            if (nw == (int)(sizeof words / sizeof *words)) {
                config_error(cfg, source, w, "too many words");
                nw = -1;
                break;
            }
            words[nw++] = w;
        }
        if (nw <= 0)
            continue;
        if (!strcmp(words[0], "pool")) {
            if (nw < 2)
                config_error(cfg, source, "pool", "expected pool URL [key=value ...]");
            else
                add_spec(cfg, source, words[1], words + 2, nw - 2, defaults);
        } else if (!strcmp(words[0], "default")) {
            /* one error per line, as for pool lines */
            for (int i = 1; i < nw; i++)
                if (apply_kv(cfg, source, defaults, words[i], 1) < 0)
                    break;
        } else if (!strcmp(words[0], "set")) {
            if (nw != 3)
                config_error(cfg, source, words[0], "expected set NAME VALUE");
            else if (!strcmp(words[1], "max_size") && max_size_from_env)
                ; /* OBJPOOL_MAX_SIZE beats the file */
            else {
                set_global(cfg, source, words[1], words[2]);
                if (!(defaults->set_default & (1u << OPT_MAX_SIZE)))
                    defaults->max_size = cfg->default_max_size;
            }
        } else {
            config_error(cfg, source, words[0], "unknown directive (pool, default, set)");
        }
    }
    free(text);
}

static const char *env(const char *name)
{
    /* secure_getenv: a setuid program gets no pooling and no report file */
    const char *v = secure_getenv(name);
    return v && *v ? v : NULL;
}

void config_load(struct config *cfg, const char *file, const char *extra_pools)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->report, "stderr");
    cfg->log_level = LOG_WARN;
    cfg->default_max_size = 10;
    const char *v;

    if ((v = env("OBJPOOL_DISABLE")) && strcmp(v, "0"))
        cfg->disabled = 1;
    /* the log level first, so that the file's errors are seen as asked */
    if ((v = env("OBJPOOL_LOG")))
        set_global(cfg, "OBJPOOL_LOG", "log", v);
    log_level = cfg->log_level;
    /* OBJPOOL_MAX_SIZE is the default every pool starts from; it beats the
     * file's `set max_size`, and a pool's own max_size beats both */
    const char *env_max = env("OBJPOOL_MAX_SIZE");
    if (env_max)
        set_global(cfg, "OBJPOOL_MAX_SIZE", "max_size", env_max);

    const char *path = file ? file : env("OBJPOOL_CONFIG");
    if (path)
        parse_file(cfg, path, env_max != NULL);

    /* the environment beats the file */
    if ((v = env("OBJPOOL_REPORT")))
        set_global(cfg, "OBJPOOL_REPORT", "report", v);
    if ((v = env("OBJPOOL_REPORT_FORMAT")))
        set_global(cfg, "OBJPOOL_REPORT_FORMAT", "report_format", v);
    if ((v = env("OBJPOOL_LOG")))
        set_global(cfg, "OBJPOOL_LOG", "log", v);
    if ((v = env("OBJPOOL_LOG_FILE")))
        set_global(cfg, "OBJPOOL_LOG_FILE", "log_file", v);
    log_level = cfg->log_level;

    /* Environment pools start from the built-in defaults and the global
     * max_size, not from the file's `default` lines. */
    struct pool_opts env_defaults;
    default_opts(&env_defaults, cfg->default_max_size);
    if ((v = env("OBJPOOL_POOLS")))
        parse_pools_env(cfg, v, &env_defaults);
    if (extra_pools)
        parse_pools_env(cfg, extra_pools, &env_defaults);
}

/* ---- resolution ------------------------------------------------------- */

static struct target *new_target(struct config *cfg, struct pool_spec *sp, int *cap)
{
    if (cfg->ntargets == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        struct target *n = realloc(cfg->targets, (size_t)ncap * sizeof *n);
        if (!n)
            return NULL;
        cfg->targets = n;
        *cap = ncap;
    }
    struct target *t = &cfg->targets[cfg->ntargets];
    memset(t, 0, sizeof *t);
    t->spec = sp;
    return t;
}

static int same_address(const struct target *a, const struct target *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == AF_INET)
        return a->addr.in4.sin_port == b->addr.in4.sin_port &&
               a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
    if (a->family == AF_INET6)
        return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
               !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 16);
    if (a->family == AF_UNIX)
        return !strcmp(a->addr.un.sun_path, b->addr.un.sun_path);
    return !strcmp(a->spec->path, b->spec->path);
}

static int is_duplicate(const struct config *cfg, const struct target *t)
{
    for (int i = 0; i < cfg->ntargets; i++)
        if (same_address(&cfg->targets[i], t))
            return 1;
    return 0;
}

/* The targets of one spec. Returns how many were added, -1 if the host
 * name does not resolve (warned here). */
static int add_resolved(struct config *cfg, struct pool_spec *sp, int *cap)
{
    if (sp->kind == POOL_UNIX || sp->kind == POOL_FILE) {
        struct target *t = new_target(cfg, sp, cap);
        if (!t)
            return -1;
        if (sp->kind == POOL_UNIX) {
            t->family = AF_UNIX;
            t->addr.un.sun_family = AF_UNIX;
            strcpy(t->addr.un.sun_path, sp->path);
        } else {
            t->has_glob = strpbrk(sp->path, "*?[") != NULL;
        }
        if (is_duplicate(cfg, t))
            return 0;
        fmt_buf(t->label, sizeof t->label, "%s", sp->url);
        cfg->ntargets++;
        return 1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    fmt_buf(port, sizeof port, "%u", sp->port);
    int rc = getaddrinfo(sp->host, port, &hints, &res);
    if (rc != 0 || !res) {
        config_warn(sp->source, sp->host, "host name does not resolve; this pool is skipped");
        return -1;
    }
    int added = 0;
    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            count++;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        struct target *t = new_target(cfg, sp, cap);
        if (!t)
            break;
        t->family = ai->ai_family;
        memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
        const void *a = ai->ai_family == AF_INET ? (const void *)&t->addr.in4.sin_addr
                                                 : (const void *)&t->addr.in6.sin6_addr;
        inet_ntop(ai->ai_family, a, t->addr_text, sizeof t->addr_text);
        if (is_duplicate(cfg, t))
            continue;
        int literal = !strcmp(t->addr_text, sp->host);
        if (literal || count == 1)
            fmt_buf(t->label, sizeof t->label, "%s", sp->url);
        else
            fmt_buf(t->label, sizeof t->label, "%s (%s)", sp->url, t->addr_text);
        cfg->ntargets++;
        added++;
    }
    freeaddrinfo(res);
    return added;
}

int config_resolve(struct config *cfg)
{
    int cap = 0;
    for (int i = 0; i < cfg->nspecs; i++) {
        /* the same target twice: the first spec wins, say so */
        if (add_resolved(cfg, &cfg->specs[i], &cap) == 0)
            config_warn(cfg->specs[i].source, cfg->specs[i].url, "duplicate target ignored");
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->specs);
    free(cfg->targets);
    cfg->specs = NULL;
    cfg->targets = NULL;
}
