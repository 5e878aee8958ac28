#include "watchdog.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/buf.h"
#include "kepu/clock.h"
#include "kepu/fs.h"
#include "kepu/log.h"

#define RUN_MARKER "running"

/* Real monotonic time: advance_ms moves the app's clock, not systemd's. */
static uint64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void say(struct watchdog *w, const char *msg)
{
    if (w->fd < 0)
        return;
    if (send(w->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
        kk_warn("watchdog", "cannot notify systemd (%s): %s", msg, strerror(errno));
        close(w->fd);
        w->fd = -1;
    }
}

void watchdog_open(struct watchdog *w)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) {
        kk_warn("watchdog",
                "NOTIFY_SOCKET=%.80s: expected an absolute or abstract socket "
                "path; not notifying systemd",
                path);
        return;
    }
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; /* the abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
        kk_warn("watchdog", "NOTIFY_SOCKET=%.80s: %s; not notifying systemd", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    w->fd = fd;
    /* Ping at half the watchdog time, as sd_watchdog_enabled(3) advises. The app runs
     * under the session script and cage, so WATCHDOG_PID names the script, not us; the
     * unit's NotifyAccess=all lets our pings count. */
    const char *usec = getenv("WATCHDOG_USEC");
    char *end;
    unsigned long long us = usec ? strtoull(usec, &end, 10) : 0;
    if (usec && *usec && !*end && us >= 2000)
        w->interval_ms = us / 2000;
    kk_info("watchdog", "notifying systemd at %s%s", path,
            w->interval_ms ? ", pinging from the frame loop" : "");
}

void watchdog_ready(struct watchdog *w)
{
    if (w->ready || w->fd < 0)
        return;
    w->ready = 1;
    say(w, "READY=1");
    w->last_ms = 0;
    watchdog_kick(w);
}

long watchdog_kick(struct watchdog *w)
{
    if (w->fd < 0 || !w->interval_ms || !w->ready)
        return -1;
    uint64_t now = real_ms();
    if (!w->last_ms || now - w->last_ms >= w->interval_ms) {
        say(w, "WATCHDOG=1");
        w->last_ms = now;
    }
    uint64_t due = w->last_ms + w->interval_ms;
    return due > now ? (long)(due - now) : 0;
}

void watchdog_close(struct watchdog *w)
{
    say(w, "STOPPING=1");
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

int watchdog_mark_running(const char *state_dir, char *detail, size_t n)
{
    char *path = kk_path_join(state_dir, RUN_MARKER);
    struct kk_buf data = KK_BUF_INIT, err = KK_BUF_INIT;
    int unclean = 0;
    if (!path)
        return 0;
    if (!kk_file_read(path, 64, &data, NULL)) {
        long long since = strtoll(kk_buf_str(&data), NULL, 10);
        time_t t = (time_t)(since / 1000);
        struct tm tm;
        char when[32] = "?";
        if (since > 0 && gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(detail, n,
                 "the previous run (started %s) ended without a clean stop: killed, crashed or "
                 "stopped by the watchdog",
                 when);
        unclean = 1;
    }
    char text[32];
    int len = snprintf(text, sizeof(text), "%lld\n", (long long)kk_clock_wall_ms());
    if (kk_file_write_atomic(path, text, (size_t)len, &err))
        kk_warn("watchdog", "unclean stops will not be reported: %s", kk_buf_str(&err));
    kk_free(path);
    kk_buf_release(&data);
    kk_buf_release(&err);
    return unclean;
}

void watchdog_mark_stopped(const char *state_dir)
{
    char *path = kk_path_join(state_dir, RUN_MARKER);
    if (path)
        unlink(path);
    kk_free(path);
}
