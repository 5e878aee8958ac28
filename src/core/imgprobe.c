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

/* A forward reader over all of a src in chunks, for the checks that read a whole file. */
struct reader {
    const struct src *s;
    size_t pos;
    size_t start, n; /* buf holds the bytes [start, start + n) */
    int io_errno;    /* set when a read failed */
    unsigned char buf[16384];
};

/* The byte at r->pos (advancing past it), or -1 at the end of the data or on an error. */
static int next_byte(struct reader *r)
{
    if (r->pos < r->start || r->pos >= r->start + r->n) {
        ssize_t got = read_at(r->s, r->pos, r->buf, sizeof(r->buf));
        if (got <= 0) {
            if (got < 0)
                r->io_errno = errno;
            return -1;
        }
        r->start = r->pos;
        r->n = (size_t)got;
    }
    return r->buf[r->pos++ - r->start];
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

/* Counts the scans (SOS markers) from byte pos to the end of a JPEG, the way a decoder finds
 * its markers: a segment's length is skipped; inside entropy-coded data and after garbage
 * the next 0xFF not followed by 0x00 or a restart marker is a marker. Anything malformed
 * ends the count (the decoder stops there too). KK_ERR_TOOBIG past KK_MAX_JPEG_SCANS. */
static enum kk_err jpeg_check_scans(const struct src *s, size_t pos, struct kk_buf *err)
{
    struct reader r = {.s = s, .pos = pos};
    unsigned scans = 0;
    for (;;) {
        int c = next_byte(&r);
        while (c >= 0 && c != 0xff)
            c = next_byte(&r);
        while (c == 0xff)
            c = next_byte(&r);
        if (c < 0 || c == 0xd9) /* the end, or EOI */
            break;
        if (c == 0x00 || c == 0x01 || (c >= 0xd0 && c <= 0xd7)) /* data, TEM or RSTn */
            continue;
        int hi = next_byte(&r), lo = next_byte(&r);
        if (hi < 0 || lo < 0 || ((unsigned)hi << 8 | (unsigned)lo) < 2)
            break;
        if (c == 0xda && ++scans > KK_MAX_JPEG_SCANS)
            return kk_fail(err, KK_ERR_TOOBIG,
                           "JPEG with more than %d scans (SOS markers); the limit is %d, as "
                           "each scan is one more pass of decoding",
                           KK_MAX_JPEG_SCANS, KK_MAX_JPEG_SCANS);
        r.pos += ((unsigned)hi << 8 | (unsigned)lo) - 2;
    }
    if (r.io_errno)
        return kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(r.io_errno));
    return KK_OK;
}

/* JPEG: SOI (FF D8), then marker segments up to the first frame header SOFn (C0..CF but
 * C4 DHT, C8 JPG and CC DAC), whose payload is precision, height, width; then the number
 * of scans in the rest of the file. */
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
            return jpeg_check_scans(s, pos + seglen, err);
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

/* How many arguments each path command takes; 0 for Z and for anything else. */
static unsigned path_args(char c)
{
    switch (c | 0x20) {
    case 'm':
    case 'l':
    case 't':
        return 2;
    case 'h':
    case 'v':
        return 1;
    case 'c':
        return 6;
    case 's':
    case 'q':
        return 4;
    case 'a':
        return 7;
    default:
        return 0;
    }
}

/* The segments a path's d="..." draws: one per command, and one per further set of
 * arguments after it (an implicit repeat, as in "L1 1 2 2 3 3"). */
static size_t path_segments(const char *p, const char *end)
{
    size_t segs = 0, nums = 0;
    unsigned per = 0;
    while (p < end) {
        double v;
        if (*p && strchr("MmLlTtHhVvCcSsQqAaZz", *p)) {
            segs += per ? (nums + per - 1) / per : 0;
            per = path_args(*p);
            nums = 0;
            segs += per == 0;
            p++;
        } else if (parse_number(&p, end, &v) == 0) {
            nums++;
        } else {
            p++;
        }
    }
    return segs + (per ? (nums + per - 1) / per : 0);
}

