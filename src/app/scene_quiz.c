/* The quiz (issue 4): one round of questions on the topic in q->topic, for the visitor's
 * audience group. Three screens take turns in this one scene:
 *
 *   question  progress "3 / 5", the prompt (and its picture), big answer buttons; single
 *             and true/false answer on a tap, multiple choice toggles and has Confirm;
 *             an order question's choices are tapped in order (numbered as they are, with
 *             Undo) and graded once all are placed; a hotspot question is its picture,
 *             as large as fits, and the tap on it is the answer;
 *   feedback  right or wrong, the right answers green and a wrong pick red (an order
 *             question: each choice numbered with its right place, green where the visitor
 *             put it there, red where not; a hotspot question: the right regions circled
 *             on the picture and the visitor's tap marked), the explanation, then next (or
 *             "see results" after the last question);
 *   result    the score, a message for its band, the missed questions (each one opens the
 *             reader at the page that teaches it), try again and back to the topics.
 *
 * The engine (kepu/quiz.h) picks, shuffles and scores; this file only shows and records.
 * Every screen is laid out at the full text size first; when it does not fit the box, the
 * choices go into two columns, then the text shrinks a step at a time (never below 72% of
 * the normal size, so large text shrinks further).
 * A screen that still does not fit reports "quiz/fit" as overflow rather than cutting.
 *
 * The round's random source is seeded from libsodium's randombytes_buf each time the
 * scene opens; KEPU_QUIZ_SEED=<n> in the environment seeds it with n instead, so tests
 * get the same rounds every run. docs/quiz.md describes the screens, the events and the
 * "quiz" object of the automation report (report below). */
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"
#include "kepu/quiz.h"
#include "scene_env.h"
#include "scenes.h"
#include "ui_strings.h"
#include "visit.h"

#define SEED_ENV         "KEPU_QUIZ_SEED"
#define MAX_CHOICE_LINES 3   /* a choice button grows to this many lines, no more */
#define CHOICE_IMAGE_H   280 /* design px: the tallest picture in a choice */

enum phase { PH_ASK, PH_FEEDBACK, PH_RESULT, PH_ERROR };

struct quiz_state {
    const struct kk_pack *pack;
    const struct kk_topic *topic;
    struct kk_quiz quiz;
    struct kk_rng rng;
    enum phase phase;
    unsigned selected;                    /* multiple choice: the shown positions toggled on */
    uint64_t shown_at;                    /* when the question on screen appeared */
    struct ui_list scratch;               /* layout attempts */
    struct ui_rect shown[KK_MAX_CHOICES]; /* where each choice is drawn, for the report */
    unsigned char placed[KK_MAX_CHOICES]; /* an order question: shown positions tapped so far */
    size_t nplaced;
    struct ui_rect pic;         /* a hotspot question: where its picture is drawn */
    char prev_pack[2 * 64 + 2]; /* the session's pack before the quiz set its own */
};

/* ---- sizes ---- */

/* Screen-pixel sizes of one layout attempt: the design sizes, times 1.3 in large-text
 * mode, times fit (1 for the first attempt, smaller when the screen did not fit). */
struct style {
    int progress_px, prompt_px, choice_px, verdict_px, explain_px;
    int score_px, message_px, item_px;
    int m;      /* margin at the sides */
    int gap;    /* between blocks */
    int pad;    /* inside buttons and panels */
    int cgap;   /* between choices */
    int target; /* the smallest touch target */
    int cols;   /* columns of text choices */
    int narrow; /* landscape: the right-hand column at 3/4 of its width, for the choices */
};

static int text_px(const struct scene_env *e, double design, double fit)
{
    double k = e->session->large_text ? 1.3 : 1.0;
    int v = (int)(design * k * fit * e->ui->scale + 0.5);
    return v > 8 ? v : 8;
}

static void style_for(struct scene_env *e, double fit, int cols, struct style *st)
{
    st->progress_px = text_px(e, 36, fit);
    st->prompt_px = text_px(e, 46, fit);
    st->choice_px = text_px(e, 36, fit);
    st->verdict_px = text_px(e, 54, fit);
    st->explain_px = text_px(e, 34, fit);
    st->score_px = text_px(e, 120, fit);
    st->message_px = text_px(e, 42, fit);
    st->item_px = text_px(e, 32, fit);
    st->m = ui_px(e->ui, 60);
    st->gap = ui_px(e->ui, fit < 0.9 ? 22 : 30);
    st->pad = ui_px(e->ui, 22);
    st->cgap = ui_px(e->ui, 18);
    st->target = ui_min_target(e->ui);
    st->cols = cols;
    st->narrow = 0;
}

static int line_h(struct scene_env *e, enum ui_font font, int px)
{
    return ui_line_h(e->ui, font, px);
}

/* The height text needs wrapped into w, however many lines that is. */
static int text_h(struct scene_env *e, const char *text, enum ui_font font, int px, int w)
{
    return text && *text ? ui_label_height(e->ui, text, font, px, w, 64) : 0;
}

static int landscape(const struct scene_env *e)
{
    return e->ui->w >= e->ui->h;
}

static void rect(struct ui_list *l, struct ui_rect r, struct ui_color c, int radius)
{
    struct ui_item *it = ui_list_push(l, UI_RECT, r);
    if (it) {
        it->color = c;
        it->radius = radius;
    }
}

static void ring(struct scene_env *e, struct ui_list *l, struct ui_rect r, struct ui_color c,
                 int width)
{
    struct ui_item *it = ui_list_push(l, UI_RING, r);
    if (it) {
        it->color = c;
        it->radius = ui_px(e->ui, width) > 2 ? ui_px(e->ui, width) : 2;
    }
}

static void image(struct ui_list *l, struct ui_rect r, const struct kk_image *img)
{
    struct ui_item *it = ui_list_push(l, UI_IMAGE, r);
    if (it)
        it->image = img;
}

/* The height a picture takes when shown w wide, at most max_h high. */
static int image_h(const struct kk_image *img, int w, int max_h)
{
    if (!img || img->w <= 0 || img->h <= 0)
        return 0;
    long h = (long)w * img->h / img->w;
    return h < max_h ? (int)h : max_h;
}

/* ---- the round ---- */

static uint64_t make_seed(void)
{
    const char *env = getenv(SEED_ENV);
    long v;
    if (env && *env) {
        if (!kk_parse_long(env, 0, LONG_MAX, &v))
            return (uint64_t)v;
        kk_warn("quiz", "%s=%s is not a number >= 0: using a random seed", SEED_ENV, env);
    }
    uint64_t seed;
    if (sodium_init() < 0) {
        kk_warn("quiz", "libsodium did not start: seeding from the clock");
        return (uint64_t)kk_clock_wall_ms() ^ (kk_clock_mono_ms() << 20);
    }
    randombytes_buf(&seed, sizeof(seed));
    return seed;
}

static void start_round(struct scene_env *e, struct quiz_state *q)
{
    struct kk_buf err = KK_BUF_INIT;
    q->selected = 0;
    q->nplaced = 0;
    q->shown_at = kk_clock_mono_ms();
    if (kk_quiz_start(&q->quiz, q->topic, e->session->audience, 0, &q->rng, &err)) {
        kk_error("quiz", "%s/%s: no round: %s", q->pack->id, q->topic->id, kk_buf_str(&err));
        q->phase = PH_ERROR;
    } else {
        kk_info("quiz", "%s/%s: a round of %zu questions", q->pack->id, q->topic->id,
                kk_quiz_total(&q->quiz));
        q->phase = PH_ASK;
    }
    kk_buf_release(&err);
    scene_stack_invalidate(e->stack);
}

