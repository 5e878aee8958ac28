#include "kepu/install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/bundle.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/limits.h"

#define ACTIVE_FILE "active.json"
#define ACTIVE_FMT  1
#define STAGING_DIR "staging"
#define PACKS_DIR   "packs"
#define LOCK_FILE   "install.lock"
#define COPY_CHUNK  65536

/* ---- versions and the list --------------------------------------------------------- */

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

int kk_install_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        if (!*a)
            return -1;
        if (!*b)
            return 1;
        size_t la = strcspn(a, ".-"), lb = strcspn(b, ".-");
        if (all_digits(a, la) && all_digits(b, lb)) {
            const char *da = a, *db = b;
            size_t ma = la, mb = lb;
            while (ma > 1 && *da == '0')
                da++, ma--;
            while (mb > 1 && *db == '0')
                db++, mb--;
            if (ma != mb)
                return ma < mb ? -1 : 1;
            int c = memcmp(da, db, ma);
            if (c)
                return c < 0 ? -1 : 1;
        } else {
            int c = memcmp(a, b, la < lb ? la : lb);
            if (c)
                return c < 0 ? -1 : 1;
            if (la != lb)
                return la < lb ? -1 : 1;
        }
        a += la;
        b += lb;
        if (*a)
            a++;
        if (*b)
            b++;
    }
    return 0;
}

static void entry_release(struct kk_install_entry *e)
{
    kk_free(e->id);
    kk_free(e->version);
    kk_free(e->previous);
    e->id = e->version = e->previous = NULL;
}

void kk_install_list_release(struct kk_install_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        entry_release(&l->items[i]);
    kk_free(l->items);
    l->items = NULL;
    l->n = 0;
}

char *kk_install_path(const char *state, const char *id, const char *version)
{
    struct kk_buf b = KK_BUF_INIT;
    if (kk_buf_addf(&b, "%s/%s/%s/%s", state, PACKS_DIR, id, version)) {
        kk_buf_release(&b);
        return NULL;
    }
    return kk_buf_detach(&b, NULL);
}

/* "<state>/<a>" or "<state>/<a>/<b>"; NULL when out of memory. */
static char *state_path(const char *state, const char *a, const char *b)
{
    struct kk_buf p = KK_BUF_INIT;
    if (kk_buf_addf(&p, "%s/%s", state, a) || (b && kk_buf_addf(&p, "/%s", b))) {
        kk_buf_release(&p);
        return NULL;
    }
    return kk_buf_detach(&p, NULL);
}

enum kk_err kk_install_list_read(const char *state, struct kk_install_list *out, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf text = KK_BUF_INIT;
    cJSON *root = NULL;
    char *path = state_path(state, ACTIVE_FILE, NULL);
    out->items = NULL;
    out->n = 0;
    if (!path)
        return kk_fail(err, KK_ERR_NOMEM, "active.json: out of memory");
    rc = kk_file_read(path, KK_MAX_JSON_FILE_BYTES, &text, NULL);
    if (rc == KK_ERR_NOTFOUND) {
        rc = KK_OK; /* nothing installed yet */
        goto done;
    }
    if (rc) {
        rc = kk_fail(err, rc, "%s: %s", path, kk_strerror(rc));
        goto done;
    }
    root = cJSON_ParseWithLength(text.data, text.len);
    const cJSON *packs = cJSON_GetObjectItemCaseSensitive(root, "packs");
    if (!cJSON_IsObject(root) || !cJSON_IsArray(packs)) {
        rc = kk_fail(err, KK_ERR_PARSE, "%s: not a valid active.json", path);
        goto done;
    }
    int n = cJSON_GetArraySize(packs);
    if (n > KK_MAX_PACKS) {
        rc = kk_fail(err, KK_ERR_TOOBIG, "%s: more than %d packs", path, KK_MAX_PACKS);
        goto done;
    }
    out->items = kk_calloc(n ? (size_t)n : 1, sizeof(*out->items));
    if (!out->items) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, packs)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "id"));
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "version"));
        const cJSON *prevj = cJSON_GetObjectItemCaseSensitive(p, "previous");
        const char *prev = cJSON_GetStringValue(prevj);
        if (!id || !v || !kk_manifest_name_is_safe(id) || !kk_manifest_name_is_safe(v) ||
            (prevj && !cJSON_IsNull(prevj) && (!prev || !kk_manifest_name_is_safe(prev)))) {
            rc = kk_fail(err, KK_ERR_INVALID, "%s: packs[%zu]: bad id, version or previous", path,
                         out->n);
            goto done;
        }
        struct kk_install_entry *e = &out->items[out->n++];
        e->id = kk_strdup(id);
        e->version = kk_strdup(v);
        e->previous = prev ? kk_strdup(prev) : NULL;
        if (!e->id || !e->version || (prev && !e->previous)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }
