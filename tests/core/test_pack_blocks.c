/* Tests of src/core/pack_blocks.c: format 2's interactive blocks and quiz types, and the
 * quiz engine's grading of hotspot and order questions (src/core/quiz.c). Each fixture is
 * a format 2 pack written here; JSON uses ' for " (write_json swaps them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/pack.h"
#include "kepu/quiz.h"

static void write_file(const char *dir, const char *rel, const char *text)
{
    char *path = kk_path_join(dir, rel);
    assert_non_null(path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    assert_int_equal(kk_mkdirs(path, 0755, NULL), KK_OK);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (const char *s = text; *s; s++)
        fputc(*s == '\'' ? '"' : *s, f);
    assert_int_equal(fclose(f), 0);
    kk_free(path);
}

#define SVG       "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='200'></svg>"
#define T(zh, en) "{'zh':'" zh "','en':'" en "'}"

/* A format `format` pack whose one topic has the given pages and quiz questions. */
static char *make_pack(int format, const char *pages, const char *questions)
{
    char tmpl[] = "/tmp/kk-blocks-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *dir = kk_strdup(tmpl);
    struct kk_buf b = KK_BUF_INIT;
    kk_buf_addf(&b,
                "{'format':%d,'id':'p','version':'1','title':" T(
                    "包", "Pack") ",'audiences':['youth'],'topics':['topics/t.json']}",
                format);
    write_file(dir, "pack.json", kk_buf_str(&b));
    kk_buf_reset(&b);
    kk_buf_addf(
        &b,
        "{'id':'t','title':" T("题", "Topic") ",'summary':" T(
            "摘",
            "Sum") ",'cover':'images/a.svg','references':['r'],'pages':%s,'quiz':{'questions':%s}}",
        pages, questions ? questions : "[]");
    write_file(dir, "topics/t.json", kk_buf_str(&b));
    kk_buf_release(&b);
    write_file(dir, "images/a.svg", SVG);
    write_file(dir, "images/b.svg", SVG);
    return dir;
}

static void remove_pack(char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    kk_free(dir);
}

#define HOTSPOTS                                                                                   \
    "{'type':'hotspots','src':'images/a.svg','caption':" T(                                        \
        "眼",                                                                                      \
        "Eye") ",'spots':[{'id':'retina'"                                                          \
               ",'x':0.62,'y':0.48,'"                                                              \
               "label':" T("视网膜",                                                               \
                           "Re"                                                                    \
                           "ti"                                                                    \
                           "n"                                                                     \
                           "a") ",'text':" T("感光",                                               \
                                             "Senses light") ",'"                                  \
                                                             "imag"                                \
                                                             "e':'"                                \
                                                             "imag"                                \
                                                             "es/"                                 \
                                                             "b."                                  \
                                                             "svg'"                                \
                                                             "},"                                  \
                                                             "{'"                                  \
                                                             "id':"                                \
                                                             "'len"                                \
                                                             "s','"                                \
                                                             "x':"                                 \
                                                             "0,'"                                 \
                                                             "y':"                                 \
                                                             "1,'"                                 \
                                                             "labe"                                \
                                                             "l'"                                  \
                                                             ":" T("晶状体", "Lens") ",'text':" T( \
                                                                 "聚焦", "Focuses") "}]}"
#define COMPARE                                                                                    \
    "{'type':'compare','caption':" T(                                                              \
        "前后", "Before and after") ",'before':{'src':'images/a.svg',"                             \
                                    "'label':" T("前", "Before") "},'after':{'src':'images/"       \
                                                                 "b.svg','label':" T("后",         \
                                                                                     "After") "}}"
#define FRAME(i) "{'src':'images/a.svg','label':" T("帧" i, "Frame " i) "}"
#define SEQUENCE                                                                                   \
    "{'type':'sequence','caption':" T("过程", "Process") ",'frames':[" FRAME(                      \
        "1") ","                                                                                   \
             "{'src':'images/b.svg','label':" T("帧2", "Frame 2") ",'text':" T("说明",             \
                                                                               "Note") "}]}"
