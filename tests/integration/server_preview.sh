#!/usr/bin/env bash
# kepu-server draft previews (issue 15, docs/studio.md): POST /api/v1/drafts/{id}/preview
# answers a PNG the real kepu-kiosk drew of a page or a question, in the language, size and
# text size asked; an unknown topic or question gets 404, a page the topic lacks 422, a
# draft that fails validation 422 with its messages, staff of another venue 403; twenty
# previews at once are each answered 200 or 503 (Retry-After) and none hangs.
. "$(dirname "$0")/server_lib.bash"
SRC=${KK_SOURCE_DIR:?}/content/farming-and-land
KIOSK=${KK_BUILD_DIR}/src/app/kepu-kiosk
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
TC=$(echo "staff-pass-2" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
"$BIN" user venue carol v2 --data "$DATA" 2>/dev/null || exit 1
start_server --kiosk-bin "$KIOSK"
B=(-H "Authorization: Bearer $TS")
C=(-H "Authorization: Bearer $TC")
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }

tar -czf "$TMP/farm.tgz" -C "$(dirname "$SRC")" "$(basename "$SRC")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/farm.tgz")
check "import" 201 "$(code "$r")"
D=$(body "$r" | jq -r .draft)
T=soil-and-water
Q=$(jq -r '.quiz.questions[0].id' "$SRC/topics/$T.json")
# Debian's python3 has PIL (scripts/deps.sh); a pyenv shim on PATH may not.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

# preview FILE JSON [token...]: POSTs JSON, the answer's body into FILE; prints "STATUS TYPE"
preview() {
    local file=$1 json=$2; shift 2
    curl -s -o "$file" -w '%{http_code} %{content_type}' -X POST "$@" -H 'Content-Type: application/json' \
        --data-binary "$json" "$U/api/v1/drafts/$D/preview"
}
# png_info FILE: "WxH colours" (distinct colours, capped) with PIL
png_info() {
    "$PY" -c 'import sys; from PIL import Image
im = Image.open(sys.argv[1]); assert im.format == "PNG"
c = im.convert("RGB").getcolors(1 << 20)
print("%dx%d %d" % (im.size[0], im.size[1], len(c) if c else 1 << 20))' "$1" 2>&1
}
several_colours() { local n=${1##* }; [ "$n" -ge 16 ] 2>/dev/null && echo yes || echo "no ($1)"; }

r=$(preview "$TMP/p1.png" "{\"topic\":\"$T\",\"page\":1,\"lang\":\"zh\",\"size\":\"1920x1080\"}" "${B[@]}")
check "page preview zh 1920x1080" "200 image/png" "$r"
i=$(png_info "$TMP/p1.png")
check "page preview zh: PNG size" 1920x1080 "${i%% *}"
check "page preview zh: not blank" yes "$(several_colours "$i")"

r=$(preview "$TMP/p2.png" "{\"topic\":\"$T\",\"page\":2,\"lang\":\"en\",\"size\":\"1080x1920\",\"large_text\":true}" "${B[@]}")
check "page preview en 1080x1920 large text" "200 image/png" "$r"
i=$(png_info "$TMP/p2.png")
check "page preview en: PNG size" 1080x1920 "${i%% *}"
check "page preview en: not blank" yes "$(several_colours "$i")"
check "two pages differ" 1 "$(cmp -s "$TMP/p1.png" "$TMP/p2.png"; echo $?)"

r=$(preview "$TMP/q.png" "{\"topic\":\"$T\",\"question\":\"$Q\",\"lang\":\"zh\"}" "${B[@]}")
check "question preview" "200 image/png" "$r"
i=$(png_info "$TMP/q.png")
check "question preview: PNG size" 1920x1080 "${i%% *}"
check "question preview: not blank" yes "$(several_colours "$i")"

# format 2 (issue 13): hotspot and order questions, asked first (difficulty 1), are answered
# on the way to the asked question, and are previewed themselves
F2=$TMP/f2/$(basename "$SRC")
mkdir -p "$TMP/f2" && cp -r "$SRC" "$F2"
/usr/bin/python3 - "$F2" "$T" <<'PY' || exit 1
import json, sys
d, t = sys.argv[1], sys.argv[2]
T = lambda zh, en: {"zh": zh, "en": en}
p = json.load(open(d + "/pack.json")); p["format"] = 2
json.dump(p, open(d + "/pack.json", "w"), ensure_ascii=False)
tj = json.load(open("%s/topics/%s.json" % (d, t)))
img = tj["cover"]
tj["quiz"]["questions"][:0] = [
    {"id": "hsq", "type": "hotspot", "difficulty": 1, "prompt": T("点一点", "Tap it"), "image": img,
     "regions": [{"x": 0.5, "y": 0.5, "r": 0.2}], "answer": [0], "explain": T("因为", "Because")},
    {"id": "odq", "type": "order", "difficulty": 1, "prompt": T("排一排", "Put in order"),
     "choices": [{"text": T("甲", "A")}, {"text": T("乙", "B")}, {"text": T("丙", "C")}],
     "answer": [2, 0, 1], "explain": T("因为", "Because")}]
for q in tj["quiz"]["questions"][2:]:
    q["difficulty"] = 3
json.dump(tj, open("%s/topics/%s.json" % (d, t), "w"), ensure_ascii=False)
PY
tar -czf "$TMP/f2.tgz" -C "$TMP/f2" "$(basename "$SRC")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/f2.tgz")
check "import a format 2 draft" 201 "$(code "$r")"
D0=$D
D=$(body "$r" | jq -r .draft)
for q in "$Q" odq hsq; do
    r=$(preview "$TMP/f2-$q.png" "{\"topic\":\"$T\",\"question\":\"$q\",\"lang\":\"en\",\"size\":\"1080x1920\"}" "${B[@]}")
    check "format 2: question $q preview" "200 image/png" "$r"
    i=$(png_info "$TMP/f2-$q.png")
    check "format 2: question $q: not blank" yes "$(several_colours "$i")"
done
D=$D0

r=$(preview "$TMP/e" '{"topic":"no-such-topic","page":1}' "${B[@]}")
check "unknown topic" "404 the draft has no topic \"no-such-topic\"" "${r%% *} $(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"question\":\"no-such-q\"}" "${B[@]}")
check "unknown question" "404 topic \"$T\" has no question \"no-such-q\"" "${r%% *} $(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":99}" "${B[@]}")
check_has "a page the topic lacks" "422 " "${r%% *} $(jq -r .error "$TMP/e")"
check_has "a page the topic lacks: says so" "not 99" "$(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1,\"size\":\"big\"}" "${B[@]}")
check "a bad size" "400 \"size\" must be \"WxH\", each side 320 to 4096 pixels" "${r%% *} $(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1,\"lang\":\"fr\"}" "${B[@]}")
check "a bad language" "400 \"lang\" must be \"zh\" or \"en\"" "${r%% *} $(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\"}" "${B[@]}")
check "neither page nor question" "400 give either \"page\" (a number from 1) or \"question\" (an id)" "${r%% *} $(jq -r .error "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1}" "${C[@]}")
check "staff of another venue" 403 "${r%% *}"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1}")
check "no credentials" 401 "${r%% *}"

