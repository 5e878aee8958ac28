#include "app.h"

#include <SDL_image.h>
#include <SDL_ttf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "scenes.h"
#include "ui_draw.h"
#include "ui_image.h"
#include "ui_text.h"

#define SWIPE_MIN          80 /* design px of horizontal travel that makes a swipe */
#define PAGE_TURN_MS       220
#define STABLE_AFTER_MS    60000 /* a start that lasts this long did not fail */
#define SYNC_POLL_MS       2000  /* how often the UI looks at the sync thread's status */
#define FIRST_DRAW_WAIT_MS 40    /* how long a frame waits for pictures it started decoding */

static const struct scene *top(const struct app *a)
{
    return scene_stack_top(&a->stack);
}

static void invalidate(struct app *a)
{
    scene_stack_invalidate(&a->stack);
}

/* ---- building the screen ---- */

static void rebuild(struct app *a, uint64_t now)
{
    ui_list_clear(&a->list); /* the background is the renderer's clear colour */
    const struct scene *s = top(a);
    a->ui.lang = a->session.lang;
    a->ui.large_text = a->session.large_text;
    ui_theme_apply(
        a->session.high_contrast && a->ui.high_contrast_offered ? &a->theme_hc : &a->theme, &a->ui);
    int bar = visit_top_bar_h(&a->env);
    struct ui_rect box = {0, bar, a->ui.w, a->ui.h - bar - a->bottom_reserved};
    audio_frame_begin(a->audio);
    s->build(&a->env, scene_stack_top_self(&a->stack), &a->list, box);
    audio_frame_end(a->audio); /* before the bar: a recording no longer offered stops */
    visit_build_frame(&a->env, &a->list, now);
    if (a->fleet_build)
        a->fleet_build(a);
    a->stack.dirty = 0;
    a->redraw = 1;
    a->reported = 0;
}

/* Starts the page-turn animation towards dir (+1 next, -1 previous): the screen shown
 * now slides out as the rebuilt one slides in. */
static void begin_page_turn(struct app *a, int dir)
{
    if (a->automation && !a->animate) /* tests move the clock by hand: show results at once */
        return;
    struct ui_list tmp = a->anim_from;
    a->anim_from = a->list;
    a->list = tmp;
    a->anim_dir = dir;
    a->anim_start = kk_clock_mono_ms();
    if (!a->anim_start)
        a->anim_start = 1;
    invalidate(a);
}

/* After a handler: a page turn it asked for, then the switches it asked for. */
static void after_handler(struct app *a)
{
    int turn = a->env.turn;
    a->env.turn = 0;
    if (turn)
        begin_page_turn(a, turn);
    visit_apply(&a->env);
    if (a->env.turn) { /* a scene uncovered by the switch turned its page */
        begin_page_turn(a, a->env.turn);
        a->env.turn = 0;
    }
    if (a->env.quit)
        a->quit = 1;
}

/* ---- input: one path for fingers, the mouse and the automation channel ---- */

/* 1 when an input only wakes a sleeping screen or answers the idle prompt ("still
 * there?"): it must not also act on the screen underneath, whatever the input is. */
static int input_absorbed(struct app *a)
{
    if (a->fleet_tap && a->fleet_tap(a))
        return 1;
    int prompt = a->visit.idle_prompt; /* any input means the visitor is still there */
    visit_note_input(&a->env);
    return prompt;
}

/* A tap at (x, y) in the UI's pixels. */
static void tap_ui(struct app *a, int x, int y)
{
    if (a->stack.dirty)
        rebuild(a, kk_clock_mono_ms());
    if (input_absorbed(a))
        return;
    a->env.tap_x = x;
    a->env.tap_y = y;
    if (visit_corner_tap(&a->env, x, y)) { /* the corner opened the staff PIN */
        after_handler(a);
        return;
    }
    const struct ui_target *t = ui_list_hit(&a->list, x, y);
    if (!t)
        return;
    char id[sizeof(t->id)];
    memcpy(id, t->id, sizeof(id));
    kk_debug("input", "tap %s at %d,%d", id, x, y);
    if (!visit_tap(&a->env, id) && top(a)->tap)
        top(a)->tap(&a->env, scene_stack_top_self(&a->stack), id);
    after_handler(a);
}

