#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/event.h"
#include "kepu/limits.h"

static int is_hex128(const char *s)
{
    return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static cJSON *parse(const char *text)
{
    assert_non_null(text);
    cJSON *ev = cJSON_Parse(text);
    assert_non_null(ev);
    assert_true(cJSON_IsObject(ev));
    return ev;
}

static const char *str_member(const cJSON *ev, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev, name);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static size_t count_members(const cJSON *ev, const char *name)
{
    size_t n = 0;
    for (const cJSON *m = ev->child; m; m = m->next)
        n += strcmp(m->string, name) == 0;
    return n;
}

static void test_new_session_is_random_hex(void **state)
{
    (void)state;
    struct kk_event_ctx a = {.kiosk = "k-1", .audience = -1}, b = a;
    kk_event_new_session(&a);
    kk_event_new_session(&b);
    assert_true(is_hex128(a.session));
    assert_true(is_hex128(b.session));
    assert_string_not_equal(a.session, b.session);
}

static void test_event_has_every_context_member(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-0001",
                               .audience = KK_AUD_ELDERLY,
                               .lang = KK_LANG_EN,
                               .pack = "earthquake-safety@2026.11.1"};
    kk_event_new_session(&ctx);
    cJSON *fields = cJSON_CreateObject();
    assert_non_null(fields);
    assert_non_null(cJSON_AddStringToObject(fields, "topic", "quake"));
    assert_non_null(cJSON_AddNumberToObject(fields, "page", 2));
    assert_non_null(cJSON_AddNumberToObject(fields, "dwell_ms", 5300));
    int64_t before = kk_clock_wall_ms();
    char *text = kk_event_make(&ctx, "page_view", fields);
    int64_t after = kk_clock_wall_ms();
    assert_true(strlen(text) <= KK_MAX_EVENT_BYTES);
    cJSON *ev = parse(text);
    assert_true(is_hex128(str_member(ev, "id")));
    assert_string_equal(str_member(ev, "kiosk"), "k-0001");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ev, "ts");
    assert_true(cJSON_IsNumber(ts));
    assert_true(ts->valuedouble >= (double)before && ts->valuedouble <= (double)after);
    assert_string_equal(str_member(ev, "type"), "page_view");
    assert_string_equal(str_member(ev, "session"), ctx.session);
    assert_string_equal(str_member(ev, "audience"), "elderly");
    assert_string_equal(str_member(ev, "lang"), "en");
    assert_string_equal(str_member(ev, "pack"), "earthquake-safety@2026.11.1");
    assert_string_equal(str_member(ev, "topic"), "quake");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(ev, "page")->valuedouble, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(ev, "dwell_ms")->valuedouble, 5300);
    assert_int_equal(cJSON_GetArraySize(ev), 11);
    /* A millisecond time stamp is written as a plain integer, not in exponent form. */
    const char *digits = strstr(text, "\"ts\":") + 5;
    size_t ndigits = strspn(digits, "0123456789");
    assert_true(ndigits >= 13);
    assert_int_equal(digits[ndigits], ',');

    /* A second event of the same session: same session, new id. */
    char *text2 = kk_event_make(&ctx, "idle_reset", NULL);
    cJSON *ev2 = parse(text2);
    assert_string_equal(str_member(ev2, "session"), ctx.session);
    assert_string_not_equal(str_member(ev2, "id"), str_member(ev, "id"));
    cJSON_Delete(ev);
    cJSON_Delete(ev2);
    kk_free(text);
    kk_free(text2);
}

static void test_optional_members_are_left_out(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-0002", .audience = -1, .lang = KK_LANG_ZH};
    char *text = kk_event_make(&ctx, "boot", NULL);
    cJSON *ev = parse(text);
    assert_null(cJSON_GetObjectItemCaseSensitive(ev, "session"));
    assert_null(cJSON_GetObjectItemCaseSensitive(ev, "audience"));
    assert_null(cJSON_GetObjectItemCaseSensitive(ev, "pack"));
    assert_string_equal(str_member(ev, "lang"), "zh");
    assert_string_equal(str_member(ev, "type"), "boot");
    assert_int_equal(cJSON_GetArraySize(ev), 5); /* id kiosk ts type lang */
    cJSON_Delete(ev);
    kk_free(text);
}

