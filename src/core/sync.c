#include "kepu/sync.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>
#include <zlib.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/event.h"
#include "kepu/fleet.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/log.h"
#include "kepu/manifest.h"
#include "kepu/schedule.h"
#include "sync_private.h"

#define MOD              "sync"
#define MAX_KEYS         16
#define MAX_TOKEN_BYTES  4096
#define MAX_ANSWER_BYTES (1024u * 1024) /* a heartbeat or events answer */
/* A clock off by less than this is not corrected (the heartbeat's own delay is in it). */
#define CLOCK_TOLERANCE_MS 60000
#define MAX_ERROR_BODY     4096 /* what is kept of an error answer */
#define MAX_SIG_BYTES      4096
#define MAX_BATCH_JSON     (4u * 1024 * 1024) /* the server inflates at most 5 MiB */
#define MAX_LAST_ERROR     1024               /* the heartbeat's last_error */
#define DOWNLOADS_DIR      "downloads"
#define BLOBS_DIR          "downloads/blobs"
#define COPY_CHUNK         65536
#define FLEET_FILE         "fleet.json" /* the last notices and hours, for offline weeks */
#define MAX_FLEET_FILE     (1024u * 1024)
#define OVERLAY_FILE       "overlay.json"  /* the office's settings overlay */
#define BODY_PNG           2               /* http()'s gzip argument: the body is a PNG, not JSON */
#define SCHEDULE_FILE      "schedule.json" /* the last assignment with its dated parts */
#define PREFETCH_DIR       "prefetch"      /* verified downloads of versions due later */
#define MAX_WINDOWS        KK_MAX_PACKS

/* ---- the client ---------------------------------------------------------------------- */

struct kk_sync {
    char *url, *kiosk, *ca_file, *state, *app_version, *auth;
    struct kk_pubkey keys[MAX_KEYS];
    size_t nkeys;
    struct kk_journal *journal;
    kk_sync_packs_fn packs_fn;
    void *packs_user;
    uint32_t interval_ms, backoff_min_ms, backoff_max_ms, connect_timeout_s, stall_s, batch_max;
    uint32_t request_timeout_s;
    uint64_t created_mono;

    CURL *curl; /* used by one run at a time: the thread's, or kk_sync_run's caller */
    char curl_err[CURL_ERROR_SIZE];
    /* The causes logged during the current run of failures, so a retry does not log one
     * again (a closing server may alternate between two or three of libcurl's reasons). */
    char *logged[4];
    unsigned nlogged;
    char *logged_note; /* the content note last logged */

    atomic_int stop;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    pthread_t thread;
    int thread_on;
    int now_requested;
    uint64_t next_due; /* CLOCK_MONOTONIC ms of the next run */
    struct kk_sync_status st;
    /* Ids installed since the app last switched ("\n"-separated): a newer version of one
     * of them waits, since install keeps only two versions and the app may still show
     * the older one. Other packs go ahead. */
    struct kk_buf pending_ids;

    /* Fleet operations (fleet.h), under lock. Commands for the app wait in app_cmd until it
     * reports them done; a screenshot waits in shot until the thread has uploaded it. */
    struct kk_fleet_done *done;
    struct kk_fleet_command app_cmd[KK_FLEET_MAX_COMMANDS];
    int app_taken[KK_FLEET_MAX_COMMANDS];
    size_t napp;
    char shot_id[KK_MAX_ID_LEN + 1];
    unsigned char *shot;
    size_t shot_len;
    struct kk_fleet_answer *fleet; /* the last notices and hours */
    uint64_t fleet_gen;
    char *fleet_text; /* what state/fleet.json holds */
    int sleeping;
    int done_dirty; /* a result came while a run was going: report it at once */
    unsigned next_heartbeat_s;
    char *fleet_logged; /* the last bad fleet part logged */
    char *overlay;      /* the answer's "config" object as text; NULL: none yet */
    uint64_t overlay_gen;

    /* The last assignment with its dated parts (issue 16), under lock: what the kiosk
     * switches by, offline too; kept in <state>/schedule.json. */
    struct schedule *sched;
    char *sched_text;
};

static enum kk_err fleet_open(struct kk_sync *s, struct kk_buf *err);
static enum kk_err schedule_open(struct kk_sync *s, struct kk_buf *err);

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Waiting uses the real monotonic clock: kk_clock_advance must not skip a back-off. */
static uint64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int stopping(struct kk_sync *s)
{
    return atomic_load(&s->stop);
}

void kk_sync_opts_init(struct kk_sync_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->interval_ms = 300000;
    o->backoff_min_ms = 5000;
    o->backoff_max_ms = 3600000;
    o->connect_timeout_s = 10;
    o->stall_s = 30;
    o->request_timeout_s = 600;
    o->batch_max = 500;
}

void kk_sync_opts_from_config(struct kk_sync_opts *o, const struct kk_config *cfg,
                              struct kk_journal *j)
{
    kk_sync_opts_init(o);
    o->server_url = cfg->server_url;
    o->kiosk_id = cfg->kiosk_id;
    o->token_file = cfg->token_file;
    o->ca_file = cfg->ca_file;
    o->trusted_keys = cfg->trusted_keys;
    o->state_dir = cfg->state_dir;
    o->journal = j;
    o->app_version = KK_VERSION;
    o->interval_ms = (uint32_t)cfg->sync_interval_s * 1000u;
}

/* The token goes into a header line: printable ASCII without blanks only. */
static enum kk_err read_token(const struct kk_sync_opts *o, char **out, struct kk_buf *err)
{
    struct kk_buf b = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    const char *t = o->token;
    if (!t || !*t) {
        if (!o->token_file || !*o->token_file)
            return kk_fail(err, KK_ERR_INVALID, "token_file: not set");
        rc = kk_file_read(o->token_file, MAX_TOKEN_BYTES, &b, err);
        if (rc)
            goto done;
        t = kk_buf_str(&b);
    }
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    size_t n = 0;
    while (t[n] > 0x20 && t[n] < 0x7f)
        n++;
    const char *rest = t + n;
    while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')
        rest++;
    if (!n || *rest) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: the token must be one word of printable ASCII",
                     o->token && *o->token ? "token" : o->token_file);
        goto done;
    }
    *out = kk_strndup(t, n);
    if (!*out)
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
done:
    kk_buf_release(&b);
    return rc;
}

static enum kk_err read_keys(struct kk_sync *s, const char *list, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *copy = kk_strdup(list ? list : "");
    if (!copy)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    for (char *p = copy; *p && !rc;) {
        char *end = strchr(p, ',');
        char *next = end ? end + 1 : p + strlen(p);
        if (end)
            *end = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (n) {
            if (s->nkeys == MAX_KEYS)
                rc = kk_fail(err, KK_ERR_INVALID, "trusted_keys: at most %d keys", MAX_KEYS);
            else
                rc = kk_manifest_pubkey_read(p, &s->keys[s->nkeys++], err);
        }
        p = next;
    }
    kk_free(copy);
    return rc;
}

static char *dup_or_empty(const char *s)
{
    return kk_strdup(s ? s : "");
}

enum kk_err kk_sync_create(struct kk_sync **out, const struct kk_sync_opts *o, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_sync *s = NULL;
    char *token = NULL;
    struct kk_buf auth = KK_BUF_INIT;
    *out = NULL;
    if (!o->server_url ||
        (strncmp(o->server_url, "http://", 7) && strncmp(o->server_url, "https://", 8)))
        return kk_fail(err, KK_ERR_INVALID, "server_url: must start with http:// or https://");
    if (!o->kiosk_id || !*o->kiosk_id)
        return kk_fail(err, KK_ERR_INVALID, "kiosk_id: not set");
    if (!o->state_dir || !*o->state_dir)
        return kk_fail(err, KK_ERR_INVALID, "state_dir: not set");
    if (o->app_version && strlen(o->app_version) > KK_MAX_ID_LEN)
        return kk_fail(err, KK_ERR_INVALID, "app_version: longer than %d bytes", KK_MAX_ID_LEN);
    if (sodium_init() < 0)
        return kk_fail(err, KK_ERR_NOMEM, "libsodium cannot start");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return kk_fail(err, KK_ERR_NET, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    s = kk_calloc(1, sizeof(*s));
    if (!s)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    if (pthread_mutex_init(&s->lock, NULL)) {
        kk_free(s);
        return kk_fail(err, KK_ERR_NOMEM, "cannot make a mutex");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&s->wake, &ca)) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&s->lock);
        kk_free(s);
        return kk_fail(err, KK_ERR_NOMEM, "cannot make a condition variable");
    }
    pthread_condattr_destroy(&ca);
    atomic_init(&s->stop, 0);

    s->url = kk_strdup(o->server_url);
    s->kiosk = kk_strdup(o->kiosk_id);
    s->ca_file = dup_or_empty(o->ca_file);
    s->state = kk_strdup(o->state_dir);
    s->app_version = dup_or_empty(o->app_version);
    if (!s->url || !s->kiosk || !s->ca_file || !s->state || !s->app_version) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t n = strlen(s->url); n > 8 && s->url[n - 1] == '/'; n--)
        s->url[n - 1] = '\0';
    rc = read_token(o, &token, err);
    if (!rc)
        rc = read_keys(s, o->trusted_keys, err);
    if (rc)
        goto done;
    if (kk_buf_addf(&auth, "Authorization: Bearer %s", token)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    s->auth = kk_buf_detach(&auth, NULL);
    s->journal = o->journal;
    if (s->journal) { /* so the staff panel shows the queue before the first run */
        s->st.queue = kk_journal_count(s->journal);
        s->st.dropped = kk_journal_dropped(s->journal);
    }
    s->packs_fn = o->packs_fn;
    s->packs_user = o->packs_user;
    s->interval_ms = o->interval_ms ? o->interval_ms : 300000;
    s->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : 5000;
    s->backoff_max_ms =
        o->backoff_max_ms < s->backoff_min_ms ? s->backoff_min_ms : o->backoff_max_ms;
    s->connect_timeout_s = o->connect_timeout_s ? o->connect_timeout_s : 10;
    s->stall_s = o->stall_s ? o->stall_s : 30;
    s->request_timeout_s = o->request_timeout_s ? o->request_timeout_s : 600;
    s->batch_max = o->batch_max && o->batch_max <= 1000 ? o->batch_max : 500;
    s->created_mono = mono_now();
    if ((rc = fleet_open(s, err)))
        goto done;
    if ((rc = schedule_open(s, err)))
        goto done;
    s->curl = curl_easy_init();
    if (!s->curl) {
        rc = kk_fail(err, KK_ERR_NET, "libcurl: cannot make a handle");
        goto done;
    }
done:
    if (token)
        sodium_memzero(token, strlen(token));
    kk_free(token);
    kk_buf_release(&auth);
    if (rc)
        kk_sync_destroy(s);
    else
        *out = s;
    return rc;
}

