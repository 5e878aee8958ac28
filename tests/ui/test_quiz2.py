"""Hotspot and order questions (pack format 2, issue 13), through the real kiosk.

A small format-2 pack made here (an SVG picture written by the test, a hotspot and an
order question), KEPU_QUIZ_SEED for a repeatable round. In zh and en, at 1920x1080 and
1080x1920, with large text: a round answered all right, then one all wrong. Asserts the
quiz object of the screen line (order placed so far, undo, answered, the tap point),
the feedback's pixels (the right region's circle drawn over the picture), the result
screen's score, every target's size, no overflow, and the journal's quiz_answer events.
Screenshots go to $KK_BUILD_DIR/ui-shots/quiz2/.
"""
import json
import math
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets  # noqa: E402

BUILD = os.environ["KK_BUILD_DIR"]
OUT = os.path.join(BUILD, "ui-shots", "quiz2")
SEED = "7"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def t(zh, en):
    return {"zh": zh, "en": en}


# An 800x600 picture: a house with a window (the right place) and a door.
SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" viewBox="0 0 800 600">
<rect width="800" height="600" fill="#dcecf5"/>
<rect x="100" y="200" width="600" height="360" fill="#f3d9a4" stroke="#5a4630" stroke-width="8"/>
<polygon points="80,210 400,40 720,210" fill="#c0563c"/>
<rect x="500" y="260" width="120" height="100" fill="#7fb7d9" stroke="#5a4630" stroke-width="8"/>
<rect x="160" y="380" width="100" height="180" fill="#8a5a35"/>
</svg>
"""
# The window's centre is (560, 310): 0.7, 0.517; the door's (210, 470): 0.2625, 0.783.
HOTSPOT = {"id": "hs", "type": "hotspot", "image": "images/house.svg", "difficulty": 1,
           "prompt": t("地震时，屋里哪里最危险？点一点图片。",
                       "In an earthquake, which part of the house is most dangerous? Tap the picture."),
           "regions": [{"x": 0.2625, "y": 0.783, "r": 0.08}, {"x": 0.7, "y": 0.517, "r": 0.1}],
           "answer": [1],
           "explain": t("玻璃窗会被震碎，碎片伤人，所以要远离窗户。",
                        "Window glass can shatter and cut you, so keep away from windows.")}
ORDER = {"id": "od", "type": "order", "difficulty": 1,
         "prompt": t("按正确的顺序点一点：地震来了怎么做？", "Tap in the right order: what to do in a quake?"),
         "choices": [{"text": t("手抓牢", "Hold on")}, {"text": t("伏地", "Drop")},
                     {"text": t("遮挡", "Cover")}, {"text": t("摇晃停了再撤离", "Leave once the shaking stops")}],
         "answer": [1, 2, 0, 3],
         "explain": t("先伏地，再遮挡，然后手抓牢，摇晃停止后再撤离。",
                      "Drop first, then take cover and hold on; leave only once the shaking stops.")}


def make_pack(root):
    d = os.path.join(root, "quiz2")
    os.makedirs(os.path.join(d, "images"))
    os.makedirs(os.path.join(d, "topics"))
    with open(os.path.join(d, "images", "house.svg"), "w") as f:
        f.write(SVG)
    pack = {"format": 2, "id": "quiz2", "version": "1.0.0", "title": t("新题型", "New questions"),
            "audiences": ["youth", "other"], "topics": ["topics/house.json"]}
    topic = {"id": "house", "title": t("家里防震", "Quake-safe at home"),
             "summary": t("家里哪里安全，哪里危险。", "Where at home is safe, and where is not."),
             "cover": "images/house.svg", "references": ["中国地震局：地震应急避险"],
             "pages": [{"title": t("远离窗户", "Keep away from windows"),
                        "blocks": [{"type": "text", "text": t("地震时玻璃容易碎，要远离窗户。",
                                                              "Glass breaks in a quake: keep away from windows.")}]}],
             "quiz": {"questions": [HOTSPOT, ORDER]}}
    with open(os.path.join(d, "pack.json"), "w") as f:
        json.dump(pack, f, ensure_ascii=False)
    with open(os.path.join(d, "topics", "house.json"), "w") as f:
        json.dump(topic, f, ensure_ascii=False)
    return root


def greenish(p):
    r, g, b = p[:3]
    return g > r + 50 and g > b + 30


def min_target(size):
    """ui_min_target: 96 design px scaled to the screen, never under 72 (a fingertip)."""
    w, h = size
    scale = min(w / 1920, h / 1080) if w >= h else min(w / 1080, h / 1920)
    return max(72, int(96 * scale + 0.5))


def screen_ok(k, tag):
    for p in check_targets(k.screen, min_target(k.size)):
        check(False, "%s: %s" % (tag, p))
    check(not k.screen["overflow"], "%s: text overflows: %s" % (tag, k.screen["overflow"]))
    check(not k.screen["shortened"], "%s: shortened: %s" % (tag, k.screen["shortened"]))


def shot(k, tag, name):
    path = os.path.join(OUT, tag, name + ".png")
    img = k.screenshot(path)
    screen_ok(k, "%s/%s" % (tag, name))
    return img


def circle_share(img, cx, cy, rad):
    """The share of points on the circle (cx, cy, rad) that are green."""
    pts = [(cx + rad * math.cos(a * math.pi / 36) - 4 * math.cos(a * math.pi / 36),
            cy + rad * math.sin(a * math.pi / 36) - 4 * math.sin(a * math.pi / 36)) for a in range(72)]
    pts = [(int(x), int(y)) for x, y in pts if 0 <= x < img.width and 0 <= y < img.height]
    return sum(1 for p in pts if greenish(img.getpixel(p))) / float(len(pts) or 1)


def answer_hotspot(k, tag, right, shots):
    q = k.screen["quiz"]
    check(q["type"] == "hotspot" and q["answered"] is False, "%s: hotspot state %s" % (tag, q))
    pic = k.target("hotspot-q/pic")
    if not check(pic is not None, "%s: no hotspot-q/pic target" % tag):
        return None
    x, y, w, h = pic["rect"]
    check(abs(w / h - 800 / 600) < 0.02, "%s: the picture is %dx%d, not 4:3" % (tag, w, h))
    check(w >= k.size[0] * 0.5 or h >= k.size[1] * 0.4, "%s: the picture is small: %dx%d" % (tag, w, h))
    check(q["right"] == [1] and len(q["regions"]) == 2, "%s: regions %s right %s" % (tag, q["regions"], q["right"]))
    if shots:
        shot(k, tag, "hotspot-question")
    # right: inside the window; wrong: the roof, in no region.
    fx, fy = (0.72, 0.5) if right else (0.5, 0.15)
    k.send({"advance_ms": 1200})
    k.send({"tap": [int(x + fx * w), int(y + fy * h)]})
    f = k.screen["quiz"]
    check(f["phase"] == "feedback" and f["answered"] is True and f["correct"] == right,
          "%s: after the hotspot tap: %s" % (tag, f))
    check(abs(f["tap"][0] - fx) < 0.01 and abs(f["tap"][1] - fy) < 0.01, "%s: tap recorded at %s" % (tag, f.get("tap")))
    check(f["chosen"] == ([1] if right else []), "%s: regions hit %s" % (tag, f["chosen"]))
    check(k.target("hotspot-q/pic") is None, "%s: the picture still answers" % tag)
    img = shot(k, tag, "hotspot-%s" % ("right" if right else "wrong"))
    px, py, pw, ph = f["picture"]
    g = circle_share(img, px + 0.7 * pw, py + 0.517 * ph, 0.1 * pw)
    check(g > 0.8, "%s: the right region's circle is not drawn (%.2f green)" % (tag, g))
    g0 = circle_share(img, px + 0.2625 * pw, py + 0.783 * ph, 0.08 * pw)
    check(g0 < 0.2, "%s: the wrong region is circled too (%.2f)" % (tag, g0))
    check(k.target("quiz/next") or k.target("quiz/results"), "%s: no way on" % tag)
    return ("hs", [1] if right else [], right)


def answer_order(k, tag, right, shots):
    q = k.screen["quiz"]
    n = len(q["original"])
    check(q["type"] == "order" and q["order"] == [] and q["answered"] is False, "%s: order state %s" % (tag, q))
    check(sorted(k.ids("order/")) == sorted(["order/%d" % i for i in range(n)] ),
          "%s: order targets %s" % (tag, k.ids("order/")))
    check(k.target("order/undo") is None, "%s: undo offered before a tap" % tag)
    seq = list(q["right_order"])
    check([q["original"][s] for s in seq] == ORDER["answer"], "%s: right_order %s" % (tag, seq))
    if not right:
        seq[0], seq[1] = seq[1], seq[0]
    if shots:
        shot(k, tag, "order-question")
    k.send({"advance_ms": 1500})
    k.tap_id("order/%d" % seq[0])
    k.tap_id("order/%d" % seq[2])  # a slip, taken back
    check(k.screen["quiz"]["order"] == [seq[0], seq[2]], "%s: placed %s" % (tag, k.screen["quiz"]["order"]))
    check(k.target("order/%d" % seq[0]) is None, "%s: a placed choice is still a target" % tag)
    if shots:
        shot(k, tag, "order-placed")
    k.tap_id("order/undo")
    check(k.screen["quiz"]["order"] == [seq[0]], "%s: undo left %s" % (tag, k.screen["quiz"]["order"]))
    for s in seq[1:]:
        k.tap_id("order/%d" % s)
    f = k.screen["quiz"]
    check(f["phase"] == "feedback" and f["answered"] and f["correct"] == right and f["order"] == seq,
          "%s: after placing all: %s" % (tag, f))
    check(not k.ids("order/"), "%s: order targets after the answer: %s" % (tag, k.ids("order/")))
    img = shot(k, tag, "order-%s" % ("right" if right else "wrong"))
    for pos, s in enumerate(f["right_order"]):
        x, y, w, h = f["rects"][s]
        p = img.getpixel((x + 6, y + h // 2))
        ok = right or pos >= 2
        check(greenish(p) == ok, "%s: choice %d (right place %d) coloured %s" % (tag, s, pos + 1, p))
    return ("od", [q["original"][s] for s in seq], right)


def session(lang, size, content):
    tag = "%s-%dx%d" % (lang, size[0], size[1])
    os.makedirs(os.path.join(OUT, tag), exist_ok=True)
    k = Kiosk(BUILD, content, size, extra_env={"KEPU_QUIZ_SEED": SEED})
    want = []
    try:
        k.tap_id("start")
        if lang == "en":
            k.tap_id("lang")
        k.tap_id("audience/youth")
        k.tap_id("large_text")
        check(k.screen["large_text"], "%s: large text is off" % tag)
        check(k.target("quiz/house") is not None, "%s: the topic offers no quiz" % tag)
        k.tap_id("quiz/house")
        for rnd, right in enumerate((True, False)):
            rtag = "%s %s" % (tag, "right" if right else "wrong")
            got = []
            for i in range(2):
                q = k.screen["quiz"]
                check(q["phase"] == "question" and q["index"] == i, "%s: question %d: %s" % (rtag, i, q))
                if q["type"] == "hotspot":
                    got.append(answer_hotspot(k, tag, right, rnd == 0))
                else:
                    got.append(answer_order(k, tag, right, rnd == 0))
                k.tap_id("quiz/results" if i == 1 else "quiz/next")
            check(sorted(a[0] for a in got if a) == ["hs", "od"], "%s: asked %s" % (rtag, got))
            res = k.screen["quiz"]
            check(res["phase"] == "result" and res["score"] == (2 if right else 0) and res["total"] == 2,
                  "%s: result %s" % (rtag, res))
            check(res["missed"] == ([] if right else [a[0] for a in got]), "%s: missed %s" % (rtag, res["missed"]))
            shot(k, tag, "result-%s" % ("right" if right else "wrong"))
            want += got
            if rnd == 0:
                k.tap_id("quiz/again")
    finally:
        code = k.quit()
    check(code == 0, "%s: kiosk exited with %s" % (tag, code))
    db = sqlite3.connect(os.path.join(k.state, "journal.db"))
    rows = [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    db.close()
    answers = [(e["question"], e["choice"], e["correct"]) for e in rows if e["type"] == "quiz_answer"]
    check(answers == [tuple(a) for a in want], "%s: quiz_answer events %s, expected %s" % (tag, answers, want))
    completes = [(e["score"], e["total"]) for e in rows if e["type"] == "quiz_complete"]
    check(completes == [(2, 2), (0, 2)], "%s: quiz_complete %s" % (tag, completes))
    shutil.rmtree(k.state, ignore_errors=True)


def main():
    content = make_pack(tempfile.mkdtemp(prefix="kk-quiz2-"))
    try:
        for lang in ("zh", "en"):
            for size in ((1920, 1080), (1080, 1920)):
                session(lang, size, content)
        session("en", (1280, 800), content)  # a small landscape panel
        session("zh", (3840, 2160), content)  # a 4K wall
    finally:
        shutil.rmtree(content, ignore_errors=True)
    print("quiz2: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
