/* Themes (src/app/ui_theme.c): assets/themes/default.json is the built-in look; a second
 * theme is one more file listing only what differs; a broken or missing theme fails with
 * a message naming the file and field and leaves the built-in look; a broken icon is
 * left out without failing the theme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kk_test.h"
#include "ui_theme.h"

static char *source_assets(void)
{
    const char *src = getenv("KK_SOURCE_DIR");
    assert_non_null(src);
    return tt_join(src, "assets");
}

static void assert_builtin(const struct ui_theme *t)
{
    assert_memory_equal(&t->colours, &ui_palette_builtin, sizeof(t->colours));
    assert_memory_equal(&t->sizes, &ui_sizes_builtin, sizeof(t->sizes));
}

static void test_default_is_the_builtin_look(void **state)
{
    (void)state;
    char *dir = source_assets();
    struct ui_theme t;
    struct kk_buf err = KK_BUF_INIT;
    ui_theme_init(&t);
    assert_int_equal(ui_theme_load(&t, dir, "default", &err), KK_OK);
    assert_string_equal(t.name, "default");
    assert_builtin(&t); /* the file and the fallback say the same */
    assert_non_null(t.icons[UI_ICON_CONTENT_UPDATING].path);
    assert_int_equal(t.icons[UI_ICON_CONTENT_UPDATING].type, KK_IMG_SVG);
    assert_true(t.icons[UI_ICON_CONTENT_UPDATING].w > 0);
    struct ui_ctx u = {0};
    ui_theme_apply(&t, &u);
    assert_ptr_equal(ui_icon(&u, UI_ICON_CONTENT_UPDATING), &t.icons[UI_ICON_CONTENT_UPDATING]);
    ui_theme_release(&t);
    assert_null(t.icons[UI_ICON_CONTENT_UPDATING].path);
    assert_builtin(&t);
    ui_theme_apply(&t, &u);
    assert_null(ui_icon(&u, UI_ICON_CONTENT_UPDATING));
    kk_free(dir);
    kk_buf_release(&err);
}

/* A temporary assets folder with one theme file. */
static char *assets_with(const char *name, const char *json)
{
    char tmpl[] = "/tmp/kk-theme-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char rel[128];
    snprintf(rel, sizeof(rel), "themes/%s.json", name);
    tt_write_file(tmpl, rel, json);
    return kk_strdup(tmpl);
}

static void test_second_theme_is_one_file(void **state)
{
    (void)state;
    char *dir = assets_with("high-contrast", "{\"format\":1,\"name\":\"high-contrast\","
                                             "\"colours\":{\"primary\":\"#000000\","
                                             "\"bg\":\"#ffffffff\"},\"sizes\":{\"top_bar\":140}}");
    struct ui_theme t;
    struct kk_buf err = KK_BUF_INIT;
    ui_theme_init(&t);
    assert_int_equal(ui_theme_load(&t, dir, "high-contrast", &err), KK_OK);
    assert_int_equal(t.colours.primary.r, 0);
    assert_int_equal(t.colours.primary.b, 0);
    assert_int_equal(t.colours.primary.a, 255);
    assert_int_equal(t.colours.bg.g, 255);
    assert_int_equal(t.sizes.top_bar, 140);
    /* What it leaves out is the built-in look. */
    assert_memory_equal(&t.colours.accent, &ui_palette_builtin.accent, sizeof(struct ui_color));
    assert_int_equal(t.sizes.min_target, ui_sizes_builtin.min_target);
    assert_null(t.icons[UI_ICON_CONTENT_UPDATING].path);
    /* Applied, it is the look in use. */
    ui_theme_apply(&t, NULL);
    assert_int_equal(UI_PRIMARY.g, 0);
    assert_int_equal(ui_sizes.top_bar, 140);
    ui_palette = ui_palette_builtin;
    ui_sizes = ui_sizes_builtin;
    ui_theme_release(&t);
    assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
    kk_free(dir);
    kk_buf_release(&err);
}

/* Each broken theme fails with one message naming the file and the field; the theme is
 * the built-in look afterwards. */