void kk_sync_destroy(struct kk_sync *s)
{
    if (!s)
        return;
    kk_sync_stop(s);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    if (s->auth)
        sodium_memzero(s->auth, strlen(s->auth));
    kk_free(s->auth);
    kk_free(s->url);
    kk_free(s->kiosk);
    kk_free(s->ca_file);
    kk_free(s->state);
    kk_free(s->app_version);
    for (size_t i = 0; i < sizeof(s->logged) / sizeof(s->logged[0]); i++)
        kk_free(s->logged[i]);
    kk_free(s->logged_note);
    kk_buf_release(&s->pending_ids);
    kk_fleet_done_close(s->done);
    kk_free(s->shot);
    kk_free(s->fleet);
    kk_free(s->fleet_text);
    kk_free(s->fleet_logged);
    kk_free(s->overlay);
    kk_free(s->sched);
    kk_free(s->sched_text);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    kk_free(s);
}

/* ---- HTTP ---------------------------------------------------------------------------- */

/* Where an answer goes: into a capped buffer, or (downloads) into a file. */
struct xfer {
    struct kk_sync *s;
    struct kk_buf *body; /* the answer, or for a download the body of an error answer */
    int fd;              /* >= 0: a download into this file */
    uint64_t room;       /* bytes the file may still take */
    uint64_t resume_at;  /* bytes already in the file (a Range was asked for) */
    long code;           /* the status, read at the first byte of a download */
    int to_file;         /* the status said the body is the blob */
    int overflow;        /* more arrived than allowed */
    int io_failed;
    uint64_t got; /* body bytes received */
};

static size_t on_write(char *p, size_t size, size_t n, void *user)
{
    struct xfer *x = user;
    size_t len = size * n;
    x->got += len;
    if (x->fd >= 0 && !x->code) {
        curl_easy_getinfo(x->s->curl, CURLINFO_RESPONSE_CODE, &x->code);
        x->to_file = x->code == 200 || x->code == 206;
        if (x->code == 200 && x->resume_at) {
            /* The server sent the whole blob instead of the rest: start the file over. */
            if (ftruncate(x->fd, 0) < 0) {
                x->io_failed = 1;
                return 0;
            }
            x->room += x->resume_at;
            x->resume_at = 0;
        }
    }
    if (x->fd >= 0 && x->to_file) {
        if (len > x->room) {
            x->overflow = 1;
            return 0;
        }
        if (kk_write_all(x->fd, p, len)) {
            x->io_failed = 1;
            return 0;
        }
        x->room -= len;
        return len;
    }
    enum kk_err rc = kk_buf_add(x->body, p, len);
    if (rc == KK_ERR_TOOBIG && x->fd >= 0)
        return len; /* the rest of an error text does not matter */
    if (rc) {
        x->overflow = rc == KK_ERR_TOOBIG;
        return 0;
    }
    return len;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return stopping(user) ? 1 : 0;
}

/* A short, single-line, printable rendering of an error answer: its "error" member when it
 * is JSON, nothing otherwise (a garbage body is not worth logging). */
static void describe_answer(const struct kk_buf *body, struct kk_buf *out)
{
    cJSON *root = cJSON_ParseWithLength(kk_buf_str(body), body->len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(e)) {
        kk_buf_adds(out, ": ");
        for (size_t i = 0; e->valuestring[i] && i < 160; i++) {
            char c = e->valuestring[i];
            kk_buf_add(out, (unsigned char)c < 0x20 || c == 0x7f ? "?" : &c, 1);
        }
    }
    cJSON_Delete(root);
}

/* One request. method "GET" or "POST" (body, len, gzip); extra: one more header line or
 * NULL. On KK_OK *code is the HTTP status, whatever it is; KK_ERR_NET when no answer came
 * (the message has libcurl's stable reason, not its detail with varying numbers). */
static enum kk_err http(struct kk_sync *s, const char *method, const char *path, const void *body,
                        size_t len, int gzip, const char *extra, struct xfer *x, long *code,
                        struct kk_buf *err)
{
    CURL *c = s->curl;
    struct curl_slist *h = NULL;
    struct kk_buf url = KK_BUF_INIT, ua = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    *code = 0;
    curl_easy_reset(c); /* keeps the open connection */
    if (kk_buf_addf(&url, "%s%s", s->url, path) ||
        kk_buf_addf(&ua, "kepu-kiosk/%s", *s->app_version ? s->app_version : "0")) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    const char *lines[] = {s->auth, "Expect:",
                           !body              ? NULL
                           : gzip == BODY_PNG ? "Content-Type: image/png"
                                              : "Content-Type: application/json",
                           gzip == 1 ? "Content-Encoding: gzip" : NULL, extra};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!lines[i])
            continue;
        struct curl_slist *t = curl_slist_append(h, lines[i]);
        if (!t) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
            goto done;
        }
        h = t;
    }
    s->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, kk_buf_str(&url));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, kk_buf_str(&ua));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)s->connect_timeout_s);
    /* A server dripping bytes must not hold the run for days: below KK_SYNC_MIN_SPEED for
     * stall_s, or past request_timeout_s in all, the request is abandoned (a blob download
     * resumes with Range next time). */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)KK_SYNC_MIN_SPEED);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)s->stall_s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->request_timeout_s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    if (*s->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cr = curl_easy_perform(c);
    if (cr == CURLE_ABORTED_BY_CALLBACK && stopping(s))
        rc = kk_fail(err, KK_ERR_NET, "stopped");
    else if (cr == CURLE_WRITE_ERROR && x->overflow)
        rc = kk_fail(err, KK_ERR_NET, "%s %s: the answer is larger than allowed", method, path);
    else if (cr == CURLE_WRITE_ERROR && x->io_failed)
        rc = kk_fail(err, KK_ERR_IO, "%s %s: cannot write the download: %s", method, path,
                     strerror(errno));
    else if (cr != CURLE_OK)
        rc = kk_fail(err, KK_ERR_NET, "%s %s: %s", method, path, curl_easy_strerror(cr));
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
done:
    curl_slist_free_all(h);
    kk_buf_release(&url);
    kk_buf_release(&ua);
    return rc;
}

static enum kk_err status_fail(struct kk_buf *err, const char *method, const char *path, long code,
                               const struct kk_buf *body)
{
    struct kk_buf why = KK_BUF_INIT;
    describe_answer(body, &why);
    enum kk_err rc = kk_fail(err, KK_ERR_NET, "%s %s: HTTP %ld%s", method, path, code,
                             kk_buf_error(&why) ? " (its text: out of memory)" : kk_buf_str(&why));
    kk_buf_release(&why);
    return rc;
}

/* A request whose answer is read into out (capped at max) and must be 200. */
static enum kk_err exchange(struct kk_sync *s, const char *method, const char *path,
                            const void *body, size_t len, int gzip, size_t max, int count,
                            struct kk_buf *out, struct kk_buf *err)
{
    struct xfer x = {.s = s, .body = out, .fd = -1};
    long code;
    kk_buf_release(out);
    kk_buf_init(out, max);
    enum kk_err rc = http(s, method, path, body, len, gzip, NULL, &x, &code, err);
    if (count) {
        pthread_mutex_lock(&s->lock);
        s->st.content_bytes += x.got;
        pthread_mutex_unlock(&s->lock);
    }
    if (!rc && (code == 200 || code == 401)) {
        /* 401 to a good request: the office revoked or rotated this kiosk's token. */
        pthread_mutex_lock(&s->lock);
        s->st.token_refused = code == 401;
        pthread_mutex_unlock(&s->lock);
    }
    if (!rc && code != 200)
        rc = status_fail(err, method, path, code, out);
    return rc;
}

/* ---- fleet operations ---------------------------------------------------------------- */

