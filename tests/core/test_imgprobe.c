/* Tests of src/core/imgprobe.c: the PNG, JPEG and SVG header probes. Images are built
 * byte by byte here; files go into a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"

/* Probes data from memory; on KK_OK checks w x h, otherwise checks the message. */
static void expect_mem(const void *data, size_t len, enum kk_image_type type, enum kk_err code,
                       int w, int h, const char *message)
{
    struct kk_image img = {0};
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc = kk_image_probe_mem(data, len, type, &img, &err);
    if (rc != code)
        print_message("probe said: %s\n", kk_buf_str(&err));
    assert_int_equal(rc, code);
    if (code == KK_OK) {
        assert_string_equal(kk_buf_str(&err), "");
        assert_int_equal(img.type, type);
        assert_int_equal(img.w, w);
        assert_int_equal(img.h, h);
        assert_int_equal(img.bytes, len);
    } else {
        assert_string_equal(kk_buf_str(&err), message);
        assert_int_equal(img.w, 0);
    }
    kk_buf_release(&err);
}

static void expect_svg(const char *text, enum kk_err code, int w, int h, const char *message)
{
    expect_mem(text, strlen(text), KK_IMG_SVG, code, w, h, message);
}

static void test_type_from_name(void **state)
{
    (void)state;
    assert_int_equal(kk_image_type_from_name("images/a.png"), KK_IMG_PNG);
    assert_int_equal(kk_image_type_from_name("A.PNG"), KK_IMG_PNG);
    assert_int_equal(kk_image_type_from_name("b.jpg"), KK_IMG_JPEG);
    assert_int_equal(kk_image_type_from_name("b.JPEG"), KK_IMG_JPEG);
    assert_int_equal(kk_image_type_from_name("c.svg"), KK_IMG_SVG);
    assert_int_equal(kk_image_type_from_name("c.svgz"), -1);
    assert_int_equal(kk_image_type_from_name("c.gif"), -1);
    assert_int_equal(kk_image_type_from_name("png"), -1);
    assert_int_equal(kk_image_type_from_name("dir.png/file"), -1);
    assert_string_equal(kk_image_type_name(KK_IMG_JPEG), "JPEG");
}

static void test_png(void **state)
{
    (void)state;
    unsigned char b[24] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0,    13,
                           'I',  'H', 'D', 'R', 0,    0,    0x01, 0x00, 0, 0, 0x00, 0xc8};
    expect_mem(b, sizeof(b), KK_IMG_PNG, KK_OK, 256, 200, NULL);
    expect_mem(b, 7, KK_IMG_PNG, KK_ERR_INVALID, 0, 0, "not a PNG file (no PNG signature)");
    expect_mem(b, 23, KK_IMG_PNG, KK_ERR_INVALID, 0, 0, "truncated PNG header");
    b[15] = 'X';
    expect_mem(b, sizeof(b), KK_IMG_PNG, KK_ERR_INVALID, 0, 0,
               "malformed PNG: it does not start with an IHDR chunk");
    b[15] = 'R';
    b[16] = 0x80; /* width 2^31 + 256: no overflow into a negative int */
    expect_mem(b, sizeof(b), KK_IMG_PNG, KK_ERR_TOOBIG, 0, 0,
               "declares 2147483904x200 pixels; the limit is 8192 pixels wide and 8192 high");
    b[16] = 0;
    b[18] = 0x20; /* 8192 wide: at the limit */
    b[19] = 0;
    expect_mem(b, sizeof(b), KK_IMG_PNG, KK_OK, 8192, 200, NULL);
    /* The wrong type for the bytes. */
    expect_mem(b, sizeof(b), KK_IMG_JPEG, KK_ERR_INVALID, 0, 0,
               "not a JPEG file (no JPEG start marker)");
    expect_mem(b, sizeof(b), KK_IMG_SVG, KK_ERR_INVALID, 0, 0,
               "not an SVG file (it must start with an <svg> element)");
}

