#include "app.h"

#include <SDL_image.h>
#include <malloc.h>
#include <SDL_ttf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "content.h"
#include "ui_draw.h"
#include "ui_image.h"
#include "ui_text.h"

#define TOP_BAR         120 /* design px */
#define SWIPE_MIN       80  /* design px of horizontal travel that makes a swipe */
#define PAGE_TURN_MS    220
#define STABLE_AFTER_MS 60000 /* a start that lasts this long did not fail */
#define SYNC_POLL_MS    2000  /* how often the UI looks at the sync thread's status */

/* ---- scene stack ---- */

static void begin_change(struct app *a)
{
    if (a->pending_depth < 0) {
        memcpy(a->pending, a->stack, sizeof(a->stack));
        a->pending_depth = a->depth;
    }
}

void app_push(struct app *a, const struct scene *s)
{
    begin_change(a);
    if (a->pending_depth == (int)(sizeof(a->pending) / sizeof(a->pending[0])))
        KK_BUG("scene stack overflow pushing %s", s->name);
    a->pending[a->pending_depth++] = s;
}

void app_pop(struct app *a)
{
    begin_change(a);
    if (a->pending_depth > 1)
        a->pending_depth--;
}

void app_reset(struct app *a, const struct scene *s)
{
    begin_change(a);
    a->pending[0] = s;
    a->pending_depth = 1;
}

/* Applies a requested switch: the leaving scenes' leave() runs now, outside their own
 * handlers, then the new top's enter(). */
static void apply_scene_change(struct app *a)
{
    if (a->pending_depth < 0)
        return;
    const struct scene *old_top = a->depth ? a->stack[a->depth - 1] : NULL;
    int keep = 0; /* scenes at the bottom of both stacks stay */
    while (keep < a->depth && keep < a->pending_depth && a->stack[keep] == a->pending[keep])
        keep++;
    for (int i = a->depth - 1; i >= keep; i--)
        if (a->stack[i]->leave)
            a->stack[i]->leave(a);
    memcpy(a->stack, a->pending, sizeof(a->stack));
    a->depth = a->pending_depth;
    a->pending_depth = -1;
    const struct scene *top = a->stack[a->depth - 1];
    if (top != old_top) {
        kk_info("scene", "%s -> %s", old_top ? old_top->name : "(start)", top->name);
        /* A scene uncovered by a pop keeps its state; only a new one is entered. */
        for (int i = keep; i < a->depth; i++)
            if (a->stack[i]->enter)
                a->stack[i]->enter(a);
    }
    app_invalidate(a);
}

int app_pack_visible(const struct app *a, const struct kk_pack *p)
{
    return p->ntopics > 0 && !content_hidden(a, p->id);
}

void app_go_home(struct app *a)
{
    content_switch_if_pending(a);
    int any = 0;
    for (size_t i = 0; i < a->lib.npacks; i++)
        any |= app_pack_visible(a, a->lib.packs[i]);
    app_reset(a, any ? &scene_attract : &scene_empty);
}

static const struct scene *top(const struct app *a)
{
    return a->stack[a->depth - 1];
}

void app_invalidate(struct app *a)
{
    a->dirty = 1;
    a->redraw = 1;
}

/* ---- sizes and widgets ---- */

int app_px(const struct app *a, int design_px)
{
    int v = (int)(design_px * a->scale + 0.5);
    return v > 0 ? v : 1;
}

int app_min_target(const struct app *a)
{
    int v = app_px(a, 96);
    return v < 72 ? 72 : v; /* a fingertip does not shrink with the screen */
}

int app_label(struct app *a, struct ui_list *l, const char *id, const char *text, enum ui_font font,
              int px, struct ui_color c, int x, int y, int w, int max_lines, int center)
{
    return ui_layout_label(l, &a->measure, id, text, a->lang, font, px, c, x, y, w, max_lines,
                           center, UI_CUT_OVERFLOW);
}

int app_teaser(struct app *a, struct ui_list *l, const char *id, const char *text,
               enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines)
{
    return ui_layout_label(l, &a->measure, id, text, a->lang, font, px, c, x, y, w, max_lines, 0,
                           UI_CUT_TEASER);
}

int app_text_height(struct app *a, const char *text, enum ui_font font, int px, int w,
                    int max_lines)
{
    struct ui_list probe;
    ui_list_init(&probe);
    int h = app_label(a, &probe, "probe", text, font, px, UI_INK, 0, 0, w, max_lines, 0);
    ui_list_release(&probe);
    return h;
}

