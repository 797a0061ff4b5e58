/* tool.h - the helpers the C test tools share: failing loudly (die, failf),
 * the loopback address and a connect that rides out EINTR, whole writes,
 * fds a child inherits, and the clock (now_s, sleep_ms).
 *
 * Each tool is one program built from one file (the Makefile's tool rule
 * depends on this header), so the helpers are static inline: a tool that
 * does not use one carries nothing of it. None of them runs in a signal
 * handler: die() and failf() use stdio.
 */
#ifndef OBJPOOL_TEST_TOOL_H
#define OBJPOOL_TEST_TOOL_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Set by failf(): the tool goes on with its case, then exits with it. */
static int g_fail __attribute__((unused));

/* A setup step that cannot fail in a sane test: no point going on. */
static inline void die(const char *what)
{
    fprintf(stderr, "FAIL [%d] %s: %s\n", (int)getpid(), what, strerror(errno));
    exit(1);
}

/* A broken rule: said on stderr (the test greps "FAIL"), and counted in
 * g_fail, so that one run shows every case that broke, not the first. */
static inline void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void failf(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "FAIL [%d] %s\n", (int)getpid(), msg);
    g_fail = 1;
}

/* 127.0.0.1:port, the only address the pooled test servers listen on. */
static inline struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* connect(), again after a signal: the tools run signal-heavy cases, and a
 * connect interrupted by one is not the failure under test. */
static inline int connect_retry(int fd, const void *addr, socklen_t len)
{
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *)addr, len);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* A blocking connect to 127.0.0.1:port, as a legacy client makes it;
 * flags go to socket() (SOCK_CLOEXEC). Dies when it cannot. */
static inline int tcp_connect_to(int port, int flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (fd < 0)
        die("socket");
    struct sockaddr_in a = loopback(port);
    if (connect_retry(fd, &a, sizeof a) < 0)
        die("connect");
    return fd;
}

/* A short write would look like an abandoned request to objpool. */
static inline int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Clear FD_CLOEXEC: the child of the case must inherit the fd. */
static inline void inheritable(int fd)
{
    if (fcntl(fd, F_SETFD, 0) < 0)
        die("F_SETFD");
}

/* Seconds on the monotonic clock, for timing loops and deadlines. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds, the whole of them even across signals. */
static inline void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

#endif
