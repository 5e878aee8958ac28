/* The quiz engine: one round of questions from a topic, for one visitor.
 *
 * A round picks up to N questions from a topic for the visitor's audience group with a
 * spread of difficulties (easier first), shows each question's choices in a shuffled
 * order, scores the answers, and keeps what was answered so the app can record the
 * quiz_answer and quiz_complete events (DESIGN.md "Usage events") and show the missed
 * questions with the page that teaches each one.
 *
 * Two orders of choices exist. "Original" indexes are the pack's order (what answer_mask
 * and the events use); "shown" indexes are the order on screen. A choice mask has bit i set
 * for choice i. Everything a screen passes in or gets back is in shown indexes, except the
 * fields named *original*.
 *
 * The engine borrows the topic: it must outlive the round. No SDL, no I/O, no printing. */
#ifndef KEPU_QUIZ_H
#define KEPU_QUIZ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/limits.h"
#include "kepu/pack.h"

/* ---- Random source -------------------------------------------------------------------
 * PCG32 (O'Neill, pcg-random.org, XSH RR 64/32): small, fast, and the same numbers for the
 * same seed on every machine, so tests are reproducible. The app seeds it from libsodium's
 * randombytes_buf; tests seed fixed values. Not for secrets. */
struct kk_rng {
    uint64_t state;
    uint64_t inc; /* odd */
};

/* Seeds rng; the same seed always gives the same sequence. */
void kk_rng_seed(struct kk_rng *rng, uint64_t seed);
/* The next 32 uniformly distributed bits. */
uint32_t kk_rng_next(struct kk_rng *rng);
/* A uniform number in [0, bound) without modulo bias (rejects the short top range).
 * bound 0 returns 0. */
uint32_t kk_rng_below(struct kk_rng *rng, uint32_t bound);

/* ---- Question types ------------------------------------------------------------------ */

/* True for the types a round asks: single, multi, truefalse, and format 2's hotspot and
 * order (answered with kk_quiz_answer_point and kk_quiz_answer_order). */
int kk_quiz_askable(const struct kk_question *q);
/* How many of the topic's questions a round may ask (0 when t is NULL). */
size_t kk_quiz_askable_count(const struct kk_topic *t);
/* A hotspot question is right when the tap at (x, y), fractions of the picture's width and
 * height, is inside a circle of a region listed in the answer. r is a fraction of the
 * picture's width, so on a picture twice as tall as wide a circle reaches r*w up and down.
 * 0 for anything else (not a hotspot question, a point off the picture). */
int kk_quiz_hotspot_right(const struct kk_question *q, double x, double y);
/* An order question is right when the tapped sequence seq[0..n) of choice indexes is the
 * answer's order exactly (n must be the number of choices). */
int kk_quiz_order_right(const struct kk_question *q, const unsigned char *seq, size_t n);

/* ---- A round -------------------------------------------------------------------------- */

#define KK_QUIZ_DEFAULT_N 5 /* questions in a round when the caller passes 0 */

/* What is known about one question of the round; filled in by kk_quiz_answer. */
struct kk_quiz_record {
    const struct kk_question *question; /* borrowed from the topic */
    size_t topic_index;                 /* index in topic->questions */
    /* shown_to_original[s] is the original index of the choice shown at position s. */
    unsigned char shown_to_original[KK_MAX_CHOICES];
    unsigned right_shown; /* mask of shown positions holding a right choice */
    int answered;         /* 0 until kk_quiz_answer accepted an answer */
    int correct;
    unsigned chosen_shown;    /* mask the visitor chose, shown positions */
    unsigned chosen_original; /* the same choices as original (pack) indexes */
    /* The event's "choice" array: the chosen original indexes in ascending order (ORDER: in
     * the order tapped). */
    int choice[KK_MAX_CHOICES];
    size_t nchoice;
    uint64_t ms; /* time the visitor took, as passed to kk_quiz_answer */
    /* HOTSPOT: right_shown is the answer's regions (regions are never shuffled) and
     * chosen_shown the regions the tap landed in, right or not; tap_x, tap_y is where it
     * landed, in fractions of the picture. */
    double tap_x, tap_y;
    /* ORDER: right_order[k] is the shown position of the choice that belongs k-th (the
     * answer in shown positions); tapped[0..nchoices) the shown positions in the order the
     * visitor tapped them, once answered. right_shown and chosen_shown have every choice. */
    unsigned char right_order[KK_MAX_CHOICES];
    unsigned char tapped[KK_MAX_CHOICES];
};

