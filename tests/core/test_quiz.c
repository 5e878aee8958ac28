#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"
#include "kepu/quiz.h"

/* ---- Building topics in memory ---- */

#define MAXQ 32

struct fixture {
    struct kk_topic topic;
    struct kk_question q[MAXQ];
    struct kk_choice c[MAXQ][KK_MAX_CHOICES];
    char ids[MAXQ][24];
    char texts[MAXQ][KK_MAX_CHOICES][48];
    char topic_id[16];
    char topic_file[32];
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->topic_id, sizeof(f->topic_id), "quake");
    snprintf(f->topic_file, sizeof(f->topic_file), "topics/quake.json");
    f->topic.id = f->topic_id;
    f->topic.file = f->topic_file;
    f->topic.audiences = KK_AUD_ALL;
    f->topic.questions = f->q;
}

/* Appends a question; returns its index in the topic. */
static size_t add_q(struct fixture *f, enum kk_question_type type, size_t nchoices, unsigned answer,
                    int difficulty, unsigned audiences, int page)
{
    size_t i = f->topic.nquestions++;
    assert_true(i < MAXQ);
    struct kk_question *q = &f->q[i];
    snprintf(f->ids[i], sizeof(f->ids[i]), "q%zu", i + 1);
    q->id = f->ids[i];
    q->type = type;
    q->choices = f->c[i];
    q->nchoices = nchoices;
    for (size_t c = 0; c < nchoices; c++) {
        snprintf(f->texts[i][c], sizeof(f->texts[i][c]), "q%zu choice %zu", i + 1, c);
        f->c[i][c].text.s[KK_LANG_ZH] = f->texts[i][c];
    }
    q->answer_mask = answer;
    q->difficulty = difficulty;
    q->audiences = audiences;
    q->page = page;
    return i;
}

static size_t add_single(struct fixture *f, int difficulty, unsigned audiences)
{
    return add_q(f, KK_Q_SINGLE, 4, 1u << 2, difficulty, audiences, -1);
}

/* The shown mask that holds exactly the choices of the original mask, for the question on
 * screen. */
static unsigned shown_for(const struct kk_quiz *quiz, unsigned original)
{
    const struct kk_quiz_record *r = kk_quiz_current(quiz);
    assert_non_null(r);
    unsigned shown = 0;
    for (size_t s = 0; s < r->question->nchoices; s++)
        if (original & (1u << r->shown_to_original[s]))
            shown |= 1u << s;
    return shown;
}

static int is_permutation(const struct kk_quiz_record *r)
{
    unsigned seen = 0;
    for (size_t s = 0; s < r->question->nchoices; s++)
        seen |= 1u << r->shown_to_original[s];
    return seen == (1u << r->question->nchoices) - 1;
}

static struct fixture fx; /* large: keep it off the stack */

/* ---- Random source ---- */

static void test_rng_matches_pcg32_reference(void **state)
{
    (void)state;
    /* pcg32-demo from pcg_basic: pcg32_srandom_r(&rng, 42u, 54u) gives these. */
    static const uint32_t want[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                    0x83d2f293, 0xbfa4784b, 0xcbed606e};
    struct kk_rng rng;
    rng.state = 0;
    rng.inc = (54u << 1) | 1u;
    kk_rng_next(&rng);
    rng.state += 42u;
    kk_rng_next(&rng);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(kk_rng_next(&rng), want[i]);
}

static void test_rng_seed_reproducible(void **state)
{
    (void)state;
    struct kk_rng a, b, c;
    kk_rng_seed(&a, 1234);
    kk_rng_seed(&b, 1234);
    kk_rng_seed(&c, 1235);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = kk_rng_next(&a);
        assert_int_equal(x, kk_rng_next(&b));
        differ += x != kk_rng_next(&c);
    }
    assert_true(differ > 90);
}

