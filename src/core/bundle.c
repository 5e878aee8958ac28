#include "kepu/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/utf8.h"

#define CHUNK 65536

void kk_bundle_default_limits(struct kk_bundle_limits *limits)
{
    limits->max_entries = 2 * (size_t)KK_MAX_PACK_FILES + 2;
    limits->max_entry_bytes = KK_MAX_PACK_FILE_BYTES;
    limits->max_total_bytes = KK_MAX_PACK_BYTES + KK_MAX_JSON_FILE_BYTES + KK_SIGNATURE_BYTES;
}

/* ---- writing ------------------------------------------------------------------------ */

/* Adds dir/rel to the archive as a plain file of exactly size bytes. */
static enum kk_err add_file(struct archive *a, const char *dir, const char *rel,
                            unsigned long long size, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct archive_entry *e = NULL;
    char *path = kk_path_join(dir, rel);
    char *chunk = kk_malloc(CHUNK);
    int fd = -1;
    if (!path || !chunk) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
        goto done;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
        goto done;
    }
    e = archive_entry_new();
    if (!e) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", rel);
        goto done;
    }
    archive_entry_set_pathname(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (archive_write_header(a, e) < ARCHIVE_WARN) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, archive_error_string(a));
        goto done;
    }
    unsigned long long total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        total += (unsigned long long)n;
        if (total > size) {
            rc = kk_fail(err, KK_ERR_VERIFY, "%s: changed while it was being bundled", rel);
            goto done;
        }
        if (archive_write_data(a, chunk, (size_t)n) != n) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", rel, archive_error_string(a));
            goto done;
        }
    }
    if (total != size)
        rc = kk_fail(err, KK_ERR_VERIFY, "%s: changed while it was being bundled", rel);
done:
    if (fd >= 0)
        close(fd);
    archive_entry_free(e);
    kk_free(chunk);
    kk_free(path);
    return rc;
}

/* Checks dir as a built pack, without the signature (bundle does not need the key).
 * Gives the manifest and the sizes of MANIFEST.json and MANIFEST.sig. */
static enum kk_err check_built(const char *dir, struct kk_manifest **m,
                               unsigned long long *json_size, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf json = KK_BUF_INIT, sig = KK_BUF_INIT;
    char *json_path = kk_path_join(dir, KK_MANIFEST_FILE);
    char *sig_path = kk_path_join(dir, KK_MANIFEST_SIG_FILE);
    if (!json_path || !sig_path) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    rc = kk_file_read(sig_path, KK_SIGNATURE_BYTES, &sig, NULL);
    if (rc == KK_ERR_NOTFOUND) {
        rc = kk_fail(err, rc, "%s: missing (not a built pack?)", KK_MANIFEST_SIG_FILE);
        goto done;
    }
    if (rc || sig.len != KK_SIGNATURE_BYTES) {
        rc = kk_fail(err, KK_ERR_VERIFY, "%s: not a %d-byte signature", KK_MANIFEST_SIG_FILE,
                     KK_SIGNATURE_BYTES);
        goto done;
    }
    rc = kk_file_read(json_path, KK_MAX_JSON_FILE_BYTES, &json, NULL);
    if (rc) {
        rc = kk_fail(err, rc, "%s: %s", KK_MANIFEST_FILE,
                     rc == KK_ERR_NOTFOUND ? "missing (not a built pack?)" : kk_strerror(rc));
        goto done;
    }
    *json_size = json.len;
    rc = kk_manifest_parse(json.data, json.len, m, err);
    if (rc)
        goto done;
    rc = kk_manifest_check_tree(*m, dir, err);
    if (rc) {
        kk_manifest_destroy(*m);
        *m = NULL;
    }
done:
    kk_buf_release(&json);
    kk_buf_release(&sig);
    kk_free(json_path);
    kk_free(sig_path);
    return rc;
}

