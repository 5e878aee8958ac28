#include "kepu/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/utf8.h"

#define KEY_FILE_MAX 4096

static void sodium_ready(void)
{
    if (sodium_init() < 0)
        KK_BUG("libsodium cannot initialise");
}

static enum kk_err errno_code(int e)
{
    return e == EACCES || e == EPERM ? KK_ERR_PERM : e == ENOENT ? KK_ERR_NOTFOUND : KK_ERR_IO;
}

int kk_manifest_name_is_safe(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > KK_MAX_ID_LEN || s[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* A path we are willing to name in a manifest: kk_path_is_safe, valid UTF-8 (it goes into
 * JSON) and free of control characters (it goes into one-line error messages). */
static int path_ok(const char *rel)
{
    if (!kk_path_is_safe(rel) || !kk_utf8_valid(rel, strlen(rel)))
        return 0;
    for (const unsigned char *c = (const unsigned char *)rel; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

static int is_manifest_name(const char *rel)
{
    return !strcmp(rel, KK_MANIFEST_FILE) || !strcmp(rel, KK_MANIFEST_SIG_FILE);
}

void kk_manifest_destroy(struct kk_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfiles; i++)
        kk_free(m->files[i].path);
    kk_free(m->files);
    kk_free(m->id);
    kk_free(m->version);
    kk_free(m);
}

/* ---- key files ---------------------------------------------------------------------- */

/* Creates path (which must not exist) with mode and writes data to it. */
static enum kk_err write_new_file(const char *path, const void *data, size_t len, mode_t mode,
                                  struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return kk_fail(err, KK_ERR_EXISTS, "%s: already exists; refusing to overwrite it",
                           path);
        return kk_fail(err, errno_code(errno), "%s: %s", path, strerror(errno));
    }
    if (fchmod(fd, mode) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
            goto done;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: fsync: %s", path, strerror(errno));
done:
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

static enum kk_err write_key_file(const char *path, const char *header, const unsigned char *key,
                                  size_t keylen, mode_t mode, struct kk_buf *err)
{
    char b64[sodium_base64_ENCODED_LEN(KK_SECKEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    char text[sizeof(b64) + 64];
    sodium_bin2base64(b64, sizeof(b64), key, keylen, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(text, sizeof(text), "%s\n%s\n", header, b64);
    enum kk_err rc = write_new_file(path, text, (size_t)n, mode, err);
    sodium_memzero(b64, sizeof(b64));
    sodium_memzero(text, sizeof(text));
    return rc;
}

enum kk_err kk_manifest_keygen(const char *name, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf pub = KK_BUF_INIT, sec = KK_BUF_INIT;
    unsigned char pk[KK_PUBKEY_BYTES], sk[KK_SECKEY_BYTES];
    int wrote_sec = 0;
    sodium_ready();
    if (kk_buf_addf(&pub, "%s.pub", name) || kk_buf_addf(&sec, "%s.key", name)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    struct stat st;
    const char *both[] = {sec.data, pub.data};
    for (size_t i = 0; i < 2; i++) {
        if (lstat(both[i], &st) == 0) {
            rc = kk_fail(err, KK_ERR_EXISTS, "%s: already exists; refusing to overwrite it",
                         both[i]);
            goto done;
        }
    }
    crypto_sign_keypair(pk, sk);
    rc = write_key_file(sec.data, KK_SECKEY_FILE_HEADER, sk, sizeof(sk), 0600, err);
    if (rc)
        goto done;
    wrote_sec = 1;
    rc = write_key_file(pub.data, KK_PUBKEY_FILE_HEADER, pk, sizeof(pk), 0644, err);
done:
    if (rc && wrote_sec)
        unlink(sec.data);
    sodium_memzero(sk, sizeof(sk));
    kk_buf_release(&pub);
    kk_buf_release(&sec);
    return rc;
}

/* Reads a two-line key file: header, then base64 of exactly want bytes. */
static enum kk_err read_key_file(const char *path, const char *header, const char *what,
                                 unsigned char *out, size_t want, struct kk_buf *err)
{
    struct kk_buf text = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(path, KEY_FILE_MAX, &text, err);
    if (rc)
        goto done;
    size_t hlen = strlen(header);
    if (text.len <= hlen || memcmp(text.data, header, hlen) != 0 ||
        (text.data[hlen] != '\n' && text.data[hlen] != '\r')) {
        rc = kk_fail(err, KK_ERR_PARSE,
                     "%s: not a kepu-pack %s key file (its first line must be \"%s\")", path, what,
                     header);
        goto done;
    }
    const char *b64 = text.data + hlen;
    size_t b64len = text.len - hlen;
    size_t binlen = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, want, b64, b64len, " \t\r\n", &binlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        binlen != want || end != b64 + b64len) {
        rc = kk_fail(err, KK_ERR_PARSE, "%s: the %s key is damaged (bad base64 or wrong length)",
                     path, what);
        goto done;
    }
done:
    if (text.data)
        sodium_memzero(text.data, text.len);
    kk_buf_release(&text);
    return rc;
}

enum kk_err kk_manifest_pubkey_read(const char *path, struct kk_pubkey *out, struct kk_buf *err)
{
    sodium_ready();
    return read_key_file(path, KK_PUBKEY_FILE_HEADER, "public", out->key, sizeof(out->key), err);
}

enum kk_err kk_manifest_pubkeys_read(const char *paths, struct kk_pubkey **out, size_t *n,
                                     struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_pubkey *keys = NULL;
    size_t count = 0;
    const char *p = paths;
    *out = NULL;
    *n = 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ')
            len--;
        if (!len)
            break;
        char *path = kk_strndup(p, len);
        struct kk_pubkey *grown = path ? kk_reallocarray(keys, count + 1, sizeof(*keys)) : NULL;
        if (!grown) {
            kk_free(path);
            rc = kk_fail(err, KK_ERR_NOMEM, "trusted keys: out of memory");
            goto done;
        }
        keys = grown;
        rc = kk_manifest_pubkey_read(path, &keys[count], err);
        kk_free(path);
        if (rc)
            goto done;
        count++;
        p += strcspn(p, ",");
    }
done:
    if (rc) {
        kk_free(keys);
        return rc;
    }
    *out = keys;
    *n = count;
    return KK_OK;
}

enum kk_err kk_manifest_seckey_read(const char *path, struct kk_seckey *out, struct kk_buf *err)
{
    sodium_ready();
    enum kk_err rc =
        read_key_file(path, KK_SECKEY_FILE_HEADER, "secret", out->key, sizeof(out->key), err);
    if (rc)
        return rc;
    /* The 64 bytes are seed + public key: derive again from the seed to catch damage. */
    unsigned char pk[KK_PUBKEY_BYTES], sk[KK_SECKEY_BYTES];
    crypto_sign_seed_keypair(pk, sk, out->key);
    int same = sodium_memcmp(sk, out->key, sizeof(sk)) == 0;
    sodium_memzero(sk, sizeof(sk));
    if (!same) {
        sodium_memzero(out->key, sizeof(out->key));
        return kk_fail(err, KK_ERR_VERIFY, "%s: the secret key is damaged (its halves differ)",
                       path);
    }
    return KK_OK;
}

/* ---- walking a pack folder ---------------------------------------------------------- */

struct file_list {
    char **paths; /* relative to the root, sorted after walk_tree */
    size_t n, alloc;
    unsigned long long total;
};

static void file_list_release(struct file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        kk_free(l->paths[i]);
    kk_free(l->paths);
    l->paths = NULL;
    l->n = l->alloc = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum walk_mode { WALK_BUILD, WALK_CHECK };

/* Adds every regular file under root/rel to l, refusing anything a pack must not hold.
 * WALK_BUILD leaves out hidden names and a top-level MANIFEST.*; WALK_CHECK leaves out
 * only the top-level MANIFEST.json and MANIFEST.sig. */
static enum kk_err walk_dir(const char *root, const char *rel, enum walk_mode mode,
                            struct file_list *l, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *abs = rel ? kk_path_join(root, rel) : kk_strdup(root);
    char *child = NULL, *child_abs = NULL;
    DIR *d = NULL;
    if (!abs) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", root);
        goto done;
    }
    d = opendir(abs);
    if (!d) {
        rc = kk_fail(err, errno_code(errno), "%s: %s", rel ? rel : root, strerror(errno));
        goto done;
    }
    struct dirent *e;
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (!e) {
            if (errno)
                rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel ? rel : root, strerror(errno));
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (mode == WALK_BUILD && e->d_name[0] == '.')
            continue;
        if (!rel && is_manifest_name(e->d_name))
            continue;
        kk_free(child);
        kk_free(child_abs);
        child = rel ? kk_path_join(rel, e->d_name) : kk_strdup(e->d_name);
        child_abs = child ? kk_path_join(root, child) : NULL;
        if (!child_abs) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", root);
            break;
        }
        if (!path_ok(child)) {
            rc = kk_fail(err, KK_ERR_INVALID,
                         "%s: unsafe file name (too long, not UTF-8, or a control character)",
                         child);
            break;
        }
        struct stat st;
        if (lstat(child_abs, &st) < 0) {
            rc = kk_fail(err, errno_code(errno), "%s: %s", child, strerror(errno));
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            rc = kk_fail(err, KK_ERR_INVALID, "%s: symbolic link refused", child);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (kk_path_depth(child) + 1 > KK_MAX_PATH_DEPTH) {
                rc = kk_fail(err, KK_ERR_TOOBIG, "%s: folders nested more than %d deep", child,
                             KK_MAX_PATH_DEPTH);
                break;
            }
            rc = walk_dir(root, child, mode, l, err);
            if (rc)
                break;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            rc = kk_fail(err, KK_ERR_INVALID, "%s: not a regular file or folder", child);
            break;
        }
        if ((unsigned long long)st.st_size > KK_MAX_PACK_FILE_BYTES) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: %lld bytes, more than the limit of %u", child,
                         (long long)st.st_size, KK_MAX_PACK_FILE_BYTES);
            break;
        }
        if (l->n >= KK_MAX_PACK_FILES) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: more than %d files in the pack", child,
                         KK_MAX_PACK_FILES);
            break;
        }
        l->total += (unsigned long long)st.st_size;
        if (l->total > KK_MAX_PACK_BYTES) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: the pack's files add up to more than %llu bytes",
                         child, KK_MAX_PACK_BYTES);
            break;
        }
        if (l->n == l->alloc) {
            size_t na = l->alloc ? 2 * l->alloc : 32;
            char **np = kk_reallocarray(l->paths, na, sizeof(*np));
            if (!np) {
                rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", child);
                break;
            }
            l->paths = np;
            l->alloc = na;
        }
        l->paths[l->n++] = child;
        child = NULL;
    }