void app_tap(struct app *a, int x, int y)
{
    tap_ui(a, x, y - a->view_y);
}

void app_swipe(struct app *a, int x1, int y1, int x2, int y2)
{
    int dx = x2 - x1, dy = y2 - y1;
    if (abs(dx) < ui_px(&a->ui, SWIPE_MIN) || abs(dx) < 2 * abs(dy)) {
        tap_ui(a, x2, y2 - a->view_y);
        return;
    }
    if (input_absorbed(a))
        return;
    if (top(a)->swipe)
        top(a)->swipe(&a->env, scene_stack_top_self(&a->stack), dx < 0 ? 1 : -1);
    after_handler(a);
}

void app_key(struct app *a, const char *key)
{
    if (input_absorbed(a))
        return;
    void *self = scene_stack_top_self(&a->stack);
    if (!strcmp(key, "Left") && top(a)->swipe)
        top(a)->swipe(&a->env, self, -1);
    else if (!strcmp(key, "Right") && top(a)->swipe)
        top(a)->swipe(&a->env, self, 1);
    else if (!strcmp(key, "Escape") && !a->fullscreen)
        a->quit = 1;
    after_handler(a);
}

/* ---- drawing ---- */

static void draw(struct app *a, uint64_t now)
{
    SDL_SetRenderDrawColor(a->ren, UI_BG.r, UI_BG.g, UI_BG.b, 255);
    SDL_RenderSetViewport(a->ren, NULL);
    SDL_RenderClear(a->ren);
    if (a->fleet_dark && a->fleet_dark(a)) {
        SDL_SetRenderDrawColor(a->ren, 0, 0, 0, 255);
        SDL_RenderClear(a->ren);
        return;
    }
    SDL_RenderSetViewport(a->ren, &(SDL_Rect){0, a->view_y, a->ui.w, a->ui.h});
    if (a->anim_start && now - a->anim_start < PAGE_TURN_MS) {
        double p = (double)(now - a->anim_start) / PAGE_TURN_MS;
        p = 1 - (1 - p) * (1 - p) * (1 - p); /* ease out */
        int off = (int)(p * a->ui.w);
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_FIXED, 0);
        ui_draw_list(a->ren, a->text, a->images, &a->anim_from, UI_DRAW_SLIDING,
                     -a->anim_dir * off);
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_SLIDING,
                     a->anim_dir * (a->ui.w - off));
    } else {
        a->anim_start = 0;
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_ALL, 0);
    }
}

enum kk_err app_read_screen(struct app *a, SDL_Surface **out, struct kk_buf *err)
{
    uint64_t now = kk_clock_mono_ms();
    a->anim_start = 0;
    if (a->stack.dirty)
        rebuild(a, now);
    draw(a, now);
    if (ui_images_settle(a->images, KK_IMAGE_DECODE_BUDGET_MS, 1)) /* the pictures, finished */
        draw(a, now);
    a->redraw = 1;
    SDL_Surface *s =
        SDL_CreateRGBSurfaceWithFormat(0, a->screen_w, a->screen_h, 32, SDL_PIXELFORMAT_RGBA32);
    if (!s)
        return kk_fail(err, KK_ERR_NOMEM, "screenshot: %s", SDL_GetError());
    SDL_RenderSetViewport(a->ren, NULL); /* the whole screen */
    if (SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_RGBA32, s->pixels, s->pitch) < 0) {
        SDL_FreeSurface(s);
        return kk_fail(err, KK_ERR_IO, "screenshot: %s", SDL_GetError());
    }
    *out = s;
    return KK_OK;
}

enum kk_err app_screenshot(struct app *a, const char *path, struct kk_buf *err)
{
    SDL_Surface *s = NULL;
    enum kk_err rc = app_read_screen(a, &s, err);
    if (!rc && IMG_SavePNG(s, path) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, IMG_GetError());
    SDL_FreeSurface(s);
    return rc;
}

/* ---- time ---- */

static long sooner(long wait, long w)
{
    return w >= 0 && (wait < 0 || w < wait) ? w : wait;
}

