#include "kepu/schedule.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int kk_when_parse(const char *s, struct kk_when *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct kk_when w = {0};
    size_t n = s ? strlen(s) : 0;
    if ((n != 10 && n != 16) || s[4] != '-' || s[7] != '-' || digits(s, 4, &w.year) ||
        digits(s + 5, 2, &w.month) || digits(s + 8, 2, &w.day))
        return -1;
    if (n == 16 && ((s[10] != 'T' && s[10] != ' ') || s[13] != ':' || digits(s + 11, 2, &w.hour) ||
                    digits(s + 14, 2, &w.minute)))
        return -1;
    if (w.year < 2000 || w.year > 2999 || w.month < 1 || w.month > 12 || w.day < 1 ||
        w.day > mdays[w.month - 1] + (w.month == 2 && leap(w.year)) || w.hour > 23 || w.minute > 59)
        return -1;
    *out = w;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's method). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t kk_when_ms(const struct kk_when *w, int32_t utc_offset_s)
{
    if (utc_offset_s == KK_WHEN_LOCAL) {
        struct tm tm = {.tm_year = w->year - 1900,
                        .tm_mon = w->month - 1,
                        .tm_mday = w->day,
                        .tm_hour = w->hour,
                        .tm_min = w->minute,
                        .tm_isdst = -1};
        time_t t = mktime(&tm);
        return (int64_t)t * 1000;
    }
    int64_t s = days_from_civil(w->year, w->month, w->day) * 86400 + w->hour * 3600 +
                w->minute * 60 - utc_offset_s;
    return s * 1000;
}

int64_t kk_when_text_ms(const char *s, int32_t utc_offset_s)
{
    struct kk_when w;
    if (!s || !*s || kk_when_parse(s, &w))
        return INT64_MIN;
    return kk_when_ms(&w, utc_offset_s);
}

/* The window's bounds in ms (dates read at offset); 0 when a date is unreadable. */
static int bounds(const struct kk_window *w, int32_t offset, int64_t *from, int64_t *to)
{
    *from = INT64_MIN;
    *to = INT64_MAX;
    if (*w->starts && (*from = kk_when_text_ms(w->starts, offset)) == INT64_MIN)
        return 0;
    if (*w->ends && (*to = kk_when_text_ms(w->ends, offset)) == INT64_MIN)
        return 0;
    return 1;
}

long kk_window_pick(const struct kk_window *w, size_t n, const char *id, int64_t now_ms)
{
    return kk_window_pick_at(w, n, id, now_ms, KK_WHEN_LOCAL);
}

long kk_window_pick_at(const struct kk_window *w, size_t n, const char *id, int64_t now_ms,
                       int32_t utc_offset_s)
{
    long best = -1;
    int64_t best_from = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t from, to;
        if (strcmp(w[i].id, id) || !bounds(&w[i], utc_offset_s, &from, &to) || now_ms < from ||
            now_ms >= to)
            continue;
        if (best < 0 || from >= best_from) {
            best = (long)i;
            best_from = from;
        }
    }
    return best;
}
