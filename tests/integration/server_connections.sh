#!/usr/bin/env bash
# Connection exhaustion (issue 11): refusals are answered at once without reading the
# body, slow headers and slow bodies are cut by hard deadlines, one client address cannot
# hold every connection, and past the connection cap the answer is a clear 503. Hundreds
# of slow and idle loopback clients (from 127.0.0.2 and 127.0.0.3) must not stop a kiosk's
# heartbeats and event uploads (from 127.0.0.1). Loopback only, bounded in count and time.
. "$(dirname "$0")/server_lib.bash"
trap '' PIPE
setup_fleet
start_server --timeout 3 --header-timeout 2 --max-connections 200 --max-per-address 16

export U PORT TK TS
python3 - <<'PY' || fail "connection checks (see above)"
import http.client, json, os, random, socket, sys, threading, time
port = int(os.environ["PORT"]); tk = os.environ["TK"]; ts = os.environ["TS"]
bad = []
def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + (" (" + detail + ")" if detail else ""))
    if not cond: bad.append(what)

def conn(src="127.0.0.2"):
    s = socket.socket(); s.bind((src, 0)); s.connect(("127.0.0.1", port)); return s

def answer_and_close(s, limit):
    """Reads until EOF; returns (first line, headers text, seconds to EOF or None)."""
    t0 = time.time(); got = b""; s.settimeout(0.2)
    while time.time() - t0 < limit:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            return got.split(b"\r\n")[0].decode(), got.decode("latin-1"), time.time() - t0
        got += d
    return (got.split(b"\r\n")[0].decode() if got else ""), got.decode("latin-1"), None

# 1. A refused request's body is not read: 401 at once, Connection: close, then EOF.
s = conn()
s.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 1000000\r\n\r\n")
line, head, secs = answer_and_close(s, 3)
check("401 answered without the body", line.startswith("HTTP/1.1 401") and secs is not None and secs < 1,
      "%r after %s s" % (line, secs))
check("401 says Connection: close", "connection: close" in head.lower(), head[:200])
s.close()

# 2. An anonymous slow upload claiming 64 MiB is refused at once.
s = conn()
s.sendall(b"POST /api/v1/packs HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n" + b"x" * 100)
line, head, secs = answer_and_close(s, 3)
check("anonymous 64 MiB upload refused at once", line.startswith("HTTP/1.1 401") and secs is not None and secs < 1,
      "%r after %s s" % (line, secs))
s.close()

# 3. A staff upload claiming 64 MiB but trickling is cut after the grace (--timeout 3).
s = conn()
s.sendall(("POST /api/v1/packs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: 67108864\r\n\r\n" % ts).encode())
t0 = time.time(); cut = None
s.settimeout(0.2)
while time.time() - t0 < 12:
    try:
        s.send(b"x" * 100)
    except OSError:
        cut = time.time() - t0; break
    try:
        if s.recv(4096) == b"":
            cut = time.time() - t0; break
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - t0; break
check("slow 64 MiB staff upload cut within 6 s", cut is not None and cut < 6, "cut after %s s" % cut)
s.close()

# 4. Headers trickled a byte at a time (never idle for long) are cut by the header deadline.
s = conn()
t0 = time.time(); cut = None
s.sendall(b"GET /healthz HTTP/1.1\r\n")
while time.time() - t0 < 10:
    try:
        s.send(b"X")
        time.sleep(0.3)
        s.settimeout(0.01)
        if s.recv(100) == b"":
            cut = time.time() - t0; break
    except socket.timeout:
        pass
    except OSError:
        cut = time.time() - t0; break
check("trickled header block cut within 4 s", cut is not None and cut < 4, "cut after %s s" % cut)
s.close()

# 5. Hundreds of slow and idle clients; a kiosk keeps being answered.
stop = time.time() + 30  # the attackers stop once the kiosk has been measured
held = [0]
lock = threading.Lock()
def attacker(src, kind):
    while time.time() < stop:
        try:
            s = conn(src)
        except OSError:
            time.sleep(0.05); continue
        with lock: held[0] += 1
        try:
            if kind == 1:
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
            elif kind == 2:
                s.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{")
            while time.time() < stop:
                if kind:
                    s.send(b"X")
                s.settimeout(0.5)
                try:
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
        except OSError:
            pass
        finally:
            with lock: held[0] -= 1
            s.close()
        time.sleep(0.05)
threads = [threading.Thread(target=attacker, args=("127.0.0.%d" % (2 + i % 2), i % 3)) for i in range(300)]
for t in threads: t.start()
time.sleep(1.5)
lat = []; fails = []
n = 0
measure_until = time.time() + 5
while time.time() < measure_until:
    n += 1
    for path, body in (("/api/v1/heartbeat", {"kiosk": "k-0001", "queue": n}),
                       ("/api/v1/events", {"kiosk": "k-0001", "events": [{"id": "%032x" % random.getrandbits(128),
                        "kiosk": "k-0001", "ts": int(time.time() * 1000), "type": "boot"}]})):
        t0 = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
            c.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + tk,
                      "Content-Type": "application/json"})
            r = c.getresponse(); r.read(); c.close()
            if r.status != 200: fails.append("%s %d" % (path, r.status))
        except Exception as e:
            fails.append("%s %s" % (path, e))
        lat.append(time.time() - t0)
    time.sleep(0.2)
stop = 0
for t in threads: t.join()
lat.sort()
print("kiosk under 300 slow clients: %d calls, max %.0f ms, median %.0f ms" %
      (len(lat), lat[-1] * 1000, lat[len(lat) // 2] * 1000))
check("every kiosk call answered 200 under 300 slow clients", not fails and len(lat) >= 10, ", ".join(fails[:5]))
# Every call above had the client's 3 s timeout, so none was starved; how fast they were
# is a figure (printed above, and by scripts/bench-server.sh), not a pass mark that a busy
# machine could miss.
sys.exit(1 if bad else 0)
PY
check_has "header deadline counted" "kepu_http_header_deadline_cut_total" "$(curl -s "$U/metrics")"
check_has "per-address refusals counted" "kepu_http_connections_refused_total{reason=\"per_address\"}" "$(curl -s "$U/metrics")"
stop_server; check "clean exit" 0 $?

# --- past the connection cap the answer is a clear 503 ---
start_server --timeout 5 --max-connections 32 --max-per-address 1000
python3 - <<'PY' || fail "connection cap checks (see above)"
import os, socket, sys, time, subprocess
port = int(os.environ["PORT"])
idle = []
for i in range(40):
    s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", port)); idle.append(s)
time.sleep(0.5)
r = subprocess.run(["curl", "-s", "-m", "3", "-w", " %{http_code}", "http://127.0.0.1:%d/healthz" % port],
                   capture_output=True, text=True).stdout
ok = r.endswith(" 503") and "too many connections" in r
print(("ok   " if ok else "FAIL ") + "over the cap: " + r)
for s in idle: s.close()
time.sleep(0.5)
r2 = subprocess.run(["curl", "-s", "-m", "3", "http://127.0.0.1:%d/healthz" % port],
                    capture_output=True, text=True).stdout
print(("ok   " if r2 == '{"status":"ok"}' else "FAIL ") + "after the idle ones left: " + r2)
sys.exit(0 if ok and r2 == '{"status":"ok"}' else 1)
PY
stop_server; check "clean exit" 0 $?
finish
