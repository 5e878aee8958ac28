"""A small format 2 pack with real narration, for the read-aloud test and benchmark: the
sample safety-and-health pack with Ogg Vorbis sine tones (written by oggenc, from
vorbis-tools) as the recordings of the earthquake topic's first two pages and of every
quiz question and explanation.

  page 0   zh audio/p0-zh.ogg, en audio/p0-en.ogg   (6 s each, or long_s)
  page 1   zh audio/p1-zh.ogg only                   (1.5 s)
  page 2   zh audio/p2-zh.ogg: broken (a whole Ogg stream whose Vorbis setup header is junk:
           the pack's probe passes it, SDL2_mixer cannot play it)
  quiz     every question zh audio/q-zh.ogg (3 s), explanation zh audio/x-zh.ogg (3 s)
Pages 3 on and the health-rumours topic have none.
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


def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04c11db7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xffffffff)
    return table


_CRC = _crc_table()


def ogg_crc(data):
    """The Ogg page checksum (CRC-32, polynomial 0x04c11db7, not reflected, start 0)."""
    c = 0
    for b in data:
        c = ((c << 8) ^ _CRC[((c >> 24) & 0xff) ^ b]) & 0xffffffff
    return c


def break_setup(path):
    """Overwrites the Vorbis setup header with junk, keeping every page whole and its
    checksum right: the file still looks like Ogg Vorbis to a probe, but no decoder opens
    it."""
    d = bytearray(open(path, "rb").read())
    start = 0
    start += 27 + d[26] + sum(d[27:27 + d[26]])  # the second page holds comment and setup
    nseg = d[start + 26]
    body = start + 27 + nseg
    end = body + sum(d[start + 27:body])
    k = d.find(b"\x05vorbis", body, end)
    assert k > 0, "no setup header in the second page"
    d[k + 7:end] = b"\x55" * (end - k - 7)
    d[start + 22:start + 26] = b"\0\0\0\0"
    d[start + 22:start + 26] = ogg_crc(d[start:end]).to_bytes(4, "little")
    with open(path, "wb") as f:
        f.write(d)


def make_content(source_dir, long_s=6.0):
    """A content folder holding the pack (in its p/ subfolder); the caller removes it."""
    root = tempfile.mkdtemp(prefix="kk-narration-")
    d = os.path.join(root, "p")
    shutil.copytree(os.path.join(source_dir, "content", "safety-and-health"), d)
    os.makedirs(os.path.join(d, "audio"))
    for name, secs in (("p0-zh", long_s), ("p0-en", long_s), ("p1-zh", 1.5), ("q-zh", 3.0),
                       ("x-zh", 3.0)):
        tone(os.path.join(d, "audio", name + ".ogg"), secs)
    tone(os.path.join(d, "audio", "p2-zh.ogg"), 1.0)
    break_setup(os.path.join(d, "audio", "p2-zh.ogg"))
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
    topic["pages"][2]["audio"] = {"zh": "audio/p2-zh.ogg"}  # broken
    for q in topic["quiz"]["questions"]:
        q["audio"] = {"zh": "audio/q-zh.ogg"}
        q["explain_audio"] = {"zh": "audio/x-zh.ogg"}
    with open(tf, "w", encoding="utf-8") as f:
        json.dump(topic, f, ensure_ascii=False)
    return root