static void test_time_stamp_follows_the_clock(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-0003", .audience = -1};
    int64_t before = kk_clock_wall_ms();
    kk_clock_advance(86400000);
    char *text = kk_event_make(&ctx, "boot", NULL);
    cJSON *ev = parse(text);
    assert_true(cJSON_GetObjectItemCaseSensitive(ev, "ts")->valuedouble >=
                (double)(before + 86400000));
    cJSON_Delete(ev);
    kk_free(text);
}

/* An "audience" event carries the newly chosen group, once. */
static void test_fields_replace_context_members(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-1", .audience = KK_AUD_YOUTH, .lang = KK_LANG_ZH};
    cJSON *fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "audience", "farmers"));
    assert_non_null(cJSON_AddStringToObject(fields, "lang", "en"));
    char *text = kk_event_make(&ctx, "audience", fields);
    cJSON *ev = parse(text);
    assert_int_equal(count_members(ev, "audience"), 1);
    assert_int_equal(count_members(ev, "lang"), 1);
    assert_string_equal(str_member(ev, "audience"), "farmers");
    assert_string_equal(str_member(ev, "lang"), "en");
    cJSON_Delete(ev);
    kk_free(text);
}

static void test_refused_fields(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-1", .audience = -1};
    static const char *const own[] = {"id", "kiosk", "ts", "type"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *fields = cJSON_CreateObject();
        assert_non_null(cJSON_AddStringToObject(fields, "topic", "quake"));
        assert_non_null(cJSON_AddStringToObject(fields, own[i], "x"));
        assert_null(kk_event_make(&ctx, "page_view", fields)); /* fields freed (ASan) */
    }
    assert_null(kk_event_make(&ctx, "page_view", cJSON_CreateArray()));

    /* Too big for one event. */
    size_t n = KK_MAX_EVENT_BYTES;
    char *detail = kk_malloc(n + 1);
    assert_non_null(detail);
    memset(detail, 'x', n);
    detail[n] = '\0';
    cJSON *fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "detail", detail));
    assert_null(kk_event_make(&ctx, "error", fields));
    /* Just under the limit is fine. */
    char *small = kk_event_make(&ctx, "error", NULL);
    size_t room = KK_MAX_EVENT_BYTES - strlen(small) - strlen(",\"detail\":\"\"");
    kk_free(small);
    detail[room] = '\0';
    fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "detail", detail));
    char *text = kk_event_make(&ctx, "error", fields);
    assert_non_null(text);
    assert_int_equal(strlen(text), KK_MAX_EVENT_BYTES);
    kk_free(text);
    kk_free(detail);
}

static void test_out_of_memory_gives_null(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-1", .audience = -1};
    kk_alloc_fail_after(1);
    char *text = kk_event_make(&ctx, "boot", cJSON_CreateObject());
    kk_alloc_fail_after(0);
    assert_null(text);
}

static void test_known_types(void **state)
{
    (void)state;
    static const char *const known[] = {"boot",        "session_start", "session_end", "page_view",
                                        "quiz_answer", "quiz_complete", "language",    "audience",
                                        "idle_reset",  "error"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        assert_true(kk_event_type_known(known[i]));
    static const char *const unknown[] = {"", "Boot", "boot ", "quiz", "page_views", "login"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_false(kk_event_type_known(unknown[i]));
    assert_false(kk_event_type_known(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_session_is_random_hex),
        cmocka_unit_test(test_event_has_every_context_member),
        cmocka_unit_test(test_optional_members_are_left_out),
        cmocka_unit_test(test_time_stamp_follows_the_clock),
        cmocka_unit_test(test_fields_replace_context_members),
        cmocka_unit_test(test_refused_fields),
        cmocka_unit_test(test_out_of_memory_gives_null),
        cmocka_unit_test(test_known_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
