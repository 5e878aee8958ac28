"""Simulated kiosks for the two-servers test (tests/pg/two_servers.sh).

Each kiosk (a thread) sends heartbeats and batches of usage events to URL (nginx in front of
two kepu-servers). A batch that was not acknowledged — a refused connection, a 502 from the
proxy, a timeout — is sent again with the same event ids until it is, as the kiosk's sync
does; one batch in eight is sent a second time even after its acknowledgement, as when an
answer is lost on the way back. Prints one JSON line: the ids it made, the retries, the
answers' accepted and duplicate totals.
Usage: kiosk_swarm.py URL KIOSKS_FILE BATCHES_PER_KIOSK EVENTS_PER_BATCH
"""
import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request

url, kiosks_file, nbatches, nevents = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
kiosks = [line.split() for line in open(kiosks_file) if line.strip()]
lock = threading.Lock()
total = {"ids": 0, "retries": 0, "accepted": 0, "duplicates": 0, "resent": 0, "gave_up": 0}


def post(path, token, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def until_acknowledged(path, token, body):
    """The kiosk's sync: again and again until a 200, backing off a little."""
    tries, deadline = 0, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            return post(path, token, body), tries
        except (urllib.error.URLError, OSError, ValueError):
            tries += 1
            time.sleep(0.05 + random.random() * 0.1 * min(tries, 5))
    return None, tries


def kiosk(kid, token, seed):
    rnd = random.Random(seed)
    mine = {"ids": 0, "retries": 0, "accepted": 0, "duplicates": 0, "resent": 0, "gave_up": 0}
    now = int(time.time() * 1000)
    for b in range(nbatches):
        if b % 5 == 0:
            _, tries = until_acknowledged("/api/v1/heartbeat", token, {
                "kiosk": kid, "app_version": "0.1.0", "packs": [], "queue": nbatches - b,
                "dropped": 0, "uptime_s": b, "disk_free_mb": 1000})
            mine["retries"] += tries
        events = [{"id": "%032x" % rnd.getrandbits(128), "kiosk": kid, "ts": now + b * 100 + i,
                   "type": "page_view", "session": "%032x" % rnd.getrandbits(128),
                   "audience": "farmers", "lang": "zh", "pack": "quake@1", "topic": "quake",
                   "page": i % 4, "dwell_ms": 1000 + i} for i in range(nevents)]
        body = {"kiosk": kid, "events": events}
        mine["ids"] += len(events)
        for send in range(2 if rnd.random() < 0.125 else 1):
            answer, tries = until_acknowledged("/api/v1/events", token, body)
            mine["retries"] += tries
            mine["resent"] += send
            if answer is None:
                mine["gave_up"] += 1
                break
            mine["accepted"] += answer.get("accepted", 0)
            mine["duplicates"] += answer.get("duplicates", 0)
    with lock:
        for k, v in mine.items():
            total[k] += v


threads = [threading.Thread(target=kiosk, args=(k, t, i)) for i, (k, t) in enumerate(kiosks)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(total))
