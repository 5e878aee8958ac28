/* Runs the real kepu-pack program ($KK_BUILD_DIR/src/tools/kepu-pack) on a small pack made
 * in a temporary folder, as staff would, and checks exit codes, outputs and files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"

struct fixture {
    char tmp[64];
    char *tool;
    char *src, *out, *kpk, *key, *pub, *keyname;
    struct kk_buf out_text, err_text; /* the last run's stdout and stderr */
};

/* A failed run: exactly one line on stderr, containing want. */
static void assert_one_error_line(struct fixture *f, const char *want)
{
    tt_assert_one_line(kk_buf_str(&f->err_text), want);
}

static void write_source_pack(const char *src)
{
    tt_write_file(
        src, "pack.json",
        "{\"format\":1,\"id\":\"test-pack\",\"version\":\"1.0.0\",\"title\":{\"zh\":\"测试\","
        "\"en\":\"Test\"},\"audiences\":[\"youth\"],\"topics\":[\"topics/quake.json\"]}\n");
    tt_write_file(
        src, "topics/quake.json",
        "{\"id\":\"quake\",\"title\":{\"zh\":\"地震\",\"en\":\"Earthquakes\"},"
        "\"summary\":{\"zh\":\"摘要\",\"en\":\"Summary\"},\"cover\":\"images/quake.svg\","
        "\"references\":[\"China Earthquake Administration\"],"
        "\"pages\":[{\"title\":{\"zh\":\"第一页\",\"en\":\"Page one\"},\"blocks\":[{"
        "\"type\":\"text\",\"text\":{\"zh\":\"正文\",\"en\":\"Body\"}}]}],"
        "\"quiz\":{\"questions\":[{\"id\":\"q1\",\"type\":\"truefalse\",\"prompt\":{"
        "\"zh\":\"对吗？\",\"en\":\"True?\"},\"choices\":[{\"text\":{\"zh\":\"对\",\"en\":"
        "\"True\"}},{\"text\":{\"zh\":\"错\",\"en\":\"False\"}}],\"answer\":[0],"
        "\"explain\":{\"zh\":\"因为\",\"en\":\"Because\"}}]}}\n");
    tt_write_file(
        src, "images/quake.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\" "
        "viewBox=\"0 0 400 300\"><rect width=\"400\" height=\"300\" fill=\"#36c\"/></svg>\n");
}

static int setup(void **state)
{
    const char *build = getenv("KK_BUILD_DIR");
    if (!build)
        fail_msg("KK_BUILD_DIR is not set (run through ctest)");
    struct fixture *f = kk_calloc(1, sizeof(*f));
    assert_non_null(f);
    f->tool = tt_join(build, "src/tools/kepu-pack");
    assert_int_equal(access(f->tool, X_OK), 0);
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/kk-packtool-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    f->src = tt_join(f->tmp, "src");
    f->out = tt_join(f->tmp, "out");
    f->kpk = tt_join(f->tmp, "pack.kpk");
    f->keyname = tt_join(f->tmp, "venue");
    f->key = tt_join(f->tmp, "venue.key");
    f->pub = tt_join(f->tmp, "venue.pub");
    write_source_pack(f->src);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_remove_tree(f->tmp, NULL), KK_OK);
    kk_free(f->tool);
    kk_free(f->src);
    kk_free(f->out);
    kk_free(f->kpk);
    kk_free(f->keyname);
    kk_free(f->key);
    kk_free(f->pub);
    kk_buf_release(&f->out_text);
    kk_buf_release(&f->err_text);
    kk_free(f);
    return 0;
}

/* keygen, build, bundle: the steps every round trip starts with. */
static void make_bundle(struct fixture *f)
{
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", f->keyname, NULL), 0);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "build", f->src, "-o",
                            f->out, "--key", f->key, NULL),
                     0);
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "bundle", f->out, "-o", f->kpk, NULL),
        0);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", f->src, NULL),
                     0);
    assert_string_equal(kk_buf_str(&f->out_text), "0 errors, 0 warnings\n");
    assert_string_equal(kk_buf_str(&f->err_text), "");

    make_bundle(f);
    char *manifest = tt_join(f->out, "MANIFEST.json"), *sig = tt_join(f->out, "MANIFEST.sig");
    assert_true(tt_exists(manifest));
    assert_true(tt_exists(sig));
    assert_true(tt_exists(f->kpk));

    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->out,
                            "--pubkey", f->pub, NULL),
                     0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "pack test-pack version 1.0.0, 3 files"));
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->kpk,
                            "--pubkey", f->pub, NULL),
                     0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "pack test-pack version 1.0.0, 3 files"));
    assert_string_equal(kk_buf_str(&f->err_text), "");
    kk_free(manifest);
    kk_free(sig);
}

