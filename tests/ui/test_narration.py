"""Read aloud (issue 14) through the real kiosk, with SDL's disk audio driver writing what
the kiosk plays to a file (SDL_AUDIODRIVER=disk, SDL_DISKAUDIOFILE): a format 2 pack made
here with real Ogg Vorbis recordings (sine tones written by oggenc). It checks that the
button is offered only where there is narration in the visitor's language; that a tap
plays (non-silent samples, as long as the file) and a second tap stops; that a page turn,
a language switch, going home and an idle reset each stop it; the screen line's "audio";
the audio_play events with ms_heard; volume and quiet_volume; autoplay for seniors; and a
kiosk without a sound device (SDL_AUDIODRIVER=nonexistent) that goes on without the button.
Screenshots go to $KK_BUILD_DIR/ui-shots/narration/.
"""
import array
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets  # noqa: E402
from narration_pack import make_content  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
OUT = os.path.join(BUILD, "ui-shots", "narration")
RATE = 48000  # what the kiosk opens the device with (src/app/audio.c): S16, stereo
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


# ---- what the kiosk played ----

def samples(path):
    """The disk driver's output: interleaved S16 stereo at RATE, as one channel."""
    a = array.array("h")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a[0::2]


def loud_ms(s, threshold=500):
    """Milliseconds of sound: from the first to the last sample above threshold."""
    idx = [i for i in range(0, len(s), 48) if abs(s[i]) > threshold]
    if not idx:
        return 0
    return (idx[-1] - idx[0]) * 1000 / RATE


def peak(s):
    return max((abs(x) for x in s), default=0)


