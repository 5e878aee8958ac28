#include "kepu/imgprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/limits.h"

/* Where the bytes come from: an open file (fd >= 0) or memory. */
struct src {
    int fd;
    const unsigned char *mem;
    size_t len;
};

/* Reads up to n bytes at off into buf. Returns how many were read (fewer at the end of the
 * data), or -1 with errno set on an I/O error. */
static ssize_t read_at(const struct src *s, size_t off, void *buf, size_t n)
{
    if (off >= s->len)
        return 0;
    if (n > s->len - off)
        n = s->len - off;
    if (s->fd < 0) {
        memcpy(buf, s->mem + off, n);
        return (ssize_t)n;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(s->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Reads exactly n bytes at off, or fails with a message saying what was being read. */
static enum kk_err read_exact(const struct src *s, size_t off, void *buf, size_t n,
                              const char *what, struct kk_buf *err)
{
    ssize_t r = read_at(s, off, buf, n);
    if (r < 0)
        return kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
    if ((size_t)r < n)
        return kk_fail(err, KK_ERR_INVALID, "truncated %s", what);
    return KK_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static enum kk_err check_dims(uint64_t w, uint64_t h, struct kk_buf *err)
{
    if (w == 0 || h == 0)
        return kk_fail(err, KK_ERR_INVALID,
                       "declares a size of %llux%llu pixels; width and height must be more "
                       "than 0",
                       (unsigned long long)w, (unsigned long long)h);
    if (w > KK_MAX_IMAGE_DIM || h > KK_MAX_IMAGE_DIM)
        return kk_fail(err, KK_ERR_TOOBIG,
                       "declares %llux%llu pixels; the limit is %d pixels wide and %d high",
                       (unsigned long long)w, (unsigned long long)h, KK_MAX_IMAGE_DIM,
                       KK_MAX_IMAGE_DIM);
    if (w * h > KK_MAX_IMAGE_PIXELS)
        return kk_fail(err, KK_ERR_TOOBIG,
                       "declares %llux%llu pixels (%llu in all); the limit is %u pixels",
                       (unsigned long long)w, (unsigned long long)h, (unsigned long long)(w * h),
                       KK_MAX_IMAGE_PIXELS);
    return KK_OK;
}

/* PNG: the 8-byte signature, then the IHDR chunk (length 13) holding width and height. */
static enum kk_err probe_png(const struct src *s, uint64_t *w, uint64_t *h, struct kk_buf *err)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[24];
    ssize_t r = read_at(s, 0, b, sizeof(b));
    if (r < 0)
        return kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
    if (r < 8 || memcmp(b, sig, 8) != 0)
        return kk_fail(err, KK_ERR_INVALID, "not a PNG file (no PNG signature)");
    if (r < 24)
        return kk_fail(err, KK_ERR_INVALID, "truncated PNG header");
    if (be32(b + 8) != 13 || memcmp(b + 12, "IHDR", 4) != 0)
        return kk_fail(err, KK_ERR_INVALID, "malformed PNG: it does not start with an IHDR chunk");
    *w = be32(b + 16);
    *h = be32(b + 20);
    return KK_OK;
}

/* JPEG: SOI (FF D8), then marker segments up to the first frame header SOFn (C0..CF but
 * C4 DHT, C8 JPG and CC DAC), whose payload is precision, height, width. */
static enum kk_err probe_jpeg(const struct src *s, uint64_t *w, uint64_t *h, struct kk_buf *err)
{
    unsigned char b[5];
    ssize_t r = read_at(s, 0, b, 3);
    if (r < 0)
        return kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
    if (r < 3 || b[0] != 0xff || b[1] != 0xd8 || b[2] != 0xff)
        return kk_fail(err, KK_ERR_INVALID, "not a JPEG file (no JPEG start marker)");
    size_t pos = 2;
    enum kk_err e;
    for (;;) {
        if ((e = read_exact(s, pos, b, 2, "JPEG header", err)))
            return e;
        if (b[0] != 0xff)
            return kk_fail(err, KK_ERR_INVALID, "malformed JPEG: no marker at byte %zu", pos);
        pos++;
        while (b[1] == 0xff) { /* fill bytes before a marker */
            if ((e = read_exact(s, ++pos, b + 1, 1, "JPEG header", err)))
                return e;
        }
        unsigned m = b[1];
        pos++;
        if (m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7)) /* no length field */
            continue;
        if (m == 0xd9 || m == 0xda || m == 0x00)
            return kk_fail(err, KK_ERR_INVALID,
                           "malformed JPEG: no frame header (SOF) before the image data");
        if ((e = read_exact(s, pos, b, 2, "JPEG header", err)))
            return e;
        unsigned seglen = be16(b);
        if (seglen < 2)
            return kk_fail(err, KK_ERR_INVALID, "malformed JPEG: bad segment length at byte %zu",
                           pos);
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (seglen < 7)
                return kk_fail(err, KK_ERR_INVALID, "malformed JPEG: short frame header");
            if ((e = read_exact(s, pos + 2, b, 5, "JPEG frame header", err)))
                return e;
            *h = be16(b + 1);
            *w = be16(b + 3);
            return KK_OK;
        }
        pos += seglen;
    }
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* The first occurrence of lit in [p, end), or NULL (memmem is a GNU extension). */
static const char *find(const char *p, const char *end, const char *lit)
{
    for (; p < end; p++)
        if (starts(p, end, lit))
            return p;
    return NULL;
}

/* An SVG/CSS number: optional sign, digits with an optional fraction, optional exponent.
 * Parsed by hand because strtod depends on the locale. Advances *pp past it. */
static int parse_number(const char **pp, const char *end, double *out)
{
    const char *p = *pp;
    double sign = 1, v = 0;
    int digits = 0;
    if (p < end && (*p == '+' || *p == '-'))
        sign = *p++ == '-' ? -1 : 1;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++)
        v = v < 1e300 ? v * 10 + (*p - '0') : v;
    if (p < end && *p == '.') {
        double scale = 0.1;
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++, scale /= 10)
            v += (*p - '0') * scale;
    }
    if (!digits)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int esign = 1;
        long ex = 0;
        if (q < end && (*q == '+' || *q == '-'))
            esign = *q++ == '-' ? -1 : 1;
        if (q < end && *q >= '0' && *q <= '9') {
            for (; q < end && *q >= '0' && *q <= '9'; q++)
                ex = ex < 1000 ? ex * 10 + (*q - '0') : ex;
            for (long i = 0; i < ex && i < 400; i++)
                v = esign > 0 ? (v < 1e300 ? v * 10 : v) : v / 10;
            p = q;
        }
    }
    *out = sign * v;
    *pp = p;
    return 0;
}

