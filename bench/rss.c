/* rss.c - a small program that prints its own private memory, for objpool's
 * memory benchmark: Private_Clean + Private_Dirty from /proc/self/smaps_rollup,
 * in KiB, as "private_kib=N".
 *
 * Usage: rss [--hold] [PORT]
 *   PORT    first connect to 127.0.0.1:PORT, exchange one line and close (a
 *           pooled connection when PORT is a configured target), then measure
 *   --hold  after printing, stay alive until killed: a second instance then
 *           shares the pages of the program and its libraries with it, as
 *           it would on a host running many pooled processes
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int hold = 0;
    if (argc > 1 && !strcmp(argv[1], "--hold")) {
        hold = 1;
        argc--;
        argv++;
    }
    if (argc > 1) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        char buf[64];
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) || write(fd, "REQ rss\n", 8) != 8 ||
            read(fd, buf, sizeof buf) <= 0) {
            perror("rss: exchange");
            return 1;
        }
        close(fd);
    }
    /* a static buffer: nothing of ours on the heap */
    static char text[8192];
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) {
        perror("rss: smaps_rollup");
        return 1;
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    long total = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long v;
        if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 || sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
            total += v;
    }
    printf("private_kib=%ld\n", total);
    fflush(stdout);
    if (hold)
        for (;;)
            pause();
    return 0;
}
