"""Server soak (issue 11): kepu-server under mixed load for a while; prints figures.

  tests/bench/soak_server.py [--minutes N] [--kiosks N] [--rate EVENTS_PER_S] [--sample S]

Starts the real `kepu-server serve` on 127.0.0.1 (a free port) with a new temporary data
folder (a city of 4 venues and --kiosks kiosks, an office user, a staff user, the sample
packs signed with a new key the server trusts) and then, for --minutes (default 30), at once:
  - event ingest: every kiosk posts batches of 50 valid visitor events (about --rate events
    a second in all, default 200), each batch checked: all accepted, none doubled;
  - heartbeats: every kiosk every 2 s, with its packs, queue and uptime;
  - dashboard: the office user logged in, every GET /api/v1/stats/... call the dashboard
    makes, in turn, without pause;
  - pack uploads: the staff user uploads one of the sample bundles every 5 s (most already
    stored: checked again and answered 201), and once a minute a new version;
  - kiosk fetches: a manifest and one of its blobs, as a kiosk syncing does.
Every --sample seconds (default 10) it samples the server's RSS (VmRSS), its open file
descriptors (/proc/PID/fd) and the size of kepu.db with its WAL, and prints a line. At the
end: the RSS slope per hour over the whole run and over its second half, whether RSS levels
off (second-half slope under 2 MB/h or under 2 % of the RSS per hour), the growth of open
files, the database size per stored event, and the count and status of every request. It
asserts nothing about time; it exits 1 if a request got an unexpected answer or the server
died, so a broken server cannot pass as a quiet one.

KK_BUILD_DIR picks the build (default build/). Run it with scripts/soak.sh server.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))
SERVER = os.path.join(BUILD, "src/server/kepu-server")
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
PASSWORD = "soak-office-pass"
PACKS = ["farming-and-land", "health-at-home", "safety-and-health", "science-for-the-city",
         "space-and-ai"]
STATS = ["overview", "events?by=day", "sessions?by=day", "sessions?by=venue",
         "sessions?by=kiosk", "kiosks", "topics", "pages", "audiences", "quiz?by=question",
         "quiz?by=audience", "quiz?by=day", "quiz?by=audience_day", "packs", "assignments"]
AUDIENCES = ["youth", "farmers", "elderly", "workers", "officials", "other"]


def run(*args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, check=True).stdout


class Counts:
    """Requests made, by kind and status; failures kept for the report."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by = {}
        self.bad = []
        self.events = 0

    def note(self, kind, status, ok, detail=""):
        with self.lock:
            key = (kind, status)
            self.by[key] = self.by.get(key, 0) + 1
            if not ok and len(self.bad) < 50:
                self.bad.append("%s: HTTP %s %s" % (kind, status, detail[:200]))


