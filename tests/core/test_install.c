#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/bundle.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/limits.h"
#include "kepu/manifest.h"

#define ID "earthquake-safety"

struct fixture {
    char tmp[64];
    char *state;
    char *built[4]; /* built packs of versions 1.0.1, 1.0.2, 1.0.3 (index 1..3) */
    char *kpk[4];   /* and their bundles */
    struct kk_pubkey pub;
    struct kk_seckey sec;
};

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int setup(void **state)
{
    struct fixture *f = kk_calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/kk-install-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    f->state = tt_join(f->tmp, "state");
    crypto_sign_keypair(f->pub.key, f->sec.key);
    for (int v = 1; v <= 3; v++) {
        char name[64], text[256];
        snprintf(name, sizeof(name), "src%d", v);
        char *src = tt_join(f->tmp, name);
        snprintf(text, sizeof(text), "{\"format\":1,\"id\":\"" ID "\",\"version\":\"1.0.%d\"}\n",
                 v);
        tt_write_file(src, "pack.json", text);
        snprintf(text, sizeof(text), "{\"id\":\"quake\",\"v\":%d}\n", v);
        tt_write_file(src, "topics/quake.json", text);
        snprintf(name, sizeof(name), "built%d", v);
        f->built[v] = tt_join(f->tmp, name);
        assert_int_equal(kk_manifest_build(src, f->built[v], &f->sec, NULL), KK_OK);
        snprintf(name, sizeof(name), "v%d.kpk", v);
        f->kpk[v] = tt_join(f->tmp, name);
        assert_int_equal(kk_bundle_write(f->built[v], f->kpk[v], NULL), KK_OK);
        kk_free(src);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_remove_tree(f->tmp, NULL), KK_OK);
    for (int v = 1; v <= 3; v++) {
        kk_free(f->built[v]);
        kk_free(f->kpk[v]);
    }
    kk_free(f->state);
    kk_free(f);
    return 0;
}

/* Asserts active.json says version (and previous, NULL for none) for ID. */
static void assert_active(const char *state, const char *version, const char *previous)
{
    struct kk_install_list l;
    assert_int_equal(kk_install_list_read(state, &l, NULL), KK_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].id, ID);
    assert_string_equal(l.items[0].version, version);
    if (previous)
        assert_string_equal(l.items[0].previous, previous);
    else
        assert_null(l.items[0].previous);
    kk_install_list_release(&l);
}

static void assert_installed(struct fixture *f, const char *version, int yes)
{
    char *p = kk_install_path(f->state, ID, version);
    assert_non_null(p);
    assert_int_equal(tt_exists(p), yes);
    if (yes)
        assert_int_equal(kk_manifest_verify(p, &f->pub, 1, NULL, NULL), KK_OK);
    kk_free(p);
}

static void assert_no_staging(struct fixture *f)
{
    char *s = tt_join(f->state, "staging");
    assert_int_equal(count_entries(s), 0);
    char *t = tt_join(f->state, "active.json.tmp");
    assert_false(tt_exists(t));
    kk_free(s);
    kk_free(t);
}

static void test_version_cmp(void **state)
{
    (void)state;
    assert_true(kk_install_version_cmp("2026.11.10", "2026.11.9") > 0);
    assert_true(kk_install_version_cmp("2026.11.9", "2026.11.10") < 0);
    assert_true(kk_install_version_cmp("2026.11.1", "2026.11.1") == 0);
    assert_true(kk_install_version_cmp("2026.11.01", "2026.11.1") == 0);
    assert_true(kk_install_version_cmp("2026.11", "2026.11.1") < 0);
    assert_true(kk_install_version_cmp("2027.1.1", "2026.12.31") > 0);
    assert_true(kk_install_version_cmp("1.0-rc2", "1.0-rc1") > 0);
    assert_true(kk_install_version_cmp("b", "a") > 0);
}

