/* The kiosk application: its state, the scene stack and the one input path.
 *
 * Scenes are tables of functions. They read and change struct app, and describe their
 * screen by filling a display list (ui.h); the app draws that list, hit-tests it and
 * reports it on the automation channel. A scene never switches scenes from inside its
 * own handler: it asks (app_push, app_pop, app_reset) and the switch happens after the
 * handler returns, when the leaving scene's leave() runs. */
#ifndef APP_H
#define APP_H

#include <SDL.h>
#include <stdint.h>

#include "kepu/config.h"
#include "kepu/event.h"
#include "kepu/journal.h"
#include "kepu/manifest.h"
#include "kepu/sync.h"
#include "kepu/pack.h"
#include "ui.h"
#include "ui_layout.h"
#include "ui_strings.h"

struct app;

struct scene {
    const char *name; /* as reported on the automation channel */
    void (*enter)(struct app *a);
    void (*leave)(struct app *a);
    /* Describes the screen below the top bar into l (box = the content area). */
    void (*build)(struct app *a, struct ui_list *l, struct ui_rect box);
    /* A target of this scene was tapped. */
    void (*tap)(struct app *a, const char *id);
    /* A horizontal swipe: dir -1 = towards the previous, +1 = towards the next. */
    void (*swipe)(struct app *a, int dir);
    /* Time passed; returns ms until it wants to be called again, or -1 for never. */
    int (*tick)(struct app *a, uint64_t now);
    /* Optional: warm the caches for what is likely shown next (called when idle). */
    void (*prepare)(struct app *a);
    int chrome; /* draw the top bar with home/back/language/large text */
    int staff;  /* a staff screen: no visitor session, but it still times out */
    int back;   /* the top bar has a back button */
};

extern const struct scene scene_attract, scene_audience, scene_menu, scene_reader, scene_empty,
    scene_quiz, scene_staff_pin, scene_staff, scene_staff_import, scene_staff_touch;

struct quiz_state; /* scene_quiz.c */

/* The reader shows page `page` of a->topic: when it is open, it turns there (recording the
 * page view as a turn does); otherwise the next time it opens, it opens there. */
void reader_show_page(struct app *a, size_t page);

/* The quiz's state for the automation report ({phase, question, type, right, ...}; see
 * scene_quiz.c), or NULL when no quiz is open. The caller owns it (cJSON_Delete). */
cJSON *scene_quiz_report(const struct app *a);

/* The flattened screens of the topic being read. */
struct reader_screen {
    size_t page;   /* content page */
    size_t screen; /* screen within that page */
};

struct app {
    struct kk_config cfg;
    struct kk_library lib;
    struct kk_pubkey *keys; /* trusted pack keys (content.c) */
    size_t nkeys;
    int keys_loaded;
    char **hidden; /* pack ids staff hid (content.c) */
    size_t nhidden;
    int content_pending; /* a new version waits for the attract screen */
    struct kk_journal *journal;
    struct kk_sync *sync; /* NULL when offline (no server_url) */
    uint64_t sync_polled_at;
    struct kk_event_ctx ev;

    SDL_Window *win;
    SDL_Renderer *ren;
    struct ui_text *text;
    struct ui_images *images;
    struct ui_measure measure;
    int w, h;
    double scale; /* 1.0 = the 1920x1080 (or 1080x1920) reference design */
    int automation;
    int animate; /* page-turn animation (off by default under automation) */
    int fullscreen;
    int prepared; /* prepare() ran for the current screen */

    /* Frame times (draw + present), for the benchmarks. */
    uint32_t frame_us[1024];
    size_t nframes;
    int quit;
    uint64_t started_at;
    int started_ok; /* ran long enough to count as a good start */

    /* The visitor's choices. */
    enum kk_lang lang;
    int large_text;
    int audience; /* enum kk_audience, -1 before the picker */
    int in_session;
    uint64_t session_start, last_input;
    int idle_prompt; /* the "Still there?" countdown is up */
    uint64_t idle_prompt_at;

    /* The scene stack. */
    const struct scene *stack[8];
    int depth;
    const struct scene *pending[8];
    int pending_depth; /* -1: no switch pending */

    /* What is shown. */
    struct ui_list list;
    int dirty; /* the list must be rebuilt */
    int redraw;
    int reported; /* the current list went out on the automation channel */

    /* Attract: which cover is shown. */
    size_t attract_index;
    uint64_t attract_at;

    /* Menu: the topics in the visitor's order, and which grid page is shown. */
    const struct kk_topic **menu;
    const struct kk_pack **menu_packs;
    size_t nmenu;
    size_t menu_page;

