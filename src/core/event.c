#include "kepu/event.h"

#include <math.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/log.h"

#define ID_BYTES      16                       /* 128 bits */
#define MAX_DURATION  (7LL * 24 * 3600 * 1000) /* a week: no visit or answer lasts longer */
#define MAX_FREE_TEXT 1024                     /* error.detail */
#define MAX_JSON_INT  9007199254740991LL       /* 2^53 - 1: what a JSON number holds exactly */

#define LABEL(n, req)                                                                              \
    {                                                                                              \
        n, KK_EVF_LABEL, req, 1, KK_MAX_ID_LEN, NULL                                               \
    }
#define DURATION(n)                                                                                \
    {                                                                                              \
        n, KK_EVF_INT, 1, 0, MAX_DURATION, NULL                                                    \
    }
#define PAGE                                                                                       \
    {                                                                                              \
        "page", KK_EVF_INT, 1, 0, KK_MAX_PAGES_PER_TOPIC, NULL                                     \
    }
#define LANG_REQUIRED                                                                              \
    {                                                                                              \
        "lang", KK_EVF_LANG, 1, 0, 0, NULL                                                         \
    }
#define AUDIENCE_REQUIRED                                                                          \
    {                                                                                              \
        "audience", KK_EVF_AUDIENCE, 1, 0, 0, NULL                                                 \
    }

static const struct kk_event_field common_fields[] = {
    {"id", KK_EVF_HEX, 1, 2 * ID_BYTES, 2 * ID_BYTES, NULL},
    LABEL("kiosk", 1),
    /* Any whole number: a wrong clock is flagged by the server, never a reason to refuse. */
    {"ts", KK_EVF_INT, 1, -MAX_JSON_INT, MAX_JSON_INT, NULL},
    LABEL("type", 1),
    {"session", KK_EVF_HEX, 0, 0, 64, NULL},
    {"audience", KK_EVF_AUDIENCE, 0, 0, 0, NULL},
    {"lang", KK_EVF_LANG, 0, 0, 0, NULL},
    {"pack", KK_EVF_LABEL, 0, 1, 2 * KK_MAX_ID_LEN + 1, NULL},
    /* The kiosk's own ts when the sync client corrected ts with the server's clock. */
    {"ts_kiosk", KK_EVF_INT, 0, -MAX_JSON_INT, MAX_JSON_INT, NULL},
    {NULL, 0, 0, 0, 0, NULL},
};

/* The contract: one row per event type (DESIGN.md "Usage events" and "Interactive blocks
 * and narration"). docs/events.md shows each with an example. */
static const struct kk_event_type event_types[] = {
    {"boot", {{NULL}}},
    {"session_start", {{NULL}}},
    {"session_end", {DURATION("duration_ms"), LABEL("reason", 1), {NULL}}},
    {"page_view", {LABEL("topic", 1), PAGE, DURATION("dwell_ms"), {NULL}}},
    {"quiz_answer",
     {LABEL("topic", 1),
      LABEL("question", 1),
      {"choice", KK_EVF_CHOICES, 1, 0, 0, NULL},
      {"correct", KK_EVF_BOOL, 1, 0, 0, NULL},
      DURATION("ms"),
      {NULL}}},
    {"quiz_complete",
     {LABEL("topic", 1),
      {"total", KK_EVF_INT, 1, 0, KK_MAX_QUESTIONS_PER_TOPIC, NULL},
      {"score", KK_EVF_INT, 1, 0, 0, "total"},
      {NULL}}},
    {"language", {LANG_REQUIRED, {NULL}}},
    {"audience", {AUDIENCE_REQUIRED, {NULL}}},
    {"idle_reset", {{NULL}}},
    {"error", {LABEL("code", 1), {"detail", KK_EVF_TEXT, 0, 0, MAX_FREE_TEXT, NULL}, {NULL}}},
    {"interact",
     {LABEL("topic", 1), PAGE, LABEL("block", 1), LABEL("action", 1), LABEL("target", 0), {NULL}}},
    {"audio_play", {LABEL("topic", 1), PAGE, LANG_REQUIRED, DURATION("ms_heard"), {NULL}}},
};
#define NTYPES (sizeof(event_types) / sizeof(event_types[0]))

/* Members every event gets from kk_event_make itself; fields may not replace them, or an
 * event could lose its idempotency key or its time. */
static const char *const own_members[] = {"id", "kiosk", "ts", "type"};

const struct kk_event_type *kk_event_types(size_t *n)
{
    *n = NTYPES;
    return event_types;
}

const struct kk_event_field *kk_event_common_fields(void)
{
    return common_fields;
}

