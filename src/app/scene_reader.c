/* The topic reader: pages of text, pictures and fact boxes, laid out into screens that
 * fit; swipe or the arrow buttons turn them. Format 2's interactive blocks get a slot of a
 * screen from the layout and are drawn and driven by ui_blocks.c. */
#include <stdio.h>
#include <string.h>

#include "audio.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/log.h"
#include "kepu/quiz.h"
#include "scene_env.h"
#include "scenes.h"
#include "ui_blocks.h"
#include "ui_strings.h"
#include "visit.h"

#define BOTTOM_BAR 150 /* design px */

/* The flattened screens of the topic being read. */
struct reader_screen {
    size_t page;   /* content page */
    size_t screen; /* screen within that page */
};

struct reader {
    const struct kk_pack *pack;
    const struct kk_topic *topic;
    struct ui_screens *pages; /* one ui_screens per page of the topic */
    struct reader_screen *flat;
    size_t nflat, pos;
    uint64_t page_shown_at;
    size_t open_page; /* the page the layout opens at, then 0 again */
    int layout_lang, layout_large, layout_w, layout_h;
    char prev_pack[2 * 64 + 2]; /* the session's pack before this reader set its own */
    struct ui_blocks *blocks;   /* the interactive blocks' state, kept across relayouts */
};

static void free_layout(struct reader *a)
{
    if (a->pages)
        for (size_t i = 0; a->topic && i < a->topic->npages; i++)
            ui_screens_release(&a->pages[i]);
    kk_free(a->pages);
    kk_free(a->flat);
    a->pages = NULL;
    a->flat = NULL;
    a->nflat = 0;
}

static struct ui_rect page_box(const struct scene_env *e, struct ui_rect box)
{
    int m = ui_px(e->ui, 70);
    int bottom = ui_px(e->ui, BOTTOM_BAR);
    return (struct ui_rect){box.x + m, box.y + ui_px(e->ui, 40), box.w - 2 * m,
                            box.h - bottom - ui_px(e->ui, 60)};
}

/* Lays out every page of the topic for the current language, text size and screen. */
static void layout(struct scene_env *e, struct reader *a, struct ui_rect box)
{
    size_t keep_page = a->nflat ? a->flat[a->pos].page : a->open_page;
    a->open_page = 0;
    free_layout(a);
    const struct kk_topic *t = a->topic;
    a->pages = kk_calloc(t->npages ? t->npages : 1, sizeof(*a->pages));
    if (!a->pages)
        return;
    struct ui_page_style st;
    ui_page_style_for(&st, e->ui->scale, e->session->large_text);
    size_t total = 0;
    for (size_t i = 0; i < t->npages; i++) {
        enum kk_err rc = ui_layout_page(&t->pages[i], e->session->lang, &e->ui->measure, &st, box.w,
                                        box.h, &a->pages[i]);
        if (rc)
            kk_error("reader", "%s: pages[%zu]: cannot lay out: %s", t->file, i, kk_strerror(rc));
        total += a->pages[i].n;
    }
    a->flat = kk_calloc(total ? total : 1, sizeof(*a->flat));
    if (!a->flat)
        return;
    a->pos = 0;
    for (size_t i = 0; i < t->npages; i++)
        for (size_t s = 0; s < a->pages[i].n; s++) {
            if (i == keep_page && s == 0)
                a->pos = a->nflat;
            a->flat[a->nflat++] = (struct reader_screen){i, s};
        }
    a->layout_lang = e->session->lang;
    a->layout_large = e->session->large_text;
    a->layout_w = box.w;
    a->layout_h = box.h;
}

static void page_view(struct scene_env *e, struct reader *a)
{
    if (!a->nflat || !a->page_shown_at)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "topic", a->topic->id);
    cJSON_AddNumberToObject(f, "page", (double)a->flat[a->pos].page);
    cJSON_AddNumberToObject(f, "dwell_ms", (double)(kk_clock_mono_ms() - a->page_shown_at));
    session_event(e->session, "page_view", f);
}

static void enter(struct scene_env *e, void *self)
{
    struct reader *a = self;
    a->pack = e->visit->pack;
    a->topic = e->visit->topic;
    long page = visit_take_page(e->visit);
    a->open_page = page > 0 ? (size_t)page : 0;
    a->page_shown_at = kk_clock_mono_ms();
    session_set_pack(e->session, a->pack, a->prev_pack);
    a->blocks = ui_blocks_create(a->topic);
    if (!a->blocks)
        kk_error("reader", "%s: out of memory for the interactive blocks", a->topic->id);
    kk_info("reader", "opened %s/%s", a->pack->id, a->topic->id);
}

