/* The image header probe (kk_image_probe_mem). The first byte picks the type the file
 * name claims (PNG, JPEG or SVG); the rest is the file. */
#include "fuzz_util.h"

#include "kepu/imgprobe.h"
#include "kepu/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum kk_image_type types[] = {KK_IMG_PNG, KK_IMG_JPEG, KK_IMG_SVG};
    struct kk_image img = {0};
    struct kk_buf err = KK_BUF_INIT;
    if (!kk_image_probe_mem(data + 1, size - 1, types[data[0] % 3], &img, &err) &&
        (img.w <= 0 || img.h <= 0 || img.w > KK_MAX_IMAGE_DIM || img.h > KK_MAX_IMAGE_DIM))
        abort(); /* accepted dimensions outside the limits */
    kk_buf_release(&err);
    return 0;
}