/* The fleet parts the answer carried, as the text state/fleet.json keeps. */
static char *fleet_keep_text(const cJSON *root)
{
    cJSON *o = cJSON_CreateObject();
    const char *keys[] = {"notices", "hours"};
    for (size_t i = 0; o && i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        cJSON *copy = v ? cJSON_Duplicate(v, 1) : NULL;
        if (copy && !cJSON_AddItemToObject(o, keys[i], copy))
            cJSON_Delete(copy);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    char *out = text ? kk_strdup(text) : NULL;
    cJSON_free(text);
    cJSON_Delete(o);
    return out;
}

static enum kk_err fleet_open(struct kk_sync *s, struct kk_buf *err)
{
    struct kk_buf why = KK_BUF_INIT, b = KK_BUF_INIT;
    enum kk_err rc = kk_fleet_done_open(&s->done, s->state, &why);
    if (!rc && why.len)
        kk_warn(MOD, "%s", kk_buf_str(&why));
    if (rc) {
        kk_fail(err, rc, "%s", kk_buf_str(&why));
        goto done;
    }
    if (!(s->fleet = kk_calloc(1, sizeof(*s->fleet)))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* Notices and hours kept from the last answer hold while the server is away. */
    char *path = kk_path_join(s->state, FLEET_FILE);
    kk_buf_reset(&why);
    if (!path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (kk_file_read(path, MAX_FLEET_FILE, &b, NULL) == KK_OK) {
        if (kk_fleet_parse(kk_buf_str(&b), b.len, s->fleet, &why)) {
            kk_warn(MOD, "%s: %s; starting without notices and hours", path, kk_buf_str(&why));
            memset(s->fleet, 0, sizeof(*s->fleet));
        } else {
            s->fleet_text = kk_buf_detach(&b, NULL);
            s->fleet_gen = 1;
        }
    }
    kk_free(path);
    /* The settings overlay too: the app checks it (a damaged file is refused there). */
    kk_buf_reset(&b);
    if (!(path = kk_path_join(s->state, OVERLAY_FILE))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (kk_file_read(path, MAX_FLEET_FILE, &b, NULL) == KK_OK) {
        s->overlay = kk_buf_detach(&b, NULL);
        s->overlay_gen = 1;
    }
    kk_free(path);
done:
    kk_buf_release(&b);
    kk_buf_release(&why);
    return rc;
}

/* Runs what the sync thread runs itself (sync, logs), refuses expired commands, and
 * queues the rest for the app. Called with the lock held. */
static void fleet_command(struct kk_sync *s, const struct kk_fleet_command *c)
{
    struct kk_buf why = KK_BUF_INIT, text = KK_BUF_INIT;
    if (kk_fleet_done_has(s->done, c->id))
        goto done;
    for (size_t i = 0; i < s->napp; i++)
        if (!strcmp(s->app_cmd[i].id, c->id))
            goto done;
    enum kk_err rc = KK_OK;
    if (c->expires_ms && kk_clock_wall_ms() > c->expires_ms) {
        kk_info(MOD, "command %s expired before it came; not run", c->id);
        rc = kk_fleet_done_add(s->done, c->id, 0, "expired", &why);
    } else if (c->type == KK_CMD_SYNC) {
        kk_info(MOD, "command %s: sync now", c->id);
        s->now_requested = 1;
        rc = kk_fleet_done_add(s->done, c->id, 1, "sync started", &why);
    } else if (c->type == KK_CMD_LOGS) {
        kk_info(MOD, "command %s: the last %u log lines", c->id, c->lines);
        kk_log_tail(&text, c->lines);
        rc = kk_fleet_done_add(s->done, c->id, 1, kk_buf_str(&text), &why);
    } else if (s->napp < KK_FLEET_MAX_COMMANDS) {
        s->app_cmd[s->napp] = *c;
        s->app_taken[s->napp] = 0;
        s->napp++;
    }
    if (rc)
        kk_warn(MOD, "command %s: %s", c->id, kk_buf_str(&why));
    s->done_dirty = 1;
done:
    kk_buf_release(&why);
    kk_buf_release(&text);
}

static void fleet_apply(struct kk_sync *s, const struct kk_buf *answer)
{
    struct kk_buf why = KK_BUF_INIT;
    struct kk_fleet_answer *a = kk_calloc(1, sizeof(*a));
    if (!a)
        return;
    if (kk_fleet_parse(kk_buf_str(answer), answer->len, a, &why)) {
        /* The packs were good: a bad fleet part must not stop content updates. */
        if (!s->fleet_logged || strcmp(s->fleet_logged, kk_buf_str(&why))) {
            kk_warn(MOD, "%s; its commands, notices and hours are ignored", kk_buf_str(&why));
            kk_free(s->fleet_logged);
            s->fleet_logged = kk_strdup(kk_buf_str(&why));
        }
        goto done;
    }
    cJSON *root = cJSON_ParseWithLength(kk_buf_str(answer), answer->len);
    char *keep = root ? fleet_keep_text(root) : NULL;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    char *overlay = cJSON_IsObject(config) ? cJSON_PrintUnformatted(config) : NULL;
    cJSON_Delete(root);
    pthread_mutex_lock(&s->lock);
    int new_overlay = overlay && (!s->overlay || strcmp(overlay, s->overlay));
    if (new_overlay) {
        kk_free(s->overlay);
        s->overlay = kk_strdup(overlay);
        s->overlay_gen++;
    }
    pthread_mutex_unlock(&s->lock);
    if (new_overlay) {
        char *path = kk_path_join(s->state, OVERLAY_FILE);
        kk_buf_reset(&why);
        if (!path || kk_file_write_atomic(path, overlay, strlen(overlay), &why))
            kk_warn(MOD, "cannot keep the settings overlay: %s", kk_buf_str(&why));
        kk_free(path);
    }
    cJSON_free(overlay);
    pthread_mutex_lock(&s->lock);
    s->next_heartbeat_s = a->next_heartbeat_s;
    for (size_t i = 0; i < a->ncommands; i++)
        fleet_command(s, &a->commands[i]);
    /* Each answer is the whole state: a notice or hours it no longer names are gone. */
    int changed = keep && (!s->fleet_text || strcmp(keep, s->fleet_text));
    if (changed) {
        a->ncommands = 0;
        struct kk_fleet_answer *old = s->fleet;
        s->fleet = a;
        a = old;
        kk_free(s->fleet_text);
        s->fleet_text = keep;
        keep = NULL;
        s->fleet_gen++;
    }
    pthread_mutex_unlock(&s->lock);
    if (changed) {
        char *path = kk_path_join(s->state, FLEET_FILE);
        kk_buf_reset(&why);
        pthread_mutex_lock(&s->lock);
        char *text = kk_strdup(s->fleet_text);
        pthread_mutex_unlock(&s->lock);
        if (!path || !text || kk_file_write_atomic(path, text, strlen(text), &why))
            kk_warn(MOD, "cannot keep the notices and hours: %s", kk_buf_str(&why));
        kk_free(text);
        kk_free(path);
    }
    kk_free(keep);
done:
    kk_free(a);
    kk_buf_release(&why);
}

static enum kk_err upload_screenshot(struct kk_sync *s, struct kk_buf *err)
{
    pthread_mutex_lock(&s->lock);
    unsigned char *png = s->shot;
    size_t len = s->shot_len;
    char id[KK_MAX_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->shot_id);
    pthread_mutex_unlock(&s->lock);
    if (!png)
        return KK_OK;
    struct kk_buf path = KK_BUF_INIT, answer = KK_BUF_INIT, why = KK_BUF_INIT;
    enum kk_err rc = kk_buf_addf(&path, "/api/v1/kiosks/%s/screenshot", s->kiosk)
                         ? kk_fail(err, KK_ERR_NOMEM, "out of memory")
                         : exchange(s, "POST", kk_buf_str(&path), png, len, BODY_PNG,
                                    MAX_ANSWER_BYTES, 0, &answer, err);
    pthread_mutex_lock(&s->lock);
    /* A refused upload (HTTP 4xx) is reported, not retried forever. */
    int refused = rc && strstr(kk_buf_str(err), ": HTTP 4");
    if (!rc || refused) {
        if (kk_fleet_done_add(s->done, id, !rc, rc ? kk_buf_str(err) : "uploaded", &why))
            kk_warn(MOD, "command %s: %s", id, kk_buf_str(&why));
        if (s->shot == png) {
            kk_free(s->shot);
            s->shot = NULL;
        }
        s->done_dirty = 1;
        if (refused) {
            kk_buf_reset(err);
            rc = KK_OK;
        }
    }
    pthread_mutex_unlock(&s->lock);
    kk_buf_release(&path);
    kk_buf_release(&answer);
    kk_buf_release(&why);
    return rc;
}

int kk_sync_take_command(struct kk_sync *s, struct kk_fleet_command *out)
{
    int got = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->napp && !got; i++)
        if (!s->app_taken[i]) {
            s->app_taken[i] = 1;
            *out = s->app_cmd[i];
            got = 1;
        }
    pthread_mutex_unlock(&s->lock);
    return got;
}

static void forget_app_command(struct kk_sync *s, const char *id)
{
    for (size_t i = 0; i < s->napp; i++)
        if (!strcmp(s->app_cmd[i].id, id)) {
            memmove(&s->app_cmd[i], &s->app_cmd[i + 1], (s->napp - i - 1) * sizeof(s->app_cmd[0]));
            memmove(&s->app_taken[i], &s->app_taken[i + 1],
                    (s->napp - i - 1) * sizeof(s->app_taken[0]));
            s->napp--;
            return;
        }
}

void kk_sync_command_done(struct kk_sync *s, const char *id, int ok, const char *detail)
{
    struct kk_buf why = KK_BUF_INIT;
    pthread_mutex_lock(&s->lock);
    forget_app_command(s, id);
    if (kk_fleet_done_add(s->done, id, ok, detail, &why))
        kk_warn(MOD, "command %s: %s", id, kk_buf_str(&why));
    s->now_requested = 1;
    s->done_dirty = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    kk_buf_release(&why);
}

void kk_sync_screenshot(struct kk_sync *s, const char *id, unsigned char *png, size_t len)
{
    pthread_mutex_lock(&s->lock);
    forget_app_command(s, id);
    kk_free(s->shot);
    s->shot = png;
    s->shot_len = len;
    snprintf(s->shot_id, sizeof(s->shot_id), "%s", id);
    s->now_requested = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

size_t kk_sync_unreported(struct kk_sync *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    kk_free(kk_fleet_done_pending(s->done, &n));
    n += s->shot != NULL;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int kk_sync_fleet(struct kk_sync *s, uint64_t *gen, struct kk_fleet_answer *out)
{
    int changed = 0;
    pthread_mutex_lock(&s->lock);
    if (*gen != s->fleet_gen) {
        *out = *s->fleet;
        *gen = s->fleet_gen;
        changed = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return changed;
}

int kk_sync_overlay(struct kk_sync *s, uint64_t *gen, struct kk_buf *out)
{
    int changed = 0;
    pthread_mutex_lock(&s->lock);
    if (*gen != s->overlay_gen && s->overlay) {
        kk_buf_reset(out);
        kk_buf_adds(out, s->overlay);
        *gen = s->overlay_gen;
        changed = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return changed;
}

void kk_sync_set_sleeping(struct kk_sync *s, int sleeping)
{
    pthread_mutex_lock(&s->lock);
    s->sleeping = sleeping;
    pthread_mutex_unlock(&s->lock);
}

/* ---- heartbeat ----------------------------------------------------------------------- */

struct assignment {
    char id[KK_MAX_ID_LEN + 1];
    char version[KK_MAX_ID_LEN + 1];
    char sha256[65]; /* "" when the server did not name it */
    int forced;      /* a rollback or a dated switch: taken although lower */
};

/* A heartbeat's assignment: the undated packs and the dated windows. */
struct schedule {
    struct assignment base[KK_MAX_PACKS];
    size_t nbase;
    struct kk_window win[MAX_WINDOWS];
    size_t nwin;
};

static int is_sha256_hex(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == 64;
}

/* The packs the app runs: from the callback, or the active versions of active.json. */
static cJSON *packs_list(struct kk_sync *s)
{
    cJSON *a = cJSON_CreateArray();
    struct kk_buf lines = KK_BUF_INIT;
    struct kk_install_list l = {0};
    if (!a)
        return NULL;
    if (s->packs_fn) {
        s->packs_fn(s->packs_user, &lines);
        for (const char *p = kk_buf_str(&lines); *p;) {
            size_t n = strcspn(p, "\n");
            if (n && n <= 2 * KK_MAX_ID_LEN + 1 && cJSON_GetArraySize(a) < KK_MAX_PACKS) {
                char *t = kk_strndup(p, n);
                cJSON *item = t ? cJSON_CreateString(t) : NULL;
                if (item && !cJSON_AddItemToArray(a, item))
                    cJSON_Delete(item);
                kk_free(t);
            }
            p += n + (p[n] == '\n');
        }
    } else if (kk_install_list_read(s->state, &l, NULL) == KK_OK) {
        for (size_t i = 0; i < l.n && i < KK_MAX_PACKS; i++) {
            char t[2 * KK_MAX_ID_LEN + 2];
            snprintf(t, sizeof(t), "%.64s@%.64s", l.items[i].id, l.items[i].version);
            cJSON_AddItemToArray(a, cJSON_CreateString(t));
        }
    }
    kk_install_list_release(&l);
    kk_buf_release(&lines);
    return a;
}

static int64_t disk_free_mb(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) < 0)
        return -1;
    return (int64_t)((uint64_t)v.f_bavail * v.f_frsize / (1024 * 1024));
}

/* Reads a heartbeat answer's "packs" (with "rollback") and "scheduled" into sc. */
static enum kk_err parse_assignment(const struct kk_buf *body, struct schedule *sc,
                                    struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    cJSON *root = cJSON_ParseWithLength(kk_buf_str(body), body->len);
    const cJSON *packs = cJSON_GetObjectItemCaseSensitive(root, "packs"), *p;
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(root, "scheduled");
    sc->nbase = sc->nwin = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsArray(packs)) {
        rc = kk_fail(err, KK_ERR_NET, "heartbeat: the answer is not {\"packs\": [...]}");
        goto done;
    }
    if (cJSON_GetArraySize(packs) > KK_MAX_PACKS) {
        rc = kk_fail(err, KK_ERR_NET, "heartbeat: more than %d packs assigned", KK_MAX_PACKS);
        goto done;
    }
    cJSON_ArrayForEach(p, packs)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(p, "version");
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(p, "manifest_sha256");
        if (!cJSON_IsString(id) || !kk_manifest_name_is_safe(id->valuestring) ||
            !cJSON_IsString(ver) || !kk_manifest_name_is_safe(ver->valuestring) ||
            (sha && !cJSON_IsNull(sha) &&
             !(cJSON_IsString(sha) && is_sha256_hex(sha->valuestring)))) {
            rc = kk_fail(err, KK_ERR_NET,
                         "heartbeat: packs: an entry is not {\"id\", \"version\", "
                         "\"manifest_sha256\"} with safe names");
            goto done;
        }
        struct assignment *x = &sc->base[sc->nbase++];
        snprintf(x->id, sizeof(x->id), "%s", id->valuestring);
        snprintf(x->version, sizeof(x->version), "%s", ver->valuestring);
        snprintf(x->sha256, sizeof(x->sha256), "%s", cJSON_IsString(sha) ? sha->valuestring : "");
        x->forced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "rollback"));
    }
    /* Dated assignments (a server before issue 16 sends none). */
    if (sched && !cJSON_IsNull(sched) &&
        (!cJSON_IsArray(sched) || cJSON_GetArraySize(sched) > MAX_WINDOWS)) {
        rc = kk_fail(err, KK_ERR_NET, "heartbeat: scheduled: not an array of at most %d",
                     MAX_WINDOWS);
        goto done;
    }
    const cJSON *list = cJSON_IsArray(sched) ? sched : NULL;
    cJSON_ArrayForEach(p, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(p, "version");
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(p, "manifest_sha256");
        const cJSON *from = cJSON_GetObjectItemCaseSensitive(p, "starts");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(p, "ends");
        struct kk_when w;
        int dates_ok = 1;
        const cJSON *d[] = {from, to};
        for (int i = 0; i < 2; i++)
            if (d[i] && !cJSON_IsNull(d[i]) &&
                !(cJSON_IsString(d[i]) && !kk_when_parse(d[i]->valuestring, &w)))
                dates_ok = 0;
        if (!cJSON_IsString(id) || !kk_manifest_name_is_safe(id->valuestring) ||
            !cJSON_IsString(ver) || !kk_manifest_name_is_safe(ver->valuestring) ||
            (sha && !cJSON_IsNull(sha) &&
             !(cJSON_IsString(sha) && is_sha256_hex(sha->valuestring))) ||
            !dates_ok) {
            rc = kk_fail(err, KK_ERR_NET,
                         "heartbeat: scheduled: an entry is not {\"id\", \"version\", "
                         "\"manifest_sha256\", \"starts\", \"ends\"} with safe names and dates");
            goto done;
        }
        struct kk_window *x = &sc->win[sc->nwin++];
        snprintf(x->id, sizeof(x->id), "%s", id->valuestring);
        snprintf(x->version, sizeof(x->version), "%s", ver->valuestring);
        snprintf(x->sha256, sizeof(x->sha256), "%s", cJSON_IsString(sha) ? sha->valuestring : "");
        snprintf(x->starts, sizeof(x->starts), "%s", cJSON_IsString(from) ? from->valuestring : "");
        snprintf(x->ends, sizeof(x->ends), "%s", cJSON_IsString(to) ? to->valuestring : "");
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* What the kiosk should run at now_ms (local time): for each pack the dated assignment in
 * force, else the undated one. Dated switches and rollbacks are forced (taken although
 * lower); so is the undated version of a pack that has dated ones, to go back to it. */
static size_t schedule_wanted(const struct schedule *sc, int64_t now_ms, struct assignment *out)
{
    size_t n = 0;
    for (size_t i = 0; i < sc->nbase && n < KK_MAX_PACKS; i++) {
        out[n] = sc->base[i];
        for (size_t k = 0; k < sc->nwin; k++)
            if (!strcmp(sc->win[k].id, out[n].id))
                out[n].forced = 1;
        n++;
    }
    for (size_t k = 0; k < sc->nwin; k++) {
        const struct kk_window *w = &sc->win[k];
        if (kk_window_pick(sc->win, sc->nwin, w->id, now_ms) != (long)k)
            continue;
        size_t i = 0;
        while (i < n && strcmp(out[i].id, w->id))
            i++;
        if (i == n) {
            if (n == KK_MAX_PACKS)
                continue;
            n++;
        }
        snprintf(out[i].id, sizeof(out[i].id), "%s", w->id);
        snprintf(out[i].version, sizeof(out[i].version), "%s", w->version);
        snprintf(out[i].sha256, sizeof(out[i].sha256), "%s", w->sha256);
        out[i].forced = 1;
    }
    return n;
}

/* The schedule kept from the last run, read at start (a bad or missing file: none). */
static enum kk_err schedule_open(struct kk_sync *s, struct kk_buf *err)
{
    char *path = kk_path_join(s->state, SCHEDULE_FILE);
    struct kk_buf text = KK_BUF_INIT, why = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    s->sched = kk_calloc(1, sizeof(*s->sched));
    if (!path || !s->sched) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    } else if ((rc = kk_file_read(path, MAX_ANSWER_BYTES, &text, NULL)) == KK_OK) {
        enum kk_err prc = parse_assignment(&text, s->sched, &why);
        if (prc == KK_ERR_NOMEM || kk_buf_error(&why)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        } else if (prc) {
            kk_warn(MOD, "%s: %s; ignored", SCHEDULE_FILE, kk_buf_str(&why));
            s->sched->nbase = s->sched->nwin = 0;
        } else if (!(s->sched_text = kk_buf_detach(&text, NULL))) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        }
    } else if (rc == KK_ERR_NOMEM) {
        rc = kk_fail(err, rc, "out of memory");
    } else {
        rc = KK_OK; /* none kept yet, or unreadable: the next heartbeat brings it */
    }
    kk_free(path);
    kk_buf_release(&text);
    kk_buf_release(&why);
    return rc;
}

/* Keeps the answer's assignment (packs and scheduled) as the schedule, on disk too. */
static void schedule_keep(struct kk_sync *s, const struct kk_buf *answer, const struct schedule *sc)
{
    cJSON *root = cJSON_ParseWithLength(kk_buf_str(answer), answer->len), *keep = NULL;
    char *text = NULL;
    if (root && (keep = cJSON_CreateObject())) {
        cJSON *p = cJSON_DetachItemFromObjectCaseSensitive(root, "packs");
        cJSON *w = cJSON_DetachItemFromObjectCaseSensitive(root, "scheduled");
        if (p && !cJSON_AddItemToObject(keep, "packs", p))
            cJSON_Delete(p);
        if (w && !cJSON_AddItemToObject(keep, "scheduled", w))
            cJSON_Delete(w);
        text = cJSON_PrintUnformatted(keep);
    }
    cJSON_Delete(root);
    cJSON_Delete(keep);
    pthread_mutex_lock(&s->lock);
    int changed = text && (!s->sched_text || strcmp(text, s->sched_text));
    if (s->sched)
        *s->sched = *sc;
    pthread_mutex_unlock(&s->lock);
    if (changed) {
        char *path = kk_path_join(s->state, SCHEDULE_FILE);
        struct kk_buf why = KK_BUF_INIT;
        if (path && kk_file_write_atomic(path, text, strlen(text), &why) == KK_OK) {
            pthread_mutex_lock(&s->lock);
            kk_free(s->sched_text);
            s->sched_text = kk_strdup(text);
            pthread_mutex_unlock(&s->lock);
            if (sc->nwin)
                kk_info(MOD, "schedule: %zu dated assignment(s) kept in %s", sc->nwin,
                        SCHEDULE_FILE);
        } else {
            kk_warn(MOD, "%s: %s", SCHEDULE_FILE, kk_buf_str(&why));
        }
        kk_free(path);
        kk_buf_release(&why);
    }
    cJSON_free(text);
}

static enum kk_err heartbeat(struct kk_sync *s, struct schedule *sc, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf answer = KK_BUF_INIT;
    char *text = NULL, last_error[MAX_LAST_ERROR + 1] = "";
    cJSON *o = cJSON_CreateObject(), *packs = packs_list(s);
    if (!o || !packs || !cJSON_AddItemToObject(o, "packs", packs)) {
        cJSON_Delete(packs);
        rc = kk_fail(err, KK_ERR_NOMEM, "heartbeat: out of memory");
        goto done;
    }
    pthread_mutex_lock(&s->lock);
    if (s->st.failures)
        snprintf(last_error, sizeof(last_error), "%s", s->st.last_result);
    pthread_mutex_unlock(&s->lock);
    int64_t disk = disk_free_mb(s->state);
    uint64_t queue = s->journal ? kk_journal_count(s->journal) : 0;
    uint64_t dropped = s->journal ? kk_journal_dropped(s->journal) : 0;
    pthread_mutex_lock(&s->lock);
    s->st.queue = queue;
    s->st.dropped = dropped;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&s->lock);
    size_t ndone = 0;
    char *done_text = kk_fleet_done_pending(s->done, &ndone);
    const char *state = s->sleeping ? "sleeping" : "open";
    pthread_mutex_unlock(&s->lock);
    cJSON *done_json = done_text ? cJSON_CreateRaw(done_text) : NULL;
    kk_free(done_text);
    if (done_json && !cJSON_AddItemToObject(o, "done", done_json)) {
        cJSON_Delete(done_json);
        done_json = NULL;
    }
    if (!done_json || !cJSON_AddStringToObject(o, "state", state)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "heartbeat: out of memory");
        goto done;
    }
    pthread_mutex_lock(&s->lock);
    int clock_known = s->st.clock_known;
    int64_t offset = s->st.clock_offset_ms;
    pthread_mutex_unlock(&s->lock);
    /* The clock error found by the last heartbeat, so the office sees a wrong clock. */
    if (!(clock_known ? cJSON_AddNumberToObject(o, "clock_offset_ms", (double)offset)
                      : cJSON_AddNullToObject(o, "clock_offset_ms")) ||
        !cJSON_AddStringToObject(o, "kiosk", s->kiosk) ||
        !cJSON_AddStringToObject(o, "app_version", s->app_version) ||
        !cJSON_AddNumberToObject(o, "queue", (double)queue) ||
        !cJSON_AddNumberToObject(o, "dropped", (double)dropped) ||
        !cJSON_AddNumberToObject(o, "uptime_s", (double)((mono_now() - s->created_mono) / 1000)) ||
        (disk >= 0 && !cJSON_AddNumberToObject(o, "disk_free_mb", (double)disk)) ||
        (*last_error && !cJSON_AddStringToObject(o, "last_error", last_error)) ||
        !(text = cJSON_PrintUnformatted(o))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "heartbeat: out of memory");
        goto done;
    }
    rc = exchange(s, "POST", "/api/v1/heartbeat", text, strlen(text), 0, MAX_ANSWER_BYTES, 0,
                  &answer, err);
    if (!rc)
        rc = parse_assignment(&answer, sc, err);
    if (!rc)
        schedule_keep(s, &answer, sc);
    if (!rc) {
        /* The server's clock: the staff panel shows the difference, the next heartbeat
         * reports it, and the upload corrects events a wrong clock stamped. */
        cJSON *root = cJSON_ParseWithLength(kk_buf_str(&answer), answer.len);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "time");
        if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 9.0e15) {
            pthread_mutex_lock(&s->lock);
            s->st.clock_offset_ms = (int64_t)t->valuedouble - kk_clock_wall_ms();
            s->st.clock_known = 1;
            pthread_mutex_unlock(&s->lock);
        }
        cJSON_Delete(root);
        pthread_mutex_lock(&s->lock);
        struct kk_buf why = KK_BUF_INIT;
        if (kk_fleet_done_reported(s->done, ndone, &why))
            kk_warn(MOD, "%s", kk_buf_str(&why));
        kk_buf_release(&why);
        pthread_mutex_unlock(&s->lock);
        fleet_apply(s, &answer);
    }
