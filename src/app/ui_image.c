#include "ui_image.h"

#include "ui_ctx.h"

#include <SDL_image.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "kepu/imgprobe.h"
#include "kepu/limits.h"
#include "kepu/log.h"

enum img_state { IMG_PENDING, IMG_READY, IMG_FAILED };

struct img_entry {
    char *path;
    int w, h; /* size rasterised at (SVG) or native size (raster) */
    enum img_state state;
    SDL_Texture *tex; /* READY */
    size_t bytes;
    unsigned long used;
    unsigned job; /* PENDING: the decode that fills it */
};

/* One decode for the worker. It owns copies of what it needs: the entry it was made for
 * may be evicted before it ends (its result is then dropped). */
struct job {
    unsigned id;
    struct kk_image img; /* src and path are owned copies */
    int w, h;
    SDL_Surface *surf; /* the result, or NULL with err */
    struct kk_buf err;
    uint64_t ms; /* how long decoding took */
    struct job *next;
};

/* The decoder thread and what it shares with the UI thread, under lock. Apart from the
 * cache: a quitting app does not wait for a decode under way (one picture may take
 * minutes), and the thread frees this when it ends. */
struct decoder {
    SDL_mutex *lock;
    SDL_cond *cond;
    struct job *todo, *todo_tail, *done;
    int busy, quit;
    Uint32 wake; /* pushed when a decode ends, so the loop draws it */
};

struct ui_images {
    SDL_Renderer *r;
    struct img_entry *v;
    size_t n, alloc;
    size_t bytes;
    unsigned long tick;
    size_t hits, misses;
    unsigned next_job;
    int started;       /* decodes queued since the last ui_images_settle */
    struct decoder *d; /* NULL: decoding on the UI thread */
    Uint32 wake;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    kk_free(j->img.src);
    kk_free(j->img.path);
    if (j->surf)
        SDL_FreeSurface(j->surf);
    kk_buf_release(&j->err);
    kk_free(j);
}

static void jobs_free(struct job *j)
{
    for (struct job *n; j; j = n) {
        n = j->next;
        job_free(j);
    }
}

static void decoder_free(struct decoder *d)
{
    jobs_free(d->todo);
    jobs_free(d->done);
    SDL_DestroyCond(d->cond);
    SDL_DestroyMutex(d->lock);
    kk_free(d);
}

static int decoder_run(void *arg)
{
    struct decoder *d = arg;
    SDL_LockMutex(d->lock);
    while (!d->quit) {
        struct job *j = d->todo;
        if (!j) {
            SDL_CondWait(d->cond, d->lock);
            continue;
        }
        d->todo = j->next;
        if (!d->todo)
            d->todo_tail = NULL;
        d->busy = 1;
        SDL_UnlockMutex(d->lock);
        Uint64 t0 = SDL_GetTicks64();
        j->surf = ui_image_decode(&j->img, j->w, j->h, &j->err);
        j->ms = SDL_GetTicks64() - t0;
        SDL_LockMutex(d->lock);
        d->busy = 0;
        j->next = d->done;
        d->done = j;
        SDL_CondBroadcast(d->cond);
        if (!d->quit) {
            SDL_Event e = {.type = d->wake};
            SDL_PushEvent(&e);
        }
    }
    SDL_UnlockMutex(d->lock);
    decoder_free(d);
    return 0;
}

static struct decoder *decoder_start(Uint32 wake)
{
    struct decoder *d = kk_calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->wake = wake;
    d->lock = SDL_CreateMutex();
    d->cond = SDL_CreateCond();
    SDL_Thread *t = d->lock && d->cond ? SDL_CreateThread(decoder_run, "images", d) : NULL;
    if (!t) {
        decoder_free(d);
        return NULL;
    }
    SDL_DetachThread(t); /* it frees d when told to quit */
    return d;
}

/* Tells the thread to end; it frees d once the decode under way (if any) is over. */
static void decoder_stop(struct decoder *d)
{
    SDL_LockMutex(d->lock);
    d->quit = 1;
    SDL_CondBroadcast(d->cond);
    SDL_UnlockMutex(d->lock);
}

struct ui_images *ui_images_create(SDL_Renderer *r)
{
    struct ui_images *c = kk_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->r = r;
    c->wake = SDL_RegisterEvents(1);
    c->d = decoder_start(c->wake);
    if (!c->d) /* pictures are then decoded on the UI thread, as before */
        kk_warn("image", "no decoder thread (%s): pictures are decoded as they are drawn",
                SDL_GetError());
    return c;
}

