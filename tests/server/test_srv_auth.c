/* Unit tests of src/server/srv_auth.c's login back-off: a flood of other keys cannot
 * clear a key under penalty, and a burst of concurrent tries gets only the free tries. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "srv_auth.h"

#define T0 5000000ull

static void test_flood_keeps_penalty(void **state)
{
    (void)state;
    char key[64];
    for (int i = 0; i < SRV_LOGIN_FREE_TRIES + 5; i++)
        srv_backoff_fail("u:victim", T0);
    assert_true(srv_backoff_wait_s("u:victim", T0) > 0);
    /* An attacker fails once each with 50,000 other names to push the victim out. */
    for (int i = 0; i < 50000; i++) {
        snprintf(key, sizeof(key), "u:flood-%d", i);
        srv_backoff_fail(key, T0 + 1);
    }
    assert_true(srv_backoff_wait_s("u:victim", T0 + 2) > 0);
    /* The flooding keys themselves still count their failure. */
    for (int i = 0; i < SRV_LOGIN_FREE_TRIES - 1; i++)
        srv_backoff_fail("u:flood-7", T0 + 2);
    assert_true(srv_backoff_wait_s("u:flood-7", T0 + 2) > 0);
}

#define BURST 16
static pthread_barrier_t start;
static int allowed;
static pthread_mutex_t allowed_lock = PTHREAD_MUTEX_INITIALIZER;

static void *burst_try(void *arg)
{
    (void)arg;
    static const char *const keys[] = {"u:burst", "i:192.0.2.7"};
    pthread_barrier_wait(&start);
    if (srv_backoff_take(keys, 2, T0) == 0) {
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
    assert_true(srv_backoff_wait_s("u:burst", T0) > 0);
    assert_true(srv_backoff_wait_s("i:192.0.2.7", T0) > 0);
    /* A success clears what the take counted. */
    srv_backoff_clear("u:burst");
    assert_int_equal(srv_backoff_wait_s("u:burst", T0), 0);
}

int main(void)
{
    assert_int_equal(srv_auth_init(), KK_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_keeps_penalty),
        cmocka_unit_test(test_burst_gets_free_tries_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