done:
    cJSON_free(text);
    cJSON_Delete(o);
    kk_buf_release(&answer);
    return rc;
}

/* ---- events -------------------------------------------------------------------------- */

/* gzip (not raw deflate: the server expects Content-Encoding: gzip) of in into a new
 * allocation *out (free with kk_free). */
static enum kk_err gzip_text(const char *in, size_t len, unsigned char **out, size_t *outlen,
                             struct kk_buf *err)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    *out = NULL;
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return kk_fail(err, KK_ERR_NOMEM, "gzip: cannot start");
    uLong bound = deflateBound(&z, (uLong)len);
    unsigned char *buf = kk_malloc(bound);
    enum kk_err rc = KK_OK;
    if (!buf) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        rc = kk_fail(err, KK_ERR_NOMEM, "gzip: failed");
        goto done;
    }
    *out = buf;
    *outlen = z.total_out;
    buf = NULL;
done:
    deflateEnd(&z);
    kk_free(buf);
    return rc;
}

static int whole_count(const cJSON *v, double max)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max &&
           v->valuedouble == (double)(long)v->valuedouble;
}

/* Checks the answer to a batch of n events. On KK_OK *rejected is how many were refused. */
static enum kk_err parse_events_answer(struct kk_sync *s, const struct kk_buf *body,
                                       char *const *ids, size_t n, size_t *rejected,
                                       struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    cJSON *root = cJSON_ParseWithLength(kk_buf_str(body), body->len);
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(root, "accepted");
    const cJSON *dup = cJSON_GetObjectItemCaseSensitive(root, "duplicates");
    const cJSON *rej = cJSON_GetObjectItemCaseSensitive(root, "rejected"), *r;
    if (!cJSON_IsObject(root) || !whole_count(acc, (double)n) || !whole_count(dup, (double)n) ||
        !cJSON_IsArray(rej)) {
        rc = kk_fail(err, KK_ERR_NET,
                     "POST /api/v1/events: the answer is not {\"accepted\", \"duplicates\", "
                     "\"rejected\"}");
        goto done;
    }
    size_t nrej = (size_t)cJSON_GetArraySize(rej);
    if ((size_t)acc->valuedouble + (size_t)dup->valuedouble + nrej != n) {
        rc = kk_fail(err, KK_ERR_NET,
                     "POST /api/v1/events: the answer's counts do not add up to the %zu events "
                     "sent; nothing deleted",
                     n);
        goto done;
    }
    const char *first_id = NULL, *first_reason = NULL;
    cJSON_ArrayForEach(r, rej)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(r, "reason");
        int known = !cJSON_IsString(id);
        for (size_t i = 0; !known && i < n; i++)
            known = !strcmp(ids[i], id->valuestring);
        if (!known) {
            rc = kk_fail(err, KK_ERR_NET,
                         "POST /api/v1/events: the answer rejects an event that was not sent");
            goto done;
        }
        if (!first_reason) {
            first_id = cJSON_IsString(id) ? id->valuestring : "(no id)";
            first_reason = cJSON_IsString(why) ? why->valuestring : "(no reason)";
        }
    }
    if (nrej)
        kk_warn(MOD,
                "the server rejected %zu of %zu events; they are deleted (they can never "
                "be accepted); the first: %.32s: %.200s",
                nrej, n, first_id, first_reason);
    (void)s;
    *rejected = nrej;