static void test_install_upgrade_and_prune(void **state)
{
    struct fixture *f = *state;
    struct kk_manifest *m = NULL;
    struct kk_install_list l;
    assert_int_equal(kk_install_list_read(f->state, &l, NULL), KK_OK); /* none yet */
    assert_int_equal(l.n, 0);

    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, &m, NULL), KK_OK);
    assert_string_equal(m->version, "1.0.1");
    kk_manifest_destroy(m);
    assert_active(f->state, "1.0.1", NULL);
    assert_installed(f, "1.0.1", 1);

    assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_active(f->state, "1.0.2", "1.0.1");
    assert_installed(f, "1.0.1", 1);
    assert_installed(f, "1.0.2", 1);

    /* The third keeps the active and the previous one; the oldest goes. */
    assert_int_equal(kk_install_dir(f->state, f->built[3], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_active(f->state, "1.0.3", "1.0.2");
    assert_installed(f, "1.0.1", 0);
    assert_installed(f, "1.0.2", 1);
    assert_installed(f, "1.0.3", 1);
    assert_no_staging(f);
}

/* A file nested exactly KK_MAX_PATH_DEPTH folders deep builds, verifies and installs, from
 * a folder and from a bundle (one folder deeper is refused at build: test_manifest.c). */
static void test_install_at_depth_limit(void **state)
{
    struct fixture *f = *state;
    struct kk_buf rel = KK_BUF_INIT, err = KK_BUF_INIT;
    for (int i = 0; i < KK_MAX_PATH_DEPTH; i++)
        assert_int_equal(kk_buf_adds(&rel, "d/"), 0);
    assert_int_equal(kk_buf_adds(&rel, "deep.txt"), 0);
    char *src = tt_join(f->tmp, "deep-src"), *built = tt_join(f->tmp, "deep-built");
    char *kpk = tt_join(f->tmp, "deep.kpk");
    tt_write_file(src, "pack.json", "{\"format\":1,\"id\":\"" ID "\",\"version\":\"1.0.1\"}\n");
    tt_write_file(src, kk_buf_str(&rel), "deep\n");
    assert_int_equal(kk_manifest_build(src, built, &f->sec, &err), KK_OK);
    assert_int_equal(kk_bundle_write(built, kpk, &err), KK_OK);
    assert_int_equal(kk_install_dir(f->state, built, &f->pub, 1, 0, NULL, &err), KK_OK);
    assert_active(f->state, "1.0.1", NULL);
    char *state2 = tt_join(f->tmp, "state2");
    assert_int_equal(kk_install_bundle(state2, kpk, &f->pub, 1, 0, NULL, &err), KK_OK);
    assert_active(state2, "1.0.1", NULL);
    char *dir = kk_install_path(state2, ID, "1.0.1");
    assert_non_null(dir);
    char *file = tt_join(dir, kk_buf_str(&rel));
    struct kk_buf got = KK_BUF_INIT;
    assert_int_equal(kk_file_read(file, 64, &got, NULL), KK_OK);
    assert_string_equal(kk_buf_str(&got), "deep\n");
    assert_no_staging(f);
    kk_free(file);
    kk_free(dir);
    kk_free(state2);
    kk_free(kpk);
    kk_free(built);
    kk_free(src);
    kk_buf_release(&got);
    kk_buf_release(&rel);
    kk_buf_release(&err);
}

static void test_downgrade_refused_unless_forced(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_int_equal(kk_install_bundle(f->state, f->kpk[3], &f->pub, 1, 0, NULL, NULL), KK_OK);

    assert_int_equal(kk_install_bundle(f->state, f->kpk[1], &f->pub, 1, 0, NULL, &err),
                     KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), ID " 1.0.1: older than the installed version 1.0.3; "
                                             "refused (staff can force it)");
    assert_active(f->state, "1.0.3", "1.0.2");
    assert_installed(f, "1.0.1", 0);
    assert_no_staging(f);

    /* The same version again. */
    kk_buf_reset(&err);
    assert_int_equal(kk_install_dir(f->state, f->built[3], &f->pub, 1, 0, NULL, &err),
                     KK_ERR_EXISTS);
    assert_active(f->state, "1.0.3", "1.0.2");

    /* Forced onto the version that is the previous one: its folder is replaced. */
    assert_int_equal(
        kk_install_dir(f->state, f->built[2], &f->pub, 1, KK_INSTALL_FORCE, NULL, NULL), KK_OK);
    assert_active(f->state, "1.0.2", "1.0.3");
    assert_installed(f, "1.0.2", 1);
    assert_installed(f, "1.0.3", 1);
    assert_no_staging(f);
    kk_buf_release(&err);
}

