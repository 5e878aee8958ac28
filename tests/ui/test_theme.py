"""The kiosk's own look from assets/ (issue 12), through the real kiosk.

A theme from KEPU_ASSETS/KEPU_THEME changes the colours on screen; a broken or missing
theme gets exactly one log line naming the file, and the built-in look; a broken icon
gets one line and the built-in drawing. The automation output is the same in every case.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
CONTENT = os.path.join(SRC, "content")
BUILTIN_BG = (246, 243, 236)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(env, tag):
    """The attract screen's report, its corner pixel and the kiosk's theme log lines."""
    work = tempfile.mkdtemp(prefix="kk-theme-")
    k = Kiosk(BUILD, CONTENT, (1280, 720), extra_env=env)
    try:
        screen = dict(k.screen)
        img = k.screenshot(os.path.join(work, tag + ".png"))
        pixel = img.getpixel((5, 5))
    finally:
        k.quit()
    lines = [l for l in k.logtext().splitlines() if " theme: " in l and "high contrast" not in l
             and "high-contrast" not in l]
    shutil.rmtree(work)
    return screen, pixel, lines


def assets_copy(edit):
    d = tempfile.mkdtemp(prefix="kk-assets-")
    shutil.copytree(os.path.join(SRC, "assets"), d, dirs_exist_ok=True)
    edit(d)
    return d


base, pixel, lines = run({}, "default")
check(pixel == BUILTIN_BG, "default theme: background %s, not %s" % (pixel, BUILTIN_BG))
check(len(lines) == 1 and "info theme: default from" in lines[0], "default theme: log %s" % lines)


def second_theme(d):
    with open(os.path.join(d, "themes", "dark-test.json"), "w") as f:
        json.dump({"format": 1, "colours": {"bg": "#102030"}}, f)


d = assets_copy(second_theme)
screen, pixel, lines = run({"KEPU_ASSETS": d, "KEPU_THEME": "dark-test"}, "second")
check(pixel == (16, 32, 48), "second theme: background %s" % (pixel,))
check(screen == base, "second theme: the automation output changed")
shutil.rmtree(d)


def broken(d):
    with open(os.path.join(d, "themes", "default.json"), "w") as f:
        f.write('{"format": 1, "colours": {"bg": "beige"}}')


d = assets_copy(broken)
screen, pixel, lines = run({"KEPU_ASSETS": d}, "broken")
check(pixel == BUILTIN_BG, "broken theme: background %s, not the built-in" % (pixel,))
check(len(lines) == 1 and "themes/default.json: colours.bg" in lines[0] and "built-in" in lines[0],
      "broken theme: log %s" % lines)
check(screen == base, "broken theme: the automation output changed")
shutil.rmtree(d)

screen, pixel, lines = run({"KEPU_ASSETS": "/nonexistent/assets"}, "missing")
check(pixel == BUILTIN_BG, "missing assets: background %s" % (pixel,))
check(len(lines) == 1 and "/nonexistent/assets/themes/default.json" in lines[0],
      "missing assets: log %s" % lines)
check(screen == base, "missing assets: the automation output changed")


def broken_icon(d):
    with open(os.path.join(d, "icons", "content-updating.svg"), "w") as f:
        f.write("<html>")


d = assets_copy(broken_icon)
screen, pixel, lines = run({"KEPU_ASSETS": d}, "icon")
icon_lines = [l for l in lines if "icons.content-updating" in l]
check(len(icon_lines) == 1 and "drawn built-in" in icon_lines[0], "broken icon: log %s" % lines)
check(pixel == BUILTIN_BG, "broken icon: the rest of the theme is not used")
shutil.rmtree(d)

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("ok")
