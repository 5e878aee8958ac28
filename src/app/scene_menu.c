/* The topic menu: a grid of cover cards, the visitor's group's topics first. */
#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/log.h"
#include "kepu/quiz.h"
#include "scene_env.h"
#include "scenes.h"
#include "ui_strings.h"
#include "visit.h"

struct menu {
    const struct kk_topic **topics; /* in the visitor's order */
    const struct kk_pack **packs;   /* the pack of each */
    size_t n;
    size_t page; /* the grid page shown */
};

/* Orders every topic: those meant for the visitor's group first, pack order otherwise. */
static void enter(struct scene_env *e, void *self)
{
    struct menu *a = self;
    size_t total = 0;
    for (size_t p = 0; p < e->content->lib.npacks; p++)
        total += e->content->lib.packs[p]->ntopics;
    a->topics = kk_calloc(total, sizeof(*a->topics));
    a->packs = kk_calloc(total, sizeof(*a->packs));
    a->n = 0;
    a->page = 0;
    if (!a->topics || !a->packs) {
        kk_error("menu", "out of memory ordering %zu topics", total);
        return;
    }
    unsigned mine = e->session->audience >= 0 ? KK_AUD_BIT(e->session->audience) : 0;
    const struct kk_library *lib = &e->content->lib;
    for (int pass = 0; pass < 2; pass++)
        for (size_t p = 0; p < lib->npacks; p++)
            for (size_t t = 0;
                 content_pack_visible(e->content, lib->packs[p]) && t < lib->packs[p]->ntopics;
                 t++) {
                const struct kk_topic *tp = &lib->packs[p]->topics[t];
                int for_me = (tp->audiences & mine) != 0;
                if ((pass == 0) == for_me) {
                    a->packs[a->n] = lib->packs[p];
                    a->topics[a->n++] = tp;
                }
            }
}

/* Landscape: up to 2x2 wide cards (picture beside the words); portrait: up to 2x3 tall
 * cards (picture above). Fewer topics make bigger cards. */
static void grid_shape(const struct scene_env *e, const struct menu *a, int *cols, int *rows)
{
    int per = e->ui->w >= e->ui->h ? 4 : 6;
    int n = a->n > (size_t)per ? per : (int)a->n;
    if (n < 1)
        n = 1;
    *cols = n < 2 ? n : 2;
    *rows = (n + 1) / 2;
}

