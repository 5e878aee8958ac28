"""Connection exhaustion benchmark (issue 11): prints a kiosk's heartbeat latency while N
slow or idle clients hold connections to the real kepu-server, then while N clients
flood it with wrong logins (each an Argon2id check). Asserts nothing.

Each row opens N attacker connections from loopback addresses other than 127.0.0.1
(127.0.1.x, 32 per address; the last row 4,100 from one address, the audit's attack) that trickle one header byte a second,
and reopen at once when the server cuts them (a persistent slowloris). Meanwhile the
kiosk (127.0.0.1) sends a heartbeat every 100 ms for `seconds` on a new connection each.

Run: KK_BUILD_DIR=build python3 tests/bench/bench_slow_clients.py [SECONDS]
     (KEPU_SERVER=PATH runs another kepu-server binary, e.g. an older build)
"""
import http.client
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KK_BUILD_DIR", os.path.join(SRC, "build"))
SERVER = os.environ.get("KEPU_SERVER", os.path.join(BUILD, "src", "server", "kepu-server"))


def start(data, log):
    proc = subprocess.Popen([SERVER, "serve", "--listen", "127.0.0.1:0", "--data", data],
                            stdout=log, stderr=log)
    for _ in range(200):
        with open(log.name) as f:
            for line in f:
                if " port " in line:
                    port = int(line.split(" port ")[1].split()[0].rstrip(","))
                    if port:
                        return proc, port
        time.sleep(0.05)
    raise SystemExit("kepu-server did not start")


class Attackers(threading.Thread):
    """n connections from addresses 127.0.1.1.. (per_addr each), trickling headers."""

    def __init__(self, port, n, per_addr):
        super().__init__(daemon=True)
        self.port, self.n, self.per_addr = port, n, per_addr
        self.stop = False
        self.held = 0
        self.reopened = 0

    def open_one(self, i):
        s = socket.socket()
        s.setblocking(False)
        s.bind(("127.0.1.%d" % (1 + i // self.per_addr), 0))
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        return s

    def run(self):
        sel = selectors.DefaultSelector()
        socks, started = {}, set()
        for i in range(self.n):
            s = self.open_one(i)
            socks[i] = s
            sel.register(s, selectors.EVENT_READ, i)
        last = 0
        while not self.stop:
            for key, _ in sel.select(timeout=0.2):
                i = key.data
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:  # cut by the server: reopen at once
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    s = self.open_one(i)
                    socks[i] = s
                    started.discard(i)
                    sel.register(s, selectors.EVENT_READ, i)
                    self.reopened += 1
            if time.time() - last >= 1:
                last = time.time()
                for i, s in socks.items():
                    try:
                        s.send(b"X" if i in started else b"GET / HTTP/1.1\r\n")
                        started.add(i)
                    except OSError:
                        pass
        for s in socks.values():
            s.close()


class LoginFlood(threading.Thread):
    """One client posting wrong logins back to back, each from a random 127.0.2.x."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = False
        self.codes = {}

    def run(self):
        n = 0
        while not self.stop:
            n += 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                               source_address=("127.0.2.%d" % (1 + n % 254), 0))
                c.request("POST", "/api/v1/login",
                          json.dumps({"user": "u%d" % n, "password": "wrong-password"}),
                          {"Content-Type": "application/json"})
                code = c.getresponse().status
                c.close()
            except Exception as e:
                code = type(e).__name__
            self.codes[code] = self.codes.get(code, 0) + 1


def heartbeats(port, token, seconds):
    lat, errors = [], {}
    until = time.time() + seconds
    while time.time() < until:
        t0 = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("POST", "/api/v1/heartbeat", json.dumps({"kiosk": "k-1"}),
                      {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                lat.append(time.time() - t0)
            else:
                errors[r.status] = errors.get(r.status, 0) + 1
        except Exception as e:  # refused, reset, timed out
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        time.sleep(0.1)
    return lat, errors


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="kepu-bench-slow.")
    data = os.path.join(tmp, "data")
    subprocess.run([SERVER, "venue", "add", "v", "--name", "V", "--data", data], check=True)
    token = subprocess.run([SERVER, "kiosk", "add", "k-1", "--venue", "v", "--data", data],
                           check=True, capture_output=True, text=True).stdout.strip()
    log = open(os.path.join(tmp, "server.log"), "w")
    proc, port = start(data, log)
    print("%s serve with its defaults; kiosk heartbeats for %.0f s per row" % (SERVER, seconds))
    print("%-30s %5s %6s %7s %7s %7s %6s  %s" % ("slow clients", "ok", "failed", "p50 ms",
                                             "p95 ms", "max ms", "cut", "failures"))
    for n, per_addr in ((0, 1), (100, 32), (500, 32), (1000, 32), (2000, 32), (4100, 4100)):
        att = Attackers(port, n, per_addr)
        att.start()
        time.sleep(1.5)
        lat, errors = heartbeats(port, token, seconds)
        att.stop = True
        att.join()
        cut = att.reopened
        lat.sort()
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
        what = "%d from %d address(es)" % (n, max(1, (n + per_addr - 1) // per_addr)) if n else "none"
        print("%-30s %5d %6d %7.1f %7.1f %7.1f %6d  %s" % (what, len(lat), sum(errors.values()),
                                                         pick(0.5), pick(0.95), pick(1.0), cut,
                                                         errors or ""))
        time.sleep(1)
    print("\nlogin flood (wrong passwords, each from a random 127.0.2.x)")
    print("%-30s %5s %6s %7s %7s %7s  %s" % ("flooding clients", "ok", "failed", "p50 ms",
                                          "p95 ms", "max ms", "login answers"))
    for n in (0, 8, 24):
        flood = [LoginFlood(port) for _ in range(n)]
        for f in flood:
            f.start()
        time.sleep(1)
        lat, errors = heartbeats(port, token, seconds)
        codes = {}
        for f in flood:
            f.stop = True
        for f in flood:
            f.join()
            for k, v in f.codes.items():
                codes[k] = codes.get(k, 0) + v
        lat.sort()
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
        print("%-30s %5d %6d %7.1f %7.1f %7.1f  %s" % (n, len(lat), sum(errors.values()),
                                                     pick(0.5), pick(0.95), pick(1.0), codes))
    proc.terminate()
    proc.wait()
    log.close()
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
