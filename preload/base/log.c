/* log.c - messages and a signal-safe formatter. */
#include "log.h"

#include "real.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int log_level = LOG_WARN;
int log_fd = 2;

static size_t put_str(char *buf, size_t size, size_t pos, const char *s)
{
    if (!s)
        s = "(null)";
    while (*s && pos + 1 < size)
        buf[pos++] = *s++;
    return pos;
}

static size_t put_uint(char *buf, size_t size, size_t pos, unsigned long long v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n && pos + 1 < size)
        buf[pos++] = tmp[--n];
    return pos;
}

static size_t put_int(char *buf, size_t size, size_t pos, long long v)
{
    if (v < 0 && pos + 1 < size) {
        buf[pos++] = '-';
        return put_uint(buf, size, pos, 0ull - (unsigned long long)v, 10);
    }
    return put_uint(buf, size, pos, (unsigned long long)v, 10);
}

static size_t put_fixed(char *buf, size_t size, size_t pos, double v, int decimals)
{
    if (v != v)
        return put_str(buf, size, pos, "0");
    if (v < 0 && pos + 1 < size) {
        buf[pos++] = '-';
        v = -v;
    }
    unsigned long long scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    unsigned long long whole = (unsigned long long)(v * (double)scale + 0.5);
    pos = put_uint(buf, size, pos, whole / scale, 10);
    if (decimals > 0) {
        if (pos + 1 < size)
            buf[pos++] = '.';
        unsigned long long frac = whole % scale;
        for (unsigned long long d = scale / 10; d; d /= 10) {
            if (pos + 1 < size)
                buf[pos++] = (char)('0' + (frac / d) % 10);
        }
    }
    return pos;
}

size_t fmt_vbuf(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t pos = 0;
    if (!size)
        return 0;
    for (const char *f = fmt; *f && pos + 1 < size; f++) {
        if (*f != '%') {
            buf[pos++] = *f;
            continue;
        }
        f++;
        int longs = 0, size_t_arg = 0, decimals = 6;
        if (*f == '.') {
            decimals = 0;
            for (f++; *f >= '0' && *f <= '9'; f++)
                decimals = decimals * 10 + (*f - '0');
        }
        for (; *f == 'l'; f++)
            longs++;
        if (*f == 'z') {
            size_t_arg = 1;
            f++;
        }
        switch (*f) {
        case 's':
            pos = put_str(buf, size, pos, va_arg(ap, const char *));
            break;
        case 'c':
            buf[pos++] = (char)va_arg(ap, int);
            break;
        case 'd':
            pos = put_int(buf, size, pos,
                          longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int));
            break;
        case 'u':
        case 'x': {
            unsigned long long v = size_t_arg ? va_arg(ap, size_t)
                                 : longs >= 2 ? va_arg(ap, unsigned long long)
                                 : longs      ? va_arg(ap, unsigned long)
                                              : va_arg(ap, unsigned);
            pos = put_uint(buf, size, pos, v, *f == 'x' ? 16 : 10);
            break;
        }
        case 'f':
            pos = put_fixed(buf, size, pos, va_arg(ap, double), decimals);
            break;
        case '%':
            buf[pos++] = '%';
            break;
        default:
            if (!*f)
                f--;
            break;
        }
    }
    buf[pos] = '\0';
    return pos;
}

size_t fmt_buf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vbuf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

size_t fmt_duration(char *buf, size_t size, double ms)
{
    if (ms < 1000.0)
        return fmt_buf(buf, size, "%.1fms", ms);
    if (ms < 60000.0)
        return fmt_buf(buf, size, "%.2fs", ms / 1000.0);
    if (ms < 3600000.0)
        return fmt_buf(buf, size, "%.1fm", ms / 60000.0);
    return fmt_buf(buf, size, "%.1fh", ms / 3600000.0);
}

void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        /* through real: our own write() interposer must not see it */
        ssize_t n = real.write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    int saved = errno;
    char line[1024];
    size_t n = fmt_buf(line, sizeof line - 1, "objpool[%d]: ", (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += fmt_vbuf(line + n, sizeof line - 1 - n, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    write_all(log_fd, line, n);
    errno = saved;
}
