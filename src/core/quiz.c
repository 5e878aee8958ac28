#include "kepu/quiz.h"

#include <string.h>

#include "kepu/alloc.h"
#include "kepu/log.h"

/* ---- Random source: PCG32 XSH RR, as in pcg_basic.c (pcg-random.org) ---- */

#define KK_PCG_MULT   6364136223846793005ULL
#define KK_PCG_STREAM 1442695040888963407ULL /* pcg_basic's default increment (odd) */

void kk_rng_seed(struct kk_rng *rng, uint64_t seed)
{
    rng->state = 0;
    rng->inc = KK_PCG_STREAM | 1u;
    kk_rng_next(rng);
    rng->state += seed;
    kk_rng_next(rng);
}

uint32_t kk_rng_next(struct kk_rng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * KK_PCG_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t kk_rng_below(struct kk_rng *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* 2^32 mod bound values at the bottom would make small results more likely; skip them.
     * Fewer than half of all draws are ever rejected, so the loop ends quickly. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = kk_rng_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

/* ---- Helpers ---- */

#define KK_QUIZ_LEVELS 3 /* difficulties 1..3 */

static unsigned count_bits(unsigned mask)
{
    unsigned n = 0;
    for (; mask; mask &= mask - 1)
        n++;
    return n;
}

/* 0-based difficulty level; out-of-range values count as the nearest end. */
static int level_of(const struct kk_question *q)
{
    if (q->difficulty <= 1)
        return 0;
    if (q->difficulty >= KK_QUIZ_LEVELS)
        return KK_QUIZ_LEVELS - 1;
    return q->difficulty - 1;
}

static const char *topic_where(const struct kk_topic *t)
{
    if (t->file)
        return t->file;
    return t->id ? t->id : "(topic)";
}

static const char *question_id(const struct kk_question *q)
{
    return q->id ? q->id : "";
}

/* Refuses a hotspot question the engine could not score: no picture (the tap is measured
 * on it), no regions, or right regions outside them. */
static enum kk_err check_hotspot(const struct kk_question *q, const char *where, size_t i,
                                 const char *id, struct kk_buf *err)
{
    if (!q->image || q->image->w <= 0 || q->image->h <= 0)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): hotspot without a picture", where, i, id);
    if (!q->regions || q->nregions < 1 || q->nregions > KK_MAX_CHOICES)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): %zu regions (1 to %d allowed)", where, i, id,
                       q->nregions, KK_MAX_CHOICES);
    if (q->answer_mask == 0 || q->answer_mask >> q->nregions)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): the answer names no region of the %zu", where,
                       i, id, q->nregions);
    return KK_OK;
}

/* Refuses an order question whose answer is not every choice once. */
static enum kk_err check_order(const struct kk_question *q, const char *where, size_t i,
                               const char *id, struct kk_buf *err)
{
    unsigned seen = 0;
    for (size_t k = 0; k < q->nchoices && k < KK_MAX_CHOICES; k++)
        if (q->order[k] < q->nchoices)
            seen |= 1u << q->order[k];
    if (seen != (1u << q->nchoices) - 1 || q->answer_mask != seen)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): the answer is not every choice once", where,
                       i, id);
    return KK_OK;
}

/* Refuses a question the engine could not score; the pack loader should have caught it. */
static enum kk_err check_question(const struct kk_topic *t, size_t i, struct kk_buf *err)
{
    const struct kk_question *q = &t->questions[i];
    const char *where = topic_where(t);
    const char *id = question_id(q);
    unsigned single = 1;

    switch (q->type) {
    case KK_Q_SINGLE:
    case KK_Q_TRUEFALSE:
        break;
    case KK_Q_MULTI:
    case KK_Q_ORDER:
        single = 0;
        break;
    case KK_Q_HOTSPOT:
        return check_hotspot(q, where, i, id, err);
    default:
        return kk_fail(err, KK_ERR_INVALID, "%s: quiz.questions[%zu] (%s): unknown type %d", where,
                       i, id, (int)q->type);
    }
    if (!q->choices || q->nchoices < 2 || q->nchoices > KK_MAX_CHOICES)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): %zu choices (2 to %d allowed)", where, i, id,
                       q->nchoices, KK_MAX_CHOICES);
    if (q->type == KK_Q_ORDER)
        return check_order(q, where, i, id, err);
    if (q->answer_mask == 0)
        return kk_fail(err, KK_ERR_INVALID, "%s: quiz.questions[%zu] (%s): no right answer", where,
                       i, id);
    if (q->answer_mask >> q->nchoices)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): answer outside the %zu choices", where, i, id,
                       q->nchoices);
    if (single && count_bits(q->answer_mask) != 1)
        return kk_fail(err, KK_ERR_INVALID,
                       "%s: quiz.questions[%zu] (%s): needs exactly one right answer", where, i,
                       id);
    return KK_OK;
}

