#include "ui_layout.h"

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/wrap.h"

#define MAX_SCREENS_PER_PAGE 32

void ui_page_style_for(struct ui_page_style *st, double scale, int large_text)
{
    double k = large_text ? 1.3 : 1.0;
    st->title_px = (int)(50 * scale * k + 0.5);
    st->body_px = (int)(34 * scale * k + 0.5);
    st->fact_px = (int)(32 * scale * k + 0.5);
    st->caption_px = (int)(27 * scale * k + 0.5);
    st->gap = (int)(28 * scale + 0.5);
    st->padding = (int)(26 * scale + 0.5);
}

/* Adapts ui_measure to the wrapper's callback for one font and size. */
struct measure_ctx {
    const struct ui_measure *m;
    enum ui_font font;
    int px;
};

static int measure_cb(void *ctx, const char *s, size_t len)
{
    struct measure_ctx *mc = ctx;
    return mc->m->width(mc->m->ctx, mc->font, mc->px, s, len);
}

static enum kk_err wrap(const struct ui_measure *m, const char *text, enum kk_lang lang,
                        enum ui_font font, int px, int w, struct kk_lines *out)
{
    struct measure_ctx mc = {m, font, px};
    return kk_wrap(text, lang, w, measure_cb, &mc, out);
}

/* The state of flowing pieces down a column and across screens. */
struct flow {
    struct ui_screens *out;
    struct ui_list *cur;
    int box_w, box_h;
    int x, w; /* the text column */
    int y;
    int cont_x, cont_w; /* the column on continuation screens */
};

static enum kk_err new_screen(struct flow *f)
{
    if (f->out->n == MAX_SCREENS_PER_PAGE)
        return KK_ERR_TOOBIG;
    struct ui_list *v = kk_reallocarray(f->out->v, f->out->n + 1, sizeof(*v));
    if (!v)
        return KK_ERR_NOMEM;
    f->out->v = v;
    f->cur = &v[f->out->n++];
    ui_list_init(f->cur);
    f->y = 0;
    if (f->out->n > 1) {
        f->x = f->cont_x;
        f->w = f->cont_w;
    }
    return KK_OK;
}

/* Makes room for h more pixels in the column, starting a new screen when needed. */
static enum kk_err need(struct flow *f, int h)
{
    if (f->y > 0 && f->y + h > f->box_h)
        return new_screen(f);
    return KK_OK;
}

/* Places wrapped text line by line; a paragraph may continue on the next screen. */
static enum kk_err place_text(struct flow *f, const struct ui_measure *m, const char *text,
                              enum kk_lang lang, enum ui_font font, int px, struct ui_color c)
{
    struct kk_lines lines = {0};
    enum kk_err rc = wrap(m, text, lang, font, px, f->w, &lines);
    int lh = m->line_height(m->ctx, font, px);
    for (size_t i = 0; !rc && i < lines.n; i++) {
        rc = need(f, lh);
        if (!rc && !ui_list_text(f->cur, f->x, f->y, lines.v[i].width, lh, text + lines.v[i].start,
                                 lines.v[i].len, px, font, c))
            rc = KK_ERR_NOMEM;
        f->y += lh;
    }
    kk_lines_release(&lines);
    return rc;
}

/* A fact box: tinted, with an accent bar; split into one box per screen if it must. */
static enum kk_err place_fact(struct flow *f, const struct ui_measure *m,
                              const struct ui_page_style *st, const char *text, enum kk_lang lang)
{
    struct kk_lines lines = {0};
    int bar = st->padding / 3 > 4 ? st->padding / 3 : 4;
    int inner_w = f->w - 2 * st->padding - bar;
    enum kk_err rc = wrap(m, text, lang, UI_FONT_BOLD, st->fact_px, inner_w, &lines);
    int lh = m->line_height(m->ctx, UI_FONT_BOLD, st->fact_px);
    size_t i = 0;
    while (!rc && i < lines.n) {
        rc = need(f, lh + 2 * st->padding);
        if (rc)
            break;
        size_t fit = (size_t)((f->box_h - f->y - 2 * st->padding) / lh);
        if (fit == 0)
            fit = 1;
        if (fit > lines.n - i)
            fit = lines.n - i;
        int h = (int)fit * lh + 2 * st->padding;
        struct ui_item *bg = ui_list_push(f->cur, UI_RECT, (struct ui_rect){f->x, f->y, f->w, h});
        struct ui_item *acc = ui_list_push(f->cur, UI_RECT, (struct ui_rect){f->x, f->y, bar, h});
        if (!bg || !acc) {
            rc = KK_ERR_NOMEM;
            break;
        }
        bg->color = UI_FACT;
        bg->radius = st->padding / 2;
        acc->color = UI_ACCENT;
        for (size_t k = 0; k < fit; k++, i++) {
            int y = f->y + st->padding + (int)k * lh;
            if (!ui_list_text(f->cur, f->x + bar + st->padding, y, lines.v[i].width, lh,
                              text + lines.v[i].start, lines.v[i].len, st->fact_px, UI_FONT_BOLD,
                              UI_INK)) {
                rc = KK_ERR_NOMEM;
                break;
            }
        }
        f->y += h;
        if (i < lines.n && !rc)
            rc = new_screen(f);
    }
    kk_lines_release(&lines);
    return rc;
}

