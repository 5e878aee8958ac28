#include "srv_pack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/bundle.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "srv_auth.h"

static struct kk_pubkey *trusted;
static size_t ntrusted;

void srv_pack_set_keys(const struct kk_pubkey *keys, size_t n)
{
    kk_free(trusted);
    trusted = NULL;
    ntrusted = 0;
    if (n && (trusted = kk_calloc(n, sizeof(*keys)))) {
        memcpy(trusted, keys, n * sizeof(*keys));
        ntrusted = n;
    }
}

size_t srv_pack_keys(const struct kk_pubkey **keys)
{
    *keys = trusted;
    return ntrusted;
}

int srv_sha256_well_formed(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == 64;
}

char *srv_blob_path(const char *data_dir, const char *sha256)
{
    struct kk_buf b = KK_BUF_INIT;
    if (kk_buf_addf(&b, "%s/blobs/%.2s/%s", data_dir, sha256, sha256)) {
        kk_buf_release(&b);
        return NULL;
    }
    return kk_buf_detach(&b, NULL);
}

/* True when the file at path holds exactly the bytes whose SHA-256 is sha256 (hex). */
static int blob_intact(const char *path, const char *sha256)
{
    struct kk_buf data = KK_BUF_INIT;
    int ok = 0;
    if (kk_file_read(path, KK_MAX_PACK_FILE_BYTES, &data, NULL) == KK_OK) {
        unsigned char sha[crypto_hash_sha256_BYTES];
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        crypto_hash_sha256(sha, (const unsigned char *)(data.data ? data.data : ""), data.len);
        kk_hex_encode(hex, sha, sizeof(sha));
        ok = !strcmp(hex, sha256);
    }
    kk_buf_release(&data);
    return ok;
}

/* Puts data into the blob store as blob sha256 unless the blob is there already with the
 * right content. A new blob is written to a unique temporary name in its folder and
 * renamed into place, so two uploads sharing a blob never write the same file; a stored
 * blob damaged on disk (its bytes no longer have its hash) is replaced, never trusted. */