class Client:
    """One keep-alive connection to the server; reconnects when the server closed it."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data, r
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def new_id(rng):
    return "%032x" % rng.getrandbits(128)


def session_events(rng, kiosk, now_ms):
    """The events of one visitor, as a kiosk makes them (DESIGN.md, usage events)."""
    sess = new_id(rng)
    aud = rng.choice(AUDIENCES)
    lang = "en" if rng.random() < 0.15 else "zh"
    pack = rng.choice(PACKS) + "@2026.11.1"
    topic = "earthquake"
    t = now_ms - 120000
    base = {"kiosk": kiosk, "session": sess, "audience": aud, "lang": lang}
    out = [dict(base, id=new_id(rng), ts=t, type="session_start"),
           dict(base, id=new_id(rng), ts=t + 2000, type="audience", audience=aud)]
    for p in range(rng.randint(1, 6)):
        out.append(dict(base, id=new_id(rng), ts=t + 3000 + p * 1000, type="page_view", pack=pack,
                        topic=topic, page=p, dwell_ms=rng.randint(3000, 40000)))
    for q in range(rng.randint(0, 4)):
        out.append(dict(base, id=new_id(rng), ts=t + 20000 + q * 1000, type="quiz_answer",
                        pack=pack, topic=topic, question="q%d" % (q + 1), choice=[rng.randint(0, 3)],
                        correct=rng.random() < 0.7, ms=rng.randint(2000, 15000)))
    out.append(dict(base, id=new_id(rng), ts=t + 60000, type="session_end", duration_ms=60000,
                    reason="idle"))
    return out


def setup(work, nkiosks):
    data = os.path.join(work, "data")
    os.makedirs(os.path.join(data, "keys"))
    key = os.path.join(work, "soak")
    run(PACK, "keygen", "-o", key)
    shutil.copy(key + ".pub", os.path.join(data, "keys"))
    for v in range(1, 5):
        run(SERVER, "venue", "add", "v%d" % v, "--name", "第%d科普场馆" % v, "--data", data)
    kiosks = []
    for k in range(1, nkiosks + 1):
        kid = "k-%04d" % k
        token = run(SERVER, "kiosk", "add", kid, "--venue", "v%d" % ((k - 1) % 4 + 1), "--data",
                    data).strip()
        kiosks.append((kid, token))
    run(SERVER, "user", "add", "office", "--role", "office", "--data", data, stdin=PASSWORD + "\n")
    staff = run(SERVER, "user", "add", "staff", "--role", "staff", "--data", data,
                stdin="soak-staff-pass\n").strip().splitlines()[-1]
    run(SERVER, "user", "venue", "staff", "v1", "--data", data)
    for p in PACKS:
        for v in range(1, 5):
            run(SERVER, "assign", p + "@2026.11.1", "--venue", "v%d" % v, "--data", data)
    # The sample bundles, and new versions of one pack to upload once a minute.
    bundles = []
    for p in PACKS:
        out = os.path.join(work, "built-" + p)
        run(PACK, "build", os.path.join(SRC, "content", p), "-o", out, "--key", key + ".key")
        run(PACK, "bundle", out, "-o", out + ".kpk")
        bundles.append(out + ".kpk")
    return data, kiosks, staff, key, bundles


def new_version_bundle(work, key, n):
    """safety-and-health at version 2027.1.<n> (pack.json changed, every picture shared)."""
    src = os.path.join(work, "src-v%d" % n)
    shutil.copytree(os.path.join(SRC, "content", "safety-and-health"), src)
    with open(os.path.join(src, "pack.json"), encoding="utf-8") as f:
        j = json.load(f)
    j["version"] = "2027.1.%d" % n
    with open(os.path.join(src, "pack.json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    out = src + "-built"
    run(PACK, "build", src, "-o", out, "--key", key + ".key")
    run(PACK, "bundle", out, "-o", out + ".kpk")
    shutil.rmtree(src)
    shutil.rmtree(out)
    return out + ".kpk"


def start_server(data, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([SERVER, "serve", "--listen", "127.0.0.1:0", "--data", data],
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(400):
        with open(log_path) as f:
            text = f.read()
        for word in text.split("port ")[1:]:
            port = word.split()[0].strip(",;:")
            if port.isdigit() and port != "0":
                return proc, int(port)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit("soak_server: the server did not start:\n" + text)


def proc_sample(pid, data):
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    db = 0
    for name in ("kepu.db", "kepu.db-wal"):
        try:
            db += os.path.getsize(os.path.join(data, name))
        except OSError:
            pass
    return rss, fds, db


def slope_per_hour(points):
    """Least-squares slope of (seconds, value) points, per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx * 3600


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--kiosks", type=int, default=20)
    ap.add_argument("--rate", type=float, default=200, help="events per second in all")
    ap.add_argument("--sample", type=float, default=10, help="seconds between samples")
    ap.add_argument("--seed", type=int, default=None)
    o = ap.parse_args()
    seed = o.seed if o.seed is not None else random.randrange(1 << 32)
    work = tempfile.mkdtemp(prefix="kk-soak-server-")
    counts = Counts()
    stop = threading.Event()
    print("== server soak, %s; seed %d; %d kiosks, ~%.0f events/s, %.1f minutes"
          % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), seed, o.kiosks, o.rate, o.minutes))
    print("machine: %d cores; load %s (other work may share it)"
          % (os.cpu_count(), " ".join("%.2f" % v for v in os.getloadavg())))
    data, kiosks, staff, key, bundles = setup(work, o.kiosks)
    proc, port = start_server(data, os.path.join(work, "server.log"))
    versions = [0]
    # Every sample pack is on the server before kiosks ask for it.
    # (A staff upload goes to review, docs/review.md: the operator's pack add stores them.)
    for b in bundles:
        try:
            run(SERVER, "pack", "add", b, "--data", data)
        except subprocess.CalledProcessError as e:
            raise SystemExit("soak_server: pack add %s: %s" % (b, e.stderr.strip()))

    def ingest(i, kid, token):
        rng = random.Random(seed * 1000 + i)
        c = Client(port)
        hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        period = 50.0 / (o.rate / len(kiosks))  # seconds between batches of 50 of this kiosk
        nxt = time.monotonic() + rng.random() * period
        while not stop.is_set():
            evs = []
            while len(evs) < 50:
                evs += session_events(rng, kid, int(time.time() * 1000))
            body = json.dumps({"kiosk": kid, "events": evs[:50]}).encode()
            st, d, _ = c.request("POST", "/api/v1/events", body, hdr)
            ok = st == 200
            if ok:
                a = json.loads(d)
                ok = a.get("accepted") == 50 and not a.get("duplicates") and not a.get("rejected")
                if ok:
                    with counts.lock:
                        counts.events += 50
            counts.note("events", st, ok, d.decode(errors="replace"))
            nxt += period
            stop.wait(max(0.0, nxt - time.monotonic()))

    def heartbeat(i, kid, token):
        c = Client(port)
        hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        t0 = time.monotonic()
        while not stop.is_set():
            body = json.dumps({"kiosk": kid, "app_version": "0.1.0",
                               "packs": [p + "@2026.11.1" for p in PACKS], "queue": i,
                               "dropped": 0, "uptime_s": int(time.monotonic() - t0),
                               "disk_free_mb": 20000, "last_error": ""}).encode()
            st, d, _ = c.request("POST", "/api/v1/heartbeat", body, hdr)
            counts.note("heartbeat", st, st == 200 and b"packs" in d, d.decode(errors="replace"))
            stop.wait(2.0)

    def dashboard():
        c = Client(port)
        st, d, r = c.request("POST", "/api/v1/login",
                             json.dumps({"user": "office", "password": PASSWORD}).encode(),
                             {"Content-Type": "application/json"})
        counts.note("login", st, st == 200, d.decode(errors="replace"))
        cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
        start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 29 * 86400))
        n = 0
        while not stop.is_set():
            call = STATS[n % len(STATS)]
            n += 1
            path = "/api/v1/stats/%s%sfrom=%s&to=%s" % (call, "&" if "?" in call else "?", start, today)
            st, d, _ = c.request("GET", path, headers={"Cookie": cookie})
            counts.note("stats", st, st == 200, call + " " + d.decode(errors="replace"))
            stop.wait(0.05)

    def uploads():
        c = Client(port)
        rng = random.Random(seed + 7)
        hdr = {"Authorization": "Bearer " + staff, "Content-Type": "application/octet-stream"}
        last_new = time.monotonic()
        while not stop.is_set():
            path = rng.choice(bundles)
            if time.monotonic() - last_new >= 60:
                versions[0] += 1
                path = new_version_bundle(work, key, versions[0])
                last_new = time.monotonic()
            with open(path, "rb") as f:
                body = f.read()
            st, d, _ = c.request("POST", "/api/v1/packs", body, hdr)
            # a staff upload becomes a draft in review: 202
            counts.note("upload", st, st == 202, d.decode(errors="replace"))
            stop.wait(5.0)

    def fetches():
        kid, token = kiosks[0]
        c = Client(port)
        rng = random.Random(seed + 11)
        hdr = {"Authorization": "Bearer " + token}
        while not stop.is_set():
            p = rng.choice(PACKS)
            st, d, _ = c.request("GET", "/api/v1/packs/%s/2026.11.1/manifest" % p, headers=hdr)
            ok = st == 200
            counts.note("manifest", st, ok, d.decode(errors="replace"))
            if ok:
                f = rng.choice(json.loads(d)["files"])
                st, d, _ = c.request("GET", "/api/v1/blobs/" + f["sha256"], headers=hdr)
                counts.note("blob", st, st == 200 and len(d) == f["size"], "")
            stop.wait(1.0)

    def guarded(fn, *args):
        def body():
            try:
                fn(*args)
            except Exception as e:  # a dead server or a broken answer ends the soak as failed
                counts.note(fn.__name__, "exception", False, repr(e))
                stop.set()
        return threading.Thread(target=body, daemon=True)

    threads = [guarded(ingest, i, kid, tok) for i, (kid, tok) in enumerate(kiosks)]
    threads += [guarded(heartbeat, i, kid, tok) for i, (kid, tok) in enumerate(kiosks)]
    threads += [guarded(dashboard), guarded(uploads), guarded(fetches)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    samples = []
    print("%8s %10s %6s %12s %10s %6s" % ("min", "RSS kB", "fds", "db bytes", "events", "load"))
    end = t0 + o.minutes * 60
    while not stop.is_set() and proc.poll() is None:
        now = time.monotonic()
        rss, fds, db = proc_sample(proc.pid, data)
        samples.append((now - t0, rss, fds, db, counts.events))
        print("%8.2f %10d %6d %12d %10d %6.2f" % ((now - t0) / 60, rss, fds, db, counts.events,
                                                  os.getloadavg()[0]), flush=True)
        if now >= end:
            break
        stop.wait(min(o.sample, max(0.0, end - now)))
    stop.set()
    for t in threads:
        t.join(timeout=70)
    died = proc.poll() is not None
    if not died:
        proc.terminate()
        proc.wait(timeout=60)
    elapsed = time.monotonic() - t0
    with open(os.path.join(data, "..", "server.log")) as f:
        tail = f.read()[-2000:]

    print()
    print("== server soak result: %.1f minutes; %d events stored in %d batches"
          % (elapsed / 60, counts.events, counts.events // 50))
    for (kind, st), n in sorted(counts.by.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print("  %-10s HTTP %-9s %8d" % (kind, st, n))
    whole = slope_per_hour([(s[0], s[1] / 1024) for s in samples])
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    second = slope_per_hour([(s[0], s[1] / 1024) for s in half])
    mean_rss = sum(s[1] for s in half) / len(half) / 1024 if half else 0
    levels = second < 2 or second < 0.02 * mean_rss
    print("RSS: first %.1f MB, peak %.1f MB, last %.1f MB" % (samples[0][1] / 1024,
          max(s[1] for s in samples) / 1024, samples[-1][1] / 1024))
    print("RSS slope: %+.2f MB/h over the run, %+.2f MB/h over its second half: %s"
          % (whole, second, "levels off" if levels else "STILL GROWING"))
    print("open files: first %d, max %d, last %d" % (samples[0][2], max(s[2] for s in samples),
                                                      samples[-1][2]))
    grew = samples[-1][3] - samples[0][3]
    print("database (kepu.db + WAL): first %.1f MB, last %.1f MB; %.0f bytes per stored event"
          % (samples[0][3] / 1e6, samples[-1][3] / 1e6,
             grew / max(1, counts.events - samples[0][4])))
    print("new pack versions uploaded: %d; load at the end %s" % (versions[0],
          " ".join("%.2f" % v for v in os.getloadavg())))
    failed = died or counts.bad
    if died:
        print("FAIL: the server died (exit %s); log tail:\n%s" % (proc.returncode, tail))
    for b in counts.bad:
        print("FAIL:", b)
    if os.environ.get("KEEP") == "1":
        print("kept", work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
