#include "srv_http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/utf8.h"
#include "srv_auth.h"

#define STATUS_CLASSES 6   /* index status / 100: 1xx..5xx */
#define SWEEP_MS       100 /* how often deadlines are checked */
#define ADDR_BUCKETS   1024

/* Upper bounds (seconds) of the request duration histogram's buckets (Prometheus'
 * defaults); one more bucket counts what is slower than the last. */
static const double duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS (sizeof(duration_bounds) / sizeof(duration_bounds[0]))

struct route_stats {
    atomic_ullong by_class[STATUS_CLASSES];
    atomic_ullong buckets[NBOUNDS + 1]; /* not cumulative here; summed when shown */
    atomic_ullong us_sum;
};

/* Numeric addresses as 16 bytes (IPv4 mapped into IPv6). */
struct addr_list {
    unsigned char a[SRV_MAX_ADDRS][16];
    size_t n;
};

/* Open connections per client address, for the per-address limit. */
struct addr_count {
    unsigned char a[16];
    unsigned n;
    struct addr_count *next;
};

/* What a connection is doing, for the deadlines the sweeper enforces. */
enum conn_phase {
    PHASE_HEADERS, /* waiting for (the rest of) a header block: hard deadline */
    PHASE_BODY,    /* receiving a body: must keep up SRV_MIN_UPLOAD_BPS after a grace */
    PHASE_REPLY,   /* handling or sending: MHD's idle timeout only */
};

/* One open connection (MHD's socket context), in the server's list while open. */
struct conn {
    struct conn *prev, *next;
    int fd;
    unsigned char addr[16];
    int limited; /* counted against its address */
    int cut;     /* shut down by the sweeper */
    enum conn_phase phase;
    uint64_t since_ms; /* start of the phase */
    uint64_t grace_ms; /* PHASE_BODY: time before the rate must hold */
    atomic_ullong received;
};

struct srv_server {
    struct MHD_Daemon *d;
    struct srv_store *store;
    const struct srv_route *routes;
    size_t nroutes;
    unsigned timeout_s, header_timeout_s, max_conns, max_per_addr;
    unsigned port;
    uint64_t started_ms;
    struct addr_list proxies, metrics_allow;
    atomic_long in_flight;
    atomic_long connections;
    atomic_ullong ev_accepted, ev_duplicates, ev_rejected;
    atomic_ullong slow_cut, too_big, header_cut, refused_per_addr, refused_busy;
    struct route_stats *stats; /* nroutes + 1: the last counts unmatched requests */
    pthread_mutex_t conn_lock; /* guards conns and addrs */
    struct conn *conns;
    struct addr_count *addrs[ADDR_BUCKETS];
    pthread_t sweeper;
    int sweeper_running;
    atomic_int stopping;
};

/* Per-request state kept by MHD between calls of the access handler. */
struct req_state {
    struct srv_req req;
    struct conn *conn;  /* NULL if it could not be tracked */
    size_t route_idx;   /* nroutes when no route matched */
    char deny_msg[160]; /* a refusal's message, "" for a bare status */
    int gzip;
    int too_big;
    uint64_t started_us;
    struct kk_buf raw; /* the compressed body when gzip */
};

/* --- addresses ------------------------------------------------------------------------ */

static int addr_of(const struct sockaddr *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 1;
    }
    if (sa && sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 1;
    }
    return 0;
}

/* Parses one numeric address (IPv4 or IPv6) into 16 bytes. */
static int addr_parse(const char *text, unsigned char out[16])
{
    struct in_addr v4;
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, &v4) == 1) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return 1;
    }
    return inet_pton(AF_INET6, text, out) == 1;
}

static enum kk_err addr_list_parse(const char *list, const char *what, struct addr_list *out,
                                   struct kk_buf *err)
{
    char item[64];
    out->n = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (!len || len >= sizeof(item))
            return kk_fail(err, KK_ERR_INVALID, "%s: empty or overlong address in \"%s\"", what,
                           list);
        memcpy(item, p, len);
        item[len] = '\0';
        if (out->n == SRV_MAX_ADDRS)
            return kk_fail(err, KK_ERR_INVALID, "%s: at most %d addresses", what, SRV_MAX_ADDRS);
        if (!addr_parse(item, out->a[out->n]))
            return kk_fail(err, KK_ERR_INVALID, "%s: \"%s\" is not a numeric IP address", what,
                           item);
        out->n++;
        p += len;
        if (*p == ',')
            p++;
    }
    return KK_OK;
}

enum kk_err srv_addr_list_check(const char *list, const char *what, struct kk_buf *err)
{
    struct addr_list l;
    return addr_list_parse(list, what, &l, err);
}

static int addr_in(const struct addr_list *l, const unsigned char a[16])
{
    for (size_t i = 0; i < l->n; i++)
        if (!memcmp(l->a[i], a, 16))
            return 1;
    return 0;
}

