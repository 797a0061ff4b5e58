/* file.c - OBJPOOL_CONFIG: reading the file (slurp) and its lines
 * (`pool`, `default`, `set`, comments). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a configuration file that is not a plain file is, for the error. */
static const char *not_regular(mode_t m)
{
    if (S_ISFIFO(m))
        return "not a regular file (a FIFO or pipe): not read";
    if (S_ISDIR(m))
        return "not a regular file (a directory)";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "not a regular file (a device): not read";
    return "not a regular file: not read";
}

/* The whole file, NUL-terminated, or NULL with *why. Only a regular file of
 * at most CONFIG_MAX_BYTES is read: the open is non-blocking (a FIFO must
 * not hang the program's start-up) and nothing is read before fstat says
 * the file is regular, so /dev/stdin or a pipe keeps the program's input. */
#define CONFIG_MAX_BYTES (1u << 20)
static char *slurp(const char *path, size_t *len_out, const char **why)
{
    int fd = real.openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &st) < 0)
        *why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        *why = not_regular(st.st_mode);
    else if (st.st_size > (off_t)CONFIG_MAX_BYTES)
        *why = "larger than 1 MiB: not read";
    else if (!(buf = malloc(CONFIG_MAX_BYTES + 1)))
        *why = "out of memory";
    while (buf) {
        ssize_t n = real.read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || len + (size_t)n > CONFIG_MAX_BYTES) {
            *why = n < 0 ? strerror(errno) : "larger than 1 MiB: not read"; /* grew meanwhile */
            free(buf);
            buf = NULL;
        } else if (n == 0) {
            break;
        } else {
            len += (size_t)n;
        }
    }
    real.close(fd);
    if (buf) {
        buf[len] = '\0';
        *len_out = len;
    }
    return buf;
}

/* File globals are applied first and then overridden by the environment,
 * so keep them apart until config_load() merges. */
void parse_file(struct config *cfg, const char *path, int max_size_from_env)
{
    struct pool_opts file_defaults, *defaults = &file_defaults;
    default_opts(defaults, cfg->default_max_size);
    size_t len = 0;
    const char *why = "cannot read";
    char *text = slurp(path, &len, &why);
    if (!text) {
        char src[MAX_URL + 16];
        fmt_buf(src, sizeof src, "%s", path);
        config_error(cfg, src, path, why);
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