#define STEP(i) "{'title':" T("步" i, "Step " i) ",'text':" T("做", "Do") "}"
#define STEPS                                                                                      \
    "{'type':'steps','steps':[" STEP("1") ",{'title':" T("步2", "Step 2") ",'text':" T(            \
        "做", "Do") ",'image':'images/b.svg'}]}"
#define PAGE(blocks) "[{'title':" T("页", "Page") ",'blocks':[" blocks "]}]"
#define HOTSPOT_Q                                                                                  \
    "{'id':'h','type':'hotspot','prompt':" T(                                                      \
        "点",                                                                                      \
        "Tap") ",'image':'images/a.svg',"                                                          \
               "'regions':[{'x':0.25,'y':0.5,'r':0.1},{'x':0.75,'y':0.5,'r':0.2}],'answer':[1],"   \
               "'explain':" T("因", "Because") "}"
#define ORDER_Q                                                                                    \
    "{'id':'o','type':'order','prompt':" T("排", "Order") ",'choices':[{'text':" T(                \
        "甲", "A") "},{'text':" T("乙",                                                            \
                                  "B") "},{'text':" T("丙",                                        \
                                                      "C") "},{'text':" T("丁",                    \
                                                                          "D") "}],"               \
                                                                               "'answer':[2,0,1,"  \
                                                                               "3],'explain':" T(  \
                                                                                   "因",           \
                                                                                   "Because") "}"

static void test_every_new_type_loads(void **state)
{
    (void)state;
    char *dir = make_pack(2, PAGE(HOTSPOTS "," COMPARE "," SEQUENCE "," STEPS),
                          "[" HOTSPOT_Q "," ORDER_Q "]");
    struct kk_pack *p = NULL;
    struct kk_diags d = {0};
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_pack_load(dir, &p, &d, &err), KK_OK);
    assert_int_equal(d.errors, 0);
    assert_int_equal(p->format, 2);
    const struct kk_page *pg = &p->topics[0].pages[0];
    assert_int_equal(pg->nblocks, 4);

    const struct kk_block *h = &pg->blocks[0];
    assert_int_equal(h->type, KK_BLOCK_HOTSPOTS);
    assert_string_equal(h->image->src, "images/a.svg");
    assert_int_equal(h->image->w, 400);
    assert_string_equal(kk_text_get(&h->caption, KK_LANG_EN), "Eye");
    assert_int_equal(h->nspots, 2);
    assert_string_equal(h->spots[0].id, "retina");
    assert_true(h->spots[0].x == 0.62 && h->spots[0].y == 0.48);
    assert_string_equal(kk_text_get(&h->spots[0].label, KK_LANG_ZH), "视网膜");
    assert_string_equal(kk_text_get(&h->spots[0].text, KK_LANG_EN), "Senses light");
    assert_string_equal(h->spots[0].image->src, "images/b.svg");
    assert_string_equal(h->spots[1].id, "lens");
    assert_true(h->spots[1].x == 0 && h->spots[1].y == 1);
    assert_null(h->spots[1].image);

    const struct kk_block *c = &pg->blocks[1];
    assert_int_equal(c->type, KK_BLOCK_COMPARE);
    assert_int_equal(c->nframes, 2);
    assert_string_equal(c->frames[0].image->src, "images/a.svg");
    assert_string_equal(kk_text_get(&c->frames[0].label, KK_LANG_EN), "Before");
    assert_string_equal(c->frames[1].image->src, "images/b.svg");
    assert_string_equal(kk_text_get(&c->frames[1].label, KK_LANG_ZH), "后");

    const struct kk_block *s = &pg->blocks[2];
    assert_int_equal(s->type, KK_BLOCK_SEQUENCE);
    assert_string_equal(kk_text_get(&s->caption, KK_LANG_EN), "Process");
    assert_int_equal(s->nframes, 2);
    assert_null(s->frames[0].text.s[KK_LANG_ZH]);
    assert_string_equal(kk_text_get(&s->frames[1].text, KK_LANG_EN), "Note");

    const struct kk_block *st = &pg->blocks[3];
    assert_int_equal(st->type, KK_BLOCK_STEPS);
    assert_int_equal(st->nsteps, 2);
    assert_string_equal(kk_text_get(&st->steps[0].title, KK_LANG_EN), "Step 1");
    assert_null(st->steps[0].image);
    assert_string_equal(st->steps[1].image->src, "images/b.svg");

    const struct kk_topic *t = &p->topics[0];
    assert_int_equal(t->nquestions, 2);
    const struct kk_question *hq = &t->questions[0];
    assert_int_equal(hq->type, KK_Q_HOTSPOT);
    assert_string_equal(kk_question_type_name(hq->type), "hotspot");
    assert_string_equal(hq->image->src, "images/a.svg");
    assert_int_equal(hq->nregions, 2);
    assert_true(hq->regions[1].x == 0.75 && hq->regions[1].y == 0.5 && hq->regions[1].r == 0.2);
    assert_int_equal(hq->answer_mask, 1u << 1);
    const struct kk_question *oq = &t->questions[1];
    assert_int_equal(oq->type, KK_Q_ORDER);
    assert_string_equal(kk_question_type_name(oq->type), "order");
    assert_int_equal(oq->nchoices, 4);
    assert_string_equal(kk_text_get(&oq->choices[2].text, KK_LANG_EN), "C");
    static const unsigned char want[4] = {2, 0, 1, 3};
    assert_memory_equal(oq->order, want, 4);

    kk_pack_destroy(p);
    kk_diags_release(&d);
    kk_buf_release(&err);
    remove_pack(dir);
}

