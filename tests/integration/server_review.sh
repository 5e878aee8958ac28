#!/usr/bin/env bash
# kepu-server review (issue 16, docs/review.md) over loopback with two office users and
# a staff user: a staff `kepu-pack publish` lands in review, never as a version; staff
# cannot approve, publish or assign; an office user who saved a revision cannot approve
# it (403, and the refused try is in the audit log); changes requested, fixed, approved
# by the other office user and published signed with --signing-key as the next version,
# which a kiosk then verifies; an offline-signed upload is taken only when it holds the
# approved revision exactly (one byte changed: refused naming the file); without a key
# publishing fails cleanly (no version row, no blob); a key file readable by others stops
# the start with one line; the audit log is filtered, exported as CSV and cannot be
# changed.
. "$(dirname "$0")/server_lib.bash"
PACK=${KK_BUILD_DIR}/src/tools/kepu-pack
SRC=${KK_SOURCE_DIR:?}/content/safety-and-health
setup_fleet
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
TC=$(echo "staff-pass-2" | "$BIN" user add carol --role staff --data "$DATA") || exit 1
"$BIN" user venue carol v2 --data "$DATA" 2>/dev/null || exit 1
echo "secret-pass-2" | "$BIN" user add dora --role office --data "$DATA" || exit 1
body() { cut -d' ' -f2- <<<"$1"; }
code() { cut -d' ' -f1 <<<"$1"; }
"$PACK" keygen -o "$TMP/alliance" >/dev/null || exit 1
"$PACK" keygen -o "$TMP/old" >/dev/null || exit 1
mkdir -p "$DATA/keys" && cp "$TMP/old.pub" "$DATA/keys/"

# --- the key file must be readable by the server's user only ---
chmod 644 "$TMP/alliance.key"
out=$("$BIN" serve --listen 127.0.0.1:0 --data "$DATA" --signing-key "$TMP/alliance.key" 2>&1); rc=$?
check "a key others may read: the server does not start" 1 "$rc"
check "it says so in one line naming the file and the mode" 1 "$(wc -l <<<"$out")"
check_has "the line names the file and the mode" "$TMP/alliance.key: mode 0644 lets others read the key" "$out"
chmod 640 "$TMP/alliance.key"
out=$("$BIN" serve --listen 127.0.0.1:0 --data "$DATA" --signing-key "$TMP/alliance.key" 2>&1); rc=$?
check_has "group-readable is refused too" "mode 0640" "$out"
chmod 600 "$TMP/alliance.key"

login() { # login USER PASSWORD JAR: sets CSRF_<jar>
    http POST /api/v1/login --data-binary "{\"user\":\"$1\",\"password\":\"$2\"}" -c "$3" >/dev/null
    jq -r .csrf "$TMP/body"
}

# --- first without a key: publishing fails cleanly ---
start_server
B=(-H "Authorization: Bearer $TS")
"$PACK" build "$SRC" -o "$TMP/built" --key "$TMP/old.key" >/dev/null || exit 1
out=$("$PACK" publish "$TMP/built" --server "$U" --token "$TS" 2>&1); rc=$?
check "staff kepu-pack publish exits 0" 0 "$rc"
check_has "it says the pack went to review" "submitted safety-and-health for review" "$out"
D=$(grep -o 'draft d[0-9a-f]*' <<<"$out" | cut -d' ' -f2)
check "no version was published by the staff upload" 0 "$(sql "SELECT COUNT(*) FROM packs")"
r=$(http GET "/api/v1/packs/safety-and-health/2026.11.1/manifest" -H "Authorization: Bearer $TK")
check "a kiosk cannot fetch the uploaded version" 404 "$(code "$r")"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}")
check "the upload is a draft in review" "in_review bob 1" "$(body "$r" | jq -r '"\(.state) \(.who) \(.revision)"')"