static int addr_is_loopback(const unsigned char a[16])
{
    static const unsigned char v6_loop[16] = {[15] = 1};
    static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    return !memcmp(a, v6_loop, 16) || (!memcmp(a, v4_mapped, 12) && a[12] == 127);
}

/* The count of a (conn_lock held); create makes one at 0 when missing. */
static struct addr_count **addr_bucket(struct srv_server *s, const unsigned char a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a: only spreads buckets, no secret needed */
    for (int i = 0; i < 16; i++)
        h = (h ^ a[i]) * 16777619u;
    return &s->addrs[h % ADDR_BUCKETS];
}

static struct addr_count *addr_count(struct srv_server *s, const unsigned char a[16], int create)
{
    struct addr_count **b = addr_bucket(s, a);
    for (struct addr_count *c = *b; c; c = c->next)
        if (!memcmp(c->a, a, 16))
            return c;
    if (!create)
        return NULL;
    struct addr_count *c = kk_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    memcpy(c->a, a, 16);
    c->next = *b;
    *b = c;
    return c;
}

static void addr_release(struct srv_server *s, const unsigned char a[16])
{
    for (struct addr_count **p = addr_bucket(s, a); *p; p = &(*p)->next) {
        struct addr_count *c = *p;
        if (memcmp(c->a, a, 16))
            continue;
        if (--c->n == 0) {
            *p = c->next;
            kk_free(c);
        }
        return;
    }
}

/* --- reply helpers ------------------------------------------------------------------- */

static void reply_init(struct srv_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    kk_buf_init(&r->body, 0);
}

static void reply_release(struct srv_reply *r)
{
    kk_buf_release(&r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        kk_free(r->headers[i][0]);
        kk_free(r->headers[i][1]);
    }
    r->nheaders = 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void srv_reply_header(struct srv_reply *out, const char *name, const char *value)
{
    if (out->nheaders == SRV_MAX_HEADERS)
        KK_BUG("too many reply headers");
    out->headers[out->nheaders][0] = kk_strdup(name);
    out->headers[out->nheaders][1] = kk_strdup(value);
    out->nheaders++;
}

void srv_reply_text(struct srv_reply *out, int status, const char *content_type, const char *text,
                    size_t len)
{
    out->status = status;
    out->content_type = content_type;
    kk_buf_reset(&out->body);
    if (kk_buf_add(&out->body, text, len)) {
        out->status = 500;
        kk_buf_reset(&out->body);
    }
}

void srv_reply_json(struct srv_reply *out, int status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) {
        srv_reply_text(out, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
        return;
    }
    srv_reply_text(out, status, "application/json", text, strlen(text));
    cJSON_free(text);
}

void srv_reply_error(struct srv_reply *out, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "error", msg)) {
        cJSON_Delete(o);
        o = NULL;
    }
    srv_reply_json(out, status, o);
    if (o)
        out->status = status;
}

/* --- request helpers ------------------------------------------------------------------ */

const char *srv_req_arg(struct srv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *srv_req_header(struct srv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *srv_req_cookie(struct srv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

/* Values: every "[" and "{" opens one, every "," adds one, so values <= opens + commas
 * + 1. A tree costs ~100 bytes a value, so a 5 MiB body of "0,0,0,..." (2.6 million
 * values, 5 KB gzipped) would cost ~250 MiB: refused before it is built. */
int srv_http_json_count(const char *text, size_t len, size_t *values, size_t *depth)
{
    size_t n = 1, d = 0;
    int in_string = 0;
    *depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
            continue;
        }
        if (ch == '"') {
            in_string = 1;
        } else if (ch == '[' || ch == '{') {
            n++;
            if (++d > *depth)
                *depth = d;
        } else if (ch == ']' || ch == '}') {
            if (d)
                d--;
        } else if (ch == ',') {
            n++;
        }
        if (n > SRV_MAX_JSON_VALUES || *depth > SRV_MAX_JSON_DEPTH)
            break;
    }
    *values = n;
    return n <= SRV_MAX_JSON_VALUES && *depth <= SRV_MAX_JSON_DEPTH;
}

cJSON *srv_req_json(struct srv_req *req, struct srv_reply *out)
{
    if (!req->body.len) {
        srv_reply_error(out, 400, "body: empty; a JSON object was expected");
        return NULL;
    }
    if (!kk_utf8_valid(req->body.data, req->body.len)) {
        srv_reply_error(out, 400, "body: not valid UTF-8");
        return NULL;
    }
    size_t values, depth;
    if (!srv_http_json_count(req->body.data, req->body.len, &values, &depth)) {
        if (depth > SRV_MAX_JSON_DEPTH)
            srv_reply_error(out, 400, "body: JSON nesting deeper than %d levels",
                            SRV_MAX_JSON_DEPTH);
        else
            srv_reply_error(out, 413, "body: more than %d JSON values in one request",
                            SRV_MAX_JSON_VALUES);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(req->body.data, req->body.len, &end, 0);
    if (!root) {
        size_t at = end && end >= req->body.data ? (size_t)(end - req->body.data) : 0;
        srv_reply_error(out, 400,
                        "body: not valid JSON (at byte %zu; nesting is limited to %d levels)", at,
                        CJSON_NESTING_LIMIT);
        return NULL;
    }
    /* Only whitespace may follow the value. */
    for (const char *p = end; p && p < req->body.data + req->body.len; p++) {
        if (!strchr(" \t\r\n", *p)) {
            cJSON_Delete(root);
            srv_reply_error(out, 400, "body: not valid JSON (extra data at byte %zu)",
                            (size_t)(p - req->body.data));
            return NULL;
        }
    }
    return root;
}

/* --- routing and authentication -------------------------------------------------------- */

int srv_http_match(const char *pattern, const char *path, struct srv_req *req)
{
    size_t n = 0;
    char *params[SRV_MAX_PARAMS] = {0};
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p == '*') {
            size_t len = strcspn(u, "/");
            if (!len || n == SRV_MAX_PARAMS)
                goto fail;
            params[n] = kk_strndup(u, len);
            if (!params[n++])
                goto fail;
            p++;
            u += len;
        } else if (*p == *u) {
            p++;
            u++;
        } else {
            goto fail;
        }
    }
    if (*p || *u)
        goto fail;
    for (size_t i = 0; i < n; i++)
        req->params[i] = params[i];
    req->nparams = n;
    return 1;
fail:
    for (size_t i = 0; i < n; i++)
        kk_free(params[i]);
    return 0;
}