static void test_jpeg_walks_segments(void **state)
{
    (void)state;
    /* SOI, an APP1 segment, fill bytes, a DHT (C4, not a frame header), then a progressive
     * frame header SOF2 of 300 x 500. */
    unsigned char b[64];
    size_t n = 0;
    const unsigned char start[] = {0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 'E',  'x', 'i',
                                   'f',  0xff, 0xff, 0xff, 0xc4, 0x00, 0x03, 0x00};
    memcpy(b, start, sizeof(start));
    n = sizeof(start);
    const unsigned char sof[] = {0xff, 0xc2, 0x00, 0x0b, 0x08, 0x01, 0xf4,
                                 0x01, 0x2c, 0x01, 0x01, 0x11, 0x00};
    memcpy(b + n, sof, sizeof(sof));
    n += sizeof(sof);
    expect_mem(b, n, KK_IMG_JPEG, KK_OK, 300, 500, NULL);
    /* Cut inside the frame header, and inside a segment length. */
    expect_mem(b, n - 6, KK_IMG_JPEG, KK_ERR_INVALID, 0, 0, "truncated JPEG frame header");
    expect_mem(b, 5, KK_IMG_JPEG, KK_ERR_INVALID, 0, 0, "truncated JPEG header");
    /* A segment whose length points into garbage. */
    b[5] = 0x04;
    expect_mem(b, n, KK_IMG_JPEG, KK_ERR_INVALID, 0, 0, "malformed JPEG: no marker at byte 8");
    b[5] = 0x06;
    /* Height 0 (defined later by a DNL marker) is refused. */
    b[n - 8] = 0;
    b[n - 7] = 0;
    expect_mem(b, n, KK_IMG_JPEG, KK_ERR_INVALID, 0, 0,
               "declares a size of 300x0 pixels; width and height must be more than 0");
    /* A segment length below 2 would loop forever if trusted. */
    const unsigned char zero_len[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x00};
    expect_mem(zero_len, sizeof(zero_len), KK_IMG_JPEG, KK_ERR_INVALID, 0, 0,
               "malformed JPEG: bad segment length at byte 4");
    const unsigned char eoi[] = {0xff, 0xd8, 0xff, 0xd9};
    expect_mem(eoi, sizeof(eoi), KK_IMG_JPEG, KK_ERR_INVALID, 0, 0,
               "malformed JPEG: no frame header (SOF) before the image data");
}

static void test_svg_sizes(void **state)
{
    (void)state;
    expect_svg("<svg width=\"120\" height=\"80.5px\"/>", KK_OK, 120, 81, NULL);
    expect_svg("<svg viewBox='-10 -10, 1920 1080'>", KK_OK, 1920, 1080, NULL);
    /* Percentages and other units give way to the viewBox. */
    expect_svg("<svg width='100%' height='100%' viewBox='0 0 64 48'>", KK_OK, 64, 48, NULL);
    expect_svg("<svg width='10cm' height='5cm' viewBox='0 0 1e2 50'>", KK_OK, 100, 50, NULL);
    /* Attribute values may hold '>' and '/', and other attributes come first. */
    expect_svg("<svg xmlns=\"http://www.w3.org/2000/svg\" data-x='a>b/c'\n\twidth = '16'\n"
               "height='9'><g/></svg>",
               KK_OK, 16, 9, NULL);
    expect_svg("\xef\xbb\xbf<?xml version='1.0'?>\n<!-- a <svg width='1'> in a comment -->\n"
               "<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' "
               "'http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd'>\n<svg width='3' height='4'>",
               KK_OK, 3, 4, NULL);
    expect_svg("<svg width='12'>", KK_ERR_INVALID, 0, 0,
               "the SVG has no usable size: give the <svg> element width and height in px, or "
               "a viewBox");
    expect_svg("<svg viewBox='0 0 0 10'>", KK_ERR_INVALID, 0, 0,
               "declares a size of 0x10 pixels; width and height must be more than 0");
    expect_svg("<svg width='20000' height='10'>", KK_ERR_TOOBIG, 0, 0,
               "declares 20000x10 pixels; the limit is 8192 pixels wide and 8192 high");
    expect_svg("<svg width='1e30' height='10'>", KK_ERR_TOOBIG, 0, 0,
               "declares 1000000000x10 pixels; the limit is 8192 pixels wide and 8192 high");
    expect_svg("<svg viewBox='0 0 8000 8000'>", KK_ERR_TOOBIG, 0, 0,
               "declares 8000x8000 pixels (64000000 in all); the limit is 16777216 pixels");
}

