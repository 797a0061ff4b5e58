/* reqloop.c - request/reply loop on loopback for objpool's benchmark.
 *
 * Usage: reqloop --port N --requests N [--mode new|persistent]
 *                [--idle K] [--warmup N]
 *
 *   new         every request: socket, connect, write 32 bytes, read the
 *               32-byte reply, close (the client closes first)
 *   persistent  one connection for every request (the limit)
 *   --idle K    before measuring, open K connections at once, do one
 *               exchange on each and close them all (with objpool and
 *               max_size >= K they are parked: K idle objects)
 *
 * Runs --warmup requests (default 200) unmeasured, then prints
 * "requests=N us_per_req=X.XXX" (wall clock, CLOCK_MONOTONIC).
 * Exits 1 on any error or a reply that is not the request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in g_sa;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int open_conn(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("reqloop: socket");
    if (connect(fd, (struct sockaddr *)&g_sa, sizeof g_sa))
        die("reqloop: connect");
    return fd;
}

static void exchange(int fd, long i)
{
    char req[33], rep[32];
    snprintf(req, sizeof req, "REQ %027ld\n", i);
    if (write(fd, req, 32) != 32)
        die("reqloop: write");
    size_t got = 0;
    while (got < 32) {
        ssize_t r = read(fd, rep + got, 32 - got);
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            die("reqloop: read");
        }
        got += (size_t)r;
    }
    if (memcmp(req, rep, 32)) {
        fprintf(stderr, "reqloop: reply mismatch at request %ld\n", i);
        exit(1);
    }
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    long requests = 1000, warmup = 200, idle = 0;
    int port = 0, persistent = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--requests"))
            requests = atol(v);
        else if (!strcmp(a, "--warmup"))
            warmup = atol(v);
        else if (!strcmp(a, "--idle"))
            idle = atol(v);
        else if (!strcmp(a, "--mode") && (!strcmp(v, "new") || !strcmp(v, "persistent")))
            persistent = !strcmp(v, "persistent");
        else
            goto usage;
        i++;
    }
    if (port <= 0 || requests <= 0)
        goto usage;
    g_sa.sin_family = AF_INET;
    g_sa.sin_port = htons((unsigned short)port);
    g_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (idle > 0) {
        int *fds = malloc(sizeof *fds * (size_t)idle);
        for (long i = 0; i < idle; i++)
            fds[i] = open_conn();
        for (long i = 0; i < idle; i++)
            exchange(fds[i], i);
        for (long i = 0; i < idle; i++)
            close(fds[i]);
        free(fds);
    }
    int pfd = persistent ? open_conn() : -1;
    double t0 = 0;
    for (long i = 0; i < warmup + requests; i++) {
        if (i == warmup)
            t0 = now_us();
        if (persistent) {
            exchange(pfd, i);
        } else {
            int fd = open_conn();
            exchange(fd, i);
            close(fd);
        }
    }
    double us = (now_us() - t0) / (double)requests;
    if (pfd >= 0)
        close(pfd);
    printf("requests=%ld us_per_req=%.3f\n", requests, us);
    return 0;
usage:
    fprintf(stderr, "usage: reqloop --port N --requests N [--mode new|persistent] [--idle K] [--warmup N]\n");
    return 2;
}
