"""Kiosk benchmark (issue 2): prints figures, asserts nothing about time.

  start to first frame     wall time from exec to the first screen on the channel
  page turn p50 / p99      draw + present time of every frame of 50 animated page turns
  compare drag p50 / p99    frames while the compare handle is dragged back and forth
  sequence switch p50/p99  frames while a sequence block steps through its frames
  peak RSS                 VmHWM of the kiosk after the run
  idle CPU                 CPU time used over 10 s on the attract screen

Run: scripts/bench.sh [WxH]   (software renderer, under Xvfb)
"""
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from kiosk import Kiosk  # noqa: E402
from blocks_pack import FRAMES, make_pack  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def stalled_server():
    """A server that accepts connections and never answers (issue 6): returns its URL."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held = []

    def accept():
        while True:
            conn, _ = srv.accept()
            held.append(conn)  # keep it open, say nothing
    threading.Thread(target=accept, daemon=True).start()
    return "http://127.0.0.1:%d" % srv.getsockname()[1]


def page_turns(size, config=None, turns=50):
    """Frame times of animated page turns; returns the frame_stats reply and CPU seconds."""
    k = Kiosk(BUILD, os.path.join(SRC, "content"), size, config=config)
    pid = k.proc.pid
    k.tap_id("start")
    k.tap_id("audience/other")
    k.tap_id([t for t in k.ids("topic/") if t.count("/") == 1][0])
    k.send({"animations": True})
    screens = k.screen["screens"]
    time.sleep(2.0)  # with a stalled server, sync is now stuck in a request
    k.send({"frame_stats": True})  # reset
    c0 = cpu_seconds(pid)
    for i in range(turns):
        forward = (i // (screens - 1)) % 2 == 0 if screens > 1 else True
        k.send({"key": "Right" if forward else "Left"})
        time.sleep(0.35)  # let the 220 ms slide run at the display's rate
    cpu = cpu_seconds(pid) - c0
    st = k.send({"frame_stats": True})
    rss = status_kb(pid, "VmHWM")
    k.quit()
    return st, cpu, rss


def block_frames(size, drags=40, steps=12):
    """Frame times while the compare handle is dragged (drags x steps frames, each step a
    finger move and a frame, as on a touch screen) and while a sequence switches frames
    (every stop, then back, each switch one frame), in the test pack of the blocks."""
    content = make_pack()
    k = Kiosk(BUILD, content, size)
    try:
        k.tap_id("start")
        k.tap_id("audience/youth")
        k.tap_id("topic/eye")
        while not any(b["type"] == "compare" for b in k.screen.get("blocks", [])):
            k.tap_id("page/next")
        k.tap_id("compare/after")
        x, y, w, h = k.target("compare/handle")["rect"]
        left = x + w // 2
        k.tap_id("compare/before")
        x, y, w, h = k.target("compare/handle")["rect"]
        right, mid = x + w // 2, y + h // 2
        k.send({"frame_stats": True})  # reset
        for i in range(drags):
            a, b = (right, left) if i % 2 == 0 else (left, right)
            k.send({"drag": [a, mid, b, mid, steps]})
        drag = k.send({"frame_stats": True})
        while not any(b["type"] == "sequence" for b in k.screen.get("blocks", [])):
            k.tap_id("page/next")
        k.send({"frame_stats": True})
        switches = 0
        for _ in range(3):
            for i in list(range(1, FRAMES)) + list(range(FRAMES - 2, -1, -1)):
                k.tap_id("sequence/%d" % i)
                switches += 1
        seq = k.send({"frame_stats": True})
    finally:
        k.quit()
        shutil.rmtree(content, ignore_errors=True)
    return drag, drags * steps, seq, switches


def main():
    size = tuple(int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1920x1080").split("x"))
    starts = []
    for _ in range(5):
        t0 = time.monotonic()
        k = Kiosk(BUILD, os.path.join(SRC, "content"), size)
        starts.append((time.monotonic() - t0) * 1000)
        k.quit()
    starts.sort()

    k = Kiosk(BUILD, os.path.join(SRC, "content"), size)
    pid = k.proc.pid
    # Idle on the attract screen.
    time.sleep(1.0)
    c0 = cpu_seconds(pid)
    time.sleep(10.0)
    idle = (cpu_seconds(pid) - c0) / 10.0 * 100

    k.quit()
    st, turn_cpu, rss = page_turns(size)
    turns = 50

    # The same with the server stalled: sync sits in a request that never ends.
    work = tempfile.mkdtemp(prefix="kk-bench-")
    conf = os.path.join(work, "kiosk.conf")
    with open(os.path.join(work, "token"), "w") as f:
        f.write("x" * 32)
    with open(conf, "w") as f:
        f.write("server_url = %s\ntoken_file = %s/token\nsync_interval_s = 10\n" % (stalled_server(), work))
    st2, cpu2, _ = page_turns(size, conf)
    drag, moves, seq, switches = block_frames(size)

    print("kepu-kiosk benchmark, %dx%d, software renderer, SDL video driver %s"
          % (size + (os.environ.get("KK_VIDEODRIVER", "offscreen"),)))
    print("start to first frame: median %.0f ms (min %.0f, max %.0f, 5 runs)"
          % (starts[2], starts[0], starts[-1]))
    print("page turn: %d turns, %d frames, p50 %.2f ms, p99 %.2f ms, max %.2f ms, CPU %.2f s"
          % (turns, st["frames"], st["p50_us"] / 1000, st["p99_us"] / 1000,
             st["max_us"] / 1000, turn_cpu))
    print("page turn, server stalled: %d frames, p50 %.2f ms, p99 %.2f ms, max %.2f ms, CPU %.2f s"
          % (st2["frames"], st2["p50_us"] / 1000, st2["p99_us"] / 1000, st2["max_us"] / 1000, cpu2))
    print("compare handle drag: %d moves, %d frames, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (moves, drag["frames"], drag["p50_us"] / 1000, drag["p99_us"] / 1000,
             drag["max_us"] / 1000))
    print("sequence frame switch: %d switches, %d frames, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (switches, seq["frames"], seq["p50_us"] / 1000, seq["p99_us"] / 1000,
             seq["max_us"] / 1000))
    print("peak RSS (reading one topic): %.1f MB" % (rss / 1024))
    print("idle CPU on the attract screen: %.2f%% of a core over 10 s" % idle)


if __name__ == "__main__":
    main()