static void test_rng_below_range_and_uniform(void **state)
{
    (void)state;
    struct kk_rng rng;
    kk_rng_seed(&rng, 7);
    assert_int_equal(kk_rng_below(&rng, 0), 0);
    assert_int_equal(kk_rng_below(&rng, 1), 0);

    enum { BINS = 6, DRAWS = 60000 };
    unsigned counts[BINS] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint32_t v = kk_rng_below(&rng, BINS);
        assert_true(v < BINS);
        counts[v]++;
    }
    for (int b = 0; b < BINS; b++) {
        assert_true(counts[b] > DRAWS / BINS * 95 / 100);
        assert_true(counts[b] < DRAWS / BINS * 105 / 100);
    }

    /* With bound 3 * 2^30, plain r % bound would give [0, 2^30) half the time instead of a
     * third: the rejection must remove that bias. */
    uint32_t big = 0xc0000000u;
    int low = 0;
    for (int i = 0; i < 3000; i++) {
        uint32_t v = kk_rng_below(&rng, big);
        assert_true(v < big);
        low += v < 0x40000000u;
    }
    assert_true(low > 850 && low < 1150);
}

/* ---- Selection ---- */

static void test_selection_prefers_audience(void **state)
{
    (void)state;
    fixture_init(&fx);
    unsigned youth = KK_AUD_BIT(KK_AUD_YOUTH);
    unsigned elderly = KK_AUD_BIT(KK_AUD_ELDERLY) | KK_AUD_BIT(KK_AUD_FARMERS);
    for (int i = 0; i < 5; i++) {
        add_single(&fx, 1 + i % 3, youth);
        add_single(&fx, 1 + i % 3, elderly);
    }
    struct kk_quiz quiz = KK_QUIZ_INIT;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct kk_rng rng;
        kk_rng_seed(&rng, seed);
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 5, &rng, NULL), KK_OK);
        assert_int_equal(kk_quiz_total(&quiz), 5);
        for (size_t i = 0; i < 5; i++)
            assert_true(kk_quiz_record(&quiz, i)->question->audiences & youth);

        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_FARMERS, 3, &rng, NULL), KK_OK);
        assert_int_equal(kk_quiz_total(&quiz), 3);
        for (size_t i = 0; i < 3; i++)
            assert_true(kk_quiz_record(&quiz, i)->question->audiences & KK_AUD_BIT(KK_AUD_FARMERS));

        /* 7 asked, 5 match: all 5 matching ones plus 2 of the others. */
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 7, &rng, NULL), KK_OK);
        assert_int_equal(kk_quiz_total(&quiz), 7);
        int matching = 0;
        for (size_t i = 0; i < 7; i++)
            matching += (kk_quiz_record(&quiz, i)->question->audiences & youth) != 0;
        assert_int_equal(matching, 5);

        /* Nobody's group: the round is filled from all questions. */
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_OFFICIALS, 4, &rng, NULL), KK_OK);
        assert_int_equal(kk_quiz_total(&quiz), 4);
    }
    kk_quiz_release(&quiz);
}

static void count_levels(const struct kk_quiz *quiz, size_t levels[4])
{
    memset(levels, 0, 4 * sizeof(levels[0]));
    int prev = 0;
    for (size_t i = 0; i < kk_quiz_total(quiz); i++) {
        int d = kk_quiz_record(quiz, i)->question->difficulty;
        assert_true(d >= 1 && d <= 3);
        assert_true(d >= prev); /* easier first */
        prev = d;
        levels[d]++;
    }
}