const struct kk_event_type *kk_event_type_find(const char *type)
{
    for (size_t i = 0; type && i < NTYPES; i++)
        if (strcmp(type, event_types[i].name) == 0)
            return &event_types[i];
    return NULL;
}

int kk_event_type_known(const char *type)
{
    return kk_event_type_find(type) != NULL;
}

static const struct kk_event_field *find_field(const struct kk_event_field *list, const char *name)
{
    for (; list && list->name; list++)
        if (strcmp(list->name, name) == 0)
            return list;
    return NULL;
}

/* Adds item to array or object o (name NULL for an array); frees item when that fails. */
static int add_item(cJSON *o, const char *name, cJSON *item)
{
    if (item && (name ? cJSON_AddItemToObject(o, name, item) : cJSON_AddItemToArray(o, item)))
        return 1;
    cJSON_Delete(item);
    return 0;
}

/* ---- the check ---- */

static enum kk_err bad(struct kk_buf *err, const char *field, const char *what)
{
    return kk_fail(err, KK_ERR_INVALID, "%s: %s", field, what);
}

static int is_hex(const char *s, int64_t min, int64_t max)
{
    int64_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n >= min && n <= max;
}

/* Text of min..max bytes without control characters (the JSON is valid UTF-8 already). */
static int is_text(const char *s, int64_t min, int64_t max)
{
    size_t n = strlen(s);
    if ((int64_t)n < min || (int64_t)n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int is_whole(const cJSON *v, double min, double max)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= min &&
           v->valuedouble <= max;
}

static enum kk_err check_choices(const cJSON *v, struct kk_buf *err)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > KK_MAX_CHOICES)
        return kk_fail(err, KK_ERR_INVALID, "choice: must be an array of at most %d choice numbers",
                       KK_MAX_CHOICES);
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        if (!is_whole(item, 0, KK_MAX_CHOICES - 1))
            return kk_fail(err, KK_ERR_INVALID, "choice: must hold whole numbers from 0 to %d",
                           KK_MAX_CHOICES - 1);
    }
    return KK_OK;
}

static enum kk_err check_lang(const char *name, const char *s, struct kk_buf *err)
{
    if (kk_lang_parse(s) >= 0)
        return KK_OK;
    enum kk_err rc = kk_fail(err, KK_ERR_INVALID, "%s: must be", name);
    for (int i = 0; i < KK_LANG_COUNT; i++)
        kk_fail(err, rc, "%s%s",
                i == 0                   ? " "
                : i == KK_LANG_COUNT - 1 ? " or "
                                         : ", ",
                kk_lang_name((enum kk_lang)i));
    return rc;
}

/* Checks the member of ev that field f describes. */
static enum kk_err check_field(const cJSON *ev, const struct kk_event_field *f, struct kk_buf *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, f->name);
    int text = f->kind == KK_EVF_HEX || f->kind == KK_EVF_LABEL || f->kind == KK_EVF_TEXT ||
               f->kind == KK_EVF_AUDIENCE || f->kind == KK_EVF_LANG;
    if (!v || cJSON_IsNull(v))
        return f->required ? bad(err, f->name, "missing") : KK_OK;
    if (text && !cJSON_IsString(v))
        return bad(err, f->name, "must be a string");
    if (text && !f->required && f->kind != KK_EVF_HEX && !*v->valuestring)
        return KK_OK; /* an optional text may be "" */
    switch (f->kind) {
    case KK_EVF_HEX:
        if (is_hex(v->valuestring, f->min, f->max))
            return KK_OK;
        if (f->min == f->max)
            return kk_fail(err, KK_ERR_INVALID, "%s: must be %lld lowercase hex digits", f->name,
                           (long long)f->min);
        return bad(err, f->name, "must be hex digits");
    case KK_EVF_LABEL:
    case KK_EVF_TEXT:
        if (is_text(v->valuestring, f->kind == KK_EVF_LABEL ? 1 : 0, f->max))
            return KK_OK;
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: must be text of %d to %lld bytes without control characters", f->name,
                       f->kind == KK_EVF_LABEL ? 1 : 0, (long long)f->max);
    case KK_EVF_INT: {
        int64_t max = f->max;
        if (f->max_field) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev, f->max_field);
            max = cJSON_IsNumber(m) ? (int64_t)m->valuedouble : 0;
        }
        if (is_whole(v, (double)f->min, (double)max))
            return KK_OK;
        return kk_fail(err, KK_ERR_INVALID, "%s: must be a whole number from %lld to %lld", f->name,
                       (long long)f->min, (long long)max);
    }
    case KK_EVF_BOOL:
        return cJSON_IsBool(v) ? KK_OK : bad(err, f->name, "must be true or false");
    case KK_EVF_CHOICES:
        return check_choices(v, err);
    case KK_EVF_AUDIENCE:
        return kk_audience_parse(v->valuestring) >= 0 ? KK_OK
                                                      : bad(err, f->name, "unknown audience group");
    case KK_EVF_LANG:
        return check_lang(f->name, v->valuestring, err);
    }
    KK_BUG("event field kind %d", (int)f->kind);
}

