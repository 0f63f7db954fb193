/*
 * libssl_peer.c: a small OpenSSL 3.x test peer for tests/interop/libssl_test.ts and
 * tests/interop/s_client_test.ts. Compiled by the tests with `gcc ... -lssl -lcrypto`.
 *
 * The server context mirrors the setup of OpenSSL's test/sslapitest.c:test_ticket_callbacks:
 * fixed ticket keys through SSL_CTX_set_tlsext_ticket_keys (80 bytes: name16|hmac32|aes32,
 * ssl/s3_lib.c:ssl3_ctx_ctrl) and the man page's callbacks installed with
 * SSL_CTX_set_session_ticket_cb (doc/man3/SSL_CTX_set_session_ticket_cb.pod):
 *   gen_cb  sets the ticket app data given on the command line (nothing when it is empty);
 *   dec_cb  prints the status and app data it saw and returns USE / USE_RENEW for
 *           SUCCESS / SUCCESS_RENEW and IGNORE_RENEW otherwise (the "don't change the
 *           default" answers of the man page, as test/helpers/handshake.c does).
 *
 * Usage:
 *   libssl_peer pair   CERT KEY KEYS_HEX VERSION APPDATA [SESS_IN_PEM]
 *       Client and server in one process over a BIO pair (BIO_new_bio_pair). The client
 *       resumes the session read with PEM_read_bio_SSL_SESSION when SESS_IN_PEM is given.
 *   libssl_peer listen CERT KEY KEYS_HEX VERSION APPDATA
 *       A TCP server on 127.0.0.1 (port chosen by the kernel, printed as "ACCEPT <port>")
 *       answering each connection with a one-line HTTP/1.0 response, until killed.
 *   libssl_peer connect HOST PORT VERSION [CAFILE]
 *       An OpenSSL client (no SNI; without CAFILE no verification, with it the chain and HOST
 *       as IP address or DNS name are verified), the client side of test_ticket_callbacks:
 *       h=1 a full handshake, h=2 resumes the last session h=1 received through
 *       SSL_CTX_sess_set_new_cb (a plain full handshake when h=1 received none). Each reads
 *       the server's one-line greeting (so TLS 1.3 NewSessionTickets are processed), then
 *       closes with SSL_shutdown.
 *
 * VERSION is "1.2" or "1.3" (both min and max protocol). Output, one event per line:
 *   gen appdata=<hex|->                                   each gen_cb call
 *   dec status=<n> keyname=<hex> appdata=<hex|-> master_key=<hex|-> version=<hex> cipher=<hex>
 *   ticket hex=<hex> master_key=<hex> version=<hex> cipher=<hex> lifetime_hint=<n>
 *                                                         each session the client receives
 *   result reused=<0|1> version=<name> cipher=<hex> appdata=<hex|->
 *   conn reused=<0|1> version=<name> cipher=<hex> appdata=<hex|->   (listen mode)
 *   client h=<1|2> reused=<0|1> nst=<n> ticklen=<len of the last ticket, 0 if none>
 *          tickets=<len,len,...|-> version=<name> cipher=<hex> greeting=<text|->   (connect)
 *   (appdata here is that of SSL_get_session(server) once the handshake is done)
 * Exit status: 0 on success, 1 on usage errors, 2 on a failed handshake.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *app_data = "";

static void print_hex(const char *label, const unsigned char *p, size_t n)
{
    size_t i;

    printf(" %s=", label);
    if (p == NULL || n == 0) {
        printf("-");
        return;
    }
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void print_appdata(SSL_SESSION *ss)
{
    void *data = NULL;
    size_t len = 0;

    if (ss != NULL)
        SSL_SESSION_get0_ticket_appdata(ss, &data, &len);
    print_hex("appdata", data, len);
}

static void print_master_key(SSL_SESSION *ss)
{
    unsigned char mk[512];
    size_t n = ss == NULL ? 0 : SSL_SESSION_get_master_key(ss, mk, sizeof(mk));

    print_hex("master_key", mk, n);
}

/* gen_cb (SSL_CTX_generate_session_ticket_fn): runs once per ticket about to be sealed. */
static int gen_cb(SSL *s, void *arg)
{
    SSL_SESSION *ss = SSL_get_session(s);

    (void)arg;
    if (app_data[0] != '\0'
        && !SSL_SESSION_set1_ticket_appdata(ss, app_data, strlen(app_data)))
        return 0;
    printf("gen");
    print_appdata(ss);
    printf("\n");
    return 1;
}