static void test_selection_spreads_difficulty(void **state)
{
    (void)state;
    struct kk_quiz quiz = KK_QUIZ_INIT;
    size_t levels[4];

    fixture_init(&fx);
    for (int i = 0; i < 12; i++)
        add_single(&fx, 1 + i % 3, KK_AUD_ALL);
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct kk_rng rng;
        kk_rng_seed(&rng, seed);
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 5, &rng, NULL), KK_OK);
        count_levels(&quiz, levels);
        assert_int_equal(levels[1], 2);
        assert_int_equal(levels[2], 2);
        assert_int_equal(levels[3], 1);
    }

    /* Only easy and hard questions: the round is an even mix of the two. */
    fixture_init(&fx);
    for (int i = 0; i < 6; i++)
        add_single(&fx, i % 2 ? 3 : 1, KK_AUD_ALL);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct kk_rng rng;
        kk_rng_seed(&rng, seed);
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 4, &rng, NULL), KK_OK);
        count_levels(&quiz, levels);
        assert_int_equal(levels[1], 2);
        assert_int_equal(levels[2], 0);
        assert_int_equal(levels[3], 2);
    }

    /* One medium question only: the rest come from what there is. */
    fixture_init(&fx);
    add_single(&fx, 2, KK_AUD_ALL);
    for (int i = 0; i < 6; i++)
        add_single(&fx, 1, KK_AUD_ALL);
    struct kk_rng rng;
    kk_rng_seed(&rng, 99);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 5, &rng, NULL), KK_OK);
    count_levels(&quiz, levels);
    assert_int_equal(levels[1], 4);
    assert_int_equal(levels[2], 1);
    assert_int_equal(kk_quiz_record(&quiz, 4)->question->difficulty, 2);

    /* The audience comes before the spread: youth questions are all easy, so a youth round
     * is all easy even though harder questions exist for others; filling tops up with
     * the levels the round lacks. */
    fixture_init(&fx);
    for (int i = 0; i < 3; i++)
        add_single(&fx, 1, KK_AUD_BIT(KK_AUD_YOUTH));
    for (int i = 0; i < 6; i++)
        add_single(&fx, 1 + i % 3, KK_AUD_BIT(KK_AUD_ELDERLY));
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 3, &rng, NULL), KK_OK);
    count_levels(&quiz, levels);
    assert_int_equal(levels[1], 3);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 5, &rng, NULL), KK_OK);
    count_levels(&quiz, levels);
    assert_int_equal(levels[1], 3);
    assert_int_equal(levels[2], 1);
    assert_int_equal(levels[3], 1);
    kk_quiz_release(&quiz);
}

static void test_no_repeats_within_round(void **state)
{
    (void)state;
    fixture_init(&fx);
    for (int i = 0; i < 12; i++)
        add_single(&fx, 1 + i % 3, i % 2 ? KK_AUD_BIT(KK_AUD_YOUTH) : KK_AUD_BIT(KK_AUD_OTHER));
    struct kk_quiz quiz = KK_QUIZ_INIT;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct kk_rng rng;
        kk_rng_seed(&rng, seed);
        size_t n = 1 + seed % 12;
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, n, &rng, NULL), KK_OK);
        assert_int_equal(kk_quiz_total(&quiz), n);
        unsigned long seen = 0;
        for (size_t i = 0; i < n; i++) {
            const struct kk_quiz_record *r = kk_quiz_record(&quiz, i);
            assert_ptr_equal(r->question, &fx.q[r->topic_index]);
            assert_false(seen & (1ul << r->topic_index));
            seen |= 1ul << r->topic_index;
        }
    }
    kk_quiz_release(&quiz);
}

static void test_fewer_questions_than_n(void **state)
{
    (void)state;
    fixture_init(&fx);
    for (int i = 0; i < 3; i++)
        add_single(&fx, 3 - i, KK_AUD_BIT(KK_AUD_ELDERLY));
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 5);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 0, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), 3);
    /* All three, easier first. */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(kk_quiz_record(&quiz, i)->topic_index, 2 - i);

    /* n 0 means the default of 5. */
    for (int i = 0; i < 5; i++)
        add_single(&fx, 1, KK_AUD_ALL);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 0, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), KK_QUIZ_DEFAULT_N);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 100, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), 8);
    kk_quiz_release(&quiz);
}

