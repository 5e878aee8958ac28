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

#include "kepu/config.h"
#include "kepu/manifest.h"
#include "kepu/pack.h"
#include "kepu/sync.h"
#include "session.h"

struct content {
    const struct kk_config *cfg;
    struct session *session; /* where error events go */
    struct kk_sync *sync;    /* NULL when offline; told when a fetched pack went live */
    struct kk_library lib;
    struct kk_pubkey *keys; /* trusted pack keys, read once */
    size_t nkeys;
    int keys_loaded;
    char **hidden; /* pack ids staff hid */
    size_t nhidden;
    int pending; /* a new version waits for the attract screen */
};

/* Sets c up with nothing loaded; cfg and session must outlive it. */
void content_init(struct content *c, const struct kk_config *cfg, struct session *session);
/* Frees the library, the keys and the hidden list. Accepts NULL. */
void content_release(struct content *c);

/* Visible packs: a loaded pack with topics that staff did not hide. */
int content_pack_visible(const struct content *c, const struct kk_pack *p);
/* True when any loaded pack is visible. */
int content_any_visible(const struct content *c);

/* Loads the library from the configured source; logs and records an error event for
 * every pack it cannot use. Replaces what was loaded before. */
void content_load(struct content *c);

/* True when pack id is hidden by staff. */
int content_hidden(const struct content *c, const char *id);
/* Hides or shows pack id; saved in state/hidden.json. */
enum kk_err content_set_hidden(struct content *c, const char *id, int hidden, struct kk_buf *err);

/* Installs a .kpk bundle (staff import); on success the switch is pending. */
enum kk_err content_import(struct content *c, const char *kpk, struct kk_buf *err);
/* Rolls pack id back to its previous version; the switch is pending. */
enum kk_err content_rollback(struct content *c, const char *id, struct kk_buf *err);

/* Called on the way to the attract screen, with no scene left that points into the
 * library: reloads it if a switch is pending. Returns 1 when it did (every pointer into
 * the old packs is stale). */
int content_switch_if_pending(struct content *c);

/* Crash-loop guard. Called once at start, before content_load: counts this start in
 * state/startup.json; when this is the fourth start within ten minutes without one that
 * lasted (see content_startup_ok), every pack switched to a new version in that time is
 * rolled back to its previous version, and an error event records it. */
void content_startup_check(struct content *c);
/* The kiosk has run long enough (or quit cleanly): this start did not fail. */
void content_startup_ok(struct content *c);

/* The trusted keys from the config (read once); NULL with *n 0 when none. */
const struct kk_pubkey *content_keys(struct content *c, size_t *n);

#endif
