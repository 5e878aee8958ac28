/* The visit frame around every scene: the top bar (back, home, language, large text, read
 * aloud where there is narration), the "Still there?" prompt and the idle reset, the staff corner,
 * and going home. It also holds what the visitor is looking at (the topic the menu opened), which
 * the reader and the quiz share. Navigation asked for here is applied by visit_apply after the
 * handler that asked returns. */
#ifndef VISIT_H
#define VISIT_H

#include <stdint.h>

#include "scene_env.h"
#include "ui.h"

#define VISIT_CORNER_TAPS 5

struct visit {
    /* What the visitor looks at: set by the menu, read by the reader and the quiz. */
    const struct kk_pack *pack;
    const struct kk_topic *topic;
    long open_page; /* the page the reader shows next (the quiz's "read about it"), or -1 */

    int idle_prompt; /* the "Still there?" countdown is up */
    uint64_t idle_prompt_at;
    uint64_t last_input;                     /* monotonic ms of the last touch */
    uint64_t corner_taps[VISIT_CORNER_TAPS]; /* the last taps in the top-right corner */

    int go_home;            /* asked for: back to the start */
    const char *end_reason; /* asked for: end the visitor's session for this reason */
    int idle_reset;         /* the end is an idle reset (an idle_reset event follows) */
};

void visit_init(struct visit *v);

/* ---- navigation, applied by visit_apply ---- */

/* Back to the start: switches to pending content first, then shows the attract screen
 * (or "content is being updated" when there is nothing to show). */
void visit_go_home(struct scene_env *e);
/* Ends the visitor's session once the scenes being left have left (so their last events
 * still belong to it). */
void visit_end_session(struct scene_env *e, const char *reason);
/* The visitor's topic menu: attract, audience picker, menu. */
void visit_to_menu(struct scene_env *e);
/* Opens topic t of pack p in scene s (the reader or the quiz) on top of this one. */
void visit_open_topic(struct scene_env *e, const struct kk_pack *p, const struct kk_topic *t,
                      const struct scene *s);
/* From the quiz on the topic: the reader at page. The reader under the quiz turns there,
 * or one opens there in the quiz's place. */
void visit_read_page(struct scene_env *e, size_t page);
/* The page asked for by visit_read_page, once (-1 when none). */
long visit_take_page(struct visit *v);

/* Applies what was asked for: the scene switch, then the session's end, then going home
 * (with the content switch). Returns 1 when the screen changed. */
int visit_apply(struct scene_env *e);

/* ---- the frame ---- */

/* The height of the top bar in pixels (0 for scenes without one). */
int visit_top_bar_h(const struct scene_env *e);
/* Appends the top bar (when the top scene has one) and the idle prompt (when it is up). */
void visit_build_frame(struct scene_env *e, struct ui_list *l, uint64_t now);
/* Handles the frame's own targets (lang, large_text, read-aloud, nav/back, nav/home,
 * idle/...); returns 1 when id was one. */
int visit_tap(struct scene_env *e, const char *id);
/* Counts taps in the top-right corner; five within three seconds open the staff PIN.
 * Returns 1 when they did. */
int visit_corner_tap(struct scene_env *e, int x, int y);
/* A touch came: the visitor is there (the idle prompt goes away). */
void visit_note_input(struct scene_env *e);
/* Runs the idle timers; returns ms until it wants to run again, or -1. */
long visit_tick(struct scene_env *e, uint64_t now);

#endif
