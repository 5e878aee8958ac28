/* Tar archives of the content studio (docs/studio.md): an uploaded tar, tar.gz or .kpk
 * unpacked with exactly the checks a kiosk applies to a bundle (kk_bundle_extract: no
 * links, devices, absolute paths or "..", entry, size and depth limits, bytes counted as
 * they come), and a draft's source folder written as a tar.gz in memory for export. */
#ifndef SRV_TAR_H
#define SRV_TAR_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"

/* Unpacks the archive in data[0..len) (tar, gzip-compressed tar or .kpk) into the new
 * folder dest, through the temporary file scratch (removed afterwards). On failure dest
 * is removed and err gets one line naming the entry and the problem, without the
 * temporary paths. Errors: KK_ERR_PARSE (not a tar), KK_ERR_INVALID (a refused entry),
 * KK_ERR_TOOBIG (a limit), KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err srv_tar_unpack(const void *data, size_t len, const char *scratch, const char *dest,
                           struct kk_buf *err);

/* One file of an archive to write: path inside the archive and its bytes. */
struct srv_tar_entry {
    const char *path;
    const void *data;
    size_t len;
};

/* Writes the n entries as a gzip-compressed tar (pax) into out, each as top/path, plain
 * files of mode 0644 with a fixed time, so the same draft exports the same bytes' tar.
 * KK_ERR_NOMEM, KK_ERR_IO (libarchive failed). */
enum kk_err srv_tar_write_gz(const char *top, const struct srv_tar_entry *e, size_t n,
                             struct kk_buf *out, struct kk_buf *err);

#endif
