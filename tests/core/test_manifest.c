#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kk_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/limits.h"
#include "kepu/manifest.h"

struct fixture {
    char tmp[64];
    char *src; /* source pack */
    char *out; /* built pack */
    char *keyname;
    struct kk_pubkey pub;
    struct kk_seckey sec;
};

static void read_file(const char *dir, const char *rel, struct kk_buf *out)
{
    char *path = tt_join(dir, rel);
    assert_int_equal(kk_file_read(path, 1 << 20, out, NULL), KK_OK);
    kk_free(path);
}

static void write_source_pack(const char *src)
{
    tt_write_file(src, "pack.json",
                  "{\"format\":1,\"id\":\"earthquake-safety\",\"version\":\"2026.11.1\",\"title\":"
                  "{\"zh\":\"地震安全\"},\"topics\":[\"topics/quake.json\"]}\n");
    tt_write_file(src, "topics/quake.json", "{\"id\":\"quake\",\"title\":{\"zh\":\"地震\"}}\n");
    tt_write_file(src, "images/a.svg",
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>\n");
}

static int setup(void **state)
{
    struct fixture *f = kk_calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/kk-manifest-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    f->src = tt_join(f->tmp, "src");
    f->out = tt_join(f->tmp, "out");
    f->keyname = tt_join(f->tmp, "venue");
    write_source_pack(f->src);
    assert_int_equal(kk_manifest_keygen(f->keyname, NULL), KK_OK);
    char *pub = tt_join(f->tmp, "venue.pub"), *sec = tt_join(f->tmp, "venue.key");
    assert_int_equal(kk_manifest_pubkey_read(pub, &f->pub, NULL), KK_OK);
    assert_int_equal(kk_manifest_seckey_read(sec, &f->sec, NULL), KK_OK);
    kk_free(pub);
    kk_free(sec);
    assert_int_equal(kk_manifest_build(f->src, f->out, &f->sec, NULL), KK_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kk_remove_tree(f->tmp, NULL), KK_OK);
    kk_free(f->src);
    kk_free(f->out);
    kk_free(f->keyname);
    kk_free(f);
    return 0;
}

/* Verifies f->out with the fixture's key; returns the code and leaves the message in err. */
static enum kk_err verify(struct fixture *f, struct kk_buf *err)
{
    kk_buf_reset(err);
    return kk_manifest_verify(f->out, &f->pub, 1, NULL, err);
}

/* Replaces MANIFEST.json with text and signs it with the fixture's (trusted) key. */
static void forge_manifest(struct fixture *f, const char *text)
{
    unsigned char sig[KK_SIGNATURE_BYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text), f->sec.key);
    char *mpath = tt_join(f->out, KK_MANIFEST_FILE), *spath = tt_join(f->out, KK_MANIFEST_SIG_FILE);
    assert_int_equal(kk_file_write_atomic(mpath, text, strlen(text), NULL), KK_OK);
    assert_int_equal(kk_file_write_atomic(spath, sig, sizeof(sig), NULL), KK_OK);
    kk_free(mpath);
    kk_free(spath);
}

static void test_good_pack_verifies(void **state)
{
    struct fixture *f = *state;
    struct kk_manifest *m = NULL;
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_manifest_verify(f->out, &f->pub, 1, &m, &err), KK_OK);
    assert_string_equal(kk_buf_str(&err), "");
    assert_string_equal(m->id, "earthquake-safety");
    assert_string_equal(m->version, "2026.11.1");
    assert_int_equal(m->nfiles, 3);
    assert_string_equal(m->files[0].path, "images/a.svg");
    assert_string_equal(m->files[1].path, "pack.json");
    assert_string_equal(m->files[2].path, "topics/quake.json");

    /* The listed hash and size are those of the copied file's bytes. */
    struct kk_buf data = KK_BUF_INIT;
    read_file(f->out, "topics/quake.json", &data);
    unsigned char sha[32];
    crypto_hash_sha256(sha, (const unsigned char *)data.data, data.len);
    assert_memory_equal(sha, m->files[2].sha256, 32);
    assert_int_equal(m->files[2].size, data.len);

    /* m->sha256 is the hash of the MANIFEST.json bytes (what a heartbeat reports). */
    kk_buf_reset(&data);
    read_file(f->out, KK_MANIFEST_FILE, &data);
    char hex[65];
    crypto_hash_sha256(sha, (const unsigned char *)data.data, data.len);
    kk_hex_encode(hex, sha, sizeof(sha));
    assert_string_equal(hex, m->sha256);
    assert_non_null(strstr(data.data, "\"format\":\t1"));
    kk_buf_release(&data);
    kk_manifest_destroy(m);
    kk_buf_release(&err);
}

