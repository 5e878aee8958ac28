#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/error.h"

static void test_append_and_format(void **state)
{
    (void)state;
    struct kk_buf b = KK_BUF_INIT;
    assert_string_equal(kk_buf_str(&b), "");
    assert_int_equal(kk_buf_adds(&b, "图书"), KK_OK);
    assert_int_equal(kk_buf_addf(&b, " %d-%s", 42, "x"), KK_OK);
    assert_string_equal(kk_buf_str(&b), "图书 42-x");
    assert_int_equal(b.len, strlen("图书 42-x"));
    kk_buf_release(&b);
    assert_null(b.data);
}

static void test_cap_refuses_and_keeps_contents(void **state)
{
    (void)state;
    struct kk_buf b;
    kk_buf_init(&b, 8);
    assert_int_equal(kk_buf_adds(&b, "12345678"), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "9"), KK_ERR_TOOBIG);
    assert_int_equal(kk_buf_addf(&b, "%s", "abc"), KK_ERR_TOOBIG);
    assert_string_equal(kk_buf_str(&b), "12345678");
    kk_buf_release(&b);
}

static void test_fail_appends_only_when_given(void **state)
{
    (void)state;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_fail(NULL, KK_ERR_IO, "x"), KK_ERR_IO);
    assert_int_equal(kk_fail(&err, KK_ERR_PARSE, "%s:%d: bad", "f.json", 3), KK_ERR_PARSE);
    assert_string_equal(kk_buf_str(&err), "f.json:3: bad");
    kk_buf_release(&err);
}

static void test_allocation_failure_leaves_buffer_intact(void **state)
{
    (void)state;
    struct kk_buf b = KK_BUF_INIT;
    assert_int_equal(kk_buf_adds(&b, "keep"), KK_OK);
    kk_alloc_fail_after(1);
    char big[512];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kk_buf_adds(&b, big), KK_ERR_NOMEM);
    kk_alloc_fail_after(0);
    assert_string_equal(kk_buf_str(&b), "keep");
    kk_buf_release(&b);
}

static void test_grow_keeps_elements_and_fails_cleanly(void **state)
{
    (void)state;
    int *v = NULL;
    size_t alloc = 0;
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(kk_grow((void **)&v, &alloc, i, sizeof(*v)), 0);
        assert_true(alloc > i);
        v[i] = (int)i;
    }
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(v[i], (int)i);
    size_t before = alloc;
    kk_alloc_fail_after(1);
    assert_int_equal(kk_grow((void **)&v, &alloc, before, sizeof(*v)), -1);
    kk_alloc_fail_after(0);
    assert_int_equal(alloc, before); /* untouched on failure */
    assert_int_equal(v[999], 999);
    kk_free(v);
}

/* The first failure is remembered: later appends that would fit do nothing, so the text is
 * never one with a piece missing from its middle; reset clears it. */
static void test_first_failure_is_remembered(void **state)
{
    (void)state;
    struct kk_buf b;
    kk_buf_init(&b, 8);
    assert_int_equal(kk_buf_error(&b), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "1234"), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "toolong"), KK_ERR_TOOBIG);
    assert_int_equal(kk_buf_adds(&b, "5"), KK_ERR_TOOBIG); /* would fit, but not after a gap */
    assert_int_equal(kk_buf_addf(&b, "%d", 6), KK_ERR_TOOBIG);
    assert_string_equal(kk_buf_str(&b), "1234");
    assert_int_equal(kk_buf_error(&b), KK_ERR_TOOBIG);
    kk_buf_reset(&b);
    assert_int_equal(kk_buf_error(&b), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "ok"), KK_OK);
    kk_buf_release(&b);

    /* The test hook fails exactly the n-th append. */
    kk_buf_fail_nth(0);
    assert_int_equal(kk_buf_adds(&b, "a"), KK_OK);
    assert_int_equal(kk_buf_fail_nth(2), 1);
    assert_int_equal(kk_buf_adds(&b, "b"), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "c"), KK_ERR_NOMEM);
    kk_buf_fail_nth(0);
    assert_int_equal(kk_buf_error(&b), KK_ERR_NOMEM);
    assert_string_equal(kk_buf_str(&b), "ab");
    kk_buf_release(&b);
    assert_int_equal(kk_buf_error(&b), KK_OK);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    for (int c = KK_OK; c <= KK_ERR_BUSY; c++)
        assert_string_not_equal(kk_strerror((enum kk_err)c), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_format),
        cmocka_unit_test(test_cap_refuses_and_keeps_contents),
        cmocka_unit_test(test_fail_appends_only_when_given),
        cmocka_unit_test(test_allocation_failure_leaves_buffer_intact),
        cmocka_unit_test(test_grow_keeps_elements_and_fails_cleanly),
        cmocka_unit_test(test_first_failure_is_remembered),
        cmocka_unit_test(test_strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
