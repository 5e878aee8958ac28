/* The reader's interactive blocks without SDL (src/app/ui_blocks.c): what each block draws
 * into its slot, that its targets are whole and inside the slot, and that taps and the
 * handle's drag change the state the report gives. Fake metrics, a hand-made topic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kepu/utf8.h"
#include "scene_env.h"
#include "session.h"
#include "ui_blocks.h"
#include "ui_ctx.h"

static int fake_width(void *ctx, enum ui_font font, int px, const char *s, size_t len)
{
    (void)ctx;
    (void)font;
    int w = 0;
    size_t pos = 0;
    while (pos < len)
        w += kk_utf8_next(s, len, &pos) >= 0x2e80 ? px : px / 2;
    return w;
}

static int fake_line_height(void *ctx, enum ui_font font, int px)
{
    (void)ctx;
    (void)font;
    return px * 3 / 2;
}

static struct kk_text text(const char *zh)
{
    struct kk_text t = {{(char *)zh, NULL}};
    return t;
}

static struct kk_image img = {
    .src = "a.svg", .path = "/x/a.svg", .type = KK_IMG_SVG, .w = 800, .h = 600};
static struct kk_spot spots[2] = {
    {.id = "left", .x = 0.1, .y = 0.5, .label = {{"左", NULL}}, .text = {{"左边。", NULL}}},
    {.id = "right", .x = 0.9, .y = 0.5, .label = {{"右", NULL}}, .text = {{"右边。", NULL}}},
};
static struct kk_frame frames[3] = {
    {.image = &img, .label = {{"一", NULL}}},
    {.image = &img, .label = {{"二", NULL}}},
    {.image = &img, .label = {{"三", NULL}}},
};

struct rig {
    struct session session;
    struct ui_ctx ui;
    struct scene_env env;
    struct ui_list l;
};

static void rig_init(struct rig *r)
{
    memset(r, 0, sizeof(*r));
    session_init(&r->session, "k-test", KK_LANG_ZH);
    r->ui.measure = (struct ui_measure){fake_width, fake_line_height, NULL};
    r->ui.w = 1920;
    r->ui.h = 1080;
    r->ui.scale = 1.0;
    r->env.session = &r->session;
    r->env.ui = &r->ui;
    ui_list_init(&r->l);
}

/* Builds the one block of page into a slot and checks its targets. */
static void build(struct rig *r, struct ui_blocks *b, const struct kk_page *page)
{
    struct ui_block_slot slot = {0, 0, {0, 100, 1780, 700}};
    struct ui_screens s = {NULL, 1, &slot, 1};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 1);
    ui_list_clear(&r->l);
    (void)page;
    ui_blocks_build(b, &r->env, &s, 0, 0, 70, 160, &st, &r->l);
    int t = ui_min_target(&r->ui);
    for (size_t i = 0; i < r->l.ntargets; i++) {
        struct ui_rect q = r->l.targets[i].r;
        assert_true(q.w >= t && q.h >= t);
        assert_true(q.x >= 70 && q.x + q.w <= 70 + 1780);
        assert_true(q.y >= 260 && q.y + q.h <= 260 + 700);
    }
    assert_string_equal(r->l.overflow, "");
}

static int has_target(const struct ui_list *l, const char *id)
{
    for (size_t i = 0; i < l->ntargets; i++)
        if (!strcmp(l->targets[i].id, id))
            return 1;
    return 0;
}

/* The report's one block object (owned by the returned array). */
static cJSON *report(struct ui_blocks *b, cJSON **arr)
{
    *arr = cJSON_CreateArray();
    ui_blocks_report(b, *arr);
    assert_int_equal(cJSON_GetArraySize(*arr), 1);
    return cJSON_GetArrayItem(*arr, 0);
}

