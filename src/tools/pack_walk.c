#include "pack_walk.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kepu/alloc.h"
#include "kepu/fs.h"
#include "pack_kiosk.h"

#define MAX_MENU_PAGES 200  /* far more than KK_MAX_PACKS' topics need */
#define MAX_SCREENS    2000 /* reader screens of one topic */
#define MAX_QUESTIONS  200  /* quiz screens of one round */
/* Rounds pick at random: after this many rounds in a row without a new question, the rest
 * are taken to be for other groups (a question with a 1 in 2 chance per round is missed
 * once in a thousand walks). */
#define MAX_STALE_ROUNDS 10

static const char *const lang_names[KK_LANG_COUNT] = {"zh", "en"};

static const char *text_name(int large)
{
    return large ? "large" : "normal";
}

/* ---- recording what was seen ---- */

static char *dup_or_null(const char *s)
{
    return s && *s ? kk_strdup(s) : NULL;
}

/* The ids in the current screen's array name, comma-separated, into *out (NULL when
 * none). Returns -1 when out of memory. */
static int ids_of(const struct pack_kiosk *k, const char *name, char **out)
{
    const cJSON *o, *arr = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(k), name);
    struct kk_buf b = KK_BUF_INIT;
    int rc = 0;
    cJSON_ArrayForEach(o, arr)
    {
        if (cJSON_IsString(o) && kk_buf_addf(&b, "%s%s", b.len ? "," : "", o->valuestring))
            rc = -1;
    }
    *out = b.len ? kk_buf_detach(&b, NULL) : NULL;
    kk_buf_release(&b);
    return rc;
}

/* Text that did not fit ("overflow") and teasers the kiosk shortened by design
 * ("shortened": a menu card's summary). */
static int overflow_of(const struct pack_kiosk *k, char **over, char **shortened)
{
    return ids_of(k, "overflow", over) | ids_of(k, "shortened", shortened);
}

static const struct kk_image *find_image(const struct kk_pack *p, const char *src,
                                         const char **topic, int *page)
{
    for (size_t t = 0; t < p->ntopics; t++) {
        const struct kk_topic *tp = &p->topics[t];
        for (size_t i = 0; i < tp->npages; i++)
            for (size_t b = 0; b < tp->pages[i].nblocks; b++) {
                const struct kk_image *im = tp->pages[i].blocks[b].image;
                if (im && !strcmp(im->src, src)) {
                    *topic = tp->id;
                    *page = (int)i;
                    return im;
                }
            }
        for (size_t q = 0; q < tp->nquestions; q++) {
            const struct kk_question *qu = &tp->questions[q];
            const struct kk_image *im = qu->image;
            for (size_t c = 0; !(im && !strcmp(im->src, src)) && c < qu->nchoices; c++)
                im = qu->choices[c].image;
            if (im && !strcmp(im->src, src)) {
                *topic = tp->id;
                *page = -1;
                return im;
            }
        }
        if (tp->cover && !strcmp(tp->cover->src, src)) {
            *topic = tp->id;
            *page = -1;
            return tp->cover;
        }
    }
    return NULL;
}

static int add_small(struct pack_check *c, const char *src, const char *topic, int page,
                     const struct kk_image *im, int sw, int sh, int w, int h, int lang, int large,
                     int measured)
{
    for (size_t i = 0; i < c->nsmall; i++) { /* once per image, place and screen variant */
        struct pack_small_image *s = &c->small[i];
        if (!strcmp(s->src, src) && !strcmp(s->topic, topic) && s->page == page && s->w == w &&
            s->h == h && s->lang == lang && s->large == large)
            return 0;
    }
    if (kk_grow((void **)&c->small, &c->asmall, c->nsmall, sizeof(*c->small)))
        return -1;
    struct pack_small_image *s = &c->small[c->nsmall];
    *s = (struct pack_small_image){
        kk_strdup(src), kk_strdup(topic), page, im->w, im->h, sw, sh, w, h, lang, large, measured};
    if (!s->src || !s->topic) {
        kk_free(s->src);
        kk_free(s->topic);
        return -1;
    }
    c->nsmall++;
    return 0;
}

/* Images the kiosk says it drew, when its screen lines carry them ("images": [{"src":
 * "images/x.png", "rect": [x, y, w, h]}]): exact shown sizes. */
