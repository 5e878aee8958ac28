/* Unit tests of src/server/srv_review.c's version numbers: YYYY.MM.N by the city's month
 * (UTC+8), one more than the highest N of that month, other months and other shapes
 * ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "srv_review.h"

/* 2026-12-02 10:00 UTC, and 2026-11-30 17:00 UTC (already December 1st in the city). */
#define DEC_2_2026   1796205600000LL
#define NOV_30_17UTC 1796058000000LL

static void test_first_of_the_month(void **state)
{
    (void)state;
    char v[32];
    srv_review_next_version(NULL, 0, DEC_2_2026, v);
    assert_string_equal(v, "2026.12.1");
    static const char *const old[] = {"2026.11.1", "2026.11.7", "1.0", NULL};
    srv_review_next_version(old, 4, DEC_2_2026, v);
    assert_string_equal(v, "2026.12.1");
}

static void test_after_the_highest(void **state)
{
    (void)state;
    char v[32];
    static const char *const seen[] = {"2026.12.2", "2026.12.10", "2026.12.9",
                                       "2026.12.x", "2026.12.",   "2026.120.1"};
    srv_review_next_version(seen, 6, DEC_2_2026, v);
    assert_string_equal(v, "2026.12.11");
}

static void test_city_month(void **state)
{
    (void)state;
    char v[32];
    static const char *const nov[] = {"2026.11.3"};
    srv_review_next_version(nov, 1, NOV_30_17UTC, v);
    assert_string_equal(v, "2026.12.1");
    srv_review_next_version(nov, 1, NOV_30_17UTC - 2 * 3600 * 1000LL, v);
    assert_string_equal(v, "2026.11.4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_of_the_month),
        cmocka_unit_test(test_after_the_highest),
        cmocka_unit_test(test_city_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