/* The size of a button's label. */
static int button_px(const struct app *a)
{
    return a->large_text ? app_px(a, 40) : app_px(a, 34);
}

static char pressed_id[96];

void app_button(struct app *a, struct ui_list *l, struct ui_rect r, const char *id,
                const char *label, int primary)
{
    int is_pressed = pressed_id[0] && !strcmp(pressed_id, id);
    struct ui_item *bg = ui_list_push(l, UI_RECT, r);
    if (bg) {
        bg->radius = app_px(a, 18);
        bg->color = primary ? (is_pressed ? UI_PRIMARY_DARK : UI_PRIMARY)
                            : (is_pressed ? UI_LINE : UI_CARD);
    }
    if (!primary) {
        struct ui_item *ring = ui_list_push(l, UI_RING, r);
        if (ring) {
            ring->radius = app_px(a, 3) > 2 ? app_px(a, 3) : 2;
            ring->color = UI_PRIMARY;
        }
    }
    int px = button_px(a);
    int lh = ui_text_line_height(a->text, UI_FONT_BOLD, px);
    int lines = r.h >= 2 * lh + app_px(a, 16) ? 2 : 1;
    int pad = app_px(a, 16);
    int used = app_text_height(a, label, UI_FONT_BOLD, px, r.w - 2 * pad, lines);
    app_label(a, l, id, label, UI_FONT_BOLD, px, primary ? UI_ON_PRIMARY : UI_PRIMARY_DARK,
              r.x + pad, r.y + (r.h - used) / 2, r.w - 2 * pad, lines, 1);
    ui_list_target(l, r, id, label);
}

/* ---- events and sessions ---- */

void app_event(struct app *a, const char *type, cJSON *fields)
{
    a->ev.lang = a->lang;
    a->ev.audience = a->audience;
    char *json = kk_event_make(&a->ev, type, fields);
    if (!json) {
        kk_error("journal", "cannot make a %s event (out of memory)", type);
        return;
    }
    if (a->journal) {
        enum kk_err rc = kk_journal_append(a->journal, json);
        if (rc)
            kk_warn("journal", "%s event not recorded: %s", type, kk_strerror(rc));
    }
    kk_debug("event", "%s", json);
    kk_free(json);
}

void app_session_start(struct app *a)
{
    kk_event_new_session(&a->ev);
    a->in_session = 1;
    a->session_start = kk_clock_mono_ms();
    a->last_input = a->session_start;
    a->audience = -1;
    a->lang = a->cfg.default_lang;
    a->large_text = 0;
    app_event(a, "session_start", NULL);
}

void app_session_end(struct app *a, const char *reason)
{
    if (!a->in_session)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "duration_ms", (double)(kk_clock_mono_ms() - a->session_start));
    cJSON_AddStringToObject(f, "reason", reason);
    app_event(a, "session_end", f);
    a->in_session = 0;
    a->idle_prompt = 0;
    a->ev.session[0] = '\0';
    a->ev.pack = NULL;
    a->audience = -1;
    a->lang = a->cfg.default_lang;
    a->large_text = 0;
}

/* ---- building the screen ---- */

/* A button wide enough for its label on one line, and at least min_design px. */
static int button_width(struct app *a, const char *label, int min_design)
{
    int px = button_px(a);
    int w = ui_text_measure(a->text, UI_FONT_BOLD, px, label, strlen(label)) + 2 * app_px(a, 24);
    int least =
        app_px(a, min_design) > app_min_target(a) ? app_px(a, min_design) : app_min_target(a);
    return w > least ? w : least;
}

