/* `kepu-pack check` and `kepu-pack preview`, end to end: runs the real kepu-pack and
 * kepu-kiosk from $KK_BUILD_DIR on small packs made in a temporary folder, and stand-in
 * kiosks (shell scripts named by KEPU_KIOSK) that hang, die or record how they were
 * started. No window is ever opened: check runs the kiosk offscreen, and preview is only
 * run with a stand-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_test.h"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"

extern char **environ;

struct fixture {
    char tmp[64];
    char *tool, *kiosk;
    char *pack, *report, *tmpdir;
    struct kk_buf out_text, err_text;
};

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
    char *path = tt_join(dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(kk_mkdirs(path, 0755, NULL), KK_OK);
    *slash = '/';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    kk_free(path);
}

static int spawn_wait(struct fixture *f, char *const *argv, const char *in_path)
{
    return tt_spawn(f->tmp, argv, in_path, &f->out_text, &f->err_text);
}

/* The last run printed exactly one line on stderr, containing want. */
static void assert_one_error_line(struct fixture *f, const char *want)
{
    tt_assert_one_line(kk_buf_str(&f->err_text), want);
}

/* A real 320x320 PNG: a screenshot of the kiosk's empty screen in a tiny window. */
static void make_png(struct fixture *f, const char *path)
{
    char *in = tt_join(f->tmp, "png.in");
    char *content = tt_join(f->tmp, "no-content");
    char *state = tt_join(f->tmp, "png-state");
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "{\"screenshot\":\"%s\"}\n{\"quit\":true}\n", path);
    write_file(f->tmp, "png.in", cmd, 0644);
    char *argv[] = {f->kiosk, "--automation", "--window", "320x320", "--content",
                    content,  "--state",      state,      NULL};
    assert_int_equal(spawn_wait(f, argv, in), 0);
    assert_true(tt_exists(path));
    kk_free(in);
    kk_free(content);
    kk_free(state);
}