static const char *bearer(struct srv_req *req)
{
    const char *h = srv_req_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return srv_token_well_formed(h) ? h : NULL;
}

/* Who holds this bearer token: 'k' kiosk, 's' staff, 0 nobody. */
static int token_owner(struct srv_req *req, const char *token)
{
    char hash[SRV_HASH_LEN + 1];
    struct kk_buf who = KK_BUF_INIT;
    int owner = 0;
    srv_token_hash(token, hash);
    if (!srv_store_kiosk_by_token(req->store, hash, &who, NULL))
        owner = 'k';
    else if (!srv_store_staff_by_token(req->store, hash, &who, NULL))
        owner = 's';
    if (owner && who.len < sizeof(req->who))
        memcpy(req->who, kk_buf_str(&who), who.len + 1);
    kk_buf_release(&who);
    return owner;
}

/* The roles of a session's user (req->who), read on every request so a change of roles
 * counts at once: 0 when they allow the route, else 403 (503 without the store). */
static int session_roles(struct req_state *st)
{
    struct srv_req *req = &st->req;
    struct srv_user u;
    enum kk_err rc = srv_store_user_get(req->store, req->who, &u, NULL);
    if (rc == KK_ERR_NOTFOUND) {
        snprintf(st->deny_msg, sizeof(st->deny_msg), "user %s no longer exists", req->who);
        return 401;
    }
    if (rc) {
        snprintf(st->deny_msg, sizeof(st->deny_msg), "store unavailable");
        return 503;
    }
    req->roles = srv_roles_parse(u.role, NULL);
    unsigned need = req->route->who == SRV_ADMIN     ? SRV_ROLE_ADMIN
                    : req->route->who == SRV_SESSION ? SRV_ROLE_OFFICE | SRV_ROLE_ADMIN
                                                     : SRV_ROLE_OFFICE;
    if (!(req->roles & need)) {
        snprintf(st->deny_msg, sizeof(st->deny_msg), "%s: needs the %s role", req->route->pattern,
                 need == SRV_ROLE_ADMIN    ? "admin"
                 : need == SRV_ROLE_OFFICE ? "office"
                                           : "office or admin");
        return 403;
    }
    if (req->route->who == SRV_EDITOR)
        snprintf(req->role, sizeof(req->role), "office");
    return 0;
}

