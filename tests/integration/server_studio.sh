#!/usr/bin/env bash
# kepu-server content studio (issue 15, docs/studio.md): a staff user imports a sample
# pack as a draft, edits and saves it, a save on a stale revision gets 409 with both texts
# kept, restores an earlier revision, compares two, uploads a picture, and exports a
# tar.gz that kepu-pack validate and build accept unchanged; staff of another venue get
# 403; the audit log tells who did what.
. "$(dirname "$0")/server_lib.bash"
PACK=${KK_BUILD_DIR}/src/tools/kepu-pack
SRC=${KK_SOURCE_DIR:?}/content/farming-and-land
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
TC=$(echo "staff-pass-2" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
"$BIN" user venue carol v2 --data "$DATA" 2>/dev/null || exit 1
r=$("$BIN" user venue bob nowhere --data "$DATA" 2>&1); check_has "user venue: unknown venue" "venue nowhere does not exist" "$r"
start_server
B=(-H "Authorization: Bearer $TS")
C=(-H "Authorization: Bearer $TC")
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }

# --- import a sample pack (a source folder inside one folder of a tar.gz) ---
tar -czf "$TMP/farm.tgz" -C "$(dirname "$SRC")" "$(basename "$SRC")"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/farm.tgz")
check "import" 201 "$(code "$r")"
D=$(body "$r" | jq -r .draft)
check "import answer" "farming-and-land 1" "$(body "$r" | jq -r '"\(.pack) \(.revision)"')"
check "draft id shape" 1 "$(grep -c '^d[0-9a-f]\{16\}$' <<<"$D")"
r=$(http POST /api/v1/drafts/import "${B[@]}")
check_has "import with an empty body" "400 " "$r"
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary 'not a tar at all')
check_has "import of something that is not a tar" "422 " "$r"
r=$(http POST /api/v1/drafts/import?venue=v2 "${B[@]}" --data-binary @"$TMP/farm.tgz")
check "staff importing into a venue not theirs" "403 venue v2: not one of your venues (v1)" "$(code "$r") $(body "$r" | jq -r .error)"

r=$(http GET "/api/v1/drafts/$D" "${B[@]}"); check "read the draft" 200 "$(code "$r")"
body "$r" >"$TMP/d1.json"
check "draft venue, state, revision" "v1 draft 1 1" "$(jq -r '"\(.venue) \(.state) \(.revision) \(.head)"' "$TMP/d1.json")"
check "every topic file kept" "$(ls "$SRC/topics" | wc -l)" "$(jq '.source.topics | length' "$TMP/d1.json")"
check "every picture kept" "$(ls "$SRC/images" | wc -l)" "$(jq '.source.files | length' "$TMP/d1.json")"
check "pack.json kept as it was" "$(jq -cS . "$SRC/pack.json")" "$(jq -cS .source.pack "$TMP/d1.json")"
t1=$(jq -r '.source.pack.topics[0]' "$TMP/d1.json")
check "a topic file kept as it was" "$(jq -cS . "$SRC/$t1")" "$(jq -cS --arg t "$t1" '.source.topics[$t]' "$TMP/d1.json")"
r=$(http GET /api/v1/drafts "${B[@]}")
check "the list shows it" "$D farming-and-land v1 bob 1" "$(body "$r" | jq -r '.[0] | "\(.id) \(.pack) \(.venue) \(.created_by) \(.revision)"')"
r=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
check "the imported pack has no errors" "200 0" "$(code "$r") $(body "$r" | jq '[.[] | select(.severity == "error")] | length')"

# --- edit and save; a stale save gets 409 with what changed, nothing lost ---
save() { # save BASE NOTE JQ-FILTER [token...]: PUT the draft of d1.json changed by the filter
    local base=$1 note=$2 filter=$3; shift 3
    jq -c --argjson b "$base" --arg n "$note" "{base_revision: \$b, note: \$n, source: (.source | $filter)}" "$TMP/d1.json" >"$TMP/put.json"
    http PUT "/api/v1/drafts/$D" "$@" -H 'Content-Type: application/json' --data-binary @"$TMP/put.json"
}
r=$(save 1 "new title" '.pack.title.zh = "农业与土地（新）"' "${B[@]}")
check "save" '200 {"revision":2}' "$r"
r=$(save 1 "my title" '.pack.title.zh = "农业和土地"' "${B[@]}")
check "stale save" 409 "$(code "$r")"
check_has "stale save names the revisions" "revision 1 is not the latest (2)" "$(body "$r" | jq -r .error)"
check "stale save: what changed, with both texts" 'pack.json title.zh 农业与土地 农业与土地（新） 农业和土地' \
    "$(body "$r" | jq -r '.changes[] | "\(.file) \(.field) \(.base) \(.head) \(.yours)"')"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}")