done:
    if (rc)
        kk_install_list_release(out);
    cJSON_Delete(root);
    kk_buf_release(&text);
    kk_free(path);
    return rc;
}

static enum kk_err list_write(const char *state, const struct kk_install_list *l,
                              struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *text = NULL, *path = state_path(state, ACTIVE_FILE, NULL);
    cJSON *root = cJSON_CreateObject(), *arr = NULL;
    if (!path || !root || !cJSON_AddNumberToObject(root, "format", ACTIVE_FMT) ||
        !(arr = cJSON_AddArrayToObject(root, "packs")))
        goto nomem;
    for (size_t i = 0; i < l->n; i++) {
        cJSON *p = cJSON_CreateObject();
        if (!p)
            goto nomem;
        if (!cJSON_AddItemToArray(arr, p)) {
            cJSON_Delete(p);
            goto nomem;
        }
        if (!cJSON_AddStringToObject(p, "id", l->items[i].id) ||
            !cJSON_AddStringToObject(p, "version", l->items[i].version) ||
            (l->items[i].previous && !cJSON_AddStringToObject(p, "previous", l->items[i].previous)))
            goto nomem;
    }
    text = cJSON_Print(root);
    if (!text)
        goto nomem;
    rc = kk_file_write_atomic(path, text, strlen(text), err);
    goto done;
nomem:
    rc = kk_fail(err, KK_ERR_NOMEM, "active.json: out of memory");
done:
    if (text)
        cJSON_free(text);
    cJSON_Delete(root);
    kk_free(path);
    return rc;
}

/* ---- file-system helpers ------------------------------------------------------------ */

static enum kk_err lock_state(const char *state, int *fd, struct kk_buf *err)
{
    enum kk_err rc = kk_mkdirs(state, 0755, err);
    if (rc)
        return rc;
    char *path = state_path(state, LOCK_FILE, NULL);
    if (!path)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", state);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (*fd < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
    else if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
        rc = kk_fail(err, errno == EWOULDBLOCK ? KK_ERR_BUSY : KK_ERR_IO,
                     "%s: another install is running", path);
        close(*fd);
        *fd = -1;
    }
    kk_free(path);
    return rc;
}

static void unlock_state(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static enum kk_err fsync_path(const char *path, int dir, struct kk_buf *err)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
    int r = kk_fsync(fd);
    int e = errno;
    close(fd);
    if (r < 0)
        return kk_fail(err, KK_ERR_IO, "%s: fsync: %s", path, strerror(e));
    return KK_OK;
}

/* fsyncs every folder under path (files were fsynced as they were written), so the
 * renamed tree is on disk before active.json names it. */
static enum kk_err fsync_dirs(const char *path, int depth, struct kk_buf *err)
{
    if (depth > KK_MAX_PATH_DEPTH)
        return kk_fail(err, KK_ERR_IO, "%s: folders nested more than %d deep", path,
                       KK_MAX_PATH_DEPTH);
    DIR *d = opendir(path);
    if (!d)
        return kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
    enum kk_err rc = KK_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        char *child = kk_path_join(path, e->d_name);
        rc = child ? fsync_dirs(child, depth + 1, err)
                   : kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
        kk_free(child);
    }
    closedir(d);
    return rc ? rc : fsync_path(path, 1, err);
}