static const char svg[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"600\" "
                          "viewBox=\"0 0 800 600\"><rect width=\"800\" height=\"600\" "
                          "fill=\"#cde8f2\"/><circle cx=\"400\" cy=\"300\" r=\"150\" "
                          "fill=\"#f0a030\"/></svg>\n";

/* A small good pack: one topic of two pages and a quiz of two questions, the second for
 * youth only. The first page's text has no English (a missing translation). */
static void make_good_pack(const char *dir)
{
    write_file(dir, "pack.json",
               "{\"format\":1,\"id\":\"tiny\",\"version\":\"1.0.0\",\"title\":{\"zh\":\"小包\","
               "\"en\":\"Tiny\"},\"audiences\":[\"youth\",\"other\"],\"topics\":[\"topics/"
               "water.json\"]}\n",
               0644);
    write_file(dir, "images/cover.svg", svg, 0644);
    write_file(
        dir, "topics/water.json",
        "{\"id\":\"water\",\"title\":{\"zh\":\"节约用水\",\"en\":\"Saving water\"},"
        "\"summary\":{\"zh\":\"每一滴水都珍贵。\",\"en\":\"Every drop counts.\"},"
        "\"cover\":\"images/cover.svg\",\"references\":[\"水利部：节约用水知识\"],"
        "\"pages\":["
        "{\"title\":{\"zh\":\"水从哪里来\",\"en\":\"Where water comes from\"},\"blocks\":["
        "{\"type\":\"text\",\"text\":{\"zh\":\"自来水来自水库和河流，经过净化才送到家里。\"}}]},"
        "{\"title\":{\"zh\":\"怎样节水\",\"en\":\"How to save water\"},\"blocks\":["
        "{\"type\":\"image\",\"src\":\"images/cover.svg\",\"caption\":{\"zh\":\"关紧水龙头\","
        "\"en\":\"Turn the tap off\"}},"
        "{\"type\":\"fact\",\"text\":{\"zh\":\"刷牙时关水，一次能省几升水。\",\"en\":\"Turning "
        "the tap off while brushing saves litres each time.\"}}]}],"
        "\"quiz\":{\"questions\":[{\"id\":\"q1\",\"type\":\"truefalse\",\"prompt\":{\"zh\":"
        "\"刷牙时应该关掉水龙头。\",\"en\":\"Turn the tap off while brushing your teeth.\"},"
        "\"choices\":[{\"text\":{\"zh\":\"对\",\"en\":\"True\"}},{\"text\":{\"zh\":\"错\",\"en\":"
        "\"False\"}}],\"answer\":[0],\"explain\":{\"zh\":\"开着水龙头会白白流走很多水。\","
        "\"en\":\"A running tap wastes a lot of water.\"}},"
        "{\"id\":\"q2\",\"type\":\"truefalse\",\"audiences\":[\"youth\"],\"prompt\":{\"zh\":"
        "\"洗澡比泡澡省水。\",\"en\":\"A shower uses less water than a bath.\"},\"choices\":["
        "{\"text\":{\"zh\":\"对\",\"en\":\"True\"}},{\"text\":{\"zh\":\"错\",\"en\":\"False\"}}],"
        "\"answer\":[0],\"explain\":{\"zh\":\"短时间淋浴用水更少。\",\"en\":\"A short shower "
        "uses less.\"}}]}}\n",
        0644);
}

/* A pack with a topic title far too long for its menu card (the kiosk cuts it and says so:
 * a defect), a summary far too long (shortened by design: noted, not failed), and a
 * 320x320 PNG picture that a page shows much larger. */
static void make_overflow_pack(struct fixture *f, const char *dir)
{
    struct kk_buf sum = KK_BUF_INIT, title = KK_BUF_INIT;
    for (int i = 0; i < 12; i++) {
        kk_buf_adds(&sum, "This summary goes on and on about saving water at home and at work. ");
        kk_buf_adds(&title, "A title that never ends ");
    }
    struct kk_buf topic = KK_BUF_INIT;
    kk_buf_addf(&topic,
                "{\"id\":\"wordy\",\"title\":{\"zh\":\"%s\",\"en\":\"%s\"},"
                "\"summary\":{\"zh\":\"%s\",\"en\":\"%s\"},\"cover\":\"images/cover.svg\","
                "\"references\":[\"水利部\"],\"pages\":[{\"title\":{\"zh\":\"一页\",\"en\":\"One "
                "page\"},\"blocks\":[{\"type\":\"image\",\"src\":\"images/small.png\"},"
                "{\"type\":\"text\",\"text\":{\"zh\":\"一段话。\",\"en\":\"Some words.\"}}]}]}\n",
                "说得太多的标题说得太多的标题说得太多的标题说得太多的标题说得太多的标题说得太多的"
                "标题说得太多的标题说得太多的标题说得太多的标题说得太多的标题",
                kk_buf_str(&title),
                "很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简"
                "介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长"
                "的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。很长的简介。",
                kk_buf_str(&sum));
    /* Six more plain topics, so the menu needs a second page. */
    struct kk_buf pack = KK_BUF_INIT;
    kk_buf_adds(&pack, "{\"format\":1,\"id\":\"wordy\",\"version\":\"1.0.0\",\"title\":{\"zh\":"
                       "\"长\",\"en\":\"Long\"},\"audiences\":[\"other\"],\"topics\":[\"topics/"
                       "wordy.json\"");
    for (int i = 1; i <= 6; i++) {
        char rel[64], text[1024];
        snprintf(rel, sizeof(rel), "topics/t%d.json", i);
        snprintf(text, sizeof(text),
                 "{\"id\":\"t%d\",\"title\":{\"zh\":\"话题%d\",\"en\":\"Topic %d\"},"
                 "\"summary\":{\"zh\":\"短。\",\"en\":\"Short.\"},\"cover\":\"images/"
                 "cover.svg\",\"references\":[\"水利部\"],\"pages\":[{\"title\":{\"zh\":"
                 "\"一页\",\"en\":\"A page\"},\"blocks\":[{\"type\":\"text\",\"text\":{"
                 "\"zh\":\"一段话。\",\"en\":\"Some words.\"}}]}]}\n",
                 i, i, i);
        write_file(dir, rel, text, 0644);
        kk_buf_addf(&pack, ",\"%s\"", rel);
    }
    kk_buf_adds(&pack, "]}\n");
    write_file(dir, "pack.json", kk_buf_str(&pack), 0644);
    kk_buf_release(&pack);
    write_file(dir, "images/cover.svg", svg, 0644);
    write_file(dir, "topics/wordy.json", kk_buf_str(&topic), 0644);
    char *png = tt_join(dir, "images/small.png");
    make_png(f, png);
    kk_free(png);
    kk_buf_release(&sum);
    kk_buf_release(&title);
    kk_buf_release(&topic);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/kk-test-pack-check-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    const char *build = getenv("KK_BUILD_DIR");
    assert_non_null(build);
    f->tool = tt_join(build, "src/tools/kepu-pack");
    f->kiosk = tt_join(build, "src/app/kepu-kiosk");
    f->pack = tt_join(f->tmp, "pack");
    f->report = tt_join(f->tmp, "report");
    /* kepu-pack's own temporary folders go here, so the test sees that it cleans up. */
    f->tmpdir = tt_join(f->tmp, "tmp");
    assert_int_equal(mkdir(f->tmpdir, 0700), 0);
    setenv("TMPDIR", f->tmpdir, 1);
    setenv("SDL_VIDEODRIVER", "offscreen", 1);
    unsetenv("KEPU_KIOSK");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unsetenv("KEPU_KIOSK");
    unsetenv("TMPDIR");
    kk_remove_tree(f->tmp, NULL);
    kk_free(f->tool);
    kk_free(f->kiosk);
    kk_free(f->pack);
    kk_free(f->report);
    kk_free(f->tmpdir);
    kk_buf_release(&f->out_text);
    kk_buf_release(&f->err_text);
    free(f);
    return 0;
}

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static cJSON *load_report(struct fixture *f)
{
    struct kk_buf text = KK_BUF_INIT;
    char *path = tt_join(f->report, "report.json");
    tt_read_file(path, &text);
    cJSON *j = cJSON_Parse(kk_buf_str(&text));
    assert_non_null(j);
    kk_free(path);
    kk_buf_release(&text);
    return j;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_check_good_pack(void **state)
{
    struct fixture *f = *state;
    make_good_pack(f->pack);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, NULL),
                     0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "good: pack tiny 1.0.0: "));
    assert_non_null(strstr(kk_buf_str(&f->out_text), "0 overflowing, 1 missing translation,"));
    assert_string_equal(kk_buf_str(&f->err_text), "");

    cJSON *j = load_report(f);
    assert_string_equal(str(j, "result"), "good");
    assert_int_equal((int)num(j, "exit"), 0);
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(j, "counts");
    assert_int_equal((int)num(counts, "overflow"), 0);
    assert_int_equal((int)num(counts, "missing_translations"), 1);
    const cJSON *miss =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "missing_translations"), 0);
    assert_string_equal(str(miss, "file"), "topics/water.json");
    assert_non_null(strstr(str(miss, "field"), "pages[0].blocks[0].text"));

    /* Every page screen in each of the 8 variants, every shot a real file. */
    const cJSON *shots = cJSON_GetObjectItemCaseSensitive(j, "shots"), *s;
    assert_int_equal(cJSON_GetArraySize(shots), (int)num(counts, "screens"));
    int pages[2][2][2] = {{{0}}}, menus = 0, questions = 0, hc_pages = 0;
    struct kk_buf png = KK_BUF_INIT;
    cJSON_ArrayForEach(s, shots)
    {
        char *path = tt_join(f->report, str(s, "shot"));
        tt_read_file(path, &png);
        assert_memory_equal(png.data, "\x89PNG", 4);
        kk_free(path);
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(s, "size");
        int portrait = cJSON_GetArrayItem(size, 0)->valueint == 1080;
        int en = !strcmp(str(s, "lang"), "en");
        int large = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "large_text"));
        int hc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "high_contrast"));
        if (!strcmp(str(s, "kind"), "page")) {
            assert_string_equal(str(s, "topic"), "water");
            if (hc)
                hc_pages++;
            else
                pages[portrait][en][large]++;
        }
        menus += !strcmp(str(s, "kind"), "menu");
        questions += !strcmp(str(s, "kind"), "question");
    }
    kk_buf_release(&png);
    for (int p = 0; p < 2; p++)
        for (int l = 0; l < 2; l++)
            for (int t = 0; t < 2; t++)
                assert_true(pages[p][l][t] >= 2); /* two content pages, maybe more screens */
    assert_int_equal(menus, 12); /* 8 variants, and 4 more in high contrast (normal text) */
    assert_true(hc_pages >= 8);
    /* The report counts the question screens it took. */
    const cJSON *quiz = cJSON_GetObjectItemCaseSensitive(j, "quiz");
    assert_int_equal((int)num(quiz, "questions_shown"), questions);
    /* Both questions in all 12 variants; q2 is for youth only, so the walk (as "other
     * visitors") picked youth to reach it. */
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(quiz, "quiz_screens_missing")));
    assert_int_equal(questions, 24);
    /* Contrast, measured on the kiosk's pixels in both themes: high contrast keeps every
     * text at 7:1 or more, the everyday theme at 4.5:1 or more. */
    const cJSON *contrast = cJSON_GetObjectItemCaseSensitive(j, "contrast");
    assert_true(num(contrast, "texts_measured") > 100);
    assert_true(num(contrast, "texts_measured_high_contrast") > 50);
    assert_true(num(contrast, "least_ratio_high_contrast") >= 7.0);
    assert_true(num(contrast, "least_ratio") >= 4.5);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(contrast, "low")), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(quiz, "never_shown")), 0);
    cJSON_Delete(j);

    struct kk_buf html = KK_BUF_INIT;
    char *index = tt_join(f->report, "index.html");
    tt_read_file(index, &html);
    assert_non_null(strstr(kk_buf_str(&html), "<img src=\"shots/1920x1080/zh-normal/water/"));
    assert_non_null(strstr(kk_buf_str(&html), "<img src=\"shots/1080x1920/en-large/water/"));
    assert_non_null(strstr(kk_buf_str(&html), "Every text fits"));
    assert_non_null(strstr(kk_buf_str(&html), "pages[0].blocks[0].text"));
    assert_non_null(strstr(kk_buf_str(&html), "Every question was shown."));
    kk_free(index);
    kk_buf_release(&html);

    /* The pack is untouched and the temporary content folder is gone. */
    char *json = tt_join(f->pack, "topics/water.json");
    assert_true(tt_exists(json));
    kk_free(json);
    assert_int_equal(entries(f->tmpdir), 0);
}