int kk_quiz_askable(const struct kk_question *q)
{
    switch (q->type) {
    case KK_Q_SINGLE:
    case KK_Q_MULTI:
    case KK_Q_TRUEFALSE:
    case KK_Q_HOTSPOT:
    case KK_Q_ORDER:
        return 1;
    }
    return 0;
}

size_t kk_quiz_askable_count(const struct kk_topic *t)
{
    size_t n = 0;
    for (size_t i = 0; t && i < t->nquestions; i++)
        n += kk_quiz_askable(&t->questions[i]);
    return n;
}

int kk_quiz_hotspot_right(const struct kk_question *q, double x, double y)
{
    if (!q || q->type != KK_Q_HOTSPOT || !(x >= 0 && x <= 1 && y >= 0 && y <= 1))
        return 0;
    /* r is a fraction of the width; y a fraction of the height: measure in widths. */
    double aspect = q->image && q->image->w > 0 ? (double)q->image->h / q->image->w : 1.0;
    for (size_t i = 0; i < q->nregions && i < KK_MAX_CHOICES; i++) {
        if (!(q->answer_mask & (1u << i)))
            continue;
        const struct kk_region *rg = &q->regions[i];
        double dx = x - rg->x, dy = (y - rg->y) * aspect;
        if (dx * dx + dy * dy <= rg->r * rg->r)
            return 1;
    }
    return 0;
}

int kk_quiz_order_right(const struct kk_question *q, const unsigned char *seq, size_t n)
{
    if (!q || q->type != KK_Q_ORDER || !seq || n != q->nchoices || n == 0)
        return 0;
    return memcmp(seq, q->order, n) == 0;
}

