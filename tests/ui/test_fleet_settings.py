"""The office's settings overlay beyond the idle times (issue 17), end to end: the real
kepu-server on loopback, the real kiosk through its automation channel. The overlay's
sync_interval_s sets how often the kiosk comes (kiosk.conf says 300 s, the office 10 s),
its volumes and theme are applied (large text and high contrast are what a visit starts
with), and while the office watches the kiosk (POST kiosks/ID/watch) it heartbeats every
15 s even with a sync interval of an hour, and stops when the watch ends. Killed during
opening hours (none set: always open), it gives exactly one down alert and one back-up
alert when it runs again."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/ui"))
sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError, run  # noqa: E402
from test_fleet import BUILD, CONTENT, SERVER, SRC, Server, check, failures  # noqa: E402


def start_kiosk(work, srv):
    conf = os.path.join(work, "kiosk.conf")
    with open(os.path.join(work, "token"), "w") as f:
        f.write(srv.token + "\n")
    with open(conf, "w") as f:
        f.write("kiosk_id = k-1\nserver_url = %s\ntoken_file = %s/token\nsync_interval_s = 300\n"
                % (srv.url, work))
    return Kiosk(BUILD, CONTENT, (1280, 800), state=os.path.join(work, "state"), config=conf)


def seen(srv):
    db = sqlite3.connect("file:%s/kepu.db?mode=ro" % srv.data, uri=True, timeout=10)
    try:
        row = db.execute("SELECT seen_ms FROM kiosk_status WHERE kiosk = 'k-1'").fetchone()
        return row[0] if row else None
    finally:
        db.close()


def heartbeats(srv, seconds, watch=False):
    """How many heartbeats the server got in the next seconds."""
    last, n, end, next_watch = seen(srv), 0, time.monotonic() + seconds, 0
    while time.monotonic() < end:
        if watch and time.monotonic() >= next_watch:
            srv.call("POST", "/api/v1/kiosks/k-1/watch", {})
            next_watch = time.monotonic() + 20
        now = seen(srv)
        if now != last:
            n, last = n + 1, now
        time.sleep(0.25)
    return n


def alerts(sink, event):
    """The alerts of kiosk k-1 the webhook receiver got with that event, in order."""
    found = []
    d = os.path.join(sink, "hook")
    for name in sorted(os.listdir(d), key=lambda n: int(n.split(".")[0])) if os.path.isdir(d) else []:
        if name.endswith(".json"):
            m = json.load(open(os.path.join(d, name)))
            if m.get("kiosk") == "k-1" and m.get("event") == event:
                found.append(m["alert"])
    return found


def wait_log(k, text, seconds=40):
    end = time.monotonic() + seconds
    while time.monotonic() < end and text not in k.logtext():
        time.sleep(0.3)
    return check(text in k.logtext(), "not in the kiosk's log: %r" % text)


def main():
    import tempfile
    work = tempfile.mkdtemp(prefix="kk-fleet-settings-")
    srv = Server(work)
    # The office's overlay is there before the kiosk first comes.
    run(SERVER, "settings", "--kiosk", "k-1", "--set",
        "sync_interval_s=10,volume=55,quiet_volume=12,high_contrast=true,large_text=true",
        "--data", srv.data)
    srv.start()
    k = None
    try:
        k = start_kiosk(work, srv)
        wait_log(k, "sync_interval_s 10, volume 55, quiet_volume 12, high_contrast 1, large_text 1")
        k.send({"state": True})
        check(k.screen.get("large_text") is True, "large text not in force: %s" % k.screen.get("large_text"))
        check(k.screen.get("high_contrast") is True, "high contrast not in force: %s" % k.screen.get("high_contrast"))
        k.tap_id("start")
        k.send({"state": True})
        check(k.screen.get("large_text") is True, "a visit did not start in large text")
        n = heartbeats(srv, 25)
        check(n >= 2, "sync_interval_s 10 from the office: %d heartbeats in 25 s (kiosk.conf says 300)" % n)

        # An hour between syncs, but the office watches: every 15 s, until the watch ends.
        run(SERVER, "settings", "--kiosk", "k-1", "--set", "sync_interval_s=3600", "--data", srv.data)
        srv.call("POST", "/api/v1/kiosks/k-1/watch", {})
        wait_log(k, "sync_interval_s 3600", 20)
        n = heartbeats(srv, 36, watch=True)
        check(2 <= n <= 3, "watched: %d heartbeats in 36 s (every 15 s expected)" % n)
        run("sqlite3", os.path.join(srv.data, "kepu.db"),
            "UPDATE server_kv SET value = '1' WHERE key = 'watch:k-1'")
        heartbeats(srv, 17)  # the one answered without next_heartbeat_s
        n = heartbeats(srv, 30)
        check(n == 0, "the watch ended, the interval is an hour: %d heartbeats in 30 s" % n)

        # The kiosk killed during opening hours: exactly one down alert, one back-up alert
        # when it runs again (webhook receiver: tests/support/alert_sinks.py).
        sink = os.path.join(work, "sink")
        sinks = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests/support/alert_sinks.py"), sink])
        try:
            for _ in range(100):
                if os.path.exists(os.path.join(sink, "ports")):
                    break
                time.sleep(0.1)
            hook_port = open(os.path.join(sink, "ports")).read().split()[1]
            srv.stop()
            srv.extra = ["--alert-down-s", "4", "--alert-check-s", "1"]
            srv.start()
            srv.call("POST", "/api/v1/alerts/recipients",
                     {"webhooks": [{"url": "http://127.0.0.1:%s/ok" % hook_port, "format": "json"}]})
            run(SERVER, "settings", "--kiosk", "k-1", "--set", "sync_interval_s=10", "--data", srv.data)
            k.quit()
            k.log.close()
            k = start_kiosk(work, srv)
            wait_log(k, "sync_interval_s 10", 20)
            time.sleep(3)  # an alert of the kiosk that was quit before is over by now
            r0, c0 = len(alerts(sink, "raised")), len(alerts(sink, "cleared"))
            k.proc.send_signal(signal.SIGKILL)
            k.proc.wait(timeout=10)
            k.log.close()
            time.sleep(8)
            check(alerts(sink, "raised")[r0:] == ["down"], "down alerts after the kill: %s" % alerts(sink, "raised")[r0:])
            k = start_kiosk(work, srv)
            end = time.monotonic() + 20
            while time.monotonic() < end and len(alerts(sink, "cleared")) == c0:
                time.sleep(0.3)
            time.sleep(2)
            check(alerts(sink, "cleared")[c0:] == ["down"], "back-up alerts: %s" % alerts(sink, "cleared")[c0:])
            check(alerts(sink, "raised")[r0:] == ["down"], "one down alert only: %s" % alerts(sink, "raised")[r0:])
        finally:
            sinks.kill()
            sinks.wait()
    except KioskError as e:
        check(False, str(e))
    finally:
        if k and k.proc.poll() is None:
            k.quit()
        srv.stop()
    if failures and k:
        print(k.logtext()[-3000:])
    print("fleet settings: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