enum kk_err kk_event_check(const cJSON *ev, unsigned flags, struct kk_buf *err)
{
    if (!cJSON_IsObject(ev))
        return bad(err, "event", "must be an object");
    const struct kk_event_type *t = NULL;
    for (const struct kk_event_field *f = common_fields; f->name; f++) {
        enum kk_err rc = check_field(ev, f, err);
        if (rc)
            return rc;
        if (strcmp(f->name, "type") == 0) {
            t = kk_event_type_find(cJSON_GetObjectItemCaseSensitive(ev, "type")->valuestring);
            if (!t)
                return bad(err, "type", "unknown event type");
        }
    }
    for (const struct kk_event_field *f = t->fields; f->name; f++) {
        enum kk_err rc = check_field(ev, f, err);
        if (rc)
            return rc;
    }
    if (flags & KK_EVENT_STRICT) {
        for (const cJSON *m = ev->child; m; m = m->next)
            if (!find_field(common_fields, m->string) && !find_field(t->fields, m->string))
                return kk_fail(err, KK_ERR_INVALID, "%s: not a field of %s events", m->string,
                               t->name);
    }
    return KK_OK;
}

cJSON *kk_event_copy(const cJSON *ev)
{
    const struct kk_event_type *t =
        kk_event_type_find(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type")));
    cJSON *out = cJSON_CreateObject();
    if (!out)
        return NULL;
    for (const cJSON *m = ev->child; m; m = m->next) {
        if (!find_field(common_fields, m->string) && !(t && find_field(t->fields, m->string)))
            continue;
        if (!add_item(out, m->string, cJSON_Duplicate(m, 1))) {
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

/* ---- the contract as JSON ---- */

static const char *kind_name(enum kk_event_kind k)
{
    switch (k) {
    case KK_EVF_HEX:
        return "hex";
    case KK_EVF_LABEL:
        return "label";
    case KK_EVF_TEXT:
        return "text";
    case KK_EVF_INT:
        return "int";
    case KK_EVF_BOOL:
        return "bool";
    case KK_EVF_CHOICES:
        return "choices";
    case KK_EVF_AUDIENCE:
        return "audience";
    case KK_EVF_LANG:
        return "lang";
    }
    KK_BUG("event field kind %d", (int)k);
}

static cJSON *fields_json(const struct kk_event_field *f)
{
    cJSON *list = cJSON_CreateArray();
    for (; list && f->name; f++) {
        cJSON *o = cJSON_CreateObject();
        if (!add_item(list, NULL, o) || !cJSON_AddStringToObject(o, "name", f->name) ||
            !cJSON_AddStringToObject(o, "kind", kind_name(f->kind)) ||
            !cJSON_AddBoolToObject(o, "required", f->required)) {
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

cJSON *kk_event_contract_json(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *aud = cJSON_AddArrayToObject(root, "audiences");
    cJSON *lang = cJSON_AddArrayToObject(root, "languages");
    cJSON *types = cJSON_AddArrayToObject(root, "types");
    if (!aud || !lang || !types || !add_item(root, "common", fields_json(common_fields)))
        goto fail;
    for (int i = 0; i < KK_AUD_COUNT; i++)
        if (!add_item(aud, NULL, cJSON_CreateString(kk_audience_name((enum kk_audience)i))))
            goto fail;
    for (int i = 0; i < KK_LANG_COUNT; i++)
        if (!add_item(lang, NULL, cJSON_CreateString(kk_lang_name((enum kk_lang)i))))
            goto fail;
    for (size_t i = 0; i < NTYPES; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!add_item(types, NULL, o) || !cJSON_AddStringToObject(o, "type", event_types[i].name) ||
            !add_item(o, "fields", fields_json(event_types[i].fields)))
            goto fail;
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* ---- clocks ---- */

int kk_event_ts_plausible(int64_t ts, int64_t server_now_ms)
{
    return ts >= KK_EVENT_TS_MIN_MS && ts <= server_now_ms + KK_EVENT_TS_AHEAD_MS;
}

char *kk_event_place(const char *json, int64_t offset_ms, int64_t server_now_ms)
{
    char *out = NULL, *text = NULL;
    cJSON *ev = cJSON_Parse(json);
    cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "ts");
    if (!cJSON_IsNumber(ts) || cJSON_GetObjectItemCaseSensitive(ev, "ts_kiosk") ||
        fabs(ts->valuedouble) > (double)MAX_JSON_INT)
        goto done;
    int64_t t = (int64_t)ts->valuedouble;
    if (kk_event_ts_plausible(t, server_now_ms) ||
        !kk_event_ts_plausible(t + offset_ms, server_now_ms))
        goto done;
    if (!cJSON_AddNumberToObject(ev, "ts_kiosk", (double)t))
        goto done;
    cJSON_SetNumberValue(ts, (double)(t + offset_ms));
    text = cJSON_PrintUnformatted(ev);
    if (text)
        out = kk_strdup(text);
done:
    cJSON_free(text);
    cJSON_Delete(ev);
    return out;
}

/* ---- making events on the kiosk ---- */

void kk_event_new_session(struct kk_event_ctx *ctx)
{
    kk_random_hex(ctx->session, ID_BYTES);
}

static int is_own_member(const char *name)
{
    for (size_t i = 0; i < sizeof(own_members) / sizeof(own_members[0]); i++)
        if (strcmp(name, own_members[i]) == 0)
            return 1;
    return 0;
}

/* Moves every member of fields into ev. A member named like one of the context's (session,
 * audience, lang, pack) replaces it: an "audience" event carries the newly chosen group. */
static enum kk_err move_fields(cJSON *ev, cJSON *fields, struct kk_buf *err)
{
    if (!cJSON_IsObject(fields))
        return kk_fail(err, KK_ERR_INVALID, "event fields: must be an object");
    while (fields->child) {
        cJSON *item = cJSON_DetachItemViaPointer(fields, fields->child);
        if (!item->string || is_own_member(item->string)) {
            kk_fail(err, KK_ERR_INVALID, "%s: set by the kiosk itself, not by the caller",
                    item->string ? item->string : "(unnamed)");
            cJSON_Delete(item);
            return KK_ERR_INVALID;
        }
        /* Not cJSON_ReplaceItemInObject: it frees the item's key before copying it when the
         * key passed is that same string. */
        cJSON_DeleteItemFromObjectCaseSensitive(ev, item->string);
        if (!cJSON_AddItemToObject(ev, item->string, item)) {
            cJSON_Delete(item);
            return kk_fail(err, KK_ERR_NOMEM, "event: out of memory");
        }
    }
    return KK_OK;
}

char *kk_event_make(const struct kk_event_ctx *ctx, const char *type, cJSON *fields,
                    struct kk_buf *err)
{
    char *out = NULL;
    char *text = NULL;
    char id[2 * ID_BYTES + 1];
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        goto nomem;
    kk_random_hex(id, ID_BYTES);
    if (!cJSON_AddStringToObject(ev, "id", id) ||
        !cJSON_AddStringToObject(ev, "kiosk", ctx->kiosk ? ctx->kiosk : "") ||
        !cJSON_AddNumberToObject(ev, "ts", (double)kk_clock_wall_ms()) ||
        (type && !cJSON_AddStringToObject(ev, "type", type)))
        goto nomem;
    if (ctx->session[0] && !cJSON_AddStringToObject(ev, "session", ctx->session))
        goto nomem;
    if (ctx->audience >= 0 && ctx->audience < KK_AUD_COUNT &&
        !cJSON_AddStringToObject(ev, "audience", kk_audience_name((enum kk_audience)ctx->audience)))
        goto nomem;
    if (!cJSON_AddStringToObject(ev, "lang", kk_lang_name(ctx->lang)))
        goto nomem;
    if (ctx->pack && !cJSON_AddStringToObject(ev, "pack", ctx->pack))
        goto nomem;
    if (fields) {
        enum kk_err rc = move_fields(ev, fields, err);
        if (rc)
            goto done;
    }
    if (kk_event_check(ev, KK_EVENT_STRICT, err))
        goto done;
    text = cJSON_PrintUnformatted(ev);
    if (!text)
        goto nomem;
    if (strlen(text) > KK_MAX_EVENT_BYTES) {
        kk_fail(err, KK_ERR_TOOBIG, "event: larger than %u bytes", KK_MAX_EVENT_BYTES);
        goto done;
    }
    out = kk_strdup(text);
    if (!out)
        goto nomem;
    goto done;
nomem:
    kk_fail(err, KK_ERR_NOMEM, "event: out of memory");
done:
    cJSON_free(text);
    cJSON_Delete(ev);
    cJSON_Delete(fields);
    return out;
}
