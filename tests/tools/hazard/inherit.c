/* inherit.c - hazard's cases where a lease outlives the code that made it:
 * fork, children that inherit fds (vfork, posix_spawn, system, popen), exec,
 * close_range and close loops, a close objpool never saw, a signal handler
 * that closes a lease. Part of hazard.c, which includes it (one program).
 */

/* ---- 4. fork ------------------------------------------------------------------- */

static void xwrite1(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        die("sync write");
}

static void xread1(int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r != 1) {
        failf("sync read: %s", r == 0 ? "EOF (the other side died)" : strerror(errno));
        exit(1);
    }
}

static void case_fork(void)
{
    /* a parked connection B and a live lease A before the fork */
    int a = tcp_connect();
    long ca = req(a, "parent-0");
    long cb;
    int idle = park_one(&cb);
    CHECK(cb != ca, "the parked connection is the lease");
    int p2c[2], c2p[2];
    if (pipe(p2c) < 0 || pipe(c2p) < 0)
        die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        printf("child_pid=%d\n", (int)getpid());
        /* the parent's idle connection is not in the child */
        CHECK(!proc_fd_exists(idle), "child has the parent's idle fd %d open", idle);
        xread1(p2c[0]); /* the parent talked on A and closed it */
        long cc = req(a, "child-1");
        CHECK(cc == ca, "child's copy of the lease talks to conn %ld, not %ld", cc, ca);
        /* replies left in flight on the shared connection */
        CHECK(send_str(a, "REQ child-2\nSLEEP 300\nREQ child-3\n") == 0, "child write: %s", strerror(errno));
        xwrite1(c2p[1], 's');
        close(a);
        /* the child's own pooled work: a miss, then a hit */
        int c = tcp_connect();
        long k1 = req(c, "child-own-1");
        CHECK(k1 != cb, "child's first connect reused the parent's idle connection %ld", cb);
        CHECK(k1 != ca, "child's first connect reused the shared lease %ld", ca);
        close(c);
        c = tcp_connect();
        long k2 = req(c, "child-own-2");
        close(c);
        printf("child_k1=%ld child_k2=%ld\n", k1, k2);
        fflush(stdout);
        exit(g_fail);
    }
    close(p2c[0]);
    close(c2p[1]);
    printf("pid=%d ca=%ld cb=%ld\n", (int)getpid(), ca, cb);
    long c = req(a, "parent-1");
    CHECK(c == ca, "parent's lease talks to conn %ld, not %ld", c, ca);
    CHECK(close(a) == 0, "parent close of the shared lease: %s", strerror(errno));
    int d = tcp_connect();
    xwrite1(p2c[1], 'g');
    xread1(c2p[0]); /* the child has written requests it will not read */
    long cd = req(d, "parent-2");
    printf("cd=%ld\n", cd);
    CHECK(cd != ca, "parent's connect after fork reused the shared connection %ld", ca);
    close(d);
    /* keep cycling while the child's SLEEP reply is in flight */
    double end = now_s() + 0.5;
    int i = 0;
    while (now_s() < end) {
        char tag[64];
        snprintf(tag, sizeof tag, "parent-loop-%d", i++);
        int e = tcp_connect();
        long ce = req(e, tag);
        CHECK(ce != ca, "cycle %d talked on the shared connection %ld", i, ca);
        close(e);
        usleep(10000);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status 0x%x)", st);
    printf("parent_cycles=%d\n", i);
}

/* ---- 5. children that inherit fds: vfork, posix_spawn(p), system, popen ---------- */

