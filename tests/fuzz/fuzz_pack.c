/* A source-form pack (kk_pack_load): pack.json and one topic file. The input is pack.json,
 * then a line "@@topic@@", then topics/t.json (seeds list "topics/t.json"). The pack folder
 * also holds images/a.png, images/a.jpg and images/a.svg for the image fields to find. */
#include "fuzz_util.h"

#include "kepu/pack.h"

#define SEP "\n@@topic@@\n"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,  0, 0,
                                        13,   'I', 'H', 'D', 'R',  0,    0,    0,    16, 0, 0,
                                        0,    16,  8,   2,   0,    0,    0,    0,    0,  0, 0};
    static const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xc0, 0,    11, 8,    0,   16,
                                        0,    16,   1,    1,    0x11, 0,  0xff, 0xd9};
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"16\" "
                              "height=\"16\"><rect width=\"16\" height=\"16\"/></svg>\n";
    char path[512];
    if (kk_mkdirs(fuzz_path(path, sizeof(path), "pack/topics"), 0700, NULL) ||
        kk_mkdirs(fuzz_path(path, sizeof(path), "pack/images"), 0700, NULL))
        abort();
    fuzz_write("pack/images/a.png", png, sizeof(png));
    fuzz_write("pack/images/a.jpg", jpg, sizeof(jpg));
    fuzz_write("pack/images/a.svg", svg, strlen(svg));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pack_len, topic_len;
    const uint8_t *topic;
    fuzz_split(data, size, SEP, &pack_len, &topic, &topic_len);
    fuzz_write("pack/pack.json", data, pack_len);
    fuzz_write("pack/topics/t.json", topic, topic_len);

    char dir[512];
    struct kk_pack *p = NULL;
    struct kk_diags diags = {0};
    struct kk_buf err = KK_BUF_INIT, line = KK_BUF_INIT;
    enum kk_err rc = kk_pack_load(fuzz_path(dir, sizeof(dir), "pack"), &p, &diags, &err);
    if (rc == KK_OK && (!p || diags.errors))
        abort(); /* a pack loaded in spite of errors */
    if (rc != KK_OK && (p || !err.len))
        abort(); /* a refusal without a message */
    for (size_t i = 0; i < diags.n; i++)
        kk_diags_format(&diags, i, &line);
    kk_pack_destroy(p);
    kk_diags_release(&diags);
    kk_buf_release(&err);
    kk_buf_release(&line);
    return 0;
}