static enum kk_err keep_blob_mem(const char *data_dir, const void *data, size_t len,
                                 const char *sha256, struct kk_buf *err)
{
    char *path = srv_blob_path(data_dir, sha256);
    struct kk_buf tmp = KK_BUF_INIT;
    enum kk_err rc = KK_OK;
    int fd = -1, placed = 0;
    if (!path)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    if (blob_intact(path, sha256))
        goto done;
    char *slash = strrchr(path, '/');
    *slash = '\0';
    rc = kk_mkdirs(path, 0700, err);
    *slash = '/';
    if (rc)
        goto done;
    if (kk_buf_addf(&tmp, "%s.tmp-XXXXXX", path)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    fd = mkstemp(tmp.data);
    if (fd < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        kk_buf_reset(&tmp);
        goto done;
    }
    if (fchmod(fd, 0644) < 0 || kk_write_all(fd, data ? data : "", len) < 0 || kk_fsync(fd) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (kk_rename(tmp.data, path) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: rename: %s", path, strerror(errno));
        goto done;
    }
    placed = 1;
done:
    if (fd >= 0)
        close(fd);
    if (tmp.len && !placed)
        unlink(tmp.data);
    kk_buf_release(&tmp);
    kk_free(path);
    return rc;
}

/* Copies the verified file src into the blob store (keep_blob_mem). */
static enum kk_err keep_blob(const char *data_dir, const char *src, const char *sha256,
                             struct kk_buf *err)
{
    struct kk_buf data = KK_BUF_INIT;
    enum kk_err rc = kk_file_read(src, KK_MAX_PACK_FILE_BYTES, &data, err);
    if (!rc)
        rc = keep_blob_mem(data_dir, data.data, data.len, sha256, err);
    kk_buf_release(&data);
    return rc;
}

enum kk_err srv_blob_put(const char *data_dir, const void *data, size_t len, char sha256[65],
                         struct kk_buf *err)
{
    unsigned char sha[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sha, (const unsigned char *)(data ? data : ""), len);
    kk_hex_encode(sha256, sha, sizeof(sha));
    return keep_blob_mem(data_dir, data, len, sha256, err);
}

enum kk_err srv_blob_get(const char *data_dir, const char *sha256, struct kk_buf *out,
                         struct kk_buf *err)
{
    char *path = srv_sha256_well_formed(sha256) ? srv_blob_path(data_dir, sha256) : NULL;
    if (!path)
        return kk_fail(err, KK_ERR_INVALID, "blob %s: not a SHA-256", sha256);
    kk_buf_reset(out);
    enum kk_err rc = kk_file_read(path, KK_MAX_PACK_FILE_BYTES, out, err);
    kk_free(path);
    return rc;
}

enum kk_err srv_pack_store_dir(struct srv_store *store, const char *dir,
                               const struct kk_manifest *m, struct kk_buf *err)
{
    const char *data_dir = store->data_dir;
    struct kk_buf mf = KK_BUF_INIT, sig = KK_BUF_INIT;
    struct srv_pack_file *files = kk_calloc(m->nfiles ? m->nfiles : 1, sizeof(*files));
    char(*hex)[65] = kk_calloc(m->nfiles ? m->nfiles : 1, 65);
    char *mpath = kk_path_join(dir, KK_MANIFEST_FILE);
    char *spath = kk_path_join(dir, KK_MANIFEST_SIG_FILE);
    enum kk_err rc = !mpath || !spath || !files || !hex
                         ? kk_fail(err, KK_ERR_NOMEM, "out of memory")
                         : kk_file_read(mpath, KK_MAX_JSON_FILE_BYTES, &mf, err);
    if (!rc)
        rc = kk_file_read(spath, 4096, &sig, err);
    for (size_t i = 0; !rc && i < m->nfiles; i++) {
        kk_hex_encode(hex[i], m->files[i].sha256, 32);
        files[i].path = m->files[i].path;
        files[i].sha256 = hex[i];
        files[i].size = (int64_t)m->files[i].size;
        char *src = kk_path_join(dir, m->files[i].path);
        rc = src ? keep_blob(data_dir, src, hex[i], err) : KK_ERR_NOMEM;
        kk_free(src);
    }
    /* The manifest itself is a blob too, so a kiosk can fetch it by hash. */
    if (!rc)
        rc = keep_blob(data_dir, mpath, m->sha256, err);
    if (!rc)
        rc = srv_store_pack_add(store, m->id, m->version, m->sha256, mf.data, mf.len, sig.data,
                                sig.len, files, m->nfiles, err);
    kk_free(files);
    kk_free(hex);
    kk_free(mpath);
    kk_free(spath);
    kk_buf_release(&mf);
    kk_buf_release(&sig);
    return rc;
}

static void get_pack_part(struct srv_req *req, struct srv_reply *out, const char *which)
{
    struct kk_buf b = KK_BUF_INIT;
    const char *id = req->params[0], *ver = req->params[1];
    if (!srv_id_valid(id) || !srv_id_valid(ver)) {
        srv_reply_error(out, 400, "pack id and version: only A-Z a-z 0-9 . _ - allowed");
        return;
    }
    enum kk_err rc = srv_store_pack_get(req->store, id, ver, which, &b, NULL);
    if (rc == KK_ERR_NOTFOUND)
        srv_reply_error(out, 404, "no pack %s@%s", id, ver);
    else if (rc)
        srv_reply_error(out, 503, "store unavailable");
    else
        srv_reply_text(out, 200,
                       strcmp(which, "manifest") ? "application/octet-stream" : "application/json",
                       kk_buf_str(&b), b.len);
    kk_buf_release(&b);
}

void srv_pack_get_manifest(struct srv_req *req, struct srv_reply *out)
{
    get_pack_part(req, out, "manifest");
}

void srv_pack_get_signature(struct srv_req *req, struct srv_reply *out)
{
    get_pack_part(req, out, "signature");
}

/* Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range of a size-byte file.
 * Returns 1 with [*from, *to] set, 0 to ignore it (send everything), -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (strncmp(h, "bytes=", 6) || strchr(h, ','))
        return 0;
    h += 6;
    char *end;
    if (*h == '-') {
        errno = 0;
        unsigned long long n = strtoull(h + 1, &end, 10);
        if (errno || *end || end == h + 1)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 1;
    }
    if (*h < '0' || *h > '9')
        return 0;
    errno = 0;
    unsigned long long a = strtoull(h, &end, 10), b = size ? size - 1 : 0;
    if (errno || *end != '-')
        return 0;
    if (end[1]) {
        char *end2;
        b = strtoull(end + 1, &end2, 10);
        if (errno || *end2 || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

void srv_pack_get_blob(struct srv_req *req, struct srv_reply *out)
{
    const char *sha = req->params[0];
    char etag[80], buf[96];
    if (!srv_sha256_well_formed(sha)) {
        srv_reply_error(out, 400, "sha256: must be 64 lowercase hex digits");
        return;
    }
    char *path = srv_blob_path(req->store->data_dir, sha);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    kk_free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        srv_reply_error(out, 404, "no blob %s", sha);
        return;
    }
    snprintf(etag, sizeof(etag), "\"%s\"", sha);
    srv_reply_header(out, "ETag", etag);
    srv_reply_header(out, "Cache-Control", "public, max-age=31536000, immutable");
    srv_reply_header(out, "Accept-Ranges", "bytes");
    const char *inm = srv_req_header(req, "If-None-Match");
    if (inm && (strstr(inm, sha) || !strcmp(inm, "*"))) {
        close(fd);
        out->status = 304;
        return;
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    const char *range = srv_req_header(req, "Range");
    const char *if_range = srv_req_header(req, "If-Range");
    int r =
        range && (!if_range || strstr(if_range, sha)) ? parse_range(range, size, &from, &to) : 0;
    if (r < 0) {
        close(fd);
        snprintf(buf, sizeof(buf), "bytes */%" PRIu64, size);
        srv_reply_header(out, "Content-Range", buf);
        srv_reply_error(out, 416, "range not satisfiable");
        return;
    }
    out->fd = fd;
    out->content_type = "application/octet-stream";
    out->offset = from;
    out->length = size ? to - from + 1 : 0;
    out->status = 200;
    if (r > 0) {
        out->status = 206;
        snprintf(buf, sizeof(buf), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
        srv_reply_header(out, "Content-Range", buf);
    }
}