/* Decides whether the caller may use the route: 0, or the status to answer. */
static int authorize(struct req_state *st, const unsigned char peer[16])
{
    struct srv_req *req = &st->req;
    const char *token;
    switch (req->route->who) {
    case SRV_ANYONE:
        return 0;
    case SRV_LOCAL:
        /* Behind a proxy on this machine every visitor's peer is loopback: a forwarded
         * request is never local. */
        if (req->forwarded) {
            snprintf(st->deny_msg, sizeof(st->deny_msg),
                     "only for programs on the server itself, not through a proxy");
            return 403;
        }
        if (addr_in(&req->srv->metrics_allow, peer))
            return 0;
        /* A loopback peer must also have asked for a loopback name: a proxy that adds no
         * forwarding header usually passes on the public Host. */
        if (!addr_is_loopback(peer) || !srv_http_host_is_local(srv_req_header(req, "Host"))) {
            snprintf(st->deny_msg, sizeof(st->deny_msg),
                     "only for programs on the server itself (or --metrics-allow)");
            return 403;
        }
        return 0;
    case SRV_KIOSK:
    case SRV_STAFF: {
        int want = req->route->who == SRV_KIOSK ? 'k' : 's';
        token = bearer(req);
        if (!token)
            return 401;
        int owner = token_owner(req, token);
        if (!owner)
            return 401;
        return owner == want ? 0 : 403;
    }
    case SRV_EDITOR:
        /* A staff token when one is sent, otherwise the office session. */
        token = bearer(req);
        if (token) {
            int owner = token_owner(req, token);
            if (owner == 's')
                snprintf(req->role, sizeof(req->role), "staff");
            return owner == 's' ? 0 : owner ? 403 : 401;
        }
        /* fall through */
    case SRV_OFFICE:
    case SRV_ADMIN:
    case SRV_SESSION: {
        const char *sid = srv_req_cookie(req, "kepu_session");
        if (sid && srv_token_well_formed(sid)) {
            char hash[SRV_HASH_LEN + 1];
            struct kk_buf user = KK_BUF_INIT, csrf = KK_BUF_INIT;
            srv_token_hash(sid, hash);
            int status = 401;
            if (!srv_store_session_get(req->store, hash, kk_clock_wall_ms(), &user, &csrf, NULL) &&
                user.len < sizeof(req->who)) {
                memcpy(req->who, kk_buf_str(&user), user.len + 1);
                snprintf(req->csrf, sizeof(req->csrf), "%s", kk_buf_str(&csrf));
                const char *sent = srv_req_header(req, "X-CSRF-Token");
                status = session_roles(st);
                if (!status && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
                    (!sent || strcmp(sent, kk_buf_str(&csrf)))) {
                    status = 403;
                    snprintf(st->deny_msg, sizeof(st->deny_msg),
                             "X-CSRF-Token header missing or wrong");
                }
            }
            kk_buf_release(&user);
            kk_buf_release(&csrf);
            return status;
        }
        /* A valid kiosk or staff token is a known caller without the right: 403. */
        token = bearer(req);
        return token && token_owner(req, token) ? 403 : 401;
    }
    }
    return 401;
}

/* --- connection deadlines ------------------------------------------------------------- */

static void conn_phase(struct srv_server *s, struct conn *cn, enum conn_phase phase,
                       uint64_t grace_ms)
{
    if (!cn)
        return;
    pthread_mutex_lock(&s->conn_lock);
    cn->phase = phase;
    cn->since_ms = kk_clock_mono_ms();
    cn->grace_ms = grace_ms;
    atomic_store(&cn->received, 0);
    pthread_mutex_unlock(&s->conn_lock);
}

/* True when a body is behind: after its grace it must average SRV_MIN_UPLOAD_BPS. */
static int body_overdue(const struct conn *cn, uint64_t now_ms)
{
    uint64_t allowed = cn->grace_ms + atomic_load(&cn->received) * 1000 / SRV_MIN_UPLOAD_BPS;
    return now_ms - cn->since_ms > allowed;
}

/* Every SWEEP_MS: shuts down connections past a deadline. shutdown() (never close())
 * makes MHD see the end of the stream and close the connection itself; the list is held
 * locked, and MHD takes a connection out of it before closing its socket. */
static void *sweep(void *arg)
{
    struct srv_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        usleep(SWEEP_MS * 1000);
        uint64_t now = kk_clock_mono_ms();
        pthread_mutex_lock(&s->conn_lock);
        for (struct conn *cn = s->conns; cn; cn = cn->next) {
            if (cn->cut || cn->fd < 0)
                continue;
            if (cn->phase == PHASE_HEADERS &&
                now - cn->since_ms > (uint64_t)s->header_timeout_s * 1000) {
                atomic_fetch_add(&s->header_cut, 1);
            } else if (cn->phase == PHASE_BODY && body_overdue(cn, now)) {
                atomic_fetch_add(&s->slow_cut, 1);
            } else {
                continue;
            }
            shutdown(cn->fd, SHUT_RDWR);
            cn->cut = 1;
        }
        pthread_mutex_unlock(&s->conn_lock);
    }
    return NULL;
}

/* --- MHD callbacks -------------------------------------------------------------------- */

/* Microseconds on the monotonic clock, for request durations: measured, never moved by
 * kk_clock_advance (kk_clock counts milliseconds, too coarse for most answers). */
static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void count(struct srv_server *s, struct req_state *st, int status)
{
    size_t cls = (size_t)status / 100;
    if (cls >= STATUS_CLASSES)
        cls = 5;
    struct route_stats *rs = &s->stats[st->route_idx];
    uint64_t us = mono_us() - st->started_us;
    size_t b = 0;
    while (b < NBOUNDS && (double)us > duration_bounds[b] * 1e6)
        b++;
    atomic_fetch_add(&rs->by_class[cls], 1);
    atomic_fetch_add(&rs->buckets[b], 1);
    atomic_fetch_add(&rs->us_sum, us);
}

