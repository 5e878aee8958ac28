#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kepu/alloc.h"
#include "kepu/journal.h"
#include "kepu/limits.h"

static char tmpdir[] = "/tmp/kk-test-journal-XXXXXX";
static char dbpath[sizeof(tmpdir) + 32];

static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[512];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            chmod(p, 0700);
            remove_files(p);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/journal.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove_files(tmpdir);
    return rmdir(tmpdir);
}

/* Each test starts from no journal file. */
static int fresh(void **state)
{
    (void)state;
    remove_files(tmpdir);
    return 0;
}

/* An event of exactly size bytes (size >= 32) with id "e-<n>". */
static char *make_event(int n, size_t size)
{
    char head[64];
    int k = snprintf(head, sizeof(head), "{\"id\":\"e-%d\",\"pad\":\"", n);
    char *s = kk_malloc(size + 1);
    assert_non_null(s);
    assert_true(size >= (size_t)k + 2);
    memcpy(s, head, (size_t)k);
    memset(s + k, 'x', size - (size_t)k - 2);
    memcpy(s + size - 2, "\"}", 3);
    return s;
}

static struct kk_journal *open_ok(uint64_t max_bytes)
{
    struct kk_journal *j = NULL;
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_journal_open(&j, dbpath, max_bytes, &err);
    if (rc)
        fail_msg("open: %s", kk_buf_str(&err));
    kk_buf_release(&err);
    return j;
}

static void flush_ok(struct kk_journal *j)
{
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_journal_flush(j, &err);
    if (rc)
        fail_msg("flush: %s", kk_buf_str(&err));
    kk_buf_release(&err);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct kk_journal *j = open_ok(0);
    const char *ev[] = {"{\"id\":\"a1\",\"type\":\"boot\"}",
                        "{\"id\":\"b2\",\"type\":\"page_view\",\"topic\":\"地震\"}",
                        "{\"id\":\"c3\",\"type\":\"idle_reset\"}"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(kk_journal_append(j, ev[i]), KK_OK);
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 3);
    assert_int_equal(kk_journal_dropped(j), 0);

    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, 2, &b, NULL), KK_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.ids[0], "a1");
    assert_string_equal(b.json[0], ev[0]);
    assert_string_equal(b.ids[1], "b2");
    assert_string_equal(b.json[1], ev[1]);

    /* Acknowledge the two, plus an id that is not there. */
    char *ack[] = {b.ids[0], b.ids[1], "zz-unknown"};
    assert_int_equal(kk_journal_ack(j, ack, 3, NULL), KK_OK);
    kk_journal_batch_release(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(kk_journal_count(j), 1);
    assert_int_equal(kk_journal_peek(j, 10, &b, NULL), KK_OK);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.ids[0], "c3");
    assert_string_equal(b.json[0], ev[2]);
    kk_journal_batch_release(&b);

    assert_int_equal(kk_journal_peek(j, 0, &b, NULL), KK_OK);
    assert_int_equal(b.n, 0);
    kk_journal_batch_release(&b);
    kk_journal_close(j);
    kk_journal_close(NULL);
}

static void test_duplicates_are_ignored(void **state)
{
    (void)state;
    struct kk_journal *j = open_ok(0);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"same\",\"n\":1}"), KK_OK);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"same\",\"n\":1}"), KK_OK);
    flush_ok(j);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"same\",\"n\":2}"), KK_OK);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"other\"}"), KK_OK);
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 2);
    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, 10, &b, NULL), KK_OK);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.json[0], "{\"id\":\"same\",\"n\":1}"); /* the first one stays */
    assert_string_equal(b.ids[1], "other");
    kk_journal_batch_release(&b);
    kk_journal_close(j);
}

