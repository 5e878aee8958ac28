"""The monkey (issue 11): random taps, swipes, keys and clock jumps on the real kiosk.

  test_monkey.py [--actions N] [--seed S] [--replay FILE] [--selftest kill|segv|stop|stuck]

Drives kepu-kiosk (KK_BUILD_DIR; built with KK_SANITIZE=ON it runs under AddressSanitizer,
UndefinedBehaviorSanitizer and LeakSanitizer) through its automation channel only
(docs/automation.md), in two runs of the app:
  1. the sample content of content/ (source packs), 1920x1080, 60 % of the actions;
  2. installed packs: it starts empty, and the staff panel imports signed bundles of the
     sample packs (a newer version and a tampered one among them) from an import folder,
     rolls back, hides and shows; 1080x1920, the other 40 %.
Both have a staff PIN, so the staff panel (five taps in the top-right corner, the PIN) is
part of the walk. An action is one of: a tap on a reported target, a tap at a random
point, five corner taps and a PIN (right or wrong), a swipe or a drag, a key, a clock jump
({"advance_ms"}: small, past the idle prompt, or hours), a screenshot, emptying the caches,
or turning the page-turn animation on or off. Never "staff/quit" or Escape (they quit
the app on purpose).

Checks, each failing the run:
  - the kiosk answers every command within a deadline and never exits before it is told to
    (a crash, an abort of a sanitizer or a hang);
  - no sanitizer report in its log, and after {"quit":true} it exits 0 (LeakSanitizer makes
    a leak exit non-zero; tests/lsan.supp suppresses only system libraries);
  - every "home probe" (every 150-350 actions) gets home: first, in half of the probes, by
    taps alone (idle/continue, staff/close, nav/back: at most 12), then, wherever it is,
    moving the clock past the idle timeout and its countdown must show the attract screen
    (or "empty" when every pack is hidden);
  - memory levels off: RSS (VmRSS from /proc) sampled every 100 actions; the peak of the
    last quarter of a run may exceed the peak of its second quarter by at most 10 % or
    24 MB, whichever is more.
The seed is printed; the same seed makes the same choices (the kiosk's own real-time
timers aside, such as the attract screen's cover). A failure prints the seed, the action
number, the last 50 commands and the end of the kiosk's log, and writes every command sent
so far to a file that --replay sends again with the same checks.

--selftest proves the checks can fail: it runs 400 actions and breaks the kiosk on purpose
at action 200 (kill: SIGKILL; segv: SIGSEGV, which AddressSanitizer reports; stop:
SIGSTOP, a hang; stuck: the kiosk's idle timeout set to 600 s while the monkey waits
60 s), and exits 0 only if the monkey failed for that reason.
"""
import argparse
import collections
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import run, sample_pack  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
PIN = "2468"
IDLE_S, COUNTDOWN_S = 60, 15
HOME = ("attract", "empty")
NEVER = ("staff/quit",)  # quits the app by design
KEYS = ["Left", "Right", "Left", "Right", "Return", "Space", "Up", "Down", "Home", "End",
        "BackSpace", "Tab", "A", "F1", "0", "Page Down"]
SAMPLE_EVERY = 100
MAX_HOME_TAPS = 12
# What the kiosk's log says happened, counted for the summary.
LOG_MARKS = [("sessions", "attract -> audience"), ("idle resets", "nobody there"),
             ("staff panel opened", "staff panel opened"), ("wrong PINs", "wrong PIN"),
             ("imports", "staff: imported"), ("imports refused", "refused: "),
             ("roll backs", "rolled back; switching"), ("packs hidden", " hidden\n"),
             ("content switches", "switching to the new content")]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")


class MonkeyFailure(Exception):
    def __init__(self, kind, text):
        super().__init__("%s: %s" % (kind, text))
        self.kind = kind


def sanitized():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return "KK_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


