/* What `kepu-pack check` found (the data between the kiosk walk, pack_walk.c, and the
 * report, pack_report.c; neither includes the other): the screenshots taken with what
 * each showed, the images shown larger than their pixels, and how the walk ended. */
#ifndef KEPU_TOOLS_PACK_FINDINGS_H
#define KEPU_TOOLS_PACK_FINDINGS_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

#define PACK_CHECK_MAX_SIZES 4 /* screen sizes one check walks (PACK_MAX_SIZES --size options) */

/* What one screenshot shows. */
enum pack_shot_kind {
    PACK_SHOT_MENU,     /* a page of the topic menu */
    PACK_SHOT_PAGE,     /* a screen of a topic's page in the reader */
    PACK_SHOT_QUESTION, /* a quiz question before answering */
    PACK_SHOT_ANSWER,   /* the same question after answering (right or wrong, explanation) */
    PACK_SHOT_RESULTS,  /* the end of a quiz round */
};

struct pack_shot {
    enum pack_shot_kind kind;
    char *path;     /* relative to the report folder, e.g. "shots/1920x1080/zh-normal/..." */
    char *topic;    /* topic id; NULL for the menu */
    int index;      /* menu page, reader screen or question number, from 0 */
    int page;       /* content page (from 0) for PACK_SHOT_PAGE, else -1 */
    int screens;    /* reader screens of the topic in this variant, else 0 */
    char *question; /* question id when the kiosk reports it, else NULL */
    int w, h;
    enum kk_lang lang;
    int large;
    char *overflow; /* comma-separated ids of texts that did not fit; NULL when all fit */
    /* Menu cards' summaries shortened with "…": by design (docs/automation.md), so listed
     * for the author's information but not counted as overflow. NULL when none. */
    char *shortened;
    int high_contrast; /* taken in the high-contrast theme */
    int correct;       /* PACK_SHOT_ANSWER: 1 answered right, 0 wrong; -1 otherwise */
};

/* An image shown larger than its own pixels (PNG and JPEG only: SVG scales cleanly). */
struct pack_small_image {
    char *src;   /* path inside the pack */
    char *topic; /* topic id */
    int page;    /* content page, from 0; -1 when not on a page (quiz, menu) */
    int img_w, img_h;
    int shown_w, shown_h;
    int w, h;     /* screen size */
    int lang;     /* enum kk_lang, or -1 when estimated (the same in every language) */
    int large;    /* -1 when estimated */
    int measured; /* 1: from the kiosk's own image rectangles; 0: estimated (see .c) */
};

/* A line of text drawn with too little contrast against what is behind it (measured by
 * the kiosk on its own pixels: {"contrast":true}). One entry per text, colours and theme;
 * shot is the first screenshot it was seen on. */
struct pack_low_contrast {
    char *text;
    char *shot; /* relative to the report folder */
    char ink[8], bg[8];
    double ratio, need; /* measured; the least allowed (4.5, or 7 in high contrast) */
    int high_contrast;
};

struct pack_check {
    /* Set by the caller. */
    const char *dir;    /* the source pack */
    const char *report; /* the report folder (absolute once pack_check_run starts) */
    int timeout_ms;     /* per kiosk command */
    const struct kk_pack *pack;
    const struct kk_diags *diags;

    /* Filled in by pack_check_run. */
    struct pack_shot *shots;
    size_t nshots, ashots;
    struct pack_small_image *small;
    size_t nsmall, asmall;
    size_t overflows;       /* shots with overflowing text */
    size_t shortened;       /* shots with shortened card summaries */
    size_t questions_shown; /* quiz question screens walked */
    int quiz_missing;       /* a quiz/start led to a quiz scene without choices */
    int measured_images;    /* the kiosk reported image rectangles */
    struct pack_low_contrast *low;
    size_t nlow, alow;
    size_t texts_measured[2]; /* lines of text measured, [0] default theme, [1] high contrast */
    double least_ratio[2];    /* the lowest contrast seen in each theme (0: none measured) */
    struct kk_buf failure;    /* why the walk stopped early; empty when it finished */
    double seconds;           /* wall-clock time of the walk */
    int sizes[PACK_CHECK_MAX_SIZES][2]; /* the screen sizes walked */
    int nsizes;
};

/* Frees what the walk filled in (shots, small images, failure); c may be NULL. */
void pack_check_release(struct pack_check *c);

/* True when a missing-translation warning: the validator's "missing English". */
int pack_check_is_translation(const struct kk_diag *d);

#endif