static void test_check_reports_overflow_and_small_images(void **state)
{
    struct fixture *f = *state;
    make_overflow_pack(f, f->pack);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, NULL),
                     1);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "problems: pack wordy 1.0.0: "));
    assert_null(strstr(kk_buf_str(&f->out_text), " 0 overflowing"));
    assert_non_null(strstr(kk_buf_str(&f->out_text), "report: "));

    cJSON *j = load_report(f);
    assert_string_equal(str(j, "result"), "problems");
    assert_int_equal((int)num(j, "exit"), 1);
    const cJSON *over = cJSON_GetObjectItemCaseSensitive(j, "overflow"), *o;
    assert_true(cJSON_GetArraySize(over) >= 1);
    int title_cut = 0, summary_cut = 0;
    cJSON_ArrayForEach(o, over)
    {
        const cJSON *id;
        cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(o, "overflow"))
        {
            title_cut |= !strcmp(id->valuestring, "topic/wordy/title");
            assert_string_not_equal(id->valuestring, "topic/wordy/summary");
        }
        char *path = tt_join(f->report, str(o, "shot"));
        assert_true(tt_exists(path));
        kk_free(path);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "size"));
        assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "lang"));
    }
    assert_true(title_cut);
    /* The summary is listed as shortened on the menu, not as overflow. */
    const cJSON *cut = cJSON_GetObjectItemCaseSensitive(j, "shortened");
    cJSON_ArrayForEach(o, cut)
    {
        const cJSON *id;
        assert_string_equal(str(o, "kind"), "menu");
        cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(o, "shortened")) summary_cut |=
            !strcmp(id->valuestring, "topic/wordy/summary");
    }
    assert_true(summary_cut);

    /* Seven topics: the walk turned the menu's pages and reached every topic in all eight
     * variants (two sizes, two languages, two text sizes). */
    const cJSON *shots = cJSON_GetObjectItemCaseSensitive(j, "shots");
    int second_menu_page = 0, reached[7] = {0};
    cJSON_ArrayForEach(o, shots)
    {
        if (!strcmp(str(o, "kind"), "menu"))
            second_menu_page |= (int)num(o, "index") == 1;
        if (strcmp(str(o, "kind"), "page"))
            continue;
        const char *t = str(o, "topic");
        reached[!strcmp(t, "wordy") ? 0 : t[1] - '0']++;
    }
    assert_true(second_menu_page);
    for (int i = 0; i < 7; i++)
        assert_true(reached[i] >= 8);

    /* 320x320 pixels, shown far larger: the kiosk reports where it drew each picture, so
     * every variant is measured (two sizes, two languages, two text sizes). */
    const cJSON *small = cJSON_GetObjectItemCaseSensitive(j, "small_images"), *s;
    assert_int_equal(cJSON_GetArraySize(small), 8);
    cJSON_ArrayForEach(s, small)
    {
        assert_string_equal(str(s, "method"), "measured");
        assert_string_equal(str(s, "src"), "images/small.png");
        assert_string_equal(str(s, "topic"), "wordy");
        assert_int_equal((int)num(s, "page"), 0);
        const cJSON *px = cJSON_GetObjectItemCaseSensitive(s, "pixels");
        const cJSON *shown = cJSON_GetObjectItemCaseSensitive(s, "shown");
        assert_int_equal(cJSON_GetArrayItem(px, 0)->valueint, 320);
        assert_true(cJSON_GetArrayItem(shown, 0)->valueint > 320);
    }
    cJSON_Delete(j);

    struct kk_buf html = KK_BUF_INIT;
    char *index = tt_join(f->report, "index.html");
    tt_read_file(index, &html);
    assert_non_null(strstr(kk_buf_str(&html), "Text that does not fit ("));
    assert_non_null(strstr(kk_buf_str(&html), "topic/wordy/title"));
    assert_non_null(strstr(kk_buf_str(&html), "Summaries shortened on the menu"));
    assert_non_null(strstr(kk_buf_str(&html), "topic/wordy/summary"));
    assert_non_null(strstr(kk_buf_str(&html), "figure class=\"over\""));
    assert_non_null(strstr(kk_buf_str(&html), "images/small.png"));
    kk_free(index);
    kk_buf_release(&html);
}