done:
    cJSON_Delete(root);
    return rc;
}

static enum kk_err upload_events(struct kk_sync *s, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_journal_batch b = {0};
    struct kk_buf json = KK_BUF_INIT, answer = KK_BUF_INIT;
    unsigned char *gz = NULL;
    char *kiosk = NULL;
    cJSON *k = cJSON_CreateString(s->kiosk);
    if (!k || !(kiosk = cJSON_PrintUnformatted(k))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    while (s->journal && !rc) {
        if (stopping(s)) {
            rc = kk_fail(err, KK_ERR_NET, "stopped");
            break;
        }
        kk_journal_batch_release(&b);
        rc = kk_journal_peek(s->journal, s->batch_max, &b, err);
        if (rc || !b.n)
            break;
        kk_buf_reset(&json);
        size_t n = 0;
        pthread_mutex_lock(&s->lock);
        int clock_known = s->st.clock_known;
        int64_t offset = s->st.clock_offset_ms;
        pthread_mutex_unlock(&s->lock);
        /* Only a clock off by more than the tolerance can have stamped events the server
         * cannot believe that the offset places (docs/events.md "Clocks"). */
        int place = clock_known && (offset > CLOCK_TOLERANCE_MS || offset < -CLOCK_TOLERANCE_MS);
        int64_t server_now = kk_clock_wall_ms() + offset;
        rc = kk_buf_addf(&json, "{\"kiosk\":%s,\"events\":[", kiosk);
        for (; !rc && n < b.n; n++) {
            char *placed = place ? kk_event_place(b.json[n], offset, server_now) : NULL;
            const char *text = placed ? placed : b.json[n];
            size_t len = strlen(text);
            if (n && json.len + len + 3 > MAX_BATCH_JSON) {
                kk_free(placed);
                break;
            }
            if (n)
                rc = kk_buf_add(&json, ",", 1);
            if (!rc)
                rc = kk_buf_add(&json, text, len);
            kk_free(placed);
        }
        if (!rc)
            rc = kk_buf_adds(&json, "]}");
        size_t gzlen = 0;
        kk_free(gz);
        gz = NULL;
        if (rc) {
            rc = kk_fail(err, rc, "events: out of memory");
            break;
        }
        rc = gzip_text(json.data, json.len, &gz, &gzlen, err);
        if (rc)
            break;
        rc = exchange(s, "POST", "/api/v1/events", gz, gzlen, 1, MAX_ANSWER_BYTES, 0, &answer, err);
        size_t rejected = 0;
        if (!rc)
            rc = parse_events_answer(s, &answer, b.ids, n, &rejected, err);
        if (!rc)
            rc = kk_journal_ack(s->journal, b.ids, n, err);
        if (!rc) {
            pthread_mutex_lock(&s->lock);
            s->st.events_sent += n - rejected;
            s->st.events_rejected += rejected;
            pthread_mutex_unlock(&s->lock);
        }
    }
done:
    kk_journal_batch_release(&b);
    kk_buf_release(&json);
    kk_buf_release(&answer);
    kk_free(gz);
    cJSON_free(kiosk);
    cJSON_Delete(k);
    return rc;
}

/* ---- content ------------------------------------------------------------------------- */

/* Files present on the kiosk by hash: in installed versions of a pack, or assembled. */
struct local_file {
    unsigned char sha256[32];
    char *path;
};
struct local_index {
    struct local_file *items;
    size_t n, alloc;
};

static void index_release(struct local_index *x)
{
    for (size_t i = 0; i < x->n; i++)
        kk_free(x->items[i].path);
    kk_free(x->items);
    memset(x, 0, sizeof(*x));
}

static enum kk_err index_add(struct local_index *x, const unsigned char *sha, const char *dir,
                             const char *rel)
{
    if (x->n == x->alloc) {
        size_t na = x->alloc ? x->alloc * 2 : 64;
        struct local_file *t = kk_reallocarray(x->items, na, sizeof(*t));
        if (!t)
            return KK_ERR_NOMEM;
        x->items = t;
        x->alloc = na;
    }
    char *p = kk_path_join(dir, rel);
    if (!p)
        return KK_ERR_NOMEM;
    memcpy(x->items[x->n].sha256, sha, 32);
    x->items[x->n++].path = p;
    return KK_OK;
}

/* Every installed version of pack id; a version whose manifest cannot be read adds
 * nothing (its files are simply downloaded). */
static enum kk_err index_installed(struct kk_sync *s, const char *id, struct local_index *x)
{
    enum kk_err rc = KK_OK;
    char *top = kk_install_path(s->state, id, "x");
    if (!top)
        return KK_ERR_NOMEM;
    top[strlen(top) - 2] = '\0'; /* "<state>/packs/<id>" */
    DIR *d = opendir(top);
    struct dirent *e;
    while (d && !rc && (e = readdir(d)) != NULL) {
        if (!kk_manifest_name_is_safe(e->d_name))
            continue;
        struct kk_buf mf = KK_BUF_INIT;
        struct kk_manifest *m = NULL;
        char *vdir = kk_path_join(top, e->d_name);
        char *mpath = vdir ? kk_path_join(vdir, KK_MANIFEST_FILE) : NULL;
        if (!mpath)
            rc = KK_ERR_NOMEM;
        else if (!kk_file_read(mpath, KK_MAX_JSON_FILE_BYTES, &mf, NULL) &&
                 !kk_manifest_parse(kk_buf_str(&mf), mf.len, &m, NULL))
            for (size_t i = 0; !rc && i < m->nfiles; i++)
                rc = index_add(x, m->files[i].sha256, vdir, m->files[i].path);
        kk_manifest_destroy(m);
        kk_buf_release(&mf);
        kk_free(mpath);
        kk_free(vdir);
    }
    if (d)
        closedir(d);
    kk_free(top);
    return rc;
}

/* Hashes the regular file at path. 0 with *size and sha set; -1 when it cannot be read. */
static int hash_file(const char *path, uint64_t *size, unsigned char sha[32])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    unsigned char buf[COPY_CHUNK];
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)r);
        total += (uint64_t)r;
    }
    close(fd);
    crypto_hash_sha256_final(&h, sha);
    *size = total;
    return 0;
}

