/* What every scene is given: the kiosk's settings, its content, the visitor session, the
 * scene stack, the UI context and the visit frame. None of it needs SDL, so tests give
 * scenes an environment of their own (fake text metrics, no window). */
#ifndef SCENE_ENV_H
#define SCENE_ENV_H

#include "content.h"
#include "kepu/config.h"
#include "scene_stack.h"
#include "session.h"
#include "ui_ctx.h"

struct visit; /* visit.h */
struct audio; /* audio.h */

struct scene_env {
    const struct kk_config *cfg;
    struct content *content;
    struct session *session;
    struct scene_stack *stack;
    struct ui_ctx *ui;
    struct visit *visit;
    int tap_x, tap_y; /* where the last tap landed */
    int turn;         /* a scene asked for the page-turn animation: -1 or +1 (0: none) */
    int quit;         /* a scene asked the app to stop (the staff panel) */
    int animate;      /* animations are on (page turns, a block's moves): off under automation
                       * unless it asks for them, so screenshots show finished screens */
    /* The settings the office's overlay sets now, as "key = value, ..." ("" for none;
     * fleet_ui.c keeps it): the staff panel says where each value came from. */
    const char *remote_settings;
    /* Narration (audio.h): what the screen offers to read aloud. NULL: none. */
    struct audio *audio;
};

#endif