/* Fisher-Yates over a[0..n). */
static void shuffle_indexes(size_t *a, size_t n, struct kk_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = kk_rng_below(rng, (uint32_t)i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

/* The selection state shared by the two passes (matching audience, then the rest). */
struct picker {
    size_t *pool; /* candidates of this pass, grouped by level, each group shuffled */
    size_t start[KK_QUIZ_LEVELS], end[KK_QUIZ_LEVELS];
    size_t picked[KK_QUIZ_LEVELS]; /* per level, over the whole round */
    size_t *chosen;                /* topic indexes in pick order */
    size_t nchosen, want;
};

/* One pass: candidates are the questions whose audience match equals `matching`. */
static void pick_pass(struct picker *p, const struct kk_topic *t, int audience, int matching,
                      struct kk_rng *rng)
{
    size_t n = 0;
    for (int lv = 0; lv < KK_QUIZ_LEVELS; lv++) {
        p->start[lv] = n;
        for (size_t i = 0; i < t->nquestions; i++) {
            const struct kk_question *q = &t->questions[i];
            int match = audience < 0 || (q->audiences & KK_AUD_BIT(audience)) != 0;
            if (match == matching && level_of(q) == lv && kk_quiz_askable(q))
                p->pool[n++] = i;
        }
        p->end[lv] = n;
        shuffle_indexes(p->pool + p->start[lv], n - p->start[lv], rng);
    }

    /* Each pick comes from the level the round has the fewest of (easier on ties), which
     * alternates easy, medium, hard when all are there and fills in when some run out. */
    while (p->nchosen < p->want) {
        int best = -1;
        for (int lv = 0; lv < KK_QUIZ_LEVELS; lv++) {
            if (p->start[lv] == p->end[lv])
                continue;
            if (best < 0 || p->picked[lv] < p->picked[best])
                best = lv;
        }
        if (best < 0)
            return;
        p->chosen[p->nchosen++] = p->pool[p->start[best]++];
        p->picked[best]++;
    }
}

static void setup_record(struct kk_quiz_record *r, const struct kk_topic *t, size_t index,
                         struct kk_rng *rng)
{
    const struct kk_question *q = &t->questions[index];
    size_t order[KK_MAX_CHOICES];

    memset(r, 0, sizeof(*r));
    r->question = q;
    r->topic_index = index;
    for (size_t s = 0; s < q->nchoices; s++)
        order[s] = s;
    /* True/false keeps the pack's order: a "False, True" screen would trip people up. */
    if (q->type != KK_Q_TRUEFALSE)
        shuffle_indexes(order, q->nchoices, rng);
    for (size_t s = 0; s < q->nchoices; s++) {
        r->shown_to_original[s] = (unsigned char)order[s];
        if (q->answer_mask & (1u << order[s]))
            r->right_shown |= 1u << s;
    }
    if (q->type == KK_Q_HOTSPOT)
        r->right_shown = q->answer_mask; /* regions stay where the picture has them */
    for (size_t k = 0; q->type == KK_Q_ORDER && k < q->nchoices; k++)
        for (size_t s = 0; s < q->nchoices; s++)
            if (order[s] == q->order[k])
                r->right_order[k] = (unsigned char)s;
}

/* ---- A round ---- */

void kk_quiz_release(struct kk_quiz *quiz)
{
    if (!quiz)
        return;
    kk_free(quiz->items);
    memset(quiz, 0, sizeof(*quiz));
}

enum kk_err kk_quiz_start(struct kk_quiz *quiz, const struct kk_topic *topic, int audience,
                          size_t n, struct kk_rng *rng, struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct picker p;
    struct kk_quiz_record *items = NULL;

    memset(&p, 0, sizeof(p));
    kk_quiz_release(quiz);
    if (!topic || !rng)
        return kk_fail(err, KK_ERR_INVALID, "quiz: no topic or no random source");
    if (audience < -1 || audience >= KK_AUD_COUNT)
        return kk_fail(err, KK_ERR_INVALID, "%s: quiz: unknown audience %d", topic_where(topic),
                       audience);
    if (topic->nquestions == 0 || !topic->questions)
        return kk_fail(err, KK_ERR_NOTFOUND, "%s: quiz: the topic has no questions",
                       topic_where(topic));
    for (size_t i = 0; i < topic->nquestions; i++) {
        rc = check_question(topic, i, err);
        if (rc != KK_OK)
            return rc;
    }

    size_t askable = 0;
    for (size_t i = 0; i < topic->nquestions; i++)
        askable += kk_quiz_askable(&topic->questions[i]);
    if (askable == 0)
        return kk_fail(err, KK_ERR_NOTFOUND,
                       "%s: quiz: none of the topic's questions is of a type this version asks",
                       topic_where(topic));
    if (n == 0)
        n = KK_QUIZ_DEFAULT_N;
    p.want = n < askable ? n : askable;
    p.pool = kk_calloc(topic->nquestions, sizeof(*p.pool));
    p.chosen = kk_calloc(p.want, sizeof(*p.chosen));
    items = kk_calloc(p.want, sizeof(*items));
    if (!p.pool || !p.chosen || !items) {
        rc = kk_fail(err, KK_ERR_NOMEM, "%s: quiz: out of memory", topic_where(topic));
        goto done;
    }

    pick_pass(&p, topic, audience, 1, rng);
    pick_pass(&p, topic, audience, 0, rng);
    /* Every question is in one pass or the other, so both passes together reach want. */
    if (p.nchosen != p.want)
        KK_BUG("quiz: picked %zu of %zu questions", p.nchosen, p.want);

    /* Easier first; within a level, the random pick order. */
    size_t k = 0;
    for (int lv = 0; lv < KK_QUIZ_LEVELS; lv++)
        for (size_t i = 0; i < p.nchosen; i++)
            if (level_of(&topic->questions[p.chosen[i]]) == lv)
                setup_record(&items[k++], topic, p.chosen[i], rng);

    quiz->topic = topic;
    quiz->audience = audience;
    quiz->items = items;
    quiz->total = p.want;
    quiz->current = 0;
    quiz->score = 0;
    items = NULL;

done:
    kk_free(items);
    kk_free(p.chosen);
    kk_free(p.pool);
    return rc;
}

int kk_quiz_done(const struct kk_quiz *quiz)
{
    return !quiz || !quiz->items || quiz->current >= quiz->total;
}

size_t kk_quiz_index(const struct kk_quiz *quiz)
{
    return quiz ? quiz->current : 0;
}

size_t kk_quiz_total(const struct kk_quiz *quiz)
{
    return quiz ? quiz->total : 0;
}

size_t kk_quiz_score(const struct kk_quiz *quiz)
{
    return quiz ? quiz->score : 0;
}

const struct kk_quiz_record *kk_quiz_current(const struct kk_quiz *quiz)
{
    if (kk_quiz_done(quiz))
        return NULL;
    return &quiz->items[quiz->current];
}

const struct kk_question *kk_quiz_question(const struct kk_quiz *quiz)
{
    const struct kk_quiz_record *r = kk_quiz_current(quiz);
    return r ? r->question : NULL;
}

int kk_quiz_choice_original(const struct kk_quiz *quiz, size_t shown)
{
    const struct kk_quiz_record *r = kk_quiz_current(quiz);
    if (!r || shown >= r->question->nchoices)
        return -1;
    return r->shown_to_original[shown];
}

const struct kk_choice *kk_quiz_choice(const struct kk_quiz *quiz, size_t shown)
{
    int original = kk_quiz_choice_original(quiz, shown);
    if (original < 0)
        return NULL;
    return &quiz->items[quiz->current].question->choices[original];
}

enum kk_err kk_quiz_answer(struct kk_quiz *quiz, unsigned chosen_mask, uint64_t ms,
                           const struct kk_quiz_record **out, struct kk_buf *err)
{
    if (kk_quiz_done(quiz))
        return kk_fail(err, KK_ERR_INVALID, "quiz: the round is over");
    struct kk_quiz_record *r = &quiz->items[quiz->current];
    const struct kk_question *q = r->question;
    const char *id = question_id(q);

    if (r->answered)
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: already answered", id);
    if (q->type == KK_Q_HOTSPOT || q->type == KK_Q_ORDER)
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: a %s question takes a %s", id,
                       kk_question_type_name(q->type),
                       q->type == KK_Q_HOTSPOT ? "point" : "sequence");
    if (chosen_mask == 0)
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: no choice made", id);
    if (chosen_mask >> q->nchoices)
        return kk_fail(err, KK_ERR_INVALID,
                       "quiz: question %s: choice mask 0x%x outside the %zu choices", id,
                       chosen_mask, q->nchoices);
    if (q->type != KK_Q_MULTI && count_bits(chosen_mask) != 1)
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: only one choice allowed", id);

    unsigned original = 0;
    for (size_t s = 0; s < q->nchoices; s++)
        if (chosen_mask & (1u << s))
            original |= 1u << r->shown_to_original[s];
    r->nchoice = 0;
    for (size_t i = 0; i < q->nchoices; i++)
        if (original & (1u << i))
            r->choice[r->nchoice++] = (int)i;

    r->chosen_shown = chosen_mask;
    r->chosen_original = original;
    /* Exact set equality: for multiple choice a subset or a superset is wrong. */
    r->correct = original == q->answer_mask;
    r->ms = ms;
    r->answered = 1;
    if (r->correct)
        quiz->score++;
    if (out)
        *out = r;
    return KK_OK;
}

/* The record of the question on screen when it is of type and not answered yet. */
static struct kk_quiz_record *open_record(struct kk_quiz *quiz, enum kk_question_type type,
                                          struct kk_buf *err)
{
    if (kk_quiz_done(quiz)) {
        kk_fail(err, KK_ERR_INVALID, "quiz: the round is over");
        return NULL;
    }
    struct kk_quiz_record *r = &quiz->items[quiz->current];
    const char *id = question_id(r->question);
    if (r->question->type != type) {
        kk_fail(err, KK_ERR_INVALID, "quiz: question %s is a %s question, not %s", id,
                kk_question_type_name(r->question->type), kk_question_type_name(type));
        return NULL;
    }
    if (r->answered) {
        kk_fail(err, KK_ERR_INVALID, "quiz: question %s: already answered", id);
        return NULL;
    }
    return r;
}

static void record_answer(struct kk_quiz *quiz, struct kk_quiz_record *r, int correct, uint64_t ms,
                          const struct kk_quiz_record **out)
{
    r->correct = correct;
    r->ms = ms;
    r->answered = 1;
    if (correct)
        quiz->score++;
    if (out)
        *out = r;
}

enum kk_err kk_quiz_answer_point(struct kk_quiz *quiz, double x, double y, uint64_t ms,
                                 const struct kk_quiz_record **out, struct kk_buf *err)
{
    struct kk_quiz_record *r = open_record(quiz, KK_Q_HOTSPOT, err);
    if (!r)
        return KK_ERR_INVALID;
    const struct kk_question *q = r->question;
    if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1))
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: the point %g,%g is off the picture",
                       question_id(q), x, y);
    /* Which regions the tap is in, right or not: measured as kk_quiz_hotspot_right does. */
    double aspect = (double)q->image->h / q->image->w;
    unsigned hit = 0;
    r->nchoice = 0;
    for (size_t i = 0; i < q->nregions && i < KK_MAX_CHOICES; i++) {
        const struct kk_region *rg = &q->regions[i];
        double dx = x - rg->x, dy = (y - rg->y) * aspect;
        if (dx * dx + dy * dy <= rg->r * rg->r) {
            hit |= 1u << i;
            r->choice[r->nchoice++] = (int)i;
        }
    }
    r->tap_x = x;
    r->tap_y = y;
    r->chosen_shown = r->chosen_original = hit;
    record_answer(quiz, r, kk_quiz_hotspot_right(q, x, y), ms, out);
    return KK_OK;
}