static void test_one_byte_changed(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    char *path = tt_join(f->out, "topics/quake.json");
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 3), 1);
    close(fd);
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "topics/quake.json: sha256 mismatch");
    kk_free(path);
    kk_buf_release(&err);
}

static void test_size_changed(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    tt_write_file(f->out, "images/a.svg", "<svg/>");
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_non_null(strstr(kk_buf_str(&err), "images/a.svg: size mismatch"));
    /* Larger than listed is refused without reading past the listed size. */
    tt_write_file(
        f->out, "images/a.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>\n<!---->");
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_non_null(strstr(kk_buf_str(&err), "images/a.svg: size mismatch"));
    kk_buf_release(&err);
}

static void test_file_added(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    tt_write_file(f->out, "topics/extra.json", "{}");
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "topics/extra.json: not in the manifest");
    kk_buf_release(&err);
}

static void test_hidden_file_added(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    tt_write_file(f->out, ".hidden", "x");
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), ".hidden: not in the manifest");
    kk_buf_release(&err);
}

static void test_file_removed(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    char *path = tt_join(f->out, "images/a.svg");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "images/a.svg: listed in the manifest but missing");
    kk_free(path);
    kk_buf_release(&err);
}

static void test_symlink_in_place_of_file(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    char *path = tt_join(f->out, "images/a.svg");
    char *copy = tt_join(f->tmp, "a.svg");
    assert_int_equal(rename(path, copy), 0);
    assert_int_equal(symlink(copy, path), 0);
    assert_int_not_equal(verify(f, &err), KK_OK);
    assert_string_equal(kk_buf_str(&err), "images/a.svg: symbolic link refused");
    kk_free(path);
    kk_free(copy);
    kk_buf_release(&err);
}

static void test_manifest_edited(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
    read_file(f->out, KK_MANIFEST_FILE, &text);
    char *v = strstr(text.data, "2026.11.1");
    assert_non_null(v);
    v[8] = '2'; /* version 2026.11.2, still valid JSON */
    char *path = tt_join(f->out, KK_MANIFEST_FILE);
    assert_int_equal(kk_file_write_atomic(path, text.data, text.len, NULL), KK_OK);
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err),
                        "MANIFEST.sig: bad signature, or signed by a key that is not trusted");
    kk_free(path);
    kk_buf_release(&text);
    kk_buf_release(&err);
}

static void test_wrong_key(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    struct kk_pubkey keys[2];
    unsigned char sk[KK_SECKEY_BYTES];
    crypto_sign_keypair(keys[0].key, sk);
    assert_int_equal(kk_manifest_verify(f->out, keys, 1, NULL, &err), KK_ERR_VERIFY);
    assert_non_null(strstr(kk_buf_str(&err), "MANIFEST.sig: bad signature"));
    /* Any one of several trusted keys is enough. */
    keys[1] = f->pub;
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_verify(f->out, keys, 2, NULL, &err), KK_OK);
    /* And no trusted key at all trusts nothing. */
    assert_int_equal(kk_manifest_verify(f->out, keys, 0, NULL, &err), KK_ERR_VERIFY);
    kk_buf_release(&err);
}

static void test_truncated_signature(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    char *path = tt_join(f->out, KK_MANIFEST_SIG_FILE);
    assert_int_equal(truncate(path, 40), 0);
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err),
                        "MANIFEST.sig: 40 bytes, a signature is 64 (truncated or damaged)");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(verify(f, &err), KK_ERR_NOTFOUND);
    assert_non_null(strstr(kk_buf_str(&err), "MANIFEST.sig: missing"));
    kk_free(path);
    kk_buf_release(&err);
}

/* Manifests signed with the trusted key but with bad content: the signature is not the
 * only defence. */