/* A picture fitted into (x, y, w, h) with its caption under it. Returns the height used. */
static enum kk_err place_image(struct ui_list *l, const struct ui_measure *m,
                               const struct ui_page_style *st, const struct kk_block *b,
                               enum kk_lang lang, int x, int y, int w, int h, int *used)
{
    const char *cap = kk_text_get(&b->caption, lang);
    struct kk_lines lines = {0};
    int lh = m->line_height(m->ctx, UI_FONT_REGULAR, st->caption_px);
    enum kk_err rc = *cap ? wrap(m, cap, lang, UI_FONT_REGULAR, st->caption_px, w, &lines) : 0;
    if (rc)
        return rc;
    int cap_h = (int)lines.n * lh;
    int img_box_h = h - cap_h - (cap_h ? st->gap / 2 : 0);
    if (img_box_h < h / 3)
        img_box_h = h / 3;
    int iw = b->image->w > 0 ? b->image->w : 4, ih = b->image->h > 0 ? b->image->h : 3;
    int fw = w, fh = (int)((long long)w * ih / iw);
    if (fh > img_box_h) {
        fh = img_box_h;
        fw = (int)((long long)img_box_h * iw / ih);
    }
    struct ui_item *it = ui_list_push(l, UI_IMAGE, (struct ui_rect){x + (w - fw) / 2, y, fw, fh});
    if (!it) {
        kk_lines_release(&lines);
        return KK_ERR_NOMEM;
    }
    it->image = b->image;
    int cy = y + fh + st->gap / 2;
    for (size_t i = 0; i < lines.n; i++, cy += lh)
        if (!ui_list_text(l, x + (w - lines.v[i].width) / 2, cy, lines.v[i].width, lh,
                          cap + lines.v[i].start, lines.v[i].len, st->caption_px, UI_FONT_REGULAR,
                          UI_INK_SOFT)) {
            kk_lines_release(&lines);
            return KK_ERR_NOMEM;
        }
    *used = fh + (cap_h ? st->gap / 2 + cap_h : 0);
    kk_lines_release(&lines);
    return KK_OK;
}

/* An interactive block: the full width of the box and the rest of the screen, on a new
 * screen when less than UI_BLOCK_MIN_SHARE of it is left or the first screen has the
 * picture column. What follows the block starts on the next screen. */
static enum kk_err place_slot(struct flow *f, size_t block, int side)
{
    enum kk_err rc = KK_OK;
    if ((side && f->out->n == 1) ||
        (f->y > 0 && (long long)(f->box_h - f->y) * 100 < (long long)f->box_h * UI_BLOCK_MIN_SHARE))
        rc = new_screen(f);
    if (rc)
        return rc;
    struct ui_screens *s = f->out;
    struct ui_block_slot *v = kk_reallocarray(s->slots, s->nslots + 1, sizeof(*v));
    if (!v)
        return KK_ERR_NOMEM;
    s->slots = v;
    v[s->nslots++] = (struct ui_block_slot){s->n - 1, block, {0, f->y, f->box_w, f->box_h - f->y}};
    f->y = f->box_h; /* the screen is full: need() starts the next one */
    return KK_OK;
}

/* The block right of the words' column on the first screen, from x to the box's right
 * edge, its whole height. What follows starts on the next screen. */
static enum kk_err place_beside(struct flow *f, size_t block, int x)
{
    struct ui_screens *s = f->out;
    struct ui_block_slot *v = kk_reallocarray(s->slots, s->nslots + 1, sizeof(*v));
    if (!v)
        return KK_ERR_NOMEM;
    s->slots = v;
    v[s->nslots++] = (struct ui_block_slot){s->n - 1, block, {x, 0, f->box_w - x, f->box_h}};
    f->y = f->box_h;
    return KK_OK;
}

static int is_interactive(enum kk_block_type t)
{
    return t == KK_BLOCK_HOTSPOTS || t == KK_BLOCK_COMPARE || t == KK_BLOCK_SEQUENCE ||
           t == KK_BLOCK_STEPS;
}

