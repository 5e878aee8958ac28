#include "visit.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "audio.h"
#include "kepu/clock.h"
#include "kepu/log.h"
#include "scenes.h"
#include "ui_strings.h"

#define CORNER_WINDOW_MS 3000

void visit_init(struct visit *v)
{
    memset(v, 0, sizeof(*v));
    v->open_page = -1;
}

/* ---- navigation ---- */

void visit_go_home(struct scene_env *e)
{
    e->visit->go_home = 1;
}

void visit_end_session(struct scene_env *e, const char *reason)
{
    if (e->session->active)
        e->visit->end_reason = reason;
}

void visit_to_menu(struct scene_env *e)
{
    scene_stack_reset(e->stack, &scene_attract);
    scene_stack_push(e->stack, &scene_audience);
    scene_stack_push(e->stack, &scene_menu);
}

void visit_open_topic(struct scene_env *e, const struct kk_pack *p, const struct kk_topic *t,
                      const struct scene *s)
{
    e->visit->pack = p;
    e->visit->topic = t;
    scene_stack_push(e->stack, s);
}

void visit_read_page(struct scene_env *e, size_t page)
{
    e->visit->open_page = (long)page;
    scene_stack_pop(e->stack);
    if (scene_stack_below(e->stack, 1) != &scene_reader)
        scene_stack_push(e->stack, &scene_reader);
}

long visit_take_page(struct visit *v)
{
    long p = v->open_page;
    v->open_page = -1;
    return p;
}

static const struct scene *home_scene(const struct scene_env *e)
{
    return content_any_visible(e->content) ? &scene_attract : &scene_empty;
}

int visit_apply(struct scene_env *e)
{
    struct visit *v = e->visit;
    int home = v->go_home, changed = 0;
    v->go_home = 0;
    if (home || v->end_reason)
        audio_stop(e->audio); /* its event still belongs to the visitor's session */
    if (home) {
        if (e->content->pending)
            scene_stack_release(e->stack); /* what points into the old packs goes first */
        else
            scene_stack_reset(e->stack, home_scene(e));
        changed = 1;
    }
    changed |= scene_stack_apply(e->stack);
    /* The scenes that left recorded their last events (the reader's page view) in the
     * session; only now does it end. */
    if (v->end_reason) {
        session_end(e->session, v->end_reason);
        if (v->idle_reset)
            session_event(e->session, "idle_reset", NULL);
        v->end_reason = NULL;
        v->idle_reset = 0;
        v->idle_prompt = 0;
    }
    if (home && !scene_stack_depth(e->stack)) {
        if (content_switch_if_pending(e->content)) {
            v->pack = NULL;
            v->topic = NULL;
        }
        scene_stack_reset(e->stack, home_scene(e));
        scene_stack_apply(e->stack);
    }
    if (changed)
        scene_stack_invalidate(e->stack);
    return changed;
}

/* ---- the frame ---- */

/* The bar's height: the theme's, and never less than a button of the smallest touch size
 * with its margins (a small UI, like the reach band, keeps its buttons inside the bar). */
static int bar_height(const struct ui_ctx *u)
{
    int bar = ui_px(u, ui_sizes.top_bar), least = ui_min_target(u) + 2 * ui_px(u, 12);
    return bar > least ? bar : least;
}

/* A button wide enough for its label on one line, and at least min_design px. */
static int button_width(const struct ui_ctx *u, const char *label, int min_design)
{
    int w = ui_width(u, UI_FONT_BOLD, ui_button_px(u), label) + 2 * ui_px(u, 24);
    int least = ui_px(u, min_design) > ui_min_target(u) ? ui_px(u, min_design) : ui_min_target(u);
    return w > least ? w : least;
}

/* One button of the top bar: its target id, label, whether it is on, and the width it
 * gets when the bar has room for every button at its design width. */
struct bar_button {
    const char *id, *label;
    int on, min_design;
};

/* The widths of n buttons: their design widths when they all fit in room (screen px, with
 * the gaps taken out), else as wide as their labels, so a narrow screen still shows every
 * button side by side (portrait English: back, home, high contrast, large text, language). */
static int bar_widths(const struct ui_ctx *u, const struct bar_button *b, int n, int room, int *w)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += w[i] = button_width(u, b[i].label, b[i].min_design);
    if (total <= room)
        return 1;
    total = 0;
    for (int i = 0; i < n; i++)
        total += w[i] = button_width(u, b[i].label, 0);
    return total <= room;
}