done:
    if (d)
        closedir(d);
    kk_free(child);
    kk_free(child_abs);
    kk_free(abs);
    return rc;
}

static enum kk_err walk_tree(const char *root, enum walk_mode mode, struct file_list *l,
                             struct kk_buf *err)
{
    enum kk_err rc = walk_dir(root, NULL, mode, l, err);
    if (rc) {
        file_list_release(l);
        return rc;
    }
    if (l->n)
        qsort(l->paths, l->n, sizeof(*l->paths), cmp_str);
    return KK_OK;
}

/* Streams root/rel through SHA-256 (and into copy_fd when >= 0). Refuses links and
 * anything but a regular file, and files larger than max bytes. */
static enum kk_err hash_file(const char *root, const char *rel, unsigned long long max, int copy_fd,
                             unsigned char sha[32], unsigned long long *size, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *abs = kk_path_join(root, rel);
    int fd = -1;
    if (!abs)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
    fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        rc = errno == ELOOP ? kk_fail(err, KK_ERR_INVALID, "%s: symbolic link refused", rel)
                            : kk_fail(err, errno_code(errno), "%s: %s", rel, strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: not a regular file", rel);
        goto done;
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    unsigned char chunk[65536];
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        total += (unsigned long long)n;
        if (total > max) {
            if (copy_fd >= 0)
                rc = kk_fail(err, KK_ERR_TOOBIG, "%s: more than the limit of %llu bytes", rel, max);
            else
                rc = kk_fail(err, KK_ERR_VERIFY,
                             "%s: size mismatch (the manifest says %llu bytes, the file is larger)",
                             rel, max);
            goto done;
        }
        crypto_hash_sha256_update(&h, chunk, (unsigned long long)n);
        if (copy_fd >= 0 && kk_write_all(copy_fd, chunk, (size_t)n) < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: writing the copy: %s", rel, strerror(errno));
            goto done;
        }
    }
    crypto_hash_sha256_final(&h, sha);
    *size = total;
done:
    if (fd >= 0)
        close(fd);
    kk_free(abs);
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------ */

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct kk_manifest_file *)a)->path,
                  ((const struct kk_manifest_file *)b)->path);
}