static void test_bad_packs_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT, before = KK_BUF_INIT, after = KK_BUF_INIT;
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    char *active = tt_join(f->state, "active.json");
    assert_int_equal(kk_file_read(active, 1 << 20, &before, NULL), KK_OK);

    /* A tampered built folder. */
    tt_write_file(f->built[2], "topics/quake.json", "{\"id\":\"quake\",\"v\":9}\n");
    assert_int_equal(kk_install_dir(f->state, f->built[2], &f->pub, 1, 0, NULL, &err),
                     KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "topics/quake.json: sha256 mismatch");

    /* A truncated bundle. */
    struct kk_buf data = KK_BUF_INIT;
    assert_int_equal(kk_file_read(f->kpk[3], 1 << 20, &data, NULL), KK_OK);
    assert_int_equal(kk_file_write_atomic(f->kpk[3], data.data, data.len - 20, NULL), KK_OK);
    kk_buf_reset(&err);
    assert_int_not_equal(kk_install_bundle(f->state, f->kpk[3], &f->pub, 1, 0, NULL, &err), KK_OK);
    assert_non_null(strstr(kk_buf_str(&err), "v3.kpk"));

    /* A bundle signed by a key the kiosk does not trust. */
    struct kk_pubkey other;
    unsigned char sk[64];
    crypto_sign_keypair(other.key, sk);
    kk_buf_reset(&err);
    assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &other, 1, 0, NULL, &err),
                     KK_ERR_VERIFY);

    assert_int_equal(kk_file_read(active, 1 << 20, &after, NULL), KK_OK);
    assert_string_equal(before.data, after.data);
    assert_installed(f, "1.0.1", 1);
    assert_installed(f, "1.0.2", 0);
    assert_installed(f, "1.0.3", 0);
    assert_no_staging(f);
    kk_free(active);
    kk_buf_release(&data);
    kk_buf_release(&before);
    kk_buf_release(&after);
    kk_buf_release(&err);
}

