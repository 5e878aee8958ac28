/* The reader's logic (src/app/scene_reader.c) without SDL: a topic is laid out into
 * screens with the context's fake metrics, page/next and swipes walk them, a page view is
 * recorded each time the content page changes and once more when the reader closes (with
 * the session's pack), large text relayouts at the same page, and the quiz's "read about
 * it" turns the reader to the page asked for. */
#include "kk_scenes.h"

static void open_earthquake(struct fake_kiosk *k)
{
    fake_visit_menu(k, "youth");
    fake_tap(k, "topic/earthquake");
    assert_string_equal(scene_stack_top(&k->stack)->name, "reader");
}

static int screen_no(struct fake_kiosk *k)
{
    return (int)fake_report_number(k, "screen", NULL);
}

static void test_walks_every_screen(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    open_earthquake(k);
    int screens = (int)fake_report_number(k, "screens", NULL);
    assert_true(screens > 1);
    int views = fake_count_events(k, "page_view", NULL);
    assert_int_equal(views, 0);
    int last_page = 0, changes = 0;
    for (int i = 0; i < screens; i++) {
        assert_int_equal(screen_no(k), i);
        assert_string_equal(k->list.overflow, ""); /* nothing is cut, it flows on */
        int page = (int)fake_report_number(k, "page", NULL);
        changes += page != last_page;
        last_page = page;
        if (i + 1 < screens) {
            if (i % 2)
                fake_tap(k, "page/next");
            else
                fake_swipe(k, 1);
        }
    }
    assert_null(fake_target(k, "page/next"));
    assert_non_null(fake_target(k, "quiz/start"));
    assert_int_equal(fake_count_events(k, "page_view", NULL), changes);
    /* Leaving records the page on screen, with the session's pack and audience. */
    fake_tap(k, "nav/back");
    cJSON *last = NULL;
    assert_int_equal(fake_count_events(k, "page_view", &last), changes + 1);
    assert_string_equal(fake_str(last, "topic"), "earthquake");
    assert_string_equal(fake_str(last, "audience"), "youth");
    assert_non_null(fake_str(last, "session"));
    const struct kk_pack *p = k->visit.pack;
    char ref[160];
    snprintf(ref, sizeof(ref), "%s@%s", p->id, p->version);
    assert_string_equal(fake_str(last, "pack"), ref);
    cJSON_Delete(last);
    assert_string_equal(k->session.pack_ref, ""); /* the menu refers to no pack */
    fake_kiosk_release(k);
}

static void test_first_and_last_screen_limits(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1080, 1920);
    open_earthquake(k);
    assert_null(fake_target(k, "page/prev"));
    fake_swipe(k, -1); /* nothing before the first screen */
    assert_int_equal(screen_no(k), 0);
    fake_swipe(k, 1);
    assert_int_equal(screen_no(k), 1);
    assert_non_null(fake_target(k, "page/prev"));
    fake_tap(k, "page/prev");
    assert_int_equal(screen_no(k), 0);
    fake_kiosk_release(k);
}

static void test_large_text_keeps_the_page(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    open_earthquake(k);
    int screens = (int)fake_report_number(k, "screens", NULL);
    while (fake_report_number(k, "page", NULL) < 2)
        fake_tap(k, "page/next");
    fake_tap(k, "large_text");
    assert_true(k->session.large_text);
    assert_int_equal((int)fake_report_number(k, "page", NULL), 2);
    assert_true((int)fake_report_number(k, "screens", NULL) >= screens);
    assert_string_equal(k->list.overflow, "");
    fake_kiosk_release(k);
}

/* The quiz above the reader asks for a page: the reader turns there when uncovered. */
static void test_read_page_from_the_quiz(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    open_earthquake(k);
    scene_stack_push(&k->stack, &scene_quiz);
    fake_update(k);
    assert_string_equal(scene_stack_top(&k->stack)->name, "quiz");
    const struct kk_topic *t = k->visit.topic;
    size_t page = t->npages - 1;
    visit_read_page(&k->env, page);
    k->env.turn = 0;
    visit_apply(&k->env);
    assert_int_equal(k->env.turn, 1); /* a forward page turn was asked for */
    fake_update(k);
    assert_string_equal(scene_stack_top(&k->stack)->name, "reader");
    assert_int_equal(scene_stack_depth(&k->stack), 4); /* attract, audience, menu, reader */
    assert_int_equal((int)fake_report_number(k, "page", NULL), (int)page);
    assert_int_equal(visit_take_page(&k->visit), -1); /* taken once */
    fake_kiosk_release(k);
}

/* From a quiz opened from the menu, "read about it" puts a reader in the quiz's place,
 * opening at the page. */
static void test_read_page_opens_a_reader(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    fake_visit_menu(k, "youth");
    fake_tap(k, "quiz/earthquake");
    assert_string_equal(scene_stack_top(&k->stack)->name, "quiz");
    visit_read_page(&k->env, 1);
    fake_update(k);
    assert_string_equal(scene_stack_top(&k->stack)->name, "reader");
    assert_int_equal(scene_stack_depth(&k->stack), 4);
    assert_int_equal((int)fake_report_number(k, "page", NULL), 1);
    fake_kiosk_release(k);
}

int main(void)
{
    setenv("KEPU_QUIZ_SEED", "7", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_every_screen),
        cmocka_unit_test(test_first_and_last_screen_limits),
        cmocka_unit_test(test_large_text_keeps_the_page),
        cmocka_unit_test(test_read_page_from_the_quiz),
        cmocka_unit_test(test_read_page_opens_a_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