/* A JSON number that is a whole number within [0, max]. */
static int json_whole(const cJSON *n, double max, unsigned long long *out)
{
    if (!cJSON_IsNumber(n))
        return 0;
    double v = n->valuedouble;
    if (!(v >= 0 && v <= max) || floor(v) != v)
        return 0;
    *out = (unsigned long long)v;
    return 1;
}

static int is_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

enum kk_err kk_manifest_parse(const char *json, size_t len, struct kk_manifest **out,
                              struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    cJSON *root = NULL;
    struct kk_manifest *m = NULL;
    *out = NULL;
    sodium_ready();
    if (len > KK_MAX_JSON_FILE_BYTES)
        return kk_fail(err, KK_ERR_TOOBIG, "MANIFEST.json: %zu bytes, more than the limit of %u",
                       len, KK_MAX_JSON_FILE_BYTES);
    if (!kk_utf8_valid(json, len))
        return kk_fail(err, KK_ERR_PARSE, "MANIFEST.json: not valid UTF-8");
    root = cJSON_ParseWithLength(json, len);
    if (!root) {
        rc = kk_fail(err, KK_ERR_PARSE, "MANIFEST.json: not valid JSON");
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: must be a JSON object");
        goto done;
    }
    m = kk_calloc(1, sizeof(*m));
    if (!m) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
        goto done;
    }
    unsigned char digest[32];
    crypto_hash_sha256(digest, (const unsigned char *)json, len);
    kk_hex_encode(m->sha256, digest, sizeof(digest));

    unsigned long long format;
    if (!json_whole(cJSON_GetObjectItemCaseSensitive(root, "format"), 1e9, &format)) {
        rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: format: missing or not a whole number");
        goto done;
    }
    if (format != KK_MANIFEST_FORMAT) {
        rc = kk_fail(err, KK_ERR_INVALID,
                     "MANIFEST.json: format: unknown format version %llu (this program reads %d)",
                     format, KK_MANIFEST_FORMAT);
        goto done;
    }
    m->format = (int)format;
    const char *names[] = {"id", "version"};
    char **dest[] = {&m->id, &m->version};
    for (size_t i = 0; i < 2; i++) {
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, names[i]));
        if (!s || !kk_manifest_name_is_safe(s)) {
            rc = kk_fail(err, KK_ERR_INVALID,
                         "MANIFEST.json: %s: missing, or not 1 to %d letters, digits, '.', '_' "
                         "or '-'",
                         names[i], KK_MAX_ID_LEN);
            goto done;
        }
        *dest[i] = kk_strdup(s);
        if (!*dest[i]) {
            rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
            goto done;
        }
    }
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(files)) {
        rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: files: missing or not an array");
        goto done;
    }
    int count = cJSON_GetArraySize(files);
    if (count > KK_MAX_PACK_FILES) {
        rc =
            kk_fail(err, KK_ERR_TOOBIG, "MANIFEST.json: files: %d files, more than the limit of %d",
                    count, KK_MAX_PACK_FILES);
        goto done;
    }
    m->files = kk_calloc(count ? (size_t)count : 1, sizeof(*m->files));
    if (!m->files) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
        goto done;
    }
    const cJSON *f;
    size_t i = 0;
    cJSON_ArrayForEach(f, files)
    {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "path"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "sha256"));
        struct kk_manifest_file *mf = &m->files[i];
        if (!path) {
            rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: files[%zu].path: missing", i);
            goto done;
        }
        if (!path_ok(path) || is_manifest_name(path)) {
            rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: files[%zu].path: unsafe path", i);
            goto done;
        }
        if (kk_path_depth(path) > KK_MAX_PATH_DEPTH) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "MANIFEST.json: %s: folders nested more than %d deep",
                         path, KK_MAX_PATH_DEPTH);
            goto done;
        }
        if (!json_whole(cJSON_GetObjectItemCaseSensitive(f, "size"), KK_MAX_PACK_FILE_BYTES,
                        &mf->size)) {
            rc = kk_fail(err, KK_ERR_INVALID,
                         "MANIFEST.json: %s: size: missing, not a whole number, or over %u bytes",
                         path, KK_MAX_PACK_FILE_BYTES);
            goto done;
        }
        if (!sha || !is_lower_hex(sha, 64) ||
            sodium_hex2bin(mf->sha256, sizeof(mf->sha256), sha, 64, NULL, NULL, NULL) != 0) {
            rc = kk_fail(err, KK_ERR_INVALID,
                         "MANIFEST.json: %s: sha256: missing or not 64 lowercase hex digits", path);
            goto done;
        }
        mf->path = kk_strdup(path);
        if (!mf->path) {
            rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
            goto done;
        }
        m->nfiles = ++i;
        m->total_bytes += mf->size;
        if (m->total_bytes > KK_MAX_PACK_BYTES) {
            rc = kk_fail(err, KK_ERR_TOOBIG,
                         "MANIFEST.json: files: the files add up to more than %llu bytes",
                         KK_MAX_PACK_BYTES);
            goto done;
        }
    }
    if (m->nfiles)
        qsort(m->files, m->nfiles, sizeof(*m->files), cmp_file);
    int has_pack_json = 0;
    for (i = 0; i < m->nfiles; i++) {
        if (i > 0 && !strcmp(m->files[i].path, m->files[i - 1].path)) {
            rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: %s: listed twice", m->files[i].path);
            goto done;
        }
        if (!strcmp(m->files[i].path, "pack.json"))
            has_pack_json = 1;
    }
    if (!has_pack_json) {
        rc = kk_fail(err, KK_ERR_INVALID, "MANIFEST.json: files: pack.json is not listed");
        goto done;
    }
    *out = m;
    m = NULL;
