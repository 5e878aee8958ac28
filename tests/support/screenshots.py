"""Writes docs/screenshots/<scene>-<lang>-<W>x<H>.png: every kiosk scene, in Chinese and
English, landscape and portrait, from the real app. Run: scripts/screenshots.sh

scripts/screenshots.sh --high-contrast writes hc-<scene>-<lang>-<W>x<H>.png instead: every
scene a visitor and the staff reach (tests/support/scene_walk.py) in the high-contrast
theme (kiosk.conf high_contrast = on)."""
import os
import subprocess
import sys
import tempfile

from kiosk import Kiosk
from scene_walk import PIN, walk

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))
OUT = os.path.join(SRC, "docs", "screenshots")


def shoot(k, scene, lang, size):
    k.screenshot(os.path.join(OUT, "%s-%s-%dx%d.png" % (scene, lang, size[0], size[1])))


def high_contrast():
    work = tempfile.mkdtemp(prefix="kk-shots-hc-")
    pin_hash = subprocess.run([os.path.join(BUILD, "src/app/kepu-kiosk"), "--hash-pin"],
                              input=PIN + "\n", capture_output=True, text=True,
                              check=True).stdout.strip()
    conf = os.path.join(work, "kiosk.conf")
    with open(conf, "w") as f:
        f.write("high_contrast = on\nstaff_pin_hash = %s\n" % pin_hash)
    for size in ((1920, 1080), (1080, 1920)):
        for lang in ("zh", "en"):
            k = Kiosk(BUILD, os.path.join(SRC, "content"), size, config=conf)
            try:
                walk(k, lambda k, name: shoot(k, "hc-" + name, lang, size), lang)
            finally:
                k.quit()
    print("high-contrast screenshots in", OUT)


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["--high-contrast"]:
        high_contrast()
        return
    topic = sys.argv[1] if len(sys.argv) > 1 else "topic/earthquake"
    for size in ((1920, 1080), (1080, 1920)):
        for lang in ("zh", "en"):
            k = Kiosk(BUILD, os.path.join(SRC, "content"), size)
            shoot(k, "attract", lang, size)
            k.tap_id("start")
            if lang == "en":
                k.tap_id("lang")
            shoot(k, "audience", lang, size)
            k.tap_id("audience/youth")
            shoot(k, "menu", lang, size)
            k.tap_id(topic)
            shoot(k, "reader", lang, size)
            k.tap_id("page/next")
            shoot(k, "reader-page2", lang, size)
            k.tap_id("large_text")
            shoot(k, "reader-large", lang, size)
            k.send({"advance_ms": 65000})
            shoot(k, "still-there", lang, size)
            k.quit()
        k = Kiosk(BUILD, tempfile.mkdtemp(), size)
        shoot(k, "empty", "zh-en", size)
        k.quit()
    print("screenshots in", OUT)


if __name__ == "__main__":
    main()
