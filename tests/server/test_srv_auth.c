/* Unit tests of the login back-off: the schedule (src/server/srv_auth.c) and its counts in
 * the store (srv_store_login_take in src/server/srv_store_sqlite.c): a flood of other keys
 * cannot clear a key under penalty, a burst of concurrent tries gets only the free tries,
 * and the counts survive reopening the store (a restart, or another server). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srv_auth.h"
#include "srv_store.h"

#define T0 1795622400000LL

static struct srv_store *store;
static char dir[] = "/tmp/kk-test-auth.XXXXXX";

static int64_t take(const char *a, const char *b, int64_t now)
{
    const char *const keys[] = {a, b};
    int64_t wait = -1;
    assert_int_equal(srv_store_login_take(store, keys, b ? 2 : 1, now, &wait, NULL), KK_OK);
    return wait;
}

static void test_schedule(void **state)
{
    (void)state;
    for (unsigned f = 0; f < SRV_LOGIN_FREE_TRIES; f++)
        assert_int_equal(srv_backoff_wait_of(f, T0, T0), 0);
    assert_int_equal(srv_backoff_wait_of(SRV_LOGIN_FREE_TRIES, T0, T0), 1);
    assert_int_equal(srv_backoff_wait_of(SRV_LOGIN_FREE_TRIES, T0, T0 + 1000), 0);
    assert_int_equal(srv_backoff_wait_of(SRV_LOGIN_FREE_TRIES + 1, T0, T0), 2);
    assert_int_equal(srv_backoff_wait_of(SRV_LOGIN_FREE_TRIES + 1, T0, T0 + 1500), 1);
    assert_int_equal(srv_backoff_wait_of(SRV_LOGIN_FREE_TRIES + 40, T0, T0), SRV_LOGIN_MAX_WAIT_S);
}

static void test_take_and_clear(void **state)
{
    (void)state;
    for (int i = 0; i < SRV_LOGIN_FREE_TRIES; i++)
        assert_int_equal(take("u:test", "i:ip1", T0), 0);
    assert_int_equal(take("u:test", "i:ip2", T0), 1);  /* the user waits, from any address */
    assert_int_equal(take("u:other", "i:ip1", T0), 1); /* the address waits, for any user */
    assert_int_equal(take("u:other", "i:ip2", T0), 0);
    assert_int_equal(take("u:test", NULL, T0 + 1000), 0); /* the wait is over: one more */
    assert_int_equal(take("u:test", NULL, T0 + 1000), 2);
    const char *const keys[] = {"u:test"};
    assert_int_equal(srv_store_login_clear(store, keys, 1, NULL), KK_OK);
    assert_int_equal(take("u:test", NULL, T0 + 1000), 0);
}

static void test_flood_keeps_penalty(void **state)
{
    (void)state;
    char key[64];
    for (int i = 0; i < SRV_LOGIN_FREE_TRIES; i++)
        take("u:victim", NULL, T0);
    assert_true(take("u:victim", NULL, T0) > 0);
    /* An attacker fails with 500 other names to push the victim out. */
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "u:flood-%d", i);
        take(key, NULL, T0);
    }
    assert_true(take("u:victim", NULL, T0) > 0);
    /* A restart (or another server on the same database) sees the same counts. */
    srv_store_close(store);
    assert_int_equal(srv_store_open(&store, dir, NULL, NULL), KK_OK);
    assert_true(take("u:victim", NULL, T0) > 0);
    /* An hour after the last failure the key is forgotten. */
    assert_int_equal(take("u:victim", NULL, T0 + (SRV_LOGIN_FORGET_S + 1) * 1000LL), 0);
}

#define BURST 16
static pthread_barrier_t start;
static int allowed;
static pthread_mutex_t allowed_lock = PTHREAD_MUTEX_INITIALIZER;

static void *burst_try(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start);
    if (take("u:burst", "i:192.0.2.7", T0) == 0) {
        pthread_mutex_lock(&allowed_lock);
        allowed++;
        pthread_mutex_unlock(&allowed_lock);
    }
    return NULL;
}

static void test_burst_gets_free_tries_only(void **state)
{
    (void)state;
    pthread_t th[BURST];
    pthread_barrier_init(&start, NULL, BURST);
    for (int i = 0; i < BURST; i++)
        assert_int_equal(pthread_create(&th[i], NULL, burst_try, NULL), 0);
    for (int i = 0; i < BURST; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(allowed, SRV_LOGIN_FREE_TRIES);
    assert_true(take("u:burst", NULL, T0) > 0);
    assert_true(take("i:192.0.2.7", NULL, T0) > 0);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    return srv_store_open(&store, dir, NULL, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    srv_store_close(store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_take_and_clear),
        cmocka_unit_test(test_flood_keeps_penalty),
        cmocka_unit_test(test_burst_gets_free_tries_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
