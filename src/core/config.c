#include "kepu/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/utf8.h"

#define DEFAULT_KIOSK_ID   "k-0000"
#define MAX_KIOSK_ID_LEN   64
#define MAX_STRING_VALUE   4096 /* any one value; paths and URLs fit easily */
#define QUOTE_MAX          80   /* how much of a bad value an error message repeats */
#define ARGON2ID_PREFIX    "$argon2id$"
#define STATE_SUBDIR       "kepu-kiosk"
#define STATE_FALLBACK_DIR "/var/lib/kepu-kiosk"

struct key;

/* How a key's text becomes a field. On failure a parser returns KK_ERR_INVALID (or
 * KK_ERR_NOMEM) and appends to why what is wrong, worded to follow "KEY: " and to end
 * with "(expected ...)". */
typedef enum kk_err (*parse_fn)(struct kk_config *cfg, const struct key *k, const char *value,
                                struct kk_buf *why);

struct key {
    const char *name;
    parse_fn parse;
    size_t offset;   /* of the field in struct kk_config */
    long min, max;   /* for whole numbers */
    int owns_string; /* the field is a char * that kk_config_release frees */
};

static char **string_field(struct kk_config *cfg, const struct key *k)
{
    return (char **)((char *)cfg + k->offset);
}

/* Replaces a string field with a copy of value. */
static enum kk_err set_string(struct kk_config *cfg, const struct key *k, const char *value,
                              struct kk_buf *why)
{
    char *copy = kk_strdup(value);
    if (!copy)
        return kk_fail(why, KK_ERR_NOMEM, "out of memory");
    char **field = string_field(cfg, k);
    kk_free(*field);
    *field = copy;
    return KK_OK;
}

static enum kk_err parse_nonempty_string(struct kk_config *cfg, const struct key *k,
                                         const char *value, struct kk_buf *why)
{
    if (!*value)
        return kk_fail(why, KK_ERR_INVALID, "empty (expected a folder path)");
    return set_string(cfg, k, value, why);
}

static enum kk_err parse_kiosk_id(struct kk_config *cfg, const struct key *k, const char *value,
                                  struct kk_buf *why)
{
    size_t len = strlen(value);
    if (len == 0 || len > MAX_KIOSK_ID_LEN ||
        strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != len)
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not a kiosk id (expected 1 to %d of the characters A-Z a-z "
                       "0-9 -)",
                       QUOTE_MAX, value, MAX_KIOSK_ID_LEN);
    return set_string(cfg, k, value, why);
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum kk_err parse_url(struct kk_config *cfg, const struct key *k, const char *value,
                             struct kk_buf *why)
{
    int ok = *value == '\0' || (has_prefix(value, "http://") && value[7]) ||
             (has_prefix(value, "https://") && value[8]);
    if (!ok || strpbrk(value, " \t"))
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not a server address (expected empty, or a URL starting "
                       "with http:// or https://)",
                       QUOTE_MAX, value);
    return set_string(cfg, k, value, why);
}

static enum kk_err parse_pin_hash(struct kk_config *cfg, const struct key *k, const char *value,
                                  struct kk_buf *why)
{
    if (*value && (!has_prefix(value, ARGON2ID_PREFIX) || !value[strlen(ARGON2ID_PREFIX)] ||
                   strpbrk(value, " \t")))
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not an Argon2id hash (expected empty, or a hash starting "
                       "with %s, as made by kepu-kiosk's staff PIN setup)",
                       QUOTE_MAX, value, ARGON2ID_PREFIX);
    return set_string(cfg, k, value, why);
}

static enum kk_err parse_number(struct kk_config *cfg, const struct key *k, const char *value,
                                struct kk_buf *why)
{
    long v;
    if (kk_parse_long(value, k->min, k->max, &v) < 0)
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not allowed (expected a whole number from %ld to %ld)",
                       QUOTE_MAX, value, k->min, k->max);
    if (k->offset == offsetof(struct kk_config, journal_max_mb))
        cfg->journal_max_mb = v;
    else
        *(int *)((char *)cfg + k->offset) = (int)v;
    return KK_OK;
}

