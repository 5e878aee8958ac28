/* The audience picker: the five groups of the city's plan and "other visitors". */
#include "app.h"
#include "ui_text.h"

#include <stdio.h>
#include <string.h>

static void build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    int m = app_px(a, 60);
    int y = box.y + app_px(a, 40);
    y += app_label(a, l, "audience/title", ui_str(S_WHO_IS_VISITING, a->lang), UI_FONT_BOLD,
                   app_px(a, 64), UI_PRIMARY_DARK, box.x + m, y, box.w - 2 * m, 2, 1);
    y += app_px(a, 40);
    int n = 0;
    for (int g = 0; g < KK_AUD_COUNT; g++)
        n += (a->cfg.audiences & KK_AUD_BIT(g)) != 0;
    int cols = a->w >= a->h ? 3 : 2;
    if (n < cols)
        cols = n > 0 ? n : 1;
    int rows = (n + cols - 1) / cols;
    int gap = app_px(a, 36);
    int avail_h = box.y + box.h - m - y;
    int bw = (box.w - 2 * m - (cols - 1) * gap) / cols;
    int bh = rows ? (avail_h - (rows - 1) * gap) / rows : 0;
    if (bh > app_px(a, 280))
        bh = app_px(a, 280);
    if (bh < app_min_target(a))
        bh = app_min_target(a);
    int grid_h = rows * bh + (rows - 1) * gap;
    y += (avail_h - grid_h) / 2 > 0 ? (avail_h - grid_h) / 2 : 0;
    int i = 0;
    for (int g = 0; g < KK_AUD_COUNT; g++) {
        if (!(a->cfg.audiences & KK_AUD_BIT(g)))
            continue;
        int r = i / cols, c = i % cols;
        char id[64];
        snprintf(id, sizeof(id), "audience/%s", kk_audience_name((enum kk_audience)g));
        app_button(a, l, (struct ui_rect){box.x + m + c * (bw + gap), y + r * (bh + gap), bw, bh},
                   id, ui_str(ui_str_audience((enum kk_audience)g), a->lang), g != KK_AUD_OTHER);
        i++;
    }
}

static void tap(struct app *a, const char *id)
{
    if (strncmp(id, "audience/", 9))
        return;
    int g = kk_audience_parse(id + 9);
    if (g < 0)
        return;
    a->audience = g;
    /* Seniors get large text from the start; anyone can switch it. */
    a->large_text = g == KK_AUD_ELDERLY;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "audience", kk_audience_name((enum kk_audience)g));
    app_event(a, "audience", f);
    app_push(a, &scene_menu);
}

const struct scene scene_audience = {
    .name = "audience",
    .build = build,
    .tap = tap,
    .chrome = 1,
    .back = 0,
};