static int file_is(const char *path, const struct kk_manifest_file *f)
{
    uint64_t size;
    unsigned char sha[32];
    return hash_file(path, &size, sha) == 0 && size == f->size &&
           sodium_memcmp(sha, f->sha256, 32) == 0;
}

static enum kk_err make_parent(const char *path, struct kk_buf *err)
{
    char *p = kk_strdup(path);
    if (!p)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    char *slash = strrchr(p, '/');
    enum kk_err rc = KK_OK;
    if (slash) {
        *slash = '\0';
        rc = kk_mkdirs(p, 0755, err);
    }
    kk_free(p);
    return rc;
}

/* Copies src to dst when src holds exactly f (hashed while copying). -1 when it does not
 * or cannot be copied; the caller then downloads the file. */
static int copy_verified(const char *src, const char *dst, const struct kk_manifest_file *f)
{
    struct kk_buf tmp = KK_BUF_INIT;
    int in = -1, out = -1, ok = 0;
    uint64_t total = 0;
    unsigned char sha[32], buf[COPY_CHUNK];
    crypto_hash_sha256_state h;
    if (kk_buf_addf(&tmp, "%s.tmp", dst) || make_parent(dst, NULL))
        goto done;
    in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    out = in < 0 ? -1 : open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        goto done;
    crypto_hash_sha256_init(&h);
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (r > 0 && kk_write_all(out, (char *)buf, (size_t)r)))
            goto done;
        if (r == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)r);
        total += (uint64_t)r;
        if (total > f->size)
            goto done;
    }
    crypto_hash_sha256_final(&h, sha);
    ok = total == f->size && sodium_memcmp(sha, f->sha256, 32) == 0 && close(out) == 0;
    out = -1;
    ok = ok && rename(tmp.data, dst) == 0;
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (!ok && tmp.data)
        unlink(tmp.data);
    kk_buf_release(&tmp);
    return ok ? 0 : -1;
}

/* Downloads blob f into dst through BLOBS_DIR/<sha>.part, resuming what a part holds. */
static enum kk_err download_blob(struct kk_sync *s, const struct kk_manifest_file *f,
                                 const char *dst, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char hex[65], range[64], path[160];
    struct kk_buf part = KK_BUF_INIT, ebody = KK_BUF_INIT, why = KK_BUF_INIT;
    kk_hex_encode(hex, f->sha256, 32);
    snprintf(path, sizeof(path), "/api/v1/blobs/%s", hex);
    if (kk_buf_addf(&part, "%s/%s/%s.part", s->state, BLOBS_DIR, hex))
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    int fd = open(part.data, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", part.data, strerror(errno));
        goto done;
    }
    uint64_t have = (uint64_t)st.st_size;
    if (have > f->size) {
        if (ftruncate(fd, 0) < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", part.data, strerror(errno));
            goto done;
        }
        have = 0;
    }
    if (have < f->size || f->size == 0) {
        struct xfer x = {
            .s = s, .body = &ebody, .fd = fd, .room = f->size - have, .resume_at = have};
        long code;
        kk_buf_init(&ebody, MAX_ERROR_BODY);
        snprintf(range, sizeof(range), "Range: bytes=%llu-", (unsigned long long)have);
        rc = http(s, "GET", path, NULL, 0, 0, have ? range : NULL, &x, &code, &why);
        pthread_mutex_lock(&s->lock);
        s->st.content_bytes += x.got;
        pthread_mutex_unlock(&s->lock);
        if (rc && x.overflow && ftruncate(fd, 0) == 0) {
            rc = kk_fail(err, KK_ERR_VERIFY, "blob %s (%s): longer than the manifest says", hex,
                         f->path);
            goto done;
        }
        if (rc) {
            rc = kk_fail(err, rc, "%s", kk_buf_str(&why)); /* the part stays for a resume */
            goto done;
        }
        if (code == 416 && ftruncate(fd, 0) == 0) {
            rc = kk_fail(err, KK_ERR_NET, "%s: range refused; the download starts over", path);
            goto done;
        }
        if (code != 200 && code != 206) {
            rc = status_fail(err, "GET", path, code, &ebody);
            goto done;
        }
    }
    close(fd);
    fd = -1;
    if (!file_is(part.data, f)) {
        unlink(part.data);
        rc = kk_fail(err, KK_ERR_VERIFY, "blob %s (%s): size or sha256 mismatch; refused", hex,
                     f->path);
        goto done;
    }
    rc = make_parent(dst, err);
    if (!rc && rename(part.data, dst) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", dst, strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    kk_buf_release(&part);
    kk_buf_release(&ebody);
    kk_buf_release(&why);
    return rc;
}

/* Logs a content note (why an assignment is not installed) when it changes. */
static void note(struct kk_sync *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct kk_sync *s, const char *fmt, ...)
{
    struct kk_buf b = KK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (kk_buf_error(&b)) {
        kk_warn(MOD, "a content note could not be written: out of memory");
        kk_buf_release(&b);
        return;
    }
    if (!s->logged_note || strcmp(s->logged_note, kk_buf_str(&b))) {
        kk_info(MOD, "%s", kk_buf_str(&b));
        kk_free(s->logged_note);
        s->logged_note = kk_buf_detach(&b, NULL);
    }
    kk_buf_release(&b);
}

/* Downloads a->id@a->version and installs it, or (keep not NULL) keeps the verified
 * download in the folder keep for a dated switch later. */
static enum kk_err fetch_pack(struct kk_sync *s, const struct assignment *a, const char *keep,
                              struct kk_buf *err)
{
    enum kk_err rc;
    struct kk_buf mf = KK_BUF_INIT, sig = KK_BUF_INIT, path = KK_BUF_INIT, dir = KK_BUF_INIT,
                  why = KK_BUF_INIT;
    struct kk_manifest *m = NULL, *installed = NULL;
    struct local_index idx = {0};
    char *blobs = NULL, *target = NULL;
    unsigned char sha[32];
    char hex[65];

    if (kk_buf_addf(&path, "/api/v1/packs/%s/%s/manifest", a->id, a->version)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = exchange(s, "GET", kk_buf_str(&path), NULL, 0, 0, KK_MAX_JSON_FILE_BYTES, 1, &mf, err);
    if (rc)
        goto done;
    kk_buf_reset(&path);
    if (kk_buf_addf(&path, "/api/v1/packs/%s/%s/signature", a->id, a->version)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = exchange(s, "GET", kk_buf_str(&path), NULL, 0, 0, MAX_SIG_BYTES, 1, &sig, err);
    if (rc)
        goto done;
    /* The signature first: nothing of an unsigned manifest is even parsed. */
    rc = kk_manifest_check_signature(mf.data ? mf.data : "", mf.len, sig.data ? sig.data : "",
                                     sig.len, s->keys, s->nkeys, &why);
    if (rc) {
        rc = kk_fail(err, rc, "%s@%s: %s", a->id, a->version, kk_buf_str(&why));
        goto done;
    }
    crypto_hash_sha256(sha, (const unsigned char *)kk_buf_str(&mf), mf.len);
    kk_hex_encode(hex, sha, 32);
    if (*a->sha256 && strcmp(hex, a->sha256)) {
        rc = kk_fail(err, KK_ERR_VERIFY, "%s@%s: the manifest is not the one assigned", a->id,
                     a->version);
        goto done;
    }
    rc = kk_manifest_parse(kk_buf_str(&mf), mf.len, &m, &why);
    if (!rc && (strcmp(m->id, a->id) || strcmp(m->version, a->version)))
        rc = kk_fail(&why, KK_ERR_VERIFY, "MANIFEST.json: names %s@%s", m->id, m->version);
    if (rc) {
        rc = kk_fail(err, rc, "%s@%s: %s", a->id, a->version, kk_buf_str(&why));
        goto done;
    }
    if (kk_buf_addf(&dir, "%s/%s/%s@%s", s->state, DOWNLOADS_DIR, a->id, a->version) ||
        !(blobs = kk_path_join(s->state, BLOBS_DIR))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = kk_mkdirs(kk_buf_str(&dir), 0755, err)) || (rc = kk_mkdirs(blobs, 0755, err)))
        goto done;
    if (index_installed(s, a->id, &idx)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->nfiles && !rc; i++) {
        const struct kk_manifest_file *f = &m->files[i];
        if (stopping(s)) {
            rc = kk_fail(err, KK_ERR_NET, "stopped");
            break;
        }
        kk_free(target);
        if (!(target = kk_path_join(kk_buf_str(&dir), f->path))) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
            break;
        }
        if (file_is(target, f)) /* from an earlier, interrupted run */
            continue;
        int found = 0;
        for (size_t k = 0; k < idx.n && !found; k++)
            found = !memcmp(idx.items[k].sha256, f->sha256, 32) &&
                    copy_verified(idx.items[k].path, target, f) == 0;
        if (!found)
            rc = download_blob(s, f, target, err);
        if (!rc && index_add(&idx, f->sha256, kk_buf_str(&dir), f->path))
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    }
    if (rc)
        goto done;
    kk_free(target);
    target = kk_path_join(kk_buf_str(&dir), KK_MANIFEST_FILE);
    rc = target ? kk_file_write_atomic(target, kk_buf_str(&mf), mf.len, err)
                : kk_fail(err, KK_ERR_NOMEM, "out of memory");
    kk_free(target);
    target = kk_path_join(kk_buf_str(&dir), KK_MANIFEST_SIG_FILE);
    if (!rc)
        rc = target ? kk_file_write_atomic(target, kk_buf_str(&sig), sig.len, err)
                    : kk_fail(err, KK_ERR_NOMEM, "out of memory");
    if (rc)
        goto done;
    kk_buf_reset(&why);
    if (keep) {
        /* Every file was checked against the signed manifest; the install at the switch
         * verifies the whole folder again. */
        kk_remove_tree(keep, NULL);
        if ((rc = make_parent(keep, err)))
            goto done;
        if (rename(kk_buf_str(&dir), keep)) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", keep, strerror(errno));
            goto done;
        }
        kk_info(MOD, "fetched %s@%s ahead of its start (%zu files)", a->id, a->version, m->nfiles);
        goto done;
    }
    rc = kk_install_dir(s->state, kk_buf_str(&dir), s->keys, s->nkeys,
                        a->forced ? KK_INSTALL_FORCE : 0, &installed, &why);
    if (rc == KK_ERR_EXISTS)
        rc = KK_OK; /* installed meanwhile by other means (a USB stick) */
    if (rc) {
        rc = kk_fail(err, rc, "%s@%s: install: %s", a->id, a->version, kk_buf_str(&why));
        /* A folder that does not verify is not worth keeping; I/O trouble may pass. */
        if (rc != KK_ERR_IO && rc != KK_ERR_BUSY && rc != KK_ERR_NOMEM)
            kk_remove_tree(kk_buf_str(&dir), NULL);
        goto done;
    }
    kk_remove_tree(kk_buf_str(&dir), NULL);
    pthread_mutex_lock(&s->lock);
    s->st.installs++;
    s->st.install_pending = 1;
    kk_buf_addf(&s->pending_ids, "%s\n", a->id);
    snprintf(s->st.last_installed, sizeof(s->st.last_installed), "%.64s@%.64s", a->id, a->version);
    pthread_mutex_unlock(&s->lock);
    kk_info(MOD, "installed %s@%s (%zu files); the app switches to it at the attract screen", a->id,
            a->version, m->nfiles);
done:
    index_release(&idx);
    kk_manifest_destroy(m);
    kk_manifest_destroy(installed);
    kk_free(blobs);
    kk_free(target);
    kk_buf_release(&mf);
    kk_buf_release(&sig);
    kk_buf_release(&path);
    kk_buf_release(&dir);
    kk_buf_release(&why);
    return rc;
}

