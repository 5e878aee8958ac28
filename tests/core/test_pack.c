/* Tests of src/core/pack.c: the content-pack parser. Every fixture pack is written from
 * here into a temporary folder, so each test shows exactly what it feeds the parser. JSON
 * is written with single quotes for readability; write_json turns them into double ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/pack.h"

/* ---- fixture writing ---- */

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    struct kk_buf b = KK_BUF_INIT;
    assert_int_equal(kk_buf_addf(&b, "%s/kk-pack-XXXXXX", base && *base ? base : "/tmp"), KK_OK);
    char *dir = kk_buf_detach(&b, NULL);
    assert_non_null(mkdtemp(dir));
    return dir;
}

/* rm -r without following links (nftw needs _XOPEN_SOURCE, which the build does not set). */
static void rm_path(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *sub = kk_path_join(path, de->d_name);
            assert_non_null(sub);
            rm_path(sub);
            kk_free(sub);
        }
        closedir(d);
    }
    assert_int_equal(remove(path), 0);
}

static void rm_tree(char *dir)
{
    rm_path(dir);
    kk_free(dir);
}

static char *join(const char *a, const char *b)
{
    char *p = kk_path_join(a, b);
    assert_non_null(p);
    return p;
}

/* Writes data to dir/rel, creating folders on the way. */
static void write_file(const char *dir, const char *rel, const void *data, size_t len)
{
    char *path = join(dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(kk_mkdirs(path, 0755, NULL), KK_OK);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    kk_free(path);
}

/* printf-style JSON with ' for ", written to dir/rel. */
static void write_json(const char *dir, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void write_json(const char *dir, const char *rel, const char *fmt, ...)
{
    struct kk_buf b = KK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    assert_int_equal(kk_buf_vaddf(&b, fmt, ap), KK_OK);
    va_end(ap);
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\'')
            b.data[i] = '"';
    write_file(dir, rel, b.data, b.len);
    kk_buf_release(&b);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A PNG signature, IHDR chunk declaring w x h and an IEND chunk (no pixel data: the probe
 * reads headers only). Returns the length written into out (at least 45 bytes). */
static size_t png_bytes(unsigned char *out, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    put32(out + 8, 13);
    memcpy(out + 12, "IHDR", 4);
    put32(out + 16, w);
    put32(out + 20, h);
    memcpy(out + 24, "\x08\x06\x00\x00\x00", 5); /* 8-bit RGBA */
    put32(out + 29, (uint32_t)crc32(0, out + 12, 17));
    put32(out + 33, 0);
    memcpy(out + 37, "IEND", 4);
    put32(out + 41, (uint32_t)crc32(0, out + 37, 4));
    return 45;
}

static void write_png(const char *dir, const char *rel, uint32_t w, uint32_t h)
{
    unsigned char b[64];
    write_file(dir, rel, b, png_bytes(b, w, h));
}

/* A JPEG's SOI, a JFIF APP0 segment, a baseline frame header (SOF0) and EOI. */
static size_t jpeg_bytes(unsigned char *out, unsigned w, unsigned h)
{
    static const unsigned char head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',  'F',  'I',
                                         'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                         0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08};
    size_t n = sizeof(head);
    memcpy(out, head, n);
    out[n++] = (unsigned char)(h >> 8);
    out[n++] = (unsigned char)h;
    out[n++] = (unsigned char)(w >> 8);
    out[n++] = (unsigned char)w;
    out[n++] = 3;
    for (unsigned char c = 1; c <= 3; c++) {
        out[n++] = c;
        out[n++] = 0x11;
        out[n++] = 0;
    }
    out[n++] = 0xff;
    out[n++] = 0xd9;
    return n;
}

static const char good_svg[] = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                               "<!-- cover -->\n"
                               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" "
                               "height=\"360\" viewBox=\"0 0 64 36\"><rect/></svg>\n";

#define PACK_JSON                                                                                  \
    "{'format':1,'id':'earthquake-safety','version':'2026.11.1',"                                  \
    "'title':{'zh':'地震安全','en':'Earthquake safety'},'audiences':['youth','elderly'],"      \
    "'topics':['topics/quake.json']}"

#define GOOD_PAGES                                                                                 \
    "[{'title':{'zh':'第一页','en':'Page one'},'blocks':["                                      \
    "{'type':'text','text':{'zh':'正文','en':'Body'}},"                                          \
    "{'type':'image','src':'images/wave.png','caption':{'zh':'地震波','en':'Seismic waves'}},"  \
    "{'type':'fact','text':{'zh':'事实','en':'Fact'}}]},"                                        \
    "{'title':{'zh':'第二页','en':'Page two'},'blocks':["                                       \
    "{'type':'image','src':'images/photo.jpg'}]}]"

#define Q_SINGLE                                                                                   \
    "{'id':'q1','type':'single','prompt':{'zh':'问题一','en':'Question one'},"                  \
    "'choices':[{'text':{'zh':'甲','en':'A'}},{'text':{'zh':'乙','en':'B'}},"                    \
    "{'image':'images/wave.png'}],'answer':[1],'explain':{'zh':'解释','en':'Because'},'page':1}"

#define Q_TRUEFALSE                                                                                \
    "{'id':'q2','type':'truefalse','prompt':{'zh':'对吗','en':'True?'},'answer':[0],"            \
    "'explain':{'zh':'对','en':'Yes'},'difficulty':3,'audiences':['elderly'],"                    \
    "'image':'images/photo.jpg'}"

#define Q_MULTI                                                                                    \
    "{'id':'q3','type':'multi','prompt':{'zh':'多选','en':'Pick'},'choices':["                   \
    "{'text':{'zh':'一','en':'one'}},{'text':{'zh':'二','en':'two'}},"                           \
    "{'text':{'zh':'三','en':'three'}}],'answer':[0,2],'explain':{'zh':'解释','en':'Because'}}"

#define GOOD_QUIZ "{'questions':[" Q_SINGLE "," Q_TRUEFALSE "," Q_MULTI "]}"

/* The topic file with the given pages and quiz (quiz NULL: none). */
static void write_topic(const char *pack, const char *pages, const char *quiz)
{
    write_json(pack, "topics/quake.json",
               "{'id':'quake','title':{'zh':'地震来了怎么办','en':'When an earthquake comes'},"
               "'summary':{'zh':'伏地、遮挡、手抓牢'},'cover':'images/cover.svg',"
               "'references':['中国地震局《防震减灾科普读本》'],'pages':%s%s%s}",
               pages, quiz ? ",'quiz':" : "", quiz ? quiz : "");
}

/* The images the good pack refers to. */
static void write_images(const char *pack)
{
    unsigned char b[64];
    write_file(pack, "images/cover.svg", good_svg, strlen(good_svg));
    write_png(pack, "images/wave.png", 800, 600);
    write_file(pack, "images/photo.jpg", b, jpeg_bytes(b, 1024, 768));
}

/* A complete good pack in root/name; returns its folder (free with kk_free). */
static char *make_pack(const char *root, const char *name)
{
    char *pack = join(root, name);
    write_json(pack, "pack.json", PACK_JSON);
    write_topic(pack, GOOD_PAGES, GOOD_QUIZ);
    write_images(pack);
    return pack;
}

/* ---- checking diagnostics ---- */

static void print_diags(const struct kk_diags *d)
{
    struct kk_buf line = KK_BUF_INIT;
    for (size_t i = 0; i < d->n; i++) {
        kk_buf_reset(&line);
        kk_diags_format(d, i, &line);
        print_message("  %s %s\n", d->items[i].severity == KK_SEV_ERROR ? "error:" : "warning:",
                      kk_buf_str(&line));
    }
    kk_buf_release(&line);
}

/* Asserts that d holds a problem of severity sev at file and field with exactly message. */
static void expect_diag(const struct kk_diags *d, enum kk_severity sev, const char *file,
                        const char *field, const char *message)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct kk_diag *g = &d->items[i];
        if (g->severity == sev && strcmp(g->file, file) == 0 && strcmp(g->field, field) == 0 &&
            strcmp(g->message, message) == 0)
            return;
    }
    print_message("expected %s %s: %s: %s\nfound:\n", sev == KK_SEV_ERROR ? "error" : "warning",
                  file, field, message);
    print_diags(d);
    fail();
}

