#include "ui_draw.h"

#include <math.h>

#include "kepu/log.h"

#define CORNER_STEPS 8

void ui_draw_round_rect(SDL_Renderer *r, struct ui_rect rc, int rad, struct ui_color c)
{
    if (rc.w <= 0 || rc.h <= 0)
        return;
    if (rad * 2 > rc.w)
        rad = rc.w / 2;
    if (rad * 2 > rc.h)
        rad = rc.h / 2;
    SDL_SetRenderDrawBlendMode(r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    if (rad <= 1) {
        SDL_RenderFillRect(r, &(SDL_Rect){rc.x, rc.y, rc.w, rc.h});
        return;
    }
    /* The body as rectangles, the four corners as triangle fans. */
    SDL_RenderFillRect(r, &(SDL_Rect){rc.x + rad, rc.y, rc.w - 2 * rad, rc.h});
    /* The side strips reach one pixel into the corners' rows: the rasteriser leaves out
     * the fans' bottom edges, which would show as a hairline gap. */
    SDL_RenderFillRect(r, &(SDL_Rect){rc.x, rc.y + rad - 1, rad, rc.h - 2 * rad + 2});
    SDL_RenderFillRect(r, &(SDL_Rect){rc.x + rc.w - rad, rc.y + rad - 1, rad, rc.h - 2 * rad + 2});
    SDL_Vertex v[4 * CORNER_STEPS * 3];
    int n = 0;
    const float cx[4] = {(float)(rc.x + rad), (float)(rc.x + rc.w - rad),
                         (float)(rc.x + rc.w - rad), (float)(rc.x + rad)};
    const float cy[4] = {(float)(rc.y + rad), (float)(rc.y + rad), (float)(rc.y + rc.h - rad),
                         (float)(rc.y + rc.h - rad)};
    const float start[4] = {(float)M_PI, (float)(M_PI * 1.5), 0.0f, (float)(M_PI * 0.5)};
    SDL_Color col = {c.r, c.g, c.b, c.a};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < CORNER_STEPS; i++) {
            float a0 = start[k] + (float)(M_PI / 2) * (float)i / CORNER_STEPS;
            float a1 = start[k] + (float)(M_PI / 2) * (float)(i + 1) / CORNER_STEPS;
            v[n++] = (SDL_Vertex){{cx[k], cy[k]}, col, {0, 0}};
            v[n++] = (SDL_Vertex){{cx[k] + rad * cosf(a0), cy[k] + rad * sinf(a0)}, col, {0, 0}};
            v[n++] = (SDL_Vertex){{cx[k] + rad * cosf(a1), cy[k] + rad * sinf(a1)}, col, {0, 0}};
        }
    if (SDL_RenderGeometry(r, NULL, v, n, NULL, 0) < 0)
        kk_debug("draw", "SDL_RenderGeometry: %s", SDL_GetError());
}

static void draw_ring(SDL_Renderer *r, struct ui_rect rc, int width, struct ui_color c)
{
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
    for (int i = 0; i < width; i++)
        SDL_RenderDrawRect(r, &(SDL_Rect){rc.x + i, rc.y + i, rc.w - 2 * i, rc.h - 2 * i});
}

#define CIRCLE_STEPS 96

