/* Pictures from packs, as textures. Each file is read into a capped buffer, its magic
 * bytes and declared dimensions are checked again, and only then is it decoded by its own
 * type's loader (IMG_LoadPNG_RW, IMG_LoadJPG_RW, IMG_LoadSizedSVG_RW): never a loader that
 * guesses the type. SVG is rasterised at the size it is shown. Decoding runs on a thread
 * of its own, so a slow picture never stops the screen: until it is ready a neutral
 * placeholder is drawn, and one whose decoding took longer than KK_IMAGE_DECODE_BUDGET_MS
 * is not shown at all. Textures are cached under a byte budget with least-recently-used
 * eviction; a file that failed is remembered and logged once, and drawn as the
 * placeholder. */
#ifndef UI_IMAGE_H
#define UI_IMAGE_H

#include <SDL.h>

#include "kepu/pack.h"

struct ui_images;

struct ui_images *ui_images_create(SDL_Renderer *r);
void ui_images_destroy(struct ui_images *c);

/* The texture of img fitted inside box_w x box_h (aspect ratio kept); *w, *h get the
 * fitted size. NULL while it is being decoded (the first call starts that) or when it
 * cannot be shown (logged once). The texture belongs to the cache and stays valid until
 * the next call. */
SDL_Texture *ui_images_get(struct ui_images *c, const struct kk_image *img, int box_w, int box_h,
                           int *w, int *h);

/* (The size img gets when fitted into a box is ui_fit, ui_ctx.h.) */

/* The SDL event type pushed when a decode ends: the loop draws again on it. */
Uint32 ui_images_wake_event(const struct ui_images *c);
/* Waits up to max_ms for the queued decodes to end and takes in those that did; 1 if any
 * did. all: every queued decode (screenshots, so they show finished screens); else only
 * when a decode was queued since the last call (a frame waits for its own pictures, not
 * for the next screen's being warmed). */
int ui_images_settle(struct ui_images *c, int max_ms, int all);

struct ui_images_stats {
    size_t entries, bytes, failed, pending, hits, misses;
};
void ui_images_stats(const struct ui_images *c, struct ui_images_stats *out);
void ui_images_drop(struct ui_images *c);

/* Decodes one file as the cache does, without a renderer (for tests and kepu-pack check).
 * Returns a surface to free with SDL_FreeSurface, or NULL with a reason in err. */
SDL_Surface *ui_image_decode(const struct kk_image *img, int w, int h, struct kk_buf *err);

#endif
