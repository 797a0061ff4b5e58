/* sslfns.c - finding the libssl functions session resumption calls
 * (sslfns.h), by name and OpenSSL 3 version. */
#include "sslfns.h"

#include <stddef.h>

#include "ossl.h"

struct ssl_fns S;

#define FIND(field, name)                                   \
    do {                                                    \
        *(void **)&S.field = ossl_find(name);               \
        ok = ok && S.field != NULL;                         \
    } while (0)

int sslfns_resolve(void)
{
    int ok = 1;
    FIND(is_server, "SSL_is_server");
    FIND(in_before, "SSL_in_before");
    FIND(get_session, "SSL_get_session");
    FIND(get1_session, "SSL_get1_session");
    FIND(set_session, "SSL_set_session");
    FIND(get_verify_mode, "SSL_get_verify_mode");
    FIND(get_verify_depth, "SSL_get_verify_depth");
    FIND(get_verify_callback, "SSL_get_verify_callback");
    FIND(ctx_get_verify_callback, "SSL_CTX_get_verify_callback");
    FIND(get_certificate, "SSL_get_certificate");
    FIND(ctx_get_client_cert_cb, "SSL_CTX_get_client_cert_cb");
    FIND(get_options, "SSL_get_options");
    FIND(ctrl, "SSL_ctrl");
    FIND(ctx_ctrl, "SSL_CTX_ctrl");
    FIND(ct_is_enabled, "SSL_ct_is_enabled");
    FIND(get_fd, "SSL_get_fd");
    FIND(get_rfd, "SSL_get_rfd");
    FIND(get_wfd, "SSL_get_wfd");
    FIND(get_servername, "SSL_get_servername");
    FIND(get0_param, "SSL_get0_param");
    FIND(get_ssl_ctx, "SSL_get_SSL_CTX");
    FIND(ctx_get_cert_store, "SSL_CTX_get_cert_store");
    FIND(store_get0_param, "X509_STORE_get0_param");
    FIND(store_get_verify_cb, "X509_STORE_get_verify_cb");
    static const char *const hooks[10] = {
        "X509_STORE_get_verify", "X509_STORE_get_check_issued", "X509_STORE_get_get_issuer",
        "X509_STORE_get_check_revocation", "X509_STORE_get_get_crl", "X509_STORE_get_check_crl",
        "X509_STORE_get_cert_crl", "X509_STORE_get_check_policy", "X509_STORE_get_lookup_certs",
        "X509_STORE_get_lookup_crls"};
    for (int i = 0; i < 10; i++)
        FIND(store_hook[i], hooks[i]);
    FIND(param_get0_host, "X509_VERIFY_PARAM_get0_host");
    FIND(param_get1_ip_asc, "X509_VERIFY_PARAM_get1_ip_asc");
    FIND(param_get_flags, "X509_VERIFY_PARAM_get_flags");
    FIND(param_get_hostflags, "X509_VERIFY_PARAM_get_hostflags");
    FIND(param_get_depth, "X509_VERIFY_PARAM_get_depth");
    FIND(param_get_auth_level, "X509_VERIFY_PARAM_get_auth_level");
    FIND(param_get_inh_flags, "X509_VERIFY_PARAM_get_inh_flags");
    FIND(param_get_time, "X509_VERIFY_PARAM_get_time");
    FIND(get_security_level, "SSL_get_security_level");
    FIND(crypto_free, "CRYPTO_free");
    FIND(x509_digest, "X509_digest");
    FIND(crl_digest, "X509_CRL_digest");
    FIND(sha1, "EVP_sha1");
    FIND(get_ex_data, "SSL_get_ex_data");
    FIND(ctx_get_ex_data, "SSL_CTX_get_ex_data");
    FIND(ctx_set_ex_data, "SSL_CTX_set_ex_data");
    FIND(set_ex_data, "SSL_set_ex_data");
    FIND(session_reused, "SSL_session_reused");
    FIND(is_init_finished, "SSL_is_init_finished");
    FIND(get_verify_result, "SSL_get_verify_result");
    FIND(session_dup, "SSL_SESSION_dup");
    FIND(session_free, "SSL_SESSION_free");
    FIND(session_is_resumable, "SSL_SESSION_is_resumable");
    FIND(session_get_protocol, "SSL_SESSION_get_protocol_version");
    FIND(session_get_time, "SSL_SESSION_get_time");
    FIND(session_get_timeout, "SSL_SESSION_get_timeout");
    FIND(session_set_max_early, "SSL_SESSION_set_max_early_data");
    return ok;
}