enum kk_err kk_quiz_answer_order(struct kk_quiz *quiz, const unsigned char *seq, size_t n,
                                 uint64_t ms, const struct kk_quiz_record **out, struct kk_buf *err)
{
    struct kk_quiz_record *r = open_record(quiz, KK_Q_ORDER, err);
    if (!r)
        return KK_ERR_INVALID;
    const struct kk_question *q = r->question;
    unsigned seen = 0;
    for (size_t k = 0; seq && k < n && n == q->nchoices; k++)
        if (seq[k] < q->nchoices)
            seen |= 1u << seq[k];
    if (!seq || n != q->nchoices || seen != (1u << q->nchoices) - 1)
        return kk_fail(err, KK_ERR_INVALID,
                       "quiz: question %s: the order must hold each of the %zu choices once",
                       question_id(q), q->nchoices);
    unsigned char original[KK_MAX_CHOICES];
    for (size_t k = 0; k < n; k++) {
        r->tapped[k] = seq[k];
        original[k] = r->shown_to_original[seq[k]];
        r->choice[k] = original[k];
    }
    r->nchoice = n;
    r->chosen_shown = seen;
    r->chosen_original = q->answer_mask;
    record_answer(quiz, r, kk_quiz_order_right(q, original, n), ms, out);
    return KK_OK;
}

