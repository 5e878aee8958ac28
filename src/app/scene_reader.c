/* The topic reader: pages of text, pictures and fact boxes, laid out into screens that
 * fit; swipe or the arrow buttons turn them. */
#include "app.h"
#include "ui_draw.h"
#include "ui_text.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/log.h"

#define BOTTOM_BAR 150 /* design px */

static void free_layout(struct app *a)
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

static struct ui_rect page_box(const struct app *a, struct ui_rect box)
{
    int m = app_px(a, 70);
    int bottom = app_px(a, BOTTOM_BAR);
    return (struct ui_rect){box.x + m, box.y + app_px(a, 40), box.w - 2 * m,
                            box.h - bottom - app_px(a, 60)};
}

/* Lays out every page of the topic for the current language, text size and screen. */
static void layout(struct app *a, struct ui_rect box)
{
    size_t keep_page = a->nflat ? a->flat[a->pos].page : a->open_page;
    a->open_page = 0;
    free_layout(a);
    const struct kk_topic *t = a->topic;
    a->pages = kk_calloc(t->npages ? t->npages : 1, sizeof(*a->pages));
    if (!a->pages)
        return;
    struct ui_page_style st;
    ui_page_style_for(&st, a->scale, a->large_text);
    size_t total = 0;
    for (size_t i = 0; i < t->npages; i++) {
        enum kk_err rc =
            ui_layout_page(&t->pages[i], a->lang, &a->measure, &st, box.w, box.h, &a->pages[i]);
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
    a->layout_lang = a->lang;
    a->layout_large = a->large_text;
    a->layout_w = box.w;
    a->layout_h = box.h;
}

static void page_view(struct app *a)
{
    if (!a->nflat || !a->page_shown_at)
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "topic", a->topic->id);
    cJSON_AddNumberToObject(f, "page", (double)a->flat[a->pos].page);
    cJSON_AddNumberToObject(f, "dwell_ms", (double)(kk_clock_mono_ms() - a->page_shown_at));
    app_event(a, "page_view", f);
}

static char pack_ref[2 * 64 + 2];

static void enter(struct app *a)
{
    a->nflat = 0;
    a->pos = 0;
    a->layout_w = 0;
    a->page_shown_at = kk_clock_mono_ms();
    snprintf(pack_ref, sizeof(pack_ref), "%s@%s", a->pack->id, a->pack->version);
    a->ev.pack = pack_ref;
    kk_info("reader", "opened %s/%s", a->pack->id, a->topic->id);
}

static void leave(struct app *a)
{
    page_view(a);
    free_layout(a);
    a->page_shown_at = 0;
}

/* Moves to screen pos; records the page view when the content page changes. */
static void go(struct app *a, size_t pos, int dir)
{
    if (pos >= a->nflat || pos == a->pos)
        return;
    if (a->flat[pos].page != a->flat[a->pos].page) {
        page_view(a);
        a->page_shown_at = kk_clock_mono_ms();
    }
    app_begin_page_turn(a, dir);
    a->pos = pos;
    app_invalidate(a);
}

static void build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    struct ui_rect pb = page_box(a, box);
    if (a->layout_w != pb.w || a->layout_h != pb.h || a->layout_lang != (int)a->lang ||
        a->layout_large != a->large_text || !a->pages)
        layout(a, pb);
    if (!a->nflat)
        return;
    const struct reader_screen *rs = &a->flat[a->pos];
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

    /* The bottom bar: previous, where we are, next (or what comes after the last page). */
    int m = app_px(a, 40), bh = app_min_target(a);
    int bw = app_px(a, 320) > bh ? app_px(a, 320) : bh;
    int by = box.y + box.h - app_px(a, BOTTOM_BAR) + (app_px(a, BOTTOM_BAR) - bh) / 2;
    if (a->pos > 0)
        app_button(a, l, (struct ui_rect){box.x + m, by, bw, bh}, "page/prev",
                   ui_str(S_PREVIOUS, a->lang), 0);
    if (a->pos + 1 < a->nflat)
        app_button(a, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "page/next",
                   ui_str(S_NEXT, a->lang), 1);
    else if (a->topic->nquestions)
        app_button(a, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "quiz/start",
                   ui_str(S_TAKE_QUIZ, a->lang), 1);
    else
        app_button(a, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "reader/done",
                   ui_str(S_CHOOSE_TOPIC, a->lang), 1);
    /* Dots for short topics, "3 / 12" for long ones. */
    int cx = box.x + box.w / 2;
    if (a->nflat <= 12) {
        int d = app_px(a, 18), g = app_px(a, 14);
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
        int px = app_px(a, 36);
        app_label(a, l, "page/indicator", ind, UI_FONT_BOLD, px, UI_INK_SOFT, box.x + m + bw,
                  by + (bh - ui_text_line_height(a->text, UI_FONT_BOLD, px)) / 2,
                  box.w - 2 * (m + bw), 1, 1);
    }
}

void reader_show_page(struct app *a, size_t page)
{
    if (!a->nflat) { /* not open (or not laid out yet): layout() starts there */
        a->open_page = page;
        return;
    }
    for (size_t i = 0; i < a->nflat; i++)
        if (a->flat[i].page == page) {
            go(a, i, i < a->pos ? -1 : 1);
            return;
        }
}

static void swipe(struct app *a, int dir)
{
    if (dir > 0 && a->pos + 1 < a->nflat)
        go(a, a->pos + 1, 1);
    else if (dir < 0 && a->pos > 0)
        go(a, a->pos - 1, -1);
}

static void tap(struct app *a, const char *id)
{
    if (!strcmp(id, "page/next"))
        swipe(a, 1);
    else if (!strcmp(id, "page/prev"))
        swipe(a, -1);
    else if (!strcmp(id, "reader/done"))
        app_pop(a);
    else if (!strcmp(id, "quiz/start"))
        app_push(a, &scene_quiz);
}

/* Renders the next screen into the caches so turning forward never stalls. (Only the
 * next: the previous one is usually still cached, and warming both would make the text
 * cache evict the screen on display.) */
static void prepare(struct app *a)
{
    size_t p = a->pos + 1;
    if (p < a->nflat)
        ui_draw_warm(a->ren, a->text, a->images, &a->pages[a->flat[p].page].v[a->flat[p].screen]);
}

const struct scene scene_reader = {
    .prepare = prepare,
    .name = "reader",
    .enter = enter,
    .leave = leave,
    .build = build,
    .tap = tap,
    .swipe = swipe,
    .chrome = 1,
    .back = 1,
};
