#include "srv_events.h"

#include <math.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/limits.h"
#include "kepu/log.h"

#define MIN_TS_MS     1000000000000LL /* 2001: anything older is a kiosk with no clock */
#define FUTURE_MS     (24LL * 3600 * 1000)
#define MAX_DURATION  (7LL * 24 * 3600 * 1000)
#define MAX_FREE_TEXT 1024

static const char *const audiences[] = {"youth",   "farmers",   "elderly",
                                        "workers", "officials", "other"};

static const char *const types[] = {"boot",        "session_start", "session_end", "page_view",
                                    "quiz_answer", "quiz_complete", "language",    "audience",
                                    "idle_reset",  "error"};

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, list[i]))
            return 1;
    return 0;
}

static int is_hex(const char *s, size_t min, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n >= min && n <= max;
}

/* A short label: 1..max bytes, no control characters (the body is valid UTF-8 already). */
static int is_label(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* Fails the check: appends "field: what" to reason and returns 0. */
static int bad(struct kk_buf *reason, const char *field, const char *what)
{
    kk_buf_addf(reason, "%s: %s", field, what);
    return 0;
}

static const char *get_string(const cJSON *ev, const char *field, int required, size_t max,
                              struct kk_buf *reason, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, field);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            *ok = bad(reason, field, "missing");
        return "";
    }
    if (!cJSON_IsString(v)) {
        *ok = bad(reason, field, "must be a string");
        return "";
    }
    if (!is_label(v->valuestring, max) && !(!required && !*v->valuestring)) {
        kk_buf_addf(reason, "%s: must be text of 1 to %zu bytes without control characters", field,
                    max);
        *ok = 0;
        return "";
    }
    return v->valuestring;
}

static int64_t get_int(const cJSON *ev, const char *field, int64_t min, int64_t max,
                       struct kk_buf *reason, int *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, field);
    if (!v) {
        *ok = bad(reason, field, "missing");
        return 0;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)min || d > (double)max) {
        kk_buf_addf(reason, "%s: must be a whole number from %lld to %lld", field, (long long)min,
                    (long long)max);
        *ok = 0;
        return 0;
    }
    return (int64_t)d;
}

static int check_choice(const cJSON *ev, struct kk_buf *reason)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev, "choice");
    if (!c)
        return bad(reason, "choice", "missing");
    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) > KK_MAX_CHOICES)
        return bad(reason, "choice", "must be an array of at most 8 choice numbers");
    const cJSON *item;
    cJSON_ArrayForEach(item, c)
    {
        if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble) ||
            item->valuedouble < 0 || item->valuedouble >= KK_MAX_CHOICES)
            return bad(reason, "choice", "must hold whole numbers from 0 to 7");
    }
    return 1;
}

/* The fields of each type beyond the common ones. */
static int check_type_fields(const cJSON *ev, struct srv_event *out, struct kk_buf *reason)
{
    int ok = 1;
    const char *t = out->type;
    if (!strcmp(t, "session_end")) {
        get_int(ev, "duration_ms", 0, MAX_DURATION, reason, &ok);
        if (ok)
            get_string(ev, "reason", 1, KK_MAX_ID_LEN, reason, &ok);
    } else if (!strcmp(t, "page_view")) {
        out->topic = get_string(ev, "topic", 1, KK_MAX_ID_LEN, reason, &ok);
        if (ok)
            out->page = get_int(ev, "page", 0, KK_MAX_PAGES_PER_TOPIC, reason, &ok);
        if (ok)
            out->dwell_ms = get_int(ev, "dwell_ms", 0, MAX_DURATION, reason, &ok);
    } else if (!strcmp(t, "quiz_answer")) {
        out->topic = get_string(ev, "topic", 1, KK_MAX_ID_LEN, reason, &ok);
        if (ok)
            out->question = get_string(ev, "question", 1, KK_MAX_ID_LEN, reason, &ok);
        if (ok)
            ok = check_choice(ev, reason);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev, "correct");
        if (ok && !cJSON_IsBool(c))
            ok = bad(reason, "correct", c ? "must be true or false" : "missing");
        out->correct = cJSON_IsTrue(c);
        if (ok)
            get_int(ev, "ms", 0, MAX_DURATION, reason, &ok);
    } else if (!strcmp(t, "quiz_complete")) {
        out->topic = get_string(ev, "topic", 1, KK_MAX_ID_LEN, reason, &ok);
        int64_t total = ok ? get_int(ev, "total", 0, KK_MAX_QUESTIONS_PER_TOPIC, reason, &ok) : 0;
        if (ok)
            get_int(ev, "score", 0, total, reason, &ok);
    } else if (!strcmp(t, "language")) {
        const char *l = get_string(ev, "lang", 1, 8, reason, &ok);
        if (ok && strcmp(l, "zh") && strcmp(l, "en"))
            ok = bad(reason, "lang", "must be zh or en");
    } else if (!strcmp(t, "audience")) {
        if (!*out->audience)
            ok = bad(reason, "audience", "missing");
    } else if (!strcmp(t, "error")) {
        get_string(ev, "code", 1, KK_MAX_ID_LEN, reason, &ok);
        if (ok)
            get_string(ev, "detail", 0, MAX_FREE_TEXT, reason, &ok);
    }
    return ok;
}

