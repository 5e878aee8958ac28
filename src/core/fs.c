#include "kepu/fs.h"

#include <errno.h>
#include <dirent.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/limits.h"
#include "kepu/log.h"

/* ---- fault injection ---- */

static atomic_ulong fault_calls[KK_FAULT_KINDS];
static atomic_ulong fault_at[KK_FAULT_KINDS]; /* 0: never fail */
static atomic_int fault_persistent[KK_FAULT_KINDS];

unsigned long kk_fault_after(enum kk_fault kind, unsigned long n, int persistent)
{
    unsigned long made = atomic_exchange(&fault_calls[kind], 0);
    atomic_store(&fault_persistent[kind], persistent);
    atomic_store(&fault_at[kind], n);
    return made;
}

/* True (errno EIO) when this call of kind is to fail. */
static int fault(enum kk_fault kind)
{
    unsigned long n = atomic_fetch_add(&fault_calls[kind], 1) + 1;
    unsigned long at = atomic_load(&fault_at[kind]);
    if (at == 0 || n < at || (n > at && !atomic_load(&fault_persistent[kind])))
        return 0;
    errno = EIO;
    return 1;
}

int kk_fsync(int fd)
{
    return fault(KK_FAULT_FSYNC) ? -1 : fsync(fd);
}

int kk_rename(const char *from, const char *to)
{
    return fault(KK_FAULT_RENAME) ? -1 : rename(from, to);
}

enum kk_err kk_file_read(const char *path, size_t max, struct kk_buf *out, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return kk_fail(err, errno == ENOENT ? KK_ERR_NOTFOUND : KK_ERR_IO, "%s: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = kk_fail(err, KK_ERR_INVALID, "%s: not a regular file", path);
        goto done;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = kk_fail(err, KK_ERR_TOOBIG, "%s: file is %lld bytes, the limit is %zu", path,
                     (long long)st.st_size, max);
        goto done;
    }
    char chunk[16384];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = kk_fail(err, KK_ERR_IO, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > max) { /* grew while we read it */
            rc = kk_fail(err, KK_ERR_TOOBIG, "%s: file is larger than the limit of %zu bytes", path,
                         max);
            goto done;
        }
        rc = kk_buf_add(out, chunk, (size_t)n);
        if (rc) {
            rc = kk_fail(err, rc, "%s: %s", path, kk_strerror(rc));
            goto done;
        }
    }
done:
    close(fd);
    return rc;
}

static int fsync_dir_of(const char *path)
{
    char *dir = kk_strdup(path);
    if (!dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else {
        dir[0] = '.';
        dir[1] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    kk_free(dir);
    if (fd < 0)
        return -1;
    int rc = kk_fsync(fd);
    close(fd);
    return rc;
}

enum kk_err kk_file_write_atomic(const char *path, const void *data, size_t len, struct kk_buf *err)
{
    return kk_file_write_atomic_mode(path, data, len, 0644, err);
}

enum kk_err kk_file_write_atomic_mode(const char *path, const void *data, size_t len, mode_t mode,
                                      struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf tmp = KK_BUF_INIT;
    int fd = -1;
    if (kk_buf_addf(&tmp, "%s.tmp", path))
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
    unlink(tmp.data); /* a left-over temporary file may have another mode */
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s", tmp.data,
                     strerror(errno));
        goto done;
    }
    if (fchmod(fd, mode) < 0) { /* exactly mode, whatever the umask */
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        goto done;
    }
    if (kk_write_all(fd, data, len) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: %s", tmp.data, strerror(errno));
        goto done;
    }
    if (kk_fsync(fd) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: fsync: %s", tmp.data, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (kk_rename(tmp.data, path) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: rename: %s", path, strerror(errno));
        unlink(tmp.data);
        goto done;
    }
    if (fsync_dir_of(path) < 0)
        rc = kk_fail(err, KK_ERR_IO, "%s: fsync of its folder: %s", path, strerror(errno));
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp.data);
    }
    kk_buf_release(&tmp);
    return rc;
}

