/* libdlsaved.c - a library whose constructor keeps the address of close
 * (as some libraries keep a table of the calls they make): objpool cannot
 * re-bind a pointer it does not know, so it leaves the library deep-bound
 * and says so, naming it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int dlplug_connect(int port);

static int (*saved_close)(int);

/* Runs inside dlopen, before objpool can look at the library. */
__attribute__((constructor)) static void take_close(void)
{
    saved_close = close;
}

/* Connect to 127.0.0.1:port and close through the saved pointer. */
int dlplug_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    saved_close(fd);
    return rc;
}
