"""Unseen format 2 packs: gen_pack(seed, dest) writes a random but valid pack made from a
seed, for tests that must hold for content nobody has looked at (issue 13's "a pack which
you have not seen"). The same seed makes the same pack.

Each pack has 2 to 3 topics. Their pages mix text, fact boxes, pictures (SVGs drawn here,
wide, tall and square) and every interactive block: hotspots (1 to 16 spots, some on the
picture's edges and corners, some with a picture), compare, sequence (2 to 12 frames) and
steps (2 to 10 steps, some with a picture). Every topic's quiz has a hotspot question (1 to 8
regions) and an order question (2 to 8 choices), and the pack as a whole has at least one
of each block. Texts are Chinese and English, from one word up to what the slot they go in
is meant to hold: a page's text runs to several screens (the reader turns pages), the texts
of a block's slot (labels, a spot's card, a step) and of a question stay within the lengths
CONTENT.md asks of a page (what one screen is laid out for); English has long words.

Limits respected (src/core/pack.c, pack_blocks.c, kepu/limits.h): ids of 1 to 64 characters
unique within their block or topic, coordinates in 0..1, r in (0, 1], 1 to 16 spots, 2 to 12
frames, 2 to 10 steps, 1 to 8 regions, 2 to 8 choices, an order answer a permutation, at most
16 blocks a page, SVGs far within KK_MAX_IMAGE_DIM.

Run alone: python3 gen_pack.py SEED DEST prints a summary of the pack written at DEST.
"""
import json
import os
import random
import sys

ZH_WORDS = ["水", "土壤", "秸秆", "地震", "心脏", "视网膜", "光合作用", "二氧化碳", "蚯蚓",
            "降雨量", "太阳能电池板", "免疫系统", "血压", "台风", "气候变化", "种子", "叶绿素",
            "农药残留", "电动自行车", "防火门", "灭火器", "疫苗", "眼镜", "电网", "风力发电机"]
ZH_SENTENCES = [
    "雨水渗进土里存起来，播种时种子能吸到水，出苗更齐。",
    "地震来了，先伏地、遮挡、手抓牢，等摇晃停了再有序撤离。",
    "每用眼二十分钟，就看向六米外的地方二十秒，让眼睛放松。",
    "秸秆盖在地面上，挡住雨点直接砸土，也减少太阳和大风带走的水分。",
    "血压高的人要少吃盐，每天不超过五克，并按医生的要求按时吃药。",
    "接到自称“公检法”的电话要求转账，一定是诈骗，请挂断后拨打110核实。",
    "叶子里的叶绿素吸收阳光，把二氧化碳和水变成糖，同时放出氧气。",
    "台风来临前，把阳台上的花盆搬进屋里，关好门窗，不要外出。",
    "电动自行车不要在楼道里充电，充电时间不要太长，充满就拔掉插头。",
    "打农药时要戴手套、口罩和护目镜，穿长袖衣裤，顺风方向喷洒。",
    "疫苗让身体提前认识病毒，真正遇到时，免疫系统能更快地把它消灭。",
    "风力发电机的叶片转动，带动里面的发电机，把风的能量变成电。",
]
EN_WORDS = ["water", "soil", "straw", "earthquake", "heart", "retina", "photosynthesis",
            "carbon", "earthworms", "rainfall", "electroencephalography", "immunisation",
            "counterproductive", "thermoregulation", "internationalisation", "pesticide",
            "chlorophyll", "uncharacteristically", "vaccine", "interdisciplinary", "grid",
            "turbine", "microorganisms", "telecommunications", "spectacles"]