static void card(struct scene_env *e, struct ui_list *l, const struct kk_topic *t, struct ui_rect r,
                 int for_me)
{
    char id[96];
    snprintf(id, sizeof(id), "topic/%s", t->id);
    struct ui_item *bg = ui_list_push(l, UI_RECT, r);
    if (bg) {
        bg->color = UI_CARD;
        bg->radius = ui_px(e->ui, 20);
    }
    int pad = ui_px(e->ui, 20);
    int title_px = e->session->large_text ? ui_px(e->ui, 44) : ui_px(e->ui, 38);
    int sum_px = e->session->large_text ? ui_px(e->ui, 34) : ui_px(e->ui, 28);
    int slh = ui_line_h(e->ui, UI_FONT_REGULAR, sum_px);
    const char *title = kk_text_get(&t->title, e->session->lang);
    const char *summary = kk_text_get(&t->summary, e->session->lang);
    /* A wide card puts the picture on the left and the words on the right; a tall one
     * puts the picture on top. */
    int wide = r.w > r.h * 8 / 5;
    struct ui_rect pic = {r.x + pad, r.y + pad, wide ? (r.w - 2 * pad) * 2 / 5 : r.w - 2 * pad,
                          r.h - 2 * pad};
    int tx = wide ? pic.x + pic.w + pad : r.x + pad, inner = r.x + r.w - pad - tx;
    /* Topics with a quiz have a "Take the quiz" button at the bottom right of the card. */
    const char *take = ui_str(S_TAKE_QUIZ, e->session->lang);
    int bh = ui_min_target(e->ui),
        bpx = e->session->large_text ? ui_px(e->ui, 40) : ui_px(e->ui, 34);
    int bw = ui_width(e->ui, UI_FONT_BOLD, bpx, take) + ui_px(e->ui, 72);
    bw = bw > inner ? inner : (bw < bh ? bh : bw);
    int quiz_h = kk_quiz_askable_count(t) ? bh + pad / 2 : 0;
    struct ui_rect quiz = {r.x + r.w - pad - bw, r.y + r.h - pad - bh, bw, bh};
    /* Words first: in a tall card the picture shrinks to make room for the summary, down
     * to 30% of the card; only then is the summary shortened, and the cut reported. */
    /* A title longer than three lines shrinks a little (to 4/5) before it is cut. */
    for (int tenths = 9;
         tenths >= 8 && ui_label_height(e->ui, title, UI_FONT_BOLD, title_px, inner, 4) >
                            ui_label_height(e->ui, title, UI_FONT_BOLD, title_px, inner, 3);
         tenths--)
        title_px = (e->session->large_text ? ui_px(e->ui, 44) : ui_px(e->ui, 38)) * tenths / 10;
    int title_h = ui_label_height(e->ui, title, UI_FONT_BOLD, title_px, inner, 3);
    int sum_lines = ui_label_height(e->ui, summary, UI_FONT_REGULAR, sum_px, inner, 12) / slh;
    int room = r.h - 2 * pad - pad / 2 - title_h - quiz_h - (wide ? 0 : r.h * 3 / 10);
    if (sum_lines * slh > room)
        sum_lines = room / slh > 1 ? room / slh : 1;
    if (!wide)
        pic.h = r.h - 2 * pad - pad / 2 - title_h - sum_lines * slh - quiz_h;
    if (pic.h > ui_px(e->ui, 60) && t->cover) {
        struct ui_item *img = ui_list_push(l, UI_IMAGE, pic);
        if (img)
            img->image = t->cover;
    } else {
        pic.h = 0;
    }
    if (for_me) {
        struct ui_item *tag =
            ui_list_push(l, UI_RECT, (struct ui_rect){r.x, r.y, ui_px(e->ui, 14), r.h});
        if (tag) {
            tag->color = UI_ACCENT;
            tag->radius = ui_px(e->ui, 6);
        }
    }
    int y = wide ? r.y + pad : pic.y + pic.h + pad / 2;
    char tid[128];
    snprintf(tid, sizeof(tid), "%s/title", id);
    y +=
        ui_label(e->ui, l, tid, title, UI_FONT_BOLD, title_px, UI_PRIMARY_DARK, tx, y, inner, 3, 0);
    snprintf(tid, sizeof(tid), "%s/summary", id);
    ui_teaser(e->ui, l, tid, summary, UI_FONT_REGULAR, sum_px, UI_INK_SOFT, tx, y, inner,
              sum_lines);
    ui_list_target(l, r, id, kk_text_get(&t->title, e->session->lang));
    if (kk_quiz_askable_count(t)) { /* added after the card's target, so it is on top of it */
        snprintf(id, sizeof(id), "quiz/%s", t->id);
        ui_button(e->ui, l, quiz, id, ui_str(S_TAKE_QUIZ, e->session->lang), 0);
    }
}

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    struct menu *a = self;
    int m = ui_px(e->ui, 48), gap = ui_px(e->ui, 32);
    int cols, rows;
    grid_shape(e, a, &cols, &rows);
    size_t per = (size_t)(cols * rows);
    size_t pages = (a->n + per - 1) / per;
    if (a->page >= pages)
        a->page = pages ? pages - 1 : 0;
    int y = box.y + ui_px(e->ui, 24);
    y += ui_label(e->ui, l, "menu/title", ui_str(S_CHOOSE_TOPIC, e->session->lang), UI_FONT_BOLD,
                  ui_px(e->ui, 56), UI_PRIMARY_DARK, box.x + m, y, box.w - 2 * m, 1, 0);
    y += ui_px(e->ui, 20);
    int nav_h = pages > 1 ? ui_min_target(e->ui) + gap : 0;
    int cw = (box.w - 2 * m - (cols - 1) * gap) / cols;
    int ch = (box.y + box.h - m - nav_h - y - (rows - 1) * gap) / rows;
    /* A lone card should not fill a wall. */
    if (cw > ui_px(e->ui, 900))
        cw = ui_px(e->ui, 900);
    if (ch > ui_px(e->ui, 820))
        ch = ui_px(e->ui, 820);
    int grid_w = cols * cw + (cols - 1) * gap;
    int gx = box.x + m + (box.w - 2 * m - grid_w) / 2;
    unsigned mine = e->session->audience >= 0 ? KK_AUD_BIT(e->session->audience) : 0;
    for (size_t i = 0; i < per; i++) {
        size_t k = a->page * per + i;
        if (k >= a->n)
            break;
        int r = (int)i / cols, c = (int)i % cols;
        card(e, l, a->topics[k], (struct ui_rect){gx + c * (cw + gap), y + r * (ch + gap), cw, ch},
             (a->topics[k]->audiences & mine) != 0);
    }
    if (pages > 1) {
        int bw = ui_px(e->ui, 300), bh = ui_min_target(e->ui);
        int by = box.y + box.h - m - bh;
        if (a->page > 0)
            ui_button(e->ui, l, (struct ui_rect){box.x + m, by, bw, bh}, "menu/prev",
                      ui_str(S_PREVIOUS, e->session->lang), 0);
        if (a->page + 1 < pages)
            ui_button(e->ui, l, (struct ui_rect){box.x + box.w - m - bw, by, bw, bh}, "menu/next",
                      ui_str(S_NEXT, e->session->lang), 0);
        char ind[32];
        snprintf(ind, sizeof(ind), "%zu / %zu", a->page + 1, pages);
        ui_label(e->ui, l, "menu/indicator", ind, UI_FONT_BOLD, ui_px(e->ui, 36), UI_INK_SOFT,
                 box.x + m + bw, by + (bh - ui_px(e->ui, 50)) / 2, box.w - 2 * m - 2 * bw, 1, 1);
    }
}

