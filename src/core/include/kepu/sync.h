/* The kiosk's sync client (DESIGN.md "Sync"): a background thread that talks to
 * kepu-server with libcurl, so the UI thread never waits on the network.
 *
 * One run, every interval (with jitter) and on demand (kk_sync_now):
 *   1. POST /api/v1/heartbeat with the queue depth, drops, uptime, free disk, the last
 *      error and the installed packs; the answer is the kiosk's assignment.
 *   2. Upload the journal's events in gzip-compressed batches (at most 500 events or
 *      4 MiB of JSON each) until the queue is empty. Events leave the journal only after
 *      the server answered for them: counted as accepted, as a duplicate (stored before,
 *      e.g. when an earlier answer was lost), or rejected. A rejected event can never be
 *      accepted (the server found it malformed), so it is logged once per batch and
 *      deleted too; keeping it would block nothing but would grow the queue forever.
 *      An answer whose counts do not add up to the batch deletes nothing.
 *   3. For each assigned pack whose version is not the active one: fetch the manifest and
 *      signature, check the signature against the trusted keys before parsing anything,
 *      check the manifest's hash against the assignment, then fetch only the files whose
 *      SHA-256 is not present in an installed version of that pack or in the download
 *      area (state/downloads/), resuming partial blobs with Range. Every file is hashed
 *      before use; the folder is then installed with kk_install_dir (verified again, atomic).
 *      A lower version than the active one is never installed (kk_install_dir refuses it),
 *      nor one the server does not have yet (no manifest_sha256), nor anything when no
 *      trusted keys are configured: each is logged once (kk_info) and is not a failure.
 *      Partial downloads live in state/downloads/ and are resumed by the next run; once
 *      every assignment is satisfied that folder is removed.
 *
 * Installing makes the new version active in active.json; the app keeps showing what it
 * loaded and switches at the attract screen. Status.install_pending tells it to; after
 * switching it calls kk_sync_install_seen. While an install is pending no further version
 * is installed, so the version on screen is never deleted from under the app (install
 * keeps only the active and the previous version).
 *
 * Failures (network, HTTP status, an answer that is not what the API promises, a refused
 * download) end the run; the next one comes after an exponential back-off with +-20%
 * jitter (backoff_min_ms doubling up to backoff_max_ms), reset by a success. Unlike the
 * rest of the core this module logs (module "sync"): it runs on its own thread and has no
 * caller to return errors to. A failure is logged with kk_warn when its cause differs from
 * the last one logged, not on every retry; recovery is logged once with kk_info.
 *
 * HTTPS certificates are verified (the system's CAs, or ca_file); proxies come from the
 * environment (libcurl's http_proxy, https_proxy, no_proxy). Connects time out after
 * connect_timeout_s; a transfer that moves less than KK_SYNC_MIN_SPEED bytes per second for
 * stall_s, or that lasts longer than request_timeout_s in all, is abandoned (a server
 * dripping bytes cannot hold the uploads); kk_sync_stop aborts a transfer in flight within
 * about a second. Answers are read into size-capped buffers.
 *
 * Clocks: every heartbeat answer's "time" gives clock_offset_ms (server minus kiosk), which
 * the next heartbeat reports ("clock_offset_ms", null until known). When it is off by more
 * than a minute, an event whose ts the server would not believe is sent with ts moved by
 * the offset and its own ts in "ts_kiosk" (kk_event_place); the journal keeps the event as
 * it was made. Nothing is ever deleted for its time stamp: the server keeps what it cannot
 * place, flagged. */
#ifndef KEPU_SYNC_H
#define KEPU_SYNC_H

#include <stdint.h>

#include "kepu/buf.h"
#include "kepu/config.h"
#include "kepu/error.h"
#include "kepu/fleet.h"
#include "kepu/journal.h"
#include "kepu/limits.h"
#include "kepu/schedule.h"

struct kk_sync;

/* Bytes per second below which a transfer counts as stalled. */
#define KK_SYNC_MIN_SPEED 256

/* Appends the packs the app runs to out, one "id@version" per line. Called on the sync
 * thread at every heartbeat, so it must be thread-safe. */
