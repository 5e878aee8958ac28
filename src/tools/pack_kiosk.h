/* Runs the real kepu-kiosk for `kepu-pack preview` and `kepu-pack check`: finds the
 * program, makes a throw-away content folder that holds only the pack being checked, and
 * drives the kiosk through its automation channel (DESIGN.md "Automation channel"): one
 * JSON command per line on its stdin, JSON lines back on its stdout, each command waited
 * for with a time limit so a hung or crashed kiosk becomes one clear error. */
#ifndef KEPU_TOOLS_PACK_KIOSK_H
#define KEPU_TOOLS_PACK_KIOSK_H

#include <cjson/cJSON.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/pack.h"

/* Finds kepu-kiosk: $KEPU_KIOSK if set, else beside kepu-pack as the build lays them out
 * (<build>/src/tools/kepu-pack and <build>/src/app/kepu-kiosk), else in kepu-pack's own
 * folder (an installed system), else on PATH. Returns the path (free with kk_free), or
 * NULL with err saying where it looked. */
char *pack_kiosk_find(struct kk_buf *err);

/* A temporary folder (under $TMPDIR or /tmp) holding content/<id>, a symbolic link to the
 * pack folder (kk_library_load follows a link to a pack folder; it refuses links only
 * inside a pack), and an empty state/ folder, so the kiosk shows that pack alone and
 * writes its journal where nobody cares. */
struct pack_sandbox {
    char *root;
    char *content;
    char *state;
};
/* Makes the sandbox for the pack in pack_dir whose id is id. Errors: KK_ERR_IO,
 * KK_ERR_NOMEM. Release with pack_sandbox_release even on failure. */
enum kk_err pack_sandbox_make(struct pack_sandbox *sb, const char *pack_dir, const char *id,
                              struct kk_buf *err);
/* Removes the temporary folder (never following the link into the pack) and frees sb's
 * strings. sb may be NULL or never made. */
void pack_sandbox_release(struct pack_sandbox *sb);

/* Runs exe in a window of w x h on the sandbox and waits for it to end (preview). Returns
 * KK_OK when it ended with exit status 0; otherwise KK_ERR_IO with err saying how it
 * ended. */
enum kk_err pack_kiosk_run(const char *exe, const struct pack_sandbox *sb, int w, int h,
                           struct kk_buf *err);

/* Decodes img with `exe --decode` as the kiosk draws it, fitted to w x h, in a process of
 * its own killed after budget_ms; *took_ms gets how long it ran. Errors: KK_ERR_TOOBIG
 * (over the budget), KK_ERR_INVALID (the kiosk cannot decode it: err says why), KK_ERR_IO
 * (the kiosk could not run or crashed). */
enum kk_err pack_kiosk_decode(const char *exe, const struct kk_image *img, int w, int h,
                              int budget_ms, long long *took_ms, struct kk_buf *err);

/* Makes Ctrl-C (SIGINT), SIGTERM and SIGHUP stop a walk or a preview cleanly instead of
 * killing kepu-pack: the wait in progress ends (pack_kiosk_send fails with "interrupted"),
 * so the caller can remove its temporary folder and write what it has. */
void pack_kiosk_catch_interrupts(void);
/* True once one of those signals arrived. */
int pack_kiosk_interrupted(void);

/* A kiosk under automation. */
struct pack_kiosk;

/* Starts exe --automation --window WxH on the sandbox with its stderr written to log_path,
 * and waits (at most timeout_ms) for its first screen. The caller sets SDL_VIDEODRIVER.
 * On KK_OK *out is the kiosk (close with pack_kiosk_close). Errors: KK_ERR_IO (cannot
 * start, died, or no first screen in time: err says which), KK_ERR_NOMEM. */
enum kk_err pack_kiosk_start(struct pack_kiosk **out, const char *exe,
                             const struct pack_sandbox *sb, int w, int h, const char *log_path,
                             int timeout_ms, struct kk_buf *err);

/* Sends one command, {"<key>": value} where value is a JSON text (e.g. "true", "[1,2]",
 * "\"start\""), and waits for its reply; screen lines on the way update the current
 * screen. Errors: KK_ERR_INVALID when the kiosk answered {"ok":false} (err gets its
 * message); KK_ERR_IO when it died or did not answer within the time limit (err names the
 * screen it was on; the kiosk is stopped and every later call fails at once). */
enum kk_err pack_kiosk_send(struct pack_kiosk *k, const char *key, const char *value,
                            struct kk_buf *err);
/* The same with a string value, escaped for JSON: {"tap_id":"topic/x"}. */
enum kk_err pack_kiosk_send_str(struct pack_kiosk *k, const char *key, const char *value,
                                struct kk_buf *err);

/* The kiosk's answer to the last command ({"ok":true, ...}; owned by k; valid until the
 * next send), or NULL before any. */
const cJSON *pack_kiosk_reply(const struct pack_kiosk *k);
/* The last screen the kiosk reported (owned by k; valid until the next send). */
/* How long each later command (and closing) may wait for the kiosk's answer. */
void pack_kiosk_set_timeout(struct pack_kiosk *k, int timeout_ms);

const cJSON *pack_kiosk_screen(const struct pack_kiosk *k);
/* A string field of the current screen, or "" when it is missing. */
const char *pack_kiosk_field(const struct pack_kiosk *k, const char *name);
/* True when the current screen has a target with this id. */
int pack_kiosk_has(const struct pack_kiosk *k, const char *id);
/* Appends a description of the current screen for messages, e.g. "the reader screen
 * (topic quake, page 2, screen 3 of 6; zh, 1920x1080, large text)". */
void pack_kiosk_describe(const struct pack_kiosk *k, struct kk_buf *out);

/* Asks the kiosk to quit, waits for it (at most the time limit), kills it if it does not
 * go, and frees k. k may be NULL. */
void pack_kiosk_close(struct pack_kiosk *k);

#endif
