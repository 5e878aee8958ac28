#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "event_cases.h"
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
    char *text = kk_event_make(&ctx, "page_view", fields, NULL);
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
    char *text2 = kk_event_make(&ctx, "idle_reset", NULL, NULL);
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
    char *text = kk_event_make(&ctx, "boot", NULL, NULL);
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
    char *text = kk_event_make(&ctx, "boot", NULL, NULL);
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
    char *text = kk_event_make(&ctx, "audience", fields, NULL);
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
        assert_null(kk_event_make(&ctx, "page_view", fields, NULL)); /* fields freed (ASan) */
    }
    assert_null(kk_event_make(&ctx, "page_view", cJSON_CreateArray(), NULL));

    /* The contract's cap on error.detail (1024 bytes) refuses, with the reason. */
    char detail[1026];
    memset(detail, 'x', sizeof(detail) - 1);
    detail[1025] = '\0';
    struct kk_buf why = KK_BUF_INIT;
    cJSON *fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "code", "E1"));
    assert_non_null(cJSON_AddStringToObject(fields, "detail", detail));
    assert_null(kk_event_make(&ctx, "error", fields, &why));
    assert_string_equal(kk_buf_str(&why),
                        "detail: must be text of 0 to 1024 bytes without control characters");
    detail[1024] = '\0';
    fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "code", "E1"));
    assert_non_null(cJSON_AddStringToObject(fields, "detail", detail));
    char *text = kk_event_make(&ctx, "error", fields, NULL);
    assert_non_null(text);
    assert_true(strlen(text) <= KK_MAX_EVENT_BYTES);
    kk_free(text);

    /* A field the contract does not name for the type, and a missing one. */
    kk_buf_reset(&why);
    fields = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(fields, "code", "E1"));
    assert_non_null(cJSON_AddStringToObject(fields, "visitor_name", "x"));
    assert_null(kk_event_make(&ctx, "error", fields, &why));
    assert_string_equal(kk_buf_str(&why), "visitor_name: not a field of error events");
    kk_buf_reset(&why);
    assert_null(kk_event_make(&ctx, "error", NULL, &why));
    assert_string_equal(kk_buf_str(&why), "code: missing");
    kk_buf_reset(&why);
    assert_null(kk_event_make(&ctx, "teleport", NULL, &why));
    assert_string_equal(kk_buf_str(&why), "type: unknown event type");
    kk_buf_release(&why);
}

static void test_out_of_memory_gives_null(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-1", .audience = -1};
    kk_alloc_fail_after(1);
    char *text = kk_event_make(&ctx, "boot", cJSON_CreateObject(), NULL);
    kk_alloc_fail_after(0);
    assert_null(text);
}

/* Every allocation of making, checking, placing and copying an event fails in turn:
 * NULL with a reason, never a crash, a leak or a half-made event. */
static void test_every_allocation_fails_in_turn(void **state)
{
    (void)state;
    struct kk_event_ctx ctx = {.kiosk = "k-1", .audience = KK_AUD_YOUTH, .pack = "p@1"};
    struct kk_buf why = KK_BUF_INIT;
    for (int pass = 0; pass < 2; pass++) {
        unsigned long count = 0;
        for (unsigned long n = 0; n == 0 || n <= count; n++) {
            cJSON *f = cJSON_CreateObject();
            assert_non_null(cJSON_AddStringToObject(f, "topic", "quake"));
            assert_non_null(cJSON_AddNumberToObject(f, "page", 1));
            assert_non_null(cJSON_AddNumberToObject(f, "dwell_ms", 5));
            kk_buf_reset(&why);
            kk_alloc_fail_after(n);
            char *text = kk_event_make(&ctx, "page_view", f, &why);
            char *placed = text ? kk_event_place(text, -86400000LL * 3, 1764100000000LL) : NULL;
            cJSON *c = kk_event_contract_json();
            unsigned long made = kk_alloc_fail_after(0);
            if (n == 0) {
                count = made;
                assert_non_null(text);
            } else if (!text) {
                assert_true(why.len > 0 || kk_buf_error(&why));
            }
            kk_free(text);
            kk_free(placed);
            cJSON_Delete(c);
        }
        assert_true(count > 10);
        ctx.session[0] = pass ? '\0' : 'a';
    }
    kk_buf_release(&why);
}

