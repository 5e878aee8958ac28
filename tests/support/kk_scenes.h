/* A kiosk without SDL for scene tests: the real content, session, visit frame and scene
 * stack, with a UI context whose text metrics are fake (every CJK code point px wide,
 * everything else px/2, lines 3/2 px apart). No window, no SDL_Init: what the scenes
 * decide is tested through their display list, their report and the journal.
 *
 * Header-only (static inline) so each scene test includes what it uses. */
#ifndef KK_SCENES_H
#define KK_SCENES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/utf8.h"
#include "kk_test.h"
#include "scene_env.h"
#include "scene_stack.h"
#include "scenes.h"
#include "session.h"
#include "ui_ctx.h"
#include "visit.h"

struct fake_kiosk {
    struct kk_config cfg;
    struct session session;
    struct content content;
    struct scene_stack stack;
    struct visit visit;
    struct ui_ctx ui;
    struct scene_env env;
    struct ui_list list; /* the screen as last built */
    char state[64];      /* a temporary state folder (the journal) */
    int measured;        /* calls to the fake width callback */
};

static inline int fake_width(void *ctx, enum ui_font font, int px, const char *s, size_t len)
{
    (void)font;
    struct fake_kiosk *k = ctx;
    k->measured++;
    int w = 0;
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp = kk_utf8_next(s, len, &pos);
        w += cp >= 0x2e80 ? px : px / 2;
    }
    return w;
}

static inline int fake_line_height(void *ctx, enum ui_font font, int px)
{
    (void)ctx;
    (void)font;
    return px * 3 / 2;
}

/* A kiosk of w x h pixels showing the sample packs of content/, with its journal in a
 * new temporary folder. Free with fake_kiosk_release. */
static inline struct fake_kiosk *fake_kiosk_create(int w, int h)
{
    struct fake_kiosk *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_config_init(&k->cfg), KK_OK);
    const char *src = getenv("KK_SOURCE_DIR");
    assert_non_null(src);
    char *content = tt_join(src, "content");
    snprintf(k->state, sizeof(k->state), "/tmp/kk-scenes-XXXXXX");
    assert_non_null(mkdtemp(k->state));
    assert_int_equal(kk_config_set(&k->cfg, "content_dir", content, &err), KK_OK);
    assert_int_equal(kk_config_set(&k->cfg, "state_dir", k->state, &err), KK_OK);
    kk_free(content);
    session_init(&k->session, k->cfg.kiosk_id, k->cfg.default_lang);
    char *journal = tt_join(k->state, "journal.db");
    assert_int_equal(kk_journal_open(&k->session.journal, journal, 16 << 20, &err), KK_OK);
    kk_free(journal);
    content_init(&k->content, &k->cfg, &k->session);
    content_load(&k->content);
    assert_true(k->content.lib.npacks > 0);
    visit_init(&k->visit);
    k->ui = (struct ui_ctx){.measure = {fake_width, fake_line_height, k}, .w = w, .h = h};
    double rw = w >= h ? 1920.0 : 1080.0, rh = w >= h ? 1080.0 : 1920.0;
    k->ui.scale = w / rw < h / rh ? w / rw : h / rh;
    k->env = (struct scene_env){.cfg = &k->cfg,
                                .content = &k->content,
                                .session = &k->session,
                                .stack = &k->stack,
                                .ui = &k->ui,
                                .visit = &k->visit};
    scene_stack_init(&k->stack, &k->env);
    ui_list_init(&k->list);
    kk_buf_release(&err);
    return k;
}

static inline void fake_kiosk_release(struct fake_kiosk *k)
{
    scene_stack_release(&k->stack);
    ui_list_release(&k->list);
    kk_journal_close(k->session.journal);
    content_release(&k->content);
    kk_config_release(&k->cfg);
    assert_int_equal(kk_remove_tree(k->state, NULL), KK_OK);
    free(k);
}

