#!/usr/bin/env bash
# Abuse of kepu-server's HTTP layer (issue 11): a gzip "bomb" of JSON values, a burst and
# a flood of logins, a log-forging path, the session cookie and HSTS behind a trusted
# HTTPS proxy, and /metrics through a proxy. Loopback only, bounded in count and time.
# The trusted proxy in these tests is 127.0.0.2 (curl --interface binds there).
. "$(dirname "$0")/server_lib.bash"
trap '' PIPE
setup_fleet

# --- 8 gzip bombs at once: 413 naming the problem, memory stays bounded ---
start_server
export PORT TK
python3 - <<'PY' || fail "gzip bomb checks (see above)"
import gzip, http.client, os, sys, threading
port = int(os.environ["PORT"]); tk = os.environ["TK"]
# 5 MiB of JSON (the batch limit) that is 2.6 million values: ~5 KB once compressed.
inner = b"0," * (5 * 1024 * 1024 // 2 - 64)
bomb = gzip.compress(b'{"kiosk":"k-0001","events":[' + inner + b'0]}', 9)
print("bomb: %d bytes compressed" % len(bomb))
res = []
def send():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/api/v1/events", bomb, {"Authorization": "Bearer " + tk,
              "Content-Type": "application/json", "Content-Encoding": "gzip"})
    r = c.getresponse(); res.append((r.status, r.read().decode())); c.close()
ts = [threading.Thread(target=send) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
ok = len(res) == 8 and all(s == 413 and "JSON values" in b for s, b in res)
print(("ok   " if ok else "FAIL ") + "8 bombs answered: %r" % (res[:2],))
sys.exit(0 if ok else 1)
PY
hwm=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
echo "server peak RSS after 8 gzip bombs at once: $((hwm / 1024)) MiB"
[ "$hwm" -lt $((160 * 1024)) ] && ok || fail "peak RSS $((hwm / 1024)) MiB after 8 gzip bombs (bound 160 MiB)"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary "$(batch "$(event "$(new_id)" boot)")")
check_has "a normal batch still accepted" '200 {"accepted":1' "$r"
deep=$(printf '[%.0s' $(seq 1 100))
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary "{\"kiosk\":\"k-0001\",\"x\":$deep")
check_has "JSON nested too deep refused" "400 {\"error\":\"body: JSON nesting deeper than 64" "$r"
stop_server

# --- logins behind a trusted proxy ---
start_server --trusted-proxy 127.0.0.2
P=(--interface 127.0.0.2)
login() { # login USER PASSWORD [curl options]: prints STATUS, headers in $TMP/h
    local user=$1 pass=$2; shift 2
    curl -s -o /dev/null -D "$TMP/h" -w '%{http_code}' "$@" -H 'Content-Type: application/json' \
        --data-binary "{\"user\":\"$user\",\"password\":\"$pass\"}" "$U/api/v1/login" 2>/dev/null
}
# the session cookie is Secure, and HSTS is sent, when the trusted proxy says https
check "login over https" 200 "$(login alice secret-pass "${P[@]}" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-For: 198.51.100.1')"
check_has "cookie Secure over https" "; Secure" "$(grep -i '^set-cookie' "$TMP/h")"
check_has "HSTS over https" "max-age=31536000" "$(grep -i '^strict-transport-security' "$TMP/h")"
check "login from an untrusted peer claiming https" 200 "$(login alice secret-pass -H 'X-Forwarded-Proto: https')"
case "$(grep -i '^set-cookie' "$TMP/h")" in *Secure*) fail "Secure cookie believed from an untrusted peer" ;; *) ok ;; esac
[ -z "$(grep -i '^strict-transport-security' "$TMP/h")" ] && ok || fail "HSTS from an untrusted peer"

# /metrics: never through a proxy, whatever the peer
check "metrics direct" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/metrics")"
check "metrics through the proxy" 403 "$(curl -s -o /dev/null -w '%{http_code}' "${P[@]}" -H 'X-Forwarded-For: 198.51.100.1' "$U/metrics")"
check "metrics asked for by a public name" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: kepu.example.org' "$U/metrics")"
check "metrics asked for as localhost" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:$PORT" "$U/metrics")"
check "metrics with a forged X-Forwarded-For" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 127.0.0.1' "$U/metrics")"

