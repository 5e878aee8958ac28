/* The quiz's logic (src/app/scene_quiz.c) without SDL: a round with every answer right
 * ends in the "all" band with one quiz_answer per question and a quiz_complete; a round
 * with every answer wrong lists every question as missed, and "read about it" opens the
 * reader at the page that teaches it; multiple choice needs Confirm; every screen fits
 * with the fake metrics. KEPU_QUIZ_SEED fixes the rounds. */
#include "kk_scenes.h"

static cJSON *quiz_report(struct fake_kiosk *k)
{
    cJSON *r = fake_report(k);
    cJSON *q = cJSON_DetachItemFromObjectCaseSensitive(r, "quiz");
    cJSON_Delete(r);
    assert_non_null(q);
    return q;
}

static const char *phase(struct fake_kiosk *k, char *buf, size_t size)
{
    cJSON *q = quiz_report(k);
    snprintf(buf, size, "%s", fake_str(q, "phase"));
    cJSON_Delete(q);
    return buf;
}

static void tap_choice(struct fake_kiosk *k, int shown)
{
    char id[32];
    snprintf(id, sizeof(id), "choice/%d", shown);
    fake_tap(k, id);
}

static int item(const cJSON *o, const char *name, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, name), i)->valueint;
}

/* Answers a hotspot or order question (pack format 2) the way docs/quiz.md says: a tap on
 * the picture at a right region's centre (or its top-left corner, for wrong), the choices
 * in the right order (or the first two swapped). Returns 0 for any other type. */
static int answer_format2(struct fake_kiosk *k, cJSON *q, int right)
{
    char id[32];
    if (!strcmp(fake_str(q, "type"), "order")) {
        const cJSON *ro = cJSON_GetObjectItemCaseSensitive(q, "right_order");
        int n = cJSON_GetArraySize(ro);
        for (int i = 0; i < n; i++) {
            int at = !right && i < 2 ? 1 - i : i;
            snprintf(id, sizeof(id), "order/%d", cJSON_GetArrayItem(ro, at)->valueint);
            fake_tap(k, id);
        }
        return 1;
    }
    if (strcmp(fake_str(q, "type"), "hotspot"))
        return 0;
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(q, "regions");
    const cJSON *g = cJSON_GetArrayItem(regions, item(q, "right", 0));
    int px = item(q, "picture", 0), py = item(q, "picture", 1);
    int pw = item(q, "picture", 2), ph = item(q, "picture", 3);
    k->env.tap_x = right ? px + (int)(cJSON_GetArrayItem(g, 0)->valuedouble * pw) : px;
    k->env.tap_y = right ? py + (int)(cJSON_GetArrayItem(g, 1)->valuedouble * ph) : py;
    fake_tap(k, "hotspot-q/pic");
    return 1;
}

/* Answers the question on screen, right or wrong. */
static void answer(struct fake_kiosk *k, int right)
{
    cJSON *q = quiz_report(k);
    if (answer_format2(k, q, right)) {
        cJSON_Delete(q);
        q = quiz_report(k);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "correct")) == right);
        cJSON_Delete(q);
        return;
    }
    const cJSON *mask = cJSON_GetObjectItemCaseSensitive(q, "right");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(q, "original"));
    int multi = !strcmp(fake_str(q, "type"), "multi");
    unsigned right_bits = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, mask) right_bits |= 1u << v->valueint;
    cJSON_Delete(q);
    if (right) {
        for (int s = 0; s < n; s++)
            if (right_bits & (1u << s)) {
                tap_choice(k, s);
                if (!multi)
                    break;
            }
    } else {
        int s = 0;
        while (s < n && (right_bits & (1u << s)))
            s++;
        assert_true(s < n);
        tap_choice(k, s);
    }
    if (multi) {
        char buf[32];
        assert_string_equal(phase(k, buf, sizeof(buf)), "question"); /* not before Confirm */
        fake_tap(k, "quiz/confirm");
    }
    char buf[32];
    assert_string_equal(phase(k, buf, sizeof(buf)), "feedback");
    assert_null(fake_target(k, "choice/0")); /* answered: the choices cannot be touched */
}