/* Applies what the last handler asked for and rebuilds the screen, as the host does. */
static inline void fake_update(struct fake_kiosk *k)
{
    k->env.turn = 0;
    visit_apply(&k->env);
    k->env.turn = 0;
    k->ui.lang = k->session.lang;
    k->ui.large_text = k->session.large_text;
    ui_list_clear(&k->list);
    int bar = visit_top_bar_h(&k->env);
    struct ui_rect box = {0, bar, k->ui.w, k->ui.h - bar};
    scene_stack_top(&k->stack)->build(&k->env, scene_stack_top_self(&k->stack), &k->list, box);
    visit_build_frame(&k->env, &k->list, 0);
}

/* The target id on the screen, or NULL. */
static inline const struct ui_target *fake_target(const struct fake_kiosk *k, const char *id)
{
    for (size_t i = 0; i < k->list.ntargets; i++)
        if (!strcmp(k->list.targets[i].id, id))
            return &k->list.targets[i];
    return NULL;
}

/* Taps target id, which must be on the screen, through the frame and the top scene. */
static inline void fake_tap(struct fake_kiosk *k, const char *id)
{
    if (!fake_target(k, id))
        fail_msg("no target %s on the %s screen", id, scene_stack_top(&k->stack)->name);
    if (!visit_tap(&k->env, id))
        scene_stack_top(&k->stack)->tap(&k->env, scene_stack_top_self(&k->stack), id);
    fake_update(k);
}

static inline void fake_swipe(struct fake_kiosk *k, int dir)
{
    scene_stack_top(&k->stack)->swipe(&k->env, scene_stack_top_self(&k->stack), dir);
    fake_update(k);
}

/* The top scene's own keys of the automation report (a cJSON object; cJSON_Delete). */
static inline cJSON *fake_report(struct fake_kiosk *k)
{
    cJSON *j = cJSON_CreateObject();
    const struct scene *s = scene_stack_top(&k->stack);
    if (s->report)
        s->report(&k->env, scene_stack_top_self(&k->stack), j);
    return j;
}

static inline double fake_report_number(struct fake_kiosk *k, const char *path1, const char *path2)
{
    cJSON *j = fake_report(k);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, path1);
    if (path2)
        v = cJSON_GetObjectItemCaseSensitive(v, path2);
    assert_true(cJSON_IsNumber(v));
    double d = v->valuedouble;
    cJSON_Delete(j);
    return d;
}

/* Every event journaled so far, oldest first, as a cJSON array (cJSON_Delete). */
static inline cJSON *fake_events(struct fake_kiosk *k)
{
    struct kk_journal_batch b = {0};
    assert_int_equal(kk_journal_flush(k->session.journal, NULL), KK_OK);
    assert_int_equal(kk_journal_peek(k->session.journal, 10000, &b, NULL), KK_OK);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < b.n; i++)
        cJSON_AddItemToArray(arr, cJSON_Parse(b.json[i]));
    kk_journal_batch_release(&b);
    return arr;
}

/* How many events of type were journaled; the last one in *last (a copy, or NULL). */
static inline int fake_count_events(struct fake_kiosk *k, const char *type, cJSON **last)
{
    cJSON *arr = fake_events(k), *e;
    int n = 0;
    if (last)
        *last = NULL;
    cJSON_ArrayForEach(e, arr)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
        if (cJSON_IsString(t) && !strcmp(t->valuestring, type)) {
            n++;
            if (last) {
                cJSON_Delete(*last);
                *last = cJSON_Duplicate(e, 1);
            }
        }
    }
    cJSON_Delete(arr);
    return n;
}

static inline const char *fake_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Starts a visit and picks group audience (a wire name): the menu is on top. */
static inline void fake_visit_menu(struct fake_kiosk *k, const char *audience)
{
    scene_stack_reset(&k->stack, &scene_attract);
    fake_update(k);
    fake_tap(k, "start");
    assert_string_equal(scene_stack_top(&k->stack)->name, "audience");
    char id[64];
    snprintf(id, sizeof(id), "audience/%s", audience);
    fake_tap(k, id);
    assert_string_equal(scene_stack_top(&k->stack)->name, "menu");
}

#endif