enum kk_err kk_mkdirs(const char *path, mode_t mode, struct kk_buf *err)
{
    char *p = kk_strdup(path);
    if (!p)
        return kk_fail(err, KK_ERR_NOMEM, "%s: out of memory", path);
    enum kk_err rc = KK_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            rc = kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s", p,
                         strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    if (!rc) {
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            rc = kk_fail(err, KK_ERR_IO, "%s: not a folder", path);
    }
    kk_free(p);
    return rc;
}

int kk_path_is_safe(const char *rel)
{
    size_t len = strlen(rel);
    if (len == 0 || len > KK_MAX_PATH_LEN || rel[0] == '/')
        return 0;
    if (strchr(rel, '\\'))
        return 0;
    const char *c = rel;
    while (*c) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!end)
            break;
        c = end + 1;
        if (!*c) /* trailing slash */
            return 0;
    }
    return 1;
}

size_t kk_path_depth(const char *rel)
{
    size_t n = 0;
    for (const char *c = rel; *c; c++)
        n += *c == '/';
    return n;
}

char *kk_path_join(const char *a, const char *b)
{
    struct kk_buf out = KK_BUF_INIT;
    size_t la = strlen(a);
    if (kk_buf_add(&out, a, la) || ((la == 0 || a[la - 1] != '/') && kk_buf_adds(&out, "/")) ||
        kk_buf_adds(&out, b)) {
        kk_buf_release(&out);
        return NULL;
    }
    return kk_buf_detach(&out, NULL);
}

int kk_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int kk_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    if (fault(KK_FAULT_WRITE))
        return -1;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int kk_parse_size(const char *s, long min, long max, int *w, int *h)
{
    char wbuf[16];
    const char *x = strchr(s, 'x');
    long lw, lh;
    if (!x || (size_t)(x - s) >= sizeof(wbuf))
        return -1;
    memcpy(wbuf, s, (size_t)(x - s));
    wbuf[x - s] = '\0';
    if (kk_parse_long(wbuf, min, max, &lw) || kk_parse_long(x + 1, min, max, &lh))
        return -1;
    *w = (int)lw;
    *h = (int)lh;
    return 0;
}

void kk_hex_encode(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void kk_random_hex(char *out, size_t n)
{
    unsigned char bytes[64];
    if (sodium_init() < 0)
        KK_BUG("libsodium cannot initialise");
    if (n > sizeof(bytes))
        n = sizeof(bytes);
    randombytes_buf(bytes, n);
    kk_hex_encode(out, bytes, n);
}

/* Removes the entry name inside the open folder at, recursing into folders through
 * file descriptors opened with O_NOFOLLOW so a link can never lead outside the tree. It
 * allocates nothing of its own, so cleanup works when memory has run out; messages name
 * top, the path the caller gave, and the entry that failed. */
static enum kk_err remove_at(int at, const char *name, const char *top, int depth,
                             struct kk_buf *err)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return KK_OK;
        return kk_fail(err, KK_ERR_IO, "%s: %s: %s", top, name, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
            return kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s: %s", top, name,
                           strerror(errno));
        return KK_OK;
    }
    if (depth > KK_MAX_PATH_LEN)
        return kk_fail(err, KK_ERR_IO, "%s: folders nested too deep", top);
    enum kk_err rc = KK_OK;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s: %s", top, name,
                       strerror(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return kk_fail(err, KK_ERR_IO, "%s: %s: %s", top, name, strerror(errno));
    }
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        rc = remove_at(dirfd(d), e->d_name, top, depth + 1, err);
    }
    closedir(d);
    if (!rc && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = kk_fail(err, errno == EACCES ? KK_ERR_PERM : KK_ERR_IO, "%s: %s: %s", top, name,
                     strerror(errno));
    return rc;
}

enum kk_err kk_remove_tree(const char *path, struct kk_buf *err)
{
    return remove_at(AT_FDCWD, path, path, 0, err);
}
