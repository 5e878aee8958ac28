/* The UI context: what a scene measures text and asks for pictures through, and the
 * common widgets built on it (microui's text_width callback is the model). There is no
 * SDL here: the host fills the callbacks with SDL_ttf and the image cache, tests fill
 * them with fake metrics, so a scene's logic runs without a window or SDL_Init. */
#ifndef UI_CTX_H
#define UI_CTX_H

#include "kepu/pack.h"
#include "ui.h"
#include "ui_layout.h"

/* The app's own icons (assets/icons, named by the theme). */
enum ui_icon { UI_ICON_CONTENT_UPDATING, UI_ICON_COUNT };

struct ui_ctx {
    /* Text width and line height; measure.ctx is passed to every callback here. */
    struct ui_measure measure;
    /* True when the font has a glyph for every code point of utf8. */
    int (*covers)(void *ctx, const char *utf8);
    /* Optional: render what l shows into the caches now, so showing it later is fast. */
    void (*warm)(void *ctx, const struct ui_list *l);
    int w, h;          /* the screen, in pixels */
    double scale;      /* 1.0 = the 1920x1080 (or 1080x1920) reference design */
    enum kk_lang lang; /* the language widgets break lines for */
    int large_text;
    int high_contrast_offered; /* a high-contrast theme is loaded: the top bar offers it */
    char pressed[96];          /* the target under a finger now, drawn pressed ("" for none) */
    const struct kk_image *icons[UI_ICON_COUNT]; /* NULL: the scene draws its built-in one */
};

/* Where the controls go on a screen with the reach setting (kiosk.conf reach): the rows
 * of a screen h_px tall whose bottom edge is mount_mm above the floor and whose visible
 * height is screen_mm (0: 0.5 mm a pixel) that lie between 380 and 1220 mm above the
 * floor. *top is the first row, *rows how many (the whole screen when it all lies within
 * the band; 0 when none of it does). */
void ui_reach_band(int h_px, int mount_mm, int screen_mm, int *top, int *rows);

/* Sizes in screen pixels for design pixels at the reference resolution (never 0). */
int ui_px(const struct ui_ctx *u, int design_px);
/* The smallest touch target: 96 design pixels, never below 72 screen pixels. */
int ui_min_target(const struct ui_ctx *u);
/* The width of the whole string text at px in font. */
int ui_width(const struct ui_ctx *u, enum ui_font font, int px, const char *text);
/* The distance between baselines at px in font. */
int ui_line_h(const struct ui_ctx *u, enum ui_font font, int px);
/* True when every code point of utf8 can be drawn (always true without a covers callback). */
int ui_covers(const struct ui_ctx *u, const char *utf8);
/* Warms the caches for l when the host can (the reader's next screen). */
void ui_warm(const struct ui_ctx *u, const struct ui_list *l);

/* The theme's picture for icon, or NULL when the scene should draw its built-in one. */
const struct kk_image *ui_icon(const struct ui_ctx *u, enum ui_icon icon);

/* The size a picture gets when fitted inside box_w x box_h with its aspect ratio kept
 * (pictures without dimensions count as 4:3). */
void ui_fit(const struct kk_image *img, int box_w, int box_h, int *w, int *h);

/* A text label wrapped into at most max_lines lines of width w at (x, y); a cut is noted
 * in l's overflow list. Returns the height used. */
int ui_label(const struct ui_ctx *u, struct ui_list *l, const char *id, const char *text,
             enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines,
             int center);
/* The same for a teaser (a card's summary): shortening it is by design, so a cut is noted
 * in l's shortened list, not as overflow. */
int ui_teaser(const struct ui_ctx *u, struct ui_list *l, const char *id, const char *text,
              enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines);
/* The height text takes when wrapped into w (at most max_lines lines). */
int ui_label_height(const struct ui_ctx *u, const char *text, enum ui_font font, int px, int w,
                    int max_lines);

/* The pixel size of a button's label. */
int ui_button_px(const struct ui_ctx *u);
/* A button: its background (primary: filled), its label (as many lines as its height
 * holds, up to UI_BUTTON_LINES) and its touch target id. */
#define UI_BUTTON_LINES 3
void ui_button(const struct ui_ctx *u, struct ui_list *l, struct ui_rect r, const char *id,
               const char *label, int primary);

#endif