static void test_svg_refusals(void **state)
{
    (void)state;
    expect_svg("", KK_ERR_INVALID, 0, 0, "not an SVG file (it must start with an <svg> element)");
    expect_svg("<svgx width='1' height='1'>", KK_ERR_INVALID, 0, 0,
               "not an SVG file (it must start with an <svg> element)");
    expect_svg("hello <svg width='1' height='1'>", KK_ERR_INVALID, 0, 0,
               "not an SVG file (it must start with an <svg> element)");
    expect_svg("<!DOCTYPE svg [<!ENTITY a 'aaaa'>]><svg width='1' height='1'>", KK_ERR_INVALID, 0,
               0, "SVG with a DOCTYPE internal subset is not accepted");
    expect_svg("<!-- never closed <svg width='1' height='1'>", KK_ERR_INVALID, 0, 0,
               "not an SVG file (it must start with an <svg> element)");
    expect_svg("<svg width='1' height='1'", KK_ERR_INVALID, 0, 0,
               "the <svg> start tag is not closed");
    expect_svg("<svg width='1 height='1'>", KK_ERR_INVALID, 0, 0,
               "malformed attribute in the <svg> start tag");
    expect_svg("<svg width=1 height=1>", KK_ERR_INVALID, 0, 0,
               "malformed attribute in the <svg> start tag");

    /* Only the first KK_SVG_HEAD_BYTES are read: a start tag past them is refused. */
    size_t n = KK_SVG_HEAD_BYTES + 100;
    char *big = kk_malloc(n + 1);
    assert_non_null(big);
    memcpy(big, "<svg width='5' height='5' data='", 32);
    memset(big + 32, 'x', n - 32);
    big[n - 2] = '\'';
    big[n - 1] = '>';
    big[n] = '\0';
    expect_mem(big, n, KK_IMG_SVG, KK_ERR_INVALID, 0, 0, "the <svg> start tag is not closed");
    memset(big, ' ', n - 40);
    memcpy(big + n - 40, "<svg width='5' height='5'>", 26);
    expect_mem(big, n, KK_IMG_SVG, KK_ERR_INVALID, 0, 0,
               "no <svg> element in the first 65536 bytes");
    kk_free(big);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/kk-imgprobe-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *svg = kk_path_join(dir, "a.svg");
    char *link = kk_path_join(dir, "link.svg");
    char *huge = kk_path_join(dir, "huge.png");
    char *none = kk_path_join(dir, "none.png");
    assert_non_null(svg);
    assert_non_null(link);
    assert_non_null(huge);
    assert_non_null(none);
    const char text[] = "<svg width='7' height='9'></svg>";
    assert_int_equal(kk_file_write_atomic(svg, text, strlen(text), NULL), KK_OK);

    struct kk_image img = {0};
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_image_probe(svg, KK_IMG_SVG, &img, &err), KK_OK);
    assert_int_equal(img.w, 7);
    assert_int_equal(img.h, 9);
    assert_int_equal(img.bytes, strlen(text));
    assert_null(img.src);

    assert_int_equal(symlink(svg, link), 0);
    assert_int_equal(kk_image_probe(link, KK_IMG_SVG, &img, &err), KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), "is a symbolic link");
    kk_buf_reset(&err);
    assert_int_equal(kk_image_probe(none, KK_IMG_PNG, &img, &err), KK_ERR_NOTFOUND);
    assert_string_equal(kk_buf_str(&err), "file not found");
    kk_buf_reset(&err);
    assert_int_equal(kk_image_probe(dir, KK_IMG_PNG, &img, &err), KK_ERR_INVALID);
    assert_string_equal(kk_buf_str(&err), "not a regular file");
    kk_buf_reset(&err);

    /* One byte over the file size limit (a sparse file: nothing is written). */
    int fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)KK_MAX_IMAGE_FILE_BYTES + 1), 0);
    close(fd);
    assert_int_equal(kk_image_probe(huge, KK_IMG_PNG, &img, &err), KK_ERR_TOOBIG);
    assert_string_equal(kk_buf_str(&err), "image is 16777217 bytes; the limit is 16777216 bytes");
    kk_buf_reset(&err);

    /* The SVG head buffer is allocated: its failure is reported as such. */
    kk_alloc_fail_after(1);
    enum kk_err rc = kk_image_probe(svg, KK_IMG_SVG, &img, &err);
    kk_alloc_fail_after(0);
    assert_int_equal(rc, KK_ERR_NOMEM);
    kk_buf_release(&err);

    assert_int_equal(unlink(huge), 0);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(unlink(svg), 0);
    assert_int_equal(rmdir(dir), 0);
    kk_free(svg);
    kk_free(link);
    kk_free(huge);
    kk_free(none);
}

/* An SVG of width x 10 whose body is count copies of part between head and tail. */
static char *svg_repeat(const char *head, const char *part, size_t count, const char *tail,
                        size_t *len)
{
    struct kk_buf b = KK_BUF_INIT;
    assert_int_equal(kk_buf_adds(&b, "<svg width='10' height='10'>"), KK_OK);
    assert_int_equal(kk_buf_adds(&b, head), KK_OK);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(kk_buf_adds(&b, part), KK_OK);
    assert_int_equal(kk_buf_adds(&b, tail), KK_OK);
    assert_int_equal(kk_buf_adds(&b, "</svg>"), KK_OK);
    return kk_buf_detach(&b, len);
}