/* Loads a pack expecting it to fail with exactly the one line want. */
static void expect_refused(int format, const char *pages, const char *questions, const char *want)
{
    char *dir = make_pack(format, pages, questions);
    struct kk_pack *p = (struct kk_pack *)1;
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_pack_load(dir, &p, NULL, &err);
    if (rc == KK_OK || strcmp(kk_buf_str(&err), want) != 0)
        print_message("want: %s\ngot:  %s\n", want, kk_buf_str(&err));
    assert_int_not_equal(rc, KK_OK);
    assert_null(p);
    assert_string_equal(kk_buf_str(&err), want);
    kk_buf_release(&err);
    remove_pack(dir);
}

#define QUIZ_AT  "topics/t.json: quiz.questions[0]."
#define BLOCK_AT "topics/t.json: pages[0].blocks[0]."

static void test_format_1_may_not_use_them(void **state)
{
    (void)state;
    expect_refused(1, PAGE(COMPARE), NULL,
                   BLOCK_AT "type: block type \"compare\" needs \"format\": 2 in pack.json");
    expect_refused(1, PAGE(STEPS), NULL,
                   BLOCK_AT "type: block type \"steps\" needs \"format\": 2 in pack.json");
    expect_refused(1, PAGE("{'type':'text','text':" T("文", "T") "}"), "[" ORDER_Q "]",
                   QUIZ_AT "type: question type \"order\" needs \"format\": 2 in pack.json");
    expect_refused(3, PAGE(STEPS), NULL,
                   "pack.json: format: unsupported format 3 (this version reads formats 1 to 2)");
}

static void test_unknown_types_are_refused(void **state)
{
    (void)state;
    expect_refused(2, PAGE("{'type':'hologram'}"), NULL,
                   BLOCK_AT "type: unknown block type \"hologram\" (use text, image, fact, "
                            "hotspots, compare, sequence or steps)");
    expect_refused(2, PAGE(STEPS), "[{'id':'x','type':'slider','prompt':" T("点", "Tap") "}]",
                   QUIZ_AT "type: unknown question type \"slider\" (use single, multi, "
                           "truefalse, hotspot or order)");
}

