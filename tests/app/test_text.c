/* Text rendering with the real font: Chinese renders as glyphs, not tofu boxes; every
 * interface word is covered by the font; the cache hits and stays within its budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdio.h>
#include <string.h>

#include "kepu/limits.h"
#include "ui_strings.h"
#include "ui_text.h"

static struct ui_text *text;

static int setup(void **state)
{
    (void)state;
    if (SDL_Init(SDL_INIT_VIDEO) < 0 || TTF_Init() < 0)
        return -1;
    return ui_text_create(&text, NULL) == KK_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ui_text_destroy(text);
    TTF_Quit();
    SDL_Quit();
    return 0;
}

/* The ink mask of one character: which pixels have coverage. */
static void mask_of(const char *ch, unsigned char *mask, int size, int *ink)
{
    SDL_Surface *s = ui_text_surface(text, UI_FONT_REGULAR, size, (struct ui_color){0, 0, 0, 255},
                                     ch, strlen(ch));
    assert_non_null(s);
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGBA32, 0);
    assert_non_null(c);
    memset(mask, 0, (size_t)(size * 2 * size * 2));
    *ink = 0;
    for (int y = 0; y < c->h && y < size * 2; y++)
        for (int x = 0; x < c->w && x < size * 2; x++) {
            const uint8_t *p = (const uint8_t *)c->pixels + y * c->pitch + x * 4;
            if (p[3] > 128) {
                mask[y * size * 2 + x] = 1;
                (*ink)++;
            }
        }
    SDL_FreeSurface(c);
    SDL_FreeSurface(s);
}

static void test_chinese_is_glyphs_not_tofu(void **state)
{
    (void)state;
    /* Tofu boxes all look alike; real glyphs differ from each other. */
    const char *chars[] = {"科", "普", "地", "震", "触", "摸", "屏", "幕", "，", "。"};
    enum { N = sizeof(chars) / sizeof(chars[0]), SIZE = 48 };
    static unsigned char masks[N][SIZE * 2 * SIZE * 2];
    int ink[N];
    for (int i = 0; i < N; i++) {
        assert_true(ui_text_covers(text, chars[i]));
        mask_of(chars[i], masks[i], SIZE, &ink[i]);
        assert_true(ink[i] > 20);
    }
    for (int i = 0; i < N; i++)
        for (int k = i + 1; k < N; k++) {
            int diff = 0;
            for (int p = 0; p < SIZE * 2 * SIZE * 2; p++)
                diff += masks[i][p] != masks[k][p];
            assert_true(diff > 30);
        }
    /* A character no font has is reported as not covered. */
    assert_false(ui_text_covers(text, "\xf3\xbf\xbf\xbd")); /* U+FFFFD, private use */
}

static void test_every_interface_word_is_covered(void **state)
{
    (void)state;
    for (int id = 0; id < S_COUNT; id++)
        for (int lang = 0; lang < KK_LANG_COUNT; lang++) {
            const char *s = ui_str((enum ui_str)id, (enum kk_lang)lang);
            assert_true(strlen(s) > 0);
            if (!ui_text_covers(text, s))
                fail_msg("the UI font has no glyph for a character of \"%s\"", s);
        }
}

static void test_measure_grows_with_text(void **state)
{
    (void)state;
    int a = ui_text_measure(text, UI_FONT_REGULAR, 32, "科普", strlen("科普"));
    int b = ui_text_measure(text, UI_FONT_REGULAR, 32, "科普科普", strlen("科普科普"));
    int big = ui_text_measure(text, UI_FONT_REGULAR, 64, "科普", strlen("科普"));
    assert_true(a > 40 && a < 80);
    assert_true(b > a * 3 / 2);
    assert_true(big > a * 3 / 2);
    assert_true(ui_text_line_height(text, UI_FONT_REGULAR, 32) >= 32);
}

