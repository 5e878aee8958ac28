#include "srv_http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/utf8.h"
#include "srv_auth.h"

#define STATUS_CLASSES 6            /* index status / 100: 1xx..5xx */
#define MIN_UPLOAD_BPS (16u * 1024) /* slower uploads are cut off (see deadline) */

struct route_stats {
    atomic_ullong by_class[STATUS_CLASSES];
    atomic_ullong ms_sum;
};

struct srv_server {
    struct MHD_Daemon *d;
    struct srv_store *store;
    const struct srv_route *routes;
    size_t nroutes;
    unsigned timeout_s;
    unsigned port;
    uint64_t started_ms;
    atomic_long in_flight;
    atomic_long connections;
    atomic_ullong ev_accepted, ev_duplicates, ev_rejected;
    atomic_ullong slow_cut, too_big;
    struct route_stats *stats; /* nroutes + 1: the last counts unmatched requests */
};

/* Per-request state kept by MHD between calls of the access handler. */
struct req_state {
    struct srv_req req;
    size_t route_idx;   /* nroutes when no route matched */
    int deny;           /* a status to answer once the body is consumed (401/403/...) */
    char deny_msg[160]; /* "" for a bare status */
    int gzip;
    int too_big;
    uint64_t received; /* raw body bytes seen */
    uint64_t started_ms;
    uint64_t deadline_ms;
    struct kk_buf raw; /* the compressed body when gzip */
};

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

/* Matches path against pattern; on success copies the "*" segments into req->params. */
static int match(const char *pattern, const char *path, struct srv_req *req)
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

static int is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