static int note_measured_images(struct pack_check *c, const struct pack_kiosk *k, int w, int h)
{
    const cJSON *s = pack_kiosk_screen(k);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(s, "images"), *it;
    if (!cJSON_IsArray(arr))
        return 0;
    c->measured_images = 1;
    int lang = kk_lang_parse(pack_kiosk_field(k, "lang"));
    int large = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "large_text"));
    cJSON_ArrayForEach(it, arr)
    {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(it, "src");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(it, "rect");
        if (!cJSON_IsString(src) || cJSON_GetArraySize(r) != 4)
            continue;
        const char *topic = NULL;
        int page = -1;
        const struct kk_image *im = find_image(c->pack, src->valuestring, &topic, &page);
        if (!im || im->type == KK_IMG_SVG || im->w < 1 || im->h < 1)
            continue;
        /* The same picture may be on several pages: the reader says which one this is. */
        const cJSON *spage = cJSON_GetObjectItemCaseSensitive(s, "page");
        if (page >= 0 && *pack_kiosk_field(k, "topic") && cJSON_IsNumber(spage)) {
            topic = pack_kiosk_field(k, "topic");
            page = spage->valueint;
        }
        /* ui.h: an image is drawn to fit inside its rectangle, centred. */
        int rw = cJSON_GetArrayItem(r, 2)->valueint, rh = cJSON_GetArrayItem(r, 3)->valueint;
        int sw = rw, sh = (int)((long long)rw * im->h / im->w);
        if (sh > rh) {
            sh = rh;
            sw = (int)((long long)rh * im->w / im->h);
        }
        if ((sw > im->w || sh > im->h) &&
            add_small(c, src->valuestring, topic, page, im, sw, sh, w, h, lang, large, 1))
            return -1;
    }
    return 0;
}

/* ---- the walk ---- */

struct walk {
    struct pack_check *c;
    struct pack_kiosk *k;
    int w, h;
    enum kk_lang lang;
    int large;
    struct kk_buf *err;
    int hc; /* the high-contrast theme */
};

#define MIN_CONTRAST    4.5 /* WCAG 2 AA for body text */
#define MIN_CONTRAST_HC 7.0 /* WCAG 2 AAA: what the high-contrast theme promises */

/* Asks the kiosk for the contrast of every text on screen and records those under the
 * theme's minimum (once per text, colours and theme). Returns nonzero when out of memory. */
static int note_contrast(struct pack_check *c, struct walk *wk, const char *shot)
{
    if (pack_kiosk_send(wk->k, "contrast", "true", NULL))
        return 0; /* a kiosk without the command: nothing measured */
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(pack_kiosk_reply(wk->k), "texts");
    const cJSON *t;
    double need = wk->hc ? MIN_CONTRAST_HC : MIN_CONTRAST;
    cJSON_ArrayForEach(t, texts)
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(t, "text");
        const cJSON *ink = cJSON_GetObjectItemCaseSensitive(t, "ink");
        const cJSON *bg = cJSON_GetObjectItemCaseSensitive(t, "bg");
        const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(t, "ratio");
        if (!cJSON_IsString(text) || !cJSON_IsString(ink) || !cJSON_IsString(bg) ||
            !cJSON_IsNumber(ratio))
            continue;
        c->texts_measured[wk->hc]++;
        if (!c->least_ratio[wk->hc] || ratio->valuedouble < c->least_ratio[wk->hc])
            c->least_ratio[wk->hc] = ratio->valuedouble;
        if (ratio->valuedouble >= need)
            continue;
        size_t i = 0;
        while (i < c->nlow &&
               (c->low[i].high_contrast != wk->hc || strcmp(c->low[i].text, text->valuestring) ||
                strcmp(c->low[i].ink, ink->valuestring) || strcmp(c->low[i].bg, bg->valuestring)))
            i++;
        if (i < c->nlow)
            continue;
        if (kk_grow((void **)&c->low, &c->alow, c->nlow, sizeof(*c->low)))
            return 1;
        struct pack_low_contrast *lc = &c->low[c->nlow];
        memset(lc, 0, sizeof(*lc));
        lc->text = kk_strdup(text->valuestring);
        lc->shot = kk_strdup(shot);
        snprintf(lc->ink, sizeof(lc->ink), "%s", ink->valuestring);
        snprintf(lc->bg, sizeof(lc->bg), "%s", bg->valuestring);
        lc->ratio = ratio->valuedouble;
        lc->need = need;
        lc->high_contrast = wk->hc;
        c->nlow++;
        if (!lc->text || !lc->shot)
            return 1;
    }
    return 0;
}

