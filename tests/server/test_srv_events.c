/* Unit tests of the server's pure parts: event validation per type, CSV rendering,
 * day parsing and tokens (the login back-off: test_srv_auth.c). The HTTP routes are tested against
 * the real server in tests/integration/server_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kepu/buf.h"
#include "srv_api.h"
#include "srv_auth.h"
#include "srv_events.h"
#include "srv_table.h"

#define NOW 1764100000000LL

/* Checks the event text; returns 1 if valid, and the reason in *reason otherwise. */
static int check_event(const char *json, struct srv_event *e, struct kk_buf *reason)
{
    cJSON *ev = cJSON_Parse(json);
    assert_non_null(ev);
    kk_buf_reset(reason);
    int ok = srv_event_check(ev, "k-1", NOW, e, reason);
    cJSON_Delete(ev);
    return ok;
}

#define BASE "\"id\":\"0123456789abcdef0123456789abcdef\",\"kiosk\":\"k-1\",\"ts\":1764100000000"

static void test_valid_events(void **state)
{
    (void)state;
    struct srv_event e;
    struct kk_buf r = KK_BUF_INIT;
    static const char *const good[] = {
        "{" BASE ",\"type\":\"boot\"}",
        "{" BASE ",\"type\":\"session_start\",\"session\":\"ab12\",\"audience\":null}",
        "{" BASE ",\"type\":\"session_end\",\"duration_ms\":5,\"reason\":\"idle\"}",
        "{" BASE ",\"type\":\"page_view\",\"topic\":\"quake\",\"page\":2,\"dwell_ms\":9}",
        "{" BASE ",\"type\":\"quiz_answer\",\"topic\":\"t\",\"question\":\"q\",\"choice\":[0,2],"
        "\"correct\":false,\"ms\":1}",
        "{" BASE ",\"type\":\"quiz_complete\",\"topic\":\"t\",\"score\":3,\"total\":3}",
        "{" BASE ",\"type\":\"language\",\"lang\":\"en\"}",
        "{" BASE ",\"type\":\"audience\",\"audience\":\"elderly\"}",
        "{" BASE ",\"type\":\"idle_reset\",\"pack\":\"quake@1\"}",
        "{" BASE ",\"type\":\"error\",\"code\":\"E1\",\"detail\":\"\"}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int ok = check_event(good[i], &e, &r);
        if (!ok)
            fail_msg("%s: %s", good[i], kk_buf_str(&r));
    }
    kk_buf_release(&r);
}

static void test_invalid_events(void **state)
{
    (void)state;
    struct srv_event e;
    struct kk_buf r = KK_BUF_INIT;
    static const char *const bad[][2] = {
        {"[]", "event: must be an object"},
        {"{\"kiosk\":\"k-1\"}", "id: missing"},
        {"{\"id\":\"XYZ\"}", "id: must be 32"},
        {"{" BASE "}", "type: missing"},
        {"{" BASE ",\"type\":\"dance\"}", "type: unknown event type"},
        {"{\"id\":\"0123456789abcdef0123456789abcdef\",\"kiosk\":\"k-2\",\"ts\":1,\"type\":"
         "\"boot\"}",
         "kiosk: does not match"},
        {"{\"id\":\"0123456789abcdef0123456789abcdef\",\"kiosk\":\"k-1\",\"ts\":1.5,"
         "\"type\":\"boot\"}",
         "ts: must be a whole number"},
        {"{" BASE ",\"type\":\"boot\",\"lang\":\"fr\"}", "lang: must be zh or en"},
        {"{" BASE ",\"type\":\"boot\",\"session\":\"not hex\"}", "session: must be hex"},
        {"{" BASE ",\"type\":\"page_view\",\"topic\":\"t\",\"page\":-1,\"dwell_ms\":1}",
         "page: must be a whole number"},
        {"{" BASE ",\"type\":\"quiz_answer\",\"topic\":\"t\",\"question\":\"q\",\"choice\":[9],"
         "\"correct\":true,\"ms\":1}",
         "choice: must hold whole numbers"},
        {"{" BASE ",\"type\":\"quiz_complete\",\"topic\":\"t\",\"score\":4,\"total\":3}",
         "score: must be a whole number from 0 to 3"},
        {"{" BASE ",\"type\":\"audience\"}", "audience: missing"},
        {"{" BASE ",\"type\":\"error\",\"code\":\"a\\u0001b\"}", "code: must be text"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check_event(bad[i][0], &e, &r), 0);
        if (!strstr(kk_buf_str(&r), bad[i][1]))
            fail_msg("%s: reason [%s] lacks [%s]", bad[i][0], kk_buf_str(&r), bad[i][1]);
    }
    kk_buf_release(&r);
}