/* Decides whether the caller may use the route: 0, or the status to answer. */
static int authorize(struct req_state *st, const struct sockaddr *client)
{
    struct srv_req *req = &st->req;
    const char *token;
    switch (req->route->who) {
    case SRV_ANYONE:
        return 0;
    case SRV_LOCAL:
        return is_loopback(client) ? 0 : 403;
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
    case SRV_OFFICE: {
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
                status = 0;
                if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
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

/* --- MHD callbacks -------------------------------------------------------------------- */

static void count(struct srv_server *s, struct req_state *st, int status)
{
    size_t cls = (size_t)status / 100;
    if (cls >= STATUS_CLASSES)
        cls = 5;
    struct route_stats *rs = &s->stats[st ? st->route_idx : s->nroutes];
    atomic_fetch_add(&rs->by_class[cls], 1);
    if (st)
        atomic_fetch_add(&rs->ms_sum, kk_clock_mono_ms() - st->started_ms);
}

static enum MHD_Result send_reply(struct srv_server *s, struct MHD_Connection *c,
                                  struct req_state *st, struct srv_reply *r)
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
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    count(s, st, r->status);
    return ret;
}

static enum MHD_Result reply_now(struct srv_server *s, struct MHD_Connection *c,
                                 struct req_state *st, int status, const char *msg)
{
    struct srv_reply r;
    reply_init(&r);
    if (msg && *msg)
        srv_reply_error(&r, status, "%s", msg);
    else
        r.status = status;
    enum MHD_Result ret = send_reply(s, c, st, &r);
    reply_release(&r);
    return ret;
}

/* Sets up a new request: route, credentials, declared size. Returns 0 to go on reading
 * the body, or a status to answer at once (before the body is read). */
static int begin(struct srv_server *s, struct req_state *st, struct MHD_Connection *c,
                 const char *url, const char *method)
{
    struct srv_req *req = &st->req;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *client = ci ? ci->client_addr : NULL;
    req->srv = s;
    req->store = s->store;
    req->conn = c;
    req->method = method;
    kk_buf_init(&req->body, 0);
    kk_buf_init(&st->raw, 0);
    st->route_idx = s->nroutes;
    if (client && client->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)client)->sin_addr, req->client,
                  sizeof(req->client));
    else if (client && client->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)client)->sin6_addr, req->client,
                  sizeof(req->client));

    int path_found = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct srv_route *r = &s->routes[i];
        int same =
            !strcmp(r->method, method) || (!strcmp(r->method, "GET") && !strcmp(method, "HEAD"));
        struct srv_req probe = {0};
        if (!match(r->pattern, url, &probe))
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
    if (!req->route) {
        /* Any body is read and dropped (bounded in on_request) within the idle timeout. */
        st->deadline_ms = st->started_ms + s->timeout_s * 1000ull;
        st->deny = path_found ? 405 : 404;
        return 0;
    }

    const char *enc = srv_req_header(req, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc && !strcasecmp(enc, "gzip"))
        st->gzip = 1;
    else if (enc && strcasecmp(enc, "identity"))
        return 415;
    size_t limit = req->route->max_body;
    kk_buf_init(&st->raw, limit);
    kk_buf_init(&req->body, limit);
    const char *cl = srv_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = 0;
    if (cl) {
        char *end = NULL;
        declared = strtoull(cl, &end, 10);
        if (!end || *end)
            return 400;
        if (declared > limit) {
            atomic_fetch_add(&s->too_big, 1);
            return 413;
        }
    }
    /* A body must arrive at MIN_UPLOAD_BPS at least, after a grace of the idle timeout. */
    uint64_t expect = cl ? declared : limit;
    st->deadline_ms = st->started_ms + s->timeout_s * 1000ull + expect * 1000 / MIN_UPLOAD_BPS;
    st->deny = authorize(st, client);
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
        st->started_ms = kk_clock_mono_ms();
        int early = begin(s, st, c, url, method);
        if (early)
            return reply_now(s, c, st, early,
                             early == 413   ? "body: larger than this call accepts"
                             : early == 415 ? "Content-Encoding: only gzip is accepted"
                                            : "Content-Length: not a number");
        return MHD_YES;
    }
    if (*upload_size) {
        if (kk_clock_mono_ms() > st->deadline_ms) {
            atomic_fetch_add(&s->slow_cut, 1);
            kk_warn("http", "%s %s from %s: upload too slow, closing", method, url, st->req.client);
            return MHD_NO;
        }
        st->received += *upload_size;
        if (!st->deny && !st->too_big) {
            struct kk_buf *b = st->gzip ? &st->raw : &st->req.body;
            enum kk_err rc = kk_buf_add(b, upload, *upload_size);
            if (rc == KK_ERR_TOOBIG)
                st->too_big = 1;
            else if (rc)
                return MHD_NO;
        }
        *upload_size = 0;
        /* Discard a refused body only up to a bound, then hang up. */
        size_t limit = st->req.route ? st->req.route->max_body : 0;
        if ((st->too_big || st->deny) && st->received > 2 * (uint64_t)limit + 65536)
            return MHD_NO;
        return MHD_YES;
    }

    /* The whole request is in. */
    if (st->deny)
        return reply_now(s, c, st, st->deny, st->deny_msg);
    if (st->too_big) {
        atomic_fetch_add(&s->too_big, 1);
        return reply_now(s, c, st, 413, "body: larger than this call accepts");
    }
    if (st->gzip) {
        int status = inflate_body(st);
        if (status == 413)
            atomic_fetch_add(&s->too_big, 1);
        if (status)
            return reply_now(s, c, st, status,
                             status == 413 ? "body: larger than this call accepts once"
                                             " decompressed"
                                           : "body: not a valid gzip stream");
    }
    struct srv_reply r;
    reply_init(&r);
    r.status = 500;
    st->req.route->handler(&st->req, &r);
    enum MHD_Result ret = send_reply(s, c, st, &r);
    reply_release(&r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    struct srv_server *s = cls;
    struct req_state *st = *con_cls;
    if (!st)
        return;
    for (size_t i = 0; i < st->req.nparams; i++)
        kk_free(st->req.params[i]);
    kk_buf_release(&st->req.body);
    kk_buf_release(&st->raw);
    kk_free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)c;
    (void)socket_context;
    struct srv_server *s = cls;
    atomic_fetch_add(&s->connections, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
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
    s->started_ms = kk_clock_mono_ms();
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_conns, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    if (!s->d) {
        kk_free(s->stats);
        kk_free(s);
        return kk_fail(err, KK_ERR_NET, "--listen %s: cannot listen there (in use?)", cfg->listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    *out = s;
    return KK_OK;
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
    MHD_stop_daemon(s->d);
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
    kk_buf_adds(out, "# HELP kepu_http_request_duration_ms_total Time spent answering, by"
                     " route.\n# TYPE kepu_http_request_duration_ms_total counter\n");
    for (size_t i = 0; i < s->nroutes; i++)
        kk_buf_addf(out, "kepu_http_request_duration_ms_total{route=\"%s\"} %llu\n",
                    s->routes[i].name, atomic_load(&s->stats[i].ms_sum));
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
                "# HELP kepu_uptime_seconds Seconds since the server started.\n"
                "# TYPE kepu_uptime_seconds gauge\nkepu_uptime_seconds %llu\n",
                atomic_load(&s->ev_accepted), atomic_load(&s->ev_duplicates),
                atomic_load(&s->ev_rejected), atomic_load(&s->in_flight),
                atomic_load(&s->connections), atomic_load(&s->too_big), atomic_load(&s->slow_cut),
                (unsigned long long)((kk_clock_mono_ms() - s->started_ms) / 1000));
}
