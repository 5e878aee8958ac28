/* Unit tests of src/core/fleet.c: the fleet parts of a heartbeat answer are checked whole,
 * opening hours are computed in their own time zone (Asia/Shanghai from the tz database),
 * and a command's result survives a restart so it is never run twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fleet.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kk_test.h"

#define WEEK_9_17                                                                                  \
    "[[[\"09:00\",\"17:00\"]],[[\"09:00\",\"17:00\"]],[[\"09:00\",\"12:00\"],[\"13:00\","          \
    "\"17:00\"]],[[\"09:00\",\"17:00\"]],[[\"09:00\",\"17:00\"]],[[\"10:00\",\"24:00\"]],[]]"

static void parse_ok(const char *json, struct kk_fleet_answer *a)
{
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_fleet_parse(json, strlen(json), a, &err);
    if (rc)
        fail_msg("%s", kk_buf_str(&err));
    kk_buf_release(&err);
}

static void parse_bad(const char *json, const char *want)
{
    struct kk_fleet_answer *a = kk_calloc(1, sizeof(*a));
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_fleet_parse(json, strlen(json), a, &err), KK_ERR_PARSE);
    if (strchr(kk_buf_str(&err), '\n') || !strstr(kk_buf_str(&err), want))
        fail_msg("error \"%s\", wanted one line containing \"%s\"", kk_buf_str(&err), want);
    kk_buf_release(&err);
    kk_free(a);
}

static void test_parse_answer(void **state)
{
    (void)state;
    struct kk_fleet_answer *a = kk_calloc(1, sizeof(*a));
    parse_ok("{\"packs\":[],\"commands\":[{\"id\":\"c1\",\"type\":\"screenshot\",\"args\":{},"
             "\"expires\":1900000000000},{\"id\":\"c2\",\"type\":\"logs\",\"args\":{\"lines\":5}}],"
             "\"notices\":[{\"id\":\"n1\",\"level\":\"takeover\",\"text\":{\"zh\":\"台风\","
             "\"en\":\"Typhoon\"},\"from\":1000,\"to\":2000},{\"id\":\"n2\",\"level\":\"banner\","
             "\"text\":{\"en\":\"Only English\"},\"from\":1,\"to\":2}],"
             "\"hours\":{\"tz\":\"Asia/Shanghai\",\"week\":" WEEK_9_17
             ",\"closed\":[\"2026-12-25\"]},\"next_heartbeat_s\":15}",
             a);
    assert_int_equal(a->ncommands, 2);
    assert_string_equal(a->commands[0].id, "c1");
    assert_int_equal(a->commands[0].type, KK_CMD_SCREENSHOT);
    assert_int_equal(a->commands[0].expires_ms, 1900000000000LL);
    assert_int_equal(a->commands[1].type, KK_CMD_LOGS);
    assert_int_equal(a->commands[1].lines, 5);
    assert_int_equal(a->commands[1].expires_ms, 0);
    assert_int_equal(a->nnotices, 2);
    assert_true(a->has_notices);
    assert_true(a->notices[0].takeover);
    assert_string_equal(a->notices[0].zh, "台风");
    assert_string_equal(a->notices[0].en, "Typhoon");
    assert_int_equal(a->notices[0].from_ms, 1000);
    assert_int_equal(a->notices[0].to_ms, 2000);
    assert_false(a->notices[1].takeover);
    assert_string_equal(a->notices[1].zh, "Only English"); /* the other language stands in */
    assert_true(a->has_hours);
    assert_int_equal(a->hours.nranges[2], 2);
    assert_int_equal(a->hours.nclosed, 1);
    assert_int_equal(a->next_heartbeat_s, 15);

    parse_ok("{\"packs\":[]}", a);
    assert_int_equal(a->ncommands, 0);
    assert_false(a->has_notices);
    assert_false(a->has_hours);
    kk_free(a);
}

