"""The reader draws format 2's interactive blocks (issue 13): hotspots, compare, sequence and
steps, each on one screen, driven through the automation channel by their target ids at
1920x1080 and 1080x1920, in zh and en, with large text on, and with normal text at
1920x1080, 1080x1920, 1280x800 and 3840x2160. Checks that the screen line's
"blocks" state follows the taps and the compare handle's drag, that every target is at
least the minimum size and nothing overflows, that the pixels change between compare's
before and after and between sequence frames, and that each use is an interact event in
the journal. The test makes its own small pack with SVG pictures. Screenshots go to
$KK_BUILD_DIR/ui-shots/blocks-draw/.
"""
import json
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets  # noqa: E402
from blocks_pack import FRAMES, SPOTS, STEPS, make_pack  # noqa: E402

BUILD = os.environ["KK_BUILD_DIR"]
OUT = os.path.join(BUILD, "ui-shots", "blocks-draw")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def blocks(k):
    return k.screen.get("blocks") or []


def block(k, kind):
    for b in blocks(k):
        if b["type"] == kind:
            return b
    return None


def go_to(k, kind, tag):
    """Turns pages forward until a block of kind is on the screen."""
    for _ in range(20):
        if block(k, kind):
            return True
        if not k.target("page/next"):
            break
        k.tap_id("page/next")
    return check(False, "%s: no %s block on any screen" % (tag, kind))


def min_target(size):
    """ui_min_target: 96 px at the 1920x1080 (or 1080x1920) reference, never below 72."""
    w, h = size
    rw, rh = (1920.0, 1080.0) if w >= h else (1080.0, 1920.0)
    return max(72, int(96 * min(w / rw, h / rh) + 0.5))


def screen_ok(k, tag, what):
    bad = check_targets(k.screen, min_target(k.screen["size"]))
    check(not bad, "%s %s: targets: %s" % (tag, what, bad))
    check(not k.screen.get("overflow"), "%s %s: overflow %s" % (tag, what, k.screen.get("overflow")))