static void enter(struct scene_env *e, void *self)
{
    struct quiz_state *q = self;
    q->pack = e->visit->pack;
    q->topic = e->visit->topic;
    ui_list_init(&q->scratch);
    kk_rng_seed(&q->rng, make_seed());
    session_set_pack(e->session, q->pack, q->prev_pack);
    start_round(e, q);
}

static void leave(struct scene_env *e, void *self)
{
    struct quiz_state *q = self;
    audio_stop(e->audio);
    session_restore_pack(e->session, q->prev_pack);
    kk_quiz_release(&q->quiz);
    ui_list_release(&q->scratch);
}

/* Records an event whose fields the engine made; NULL fields mean it ran out of memory. */
static void record(struct scene_env *e, const char *type, cJSON *fields)
{
    if (!fields) {
        kk_error("quiz", "cannot make the %s event (out of memory)", type);
        return;
    }
    session_event(e->session, type, fields);
}

/* After the engine took the answer to the question on screen (rc KK_OK): its events, and
 * the feedback. A refused answer is logged and changes nothing. */
static void answered(struct scene_env *e, struct quiz_state *q, enum kk_err rc, struct kk_buf *err)
{
    size_t i = kk_quiz_index(&q->quiz);
    if (rc) {
        kk_warn("quiz", "answer not taken: %s", kk_buf_str(err));
        kk_buf_release(err);
        return;
    }
    kk_buf_release(err);
    record(e, "quiz_answer", kk_quiz_answer_fields(&q->quiz, i));
    /* The round is complete once the last question is answered, whether or not the
     * visitor goes on to the result screen. */
    if (i + 1 == kk_quiz_total(&q->quiz))
        record(e, "quiz_complete", kk_quiz_complete_fields(&q->quiz));
    q->phase = PH_FEEDBACK;
    q->selected = 0;
    scene_stack_invalidate(e->stack);
}

static uint64_t thinking_ms(const struct quiz_state *q)
{
    return kk_clock_mono_ms() - q->shown_at;
}

static void answer(struct scene_env *e, struct quiz_state *q, unsigned mask)
{
    struct kk_buf err = KK_BUF_INIT;
    answered(e, q, kk_quiz_answer(&q->quiz, mask, thinking_ms(q), NULL, &err), &err);
}

/* A tap on a hotspot question's picture: where it landed, in fractions of the picture. */
static void tap_picture(struct scene_env *e, struct quiz_state *q)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    if (q->phase != PH_ASK || !qu || qu->type != KK_Q_HOTSPOT || q->pic.w <= 0 || q->pic.h <= 0)
        return;
    double x = (e->tap_x - q->pic.x + 0.5) / q->pic.w, y = (e->tap_y - q->pic.y + 0.5) / q->pic.h;
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    y = y < 0 ? 0 : y > 1 ? 1 : y;
    struct kk_buf err = KK_BUF_INIT;
    answered(e, q, kk_quiz_answer_point(&q->quiz, x, y, thinking_ms(q), NULL, &err), &err);
}

/* An order question's choice at shown position `shown` goes next; the last one answers. */
static void place(struct scene_env *e, struct quiz_state *q, const char *shown)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    long s;
    if (q->phase != PH_ASK || !qu || qu->type != KK_Q_ORDER ||
        kk_parse_long(shown, 0, (long)qu->nchoices - 1, &s))
        return;
    for (size_t k = 0; k < q->nplaced; k++)
        if (q->placed[k] == s)
            return; /* placed already: Undo takes it back */
    q->placed[q->nplaced++] = (unsigned char)s;
    scene_stack_invalidate(e->stack);
    if (q->nplaced < qu->nchoices)
        return;
    struct kk_buf err = KK_BUF_INIT;
    enum kk_err rc =
        kk_quiz_answer_order(&q->quiz, q->placed, q->nplaced, thinking_ms(q), NULL, &err);
    if (rc)
        q->nplaced--; /* not taken: the last one stays unplaced */
    answered(e, q, rc, &err);
}

static void undo(struct scene_env *e, struct quiz_state *q)
{
    if (q->phase != PH_ASK || !q->nplaced)
        return;
    q->nplaced--;
    scene_stack_invalidate(e->stack);
}

static void choose(struct scene_env *e, struct quiz_state *q, const char *shown)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    long s;
    if (q->phase != PH_ASK || !qu || kk_parse_long(shown, 0, (long)qu->nchoices - 1, &s))
        return;
    if (qu->type == KK_Q_MULTI) {
        q->selected ^= 1u << s;
        scene_stack_invalidate(e->stack);
    } else {
        answer(e, q, 1u << s);
    }
}

static void next(struct scene_env *e, struct quiz_state *q)
{
    struct kk_buf err = KK_BUF_INIT;
    if (q->phase != PH_FEEDBACK || kk_quiz_next(&q->quiz, &err)) {
        if (err.len)
            kk_warn("quiz", "%s", kk_buf_str(&err));
        kk_buf_release(&err);
        return;
    }
    q->phase = kk_quiz_done(&q->quiz) ? PH_RESULT : PH_ASK;
    q->nplaced = 0;
    q->shown_at = kk_clock_mono_ms();
    scene_stack_invalidate(e->stack);
}

/* The missed question qid's teaching page, in the reader: the reader under the quiz turns
 * to it, or one opens there. */
static void read_about(struct scene_env *e, struct quiz_state *q, const char *qid)
{
    for (size_t k = 0; k < kk_quiz_nmissed(&q->quiz); k++) {
        const struct kk_question *qu = kk_quiz_missed(&q->quiz, k)->question;
        if (strcmp(qu->id, qid))
            continue;
        visit_read_page(e, qu->page >= 0 ? (size_t)qu->page : 0);
        return;
    }
}

static void tap(struct scene_env *e, void *self, const char *id)
{
    struct quiz_state *q = self;
    if (!strncmp(id, "choice/", 7))
        choose(e, q, id + 7);
    else if (!strcmp(id, "hotspot-q/pic"))
        tap_picture(e, q);
    else if (!strcmp(id, "order/undo"))
        undo(e, q);
    else if (!strncmp(id, "order/", 6))
        place(e, q, id + 6);
    else if (!strcmp(id, "quiz/confirm")) {
        if (q->phase == PH_ASK && q->selected)
            answer(e, q, q->selected);
    } else if (!strcmp(id, "quiz/next") || !strcmp(id, "quiz/results"))
        next(e, q);
    else if (!strcmp(id, "quiz/again"))
        start_round(e, q);
    else if (!strcmp(id, "quiz/menu"))
        visit_to_menu(e);
    else if (!strncmp(id, "missed/", 7))
        read_about(e, q, id + 7);
}

/* ---- drawing pieces ---- */