static void leave(struct scene_env *e, void *self)
{
    struct reader *a = self;
    audio_stop(e->audio);
    page_view(e, a);
    free_layout(a);
    ui_blocks_destroy(a->blocks);
    a->blocks = NULL;
    session_restore_pack(e->session, a->prev_pack);
}

/* Moves to screen pos; records the page view when the content page changes. */
static void go(struct scene_env *e, struct reader *a, size_t pos, int dir)
{
    if (pos >= a->nflat || pos == a->pos)
        return;
    if (a->flat[pos].page != a->flat[a->pos].page) {
        page_view(e, a);
        a->page_shown_at = kk_clock_mono_ms();
    }
    e->turn = dir;
    a->pos = pos;
    scene_stack_invalidate(e->stack);
}

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    struct reader *a = self;
    struct ui_rect pb = page_box(e, box);
    if (a->layout_w != pb.w || a->layout_h != pb.h || a->layout_lang != (int)e->session->lang ||
        a->layout_large != e->session->large_text || !a->pages)
        layout(e, a, pb);
    if (!a->nflat)
        return;
    const struct reader_screen *rs = &a->flat[a->pos];
    audio_offer(e, &a->topic->pages[rs->page].audio, a->topic->id, rs->page);
    const struct ui_list *src = &a->pages[rs->page].v[rs->screen];
    for (size_t i = 0; i < src->n; i++) {
        const struct ui_item *it = &src->items[i];
        struct ui_rect r = {it->r.x + pb.x, it->r.y + pb.y, it->r.w, it->r.h};
        struct ui_item *n = it->kind == UI_TEXT ? ui_list_text(l, r.x, r.y, r.w, r.h, it->text,
                                                               it->len, it->px, it->font, it->color)
                                                : ui_list_push(l, it->kind, r);
        if (!n)
            continue;
        if (it->kind != UI_TEXT) {
            n->color = it->color;
            n->radius = it->radius;
            n->image = it->image;
        }
        n->slide = 1;
    }
    if (src->overflow[0])
        ui_list_note_overflow(l, src->overflow);
    if (a->blocks) {
        struct ui_page_style st;
        ui_page_style_for(&st, e->ui->scale, e->session->large_text);
        ui_blocks_build(a->blocks, e, &a->pages[rs->page], rs->page, rs->screen, pb.x, pb.y, &st,
                        l);
    }

    /* The bottom bar: previous, where we are, next (or what comes after the last page). */
    int m = ui_px(e->ui, 40), bh = ui_min_target(e->ui);
    int bw = ui_px(e->ui, 320) > bh ? ui_px(e->ui, 320) : bh;
    int by = box.y + box.h - ui_px(e->ui, BOTTOM_BAR) + (ui_px(e->ui, BOTTOM_BAR) - bh) / 2;
    if (a->pos > 0)
        ui_button(e->ui, l, (struct ui_rect){box.x + m, by, bw, bh}, "page/prev",
                  ui_str(S_PREVIOUS, e->session->lang), 0);
    if (a->pos + 1 < a->nflat)
        ui_button(e->ui, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "page/next",
                  ui_str(S_NEXT, e->session->lang), 1);
    else if (kk_quiz_askable_count(a->topic))
        ui_button(e->ui, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "quiz/start",
                  ui_str(S_TAKE_QUIZ, e->session->lang), 1);
    else
        ui_button(e->ui, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "reader/done",
                  ui_str(S_CHOOSE_TOPIC, e->session->lang), 1);
    /* Dots for short topics, "3 / 12" for long ones. */
    int cx = box.x + box.w / 2;
    if (a->nflat <= 12) {
        int d = ui_px(e->ui, 18), g = ui_px(e->ui, 14);
        int x = cx - ((int)a->nflat * (d + g) - g) / 2;
        for (size_t i = 0; i < a->nflat; i++, x += d + g) {
            struct ui_item *dot =
                ui_list_push(l, UI_RECT, (struct ui_rect){x, by + (bh - d) / 2, d, d});
            if (dot) {
                dot->color = i == a->pos ? UI_PRIMARY : UI_LINE;
                dot->radius = d / 2;
            }
        }
    } else {
        char ind[32];
        snprintf(ind, sizeof(ind), "%zu / %zu", a->pos + 1, a->nflat);
        int px = ui_px(e->ui, 36);
        ui_label(e->ui, l, "page/indicator", ind, UI_FONT_BOLD, px, UI_INK_SOFT, box.x + m + bw,
                 by + (bh - ui_line_h(e->ui, UI_FONT_BOLD, px)) / 2, box.w - 2 * (m + bw), 1, 1);
    }
}

