/* MANIFEST.json as a kiosk reads it from a USB bundle or the server (kk_manifest_parse). */
#include "fuzz_util.h"

#include "kepu/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kk_manifest *m = NULL;
    struct kk_buf err = KK_BUF_INIT;
    if (!kk_manifest_parse((const char *)data, size, &m, &err) && !m)
        abort(); /* KK_OK without a manifest breaks the contract */
    kk_manifest_destroy(m);
    kk_buf_release(&err);
    return 0;
}