/* "3 / 5" and a bar per question: green or red once answered, blue for the one shown. */
static int progress(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                    const struct style *st, int x, int y, int w)
{
    size_t total = kk_quiz_total(&q->quiz), cur = kk_quiz_index(&q->quiz);
    char text[32];
    snprintf(text, sizeof(text), "%zu / %zu", cur + 1, total);
    int lh = line_h(e, UI_FONT_BOLD, st->progress_px);
    int tw = ui_width(e->ui, UI_FONT_BOLD, st->progress_px, text) + 1;
    ui_label(e->ui, l, "quiz/progress", text, UI_FONT_BOLD, st->progress_px, UI_ACCENT, x, y, tw, 1,
             0);
    tw += st->gap;
    int seg = ui_px(e->ui, 56), sh = ui_px(e->ui, 12), g = ui_px(e->ui, 10);
    if (seg * (int)total + g * (int)total > w - tw)
        seg = (w - tw) / (int)(total ? total : 1) - g;
    for (size_t i = 0; i < total && seg > 4; i++) {
        const struct kk_quiz_record *r = kk_quiz_record(&q->quiz, i);
        struct ui_color c =
            r->answered ? (r->correct ? UI_GOOD : UI_BAD) : (i == cur ? UI_PRIMARY : UI_LINE);
        struct ui_rect sr = {x + tw + (int)i * (seg + g), y + (lh - sh) / 2, seg, sh};
        /* Not by colour alone: a wrong answer's segment is an outline, a right one filled. */
        if (r->answered && !r->correct)
            ring(e, l, sr, c, 3);
        else
            rect(l, sr, c, sh / 2);
    }
    return lh;
}

/* What a choice looks like: asking (maybe selected) or after the answer. */
enum look { LOOK_ASK, LOOK_SELECTED, LOOK_RIGHT, LOOK_WRONG, LOOK_OTHER };

static int badge_size(struct scene_env *e, const struct style *st)
{
    return line_h(e, UI_FONT_BOLD, st->choice_px);
}

/* An order question's choice has a second badge at its right end after the answer (a tick
 * or a cross); its text leaves room for it from the start, so nothing moves. */
static int choice_text_w(struct scene_env *e, const struct style *st, const struct kk_question *qu,
                         int w)
{
    if (qu->type == KK_Q_ORDER)
        return w - 4 * st->pad - 2 * badge_size(e, st);
    return w - 3 * st->pad - badge_size(e, st);
}

/* The height of the choice shown at s in a cell w wide; *lines_ok is cleared when its text
 * needs more than MAX_CHOICE_LINES lines. */
static int choice_h(struct scene_env *e, const struct style *st, const struct kk_question *qu,
                    const struct kk_choice *c, int w, int *lines_ok)
{
    int lh = line_h(e, UI_FONT_REGULAR, st->choice_px);
    int th = text_h(e, kk_text_get(&c->text, e->session->lang), UI_FONT_REGULAR, st->choice_px,
                    choice_text_w(e, st, qu, w));
    if (th > MAX_CHOICE_LINES * lh)
        *lines_ok = 0;
    int row = th > badge_size(e, st) ? th : badge_size(e, st);
    int h = row + 2 * st->pad * 2 / 3;
    if (c->image)
        h += image_h(c->image, w - 2 * st->pad, ui_px(e->ui, CHOICE_IMAGE_H)) + st->pad / 2;
    int least = ui_px(e->ui, 124) > st->target ? ui_px(e->ui, 124) : st->target;
    return h > least ? h : least;
}

static void choice(struct scene_env *e, struct ui_list *l, const struct style *st,
                   const struct kk_question *qu, size_t s, const struct kk_choice *c,
                   struct ui_rect r, enum look look)
{
    struct ui_color bg = UI_CARD, ink = UI_INK, edge = UI_PRIMARY, mark = UI_PRIMARY;
    int edge_w = 3, filled_mark = qu->type != KK_Q_MULTI;
    switch (look) {
    case LOOK_ASK:
        break;
    case LOOK_SELECTED:
        bg = UI_SELECTED_SOFT;
        edge = UI_PRIMARY_DARK;
        edge_w = 6;
        filled_mark = 1;
        break;
    case LOOK_RIGHT:
        bg = UI_GOOD;
        ink = UI_ON_PRIMARY;
        edge = UI_GOOD;
        mark = UI_ON_PRIMARY;
        break;
    case LOOK_WRONG:
        bg = UI_BAD;
        ink = UI_ON_PRIMARY;
        edge = UI_BAD;
        mark = UI_ON_PRIMARY;
        break;
    case LOOK_OTHER:
        ink = UI_INK_SOFT;
        edge = UI_LINE;
        mark = UI_LINE;
        break;
    }
    rect(l, r, bg, ui_px(e->ui, 18));
    if (look != LOOK_RIGHT && look != LOOK_WRONG)
        ring(e, l, r, edge, edge_w);

    int y = r.y + st->pad * 2 / 3;
    if (c->image) {
        int ih = image_h(c->image, r.w - 2 * st->pad, ui_px(e->ui, CHOICE_IMAGE_H));
        image(l, (struct ui_rect){r.x + st->pad, y, r.w - 2 * st->pad, ih}, c->image);
        y += ih + st->pad / 2;
    }
    /* The badge: a letter to refer to, a box to tick for multiple choice, and after the
     * answer a tick or a cross where the font has them. */
    int d = badge_size(e, st);
    const char *text = kk_text_get(&c->text, e->session->lang);
    int th = text_h(e, text, UI_FONT_REGULAR, st->choice_px, choice_text_w(e, st, qu, r.w));
    int row = th > d ? th : d;
    int by = y + (r.y + r.h - y - st->pad * 2 / 3 - row) / 2;
    struct ui_rect badge = {r.x + st->pad, by + (row - d) / 2, d, d};
    char sign[8];
    snprintf(sign, sizeof(sign), "%c", 'A' + (int)s);
    struct ui_color sign_ink = UI_ON_PRIMARY;
    if (look == LOOK_RIGHT || look == LOOK_WRONG) {
        /* Noto Sans CJK has ✓ but not ✗; × is in every font. */
        const char *glyph = look == LOOK_RIGHT ? "✓" : "✗";
        if (look == LOOK_WRONG && !ui_covers(e->ui, glyph))
            glyph = "×";
        if (ui_covers(e->ui, glyph))
            snprintf(sign, sizeof(sign), "%s", glyph);
        sign_ink = bg;
    } else if (look == LOOK_OTHER) {
        sign_ink = UI_INK_SOFT;
    } else if (look == LOOK_SELECTED && qu->type == KK_Q_MULTI) {
        snprintf(sign, sizeof(sign), "%s", ui_covers(e->ui, "✓") ? "✓" : sign);
    }
    /* The other choices after the answer: an outlined badge, its letter in soft ink on the
     * card (a filled badge in the line colour would leave too little contrast). */
    if ((filled_mark && look != LOOK_OTHER) || look == LOOK_RIGHT || look == LOOK_WRONG) {
        rect(l, badge, mark, qu->type == KK_Q_MULTI ? ui_px(e->ui, 8) : d / 2);
    } else { /* multiple choice, not ticked: an empty box with the letter */
        ring(e, l, badge, look == LOOK_OTHER ? UI_LINE : UI_PRIMARY, 3);
        sign_ink = look == LOOK_OTHER ? UI_INK_SOFT : UI_PRIMARY;
    }
    int blh = line_h(e, UI_FONT_BOLD, st->choice_px * 3 / 4);
    char sid[64];
    snprintf(sid, sizeof(sid), "choice/%zu/mark", s);
    ui_label(e->ui, l, sid, sign, UI_FONT_BOLD, st->choice_px * 3 / 4, sign_ink, badge.x,
             badge.y + (d - blh) / 2, d, 1, 1);
    snprintf(sid, sizeof(sid), "choice/%zu/text", s);
    ui_label(e->ui, l, sid, text, UI_FONT_REGULAR, st->choice_px, ink, badge.x + d + st->pad,
             by + (row - th) / 2, choice_text_w(e, st, qu, r.w), MAX_CHOICE_LINES, 0);
}