/* How tall the page's title and its first n blocks (words only) are laid out w wide, or
 * -1 when they take more than one screen of box_h or are not words alone. */
static int words_height(const struct kk_page *page, size_t n, enum kk_lang lang,
                        const struct ui_measure *m, const struct ui_page_style *st, int w,
                        int box_h)
{
    for (size_t i = 0; i < n; i++)
        if (page->blocks[i].type != KK_BLOCK_TEXT && page->blocks[i].type != KK_BLOCK_FACT)
            return -1;
    struct kk_page head = *page;
    head.nblocks = n;
    struct ui_screens s;
    if (ui_layout_page(&head, lang, m, st, w, box_h, &s))
        return -1;
    int h = 0;
    for (size_t i = 0; s.n == 1 && i < s.v[0].n; i++)
        if (s.v[0].items[i].r.y + s.v[0].items[i].r.h > h)
            h = s.v[0].items[i].r.y + s.v[0].items[i].r.h;
    if (s.n != 1)
        h = -1;
    ui_screens_release(&s);
    return h;
}

/* The width of the widest Latin word (letters, digits, ' and -) of text: a column must be
 * at least that wide, or the word would be broken. */
static int widest_word(const struct ui_measure *m, const char *text, enum ui_font font, int px)
{
    int most = 0;
    for (const char *p = text; p && *p;) {
        const char *q = p;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
               *q == '\'' || *q == '-')
            q++;
        if (q > p) {
            int w = m->width(m->ctx, font, px, p, (size_t)(q - p));
            most = w > most ? w : most;
            p = q;
        } else {
            p++;
        }
    }
    return most;
}

/* Landscape, a page whose first interactive block comes after words only: when the words
 * leave the block less than UI_BLOCK_MIN_SHARE of the screen (so it would go to a screen
 * of its own, the words alone on theirs) but fit in a column of the 30 % of the width the
 * block can spare (UI_BLOCK_MIN_SHARE of it stays the block's), on one screen and with
 * their widest word, the words go in that column and the block beside them, the screen's
 * whole height. Returns the column's width, 0 when not so; *block is the block's index. */
static int beside_column(const struct kk_page *page, enum kk_lang lang, const struct ui_measure *m,
                         const struct ui_page_style *st, int box_w, int box_h, int max_text_w,
                         size_t *block)
{
    size_t k = 0;
    while (k < page->nblocks && !is_interactive(page->blocks[k].type))
        k++;
    if (k == page->nblocks || box_w <= box_h * 6 / 5)
        return 0;
    int full = box_w < max_text_w ? box_w : max_text_w;
    int h = words_height(page, k, lang, m, st, full, box_h);
    if (h >= 0 && (long long)(box_h - h - st->gap) * 100 >= (long long)box_h * UI_BLOCK_MIN_SHARE)
        return 0; /* the block fits under the words */
    int word = widest_word(m, kk_text_get(&page->title, lang), UI_FONT_BOLD, st->title_px);
    for (size_t i = 0; i < k; i++) {
        const struct kk_block *b = &page->blocks[i];
        int w = b->type == KK_BLOCK_FACT
                    ? widest_word(m, kk_text_get(&b->text, lang), UI_FONT_BOLD, st->fact_px) +
                          2 * st->padding + st->padding / 3 + 4
                    : widest_word(m, kk_text_get(&b->text, lang), UI_FONT_REGULAR, st->body_px);
        word = w > word ? w : word;
    }
    /* The block keeps UI_BLOCK_MIN_SHARE of the width, as it would of the height. */
    int cw = (box_w - 2 * st->gap) * (100 - UI_BLOCK_MIN_SHARE) / 100;
    cw = cw < max_text_w ? cw : max_text_w;
    if (cw < word || words_height(page, k, lang, m, st, cw, box_h) < 0)
        return 0;
    *block = k;
    return cw;
}