/* Stand-in kiosks. */
static const char hang_kiosk[] = "#!/bin/sh\nexec sleep 60\n";
static const char dying_kiosk[] =
    "#!/bin/sh\n"
    "echo '{\"scene\":\"attract\",\"lang\":\"zh\",\"large_text\":false,\"size\":[1920,1080],"
    "\"targets\":[{\"id\":\"start\",\"rect\":[0,0,1920,1080],\"label\":\"x\"}],"
    "\"overflow\":[]}'\n"
    "read line\n"
    "echo 'cannot go on: out of fonts' >&2\n"
    "exit 3\n";

static void test_check_kiosk_hangs_or_dies(void **state)
{
    struct fixture *f = *state;
    make_good_pack(f->pack);
    write_file(f->tmp, "hang.sh", hang_kiosk, 0755);
    write_file(f->tmp, "die.sh", dying_kiosk, 0755);
    char *hang = tt_join(f->tmp, "hang.sh"), *die = tt_join(f->tmp, "die.sh");

    setenv("KEPU_KIOSK", hang, 1);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, "--timeout", "1", NULL),
                     1);
    assert_one_error_line(f, "the kiosk did not answer its first screen within 1 s on its start");
    assert_non_null(strstr(kk_buf_str(&f->out_text), "incomplete: pack tiny"));
    cJSON *j = load_report(f);
    assert_string_equal(str(j, "result"), "incomplete");
    assert_non_null(strstr(str(j, "failure"), "did not answer"));
    cJSON_Delete(j);

    setenv("KEPU_KIOSK", die, 1);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, "--timeout", "10", NULL),
                     1);
    assert_one_error_line(f, "the kiosk stopped (exit status 3) on the attract screen");
    assert_non_null(strstr(kk_buf_str(&f->err_text), "out of fonts"));
    assert_non_null(strstr(kk_buf_str(&f->err_text), "{\"tap_id\":\"start\"}"));
    struct kk_buf html = KK_BUF_INIT;
    char *index = tt_join(f->report, "index.html");
    tt_read_file(index, &html);
    assert_non_null(strstr(kk_buf_str(&html), "The walk stopped early"));
    kk_free(index);
    kk_buf_release(&html);

    setenv("KEPU_KIOSK", "/nonexistent/kepu-kiosk", 1);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, NULL),
                     1);
    assert_one_error_line(f, "KEPU_KIOSK=/nonexistent/kepu-kiosk is not an executable program");
    assert_int_equal(entries(f->tmpdir), 0);
    kk_free(hang);
    kk_free(die);
}

