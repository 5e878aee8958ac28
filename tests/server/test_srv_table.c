/* Unit tests of src/server/srv_table.c's CSV writer: no cell can start a spreadsheet
 * formula, whatever its first character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kepu/buf.h"
#include "srv_table.h"

static void test_csv_neutralises_formulas(void **state)
{
    (void)state;
    static const char *const cols[] = {"v"};
    static const char *const cells[] = {"=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", "ok"};
    struct srv_table t;
    struct kk_buf out = KK_BUF_INIT;
    assert_int_equal(srv_table_init(&t, cols, 1), KK_OK);
    for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
        assert_int_equal(srv_cell_set_text(srv_table_add_row(&t), cells[i]), KK_OK);
    assert_int_equal(srv_table_to_csv(&t, &out), KK_OK);
    assert_string_equal(kk_buf_str(&out), "\xEF\xBB\xBFv\r\n"
                                          "'=1+1\r\n"
                                          "'+1\r\n"
                                          "'-1\r\n"
                                          "'@SUM(A1)\r\n"
                                          "'\tcmd\r\n"
                                          "\"'\rcmd\"\r\n"
                                          "ok\r\n");
    srv_table_release(&t);
    kk_buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_neutralises_formulas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
