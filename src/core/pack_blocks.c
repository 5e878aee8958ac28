/* Format 2's interactive blocks (hotspots, compare, sequence, steps) and quiz types
 * (hotspot, order): DESIGN.md "Interactive blocks and narration", docs/blocks.md. */
#include <math.h>
#include <string.h>

#include "kepu/alloc.h"
#include "pack_private.h"

#define push_key   kk_pack_push_key
#define push_index kk_pack_push_index
#define pop        kk_pack_pop

/* A format 1 pack may not use the type; reports at the current field's "type". */
static int needs_format2(struct loader *ld, const char *what, const char *type)
{
    if (ld->format >= 2)
        return 1;
    size_t back = push_key(ld, "type");
    kk_pack_error(ld, KK_ERR_INVALID, "%s type \"%s\" needs \"format\": 2 in pack.json", what,
                  type);
    pop(ld, back);
    return 0;
}

/* obj[key] as a number in [lo, hi] (lo excluded when open_lo). 1 when set, 0 after
 * reporting. */
static int get_fraction(struct loader *ld, const cJSON *obj, const char *key, int open_lo,
                        double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t back = push_key(ld, key);
    int ok = 0;
    if (!v)
        kk_pack_error(ld, KK_ERR_INVALID, "missing");
    else if (!cJSON_IsNumber(v))
        kk_pack_error(ld, KK_ERR_INVALID, "must be a number from 0 to 1, not %s",
                      kk_pack_json_type(v));
    else if (!isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1 ||
             (open_lo && v->valuedouble == 0))
        kk_pack_error(ld, KK_ERR_INVALID, "%g is outside %s (a fraction of the picture)",
                      v->valuedouble, open_lo ? "0 (excluded) to 1" : "0 to 1");
    else {
        *out = v->valuedouble;
        ok = 1;
    }
    pop(ld, back);
    return ok;
}

/* The array obj[key] with min..max objects; returns how many to read (0 after reporting). */
static size_t get_list(struct loader *ld, const cJSON *obj, const char *key, size_t min, size_t max,
                       const char *what)
{
    const cJSON *arr = kk_pack_get_array(ld, obj, key, 1);
    if (!arr)
        return 0;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    size_t back = push_key(ld, key);
    if (n < min || n > max) {
        kk_pack_error(ld, n > max ? KK_ERR_TOOBIG : KK_ERR_INVALID,
                      "has %zu %ss; it needs %zu to %zu", n, what, min, max);
        n = 0;
    }
    pop(ld, back);
    return n;
}

static int is_object(struct loader *ld, const cJSON *v)
{
    if (cJSON_IsObject(v))
        return 1;
    kk_pack_error(ld, KK_ERR_INVALID, "must be an object, not %s", kk_pack_json_type(v));
    return 0;
}

static void load_spots(struct loader *ld, const cJSON *v, struct kk_block *b)
{
    size_t n = get_list(ld, v, "spots", 1, KK_MAX_CHOICES * 2, "spot");
    if (!n || !(b->spots = kk_pack_calloc(ld, n, sizeof(*b->spots))))
        return;
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "spots"))
    {
        if (i == n || ld->nomem)
            break;
        size_t back = push_key(ld, "spots");
        push_index(ld, i);
        struct kk_spot *sp = &b->spots[i++];
        b->nspots = i;
        if (is_object(ld, s)) {
            const char *id = kk_pack_get_string(ld, s, "id", 1);
            size_t back_id = push_key(ld, "id");
            int valid = id && *id && strlen(id) <= KK_MAX_ID_LEN;
            if (id && !valid)
                kk_pack_error(ld, KK_ERR_INVALID,
                              "\"%s\" is not a valid id: use 1 to %d characters", id,
                              KK_MAX_ID_LEN);
            for (size_t k = 0; valid && k + 1 < i; k++) {
                if (b->spots[k].id && strcmp(b->spots[k].id, id) == 0) {
                    kk_pack_error(ld, KK_ERR_INVALID, "spot id \"%s\" is used twice in this block",
                                  id);
                    valid = 0;
                }
            }
            pop(ld, back_id);
            if (valid && !(sp->id = kk_strdup(id)))
                ld->nomem = 1;
            get_fraction(ld, s, "x", 0, &sp->x);
            get_fraction(ld, s, "y", 0, &sp->y);
            kk_pack_get_text(ld, s, "label", 1, &sp->label);
            kk_pack_get_text(ld, s, "text", 1, &sp->text);
            sp->image = kk_pack_get_image(ld, s, "image", 0);
        }
        pop(ld, back);
    }
}

