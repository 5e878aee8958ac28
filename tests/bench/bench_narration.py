"""Read-aloud benchmark (issue 14): prints figures, asserts nothing.

  load       Mix_LoadMUS + Mix_PlayMusic on the UI thread, from the kiosk's log line, for a
             6 s and a 5-minute Ogg Vorbis recording (the longest a pack may carry)
  idle CPU   10 s on a reader page that offers narration, nothing playing, compared with
             the same page on a kiosk without a sound device
  playing    CPU over 10 s while a recording plays (mixing, decoding, the button's progress
             redrawn every 250 ms), RSS while playing and peak RSS (VmHWM) after

Sound goes to SDL's disk driver writing to /dev/null (it keeps real time, as a sound card
does); there is no sound card on the build machine.
Run: KK_BUILD_DIR=build KK_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 1920x1080x24" \\
       /usr/bin/python3 tests/bench/bench_narration.py
"""
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
sys.path.insert(0, os.path.dirname(__file__))
from bench_kiosk import cpu_seconds, status_kb  # noqa: E402
from kiosk import Kiosk  # noqa: E402
from narration_pack import make_content  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))


def reader(content, driver):
    k = Kiosk(BUILD, content, (1920, 1080),
              extra_env={"SDL_AUDIODRIVER": driver, "SDL_DISKAUDIOFILE": "/dev/null"})
    k.tap_id("start")
    k.tap_id("audience/other")
    k.tap_id("topic/earthquake")
    return k


def idle_cpu(k, seconds=10.0):
    time.sleep(1.0)
    c0 = cpu_seconds(k.proc.pid)
    time.sleep(seconds)
    return (cpu_seconds(k.proc.pid) - c0) / seconds * 100


def loaded_ms(k):
    m = re.findall(r"loaded and started in (\d+) us", k.logtext())
    return int(m[-1]) if m else -1


def main():
    content = make_content(SRC, long_s=300.0)
    short = make_content(SRC)
    try:
        k = reader(content, "nonexistent")
        idle_none = idle_cpu(k)
        k.quit()

        k = reader(content, "disk")
        pid = k.proc.pid
        idle_offered = idle_cpu(k)
        rss_before = status_kb(pid, "VmRSS")
        k.tap_id("read-aloud")
        time.sleep(1.0)
        c0 = cpu_seconds(pid)
        time.sleep(10.0)
        playing = (cpu_seconds(pid) - c0) / 10.0 * 100
        rss_playing = status_kb(pid, "VmRSS")
        long_load = loaded_ms(k)
        k.tap_id("read-aloud")
        time.sleep(6.0)  # the device closes 5 s after the last recording
        idle_after = idle_cpu(k)
        hwm = status_kb(pid, "VmHWM")
        k.quit()

        k = reader(short, "disk")
        k.tap_id("read-aloud")
        time.sleep(0.5)
        short_load = loaded_ms(k)
        k.quit()
    finally:
        shutil.rmtree(content)
        shutil.rmtree(short)
    print("kepu-kiosk read-aloud benchmark, 1920x1080, software renderer, SDL video driver %s, "
          "audio driver disk (to /dev/null)" % os.environ.get("KK_VIDEODRIVER", "offscreen"))
    print("load and start on the UI thread: 6 s recording %d us, 5-minute recording %d us"
          % (short_load, long_load))
    print("idle CPU, reader page offering narration: %.2f%% of a core (no sound device: %.2f%%; "
          "after playing, device closed: %.2f%%)" % (idle_offered, idle_none, idle_after))
    print("CPU while playing: %.2f%% of a core over 10 s" % playing)
    print("RSS: %.1f MB before, %.1f MB while playing; peak RSS %.1f MB"
          % (rss_before / 1024, rss_playing / 1024, hwm / 1024))


if __name__ == "__main__":
    main()