enum kk_err kk_bundle_write(const char *dir, const char *kpk, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_manifest *m = NULL;
    struct archive *a = NULL;
    struct kk_buf tmp = KK_BUF_INIT;
    unsigned long long json_size = 0;
    int fd = -1;
    struct stat st;

    if (lstat(kpk, &st) == 0)
        return kk_fail(err, KK_ERR_EXISTS, "%s: already exists; remove it or choose another name",
                       kpk);
    rc = check_built(dir, &m, &json_size, err);
    if (rc)
        goto done;
    if (kk_buf_addf(&tmp, "%s.XXXXXX", kpk)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", kpk);
        goto done;
    }
    fd = mkstemp(tmp.data);
    if (fd < 0) {
        rc =
            kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s", kpk, strerror(errno));
        kk_buf_release(&tmp); /* nothing to remove */
        goto done;
    }
    if (fchmod(fd, 0644) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        goto done;
    }
    a = archive_write_new();
    if (!a) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", kpk);
        goto done;
    }
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", kpk, archive_error_string(a));
        goto done;
    }
    /* The manifest and signature come first so a reader meets them before the files. */
    rc = add_file(a, dir, KK_MANIFEST_FILE, json_size, err);
    if (!rc)
        rc = add_file(a, dir, KK_MANIFEST_SIG_FILE, KK_SIGNATURE_BYTES, err);
    for (size_t i = 0; !rc && i < m->nfiles; i++)
        rc = add_file(a, dir, m->files[i].path, m->files[i].size, err);
    if (rc)
        goto done;
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", kpk, archive_error_string(a));
        goto done;
    }
    if (kk_fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        goto done;
    }
    fd = -1;
    /* Checked above already; checked again so a file made meanwhile is not replaced. */
    if (lstat(kpk, &st) == 0) {
        rc = kk_fail(err, KK_ERR_EXISTS, "%s: already exists; remove it or choose another name",
                     kpk);
        goto done;
    }
    if (kk_rename(tmp.data, kpk) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", kpk, strerror(errno));
done:
    if (a)
        archive_write_free(a);
    if (fd >= 0)
        close(fd);
    if (rc && tmp.data)
        unlink(tmp.data);
    kk_buf_release(&tmp);
    kk_manifest_destroy(m);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

/* A copy of an untrusted name fit for a one-line message: control bytes become '?'. */
static char *printable(const char *s)
{
    char *p = kk_strdup(s);
    if (p)
        for (char *c = p; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
    return p;
}

static int has_dotdot(const char *path)
{
    for (const char *c = path; (c = strstr(c, "..")) != NULL; c += 2)
        if ((c == path || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
            return 1;
    return 0;
}

/* Why path may not be unpacked, or NULL when it may. */
static const char *path_problem(const char *path)
{
    if (path[0] == '/')
        return "absolute path refused";
    if (has_dotdot(path))
        return "path with \"..\" refused";
    if (!kk_path_is_safe(path) || !kk_utf8_valid(path, strlen(path)))
        return "unsafe path refused (empty or \".\" part, backslash, too long or not UTF-8)";
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return "unsafe path refused (control character)";
    return NULL;
}

/* Writes the current entry's data into the new file dest/rel. */
static enum kk_err unpack_file(struct archive *a, const char *kpk, const char *dest,
                               const char *rel, const struct kk_bundle_limits *limits,
                               unsigned long long *total, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    char *path = kk_path_join(dest, rel);
    char *chunk = kk_malloc(CHUNK);
    char *parent = NULL;
    int fd = -1;
    if (!path || !chunk) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: %s: out of memory", kpk, rel);
        goto done;
    }
    const char *slash = strrchr(path, '/');
    parent = kk_strndup(path, (size_t)(slash - path));
    if (!parent) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: %s: out of memory", kpk, rel);
        goto done;
    }
    rc = kk_mkdirs(parent, 0755, NULL);
    if (rc) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: its folder clashes with a file in the bundle",
                     kpk, rel);
        goto done;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: appears twice in the bundle", kpk, rel);
        else
            rc = kk_fail(err, KK_ERR_IO, "%s: %s: %s", kpk, rel, strerror(errno));
        goto done;
    }
    unsigned long long written = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, chunk, CHUNK);
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_PARSE, "%s: %s: truncated or damaged bundle (%s)", kpk, rel,
                         archive_error_string(a));
            goto done;
        }
        if (n == 0)
            break;
        written += (unsigned long long)n;
        *total += (unsigned long long)n;
        /* The header's size was checked; the bytes are counted too, never trusted. */
        if (written > limits->max_entry_bytes) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: %s: more than the limit of %llu bytes", kpk, rel,
                         limits->max_entry_bytes);
            goto done;
        }
        if (*total > limits->max_total_bytes) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: unpacks to more than the limit of %llu bytes",
                         kpk, limits->max_total_bytes);
            goto done;
        }
        if (kk_write_all(fd, chunk, (size_t)n) < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s: %s", kpk, rel, strerror(errno));
            goto done;
        }
    }
    if (kk_fsync(fd) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: %s: fsync: %s", kpk, rel, strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    kk_free(parent);
    kk_free(chunk);
    kk_free(path);
    return rc;
}

