#!/usr/bin/env python3
"""Makes the sample narration: each page of the topics named reads its title and text
aloud, in English, with espeak-ng (an offline speech synthesiser in Debian), encoded as
Ogg Vorbis with oggenc (vorbis-tools), written to <pack>/audio/<topic>-p<N>-en.ogg and
listed in the page's "audio" (the pack becomes format 2).

Chinese narration is not made: Debian 12's espeak-ng 1.51 reads Chinese characters and
pinyin alike as English letters and tone digits ("di four zhen four"), and Debian has no
other Mandarin voice. A venue with recordings puts them beside these as -zh files.

Usage, from the top of the repo:
    python3 scripts/make-narration.py PACK TOPIC [TOPIC...]
e.g. python3 scripts/make-narration.py content/safety-and-health earthquake
Run it again after editing a page's text: it remakes every file it lists.
"""
import json
import os
import subprocess
import sys
import tempfile


def page_text(page):
    """What a page says: its title, then its text and fact boxes, in English."""
    parts = [page.get("title", {}).get("en", "")]
    for b in page.get("blocks", []):
        if b.get("type") in ("text", "fact"):
            parts.append(b.get("text", {}).get("en", ""))
        elif b.get("type") == "steps":
            for i, s in enumerate(b.get("steps", []), 1):
                parts.append("Step %d. %s. %s" % (i, s["title"].get("en", ""), s.get("text", {}).get("en", "")))
    return "\n\n".join(p for p in parts if p.strip())


def speak(text, out):
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "page.wav")
        subprocess.run(["espeak-ng", "-v", "en-gb", "-s", "150", "-w", wav, text], check=True)
        subprocess.run(["oggenc", "-Q", "--resample", "16000", "-q", "0", "-o", out, wav], check=True)


def spans(text, start):
    """The [begin, end) of each element of the JSON array whose '[' is at start."""
    out, depth, i, begin, in_str = [], 0, start, None, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            if depth == 2 and c == "{":
                begin = i
        elif c in "]}":
            if depth == 2 and c == "}":
                out.append((begin, i + 1))
            depth -= 1
            if depth == 0:
                return out
        i += 1
    raise ValueError("unterminated array")


def set_audio(text, begin, end, src):
    """The page object text[begin:end] with "audio" {"en": src} in it, the rest of the
    file's text as it was (no reformatting of what staff wrote)."""
    page = text[begin:end]
    page_json = json.loads(page)
    audio = dict(page_json.get("audio", {}), en=src)
    entry = '"audio": ' + json.dumps(audio, ensure_ascii=False, separators=(", ", ": "))
    if "audio" in page_json:  # made before: replace the old member (one line, as written here)
        lines = [l for l in page.split("\n") if not l.lstrip().startswith('"audio"')]
        page = "\n".join(lines)
    nl = page.find("\n")
    if nl < 0:  # a page on one line
        return text[:begin] + "{" + entry + ", " + page[1:] + text[end:]
    indent = page[nl + 1:len(page) - len(page[nl + 1:].lstrip())]
    return text[:begin] + page[:nl + 1] + indent + entry + ",\n" + page[nl + 1:] + text[end:]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    pack = argv[1]
    os.makedirs(os.path.join(pack, "audio"), exist_ok=True)
    for topic in argv[2:]:
        path = os.path.join(pack, "topics", topic + ".json")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        pages = json.loads(text)["pages"]
        for i in reversed(range(len(pages))):  # from the end: earlier offsets stay valid
            src = "audio/%s-p%d-en.ogg" % (topic, i + 1)
            speak(page_text(pages[i]), os.path.join(pack, src))
            begin, end = spans(text, text.index("[", text.index('"pages"')))[i]
            text = set_audio(text, begin, end, src)
        json.loads(text)  # still JSON
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print("%s: %d pages read aloud" % (path, len(pages)))
    meta_path = os.path.join(pack, "pack.json")
    with open(meta_path, encoding="utf-8") as f:
        meta = f.read()
    if json.loads(meta).get("format", 1) < 2:
        with open(meta_path, "w", encoding="utf-8") as f:
            f.write(meta.replace('"format": 1', '"format": 2', 1))


if __name__ == "__main__":
    main(sys.argv)