static void test_cache_hits_and_budget(void **state)
{
    (void)state;
    SDL_Window *w = SDL_CreateWindow("t", 0, 0, 320, 240, SDL_WINDOW_HIDDEN);
    assert_non_null(w);
    SDL_Renderer *r = SDL_CreateRenderer(w, -1, SDL_RENDERER_SOFTWARE);
    assert_non_null(r);
    ui_text_cache_drop(text);
    struct ui_text_stats st0, st;
    ui_text_stats(text, &st0);
    int tw, th;
    const char *s = "内容更新中";
    SDL_Texture *t1 = ui_text_texture(text, r, UI_FONT_BOLD, 40, (struct ui_color){0, 0, 0, 255}, s,
                                      strlen(s), &tw, &th);
    SDL_Texture *t2 = ui_text_texture(text, r, UI_FONT_BOLD, 40, (struct ui_color){0, 0, 0, 255}, s,
                                      strlen(s), &tw, &th);
    assert_non_null(t1);
    assert_ptr_equal(t1, t2); /* nothing re-rasterised */
    ui_text_stats(text, &st);
    assert_int_equal(st.misses - st0.misses, 1);
    assert_int_equal(st.hits - st0.hits, 1);
    /* Many big lines: the cache evicts the oldest and stays within its budget. */
    char line[64];
    for (int i = 0; i < 400; i++) {
        snprintf(line, sizeof(line), "第%d行 科学普及 Science %d", i, i);
        assert_non_null(ui_text_texture(text, r, UI_FONT_REGULAR, 200,
                                        (struct ui_color){0, 0, 0, 255}, line, strlen(line), &tw,
                                        &th));
    }
    ui_text_stats(text, &st);
    assert_true(st.bytes <= KK_TEXT_CACHE_BYTES);
    assert_true(st.evictions > 0);
    ui_text_cache_drop(text);
    ui_text_stats(text, &st);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.bytes, 0);
    SDL_DestroyRenderer(r);
    SDL_DestroyWindow(w);
}

/* Many sizes, regular and bold, interleaved as a layout asks for them: a few fonts stay
 * open (each holds megabytes of parsed font), and a font set to another size measures,
 * spaces lines and renders exactly as one opened at that size. */
static void test_sizes_share_a_few_fonts(void **state)
{
    (void)state;
    const char *s = "保护性耕作 Conservation tillage 3 / 12";
    struct ui_text *fresh = NULL;
    int widths[2][40], skips[2][40];
    struct ui_text_stats st0, st;
    ui_text_stats(text, &st0);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++)
            for (int b = 0; b < 2; b++) {
                enum ui_font f = b ? UI_FONT_BOLD : UI_FONT_REGULAR;
                int w = ui_text_measure(text, f, 14 + i * 3, s, strlen(s));
                int skip = ui_text_line_height(text, f, 14 + i * 3);
                if (round == 1) { /* the same answers the second time round */
                    assert_int_equal(w, widths[b][i]);
                    assert_int_equal(skip, skips[b][i]);
                }
                widths[b][i] = w;
                skips[b][i] = skip;
            }
    ui_text_stats(text, &st);
    assert_true(st.faces >= 2 && st.faces <= 4);
    assert_true(st.opens - st0.opens <= 2); /* at most a bold one where all were regular */
    assert_true(st.resizes - st0.resizes >= 100);
    /* Against fonts opened at each size: one size per new ui_text (its first font). */
    for (int i = 0; i < 40; i += 7)
        for (int b = 0; b < 2; b++) {
            enum ui_font f = b ? UI_FONT_BOLD : UI_FONT_REGULAR;
            int px = 14 + i * 3;
            assert_int_equal(ui_text_create(&fresh, NULL), KK_OK);
            assert_int_equal(ui_text_measure(fresh, f, px, s, strlen(s)), widths[b][i]);
            assert_int_equal(ui_text_line_height(fresh, f, px), skips[b][i]);
            struct ui_color ink = {20, 30, 40, 255};
            SDL_Surface *x = ui_text_surface(fresh, f, px, ink, s, strlen(s));
            ui_text_destroy(fresh);
            ui_text_measure(text, f, px + 1, s, strlen(s)); /* move the shared font away */
            SDL_Surface *y = ui_text_surface(text, f, px, ink, s, strlen(s));
            assert_non_null(x);
            assert_non_null(y);
            assert_int_equal(x->w, y->w);
            assert_int_equal(x->h, y->h);
            for (int row = 0; row < x->h; row++)
                assert_memory_equal((char *)x->pixels + row * x->pitch,
                                    (char *)y->pixels + row * y->pitch, (size_t)x->w * 4);
            SDL_FreeSurface(x);
            SDL_FreeSurface(y);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chinese_is_glyphs_not_tofu),
        cmocka_unit_test(test_every_interface_word_is_covered),
        cmocka_unit_test(test_measure_grows_with_text),
        cmocka_unit_test(test_cache_hits_and_budget),
        cmocka_unit_test(test_sizes_share_a_few_fonts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
