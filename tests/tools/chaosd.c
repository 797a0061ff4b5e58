/* chaosd.c - single-threaded poll() chaos server for the stress mix (issue 14, item 6).
 *
 * Usage: chaosd --port-file F [--seed N] [--delay PCT] [--split PCT]
 *               [--close-after PCT] [--close-before PCT] [--reset PCT] [--delay-ms N]
 *
 * One listening port per protocol; the port file gets "proto port" lines:
 *   line      "<id>\n"                     -> "REP <id>\n"
 *   redis     RESP "*2 GET <id>"           -> "$N\r\nv-<id>\r\n";
 *             inline "ECHO <id>\r\n"       -> "+<id>\r\n"
 *   http      "GET /<id> HTTP/1.1" + hdrs  -> 200, "X-Id: <id>" first header,
 *             body "<id>\n" with Content-Length or chunked (chosen per request)
 *   memcache  "get <id>\r\n"               -> "VALUE <id> 0 N\r\nd-<id>\r\nEND\r\n";
 *             "set <id> 0 0 N\r\n<data>\r\n" -> "STORED\r\n"
 *   opaque    "<id>\n"                     -> "<id>\n" (echo; "PING\n" is the probe)
 * Chaos is chosen from a hash of the request id and the seed, so a client
 * repeating the same ids (same client seed) meets the same chaos with and
 * without objpool: close-before (no reply), reset (SO_LINGER 0 + close),
 * close-after (reply, then close), delay (1..delay-ms ms), split (the reply
 * in 1..4-byte writes 1 ms apart). Probes ("PING") draw from a running rng.
 * Every connection has its own buffers and nothing blocks: one slow client
 * never holds up the others. SIGTERM exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum { P_LINE, P_REDIS, P_HTTP, P_MEMCACHE, P_OPAQUE, NPROTO };
static const char *g_names[NPROTO] = { "line", "redis", "http", "memcache", "opaque" };
#define MAXC 2048
#define BUFSZ 8192

struct conn {
    int fd, proto, closing;  /* closing: 1 close after flush, 2 reset after flush */
    int split, peer_eof;
    size_t inlen, outlen, outoff;
    long long due;           /* ms: no write before this */
    char in[BUFSZ], out[BUFSZ];
};

static struct conn *g_c[MAXC];
static int g_lfd[NPROTO];
static unsigned g_seed = 1, g_rng = 12345;
static int g_delay, g_split, g_close_after, g_close_before, g_reset, g_delay_ms = 3;
static volatile sig_atomic_t g_stop;

/* SIGTERM/SIGINT end the loop so the server exits cleanly. */
static void on_signal(int s) { (void)s; g_stop = 1; }

/* Milliseconds on the monotonic clock, for delays and split pauses. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a of the id mixed with the seed: chaos a rerun with the same ids repeats. */
static unsigned hash_id(const char *id, size_t n)
{
    unsigned h = 2166136261u ^ (g_seed * 2654435761u);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)id[i]) * 16777619u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    return h ^ (h >> 15);
}