/* Takes a screenshot of the current screen into the report and records it. */
static enum kk_err shoot(struct walk *wk, enum pack_shot_kind kind, const char *topic, int index,
                         const char *name)
{
    struct pack_check *c = wk->c;
    char rel[PATH_MAX];
    snprintf(rel, sizeof(rel), "shots/%dx%d/%s-%s%s/%s/%s.png", wk->w, wk->h, lang_names[wk->lang],
             text_name(wk->large), wk->hc ? "-hc" : "", topic ? topic : "menu", name);
    char *abs = kk_path_join(c->report, rel);
    if (!abs)
        return kk_fail(wk->err, KK_ERR_NOMEM, "out of memory");
    char *slash = strrchr(abs, '/');
    *slash = '\0';
    enum kk_err rc = kk_mkdirs(abs, 0755, wk->err);
    *slash = '/';
    if (!rc)
        rc = pack_kiosk_send_str(wk->k, "screenshot", abs, wk->err);
    kk_free(abs);
    if (rc)
        return rc;
    if (kk_grow((void **)&c->shots, &c->ashots, c->nshots, sizeof(*c->shots)))
        return kk_fail(wk->err, KK_ERR_NOMEM, "out of memory");
    const cJSON *s = pack_kiosk_screen(wk->k);
    struct pack_shot *sh = &c->shots[c->nshots];
    memset(sh, 0, sizeof(*sh));
    sh->kind = kind;
    sh->index = index;
    sh->page = -1;
    sh->w = wk->w;
    sh->h = wk->h;
    sh->lang = wk->lang;
    sh->large = wk->large;
    sh->high_contrast = wk->hc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "page");
    if (kind == PACK_SHOT_PAGE && cJSON_IsNumber(v))
        sh->page = v->valueint;
    v = cJSON_GetObjectItemCaseSensitive(s, "screens");
    if (kind == PACK_SHOT_PAGE && cJSON_IsNumber(v))
        sh->screens = v->valueint;
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "quiz"), "question");
    sh->question = cJSON_IsString(v) ? dup_or_null(v->valuestring) : NULL;
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "quiz"), "correct");
    sh->correct = kind == PACK_SHOT_ANSWER && cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
    sh->path = kk_strdup(rel);
    sh->topic = topic ? kk_strdup(topic) : NULL;
    int oom = overflow_of(wk->k, &sh->overflow, &sh->shortened);
    c->nshots++;
    if (oom || !sh->path || (topic && !sh->topic))
        return kk_fail(wk->err, KK_ERR_NOMEM, "out of memory");
    if (sh->overflow)
        c->overflows++;
    if (sh->shortened)
        c->shortened++;
    if (note_measured_images(c, wk->k, wk->w, wk->h) || note_contrast(c, wk, rel))
        return kk_fail(wk->err, KK_ERR_NOMEM, "out of memory");
    return KK_OK;
}

static enum kk_err tap(struct walk *wk, const char *id)
{
    return pack_kiosk_send_str(wk->k, "tap_id", id, wk->err);
}

/* Fails unless the kiosk shows scene now. */
static enum kk_err expect_scene(struct walk *wk, const char *scene, const char *after)
{
    if (!strcmp(pack_kiosk_field(wk->k, "scene"), scene))
        return KK_OK;
    struct kk_buf where = KK_BUF_INIT;
    pack_kiosk_describe(wk->k, &where);
    enum kk_err rc = kk_fail(wk->err, KK_ERR_INVALID, "after %s the kiosk shows %s, not the %s",
                             after, kk_buf_str(&where), scene);
    kk_buf_release(&where);
    return rc;
}

/* Sets language and text size with the top bar's toggles. */
static enum kk_err set_variant(struct walk *wk)
{
    enum kk_err rc = KK_OK;
    for (int i = 0;
         !rc && i < KK_LANG_COUNT && strcmp(pack_kiosk_field(wk->k, "lang"), lang_names[wk->lang]);
         i++)
        rc = tap(wk, "lang");
    int large =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(wk->k), "large_text"));
    if (!rc && large != wk->large)
        rc = tap(wk, "large_text");
    int hc =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(wk->k), "high_contrast"));
    if (!rc && hc != wk->hc) {
        if (!pack_kiosk_has(wk->k, "high-contrast"))
            return kk_fail(wk->err, KK_ERR_INVALID,
                           "the kiosk offers no high-contrast switch (assets/themes/"
                           "high-contrast.json)");
        rc = tap(wk, "high-contrast");
    }
    if (rc)
        return rc;
    large = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(wk->k), "large_text"));
    if (strcmp(pack_kiosk_field(wk->k, "lang"), lang_names[wk->lang]) || large != wk->large)
        return kk_fail(wk->err, KK_ERR_INVALID, "the kiosk would not switch to %s with %s text",
                       lang_names[wk->lang], text_name(wk->large));
    return KK_OK;
}

/* From anywhere in a session back to the first page of the topic menu. */
static enum kk_err to_menu(struct walk *wk)
{
    enum kk_err rc = KK_OK;
    if (strcmp(pack_kiosk_field(wk->k, "scene"), "menu"))
        rc = tap(wk, "nav/home");
    if (!rc)
        rc = expect_scene(wk, "menu", "tapping home");
    /* Home may keep the menu page the visitor was on. */
    for (int i = 0; !rc && i < MAX_MENU_PAGES && pack_kiosk_has(wk->k, "menu/prev"); i++)
        rc = tap(wk, "menu/prev");
    return rc;
}

