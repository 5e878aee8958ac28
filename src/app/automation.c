/* The automation channel (DESIGN.md): JSON commands on stdin, one per line; JSON lines on
 * stdout. A reader thread turns each line into an SDL event, so commands run on the UI
 * thread through the same input path as a finger. After each command the app prints the
 * screen if it changed ({"scene":...}) and then a reply ({"ok":true} or {"ok":false,
 * "error":"..."}). End of input quits the app.
 *
 * Beyond DESIGN.md's commands: {"state":true} reports the screen again,
 * {"caches":true} reports the text and image caches ({"caches":"drop"} empties them),
 * {"animations":true} turns the animations on (page turns, the compare handle's move;
 * they are off under automation so that screenshots show finished screens),
 * {"drag":[x1,y1,x2,y2,steps]} moves a finger (docs/automation.md), {"frame_stats":true} answers
 * with frame times for the benchmarks, and {"contrast":true} answers with every line of text on the
 * screen, its colour, the colour actually drawn behind it and their contrast ratio
 * ("texts":[{"text","rect","ink","bg","ratio"}], for kepu-pack check). */
#include "automation.h"
#include "automation_cmd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "fleet_ui.h"
#include "kepu/log.h"
#include "ui_image.h"
#include "ui_text.h"

#define MAX_LINE 65536

static void push_line(Uint32 event_type, const char *line)
{
    SDL_Event e = {0};
    e.type = event_type;
    e.user.data1 = kk_strdup(line);
    if (e.user.data1 && SDL_PushEvent(&e) < 1)
        kk_free(e.user.data1);
}

/* Lines up to MAX_LINE bytes become commands; a longer one is skipped to its end without
 * ever being held whole. */
static int reader_thread(void *arg)
{
    Uint32 event_type = (Uint32)(uintptr_t)arg;
    static char line[MAX_LINE + 2];
    int skipping = 0;
    while (fgets(line, sizeof(line), stdin)) {
        size_t n = strlen(line);
        int whole = n && line[n - 1] == '\n';
        if (skipping || (!whole && n == sizeof(line) - 1)) {
            if (!skipping)
                kk_warn("automation", "command over %d bytes ignored", MAX_LINE);
            skipping = !whole;
            continue;
        }
        push_line(event_type, line);
    }
    push_line(event_type, "{\"quit\":true}");
    return 0;
}

static void automation_handle(struct app *a, const char *line);
static cJSON *rect_json(const struct app *a, struct ui_rect r);

