/* The topic menu: a grid of cover cards, the visitor's group's topics first. */
#include "app.h"
#include "ui_text.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/log.h"

/* Orders every topic: those meant for the visitor's group first, pack order otherwise. */
static void enter(struct app *a)
{
    size_t total = 0;
    for (size_t p = 0; p < a->lib.npacks; p++)
        total += a->lib.packs[p]->ntopics;
    kk_free(a->menu);
    kk_free(a->menu_packs);
    a->menu = kk_calloc(total, sizeof(*a->menu));
    a->menu_packs = kk_calloc(total, sizeof(*a->menu_packs));
    a->nmenu = 0;
    a->menu_page = 0;
    if (!a->menu || !a->menu_packs) {
        kk_error("menu", "out of memory ordering %zu topics", total);
        return;
    }
    unsigned mine = a->audience >= 0 ? KK_AUD_BIT(a->audience) : 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t p = 0; p < a->lib.npacks; p++)
            for (size_t t = 0; app_pack_visible(a, a->lib.packs[p]) && t < a->lib.packs[p]->ntopics;
                 t++) {
                const struct kk_topic *tp = &a->lib.packs[p]->topics[t];
                int for_me = (tp->audiences & mine) != 0;
                if ((pass == 0) == for_me) {
                    a->menu_packs[a->nmenu] = a->lib.packs[p];
                    a->menu[a->nmenu++] = tp;
                }
            }
}

/* Landscape: up to 2x2 wide cards (picture beside the words); portrait: up to 2x3 tall
 * cards (picture above). Fewer topics make bigger cards. */
static void grid_shape(const struct app *a, int *cols, int *rows)
{
    int per = a->w >= a->h ? 4 : 6;
    int n = a->nmenu > (size_t)per ? per : (int)a->nmenu;
    if (n < 1)
        n = 1;
    *cols = n < 2 ? n : 2;
    *rows = (n + 1) / 2;
}

static void card(struct app *a, struct ui_list *l, const struct kk_topic *t, struct ui_rect r,
                 int for_me)
{
    char id[96];
    snprintf(id, sizeof(id), "topic/%s", t->id);
    struct ui_item *bg = ui_list_push(l, UI_RECT, r);
    if (bg) {
        bg->color = UI_CARD;
        bg->radius = app_px(a, 20);
    }
    int pad = app_px(a, 20);
    int title_px = a->large_text ? app_px(a, 44) : app_px(a, 38);
    int sum_px = a->large_text ? app_px(a, 34) : app_px(a, 28);
    int slh = ui_text_line_height(a->text, UI_FONT_REGULAR, sum_px);
    const char *title = kk_text_get(&t->title, a->lang);
    const char *summary = kk_text_get(&t->summary, a->lang);
    /* A wide card puts the picture on the left and the words on the right; a tall one
     * puts the picture on top. */
    int wide = r.w > r.h * 8 / 5;
    struct ui_rect pic = {r.x + pad, r.y + pad, wide ? (r.w - 2 * pad) * 2 / 5 : r.w - 2 * pad,
                          r.h - 2 * pad};
    int tx = wide ? pic.x + pic.w + pad : r.x + pad, inner = r.x + r.w - pad - tx;
    /* Topics with a quiz have a "Take the quiz" button at the bottom right of the card. */
    const char *take = ui_str(S_TAKE_QUIZ, a->lang);
    int bh = app_min_target(a), bpx = a->large_text ? app_px(a, 40) : app_px(a, 34);
    int bw = ui_text_measure(a->text, UI_FONT_BOLD, bpx, take, strlen(take)) + app_px(a, 72);
    bw = bw > inner ? inner : (bw < bh ? bh : bw);
    int quiz_h = t->nquestions ? bh + pad / 2 : 0;
    struct ui_rect quiz = {r.x + r.w - pad - bw, r.y + r.h - pad - bh, bw, bh};
    /* Words first: in a tall card the picture shrinks to make room for the summary, down
     * to 30% of the card; only then is the summary shortened, and the cut reported. */
    int title_h = app_text_height(a, title, UI_FONT_BOLD, title_px, inner, 3);
    int sum_lines = app_text_height(a, summary, UI_FONT_REGULAR, sum_px, inner, 12) / slh;
    int room = r.h - 2 * pad - pad / 2 - title_h - quiz_h - (wide ? 0 : r.h * 3 / 10);
    if (sum_lines * slh > room)
        sum_lines = room / slh > 1 ? room / slh : 1;
    if (!wide)
        pic.h = r.h - 2 * pad - pad / 2 - title_h - sum_lines * slh - quiz_h;
    if (pic.h > app_px(a, 60) && t->cover) {
        struct ui_item *img = ui_list_push(l, UI_IMAGE, pic);
        if (img)
            img->image = t->cover;
    } else {
        pic.h = 0;
    }
    if (for_me) {
        struct ui_item *tag =
            ui_list_push(l, UI_RECT, (struct ui_rect){r.x, r.y, app_px(a, 14), r.h});
        if (tag) {
            tag->color = UI_ACCENT;
            tag->radius = app_px(a, 6);
        }
    }
    int y = wide ? r.y + pad : pic.y + pic.h + pad / 2;
    char tid[128];
    snprintf(tid, sizeof(tid), "%s/title", id);
    y += app_label(a, l, tid, title, UI_FONT_BOLD, title_px, UI_PRIMARY_DARK, tx, y, inner, 3, 0);
    snprintf(tid, sizeof(tid), "%s/summary", id);
    app_teaser(a, l, tid, summary, UI_FONT_REGULAR, sum_px, UI_INK_SOFT, tx, y, inner, sum_lines);
    ui_list_target(l, r, id, kk_text_get(&t->title, a->lang));
    if (t->nquestions) { /* added after the card's target, so it is on top of it */
        snprintf(id, sizeof(id), "quiz/%s", t->id);
        app_button(a, l, quiz, id, ui_str(S_TAKE_QUIZ, a->lang), 0);
    }
}