def events(state, type_=None):
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    try:
        ev = [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    finally:
        db.close()
    return [e for e in ev if not type_ or e["type"] == type_]


def wait_events(state, type_, n, seconds=5.0):
    """The journal's events of type_ once there are n of them (the journal is written
    behind the UI thread's back)."""
    end = time.time() + seconds
    while True:
        ev = events(state, type_)
        if len(ev) >= n or time.time() > end:
            return ev
        time.sleep(0.05)


def conf(work, name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("idle_timeout_s = 60\nidle_countdown_s = 10\n" + text)
    return path


def kiosk(content, work, tag, size=(1920, 1080), config=None, driver="disk"):
    raw = os.path.join(work, tag + ".raw")
    env = {"SDL_AUDIODRIVER": driver, "SDL_DISKAUDIOFILE": raw, "TZ": "UTC"}
    k = Kiosk(BUILD, content, size, config=config, extra_env=env)
    k.raw = raw
    return k


def wait_audio(k, pred, seconds=5.0):
    """Polls the screen line until pred(audio) holds (real time: the sound card's)."""
    end = time.time() + seconds
    while time.time() < end:
        k.send({"state": True})
        if pred(k.screen.get("audio")):
            return True
        time.sleep(0.05)
    return False


def open_reader(k, group="youth"):
    k.tap_id("start")
    k.tap_id("audience/" + group)
    k.tap_id("topic/earthquake")
    check(k.screen["scene"] == "reader", "the topic led to %s" % k.screen["scene"])


def main_run(content, work):
    # Default volume, busy hours 00:00-24:00 so the level does not depend on the hour.
    k = kiosk(content, work, "main", config=conf(work, "main.conf", "busy_hours = 00:00-24:00\n"))
    try:
        check("audio" in k.screen and k.screen["audio"] is None,
              "attract: the screen line's audio is %r, want null" % k.screen.get("audio"))
        check(k.target("read-aloud") is None, "the attract screen offers read aloud")
        open_reader(k)
        b = k.target("read-aloud")
        check(b is not None, "page 0 with zh and en narration: no read-aloud button")
        if b:
            check(b["label"] == "朗读", "the button says %r, want 朗读" % b["label"])
            check(b["rect"][2] >= 96 and b["rect"][3] >= 96, "the button is %s" % b["rect"])
        check(not check_targets(k.screen), "targets: %s" % check_targets(k.screen))
        os.makedirs(OUT, exist_ok=True)
        k.screenshot(os.path.join(OUT, "zh-1920x1080-reader.png"))

        # Tap: it plays; the position moves with real time, not with advance_ms.
        t0 = time.time()
        k.tap_id("read-aloud")
        t1 = time.time()  # it started between t0 and t1
        a = k.screen.get("audio") or {}
        check(a.get("playing") == "audio/p0-zh.ogg", "after the tap audio is %r" % a)
        check(a.get("duration_ms") and abs(a["duration_ms"] - 6000) < 50,
              "duration_ms %r, want 6000" % a.get("duration_ms"))
        k.screenshot(os.path.join(OUT, "zh-1920x1080-reader-playing.png"))
        time.sleep(1.0)
        t2 = time.time()
        k.send({"state": True})
        t3 = time.time()  # pos_ms was read between t2 and t3
        p1 = (k.screen.get("audio") or {}).get("pos_ms", -1)
        # SDL's disk driver keeps real time by sleeping a buffer's length after each write,
        # so on a loaded machine it falls behind: a quarter of slack below, none above.
        lo, hi = (t2 - t1) * 750 - 150, (t3 - t0) * 1000 + 150
        check(lo <= p1 <= hi, "pos_ms %s, want %d..%d (real time since the tap)"
              % (p1, lo, hi))
        k.send({"advance_ms": 3000})
        k.send({"state": True})
        p2 = (k.screen.get("audio") or {}).get("pos_ms", -1)
        check(p1 <= p2 < p1 + 1500, "advance_ms 3000 moved pos_ms from %s to %s (it follows the "
              "sound card, not the kiosk's clock)" % (p1, p2))
        time.sleep(0.5)
        # A page turn stops it.
        t4 = time.time()
        k.tap_id("page/next")
        t5 = time.time()  # it stopped between t4 and t5
        check(k.screen.get("audio") is None, "after a page turn audio is %r" % k.screen.get("audio"))
        ev = wait_events(k.state, "audio_play", 1)
        check(len(ev) == 1, "%d audio_play events after the page turn, want 1" % len(ev))
        if ev:
            e = ev[-1]
            check(e.get("topic") == "earthquake" and e.get("page") == 0 and e.get("lang") == "zh",
                  "audio_play: %s" % e)
            lo, hi = (t4 - t1) * 750 - 150, (t5 - t0) * 1000 + 150
            check(lo <= e["ms_heard"] <= hi, "ms_heard %s, want %d..%d (real time it played)"
                  % (e["ms_heard"], lo, hi))
            check(e.get("session") and e.get("pack", "").startswith("safety-and-health@"),
                  "audio_play without session or pack: %s" % e)
            # The sound itself stopped with the turn: the disk output (only this recording so
            # far) has as much sound as the event says was heard, give or take 100 ms.
            time.sleep(0.3)
            sound = loud_ms(samples(k.raw))
            print("page turn: %d ms of sound in the disk output, ms_heard %d" % (sound, e["ms_heard"]))
            check(abs(sound - e["ms_heard"]) <= 100,
                  "the disk output has %d ms of sound, the event says %d ms were heard"
                  % (sound, e["ms_heard"]))

        # Page 1: zh only, a short one played to its end.
        check(k.screen.get("page") == 1, "the page turn led to page %s" % k.screen.get("page"))
        check(k.target("read-aloud") is not None, "page 1 with zh narration: no button")
        time.sleep(0.3)
        mark = os.path.getsize(k.raw)
        k.tap_id("read-aloud")
        check(wait_audio(k, lambda a: a is None, 4.0), "the 1.5 s recording did not end")
        time.sleep(0.2)
        ev = wait_events(k.state, "audio_play", 2)
        check(len(ev) == 2 and abs(ev[-1]["ms_heard"] - 1500) < 30 and ev[-1]["page"] == 1,
              "the recording played to its end: %s" % ev[-1:])
        with open(k.raw, "rb") as f:
            f.seek(mark - mark % 4)
            tail = array.array("h", f.read())[0::2]
        check(abs(loud_ms(tail) - 1500) < 60,
              "the disk output has %d ms of sound, want the file's 1500" % loud_ms(tail))
        check(peak(tail) > 0.7 * 0.5 * 32767 * 0.8, "the disk output's peak is %d: silent?" % peak(tail))

        # Two taps stop; a third plays again: one stream at a time.
        k.tap_id("read-aloud")
        k.tap_id("read-aloud")
        check(k.screen.get("audio") is None, "a second tap did not stop: %r" % k.screen.get("audio"))
        k.tap_id("read-aloud")
        check((k.screen.get("audio") or {}).get("playing") == "audio/p1-zh.ogg",
              "a third tap: %r" % k.screen.get("audio"))

        # English: page 1 has no English recording, so no button (and the zh one stops).
        k.tap_id("lang")
        check(k.screen.get("audio") is None, "a language switch did not stop it")
        check(k.target("read-aloud") is None, "page 1 in English offers read aloud")
        k.tap_id("page/prev")
        check(k.target("read-aloud") is not None and k.target("read-aloud")["label"] == "Read aloud",
              "page 0 in English: %s" % k.target("read-aloud"))
        k.tap_id("read-aloud")
        a = k.screen.get("audio") or {}
        check(a.get("playing") == "audio/p0-en.ogg" and a.get("lang") == "en",
              "English plays %r" % a)
        k.screenshot(os.path.join(OUT, "en-1920x1080-reader-playing.png"))
        # Home stops it.
        k.tap_id("nav/home")
        check(k.screen.get("audio") is None, "going home did not stop it")
        ev = wait_events(k.state, "audio_play", 5)
        check(len(ev) == 5 and ev[-1]["lang"] == "en" and ev[-1]["page"] == 0, "home: %s" % ev[-1:])

        # A page without narration, and a topic without any: no button.
        k.tap_id("topic/earthquake")
        for _ in range(3):
            k.tap_id("page/next")
        check(k.screen.get("page") == 3 and k.target("read-aloud") is None,
              "page %s offers read aloud" % k.screen.get("page"))
        k.tap_id("nav/home")
        k.tap_id("topic/health-rumours")
        check(k.screen["scene"] == "reader" and k.target("read-aloud") is None,
              "a topic without narration offers read aloud")

        # The quiz: the question and the explanation (zh only).
        k.tap_id("lang")
        k.tap_id("nav/home")
        k.tap_id("quiz/earthquake")
        q = k.screen.get("quiz") or {}
        check(q.get("phase") == "question" and k.target("read-aloud") is not None,
              "the quiz question offers no read aloud (%s)" % q.get("phase"))
        k.tap_id("read-aloud")
        check((k.screen.get("audio") or {}).get("playing") == "audio/q-zh.ogg",
              "the question plays %r" % k.screen.get("audio"))
        k.screenshot(os.path.join(OUT, "zh-1920x1080-quiz-playing.png"))
        ids = k.ids("choice/")
        if ids:
            k.tap_id(ids[0])
        q = k.screen.get("quiz") or {}
        if q.get("phase") == "question":  # multiple choice: confirm
            k.tap_id("quiz/confirm")
        check(k.screen.get("audio") is None, "answering did not stop the question's narration")
        check(k.target("read-aloud") is not None, "the feedback offers no read aloud")
        k.tap_id("read-aloud")
        check((k.screen.get("audio") or {}).get("playing") == "audio/x-zh.ogg",
              "the explanation plays %r" % k.screen.get("audio"))

        # Idle: the reset stops it, and its event belongs to the visit.
        k.send({"advance_ms": 61000})
        k.send({"advance_ms": 11000})
        check(k.screen["scene"] == "attract" and k.screen.get("audio") is None,
              "idle reset: %s, audio %r" % (k.screen["scene"], k.screen.get("audio")))
        wait_events(k.state, "session_end", 1)
        ev = events(k.state)
        types = [e["type"] for e in ev]
        plays = [i for i, t in enumerate(types) if t == "audio_play"]
        ends = [i for i, t in enumerate(types) if t == "session_end"]
        last_play, end = (plays or [-1])[-1], (ends or [-1])[-1]
        check(0 <= last_play < end and ev[last_play].get("session") == ev[end].get("session"),
              "the idle reset's audio_play comes after the session's end: %s" % types[-6:])
        n = len(events(k.state, "audio_play"))
        check(n == 7, "%d audio_play events, want 7" % n)
    finally:
        check(k.quit() == 0, "the kiosk did not exit cleanly")
    log = k.logtext()
    check("sound device found" in log, "no 'sound device found' line in the log")
    check("error" not in [l.split()[1] for l in log.splitlines() if len(l.split()) > 1],
          "errors in the log:\n%s" % log)


def layout_runs(content, work):
    """The button fits the top bar (or its second row) in both orientations and languages,
    with large text, without overlaps, and the reader's text still fits."""
    for lang, size in (("zh", (1080, 1920)), ("en", (1080, 1920)), ("en", (1920, 1080))):
        tag = "%s-%dx%d" % (lang, size[0], size[1])
        k = kiosk(content, work, "layout-" + tag, size=size, driver="dummy")
        try:
            k.tap_id("start")
            if lang == "en":
                k.tap_id("lang")
            k.tap_id("audience/elderly")  # large text from the start
            check(k.screen.get("large_text"), "%s: seniors without large text" % tag)
            k.tap_id("topic/earthquake")
            page1 = None
            for page in range(2):
                s = k.screen
                b = k.target("read-aloud")
                want = page == 0 or lang == "zh"  # page 1 has no English recording
                check((b is not None) == want, "%s page %d: read-aloud %s" % (tag, page, b))
                probs = check_targets(s) + overlaps(s)
                check(not probs, "%s page %d: %s" % (tag, page, probs))
                check(not s.get("overflow") and not s.get("shortened"),
                      "%s page %d: overflow %s shortened %s" % (tag, page, s.get("overflow"),
                                                                s.get("shortened")))
                if page == 0:
                    k.tap_id("read-aloud")
                    k.screenshot(os.path.join(OUT, tag + "-large-reader-playing.png"))
                    page1 = [t["rect"] for t in k.screen["targets"] if t["id"] == "nav/back"]
                    k.tap_id("page/next")
            if lang == "en":
                check(k.target("read-aloud") is None, "%s: page 1 offers English" % tag)
                check([t["rect"] for t in k.screen["targets"] if t["id"] == "nav/back"] == page1,
                      "%s: the bar moved between pages" % tag)
            k.tap_id("nav/home")
            k.tap_id("quiz/earthquake")
            s = k.screen
            check((k.target("read-aloud") is not None) == (lang == "zh"),
                  "%s quiz: read-aloud %s (the questions have zh recordings only)"
                  % (tag, k.target("read-aloud")))
            probs = check_targets(s) + overlaps(s)
            check(not probs, "%s quiz: %s" % (tag, probs))
            check(not s.get("overflow"), "%s quiz: overflow %s" % (tag, s.get("overflow")))
            k.screenshot(os.path.join(OUT, tag + "-large-quiz.png"))
        finally:
            check(k.quit() == 0, "%s: the kiosk did not exit cleanly" % tag)


def overlaps(s):
    ts, out = s["targets"], []
    for i, a in enumerate(ts):
        for b in ts[i + 1:]:
            ax, ay, aw, ah = a["rect"]
            bx, by, bw, bh = b["rect"]
            inside = (ax <= bx and ay <= by and bx + bw <= ax + aw and by + bh <= ay + ah) or \
                (bx <= ax and by <= ay and ax + aw <= bx + bw and ay + ah <= by + bh)
            if not inside and ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.append("%s %s overlaps %s %s" % (a["id"], a["rect"], b["id"], b["rect"]))
    return out


def volume_runs(content, work):
    """volume in busy hours, quiet_volume outside them (local time; TZ=UTC here)."""
    now = time.gmtime()
    h = now.tm_hour
    outside = "%02d:00-%02d:00" % ((h + 2) % 24, (h + 3) % 24)
    peaks = {}
    for tag, hours in (("busy", "00:00-24:00"), ("quiet", outside)):
        cfg = conf(work, tag + ".conf", "volume = 80\nquiet_volume = 20\nbusy_hours = %s\n" % hours)
        k = kiosk(content, work, "volume-" + tag, config=cfg)
        try:
            open_reader(k)
            k.tap_id("page/next")
            k.tap_id("read-aloud")
            wait_audio(k, lambda a: a is None, 4.0)
        finally:
            k.quit()
        peaks[tag] = peak(samples(k.raw))
        check("volume %d%%" % (80 if tag == "busy" else 20) in k.logtext(),
              "%s: the log does not name the volume" % tag)
    ratio = peaks["quiet"] / max(peaks["busy"], 1)
    print("peaks busy %d quiet %d ratio %.3f" % (peaks["busy"], peaks["quiet"], ratio))
    check(0.18 < ratio < 0.32, "quiet/busy peak ratio %.3f, want about 20/80" % ratio)


def autoplay_runs(content, work):
    cfg = conf(work, "autoplay.conf", "autoplay_elderly = 1\n")
    for group, want in (("elderly", True), ("youth", False)):
        k = kiosk(content, work, "autoplay-" + group, config=cfg, driver="dummy")
        try:
            open_reader(k, group)
            a = k.screen.get("audio")
            check(bool(a) == want, "autoplay_elderly, %s: audio %r" % (group, a))
            if want:
                k.tap_id("read-aloud")  # the visitor stops it: it stays stopped on this page
                k.send({"state": True})
                check(k.screen.get("audio") is None, "autoplay: a tap did not stop it")
                k.tap_id("page/next")
                check((k.screen.get("audio") or {}).get("playing") == "audio/p1-zh.ogg",
                      "autoplay: the next page does not play by itself")
        finally:
            k.quit()
    k = kiosk(content, work, "autoplay-off", driver="dummy")  # the default: off
    try:
        open_reader(k, "elderly")
        check(k.screen.get("audio") is None, "autoplay is on by default")
    finally:
        k.quit()


def no_device_run(content, work):
    k = kiosk(content, work, "nodevice", driver="nonexistent")
    try:
        open_reader(k)
        check(k.target("read-aloud") is None, "no sound device, but the button is offered")
        check(k.screen.get("audio") is None, "no sound device: audio %r" % k.screen.get("audio"))
        k.tap_id("page/next")
        check(k.screen.get("page") == 1, "no sound device: the reader does not turn")
    finally:
        check(k.quit() == 0, "no sound device: the kiosk did not exit cleanly")
    lines = [l for l in k.logtext().splitlines() if "audio" in l]
    check(len(lines) == 1 and "no sound device" in lines[0],
          "no sound device: want one log line, got %s" % lines)


def broken_run(content, work):
    """A recording the probe passes but SDL2_mixer cannot open (page 2): the tap plays
    nothing, one log line names the file, the button goes for good; the rest goes on."""
    k = kiosk(content, work, "broken", driver="dummy")
    try:
        open_reader(k)
        k.tap_id("page/next")
        k.tap_id("page/next")
        check(k.screen.get("page") == 2 and k.target("read-aloud") is not None,
              "page 2 (probe passed) offers no read aloud")
        k.tap_id("read-aloud")
        check(k.screen.get("audio") is None and k.target("read-aloud") is None,
              "a broken recording: audio %r, button %s" % (k.screen.get("audio"),
                                                            k.target("read-aloud")))
        k.tap_id("page/prev")
        k.tap_id("read-aloud")
        check((k.screen.get("audio") or {}).get("playing") == "audio/p1-zh.ogg",
              "after a broken one page 1 plays %r" % k.screen.get("audio"))
        k.tap_id("page/next")
        check(k.target("read-aloud") is None, "the broken recording is offered again")
    finally:
        check(k.quit() == 0, "broken: the kiosk did not exit cleanly")
    lines = [l for l in k.logtext().splitlines() if "cannot be played" in l]
    check(len(lines) == 1 and "p2-zh.ogg" in lines[0],
          "a broken recording: want one log line naming it, got %s" % lines)


def main():
    work = tempfile.mkdtemp(prefix="kk-narration-work-")
    content = make_content(SRC)
    out = subprocess.run([os.path.join(BUILD, "src/tools/kepu-pack"), "validate",
                          os.path.join(content, "p")], capture_output=True, text=True)
    check(out.returncode == 0, "the test pack does not validate: %s%s" % (out.stdout, out.stderr))
    for run in (main_run, broken_run, no_device_run, volume_runs, autoplay_runs, layout_runs):
        try:
            run(content, work)
        except Exception as e:  # one run failing must not hide the others
            check(False, "%s: %s" % (run.__name__, e))
    shutil.rmtree(content)
    shutil.rmtree(work)
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


main()