static void test_rollback(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_install_rollback(f->state, ID, &err), KK_ERR_NOTFOUND);
    assert_string_equal(kk_buf_str(&err), ID ": not installed");
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    kk_buf_reset(&err);
    assert_int_equal(kk_install_rollback(f->state, ID, &err), KK_ERR_NOTFOUND);
    assert_string_equal(kk_buf_str(&err), ID ": no previous version to roll back to");

    assert_int_equal(kk_install_dir(f->state, f->built[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
    assert_active(f->state, "1.0.1", "1.0.2");
    assert_installed(f, "1.0.1", 1);
    assert_installed(f, "1.0.2", 1);
    /* Rolling back again goes forward again: both versions are kept. */
    assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
    assert_active(f->state, "1.0.2", "1.0.1");
    kk_buf_release(&err);
}

static void test_cleanup_removes_strays(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_int_equal(kk_install_dir(f->state, f->built[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    /* What an install killed half-way could leave behind. */
    tt_write_file(f->state, "staging/kpk-0123/pack.json", "{}");
    tt_write_file(f->state, "active.json.tmp", "{");
    tt_write_file(f->state, "packs/" ID "/1.0.3/pack.json", "{}");
    tt_write_file(f->state, "packs/other-pack/1/pack.json", "{}");
    assert_int_equal(kk_install_cleanup(f->state, NULL), KK_OK);
    assert_no_staging(f);
    assert_installed(f, "1.0.1", 1);
    assert_installed(f, "1.0.2", 1);
    assert_installed(f, "1.0.3", 0);
    char *other = tt_join(f->state, "packs/other-pack");
    assert_false(tt_exists(other));
    assert_active(f->state, "1.0.2", "1.0.1");
    kk_free(other);
}

static void test_second_install_is_busy(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_mkdirs(f->state, 0755, NULL), KK_OK);
    char *lock = tt_join(f->state, "install.lock");
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_ERR_BUSY);
    close(fd);
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    kk_free(lock);
}

/* Whichever allocation fails, the install either completes or changes nothing. */
static void test_allocation_failures_leave_old_or_new(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    kk_alloc_fail_after(0);
    assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    assert_true(count > 0);
    for (unsigned long n = 1; n <= count; n++) {
        assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK); /* 1.0.1 active */
        assert_active(f->state, "1.0.1", "1.0.2");
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL);
        kk_alloc_fail_after(0);
        if (rc == KK_OK)
            assert_active(f->state, "1.0.2", "1.0.1");
        else
            assert_active(f->state, "1.0.1", "1.0.2");
        assert_no_staging(f);
        assert_installed(f, "1.0.1", 1);
        /* Get back to 1.0.2 active for the next round's rollback. */
        if (rc != KK_OK)
            assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
        assert_installed(f, "1.0.2", 1);
    }
}

/* The same for every write, fsync and rename the install makes (the core's fault
 * injection in fs.c), failing once or from then on: afterwards, and after the start-up
 * cleanup a kiosk runs, the old version or the new one is live and verifies, never half
 * of one; nothing is left in staging. Prints the runs covered. */
static void test_io_failures_leave_old_or_new(void **state)
{
    struct fixture *f = *state;
    static const char *const names[] = {"write", "fsync", "rename"};
    unsigned long runs = 0, failed = 0;
    assert_int_equal(kk_install_dir(f->state, f->built[1], &f->pub, 1, 0, NULL, NULL), KK_OK);
    assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL), KK_OK);
    for (int kind = 0; kind < KK_FAULT_KINDS; kind++) {
        for (int persistent = 0; persistent <= 1; persistent++) {
            assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
            kk_fault_after(kind, 0, 0);
            assert_int_equal(kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL),
                             KK_OK);
            unsigned long count = kk_fault_after(kind, 0, 0);
            assert_true(count > 0);
            for (unsigned long n = 1; n <= count; n++) {
                assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
                assert_active(f->state, "1.0.1", "1.0.2");
                kk_fault_after(kind, n, persistent);
                enum kk_err rc = kk_install_bundle(f->state, f->kpk[2], &f->pub, 1, 0, NULL, NULL);
                kk_fault_after(kind, 0, 0);
                assert_int_equal(kk_install_cleanup(f->state, NULL), KK_OK);
                runs++;
                /* A failed fsync after the switch's rename reports the failure with the
                 * new version already live: old or new, both whole, is what counts. */
                struct kk_install_list l;
                assert_int_equal(kk_install_list_read(f->state, &l, NULL), KK_OK);
                assert_int_equal(l.n, 1);
                int now_new = !strcmp(l.items[0].version, "1.0.2");
                kk_install_list_release(&l);
                if (rc == KK_OK)
                    assert_true(now_new);
                failed += rc != KK_OK;
                assert_active(f->state, now_new ? "1.0.2" : "1.0.1", now_new ? "1.0.1" : "1.0.2");
                if (!now_new)
                    assert_int_equal(kk_install_rollback(f->state, ID, NULL), KK_OK);
                assert_no_staging(f);
                assert_installed(f, "1.0.1", 1);
                assert_installed(f, "1.0.2", 1);
            }
            printf("install: %s failing %s: %lu runs, every one left 1.0.1 or 1.0.2 whole\n",
                   names[kind], persistent ? "from the N-th on" : "once at the N-th", count);
        }
    }
    printf("install under I/O faults: %lu runs, %lu failed cleanly, 0 half-installed\n", runs,
           failed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_cmp),
        cmocka_unit_test_setup_teardown(test_install_upgrade_and_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downgrade_refused_unless_forced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_install_at_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_packs_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_removes_strays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_install_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures_leave_old_or_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_failures_leave_old_or_new, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
