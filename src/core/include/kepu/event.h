/* Usage events (DESIGN.md "Usage events"). No personal data, ever. */
#ifndef KEPU_EVENT_H
#define KEPU_EVENT_H

#include <cjson/cJSON.h>

#include "kepu/pack.h"

/* What every event of one visitor session shares. */
struct kk_event_ctx {
    const char *kiosk; /* kiosk id */
    char session[33];  /* random 128-bit hex, "" outside a session */
    int audience;      /* enum kk_audience, or -1 before the visitor chose */
    enum kk_lang lang;
    const char *pack; /* "id@version" of the pack on screen, or NULL */
};

/* Starts a new session id in ctx. */
void kk_event_new_session(struct kk_event_ctx *ctx);

/* Serialises one event: id (random 128-bit hex), kiosk, ts (kk_clock_wall_ms), type,
 * session (left out when ""), audience (wire name, left out when -1), lang, pack (left out
 * when NULL), plus every member of fields (which is consumed and freed; may be NULL). A
 * member of fields replaces session, audience, lang or pack of the same name. Returns a
 * string to free with kk_free, or NULL when out of memory, when the text would exceed
 * KK_MAX_EVENT_BYTES, or when fields is not an object or names id, kiosk, ts or type. */
char *kk_event_make(const struct kk_event_ctx *ctx, const char *type, cJSON *fields);

/* True when type is one of DESIGN.md's event types. */
int kk_event_type_known(const char *type);

#endif
