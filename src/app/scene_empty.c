/* Shown when no usable pack is installed: a friendly screen, never a black one. */
#include "scene_env.h"
#include "scenes.h"
#include "ui_strings.h"

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    (void)self;
    int r = ui_px(e->ui, 110);
    int cx = box.x + box.w / 2, cy = box.y + box.h / 2 - ui_px(e->ui, 160);
    /* An open book in a circle: the theme's icon, or the same drawn with rectangles. */
    const struct kk_image *icon = ui_icon(e->ui, UI_ICON_CONTENT_UPDATING);
    struct ui_item *c =
        ui_list_push(l, icon ? UI_IMAGE : UI_RECT, (struct ui_rect){cx - r, cy - r, 2 * r, 2 * r});
    if (c && icon) {
        c->image = icon;
        c->icon = 1;
    } else if (c) {
        c->color = UI_FACT;
        c->radius = r;
    }
    struct ui_item *p1 =
        icon ? NULL
             : ui_list_push(l, UI_RECT,
                            (struct ui_rect){cx - r / 2 - 4, cy - r / 3, r / 2, r * 2 / 3});
    struct ui_item *p2 =
        icon ? NULL
             : ui_list_push(l, UI_RECT, (struct ui_rect){cx + 4, cy - r / 3, r / 2, r * 2 / 3});
    if (p1 && p2) {
        p1->color = p2->color = UI_PRIMARY;
        p1->radius = p2->radius = ui_px(e->ui, 8);
    }
    int y = cy + r + ui_px(e->ui, 60), m = ui_px(e->ui, 60);
    for (int lang = 0; lang < KK_LANG_COUNT; lang++) {
        y += ui_label(e->ui, l, "empty/title", ui_str(S_CONTENT_UPDATING, (enum kk_lang)lang),
                      UI_FONT_BOLD, ui_px(e->ui, lang ? 48 : 64), UI_PRIMARY_DARK, box.x + m, y,
                      box.w - 2 * m, 2, 1);
        y += ui_px(e->ui, 10);
        y += ui_label(e->ui, l, "empty/hint", ui_str(S_CONTENT_UPDATING_HINT, (enum kk_lang)lang),
                      UI_FONT_REGULAR, ui_px(e->ui, 34), UI_INK_SOFT, box.x + m, y, box.w - 2 * m,
                      2, 1);
        y += ui_px(e->ui, 40);
    }
}

const struct scene scene_empty = {
    .name = "empty",
    .build = build,
};
