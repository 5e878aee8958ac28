#include "ui_text.h"

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/limits.h"
#include "kepu/log.h"
#include "kepu/utf8.h"

/* Open fonts. Each TTF_Font holds its own parsed copy of the font (about 2.4 MB of heap
 * for Noto Sans CJK: SDL_ttf hands FreeType a read callback, so the CFF tables are copied
 * in, and HarfBuzz copies its own), so three are kept and set to another size when one
 * is needed: a size change costs about a microsecond and renders the same pixels as a
 * font opened at that size, but empties the font's glyph cache, and glyphs are read from
 * the file again (a seek and a read each), hence the width memo below. 24 fonts, one per
 * (font, size), peaked at 47 MB in the whole-content walk. */
#define MAX_FACES 3
#define LINE_MEMO 32 /* remembered line heights, (font, size) pairs */
/* Remembered widths (a power of 2): a screen rebuilt after a tap measures the same runs of
 * text again, and a font set to another size loads every glyph again from the file. */
#define WIDTH_MEMO     4096
#define MAX_LINE_BYTES 4096

struct face {
    enum ui_font font;
    int px;
    TTF_Font *ttf;
    unsigned long used;
};

struct entry {
    uint64_t hash;
    enum ui_font font;
    int px;
    struct ui_color color;
    char *text;
    size_t len;
    SDL_Texture *tex;
    int w, h;
    size_t bytes;
    unsigned long used;
};

struct line_memo {
    enum ui_font font;
    int px, skip; /* px 0: unused */
};

struct width_memo {
    uint64_t key; /* hash of (font, px, text); 0: unused */
    uint32_t len;
    int w;
};

struct ui_text {
    char *path[2]; /* regular, bold */
    long index[2];
    struct face faces[MAX_FACES];
    struct line_memo lines[LINE_MEMO];
    unsigned next_line;
    struct width_memo widths[WIDTH_MEMO];
    struct entry *entries;
    size_t n, alloc;
    size_t bytes;
    unsigned long tick;
    size_t hits, misses, evictions;
    size_t opens, resizes;
};

/* Asks fontconfig for a face, with Chinese glyphs when need_cjk is set. */
static int find_font(const char *name, int need_cjk, char **path, long *index)
{
    int ok = 0;
    FcPattern *pat = FcNameParse((const FcChar8 *)name);
    if (!pat)
        return 0;
    FcLangSet *langs = FcLangSetCreate();
    FcLangSetAdd(langs, (const FcChar8 *)"zh-cn");
    FcPatternAddLangSet(pat, FC_LANG, langs);
    FcLangSetDestroy(langs);
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *match = FcFontMatch(NULL, pat, &res);
    FcChar8 *file = NULL;
    FcCharSet *cs = NULL;
    int idx = 0;
    if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch &&
        FcPatternGetCharSet(match, FC_CHARSET, 0, &cs) == FcResultMatch &&
        (!need_cjk || (FcCharSetHasChar(cs, 0x4e2d) && FcCharSetHasChar(cs, 0x6587)))) { /* 中文 */
        FcPatternGetInteger(match, FC_INDEX, 0, &idx);
        *path = kk_strdup((const char *)file);
        *index = idx;
        ok = *path != NULL;
    }
    if (match)
        FcPatternDestroy(match);
    FcPatternDestroy(pat);
    return ok;
}

enum kk_err ui_text_create(struct ui_text **out, struct kk_buf *err)
{
    *out = NULL;
    struct ui_text *t = kk_calloc(1, sizeof(*t));
    if (!t)
        return kk_fail(err, KK_ERR_NOMEM, "fonts: out of memory");
    const char *env = getenv("KEPU_FONT");
    if (env && *env) {
        TTF_Font *probe = TTF_OpenFont(env, 20);
        if (probe) {
            TTF_CloseFont(probe);
            t->path[0] = kk_strdup(env);
            t->path[1] = kk_strdup(env);
        } else {
            kk_error("text", "KEPU_FONT=%s cannot be opened (%s); looking for a system font", env,
                     TTF_GetError());
        }
    }
    if (!t->path[0] && FcInit()) {
        if (find_font("Noto Sans CJK SC:style=Regular", 1, &t->path[0], &t->index[0])) {
            if (!find_font("Noto Sans CJK SC:style=Bold", 1, &t->path[1], &t->index[1])) {
                t->path[1] = kk_strdup(t->path[0]);
                t->index[1] = t->index[0];
            }
        } else if (find_font("sans-serif", 0, &t->path[0], &t->index[0])) {
            /* Better English and boxes than no app at all: staff will see the log. */
            kk_error("text", "no font with Chinese glyphs found through fontconfig (install "
                             "fonts-noto-cjk); Chinese will not render");
            t->path[1] = kk_strdup(t->path[0]);
            t->index[1] = t->index[0];
        } else {
            ui_text_destroy(t);
            return kk_fail(err, KK_ERR_NOTFOUND,
                           "fonts: fontconfig found no font at all (install fonts-noto-cjk, "
                           "or set KEPU_FONT)");
        }
    }
    if (!t->path[0]) {
        ui_text_destroy(t);
        return kk_fail(err, KK_ERR_NOTFOUND, "fonts: fontconfig cannot start; set KEPU_FONT");
    }
    if (!t->path[1]) {
        ui_text_destroy(t);
        return kk_fail(err, KK_ERR_NOMEM, "fonts: out of memory");
    }
    *out = t;
    return KK_OK;
}