/* Checks one entry's header and unpacks it. */
static enum kk_err unpack_entry(struct archive *a, struct archive_entry *e, const char *kpk,
                                const char *dest, const struct kk_bundle_limits *limits,
                                unsigned long long *total, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    const char *name = archive_entry_pathname_utf8(e);
    if (!name)
        name = archive_entry_pathname(e);
    if (!name || !*name)
        return kk_fail(err, KK_ERR_INVALID, "%s: an entry without a usable name", kpk);
    /* Long enough that a name over the limit stays over it, and is refused as such. */
    char *raw = kk_strndup(name, KK_MAX_PATH_LEN + 2);
    char *rel = raw ? printable(raw) : NULL; /* for messages only */
    if (!rel) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", kpk);
        goto done;
    }
    mode_t type = archive_entry_filetype(e);
    size_t len = strlen(raw);
    if (type == AE_IFDIR && len > 1 && raw[len - 1] == '/') {
        raw[len - 1] = '\0'; /* "topics/" names the folder topics */
        rel[len - 1] = '\0';
    }
    const char *problem = path_problem(raw);
    if (problem) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: %s", kpk, rel, problem);
        goto done;
    }
    if (kk_path_depth(raw) + (type == AE_IFDIR) > KK_MAX_PATH_DEPTH) {
        rc = kk_fail(err, KK_ERR_TOOBIG, "%s: %s: folders nested more than %d deep", kpk, rel,
                     KK_MAX_PATH_DEPTH);
        goto done;
    }
    if (archive_entry_hardlink(e)) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: hard link refused", kpk, rel);
        goto done;
    }
    switch (type) {
    case AE_IFREG:
        if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0 ||
            (unsigned long long)archive_entry_size(e) > limits->max_entry_bytes) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: %s: %lld bytes, more than the limit of %llu", kpk,
                         rel, (long long)archive_entry_size(e), limits->max_entry_bytes);
            goto done;
        }
        if (*total + (unsigned long long)archive_entry_size(e) > limits->max_total_bytes) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: unpacks to more than the limit of %llu bytes",
                         kpk, limits->max_total_bytes);
            goto done;
        }
        rc = unpack_file(a, kpk, dest, raw, limits, total, err);
        break;
    case AE_IFDIR: {
        char *path = kk_path_join(dest, raw);
        if (!path) {
            rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", kpk);
            goto done;
        }
        rc = kk_mkdirs(path, 0755, NULL);
        kk_free(path);
        if (rc)
            rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: folder clashes with a file in the bundle",
                         kpk, rel);
        break;
    }
    case AE_IFLNK:
        rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: symbolic link refused", kpk, rel);
        break;
    default:
        rc = kk_fail(err, KK_ERR_INVALID, "%s: %s: device, FIFO or socket refused", kpk, rel);
        break;
    }
done:
    kk_free(rel);
    kk_free(raw);
    return rc;
}

enum kk_err kk_bundle_extract(const char *kpk, const char *dest,
                              const struct kk_bundle_limits *limits, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_bundle_limits defaults;
    struct archive *a = NULL;
    int created = 0;
    struct stat st;
    if (!limits) {
        kk_bundle_default_limits(&defaults);
        limits = &defaults;
    }
    if (stat(kpk, &st) < 0)
        return kk_fail(err, errno == ENOENT ? KK_ERR_NOTFOUND : KK_ERR_IO, "%s: %s", kpk,
                       strerror(errno));
    if (!S_ISREG(st.st_mode))
        return kk_fail(err, KK_ERR_INVALID, "%s: not a regular file", kpk);
    if (mkdir(dest, 0755) < 0)
        return kk_fail(err, errno == EEXIST ? KK_ERR_EXISTS : KK_ERR_IO, "%s: %s", dest,
                       strerror(errno));
    created = 1;
    a = archive_read_new();
    if (!a) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", kpk);
        goto done;
    }
    /* Only what kk_bundle_write makes: gzip around tar (pax is tar with extra headers). */
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", kpk, archive_error_string(a));
        goto done;
    }
    if (archive_read_open_filename(a, kpk, CHUNK) != ARCHIVE_OK) {
        rc = kk_fail(err, KK_ERR_PARSE,
                     "%s: not a kepu bundle (gzip-compressed tar), or truncated or damaged (%s)",
                     kpk, archive_error_string(a));
        goto done;
    }
    unsigned long long total = 0;
    /* Headers are bytes too: a bomb of huge pax headers must stop as well. */
    unsigned long long stream_cap = limits->max_total_bytes + limits->max_entries * 8192ull;
    for (size_t count = 0;; count++) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = kk_fail(err, KK_ERR_PARSE, "%s: truncated or damaged bundle (%s)", kpk,
                         archive_error_string(a));
            goto done;
        }
        if (count >= limits->max_entries) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: more than %zu entries", kpk, limits->max_entries);
            goto done;
        }
        if ((unsigned long long)archive_filter_bytes(a, 0) > stream_cap) {
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: unpacks to more than the limit of %llu bytes",
                         kpk, limits->max_total_bytes);
            goto done;
        }
        rc = unpack_entry(a, e, kpk, dest, limits, &total, err);
        if (rc)
            goto done;
    }
done:
    if (a)
        archive_read_free(a);
    if (rc && created)
        kk_remove_tree(dest, NULL);
    return rc;
}

enum kk_err kk_bundle_read(const char *kpk, const char *dest, const struct kk_pubkey *keys,
                           size_t nkeys, struct kk_manifest **out, struct kk_buf *err)
{
    struct kk_buf why = KK_BUF_INIT;
    if (out)
        *out = NULL;
    enum kk_err rc = kk_bundle_extract(kpk, dest, NULL, err);
    if (rc)
        return rc;
    rc = kk_manifest_verify(dest, keys, nkeys, out, &why);
    if (rc) {
        kk_remove_tree(dest, NULL);
        rc = kk_fail(err, rc, "%s: %s", kpk, kk_buf_str(&why));
    }
    kk_buf_release(&why);
    return rc;
}
