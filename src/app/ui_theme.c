#include "ui_theme.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/log.h"

#define THEME_FORMAT 1
#define ASSETS_ENV   "KEPU_ASSETS"
#define THEME_ENV    "KEPU_THEME"
#define HC_ENV       "KEPU_THEME_HIGH_CONTRAST"

#define COLOUR(m)                                                                                  \
    {                                                                                              \
#m, offsetof(struct ui_palette, m)                                                         \
    }
static const struct {
    const char *key;
    size_t off;
} colour_keys[] = {
    COLOUR(bg),       COLOUR(ink),           COLOUR(ink_soft),
    COLOUR(primary),  COLOUR(primary_dark),  COLOUR(on_primary),
    COLOUR(card),     COLOUR(line),          COLOUR(fact),
    COLOUR(accent),   COLOUR(good),          COLOUR(bad),
    COLOUR(shade),    COLOUR(top_bar),       COLOUR(good_soft),
    COLOUR(bad_soft), COLOUR(selected_soft),
};

#define SIZE(m, lo, hi)                                                                            \
    {                                                                                              \
#m, offsetof(struct ui_sizes, m), lo, hi                                                   \
    }
static const struct {
    const char *key;
    size_t off;
    int min, max;
} size_keys[] = {
    SIZE(top_bar, 60, 400),           SIZE(min_target, 48, 400), SIZE(min_target_floor, 32, 400),
    SIZE(button_radius, 0, 200),      SIZE(button_ring, 1, 40),  SIZE(button_text, 12, 200),
    SIZE(button_text_large, 12, 200),
};

/* The theme's names of enum ui_icon, in its order. */
static const char *const icon_keys[UI_ICON_COUNT] = {"content-updating"};

void ui_theme_init(struct ui_theme *t)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "built-in");
    t->colours = ui_palette_builtin;
    t->sizes = ui_sizes_builtin;
}