/* dec_cb (SSL_CTX_decrypt_session_ticket_fn): records what tls_decrypt_ticket reported. */
static SSL_TICKET_RETURN dec_cb(SSL *s, SSL_SESSION *ss, const unsigned char *keyname,
                                size_t keyname_len, SSL_TICKET_STATUS status, void *arg)
{
    int ok = status == SSL_TICKET_SUCCESS || status == SSL_TICKET_SUCCESS_RENEW;

    (void)s;
    (void)arg;
    printf("dec status=%d", status);
    print_hex("keyname", keyname, keyname_len);
    print_appdata(ok ? ss : NULL);
    print_master_key(ok ? ss : NULL);
    printf(" version=%04x cipher=%04x\n",
           ok ? (unsigned)SSL_SESSION_get_protocol_version(ss) : 0u,
           ok ? (unsigned)SSL_CIPHER_get_protocol_id(SSL_SESSION_get0_cipher(ss)) : 0u);
    switch (status) {
    case SSL_TICKET_SUCCESS:
        return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
        return SSL_TICKET_RETURN_USE_RENEW;
    default:
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    }
}

/* Prints the "ticket" line of a session the client received. */
static void print_ticket(SSL_SESSION *sess)
{
    const unsigned char *tick = NULL;
    size_t ticklen = 0;

    SSL_SESSION_get0_ticket(sess, &tick, &ticklen);
    printf("ticket");
    print_hex("hex", tick, ticklen);
    print_master_key(sess);
    printf(" version=%04x cipher=%04x lifetime_hint=%lu\n",
           (unsigned)SSL_SESSION_get_protocol_version(sess),
           (unsigned)SSL_CIPHER_get_protocol_id(SSL_SESSION_get0_cipher(sess)),
           SSL_SESSION_get_ticket_lifetime_hint(sess));
}

/* Client new-session callback: prints each ticket and the master key that goes with it. */
static int new_session_cb(SSL *s, SSL_SESSION *sess)
{
    (void)s;
    print_ticket(sess);
    return 0; /* the library keeps ownership */
}

static int hex_decode(const char *hex, unsigned char *out, size_t outlen)
{
    size_t i;

    if (strlen(hex) != 2 * outlen)
        return 0;
    for (i = 0; i < outlen; i++) {
        unsigned int b;

        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return 0;
        out[i] = (unsigned char)b;
    }
    return 1;
}

static int set_version(SSL_CTX *ctx, const char *version)
{
    int v = strcmp(version, "1.3") == 0 ? TLS1_3_VERSION
        : strcmp(version, "1.2") == 0 ? TLS1_2_VERSION : 0;

    return v != 0 && SSL_CTX_set_min_proto_version(ctx, v)
        && SSL_CTX_set_max_proto_version(ctx, v);
}

static SSL_CTX *server_ctx(const char *cert, const char *key, const char *keys_hex,
                           const char *version)
{
    unsigned char keys[80];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL || !set_version(ctx, version)
        || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1
        || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1
        || !hex_decode(keys_hex, keys, sizeof(keys))
        || SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof(keys)) != 1
        || SSL_CTX_set_session_ticket_cb(ctx, gen_cb, dec_cb, NULL) != 1) {
        fprintf(stderr, "server context setup failed\n");
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    OPENSSL_cleanse(keys, sizeof(keys));
    return ctx;
}

static void print_result(const char *label, SSL *server, SSL *peer)
{
    printf("%s reused=%d version=%s cipher=%04x", label, SSL_session_reused(peer),
           SSL_get_version(peer),
           (unsigned)SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(peer)));
    print_appdata(SSL_get_session(server));
    printf("\n");
}

