#include "fleet_ui.h"

#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_image.h>

#include "app.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/sync.h"
#include "scenes.h"
#include "session.h"
#include "ui_layout.h"

#define MOD              "fleet"
#define SHOT_MAX_BYTES   (2u * 1024 * 1024) /* a screenshot is scaled down until it fits */
#define RESTART_GRACE_MS 10000 /* a restart waits this long at most for its report to go out */
#define HOURS_POLL_MS    30000 /* how often closing time is looked for (advance_ms rechecks) */

extern char **environ;

void fleet_ui_detach(struct app *a)
{
    if (a->fleet)
        kk_free(a->fleet->fleet);
    kk_free(a->fleet);
    a->fleet = NULL;
    a->env.remote_settings = NULL;
    a->fleet_tick = NULL;
    a->fleet_tap = NULL;
    a->fleet_build = NULL;
    a->fleet_dark = NULL;
}

/* ---- commands ---- */

static enum kk_err read_png(const char *path, unsigned char **png, size_t *len, struct kk_buf *err)
{
    struct kk_buf b = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(path, 64u * 1024 * 1024, &b, err);
    if (!rc)
        *png = (unsigned char *)kk_buf_detach(&b, len);
    kk_buf_release(&b);
    return rc;
}

/* The frame as visitors see it, as a PNG of at most SHOT_MAX_BYTES (halved until it fits). */
static enum kk_err screenshot_png(struct app *a, unsigned char **png, size_t *len,
                                  struct kk_buf *err)
{
    char *path = kk_path_join(a->cfg.state_dir, "office-screenshot.png");
    if (!path)
        return kk_fail(err, KK_ERR_NOMEM, "screenshot: out of memory");
    enum kk_err rc = app_screenshot(a, path, err);
    *png = NULL;
    while (!rc && !(rc = read_png(path, png, len, err)) && *len > SHOT_MAX_BYTES) {
        SDL_Surface *big = IMG_Load(path), *small = NULL;
        if (big && big->w > 64)
            small = SDL_CreateRGBSurfaceWithFormat(0, big->w / 2, big->h / 2, 32,
                                                   SDL_PIXELFORMAT_RGBA32);
        if (!small || SDL_BlitScaled(big, NULL, small, NULL) < 0 || IMG_SavePNG(small, path) < 0)
            rc = kk_fail(err, KK_ERR_IO, "screenshot: cannot scale it down: %s", SDL_GetError());
        SDL_FreeSurface(big);
        SDL_FreeSurface(small);
        kk_free(*png);
        *png = NULL;
    }
    unlink(path);
    kk_free(path);
    return rc;
}

static void run_command(struct app *a, struct kk_sync *sync, const struct kk_fleet_command *c,
                        uint64_t now)
{
    struct fleet_ui *f = a->fleet;
    if (c->type == KK_CMD_SCREENSHOT) {
        unsigned char *png = NULL;
        size_t len = 0;
        struct kk_buf err = KK_BUF_INIT;
        if (screenshot_png(a, &png, &len, &err)) {
            kk_warn(MOD, "command %s: %s", c->id, kk_buf_str(&err));
            kk_sync_command_done(sync, c->id, 0, kk_buf_str(&err));
        } else {
            kk_info(MOD, "command %s: screenshot of %zu bytes", c->id, len);
            kk_sync_screenshot(sync, c->id, png, len);
        }
        kk_buf_release(&err);
    } else if (c->type == KK_CMD_RESTART && !f->restarting) {
        /* Done before it happens: the restart must not run again when it comes back. */
        kk_info(MOD, "command %s: restarting once the result is reported", c->id);
        kk_sync_command_done(sync, c->id, 1, "restarting");
        f->restarting = 1;
        f->restart_at = now + RESTART_GRACE_MS;
    } else {
        kk_sync_command_done(sync, c->id, 0, "not a command for the app");
    }
}

/* ---- sleep ---- */

/* xset switches an X11 screen off and on (DPMS); elsewhere the black frame does. */
static void dpms(struct app *a, int on)
{
    const char *drv = SDL_GetCurrentVideoDriver();
    if (!drv || strcmp(drv, "x11") || !getenv("DISPLAY"))
        return;
    char *argv[] = {"xset", "dpms", "force", on ? "on" : "off", NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "xset", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0); /* xset answers at once; no network */
    else
        kk_debug(MOD, "xset is not there: the screen shows a black frame");
    (void)a;
}

static void set_sleeping(struct app *a, int sleeping)
{
    struct fleet_ui *f = a->fleet;
    if (f->sleeping == sleeping)
        return;
    f->sleeping = sleeping;
    kk_info(MOD, "%s", sleeping ? "outside opening hours: the screen sleeps" : "the screen wakes");
    if (a->content.sync)
        kk_sync_set_sleeping(a->content.sync, sleeping);
    if (sleeping)
        visit_go_home(&a->env); /* the next visitor starts afresh */
    dpms(a, !sleeping);
    scene_stack_invalidate(&a->stack);
}

