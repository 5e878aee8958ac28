/* Built packs: MANIFEST.json, its Ed25519 signature, and the signing keys
 * (DESIGN.md "Content pack", built form).
 *
 * A built pack is the source tree plus two files at its top:
 *   MANIFEST.json  {"format":1,"id":"…","version":"…",
 *                   "files":[{"path":"pack.json","size":123,"sha256":"<64 hex>"},…]}
 *                  files sorted by path (byte order); every file of the pack is listed
 *                  except MANIFEST.json and MANIFEST.sig themselves.
 *   MANIFEST.sig   the 64-byte Ed25519 detached signature over the exact bytes of
 *                  MANIFEST.json (raw bytes, not text).
 *
 * Key files are two-line text files (docs/pack-keys.md):
 *   NAME.pub   "kepu-pack ed25519 public key v1\n" + base64 of the 32-byte public key + "\n"
 *   NAME.key   "kepu-pack ed25519 secret key v1\n" + base64 of libsodium's 64-byte secret
 *              key (seed followed by public key) + "\n"; mode 0600.
 *
 * A kiosk, `kepu-pack verify` and the server all check a pack with kk_manifest_verify:
 * the signature against the trusted keys first, then the manifest's fields, then every
 * file's size and SHA-256, and that the folder holds nothing the manifest does not list. */
#ifndef KEPU_MANIFEST_H
#define KEPU_MANIFEST_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"

#define KK_MANIFEST_FILE      "MANIFEST.json"
#define KK_MANIFEST_SIG_FILE  "MANIFEST.sig"
#define KK_MANIFEST_FORMAT    1
#define KK_PUBKEY_BYTES       32
#define KK_SECKEY_BYTES       64
#define KK_SIGNATURE_BYTES    64
#define KK_PUBKEY_FILE_HEADER "kepu-pack ed25519 public key v1"
#define KK_SECKEY_FILE_HEADER "kepu-pack ed25519 secret key v1"

struct kk_pubkey {
    unsigned char key[KK_PUBKEY_BYTES];
};
struct kk_seckey {
    unsigned char key[KK_SECKEY_BYTES];
};

struct kk_manifest_file {
    char *path; /* safe relative path inside the pack */
    unsigned long long size;
    unsigned char sha256[32];
};

struct kk_manifest {
    int format;
    char *id;      /* safe as one folder name: [A-Za-z0-9._-], 1..KK_MAX_ID_LEN, no leading '.' */
    char *version; /* same rules as id */
    struct kk_manifest_file *files; /* sorted by path, no duplicates */
    size_t nfiles;
    unsigned long long total_bytes; /* sum of the files' sizes */
    char sha256[65];                /* lowercase hex SHA-256 of the MANIFEST.json bytes */
};

/* Frees m and everything it owns; m may be NULL. */
void kk_manifest_destroy(struct kk_manifest *m);

/* True when s can be a pack id or version: 1..KK_MAX_ID_LEN bytes of [A-Za-z0-9._-], not
 * starting with '.', so it is safe as one folder name. */
int kk_manifest_name_is_safe(const char *s);

/* Makes a new key pair and writes NAME.pub and NAME.key (mode 0600). Refuses with
 * KK_ERR_EXISTS, writing nothing, when either file exists. Other errors: KK_ERR_IO,
 * KK_ERR_PERM, KK_ERR_NOMEM. */
enum kk_err kk_manifest_keygen(const char *name, struct kk_buf *err);

/* Read a key file written by kk_manifest_keygen. Errors: KK_ERR_NOTFOUND, KK_ERR_IO,
 * KK_ERR_TOOBIG, KK_ERR_PARSE (wrong header, bad base64 or length; the message names the
 * file), KK_ERR_VERIFY (a secret key whose halves do not belong together). */
enum kk_err kk_manifest_pubkey_read(const char *path, struct kk_pubkey *out, struct kk_buf *err);
enum kk_err kk_manifest_seckey_read(const char *path, struct kk_seckey *out, struct kk_buf *err);