/* Opens topic_id in scene s: the reader, or the topic's quiz. */
static void open_topic(struct scene_env *e, struct menu *a, const char *topic_id,
                       const struct scene *s)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->topics[i]->id, topic_id)) {
            visit_open_topic(e, a->packs[i], a->topics[i], s);
            return;
        }
}

static void turn(struct scene_env *e, void *self, int dir)
{
    struct menu *a = self;
    int cols, rows;
    grid_shape(e, a, &cols, &rows);
    size_t per = (size_t)(cols * rows), pages = (a->n + per - 1) / per;
    if (dir > 0 && a->page + 1 < pages)
        a->page++;
    else if (dir < 0 && a->page > 0)
        a->page--;
    else
        return;
    scene_stack_invalidate(e->stack);
}

static void tap(struct scene_env *e, void *self, const char *id)
{
    if (!strncmp(id, "topic/", 6))
        open_topic(e, self, id + 6, &scene_reader);
    else if (!strncmp(id, "quiz/", 5))
        open_topic(e, self, id + 5, &scene_quiz);
    else if (!strcmp(id, "menu/next"))
        turn(e, self, 1);
    else if (!strcmp(id, "menu/prev"))
        turn(e, self, -1);
}

static void leave(struct scene_env *e, void *self)
{
    (void)e;
    struct menu *a = self;
    kk_free(a->topics);
    kk_free(a->packs);
}

const struct scene scene_menu = {
    .name = "menu",
    .size = sizeof(struct menu),
    .enter = enter,
    .leave = leave,
    .build = build,
    .tap = tap,
    .swipe = turn,
    .chrome = 1,
    .back = 1,
};
