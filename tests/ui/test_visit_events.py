"""A visit's last events, through the real kiosk and its journal (issue 12).

When the kiosk stops, or the visitor walks away, while a topic is open, the reader's
last page_view still belongs to the visit: it carries the session, the audience and the
pack, and it comes before session_end (and idle_reset). Page views after a quiz on the
topic still carry the pack.
"""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
CONTENT = os.path.join(SRC, "content")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def pack_ref(pack_dir):
    with open(os.path.join(CONTENT, pack_dir, "pack.json"), encoding="utf-8") as f:
        p = json.load(f)
    return "%s@%s" % (p["id"], p["version"])


def events(state):
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    try:
        return [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    finally:
        db.close()


def open_topic(k):
    k.tap_id("start")
    k.tap_id("audience/youth")
    k.tap_id("topic/earthquake")
    check(k.screen["scene"] == "reader", "topic led to %s" % k.screen["scene"])
    k.tap_id("page/next")


def check_last_view(ev, case, reason, want_pack):
    types = [e["type"] for e in ev]
    check("session_end" in types, "%s: no session_end in %s" % (case, types))
    if "session_end" not in types:
        return
    end_at = max(i for i, t in enumerate(types) if t == "session_end")
    end = ev[end_at]
    check(end.get("reason") == reason, "%s: session_end reason %s" % (case, end.get("reason")))
    views = [i for i, t in enumerate(types) if t == "page_view"]
    check(views, "%s: no page_view in %s" % (case, types))
    if not views:
        return
    last = ev[views[-1]]
    check(views[-1] < end_at, "%s: the last page_view comes after session_end: %s" % (case, types))
    check(last.get("session") and last.get("session") == end.get("session"),
          "%s: the last page_view's session %s, the visit's %s" % (case, last.get("session"),
                                                                  end.get("session")))
    check(last.get("audience") == "youth", "%s: the last page_view's audience %s" % (case, last.get("audience")))
    check(last.get("pack") == want_pack, "%s: the last page_view's pack %s, not %s" % (case, last.get("pack"), want_pack))
    for i in views:
        check(ev[i].get("pack") == want_pack and ev[i].get("session"),
              "%s: page_view %d without pack or session: %s" % (case, i, ev[i]))
    return types


def shutdown_in_reader(ref):
    k = Kiosk(BUILD, CONTENT)
    try:
        open_topic(k)
    finally:
        code = k.quit()
    check(code == 0, "shutdown: kiosk exited with %s" % code)
    types = check_last_view(events(k.state), "shutdown", "shutdown", ref)
    check(types and types[-1] == "session_end", "shutdown: last events %s" % (types or [])[-3:])


def idle_in_reader(ref):
    k = Kiosk(BUILD, CONTENT)
    try:
        open_topic(k)
        k.send({"advance_ms": 61000})
        k.send({"advance_ms": 16000})
        check(k.screen["scene"] == "attract", "idle: led to %s" % k.screen["scene"])
    finally:
        k.quit()
    types = check_last_view(events(k.state), "idle", "idle", ref)
    if types:
        check(types[-2:] == ["session_end", "idle_reset"], "idle: last events %s" % types[-3:])


def views_after_quiz(ref):
    k = Kiosk(BUILD, CONTENT)
    try:
        open_topic(k)
        for _ in range(k.screen["screens"]):
            if k.target("quiz/start"):
                break
            k.tap_id("page/next")
        check(k.target("quiz/start"), "quiz: the topic's last screen offers no quiz")
        k.tap_id("quiz/start")
        check(k.screen["scene"] == "quiz", "quiz: led to %s" % k.screen["scene"])
        k.tap_id("nav/back")
        check(k.screen["scene"] == "reader", "quiz: back led to %s" % k.screen["scene"])
        k.tap_id("page/prev")
    finally:
        k.quit()
    check_last_view(events(k.state), "after the quiz", "shutdown", ref)


ref = pack_ref("safety-and-health")
shutdown_in_reader(ref)
idle_in_reader(ref)
views_after_quiz(ref)
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("ok")
