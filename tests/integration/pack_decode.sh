#!/usr/bin/env bash
# kepu-pack validate decodes every picture with the real kiosk (issue 11): a valid SVG that
# takes seconds to rasterise and a PNG whose header is fine but whose pixels are garbage
# are each refused with one line naming the topic file and the picture, the shipped pack
# passes, and without the kiosk program validate says it did not decode.
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
SRC=$KK_SOURCE_DIR/content/safety-and-health
TMP=$(mktemp -d /tmp/kk-decode-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
check() { # name want got
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: want [$2] got [$3]"; fails=$((fails + 1)); fi
}
check_has() { # name needle haystack
    case "$3" in *"$2"*) echo "ok: $1" ;; *) echo "FAIL: $1: [$2] not in [$3]"; fails=$((fails + 1)) ;; esac
}
validate() { "$PACK" validate "$1" >"$TMP/out" 2>"$TMP/err"; echo $?; }

check "the shipped pack" 0 "$(validate "$SRC")"
check "its summary" "0 errors, 0 warnings" "$(tail -1 "$TMP/out")"

cp -r "$SRC" "$TMP/slow"
python3 - "$TMP/slow/images/earthquake-cover.svg" <<'PY'
import random, sys
r = random.Random(1)
pts = " ".join("L%d %d" % (r.randrange(4096), r.randrange(4096)) for _ in range(9999))
open(sys.argv[1], "w").write('<svg xmlns="http://www.w3.org/2000/svg" width="4096" height="4096">'
                             '<path d="M0 0 %s" fill="none" stroke="#345" stroke-width="40"/></svg>' % pts)
PY
start=$(date +%s)
check "a picture slow to decode" 1 "$(validate "$TMP/slow")"
check_has "names the topic, the picture and the budget" \
    "topics/earthquake.json: error: images/earthquake-cover.svg: decoding takes over 3000 ms" "$(cat "$TMP/out")"
check "its summary" "1 error, 0 warnings" "$(tail -1 "$TMP/out")"
took=$(($(date +%s) - start))
[ "$took" -lt 60 ] || { echo "FAIL: validate waited ${took} s for the slow picture"; fails=$((fails + 1)); }

cp -r "$SRC" "$TMP/garbage"
png=$(cd "$TMP/garbage" && grep -rho '"images/[^"]*\.png"' topics | head -1 | tr -d '"')
if [ -n "$png" ]; then
    # Keep the signature and IHDR (the probe passes), scramble everything after.
    python3 - "$TMP/garbage/$png" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(33, len(b)):
    b[i] = (b[i] * 7 + 13) & 0xff
open(p, "wb").write(bytes(b))
PY
    check "a PNG with garbage pixels" 1 "$(validate "$TMP/garbage")"
    check_has "says it cannot be decoded" "$png: cannot be decoded:" "$(cat "$TMP/out")"
else
    python3 - "$TMP/garbage" <<'PY'
import json, os, struct, sys, zlib
d = sys.argv[1]
def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)) + \
      chunk(b"IDAT", b"not zlib at all" * 10) + chunk(b"IEND", b"")
open(os.path.join(d, "images", "bad.png"), "wb").write(png)
t = os.path.join(d, "topics", "earthquake.json")
j = json.load(open(t, encoding="utf-8"))
j["cover"] = "images/bad.png"
json.dump(j, open(t, "w", encoding="utf-8"), ensure_ascii=False)
PY
    check "a PNG with garbage pixels" 1 "$(validate "$TMP/garbage")"
    check_has "says it cannot be decoded" "images/bad.png: cannot be decoded:" "$(cat "$TMP/out")"
fi

check "without the kiosk program" 0 "$(KEPU_KIOSK=/nonexistent validate "$TMP/slow")"
check_has "says the pictures were not decoded" "note: pictures not test-decoded" "$(cat "$TMP/err")"

[ "$fails" = 0 ] && echo "pack decode: all checks passed" || { echo "pack decode: $fails checks failed"; exit 1; }
