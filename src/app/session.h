/* The visitor session: who is at the screen (audience group, language, text size) and
 * the usage events their visit makes. Every event goes through session_event, which adds
 * what the session knows (session id, audience, language, pack) and queues it in the
 * journal. No SDL here. */
#ifndef SESSION_H
#define SESSION_H

#include <stdint.h>

#include "kepu/event.h"
#include "kepu/journal.h"
#include "kepu/pack.h"

struct session {
    struct kk_event_ctx ev;     /* what every event carries */
    struct kk_journal *journal; /* NULL: events are only logged */
    enum kk_lang lang, default_lang;
    int large_text, default_large_text; /* large text; what a visit starts with (overlay) */
    int high_contrast,
        default_high_contrast; /* the high-contrast theme; what a visit starts with */
    int audience;              /* enum kk_audience, -1 before the picker */
    int active;                /* a visitor's session is open */
    uint64_t started_at;       /* monotonic ms */
    char pack_ref[2 * 64 + 2]; /* "id@version" of the pack on screen, "" for none */
};

/* Sets s up outside any visit. kiosk_id must outlive s. */
void session_init(struct session *s, const char *kiosk_id, enum kk_lang default_lang);

/* Records a usage event (queued to the journal; never blocks on the disk). fields is
 * consumed (may be NULL). */
void session_event(struct session *s, const char *type, cJSON *fields);

/* A visitor starts: a new session id, the default language and text size, no group yet;
 * records session_start. */
void session_start(struct session *s);
/* The visit is over: records session_end{duration_ms, reason} and forgets the visitor.
 * Does nothing outside a session. */
void session_end(struct session *s, const char *reason);

/* The pack events refer to from now on: p, or none for NULL. The previous one is copied
 * to prev (at least sizeof(s->pack_ref) bytes) when prev is not NULL, so a screen that
 * sets its pack can put the one before it back (session_restore_pack). */
void session_set_pack(struct session *s, const struct kk_pack *p, char *prev);
void session_restore_pack(struct session *s, const char *prev);

/* The visitor chose group g (enum kk_audience): records the audience event. Seniors get
 * large text from the start. */
void session_set_audience(struct session *s, int g);
/* Switches between Chinese and English; records the language event. */
void session_toggle_lang(struct session *s);

#endif