typedef void (*kk_sync_packs_fn)(void *user, struct kk_buf *out);

struct kk_sync_opts {
    const char *server_url;     /* "https://host:port", no path; required */
    const char *kiosk_id;       /* required */
    const char *token_file;     /* a file holding the kiosk's token (whitespace trimmed) */
    const char *token;          /* or the token itself; wins over token_file (tests) */
    const char *ca_file;        /* NULL or "": the system's CAs */
    const char *trusted_keys;   /* comma-separated .pub paths; NULL or "": no content updates */
    const char *state_dir;      /* where packs are installed; required */
    struct kk_journal *journal; /* borrowed: must outlive the sync; NULL: no events */
    const char *app_version;    /* sent in heartbeats; at most 64 bytes */
    kk_sync_packs_fn packs_fn;  /* NULL: the active versions in state_dir/active.json */
    void *packs_user;
    uint32_t interval_ms;       /* between successful runs (+-10% jitter); 300000 */
    uint32_t backoff_min_ms;    /* first wait after a failure; 5000 */
    uint32_t backoff_max_ms;    /* the cap; 3600000 */
    uint32_t connect_timeout_s; /* 10 */
    uint32_t stall_s;           /* below KK_SYNC_MIN_SPEED for this long aborts a transfer; 30 */
    uint32_t request_timeout_s; /* no request may last longer in all (a dripping server); 600 */
    uint32_t batch_max;         /* events per upload, 1..1000; 500 */
};

/* Fills o with the defaults above and every pointer NULL. */
void kk_sync_opts_init(struct kk_sync_opts *o);
/* kk_sync_opts_init, then the values of cfg (borrowed: cfg must outlive the sync's
 * creation, which copies what it keeps) and journal j. */
void kk_sync_opts_from_config(struct kk_sync_opts *o, const struct kk_config *cfg,
                              struct kk_journal *j);

struct kk_sync_status {
    int64_t last_attempt_ms;  /* wall clock when the last run started; 0: never */
    int64_t last_success_ms;  /* wall clock when a run last succeeded; 0: never */
    int64_t next_attempt_ms;  /* wall clock of the next planned run; 0: not planned */
    char last_result[256];    /* "ok: …" or the cause of the last failure; "" before any */
    uint64_t queue;           /* events in the journal (at creation, each heartbeat, run end) */
    uint64_t dropped;         /* events the journal dropped because it was full */
    unsigned failures;        /* consecutive failed runs; 0 after a success */
    int running;              /* a run is in progress */
    uint64_t runs;            /* finished runs, successful or not */
    uint64_t events_sent;     /* events the server acknowledged (accepted or duplicate) */
    uint64_t events_rejected; /* events the server refused (and were deleted) */
    uint64_t content_bytes;   /* body bytes of manifest, signature and blob requests */
    uint64_t installs;        /* pack versions installed by this sync */
    int install_pending;      /* installed since the last kk_sync_install_seen */
    char last_installed[2 * KK_MAX_ID_LEN + 2]; /* "id@version" or "" */
    int clock_known;                            /* a heartbeat answer carried the server's time */
    int64_t clock_offset_ms; /* server time minus this kiosk's wall clock, then: the clock
                              * error for the staff panel, sent in the heartbeat too */
    int token_refused;       /* the server's last answer was 401: the token was revoked or
                              * rotated, and the kiosk must be enrolled again */
};

/* Creates a sync client from o (strings are copied; the journal is borrowed). Reads the
 * token and the trusted keys now. Errors: KK_ERR_INVALID (a required option missing, a
 * URL that is not http:// or https://, an empty token), KK_ERR_NOTFOUND / KK_ERR_IO /
 * KK_ERR_TOOBIG (the token file), KK_ERR_PARSE (a key file), KK_ERR_NOMEM, KK_ERR_NET
 * (libcurl cannot start). On failure *out is NULL. Free with kk_sync_destroy. */
enum kk_err kk_sync_create(struct kk_sync **out, const struct kk_sync_opts *o, struct kk_buf *err);
/* Stops the thread if it runs and frees s; s may be NULL. */
void kk_sync_destroy(struct kk_sync *s);