#define BAR_MAX 6

/* The top bar's buttons and where they go. Left to right: back, home, read aloud; right to
 * left: language, large text, high contrast. When they do not fit in one row even with
 * normal-size labels, read aloud gets a second row of its own, at the left. */
struct bar_plan {
    struct bar_button b[BAR_MAX];
    int w[BAR_MAX];
    int n, nl;       /* buttons in the first row; how many of them are on the left */
    int read_aloud;  /* the topic has narration: the slot is kept (button drawn when offered) */
    int read_w;      /* its width */
    int rows;        /* 1, or 2 when read aloud has its own row */
    struct ui_ctx u; /* the bar's sizes: normal labels when large ones do not fit */
};

static void plan_bar(const struct scene_env *e, struct bar_plan *p)
{
    enum kk_lang lang = e->session->lang;
    const struct scene *top = scene_stack_top(e->stack);
    int depth = scene_stack_depth(e->stack);
    memset(p, 0, sizeof(*p));
    p->u = *e->ui;
    p->rows = 1;
    struct bar_button *b = p->b;
    int nl = 0, n;
    if (top->back)
        b[nl++] = (struct bar_button){"nav/back", ui_str(S_BACK, lang), 0, 190};
    if (depth > 2 || (depth == 2 && top != &scene_audience))
        b[nl++] = (struct bar_button){"nav/home", ui_str(S_HOME, lang), 0, 190};
    p->read_aloud = (top == &scene_reader || top == &scene_quiz) &&
                    audio_topic_narrated(e->audio, e->visit->topic, lang, top == &scene_quiz);
    if (p->read_aloud)
        b[nl++] = (struct bar_button){"read-aloud", ui_str(S_READ_ALOUD, lang),
                                      audio_playing(e->audio), 200};
    n = nl;
    b[n++] = (struct bar_button){"lang", ui_str(S_LANG_TOGGLE, lang), 0, 230};
    b[n++] =
        (struct bar_button){"large_text", ui_str(S_LARGE_TEXT, lang), e->session->large_text, 230};
    if (e->ui->high_contrast_offered)
        b[n++] = (struct bar_button){"high-contrast", ui_str(S_HIGH_CONTRAST, lang),
                                     e->session->high_contrast, 200};
    int m = ui_px(&p->u, 12);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (bar_widths(&p->u, b, n, p->u.w - (n + 1) * m, p->w))
            break;
        if (p->u.large_text) {
            p->u.large_text = 0;
            if (bar_widths(&p->u, b, n, p->u.w - (n + 1) * m, p->w))
                break;
        }
        if (!p->read_aloud || p->rows == 2)
            break;
        /* Read aloud (last on the left) moves to a row of its own; the rest try again. */
        p->rows = 2;
        p->u = *e->ui;
        memmove(&b[nl - 1], &b[nl], (size_t)(n - nl) * sizeof(b[0]));
        nl--;
        n--;
    }
    if (p->rows == 2)
        p->read_w = button_width(&p->u, ui_str(S_READ_ALOUD, lang), 200);
    p->n = n;
    p->nl = nl;
}

int visit_top_bar_h(const struct scene_env *e)
{
    const struct scene *top = scene_stack_top(e->stack);
    if (!top || !top->chrome)
        return 0;
    struct bar_plan p;
    plan_bar(e, &p);
    int bar = bar_height(e->ui);
    return p.rows == 2 ? 2 * bar - ui_px(e->ui, 12) : bar;
}

/* The Read aloud button: on while it plays, with a strip along its foot that fills as the
 * recording goes on. */
static void read_aloud_button(struct scene_env *e, const struct ui_ctx *u, struct ui_list *l,
                              struct ui_rect r)
{
    if (!audio_offered(e->audio))
        return; /* the slot stays empty: no recording here, so no jumping */
    int on = audio_playing(e->audio);
    ui_button(u, l, r, "read-aloud", ui_str(S_READ_ALOUD, e->session->lang), on);
    if (!on)
        return;
    int inset = ui_px(u, ui_sizes.button_radius), h = ui_px(u, 8) > 3 ? ui_px(u, 8) : 3;
    int full = r.w - 2 * inset, done = (int)(full * audio_progress(e->audio));
    int y = r.y + r.h - h - ui_px(u, 12);
    struct ui_item *track = ui_list_push(l, UI_RECT, (struct ui_rect){r.x + inset, y, full, h});
    if (track) {
        track->color = UI_PRIMARY_DARK;
        track->radius = h / 2;
    }
    struct ui_item *bar =
        done > 0 ? ui_list_push(l, UI_RECT, (struct ui_rect){r.x + inset, y, done, h}) : NULL;
    if (bar) {
        bar->color = UI_ON_PRIMARY;
        bar->radius = h / 2;
    }
}