/* A width or height attribute: a number, optionally "px". Other units and percentages are
 * not used (the viewBox decides instead). */
static int parse_length(const char *p, const char *end, double *out)
{
    while (p < end && is_space(*p))
        p++;
    if (parse_number(&p, end, out) < 0)
        return -1;
    if (starts(p, end, "px"))
        p += 2;
    while (p < end && is_space(*p))
        p++;
    return p == end ? 0 : -1;
}

/* viewBox="min-x min-y width height", separated by spaces and/or commas. */
static int parse_viewbox(const char *p, const char *end, double *vw, double *vh)
{
    double v[4];
    for (int i = 0; i < 4; i++) {
        while (p < end && (is_space(*p) || *p == ','))
            p++;
        if (parse_number(&p, end, &v[i]) < 0)
            return -1;
    }
    while (p < end && is_space(*p))
        p++;
    if (p != end)
        return -1;
    *vw = v[2];
    *vh = v[3];
    return 0;
}

static uint64_t round_up_dim(double v)
{
    if (!(v > 0)) /* also NaN */
        return 0;
    if (v > 1e9)
        return 1000000000ull;
    uint64_t n = (uint64_t)v;
    return (double)n < v ? n + 1 : n;
}

/* Skips what may precede the root element: BOM, whitespace, XML declaration, comments and a
 * DOCTYPE without internal subset. Returns the position of the root element's '<'. */
static enum kk_err svg_skip_prolog(const char **pp, const char *end, struct kk_buf *err)
{
    const char *p = *pp;
    if (starts(p, end, "\xef\xbb\xbf"))
        p += 3;
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        const char *q;
        if (starts(p, end, "<?xml")) {
            q = find(p, end, "?>");
            if (!q)
                break;
            p = q + 2;
        } else if (starts(p, end, "<!--")) {
            q = find(p + 4, end, "-->");
            if (!q)
                break;
            p = q + 3;
        } else if (starts(p, end, "<!DOCTYPE")) {
            q = p;
            while (q < end && *q != '>' && *q != '[')
                q++;
            if (q < end && *q == '[')
                return kk_fail(err, KK_ERR_INVALID,
                               "SVG with a DOCTYPE internal subset is not accepted");
            if (q == end)
                break;
            p = q + 1;
        } else {
            break;
        }
    }
    *pp = p;
    return KK_OK;
}

