/* systemd's service notification for the kiosk app (the sd_notify protocol, spoken here so
 * the app needs no libsystemd): READY=1 once the first frame is on screen, then WATCHDOG=1
 * from the frame loop, so a UI thread that stops turning stops the pings and systemd
 * restarts the app (kepu-kiosk.service: Type=notify, WatchdogSec). Outside systemd
 * (no NOTIFY_SOCKET) every call does nothing. */
#ifndef APP_WATCHDOG_H
#define APP_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

struct watchdog {
    int fd;               /* -1: not under systemd */
    uint64_t interval_ms; /* ping at least this often; 0: no watchdog asked for */
    uint64_t last_ms;     /* when the last ping went out */
    int ready;
};

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC from the environment. Never fails: a socket that
 * cannot be opened is logged once and notification is off. */
void watchdog_open(struct watchdog *w);
/* Says READY=1 (once) and pings; call after a frame reached the screen. */
void watchdog_ready(struct watchdog *w);
/* Pings if one is due; returns the ms until the next one is due (the frame loop sleeps no
 * longer), or -1 when there is no watchdog. Times are real, never the test clock. */
long watchdog_kick(struct watchdog *w);
/* Says STOPPING=1 and closes the socket. */
void watchdog_close(struct watchdog *w);

/* The run marker <state_dir>/running: present while the app runs, removed by a clean stop.
 * watchdog_mark_running returns 1 and a one-line detail when the previous run left it
 * behind (killed, crashed or stopped by the watchdog), then marks this run.
 * watchdog_mark_stopped removes it. */
int watchdog_mark_running(const char *state_dir, char *detail, size_t n);
void watchdog_mark_stopped(const char *state_dir);

#endif
