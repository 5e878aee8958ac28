/* The sample content in content/ (issue 8): at least 4 packs and 12 topics, every one of
 * the five audience groups with at least 3 topics aimed at it, every topic with at least
 * 4 pages and 8 quiz questions with explanations, and everything complete in Chinese and
 * English. Loaded with the real parser, warnings included. Pack format 2 (issue 13): each
 * interactive block type (hotspots, compare, sequence, steps) and quiz type (hotspot,
 * order) appears at least twice, with every text it shows in both languages. */
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
#include "kepu/pack.h"

static int complete(const struct kk_text *t)
{
    return t->s[KK_LANG_ZH] && *t->s[KK_LANG_ZH] && t->s[KK_LANG_EN] && *t->s[KK_LANG_EN];
}

/* A caption is optional, but when present it is in both languages. */
static int caption_ok(const struct kk_text *t)
{
    return complete(t) || (!t->s[KK_LANG_ZH] && !t->s[KK_LANG_EN]);
}

/* Every text a block shows, in both languages: the text of TEXT and FACT, the caption of
 * pictures, each spot's label and text, each frame's label (and a sequence frame's text
 * when it has one), each step's title and text. */
static int block_complete(const struct kk_block *b)
{
    switch (b->type) {
    case KK_BLOCK_TEXT:
    case KK_BLOCK_FACT:
        return complete(&b->text);
    case KK_BLOCK_IMAGE:
        return caption_ok(&b->caption);
    case KK_BLOCK_HOTSPOTS:
        for (size_t i = 0; i < b->nspots; i++)
            if (!complete(&b->spots[i].label) || !complete(&b->spots[i].text))
                return 0;
        return b->nspots > 0 && caption_ok(&b->caption);
    case KK_BLOCK_COMPARE:
    case KK_BLOCK_SEQUENCE:
        for (size_t i = 0; i < b->nframes; i++)
            if (!complete(&b->frames[i].label) || !caption_ok(&b->frames[i].text))
                return 0;
        return b->nframes >= 2 && caption_ok(&b->caption);
    case KK_BLOCK_STEPS:
        for (size_t i = 0; i < b->nsteps; i++)
            if (!complete(&b->steps[i].title) || !complete(&b->steps[i].text))
                return 0;
        return b->nsteps >= 2;
    }
    return 0;
}

