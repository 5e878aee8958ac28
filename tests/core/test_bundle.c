#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_test.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/bundle.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/manifest.h"

struct fixture {
    char tmp[64];
    char *src, *out, *kpk, *dest, *crafted;
    struct kk_pubkey pub;
    struct kk_seckey sec;
};

static int setup(void **state)
{
    struct fixture *f = kk_calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/kk-bundle-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    f->src = tt_join(f->tmp, "src");
    f->out = tt_join(f->tmp, "out");
    f->kpk = tt_join(f->tmp, "pack.kpk");
    f->dest = tt_join(f->tmp, "staging");
    f->crafted = tt_join(f->tmp, "crafted.kpk");
    tt_write_file(f->src, "pack.json",
                  "{\"format\":1,\"id\":\"earthquake-safety\",\"version\":\"2026.11.1\"}\n");
    tt_write_file(f->src, "topics/quake.json", "{\"id\":\"quake\"}\n");
    tt_write_file(f->src, "images/地震.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    crypto_sign_keypair(f->pub.key, f->sec.key);
    assert_int_equal(kk_manifest_build(f->src, f->out, &f->sec, NULL), KK_OK);
    assert_int_equal(kk_bundle_write(f->out, f->kpk, NULL), KK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_remove_tree(f->tmp, NULL), KK_OK);
    kk_free(f->src);
    kk_free(f->out);
    kk_free(f->kpk);
    kk_free(f->dest);
    kk_free(f->crafted);
    kk_free(f);
    return 0;
}

/* One entry of a hand-made archive. */
struct entry {
    const char *path;
    mode_t type;              /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO */
    const char *data;         /* AE_IFREG: contents (or NULL with zeros > 0) */
    unsigned long long zeros; /* AE_IFREG: that many zero bytes instead of data */
    const char *link;         /* AE_IFLNK: target; with AE_IFREG: a hard link to it */
    size_t len;               /* length of data when it is binary; 0: strlen(data) */
};

static void craft(const char *kpk, const struct entry *entries, size_t n)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, kpk), ARCHIVE_OK);
    static char zeros[65536];
    for (size_t i = 0; i < n; i++) {
        const struct entry *en = &entries[i];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, en->path);
        archive_entry_set_filetype(e, en->type);
        archive_entry_set_perm(e, 0644);
        unsigned long long size = en->len ? en->len : en->data ? strlen(en->data) : en->zeros;
        if (en->type == AE_IFLNK)
            archive_entry_set_symlink(e, en->link);
        else if (en->link)
            archive_entry_set_hardlink(e, en->link);
        archive_entry_set_size(e, en->type == AE_IFREG && !en->link ? (la_int64_t)size : 0);
        assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
        if (en->type == AE_IFREG && !en->link) {
            if (en->data)
                assert_int_equal(archive_write_data(a, en->data, size), (la_ssize_t)size);
            for (unsigned long long left = en->data ? 0 : size; left;) {
                size_t k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
                assert_int_equal(archive_write_data(a, zeros, k), (la_ssize_t)k);
                left -= k;
            }
        }
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* Extracts f->crafted with limits (NULL: defaults), expecting failure rc and a message
 * containing msg, and that nothing was left behind. */
