#include "srv_events.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "kepu/alloc.h"
#include "kepu/event.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "srv_alert.h"

#define DAY_S        86400
#define MAX_TRACKED  4096 /* kiosks whose use is remembered; the least recent is forgotten */
#define FULL_RETRY_S 600  /* how soon a kiosk asks again while the data folder is short */

/* What one kiosk used of its limits. */
struct usage {
    char kiosk[KK_MAX_ID_LEN + 1];
    double tokens;     /* events it may send now (a token bucket of size burst) */
    int64_t refill_ms; /* when tokens was last topped up */
    int64_t day;       /* the city day bytes counts */
    uint64_t bytes;    /* bytes stored for it that day */
    int64_t used_ms;   /* its last batch, to forget the least recent kiosk */
};

/* The limits and every kiosk's use, shared by the server's threads. The limits live in
 * this process: several processes behind a proxy each allow the rate (docs/server.md). */
static struct {
    pthread_mutex_t lock;
    struct srv_events_limits lim;
    struct usage u[MAX_TRACKED];
    size_t n;
} ingest = {PTHREAD_MUTEX_INITIALIZER, {100, 5000, 64u << 20, 256u << 20}, {{{0}}}, 0};

void srv_events_limits_default(struct srv_events_limits *l)
{
    l->rate_per_s = 100;
    l->burst = 5000;
    l->quota_bytes_day = 64u << 20;
    l->min_free_bytes = 256u << 20;
}

void srv_events_set_limits(const struct srv_events_limits *l)
{
    pthread_mutex_lock(&ingest.lock);
    ingest.lim = *l;
    ingest.n = 0;
    pthread_mutex_unlock(&ingest.lock);
}

static int64_t city_day(int64_t now_ms)
{
    return (now_ms / 1000 + SRV_DAY_OFFSET_S) / DAY_S;
}

/* The kiosk's record, made (or taken from the least recent kiosk) when it has none.
 * Called with the lock held. */
static struct usage *usage_of(const char *kiosk, int64_t now_ms)
{
    size_t oldest = 0;
    for (size_t i = 0; i < ingest.n; i++) {
        if (!strcmp(ingest.u[i].kiosk, kiosk))
            return &ingest.u[i];
        if (ingest.u[i].used_ms < ingest.u[oldest].used_ms)
            oldest = i;
    }
    struct usage *u = ingest.n < MAX_TRACKED ? &ingest.u[ingest.n++] : &ingest.u[oldest];
    memset(u, 0, sizeof(*u));
    snprintf(u->kiosk, sizeof(u->kiosk), "%s", kiosk);
    u->tokens = ingest.lim.burst;
    u->refill_ms = now_ms;
    u->day = city_day(now_ms);
    return u;
}

/* Takes n events from the kiosk's rate and checks its daily quota. Returns 0, or the
 * seconds after which to ask again (nothing is taken then). */
static unsigned admit(const char *kiosk, size_t n, int64_t now_ms)
{
    unsigned retry = 0;
    pthread_mutex_lock(&ingest.lock);
    const struct srv_events_limits *lim = &ingest.lim;
    struct usage *u = usage_of(kiosk, now_ms);
    u->used_ms = now_ms;
    if (u->day != city_day(now_ms)) {
        u->day = city_day(now_ms);
        u->bytes = 0;
    }
    if (lim->quota_bytes_day && u->bytes >= lim->quota_bytes_day) {
        retry = (unsigned)(DAY_S - (now_ms / 1000 + SRV_DAY_OFFSET_S) % DAY_S);
        goto done;
    }
    if (!lim->rate_per_s)
        goto done;
    if (now_ms > u->refill_ms) {
        u->tokens += (double)(now_ms - u->refill_ms) * lim->rate_per_s / 1000.0;
        u->refill_ms = now_ms;
    }
    if (u->tokens > lim->burst)
        u->tokens = lim->burst;
    double need = (double)(n < lim->burst ? n : lim->burst);
    if (u->tokens < need) {
        retry = (unsigned)ceil((need - u->tokens) / lim->rate_per_s);
        goto done;
    }
    u->tokens -= need;
done:
    pthread_mutex_unlock(&ingest.lock);
    return retry;
}

/* Counts bytes stored for kiosk into today's quota. */
static void charge(const char *kiosk, uint64_t bytes, int64_t now_ms)
{
    pthread_mutex_lock(&ingest.lock);
    struct usage *u = usage_of(kiosk, now_ms);
    u->bytes += bytes;
    pthread_mutex_unlock(&ingest.lock);
}

