/* The HTTP engine of kepu-server on libmicrohttpd: a thread pool, connection limits and
 * timeouts, request bodies read into size-capped buffers (gzip inflated with a cap), the
 * static route table matched and its "who may call" enforced before any body is read,
 * and replies turned into MHD responses. Handlers (srv_api.c) see only srv_req/srv_reply. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/limits.h"
#include "srv_store.h"

/* Who may call a route. */
enum srv_who {
    SRV_ANYONE,  /* no credentials */
    SRV_LOCAL,   /* only from a loopback address */
    SRV_KIOSK,   /* a kiosk's bearer token */
    SRV_STAFF,   /* a staff user's bearer token */
    SRV_OFFICE,  /* a login session (cookie) of a user with the office role and, unless GET,
                    the CSRF header */
    SRV_EDITOR,  /* SRV_OFFICE or SRV_STAFF (the content studio): req->role says which */
    SRV_ADMIN,   /* as SRV_OFFICE, of a user with the admin role (users and keys) */
    SRV_SESSION, /* as SRV_OFFICE, of any user who may log in (office or admin) */
};

struct srv_server;
struct srv_req;
struct srv_reply;

typedef void (*srv_handler_fn)(struct srv_req *req, struct srv_reply *out);

/* One row of the route table. pattern segments "*" match one path segment, which the
 * handler gets in req->params. */
struct srv_route {
    const char *method; /* "GET" (also answers HEAD) or "POST" */
    const char *pattern;
    srv_handler_fn handler;
    enum srv_who who;
    size_t max_body;  /* bytes after gzip inflation; 0 = no body allowed */
    const char *name; /* for /metrics */
};

#define SRV_MAX_PARAMS  4
#define SRV_MAX_HEADERS 8
#define SRV_CSRF_LEN    64

struct srv_req {
    struct srv_server *srv;
    struct srv_store *store;
    const struct srv_route *route;
    void *conn; /* the MHD connection, for srv_req_arg and srv_req_header */
    const char *method;
    char *params[SRV_MAX_PARAMS]; /* owned */
    size_t nparams;
    struct kk_buf body;          /* the request body, inflated, NUL-terminated */
    char who[KK_MAX_ID_LEN + 1]; /* kiosk id or user name, "" for anyone */
    char csrf[SRV_CSRF_LEN + 1]; /* the office session's CSRF token */
    char role[16];               /* "office" or "staff" for SRV_EDITOR routes, else "" */
    unsigned roles;              /* a session's user's roles (SRV_ROLE_...), else 0 */
    char client[64];             /* client address, for logs and login back-off: the
                                    peer, or what a trusted proxy said in X-Forwarded-For */
    char peer[64];               /* the address the connection came from */
    int https;                   /* a trusted proxy said X-Forwarded-Proto: https */
    int forwarded;               /* a forwarding header (X-Forwarded-For, Forwarded,
                                    X-Real-IP) is present, trusted or not */
};

struct srv_reply {
    int status;
    const char *content_type; /* static string; default application/json */
    struct kk_buf body;
    char *headers[SRV_MAX_HEADERS][2]; /* owned name, value */
    size_t nheaders;
    int fd; /* >= 0: send fd[offset, offset + length) instead */
    uint64_t offset, length;
};

/* Server settings. */
struct srv_config {
    const char *listen;          /* "ADDR:PORT", port 0 picks a free one */
    unsigned threads;            /* thread pool size */
    unsigned timeout_s;          /* idle connection timeout; the grace of an authenticated
                                    upload before it must keep up SRV_MIN_UPLOAD_BPS */
    unsigned header_timeout_s;   /* the whole header block (and an anonymous body's grace)
                                    must arrive within this; also ends idle keep-alives */
    unsigned max_conns;          /* past this many open connections the answer is 503 */
    unsigned max_per_addr;       /* connections at most from one address (not a proxy's) */
    const char *trusted_proxies; /* "ADDR,ADDR": peers whose X-Forwarded-For and
                                    X-Forwarded-Proto are believed; NULL for none */
    const char *metrics_allow;   /* "ADDR,ADDR": peers besides loopback that may read
                                    /metrics; NULL for none */
};

