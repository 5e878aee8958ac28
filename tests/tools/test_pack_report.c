/* The report writer of `kepu-pack check` (src/tools/pack_report.c): every buffer append it
 * makes is failed in turn, and each time it refuses with one clear line and leaves no
 * report behind, never a silently short one (issue 12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/pack.h"
#include "kk_test.h"
#include "pack_report.h"

static char report[64];
static struct kk_pack *pack;
static struct kk_diags diags;

static struct pack_shot shots[] = {
    {PACK_SHOT_MENU, (char *)"shots/a.png", NULL, 0, -1, 0, NULL, 1920, 1080, KK_LANG_ZH, 0, NULL,
     (char *)"card/quake/summary"},
    {PACK_SHOT_PAGE, (char *)"shots/b<&>.png", (char *)"quake", 1, 0, 3, NULL, 1080, 1920,
     KK_LANG_EN, 1, (char *)"page/title,block/0", NULL},
    {PACK_SHOT_QUESTION, (char *)"shots/c.png", (char *)"quake", 0, -1, 0, (char *)"q1", 1920, 1080,
     KK_LANG_ZH, 1, NULL, NULL},
};

static struct pack_small_image small[] = {
    {(char *)"images/x.png", (char *)"quake", 0, 100, 80, 800, 640, 1920, 1080, -1, -1, 0},
};

static void fill(struct pack_check *c)
{
    memset(c, 0, sizeof(*c));
    c->dir = "content/safety-and-health";
    c->report = report;
    c->pack = pack;
    c->diags = &diags;
    c->shots = shots;
    c->nshots = sizeof(shots) / sizeof(shots[0]);
    c->small = small;
    c->nsmall = 1;
    c->overflows = 1;
    c->shortened = 1;
    c->questions_shown = 1;
    c->seconds = 12.5;
    c->sizes[0][0] = 1920, c->sizes[0][1] = 1080, c->sizes[1][0] = 1080, c->sizes[1][1] = 1920;
    c->nsizes = 2;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("KK_SOURCE_DIR");
    assert_non_null(src);
    char *dir = tt_join(src, "content/safety-and-health");
    struct kk_buf err = KK_BUF_INIT;
    if (kk_pack_load(dir, &pack, &diags, &err))
        fail_msg("%s", kk_buf_str(&err));
    kk_buf_release(&err);
    kk_free(dir);
    snprintf(report, sizeof(report), "/tmp/kk-report-XXXXXX");
    assert_non_null(mkdtemp(report));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kk_pack_destroy(pack);
    kk_diags_release(&diags);
    kk_remove_tree(report, NULL);
    return 0;
}

static void remove_report(void)
{
    char *html = tt_join(report, "index.html"), *json = tt_join(report, "report.json");
    unlink(html);
    unlink(json);
    kk_free(html);
    kk_free(json);
}

static int report_exists(const char *name)
{
    char *p = tt_join(report, name);
    int e = tt_exists(p);
    kk_free(p);
    return e;
}

static void test_whole_report(void **state)
{
    (void)state;
    struct pack_check c;
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
    fill(&c);
    remove_report();
    assert_int_equal(pack_report_write(&c, &err), KK_OK);
    char *html = tt_join(report, "index.html");
    tt_read_file(html, &text);
    assert_non_null(strstr(kk_buf_str(&text), "shots/b&lt;&amp;&gt;.png"));
    assert_true(text.len > 7 && !strcmp(text.data + text.len - 8, "</html>\n"));
    kk_free(html);
    assert_true(report_exists("report.json"));
    kk_buf_release(&text);
    kk_buf_release(&err);
}

static void test_every_append_fails_in_turn(void **state)
{
    (void)state;
    struct pack_check c;
    struct kk_buf err = KK_BUF_INIT;
    fill(&c);
    remove_report();
    kk_buf_fail_nth(0);
    assert_int_equal(pack_report_write(&c, &err), KK_OK);
    unsigned long appends = kk_buf_fail_nth(0);
    assert_true(appends > 100); /* the page is built from many pieces */
    for (unsigned long n = 1; n <= appends; n++) {
        remove_report();
        kk_buf_reset(&err);
        kk_buf_fail_nth(n);
        enum kk_err rc = pack_report_write(&c, &err);
        kk_buf_fail_nth(0);
        if (rc == KK_OK)
            fail_msg("append %lu of %lu failed, yet the report was written", n, appends);
        if (strchr(kk_buf_str(&err), '\n') || !strstr(kk_buf_str(&err), "out of memory"))
            fail_msg("append %lu: not one clear line: [%s]", n, kk_buf_str(&err));
        assert_non_null(strstr(kk_buf_str(&err), report)); /* names where */
        if (report_exists("index.html") && report_exists("report.json"))
            fail_msg("append %lu failed, yet a whole-looking report is there", n);
        assert_false(report_exists("index.html")); /* html is built and written first */
    }
    kk_buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_report),
        cmocka_unit_test(test_every_append_fails_in_turn),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
