/* real_list.h - the one list of the libc functions objpool interposes.
 *
 * X(name, symbol, return type, (parameters), shim): `name` is the member
 * of `real` (base/real.h), `symbol` what dlsym(RTLD_NEXT) looks up and the
 * library exports, `shim` what `real.name` holds until real_resolve() ran
 * (a raw system call, or a lookup on first use; NULL where the interposer
 * resolves or refuses itself). The table, its lookups and its shims are
 * generated from this list (base/real.c); tests/house/layering.bats checks that
 * the library exports exactly these symbols and the VIA ones below, and
 * tests/layers.py that no other code in preload/ calls dlsym or a raw
 * system call. Adding an interposer: one line here, its body in interpose/.
 *
 * close, read and write come first: real_resolve() looks up in this order,
 * and an allocator initialising inside dlsym may call them meanwhile. */
#ifndef OBJPOOL_REAL_LIST_H
#define OBJPOOL_REAL_LIST_H

#define REAL_FUNCTIONS(X)                                                                                      \
    X(close, "close", int, (int), raw_close)                                                                   \
    X(read, "read", ssize_t, (int, void *, size_t), raw_read)                                                  \
    X(write, "write", ssize_t, (int, const void *, size_t), raw_write)                                         \
    X(socket, "socket", int, (int, int, int), raw_socket)                                                      \
    X(connect, "connect", int, (int, const struct sockaddr *, socklen_t), raw_connect)                         \
    X(shutdown, "shutdown", int, (int, int), raw_shutdown)                                                     \
    X(setsockopt, "setsockopt", int, (int, int, int, const void *, socklen_t), raw_setsockopt)                 \
    X(epoll_ctl, "epoll_ctl", int, (int, int, int, struct epoll_event *), raw_epoll_ctl)                       \
    X(readv, "readv", ssize_t, (int, const struct iovec *, int), raw_readv)                                    \
    X(writev, "writev", ssize_t, (int, const struct iovec *, int), raw_writev)                                 \
    X(recv, "recv", ssize_t, (int, void *, size_t, int), raw_recv)                                             \
    X(recvfrom, "recvfrom", ssize_t, (int, void *, size_t, int, struct sockaddr *, socklen_t *), raw_recvfrom) \
    X(recvmsg, "recvmsg", ssize_t, (int, struct msghdr *, int), raw_recvmsg)                                   \
    X(send, "send", ssize_t, (int, const void *, size_t, int), raw_send)                                       \
    X(sendto, "sendto", ssize_t, (int, const void *, size_t, int, const struct sockaddr *, socklen_t),         \
      raw_sendto)                                                                                              \
    X(sendmsg, "sendmsg", ssize_t, (int, const struct msghdr *, int), raw_sendmsg)                             \
    X(read_chk, "__read_chk", ssize_t, (int, void *, size_t, size_t), raw_read_chk)                            \
    X(recv_chk, "__recv_chk", ssize_t, (int, void *, size_t, size_t, int), raw_recv_chk)                       \
    X(recvfrom_chk, "__recvfrom_chk", ssize_t,                                                                 \
      (int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *), raw_recvfrom_chk)                    \
    X(dup, "dup", int, (int), raw_dup)                                                                         \
    X(dup2, "dup2", int, (int, int), raw_dup2)                                                                 \
    X(dup3, "dup3", int, (int, int, int), raw_dup3)                                                            \
    X(fcntl, "fcntl", int, (int, int, ...), raw_fcntl)                                                         \
    X(fcntl64, "fcntl64", int, (int, int, ...), raw_fcntl)                                                     \
    X(close_range, "close_range", int, (unsigned int, unsigned int, int), raw_close_range)                     \
    X(closefrom, "closefrom", void, (int), NULL)                                                               \
    X(flock, "flock", int, (int, int), raw_flock)                                                              \
    X(vfork, "vfork", pid_t, (void), NULL)                                                                     \
    X(posix_spawn, "posix_spawn", int,                                                                         \
      (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[],    \
       char *const[]),                                                                                         \
      NULL)                                                                                                    \
    X(posix_spawnp, "posix_spawnp", int,                                                                       \
      (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *, char *const[],    \
       char *const[]),                                                                                         \
      NULL)                                                                                                    \
    X(system, "system", int, (const char *), NULL)                                                             \
    X(popen, "popen", FILE *, (const char *, const char *), NULL)                                              \
    X(execve, "execve", int, (const char *, char *const[], char *const[]), NULL)                               \
    X(execv, "execv", int, (const char *, char *const[]), NULL)                                                \
    X(execvp, "execvp", int, (const char *, char *const[]), NULL)                                              \
    X(execvpe, "execvpe", int, (const char *, char *const[], char *const[]), NULL)                             \
    X(fexecve, "fexecve", int, (int, char *const[], char *const[]), NULL)                                      \
    X(fopen, "fopen", FILE *, (const char *, const char *), lazy_fopen)                                        \
    X(fopen64, "fopen64", FILE *, (const char *, const char *), lazy_fopen64)                                  \
    X(fclose, "fclose", int, (FILE *), lazy_fclose)                                                            \
    X(freopen, "freopen", FILE *, (const char *, const char *, FILE *), lazy_freopen)                          \
    X(freopen64, "freopen64", FILE *, (const char *, const char *, FILE *), lazy_freopen64)                    \
    X(fcloseall, "fcloseall", int, (void), lazy_fcloseall)                                                     \
    X(open, "open", int, (const char *, int, ...), raw_open)                                                   \
    X(open64, "open64", int, (const char *, int, ...), raw_open)                                               \
    X(openat, "openat", int, (int, const char *, int, ...), raw_openat)                                        \
    X(openat64, "openat64", int, (int, const char *, int, ...), raw_openat)                                    \
    X(open_2, "__open_2", int, (const char *, int), raw_open_2)                                                \
    X(open64_2, "__open64_2", int, (const char *, int), raw_open_2)                                            \
    X(openat_2, "__openat_2", int, (int, const char *, int), raw_openat_2)                                     \
    X(openat64_2, "__openat64_2", int, (int, const char *, int), raw_openat_2)                                 \
    X(sendfile, "sendfile", ssize_t, (int, int, off_t *, size_t), raw_sendfile)                               \
    X(sendfile64, "sendfile64", ssize_t, (int, int, off_t *, size_t), raw_sendfile)                            \
    X(splice, "splice", ssize_t, (int, off_t *, int, off_t *, size_t, unsigned int), raw_splice)               \
    X(sendmmsg, "sendmmsg", int, (int, struct mmsghdr *, unsigned int, int), raw_sendmmsg)                     \
    X(recvmmsg, "recvmmsg", int, (int, struct mmsghdr *, unsigned int, int, struct timespec *), raw_recvmmsg)  \
    X(vdprintf, "vdprintf", int, (int, const char *, va_list), lazy_vdprintf)                                  \
    X(vdprintf_chk, "__vdprintf_chk", int, (int, int, const char *, va_list), lazy_vdprintf_chk)               \
    X(fdopen, "fdopen", FILE *, (int, const char *), lazy_fdopen)                                              \
    X(dlopen, "dlopen", void *, (const char *, int), lazy_dlopen)                                              \
    X(dlmopen, "dlmopen", void *, (Lmid_t, const char *, int), lazy_dlmopen)