enum kk_err kk_quiz_next(struct kk_quiz *quiz, struct kk_buf *err)
{
    if (kk_quiz_done(quiz))
        return kk_fail(err, KK_ERR_INVALID, "quiz: the round is over");
    if (!quiz->items[quiz->current].answered)
        return kk_fail(err, KK_ERR_INVALID, "quiz: question %s: not answered yet",
                       question_id(quiz->items[quiz->current].question));
    quiz->current++;
    return KK_OK;
}

const struct kk_quiz_record *kk_quiz_record(const struct kk_quiz *quiz, size_t i)
{
    if (!quiz || !quiz->items || i >= quiz->total)
        return NULL;
    return &quiz->items[i];
}

static int is_missed(const struct kk_quiz_record *r)
{
    return r->answered && !r->correct;
}

size_t kk_quiz_nmissed(const struct kk_quiz *quiz)
{
    size_t n = 0;
    for (size_t i = 0; i < kk_quiz_total(quiz); i++)
        n += (size_t)is_missed(&quiz->items[i]);
    return n;
}

const struct kk_quiz_record *kk_quiz_missed(const struct kk_quiz *quiz, size_t k)
{
    for (size_t i = 0; i < kk_quiz_total(quiz); i++) {
        if (!is_missed(&quiz->items[i]))
            continue;
        if (k == 0)
            return &quiz->items[i];
        k--;
    }
    return NULL;
}

static const char *topic_id(const struct kk_quiz *quiz)
{
    return quiz->topic && quiz->topic->id ? quiz->topic->id : "";
}

cJSON *kk_quiz_answer_fields(const struct kk_quiz *quiz, size_t i)
{
    const struct kk_quiz_record *r = kk_quiz_record(quiz, i);
    cJSON *result = NULL;
    cJSON *o = NULL;
    cJSON *choice = NULL;

    if (!r || !r->answered)
        return NULL;
    o = cJSON_CreateObject();
    choice = cJSON_CreateIntArray(r->choice, (int)r->nchoice);
    if (!o || !choice)
        goto done;
    if (!cJSON_AddStringToObject(o, "topic", topic_id(quiz)) ||
        !cJSON_AddStringToObject(o, "question", question_id(r->question)))
        goto done;
    if (!cJSON_AddItemToObject(o, "choice", choice))
        goto done;
    choice = NULL; /* o owns it now */
    if (!cJSON_AddBoolToObject(o, "correct", r->correct) ||
        !cJSON_AddNumberToObject(o, "ms", (double)r->ms))
        goto done;
    result = o;
    o = NULL;

done:
    cJSON_Delete(choice);
    cJSON_Delete(o);
    return result;
}

cJSON *kk_quiz_complete_fields(const struct kk_quiz *quiz)
{
    if (!quiz || !quiz->items)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_AddStringToObject(o, "topic", topic_id(quiz)) ||
        !cJSON_AddNumberToObject(o, "score", (double)quiz->score) ||
        !cJSON_AddNumberToObject(o, "total", (double)quiz->total)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