static void build_top_bar(struct app *a, struct ui_list *l)
{
    int bar = app_px(a, TOP_BAR), m = app_px(a, 12), t = app_min_target(a);
    int bh = bar - 2 * m > t ? bar - 2 * m : t;
    struct ui_item *bg = ui_list_push(l, UI_RECT, (struct ui_rect){0, 0, a->w, bar});
    if (bg)
        bg->color = (struct ui_color){232, 226, 214, 255};
    int x = m;
    const char *back = ui_str(S_BACK, a->lang), *home = ui_str(S_HOME, a->lang);
    if (top(a)->back) {
        int bw = button_width(a, back, 190);
        app_button(a, l, (struct ui_rect){x, m, bw, bh}, "nav/back", back, 0);
        x += bw + m;
    }
    if (a->depth > 2 || (a->depth == 2 && top(a) != &scene_audience))
        app_button(a, l, (struct ui_rect){x, m, button_width(a, home, 190), bh}, "nav/home", home,
                   0);
    const char *lang = ui_str(S_LANG_TOGGLE, a->lang), *large = ui_str(S_LARGE_TEXT, a->lang);
    int rw = button_width(a, lang, 230);
    int rx = a->w - m - rw;
    app_button(a, l, (struct ui_rect){rx, m, rw, bh}, "lang", lang, 0);
    rw = button_width(a, large, 230);
    rx -= rw + m;
    app_button(a, l, (struct ui_rect){rx, m, rw, bh}, "large_text", large, a->large_text);
}

static void build_idle_prompt(struct app *a, struct ui_list *l, uint64_t now)
{
    l->ntargets = 0; /* only the dialog can be touched now */
    struct ui_item *shade = ui_list_push(l, UI_RECT, (struct ui_rect){0, 0, a->w, a->h});
    if (shade)
        shade->color = UI_SHADE;
    int w = a->w * 3 / 4 < app_px(a, 900) ? a->w * 3 / 4 : app_px(a, 900);
    int h = app_px(a, 560);
    struct ui_rect card = {(a->w - w) / 2, (a->h - h) / 2, w, h};
    struct ui_item *bg = ui_list_push(l, UI_RECT, card);
    if (bg) {
        bg->color = UI_CARD;
        bg->radius = app_px(a, 28);
    }
    int y = card.y + app_px(a, 50);
    y += app_label(a, l, "idle/title", ui_str(S_STILL_THERE, a->lang), UI_FONT_BOLD, app_px(a, 64),
                   UI_PRIMARY_DARK, card.x, y, w, 1, 1);
    y += app_px(a, 10);
    y += app_label(a, l, "idle/hint", ui_str(S_STILL_THERE_HINT, a->lang), UI_FONT_REGULAR,
                   app_px(a, 34), UI_INK_SOFT, card.x + app_px(a, 30), y, w - app_px(a, 60), 2, 1);
    uint64_t total = (uint64_t)a->cfg.idle_countdown_s * 1000;
    uint64_t left = now - a->idle_prompt_at < total ? total - (now - a->idle_prompt_at) : 0;
    char secs[16];
    snprintf(secs, sizeof(secs), "%u", (unsigned)((left + 999) / 1000));
    y += app_label(a, l, "idle/count", secs, UI_FONT_BOLD, app_px(a, 96), UI_ACCENT, card.x, y, w,
                   1, 1);
    int bw = app_px(a, 360), bh = app_min_target(a);
    app_button(a, l,
               (struct ui_rect){card.x + (w - bw) / 2, card.y + h - bh - app_px(a, 40), bw, bh},
               "idle/continue", ui_str(S_CONTINUE, a->lang), 1);
}

static void rebuild(struct app *a, uint64_t now)
{
    ui_list_clear(&a->list); /* the background is the renderer's clear colour */
    const struct scene *s = top(a);
    int bar = s->chrome ? app_px(a, TOP_BAR) : 0;
    struct ui_rect box = {0, bar, a->w, a->h - bar};
    s->build(a, &a->list, box);
    if (s->chrome)
        build_top_bar(a, &a->list);
    if (a->idle_prompt)
        build_idle_prompt(a, &a->list, now);
    a->dirty = 0;
    a->reported = 0;
}

/* ---- input: one path for fingers, the mouse and the automation channel ---- */

static void note_input(struct app *a)
{
    a->last_input = kk_clock_mono_ms();
    if (a->idle_prompt) {
        a->idle_prompt = 0;
        app_invalidate(a);
    }
}

static void toggle_lang(struct app *a)
{
    a->lang = a->lang == KK_LANG_ZH ? KK_LANG_EN : KK_LANG_ZH;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "lang", kk_lang_name(a->lang));
    app_event(a, "language", f);
    app_invalidate(a);
}