/* Copies src/rel to the new file dst/rel and fsyncs it. */
static enum kk_err copy_one(const char *src, const char *dst, const char *rel, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *from = kk_path_join(src, rel), *to = kk_path_join(dst, rel), *parent = NULL;
    char *chunk = kk_malloc(COPY_CHUNK);
    int in = -1, out = -1;
    if (!from || !to || !chunk) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
        goto done;
    }
    parent = kk_strndup(to, (size_t)(strrchr(to, '/') - to));
    if (!parent) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
        goto done;
    }
    rc = kk_mkdirs(parent, 0755, err);
    if (rc)
        goto done;
    in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (in < 0 || out < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t n = read(in, chunk, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (kk_write_all(out, chunk, (size_t)n) < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", to, strerror(errno));
            goto done;
        }
    }
    if (kk_fsync(out) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: fsync: %s", to, strerror(errno));
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    kk_free(chunk);
    kk_free(parent);
    kk_free(from);
    kk_free(to);
    return rc;
}

/* A new, unique folder name under <state>/staging (not created), in *out (kk_free). */
static enum kk_err new_staging(const char *state, const char *prefix, char **out,
                               struct kk_buf *err)
{
    char hex[17];
    char *root = state_path(state, STAGING_DIR, NULL);
    struct kk_buf p = KK_BUF_INIT;
    *out = NULL;
    if (!root)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", state);
    enum kk_err rc = kk_mkdirs(root, 0755, err);
    if (!rc) {
        kk_random_hex(hex, 8);
        if (kk_buf_addf(&p, "%s/%s%s", root, prefix, hex))
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", state);
        else
            *out = kk_buf_detach(&p, NULL);
    }
    kk_buf_release(&p);
    kk_free(root);
    return rc;
}

/* ---- installing --------------------------------------------------------------------- */

static struct kk_install_entry *find_entry(struct kk_install_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].id, id))
            return &l->items[i];
    return NULL;
}

/* Deletes the version folders of id other than keep1 and keep2 (either may be NULL).
 * Failures are not errors: kk_install_cleanup finishes the job at the next start. */
static void prune_versions(const char *state, const char *id, const char *keep1, const char *keep2)
{
    char *dir = state_path(state, PACKS_DIR, id);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if ((keep1 && !strcmp(e->d_name, keep1)) || (keep2 && !strcmp(e->d_name, keep2)))
            continue;
        char *victim = kk_path_join(dir, e->d_name);
        if (victim)
            kk_remove_tree(victim, NULL);
        kk_free(victim);
    }
    if (d)
        closedir(d);
    kk_free(dir);
}

/* Moves the verified, fsynced staging folder into place for m and switches active.json to
 * it. Called with the lock held. On failure the state is as before. */
static enum kk_err install_staged(const char *state, const char *staging,
                                  const struct kk_manifest *m, unsigned flags, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_install_list list = {0};
    char *target = kk_install_path(state, m->id, m->version);
    char *id_dir = state_path(state, PACKS_DIR, m->id);
    char *aside = NULL, *new_version = NULL, *new_previous = NULL;
    int moved_in = 0;
    if (!target || !id_dir) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", state);
        goto done;
    }
    rc = kk_install_list_read(state, &list, err);
    if (rc)
        goto done;
    struct kk_install_entry *e = find_entry(&list, m->id);
    if (e && !strcmp(e->version, m->version)) {
        rc = kk_fail(err, KK_ERR_EXISTS, "%s %s: already installed and active", m->id, m->version);
        goto done;
    }
    if (e && kk_install_version_cmp(m->version, e->version) < 0 && !(flags & KK_INSTALL_FORCE)) {
        rc = kk_fail(err, KK_ERR_INVALID,
                     "%s %s: older than the installed version %s; refused (staff can force it)",
                     m->id, m->version, e->version);
        goto done;
    }
    if (!e && list.n >= KK_MAX_PACKS) {
        rc = kk_fail(err, KK_ERR_TOOBIG, "%s: more than %d packs installed", m->id, KK_MAX_PACKS);
        goto done;
    }
    rc = kk_mkdirs(id_dir, 0755, err);
    if (rc)
        goto done;
    /* A folder of this version may be there already (the previous one, or one an
     * interrupted install left): move it aside so the rename below cannot fail on it. */
    struct stat st;
    if (lstat(target, &st) == 0) {
        rc = new_staging(state, "old-", &aside, err);
        if (rc)
            goto done;
        if (kk_rename(target, aside) < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", target, strerror(errno));
            goto done;
        }
    }
    if (kk_rename(staging, target) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", target, strerror(errno));
        goto done;
    }
    moved_in = 1;
    rc = fsync_path(id_dir, 1, err);
    if (rc)
        goto done;

    new_version = kk_strdup(m->version);
    new_previous = e ? kk_strdup(e->version) : NULL;
    if (!new_version || (e && !new_previous)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", m->id);
        goto done;
    }
    if (!e) {
        struct kk_install_entry *items =
            kk_reallocarray(list.items, list.n + 1, sizeof(*list.items));
        if (!items) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", m->id);
            goto done;
        }
        list.items = items;
        e = &list.items[list.n++];
        memset(e, 0, sizeof(*e));
        e->id = kk_strdup(m->id);
        if (!e->id) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", m->id);
            goto done;
        }
    }
    kk_free(e->version);
    kk_free(e->previous);
    e->version = new_version;
    e->previous = new_previous;
    new_version = new_previous = NULL;
    /* The switch: before this the old version is live, after it the new one. */
    rc = list_write(state, &list, err);
    if (rc)
        goto done;
    prune_versions(state, m->id, e->version, e->previous);