static const char *block_type_name(enum kk_block_type t)
{
    static const char *const names[] = {"text",    "image",    "fact", "hotspots",
                                        "compare", "sequence", "steps"};
    return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void test_every_pack_loads_without_warnings(void **state)
{
    (void)state;
    const char *src = getenv("KK_SOURCE_DIR");
    assert_non_null(src);
    char *dir = kk_path_join(src, "content");
    struct kk_library lib = {0};
    struct kk_buf skipped = KK_BUF_INIT;
    assert_int_equal(kk_library_load(&lib, dir, &skipped, NULL), KK_OK);
    if (skipped.len)
        fail_msg("packs skipped: %s", kk_buf_str(&skipped));
    for (size_t i = 0; i < lib.npacks; i++) {
        struct kk_diags d = {0};
        struct kk_pack *p = NULL;
        assert_int_equal(kk_pack_load(lib.packs[i]->dir, &p, &d, NULL), KK_OK);
        for (size_t k = 0; k < d.n; k++) {
            struct kk_buf line = KK_BUF_INIT;
            kk_diags_format(&d, k, &line);
            print_error("%s: %s\n", lib.packs[i]->id, kk_buf_str(&line));
            kk_buf_release(&line);
        }
        assert_int_equal(d.errors + d.warnings, 0);
        kk_diags_release(&d);
        kk_pack_destroy(p);
    }
    kk_buf_release(&skipped);
    kk_library_release(&lib);
    kk_free(dir);
}

static void test_counts_per_audience(void **state)
{
    (void)state;
    char *dir = kk_path_join(getenv("KK_SOURCE_DIR"), "content");
    struct kk_library lib = {0};
    assert_int_equal(kk_library_load(&lib, dir, NULL, NULL), KK_OK);
    size_t topics = 0, per_audience[KK_AUD_COUNT] = {0};
    size_t interactive[KK_BLOCK_STEPS + 1] = {0}, hotspot_q = 0, order_q = 0;
    for (size_t i = 0; i < lib.npacks; i++) {
        const struct kk_pack *p = lib.packs[i];
        assert_true(complete(&p->title));
        for (size_t t = 0; t < p->ntopics; t++) {
            const struct kk_topic *tp = &p->topics[t];
            topics++;
            for (int g = 0; g < KK_AUD_COUNT; g++)
                per_audience[g] += (tp->audiences & KK_AUD_BIT(g)) != 0;
            if (tp->npages < 4 || tp->nquestions < 8 || tp->nreferences < 1)
                fail_msg("%s/%s: %zu pages, %zu questions, %zu references (need 4, 8, 1)", p->id,
                         tp->id, tp->npages, tp->nquestions, tp->nreferences);
            assert_true(complete(&tp->title) && complete(&tp->summary));
            for (size_t pg = 0; pg < tp->npages; pg++) {
                assert_true(complete(&tp->pages[pg].title));
                for (size_t b = 0; b < tp->pages[pg].nblocks; b++) {
                    const struct kk_block *bl = &tp->pages[pg].blocks[b];
                    if (!block_complete(bl))
                        fail_msg("%s/%s: page %zu block %zu (%s): a text is missing in zh or en",
                                 p->id, tp->id, pg, b, block_type_name(bl->type));
                    interactive[bl->type]++;
                }
            }
            for (size_t q = 0; q < tp->nquestions; q++) {
                const struct kk_question *qq = &tp->questions[q];
                hotspot_q += qq->type == KK_Q_HOTSPOT;
                order_q += qq->type == KK_Q_ORDER;
                if (qq->type == KK_Q_HOTSPOT && (!qq->image || qq->nregions == 0))
                    fail_msg("%s/%s/%s: a hotspot question needs a picture and regions", p->id,
                             tp->id, qq->id);
                if (!complete(&qq->prompt) || !complete(&qq->explain))
                    fail_msg("%s/%s/%s: prompt and explanation must exist in zh and en", p->id,
                             tp->id, qq->id);
                for (size_t c = 0; c < qq->nchoices; c++)
                    assert_true(complete(&qq->choices[c].text) || qq->choices[c].image);
            }
        }
    }
    printf("content: %zu packs, %zu topics; per audience:", lib.npacks, topics);
    for (int g = 0; g < KK_AUD_COUNT; g++)
        printf(" %s %zu", kk_audience_name((enum kk_audience)g), per_audience[g]);
    printf("\n");
    /* Pack format 2 (issue 13): every interactive block type and quiz type is shown
     * at least twice in the sample content. */
    for (int t = KK_BLOCK_HOTSPOTS; t <= KK_BLOCK_STEPS; t++)
        if (interactive[t] < 2)
            fail_msg("only %zu %s blocks in the sample content (need 2)", interactive[t],
                     block_type_name((enum kk_block_type)t));
    if (hotspot_q < 2 || order_q < 2)
        fail_msg("%zu hotspot and %zu order questions in the sample content (need 2 each)",
                 hotspot_q, order_q);
    assert_true(lib.npacks >= 4);
    assert_true(topics >= 12);
    for (int g = 0; g < KK_AUD_OTHER; g++)
        if (per_audience[g] < 3)
            fail_msg("only %zu topics for %s (need 3)", per_audience[g],
                     kk_audience_name((enum kk_audience)g));
    kk_library_release(&lib);
    kk_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_pack_loads_without_warnings),
        cmocka_unit_test(test_counts_per_audience),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