A=$TMP/alice.jar; AC=$(login alice secret-pass "$A"); OA=(-b "$A" -H "X-CSRF-Token: $AC")
O=$TMP/dora.jar; DC=$(login dora secret-pass-2 "$O"); OD=(-b "$O" -H "X-CSRF-Token: $DC")
r=$(http GET /api/v1/inbox "${OA[@]}")
check "the office inbox holds the draft in review" "1 $D in_review" "$(body "$r" | jq -r '"\(.count) \(.drafts[0].id) \(.drafts[0].state)"')"

# --- staff cannot approve, request changes, publish or assign ---
r=$(http POST "/api/v1/drafts/$D/approve" "${B[@]}"); check "staff approve: 403" 403 "$(code "$r")"
check_has "the 403 says who may" "only office users approve" "$(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/publish" "${B[@]}"); check "staff publish: 403" 403 "$(code "$r")"
r=$(http POST "/api/v1/drafts/$D/request-changes" "${B[@]}" --data-binary '{"comments":[{"text":"x"}]}')
check "staff request changes: 403" 403 "$(code "$r")"
r=$(http POST /api/v1/assignments "${B[@]}" --data-binary '{"pack":"safety-and-health","version":"1","venue":"v1"}')
check "staff assign: 403" 403 "$(code "$r")"
r=$(http POST "/api/v1/drafts/$D/publish" "${OA[@]}")
check "publish before approval: 409 naming the state" "409 draft $D is in_review; only an approved draft can be published" "$(code "$r") $(body "$r" | jq -r .error)"
r=$(http POST "/api/v1/drafts/$D/submit" "${B[@]}")
check "submit twice: 409 naming the state" "409" "$(code "$r")"
check_has "the 409 names the state" "is in_review" "$(body "$r" | jq -r .error)"

# --- changes requested; the staff member sees them, fixes, resubmits ---
r=$(http POST "/api/v1/drafts/$D/request-changes" "${OA[@]}" --data-binary '{"comments":[]}')
check "no comments: 400" 400 "$(code "$r")"
bad() { # bad WHAT COMMENTS-JSON EXPECTED-ERROR: a 400 naming the comment and what is wrong
    local r
    r=$(http POST "/api/v1/drafts/$D/request-changes" "${OA[@]}" --data-binary "{\"comments\":$2}")
    check "$1: 400" 400 "$(code "$r")"
    check "$1: one line naming it" "$3" "$(body "$r" | jq -r .error)"
}
bad "an unknown topic" '["fine",{"topic":"volcano","page":0,"text":"x"}]' "comments[1].topic: the draft has no topic volcano"
bad "a page past the end" '[{"topic":"earthquake","page":6,"text":"x"}]' "comments[0].page: topic earthquake has pages 0 to 5 (0-based), not 6"
bad "a page that is not a whole number" '[{"topic":"earthquake","page":1.5,"text":"x"}]' "comments[0].page: topic earthquake has pages 0 to 5 (0-based), not 1.5"
bad "a page without its topic" '[{"page":1,"text":"x"}]' "comments[0]: a page or question needs its \"topic\""
bad "an unknown question" '[{"topic":"earthquake","question":"q99","text":"x"}]' "comments[0].question: topic earthquake has no question q99"
bad "no text" '[{"topic":"earthquake","page":1}]' "comments[0].text: must be a string of 1 to 2000 bytes"
bad "an empty string" '["ok",""]' "comments[1].text: must be a string of 1 to 2000 bytes"
bad "text too long" "[{\"topic\":\"earthquake\",\"text\":\"$(head -c 2001 /dev/zero | tr '\0' x)\"}]" "comments[0].text: must be a string of 1 to 2000 bytes"
bad "a bad field name" '[{"topic":"earthquake","page":0,"field":"ti tle","text":"x"}]' "comments[0].field: must be a field name such as title, text, image or choices (at most 64 letters, digits, _ . [ ])"
bad "a number for a comment" '[42]' "comments[0]: must be a string or {\"topic\",\"page\"|\"question\",\"field\",\"text\"}"
check "nothing was stored by the bad requests" "in_review null" "$(http GET "/api/v1/drafts/$D" "${OA[@]}" | cut -d' ' -f2- | jq -rc '"\(.state) \(.comments | if length == 0 then null else . end)"')"
r=$(http POST "/api/v1/drafts/$D/request-changes" "${OA[@]}" \
    --data-binary '{"comments":[{"file":"pack.json","field":"title.en","text":"Say Health and safety"},{"topic":"earthquake","page":2,"field":"text","text":"看一下"},{"topic":"earthquake","question":"q1","field":"choices","text":"choices too close"},"a general remark",{"file":"topics/earthquake.json","page":0,"text":"by file"}]}')