static void test_zero_questions_is_clear_error(void **state)
{
    (void)state;
    fixture_init(&fx);
    fx.topic.questions = NULL;
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 1);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_YOUTH, 5, &rng, &err), KK_ERR_NOTFOUND);
    assert_non_null(strstr(kk_buf_str(&err), "topics/quake.json"));
    assert_non_null(strstr(kk_buf_str(&err), "no questions"));
    assert_true(kk_quiz_done(&quiz));
    assert_int_equal(kk_quiz_total(&quiz), 0);
    assert_null(kk_quiz_question(&quiz));
    assert_null(kk_quiz_choice(&quiz, 0));
    assert_int_equal(kk_quiz_answer(&quiz, 1, 10, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_ERR_INVALID);
    assert_null(kk_quiz_complete_fields(&quiz));
    kk_buf_release(&err);
}

static void test_start_refuses_bad_arguments_and_questions(void **state)
{
    (void)state;
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 1);

    fixture_init(&fx);
    add_single(&fx, 1, KK_AUD_ALL);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_COUNT, 5, &rng, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -2, 5, &rng, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_start(&quiz, NULL, 0, 5, &rng, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, 0, 5, NULL, NULL), KK_ERR_INVALID);

    static const struct {
        enum kk_question_type type;
        size_t nchoices;
        unsigned answer;
        const char *says;
    } bad[] = {
        {KK_Q_SINGLE, 4, 0x3, "exactly one"},     {KK_Q_TRUEFALSE, 2, 0x3, "exactly one"},
        {KK_Q_SINGLE, 1, 0x1, "choices"},         {KK_Q_MULTI, KK_MAX_CHOICES + 1, 1, "choices"},
        {KK_Q_MULTI, 3, 0x8, "outside"},          {KK_Q_MULTI, 3, 0, "no right answer"},
        {(enum kk_question_type)7, 3, 1, "type"},
    };
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        fixture_init(&fx);
        add_single(&fx, 1, KK_AUD_ALL);
        add_q(&fx, bad[b].type, bad[b].nchoices > KK_MAX_CHOICES ? 2 : bad[b].nchoices,
              bad[b].answer, 1, KK_AUD_ALL, -1);
        fx.q[1].nchoices = bad[b].nchoices;
        kk_buf_reset(&err);
        /* Refused whatever the seed, even when the bad question would not be picked. */
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, 0, 1, &rng, &err), KK_ERR_INVALID);
        assert_non_null(strstr(kk_buf_str(&err), "quiz.questions[1] (q2)"));
        assert_non_null(strstr(kk_buf_str(&err), bad[b].says));
        assert_true(kk_quiz_done(&quiz));
    }
    kk_buf_release(&err);
    kk_quiz_release(&quiz);
}

/* ---- Choices ---- */

static void test_shuffle_keeps_right_answer_right(void **state)
{
    (void)state;
    fixture_init(&fx);
    add_q(&fx, KK_Q_SINGLE, 4, 1u << 1, 1, KK_AUD_ALL, 0);
    add_q(&fx, KK_Q_MULTI, 6, (1u << 0) | (1u << 3) | (1u << 5), 1, KK_AUD_ALL, 1);
    add_q(&fx, KK_Q_TRUEFALSE, 2, 1u << 1, 1, KK_AUD_ALL, 2);
    add_q(&fx, KK_Q_SINGLE, KK_MAX_CHOICES, 1u << (KK_MAX_CHOICES - 1), 1, KK_AUD_ALL, 0);

    struct kk_quiz quiz = KK_QUIZ_INIT;
    int moved[4] = {0};
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct kk_rng rng;
        kk_rng_seed(&rng, seed);
        assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 4, &rng, NULL), KK_OK);
        while (!kk_quiz_done(&quiz)) {
            const struct kk_quiz_record *r = kk_quiz_current(&quiz);
            const struct kk_question *q = kk_quiz_question(&quiz);
            assert_ptr_equal(r->question, q);
            assert_true(is_permutation(r));
            for (size_t s = 0; s < q->nchoices; s++) {
                int o = kk_quiz_choice_original(&quiz, s);
                assert_int_equal(o, r->shown_to_original[s]);
                assert_ptr_equal(kk_quiz_choice(&quiz, s), &q->choices[o]);
                assert_int_equal((r->right_shown >> s) & 1u, (q->answer_mask >> o) & 1u);
                if (q->type == KK_Q_TRUEFALSE)
                    assert_int_equal(o, (int)s);
                else if (o != (int)s)
                    moved[r->topic_index] = 1;
            }
            assert_null(kk_quiz_choice(&quiz, q->nchoices));
            assert_int_equal(kk_quiz_choice_original(&quiz, q->nchoices), -1);
            /* Choosing exactly the highlighted answer is right. */
            const struct kk_quiz_record *res = NULL;
            assert_int_equal(kk_quiz_answer(&quiz, r->right_shown, 1, &res, NULL), KK_OK);
            assert_true(res->correct);
            assert_int_equal(res->chosen_original, q->answer_mask);
            assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);
        }
        assert_int_equal(kk_quiz_score(&quiz), 4);
    }
    assert_true(moved[0] && moved[1] && moved[3]);
    kk_quiz_release(&quiz);
}

