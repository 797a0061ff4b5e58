/* log.h - objpool's messages: `objpool[pid]: <what>: <why>`, written with
 * write(2) from a stack buffer. No stdio and no malloc: messages may come
 * from inside interposed calls, even from a signal handler. */
#ifndef OBJPOOL_LOG_H
#define OBJPOOL_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_level; /* messages above it are dropped */
extern int log_fd;    /* stderr unless OBJPOOL_LOG_FILE */

/* A tiny formatter: %s %d %u %ld %lu %lld %llu %zu %x %c %% and %.Nf for
 * doubles. Always NUL-terminates; returns the length written. */
size_t fmt_buf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t fmt_vbuf(char *buf, size_t size, const char *fmt, va_list ap);
/* A duration in the unit that keeps it short: 12.3ms, 4.56s, 7.8m, 2.5h
 * (the exit report and the command's tables print it alike). */
size_t fmt_duration(char *buf, size_t size, double ms);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write all of buf to fd, retrying short writes and EINTR. */
void write_all(int fd, const char *buf, size_t len);

#define log_debug(...) \
    do { if (log_level >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#endif