static enum kk_err parse_lang(struct kk_config *cfg, const struct key *k, const char *value,
                              struct kk_buf *why)
{
    (void)k;
    int lang = kk_lang_parse(value);
    if (lang < 0)
        return kk_fail(why, KK_ERR_INVALID, "\"%.*s\" is not a language (expected zh or en)",
                       QUOTE_MAX, value);
    cfg->default_lang = (enum kk_lang)lang;
    return KK_OK;
}

static enum kk_err parse_audiences(struct kk_config *cfg, const struct key *k, const char *value,
                                   struct kk_buf *why)
{
    (void)k;
    unsigned mask = 0;
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char *name = kk_strndup(p, n);
        if (!name)
            return kk_fail(why, KK_ERR_NOMEM, "out of memory");
        int a = kk_audience_parse(name);
        if (a < 0) {
            enum kk_err rc = kk_fail(why, KK_ERR_INVALID,
                                     "\"%.*s\" is not an audience group (expected a "
                                     "comma-separated list of youth, farmers, elderly, "
                                     "workers, officials, other)",
                                     QUOTE_MAX, name);
            kk_free(name);
            return rc;
        }
        kk_free(name);
        mask |= KK_AUD_BIT(a);
        if (!comma)
            break;
        p = comma + 1;
    }
    cfg->audiences = mask;
    return KK_OK;
}

static enum kk_err parse_render(struct kk_config *cfg, const struct key *k, const char *value,
                                struct kk_buf *why)
{
    (void)k;
    if (strcmp(value, "auto") == 0)
        cfg->render = KK_RENDER_AUTO;
    else if (strcmp(value, "software") == 0)
        cfg->render = KK_RENDER_SOFTWARE;
    else if (strcmp(value, "accelerated") == 0)
        cfg->render = KK_RENDER_ACCELERATED;
    else
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not a render mode (expected auto, software or accelerated)",
                       QUOTE_MAX, value);
    return KK_OK;
}

static enum kk_err parse_switch(struct kk_config *cfg, const struct key *k, const char *value,
                                struct kk_buf *why)
{
    int on;
    if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "yes") ||
        !strcmp(value, "1"))
        on = 1;
    else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "no") ||
             !strcmp(value, "0"))
        on = 0;
    else
        return kk_fail(why, KK_ERR_INVALID, "\"%.*s\" is not a switch (expected on or off)",
                       QUOTE_MAX, value);
    *(int *)((char *)cfg + k->offset) = on;
    return KK_OK;
}

/* "HH:MM" at s (exactly five characters), 00:00..24:00; -1 when it is not one. */
static int parse_hhmm(const char *s)
{
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' && s[3] >= '0' &&
          s[3] <= '5' && s[4] >= '0' && s[4] <= '9'))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

static enum kk_err parse_busy_hours(struct kk_config *cfg, const struct key *k, const char *value,
                                    struct kk_buf *why)
{
    (void)k;
    int from = strlen(value) == 11 && value[5] == '-' ? parse_hhmm(value) : -1;
    int to = from >= 0 ? parse_hhmm(value + 6) : -1;
    if (from < 0 || to < 0 || from == 1440 || from == to)
        return kk_fail(why, KK_ERR_INVALID,
                       "\"%.*s\" is not a time range (expected HH:MM-HH:MM in local time, "
                       "like 09:00-17:00)",
                       QUOTE_MAX, value);
    cfg->busy_from_min = from;
    cfg->busy_to_min = to;
    return KK_OK;
}

int kk_config_volume_at(const struct kk_config *cfg, int minute_of_day)
{
    int from = cfg->busy_from_min, to = cfg->busy_to_min, m = minute_of_day;
    int busy = from < to ? m >= from && m < to : m >= from || m < to;
    return busy ? cfg->volume : cfg->quiet_volume;
}

#define STR(name, parse)                                                                           \
    {                                                                                              \
#name, parse, offsetof(struct kk_config, name), 0, 0, 1                                    \
    }