static void test_broken_themes(void **state)
{
    (void)state;
    static const struct {
        const char *json, *want;
        enum kk_err rc;
    } cases[] = {
        {"{\"format\":1,", "not a JSON object", KK_ERR_PARSE},
        {"[1]", "not a JSON object", KK_ERR_PARSE},
        {"{\"colours\":{}}", "format: missing", KK_ERR_INVALID},
        {"{\"format\":2}", "format: expected 1", KK_ERR_INVALID},
        {"{\"format\":1,\"colours\":{\"primary\":\"blue\"}}", "colours.primary: expected",
         KK_ERR_INVALID},
        {"{\"format\":1,\"colours\":{\"primary\":\"#12345g\"}}", "colours.primary: expected",
         KK_ERR_INVALID},
        {"{\"format\":1,\"colours\":{\"primery\":\"#123456\"}}", "colours.primery: no such colour",
         KK_ERR_INVALID},
        {"{\"format\":1,\"sizes\":{\"top_bar\":5}}", "sizes.top_bar: expected a whole number",
         KK_ERR_INVALID},
        {"{\"format\":1,\"sizes\":{\"top_bar\":120.5}}", "sizes.top_bar: expected a whole number",
         KK_ERR_INVALID},
        {"{\"format\":1,\"colour\":{}}", "colour: no such member", KK_ERR_INVALID},
        {"{\"format\":1,\"icons\":{\"rocket\":\"icons/r.svg\"}}", "icons.rocket: no such icon",
         KK_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *dir = assets_with("broken", cases[i].json);
        struct ui_theme t;
        struct kk_buf err = KK_BUF_INIT;
        ui_theme_init(&t);
        t.colours.primary.r = 1; /* something to be undone */
        enum kk_err rc = ui_theme_load(&t, dir, "broken", &err);
        if (rc != cases[i].rc || !strstr(kk_buf_str(&err), cases[i].want) ||
            !strstr(kk_buf_str(&err), "themes/broken.json"))
            fail_msg("case %zu: %s -> %d \"%s\", want %d \"%s\"", i, cases[i].json, rc,
                     kk_buf_str(&err), cases[i].rc, cases[i].want);
        assert_builtin(&t);
        ui_theme_release(&t);
        assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
        kk_free(dir);
        kk_buf_release(&err);
    }
}

static void test_missing_theme_and_bad_name(void **state)
{
    (void)state;
    char *dir = source_assets();
    struct ui_theme t;
    struct kk_buf err = KK_BUF_INIT;
    ui_theme_init(&t);
    assert_int_equal(ui_theme_load(&t, dir, "no-such-theme", &err), KK_ERR_NOTFOUND);
    assert_non_null(strstr(kk_buf_str(&err), "themes/no-such-theme.json"));
    kk_buf_reset(&err);
    assert_int_equal(ui_theme_load(&t, dir, "../default", &err), KK_ERR_INVALID);
    assert_builtin(&t);
    kk_free(dir);
    kk_buf_release(&err);
}

/* A broken icon does not fail the theme: it is left out (drawn built-in). */
static void test_broken_icon_left_out(void **state)
{
    (void)state;
    static const char *const icons[] = {"icons/missing.svg", "icons/book.png", "../outside.svg",
                                        "icons/bad.svg"};
    for (size_t i = 0; i < sizeof(icons) / sizeof(icons[0]); i++) {
        char json[256];
        snprintf(json, sizeof(json),
                 "{\"format\":1,\"colours\":{\"accent\":\"#010203\"},"
                 "\"icons\":{\"content-updating\":\"%s\"}}",
                 icons[i]);
        char *dir = assets_with("t", json);
        tt_write_file(dir, "icons/bad.svg", "<html>not an svg</html>");
        struct ui_theme t;
        struct kk_buf err = KK_BUF_INIT;
        ui_theme_init(&t);
        assert_int_equal(ui_theme_load(&t, dir, "t", &err), KK_OK);
        assert_null(t.icons[UI_ICON_CONTENT_UPDATING].path);
        assert_int_equal(t.colours.accent.b, 3); /* the rest of the theme holds */
        ui_theme_release(&t);
        assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
        kk_free(dir);
        kk_buf_release(&err);
    }
}

static void test_assets_dir_from_env(void **state)
{
    (void)state;
    setenv("KEPU_ASSETS", "/somewhere/assets", 1);
    char *d = ui_theme_assets_dir();
    assert_string_equal(d, "/somewhere/assets");
    kk_free(d);
    unsetenv("KEPU_ASSETS");
    d = ui_theme_assets_dir(); /* the build runs in place: the source tree's */
    assert_non_null(d);
    char *want = source_assets();
    assert_string_equal(d, want);
    kk_free(d);
    kk_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_the_builtin_look),
        cmocka_unit_test(test_second_theme_is_one_file),
        cmocka_unit_test(test_broken_themes),
        cmocka_unit_test(test_missing_theme_and_bad_name),
        cmocka_unit_test(test_broken_icon_left_out),
        cmocka_unit_test(test_assets_dir_from_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