/* Plays a whole round; returns how many questions it had. */
static int play_round(struct fake_kiosk *k, int right)
{
    cJSON *q = quiz_report(k);
    int total = cJSON_GetObjectItemCaseSensitive(q, "total")->valueint;
    cJSON_Delete(q);
    assert_true(total > 0);
    for (int i = 0; i < total; i++) {
        assert_string_equal(k->list.overflow, "");
        answer(k, right);
        assert_string_equal(k->list.overflow, "");
        fake_tap(k, i + 1 < total ? "quiz/next" : "quiz/results");
    }
    char buf[32];
    assert_string_equal(phase(k, buf, sizeof(buf)), "result");
    return total;
}

static void open_quiz(struct fake_kiosk *k, const char *topic)
{
    fake_visit_menu(k, "youth");
    char id[96];
    snprintf(id, sizeof(id), "quiz/%s", topic);
    fake_tap(k, id);
    assert_string_equal(scene_stack_top(&k->stack)->name, "quiz");
}

static void test_all_right(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    open_quiz(k, "earthquake");
    int total = play_round(k, 1);
    cJSON *q = quiz_report(k);
    assert_string_equal(fake_str(q, "band"), "all");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(q, "score")->valueint, total);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(q, "missed")), 0);
    cJSON_Delete(q);
    assert_int_equal(fake_count_events(k, "quiz_answer", NULL), total);
    cJSON *done = NULL;
    assert_int_equal(fake_count_events(k, "quiz_complete", &done), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(done, "score")->valueint, total);
    assert_non_null(fake_str(done, "pack"));
    cJSON_Delete(done);
    /* Try again: a new round from the first question. */
    fake_tap(k, "quiz/again");
    q = quiz_report(k);
    assert_string_equal(fake_str(q, "phase"), "question");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(q, "index")->valueint, 0);
    cJSON_Delete(q);
    fake_kiosk_release(k);
}

static void test_all_wrong_reads_about_it(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1080, 1920);
    open_quiz(k, "earthquake");
    int total = play_round(k, 0);
    cJSON *q = quiz_report(k);
    assert_string_equal(fake_str(q, "band"), "none");
    const cJSON *missed = cJSON_GetObjectItemCaseSensitive(q, "missed");
    assert_int_equal(cJSON_GetArraySize(missed), total);
    char qid[96];
    snprintf(qid, sizeof(qid), "%s", cJSON_GetArrayItem(missed, 0)->valuestring);
    cJSON_Delete(q);
    /* The question's teaching page, from the topic itself. */
    long page = -1;
    const struct kk_topic *t = k->visit.topic;
    for (size_t i = 0; i < t->nquestions; i++)
        if (!strcmp(t->questions[i].id, qid))
            page = t->questions[i].page >= 0 ? t->questions[i].page : 0;
    assert_true(page >= 0);
    char id[128];
    snprintf(id, sizeof(id), "missed/%s", qid);
    fake_tap(k, id);
    assert_string_equal(scene_stack_top(&k->stack)->name, "reader");
    assert_int_equal((long)fake_report_number(k, "page", NULL), page);
    cJSON *ans = NULL;
    assert_int_equal(fake_count_events(k, "quiz_answer", &ans), total);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "correct")));
    cJSON_Delete(ans);
    fake_kiosk_release(k);
}

/* The same seed gives the same round: the order of questions and choices is the
 * engine's, seeded once per quiz screen. */
static void test_seeded_rounds_repeat(void **state)
{
    (void)state;
    char first[2][4096];
    for (int run = 0; run < 2; run++) {
        struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
        open_quiz(k, "earthquake");
        cJSON *q = quiz_report(k);
        cJSON_DeleteItemFromObjectCaseSensitive(q, "rects");
        char *text = cJSON_PrintUnformatted(q);
        snprintf(first[run], sizeof(first[run]), "%s", text);
        cJSON_free(text);
        cJSON_Delete(q);
        fake_kiosk_release(k);
    }
    assert_string_equal(first[0], first[1]);
}

int main(void)
{
    setenv("KEPU_QUIZ_SEED", "7", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_right),
        cmocka_unit_test(test_all_wrong_reads_about_it),
        cmocka_unit_test(test_seeded_rounds_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