Uint32 ui_images_wake_event(const struct ui_images *c)
{
    return c->wake;
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
    if (c->d)
        decoder_stop(c->d);
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

/* A decoded surface becomes entry e's texture, or e is marked failed (logged once). */
static void fill(struct ui_images *c, struct img_entry *e, const struct kk_image *img,
                 SDL_Surface *surf, struct kk_buf *err, uint64_t ms)
{
    SDL_Texture *tex = NULL;
    int late = surf && ms > KK_IMAGE_DECODE_BUDGET_MS;
    size_t bytes = surf && !late ? (size_t)surf->w * (size_t)surf->h * 4 : 0;
    /* Make room first, never evicting the entry being filled, so the cache is never over
     * its budget by the new texture (nor by that and the surface it is copied from). */
    e->used = ~0ul;
    evict_to(c, KK_IMAGE_CACHE_BYTES > bytes ? KK_IMAGE_CACHE_BYTES - bytes : 0);
    size_t keep = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].used == ~0ul)
            keep = i;
    e = &c->v[keep];
    if (late) {
        kk_buf_addf(err, "%s: decoding took %llu ms, over the %d ms a picture may take", img->src,
                    (unsigned long long)ms, KK_IMAGE_DECODE_BUDGET_MS);
    } else if (surf) {
        tex = SDL_CreateTextureFromSurface(c->r, surf);
        if (!tex)
            kk_buf_addf(err, "%s: cannot make a texture: %s", img->src, SDL_GetError());
        else
            SDL_SetTextureScaleMode(tex, SDL_ScaleModeLinear);
    }
    if (!tex) {
        kk_error("image", "%s", kk_buf_str(err));
        bytes = 0;
    }
    e->job = 0;
    e->state = tex ? IMG_READY : IMG_FAILED;
    e->tex = tex;
    c->v[keep].used = c->tick;
    c->v[keep].bytes = bytes;
    c->bytes += bytes;
}

/* Takes the ended decodes into their entries; 1 if there were any. */
static int collect(struct ui_images *c)
{
    if (!c->d)
        return 0;
    SDL_LockMutex(c->d->lock);
    struct job *done = c->d->done;
    c->d->done = NULL;
    SDL_UnlockMutex(c->d->lock);
    int any = done != NULL;
    for (struct job *j = done, *n; j; j = n) {
        n = j->next;
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i].state == IMG_PENDING && c->v[i].job == j->id) {
                fill(c, &c->v[i], &j->img, j->surf, &j->err, j->ms);
                break;
            }
        job_free(j);
    }
    return any;
}

/* Queues the decode of img at w x h for entry e; on the UI thread when there is no
 * decoder thread or no memory for the job. */
static void start_decode(struct ui_images *c, struct img_entry *e, const struct kk_image *img,
                         int w, int h)
{
    struct job *j = c->d ? kk_calloc(1, sizeof(*j)) : NULL;
    if (j) {
        j->img = *img;
        j->img.src = kk_strdup(img->src);
        j->img.path = kk_strdup(img->path);
        j->w = w;
        j->h = h;
        j->err = (struct kk_buf)KK_BUF_INIT;
    }
    if (!j || !j->img.src || !j->img.path) {
        job_free(j);
        struct kk_buf err = KK_BUF_INIT;
        Uint64 t0 = SDL_GetTicks64();
        SDL_Surface *surf = ui_image_decode(img, w, h, &err);
        fill(c, e, img, surf, &err, SDL_GetTicks64() - t0);
        if (surf)
            SDL_FreeSurface(surf);
        kk_buf_release(&err);
        return;
    }
    if (++c->next_job == 0) /* 0 is "no job" */
        c->next_job = 1;
    j->id = e->job = c->next_job;
    struct decoder *d = c->d;
    c->started = 1;
    SDL_LockMutex(d->lock);
    if (d->todo_tail)
        d->todo_tail->next = j;
    else
        d->todo = j;
    d->todo_tail = j;
    SDL_CondSignal(d->cond);
    SDL_UnlockMutex(d->lock);
}

SDL_Texture *ui_images_get(struct ui_images *c, const struct kk_image *img, int box_w, int box_h,
                           int *w, int *h)
{
    ui_fit(img, box_w, box_h, w, h);
    /* Rasters are decoded once at their own size and scaled by the renderer; SVG is
     * rasterised at the size it is shown. */
    int kw = img->type == KK_IMG_SVG ? *w : 0, kh = img->type == KK_IMG_SVG ? *h : 0;
    c->tick++;
    collect(c);
    for (size_t i = 0; i < c->n; i++) {
        struct img_entry *e = &c->v[i];
        if (!strcmp(e->path, img->path) &&
            (e->state == IMG_FAILED || (e->w == kw && e->h == kh) || !kw)) {
            e->used = c->tick;
            c->hits++;
            return e->tex;
        }
    }
    c->misses++;
    if (kk_grow((void **)&c->v, &c->alloc, c->n, sizeof(*c->v)))
        return NULL;
    char *path = kk_strdup(img->path);
    if (!path)
        return NULL;
    struct img_entry *e = &c->v[c->n++];
    *e = (struct img_entry){path, kw, kh, IMG_PENDING, NULL, 0, c->tick, 0};
    start_decode(c, e, img, *w, *h);
    for (size_t i = 0; i < c->n; i++) /* the entry may have moved (eviction) */
        if (c->v[i].path == path)
            return c->v[i].tex;
    return NULL;
}

int ui_images_settle(struct ui_images *c, int max_ms, int all)
{
    struct decoder *d = c->d;
    if (!d)
        return 0;
    if (!all && !c->started) /* what is queued is for later screens (warming): no wait */
        return collect(c);
    c->started = 0;
    Uint64 end = SDL_GetTicks64() + (Uint64)max_ms;
    SDL_LockMutex(d->lock);
    while ((d->todo || d->busy) && SDL_GetTicks64() < end)
        SDL_CondWaitTimeout(d->cond, d->lock, (Uint32)(end - SDL_GetTicks64()) + 1);
    SDL_UnlockMutex(d->lock);
    return collect(c);
}

void ui_images_stats(const struct ui_images *c, struct ui_images_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->entries = c->n;
    out->bytes = c->bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    for (size_t i = 0; i < c->n; i++) {
        out->failed += c->v[i].state == IMG_FAILED;
        out->pending += c->v[i].state == IMG_PENDING;
    }
}