void app_tap(struct app *a, int x, int y)
{
    if (a->dirty)
        rebuild(a, kk_clock_mono_ms());
    if (a->idle_prompt) { /* any touch means the visitor is still there */
        note_input(a);
        return;
    }
    note_input(a);
    a->last_tap_x = x;
    a->last_tap_y = y;
    staff_corner_tap(a, x, y);
    if (a->pending_depth >= 0) { /* the corner opened the staff PIN */
        apply_scene_change(a);
        return;
    }
    const struct ui_target *t = ui_list_hit(&a->list, x, y);
    if (!t)
        return;
    char id[sizeof(t->id)];
    memcpy(id, t->id, sizeof(id));
    kk_debug("input", "tap %s at %d,%d", id, x, y);
    if (!strcmp(id, "lang"))
        toggle_lang(a);
    else if (!strcmp(id, "large_text")) {
        a->large_text = !a->large_text;
        app_invalidate(a);
    } else if (!strcmp(id, "nav/back")) {
        if (a->depth > 1)
            app_pop(a);
        else
            app_go_home(a); /* a screen opened on its own, like the staff PIN */
    } else if (!strcmp(id, "nav/home") && top(a)->staff) {
        /* From a staff screen, home is the attract screen: the visitor's menu would have
         * no session, so the idle timeout would never take it back. */
        kk_info("staff", "staff panel left by home");
        app_go_home(a);
    } else if (!strcmp(id, "nav/home")) {
        /* Home is the visitor's topic menu; before a group is chosen, the picker. */
        app_reset(a, &scene_attract);
        app_push(a, &scene_audience);
        if (a->audience >= 0)
            app_push(a, &scene_menu);
    } else if (top(a)->tap)
        top(a)->tap(a, id);
    apply_scene_change(a);
}

void app_swipe(struct app *a, int x1, int y1, int x2, int y2)
{
    int dx = x2 - x1, dy = y2 - y1;
    note_input(a);
    if (abs(dx) < app_px(a, SWIPE_MIN) || abs(dx) < 2 * abs(dy)) {
        app_tap(a, x2, y2);
        return;
    }
    if (top(a)->swipe)
        top(a)->swipe(a, dx < 0 ? 1 : -1);
    apply_scene_change(a);
}

void app_key(struct app *a, const char *key)
{
    note_input(a);
    if (!strcmp(key, "Left") && top(a)->swipe)
        top(a)->swipe(a, -1);
    else if (!strcmp(key, "Right") && top(a)->swipe)
        top(a)->swipe(a, 1);
    else if (!strcmp(key, "Escape") && !a->fullscreen)
        a->quit = 1;
    apply_scene_change(a);
}

/* ---- drawing ---- */

static void draw(struct app *a, uint64_t now)
{
    SDL_SetRenderDrawColor(a->ren, UI_BG.r, UI_BG.g, UI_BG.b, 255);
    SDL_RenderClear(a->ren);
    if (a->anim_start && now - a->anim_start < PAGE_TURN_MS) {
        double p = (double)(now - a->anim_start) / PAGE_TURN_MS;
        p = 1 - (1 - p) * (1 - p) * (1 - p); /* ease out */
        int off = (int)(p * a->w);
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_FIXED, 0);
        ui_draw_list(a->ren, a->text, a->images, &a->anim_from, UI_DRAW_SLIDING,
                     -a->anim_dir * off);
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_SLIDING,
                     a->anim_dir * (a->w - off));
    } else {
        a->anim_start = 0;
        ui_draw_list(a->ren, a->text, a->images, &a->list, UI_DRAW_ALL, 0);
    }
}

enum kk_err app_screenshot(struct app *a, const char *path, struct kk_buf *err)
{
    uint64_t now = kk_clock_mono_ms();
    a->anim_start = 0;
    if (a->dirty)
        rebuild(a, now);
    draw(a, now);
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, a->w, a->h, 32, SDL_PIXELFORMAT_RGBA32);
    if (!s)
        return kk_fail(err, KK_ERR_NOMEM, "screenshot: %s", SDL_GetError());
    enum kk_err rc = KK_OK;
    if (SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_RGBA32, s->pixels, s->pitch) < 0)
        rc = kk_fail(err, KK_ERR_IO, "screenshot: %s", SDL_GetError());
    else if (IMG_SavePNG(s, path) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, IMG_GetError());
    SDL_FreeSurface(s);
    a->redraw = 1;
    return rc;
}

void app_begin_page_turn(struct app *a, int dir)
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
    app_invalidate(a);
}

/* ---- time ---- */

