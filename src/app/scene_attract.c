/* The attract screen: topic covers take turns until someone touches the screen. */
#include <stdio.h>
#include <string.h>

#include "kepu/clock.h"
#include "scene_env.h"
#include "scenes.h"
#include "session.h"
#include "ui_strings.h"

#define COVER_MS 6000

struct attract {
    uint64_t cover_at; /* when the cover on screen came up */
};

/* Which cover comes next is kept across attract screens (the screen goes when staff open
 * their panel and comes back when they close it), so the covers keep taking turns. */
static size_t next_cover;

/* The i-th topic over all visible packs, cycling. */
static const struct kk_topic *nth_topic(const struct scene_env *e, size_t i)
{
    size_t total = 0;
    for (size_t p = 0; p < e->content->lib.npacks; p++)
        if (content_pack_visible(e->content, e->content->lib.packs[p]))
            total += e->content->lib.packs[p]->ntopics;
    if (!total)
        return NULL;
    i %= total;
    for (size_t p = 0; p < e->content->lib.npacks; p++) {
        const struct kk_pack *pk = e->content->lib.packs[p];
        if (!content_pack_visible(e->content, pk))
            continue;
        if (i < pk->ntopics)
            return &pk->topics[i];
        i -= pk->ntopics;
    }
    return NULL;
}

static void enter(struct scene_env *e, void *self)
{
    (void)e;
    struct attract *s = self;
    s->cover_at = kk_clock_mono_ms();
}

/* "中文 · English" on one line when it fits in w, else each language on its own line. */
static void bilingual(const struct scene_env *e, const char *zh, const char *en, int px, int w,
                      char *out, size_t size)
{
    snprintf(out, size, en ? "%s · %s" : "%s", zh, en);
    if (en && ui_width(e->ui, UI_FONT_BOLD, px, out) > w)
        snprintf(out, size, "%s\n%s", zh, en);
}

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    (void)self;
    const struct kk_topic *t = nth_topic(e, next_cover);
    int m = ui_px(e->ui, 60);
    int band = ui_px(e->ui, 230); /* the call to action at the bottom */
    int title_px = ui_px(e->ui, 64), gap = ui_px(e->ui, 20);
    int lh = ui_line_h(e->ui, UI_FONT_BOLD, title_px);
    /* The title in both languages: nobody has chosen one yet. */
    char title[512] = "";
    if (t)
        bilingual(e, kk_text_get(&t->title, KK_LANG_ZH), t->title.s[KK_LANG_EN], title_px,
                  box.w - 2 * m, title, sizeof(title));
    int title_h =
        *title ? ui_label_height(e->ui, title, UI_FONT_BOLD, title_px, box.w - 2 * m, 2) : 0;
    /* The cover and its title as one group, centred in the space above the call. */
    int avail = box.h - band - 2 * m;
    int pw = box.w - 2 * m, ph = avail - 2 * lh - gap;
    if (t && t->cover)
        ui_fit(t->cover, pw, ph, &pw, &ph);
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
        ui_label(e->ui, l, "attract/title", title, UI_FONT_BOLD, title_px, UI_PRIMARY_DARK,
                 box.x + m, y + ph + gap, box.w - 2 * m, 2, 1);
    struct ui_rect cta = {box.x, box.y + box.h - band, box.w, band};
    struct ui_item *bg = ui_list_push(l, UI_RECT, cta);
    if (bg)
        bg->color = UI_PRIMARY;
    char call[128];
    int px = ui_px(e->ui, 72);
    bilingual(e, ui_str(S_TOUCH_TO_START, KK_LANG_ZH), ui_str(S_TOUCH_TO_START, KK_LANG_EN), px,
              cta.w - 2 * m, call, sizeof(call));
    int ch = ui_label_height(e->ui, call, UI_FONT_BOLD, px, cta.w - 2 * m, 2);
    ui_label(e->ui, l, "attract/call", call, UI_FONT_BOLD, px, UI_ON_PRIMARY, cta.x + m,
             cta.y + (cta.h - ch) / 2, cta.w - 2 * m, 2, 1);
    /* The whole screen starts a visit. */
    ui_list_target(l, box, "start", call);
}

static void tap(struct scene_env *e, void *self, const char *id)
{
    (void)self;
    if (strcmp(id, "start"))
        return;
    session_start(e->session);
    scene_stack_push(e->stack, &scene_audience);
}

static int tick(struct scene_env *e, void *self, uint64_t now)
{
    struct attract *s = self;
    if (now - s->cover_at >= COVER_MS) {
        next_cover++;
        s->cover_at = now;
        scene_stack_invalidate(e->stack);
    }
    return (int)(COVER_MS - (now - s->cover_at));
}

const struct scene scene_attract = {
    .name = "attract",
    .size = sizeof(struct attract),
    .enter = enter,
    .build = build,
    .tap = tap,
    .tick = tick,
};