/* A round badge d wide at (x, y) with sign in it: filled with fill, or (fill NULL) an
 * outline in edge. */
static void round_badge(struct scene_env *e, struct ui_list *l, const struct style *st,
                        const char *id, const char *sign, int x, int y, const struct ui_color *fill,
                        struct ui_color edge, struct ui_color ink)
{
    int d = badge_size(e, st);
    struct ui_rect badge = {x, y, d, d};
    struct ui_item *it = fill ? NULL : ui_list_push(l, UI_CIRCLE, badge);
    if (fill)
        rect(l, badge, *fill, d / 2);
    if (it) {
        it->color = edge;
        it->radius = ui_px(e->ui, 3) > 2 ? ui_px(e->ui, 3) : 2;
    }
    if (!*sign)
        return;
    int px = st->choice_px * 3 / 4, blh = line_h(e, UI_FONT_BOLD, px);
    ui_label(e->ui, l, id, sign, UI_FONT_BOLD, px, ink, x, y + (d - blh) / 2, d, 1, 1);
}

/* One choice of an order question, shown at s: while asking, its number in the visitor's
 * order once tapped (placed, 1-based; 0 not yet); after the answer, the number of its right
 * place, green where the visitor put it there and red with a cross where not. */
static void order_choice(struct scene_env *e, struct ui_list *l, const struct style *st,
                         const struct kk_question *qu, size_t s, const struct kk_choice *c,
                         struct ui_rect r, const struct kk_quiz_record *rec, size_t placed)
{
    struct ui_color bg = UI_CARD, ink = UI_INK, edge = UI_PRIMARY;
    int edge_w = 3;
    char sign[24] = "", sid[64];
    size_t right_at = 0, tapped_at = 0;
    for (size_t k = 0; k < qu->nchoices; k++) {
        if (rec->right_order[k] == s)
            right_at = k + 1;
        if (rec->answered && rec->tapped[k] == s)
            tapped_at = k + 1;
    }
    int good = rec->answered && right_at == tapped_at;
    if (rec->answered) {
        bg = good ? UI_GOOD : UI_BAD;
        ink = UI_ON_PRIMARY;
        snprintf(sign, sizeof(sign), "%zu", right_at);
    } else if (placed) {
        bg = UI_SELECTED_SOFT;
        edge = UI_PRIMARY_DARK;
        edge_w = 6;
        snprintf(sign, sizeof(sign), "%zu", placed);
    }
    rect(l, r, bg, ui_px(e->ui, 18));
    if (!rec->answered)
        ring(e, l, r, edge, edge_w);

    int d = badge_size(e, st), tw = choice_text_w(e, st, qu, r.w);
    const char *text = kk_text_get(&c->text, e->session->lang);
    int th = text_h(e, text, UI_FONT_REGULAR, st->choice_px, tw);
    int row = th > d ? th : d;
    int by = r.y + (r.h - row) / 2, bx = r.x + st->pad, bty = by + (row - d) / 2;
    snprintf(sid, sizeof(sid), "order/%zu/mark", s);
    if (rec->answered)
        round_badge(e, l, st, sid, sign, bx, bty, &UI_ON_PRIMARY, UI_ON_PRIMARY, bg);
    else if (placed)
        round_badge(e, l, st, sid, sign, bx, bty, &UI_PRIMARY, UI_PRIMARY, UI_ON_PRIMARY);
    else
        round_badge(e, l, st, sid, sign, bx, bty, NULL, UI_PRIMARY, UI_PRIMARY);
    snprintf(sid, sizeof(sid), "order/%zu/text", s);
    ui_label(e->ui, l, sid, text, UI_FONT_REGULAR, st->choice_px, ink, bx + d + st->pad,
             by + (row - th) / 2, tw, MAX_CHOICE_LINES, 0);
    if (rec->answered) { /* not by colour alone: a tick or a cross at the right end */
        const char *glyph = good ? "✓" : "✗";
        if (!good && !ui_covers(e->ui, glyph))
            glyph = "×";
        snprintf(sid, sizeof(sid), "order/%zu/verdict", s);
        round_badge(e, l, st, sid, ui_covers(e->ui, glyph) ? glyph : "", r.x + r.w - st->pad - d,
                    bty, NULL, UI_ON_PRIMARY, UI_ON_PRIMARY);
    }
}

/* How many columns the choices of qu take. */
static int choice_cols(const struct scene_env *e, const struct style *st,
                       const struct kk_question *qu)
{
    int pictures = 0;
    for (size_t i = 0; i < qu->nchoices; i++)
        pictures |= qu->choices[i].image != NULL;
    if (pictures) {
        int most = landscape(e) ? 4 : 2;
        return (int)qu->nchoices < most ? (int)qu->nchoices : most;
    }
    if (qu->type == KK_Q_TRUEFALSE)
        return 2;
    return st->cols;
}

/* Lays the choices out in a grid w wide at (x, y), each row extra pixels taller than its
 * content needs; draws them when l is not NULL. Returns the height; clears *ok when a
 * choice needs too many lines. */
static int choices(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                   const struct style *st, int x, int y, int w, int extra, int *ok)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    const struct kk_quiz_record *rec = kk_quiz_current(&q->quiz);
    int cols = choice_cols(e, st, qu);
    int cw = (w - (cols - 1) * st->cgap) / cols;
    int top = y;
    for (size_t row = 0; row * (size_t)cols < qu->nchoices; row++) {
        int rh = 0;
        for (size_t c = 0; c < (size_t)cols && row * cols + c < qu->nchoices; c++) {
            int h = choice_h(e, st, qu, kk_quiz_choice(&q->quiz, row * cols + c), cw, ok);
            rh = h > rh ? h : rh;
        }
        rh += extra;
        for (size_t c = 0; l && c < (size_t)cols && row * cols + c < qu->nchoices; c++) {
            size_t s = row * cols + c;
            unsigned bit = 1u << s;
            struct ui_rect r = {x + (int)c * (cw + st->cgap), y, cw, rh};
            enum look look = LOOK_ASK;
            if (rec->answered)
                look = rec->right_shown & bit ? LOOK_RIGHT
                                              : (rec->chosen_shown & bit ? LOOK_WRONG : LOOK_OTHER);
            else if (q->selected & bit)
                look = LOOK_SELECTED;
            const struct kk_choice *ch = kk_quiz_choice(&q->quiz, s);
            size_t placed = 0; /* an order question: its number in the visitor's order */
            for (size_t k = 0; k < q->nplaced; k++)
                if (q->placed[k] == s)
                    placed = k + 1;
            if (qu->type == KK_Q_ORDER)
                order_choice(e, l, st, qu, s, ch, r, rec, placed);
            else
                choice(e, l, st, qu, s, ch, r, look);
            q->shown[s] = r;
            if (!rec->answered && !placed) {
                char id[32], label[160];
                snprintf(id, sizeof(id), qu->type == KK_Q_ORDER ? "order/%zu" : "choice/%zu", s);
                const char *t = kk_text_get(&ch->text, e->session->lang);
                snprintf(label, sizeof(label), "%s", t && *t ? t : id);
                ui_list_target(l, r, id, label);
            }
        }
        y += rh + st->cgap;
    }
    return y - st->cgap - top;
}