EN_SENTENCES = [
    "Rain soaks in and is stored, so seeds find water at sowing and come up evenly.",
    "When the shaking starts, drop, cover and hold on; leave calmly once it stops.",
    "Every twenty minutes, look at something six metres away for twenty seconds.",
    "Straw on the ground stops raindrops hitting bare soil and keeps the water in.",
    "People with high blood pressure should eat less salt: under five grams a day.",
    "A caller who says they are the police and asks for money is a scammer: hang up.",
    "Chlorophyll in the leaves captures sunlight and turns carbon dioxide into sugar.",
    "Before a typhoon, bring flowerpots in from the balcony and close the windows.",
    "Never charge an electric bicycle in the stairwell, and unplug it once it is full.",
    "When spraying pesticide, wear gloves, a mask and goggles, and spray downwind.",
    "A wind turbine's blades turn a generator inside it, making electricity from wind.",
]
# Only in texts of a paragraph or more: a run of nothing but long words (a short text has
# its long words one at a time, from EN_WORDS).
EN_LONG_RUN = ("Uncharacteristically, the interdisciplinary telecommunications microorganisms "
               "internationalisation counterproductive thermoregulation electroencephalography.")

# What each kind of text may hold: (zh characters, en words) at most. A page's text runs to
# several screens; the rest go into one screen's slot (CONTENT.md: 80-160 characters, 40-90
# words make a page, a slot is part of one).
LIMITS = {"page": (600, 300), "title": (18, 8), "label": (12, 4), "caption": (40, 16),
          "card": (90, 40), "frame": (60, 26), "step_title": (14, 6), "step": (110, 50),
          "prompt": (70, 30), "choice": (16, 7), "explain": (120, 55), "summary": (40, 16),
          "fact": (70, 30)}