/* One round. Zero-initialise it (KK_QUIZ_INIT) before the first kk_quiz_start; read it
 * through the functions below. */
struct kk_quiz {
    const struct kk_topic *topic;
    int audience;
    struct kk_quiz_record *items; /* owned; total of them, in the order asked */
    size_t total;
    size_t current; /* index of the question on screen; total when the round is over */
    size_t score;
};

#define KK_QUIZ_INIT                                                                               \
    {                                                                                              \
        NULL, 0, NULL, 0, 0, 0                                                                     \
    }

/* Starts a round on topic for a visitor of audience (an enum kk_audience, or -1 when the
 * visitor has not said: then every question matches). Any round quiz held before is
 * released first.
 *
 * Selection: up to n questions (KK_QUIZ_DEFAULT_N when n is 0), never the same question
 * twice. Questions whose audiences mask includes the visitor's group are taken first; when
 * fewer than n match, the round is filled from the other questions; when the topic has
 * fewer than n questions in all, the round has all of them. Within that, difficulties are
 * spread: each pick comes from the difficulty (1..3; values outside are treated as the
 * nearest end) of which the round has the fewest so far, easier first on ties, at random
 * within a difficulty. The round is then ordered easier first.
 *
 * Choices: each question's choices are shuffled (true/false keeps True before False, as in
 * the pack); the right answer stays right through the mapping in the record.
 *
 * rng is advanced; the same seed, topic, audience and n give the same round.
 *
 * Errors: KK_ERR_NOTFOUND when the topic has no questions a round may ask; KK_ERR_INVALID when a
 * question cannot be asked (fewer than 2 or more than KK_MAX_CHOICES choices, no right answer, an
 * answer outside the choices, or not exactly one right answer for single and true/false; a
 * hotspot question without a picture, regions or a right region inside them; an order
 * question whose answer is not every choice once), naming the topic and question; KK_ERR_NOMEM. On
 * failure quiz holds no round (as after kk_quiz_release) and err gets one line. */
enum kk_err kk_quiz_start(struct kk_quiz *quiz, const struct kk_topic *topic, int audience,
                          size_t n, struct kk_rng *rng, struct kk_buf *err);

/* Frees the round; quiz is then empty and can be started again. quiz may be NULL. */
void kk_quiz_release(struct kk_quiz *quiz);

/* True when there is no question left to ask: after kk_quiz_next moved past the last one,
 * or when quiz holds no round. */
int kk_quiz_done(const struct kk_quiz *quiz);
/* Progress: the 0-based index of the question on screen (total when done), and the number
 * of questions in the round. A screen shows "index + 1 / total". */
size_t kk_quiz_index(const struct kk_quiz *quiz);
size_t kk_quiz_total(const struct kk_quiz *quiz);
/* Right answers so far. */
size_t kk_quiz_score(const struct kk_quiz *quiz);

/* The question on screen, or NULL when done. Borrowed from the topic. */
const struct kk_question *kk_quiz_question(const struct kk_quiz *quiz);
/* The choice shown at position shown of the question on screen, or NULL when done or
 * shown is out of range. Borrowed from the topic. */
const struct kk_choice *kk_quiz_choice(const struct kk_quiz *quiz, size_t shown);
/* The original (pack) index of the choice shown at position shown, or -1 as above. */
int kk_quiz_choice_original(const struct kk_quiz *quiz, size_t shown);
/* The record of the question on screen (answered or not), or NULL when done. */
const struct kk_quiz_record *kk_quiz_current(const struct kk_quiz *quiz);