/* The points="x y x y ..." of a polyline or polygon: one segment per point. */
static size_t points_segments(const char *p, const char *end)
{
    size_t nums = 0;
    while (p < end) {
        double v;
        if (parse_number(&p, end, &v) == 0)
            nums++;
        else
            p++;
    }
    return (nums + 1) / 2;
}

/* Skips past the first occurrence of lit in [p, end), or to end. */
static const char *skip_past(const char *p, const char *end, const char *lit)
{
    const char *q = find(p, end, lit);
    return q ? q + strlen(lit) : end;
}

/* Counts the elements of the whole document and the segments of its paths and polylines
 * (comments, CDATA sections, processing instructions and declarations hold none), and
 * refuses a document over KK_MAX_SVG_ELEMENTS or KK_MAX_SVG_PATH_SEGMENTS. */
static enum kk_err svg_check_work(const char *p, const char *end, struct kk_buf *err)
{
    size_t elements = 0, segments = 0;
    while (p < end) {
        if (*p != '<') {
            p++;
        } else if (starts(p, end, "<!--")) {
            p = skip_past(p + 4, end, "-->");
        } else if (starts(p, end, "<![CDATA[")) {
            p = skip_past(p + 9, end, "]]>");
        } else if (starts(p, end, "<?")) {
            p = skip_past(p + 2, end, "?>");
        } else if (starts(p, end, "<!") || starts(p, end, "</")) {
            p = skip_past(p + 2, end, ">");
        } else {
            if (++elements > KK_MAX_SVG_ELEMENTS)
                return kk_fail(err, KK_ERR_TOOBIG,
                               "the SVG has more than %d elements; the limit is %d",
                               KK_MAX_SVG_ELEMENTS, KK_MAX_SVG_ELEMENTS);
            /* The element's name, then its attributes up to the end of the tag. */
            for (p++; p < end && !is_space(*p) && *p != '>' && *p != '/';)
                p++;
            while (p < end && *p != '>' && *p != '<') {
                if (is_space(*p) || *p == '/') {
                    p++;
                    continue;
                }
                const char *name = p;
                while (p < end && !is_space(*p) && *p != '=' && *p != '>' && *p != '<')
                    p++;
                size_t name_len = (size_t)(p - name);
                while (p < end && is_space(*p))
                    p++;
                if (p == end || *p != '=')
                    continue;
                for (p++; p < end && is_space(*p);)
                    p++;
                if (p == end || (*p != '"' && *p != '\''))
                    continue;
                const char *val = p + 1;
                const char *close = memchr(val, *p, (size_t)(end - val));
                if (!close)
                    close = end;
                if (name_len == 1 && *name == 'd')
                    segments += path_segments(val, close);
                else if (name_len == 6 && !memcmp(name, "points", 6))
                    segments += points_segments(val, close);
                p = close < end ? close + 1 : end;
                if (segments > KK_MAX_SVG_PATH_SEGMENTS)
                    return kk_fail(err, KK_ERR_TOOBIG,
                                   "the SVG's paths have more than %d segments; the limit is %d",
                                   KK_MAX_SVG_PATH_SEGMENTS, KK_MAX_SVG_PATH_SEGMENTS);
            }
        }
    }
    return KK_OK;
}

static enum kk_err probe_svg(const struct src *s, uint64_t *w, uint64_t *h, struct kk_buf *err)
{
    /* The size is in the head; the work to draw it is counted over the whole document. */
    size_t n = s->len < KK_SVG_HEAD_BYTES ? s->len : KK_SVG_HEAD_BYTES;
    enum kk_err e = KK_OK;
    char *doc = NULL;
    const char *text = (const char *)s->mem;
    size_t len = s->len;
    if (s->fd >= 0) {
        doc = kk_malloc(s->len);
        if (!doc)
            return kk_fail(err, KK_ERR_NOMEM, "out of memory");
        ssize_t r = read_at(s, 0, doc, s->len);
        if (r < 0) {
            e = kk_fail(err, KK_ERR_IO, "cannot read: %s", strerror(errno));
            goto done;
        }
        text = doc;
        len = (size_t)r;
        n = len < n ? len : n;
    }
    e = svg_dims(text, n, len > n, w, h, err);
    if (!e)
        e = svg_check_work(text, text + len, err);
done:
    kk_free(doc);
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