static void test_parse_bad(void **state)
{
    (void)state;
    parse_bad("[1]", "heartbeat: the answer is not a JSON object");
    parse_bad("{\"commands\":[{\"id\":\"c1\",\"type\":\"reboot\"}]}", "heartbeat: commands[0]:");
    parse_bad("{\"commands\":[{\"id\":\"\",\"type\":\"sync\"}]}", "heartbeat: commands[0]:");
    parse_bad("{\"commands\":[{\"id\":\"a\",\"type\":\"sync\"},{\"id\":\"b\",\"type\":\"sync\","
              "\"expires\":\"soon\"}]}",
              "heartbeat: commands[1]:");
    parse_bad("{\"commands\":[{\"id\":\"a\",\"type\":\"logs\",\"args\":{\"lines\":0}}]}",
              "args.lines is not 1..1000");
    parse_bad("{\"commands\":{}}", "heartbeat: commands: not a list");
    parse_bad("{\"notices\":[{\"id\":\"n\",\"level\":\"banner\",\"text\":{\"zh\":\"x\"},"
              "\"from\":2000,\"to\":1000}]}",
              "heartbeat: notices[0]:");
    parse_bad("{\"notices\":[{\"id\":\"n\",\"level\":\"popup\",\"text\":{\"zh\":\"x\"},"
              "\"from\":1,\"to\":2}]}",
              "heartbeat: notices[0]:");
    parse_bad("{\"notices\":[{\"id\":\"n\",\"level\":\"banner\",\"text\":{},\"from\":1,\"to\":2}]}",
              "heartbeat: notices[0]:");
    parse_bad("{\"hours\":{\"tz\":\"Asia/Shanghai\",\"week\":[[],[],[]]}}",
              "hours: week: not a list of 7 days");
    parse_bad("{\"hours\":{\"tz\":\"Asia/Shanghai\",\"week\":[[],[],[[\"17:00\",\"09:00\"]],[],[],"
              "[],[]]}}",
              "hours: week[2]: a range");
    parse_bad("{\"hours\":{\"tz\":\"Asia/Shanghai\",\"week\":[[],[],[[\"9:00\",\"17:00\"]],[],[],"
              "[],[]]}}",
              "hours: week[2]: a range");
    parse_bad("{\"hours\":{\"tz\":\"Asia/Shanghai\",\"week\":[[],[],[],[],[],[],[]],"
              "\"closed\":[\"2026-02-30\"]}}",
              "hours: closed: \"2026-02-30\" is not a YYYY-MM-DD date");
    parse_bad("{\"hours\":{\"tz\":\"../../etc/passwd\",\"week\":[[],[],[],[],[],[],[]]}}",
              "is not a time zone name");
    parse_bad("{\"hours\":{\"tz\":\"Mars/Olympus\",\"week\":[[],[],[],[],[],[],[]]}}",
              "hours: tz: no time zone \"Mars/Olympus\"");
    parse_bad("{\"next_heartbeat_s\":0}", "next_heartbeat_s is not 1..86400");
}

/* 2026-12-02 is a Wednesday; Shanghai is UTC+8 all year. */
#define WED_UTC_MIDNIGHT 1796169600000LL /* 2026-12-02T00:00:00Z = 08:00 in Shanghai */
#define MIN              60000LL

static void test_hours_shanghai(void **state)
{
    (void)state;
    struct kk_hours *h = kk_calloc(1, sizeof(*h));
    struct kk_buf err = KK_BUF_INIT;
    const char *json =
        "{\"tz\":\"Asia/Shanghai\",\"week\":" WEEK_9_17 ",\"closed\":[\"2026-12-03\"]}";
    assert_int_equal(kk_hours_parse(json, strlen(json), h, &err), KK_OK);
    assert_int_equal(kk_tz_offset(&h->tz, WED_UTC_MIDNIGHT / 1000), 8 * 3600);
    int64_t next = 0;
    /* 08:59 local: closed, opens at 09:00 */
    assert_false(kk_hours_open(h, WED_UTC_MIDNIGHT + 59 * MIN, &next));
    assert_int_equal(next, WED_UTC_MIDNIGHT + 60 * MIN);
    assert_true(kk_hours_open(h, WED_UTC_MIDNIGHT + 60 * MIN, &next));
    assert_int_equal(next, WED_UTC_MIDNIGHT + 4 * 60 * MIN); /* the lunch break at 12:00 */
    assert_false(kk_hours_open(h, WED_UTC_MIDNIGHT + (4 * 60 + 30) * MIN, NULL));
    assert_true(kk_hours_open(h, WED_UTC_MIDNIGHT + (5 * 60 + 1) * MIN, NULL));
    /* 16:59 open, 17:00 closed */
    assert_true(kk_hours_open(h, WED_UTC_MIDNIGHT + (9 * 60 - 1) * MIN, NULL));
    assert_false(kk_hours_open(h, WED_UTC_MIDNIGHT + 9 * 60 * MIN, &next));
    /* Thursday 2026-12-03 is closed: the next opening is Friday 09:00 local. */
    assert_int_equal(next, WED_UTC_MIDNIGHT + (2 * 24 * 60 + 60) * MIN);
    assert_false(kk_hours_open(h, WED_UTC_MIDNIGHT + (24 * 60 + 120) * MIN, NULL));
    /* Saturday 10:00 to midnight; Sunday closed all day. */
    int64_t sat = WED_UTC_MIDNIGHT + 3 * 24 * 60 * MIN;
    assert_true(kk_hours_open(h, sat + (15 * 60 + 59) * MIN, NULL)); /* 23:59 local */
    assert_false(kk_hours_open(h, sat + 16 * 60 * MIN, NULL));       /* Sunday 00:00 */
    /* Local midnight is 16:00 UTC: the day is the zone's, not UTC's (Tuesday 23:30 local is
     * Tuesday 15:30 UTC: closed; Wednesday 00:30 local is still Tuesday in UTC). */
    assert_false(kk_hours_open(h, WED_UTC_MIDNIGHT - (7 * 60 + 30) * MIN, NULL));
    kk_free(h);
    kk_buf_release(&err);
}