static void case_spawn(const char *how)
{
    int a = tcp_connect();
    long ca = req(a, "before-spawn");
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
        die("pipe2");
    inheritable(go[0]);
    inheritable(done[1]);
    int is_popen = !strcmp(how, "popen"), is_system = !strcmp(how, "system");
    char script[512], cmd[600];
    /* the child waits until the parent has closed its lease and connected
     * again, then (when it has the fd) sends a request on the inherited
     * connection and never reads the reply */
    if (g_cloexec)
        snprintf(script, sizeof script, "read x <&%d; echo done >&%d", go[0],
                 is_popen ? 1 : done[1]);
    else
        snprintf(script, sizeof script, "read x <&%d; printf 'REQ child-%s\\n' >&%d; echo done >&%d",
                 go[0], how, a, is_popen ? 1 : done[1]);
    if (is_system)
        snprintf(cmd, sizeof cmd, "( %s ) &", script);
    else
        snprintf(cmd, sizeof cmd, "%s", script);
    char *argv[] = {"sh", "-c", cmd, NULL};
    pid_t pid = -1;
    FILE *pf = NULL;
    fflush(stdout);
    if (!strcmp(how, "vfork")) {
        pid = vfork();
        if (pid == 0) {
            execve("/bin/sh", argv, environ);
            _exit(127);
        }
        if (pid < 0)
            die("vfork");
    } else if (!strcmp(how, "posix_spawn")) {
        int e = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
        if (e) {
            errno = e;
            die("posix_spawn");
        }
    } else if (!strcmp(how, "posix_spawnp")) {
        int e = posix_spawnp(&pid, "sh", NULL, NULL, argv, environ);
        if (e) {
            errno = e;
            die("posix_spawnp");
        }
    } else if (is_system) {
        int st = system(cmd);
        CHECK(st == 0, "system() returned %d", st);
    } else if (is_popen) {
        pf = popen(cmd, "r");
        if (!pf)
            die("popen");
    } else {
        fprintf(stderr, "hazard: unknown spawn %s\n", how);
        exit(2);
    }
    close(go[0]);
    close(done[1]);
    CHECK(close(a) == 0, "close of the lease after spawn: %s", strerror(errno));
    int d = tcp_connect();
    xwrite1(go[1], '\n');
    char line[64] = {0};
    if (is_popen) {
        if (!fgets(line, sizeof line, pf))
            failf("popen child said nothing");
    } else {
        FILE *f = fdopen(done[0], "r");
        if (!f || !fgets(line, sizeof line, f))
            failf("child said nothing");
    }
    CHECK(!strncmp(line, "done", 4), "child said '%s'", line);
    long cd = req(d, "parent-after-spawn");
    printf("pid=%d ca=%ld cd=%ld hit=%d\n", (int)getpid(), ca, cd, ca == cd);
    /* a vfork child runs the program's code before it execs and may clear
     * FD_CLOEXEC: there even an FD_CLOEXEC lease is shared */
    int child_runs_code = !strcmp(how, "vfork");
    if (g_cloexec && !child_runs_code)
        CHECK(cd == ca, "FD_CLOEXEC lease was not reused after %s (conn %ld, then %ld)", how, ca, cd);
    else
        CHECK(cd != ca, "lease inherited by a %s child was reused (conn %ld)", how, ca);
    if (pf) {
        int st = pclose(pf);
        CHECK(st == 0, "pclose: %d", st);
    } else if (pid > 0) {
        int st;
        if (waitpid(pid, &st, 0) != pid)
            die("waitpid");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    }
    /* d stays open to exit */
}

/* ---- 6. exec ---------------------------------------------------------------------- */

static void two_cycles(const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char tag[64];
        snprintf(tag, sizeof tag, "%s-%d", prefix, i);
        int fd = tcp_connect();
        req(fd, tag);
        close(fd);
    }
}