check "request changes" "200 changes_requested" "$(code "$r") $(body "$r" | jq -r .state)"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}")
check "the draft holds the comments tied to pages, a question and a field, with the round" \
    '[{"field":"title.en","revision":1,"who":"alice"},{"field":"text","page":2,"revision":1,"topic":"earthquake","who":"alice"},{"field":"choices","question":"q1","revision":1,"topic":"earthquake","who":"alice"},{"revision":1,"text":"a general remark","who":"alice"},{"page":0,"revision":1,"topic":"earthquake","who":"alice"}]' \
    "$(body "$r" | jq -Sc '[.comments[] | {topic, page, question, field, who, revision} + (if .topic == null and .field == null then {text} else {} end) | with_entries(select(.value != null))]')"
check "each comment has its time" 5 "$(body "$r" | jq '[.comments[] | select(.at_ms > 1700000000000)] | length')"
check "the audit row counts the comments" "alice revision 1: 5 comment(s): Say Health and safety" \
    "$(sql "SELECT who || ' ' || detail FROM audit WHERE what = 'draft.request_changes'")"
r=$(http GET /api/v1/inbox "${B[@]}")
check "the staff inbox holds it with the comments" "1 $D changes_requested Say Health and safety alice earthquake 2 看一下" \
    "$(body "$r" | jq -r '"\(.count) \(.drafts[0].id) \(.drafts[0].state) \(.drafts[0].comments[0].text) \(.drafts[0].comments[0].who) \(.drafts[0].comments[1].topic) \(.drafts[0].comments[1].page) \(.drafts[0].comments[1].text)"')"
r=$(http GET /api/v1/inbox "${OA[@]}"); check "the office inbox is empty meanwhile" 0 "$(body "$r" | jq .count)"
r=$(http GET /api/v1/inbox -H "Authorization: Bearer $TC"); check "another venue's staff: not in their inbox" 0 "$(body "$r" | jq .count)"
r=$(http POST "/api/v1/drafts/$D/submit" -H "Authorization: Bearer $TC"); check "another venue's staff cannot submit it" 403 "$(code "$r")"
http GET "/api/v1/drafts/$D" "${B[@]}" >/dev/null; cp "$TMP/body" "$TMP/d.json"
put() { # put BASE JQ-FILTER [credentials...]
    local base=$1 filter=$2; shift 2
    jq -c --argjson b "$base" "{base_revision: \$b, note: \"fix\", source: (.source | $filter)}" "$TMP/d.json" >"$TMP/put.json"
    http PUT "/api/v1/drafts/$D" "$@" --data-binary @"$TMP/put.json"
}
r=$(put 1 '.pack.title.en = "Health and safety"' "${B[@]}"); check "staff fixes it" '200 {"revision":2}' "$r"
r=$(http GET "/api/v1/drafts/$D" "${B[@]}"); check "saving moves it back to draft" draft "$(body "$r" | jq -r .state)"
r=$(http POST "/api/v1/drafts/$D/submit" "${B[@]}"); check "resubmit" "200 in_review 2" "$(code "$r") $(body "$r" | jq -r '"\(.state) \(.revision)"')"
r=$(put 2 '.pack.title.en = "Sneaky"' "${B[@]}")
check "no saving while in review: 409 naming the state" 409 "$(code "$r")"
check_has "the 409 names the state" "is in_review" "$(body "$r" | jq -r .error)"