/* Marks id installed since the app last switched (it switches at the attract screen). */
static void mark_pending(struct kk_sync *s, const char *id, const char *version)
{
    pthread_mutex_lock(&s->lock);
    s->st.installs++;
    s->st.install_pending = 1;
    kk_buf_addf(&s->pending_ids, "%s\n", id);
    snprintf(s->st.last_installed, sizeof(s->st.last_installed), "%.64s@%.64s", id, version);
    pthread_mutex_unlock(&s->lock);
}

static int is_pending(struct kk_sync *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    /* When the list could not be kept, every pack counts as pending: installing over a
     * version the app may still show is worse than waiting for the switch. */
    int pending = kk_buf_error(&s->pending_ids) != KK_OK;
    for (const char *p = kk_buf_str(&s->pending_ids); *p && !pending; p = strchr(p, '\n') + 1)
        pending = !strncmp(p, id, strlen(id)) && p[strlen(id)] == '\n';
    pthread_mutex_unlock(&s->lock);
    return pending;
}

static char *prefetch_path(struct kk_sync *s, const char *id, const char *version)
{
    struct kk_buf b = KK_BUF_INIT;
    kk_buf_addf(&b, "%s/%s/%s@%s", s->state, PREFETCH_DIR, id, version);
    return kk_buf_error(&b) ? (kk_buf_release(&b), NULL) : kk_buf_detach(&b, NULL);
}

static int is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Switches to a forced version already on the kiosk: the previous one (kept by install)
 * or one fetched ahead. Returns 1 when it switched (or failed trying, logged), 0 when the
 * version is not here. */
static int switch_local(struct kk_sync *s, const struct assignment *a,
                        const struct kk_install_entry *e)
{
    struct kk_buf why = KK_BUF_INIT;
    enum kk_err rc;
    int done = 1;
    char *pre = NULL;
    if (a->forced && e && e->previous && !strcmp(e->previous, a->version)) {
        rc = kk_install_rollback(s->state, a->id, &why);
    } else if (is_dir(pre = prefetch_path(s, a->id, a->version))) {
        struct kk_manifest *m = NULL;
        rc = kk_install_dir(s->state, pre, s->keys, s->nkeys, a->forced ? KK_INSTALL_FORCE : 0, &m,
                            &why);
        kk_manifest_destroy(m);
        if (rc == KK_ERR_EXISTS)
            rc = KK_OK;
        if (rc != KK_ERR_IO && rc != KK_ERR_BUSY && rc != KK_ERR_NOMEM)
            kk_remove_tree(pre, NULL);
    } else {
        done = 0;
        rc = KK_OK;
    }
    if (done && rc)
        kk_warn(MOD, "switching to %s@%s: %s", a->id, a->version, kk_buf_str(&why));
    else if (done) {
        mark_pending(s, a->id, a->version);
        kk_info(MOD, "%s@%s is due now: the app switches to it at the attract screen", a->id,
                a->version);
    }
    kk_free(pre);
    kk_buf_release(&why);
    return done;
}

/* Meets the assignment a: switches to versions on the kiosk and, unless offline, fetches
 * the others. */
static enum kk_err fetch_assigned(struct kk_sync *s, const struct assignment *a, size_t na,
                                  int offline, struct kk_buf *err)
{
    struct kk_install_list l = {0};
    struct kk_buf why = KK_BUF_INIT;
    enum kk_err rc = kk_install_list_read(s->state, &l, &why);
    if (rc) {
        rc = kk_fail(err, rc, "active.json: %s", kk_buf_str(&why));
        goto done;
    }
    for (size_t i = 0; i < na && !rc; i++) {
        const struct kk_install_entry *e = NULL;
        for (size_t k = 0; k < l.n && !e; k++)
            if (!strcmp(l.items[k].id, a[i].id))
                e = &l.items[k];
        if (e && !strcmp(e->version, a[i].version))
            continue;
        int pending = is_pending(s, a[i].id);
        if (pending)
            note(s, "%s@%s waits until the app switched to the version installed before", a[i].id,
                 a[i].version);
        else if (switch_local(s, &a[i], e) || offline)
            continue;
        else if (!s->nkeys)
            note(s, "%s@%s is assigned, but no trusted keys are configured: not installed", a[i].id,
                 a[i].version);
        else if (e && !a[i].forced && kk_install_version_cmp(a[i].version, e->version) < 0)
            note(s, "%s@%s is assigned, but %s is active: a lower version is not installed",
                 a[i].id, a[i].version, e->version);
        else if (!*a[i].sha256)
            note(s, "%s@%s is assigned, but the server does not have it yet", a[i].id,
                 a[i].version);
        else
            rc = fetch_pack(s, &a[i], NULL, err);
    }
    /* Every assignment is installed or waits without having started: what the download
     * area still holds belongs to versions no longer assigned. */
    if (!rc && !offline) {
        char *dl = kk_path_join(s->state, DOWNLOADS_DIR);
        if (dl)
            kk_remove_tree(dl, NULL);
        kk_free(dl);
    }
done:
    kk_install_list_release(&l);
    kk_buf_release(&why);
    return rc;
}

/* Fetches the versions of dated assignments that have not ended ahead of their start, so
 * the switch needs no network; removes those no longer scheduled. */
static enum kk_err prefetch_scheduled(struct kk_sync *s, const struct schedule *sc,
                                      struct kk_buf *err)
{
    struct kk_install_list l = {0};
    enum kk_err rc = kk_install_list_read(s->state, &l, NULL);
    int64_t now = kk_clock_wall_ms();
    for (size_t k = 0; k < sc->nwin && !rc; k++) {
        const struct kk_window *w = &sc->win[k];
        int64_t end = *w->ends ? kk_when_text_ms(w->ends, KK_WHEN_LOCAL) : INT64_MAX;
        int here = 0;
        for (size_t i = 0; i < l.n && !here; i++)
            here = !strcmp(l.items[i].id, w->id) &&
                   (!strcmp(l.items[i].version, w->version) ||
                    (l.items[i].previous && !strcmp(l.items[i].previous, w->version)));
        char *pre = prefetch_path(s, w->id, w->version);
        if (!pre) {
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        } else if (end > now && !here && !is_dir(pre) && s->nkeys && *w->sha256) {
            struct assignment a = {.forced = 1};
            snprintf(a.id, sizeof(a.id), "%s", w->id);
            snprintf(a.version, sizeof(a.version), "%s", w->version);
            snprintf(a.sha256, sizeof(a.sha256), "%s", w->sha256);
            rc = fetch_pack(s, &a, pre, err);
        }
        kk_free(pre);
    }
    /* Folders of versions no window names any more. */
    char *dir = kk_path_join(s->state, PREFETCH_DIR);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int named = 0;
        for (size_t k = 0; k < sc->nwin && !named; k++) {
            char name[2 * KK_MAX_ID_LEN + 2];
            snprintf(name, sizeof(name), "%s@%s", sc->win[k].id, sc->win[k].version);
            named = !strcmp(name, de->d_name);
        }
        char *p = named ? NULL : kk_path_join(dir, de->d_name);
        if (p)
            kk_remove_tree(p, NULL);
        kk_free(p);
    }
    if (d)
        closedir(d);
    kk_free(dir);
    kk_install_list_release(&l);
    return rc;
}