/* A picture with a label (and, for a sequence, an optional text). */
static void load_frame(struct loader *ld, const cJSON *v, struct kk_frame *f, int with_text)
{
    if (!is_object(ld, v))
        return;
    f->image = kk_pack_get_image(ld, v, "src", 1);
    kk_pack_get_text(ld, v, "label", 1, &f->label);
    if (with_text)
        kk_pack_get_text(ld, v, "text", 0, &f->text);
}

static void load_compare(struct loader *ld, const cJSON *v, struct kk_block *b)
{
    static const char *const keys[2] = {"before", "after"};
    if (!(b->frames = kk_pack_calloc(ld, 2, sizeof(*b->frames))))
        return;
    b->nframes = 2;
    for (int i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, keys[i]);
        size_t back = push_key(ld, keys[i]);
        if (!f)
            kk_pack_error(ld, KK_ERR_INVALID, "missing");
        else
            load_frame(ld, f, &b->frames[i], 0);
        pop(ld, back);
    }
}

static void load_sequence(struct loader *ld, const cJSON *v, struct kk_block *b)
{
    size_t n = get_list(ld, v, "frames", KK_MIN_FRAMES, KK_MAX_FRAMES, "frame");
    if (!n || !(b->frames = kk_pack_calloc(ld, n, sizeof(*b->frames))))
        return;
    b->nframes = n;
    size_t i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(v, "frames"))
    {
        size_t back = push_key(ld, "frames");
        push_index(ld, i);
        load_frame(ld, f, &b->frames[i++], 1);
        pop(ld, back);
    }
}

static void load_steps(struct loader *ld, const cJSON *v, struct kk_block *b)
{
    size_t n = get_list(ld, v, "steps", KK_MIN_STEPS, KK_MAX_STEPS, "step");
    if (!n || !(b->steps = kk_pack_calloc(ld, n, sizeof(*b->steps))))
        return;
    b->nsteps = n;
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "steps"))
    {
        size_t back = push_key(ld, "steps");
        push_index(ld, i);
        struct kk_step *st = &b->steps[i++];
        if (is_object(ld, s)) {
            kk_pack_get_text(ld, s, "title", 1, &st->title);
            kk_pack_get_text(ld, s, "text", 1, &st->text);
            st->image = kk_pack_get_image(ld, s, "image", 0);
        }
        pop(ld, back);
    }
}

int kk_pack_block2(struct loader *ld, const cJSON *v, const char *type, struct kk_block *b)
{
    if (strcmp(type, "hotspots") == 0)
        b->type = KK_BLOCK_HOTSPOTS;
    else if (strcmp(type, "compare") == 0)
        b->type = KK_BLOCK_COMPARE;
    else if (strcmp(type, "sequence") == 0)
        b->type = KK_BLOCK_SEQUENCE;
    else if (strcmp(type, "steps") == 0)
        b->type = KK_BLOCK_STEPS;
    else
        return 0;
    if (!needs_format2(ld, "block", type))
        return 1;
    switch (b->type) {
    case KK_BLOCK_HOTSPOTS:
        b->image = kk_pack_get_image(ld, v, "src", 1);
        kk_pack_get_text(ld, v, "caption", 0, &b->caption);
        load_spots(ld, v, b);
        break;
    case KK_BLOCK_COMPARE:
        kk_pack_get_text(ld, v, "caption", 0, &b->caption);
        load_compare(ld, v, b);
        break;
    case KK_BLOCK_SEQUENCE:
        kk_pack_get_text(ld, v, "caption", 0, &b->caption);
        load_sequence(ld, v, b);
        break;
    case KK_BLOCK_STEPS:
        load_steps(ld, v, b);
        break;
    case KK_BLOCK_TEXT:
    case KK_BLOCK_IMAGE:
    case KK_BLOCK_FACT:
        break;
    }
    return 1;
}

void kk_pack_block2_release(struct kk_block *b)
{
    for (size_t i = 0; i < b->nspots; i++) {
        kk_free(b->spots[i].id);
        kk_pack_text_release(&b->spots[i].label);
        kk_pack_text_release(&b->spots[i].text);
        kk_pack_image_destroy(b->spots[i].image);
    }
    kk_free(b->spots);
    for (size_t i = 0; i < b->nframes; i++) {
        kk_pack_image_destroy(b->frames[i].image);
        kk_pack_text_release(&b->frames[i].label);
        kk_pack_text_release(&b->frames[i].text);
    }
    kk_free(b->frames);
    for (size_t i = 0; i < b->nsteps; i++) {
        kk_pack_text_release(&b->steps[i].title);
        kk_pack_text_release(&b->steps[i].text);
        kk_pack_image_destroy(b->steps[i].image);
    }
    kk_free(b->steps);
    b->spots = NULL;
    b->frames = NULL;
    b->steps = NULL;
    b->nspots = b->nframes = b->nsteps = 0;
}