# --- alice changes it herself (after a request), so alice may not approve it ---
r=$(http POST "/api/v1/drafts/$D/request-changes" "${OA[@]}" --data-binary '{"comments":[{"text":"I will fix the English myself"}]}')
check "request changes again" 200 "$(code "$r")"
r=$(put 2 '.pack.title.en = "Health & safety"' "${OA[@]}"); check "alice saves revision 3" '200 {"revision":3}' "$r"
r=$(http POST "/api/v1/drafts/$D/submit" "${OA[@]}"); check "alice submits" 200 "$(code "$r")"
r=$(http POST "/api/v1/drafts/$D/approve" "${OA[@]}")
check "self-approval: 403" 403 "$(code "$r")"
check_has "the 403 says why" "you (alice) saved a revision of it since its last approval" "$(body "$r" | jq -r .error)"
check "the refused try is in the audit log" "alice draft.approve_refused $D" \
    "$(sql "SELECT who || ' ' || what || ' ' || target FROM audit WHERE what = 'draft.approve_refused'")"
r=$(http GET "/api/v1/drafts/$D" "${OA[@]}"); check "still in review" in_review "$(body "$r" | jq -r .state)"

# --- dora approves; without a key, publishing fails and leaves nothing behind ---
blobs_before=$(find "$DATA/blobs" -type f | wc -l)
r=$(http POST "/api/v1/drafts/$D/approve" "${OD[@]}")
V=$(body "$r" | jq -r .version)
check "dora approves revision 3" "200 approved 3" "$(code "$r") $(body "$r" | jq -r '"\(.state) \(.revision)"')"
check "the version is the next one: YYYY.MM.1 this month" "$(TZ=Asia/Shanghai date +%Y.%m).1" "$V"
r=$(http POST "/api/v1/drafts/$D/publish" "${OD[@]}")
check "publish without a key: 409" 409 "$(code "$r")"
check_has "one clear line" "publishing needs the alliance signing key: start kepu-server with --signing-key FILE" "$(body "$r" | jq -r .error)"
check "no version row" 0 "$(sql "SELECT COUNT(*) FROM packs")"
check "no blob" "$blobs_before" "$(find "$DATA/blobs" -type f | wc -l)"
r=$(http GET "/api/v1/drafts/$D" "${OD[@]}"); check "still approved" approved "$(body "$r" | jq -r .state)"

