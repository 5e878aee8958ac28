"""A real kepu-kiosk for e2e_review.test.js: started against the server, driven through
its automation channel (tests/support/kiosk.py, SDL's offscreen driver), answering the
test one JSON line per command it reads on stdin:

  {"do":"look"}            from the attract screen (the visit timed out first, where a new
                           version goes live): {"scene","packs":[{"id","version"}],"text":[
                           the lines of text on the earthquake topic's first page]};
                           with "shot":P also a screenshot of that page
  {"do":"advance","ms":N}  moves the kiosk's clock forward: {"ok":true}
  {"do":"files"}           {"prefetch":[names under <state>/prefetch]}
  {"do":"shot","path":P}   a screenshot of the current screen: {"ok":true}
  {"do":"quit"}            {"ok":true,"log":the end of the kiosk's log}

Arguments: BUILD_DIR CONFIG STATE_DIR. Runs in the city's time zone (TZ=Asia/Shanghai)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, KioskError  # noqa: E402


def look(k, shot=None):
    k.go_attract()
    out = {"scene": k.screen["scene"], "packs": k.screen.get("packs", []), "text": []}
    if k.screen["scene"] != "attract":
        return out
    k.tap_id("start")
    k.tap_id("audience/youth")
    if k.target("topic/earthquake"):
        k.tap_id("topic/earthquake")
        out["reader_page"] = k.screen.get("page")
        out["text"] = [t["text"] for t in k.send({"contrast": True})["texts"]]
        if shot:
            k.send({"screenshot": shot})
    k.go_attract()
    return out


def main():
    build, config, state = sys.argv[1:4]
    k = Kiosk(build, None, (1280, 800), state=state, config=config, extra_env={"TZ": "Asia/Shanghai"})
    print(json.dumps({"ready": True, "scene": k.screen["scene"]}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["do"] == "look":
                ans = look(k, cmd.get("shot"))
            elif cmd["do"] == "advance":
                k.send({"advance_ms": int(cmd["ms"])})
                ans = {"ok": True}
            elif cmd["do"] == "files":
                pre = os.path.join(state, "prefetch")
                ans = {"prefetch": sorted(os.listdir(pre)) if os.path.isdir(pre) else []}
            elif cmd["do"] == "shot":
                k.send({"screenshot": cmd["path"]})
                ans = {"ok": True}
            elif cmd["do"] == "quit":
                log = k.logtext()
                k.quit()
                print(json.dumps({"ok": True, "log": log[-4000:]}), flush=True)
                return 0
            else:
                ans = {"error": "unknown command %r" % cmd["do"]}
        except KioskError as e:
            ans = {"error": str(e)[-2000:]}
        print(json.dumps(ans, ensure_ascii=False), flush=True)
    k.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
