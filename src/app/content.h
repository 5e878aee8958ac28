/* Where the kiosk's packs come from, and switching them.
 *
 * With content_dir set (development, the demo, `kepu-pack preview`), the source-form packs
 * in that folder are shown as they are. Otherwise the kiosk shows the packs installed in
 * its state folder (active.json): each is verified again against the trusted keys at
 * load, and when the active version fails, its previous version is used instead. Staff
 * can hide a pack (state/hidden.json) without uninstalling it.
 *
 * A new version (imported by staff or fetched by sync) is only marked pending; the kiosk
 * switches to it at the attract screen, never under a visitor's finger. */
#ifndef CONTENT_H
#define CONTENT_H

#include "app.h"

/* Loads the library from the configured source; logs and records an error event for
 * every pack it cannot use. Replaces what was loaded before. */
void content_load(struct app *a);

/* True when pack id is hidden by staff. */
int content_hidden(const struct app *a, const char *id);
/* Hides or shows pack id; saved in state/hidden.json. */
enum kk_err content_set_hidden(struct app *a, const char *id, int hidden, struct kk_buf *err);

/* Installs a .kpk bundle (staff import); on success the switch is pending. */
enum kk_err content_import(struct app *a, const char *kpk, struct kk_buf *err);
/* Rolls pack id back to its previous version; the switch is pending. */
enum kk_err content_rollback(struct app *a, const char *id, struct kk_buf *err);

/* Called when the attract screen comes up: reloads the library if a switch is pending. */
void content_switch_if_pending(struct app *a);

/* Crash-loop guard. Called once at start, before content_load: counts this start in
 * state/startup.json; when this is the fourth start within ten minutes without one that
 * lasted (see content_startup_ok), every pack switched to a new version in that time is
 * rolled back to its previous version, and an error event records it. */
void content_startup_check(struct app *a);
/* The kiosk has run long enough (or quit cleanly): this start did not fail. */
void content_startup_ok(struct app *a);

/* The trusted keys from the config (read once); NULL with *n 0 when none. */
const struct kk_pubkey *content_keys(struct app *a, size_t *n);

#endif
