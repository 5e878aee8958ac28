/* Page fitting: pages are laid out into screens that fit, nothing is cut, nothing is
 * lost, and pictures keep their aspect ratio. Fake metrics keep the numbers exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/utf8.h"
#include "ui_layout.h"

/* Every code point is px wide for CJK and px/2 otherwise; lines are 3/2 px apart. */
static int fake_width(void *ctx, enum ui_font font, int px, const char *s, size_t len)
{
    (void)ctx;
    (void)font;
    int w = 0;
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp = kk_utf8_next(s, len, &pos);
        w += cp >= 0x2e80 ? px : px / 2;
    }
    return w;
}

static int fake_line_height(void *ctx, enum ui_font font, int px)
{
    (void)ctx;
    (void)font;
    return px * 3 / 2;
}

static const struct ui_measure measure = {fake_width, fake_line_height, NULL};

static struct kk_text text(const char *zh, const char *en)
{
    struct kk_text t = {{(char *)zh, (char *)en}};
    return t;
}

/* Concatenates every text item of every screen. */
static void collect(const struct ui_screens *s, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->v[i].n; k++) {
            const struct ui_item *it = &s->v[i].items[k];
            if (it->kind != UI_TEXT)
                continue;
            assert_true(n + it->len < size);
            memcpy(out + n, it->text, it->len);
            n += it->len;
            out[n] = '\0';
        }
}

static void assert_inside(const struct ui_screens *s, int w, int h)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->v[i].n; k++) {
            struct ui_rect r = s->v[i].items[k].r;
            assert_true(r.x >= 0 && r.y >= 0);
            assert_true(r.x + r.w <= w);
            assert_true(r.y + r.h <= h);
        }
}

static const char long_zh[] =
    "地震发生时，不要慌张。如果在室内，应立即伏地、遮挡、手抓牢：趴在坚固的桌子下面，"
    "用手护住头部和颈部，抓牢桌腿，等待摇晃停止。不要跑向电梯，也不要跳楼。摇晃停止后，"
    "再有序撤离到空旷的地方，远离高楼、广告牌和电线杆。";

static void test_short_page_fits_one_screen(void **state)
{
    (void)state;
    struct kk_block b = {.type = KK_BLOCK_TEXT, .text = text("你好，世界。", "Hello, world.")};
    struct kk_page page = {text("标题", "Title"), &b, 1};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 1600, 800, &s), KK_OK);
    assert_int_equal(s.n, 1);
    char all[256];
    collect(&s, all, sizeof(all));
    assert_string_equal(all, "标题你好，世界。");
    assert_inside(&s, 1600, 800);
    ui_screens_release(&s);
}

static void test_long_text_flows_to_more_screens_without_loss(void **state)
{
    (void)state;
    struct kk_block b[3] = {
        {.type = KK_BLOCK_TEXT, .text = text(long_zh, NULL)},
        {.type = KK_BLOCK_FACT, .text = text(long_zh, NULL)},
        {.type = KK_BLOCK_TEXT, .text = text(long_zh, NULL)},
    };
    struct kk_page page = {text("标题", NULL), b, 3};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 1); /* large text */
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_EN, &measure, &st, 900, 500, &s), KK_OK);
    assert_true(s.n > 2);
    assert_inside(&s, 900, 500);
    char all[4096], want[4096];
    collect(&s, all, sizeof(all));
    snprintf(want, sizeof(want), "标题%s%s%s", long_zh, long_zh, long_zh);
    assert_string_equal(all, want); /* every character is on some screen, in order */
    ui_screens_release(&s);
}

static void test_english_fallback_and_no_line_starts_with_comma(void **state)
{
    (void)state;
    struct kk_block b = {.type = KK_BLOCK_TEXT, .text = text(long_zh, NULL)};
    struct kk_page page = {text("标题", "Title"), &b, 1};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    for (int w = 300; w <= 1400; w += 37) {
        assert_int_equal(ui_layout_page(&page, KK_LANG_EN, &measure, &st, w, 2000, &s), KK_OK);
        for (size_t k = 0; k < s.v[0].n; k++) {
            const struct ui_item *it = &s.v[0].items[k];
            if (it->kind != UI_TEXT)
                continue;
            assert_true(it->r.w <= w);
            assert_false(it->len >= 3 &&
                         (!memcmp(it->text, "，", 3) || !memcmp(it->text, "。", 3) ||
                          !memcmp(it->text, "：", 3) || !memcmp(it->text, "、", 3)));
        }
        ui_screens_release(&s);
    }
}