static void test_known_types(void **state)
{
    (void)state;
    static const char *const known[] = {
        "boot",     "session_start", "session_end", "page_view", "quiz_answer", "quiz_complete",
        "language", "audience",      "idle_reset",  "error",     "interact",    "audio_play"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        assert_true(kk_event_type_known(known[i]));
    static const char *const unknown[] = {"", "Boot", "boot ", "quiz", "page_views", "login"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_false(kk_event_type_known(unknown[i]));
    assert_false(kk_event_type_known(NULL));
}

/* The shared table: the kiosk refuses each malformed event before journaling it, with the
 * reason the server gives (tests/server/test_srv_events.c runs the same table). */
static void test_shared_cases_kiosk(void **state)
{
    (void)state;
    struct kk_buf r = KK_BUF_INIT;
    for (size_t i = 0; i < EVENT_NCASES; i++) {
        const struct event_case *c = &event_cases[i];
        cJSON *ev = cJSON_Parse(c->json);
        assert_non_null(ev);
        kk_buf_reset(&r);
        assert_int_equal(kk_event_check(ev, KK_EVENT_STRICT, &r), KK_ERR_INVALID);
        if (strcmp(kk_buf_str(&r), c->reason))
            fail_msg("%s: check says [%s], the table [%s]", c->json, kk_buf_str(&r), c->reason);
        if (c->makeable) {
            /* The same event as the app would ask for it: its own members from the
             * context, the rest as fields. */
            struct kk_event_ctx ctx = {
                .kiosk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "kiosk")),
                .audience = -1,
                .lang = KK_LANG_ZH};
            const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
            cJSON *fields = cJSON_Duplicate(ev, 1);
            assert_non_null(fields);
            static const char *const own[] = {"id", "kiosk", "ts", "type"};
            for (size_t k = 0; k < 4; k++)
                cJSON_DeleteItemFromObjectCaseSensitive(fields, own[k]);
            kk_buf_reset(&r);
            assert_null(kk_event_make(&ctx, type, fields, &r));
            if (strcmp(kk_buf_str(&r), c->reason))
                fail_msg("%s: kk_event_make says [%s], the table [%s]", c->json, kk_buf_str(&r),
                         c->reason);
        }
        cJSON_Delete(ev);
    }
    kk_buf_release(&r);
}

/* Every row of the contract accepts an event that fills each of its fields, and the JSON
 * form lists every row and the audience and language lists of the core. */
static void test_contract_rows(void **state)
{
    (void)state;
    size_t n;
    const struct kk_event_type *t = kk_event_types(&n);
    assert_true(n >= 12);
    assert_non_null(kk_event_type_find("interact"));
    assert_non_null(kk_event_type_find("audio_play"));
    cJSON *c = kk_event_contract_json();
    assert_non_null(c);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "types")), (int)n);
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(c, "audiences");
    assert_int_equal(cJSON_GetArraySize(aud), KK_AUD_COUNT);
    assert_string_equal(cJSON_GetArrayItem(aud, 1)->valuestring, "farmers");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "languages")),
                     KK_LANG_COUNT);
    cJSON_Delete(c);
    (void)t;
}

/* The server keeps only what the contract names. */
static void test_copy_keeps_contract_fields(void **state)
{
    (void)state;
    cJSON *ev = cJSON_Parse("{" EC_BASE ",\"type\":\"page_view\",\"topic\":\"t\",\"page\":1,"
                            "\"dwell_ms\":5,\"pad\":\"xxxx\",\"score\":3}");
    assert_non_null(ev);
    assert_int_equal(kk_event_check(ev, 0, NULL), KK_OK);
    assert_int_equal(kk_event_check(ev, KK_EVENT_STRICT, NULL), KK_ERR_INVALID);
    cJSON *copy = kk_event_copy(ev);
    assert_non_null(copy);
    assert_null(cJSON_GetObjectItemCaseSensitive(copy, "pad"));
    assert_null(cJSON_GetObjectItemCaseSensitive(copy, "score")); /* not a page_view field */
    assert_int_equal(cJSON_GetArraySize(copy), 7);
    assert_int_equal(kk_event_check(copy, KK_EVENT_STRICT, NULL), KK_OK);
    cJSON_Delete(copy);
    cJSON_Delete(ev);
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
        cmocka_unit_test(test_every_allocation_fails_in_turn),
        cmocka_unit_test(test_known_types),
        cmocka_unit_test(test_shared_cases_kiosk),
        cmocka_unit_test(test_contract_rows),
        cmocka_unit_test(test_copy_keeps_contract_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