static void expect_svg_repeat(const char *head, const char *part, size_t count, const char *tail,
                              enum kk_err code, const char *message)
{
    size_t len;
    char *svg = svg_repeat(head, part, count, tail, &len);
    expect_mem(svg, len, KK_IMG_SVG, code, 10, 10, message);
    kk_free(svg);
}

static void test_svg_work_limits(void **state)
{
    (void)state;
    char elements[128], segments[128];
    snprintf(elements, sizeof(elements), "the SVG has more than %d elements; the limit is %d",
             KK_MAX_SVG_ELEMENTS, KK_MAX_SVG_ELEMENTS);
    snprintf(segments, sizeof(segments),
             "the SVG's paths have more than %d segments; the limit is %d",
             KK_MAX_SVG_PATH_SEGMENTS, KK_MAX_SVG_PATH_SEGMENTS);
    /* Elements: the <svg> itself and KK_MAX_SVG_ELEMENTS - 1 more are drawn; one more is
     * refused, after the start tag's head (the old probe read no further). */
    expect_svg_repeat("", "<g/>", KK_MAX_SVG_ELEMENTS - 1, "", KK_OK, NULL);
    expect_svg_repeat("", "<rect width='1' height='1'/>", KK_MAX_SVG_ELEMENTS, "", KK_ERR_TOOBIG,
                      elements);
    expect_svg_repeat("", "<g>", KK_MAX_SVG_ELEMENTS, "", KK_ERR_TOOBIG, elements);
    /* Closing tags, comments, CDATA, processing instructions are no elements. */
    expect_svg_repeat("<!--", "<g/>", KK_MAX_SVG_ELEMENTS, "-->", KK_OK, NULL);
    expect_svg_repeat("<style><![CDATA[", "<g/>", KK_MAX_SVG_ELEMENTS, "]]></style>", KK_OK, NULL);
    expect_svg_repeat("", "</g><?pi <g/> ?>", KK_MAX_SVG_ELEMENTS, "", KK_OK, NULL);
    /* A '>' inside an attribute value does not end the tag. */
    expect_svg_repeat("<text data-x='", "<g/>", KK_MAX_SVG_ELEMENTS, "'/>", KK_OK, NULL);

    /* Path segments, in all the document's paths: explicit commands ... */
    expect_svg_repeat("<path d='M0 0", " L1 1", KK_MAX_SVG_PATH_SEGMENTS - 1, "'/>", KK_OK, NULL);
    expect_svg_repeat("<path d='M0 0", " L1 1", KK_MAX_SVG_PATH_SEGMENTS, "'/>", KK_ERR_TOOBIG,
                      segments);
    /* ... implicit repeats of a command (one long stroked path, as in the audit) ... */
    expect_svg_repeat("<path stroke-width='50' d='M0 0", " 1,1", KK_MAX_SVG_PATH_SEGMENTS, "'/>",
                      KK_ERR_TOOBIG, segments);
    expect_svg_repeat("<path d=\"m0 0c", " 1 2 3 4 5 6", KK_MAX_SVG_PATH_SEGMENTS, "z\"/>",
                      KK_ERR_TOOBIG, segments);
    /* ... spread over many paths, and polyline points. */
    expect_svg_repeat("", "<path d='M0 0h1v1h-1z'/>", KK_MAX_SVG_PATH_SEGMENTS / 5 + 1, "",
                      KK_ERR_TOOBIG, segments);
    expect_svg_repeat("<polyline points='", "1,2 ", KK_MAX_SVG_PATH_SEGMENTS + 1, "'/>",
                      KK_ERR_TOOBIG, segments);
    expect_svg_repeat("<polygon points='", "1,2 ", KK_MAX_SVG_PATH_SEGMENTS, "'/>", KK_OK, NULL);
    /* Other attributes with numbers are not paths. */
    expect_svg_repeat("<g data-d='M0 0", " L1 1", KK_MAX_SVG_PATH_SEGMENTS, "'/>", KK_OK, NULL);
}

/* A JPEG of 16 x 8 with nscans scans (SOS segments, each followed by entropy-coded data
 * holding a stuffed 0xFF and a restart marker), ending with EOI unless cut. */