static void test_keygen_mode_and_refusal(void **state)
{
    struct fixture *f = *state;
    struct kk_buf before = KK_BUF_INIT, after = KK_BUF_INIT;
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", f->keyname, NULL), 0);
    struct stat st;
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    tt_read_file(f->pub, &before);
    assert_int_equal(strncmp(before.data, "kepu-pack ed25519 public key v1\n", 32), 0);

    tt_read_file(f->key, &before);
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", f->keyname, NULL), 1);
    assert_one_error_line(f, "venue.key: already exists");
    tt_read_file(f->key, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);

    /* Only the .pub there: still refused, and no .key appears beside it. */
    char *other = tt_join(f->tmp, "other"), *other_pub = tt_join(f->tmp, "other.pub");
    char *other_key = tt_join(f->tmp, "other.key");
    tt_write_file(f->tmp, "other.pub", "x");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", other, NULL), 1);
    assert_one_error_line(f, "other.pub: already exists");
    assert_false(tt_exists(other_key));
    kk_free(other);
    kk_free(other_pub);
    kk_free(other_key);
    kk_buf_release(&before);
    kk_buf_release(&after);
}

static void test_tampered_file_is_refused(void **state)
{
    struct fixture *f = *state;
    make_bundle(f);
    char *topic = tt_join(f->out, "topics/quake.json");
    int fd = open(topic, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "Q", 1, 8), 1); /* same size, one byte different */
    close(fd);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->out,
                            "--pubkey", f->pub, NULL),
                     1);
    assert_one_error_line(f, "topics/quake.json: sha256 mismatch");
    assert_string_equal(kk_buf_str(&f->out_text), "");

    /* The tool will not bundle it either. */
    char *kpk2 = tt_join(f->tmp, "tampered.kpk");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "bundle", f->out, "-o", kpk2, NULL), 1);
    assert_one_error_line(f, "topics/quake.json: sha256 mismatch");
    assert_false(tt_exists(kpk2));

    /* A bundle made by hand from the tampered folder is refused by verify, naming the
     * bundle and the file. */
    struct archive *a = archive_write_new();
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, kpk2), ARCHIVE_OK);
    const char *names[] = {"MANIFEST.json", "MANIFEST.sig", "pack.json", "topics/quake.json",
                           "images/quake.svg"};
    struct kk_buf data = KK_BUF_INIT;
    for (size_t i = 0; i < 5; i++) {
        char *p = tt_join(f->out, names[i]);
        tt_read_file(p, &data);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)data.len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, data.data, data.len), (la_ssize_t)data.len);
        archive_entry_free(e);
        kk_free(p);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", kpk2, "--pubkey",
                            f->pub, NULL),
                     1);
    assert_one_error_line(f, "tampered.kpk: topics/quake.json: sha256 mismatch");

    kk_buf_release(&data);
    kk_free(kpk2);
    kk_free(topic);
}

static void test_wrong_key_is_refused(void **state)
{
    struct fixture *f = *state;
    make_bundle(f);
    char *other = tt_join(f->tmp, "other"), *other_pub = tt_join(f->tmp, "other.pub");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", other, NULL), 0);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->kpk,
                            "--pubkey", other_pub, NULL),
                     1);
    assert_one_error_line(f, "MANIFEST.sig: bad signature");
    /* Trusting both keys accepts it. */
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->kpk,
                            "--pubkey", other_pub, "--pubkey", f->pub, NULL),
                     0);
    /* A secret key file is not a public key file. */
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->kpk,
                            "--pubkey", f->key, NULL),
                     1);
    assert_one_error_line(f, "not a kepu-pack public key file");
    kk_free(other);
    kk_free(other_pub);
}