check "the first save survives the refused one" "2 农业与土地（新）" "$(body "$r" | jq -r '"\(.revision) \(.source.pack.title.zh)"')"
r=$(save 2 "merged" '.pack.title.zh = "农业和土地（新）"' "${B[@]}")
check "save on the latest after merging" '200 {"revision":3}' "$r"
racers=()
# four saves on the same base at once: exactly one is taken, the others get 409
jq -c '{base_revision: 3, note: "race", source: (.source | .pack.title.en = "Race")}' "$TMP/d1.json" >"$TMP/race.json"
for i in 1 2 3 4; do
    curl -s -o /dev/null -w '%{http_code}\n' -X PUT "${B[@]}" --data-binary @"$TMP/race.json" "$U/api/v1/drafts/$D" >"$TMP/race.$i" &
    racers+=($!)
done
wait "${racers[@]}" # not the server, also a child of this shell
check "concurrent saves on one base: one taken, three refused" "200 409 409 409" "$(cat "$TMP"/race.? | sort | tr '\n' ' ' | sed 's/ $//')"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}")
check "the race left one new revision" "4 Race" "$(body "$r" | jq -r '"\(.revision) \(.source.pack.title.en)"')"
r=$(save 4 "undo race" '.pack.title.zh = "农业和土地（新）"' "${B[@]}")
check "save after the race" '200 {"revision":5}' "$r"
r=$(http GET "/api/v1/drafts/$D/revisions" "${B[@]}")
check "revisions" "1 bob imported farming-and-land|2 bob new title|3 bob merged|4 bob race|5 bob undo race|" "$(body "$r" | jq -j '.[] | "\(.revision) \(.who) \(.note)|"')"
r=$(http GET "/api/v1/drafts/$D/diff?from=1&to=3" "${B[@]}")
check "diff to the latest by default" "1 5" "$(http GET "/api/v1/drafts/$D/diff?from=1" "${B[@]}" | cut -d' ' -f2- | jq -r '"\(.from) \(.to)"')"
check "diff of two revisions per field" "1 3 pack.json title.zh 农业与土地 农业和土地（新）" \
    "$(body "$r" | jq -r '"\(.from) \(.to) " + (.changes[] | "\(.file) \(.field) \(.from) \(.to)")')"
r=$(http GET "/api/v1/drafts/$D?revision=2" "${B[@]}")
check "read an older revision" "2 农业与土地（新）" "$(body "$r" | jq -r '"\(.revision) \(.source.pack.title.zh)"')"
r=$(http GET "/api/v1/drafts/$D?revision=9" "${B[@]}")
check "a revision that does not exist" "404 draft $D: no revision 9" "$(code "$r") $(body "$r" | jq -r .error)"

# --- restore ---
r=$(http POST "/api/v1/drafts/$D/restore" "${B[@]}" --data-binary '{"revision":1}')
check "restore revision 1" '200 {"revision":6}' "$r"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}")
check "restored as a new revision" "6 农业与土地 restored revision 1" "$(body "$r" | jq -r '"\(.revision) \(.source.pack.title.zh) \(.note)"')"
body "$r" >"$TMP/d1.json"