/* Loads dir expecting failure with code; checks err is exactly want_err. */
static void expect_load_fails(const char *dir, enum kk_err code, struct kk_diags *d,
                              const char *want_err)
{
    struct kk_pack *p = (struct kk_pack *)1;
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_pack_load(dir, &p, d, &err);
    if (rc != code && d)
        print_diags(d);
    assert_int_equal(rc, code);
    assert_null(p);
    if (want_err)
        assert_string_equal(kk_buf_str(&err), want_err);
    assert_null(strchr(kk_buf_str(&err), '\n'));
    kk_buf_release(&err);
}

/* Loads the pack whose topic has pages and quiz, returns the diagnostics' error count and
 * leaves them in d. */
static size_t load_topic_variant(const char *pages, const char *quiz, struct kk_diags *d,
                                 struct kk_pack **out)
{
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    write_topic(pack, pages, quiz);
    struct kk_pack *p = NULL;
    enum kk_err rc = kk_pack_load(pack, &p, d, NULL);
    assert_true((rc == KK_OK) == (d->errors == 0));
    if (out)
        *out = p;
    else
        kk_pack_destroy(p);
    kk_free(pack);
    rm_tree(root);
    return d->errors;
}

/* ---- tests ---- */

static void test_good_pack_loads(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *dir = make_pack(root, "quake");
    struct kk_pack *p = NULL;
    struct kk_diags d = {0};
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_pack_load(dir, &p, &d, &err), KK_OK);
    assert_string_equal(kk_buf_str(&err), "");
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.warnings, 1);
    expect_diag(&d, KK_SEV_WARNING, "topics/quake.json", "summary", "missing English");

    assert_string_equal(p->dir, dir);
    assert_string_equal(p->id, "earthquake-safety");
    assert_string_equal(p->version, "2026.11.1");
    assert_int_equal(p->format, 1);
    assert_string_equal(kk_text_get(&p->title, KK_LANG_ZH), "地震安全");
    assert_string_equal(kk_text_get(&p->title, KK_LANG_EN), "Earthquake safety");
    assert_int_equal(p->audiences, KK_AUD_BIT(KK_AUD_YOUTH) | KK_AUD_BIT(KK_AUD_ELDERLY));
    assert_int_equal(p->ntopics, 1);

    const struct kk_topic *t = &p->topics[0];
    assert_string_equal(t->id, "quake");
    assert_string_equal(t->file, "topics/quake.json");
    assert_string_equal(kk_text_get(&t->title, KK_LANG_EN), "When an earthquake comes");
    assert_null(t->summary.s[KK_LANG_EN]);
    assert_string_equal(kk_text_get(&t->summary, KK_LANG_EN), "伏地、遮挡、手抓牢");
    assert_int_equal(t->audiences, p->audiences); /* no "audiences": the pack's */
    assert_int_equal(t->cover->type, KK_IMG_SVG);
    assert_string_equal(t->cover->src, "images/cover.svg");
    char *cover = join(dir, "images/cover.svg");
    assert_string_equal(t->cover->path, cover);
    kk_free(cover);
    assert_int_equal(t->cover->w, 640);
    assert_int_equal(t->cover->h, 360);
    assert_int_equal(t->cover->bytes, strlen(good_svg));
    assert_int_equal(t->nreferences, 1);
    assert_string_equal(t->references[0], "中国地震局《防震减灾科普读本》");

    assert_int_equal(t->npages, 2);
    assert_string_equal(kk_text_get(&t->pages[1].title, KK_LANG_EN), "Page two");
    assert_int_equal(t->pages[0].nblocks, 3);
    const struct kk_block *b = t->pages[0].blocks;
    assert_int_equal(b[0].type, KK_BLOCK_TEXT);
    assert_string_equal(kk_text_get(&b[0].text, KK_LANG_ZH), "正文");
    assert_null(b[0].image);
    assert_int_equal(b[1].type, KK_BLOCK_IMAGE);
    assert_int_equal(b[1].image->type, KK_IMG_PNG);
    assert_int_equal(b[1].image->w, 800);
    assert_int_equal(b[1].image->h, 600);
    assert_int_equal(b[1].image->bytes, 45);
    assert_string_equal(kk_text_get(&b[1].caption, KK_LANG_EN), "Seismic waves");
    assert_int_equal(b[2].type, KK_BLOCK_FACT);
    assert_string_equal(kk_text_get(&b[2].text, KK_LANG_EN), "Fact");
    const struct kk_block *photo = &t->pages[1].blocks[0];
    assert_int_equal(photo->image->type, KK_IMG_JPEG);
    assert_int_equal(photo->image->w, 1024);
    assert_int_equal(photo->image->h, 768);
    assert_null(photo->caption.s[KK_LANG_ZH]);
    assert_string_equal(kk_text_get(&photo->caption, KK_LANG_EN), "");

    assert_int_equal(t->nquestions, 3);
    const struct kk_question *q = &t->questions[0];
    assert_string_equal(q->id, "q1");
    assert_int_equal(q->type, KK_Q_SINGLE);
    assert_int_equal(q->nchoices, 3);
    assert_string_equal(kk_text_get(&q->choices[1].text, KK_LANG_EN), "B");
    assert_null(q->choices[2].text.s[KK_LANG_ZH]);
    assert_int_equal(q->choices[2].image->w, 800);
    assert_int_equal(q->answer_mask, 1u << 1);
    assert_int_equal(q->difficulty, 1);
    assert_int_equal(q->audiences, t->audiences);
    assert_int_equal(q->page, 1);
    assert_null(q->image);
    assert_string_equal(kk_text_get(&q->explain, KK_LANG_EN), "Because");

    q = &t->questions[1];
    assert_int_equal(q->type, KK_Q_TRUEFALSE);
    assert_int_equal(q->nchoices, 2);
    assert_string_equal(q->choices[0].text.s[KK_LANG_ZH], "对");
    assert_string_equal(q->choices[0].text.s[KK_LANG_EN], "True");
    assert_string_equal(q->choices[1].text.s[KK_LANG_ZH], "错");
    assert_string_equal(q->choices[1].text.s[KK_LANG_EN], "False");
    assert_int_equal(q->answer_mask, 1u);
    assert_int_equal(q->difficulty, 3);
    assert_int_equal(q->audiences, KK_AUD_BIT(KK_AUD_ELDERLY));
    assert_int_equal(q->page, -1);
    assert_int_equal(q->image->type, KK_IMG_JPEG);

    q = &t->questions[2];
    assert_int_equal(q->type, KK_Q_MULTI);
    assert_int_equal(q->answer_mask, (1u << 0) | (1u << 2));

    kk_pack_destroy(p);
    kk_diags_release(&d);
    kk_buf_release(&err);
    kk_free(dir);
    rm_tree(root);
}

