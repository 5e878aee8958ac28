"""Content updates over the network, end to end (issue 6): the real kepu-server on
loopback, packs built and signed with kepu-pack, stored with kepu-server pack add, assigned with kepu-server,
and the real kiosk syncing. A new version is installed in the background, never switched
in under a visitor's finger, and shown after the next attract screen."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError, run, sample_pack  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
SERVER = os.path.join(BUILD, "src/server/kepu-server")
PACK = os.path.join(BUILD, "src/tools/kepu-pack")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)



def wait_for(k, cond, what, seconds=30):
    """Polls the kiosk (the UI thread never waits on the network: it answers at once)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        k.send({"state": True})
        if cond(k):
            return True
        time.sleep(0.2)
    check(False, what)
    return False


def earthquake_label(k):
    labels = [t["label"] for t in k.screen["targets"] if t["id"] == "topic/earthquake"]
    return labels[0] if labels else None


def main():
    work = tempfile.mkdtemp(prefix="kk-sync-ui-")
    data = os.path.join(work, "server")
    os.makedirs(os.path.join(data, "keys"))
    run(PACK, "keygen", "-o", os.path.join(work, "alliance"))
    shutil.copy(os.path.join(work, "alliance.pub"), os.path.join(data, "keys"))
    run(SERVER, "venue", "add", "v1", "--name", "Hall", "--data", data)
    token = run(SERVER, "kiosk", "add", "k-1", "--venue", "v1", "--data", data).strip()
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([SERVER, "serve", "--listen", "127.0.0.1:0", "--data", data],
                              stdout=log, stderr=subprocess.STDOUT)
    k = None
    try:
        port = None
        for _ in range(100):
            with open(os.path.join(work, "server.log")) as f:
                m = re.search(r"port (\d+)", f.read())
            if m and m.group(1) != "0":
                port = m.group(1)
                break
            time.sleep(0.05)
        url = "http://127.0.0.1:%s" % port

        def publish(version, suffix):
            built = os.path.join(work, "built-" + version)
            run(PACK, "build", sample_pack(SRC, os.path.join(work, "src-" + version), version, suffix), "-o", built, "--key",
                os.path.join(work, "alliance.key"))
            # A staff upload only waits for review now (docs/review.md): the operator stores
            # the signed version on the server itself.
            out = run(SERVER, "pack", "add", built, "--data", data)
            check("added safety-and-health@" + version in out, "pack add said %r" % out)
            run(SERVER, "assign", "safety-and-health@" + version, "--kiosk", "k-1", "--data", data)

        publish("2026.11.1", "")
        with open(os.path.join(work, "token"), "w") as f:
            f.write(token + "\n")
        conf = os.path.join(work, "kiosk.conf")
        with open(conf, "w") as f:
            f.write("kiosk_id = k-1\nserver_url = %s\ntoken_file = %s/token\ntrusted_keys = %s/alliance.pub\n"
                    "sync_interval_s = 10\n" % (url, work, work))
        k = Kiosk(BUILD, None, (1280, 800), state=os.path.join(work, "state"), config=conf)
        # Nothing installed yet: "content is being updated", then the first sync brings it.
        wait_for(k, lambda k: k.screen["scene"] == "attract", "first sync: the pack never went live")
        k.tap_id("start")
        k.tap_id("lang")
        k.tap_id("audience/youth")
        check(earthquake_label(k) == "When an earthquake strikes", "v1 title: %s" % earthquake_label(k))

        # A new version while a visitor reads: installed in the background, not switched.
        publish("2026.12.1", " (v2)")
        wait_for(k, lambda k: os.path.isdir(os.path.join(work, "state/packs/safety-and-health/2026.12.1")),
                 "v2 was not installed", 40)
        k.send({"state": True})
        check(k.screen["scene"] == "menu" and earthquake_label(k) == "When an earthquake strikes",
              "the content changed under the visitor: %s" % earthquake_label(k))
        # The visitor leaves; at the attract screen the new version goes live.
        k.send({"advance_ms": 61000})
        k.send({"advance_ms": 16000})
        check(k.screen["scene"] == "attract", "idle did not return to attract")
        k.tap_id("start")
        k.tap_id("lang")
        k.tap_id("audience/youth")
        check(earthquake_label(k) == "When an earthquake strikes (v2)", "v2 not shown: %s" % earthquake_label(k))
    except KioskError as e:
        check(False, str(e))
    finally:
        if k:
            k.quit()
        server.terminate()
        server.wait(timeout=20)
        log.close()
    if failures and k:
        print(k.logtext()[-3000:])
    print("sync switch: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