static enum kk_err walk_menu(struct walk *wk)
{
    char name[32];
    enum kk_err rc = to_menu(wk);
    for (int i = 0; !rc && i < MAX_MENU_PAGES; i++) {
        snprintf(name, sizeof(name), "menu-%02d", i + 1);
        rc = shoot(wk, PACK_SHOT_MENU, NULL, i, name);
        if (rc || !pack_kiosk_has(wk->k, "menu/next"))
            break;
        rc = tap(wk, "menu/next");
    }
    return rc;
}

/* Opens topic id from the menu, turning menu pages until its card shows. */
static enum kk_err open_topic(struct walk *wk, const char *id)
{
    char target[128];
    snprintf(target, sizeof(target), "topic/%s", id);
    enum kk_err rc = to_menu(wk);
    for (int i = 0; !rc && !pack_kiosk_has(wk->k, target); i++) {
        if (i == MAX_MENU_PAGES || !pack_kiosk_has(wk->k, "menu/next"))
            return kk_fail(wk->err, KK_ERR_INVALID,
                           "topic \"%s\" is not on the kiosk's menu (%dx%d, %s)", id, wk->w, wk->h,
                           lang_names[wk->lang]);
        rc = tap(wk, "menu/next");
    }
    if (!rc)
        rc = tap(wk, target);
    if (!rc)
        rc = expect_scene(wk, "reader", target);
    if (!rc && strcmp(pack_kiosk_field(wk->k, "topic"), id))
        rc = kk_fail(wk->err, KK_ERR_INVALID, "tapping %s opened topic \"%s\"", target,
                     pack_kiosk_field(wk->k, "topic"));
    return rc;
}

static int screen_num(const struct pack_kiosk *k, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(k), name);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* Every screen of every page of the open topic, first to last. */
static enum kk_err walk_reader(struct walk *wk, const char *topic)
{
    char name[32];
    int screens = screen_num(wk->k, "screens");
    if (screens < 1 || screens > MAX_SCREENS)
        return kk_fail(wk->err, KK_ERR_INVALID, "topic \"%s\": the reader reports %d screens",
                       topic, screens);
    for (int i = 0; i < screens; i++) {
        if (screen_num(wk->k, "screen") != i)
            return kk_fail(wk->err, KK_ERR_INVALID,
                           "topic \"%s\": expected screen %d of %d, the kiosk shows screen %d",
                           topic, i + 1, screens, screen_num(wk->k, "screen") + 1);
        snprintf(name, sizeof(name), "s%02d-p%02d", i + 1, screen_num(wk->k, "page") + 1);
        enum kk_err rc = shoot(wk, PACK_SHOT_PAGE, topic, i, name);
        if (!rc && i + 1 < screens)
            rc = tap(wk, "page/next");
        if (rc)
            return rc;
    }
    return KK_OK;
}

static int has_prefix_target(const struct pack_kiosk *k, const char *prefix, char *first,
                             size_t cap)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(k), "targets"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (cJSON_IsString(id) && !strncmp(id->valuestring, prefix, strlen(prefix))) {
            snprintf(first, cap, "%s", id->valuestring);
            return 1;
        }
    }
    return 0;
}

/* The id of the quiz question on screen ({"quiz":{"question":"q1",...}}), or "". */
static const char *question_id(const struct pack_kiosk *k)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(k), "quiz");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(q, "question");
    return cJSON_IsString(id) ? id->valuestring : "";
}

/* Which questions of one topic were shown in one variant, and how many question screens
 * were taken (for file names). A hotspot or an order question is taken twice: answered
 * right, and in a later round answered wrong. */
#define SEEN_ONCE  1 /* shown and answered (right, for hotspot and order) */
#define SEEN_WRONG 2 /* hotspot and order: answered wrong too */
struct quiz_seen {
    unsigned char *seen; /* per question of the topic: SEEN_* bits */
    int *shot_of;        /* per question: the number of its question screen (from 1) */
    size_t nseen;        /* answered screens taken: one per question, two for hotspot/order */
    size_t want;         /* how many the topic has */
    int shots;
    int named;        /* the kiosk names its questions */
    int results_shot; /* the results screen was taken */
};

static int two_answers(const struct kk_question *q)
{
    return q->type == KK_Q_HOTSPOT || q->type == KK_Q_ORDER;
}

/* True when question i needs no more screens. */
static int question_done(const struct kk_topic *tp, const struct quiz_seen *qs, size_t i)
{
    unsigned want = two_answers(&tp->questions[i]) ? SEEN_ONCE | SEEN_WRONG : SEEN_ONCE;
    return (qs->seen[i] & want) == want;
}

/* The quiz object's number array name as ints into v (at most cap); returns how many. */
static size_t quiz_ints(const struct pack_kiosk *k, const char *name, int *v, size_t cap)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(k), "quiz"), *it;
    size_t n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(q, name))
    {
        if (n < cap && cJSON_IsNumber(it))
            v[n++] = it->valueint;
    }
    return n;
}