/* ---- Scoring ---- */

/* Starts a one-question round on question `which` of fx and answers it with the choices of
 * original mask `original`; returns whether it was right. */
static int answer_one(size_t which, unsigned original, uint64_t seed)
{
    struct kk_topic one = fx.topic;
    one.questions = &fx.q[which];
    one.nquestions = 1;
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, seed);
    assert_int_equal(kk_quiz_start(&quiz, &one, -1, 5, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), 1);
    const struct kk_quiz_record *r = NULL;
    assert_int_equal(kk_quiz_answer(&quiz, shown_for(&quiz, original), 5, &r, NULL), KK_OK);
    assert_int_equal(r->chosen_original, original);
    int correct = r->correct;
    assert_int_equal(kk_quiz_score(&quiz), (size_t)correct);
    kk_quiz_release(&quiz);
    return correct;
}

static void test_scoring_all_types(void **state)
{
    (void)state;
    fixture_init(&fx);
    size_t single = add_q(&fx, KK_Q_SINGLE, 4, 1u << 2, 1, KK_AUD_ALL, -1);
    size_t tf = add_q(&fx, KK_Q_TRUEFALSE, 2, 1u << 1, 1, KK_AUD_ALL, -1);
    size_t multi = add_q(&fx, KK_Q_MULTI, 5, 0x1u | 0x4u | 0x8u, 1, KK_AUD_ALL, -1);
    size_t multi1 = add_q(&fx, KK_Q_MULTI, 3, 0x2u, 1, KK_AUD_ALL, -1);

    for (uint64_t seed = 1; seed <= 20; seed++) {
        assert_true(answer_one(single, 1u << 2, seed));
        for (unsigned c = 0; c < 4; c++)
            if (c != 2)
                assert_false(answer_one(single, 1u << c, seed));

        assert_true(answer_one(tf, 1u << 1, seed));
        assert_false(answer_one(tf, 1u << 0, seed));

        assert_true(answer_one(multi, 0xdu, seed));
        assert_false(answer_one(multi, 0x5u, seed));        /* subset */
        assert_false(answer_one(multi, 0x1u, seed));        /* one of the right ones */
        assert_false(answer_one(multi, 0xdu | 0x2u, seed)); /* superset */
        assert_false(answer_one(multi, 0x1fu, seed));       /* everything */
        assert_false(answer_one(multi, 0x12u, seed));       /* disjoint */
        assert_false(answer_one(multi, 0x9u | 0x10u, seed));

        assert_true(answer_one(multi1, 0x2u, seed));
        assert_false(answer_one(multi1, 0x3u, seed));
    }
}

