#include "content.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/install.h"
#include "kepu/limits.h"
#include "kepu/log.h"

void content_init(struct content *c, const struct kk_config *cfg, struct session *session)
{
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->session = session;
}

static void free_hidden(struct content *c)
{
    for (size_t i = 0; i < c->nhidden; i++)
        kk_free(c->hidden[i]);
    kk_free(c->hidden);
    c->hidden = NULL;
    c->nhidden = 0;
}

void content_release(struct content *c)
{
    if (!c)
        return;
    kk_library_release(&c->lib);
    kk_free(c->keys);
    c->keys = NULL;
    c->nkeys = 0;
    free_hidden(c);
}

int content_pack_visible(const struct content *c, const struct kk_pack *p)
{
    return p->ntopics > 0 && !content_hidden(c, p->id);
}

int content_any_visible(const struct content *c)
{
    for (size_t i = 0; i < c->lib.npacks; i++)
        if (content_pack_visible(c, c->lib.packs[i]))
            return 1;
    return 0;
}

const struct kk_pubkey *content_keys(struct content *c, size_t *n)
{
    if (!c->keys_loaded) {
        struct kk_buf err = KK_BUF_INIT;
        c->keys_loaded = 1;
        if (kk_manifest_pubkeys_read(c->cfg->trusted_keys, &c->keys, &c->nkeys, &err))
            kk_error("content", "trusted_keys: %s: no pack can be installed", kk_buf_str(&err));
        else if (!c->nkeys)
            kk_warn("content", "trusted_keys is empty: no pack can be installed");
        kk_buf_release(&err);
    }
    *n = c->nkeys;
    return c->keys;
}

static void record_error(struct content *c, const char *code, const char *detail)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "code", code);
    cJSON_AddStringToObject(f, "detail", detail);
    session_event(c->session, "error", f);
}

/* Verifies and loads one installed version; NULL (logged) when it cannot be used. */
static struct kk_pack *load_installed(struct content *c, const char *id, const char *version)
{
    size_t nkeys;
    const struct kk_pubkey *keys = content_keys(c, &nkeys);
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pack *p = NULL;
    char *dir = kk_install_path(c->cfg->state_dir, id, version);
    if (!dir || kk_manifest_verify(dir, keys, nkeys, NULL, &err) ||
        kk_pack_load(dir, &p, NULL, &err)) {
        kk_error("content", "%s@%s cannot be used: %s", id, version,
                 err.len ? kk_buf_str(&err) : "out of memory");
        char detail[512];
        snprintf(detail, sizeof(detail), "%s@%s: %s", id, version, kk_buf_str(&err));
        record_error(c, "pack_invalid", detail);
        p = NULL;
    }
    kk_free(dir);
    kk_buf_release(&err);
    return p;
}

static void load_installed_packs(struct content *c)
{
    struct kk_buf err = KK_BUF_INIT;
    struct kk_install_list list = {0};
    if (kk_install_cleanup(c->cfg->state_dir, &err))
        kk_warn("content", "cleaning the state folder: %s", kk_buf_str(&err));
    kk_buf_reset(&err);
    if (kk_install_list_read(c->cfg->state_dir, &list, &err)) {
        kk_error("content", "%s", kk_buf_str(&err));
        record_error(c, "active_unreadable", kk_buf_str(&err));
    }
    for (size_t i = 0; i < list.n; i++) {
        const struct kk_install_entry *e = &list.items[i];
        struct kk_pack *p = load_installed(c, e->id, e->version);
        if (!p && e->previous) {
            kk_warn("content", "%s: showing the previous version %s", e->id, e->previous);
            p = load_installed(c, e->id, e->previous);
        }
        if (p && kk_library_add(&c->lib, p))
            kk_error("content", "%s: cannot be added to the library", e->id);
    }
    kk_install_list_release(&list);
    kk_buf_release(&err);
}