static void test_names_and_text_fallbacks(void **state)
{
    (void)state;
    assert_string_equal(kk_lang_name(KK_LANG_EN), "en");
    assert_int_equal(kk_lang_parse("zh"), KK_LANG_ZH);
    assert_int_equal(kk_lang_parse("fr"), -1);
    const char *names[] = {"youth", "farmers", "elderly", "workers", "officials", "other"};
    for (int a = 0; a < KK_AUD_COUNT; a++) {
        assert_string_equal(kk_audience_name((enum kk_audience)a), names[a]);
        assert_int_equal(kk_audience_parse(names[a]), a);
    }
    assert_int_equal(kk_audience_parse("kids"), -1);
    assert_string_equal(kk_text_get(NULL, KK_LANG_EN), "");
    struct kk_text t = {{"中文", NULL}};
    assert_string_equal(kk_text_get(&t, KK_LANG_EN), "中文");
    t.s[KK_LANG_EN] = "English";
    assert_string_equal(kk_text_get(&t, KK_LANG_EN), "English");
    assert_string_equal(kk_text_get(&t, KK_LANG_ZH), "中文");
}

static void test_null_and_empty_are_accepted(void **state)
{
    (void)state;
    struct kk_diags d = {0};
    struct kk_buf out = KK_BUF_INIT;
    kk_diags_format(&d, 0, &out);
    kk_diags_format(NULL, 0, &out);
    assert_string_equal(kk_buf_str(&out), "");
    kk_diags_release(&d);
    kk_diags_release(NULL);
    kk_pack_destroy(NULL);
    struct kk_library lib = {0};
    kk_library_release(&lib);
    kk_library_release(NULL);
    assert_null(kk_library_find_topic(&lib, "quake", NULL));
}

static void test_missing_pack_json(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    struct kk_diags d = {0};
    expect_load_fails(root, KK_ERR_NOTFOUND, &d, "pack.json: \"pack.json\" not found in the pack");
    assert_int_equal(d.n, 1);
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "", "\"pack.json\" not found in the pack");
    kk_diags_release(&d);
    char *gone = join(root, "no-such-folder");
    expect_load_fails(gone, KK_ERR_NOTFOUND, NULL,
                      "pack.json: \"pack.json\" not found in the pack");
    kk_free(gone);
    rm_tree(root);
}

static void test_malformed_json_names_position(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    write_json(root, "pack.json", "{'format':1,\n 'id':'x',\n  'title':,}");
    struct kk_diags d = {0};
    expect_load_fails(root, KK_ERR_PARSE, &d,
                      "pack.json: not valid JSON: error at line 3, column 11 (byte 34)");
    kk_diags_release(&d);
    /* Trailing garbage after the object is an error too. */
    write_json(root, "pack.json", "{}\n}");
    expect_load_fails(root, KK_ERR_PARSE, NULL,
                      "pack.json: not valid JSON: error at line 2, column 1 (byte 3)");
    write_file(root, "pack.json", "", 0);
    expect_load_fails(root, KK_ERR_PARSE, NULL, "pack.json: the file is empty");
    write_file(root, "pack.json", "{\"id\":\"a\0b\"}", 12);
    expect_load_fails(root, KK_ERR_PARSE, NULL,
                      "pack.json: a NUL byte at line 1, column 9 (byte 8)");
    write_json(root, "pack.json", "['not', 'an', 'object']");
    expect_load_fails(root, KK_ERR_INVALID, NULL,
                      "pack.json: must be a JSON object {…}, not an array");
    rm_tree(root);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    write_json(pack, "pack.json",
               "{'format':1,'id':'x','version':'1',\n'title':{'zh':'地\xc3\x28'}}");
    struct kk_diags d = {0};
    /* 地 is three bytes: line 2 starts at byte 36; the bad C3 is byte 54, its 17th character. */
    expect_load_fails(pack, KK_ERR_PARSE, &d,
                      "pack.json: not valid UTF-8 at line 2, column 17 (byte 54)");
    assert_int_equal(d.errors, 1);
    kk_diags_release(&d);
    /* In a topic file, and an overlong encoding of '/'. */
    write_json(pack, "pack.json", PACK_JSON);
    write_json(pack, "topics/quake.json", "{'id':'a\xc0\xaf'}");
    expect_load_fails(pack, KK_ERR_PARSE, NULL,
                      "topics/quake.json: not valid UTF-8 at line 1, column 9 (byte 8)");
    kk_free(pack);
    rm_tree(root);
}