void ui_theme_release(struct ui_theme *t)
{
    if (!t)
        return;
    for (int i = 0; i < UI_ICON_COUNT; i++) {
        kk_free(t->icons[i].path);
        kk_free(t->icons[i].src);
    }
    ui_theme_init(t);
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "#rrggbb" or "#rrggbbaa". */
static int parse_colour(const char *s, struct ui_color *out)
{
    size_t n = strlen(s);
    if ((n != 7 && n != 9) || s[0] != '#')
        return -1;
    uint8_t v[4] = {0, 0, 0, 255};
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        int hi = hex(s[1 + 2 * i]), lo = hex(s[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        v[i] = (uint8_t)(hi * 16 + lo);
    }
    *out = (struct ui_color){v[0], v[1], v[2], v[3]};
    return 0;
}

static enum kk_err read_colours(struct ui_theme *t, const cJSON *obj, const char *file,
                                struct kk_buf *err)
{
    const cJSON *v;
    if (!cJSON_IsObject(obj))
        return kk_fail(err, KK_ERR_INVALID, "%s: colours: expected an object", file);
    cJSON_ArrayForEach(v, obj)
    {
        size_t i = 0, n = sizeof(colour_keys) / sizeof(colour_keys[0]);
        while (i < n && strcmp(colour_keys[i].key, v->string))
            i++;
        if (i == n)
            return kk_fail(err, KK_ERR_INVALID, "%s: colours.%s: no such colour", file, v->string);
        struct ui_color c;
        if (!cJSON_IsString(v) || parse_colour(v->valuestring, &c))
            return kk_fail(err, KK_ERR_INVALID,
                           "%s: colours.%s: expected \"#rrggbb\" or \"#rrggbbaa\"", file,
                           v->string);
        memcpy((char *)&t->colours + colour_keys[i].off, &c, sizeof(c));
    }
    return KK_OK;
}

static enum kk_err read_sizes(struct ui_theme *t, const cJSON *obj, const char *file,
                              struct kk_buf *err)
{
    const cJSON *v;
    if (!cJSON_IsObject(obj))
        return kk_fail(err, KK_ERR_INVALID, "%s: sizes: expected an object", file);
    cJSON_ArrayForEach(v, obj)
    {
        size_t i = 0, n = sizeof(size_keys) / sizeof(size_keys[0]);
        while (i < n && strcmp(size_keys[i].key, v->string))
            i++;
        if (i == n)
            return kk_fail(err, KK_ERR_INVALID, "%s: sizes.%s: no such size", file, v->string);
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble ||
            v->valueint < size_keys[i].min || v->valueint > size_keys[i].max)
            return kk_fail(err, KK_ERR_INVALID, "%s: sizes.%s: expected a whole number %d..%d",
                           file, v->string, size_keys[i].min, size_keys[i].max);
        int px = v->valueint;
        memcpy((char *)&t->sizes + size_keys[i].off, &px, sizeof(px));
    }
    return KK_OK;
}

/* A path inside the assets folder: relative, no "..", no empty or hidden parts. */
static int safe_rel(const char *rel)
{
    if (!*rel || *rel == '/')
        return 0;
    for (const char *p = rel; *p; p++)
        if ((p == rel || p[-1] == '/') && (*p == '.' || *p == '/'))
            return 0;
    return 1;
}

/* Checks and keeps one icon; a bad one is logged and drawn built-in, and does not fail
 * the theme. */
static void read_icon(struct ui_theme *t, int i, const cJSON *v, const char *dir, const char *file)
{
    struct kk_buf why = KK_BUF_INIT;
    struct kk_image img = {0};
    char *path = NULL;
    const char *rel = cJSON_IsString(v) ? v->valuestring : "";
    if (!safe_rel(rel)) {
        kk_warn("theme", "%s: icons.%s: expected a path inside the assets folder: drawn built-in",
                file, icon_keys[i]);
    } else if (kk_image_type_from_name(rel) != KK_IMG_SVG) {
        kk_warn("theme", "%s: icons.%s: %s is not an SVG file: drawn built-in", file, icon_keys[i],
                rel);
    } else if (!(path = kk_path_join(dir, rel)) || !(img.src = kk_strdup(rel))) {
        kk_warn("theme", "%s: icons.%s: out of memory: drawn built-in", file, icon_keys[i]);
    } else if (kk_image_probe(path, KK_IMG_SVG, &img, &why)) {
        kk_warn("theme", "%s: icons.%s: %s: %s: drawn built-in", file, icon_keys[i], path,
                kk_buf_str(&why));
    } else {
        img.path = path;
        path = NULL;
        t->icons[i] = img;
        img.src = NULL;
    }
    kk_free(img.src);
    kk_free(path);
    kk_buf_release(&why);
}

static enum kk_err read_icons(struct ui_theme *t, const cJSON *obj, const char *dir,
                              const char *file, struct kk_buf *err)
{
    const cJSON *v;
    if (!cJSON_IsObject(obj))
        return kk_fail(err, KK_ERR_INVALID, "%s: icons: expected an object", file);
    cJSON_ArrayForEach(v, obj)
    {
        int i = 0;
        while (i < UI_ICON_COUNT && strcmp(icon_keys[i], v->string))
            i++;
        if (i == UI_ICON_COUNT)
            return kk_fail(err, KK_ERR_INVALID, "%s: icons.%s: no such icon", file, v->string);
        read_icon(t, i, v, dir, file);
    }
    return KK_OK;
}

enum kk_err ui_theme_load(struct ui_theme *t, const char *dir, const char *name, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf data = KK_BUF_INIT;
    char rel[96];
    cJSON *j = NULL;
    char *path = NULL;
    ui_theme_release(t);
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name)) {
        rc = kk_fail(err, KK_ERR_INVALID, "theme \"%s\": a name is a-z, 0-9, - and _", name);
        goto done;
    }
    if (strlen(name) > 64) {
        rc = kk_fail(err, KK_ERR_INVALID, "theme \"%.64s...\": the name is too long", name);
        goto done;
    }
    snprintf(rel, sizeof(rel), "themes/%s.json", name);
    path = kk_path_join(dir, rel);
    if (!path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "theme: out of memory");
        goto done;
    }
    rc = kk_file_read(path, KK_MAX_CONFIG_BYTES, &data, err); /* err names the path */
    if (rc)
        goto done;
    j = cJSON_ParseWithLength(data.data, data.len);
    if (!cJSON_IsObject(j)) {
        rc = kk_fail(err, KK_ERR_PARSE, "%s: not a JSON object", path);
        goto done;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, j)
    {
        if (!strcmp(v->string, "format")) {
            if (!cJSON_IsNumber(v) || v->valuedouble != THEME_FORMAT)
                rc = kk_fail(err, KK_ERR_INVALID, "%s: format: expected %d", path, THEME_FORMAT);
        } else if (!strcmp(v->string, "name")) {
            if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(t->name))
                rc = kk_fail(err, KK_ERR_INVALID, "%s: name: expected a short string", path);
        } else if (!strcmp(v->string, "description")) {
            if (!cJSON_IsString(v))
                rc = kk_fail(err, KK_ERR_INVALID, "%s: description: expected a string", path);
        } else if (!strcmp(v->string, "colours")) {
            rc = read_colours(t, v, path, err);
        } else if (!strcmp(v->string, "sizes")) {
            rc = read_sizes(t, v, path, err);
        } else if (!strcmp(v->string, "icons")) {
            rc = read_icons(t, v, dir, path, err);
        } else {
            rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: no such member", path, v->string);
        }
        if (rc)
            goto done;
    }
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "format"))) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: format: missing (expected %d)", path, THEME_FORMAT);
        goto done;
    }
    snprintf(t->name, sizeof(t->name), "%s", name);