static void test_forged_manifests(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    static const struct {
        const char *json;
        enum kk_err rc;
        const char *msg;
    } cases[] = {
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"../evil\",\"size\":"
         "1,\"sha256\":\"" /* */
         "0000000000000000000000000000000000000000000000000000000000000000\"}]}",
         KK_ERR_INVALID, "MANIFEST.json: files[0].path: unsafe path"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"/etc/passwd\","
         "\"size\":1,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000"
         "\"}]}",
         KK_ERR_INVALID, "MANIFEST.json: files[0].path: unsafe path"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"../../x\",\"files\":[]}", KK_ERR_INVALID,
         "MANIFEST.json: version: missing, or not 1 to 64 letters, digits, '.', '_' or '-'"},
        {"{\"format\":2,\"id\":\"p\",\"version\":\"1\",\"files\":[]}", KK_ERR_INVALID,
         "MANIFEST.json: format: unknown format version 2 (this program reads 1)"},
        {"[1,2", KK_ERR_PARSE, "MANIFEST.json: not valid JSON"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[]}", KK_ERR_INVALID,
         "MANIFEST.json: files: pack.json is not listed"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"pack.json\","
         "\"size\":-1,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000"
         "\"}]}",
         KK_ERR_INVALID,
         "MANIFEST.json: pack.json: size: missing, not a whole number, or over 16777216 bytes"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"pack.json\","
         "\"size\":1,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000"
         "\"},{\"path\":\"pack.json\",\"size\":1,\"sha256\":"
         "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
         KK_ERR_INVALID, "MANIFEST.json: pack.json: listed twice"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"MANIFEST.sig\","
         "\"size\":64,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000"
         "\"}]}",
         KK_ERR_INVALID, "MANIFEST.json: files[0].path: unsafe path"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"pack.json\","
         "\"size\":1,\"sha256\":\"ABC\"}]}",
         KK_ERR_INVALID,
         "MANIFEST.json: pack.json: sha256: missing or not 64 lowercase hex digits"},
        {"{\"format\":1,\"id\":\"p\",\"version\":\"1\",\"files\":[{\"path\":\"a\xff\","
         "\"size\":1,\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000"
         "\"}]}",
         KK_ERR_PARSE, "MANIFEST.json: not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        forge_manifest(f, cases[i].json);
        assert_int_equal(verify(f, &err), cases[i].rc);
        assert_string_equal(kk_buf_str(&err), cases[i].msg);
    }
    kk_buf_release(&err);
}

/* A correctly signed manifest that claims the wrong hash for a file still fails. */
static void test_forged_hash(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
    read_file(f->out, KK_MANIFEST_FILE, &text);
    char *h = strstr(text.data, "\"sha256\":\t\"");
    assert_non_null(h);
    h += strlen("\"sha256\":\t\"");
    h[0] = h[0] == '0' ? '1' : '0';
    forge_manifest(f, text.data);
    assert_int_equal(verify(f, &err), KK_ERR_VERIFY);
    assert_string_equal(kk_buf_str(&err), "images/a.svg: sha256 mismatch");
    kk_buf_release(&text);
    kk_buf_release(&err);
}

static void test_build_refuses_bad_sources(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT;
    char *out2 = tt_join(f->tmp, "out2");

    /* An existing output folder is never overwritten. */
    assert_int_equal(kk_manifest_build(f->src, f->out, &f->sec, &err), KK_ERR_EXISTS);
    assert_non_null(strstr(kk_buf_str(&err), "already exists"));

    /* A symbolic link in the source is refused, and no output is left behind. */
    char *link = tt_join(f->src, "images/link.svg");
    assert_int_equal(symlink("/etc/passwd", link), 0);
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_build(f->src, out2, &f->sec, &err), KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), "images/link.svg: symbolic link refused");
    struct stat st;
    assert_int_equal(lstat(out2, &st), -1);
    assert_int_equal(unlink(link), 0);

    /* A version that is not safe as a folder name. */
    tt_write_file(f->src, "pack.json", "{\"id\":\"p\",\"version\":\"../1\"}");
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_build(f->src, out2, &f->sec, &err), KK_ERR_INVALID);
    assert_non_null(strstr(kk_buf_str(&err), "pack.json: version:"));
    assert_int_equal(lstat(out2, &st), -1);

    /* A FIFO is not a regular file. */
    write_source_pack(f->src);
    char *fifo = tt_join(f->src, "topics/pipe");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_build(f->src, out2, &f->sec, &err), KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), "topics/pipe: not a regular file or folder");
    assert_int_equal(unlink(fifo), 0);

    kk_free(fifo);
    kk_free(link);
    kk_free(out2);
    kk_buf_release(&err);
}

