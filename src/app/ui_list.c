#include "ui.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"

/* The built-in look: calm, high-contrast colours readable from two metres. It is what
 * assets/themes/default.json says too, and what the kiosk falls back to when a theme
 * cannot be read. */
const struct ui_palette ui_palette_builtin = {
    .bg = {246, 243, 236, 255},
    .ink = {33, 37, 41, 255},
    .ink_soft = {88, 96, 105, 255},
    .primary = {0, 99, 166, 255},
    .primary_dark = {0, 70, 120, 255},
    .on_primary = {255, 255, 255, 255},
    .card = {255, 255, 255, 255},
    .line = {214, 208, 196, 255},
    .fact = {255, 240, 200, 255},
    .accent = {169, 84, 12, 255},
    .good = {29, 120, 52, 255},
    .bad = {196, 50, 40, 255},
    .shade = {0, 0, 0, 150},
    .top_bar = {232, 226, 214, 255},
    .good_soft = {226, 243, 230, 255},
    .bad_soft = {251, 231, 228, 255},
    .selected_soft = {222, 236, 249, 255},
};
const struct ui_sizes ui_sizes_builtin = {
    .top_bar = 120,
    .min_target = 96,
    .min_target_floor = 72,
    .button_radius = 18,
    .button_ring = 3,
    .button_text = 34,
    .button_text_large = 40,
};
struct ui_palette ui_palette = ui_palette_builtin;
struct ui_sizes ui_sizes = ui_sizes_builtin;

void ui_list_init(struct ui_list *l)
{
    memset(l, 0, sizeof(*l));
}

void ui_list_release(struct ui_list *l)
{
    if (!l)
        return;
    kk_free(l->items);
    kk_free(l->targets);
    kk_free(l->text_pool);
    ui_list_init(l);
}

void ui_list_clear(struct ui_list *l)
{
    l->n = 0;
    l->ntargets = 0;
    l->pool_len = 0;
    l->overflow[0] = '\0';
    l->shortened[0] = '\0';
}

int ui_rect_contains(struct ui_rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

struct ui_item *ui_list_push(struct ui_list *l, enum ui_item_kind kind, struct ui_rect r)
{
    if (kk_grow((void **)&l->items, &l->alloc, l->n, sizeof(*l->items)))
        return NULL;
    struct ui_item *it = &l->items[l->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->r = r;
    return it;
}

/* Text items keep offsets into the pool while it may still move, and are turned into
 * pointers by ui_list_text itself after every growth. */
static int pool_add(struct ui_list *l, const char *text, size_t len, size_t *off)
{
    if (l->pool_len + len + 1 > l->pool_alloc) {
        size_t n = l->pool_alloc ? l->pool_alloc : 4096;
        while (n < l->pool_len + len + 1)
            n *= 2;
        char *old = l->text_pool;
        char *p = kk_realloc(old, n);
        if (!p)
            return -1;
        if (p != old) /* rebase the text pointers of items already in the list */
            for (size_t i = 0; i < l->n; i++)
                if (l->items[i].kind == UI_TEXT)
                    l->items[i].text = p + (l->items[i].text - old);
        l->text_pool = p;
        l->pool_alloc = n;
    }
    memcpy(l->text_pool + l->pool_len, text, len);
    l->text_pool[l->pool_len + len] = '\0';
    *off = l->pool_len;
    l->pool_len += len + 1;
    return 0;
}

struct ui_item *ui_list_text(struct ui_list *l, int x, int y, int w, int h, const char *text,
                             size_t len, int px, enum ui_font font, struct ui_color c)
{
    size_t off;
    if (pool_add(l, text, len, &off) < 0)
        return NULL;
    struct ui_item *it = ui_list_push(l, UI_TEXT, (struct ui_rect){x, y, w, h});
    if (!it)
        return NULL;
    it->text = l->text_pool + off;
    it->len = len;
    it->px = px;
    it->font = font;
    it->color = c;
    return it;
}

/* snprintf that never cuts a UTF-8 sequence in half. */
static void copy_utf8(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

struct ui_target *ui_list_target(struct ui_list *l, struct ui_rect r, const char *id,
                                 const char *label)
{
    if (kk_grow((void **)&l->targets, &l->talloc, l->ntargets, sizeof(*l->targets)))
        return NULL;
    struct ui_target *t = &l->targets[l->ntargets++];
    t->r = r;
    copy_utf8(t->id, sizeof(t->id), id);
    copy_utf8(t->label, sizeof(t->label), label ? label : "");
    return t;
}

/* Appends id to a comma-separated list of ids. */
static void note(char *ids, size_t size, const char *id)
{
    size_t used = strlen(ids);
    snprintf(ids + used, size - used, "%s%s", used ? "," : "", id);
}

void ui_list_note_overflow(struct ui_list *l, const char *id)
{
    note(l->overflow, sizeof(l->overflow), id);
}

void ui_list_note_shortened(struct ui_list *l, const char *id)
{
    note(l->shortened, sizeof(l->shortened), id);
}

const struct ui_target *ui_list_hit(const struct ui_list *l, int x, int y)
{
    for (size_t i = l->ntargets; i-- > 0;)
        if (ui_rect_contains(l->targets[i].r, x, y))
            return &l->targets[i];
    return NULL;
}
