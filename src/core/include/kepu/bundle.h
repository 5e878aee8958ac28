/* Bundles (.kpk): a built pack in one gzip-compressed pax tar archive, for USB sticks
 * (DESIGN.md "Content pack"). Written and read with libarchive.
 *
 * A bundle holds MANIFEST.json and MANIFEST.sig first, then every file the manifest lists,
 * as plain files (no folders, links or devices), mode 0644, owner 0, time 0, so the same
 * built pack always gives the same entries. A reader accepts plain files and folders only,
 * each at a safe relative path, within the limits below; anything else is refused before
 * it touches the disk. What it unpacks is then checked exactly like a built folder, by
 * kk_manifest_verify. */
#ifndef KEPU_BUNDLE_H
#define KEPU_BUNDLE_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/manifest.h"

struct kk_bundle_limits {
    size_t max_entries;                 /* files and folders in the archive */
    unsigned long long max_entry_bytes; /* one file */
    unsigned long long max_total_bytes; /* all files together, unpacked (archive bombs) */
};

/* The limits a kiosk uses: 2 * KK_MAX_PACK_FILES + 2 entries, KK_MAX_PACK_FILE_BYTES per
 * file, KK_MAX_PACK_BYTES plus the manifest in all. */
void kk_bundle_default_limits(struct kk_bundle_limits *limits);

/* Writes the built pack in dir into the new file kpk (KK_ERR_EXISTS if it exists). The
 * folder is checked first: MANIFEST.json must parse, MANIFEST.sig must be 64 bytes, and
 * the folder must hold exactly the listed files with their sizes and hashes (the
 * signature itself is not checked here: kepu-pack verify does that). Written through a
 * temporary file in the same folder, renamed into place when complete. Errors:
 * KK_ERR_EXISTS, KK_ERR_NOTFOUND, KK_ERR_PARSE, KK_ERR_INVALID, KK_ERR_VERIFY,
 * KK_ERR_TOOBIG, KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_bundle_write(const char *dir, const char *kpk, struct kk_buf *err);

/* Unpacks kpk into the new folder dest (which must not exist; its parent must), refusing
 * absolute paths, "..", links, devices, a path that appears twice, an entry over
 * limits->max_entry_bytes, more than limits->max_entries entries, and more than
 * limits->max_total_bytes in all (limits NULL: kk_bundle_default_limits). Nothing is
 * written outside dest. On failure dest is removed again. Messages name the bundle and
 * the entry: "usb/p.kpk: ../x: path with \"..\" refused". Does NOT verify the pack.
 * Errors: KK_ERR_EXISTS, KK_ERR_NOTFOUND, KK_ERR_INVALID, KK_ERR_TOOBIG, KK_ERR_PARSE (not
 * a gzip tar, truncated or damaged), KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_bundle_extract(const char *kpk, const char *dest,
                              const struct kk_bundle_limits *limits, struct kk_buf *err);

/* What a kiosk and `kepu-pack verify FILE.kpk` do: kk_bundle_extract with the default
 * limits, then kk_manifest_verify(dest, keys, nkeys). On KK_OK dest holds the verified
 * built pack and, when out is not NULL, *out its manifest (free with
 * kk_manifest_destroy). On failure dest is removed and err names the bundle and the file.
 * Errors: those of kk_bundle_extract and kk_manifest_verify. */
enum kk_err kk_bundle_read(const char *kpk, const char *dest, const struct kk_pubkey *keys,
                           size_t nkeys, struct kk_manifest **out, struct kk_buf *err);

#endif
