"""Kiosk soak (issue 11): a week of visitors on the accelerated clock; prints figures.

  tests/bench/soak_kiosk.py [--days N] [--journal-max-mb N] [--seed S] [--size WxH]

Runs the real kepu-kiosk (KK_BUILD_DIR, default build/) with the sample content of
content/ through its automation channel, offline (no server: every event stays in the
journal, as on a kiosk without network). Each simulated day the hall is open 09:00-17:00:
visitors come with random gaps (mean 4 minutes); each taps start, picks an audience
group (sometimes the English toggle or large text), reads one to three topics page by page
(5-40 s a page, moved on with {"advance_ms"}), answers a topic's quiz in half of them,
and then either walks away (the idle prompt and its countdown take the screen home) or
taps Home first. The night is one clock jump. After every simulated day it samples the
kiosk's RSS (VmRSS), its open file descriptors (/proc/PID/fd) and the size of
journal.db with its WAL, and prints a line. At the end: RSS and journal slopes per
simulated day over the second half of the run, whether RSS levels off (under 1 MB a day
or 1 % of the RSS a day), and the growth of open files. It asserts nothing about time; it
exits 1 if the kiosk dies, a visitor's walk goes wrong (a screen not reached) or the
screen is not home after a visitor leaves.

Run it with scripts/soak.sh kiosk.
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from kiosk import Kiosk, KioskError  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))
IDLE_S, COUNTDOWN_S = 60, 15
GROUPS = ["youth", "farmers", "elderly", "workers", "officials", "other"]


class Soak:
    def __init__(self, k, rng, on_session):
        self.on_session = on_session
        self.k = k
        self.rng = rng
        self.clock_ms = 0  # simulated time moved by advance_ms
        self.sessions = 0
        self.pages = 0
        self.answers = 0
        self.commands = 0

    def send(self, cmd):
        self.commands += 1
        return self.k.send(cmd)

    def tap(self, target):
        self.send({"tap_id": target})

    def wait(self, ms):
        self.clock_ms += ms
        self.send({"advance_ms": ms})

    def ids(self, prefix):
        return self.k.ids(prefix)

    def expect(self, scene, what):
        if self.k.screen["scene"] != scene:
            raise KioskError("%s: on %s, expected %s" % (what, self.k.screen["scene"], scene))

    def read_topic(self):
        r = self.rng
        topics = [t for t in self.ids("topic/") if t.count("/") == 1]
        while not topics and self.ids("menu/next"):
            self.tap("menu/next")
            topics = [t for t in self.ids("topic/") if t.count("/") == 1]
        if not topics:
            raise KioskError("no topic on the menu")
        if self.ids("menu/next") and r.random() < 0.3:
            self.tap("menu/next")
            topics = [t for t in self.ids("topic/") if t.count("/") == 1] or topics
            if not [t for t in self.ids("topic/") if t.count("/") == 1]:
                self.tap("menu/prev")
        self.tap(r.choice(topics))
        self.expect("reader", "opening a topic")
        while True:
            self.wait(r.randrange(5000, 40000))
            self.pages += 1
            if self.k.screen["screen"] + 1 >= self.k.screen["screens"] or r.random() < 0.15:
                break
            self.send({"key": "Right"} if r.random() < 0.5 else {"swipe": [1500, 600, 300, 600]})
        if r.random() < 0.5 and self.ids("quiz/start"):
            self.tap("quiz/start")
            self.quiz()
        elif self.ids("reader/done"):
            self.tap("reader/done")
        else:
            self.tap("nav/back")

    def quiz(self):
        r = self.rng
        for _ in range(200):
            self.expect("quiz", "answering a quiz")
            if self.ids("quiz/again"):  # the results
                break
            if self.ids("quiz/next") or self.ids("quiz/results"):
                self.wait(r.randrange(2000, 8000))
                self.tap((self.ids("quiz/next") or self.ids("quiz/results"))[0])
                continue
            choices = [c for c in self.ids("choice/") if c.count("/") == 1]
            if not choices:
                raise KioskError("a quiz screen with no choice: %s" % self.ids(""))
            self.wait(r.randrange(2000, 15000))
            self.tap(r.choice(choices))
            self.answers += 1
            if self.ids("quiz/confirm"):
                self.tap("quiz/confirm")
        self.tap("nav/back")

    def visitor(self):
        r = self.rng
        self.expect("attract", "a visitor arrives")
        self.tap("start")
        self.sessions += 1
        if r.random() < 0.15:
            self.tap("lang")
        if r.random() < 0.1:
            self.tap("large_text")
        self.wait(r.randrange(1000, 6000))
        self.tap("audience/" + (r.choice(GROUPS) if r.random() < 0.8 else "other"))
        self.expect("menu", "picking a group")
        for _ in range(r.randint(1, 3)):
            if self.k.screen["scene"] != "menu":
                self.tap("nav/home")
            self.read_topic()
        if r.random() < 0.3 and self.ids("nav/home"):
            self.tap("nav/home")
        # Walks away: the idle prompt, then its countdown, then the attract screen.
        self.wait(IDLE_S * 1000 + 10)
        self.wait(COUNTDOWN_S * 1000 + 10)
        self.expect("attract", "after the visitor left")

    def day(self):
        """09:00 to 17:00 of visitors, then the night."""
        day_start = self.clock_ms
        while self.clock_ms - day_start < 8 * 3600 * 1000:
            self.wait(int(self.rng.expovariate(1 / 240000.0)) + 1000)
            self.visitor()
            self.on_session()
        self.wait(day_start + 24 * 3600 * 1000 - self.clock_ms)


def sample(pid, state):
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    journal = 0
    for name in ("journal.db", "journal.db-wal"):
        try:
            journal += os.path.getsize(os.path.join(state, name))
        except OSError:
            pass
    return rss, fds, journal


def slope(points):
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--journal-max-mb", type=int, default=0, help="0: the kiosk's default")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--size", default="1920x1080")
    o = ap.parse_args()
    seed = o.seed if o.seed is not None else random.randrange(1 << 32)
    size = tuple(int(v) for v in o.size.split("x"))
    work = tempfile.mkdtemp(prefix="kk-soak-kiosk-")
    state = os.path.join(work, "state")
    conf = os.path.join(work, "kiosk.conf")
    with open(conf, "w") as f:
        f.write("kiosk_id = k-soak\nidle_timeout_s = %d\nidle_countdown_s = %d\n" % (IDLE_S, COUNTDOWN_S))
        if o.journal_max_mb:
            f.write("journal_max_mb = %d\n" % o.journal_max_mb)
    print("== kiosk soak, %s; seed %d; %d simulated days, %dx%d, journal_max_mb %s"
          % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), seed, o.days, size[0], size[1],
             o.journal_max_mb or "default"))
    print("machine: %d cores; load %s (other work may share it)"
          % (os.cpu_count(), " ".join("%.2f" % v for v in os.getloadavg())))
    k = Kiosk(BUILD, os.path.join(SRC, "content"), size, state=state, config=conf)
    t0 = time.monotonic()
    rows = []
    print("%6s %9s %5s %12s %9s %9s %7s" % ("day", "RSS kB", "fds", "journal B", "sessions",
                                            "commands", "real s"))

    def take():
        rows.append((s.clock_ms / 86400000.0,) + sample(k.proc.pid, state) + (s.sessions, s.commands))
        print("%6.2f %9d %5d %12d %9d %9d %7.0f" % (rows[-1] + (time.monotonic() - t0,)), flush=True)

    s = Soak(k, random.Random(seed), lambda: s.sessions % 10 or take())
    take()
    failed = None
    try:
        for d in range(1, o.days + 1):
            s.day()
    except KioskError as e:
        failed = str(e)
    if k.proc.poll() is None:
        take()
    code = k.quit() if k.proc.poll() is None else k.proc.returncode
    real = time.monotonic() - t0
    print()
    print("== kiosk soak result: %.1f simulated days in %.0f s real; %d visitor sessions, %d pages read,"
          " %d quiz answers, %d commands" % (rows[-1][0], real, s.sessions, s.pages, s.answers,
                                             s.commands))
    half = [r for r in rows if r[0] >= rows[-1][0] / 2]
    rss_slope = slope([(r[0], r[1] / 1024) for r in half])
    mean = sum(r[1] for r in half) / len(half) / 1024
    print("RSS: start %.1f MB, peak %.1f MB, last %.1f MB; slope over the second half %+.2f MB a day: %s"
          % (rows[0][1] / 1024, max(r[1] for r in rows) / 1024, rows[-1][1] / 1024, rss_slope,
             "levels off" if rss_slope < 1 or rss_slope < 0.01 * mean else "STILL GROWING"))
    print("open files: start %d, max %d, last %d" % (rows[0][2], max(r[2] for r in rows), rows[-1][2]))
    print("journal (journal.db + WAL): start %.2f MB, last %.2f MB; %+.2f MB a day over the second half"
          % (rows[0][3] / 1e6, rows[-1][3] / 1e6, slope([(r[0], r[3] / 1e6) for r in half])))
    print("kiosk exit code %s; load at the end %s" % (code, " ".join("%.2f" % v for v in os.getloadavg())))
    if failed or code != 0:
        print("FAIL: %s" % (failed or "the kiosk exited %s" % code))
        print(k.logtext()[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
