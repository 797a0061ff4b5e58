/* uring_epoll.c - what libuv >= 1.50 does with epoll - every registration
 * and every removal batched through io_uring (IORING_OP_EPOLL_CTL), where
 * no epoll_ctl interposer sees it - against a pooled redis connection.
 *
 *   uring_epoll PORT
 *
 * Connection A: connect, registered in the program's epoll set through the
 * ring, PING answered and seen ready in the set; then close() - the
 * removal queued in the ring reaches the kernel only after the close, as
 * libuv's may, and fails (the number names nothing). With objpool A is
 * parked now. Connection B (opened first, kept open) asks the server to
 * kill A; a parked A that is still in the set then delivers its hang-up to
 * the program, under A's old number. Prints
 *   registered=R pong=P removed_after_close=E killed=K parked_events=N
 * killed=1: A was still open (parked); parked_events must be 0. Exit 77 when io_uring is not available (no
 * liburing at build time, or a kernel that refuses it).
 */
#include <stdio.h>

#ifndef HAVE_LIBURING
int main(void)
{
    printf("skip: built without liburing (liburing-dev)\n");
    return 77;
}
#else
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static struct io_uring ring;

/* One epoll_ctl through the ring; its result (-errno on failure). */
static int ring_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    struct io_uring_cqe *cqe;
    io_uring_prep_epoll_ctl(sqe, ep, fd, op, ev);
    if (io_uring_submit_and_wait(&ring, 1) < 1 || io_uring_wait_cqe(&ring, &cqe) < 0)
        return -EIO;
    int res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    return res;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("uring_epoll: connect");
        exit(1);
    }
    return fd;
}

/* Send a command, read its one-line reply into buf. */
static void ask(int fd, const char *cmd, char *buf, size_t n)
{
    if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
        perror("uring_epoll: write");
        exit(1);
    }
    ssize_t got = read(fd, buf, n - 1);
    buf[got > 0 ? got : 0] = '\0';
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int port = atoi(argv[1]);
    int rc = io_uring_queue_init(8, &ring, 0);
    if (rc < 0) {
        printf("skip: io_uring_queue_init: %s\n", strerror(-rc));
        return 77;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int b = dial(port);
    int a = dial(port);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = a}, out[4];
    int reg = ring_epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
    if (reg == -EINVAL || reg == -EOPNOTSUPP) {
        printf("skip: IORING_OP_EPOLL_CTL: %s\n", strerror(-reg));
        return 77;
    }
    char buf[256], addr[64];
    /* A's address as the server sees it, for CLIENT KILL */
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(a, (struct sockaddr *)&me, &ml);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(me.sin_port));
    if (write(a, "PING\r\n", 6) != 6)
        return 1;
    int ready = epoll_wait(ep, out, 4, 2000);
    int pong = ready == 1 && out[0].data.fd == a && read(a, buf, sizeof buf) == 7 && !memcmp(buf, "+PONG\r\n", 7);
    close(a); /* objpool parks A here */
    int late = ring_epoll_ctl(ep, EPOLL_CTL_DEL, a, &ev); /* libuv's queued removal, after the close */
    char kill[128];
    snprintf(kill, sizeof kill, "CLIENT KILL ADDR %s\r\n", addr);
    ask(b, kill, buf, sizeof buf);
    if (buf[0] != ':') {
        fprintf(stderr, "uring_epoll: CLIENT KILL ADDR %s: %s", addr, buf);
        return 1;
    }
    int killed = atoi(buf + 1); /* 1: A was alive (parked); 0: really closed */
    int n = epoll_wait(ep, out, 4, 500);
    printf("registered=%d pong=%d removed_after_close=%d killed=%d parked_events=%d\n", reg == 0, pong, late, killed,
           n < 0 ? -1 : n);
    for (int i = 0; i < n; i++)
        printf("event data=%d events=%#x (the old number of A: %d)\n", out[i].data.fd, out[i].events, a);
    close(b);
    close(ep);
    io_uring_queue_exit(&ring);
    return 0;
}
#endif