/* Queues r. close: end the connection after it (a refusal whose body is never read). */
static enum MHD_Result send_reply(struct srv_server *s, struct MHD_Connection *c,
                                  struct req_state *st, struct srv_reply *r, int close)
{
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(r->length, r->fd, r->offset);
        if (resp)
            r->fd = -1; /* MHD closes it */
    } else {
        resp = MHD_create_response_from_buffer(r->body.len, r->body.data ? r->body.data : "",
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (!resp)
        return MHD_NO;
    int has_cache = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!r->headers[i][0] || !r->headers[i][1])
            continue;
        has_cache |= !strcasecmp(r->headers[i][0], MHD_HTTP_HEADER_CACHE_CONTROL);
        MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]);
    }
    if (!has_cache)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->body.len || r->fd >= 0 || r->length)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (st && st->req.https)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (st)
        conn_phase(s, st->conn, PHASE_REPLY, 0);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    count(s, st, r->status);
    return ret;
}

static enum MHD_Result reply_now(struct srv_server *s, struct MHD_Connection *c,
                                 struct req_state *st, int status, const char *msg, int close)
{
    struct srv_reply r;
    reply_init(&r);
    if (msg && *msg)
        srv_reply_error(&r, status, "%s", msg);
    else
        r.status = status;
    if (status == 503)
        srv_reply_header(&r, "Retry-After", "5");
    enum MHD_Result ret = send_reply(s, c, st, &r, close);
    reply_release(&r);
    return ret;
}

int srv_http_forwarded_for(const char *xff, char out[SRV_ADDR_TEXT_LEN])
{
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char text[SRV_ADDR_TEXT_LEN];
    size_t len = strcspn(last, " \t");
    unsigned char a[16];
    if (len >= sizeof(text))
        return 0;
    memcpy(text, last, len);
    text[len] = '\0';
    if (!addr_parse(text, a))
        return 0;
    memcpy(out, text, len + 1);
    return 1;
}

int srv_http_host_is_local(const char *host)
{
    if (!host)
        return 1; /* HTTP/1.0 without Host: only a local program talks to us so */
    char name[SRV_ADDR_TEXT_LEN];
    size_t len;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end)
            return 0;
        len = (size_t)(end - host - 1);
        host++;
    } else {
        len = strcspn(host, ":");
    }
    if (!len || len >= sizeof(name))
        return 0;
    memcpy(name, host, len);
    name[len] = '\0';
    unsigned char a[16];
    return !strcasecmp(name, "localhost") || (addr_parse(name, a) && addr_is_loopback(a));
}

/* Who is calling and how: peer, client (behind a trusted proxy), https, forwarded. */
static void identify(struct srv_server *s, struct srv_req *req, const struct sockaddr *sa,
                     unsigned char peer[16])
{
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->peer,
                  sizeof(req->peer));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->peer,
                  sizeof(req->peer));
    memcpy(req->client, req->peer, sizeof(req->client));
    addr_of(sa, peer);
    const char *xff = srv_req_header(req, "X-Forwarded-For");
    req->forwarded = xff || srv_req_header(req, "Forwarded") || srv_req_header(req, "X-Real-IP");
    if (!addr_in(&s->proxies, peer))
        return;
    if (xff)
        srv_http_forwarded_for(xff, req->client);
    const char *proto = srv_req_header(req, "X-Forwarded-Proto");
    req->https = proto && !strcasecmp(proto, "https");
}

/* Sets up a new request: route, credentials, declared size. Returns 0 to go on reading
 * the body, or a status to answer at once, before any of the body is read (then
 * st->deny_msg may say why). */