/* Runs the timers and returns how long the loop may sleep, in ms (-1: until input). */
static int run_timers(struct app *a, uint64_t now)
{
    long wait = visit_tick(&a->env, now);
    /* A minute up: this start did not fail (the crash-loop guard, content.c). */
    if (!a->started_ok) {
        if (now - a->started_at >= STABLE_AFTER_MS) {
            a->started_ok = 1;
            content_startup_ok(&a->content);
        } else {
            wait = sooner(wait, (long)(a->started_at + STABLE_AFTER_MS - now));
        }
    }
    /* Sync installs in the background; the switch waits for the attract screen. */
    struct kk_sync *sync = a->content.sync;
    if (sync) {
        if (now - a->sync_polled_at >= SYNC_POLL_MS) {
            struct kk_sync_status st;
            kk_sync_status(sync, &st);
            a->sync_polled_at = now;
            kk_sync_schedule_due(sync); /* a dated switch due: a run makes it, offline too */
            if (st.install_pending && !*a->cfg.content_dir && !a->content.pending) {
                kk_info("sync", "%s installed; switching at the attract screen", st.last_installed);
                a->content.pending = 1;
            }
            if (top(a) == &scene_staff)
                invalidate(a); /* the panel shows the sync state */
        }
        long left = (long)(a->sync_polled_at + SYNC_POLL_MS - now);
        wait = sooner(wait, left > 0 ? left : 0);
    }
    /* New content goes live only when nobody is using the kiosk. */
    if (a->content.pending && !a->session.active &&
        (top(a) == &scene_attract || top(a) == &scene_empty)) {
        visit_go_home(&a->env);
        visit_apply(&a->env);
    }
    if (a->fleet_tick)
        wait = sooner(wait, a->fleet_tick(a, now));
    int heard = 0; /* narration: its end, and the button's progress */
    wait = sooner(wait, audio_tick(a->audio, &heard));
    if (heard)
        invalidate(a);
    if (top(a)->tick)
        wait = sooner(wait, top(a)->tick(&a->env, scene_stack_top_self(&a->stack), now));
    if (a->anim_start) {
        a->redraw = 1;
        wait = 0;
    }
    return wait > 0x7fffffff ? 0x7fffffff : (int)wait;
}

/* ---- the loop ---- */

static void set_size(struct app *a, int w, int h)
{
    a->screen_w = w;
    a->screen_h = h;
    a->view_y = 0;
    if (a->cfg.reach) {
        /* Every control within reach: the whole UI goes into the rows of the screen
         * between 380 and 1220 mm above the floor; above them is background. */
        int top, rows;
        ui_reach_band(h, a->cfg.reach_mount_mm, a->cfg.reach_screen_mm, &top, &rows);
        if (rows >= h / 4) {
            a->view_y = top;
            h = rows;
        } else {
            kk_warn("reach", "only %d of %d rows lie 380-1220 mm above the floor: reach not used",
                    rows, h);
        }
    }
    a->ui.w = w;
    a->ui.h = h;
    /* The reference design is 1920x1080 in landscape and 1080x1920 in portrait. */
    double rw = w >= h ? 1920.0 : 1080.0, rh = w >= h ? 1080.0 : 1920.0;
    a->ui.scale = w / rw < h / rh ? w / rw : h / rh;
    invalidate(a);
}

static struct {
    int down, x, y;
    int dragging; /* the scene took this finger's drag (scene.drag) */
} pointer;

void app_pointer_down(struct app *a, int x, int y)
{
    pointer.down = 1;
    pointer.dragging = 0;
    pointer.x = x;
    pointer.y = y;
    if (a->stack.dirty)
        rebuild(a, kk_clock_mono_ms());
    const struct ui_target *t = ui_list_hit(&a->list, x, y - a->view_y);
    snprintf(a->ui.pressed, sizeof(a->ui.pressed), "%s", t ? t->id : "");
    if (t)
        invalidate(a); /* press feedback */
    /* A drag never starts on a sleeping screen or under the idle prompt: that touch only
     * wakes it or answers the prompt (pointer up, as for a tap). */
    int asleep = a->fleet_dark && a->fleet_dark(a);
    if (t && top(a)->drag && !a->visit.idle_prompt && !asleep) {
        char id[sizeof(t->id)];
        memcpy(id, t->id, sizeof(id));
        if (top(a)->drag(&a->env, scene_stack_top_self(&a->stack), SCENE_DRAG_BEGIN, id, x,
                         y - a->view_y)) {
            pointer.dragging = 1;
            visit_note_input(&a->env);
            kk_debug("input", "drag %s from %d,%d", id, x, y);
        }
    }
}

