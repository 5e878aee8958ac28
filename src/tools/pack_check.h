/* `kepu-pack check DIR -o REPORT` and `kepu-pack preview DIR`: how staff proof-read a pack
 * on the real kiosk without a programmer.
 *
 * check validates the pack, then runs kepu-kiosk under automation (pack_kiosk.h) on that
 * pack alone, at 1920x1080 and 1080x1920, in every language (zh, en), with large text off
 * and on, and walks every menu page, every screen of every page of every topic and, when
 * the kiosk has quiz screens, the quiz questions, taking a screenshot of each. The
 * findings (overflowing text, missing translations, too-small images, the validator's
 * warnings) and the screenshots go into REPORT/index.html (a contact sheet for people) and
 * REPORT/report.json (for machines); pack_report.c writes both. */
#ifndef KEPU_TOOLS_PACK_CHECK_H
#define KEPU_TOOLS_PACK_CHECK_H

#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

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
    struct kk_buf failure;  /* why the walk stopped early; empty when it finished */
    double seconds;         /* wall-clock time of the walk */
    int sizes[2][2];        /* the screen sizes walked */
};

/* Runs the walk described above, for c->pack loaded from c->dir, writing screenshots
 * under c->report/shots. The kiosk is found with pack_kiosk_find. A kiosk that dies, hangs
 * or refuses a step does not make this fail: the walk stops, c->failure says where, and
 * what was seen so far stays in c. Errors (nothing walked): KK_ERR_NOTFOUND (no kiosk
 * program), KK_ERR_IO (cannot make the report folder or the sandbox), KK_ERR_NOMEM.
 * Release c with pack_check_release afterwards, even on failure. */
enum kk_err pack_check_run(struct pack_check *c, struct kk_buf *err);
void pack_check_release(struct pack_check *c);

/* True when a missing-translation warning: the validator's "missing English". */
int pack_check_is_translation(const struct kk_diag *d);

/* Writes c->report/index.html and c->report/report.json (pack_report.c). Errors: KK_ERR_IO,
 * KK_ERR_NOMEM. */
enum kk_err pack_report_write(const struct pack_check *c, struct kk_buf *err);

/* The commands, called from pack_cmd.c with the command's own arguments (argv[0] is the
 * command name); they return the exit code. */
int pack_check_main(int argc, char **argv);
int pack_preview_main(int argc, char **argv);

#endif
