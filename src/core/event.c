#include "kepu/event.h"

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/limits.h"

#define ID_BYTES 16 /* 128 bits */

static const char *const event_types[] = {
    "boot",          "session_start", "session_end", "page_view",  "quiz_answer",
    "quiz_complete", "language",      "audience",    "idle_reset", "error",
};

/* Members every event gets from kk_event_make itself; fields may not replace them, or an
 * event could lose its idempotency key or its time. */
static const char *const own_members[] = {"id", "kiosk", "ts", "type"};

void kk_event_new_session(struct kk_event_ctx *ctx)
{
    kk_random_hex(ctx->session, ID_BYTES);
}

int kk_event_type_known(const char *type)
{
    if (!type)
        return 0;
    for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
        if (strcmp(type, event_types[i]) == 0)
            return 1;
    return 0;
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
static int move_fields(cJSON *ev, cJSON *fields)
{
    if (!cJSON_IsObject(fields))
        return -1;
    while (fields->child) {
        cJSON *item = cJSON_DetachItemViaPointer(fields, fields->child);
        if (!item->string || is_own_member(item->string)) {
            cJSON_Delete(item);
            return -1;
        }
        /* Not cJSON_ReplaceItemInObject: it frees the item's key before copying it when the
         * key passed is that same string. */
        cJSON_DeleteItemFromObjectCaseSensitive(ev, item->string);
        if (!cJSON_AddItemToObject(ev, item->string, item)) {
            cJSON_Delete(item);
            return -1;
        }
    }
    return 0;
}

char *kk_event_make(const struct kk_event_ctx *ctx, const char *type, cJSON *fields)
{
    char *out = NULL;
    char *text = NULL;
    char id[2 * ID_BYTES + 1];
    cJSON *ev = cJSON_CreateObject();
    if (!ev || !type)
        goto done;
    kk_random_hex(id, ID_BYTES);
    if (!cJSON_AddStringToObject(ev, "id", id) ||
        !cJSON_AddStringToObject(ev, "kiosk", ctx->kiosk ? ctx->kiosk : "") ||
        !cJSON_AddNumberToObject(ev, "ts", (double)kk_clock_wall_ms()) ||
        !cJSON_AddStringToObject(ev, "type", type))
        goto done;
    if (ctx->session[0] && !cJSON_AddStringToObject(ev, "session", ctx->session))
        goto done;
    if (ctx->audience >= 0 && ctx->audience < KK_AUD_COUNT &&
        !cJSON_AddStringToObject(ev, "audience", kk_audience_name((enum kk_audience)ctx->audience)))
        goto done;
    if (!cJSON_AddStringToObject(ev, "lang", kk_lang_name(ctx->lang)))
        goto done;
    if (ctx->pack && !cJSON_AddStringToObject(ev, "pack", ctx->pack))
        goto done;
    if (fields && move_fields(ev, fields) < 0)
        goto done;
    text = cJSON_PrintUnformatted(ev);
    if (!text || strlen(text) > KK_MAX_EVENT_BYTES)
        goto done;
    out = kk_strdup(text);
done:
    cJSON_free(text);
    cJSON_Delete(ev);
    cJSON_Delete(fields);
    return out;
}
