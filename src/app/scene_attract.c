/* The attract screen: topic covers take turns until someone touches the screen. */
#include "app.h"
#include "ui_image.h"
#include "ui_text.h"

#include <string.h>

#include "kepu/clock.h"

#define COVER_MS 6000

/* The i-th topic over all packs, cycling. */
/* The i-th topic over all visible packs, cycling. */
static const struct kk_topic *nth_topic(const struct app *a, size_t i)
{
    size_t total = 0;
    for (size_t p = 0; p < a->lib.npacks; p++)
        if (app_pack_visible(a, a->lib.packs[p]))
            total += a->lib.packs[p]->ntopics;
    if (!total)
        return NULL;
    i %= total;
    for (size_t p = 0; p < a->lib.npacks; p++) {
        const struct kk_pack *pk = a->lib.packs[p];
        if (!app_pack_visible(a, pk))
            continue;
        if (i < pk->ntopics)
            return &pk->topics[i];
        i -= pk->ntopics;
    }
    return NULL;
}

static void enter(struct app *a)
{
    a->attract_at = kk_clock_mono_ms();
}

/* "中文 · English" on one line when it fits in w, else each language on its own line. */
static void bilingual(struct app *a, const char *zh, const char *en, int px, int w, char *out,
                      size_t size)
{
    snprintf(out, size, en ? "%s · %s" : "%s", zh, en);
    if (en && ui_text_measure(a->text, UI_FONT_BOLD, px, out, strlen(out)) > w)
        snprintf(out, size, "%s\n%s", zh, en);
}

static void build(struct app *a, struct ui_list *l, struct ui_rect box)
{
    const struct kk_topic *t = nth_topic(a, a->attract_index);
    int m = app_px(a, 60);
    int band = app_px(a, 230); /* the call to action at the bottom */
    int title_px = app_px(a, 64), gap = app_px(a, 20);
    int lh = ui_text_line_height(a->text, UI_FONT_BOLD, title_px);
    /* The title in both languages: nobody has chosen one yet. */
    char title[512] = "";
    if (t)
        bilingual(a, kk_text_get(&t->title, KK_LANG_ZH), t->title.s[KK_LANG_EN], title_px,
                  box.w - 2 * m, title, sizeof(title));
    int title_h = *title ? app_text_height(a, title, UI_FONT_BOLD, title_px, box.w - 2 * m, 2) : 0;
    /* The cover and its title as one group, centred in the space above the call. */
    int avail = box.h - band - 2 * m;
    int pw = box.w - 2 * m, ph = avail - 2 * lh - gap;
    if (t && t->cover)
        ui_image_fit(t->cover, pw, ph, &pw, &ph);
    else
        ph = 0;
    int y = box.y + m + (avail - ph - gap - title_h) / 2;
    if (ph) {
        struct ui_item *img =
            ui_list_push(l, UI_IMAGE, (struct ui_rect){box.x + (box.w - pw) / 2, y, pw, ph});
        if (img)
            img->image = t->cover;
    }
    if (*title)
        app_label(a, l, "attract/title", title, UI_FONT_BOLD, title_px, UI_PRIMARY_DARK, box.x + m,
                  y + ph + gap, box.w - 2 * m, 2, 1);
    struct ui_rect cta = {box.x, box.y + box.h - band, box.w, band};
    struct ui_item *bg = ui_list_push(l, UI_RECT, cta);
    if (bg)
        bg->color = UI_PRIMARY;
    char call[128];
    int px = app_px(a, 72);
    bilingual(a, ui_str(S_TOUCH_TO_START, KK_LANG_ZH), ui_str(S_TOUCH_TO_START, KK_LANG_EN), px,
              cta.w - 2 * m, call, sizeof(call));
    int ch = app_text_height(a, call, UI_FONT_BOLD, px, cta.w - 2 * m, 2);
    app_label(a, l, "attract/call", call, UI_FONT_BOLD, px, UI_ON_PRIMARY, cta.x + m,
              cta.y + (cta.h - ch) / 2, cta.w - 2 * m, 2, 1);
    /* The whole screen starts a visit. */
    ui_list_target(l, box, "start", call);
}

static void tap(struct app *a, const char *id)
{
    if (strcmp(id, "start"))
        return;
    app_session_start(a);
    app_push(a, &scene_audience);
}

static int tick(struct app *a, uint64_t now)
{
    if (now - a->attract_at >= COVER_MS) {
        a->attract_index++;
        a->attract_at = now;
        app_invalidate(a);
    }
    return (int)(COVER_MS - (now - a->attract_at));
}

const struct scene scene_attract = {
    .name = "attract",
    .enter = enter,
    .build = build,
    .tap = tap,
    .tick = tick,
};
