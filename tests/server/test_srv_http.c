/* Unit tests of src/server/srv_http.c's parsers of untrusted input: route matching,
 * X-Forwarded-For, Host, and the JSON count made before any tree is built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kepu/alloc.h"
#include "srv_http.h"

static void test_match(void **state)
{
    (void)state;
    struct srv_req req = {0};
    assert_true(
        srv_http_match("/api/v1/packs/*/*/manifest", "/api/v1/packs/quake/1/manifest", &req));
    assert_int_equal(req.nparams, 2);
    assert_string_equal(req.params[0], "quake");
    assert_string_equal(req.params[1], "1");
    for (size_t i = 0; i < req.nparams; i++)
        kk_free(req.params[i]);
    memset(&req, 0, sizeof(req));
    assert_false(srv_http_match("/api/v1/packs/*/*/manifest", "/api/v1/packs//1/manifest", &req));
    assert_false(srv_http_match("/api/v1/blobs/*", "/api/v1/blobs/a/b", &req));
    assert_false(srv_http_match("/*/*/*/*/*", "/a/b/c/d/e", &req)); /* more than 4 params */
    assert_int_equal(req.nparams, 0);
}

static void test_forwarded_for(void **state)
{
    (void)state;
    char out[SRV_ADDR_TEXT_LEN] = "unchanged";
    assert_true(srv_http_forwarded_for("203.0.113.9", out));
    assert_string_equal(out, "203.0.113.9");
    assert_true(srv_http_forwarded_for("192.0.2.1, 10.0.0.1,  2001:db8::7", out));
    assert_string_equal(out, "2001:db8::7");
    snprintf(out, sizeof(out), "unchanged");
    assert_false(srv_http_forwarded_for("203.0.113.9, evil\nline", out));
    assert_false(srv_http_forwarded_for("", out));
    assert_false(srv_http_forwarded_for("1.2.3.4,", out));
    assert_string_equal(out, "unchanged");
}

static void test_host_is_local(void **state)
{
    (void)state;
    assert_true(srv_http_host_is_local(NULL));
    assert_true(srv_http_host_is_local("localhost"));
    assert_true(srv_http_host_is_local("127.0.0.1:8080"));
    assert_true(srv_http_host_is_local("[::1]:8080"));
    assert_false(srv_http_host_is_local("kepu.example.org"));
    assert_false(srv_http_host_is_local("10.0.0.5:8080"));
    assert_false(srv_http_host_is_local("[::1"));
    assert_false(srv_http_host_is_local(""));
}

static void test_json_count(void **state)
{
    (void)state;
    size_t values, depth;
    const char *ok = "{\"a\":[1,2,{\"b\":\"x,[{\\\"\"}],\"c\":null}";
    assert_true(srv_http_json_count(ok, strlen(ok), &values, &depth));
    assert_int_equal(values, 7); /* object, array, 1, 2, object, b, c: 3 opens + 3 commas + 1 */
    assert_int_equal(depth, 3);
    size_t n = 2 * (SRV_MAX_JSON_VALUES + 10);
    char *many = malloc(n + 1);
    assert_non_null(many);
    for (size_t i = 0; i < n; i++)
        many[i] = i % 2 ? ',' : '0';
    assert_false(srv_http_json_count(many, n, &values, &depth));
    assert_true(values > SRV_MAX_JSON_VALUES);
    memset(many, '[', SRV_MAX_JSON_DEPTH + 1);
    assert_false(srv_http_json_count(many, SRV_MAX_JSON_DEPTH + 1, &values, &depth));
    assert_int_equal(depth, SRV_MAX_JSON_DEPTH + 1);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_host_is_local),
        cmocka_unit_test(test_json_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
