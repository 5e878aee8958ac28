/* Fonts and rendered text. The UI font (Noto Sans CJK SC by default) is found through
 * fontconfig; KEPU_FONT=/path/to/font.ttc overrides it. Rendered lines are cached as
 * textures under a byte budget with least-recently-used eviction, so a frame never
 * rasterises text that was drawn before. */
#ifndef UI_TEXT_H
#define UI_TEXT_H

#include <SDL.h>
#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "ui.h"

struct ui_text;

/* Finds and opens the fonts. Errors: KK_ERR_NOTFOUND when no font with CJK glyphs is
 * found (err names what was looked for), KK_ERR_IO when it cannot be opened. Free with
 * ui_text_destroy. TTF_Init must have been called. */
enum kk_err ui_text_create(struct ui_text **out, struct kk_buf *err);
void ui_text_destroy(struct ui_text *t);

/* The file of the regular face, for logs. */
const char *ui_text_font_path(const struct ui_text *t);

/* Width in pixels of utf8[0..len) at px in font. */
int ui_text_measure(struct ui_text *t, enum ui_font font, int px, const char *utf8, size_t len);
/* Distance between baselines of consecutive lines at px. */
int ui_text_line_height(struct ui_text *t, enum ui_font font, int px);
/* True when the regular face has a glyph for every code point of utf8. */
int ui_text_covers(struct ui_text *t, const char *utf8);

/* A texture of one line, from the cache or rendered now. The texture belongs to the
 * cache and stays valid until the next ui_text_texture call. NULL on failure. */
SDL_Texture *ui_text_texture(struct ui_text *t, SDL_Renderer *r, enum ui_font font, int px,
                             struct ui_color c, const char *utf8, size_t len, int *w, int *h);

/* Renders to a surface without the cache (for tests); free with SDL_FreeSurface. */
SDL_Surface *ui_text_surface(struct ui_text *t, enum ui_font font, int px, struct ui_color c,
                             const char *utf8, size_t len);

/* Cache inspection and control. */
struct ui_text_stats {
    size_t entries, bytes, hits, misses, evictions;
    size_t faces, opens, resizes; /* fonts open now; files opened, sizes changed since start */
};
void ui_text_stats(const struct ui_text *t, struct ui_text_stats *out);
void ui_text_cache_drop(struct ui_text *t);

#endif