done:
    if (rc && moved_in)
        kk_remove_tree(target, NULL); /* not switched: take the new folder out again */
    if (rc && aside && kk_rename(aside, target) < 0) {
        /* What was there cannot go back now: it stays aside, and the start-up cleanup
         * (kk_install_cleanup) puts it back; never delete a version the list names. */
        kk_error("install", "%s: cannot put it back (%s); kept as %s", target, strerror(errno),
                 aside);
    } else if (aside) {
        kk_remove_tree(aside, NULL);
    }
    kk_install_list_release(&list);
    kk_free(new_version);
    kk_free(new_previous);
    kk_free(aside);
    kk_free(target);
    kk_free(id_dir);
    return rc;
}

enum kk_err kk_install_dir(const char *state, const char *dir, const struct kk_pubkey *keys,
                           size_t nkeys, unsigned flags, struct kk_manifest **out,
                           struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_manifest *m = NULL, *copied = NULL;
    char *staging = NULL;
    int lock = -1;
    if (out)
        *out = NULL;
    /* Verify where it is first: a bad pack is refused before anything is copied. */
    rc = kk_manifest_verify(dir, keys, nkeys, &m, err);
    if (rc)
        goto done;
    rc = lock_state(state, &lock, err);
    if (rc)
        goto done;
    rc = new_staging(state, "dir-", &staging, err);
    if (rc)
        goto done;
    if (mkdir(staging, 0755) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", staging, strerror(errno));
        kk_free(staging);
        staging = NULL;
        goto done;
    }
    rc = copy_one(dir, staging, KK_MANIFEST_FILE, err);
    if (!rc)
        rc = copy_one(dir, staging, KK_MANIFEST_SIG_FILE, err);
    for (size_t i = 0; !rc && i < m->nfiles; i++)
        rc = copy_one(dir, staging, m->files[i].path, err);
    if (rc)
        goto done;
    /* What counts is the copy on the kiosk's own disk. */
    rc = kk_manifest_verify(staging, keys, nkeys, &copied, err);
    if (!rc)
        rc = fsync_dirs(staging, 0, err);
    if (!rc)
        rc = install_staged(state, staging, copied, flags, err);
done:
    if (staging)
        kk_remove_tree(staging, NULL); /* gone already after a successful install */
    unlock_state(lock);
    if (!rc && out) {
        *out = copied;
        copied = NULL;
    }
    kk_manifest_destroy(copied);
    kk_manifest_destroy(m);
    kk_free(staging);
    return rc;
}

enum kk_err kk_install_bundle(const char *state, const char *kpk, const struct kk_pubkey *keys,
                              size_t nkeys, unsigned flags, struct kk_manifest **out,
                              struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_manifest *m = NULL;
    char *staging = NULL;
    int lock = -1;
    if (out)
        *out = NULL;
    rc = lock_state(state, &lock, err);
    if (rc)
        goto done;
    rc = new_staging(state, "kpk-", &staging, err);
    if (rc)
        goto done;
    rc = kk_bundle_read(kpk, staging, keys, nkeys, &m, err);
    if (!rc)
        rc = fsync_dirs(staging, 0, err);
    if (!rc)
        rc = install_staged(state, staging, m, flags, err);
done:
    if (staging)
        kk_remove_tree(staging, NULL);
    unlock_state(lock);
    if (!rc && out) {
        *out = m;
        m = NULL;
    }
    kk_manifest_destroy(m);
    kk_free(staging);
    return rc;
}

