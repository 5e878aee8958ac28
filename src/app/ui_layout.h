/* Page layout for the reader, with no SDL: a content page (title, text, pictures with
 * captions, fact boxes) is wrapped and placed into one or more screens that each fit a
 * box. Text never gets cut: what does not fit flows on to the next screen. Landscape
 * boxes put pictures in a right-hand column beside the text; portrait boxes stack them.
 * Fonts are measured through a callback so tests can lay out with fake metrics. */
#ifndef UI_LAYOUT_H
#define UI_LAYOUT_H

#include "kepu/error.h"
#include "kepu/pack.h"
#include "ui.h"

struct ui_measure {
    int (*width)(void *ctx, enum ui_font font, int px, const char *s, size_t len);
    int (*line_height)(void *ctx, enum ui_font font, int px);
    void *ctx;
};

struct ui_page_style {
    int title_px, body_px, fact_px, caption_px;
    int gap;     /* space between blocks */
    int padding; /* inside a fact box */
};

/* Screen-pixel sizes for a scale factor (1.0 = the 1920x1080 reference) and text size. */
void ui_page_style_for(struct ui_page_style *st, double scale, int large_text);

/* Where an interactive block (hotspots, compare, sequence, steps) goes: the layout keeps
 * a rectangle of one screen for it, and the reader fills it at each build with what the
 * block's state shows (ui_blocks.h). A block never spans screens: it gets the rest of the
 * screen it starts on when that is most of a screen, or (landscape, short words before it)
 * the screen right of the words' column, or a screen of its own. */
struct ui_block_slot {
    size_t screen; /* index into ui_screens.v */
    size_t block;  /* index into the page's blocks */
    struct ui_rect r;
};

/* The screens of one page. Items are placed relative to the box's top-left corner. */
struct ui_screens {
    struct ui_list *v;
    size_t n;
    struct ui_block_slot *slots;
    size_t nslots;
};

/* A block slot is at least this share of the box's height (per cent). */
#define UI_BLOCK_MIN_SHARE 70

/* Lays page out into box_w x box_h. Errors: KK_ERR_NOMEM, KK_ERR_PARSE (invalid UTF-8).
 * Free with ui_screens_release. */
enum kk_err ui_layout_page(const struct kk_page *page, enum kk_lang lang,
                           const struct ui_measure *m, const struct ui_page_style *st, int box_w,
                           int box_h, struct ui_screens *out);
void ui_screens_release(struct ui_screens *s);

/* How a label that does not fit is reported. */
enum ui_cut {
    UI_CUT_OVERFLOW, /* a defect: noted in l's overflow list */
    UI_CUT_TEASER,   /* by design (a card's summary): noted in l's shortened list */
};

/* Wraps a short label (a button, a card title) into at most max_lines lines of width w
 * and appends them to l at (x, y), centred when center is set. When the text is longer,
 * the last line ends with "…" and id is noted in l's overflow or shortened list (as cut
 * says), so a cut never goes unreported. Returns the height used. */
int ui_layout_label(struct ui_list *l, const struct ui_measure *m, const char *id, const char *text,
                    enum kk_lang lang, enum ui_font font, int px, struct ui_color c, int x, int y,
                    int w, int max_lines, int center, enum ui_cut cut);

#endif
