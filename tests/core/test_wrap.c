#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/utf8.h"
#include "kepu/wrap.h"

/* A fake font: East Asian wide code points are 2 units, everything else 1. */
static int is_wide(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
           (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
           (cp >= 0xffe0 && cp <= 0xffe6);
}

static int fake_measure(void *ctx, const char *s, size_t len)
{
    (void)ctx;
    int w = 0;
    size_t pos = 0;
    while (pos < len)
        w += is_wide(kk_utf8_next(s, len, &pos)) ? 2 : 1;
    return w;
}

/* Wraps text and checks what must hold for every result: the lines are in order, what lies
 * between them is only blanks, each width is the measure of its line, and a line is wider
 * than max only when it is a single code point. Returns the lines joined with '|'. */
static char *wrap_joined(const char *text, enum kk_lang lang, int max)
{
    struct kk_lines lines = {0};
    assert_int_equal(kk_wrap(text, lang, max, fake_measure, NULL, &lines), KK_OK);
    struct kk_buf out = KK_BUF_INIT;
    size_t prev_end = 0;
    for (size_t i = 0; i < lines.n; i++) {
        const struct kk_line *l = &lines.v[i];
        assert_true(l->start >= prev_end);
        for (size_t k = prev_end; k < l->start; k++)
            assert_non_null(strchr(" \n", text[k]));
        assert_int_equal(l->width, fake_measure(NULL, text + l->start, l->len));
        if (l->width > max) {
            size_t pos = 0;
            kk_utf8_next(text + l->start, l->len, &pos);
            assert_int_equal(pos, l->len);
        }
        if (l->len > 0)
            assert_null(strchr(" \n", text[l->start + l->len - 1]));
        if (i > 0)
            assert_int_equal(kk_buf_adds(&out, "|"), KK_OK);
        assert_int_equal(kk_buf_add(&out, text + l->start, l->len), KK_OK);
        prev_end = l->start + l->len;
    }
    for (size_t k = prev_end; text[k]; k++)
        assert_non_null(strchr(" \n", text[k]));
    kk_lines_release(&lines);
    return kk_buf_detach(&out, NULL);
}

static void expect_wrap(const char *text, enum kk_lang lang, int max, const char *expected)
{
    char *got = wrap_joined(text, lang, max);
    assert_string_equal(got, expected);
    kk_free(got);
}

static void test_chinese_breaks_between_characters(void **state)
{
    (void)state;
    expect_wrap("一二三四五六七八九十", KK_LANG_ZH, 6, "一二三|四五六|七八九|十");
    expect_wrap("一二三四五六七八九十", KK_LANG_ZH, 7, "一二三|四五六|七八九|十");
    expect_wrap("一二三四五六七八九十", KK_LANG_ZH, 20, "一二三四五六七八九十");
}

/* Each closing mark placed exactly where a plain character break would put it at the start
 * of the second line: the character before it must go down with it. */
static void test_no_line_starts_with_closing_punctuation(void **state)
{
    (void)state;
    static const char *const closing[] = {"，", "。", "、", "！", "？",
                                          "；", "：", "）", "」", "』"};
    for (size_t i = 0; i < sizeof(closing) / sizeof(closing[0]); i++) {
        char text[64], expected[64];
        snprintf(text, sizeof(text), "一二三四五%s六七", closing[i]);
        snprintf(expected, sizeof(expected), "一二三四|五%s六七", closing[i]);
        expect_wrap(text, KK_LANG_ZH, 10, expected);
    }
}

/* Each opening mark placed exactly where a plain character break would leave it at the end
 * of the first line: it must move down to the word it opens. */
static void test_no_line_ends_with_opening_punctuation(void **state)
{
    (void)state;
    static const char *const opening[] = {"（", "「", "『"};
    for (size_t i = 0; i < sizeof(opening) / sizeof(opening[0]); i++) {
        char text[64], expected[64];
        snprintf(text, sizeof(text), "一二三四%s五六七", opening[i]);
        snprintf(expected, sizeof(expected), "一二三四|%s五六七", opening[i]);
        expect_wrap(text, KK_LANG_ZH, 10, expected);
    }
}

static void test_mixed_text_keeps_english_words_whole(void **state)
{
    (void)state;
    expect_wrap("我喜欢Python语言和C语言", KK_LANG_ZH, 10, "我喜欢|Python语言|和C语言");
    expect_wrap("地震时 drop cover hold 很重要", KK_LANG_ZH, 12, "地震时 drop|cover hold|很重要");
}

static void test_english_breaks_at_spaces(void **state)
{
    (void)state;
    expect_wrap("the quick brown fox jumps", KK_LANG_EN, 10, "the quick|brown fox|jumps");
    expect_wrap("the quick brown fox jumps", KK_LANG_EN, 12, "the quick|brown fox|jumps");
    /* Trailing spaces are neither counted nor included. */
    struct kk_lines lines = {0};
    assert_int_equal(kk_wrap("the quick   brown", KK_LANG_EN, 10, fake_measure, NULL, &lines),
                     KK_OK);
    assert_int_equal(lines.n, 2);
    assert_int_equal(lines.v[0].len, 9);
    assert_int_equal(lines.v[0].width, 9);
    assert_int_equal(lines.v[1].start, 12);
    assert_int_equal(lines.v[1].len, 5);
    kk_lines_release(&lines);
}

static void test_long_word_is_split_between_characters(void **state)
{
    (void)state;
    expect_wrap("a supercalifragilistic word", KK_LANG_EN, 8, "a|supercal|ifragili|stic|word");
    /* Code points, never bytes: an over-wide run of Chinese splits per character. */
    expect_wrap("一二三", KK_LANG_ZH, 1, "一|二|三");
    expect_wrap("ab一", KK_LANG_EN, 0, "a|b|一");
}

static void test_empty_text_gives_no_lines(void **state)
{
    (void)state;
    struct kk_lines lines = {0};
    assert_int_equal(kk_wrap("", KK_LANG_ZH, 10, fake_measure, NULL, &lines), KK_OK);
    assert_int_equal(lines.n, 0);
    kk_lines_release(&lines);
}

static void test_newline_forces_a_break(void **state)
{
    (void)state;
    expect_wrap("一二\n三", KK_LANG_ZH, 100, "一二|三");
    expect_wrap("a\n\nb", KK_LANG_EN, 100, "a||b");
    /* A final newline ends the last line and starts no new one; a lone newline is one
     * empty line. */
    expect_wrap("ab\n", KK_LANG_EN, 100, "ab");
    expect_wrap("ab\n\n", KK_LANG_EN, 100, "ab|");
    struct kk_lines lines = {0};
    assert_int_equal(kk_wrap("\n", KK_LANG_EN, 100, fake_measure, NULL, &lines), KK_OK);
    assert_int_equal(lines.n, 1);
    assert_int_equal(lines.v[0].len, 0);
    assert_int_equal(lines.v[0].width, 0);
    kk_lines_release(&lines);
    /* A forced break inside a line that also wraps. */
    expect_wrap("one two three\nfour", KK_LANG_EN, 8, "one two|three|four");
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"abc\xff", "\xe4\xb8", "\xc0\xaf", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kk_lines lines = {0};
        assert_int_equal(kk_wrap(bad[i], KK_LANG_ZH, 10, fake_measure, NULL, &lines), KK_ERR_PARSE);
        assert_int_equal(lines.n, 0);
        kk_lines_release(&lines);
    }
}