class Kiosk:
    """The kiosk on a pipe, read with a deadline so a hang is seen as one."""

    def __init__(self, size, state, config, content, log_path, deadline):
        args = [KIOSK, "--automation", "--window", "%dx%d" % size, "--state", state,
                "--config", config]
        if content:
            args += ["--content", content]
        env = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy",
                   ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:quarantine_size_mb=16",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
                   LSAN_OPTIONS="suppressions=%s/tests/lsan.supp:print_suppressions=0" % SRC)
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env)
        self.size = size
        self.deadline = deadline
        self.buf = b""
        self.screen = None
        self._until(lambda m: "scene" in m, "the first screen")

    def _line(self, what):
        end = time.monotonic() + self.deadline
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise MonkeyFailure("stuck", "no answer to %s within %d s (the kiosk hangs)"
                                    % (what, self.deadline))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    self.proc.wait(timeout=30)
                    raise MonkeyFailure("crash", "the kiosk exited (code %s) during %s"
                                        % (self.proc.returncode, what))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def _until(self, done, what):
        while True:
            m = self._line(what)
            if "scene" in m:
                self.screen = m
            if done(m):
                return m

    def send(self, cmd):
        text = json.dumps(cmd, ensure_ascii=False)
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.proc.wait(timeout=30)
            raise MonkeyFailure("crash", "the kiosk exited (code %s) before %s"
                                % (self.proc.returncode, text))
        return self._until(lambda m: "ok" in m, text)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"quit":true}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=120)  # LeakSanitizer's scan at exit takes a while
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise MonkeyFailure("stuck", "the kiosk did not quit within 120 s")
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()


def sanitizer_report(text):
    for mark in SANITIZER_MARKS:
        i = text.find(mark)
        if i >= 0:
            return text[max(0, text.rfind("\n", 0, max(0, i - 200)) + 1):][:6000]
    return None


def make_bundles(work, key):
    """Signed bundles of every sample pack, a newer safety pack and a tampered one."""
    usb = os.path.join(work, "usb")
    os.makedirs(usb)
    for p in sorted(os.listdir(os.path.join(SRC, "content"))):
        out = os.path.join(work, "built-" + p)
        run(PACK, "build", os.path.join(SRC, "content", p), "-o", out, "--key", key)
        run(PACK, "bundle", out, "-o", os.path.join(usb, p + ".kpk"))
    src = sample_pack(SRC, os.path.join(work, "src-new"), "2026.12.1", " (new)")
    run(PACK, "build", src, "-o", src + "-built", "--key", key)
    run(PACK, "bundle", src + "-built", "-o", os.path.join(usb, "safety-2026.12.1.kpk"))
    bad = sample_pack(SRC, os.path.join(work, "src-bad"), "2026.12.5")
    run(PACK, "build", bad, "-o", bad + "-built", "--key", key)
    with open(os.path.join(bad + "-built", "topics", "earthquake.json"), "r+b") as f:
        f.seek(10)
        f.write(b"#")
    with tarfile.open(os.path.join(usb, "safety-tampered.kpk"), "w:gz",
                      format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(bad + "-built")):
            tar.add(os.path.join(bad + "-built", name), arcname=name)
    return usb