done:
    kk_manifest_destroy(m);
    cJSON_Delete(root);
    return rc;
}

enum kk_err kk_manifest_check_signature(const void *data, size_t len, const void *sig,
                                        size_t siglen, const struct kk_pubkey *keys, size_t nkeys,
                                        struct kk_buf *err)
{
    sodium_ready();
    if (siglen != KK_SIGNATURE_BYTES)
        return kk_fail(err, KK_ERR_VERIFY,
                       "MANIFEST.sig: %zu bytes, a signature is %d (truncated or damaged)", siglen,
                       KK_SIGNATURE_BYTES);
    if (nkeys == 0)
        return kk_fail(err, KK_ERR_VERIFY, "MANIFEST.sig: no trusted public key to check it with");
    for (size_t i = 0; i < nkeys; i++)
        if (crypto_sign_verify_detached(sig, data, len, keys[i].key) == 0)
            return KK_OK;
    return kk_fail(err, KK_ERR_VERIFY,
                   "MANIFEST.sig: bad signature, or signed by a key that is not trusted");
}

enum kk_err kk_manifest_check_tree(const struct kk_manifest *m, const char *dir, struct kk_buf *err)
{
    struct file_list have = {0};
    enum kk_err rc = walk_tree(dir, WALK_CHECK, &have, err);
    if (rc)
        return rc;
    /* Both lists are sorted by strcmp: walk them side by side. */
    size_t a = 0, b = 0;
    while (a < m->nfiles || b < have.n) {
        int c = a == m->nfiles ? 1 : b == have.n ? -1 : strcmp(m->files[a].path, have.paths[b]);
        if (c < 0) {
            rc = kk_fail(err, KK_ERR_VERIFY, "%s: listed in the manifest but missing",
                         m->files[a].path);
            goto done;
        }
        if (c > 0) {
            rc = kk_fail(err, KK_ERR_VERIFY, "%s: not in the manifest", have.paths[b]);
            goto done;
        }
        a++;
        b++;
    }
    for (size_t i = 0; i < m->nfiles; i++) {
        const struct kk_manifest_file *f = &m->files[i];
        unsigned char sha[32];
        unsigned long long size = 0;
        rc = hash_file(dir, f->path, f->size, -1, sha, &size, err);
        if (rc)
            goto done;
        if (size != f->size) {
            rc = kk_fail(err, KK_ERR_VERIFY,
                         "%s: size mismatch (the manifest says %llu bytes, the file has %llu)",
                         f->path, f->size, size);
            goto done;
        }
        if (sodium_memcmp(sha, f->sha256, sizeof(sha)) != 0) {
            rc = kk_fail(err, KK_ERR_VERIFY, "%s: sha256 mismatch", f->path);
            goto done;
        }
    }
done:
    file_list_release(&have);
    return rc;
}

