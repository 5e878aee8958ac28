/* The .kpk reader (kk_bundle_read: libarchive extraction with its limits, then the whole
 * verification a kiosk makes), with the key pair of tests/fuzz/fuzz.pub: the seeds are
 * bundles signed with it, so mutations reach the manifest and tree checks. */
#include "fuzz_util.h"

#include "kepu/bundle.h"
#include "kepu/manifest.h"

static struct kk_pubkey key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    struct kk_buf err = KK_BUF_INIT;
    if (kk_manifest_pubkey_read(KK_FUZZ_DIR "/fuzz.pub", &key, &err)) {
        fprintf(stderr, "fuzz_bundle: %s\n", kk_buf_str(&err));
        abort();
    }
    kk_buf_release(&err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char kpk[512], dest[512];
    struct kk_manifest *m = NULL;
    struct kk_buf err = KK_BUF_INIT;
    struct stat st;
    fuzz_write("in.kpk", data, size);
    fuzz_path(kpk, sizeof(kpk), "in.kpk");
    fuzz_path(dest, sizeof(dest), "out");
    enum kk_err rc = kk_bundle_read(kpk, dest, &key, 1, &m, &err);
    if (rc != KK_OK && (m || !err.len || stat(dest, &st) == 0))
        abort(); /* a refusal must name the problem and leave nothing behind */
    kk_manifest_destroy(m);
    kk_remove_tree(dest, NULL);
    kk_buf_release(&err);
    return 0;
}