void ui_text_destroy(struct ui_text *t)
{
    if (!t)
        return;
    ui_text_cache_drop(t);
    kk_free(t->entries);
    for (int i = 0; i < MAX_FACES; i++)
        if (t->faces[i].ttf)
            TTF_CloseFont(t->faces[i].ttf);
    kk_free(t->path[0]);
    kk_free(t->path[1]);
    kk_free(t);
}

const char *ui_text_font_path(const struct ui_text *t)
{
    return t->path[0];
}

/* The open font set to (font, px). A miss sets the least used open font of the same
 * weight to px; only when none is open (or a slot is free) is the file opened. */
static TTF_Font *face(struct ui_text *t, enum ui_font font, int px)
{
    struct face *lru = &t->faces[0], *same = NULL, *slot = NULL;
    t->tick++;
    for (int i = 0; i < MAX_FACES; i++) {
        struct face *f = &t->faces[i];
        if (f->ttf && f->font == font && f->px == px) {
            f->used = t->tick;
            return f->ttf;
        }
        if (!f->ttf && !slot)
            slot = f;
        if (f->ttf && f->font == font && (!same || f->used < same->used))
            same = f;
        if (f->ttf && lru->ttf && f->used < lru->used)
            lru = f;
    }
    if (!slot && same && !TTF_SetFontSize(same->ttf, px)) {
        t->resizes++;
        same->px = px;
        same->used = t->tick;
        return same->ttf;
    }
    if (!slot) {
        slot = same ? same : lru;
        TTF_CloseFont(slot->ttf);
        slot->ttf = NULL;
    }
    int which = font == UI_FONT_BOLD;
    slot->ttf = TTF_OpenFontIndex(t->path[which], px, t->index[which]);
    if (!slot->ttf) {
        kk_error("text", "%s: cannot open at %d px: %s", t->path[which], px, TTF_GetError());
        return NULL;
    }
    t->opens++;
    TTF_SetFontHinting(slot->ttf, TTF_HINTING_LIGHT);
    slot->font = font;
    slot->px = px;
    slot->used = t->tick;
    return slot->ttf;
}

/* Copies utf8[0..len) into buf as a C string; NULL when it does not fit. */
static const char *cstr(char *buf, size_t size, const char *utf8, size_t len)
{
    if (len >= size)
        return NULL;
    memcpy(buf, utf8, len);
    buf[len] = '\0';
    return buf;
}

static uint64_t hash_key(enum ui_font font, int px, struct ui_color c, const char *s, size_t len);

int ui_text_measure(struct ui_text *t, enum ui_font font, int px, const char *utf8, size_t len)
{
    uint64_t key = hash_key(font, px, (struct ui_color){0, 0, 0, 0}, utf8, len) | 1;
    struct width_memo *m = &t->widths[key & (WIDTH_MEMO - 1)];
    if (m->key == key && m->len == len)
        return m->w;
    char buf[MAX_LINE_BYTES];
    TTF_Font *f = face(t, font, px);
    const char *s = cstr(buf, sizeof(buf), utf8, len);
    int w = 0, h = 0;
    if (!f || !s || TTF_SizeUTF8(f, s, &w, &h) < 0)
        return px * (int)len; /* unmeasurable: claim it is very wide so it never fits */
    *m = (struct width_memo){key, (uint32_t)len, w};
    return w;
}

/* Remembered, so that asking for a size's line height does not set an open font to it
 * (which empties that font's glyph cache). */
int ui_text_line_height(struct ui_text *t, enum ui_font font, int px)
{
    for (int i = 0; i < LINE_MEMO; i++)
        if (t->lines[i].px == px && t->lines[i].font == font)
            return t->lines[i].skip;
    TTF_Font *f = face(t, font, px);
    if (!f)
        return px * 3 / 2;
    struct line_memo *m = &t->lines[t->next_line++ % LINE_MEMO];
    *m = (struct line_memo){font, px, TTF_FontLineSkip(f)};
    return m->skip;
}