static void expect_refused(struct fixture *f, const struct kk_bundle_limits *limits, enum kk_err rc,
                           const char *msg)
{
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_bundle_extract(f->crafted, f->dest, limits, &err), rc);
    if (!strstr(kk_buf_str(&err), msg))
        fail_msg("message \"%s\" lacks \"%s\"", kk_buf_str(&err), msg);
    assert_non_null(strstr(kk_buf_str(&err), f->crafted)); /* names the bundle */
    assert_false(tt_exists(f->dest));
    kk_buf_release(&err);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct kk_manifest *m = NULL;
    struct kk_buf err = KK_BUF_INIT, a = KK_BUF_INIT, b = KK_BUF_INIT;
    assert_int_equal(kk_bundle_read(f->kpk, f->dest, &f->pub, 1, &m, &err), KK_OK);
    assert_string_equal(kk_buf_str(&err), "");
    assert_string_equal(m->id, "earthquake-safety");
    assert_int_equal(m->nfiles, 3);
    /* The unpacked folder is a built pack in its own right, byte for byte. */
    const char *names[] = {"images/地震.svg", "MANIFEST.json", "MANIFEST.sig"};
    for (size_t i = 0; i < 3; i++) {
        char *p1 = tt_join(f->out, names[i]), *p2 = tt_join(f->dest, names[i]);
        kk_buf_reset(&a);
        kk_buf_reset(&b);
        assert_int_equal(kk_file_read(p1, 1 << 20, &a, NULL), KK_OK);
        assert_int_equal(kk_file_read(p2, 1 << 20, &b, NULL), KK_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        kk_free(p1);
        kk_free(p2);
    }
    assert_int_equal(kk_manifest_verify(f->dest, &f->pub, 1, NULL, NULL), KK_OK);
    kk_manifest_destroy(m);

    /* Neither the bundle nor the staging folder is ever overwritten. */
    kk_buf_reset(&err);
    assert_int_equal(kk_bundle_write(f->out, f->kpk, &err), KK_ERR_EXISTS);
    assert_int_equal(kk_bundle_read(f->kpk, f->dest, &f->pub, 1, NULL, NULL), KK_ERR_EXISTS);
    assert_true(tt_exists(f->dest));
    kk_buf_release(&a);
    kk_buf_release(&b);
    kk_buf_release(&err);
}

static void test_bundle_of_a_tampered_folder_is_refused(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    tt_write_file(f->out, "topics/quake.json", "{\"id\":\"QUAKE\"}\n");
    assert_int_equal(kk_bundle_write(f->out, f->crafted, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "topics/quake.json: sha256 mismatch");
    assert_false(tt_exists(f->crafted));
    kk_buf_release(&err);
}

static void test_wrong_key(void **state)
{
    struct fixture *f = *state;
    struct kk_pubkey other;
    unsigned char sk[KK_SECKEY_BYTES];
    crypto_sign_keypair(other.key, sk);
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_bundle_read(f->kpk, f->dest, &other, 1, NULL, &err), KK_ERR_VERIFY);
    assert_non_null(strstr(kk_buf_str(&err), "pack.kpk: MANIFEST.sig: bad signature"));
    assert_false(tt_exists(f->dest));
    kk_buf_release(&err);
}

static void test_dotdot(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"pack.json", AE_IFREG, "{}", 0, NULL},
                              {"../x", AE_IFREG, "evil", 0, NULL}};
    craft(f->crafted, e, 2);
    expect_refused(f, NULL, KK_ERR_INVALID, ": ../x: path with \"..\" refused");
    char *outside = tt_join(f->tmp, "x");
    assert_false(tt_exists(outside));
    kk_free(outside);

    const struct entry e2[] = {{"topics/../../y", AE_IFREG, "evil", 0, NULL}};
    craft(f->crafted, e2, 1);
    expect_refused(f, NULL, KK_ERR_INVALID, "topics/../../y: path with \"..\" refused");
}

static void test_absolute_path(void **state)
{
    struct fixture *f = *state;
    char *abs = tt_join(f->tmp, "abs");
    const struct entry e[] = {{abs, AE_IFREG, "evil", 0, NULL}};
    craft(f->crafted, e, 1);
    expect_refused(f, NULL, KK_ERR_INVALID, "absolute path refused");
    assert_false(tt_exists(abs));
    kk_free(abs);
}

static void test_symlink(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"images/a.svg", AE_IFLNK, NULL, 0, "/etc/passwd"}};
    craft(f->crafted, e, 1);
    expect_refused(f, NULL, KK_ERR_INVALID, "images/a.svg: symbolic link refused");
}

static void test_hardlink(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"pack.json", AE_IFREG, "{}", 0, NULL},
                              {"copy.json", AE_IFREG, NULL, 0, "pack.json"}};
    craft(f->crafted, e, 2);
    expect_refused(f, NULL, KK_ERR_INVALID, "copy.json: hard link refused");
}

static void test_fifo(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"pipe", AE_IFIFO, NULL, 0, NULL}};
    craft(f->crafted, e, 1);
    expect_refused(f, NULL, KK_ERR_INVALID, "pipe: device, FIFO or socket refused");
}

