#include "ui_ctx.h"

#include <string.h>

int ui_px(const struct ui_ctx *u, int design_px)
{
    int v = (int)(design_px * u->scale + 0.5);
    return v > 0 ? v : 1;
}

int ui_min_target(const struct ui_ctx *u)
{
    int v = ui_px(u, ui_sizes.min_target);
    /* a fingertip does not shrink with the screen */
    return v < ui_sizes.min_target_floor ? ui_sizes.min_target_floor : v;
}

int ui_width(const struct ui_ctx *u, enum ui_font font, int px, const char *text)
{
    return u->measure.width(u->measure.ctx, font, px, text, strlen(text));
}

int ui_line_h(const struct ui_ctx *u, enum ui_font font, int px)
{
    return u->measure.line_height(u->measure.ctx, font, px);
}

int ui_covers(const struct ui_ctx *u, const char *utf8)
{
    return u->covers ? u->covers(u->measure.ctx, utf8) : 1;
}

void ui_warm(const struct ui_ctx *u, const struct ui_list *l)
{
    if (u->warm)
        u->warm(u->measure.ctx, l);
}

const struct kk_image *ui_icon(const struct ui_ctx *u, enum ui_icon icon)
{
    return icon >= 0 && icon < UI_ICON_COUNT ? u->icons[icon] : NULL;
}

void ui_fit(const struct kk_image *img, int box_w, int box_h, int *w, int *h)
{
    int iw = img->w > 0 ? img->w : 4, ih = img->h > 0 ? img->h : 3;
    /* Fit by the tighter side, in 64-bit to stay clear of overflow. */
    if ((long long)box_w * ih <= (long long)box_h * iw) {
        *w = box_w;
        *h = (int)((long long)box_w * ih / iw);
    } else {
        *h = box_h;
        *w = (int)((long long)box_h * iw / ih);
    }
    if (*w < 1)
        *w = 1;
    if (*h < 1)
        *h = 1;
}

int ui_label(const struct ui_ctx *u, struct ui_list *l, const char *id, const char *text,
             enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines,
             int center)
{
    return ui_layout_label(l, &u->measure, id, text, u->lang, font, px, c, x, y, w, max_lines,
                           center, UI_CUT_OVERFLOW);
}

int ui_teaser(const struct ui_ctx *u, struct ui_list *l, const char *id, const char *text,
              enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines)
{
    return ui_layout_label(l, &u->measure, id, text, u->lang, font, px, c, x, y, w, max_lines, 0,
                           UI_CUT_TEASER);
}

int ui_label_height(const struct ui_ctx *u, const char *text, enum ui_font font, int px, int w,
                    int max_lines)
{
    struct ui_list probe;
    ui_list_init(&probe);
    int h = ui_label(u, &probe, "probe", text, font, px, UI_INK, 0, 0, w, max_lines, 0);
    ui_list_release(&probe);
    return h;
}

int ui_button_px(const struct ui_ctx *u)
{
    return ui_px(u, u->large_text ? ui_sizes.button_text_large : ui_sizes.button_text);
}

void ui_button(const struct ui_ctx *u, struct ui_list *l, struct ui_rect r, const char *id,
               const char *label, int primary)
{
    int is_pressed = u->pressed[0] && !strcmp(u->pressed, id);
    struct ui_item *bg = ui_list_push(l, UI_RECT, r);
    if (bg) {
        bg->radius = ui_px(u, ui_sizes.button_radius);
        bg->color = primary ? (is_pressed ? UI_PRIMARY_DARK : UI_PRIMARY)
                            : (is_pressed ? UI_SELECTED_SOFT : UI_CARD);
    }
    if (!primary) {
        struct ui_item *ring = ui_list_push(l, UI_RING, r);
        if (ring) {
            ring->radius = ui_px(u, ui_sizes.button_ring) > 2 ? ui_px(u, ui_sizes.button_ring) : 2;
            ring->color = UI_PRIMARY;
        }
    }
    int px = ui_button_px(u);
    int lh = ui_line_h(u, UI_FONT_BOLD, px);
    int pad = ui_px(u, 16);
    int lines = lh > 0 ? (r.h - pad) / lh : 1; /* as many as its height holds */
    lines = lines < 1 ? 1 : lines > UI_BUTTON_LINES ? UI_BUTTON_LINES : lines;
    int used = ui_label_height(u, label, UI_FONT_BOLD, px, r.w - 2 * pad, lines);
    ui_label(u, l, id, label, UI_FONT_BOLD, px, primary ? UI_ON_PRIMARY : UI_PRIMARY_DARK,
             r.x + pad, r.y + (r.h - used) / 2, r.w - 2 * pad, lines, 1);
    ui_list_target(l, r, id, label);
}

#define REACH_LOW_MM  380
#define REACH_HIGH_MM 1220

void ui_reach_band(int h_px, int mount_mm, int screen_mm, int *top, int *rows)
{
    double mm_per_px = screen_mm > 0 && h_px > 0 ? (double)screen_mm / h_px : 0.5;
    /* Row y is (h_px - y) * mm_per_px above the screen's bottom edge. */
    double hi = h_px - (REACH_HIGH_MM - mount_mm) / mm_per_px;
    double lo = h_px - (REACH_LOW_MM - mount_mm) / mm_per_px;
    int t = hi < 0 ? 0 : hi > h_px ? h_px : (int)(hi + 0.999);
    int b = lo < 0 ? 0 : lo > h_px ? h_px : (int)lo;
    *top = t;
    *rows = b > t ? b - t : 0;
}
