#include "session.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/log.h"

void session_init(struct session *s, const char *kiosk_id, enum kk_lang default_lang)
{
    memset(s, 0, sizeof(*s));
    s->ev.kiosk = kiosk_id;
    s->ev.audience = -1;
    s->audience = -1;
    s->default_lang = default_lang;
    s->lang = default_lang;
}

void session_event(struct session *s, const char *type, cJSON *fields)
{
    s->ev.lang = s->lang;
    s->ev.audience = s->audience;
    s->ev.pack = s->pack_ref[0] ? s->pack_ref : NULL;
    struct kk_buf why = KK_BUF_INIT;
    char *json = kk_event_make(&s->ev, type, fields, &why);
    if (!json) {
        kk_error("journal", "cannot make a %s event: %s", type, kk_buf_str(&why));
        kk_buf_release(&why);
        return;
    }
    kk_buf_release(&why);
    if (s->journal) {
        enum kk_err rc = kk_journal_append(s->journal, json);
        if (rc)
            kk_warn("journal", "%s event not recorded: %s", type, kk_strerror(rc));
    }
    kk_debug("event", "%s", json);
    kk_free(json);
}

void session_start(struct session *s)
{
    kk_event_new_session(&s->ev);
    s->active = 1;
    s->started_at = kk_clock_mono_ms();
    s->audience = -1;
    s->lang = s->default_lang;
    s->large_text = s->default_large_text;
    s->high_contrast = s->default_high_contrast;
    session_event(s, "session_start", NULL);
}

void session_end(struct session *s, const char *reason)
{
    if (!s->active)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "duration_ms", (double)(kk_clock_mono_ms() - s->started_at));
    cJSON_AddStringToObject(f, "reason", reason);
    session_event(s, "session_end", f);
    s->active = 0;
    s->ev.session[0] = '\0';
    s->pack_ref[0] = '\0';
    s->audience = -1;
    s->lang = s->default_lang;
    s->large_text = s->default_large_text;
    s->high_contrast = s->default_high_contrast;
}

void session_set_pack(struct session *s, const struct kk_pack *p, char *prev)
{
    if (prev)
        memcpy(prev, s->pack_ref, sizeof(s->pack_ref));
    if (p)
        snprintf(s->pack_ref, sizeof(s->pack_ref), "%s@%s", p->id, p->version);
    else
        s->pack_ref[0] = '\0';
}

void session_restore_pack(struct session *s, const char *prev)
{
    snprintf(s->pack_ref, sizeof(s->pack_ref), "%s", prev);
}

void session_set_audience(struct session *s, int g)
{
    s->audience = g;
    s->large_text = g == KK_AUD_ELDERLY || s->default_large_text;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "audience", kk_audience_name((enum kk_audience)g));
    session_event(s, "audience", f);
}

void session_toggle_lang(struct session *s)
{
    s->lang = s->lang == KK_LANG_ZH ? KK_LANG_EN : KK_LANG_ZH;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "lang", kk_lang_name(s->lang));
    session_event(s, "language", f);
}