static void test_invalid_answers_refused(void **state)
{
    (void)state;
    fixture_init(&fx);
    add_q(&fx, KK_Q_SINGLE, 4, 1u << 2, 1, KK_AUD_ALL, -1);
    add_q(&fx, KK_Q_TRUEFALSE, 2, 1u << 0, 2, KK_AUD_ALL, -1);
    add_q(&fx, KK_Q_MULTI, 3, 0x3u, 3, KK_AUD_ALL, -1);
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 3);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 3, &rng, NULL), KK_OK);

    /* single */
    assert_int_equal(kk_quiz_question(&quiz)->type, KK_Q_SINGLE);
    assert_int_equal(kk_quiz_next(&quiz, &err), KK_ERR_INVALID);
    assert_non_null(strstr(kk_buf_str(&err), "not answered"));
    assert_int_equal(kk_quiz_answer(&quiz, 0, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 1u << 4, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 1u << 31, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 0x3u, 1, NULL, NULL), KK_ERR_INVALID);
    assert_false(kk_quiz_current(&quiz)->answered);
    assert_int_equal(kk_quiz_index(&quiz), 0);
    unsigned right = kk_quiz_current(&quiz)->right_shown;
    assert_int_equal(kk_quiz_answer(&quiz, right, 1, NULL, NULL), KK_OK);
    assert_int_equal(kk_quiz_score(&quiz), 1);
    kk_buf_reset(&err);
    assert_int_equal(kk_quiz_answer(&quiz, right, 1, NULL, &err), KK_ERR_INVALID);
    assert_non_null(strstr(kk_buf_str(&err), "already answered"));
    unsigned wrong = right == 0x1u ? 0x2u : 0x1u;
    assert_int_equal(kk_quiz_answer(&quiz, wrong, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_score(&quiz), 1); /* the refused second answer changed nothing */
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);

    /* true/false */
    assert_int_equal(kk_quiz_index(&quiz), 1);
    assert_int_equal(kk_quiz_question(&quiz)->type, KK_Q_TRUEFALSE);
    assert_int_equal(kk_quiz_answer(&quiz, 0x3u, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 0x4u, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 0x2u, 1, NULL, NULL), KK_OK);
    assert_false(kk_quiz_current(&quiz)->correct);
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);

    /* multiple choice: several bits are fine, out-of-range ones are not */
    assert_int_equal(kk_quiz_question(&quiz)->type, KK_Q_MULTI);
    assert_int_equal(kk_quiz_answer(&quiz, 0x8u | 0x1u, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 0, 1, NULL, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_answer(&quiz, 0x7u, 1, NULL, NULL), KK_OK);
    assert_false(kk_quiz_current(&quiz)->correct); /* superset */
    assert_false(kk_quiz_done(&quiz));
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);

    assert_true(kk_quiz_done(&quiz));
    assert_int_equal(kk_quiz_index(&quiz), 3);
    assert_null(kk_quiz_question(&quiz));
    assert_null(kk_quiz_current(&quiz));
    kk_buf_reset(&err);
    assert_int_equal(kk_quiz_answer(&quiz, 1, 1, NULL, &err), KK_ERR_INVALID);
    assert_non_null(strstr(kk_buf_str(&err), "over"));
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_ERR_INVALID);
    assert_int_equal(kk_quiz_score(&quiz), 1);
    kk_buf_release(&err);
    kk_quiz_release(&quiz);
}

/* ---- Reproducibility ---- */

static int same_round(const struct kk_quiz *a, const struct kk_quiz *b)
{
    if (kk_quiz_total(a) != kk_quiz_total(b))
        return 0;
    for (size_t i = 0; i < kk_quiz_total(a); i++) {
        const struct kk_quiz_record *x = kk_quiz_record(a, i);
        const struct kk_quiz_record *y = kk_quiz_record(b, i);
        if (x->topic_index != y->topic_index ||
            memcmp(x->shown_to_original, y->shown_to_original, sizeof(x->shown_to_original)))
            return 0;
    }
    return 1;
}

