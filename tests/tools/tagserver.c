/* tagserver.c - line-oriented TCP / Unix-socket test server for objpool tests.
 *
 * Usage: tagserver [--host 127.0.0.1|::1] [--port N] [--unix PATH]
 *                  --port-file F [--count-file F] [--mode M]
 *                  [--random-close PCT] [--seed N] [--delay-second-ms N]
 *
 * Protocol: the client sends "REQ <tag>\n", the server answers
 * "REP <tag> <connid>\n" where connid is the sequential id (from 1) of the
 * accepted connection.  "SLEEP <ms>\n" sleeps, then answers
 * "REP SLEEP <connid>\n".  Anything else gets "ERR <connid>\n".
 *
 * Modes: echo (default, keep the connection open), close (close after each
 * reply), halfclose (shutdown(SHUT_WR) after the reply, keep reading until
 * the client closes), extra (the reply is followed by "EXTRA\n" in the same
 * write).  In close/halfclose mode the reply and the FIN leave in one TCP
 * segment (TCP_CORK), so a client that has read the reply also sees the EOF.
 *
 * --random-close PCT: for each request, with probability PCT percent, close
 * the connection instead of replying.
 *
 * --delay-second-ms N: a request that arrived in the same read as the one
 * before it (the second of a pipelined pair) is answered N ms late, so a
 * client that reads only the first reply and closes leaves the second one
 * still on its way, invisible to any byte-level check at close.
 *
 * The bound port (or "unix") is written to --port-file once listening and
 * the number of accepted connections to --count-file after every accept,
 * both atomically (temp file + rename).  SIGTERM/SIGINT exit cleanly (0).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum mode { M_ECHO, M_CLOSE, M_HALFCLOSE, M_EXTRA };

static enum mode g_mode = M_ECHO;
static int g_random_close;      /* percent */
static long g_delay_second_ms;  /* delay for a pipelined request's reply */
static unsigned g_seed = 1;
static int g_is_unix;
static volatile sig_atomic_t g_stop;

struct conn {
    int fd;
    unsigned long id;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: tagserver [--host 127.0.0.1|::1] [--port N] [--unix PATH]\n"
            "                 --port-file F [--count-file F]\n"
            "                 [--mode echo|close|halfclose|extra]\n"
            "                 [--random-close PCT] [--seed N] [--delay-second-ms N]\n");
    exit(2);
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Write text to path atomically: write a temp file, then rename it. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

static void set_cork(int fd, int on)
{
    if (!g_is_unix)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

/* Drain until the peer closes (or an error), then return. */
static void drain(int fd)
{
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        return;
    }
}

