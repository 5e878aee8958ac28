#!/usr/bin/env bash
# Issue 16's review end to end (e2e_review.test.js): staff user staff1 of venue hall and
# office user office1 in Debian's chromium through Playwright, on a real kepu-server over
# loopback (SQLite, --signing-key), and a real kepu-kiosk of that venue syncing from it
# (tests/dashboard/e2e_kiosk.py, offscreen). The old version, 2026.11.1, is stored and
# assigned to the venue before the test; the draft staff1 edits is that pack imported.
#
#   bash tests/dashboard/e2e_review.sh [--screenshots DIR]
set -u
. "$(dirname "$0")/browser_lib.bash" "$@"
browser_setup e2e_review "$PACK" "$KIOSK" /usr/bin/python3

"$BIN" venue add hall --name "市科技馆" --data "$DATA" >/dev/null || exit 1
TK=$("$BIN" kiosk add k-1 --venue hall --data "$DATA") || exit 1
echo "office-pass-1" | "$BIN" user add office1 --role office --data "$DATA" >/dev/null || exit 1
TS=$(echo "staff-pass-1" | "$BIN" user add staff1 --role staff --data "$DATA") || exit 1
"$BIN" user venue staff1 hall --data "$DATA" >/dev/null 2>&1 || exit 1
(cd "$TMP" && "$PACK" keygen -o alliance >/dev/null) || exit 1
chmod 600 "$TMP/alliance.key"
mkdir -p "$DATA/keys" && cp "$TMP/alliance.pub" "$DATA/keys/"

# The version kiosks run now: the sample pack as it is, signed and stored.
V1=$(jq -r .version "$KK_SOURCE_DIR/content/safety-and-health/pack.json")
"$PACK" build "$KK_SOURCE_DIR/content/safety-and-health" -o "$TMP/built" --key "$TMP/alliance.key" >/dev/null || exit 1
"$BIN" pack add "$TMP/built" --data "$DATA" >/dev/null || exit 1
start_server --signing-key "$TMP/alliance.key"
A=$TMP/setup.jar
http POST /api/v1/login --data-binary '{"user":"office1","password":"office-pass-1"}' -c "$A" >/dev/null
CSRF=$(jq -r .csrf "$TMP/body")
r=$(http POST /api/v1/assignments -b "$A" -H "X-CSRF-Token: $CSRF" \
    --data-binary "{\"pack\":\"safety-and-health\",\"version\":\"$V1\",\"venue\":\"hall\"}")
[ "${r%% *}" = 200 ] || { echo "e2e_review: assigning $V1 failed: $r" >&2; exit 1; }
# The draft staff1 edits: the same pack's source folder, imported for venue hall.
tar -czf "$TMP/src.tgz" -C "$KK_SOURCE_DIR/content" safety-and-health
r=$(http POST "/api/v1/drafts/import?venue=hall" -H "Authorization: Bearer $TS" --data-binary @"$TMP/src.tgz")
[ "${r%% *}" = 201 ] || { echo "e2e_review: import failed: $r" >&2; exit 1; }
D=$(jq -r .draft "$TMP/body")

cat >"$TMP/kiosk.conf" <<EOF
kiosk_id = k-1
server_url = $U
token_file = $TMP/kiosk.token
trusted_keys = $TMP/alliance.pub
sync_interval_s = 10
EOF
echo "$TK" >"$TMP/kiosk.token"

export KK_URL=$U KK_TMP=$TMP KK_SHOTS=$SHOTS KK_CHROMIUM=$CHROMIUM KK_TS=$TS KK_DRAFT=$D KK_V1=$V1
export KK_KIOSK_CONF=$TMP/kiosk.conf KK_KIOSK_STATE=$TMP/kiosk-state
export NODE_PATH=$NPM_DIR/node_modules
timeout 280 node --test --test-concurrency=1 "$HERE/e2e_review.test.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- server log ---" >&2; tail -n 40 "$TMP/server.log" >&2
fi
stop_server || rc=1
exit $rc