/* Answers the order question on screen: its right order (docs/quiz.md "right_order"), or
 * with the first two swapped. */
static enum kk_err answer_order(struct walk *wk, int right)
{
    int seq[KK_MAX_CHOICES];
    size_t n = quiz_ints(wk->k, "right_order", seq, KK_MAX_CHOICES);
    if (n < 2)
        return kk_fail(wk->err, KK_ERR_INVALID,
                       "the kiosk's order question reports no right_order");
    if (!right) {
        int tmp = seq[0];
        seq[0] = seq[1];
        seq[1] = tmp;
    }
    enum kk_err rc = KK_OK;
    char id[32];
    for (size_t i = 0; !rc && i < n; i++) {
        snprintf(id, sizeof(id), "order/%d", seq[i]);
        rc = tap(wk, id);
    }
    return rc;
}

/* Answers the hotspot question on screen with a tap on its picture (the target
 * hotspot-q/pic): at the centre of a right region, or at the first point of a grid that is
 * in no right region. Sets *none when every point of the picture is right. */
static enum kk_err answer_hotspot(struct walk *wk, int right, int *none)
{
    *none = 0;
    const cJSON *t, *rect = NULL;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(wk->k), "targets"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (cJSON_IsString(id) && !strcmp(id->valuestring, "hotspot-q/pic"))
            rect = cJSON_GetObjectItemCaseSensitive(t, "rect");
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(pack_kiosk_screen(wk->k), "quiz");
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(q, "regions");
    int rights[KK_MAX_CHOICES];
    size_t nright = quiz_ints(wk->k, "right", rights, KK_MAX_CHOICES);
    if (cJSON_GetArraySize(rect) != 4 || !nright)
        return kk_fail(wk->err, KK_ERR_INVALID,
                       "the kiosk's hotspot question reports no picture or right region");
    double r[4];
    for (int i = 0; i < 4; i++)
        r[i] = cJSON_GetArrayItem(rect, i)->valuedouble;
    double fx = -1, fy = -1;
    for (int gy = 1; gy < 20 && fx < 0; gy++)
        for (int gx = 1; gx < 20 && fx < 0; gx++) {
            double x = gx / 20.0, y = gy / 20.0;
            int in = 0;
            for (size_t k = 0; k < nright; k++) {
                const cJSON *g = cJSON_GetArrayItem(regions, rights[k]);
                if (cJSON_GetArraySize(g) != 3)
                    continue;
                double dx = x - cJSON_GetArrayItem(g, 0)->valuedouble;
                double dy = (y - cJSON_GetArrayItem(g, 1)->valuedouble) * r[3] / r[2];
                double rad = cJSON_GetArrayItem(g, 2)->valuedouble;
                /* a margin of a tenth: a point on the edge could round either way */
                in |= dx * dx + dy * dy <= rad * rad * 1.21;
            }
            if (!right && !in) {
                fx = x;
                fy = y;
            }
        }
    if (right) {
        const cJSON *g = cJSON_GetArrayItem(regions, rights[0]);
        fx = cJSON_GetArraySize(g) == 3 ? cJSON_GetArrayItem(g, 0)->valuedouble : -1;
        fy = cJSON_GetArraySize(g) == 3 ? cJSON_GetArrayItem(g, 1)->valuedouble : -1;
    }
    if (fx < 0) {
        *none = 1;
        return KK_OK;
    }
    char at[64];
    snprintf(at, sizeof(at), "[%d,%d]", (int)(r[0] + fx * r[2]), (int)(r[1] + fy * r[3]));
    return pack_kiosk_send(wk->k, "tap", at, wk->err);
}

/* A question on screen: its choices, an order question's choices or a hotspot picture. */
static int question_on_screen(const struct pack_kiosk *k, char *choice, size_t cap)
{
    if (has_prefix_target(k, "choice/", choice, cap))
        return 1;
    snprintf(choice, cap, "%s", "");
    return pack_kiosk_has(k, "hotspot-q/pic") || pack_kiosk_has(k, "order/0") ||
           pack_kiosk_has(k, "order/1");
}

/* Plays rounds from the quiz screen the kiosk shows: each question not seen before is shown,
 * answered with its first choice, and shown again with the kiosk's feedback. A round asks
 * only some questions, so while the kiosk names its questions and offers "quiz/again",
 * rounds go on until every question was seen, or MAX_STALE_ROUNDS rounds in a row bring
 * nothing new (the rest are for other groups). */
