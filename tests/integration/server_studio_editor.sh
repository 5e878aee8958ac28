#!/usr/bin/env bash
# The two calls of the studio's editor (docs/studio.md, issue 15): POST …/validate checks
# unsaved text exactly as GET …/validate checks a revision and stores nothing; GET
# …/files?path= answers a stored picture with its type and a sandboxing policy. Both keep
# the drafts' access rules.
. "$(dirname "$0")/server_lib.bash"
SRC=${KK_SOURCE_DIR:?}/content/farming-and-land
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" >/dev/null || exit 1
TC=$(echo "staff-pass-2" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
"$BIN" user venue carol v2 --data "$DATA" >/dev/null || exit 1
start_server
B=(-H "Authorization: Bearer $TS")
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }
tar -czf "$TMP/farm.tgz" -C "$(dirname "$SRC")" "$(basename "$SRC")"
http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/farm.tgz" >/dev/null
D=$(curl -s "${B[@]}" "$U/api/v1/drafts" | jq -r '.[0].id')
check "a draft to work on" 1 "$(grep -c '^d[0-9a-f]\{16\}$' <<<"$D")"
http GET "/api/v1/drafts/$D" "${B[@]}" >/dev/null
cp "$TMP/body" "$TMP/d.json"

# --- POST validate: the body's text, not the stored one ---
r=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
body "$r" | jq -cS . >"$TMP/stored.json"
jq -c '{source: .source}' "$TMP/d.json" >"$TMP/same.json"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary @"$TMP/same.json")
check "unsaved text equal to the stored: the same messages as GET" "200 $(cat "$TMP/stored.json")" "$(code "$r") $(body "$r" | jq -cS .)"
T=$(jq -r '.source.pack.topics[1]' "$TMP/d.json")
jq -c --arg t "$T" '{source: (.source | .topics[$t].pages[0].title.zh = "" | .topics[$t].pages[0].blocks[0].text.en = "")}' "$TMP/d.json" >"$TMP/bad.json"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary @"$TMP/bad.json")
check "an emptied Chinese title is an error at its field" "200 $T pages[0].title.zh error is empty (every text needs Chinese)" \
    "$(code "$r") $(body "$r" | jq -r '.[] | select(.severity == "error") | "\(.file) \(.field) \(.severity) \(.message)"')"
check "an emptied English text is a warning at its text" "$T pages[0].blocks[0].text missing English" \
    "$(body "$r" | jq -r '.[] | select(.field == "pages[0].blocks[0].text") | "\(.file) \(.field) \(.message)"')"
jq -c '{source: (.source | .files["images/nope.png"] = ("0" * 64))}' "$TMP/d.json" >"$TMP/nofile.json"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary @"$TMP/nofile.json")
check "a picture never uploaded" "422 source.files: images/nope.png: not uploaded to this draft" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary '{"source":{"pack":1,"topics":{}}}')
check "a body of the wrong shape" "400 source.pack: missing or not an object (pack.json)" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary '{"source":{"pack":{},"topics":{"../x.json":{}}}}')
check_has "a topic path outside the pack" '400 source.topics: "../x.json": not a safe path' "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/validate" "${B[@]}" --data-binary 'not json')
check "not JSON" 400 "$(code "$r")"
r=$(http GET "/api/v1/drafts/$D/revisions" "${B[@]}")
check "checking stores nothing" 1 "$(body "$r" | jq length)"
r=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
check "the stored revision is as it was" "$(cat "$TMP/stored.json")" "$(body "$r" | jq -cS .)"
r=$(http POST "/api/v1/drafts/$D/validate" -H "Authorization: Bearer $TC" --data-binary @"$TMP/same.json")
check "another venue's staff" "403 draft $D: your venues (v2) may not edit venue v1" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/validate" --data-binary @"$TMP/same.json")
check "no credentials" 401 "$(code "$r")"

# --- GET files: a stored picture ---
P=$(jq -r '.source.files | keys[0]' "$TMP/d.json")
hdr=$(curl -s -D - -o "$TMP/pic" "${B[@]}" "$U/api/v1/drafts/$D/files?path=$P")
check "the picture's bytes" "$(sha256sum "$SRC/$P" | cut -d' ' -f1)" "$(sha256sum "$TMP/pic" | cut -d' ' -f1)"
check_has "its type by content" "Content-Type: image/svg+xml" "$hdr"
check_has "an SVG opened alone runs nothing" "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; sandbox" "$hdr"
check_has "its hash as ETag" "ETag: $(jq -r --arg p "$P" '.source.files[$p]' "$TMP/d.json")" "$hdr"
r=$(http GET "/api/v1/drafts/$D/files?path=images/nope.png" "${B[@]}")
check "a picture the draft does not have" "404 draft $D: revision 1 has no file \"images/nope.png\"" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http GET "/api/v1/drafts/$D/files" "${B[@]}")
check_has "no path" "400 " "$r"
r=$(http GET "/api/v1/drafts/$D/files?path=$P&revision=9" "${B[@]}")
check "a revision that does not exist" "404 draft $D: no revision 9" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http GET "/api/v1/drafts/$D/files?path=$P" -H "Authorization: Bearer $TC")
check "another venue's staff" 403 "$(code "$r")"
r=$(http GET "/api/v1/drafts/$D/files?path=$P" -H "Authorization: Bearer $TK")
check "a kiosk token" 403 "$(code "$r")"

# --- recordings (narration): kept by an import, served, uploaded, checked ---
H=${KK_SOURCE_DIR}/content/health-at-home
tar -czf "$TMP/health.tgz" -C "$(dirname "$H")" "$(basename "$H")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/health.tgz")
check "a pack with narration imports" 201 "$(code "$r")"
DH=$(body "$r" | jq -r .draft)
http GET "/api/v1/drafts/$DH" "${B[@]}" >/dev/null
cp "$TMP/body" "$TMP/h.json"
check "every recording is kept" "$(cd "$H" && ls audio/* | sort | tr '\n' ' ')" \
    "$(jq -r '.source.files | keys[] | select(startswith("audio/"))' "$TMP/h.json" | sort | tr '\n' ' ')"
r=$(http GET "/api/v1/drafts/$DH/validate" "${B[@]}")
check "its draft validates without errors" 0 "$(body "$r" | jq '[.[] | select(.severity == "error")] | length')"
A=$(cd "$H" && ls audio/* | head -1)
hdr=$(curl -s -D - -o "$TMP/rec" "${B[@]}" "$U/api/v1/drafts/$DH/files?path=$A")
check "the recording's bytes" "$(sha256sum "$H/$A" | cut -d' ' -f1)" "$(sha256sum "$TMP/rec" | cut -d' ' -f1)"
check_has "served as Ogg" "Content-Type: audio/ogg" "$hdr"
r=$(http POST "/api/v1/drafts/$DH/files?path=audio/new-zh.ogg" "${B[@]}" --data-binary @"$H/$A")
check "a recording uploaded" "201 Ogg Vorbis true" "$(code "$r") $(body "$r" | jq -r '"\(.type) \(.ms > 0)"')"
head -c 3000 "$H/$A" >"$TMP/cut.ogg"
r=$(http POST "/api/v1/drafts/$DH/files?path=audio/cut-zh.ogg" "${B[@]}" --data-binary @"$TMP/cut.ogg")
check "a recording cut short: 422" 422 "$(code "$r")"
check_has "naming it" "audio/cut-zh.ogg: " "$(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$DH/files?path=audio/pic.mp3" "${B[@]}" --data-binary @"$SRC/$P")
check_has "a picture named .mp3: 422" "422 " "$r"
kill -0 "$PID" || fail "the server died"
finish