/* An upload slower than this on average (after its grace) is cut off. */
#define SRV_MIN_UPLOAD_BPS (16u * 1024)
/* At most this many addresses in --trusted-proxy and --metrics-allow each. */
#define SRV_MAX_ADDRS 16

/* Checks a comma-separated list of numeric IP addresses (NULL is an empty list).
 * KK_ERR_INVALID naming the bad entry, with what (the option) in the message. */
enum kk_err srv_addr_list_check(const char *list, const char *what, struct kk_buf *err);

/* Starts serving the routes in a background thread pool. On KK_OK *out is running; stop
 * it with srv_server_stop. KK_ERR_INVALID for a bad listen address or address list,
 * KK_ERR_NET when the address cannot be bound, KK_ERR_NOMEM. */
enum kk_err srv_server_start(struct srv_server **out, const struct srv_config *cfg,
                             struct srv_store *store, const struct srv_route *routes,
                             size_t nroutes, struct kk_buf *err);
/* The bound port (useful after listening on port 0). */
unsigned srv_server_port(const struct srv_server *s);
/* Stops accepting connections, lets requests already being handled finish (at most
 * grace_ms), then closes every connection and frees s. s may be NULL. */
void srv_server_stop(struct srv_server *s, unsigned grace_ms);

/* Counters for /metrics (Prometheus text), appended to out. */
void srv_server_metrics(struct srv_server *s, struct kk_buf *out);
/* Adds to the event counters shown in /metrics. */
void srv_server_count_events(struct srv_server *s, size_t accepted, size_t duplicates,
                             size_t rejected);

/* A query-string argument or request header of req, or NULL. */
const char *srv_req_arg(struct srv_req *req, const char *name);
const char *srv_req_header(struct srv_req *req, const char *name);
const char *srv_req_cookie(struct srv_req *req, const char *name);

/* A request's JSON may hold at most this many values (a 1000-event batch has ~15,000)
 * nested at most this deep: checked before any tree is built, so memory per request
 * stays at a few MiB however well the body compresses. */
#define SRV_MAX_JSON_VALUES 200000
#define SRV_MAX_JSON_DEPTH  64

/* --- parsers of untrusted input, callable alone (fuzz targets) ---------------------- */

#define SRV_ADDR_TEXT_LEN 64

/* Matches a request path against a route pattern ("*" matches one non-empty segment, at
 * most SRV_MAX_PARAMS). On a match returns 1 and sets req->params (owned by req, free
 * each with kk_free) and req->nparams; otherwise 0 and req is untouched. */
int srv_http_match(const char *pattern, const char *path, struct srv_req *req);
/* The client address a trusted proxy put last in an X-Forwarded-For value: 1 and the
 * numeric address in out, or 0 (out untouched) when it is not a numeric IP address. */
int srv_http_forwarded_for(const char *xff, char out[SRV_ADDR_TEXT_LEN]);
/* True when a Host header (NULL: none) names this machine: localhost, 127.x.y.z or
 * [::1], with or without a port. */
int srv_http_host_is_local(const char *host);
/* Counts, without building a tree, how many values cJSON would make of text (len bytes,
 * JSON or not; an upper bound) and how deep it nests, both outside strings. Stops
 * counting once past SRV_MAX_JSON_VALUES or SRV_MAX_JSON_DEPTH. True when within both. */
int srv_http_json_count(const char *text, size_t len, size_t *values, size_t *depth);

/* Parses req->body as JSON. On failure fills out with an error naming the problem (400;
 * 413 for more than SRV_MAX_JSON_VALUES values) and returns NULL. The result is freed
 * with cJSON_Delete. */
cJSON *srv_req_json(struct srv_req *req, struct srv_reply *out);

/* Reply helpers. srv_reply_json takes ownership of obj (may be NULL: then 500). */
void srv_reply_json(struct srv_reply *out, int status, cJSON *obj);
void srv_reply_error(struct srv_reply *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void srv_reply_text(struct srv_reply *out, int status, const char *content_type, const char *text,
                    size_t len);
void srv_reply_header(struct srv_reply *out, const char *name, const char *value);

#endif
