"""Power-cut safety of installs (issue 3): the kiosk is killed with SIGKILL at 50 random
moments while it imports a new version through the staff panel. After each kill it must
start on a complete, verified pack (old or new), and after that start the state folder
holds no staging files."""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError, run, sample_pack  # noqa: E402
from PIL import Image  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
ROUNDS = int(os.environ.get("KK_CRASH_ROUNDS", "50"))
PIN = "1357"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)



def bundle(work, key, version):
    """The sample pack at version, made heavier with a 1000x750 photo-like picture so an
    install takes long enough to be interrupted in many places."""
    src = sample_pack(SRC, os.path.join(work, "src-" + version), version)
    noise = Image.frombytes("RGB", (1000, 750), os.urandom(1000 * 750 * 3))
    noise.save(os.path.join(src, "images", "photo.png"))
    topic = os.path.join(src, "topics", "earthquake.json")
    with open(topic, encoding="utf-8") as f:
        t = json.load(f)
    t["pages"][0]["blocks"].append({"type": "image", "src": "images/photo.png",
                                    "caption": {"zh": "照片", "en": "Photo"}})
    with open(topic, "w", encoding="utf-8") as f:
        json.dump(t, f, ensure_ascii=False)
    out = src + "-built"
    run(PACK, "build", src, "-o", out, "--key", key)
    kpk = os.path.join(work, "usb", "safety-%s.kpk" % version)
    run(PACK, "bundle", out, "-o", kpk)
    return kpk


def open_import(k):
    k.open_staff(PIN)
    k.tap_id("staff/import")


def live_version(state):
    with open(os.path.join(state, "active.json")) as f:
        return {p["id"]: p for p in json.load(f)["packs"]}["safety-and-health"]


def crash_loop_guard(work, key, state, conf, versions):
    """A new version whose kiosk dies three times within ten minutes is rolled back."""
    kpk = bundle(work, key + ".key", "2027.1.1")
    k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
    open_import(k)
    k.tap_id(k.ids("import/")[0])
    k.quit()
    os.remove(kpk)
    before = live_version(state)
    check(before["version"] == "2027.1.1", "guard: the new version is not live: %s" % before)
    for _ in range(3):  # three starts that die before they settle
        k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
        k.proc.send_signal(signal.SIGKILL)
        k.proc.wait()
    k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
    try:
        after = live_version(state)
        check(after["version"] == before["previous"],
              "guard: after three failed starts %s is live, not %s" % (after["version"], before["previous"]))
        check(k.screen["scene"] == "attract", "guard: started on %s" % k.screen["scene"])
        k.send({"advance_ms": 61000})  # a minute up: a good start
    finally:
        k.quit()
    check("rolled back" in k.logtext(), "guard: the roll back is not logged")
    import sqlite3
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    codes = [r[0] for r in db.execute("select json_extract(json,'$.code') from events "
                                      "where json_extract(json,'$.type')='error'")]
    check("rollback" in codes, "guard: no error event for the roll back: %s" % codes)
    # A kiosk that then runs fine is not rolled back again.
    k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
    k.quit()
    check(live_version(state)["version"] == after["version"], "guard: rolled back twice")


def main():
    work = tempfile.mkdtemp(prefix="kk-crash-")
    os.makedirs(os.path.join(work, "usb"))
    key = os.path.join(work, "k")
    run(PACK, "keygen", "-o", key)
    versions = ["2026.1.%d" % i for i in range(1, ROUNDS + 2)]
    state = os.path.join(work, "state")
    conf = os.path.join(work, "kiosk.conf")
    pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
    with open(conf, "w") as f:
        f.write("trusted_keys = %s.pub\nstaff_pin_hash = %s\nimport_dirs = %s\nstate_dir = %s\n"
                % (key, pin_hash, os.path.join(work, "usb"), state))
    # Version 1 installed normally.
    first = bundle(work, key + ".key", versions[0])
    k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
    open_import(k)
    k.tap_id(k.ids("import/")[0])
    k.quit()
    os.remove(first)
    t0 = time.monotonic()
    kills = 0
    rng = random.Random(int(os.environ.get("KK_CRASH_SEED", "7")))
    # Time one import to aim the kills across its whole length.
    span = None
    for i in range(1, ROUNDS + 1):
        kpk = bundle(work, key + ".key", versions[i])
        k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
        try:
            open_import(k)
            target = [t for t in k.screen["targets"] if t["id"].startswith("import/")][0]["id"]
            if span is None:
                started = time.monotonic()
                k.tap_id(target)
                span = max(time.monotonic() - started, 0.02)
                k.quit()
            else:
                k.proc.stdin.write(json.dumps({"tap_id": target}) + "\n")
                k.proc.stdin.flush()
                time.sleep(rng.uniform(0, span * 1.2))
                k.proc.send_signal(signal.SIGKILL)
                k.proc.wait()
                kills += 1
        except KioskError as e:
            check(False, "round %d: %s" % (i, e))
        finally:
            if k.proc.poll() is None:
                k.proc.kill()
        os.remove(kpk)
        # The next start: a complete, verified pack, old or new; no staging left.
        k = Kiosk(BUILD, None, (1280, 800), state=state, config=conf)
        try:
            check(k.screen["scene"] == "attract", "round %d: started on %s" % (i, k.screen["scene"]))
            with open(os.path.join(state, "active.json")) as f:
                live = {p["id"]: p["version"] for p in json.load(f)["packs"]}
            v = live.get("safety-and-health")
            check(v in (versions[i - 1], versions[i]) or (v in versions[:i + 1]),
                  "round %d: active version %s" % (i, v))
            d = os.path.join(state, "packs", "safety-and-health", v)
            res = subprocess.run([PACK, "verify", d, "--pubkey", key + ".pub"], capture_output=True, text=True)
            check(res.returncode == 0, "round %d: live version does not verify: %s" % (i, res.stderr.strip()))
            staging = os.path.join(state, "staging")
            left = os.listdir(staging) if os.path.isdir(staging) else []
            check(not left, "round %d: staging left after start: %s" % (i, left))
            check(not os.path.exists(os.path.join(state, "active.json.tmp")), "round %d: active.json.tmp left" % i)
        finally:
            k.quit()
    crash_loop_guard(work, key, state, conf, versions)
    print("crash install: %d kills over %.0f s (an import takes ~%.0f ms), %d checks failed"
          % (kills, time.monotonic() - t0, (span or 0) * 1000, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