static int starts_with_any(const char *s, size_t len, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (len >= strlen(set[i]) && memcmp(s, set[i], strlen(set[i])) == 0)
            return 1;
    return 0;
}

static int ends_with_any(const char *s, size_t len, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(set[i]);
        if (len >= k && memcmp(s + len - k, set[i], k) == 0)
            return 1;
    }
    return 0;
}

/* Every width from one unit up: the invariants of wrap_joined, and from 8 units (room for
 * any glued pair of characters here) no kinsoku violation anywhere. */
static void test_widths_and_rules_hold_at_every_width(void **state)
{
    (void)state;
    static const char *const closing[] = {"，", "。", "、", "！", "？",
                                          "；", "：", "）", "」", "』"};
    static const char *const opening[] = {"（", "「", "『"};
    const char *text = "地震来临时，「伏地、遮挡、手抓牢」是最重要的自我保护方法。"
                       "Drop, cover and hold on！不要乘坐电梯（包括扶梯），"
                       "也不要跳楼？远离窗户；等待震动结束：再有序撤离『安全第一』。";
    for (int max = 1; max <= 60; max++) {
        char *joined = wrap_joined(text, KK_LANG_ZH, max);
        if (max >= 8) {
            const char *line = joined;
            for (;;) {
                const char *bar = strchr(line, '|');
                size_t len = bar ? (size_t)(bar - line) : strlen(line);
                assert_false(starts_with_any(line, len, closing, 10));
                assert_false(ends_with_any(line, len, opening, 3));
                if (!bar)
                    break;
                line = bar + 1;
            }
        }
        kk_free(joined);
    }
}

static void test_out_of_memory_is_reported(void **state)
{
    (void)state;
    const char *text = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四";
    struct kk_lines lines = {0};
    kk_alloc_fail_after(0);
    assert_int_equal(kk_wrap(text, KK_LANG_ZH, 2, fake_measure, NULL, &lines), KK_OK);
    kk_lines_release(&lines);
    unsigned long made = kk_alloc_fail_after(0);
    assert_true(made >= 2);
    for (unsigned long n = 1; n <= made; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_wrap(text, KK_LANG_ZH, 2, fake_measure, NULL, &lines);
        kk_alloc_fail_after(0);
        assert_int_equal(rc, KK_ERR_NOMEM);
        kk_lines_release(&lines);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_breaks_between_characters),
        cmocka_unit_test(test_no_line_starts_with_closing_punctuation),
        cmocka_unit_test(test_no_line_ends_with_opening_punctuation),
        cmocka_unit_test(test_mixed_text_keeps_english_words_whole),
        cmocka_unit_test(test_english_breaks_at_spaces),
        cmocka_unit_test(test_long_word_is_split_between_characters),
        cmocka_unit_test(test_empty_text_gives_no_lines),
        cmocka_unit_test(test_newline_forces_a_break),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_widths_and_rules_hold_at_every_width),
        cmocka_unit_test(test_out_of_memory_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
