/* The app's side of fleet operations (DESIGN.md "Fleet operations"), on the UI thread:
 * runs the commands the sync thread hands over (screenshot, restart), puts the screen to
 * sleep outside opening hours (a touch wakes it for wake_minutes), and shows the notice
 * whose time it is (a banner at the bottom, clear of the top bar's Back and Home, or a
 * takeover of the attract screen). Notices and hours come from kk_sync_fleet, which keeps
 * them on disk, so they hold while the network is gone. Nothing here waits on the network. */
#ifndef FLEET_UI_H
#define FLEET_UI_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "kepu/fleet.h"
#include "kepu/pack.h"

struct app;

/* The unit file restarts the app on any exit; this one says "the office asked". */
#define FLEET_RESTART_EXIT 75

struct fleet_ui {
    uint64_t gen;                  /* kk_sync_fleet's */
    struct kk_fleet_answer *fleet; /* notices and hours in force */
    int sleeping;
    uint64_t awake_until;           /* monotonic ms: a touch woke the screen until then */
    const struct kk_notice *notice; /* the one shown, or NULL */
    int restarting;
    uint64_t restart_at;   /* monotonic ms: exit then even if the report did not go out */
    uint64_t overlay_gen;  /* kk_sync_overlay's */
    int base_saved;        /* base holds kiosk.conf's values of the overlay's keys */
    char remote_text[512]; /* what the overlay sets, for the staff panel (scene_env) */
    struct {
        int idle_timeout_s, idle_countdown_s, wake_minutes, sync_interval_s;
        int volume, quiet_volume, high_contrast, large_text;
        enum kk_lang default_lang;
        unsigned audiences;
    } base;
};

/* Plugs fleet_ui into a (its hooks in struct app); before app_run. */
void fleet_ui_attach(struct app *a);
/* Frees what attach made; after app_release. */
void fleet_ui_detach(struct app *a);
/* Runs the commands, works out sleep and the notice; returns ms until it wants to run
 * again (-1: no need). */
long fleet_ui_tick(struct app *a, uint64_t now);
/* A touch: 1 when it only woke the screen (the caller drops it). */
int fleet_ui_tap(struct app *a);
/* Appends the notice to the display list (app.c's rebuild). */
void fleet_ui_build(struct app *a);
/* 1 when the frame is to be black (asleep). */
int fleet_ui_dark(const struct app *a);
/* The screen line's "sleeping" and "notice". */
void fleet_ui_report(const struct app *a, cJSON *j);

#endif