/* ---- the settings overlay ---- */

/* The keys of the overlay the kiosk applies without a restart: the idle times, the
 * language and audiences, the sync interval (the sync thread's next wait), the narration's
 * volumes and the theme a visit starts with (high contrast, large text). Others the office
 * may set (the staff PIN hash) are read where they are used; they are skipped here, not
 * refused. */
enum {
    OV_IDLE,
    OV_COUNTDOWN,
    OV_WAKE,
    OV_LANG,
    OV_AUDIENCES,
    OV_SYNC,
    OV_VOLUME,
    OV_QUIET,
    OV_CONTRAST,
    OV_LARGE,
    OV_COUNT
};
static const char *const overlay_keys[OV_COUNT] = {
    "idle_timeout_s",  "idle_countdown_s", "wake_minutes", "default_lang",  "audiences",
    "sync_interval_s", "volume",           "quiet_volume", "high_contrast", "large_text"};

/* The overlay's value as kiosk.conf would spell it. */
static int value_text(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsString(v))
        return snprintf(out, n, "%s", v->valuestring) < (int)n;
    if (cJSON_IsNumber(v))
        return snprintf(out, n, "%.17g", v->valuedouble) < (int)n;
    if (cJSON_IsBool(v))
        return snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false") < (int)n;
    if (cJSON_IsArray(v)) { /* ["youth","elderly"] as "youth,elderly" */
        size_t used = 0;
        const cJSON *x;
        out[0] = '\0';
        cJSON_ArrayForEach(x, v)
        {
            if (!cJSON_IsString(x))
                return 0;
            int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", x->valuestring);
            if (w < 0 || (size_t)w >= n - used)
                return 0;
            used += (size_t)w;
        }
        return 1;
    }
    return 0;
}

/* Checks every value as kiosk.conf is checked; applies all or nothing. kiosk.conf's own
 * values come back for keys a later overlay no longer sets. */