static void test_same_seed_same_round(void **state)
{
    (void)state;
    fixture_init(&fx);
    for (int i = 0; i < 15; i++)
        add_q(&fx, i % 4 ? KK_Q_SINGLE : KK_Q_MULTI, 4, i % 4 ? 0x2u : 0x5u, 1 + i % 3, KK_AUD_ALL,
              -1);
    struct kk_quiz a = KK_QUIZ_INIT, b = KK_QUIZ_INIT;
    struct kk_rng ra, rb;
    int differ = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        kk_rng_seed(&ra, seed);
        kk_rng_seed(&rb, seed);
        assert_int_equal(kk_quiz_start(&a, &fx.topic, KK_AUD_FARMERS, 5, &ra, NULL), KK_OK);
        assert_int_equal(kk_quiz_start(&b, &fx.topic, KK_AUD_FARMERS, 5, &rb, NULL), KK_OK);
        assert_true(same_round(&a, &b));
        kk_rng_seed(&rb, seed + 1000);
        assert_int_equal(kk_quiz_start(&b, &fx.topic, KK_AUD_FARMERS, 5, &rb, NULL), KK_OK);
        differ += !same_round(&a, &b);
    }
    /* Another seed gives another round (a repeat is possible but rare). */
    assert_true(differ >= 29);
    kk_quiz_release(&a);
    kk_quiz_release(&b);
}

/* ---- Missed questions and events ---- */

static void test_missed_list_and_event_fields(void **state)
{
    (void)state;
    fixture_init(&fx);
    /* One per difficulty step so the round order is known: q1, q2, q3, then q4, q5. */
    add_q(&fx, KK_Q_SINGLE, 3, 0x4u, 1, KK_AUD_ALL, 0);
    add_q(&fx, KK_Q_MULTI, 4, 0x9u, 2, KK_AUD_ALL, 1);
    add_q(&fx, KK_Q_TRUEFALSE, 2, 0x1u, 3, KK_AUD_ALL, -1);
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_rng rng;
    kk_rng_seed(&rng, 11);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, KK_AUD_ELDERLY, 5, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), 3);

    /* q1 wrong (choice 0), q2 right, q3 wrong. */
    const struct kk_quiz_record *r = NULL;
    assert_string_equal(kk_quiz_question(&quiz)->id, "q1");
    assert_int_equal(kk_quiz_answer(&quiz, shown_for(&quiz, 0x1u), 1500, &r, NULL), KK_OK);
    assert_false(r->correct);
    assert_int_equal(r->nchoice, 1);
    assert_int_equal(r->choice[0], 0);
    assert_int_equal(r->ms, 1500);
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);
    assert_string_equal(kk_quiz_question(&quiz)->id, "q2");
    assert_int_equal(kk_quiz_answer(&quiz, shown_for(&quiz, 0x9u), 2500, &r, NULL), KK_OK);
    assert_true(r->correct);
    assert_int_equal(r->nchoice, 2);
    assert_int_equal(r->choice[0], 0);
    assert_int_equal(r->choice[1], 3);
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);
    assert_int_equal(kk_quiz_answer(&quiz, shown_for(&quiz, 0x2u), 900, &r, NULL), KK_OK);
    assert_false(r->correct);
    assert_int_equal(kk_quiz_nmissed(&quiz), 2); /* counted before the round is over too */
    assert_int_equal(kk_quiz_next(&quiz, NULL), KK_OK);
    assert_true(kk_quiz_done(&quiz));
    assert_int_equal(kk_quiz_score(&quiz), 1);

    assert_int_equal(kk_quiz_nmissed(&quiz), 2);
    assert_string_equal(kk_quiz_missed(&quiz, 0)->question->id, "q1");
    assert_int_equal(kk_quiz_missed(&quiz, 0)->question->page, 0);
    assert_string_equal(kk_quiz_missed(&quiz, 1)->question->id, "q3");
    assert_int_equal(kk_quiz_missed(&quiz, 1)->question->page, -1);
    assert_null(kk_quiz_missed(&quiz, 2));
    assert_null(kk_quiz_record(&quiz, 3));

    cJSON *o = kk_quiz_answer_fields(&quiz, 1);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "topic")->valuestring, "quake");
    assert_string_equal(cJSON_GetObjectItem(o, "question")->valuestring, "q2");
    cJSON *choice = cJSON_GetObjectItem(o, "choice");
    assert_int_equal(cJSON_GetArraySize(choice), 2);
    assert_int_equal(cJSON_GetArrayItem(choice, 0)->valueint, 0);
    assert_int_equal(cJSON_GetArrayItem(choice, 1)->valueint, 3);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "correct")));
    assert_int_equal(cJSON_GetObjectItem(o, "ms")->valueint, 2500);
    cJSON_Delete(o);
    o = kk_quiz_answer_fields(&quiz, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "correct")));
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choice"), 0)->valueint, 1);
    cJSON_Delete(o);
    assert_null(kk_quiz_answer_fields(&quiz, 3));

    o = kk_quiz_complete_fields(&quiz);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "topic")->valuestring, "quake");
    assert_int_equal(cJSON_GetObjectItem(o, "score")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(o, "total")->valueint, 3);
    cJSON_Delete(o);

    /* An unanswered question has no event yet. */
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 2, &rng, NULL), KK_OK);
    assert_null(kk_quiz_answer_fields(&quiz, 0));
    assert_int_equal(kk_quiz_nmissed(&quiz), 0);
    kk_quiz_release(&quiz);
    kk_quiz_release(NULL);
}