/* Runs the timers and returns how long the loop may sleep, in ms (-1: until input). */
static int run_timers(struct app *a, uint64_t now)
{
    long wait = -1;
    if ((a->in_session || top(a)->staff) && !a->idle_prompt) {
        uint64_t due = a->last_input + (uint64_t)a->cfg.idle_timeout_s * 1000;
        if (now >= due) {
            a->idle_prompt = 1;
            a->idle_prompt_at = now;
            kk_info("idle", "no touch for %d s: asking \"still there?\"", a->cfg.idle_timeout_s);
            app_invalidate(a);
        } else {
            wait = (long)(due - now);
        }
    }
    if (a->idle_prompt) {
        uint64_t total = (uint64_t)a->cfg.idle_countdown_s * 1000;
        uint64_t gone = now - a->idle_prompt_at;
        if (gone >= total) {
            kk_info("idle", "nobody there: back to the start");
            if (a->in_session) {
                app_session_end(a, "idle");
                app_event(a, "idle_reset", NULL);
            }
            a->idle_prompt = 0;
            app_go_home(a);
            apply_scene_change(a);
            /* Between visitors: give the heap's free pages back to the system, so months
             * of visits cannot ratchet the footprint up through fragmentation. */
            malloc_trim(0);
        } else {
            /* Wake when the countdown's number changes. */
            wait = 1000 - (long)(gone % 1000);
            app_invalidate(a);
        }
    }
    /* A minute up: this start did not fail (the crash-loop guard, content.c). */
    if (!a->started_ok) {
        if (now - a->started_at >= STABLE_AFTER_MS) {
            a->started_ok = 1;
            content_startup_ok(a);
        } else if (wait < 0 || (long)(a->started_at + STABLE_AFTER_MS - now) < wait) {
            wait = (long)(a->started_at + STABLE_AFTER_MS - now);
        }
    }
    /* Sync installs in the background; the switch waits for the attract screen. */
    if (a->sync) {
        if (now - a->sync_polled_at >= SYNC_POLL_MS) {
            struct kk_sync_status st;
            kk_sync_status(a->sync, &st);
            a->sync_polled_at = now;
            if (st.install_pending && !*a->cfg.content_dir && !a->content_pending) {
                kk_info("sync", "%s installed; switching at the attract screen", st.last_installed);
                a->content_pending = 1;
            }
            if (top(a) == &scene_staff)
                app_invalidate(a); /* the panel shows the sync state */
        }
        long left = (long)(a->sync_polled_at + SYNC_POLL_MS - now);
        if (wait < 0 || left < wait)
            wait = left > 0 ? left : 0;
    }
    /* New content goes live only when nobody is using the kiosk. */
    if (a->content_pending && !a->in_session &&
        (top(a) == &scene_attract || top(a) == &scene_empty)) {
        app_go_home(a);
        apply_scene_change(a);
        app_invalidate(a);
    }
    if (top(a)->tick) {
        int w = top(a)->tick(a, now);
        if (w >= 0 && (wait < 0 || w < wait))
            wait = w;
    }
    if (a->anim_start) {
        a->redraw = 1;
        wait = 0;
    }
    return wait > 0x7fffffff ? 0x7fffffff : (int)wait;
}

/* ---- the loop ---- */

static void set_size(struct app *a, int w, int h)
{
    a->w = w;
    a->h = h;
    /* The reference design is 1920x1080 in landscape and 1080x1920 in portrait. */
    double rw = w >= h ? 1920.0 : 1080.0, rh = w >= h ? 1080.0 : 1920.0;
    a->scale = w / rw < h / rh ? w / rw : h / rh;
    app_invalidate(a);
}

static struct {
    int down, x, y;
} pointer;

static void pointer_down(struct app *a, int x, int y)
{
    pointer.down = 1;
    pointer.x = x;
    pointer.y = y;
    if (a->dirty)
        rebuild(a, kk_clock_mono_ms());
    const struct ui_target *t = ui_list_hit(&a->list, x, y);
    snprintf(pressed_id, sizeof(pressed_id), "%s", t ? t->id : "");
    if (t)
        app_invalidate(a); /* press feedback */
}