static void *conn_thread(void *arg)
{
    struct conn *c = arg;
    int fd = c->fd;
    unsigned long id = c->id;
    free(c);

    unsigned rstate = g_seed ^ (unsigned)(id * 2654435761u);
    char buf[8192];
    size_t have = 0;
    int open_ = 1;

    while (open_) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (r == 0)
            break;
        have += (size_t)r;

        char *nl;
        int nth = 0; /* requests answered from this read */
        while (open_ && (nl = memchr(buf, '\n', have)) != NULL) {
            size_t linelen = (size_t)(nl - buf);
            char line[8192];
            memcpy(line, buf, linelen);
            line[linelen] = '\0';
            if (linelen > 0 && line[linelen - 1] == '\r')
                line[linelen - 1] = '\0';
            memmove(buf, nl + 1, have - linelen - 1);
            have -= linelen + 1;

            if (g_random_close > 0 &&
                (int)(rand_r(&rstate) % 100) < g_random_close) {
                open_ = 0;
                break;
            }

            if (nth++ > 0 && g_delay_second_ms > 0)
                sleep_ms(g_delay_second_ms);

            char reply[8300];
            int n;
            if (strncmp(line, "REQ ", 4) == 0) {
                n = snprintf(reply, sizeof reply, "REP %s %lu\n", line + 4, id);
            } else if (strncmp(line, "SLEEP ", 6) == 0) {
                sleep_ms(strtol(line + 6, NULL, 10));
                n = snprintf(reply, sizeof reply, "REP SLEEP %lu\n", id);
            } else {
                n = snprintf(reply, sizeof reply, "ERR %lu\n", id);
            }
            if (n < 0 || (size_t)n >= sizeof reply - 8)
                n = (int)strlen(reply);
            if (g_mode == M_EXTRA) {
                memcpy(reply + n, "EXTRA\n", 6);
                n += 6;
            }

            if (g_mode == M_CLOSE || g_mode == M_HALFCLOSE) {
                /* Reply and FIN in one segment. */
                set_cork(fd, 1);
                if (send_all(fd, reply, (size_t)n) != 0) {
                    open_ = 0;
                    break;
                }
                shutdown(fd, SHUT_WR);
                set_cork(fd, 0);
                if (g_mode == M_HALFCLOSE)
                    drain(fd);
                open_ = 0;
                break;
            }
            if (send_all(fd, reply, (size_t)n) != 0) {
                open_ = 0;
                break;
            }
        }
        if (have >= sizeof buf - 1) /* line too long: give up */
            break;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    const char *port = "0";
    const char *unix_path = NULL;
    const char *port_file = NULL;
    const char *count_file = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage();
        const char *v = (i + 1 < argc) ? argv[++i] : NULL;
        if (!v)
            usage();
        if (strcmp(a, "--host") == 0)
            host = v;
        else if (strcmp(a, "--port") == 0)
            port = v;
        else if (strcmp(a, "--unix") == 0)
            unix_path = v;
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--count-file") == 0)
            count_file = v;
        else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "echo") == 0)
                g_mode = M_ECHO;
            else if (strcmp(v, "close") == 0)
                g_mode = M_CLOSE;
            else if (strcmp(v, "halfclose") == 0)
                g_mode = M_HALFCLOSE;
            else if (strcmp(v, "extra") == 0)
                g_mode = M_EXTRA;
            else {
                fprintf(stderr, "tagserver: unknown mode %s\n", v);
                usage();
            }
        } else if (strcmp(a, "--random-close") == 0)
            g_random_close = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            g_seed = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--delay-second-ms") == 0)
            g_delay_second_ms = strtol(v, NULL, 10);
        else {
            fprintf(stderr, "tagserver: unknown option %s\n", a);
            usage();
        }
    }
    if (!port_file)
        usage();

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd;
    char portbuf[64];
    if (unix_path) {
        g_is_unix = 1;
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(unix_path) >= sizeof sun.sun_path) {
            fprintf(stderr, "tagserver: unix path too long\n");
            return 1;
        }
        strcpy(sun.sun_path, unix_path);
        unlink(unix_path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            perror("tagserver: bind unix");
            return 1;
        }
        snprintf(portbuf, sizeof portbuf, "unix\n");
    } else {
        struct addrinfo hints, *res;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        int rc = getaddrinfo(host, port, &hints, &res);
        if (rc != 0) {
            fprintf(stderr, "tagserver: %s: %s\n", host, gai_strerror(rc));
            return 1;
        }
        lfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0) {
            perror("tagserver: socket");
            return 1;
        }
        int one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (res->ai_family == AF_INET6)
            setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(lfd, res->ai_addr, res->ai_addrlen) != 0) {
            perror("tagserver: bind");
            return 1;
        }
        freeaddrinfo(res);
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(lfd, (struct sockaddr *)&ss, &sl);
        unsigned p = ss.ss_family == AF_INET6
                         ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
        snprintf(portbuf, sizeof portbuf, "%u\n", p);
    }
    if (listen(lfd, 1024) != 0) {
        perror("tagserver: listen");
        return 1;
    }
    if (count_file && write_atomic(count_file, "0\n") != 0) {
        perror("tagserver: count file");
        return 1;
    }
    if (write_atomic(port_file, portbuf) != 0) {
        perror("tagserver: port file");
        return 1;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);

    unsigned long nconn = 0;
    while (!g_stop) {
        struct pollfd pfd = { lfd, POLLIN, 0 };
        int pr = poll(&pfd, 1, 200);
        if (pr <= 0)
            continue;
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                sleep_ms(10);
                continue;
            }
            perror("tagserver: accept");
            continue;
        }
        nconn++;
        if (count_file) {
            char cb[32];
            snprintf(cb, sizeof cb, "%lu\n", nconn);
            if (write_atomic(count_file, cb) != 0)
                perror("tagserver: count file");
        }
        struct conn *c = malloc(sizeof *c);
        pthread_t th;
        if (!c) {
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->id = nconn;
        if (pthread_create(&th, &attr, conn_thread, c) != 0) {
            perror("tagserver: pthread_create");
            close(cfd);
            free(c);
        }
    }
    close(lfd);
    if (unix_path)
        unlink(unix_path);
    return 0;
}