static void test_bad_blocks(void **state)
{
    (void)state;
    expect_refused(2,
                   PAGE("{'type':'hotspots','src':'images/a.svg','spots':[{'id':'a','x':1.5,'y':0,"
                        "'label':" T("甲", "A") ",'text':" T("甲", "A") "}]}"),
                   NULL, BLOCK_AT "spots[0].x: 1.5 is outside 0 to 1 (a fraction of the picture)");
    expect_refused(2,
                   PAGE("{'type':'hotspots','src':'images/a.svg','spots':[{'id':'a','x':0,'y':0,"
                        "'label':" T("甲", "A") ",'text':" T(
                            "甲", "A") "},{'id':'a','x':1,'y':1,"
                                       "'label':" T("乙", "B") ",'text':" T("乙", "B") "}]}"),
                   NULL, BLOCK_AT "spots[1].id: spot id \"a\" is used twice in this block");
    expect_refused(2, PAGE("{'type':'sequence','frames':[" FRAME("1") "]}"), NULL,
                   BLOCK_AT "frames: has 1 frames; it needs 2 to 12");
    expect_refused(
        2,
        PAGE("{'type':'sequence','frames':[" FRAME("1") "," FRAME("2") "," FRAME("3") "," FRAME("4") "," FRAME("5") "," FRAME(
            "6") "," FRAME("7") "," FRAME("8") "," FRAME("9") "," FRAME("10") "," FRAME("11") "," FRAME("12") "," FRAME("13") "]}"),
        NULL, BLOCK_AT "frames: has 13 frames; it needs 2 to 12");
    expect_refused(
        2,
        PAGE("{'type':'steps','steps':[" STEP("1") "," STEP("2") "," STEP("3") "," STEP("4") "," STEP(
            "5") "," STEP("6") "," STEP("7") "," STEP("8") "," STEP("9") "," STEP("10") "," STEP("1"
                                                                                                 "1") "]}"),
        NULL, BLOCK_AT "steps: has 11 steps; it needs 2 to 10");
    expect_refused(2,
                   PAGE("{'type':'compare','before':{'src':'images/a.svg','label':" T(
                       "前", "B") "},'after':{'src':'images/gone.svg','label':" T("后", "A") "}}"),
                   NULL, BLOCK_AT "after.src: \"images/gone.svg\" not found in the pack");
    expect_refused(2,
                   PAGE("{'type':'steps','steps':[{'title':{'en':'One'},'text':" T(
                       "做", "Do") "}," STEP("2") "]}"),
                   NULL, BLOCK_AT "steps[0].title.zh: missing (every text needs Chinese)");
}

static void test_bad_questions(void **state)
{
    (void)state;
    const char *page = PAGE(STEPS);
    expect_refused(
        2, page,
        "[{'id':'o','type':'order','prompt':" T("排", "O") ",'choices':[{'text':" T(
            "甲", "A") "},{'text':" T("乙", "B") "},{'text':" T("丙", "C") "}],"
                                                                           "'answer':[2,0]}]",
        QUIZ_AT "answer: must list every choice once in the right order (a "
                "permutation of 0 to 2), not 2 of the 3");
    expect_refused(2, page,
                   "[{'id':'o','type':'order','prompt':" T("排", "O") ",'choices':[{'text':" T(
                       "甲", "A") "},{'text':" T("乙", "B") "}],'answer':[1,1]}]",
                   QUIZ_AT "answer[1]: choice 1 is listed twice");
    expect_refused(2, page,
                   "[{'id':'h','type':'hotspot','prompt':" T(
                       "点", "T") ",'image':'images/a.svg',"
                                  "'regions':[{'x':0.5,'y':0.5,'r':0}],'answer':[0]}]",
                   QUIZ_AT "regions[0].r: 0 is outside 0 (excluded) to 1 (a fraction of the "
                           "picture)");
    expect_refused(2, page,
                   "[{'id':'h','type':'hotspot','prompt':" T(
                       "点", "T") ",'image':'images/a.svg',"
                                  "'regions':[{'x':0.5,'y':0.5,'r':1.5}],'answer':[0]}]",
                   QUIZ_AT "regions[0].r: 1.5 is outside 0 (excluded) to 1 (a fraction of the "
                           "picture)");
    expect_refused(
        2, page,
        "[{'id':'h','type':'hotspot','prompt':" T("点", "T") ",'regions':[{'x':0.5,"
                                                             "'y':0.5,'r':0.5}],'answer':[0]}]",
        QUIZ_AT "image: missing");
    expect_refused(2, page,
                   "[{'id':'h','type':'hotspot','prompt':" T(
                       "点", "T") ",'image':'images/a.svg',"
                                  "'regions':[{'x':0.5,'y':0.5,'r':0.5}],'answer':[1]}]",
                   QUIZ_AT "answer[0]: must be a region index from 0 to 0");
}

