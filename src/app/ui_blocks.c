#include "ui_blocks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "scene_env.h"
#include "ui_strings.h"

#define HANDLE_MS 260 /* the compare handle's move after a before/after tap */
#define CAP_LINES 4   /* a block's caption: lines at most (the picture makes room) */
#define MAX_SHOWN 4   /* blocks on one screen (each fills the rest of its screen: one) */
/* The smallest text (design px) a block's words shrink to past 7/10 of their size: 7/10
 * of the normal body size, so large text can shrink further than normal text. */
#define MIN_READABLE_PX 24

struct block_state {
    const struct kk_block *b;
    size_t page, index; /* where the block is: page, and its index among the page's blocks */
    /* hotspots */
    int open; /* the spot whose card is open, -1 for none */
    int all;  /* labels by every marker */
    /* compare: the share of the picture showing "before", left of the handle */
    double split, split_from, split_to;
    uint64_t anim_start; /* 0: not moving */
    int dragging;
    struct ui_rect pic; /* where the picture was drawn (screen px), for the drag */
    /* sequence and steps */
    int frame, step;
    int list_all; /* steps: every step listed */
};

struct ui_blocks {
    const struct kk_topic *topic;
    struct block_state *v;
    size_t n;
    size_t shown[MAX_SHOWN]; /* indexes into v of the blocks on the screen built last */
    size_t nshown;
};

const char *ui_blocks_type_name(enum kk_block_type t)
{
    switch (t) {
    case KK_BLOCK_HOTSPOTS:
        return "hotspots";
    case KK_BLOCK_COMPARE:
        return "compare";
    case KK_BLOCK_SEQUENCE:
        return "sequence";
    case KK_BLOCK_STEPS:
        return "steps";
    case KK_BLOCK_TEXT:
    case KK_BLOCK_IMAGE:
    case KK_BLOCK_FACT:
        break;
    }
    return NULL;
}

struct ui_blocks *ui_blocks_create(const struct kk_topic *t)
{
    struct ui_blocks *b = kk_calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->topic = t;
    size_t n = 0;
    for (size_t p = 0; p < t->npages; p++)
        for (size_t i = 0; i < t->pages[p].nblocks; i++)
            n += ui_blocks_type_name(t->pages[p].blocks[i].type) != NULL;
    b->v = kk_calloc(n ? n : 1, sizeof(*b->v));
    if (!b->v) {
        kk_free(b);
        return NULL;
    }
    for (size_t p = 0; p < t->npages; p++)
        for (size_t i = 0; i < t->pages[p].nblocks; i++) {
            const struct kk_block *k = &t->pages[p].blocks[i];
            if (!ui_blocks_type_name(k->type))
                continue;
            struct block_state *s = &b->v[b->n++];
            s->b = k;
            s->page = p;
            s->index = i;
            s->open = -1;
            s->split = s->split_from = s->split_to = 0.5;
        }
    return b;
}

void ui_blocks_destroy(struct ui_blocks *b)
{
    if (!b)
        return;
    kk_free(b->v);
    kk_free(b);
}

static struct block_state *find(struct ui_blocks *b, size_t page, size_t index)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].page == page && b->v[i].index == index)
            return &b->v[i];
    return NULL;
}

/* The block shown now of type t (one block per screen: the first of that type). */
static struct block_state *shown(struct ui_blocks *b, enum kk_block_type t)
{
    for (size_t i = 0; i < b->nshown; i++)
        if (b->v[b->shown[i]].b->type == t)
            return &b->v[b->shown[i]];
    return NULL;
}

/* ---- events ---- */

static void interact(struct ui_blocks *b, struct scene_env *e, const struct block_state *s,
                     const char *action, const char *target)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "topic", b->topic->id);
    cJSON_AddNumberToObject(f, "page", (double)s->page);
    cJSON_AddStringToObject(f, "block", ui_blocks_type_name(s->b->type));
    cJSON_AddStringToObject(f, "action", action);
    if (target && *target)
        cJSON_AddStringToObject(f, "target", target);
    session_event(e->session, "interact", f);
}

static void interact_n(struct ui_blocks *b, struct scene_env *e, const struct block_state *s,
                       const char *action, int n)
{
    char t[16];
    snprintf(t, sizeof(t), "%d", n);
    interact(b, e, s, action, t);
}

/* ---- drawing helpers ---- */

static struct ui_item *rect(struct ui_list *l, struct ui_rect r, struct ui_color c, int radius)
{
    struct ui_item *it = ui_list_push(l, UI_RECT, r);
    if (it) {
        it->color = c;
        it->radius = radius;
        it->slide = 1;
    }
    return it;
}

static void ring(struct ui_list *l, struct ui_rect r, struct ui_color c, int width)
{
    struct ui_item *it = ui_list_push(l, UI_RING, r);
    if (it) {
        it->color = c;
        it->radius = width;
        it->slide = 1;
    }
}

static struct ui_item *image(struct ui_list *l, const struct kk_image *img, struct ui_rect r)
{
    struct ui_item *it = ui_list_push(l, UI_IMAGE, r);
    if (it) {
        it->image = img;
        it->slide = 1;
    }
    return it;
}

/* A number centred in r (a marker, a stop, a step). */
static void number(const struct ui_ctx *u, struct ui_list *l, struct ui_rect r, int n,
                   struct ui_color c)
{
    char s[16];
    snprintf(s, sizeof(s), "%d", n);
    int px = r.h * 2 / 5;
    int w = ui_width(u, UI_FONT_BOLD, px, s), lh = ui_line_h(u, UI_FONT_BOLD, px);
    struct ui_item *it = ui_list_text(l, r.x + (r.w - w) / 2, r.y + (r.h - lh) / 2, w, lh, s,
                                      strlen(s), px, UI_FONT_BOLD, c);
    if (it)
        it->slide = 1;
}

/* The picture img fitted into area, centred across and at its top (its caption goes right
 * under it); returns where it goes. */
static struct ui_rect fit_in(const struct kk_image *img, struct ui_rect area)
{
    int w, h;
    ui_fit(img, area.w > 1 ? area.w : 1, area.h > 1 ? area.h : 1, &w, &h);
    return (struct ui_rect){area.x + (area.w - w) / 2, area.y, w, h};
}

/* Marks every item appended since `from` as page content (it slides on a page turn). */
static void slide_from(struct ui_list *l, size_t from)
{
    for (size_t i = from; i < l->n; i++)
        l->items[i].slide = 1;
}

/* A button, sliding with the page. */
static void button(const struct ui_ctx *u, struct ui_list *l, struct ui_rect r, const char *id,
                   const char *label, int primary)
{
    size_t from = l->n;
    ui_button(u, l, r, id, label, primary);
    slide_from(l, from);
}

/* The height of a row of n buttons of width w with these labels: the lines the longest
 * label needs, up to UI_BUTTON_LINES (never below the minimum target). */
static int buttons_h(const struct ui_ctx *u, const char *const *labels, int n, int w)
{
    int px = ui_button_px(u), pad = ui_px(u, 16);
    int h = ui_min_target(u);
    for (int i = 0; i < n; i++) {
        int need = ui_label_height(u, labels[i], UI_FONT_BOLD, px, w - 2 * pad, UI_BUTTON_LINES);
        if (need > ui_line_h(u, UI_FONT_BOLD, px) && need + 2 * pad > h)
            h = need + 2 * pad;
    }
    return h;
}

