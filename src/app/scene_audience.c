/* The audience picker: the five groups of the city's plan and "other visitors". */
#include <stdio.h>
#include <string.h>

#include "scene_env.h"
#include "scenes.h"
#include "session.h"
#include "ui_strings.h"

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    (void)self;
    int m = ui_px(e->ui, 60);
    int y = box.y + ui_px(e->ui, 40);
    y += ui_label(e->ui, l, "audience/title", ui_str(S_WHO_IS_VISITING, e->session->lang),
                  UI_FONT_BOLD, ui_px(e->ui, 64), UI_PRIMARY_DARK, box.x + m, y, box.w - 2 * m, 2,
                  1);
    y += ui_px(e->ui, 40);
    int n = 0;
    for (int g = 0; g < KK_AUD_COUNT; g++)
        n += (e->cfg->audiences & KK_AUD_BIT(g)) != 0;
    int cols = e->ui->w >= e->ui->h ? 3 : 2;
    if (n < cols)
        cols = n > 0 ? n : 1;
    int rows = (n + cols - 1) / cols;
    int gap = ui_px(e->ui, 36);
    int avail_h = box.y + box.h - m - y;
    int bw = (box.w - 2 * m - (cols - 1) * gap) / cols;
    int bh = rows ? (avail_h - (rows - 1) * gap) / rows : 0;
    if (bh > ui_px(e->ui, 280))
        bh = ui_px(e->ui, 280);
    if (bh < ui_min_target(e->ui))
        bh = ui_min_target(e->ui);
    int grid_h = rows * bh + (rows - 1) * gap;
    y += (avail_h - grid_h) / 2 > 0 ? (avail_h - grid_h) / 2 : 0;
    int i = 0;
    for (int g = 0; g < KK_AUD_COUNT; g++) {
        if (!(e->cfg->audiences & KK_AUD_BIT(g)))
            continue;
        int r = i / cols, c = i % cols;
        char id[64];
        snprintf(id, sizeof(id), "audience/%s", kk_audience_name((enum kk_audience)g));
        ui_button(
            e->ui, l, (struct ui_rect){box.x + m + c * (bw + gap), y + r * (bh + gap), bw, bh}, id,
            ui_str(ui_str_audience((enum kk_audience)g), e->session->lang), g != KK_AUD_OTHER);
        i++;
    }
}

static void tap(struct scene_env *e, void *self, const char *id)
{
    (void)self;
    if (strncmp(id, "audience/", 9))
        return;
    int g = kk_audience_parse(id + 9);
    if (g < 0)
        return;
    /* Seniors get large text from the start; anyone can switch it. */
    session_set_audience(e->session, g);
    scene_stack_push(e->stack, &scene_menu);
}

const struct scene scene_audience = {
    .name = "audience",
    .build = build,
    .tap = tap,
    .chrome = 1,
    .back = 0,
};
