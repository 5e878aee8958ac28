"""High contrast and reach (issue 14) through the real kiosk.

High contrast: the top bar offers 高对比 / High contrast (target high-contrast) beside
large text; a tap switches the theme (the screen line says "high_contrast":true and the
background is the high-contrast theme's); the end of the visit switches it back; the
config key high_contrast = on makes it every visit's default.

Reach: with reach = on for a 1080x1920 screen 952 mm tall mounted 800 mm above the floor,
every target of every scene lies 380-1220 mm above the floor, and is still at least the
minimum size. Screenshots go to $KK_BUILD_DIR/ui-shots/access/.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets, run  # noqa: E402
from scene_walk import PIN, walk  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
CONTENT = os.path.join(SRC, "content")
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
SHOTS = os.path.join(BUILD, "ui-shots", "access")
MIN_FLOOR = 72
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def theme_bg(name):
    with open(os.path.join(SRC, "assets", "themes", name + ".json")) as f:
        h = json.load(f)["colours"]["bg"]
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def conf(work, extra=""):
    path = os.path.join(work, "kiosk-%d.conf" % len(os.listdir(work)))
    pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
    with open(path, "w") as f:
        f.write("kiosk_id = k-access\nstaff_pin_hash = %s\n%s" % (pin_hash, extra))
    return path


os.makedirs(SHOTS, exist_ok=True)
work = tempfile.mkdtemp(prefix="kk-access-")
DEFAULT_BG, HC_BG = theme_bg("default"), theme_bg("high-contrast")
check(DEFAULT_BG != HC_BG, "the two themes have the same background")

# ---- the switch, per visit ----
k = Kiosk(BUILD, CONTENT, (1920, 1080), config=conf(work))
try:
    check(k.screen.get("high_contrast") is False, "attract: high_contrast is %s" % k.screen.get("high_contrast"))
    k.tap_id("start")
    hc, large = k.target("high-contrast"), k.target("large_text")
    check(hc is not None, "audience: no high-contrast switch in the top bar")
    if hc and large:
        check(hc["rect"][1] == large["rect"][1] and hc["rect"][0] + hc["rect"][2] <= large["rect"][0],
              "the switch is not beside large text: %s %s" % (hc["rect"], large["rect"]))
        check(hc["label"] == "高对比", "zh label %r" % hc["label"])
    img = k.screenshot(os.path.join(SHOTS, "switch-off.png"))
    check(img.getpixel((960, 1000)) == DEFAULT_BG, "default look: %s" % (img.getpixel((960, 1000)),))
    k.tap_id("high-contrast")
    check(k.screen["high_contrast"] is True, "the switch did not turn high contrast on")
    img = k.screenshot(os.path.join(SHOTS, "switch-on.png"))
    check(img.getpixel((960, 1000)) == HC_BG, "high contrast: background %s, not %s" % (img.getpixel((960, 1000)), HC_BG))
    k.tap_id("lang")
    check(k.target("high-contrast")["label"] == "High contrast", "en label")
    check(k.screen["high_contrast"] is True, "the language switch turned high contrast off")
    k.tap_id("audience/elderly")
    k.send({"advance_ms": 65000})
    k.send({"advance_ms": 20000})  # idle: the visit ends
    check(k.screen["scene"] == "attract", "no idle reset: %s" % k.screen["scene"])
    check(k.screen["high_contrast"] is False, "high contrast outlived the visit")
    img = k.screenshot(os.path.join(SHOTS, "after-visit.png"))
    check(img.getpixel((5, 5)) == DEFAULT_BG, "after the visit: background %s" % (img.getpixel((5, 5)),))
finally:
    k.quit()

# ---- the config default ----
k = Kiosk(BUILD, CONTENT, (1080, 1920), config=conf(work, "high_contrast = on\n"))
try:
    check(k.screen["high_contrast"] is True, "high_contrast = on: the attract screen is not")
    img = k.screenshot(os.path.join(SHOTS, "default-on.png"))
    check(img.getpixel((5, 5)) == HC_BG, "high_contrast = on: background %s" % (img.getpixel((5, 5)),))
    k.tap_id("start")
    k.tap_id("high-contrast")
    check(k.screen["high_contrast"] is False, "the switch does not turn it off")
    k.send({"advance_ms": 65000})
    k.send({"advance_ms": 20000})
    check(k.screen["high_contrast"] is True, "after the visit the kiosk's default is not back")
finally:
    k.quit()

# ---- a bad value stops the start with one line ----
bad = conf(work, "reach = sometimes\n")
rc = os.system("%s --config %s --automation </dev/null >/dev/null 2>%s/err" % (KIOSK, bad, work))
err = open(os.path.join(work, "err")).read()
check(rc != 0 and "reach: \"sometimes\" is not a switch" in err, "bad reach value: rc %s, %r" % (rc, err))

BAR_IDS = ("nav/back", "nav/home", "lang", "large_text", "high-contrast")


def intersects(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(a, b):
    """a lies inside b."""
    return b[0] <= a[0] and b[1] <= a[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]


def overlaps(s):
    """Pairs of targets that overlap (the top bar crowded on a narrow screen); a target
    inside another (a topic card's quiz button) is on top of it by design."""
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


def contrast(k):
    """{"contrast":true}: every line of text with its colour, what is drawn behind it and
    their ratio."""
    k.proc.stdin.write('{"contrast":true}\n')
    k.proc.stdin.flush()
    while True:
        msg = json.loads(k.proc.stdout.readline())
        if "ok" in msg:
            check(msg["ok"], "contrast command refused: %s" % msg)
            return msg.get("texts", [])


# ---- every scene in high contrast, portrait English (the most crowded top bar): no
# overlapping targets, and every text at 7:1 or more against the pixels behind it ----
k = Kiosk(BUILD, CONTENT, (1080, 1920), config=conf(work, "high_contrast = on\n"))
try:
    def visit_hc(k, name):
        check(k.screen["high_contrast"] is True, "hc %s: not in high contrast" % name)
        for p in overlaps(k.screen) + check_targets(k.screen, MIN_FLOOR):
            check(False, "hc en 1080x1920 %s: %s" % (name, p))
        texts = contrast(k)
        check(len(texts) > 0 or name == "attract", "hc %s: no text measured" % name)
        for t in texts:
            # the idle prompt's shade dims what is behind the dialog: not readable by design
            if t["ratio"] < 7 and name != "still-there":
                check(False, "hc %s: %r is %.2f:1 (%s on %s)" % (name, t["text"], t["ratio"], t["ink"], t["bg"]))
    walk(k, visit_hc, "en")
finally:
    k.quit()

# ---- the measurement finds a faint text: a high-contrast theme with grey ink ----
faint = tempfile.mkdtemp(prefix="kk-access-assets-")
shutil.copytree(os.path.join(SRC, "assets"), faint, dirs_exist_ok=True)
with open(os.path.join(faint, "themes", "high-contrast.json")) as f:
    theme = json.load(f)
theme["colours"]["primary_dark"] = "#8a8a8a"  # the audience question, on white
with open(os.path.join(faint, "themes", "high-contrast.json"), "w") as f:
    json.dump(theme, f)
k = Kiosk(BUILD, CONTENT, (1920, 1080), config=conf(work, "high_contrast = on\n"),
          extra_env={"KEPU_ASSETS": faint})
try:
    k.tap_id("start")
    low = [t for t in contrast(k) if t["ink"] == "#8a8a8a"]
    check(len(low) > 0, "the grey text was not measured")
    for t in low:
        check(t["bg"] in ("#ffffff", "#e6e6e6") and 3.0 < t["ratio"] < 3.7,
              "grey on white measured as %s on %s, %.2f:1" % (t["ink"], t["bg"], t["ratio"]))
finally:
    k.quit()
shutil.rmtree(faint)

# ---- reach ----
W, H, SCREEN_MM, MOUNT_MM = 1080, 1920, 952, 800
mm_per_px = SCREEN_MM / H


def height_mm(y):
    return MOUNT_MM + (H - y) * mm_per_px


for lang in ("zh", "en"):
    k = Kiosk(BUILD, CONTENT, (W, H),
              config=conf(work, "reach = on\nreach_mount_mm = %d\nreach_screen_mm = %d\n" % (MOUNT_MM, SCREEN_MM)))
    seen = []

    def visit(k, name):
        seen.append(name)
        s = k.screen
        check(s["size"] == [W, H], "%s: size %s" % (name, s["size"]))
        check(s.get("reach", {}).get("band") is not None, "%s: no reach band in the screen line" % name)
        check(len(s["targets"]) > 0 or name == "attract", "%s: no targets" % name)
        for t in s["targets"]:
            x, y, w, h = t["rect"]
            top, bottom = height_mm(y), height_mm(y + h)
            if top > 1220.5 or bottom < 379.5:
                check(False, "%s %s: %s lies %.0f-%.0f mm above the floor" % (lang, name, t["id"], bottom, top))
        for p in check_targets(s, MIN_FLOOR) + overlaps(s):
            check(False, "%s %s: %s" % (lang, name, p))
        # the top bar's buttons cover no text but their own labels
        bar = [t for t in s["targets"] if t["id"] in BAR_IDS]
        for tx in contrast(k):
            for t in bar:
                if intersects(t["rect"], tx["rect"]) and not inside(tx["rect"], t["rect"]):
                    check(False, "%s %s: %s covers the text %r" % (lang, name, t["id"], tx["text"]))
        k.screenshot(os.path.join(SHOTS, "reach-%s-%s.png" % (name, lang)))

    try:
        walk(k, visit, lang)
    finally:
        k.quit()
    check(len(seen) == 12, "%s: the walk saw %s" % (lang, seen))

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("ok")