static int label(const struct ui_ctx *u, struct ui_list *l, const char *id, const char *text,
                 enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines,
                 int center)
{
    size_t from = l->n;
    int h = ui_label(u, l, id, text, font, px, c, x, y, w, max_lines, center);
    slide_from(l, from);
    return h;
}

static int lines_fit(const struct ui_ctx *u, enum ui_font font, int px, int h)
{
    int lh = ui_line_h(u, font, px);
    return lh > 0 && h > 0 ? h / lh : 0;
}

/* The i-th size a block's text of size px tries (0: px itself): 9/10, 4/5 and 7/10 of px,
 * then (large text) smaller tenths down to MIN_READABLE_PX; 0 past the last. */
static int tried_px(const struct ui_ctx *u, int px, size_t i)
{
    static const int tenths[] = {10, 9, 8, 7, 6, 5};
    if (i >= sizeof(tenths) / sizeof(tenths[0]))
        return 0;
    int p = px * tenths[i] / 10;
    return tenths[i] < 7 && p < ui_px(u, MIN_READABLE_PX) ? 0 : p;
}

/* The text size for text in a place w x h of a block: the first size tried that holds it
 * whole (a long card or step shrinks before it is cut); the smallest when none does. */
static int fit_px(const struct ui_ctx *u, enum ui_font font, const char *text, int px, int w, int h)
{
    int last = px, p;
    for (size_t i = 0; (p = tried_px(u, px, i)); i++) {
        last = p;
        if (!*text || ui_label_height(u, text, font, p, w, 64) <= h)
            return p;
    }
    return last;
}

/* The smallest size fit_px tries for px. */
static int smallest_px(const struct ui_ctx *u, int px)
{
    int last = px, p;
    for (size_t i = 0; (p = tried_px(u, px, i)); i++)
        last = p;
    return last;
}

/* Stops in rows (sequence frames, step numbers): n round targets of the minimum size in
 * rows across w; returns the rows needed. */
static int stop_rows(const struct ui_ctx *u, int n, int w, int *per_row)
{
    int t = ui_min_target(u), g = ui_px(u, 14);
    int cap = (w + g) / (t + g);
    if (cap < 1)
        cap = 1;
    int rows = (n + cap - 1) / cap;
    *per_row = (n + rows - 1) / rows;
    return rows;
}

/* Draws the stops: ids prefix/<i>, the current one filled, those before it tinted, a track
 * joining them. Returns the height used. */
static int stops(const struct ui_ctx *u, struct ui_list *l, const char *prefix,
                 const struct kk_text *labels, size_t label_stride, int n, int cur, int x, int y,
                 int w, enum kk_lang lang)
{
    int t = ui_min_target(u), g = ui_px(u, 14), per;
    int rows = stop_rows(u, n, w, &per);
    int step = per > 1 ? (w - t) / (per - 1) : 0;
    if (step > t * 2)
        step = t * 2;
    for (int row = 0; row < rows; row++) {
        int first = row * per, cnt = n - first < per ? n - first : per;
        int row_w = (cnt - 1) * step + t, x0 = x + (w - row_w) / 2, ry = y + row * (t + g);
        int track = ui_px(u, 6);
        if (cnt > 1)
            rect(l, (struct ui_rect){x0 + t / 2, ry + (t - track) / 2, row_w - t, track}, UI_LINE,
                 0);
        for (int k = 0; k < cnt; k++) {
            int i = first + k;
            struct ui_rect r = {x0 + k * step, ry, t, t};
            int on = i == cur, past = i < cur;
            /* A round outline: the primary disc with the fill inside it. */
            int in = on ? 0 : (ui_px(u, 3) > 2 ? ui_px(u, 3) : 2);
            rect(l, r, UI_PRIMARY, t / 2);
            if (in)
                rect(l, (struct ui_rect){r.x + in, r.y + in, t - 2 * in, t - 2 * in},
                     past ? UI_SELECTED_SOFT : UI_CARD, t / 2 - in);
            number(u, l, r, i + 1, on ? UI_ON_PRIMARY : UI_PRIMARY_DARK);
            char id[32];
            snprintf(id, sizeof(id), "%s/%d", prefix, i);
            const struct kk_text *lt =
                (const struct kk_text *)((const char *)labels + (size_t)i * label_stride);
            ui_list_target(l, r, id, kk_text_get(lt, lang));
        }
    }
    return rows * t + (rows - 1) * g;
}

/* ---- hotspots ---- */

static struct ui_rect marker_rect(const struct ui_ctx *u, struct ui_rect pic, struct ui_rect box,
                                  const struct kk_spot *sp)
{
    int t = ui_min_target(u);
    int cx = pic.x + (int)(sp->x * pic.w + 0.5), cy = pic.y + (int)(sp->y * pic.h + 0.5);
    struct ui_rect r = {cx - t / 2, cy - t / 2, t, t};
    /* A marker at the picture's edge stays whole on the screen. */
    if (r.x < box.x)
        r.x = box.x;
    if (r.y < box.y)
        r.y = box.y;
    if (r.x + r.w > box.x + box.w)
        r.x = box.x + box.w - r.w;
    if (r.y + r.h > box.y + box.h)
        r.y = box.y + box.h - r.h;
    return r;
}

