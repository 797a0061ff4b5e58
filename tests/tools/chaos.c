/* chaos.c - the client half of the stress mix (issue 14, item 6).
 *
 * Usage: chaos --proto line|redis|http|memcache|opaque --port N --requests N
 *              [--seed S] [--threads T]
 *
 * Each connection: socket + connect to 127.0.0.1:PORT, then 1..3 exchanges,
 * each a request with a fresh id ("s<seed>t<thread>n<count>") written with a
 * random I/O family (write, send, sendmsg, writev, sendto, sendfile from a
 * temp file, fprintf+fflush on fdopen, dprintf) and a random action: full
 * read (read, recv, recvmsg, readv or fgets on fdopen) checked against the
 * reply chaosd owes this id, abandon (close unread), partial read, shutdown
 * (SHUT_WR) then read, fork (the child does the exchange). Never pipelined.
 * A reply (or part of one) that differs from this request's is FOREIGN.
 * Every draw comes from the seed alone, so a rerun (with or without
 * objpool) sends the same requests with the same actions.
 *
 * Prints "requests=N ok=N foreign=N err_connect=N err_write=N err_read=N
 * err_eof=N err_reset=N err_timeout=N errors=N abandoned=N partial=N
 * shutdowns=N forks=N". Exit 2 if foreign > 0, else 0.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

enum { OK, FOREIGN, E_CONNECT, E_WRITE, E_READ, E_EOF, E_RESET, E_TIMEOUT, NRES };
static const char *g_res[NRES] = { "ok", "foreign", "err_connect", "err_write", "err_read",
                                   "err_eof", "err_reset", "err_timeout" };
enum { C_ABANDON, C_PARTIAL, C_SHUTDOWN, C_FORK, NCOUNT };
static const char *g_cnt[NCOUNT] = { "abandoned", "partial", "shutdowns", "forks" };
static atomic_long g_total[NRES], g_counts[NCOUNT];
static int g_port, g_threads = 1;
static long g_requests = 1000;
static unsigned g_seed = 1;
static char g_proto[16] = "line";

struct conn {
    int fd;
    FILE *fp;           /* fdopen'ed on first stdio use; fclose ends the connection */
    int tmpfd;          /* the thread's sendfile source */
    unsigned rng;
    char buf[4096];
    size_t len;
};

/* The seeded per-thread generator: every decision comes from it. */
static unsigned rnd(struct conn *c, unsigned n)
{
    c->rng = c->rng * 1103515245u + 12345u;
    return (c->rng >> 8) % n;
}

/* Builds the request for id, and the exact reply chaosd owes it (NULL
 * expect for http: its framing is the server's choice, checked by parsing). */
static size_t build(const char *id, int set, char *req, char *exp)
{
    size_t n = strlen(id);
    int r;
    if (!strcmp(g_proto, "line")) {
        sprintf(exp, "REP %s\n", id);
        r = sprintf(req, "%s\n", id);
    } else if (!strcmp(g_proto, "opaque")) {
        sprintf(exp, "%s\n", id);
        r = sprintf(req, "%s\n", id);
    } else if (!strcmp(g_proto, "redis")) {
        if (set) {
            sprintf(exp, "+%s\r\n", id);
            r = sprintf(req, "ECHO %s\r\n", id);
        } else {
            sprintf(exp, "$%zu\r\nv-%s\r\n", n + 2, id);
            r = sprintf(req, "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", n, id);
        }
    } else if (!strcmp(g_proto, "memcache")) {
        if (set) {
            sprintf(exp, "STORED\r\n");
            r = sprintf(req, "set %s 0 0 %zu\r\nd-%s\r\n", id, n + 2, id);
        } else {
            sprintf(exp, "VALUE %s 0 %zu\r\nd-%s\r\nEND\r\n", id, n + 2, id);
            r = sprintf(req, "get %s\r\n", id);
        }
    } else {
        sprintf(exp, "HTTP/1.1 200 OK\r\nX-Id: %s\r\n", id);
        r = sprintf(req, "GET /%s HTTP/1.1\r\nHost: chaos\r\n%s\r\n", id,
                    set ? "Connection: keep-alive\r\n" : "");
    }
    return (size_t)r;
}

