/* Dated assignments (issue 16, docs/sync.md "Scheduled assignments"): the dates the
 * office gives ("2026-12-07" or "2026-12-07T09:00"), read as the kiosk's local time, and
 * which dated assignment of a pack is in force at a moment. No I/O; both the kiosk and the
 * server (which checks and orders the dates) use it. */
#ifndef KEPU_SCHEDULE_H
#define KEPU_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* The longest date text: "YYYY-MM-DDTHH:MM". */
#define KK_WHEN_MAX 16

/* A wall-clock moment without a zone. */
struct kk_when {
    int year, month, day, hour, minute;
};

/* Parses "YYYY-MM-DD" (the start of that day) or "YYYY-MM-DDTHH:MM" (also with a space
 * for the T), years 2000 to 2999, a real day of a real month, 00:00 to 23:59. Returns 0, or
 * -1 for anything else (a zone, seconds, a date such as 2026-02-30). */
int kk_when_parse(const char *s, struct kk_when *out);

/* The moment w names in ms since the epoch: in the process's local time zone (mktime,
 * so a kiosk's TZ and summer time count) when utc_offset_s is KK_WHEN_LOCAL, else at that
 * fixed offset from UTC (the server's city time). */
#define KK_WHEN_LOCAL INT32_MIN
int64_t kk_when_ms(const struct kk_when *w, int32_t utc_offset_s);

/* The same from text; INT64_MIN for an empty or NULL s (no bound) and for a bad one. */
int64_t kk_when_text_ms(const char *s, int32_t utc_offset_s);

/* One dated assignment of a pack as a kiosk knows it: starts or ends "" for no bound. */
struct kk_window {
    char id[65];
    char version[65];
    char sha256[65];
    char starts[KK_WHEN_MAX + 1];
    char ends[KK_WHEN_MAX + 1];
};

/* The window of pack id in force at now_ms (local time: starts <= now < ends): of several,
 * the one that starts latest, and of those the one listed last. Returns its index in w, or
 * -1 when none is in force. A window with an unreadable date is never in force. */
long kk_window_pick(const struct kk_window *w, size_t n, const char *id, int64_t now_ms);
/* The same with the dates read at utc_offset_s (kk_when_ms: KK_WHEN_LOCAL or a fixed
 * offset, the server's city time). */
long kk_window_pick_at(const struct kk_window *w, size_t n, const char *id, int64_t now_ms,
                       int32_t utc_offset_s);

#endif