static int begin(struct srv_server *s, struct req_state *st, struct MHD_Connection *c,
                 const char *url, const char *method)
{
    struct srv_req *req = &st->req;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const union MHD_ConnectionInfo *sc =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    unsigned char peer[16];
    req->srv = s;
    req->store = s->store;
    req->conn = c;
    req->method = method;
    kk_buf_init(&req->body, 0);
    kk_buf_init(&st->raw, 0);
    st->route_idx = s->nroutes;
    st->conn = sc ? sc->socket_context : NULL;
    identify(s, req, ci ? ci->client_addr : NULL, peer);
    if (atomic_load(&s->connections) > (long)s->max_conns) {
        atomic_fetch_add(&s->refused_busy, 1);
        snprintf(st->deny_msg, sizeof(st->deny_msg),
                 "server busy: too many connections open (%u); try again shortly", s->max_conns);
        return 503;
    }

    int path_found = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct srv_route *r = &s->routes[i];
        int same =
            !strcmp(r->method, method) || (!strcmp(r->method, "GET") && !strcmp(method, "HEAD"));
        struct srv_req probe = {0};
        if (!srv_http_match(r->pattern, url, &probe))
            continue;
        path_found = 1;
        if (!same) {
            for (size_t k = 0; k < probe.nparams; k++)
                kk_free(probe.params[k]);
            continue;
        }
        memcpy(req->params, probe.params, sizeof(req->params));
        req->nparams = probe.nparams;
        req->route = r;
        st->route_idx = i;
        break;
    }
    if (!req->route)
        return path_found ? 405 : 404;

    const char *enc = srv_req_header(req, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc && !strcasecmp(enc, "gzip"))
        st->gzip = 1;
    else if (enc && strcasecmp(enc, "identity")) {
        snprintf(st->deny_msg, sizeof(st->deny_msg), "Content-Encoding: only gzip is accepted");
        return 415;
    }
    size_t limit = req->route->max_body;
    kk_buf_init(&st->raw, limit);
    kk_buf_init(&req->body, limit);
    const char *cl = srv_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        unsigned long long declared = strtoull(cl, &end, 10);
        if (!end || *end || !*cl) {
            snprintf(st->deny_msg, sizeof(st->deny_msg), "Content-Length: not a number");
            return 400;
        }
        if (declared > limit) {
            atomic_fetch_add(&s->too_big, 1);
            snprintf(st->deny_msg, sizeof(st->deny_msg),
                     "body: larger than this call accepts (%zu bytes)", limit);
            return 413;
        }
    }
    int deny = authorize(st, peer);
    if (deny) {
        kk_info("http", "%d %s %s from %s", deny, method, url, req->client);
        return deny;
    }
    /* The body: before any credentials only the short header grace, after them the idle
     * timeout; then it must keep up SRV_MIN_UPLOAD_BPS on average. */
    int anonymous = req->route->who == SRV_ANYONE || req->route->who == SRV_LOCAL;
    conn_phase(s, st->conn, PHASE_BODY, (anonymous ? s->header_timeout_s : s->timeout_s) * 1000ull);
    return 0;
}

static int inflate_body(struct req_state *st)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return 500;
    z.next_in = (Bytef *)st->raw.data;
    z.avail_in = (uInt)st->raw.len;
    int status = 0, zr = Z_OK;
    unsigned char chunk[65536];
    while (zr != Z_STREAM_END) {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            status = 400;
            break;
        }
        size_t got = sizeof(chunk) - z.avail_out;
        enum kk_err rc = kk_buf_add(&st->req.body, chunk, got);
        if (rc) {
            status = rc == KK_ERR_TOOBIG ? 413 : 500;
            break;
        }
        if (zr == Z_OK && got == 0 && z.avail_in == 0) {
            status = 400; /* truncated stream */
            break;
        }
    }
    if (!status && z.avail_in)
        status = 400; /* data after the gzip stream */
    inflateEnd(&z);
    return status;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct srv_server *s = cls;
    struct req_state *st = *con_cls;
    if (!st) {
        st = kk_calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        atomic_fetch_add(&s->in_flight, 1);
        st->started_us = mono_us();
        int early = begin(s, st, c, url, method);
        if (early)
            return reply_now(s, c, st, early, st->deny_msg, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        if (st->conn) {
            atomic_fetch_add(&st->conn->received, *upload_size);
            if (body_overdue(st->conn, kk_clock_mono_ms())) {
                atomic_fetch_add(&s->slow_cut, 1);
                kk_warn("http", "%s %s from %s: upload too slow, closing", method, url,
                        st->req.client);
                return MHD_NO;
            }
        }
        if (!st->too_big) {
            struct kk_buf *b = st->gzip ? &st->raw : &st->req.body;
            enum kk_err rc = kk_buf_add(b, upload, *upload_size);
            if (rc == KK_ERR_TOOBIG)
                st->too_big = 1;
            else if (rc)
                return MHD_NO;
        }
        *upload_size = 0;
        /* A body without Content-Length that outgrows the limit: MHD cannot answer in
         * the middle of a body, so the rest is dropped up to a bound (still under the
         * rate deadline) and 413 follows; past the bound, hang up. */
        if (st->too_big && st->conn &&
            atomic_load(&st->conn->received) > 2 * (uint64_t)st->req.route->max_body + 65536) {
            kk_warn("http", "%s %s from %s: body far over %zu bytes, closing", method, url,
                    st->req.client, st->req.route->max_body);
            return MHD_NO;
        }
        return MHD_YES;
    }

    /* The whole request is in. */
    conn_phase(s, st->conn, PHASE_REPLY, 0);
    if (st->too_big) {
        atomic_fetch_add(&s->too_big, 1);
        return reply_now(s, c, st, 413, "body: larger than this call accepts", 1);
    }
    if (st->gzip) {
        int status = inflate_body(st);
        if (status == 413)
            atomic_fetch_add(&s->too_big, 1);
        if (status)
            return reply_now(s, c, st, status,
                             status == 413 ? "body: larger than this call accepts once"
                                             " decompressed"
                                           : "body: not a valid gzip stream",
                             0);
    }
    struct srv_reply r;
    reply_init(&r);
    r.status = 500;
    st->req.route->handler(&st->req, &r);
    enum MHD_Result ret = send_reply(s, c, st, &r, 0);
    reply_release(&r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct srv_server *s = cls;
    struct req_state *st = *con_cls;
    if (!st)
        return;
    /* The connection may carry another request: its header block has a deadline again. */
    conn_phase(s, st->conn, PHASE_HEADERS, 0);
    (void)c;
    for (size_t i = 0; i < st->req.nparams; i++)
        kk_free(st->req.params[i]);
    kk_buf_release(&st->req.body);
    kk_buf_release(&st->raw);
    kk_free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* Refuses a new connection from an address that already holds max_per_addr (a trusted
 * proxy speaks for many clients and is not limited). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    (void)len;
    struct srv_server *s = cls;
    unsigned char a[16];
    if (!addr_of(sa, a) || addr_in(&s->proxies, a))
        return MHD_YES;
    pthread_mutex_lock(&s->conn_lock);
    struct addr_count *n = addr_count(s, a, 0);
    int full = n && n->n >= s->max_per_addr;
    pthread_mutex_unlock(&s->conn_lock);
    if (full)
        atomic_fetch_add(&s->refused_per_addr, 1);
    return full ? MHD_NO : MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct srv_server *s = cls;
    struct conn *cn = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
        cn = kk_calloc(1, sizeof(*cn));
        *socket_context = cn;
        if (!cn)
            return; /* untracked: MHD's idle timeout still ends it */
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        cn->fd = fd ? fd->connect_fd : -1;
        cn->since_ms = kk_clock_mono_ms();
        pthread_mutex_lock(&s->conn_lock);
        if (ci && addr_of(ci->client_addr, cn->addr) && !addr_in(&s->proxies, cn->addr)) {
            struct addr_count *n = addr_count(s, cn->addr, 1);
            if (n) {
                n->n++;
                cn->limited = 1;
            }
        }
        cn->next = s->conns;
        if (s->conns)
            s->conns->prev = cn;
        s->conns = cn;
        pthread_mutex_unlock(&s->conn_lock);
        return;
    }
    atomic_fetch_sub(&s->connections, 1);
    if (!cn)
        return;
    pthread_mutex_lock(&s->conn_lock);
    if (cn->limited)
        addr_release(s, cn->addr);
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        s->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    pthread_mutex_unlock(&s->conn_lock);
    kk_free(cn);
    *socket_context = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    kk_warn("mhd", "%s", msg);
}