static void test_wrong_types_are_all_reported(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    write_json(pack, "pack.json",
               "{'format':'1','id':'Quake Safety','version':'2026.x','title':5,"
               "'audiences':['youth','kids'],'topics':['topics/quake.json']}");
    write_json(pack, "topics/quake.json",
               "{'id':'quake','title':{'zh':'','en':3},'summary':{'en':'only English'},"
               "'cover':'images/cover.svg','pages':{'title':'x'},"
               "'quiz':{'questions':[{'id':'q1','type':'single','prompt':{'zh':'问'},"
               "'choices':[{'text':{'zh':'甲'}},{'text':{'zh':'乙'}},{'text':{'zh':'丙'}}],"
               "'answer':[5],'explain':{'zh':'因为'}}]}}");
    struct kk_diags d = {0};
    expect_load_fails(pack, KK_ERR_INVALID, &d,
                      "pack.json: format: must be the number 1 or 2, not a string");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "id",
                "\"Quake Safety\" is not a valid id: use 1 to 64 characters a-z, 0-9 and -");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "version",
                "\"2026.x\" is not a version: use numbers separated by dots, like 2026.11.1");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "title",
                "must be an object like {\"zh\": \"…\", \"en\": \"…\"}, not a number");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "audiences[1]",
                "unknown audience \"kids\" (use youth, farmers, elderly, workers, officials or "
                "other)");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "title.zh",
                "is empty (every text needs Chinese)");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "title.en",
                "must be a string, not a number");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "summary.zh",
                "missing (every text needs Chinese)");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages", "must be an array, not an object");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "quiz.questions[0].answer[0]",
                "choice 5 does not exist (the question has 3 choices)");
    expect_diag(&d, KK_SEV_WARNING, "topics/quake.json", "references",
                "no references: name the sources of the science in this topic");
    assert_int_equal(d.errors, 10);
    kk_diags_release(&d);
    /* Without diags the load still checks everything and names the first error. */
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "pack.json: format: must be the number 1 or 2, not a string");
    kk_free(pack);
    rm_tree(root);
}

static void test_pack_json_rules(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    struct kk_diags d = {0};
    write_json(pack, "pack.json",
               "{'format':3,'version':'1..2','title':{'zh':'题'},'audiences':[],"
               "'topics':['topics/quake.json','topics/quake.json']}");
    expect_load_fails(
        pack, KK_ERR_INVALID, &d,
        "pack.json: format: unsupported format 3 (this version reads formats 1 to 2)");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "id", "missing");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "version",
                "\"1..2\" is not a version: use numbers separated by dots, like 2026.11.1");
    expect_diag(&d, KK_SEV_WARNING, "pack.json", "title", "missing English");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "audiences", "needs at least one audience");
    expect_diag(&d, KK_SEV_ERROR, "pack.json", "topics[1]",
                "\"topics/quake.json\" is listed twice");
    kk_diags_release(&d);

    write_json(pack, "pack.json",
               "{'format':1,'id':'x','version':'1','title':{'zh':'题'},"
               "'audiences':['other'],'topics':[]}");
    expect_load_fails(pack, KK_ERR_INVALID, NULL, "pack.json: topics: needs at least one topic");

    /* Two topic files with the same id. */
    write_json(pack, "pack.json",
               "{'format':1,'id':'x','version':'1','title':{'zh':'题'},"
               "'audiences':['other'],'topics':['topics/quake.json',"
               "'topics/copy.json']}");
    char *src = join(pack, "topics/quake.json");
    char *dst = join(pack, "topics/copy.json");
    assert_int_equal(link(src, dst), 0);
    expect_load_fails(pack, KK_ERR_INVALID, &d,
                      "topics/copy.json: id: topic id \"quake\" is also used by "
                      "topics/quake.json");
    kk_diags_release(&d);
    kk_free(src);
    kk_free(dst);

    /* A text over the size limit. */
    char *big = kk_malloc(KK_MAX_TEXT_BYTES + 2);
    assert_non_null(big);
    memset(big, 'a', KK_MAX_TEXT_BYTES + 1);
    big[KK_MAX_TEXT_BYTES + 1] = '\0';
    write_json(pack, "pack.json",
               "{'format':1,'id':'x','version':'1','title':{'zh':'题','en':'%s'},"
               "'audiences':['other'],'topics':['topics/quake.json']}",
               big);
    kk_free(big);
    expect_load_fails(pack, KK_ERR_TOOBIG, NULL,
                      "pack.json: title.en: is 16385 bytes; the limit is 16384");
    kk_free(pack);
    rm_tree(root);
}

/* A block type this version does not know refuses the pack (DESIGN.md "Interactive blocks
 * and narration"): showing a page with a piece left out could mislead. */
static void test_unknown_block_type_is_refused(void **state)
{
    (void)state;
    struct kk_diags d = {0};
    struct kk_pack *p = NULL;
    load_topic_variant("[{'title':{'zh':'页','en':'Page'},'blocks':["
                       "{'type':'text','text':{'zh':'文','en':'Text'}},"
                       "{'type':'video','src':'v.mp4'}]},"
                       "{'title':{'zh':'页','en':'Page'},'blocks':[{'type':'holo\\ngram'}]}]",
                       NULL, &d, &p);
    assert_null(p);
    assert_int_equal(d.errors, 2);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks[1].type",
                "unknown block type \"video\" (use text, image, fact, hotspots, compare, "
                "sequence or steps)");
    /* The newline in the pack's text does not break the one-line message. */
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[1].blocks[0].type",
                "unknown block type \"holo?gram\" (use text, image, fact, hotspots, compare, "
                "sequence or steps)");
    kk_diags_release(&d);
}

static void test_topic_structure_rules(void **state)
{
    (void)state;
    struct kk_diags d = {0};
    load_topic_variant("[]", NULL, &d, NULL);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages", "needs at least one page");
    kk_diags_release(&d);

    load_topic_variant("[{'title':{'zh':'页'},'blocks':[]},{'blocks':[{'text':{'zh':'x'}}]},3,"
                       "{'title':{'zh':'页'},'blocks':[{'type':'text'},{'type':'image'}]}]",
                       "{'questions':[]}", &d, NULL);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks",
                "needs at least one block");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[1].title", "missing");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[1].blocks[0].type", "missing");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[2]",
                "must be an object, not a number");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[3].blocks[0].text", "missing");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[3].blocks[1].src", "missing");
    expect_diag(&d, KK_SEV_WARNING, "topics/quake.json", "quiz.questions",
                "the quiz has no questions");
    assert_int_equal(d.errors, 6);
    kk_diags_release(&d);

    /* Over the limit of blocks per page (16). */
    struct kk_buf pages = KK_BUF_INIT;
    kk_buf_adds(&pages, "[{'title':{'zh':'页','en':'P'},'blocks':[");
    for (int i = 0; i < 17; i++)
        kk_buf_addf(&pages, "%s{'type':'fact','text':{'zh':'事','en':'F'}}", i ? "," : "");
    assert_int_equal(kk_buf_adds(&pages, "]}]"), KK_OK);
    load_topic_variant(pages.data, NULL, &d, NULL);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks",
                "has 17 blocks; the limit is 16");
    assert_int_equal(d.errors, 1);
    kk_diags_release(&d);
    kk_buf_release(&pages);
}