enum kk_err kk_manifest_verify(const char *dir, const struct kk_pubkey *keys, size_t nkeys,
                               struct kk_manifest **out, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf json = KK_BUF_INIT, sig = KK_BUF_INIT;
    struct kk_manifest *m = NULL;
    char *json_path = kk_path_join(dir, KK_MANIFEST_FILE);
    char *sig_path = kk_path_join(dir, KK_MANIFEST_SIG_FILE);
    if (out)
        *out = NULL;
    if (!json_path || !sig_path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    /* Read with a cap a little over the signature size so a long file is named as such. */
    rc = kk_file_read(sig_path, 4 * KK_SIGNATURE_BYTES, &sig, NULL);
    if (rc == KK_ERR_TOOBIG)
        sig.len = 4 * KK_SIGNATURE_BYTES + 1;
    else if (rc == KK_ERR_NOTFOUND) {
        rc = kk_fail(err, rc, "MANIFEST.sig: missing (not a built pack?)");
        goto done;
    } else if (rc) {
        rc = kk_fail(err, rc, "MANIFEST.sig: cannot be read");
        goto done;
    }
    rc = kk_file_read(json_path, KK_MAX_JSON_FILE_BYTES, &json, NULL);
    if (rc == KK_ERR_NOTFOUND) {
        rc = kk_fail(err, rc, "MANIFEST.json: missing (not a built pack?)");
        goto done;
    } else if (rc == KK_ERR_TOOBIG) {
        rc = kk_fail(err, rc, "MANIFEST.json: more than the limit of %u bytes",
                     KK_MAX_JSON_FILE_BYTES);
        goto done;
    } else if (rc) {
        rc = kk_fail(err, rc, "MANIFEST.json: cannot be read");
        goto done;
    }
    /* Nothing in the manifest is looked at before its signature is known to be good. */
    rc = kk_manifest_check_signature(json.data, json.len, sig.data, sig.len, keys, nkeys, err);
    if (rc)
        goto done;
    rc = kk_manifest_parse(json.data, json.len, &m, err);
    if (rc)
        goto done;
    rc = kk_manifest_check_tree(m, dir, err);
    if (rc)
        goto done;
    if (out) {
        *out = m;
        m = NULL;
    }
done:
    kk_manifest_destroy(m);
    kk_buf_release(&json);
    kk_buf_release(&sig);
    kk_free(json_path);
    kk_free(sig_path);
    return rc;
}

/* ---- building ----------------------------------------------------------------------- */

/* Reads id and version from src/pack.json (only those: kk_pack_load checks the rest). */
static enum kk_err read_pack_ids(const char *src, char **id, char **version, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf text = KK_BUF_INIT;
    cJSON *root = NULL;
    char *path = kk_path_join(src, "pack.json");
    if (!path)
        return kk_fail(err, KK_ERR_NOMEM, "pack.json: out of memory");
    rc = kk_file_read(path, KK_MAX_JSON_FILE_BYTES, &text, NULL);
    if (rc) {
        rc = kk_fail(err, rc, "pack.json: %s",
                     rc == KK_ERR_NOTFOUND ? "missing (is this a pack folder?)" : kk_strerror(rc));
        goto done;
    }
    root = cJSON_ParseWithLength(text.data, text.len);
    if (!cJSON_IsObject(root)) {
        rc = kk_fail(err, KK_ERR_PARSE, "pack.json: not a valid JSON object");
        goto done;
    }
    const char *names[] = {"id", "version"};
    char **dest[] = {id, version};
    for (size_t i = 0; i < 2; i++) {
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, names[i]));
        if (!s || !kk_manifest_name_is_safe(s)) {
            rc = kk_fail(err, KK_ERR_INVALID,
                         "pack.json: %s: missing, or not 1 to %d letters, digits, '.', '_' or '-'",
                         names[i], KK_MAX_ID_LEN);
            goto done;
        }
        *dest[i] = kk_strdup(s);
        if (!*dest[i]) {
            rc = kk_fail(err, KK_ERR_NOMEM, "pack.json: out of memory");
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    kk_buf_release(&text);
    kk_free(path);
    return rc;
}

/* Copies src/rel to out/rel (a new file), hashing the bytes as they go. */
static enum kk_err copy_file(const char *src, const char *out, const char *rel,
                             unsigned char sha[32], unsigned long long *size, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *dest = kk_path_join(out, rel);
    char *parent = NULL;
    int fd = -1;
    if (!dest)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
    const char *slash = strrchr(dest, '/');
    parent = kk_strndup(dest, (size_t)(slash - dest));
    if (!parent) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
        goto done;
    }
    rc = kk_mkdirs(parent, 0755, err);
    if (rc)
        goto done;
    fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = kk_fail(err, errno_code(errno), "%s: %s", dest, strerror(errno));
        goto done;
    }
    rc = hash_file(src, rel, KK_MAX_PACK_FILE_BYTES, fd, sha, size, err);
    if (rc)
        goto done;
    if (close(fd) < 0) {
        fd = -1;
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", dest, strerror(errno));
        goto done;
    }
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    kk_free(parent);
    kk_free(dest);
    return rc;
}

