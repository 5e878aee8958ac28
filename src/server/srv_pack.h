/* Content packs on the server: upload of a bundle (.kpk) by staff, checked exactly like a
 * kiosk checks it (kk_bundle_read: safe unpacking, signature against the trusted keys,
 * every file's size and SHA-256); then its files are kept content-addressed under
 * DATA/blobs/ab/<sha256> and its manifest and signature in the store. Kiosks fetch the
 * manifest, the signature and the blobs they lack. */
#ifndef SRV_PACK_H
#define SRV_PACK_H

#include <stddef.h>

#include "kepu/manifest.h"
#include "srv_http.h"

#define SRV_MAX_PACK_UPLOAD (64u * 1024 * 1024) /* one uploaded .kpk, compressed */

/* The public keys pack signatures must match (set once at start-up, before serving). */
void srv_pack_set_keys(const struct kk_pubkey *keys, size_t n);
/* The keys set there (for enrolment: a new kiosk trusts what the server trusts). Returns
 * how many; *keys points into the server's own copy (do not free). */
size_t srv_pack_keys(const struct kk_pubkey **keys);

/* Path of blob sha256 under data_dir (kk_free it), or NULL. sha256 must be well formed. */
char *srv_blob_path(const char *data_dir, const char *sha256);
/* Puts len bytes into the blob store (kept once per content, written to a temporary name
 * and renamed) and writes their SHA-256 (hex) into sha256. KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err srv_blob_put(const char *data_dir, const void *data, size_t len, char sha256[65],
                         struct kk_buf *err);
/* Reads blob sha256 into out (reset first). KK_ERR_NOTFOUND when it is not stored,
 * KK_ERR_INVALID for a malformed hash. */
enum kk_err srv_blob_get(const char *data_dir, const char *sha256, struct kk_buf *out,
                         struct kk_buf *err);
/* True when s is 64 lowercase hex digits. */
int srv_sha256_well_formed(const char *s);

/* Keeps the verified built pack in dir (m: its manifest, from kk_manifest_verify or
 * kk_bundle_read) as a stored version: every file as a blob, then the manifest, its
 * signature and file list in the store. KK_ERR_EXISTS when that id and version exist
 * with another manifest; KK_ERR_IO, KK_ERR_NOMEM, KK_ERR_DB. */
enum kk_err srv_pack_store_dir(struct srv_store *store, const char *dir,
                               const struct kk_manifest *m, struct kk_buf *err);

void srv_pack_get_manifest(struct srv_req *req, struct srv_reply *out);
void srv_pack_get_signature(struct srv_req *req, struct srv_reply *out);
void srv_pack_get_blob(struct srv_req *req, struct srv_reply *out);

#endif