static void test_missing_image(void **state)
{
    (void)state;
    struct kk_diags d = {0};
    load_topic_variant("[{'title':{'zh':'页','en':'P'},'blocks':["
                       "{'type':'image','src':'images/nope.png'},"
                       "{'type':'image','src':'nothere/x.svg'},"
                       "{'type':'image','src':'images/wave.gif'},"
                       "{'type':'image','src':'images/wave.png/x.png'}]}]",
                       NULL, &d, NULL);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks[0].src",
                "\"images/nope.png\" not found in the pack");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks[1].src",
                "\"nothere/x.svg\" not found in the pack");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks[2].src",
                "\"images/wave.gif\": images must be .png, .jpg, .jpeg or .svg files");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "pages[0].blocks[3].src",
                "\"images/wave.png/x.png\" not found in the pack (\"images/wave.png\" is not a "
                "folder)");
    assert_int_equal(d.errors, 4);
    kk_diags_release(&d);

    /* A missing cover is an error too, and a folder where a file should be. */
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    char *cover = join(pack, "images/cover.svg");
    assert_int_equal(unlink(cover), 0);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: cover: \"images/cover.svg\" not found in the pack");
    assert_int_equal(mkdir(cover, 0755), 0);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: cover: \"images/cover.svg\" is not a regular file");
    kk_free(cover);
    kk_free(pack);
    rm_tree(root);
}

static void test_bad_image_contents(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    unsigned char b[64];
    struct kk_diags d = {0};

    /* A JPEG named .png: the magic bytes do not match. */
    write_file(pack, "images/wave.png", b, jpeg_bytes(b, 10, 10));
    expect_load_fails(pack, KK_ERR_INVALID, &d,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": not a PNG "
                      "file (no PNG signature)");
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "quiz.questions[0].choices[2].image",
                "\"images/wave.png\": not a PNG file (no PNG signature)");
    kk_diags_release(&d);

    /* Corrupt PNG: first byte changed. */
    png_bytes(b, 10, 10);
    b[0] = 0x88;
    write_file(pack, "images/wave.png", b, 45);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": not a PNG "
                      "file (no PNG signature)");

    /* IHDR claims 100000 x 100000. */
    write_png(pack, "images/wave.png", 100000, 100000);
    expect_load_fails(pack, KK_ERR_TOOBIG, NULL,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": declares "
                      "100000x100000 pixels; the limit is 8192 pixels wide and 8192 high");
    /* Each side within the limit, but too many pixels together. */
    write_png(pack, "images/wave.png", 8000, 8000);
    expect_load_fails(pack, KK_ERR_TOOBIG, NULL,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": declares "
                      "8000x8000 pixels (64000000 in all); the limit is 16777216 pixels");
    write_png(pack, "images/wave.png", 0, 10);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": declares a "
                      "size of 0x10 pixels; width and height must be more than 0");
    /* Truncated header. */
    png_bytes(b, 10, 10);
    write_file(pack, "images/wave.png", b, 20);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\": truncated "
                      "PNG header");
    write_png(pack, "images/wave.png", 800, 600);

    /* A JPEG without frame header, and an SVG that is HTML. */
    static const unsigned char no_sof[] = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9};
    write_file(pack, "images/photo.jpg", no_sof, sizeof(no_sof));
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: pages[1].blocks[0].src: \"images/photo.jpg\": malformed "
                      "JPEG: no frame header (SOF) before the image data");
    write_file(pack, "images/photo.jpg", b, jpeg_bytes(b, 10, 10));
    write_json(pack, "images/cover.svg", "<html><svg width='1' height='1'/></html>");
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: cover: \"images/cover.svg\": not an SVG file (it must "
                      "start with an <svg> element)");
    write_json(pack, "images/cover.svg", "<svg xmlns='http://www.w3.org/2000/svg'></svg>");
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: cover: \"images/cover.svg\": the SVG has no usable size: "
                      "give the <svg> element width and height in px, or a viewBox");
    kk_free(pack);
    rm_tree(root);
}

static void test_large_raster_warns(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    write_png(pack, "images/wave.png", 4000, 100);
    struct kk_pack *p = NULL;
    struct kk_diags d = {0};
    assert_int_equal(kk_pack_load(pack, &p, &d, NULL), KK_OK);
    expect_diag(&d, KK_SEV_WARNING, "topics/quake.json", "pages[0].blocks[1].src",
                "\"images/wave.png\" is much larger than it is ever shown (4000x100 pixels, 45 "
                "bytes); scale it to at most 3840x4320 pixels and 2097152 bytes");
    assert_int_equal(d.warnings, 3); /* the same image as a choice, and the English summary */
    assert_int_equal(p->topics[0].pages[0].blocks[1].image->w, 4000);
    kk_pack_destroy(p);
    kk_diags_release(&d);
    kk_free(pack);
    rm_tree(root);
}