static void test_grading_and_rounds(void **state)
{
    (void)state;
    char *dir = make_pack(
        2, PAGE(STEPS),
        "[" HOTSPOT_Q "," ORDER_Q
        ",{'id':'s','type':'single','prompt':" T("问", "Q") ",'choices':[{'text':" T(
            "甲", "A") "},{'text':" T("乙", "B") "}],'answer':[0],'explain':" T("因", "B") "}]");
    struct kk_pack *p = NULL;
    assert_int_equal(kk_pack_load(dir, &p, NULL, NULL), KK_OK);
    const struct kk_topic *t = &p->topics[0];
    const struct kk_question *h = &t->questions[0], *o = &t->questions[1];
    /* The picture is 400x200: region 1 at (0.75, 0.5), r 0.2 of the width = 80 px, which is
     * 0.4 of the height. */
    assert_true(kk_quiz_hotspot_right(h, 0.75, 0.5));
    assert_true(kk_quiz_hotspot_right(h, 0.94, 0.5));
    assert_false(kk_quiz_hotspot_right(h, 0.96, 0.5));
    assert_true(kk_quiz_hotspot_right(h, 0.75, 0.89));
    assert_false(kk_quiz_hotspot_right(h, 0.75, 0.95));
    assert_false(kk_quiz_hotspot_right(h, 0.25, 0.5)); /* region 0 is not the answer */
    assert_false(kk_quiz_hotspot_right(h, -0.1, 0.5));
    assert_false(kk_quiz_hotspot_right(o, 0.75, 0.5));
    static const unsigned char right[4] = {2, 0, 1, 3}, wrong[4] = {0, 2, 1, 3};
    assert_true(kk_quiz_order_right(o, right, 4));
    assert_false(kk_quiz_order_right(o, wrong, 4));
    assert_false(kk_quiz_order_right(o, right, 3));
    assert_false(kk_quiz_order_right(h, right, 4));

    /* A round asks all three; each is answered its own way (issue 13). */
    assert_int_equal(kk_quiz_askable_count(t), 3);
    struct kk_quiz q = KK_QUIZ_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 7);
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_quiz_start(&q, t, -1, 5, &rng, &err), KK_OK);
    assert_int_equal(kk_quiz_total(&q), 3);
    int seen_h = 0, seen_o = 0;
    for (int round = 0; round < 2; round++) {
        if (round) {
            assert_int_equal(kk_quiz_start(&q, t, -1, 5, &rng, &err), KK_OK);
        }
        while (!kk_quiz_done(&q)) {
            const struct kk_quiz_record *r = kk_quiz_current(&q), *out = NULL;
            const struct kk_question *qu = r->question;
            int good = round == 0;
            if (qu->type == KK_Q_HOTSPOT) {
                seen_h++;
                assert_int_equal(r->right_shown, 2u); /* region 1 */
                assert_int_equal(kk_quiz_answer(&q, 1, 10, NULL, &err), KK_ERR_INVALID);
                kk_buf_reset(&err);
                assert_int_equal(kk_quiz_answer_point(&q, 1.5, 0.5, 10, NULL, &err),
                                 KK_ERR_INVALID);
                kk_buf_reset(&err);
                /* wrong: inside region 0, which is not the answer */
                assert_int_equal(kk_quiz_answer_point(&q, good ? 0.8 : 0.25, 0.5, 10, &out, &err),
                                 KK_OK);
                assert_int_equal(out->correct, good);
                assert_int_equal(out->chosen_shown, good ? 2u : 1u);
                assert_true(out->tap_x == (good ? 0.8 : 0.25) && out->tap_y == 0.5);
                assert_int_equal(kk_quiz_answer_point(&q, 0.8, 0.5, 10, NULL, &err),
                                 KK_ERR_INVALID); /* once */
                kk_buf_reset(&err);
                cJSON *f = kk_quiz_answer_fields(&q, kk_quiz_index(&q));
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "choice");
                assert_int_equal(cJSON_GetArraySize(c), 1);
                assert_int_equal(cJSON_GetArrayItem(c, 0)->valueint, good ? 1 : 0);
                cJSON_Delete(f);
            } else if (qu->type == KK_Q_ORDER) {
                seen_o++;
                unsigned char seq[4];
                for (size_t k = 0; k < 4; k++) /* the right order in shown positions */
                    seq[k] = r->right_order[k];
                for (size_t k = 0; k < 4; k++)
                    assert_int_equal(r->shown_to_original[seq[k]], qu->order[k]);
                if (!good) { /* the first two swapped */
                    unsigned char tmp = seq[0];
                    seq[0] = seq[1];
                    seq[1] = tmp;
                }
                unsigned char twice[4] = {seq[0], seq[0], seq[1], seq[2]};
                assert_int_equal(kk_quiz_answer_order(&q, twice, 4, 10, NULL, &err),
                                 KK_ERR_INVALID);
                kk_buf_reset(&err);
                assert_int_equal(kk_quiz_answer_order(&q, seq, 3, 10, NULL, &err), KK_ERR_INVALID);
                kk_buf_reset(&err);
                assert_int_equal(kk_quiz_answer_point(&q, 0.5, 0.5, 10, NULL, &err),
                                 KK_ERR_INVALID);
                kk_buf_reset(&err);
                assert_int_equal(kk_quiz_answer_order(&q, seq, 4, 10, &out, &err), KK_OK);
                assert_int_equal(out->correct, good);
                assert_memory_equal(out->tapped, seq, 4);
                cJSON *f = kk_quiz_answer_fields(&q, kk_quiz_index(&q));
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "choice");
                assert_int_equal(cJSON_GetArraySize(c), 4);
                for (int k = 0; k < 4; k++) /* original indexes, in the tapped order */
                    assert_int_equal(cJSON_GetArrayItem(c, k)->valueint,
                                     r->shown_to_original[seq[k]]);
                cJSON_Delete(f);
            } else {
                unsigned mask = good ? r->right_shown : (~r->right_shown & 3u);
                assert_int_equal(kk_quiz_answer(&q, mask, 10, NULL, &err), KK_OK);
            }
            assert_int_equal(kk_quiz_next(&q, &err), KK_OK);
        }
        assert_int_equal(kk_quiz_score(&q), round ? 0 : 3);
        assert_int_equal(kk_quiz_nmissed(&q), round ? 3 : 0);
    }
    assert_int_equal(seen_h, 2);
    assert_int_equal(seen_o, 2);
    kk_quiz_release(&q);
    kk_buf_release(&err);
    kk_pack_destroy(p);
    remove_pack(dir);
}