done:
    if (rc)
        ui_theme_release(t);
    cJSON_Delete(j);
    kk_free(path);
    kk_buf_release(&data);
    return rc;
}

char *ui_theme_assets_dir(void)
{
    const char *env = getenv(ASSETS_ENV);
    if (env && *env)
        return kk_strdup(env);
    /* Installed: <prefix>/bin/kepu-kiosk and <prefix>/share/kepu-kiosk/assets. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char *dir = kk_path_join(exe, "../share/kepu-kiosk/assets");
            if (!dir || access(dir, R_OK | X_OK) == 0)
                return dir;
            kk_free(dir);
        }
    }
    /* A build run in place uses the source tree's. */
    return kk_strdup(KK_SOURCE_ASSETS_DIR);
}

void ui_theme_apply(const struct ui_theme *t, struct ui_ctx *u)
{
    ui_palette = t->colours;
    ui_sizes = t->sizes;
    for (int i = 0; u && i < UI_ICON_COUNT; i++)
        u->icons[i] = t->icons[i].path ? &t->icons[i] : NULL;
}

void ui_theme_start(struct ui_theme *t, struct ui_ctx *u)
{
    struct kk_buf err = KK_BUF_INIT;
    const char *name = getenv(THEME_ENV);
    char *dir = ui_theme_assets_dir();
    ui_theme_init(t);
    if (!name || !*name)
        name = "default";
    if (!dir)
        kk_error("theme", "out of memory finding the assets: using the built-in look");
    else if (ui_theme_load(t, dir, name, &err))
        kk_error("theme", "%s: using the built-in look", kk_buf_str(&err));
    else
        kk_info("theme", "%s from %s", t->name, dir);
    ui_theme_apply(t, u);
    kk_free(dir);
    kk_buf_release(&err);
}

int ui_theme_start_high_contrast(struct ui_theme *hc)
{
    struct kk_buf err = KK_BUF_INIT;
    const char *name = getenv(HC_ENV);
    char *dir = ui_theme_assets_dir();
    int ok = 0;
    ui_theme_init(hc);
    if (!name || !*name)
        name = "high-contrast";
    if (!dir)
        kk_error("theme", "out of memory finding the assets: no high-contrast switch");
    else if (ui_theme_load(hc, dir, name, &err))
        kk_error("theme", "%s: no high-contrast switch", kk_buf_str(&err));
    else
        ok = 1;
    if (ok)
        kk_info("theme", "high contrast: %s from %s", hc->name, dir);
    kk_free(dir);
    kk_buf_release(&err);
    return ok;
}