def differs(a, b, box=None):
    """Share of sampled pixels that differ between two screenshots."""
    if box:
        a, b = a.crop(box), b.crop(box)
    a, b = a.resize((a.width // 8, a.height // 8)), b.resize((b.width // 8, b.height // 8))
    pa, pb = list(a.getdata()), list(b.getdata())
    return sum(1 for x, y in zip(pa, pb) if sum(abs(p - q) for p, q in zip(x, y)) > 60) / len(pa)


def rect_of(k, tid):
    x, y, w, h = k.target(tid)["rect"]
    return x, y, w, h


def hotspots(k, tag, shot):
    check(go_to(k, "hotspots", tag), "")
    b = block(k, "hotspots")
    check(b and b["open"] is None and b["all"] is False, "%s: hotspots start closed: %s" % (tag, b))
    for sid, *_ in SPOTS:
        check(k.target("hotspot/" + sid) is not None, "%s: no marker hotspot/%s" % (tag, sid))
    for tid in ("hotspot/all", "hotspot/next", "hotspot/prev"):
        check(k.target(tid) is not None, "%s: no %s" % (tag, tid))
    screen_ok(k, tag, "hotspots")
    shot("hotspots")
    for sid, *_ in SPOTS:
        marker = rect_of(k, "hotspot/" + sid)
        k.tap_id("hotspot/" + sid)
        check(block(k, "hotspots")["open"] == sid, "%s: tapping %s opened %s" % (tag, sid, block(k, "hotspots")))
        card = k.target("hotspot/close")
        check(card is not None, "%s: no card for %s" % (tag, sid))
        if card:
            cx, cy, cw, ch = card["rect"]
            mx, my, mw, mh = marker
            check(cx >= mx + mw or cx + cw <= mx or cy >= my + mh or cy + ch <= my,
                  "%s: the card %s covers the marker %s of %s" % (tag, card["rect"], marker, sid))
        screen_ok(k, tag, "card " + sid)
        if sid == "retina":
            shot("hotspots-card")
        k.tap_id("hotspot/close")  # a marker under the card waits until it closes
        check(block(k, "hotspots")["open"] is None, "%s: the card of %s did not close" % (tag, sid))
    k.tap_id("hotspot/next")
    check(block(k, "hotspots")["open"] == SPOTS[0][0], "%s: next after the last spot: %s" % (tag, block(k, "hotspots")))
    k.tap_id("hotspot/prev")
    check(block(k, "hotspots")["open"] == SPOTS[-1][0], "%s: prev from the first: %s" % (tag, block(k, "hotspots")))
    k.tap_id("hotspot/close")
    check(block(k, "hotspots")["open"] is None, "%s: the card did not close" % tag)
    k.tap_id("hotspot/all")
    check(block(k, "hotspots")["all"] is True, "%s: show all labels: %s" % (tag, block(k, "hotspots")))
    screen_ok(k, tag, "all labels")
    shot("hotspots-all")
    # State survives a relayout: the language switches and back.
    k.tap_id("hotspot/lens")
    k.tap_id("lang")
    b = block(k, "hotspots")
    check(b and b["open"] == "lens" and b["all"], "%s: state lost on a language switch: %s" % (tag, b))
    k.tap_id("lang")
    k.tap_id("hotspot/all")


def compare(k, tag, shot):
    check(go_to(k, "compare", tag), "")
    check(block(k, "compare")["split"] == 0.5, "%s: the handle starts at %s" % (tag, block(k, "compare")))
    screen_ok(k, tag, "compare")
    mid = shot("compare")
    k.tap_id("compare/before")
    check(block(k, "compare")["split"] == 1.0, "%s: before: split %s" % (tag, block(k, "compare")))
    before = shot("compare-before")
    k.tap_id("compare/after")
    check(block(k, "compare")["split"] == 0.0, "%s: after: split %s" % (tag, block(k, "compare")))
    after = shot("compare-after")
    screen_ok(k, tag, "compare after")
    check(differs(before, after) > 0.15, "%s: before and after look the same (%.3f)" % (tag, differs(before, after)))
    check(differs(mid, after) > 0.05, "%s: the middle and after look the same" % tag)
    # With animations on, the handle slides: it is still moving right after the tap and
    # arrives once the clock has moved on.
    k.send({"animations": True})
    k.tap_id("compare/before")
    b = block(k, "compare")
    check(b["moving"] and b["split"] < 1.0, "%s: the handle jumped with animations on: %s" % (tag, b))
    k.send({"advance_ms": 1000})
    k.send({"state": True})
    b = block(k, "compare")
    check(not b["moving"] and b["split"] == 1.0, "%s: the handle did not arrive: %s" % (tag, b))
    k.send({"animations": False})
    k.tap_id("compare/after")
    # Drag the handle from the left edge to 3/4 of the picture: no page turns.
    page = k.screen["page"]
    hx, hy, hw, hh = rect_of(k, "compare/handle")
    k.send({"tap_id": "compare/before"})
    hx, hy, hw, hh = rect_of(k, "compare/handle")
    x1 = hx + hw // 2
    k.send({"tap_id": "compare/after"})
    hx, hy, hw, hh = rect_of(k, "compare/handle")
    x0 = hx + hw // 2  # the picture's left edge (split 0)
    width = x1 - x0
    y = hy + hh // 2
    k.send({"drag": [x0, y, x0 + width * 3 // 4, y, 12]})
    s = block(k, "compare")["split"]
    check(k.screen["page"] == page, "%s: dragging the handle turned the page" % tag)
    check(abs(s - 0.75) < 0.03, "%s: dragged to 3/4, split %s" % (tag, s))
    # A long leftward drag on the handle (a swipe's shape) still only moves the handle.
    k.send({"drag": [x0 + width * 3 // 4, y, x0 - 300, y, 4]})
    check(k.screen["page"] == page and block(k, "compare")["split"] == 0.0,
          "%s: a swipe on the handle: page %s, %s" % (tag, k.screen["page"], block(k, "compare")))


def sequence(k, tag, shot):
    check(go_to(k, "sequence", tag), "")
    b = block(k, "sequence")
    check(b["frame"] == 0 and b["frames"] == FRAMES, "%s: sequence starts %s" % (tag, b))
    for i in range(FRAMES):
        check(k.target("sequence/%d" % i) is not None, "%s: no stop sequence/%d" % (tag, i))
    screen_ok(k, tag, "sequence")
    first = shot("sequence")
    k.tap_id("sequence/next")
    check(block(k, "sequence")["frame"] == 1, "%s: next: %s" % (tag, block(k, "sequence")))
    second = shot("sequence-2")
    check(differs(first, second) > 0.05, "%s: sequence frames 1 and 2 look the same" % tag)
    k.tap_id("sequence/prev")
    check(block(k, "sequence")["frame"] == 0, "%s: prev: %s" % (tag, block(k, "sequence")))
    k.tap_id("sequence/prev")
    check(block(k, "sequence")["frame"] == 0, "%s: prev at the first frame moved" % tag)
    k.tap_id("sequence/%d" % (FRAMES - 1))
    check(block(k, "sequence")["frame"] == FRAMES - 1, "%s: stop %d: %s" % (tag, FRAMES - 1, block(k, "sequence")))
    screen_ok(k, tag, "sequence last")
    last = shot("sequence-last")
    check(differs(first, last) > 0.05, "%s: the first and last frames look the same" % tag)
    k.tap_id("sequence/next")
    check(block(k, "sequence")["frame"] == FRAMES - 1, "%s: next past the end moved" % tag)


def steps(k, tag, shot):
    check(go_to(k, "steps", tag), "")
    b = block(k, "steps")
    check(b["step"] == 0 and b["steps"] == STEPS and not b["all"], "%s: steps start %s" % (tag, b))
    screen_ok(k, tag, "steps")
    shot("steps")
    k.tap_id("steps/next")
    check(block(k, "steps")["step"] == 1, "%s: next: %s" % (tag, block(k, "steps")))
    screen_ok(k, tag, "steps 2")
    k.tap_id("steps/%d" % (STEPS - 1))
    check(block(k, "steps")["step"] == STEPS - 1, "%s: step %d: %s" % (tag, STEPS - 1, block(k, "steps")))
    k.tap_id("steps/next")
    check(block(k, "steps")["step"] == 0, "%s: next after the last starts again: %s" % (tag, block(k, "steps")))
    k.tap_id("steps/all")
    check(block(k, "steps")["all"] is True, "%s: show all: %s" % (tag, block(k, "steps")))
    for i in range(STEPS):
        check(k.target("steps/%d" % i) is not None, "%s: all steps: no steps/%d" % (tag, i))
    screen_ok(k, tag, "all steps")
    shot("steps-all")
    k.tap_id("steps/3")
    b = block(k, "steps")
    check(b["step"] == 3 and not b["all"], "%s: a step in the list: %s" % (tag, b))


def events(state):
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    try:
        return [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    finally:
        db.close()


def session(content, lang, size, large=True):
    tag = "%s-%dx%d%s" % (lang, size[0], size[1], "" if large else "-normal")
    os.makedirs(OUT, exist_ok=True)
    k = Kiosk(BUILD, content, size)
    shots = {}

    def shot(name):
        shots[name] = k.screenshot(os.path.join(OUT, "%s-%s.png" % (tag, name)))
        return shots[name]

    try:
        k.tap_id("start")
        if lang == "en":
            k.tap_id("lang")
        if large:
            k.tap_id("large_text")
        check(k.screen["large_text"] is large, "%s: large text is %s" % (tag, k.screen["large_text"]))
        k.tap_id("audience/youth")
        k.tap_id("topic/eye")
        check(k.screen["scene"] == "reader", "%s: topic led to %s" % (tag, k.screen["scene"]))
        hotspots(k, tag, shot)
        compare(k, tag, shot)
        sequence(k, tag, shot)
        steps(k, tag, shot)
        # A swipe away from the handle still turns the page (here: back to the sequence).
        w, h = k.screen["size"]
        page = k.screen["page"]
        k.send({"drag": [w // 4, h - 60, w * 3 // 4, h - 60, 6]})
        check(k.screen["page"] == page - 1, "%s: a swipe off the blocks did not turn back (page %s)"
              % (tag, k.screen["page"]))
        state = k.state
    finally:
        check(k.quit() == 0, "%s: kiosk did not exit cleanly" % tag)
    log = k.logtext()
    check("interactive blocks skipped" not in log, "%s: the kiosk still skips blocks" % tag)
    ev = [e for e in events(state) if e["type"] == "interact"]
    got = {(e["block"], e["action"], e.get("target")) for e in ev}
    for want in [("hotspots", "open", "retina"), ("hotspots", "all", None), ("hotspots", "close", "nerve"),
                 ("compare", "before", None), ("compare", "after", None), ("compare", "drag", None),
                 ("sequence", "next", "1"), ("sequence", "prev", "0"), ("sequence", "frame", str(FRAMES - 1)),
                 ("steps", "next", "1"), ("steps", "step", str(STEPS - 1)), ("steps", "all", None),
                 ("steps", "step", "3")]:
        check(want in got, "%s: no interact event %s in %s" % (tag, want, sorted(got, key=str)))
    check(all(e.get("topic") == "eye" and isinstance(e.get("page"), int) and e.get("pack") == "eye@2027.1.1"
              for e in ev), "%s: interact events lack topic/page/pack: %s" % (tag, ev[:2]))
    pages = {e["block"]: e["page"] for e in ev}
    check(pages == {"hotspots": 0, "compare": 1, "sequence": 2, "steps": 3},
          "%s: interact pages %s" % (tag, pages))


def main():
    content = make_pack()
    for lang, size in (("zh", (1920, 1080)), ("en", (1920, 1080)), ("zh", (1080, 1920)),
                       ("en", (1080, 1920)), ("en", (1280, 800)), ("zh", (3840, 2160))):
        session(content, lang, size)
    for lang, size in (("en", (1920, 1080)), ("zh", (1080, 1920)), ("zh", (1280, 800)),
                       ("en", (3840, 2160))):
        session(content, lang, size, large=False)
    shutil.rmtree(content)
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


main()
