/* Unit tests of the server's pure parts: event validation per type, CSV rendering,
 * day parsing and tokens (the login back-off: test_srv_auth.c). The HTTP routes are tested against
 * the real server in tests/integration/server_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "event_cases.h"
#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kk_test.h"
#include "srv_api.h"
#include "srv_auth.h"
#include "srv_events.h"
#include "srv_store.h"
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

/* --- the shared table: the server refuses what the kiosk refuses, for the same reason --- */

/* The rejected reason of a batch holding the one event json, through the real ingest. */
static void ingest_reason(struct srv_store *store, const char *json, struct kk_buf *reason)
{
    struct kk_buf body = KK_BUF_INIT;
    struct srv_batch_result res;
    assert_int_equal(kk_buf_addf(&body, "{\"kiosk\":\"k-1\",\"events\":[%s]}", json), KK_OK);
    cJSON *batch = cJSON_Parse(kk_buf_str(&body));
    assert_non_null(batch);
    assert_int_equal(srv_events_batch(store, "k-1", batch, NOW, &res), KK_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.rejected, 1);
    cJSON *answer = cJSON_Parse(kk_buf_str(&res.body));
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "rejected"), 0);
    kk_buf_reset(reason);
    assert_int_equal(
        kk_buf_adds(reason, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "reason"))),
        KK_OK);
    cJSON_Delete(answer);
    cJSON_Delete(batch);
    kk_buf_release(&res.body);
    kk_buf_release(&body);
}

static void test_shared_cases_server(void **state)
{
    (void)state;
    struct srv_store none = {NULL, NULL}; /* a batch with no good event never reaches a store */
    struct kk_buf r = KK_BUF_INIT;
    for (size_t i = 0; i < EVENT_NCASES; i++) {
        ingest_reason(&none, event_cases[i].json, &r);
        if (strcmp(kk_buf_str(&r), event_cases[i].reason))
            fail_msg("%s: server says [%s], the table [%s]", event_cases[i].json, kk_buf_str(&r),
                     event_cases[i].reason);
    }
    kk_buf_release(&r);
}

/* --- ingest limits and what is stored (issue 11) ---------------------------------------- */

struct fixture {
    char dir[64];
    struct srv_store *store;
    sqlite3 *db;
};

static void fixture_open(struct fixture *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/kk-srv-events-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(srv_store_open(&f->store, f->dir, NULL, NULL), KK_OK);
    char *path = tt_join(f->dir, "kepu.db");
    assert_int_equal(sqlite3_open(path, &f->db), SQLITE_OK);
    kk_free(path);
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.min_free_bytes = 0;
    srv_events_set_limits(&lim);
}

static void fixture_close(struct fixture *f)
{
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    srv_events_set_limits(&lim);
    sqlite3_close(f->db);
    srv_store_close(f->store);
    assert_int_equal(kk_remove_tree(f->dir, NULL), KK_OK);
}

static int64_t sql_int(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Sends n boot events (ids from first on, ts at ts_ms, pad bytes of an unknown member)
 * at now_ms; returns the status and the Retry-After in *retry. */
static int send_boots(struct fixture *f, unsigned first, unsigned n, int64_t ts_ms, size_t pad,
                      int64_t now_ms, unsigned *retry)
{
    struct kk_buf b = KK_BUF_INIT;
    struct srv_batch_result res;
    char *padding = kk_calloc(pad + 1, 1);
    assert_non_null(padding);
    memset(padding, 'x', pad);
    assert_int_equal(kk_buf_adds(&b, "{\"kiosk\":\"k-1\",\"events\":["), KK_OK);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(kk_buf_addf(&b,
                                     "%s{\"id\":\"%032x\",\"kiosk\":\"k-1\",\"ts\":%lld,"
                                     "\"type\":\"boot\",\"pad\":\"%s\"}",
                                     i ? "," : "", first + i, (long long)ts_ms, padding),
                         KK_OK);
    assert_int_equal(kk_buf_adds(&b, "]}"), KK_OK);
    cJSON *batch = cJSON_Parse(kk_buf_str(&b));
    assert_non_null(batch);
    assert_int_equal(srv_events_batch(f->store, "k-1", batch, now_ms, &res), KK_OK);
    *retry = res.retry_after_s;
    cJSON_Delete(batch);
    kk_buf_release(&res.body);
    kk_buf_release(&b);
    kk_free(padding);
    return res.status;
}

static void test_only_contract_fields_stored(void **state)
{
    (void)state;
    struct fixture f;
    unsigned retry;
    fixture_open(&f);
    assert_int_equal(send_boots(&f, 1, 3, NOW, 10000, NOW, &retry), 200);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 3);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events WHERE body LIKE '%pad%'"), 0);
    assert_true(sql_int(&f, "SELECT MAX(length(body)) FROM events") < 200);
    fixture_close(&f);
}

static void test_rate_limit_answers_429(void **state)
{
    (void)state;
    struct fixture f;
    unsigned retry = 0;
    fixture_open(&f);
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.min_free_bytes = 0;
    lim.rate_per_s = 10;
    lim.burst = 1000;
    srv_events_set_limits(&lim);
    assert_int_equal(send_boots(&f, 1, 1000, NOW, 0, NOW, &retry), 200);
    assert_int_equal(send_boots(&f, 2000, 50, NOW, 0, NOW + 1000, &retry), 429);
    assert_int_equal(retry, 4); /* 10 of the 50 came back in that second */
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 1000); /* nothing of it kept */
    assert_int_equal(send_boots(&f, 2000, 50, NOW, 0, NOW + 5000, &retry), 200);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 1050);
    fixture_close(&f);
}

