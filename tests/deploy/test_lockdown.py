"""The lockdown matrix (issue 18): no key combination or pointer gesture leaves the kiosk
app or brings another program in front, with real input events.

The fallback session's setting, built here: an X server (Xvfb) with no window manager,
another program's window already open (ImageMagick's display showing a red picture), and
the kiosk app full screen on top (SDL's X11 driver, no --window). xdotool sends every
combination of the matrix through the X server (XTEST), as a keyboard or a mouse would.
After each: the app still runs and answers on its automation channel, it is not on a
staff screen it was not asked for, and the X screen, read back from the server
(ImageMagick's import), still shows the app, not the red window.

cage, the default session, cannot be driven this way: Debian 12's cage 0.1.4 offers no
virtual-keyboard or virtual-pointer protocol to clients, and its headless backend reads
no input devices; tests/deploy/session.sh checks that the session starts cage without
VT switching (-s absent) instead.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageChops, ImageStat

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
W, H = 1280, 800
failures = []

KEYS = ["alt+F4", "alt+Tab", "alt+shift+Tab", "ctrl+alt+BackSpace", "ctrl+alt+Delete",
        "super", "Super_L", "super+d", "super+l", "Escape", "ctrl+q", "ctrl+w", "alt+space",
        "F11", "alt+F2", "ctrl+Escape", "ctrl+alt+t"] + \
       ["ctrl+alt+F%d" % i for i in range(1, 13)]
# Pointer gestures: (name, xdotool arguments). Edge swipes start on the screen's edge.
GESTURES = [
    ("right click", ["mousemove", "640", "400", "click", "3"]),
    ("middle click", ["mousemove", "640", "400", "click", "2"]),
    ("long press", ["mousemove", "640", "400", "mousedown", "1", "sleep", "1.5", "mouseup", "1"]),
    ("wheel", ["mousemove", "640", "400", "click", "--repeat", "5", "4", "click", "--repeat", "5", "5"]),
    ("swipe from the left edge", ["mousemove", "0", "400", "mousedown", "1", "mousemove", "300", "400",
                                  "mousemove", "700", "400", "mouseup", "1"]),
    ("swipe from the right edge", ["mousemove", str(W - 1), "400", "mousedown", "1", "mousemove",
                                   str(W - 300), "400", "mousemove", str(W - 700), "400", "mouseup", "1"]),
    ("swipe from the top edge", ["mousemove", "640", "0", "mousedown", "1", "mousemove", "640", "300",
                                 "mousemove", "640", "600", "mouseup", "1"]),
    ("swipe from the bottom edge", ["mousemove", "640", str(H - 1), "mousedown", "1", "mousemove",
                                    "640", str(H - 300), "mouseup", "1"]),
    ("drag out of the corner", ["mousemove", "0", "0", "mousedown", "1", "mousemove", str(W - 1),
                                str(H - 1), "mouseup", "1"]),
]


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


class App:
    def __init__(self, env, state):
        args = [os.path.join(BUILD, "src/app/kepu-kiosk"), "--automation", "--content",
                os.path.join(SRC, "content"), "--state", state]
        self.log = open(os.path.join(state, "kiosk.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env, text=True, bufsize=1)
        self.screen = self.read_screen()

    def read_screen(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("the kiosk exited (code %s)" % self.proc.poll())
            msg = json.loads(line)
            if "scene" in msg:
                return msg

    def send(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("the kiosk exited (code %s)" % self.proc.poll())
            msg = json.loads(line)
            if "scene" in msg:
                self.screen = msg
            elif "ok" in msg:
                if not msg["ok"]:
                    raise AssertionError("%r: %r" % (cmd, msg))
                return msg

    def state(self):
        """The screen line now (the app answers only if its UI thread still turns)."""
        self.send({"state": True})
        return self.screen


def screen_shows_app(env, app, tmp, n):
    """The X server's own picture of the screen against the app's picture of itself."""
    own, shown = os.path.join(tmp, "own-%d.png" % n), os.path.join(tmp, "x-%d.png" % n)
    app.send({"screenshot": own})
    subprocess.run(["import", "-window", "root", shown], env=env, check=True, timeout=30)
    a = Image.open(own).convert("RGB")
    b = Image.open(shown).convert("RGB").resize(a.size)
    diff = sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3
    # The other program's pure red anywhere on the X screen means it came in front.
    r, g, bl = b.split()
    red = ImageChops.multiply(r.point(lambda v: 255 if v > 250 else 0),
                              ImageChops.invert(ImageChops.lighter(g, bl)).point(lambda v: 255 if v > 250 else 0))
    return diff, ImageStat.Stat(red).mean[0] / 255


def main():
    for tool in ("Xvfb", "xdotool", "import", "display"):
        if not shutil.which(tool):
            print("skipped: %s not installed (scripts/deps.sh --test)" % tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="kk-lockdown-")
    display = None
    for n in range(40, 90):
        if not os.path.exists("/tmp/.X11-unix/X%d" % n) and not os.path.exists("/tmp/.X%d-lock" % n):
            display = ":%d" % n
            break
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "%dx%dx24" % (W, H), "-nolisten", "tcp"],
                            stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy")
    for _ in range(100):
        if subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    procs = [xvfb]
    try:
        red = os.path.join(tmp, "red.png")
        Image.new("RGB", (W, H), (255, 0, 0)).save(red)
        other = subprocess.Popen(["display", "-geometry", "%dx%d+0+0" % (W, H), red], env=env,
                                 stderr=subprocess.DEVNULL)
        procs.append(other)
        time.sleep(1.0)
        state = os.path.join(tmp, "state")
        os.makedirs(state)
        app = App(env, state)
        procs.append(app.proc)
        check(app.screen["size"] == [W, H], "full screen: %r" % app.screen["size"])
        time.sleep(0.5)
        diff, red = screen_shows_app(env, app, tmp, 0)
        check(diff < 8 and red < 0.001,
              "at the start the X screen shows the app (difference %.1f, red %.3f)" % (diff, red))

        n = 0
        for name, args in [(k, ["key", "--clearmodifiers", k]) for k in KEYS] + GESTURES:
            n += 1
            r = subprocess.run(["xdotool"] + args, env=env, capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "%s: xdotool failed: %s" % (name, r.stderr.strip()))
            time.sleep(0.3)
            if app.proc.poll() is not None:
                check(False, "%s: the app exited (code %s)" % (name, app.proc.returncode))
                break
            screen = app.state()
            check(not screen["scene"].startswith("staff"),
                  "%s: opened a staff screen (%s)" % (name, screen["scene"]))
            check(other.poll() is None, "%s: the other program is still there, behind" % name)
            # The attract screen moves on by itself, so the two pictures may be a frame
            # apart; the other program's red must not show at all.
            diff, red = screen_shows_app(env, app, tmp, n)
            check(diff < 40 and red < 0.001,
                  "%s: the X screen no longer shows the app (difference %.1f, red %.3f)" % (name, diff, red))
            print("%-28s app in front (difference %.1f), scene %s" % (name, diff, screen["scene"]))
            # Gestures may move the app on (a tap on the attract screen starts a visit):
            # come back to the attract screen so every combination meets the same screen.
            if screen["scene"] != "attract":
                app.send({"advance_ms": 600000})
                app.state()
        app.send({"quit": True})
        app.proc.wait(timeout=30)
        check(app.proc.returncode == 0, "a clean stop at the end")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not os.environ.get("KK_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("lockdown: %d combinations, the app stayed in front after each" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