/* ---- quiz ---- */

int kk_pack_question2_type(struct loader *ld, const char *type, struct kk_question *q)
{
    if (strcmp(type, "hotspot") == 0)
        q->type = KK_Q_HOTSPOT;
    else if (strcmp(type, "order") == 0)
        q->type = KK_Q_ORDER;
    else
        return 0;
    needs_format2(ld, "question", type);
    return 1;
}

static void load_regions(struct loader *ld, const cJSON *v, struct kk_question *q)
{
    size_t n = get_list(ld, v, "regions", 1, KK_MAX_CHOICES, "region");
    if (!n || !(q->regions = kk_pack_calloc(ld, n, sizeof(*q->regions))))
        return;
    q->nregions = n;
    size_t i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(v, "regions"))
    {
        size_t back = push_key(ld, "regions");
        push_index(ld, i);
        struct kk_region *rg = &q->regions[i++];
        if (is_object(ld, r)) {
            get_fraction(ld, r, "x", 0, &rg->x);
            get_fraction(ld, r, "y", 0, &rg->y);
            get_fraction(ld, r, "r", 1, &rg->r);
        }
        pop(ld, back);
    }
}

static void load_order_choices(struct loader *ld, const cJSON *v, struct kk_question *q)
{
    size_t n = get_list(ld, v, "choices", 2, KK_MAX_CHOICES, "choice");
    if (!n || !(q->choices = kk_pack_calloc(ld, n, sizeof(*q->choices))))
        return;
    q->nchoices = n;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(v, "choices"))
    {
        size_t back = push_key(ld, "choices");
        push_index(ld, i);
        if (is_object(ld, c))
            kk_pack_get_text(ld, c, "text", 1, &q->choices[i].text);
        i++;
        pop(ld, back);
    }
}

/* "answer": HOTSPOT one or more region indexes; ORDER every choice index once, in the right
 * order. n is how many regions or choices were read (0: already reported, no range check). */
static void load_answer2(struct loader *ld, const cJSON *v, struct kk_question *q, size_t n)
{
    const cJSON *arr = kk_pack_get_array(ld, v, "answer", 1);
    if (!arr)
        return;
    const char *what = q->type == KK_Q_HOTSPOT ? "region" : "choice";
    size_t back = push_key(ld, "answer");
    size_t i = 0, count = (size_t)cJSON_GetArraySize(arr);
    unsigned seen = 0;
    int ok = 1;
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        double d = cJSON_IsNumber(a) ? a->valuedouble : -1;
        if (!cJSON_IsNumber(a) || d != floor(d) || d < 0 || d >= KK_MAX_CHOICES ||
            (n && d >= (double)n)) {
            size_t back_i = push_index(ld, i);
            kk_pack_error(ld, KK_ERR_INVALID, "must be a %s index from 0 to %zu", what,
                          n ? n - 1 : (size_t)KK_MAX_CHOICES - 1);
            pop(ld, back_i);
            ok = 0;
        } else if (seen & (1u << (unsigned)d)) {
            size_t back_i = push_index(ld, i);
            kk_pack_error(ld, KK_ERR_INVALID, "%s %.0f is listed twice", what, d);
            pop(ld, back_i);
            ok = 0;
        } else {
            seen |= 1u << (unsigned)d;
            if (i < KK_MAX_CHOICES)
                q->order[i] = (unsigned char)d;
        }
        i++;
    }
    if (count == 0)
        kk_pack_error(ld, KK_ERR_INVALID, "needs at least one right %s", what);
    else if (ok && q->type == KK_Q_ORDER && n && count != n)
        kk_pack_error(ld, KK_ERR_INVALID,
                      "must list every choice once in the right order (a permutation of 0 to "
                      "%zu), not %zu of the %zu",
                      n - 1, count, n);
    else if (ok)
        q->answer_mask = seen;
    pop(ld, back);
}

void kk_pack_question2(struct loader *ld, const cJSON *v, struct kk_question *q)
{
    size_t n = 0;
    if (q->type == KK_Q_HOTSPOT) {
        load_regions(ld, v, q);
        n = q->nregions;
    } else {
        load_order_choices(ld, v, q);
        n = q->nchoices;
    }
    load_answer2(ld, v, q, n);
}

void kk_pack_question2_release(struct kk_question *q)
{
    kk_free(q->regions);
    q->regions = NULL;
    q->nregions = 0;
}