static void apply_overlay(struct app *a, const char *text)
{
    struct fleet_ui *f = a->fleet;
    struct kk_config tmp;
    struct kk_buf err = KK_BUF_INIT;
    unsigned set = 0;
    int large = 0;
    char remote[sizeof(f->remote_text)] = "";
    cJSON *root = cJSON_Parse(text);
    int bad = 0;
    if (kk_config_init(&tmp)) {
        cJSON_Delete(root);
        return;
    }
    if (!cJSON_IsObject(root)) {
        kk_fail(&err, KK_ERR_INVALID, "settings overlay: not a JSON object");
        bad = 1;
    }
    const cJSON *item;
    const cJSON *list = bad ? NULL : root;
    cJSON_ArrayForEach(item, list)
    {
        int k = 0;
        while (k < OV_COUNT && strcmp(item->string, overlay_keys[k]))
            k++;
        if (k == OV_COUNT) {
            kk_debug(MOD, "settings overlay: %s is not the app's to apply here", item->string);
            continue;
        }
        char value[512];
        if (!value_text(item, value, sizeof(value))) {
            kk_fail(&err, KK_ERR_INVALID, "settings overlay: %s: not a value", item->string);
            bad = 1;
            break;
        }
        struct kk_buf why = KK_BUF_INIT;
        if (k == OV_LARGE) { /* not a kiosk.conf key: a switch of the overlay's own */
            if (!strcmp(value, "true") || !strcmp(value, "1"))
                large = 1;
            else if (!strcmp(value, "false") || !strcmp(value, "0"))
                large = 0;
            else
                kk_buf_adds(&why, "expected true or false");
        }
        if (k == OV_LARGE ? why.len > 0 : kk_config_set(&tmp, item->string, value, &why)) {
            kk_fail(&err, KK_ERR_INVALID, "settings overlay: %s = \"%.64s\": %s", item->string,
                    value, kk_buf_str(&why));
            bad = 1;
        }
        kk_buf_release(&why);
        if (bad)
            break;
        set |= 1u << k;
        size_t used = strlen(remote);
        snprintf(remote + used, sizeof(remote) - used, "%s%s = %s", used ? ", " : "", item->string,
                 value);
    }
    if (bad) {
        /* Refused whole: the old values stay. */
        kk_warn(MOD, "%s; refused, the old settings stay", kk_buf_str(&err));
        cJSON *fields = cJSON_CreateObject();
        cJSON_AddStringToObject(fields, "code", "settings_refused");
        cJSON_AddStringToObject(fields, "detail", kk_buf_str(&err));
        session_event(&a->session, "error", fields);
    } else {
        if (!f->base_saved) {
            f->base.idle_timeout_s = a->cfg.idle_timeout_s;
            f->base.idle_countdown_s = a->cfg.idle_countdown_s;
            f->base.wake_minutes = a->cfg.wake_minutes;
            f->base.default_lang = a->cfg.default_lang;
            f->base.audiences = a->cfg.audiences;
            f->base.sync_interval_s = a->cfg.sync_interval_s;
            f->base.volume = a->cfg.volume;
            f->base.quiet_volume = a->cfg.quiet_volume;
            f->base.high_contrast = a->cfg.high_contrast;
            f->base.large_text = a->session.default_large_text;
            f->base_saved = 1;
        }
        a->cfg.idle_timeout_s = set & 1u << OV_IDLE ? tmp.idle_timeout_s : f->base.idle_timeout_s;
        a->cfg.idle_countdown_s =
            set & 1u << OV_COUNTDOWN ? tmp.idle_countdown_s : f->base.idle_countdown_s;
        a->cfg.wake_minutes = set & 1u << OV_WAKE ? tmp.wake_minutes : f->base.wake_minutes;
        a->cfg.default_lang = set & 1u << OV_LANG ? tmp.default_lang : f->base.default_lang;
        a->cfg.audiences = set & 1u << OV_AUDIENCES ? tmp.audiences : f->base.audiences;
        int sync_s = set & 1u << OV_SYNC ? tmp.sync_interval_s : f->base.sync_interval_s;
        if (sync_s != a->cfg.sync_interval_s && a->content.sync)
            kk_sync_set_interval(a->content.sync, (uint32_t)sync_s * 1000u);
        a->cfg.sync_interval_s = sync_s;
        a->cfg.volume = set & 1u << OV_VOLUME ? tmp.volume : f->base.volume;
        a->cfg.quiet_volume = set & 1u << OV_QUIET ? tmp.quiet_volume : f->base.quiet_volume;
        a->cfg.high_contrast = set & 1u << OV_CONTRAST ? tmp.high_contrast : f->base.high_contrast;
        a->session.default_high_contrast = a->cfg.high_contrast;
        a->session.default_large_text = set & 1u << OV_LARGE ? large : f->base.large_text;
        if (!a->session.active) { /* between visits the attract screen shows the new theme */
            a->session.high_contrast = a->session.default_high_contrast;
            a->session.large_text = a->session.default_large_text;
        }
        snprintf(f->remote_text, sizeof(f->remote_text), "%s", remote);
        kk_info(MOD,
                "settings overlay applied: idle_timeout_s %d, audiences %#x, sync_interval_s %d,"
                " volume %d, quiet_volume %d, high_contrast %d, large_text %d",
                a->cfg.idle_timeout_s, a->cfg.audiences, a->cfg.sync_interval_s, a->cfg.volume,
                a->cfg.quiet_volume, a->cfg.high_contrast, a->session.default_large_text);
        scene_stack_invalidate(&a->stack);
    }
    cJSON_Delete(root);
    kk_config_release(&tmp);
    kk_buf_release(&err);
}

/* ---- the tick ---- */

static long sooner(long wait, int64_t w)
{
    if (w < 0)
        return wait;
    if (w > 0x7fffffff)
        w = 0x7fffffff;
    return wait < 0 || w < wait ? (long)w : wait;
}

