/* Line wrapping for the kiosk's text, independent of any renderer. Break opportunities
 * come from libunibreak (UAX #14), so Chinese breaks between characters while no line
 * starts with ，。、！？；：）」』 or ends with （「『, and English breaks at spaces. The
 * caller supplies a function that measures the pixel width of a run of UTF-8. */
#ifndef KEPU_WRAP_H
#define KEPU_WRAP_H

#include <stddef.h>

#include "kepu/error.h"
#include "kepu/pack.h"
#include "kepu/utf8.h"

/* Width in pixels of utf8[0..len) as it would be drawn on one line. */
typedef int (*kk_measure_fn)(void *ctx, const char *utf8, size_t len);

struct kk_line {
    size_t start; /* byte offset into the wrapped text */
    size_t len;   /* bytes, without the trailing spaces and newline */
    int width;    /* measured width of those bytes */
};

struct kk_lines {
    struct kk_line *v;
    size_t n, alloc;
};

/* Breaks utf8 into lines no wider than max_width (a "\n" always breaks). A word wider
 * than max_width on its own is split between characters. Appends to out; free with
 * kk_lines_release. Empty text gives no lines; a "\n" ends the line before it, so "a\n"
 * is one line and "\n" one empty line. Errors: KK_ERR_PARSE for invalid UTF-8,
 * KK_ERR_NOMEM (out may then hold some of the lines). */
enum kk_err kk_wrap(const char *utf8, enum kk_lang lang, int max_width, kk_measure_fn measure,
                    void *ctx, struct kk_lines *out);
void kk_lines_release(struct kk_lines *l);

#endif