/* Closes a connection, with an RST when reset is asked for. */
static void drop(int i, int reset)
{
    struct conn *c = g_c[i];
    if (reset) {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    free(c);
    g_c[i] = NULL;
}

/* Queues a reply and draws its chaos; returns -1 when the connection was dropped. */
static int reply(int i, const char *id, size_t idn, const char *text, size_t n)
{
    struct conn *c = g_c[i];
    unsigned h = (idn == 4 && memcmp(id, "PING", 4) == 0) ? (g_rng = g_rng * 1103515245u + 12345u) >> 1
                                                         : hash_id(id, idn);
    unsigned fate = h % 100, r2 = (h >> 8) % 100, r3 = (h >> 16) % 100;
    if (fate < (unsigned)g_close_before) {
        drop(i, 0);
        return -1;
    }
    if (fate < (unsigned)(g_close_before + g_reset)) {
        drop(i, 1);
        return -1;
    }
    if (fate < (unsigned)(g_close_before + g_reset + g_close_after))
        c->closing = 1;
    if (n > sizeof c->out - c->outlen) {
        drop(i, 0);
        return -1;
    }
    memcpy(c->out + c->outlen, text, n);
    c->outlen += n;
    c->due = r2 < (unsigned)g_delay ? now_ms() + 1 + (long long)((h >> 24) % (unsigned)g_delay_ms) : 0;
    c->split = r3 < (unsigned)g_split;
    return 0;
}

/* Finds the end of a line (its '\n') in the input, or NULL. */
static char *eol(struct conn *c, size_t from)
{
    return from < c->inlen ? memchr(c->in + from, '\n', c->inlen - from) : NULL;
}

/* Parses one complete request at the head of the input: its length, 0 if
 * incomplete, -1 if malformed. Fills the reply in out/on. */
static long parse(struct conn *c, char *id, size_t *idn, char *out, size_t *on)
{
    char *e = eol(c, 0), *p = c->in;
    if (!e)
        return c->inlen >= BUFSZ ? -1 : 0;
    size_t ll = (size_t)(e - p) + 1, n = ll - 1;
    if (n && p[n - 1] == '\r')
        n--;
    switch (c->proto) {
    case P_LINE:
    case P_OPAQUE:
        if (n == 0 || n > 200)
            return -1;
        memcpy(id, p, n);
        *idn = n;
        *on = (size_t)(c->proto == P_LINE ? sprintf(out, "REP %.*s\n", (int)n, p)
                                         : sprintf(out, "%.*s\n", (int)n, p));
        return (long)ll;
    case P_REDIS:
        if (p[0] != '*') {
            if (n < 6 || n > 200 || memcmp(p, "ECHO ", 5) != 0)
                return -1;
            *idn = n - 5;
            memcpy(id, p + 5, *idn);
            *on = (size_t)sprintf(out, "+%.*s\r\n", (int)*idn, id);
            return (long)ll;
        } else {
            /* *2\r\n$3\r\nGET\r\n$N\r\n<id>\r\n */
            char *e2 = eol(c, ll), *e3, *e4, *e5;
            if (!e2 || !(e3 = eol(c, (size_t)(e2 - p) + 1)) || !(e4 = eol(c, (size_t)(e3 - p) + 1)) ||
                !(e5 = eol(c, (size_t)(e4 - p) + 1)))
                return c->inlen >= BUFSZ ? -1 : 0;
            if (strncmp(p, "*2\r\n$3\r\nGET\r\n$", 14) != 0)
                return -1;
            char *k = e4 + 1;
            *idn = (size_t)(e5 - k) - 1;
            if (*idn == 0 || *idn > 200)
                return -1;
            memcpy(id, k, *idn);
            *on = (size_t)sprintf(out, "$%zu\r\nv-%.*s\r\n", *idn + 2, (int)*idn, id);
            return (long)(e5 - p) + 1;
        }
    case P_MEMCACHE: {
        unsigned bytes;
        char key[256];
        if (n > 4 && memcmp(p, "get ", 4) == 0 && n - 4 <= 200) {
            *idn = n - 4;
            memcpy(id, p + 4, *idn);
            *on = (size_t)sprintf(out, "VALUE %.*s 0 %zu\r\nd-%.*s\r\nEND\r\n", (int)*idn, id, *idn + 2,
                                  (int)*idn, id);
            return (long)ll;
        }
        if (sscanf(p, "set %200s 0 0 %u", key, &bytes) == 2 && bytes < 1000) {
            if (c->inlen < ll + bytes + 2)
                return 0;
            *idn = strlen(key);
            memcpy(id, key, *idn);
            *on = (size_t)sprintf(out, "STORED\r\n");
            return (long)(ll + bytes + 2);
        }
        return -1;
    }
    case P_HTTP: {
        if (c->inlen < 4)
            return 0;
        char *end = memmem(p, c->inlen, "\r\n\r\n", 4);
        if (!end)
            return c->inlen >= BUFSZ ? -1 : 0;
        char *sp;
        if (strncmp(p, "GET /", 5) != 0 || !(sp = memchr(p + 5, ' ', n - 5)))
            return -1;
        *idn = (size_t)(sp - (p + 5));
        if (*idn == 0 || *idn > 200)
            return -1;
        memcpy(id, p + 5, *idn);
        if (hash_id(id, *idn) & (1u << 30))
            *on = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nX-Id: %.*s\r\nContent-Length: %zu\r\n\r\n%.*s\n",
                                  (int)*idn, id, *idn + 1, (int)*idn, id);
        else
            *on = (size_t)sprintf(out,
                                  "HTTP/1.1 200 OK\r\nX-Id: %.*s\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "%x\r\n%.*s\r\n1\r\n\n\r\n0\r\n\r\n",
                                  (int)*idn, id, (unsigned)*idn, (int)*idn, id);
        return (long)(end - p) + 4;
    }
    }
    return -1;
}

/* Serves what the input holds (one request at a time, in order). */
static void serve(int i)
{
    struct conn *c = g_c[i];
    while (c->outlen == 0 && !c->closing) {
        char id[256], out[1024];
        size_t idn = 0, on = 0;
        long used = parse(c, id, &idn, out, &on);
        if (used < 0) {
            drop(i, 0);
            return;
        }
        if (used == 0)
            break;
        memmove(c->in, c->in + used, c->inlen - (size_t)used);
        c->inlen -= (size_t)used;
        if (reply(i, id, idn, out, on) < 0)
            return;
    }
    if (c->peer_eof && c->outlen == 0)
        drop(i, 0);
}