# --- offline signing: export the approved revision, build it with the key elsewhere ---
curl -s "${OD[@]}" -o "$TMP/approved.tgz" "$U/api/v1/drafts/$D/export"
mkdir -p "$TMP/offline" && tar -xzf "$TMP/approved.tgz" -C "$TMP/offline"
check "the export carries the version it is published as" "$V" "$(jq -r .version "$TMP/offline/safety-and-health/pack.json")"
"$PACK" build "$TMP/offline/safety-and-health" -o "$TMP/off-built" --key "$TMP/old.key" >/dev/null || fail "build the export"
cp -r "$TMP/offline/safety-and-health" "$TMP/tampered"
f=$(jq -r '.topics[0] | if type == "object" then .file else . end' "$TMP/tampered/pack.json")
sed -i '0,/"zh"/s/"zh"/"zh" /' "$TMP/tampered/$f"
"$PACK" build "$TMP/tampered" -o "$TMP/tampered-built" --key "$TMP/old.key" >/dev/null || fail "build the tampered copy"
"$PACK" bundle "$TMP/tampered-built" -o "$TMP/tampered.kpk" >/dev/null
r=$(http POST "/api/v1/drafts/$D/publish" "${OD[@]}" --data-binary @"$TMP/tampered.kpk")
check "one byte changed: refused naming the file" "422 signed pack refused: $f: differs from approved revision 3; nothing was published" "$(code "$r") $(body "$r" | jq -r .error)"
check "still no version" 0 "$(sql "SELECT COUNT(*) FROM packs")"
"$PACK" keygen -o "$TMP/stranger" >/dev/null
"$PACK" build "$TMP/offline/safety-and-health" -o "$TMP/stranger-built" --key "$TMP/stranger.key" >/dev/null
"$PACK" bundle "$TMP/stranger-built" -o "$TMP/stranger.kpk" >/dev/null
r=$(http POST "/api/v1/drafts/$D/publish" "${OD[@]}" --data-binary @"$TMP/stranger.kpk")
check_has "signed by a key the server does not trust: refused" "422 " "$r"
check_has "the refusal is about the signature" "MANIFEST.sig" "$(body "$r" | jq -r .error)"
"$PACK" bundle "$TMP/off-built" -o "$TMP/off.kpk" >/dev/null
r=$(http POST "/api/v1/drafts/$D/publish" "${OD[@]}" --data-binary @"$TMP/off.kpk")
check "the exact approved revision signed offline is published" "200 published $V offline dora" "$(code "$r") $(body "$r" | jq -r '"\(.state) \(.version) \(.signed) \(.approved_by)"')"
MSHA=$(body "$r" | jq -r .manifest_sha256)
check "its manifest hash is the offline build's" "$(sha256sum "$TMP/off-built/MANIFEST.json" | cut -d' ' -f1)" "$MSHA"
r=$(http POST "/api/v1/drafts/$D/publish" "${OD[@]}")
check "publish twice: 409" 409 "$(code "$r")"
stop_server

# --- with the alliance key: the next version is built and signed on the server ---
start_server --signing-key "$TMP/alliance.key"
A=$TMP/alice2.jar; AC=$(login alice secret-pass "$A"); OA=(-b "$A" -H "X-CSRF-Token: $AC")
O=$TMP/dora2.jar; DC=$(login dora secret-pass-2 "$O"); OD=(-b "$O" -H "X-CSRF-Token: $DC")
http GET "/api/v1/drafts/$D" "${B[@]}" >/dev/null; cp "$TMP/body" "$TMP/d.json"
r=$(put 3 '.pack.title.zh = "健康与安全（新）"' "${B[@]}"); check "a published draft can be edited again" '200 {"revision":4}' "$r"
r=$(http POST "/api/v1/drafts/$D/submit" "${B[@]}"); check "and submitted" 200 "$(code "$r")"
r=$(http POST "/api/v1/drafts/$D/approve" "${OA[@]}")
check "alice may approve now: she saved nothing since the last approval" "200 $(TZ=Asia/Shanghai date +%Y.%m).2" "$(code "$r") $(body "$r" | jq -r .version)"
V2=$(body "$r" | jq -r .version)
r=$(http POST "/api/v1/drafts/$D/publish" "${OA[@]}")
check "published on the server" "200 published $V2 server" "$(code "$r") $(body "$r" | jq -r '"\(.state) \(.version) \(.signed)"')"
M2=$(body "$r" | jq -r .manifest_sha256)
r=$(http POST /api/v1/assignments "${OA[@]}" --data-binary "{\"pack\":\"safety-and-health\",\"version\":\"$V2\",\"kiosk\":\"k-0001\"}")
check "the office assigns it" 200 "$(code "$r")"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001"}')
check "the kiosk is told the new version" "$V2 $M2" "$(body "$r" | jq -r '.packs[] | select(.id == "safety-and-health") | "\(.version) \(.manifest_sha256)"')"
# The kiosk's check: fetch manifest, signature and every file, verify with the public key.
K=$TMP/kiosk/safety-and-health; mkdir -p "$K"
curl -s -H "Authorization: Bearer $TK" -o "$K/MANIFEST.json" "$U/api/v1/packs/safety-and-health/$V2/manifest"
curl -s -H "Authorization: Bearer $TK" -o "$K/MANIFEST.sig" "$U/api/v1/packs/safety-and-health/$V2/signature"
jq -r '.files[] | "\(.sha256) \(.path)"' "$K/MANIFEST.json" | while read -r sha path; do
    mkdir -p "$(dirname "$K/$path")"; curl -s -H "Authorization: Bearer $TK" -o "$K/$path" "$U/api/v1/blobs/$sha"