enum kk_err kk_install_rollback(const char *state, const char *id, struct kk_buf *err)
{
    struct kk_install_list list = {0};
    char *prev_dir = NULL;
    int lock = -1;
    enum kk_err rc = lock_state(state, &lock, err);
    if (rc)
        goto done;
    rc = kk_install_list_read(state, &list, err);
    if (rc)
        goto done;
    struct kk_install_entry *e = find_entry(&list, id);
    if (!e || !e->previous) {
        rc = kk_fail(err, KK_ERR_NOTFOUND, "%s: %s", id,
                     e ? "no previous version to roll back to" : "not installed");
        goto done;
    }
    prev_dir = kk_install_path(state, id, e->previous);
    struct stat st;
    if (!prev_dir || lstat(prev_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        rc = kk_fail(err, prev_dir ? KK_ERR_NOTFOUND : KK_ERR_NOMEM,
                     "%s %s: the previous version's folder is missing", id, e->previous);
        goto done;
    }
    char *swap = e->version;
    e->version = e->previous;
    e->previous = swap;
    rc = list_write(state, &list, err);
done:
    unlock_state(lock);
    kk_install_list_release(&list);
    kk_free(prev_dir);
    return rc;
}

/* A version an interrupted or failed install moved aside (staging/old-*) goes back to its
 * place when that place is empty, so the cleanup below never deletes a version. */
static void restore_aside(const char *state, const char *staging)
{
    DIR *d = opendir(staging);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "old-", 4))
            continue;
        char *dir = kk_path_join(staging, de->d_name);
        char *mpath = dir ? kk_path_join(dir, KK_MANIFEST_FILE) : NULL;
        struct kk_buf text = KK_BUF_INIT;
        struct kk_manifest *m = NULL;
        struct stat st;
        if (mpath && !kk_file_read(mpath, KK_MAX_JSON_FILE_BYTES, &text, NULL) &&
            !kk_manifest_parse(text.data, text.len, &m, NULL)) {
            char *target = kk_install_path(state, m->id, m->version);
            char *id_dir = state_path(state, PACKS_DIR, m->id);
            if (target && id_dir && lstat(target, &st) < 0 && errno == ENOENT &&
                !kk_mkdirs(id_dir, 0755, NULL) && kk_rename(dir, target) == 0) {
                fsync_path(id_dir, 1, NULL);
                kk_info("install", "%s %s: put back from %s", m->id, m->version, de->d_name);
            }
            kk_free(target);
            kk_free(id_dir);
        }
        kk_manifest_destroy(m);
        kk_buf_release(&text);
        kk_free(mpath);
        kk_free(dir);
    }
    if (d)
        closedir(d);
}

enum kk_err kk_install_cleanup(const char *state, struct kk_buf *err)
{
    struct kk_install_list list = {0};
    char *staging = NULL, *tmp = NULL, *packs = NULL;
    DIR *d = NULL;
    int lock = -1;
    enum kk_err rc = lock_state(state, &lock, err);
    if (rc)
        goto done;
    staging = state_path(state, STAGING_DIR, NULL);
    tmp = state_path(state, ACTIVE_FILE ".tmp", NULL);
    packs = state_path(state, PACKS_DIR, NULL);
    if (!staging || !tmp || !packs) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", state);
        goto done;
    }
    restore_aside(state, staging);
    rc = kk_remove_tree(staging, err);
    if (rc)
        goto done;
    if (unlink(tmp) < 0 && errno != ENOENT) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    rc = kk_install_list_read(state, &list, err);
    if (rc)
        goto done;
    d = opendir(packs);
    if (!d)
        goto done; /* nothing installed */
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        const struct kk_install_entry *e = find_entry(&list, de->d_name);
        if (e) {
            prune_versions(state, e->id, e->version, e->previous);
            continue;
        }
        char *victim = kk_path_join(packs, de->d_name);
        if (!victim) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", packs);
            goto done;
        }
        rc = kk_remove_tree(victim, err);
        kk_free(victim);
        if (rc)
            goto done;
    }
done:
    if (d)
        closedir(d);
    unlock_state(lock);
    kk_install_list_release(&list);
    kk_free(staging);
    kk_free(tmp);
    kk_free(packs);
    return rc;
}