/* Back on top (the quiz above closed): turn to the page it asked for, if any. */
static void uncover(struct scene_env *e, void *self)
{
    struct reader *a = self;
    long page = visit_take_page(e->visit);
    if (page < 0)
        return;
    if (!a->nflat) { /* not laid out yet: layout() starts there */
        a->open_page = (size_t)page;
        return;
    }
    for (size_t i = 0; i < a->nflat; i++)
        if (a->flat[i].page == (size_t)page) {
            go(e, a, i, i < a->pos ? -1 : 1);
            return;
        }
}

static void swipe(struct scene_env *e, void *self, int dir)
{
    struct reader *a = self;
    if (dir > 0 && a->pos + 1 < a->nflat)
        go(e, a, a->pos + 1, 1);
    else if (dir < 0 && a->pos > 0)
        go(e, a, a->pos - 1, -1);
}

static void tap(struct scene_env *e, void *self, const char *id)
{
    struct reader *a = self;
    if (a->blocks && ui_blocks_tap(a->blocks, e, id))
        scene_stack_invalidate(e->stack);
    else if (!strcmp(id, "page/next"))
        swipe(e, self, 1);
    else if (!strcmp(id, "page/prev"))
        swipe(e, self, -1);
    else if (!strcmp(id, "reader/done"))
        scene_stack_pop(e->stack);
    else if (!strcmp(id, "quiz/start"))
        scene_stack_push(e->stack, &scene_quiz);
}

static int drag(struct scene_env *e, void *self, enum scene_drag phase, const char *id, int x,
                int y)
{
    struct reader *a = self;
    if (!a->blocks)
        return 0;
    switch (phase) {
    case SCENE_DRAG_BEGIN:
        return ui_blocks_drag_begin(a->blocks, e, id, x, y);
    case SCENE_DRAG_MOVE:
        ui_blocks_drag_move(a->blocks, e, x, y);
        break;
    case SCENE_DRAG_END:
        ui_blocks_drag_end(a->blocks, e, x, y);
        break;
    }
    scene_stack_invalidate(e->stack);
    return 1;
}

/* The compare handle's move after a before/after tap. */
static int tick(struct scene_env *e, void *self, uint64_t now)
{
    struct reader *a = self;
    int changed = 0;
    int wait = a->blocks ? ui_blocks_tick(a->blocks, now, &changed) : -1;
    if (changed)
        scene_stack_invalidate(e->stack);
    return wait;
}

/* Renders the next screen into the caches so turning forward never stalls. (Only the
 * next: the previous one is usually still cached, and warming both would make the text
 * cache evict the screen on display.) */
static void prepare(struct scene_env *e, void *self)
{
    struct reader *a = self;
    size_t p = a->pos + 1;
    if (p < a->nflat)
        ui_warm(e->ui, &a->pages[a->flat[p].page].v[a->flat[p].screen]);
}

/* The reader's keys of the screen object: topic, page, screen, screens, and blocks (the
 * state of each interactive block on the screen, DESIGN.md). */
static void report(struct scene_env *e, const void *self, cJSON *j)
{
    (void)e;
    const struct reader *a = self;
    if (!a->nflat)
        return;
    cJSON_AddStringToObject(j, "topic", a->topic->id);
    cJSON_AddNumberToObject(j, "page", (double)a->flat[a->pos].page);
    cJSON_AddNumberToObject(j, "screen", (double)a->pos);
    cJSON_AddNumberToObject(j, "screens", (double)a->nflat);
    cJSON *blocks = cJSON_AddArrayToObject(j, "blocks");
    if (a->blocks)
        ui_blocks_report(a->blocks, blocks);
}

const struct scene scene_reader = {
    .name = "reader",
    .size = sizeof(struct reader),
    .enter = enter,
    .leave = leave,
    .uncover = uncover,
    .prepare = prepare,
    .report = report,
    .build = build,
    .tap = tap,
    .swipe = swipe,
    .drag = drag,
    .tick = tick,
    .chrome = 1,
    .back = 1,
};