long fleet_ui_tick(struct app *a, uint64_t now)
{
    struct fleet_ui *f = a->fleet;
    struct kk_sync *sync = a->content.sync;
    long wait = -1;
    if (!f->fleet && !(f->fleet = kk_calloc(1, sizeof(*f->fleet))))
        return -1;
    if (sync) {
        if (kk_sync_fleet(sync, &f->gen, f->fleet))
            kk_debug(MOD, "%zu notices, %s", f->fleet->nnotices,
                     f->fleet->has_hours ? "opening hours" : "no opening hours");
        struct kk_buf overlay = KK_BUF_INIT;
        if (kk_sync_overlay(sync, &f->overlay_gen, &overlay))
            apply_overlay(a, kk_buf_str(&overlay));
        kk_buf_release(&overlay);
        struct kk_fleet_command c;
        while (!f->restarting && kk_sync_take_command(sync, &c))
            run_command(a, sync, &c, now);
        if (f->restarting) {
            if (!kk_sync_unreported(sync) || now >= f->restart_at) {
                a->quit = 1;
                a->exit_code = FLEET_RESTART_EXIT;
            }
            wait = sooner(wait, 200);
        }
    }
    int64_t wall = kk_clock_wall_ms();
    int open = !f->fleet->has_hours || kk_hours_open(&f->fleet->hours, wall, NULL);
    set_sleeping(a, !open && now >= f->awake_until);
    if (!open)
        wait = sooner(wait, f->awake_until > now ? (int64_t)(f->awake_until - now) : HOURS_POLL_MS);
    else if (f->fleet->has_hours)
        wait = sooner(wait, HOURS_POLL_MS);

    const struct kk_notice *shown = NULL;
    for (size_t i = 0; i < f->fleet->nnotices; i++) {
        const struct kk_notice *n = &f->fleet->notices[i];
        if (wall < n->from_ms) {
            wait = sooner(wait, n->from_ms - wall);
            continue;
        }
        if (wall >= n->to_ms)
            continue;
        wait = sooner(wait, n->to_ms - wall);
        if (!shown && (!n->takeover || scene_stack_top(&a->stack) == &scene_attract))
            shown = n;
    }
    /* A banner takes the bottom strip from the scene, so it covers none of its targets. */
    int reserve = shown && !shown->takeover && !f->sleeping ? ui_px(&a->ui, 150) : 0;
    if (reserve != a->bottom_reserved) {
        a->bottom_reserved = reserve;
        scene_stack_invalidate(&a->stack);
    }
    if (shown != f->notice) {
        kk_info(MOD, "notice %s", shown ? shown->id : "none");
        f->notice = shown;
        scene_stack_invalidate(&a->stack);
    }
    return wait;
}

int fleet_ui_tap(struct app *a)
{
    struct fleet_ui *f = a->fleet;
    if (!f->fleet || !f->fleet->has_hours)
        return 0;
    uint64_t now = kk_clock_mono_ms();
    int was = f->sleeping;
    if (!kk_hours_open(&f->fleet->hours, kk_clock_wall_ms(), NULL))
        f->awake_until = now + (uint64_t)a->cfg.wake_minutes * 60000;
    set_sleeping(a, 0);
    return was;
}

int fleet_ui_dark(const struct app *a)
{
    return a->fleet->sleeping;
}

/* ---- the notice ---- */

void fleet_ui_build(struct app *a)
{
    const struct kk_notice *n = a->fleet->notice;
    if (!n || a->fleet->sleeping)
        return;
    const char *text = a->session.lang == KK_LANG_EN ? n->en : n->zh;
    const struct ui_color bg = {0x9e, 0x1c, 0x1c, 255}, fg = {255, 255, 255, 255};
    int bar = visit_top_bar_h(&a->env), pad = ui_px(&a->ui, 32);
    if (n->takeover) {
        struct ui_rect r = {0, bar, a->ui.w, a->ui.h - bar};
        struct ui_item *it = ui_list_push(&a->list, UI_RECT, r);
        if (it)
            it->color = bg;
        ui_layout_label(&a->list, &a->ui.measure, "notice", text, a->session.lang, UI_FONT_BOLD,
                        ui_px(&a->ui, 64), fg, pad * 2, bar + r.h / 3, a->ui.w - pad * 4, 6, 1,
                        UI_CUT_OVERFLOW);
    } else {
        /* At the bottom: the top bar's Back and Home stay free. */
        int h = a->bottom_reserved;
        struct ui_rect r = {0, a->ui.h - h, a->ui.w, h};
        struct ui_item *it = ui_list_push(&a->list, UI_RECT, r);
        if (it)
            it->color = bg;
        ui_layout_label(&a->list, &a->ui.measure, "notice", text, a->session.lang, UI_FONT_BOLD,
                        ui_px(&a->ui, 36), fg, pad, r.y + ui_px(&a->ui, 20), a->ui.w - 2 * pad, 2,
                        1, UI_CUT_OVERFLOW);
    }
}

void fleet_ui_attach(struct app *a)
{
    if (!(a->fleet = kk_calloc(1, sizeof(*a->fleet)))) {
        kk_warn(MOD, "out of memory: no office commands, opening hours or notices");
        return;
    }
    a->fleet_tick = fleet_ui_tick;
    a->fleet_tap = fleet_ui_tap;
    a->fleet_build = fleet_ui_build;
    a->fleet_dark = fleet_ui_dark;
    a->env.remote_settings = a->fleet->remote_text;
}

void fleet_ui_report(const struct app *a, cJSON *j)
{
    const struct kk_notice *n = a->fleet ? a->fleet->notice : NULL;
    cJSON_AddBoolToObject(j, "sleeping", a->fleet && a->fleet->sleeping);
    if (!n || a->fleet->sleeping) {
        cJSON_AddNullToObject(j, "notice");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(j, "notice");
    cJSON_AddStringToObject(o, "id", n->id);
    cJSON_AddStringToObject(o, "level", n->takeover ? "takeover" : "banner");
}
