/* Fleet operations, the kiosk's side (DESIGN.md "Fleet operations"): what a heartbeat
 * answer may carry besides the packs, checked whole, and what the kiosk keeps of it.
 *
 *   "commands":[{"id","type":"screenshot|restart|sync|logs","args":{},"expires":ms}]
 *   "notices":[{"id","level":"banner|takeover","text":{"zh","en"},"from":ms,"to":ms}]
 *   "hours":{"tz":"Asia/Shanghai","week":[[["09:00","17:00"]],…7 days, Monday first],
 *            "closed":["2026-12-25"]}
 *   "next_heartbeat_s":15
 *
 * Commands run once: their ids and results live in state/fleet-done.json (written
 * atomically), so a command the server sends again after a restart or a SIGKILL is not
 * run again, and its result is reported in the next heartbeat's "done" until a heartbeat
 * carrying it was answered. Opening hours are computed in the hours' own time zone from
 * the tz database (/usr/share/zoneinfo, TZif), not from the process's TZ. */
#ifndef KEPU_FLEET_H
#define KEPU_FLEET_H

#include <stdint.h>
#include <stddef.h>

#include "kepu/buf.h"
#include "kepu/error.h"
#include "kepu/limits.h"

#define KK_FLEET_MAX_COMMANDS 32   /* taken per answer; later ones come in the next */
#define KK_FLEET_MAX_NOTICES  32   /* kept per answer, the first ones */
#define KK_FLEET_NOTICE_BYTES 2048 /* one language's text, at most 2000 bytes */
#define KK_HOURS_RANGES       8    /* time ranges per day */
#define KK_HOURS_CLOSED       64   /* closed dates */
#define KK_TZ_MAX             512  /* transitions kept of a zone */
#define KK_FLEET_LOG_LINES    1000 /* "logs" sends at most this many lines */
#define KK_FLEET_DONE_BATCH   64   /* results per heartbeat */

enum kk_fleet_cmd { KK_CMD_SCREENSHOT, KK_CMD_RESTART, KK_CMD_SYNC, KK_CMD_LOGS };

struct kk_fleet_command {
    char id[KK_MAX_ID_LEN + 1];
    enum kk_fleet_cmd type;
    int64_t expires_ms; /* wall clock; 0: never */
    unsigned lines;     /* logs: args.lines, 1..KK_FLEET_LOG_LINES (default 100) */
};

struct kk_notice {
    char id[KK_MAX_ID_LEN + 1];
    int takeover; /* 0: banner */
    char zh[KK_FLEET_NOTICE_BYTES], en[KK_FLEET_NOTICE_BYTES];
    int64_t from_ms, to_ms;
};

struct kk_tz {
    char name[64];
    size_t n;
    int64_t at[KK_TZ_MAX]; /* transition times, seconds since the epoch, ascending */
    int32_t off[KK_TZ_MAX];
    int32_t off0; /* before the first transition */
};

struct kk_hours {
    struct kk_tz tz;
    unsigned nranges[7];                    /* Monday first */
    uint16_t ranges[7][KK_HOURS_RANGES][2]; /* minutes of the day, [start, end) */
    unsigned nclosed;
    int32_t closed[KK_HOURS_CLOSED]; /* days since 1970-01-01 in the zone */
};

struct kk_fleet_answer {
    size_t ncommands, nnotices;
    struct kk_fleet_command commands[KK_FLEET_MAX_COMMANDS];
    struct kk_notice notices[KK_FLEET_MAX_NOTICES];
    int has_notices;           /* the answer named "notices" (an empty list clears them) */
    int has_hours;             /* the answer named "hours" */
    struct kk_hours hours;     /* when has_hours */
    unsigned next_heartbeat_s; /* 0: not asked */
};

/* Parses the fleet parts of a heartbeat answer (the packs are sync.c's). Each part that
 * is there is checked whole; a bad one fails with KK_ERR_PARSE naming the key and the
 * entry. Missing parts are simply absent. */
enum kk_err kk_fleet_parse(const char *json, size_t len, struct kk_fleet_answer *out,
                           struct kk_buf *err);

/* Loads the zone named name ("Asia/Shanghai", "UTC") from the tz database. KK_ERR_INVALID
 * for a name that is not a zone name, KK_ERR_NOTFOUND / KK_ERR_PARSE for the file. */
enum kk_err kk_tz_load(struct kk_tz *tz, const char *name, struct kk_buf *err);
/* Seconds east of UTC at t (seconds since the epoch). */
int32_t kk_tz_offset(const struct kk_tz *tz, int64_t t);

/* Parses the "hours" object (text). */
enum kk_err kk_hours_parse(const char *json, size_t len, struct kk_hours *h, struct kk_buf *err);
/* True when wall_ms lies inside the opening hours. *next_ms (may be NULL) gets the wall
 * time of the next change between open and closed, at most 8 days ahead (0: none). */
int kk_hours_open(const struct kk_hours *h, int64_t wall_ms, int64_t *next_ms);

/* ---- commands run once ------------------------------------------------------------- */

struct kk_fleet_done;

/* Opens state_dir/fleet-done.json (missing: empty; damaged: empty, and err says so with
 * KK_OK returned, since losing it only risks running a command twice). */
enum kk_err kk_fleet_done_open(struct kk_fleet_done **out, const char *state_dir,
                               struct kk_buf *err);
void kk_fleet_done_close(struct kk_fleet_done *d);
/* True when a command with this id ran (or was refused) already. */
int kk_fleet_done_has(const struct kk_fleet_done *d, const char *id);
/* Records a result and writes the file before returning. */
enum kk_err kk_fleet_done_add(struct kk_fleet_done *d, const char *id, int ok, const char *detail,
                              struct kk_buf *err);
/* The unreported results as a JSON array text (free with kk_free); *count gets how many. */
char *kk_fleet_done_pending(const struct kk_fleet_done *d, size_t *count);
/* The first count pending results were reported (a heartbeat carrying them was answered). */
enum kk_err kk_fleet_done_reported(struct kk_fleet_done *d, size_t count, struct kk_buf *err);

#endif
