"""A revoked kiosk tells staff (issue 18): the real kepu-server and the real kiosk. The
kiosk syncs with its token; the office revokes it (kepu-server kiosk revoke); the next
sync gets 401, and the staff panel says in words that the token is no longer accepted and
the kiosk must be enrolled again, in Chinese and in English. Before the revocation the
panel says nothing of the kind. The panel also says which settings the office's remote
overlay sets (issue 17) and that the rest come from kiosk.conf.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, run  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
SERVER = os.path.join(BUILD, "src/server/kepu-server")
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
PIN = "246810"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def panel_texts(k):
    """Every line of text on screen (the automation channel's contrast report)."""
    return " ".join(t["text"] for t in k.send({"contrast": True}).get("texts", []))


def open_panel(k):
    k.open_staff(PIN)
    check(k.screen["scene"] == "staff", "the staff panel opens: %s" % k.screen["scene"])


def sync_now(k, until, what):
    """Taps Sync now until until(panel text) holds (the sync runs in the background)."""
    for _ in range(60):
        if "staff/sync" in k.ids("staff/"):
            k.tap_id("staff/sync")
        time.sleep(0.25)
        k.send({"state": True})
        text = panel_texts(k)
        if until(text):
            return text
    check(False, what)
    return ""


def main():
    work = tempfile.mkdtemp(prefix="kk-revoked-")
    data = os.path.join(work, "server")
    run(SERVER, "venue", "add", "v1", "--name", "Hall", "--data", data)
    token = run(SERVER, "kiosk", "add", "k-1", "--venue", "v1", "--data", data).strip()
    log = open(os.path.join(work, "server.log"), "w")
    srv = subprocess.Popen([SERVER, "serve", "--listen", "127.0.0.1:0", "--data", data],
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(200):
            with open(os.path.join(work, "server.log")) as f:
                m = re.search(r"port (\d+)", f.read())
            if m and m.group(1) != "0":
                port = m.group(1)
                break
            time.sleep(0.05)
        with open(os.path.join(work, "token"), "w") as f:
            f.write(token + "\n")
        pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
        conf = os.path.join(work, "kiosk.conf")
        with open(conf, "w") as f:
            f.write("kiosk_id = k-1\nserver_url = http://127.0.0.1:%s\ntoken_file = %s/token\n"
                    "sync_interval_s = 600\nstaff_pin_hash = %s\n" % (port, work, pin_hash))
        k = Kiosk(BUILD, os.path.join(SRC, "content"), (1920, 1080),
                  state=os.path.join(work, "state"), config=conf)
        try:
            open_panel(k)
            text = sync_now(k, lambda t: "ok:" in t, "the first sync succeeds")
            check("重新登记" not in text, "no revocation line while the token works")
            check("全部设置来自 kiosk.conf" in text, "no office settings yet: %s" % text[:300])
            # The office's overlay: the panel says which values came from it (issue 17).
            run(SERVER, "settings", "--kiosk", "k-1", "--set", "idle_timeout_s=45", "--data", data)
            text = sync_now(k, lambda t: "办公室远程设置" in t, "the panel names the office's settings")
            check("idle_timeout_s = 45" in text, "the office's value on the panel: %s" % text[:400])

            run(SERVER, "kiosk", "revoke", "k-1", "--data", data)
            text = sync_now(k, lambda t: "重新登记" in t, "after the revocation the panel says so (zh)")
            check("HTTP 401" in text, "the sync line names the answer: %s" % text[:300])
            k.screenshot(os.path.join(work, "revoked-zh.png"))
            k.tap_id("lang")
            text = panel_texts(k)
            check("no longer accepts this kiosk" in text, "and in English: %s" % text[:300])
            k.screenshot(os.path.join(work, "revoked-en.png"))
            check(not k.screen["overflow"], "nothing overflows: %r" % k.screen["overflow"])
            k.quit()
        finally:
            if k.proc.poll() is None:
                k.proc.kill()
    finally:
        srv.terminate()
        srv.wait(timeout=20)
    if failures:
        print("%d failure(s); files in %s" % (len(failures), work))
        return 1
    print("revoked: all checks passed (screenshot in %s)" % work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