static void load_source_packs(struct content *c)
{
    struct kk_buf skipped = KK_BUF_INIT, err = KK_BUF_INIT;
    if (kk_library_load(&c->lib, c->cfg->content_dir, &skipped, &err))
        kk_error("content", "%s", kk_buf_str(&err));
    /* One log line and one error event per pack that could not be used. */
    char *line = skipped.data;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        kk_error("content", "pack skipped: %s", line);
        record_error(c, "pack_invalid", line);
        line = nl ? nl + 1 : NULL;
    }
    kk_buf_release(&skipped);
    kk_buf_release(&err);
}

/* state/hidden.json: {"hidden":["id",...]} */
static void load_hidden(struct content *c)
{
    free_hidden(c);
    char *path = kk_path_join(c->cfg->state_dir, "hidden.json");
    struct kk_buf data = KK_BUF_INIT;
    if (path && !kk_file_read(path, KK_MAX_CONFIG_BYTES, &data, NULL)) {
        cJSON *j = cJSON_ParseWithLength(data.data, data.len);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "hidden"), *v;
        cJSON_ArrayForEach(v, ids)
        {
            char **grown = kk_reallocarray(c->hidden, c->nhidden + 1, sizeof(*grown));
            if (!cJSON_IsString(v) || !grown)
                continue;
            c->hidden = grown;
            if ((c->hidden[c->nhidden] = kk_strdup(v->valuestring)))
                c->nhidden++;
        }
        if (!j)
            kk_warn("content", "%s: not valid JSON; no pack is hidden", path);
        cJSON_Delete(j);
    }
    kk_buf_release(&data);
    kk_free(path);
}

void content_load(struct content *c)
{
    kk_library_release(&c->lib);
    load_hidden(c);
    const char *from = c->cfg->content_dir;
    if (*from)
        load_source_packs(c);
    else
        load_installed_packs(c);
    size_t topics = 0;
    for (size_t i = 0; i < c->lib.npacks; i++)
        topics += c->lib.packs[i]->ntopics;
    kk_info("content", "%zu packs, %zu topics from %s", c->lib.npacks, topics,
            *from ? from : "the installed packs");
    if (!c->lib.npacks)
        kk_warn("content", "no usable pack: showing \"Content is being updated\"");
    c->pending = 0;
}

int content_hidden(const struct content *c, const char *id)
{
    for (size_t i = 0; i < c->nhidden; i++)
        if (!strcmp(c->hidden[i], id))
            return 1;
    return 0;
}

enum kk_err content_set_hidden(struct content *c, const char *id, int hidden, struct kk_buf *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(j, "hidden");
    for (size_t i = 0; i < c->nhidden; i++)
        if (strcmp(c->hidden[i], id))
            cJSON_AddItemToArray(ids, cJSON_CreateString(c->hidden[i]));
    if (hidden)
        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    char *text = cJSON_PrintUnformatted(j);
    char *path = kk_path_join(c->cfg->state_dir, "hidden.json");
    enum kk_err rc = text && path ? kk_file_write_atomic(path, text, strlen(text), err)
                                  : kk_fail(err, KK_ERR_NOMEM, "hidden.json: out of memory");
    cJSON_free(text);
    cJSON_Delete(j);
    kk_free(path);
    if (!rc) {
        kk_info("staff", "pack %s %s", id, hidden ? "hidden" : "shown");
        load_hidden(c);
    }
    return rc;
}

enum kk_err content_import(struct content *c, const char *kpk, struct kk_buf *err)
{
    size_t nkeys;
    const struct kk_pubkey *keys = content_keys(c, &nkeys);
    struct kk_manifest *m = NULL;
    enum kk_err rc = kk_install_bundle(c->cfg->state_dir, kpk, keys, nkeys, 0, &m, err);
    if (!rc) {
        kk_info("staff", "imported %s@%s from %s; switching at the attract screen", m->id,
                m->version, kpk);
        c->pending = 1;
    } else {
        kk_error("staff", "import of %s refused: %s", kpk, kk_buf_str(err));
    }
    kk_manifest_destroy(m);
    return rc;
}