static int intersects(struct ui_rect a, struct ui_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* How much of a covers b, in square pixels. */
static long overlap_area(struct ui_rect a, struct ui_rect b)
{
    int w = (a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w) - (a.x > b.x ? a.x : b.x);
    int h = (a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h) - (a.y > b.y ? a.y : b.y);
    return w > 0 && h > 0 ? (long)w * h : 0;
}

/* The height the card of sp needs at width w. */
static int card_need(const struct ui_ctx *u, const struct ui_page_style *st,
                     const struct kk_spot *sp, int w, enum kk_lang lang)
{
    int pad = st->padding, g = ui_px(u, 16), inner = w - 2 * pad;
    int need =
        2 * pad +
        ui_label_height(u, kk_text_get(&sp->label, lang), UI_FONT_BOLD, st->body_px, inner, 3) + g +
        ui_label_height(u, kk_text_get(&sp->text, lang), UI_FONT_REGULAR, st->body_px, inner, 60);
    if (sp->image) {
        int iw, ih;
        ui_fit(sp->image, inner, ui_px(u, 220), &iw, &ih);
        need += ih + g;
    }
    return need;
}

/* Markers that would overlap (spots close together, or pushed inside at the same edge)
 * move apart, each to the nearest place around its spot that is inside box and clear of
 * the markers before it, so every one can be tapped. */
static void spread(struct ui_rect *marks, size_t n, struct ui_rect box)
{
    static const int dirs[8][2] = {{1, 0}, {0, 1},  {-1, 0},  {0, -1},
                                   {1, 1}, {-1, 1}, {-1, -1}, {1, -1}};
    for (size_t i = 1; i < n; i++) {
        struct ui_rect m = marks[i];
        int clear = 1;
        for (size_t j = 0; clear && j < i; j++)
            clear = !intersects(m, marks[j]);
        for (int ring = 1; !clear && ring <= 12; ring++)
            for (int d = 0; !clear && d < 8; d++) {
                int step = m.w * ring / 2 + ring; /* half a marker further each ring */
                struct ui_rect r = {m.x + dirs[d][0] * step, m.y + dirs[d][1] * step, m.w, m.h};
                if (r.x < box.x || r.y < box.y || r.x + r.w > box.x + box.w ||
                    r.y + r.h > box.y + box.h)
                    continue;
                clear = 1;
                for (size_t j = 0; clear && j < i; j++)
                    clear = !intersects(r, marks[j]);
                if (clear)
                    marks[i] = r;
            }
    }
}

/* The open spot's card: label, text and picture, beside its marker m (right, else left)
 * or below or above it, inside box, never over m; where it can, over no other marker
 * either (marks[0..n)). */
static struct ui_rect spot_card(const struct ui_ctx *u, struct ui_list *l,
                                const struct ui_page_style *st, const struct kk_spot *sp,
                                struct ui_rect m, const struct ui_rect *marks, size_t n,
                                struct ui_rect box, enum kk_lang lang)
{
    int pad = st->padding, g = ui_px(u, 16);
    const char *title = kk_text_get(&sp->label, lang), *text = kk_text_get(&sp->text, lang);
    const struct ui_rect rooms[4] = {
        {m.x + m.w + g, box.y, box.x + box.w - (m.x + m.w + g), box.h}, /* right */
        {box.x, box.y, m.x - g - box.x, box.h},                         /* left */
        {box.x, m.y + m.h + g, box.w, box.y + box.h - (m.y + m.h + g)}, /* below */
        {box.x, box.y, box.w, m.y - g - box.y},                         /* above */
    };
    int max_w = ui_px(u, 620), min_w = ui_px(u, 380);
    struct ui_rect best = {0};
    int best_score = -1;
    for (int side = 0; side < 4; side++) {
        struct ui_rect room = rooms[side];
        int w = side < 2 ? (room.w < max_w ? room.w : max_w)
                         : (room.w < ui_px(u, 760) ? room.w : ui_px(u, 760));
        if (w < min_w || room.h < ui_min_target(u))
            continue;
        int need = card_need(u, st, sp, w, lang);
        if (need > room.h && room.w > w) { /* a long text: a wider card, up to 3/2 */
            w = room.w < w * 3 / 2 ? room.w : w * 3 / 2;
            need = card_need(u, st, sp, w, lang);
        }
        int h = need < room.h ? need : room.h;
        for (int k = 0; k < 3; k++) {
            struct ui_rect r = {0, 0, w, h};
            if (side < 2) { /* beside: level with the marker, else at the top or bottom */
                r.x = side == 0 ? room.x : room.x + room.w - w;
                r.y = k == 0 ? m.y + m.h / 2 - h / 2 : k == 1 ? room.y : room.y + room.h - h;
            } else { /* under or over: centred on the marker, else at either side */
                r.x = k == 0 ? m.x + m.w / 2 - w / 2 : k == 1 ? room.x : room.x + room.w - w;
                r.y = side == 2 ? room.y : room.y + room.h - h;
            }
            if (r.x + r.w > room.x + room.w)
                r.x = room.x + room.w - r.w;
            if (r.x < room.x)
                r.x = room.x;
            if (r.y + r.h > room.y + room.h)
                r.y = room.y + room.h - r.h;
            if (r.y < room.y)
                r.y = room.y;
            int clear = 1;
            for (size_t i = 0; i < n; i++)
                clear &= !intersects(r, marks[i]);
            /* A card cut short anyway: the room with most space for its words wins. */
            int fits = need <= room.h;
            int score = fits * 4 + (fits ? clear * 2 : 0);
            int more = fits ? h > best.h : (long)w * h > (long)best.w * best.h;
            if (score > best_score || (score == best_score && more)) {
                best_score = score;
                best = r;
            }
        }
    }
    if (best_score < 0) /* no room anywhere: below the marker, as far as the block goes */
        best = (struct ui_rect){box.x, m.y + m.h + g, box.w, box.y + box.h - (m.y + m.h + g)};
    struct ui_rect r = best;
    rect(l, (struct ui_rect){r.x + ui_px(u, 4), r.y + ui_px(u, 6), r.w, r.h}, UI_LINE,
         pad / 2); /* a soft shadow lifts the card off the picture */
    rect(l, r, UI_CARD, pad / 2);
    ring(l, r, UI_ACCENT, ui_px(u, 4) > 2 ? ui_px(u, 4) : 2);
    int inner = r.w - 2 * pad, y = r.y + pad, bottom = r.y + r.h - pad;
    y += label(u, l, "hotspot/card/label", title, UI_FONT_BOLD, st->body_px, UI_ACCENT, r.x + pad,
               y, inner, 3, 0) +
         g;
    /* The picture gives way when the text would not fit whole beside it even at its
     * smallest size. */
    int pic_room = bottom - y - ui_px(u, 80) - g;
    int min_px = smallest_px(u, st->body_px);
    int show_pic = sp->image && (!*text || ui_label_height(u, text, UI_FONT_REGULAR, min_px, inner,
                                                           64) <= pic_room);
    if (show_pic) {
        /* The picture gives up height (down to 80 px) to the text under it. */
        int text_h =
            *text ? ui_label_height(u, text, UI_FONT_REGULAR, st->body_px * 7 / 10, inner, 64) : 0;
        int room = bottom - y - g - text_h, most = ui_px(u, 220), iw, ih;
        if (room < most)
            most = room > ui_px(u, 80) ? room : ui_px(u, 80);
        ui_fit(sp->image, inner, most, &iw, &ih);
        image(l, sp->image, (struct ui_rect){r.x + pad, y, inner, ih});
        y += ih + g;
    }
    int tpx = fit_px(u, UI_FONT_REGULAR, text, st->body_px, inner, bottom - y);
    int nl = lines_fit(u, UI_FONT_REGULAR, tpx, bottom - y);
    if (nl > 0)
        label(u, l, "hotspot/card/text", text, UI_FONT_REGULAR, tpx, UI_INK, r.x + pad, y, inner,
              nl, 0);
    else if (*text)
        ui_list_note_overflow(l, "hotspot/card/text");
    ui_list_target(l, r, "hotspot/close", ui_str(S_BLOCK_CLOSE, lang));
    return r;
}

static void build_hotspots(const struct ui_ctx *u, struct ui_list *l, struct block_state *s,
                           struct ui_rect R, const struct ui_page_style *st, enum kk_lang lang)
{
    const struct kk_block *b = s->b;
    int g = ui_px(u, 20);
    const char *labels[3] = {ui_str(S_BLOCK_PREV_SPOT, lang),
                             ui_str(s->all ? S_BLOCK_HIDE_LABELS : S_BLOCK_SHOW_LABELS, lang),
                             ui_str(S_BLOCK_NEXT_SPOT, lang)};
    int bw = (R.w - 2 * g) / 3 < ui_px(u, 420) ? (R.w - 2 * g) / 3 : ui_px(u, 420);
    int bh = buttons_h(u, labels, 3, bw);
    int by = R.y + R.h - bh;
    const char *cap = kk_text_get(&b->caption, lang);
    int cap_h = *cap ? ui_label_height(u, cap, UI_FONT_REGULAR, st->caption_px, R.w, CAP_LINES) : 0;
    struct ui_rect area = {R.x, R.y, R.w, by - g - (cap_h ? cap_h + g / 2 : 0) - R.y};
    struct ui_rect pic = fit_in(b->image, area);
    image(l, b->image, pic);
    if (cap_h)
        label(u, l, "hotspots/caption", cap, UI_FONT_REGULAR, st->caption_px, UI_INK_SOFT, R.x,
              pic.y + pic.h + g / 2, R.w, CAP_LINES, 1);
    int t = ui_min_target(u);
    struct ui_rect marks[2 * KK_MAX_CHOICES];
    size_t ns = b->nspots < 2 * KK_MAX_CHOICES ? b->nspots : 2 * KK_MAX_CHOICES;
    for (size_t i = 0; i < ns; i++)
        marks[i] = marker_rect(u, pic, R, &b->spots[i]);
    spread(marks, ns, (struct ui_rect){R.x, R.y, R.w, by - g - R.y});
    /* Labels by every marker: right of it, or left when the right runs off the block. */
    struct ui_rect placed[2 * KK_MAX_CHOICES]; /* the labels so far: the next keeps clear */
    size_t nplaced = 0;
    if (s->all)
        for (size_t i = 0; i < ns; i++) {
            if ((int)i == s->open)
                continue;
            const char *lb = kk_text_get(&b->spots[i].label, lang);
            int px = st->caption_px, pad = ui_px(u, 10);
            int lh = ui_line_h(u, UI_FONT_BOLD, px);
            int w = ui_width(u, UI_FONT_BOLD, px, lb) + 2 * pad;
            if (w > R.w / 2)
                w = R.w / 2;
            struct ui_rect m = marks[i];
            /* A label wider than half the block takes two or three lines. */
            int nl = ui_label_height(u, lb, UI_FONT_BOLD, px, w - 2 * pad, 3) / (lh > 0 ? lh : 1);
            nl = nl < 1 ? 1 : (nl > 3 ? 3 : nl);
            /* Right of the marker, else left, under or over it, then the same places moved
             * along by a label's height or width at a time: the first inside the block
             * that keeps clear of the markers and of the labels placed so far; when none
             * does, the one that covers least of the labels placed so far. */
            int gap = ui_px(u, 6), ch = nl * lh + pad;
            struct ui_rect c = {m.x + m.w + gap, m.y + (m.h - ch) / 2, w, ch};
            long best = -1;
            for (int step = 0; step <= 6 && best != 0; step++)
                for (int k = 0; k < 4 && best != 0; k++) {
                    int dy = (step + 1) / 2 * (ch + gap) * (step % 2 ? 1 : -1);
                    int dx = (step + 1) / 2 * (w / 2 + gap) * (step % 2 ? 1 : -1);
                    struct ui_rect cand[4] = {
                        {m.x + m.w + gap, m.y + (m.h - ch) / 2 + dy, w, ch},
                        {m.x - gap - w, m.y + (m.h - ch) / 2 + dy, w, ch},
                        {m.x + (m.w - w) / 2 + dx, m.y + m.h + gap, w, ch},
                        {m.x + (m.w - w) / 2 + dx, m.y - gap - ch, w, ch},
                    };
                    struct ui_rect r = cand[k];
                    if (r.x < R.x || r.x + r.w > R.x + R.w || r.y < R.y || r.y + r.h > by)
                        continue;
                    int on_mark = 0;
                    for (size_t j = 0; j < ns && !on_mark; j++)
                        on_mark = intersects(r, marks[j]);
                    if (on_mark)
                        continue;
                    long cover = 0;
                    for (size_t j = 0; j < nplaced; j++)
                        cover += overlap_area(r, placed[j]);
                    if (best < 0 || cover < best) {
                        best = cover;
                        c = r;
                    }
                }
            if (c.x + c.w > R.x + R.w)
                c.x = R.x + R.w - c.w;
            if (c.x < R.x)
                c.x = R.x;
            placed[nplaced++] = c;
            rect(l, c, UI_CARD, pad);
            ring(l, c, UI_LINE, 2);
            char id[96];
            snprintf(id, sizeof(id), "hotspot/label/%s", b->spots[i].id);
            label(u, l, id, lb, UI_FONT_BOLD, px, UI_PRIMARY_DARK, c.x + pad, c.y + pad / 2,
                  w - 2 * pad, nl, 0);
        }
    struct ui_rect card = {0};
    if (s->open >= 0 && (size_t)s->open < ns)
        card = spot_card(u, l, st, &b->spots[s->open], marks[s->open], marks, ns,
                         (struct ui_rect){R.x, R.y, R.w, by - g - R.y}, lang);
    /* The markers after the card; one the card has to cover waits under it (the card
     * closes with a tap, and next/previous reach every spot). */
    for (size_t i = 0; i < ns; i++) {
        const struct kk_spot *sp = &b->spots[i];
        struct ui_rect m = marks[i];
        int open = (int)i == s->open;
        if (!open && card.w && intersects(card, m))
            continue;
        rect(l, m, UI_CARD, t / 2);
        int in = ui_px(u, 6);
        rect(l, (struct ui_rect){m.x + in, m.y + in, m.w - 2 * in, m.h - 2 * in},
             open ? UI_ACCENT : UI_PRIMARY, (t - 2 * in) / 2);
        number(u, l, m, (int)i + 1, UI_ON_PRIMARY);
        char id[96];
        snprintf(id, sizeof(id), "hotspot/%s", sp->id);
        ui_list_target(l, m, id, kk_text_get(&sp->label, lang));
    }
    int x0 = R.x + (R.w - (3 * bw + 2 * g)) / 2;
    button(u, l, (struct ui_rect){x0, by, bw, bh}, "hotspot/prev", labels[0], 0);
    button(u, l, (struct ui_rect){x0 + bw + g, by, bw, bh}, "hotspot/all", labels[1], s->all);
    button(u, l, (struct ui_rect){x0 + 2 * (bw + g), by, bw, bh}, "hotspot/next", labels[2], 0);
}

/* ---- compare ---- */

static double current_split(const struct block_state *s, uint64_t now)
{
    if (!s->anim_start)
        return s->split;
    double p = (double)(now - s->anim_start) / HANDLE_MS;
    if (p >= 1)
        return s->split_to;
    p = 1 - (1 - p) * (1 - p) * (1 - p); /* ease out, as the page turn */
    return s->split_from + (s->split_to - s->split_from) * p;
}

static void build_compare(const struct ui_ctx *u, struct ui_list *l, struct block_state *s,
                          struct ui_rect R, const struct ui_page_style *st, enum kk_lang lang)
{
    const struct kk_block *b = s->b;
    const struct kk_frame *before = &b->frames[0], *after = &b->frames[1];
    int g = ui_px(u, 20), t = ui_min_target(u);
    const char *labels[2] = {kk_text_get(&before->label, lang), kk_text_get(&after->label, lang)};
    int bw = (R.w - g) / 2 < ui_px(u, 520) ? (R.w - g) / 2 : ui_px(u, 520);
    int bh = buttons_h(u, labels, 2, bw);
    if (bh < t * 5 / 4)
        bh = t * 5 / 4; /* big buttons: the main way to use the block */
    int by = R.y + R.h - bh;
    const char *cap = kk_text_get(&b->caption, lang);
    int cap_h = *cap ? ui_label_height(u, cap, UI_FONT_REGULAR, st->caption_px, R.w, 2) : 0;
    struct ui_rect area = {R.x, R.y, R.w, by - g - (cap_h ? cap_h + g / 2 : 0) - R.y};
    struct ui_rect pic = fit_in(before->image, area);
    s->pic = pic;
    double split = s->split;
    int sx = pic.x + (int)(split * pic.w + 0.5);
    /* Each picture through its side of the handle; a side with no width is not drawn (a
     * clip of no width would mean no clip at all). */
    struct ui_item *it;
    if (sx > pic.x && (it = image(l, before->image, pic)))
        it->clip = (struct ui_rect){pic.x, pic.y, sx - pic.x, pic.h};
    if (sx < pic.x + pic.w && (it = image(l, after->image, pic)))
        it->clip = (struct ui_rect){sx, pic.y, pic.x + pic.w - sx, pic.h};
    /* Which side is which, on the picture while that side shows. */
    int px = st->caption_px, pad = ui_px(u, 10), lh = ui_line_h(u, UI_FONT_BOLD, px);
    for (int side = 0; side < 2; side++) {
        int shown_w = side ? pic.x + pic.w - sx : sx - pic.x;
        int w = ui_width(u, UI_FONT_BOLD, px, labels[side]) + 2 * pad;
        if (shown_w < w + 2 * pad)
            continue;
        struct ui_rect c = {side ? pic.x + pic.w - pad - w : pic.x + pad, pic.y + pad, w, lh + pad};
        rect(l, c, UI_CARD, pad);
        label(u, l, side ? "compare/label/after" : "compare/label/before", labels[side],
              UI_FONT_BOLD, px, UI_PRIMARY_DARK, c.x + pad, c.y + pad / 2, w - 2 * pad, 1, 0);
    }
    /* The handle: a line across the picture with a round grip in the middle. */
    int lw = ui_px(u, 6) > 3 ? ui_px(u, 6) : 3;
    rect(l, (struct ui_rect){sx - lw / 2 - 1, pic.y, lw + 2, pic.h}, UI_PRIMARY_DARK, 0);
    rect(l, (struct ui_rect){sx - lw / 2, pic.y, lw, pic.h}, UI_CARD, 0);
    struct ui_rect grip = {sx - t / 2, pic.y + pic.h / 2 - t / 2, t, t};
    rect(l, grip, UI_CARD, t / 2);
    int in = ui_px(u, 6);
    rect(l, (struct ui_rect){grip.x + in, grip.y + in, t - 2 * in, t - 2 * in}, UI_PRIMARY,
         (t - 2 * in) / 2);
    int bar_w = lw, bar_h = t / 3;
    for (int k = -1; k <= 1; k += 2)
        rect(l,
             (struct ui_rect){sx + k * t / 8 - bar_w / 2, grip.y + (t - bar_h) / 2, bar_w, bar_h},
             UI_ON_PRIMARY, bar_w / 2);
    struct ui_rect hr = {sx - t / 2, pic.y, t, pic.h};
    if (hr.x < R.x)
        hr.x = R.x;
    if (hr.x + hr.w > R.x + R.w)
        hr.x = R.x + R.w - hr.w;
    if (hr.h < t)
        hr.h = t;
    ui_list_target(l, hr, "compare/handle", ui_str(S_BLOCK_HANDLE, lang));
    if (cap_h)
        label(u, l, "compare/caption", cap, UI_FONT_REGULAR, st->caption_px, UI_INK_SOFT, R.x,
              pic.y + pic.h + g / 2, R.w, CAP_LINES, 1);
    /* The buttons right under the picture and its caption (a tall screen has room). */
    int under = pic.y + pic.h + (cap_h ? g / 2 + cap_h : 0) + g;
    if (under < by)
        by = under;
    int x0 = R.x + (R.w - (2 * bw + g)) / 2;
    button(u, l, (struct ui_rect){x0, by, bw, bh}, "compare/before", labels[0], split >= 0.999);
    button(u, l, (struct ui_rect){x0 + bw + g, by, bw, bh}, "compare/after", labels[1],
           split <= 0.001);
}

/* ---- sequence and steps: a picture with words beside it (landscape) or under it ---- */

/* The height words() takes for title and text whole at width w. */
static int words_h(const struct ui_ctx *u, const struct ui_page_style *st, const char *title,
                   const char *text, int w)
{
    int h = 0;
    if (*title)
        h += ui_label_height(u, title, UI_FONT_BOLD, st->title_px * 4 / 5, w, 3) + st->gap / 2;
    if (*text)
        h += ui_label_height(u, text, UI_FONT_REGULAR, st->body_px, w, 64);
    return h;
}

/* Splits area into a picture part and a words part for a title and a text under a head
 * of head_h (a counter, a step's number). Landscape: side by side, the picture 3/5 of the
 * width, or 1/2, 2/5 or 3/10 when the words need that to fit whole. Portrait: the words
 * under the picture get the height they need, the picture the rest, but never less than a
 * quarter of the area nor more than 11/20 of it. */
static void media_split(const struct ui_ctx *u, const struct ui_page_style *st, struct ui_rect area,
                        int landscape, int gap, int head_h, const char *title, const char *text,
                        struct ui_rect *pic, struct ui_rect *words)
{
    if (landscape) {
        static const int fifths[] = {6, 5, 4, 3}; /* tenths of the width */
        int pw = 0;
        for (size_t i = 0; i < sizeof(fifths) / sizeof(fifths[0]); i++) {
            pw = area.w * fifths[i] / 10;
            if (head_h + words_h(u, st, title, text, area.w - pw - gap) <= area.h)
                break;
        }
        *pic = (struct ui_rect){area.x, area.y, pw, area.h};
        *words = (struct ui_rect){area.x + pw + gap, area.y, area.w - pw - gap, area.h};
    } else {
        int ph = area.h - gap - head_h - words_h(u, st, title, text, area.w);
        if (ph > area.h * 11 / 20)
            ph = area.h * 11 / 20;
        if (ph < area.h / 4)
            ph = area.h / 4;
        *pic = (struct ui_rect){area.x, area.y, area.w, ph};
        *words = (struct ui_rect){area.x, area.y + ph + gap, area.w, area.h - ph - gap};
    }
}

/* A title and a text in r, as much of the text as fits (a cut is noted as overflow). */
static void words(const struct ui_ctx *u, struct ui_list *l, const struct ui_page_style *st,
                  const char *idp, const char *title, const char *text, struct ui_rect r)
{
    char id[48];
    snprintf(id, sizeof(id), "%s/title", idp);
    int y = r.y;
    if (*title)
        y += label(u, l, id, title, UI_FONT_BOLD, st->title_px * 4 / 5, UI_PRIMARY_DARK, r.x, y,
                   r.w, 3, 0) +
             st->gap / 2;
    snprintf(id, sizeof(id), "%s/text", idp);
    int px = fit_px(u, UI_FONT_REGULAR, text, st->body_px, r.w, r.y + r.h - y);
    int n = lines_fit(u, UI_FONT_REGULAR, px, r.y + r.h - y);
    if (*text && n > 0)
        label(u, l, id, text, UI_FONT_REGULAR, px, UI_INK, r.x, y, r.w, n, 0);
    else if (*text)
        ui_list_note_overflow(l, id);
}

static void build_sequence(const struct ui_ctx *u, struct ui_list *l, struct block_state *s,
                           struct ui_rect R, const struct ui_page_style *st, enum kk_lang lang)
{
    const struct kk_block *b = s->b;
    const struct kk_frame *f = &b->frames[s->frame];
    int g = ui_px(u, 20), t = ui_min_target(u);
    int landscape = R.w > R.h * 6 / 5;
    int sw = R.w - 2 * (t + g), per;
    int rows = stop_rows(u, (int)b->nframes, sw, &per);
    int ctrl_h = rows * t + (rows - 1) * ui_px(u, 14);
    int cy = R.y + R.h - ctrl_h;
    const char *cap = kk_text_get(&b->caption, lang);
    struct ui_rect area = {R.x, R.y, R.w, cy - g - R.y}, pa, wa;
    int lh = ui_line_h(u, UI_FONT_BOLD, st->caption_px);
    media_split(u, st, area, landscape, g * 2, lh + g / 2, kk_text_get(&f->label, lang),
                kk_text_get(&f->text, lang), &pa, &wa);
    int cap_h =
        *cap ? ui_label_height(u, cap, UI_FONT_REGULAR, st->caption_px, pa.w, CAP_LINES) : 0;
    pa.h -= cap_h ? cap_h + g / 2 : 0;
    struct ui_rect pic = fit_in(f->image, pa);
    image(l, f->image, pic);
    if (cap_h)
        label(u, l, "sequence/caption", cap, UI_FONT_REGULAR, st->caption_px, UI_INK_SOFT, pa.x,
              pic.y + pic.h + g / 2, pa.w, CAP_LINES, 1);
    char counter[48];
    snprintf(counter, sizeof(counter), "%d / %zu", s->frame + 1, b->nframes);
    label(u, l, "sequence/counter", counter, UI_FONT_BOLD, st->caption_px, UI_INK_SOFT, wa.x, wa.y,
          wa.w, 1, 0);
    wa.y += lh + g / 2;
    wa.h -= lh + g / 2;
    words(u, l, st, "sequence", kk_text_get(&f->label, lang), kk_text_get(&f->text, lang), wa);
    int my = cy + (ctrl_h - t) / 2;
    int minus_ok = ui_covers(u, "−");
    button(u, l, (struct ui_rect){R.x, my, t, t}, "sequence/prev", minus_ok ? "−" : "-",
           0); /* the label: see the target's, below */
    button(u, l, (struct ui_rect){R.x + R.w - t, my, t, t}, "sequence/next", "+", 0);
    /* The targets' labels say what the buttons do, for automation and logs. */
    for (size_t i = 0; i < l->ntargets; i++) {
        if (!strcmp(l->targets[i].id, "sequence/prev"))
            snprintf(l->targets[i].label, sizeof(l->targets[i].label), "%s",
                     ui_str(S_BLOCK_PREV_FRAME, lang));
        else if (!strcmp(l->targets[i].id, "sequence/next"))
            snprintf(l->targets[i].label, sizeof(l->targets[i].label), "%s",
                     ui_str(S_BLOCK_NEXT_FRAME, lang));
    }
    stops(u, l, "sequence", &b->frames[0].label, sizeof(b->frames[0]), (int)b->nframes, s->frame,
          R.x + t + g, cy, sw, lang);
}

/* The size of the steps list's titles: px when every title fits whole in the lines (up to
 * three) an entry h high has at that size, else the largest of 9/10 ... 5/10 of px at which
 * they all do, not under MIN_READABLE_PX past 7/10; the smallest tried when none fits. */
static int list_title_px(const struct ui_ctx *u, const struct kk_block *b, enum kk_lang lang,
                         int px, int w, int h)
{
    static const int tenths[] = {10, 9, 8, 7, 6, 5};
    int last = px;
    for (size_t k = 0; k < sizeof(tenths) / sizeof(tenths[0]); k++) {
        int p = px * tenths[k] / 10, all = 1;
        if (tenths[k] < 7 && p < ui_px(u, MIN_READABLE_PX))
            break;
        last = p;
        int tl = lines_fit(u, UI_FONT_BOLD, p, h);
        tl = tl < 3 ? (tl < 1 ? 1 : tl) : 3;
        for (size_t i = 0; i < b->nsteps && all; i++) {
            const char *title = kk_text_get(&b->steps[i].title, lang);
            all = ui_label_height(u, title, UI_FONT_BOLD, p, w, 64) <=
                  tl * ui_line_h(u, UI_FONT_BOLD, p);
        }
        if (all)
            return p;
    }
    return last;
}

static void build_steps(const struct ui_ctx *u, struct ui_list *l, struct block_state *s,
                        struct ui_rect R, const struct ui_page_style *st, enum kk_lang lang)
{
    const struct kk_block *b = s->b;
    int g = ui_px(u, 20), t = ui_min_target(u);
    int landscape = R.w > R.h * 6 / 5;
    int last = s->step + 1 >= (int)b->nsteps;
    const char *labels[2] = {ui_str(s->list_all ? S_BLOCK_ONE_STEP : S_BLOCK_ALL_STEPS, lang),
                             ui_str(last ? S_BLOCK_FIRST_STEP : S_BLOCK_NEXT_STEP, lang)};
    int bw = (R.w - g) / 2 < ui_px(u, 380) ? (R.w - g) / 2 : ui_px(u, 380);
    int bh = buttons_h(u, labels, 2, bw);
    /* The numbers and the buttons share a row when they fit, else the numbers go above. */
    int nums_w = (int)b->nsteps * (t + ui_px(u, 14));
    int one_row = !s->list_all && nums_w + 2 * (bw + g) <= R.w;
    int nw = one_row ? R.w - 2 * (bw + g) : R.w, per;
    int rows = s->list_all ? 0 : stop_rows(u, (int)b->nsteps, nw, &per);
    int nums_h = rows ? rows * t + (rows - 1) * ui_px(u, 14) : 0;
    int ctrl_h = one_row ? (nums_h > bh ? nums_h : bh) : bh + (nums_h ? nums_h + g : 0);
    int cy = R.y + R.h - ctrl_h, by = R.y + R.h - bh;
    if (one_row)
        by = cy + (ctrl_h - bh) / 2;
    struct ui_rect area = {R.x, R.y, R.w, cy - g - R.y};
    if (s->list_all) {
        /* Every step: its number, title and as much of its text as fits, each a target
         * that shows that step alone. */
        int n = (int)b->nsteps, cols = landscape && n > 4 ? 2 : 1;
        int rws = (n + cols - 1) / cols;
        int eh = (area.h - (rws - 1) * g / 2) / rws, ew = (area.w - (cols - 1) * g * 2) / cols;
        if (eh < t)
            eh = t;
        int tw0 = ew - 2 * ui_px(u, 12) - ui_px(u, 16) -
                  (t * 3 / 4 < eh - ui_px(u, 12) ? t * 3 / 4 : eh - ui_px(u, 12));
        /* One size for every title: the largest at which each fits whole in the lines its
         * entry has at that size (up to three), the text teaser taking what is left. */
        int tpx = list_title_px(u, b, lang, st->body_px, tw0, eh - ui_px(u, 20));
        for (int i = 0; i < n; i++) {
            int col = i / rws, row = i % rws;
            struct ui_rect r = {area.x + col * (ew + 2 * g), area.y + row * (eh + g / 2), ew, eh};
            rect(l, r, UI_CARD, ui_px(u, 12));
            int d = t * 3 / 4 < eh - ui_px(u, 12) ? t * 3 / 4 : eh - ui_px(u, 12);
            struct ui_rect c = {r.x + ui_px(u, 12), r.y + ui_px(u, 12), d, d};
            rect(l, c, UI_PRIMARY, d / 2);
            number(u, l, c, i + 1, UI_ON_PRIMARY);
            int tx = c.x + d + ui_px(u, 16), tw = r.x + r.w - ui_px(u, 12) - tx;
            const char *title = kk_text_get(&b->steps[i].title, lang);
            const char *text = kk_text_get(&b->steps[i].text, lang);
            int y = r.y + ui_px(u, 10);
            char id[32];
            snprintf(id, sizeof(id), "steps/%d/title", i);
            int tl = lines_fit(u, UI_FONT_BOLD, tpx, eh - ui_px(u, 20));
            tl = tl < 3 ? (tl < 1 ? 1 : tl) : 3;
            y += label(u, l, id, title, UI_FONT_BOLD, tpx, UI_PRIMARY_DARK, tx, y, tw, tl, 0);
            int xl = lines_fit(u, UI_FONT_REGULAR, st->caption_px, r.y + r.h - ui_px(u, 8) - y);
            if (xl > 0) {
                size_t from = l->n;
                snprintf(id, sizeof(id), "steps/%d/text", i);
                ui_teaser(u, l, id, text, UI_FONT_REGULAR, st->caption_px, UI_INK_SOFT, tx, y, tw,
                          xl);
                slide_from(l, from);
            }
            snprintf(id, sizeof(id), "steps/%d", i);
            ui_list_target(l, r, id, title);
        }
    } else {
        const struct kk_step *sp = &b->steps[s->step];
        struct ui_rect pa = area, wa = area;
        if (sp->image)
            media_split(u, st, area, landscape, g * 2, t + g, kk_text_get(&sp->title, lang),
                        kk_text_get(&sp->text, lang), &pa, &wa);
        if (sp->image)
            image(l, sp->image, fit_in(sp->image, pa));
        /* The step's number, big, then its title and text. */
        int d = t;
        struct ui_rect c = {wa.x, wa.y, d, d};
        rect(l, c, UI_ACCENT, d / 2);
        number(u, l, c, s->step + 1, UI_ON_PRIMARY);
        char counter[48];
        snprintf(counter, sizeof(counter), "%s %d / %zu", ui_str(S_BLOCK_STEP, lang), s->step + 1,
                 b->nsteps);
        int clh = ui_line_h(u, UI_FONT_BOLD, st->caption_px);
        label(u, l, "steps/counter", counter, UI_FONT_BOLD, st->caption_px, UI_INK_SOFT,
              wa.x + d + g, wa.y + (d - clh) / 2, wa.w - d - g, 1, 0);
        wa.y += d + g;
        wa.h -= d + g;
        words(u, l, st, "steps", kk_text_get(&sp->title, lang), kk_text_get(&sp->text, lang), wa);
        if (rows) {
            int nx = one_row ? R.x : R.x, ny = one_row ? cy + (ctrl_h - nums_h) / 2 : cy;
            stops(u, l, "steps", &b->steps[0].title, sizeof(b->steps[0]), (int)b->nsteps, s->step,
                  nx, ny, one_row ? nw - g : nw, lang);
        }
    }
    int nb = s->list_all ? 1 : 2;
    int bx = one_row ? R.x + R.w - 2 * bw - g : R.x + (R.w - nb * bw - (nb - 1) * g) / 2;
    button(u, l, (struct ui_rect){bx, by, bw, bh}, "steps/all", labels[0], 0);
    if (!s->list_all)
        button(u, l, (struct ui_rect){bx + bw + g, by, bw, bh}, "steps/next", labels[1], 1);
}

void ui_blocks_build(struct ui_blocks *b, struct scene_env *e, const struct ui_screens *s,
                     size_t page, size_t screen, int ox, int oy, const struct ui_page_style *st,
                     struct ui_list *l)
{
    b->nshown = 0;
    enum kk_lang lang = e->session->lang;
    uint64_t now = kk_clock_mono_ms();
    for (size_t i = 0; i < s->nslots; i++) {
        const struct ui_block_slot *sl = &s->slots[i];
        if (sl->screen != screen)
            continue;
        struct block_state *bs = find(b, page, sl->block);
        if (!bs || b->nshown == MAX_SHOWN)
            continue;
        b->shown[b->nshown++] = (size_t)(bs - b->v);
        if (bs->anim_start) {
            bs->split = current_split(bs, now);
            if (now - bs->anim_start >= HANDLE_MS)
                bs->anim_start = 0;
        }
        struct ui_rect R = {sl->r.x + ox, sl->r.y + oy, sl->r.w, sl->r.h};
        switch (bs->b->type) {
        case KK_BLOCK_HOTSPOTS:
            build_hotspots(e->ui, l, bs, R, st, lang);
            break;
        case KK_BLOCK_COMPARE:
            build_compare(e->ui, l, bs, R, st, lang);
            break;
        case KK_BLOCK_SEQUENCE:
            build_sequence(e->ui, l, bs, R, st, lang);
            break;
        case KK_BLOCK_STEPS:
            build_steps(e->ui, l, bs, R, st, lang);
            break;
        case KK_BLOCK_TEXT:
        case KK_BLOCK_IMAGE:
        case KK_BLOCK_FACT:
            break;
        }
    }
}

/* ---- input ---- */

static void open_spot(struct ui_blocks *b, struct scene_env *e, struct block_state *s, int i)
{
    s->open = i;
    interact(b, e, s, "open", s->b->spots[i].id);
}

static int tap_hotspots(struct ui_blocks *b, struct scene_env *e, const char *id)
{
    struct block_state *s = shown(b, KK_BLOCK_HOTSPOTS);
    if (!s)
        return 0;
    int n = (int)s->b->nspots;
    if (!strcmp(id, "hotspot/all")) {
        s->all = !s->all;
        interact(b, e, s, s->all ? "all" : "hide", NULL);
    } else if (!strcmp(id, "hotspot/close")) {
        if (s->open >= 0)
            interact(b, e, s, "close", s->b->spots[s->open].id);
        s->open = -1;
    } else if (!strcmp(id, "hotspot/next")) {
        open_spot(b, e, s, s->open < 0 ? 0 : (s->open + 1) % n);
    } else if (!strcmp(id, "hotspot/prev")) {
        open_spot(b, e, s, s->open < 0 ? n - 1 : (s->open + n - 1) % n);
    } else {
        for (int i = 0; i < n; i++)
            if (!strcmp(id + strlen("hotspot/"), s->b->spots[i].id)) {
                if (s->open == i) { /* the open marker again closes its card */
                    s->open = -1;
                    interact(b, e, s, "close", s->b->spots[i].id);
                } else {
                    open_spot(b, e, s, i);
                }
                return 1;
            }
        return 0;
    }
    return 1;
}

static void move_handle(struct block_state *s, struct scene_env *e, double to)
{
    if (e->animate) {
        s->split_from = s->split;
        s->split_to = to;
        s->anim_start = kk_clock_mono_ms();
        if (!s->anim_start)
            s->anim_start = 1;
    } else {
        s->split = to;
        s->anim_start = 0;
    }
}

/* An index after prefix ("sequence/3"), or -1 when id is not prefix + a number < n. */
static int index_of(const char *id, const char *prefix, size_t n)
{
    size_t pl = strlen(prefix);
    if (strncmp(id, prefix, pl) || id[pl] < '0' || id[pl] > '9')
        return -1;
    char *end;
    long v = strtol(id + pl, &end, 10);
    return *end || v < 0 || (size_t)v >= n ? -1 : (int)v;
}

int ui_blocks_tap(struct ui_blocks *b, struct scene_env *e, const char *id)
{
    struct block_state *s;
    int i;
    if (!strncmp(id, "hotspot/", 8))
        return tap_hotspots(b, e, id);
    if (!strncmp(id, "compare/", 8) && (s = shown(b, KK_BLOCK_COMPARE))) {
        if (!strcmp(id, "compare/before") || !strcmp(id, "compare/after")) {
            int before = !strcmp(id, "compare/before");
            move_handle(s, e, before ? 1.0 : 0.0);
            interact(b, e, s, before ? "before" : "after", NULL);
        }
        return 1; /* compare/handle: a tap on it moves nothing */
    }
    if (!strncmp(id, "sequence/", 9) && (s = shown(b, KK_BLOCK_SEQUENCE))) {
        int n = (int)s->b->nframes;
        if (!strcmp(id, "sequence/next") && s->frame + 1 < n)
            interact_n(b, e, s, "next", ++s->frame);
        else if (!strcmp(id, "sequence/prev") && s->frame > 0)
            interact_n(b, e, s, "prev", --s->frame);
        else if ((i = index_of(id, "sequence/", (size_t)n)) >= 0)
            interact_n(b, e, s, "frame", s->frame = i);
        return 1;
    }
    if (!strncmp(id, "steps/", 6) && (s = shown(b, KK_BLOCK_STEPS))) {
        int n = (int)s->b->nsteps;
        if (!strcmp(id, "steps/next")) {
            s->step = s->step + 1 < n ? s->step + 1 : 0;
            interact_n(b, e, s, "next", s->step);
        } else if (!strcmp(id, "steps/all")) {
            s->list_all = !s->list_all;
            interact(b, e, s, s->list_all ? "all" : "one", NULL);
        } else if ((i = index_of(id, "steps/", (size_t)n)) >= 0) {
            s->step = i;
            s->list_all = 0;
            interact_n(b, e, s, "step", i);
        }
        return 1;
    }
    return 0;
}

static void drag_to(struct block_state *s, int x)
{
    double v = s->pic.w > 0 ? (double)(x - s->pic.x) / s->pic.w : 0.5;
    s->split = v < 0 ? 0 : v > 1 ? 1 : v;
    s->anim_start = 0;
}

int ui_blocks_drag_begin(struct ui_blocks *b, struct scene_env *e, const char *id, int x, int y)
{
    (void)e;
    (void)y;
    struct block_state *s = shown(b, KK_BLOCK_COMPARE);
    if (!s || strcmp(id, "compare/handle"))
        return 0;
    s->dragging = 1;
    s->anim_start = 0;
    (void)x; /* the handle stays where it is until the finger moves */
    return 1;
}

void ui_blocks_drag_move(struct ui_blocks *b, struct scene_env *e, int x, int y)
{
    (void)e;
    (void)y;
    struct block_state *s = shown(b, KK_BLOCK_COMPARE);
    if (s && s->dragging)
        drag_to(s, x);
}

void ui_blocks_drag_end(struct ui_blocks *b, struct scene_env *e, int x, int y)
{
    (void)y;
    struct block_state *s = shown(b, KK_BLOCK_COMPARE);
    if (!s || !s->dragging)
        return;
    s->dragging = 0;
    double was = s->split;
    drag_to(s, x);
    (void)was;
    interact(b, e, s, "drag", NULL);
}

int ui_blocks_tick(struct ui_blocks *b, uint64_t now, int *changed)
{
    int wait = -1;
    for (size_t i = 0; i < b->nshown; i++) {
        struct block_state *s = &b->v[b->shown[i]];
        if (!s->anim_start)
            continue;
        *changed = 1;
        if (now - s->anim_start >= HANDLE_MS) {
            s->split = s->split_to;
            s->anim_start = 0;
        } else {
            s->split = current_split(s, now);
            wait = 16;
        }
    }
    return wait;
}

void ui_blocks_report(const struct ui_blocks *b, cJSON *arr)
{
    for (size_t i = 0; i < b->nshown; i++) {
        const struct block_state *s = &b->v[b->shown[i]];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", ui_blocks_type_name(s->b->type));
        cJSON_AddNumberToObject(o, "block", (double)s->index);
        switch (s->b->type) {
        case KK_BLOCK_HOTSPOTS:
            if (s->open >= 0)
                cJSON_AddStringToObject(o, "open", s->b->spots[s->open].id);
            else
                cJSON_AddNullToObject(o, "open");
            cJSON_AddBoolToObject(o, "all", s->all);
            cJSON_AddNumberToObject(o, "spots", (double)s->b->nspots);
            break;
        case KK_BLOCK_COMPARE:
            cJSON_AddNumberToObject(o, "split", (double)(int)(s->split * 1000 + 0.5) / 1000);
            cJSON_AddBoolToObject(o, "moving", s->anim_start != 0);
            break;
        case KK_BLOCK_SEQUENCE:
            cJSON_AddNumberToObject(o, "frame", s->frame);
            cJSON_AddNumberToObject(o, "frames", (double)s->b->nframes);
            break;
        case KK_BLOCK_STEPS:
            cJSON_AddNumberToObject(o, "step", s->step);
            cJSON_AddNumberToObject(o, "steps", (double)s->b->nsteps);
            cJSON_AddBoolToObject(o, "all", s->list_all);
            break;
        case KK_BLOCK_TEXT:
        case KK_BLOCK_IMAGE:
        case KK_BLOCK_FACT:
            break;
        }
        cJSON_AddItemToArray(arr, o);
    }
}