static void build_top_bar(struct scene_env *e, struct ui_list *l)
{
    struct bar_plan p;
    plan_bar(e, &p);
    const struct ui_ctx *u = &p.u;
    int bar = bar_height(e->ui), m = ui_px(u, 12), t = ui_min_target(u);
    int bh = bar - 2 * m > t ? bar - 2 * m : t;
    int height = p.rows == 2 ? 2 * bar - m : bar;
    struct ui_item *bg = ui_list_push(l, UI_RECT, (struct ui_rect){0, 0, u->w, height});
    if (bg)
        bg->color = UI_TOP_BAR;
    int x = m, rx = u->w;
    for (int i = 0; i < p.n; i++) {
        struct ui_rect r = {x, m, p.w[i], bh};
        if (i >= p.nl) {
            rx -= m + p.w[i];
            r.x = rx;
        } else {
            x += p.w[i] + m;
        }
        if (!strcmp(p.b[i].id, "read-aloud"))
            read_aloud_button(e, u, l, r);
        else
            ui_button(u, l, r, p.b[i].id, p.b[i].label, p.b[i].on);
    }
    if (p.rows == 2)
        read_aloud_button(e, u, l, (struct ui_rect){m, bar, p.read_w, bh});
}

static void build_idle_prompt(struct scene_env *e, struct ui_list *l, uint64_t now)
{
    const struct ui_ctx *u = e->ui;
    enum kk_lang lang = e->session->lang;
    l->ntargets = 0; /* only the dialog can be touched now */
    struct ui_item *shade = ui_list_push(l, UI_RECT, (struct ui_rect){0, 0, u->w, u->h});
    if (shade)
        shade->color = UI_SHADE;
    int w = u->w * 3 / 4 < ui_px(u, 900) ? u->w * 3 / 4 : ui_px(u, 900);
    int h = ui_px(u, 560);
    struct ui_rect card = {(u->w - w) / 2, (u->h - h) / 2, w, h};
    struct ui_item *bg = ui_list_push(l, UI_RECT, card);
    if (bg) {
        bg->color = UI_CARD;
        bg->radius = ui_px(u, 28);
    }
    int y = card.y + ui_px(u, 50);
    y += ui_label(u, l, "idle/title", ui_str(S_STILL_THERE, lang), UI_FONT_BOLD, ui_px(u, 64),
                  UI_PRIMARY_DARK, card.x, y, w, 1, 1);
    y += ui_px(u, 10);
    y += ui_label(u, l, "idle/hint", ui_str(S_STILL_THERE_HINT, lang), UI_FONT_REGULAR,
                  ui_px(u, 34), UI_INK_SOFT, card.x + ui_px(u, 30), y, w - ui_px(u, 60), 2, 1);
    uint64_t total = (uint64_t)e->cfg->idle_countdown_s * 1000;
    uint64_t left =
        now - e->visit->idle_prompt_at < total ? total - (now - e->visit->idle_prompt_at) : 0;
    char secs[16];
    snprintf(secs, sizeof(secs), "%u", (unsigned)((left + 999) / 1000));
    y += ui_label(u, l, "idle/count", secs, UI_FONT_BOLD, ui_px(u, 96), UI_ACCENT, card.x, y, w, 1,
                  1);
    int bw = ui_px(u, 360), bh = ui_min_target(u);
    ui_button(u, l, (struct ui_rect){card.x + (w - bw) / 2, card.y + h - bh - ui_px(u, 40), bw, bh},
              "idle/continue", ui_str(S_CONTINUE, lang), 1);
}

void visit_build_frame(struct scene_env *e, struct ui_list *l, uint64_t now)
{
    const struct scene *top = scene_stack_top(e->stack);
    if (top && top->chrome)
        build_top_bar(e, l);
    if (e->visit->idle_prompt)
        build_idle_prompt(e, l, now);
}

