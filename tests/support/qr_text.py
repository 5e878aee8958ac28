"""Turns the text QR code kepu-server prints (src/server/srv_qr.c: drawn half blocks are the
light modules, spaces the dark ones) into a PNG that a QR reader can scan.
Usage: qr_text.py TEXT_FILE OUT.png"""
import sys

from PIL import Image

SCALE = 8
rows = [line.rstrip("\n") for line in open(sys.argv[1], encoding="utf-8")
        if line.strip() and set(line.rstrip("\n")) <= set("\u2588\u2580\u2584 ")]
width = max(len(r) for r in rows)
img = Image.new("L", (width * SCALE, 2 * len(rows) * SCALE), 255)
for y, row in enumerate(rows):
    for x, c in enumerate(row.ljust(width, "\u2588")):
        for half, light in ((0, c in "\u2588\u2580"), (1, c in "\u2588\u2584")):
            if not light:
                img.paste(0, (x * SCALE, (2 * y + half) * SCALE, (x + 1) * SCALE, (2 * y + half + 1) * SCALE))
img.save(sys.argv[2])
