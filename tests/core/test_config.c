#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/config.h"
#include "kepu/limits.h"

static char tmpdir[] = "/tmp/kk-test-config-XXXXXX";
static char conf[sizeof(tmpdir) + 16];

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(conf, sizeof(conf), "%s/kiosk.conf", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(conf);
    return rmdir(tmpdir);
}

static void write_conf(const char *text)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct kk_config cfg;
    assert_int_equal(setenv("XDG_STATE_HOME", "/srv/state", 1), 0);
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_string_equal(cfg.kiosk_id, "k-0000");
    assert_string_equal(cfg.server_url, "");
    assert_string_equal(cfg.token_file, "");
    assert_string_equal(cfg.trusted_keys, "");
    assert_string_equal(cfg.content_dir, "");
    assert_string_equal(cfg.state_dir, "/srv/state/kepu-kiosk");
    assert_int_equal(cfg.idle_timeout_s, 60);
    assert_int_equal(cfg.idle_countdown_s, 15);
    assert_int_equal(cfg.default_lang, KK_LANG_ZH);
    assert_int_equal(cfg.audiences, KK_AUD_ALL);
    assert_string_equal(cfg.staff_pin_hash, "");
    assert_int_equal(cfg.sync_interval_s, 300);
    assert_int_equal(cfg.journal_max_mb, 1024);
    assert_string_equal(cfg.ca_file, "");
    assert_string_equal(cfg.import_dirs, "");
    assert_int_equal(cfg.render, KK_RENDER_AUTO);
    assert_int_equal(cfg.high_contrast, 0);
    assert_int_equal(cfg.reach, 0);
    assert_int_equal(cfg.reach_mount_mm, 800);
    assert_int_equal(cfg.reach_screen_mm, 0);
    kk_config_release(&cfg);
    assert_null(cfg.kiosk_id);
    kk_config_release(NULL);

    /* No XDG_STATE_HOME, or a relative one (which the XDG spec says to ignore): HOME. */
    assert_int_equal(setenv("HOME", "/home/visitor", 1), 0);
    assert_int_equal(unsetenv("XDG_STATE_HOME"), 0);
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_string_equal(cfg.state_dir, "/home/visitor/.local/state/kepu-kiosk");
    kk_config_release(&cfg);
    assert_int_equal(setenv("XDG_STATE_HOME", "relative/state", 1), 0);
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_string_equal(cfg.state_dir, "/home/visitor/.local/state/kepu-kiosk");
    kk_config_release(&cfg);
    assert_int_equal(unsetenv("XDG_STATE_HOME"), 0);
}