enum kk_err content_rollback(struct content *c, const char *id, struct kk_buf *err)
{
    enum kk_err rc = kk_install_rollback(c->cfg->state_dir, id, err);
    if (!rc) {
        kk_info("staff", "%s rolled back; switching at the attract screen", id);
        c->pending = 1;
    }
    return rc;
}

int content_switch_if_pending(struct content *c)
{
    if (!c->pending)
        return 0;
    kk_info("content", "switching to the new content");
    content_load(c);
    if (c->sync)
        kk_sync_install_seen(c->sync);
    return 1;
}

#define STARTUP_FILE    "startup.json"
#define FAILED_STARTS   3
#define CRASH_WINDOW_MS (10 * 60 * 1000)

/* Rolls back every pack whose active version was installed since `since` (wall ms). */
static void roll_back_recent(struct content *c, int64_t since)
{
    struct kk_install_list list = {0};
    struct kk_buf err = KK_BUF_INIT;
    if (kk_install_list_read(c->cfg->state_dir, &list, &err))
        kk_error("content", "crash-loop guard: %s", kk_buf_str(&err));
    for (size_t i = 0; i < list.n; i++) {
        const struct kk_install_entry *e = &list.items[i];
        char *dir = e->previous ? kk_install_path(c->cfg->state_dir, e->id, e->version) : NULL;
        struct stat st;
        if (dir && stat(dir, &st) == 0 && (int64_t)st.st_mtime * 1000 >= since) {
            char detail[256];
            kk_buf_reset(&err);
            if (kk_install_rollback(c->cfg->state_dir, e->id, &err)) {
                kk_error("content", "crash-loop guard: cannot roll %s back: %s", e->id,
                         kk_buf_str(&err));
            } else {
                snprintf(detail, sizeof(detail),
                         "%s: %s failed to start %d times in 10 minutes; rolled back to %s", e->id,
                         e->version, FAILED_STARTS, e->previous);
                kk_error("content", "%s", detail);
                record_error(c, "rollback", detail);
            }
        }
        kk_free(dir);
    }
    kk_install_list_release(&list);
    kk_buf_release(&err);
}

void content_startup_check(struct content *c)
{
    if (*c->cfg->content_dir)
        return; /* source packs are not installed: nothing to roll back */
    char *path = kk_path_join(c->cfg->state_dir, STARTUP_FILE);
    struct kk_buf data = KK_BUF_INIT, err = KK_BUF_INIT;
    int64_t now = kk_clock_wall_ms(), first = now;
    int attempts = 0;
    if (path && !kk_file_read(path, KK_MAX_CONFIG_BYTES, &data, NULL)) {
        cJSON *j = cJSON_ParseWithLength(data.data, data.len);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "attempts");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "first_ms");
        if (cJSON_IsNumber(n) && cJSON_IsNumber(f) &&
            now - (int64_t)f->valuedouble < CRASH_WINDOW_MS && f->valuedouble <= (double)now) {
            attempts = n->valueint;
            first = (int64_t)f->valuedouble;
        }
        cJSON_Delete(j);
    }
    if (attempts >= FAILED_STARTS) {
        roll_back_recent(c, first - CRASH_WINDOW_MS);
        attempts = 0;
        first = now;
    }
    char text[96];
    int len = snprintf(text, sizeof(text), "{\"attempts\":%d,\"first_ms\":%lld}", attempts + 1,
                       (long long)first);
    if (path && kk_file_write_atomic(path, text, (size_t)len, &err))
        kk_warn("content", "crash-loop guard disabled: %s", kk_buf_str(&err));
    kk_free(path);
    kk_buf_release(&data);
    kk_buf_release(&err);
}

void content_startup_ok(struct content *c)
{
    char *path = kk_path_join(c->cfg->state_dir, STARTUP_FILE);
    if (path)
        unlink(path);
    kk_free(path);
}
