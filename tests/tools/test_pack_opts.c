/* kepu-pack's one option parser (src/tools/pack_opts.c): every command reads its command
 * line through it, with what it takes and needs from its row of the command table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pack_cmd.h"
#include "pack_opts.h"

static int parse(struct pack_opts *o, int argc, const char **argv)
{
    return pack_opts_parse(argc, (char **)argv, o);
}

static void test_every_command_through_one_parser(void **state)
{
    (void)state;
    struct pack_opts o;
    const char *check[] = {"check", "DIR", "-o", "R", "--timeout", "5", NULL};
    assert_int_equal(parse(&o, 6, check), -1);
    assert_string_equal(o.arg, "DIR");
    assert_string_equal(o.out, "R");
    assert_int_equal(o.timeout_s, 5);
    assert_int_equal(o.nsizes, 0);
    const char *check2[] = {"check",    "DIR",    "-o",        "R", "--size",
                            "1280x800", "--size", "3840x2160", NULL};
    assert_int_equal(parse(&o, 8, check2), -1);
    assert_int_equal(o.nsizes, 2);
    assert_int_equal(o.sizes[0][0], 1280);
    assert_int_equal(o.sizes[1][1], 2160);
    const char *preview[] = {"preview", "--size", "1080x1920", "DIR", NULL};
    assert_int_equal(parse(&o, 4, preview), -1);
    assert_int_equal(o.w, 1080);
    assert_int_equal(o.h, 1920);
    assert_int_equal(o.timeout_s, PACK_DEFAULT_TIMEOUT_S);
    const char *verify[] = {"verify", "B", "--pubkey", "a.pub", "--pubkey", "b.pub", NULL};
    assert_int_equal(parse(&o, 6, verify), -1);
    assert_int_equal(o.npubkeys, 2);
    const char *keygen[] = {"keygen", "-o", "k", NULL};
    assert_int_equal(parse(&o, 3, keygen), -1);
    assert_null(o.arg);
}

static void test_refusals_are_usage_errors(void **state)
{
    (void)state;
    struct pack_opts o;
    /* getopt reorders argv: the rows must be writable. */
    const char *bad[][7] = {
        {"validate", "--timeout", "3", "DIR"}, /* an option of another command */
        {"check", "DIR", "-o", "R", "--size", "800"},
        {"check", "DIR"},                   /* missing -o */
        {"build", "DIR", "-o", "OUT"},      /* missing --key */
        {"bundle", "A", "B", "-o", "X"},    /* too many arguments */
        {"preview", "--size", "12", "DIR"}, /* not a size */
        {"check", "DIR", "-o", "R", "--timeout", "0"},
        {"keygen", "-o"}, /* -o needs a value */
        {"publish", "B"}, /* missing --server */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int argc = 0;
        while (argc < 6 && bad[i][argc])
            argc++;
        if (parse(&o, argc, bad[i]) != PACK_EXIT_USAGE)
            fail_msg("case %zu (%s) was not refused", i, bad[i][0]);
    }
    const char *help[] = {"bundle", "--help", NULL};
    assert_int_equal(parse(&o, 2, help), PACK_EXIT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_through_one_parser),
        cmocka_unit_test(test_refusals_are_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