    /* Reader. */
    const struct kk_pack *pack;
    const struct kk_topic *topic;
    struct ui_screens *pages; /* one ui_screens per page of the topic */
    struct reader_screen *flat;
    size_t nflat, pos;
    uint64_t page_shown_at;
    size_t open_page; /* the page the reader opens at (reader_show_page), then 0 again */
    int layout_lang, layout_large, layout_w, layout_h;

    /* Staff panel (scene_staff.c). */
    uint64_t corner_taps[5]; /* times of the last taps in the top-right corner */
    char pin[16];
    int pin_failures;          /* wrong PINs since the last lock */
    uint64_t pin_locked_until; /* monotonic ms */
    uint64_t pin_lock_ms;      /* the next lock's length: 5 min, doubling */
    char staff_msg[512];
    int last_tap_x, last_tap_y;
    char **import_files;
    size_t nimport;
    int touch_marks[64][2];
    size_t ntouch;

    /* Quiz: the round in progress (scene_quiz.c owns it). */
    struct quiz_state *quiz;

    /* Page-turn animation. */
    struct ui_list anim_from;
    int anim_dir;
    uint64_t anim_start;
};

/* Scene switching, applied after the current handler returns. */
void app_push(struct app *a, const struct scene *s);
void app_pop(struct app *a);
void app_reset(struct app *a, const struct scene *s); /* the stack becomes just s */
/* Back to the start: switches to pending content first, then shows the attract screen
 * (or "content is being updated" when there is nothing to show). */
void app_go_home(struct app *a);
/* Visible packs: every loaded pack that staff did not hide. */
int app_pack_visible(const struct app *a, const struct kk_pack *p);

/* Marks the screen for rebuilding (state changed). */
void app_invalidate(struct app *a);

/* One input path for fingers, the mouse and the automation channel. */
void app_tap(struct app *a, int x, int y);
void app_swipe(struct app *a, int x1, int y1, int x2, int y2);
void app_key(struct app *a, const char *key);

/* Starts the page-turn animation towards dir (+1 next, -1 previous): the screen shown
 * now slides out as the rebuilt one slides in. Call before changing what is shown. */
void app_begin_page_turn(struct app *a, int dir);

/* Counts taps in the top-right corner; five within three seconds open the staff PIN. */
void staff_corner_tap(struct app *a, int x, int y);

/* Records a usage event (queued to the journal; never blocks on the disk). fields is
 * consumed. */
void app_event(struct app *a, const char *type, cJSON *fields);

/* Session helpers used by scenes. */
void app_session_start(struct app *a);
void app_session_end(struct app *a, const char *reason);

/* Sizes in screen pixels for design pixels at the reference resolution. */
int app_px(const struct app *a, int design_px);
/* The smallest touch target: 96 design pixels. */
int app_min_target(const struct app *a);

/* Common widgets. */
void app_button(struct app *a, struct ui_list *l, struct ui_rect r, const char *id,
                const char *label, int primary);
/* A text label wrapped into at most max_lines; cuts are reported as overflow. Returns the
 * height used. */
int app_label(struct app *a, struct ui_list *l, const char *id, const char *text, enum ui_font font,
              int px, struct ui_color c, int x, int y, int w, int max_lines, int center);

/* The same for a teaser (a card's summary): shortening it is by design, so a cut is
 * noted in the list's shortened ids, not as overflow. */
int app_teaser(struct app *a, struct ui_list *l, const char *id, const char *text,
               enum ui_font font, int px, struct ui_color c, int x, int y, int w, int max_lines);

/* The height label text takes when wrapped into w (at most max_lines lines). */
int app_text_height(struct app *a, const char *text, enum ui_font font, int px, int w,
                    int max_lines);

/* Lifecycle (main.c). */
enum kk_err app_init(struct app *a, struct kk_buf *err);
void app_run(struct app *a);
void app_release(struct app *a);

/* Frame-time percentiles in microseconds since the last call; resets the record. */
struct app_frame_stats {
    size_t frames;
    uint32_t p50_us, p99_us, max_us;
};
void app_frame_stats(struct app *a, struct app_frame_stats *out);

/* Runs due timers, applies scene switches and rebuilds the screen if needed. */
void app_update(struct app *a);
const char *app_scene_name(const struct app *a);

/* Renders the current screen and writes it as a PNG. */
enum kk_err app_screenshot(struct app *a, const char *path, struct kk_buf *err);

/* Automation channel (automation.c). */
void automation_start(struct app *a);
void automation_handle(struct app *a, const char *line);
void automation_report(struct app *a);
extern Uint32 automation_event_type;

#endif