static void test_duplicate_path(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"pack.json", AE_IFREG, "{}", 0, NULL},
                              {"pack.json", AE_IFREG, "{\"evil\":1}", 0, NULL}};
    craft(f->crafted, e, 2);
    expect_refused(f, NULL, KK_ERR_INVALID, "pack.json: appears twice in the bundle");
}

static void test_file_folder_clash(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"topics", AE_IFREG, "{}", 0, NULL},
                              {"topics/quake.json", AE_IFREG, "{}", 0, NULL}};
    craft(f->crafted, e, 2);
    expect_refused(f, NULL, KK_ERR_INVALID, "topics/quake.json: its folder clashes");
}

static void test_folders_are_accepted(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {{"topics/", AE_IFDIR, NULL, 0, NULL},
                              {"topics/quake.json", AE_IFREG, "{}", 0, NULL}};
    craft(f->crafted, e, 2);
    assert_int_equal(kk_bundle_extract(f->crafted, f->dest, NULL, NULL), KK_OK);
    char *p = tt_join(f->dest, "topics/quake.json");
    assert_true(tt_exists(p));
    kk_free(p);
}

static void test_huge_entry(void **state)
{
    struct fixture *f = *state;
    const struct entry e[] = {
        {"images/big.png", AE_IFREG, NULL, KK_MAX_PACK_FILE_BYTES + 1ull, NULL}};
    craft(f->crafted, e, 1);
    struct stat st;
    assert_int_equal(stat(f->crafted, &st), 0);
    assert_true(st.st_size < 100000); /* small on the stick, huge unpacked */
    expect_refused(f, NULL, KK_ERR_TOOBIG, "images/big.png: 16777217 bytes, more than the limit");
}

static void test_archive_bomb(void **state)
{
    struct fixture *f = *state;
    struct kk_bundle_limits limits;
    kk_bundle_default_limits(&limits);
    limits.max_total_bytes = 1 << 20;
    const struct entry e[] = {{"a", AE_IFREG, NULL, 600000, NULL},
                              {"b", AE_IFREG, NULL, 600000, NULL}};
    craft(f->crafted, e, 2);
    expect_refused(f, &limits, KK_ERR_TOOBIG, "unpacks to more than the limit of 1048576 bytes");
}

static void test_too_many_entries(void **state)
{
    struct fixture *f = *state;
    struct kk_bundle_limits limits;
    kk_bundle_default_limits(&limits);
    limits.max_entries = 3;
    const struct entry e[] = {{"a", AE_IFREG, "1", 0, NULL},
                              {"b", AE_IFREG, "2", 0, NULL},
                              {"c", AE_IFREG, "3", 0, NULL},
                              {"d", AE_IFREG, "4", 0, NULL}};
    craft(f->crafted, e, 4);
    expect_refused(f, &limits, KK_ERR_TOOBIG, "more than 3 entries");
}

static void test_truncated_bundle(void **state)
{
    struct fixture *f = *state;
    struct kk_buf data = KK_BUF_INIT;
    assert_int_equal(kk_file_read(f->kpk, 1 << 20, &data, NULL), KK_OK);
    assert_int_equal(kk_file_write_atomic(f->crafted, data.data, data.len / 2, NULL), KK_OK);
    expect_refused(f, NULL, KK_ERR_PARSE, "truncated or damaged");

    /* Cut in the middle of a file's data: the first file unpacks, then the cut is found
     * and what was unpacked is removed. */
    static unsigned char noise[200000];
    randombytes_buf(noise, sizeof(noise));
    const struct entry e[] = {
        {"a.json", AE_IFREG, "{}", 0, NULL, 0},
        {"images/noise.png", AE_IFREG, (const char *)noise, 0, NULL, sizeof(noise)}};
    assert_int_equal(unlink(f->crafted), 0);
    craft(f->crafted, e, 2);
    kk_buf_reset(&data);
    assert_int_equal(kk_file_read(f->crafted, 1 << 20, &data, NULL), KK_OK);
    assert_true(data.len > sizeof(noise));
    assert_int_equal(kk_file_write_atomic(f->crafted, data.data, data.len * 6 / 10, NULL), KK_OK);
    expect_refused(f, NULL, KK_ERR_PARSE, "images/noise.png: truncated or damaged bundle");
    kk_buf_release(&data);
}