void app_pointer_move(struct app *a, int x, int y)
{
    if (!pointer.down || !pointer.dragging || !top(a)->drag) /* the scene may have gone */
        return;
    top(a)->drag(&a->env, scene_stack_top_self(&a->stack), SCENE_DRAG_MOVE, "", x, y - a->view_y);
    invalidate(a);
}

void app_pointer_up(struct app *a, int x, int y)
{
    if (!pointer.down)
        return;
    pointer.down = 0;
    a->ui.pressed[0] = '\0';
    invalidate(a);
    if (pointer.dragging) { /* a drag that started on the handle turns no page */
        pointer.dragging = 0;
        if (top(a)->drag)
            top(a)->drag(&a->env, scene_stack_top_self(&a->stack), SCENE_DRAG_END, "", x,
                         y - a->view_y);
        visit_note_input(&a->env);
        after_handler(a);
        return;
    }
    app_swipe(a, pointer.x, pointer.y, x, y);
}

static void handle_event(struct app *a, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        a->quit = 1;
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
            set_size(a, e->window.data1, e->window.data2);
        else if (e->window.event == SDL_WINDOWEVENT_EXPOSED)
            a->redraw = 1;
        break;
    case SDL_FINGERDOWN:
        app_pointer_down(a, (int)(e->tfinger.x * a->ui.w), (int)(e->tfinger.y * a->ui.h));
        break;
    case SDL_FINGERMOTION:
        app_pointer_move(a, (int)(e->tfinger.x * a->ui.w), (int)(e->tfinger.y * a->ui.h));
        break;
    case SDL_FINGERUP:
        app_pointer_up(a, (int)(e->tfinger.x * a->ui.w), (int)(e->tfinger.y * a->ui.h));
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            app_pointer_down(a, e->button.x, e->button.y);
        break;
    case SDL_MOUSEMOTION:
        if (e->motion.which != SDL_TOUCH_MOUSEID && (e->motion.state & SDL_BUTTON_LMASK))
            app_pointer_move(a, e->motion.x, e->motion.y);
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            app_pointer_up(a, e->button.x, e->button.y);
        break;
    case SDL_KEYDOWN:
        app_key(a, SDL_GetKeyName(e->key.keysym.sym));
        break;
    default:
        if (e->type == ui_images_wake_event(a->images))
            a->redraw = 1; /* a picture is decoded: draw it */
        else if (a->on_command && e->type == a->command_event) {
            a->on_command(a, e->user.data1);
            kk_free(e->user.data1);
        }
        break;
    }
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

void app_frame_stats(struct app *a, struct app_frame_stats *out)
{
    size_t cap = sizeof(a->frame_us) / sizeof(a->frame_us[0]);
    size_t n = a->nframes < cap ? a->nframes : cap;
    memset(out, 0, sizeof(*out));
    out->frames = a->nframes;
    if (n) {
        qsort(a->frame_us, n, sizeof(a->frame_us[0]), cmp_u32);
        out->p50_us = a->frame_us[(n - 1) / 2];
        out->p99_us = a->frame_us[(n - 1) * 99 / 100];
        out->max_us = a->frame_us[n - 1];
    }
    a->nframes = 0;
}

void app_update(struct app *a)
{
    uint64_t now = kk_clock_mono_ms();
    run_timers(a, now);
    after_handler(a);
    if (a->stack.dirty)
        rebuild(a, now);
}

const char *app_scene_name(const struct app *a)
{
    return scene_stack_depth(&a->stack) ? top(a)->name : "";
}

