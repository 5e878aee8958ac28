#include "ui_image.h"

#include "ui_ctx.h"

#include <SDL_image.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/log.h"

struct img_entry {
    char *path;
    int w, h;         /* size rasterised at (SVG) or native size (raster) */
    SDL_Texture *tex; /* NULL: the file failed */
    size_t bytes;
    unsigned long used;
};

struct ui_images {
    SDL_Renderer *r;
    struct img_entry *v;
    size_t n, alloc;
    size_t bytes;
    unsigned long tick;
    size_t hits, misses;
};

struct ui_images *ui_images_create(SDL_Renderer *r)
{
    struct ui_images *c = kk_calloc(1, sizeof(*c));
    if (c)
        c->r = r;
    return c;
}

static void entry_drop(struct ui_images *c, size_t i)
{
    struct img_entry *e = &c->v[i];
    if (e->tex)
        SDL_DestroyTexture(e->tex);
    kk_free(e->path);
    c->bytes -= e->bytes;
    c->v[i] = c->v[--c->n];
}

void ui_images_drop(struct ui_images *c)
{
    while (c->n)
        entry_drop(c, c->n - 1);
}

void ui_images_destroy(struct ui_images *c)
{
    if (!c)
        return;
    ui_images_drop(c);
    kk_free(c->v);
    kk_free(c);
}

SDL_Surface *ui_image_decode(const struct kk_image *img, int w, int h, struct kk_buf *err)
{
    struct kk_buf data = KK_BUF_INIT;
    SDL_Surface *surf = NULL;
    if (kk_file_read(img->path, KK_MAX_IMAGE_FILE_BYTES, &data, err))
        goto done;
    /* The header is checked again at decode time: the file may have changed since the
     * pack was loaded, and the decoder must never see a size it would choke on. */
    struct kk_image probe = {0};
    struct kk_buf why = KK_BUF_INIT;
    if (kk_image_probe_mem(data.data, data.len, img->type, &probe, &why)) {
        kk_fail(err, KK_ERR_INVALID, "%s: %s", img->src, kk_buf_str(&why));
        kk_buf_release(&why);
        goto done;
    }
    SDL_RWops *rw = SDL_RWFromConstMem(data.data, (int)data.len);
    if (!rw) {
        kk_fail(err, KK_ERR_NOMEM, "%s: %s", img->src, SDL_GetError());
        goto done;
    }
    switch (img->type) {
    case KK_IMG_PNG:
        surf = IMG_LoadPNG_RW(rw);
        break;
    case KK_IMG_JPEG:
        surf = IMG_LoadJPG_RW(rw);
        break;
    case KK_IMG_SVG:
        surf = IMG_LoadSizedSVG_RW(rw, w, h);
        break;
    }
    SDL_RWclose(rw);
    if (!surf)
        kk_fail(err, KK_ERR_PARSE, "%s: cannot decode: %s", img->src, IMG_GetError());
    else if (surf->w > KK_MAX_IMAGE_DIM || surf->h > KK_MAX_IMAGE_DIM) {
        kk_fail(err, KK_ERR_TOOBIG, "%s: decodes to %dx%d pixels", img->src, surf->w, surf->h);
        SDL_FreeSurface(surf);
        surf = NULL;
    }
done:
    kk_buf_release(&data);
    return surf;
}

static void evict_to(struct ui_images *c, size_t budget)
{
    while (c->bytes > budget && c->n) {
        size_t oldest = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->v[i].used < c->v[oldest].used)
                oldest = i;
        entry_drop(c, oldest);
    }
}

SDL_Texture *ui_images_get(struct ui_images *c, const struct kk_image *img, int box_w, int box_h,
                           int *w, int *h)
{
    ui_fit(img, box_w, box_h, w, h);
    /* Rasters are decoded once at their own size and scaled by the renderer; SVG is
     * rasterised at the size it is shown. */
    int kw = img->type == KK_IMG_SVG ? *w : 0, kh = img->type == KK_IMG_SVG ? *h : 0;
    c->tick++;
    for (size_t i = 0; i < c->n; i++) {
        struct img_entry *e = &c->v[i];
        if (!strcmp(e->path, img->path) && (!e->tex || (e->w == kw && e->h == kh) || !kw)) {
            e->used = c->tick;
            c->hits++;
            return e->tex;
        }
    }
    c->misses++;
    struct kk_buf err = KK_BUF_INIT;
    SDL_Surface *surf = ui_image_decode(img, *w, *h, &err);
    SDL_Texture *tex = NULL;
    if (surf) {
        tex = SDL_CreateTextureFromSurface(c->r, surf);
        if (!tex)
            kk_buf_addf(&err, "%s: cannot make a texture: %s", img->src, SDL_GetError());
        else
            SDL_SetTextureScaleMode(tex, SDL_ScaleModeLinear);
    }
    if (!tex)
        kk_error("image", "%s", kk_buf_str(&err));
    kk_buf_release(&err);
    size_t bytes = surf ? (size_t)surf->w * (size_t)surf->h * 4 : 0;
    if (surf)
        SDL_FreeSurface(surf);
    evict_to(c, KK_IMAGE_CACHE_BYTES > bytes ? KK_IMAGE_CACHE_BYTES - bytes : 0);
    if (kk_grow((void **)&c->v, &c->alloc, c->n, sizeof(*c->v)))
        goto fail;
    char *path = kk_strdup(img->path);
    if (!path)
        goto fail;
    c->v[c->n++] = (struct img_entry){path, kw, kh, tex, tex ? bytes : 0, c->tick};
    c->bytes += tex ? bytes : 0;
    return tex;
fail:
    if (tex)
        SDL_DestroyTexture(tex);
    return NULL;
}

void ui_images_stats(const struct ui_images *c, struct ui_images_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->entries = c->n;
    out->bytes = c->bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    for (size_t i = 0; i < c->n; i++)
        out->failed += c->v[i].tex == NULL;
}