static void test_unsafe_paths(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "p");
    write_png(root, "outside.png", 10, 10);
    struct kk_diags d = {0};

    write_json(pack, "pack.json",
               "{'format':1,'id':'x','version':'1','title':{'zh':'题'},'audiences':['other'],"
               "'topics':['../outside.json','/etc/passwd','topics/./quake.json','topics\\\\q.json',"
               "'topics/quake.json']}");
    write_topic(
        pack,
        "[{'title':{'zh':'页'},'blocks':[{'type':'image','src':'images/../images/wave.png'},"
        "{'type':'image','src':'../outside.png'},{'type':'image','src':'/tmp/x.png'}]}]",
        NULL);
    expect_load_fails(pack, KK_ERR_INVALID, &d,
                      "pack.json: topics[0]: unsafe path \"../outside.json\": it must be relative "
                      "and inside the pack, without \"..\", \".\", empty parts or backslashes");
    const char *why = "\": it must be relative and inside the pack, without \"..\", \".\", empty "
                      "parts or backslashes";
    struct kk_buf m = KK_BUF_INIT;
    const char *expect[][2] = {
        {"topics[1]", "/etc/passwd"},
        {"topics[2]", "topics/./quake.json"},
        {"topics[3]", "topics\\q.json"},
    };
    for (size_t i = 0; i < 3; i++) {
        kk_buf_reset(&m);
        kk_buf_addf(&m, "unsafe path \"%s%s", expect[i][1], why);
        expect_diag(&d, KK_SEV_ERROR, "pack.json", expect[i][0], m.data);
    }
    const char *blocks[][2] = {
        {"pages[0].blocks[0].src", "images/../images/wave.png"},
        {"pages[0].blocks[1].src", "../outside.png"},
        {"pages[0].blocks[2].src", "/tmp/x.png"},
    };
    for (size_t i = 0; i < 3; i++) {
        kk_buf_reset(&m);
        kk_buf_addf(&m, "unsafe path \"%s%s", blocks[i][1], why);
        expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", blocks[i][0], m.data);
    }
    assert_int_equal(d.errors, 7);
    kk_diags_release(&d);
    kk_buf_release(&m);

    /* A symbolic link to a file, and a linked folder. */
    write_json(pack, "pack.json", PACK_JSON);
    write_topic(pack, GOOD_PAGES, GOOD_QUIZ);
    char *wave = join(pack, "images/wave.png");
    assert_int_equal(unlink(wave), 0);
    assert_int_equal(symlink("../../outside.png", wave), 0);
    expect_load_fails(pack, KK_ERR_INVALID, &d,
                      "topics/quake.json: pages[0].blocks[1].src: \"images/wave.png\" is a "
                      "symbolic link; packs may not contain links");
    kk_diags_release(&d);
    kk_free(wave);
    char *images = join(pack, "images");
    char *real = join(root, "real-images");
    assert_int_equal(rename(images, real), 0);
    assert_int_equal(symlink(real, images), 0);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "topics/quake.json: cover: \"images\" is a symbolic link; packs may not "
                      "contain links");
    /* A linked pack.json and topic file. */
    assert_int_equal(unlink(images), 0);
    assert_int_equal(rename(real, images), 0);
    write_png(pack, "images/wave.png", 10, 10);
    char *topic = join(pack, "topics/quake.json");
    char *moved = join(root, "quake.json");
    assert_int_equal(rename(topic, moved), 0);
    assert_int_equal(symlink(moved, topic), 0);
    expect_load_fails(pack, KK_ERR_INVALID, NULL,
                      "pack.json: topics[0]: \"topics/quake.json\" is a symbolic link; packs may "
                      "not contain links");
    kk_free(topic);
    kk_free(moved);
    kk_free(images);
    kk_free(real);
    kk_free(pack);
    rm_tree(root);
}

/* One quiz rule: a topic whose quiz holds question, expecting one problem. */
struct quiz_case {
    const char *question;
    enum kk_severity sev;
    const char *field;
    const char *message;
};

static void test_quiz_rules(void **state)
{
    (void)state;
#define PROMPT "'prompt':{'zh':'问','en':'Q'},'explain':{'zh':'因','en':'Why'}"
#define C2     "'choices':[{'text':{'zh':'甲','en':'A'}},{'text':{'zh':'乙','en':'B'}}]"
#define C3     "'choices':[{'text':{'zh':'甲'}},{'text':{'zh':'乙'}},{'text':{'zh':'丙'}}]"
    static const struct quiz_case cases[] = {
        {"{'id':'a','type':'single'," PROMPT ",'choices':[{'text':{'zh':'甲','en':'A'}}],"
         "'answer':[0]}",
         KK_SEV_ERROR, "quiz.questions[0].choices", "needs at least two choices, not 1"},
        {"{'id':'a','type':'single'," PROMPT ",'choices':[{'text':{'zh':'1','en':'1'}},"
         "{'text':{'zh':'2','en':'2'}},{'text':{'zh':'3','en':'3'}},{'text':{'zh':'4','en':'4'}},"
         "{'text':{'zh':'5','en':'5'}},{'text':{'zh':'6','en':'6'}},{'text':{'zh':'7','en':'7'}},"
         "{'text':{'zh':'8','en':'8'}},{'text':{'zh':'9','en':'9'}}],'answer':[0]}",
         KK_SEV_ERROR, "quiz.questions[0].choices", "has 9 choices; the limit is 8"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[2]}", KK_SEV_ERROR,
         "quiz.questions[0].answer[0]", "choice 2 does not exist (the question has 2 choices)"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[-1]}", KK_SEV_ERROR,
         "quiz.questions[0].answer[0]", "must be a choice index (0, 1, …), not that number"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':['0']}", KK_SEV_ERROR,
         "quiz.questions[0].answer[0]", "must be a choice index (0, 1, …), not a string"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':0}", KK_SEV_ERROR,
         "quiz.questions[0].answer", "must be an array, not a number"},
        {"{'id':'a','type':'multi'," PROMPT "," C3 ",'answer':[1,1]}", KK_SEV_ERROR,
         "quiz.questions[0].answer[1]", "choice 1 is listed twice"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0,1]}", KK_SEV_ERROR,
         "quiz.questions[0].answer", "a single question needs exactly one right answer, not 2"},
        {"{'id':'a','type':'truefalse'," PROMPT ",'answer':[]}", KK_SEV_ERROR,
         "quiz.questions[0].answer", "a truefalse question needs exactly one right answer, not 0"},
        {"{'id':'a','type':'truefalse'," PROMPT ",'answer':[2]}", KK_SEV_ERROR,
         "quiz.questions[0].answer[0]", "choice 2 does not exist (the question has 2 choices)"},
        {"{'id':'a','type':'truefalse'," PROMPT "," C3 ",'answer':[0]}", KK_SEV_ERROR,
         "quiz.questions[0].choices", "a truefalse question has exactly two choices, not 3"},
        {"{'id':'a','type':'multi'," PROMPT "," C3 ",'answer':[]}", KK_SEV_ERROR,
         "quiz.questions[0].answer", "a multi question needs at least one right answer"},
        {"{'id':'a','type':'single'," PROMPT "," C2 "}", KK_SEV_ERROR, "quiz.questions[0].answer",
         "missing"},
        {"{'id':'a','type':'single','prompt':{'zh':'问','en':'Q'}," C2 ",'answer':[0]}",
         KK_SEV_WARNING, "quiz.questions[0].explain",
         "no explanation: say why the answer is right, visitors learn from it"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0]},"
         "{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[1]}",
         KK_SEV_ERROR, "quiz.questions[1].id", "question id \"a\" is used twice in this topic"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'page':2}", KK_SEV_ERROR,
         "quiz.questions[0].page", "must be a whole number from 0 to 1"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'page':'1'}", KK_SEV_ERROR,
         "quiz.questions[0].page", "must be a whole number from 0 to 1, not a string"},
        {"{'id':'a','type':'single'," PROMPT ",'choices':[{'text':{'zh':'甲','en':'A'}},{}],"
         "'answer':[0]}",
         KK_SEV_ERROR, "quiz.questions[0].choices[1]", "a choice needs a text or an image"},
        {"{'id':'a','type':'single'," PROMPT ",'choices':[{'text':{'zh':'甲','en':'A'}},'B'],"
         "'answer':[0]}",
         KK_SEV_ERROR, "quiz.questions[0].choices[1]",
         "must be an object like {\"text\": {…}}, not a string"},
        {"{'id':'a','type':'single'," PROMPT ",'answer':[0]}", KK_SEV_ERROR,
         "quiz.questions[0].choices", "missing"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'difficulty':4}", KK_SEV_ERROR,
         "quiz.questions[0].difficulty", "must be a whole number from 1 to 3"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'difficulty':1.5}", KK_SEV_ERROR,
         "quiz.questions[0].difficulty", "must be a whole number from 1 to 3"},
        {"{'id':'a','type':'poll'," PROMPT "," C2 ",'answer':[0]}", KK_SEV_ERROR,
         "quiz.questions[0].type",
         "unknown question type \"poll\" (use single, multi, truefalse, hotspot or order)"},
        {"{'id':'Q 1','type':'single'," PROMPT "," C2 ",'answer':[0]}", KK_SEV_ERROR,
         "quiz.questions[0].id",
         "\"Q 1\" is not a valid id: use 1 to 64 characters a-z, 0-9 and -"},
        {"{'type':'single'," PROMPT "," C2 ",'answer':[0]}", KK_SEV_ERROR, "quiz.questions[0].id",
         "missing"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'audiences':['aliens']}",
         KK_SEV_ERROR, "quiz.questions[0].audiences[0]",
         "unknown audience \"aliens\" (use youth, farmers, elderly, workers, officials or other)"},
        {"{'id':'a','type':'single'," PROMPT "," C2 ",'answer':[0],'image':'images/none.png'}",
         KK_SEV_ERROR, "quiz.questions[0].image", "\"images/none.png\" not found in the pack"},
        {"{'id':'a','type':'single','explain':{'zh':'因','en':'Why'}," C2 ",'answer':[0]}",
         KK_SEV_ERROR, "quiz.questions[0].prompt", "missing"},
        {"7", KK_SEV_ERROR, "quiz.questions[0]", "must be an object, not a number"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kk_buf quiz = KK_BUF_INIT;
        assert_int_equal(kk_buf_addf(&quiz, "{'questions':[%s]}", cases[i].question), KK_OK);
        struct kk_diags d = {0};
        size_t errors = load_topic_variant(GOOD_PAGES, quiz.data, &d, NULL);
        expect_diag(&d, cases[i].sev, "topics/quake.json", cases[i].field, cases[i].message);
        /* Exactly this problem: one error, or no error for a warning. */
        assert_int_equal(errors, cases[i].sev == KK_SEV_ERROR ? 1 : 0);
        kk_diags_release(&d);
        kk_buf_release(&quiz);
    }
    struct kk_diags d = {0};
    load_topic_variant(GOOD_PAGES, "[]", &d, NULL);
    expect_diag(&d, KK_SEV_ERROR, "topics/quake.json", "quiz",
                "must be an object like {\"questions\": […]}, not an array");
    kk_diags_release(&d);