/* SIGTERM (or Ctrl-C) during a walk stops the kiosk, removes the temporary folder and
 * still writes the report of what was seen. */
static void test_check_interrupted(void **state)
{
    struct fixture *f = *state;
    make_good_pack(f->pack);
    write_file(f->tmp, "hang.sh", hang_kiosk, 0755);
    char *hang = tt_join(f->tmp, "hang.sh");
    char *out = tt_join(f->tmp, "run.out"), *err = tt_join(f->tmp, "run.err");
    setenv("KEPU_KIOSK", hang, 1);
    char *argv[] = {f->tool, "check", f->pack, "-o", f->report, NULL};
    posix_spawn_file_actions_t fa;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, f->tool, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    /* Wait until the stand-in kiosk runs (its log file appears), then interrupt. */
    char *log = tt_join(f->report, "kiosk-1920x1080.log");
    for (int i = 0; i < 500 && !tt_exists(log); i++)
        usleep(10000);
    assert_true(tt_exists(log));
    usleep(100000);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    tt_read_file(err, &f->err_text);
    assert_one_error_line(f, "interrupted on its start (no screen shown yet); stopped the kiosk");
    cJSON *j = load_report(f);
    assert_string_equal(str(j, "result"), "incomplete");
    cJSON_Delete(j);
    assert_int_equal(entries(f->tmpdir), 0);
    kk_free(log);
    kk_free(out);
    kk_free(err);
    kk_free(hang);
}

