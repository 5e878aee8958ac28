/* Unit tests of src/core/schedule.c: the dates of dated assignments (issue 16) and which
 * one is in force, in the process's local time zone (Asia/Shanghai here, and Berlin for
 * summer time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kepu/schedule.h"
#include "kk_test.h"

static void use_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_parse(void **state)
{
    (void)state;
    struct kk_when w;
    assert_int_equal(kk_when_parse("2026-12-07", &w), 0);
    assert_int_equal(w.year * 10000 + w.month * 100 + w.day, 20261207);
    assert_int_equal(w.hour + w.minute, 0);
    assert_int_equal(kk_when_parse("2026-12-07T09:30", &w), 0);
    assert_int_equal(w.hour * 100 + w.minute, 930);
    assert_int_equal(kk_when_parse("2026-12-07 23:59", &w), 0);
    assert_int_equal(kk_when_parse("2028-02-29", &w), 0); /* a leap day */
    static const char *const bad[] = {
        "",
        "next monday",
        "2026-12-7",
        "2026-13-01",
        "2026-02-29",
        "2026-04-31",
        "2026-12-07T24:00",
        "2026-12-07T09:60",
        "1999-12-31",
        "2026-12-07T09:30Z",
        "2026-12-07T09:30:00",
        "2026/12/07",
        "2026-12-07T9:30",
        "+026-12-07",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (kk_when_parse(bad[i], &w) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_int_equal(kk_when_parse(NULL, &w), -1);
}

static void test_offsets(void **state)
{
    (void)state;
    /* 2026-12-07 00:00 in UTC+8 is 2026-12-06 16:00 UTC. */
    assert_true(kk_when_text_ms("2026-12-07", 8 * 3600) == 1796601600000LL - 8 * 3600000LL);
    use_zone("Asia/Shanghai");
    assert_true(kk_when_text_ms("2026-12-07", KK_WHEN_LOCAL) ==
                kk_when_text_ms("2026-12-07", 8 * 3600));
    assert_true(kk_when_text_ms("2026-12-07T09:30", KK_WHEN_LOCAL) ==
                kk_when_text_ms("2026-12-07", 8 * 3600) + (9 * 60 + 30) * 60000LL);
    /* Berlin: the local zone's own summer time counts. */
    use_zone("Europe/Berlin");
    assert_true(kk_when_text_ms("2026-07-01", KK_WHEN_LOCAL) ==
                kk_when_text_ms("2026-07-01", 7200));
    assert_true(kk_when_text_ms("2026-12-01", KK_WHEN_LOCAL) ==
                kk_when_text_ms("2026-12-01", 3600));
    assert_true(kk_when_text_ms("", 0) == INT64_MIN);
    assert_true(kk_when_text_ms("bad", 0) == INT64_MIN);
    use_zone("Asia/Shanghai");
}

static struct kk_window win(const char *id, const char *version, const char *starts,
                            const char *ends)
{
    struct kk_window w = {0};
    snprintf(w.id, sizeof(w.id), "%s", id);
    snprintf(w.version, sizeof(w.version), "%s", version);
    snprintf(w.starts, sizeof(w.starts), "%s", starts);
    snprintf(w.ends, sizeof(w.ends), "%s", ends);
    return w;
}

static void test_pick(void **state)
{
    (void)state;
    use_zone("Asia/Shanghai");
    struct kk_window w[] = {
        win("quake", "2", "2026-12-07", "2026-12-14"),
        win("quake", "3", "2026-12-10T09:00", "2026-12-11"), /* inside the first: wins */
        win("farm", "5", "", "2026-12-08"),                  /* from now on, until */
        win("farm", "6", "2026-12-20", ""),                  /* open end */
        win("quake", "9", "2026-13-01", ""),                 /* unreadable: never */
    };
    size_t n = sizeof(w) / sizeof(w[0]);
    int64_t mon = kk_when_text_ms("2026-12-07", KK_WHEN_LOCAL);
    int64_t h = 3600000;
    assert_int_equal(kk_window_pick(w, n, "quake", mon - 1), -1);
    assert_int_equal(kk_window_pick(w, n, "quake", mon), 0);
    assert_int_equal(kk_window_pick(w, n, "quake", mon + 3 * 24 * h + 9 * h - 1), 0);
    assert_int_equal(kk_window_pick(w, n, "quake", mon + 3 * 24 * h + 9 * h), 1);
    assert_int_equal(kk_window_pick(w, n, "quake", mon + 4 * 24 * h), 0);
    assert_int_equal(kk_window_pick(w, n, "quake", mon + 7 * 24 * h - 1), 0);
    assert_int_equal(kk_window_pick(w, n, "quake", mon + 7 * 24 * h), -1); /* the end is out */
    assert_int_equal(kk_window_pick(w, n, "farm", 0), 2);
    assert_int_equal(kk_window_pick(w, n, "farm", mon + 24 * h), -1);
    assert_int_equal(kk_window_pick(w, n, "farm", mon + 13 * 24 * h), 3);
    assert_int_equal(kk_window_pick(w, n, "farm", INT64_MAX - 1), 3);
    assert_int_equal(kk_window_pick(w, n, "other", mon), -1);
}

/* The server reads the dates at the city's fixed offset, whatever its own zone. */
static void test_pick_at(void **state)
{
    (void)state;
    use_zone("UTC");
    struct kk_window w[] = {win("quake", "2", "2026-12-07", "2026-12-14")};
    int64_t mon_utc = kk_when_text_ms("2026-12-07", KK_WHEN_LOCAL);
    int64_t h = 3600000;
    assert_int_equal(kk_window_pick(w, 1, "quake", mon_utc - 8 * h), -1);
    assert_int_equal(kk_window_pick_at(w, 1, "quake", mon_utc - 8 * h, 8 * 3600), 0);
    assert_int_equal(kk_window_pick_at(w, 1, "quake", mon_utc - 8 * h - 1, 8 * 3600), -1);
    assert_int_equal(kk_window_pick_at(w, 1, "quake", mon_utc + 7 * 24 * h - 8 * h, 8 * 3600), -1);
    assert_int_equal(kk_window_pick_at(w, 1, "quake", mon_utc, KK_WHEN_LOCAL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_pick_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