done
out=$("$PACK" verify "$K" --pubkey "$TMP/alliance.pub" 2>&1); check "a kiosk trusting the alliance key verifies it: $out" 0 $?
out=$("$PACK" verify "$K" --pubkey "$TMP/old.pub" 2>&1); check "the old key does not verify the new version" 1 $?
check "the version says the draft's new title" "健康与安全（新）" "$(jq -r .title.zh "$K/pack.json")"

# --- the audit log: every step, filtered, as CSV, and never changed ---
r=$(http GET "/api/v1/audit?pack=safety-and-health&who=dora" "${OA[@]}")
check "dora's steps on the pack" "draft.approve|draft.publish|" "$(body "$r" | jq -j '.[] | "\(.what)|"')"
check_has "the publish row names manifest, approver and signature" "manifest $MSHA; revision 3 approved by dora; signed offline" "$(body "$r" | jq -r '.[1].detail')"
r=$(http GET "/api/v1/audit?pack=safety-and-health&who=alice" "${OA[@]}")
check_has "the server-signed publish names the key" "$M2; revision 4 approved by alice; signed on the server, key $(head -c 16 <<<"$(sed -n 2p "$TMP/alliance.pub" | base64 -d | od -An -tx1 | tr -d ' \n')")" "$(body "$r" | jq -r '[.[] | select(.what == "draft.publish")][0].detail')"
r=$(http GET "/api/v1/audit?venue=v1" "${OA[@]}")
check "every step of the life is recorded" "draft.approve draft.approve_refused draft.import draft.publish draft.request_changes draft.save draft.submit" \
    "$(body "$r" | jq -r '[.[].what] | unique | join(" ")')"
r=$(http GET "/api/v1/audit?who=alice" "${OA[@]}"); check_has "logins are recorded" '"what":"login"' "$r"
r=$(http GET "/api/v1/audit?pack=safety-and-health" "${OA[@]}"); check_has "assignments are recorded" '"what":"assignment.add"' "$r"
r=$(http GET "/api/v1/audit?who=cli" "${OA[@]}"); check_has "user changes are recorded" '"what":"user.add","target":"dora"' "$r"
r=$(http GET "/api/v1/audit?who=kepu-server" "${OA[@]}"); check_has "the signing key in use is recorded" '"what":"key.signing"' "$r"
r=$(http GET "/api/v1/audit?who=x%20y" "${OA[@]}"); check "a bad filter: 400" 400 "$(code "$r")"
r=$(curl -s "${OA[@]}" "$U/api/v1/audit?format=csv&who=dora" | tr -d '\r\357\273\277')
check "CSV: header and dora's rows (two logins, approve, publish)" "at_ms,who,what,target,detail,venue,pack 4" "$(head -1 <<<"$r") $(tail -n +2 <<<"$r" | grep -c ',dora,')"
n=$(sql "SELECT COUNT(*) FROM audit")
sql "UPDATE audit SET who = 'nobody'" >/dev/null 2>&1; check "UPDATE of the audit log is refused" 0 "$(sql "SELECT COUNT(*) FROM audit WHERE who = 'nobody'")"
out=$(sql "DELETE FROM audit" 2>&1); check_has "DELETE of the audit log is refused" "only appended to" "$out"
check "nothing was deleted" "$n" "$(sql "SELECT COUNT(*) FROM audit")"
finish