static unsigned char *jpeg_scans(size_t nscans, int garbage, size_t *len)
{
    static const unsigned char head[] = {0xff, 0xd8, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00,
                                         0x08, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00};
    static const unsigned char scan[] = {0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f,
                                         0x00, 0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56};
    struct kk_buf b = KK_BUF_INIT;
    assert_int_equal(kk_buf_add(&b, head, sizeof(head)), KK_OK);
    for (size_t i = 0; i < nscans; i++) {
        if (garbage) /* bytes between segments: a decoder skips them to the next marker */
            assert_int_equal(kk_buf_add(&b, "junk", 4), KK_OK);
        assert_int_equal(kk_buf_add(&b, scan, sizeof(scan)), KK_OK);
    }
    assert_int_equal(kk_buf_add(&b, "\xff\xd9", 2), KK_OK);
    return (unsigned char *)kk_buf_detach(&b, len);
}

static void test_jpeg_scan_limit(void **state)
{
    (void)state;
    char scans[160];
    snprintf(scans, sizeof(scans),
             "JPEG with more than %d scans (SOS markers); the limit is %d, as each scan is one "
             "more pass of decoding",
             KK_MAX_JPEG_SCANS, KK_MAX_JPEG_SCANS);
    size_t len;
    unsigned char *j = jpeg_scans(KK_MAX_JPEG_SCANS, 0, &len);
    expect_mem(j, len, KK_IMG_JPEG, KK_OK, 16, 8, NULL);
    kk_free(j);
    j = jpeg_scans(KK_MAX_JPEG_SCANS + 1, 0, &len);
    expect_mem(j, len, KK_IMG_JPEG, KK_ERR_TOOBIG, 0, 0, scans);
    /* Cut before its EOI, the scans are still counted. */
    expect_mem(j, len - 2, KK_IMG_JPEG, KK_ERR_TOOBIG, 0, 0, scans);
    kk_free(j);
    /* Garbage between the scans does not hide them. */
    j = jpeg_scans(KK_MAX_JPEG_SCANS + 1, 1, &len);
    expect_mem(j, len, KK_IMG_JPEG, KK_ERR_TOOBIG, 0, 0, scans);
    kk_free(j);
    /* A scan's data may hold 0xFF 0xDA only as a marker; anything after EOI is not read. */
    j = jpeg_scans(KK_MAX_JPEG_SCANS, 0, &len);
    unsigned char *more = kk_malloc(len + 10);
    assert_non_null(more);
    memcpy(more, j, len);
    memcpy(more + len, "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00", 10);
    expect_mem(more, len + 10, KK_IMG_JPEG, KK_OK, 16, 8, NULL);
    kk_free(more);
    kk_free(j);
}

/* The same limits on files, as a pack is loaded: the message names the limit. */
static void test_work_limits_in_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/kk-test-imgwork-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *svg_path = kk_path_join(dir, "busy.svg"), *jpg_path = kk_path_join(dir, "scans.jpg");
    assert_non_null(svg_path);
    assert_non_null(jpg_path);
    size_t len;
    char *svg = svg_repeat("<path d='M0 0", " L1 1", KK_MAX_SVG_PATH_SEGMENTS, "'/>", &len);
    assert_int_equal(kk_file_write_atomic(svg_path, svg, len, NULL), KK_OK);
    unsigned char *jpg = jpeg_scans(KK_MAX_JPEG_SCANS + 1, 0, &len);
    assert_int_equal(kk_file_write_atomic(jpg_path, jpg, len, NULL), KK_OK);

    struct kk_image img = {0};
    struct kk_buf err = KK_BUF_INIT;
    assert_int_equal(kk_image_probe(svg_path, KK_IMG_SVG, &img, &err), KK_ERR_TOOBIG);
    assert_non_null(strstr(kk_buf_str(&err), "segments; the limit is"));
    kk_buf_reset(&err);
    assert_int_equal(kk_image_probe(jpg_path, KK_IMG_JPEG, &img, &err), KK_ERR_TOOBIG);
    assert_non_null(strstr(kk_buf_str(&err), "scans (SOS markers); the limit is"));
    assert_int_equal(img.w, 0);
    kk_buf_release(&err);

    kk_free(svg);
    kk_free(jpg);
    assert_int_equal(kk_remove_tree(dir, NULL), KK_OK);
    kk_free(svg_path);
    kk_free(jpg_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_from_name),       cmocka_unit_test(test_png),
        cmocka_unit_test(test_jpeg_walks_segments),  cmocka_unit_test(test_svg_sizes),
        cmocka_unit_test(test_svg_refusals),         cmocka_unit_test(test_files),
        cmocka_unit_test(test_svg_work_limits),      cmocka_unit_test(test_jpeg_scan_limit),
        cmocka_unit_test(test_work_limits_in_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
