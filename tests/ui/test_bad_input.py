"""Bad input against the real kiosk (issue 2): every case gives a clear log line, and the
app stays up and usable.

Cases: an empty and a missing content folder; packs with a missing or malformed pack.json,
wrong JSON types, an unknown block type (refused, like the others), a missing image, a PNG
whose header claims 100000x100000 pixels, invalid UTF-8, a picture whose body is corrupt; an unusable state
folder; a font that cannot be opened; no Chinese font at all; garbage on the automation
channel.
"""
import os
import shutil
import struct
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, ink_fraction, distinct_colours, KioskError  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
GOOD = os.path.join(SRC, "content", "safety-and-health")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def png_header(w, h):
    """A PNG signature and IHDR chunk declaring w x h pixels (no image data)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def make_pack(root, name, mutate):
    """Copies the good sample pack under root/name and lets mutate(dir) break it."""
    d = os.path.join(root, name)
    shutil.copytree(GOOD, d)
    mutate(d)
    return d


def rewrite(path, old, new):
    with open(path, "rb") as f:
        data = f.read()
    assert old in data, (path, old)
    with open(path, "wb") as f:
        f.write(data.replace(old, new, 1))


def pack_json(d):
    return os.path.join(d, "pack.json")


def topic_json(d):
    return os.path.join(d, "topics", "earthquake.json")


def start_and_walk(k, tag, expect_scene="attract"):
    check(k.screen["scene"] == expect_scene, "%s: starts on %s" % (tag, k.screen["scene"]))
    img = k.screenshot(os.path.join(tempfile.mkdtemp(prefix="kk-shot-"), "first.png"))
    check(distinct_colours(img) > 10 and ink_fraction(img) > 0.003,
          "%s: first screen looks blank" % tag)


def test_empty_and_missing_content():
    for tag, content in (("empty-folder", tempfile.mkdtemp()), ("missing-folder", "/nonexistent/kepu")):
        k = Kiosk(BUILD, content)
        try:
            start_and_walk(k, tag, "empty")
            k.send({"tap": [100, 100]})  # touching does no harm
            check(k.screen["scene"] == "empty", "%s: tap left the empty screen" % tag)
        finally:
            check(k.quit() == 0, "%s: kiosk did not exit cleanly" % tag)
        check("showing" in k.logtext() and "Content is being updated" in k.logtext(),
              "%s: no log line says why the kiosk shows no content" % tag)


def test_broken_packs_are_skipped():
    root = tempfile.mkdtemp(prefix="kk-bad-")
    shutil.copytree(GOOD, os.path.join(root, "a-good"))
    make_pack(root, "b-no-pack-json", lambda d: os.remove(pack_json(d)))
    make_pack(root, "c-malformed", lambda d: rewrite(pack_json(d), b'"format"', b'"format" oops'))
    make_pack(root, "d-wrong-type", lambda d: rewrite(pack_json(d), b'"format": 1', b'"format": "one"'))
    make_pack(root, "e-bad-utf8", lambda d: rewrite(topic_json(d), "地震".encode(), b"\xc3\x28"))

    def missing_image(d):
        os.remove(os.path.join(d, "images", "earthquake-cover.svg"))
    make_pack(root, "f-missing-image", missing_image)

    def huge_png(d):
        with open(os.path.join(d, "images", "huge.png"), "wb") as f:
            f.write(png_header(100000, 100000))
        rewrite(topic_json(d), b"images/earthquake-cover.svg", b"images/huge.png")
    make_pack(root, "g-huge-png", huge_png)

    def unknown_block(d):
        rewrite(topic_json(d), b'"type": "fact"', b'"type": "hologram"')
    make_pack(root, "h-unknown-block", unknown_block)
    for d in os.listdir(root):  # distinct ids so the duplicate rule does not hide a case
        if d != "a-good" and os.path.exists(pack_json(os.path.join(root, d))):
            try:
                rewrite(pack_json(os.path.join(root, d)), b'"safety-and-health"', ('"x-%s"' % d[0]).encode())
            except AssertionError:
                pass

    k = Kiosk(BUILD, root)
    try:
        start_and_walk(k, "broken-packs")
        k.tap_id("start")
        k.tap_id("audience/other")
        topics = k.ids("topic/")
        check(topics, "broken-packs: the good pack's topics are missing: %s" % topics)
        k.tap_id(topics[0])
        check(k.screen["scene"] == "reader", "broken-packs: cannot read the good pack")
    finally:
        check(k.quit() == 0, "broken-packs: kiosk did not exit cleanly")
    log = k.logtext()
    skipped = [l for l in log.splitlines() if "pack skipped" in l]
    for name, words in (("b-no-pack-json", "pack.json"), ("c-malformed", "line"),
                        ("d-wrong-type", "format"), ("e-bad-utf8", "UTF-8"),
                        ("f-missing-image", "earthquake-cover.svg"), ("g-huge-png", "100000"),
                        ("h-unknown-block", "unknown block type \"hologram\"")):
        lines = [l for l in skipped if name in l]
        check(len(lines) == 1, "broken-packs: %d log lines for %s" % (len(lines), name))
        check(lines and words in lines[0], "broken-packs: the line for %s does not name %r: %s"
              % (name, words, lines))


def test_corrupt_picture_body_shows_placeholder():
    root = tempfile.mkdtemp(prefix="kk-corrupt-")
    d = os.path.join(root, "p")
    shutil.copytree(GOOD, d)
    # A cover whose header is a fine 800x600 PNG but whose body is noise.
    with open(os.path.join(d, "images", "noise.png"), "wb") as f:
        f.write(png_header(800, 600) + os.urandom(4000))
    rewrite(topic_json(d), b"images/earthquake-cover.svg", b"images/noise.png")
    k = Kiosk(BUILD, root)
    try:
        for _ in range(3):  # the attract screen shows each cover in turn
            k.send({"advance_ms": 6100})
            k.screenshot(os.path.join(k.state, "attract.png"))
        k.tap_id("start")
        k.tap_id("audience/youth")
        img = k.screenshot(os.path.join(k.state, "menu.png"))
        check(ink_fraction(img) > 0.003, "corrupt-picture: the menu looks blank")
    finally:
        check(k.quit() == 0, "corrupt-picture: kiosk did not exit cleanly")
    lines = [l for l in k.logtext().splitlines() if "noise.png" in l]
    check(len(lines) == 1, "corrupt-picture: expected one log line for noise.png, got %d" % len(lines))


def test_unusable_state_and_fonts():
    state_file = tempfile.mktemp()
    with open(state_file, "w") as f:
        f.write("not a folder")
    cases = [
        ("state-is-a-file", {}, state_file, "journal"),
        ("font-missing", {"KEPU_FONT": "/nonexistent/font.ttf"}, None, "KEPU_FONT"),
    ]
    conf_dir = tempfile.mkdtemp()
    with open(os.path.join(conf_dir, "fonts.conf"), "w") as f:
        f.write('<?xml version="1.0"?><fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir>'
                '<cachedir>%s</cachedir></fontconfig>' % conf_dir)
    if os.path.isdir("/usr/share/fonts/truetype/dejavu"):
        cases.append(("no-chinese-font", {"FONTCONFIG_FILE": os.path.join(conf_dir, "fonts.conf")},
                      None, "Chinese"))
    for tag, env, state, word in cases:
        k = Kiosk(BUILD, os.path.join(SRC, "content"), state=state, extra_env=env)
        try:
            start_and_walk(k, tag)
            k.tap_id("start")
            check(k.screen["scene"] == "audience", "%s: the kiosk is not usable" % tag)
        finally:
            check(k.quit() == 0, "%s: kiosk did not exit cleanly" % tag)
        check(any(word in l and ("error" in l or "warn" in l) for l in k.logtext().splitlines()),
              "%s: no log line mentions %s" % (tag, word))


def test_automation_garbage():
    k = Kiosk(BUILD, os.path.join(SRC, "content"))
    try:
        for bad in ["not json", "[1,2]", '{"tap":"x"}', '{"tap_id":"no/such"}', '{"swipe":[1]}',
                    '{"advance_ms":-5}', '{"launch":"rockets"}', "{" * 5000]:
            k.proc.stdin.write(bad + "\n")
            k.proc.stdin.flush()
            while True:
                msg = k._line()
                if "ok" in msg:
                    break
            check(msg["ok"] is False and msg.get("error"), "automation: %r was accepted" % bad)
        # A line over the 64 KiB limit gets no reply at all (it is skipped whole, never held
        # in memory), and the next line is read as usual.
        k.proc.stdin.write('{"tap_id":"' + "x" * 300000 + '"}\n{"key":""}\n')
        k.proc.stdin.flush()
        while True:
            msg = k._line()
            if "ok" in msg:
                break
        check(msg.get("error") == "key: expected a key name",
              "automation: after an over-long line the next reply is %r" % msg)
        k.tap_id("start")
        check(k.screen["scene"] == "audience", "automation: kiosk unusable after garbage")
    finally:
        check(k.quit() == 0, "automation: kiosk did not exit cleanly")


def main():
    for t in (test_empty_and_missing_content, test_broken_packs_are_skipped,
              test_corrupt_picture_body_shows_placeholder, test_unusable_state_and_fonts,
              test_automation_garbage):
        try:
            t()
        except KioskError as e:
            check(False, "%s: %s" % (t.__name__, e))
    print("bad input: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