/* ---- Allocation failure ---- */

static void test_allocation_failure(void **state)
{
    (void)state;
    fixture_init(&fx);
    for (int i = 0; i < 9; i++)
        add_single(&fx, 1 + i % 3, KK_AUD_ALL);
    struct kk_quiz quiz = KK_QUIZ_INIT;
    struct kk_rng rng;

    kk_alloc_fail_after(0);
    kk_rng_seed(&rng, 8);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 5, &rng, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    assert_true(count >= 1);

    for (unsigned long k = 1; k <= count; k++) {
        struct kk_buf err = KK_BUF_INIT;
        kk_rng_seed(&rng, 8);
        kk_alloc_fail_after(k);
        enum kk_err rc = kk_quiz_start(&quiz, &fx.topic, -1, 5, &rng, &err);
        kk_alloc_fail_after(0);
        assert_int_equal(rc, KK_ERR_NOMEM);
        /* The old round was released and no half-made one is left. */
        assert_true(kk_quiz_done(&quiz));
        assert_int_equal(kk_quiz_total(&quiz), 0);
        assert_null(kk_quiz_question(&quiz));
        kk_buf_release(&err);
    }
    kk_rng_seed(&rng, 8);
    assert_int_equal(kk_quiz_start(&quiz, &fx.topic, -1, 5, &rng, NULL), KK_OK);
    assert_int_equal(kk_quiz_total(&quiz), 5);
    kk_quiz_release(&quiz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_matches_pcg32_reference),
        cmocka_unit_test(test_rng_seed_reproducible),
        cmocka_unit_test(test_rng_below_range_and_uniform),
        cmocka_unit_test(test_selection_prefers_audience),
        cmocka_unit_test(test_selection_spreads_difficulty),
        cmocka_unit_test(test_no_repeats_within_round),
        cmocka_unit_test(test_fewer_questions_than_n),
        cmocka_unit_test(test_zero_questions_is_clear_error),
        cmocka_unit_test(test_start_refuses_bad_arguments_and_questions),
        cmocka_unit_test(test_shuffle_keeps_right_answer_right),
        cmocka_unit_test(test_scoring_all_types),
        cmocka_unit_test(test_invalid_answers_refused),
        cmocka_unit_test(test_same_seed_same_round),
        cmocka_unit_test(test_missed_list_and_event_fields),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