# the back-off is per client address as the proxy saw it: 5 free tries for 203.0.113.9.
# (The wait runs from when a try is counted, before its Argon2 check: on a loaded machine
# a check can outlast the first 1 s wait, so try until the pause shows, at most 12 times.)
paused=0
for i in $(seq 1 12); do
    if [ "$(login "nobody$i" wrong-pass "${P[@]}" -H 'X-Forwarded-For: 203.0.113.9')" = 429 ]; then paused=$i; break; fi
done
[ "$paused" -ge 6 ] && ok || fail "wrong logins from one forwarded client paused after try $paused (want the 6th or later)"
check "another forwarded client may still try" 401 "$(login nobody7 wrong-pass "${P[@]}" -H 'X-Forwarded-For: 203.0.113.10')"
login nobody8 wrong-pass "${P[@]}" -H 'X-Forwarded-For: 203.0.113.9, 203.0.113.77' >/dev/null
check_has "the last X-Forwarded-For entry is the client" "failed login for a user from 203.0.113.77" "$(cat "$TMP/server.log")"

# a concurrent burst of 12 wrong passwords for one user gets at most the 5 free checks
export U
python3 - <<'PY' || fail "login burst checks (see above)"
import json, os, sys, threading, urllib.request, urllib.error
u = os.environ["U"]; codes = []; lock = threading.Lock()
go = threading.Barrier(12)
def one(i):
    req = urllib.request.Request(u + "/api/v1/login", json.dumps({"user": "alice", "password": "wrong-%d" % i}).encode(),
                                 {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.%d" % (20 + i)})
    go.wait()
    try:
        code = urllib.request.urlopen(req, timeout=30).status
    except urllib.error.HTTPError as e:
        code = e.code
    with lock: codes.append(code)
ts = [threading.Thread(target=one, args=(i,)) for i in range(12)]
for t in ts: t.start()
for t in ts: t.join()
checked = codes.count(401)
ok = checked <= 5 and checked + codes.count(429) + codes.count(503) == 12
print(("ok   " if ok else "FAIL ") + "burst of 12 wrong passwords: %d checked (401), answers %s" % (checked, sorted(codes)))
sys.exit(0 if ok else 1)
PY

# a request path with %0a does not forge a log line
curl -s -o /dev/null "$U/api/v1/blobs/x%0a2026-12-02T00:00:00.000Z%20info%20login:%20admin%20logged%20in"
sleep 0.2
grep -q '^2026-12-02T00:00:00.000Z info login' "$TMP/server.log" && fail "forged log line" || ok
check_has "the path logged escaped" 'blobs/x\n2026-12-02T00:00:00.000Z info login: admin logged in' "$(cat "$TMP/server.log")"
stop_server

# --- a login flood does not slow heartbeats (every client its own address) ---
start_server --trusted-proxy 127.0.0.2
python3 - <<'PY' || fail "login flood checks (see above)"
import http.client, json, os, sys, threading, time
port = int(os.environ["PORT"]); tk = os.environ["TK"]
stop = time.time() + 6; codes = {}; lock = threading.Lock()
def flood(i):
    n = 0
    while time.time() < stop:
        n += 1
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
            c.request("POST", "/api/v1/login", json.dumps({"user": "u%d-%d" % (i, n), "password": "x" * 12}),
                      {"Content-Type": "application/json", "X-Forwarded-For": "10.9.%d.%d" % (i, n % 250)})
            st = c.getresponse().status; c.close()
        except Exception as e:
            st = str(e)
        with lock: codes[st] = codes.get(st, 0) + 1
fl = [threading.Thread(target=flood, args=(i,)) for i in range(24)]
for t in fl: t.start()
time.sleep(1)
lat = []
while time.time() < stop - 0.5:
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/v1/heartbeat", json.dumps({"kiosk": "k-0001"}), {"Authorization": "Bearer " + tk})
    r = c.getresponse(); r.read(); c.close()
    lat.append(time.time() - t0)
    time.sleep(0.1)
for t in fl: t.join()
lat.sort()
print("heartbeats during a login flood of 24 clients: %d, median %.0f ms, max %.0f ms; login answers %s" %
      (len(lat), lat[len(lat) // 2] * 1000, lat[-1] * 1000, codes))
ok = lat[len(lat) // 2] < 0.3 and lat[-1] < 1.5 and codes.get(503, 0) > 0
print(("ok   " if ok else "FAIL ") + "heartbeats stay fast, busy logins told 503")
sys.exit(0 if ok else 1)
PY
stop_server
finish