static void case_exec(const char *fn)
{
    two_cycles("before-exec", 2);
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    if (g_fail)
        exit(1);
    char *argv[] = {"true", NULL};
    if (!strcmp(fn, "execv"))
        execv("/bin/true", argv);
    else if (!strcmp(fn, "execve"))
        execve("/bin/true", argv, environ);
    else if (!strcmp(fn, "execvp"))
        execvp("true", argv);
    else if (!strcmp(fn, "execvpe"))
        execvpe("true", argv, environ);
    else if (!strcmp(fn, "execl"))
        execl("/bin/true", "true", (char *)NULL);
    else if (!strcmp(fn, "execlp"))
        execlp("true", "true", (char *)NULL);
    else if (!strcmp(fn, "execle"))
        execle("/bin/true", "true", (char *)NULL, environ);
    else if (!strcmp(fn, "fexecve")) {
        int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open /bin/true");
        fexecve(fd, argv, environ);
    } else {
        fprintf(stderr, "hazard: unknown exec %s\n", fn);
        exit(2);
    }
    die(fn);
}

static void case_exec_fail(void)
{
    two_cycles("before-exec", 2);
    char *argv[] = {"nonexistent", NULL};
    errno = 0;
    execv("/nonexistent/objpool-hazard", argv);
    CHECK(errno == ENOENT, "failed execv: errno %d", errno);
    two_cycles("after-exec", 3);
    printf("pid=%d\n", (int)getpid());
}

/* ---- 7. close_range, closefrom, close loops ----------------------------------------- */

static void case_close_range(const char *how)
{
    /* the program's own fds, some above, some below a live lease, and a
     * second connection parked while the lease is open */
    int f1 = open("/dev/null", O_RDONLY);
    int lease = tcp_connect();
    long cl = req(lease, "lease-in-range");
    long c1;
    int idle = park_one(&c1);
    CHECK(c1 != cl, "the parked connection is the lease");
    int f2 = open("/dev/null", O_RDONLY);
    int p[2];
    if (f1 < 0 || f2 < 0 || pipe(p) < 0)
        die("open");
    int f3 = dup2(f1, 500);
    CHECK(f3 == 500, "dup2 to 500");
    printf("idle=%d lease=%d c1=%ld cl=%ld\n", idle, lease, c1, cl);
    int cloexec = 0;
    if (!strcmp(how, "close-range")) {
        CHECK(close_range(3, ~0U, 0) == 0, "close_range: %s", strerror(errno));
    } else if (!strcmp(how, "close-range-cloexec")) {
        CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0, "close_range CLOEXEC: %s", strerror(errno));
        cloexec = 1;
    } else if (!strcmp(how, "closefrom")) {
        closefrom(3);
    } else if (!strcmp(how, "close-loop")) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("getrlimit");
        int closed = 0;
        for (long fd = 3; fd < (long)rl.rlim_cur; fd++)
            if (close((int)fd) == 0)
                closed++;
        printf("closed=%d\n", closed);
        CHECK(closed >= 6, "the close loop closed %d fds, the program had 6 (f1 f2 lease pipe[2] 500)",
              closed);
    } else {
        fprintf(stderr, "hazard: unknown close %s\n", how);
        exit(2);
    }
    int fds[] = {f1, f2, p[0], p[1], f3, lease};
    for (unsigned i = 0; i < sizeof fds / sizeof *fds; i++) {
        int fl = fcntl(fds[i], F_GETFD);
        if (cloexec)
            CHECK(fl == FD_CLOEXEC, "fd %d after CLOSE_RANGE_CLOEXEC: F_GETFD %d (%s)", fds[i], fl,
                  fl < 0 ? strerror(errno) : "FD_CLOEXEC not set");
        else
            CHECK(fl < 0 && errno == EBADF, "fd %d still open after %s", fds[i], how);
    }
    if (cloexec) {
        /* the lease stays usable, then closes normally */
        long c = req(lease, "lease-after-cloexec");
        CHECK(c == cl, "lease now talks to conn %ld, not %ld", c, cl);
        CHECK(write(p[1], "x", 1) == 1, "pipe after CLOSE_RANGE_CLOEXEC");
        close(lease);
    }
    int fd = tcp_connect();
    long c2 = req(fd, "after-close-all");
    printf("c2=%ld\n", c2);
    CHECK(c2 == c1 || c2 == cl, "connect after %s was not a reuse (conn %ld; idle was %ld, lease %ld)", how, c2,
          c1, cl);
    CHECK(fd_is_open(fd), "new lease not open");
    close(fd);
}

