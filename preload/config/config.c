/* config.c - parse pool specifications and globals.
 *
 * Sources, weakest first: the config file (OBJPOOL_CONFIG or -f), then the
 * environment. A spec is `URL[?key=value&...]` in OBJPOOL_POOLS, or
 * `pool URL [key=value ...]` in the file; both go through parse_spec().
 * Every error is one line naming the source, the token and why; any error
 * turns pooling off for the run (the program still runs).
 */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/proto_id.h"

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

void config_warn(const char *source, const char *token, const char *why)
{
    char s_cut[256], t_cut[256];
    log_msg(LOG_WARN, "config: %s: %s: %s", cut_long(source, s_cut, sizeof s_cut),
            cut_long(token, t_cut, sizeof t_cut), why);
}


/* ---- URLs ------------------------------------------------------------- */

/* "tcp://a:1,tcp://b:2": pools listed with ',' (as in many other tools)
 * would otherwise be taken for one target and blamed on whatever part
 * fails first (the host's ':' looks like an unbracketed IPv6 address).
 * A second scheme after a ',' or, in a tcp:// target, any ',' (no host
 * name or port has one) says what went wrong. */
static int looks_like_comma_list(const char *url)
{
    for (const char *c = strchr(url, ','); c; c = strchr(c + 1, ','))
        if (strstr(c, "://"))
            return 1;
    return !strncmp(url, "tcp://", 6) && strchr(url, ',');
}

static const char *parse_url(struct pool_spec *sp, const char *url)
{
    if (strlen(url) > MAX_URL)
        return "target too long";
    if (looks_like_comma_list(url))
        return "pools are separated by ';', not ','";
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
    if (!strncmp(url, "tls-ca://", 9)) {
        sp->kind = POOL_TLSCA;
        const char *p = url + 9;
        if (*p != '/')
            return "expected tls-ca:///ABSOLUTE/PATH/OF/CA/BUNDLE";
        if (strlen(p) >= 4096)
            return "path too long";
        strcpy(sp->path, p);
        return NULL;
    }
    return "unknown scheme (use tcp://, unix://, file:// or tls-ca://)";
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
long bad_text_at(const char *s)
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
void bad_byte_token(char *buf, size_t size, unsigned char c, long at)
{
    fmt_buf(buf, size, "byte 0x%c%c at column %ld", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15],
            at + 1);
}

/* Parse `key=value` into o, reporting errors. 0 on success. */
int apply_kv(struct config *cfg, const char *source, struct pool_opts *o, char *kv, int is_default)
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
void add_spec(struct config *cfg, const char *source, const char *url, char **kvs, int nkv,
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
    for (int i = 0; sp->kind == POOL_TLSCA && i < nkv; i++) {
        if (strcmp(kvs[i], "resume=on") && strcmp(kvs[i], "resume=off")) {
            config_error(cfg, source, kvs[i], "a tls-ca:// target takes only resume=on or resume=off");
            return;
        }
        sp->tls_resume = !strcmp(kvs[i], "resume=on");
    }
    if (sp->kind == POOL_TLSCA)
        nkv = 0; /* no pool options */
    for (int i = 0; i < nkv; i++)
        if (apply_kv(cfg, source, &sp->opts, kvs[i], 0) < 0)
            return;
    if (sp->opts.expect_len && !sp->opts.check_len) {
        config_error(cfg, source, url, "expect= needs check=");
        return;
    }
    /* a PostgreSQL or MySQL pool admits what the server admitted when it
     * recorded a login: a password change or a pg_hba reload (an ACCOUNT
     * LOCK) with no new login is seen within this */
    if ((sp->opts.proto == PROTO_POSTGRES || sp->opts.proto == PROTO_MYSQL) &&
        !((sp->opts.set_here | sp->opts.set_default) & (1u << OPT_MAX_LIFETIME)))
        sp->opts.max_lifetime_ms = PG_MAX_LIFETIME_MS;
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

char *trim(char *s)
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
void set_global(struct config *cfg, const char *source, const char *name, const char *val)
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
    } else if (!strcmp(name, "deepbind")) {
        if (!strcmp(val, "rebind"))
            cfg->deepbind = DEEPBIND_REBIND;
        else if (!strcmp(val, "warn"))
            cfg->deepbind = DEEPBIND_WARN;
        else
            config_error(cfg, source, val, "not rebind or warn");
    } else {
        config_error(cfg, source, name,
                     "unknown setting (report, report_format, log, log_file, max_size, deepbind)");
    }
}

/* Read a whole small file with raw system calls (no interposer sees it). */

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
    if ((v = env("OBJPOOL_DEEPBIND")))
        set_global(cfg, "OBJPOOL_DEEPBIND", "deepbind", v);
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