static void test_hotspots_open_close_and_labels(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct kk_block blk = {.type = KK_BLOCK_HOTSPOTS, .image = &img, .spots = spots, .nspots = 2};
    struct kk_page page = {text("页"), &blk, 1};
    struct kk_topic topic = {.id = "t", .pages = &page, .npages = 1};
    struct ui_blocks *b = ui_blocks_create(&topic);
    build(&r, b, &page);
    assert_true(has_target(&r.l, "hotspot/left") && has_target(&r.l, "hotspot/right"));
    assert_false(has_target(&r.l, "hotspot/close"));
    assert_true(ui_blocks_tap(b, &r.env, "hotspot/right"));
    build(&r, b, &page);
    assert_true(has_target(&r.l, "hotspot/close")); /* the card */
    cJSON *arr, *o = report(b, &arr);
    assert_string_equal(cJSON_GetObjectItem(o, "open")->valuestring, "right");
    cJSON_Delete(arr);
    assert_true(ui_blocks_tap(b, &r.env, "hotspot/next")); /* wraps round */
    o = report(b, &arr);
    assert_string_equal(cJSON_GetObjectItem(o, "open")->valuestring, "left");
    cJSON_Delete(arr);
    assert_true(ui_blocks_tap(b, &r.env, "hotspot/left")); /* its marker again closes it */
    assert_true(ui_blocks_tap(b, &r.env, "hotspot/all"));
    build(&r, b, &page);
    o = report(b, &arr);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "open")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "all")));
    cJSON_Delete(arr);
    assert_false(ui_blocks_tap(b, &r.env, "page/next")); /* not a block's */
    ui_blocks_destroy(b);
    ui_list_release(&r.l);
}

static void test_compare_buttons_and_drag(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct kk_block blk = {.type = KK_BLOCK_COMPARE, .frames = frames, .nframes = 2};
    struct kk_page page = {text("页"), &blk, 1};
    struct kk_topic topic = {.id = "t", .pages = &page, .npages = 1};
    struct ui_blocks *b = ui_blocks_create(&topic);
    build(&r, b, &page);
    cJSON *arr, *o = report(b, &arr);
    assert_true(cJSON_GetObjectItem(o, "split")->valuedouble == 0.5);
    cJSON_Delete(arr);
    ui_blocks_tap(b, &r.env, "compare/after"); /* env.animate is 0: at once */
    build(&r, b, &page);
    o = report(b, &arr);
    assert_true(cJSON_GetObjectItem(o, "split")->valuedouble == 0.0);
    cJSON_Delete(arr);
    /* The two pictures: only "after" is drawn at split 0. */
    size_t pictures = 0;
    for (size_t i = 0; i < r.l.n; i++)
        pictures += r.l.items[i].kind == UI_IMAGE;
    assert_int_equal(pictures, 1);
    /* Drag from the left edge to the middle of the picture. */
    struct ui_rect h = {0};
    for (size_t i = 0; i < r.l.ntargets; i++)
        if (!strcmp(r.l.targets[i].id, "compare/handle"))
            h = r.l.targets[i].r;
    int x0 = h.x + h.w / 2;
    assert_false(ui_blocks_drag_begin(b, &r.env, "compare/before", x0, h.y));
    assert_true(ui_blocks_drag_begin(b, &r.env, "compare/handle", x0, h.y));
    ui_blocks_drag_move(b, &r.env, x0 + 100000, h.y); /* clamped to the picture */
    o = report(b, &arr);
    assert_true(cJSON_GetObjectItem(o, "split")->valuedouble == 1.0);
    cJSON_Delete(arr);
    ui_blocks_drag_end(b, &r.env, x0 - 100000, h.y);
    o = report(b, &arr);
    assert_true(cJSON_GetObjectItem(o, "split")->valuedouble == 0.0);
    cJSON_Delete(arr);
    ui_blocks_destroy(b);
    ui_list_release(&r.l);
}

static void test_sequence_stops_and_ends(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r);
    struct kk_block blk = {.type = KK_BLOCK_SEQUENCE, .frames = frames, .nframes = 3};
    struct kk_page page = {text("页"), &blk, 1};
    struct kk_topic topic = {.id = "t", .pages = &page, .npages = 1};
    struct ui_blocks *b = ui_blocks_create(&topic);
    build(&r, b, &page);
    assert_true(has_target(&r.l, "sequence/0") && has_target(&r.l, "sequence/2"));
    assert_false(has_target(&r.l, "sequence/3"));
    ui_blocks_tap(b, &r.env, "sequence/prev"); /* at the first: stays */
    ui_blocks_tap(b, &r.env, "sequence/2");
    ui_blocks_tap(b, &r.env, "sequence/next"); /* at the last: stays */
    ui_blocks_tap(b, &r.env, "sequence/9");    /* no such stop */
    cJSON *arr, *o = report(b, &arr);
    assert_int_equal(cJSON_GetObjectItem(o, "frame")->valueint, 2);
    cJSON_Delete(arr);
    ui_blocks_destroy(b);
    ui_list_release(&r.l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hotspots_open_close_and_labels),
        cmocka_unit_test(test_compare_buttons_and_drag),
        cmocka_unit_test(test_sequence_stops_and_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