/* Draws and shows a frame, timing it for the benchmarks. */
static void present(struct app *a, uint64_t now)
{
    Uint64 t0 = SDL_GetPerformanceCounter();
    draw(a, now);
    /* Pictures that decode quickly are shown at once, not after a placeholder. */
    if (ui_images_settle(a->images, FIRST_DRAW_WAIT_MS, 0))
        draw(a, now);
    SDL_RenderPresent(a->ren);
    Uint64 us = (SDL_GetPerformanceCounter() - t0) * 1000000 / SDL_GetPerformanceFrequency();
    a->frame_us[a->nframes++ % (sizeof(a->frame_us) / sizeof(a->frame_us[0]))] =
        us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    a->redraw = 0;
    a->prepared = 0;
    watchdog_ready(&a->watchdog); /* the first frame is on screen */
}

void app_frame(struct app *a)
{
    uint64_t now = kk_clock_mono_ms();
    if (a->stack.dirty)
        rebuild(a, now);
    present(a, now);
}

void app_run(struct app *a)
{
    a->started_at = kk_clock_mono_ms();
    watchdog_open(&a->watchdog);
    session_event(&a->session, "boot", NULL);
    char detail[160];
    if (watchdog_mark_running(a->cfg.state_dir, detail, sizeof(detail))) {
        kk_warn("app", "%s", detail);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "code", "unclean_exit");
        cJSON_AddStringToObject(f, "detail", detail);
        session_event(&a->session, "error", f);
    }
    visit_go_home(&a->env);
    visit_apply(&a->env);
    while (!a->quit) {
        uint64_t now = kk_clock_mono_ms();
        int wait = run_timers(a, now);
        wait = (int)sooner(wait, watchdog_kick(&a->watchdog));
        after_handler(a);
        if (a->stack.dirty)
            rebuild(a, now);
        if (a->redraw)
            present(a, now);
        if (a->on_screen && !a->reported)
            a->on_screen(a);
        SDL_Event e;
        if (!a->prepared && !a->anim_start && !SDL_HasEvents(SDL_FIRSTEVENT, SDL_LASTEVENT)) {
            a->prepared = 1; /* nothing else to do: get the next screen ready */
            if (top(a)->prepare)
                top(a)->prepare(&a->env, scene_stack_top_self(&a->stack));
        }
        /* Sleep until input or the next timer: an idle kiosk uses no CPU. While a page
         * slides, wake for the next frame. */
        int got = SDL_WaitEventTimeout(&e, wait < 0 ? 60000 : (wait == 0 ? 16 : wait));
        if (got) {
            handle_event(a, &e);
            while (!a->quit && SDL_PollEvent(&e))
                handle_event(a, &e);
        }
    }
    /* The scenes leave first, so their last events (the reader's page view) still carry
     * the visitor's session, audience and pack; then the session ends. */
    scene_stack_release(&a->stack);
    session_end(&a->session, "shutdown");
    watchdog_mark_stopped(a->cfg.state_dir);
    watchdog_close(&a->watchdog);
}

/* ---- start and stop ---- */

static int have_gpu(void)
{
    return access("/dev/dri/renderD128", R_OK | W_OK) == 0;
}

/* The UI context's callbacks; their ctx is the app. */
static int measure_width(void *ctx, enum ui_font font, int px, const char *s, size_t len)
{
    return ui_text_measure(((struct app *)ctx)->text, font, px, s, len);
}

static int measure_line_height(void *ctx, enum ui_font font, int px)
{
    return ui_text_line_height(((struct app *)ctx)->text, font, px);
}

static int measure_covers(void *ctx, const char *utf8)
{
    return ui_text_covers(((struct app *)ctx)->text, utf8);
}

static void warm_list(void *ctx, const struct ui_list *l)
{
    struct app *a = ctx;
    ui_draw_warm(a->ren, a->text, a->images, l);
}

void app_setup(struct app *a)
{
    session_init(&a->session, a->cfg.kiosk_id, a->cfg.default_lang);
    a->session.default_high_contrast = a->cfg.high_contrast;
    a->session.high_contrast = a->cfg.high_contrast;
    content_init(&a->content, &a->cfg, &a->session);
    visit_init(&a->visit);
    a->env = (struct scene_env){.cfg = &a->cfg,
                                .content = &a->content,
                                .session = &a->session,
                                .stack = &a->stack,
                                .ui = &a->ui,
                                .visit = &a->visit,
                                .animate = 1};
    scene_stack_init(&a->stack, &a->env);
    ui_list_init(&a->list);
    ui_list_init(&a->anim_from);
}