static void test_event_fields_for_rollups(void **state)
{
    (void)state;
    struct srv_event e;
    struct kk_buf r = KK_BUF_INIT;
    cJSON *ev = cJSON_Parse("{" BASE ",\"type\":\"quiz_answer\",\"audience\":\"farmers\","
                            "\"topic\":\"flu\",\"question\":\"q7\",\"choice\":[1],"
                            "\"correct\":true,\"ms\":3}");
    assert_int_equal(srv_event_check(ev, "k-1", NOW, &e, &r), 1);
    assert_string_equal(e.topic, "flu");
    assert_string_equal(e.question, "q7");
    assert_string_equal(e.audience, "farmers");
    assert_int_equal(e.correct, 1);
    assert_int_equal(e.ts, NOW);
    cJSON_Delete(ev);
    kk_buf_release(&r);
}

static void test_csv(void **state)
{
    (void)state;
    static const char *const cols[] = {"name", "n"};
    struct srv_table t;
    struct kk_buf out = KK_BUF_INIT;
    assert_int_equal(srv_table_init(&t, cols, 2), KK_OK);
    struct srv_cell *row = srv_table_add_row(&t);
    assert_int_equal(srv_cell_set_text(&row[0], "科技馆, \"东\""), KK_OK);
    row[1].kind = SRV_CELL_INT;
    row[1].i = 42;
    row = srv_table_add_row(&t);
    assert_int_equal(srv_cell_set_text(&row[0], "=cmd()"), KK_OK);
    assert_int_equal(srv_table_to_csv(&t, &out), KK_OK);
    assert_string_equal(kk_buf_str(&out),
                        "\xEF\xBB\xBFname,n\r\n\"科技馆, \"\"东\"\"\",42\r\n'=cmd(),\r\n");
    srv_table_release(&t);
    kk_buf_release(&out);
}

static void test_parse_day(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(srv_parse_day("2026-11-26", &ms), 0);
    assert_int_equal(ms, 1795622400000LL); /* 2026-11-25T16:00Z, midnight at UTC+8 */
    assert_int_equal(srv_parse_day("2026-02-29", &ms), -1);
    assert_int_equal(srv_parse_day("2026-1-01", &ms), -1);
    assert_int_equal(srv_parse_day("2026-01-01x", &ms), -1);
    assert_int_equal(srv_parse_day(NULL, &ms), -1);
}

static void test_tokens(void **state)
{
    (void)state;
    char a[SRV_TOKEN_LEN + 1], b[SRV_TOKEN_LEN + 1], h[SRV_HASH_LEN + 1];
    assert_int_equal(srv_auth_init(), KK_OK);
    srv_token_new(a);
    srv_token_new(b);
    assert_true(srv_token_well_formed(a));
    assert_string_not_equal(a, b);
    srv_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_false(srv_token_well_formed("../../etc/passwd"));
    assert_false(srv_token_well_formed(h + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_events),
        cmocka_unit_test(test_invalid_events),
        cmocka_unit_test(test_event_fields_for_rollups),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_parse_day),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