/* True when the data folder has less free space than the limit (or cannot be asked). */
static int short_of_space(const char *dir)
{
    pthread_mutex_lock(&ingest.lock);
    uint64_t min = ingest.lim.min_free_bytes;
    pthread_mutex_unlock(&ingest.lock);
    struct statvfs st;
    if (!min || !dir)
        return 0;
    if (statvfs(dir, &st) != 0)
        return 1;
    return (uint64_t)st.f_bavail * st.f_frsize < min;
}

static int bad(struct kk_buf *reason, const char *field, const char *what)
{
    kk_buf_addf(reason, "%s: %s", field, what);
    return 0;
}

static const char *str_or_empty(const cJSON *ev, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, name));
    return s ? s : "";
}

static int64_t int_or_zero(const cJSON *ev, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int srv_event_check(const cJSON *ev, const char *kiosk, int64_t now_ms, struct srv_event *out,
                    struct kk_buf *reason)
{
    memset(out, 0, sizeof(*out));
    out->id = out->kiosk = out->type = out->topic = out->question = out->audience = "";
    out->session = out->block = out->action = out->target = out->lang = "";
    if (kk_event_check(ev, 0, reason))
        return 0;
    out->kiosk = str_or_empty(ev, "kiosk");
    if (strcmp(out->kiosk, kiosk))
        return bad(reason, "kiosk", "does not match the kiosk of the token");
    out->id = str_or_empty(ev, "id");
    out->type = str_or_empty(ev, "type");
    out->audience = str_or_empty(ev, "audience");
    out->topic = str_or_empty(ev, "topic");
    out->question = str_or_empty(ev, "question");
    out->session = str_or_empty(ev, "session");
    out->block = str_or_empty(ev, "block");
    out->action = str_or_empty(ev, "action");
    out->target = str_or_empty(ev, "target");
    out->lang = str_or_empty(ev, "lang");
    out->ms_heard = int_or_zero(ev, "ms_heard");
    out->ts = int_or_zero(ev, "ts");
    out->page = int_or_zero(ev, "page");
    out->dwell_ms = int_or_zero(ev, "dwell_ms");
    out->correct = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "correct"));
    out->clock_flag = !kk_event_ts_plausible(out->ts, now_ms);
    return 1;
}

static enum kk_err answer_error(struct srv_batch_result *res, int status, const char *msg)
{
    res->status = status;
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    enum kk_err rc = KK_ERR_NOMEM;
    if (o && cJSON_AddStringToObject(o, "error", msg) && (text = cJSON_PrintUnformatted(o)))
        rc = kk_buf_adds(&res->body, text);
    cJSON_free(text);
    cJSON_Delete(o);
    return rc;
}

/* Notes a rollback alert when body is an error event with code "rollback". */
static void rollback_alert(struct srv_store *store, const char *kiosk, const char *body,
                           int64_t now_ms)
{
    cJSON *e = cJSON_Parse(body);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(e, "detail");
    if (cJSON_IsString(code) && !strcmp(code->valuestring, "rollback"))
        srv_alert_rollback(store, kiosk, cJSON_IsString(detail) ? detail->valuestring : "", now_ms);
    cJSON_Delete(e);
}

