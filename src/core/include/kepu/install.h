/* Installing verified packs into the kiosk's state folder (DESIGN.md "Kiosk state").
 *
 *   <state>/packs/<id>/<version>/  installed built packs: for each id the active version
 *                                  and the previous one are kept, older ones are deleted
 *   <state>/staging/               unfinished installs; emptied by kk_install_cleanup
 *   <state>/active.json            {"format":1,"packs":[{"id":"…","version":"…",
 *                                   "previous":"…"}]}  ("previous" absent when none)
 *   <state>/install.lock           flock()ed while an install runs
 *
 * An install copies or unpacks the pack into staging, verifies it there (signature, sizes,
 * hashes: kk_manifest_verify), fsyncs it, renames it to packs/<id>/<version>, and only then
 * replaces active.json with kk_file_write_atomic. A power cut at any moment leaves
 * active.json naming the old or the new version, each complete and verified. */
#ifndef KEPU_INSTALL_H
#define KEPU_INSTALL_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/manifest.h"

#define KK_INSTALL_FORCE 1u /* allow a version lower than the active one (staff only) */

struct kk_install_entry {
    char *id;
    char *version;  /* the active version */
    char *previous; /* the version before it, or NULL */
};

struct kk_install_list {
    struct kk_install_entry *items;
    size_t n;
};

void kk_install_list_release(struct kk_install_list *l); /* l may be NULL */

/* Reads <state>/active.json into out (empty when the file does not exist). Every id and
 * version is checked with kk_manifest_name_is_safe. Errors: KK_ERR_PARSE, KK_ERR_INVALID,
 * KK_ERR_TOOBIG, KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_install_list_read(const char *state, struct kk_install_list *out,
                                 struct kk_buf *err);

/* Compares two versions: dot- or dash-separated parts, numeric parts as numbers, others
 * byte by byte; "2026.11.10" > "2026.11.9" > "2026.11". Returns <0, 0 or >0. */
int kk_install_version_cmp(const char *a, const char *b);

/* Installs the built pack in folder dir (kk_install_dir) or the bundle kpk
 * (kk_install_bundle) after verifying it against the nkeys trusted keys, and makes it the
 * active version of its id; the version active before becomes the previous one; any older
 * version is deleted. A version lower than the active one is refused (KK_ERR_INVALID)
 * unless flags has KK_INSTALL_FORCE; the active version itself again gives KK_ERR_EXISTS.
 * On any failure nothing changes: the running version stays active and no staging files
 * remain. On KK_OK and out not NULL, *out is the installed manifest (free with
 * kk_manifest_destroy). Errors: those of kk_manifest_verify / kk_bundle_read,
 * KK_ERR_EXISTS, KK_ERR_INVALID, KK_ERR_BUSY (another install is running), KK_ERR_IO. */
enum kk_err kk_install_dir(const char *state, const char *dir, const struct kk_pubkey *keys,
                           size_t nkeys, unsigned flags, struct kk_manifest **out,
                           struct kk_buf *err);
enum kk_err kk_install_bundle(const char *state, const char *kpk, const struct kk_pubkey *keys,
                              size_t nkeys, unsigned flags, struct kk_manifest **out,
                              struct kk_buf *err);

/* Makes the previous version of id active again (and the active one previous).
 * Errors: KK_ERR_NOTFOUND (id not installed, no previous version, or its folder is gone),
 * KK_ERR_BUSY, KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_install_rollback(const char *state, const char *id, struct kk_buf *err);

/* The folder of an installed version: "<state>/packs/<id>/<version>". Free with kk_free;
 * NULL when out of memory. */
char *kk_install_path(const char *state, const char *id, const char *version);

/* For the kiosk's start: removes everything in <state>/staging, a stale active.json.tmp,
 * and every version folder that active.json names neither as active nor as previous.
 * Errors: KK_ERR_BUSY, KK_ERR_IO, KK_ERR_NOMEM, and those of kk_install_list_read. */
enum kk_err kk_install_cleanup(const char *state, struct kk_buf *err);

#endif