/* The action button at the bottom right of column (x, w) ending at bottom. */
static struct ui_rect action_rect(struct scene_env *e, const struct style *st, int x, int w,
                                  int bottom)
{
    int bw = ui_px(e->ui, 460) < w ? ui_px(e->ui, 460) : w;
    bw = bw > st->target ? bw : st->target;
    return (struct ui_rect){x + w - bw, bottom - st->target, bw, st->target};
}

/* A button that cannot be touched yet: an outline with soft text (soft text on the card
 * keeps its contrast in every theme; on the line colour it would not: black in high
 * contrast). */
static void disabled_button(struct scene_env *e, struct ui_list *l, const struct style *st,
                            struct ui_rect r, const char *id, const char *label)
{
    rect(l, r, UI_CARD, ui_px(e->ui, 18));
    ring(e, l, r, UI_LINE, 3);
    int px = e->session->large_text ? ui_px(e->ui, 40) : ui_px(e->ui, 34);
    int lh = line_h(e, UI_FONT_BOLD, px);
    ui_label(e->ui, l, id, label, UI_FONT_BOLD, px, UI_INK_SOFT, r.x + st->pad,
             r.y + (r.h - lh) / 2, r.w - 2 * st->pad, 1, 1);
}

static void confirm(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                    const struct style *st, struct ui_rect r)
{
    if (q->selected)
        ui_button(e->ui, l, r, "quiz/confirm", ui_str(S_CONFIRM, e->session->lang), 1);
    else /* nothing chosen yet */
        disabled_button(e, l, st, r, "quiz/confirm", ui_str(S_CONFIRM, e->session->lang));
}

/* An order question's Undo: takes the last placed choice back; untouchable before one is. */
static void undo_button(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                        const struct style *st, struct ui_rect r)
{
    if (q->nplaced)
        ui_button(e->ui, l, r, "order/undo", ui_str(S_UNDO, e->session->lang), 0);
    else
        disabled_button(e, l, st, r, "order/undo", ui_str(S_UNDO, e->session->lang));
}

/* The right-or-wrong panel: verdict and explanation, in (x, y, w); h is its height, or
 * 0 to size it to its text. Returns the height used. */
static int verdict(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                   const struct style *st, int x, int y, int w, int h)
{
    const struct kk_quiz_record *rec = kk_quiz_current(&q->quiz);
    const char *why = kk_text_get(&rec->question->explain, e->session->lang);
    int inner = w - 2 * st->pad - ui_px(e->ui, 12);
    int vh = line_h(e, UI_FONT_BOLD, st->verdict_px);
    int eh = text_h(e, why, UI_FONT_REGULAR, st->explain_px, inner);
    int need = st->pad + vh + (eh ? st->pad / 2 + eh : 0) + st->pad;
    if (!h)
        h = need;
    if (!l)
        return need;
    struct ui_color c = rec->correct ? UI_GOOD : UI_BAD;
    rect(l, (struct ui_rect){x, y, w, h}, rec->correct ? UI_GOOD_SOFT : UI_BAD_SOFT,
         ui_px(e->ui, 20));
    rect(l, (struct ui_rect){x, y, ui_px(e->ui, 12), h}, c, ui_px(e->ui, 6));
    int tx = x + ui_px(e->ui, 12) + st->pad, ty = y + st->pad;
    ty += ui_label(e->ui, l, "quiz/verdict",
                   ui_str(rec->correct ? S_CORRECT : S_NOT_QUITE, e->session->lang), UI_FONT_BOLD,
                   st->verdict_px, c, tx, ty, inner, 1, 0);
    if (eh)
        ui_label(e->ui, l, "quiz/explain", why, UI_FONT_REGULAR, st->explain_px, UI_INK, tx,
                 ty + st->pad / 2, inner, 64, 0);
    return h;
}

/* ---- the screens; each returns 1 when everything fitted ---- */

/* Every question's header in the column (x, mw) from y: the round's progress, then the
 * prompt whole. Returns where what follows starts. */
static int header(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                  const struct style *st, int x, int y, int mw)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    y += progress(e, q, l, st, x, y, mw) + st->gap;
    const char *prompt = kk_text_get(&qu->prompt, e->session->lang);
    ui_label(e->ui, l, "quiz/prompt", prompt, UI_FONT_BOLD, st->prompt_px, UI_PRIMARY_DARK, x, y,
             mw, 64, 0);
    return y + text_h(e, prompt, UI_FONT_BOLD, st->prompt_px, mw) + st->gap;
}

static int build_question(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                          struct ui_rect box, const struct style *st)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    int feedback = q->phase == PH_FEEDBACK, ok = 1;
    int x = box.x + st->m, y = box.y + st->gap, w = box.w - 2 * st->m;
    int bottom = box.y + box.h - st->gap;
    /* Landscape: the feedback, or the question's picture, takes a column on the right. */
    int side = landscape(e) && (feedback || qu->image);
    /* An order question's choices carry two badges: they get more of the width. */
    int pct = feedback ? (qu->type == KK_Q_ORDER ? 34 : 42) : 36;
    int sw = side ? w * (st->narrow ? pct * 3 / 4 : pct) / 100 : 0;
    int mw = side ? w - sw - st->gap : w;
    int sx = x + mw + st->gap;

    y = header(e, q, l, st, x, y, mw);

    struct ui_rect act = action_rect(e, st, side ? sx : x, side ? sw : w, bottom);
    int has_action = feedback || qu->type == KK_Q_MULTI || qu->type == KK_Q_ORDER;
    int limit = (has_action && !side ? act.y - st->gap : bottom);
    if (!feedback && qu->image) {
        if (side) {
            int ih = image_h(qu->image, sw,
                             bottom - box.y - st->gap - (has_action ? st->target + st->gap : 0));
            image(l, (struct ui_rect){sx, box.y + st->gap, sw, ih}, qu->image);
        } else {
            int ch = choices(e, q, NULL, st, x, y, mw, 0, &ok);
            int room = limit - y - ch - st->gap;
            int ih = image_h(qu->image, mw, room < box.h * 3 / 10 ? room : box.h * 3 / 10);
            if (ih < ui_px(e->ui, 120)) /* too small to see: no room for it */
                ok = 0;
            image(l, (struct ui_rect){x, y, mw, ih}, qu->image);
            y += ih + st->gap;
        }
    }
    /* Spare height makes the buttons bigger, up to 60 design px a row; in portrait the
     * feedback panel's room is kept on the question too, so nothing jumps. */
    int cols = choice_cols(e, st, qu), rows = ((int)qu->nchoices + cols - 1) / cols;
    int spare = (side ? bottom : limit) - y - choices(e, q, NULL, st, x, y, mw, 0, &ok);
    if (!side && landscape(e) == 0)
        spare -= st->gap + verdict(e, q, NULL, st, x, 0, w, 0);
    int extra = spare > 0 ? spare / rows : 0;
    extra = extra < ui_px(e->ui, 60) ? extra : ui_px(e->ui, 60);
    y += choices(e, q, l, st, x, y, mw, extra, &ok);
    if (y > (side ? bottom : limit))
        ok = 0;

    if (feedback) {
        int last = kk_quiz_index(&q->quiz) + 1 == kk_quiz_total(&q->quiz);
        if (side) {
            int vy = box.y + st->gap, vh = act.y - st->gap - vy;
            if (verdict(e, q, NULL, st, sx, vy, sw, 0) > vh)
                ok = 0;
            verdict(e, q, l, st, sx, vy, sw, vh);
        } else {
            int vh = verdict(e, q, NULL, st, x, y + st->gap, w, 0);
            if (y + st->gap + vh > act.y - st->gap)
                ok = 0;
            verdict(e, q, l, st, x, y + st->gap, w, vh);
        }
        ui_button(e->ui, l, act, last ? "quiz/results" : "quiz/next",
                  ui_str(last ? S_SEE_RESULTS : S_NEXT_QUESTION, e->session->lang), 1);
    } else if (qu->type == KK_Q_MULTI) {
        confirm(e, q, l, st, act);
    } else if (qu->type == KK_Q_ORDER) {
        undo_button(e, q, l, st, act);
    }
    return ok;
}