static enum kk_err play_rounds(struct walk *wk, const struct kk_topic *tp, struct quiz_seen *qs)
{
    char name[160], choice[96];
    enum kk_err rc = KK_OK;
    int stale = 0; /* rounds in a row that brought no new question */
    for (size_t round = 0; !rc && round <= qs->want + MAX_STALE_ROUNDS; round++) {
        size_t before = qs->nseen;
        for (int q = 0; !rc && q < MAX_QUESTIONS; q++) {
            if (!question_on_screen(wk->k, choice, sizeof(choice))) {
                if (pack_kiosk_has(wk->k, "quiz/results"))
                    rc = tap(wk, "quiz/results");
                else if (q == 0 && round == 0 && !qs->shots)
                    wk->c->quiz_missing = 1; /* the quiz scene is still a placeholder */
                break;
            }
            char qid[96]; /* a copy: the screen it comes from is replaced by the next tap */
            snprintf(qid, sizeof(qid), "%s", question_id(wk->k));
            size_t at = tp->nquestions; /* unknown question */
            for (size_t i = 0; *qid && i < tp->nquestions; i++)
                if (!strcmp(tp->questions[i].id, qid))
                    at = i;
            qs->named |= at < tp->nquestions;
            if (at == tp->nquestions) /* only the pack's own (validated) ids go into names */
                qid[0] = '\0';
            int two = at < tp->nquestions && two_answers(&tp->questions[at]);
            int fresh = at == tp->nquestions || !qs->seen[at];
            /* A hotspot or order question seen answered right comes back to be answered
             * wrong: the same shot number, a second answered screen. */
            int again = two && (qs->seen[at] & SEEN_ONCE) && !(qs->seen[at] & SEEN_WRONG);
            int right = !again;
            if (fresh) {
                qs->shots++;
                snprintf(name, sizeof(name), "q%02d-%s", qs->shots, *qid ? qid : "question");
                rc = shoot(wk, PACK_SHOT_QUESTION, tp->id, qs->shots - 1, name);
                wk->c->questions_shown++;
                if (at < tp->nquestions)
                    qs->shot_of[at] = qs->shots;
            }
            int no = at < tp->nquestions && qs->shot_of[at] ? qs->shot_of[at] : qs->shots;
            int none = 0;
            if (!rc && *choice)
                rc = tap(wk, choice);
            else if (!rc && pack_kiosk_has(wk->k, "hotspot-q/pic"))
                rc = answer_hotspot(wk, right, &none);
            else if (!rc)
                rc = answer_order(wk, right);
            if (!rc && none) { /* every point of the picture is right: no wrong answer */
                qs->seen[at] |= SEEN_WRONG;
                qs->nseen++;
                rc = answer_hotspot(wk, 1, &none);
                again = 0;
            }
            if (!rc && pack_kiosk_has(wk->k, "quiz/confirm"))
                rc = tap(wk, "quiz/confirm");
            if (two)
                snprintf(name, sizeof(name), "q%02d-%s-%s", no, qid, right ? "right" : "wrong");
            else
                snprintf(name, sizeof(name), "q%02d-%s-answered", qs->shots,
                         *qid ? qid : "question");
            if (!rc && (fresh || again))
                rc = shoot(wk, PACK_SHOT_ANSWER, tp->id, no - 1, name);
            if (at < tp->nquestions && (fresh || again)) {
                qs->seen[at] |= again ? SEEN_WRONG : SEEN_ONCE;
                qs->nseen++;
            }
            if (rc)
                break;
            if (pack_kiosk_has(wk->k, "quiz/next")) {
                rc = tap(wk, "quiz/next");
                continue;
            }
            if (pack_kiosk_has(wk->k, "quiz/results"))
                rc = tap(wk, "quiz/results");
            if (!rc && !qs->results_shot) {
                qs->results_shot = 1;
                rc = shoot(wk, PACK_SHOT_RESULTS, tp->id, qs->shots, "results");
            }
            break;
        }
        stale = qs->nseen == before ? stale + 1 : 0;
        if (rc || !qs->named || qs->nseen >= qs->want || stale == MAX_STALE_ROUNDS ||
            !pack_kiosk_has(wk->k, "quiz/again"))
            break;
        rc = tap(wk, "quiz/again");
    }
    return rc;
}

/* Switches the visitor's group: back from the menu to the picker, and pick. */
static enum kk_err set_audience(struct walk *wk, enum kk_audience g)
{
    char target[64];
    snprintf(target, sizeof(target), "audience/%s", kk_audience_name(g));
    enum kk_err rc = to_menu(wk);
    if (!rc)
        rc = tap(wk, "nav/back");
    if (!rc)
        rc = expect_scene(wk, "audience", "going back from the menu");
    if (!rc)
        rc = tap(wk, target);
    if (!rc)
        rc = expect_scene(wk, "menu", target);
    return rc ? rc : set_variant(wk); /* picking "elderly" switches large text on */
}

/* Opens the quiz of topic tp through the reader's last screen (no screenshots on the way:
 * those screens were taken already). Sets *none when the reader offers no quiz. */
