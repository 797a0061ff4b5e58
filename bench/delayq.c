/* delayq.c - hold every packet of a netfilter queue for a fixed delay.
 *
 * bench/mysql.sh adds 1 ms to the path between two network namespaces with
 * `tc qdisc add ... netem delay 1ms`; kernels built without sch_netem
 * (CONFIG_NET_SCH_NETEM unset, as on some VMs) refuse that qdisc. This is the
 * fallback: an iptables rule sends the server namespace's outgoing packets
 * to NFQUEUE, and delayq, run in that namespace, accepts each one DELAY
 * microseconds after it was queued, in order, as netem's delay does. Only
 * the packet metadata is copied to user space.
 *
 *   delayq --queue N --delay-us US [--ready-file PATH]
 *
 * Speaks nfnetlink_queue over a raw netlink socket (no libnetfilter_queue).
 * Ends on SIGTERM or SIGINT; packets still held are then dropped by the
 * kernel, which is fine at teardown. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX 65536 /* a ring of held packet ids; the queue holds fewer */

static volatile sig_atomic_t stop;
static int nl;
static uint16_t queue;
static struct {
    uint32_t id;
    int64_t due;
} held[HELD_MAX];
static unsigned head, tail;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Append one attribute; the kernel wants each aligned to 4 bytes. */
static void put_attr(struct nlmsghdr *nh, uint16_t type, const void *data, size_t len) {
    struct nlattr *a = (struct nlattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    memcpy((char *)a + NLA_HDRLEN, data, len);
    nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* A queue message header: netlink, then nfgenmsg naming the queue. */
static struct nlmsghdr *start_msg(char *buf, uint8_t type, uint16_t flags) {
    memset(buf, 0, 256);
    struct nlmsghdr *nh = (struct nlmsghdr *)buf;
    nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg));
    nh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
    nh->nlmsg_flags = NLM_F_REQUEST | flags;
    struct nfgenmsg *g = NLMSG_DATA(nh);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(queue);
    return nh;
}

/* Send a request that asks for an ack; 0 when the kernel acked it. */
static int request(struct nlmsghdr *nh) {
    char buf[4096];
    if (send(nl, nh, nh->nlmsg_len, 0) < 0) return -1;
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < (ssize_t)NLMSG_HDRLEN) return -1;
    struct nlmsghdr *r = (struct nlmsghdr *)buf;
    if (r->nlmsg_type != NLMSG_ERROR) return -1;
    const struct nlmsgerr *e = NLMSG_DATA(r);
    if (e->error) errno = -e->error;
    return e->error ? -1 : 0;
}

/* Bind the queue and ask for metadata only (the packet id is all we need). */
static int bind_queue(void) {
    char buf[256];
    struct nlmsghdr *nh = start_msg(buf, NFQNL_MSG_CONFIG, NLM_F_ACK);
    struct nfqnl_msg_config_cmd cmd = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
    put_attr(nh, NFQA_CFG_CMD, &cmd, sizeof cmd);
    if (request(nh) < 0) return -1;
    nh = start_msg(buf, NFQNL_MSG_CONFIG, NLM_F_ACK);
    struct nfqnl_msg_config_params params = {.copy_range = htonl(0), .copy_mode = NFQNL_COPY_META};
    put_attr(nh, NFQA_CFG_PARAMS, &params, sizeof params);
    uint32_t maxlen = htonl(HELD_MAX / 2);
    put_attr(nh, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
    return request(nh);
}

/* Accept one held packet: it goes on its way through the stack. */
static void accept_packet(uint32_t id) {
    char buf[256];
    struct nlmsghdr *nh = start_msg(buf, NFQNL_MSG_VERDICT, 0);
    struct nfqnl_msg_verdict_hdr v = {.verdict = htonl(NF_ACCEPT), .id = htonl(id)};
    put_attr(nh, NFQA_VERDICT_HDR, &v, sizeof v);
    while (send(nl, nh, nh->nlmsg_len, 0) < 0 && errno == EINTR) {
    }
}

/* One queued packet: remember its id and when it is due. */
static void hold(const struct nlmsghdr *nh, int64_t due) {
    const char *p = (const char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    const char *end = (const char *)nh + nh->nlmsg_len;
    while (p + NLA_HDRLEN <= end) {
        const struct nlattr *a = (const struct nlattr *)p;
        if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) return;
        if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR &&
            a->nla_len >= NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr)) {
            const struct nfqnl_msg_packet_hdr *ph = (const void *)(p + NLA_HDRLEN);
            uint32_t id = ntohl(ph->packet_id);
            if (tail - head == HELD_MAX) { /* full: let it through now */
                accept_packet(id);
                return;
            }
            held[tail % HELD_MAX].id = id;
            held[tail % HELD_MAX].due = due;
            tail++;
            return;
        }
        p += NLA_ALIGN(a->nla_len);
    }
}

/* Read every queued packet the socket has now, without blocking. */
static void drain(void) {
    static char buf[65536];
    for (;;) {
        ssize_t n = recv(nl, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return;
        int64_t due = now_ns();
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
            if (nh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) hold(nh, due);
        }
    }
}

static int usage(void) {
    fprintf(stderr, "usage: delayq --queue N --delay-us US [--ready-file PATH]\n");
    return 2;
}

int main(int argc, char **argv) {
    long delay_us = -1, q = -1;
    const char *ready = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--queue")) q = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--delay-us")) delay_us = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--ready-file")) ready = argv[i + 1];
        else return usage();
    }
    if (q < 0 || q > 65535 || delay_us < 0 || argc % 2 == 0) return usage();
    queue = (uint16_t)q;
    int64_t delay = (int64_t)delay_us * 1000;
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake within a microsecond, not 50 */
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (nl < 0 || bind(nl, (struct sockaddr *)&sa, sizeof sa) < 0 || bind_queue() < 0) {
        fprintf(stderr, "delayq: binding queue %ld: %s\n", q, strerror(errno));
        return 1;
    }
    if (ready) {
        int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    }
    while (!stop) {
        int64_t now = now_ns();
        while (head != tail && held[head % HELD_MAX].due + delay <= now) {
            accept_packet(held[head % HELD_MAX].id);
            head++;
        }
        struct timespec ts = {1, 0}, *tp = &ts;
        if (head != tail) {
            int64_t wait = held[head % HELD_MAX].due + delay - now;
            ts.tv_sec = wait / 1000000000;
            ts.tv_nsec = wait % 1000000000;
        }
        struct pollfd pfd = {.fd = nl, .events = POLLIN};
        if (ppoll(&pfd, 1, tp, NULL) > 0) drain();
    }
    return 0;
}
