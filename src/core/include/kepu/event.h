/* Usage events (DESIGN.md "Usage events", docs/events.md). No personal data, ever.
 *
 * The one contract of the events: a table with a row per event type naming its fields and
 * their rules, and one check (kk_event_check) that the kiosk runs before it journals an
 * event (kk_event_make) and the server runs when it ingests one (srv_events.c). Adding an
 * event type is adding one row to that table in event.c. */
#ifndef KEPU_EVENT_H
#define KEPU_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

/* What a field of an event may hold. */
enum kk_event_kind {
    KK_EVF_HEX,      /* lowercase hex digits, min..max of them */
    KK_EVF_LABEL,    /* text of 1..max bytes without control characters */
    KK_EVF_TEXT,     /* text of 0..max bytes without control characters */
    KK_EVF_INT,      /* a whole number from min to max (or to the field max_field names) */
    KK_EVF_BOOL,     /* true or false */
    KK_EVF_CHOICES,  /* an array of at most KK_MAX_CHOICES choice numbers 0..KK_MAX_CHOICES-1 */
    KK_EVF_AUDIENCE, /* one of the audience groups' wire names (kk_audience_name) */
    KK_EVF_LANG,     /* one of the languages' wire names (kk_lang_name) */
};

struct kk_event_field {
    const char *name; /* NULL ends a list */
    enum kk_event_kind kind;
    int required;          /* 0: may be absent or null (text kinds: or "") */
    int64_t min, max;      /* INT: the range; HEX, LABEL, TEXT: the length range */
    const char *max_field; /* INT: the maximum is this field's value instead (score <= total) */
};

#define KK_EVENT_MAX_FIELDS 6 /* fields of one type beyond the common ones */

/* One row of the contract: a type and the fields it carries beyond the common ones. A
 * field named like a common one (lang, audience) makes that one required for the type. */
struct kk_event_type {
    const char *name;
    struct kk_event_field fields[KK_EVENT_MAX_FIELDS + 1]; /* ends at a NULL name */
};

/* The rows of the contract, n of them. Static; never NULL. */
const struct kk_event_type *kk_event_types(size_t *n);
/* The fields every event may carry (id, kiosk, ts, type, session, audience, lang, pack,
 * ts_kiosk), ending at a NULL name. Static; never NULL. */
const struct kk_event_field *kk_event_common_fields(void);
/* The row of type, or NULL when the contract has none. */
const struct kk_event_type *kk_event_type_find(const char *type);
/* True when type is a row of the contract. */
int kk_event_type_known(const char *type);

/* Checking flags. */
#define KK_EVENT_STRICT 1u /* a member the contract does not name is an error (the kiosk) */

/* Checks ev against the contract: an object, every common field and every field of its
 * type present when required and well-formed. Members the contract does not name are
 * allowed unless flags has KK_EVENT_STRICT (the server drops them, see kk_event_copy).
 * The timestamp must be a whole number; whether it is plausible is not the contract's
 * business (the server flags implausible ones and keeps them). Returns KK_OK, or
 * KK_ERR_INVALID with one reason "field: what is wrong" appended to err (may be NULL):
 * the same reason for the same event wherever it is checked. */
enum kk_err kk_event_check(const cJSON *ev, unsigned flags, struct kk_buf *err);

/* A copy of a checked event holding only the members the contract names for its type,
 * for storing. Returns NULL when out of memory; free with cJSON_Delete. */
cJSON *kk_event_copy(const cJSON *ev);

/* The contract as JSON for the dashboard and docs: {"audiences":[…],"languages":[…],
 * "types":[{"type","fields":[{"name","kind","required"}…]}…],"common":[…]}. NULL when out
 * of memory; free with cJSON_Delete. */
cJSON *kk_event_contract_json(void);

/* A time stamp outside [KK_EVENT_TS_MIN_MS, server's now + KK_EVENT_TS_AHEAD_MS] is
 * implausible: the kiosk's clock was wrong when it made the event. */
#define KK_EVENT_TS_MIN_MS   1000000000000LL /* 2001-09-09: older means a kiosk with no clock */
#define KK_EVENT_TS_AHEAD_MS (24LL * 3600 * 1000)

/* True when ts (ms) is plausible at the server's time server_now_ms. */
int kk_event_ts_plausible(int64_t ts, int64_t server_now_ms);

/* Places an event made by a wrong clock (docs/events.md "Clocks"): when the event text
 * json has an implausible ts at server_now_ms and ts + offset_ms is plausible, returns
 * the event with ts + offset_ms as ts and the original in ts_kiosk (a new string to free
 * with kk_free). Returns NULL when the event is left as it is: its ts is plausible, or
 * correcting would not place it, or it already has ts_kiosk, or it is not an event, or
 * memory ran out. */
char *kk_event_place(const char *json, int64_t offset_ms, int64_t server_now_ms);

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
 * member of fields replaces session, audience, lang or pack of the same name. The result
 * is checked with kk_event_check(KK_EVENT_STRICT) before it is returned. Returns a string
 * to free with kk_free, or NULL with the reason in err (may be NULL): out of memory, text
 * over KK_MAX_EVENT_BYTES, fields not an object or naming id, kiosk, ts or type, or an
 * event the contract refuses ("type: unknown event type", "topic: missing", ...). */
char *kk_event_make(const struct kk_event_ctx *ctx, const char *type, cJSON *fields,
                    struct kk_buf *err);

#endif