static void test_every_key_is_parsed(void **state)
{
    (void)state;
    write_conf("kiosk_id = k-0042\n"
               "server_url = https://kepu.example.cn/\n"
               "token_file = /etc/kepu/token\n"
               "trusted_keys = /etc/kepu/a.pub,/etc/kepu/b.pub\n"
               "content_dir = /srv/content\n"
               "state_dir = /var/lib/kepu-kiosk\n"
               "idle_timeout_s = 3600\n"
               "idle_countdown_s = 3\n"
               "default_lang = en\n"
               "audiences = youth, elderly,other\n"
               "staff_pin_hash = $argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA\n"
               "sync_interval_s = 86400\n"
               "journal_max_mb = 1\n"
               "ca_file = /etc/kepu/ca.pem\n"
               "import_dirs = /media/usb\n"
               "render = software\n");
    struct kk_config cfg;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_OK);
    assert_string_equal(kk_buf_str(&err), "");
    assert_string_equal(cfg.kiosk_id, "k-0042");
    assert_string_equal(cfg.server_url, "https://kepu.example.cn/");
    assert_string_equal(cfg.token_file, "/etc/kepu/token");
    assert_string_equal(cfg.trusted_keys, "/etc/kepu/a.pub,/etc/kepu/b.pub");
    assert_string_equal(cfg.content_dir, "/srv/content");
    assert_string_equal(cfg.state_dir, "/var/lib/kepu-kiosk");
    assert_int_equal(cfg.idle_timeout_s, 3600);
    assert_int_equal(cfg.idle_countdown_s, 3);
    assert_int_equal(cfg.default_lang, KK_LANG_EN);
    assert_int_equal(cfg.audiences, KK_AUD_BIT(KK_AUD_YOUTH) | KK_AUD_BIT(KK_AUD_ELDERLY) |
                                        KK_AUD_BIT(KK_AUD_OTHER));
    assert_string_equal(cfg.staff_pin_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    assert_int_equal(cfg.sync_interval_s, 86400);
    assert_int_equal(cfg.journal_max_mb, 1);
    assert_string_equal(cfg.ca_file, "/etc/kepu/ca.pem");
    assert_string_equal(cfg.import_dirs, "/media/usb");
    assert_int_equal(cfg.render, KK_RENDER_SOFTWARE);

    /* Values that may be emptied again, and the other enum values. */
    write_conf("server_url =\nstaff_pin_hash=\nrender=accelerated\ndefault_lang=zh\n"
               "audiences=farmers,workers,officials\nidle_timeout_s=10\n"
               "journal_max_mb=1048576\nserver_url=http://10.0.0.1:8080\n");
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_OK);
    assert_string_equal(cfg.server_url, "http://10.0.0.1:8080"); /* the later line wins */
    assert_string_equal(cfg.staff_pin_hash, "");
    assert_int_equal(cfg.render, KK_RENDER_ACCELERATED);
    kk_buf_reset(&err);
    assert_int_equal(kk_config_set(&cfg, "high_contrast", "on", &err), KK_OK);
    assert_int_equal(cfg.high_contrast, 1);
    assert_int_equal(kk_config_set(&cfg, "reach", "yes", &err), KK_OK);
    assert_int_equal(kk_config_set(&cfg, "reach", "off", &err), KK_OK);
    assert_int_equal(cfg.reach, 0);
    assert_int_equal(cfg.default_lang, KK_LANG_ZH);
    assert_int_equal(cfg.audiences, KK_AUD_BIT(KK_AUD_FARMERS) | KK_AUD_BIT(KK_AUD_WORKERS) |
                                        KK_AUD_BIT(KK_AUD_OFFICIALS));
    assert_int_equal(cfg.idle_timeout_s, 10);
    assert_int_equal(cfg.journal_max_mb, 1048576);
    /* Untouched keys keep what they had. */
    assert_string_equal(cfg.kiosk_id, "k-0042");
    kk_config_release(&cfg);
    kk_buf_release(&err);
}

static void test_comments_and_whitespace(void **state)
{
    (void)state;
    write_conf("# kiosk.conf for the hall\n"
               "\n"
               "   \t\n"
               "   # an indented comment = with an equals sign\n"
               "\t kiosk_id\t=   k-7  \r\n"
               "import_dirs = /media/usb#1\n"
               "content_dir=/srv/c d");
    struct kk_config cfg;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_OK);
    assert_string_equal(cfg.kiosk_id, "k-7");
    assert_string_equal(cfg.import_dirs, "/media/usb#1"); /* '#' only starts whole lines */
    assert_string_equal(cfg.content_dir, "/srv/c d");     /* no final newline needed */
    kk_config_release(&cfg);

    write_conf("");
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_OK);
    assert_string_equal(cfg.kiosk_id, "k-0000");
    kk_config_release(&cfg);
    kk_buf_release(&err);
}

struct bad {
    const char *key;
    const char *value;
    const char *why; /* what follows "KEY: " */
};