/* The outline of the circle inscribed in rc, width pixels thick, as a ring of quads. */
static void draw_circle(SDL_Renderer *r, struct ui_rect rc, int width, struct ui_color c)
{
    float cx = rc.x + rc.w / 2.0f, cy = rc.y + rc.h / 2.0f;
    float ro = (rc.w < rc.h ? rc.w : rc.h) / 2.0f, ri = ro - (float)width;
    if (ro <= 0)
        return;
    if (ri < 0)
        ri = 0;
    SDL_Vertex v[CIRCLE_STEPS * 6];
    SDL_Color col = {c.r, c.g, c.b, c.a};
    int n = 0;
    for (int i = 0; i < CIRCLE_STEPS; i++) {
        float a0 = (float)(2 * M_PI) * (float)i / CIRCLE_STEPS;
        float a1 = (float)(2 * M_PI) * (float)(i + 1) / CIRCLE_STEPS;
        SDL_FPoint o0 = {cx + ro * cosf(a0), cy + ro * sinf(a0)};
        SDL_FPoint o1 = {cx + ro * cosf(a1), cy + ro * sinf(a1)};
        SDL_FPoint i0 = {cx + ri * cosf(a0), cy + ri * sinf(a0)};
        SDL_FPoint i1 = {cx + ri * cosf(a1), cy + ri * sinf(a1)};
        v[n++] = (SDL_Vertex){o0, col, {0, 0}};
        v[n++] = (SDL_Vertex){o1, col, {0, 0}};
        v[n++] = (SDL_Vertex){i0, col, {0, 0}};
        v[n++] = (SDL_Vertex){i0, col, {0, 0}};
        v[n++] = (SDL_Vertex){o1, col, {0, 0}};
        v[n++] = (SDL_Vertex){i1, col, {0, 0}};
    }
    SDL_SetRenderDrawBlendMode(r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    if (SDL_RenderGeometry(r, NULL, v, n, NULL, 0) < 0)
        kk_debug("draw", "SDL_RenderGeometry: %s", SDL_GetError());
}

/* A neutral placeholder for a picture that cannot be shown: never a black hole. */
static void draw_placeholder(SDL_Renderer *r, struct ui_rect rc)
{
    ui_draw_round_rect(r, rc, 12, (struct ui_color){226, 222, 212, 255});
    int s = (rc.w < rc.h ? rc.w : rc.h) / 4;
    ui_draw_round_rect(r, (struct ui_rect){rc.x + rc.w / 2 - s / 2, rc.y + rc.h / 2 - s / 2, s, s},
                       s / 2, (struct ui_color){200, 194, 182, 255});
}

void ui_draw_list(SDL_Renderer *r, struct ui_text *text, struct ui_images *images,
                  const struct ui_list *l, enum ui_draw_part part, int dx)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct ui_item *it = &l->items[i];
        if ((part == UI_DRAW_FIXED && it->slide) || (part == UI_DRAW_SLIDING && !it->slide))
            continue;
        struct ui_rect rc = it->r;
        if (it->slide)
            rc.x += dx;
        switch (it->kind) {
        case UI_RECT:
            ui_draw_round_rect(r, rc, it->radius, it->color);
            break;
        case UI_RING:
            draw_ring(r, rc, it->radius, it->color);
            break;
        case UI_CIRCLE:
            draw_circle(r, rc, it->radius, it->color);
            break;
        case UI_TEXT: {
            int w, h;
            SDL_Texture *t =
                ui_text_texture(text, r, it->font, it->px, it->color, it->text, it->len, &w, &h);
            if (t)
                SDL_RenderCopy(r, t, NULL, &(SDL_Rect){rc.x, rc.y, w, h});
            break;
        }
        case UI_IMAGE: {
            int w, h;
            SDL_Texture *t = ui_images_get(images, it->image, rc.w, rc.h, &w, &h);
            SDL_Rect dst = {rc.x + (rc.w - w) / 2, rc.y + (rc.h - h) / 2, w, h};
            /* A clipped picture (one half of a compare block) is drawn through the clip
             * rectangle, which moves with the page as the picture does. */
            int clip = it->clip.w > 0 && it->clip.h > 0;
            if (clip)
                SDL_RenderSetClipRect(r, &(SDL_Rect){it->clip.x + (rc.x - it->r.x), it->clip.y,
                                                     it->clip.w, it->clip.h});
            if (t)
                SDL_RenderCopy(r, t, NULL, &dst);
            else
                draw_placeholder(r, rc);
            if (clip)
                SDL_RenderSetClipRect(r, NULL);
            break;
        }
        }
    }
}

void ui_draw_warm(SDL_Renderer *r, struct ui_text *text, struct ui_images *images,
                  const struct ui_list *l)
{
    int w, h;
    for (size_t i = 0; i < l->n; i++) {
        const struct ui_item *it = &l->items[i];
        if (it->kind == UI_TEXT)
            ui_text_texture(text, r, it->font, it->px, it->color, it->text, it->len, &w, &h);
        else if (it->kind == UI_IMAGE)
            ui_images_get(images, it->image, it->r.w, it->r.h, &w, &h);
    }
}