static void test_refuses_broken_pack(void **state)
{
    struct fixture *f = *state;
    make_good_pack(f->pack);
    char *cover = tt_join(f->pack, "images/cover.svg");
    assert_int_equal(unlink(cover), 0);
    kk_free(cover);
    /* A stand-in that would leave a mark if it were ever started. */
    char mark[256], script[512];
    snprintf(mark, sizeof(mark), "%s/started", f->tmp);
    snprintf(script, sizeof(script), "#!/bin/sh\ntouch '%s'\n", mark);
    write_file(f->tmp, "mark.sh", script, 0755);
    char *kiosk = tt_join(f->tmp, "mark.sh");
    setenv("KEPU_KIOSK", kiosk, 1);

    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "preview", f->pack, NULL),
                     1);
    assert_one_error_line(f, "the pack has 2 errors (listed above); fix them first");
    assert_non_null(strstr(kk_buf_str(&f->out_text), "topics/water.json: cover: "));
    assert_non_null(strstr(kk_buf_str(&f->out_text), "\"images/cover.svg\" not found"));
    assert_false(tt_exists(mark));

    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, NULL),
                     1);
    assert_one_error_line(f, "the pack has 2 errors");
    assert_false(tt_exists(mark));
    assert_false(tt_exists(f->report));

    /* Bad command lines. */
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, NULL),
                     2);
    assert_one_error_line(f, "missing -o");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "preview", f->pack,
                            "--size", "big", NULL),
                     2);
    assert_one_error_line(f, "--size: expected WIDTHxHEIGHT");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, "--timeout", "0", NULL),
                     2);
    assert_one_error_line(f, "--timeout");
    kk_free(kiosk);
}

