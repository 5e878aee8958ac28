/* kiosk.conf: `key = value` lines, `#` comments (DESIGN.md "Kiosk config"). Every key has
 * a default; an unknown key or a bad value is an error naming the file, line and key. */
#ifndef KEPU_CONFIG_H
#define KEPU_CONFIG_H

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

enum kk_render_mode { KK_RENDER_AUTO, KK_RENDER_SOFTWARE, KK_RENDER_ACCELERATED };

struct kk_config {
    char *kiosk_id;             /* "k-0000" */
    char *server_url;           /* "" = no sync */
    char *token_file;           /* "" */
    char *trusted_keys;         /* comma-separated .pub paths, "" */
    char *content_dir;          /* "" = state_dir/packs then ./content */
    char *state_dir;            /* "$XDG_STATE_HOME/kepu-kiosk" or ~/.local/state/kepu-kiosk */
    int idle_timeout_s;         /* 60, 10..3600 */
    int idle_countdown_s;       /* 15, 3..120: the "Still there?" countdown */
    enum kk_lang default_lang;  /* zh */
    unsigned audiences;         /* KK_AUD_ALL: which choices the picker offers */
    char *staff_pin_hash;       /* "" = staff panel disabled */
    int sync_interval_s;        /* 300, 10..86400 */
    long journal_max_mb;        /* 1024, 1..1048576 */
    char *ca_file;              /* "" = system CAs */
    char *import_dirs;          /* "" */
    enum kk_render_mode render; /* auto */
    int high_contrast;          /* 0: every visit starts in the high-contrast theme when 1 */
    int reach;                  /* 0: when 1, every control lies within reach (380-1220 mm) */
    int reach_mount_mm;         /* 800, 0..3000: the screen's bottom edge above the floor */
    int reach_screen_mm;        /* 0 = the pixels at 0.5 mm each (a 43" screen); 0..4000:
                                   the screen's visible height, in mm */
    int wake_minutes;           /* 5, 1..120: a touch outside opening hours wakes the screen */
    /* Narration (read aloud): the volume in busy hours and outside them, in per cent;
     * busy_hours "HH:MM-HH:MM" in local time (a range past midnight, like 22:00-02:00,
     * wraps; "00:00-24:00" is always busy); autoplay for the elderly group. */
    int volume;           /* 80, 0..100 */
    int quiet_volume;     /* 30, 0..100: outside busy hours */
    int busy_from_min;    /* busy_hours = 09:00-17:00: minutes after midnight */
    int busy_to_min;      /* 0..1440 */
    int autoplay_elderly; /* 0, 0..1: narration starts by itself for the elderly group */
};

/* The volume (0..100) at local time minute_of_day (0..1439): volume within busy hours,
 * quiet_volume outside them. */
int kk_config_volume_at(const struct kk_config *cfg, int minute_of_day);

/* Fills cfg with every default (strings allocated; release with kk_config_release). */
enum kk_err kk_config_init(struct kk_config *cfg);
void kk_config_release(struct kk_config *cfg);
/* Reads path over the current values. '#' starts a comment only at the start of a line
 * (after blanks), so values may contain it; blanks around keys and values are trimmed; a
 * later line wins over an earlier one. Errors: KK_ERR_NOTFOUND, KK_ERR_IO, KK_ERR_TOOBIG,
 * KK_ERR_PARSE (a line without '=', a NUL byte), KK_ERR_INVALID (unknown key or bad value);
 * err gets one line like
 *   kiosk.conf:7: idle_timeout_s: "5" is not allowed (expected a whole number from 10 to 3600)
 * On failure cfg keeps the values of the lines before the bad one (release it as usual). */
enum kk_err kk_config_load(struct kk_config *cfg, const char *path, struct kk_buf *err);
/* Sets one key from its text form, validated as in the file (for command-line flags); err
 * gets "KEY: what is wrong (expected ...)". */
enum kk_err kk_config_set(struct kk_config *cfg, const char *key, const char *value,
                          struct kk_buf *err);

#endif