/* Writes what may go now: all of it, or one split piece. */
static void flush_out(int i, long long now)
{
    struct conn *c = g_c[i];
    if (c->due > now)
        return;
    size_t n = c->outlen - c->outoff;
    if (c->split && n > 1)
        n = 1 + (size_t)((g_rng = g_rng * 1103515245u + 12345u) >> 16) % (n < 4 ? n : 4);
    ssize_t w = send(c->fd, c->out + c->outoff, n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            drop(i, 0);
        return;
    }
    c->outoff += (size_t)w;
    if (c->split)
        c->due = now + 1;
    if (c->outoff == c->outlen) {
        c->outoff = c->outlen = 0;
        c->due = 0;
        if (c->closing) {
            drop(i, c->closing == 2);
            return;
        }
        serve(i);
    }
}

/* Parses an integer option value or exits with usage. */
static int num(const char *v)
{
    char *e;
    long x = v ? strtol(v, &e, 10) : -1;
    if (!v || *e || x < 0 || x > 1000000) {
        fprintf(stderr, "chaosd: bad number '%s'\n", v ? v : "");
        exit(2);
    }
    return (int)x;
}

/* Opens the listeners, writes the port file, then runs the poll loop. */
int main(int argc, char **argv)
{
    const char *port_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--port-file")) port_file = v;
        else if (!strcmp(a, "--seed")) g_seed = (unsigned)num(v);
        else if (!strcmp(a, "--delay")) g_delay = num(v);
        else if (!strcmp(a, "--split")) g_split = num(v);
        else if (!strcmp(a, "--close-after")) g_close_after = num(v);
        else if (!strcmp(a, "--close-before")) g_close_before = num(v);
        else if (!strcmp(a, "--reset")) g_reset = num(v);
        else if (!strcmp(a, "--delay-ms")) g_delay_ms = num(v) ? num(v) : 1;
        else { fprintf(stderr, "chaosd: unknown option %s\n", a); return 2; }
    }
    if (!port_file) {
        fprintf(stderr, "usage: chaosd --port-file F [--seed N] [--delay PCT] [--split PCT]\n"
                        "              [--close-after PCT] [--close-before PCT] [--reset PCT] [--delay-ms N]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char ports[512] = "", tmp[4096];
    for (int p = 0; p < NPROTO; p++) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof sa;
        int one = 1;
        g_lfd[p] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(g_lfd[p], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (g_lfd[p] < 0 || bind(g_lfd[p], (struct sockaddr *)&sa, sizeof sa) || listen(g_lfd[p], 1024) ||
            getsockname(g_lfd[p], (struct sockaddr *)&sa, &sl)) {
            perror("chaosd: listen");
            return 1;
        }
        snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s %u\n", g_names[p],
                 ntohs(sa.sin_port));
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(ports, f) < 0 || fclose(f) || rename(tmp, port_file)) {
        perror("chaosd: port file");
        return 1;
    }
    static struct pollfd pf[NPROTO + MAXC];
    static int map[NPROTO + MAXC];
    while (!g_stop) {
        long long now = now_ms(), next = now + 200;
        int n = 0;
        for (int p = 0; p < NPROTO; p++)
            pf[n++] = (struct pollfd){ g_lfd[p], POLLIN, 0 };
        for (int i = 0; i < MAXC; i++) {
            struct conn *c = g_c[i];
            if (!c)
                continue;
            short ev = c->outlen ? 0 : POLLIN;
            if (c->outlen && c->due <= now)
                ev |= POLLOUT;
            if (c->outlen && c->due > now && c->due < next)
                next = c->due;
            map[n] = i;
            pf[n++] = (struct pollfd){ c->fd, ev, 0 };
        }
        if (poll(pf, (nfds_t)n, (int)(next - now)) < 0 && errno != EINTR)
            return 1;
        now = now_ms();
        for (int p = 0; p < NPROTO; p++) {
            int fd;
            while (pf[p].revents & POLLIN && (fd = accept4(g_lfd[p], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                int i = 0;
                while (i < MAXC && g_c[i])
                    i++;
                struct conn *c = i < MAXC ? calloc(1, sizeof *c) : NULL;
                if (!c) {
                    close(fd);
                    break;
                }
                c->fd = fd;
                c->proto = p;
                g_c[i] = c;
            }
        }
        for (int k = NPROTO; k < n; k++) {
            int i = map[k];
            struct conn *c = g_c[i];
            if (!c || c->fd != pf[k].fd || !pf[k].revents)
                continue;
            if (pf[k].revents & POLLOUT) {
                flush_out(i, now);
                continue;
            }
            ssize_t r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                if (r < 0) {
                    drop(i, 0);
                    continue;
                }
                c->peer_eof = 1;
            } else
                c->inlen += (size_t)r;
            serve(i);
        }
        for (int i = 0; i < MAXC; i++)
            if (g_c[i] && g_c[i]->outlen && g_c[i]->due <= now)
                flush_out(i, now);
    }
    return 0;
}