/* WCAG 2 relative luminance of an sRGB colour. */
static double luminance(uint8_t r, uint8_t g, uint8_t b)
{
    double c[3] = {r / 255.0, g / 255.0, b / 255.0};
    for (int i = 0; i < 3; i++)
        c[i] = c[i] <= 0.03928 ? c[i] / 12.92 : pow((c[i] + 0.055) / 1.055, 2.4);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double contrast_ratio(const uint8_t x[3], const uint8_t y[3])
{
    double a = luminance(x[0], x[1], x[2]), b = luminance(y[0], y[1], y[2]);
    return a > b ? (a + 0.05) / (b + 0.05) : (b + 0.05) / (a + 0.05);
}

#define BG_SLOTS 4096 /* a power of two, more than the colours one line of text covers */

/* The colour drawn behind a line of text: the commonest pixel colour in its rectangle
 * that is not near the text's own (the glyphs and their anti-aliased edges are the
 * text's colour blended into the background, so the background is what is left). */
static void background_of(const SDL_Surface *s, struct ui_rect r, const uint8_t ink[3],
                          uint8_t out[3])
{
    static uint32_t key[BG_SLOTS], count[BG_SLOTS];
    memset(count, 0, sizeof(count));
    uint32_t best = 0, best_n = 0;
    int x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
    int x1 = r.x + r.w > s->w ? s->w : r.x + r.w, y1 = r.y + r.h > s->h ? s->h : r.y + r.h;
    memcpy(out, ink, 3);
    for (int y = y0; y < y1; y++) {
        const uint8_t *p = (const uint8_t *)s->pixels + (size_t)y * s->pitch + (size_t)x0 * 4;
        for (int x = x0; x < x1; x++, p += 4) {
            if (abs(p[0] - ink[0]) + abs(p[1] - ink[1]) + abs(p[2] - ink[2]) < 96)
                continue;
            uint32_t k = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            uint32_t i = (k * 2654435761u) & (BG_SLOTS - 1);
            for (int probe = 0; probe < 64 && count[i] && key[i] != k; probe++)
                i = (i + 1) & (BG_SLOTS - 1);
            if (count[i] && key[i] != k)
                continue; /* a full neighbourhood: a photo, not a flat background */
            key[i] = k;
            if (++count[i] > best_n) {
                best_n = count[i];
                best = k;
            }
        }
    }
    if (best_n) {
        out[0] = (uint8_t)(best >> 16);
        out[1] = (uint8_t)(best >> 8);
        out[2] = (uint8_t)best;
    }
}

/* {"contrast":true}: every text item of the screen against the pixels behind it. */
static void report_contrast(struct app *a, cJSON *out, char *err, size_t errlen)
{
    SDL_Surface *s = NULL;
    struct kk_buf e = KK_BUF_INIT;
    if (app_read_screen(a, &s, &e)) {
        snprintf(err, errlen, "contrast: %s", kk_buf_str(&e));
        kk_buf_release(&e);
        return;
    }
    kk_buf_release(&e);
    cJSON *texts = cJSON_AddArrayToObject(out, "texts");
    for (size_t i = 0; i < a->list.n; i++) {
        const struct ui_item *it = &a->list.items[i];
        if (it->kind != UI_TEXT || !it->len)
            continue;
        struct ui_rect r = it->r;
        r.y += a->view_y;
        uint8_t ink[3] = {it->color.r, it->color.g, it->color.b}, bg[3];
        background_of(s, r, ink, bg);
        char text[128], hex_ink[8], hex_bg[8];
        size_t n = it->len < sizeof(text) - 1 ? it->len : sizeof(text) - 1;
        while (n && n < it->len && ((unsigned char)it->text[n] & 0xc0) == 0x80)
            n--; /* not inside a character */
        memcpy(text, it->text, n);
        text[n] = '\0';
        snprintf(hex_ink, sizeof(hex_ink), "#%02x%02x%02x", ink[0], ink[1], ink[2]);
        snprintf(hex_bg, sizeof(hex_bg), "#%02x%02x%02x", bg[0], bg[1], bg[2]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", text);
        cJSON_AddItemToObject(o, "rect", rect_json(a, it->r));
        cJSON_AddStringToObject(o, "ink", hex_ink);
        cJSON_AddStringToObject(o, "bg", hex_bg);
        cJSON_AddNumberToObject(o, "ratio", floor(contrast_ratio(ink, bg) * 100) / 100);
        cJSON_AddItemToArray(texts, o);
    }
    SDL_FreeSurface(s);
}
static void automation_report(struct app *a);

void automation_start(struct app *a)
{
    a->command_event = SDL_RegisterEvents(1);
    a->on_command = automation_handle;
    a->on_screen = automation_report;
    a->automation = 1;
    a->env.animate = 0;
    SDL_Thread *t =
        SDL_CreateThread(reader_thread, "automation", (void *)(uintptr_t)a->command_event);
    if (!t)
        kk_error("automation", "cannot start the reader: %s", SDL_GetError());
    else
        SDL_DetachThread(t);
}

static void print_json(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        cJSON_free(s);
    }
}

/* A rectangle of the UI on the screen (the UI may sit lower down: the reach setting). */
static cJSON *rect_json(const struct app *a, struct ui_rect r)
{
    int v[4] = {r.x, r.y + a->view_y, r.w, r.h};
    return cJSON_CreateIntArray(v, 4);
}

/* A comma-separated list of ids as a JSON array named name. */
static void add_ids(cJSON *j, const char *name, const char *ids)
{
    cJSON *arr = cJSON_AddArrayToObject(j, name);
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", ids);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(p));
}

/* The screen line: what every screen has, then the scene's own keys (its report). */
static void automation_report(struct app *a)
{
    const struct session *s = &a->session;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "scene", app_scene_name(a));
    cJSON_AddStringToObject(j, "lang", kk_lang_name(s->lang));
    cJSON_AddBoolToObject(j, "large_text", s->large_text);
    cJSON_AddBoolToObject(j, "high_contrast", s->high_contrast && a->ui.high_contrast_offered);
    if (s->audience >= 0)
        cJSON_AddStringToObject(j, "audience", kk_audience_name((enum kk_audience)s->audience));
    int size[2] = {a->screen_w, a->screen_h};
    cJSON_AddItemToObject(j, "size", cJSON_CreateIntArray(size, 2));
    if (a->cfg.reach) {
        cJSON *reach = cJSON_AddObjectToObject(j, "reach");
        cJSON_AddItemToObject(reach, "band",
                              rect_json(a, (struct ui_rect){0, 0, a->ui.w, a->ui.h}));
    }
    cJSON_AddBoolToObject(j, "idle_prompt", a->visit.idle_prompt);
    /* The packs shown now, with their versions: a new one goes live at the attract screen. */
    cJSON *packs = cJSON_AddArrayToObject(j, "packs");
    for (size_t i = 0; packs && i < a->content.lib.npacks; i++) {
        const struct kk_pack *p = a->content.lib.packs[i];
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddItemToArray(packs, o)) {
            cJSON_AddStringToObject(o, "id", p->id);
            cJSON_AddStringToObject(o, "version", p->version ? p->version : "");
        } else {
            cJSON_Delete(o);
        }
    }
    fleet_ui_report(a, j);
    audio_report(a->audio, j);
    const struct scene *top = scene_stack_top(&a->stack);
    if (top && top->report)
        top->report(&a->env, scene_stack_top_self(&a->stack), j);
    cJSON *targets = cJSON_AddArrayToObject(j, "targets");
    for (size_t i = 0; i < a->list.ntargets; i++) {
        const struct ui_target *t = &a->list.targets[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", t->id);
        cJSON_AddItemToObject(o, "rect", rect_json(a, t->r));
        cJSON_AddStringToObject(o, "label", t->label);
        cJSON_AddItemToArray(targets, o);
    }
    /* Where each picture is drawn, so a proof-reader can tell one shown larger than its
     * own pixels (kepu-pack check). */
    cJSON *imgs = cJSON_AddArrayToObject(j, "images");
    for (size_t i = 0; i < a->list.n; i++) {
        const struct ui_item *it = &a->list.items[i];
        if (it->kind != UI_IMAGE || !it->image || it->icon) /* the app's icons are no pack's */
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "src", it->image->src);
        cJSON_AddItemToObject(o, "rect", rect_json(a, it->r));
        cJSON_AddItemToArray(imgs, o);
    }
    add_ids(j, "overflow", a->list.overflow);
    add_ids(j, "shortened", a->list.shortened);
    print_json(j);
    cJSON_Delete(j);
    a->reported = 1;
}

