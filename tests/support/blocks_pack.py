"""A small format 2 pack with one topic ("eye") whose four pages hold one interactive block
each: hotspots (4 spots, one with a picture), compare, sequence (12 frames) and steps (10
steps), with SVG pictures made here. Used by tests/ui/test_blocks_draw.py and the kiosk
benchmark (tests/bench/bench_kiosk.py).
"""
import json
import os
import tempfile


def t(zh, en):
    return {"zh": zh, "en": en}


def svg(path, colour, shape, w=800, h=600):
    """A flat picture: a coloured background and a shape, different per file."""
    with open(path, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
                '<rect width="%d" height="%d" fill="%s"/>%s</svg>' % (w, h, w, h, w, h, colour, shape))


FRAMES = 12
STEPS = 10
SPOTS = [("cornea", 0.12, 0.5, t("角膜", "Cornea"),
          t("角膜是眼睛最前面透明的一层，光线先从这里进入眼睛。", "The clear front layer: light enters the eye here.")),
         ("lens", 0.35, 0.45, t("晶状体", "Lens"),
          t("晶状体像一个可以变厚变薄的放大镜，帮助我们看清远处和近处。", "Like a magnifier that changes shape to focus near and far.")),
         ("retina", 0.8, 0.5, t("视网膜", "Retina"),
          t("视网膜在眼球后面，把光变成信号，经视神经送到大脑。", "At the back of the eye, it turns light into signals for the brain.")),
         ("nerve", 0.96, 0.9, t("视神经", "Optic nerve"),
          t("视神经把视网膜的信号传到大脑。", "Carries the retina's signals to the brain."))]


def make_pack():
    root = tempfile.mkdtemp(prefix="kk-blocks-draw-")
    d = os.path.join(root, "eye")
    os.makedirs(os.path.join(d, "images"))
    os.makedirs(os.path.join(d, "topics"))
    img = lambda name: os.path.join(d, "images", name)  # noqa: E731
    svg(img("cover.svg"), "#dceefb", '<circle cx="400" cy="300" r="200" fill="#1b6fa8"/>')
    svg(img("eye.svg"), "#fff4e0", '<ellipse cx="400" cy="300" rx="360" ry="220" fill="#ffffff" '
        'stroke="#333" stroke-width="12"/><circle cx="280" cy="270" r="60" fill="#3a7d44"/>')
    svg(img("retina.svg"), "#fde2e2", '<circle cx="400" cy="300" r="150" fill="#b33"/>')
    svg(img("before.svg"), "#c0392b", '<rect x="100" y="100" width="200" height="400" fill="#fff"/>')
    svg(img("after.svg"), "#1f6f3f", '<circle cx="500" cy="300" r="180" fill="#ffe066"/>')
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"]
    for i in range(FRAMES):
        svg(img("f%d.svg" % i), colours[i], '<circle cx="%d" cy="300" r="120" fill="#fff"/>'
            % (100 + i * 55))
    svg(img("s0.svg"), "#eef", '<rect x="200" y="150" width="400" height="300" fill="#558"/>')
    spots = [{"id": i, "x": x, "y": y, "label": lb, "text": tx} for i, x, y, lb, tx in SPOTS]
    spots[2]["image"] = "images/retina.svg"
    pages = [
        {"title": t("眼睛的结构", "Inside the eye"),
         "blocks": [{"type": "text", "text": t("点一点图上的数字，看看眼睛各部分的作用。",
                                               "Tap a number to see what each part does.")},
                    {"type": "hotspots", "src": "images/eye.svg", "caption": t("眼球剖面图", "The eye, cut in half"),
                     "spots": spots}]},
        {"title": t("近视前后", "Before and after glasses"),
         "blocks": [{"type": "compare", "caption": t("拖动中间的把手比较", "Drag the handle to compare"),
                     "before": {"src": "images/before.svg", "label": t("戴眼镜前", "Without glasses")},
                     "after": {"src": "images/after.svg", "label": t("戴眼镜后", "With glasses")}}]},
        {"title": t("一天里的瞳孔", "The pupil through the day"),
         "blocks": [{"type": "sequence", "caption": t("瞳孔随光线变化", "The pupil follows the light"),
                     "frames": [{"src": "images/f%d.svg" % i,
                                 "label": t("第%d个时刻" % (i + 1), "Moment %d" % (i + 1)),
                                 "text": t("光线变化时，瞳孔会变大或变小。", "The pupil widens or narrows as the light changes.")}
                                for i in range(FRAMES)]}]},
        {"title": t("保护眼睛", "Look after your eyes"),
         "blocks": [{"type": "steps",
                     "steps": [{"title": t("第%d步：看远处" % (i + 1), "Step %d: look far away" % (i + 1)),
                                "text": t("每用眼二十分钟，就看向六米外的地方二十秒，让眼睛放松。",
                                          "Every 20 minutes, look at something 6 metres away for 20 seconds."),
                                **({"image": "images/s0.svg"} if i == 0 else {})}
                               for i in range(STEPS)]}]},
    ]
    topic = {"id": "eye", "title": t("我们的眼睛", "Our eyes"),
             "summary": t("眼睛怎样看见世界，又该怎样保护。", "How the eye sees, and how to look after it."),
             "cover": "images/cover.svg", "pages": pages,
             "quiz": {"questions": [{"id": "q1", "type": "truefalse", "prompt": t("视网膜在眼睛后面。", "The retina is at the back."),
                                     "answer": [0], "explain": t("对。", "Yes.")}]}}
    with open(os.path.join(d, "topics", "eye.json"), "w") as f:
        json.dump(topic, f, ensure_ascii=False)
    with open(os.path.join(d, "pack.json"), "w") as f:
        json.dump({"format": 2, "id": "eye", "version": "2027.1.1", "title": t("眼睛", "Eyes"),
                   "audiences": ["youth", "other"], "topics": ["topics/eye.json"]}, f, ensure_ascii=False)
    return root