/* The dated switches due by the schedule kept, with no network: run before each
 * heartbeat, so a kiosk offline for weeks still switches on time. */
static void switch_scheduled(struct kk_sync *s)
{
    struct schedule *sc = kk_malloc(sizeof(*sc));
    struct assignment want[KK_MAX_PACKS];
    if (!sc)
        return;
    pthread_mutex_lock(&s->lock);
    int have = s->sched != NULL;
    if (have)
        *sc = *s->sched;
    pthread_mutex_unlock(&s->lock);
    if (have && sc->nwin) {
        size_t n = schedule_wanted(sc, kk_clock_wall_ms(), want), m = 0;
        for (size_t i = 0; i < n; i++)
            if (want[i].forced)
                want[m++] = want[i];
        fetch_assigned(s, want, m, 1, NULL);
    }
    kk_free(sc);
}

size_t kk_sync_windows(struct kk_sync *s, struct kk_window *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (; s->sched && n < s->sched->nwin && n < max; n++)
        out[n] = s->sched->win[n];
    pthread_mutex_unlock(&s->lock);
    return n;
}

int kk_sync_schedule_due(struct kk_sync *s)
{
    struct schedule *sc = kk_malloc(sizeof(*sc));
    struct assignment want[KK_MAX_PACKS];
    struct kk_install_list l = {0};
    int due = 0;
    if (!sc)
        return 0;
    pthread_mutex_lock(&s->lock);
    int have = s->sched != NULL && s->sched->nwin && !s->st.running;
    if (have)
        *sc = *s->sched;
    pthread_mutex_unlock(&s->lock);
    if (have && kk_install_list_read(s->state, &l, NULL) == KK_OK) {
        size_t n = schedule_wanted(sc, kk_clock_wall_ms(), want);
        for (size_t i = 0; i < n && !due; i++) {
            const struct kk_install_entry *e = NULL;
            for (size_t k = 0; k < l.n && !e; k++)
                if (!strcmp(l.items[k].id, want[i].id))
                    e = &l.items[k];
            if (!want[i].forced || (e && !strcmp(e->version, want[i].version)) ||
                is_pending(s, want[i].id))
                continue;
            char *pre = prefetch_path(s, want[i].id, want[i].version);
            due = (e && e->previous && !strcmp(e->previous, want[i].version)) || is_dir(pre);
            kk_free(pre);
        }
    }
    kk_install_list_release(&l);
    kk_free(sc);
    if (due)
        kk_sync_now(s);
    return due;
}

/* ---- runs and the thread ------------------------------------------------------------- */

static uint64_t jitter(uint64_t ms, uint32_t percent)
{
    uint32_t span = 2 * percent + 1;
    return ms * (100 - percent + randombytes_uniform(span)) / 100;
}

static enum kk_err run_once(struct kk_sync *s, struct kk_buf *err)
{
    struct assignment a[KK_MAX_PACKS];
    size_t na = 0;
    struct schedule *sc = kk_calloc(1, sizeof(*sc));
    struct kk_buf why = KK_BUF_INIT;
    uint64_t sent_before;
    pthread_mutex_lock(&s->lock);
    s->st.running = 1;
    s->st.last_attempt_ms = kk_clock_wall_ms();
    sent_before = s->st.events_sent + s->st.events_rejected;
    pthread_mutex_unlock(&s->lock);

    /* Dated switches first: they need no network. */
    switch_scheduled(s);
    enum kk_err rc = sc ? heartbeat(s, sc, &why) : kk_fail(&why, KK_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = upload_screenshot(s, &why);
    if (!rc)
        rc = upload_events(s, &why);
    if (!rc) {
        na = schedule_wanted(sc, kk_clock_wall_ms(), a);
        rc = fetch_assigned(s, a, na, 0, &why);
    }
    if (!rc)
        rc = prefetch_scheduled(s, sc, &why);
    kk_free(sc);

    uint64_t queue = s->journal ? kk_journal_count(s->journal) : 0;
    uint64_t dropped = s->journal ? kk_journal_dropped(s->journal) : 0;
    int stopped = rc && stopping(s);
    unsigned recovered = 0;
    pthread_mutex_lock(&s->lock);
    s->st.running = 0;
    s->st.runs++;
    s->st.queue = queue;
    s->st.dropped = dropped;
    uint64_t delay;
    if (!rc) {
        recovered = s->st.failures;
        s->st.failures = 0;
        s->st.last_success_ms = kk_clock_wall_ms();
        snprintf(s->st.last_result, sizeof(s->st.last_result), "ok: %llu events sent",
                 (unsigned long long)(s->st.events_sent + s->st.events_rejected - sent_before));
        delay = jitter(s->interval_ms, 10);
        /* Commands wait, or someone watches this kiosk: the server asks to come back soon. */
        if (s->next_heartbeat_s && (uint64_t)s->next_heartbeat_s * 1000 < delay)
            delay = (uint64_t)s->next_heartbeat_s * 1000;
        if (s->shot || s->done_dirty)
            delay = 0; /* a result to report or a screenshot to send */
        s->done_dirty = 0;
    } else if (stopped) {
        snprintf(s->st.last_result, sizeof(s->st.last_result), "stopped");
        delay = 0;
    } else {
        s->st.failures++;
        snprintf(s->st.last_result, sizeof(s->st.last_result), "%s", kk_buf_str(&why));
        unsigned shift = s->st.failures - 1 < 20 ? s->st.failures - 1 : 20;
        uint64_t d = (uint64_t)s->backoff_min_ms << shift;
        delay = jitter(d < s->backoff_max_ms ? d : s->backoff_max_ms, 20);
    }
    s->next_due = mono_now() + delay;
    s->st.next_attempt_ms = stopped ? 0 : kk_clock_wall_ms() + (int64_t)delay;
    unsigned failures = s->st.failures;
    pthread_mutex_unlock(&s->lock);

    /* Only the running thread touches logged. */
    const size_t nslots = sizeof(s->logged) / sizeof(s->logged[0]);
    if (rc && !stopped) {
        int seen = 0;
        for (size_t i = 0; i < nslots && !seen; i++)
            seen = s->logged[i] && !strcmp(s->logged[i], kk_buf_str(&why));
        if (!seen) {
            kk_warn(MOD, "%s (attempt %u; retrying with back-off)", kk_buf_str(&why), failures);
            size_t slot = s->nlogged++ % nslots;
            kk_free(s->logged[slot]);
            s->logged[slot] = kk_strdup(kk_buf_str(&why));
        }
    } else if (!rc && recovered) {
        kk_info(MOD, "sync works again after %u failed attempts", recovered);
        for (size_t i = 0; i < nslots; i++) {
            kk_free(s->logged[i]);
            s->logged[i] = NULL;
        }
        s->nlogged = 0;
    }
    if (rc)
        kk_fail(err, rc, "%s", kk_buf_str(&why));
    kk_buf_release(&why);
    return rc;
}

enum kk_err kk_sync_run(struct kk_sync *s, struct kk_buf *err)
{
    pthread_mutex_lock(&s->lock);
    int on = s->thread_on;
    pthread_mutex_unlock(&s->lock);
    if (on)
        return kk_fail(err, KK_ERR_BUSY, "sync: the background thread is running");
    return run_once(s, err);
}

static void *thread_main(void *arg)
{
    struct kk_sync *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!stopping(s) && !s->now_requested && mono_now() < s->next_due) {
            struct timespec ts = {.tv_sec = (time_t)(s->next_due / 1000),
                                  .tv_nsec = (long)(s->next_due % 1000) * 1000000};
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
        }
        if (stopping(s))
            break;
        s->now_requested = 0;
        pthread_mutex_unlock(&s->lock);
        run_once(s, NULL);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

enum kk_err kk_sync_start(struct kk_sync *s, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    pthread_mutex_lock(&s->lock);
    if (s->thread_on) {
        rc = kk_fail(err, KK_ERR_BUSY, "sync: already started");
    } else {
        atomic_store(&s->stop, 0);
        s->next_due = 0;
        if (pthread_create(&s->thread, NULL, thread_main, s))
            rc = kk_fail(err, KK_ERR_NOMEM, "sync: cannot start a thread");
        else
            s->thread_on = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void kk_sync_now(struct kk_sync *s)
{
    pthread_mutex_lock(&s->lock);
    s->now_requested = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

void kk_sync_stop(struct kk_sync *s)
{
    pthread_mutex_lock(&s->lock);
    int on = s->thread_on;
    atomic_store(&s->stop, 1);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (on)
        pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->lock);
    s->thread_on = 0;
    s->st.running = 0;
    s->st.next_attempt_ms = 0;
    atomic_store(&s->stop, 0);
    pthread_mutex_unlock(&s->lock);
}

void kk_sync_status(struct kk_sync *s, struct kk_sync_status *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->st;
    pthread_mutex_unlock(&s->lock);
}

void kk_sync_set_interval(struct kk_sync *s, uint32_t interval_ms)
{
    pthread_mutex_lock(&s->lock);
    s->interval_ms = interval_ms ? interval_ms : 300000;
    /* A shorter interval counts from now: the wait already begun is cut to it (a back-off
     * after failures is left alone). */
    uint64_t due = mono_now() + s->interval_ms;
    if (!s->st.failures && s->next_due > due) {
        s->next_due = due;
        s->st.next_attempt_ms = kk_clock_wall_ms() + (int64_t)s->interval_ms;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
}

void kk_sync_install_seen(struct kk_sync *s)
{
    pthread_mutex_lock(&s->lock);
    s->st.install_pending = 0;
    kk_buf_reset(&s->pending_ids);
    pthread_mutex_unlock(&s->lock);
}

enum kk_err kk_sync_parse_answers(const char *body, size_t len, char *const *ids, size_t n,
                                  struct kk_buf *err)
{
    struct kk_buf b = KK_BUF_INIT, why = KK_BUF_INIT;
    struct schedule *sc = kk_malloc(sizeof(*sc));
    size_t rejected = 0;
    enum kk_err rc = sc ? kk_buf_add(&b, body, len) : KK_ERR_NOMEM;
    if (!rc) {
        /* Each parser sees every body: a good heartbeat answer is a bad events answer. */
        enum kk_err hb = parse_assignment(&b, sc, err);
        enum kk_err ev = parse_events_answer(NULL, &b, ids, n, &rejected, err);
        describe_answer(&b, &why);
        rc = hb ? hb : ev;
    }
    kk_free(sc);
    kk_buf_release(&b);
    kk_buf_release(&why);
    return rc;
}
