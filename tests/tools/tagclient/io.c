/* io.c - tagclient's connections and I/O in each --mode: connect (blocking or
 * not, TCP or unix), a request sent whole, a reply line read back. Part of
 * tagclient.c, which includes it (one program).
 */

/* Wait for events on fd; returns 0 when ready, -1 on error/timeout. */
static int wait_fd(int fd, short events)
{
    struct pollfd p = { fd, events, 0 };
    for (;;) {
        int r = poll(&p, 1, 10000);
        if (r > 0)
            return 0;
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* Create a socket and connect it.  Tries each resolved address in turn. */
static int open_conn(void)
{
    int nb = g_mode == M_NONBLOCK;
    if (g_unix) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", g_unix);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        return fd;
    }
    int last_errno = ECONNREFUSED;
    for (struct addrinfo *ai = g_addrs; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (nb) {
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
                last_errno = errno;
                close(fd);
                continue;
            }
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && nb && errno == EINPROGRESS) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (wait_fd(fd, POLLOUT) != 0)
                rc = -1;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
                rc = -1;
            else if (soerr != 0) {
                errno = soerr;
                rc = -1;
            } else
                rc = 0;
        }
        if (rc == 0)
            return fd;
        last_errno = errno;
        close(fd);
    }
    errno = last_errno;
    return -1;
}

/* Send the whole buffer using the mode's write primitive. */
static int send_req(int fd, const char *req, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w;
        switch (g_mode) {
        case M_NONBLOCK:
        case M_SENDRECV:
            w = send(fd, req + off, len - off, MSG_NOSIGNAL);
            break;
        case M_WRITEV: {
            /* split in two iovecs to exercise the vector path */
            size_t rest = len - off, first = rest > 4 ? 4 : rest;
            struct iovec iov[2] = {
                { (void *)(req + off), first },
                { (void *)(req + off + first), rest - first },
            };
            w = writev(fd, iov, 2);
            break;
        }
        case M_MSG: {
            struct iovec iov = { (void *)(req + off), len - off };
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = &iov;
            mh.msg_iovlen = 1;
            w = sendmsg(fd, &mh, MSG_NOSIGNAL);
            break;
        }
        default:
            w = write(fd, req + off, len - off);
            break;
        }
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN && g_mode == M_NONBLOCK) {
                if (wait_fd(fd, POLLOUT) != 0)
                    return -1;
                continue;
            }
            return -1;
        }
        off += (size_t)w;
    }
    return 0;
}

/* Read one reply line (without '\n') into line.  Returns 0 on success,
 * -1 on error (errno set, or 0 for EOF). */
static int read_reply(int fd, char *line, size_t cap)
{
    size_t have = 0;
    for (;;) {
        if (have + 1 >= cap) {
            errno = EMSGSIZE;
            return -1;
        }
        ssize_t r;
        size_t want = cap - 1 - have;
        switch (g_mode) {
        case M_UNREAD:
            r = read(fd, line + have, 1);
            break;
        case M_NONBLOCK:
        case M_SENDRECV:
            r = recv(fd, line + have, want, 0);
            break;
        case M_WRITEV: {
            struct iovec iov = { line + have, want };
            r = readv(fd, &iov, 1);
            break;
        }
        case M_MSG: {
            struct iovec iov = { line + have, want };
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = &iov;
            mh.msg_iovlen = 1;
            r = recvmsg(fd, &mh, 0);
            break;
        }
        default:
            r = read(fd, line + have, want);
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN && g_mode == M_NONBLOCK) {
                if (wait_fd(fd, POLLIN) != 0)
                    return -1;
                continue;
            }
            return -1;
        }
        if (r == 0) {
            errno = 0;
            return -1;
        }
        char *nl = memchr(line + have, '\n', (size_t)r);
        have += (size_t)r;
        if (nl) {
            *nl = '\0';
            return 0;
        }
    }
}