class Monkey:
    def __init__(self, seed, work, deadline, selftest=None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.work = work
        self.deadline = deadline
        self.selftest = selftest
        self.last = collections.deque(maxlen=50)
        self.sent = []
        self.sent_by_run = {}
        self.count = 0
        self.k = None
        self.scenes = collections.Counter()
        self.probes = collections.Counter()
        self.home_by_taps = collections.Counter()
        self.peak_kb = 0
        self.rss_runs = []
        self.replay = None
        self.log_counts = {}

    # ---- commands ----

    def cmd(self, c):
        self.last.append(json.dumps(c, ensure_ascii=False))
        self.sent.append(c)
        r = self.k.send(c)
        self.scenes[self.k.screen["scene"]] += 1
        return r

    def targets(self):
        return [t for t in self.k.screen["targets"] if t["id"] not in NEVER]

    def forbidden(self, x, y):
        for t in self.k.screen["targets"]:
            rx, ry, rw, rh = t["rect"]
            if t["id"] in NEVER and rx <= x < rx + rw and ry <= y < ry + rh:
                return True
        return False

    def tap_point(self, x, y):
        if not self.forbidden(x, y):
            self.cmd({"tap": [x, y]})

    def tap_target(self, t):
        x, y, w, h = t["rect"]
        r = self.rng
        # Anywhere on the target, not only its centre.
        self.tap_point(x + r.randrange(max(1, w)), y + r.randrange(max(1, h)))

    def one_action(self):
        r = self.rng
        w, h = self.k.size
        roll = r.random() * 100
        if roll < 42:
            ts = self.targets()
            if ts:
                t = r.choice(ts)
                if r.random() < 0.5:
                    self.cmd({"tap_id": t["id"]})
                else:
                    self.tap_target(t)
            else:
                self.tap_point(r.randrange(w), r.randrange(h))
        elif roll < 56:
            self.tap_point(r.randrange(w), r.randrange(h))
        elif roll < 58:
            for _ in range(5):
                self.tap_point(w - 1 - r.randrange(60), r.randrange(60))
            if self.k.screen["scene"] == "staff_pin":
                pin = PIN if r.random() < 0.8 else "".join(r.choice("0123456789") for _ in range(4))
                for d in pin:
                    if any(t["id"] == "pin/" + d for t in self.k.screen["targets"]):
                        self.cmd({"tap_id": "pin/" + d})
                if any(t["id"] == "pin/ok" for t in self.k.screen["targets"]):
                    self.cmd({"tap_id": "pin/ok"})
        elif roll < 68:
            if r.random() < 0.7:
                y = r.randrange(h // 5, h * 4 // 5)
                a, b = r.randrange(w // 10, w // 3), r.randrange(w * 2 // 3, w * 9 // 10)
                sw = [a, y, b, y] if r.random() < 0.5 else [b, y, a, y]
            else:
                sw = [r.randrange(w), r.randrange(h), r.randrange(w), r.randrange(h)]
            if not self.forbidden(sw[2], sw[3]):  # a short or steep swipe is a tap where it ends
                if r.random() < 0.25:  # a finger moving in steps (the compare handle follows)
                    self.cmd({"drag": sw + [r.randrange(1, 13)]})
                else:
                    self.cmd({"swipe": sw})
        elif roll < 76:
            self.cmd({"key": r.choice(KEYS)})
        elif roll < 88:
            self.cmd({"advance_ms": r.randrange(10, 5000)})
        elif roll < 94:
            self.cmd({"advance_ms": r.randrange(5000, 80000)})
        elif roll < 95:
            self.cmd({"advance_ms": r.randrange(80000, 8 * 3600 * 1000)})
        elif roll < 96.5:
            self.cmd({"state": True})
        elif roll < 97.5:
            self.cmd({"caches": "drop" if r.random() < 0.5 else True})
        elif roll < 98.5:
            self.cmd({"animations": r.random() < 0.5})
        elif roll < 99:
            self.cmd({"screenshot": os.path.join(self.work, "monkey.png")})
        else:
            self.cmd({"frame_stats": True})

    # ---- checks ----

    def home_probe(self):
        start = self.k.screen["scene"]
        self.probes[start] += 1
        if self.rng.random() < 0.5:
            for _ in range(MAX_HOME_TAPS):
                if self.k.screen["scene"] in HOME:
                    self.home_by_taps[start] += 1
                    return
                ids = [t["id"] for t in self.k.screen["targets"]]
                way = next((i for i in ("idle/continue", "staff/close", "nav/back") if i in ids), None)
                if not way:
                    break
                self.cmd({"tap_id": way})
        # Nobody touches it: the idle prompt, then its countdown, then home.
        seen = self.k.screen["scene"]
        self.cmd({"advance_ms": self.idle_s * 1000 + 10})
        self.cmd({"advance_ms": COUNTDOWN_S * 1000 + 10})
        if self.k.screen["scene"] not in HOME:
            raise MonkeyFailure("stuck", "on the %s screen (probe from %s): %d s without a touch did "
                                "not bring the attract screen back; targets: %s"
                                % (self.k.screen["scene"], seen, self.idle_s + COUNTDOWN_S,
                                   [t["id"] for t in self.k.screen["targets"]]))

    def sample(self, samples):
        kb = self.k.rss_kb()
        samples.append((self.count, kb))
        self.peak_kb = max(self.peak_kb, kb)

    def check_rss(self, name, samples):
        if len(samples) < 8:
            return
        n = len(samples)
        q2 = max(kb for _, kb in samples[n // 4:n // 2])
        q4 = max(kb for _, kb in samples[n * 3 // 4:])
        self.rss_runs.append((name, samples[0][1], q2, q4, max(kb for _, kb in samples)))
        if q4 - q2 > max(24 * 1024, q2 // 10):
            raise MonkeyFailure("memory", "%s: RSS still growing: peak %d kB in the second quarter "
                                "of the run, %d kB in the last (samples: %s)"
                                % (name, q2, q4, samples))

    # ---- a run of the app ----

    def run_app(self, name, actions, size, content, config, state):
        self.idle_s = IDLE_S
        self.sent = self.sent_by_run.setdefault(name, [])
        log = os.path.join(self.work, name + ".log")
        self.k = Kiosk(size, state, config, content, log, self.deadline)
        samples = []
        self.sample(samples)
        next_probe = self.count + self.rng.randrange(150, 350)
        end = self.count + actions
        try:
            while self.count < end:
                if self.replay is not None:
                    if not self.replay:
                        break
                    self.cmd(self.replay.pop(0))
                else:
                    self.one_action()
                self.count += 1
                if self.selftest and self.count == 200:
                    self.break_on_purpose()
                if self.count % SAMPLE_EVERY == 0:
                    self.sample(samples)
                if self.replay is None and self.count >= next_probe:
                    self.home_probe()
                    next_probe = self.count + self.rng.randrange(150, 350)
            if self.replay is None:
                self.home_probe()
            self.sample(samples)
            report = sanitizer_report(self.k.logtext())
            if report:
                raise MonkeyFailure("sanitizer", "report in the kiosk's log:\n" + report)
            code = self.k.quit()
            report = sanitizer_report(self.k.logtext())
            if report:
                raise MonkeyFailure("sanitizer", "at exit:\n" + report)
            if code != 0:
                raise MonkeyFailure("crash", "the kiosk exited %s after quit" % code)
            self.check_rss(name, samples)
            log = self.k.logtext()
            self.log_counts[name] = {w: log.count(m) for w, m in LOG_MARKS}
        except MonkeyFailure as e:
            self.k.kill()
            report = sanitizer_report(self.k.logtext())
            if report and e.kind != "sanitizer":
                raise MonkeyFailure("sanitizer", "%s\nreport in the kiosk's log:\n%s" % (e, report))
            raise
        finally:
            self.k.kill()

    def known_ways(self, config, state):
        """Paths the monkey once found stuck, replayed on every run: Home on the staff
        panel's touch test and import screens opened the visitor's picker with no session,
        and no timeout ever brought the attract screen back."""
        self.k = Kiosk((1920, 1080), state, config, os.path.join(SRC, "content"),
                       os.path.join(self.work, "known.log"), self.deadline)
        try:
            for screen in ("staff/touch", "staff/import"):
                for _ in range(5):
                    self.cmd({"tap": [1900, 20]})
                for d in PIN:
                    self.cmd({"tap_id": "pin/" + d})
                self.cmd({"tap_id": "pin/ok"})
                self.cmd({"tap_id": screen})
                self.cmd({"tap_id": "nav/home"})
                self.cmd({"advance_ms": IDLE_S * 1000 + 10})
                self.cmd({"advance_ms": COUNTDOWN_S * 1000 + 10})
                if self.k.screen["scene"] not in HOME:
                    raise MonkeyFailure("stuck", "Home on %s led to the %s screen, and %d s without "
                                        "a touch did not bring the attract screen back"
                                        % (screen, self.k.screen["scene"], IDLE_S + COUNTDOWN_S))
            if self.k.quit() != 0:
                raise MonkeyFailure("crash", "the kiosk exited %s after quit" % self.k.proc.returncode)
        finally:
            self.k.kill()
        shutil.rmtree(state, ignore_errors=True)

    def break_on_purpose(self):
        p = self.k.proc
        if self.selftest == "kill":
            p.send_signal(signal.SIGKILL)
        elif self.selftest == "segv":
            p.send_signal(signal.SIGSEGV)
        elif self.selftest == "stop":
            p.send_signal(signal.SIGSTOP)

    def configs(self):
        key = os.path.join(self.work, "alliance")
        run(PACK, "keygen", "-o", key)
        usb = make_bundles(self.work, key + ".key")
        pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
        confs = {}
        for name in ("source", "installed"):
            state = os.path.join(self.work, "state-" + name)
            conf = os.path.join(self.work, name + ".conf")
            idle = 600 if self.selftest == "stuck" else IDLE_S
            with open(conf, "w") as f:
                f.write("kiosk_id = k-monkey\ntrusted_keys = %s.pub\nstaff_pin_hash = %s\n"
                        "import_dirs = %s\nidle_timeout_s = %d\nidle_countdown_s = %d\n"
                        % (key, pin_hash, usb, idle, COUNTDOWN_S))
            confs[name] = (conf, state)
        return confs


def main():
    ap = argparse.ArgumentParser(description="the kiosk monkey (issue 11)")
    ap.add_argument("--actions", type=int, default=int(os.environ.get("KK_MONKEY_ACTIONS", "15000")))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--replay", help="a file of commands written by a failed run")
    ap.add_argument("--selftest", choices=["kill", "segv", "stop", "stuck"])
    ap.add_argument("--deadline", type=float, default=60, help="seconds a command may take")
    o = ap.parse_args()
    seed = o.seed if o.seed is not None else int.from_bytes(os.urandom(4), "big")
    actions = 400 if o.selftest else o.actions
    deadline = 5 if o.selftest == "stop" else o.deadline
    work = tempfile.mkdtemp(prefix="kk-monkey-")
    m = Monkey(seed, work, deadline, o.selftest)
    print("monkey: seed %d, %d actions, kiosk %s (sanitizers %s)%s"
          % (seed, actions, KIOSK, "on" if sanitized() else "OFF",
             ", self-test " + o.selftest if o.selftest else ""), flush=True)
    confs = m.configs()
    replay_runs = None
    if o.replay:
        with open(o.replay) as f:
            replay_runs = json.load(f)
    t0 = time.monotonic()
    runs = [("source", actions * 6 // 10, (1920, 1080), os.path.join(SRC, "content")),
            ("installed", actions - actions * 6 // 10, (1080, 1920), None)]
    done = []
    try:
        if not o.selftest and not o.replay:
            m.known_ways(*confs["source"])
            print("monkey: known ways home hold (Home on the staff touch test and import screens)")
        for name, n, size, content in runs:
            if replay_runs is not None:
                m.replay = list(replay_runs.get(name, []))
                n = len(m.replay)
            conf, state = confs[name]
            t1 = time.monotonic()
            m.run_app(name, n, size, content, conf, state)
            done.append((name, n, time.monotonic() - t1))
            print("monkey: %s run: %d actions in %.0f s" % (name, n, time.monotonic() - t1), flush=True)
    except MonkeyFailure as e:
        path = os.path.join(tempfile.gettempdir(), "kk-monkey-%d-commands.json" % seed)
        with open(path, "w") as f:
            json.dump(m.sent_by_run, f)
        print("FAIL (%s) at action %d, seed %d: %s" % (e.kind, m.count, seed, e))
        print("last %d commands:" % len(m.last))
        for c in m.last:
            print("  " + c)
        print("kiosk log tail:\n" + m.k.logtext()[-3000:])
        print("the commands of this run are in %s; replay: %s --replay %s" % (path, sys.argv[0], path))
        if o.selftest:
            want = {"kill": "crash", "segv": "sanitizer" if sanitized() else "crash",
                    "stop": "stuck", "stuck": "stuck"}[o.selftest]
            ok = e.kind == want
            print("self-test %s: the monkey failed with \"%s\"%s" % (o.selftest, e.kind,
                  ", as it must" if ok else ", expected \"%s\"" % want))
            if ok:  # nothing of a planted failure is left behind
                shutil.rmtree(work, ignore_errors=True)
                os.unlink(path)
            return 0 if ok else 1
        return 1
    finally:
        if m.k:
            m.k.kill()
    if o.selftest:
        print("self-test %s: the monkey did NOT fail on a broken kiosk" % o.selftest)
        return 1
    total = time.monotonic() - t0
    print("monkey: PASS, seed %d: %d actions in %.0f s (%.1f ms each), peak RSS %.1f MB"
          % (seed, m.count, total, total * 1000 / max(1, m.count), m.peak_kb / 1024))
    for name, first, q2, q4, peak in m.rss_runs:
        print("  %s: RSS at start %.1f MB, peak of 2nd quarter %.1f MB, of last quarter %.1f MB"
              % (name, first / 1024, q2 / 1024, q4 / 1024))
    print("  screens seen (commands answered on each): %s" % dict(sorted(m.scenes.items())))
    print("  home probes from each screen: %s; reached home by taps alone: %s"
          % (dict(sorted(m.probes.items())), dict(sorted(m.home_by_taps.items()))))
    for name, c in m.log_counts.items():
        print("  %s run, from the kiosk's log: %s" % (name, ", ".join("%s %d" % kv for kv in c.items())))
    print("  0 sanitizer reports, exit 0 after quit in both runs")
    if os.environ.get("KEEP") == "1":
        print("kept", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