enum kk_err kk_manifest_build(const char *src, const char *out, const struct kk_seckey *key,
                              struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct file_list files = {0};
    char *id = NULL, *version = NULL, *text = NULL, *parent = NULL, *path = NULL;
    cJSON *root = NULL;
    int created = 0;
    sodium_ready();

    rc = read_pack_ids(src, &id, &version, err);
    if (rc)
        goto done;
    rc = walk_tree(src, WALK_BUILD, &files, err);
    if (rc)
        goto done;

    struct stat st;
    if (lstat(out, &st) == 0) {
        rc = kk_fail(err, KK_ERR_EXISTS, "%s: already exists; remove it or choose another name",
                     out);
        goto done;
    }
    const char *slash = strrchr(out, '/');
    if (slash && slash != out) {
        parent = kk_strndup(out, (size_t)(slash - out));
        if (!parent) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", out);
            goto done;
        }
        rc = kk_mkdirs(parent, 0755, err);
        if (rc)
            goto done;
    }
    if (mkdir(out, 0755) < 0) {
        rc = kk_fail(err, errno == EEXIST ? KK_ERR_EXISTS : errno_code(errno), "%s: %s", out,
                     strerror(errno));
        goto done;
    }
    created = 1;

    cJSON *arr = NULL;
    root = cJSON_CreateObject();
    if (!root || !cJSON_AddNumberToObject(root, "format", KK_MANIFEST_FORMAT) ||
        !cJSON_AddStringToObject(root, "id", id) ||
        !cJSON_AddStringToObject(root, "version", version) ||
        !(arr = cJSON_AddArrayToObject(root, "files"))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
        goto done;
    }
    for (size_t i = 0; i < files.n; i++) {
        unsigned char sha[32];
        char hex[65];
        unsigned long long size = 0;
        rc = copy_file(src, out, files.paths[i], sha, &size, err);
        if (rc)
            goto done;
        kk_hex_encode(hex, sha, sizeof(sha));
        cJSON *f = cJSON_CreateObject();
        if (!f || !cJSON_AddItemToArray(arr, f) ||
            !cJSON_AddStringToObject(f, "path", files.paths[i]) ||
            !cJSON_AddNumberToObject(f, "size", (double)size) ||
            !cJSON_AddStringToObject(f, "sha256", hex)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
            goto done;
        }
    }
    text = cJSON_Print(root);
    if (!text) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
        goto done;
    }
    size_t len = strlen(text);
    unsigned char sig[KK_SIGNATURE_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)text, len, key->key);
    path = kk_path_join(out, KK_MANIFEST_FILE);
    if (!path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.json: out of memory");
        goto done;
    }
    rc = write_new_file(path, text, len, 0644, err);
    if (rc)
        goto done;
    kk_free(path);
    path = kk_path_join(out, KK_MANIFEST_SIG_FILE);
    if (!path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "MANIFEST.sig: out of memory");
        goto done;
    }
    rc = write_new_file(path, sig, sizeof(sig), 0644, err);
done:
    if (rc && created)
        kk_remove_tree(out, NULL);
    if (text)
        cJSON_free(text);
    cJSON_Delete(root);
    file_list_release(&files);
    kk_free(path);
    kk_free(parent);
    kk_free(id);
    kk_free(version);
    return rc;
}