static const struct bad bad_values[] = {
    {"kiosk_id", "", "\"\" is not a kiosk id (expected 1 to 64 of the characters A-Z a-z 0-9 -)"},
    {"kiosk_id", "k_01", "\"k_01\" is not a kiosk id (expected 1 to 64"},
    {"kiosk_id", "k-0000000000000000000000000000000000000000000000000000000000000001",
     "is not a kiosk id"},
    {"kiosk_id", "亭1", "is not a kiosk id"},
    {"server_url", "ftp://x",
     "\"ftp://x\" is not a server address (expected empty, or a URL "
     "starting with http:// or https://)"},
    {"server_url", "https://", "is not a server address"},
    {"server_url", "kepu.example.cn", "is not a server address"},
    {"state_dir", "", "empty (expected a folder path)"},
    {"idle_timeout_s", "9", "\"9\" is not allowed (expected a whole number from 10 to 3600)"},
    {"idle_timeout_s", "3601", "(expected a whole number from 10 to 3600)"},
    {"idle_timeout_s", "60s", "\"60s\" is not allowed (expected a whole number from 10 to 3600)"},
    {"idle_timeout_s", "", "(expected a whole number from 10 to 3600)"},
    {"idle_countdown_s", "2", "(expected a whole number from 3 to 120)"},
    {"idle_countdown_s", "121", "(expected a whole number from 3 to 120)"},
    {"sync_interval_s", "9", "(expected a whole number from 10 to 86400)"},
    {"sync_interval_s", "86401", "(expected a whole number from 10 to 86400)"},
    {"journal_max_mb", "0", "(expected a whole number from 1 to 1048576)"},
    {"journal_max_mb", "1048577", "(expected a whole number from 1 to 1048576)"},
    {"journal_max_mb", "99999999999999999999", "(expected a whole number from 1 to 1048576)"},
    {"default_lang", "fr", "\"fr\" is not a language (expected zh or en)"},
    {"default_lang", "", "is not a language (expected zh or en)"},
    {"audiences", "youth,teachers",
     "\"teachers\" is not an audience group (expected a comma-separated list of youth, farmers, "
     "elderly, workers, officials, other)"},
    {"audiences", "", "\"\" is not an audience group"},
    {"audiences", "youth,,elderly", "\"\" is not an audience group"},
    {"staff_pin_hash", "1234",
     "\"1234\" is not an Argon2id hash (expected empty, or a hash "
     "starting with $argon2id$"},
    {"staff_pin_hash", "$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "is not an Argon2id hash"},
    {"render", "opengl",
     "\"opengl\" is not a render mode (expected auto, software or "
     "accelerated)"},
    {"high_contrast", "maybe", "\"maybe\" is not a switch (expected on or off)"},
    {"reach", "", "is not a switch (expected on or off)"},
    {"reach_mount_mm", "-1", "(expected a whole number from 0 to 3000)"},
    {"reach_screen_mm", "4001", "(expected a whole number from 0 to 4000)"},
    {"ca_file", "/etc/\x01x", "the value contains a control character (expected plain text)"},
    {"token_file", "/etc/\xff", "the value is not valid UTF-8 (expected text)"},
};

static void test_bad_values_name_file_line_and_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        const struct bad *b = &bad_values[i];
        char text[512], prefix[256];
        snprintf(text, sizeof(text), "# line 1\n\nkiosk_id = k-1\n%s = %s\n", b->key, b->value);
        write_conf(text);
        struct kk_config cfg;
        struct kk_buf err = KK_BUF_INIT;
        assert_int_equal(kk_config_init(&cfg), KK_OK);
        assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_INVALID);
        snprintf(prefix, sizeof(prefix), "%s:4: %s: ", conf, b->key);
        if (strncmp(kk_buf_str(&err), prefix, strlen(prefix)) != 0 ||
            !strstr(kk_buf_str(&err), b->why) || strchr(kk_buf_str(&err), '\n'))
            fail_msg("%s = %s: got \"%s\"", b->key, b->value, kk_buf_str(&err));

        /* The same check for a command-line flag, without file and line. */
        kk_buf_reset(&err);
        assert_int_equal(kk_config_set(&cfg, b->key, b->value, &err), KK_ERR_INVALID);
        snprintf(prefix, sizeof(prefix), "%s: ", b->key);
        if (strncmp(kk_buf_str(&err), prefix, strlen(prefix)) != 0 ||
            !strstr(kk_buf_str(&err), b->why))
            fail_msg("set %s %s: got \"%s\"", b->key, b->value, kk_buf_str(&err));
        kk_config_release(&cfg);
        kk_buf_release(&err);
    }
}