static void test_bound_drops_oldest_and_counts(void **state)
{
    (void)state;
    /* Room for exactly ten 100-byte events. */
    struct kk_journal *j = open_ok(1000);
    for (int i = 0; i < 25; i++) {
        char *ev = make_event(i, 100);
        assert_int_equal(kk_journal_append(j, ev), KK_OK);
        kk_free(ev);
        if (i % 7 == 0) /* several transactions, not one */
            flush_ok(j);
    }
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 10);
    assert_int_equal(kk_journal_dropped(j), 15);
    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, 100, &b, NULL), KK_OK);
    assert_int_equal(b.n, 10);
    for (size_t i = 0; i < b.n; i++) {
        char id[16];
        snprintf(id, sizeof(id), "e-%zu", i + 15);
        assert_string_equal(b.ids[i], id);
    }
    /* Acknowledged events free their room: nothing more is dropped. */
    assert_int_equal(kk_journal_ack(j, b.ids, 5, NULL), KK_OK);
    kk_journal_batch_release(&b);
    for (int i = 100; i < 105; i++) {
        char *ev = make_event(i, 100);
        assert_int_equal(kk_journal_append(j, ev), KK_OK);
        kk_free(ev);
    }
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 10);
    assert_int_equal(kk_journal_dropped(j), 15);
    /* The bound counts bytes, not characters: after 9 plain events of 100 bytes, one of 108
     * bytes but 100 characters (four Chinese ones) goes past 1000 and drops the oldest. */
    assert_int_equal(kk_journal_peek(j, 100, &b, NULL), KK_OK);
    assert_int_equal(kk_journal_ack(j, b.ids, b.n, NULL), KK_OK);
    kk_journal_batch_release(&b);
    assert_int_equal(kk_journal_count(j), 0);
    for (int i = 400; i < 409; i++) {
        char *ev = make_event(i, 100);
        assert_int_equal(kk_journal_append(j, ev), KK_OK);
        kk_free(ev);
    }
    char *ev = make_event(500, 108);
    memcpy(ev + 30, "地震地震", 12);
    assert_int_equal(kk_journal_append(j, ev), KK_OK);
    kk_free(ev);
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 9);
    assert_int_equal(kk_journal_dropped(j), 16);
    kk_journal_close(j);

    /* The counter and the byte measure survive a reopen: 8 x 100 + 108 bytes are there, so
     * one more 100-byte event drops the oldest again. */
    j = open_ok(1000);
    assert_int_equal(kk_journal_dropped(j), 16);
    assert_int_equal(kk_journal_count(j), 9);
    ev = make_event(600, 100);
    assert_int_equal(kk_journal_append(j, ev), KK_OK);
    kk_free(ev);
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 9);
    assert_int_equal(kk_journal_dropped(j), 17);
    assert_int_equal(kk_journal_peek(j, 1, &b, NULL), KK_OK);
    assert_string_equal(b.ids[0], "e-402");
    kk_journal_batch_release(&b);
    kk_journal_close(j);
}

static void test_reopen_keeps_events(void **state)
{
    (void)state;
    struct kk_journal *j = open_ok(0);
    for (int i = 0; i < 600; i++) { /* more than one writer batch */
        char *ev = make_event(i, 64);
        assert_int_equal(kk_journal_append(j, ev), KK_OK);
        kk_free(ev);
    }
    kk_journal_close(j); /* no flush: close must flush */
    j = open_ok(0);
    assert_int_equal(kk_journal_count(j), 600);
    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, 1000, &b, NULL), KK_OK);
    assert_int_equal(b.n, 600);
    assert_string_equal(b.ids[0], "e-0");
    assert_string_equal(b.ids[599], "e-599");
    kk_journal_batch_release(&b);
    kk_journal_close(j);
}

/* The child appends and flushes, tells the parent how many are flushed, then keeps
 * appending until it is killed mid-write. */
