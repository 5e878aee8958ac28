"""The staff panel through the real kiosk (issue 3): five corner taps, wrong PINs refused
and locked after five, a bundle imported from a folder and switched in at the attract
screen, a newer version imported and rolled back, a tampered bundle refused with the old
version kept live, a pack hidden and shown, the touch test, and quitting."""
import json
import os
import shutil
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError, check_targets, run, sample_pack  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
KIOSK = os.path.join(BUILD, "src/app/kepu-kiosk")
PIN = "2468"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)



def make_bundle(work, key, version, title_suffix="", tamper=False):
    src = sample_pack(SRC, os.path.join(work, "src-" + version + ("-bad" if tamper else "")), version,
                      title_suffix)
    out = src + "-built"
    run(PACK, "build", src, "-o", out, "--key", key)
    if tamper:  # one byte of a signed file changed after signing
        with open(os.path.join(out, "topics", "earthquake.json"), "r+b") as f:
            f.seek(10)
            f.write(b"#")
    kpk = os.path.join(work, "usb", "safety-%s%s.kpk" % (version, "-tampered" if tamper else ""))
    if tamper:  # kepu-pack refuses to bundle it, so a forger's tar is made by hand
        with tarfile.open(kpk, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(os.listdir(out)):
                tar.add(os.path.join(out, name), arcname=name)
    else:
        run(PACK, "bundle", out, "-o", kpk)
    return kpk


def corner(k, times=5):
    w, h = k.screen["size"]
    for _ in range(times):
        k.send({"tap": [w - 20, 20]})


def enter_pin(k, pin):
    for d in pin:
        k.tap_id("pin/" + d)
    k.tap_id("pin/ok")


def active(state):
    with open(os.path.join(state, "active.json")) as f:
        return {p["id"]: p for p in json.load(f)["packs"]}


def open_panel(k):
    corner(k)
    check(k.screen["scene"] == "staff_pin", "corner taps led to %s" % k.screen["scene"])
    enter_pin(k, PIN)
    check(k.screen["scene"] == "staff", "right PIN led to %s" % k.screen["scene"])


def import_bundle(k, name):
    k.tap_id("staff/import")
    check(k.screen["scene"] == "staff_import", "import led to %s" % k.screen["scene"])
    for t in k.screen["targets"]:
        if t["id"].startswith("import/") and t["label"].endswith(name):
            k.tap_id(t["id"])
            return
    check(False, "%s not offered for import: %s" % (name, [t["label"] for t in k.screen["targets"]]))


def main():
    work = tempfile.mkdtemp(prefix="kk-staff-")
    os.makedirs(os.path.join(work, "usb"))
    keyname = os.path.join(work, "alliance")
    run(PACK, "keygen", "-o", keyname)
    v1 = make_bundle(work, keyname + ".key", "2026.11.1")
    v2 = make_bundle(work, keyname + ".key", "2026.12.1", " (new)")
    bad = make_bundle(work, keyname + ".key", "2026.12.5", tamper=True)
    pin_hash = run(KIOSK, "--hash-pin", stdin=PIN + "\n").strip()
    state = os.path.join(work, "state")
    conf = os.path.join(work, "kiosk.conf")
    with open(conf, "w") as f:
        f.write("kiosk_id = k-staff\ntrusted_keys = %s.pub\nstaff_pin_hash = %s\n"
                "import_dirs = %s\nstate_dir = %s\n" % (keyname, pin_hash, os.path.join(work, "usb"), state))

    for size in ((1920, 1080), (1080, 1920)):
        shutil.rmtree(state, ignore_errors=True)
        k = Kiosk(BUILD, None, size, state=state, config=conf)
        try:
            check(k.screen["scene"] == "empty", "%s: starts on %s with nothing installed" % (size, k.screen["scene"]))
            corner(k, 4)
            check(k.screen["scene"] == "empty", "four corner taps opened something")
            corner(k, 1)
            check(k.screen["scene"] == "staff_pin", "five corner taps led to %s" % k.screen["scene"])
            for p in check_targets(k.screen):
                check(False, "%s pin: %s" % (size, p))
            for i in range(5):
                enter_pin(k, "1111")
                check(k.screen["scene"] == "staff_pin", "wrong PIN %d let staff in" % i)
            check(not k.ids("pin/"), "the keypad is still offered after five wrong PINs")
            enter_pin_refused = True
            try:
                enter_pin(k, PIN)
                enter_pin_refused = False
            except KioskError:
                pass
            check(enter_pin_refused and k.screen["scene"] == "staff_pin", "the right PIN worked while locked")
            # A power cut does not lift the lock: killed and started again, still locked.
            k.proc.kill()
            k.proc.wait()
            k = Kiosk(BUILD, None, size, state=state, config=conf)
            corner(k)
            check(k.screen["scene"] == "staff_pin" and not k.ids("pin/"),
                  "%s: the PIN lock did not survive a restart" % (size,))
            # Staff walk away: the locked screen times out like any other.
            k.send({"advance_ms": 5 * 60 * 1000})
            k.send({"advance_ms": 20 * 1000})
            check(k.screen["scene"] == "empty", "the locked PIN screen did not time out")
            corner(k)
            check(k.ids("pin/"), "the lock did not end after 5 minutes")
            enter_pin(k, PIN)
            check(k.screen["scene"] == "staff", "right PIN led to %s" % k.screen["scene"])
            for p in check_targets(k.screen):
                check(False, "%s staff: %s" % (size, p))
            check(not k.screen["overflow"], "%s staff panel overflows: %s" % (size, k.screen["overflow"]))
            k.screenshot(os.path.join(work, "staff-%dx%d.png" % size))

            import_bundle(k, os.path.basename(v1))
            check(k.screen["scene"] == "staff", "after import: %s" % k.screen["scene"])
            check(active(state)["safety-and-health"]["version"] == "2026.11.1", "v1 not installed")
            k.tap_id("staff/close")
            check(k.screen["scene"] == "attract", "closing the panel led to %s" % k.screen["scene"])

            # A tampered bundle is refused and the running version stays live.
            open_panel(k)
            import_bundle(k, os.path.basename(bad))
            check(active(state)["safety-and-health"]["version"] == "2026.11.1", "tampered bundle changed active.json")
            check(not os.listdir(os.path.join(state, "staging")) if os.path.isdir(os.path.join(state, "staging")) else True,
                  "staging left behind after a refused import")
            # A newer version, then a roll back.
            import_bundle(k, os.path.basename(v2))
            check(active(state)["safety-and-health"]["version"] == "2026.12.1", "v2 not installed")
            check(k.target("staff/rollback/safety-and-health"), "no roll back offered")
            k.tap_id("staff/close")
            k.tap_id("start")
            k.tap_id("lang")
            k.tap_id("audience/youth")
            labels = [t["label"] for t in k.screen["targets"] if t["id"] == "topic/earthquake"]
            check(labels and labels[0].endswith("(new)"), "v2 is not what visitors see: %s" % labels)
            k.send({"advance_ms": 61000})
            k.send({"advance_ms": 16000})
            check(k.screen["scene"] == "attract", "idle did not return to attract")
            open_panel(k)
            k.tap_id("staff/rollback/safety-and-health")
            check(active(state)["safety-and-health"]["version"] == "2026.11.1", "roll back did not switch")
            # Hide, then show.
            k.tap_id("staff/hide/safety-and-health")
            k.tap_id("staff/close")
            check(k.screen["scene"] == "empty", "hiding the only pack left %s" % k.screen["scene"])
            open_panel(k)
            k.tap_id("staff/show/safety-and-health")
            # The idle prompt over the panel: whatever answers it (a steep swipe ending on
            # Quit, a long swipe, a key) only answers it and acts on nothing underneath.
            quit_rect = k.target("staff/quit")["rect"]
            qx, qy = quit_rect[0] + quit_rect[2] // 2, quit_rect[1] + quit_rect[3] // 2
            for answer in ({"swipe": [qx + 300, qy + 250, qx, qy]},
                           {"swipe": [size[0] // 10, qy, size[0] * 9 // 10, qy]}, {"key": "Right"}):
                k.send({"advance_ms": 61000})
                check(k.screen["idle_prompt"], "no idle prompt over the staff panel")
                k.send(answer)
                check(k.proc.poll() is None and k.screen["scene"] == "staff" and not k.screen["idle_prompt"],
                      "%s on the idle prompt did more than answer it: %s, exit %s"
                      % (answer, k.screen["scene"], k.proc.poll()))
            # Touch test: a dot appears where the finger is.
            k.tap_id("staff/touch")
            w, h = size
            k.send({"tap": [w // 3, h // 2]})
            img = k.screenshot(os.path.join(work, "touch.png"))
            r, g, b = img.getpixel((w // 3, h // 2))
            with open(os.path.join(SRC, "assets", "themes", "default.json")) as f:
                accent = json.load(f)["colours"]["accent"]
            want = tuple(int(accent[i:i + 2], 16) for i in (1, 3, 5))
            check(sum(abs(x - y) for x, y in zip((r, g, b), want)) < 30,
                  "no touch mark (the accent colour %s) under the finger: %s" % (accent, (r, g, b)))
            k.tap_id("nav/back")
            k.tap_id("staff/quit")
            code = k.proc.wait(timeout=20)
            check(code == 0, "quit from the panel exited %s" % code)
        except KioskError as e:
            check(False, "%s: %s" % (size, e))
        finally:
            k.quit()
        log = k.logtext()
        check("import of" in log and "refused" in log and "earthquake.json" in log,
              "the refused import is not logged with the file")

    print("staff: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
