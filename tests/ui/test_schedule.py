"""Dated assignments and rollback end to end (issue 16): the real kepu-server on loopback,
two versions built and signed with kepu-pack, stored with kepu-server pack add, and real kiosks syncing.

1. v1 is the venue's assignment, v2 is assigned from next Monday to the Monday after (the
   kiosk's local time, TZ=Asia/Shanghai). The kiosk fetches v2 ahead of the start. Then the
   server is stopped, and the kiosk's clock is moved with advance_ms: before the start it
   shows v1, after the start v2 at its attract screen, after the end v1 again - offline.
2. The server comes back; v2 is assigned to the venue (undated) and a second kiosk starts;
   both show v2. One rollback of the venue: both show v1 at their next attract screen.
3. A power cut in a window: a kiosk killed while a window is in force comes back with the
   server away and shows the window's version from its kept schedule.
The staff panel lists the kept schedule, each dated window in the kiosk's local time with
the one in force now marked: before the start "not started", in the window "in force
now", in zh and en at 1920x1080 and 1080x1920 (screenshots to KK_SHOTS, else the work
folder)."""
import datetime
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError, check_targets, run, sample_pack  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
SERVER = os.path.join(BUILD, "src/server/kepu-server")
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
TZ = "Asia/Shanghai"
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
PIN = "2468"
V1, V2 = "2026.11.1", "2026.12.1"
T1, T2 = "When an earthquake strikes", "When an earthquake strikes (v2)"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(k):
    """The earthquake topic's title a visitor sees now (from the attract screen)."""
    k.go_attract()
    if k.screen["scene"] != "attract":
        return "scene %s" % k.screen["scene"]
    k.tap_id("start")
    k.tap_id("lang")
    k.tap_id("audience/youth")
    labels = [t["label"] for t in k.screen["targets"] if t["id"] == "topic/earthquake"]
    k.go_attract()
    return labels[0] if labels else None


def wait_shown(k, title, what, seconds=40):
    end = time.monotonic() + seconds
    got = None
    while time.monotonic() < end:
        got = shown(k)
        if got == title:
            check(True, what)
            return True
        time.sleep(0.5)
    check(False, "%s: shows %r" % (what, got))
    return False


def staff_text(k):
    """Opens the staff panel (five corner taps, the PIN) and returns its words run together
    (lines wrap anywhere in Chinese)."""
    k.go_attract()
    k.open_staff(PIN)
    check(k.screen["scene"] == "staff", "the staff panel opens: %s" % k.screen["scene"])
    texts = k.send({"contrast": True}).get("texts", [])
    return "".join(t["text"] for t in texts).replace(" ", "")


def wait_path(path, what, seconds=40):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path):
            check(True, what)
            return True
        time.sleep(0.2)
    check(False, what)
    return False


class Office:
    def __init__(self, url):
        self.url = url
        self.jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(self.jar)
        self.csrf = self.post("/api/v1/login", {"user": "olga", "password": "office-pass-1"})[1]["csrf"]

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST")
        if getattr(self, "csrf", None):
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