static enum kk_err svg_dims(const char *head, size_t n, int truncated, uint64_t *w, uint64_t *h,
                            struct kk_buf *err)
{
    const char *end = head + n, *p = head;
    enum kk_err e = svg_skip_prolog(&p, end, err);
    if (e)
        return e;
    if (!starts(p, end, "<svg") || p + 4 == end ||
        !(is_space(p[4]) || p[4] == '>' || p[4] == '/')) {
        if (truncated && p == end)
            return kk_fail(err, KK_ERR_INVALID, "no <svg> element in the first %u bytes",
                           KK_SVG_HEAD_BYTES);
        return kk_fail(err, KK_ERR_INVALID,
                       "not an SVG file (it must start with an <svg> "
                       "element)");
    }
    double aw = 0, ah = 0, vw = 0, vh = 0;
    int have_w = 0, have_h = 0, have_vb = 0;
    for (p += 4;;) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            return kk_fail(err, KK_ERR_INVALID,
                           truncated ? "the <svg> start tag does not end in the first %u bytes"
                                     : "the <svg> start tag is not closed",
                           KK_SVG_HEAD_BYTES);
        if (*p == '>' || *p == '/')
            break;
        const char *name = p;
        while (p < end && !is_space(*p) && *p != '=' && *p != '>' && *p != '/')
            p++;
        size_t name_len = (size_t)(p - name);
        while (p < end && is_space(*p))
            p++;
        if (p == end || *p != '=' || name_len == 0)
            return kk_fail(err, KK_ERR_INVALID, "malformed attribute in the <svg> start tag");
        for (p++; p < end && is_space(*p);)
            p++;
        if (p == end || (*p != '"' && *p != '\''))
            return kk_fail(err, KK_ERR_INVALID, "malformed attribute in the <svg> start tag");
        const char *val = p + 1;
        const char *close = memchr(val, *p, (size_t)(end - val));
        if (!close)
            return kk_fail(err, KK_ERR_INVALID, "the <svg> start tag is not closed");
        p = close + 1;
        if (name_len == 5 && memcmp(name, "width", 5) == 0)
            have_w = parse_length(val, close, &aw) == 0;
        else if (name_len == 6 && memcmp(name, "height", 6) == 0)
            have_h = parse_length(val, close, &ah) == 0;
        else if (name_len == 7 && memcmp(name, "viewBox", 7) == 0)
            have_vb = parse_viewbox(val, close, &vw, &vh) == 0;
    }
    if (have_w && have_h) {
        *w = round_up_dim(aw);
        *h = round_up_dim(ah);
    } else if (have_vb) {
        *w = round_up_dim(vw);
        *h = round_up_dim(vh);
    } else {
        return kk_fail(err, KK_ERR_INVALID,
                       "the SVG has no usable size: give the <svg> element width and height "
                       "in px, or a viewBox");
    }
    return KK_OK;
}

static enum kk_err probe_svg(const struct src *s, uint64_t *w, uint64_t *h, struct kk_buf *err)
{
    size_t n = s->len < KK_SVG_HEAD_BYTES ? s->len : KK_SVG_HEAD_BYTES;
    if (s->fd < 0)
        return svg_dims((const char *)s->mem, n, s->len > n, w, h, err);
    enum kk_err e;
    char *head = kk_malloc(n);
    if (!head)
        return kk_fail(err, KK_ERR_NOMEM, "out of memory");
    ssize_t r = read_at(s, 0, head, n);
    if (r < 0)
        e = kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
    else
        e = svg_dims(head, (size_t)r, s->len > (size_t)r, w, h, err);
    kk_free(head);
    return e;
}

static enum kk_err probe(const struct src *s, enum kk_image_type type, struct kk_image *out,
                         struct kk_buf *err)
{
    if (s->len > KK_MAX_IMAGE_FILE_BYTES)
        return kk_fail(err, KK_ERR_TOOBIG, "image is %zu bytes; the limit is %u bytes", s->len,
                       KK_MAX_IMAGE_FILE_BYTES);
    uint64_t w = 0, h = 0;
    enum kk_err e = KK_ERR_INVALID;
    switch (type) {
    case KK_IMG_PNG:
        e = probe_png(s, &w, &h, err);
        break;
    case KK_IMG_JPEG:
        e = probe_jpeg(s, &w, &h, err);
        break;
    case KK_IMG_SVG:
        e = probe_svg(s, &w, &h, err);
        break;
    }
    if (!e)
        e = check_dims(w, h, err);
    if (e)
        return e;
    out->type = type;
    out->w = (int)w;
    out->h = (int)h;
    out->bytes = s->len;
    return KK_OK;
}

int kk_image_type_from_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || strchr(dot, '/'))
        return -1;
    if (strcasecmp(dot, ".png") == 0)
        return KK_IMG_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return KK_IMG_JPEG;
    if (strcasecmp(dot, ".svg") == 0)
        return KK_IMG_SVG;
    return -1;
}

const char *kk_image_type_name(enum kk_image_type type)
{
    switch (type) {
    case KK_IMG_PNG:
        return "PNG";
    case KK_IMG_JPEG:
        return "JPEG";
    case KK_IMG_SVG:
        return "SVG";
    }
    return "unknown";
}

enum kk_err kk_image_probe(const char *path, enum kk_image_type type, struct kk_image *out,
                           struct kk_buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return kk_fail(err, KK_ERR_NOTFOUND, "file not found");
        if (errno == ELOOP)
            return kk_fail(err, KK_ERR_INVALID, "is a symbolic link");
        return kk_fail(err, KK_ERR_IO, "cannot open: %s", strerror(errno));
    }
    enum kk_err e;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        e = kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        e = kk_fail(err, KK_ERR_INVALID, "not a regular file");
        goto done;
    }
    struct src s = {fd, NULL, (size_t)st.st_size};
    e = probe(&s, type, out, err);
done:
    close(fd);
    return e;
}

enum kk_err kk_image_probe_mem(const void *data, size_t len, enum kk_image_type type,
                               struct kk_image *out, struct kk_buf *err)
{
    struct src s = {-1, data, len};
    return probe(&s, type, out, err);
}