/* "d/d/.../d": depth folder names joined by '/', followed by "/" and leaf when given. */
static char *deep_path(int depth, const char *leaf)
{
    struct kk_buf b = KK_BUF_INIT;
    for (int i = 0; i < depth; i++)
        assert_int_equal(kk_buf_adds(&b, i ? "/d" : "d"), 0);
    if (leaf)
        assert_int_equal(kk_buf_adds(&b, "/") || kk_buf_adds(&b, leaf), 0);
    char *s = kk_strdup(kk_buf_str(&b));
    assert_non_null(s);
    kk_buf_release(&b);
    return s;
}

/* One folder deeper than KK_MAX_PATH_DEPTH is refused by build and by verify, naming the
 * path and the limit, so such a pack never verifies only to fail at install. */
static void test_too_deep_refused(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT, want = KK_BUF_INIT;
    char *out2 = tt_join(f->tmp, "out2");
    char *folder = deep_path(KK_MAX_PATH_DEPTH + 1, NULL);
    char *leaf = deep_path(KK_MAX_PATH_DEPTH + 1, "a.svg");

    tt_write_file(f->src, leaf, "x");
    assert_int_equal(kk_manifest_build(f->src, out2, &f->sec, &err), KK_ERR_TOOBIG);
    assert_int_equal(
        kk_buf_addf(&want, "%s: folders nested more than %d deep", folder, KK_MAX_PATH_DEPTH), 0);
    assert_string_equal(kk_buf_str(&err), kk_buf_str(&want));
    struct stat st;
    assert_int_equal(lstat(out2, &st), -1);

    /* A signed manifest naming such a path, with the file in place. */
    read_file(f->out, KK_MANIFEST_FILE, &text);
    char *at = strstr(text.data, "\"images/a.svg\"");
    assert_non_null(at);
    struct kk_buf forged = KK_BUF_INIT;
    assert_int_equal(kk_buf_add(&forged, text.data, (size_t)(at - text.data) + 1), 0);
    assert_int_equal(kk_buf_adds(&forged, leaf), 0);
    assert_int_equal(kk_buf_adds(&forged, at + 1 + strlen("images/a.svg")), 0);
    struct kk_buf data = KK_BUF_INIT;
    read_file(f->out, "images/a.svg", &data);
    tt_write_file(f->out, leaf, kk_buf_str(&data));
    char *old = tt_join(f->out, "images/a.svg"), *olddir = tt_join(f->out, "images");
    assert_int_equal(unlink(old), 0);
    assert_int_equal(rmdir(olddir), 0);
    forge_manifest(f, kk_buf_str(&forged));
    assert_int_equal(verify(f, &err), KK_ERR_TOOBIG);
    kk_buf_reset(&want);
    assert_int_equal(kk_buf_addf(&want, "MANIFEST.json: %s: folders nested more than %d deep", leaf,
                                 KK_MAX_PATH_DEPTH),
                     0);
    assert_string_equal(kk_buf_str(&err), kk_buf_str(&want));

    kk_free(old);
    kk_free(olddir);
    kk_free(folder);
    kk_free(leaf);
    kk_free(out2);
    kk_buf_release(&data);
    kk_buf_release(&forged);
    kk_buf_release(&text);
    kk_buf_release(&want);
    kk_buf_release(&err);
}

static void test_build_leaves_out_hidden_files(void **state)
{
    struct fixture *f = *state;
    char *out2 = tt_join(f->tmp, "out2");
    struct kk_manifest *m = NULL;
    tt_write_file(f->src, ".git/config", "x");
    tt_write_file(f->src, "images/.DS_Store", "x");
    tt_write_file(f->src, KK_MANIFEST_FILE, "stale");
    assert_int_equal(kk_manifest_build(f->src, out2, &f->sec, NULL), KK_OK);
    assert_int_equal(kk_manifest_verify(out2, &f->pub, 1, &m, NULL), KK_OK);
    assert_int_equal(m->nfiles, 3);
    struct stat st;
    char *hidden = tt_join(out2, ".git");
    assert_int_equal(lstat(hidden, &st), -1);
    kk_manifest_destroy(m);
    kk_free(hidden);
    kk_free(out2);
}