static int run_pair(const char *cert, const char *key, const char *keys_hex,
                    const char *version, const char *sess_in)
{
    SSL_CTX *sctx = server_ctx(cert, key, keys_hex, version);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL *server, *client;
    BIO *sbio = NULL, *cbio = NULL;
    int cdone = 0, sdone = 0, i;
    char byte = 'x';

    if (cctx == NULL || !set_version(cctx, version)) {
        fprintf(stderr, "client context setup failed\n");
        return 1;
    }
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT
                                         | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(cctx, new_session_cb);
    server = SSL_new(sctx);
    client = SSL_new(cctx);
    if (server == NULL || client == NULL || !BIO_new_bio_pair(&sbio, 0, &cbio, 0))
        return 1;
    SSL_set_bio(server, sbio, sbio);
    SSL_set_bio(client, cbio, cbio);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);
    if (sess_in != NULL) {
        BIO *in = BIO_new_file(sess_in, "r");
        SSL_SESSION *sess = in == NULL ? NULL
            : PEM_read_bio_SSL_SESSION(in, NULL, NULL, NULL);

        BIO_free(in);
        if (sess == NULL || !SSL_set_session(client, sess)) {
            fprintf(stderr, "cannot use session %s\n", sess_in);
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_SESSION_free(sess);
    }
    for (i = 0; i < 64 && !(cdone && sdone); i++) {
        int r;

        if (!cdone) {
            r = SSL_do_handshake(client);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ
                     && SSL_get_error(client, r) != SSL_ERROR_WANT_WRITE)
                break;
        }
        if (!sdone) {
            r = SSL_do_handshake(server);
            if (r == 1)
                sdone = 1;
            else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ
                     && SSL_get_error(server, r) != SSL_ERROR_WANT_WRITE)
                break;
        }
    }
    /* One application byte each way: the client reads any TLS 1.3 NewSessionTickets. */
    if (!cdone || !sdone || SSL_write(server, &byte, 1) != 1 || SSL_read(client, &byte, 1) != 1) {
        printf("handshake failed\n");
        ERR_print_errors_fp(stdout);
        return 2;
    }
    print_result("result", server, client);
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return 0;
}

static int run_listen(const char *cert, const char *key, const char *keys_hex,
                      const char *version)
{
    SSL_CTX *sctx = server_ctx(cert, key, keys_hex, version);
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0
        || listen(fd, 16) != 0 || getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("listen");
        return 1;
    }
    printf("ACCEPT %d\n", ntohs(addr.sin_port));
    for (;;) {
        struct timeval tv = { 5, 0 };
        int cfd = accept(fd, NULL, NULL);
        SSL *server;
        char buf[4096];
        int n, got = 0;

        if (cfd < 0)
            continue;
        setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        server = SSL_new(sctx);
        SSL_set_fd(server, cfd);
        if (SSL_accept(server) == 1) {
            print_result("conn", server, server);
            /* Read the request up to its blank line, then answer and close. */
            while (got < (int)sizeof(buf) - 1
                   && (n = SSL_read(server, buf + got, (int)sizeof(buf) - 1 - got)) > 0) {
                got += n;
                buf[got] = '\0';
                if (strstr(buf, "\r\n\r\n") != NULL)
                    break;
            }
            n = snprintf(buf, sizeof(buf), "HTTP/1.0 200 OK\r\n\r\nreused=%d\n",
                         SSL_session_reused(server));
            SSL_write(server, buf, n);
            SSL_shutdown(server);
        } else {
            printf("conn failed\n");
            ERR_print_errors_fp(stdout);
        }
        SSL_free(server);
        close(cfd);
    }
}

/* connect mode: what the client received during the current connection. */
static SSL_SESSION *last_session = NULL;
static int nst_count = 0;
static size_t last_ticklen = 0;
static char ticket_lens[256];