int ui_text_covers(struct ui_text *t, const char *utf8)
{
    /* Which glyphs a font has does not depend on its size: any open regular one will do. */
    TTF_Font *f = NULL;
    for (int i = 0; i < MAX_FACES && !f; i++)
        if (t->faces[i].ttf && t->faces[i].font == UI_FONT_REGULAR)
            f = t->faces[i].ttf;
    if (!f)
        f = face(t, UI_FONT_REGULAR, 24);
    size_t len = strlen(utf8), pos = 0;
    if (!f)
        return 0;
    while (pos < len) {
        uint32_t cp = kk_utf8_next(utf8, len, &pos);
        if (cp > ' ' && !TTF_GlyphIsProvided32(f, cp))
            return 0;
    }
    return 1;
}

SDL_Surface *ui_text_surface(struct ui_text *t, enum ui_font font, int px, struct ui_color c,
                             const char *utf8, size_t len)
{
    char buf[MAX_LINE_BYTES];
    TTF_Font *f = face(t, font, px);
    const char *s = cstr(buf, sizeof(buf), utf8, len);
    if (!f || !s || !*s)
        return NULL;
    SDL_Surface *surf = TTF_RenderUTF8_Blended(f, s, (SDL_Color){c.r, c.g, c.b, c.a});
    if (!surf)
        kk_error("text", "cannot render %zu bytes at %d px: %s", len, px, TTF_GetError());
    return surf;
}

static uint64_t hash_key(enum ui_font font, int px, struct ui_color c, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    unsigned char head[10] = {(unsigned char)font,
                              (unsigned char)(px & 0xff),
                              (unsigned char)(px >> 8),
                              c.r,
                              c.g,
                              c.b,
                              c.a};
    for (size_t i = 0; i < sizeof(head); i++)
        h = (h ^ head[i]) * 1099511628211ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void entry_free(struct ui_text *t, struct entry *e)
{
    if (e->tex)
        SDL_DestroyTexture(e->tex);
    kk_free(e->text);
    t->bytes -= e->bytes;
    *e = t->entries[--t->n];
}

static void evict_to(struct ui_text *t, size_t budget)
{
    while (t->bytes > budget && t->n > 0) {
        size_t oldest = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->entries[i].used < t->entries[oldest].used)
                oldest = i;
        entry_free(t, &t->entries[oldest]);
        t->evictions++;
    }
}

SDL_Texture *ui_text_texture(struct ui_text *t, SDL_Renderer *r, enum ui_font font, int px,
                             struct ui_color c, const char *utf8, size_t len, int *w, int *h)
{
    uint64_t hash = hash_key(font, px, c, utf8, len);
    t->tick++;
    for (size_t i = 0; i < t->n; i++) {
        struct entry *e = &t->entries[i];
        if (e->hash == hash && e->len == len && e->px == px && e->font == font &&
            !memcmp(e->text, utf8, len) && !memcmp(&e->color, &c, sizeof(c))) {
            e->used = t->tick;
            t->hits++;
            *w = e->w;
            *h = e->h;
            return e->tex;
        }
    }
    t->misses++;
    SDL_Surface *surf = ui_text_surface(t, font, px, c, utf8, len);
    if (!surf)
        return NULL;
    size_t bytes = (size_t)surf->w * (size_t)surf->h * 4;
    /* Room first: the cache never holds more than its budget, even for a moment. */
    evict_to(t, KK_TEXT_CACHE_BYTES > bytes ? KK_TEXT_CACHE_BYTES - bytes : 0);
    SDL_Texture *tex = SDL_CreateTextureFromSurface(r, surf);
    struct entry e = {hash,    font,    px,    c,      kk_strndup(utf8, len), len, tex,
                      surf->w, surf->h, bytes, t->tick};
    SDL_FreeSurface(surf);
    if (!tex || !e.text) {
        kk_error("text", "cannot make a texture of a %d px line: %s", px, SDL_GetError());
        if (tex)
            SDL_DestroyTexture(tex);
        kk_free(e.text);
        return NULL;
    }
    if (kk_grow((void **)&t->entries, &t->alloc, t->n, sizeof(*t->entries))) {
        SDL_DestroyTexture(tex);
        kk_free(e.text);
        return NULL;
    }
    t->entries[t->n++] = e;
    t->bytes += e.bytes;
    *w = e.w;
    *h = e.h;
    return tex;
}

void ui_text_stats(const struct ui_text *t, struct ui_text_stats *out)
{
    out->entries = t->n;
    out->bytes = t->bytes;
    out->hits = t->hits;
    out->misses = t->misses;
    out->evictions = t->evictions;
    out->faces = 0;
    for (int i = 0; i < MAX_FACES; i++)
        out->faces += t->faces[i].ttf != NULL;
    out->opens = t->opens;
    out->resizes = t->resizes;
}

void ui_text_cache_drop(struct ui_text *t)
{
    while (t->n > 0)
        entry_free(t, &t->entries[t->n - 1]);
}
