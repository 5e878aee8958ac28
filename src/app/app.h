/* The kiosk's host: the window, the renderer choice, the loop and the one input path for
 * fingers, the mouse and the automation channel. What is shown is decided by the scenes
 * (scene_stack.h) inside the visit frame (visit.h); the host builds their display list,
 * draws it, hit-tests it and times it. */
#ifndef APP_H
#define APP_H

#include <SDL.h>
#include <stdint.h>

#include "content.h"
#include "kepu/config.h"
#include "kepu/journal.h"
#include "scene_env.h"
#include "scene_stack.h"
#include "session.h"
#include "ui.h"
#include "ui_ctx.h"
#include "ui_theme.h"
#include "visit.h"
#include "watchdog.h"

struct ui_text;
struct ui_images;

struct app {
    struct kk_config cfg;
    struct content content;
    struct session session;
    struct scene_stack stack;
    struct visit visit;
    struct ui_ctx ui;
    struct scene_env env;     /* what the scenes get: the parts above */
    struct ui_theme theme;    /* assets/: colours, sizes, icons */
    struct ui_theme theme_hc; /* the high-contrast theme (assets/themes/high-contrast.json) */
    uint64_t sync_polled_at;

    int screen_w, screen_h; /* the whole screen; ui.w x ui.h is the part the UI uses */
    int view_y;             /* where the UI starts (lower down with the reach setting) */

    SDL_Window *win;
    SDL_Renderer *ren;
    struct ui_text *text;
    struct ui_images *images;
    struct audio *audio; /* narration (audio.c) */
    int automation;
    int animate; /* page-turn animation (off by default under automation) */
    int fullscreen;
    int prepared; /* prepare() ran for the current screen */

    /* Frame times (draw + present), for the benchmarks. */
    uint32_t frame_us[1024];
    size_t nframes;
    int quit;
    uint64_t started_at;
    struct watchdog watchdog; /* systemd's READY=1 and WATCHDOG=1 (watchdog.c) */
    int started_ok;           /* ran long enough to count as a good start */

    /* What is shown. */
    struct ui_list list;
    int redraw;
    int reported; /* the current list went out on the automation channel */

    /* Page-turn animation. */
    struct ui_list anim_from;
    int anim_dir;
    uint64_t anim_start;

    /* The automation channel (automation.c) plugs in here: commands arrive as SDL user
     * events of command_event and go to on_command; on_screen reports a new screen. */
    Uint32 command_event;
    void (*on_command)(struct app *a, const char *line);
    void (*on_screen)(struct app *a);

    /* The office's commands, sleep and notices (fleet_ui.c) plug in here, as the automation
     * channel does; NULL when not attached. */
    struct fleet_ui *fleet;
    long (*fleet_tick)(struct app *a, uint64_t now); /* ms until it wants to run; -1 */
    int (*fleet_tap)(struct app *a);                 /* 1: the touch only woke the screen */
    void (*fleet_build)(struct app *a);              /* appends the notice to the list */
    int (*fleet_dark)(const struct app *a);          /* 1: draw a black frame */
    int bottom_reserved; /* px a banner notice keeps at the bottom, clear of the scene */
    int exit_code;       /* what main returns after app_run */
};

/* Sets up the parts that need no window (config read, before app_init). */
void app_setup(struct app *a);
/* Lifecycle (main.c): the window and renderer, the fonts and the image cache. Errors:
 * KK_ERR_IO (SDL), KK_ERR_NOTFOUND (no font), KK_ERR_NOMEM; err says which. */
enum kk_err app_init(struct app *a, struct kk_buf *err);
/* Runs until quit; at the end every scene leaves and the visitor's session ends. */
void app_run(struct app *a);
/* Frees everything app_setup and app_init made. */
void app_release(struct app *a);

/* One input path for fingers, the mouse and the automation channel (screen pixels). */
void app_tap(struct app *a, int x, int y);
void app_swipe(struct app *a, int x1, int y1, int x2, int y2);
void app_key(struct app *a, const char *key);
/* The same path one step at a time, as a finger moves (screen pixels): down, moves, up.
 * Down on a target the scene drags (the compare handle) starts a drag that the moves
 * carry on and up ends; otherwise up is a tap or a swipe (app_swipe). */
void app_pointer_down(struct app *a, int x, int y);
void app_pointer_move(struct app *a, int x, int y);
void app_pointer_up(struct app *a, int x, int y);
/* Rebuilds the screen if needed and draws a frame now (a step of an automated drag). */
void app_frame(struct app *a);

/* Runs due timers, applies scene switches and rebuilds the screen if needed. */
void app_update(struct app *a);
const char *app_scene_name(const struct app *a);

/* Frame-time percentiles in microseconds since the last call; resets the record. */
struct app_frame_stats {
    size_t frames;
    uint32_t p50_us, p99_us, max_us;
};
void app_frame_stats(struct app *a, struct app_frame_stats *out);

/* Renders the current screen into *out, the whole screen in RGBA32 (free it with
 * SDL_FreeSurface). Errors: KK_ERR_NOMEM, KK_ERR_IO. */
enum kk_err app_read_screen(struct app *a, SDL_Surface **out, struct kk_buf *err);
/* Renders the current screen and writes it as a PNG. Errors: KK_ERR_NOMEM, KK_ERR_IO. */
enum kk_err app_screenshot(struct app *a, const char *path, struct kk_buf *err);

#endif
