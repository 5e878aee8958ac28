/* Draws a display list with SDL. The only module besides app.c that calls SDL's renderer. */
#ifndef UI_DRAW_H
#define UI_DRAW_H

#include <SDL.h>

#include "ui.h"
#include "ui_image.h"
#include "ui_text.h"

enum ui_draw_part { UI_DRAW_ALL, UI_DRAW_FIXED, UI_DRAW_SLIDING };

/* Draws the items of l that belong to part, the sliding ones moved by dx pixels. */
void ui_draw_list(SDL_Renderer *r, struct ui_text *text, struct ui_images *images,
                  const struct ui_list *l, enum ui_draw_part part, int dx);

/* Renders what l needs into the caches without drawing, so showing it later costs no
 * rasterising (the reader prepares the next page this way). */
void ui_draw_warm(SDL_Renderer *r, struct ui_text *text, struct ui_images *images,
                  const struct ui_list *l);

/* Fills a rectangle with rounded corners of radius rad. */
void ui_draw_round_rect(SDL_Renderer *r, struct ui_rect rc, int rad, struct ui_color c);

#endif