/* Reads every public key file named in paths (comma-separated, spaces around names
 * ignored, as in kiosk.conf's trusted_keys). *out is an array to free with kk_free (NULL
 * when paths names none). Fails on the first file that cannot be read, naming it. */
enum kk_err kk_manifest_pubkeys_read(const char *paths, struct kk_pubkey **out, size_t *n,
                                     struct kk_buf *err);

/* Writes the built form of the source pack in src into the new folder out (which must not
 * exist, KK_ERR_EXISTS otherwise): a copy of every file, then MANIFEST.json and
 * MANIFEST.sig signed with key. id and version come from src/pack.json. Hidden files and
 * folders (names starting with '.') and any MANIFEST.json/MANIFEST.sig at the top of src
 * are left out. Refuses (naming the file) symlinks, special files, unsafe or non-UTF-8
 * names, files over KK_MAX_PACK_FILE_BYTES, more than KK_MAX_PACK_FILES files, more than
 * KK_MAX_PACK_BYTES in all. On failure out is removed again. This does not check the
 * pack's content: run kk_pack_load first. Errors: KK_ERR_EXISTS, KK_ERR_NOTFOUND,
 * KK_ERR_PARSE, KK_ERR_INVALID, KK_ERR_TOOBIG, KK_ERR_IO, KK_ERR_PERM, KK_ERR_NOMEM. */
enum kk_err kk_manifest_build(const char *src, const char *out, const struct kk_seckey *key,
                              struct kk_buf *err);

/* Parses MANIFEST.json bytes (untrusted) and checks every field: format is
 * KK_MANIFEST_FORMAT, id and version safe names, every path safe, UTF-8 and listed once,
 * sizes within limits, sha256 64 lowercase hex digits. Does NOT check a signature: use it
 * only on bytes whose signature was already checked, or where none is needed. On KK_OK
 * *out is a new manifest (free with kk_manifest_destroy). Errors: KK_ERR_PARSE,
 * KK_ERR_INVALID, KK_ERR_TOOBIG, KK_ERR_NOMEM; messages start "MANIFEST.json: ". */
enum kk_err kk_manifest_parse(const char *json, size_t len, struct kk_manifest **out,
                              struct kk_buf *err);

/* Checks sig (siglen bytes) over data against each of the nkeys trusted keys. KK_OK when
 * one of them made it; KK_ERR_VERIFY otherwise ("MANIFEST.sig: ..."). */
enum kk_err kk_manifest_check_signature(const void *data, size_t len, const void *sig,
                                        size_t siglen, const struct kk_pubkey *keys, size_t nkeys,
                                        struct kk_buf *err);

/* Checks that folder dir holds exactly the files m lists (plus MANIFEST.json and
 * MANIFEST.sig at the top), as regular files with the listed size and SHA-256. Errors
 * name the file: "topics/quake.json: sha256 mismatch", "x.png: not in the manifest",
 * "images/a.svg: listed in the manifest but missing", "a: symbolic link refused".
 * Errors: KK_ERR_VERIFY, KK_ERR_INVALID, KK_ERR_TOOBIG, KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_manifest_check_tree(const struct kk_manifest *m, const char *dir,
                                   struct kk_buf *err);

/* The whole check a kiosk makes before it installs anything: reads dir/MANIFEST.sig and
 * dir/MANIFEST.json (size-capped), checks the signature against the nkeys trusted keys
 * before parsing anything, parses the manifest, then kk_manifest_check_tree. On KK_OK and
 * out not NULL, *out is the manifest (free with kk_manifest_destroy). Errors:
 * KK_ERR_NOTFOUND (no manifest or signature), KK_ERR_VERIFY, KK_ERR_PARSE,
 * KK_ERR_INVALID, KK_ERR_TOOBIG, KK_ERR_IO, KK_ERR_NOMEM. */
enum kk_err kk_manifest_verify(const char *dir, const struct kk_pubkey *keys, size_t nkeys,
                               struct kk_manifest **out, struct kk_buf *err);

#endif