class Server:
    def __init__(self, work, data, port):
        self.work, self.data, self.port, self.p = work, data, port, None
        self.url = "http://127.0.0.1:%d" % port

    def start(self):
        log = open(os.path.join(self.work, "server.log"), "a")
        self.p = subprocess.Popen([SERVER, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data", self.data],
                                  stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.p:
            self.p.terminate()
            self.p.wait(timeout=20)
            self.p = None


def main():
    work = tempfile.mkdtemp(prefix="kk-schedule-ui-")
    data = os.path.join(work, "server")
    os.makedirs(os.path.join(data, "keys"))
    run(PACK, "keygen", "-o", os.path.join(work, "alliance"))
    shutil.copy(os.path.join(work, "alliance.pub"), os.path.join(data, "keys"))
    run(SERVER, "venue", "add", "hall", "--name", "Hall", "--data", data)
    tokens = {kid: run(SERVER, "kiosk", "add", kid, "--venue", "hall", "--data", data).strip()
              for kid in ("k-1", "k-2", "k-3")}
    run(SERVER, "venue", "add", "lab", "--name", "Lab", "--data", data)
    tokens["k-9"] = run(SERVER, "kiosk", "add", "k-9", "--venue", "lab", "--data", data).strip()
    run(SERVER, "user", "add", "olga", "--role", "office", "--data", data, stdin="office-pass-1\n")
    pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
    srv = Server(work, data, free_port())
    srv.start()
    kiosks = []

    def kiosk(kid, size=(1280, 800), lang="zh"):
        with open(os.path.join(work, "token-" + kid), "w") as f:
            f.write(tokens[kid] + "\n")
        conf = os.path.join(work, kid + ".conf")
        with open(conf, "w") as f:
            f.write("kiosk_id = %s\nserver_url = %s\ntoken_file = %s/token-%s\ntrusted_keys = %s/alliance.pub\n"
                    "sync_interval_s = 10\nstaff_pin_hash = %s\ndefault_lang = %s\n"
                    % (kid, srv.url, work, kid, work, pin_hash, lang))
        k = Kiosk(BUILD, None, size, state=os.path.join(work, "state-" + kid), config=conf,
                  extra_env={"TZ": TZ})
        kiosks.append(k)
        return k

    try:
        for version, suffix in ((V1, ""), (V2, " (v2)")):
            built = os.path.join(work, "built-" + version)
            run(PACK, "build", sample_pack(SRC, os.path.join(work, "src-" + version), version, suffix), "-o", built,
                "--key", os.path.join(work, "alliance.key"))
            run(SERVER, "pack", "add", built, "--data", data)  # a staff publish only waits for review
        office = Office(srv.url)
        check(office.post("/api/v1/assignments", {"pack": "safety-and-health", "version": V1, "venue": "hall"})[0]
              == 200, "v1 assigned to the venue")
        # Next Monday and the Monday after, in the kiosk's zone.
        zone = ZoneInfo(TZ)
        today = datetime.datetime.now(zone).date()
        monday = today + datetime.timedelta(days=7 - today.weekday())
        after = monday + datetime.timedelta(days=7)
        st, a = office.post("/api/v1/assignments", {"pack": "safety-and-health", "version": V2, "venue": "hall",
                                                    "starts": monday.isoformat(), "ends": after.isoformat()})
        check(st == 200, "v2 assigned from %s to %s: %s %s" % (monday, after, st, a))

        # --- 1. the schedule, offline ---
        k = kiosk("k-1")
        wait_shown(k, T1, "before the start: v1")
        state = os.path.join(work, "state-k-1")
        wait_path(os.path.join(state, "prefetch", "safety-and-health@" + V2), "v2 fetched ahead of its start")
        with open(os.path.join(state, "schedule.json")) as f:
            kept = json.load(f)
        check([w["starts"] for w in kept.get("scheduled", [])] == [monday.isoformat()],
              "the schedule is kept in the state folder: %s" % kept)
        check(not os.path.isdir(os.path.join(state, "packs/safety-and-health", V2)), "v2 not installed before its start")
        text = staff_text(k)
        check(("未开始：%s起至%ssafety-and-health%s" % (monday, after, V2)) in text,
              "the staff panel lists the window, not started: %s" % text)
        k.tap_id("staff/close")
        srv.stop()
        start_ms = int(datetime.datetime.combine(monday, datetime.time(), zone).timestamp() * 1000)
        end_ms = int(datetime.datetime.combine(after, datetime.time(), zone).timestamp() * 1000)
        now_ms = int(time.time() * 1000)
        k.send({"advance_ms": start_ms - now_ms - 10 * 60000})  # ten minutes before the start
        check(shown(k) == T1, "offline, ten minutes before the start: still v1")
        time.sleep(3)  # a poll or two of the sync state: nothing is due
        check(shown(k) == T1, "offline, ten minutes before the start: v1 after polls too")
        k.send({"advance_ms": 15 * 60000})
        wait_shown(k, T2, "offline, after the start: v2 at the attract screen")
        k.send({"advance_ms": end_ms - start_ms})
        wait_shown(k, T1, "offline, after the end: v1 again")
        log = k.logtext()
        check("is due now" in log, "the kiosk logged the dated switches")

        # --- 2. rollback of a venue with two kiosks ---
        srv.start()
        check(office.post("/api/v1/assignments", {"pack": "safety-and-health", "version": V2, "venue": "hall"})[0]
              == 200, "v2 assigned to the venue, undated")
        k2 = kiosk("k-2")
        # the kiosk backs off while the server was away: its next heartbeat may take a while
        wait_shown(k, T2, "kiosk 1 shows v2", 90)
        wait_shown(k2, T2, "kiosk 2 shows v2")
        st, a = office.post("/api/v1/assignments/rollback", {"pack": "safety-and-health", "venue": "hall"})
        check(st == 200 and a.get("version") == V1, "rollback of the venue: %s %s" % (st, a))
        wait_shown(k, T1, "kiosk 1 back on v1 after the rollback")
        wait_shown(k2, T1, "kiosk 2 back on v1 after the rollback")

        # --- 3. a power cut in a window ---
        st, a = office.post("/api/v1/assignments", {"pack": "safety-and-health", "version": V2, "kiosk": "k-3",
                                                    "starts": (today - datetime.timedelta(days=1)).isoformat(),
                                                    "ends": after.isoformat()})
        check(st == 200, "v2 for kiosk 3 since yesterday: %s %s" % (st, a))
        later = (after + datetime.timedelta(days=7)).isoformat() + "T09:30"
        st, a = office.post("/api/v1/assignments", {"pack": "safety-and-health", "version": V1, "kiosk": "k-3",
                                                    "starts": later})
        check(st == 200, "v1 for kiosk 3 from %s on: %s %s" % (later, st, a))
        k3 = kiosk("k-3")
        wait_shown(k3, T2, "kiosk 3 in its window: v2")
        k3.proc.send_signal(signal.SIGKILL)
        k3.proc.wait()
        kiosks.remove(k3)
        srv.stop()
        k3 = kiosk("k-3")
        wait_shown(k3, T2, "after a power cut, with the server away: still v2")

        # --- the staff panel shows the kept schedule, offline, at both sizes in zh and en ---
        yesterday = (today - datetime.timedelta(days=1)).isoformat()
        shots = os.environ.get("KK_SHOTS") or work
        for size in ((1920, 1080), (1080, 1920)):
            for lang in ("zh", "en"):
                k3.quit()
                kiosks.remove(k3)
                k3 = kiosk("k-3", size, lang)
                text = staff_text(k3)
                where = "%dx%d %s" % (size[0], size[1], lang)
                if lang == "zh":
                    want = ["现在生效：%s起至%ssafety-and-health%s" % (yesterday, after, V2),
                            "未开始：%s起，长期safety-and-health%s" % (later.replace("T", ""), V1)]
                else:
                    want = ["Inforcenow:from%sto%ssafety-and-health%s" % (yesterday, after, V2),
                            "Notstarted:from%s,noendsafety-and-health%s" % (later.replace("T", ""), V1)]
                for w in want:
                    check(w in text, "%s: the panel says %s: %s" % (where, w, text))
                bad = check_targets(k3.screen)
                check(not bad, "%s: targets too small or off screen: %s" % (where, bad))
                over = [i for i in k3.screen.get("overflow", []) if i.startswith("staff/")]
                check(not over, "%s: text cut on the panel: %s" % (where, over))
                k3.screenshot(os.path.join(shots, "staff-schedule-%dx%d-%s.png" % (size[0], size[1], lang)))
                k3.tap_id("staff/close")
    except KioskError as e:
        check(False, str(e))
    finally:
        for k in kiosks:
            try:
                k.quit()
            except Exception:
                pass
        srv.stop()
    if failures:
        for k in kiosks:
            print(k.logtext()[-3000:])
    print("schedule: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