static void pointer_up(struct app *a, int x, int y)
{
    if (!pointer.down)
        return;
    pointer.down = 0;
    pressed_id[0] = '\0';
    app_invalidate(a);
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
        pointer_down(a, (int)(e->tfinger.x * a->w), (int)(e->tfinger.y * a->h));
        break;
    case SDL_FINGERUP:
        pointer_up(a, (int)(e->tfinger.x * a->w), (int)(e->tfinger.y * a->h));
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            pointer_down(a, e->button.x, e->button.y);
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            pointer_up(a, e->button.x, e->button.y);
        break;
    case SDL_KEYDOWN:
        app_key(a, SDL_GetKeyName(e->key.keysym.sym));
        break;
    default:
        if (e->type == automation_event_type) {
            automation_handle(a, e->user.data1);
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
    apply_scene_change(a);
    if (a->dirty)
        rebuild(a, now);
}

const char *app_scene_name(const struct app *a)
{
    return a->depth ? top(a)->name : "";
}

void app_run(struct app *a)
{
    a->started_at = kk_clock_mono_ms();
    app_event(a, "boot", NULL);
    app_go_home(a);
    apply_scene_change(a);
    while (!a->quit) {
        uint64_t now = kk_clock_mono_ms();
        int wait = run_timers(a, now);
        apply_scene_change(a);
        if (a->dirty)
            rebuild(a, now);
        if (a->redraw) {
            Uint64 t0 = SDL_GetPerformanceCounter();
            draw(a, now);
            SDL_RenderPresent(a->ren);
            Uint64 us =
                (SDL_GetPerformanceCounter() - t0) * 1000000 / SDL_GetPerformanceFrequency();
            a->frame_us[a->nframes++ % (sizeof(a->frame_us) / sizeof(a->frame_us[0]))] =
                us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
            a->redraw = 0;
            a->prepared = 0;
        }
        if (a->automation && !a->reported)
            automation_report(a);
        SDL_Event e;
        if (!a->prepared && !a->anim_start && !SDL_HasEvents(SDL_FIRSTEVENT, SDL_LASTEVENT)) {
            a->prepared = 1; /* nothing else to do: get the next screen ready */
            if (top(a)->prepare)
                top(a)->prepare(a);
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
    if (a->in_session)
        app_session_end(a, "shutdown");
}

/* ---- start and stop ---- */

static int have_gpu(void)
{
    return access("/dev/dri/renderD128", R_OK | W_OK) == 0;
}

static int measure_width(void *ctx, enum ui_font font, int px, const char *s, size_t len)
{
    return ui_text_measure(ctx, font, px, s, len);
}

static int measure_line_height(void *ctx, enum ui_font font, int px)
{
    return ui_text_line_height(ctx, font, px);
}

enum kk_err app_init(struct app *a, struct kk_buf *err)
{
    a->pending_depth = -1;
    a->audience = -1;
    a->lang = a->cfg.default_lang;
    a->ev.kiosk = a->cfg.kiosk_id;
    a->ev.audience = -1;
    ui_list_init(&a->list);
    ui_list_init(&a->anim_from);

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
    if (a->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
    a->win = SDL_CreateWindow("Kepu Kiosk", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, a->w,
                              a->h, flags);
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
    a->measure = (struct ui_measure){measure_width, measure_line_height, a->text};
    a->images = ui_images_create(a->ren);
    if (!a->images)
        return kk_fail(err, KK_ERR_NOMEM, "images: out of memory");
    return KK_OK;
}

void app_release(struct app *a)
{
    /* Scenes still on the stack let go of what they hold (a quiz round, a layout). */
    for (int i = a->depth - 1; i >= 0; i--)
        if (a->stack[i]->leave)
            a->stack[i]->leave(a);
    a->depth = 0;
    ui_list_release(&a->list);
    ui_list_release(&a->anim_from);
    ui_images_destroy(a->images);
    ui_text_destroy(a->text);
    if (a->ren)
        SDL_DestroyRenderer(a->ren);
    if (a->win)
        SDL_DestroyWindow(a->win);
    kk_sync_destroy(a->sync); /* stops the thread before the journal it reads goes */
    kk_journal_close(a->journal);
    kk_library_release(&a->lib);
    kk_free(a->menu);
    kk_free(a->menu_packs);
    kk_free(a->keys);
    for (size_t i = 0; i < a->nhidden; i++)
        kk_free(a->hidden[i]);
    kk_free(a->hidden);
    kk_config_release(&a->cfg);
    IMG_Quit();
    TTF_Quit();
    SDL_Quit();
}
