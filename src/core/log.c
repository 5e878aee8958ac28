#include "kepu/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kepu/fleet.h"

#define RING_LINE 320 /* what the ring keeps of a record */

static int min_level = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* The last records (under log_lock), for the office's "logs" command. */
static char ring[KK_FLEET_LOG_LINES][RING_LINE];
static unsigned ring_next, ring_count;

static const char *level_name(enum kk_log_level l)
{
    switch (l) {
    case KK_LOG_DEBUG:
        return "debug";
    case KK_LOG_INFO:
        return "info";
    case KK_LOG_WARN:
        return "warn";
    case KK_LOG_ERROR:
        return "error";
    }
    return "?";
}

void kk_log_set_level(enum kk_log_level level)
{
    min_level = (int)level;
}

static int current_level(void)
{
    if (min_level < 0) {
        const char *env = getenv("KEPU_LOG");
        min_level = KK_LOG_INFO;
        for (int l = KK_LOG_DEBUG; env && l <= KK_LOG_ERROR; l++)
            if (!strcmp(env, level_name((enum kk_log_level)l)))
                min_level = l;
    }
    return min_level;
}

/* Writes text with every control byte escaped (\n, \r, \t, else \xNN), so a record is
 * always one line: text from the network (a path with %0a) cannot forge another one. */
static void put_escaped(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            fputc(*p, stderr);
        else if (*p == '\n')
            fputs("\\n", stderr);
        else if (*p == '\r')
            fputs("\\r", stderr);
        else if (*p == '\t')
            fputs("\\t", stderr);
        else
            fprintf(stderr, "\\x%02x", *p);
    }
}

static void vlog(const char *level, const char *module, const char *fmt, va_list ap)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32], text[4096];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    pthread_mutex_lock(&log_lock);
    snprintf(ring[ring_next], RING_LINE, "%.24s.%03ldZ %.8s %.24s: %.240s", stamp,
             (ts.tv_nsec / 1000000) % 1000, level, module, text);
    for (char *p = ring[ring_next]; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    ring_next = (ring_next + 1) % KK_FLEET_LOG_LINES;
    if (ring_count < KK_FLEET_LOG_LINES)
        ring_count++;
    fprintf(stderr, "%s.%03ldZ %s %s: ", stamp, ts.tv_nsec / 1000000, level, module);
    put_escaped(text);
    if (n >= (int)sizeof(text))
        fputs(" [truncated]", stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void kk_log(enum kk_log_level level, const char *module, const char *fmt, ...)
{
    if ((int)level < current_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level_name(level), module, fmt, ap);
    va_end(ap);
}

void kk_log_tail(struct kk_buf *out, unsigned n)
{
    pthread_mutex_lock(&log_lock);
    if (n > ring_count)
        n = ring_count;
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (ring_next + KK_FLEET_LOG_LINES - n + i) % KK_FLEET_LOG_LINES;
        kk_buf_addf(out, "%s\n", ring[k]);
    }
    pthread_mutex_unlock(&log_lock);
}

void kk_bug(const char *file, int line, const char *fmt, ...)
{
    char where[256];
    snprintf(where, sizeof(where), "BUG %s:%d", file, line);
    va_list ap;
    va_start(ap, fmt);
    vlog("fatal", where, fmt, ap);
    va_end(ap);
    abort();
}