/* Makes the n-th allocation of the format 2 pack's load fail, for every n: out of memory
 * every time, never a crash or a leak (the ASan build checks the leaks). */
static void test_allocation_failures(void **state)
{
    (void)state;
    char *dir = make_pack(2, PAGE(HOTSPOTS "," COMPARE "," SEQUENCE "," STEPS),
                          "[" HOTSPOT_Q "," ORDER_Q "]");
    struct kk_pack *p = NULL;
    kk_alloc_fail_after(0);
    assert_int_equal(kk_pack_load(dir, &p, NULL, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    kk_pack_destroy(p);
    assert_true(count > 50);
    for (unsigned long n = 1; n <= count; n++) {
        struct kk_diags d = {0};
        p = (struct kk_pack *)1;
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_pack_load(dir, &p, n % 2 ? &d : NULL, NULL);
        kk_alloc_fail_after(0);
        if (rc != KK_ERR_NOMEM)
            print_message("allocation %lu of %lu: %d\n", n, count, (int)rc);
        assert_int_equal(rc, KK_ERR_NOMEM);
        assert_null(p);
        kk_diags_release(&d);
    }
    remove_pack(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_new_type_loads),
        cmocka_unit_test(test_format_1_may_not_use_them),
        cmocka_unit_test(test_unknown_types_are_refused),
        cmocka_unit_test(test_bad_blocks),
        cmocka_unit_test(test_bad_questions),
        cmocka_unit_test(test_grading_and_rounds),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
