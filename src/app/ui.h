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

enum ui_item_kind { UI_RECT, UI_TEXT, UI_IMAGE, UI_RING };

enum ui_font { UI_FONT_REGULAR, UI_FONT_BOLD };

struct ui_item {
    enum ui_item_kind kind;
    struct ui_rect r;
    struct ui_color color;
    int radius;                   /* UI_RECT: corner radius; UI_RING: line width */
    const char *text;             /* UI_TEXT: one line, not NUL-terminated; points into text_pool */
    size_t len;                   /* UI_TEXT: bytes */
    int px;                       /* UI_TEXT: font pixel size */
    enum ui_font font;            /* UI_TEXT */
    const struct kk_image *image; /* UI_IMAGE: drawn to fit inside r, centred */
    int slide;                    /* part of the page content that slides on a page turn */
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

/* Palette: calm, high-contrast colours readable from two metres. */
#define UI_BG           ((struct ui_color){246, 243, 236, 255})
#define UI_INK          ((struct ui_color){33, 37, 41, 255})
#define UI_INK_SOFT     ((struct ui_color){88, 96, 105, 255})
#define UI_PRIMARY      ((struct ui_color){0, 99, 166, 255})
#define UI_PRIMARY_DARK ((struct ui_color){0, 70, 120, 255})
#define UI_ON_PRIMARY   ((struct ui_color){255, 255, 255, 255})
#define UI_CARD         ((struct ui_color){255, 255, 255, 255})
#define UI_LINE         ((struct ui_color){214, 208, 196, 255})
#define UI_FACT         ((struct ui_color){255, 240, 200, 255})
#define UI_ACCENT       ((struct ui_color){214, 110, 20, 255})
#define UI_GOOD         ((struct ui_color){36, 138, 61, 255})
#define UI_BAD          ((struct ui_color){196, 50, 40, 255})
#define UI_SHADE        ((struct ui_color){0, 0, 0, 150})

#endif