enum kk_err ui_layout_page(const struct kk_page *page, enum kk_lang lang,
                           const struct ui_measure *m, const struct ui_page_style *st, int box_w,
                           int box_h, struct ui_screens *out)
{
    memset(out, 0, sizeof(*out));
    size_t nimg = 0;
    for (size_t i = 0; i < page->nblocks; i++)
        nimg += page->blocks[i].type == KK_BLOCK_IMAGE && page->blocks[i].image;
    /* Lines longer than about 34 characters are hard to read standing up. */
    int max_text_w = st->body_px * 34;
    int landscape = box_w > box_h * 6 / 5;
    struct flow f = {out, NULL, box_w, box_h, 0, box_w, 0, 0, box_w};
    if (f.cont_w > max_text_w) {
        f.cont_w = max_text_w;
        f.cont_x = (box_w - max_text_w) / 2;
    }
    int side = landscape && nimg > 0;
    size_t beside = page->nblocks; /* the block right of the words, if any */
    int beside_w = side ? 0 : beside_column(page, lang, m, st, box_w, box_h, max_text_w, &beside);
    if (beside_w) {
        f.x = 0;
        f.w = beside_w;
    } else if (side) {
        f.w = (box_w - st->gap * 2) * 11 / 20;
        if (f.w > max_text_w)
            f.w = max_text_w;
    } else {
        f.x = f.cont_x;
        f.w = f.cont_w;
    }
    enum kk_err rc = new_screen(&f);
    if (rc)
        return rc;
    /* Pictures in the right-hand column of the first screen, sharing its height. */
    if (side) {
        int col_x = f.w + st->gap * 2, col_w = box_w - col_x, y = 0;
        int each = (box_h - st->gap * (int)(nimg - 1)) / (int)nimg;
        for (size_t i = 0; !rc && i < page->nblocks; i++) {
            const struct kk_block *b = &page->blocks[i];
            int used = 0;
            if (b->type != KK_BLOCK_IMAGE || !b->image)
                continue;
            rc = place_image(f.cur, m, st, b, lang, col_x, y, col_w, each, &used);
            y += used + st->gap;
        }
    }
    const char *title = kk_text_get(&page->title, lang);
    if (!rc && *title) {
        rc = place_text(&f, m, title, lang, UI_FONT_BOLD, st->title_px, UI_PRIMARY_DARK);
        f.y += st->gap;
    }
    for (size_t i = 0; !rc && i < page->nblocks; i++) {
        const struct kk_block *b = &page->blocks[i];
        switch (b->type) {
        case KK_BLOCK_TEXT:
            rc = place_text(&f, m, kk_text_get(&b->text, lang), lang, UI_FONT_REGULAR, st->body_px,
                            UI_INK);
            break;
        case KK_BLOCK_FACT:
            rc = place_fact(&f, m, st, kk_text_get(&b->text, lang), lang);
            break;
        case KK_BLOCK_IMAGE: {
            if (side || !b->image)
                continue;
            /* Portrait: the picture takes at most 40% of the screen's height. */
            int used = 0, h = box_h * 2 / 5;
            rc = need(&f, h / 2);
            if (!rc)
                rc = place_image(f.cur, m, st, b, lang, f.x, f.y, f.w, h, &used);
            f.y += used;
            break;
        }
        case KK_BLOCK_HOTSPOTS:
        case KK_BLOCK_COMPARE:
        case KK_BLOCK_SEQUENCE:
        case KK_BLOCK_STEPS:
            if (i == beside)
                rc = place_beside(&f, i, beside_w + 2 * st->gap);
            else
                rc = place_slot(&f, i, side);
            break;
        }
        f.y += st->gap;
    }
    if (rc)
        ui_screens_release(out);
    return rc;
}

void ui_screens_release(struct ui_screens *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        ui_list_release(&s->v[i]);
    kk_free(s->v);
    kk_free(s->slots);
    s->v = NULL;
    s->n = 0;
    s->slots = NULL;
    s->nslots = 0;
}

int ui_layout_label(struct ui_list *l, const struct ui_measure *m, const char *id, const char *text,
                    enum kk_lang lang, enum ui_font font, int px, struct ui_color c, int x, int y,
                    int w, int max_lines, int center, enum ui_cut cut)
{
    struct kk_lines lines = {0};
    int lh = m->line_height(m->ctx, font, px);
    if (wrap(m, text, lang, font, px, w, &lines) || lines.n == 0) {
        kk_lines_release(&lines);
        return 0;
    }
    size_t n = lines.n < (size_t)max_lines ? lines.n : (size_t)max_lines;
    for (size_t i = 0; i < n; i++) {
        const char *s = text + lines.v[i].start;
        size_t len = lines.v[i].len;
        int lw = lines.v[i].width;
        char buf[1024];
        if (i == n - 1 && n < lines.n) {
            /* The last line that fits ends with an ellipsis, shortened until it fits. */
            for (;;) {
                while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
                    len--;
                int written = snprintf(buf, sizeof(buf), "%.*s…", (int)len, s);
                lw = m->width(m->ctx, font, px, buf, (size_t)written);
                if (lw <= w || len == 0) {
                    s = buf;
                    len = (size_t)written;
                    break;
                }
                len--;
            }
            if (cut == UI_CUT_TEASER)
                ui_list_note_shortened(l, id);
            else
                ui_list_note_overflow(l, id);
        }
        ui_list_text(l, center ? x + (w - lw) / 2 : x, y + (int)i * lh, lw, lh, s, len, px, font,
                     c);
    }
    kk_lines_release(&lines);
    return (int)n * lh;
}