int visit_tap(struct scene_env *e, const char *id)
{
    if (!strcmp(id, "lang")) {
        session_toggle_lang(e->session);
    } else if (!strcmp(id, "large_text")) {
        e->session->large_text = !e->session->large_text;
    } else if (!strcmp(id, "read-aloud")) {
        audio_toggle(e->audio);
    } else if (!strcmp(id, "high-contrast") && e->ui->high_contrast_offered) {
        e->session->high_contrast = !e->session->high_contrast;
    } else if (!strcmp(id, "nav/back")) {
        if (scene_stack_depth(e->stack) > 1)
            scene_stack_pop(e->stack);
        else
            visit_go_home(e); /* a screen opened on its own, like the staff PIN */
    } else if (!strcmp(id, "nav/home") && scene_stack_top(e->stack)->staff) {
        /* From a staff screen, home is the attract screen: the visitor's menu would have
         * no session, so the idle timeout would never take it back. */
        kk_info("staff", "staff panel left by home");
        visit_go_home(e);
    } else if (!strcmp(id, "nav/home")) {
        /* Home is the visitor's topic menu; before a group is chosen, the picker. */
        scene_stack_reset(e->stack, &scene_attract);
        scene_stack_push(e->stack, &scene_audience);
        if (e->session->audience >= 0)
            scene_stack_push(e->stack, &scene_menu);
    } else {
        return 0;
    }
    scene_stack_invalidate(e->stack);
    return 1;
}

int visit_corner_tap(struct scene_env *e, int x, int y)
{
    struct visit *v = e->visit;
    int c = ui_px(e->ui, 140);
    if (x < e->ui->w - c || y >= c)
        return 0;
    uint64_t now = kk_clock_mono_ms();
    memmove(v->corner_taps, v->corner_taps + 1, sizeof(v->corner_taps) - sizeof(v->corner_taps[0]));
    v->corner_taps[VISIT_CORNER_TAPS - 1] = now;
    if (!v->corner_taps[0] || now - v->corner_taps[0] > CORNER_WINDOW_MS)
        return 0;
    memset(v->corner_taps, 0, sizeof(v->corner_taps));
    if (!*e->cfg->staff_pin_hash) {
        kk_warn("staff", "staff panel asked for, but it is disabled (no staff_pin_hash)");
        return 0;
    }
    kk_info("staff", "staff panel asked for");
    visit_end_session(e, "staff");
    scene_stack_reset(e->stack, &scene_staff_pin);
    return 1;
}

void visit_note_input(struct scene_env *e)
{
    e->visit->last_input = kk_clock_mono_ms();
    if (e->visit->idle_prompt) {
        e->visit->idle_prompt = 0;
        scene_stack_invalidate(e->stack);
    }
}

long visit_tick(struct scene_env *e, uint64_t now)
{
    struct visit *v = e->visit;
    const struct scene *top = scene_stack_top(e->stack);
    long wait = -1;
    if ((e->session->active || (top && top->staff)) && !v->idle_prompt) {
        uint64_t due = v->last_input + (uint64_t)e->cfg->idle_timeout_s * 1000;
        if (now >= due) {
            v->idle_prompt = 1;
            v->idle_prompt_at = now;
            kk_info("idle", "no touch for %d s: asking \"still there?\"", e->cfg->idle_timeout_s);
            scene_stack_invalidate(e->stack);
        } else {
            wait = (long)(due - now);
        }
    }
    if (v->idle_prompt) {
        uint64_t total = (uint64_t)e->cfg->idle_countdown_s * 1000;
        uint64_t gone = now - v->idle_prompt_at;
        if (gone >= total) {
            kk_info("idle", "nobody there: back to the start");
            if (e->session->active) {
                visit_end_session(e, "idle");
                v->idle_reset = 1;
            }
            v->idle_prompt = 0;
            visit_go_home(e);
            visit_apply(e);
            /* Between visitors: give the heap's free pages back to the system, so months
             * of visits cannot ratchet the footprint up through fragmentation. */
            malloc_trim(0);
        } else {
            /* Wake when the countdown's number changes. */
            wait = 1000 - (long)(gone % 1000);
            scene_stack_invalidate(e->stack);
        }
    }
    return wait;
}