int srv_event_check(const cJSON *ev, const char *kiosk, int64_t now_ms, struct srv_event *out,
                    struct kk_buf *reason)
{
    int ok = 1;
    memset(out, 0, sizeof(*out));
    out->topic = out->question = out->audience = "";
    if (!cJSON_IsObject(ev))
        return bad(reason, "event", "must be an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    if (!cJSON_IsString(id) || !is_hex(id->valuestring, 32, 32))
        return bad(reason, "id", id ? "must be 32 lowercase hex digits" : "missing");
    out->id = id->valuestring;
    out->kiosk = get_string(ev, "kiosk", 1, KK_MAX_ID_LEN, reason, &ok);
    if (!ok)
        return 0;
    if (strcmp(out->kiosk, kiosk))
        return bad(reason, "kiosk", "does not match the kiosk of the token");
    out->ts = get_int(ev, "ts", MIN_TS_MS, now_ms + FUTURE_MS, reason, &ok);
    out->type = ok ? get_string(ev, "type", 1, KK_MAX_ID_LEN, reason, &ok) : "";
    if (!ok)
        return 0;
    if (!in_list(out->type, types, sizeof(types) / sizeof(types[0])))
        return bad(reason, "type", "unknown event type");
    const cJSON *session = cJSON_GetObjectItemCaseSensitive(ev, "session");
    if (session && !cJSON_IsNull(session) &&
        !(cJSON_IsString(session) && is_hex(session->valuestring, 0, 64)))
        return bad(reason, "session", "must be hex digits");
    out->audience = get_string(ev, "audience", 0, KK_MAX_ID_LEN, reason, &ok);
    if (ok && *out->audience &&
        !in_list(out->audience, audiences, sizeof(audiences) / sizeof(audiences[0])))
        return bad(reason, "audience", "unknown audience group");
    const char *lang = ok ? get_string(ev, "lang", 0, 8, reason, &ok) : "";
    if (ok && *lang && strcmp(lang, "zh") && strcmp(lang, "en"))
        return bad(reason, "lang", "must be zh or en");
    if (ok)
        get_string(ev, "pack", 0, 2 * KK_MAX_ID_LEN + 1, reason, &ok);
    return ok && check_type_fields(ev, out, reason);
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
            bodies[good] = cJSON_PrintUnformatted(ev);
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
            rc = answer_error(res, 503, "the store is unavailable; nothing was stored, retry");
            goto done;
        }
    }
    for (size_t i = 0; i < good; i++)
        res->accepted += inserted[i];
    res->duplicates = good - res->accepted;
    if (!cJSON_AddNumberToObject(answer, "accepted", (double)res->accepted) ||
        !cJSON_AddNumberToObject(answer, "duplicates", (double)res->duplicates)) {
        rc = KK_ERR_NOMEM;
        goto done;
    }
    cJSON_AddItemToObject(answer, "rejected", rejected);
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