/* A circle outline of radius rad around (cx, cy): the colour over a thicker halo in
 * UI_ON_PRIMARY, so it shows on a dark picture as on a light one. */
static void circle(struct scene_env *e, struct ui_list *l, int cx, int cy, int rad,
                   struct ui_color c)
{
    int halo = ui_px(e->ui, 4), w = ui_px(e->ui, 8) > 3 ? ui_px(e->ui, 8) : 3;
    struct ui_item *it = ui_list_push(
        l, UI_CIRCLE,
        (struct ui_rect){cx - rad - halo, cy - rad - halo, 2 * (rad + halo), 2 * (rad + halo)});
    if (it) {
        it->color = UI_ON_PRIMARY;
        it->radius = w + 2 * halo;
    }
    it = ui_list_push(l, UI_CIRCLE, (struct ui_rect){cx - rad, cy - rad, 2 * rad, 2 * rad});
    if (it) {
        it->color = c;
        it->radius = w;
    }
}

/* A disc of diameter d centred at (cx, cy). */
static void disc(struct ui_list *l, int cx, int cy, int d, struct ui_color c)
{
    rect(l, (struct ui_rect){cx - d / 2, cy - d / 2, d, d}, c, d / 2);
}

/* After a hotspot question's answer: the right regions circled on the picture at pic, and
 * the visitor's tap marked (a dot, green when right, red when not, on a light halo). */
static void hotspot_marks(struct scene_env *e, struct ui_list *l, const struct kk_question *qu,
                          const struct kk_quiz_record *rec, struct ui_rect pic)
{
    for (size_t i = 0; i < qu->nregions; i++) {
        if (!(qu->answer_mask & (1u << i)))
            continue;
        const struct kk_region *rg = &qu->regions[i];
        int rad = (int)(rg->r * pic.w + 0.5);
        circle(e, l, pic.x + (int)(rg->x * pic.w + 0.5), pic.y + (int)(rg->y * pic.h + 0.5),
               rad > 4 ? rad : 4, UI_GOOD);
    }
    int tx = pic.x + (int)(rec->tap_x * pic.w + 0.5), ty = pic.y + (int)(rec->tap_y * pic.h + 0.5);
    disc(l, tx, ty, ui_px(e->ui, 44), UI_ON_PRIMARY);
    disc(l, tx, ty, ui_px(e->ui, 32), rec->correct ? UI_GOOD : UI_BAD);
    disc(l, tx, ty, ui_px(e->ui, 10), UI_ON_PRIMARY);
}

/* A hotspot question: the prompt, then its picture as large as the rest of the column
 * allows (aspect kept); a tap on it answers. After the answer, landscape puts the verdict
 * in a column on the right, portrait under the picture. */
static int build_hotspot(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                         struct ui_rect box, const struct style *st)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    const struct kk_quiz_record *rec = kk_quiz_current(&q->quiz);
    int feedback = q->phase == PH_FEEDBACK, ok = 1;
    int x = box.x + st->m, y = box.y + st->gap, w = box.w - 2 * st->m;
    int bottom = box.y + box.h - st->gap;
    int side = landscape(e) && feedback;
    int sw = side ? w * 36 / 100 : 0;
    int mw = side ? w - sw - st->gap : w;
    int sx = x + mw + st->gap;

    const char *prompt = kk_text_get(&qu->prompt, e->session->lang);
    y = header(e, q, l, st, x, y, mw);

    struct ui_rect act = action_rect(e, st, side ? sx : x, side ? sw : w, bottom);
    int limit = bottom, vh = 0;
    if (feedback && !side) {
        vh = verdict(e, q, NULL, st, x, 0, w, 0);
        limit = act.y - st->gap - vh - st->gap;
    }
    int pw = 0, pich = 0;
    if (limit - y > 0)
        ui_fit(qu->image, mw, limit - y, &pw, &pich);
    /* Too small to aim at: the text shrinks until the picture has room, unless the picture
     * could hardly be that large even on the whole screen (a tall one in landscape, a wide
     * one in portrait): then 2/3 of what the whole screen gives is enough. */
    int most_w = 0, most_h = 0, aim = ui_px(e->ui, 240);
    ui_fit(qu->image, mw, bottom - box.y - st->gap, &most_w, &most_h);
    int aim_w = most_w * 2 / 3 < aim ? most_w * 2 / 3 : aim;
    int aim_h = most_h * 2 / 3 < aim ? most_h * 2 / 3 : aim;
    if (pw < aim_w || pich < aim_h)
        ok = 0;
    struct ui_rect pic = {x + (mw - pw) / 2, y, pw, pich};
    q->pic = pic;
    image(l, pic, qu->image);
    if (!rec->answered)
        ui_list_target(l, pic, "hotspot-q/pic", prompt);
    else
        hotspot_marks(e, l, qu, rec, pic);

    if (feedback) {
        int last = kk_quiz_index(&q->quiz) + 1 == kk_quiz_total(&q->quiz);
        if (side) {
            int vy = box.y + st->gap, avail = act.y - st->gap - vy;
            if (verdict(e, q, NULL, st, sx, vy, sw, 0) > avail)
                ok = 0;
            verdict(e, q, l, st, sx, vy, sw, avail);
        } else {
            verdict(e, q, l, st, x, y + pich + st->gap, w, vh);
        }
        ui_button(e->ui, l, act, last ? "quiz/results" : "quiz/next",
                  ui_str(last ? S_SEE_RESULTS : S_NEXT_QUESTION, e->session->lang), 1);
    }
    return ok;
}