class Gen:
    def __init__(self, seed, root):
        self.r = random.Random(seed)
        self.root = root
        self.nsvg = 0
        self.stats = {"blocks": {}, "questions": {}, "spots": [], "frames": [], "steps": [],
                      "regions": [], "choices": [], "pictures": {}}

    def count(self, kind, name):
        d = self.stats[kind]
        d[name] = d.get(name, 0) + 1

    # ---- texts ----

    def zh(self, most):
        """Chinese of 1 to most characters: a word, or sentences cut to length."""
        r = self.r
        if most <= 4 or r.random() < 0.2:
            w = r.choice(ZH_WORDS)
            return w[:most]
        n = r.choice([r.randint(2, most), most, r.randint(max(1, most // 2), most)])
        out = ""
        while len(out) < n:
            out += r.choice(ZH_SENTENCES)
        out = out[:n]
        if n > 6 and out[-1] not in "。，！？":
            out = out[:-1] + "。"
        return out

    def en(self, most):
        """English of 1 to most words, long words among them."""
        r = self.r
        if most <= 2 or r.random() < 0.2:
            return r.choice(EN_WORDS).capitalize()
        n = r.choice([r.randint(2, most), most, r.randint(max(1, most // 2), most)])
        words = []
        pool = EN_SENTENCES + ([EN_LONG_RUN] if most >= 30 else [])
        while len(words) < n:
            words += (r.choice(pool) if r.random() < 0.7 else r.choice(EN_WORDS)).split()
        words = words[:n]
        s = " ".join(words)
        return s[0].upper() + s[1:]

    def text(self, kind):
        zmax, emax = LIMITS[kind]
        return {"zh": self.zh(zmax), "en": self.en(emax)}

    # ---- pictures ----

    def svg(self, shape=None):
        """A new SVG, wide, tall or square; returns its path in the pack."""
        r = self.r
        shape = shape or r.choice(["wide", "tall", "square", "wide", "tall", "square", "4:3"])
        w, h = {"wide": (r.randint(1400, 2400), r.randint(400, 700)),
                "tall": (r.randint(400, 700), r.randint(1200, 2000)),
                "square": (800, 800), "4:3": (800, 600)}[shape]
        self.stats["pictures"][shape] = self.stats["pictures"].get(shape, 0) + 1
        self.nsvg += 1
        name = "images/p%03d-%s.svg" % (self.nsvg, shape.replace(":", "x"))
        hue = lambda: "#%02x%02x%02x" % (r.randint(40, 230), r.randint(40, 230), r.randint(40, 230))  # noqa: E731
        parts = ['<rect width="%d" height="%d" fill="%s"/>' % (w, h, hue())]
        for _ in range(r.randint(2, 6)):
            parts.append('<circle cx="%d" cy="%d" r="%d" fill="%s"/>'
                         % (r.randint(0, w), r.randint(0, h), r.randint(20, min(w, h) // 3), hue()))
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>'
                     % (r.randint(0, w // 2), r.randint(0, h // 2), w // 3, h // 4, hue()))
        with open(os.path.join(self.root, name), "w") as f:
            f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
                    'viewBox="0 0 %d %d">%s</svg>' % (w, h, w, h, "".join(parts)))
        return name

    # ---- blocks ----

    def coord(self):
        """0..1, often on or near an edge."""
        r = self.r
        v = r.choice([0.0, 1.0, r.uniform(0, 0.05), r.uniform(0.95, 1), r.random(), r.random()])
        return round(v, 3)

    def hotspots(self):
        r = self.r
        n = r.choice([1, 2, r.randint(3, 8), r.randint(9, 16), 16])
        self.stats["spots"].append(n)
        spots = []
        corners = [(0, 0), (1, 0), (0, 1), (1, 1)]
        for i in range(n):
            x, y = corners[i] if i < 4 and r.random() < 0.5 else (self.coord(), self.coord())
            s = {"id": "s%d-%s" % (i, r.choice(["a", "retina", "x" * r.randint(1, 50)])),
                 "x": x, "y": y, "label": self.text("label"), "text": self.text("card")}
            if r.random() < 0.25:
                s["image"] = self.svg()
            spots.append(s)
        b = {"type": "hotspots", "src": self.svg(), "spots": spots}
        if r.random() < 0.7:
            b["caption"] = self.text("caption")
        return b

    def compare(self):
        shape = self.r.choice(["wide", "tall", "square", "4:3"])
        b = {"type": "compare",
             "before": {"src": self.svg(shape), "label": self.text("label")},
             "after": {"src": self.svg(shape), "label": self.text("label")}}
        if self.r.random() < 0.7:
            b["caption"] = self.text("caption")
        return b

    def sequence(self):
        r = self.r
        n = r.choice([2, r.randint(3, 11), 12])
        self.stats["frames"].append(n)
        shape = r.choice(["wide", "tall", "square", "4:3"])
        frames = []
        for _ in range(n):
            f = {"src": self.svg(shape), "label": self.text("label")}
            if r.random() < 0.6:
                f["text"] = self.text("frame")
            frames.append(f)
        b = {"type": "sequence", "frames": frames}
        if r.random() < 0.7:
            b["caption"] = self.text("caption")
        return b

    def steps(self):
        r = self.r
        n = r.choice([2, r.randint(3, 9), 10])
        self.stats["steps"].append(n)
        steps = []
        for _ in range(n):
            s = {"title": self.text("step_title"), "text": self.text("step")}
            if r.random() < 0.35:
                s["image"] = self.svg()
            steps.append(s)
        return {"type": "steps", "steps": steps}

    def plain(self):
        r = self.r
        kind = r.choice(["text", "text", "image", "fact"])
        if kind == "text":
            return {"type": "text", "text": self.text("page")}
        if kind == "fact":
            return {"type": "fact", "text": self.text("fact")}
        b = {"type": "image", "src": self.svg()}
        if r.random() < 0.6:
            b["caption"] = self.text("caption")
        return b

    def page(self, interactive):
        """A page: some plain blocks, and the interactive ones asked for among them."""
        r = self.r
        blocks = [self.plain() for _ in range(r.choice([0, 1, 1, 2, 3]))]
        for kind in interactive:
            self.count("blocks", kind)
            blocks.insert(r.randint(0, len(blocks)), getattr(self, kind)())
        if not blocks:
            blocks = [{"type": "text", "text": self.text("page")}]
        return {"title": self.text("title"), "blocks": blocks[:16]}

    # ---- quiz ----

    def hotspot_q(self, qid):
        r = self.r
        n = r.choice([1, r.randint(2, 7), 8])
        self.stats["regions"].append(n)
        regions = [{"x": self.coord(), "y": self.coord(), "r": round(r.uniform(0.03, 0.3), 3)}
                   for _ in range(n)]
        answer = sorted(r.sample(range(n), r.randint(1, n)))
        self.count("questions", "hotspot")
        return {"id": qid, "type": "hotspot", "prompt": self.text("prompt"), "image": self.svg(),
                "regions": regions, "answer": answer, "explain": self.text("explain")}

    def order_q(self, qid):
        r = self.r
        n = r.choice([2, r.randint(3, 7), 8])
        self.stats["choices"].append(n)
        answer = list(range(n))
        r.shuffle(answer)
        self.count("questions", "order")
        return {"id": qid, "type": "order", "prompt": self.text("prompt"),
                "choices": [{"text": self.text("choice")} for _ in range(n)],
                "answer": answer, "explain": self.text("explain")}

    def other_q(self, qid):
        r = self.r
        kind = r.choice(["single", "truefalse"])
        self.count("questions", kind)
        if kind == "truefalse":
            return {"id": qid, "type": "truefalse", "prompt": self.text("prompt"),
                    "answer": [r.randint(0, 1)], "explain": self.text("explain")}
        n = r.randint(2, 4)
        return {"id": qid, "type": "single", "prompt": self.text("prompt"),
                "choices": [{"text": self.text("choice")} for _ in range(n)],
                "answer": [r.randrange(n)], "explain": self.text("explain")}

    def topic(self, i, interactive):
        r = self.r
        tid = "unseen-%d" % i
        # The interactive blocks over 2 to 5 pages, sometimes two on one page.
        pages, pending = [], list(interactive)
        while pending or len(pages) < 2:
            take = pending[:r.choice([1, 1, 2])]
            pending = pending[len(take):]
            pages.append(self.page(take))
        qs = [self.hotspot_q("hs"), self.order_q("ord")]
        if r.random() < 0.5:
            qs.append(self.other_q("q3"))
        r.shuffle(qs)
        topic = {"id": tid, "title": self.text("title"), "summary": self.text("summary"),
                 "cover": self.svg(), "audiences": ["other"], "pages": pages,
                 "references": ["中国科协：科普中国（生成的测试内容，kepu-kiosk tests/support/gen_pack.py）"],
                 "quiz": {"questions": qs}}
        with open(os.path.join(self.root, "topics", tid + ".json"), "w", encoding="utf-8") as f:
            json.dump(topic, f, ensure_ascii=False, indent=1)
        return "topics/%s.json" % tid

    def pack(self):
        r = self.r
        os.makedirs(os.path.join(self.root, "images"))
        os.makedirs(os.path.join(self.root, "topics"))
        kinds = ["hotspots", "compare", "sequence", "steps"]
        ntopics = r.randint(2, 3)
        # Every block at least once in the pack, the rest at random.
        per = [[] for _ in range(ntopics)]
        for k in kinds:
            per[r.randrange(ntopics)].append(k)
        for t in per:
            t += r.sample(kinds, r.randint(0, 2))
            r.shuffle(t)
        topics = [self.topic(i, per[i]) for i in range(ntopics)]
        with open(os.path.join(self.root, "pack.json"), "w", encoding="utf-8") as f:
            json.dump({"format": 2, "id": "unseen", "version": "2027.1.1",
                       "title": {"zh": "没见过的内容", "en": "Unseen content"},
                       "audiences": ["other"], "topics": topics}, f, ensure_ascii=False)


def gen_pack(seed, dest):
    """Writes the pack of seed into the folder dest (made here); returns its statistics."""
    os.makedirs(dest)
    g = Gen(seed, dest)
    g.pack()
    return g.stats


if __name__ == "__main__":
    print(json.dumps(gen_pack(int(sys.argv[1]), sys.argv[2]), ensure_ascii=False))