#undef PROMPT
#undef C2
#undef C3
}

static void test_library_empty_and_missing(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    struct kk_library lib = {0};
    struct kk_buf skipped = KK_BUF_INIT;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_library_load(&lib, root, &skipped, &err), KK_OK);
    assert_int_equal(lib.npacks, 0);
    assert_string_equal(kk_buf_str(&skipped), "");
    char *gone = join(root, "missing");
    assert_int_equal(kk_library_load(&lib, gone, &skipped, &err), KK_OK);
    assert_int_equal(lib.npacks, 0);
    assert_string_equal(kk_buf_str(&skipped), "");
    assert_string_equal(kk_buf_str(&err), "");
    /* A file where the folder should be cannot be read. */
    write_json(root, "file", "x");
    char *file = join(root, "file");
    assert_int_equal(kk_library_load(&lib, file, &skipped, &err), KK_ERR_IO);
    assert_non_null(strstr(kk_buf_str(&err), "/file: Not a directory"));
    kk_free(file);
    kk_library_release(&lib);
    kk_buf_release(&skipped);
    kk_buf_release(&err);
    kk_free(gone);
    rm_tree(root);
}

static void test_library_good_bad_and_duplicate(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    kk_free(make_pack(root, "c-dup"));
    char *bad = make_pack(root, "b-bad");
    write_json(bad, "pack.json",
               "{'format':1,'id':'bad','version':'1','title':5,'audiences':['other'],"
               "'topics':['topics/quake.json']}");
    kk_free(make_pack(root, "a-good"));
    char *other = make_pack(root, "d-other");
    write_json(other, "pack.json",
               "{'format':1,'id':'flood-safety','version':'1','title':{'zh':'防汛','en':'Floods'},"
               "'audiences':['farmers'],'topics':['topics/quake.json']}");
    write_json(other, "topics/quake.json",
               "{'id':'flood','title':{'zh':'洪水','en':'Flood'},'summary':{'zh':'s','en':'s'},"
               "'cover':'images/cover.svg','references':['水利部'],'pages':" GOOD_PAGES "}");
    write_json(root, "notes/readme.txt", "not a pack");
    write_json(root, "README", "not a folder");
    write_json(root, ".staging/pack.json", "{}");

    struct kk_library lib = {0};
    struct kk_buf skipped = KK_BUF_INIT;
    assert_int_equal(kk_library_load(&lib, root, &skipped, NULL), KK_OK);
    assert_int_equal(lib.npacks, 2);
    assert_string_equal(lib.packs[0]->id, "earthquake-safety");
    assert_non_null(strstr(lib.packs[0]->dir, "/a-good"));
    assert_string_equal(lib.packs[1]->id, "flood-safety");
    struct kk_buf want = KK_BUF_INIT;
    kk_buf_addf(&want,
                "%s/b-bad: pack.json: title: must be an object like {\"zh\": \"…\", \"en\": "
                "\"…\"}, not a number\n"
                "%s/c-dup: pack.json: id: pack \"earthquake-safety\" is already loaded from "
                "%s/a-good\n"
                "%s/notes: pack.json: \"pack.json\" not found in the pack\n",
                root, root, root, root);
    assert_string_equal(kk_buf_str(&skipped), kk_buf_str(&want));

    const struct kk_pack *p = NULL;
    const struct kk_topic *t = kk_library_find_topic(&lib, "flood", &p);
    assert_non_null(t);
    assert_string_equal(t->id, "flood");
    assert_ptr_equal(p, lib.packs[1]);
    t = kk_library_find_topic(&lib, "earthquake-safety/quake", &p);
    assert_ptr_equal(t, &lib.packs[0]->topics[0]);
    assert_ptr_equal(p, lib.packs[0]);
    assert_null(kk_library_find_topic(&lib, "flood-safety/quake", &p));
    assert_null(p);
    assert_null(kk_library_find_topic(&lib, "earthquake/quake", NULL));
    assert_null(kk_library_find_topic(&lib, "nothing", NULL));
    assert_ptr_equal(kk_library_find_topic(&lib, "quake", NULL), &lib.packs[0]->topics[0]);

    /* kk_library_add refuses a second pack with a loaded id (and frees it). */
    struct kk_pack *again = NULL;
    char *a_good = join(root, "a-good");
    assert_int_equal(kk_pack_load(a_good, &again, NULL, NULL), KK_OK);
    assert_int_equal(kk_library_add(&lib, again), KK_ERR_EXISTS);
    assert_int_equal(lib.npacks, 2);
    kk_free(a_good);

    kk_library_release(&lib);
    assert_int_equal(lib.npacks, 0);
    assert_null(lib.packs);
    kk_buf_release(&skipped);
    kk_buf_release(&want);
    kk_free(bad);
    kk_free(other);
    rm_tree(root);
}

