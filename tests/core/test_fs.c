/* The file-system helpers: safe pack paths, atomic replace, number and size parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kk_test.h"

static void test_safe_paths(void **state)
{
    (void)state;
    assert_true(kk_path_is_safe("images/a.svg"));
    assert_true(kk_path_is_safe("pack.json"));
    const char *bad[] = {"",    "/etc/passwd", "../x", "a/../b", "a/./b",
                         "./a", "a//b",        "a/",   "a\\b",   ".."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (kk_path_is_safe(bad[i]))
            fail_msg("\"%s\" taken for safe", bad[i]);
    char longp[KK_MAX_PATH_LEN + 2];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_false(kk_path_is_safe(longp));
}

static void test_parse_numbers_and_sizes(void **state)
{
    (void)state;
    long v;
    assert_int_equal(kk_parse_long("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(kk_parse_long("101", 0, 100, &v), -1);
    assert_int_equal(kk_parse_long("4x", 0, 100, &v), -1);
    assert_int_equal(kk_parse_long("", 0, 100, &v), -1);
    assert_int_equal(kk_parse_long("99999999999999999999", 0, 100, &v), -1);
    int w = 0, h = 0;
    assert_int_equal(kk_parse_size("1080x1920", 320, 16384, &w, &h), 0);
    assert_int_equal(w, 1080);
    assert_int_equal(h, 1920);
    const char *bad[] = {"1920",       "x1080",     "1920x",       "100x1080",
                         "1920x99999", "19a0x1080", "1920x1080x3", "12345678901234567x1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!kk_parse_size(bad[i], 320, 16384, &w, &h))
            fail_msg("\"%s\" parsed as a size", bad[i]);
}

static void test_atomic_replace_and_capped_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/kk-fs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = tt_join(dir, "active.json");
    struct kk_buf b = KK_BUF_INIT, err = KK_BUF_INIT;
    assert_int_equal(kk_file_write_atomic(path, "old", 3, NULL), KK_OK);
    assert_int_equal(kk_file_write_atomic(path, "new!", 4, NULL), KK_OK);
    assert_int_equal(kk_file_read(path, 100, &b, NULL), KK_OK);
    assert_string_equal(kk_buf_str(&b), "new!");
    char *tmp = tt_join(dir, "active.json.tmp");
    assert_false(tt_exists(tmp)); /* no temporary file left behind */
    kk_buf_reset(&b);
    assert_int_equal(kk_file_read(path, 3, &b, &err), KK_ERR_TOOBIG);
    assert_non_null(strstr(kk_buf_str(&err), "active.json"));
    assert_int_equal(b.len, 0);
    kk_buf_reset(&err);
    assert_int_equal(kk_file_read(dir, 100, &b, &err), KK_ERR_INVALID); /* a folder */
    char *missing = tt_join(dir, "missing");
    assert_int_equal(kk_file_read(missing, 100, &b, NULL), KK_ERR_NOTFOUND);
    /* A folder that cannot hold the file: the old content stays. */
    char *nowhere = tt_join(missing, "x.json");
    assert_int_not_equal(kk_file_write_atomic(nowhere, "x", 1, NULL), KK_OK);
    char *deep = tt_join(dir, "a/b/c");
    assert_int_equal(kk_mkdirs(deep, 0755, NULL), KK_OK);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
    assert_false(tt_exists(dir));
    kk_free(path);
    kk_free(tmp);
    kk_free(missing);
    kk_free(nowhere);
    kk_free(deep);
    kk_buf_release(&b);
    kk_buf_release(&err);
}

static void test_write_all(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(kk_write_all(fds[1], "科普 kiosk", strlen("科普 kiosk")), 0);
    char got[32] = "";
    assert_int_equal(read(fds[0], got, sizeof(got) - 1), (ssize_t)strlen("科普 kiosk"));
    assert_string_equal(got, "科普 kiosk");
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(kk_write_all(fds[1], "x", 1), -1); /* no reader left */
    close(fds[1]);
    assert_int_equal(kk_write_all(-1, "x", 1), -1);
}

static void test_hex(void **state)
{
    (void)state;
    char out[33];
    const unsigned char in[] = {0x00, 0xab, 0xff};
    kk_hex_encode(out, in, 3);
    assert_string_equal(out, "00abff");
    char a[33], b[33];
    kk_random_hex(a, 16);
    kk_random_hex(b, 16);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_paths),
        cmocka_unit_test(test_parse_numbers_and_sizes),
        cmocka_unit_test(test_atomic_replace_and_capped_read),
        cmocka_unit_test(test_write_all),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
