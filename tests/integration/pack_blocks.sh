#!/usr/bin/env bash
# kepu-pack validate on format 2 packs (issue 13, docs/blocks.md): the shipped pack with
# every interactive block and quiz type added passes; each broken variant exits 1 with the
# same one-line message the core parser gives (tests/core/test_pack_blocks.c).
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
SRC=$KK_SOURCE_DIR/content/safety-and-health
TMP=$(mktemp -d /tmp/kk-blocks-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
check() { # name want got
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: want [$2] got [$3]"; fails=$((fails + 1)); fi
}
check_has() { # name needle haystack
    case "$3" in *"$2"*) echo "ok: $1" ;; *) echo "FAIL: $1: [$2] not in [$3]"; fails=$((fails + 1)) ;; esac
}

# variant NAME FORMAT PYTHON: a copy of the shipped pack with format FORMAT, the first
# page's blocks and the quiz changed by PYTHON (t is the topic as a dict).
variant() {
    local d=$TMP/$1
    cp -r "$SRC" "$d"
    python3 - "$d" "$2" "$3" <<'PY' || exit 1
import json, sys
d, fmt, code = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def T(zh, en): return {"zh": zh, "en": en}
img = "images/earthquake-cover.svg"
spot = lambda i, x=0.5: {"id": i, "x": x, "y": 0.5, "label": T("点", "Spot"), "text": T("说", "Says")}
frame = lambda: {"src": img, "label": T("帧", "Frame")}
step = lambda: {"title": T("步", "Step"), "text": T("做", "Do")}
good = [
    {"type": "hotspots", "src": img, "caption": T("图", "Picture"), "spots": [spot("a"), spot("b", 0.2)]},
    {"type": "compare", "caption": T("比", "Compare"), "before": frame(), "after": frame()},
    {"type": "sequence", "caption": T("序", "Sequence"), "frames": [frame(), frame()]},
    {"type": "steps", "steps": [step(), step()]},
]
hq = {"id": "tap", "type": "hotspot", "prompt": T("点", "Tap"), "image": img,
      "regions": [{"x": 0.5, "y": 0.5, "r": 0.2}], "answer": [0], "explain": T("因", "Because")}
oq = {"id": "seq", "type": "order", "prompt": T("排", "Order"),
      "choices": [{"text": T("甲", "A")}, {"text": T("乙", "B")}, {"text": T("丙", "C")}],
      "answer": [2, 0, 1], "explain": T("因", "Because")}
p = json.load(open(d + "/pack.json"))
p["format"] = fmt
json.dump(p, open(d + "/pack.json", "w"), ensure_ascii=False)
tf = d + "/" + p["topics"][0]
t = json.load(open(tf))
blocks = t["pages"][0]["blocks"]
qs = t["quiz"]["questions"]
blocks[:0] = good
qs[:0] = [hq, oq]
exec(code)
json.dump(t, open(tf, "w"), ensure_ascii=False)
PY
}

# expect NAME FORMAT PYTHON WHERE MESSAGE: validate exits 1 and prints the line
# "WHERE: error: MESSAGE" (WHERE is file: field).
expect() {
    variant "$1" "$2" "$3"
    out=$("$PACK" validate "$TMP/$1" 2>&1); rc=$?
    check "$1: validate exits 1" 1 "$rc"
    check "$1: says what is wrong" "$4: error: $5" "$(printf '%s\n' "$out" | grep -F -- "$4: error:")"
}

variant good 2 ""
out=$("$PACK" validate "$TMP/good" 2>&1); rc=$?
check "a format 2 pack with every new type is valid" 0 "$rc"

B='topics/earthquake.json: pages[0].blocks'
Q='topics/earthquake.json: quiz.questions'
expect format1 1 "" "$B[0].type" "block type \"hotspots\" needs \"format\": 2 in pack.json"
expect format1q 1 "del blocks[0:4]" "$Q[0].type" "question type \"hotspot\" needs \"format\": 2 in pack.json"
expect format3 3 "" "pack.json: format" "unsupported format 3 (this version reads formats 1 to 2)"
expect unknown 2 "blocks[1]['type'] = 'hologram'" "$B[1].type" "unknown block type \"hologram\" (use text, image, fact, hotspots, compare, sequence or steps)"
expect unknownq 2 "qs[1]['type'] = 'slider'" "$Q[1].type" "unknown question type \"slider\" (use single, multi, truefalse, hotspot or order)"
expect x 2 "blocks[0]['spots'][1]['x'] = 1.5" "$B[0].spots[1].x" "1.5 is outside 0 to 1 (a fraction of the picture)"
expect dupspot 2 "blocks[0]['spots'][1]['id'] = 'a'" "$B[0].spots[1].id" "spot id \"a\" is used twice in this block"
expect oneframe 2 "blocks[2]['frames'] = [frame()]" "$B[2].frames" "has 1 frames; it needs 2 to 12"
expect frames13 2 "blocks[2]['frames'] = [frame() for _ in range(13)]" "$B[2].frames" "has 13 frames; it needs 2 to 12"
expect steps11 2 "blocks[3]['steps'] = [step() for _ in range(11)]" "$B[3].steps" "has 11 steps; it needs 2 to 10"
expect nopicture 2 "blocks[1]['after']['src'] = 'images/gone.svg'" "$B[1].after.src" "\"images/gone.svg\" not found in the pack"
expect notperm 2 "qs[1]['answer'] = [2, 0]" "$Q[1].answer" "must list every choice once in the right order (a permutation of 0 to 2), not 2 of the 3"
expect r0 2 "qs[0]['regions'][0]['r'] = 0" "$Q[0].regions[0].r" "0 is outside 0 (excluded) to 1 (a fraction of the picture)"
expect rbig 2 "qs[0]['regions'][0]['r'] = 1.5" "$Q[0].regions[0].r" "1.5 is outside 0 (excluded) to 1 (a fraction of the picture)"

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
