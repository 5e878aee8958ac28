/* kiosk.conf (kk_config_load), read from a file as the kiosk does. */
#include "fuzz_util.h"

#include "kepu/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kk_config cfg;
    struct kk_buf err = KK_BUF_INIT;
    char path[512];
    fuzz_write("kiosk.conf", data, size);
    if (!kk_config_init(&cfg)) {
        kk_config_load(&cfg, fuzz_path(path, sizeof(path), "kiosk.conf"), &err);
        kk_config_release(&cfg);
    }
    kk_buf_release(&err);
    return 0;
}