enum kk_err srv_events_batch(struct srv_store *store, const char *kiosk, const cJSON *batch,
                             int64_t now_ms, struct srv_batch_result *res)
{
    enum kk_err rc = KK_OK;
    struct srv_event *evs = NULL;
    char **bodies = NULL;
    unsigned char *inserted = NULL;
    cJSON *answer = NULL, *rejected = NULL;
    struct kk_buf reason = KK_BUF_INIT, err = KK_BUF_INIT;
    char *text = NULL;
    size_t n = 0, good = 0;

    kk_buf_init(&res->body, 0);
    res->accepted = res->duplicates = res->rejected = 0;
    res->retry_after_s = 0;
    if (!cJSON_IsObject(batch))
        return answer_error(res, 400, "body must be a JSON object {\"kiosk\", \"events\"}");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(batch, "kiosk");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(batch, "events");
    if (!cJSON_IsString(k))
        return answer_error(res, 400, "kiosk: missing or not a string");
    if (strcmp(k->valuestring, kiosk))
        return answer_error(res, 403, "kiosk: does not match the kiosk of the token");
    if (!cJSON_IsArray(list))
        return answer_error(res, 400, "events: missing or not an array");
    n = (size_t)cJSON_GetArraySize(list);
    if (n > SRV_MAX_BATCH_EVENTS)
        return answer_error(res, 413, "events: more than 1000 events in one batch");
    if (short_of_space(store->data_dir)) {
        kk_error("events", "%s: free space below the limit; refusing events from %s",
                 store->data_dir, kiosk);
        res->retry_after_s = FULL_RETRY_S;
        return answer_error(res, 503, "the server is short of disk space; keep the events, retry");
    }
    res->retry_after_s = admit(kiosk, n, now_ms);
    if (res->retry_after_s)
        return answer_error(res, 429,
                            "over this kiosk's event rate or daily quota; keep the "
                            "events, retry after Retry-After seconds");

    evs = kk_calloc(n ? n : 1, sizeof(*evs));
    bodies = kk_calloc(n ? n : 1, sizeof(*bodies));
    inserted = kk_calloc(n ? n : 1, 1);
    answer = cJSON_CreateObject();
    rejected = cJSON_CreateArray();
    if (!evs || !bodies || !inserted || !answer || !rejected) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    const cJSON *ev;
    cJSON_ArrayForEach(ev, list)
    {
        kk_buf_reset(&reason);
        struct srv_event *e = &evs[good];
        int ok = srv_event_check(ev, kiosk, now_ms, e, &reason);
        if (ok) {
            /* Only the contract's fields are kept: a kiosk cannot fill the disk with
             * members nobody reads. */
            cJSON *kept = kk_event_copy(ev);
            bodies[good] = kept ? cJSON_PrintUnformatted(kept) : NULL;
            cJSON_Delete(kept);
            if (!bodies[good]) {
                rc = KK_ERR_NOMEM;
                goto done;
            }
            if (strlen(bodies[good]) > KK_MAX_EVENT_BYTES) {
                ok = 0;
                kk_buf_adds(&reason, "event: larger than 16 KiB");
                cJSON_free(bodies[good]);
                bodies[good] = NULL;
            }
        }
        if (kk_buf_error(&reason)) {
            rc = KK_ERR_NOMEM; /* a rejection without its reason would mislead the kiosk */
            goto done;
        }
        if (ok) {
            e->body = bodies[good++];
            continue;
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
        cJSON *r = cJSON_CreateObject();
        if (!r || !cJSON_AddItemToArray(rejected, r) ||
            !(cJSON_IsString(id) ? cJSON_AddStringToObject(r, "id", id->valuestring)
                                 : cJSON_AddNullToObject(r, "id")) ||
            !cJSON_AddStringToObject(r, "reason", kk_buf_str(&reason))) {
            rc = KK_ERR_NOMEM;
            goto done;
        }
        res->rejected++;
    }
    if (good) {
        enum kk_err src = srv_store_events_add(store, evs, good, inserted, now_ms, &err);
        if (src) {
            kk_error("events", "storing %zu events from %s: %s", good, kiosk, kk_buf_str(&err));
            res->retry_after_s = 30;
            rc = answer_error(res, 503, "the store is unavailable; nothing was stored, retry");
            goto done;
        }
    }
    uint64_t stored = 0;
    for (size_t i = 0; i < good; i++) {
        res->accepted += inserted[i];
        /* A rollback after failed starts is an alert (srv_alert.h), once per event. */
        if (inserted[i] && !strcmp(evs[i].type, "error"))
            rollback_alert(store, kiosk, evs[i].body, now_ms);
        stored += inserted[i] ? strlen(evs[i].body) : 0;
    }
    charge(kiosk, stored, now_ms);
    res->duplicates = good - res->accepted;
    if (!cJSON_AddNumberToObject(answer, "accepted", (double)res->accepted) ||
        !cJSON_AddNumberToObject(answer, "duplicates", (double)res->duplicates)) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    if (!cJSON_AddItemToObject(answer, "rejected", rejected)) {
        rc = KK_ERR_NOMEM; /* rejected is still ours: freed below */
        goto done;
    }
    rejected = NULL;
    text = cJSON_PrintUnformatted(answer);
    if (!text || kk_buf_adds(&res->body, text)) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    res->status = 200;
done:
    for (size_t i = 0; bodies && i < n; i++)
        cJSON_free(bodies[i]);
    kk_free(bodies);
    kk_free(evs);
    kk_free(inserted);
    cJSON_Delete(answer);
    cJSON_Delete(rejected);
    cJSON_free(text);
    kk_buf_release(&reason);
    kk_buf_release(&err);
    return rc;
}