static enum kk_err open_quiz(struct walk *wk, const struct kk_topic *tp, int *none)
{
    *none = 0;
    enum kk_err rc = open_topic(wk, tp->id);
    for (int i = 0; !rc && i < MAX_SCREENS && pack_kiosk_has(wk->k, "page/next"); i++)
        rc = tap(wk, "page/next");
    if (!rc && !pack_kiosk_has(wk->k, "quiz/start")) {
        *none = 1;
        return KK_OK;
    }
    if (!rc)
        rc = tap(wk, "quiz/start");
    return rc ? rc : expect_scene(wk, "quiz", "quiz/start");
}

/* The topic's quiz, when the reader's last screen (on now) offers it and the kiosk has quiz
 * screens (scene "quiz" with choice/<n> targets). Questions meant only for other groups
 * than the walk's are reached by picking such a group for a while. */
static enum kk_err walk_quiz(struct walk *wk, const struct kk_topic *tp)
{
    if (!pack_kiosk_has(wk->k, "quiz/start"))
        return KK_OK;
    enum kk_err rc = tap(wk, "quiz/start");
    if (rc)
        return rc;
    if (strcmp(pack_kiosk_field(wk->k, "scene"), "quiz")) {
        wk->c->quiz_missing = 1;
        return KK_OK;
    }
    struct quiz_seen qs = {kk_calloc(tp->nquestions + 1, 1),
                           kk_calloc(tp->nquestions + 1, sizeof(int)),
                           0,
                           0,
                           0,
                           0,
                           0};
    if (!qs.seen || !qs.shot_of) {
        kk_free(qs.seen);
        kk_free(qs.shot_of);
        return kk_fail(wk->err, KK_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < tp->nquestions; i++)
        qs.want += two_answers(&tp->questions[i]) ? 2 : 1;
    rc = play_rounds(wk, tp, &qs);
    int switched = 0;
    for (size_t i = 0; !rc && qs.named && i < tp->nquestions; i++) {
        unsigned mask = tp->questions[i].audiences;
        if (question_done(tp, &qs, i) || !mask || (mask & KK_AUD_BIT(KK_AUD_OTHER)))
            continue; /* seen, or "other" already had its rounds */
        int g = 0;
        while (!(mask & KK_AUD_BIT(g)))
            g++;
        int none = 0;
        rc = set_audience(wk, (enum kk_audience)g);
        switched = 1;
        if (!rc)
            rc = open_quiz(wk, tp, &none);
        if (!rc && !none)
            rc = play_rounds(wk, tp, &qs);
    }
    if (!rc && switched)
        rc = set_audience(wk, KK_AUD_OTHER);
    kk_free(qs.seen);
    kk_free(qs.shot_of);
    return rc;
}

/* One kiosk at one screen size: every language and text size, the menu and every topic. */
static enum kk_err walk_size(struct pack_check *c, const char *exe, int w, int h,
                             struct pack_sandbox *sb, struct kk_buf *err)
{
    char log[PATH_MAX];
    snprintf(log, sizeof(log), "%s/kiosk-%dx%d.log", c->report, w, h);
    struct walk wk = {c, NULL, w, h, KK_LANG_ZH, 0, err, 0};
    enum kk_err rc = pack_kiosk_start(&wk.k, exe, sb, w, h, log, c->timeout_ms, err);
    if (!rc)
        rc = expect_scene(&wk, "attract", "starting");
    if (!rc)
        rc = tap(&wk, "start");
    if (!rc)
        rc = expect_scene(&wk, "audience", "tapping start");
    /* "Other visitors": no group preset (elderly would switch large text on), and the menu
     * lists every topic either way. */
    if (!rc)
        rc = tap(&wk, "audience/other");
    if (!rc)
        rc = expect_scene(&wk, "menu", "choosing a group");
    /* Every language in normal and large text, then in high contrast (normal text: the
     * theme's colours are the same at every text size). */
    for (int hc = 0; !rc && hc < 2; hc++)
        for (int lang = 0; !rc && lang < KK_LANG_COUNT; lang++)
            for (int large = 0; !rc && large < 2 - hc; large++) {
                wk.lang = (enum kk_lang)lang;
                wk.large = large;
                wk.hc = hc;
                rc = set_variant(&wk);
                if (!rc)
                    rc = walk_menu(&wk);
                for (size_t t = 0; !rc && t < c->pack->ntopics; t++) {
                    const char *id = c->pack->topics[t].id;
                    rc = open_topic(&wk, id);
                    if (!rc)
                        rc = walk_reader(&wk, id);
                    if (!rc)
                        rc = walk_quiz(&wk, &c->pack->topics[t]);
                }
            }
    pack_kiosk_close(wk.k);
    return rc;
}

/* When the kiosk does not report image rectangles, the largest size a page's picture can
 * be shown at is estimated from the reader's layout rules (src/app/ui_layout.c and
 * scene_reader.c as of this writing): 70 px margins, a 120 px top bar and 150+60+40 px
 * below and above the page; in landscape the pictures share a right-hand column of the
 * page's width less the text column ((w - 2 gaps) * 11/20), in portrait a picture takes
 * the text width and at most 2/5 of the page's height. Captions are ignored, so the
 * estimate errs towards "shown larger". Every size is scaled from the 1920x1080 (or
 * 1080x1920) reference design. */
static void estimate_shown(int w, int h, int large, int nimg, int iw, int ih, int *sw, int *sh)
{
    double rw = w >= h ? 1920.0 : 1080.0, rh = w >= h ? 1080.0 : 1920.0;
    double s = w / rw < h / rh ? w / rw : h / rh;
#define PX(v) ((int)((v)*s + 0.5))
    int box_w = w - 2 * PX(70), box_h = h - PX(120) - PX(150) - PX(60) - PX(40);
    int gap = PX(28);
    int body_px = (int)(34 * s * (large ? 1.3 : 1.0) + 0.5);
#undef PX
    int max_text_w = body_px * 34;
    int bw, bh;
    if (box_w > box_h * 6 / 5 && nimg > 0) {
        int text_w = (box_w - 2 * gap) * 11 / 20;
        if (text_w > max_text_w)
            text_w = max_text_w;
        bw = box_w - (text_w + 2 * gap);
        bh = (box_h - gap * (nimg - 1)) / nimg;
    } else {
        bw = box_w < max_text_w ? box_w : max_text_w;
        bh = box_h * 2 / 5;
    }
    *sw = bw;
    *sh = (int)((long long)bw * ih / iw);
    if (*sh > bh) {
        *sh = bh;
        *sw = (int)((long long)bh * iw / ih);
    }
}

static int estimate_small_images(struct pack_check *c)
{
    const struct kk_pack *p = c->pack;
    for (size_t t = 0; t < p->ntopics; t++)
        for (size_t i = 0; i < p->topics[t].npages; i++) {
            const struct kk_page *pg = &p->topics[t].pages[i];
            int nimg = 0;
            for (size_t b = 0; b < pg->nblocks; b++)
                nimg += pg->blocks[b].type == KK_BLOCK_IMAGE && pg->blocks[b].image;
            for (size_t b = 0; b < pg->nblocks; b++) {
                const struct kk_image *im = pg->blocks[b].image;
                if (pg->blocks[b].type != KK_BLOCK_IMAGE || !im || im->type == KK_IMG_SVG ||
                    im->w < 1 || im->h < 1)
                    continue;
                for (int s = 0; s < c->nsizes; s++) {
                    int best_w = 0, best_h = 0;
                    for (int large = 0; large < 2; large++) {
                        int sw, sh;
                        estimate_shown(c->sizes[s][0], c->sizes[s][1], large, nimg, im->w, im->h,
                                       &sw, &sh);
                        if (sw > best_w) {
                            best_w = sw;
                            best_h = sh;
                        }
                    }
                    if ((best_w > im->w || best_h > im->h) &&
                        add_small(c, im->src, p->topics[t].id, (int)i, im, best_w, best_h,
                                  c->sizes[s][0], c->sizes[s][1], -1, -1, 0))
                        return -1;
                }
            }
        }
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

enum kk_err pack_check_run(struct pack_check *c, struct kk_buf *err)
{
    static const int sizes[2][2] = {{1920, 1080}, {1080, 1920}};
    struct pack_sandbox sb = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!c->nsizes) {
        memcpy(c->sizes, sizes, sizeof(sizes));
        c->nsizes = 2;
    }
    char *exe = pack_kiosk_find(err);
    if (!exe)
        return KK_ERR_NOTFOUND;
    enum kk_err rc = kk_mkdirs(c->report, 0755, err);
    if (!rc)
        rc = pack_sandbox_make(&sb, c->dir, c->pack->id, err);
    for (int s = 0; !rc && s < c->nsizes && !c->failure.len; s++) {
        struct kk_buf why = KK_BUF_INIT;
        enum kk_err wrc = walk_size(c, exe, c->sizes[s][0], c->sizes[s][1], &sb, &why);
        if (wrc == KK_ERR_NOMEM)
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        else if (wrc && (kk_buf_error(&why) ||
                         kk_buf_addf(&c->failure, "%s", kk_buf_str(&why)))) /* never "good" */
            rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
        kk_buf_release(&why);
    }
    if (!rc && !c->measured_images && estimate_small_images(c))
        rc = kk_fail(err, KK_ERR_NOMEM, "out of memory");
    c->seconds = seconds_since(&t0);
    pack_sandbox_release(&sb);
    kk_free(exe);
    return rc;
}