static void test_tz_dst(void **state)
{
    (void)state;
    struct kk_tz *tz = kk_calloc(1, sizeof(*tz));
    assert_int_equal(kk_tz_load(tz, "Europe/Berlin", NULL), KK_OK);
    assert_int_equal(kk_tz_offset(tz, 1782864000), 2 * 3600); /* 2026-07-01: summer time */
    assert_int_equal(kk_tz_offset(tz, 1798761600), 1 * 3600); /* 2027-01-01 */
    assert_int_equal(kk_tz_load(tz, "UTC", NULL), KK_OK);
    assert_int_equal(kk_tz_offset(tz, 1798761600), 0);
    kk_free(tz);
}

static void test_done_survives(void **state)
{
    (void)state;
    char dir[] = "/tmp/kk-test-fleet-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct kk_fleet_done *d = NULL;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_fleet_done_open(&d, dir, &err), KK_OK);
    assert_false(kk_fleet_done_has(d, "c1"));
    assert_int_equal(kk_fleet_done_add(d, "c1", 1, "sync started", &err), KK_OK);
    assert_int_equal(kk_fleet_done_add(d, "c2", 0, "expired", &err), KK_OK);
    kk_fleet_done_close(d);

    /* A new process (after SIGKILL: the file was written before add returned). */
    assert_int_equal(kk_fleet_done_open(&d, dir, &err), KK_OK);
    assert_true(kk_fleet_done_has(d, "c1"));
    size_t n = 0;
    char *text = kk_fleet_done_pending(d, &n);
    assert_int_equal(n, 2);
    assert_string_equal(text, "[{\"id\":\"c1\",\"ok\":true,\"detail\":\"sync started\"},"
                              "{\"id\":\"c2\",\"ok\":false,\"detail\":\"expired\"}]");
    kk_free(text);
    assert_int_equal(kk_fleet_done_reported(d, 2, &err), KK_OK);
    kk_fleet_done_close(d);
    assert_int_equal(kk_fleet_done_open(&d, dir, &err), KK_OK);
    text = kk_fleet_done_pending(d, &n);
    assert_int_equal(n, 0);
    assert_string_equal(text, "[]");
    kk_free(text);
    assert_true(kk_fleet_done_has(d, "c2")); /* reported, still not run again */
    kk_fleet_done_close(d);

    /* A damaged file: empty, said so, not a failure. */
    char *path = tt_join(dir, "fleet-done.json");
    tt_write_file(dir, "fleet-done.json", "{\"done\": [tru");
    kk_buf_reset(&err);
    assert_int_equal(kk_fleet_done_open(&d, dir, &err), KK_OK);
    assert_non_null(strstr(kk_buf_str(&err), "is damaged"));
    assert_false(kk_fleet_done_has(d, "c1"));
    kk_fleet_done_close(d);
    unlink(path);
    kk_free(path);
    rmdir(dir);
    kk_buf_release(&err);
}

static void test_log_tail(void **state)
{
    (void)state;
    kk_log_set_level(KK_LOG_INFO);
    for (int i = 0; i < 1050; i++)
        kk_info("test", "line %d", i);
    struct kk_buf b = KK_BUF_INIT;
    kk_log_tail(&b, 3);
    const char *t = kk_buf_str(&b);
    assert_non_null(strstr(t, "info test: line 1047\n"));
    assert_non_null(strstr(t, "info test: line 1049\n"));
    assert_null(strstr(t, "line 1046"));
    kk_buf_reset(&b);
    kk_log_tail(&b, 5000); /* at most the ring */
    size_t lines = 0;
    for (const char *p = kk_buf_str(&b); *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, KK_FLEET_LOG_LINES);
    kk_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_answer),   cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_hours_shanghai), cmocka_unit_test(test_tz_dst),
        cmocka_unit_test(test_done_survives),  cmocka_unit_test(test_log_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