static void test_not_a_bundle(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_file_write_atomic(f->crafted, "hello\n", 6, NULL), KK_OK);
    expect_refused(f, NULL, KK_ERR_PARSE, "not a kepu bundle");
}

/* A bundle that unpacks fine but whose content does not match its signed manifest. */
static void test_extra_file_fails_verification(void **state)
{
    struct fixture *f = *state;
    struct kk_buf json = KK_BUF_INIT, sig = KK_BUF_INIT, err = KK_BUF_INIT;
    char *jp = tt_join(f->out, KK_MANIFEST_FILE), *sp = tt_join(f->out, KK_MANIFEST_SIG_FILE);
    assert_int_equal(kk_file_read(jp, 1 << 20, &json, NULL), KK_OK);
    assert_int_equal(kk_file_read(sp, 1 << 20, &sig, NULL), KK_OK);
    struct entry e[] = {
        {"MANIFEST.json", AE_IFREG, json.data, 0, NULL, 0},
        {"MANIFEST.sig", AE_IFREG, sig.data, 0, NULL, sig.len},
        {"pack.json", AE_IFREG,
         "{\"format\":1,\"id\":\"earthquake-safety\",\"version\":\"2026.11.1\"}\n", 0, NULL, 0},
        {"topics/quake.json", AE_IFREG, "{\"id\":\"quake\"}\n", 0, NULL, 0},
        {"images/地震.svg", AE_IFREG, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", 0, NULL, 0},
        {"topics/extra.json", AE_IFREG, "{}", 0, NULL, 0},
    };
    /* All six: the extra file is refused, naming the bundle and the file. */
    craft(f->crafted, e, 6);
    assert_int_equal(kk_bundle_read(f->crafted, f->dest, &f->pub, 1, NULL, &err), KK_ERR_VERIFY);
    assert_non_null(
        strstr(kk_buf_str(&err), "crafted.kpk: topics/extra.json: not in the manifest"));
    assert_false(tt_exists(f->dest));

    /* Without the extra file the same entries make a good bundle: the test is fair. */
    assert_int_equal(unlink(f->crafted), 0);
    craft(f->crafted, e, 5);
    assert_int_equal(kk_bundle_read(f->crafted, f->dest, &f->pub, 1, NULL, NULL), KK_OK);
    assert_int_equal(kk_remove_tree(f->dest, NULL), KK_OK);

    /* A manifest entry without its file. */
    assert_int_equal(unlink(f->crafted), 0);
    craft(f->crafted, e, 4);
    kk_buf_reset(&err);
    assert_int_equal(kk_bundle_read(f->crafted, f->dest, &f->pub, 1, NULL, &err), KK_ERR_VERIFY);
    assert_non_null(
        strstr(kk_buf_str(&err), "images/地震.svg: listed in the manifest but missing"));

    /* Without MANIFEST.sig the pack is refused before anything else. */
    e[1] = e[5];
    assert_int_equal(unlink(f->crafted), 0);
    craft(f->crafted, e, 5);
    kk_buf_reset(&err);
    assert_int_equal(kk_bundle_read(f->crafted, f->dest, &f->pub, 1, NULL, &err), KK_ERR_NOTFOUND);
    assert_non_null(strstr(kk_buf_str(&err), "MANIFEST.sig: missing"));
    assert_false(tt_exists(f->dest));
    kk_free(jp);
    kk_free(sp);
    kk_buf_release(&json);
    kk_buf_release(&sig);
    kk_buf_release(&err);
}

static void test_survives_allocation_failures(void **state)
{
    struct fixture *f = *state;
    kk_alloc_fail_after(0);
    assert_int_equal(kk_bundle_read(f->kpk, f->dest, &f->pub, 1, NULL, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    assert_int_equal(kk_remove_tree(f->dest, NULL), KK_OK);
    for (unsigned long n = 1; n <= count; n++) {
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_bundle_read(f->kpk, f->dest, &f->pub, 1, NULL, NULL);
        kk_alloc_fail_after(0);
        assert_int_not_equal(rc, KK_OK);
        assert_false(tt_exists(f->dest));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundle_of_a_tampered_folder_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absolute_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_folder_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folders_are_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extra_file_fails_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