/* ---- 8. a close objpool never saw ---------------------------------------------------- */

static void case_rawclose(const char *what)
{
    /* the file exists before the lease: creating it takes no fd later */
    char path[] = "/tmp/objpool-hazard-XXXXXX";
    int t = mkstemp(path);
    if (t < 0)
        die("mkstemp");
    CHECK(write(t, "hello\n", 6) == 6, "write tmp");
    close(t);
    int fd = tcp_connect();
    long c1 = -1;
    if (!strcmp(what, "file"))
        c1 = req(fd, "raw-closed");
    /* (socket: no I/O on the lease, so that a byte count cannot tell) */
    if (syscall(SYS_close, fd) != 0)
        die("SYS_close");
    if (!strcmp(what, "file")) {
        int f = open(path, O_RDONLY);
        unlink(path);
        CHECK(f == fd, "file got fd %d, not the lease's number %d", f, fd);
        char buf[16] = {0};
        CHECK(read(f, buf, sizeof buf) == 6 && !memcmp(buf, "hello\n", 6), "file read '%s'", buf);
        CHECK(close(f) == 0, "close(file): %s", strerror(errno));
        CHECK(!fd_is_open(f), "file fd %d still open after close()", f);
    } else {
        int s = tcp_connect_to(g_port2, 0);
        CHECK(s == fd, "socket got fd %d, not the lease's number %d", s, fd);
        long c = req(s, "unrelated");
        CHECK(c > 0, "unrelated server reply");
        CHECK(close(s) == 0, "close(socket): %s", strerror(errno));
        CHECK(!fd_is_open(s), "socket fd %d still open after close()", s);
        unlink(path);
    }
    /* the pool must not hold that object: the next connect is a new
     * connection to the pooled server */
    int d = tcp_connect();
    long c2 = req(d, "after");
    printf("c1=%ld c2=%ld\n", c1, c2);
    /* d stays open to exit */
}

/* ---- 9. a signal handler closes a lease -------------------------------------------------- */

static volatile int g_victim = -1;
static volatile long g_handler_closes;

static void on_alarm(int sig)
{
    (void)sig;
    int e = errno;
    int fd = __atomic_exchange_n(&g_victim, -1, __ATOMIC_SEQ_CST);
    if (fd >= 0) {
        close(fd);
        g_handler_closes++;
    }
    errno = e;
}

static void case_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50}, {0, 50}};
    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        die("setitimer");
    long ok = 0, errors = 0;
    for (long i = 0; i < g_cycles; i++) {
        char tag[64];
        /* a victim lease with a complete exchange, for the handler */
        int v = tcp_connect();
        snprintf(tag, sizeof tag, "victim-%ld", i);
        if (req_soft(v, tag, 1) < 0)
            errors++;
        __atomic_store_n(&g_victim, v, __ATOMIC_SEQ_CST);
        /* the main thread's own cycles, inside objpool's pool operations
         * while the handler fires */
        for (int k = 0; k < 3; k++) {
            int fd = tcp_connect();
            snprintf(tag, sizeof tag, "main-%ld-%d", i, k);
            if (req_soft(fd, tag, 1) < 0)
                errors++;
            else
                ok++;
            close(fd);
        }
        int left = __atomic_exchange_n(&g_victim, -1, __ATOMIC_SEQ_CST);
        if (left >= 0)
            close(left);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("cycles=%ld ok=%ld errors=%ld handler_closes=%ld\n", g_cycles, ok, errors, g_handler_closes);
    CHECK(g_handler_closes > 0, "the handler never closed a lease");
    CHECK(ok >= g_cycles * 3 * 9 / 10, "only %ld of %ld exchanges succeeded", ok, g_cycles * 3);
}