/* An encouraging word for the score's band. */
static enum ui_str message_for(size_t score, size_t total)
{
    if (total && score == total)
        return S_QUIZ_ALL_RIGHT;
    if (score * 5 >= total * 3)
        return S_QUIZ_MOST_RIGHT;
    if (score > 0)
        return S_QUIZ_SOME_RIGHT;
    return S_QUIZ_NONE_RIGHT;
}

/* One missed question: its prompt, and "Read about it" on the right. */
static int missed_row(struct scene_env *e, struct ui_list *l, const struct style *st,
                      const struct kk_question *qu, int x, int y, int w)
{
    const char *prompt = kk_text_get(&qu->prompt, e->session->lang);
    const char *go = ui_str(S_READ_ABOUT_IT, e->session->lang);
    int gw = ui_width(e->ui, UI_FONT_BOLD, st->item_px, go);
    int tw = w - 3 * st->pad - gw - ui_px(e->ui, 12);
    int th = text_h(e, prompt, UI_FONT_REGULAR, st->item_px, tw);
    int h = th + st->pad * 4 / 3;
    h = h > st->target ? h : st->target;
    if (!l)
        return h;
    struct ui_rect r = {x, y, w, h};
    rect(l, r, UI_CARD, ui_px(e->ui, 16));
    rect(l, (struct ui_rect){x, y, ui_px(e->ui, 12), h}, UI_BAD, ui_px(e->ui, 6));
    char id[128];
    snprintf(id, sizeof(id), "missed/%s/text", qu->id);
    ui_label(e->ui, l, id, prompt, UI_FONT_REGULAR, st->item_px, UI_INK,
             x + ui_px(e->ui, 12) + st->pad, y + (h - th) / 2, tw, 64, 0);
    int glh = line_h(e, UI_FONT_BOLD, st->item_px);
    snprintf(id, sizeof(id), "missed/%s/go", qu->id);
    ui_label(e->ui, l, id, go, UI_FONT_BOLD, st->item_px, UI_PRIMARY, x + w - st->pad - gw,
             y + (h - glh) / 2, gw + 1, 1, 0);
    snprintf(id, sizeof(id), "missed/%s", qu->id);
    ui_list_target(l, r, id, prompt);
    return h;
}

static int build_result(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                        struct ui_rect box, const struct style *st)
{
    size_t score = kk_quiz_score(&q->quiz), total = kk_quiz_total(&q->quiz);
    size_t nmissed = kk_quiz_nmissed(&q->quiz);
    int ok = 1;
    int x = box.x + st->m, y = box.y + st->gap * 3 / 2, w = box.w - 2 * st->m;
    int bottom = box.y + box.h - st->gap;
    int side = landscape(e) && nmissed;
    int lw = side ? w * 44 / 100 : w;      /* the score's column */
    if (!side && w > ui_px(e->ui, 1300)) { /* one column, not the full width of a wall */
        x += (w - ui_px(e->ui, 1300)) / 2;
        w = lw = ui_px(e->ui, 1300);
    }

    /* The score and its message, centred in their column. */
    y += ui_label(e->ui, l, "quiz/score-label", ui_str(S_QUIZ_YOUR_SCORE, e->session->lang),
                  UI_FONT_BOLD, st->message_px, UI_INK_SOFT, x, y, lw, 1, 1);
    char text[32];
    snprintf(text, sizeof(text), "%zu / %zu", score, total);
    y += ui_label(e->ui, l, "quiz/score", text, UI_FONT_BOLD, st->score_px,
                  score == total ? UI_GOOD : UI_PRIMARY_DARK, x, y, lw, 1, 1);
    y += st->gap / 2;
    const char *msg = ui_str(message_for(score, total), e->session->lang);
    int mh = text_h(e, msg, UI_FONT_BOLD, st->message_px, lw);
    ui_label(e->ui, l, "quiz/message", msg, UI_FONT_BOLD, st->message_px, UI_INK, x, y, lw, 64, 1);
    y += mh + st->gap;

    /* Try again and back to the topics: side by side under the message, or stacked at the
     * bottom of the score's column beside the missed list. */
    int bw = side ? lw : (lw - st->gap) / 2;
    int bh = st->target;
    struct ui_rect again, menu;
    if (side) {
        menu = (struct ui_rect){x, bottom - bh, bw, bh};
        again = (struct ui_rect){x, menu.y - st->gap - bh, bw, bh};
        if (y > again.y - st->gap)
            ok = 0;
    } else {
        again = (struct ui_rect){x + lw - bw, bottom - bh, bw, bh};
        menu = (struct ui_rect){x, bottom - bh, bw, bh};
    }
    ui_button(e->ui, l, again, "quiz/again", ui_str(S_TRY_AGAIN, e->session->lang), 1);
    ui_button(e->ui, l, menu, "quiz/menu", ui_str(S_CHOOSE_TOPIC, e->session->lang), 0);

    if (nmissed) {
        int mx = side ? x + lw + st->gap * 2 : x, mw = side ? w - lw - st->gap * 2 : w;
        int my = side ? box.y + st->gap * 3 / 2 : y;
        int limit = side ? bottom : again.y - st->gap;
        my += ui_label(e->ui, l, "quiz/missed-title", ui_str(S_QUIZ_LOOK_AGAIN, e->session->lang),
                       UI_FONT_BOLD, st->message_px, UI_PRIMARY_DARK, mx, my, mw, 2, 0);
        my += st->gap / 2;
        for (size_t k = 0; k < nmissed; k++) {
            const struct kk_question *qu = kk_quiz_missed(&q->quiz, k)->question;
            my += missed_row(e, l, st, qu, mx, my, mw) + st->cgap;
        }
        if (my - st->cgap > limit)
            ok = 0;
        if (!side)
            y = my - st->cgap + st->gap;
    }
    /* The topic's cover where there is room above the buttons: a picture to end on. */
    int room = again.y - st->gap - y;
    if (q->topic->cover && room >= ui_px(e->ui, 180)) {
        int ih = image_h(q->topic->cover, lw, room < ui_px(e->ui, 420) ? room : ui_px(e->ui, 420));
        image(l, (struct ui_rect){x, y + (room - ih) / 2, lw, ih}, q->topic->cover);
    }
    return ok;
}

static void build_error(struct scene_env *e, struct ui_list *l, struct ui_rect box)
{
    int m = ui_px(e->ui, 60), y = box.y + box.h / 3;
    y +=
        ui_label(e->ui, l, "quiz/error", ui_str(S_CONTENT_UPDATING, e->session->lang), UI_FONT_BOLD,
                 ui_px(e->ui, 56), UI_PRIMARY_DARK, box.x + m, y, box.w - 2 * m, 2, 1);
    int bw = ui_px(e->ui, 460), bh = ui_min_target(e->ui);
    ui_button(e->ui, l, (struct ui_rect){box.x + (box.w - bw) / 2, y + ui_px(e->ui, 60), bw, bh},
              "quiz/menu", ui_str(S_CHOOSE_TOPIC, e->session->lang), 1);
}

static int build_phase(struct scene_env *e, struct quiz_state *q, struct ui_list *l,
                       struct ui_rect box, const struct style *st)
{
    const struct kk_question *qu = kk_quiz_question(&q->quiz);
    int ok = q->phase == PH_RESULT            ? build_result(e, q, l, box, st)
             : qu && qu->type == KK_Q_HOTSPOT ? build_hotspot(e, q, l, box, st)
                                              : build_question(e, q, l, box, st);
    return ok && !l->overflow[0];
}