# a broken draft: 422 with the same messages GET .../validate gives
r=$(http GET "/api/v1/drafts/$D" "${B[@]}"); body "$r" >"$TMP/d1.json"
jq -c --arg t "topics/$T.json" '{base_revision: .revision, note: "break", source: (.source | .topics[$t].title.zh = "" | .topics[$t].pages = [])}' "$TMP/d1.json" >"$TMP/put.json"
r=$(http PUT "/api/v1/drafts/$D" "${B[@]}" -H 'Content-Type: application/json' --data-binary @"$TMP/put.json")
check "save a broken revision" 200 "$(code "$r")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1}" "${B[@]}")
check "broken draft" "422 application/json" "$r"
v=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
check "broken draft: the validation messages" "$(body "$v" | jq -cS .)" "$(jq -cS .messages "$TMP/e")"
check "broken draft: some are errors" 1 "$(jq '[.messages[] | select(.severity == "error")] | length > 0 | if . then 1 else 0 end' "$TMP/e")"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1,\"revision\":1}" "${B[@]}")
check "an earlier good revision still previews" "200 image/png" "$r"

# twenty at once: each 200 or 503 with Retry-After, none hangs, the server still answers
pids=()
for n in $(seq 1 20); do
    curl -s -m 60 -o /dev/null -D "$TMP/many.$n.h" -w '%{http_code}\n' -X POST "${B[@]}" \
        --data-binary "{\"topic\":\"$T\",\"page\":1,\"revision\":1}" "$U/api/v1/drafts/$D/preview" >"$TMP/many.$n" &
    pids+=($!)
done
check "healthz while previews run" 200 "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$U/healthz")"
wait "${pids[@]}"
codes=$(cat "$TMP"/many.? "$TMP"/many.?? | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
check_has "twenty at once: some drawn" "200" "$codes"
check "twenty at once: only 200 and 503" "" "$(cat "$TMP"/many.? "$TMP"/many.?? | grep -v '^200$\|^503$')"
busy=$(grep -l '^503$' "$TMP"/many.? "$TMP"/many.?? | head -1)
if [ -n "$busy" ]; then
    check_has "503 says when to retry" "retry-after: 2" "$(tr 'A-Z' 'a-z' <"$busy.h")"
fi
echo "twenty at once: $(cat "$TMP"/many.? "$TMP"/many.?? | sort | uniq -c | tr '\n' ' ')"
check "no kiosk left running" "" "$(pgrep -P "$PID" -a || true)"
check "no preview folder left" "" "$(ls "$DATA/tmp" 2>/dev/null | grep preview || true)"
mkdir -p "${KK_PREVIEW_KEEP:-$TMP}"; cp "$TMP"/p1.png "$TMP"/p2.png "$TMP"/q.png "${KK_PREVIEW_KEEP:-$TMP}/"
check "the server is up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"

# a kiosk that never answers: 504 at the deadline, the kiosk stopped, the worker free
stop_server
printf '#!/bin/sh\nexec sleep 120\n' >"$TMP/hung-kiosk"
chmod +x "$TMP/hung-kiosk"
start_server --kiosk-bin "$TMP/hung-kiosk"
t0=$(date +%s)
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1,\"revision\":1}" "${B[@]}" -m 30)
check "a hung kiosk" "504 the preview took longer than 10 s; the kiosk was stopped" "${r%% *} $(jq -r .error "$TMP/e")"
took=$(( $(date +%s) - t0 ))
[ "$took" -le 13 ] && ok || fail "a hung kiosk: answered after $took s"
check "the hung kiosk was stopped" "" "$(pgrep -P "$PID" -a || true)"
check "the server is up after a hung kiosk" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"
stop_server
start_server --kiosk-bin "$TMP/no-such-kiosk"
r=$(preview "$TMP/e" "{\"topic\":\"$T\",\"page\":1,\"revision\":1}" "${B[@]}")
check "no kiosk program" "503 previews are not available: kepu-server cannot find kepu-kiosk" "${r%% *} $(jq -r .error "$TMP/e")"
finish
