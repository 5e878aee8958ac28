#include "srv_tar.h"

#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "kepu/bundle.h"
#include "kepu/fs.h"

enum kk_err srv_tar_unpack(const void *data, size_t len, const char *scratch, const char *dest,
                           struct kk_buf *err)
{
    struct kk_buf msg = KK_BUF_INIT;
    enum kk_err rc = kk_file_write_atomic(scratch, data, len, err);
    if (rc)
        return rc;
    rc = kk_bundle_extract(scratch, dest, NULL, &msg);
    unlink(scratch);
    if (rc) {
        /* The core names the archive by its path: keep only what follows it. */
        const char *m = kk_buf_str(&msg);
        size_t n = strlen(scratch);
        if (!strncmp(m, scratch, n) && !strncmp(m + n, ": ", 2))
            m += n + 2;
        kk_fail(err, rc, "%s", m);
    }
    kk_buf_release(&msg);
    return rc;
}

static la_ssize_t write_cb(struct archive *a, void *arg, const void *p, size_t n)
{
    (void)a;
    return kk_buf_add(arg, p, n) ? -1 : (la_ssize_t)n;
}

enum kk_err srv_tar_write_gz(const char *top, const struct srv_tar_entry *e, size_t n,
                             struct kk_buf *out, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf name = KK_BUF_INIT;
    struct archive_entry *ae = archive_entry_new();
    struct archive *a = archive_write_new();
    if (!a || !ae) {
        rc = kk_fail(err, KK_ERR_NOMEM, "export: out of memory");
        goto done;
    }
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, out, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
        rc = kk_fail(err, KK_ERR_IO, "export: %s", archive_error_string(a));
        goto done;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        kk_buf_reset(&name);
        kk_buf_addf(&name, "%s/%s", top, e[i].path);
        if (kk_buf_error(&name)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "export: out of memory");
            break;
        }
        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, kk_buf_str(&name));
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)e[i].len);
        archive_entry_set_mtime(ae, 1735689600, 0); /* 2025-01-01: a fixed time */
        if (archive_write_header(a, ae) != ARCHIVE_OK ||
            (e[i].len && archive_write_data(a, e[i].data, e[i].len) != (la_ssize_t)e[i].len))
            rc = kk_fail(err, kk_buf_error(out) ? KK_ERR_NOMEM : KK_ERR_IO, "export: %s: %s",
                         e[i].path, archive_error_string(a));
    }
    if (!rc && archive_write_close(a) != ARCHIVE_OK)
        rc = kk_fail(err, KK_ERR_IO, "export: %s", archive_error_string(a));
done:
    if (a)
        archive_write_free(a);
    if (ae)
        archive_entry_free(ae);
    kk_buf_release(&name);
    return rc;
}