static void test_preview_starts_kiosk_on_pack_alone(void **state)
{
    struct fixture *f = *state;
    make_good_pack(f->pack);
    /* The stand-in notes its arguments and what its content folder holds, then ends. */
    char record[256], script[2048];
    snprintf(record, sizeof(record), "%s/record", f->tmp);
    snprintf(script, sizeof(script),
             "#!/bin/sh\n"
             "echo \"$1 $2 $3 $5\" > '%s'\n"
             "ls \"$4\" >> '%s'\n"
             "grep -c '\"id\":\"tiny\"' \"$4/tiny/pack.json\" >> '%s'\n"
             "test -d \"$6\" && echo state-ok >> '%s'\n",
             record, record, record, record);
    write_file(f->tmp, "record.sh", script, 0755);
    char *kiosk = tt_join(f->tmp, "record.sh");
    setenv("KEPU_KIOSK", kiosk, 1);

    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "preview", f->pack,
                            "--size", "1080x1920", NULL),
                     0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "in a 1080x1920 window"));
    struct kk_buf rec = KK_BUF_INIT;
    tt_read_file(record, &rec);
    assert_string_equal(kk_buf_str(&rec),
                        "--window 1080x1920 --content --state\ntiny\n1\nstate-ok\n");
    kk_buf_release(&rec);
    /* The temporary folder is gone and the pack is still there. */
    assert_int_equal(entries(f->tmpdir), 0);
    char *json = tt_join(f->pack, "pack.json");
    assert_true(tt_exists(json));
    kk_free(json);

    /* A kiosk that fails makes preview fail. */
    write_file(f->tmp, "fail.sh", "#!/bin/sh\nexit 4\n", 0755);
    char *failing = tt_join(f->tmp, "fail.sh");
    setenv("KEPU_KIOSK", failing, 1);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "preview", f->pack, NULL),
                     1);
    assert_one_error_line(f, "the kiosk ended with exit status 4");
    kk_free(failing);
    kk_free(kiosk);
}

/* Format 2's hotspot and order questions (issue 13): each is taken answered right and, in a
 * later round, answered wrong, in every variant. */