/* Client new-session callback of connect mode: counts, prints and keeps the last session. */
static int keep_session_cb(SSL *s, SSL_SESSION *sess)
{
    const unsigned char *tick = NULL;
    size_t len = strlen(ticket_lens);

    (void)s;
    print_ticket(sess);
    SSL_SESSION_get0_ticket(sess, &tick, &last_ticklen);
    nst_count++;
    if (len < sizeof(ticket_lens) - 24)
        snprintf(ticket_lens + len, sizeof(ticket_lens) - len, "%s%zu", len ? "," : "",
                 last_ticklen);
    SSL_SESSION_free(last_session);
    last_session = sess;
    return 1; /* we own sess now */
}

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    struct timeval tv = { 5, 0 };
    int fd = -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* One client connection: handshake, read the greeting line, close_notify. 0 on success. */
static int client_once(SSL_CTX *cctx, const char *host, const char *port, const char *cafile,
                       int h, SSL_SESSION *resume)
{
    SSL *ssl = SSL_new(cctx);
    char line[256];
    int fd = tcp_connect(host, port), got = 0, n, ok = 0;

    nst_count = 0;
    last_ticklen = 0;
    ticket_lens[0] = '\0';
    if (ssl == NULL || fd < 0 || !SSL_set_fd(ssl, fd)
        || (resume != NULL && !SSL_set_session(ssl, resume))
        || (cafile != NULL && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
            && !SSL_set1_host(ssl, host))) {
        printf("client h=%d failed setup\n", h);
    } else if (SSL_connect(ssl) != 1) {
        printf("client h=%d failed handshake verify=%ld\n", h, SSL_get_verify_result(ssl));
    } else {
        /* The greeting: SSL_read processes the NewSessionTickets that precede it. */
        while (got < (int)sizeof(line) - 1 && memchr(line, '\n', got) == NULL
               && (n = SSL_read(ssl, line + got, (int)sizeof(line) - 1 - got)) > 0)
            got += n;
        ok = got > 0 && memchr(line, '\n', got) != NULL;
        line[got] = '\0';
        if (ok) {
            *strchr(line, '\n') = '\0';
            for (n = 0; line[n] != '\0'; n++)
                if (line[n] == ' ')
                    line[n] = '_';
        }
        printf("client h=%d reused=%d nst=%d ticklen=%zu tickets=%s version=%s cipher=%04x"
               " greeting=%s\n", h, SSL_session_reused(ssl), nst_count, last_ticklen,
               ticket_lens[0] ? ticket_lens : "-", SSL_get_version(ssl),
               (unsigned)SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl)),
               ok ? line : "-");
        /* Clean close: our close_notify, then wait (bounded by SO_RCVTIMEO) for the server's. */
        if (ok && SSL_shutdown(ssl) == 0)
            SSL_shutdown(ssl);
    }
    if (!ok)
        ERR_print_errors_fp(stdout);
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    return ok ? 0 : 2;
}

static int run_connect(const char *host, const char *port, const char *version,
                       const char *cafile)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *first;
    int r;

    if (cctx == NULL || !set_version(cctx, version)
        || (cafile != NULL && SSL_CTX_load_verify_locations(cctx, cafile, NULL) != 1)) {
        fprintf(stderr, "client context setup failed\n");
        ERR_print_errors_fp(stderr);
        return 1;
    }
    if (cafile != NULL)
        SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT
                                         | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(cctx, keep_session_cb);
    r = client_once(cctx, host, port, cafile, 1, NULL);
    first = last_session;
    last_session = NULL;
    if (r == 0)
        r = client_once(cctx, host, port, cafile, 2, first);
    SSL_SESSION_free(first);
    SSL_SESSION_free(last_session);
    SSL_CTX_free(cctx);
    return r;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 7 && strcmp(argv[1], "pair") == 0 && argc <= 8) {
        app_data = argv[6];
        return run_pair(argv[2], argv[3], argv[4], argv[5], argc == 8 ? argv[7] : NULL);
    }
    if (argc == 7 && strcmp(argv[1], "listen") == 0) {
        app_data = argv[6];
        return run_listen(argv[2], argv[3], argv[4], argv[5]);
    }
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "connect") == 0)
        return run_connect(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: %s pair|listen CERT KEY KEYS_HEX 1.2|1.3 APPDATA [SESS_IN_PEM]\n"
            "       %s connect HOST PORT 1.2|1.3 [CAFILE]\n", argv[0], argv[0]);
    return 1;
}