static void reply(const char *error, cJSON *j)
{
    cJSON_AddBoolToObject(j, "ok", error == NULL);
    if (error)
        cJSON_AddStringToObject(j, "error", error);
    print_json(j);
}

/* {"drag":[x1,y1,x2,y2,steps]}: a finger down at (x1, y1), moved to (x2, y2) in steps
 * equal moves with a frame drawn after each (as a finger's motion events would), then up:
 * the compare handle follows it; anywhere else it ends as a tap or a swipe would. */
static void drag(struct app *a, const int d[5])
{
    app_pointer_down(a, d[0], d[1]);
    for (int i = 1; i <= d[4]; i++) {
        app_pointer_move(a, d[0] + (d[2] - d[0]) * i / d[4], d[1] + (d[3] - d[1]) * i / d[4]);
        app_frame(a);
    }
    app_pointer_up(a, d[2], d[3]);
}

/* Runs one command; what it answers goes into out, why it failed into err. */
static void run_command(struct app *a, const struct auto_cmd *c, cJSON *out, char *err,
                        size_t errlen)
{
    switch (c->kind) {
    case AUTO_TAP:
        app_tap(a, c->p[0], c->p[1]);
        break;
    case AUTO_TAP_ID: {
        const struct ui_target *t = NULL;
        for (size_t i = 0; i < a->list.ntargets; i++)
            if (!strcmp(a->list.targets[i].id, c->s))
                t = &a->list.targets[i];
        if (!t)
            snprintf(err, errlen, "tap_id: no target \"%.80s\" on the %s screen", c->s,
                     app_scene_name(a));
        else
            app_tap(a, t->r.x + t->r.w / 2, a->view_y + t->r.y + t->r.h / 2);
        break;
    }
    case AUTO_SWIPE:
        app_swipe(a, c->p[0], c->p[1], c->p[2], c->p[3]);
        break;
    case AUTO_DRAG:
        drag(a, c->p);
        break;
    case AUTO_KEY:
        app_key(a, c->s);
        break;
    case AUTO_ADVANCE:
        kk_clock_advance((uint64_t)c->ms);
        break;
    case AUTO_SCREENSHOT: {
        struct kk_buf e = KK_BUF_INIT;
        if (app_screenshot(a, c->s, &e))
            snprintf(err, errlen, "%s", kk_buf_str(&e));
        kk_buf_release(&e);
        break;
    }
    case AUTO_ANIMATIONS:
        a->animate = c->on;
        a->env.animate = a->animate;
        break;
    case AUTO_FRAME_STATS: {
        struct app_frame_stats st;
        app_frame_stats(a, &st);
        cJSON_AddNumberToObject(out, "frames", (double)st.frames);
        cJSON_AddNumberToObject(out, "p50_us", st.p50_us);
        cJSON_AddNumberToObject(out, "p99_us", st.p99_us);
        cJSON_AddNumberToObject(out, "max_us", st.max_us);
        break;
    }
    case AUTO_CACHES: {
        if (c->on) {
            ui_text_cache_drop(a->text);
            ui_images_drop(a->images);
        }
        struct ui_text_stats ts;
        struct ui_images_stats is;
        ui_text_stats(a->text, &ts);
        ui_images_stats(a->images, &is);
        cJSON_AddNumberToObject(out, "text_entries", (double)ts.entries);
        cJSON_AddNumberToObject(out, "text_bytes", (double)ts.bytes);
        cJSON_AddNumberToObject(out, "image_entries", (double)is.entries);
        cJSON_AddNumberToObject(out, "image_bytes", (double)is.bytes);
        cJSON_AddNumberToObject(out, "image_failed", (double)is.failed);
        cJSON_AddNumberToObject(out, "image_pending", (double)is.pending);
        cJSON_AddNumberToObject(out, "text_hits", (double)ts.hits);
        cJSON_AddNumberToObject(out, "text_misses", (double)ts.misses);
        cJSON_AddNumberToObject(out, "image_hits", (double)is.hits);
        cJSON_AddNumberToObject(out, "image_misses", (double)is.misses);
        cJSON_AddNumberToObject(out, "fonts_open", (double)ts.faces);
        cJSON_AddNumberToObject(out, "font_opens", (double)ts.opens);
        cJSON_AddNumberToObject(out, "font_resizes", (double)ts.resizes);
        break;
    }
    case AUTO_STALL:
        /* Blocks the UI thread, as a hung driver or a runaway loop would: the watchdog's
         * test (tests/ui/test_watchdog.py) proves the pings stop with the frame loop. */
        SDL_Delay((Uint32)c->ms);
        break;
    case AUTO_CONTRAST:
        report_contrast(a, out, err, errlen);
        break;
    case AUTO_QUIT:
        a->quit = 1;
        break;
    case AUTO_STATE:
        break;
    }
}

static void automation_handle(struct app *a, const char *line)
{
    char err[256] = "";
    cJSON *out = cJSON_CreateObject();
    struct auto_cmd c;
    app_update(a);
    if (!auto_cmd_parse(line, &c, err, sizeof(err))) {
        run_command(a, &c, out, err, sizeof(err));
        auto_cmd_release(&c);
    }
    app_update(a);
    if (!a->reported)
        automation_report(a);
    reply(err[0] ? err : NULL, out);
    cJSON_Delete(out);
}