static void test_keygen_and_key_files(void **state)
{
    struct fixture *f = *state;
    struct kk_buf err = KK_BUF_INIT, text = KK_BUF_INIT;
    char *sec = tt_join(f->tmp, "venue.key"), *pub = tt_join(f->tmp, "venue.pub");
    struct stat st;
    assert_int_equal(stat(sec, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    read_file(f->tmp, "venue.pub", &text);
    assert_int_equal(strncmp(text.data, KK_PUBKEY_FILE_HEADER "\n", 32), 0);

    /* Refuses to overwrite, and leaves the old key alone. */
    assert_int_equal(kk_manifest_keygen(f->keyname, &err), KK_ERR_EXISTS);
    assert_non_null(strstr(kk_buf_str(&err), "venue.key: already exists"));
    struct kk_pubkey again;
    assert_int_equal(kk_manifest_pubkey_read(pub, &again, NULL), KK_OK);
    assert_memory_equal(again.key, f->pub.key, KK_PUBKEY_BYTES);

    /* A public key file is not a secret key file, and vice versa. */
    struct kk_seckey sk;
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_seckey_read(pub, &sk, &err), KK_ERR_PARSE);
    assert_non_null(strstr(kk_buf_str(&err), "not a kepu-pack secret key file"));
    assert_int_equal(kk_manifest_pubkey_read(sec, &again, NULL), KK_ERR_PARSE);

    /* A damaged base64 line. */
    tt_write_file(f->tmp, "bad.pub", KK_PUBKEY_FILE_HEADER "\nAAAA\n");
    char *bad = tt_join(f->tmp, "bad.pub");
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_pubkey_read(bad, &again, &err), KK_ERR_PARSE);
    assert_non_null(strstr(kk_buf_str(&err), "bad.pub: the public key is damaged"));

    kk_free(bad);
    kk_free(sec);
    kk_free(pub);
    kk_buf_release(&text);
    kk_buf_release(&err);
}

/* Every allocation inside verify can fail without a crash, and is reported. */
static void test_verify_survives_allocation_failures(void **state)
{
    struct fixture *f = *state;
    kk_alloc_fail_after(0);
    struct kk_manifest *m = NULL;
    assert_int_equal(kk_manifest_verify(f->out, &f->pub, 1, &m, NULL), KK_OK);
    unsigned long count = kk_alloc_fail_after(0);
    kk_manifest_destroy(m);
    assert_true(count > 0);
    for (unsigned long n = 1; n <= count; n++) {
        struct kk_buf err = KK_BUF_INIT;
        m = NULL;
        kk_alloc_fail_after(n);
        enum kk_err rc = kk_manifest_verify(f->out, &f->pub, 1, &m, &err);
        kk_alloc_fail_after(0);
        assert_int_not_equal(rc, KK_OK);
        assert_null(m);
        kk_buf_release(&err);
    }
}

/* Hostile JSON reaches the parser only with a trusted signature, but must still be safe. */
static void test_parse_hostile_json(void **state)
{
    (void)state;
    struct kk_manifest *m = NULL;
    struct kk_buf err = KK_BUF_INIT;
    size_t n = 10000;
    char *deep = kk_malloc(2 * n);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_int_equal(kk_manifest_parse(deep, 2 * n, &m, &err), KK_ERR_PARSE);
    assert_null(m);
    assert_string_equal(kk_buf_str(&err), "MANIFEST.json: not valid JSON");
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_parse("", 0, &m, &err), KK_ERR_PARSE);
    kk_buf_reset(&err);
    assert_int_equal(kk_manifest_parse("[]", 2, &m, &err), KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), "MANIFEST.json: must be a JSON object");
    kk_free(deep);
    kk_buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_pack_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_byte_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hidden_file_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_in_place_of_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_edited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_manifests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_hash, setup, teardown),
        cmocka_unit_test(test_parse_hostile_json),
        cmocka_unit_test_setup_teardown(test_build_refuses_bad_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_leaves_out_hidden_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_deep_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_and_key_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_survives_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