static void build(struct scene_env *e, void *self, struct ui_list *l, struct ui_rect box)
{
    /* Large text may shrink further, but no text goes under 72% of the normal size (the
     * smallest readable from two metres). */
    static const double fits[] = {1.0, 0.92, 0.85, 0.78, 0.72, 0.66, 0.61, 0.56};
    double k = e->session->large_text ? 1.3 : 1.0;
    size_t nfits = 0;
    while (nfits < sizeof(fits) / sizeof(fits[0]) && fits[nfits] * k >= 0.72 - 1e-9)
        nfits++;
    struct quiz_state *q = self;
    if (q->phase == PH_ERROR) {
        build_error(e, l, box);
        return;
    }
    const struct kk_question *qu = q->phase == PH_RESULT ? NULL : kk_quiz_question(&q->quiz);
    if (qu) /* the event names the page that teaches the question (docs/accessibility.md) */
        audio_offer(e, q->phase == PH_FEEDBACK ? &qu->explain_audio : &qu->audio, q->topic->id,
                    qu->page > 0 ? (size_t)qu->page : 0);
    struct style st;
    int found = 0;
    for (size_t i = 0; i < nfits && !found; i++)
        for (int narrow = 0; narrow < 2 && !found; narrow++)
            for (int cols = 1; cols <= 2 && !found; cols++) {
                style_for(e, fits[i], cols, &st);
                st.narrow = narrow;
                ui_list_clear(&q->scratch);
                found = build_phase(e, q, &q->scratch, box, &st);
            }
    if (!found) { /* the smallest attempt, with what did not fit reported */
        style_for(e, fits[nfits - 1], 2, &st);
        ui_list_note_overflow(l, "quiz/fit");
    }
    build_phase(e, q, l, box, &st);
}

/* ---- the automation report ---- */

static const char *phase_name(enum phase p)
{
    switch (p) {
    case PH_ASK:
        return "question";
    case PH_FEEDBACK:
        return "feedback";
    case PH_RESULT:
        return "result";
    case PH_ERROR:
        return "error";
    }
    return "?";
}

static cJSON *mask_json(unsigned mask)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < KK_MAX_CHOICES; i++)
        if (mask & (1u << i))
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(i));
    return arr;
}

static cJSON *bytes_json(const unsigned char *v, size_t n)
{
    int a[KK_MAX_CHOICES];
    for (size_t k = 0; k < n && k < KK_MAX_CHOICES; k++)
        a[k] = v[k];
    return cJSON_CreateIntArray(a, (int)n);
}

/* The hotspot and order questions' own keys: docs/quiz.md. */
static void report_format2(const struct quiz_state *q, const struct kk_quiz_record *rec, cJSON *j)
{
    const struct kk_question *qu = rec->question;
    if (qu->type == KK_Q_ORDER) {
        cJSON_AddItemToObject(j, "order",
                              rec->answered ? bytes_json(rec->tapped, qu->nchoices)
                                            : bytes_json(q->placed, q->nplaced));
        cJSON_AddItemToObject(j, "right_order", bytes_json(rec->right_order, qu->nchoices));
    } else if (qu->type == KK_Q_HOTSPOT) {
        cJSON *regions = cJSON_AddArrayToObject(j, "regions");
        for (size_t i = 0; regions && i < qu->nregions; i++) {
            double v[3] = {qu->regions[i].x, qu->regions[i].y, qu->regions[i].r};
            cJSON_AddItemToArray(regions, cJSON_CreateDoubleArray(v, 3));
        }
        int p[4] = {q->pic.x, q->pic.y, q->pic.w, q->pic.h};
        cJSON_AddItemToObject(j, "picture", cJSON_CreateIntArray(p, 4));
        if (rec->answered) {
            double t[2] = {rec->tap_x, rec->tap_y};
            cJSON_AddItemToObject(j, "tap", cJSON_CreateDoubleArray(t, 2));
        }
    }
}

/* The quiz's state for the automation report ({phase, question, type, right, ...}), as
 * the screen object's "quiz" member. */
static void report(struct scene_env *e, const void *self, cJSON *screen)
{
    (void)e;
    const struct quiz_state *q = self;
    cJSON *j = cJSON_AddObjectToObject(screen, "quiz");
    if (!j)
        return;
    cJSON_AddStringToObject(j, "topic", q->topic->id);
    cJSON_AddStringToObject(j, "phase", phase_name(q->phase));
    cJSON_AddNumberToObject(j, "index", (double)kk_quiz_index(&q->quiz));
    cJSON_AddNumberToObject(j, "total", (double)kk_quiz_total(&q->quiz));
    cJSON_AddNumberToObject(j, "score", (double)kk_quiz_score(&q->quiz));
    const struct kk_quiz_record *rec = kk_quiz_current(&q->quiz);
    if (rec) {
        const struct kk_question *qu = rec->question;
        cJSON_AddStringToObject(j, "question", qu->id);
        cJSON_AddStringToObject(j, "type", kk_question_type_name(qu->type));
        cJSON_AddNumberToObject(j, "page", qu->page);
        cJSON_AddItemToObject(j, "right", mask_json(rec->right_shown));
        cJSON_AddItemToObject(j, "selected", mask_json(q->selected));
        int orig[KK_MAX_CHOICES];
        for (size_t s = 0; s < qu->nchoices; s++)
            orig[s] = rec->shown_to_original[s];
        cJSON_AddItemToObject(j, "original", cJSON_CreateIntArray(orig, (int)qu->nchoices));
        cJSON *rects = cJSON_AddArrayToObject(j, "rects");
        for (size_t s = 0; rects && s < qu->nchoices; s++) {
            int v[4] = {q->shown[s].x, q->shown[s].y, q->shown[s].w, q->shown[s].h};
            cJSON_AddItemToArray(rects, cJSON_CreateIntArray(v, 4));
        }
        cJSON_AddBoolToObject(j, "answered", rec->answered);
        if (rec->answered) {
            cJSON_AddBoolToObject(j, "correct", rec->correct);
            cJSON_AddItemToObject(j, "chosen", mask_json(rec->chosen_shown));
        }
        report_format2(q, rec, j);
    }
    if (q->phase == PH_RESULT) {
        enum ui_str m = message_for(kk_quiz_score(&q->quiz), kk_quiz_total(&q->quiz));
        cJSON_AddStringToObject(j, "band",
                                m == S_QUIZ_ALL_RIGHT    ? "all"
                                : m == S_QUIZ_MOST_RIGHT ? "most"
                                : m == S_QUIZ_SOME_RIGHT ? "some"
                                                         : "none");
    }
    cJSON *missed = cJSON_AddArrayToObject(j, "missed");
    for (size_t k = 0; missed && k < kk_quiz_nmissed(&q->quiz); k++)
        cJSON_AddItemToArray(missed, cJSON_CreateString(kk_quiz_missed(&q->quiz, k)->question->id));
}

const struct scene scene_quiz = {
    .name = "quiz",
    .size = sizeof(struct quiz_state),
    .enter = enter,
    .leave = leave,
    .report = report,
    .build = build,
    .tap = tap,
    .chrome = 1,
    .back = 1,
};