/* VIA(symbol, name): exported interposers with no member of their own,
 * that reach libc through `real.name` (a variadic front of a va_list or
 * vector call). */
#define REAL_VIA(VIA)            \
    VIA(dprintf, vdprintf)       \
    VIA(__dprintf_chk, vdprintf_chk) \
    VIA(execl, execv)            \
    VIA(execlp, execvp)          \
    VIA(execle, execve)

/* OSSL(symbol): OpenSSL 3 functions objpool interposes (interpose/tls.c).
 * Not libc's and not in `real`: a program loads OpenSSL after start-up
 * (Python's _ssl, RTLD_LOCAL), so each is looked up on first use, by name
 * and version OPENSSL_3.0.0, in the program's own libcrypto or libssl
 * (tls/ossl.c). */
#define REAL_OPENSSL(OSSL) \
    OSSL(X509_STORE_load_file) \
    OSSL(X509_STORE_load_file_ex) \
    OSSL(X509_STORE_load_locations) \
    OSSL(X509_STORE_load_locations_ex) \
    OSSL(X509_STORE_set_default_paths) \
    OSSL(X509_STORE_set_default_paths_ex) \
    OSSL(SSL_do_handshake) \
    OSSL(SSL_free) \
    OSSL(SSL_CTX_set_cert_verify_callback) \
    OSSL(SSL_CTX_set_purpose) \
    OSSL(SSL_set_purpose) \
    OSSL(SSL_CTX_set_trust) \
    OSSL(SSL_set_trust) \
    OSSL(X509_VERIFY_PARAM_set_purpose) \
    OSSL(X509_VERIFY_PARAM_set_trust) \
    OSSL(X509_STORE_set_purpose) \
    OSSL(X509_STORE_set_trust) \
    OSSL(SSL_dane_enable) \
    OSSL(SSL_CTX_dane_enable) \
    OSSL(SSL_CTX_set_alpn_protos) \
    OSSL(SSL_set_alpn_protos)

#endif
