"""The visitor's walk, through the real kiosk (issue 2's UI test).

attract -> audience -> menu -> a topic -> every page -> back -> idle reset, in zh and en,
at 1920x1080 and 1080x1920. Asserts the scene sequence, that every target is big enough
and fully on screen, that no text overflows, that screenshots show text and pictures,
and that the journal recorded the visit.
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets, ink_fraction, distinct_colours  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
CONTENT = os.path.join(SRC, "content")
OUT = os.path.join(BUILD, "ui-shots")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def look(k, name, tag):
    """Screenshot, and check it shows text and pictures rather than a blank rectangle."""
    path = os.path.join(OUT, tag, name + ".png")
    img = k.screenshot(path)
    check(img.size == tuple(k.size), "%s/%s: screenshot is %s, not %s" % (tag, name, img.size, k.size))
    check(distinct_colours(img) > 40, "%s/%s: screenshot looks blank" % (tag, name))
    check(ink_fraction(img) > 0.004, "%s/%s: no text or drawing visible" % (tag, name))
    # 96 px at 1080p, scaled with the screen, never below 72 px (a fingertip).
    w, h = k.size
    scale = min(w / 1920, h / 1080) if w >= h else min(w / 1080, h / 1920)
    for p in check_targets(k.screen, max(72, int(96 * scale))):
        check(False, "%s/%s: %s" % (tag, name, p))
    check(not k.screen["overflow"], "%s/%s: text overflows: %s" % (tag, name, k.screen["overflow"]))
    # Only a menu card's summary may be shortened, by design (docs/automation.md).
    check(k.screen["scene"] == "menu" or not k.screen["shortened"],
          "%s/%s: shortened on the %s screen: %s" % (tag, name, k.screen["scene"], k.screen["shortened"]))
    return img


def walk(lang, size):
    tag = "%s-%dx%d" % (lang, size[0], size[1])
    os.makedirs(os.path.join(OUT, tag), exist_ok=True)
    k = Kiosk(BUILD, CONTENT, size)
    try:
        check(k.screen["scene"] == "attract", "%s: starts on %s" % (tag, k.screen["scene"]))
        look(k, "01-attract", tag)
        k.tap_id("start")
        check(k.screen["scene"] == "audience", "%s: start led to %s" % (tag, k.screen["scene"]))
        if lang == "en":
            k.tap_id("lang")
        check(k.screen["lang"] == lang, "%s: language is %s" % (tag, k.screen["lang"]))
        groups = k.ids("audience/")
        check(len(groups) == 6, "%s: %d audience choices, not 6" % (tag, len(groups)))
        look(k, "02-audience", tag)

        k.tap_id("audience/youth")
        check(k.screen["scene"] == "menu", "%s: picking youth led to %s" % (tag, k.screen["scene"]))
        check(k.screen.get("audience") == "youth", "%s: audience not recorded on screen" % tag)
        topics = k.ids("topic/")
        check(len(topics) >= 2, "%s: menu shows %d topics" % (tag, len(topics)))
        look(k, "03-menu", tag)

        k.tap_id("topic/earthquake")
        check(k.screen["scene"] == "reader", "%s: topic led to %s" % (tag, k.screen["scene"]))
        screens = k.screen["screens"]
        pages_seen = set()
        for i in range(screens):
            check(k.screen["screen"] == i, "%s: expected screen %d, on %s" % (tag, i, k.screen["screen"]))
            pages_seen.add(k.screen["page"])
            look(k, "04-reader-%02d" % i, tag)
            if i + 1 < screens:
                if i % 2:
                    k.tap_id("page/next")
                else:  # a swipe to the left turns the page as well
                    w, h = size
                    k.send({"swipe": [w * 3 // 4, h // 2, w // 4, h // 2]})
        check(k.target("page/next") is None, "%s: last screen still offers next" % tag)
        check(k.target("quiz/start") or k.target("reader/done"), "%s: last screen has no way on" % tag)
        check(len(pages_seen) >= 4, "%s: saw pages %s" % (tag, sorted(pages_seen)))
        # Back through one page by swiping right, then leave with the back button.
        if screens > 1:
            w, h = size
            k.send({"swipe": [w // 4, h // 2, w * 3 // 4, h // 2]})
            check(k.screen["screen"] == screens - 2, "%s: swipe right did not go back" % tag)
        k.tap_id("large_text")
        check(k.screen["large_text"], "%s: large text did not switch on" % tag)
        look(k, "05-reader-large", tag)
        k.tap_id("nav/back")
        check(k.screen["scene"] == "menu", "%s: back led to %s" % (tag, k.screen["scene"]))

        # The visitor walks away.
        k.send({"advance_ms": 61000})
        check(k.screen["idle_prompt"], "%s: no 'still there?' after 61 s" % tag)
        check(k.ids() == ["idle/continue"], "%s: idle prompt targets %s" % (tag, k.ids()))
        look(k, "06-still-there", tag)
        k.send({"advance_ms": 16000})
        check(k.screen["scene"] == "attract", "%s: idle led to %s" % (tag, k.screen["scene"]))
    finally:
        code = k.quit()
    check(code == 0, "%s: kiosk exited with %s" % (tag, code))

    seen = [s for i, s in enumerate(k.screens_seen) if i == 0 or s != k.screens_seen[i - 1]]
    want = ["attract", "audience", "menu", "reader", "menu", "attract"]
    check(seen == want, "%s: scenes %s, expected %s" % (tag, seen, want))

    db = sqlite3.connect(os.path.join(k.state, "journal.db"))
    types = [r[0] for r in db.execute("select json_extract(json,'$.type') from events order by seq")]
    for t in ["boot", "session_start", "audience", "page_view", "session_end", "idle_reset"]:
        check(t in types, "%s: no %s event in the journal (%s)" % (tag, t, types))
    if lang == "en":
        check("language" in types, "%s: language switch not recorded" % tag)
    views = [r[0] for r in db.execute(
        "select json_extract(json,'$.page') from events where json_extract(json,'$.type')='page_view'")]
    check(len(set(views)) >= 4, "%s: page views for pages %s" % (tag, views))
    end = db.execute("select json_extract(json,'$.reason') from events "
                     "where json_extract(json,'$.type')='session_end'").fetchone()
    check(end and end[0] == "idle", "%s: session_end reason %s" % (tag, end))
    ids = [r[0] for r in db.execute("select id from events")]
    check(len(ids) == len(set(ids)) and all(len(i) == 32 for i in ids), "%s: bad event ids" % tag)
    db.close()


def main():
    start = time.time()
    for lang in ("zh", "en"):
        for size in ((1920, 1080), (1080, 1920)):
            walk(lang, size)
    # Other screens the kiosks have: a small tablet-like panel and 4K.
    walk("zh", (1280, 800))
    walk("en", (3840, 2160))
    print("walk: %d checks failed, %.1f s" % (len(failures), time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