static void test_validate_and_build_refuse_errors(void **state)
{
    struct fixture *f = *state;
    /* Chinese title missing: an error. English summary missing: a warning. */
    tt_write_file(f->src, "topics/quake.json",
                  "{\"id\":\"quake\",\"title\":{\"en\":\"Earthquakes\"},"
                  "\"summary\":{\"zh\":\"摘要\"},\"cover\":\"images/quake.svg\","
                  "\"references\":[\"China Earthquake Administration\"],"
                  "\"pages\":[{\"title\":{\"zh\":\"第一页\",\"en\":\"Page one\"},\"blocks\":[{"
                  "\"type\":\"text\",\"text\":{\"zh\":\"正文\",\"en\":\"Body\"}}]}]}\n");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", f->src, NULL),
                     1);
    const char *out = kk_buf_str(&f->out_text);
    assert_non_null(strstr(out, "topics/quake.json: title.zh: error: "));
    assert_non_null(strstr(out, "topics/quake.json: summary: warning: "));
    assert_non_null(strstr(out, "1 error, "));
    assert_one_error_line(f, "the pack has 1 error");

    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", f->keyname, NULL), 0);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "build", f->src, "-o",
                            f->out, "--key", f->key, NULL),
                     1);
    assert_one_error_line(f, "topics/quake.json: title.zh");
    assert_false(tt_exists(f->out));
}

static void test_warnings_do_not_fail(void **state)
{
    struct fixture *f = *state;
    tt_write_file(
        f->src, "pack.json",
        "{\"format\":1,\"id\":\"test-pack\",\"version\":\"1.0.0\",\"title\":{\"zh\":\"测试\"},"
        "\"audiences\":[\"youth\"],\"topics\":[\"topics/quake.json\"]}\n");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", f->src, NULL),
                     0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "pack.json: title: warning: "));
    assert_non_null(strstr(kk_buf_str(&f->out_text), "0 errors, 1 warning\n"));
    assert_string_equal(kk_buf_str(&f->err_text), "");
}

static void test_exit_codes_and_help(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, NULL), 2);
    assert_one_error_line(f, "no command given");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "frobnicate", NULL), 2);
    assert_one_error_line(f, "unknown command 'frobnicate'");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "--version", NULL), 0);
    assert_string_equal(kk_buf_str(&f->out_text), "kepu-pack " KK_VERSION "\n");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "--help", NULL), 0);
    assert_non_null(strstr(kk_buf_str(&f->out_text), "usage: kepu-pack COMMAND"));

    const char *commands[] = {"keygen", "validate", "build",   "bundle",
                              "verify", "publish",  "preview", "check"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char want[64];
        snprintf(want, sizeof(want), "usage: kepu-pack %s ", commands[i]);
        assert_int_equal(
            tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, commands[i], "--help", NULL), 0);
        assert_non_null(strstr(kk_buf_str(&f->out_text), want));
        assert_int_equal(
            tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, commands[i], "--version", NULL), 0);
        assert_string_equal(kk_buf_str(&f->out_text), "kepu-pack " KK_VERSION "\n");
    }
    /* preview and check are tested in test_pack_check.c, publish in
     * tests/integration/pack_publish.sh. */

    /* Bad command lines: 2. */
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "build", f->src, "-o", f->out, NULL),
        2);
    assert_one_error_line(f, "missing --key");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->out, NULL),
                     2);
    assert_one_error_line(f, "missing --pubkey");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", NULL), 2);
    assert_one_error_line(f, "missing argument");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", f->src, "extra", NULL), 2);
    assert_one_error_line(f, "too many arguments");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "bundle", f->out, "--bogus", NULL), 2);
    assert_one_error_line(f, "--bogus");

    /* Failures: 1. */
    char *nowhere = tt_join(f->tmp, "nowhere");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "keygen", "-o", f->keyname, NULL), 0);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", nowhere,
                            "--pubkey", f->pub, NULL),
                     1);
    assert_one_error_line(f, "nowhere: no such file or folder");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "validate", nowhere, NULL),
                     1);
    assert_one_error_line(f, "nowhere");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "bundle", f->src, "-o", f->kpk, NULL),
        1);
    assert_one_error_line(f, "MANIFEST.sig: missing");
    assert_false(tt_exists(f->kpk));
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "build", f->src, "-o",
                            f->out, "--key", f->pub, NULL),
                     1);
    assert_one_error_line(f, "not a kepu-pack secret key file");
    assert_false(tt_exists(f->out));
    kk_free(nowhere);
}

static void test_nothing_is_overwritten(void **state)
{
    struct fixture *f = *state;
    make_bundle(f);
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "build", f->src, "-o",
                            f->out, "--key", f->key, NULL),
                     1);
    assert_one_error_line(f, "out: already exists");
    assert_int_equal(
        tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "bundle", f->out, "-o", f->kpk, NULL),
        1);
    assert_one_error_line(f, "pack.kpk: already exists");
    assert_int_equal(tt_run(f->tmp, &f->out_text, &f->err_text, f->tool, "verify", f->kpk,
                            "--pubkey", f->pub, NULL),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_mode_and_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_and_build_refuse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings_do_not_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes_and_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_is_overwritten, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
