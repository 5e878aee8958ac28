/* The automation channel (DESIGN.md): JSON commands on stdin, one per line; JSON lines on
 * stdout. A reader thread turns each line into an SDL event, so commands run on the UI
 * thread through the same input path as a finger. After each command the app prints the
 * screen if it changed ({"scene":...}) and then a reply ({"ok":true} or {"ok":false,
 * "error":"..."}). End of input quits the app.
 *
 * Beyond DESIGN.md's commands: {"state":true} reports the screen again,
 * {"caches":true} reports the text and image caches ({"caches":"drop"} empties them),
 * {"animations":true} turns the page-turn animation on (it is off under automation so
 * that screenshots show finished screens), and {"frame_stats":true} answers with frame
 * times for the benchmarks. */
#include "automation.h"

#include <stdio.h>
#include <string.h>

#include "kepu/alloc.h"
#include "kepu/clock.h"
#include "fleet_ui.h"
#include "kepu/log.h"
#include "ui_image.h"
#include "ui_text.h"

#define MAX_LINE 65536

static int reader_thread(void *arg)
{
    Uint32 event_type = (Uint32)(uintptr_t)arg;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > MAX_LINE) {
            kk_warn("automation", "command of %zd bytes ignored (limit %d)", n, MAX_LINE);
            continue;
        }
        SDL_Event e = {0};
        e.type = event_type;
        e.user.data1 = kk_strdup(line);
        if (e.user.data1 && SDL_PushEvent(&e) < 1)
            kk_free(e.user.data1);
    }
    free(line);
    SDL_Event e = {0};
    e.type = event_type;
    e.user.data1 = kk_strdup("{\"quit\":true}");
    if (e.user.data1 && SDL_PushEvent(&e) < 1)
        kk_free(e.user.data1);
    return 0;
}

static void automation_handle(struct app *a, const char *line);
static void automation_report(struct app *a);

void automation_start(struct app *a)
{
    a->command_event = SDL_RegisterEvents(1);
    a->on_command = automation_handle;
    a->on_screen = automation_report;
    a->automation = 1;
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

static cJSON *rect_json(struct ui_rect r)
{
    int v[4] = {r.x, r.y, r.w, r.h};
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
    if (s->audience >= 0)
        cJSON_AddStringToObject(j, "audience", kk_audience_name((enum kk_audience)s->audience));
    int size[2] = {a->ui.w, a->ui.h};
    cJSON_AddItemToObject(j, "size", cJSON_CreateIntArray(size, 2));
    cJSON_AddBoolToObject(j, "idle_prompt", a->visit.idle_prompt);
    fleet_ui_report(a, j);
    const struct scene *top = scene_stack_top(&a->stack);
    if (top && top->report)
        top->report(&a->env, scene_stack_top_self(&a->stack), j);
    cJSON *targets = cJSON_AddArrayToObject(j, "targets");
    for (size_t i = 0; i < a->list.ntargets; i++) {
        const struct ui_target *t = &a->list.targets[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", t->id);
        cJSON_AddItemToObject(o, "rect", rect_json(t->r));
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
        cJSON_AddItemToObject(o, "rect", rect_json(it->r));
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

/* Reads n integers from a JSON array; returns 0 on success. */
static int ints(const cJSON *arr, int *out, int n)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsNumber(v) || v->valuedouble < -100000 || v->valuedouble > 100000)
            return -1;
        out[i] = (int)v->valuedouble;
    }
    return 0;
}

static void automation_handle(struct app *a, const char *line)
{
    char err[256] = "";
    cJSON *cmd = cJSON_Parse(line);
    cJSON *out = cJSON_CreateObject();
    const cJSON *v;
    int p[4];
    app_update(a);
    if (!cmd || !cJSON_IsObject(cmd)) {
        snprintf(err, sizeof(err), "not a JSON object: %.60s", line);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "tap"))) {
        if (ints(v, p, 2))
            snprintf(err, sizeof(err), "tap: expected [x,y]");
        else
            app_tap(a, p[0], p[1]);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "tap_id"))) {
        const struct ui_target *t = NULL;
        for (size_t i = 0; cJSON_IsString(v) && i < a->list.ntargets; i++)
            if (!strcmp(a->list.targets[i].id, v->valuestring))
                t = &a->list.targets[i];
        if (!t)
            snprintf(err, sizeof(err), "tap_id: no target \"%.80s\" on the %s screen",
                     cJSON_IsString(v) ? v->valuestring : "?", app_scene_name(a));
        else
            app_tap(a, t->r.x + t->r.w / 2, t->r.y + t->r.h / 2);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "swipe"))) {
        if (ints(v, p, 4))
            snprintf(err, sizeof(err), "swipe: expected [x1,y1,x2,y2]");
        else
            app_swipe(a, p[0], p[1], p[2], p[3]);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "key"))) {
        if (!cJSON_IsString(v))
            snprintf(err, sizeof(err), "key: expected a key name");
        else
            app_key(a, v->valuestring);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "advance_ms"))) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400000.0 * 365)
            snprintf(err, sizeof(err), "advance_ms: expected a number of milliseconds >= 0");
        else
            kk_clock_advance((uint64_t)v->valuedouble);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "screenshot"))) {
        struct kk_buf e = KK_BUF_INIT;
        if (!cJSON_IsString(v))
            snprintf(err, sizeof(err), "screenshot: expected a file name");
        else if (app_screenshot(a, v->valuestring, &e))
            snprintf(err, sizeof(err), "%s", kk_buf_str(&e));
        kk_buf_release(&e);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "animations"))) {
        a->animate = cJSON_IsTrue(v);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "frame_stats"))) {
        struct app_frame_stats st;
        app_frame_stats(a, &st);
        cJSON_AddNumberToObject(out, "frames", (double)st.frames);
        cJSON_AddNumberToObject(out, "p50_us", st.p50_us);
        cJSON_AddNumberToObject(out, "p99_us", st.p99_us);
        cJSON_AddNumberToObject(out, "max_us", st.max_us);
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "caches"))) {
        /* {"caches":"drop"} empties them first; any other value only reports. */
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "drop")) {
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
    } else if ((v = cJSON_GetObjectItemCaseSensitive(cmd, "quit"))) {
        a->quit = 1;
    } else if (!cJSON_GetObjectItemCaseSensitive(cmd, "state")) {
        snprintf(err, sizeof(err), "unknown command: %.60s", line);
    }
    cJSON_Delete(cmd);
    app_update(a);
    if (!a->reported)
        automation_report(a);
    reply(err[0] ? err : NULL, out);
    cJSON_Delete(out);
}
