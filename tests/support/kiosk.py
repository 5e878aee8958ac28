"""Drives a real kepu-kiosk through its automation channel (DESIGN.md).

Used by the UI tests, the screenshot script and kepu-pack-style checks. Runs the kiosk
with SDL's offscreen driver, so no display is needed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

MIN_TARGET = 96  # px at 1080p (issue 2)


class KioskError(AssertionError):
    pass


class Kiosk:
    def __init__(self, build_dir, content, size=(1920, 1080), state=None, config=None,
                 extra_env=None):
        self.state = state or tempfile.mkdtemp(prefix="kk-ui-state-")
        self.stderr_path = os.path.join(tempfile.mkdtemp(prefix="kk-ui-log-"), "kiosk.log")
        args = [os.path.join(build_dir, "src/app/kepu-kiosk"), "--automation",
                "--window", "%dx%d" % size, "--state", self.state]
        if content is not None:
            args += ["--content", content]
        if config:
            args += ["--config", config]
        # Offscreen by default; KK_VIDEODRIVER=x11 runs it in a real window (under Xvfb).
        env = dict(os.environ, SDL_VIDEODRIVER=os.environ.get("KK_VIDEODRIVER", "offscreen"),
                   SDL_AUDIODRIVER="dummy")
        env.update(extra_env or {})
        self.log = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env, text=True, bufsize=1)
        self.size = size
        self.screen = None
        self.screens_seen = []
        self._read_until_screen()

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            raise KioskError("kiosk exited (code %s); log:\n%s" % (self.proc.poll(), self.logtext()))
        self._trace("<", line)
        return json.loads(line)

    def _trace(self, way, line):
        """KK_AUTOMATION_LOG=PREFIX appends every command (>) and line (<) to PREFIX.<the
        test script's name>, so two builds' automation output can be compared line by line."""
        path = os.environ.get("KK_AUTOMATION_LOG")
        if path:
            path += "." + os.path.basename(sys.argv[0])
            with open(path, "a", encoding="utf-8") as f:
                f.write(way + " " + line.rstrip("\n") + "\n")

    def _read_until_screen(self):
        while True:
            msg = self._line()
            if "scene" in msg:
                self.screen = msg
                self.screens_seen.append(msg["scene"])
                return

    def send(self, cmd):
        """Sends one command; returns the reply. Screen reports before it update .screen."""
        self._trace(">", json.dumps(cmd, ensure_ascii=False))
        self.proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        while True:
            msg = self._line()
            if "scene" in msg:
                self.screen = msg
                self.screens_seen.append(msg["scene"])
            elif "ok" in msg:
                if not msg["ok"]:
                    raise KioskError("%s -> %s" % (cmd, msg.get("error")))
                return msg

    def tap_id(self, target):
        return self.send({"tap_id": target})

    def open_staff(self, pin):
        """The staff gesture (five taps in the top right corner), then the PIN and OK; the
        caller checks that the staff panel opened."""
        w, _ = self.screen["size"]
        for _ in range(5):
            self.send({"tap": [w - 20, 20]})
        for d in pin:
            self.tap_id("pin/" + d)
        self.tap_id("pin/ok")

    def go_attract(self):
        """Lets the visit time out (idle, then the countdown) until the attract screen,
        at most four times (a notice or a sync may keep it a while)."""
        for _ in range(4):
            self.send({"state": True})
            if self.screen["scene"] == "attract":
                return
            self.send({"advance_ms": 61000})
            self.send({"advance_ms": 16000})
        self.send({"state": True})

    def target(self, target):
        for t in self.screen["targets"]:
            if t["id"] == target:
                return t
        return None

    def ids(self, prefix=""):
        return [t["id"] for t in self.screen["targets"] if t["id"].startswith(prefix)]

    def screenshot(self, path):
        self.send({"screenshot": path})
        return Image.open(path).convert("RGB")

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"quit":true}\n')
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise KioskError("kiosk did not quit")
        self.log.close()
        return self.proc.returncode


def check_targets(screen, min_size=MIN_TARGET):
    """Every target is at least min_size square and fully on screen."""
    w, h = screen["size"]
    problems = []
    for t in screen["targets"]:
        x, y, tw, th = t["rect"]
        if tw < min_size or th < min_size:
            problems.append("%s is %dx%d, smaller than %d px" % (t["id"], tw, th, min_size))
        if x < 0 or y < 0 or x + tw > w or y + th > h:
            problems.append("%s at %s is not fully on the %dx%d screen" % (t["id"], t["rect"], w, h))
    return problems


def ink_fraction(img, box=None):
    """Share of pixels clearly darker than the page background: text and drawings."""
    region = img.crop(box) if box else img
    gray = region.convert("L")
    hist = gray.histogram()
    dark = sum(hist[:140])
    return dark / float(region.width * region.height)


def distinct_colours(img):
    small = img.resize((img.width // 4, img.height // 4))
    return len(set(small.getdata()))


def run(*args, stdin=None):
    """Runs a command; its stdout, or CalledProcessError when it fails."""
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=True).stdout


def sample_pack(source_dir, dest, version, title_suffix=""):
    """A copy of content/safety-and-health at dest, at another version, with " (suffix)"
    on the English title of its earthquake topic so tests can tell versions apart."""
    shutil.copytree(os.path.join(source_dir, "content", "safety-and-health"), dest)
    for rel, edit in (("pack.json", lambda j: j.__setitem__("version", version)),
                      ("topics/earthquake.json",
                       lambda j: j["title"].__setitem__("en", j["title"]["en"] + title_suffix))):
        path = os.path.join(dest, rel)
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        edit(j)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
    return dest
