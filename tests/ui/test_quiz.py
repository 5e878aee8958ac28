"""The quiz screens, through the real kiosk (issue 4's automation test).

At 1920x1080 and 1080x1920, in zh and en, with KEPU_QUIZ_SEED set so every round is the
same each run:
  attract -> audience -> menu -> topic -> reader's last page -> quiz: a round all right;
  try again: a round all wrong, then a missed question back to its page in the reader;
  menu's "Take the quiz": a mixed round with the large-text and language toggles in the
  middle, then a missed question opens the reader at its page;
  a topic whose questions have pictures (a copy of the sample pack with one more topic):
  a round, then a round left half-way for the idle reset.
Asserts the scenes, the answers' look (the automation report and the screenshot's pixels:
right answers green, a wrong pick red), the scores, the jump back to the teaching page,
every target's size, no text overflow, and the journal's quiz_answer and quiz_complete
events. Screenshots go to $KK_BUILD_DIR/ui-shots/quiz/<lang>-<size>/.
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["KK_SOURCE_DIR"], "tests/support"))
from kiosk import Kiosk, check_targets, ink_fraction, distinct_colours  # noqa: E402

SRC = os.environ["KK_SOURCE_DIR"]
BUILD = os.environ["KK_BUILD_DIR"]
OUT = os.path.join(BUILD, "ui-shots", "quiz")
SEED = "20261126"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


# ---- content: the sample pack plus a topic whose questions have pictures ----

def t(zh, en):
    return {"zh": zh, "en": en}


PICTURE_TOPIC = {
    "id": "picture-quiz",
    "title": t("看图答题", "Picture quiz"),
    "summary": t("看图片，选出正确的做法。", "Look at the pictures and pick the right thing to do."),
    "cover": "images/drop-cover-hold.svg",
    "audiences": ["youth"],
    "pages": [
        {"title": t("伏地、遮挡、手抓牢", "Drop, cover, hold on"),
         "blocks": [{"type": "text", "text": t("强烈摇晃时，马上伏地，躲到结实的桌子下，抓牢桌腿。",
                                               "When strong shaking starts, drop, get under a "
                                               "sturdy table and hold on to its leg.")}]},
        {"title": t("到空旷的地方去", "Go to an open space"),
         "blocks": [{"type": "text", "text": t("在户外，远离高楼、广告牌和电线，到空旷的地方去。",
                                               "Outdoors, keep away from tall buildings, signs "
                                               "and power lines and go to an open space.")}]},
    ],
    "quiz": {"questions": [
        {"id": "p1", "type": "single", "image": "images/drop-cover-hold.svg",
         "prompt": t("图中的人在做什么？", "What is the person in the picture doing?"),
         "choices": [{"text": t("伏地、遮挡、手抓牢", "Drop, cover, hold on")},
                     {"text": t("跑向门口", "Running for the door")},
                     {"text": t("站在窗边", "Standing by the window")}],
         "answer": [0], "explain": t("这就是地震时保护自己的七字诀。",
                                     "These are the three steps that protect you in a quake."),
         "difficulty": 1, "page": 0},
        {"id": "p2", "type": "single",
         "prompt": t("在户外遇到地震，哪张图的做法是对的？",
                     "Which picture shows the right thing to do outdoors in a quake?"),
         "choices": [{"image": "images/outdoors-open-space.svg",
                      "text": t("到空旷的地方", "Go to an open space")},
                     {"image": "images/trapped-signal.svg", "text": t("躲进小巷", "Hide in an alley")},
                     {"image": "images/emergency-kit.svg", "text": t("回家拿东西", "Go home for things")}],
         "answer": [0], "explain": t("空旷的地方没有东西会倒下来砸到你。",
                                     "In an open space nothing can fall on you."),
         "difficulty": 2, "page": 1},
        {"id": "p3", "type": "multi",
         "prompt": t("哪些图和地震安全有关？（多选）",
                     "Which pictures are about earthquake safety? (Choose all that apply)"),
         "choices": [{"image": "images/drop-cover-hold.svg", "text": t("伏地遮挡", "Drop and cover")},
                     {"image": "images/free-gift-hook.svg", "text": t("免费礼品", "Free gifts")},
                     {"image": "images/emergency-kit.svg", "text": t("应急包", "Emergency kit")},
                     {"image": "images/sales-talk-warning.svg", "text": t("推销话术", "Sales talk")}],
         "answer": [0, 2], "explain": t("伏地遮挡和应急包都是防震的准备；另外两张讲的是骗局。",
                                        "Drop and cover and the kit prepare you for quakes; the "
                                        "other two are about scams."),
         "difficulty": 3, "page": 1},
    ]},
}


def make_content(root):
    pack = os.path.join(root, "safety-and-health")
    shutil.copytree(os.path.join(SRC, "content", "safety-and-health"), pack)
    # This test is about single, multiple-choice and true/false questions; hotspot and
    # order questions (format 2) are tests/ui/test_quiz2.py's, so any the sample has go.
    tdir = os.path.join(pack, "topics")
    for name in os.listdir(tdir):
        with open(os.path.join(tdir, name)) as f:
            topic = json.load(f)
        qs = topic.get("quiz", {}).get("questions", [])
        keep = [q for q in qs if q.get("type") not in ("hotspot", "order")]
        if len(keep) != len(qs):
            topic["quiz"]["questions"] = keep
            with open(os.path.join(tdir, name), "w") as f:
                json.dump(topic, f, ensure_ascii=False, indent=1)
    with open(os.path.join(pack, "topics", "picture-quiz.json"), "w") as f:
        json.dump(PICTURE_TOPIC, f, ensure_ascii=False, indent=1)
    with open(os.path.join(pack, "pack.json")) as f:
        manifest = json.load(f)
    manifest["topics"].append("topics/picture-quiz.json")
    with open(os.path.join(pack, "pack.json"), "w") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    return root


# ---- looking at screens ----

def share(img, rect, test):
    """The share of pixels in rect (x, y, w, h) for which test(r, g, b) holds."""
    x, y, w, h = rect
    region = img.crop((x, y, x + w, y + h)).resize((max(1, w // 4), max(1, h // 4)))
    px = list(region.getdata())
    return sum(1 for p in px if test(*p)) / float(len(px))


def greenish(r, g, b):
    return g > r + 50 and g > b + 30


def reddish(r, g, b):
    return r > g + 80 and r > b + 80


def look(k, tag, name):
    """A screenshot, with the checks every screen must pass. tag is "<lang>-<size>" and
    maybe a word for the round, which goes into the file name."""
    folder, _, what = tag.partition(" ")
    path = os.path.join(OUT, folder, (what + "-" if what else "") + name + ".png")
    img = k.screenshot(path)
    check(img.size == tuple(k.size), "%s/%s: screenshot is %s" % (tag, name, img.size))
    check(distinct_colours(img) > 20, "%s/%s: screenshot looks blank" % (tag, name))
    check(ink_fraction(img) > 0.004, "%s/%s: no text visible" % (tag, name))
    screen_ok(k, tag, name)
    return img


def screen_ok(k, tag, name):
    for p in check_targets(k.screen):
        check(False, "%s/%s: %s" % (tag, name, p))
    check(not k.screen["overflow"], "%s/%s: text overflows: %s" % (tag, name, k.screen["overflow"]))
    # Only a menu card's summary may be shortened, by design (docs/automation.md).
    check(k.screen["scene"] == "menu" or not k.screen["shortened"],
          "%s/%s: shortened on the %s screen: %s" % (tag, name, k.screen["scene"], k.screen["shortened"]))


# ---- playing ----

class Round:
    def __init__(self, topic):
        self.topic = topic
        self.answers = []  # (question id, original choice indexes, correct, page)


def play(k, tag, mode, rnd, shots=False, toggles=False, stop_after=None):
    """Answers the round on screen: mode "right", "wrong" or "mixed" (right on even
    questions). Returns at the result screen, or after stop_after answers."""
    n = 0
    while True:
        q = k.screen.get("quiz")
        if not check(k.screen["scene"] == "quiz" and q and q["phase"] == "question",
                     "%s: expected a question, on %s %s" % (tag, k.screen["scene"], q)):
            return
        check(q["index"] == n, "%s: question index %s, expected %d" % (tag, q["index"], n))
        check(q["topic"] == rnd.topic, "%s: quiz on %s" % (tag, q["topic"]))
        nchoices = len(q["original"])
        right = q["right"]
        shown = sorted(int(i.split("/")[1]) for i in k.ids("choice/"))
        check(shown == list(range(nchoices)), "%s: choice targets %s" % (tag, shown))
        check(sorted(q["original"]) == list(range(nchoices)), "%s: shuffle lost a choice" % tag)
        want = mode == "right" or (mode == "mixed" and n % 2 == 0)
        wrong = [i for i in range(nchoices) if i not in right]
        if want:
            picks = right
        elif q["type"] == "multi" and len(right) > 1 and n % 2:
            picks = right[:1]  # a subset of the right set is wrong too
        else:
            picks = [wrong[0]]
        name = "q%d-%s" % (n, q["type"])
        if shots or n == 0:
            look(k, tag, "%s-%s-question" % (rnd.topic, name))
        else:
            screen_ok(k, tag, name)
        if toggles and n == 1:  # large text and the other language, mid-question
            k.tap_id("large_text")
            check(k.screen["large_text"] and k.screen["quiz"]["question"] == q["question"],
                  "%s: large text lost the question" % tag)
            look(k, tag, "%s-%s-question-large" % (rnd.topic, name))
            k.tap_id("lang")
            look(k, tag, "%s-%s-question-large-lang" % (rnd.topic, name))
            k.tap_id("lang")
        k.send({"advance_ms": 1500})  # the visitor thinks for a moment
        if q["type"] == "multi":
            check(k.target("quiz/confirm") is None, "%s: confirm offered before a choice" % tag)
            for p in picks:
                k.tap_id("choice/%d" % p)
            check(k.screen["quiz"]["selected"] == sorted(picks),
                  "%s: selected %s after tapping %s" % (tag, k.screen["quiz"]["selected"], picks))
            check(k.screen["quiz"]["phase"] == "question", "%s: a tap answered a multi" % tag)
            if shots:
                look(k, tag, "%s-%s-selected" % (rnd.topic, name))
            k.tap_id("quiz/confirm")
        else:
            k.tap_id("choice/%d" % picks[0])
        f = k.screen["quiz"]
        check(f["phase"] == "feedback", "%s: after answering: %s" % (tag, f["phase"]))
        check(f["correct"] == want, "%s: %s answered %s, correct=%s" % (tag, q["question"], picks,
                                                                       f["correct"]))
        check(f["chosen"] == sorted(picks), "%s: chosen %s" % (tag, f["chosen"]))
        check(f["right"] == right, "%s: right answers moved" % tag)
        check(not k.ids("choice/"), "%s: choices still touchable after the answer" % tag)
        img = look(k, tag, "%s-%s-feedback-%s" % (rnd.topic, name, "right" if want else "wrong"))
        for s in range(nchoices):
            # A strip inside the button's left edge: its fill, not its text or picture.
            x, y, w, h = f["rects"][s]
            rect = (x + 5, y + h // 4, max(4, w // 80), h // 2)
            g, r = share(img, rect, greenish), share(img, rect, reddish)
            if s in right:
                check(g > 0.8, "%s: right choice %d is not green (%.2f)" % (tag, s, g))
            elif s in picks:
                check(r > 0.8, "%s: wrong pick %d is not red (%.2f)" % (tag, s, r))
            else:
                check(g < 0.1 and r < 0.1, "%s: choice %d coloured (g %.2f r %.2f)" % (tag, s, g, r))
        rnd.answers.append((q["question"], sorted(q["original"][p] for p in picks), want, q["page"]))
        n += 1
        last = f["index"] + 1 == f["total"]
        check(k.target("quiz/results" if last else "quiz/next") is not None,
              "%s: no way on after question %d" % (tag, n))
        if stop_after and n == stop_after:
            return
        k.tap_id("quiz/results" if last else "quiz/next")
        if last:
            break
    res = k.screen["quiz"]
    score = sum(1 for a in rnd.answers if a[2])
    check(res["phase"] == "result", "%s: after the last question: %s" % (tag, res["phase"]))
    check(res["score"] == score and res["total"] == n,
          "%s: result %s / %s, expected %d / %d" % (tag, res["score"], res["total"], score, n))
    band = "all" if score == n else "most" if score * 5 >= n * 3 else "some" if score else "none"
    check(res.get("band") == band, "%s: message for %d / %d is %s" % (tag, score, n, res.get("band")))
    missed = [a[0] for a in rnd.answers if not a[2]]
    check(res["missed"] == missed, "%s: missed %s, expected %s" % (tag, res["missed"], missed))
    check(k.ids("missed/") == ["missed/" + m for m in missed],
          "%s: missed targets %s" % (tag, k.ids("missed/")))
    for tid in ("quiz/again", "quiz/menu"):
        check(k.target(tid) is not None, "%s: result has no %s" % (tag, tid))
    look(k, tag, "%s-result-%d-of-%d" % (rnd.topic, score, n))


def read_missed(k, tag, rnd, which):
    """Taps a missed question on the result screen; the reader must show its page."""
    qid, _, _, page = [a for a in rnd.answers if not a[2]][which]
    k.tap_id("missed/" + qid)
    check(k.screen["scene"] == "reader", "%s: missed/%s led to %s" % (tag, qid, k.screen["scene"]))
    check(k.screen.get("topic") == rnd.topic, "%s: reader on %s" % (tag, k.screen.get("topic")))
    want = page if page >= 0 else 0
    check(k.screen.get("page") == want, "%s: missed/%s opened page %s, expected %s" %
          (tag, qid, k.screen.get("page"), want))
    look(k, tag, "%s-read-about-%s" % (rnd.topic, qid))


def session(lang, size, content):
    tag = "%s-%dx%d" % (lang, size[0], size[1])
    os.makedirs(os.path.join(OUT, tag), exist_ok=True)
    k = Kiosk(BUILD, content, size, extra_env={"KEPU_QUIZ_SEED": SEED})
    rounds = []
    try:
        k.tap_id("start")
        if lang == "en":
            k.tap_id("lang")
        k.tap_id("audience/youth")
        check(k.screen["scene"] == "menu", "%s: not on the menu" % tag)
        for topic in ("earthquake", "picture-quiz"):
            check(k.target("quiz/" + topic) is not None, "%s: menu has no quiz/%s" % (tag, topic))
        look(k, tag, "menu")

        # 1. From the reader's last page: a round all right.
        k.tap_id("topic/earthquake")
        for _ in range(k.screen["screens"]):
            if k.target("page/next") is None:
                break
            k.tap_id("page/next")
        check(k.target("quiz/start") is not None, "%s: reader's last page has no quiz" % tag)
        k.tap_id("quiz/start")
        check(k.screen["scene"] == "quiz", "%s: quiz/start led to %s" % (tag, k.screen["scene"]))
        rounds.append(Round("earthquake"))
        play(k, tag + " right", "right", rounds[-1], shots=True)

        # 2. Try again: a round all wrong, then back to a missed question's page.
        k.tap_id("quiz/again")
        q = k.screen["quiz"]
        check(q["phase"] == "question" and q["index"] == 0 and q["score"] == 0,
              "%s: try again shows %s" % (tag, q))
        rounds.append(Round("earthquake"))
        play(k, tag + " wrong", "wrong", rounds[-1])
        read_missed(k, tag, rounds[-1], -1)
        k.tap_id("nav/home")
        check(k.screen["scene"] == "menu", "%s: home from the reader led to %s" % (tag, k.screen["scene"]))

        # 3. From the menu: a mixed round with the toggles, then a missed page.
        k.tap_id("quiz/earthquake")
        check(k.screen["scene"] == "quiz", "%s: quiz/earthquake led to %s" % (tag, k.screen["scene"]))
        rounds.append(Round("earthquake"))
        play(k, tag + " mixed", "mixed", rounds[-1], toggles=True)
        k.tap_id("large_text")  # back to normal text
        read_missed(k, tag, rounds[-1], 0)
        k.tap_id("nav/home")
        check(k.screen["scene"] == "menu", "%s: home led to %s" % (tag, k.screen["scene"]))

        # 4. Pictures: a round, then one left half-way until the kiosk resets.
        k.tap_id("quiz/picture-quiz")
        rounds.append(Round("picture-quiz"))
        play(k, tag + " pictures", "mixed", rounds[-1], shots=True)
        k.tap_id("quiz/again")
        rounds.append(Round("picture-quiz"))
        play(k, tag + " left", "right", rounds[-1], stop_after=1)
        k.send({"advance_ms": 61000})
        check(k.screen["idle_prompt"], "%s: no 'still there?' during the quiz" % tag)
        k.send({"advance_ms": 16000})
        check(k.screen["scene"] == "attract", "%s: idle led to %s" % (tag, k.screen["scene"]))
    finally:
        code = k.quit()
    check(code == 0, "%s: kiosk exited with %s" % (tag, code))

    seen = [s for i, s in enumerate(k.screens_seen) if i == 0 or s != k.screens_seen[i - 1]]
    want = ["attract", "audience", "menu", "reader", "quiz", "reader", "menu", "quiz", "reader",
            "menu", "quiz", "attract"]
    check(seen == want, "%s: scenes %s, expected %s" % (tag, seen, want))
    journal(tag, k.state, rounds)
    if code == 0:  # else keep the kiosk's log for a look
        shutil.rmtree(k.state, ignore_errors=True)
    else:
        print("%s: kiosk log in %s" % (tag, k.stderr_path))


def journal(tag, state, rounds):
    db = sqlite3.connect(os.path.join(state, "journal.db"))
    rows = [json.loads(r[0]) for r in db.execute("select json from events order by seq")]
    db.close()
    answers = [e for e in rows if e["type"] == "quiz_answer"]
    completes = [e for e in rows if e["type"] == "quiz_complete"]
    want = [(r.topic, a) for r in rounds for a in r.answers]
    check(len(answers) == len(want), "%s: %d quiz_answer events, expected %d" %
          (tag, len(answers), len(want)))
    for e, (topic, (qid, choice, correct, _)) in zip(answers, want):
        got = (e.get("topic"), e.get("question"), e.get("choice"), e.get("correct"))
        check(got == (topic, qid, choice, correct),
              "%s: quiz_answer %s, expected %s" % (tag, got, (topic, qid, choice, correct)))
        check(isinstance(e.get("ms"), (int, float)) and e["ms"] >= 1500,
              "%s: quiz_answer ms %s" % (tag, e.get("ms")))
        check(e.get("audience") == "youth" and e.get("pack", "").startswith("safety-and-health@"),
              "%s: quiz_answer without audience or pack: %s" % (tag, e))
    finished = [r for r in rounds if len(r.answers) and r is not rounds[-1]]
    want_c = [(r.topic, sum(1 for a in r.answers if a[2]), len(r.answers)) for r in finished]
    got_c = [(e.get("topic"), e.get("score"), e.get("total")) for e in completes]
    check(got_c == want_c, "%s: quiz_complete %s, expected %s" % (tag, got_c, want_c))


def main():
    start = time.time()
    content = make_content(tempfile.mkdtemp(prefix="kk-quiz-content-"))
    try:
        for lang in ("zh", "en"):
            for size in ((1920, 1080), (1080, 1920)):
                session(lang, size, content)
    finally:
        shutil.rmtree(content, ignore_errors=True)
    print("quiz: %d checks failed, %.1f s" % (len(failures), time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
