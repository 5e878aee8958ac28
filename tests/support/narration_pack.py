"""A small format 2 pack with real narration, for the read-aloud test and benchmark: the
sample safety-and-health pack with Ogg Vorbis sine tones (written by oggenc, from
vorbis-tools) as the recordings of the earthquake topic's first two pages and of every
quiz question and explanation.

  page 0   zh audio/p0-zh.ogg, en audio/p0-en.ogg   (6 s each, or long_s)
  page 1   zh audio/p1-zh.ogg only                   (1.5 s)
  quiz     every question zh audio/q-zh.ogg (3 s), explanation zh audio/x-zh.ogg (3 s)
The health-rumours topic has none.
"""
import array
import json
import math
import os
import shutil
import subprocess
import tempfile

TONE_RATE = 22050


def tone(path, seconds, freq=440, amp=0.5):
    """A sine tone of amplitude amp (of full scale) as Ogg Vorbis."""
    n = int(TONE_RATE * seconds)
    step = 2 * math.pi * freq / TONE_RATE
    pcm = array.array("h", (int(amp * 32767 * math.sin(step * i)) for i in range(n)))
    subprocess.run(["oggenc", "-Q", "-q", "2", "-r", "-C", "1", "-R", str(TONE_RATE), "-B", "16",
                    "-o", path, "-"], input=pcm.tobytes(), check=True)


def make_content(source_dir, long_s=6.0):
    """A content folder holding the pack (in its p/ subfolder); the caller removes it."""
    root = tempfile.mkdtemp(prefix="kk-narration-")
    d = os.path.join(root, "p")
    shutil.copytree(os.path.join(source_dir, "content", "safety-and-health"), d)
    os.makedirs(os.path.join(d, "audio"))
    for name, secs in (("p0-zh", long_s), ("p0-en", long_s), ("p1-zh", 1.5), ("q-zh", 3.0),
                       ("x-zh", 3.0)):
        tone(os.path.join(d, "audio", name + ".ogg"), secs)
    pj = os.path.join(d, "pack.json")
    with open(pj, encoding="utf-8") as f:
        p = json.load(f)
    p["format"] = 2
    with open(pj, "w", encoding="utf-8") as f:
        json.dump(p, f, ensure_ascii=False)
    tf = os.path.join(d, "topics", "earthquake.json")
    with open(tf, encoding="utf-8") as f:
        topic = json.load(f)
    topic["pages"][0]["audio"] = {"zh": "audio/p0-zh.ogg", "en": "audio/p0-en.ogg"}
    topic["pages"][1]["audio"] = {"zh": "audio/p1-zh.ogg"}  # no English recording
    for q in topic["quiz"]["questions"]:
        q["audio"] = {"zh": "audio/q-zh.ogg"}
        q["explain_audio"] = {"zh": "audio/x-zh.ogg"}
    with open(tf, "w", encoding="utf-8") as f:
        json.dump(topic, f, ensure_ascii=False)
    return root