static void crash_child(int fd)
{
    struct kk_journal *j = NULL;
    if (kk_journal_open(&j, dbpath, 0, NULL))
        _exit(2);
    for (int i = 0; i < 300; i++) {
        char ev[64];
        snprintf(ev, sizeof(ev), "{\"id\":\"flushed-%d\"}", i);
        if (kk_journal_append(j, ev))
            _exit(3);
    }
    if (kk_journal_flush(j, NULL))
        _exit(4);
    int n = 300;
    if (write(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
        _exit(5);
    for (int i = 0;; i++) {
        char ev[64];
        snprintf(ev, sizeof(ev), "{\"id\":\"extra-%d\"}", i);
        kk_journal_append(j, ev); /* BUSY when the queue is full: fine */
        if (i % 50 == 0)
            kk_journal_flush(j, NULL);
    }
}

static void test_flushed_events_survive_sigkill(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(fds[1]);
    }
    close(fds[1]);
    int n = 0;
    assert_int_equal(read(fds[0], &n, sizeof(n)), sizeof(n));
    close(fds[0]);
    usleep(20000); /* let it get into the middle of later writes */
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    struct kk_journal *j = open_ok(0);
    struct kk_journal_batch b;
    assert_int_equal(kk_journal_peek(j, SIZE_MAX, &b, NULL), KK_OK);
    assert_int_equal(b.n, kk_journal_count(j));
    int *seen = calloc((size_t)n, sizeof(int));
    assert_non_null(seen);
    for (size_t i = 0; i < b.n; i++) {
        int k;
        if (sscanf(b.ids[i], "flushed-%d", &k) == 1) {
            assert_true(k >= 0 && k < n);
            seen[k]++;
        } else {
            assert_memory_equal(b.ids[i], "extra-", 6);
        }
    }
    for (int k = 0; k < n; k++)
        if (seen[k] != 1)
            fail_msg("flushed-%d is there %d times", k, seen[k]);
    free(seen);
    kk_journal_batch_release(&b);
    kk_journal_close(j);
}

static void expect_open_fails(const char *path, const char *why)
{
    struct kk_journal *j = (struct kk_journal *)1;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_not_equal(kk_journal_open(&j, path, 0, &err), KK_OK);
    assert_null(j);
    if (!strstr(kk_buf_str(&err), path) || !strstr(kk_buf_str(&err), why))
        fail_msg("open %s: got \"%s\"", path, kk_buf_str(&err));
    kk_buf_release(&err);
}

static void test_bad_paths_fail_with_a_message(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/no/such/folder/journal.db", tmpdir);
    expect_open_fails(path, "unable to open database file");

    /* A read-only folder. Root writes anywhere, so it gets one that refuses even root. */
    char ro[256];
    snprintf(ro, sizeof(ro), "%s/ro", tmpdir);
    assert_int_equal(mkdir(ro, 0555), 0);
    snprintf(path, sizeof(path), "%s/journal.db", ro);
    int probe = open(path, O_WRONLY | O_CREAT, 0644);
    if (probe >= 0) {
        close(probe);
        unlink(path);
        snprintf(path, sizeof(path), "/proc/kk-test-journal-%d.db", (int)getpid());
    }
    expect_open_fails(path, "unable to open database file");

    /* Not a database. */
    snprintf(path, sizeof(path), "%s/corrupt.db", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database, just text. ", f);
    assert_int_equal(fclose(f), 0);
    expect_open_fails(path, "file is not a database");

    /* A folder where the file should be. */
    snprintf(path, sizeof(path), "%s/adir", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    expect_open_fails(path, "unable to open database file");

    /* A journal from a newer version of the program. */
    snprintf(path, sizeof(path), "%s/newer.db", tmpdir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(path, "schema version 7");
}

static void test_invalid_events_are_refused(void **state)
{
    (void)state;
    struct kk_journal *j = open_ok(0);
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "\"id\"",
        "{}",
        "{\"id\":5}",
        "{\"id\":\"\"}",
        "{\"id\":null}",
        "{\"id\":\"a\"} trailing",
        "{\"id\":\"a\"",
        "{\"id\":\"\xff\"}",
        "{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (kk_journal_append(j, bad[i]) != KK_ERR_INVALID)
            fail_msg("accepted: %s", bad[i]);
    char *big = make_event(1, KK_MAX_EVENT_BYTES + 1);
    assert_int_equal(kk_journal_append(j, big), KK_ERR_TOOBIG);
    kk_free(big);
    big = make_event(1, KK_MAX_EVENT_BYTES);
    assert_int_equal(kk_journal_append(j, big), KK_OK);
    kk_free(big);
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), 1);
    kk_journal_close(j);
}

/* Another connection holds the write lock: appends pile up until the queue is full (BUSY),
 * a flush that outlasts the lock reports the error, and once the lock is gone the writer's
 * retry commits everything. */
static void test_full_queue_and_failed_writes(void **state)
{
    (void)state;
    struct kk_journal *j = open_ok(0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    int queued = 0;
    enum kk_err rc = KK_OK;
    while (queued < 100000) {
        char ev[64];
        snprintf(ev, sizeof(ev), "{\"id\":\"q-%d\"}", queued);
        rc = kk_journal_append(j, ev);
        if (rc)
            break;
        queued++;
    }
    assert_int_equal(rc, KK_ERR_BUSY);
    assert_true(queued >= 256);

    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_journal_flush(j, &err), KK_ERR_DB);
    assert_non_null(strstr(kk_buf_str(&err), dbpath));
    assert_non_null(strstr(kk_buf_str(&err), "locked"));
    kk_buf_release(&err);
    assert_int_equal(kk_journal_count(j), 0);

    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* The retry comes within a second or so; flush waits for it or reports one more
     * failure, which it must not once the lock is gone. */
    flush_ok(j);
    assert_int_equal(kk_journal_count(j), (uint64_t)queued);
    kk_journal_close(j);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    struct kk_journal *j = NULL;
    for (unsigned long i = 1; i <= 2; i++) {
        kk_alloc_fail_after(i);
        enum kk_err rc = kk_journal_open(&j, dbpath, 0, NULL);
        kk_alloc_fail_after(0);
        assert_int_equal(rc, KK_ERR_NOMEM);
        assert_null(j);
    }
    j = open_ok(0);
    kk_alloc_fail_after(1);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"x\"}"), KK_ERR_NOMEM);
    kk_alloc_fail_after(0);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"x\"}"), KK_OK);
    assert_int_equal(kk_journal_append(j, "{\"id\":\"y\"}"), KK_OK);
    flush_ok(j);
    struct kk_journal_batch b;
    for (unsigned long i = 1; i <= 3; i++) {
        kk_alloc_fail_after(i);
        enum kk_err rc = kk_journal_peek(j, 10, &b, NULL);
        kk_alloc_fail_after(0);
        assert_int_equal(rc, KK_ERR_NOMEM);
        assert_int_equal(b.n, 0);
    }
    kk_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_round_trip, fresh),
        cmocka_unit_test_setup(test_duplicates_are_ignored, fresh),
        cmocka_unit_test_setup(test_bound_drops_oldest_and_counts, fresh),
        cmocka_unit_test_setup(test_reopen_keeps_events, fresh),
        cmocka_unit_test_setup(test_flushed_events_survive_sigkill, fresh),
        cmocka_unit_test_setup(test_bad_paths_fail_with_a_message, fresh),
        cmocka_unit_test_setup(test_invalid_events_are_refused, fresh),
        cmocka_unit_test_setup(test_full_queue_and_failed_writes, fresh),
        cmocka_unit_test_setup(test_out_of_memory, fresh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
