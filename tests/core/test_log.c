/* Unit tests of src/core/log.c: a record is always one line, whatever bytes it carries
 * (a request path with %0a must not forge a second log line). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kepu/buf.h"
#include "kepu/log.h"
#include "kk_test.h"

/* Runs kk_warn("http", "%s", text) with stderr in a file; returns what was written. */
static void log_to_buf(const char *text, struct kk_buf *out)
{
    char path[] = "/tmp/kk-test-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    kk_warn("http", "%s", text);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);
    tt_read_file(path, out);
    unlink(path);
}

static void test_control_bytes_escaped(void **state)
{
    (void)state;
    struct kk_buf out = KK_BUF_INIT;
    log_to_buf("GET /x\n2026-12-02T00:00:00.000Z info login: admin logged in\r\x1b[2J\x7f 科普",
               &out);
    const char *s = kk_buf_str(&out);
    const char *nl = strchr(s, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, ""); /* exactly one line */
    assert_non_null(strstr(s, " warn http: GET /x\\n2026-12-02T00:00:00.000Z info login: admin"
                              " logged in\\r\\x1b[2J\\x7f 科普\n"));
    kk_buf_release(&out);
}

static void test_long_record_one_line(void **state)
{
    (void)state;
    struct kk_buf out = KK_BUF_INIT;
    char *big = malloc(20000);
    assert_non_null(big);
    for (size_t i = 0; i < 19999; i++)
        big[i] = i % 100 == 99 ? '\n' : 'a';
    big[19999] = '\0';
    log_to_buf(big, &out);
    const char *s = kk_buf_str(&out);
    assert_ptr_equal(strchr(s, '\n'), s + out.len - 1);
    free(big);
    kk_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_bytes_escaped),
        cmocka_unit_test(test_long_record_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
