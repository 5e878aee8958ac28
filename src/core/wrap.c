#include "kepu/wrap.h"

#include <pthread.h>
#include <string.h>

#include <linebreak.h>

#include "kepu/alloc.h"

static pthread_once_t linebreak_once = PTHREAD_ONCE_INIT;

static void linebreak_init(void)
{
    init_linebreak();
}

/* Bytes that end a line without being drawn: the spaces a break leaves behind and the
 * newline itself. */
static int is_trailing_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t trim_end(const char *s, size_t start, size_t end)
{
    while (end > start && is_trailing_blank(s[end - 1]))
        end--;
    return end;
}

static int measure_run(kk_measure_fn measure, void *ctx, const char *s, size_t start, size_t end)
{
    return end > start ? measure(ctx, s + start, end - start) : 0;
}

static enum kk_err push_line(struct kk_lines *out, size_t start, size_t len, int width)
{
    if (out->n == out->alloc) {
        size_t n = out->alloc ? out->alloc * 2 : 16;
        struct kk_line *v = kk_reallocarray(out->v, n, sizeof(*v));
        if (!v)
            return KK_ERR_NOMEM;
        out->v = v;
        out->alloc = n;
    }
    out->v[out->n++] = (struct kk_line){.start = start, .len = len, .width = width};
    return KK_OK;
}

/* The first break opportunity after offset from: the smallest b > from with a break allowed
 * or required between byte b-1 and byte b; len at the latest. */
static size_t next_break(const char *brks, size_t len, size_t from)
{
    size_t b = from + 1;
    while (b < len && brks[b - 1] != LINEBREAK_MUSTBREAK && brks[b - 1] != LINEBREAK_ALLOWBREAK)
        b++;
    return b;
}

/* The last resort for a run wider than a line on its own: as many whole code points as fit
 * (at least one, so wrapping always advances). Returns the end offset of the piece. */
static size_t split_run(const char *s, size_t start, size_t end, int max_width,
                        kk_measure_fn measure, void *ctx)
{
    size_t pos = start;
    kk_utf8_next(s, end, &pos);
    size_t fit = pos;
    while (pos < end) {
        kk_utf8_next(s, end, &pos);
        if (measure(ctx, s + start, pos - start) > max_width)
            break;
        fit = pos;
    }
    return fit;
}

enum kk_err kk_wrap(const char *utf8, enum kk_lang lang, int max_width, kk_measure_fn measure,
                    void *ctx, struct kk_lines *out)
{
    enum kk_err rc = KK_OK;
    char *brks = NULL;
    size_t len = strlen(utf8);
    if (!kk_utf8_valid(utf8, len))
        return KK_ERR_PARSE;
    if (len == 0)
        return KK_OK;
    brks = kk_malloc(len);
    if (!brks)
        return KK_ERR_NOMEM;
    pthread_once(&linebreak_once, linebreak_init);
    /* brks[i] describes the position after byte i; the last byte is always MUSTBREAK. */
    set_linebreaks_utf8((const utf8_t *)utf8, len, lang == KK_LANG_EN ? "en" : "zh", brks);

    size_t line_start = 0; /* first byte of the line being filled */
    size_t fit_end = 0;    /* the last break opportunity that still fits on it */
    size_t fit_vis = 0;    /* fit_end without trailing blanks */
    int fit_width = 0;
    size_t b = next_break(brks, len, 0); /* the break opportunity being tried */
    while (line_start < len) {
        int must = b == len || brks[b - 1] == LINEBREAK_MUSTBREAK;
        size_t vis = trim_end(utf8, line_start, b);
        int width = measure_run(measure, ctx, utf8, line_start, vis);
        if (width <= max_width || vis == line_start) {
            fit_end = b;
            fit_vis = vis;
            fit_width = width;
            if (must) {
                rc = push_line(out, line_start, fit_vis - line_start, fit_width);
                if (rc)
                    goto done;
                line_start = b;
            }
            if (b < len)
                b = next_break(brks, len, b);
            continue;
        }
        if (fit_vis > line_start) {
            /* The run up to b overflows: end the line at the last opportunity that fit and
             * try b again on the next line. */
            rc = push_line(out, line_start, fit_vis - line_start, fit_width);
            if (rc)
                goto done;
            line_start = fit_end;
            continue;
        }
        /* One unbreakable run wider than the line: split it between code points, then try
         * b again with what is left. */
        size_t piece = split_run(utf8, line_start, vis, max_width, measure, ctx);
        rc = push_line(out, line_start, piece - line_start,
                       measure_run(measure, ctx, utf8, line_start, piece));
        if (rc)
            goto done;
        line_start = piece;
        fit_end = piece;
    }
done:
    kk_free(brks);
    return rc;
}

void kk_lines_release(struct kk_lines *l)
{
    if (!l)
        return;
    kk_free(l->v);
    l->v = NULL;
    l->n = 0;
    l->alloc = 0;
}