static void build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int m = app_px(a, 48), gap = app_px(a, 32);
    int cols, rows;
    grid_shape(a, &cols, &rows);
    size_t per = (size_t)(cols * rows);
    size_t pages = (a->nmenu + per - 1) / per;
    if (a->menu_page >= pages)
        a->menu_page = pages ? pages - 1 : 0;
    int y = box.y + app_px(a, 24);
    y += app_label(a, l, "menu/title", ui_str(S_CHOOSE_TOPIC, a->lang), UI_FONT_BOLD, app_px(a, 56),
                   UI_PRIMARY_DARK, box.x + m, y, box.w - 2 * m, 1, 0);
    y += app_px(a, 20);
    int nav_h = pages > 1 ? app_min_target(a) + gap : 0;
    int cw = (box.w - 2 * m - (cols - 1) * gap) / cols;
    int ch = (box.y + box.h - m - nav_h - y - (rows - 1) * gap) / rows;
    /* A lone card should not fill a wall. */
    if (cw > app_px(a, 900))
        cw = app_px(a, 900);
    if (ch > app_px(a, 820))
        ch = app_px(a, 820);
    int grid_w = cols * cw + (cols - 1) * gap;
    int gx = box.x + m + (box.w - 2 * m - grid_w) / 2;
    unsigned mine = a->audience >= 0 ? KK_AUD_BIT(a->audience) : 0;
    for (size_t i = 0; i < per; i++) {
        size_t k = a->menu_page * per + i;
        if (k >= a->nmenu)
            break;
        int r = (int)i / cols, c = (int)i % cols;
        card(a, l, a->menu[k], (struct ui_rect){gx + c * (cw + gap), y + r * (ch + gap), cw, ch},
             (a->menu[k]->audiences & mine) != 0);
    }
    if (pages > 1) {
        int bw = app_px(a, 300), bh = app_min_target(a);
        int by = box.y + box.h - m - bh;
        if (a->menu_page > 0)
            app_button(a, l, (struct ui_rect){box.x + m, by, bw, bh}, "menu/prev",
                       ui_str(S_PREVIOUS, a->lang), 0);
        if (a->menu_page + 1 < pages)
            app_button(a, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "menu/next",
                       ui_str(S_NEXT, a->lang), 0);
        char ind[32];
        snprintf(ind, sizeof(ind), "%zu / %zu", a->menu_page + 1, pages);
        app_label(a, l, "menu/indicator", ind, UI_FONT_BOLD, app_px(a, 36), UI_INK_SOFT,
                  box.x + m + bw, by + (bh - app_px(a, 50)) / 2, box.w - 2 * m - 2 * bw, 1, 1);
    }
}

/* Opens topic_id in scene s: the reader, or the topic's quiz. */
static void open_topic(struct app *a, const char *topic_id, const struct scene *s)
{
    for (size_t i = 0; i < a->nmenu; i++)
        if (!strcmp(a->menu[i]->id, topic_id)) {
            a->topic = a->menu[i];
            a->pack = a->menu_packs[i];
            app_push(a, s);
            return;
        }
}

static void turn(struct app *a, int dir)
{
    int cols, rows;
    grid_shape(a, &cols, &rows);
    size_t per = (size_t)(cols * rows), pages = (a->nmenu + per - 1) / per;
    if (dir > 0 && a->menu_page + 1 < pages)
        a->menu_page++;
    else if (dir < 0 && a->menu_page > 0)
        a->menu_page--;
    else
        return;
    app_invalidate(a);
}

static void tap(struct app *a, const char *id)
{
    if (!strncmp(id, "topic/", 6))
        open_topic(a, id + 6, &scene_reader);
    else if (!strncmp(id, "quiz/", 5))
        open_topic(a, id + 5, &scene_quiz);
    else if (!strcmp(id, "menu/next"))
        turn(a, 1);
    else if (!strcmp(id, "menu/prev"))
        turn(a, -1);
}

const struct scene scene_menu = {
    .name = "menu",
    .enter = enter,
    .build = build,
    .tap = tap,
    .swipe = turn,
    .chrome = 1,
    .back = 1,
};