/* Starts the background thread; its first run begins at once. KK_ERR_BUSY when it runs
 * already, KK_ERR_NOMEM when no thread can be made. */
enum kk_err kk_sync_start(struct kk_sync *s, struct kk_buf *err);
/* Asks for a run at once (the staff panel's "sync now"); returns at once. */
void kk_sync_now(struct kk_sync *s);
/* Wakes the thread, aborts a transfer in flight and joins it; returns within about a
 * second. Nothing is lost: unacknowledged events stay in the journal, partial downloads
 * stay for the next start. Does nothing when not started. */
void kk_sync_stop(struct kk_sync *s);

/* Copies the current status; cheap and never blocks on the network or the disk. */
void kk_sync_status(struct kk_sync *s, struct kk_sync_status *out);
/* The app switched to what was installed: clears install_pending. */
void kk_sync_install_seen(struct kk_sync *s);
/* Sets the wait between successful runs (the office's sync_interval_s, from the settings
 * overlay); a wait already longer than it (after a good run) is cut to it from now. */
void kk_sync_set_interval(struct kk_sync *s, uint32_t interval_ms);
/* Dated assignments (docs/sync.md "Scheduled assignments"): when the schedule kept wants
 * another version now (by kk_clock_wall_ms in the local time zone) and that version is on
 * the kiosk, asks the thread for a run at once (kk_sync_now), which switches with or
 * without the network; the app then switches at the attract screen as after any install.
 * Returns 1 when it asked. Cheap (reads active.json); the app calls it as it polls. */
int kk_sync_schedule_due(struct kk_sync *s);
/* The dated assignments of the schedule kept (as the last heartbeat answer gave them, or
 * as read from the state folder at start), at most max into out, in the server's order.
 * Returns how many. Cheap; for the staff panel. */
size_t kk_sync_windows(struct kk_sync *s, struct kk_window *out, size_t max);

/* ---- fleet operations (fleet.h) -----------------------------------------------------
 * The sync thread runs "sync" and "logs" itself, reports expired commands as
 * {"ok": false, "detail": "expired"}, and hands "screenshot" and "restart" to the app. Each
 * result goes into the next heartbeat's "done"; ids already done are never run again, also
 * after a restart. None of these calls waits on the network. */

/* Takes the next command for the app (screenshot, restart); 0 when none waits. */
int kk_sync_take_command(struct kk_sync *s, struct kk_fleet_command *out);
/* The app ran command id: the result is kept (on disk) and reported soon. */
void kk_sync_command_done(struct kk_sync *s, const char *id, int ok, const char *detail);
/* The app's PNG for screenshot command id (s takes png, allocated with kk_malloc); the
 * thread uploads it and reports the command done. */
void kk_sync_screenshot(struct kk_sync *s, const char *id, unsigned char *png, size_t len);
/* Results (and a screenshot) not reported yet: a restart waits for 0. */
size_t kk_sync_unreported(struct kk_sync *s);
/* The last notices and hours (kept in state/fleet.json across restarts): copied into out
 * with 1 returned when they changed since *gen (start with 0). */
int kk_sync_fleet(struct kk_sync *s, uint64_t *gen, struct kk_fleet_answer *out);
/* The office's settings overlay (the answer's "config" object, kept in
 * state/overlay.json): copied into out as JSON text with 1 returned when it changed since
 * *gen (start with 0). The app checks and applies it. */
int kk_sync_overlay(struct kk_sync *s, uint64_t *gen, struct kk_buf *out);
/* The heartbeat's "state": "sleeping" outside opening hours, else "open". */
void kk_sync_set_sleeping(struct kk_sync *s, int sleeping);

/* One run on the caller's thread (tests, tools), only while the thread is not started.
 * Returns KK_OK or the run's failure (KK_ERR_NET, KK_ERR_VERIFY, ...) with its cause in
 * err; the status is updated as by the thread, the back-off too. */
enum kk_err kk_sync_run(struct kk_sync *s, struct kk_buf *err);

#endif
