/* The kiosk's drawing model. Scenes never call SDL to draw: they fill a display list
 * (struct ui_list) with rectangles, text lines, images and touch targets, in screen
 * pixels. ui_draw renders a list; hit-testing and the automation channel read the same
 * list's targets, so what is drawn, what is tapped and what tests see cannot disagree. */
#ifndef UI_H
#define UI_H

#include <stddef.h>
#include <stdint.h>

#include "kepu/pack.h"

struct ui_rect {
    int x, y, w, h;
};

struct ui_color {
    uint8_t r, g, b, a;
};

enum ui_item_kind { UI_RECT, UI_TEXT, UI_IMAGE, UI_RING, UI_CIRCLE };

enum ui_font { UI_FONT_REGULAR, UI_FONT_BOLD };

/* UI_CIRCLE is the outline of the circle inscribed in r (a hotspot question's region). */
struct ui_item {
    enum ui_item_kind kind;
    struct ui_rect r;
    struct ui_color color;
    int radius;                   /* UI_RECT: corner radius; UI_RING, UI_CIRCLE: line width */
    const char *text;             /* UI_TEXT: one line, not NUL-terminated; points into text_pool */
    size_t len;                   /* UI_TEXT: bytes */
    int px;                       /* UI_TEXT: font pixel size */
    enum ui_font font;            /* UI_TEXT */
    const struct kk_image *image; /* UI_IMAGE: drawn to fit inside r, centred */
    int slide;                    /* part of the page content that slides on a page turn */
    int icon;                     /* UI_IMAGE: the app's own icon (assets/), not a pack's picture */
    struct ui_rect clip;          /* UI_IMAGE: when clip.w > 0, only this part of r is drawn */
};

/* A touch target: tapping inside rect activates id. */
struct ui_target {
    char id[96];
    struct ui_rect r;
    char label[160]; /* what it says, for automation and logs */
};

struct ui_list {
    struct ui_item *items;
    size_t n, alloc;
    struct ui_target *targets;
    size_t ntargets, talloc;
    char *text_pool; /* copies of every text the list shows */
    size_t pool_len, pool_alloc;
    char overflow[512];  /* comma-separated ids of texts that did not fit, "" if none */
    char shortened[512]; /* ids of teasers (card summaries) shortened by design */
};

void ui_list_init(struct ui_list *l);
void ui_list_release(struct ui_list *l);
void ui_list_clear(struct ui_list *l);
/* Appends; returns NULL when out of memory (the list stays consistent). */
struct ui_item *ui_list_push(struct ui_list *l, enum ui_item_kind kind, struct ui_rect r);
/* Copies text[0..len) into the pool and appends a text item with its top-left at (x, y). */
struct ui_item *ui_list_text(struct ui_list *l, int x, int y, int w, int h, const char *text,
                             size_t len, int px, enum ui_font font, struct ui_color c);
struct ui_target *ui_list_target(struct ui_list *l, struct ui_rect r, const char *id,
                                 const char *label);
void ui_list_note_overflow(struct ui_list *l, const char *id);
void ui_list_note_shortened(struct ui_list *l, const char *id);
/* The topmost target containing (x, y), or NULL. */
const struct ui_target *ui_list_hit(const struct ui_list *l, int x, int y);

int ui_rect_contains(struct ui_rect r, int x, int y);

/* The look in use: colours and sizes. They start as the built-in look (ui_list.c) and a
 * theme from assets/ (ui_theme.h) replaces them once at start, before anything is drawn. */
struct ui_palette {
    struct ui_color bg, ink, ink_soft, primary, primary_dark, on_primary, card, line, fact, accent,
        good, bad, shade, top_bar, good_soft, bad_soft, selected_soft;
};
struct ui_sizes {          /* design px at the 1920x1080 reference */
    int top_bar;           /* the bar with back, home, language, large text */
    int min_target;        /* the smallest touch target */
    int min_target_floor;  /* screen px a target never shrinks below (a fingertip) */
    int button_radius;     /* a button's corners */
    int button_ring;       /* a secondary button's outline */
    int button_text;       /* a button's label */
    int button_text_large; /* the same in large-text mode */
};
extern struct ui_palette ui_palette;
extern struct ui_sizes ui_sizes;
extern const struct ui_palette ui_palette_builtin;
extern const struct ui_sizes ui_sizes_builtin;

#define UI_BG            (ui_palette.bg)
#define UI_INK           (ui_palette.ink)
#define UI_INK_SOFT      (ui_palette.ink_soft)
#define UI_PRIMARY       (ui_palette.primary)
#define UI_PRIMARY_DARK  (ui_palette.primary_dark)
#define UI_ON_PRIMARY    (ui_palette.on_primary)
#define UI_CARD          (ui_palette.card)
#define UI_LINE          (ui_palette.line)
#define UI_FACT          (ui_palette.fact)
#define UI_ACCENT        (ui_palette.accent)
#define UI_GOOD          (ui_palette.good)
#define UI_BAD           (ui_palette.bad)
#define UI_SHADE         (ui_palette.shade)
#define UI_TOP_BAR       (ui_palette.top_bar)
#define UI_GOOD_SOFT     (ui_palette.good_soft)
#define UI_BAD_SOFT      (ui_palette.bad_soft)
#define UI_SELECTED_SOFT (ui_palette.selected_soft)

#endif