/* Answers the question on screen with the choices at the shown positions in chosen_mask,
 * after ms milliseconds. Scoring: single and true/false are right when the one choice is
 * right; multiple choice is right only when exactly the right set is chosen (a subset or
 * a superset is wrong). On KK_OK the answer is recorded, the score counted, and *out (when
 * not NULL) points at the question's record: correct, right_shown (what to highlight), and
 * the original indexes for the event; it stays valid until kk_quiz_release.
 *
 * Errors, KK_ERR_INVALID with nothing recorded: the round is over, chosen_mask is empty,
 * has a bit at or past the question's number of choices, has more than one bit for single
 * or true/false, the question is a hotspot or order question (answered below), or this
 * question was already answered. */
enum kk_err kk_quiz_answer(struct kk_quiz *quiz, unsigned chosen_mask, uint64_t ms,
                           const struct kk_quiz_record **out, struct kk_buf *err);

/* Answers the hotspot question on screen with a tap at (x, y), fractions of its picture's
 * width and height. Right when kk_quiz_hotspot_right says so. The record keeps the point
 * (tap_x, tap_y) and, as chosen_shown and the event's choice[], the regions the tap is
 * inside (right or not; none when it missed them all). *out as for kk_quiz_answer.
 * Errors, KK_ERR_INVALID with nothing recorded: the round is over, the question is not a
 * hotspot question, x or y is outside 0..1, or it was already answered. */
enum kk_err kk_quiz_answer_point(struct kk_quiz *quiz, double x, double y, uint64_t ms,
                                 const struct kk_quiz_record **out, struct kk_buf *err);

/* Answers the order question on screen with seq[0..n), the shown positions in the order the
 * visitor tapped them: every position once, n the number of choices. Right when the
 * original indexes are the answer's order (kk_quiz_order_right). The record keeps seq as
 * tapped; the event's choice[] is the original indexes in the tapped order (not sorted).
 * Errors, KK_ERR_INVALID with nothing recorded: the round is over, the question is not an
 * order question, seq is not every position once, or it was already answered. */
enum kk_err kk_quiz_answer_order(struct kk_quiz *quiz, const unsigned char *seq, size_t n,
                                 uint64_t ms, const struct kk_quiz_record **out,
                                 struct kk_buf *err);

/* Moves to the next question; after the last one the round is done.
 * Errors: KK_ERR_INVALID when the question on screen is not answered yet or the round is
 * already over. */
enum kk_err kk_quiz_next(struct kk_quiz *quiz, struct kk_buf *err);

/* The record of question i of the round (0 <= i < total), or NULL. */
const struct kk_quiz_record *kk_quiz_record(const struct kk_quiz *quiz, size_t i);
/* The questions answered wrongly, in the order asked: their number, and the k-th one (or
 * NULL). record->question->id names it and record->question->page is the page that
 * teaches it (-1 for none). */
size_t kk_quiz_nmissed(const struct kk_quiz *quiz);
const struct kk_quiz_record *kk_quiz_missed(const struct kk_quiz *quiz, size_t k);

/* The type-specific fields of the events (DESIGN.md "Usage events"), ready for
 * kk_event_make: quiz_answer {topic, question, choice[] (original indexes, ascending; a
 * hotspot question's regions tapped, an order question's choices in the tapped order),
 * correct, ms}
 * for answered question i, and quiz_complete {topic, score, total}. The caller owns the
 * object (kk_event_make consumes it; otherwise cJSON_Delete). NULL when out of memory,
 * when i is out of range or not answered, or when quiz holds no round. */
cJSON *kk_quiz_answer_fields(const struct kk_quiz *quiz, size_t i);
cJSON *kk_quiz_complete_fields(const struct kk_quiz *quiz);

#endif