static void test_landscape_puts_picture_beside_text(void **state)
{
    (void)state;
    struct kk_image img = {
        .src = "a.svg", .path = "/x/a.svg", .type = KK_IMG_SVG, .w = 800, .h = 600};
    struct kk_block b[2] = {
        {.type = KK_BLOCK_TEXT, .text = text(long_zh, NULL)},
        {.type = KK_BLOCK_IMAGE, .image = &img, .caption = text("图注", "Caption")},
    };
    struct kk_page page = {text("标题", NULL), b, 2};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 1780, 760, &s), KK_OK);
    assert_int_equal(s.n, 1);
    const struct ui_item *pic = NULL;
    int text_right = 0;
    for (size_t k = 0; k < s.v[0].n; k++) {
        const struct ui_item *it = &s.v[0].items[k];
        if (it->kind == UI_IMAGE)
            pic = it;
        else if (it->kind == UI_TEXT && it->r.x + it->r.w > text_right && it->px != st.caption_px)
            text_right = it->r.x + it->r.w;
    }
    assert_non_null(pic);
    assert_true(pic->r.x >= text_right); /* beside, not over the text */
    /* 4:3 kept within a pixel. */
    assert_true(abs(pic->r.w * 3 - pic->r.h * 4) <= 4);
    assert_inside(&s, 1780, 760);
    ui_screens_release(&s);

    /* Portrait: the picture is above or below the text, full column width at most. */
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 940, 1500, &s), KK_OK);
    assert_inside(&s, 940, 1500);
    ui_screens_release(&s);
}

static void test_label_reports_a_cut(void **state)
{
    (void)state;
    struct ui_list l;
    ui_list_init(&l);
    int h = ui_layout_label(&l, &measure, "card/1", long_zh, KK_LANG_ZH, UI_FONT_BOLD, 20,
                            (struct ui_color){0, 0, 0, 255}, 0, 0, 200, 2, 0, UI_CUT_OVERFLOW);
    assert_int_equal(h, 2 * 30);
    assert_string_equal(l.overflow, "card/1");
    assert_string_equal(l.shortened, "");
    assert_int_equal(l.n, 2);
    const struct ui_item *last = &l.items[1];
    assert_true(last->len >= 3 && !memcmp(last->text + last->len - 3, "…", 3));
    assert_true(last->r.w <= 200);
    ui_list_clear(&l);
    ui_layout_label(&l, &measure, "short", "返回", KK_LANG_ZH, UI_FONT_BOLD, 20,
                    (struct ui_color){0, 0, 0, 255}, 0, 0, 200, 1, 1, UI_CUT_OVERFLOW);
    assert_string_equal(l.overflow, "");
    assert_int_equal(l.items[0].r.x, (200 - 40) / 2); /* centred */
    /* A teaser cut by design is reported apart from the overflow. */
    ui_list_clear(&l);
    ui_layout_label(&l, &measure, "topic/x/summary", long_zh, KK_LANG_ZH, UI_FONT_REGULAR, 20,
                    (struct ui_color){0, 0, 0, 255}, 0, 0, 200, 2, 0, UI_CUT_TEASER);
    assert_string_equal(l.overflow, "");
    assert_string_equal(l.shortened, "topic/x/summary");
    ui_list_release(&l);
}

/* An interactive block gets the rest of a screen when most of it is left, else a screen
 * of its own; what follows it starts on the next screen; slots are inside the box. */