static void test_limits_of_files_and_packs(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *first = make_pack(root, "p00");
    /* A topic file one byte over the JSON size limit (sparse: nothing is written). */
    char *topic = join(first, "topics/quake.json");
    assert_int_equal(truncate(topic, (off_t)KK_MAX_JSON_FILE_BYTES + 1), 0);
    struct kk_diags d = {0};
    expect_load_fails(first, KK_ERR_TOOBIG, &d,
                      "topics/quake.json: the file is larger than the limit of 4194304 bytes");
    assert_int_equal(d.errors, 1);
    kk_diags_release(&d);
    write_topic(first, GOOD_PAGES, GOOD_QUIZ);
    kk_free(topic);

    /* One pack more than the library holds: the last in name order is skipped. */
    for (int i = 1; i <= KK_MAX_PACKS; i++) {
        char name[16], id[16];
        snprintf(name, sizeof(name), "p%02d", i);
        snprintf(id, sizeof(id), "pack-%d", i);
        char *pack = make_pack(root, name);
        write_json(pack, "pack.json",
                   "{'format':1,'id':'%s','version':'1','title':{'zh':'题','en':'T'},"
                   "'audiences':['other'],'topics':['topics/quake.json']}",
                   id);
        kk_free(pack);
    }
    struct kk_library lib = {0};
    struct kk_buf skipped = KK_BUF_INIT;
    assert_int_equal(kk_library_load(&lib, root, &skipped, NULL), KK_OK);
    assert_int_equal(lib.npacks, KK_MAX_PACKS);
    assert_string_equal(lib.packs[KK_MAX_PACKS - 1]->id, "pack-63");
    struct kk_buf want = KK_BUF_INIT;
    kk_buf_addf(&want, "%s/p64: skipped: more than 64 packs\n", root);
    assert_string_equal(kk_buf_str(&skipped), kk_buf_str(&want));
    kk_library_release(&lib);
    kk_buf_release(&skipped);
    kk_buf_release(&want);
    kk_free(first);
    rm_tree(root);
}

/* Makes the n-th allocation of a good pack's load fail, for every n. */
static void test_allocation_failures(void **state)
{
    (void)state;
    char *root = make_tmpdir();
    char *pack = make_pack(root, "a");
    char *bad = make_pack(root, "b");
    write_json(bad, "pack.json", "{'format':1}");
    struct kk_pack *p = NULL;
    struct kk_diags d = {0};

    kk_alloc_fail_after(0);
    assert_int_equal(kk_pack_load(pack, &p, &d, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    print_message("loading the good pack makes %lu allocations\n", count);
    assert_true(count > 50);
    kk_pack_destroy(p);
    kk_diags_release(&d);
    for (unsigned long n = 1; n <= count; n++) {
        struct kk_buf err = KK_BUF_INIT;
        p = (struct kk_pack *)1;
        struct kk_diags *dp = n % 2 ? &d : NULL;
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_pack_load(pack, &p, dp, &err);
        kk_alloc_fail_after(0);
        if (rc != KK_ERR_NOMEM)
            print_message("allocation %lu of %lu: %s\n", n, count, kk_buf_str(&err));
        assert_int_equal(rc, KK_ERR_NOMEM);
        assert_null(p);
        kk_diags_release(&d);
        kk_buf_release(&err);
    }

    /* The library: one good and one bad pack. */
    struct kk_library lib = {0};
    struct kk_buf skipped = KK_BUF_INIT;
    kk_alloc_fail_after(0);
    assert_int_equal(kk_library_load(&lib, root, &skipped, NULL), KK_OK);
    count = kk_alloc_fail_after(0);
    assert_int_equal(lib.npacks, 1);
    assert_non_null(strstr(kk_buf_str(&skipped), "/b: pack.json: id: missing\n"));
    kk_library_release(&lib);
    kk_buf_release(&skipped);
    for (unsigned long n = 1; n <= count; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_library_load(&lib, root, &skipped, NULL);
        kk_alloc_fail_after(0);
        assert_int_equal(rc, KK_ERR_NOMEM);
        kk_library_release(&lib);
        kk_buf_release(&skipped);
    }
    kk_free(pack);
    kk_free(bad);
    rm_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_pack_loads),
        cmocka_unit_test(test_names_and_text_fallbacks),
        cmocka_unit_test(test_null_and_empty_are_accepted),
        cmocka_unit_test(test_missing_pack_json),
        cmocka_unit_test(test_malformed_json_names_position),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_wrong_types_are_all_reported),
        cmocka_unit_test(test_pack_json_rules),
        cmocka_unit_test(test_unknown_block_type_is_refused),
        cmocka_unit_test(test_topic_structure_rules),
        cmocka_unit_test(test_missing_image),
        cmocka_unit_test(test_bad_image_contents),
        cmocka_unit_test(test_large_raster_warns),
        cmocka_unit_test(test_unsafe_paths),
        cmocka_unit_test(test_quiz_rules),
        cmocka_unit_test(test_library_empty_and_missing),
        cmocka_unit_test(test_library_good_bad_and_duplicate),
        cmocka_unit_test(test_limits_of_files_and_packs),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