#define NUM(name, lo, hi)                                                                          \
    {                                                                                              \
#name, parse_number, offsetof(struct kk_config, name), lo, hi, 0                           \
    }
#define ENUM(name, parse)                                                                          \
    {                                                                                              \
#name, parse, offsetof(struct kk_config, name), 0, 0, 0                                    \
    }

/* Every key of kiosk.conf, in the order of struct kk_config. */
static const struct key keys[] = {
    STR(kiosk_id, parse_kiosk_id),
    STR(server_url, parse_url),
    STR(token_file, set_string),
    STR(trusted_keys, set_string),
    STR(content_dir, set_string),
    STR(state_dir, parse_nonempty_string),
    NUM(idle_timeout_s, 10, 3600),
    NUM(idle_countdown_s, 3, 120),
    ENUM(default_lang, parse_lang),
    ENUM(audiences, parse_audiences),
    STR(staff_pin_hash, parse_pin_hash),
    NUM(sync_interval_s, 10, 86400),
    NUM(journal_max_mb, 1, 1048576),
    STR(ca_file, set_string),
    STR(import_dirs, set_string),
    ENUM(render, parse_render),
    ENUM(high_contrast, parse_switch),
    ENUM(reach, parse_switch),
    NUM(reach_mount_mm, 0, 3000),
    NUM(reach_screen_mm, 0, 4000),
    NUM(wake_minutes, 1, 120),
    NUM(volume, 0, 100),
    NUM(quiet_volume, 0, 100),
    {"busy_hours", parse_busy_hours, offsetof(struct kk_config, busy_from_min), 0, 0, 0},
    NUM(autoplay_elderly, 0, 1),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* Checks what every value must be, whatever its key: bounded, UTF-8, no control bytes. */
static enum kk_err check_text(const char *value, struct kk_buf *why)
{
    size_t len = strlen(value);
    if (len > MAX_STRING_VALUE)
        return kk_fail(why, KK_ERR_INVALID, "the value is %zu bytes (expected at most %d)", len,
                       MAX_STRING_VALUE);
    if (!kk_utf8_valid(value, len))
        return kk_fail(why, KK_ERR_INVALID, "the value is not valid UTF-8 (expected text)");
    for (const char *c = value; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return kk_fail(why, KK_ERR_INVALID,
                           "the value contains a control character (expected plain text)");
    return KK_OK;
}

/* Sets one key; on failure err gets where ("path:line: " or "") and
 * "KEY: what is wrong (expected ...)". */
static enum kk_err set_key(struct kk_config *cfg, const char *where, const char *name,
                           const char *value, struct kk_buf *err)
{
    struct kk_buf why = KK_BUF_INIT;
    enum kk_err rc;
    const struct key *k = find_key(name);
    if (!k) {
        rc = kk_buf_adds(&why, "unknown key (expected one of");
        for (size_t i = 0; i < NKEYS && !rc; i++)
            rc = kk_buf_addf(&why, " %s", keys[i].name);
        if (!rc)
            rc = kk_buf_adds(&why, ")");
        rc = rc ? KK_ERR_NOMEM : KK_ERR_INVALID;
        kk_fail(err, rc, "%s%.*s: %s", where, QUOTE_MAX, name, kk_buf_str(&why));
        goto done;
    }
    rc = check_text(value, &why);
    if (!rc)
        rc = k->parse(cfg, k, value, &why);
    if (rc)
        kk_fail(err, rc, "%s%s: %s", where, k->name, kk_buf_str(&why));
done:
    kk_buf_release(&why);
    return rc;
}

enum kk_err kk_config_set(struct kk_config *cfg, const char *key, const char *value,
                          struct kk_buf *err)
{
    return set_key(cfg, "", key, value, err);
}

/* The state folder of the XDG base directory spec: $XDG_STATE_HOME if it is an absolute
 * path, else $HOME/.local/state; a service without a home gets the deployed folder. */
static char *default_state_dir(void)
{
    struct kk_buf dir = KK_BUF_INIT;
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    enum kk_err rc;
    if (xdg && xdg[0] == '/')
        rc = kk_buf_addf(&dir, "%s/%s", xdg, STATE_SUBDIR);
    else if (home && home[0] == '/')
        rc = kk_buf_addf(&dir, "%s/.local/state/%s", home, STATE_SUBDIR);
    else
        rc = kk_buf_adds(&dir, STATE_FALLBACK_DIR);
    if (rc) {
        kk_buf_release(&dir);
        return NULL;
    }
    return kk_buf_detach(&dir, NULL);
}

enum kk_err kk_config_init(struct kk_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kiosk_id = kk_strdup(DEFAULT_KIOSK_ID);
    cfg->server_url = kk_strdup("");
    cfg->token_file = kk_strdup("");
    cfg->trusted_keys = kk_strdup("");
    cfg->content_dir = kk_strdup("");
    cfg->state_dir = default_state_dir();
    cfg->staff_pin_hash = kk_strdup("");
    cfg->ca_file = kk_strdup("");
    cfg->import_dirs = kk_strdup("");
    cfg->idle_timeout_s = 60;
    cfg->idle_countdown_s = 15;
    cfg->wake_minutes = 5;
    cfg->default_lang = KK_LANG_ZH;
    cfg->audiences = KK_AUD_ALL;
    cfg->sync_interval_s = 300;
    cfg->journal_max_mb = 1024;
    cfg->render = KK_RENDER_AUTO;
    cfg->reach_mount_mm = 800;
    cfg->volume = 80;
    cfg->quiet_volume = 30;
    cfg->busy_from_min = 9 * 60;
    cfg->busy_to_min = 17 * 60;
    cfg->autoplay_elderly = 0;
    if (!cfg->kiosk_id || !cfg->server_url || !cfg->token_file || !cfg->trusted_keys ||
        !cfg->content_dir || !cfg->state_dir || !cfg->staff_pin_hash || !cfg->ca_file ||
        !cfg->import_dirs) {
        kk_config_release(cfg);
        return KK_ERR_NOMEM;
    }
    return KK_OK;
}

void kk_config_release(struct kk_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].owns_string)
            continue;
        char **field = string_field(cfg, &keys[i]);
        kk_free(*field);
        *field = NULL;
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks from both ends of s[0..*len) in place; returns the new start. */
static char *trim(char *s, size_t *len)
{
    while (*len && is_blank(*s)) {
        s++;
        (*len)--;
    }
    while (*len && is_blank(s[*len - 1]))
        (*len)--;
    s[*len] = '\0';
    return s;
}

enum kk_err kk_config_load(struct kk_config *cfg, const char *path, struct kk_buf *err)
{
    struct kk_buf text = KK_BUF_INIT;
    struct kk_buf where = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(path, KK_MAX_CONFIG_BYTES, &text, err);
    if (rc || !text.data)
        goto done;
    char *p = text.data;
    char *end = p + text.len;
    for (unsigned lineno = 1; p < end; lineno++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *next = nl ? nl + 1 : end;
        kk_buf_reset(&where);
        if (kk_buf_addf(&where, "%s:%u: ", path, lineno)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if (memchr(p, '\0', len)) {
            rc = kk_fail(err, KK_ERR_PARSE, "%sthe line contains a NUL byte (expected text)",
                         where.data);
            goto done;
        }
        char *line = trim(p, &len);
        p = next;
        if (len == 0 || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = kk_fail(err, KK_ERR_PARSE, "%s%.*s: no '=' on the line (expected key = value)",
                         where.data, QUOTE_MAX, line);
            goto done;
        }
        size_t klen = (size_t)(eq - line);
        size_t vlen = len - klen - 1;
        char *key = trim(line, &klen);
        char *value = trim(eq + 1, &vlen);
        rc = set_key(cfg, where.data, key, value, err);
        if (rc)
            goto done;
    }
done:
    kk_buf_release(&where);
    kk_buf_release(&text);
    return rc;
}