static void test_interactive_block_gets_a_slot_of_one_screen(void **state)
{
    (void)state;
    struct kk_image img = {
        .src = "a.svg", .path = "/x/a.svg", .type = KK_IMG_SVG, .w = 800, .h = 600};
    struct kk_spot spot = {.id = "a", .x = 0.5, .y = 0.5, .label = text("点", NULL)};
    struct kk_block b[4] = {
        {.type = KK_BLOCK_TEXT, .text = text("短短一句。", NULL)},
        {.type = KK_BLOCK_HOTSPOTS, .image = &img, .spots = &spot, .nspots = 1},
        {.type = KK_BLOCK_TEXT, .text = text(long_zh, NULL)},
        {.type = KK_BLOCK_STEPS},
    };
    struct kk_page page = {text("标题", NULL), b, 4};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 1780, 760, &s), KK_OK);
    assert_int_equal(s.nslots, 2);
    /* The hotspots: on the first screen, under the title and the short text, full width. */
    assert_int_equal(s.slots[0].block, 1);
    assert_int_equal(s.slots[0].screen, 0);
    assert_int_equal(s.slots[0].r.x, 0);
    assert_int_equal(s.slots[0].r.w, 1780);
    assert_true(s.slots[0].r.y > 0);
    assert_int_equal(s.slots[0].r.y + s.slots[0].r.h, 760);
    assert_true(s.slots[0].r.h * 100 >= 760 * UI_BLOCK_MIN_SHARE);
    /* The long text after it starts on the next screen; the steps after the text get a
     * screen of their own when too little of the text's last screen is left. */
    assert_true(s.n >= 3);
    assert_true(s.slots[1].screen > 1);
    assert_int_equal(s.slots[1].block, 3);
    assert_true(s.slots[1].r.h * 100 >= 760 * UI_BLOCK_MIN_SHARE);
    for (size_t i = 0; i < s.v[0].n; i++) /* nothing else on the block's screen under it */
        assert_true(s.v[0].items[i].r.y + s.v[0].items[i].r.h <= s.slots[0].r.y);
    ui_screens_release(&s);
    assert_int_equal(s.nslots, 0);
    assert_null(s.slots);
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    struct kk_block b = {.type = KK_BLOCK_TEXT, .text = text("ab\xc3\x28", NULL)};
    struct kk_page page = {text("t", NULL), &b, 1};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 800, 600, &s), KK_ERR_PARSE);
    assert_int_equal(s.n, 0);
}

/* Landscape: words before a block that would leave it under UI_BLOCK_MIN_SHARE go in a
 * column on the left and the block beside them, the screen's whole height, instead of a
 * screen of words alone; portrait keeps the block under the words or on its own screen. */
static void test_block_beside_short_words_in_landscape(void **state)
{
    (void)state;
    struct kk_image img = {
        .src = "a.svg", .path = "/x/a.svg", .type = KK_IMG_SVG, .w = 800, .h = 600};
    struct kk_spot spot = {.id = "a", .x = 0.5, .y = 0.5, .label = text("点", NULL)};
    char words[600];
    size_t at = 0;
    for (int i = 0; i < 10; i++) /* 150 characters: 5 lines at the full text width */
        at += (size_t)snprintf(words + at, sizeof(words) - at, "%s",
                               "眼睛像一台照相机，把光聚在视网膜。");
    struct kk_block b[2] = {
        {.type = KK_BLOCK_TEXT, .text = text(words, NULL)},
        {.type = KK_BLOCK_HOTSPOTS, .image = &img, .spots = &spot, .nspots = 1},
    };
    struct kk_page page = {text("标题", NULL), b, 2};
    struct ui_page_style st;
    ui_page_style_for(&st, 1.0, 0);
    struct ui_screens s;
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 1780, 760, &s), KK_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.nslots, 1);
    struct ui_rect r = s.slots[0].r;
    assert_int_equal(s.slots[0].screen, 0);
    assert_int_equal(r.y, 0);
    assert_int_equal(r.h, 760);
    assert_true(r.x >= 1780 * 3 / 10 && r.x <= 1780 / 2);
    assert_int_equal(r.x + r.w, 1780);
    for (size_t i = 0; i < s.v[0].n; i++) /* the words left of the block */
        assert_true(s.v[0].items[i].r.x + s.v[0].items[i].r.w <= r.x);
    ui_screens_release(&s);
    assert_int_equal(ui_layout_page(&page, KK_LANG_ZH, &measure, &st, 1000, 1700, &s), KK_OK);
    assert_int_equal(s.nslots, 1);
    assert_int_equal(s.slots[0].r.x, 0);
    assert_int_equal(s.slots[0].r.w, 1000);
    ui_screens_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_page_fits_one_screen),
        cmocka_unit_test(test_long_text_flows_to_more_screens_without_loss),
        cmocka_unit_test(test_english_fallback_and_no_line_starts_with_comma),
        cmocka_unit_test(test_landscape_puts_picture_beside_text),
        cmocka_unit_test(test_label_reports_a_cut),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_interactive_block_gets_a_slot_of_one_screen),
        cmocka_unit_test(test_block_beside_short_words_in_landscape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