/* --- life cycle ------------------------------------------------------------------------ */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6,
                        struct kk_buf *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || colon == listen)
        return kk_fail(err, KK_ERR_INVALID, "--listen %s: expected ADDR:PORT", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    long port;
    if (kk_parse_long(colon + 1, 0, 65535, &port) < 0)
        return kk_fail(err, KK_ERR_INVALID, "--listen %s: port must be 0 to 65535", listen);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
        return kk_fail(err, KK_ERR_INVALID, "--listen %s: not a numeric IP address", listen);
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (*v6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    return KK_OK;
}

enum kk_err srv_server_start(struct srv_server **out, const struct srv_config *cfg,
                             struct srv_store *store, const struct srv_route *routes,
                             size_t nroutes, struct kk_buf *err)
{
    struct sockaddr_storage ss;
    int v6 = 0;
    *out = NULL;
    enum kk_err rc = parse_listen(cfg->listen, &ss, &v6, err);
    if (rc)
        return rc;
    struct srv_server *s = kk_calloc(1, sizeof(*s));
    if (!s || !(s->stats = kk_calloc(nroutes + 1, sizeof(*s->stats)))) {
        kk_free(s);
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    s->store = store;
    s->routes = routes;
    s->nroutes = nroutes;
    s->timeout_s = cfg->timeout_s;
    s->header_timeout_s = cfg->header_timeout_s ? cfg->header_timeout_s : 10;
    s->max_conns = cfg->max_conns;
    s->max_per_addr = cfg->max_per_addr ? cfg->max_per_addr : cfg->max_conns;
    s->started_ms = kk_clock_mono_ms();
    pthread_mutex_init(&s->conn_lock, NULL);
    if ((rc = addr_list_parse(cfg->trusted_proxies, "--trusted-proxy", &s->proxies, err)) ||
        (rc = addr_list_parse(cfg->metrics_allow, "--metrics-allow", &s->metrics_allow, err)))
        goto fail;
    /* Past max_conns a connection is still taken, to be told 503; past the reserve MHD
     * refuses it outright. */
    unsigned hard_limit = cfg->max_conns + cfg->max_conns / 8 + 16;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, hard_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->d) {
        rc = kk_fail(err, KK_ERR_NET, "--listen %s: cannot listen there (in use?)", cfg->listen);
        goto fail;
    }
    if (pthread_create(&s->sweeper, NULL, sweep, s)) {
        MHD_stop_daemon(s->d);
        rc = kk_fail(err, KK_ERR_NOMEM, "cannot start the deadline thread");
        goto fail;
    }
    s->sweeper_running = 1;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    *out = s;
    return KK_OK;
fail:
    pthread_mutex_destroy(&s->conn_lock);
    kk_free(s->stats);
    kk_free(s);
    return rc;
}

unsigned srv_server_port(const struct srv_server *s)
{
    return s->port;
}

void srv_server_stop(struct srv_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    MHD_socket ls = MHD_quiesce_daemon(s->d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    uint64_t until = kk_clock_mono_ms() + grace_ms;
    while (atomic_load(&s->in_flight) > 0 && kk_clock_mono_ms() < until)
        usleep(10000);
    atomic_store(&s->stopping, 1);
    if (s->sweeper_running)
        pthread_join(s->sweeper, NULL);
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->conn_lock);
    kk_free(s->stats);
    kk_free(s);
}

void srv_server_count_events(struct srv_server *s, size_t accepted, size_t duplicates,
                             size_t rejected)
{
    atomic_fetch_add(&s->ev_accepted, accepted);
    atomic_fetch_add(&s->ev_duplicates, duplicates);
    atomic_fetch_add(&s->ev_rejected, rejected);
}

void srv_server_metrics(struct srv_server *s, struct kk_buf *out)
{
    kk_buf_adds(out, "# HELP kepu_http_requests_total Requests answered, by route and status"
                     " class.\n# TYPE kepu_http_requests_total counter\n");
    for (size_t i = 0; i <= s->nroutes; i++) {
        const char *name = i < s->nroutes ? s->routes[i].name : "unmatched";
        for (int c = 1; c < STATUS_CLASSES; c++) {
            unsigned long long n = atomic_load(&s->stats[i].by_class[c]);
            if (n)
                kk_buf_addf(out, "kepu_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
                            name, c, n);
        }
    }
    kk_buf_adds(out, "# HELP kepu_http_request_duration_seconds Time from a request's header"
                     " block to its answer being queued, by route.\n"
                     "# TYPE kepu_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= s->nroutes; i++) {
        const char *name = i < s->nroutes ? s->routes[i].name : "unmatched";
        unsigned long long total = 0;
        for (size_t b = 0; b <= NBOUNDS; b++) {
            total += atomic_load(&s->stats[i].buckets[b]);
            if (b < NBOUNDS)
                kk_buf_addf(out,
                            "kepu_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"}"
                            " %llu\n",
                            name, duration_bounds[b], total);
        }
        kk_buf_addf(out,
                    "kepu_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                    "kepu_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                    "kepu_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                    name, total, name, (double)atomic_load(&s->stats[i].us_sum) / 1e6, name, total);
    }
    kk_buf_addf(out,
                "# HELP kepu_events_received_total Usage events received, by outcome.\n"
                "# TYPE kepu_events_received_total counter\n"
                "kepu_events_received_total{result=\"accepted\"} %llu\n"
                "kepu_events_received_total{result=\"duplicate\"} %llu\n"
                "kepu_events_received_total{result=\"rejected\"} %llu\n"
                "# HELP kepu_http_in_flight Requests being handled now.\n"
                "# TYPE kepu_http_in_flight gauge\nkepu_http_in_flight %ld\n"
                "# HELP kepu_http_connections Open client connections.\n"
                "# TYPE kepu_http_connections gauge\nkepu_http_connections %ld\n"
                "# HELP kepu_http_bodies_too_large_total Requests refused with 413.\n"
                "# TYPE kepu_http_bodies_too_large_total counter\n"
                "kepu_http_bodies_too_large_total %llu\n"
                "# HELP kepu_http_slow_uploads_cut_total Uploads closed for being too slow.\n"
                "# TYPE kepu_http_slow_uploads_cut_total counter\n"
                "kepu_http_slow_uploads_cut_total %llu\n"
                "# HELP kepu_http_header_deadline_cut_total Connections closed for not"
                " sending a whole header block in time.\n"
                "# TYPE kepu_http_header_deadline_cut_total counter\n"
                "kepu_http_header_deadline_cut_total %llu\n"
                "# HELP kepu_http_connections_refused_total Connections refused, by reason.\n"
                "# TYPE kepu_http_connections_refused_total counter\n"
                "kepu_http_connections_refused_total{reason=\"per_address\"} %llu\n"
                "kepu_http_connections_refused_total{reason=\"busy\"} %llu\n"
                "# HELP kepu_uptime_seconds Seconds since the server started.\n"
                "# TYPE kepu_uptime_seconds gauge\nkepu_uptime_seconds %llu\n",
                atomic_load(&s->ev_accepted), atomic_load(&s->ev_duplicates),
                atomic_load(&s->ev_rejected), atomic_load(&s->in_flight),
                atomic_load(&s->connections), atomic_load(&s->too_big), atomic_load(&s->slow_cut),
                atomic_load(&s->header_cut), atomic_load(&s->refused_per_addr),
                atomic_load(&s->refused_busy),
                (unsigned long long)((kk_clock_mono_ms() - s->started_ms) / 1000));
}
