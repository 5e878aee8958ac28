"""The kiosk app and systemd's watchdog (issue 18), with this script in systemd's place.

The script opens the notification socket systemd would (NOTIFY_SOCKET, WATCHDOG_USEC) and
starts the real kiosk: READY=1 comes once the first frame is drawn, WATCHDOG=1 keeps coming
from the frame loop while the kiosk idles, and stops while the UI thread is stuck (the
automation channel's stall_ms), as systemd would see a hung app; then the script kills it
with SIGABRT and starts it again, as systemd does when WatchdogSec lapses, and the new run
reports the unclean stop as an error event in the journal. A clean stop is not reported.
"""
import json
import os
import signal
import socket
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
CONTENT = os.path.join(SRC, "content")
WATCHDOG_S = 2.0  # WatchdogSec of the test: pings are due every second
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def receive(sock, seconds):
    """Every notification that arrives within seconds, with its arrival time."""
    got, end = [], time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            got.append((time.monotonic(), sock.recv(4096).decode()))
        except socket.timeout:
            return got


def errors(state):
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    try:
        rows = [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    finally:
        db.close()
    return [e for e in rows if e["type"] == "error" and e.get("code") == "unclean_exit"]


def main():
    tmp = tempfile.mkdtemp(prefix="kk-watchdog-")
    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    state = os.path.join(tmp, "state")
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}

    k = Kiosk(BUILD, CONTENT, state=state, extra_env=env)
    first = receive(sock, 1.0)
    msgs = [m for _, m in first]
    check(msgs[:1] == ["READY=1"], "READY=1 first, after the first frame: %r" % msgs[:3])

    # Idle on the attract screen: nothing to draw, still a ping at least every second.
    idle = receive(sock, 3.5)
    pings = [t for t, m in idle if m == "WATCHDOG=1"]
    check(len(pings) >= 3, "at least 3 pings in 3.5 s of idling, got %d" % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    check(all(g < WATCHDOG_S for g in gaps), "no gap of %.1f s between pings: %r" % (WATCHDOG_S, gaps))

    # A stuck UI thread: no ping for the whole stall, so systemd would restart the app.
    k.proc.stdin.write(json.dumps({"stall_ms": 3000}) + "\n")
    k.proc.stdin.flush()
    t0 = time.monotonic()
    stalled = receive(sock, 2.5)
    check(not [m for t, m in stalled if m == "WATCHDOG=1" and t - t0 > 0.3],
          "no ping while the UI thread is stuck: %r" % stalled)
    after = receive(sock, 2.0)
    check(any(m == "WATCHDOG=1" for _, m in after), "pings again once the UI thread turns")

    # Stuck again: this script does what systemd does when WatchdogSec lapses, SIGABRT
    # (WatchdogSignal's default) and a new start, which reports the unclean stop once.
    k.proc.stdin.write(json.dumps({"stall_ms": 4000}) + "\n")
    k.proc.stdin.flush()
    t0 = last = time.monotonic()
    lapsed = False
    while time.monotonic() - t0 < 3.5 and not lapsed:
        for t, m in receive(sock, 0.1):
            if m == "WATCHDOG=1":
                last = t
        lapsed = time.monotonic() - last > WATCHDOG_S
    check(lapsed, "the watchdog lapses while the UI thread is stuck")
    k.proc.send_signal(signal.SIGABRT)
    k.proc.wait()
    check(k.proc.returncode == -signal.SIGABRT, "stopped by the watchdog's signal")
    k = Kiosk(BUILD, CONTENT, state=state, extra_env=env)
    k.quit()
    errs = errors(state)
    check(len(errs) == 1, "one unclean_exit error after the watchdog's kill, got %d" % len(errs))
    if errs:
        check("without a clean stop" in errs[0].get("detail", ""), "its detail: %r" % errs[0])
    check(not os.path.exists(os.path.join(state, "running")), "a clean stop removes the marker")

    # A clean stop is not reported by the next start.
    k = Kiosk(BUILD, CONTENT, state=state, extra_env=env)
    k.quit()
    check(len(errors(state)) == 1, "a clean stop adds no unclean_exit error")

    # Without systemd nothing is sent and nothing breaks.
    k = Kiosk(BUILD, CONTENT, state=os.path.join(tmp, "plain"))
    check(k.screen["scene"] == "attract", "starts without NOTIFY_SOCKET")
    k.quit()

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("watchdog: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
