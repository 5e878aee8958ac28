/* HTTP requests as the server receives them: the real kepu-server routes (srv_api_routes)
 * on a loopback port, fed the input as raw bytes on one connection (the request line, the
 * headers with their cookies, the query string, the body). libmicrohttpd splits the
 * request; what is ours is everything after it: routing and path parameters, the bearer
 * token, the session cookie and CSRF header, Content-Length and gzip bodies, the query
 * arguments of /api/v1/stats and the JSON bodies of every route. The store holds kiosk
 * k-0001 (Bearer KIOSK_TOKEN), staff user s-1 (Bearer STAFF_TOKEN) and an office session
 * (Cookie kepu_session=SESSION, X-CSRF-Token: CSRF) so that inputs pass authentication.
 * The server must answer every input, or close, within REPLY_TIMEOUT_MS. */
#include "fuzz_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kepu/clock.h"
#include "kepu/log.h"
#include "srv_api.h"
#include "srv_auth.h"
#include "srv_http.h"
#include "srv_store.h"

#define KIOSK_TOKEN      "1111111111111111111111111111111111111111111111111111111111111111"
#define STAFF_TOKEN      "2222222222222222222222222222222222222222222222222222222222222222"
#define SESSION          "3333333333333333333333333333333333333333333333333333333333333333"
#define CSRF             "4444444444444444444444444444444444444444444444444444444444444444"
#define REPLY_TIMEOUT_MS 10000
#define MAX_PAD          65536

static struct srv_store *store;
static struct srv_server *server;
static unsigned port;

static void stop(void)
{
    srv_server_stop(server, 1000);
    srv_store_close(store);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char data[512], kh[SRV_HASH_LEN + 1], sh[SRV_HASH_LEN + 1], ch[SRV_HASH_LEN + 1];
    struct kk_buf err = KK_BUF_INIT;
    signal(SIGPIPE, SIG_IGN);
    if (!getenv("KEPU_LOG"))
        kk_log_set_level(KK_LOG_ERROR); /* every refusal is logged; keep the run readable */
    srv_token_hash(KIOSK_TOKEN, kh);
    srv_token_hash(STAFF_TOKEN, sh);
    srv_token_hash(SESSION, ch);
    struct srv_config cfg = {
        .listen = "127.0.0.1:0", .threads = 2, .timeout_s = 1, .max_conns = 64};
    if (srv_auth_init() ||
        srv_store_open(&store, fuzz_path(data, sizeof(data), "data"), NULL, &err) ||
        srv_store_venue_add(store, "v-1", "Venue", &err) ||
        srv_store_kiosk_add(store, "k-0001", "v-1", kh, &err) ||
        srv_store_user_add(store, "s-1", "staff", "-", sh, &err) ||
        srv_store_user_add(store, "office1", "office,admin", "-", NULL, &err) ||
        srv_store_session_add(store, ch, "office1", CSRF, kk_clock_wall_ms() + 86400000LL * 365,
                              &err) ||
        srv_server_start(&server, &cfg, store, srv_api_routes, srv_api_nroutes, &err)) {
        fprintf(stderr, "fuzz_http: %s\n", kk_buf_str(&err));
        abort();
    }
    port = srv_server_port(server);
    atexit(stop);
    kk_buf_release(&err);
    return 0;
}

/* The first case-insensitive occurrence of name in s, or NULL. */
static const char *find_header(const char *s, const char *name)
{
    for (size_t n = strlen(name); *s; s++)
        if (!strncasecmp(s, name, n))
            return s;
    return NULL;
}

/* True when buf[0..len) holds a whole answer other than "100 Continue": its header block
 * and, unless it answers a HEAD, the Content-Length bytes after it. */
static int answer_complete(char *buf, size_t len, int head)
{
    buf[len] = '\0';
    char *p = buf;
    for (;;) {
        char *end = strstr(p, "\r\n\r\n");
        if (!end)
            return 0;
        if (strncmp(p, "HTTP/1.1 1", 10)) {
            *end = '\0';
            const char *cl = find_header(p, "\r\nContent-Length:");
            *end = '\r';
            unsigned long long want = cl ? strtoull(cl + 17, NULL, 10) : 0;
            return head || (size_t)(buf + len - (end + 4)) >= want;
        }
        p = end + 4;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* A signal during connect (EINTR, seen once in 30 s of CI) is the harness's, not a
     * finding: a new socket, a new try. */
    int fd, tries = 0;
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            break;
        if (fd < 0 || errno != EINTR || ++tries > 100) {
            perror("fuzz_http: connect");
            abort();
        }
        close(fd);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* A request cut short would only wait for the server's idle timeout (it is tested
     * in tests/integration): end the header block and fill the body up to its declared
     * Content-Length (within MAX_PAD), so every input is answered at once. */
    static char req[2 * MAX_PAD];
    size_t len = size < MAX_PAD ? size : MAX_PAD;
    memcpy(req, data, len);
    req[len] = '\0';
    char *end = NULL;
    for (size_t i = 0; !end && i + 4 <= len; i++)
        if (!memcmp(req + i, "\r\n\r\n", 4))
            end = req + i;
    if (!end) {
        memcpy(req + len, "\r\n\r\n", 4);
        end = req + len;
        len += 4;
    }
    *end = '\0';
    const char *cl = find_header(req, "\r\nContent-Length:");
    unsigned long long want = cl ? strtoull(cl + 17, NULL, 10) : 0;
    *end = '\r';
    size_t have = (size_t)(req + len - (end + 4));
    if (want > have && want - have <= MAX_PAD) {
        memset(req + len, ' ', (size_t)(want - have));
        len += (size_t)(want - have);
    }
    /* The server may answer and hang up before reading everything: that is fine. */
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    /* Read until the server hangs up or one whole answer is in (the server keeps an HTTP/1.1
     * connection open after answering). */
    int head = len >= 5 && !memcmp(req, "HEAD ", 5);
    uint64_t deadline = kk_clock_mono_ms() + REPLY_TIMEOUT_MS;
    static char buf[1 << 20];
    size_t got = 0;
    while (!answer_complete(buf, got, head)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = kk_clock_mono_ms();
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
            fprintf(stderr, "fuzz_http: no answer and no close within %d ms\n", REPLY_TIMEOUT_MS);
            abort();
        }
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof(buf) - 1)
            got = 0; /* a large file: only its end matters */
    }
    close(fd);
    return 0;
}