static void test_unknown_key_and_missing_equals(void **state)
{
    (void)state;
    struct kk_config cfg;
    struct kk_buf err = KK_BUF_INIT;
    char expected[512];
    assert_int_equal(kk_config_init(&cfg), KK_OK);

    write_conf("kiosk_id = k-1\nidle_timeout = 60\n");
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_INVALID);
    snprintf(expected, sizeof(expected),
             "%s:2: idle_timeout: unknown key (expected one of kiosk_id server_url token_file "
             "trusted_keys content_dir state_dir idle_timeout_s idle_countdown_s default_lang "
             "audiences staff_pin_hash sync_interval_s journal_max_mb ca_file import_dirs "
             "render high_contrast reach reach_mount_mm reach_screen_mm wake_minutes volume "
             "quiet_volume busy_hours autoplay_elderly)",
             conf);
    assert_string_equal(kk_buf_str(&err), expected);

    kk_buf_reset(&err);
    write_conf("# settings\nkiosk_id k-1\n");
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_PARSE);
    snprintf(expected, sizeof(expected),
             "%s:2: kiosk_id k-1: no '=' on the line (expected key = value)", conf);
    assert_string_equal(kk_buf_str(&err), expected);

    kk_buf_reset(&err);
    write_conf("\n\n = k-1\n");
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_INVALID);
    snprintf(expected, sizeof(expected), "%s:3: : unknown key (expected one of", conf);
    assert_memory_equal(kk_buf_str(&err), expected, strlen(expected));

    kk_buf_reset(&err);
    assert_int_equal(kk_config_set(&cfg, "colour", "red", &err), KK_ERR_INVALID);
    assert_memory_equal(kk_buf_str(&err), "colour: unknown key (expected one of kiosk_id", 45);

    kk_buf_reset(&err);
    assert_int_equal(kk_config_set(&cfg, "idle_timeout_s", "120", &err), KK_OK);
    assert_int_equal(cfg.idle_timeout_s, 120);
    assert_int_equal(kk_config_set(&cfg, "kiosk_id", "k-99", &err), KK_OK);
    assert_string_equal(cfg.kiosk_id, "k-99");
    assert_string_equal(kk_buf_str(&err), "");
    kk_config_release(&cfg);
    kk_buf_release(&err);
}

static void test_too_big_and_missing_files(void **state)
{
    (void)state;
    struct kk_config cfg;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_config_init(&cfg), KK_OK);

    size_t n = KK_MAX_CONFIG_BYTES + 1;
    char *big = kk_malloc(n + 1);
    assert_non_null(big);
    memset(big, '#', n);
    big[n] = '\0';
    write_conf(big);
    kk_free(big);
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_TOOBIG);
    assert_non_null(strstr(kk_buf_str(&err), conf));

    kk_buf_reset(&err);
    char missing[sizeof(tmpdir) + 32];
    snprintf(missing, sizeof(missing), "%s/no-such.conf", tmpdir);
    assert_int_equal(kk_config_load(&cfg, missing, &err), KK_ERR_NOTFOUND);
    assert_non_null(strstr(kk_buf_str(&err), missing));

    kk_buf_reset(&err);
    write_conf("kiosk_id = k-1\n");
    FILE *f = fopen(conf, "a");
    assert_non_null(f);
    assert_int_equal(fwrite("x = a\0b\n", 1, 8, f), 8);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(kk_config_load(&cfg, conf, &err), KK_ERR_PARSE);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s:2: the line contains a NUL byte", conf);
    assert_memory_equal(kk_buf_str(&err), expected, strlen(expected));
    kk_config_release(&cfg);
    kk_buf_release(&err);
}

/* Every allocation in init and load failing in turn: an error, never a crash or a leak. */
static void test_out_of_memory(void **state)
{
    (void)state;
    write_conf("kiosk_id = k-1\nserver_url = http://a\naudiences = youth,other\nbogus = 1\n");
    struct kk_config cfg;
    kk_alloc_fail_after(0);
    assert_int_equal(kk_config_init(&cfg), KK_OK);
    assert_int_equal(kk_config_load(&cfg, conf, NULL), KK_ERR_INVALID);
    kk_config_release(&cfg);
    unsigned long made = kk_alloc_fail_after(0);
    for (unsigned long i = 1; i <= made; i++) {
        struct kk_buf err = KK_BUF_INIT;
        kk_alloc_fail_after(i);
        enum kk_err rc = kk_config_init(&cfg);
        if (rc == KK_OK) {
            rc = kk_config_load(&cfg, conf, &err);
            kk_config_release(&cfg);
            assert_true(rc == KK_ERR_NOMEM || rc == KK_ERR_INVALID);
        } else {
            assert_int_equal(rc, KK_ERR_NOMEM);
        }
        kk_alloc_fail_after(0);
        kk_buf_release(&err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key_is_parsed),
        cmocka_unit_test(test_comments_and_whitespace),
        cmocka_unit_test(test_bad_values_name_file_line_and_key),
        cmocka_unit_test(test_unknown_key_and_missing_equals),
        cmocka_unit_test(test_too_big_and_missing_files),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