static void test_daily_quota_answers_429_until_the_next_day(void **state)
{
    (void)state;
    struct fixture f;
    unsigned retry = 0;
    fixture_open(&f);
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.min_free_bytes = 0;
    lim.quota_bytes_day = 500;
    srv_events_set_limits(&lim);
    assert_int_equal(send_boots(&f, 1, 10, NOW, 0, NOW, &retry), 200); /* about 900 bytes */
    assert_int_equal(send_boots(&f, 100, 1, NOW, 0, NOW, &retry), 429);
    /* NOW is 2025-11-25T19:46:40Z, 03:46:40 in the city: the day ends in 72800 s. */
    assert_int_equal(retry, 72800);
    assert_int_equal(send_boots(&f, 100, 1, NOW, 0, NOW + 72800000LL, &retry), 200);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 11);
    fixture_close(&f);
}

static void test_short_of_space_answers_503(void **state)
{
    (void)state;
    struct fixture f;
    unsigned retry = 0;
    fixture_open(&f);
    struct srv_events_limits lim;
    srv_events_limits_default(&lim);
    lim.min_free_bytes = UINT64_MAX / 2; /* more than any disk has */
    srv_events_set_limits(&lim);
    assert_int_equal(send_boots(&f, 1, 2, NOW, 0, NOW, &retry), 503);
    assert_true(retry > 0);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 0);
    fixture_close(&f);
}

/* A wrong kiosk clock loses nothing: the event is kept, flagged, with its receive time,
 * and counted in no statistic. */
static void test_implausible_time_kept_and_flagged(void **state)
{
    (void)state;
    struct fixture f;
    unsigned retry = 0;
    fixture_open(&f);
    assert_int_equal(send_boots(&f, 1, 1, 86400000, 0, NOW, &retry), 200);             /* 1970 */
    assert_int_equal(send_boots(&f, 2, 1, NOW + 2 * 86400000LL, 0, NOW, &retry), 200); /* ahead */
    assert_int_equal(send_boots(&f, 3, 1, NOW, 0, NOW, &retry), 200);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 3);
    assert_int_equal(sql_int(&f, "SELECT SUM(clock_flag) FROM events"), 2);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events WHERE received_ms = 1764100000000"),
                     3);
    assert_int_equal(sql_int(&f, "SELECT SUM(n) FROM day_type WHERE type = 'boot'"), 1);
    assert_int_equal(sql_int(&f, "SELECT n FROM counters WHERE name = 'events_clock_flagged'"), 2);
    fixture_close(&f);
}

/* Every allocation of a batch fails in turn (cJSON's too, through kk_json_init): the answer
 * is an error or a whole answer, never a crash or a leak, and a later retry stores every
 * good event exactly once. */
static void test_batch_allocation_failures(void **state)
{
    (void)state;
    struct fixture f;
    fixture_open(&f);
    const char *text = "{\"kiosk\":\"k-1\",\"events\":["
                       "{" EC_BASE ",\"type\":\"boot\"},"
                       "{\"id\":\"1123456789abcdef0123456789abcdef\",\"kiosk\":\"k-1\","
                       "\"ts\":1764100000000,\"type\":\"page_view\",\"topic\":\"t\",\"page\":1,"
                       "\"dwell_ms\":5,\"pad\":\"x\"},"
                       "{\"id\":\"2123456789abcdef0123456789abcdef\",\"kiosk\":\"k-1\","
                       "\"ts\":1,\"type\":\"dance\"}]}";
    cJSON *batch = cJSON_Parse(text);
    assert_non_null(batch);
    struct srv_batch_result res;
    kk_alloc_fail_after(0);
    assert_int_equal(srv_events_batch(f.store, "k-1", batch, NOW, &res), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    kk_buf_release(&res.body);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 2);
    assert_int_equal(sqlite3_exec(f.db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
    for (unsigned long n = 1; n <= count; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = srv_events_batch(f.store, "k-1", batch, NOW, &res);
        kk_alloc_fail_after(0);
        if (rc != KK_OK && rc != KK_ERR_NOMEM)
            fail_msg("allocation %lu: %s", n, kk_strerror(rc));
        kk_buf_release(&res.body);
    }
    assert_int_equal(srv_events_batch(f.store, "k-1", batch, NOW, &res), KK_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.accepted + res.duplicates, 2);
    assert_int_equal(res.rejected, 1);
    kk_buf_release(&res.body);
    assert_int_equal(sql_int(&f, "SELECT COUNT(DISTINCT id) FROM events"), 2);
    assert_int_equal(sql_int(&f, "SELECT COUNT(*) FROM events"), 2);
    cJSON_Delete(batch);
    fixture_close(&f);
}

/* kk_json_init at the start of every program: the server's cJSON allocations reach the
 * wrappers and their failure injection (they used to be installed on a first pack read,
 * which the server never does). */
static void test_cjson_goes_through_the_wrappers(void **state)
{
    (void)state;
    kk_alloc_fail_after(1);
    cJSON *o = cJSON_CreateObject();
    kk_alloc_fail_after(0);
    assert_null(o);
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
        cmocka_unit_test(test_shared_cases_server),
        cmocka_unit_test(test_only_contract_fields_stored),
        cmocka_unit_test(test_rate_limit_answers_429),
        cmocka_unit_test(test_daily_quota_answers_429_until_the_next_day),
        cmocka_unit_test(test_short_of_space_answers_503),
        cmocka_unit_test(test_implausible_time_kept_and_flagged),
        cmocka_unit_test(test_cjson_goes_through_the_wrappers),
        cmocka_unit_test(test_batch_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
