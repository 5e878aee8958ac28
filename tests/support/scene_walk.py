"""Walks a real kiosk through every scene a visitor and the staff can reach, calling
visit(k, name) on each screen: attract, audience, menu, reader (two pages, large text),
quiz (question, feedback, result), the "still there?" prompt, the staff PIN and the staff
panel. Used by the high-contrast screenshots and the reach test (tests/ui/test_access.py).

The kiosk must have been started with a config whose staff_pin_hash is the hash of PIN.
"""

PIN = "2468"


def corner(k):
    """Five taps in the top-right corner of the UI (lower down with the reach setting)."""
    band = k.screen.get("reach", {}).get("band")
    x0, y0, w, _ = band if band else (0, 0, k.screen["size"][0], 0)
    for _ in range(5):
        k.send({"tap": [x0 + w - 20, y0 + 20]})


def walk(k, visit, lang="zh", topic="topic/earthquake"):
    visit(k, "attract")
    k.tap_id("start")
    if lang == "en":
        k.tap_id("lang")
    visit(k, "audience")
    k.tap_id("audience/youth")
    visit(k, "menu")
    k.tap_id(topic)
    visit(k, "reader")
    k.tap_id("page/next")
    visit(k, "reader-page2")
    k.tap_id("large_text")
    visit(k, "reader-large")
    k.tap_id("large_text")
    while k.target("page/next"):
        k.tap_id("page/next")
    k.tap_id("quiz/start")
    visit(k, "quiz-question")
    k.tap_id(sorted(k.ids("choice/"))[0])
    if k.target("quiz/confirm"):
        k.tap_id("quiz/confirm")
    visit(k, "quiz-feedback")
    while not k.target("quiz/results"):
        k.tap_id("quiz/next")
        k.tap_id(sorted(k.ids("choice/"))[0])
        if k.target("quiz/confirm"):
            k.tap_id("quiz/confirm")
    k.tap_id("quiz/results")
    visit(k, "quiz-result")
    k.send({"advance_ms": 65000})
    visit(k, "still-there")
    k.send({"advance_ms": 20000})  # the visit ends
    corner(k)
    visit(k, "staff-pin")
    for d in PIN:
        k.tap_id("pin/" + d)
    k.tap_id("pin/ok")
    visit(k, "staff")
