"""The kiosk's memory over the whole sample content (issue 13): prints figures, asserts
nothing about them.

One kiosk walks every topic of content/ (the "other" audience, which is offered every
topic): from the menu into each topic, every screen of it, every state of every interactive
block on it (each hotspot opened, next/previous, labels on and off; both compare ends and a
drag of the handle; every sequence frame; every step and the list of all steps), then the
topic's quiz (each question answered, the result screen), and back to the menu. Prints per
topic RSS and peak RSS, then:

  peak RSS         VmHWM of the kiosk at the end of the walk
  RSS at the end   VmRSS, and where it is (/proc/PID/smaps: heap, other anonymous memory,
                   thread stacks, shared memory (the X window's picture), files)
  caches           the text and image caches' entries and bytes ({"caches":true})
  after dropping   RSS once both caches are emptied ({"caches":"drop"})

Run: KK_BUILD_DIR=build KK_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 1920x1080x24" \
       /usr/bin/python3 tests/bench/walk_kiosk.py [WxH] [--no-quiz]
(scripts/bench.sh runs it after tests/bench/bench_kiosk.py.)
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from bench_kiosk import cpu_seconds, status_kb  # noqa: E402
from kiosk import Kiosk  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))


def rss_by_kind(pid):
    """Resident kB per kind of mapping, from /proc/PID/smaps."""
    kinds = {}
    name, kind = "", "anon"
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else ""
                if name == "[heap]":
                    kind = "heap"
                elif name.startswith("[stack"):
                    kind = "stack"
                elif name.startswith("/SYSV") or name.startswith("/dev/shm") or "(deleted)" in line:
                    kind = "shared"
                elif name.startswith("/"):
                    kind = "fonts" if "/fonts/" in name else "files"
                else:
                    kind = "anon"
            elif line.startswith("Rss:"):
                kinds[kind] = kinds.get(kind, 0) + int(head[1])
    return kinds


class Walk:
    def __init__(self, k):
        self.k = k
        self.screens = 0
        self.states = 0
        self.questions = 0

    def tap(self, target):
        self.k.tap_id(target)
        self.states += 1

    def blocks(self):
        """Every state of every interactive block on the screen shown."""
        k = self.k
        for b in list(k.screen.get("blocks", [])):
            t = b["type"]
            if t == "hotspots":
                spots = [i for i in k.ids("hotspot/") if i not in
                         ("hotspot/all", "hotspot/prev", "hotspot/next", "hotspot/close")]
                for s in spots:
                    if k.target(s):
                        self.tap(s)
                for _ in range(b.get("spots", 0)):
                    self.tap("hotspot/next")
                self.tap("hotspot/prev")
                if k.target("hotspot/close"):
                    self.tap("hotspot/close")
                self.tap("hotspot/all")
                self.tap("hotspot/all")
            elif t == "compare":
                self.tap("compare/after")
                self.tap("compare/before")
                h = k.target("compare/handle")
                if h:
                    x, y, w, hh = h["rect"]
                    cx, cy = x + w // 2, y + hh // 2
                    k.send({"drag": [cx, cy, cx - k.size[0] // 3, cy, 12]})
                    self.states += 1
            elif t == "sequence":
                for i in range(b["frames"]):
                    self.tap("sequence/%d" % i)
                self.tap("sequence/prev")
                self.tap("sequence/0")
            elif t == "steps":
                for i in range(b["steps"]):
                    self.tap("steps/%d" % i)
                self.tap("steps/all")
                self.tap("steps/all")
                self.tap("steps/0")

    def quiz(self):
        """Answers every question of the quiz on screen (the first choice, or the order
        shown, or the picture's centre), then the result screen, and back to the menu."""
        k = self.k
        for _ in range(20):
            q = k.screen.get("quiz") or {}
            if q.get("phase") == "result":
                break
            if q.get("phase") == "question":
                self.questions += 1
                if k.target("hotspot-q/pic"):
                    k.send({"advance_ms": 1200})
                    self.tap("hotspot-q/pic")
                elif k.ids("order/"):
                    while [i for i in k.ids("order/") if i != "order/undo"]:
                        self.tap([i for i in k.ids("order/") if i != "order/undo"][0])
                else:
                    self.tap(k.ids("choice/")[0])
                    if k.target("quiz/confirm"):
                        self.tap("quiz/confirm")
            elif k.target("quiz/results"):
                self.tap("quiz/results")
            elif k.target("quiz/next"):
                self.tap("quiz/next")
            else:
                break
        self.tap("quiz/menu")

    def topic(self, tid, quiz):
        k = self.k
        k.tap_id(tid)
        while True:
            self.screens += 1
            self.blocks()
            if not k.target("page/next"):
                break
            k.tap_id("page/next")
        if quiz and k.target("quiz/start"):
            self.tap("quiz/start")
            self.quiz()
        else:
            k.tap_id("nav/back")
        if k.screen["scene"] != "menu":
            k.tap_id("nav/back")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quiz = "--no-quiz" not in sys.argv
    size = tuple(int(v) for v in (args[0] if args else "1920x1080").split("x"))
    content = os.path.join(SRC, "content")
    t0 = time.monotonic()
    k = Kiosk(BUILD, content, size)
    pid = k.proc.pid
    w = Walk(k)
    print("kepu-kiosk whole-content walk, %dx%d, software renderer, SDL video driver %s%s"
          % (size + (os.environ.get("KK_VIDEODRIVER", "offscreen"), "" if quiz else ", no quiz")))
    print("at start: RSS %.1f MB" % (status_kb(pid, "VmRSS") / 1024))
    try:
        k.tap_id("start")
        k.tap_id("audience/other")
        seen = []
        while True:
            new = [i for i in k.ids("topic/") if i.count("/") == 1 and i not in seen]
            if not new:
                if k.target("menu/next"):
                    k.tap_id("menu/next")
                    continue
                break
            seen.append(new[0])
            s0, q0 = w.screens, w.questions
            w.topic(new[0], quiz)
            print("  %-32s %2d screens %2d questions  RSS %6.1f MB  peak %6.1f MB"
                  % (new[0][6:], w.screens - s0, w.questions - q0,
                     status_kb(pid, "VmRSS") / 1024, status_kb(pid, "VmHWM") / 1024))
            while k.target("menu/prev"):
                k.tap_id("menu/prev")
        hwm, rss = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
        cpu = cpu_seconds(pid)
        kinds = rss_by_kind(pid)
        c = k.send({"caches": True})
        d = k.send({"caches": "drop"})
        time.sleep(0.2)
        dropped = status_kb(pid, "VmRSS")
    finally:
        k.quit()
    print("walked %d topics, %d screens, %d block states and taps, %d questions in %.1f s "
          "(kiosk CPU %.2f s)" % (len(seen), w.screens, w.states, w.questions,
                                  time.monotonic() - t0, cpu))
    print("peak RSS (VmHWM): %.1f MB" % (hwm / 1024))
    print("RSS at the end: %.1f MB (%s)" % (rss / 1024, ", ".join(
        "%s %.1f" % (n, v / 1024) for n, v in sorted(kinds.items(), key=lambda kv: -kv[1]))))
    print("caches: text %d entries %.1f MB (hits %s, misses %s), pictures %d entries %.1f MB "
          "(hits %s, misses %s, failed %d); fonts %s open (%s opened, %s size changes)"
          % (c["text_entries"], c["text_bytes"] / 1048576, c.get("text_hits", "?"),
             c.get("text_misses", "?"), c["image_entries"], c["image_bytes"] / 1048576,
             c.get("image_hits", "?"), c.get("image_misses", "?"), c["image_failed"],
             c.get("fonts_open", "?"), c.get("font_opens", "?"), c.get("font_resizes", "?")))
    print("RSS after emptying the caches: %.1f MB (%d text, %d picture entries left)"
          % (dropped / 1024, d["text_entries"], d["image_entries"]))


if __name__ == "__main__":
    main()