/* The FILE on the connection, opened on first use (stdio families). */
static FILE *fp_of(struct conn *c)
{
    if (!c->fp)
        c->fp = fdopen(c->fd, "r+");
    return c->fp;
}

/* Writes the whole request with the chosen family; -1 on error (errno set). */
static int send_req(struct conn *c, int fam, const char *req, size_t n)
{
    size_t off = 0;
    if (fam == 6) {
        FILE *f = fp_of(c);
        return f && fprintf(f, "%s", req) == (int)n && fflush(f) == 0 ? 0 : -1;
    }
    if (fam == 7)
        return dprintf(c->fd, "%s", req) == (int)n ? 0 : -1;
    if (fam == 5) {
        if (pwrite(c->tmpfd, req, n, 0) != (ssize_t)n)
            return -1;
    }
    while (off < n) {
        ssize_t w;
        struct iovec iov[2] = { { (char *)req + off, (n - off) / 2 }, { (char *)req + off + (n - off) / 2, n - off - (n - off) / 2 } };
        struct msghdr mh = { .msg_iov = iov + 1, .msg_iovlen = 1 };
        off_t fo = (off_t)off;
        iov[1] = (struct iovec){ (char *)req + off, n - off };
        switch (fam) {
        case 0: w = write(c->fd, req + off, n - off); break;
        case 1: w = send(c->fd, req + off, n - off, 0); break;
        case 2: w = sendmsg(c->fd, &mh, 0); break;
        case 3:
            iov[0] = (struct iovec){ (char *)req + off, (n - off) / 2 };
            iov[1] = (struct iovec){ (char *)req + off + (n - off) / 2, n - off - (n - off) / 2 };
            w = writev(c->fd, iov, 2);
            break;
        case 4: w = sendto(c->fd, req + off, n - off, 0, NULL, 0); break;
        default: w = sendfile(c->fd, c->tmpfd, &fo, n - off); break;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Reads up to max bytes with the chosen family into the buffer: >0 bytes,
 * 0 EOF, -1 error. */
static ssize_t get(struct conn *c, int fam, size_t max)
{
    char *p = c->buf + c->len;
    size_t room = sizeof c->buf - c->len - 1;
    if (max < room)
        room = max;
    struct iovec iov[2] = { { p, room / 2 ? room / 2 : room }, { p + (room / 2 ? room / 2 : room), room - (room / 2 ? room / 2 : room) } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1 };
    ssize_t r;
    iov[0].iov_len = room;
    switch (fam) {
    case 0: r = read(c->fd, p, room); break;
    case 1: r = recv(c->fd, p, room, 0); break;
    case 2: r = recvmsg(c->fd, &mh, 0); break;
    case 3:
        iov[0].iov_len = room / 2 ? room / 2 : room;
        iov[1].iov_len = room - iov[0].iov_len;
        r = readv(c->fd, iov, 2);
        break;
    default: {
        FILE *f = fp_of(c);
        if (!f)
            return -1;
        if (!fgets(p, (int)room + 1, f))
            return ferror(f) ? -1 : 0;
        r = (ssize_t)strlen(p);
    }
    }
    if (r > 0)
        c->len += (size_t)r;
    return r;
}

/* The error class of a failed read or write. */
static int err_class(int wr)
{
    if (errno == ECONNRESET || errno == EPIPE)
        return E_RESET;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return E_TIMEOUT;
    return wr ? E_WRITE : E_READ;
}

/* Reads until the buffer holds n bytes that agree with exp (the expected
 * prefix); FOREIGN on the first byte that differs. */
static int want(struct conn *c, int fam, const char *exp, size_t n)
{
    while (c->len < n) {
        if (memcmp(c->buf, exp, c->len) != 0)
            return FOREIGN;
        ssize_t r = get(c, fam, n - c->len);
        if (r == 0)
            return E_EOF;
        if (r < 0)
            return errno == EINTR ? OK : err_class(0);
    }
    return memcmp(c->buf, exp, n) ? FOREIGN : OK;
}

/* Reads the rest of an http response after its checked first lines: the
 * headers, then a Content-Length or chunked body that must be "<id>\n". */
static int http_rest(struct conn *c, int fam, const char *id)
{
    char *end;
    while (!(c->buf[c->len] = 0, end = strstr(c->buf, "\r\n\r\n"))) {
        ssize_t r = get(c, fam, sizeof c->buf);
        if (r <= 0)
            return r == 0 ? E_EOF : err_class(0);
    }
    size_t hl = (size_t)(end - c->buf) + 4, idn = strlen(id);
    char body[600], exp[600];
    int chunked = strstr(c->buf, "Transfer-Encoding: chunked") && strstr(c->buf, "Transfer-Encoding: chunked") < end;
    sprintf(exp, "%s\n", id);
    if (!chunked) {
        char *cl = strstr(c->buf, "Content-Length: ");
        if (!cl || cl > end)
            return FOREIGN;
        sprintf(body, "%s\n", id);
        memmove(c->buf, c->buf + hl, c->len - hl);
        c->len -= hl;
        if (strtoul(cl + 16, NULL, 10) != idn + 1)
            return FOREIGN;
        int res = want(c, fam, body, idn + 1);
        return res == OK && c->len != idn + 1 ? FOREIGN : res;
    }
    /* chaosd's chunking of "<id>\n": "<hex id len>\r\n<id>\r\n1\r\n\n\r\n0\r\n\r\n" */
    int k = sprintf(body, "%zx\r\n%s\r\n1\r\n\n\r\n0\r\n\r\n", idn, id);
    memmove(c->buf, c->buf + hl, c->len - hl);
    c->len -= hl;
    int res = want(c, fam, body, (size_t)k);
    return res == OK && c->len != (size_t)k ? FOREIGN : res;
}

/* One exchange: request, then the full reply checked. */
static int exchange(struct conn *c, int wfam, int rfam, const char *id, const char *req, size_t n,
                    const char *exp, int shut)
{
    c->len = 0;
    if (send_req(c, wfam, req, n) != 0)
        return err_class(1);
    if (shut && shutdown(c->fd, SHUT_WR) != 0)
        return E_WRITE;
    int res = want(c, rfam, exp, strlen(exp));
    if (res != OK)
        return res;
    if (!strcmp(g_proto, "http"))
        return http_rest(c, rfam, id);
    return c->len == strlen(exp) ? OK : FOREIGN;
}

/* Ends the connection the way the program opened it (fclose for a FILE). */
static void finish(struct conn *c)
{
    if (c->fp)
        fclose(c->fp);
    else
        close(c->fd);
    c->fp = NULL;
    c->fd = -1;
}

/* A thread: connections of 1..3 exchanges until the request budget is spent. */
static void *worker(void *arg)
{
    long t = (long)arg, res[NRES] = { 0 }, cnt[NCOUNT] = { 0 }, seq = 0;
    struct conn c = { .fd = -1, .rng = g_seed * 7919u + (unsigned)t * 104729u + 1 };
    char tmpl[] = "/tmp/chaos.XXXXXX", id[64], req[600], exp[600];
    c.tmpfd = mkstemp(tmpl);
    unlink(tmpl);
    long my = g_requests / g_threads + (t < g_requests % g_threads);
    while (seq < my) {
        int ex = 1 + (int)rnd(&c, 3), alive;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)g_port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { 3, 0 };
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        alive = connect(c.fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        for (int e = 0; e < ex && seq < my; e++, seq++) {
            int wfam = (int)rnd(&c, 8), rfam = (int)rnd(&c, 5), act = (int)rnd(&c, 10);
            int set = (int)rnd(&c, 4) == 0, part = 1 + (int)rnd(&c, 20), r;
            snprintf(id, sizeof id, "s%ut%ldn%ld", g_seed, t, seq);
            size_t n = build(id, set, req, exp);
            if (!alive) {
                res[E_CONNECT]++;
                continue;
            }
            if (act == 0) {         /* abandon */
                cnt[C_ABANDON]++;
                r = send_req(&c, wfam, req, n) ? err_class(1) : OK;
                alive = 0;
            } else if (act == 1) {  /* partial read, then close */
                cnt[C_PARTIAL]++;
                c.len = 0;
                if (send_req(&c, wfam, req, n))
                    r = err_class(1);
                else {
                    size_t pl = (size_t)part < strlen(exp) ? (size_t)part : strlen(exp) - 1;
                    ssize_t g = get(&c, rfam == 4 ? 0 : rfam, pl);
                    r = g < 0 ? err_class(0) : g == 0 ? E_EOF : memcmp(c.buf, exp, c.len) ? FOREIGN : OK;
                }
                alive = 0;
            } else if (act == 2) {  /* shutdown(SHUT_WR), then the reply */
                cnt[C_SHUTDOWN]++;
                r = exchange(&c, wfam, rfam, id, req, n, exp, 1);
                alive = 0;
            } else if (act == 3) {  /* the child does the exchange */
                cnt[C_FORK]++;
                if (c.fp)
                    fflush(c.fp);
                pid_t pid = fork();
                if (pid == 0)
                    _exit(exchange(&c, wfam, rfam, id, req, n, exp, 0));
                int st = 0;
                r = pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ? E_READ : WEXITSTATUS(st);
                if (r >= NRES)
                    r = E_READ;
            } else
                r = exchange(&c, wfam, rfam, id, req, n, exp, 0);
            res[r]++;
            if (r == FOREIGN)
                fprintf(stderr, "chaos: FOREIGN reply to %s: %.*s\n", id, (int)(c.len > 120 ? 120 : c.len), c.buf);
            if (r != OK)
                alive = 0;
            if (!alive)
                e = ex;  /* the rest of this connection's draws are skipped */
        }
        finish(&c);
    }
    for (int i = 0; i < NRES; i++)
        atomic_fetch_add(&g_total[i], res[i]);
    for (int i = 0; i < NCOUNT; i++)
        atomic_fetch_add(&g_counts[i], cnt[i]);
    return NULL;
}

/* Parses the options, runs the threads, prints the summary line. */
int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--proto")) snprintf(g_proto, sizeof g_proto, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--port")) g_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests")) g_requests = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) g_seed = (unsigned)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) g_threads = atoi(argv[i + 1]);
        else { fprintf(stderr, "chaos: unknown option %s\n", argv[i]); return 1; }
    }
    if (g_port <= 0 || g_threads <= 0 || g_threads > 64 || g_requests <= 0 ||
        !strstr(" line redis http memcache opaque ", g_proto)) {
        fprintf(stderr, "usage: chaos --proto line|redis|http|memcache|opaque --port N --requests N "
                        "[--seed S] [--threads T]\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_t th[64];
    for (long t = 0; t < g_threads; t++)
        pthread_create(&th[t], NULL, worker, (void *)t);
    for (int t = 0; t < g_threads; t++)
        pthread_join(th[t], NULL);
    long errors = 0, req = 0;
    for (int i = 0; i < NRES; i++) {
        req += g_total[i];
        errors += i >= E_CONNECT ? g_total[i] : 0;
    }
    printf("proto=%s requests=%ld", g_proto, req);
    for (int i = 0; i < NRES; i++)
        printf(" %s=%ld", g_res[i], (long)g_total[i]);
    printf(" errors=%ld", errors);
    for (int i = 0; i < NCOUNT; i++)
        printf(" %s=%ld", g_cnt[i], (long)g_counts[i]);
    printf("\n");
    return g_total[FOREIGN] ? 2 : 0;
}