# --- a picture, then export: kepu-pack validate and build accept it unchanged ---
python3 - "$TMP/pic.png" <<'EOF'
import struct, sys, zlib
w, h = 64, 48
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
raw = b''.join(b'\0' + b''.join(bytes([x * 4 % 256, y * 5 % 256, 128]) for x in range(w)) for y in range(h))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
EOF
r=$(http POST "/api/v1/drafts/$D/files?path=images/new-cover.png" "${B[@]}" --data-binary @"$TMP/pic.png")
check "upload a picture" "201 images/new-cover.png PNG 64 48" "$(code "$r") $(body "$r" | jq -r '"\(.path) \(.type) \(.width) \(.height)"')"
SHA=$(body "$r" | jq -r .sha256)
check "the picture is a blob" "$(sha256sum <"$TMP/pic.png" | cut -d' ' -f1)" "$SHA"
cover_topic=$(jq -r '.source.topics | keys[0]' "$TMP/d1.json")
r=$(save 6 "new cover" ".files[\"images/new-cover.png\"] = \"$SHA\" | .topics[\"$cover_topic\"].cover = \"images/new-cover.png\"" "${B[@]}")
check "save with the new picture" '200 {"revision":7}' "$r"
r=$(save 7 "a file never uploaded" ".files[\"images/ghost.png\"] = \"$(printf '%064d' 7)\"" "${B[@]}")
check "a file not uploaded" "422 source.files: images/ghost.png: not uploaded to this draft" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http GET "/api/v1/drafts/$D/validate" "${B[@]}")
check "still no errors with the new cover" "200 0" "$(code "$r") $(body "$r" | jq '[.[] | select(.severity == "error")] | length')"
rm -f "$TMP/body"
code=$(curl -s -o "$TMP/export.tgz" -D "$TMP/h" -w '%{http_code}' "${B[@]}" "$U/api/v1/drafts/$D/export")
check "export" 200 "$code"
check_has "export is named after the pack" 'filename="farming-and-land-r7.tar.gz"' "$(cat "$TMP/h")"
mkdir -p "$TMP/x" && tar -xzf "$TMP/export.tgz" -C "$TMP/x"
check "exported folder" "farming-and-land" "$(ls "$TMP/x")"
cmp -s "$TMP/pic.png" "$TMP/x/farming-and-land/images/new-cover.png" && ok || fail "exported picture differs"
check "exported topic has the new cover" "images/new-cover.png" "$(jq -r .cover "$TMP/x/farming-and-land/$cover_topic")"
r=$("$PACK" validate "$TMP/x/farming-and-land" 2>&1); check "kepu-pack validate accepts the export" 0 "$?"
"$PACK" keygen -o "$TMP/k" >/dev/null 2>&1
r=$("$PACK" build "$TMP/x/farming-and-land" -o "$TMP/built" --key "$TMP/k.key" 2>&1)
check "kepu-pack build accepts the export ($r)" 0 "$?"
# ... and the built folder imports again, its MANIFEST dropped
tar -cf "$TMP/built.tar" -C "$TMP" built
r=$(http POST /api/v1/drafts/import "${B[@]}" --data-binary @"$TMP/built.tar")
check "import a built folder (plain tar)" 201 "$(code "$r")"
D2=$(body "$r" | jq -r .draft)
r=$(http GET "/api/v1/drafts/$D2" "${B[@]}")
check "a built folder's MANIFEST is dropped" "0 1" "$(body "$r" | jq -r '"\([.source.files | keys[] | select(startswith("MANIFEST"))] | length) \(.source.files | has("images/new-cover.png") | if . then 1 else 0 end)"')"

# --- who may see what ---
r=$(http GET "/api/v1/drafts/$D" "${C[@]}")
check "staff of another venue cannot read" "403 draft $D: your venues (v2) may not edit venue v1" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(save 7 "sneaky" '.pack.title.zh = "x"' "${C[@]}"); check_has "staff of another venue cannot save" "403 " "$r"
r=$(http GET "/api/v1/drafts/$D/export" "${C[@]}"); check_has "staff of another venue cannot export" "403 " "$r"
r=$(http POST "/api/v1/drafts/$D/files?path=images/a.png" "${C[@]}" --data-binary @"$TMP/pic.png"); check_has "staff of another venue cannot upload" "403 " "$r"
r=$(http POST "/api/v1/drafts/$D/restore" "${C[@]}" --data-binary '{"revision":1}'); check_has "staff of another venue cannot restore" "403 " "$r"
r=$(http GET /api/v1/drafts "${C[@]}"); check "staff of another venue see none" "200 0" "$(code "$r") $(body "$r" | jq length)"
r=$(http GET "/api/v1/drafts/$D" -H "Authorization: Bearer $TK"); check_has "a kiosk token" "403 " "$r"
r=$(http GET "/api/v1/drafts/$D"); check_has "no credentials" "401 " "$r"
r=$(http GET "/api/v1/drafts/d0000000000000000" "${B[@]}"); check "no such draft" "404 no draft d0000000000000000" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$TMP/jar")
CSRF=$(body "$r" | jq -r .csrf)
r=$(http GET /api/v1/drafts -b "$TMP/jar"); check "office sees every draft" "200 2" "$(code "$r") $(body "$r" | jq length)"
r=$(save 7 "office edit" '.pack.title.en = "Farming"' -b "$TMP/jar"); check_has "office save without CSRF" "403 " "$r"
r=$(save 7 "office edit" '.pack.title.en = "Farming"' -b "$TMP/jar" -H "X-CSRF-Token: $CSRF"); check "office save" '200 {"revision":8}' "$r"
r=$(http GET /api/v1/audit "${B[@]}"); check_has "staff cannot read the audit log" "403 " "$r"
r=$(http GET /api/v1/audit -b "$TMP/jar")
check "audit log" "bob draft.import $D|bob draft.save $D|bob draft.save $D|bob draft.save $D|bob draft.save $D|bob draft.restore $D|bob draft.file $D|bob draft.save $D|bob draft.import $D2|alice draft.save $D|" \
    "$(body "$r" | jq -j '.[] | select(.what | startswith("draft.")) | "\(.who) \(.what) \(.target)|"')"
r=$(curl -s -b "$TMP/jar" "$U/api/v1/audit?format=csv" | head -1 | tr -d '\r\357\273\277')
check "audit log as CSV" "at_ms,who,what,target,detail,venue,pack" "$r"
check "the server is up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"
finish