enum kk_err app_init(struct app *a, struct kk_buf *err)
{
    int software =
        a->cfg.render == KK_RENDER_SOFTWARE || (a->cfg.render == KK_RENDER_AUTO && !have_gpu());
    if (software)
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "0");
    SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) < 0)
        return kk_fail(err, KK_ERR_IO, "SDL: %s", SDL_GetError());
    if (TTF_Init() < 0)
        return kk_fail(err, KK_ERR_IO, "SDL_ttf: %s", TTF_GetError());
    IMG_Init(IMG_INIT_PNG | IMG_INIT_JPG);

    Uint32 flags = SDL_WINDOW_SHOWN | SDL_WINDOW_ALLOW_HIGHDPI;
    int x = SDL_WINDOWPOS_CENTERED, y = SDL_WINDOWPOS_CENTERED;
    SDL_DisplayMode mode;
    if (a->fullscreen) {
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
        /* The X fallback session has no window manager to carry out "full screen": the
         * window itself covers the display from its corner (tests/deploy/test_lockdown.py). */
        if (SDL_GetDesktopDisplayMode(0, &mode) == 0 && mode.w > 0 && mode.h > 0) {
            x = y = 0;
            a->ui.w = mode.w;
            a->ui.h = mode.h;
        }
    }
    a->win = SDL_CreateWindow("Kepu Kiosk", x, y, a->ui.w, a->ui.h, flags);
    if (!a->win)
        return kk_fail(err, KK_ERR_IO, "window: %s", SDL_GetError());
    a->ren = SDL_CreateRenderer(a->win, -1,
                                software ? SDL_RENDERER_SOFTWARE
                                         : SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    if (!a->ren && !software) {
        kk_warn("render", "no accelerated renderer (%s): using software", SDL_GetError());
        a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_SOFTWARE);
    }
    if (!a->ren)
        return kk_fail(err, KK_ERR_IO, "renderer: %s", SDL_GetError());
    SDL_RendererInfo info;
    SDL_GetRendererInfo(a->ren, &info);
    if (a->fullscreen)
        SDL_ShowCursor(SDL_DISABLE);
    int w, h;
    SDL_GetRendererOutputSize(a->ren, &w, &h);
    set_size(a, w, h);
    kk_info("app", "started %dx%d, renderer %s, %s", w, h, info.name,
            a->automation ? "automation on" : "touch");

    enum kk_err rc = ui_text_create(&a->text, err);
    if (rc)
        return rc;
    kk_info("text", "font %s", ui_text_font_path(a->text));
    ui_theme_start(&a->theme, &a->ui);
    a->ui.high_contrast_offered = ui_theme_start_high_contrast(&a->theme_hc);
    if (a->ui.high_contrast_offered && a->cfg.high_contrast)
        ui_theme_apply(&a->theme_hc, &a->ui);
    a->ui.measure = (struct ui_measure){measure_width, measure_line_height, a};
    a->ui.covers = measure_covers;
    a->ui.warm = warm_list;
    a->images = ui_images_create(a->ren);
    if (!a->images)
        return kk_fail(err, KK_ERR_NOMEM, "images: out of memory");
    a->audio = a->env.audio = audio_create(&a->cfg, &a->session);
    if (!a->audio)
        return kk_fail(err, KK_ERR_NOMEM, "audio: out of memory");
    return KK_OK;
}

void app_release(struct app *a)
{
    /* Scenes still on the stack let go of what they hold (a quiz round, a layout). */
    scene_stack_release(&a->stack);
    audio_destroy(a->audio);
    a->audio = a->env.audio = NULL;
    ui_list_release(&a->list);
    ui_list_release(&a->anim_from);
    ui_images_destroy(a->images);
    ui_text_destroy(a->text);
    ui_theme_release(&a->theme);
    ui_theme_release(&a->theme_hc);
    if (a->ren)
        SDL_DestroyRenderer(a->ren);
    if (a->win)
        SDL_DestroyWindow(a->win);
    kk_sync_destroy(a->content.sync); /* stops the thread before the journal it reads goes */
    kk_journal_close(a->session.journal);
    content_release(&a->content);
    kk_config_release(&a->cfg);
    IMG_Quit();
    TTF_Quit();
    SDL_Quit();
}