static void test_check_hotspot_and_order(void **state)
{
    struct fixture *f = *state;
    write_file(f->pack, "pack.json",
               "{\"format\":2,\"id\":\"taps\",\"version\":\"1.0.0\",\"title\":{\"zh\":\"点一点\","
               "\"en\":\"Taps\"},\"audiences\":[\"other\"],\"topics\":[\"topics/t.json\"]}\n",
               0644);
    write_file(f->pack, "images/cover.svg", svg, 0644);
    write_file(
        f->pack, "topics/t.json",
        "{\"id\":\"t\",\"title\":{\"zh\":\"太阳\",\"en\":\"The sun\"},\"summary\":{\"zh\":"
        "\"看图答题。\",\"en\":\"A picture quiz.\"},\"cover\":\"images/cover.svg\","
        "\"references\":[\"国家航天局\"],\"pages\":[{\"title\":{\"zh\":\"一页\",\"en\":\"A page\"},"
        "\"blocks\":[{\"type\":\"text\",\"text\":{\"zh\":\"太阳是一颗恒星。\",\"en\":\"The sun is "
        "a star.\"}}]}],\"quiz\":{\"questions\":["
        "{\"id\":\"hs\",\"type\":\"hotspot\",\"image\":\"images/cover.svg\",\"prompt\":{\"zh\":"
        "\"太阳在哪里？\",\"en\":\"Where is the sun?\"},\"regions\":[{\"x\":0.5,\"y\":0.5,"
        "\"r\":0.19}],\"answer\":[0],\"explain\":{\"zh\":\"橙色的圆。\",\"en\":\"The orange "
        "disc.\"}},"
        "{\"id\":\"od\",\"type\":\"order\",\"prompt\":{\"zh\":\"从小到大排：\",\"en\":\"Smallest "
        "first:\"},\"choices\":[{\"text\":{\"zh\":\"太阳\",\"en\":\"The sun\"}},{\"text\":{\"zh\":"
        "\"地球\",\"en\":\"The earth\"}},{\"text\":{\"zh\":\"月球\",\"en\":\"The moon\"}}],"
        "\"answer\":[2,1,0],\"explain\":{\"zh\":\"月球最小，太阳最大。\",\"en\":\"The moon is "
        "smallest, the sun largest.\"}}]}}\n",
        0644);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "check", f->pack, "-o",
                            f->report, NULL),
                     0);
    cJSON *j = load_report(f);
    const cJSON *s;
    int right[2] = {0, 0}, wrong[2] = {0, 0}, asked[2] = {0, 0};
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "shots"))
    {
        const cJSON *qid = cJSON_GetObjectItemCaseSensitive(s, "question");
        if (!cJSON_IsString(qid))
            continue;
        int o = !strcmp(qid->valuestring, "od");
        if (!strcmp(str(s, "kind"), "question")) {
            asked[o]++;
            continue;
        }
        assert_string_equal(str(s, "kind"), "answer");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "correct");
        assert_true(cJSON_IsBool(c));
        assert_non_null(strstr(str(s, "shot"), cJSON_IsTrue(c) ? "-right.png" : "-wrong.png"));
        if (cJSON_IsTrue(c))
            right[o]++;
        else
            wrong[o]++;
    }
    for (int o = 0; o < 2; o++) { /* 12 variants: each once asked, once right, once wrong */
        assert_int_equal(asked[o], 12);
        assert_int_equal(right[o], 12);
        assert_int_equal(wrong[o], 12);
    }
    cJSON_Delete(j);
    struct kk_buf html = KK_BUF_INIT;
    char *index = tt_join(f->report, "index.html");
    tt_read_file(index, &html);
    assert_non_null(strstr(kk_buf_str(&html), "answered wrong"));
    assert_non_null(strstr(kk_buf_str(&html), "answered right"));
    kk_free(index);
    kk_buf_release(&html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refuses_broken_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preview_starts_kiosk_on_pack_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_kiosk_hangs_or_dies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_good_pack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_hotspot_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_reports_overflow_and_small_images, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
