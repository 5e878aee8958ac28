#!/usr/bin/env bash
# kepu-pack publish against the real kepu-server: a built folder and a bundle are
# uploaded with a staff token and land in review (docs/review.md), never as a version
# kiosks get; a wrong token, an unsigned pack and a dead server each get
# one clear line and a non-zero exit; the server keeps what it had.
. "$(dirname "$0")/server_lib.bash"
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
SRC=$KK_SOURCE_DIR/content/safety-and-health

"$PACK" keygen -o "$TMP/alliance" >/dev/null || exit 1
"$PACK" keygen -o "$TMP/stranger" >/dev/null || exit 1
mkdir -p "$DATA/keys" && cp "$TMP/alliance.pub" "$DATA/keys/"
setup_fleet >/dev/null
"$BIN" user venue bob v1 --data "$DATA" 2>/dev/null || exit 1
start_server
"$PACK" build "$SRC" -o "$TMP/built" --key "$TMP/alliance.key" >/dev/null || exit 1

out=$("$PACK" publish "$TMP/built" --server "$U" --token "$TS" 2>&1); rc=$?
check "publish a folder exits 0" 0 "$rc"
check_has "publish says it went to review" "submitted safety-and-health for review on $U as draft d" "$out"
check "a draft in review" "in_review bob v1" "$(http GET /api/v1/drafts -H "Authorization: Bearer $TS" | cut -d' ' -f2- | jq -r '.[0] | "\(.state) \(.created_by) \(.venue)"')"
check "kiosks are not served it" 404 "$(http GET /api/v1/packs/safety-and-health/2026.11.1/manifest -H "Authorization: Bearer $TK" | head -1 | cut -d" " -f1)"

# Again (another draft in review); through a token file and the environment.
printf '%s\n' "$TS" > "$TMP/token"
"$PACK" bundle "$TMP/built" -o "$TMP/pack.kpk" >/dev/null
out=$("$PACK" publish "$TMP/pack.kpk" --server "$U/" --token-file "$TMP/token" 2>&1); rc=$?
check "publish a bundle with a token file exits 0" 0 "$rc"
out=$(KEPU_STAFF_TOKEN=$TS "$PACK" publish "$TMP/pack.kpk" --server "$U" 2>&1); rc=$?
check "publish with KEPU_STAFF_TOKEN exits 0" 0 "$rc"

# Refusals: one line on stderr, exit 1.
out=$("$PACK" publish "$TMP/pack.kpk" --server "$U" --token wrong 2>&1 >/dev/null); rc=$?
check "a wrong token exits 1" 1 "$rc"
check "a wrong token gives one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check_has "a wrong token is named" "401" "$out"
"$PACK" build "$SRC" -o "$TMP/stranger-built" --key "$TMP/stranger.key" >/dev/null
out=$("$PACK" publish "$TMP/stranger-built" --server "$U" --token "$TS" 2>&1 >/dev/null); rc=$?
check "a pack signed by an unknown key exits 1" 1 "$rc"
check_has "the refusal says why" "refused" "$out"
out=$("$PACK" publish "$TMP/pack.kpk" --server "$U" 2>&1 >/dev/null); rc=$?
check "no token is a usage error" 2 "$rc"
stop_server
out=$("$PACK" publish "$TMP/pack.kpk" --server "$U" --token "$TS" 2>&1 >/dev/null); rc=$?
check "a dead server exits 1" 1 "$rc"
check_has "a dead server is named" "127.0.0.1" "$out"
finish
