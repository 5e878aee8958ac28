/* The topic menu's logic (src/app/scene_menu.c) without SDL: the visitor's group's
 * topics come first, every visible topic is offered exactly once across the grid pages,
 * the cards fit the screen, hidden packs are left out, and a card opens its topic. */
#include "kk_scenes.h"

/* Every topic/<id> card target over all grid pages, in order, into ids (n of them). */
static size_t walk_pages(struct fake_kiosk *k, char ids[][96], size_t max)
{
    size_t n = 0;
    for (int page = 0; page < 20; page++) {
        for (size_t i = 0; i < k->list.ntargets; i++) {
            const struct ui_target *t = &k->list.targets[i];
            const struct ui_rect r = t->r;
            assert_true(r.x >= 0 && r.y >= 0 && r.x + r.w <= k->ui.w && r.y + r.h <= k->ui.h);
            assert_true(r.w >= ui_min_target(&k->ui) && r.h >= ui_min_target(&k->ui));
            if (!strncmp(t->id, "topic/", 6) && n < max)
                snprintf(ids[n++], 96, "%s", t->id + 6);
        }
        assert_string_equal(k->list.overflow, "");
        if (!fake_target(k, "menu/next"))
            break;
        fake_tap(k, "menu/next");
    }
    return n;
}

static size_t visible_topics(const struct fake_kiosk *k)
{
    size_t n = 0;
    for (size_t p = 0; p < k->content.lib.npacks; p++)
        if (content_pack_visible(&k->content, k->content.lib.packs[p]))
            n += k->content.lib.packs[p]->ntopics;
    return n;
}

static const struct kk_topic *find_topic(const struct fake_kiosk *k, const char *id)
{
    for (size_t p = 0; p < k->content.lib.npacks; p++)
        for (size_t t = 0; t < k->content.lib.packs[p]->ntopics; t++)
            if (!strcmp(k->content.lib.packs[p]->topics[t].id, id))
                return &k->content.lib.packs[p]->topics[t];
    return NULL;
}

static void check_order(int w, int h, const char *group, int per_page)
{
    struct fake_kiosk *k = fake_kiosk_create(w, h);
    fake_visit_menu(k, group);
    size_t on_first = 0;
    for (size_t i = 0; i < k->list.ntargets; i++)
        on_first += !strncmp(k->list.targets[i].id, "topic/", 6);
    assert_true(on_first > 0 && (int)on_first <= per_page);
    char ids[64][96];
    size_t n = walk_pages(k, ids, 64);
    assert_int_equal(n, visible_topics(k));
    unsigned mine = KK_AUD_BIT(kk_audience_parse(group));
    int seen_other = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]); /* each topic once */
        const struct kk_topic *t = find_topic(k, ids[i]);
        assert_non_null(t);
        int for_me = (t->audiences & mine) != 0;
        if (!for_me)
            seen_other = 1;
        else
            assert_false(seen_other); /* the group's topics come first */
    }
    /* Swiping back returns to the first grid page. */
    for (int i = 0; i < 20; i++)
        fake_swipe(k, -1);
    assert_null(fake_target(k, "menu/prev"));
    fake_kiosk_release(k);
}

static void test_group_first_landscape(void **state)
{
    (void)state;
    check_order(1920, 1080, "elderly", 4);
    check_order(1920, 1080, "farmers", 4);
}

static void test_group_first_portrait(void **state)
{
    (void)state;
    check_order(1080, 1920, "youth", 6);
}

static void test_hidden_pack_left_out(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    const struct kk_pack *p = k->content.lib.packs[0];
    size_t all = visible_topics(k);
    assert_int_equal(content_set_hidden(&k->content, p->id, 1, NULL), KK_OK);
    assert_int_equal(visible_topics(k), all - p->ntopics);
    fake_visit_menu(k, "other");
    char ids[64][96];
    size_t n = walk_pages(k, ids, 64);
    assert_int_equal(n, all - p->ntopics);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < p->ntopics; t++)
            assert_string_not_equal(ids[i], p->topics[t].id);
    fake_kiosk_release(k);
}

static void test_card_opens_topic_and_quiz(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    fake_visit_menu(k, "youth");
    const char *id = NULL;
    for (size_t i = 0; i < k->list.ntargets && !id; i++)
        if (!strncmp(k->list.targets[i].id, "quiz/", 5))
            id = k->list.targets[i].id + 5;
    assert_non_null(id);
    char topic[96], quiz[128];
    snprintf(topic, sizeof(topic), "topic/%s", id);
    snprintf(quiz, sizeof(quiz), "quiz/%s", id);
    fake_tap(k, topic);
    assert_string_equal(scene_stack_top(&k->stack)->name, "reader");
    assert_string_equal(k->visit.topic->id, topic + 6);
    fake_tap(k, "nav/back");
    assert_string_equal(scene_stack_top(&k->stack)->name, "menu");
    fake_tap(k, quiz);
    assert_string_equal(scene_stack_top(&k->stack)->name, "quiz");
    fake_kiosk_release(k);
}

/* The cards are laid out with the context's metrics: the fake width callback is what
 * measured them (no font, no window). */
static void test_measures_through_context(void **state)
{
    (void)state;
    struct fake_kiosk *k = fake_kiosk_create(1920, 1080);
    fake_visit_menu(k, "youth");
    int before = k->measured;
    fake_update(k);
    assert_true(k->measured > before);
    fake_kiosk_release(k);
}

int main(void)
{
    setenv("KEPU_QUIZ_SEED", "7", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_first_landscape),
        cmocka_unit_test(test_group_first_portrait),
        cmocka_unit_test(test_hidden_pack_left_out),
        cmocka_unit_test(test_card_opens_topic_and_quiz),
        cmocka_unit_test(test_measures_through_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
