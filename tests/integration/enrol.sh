#!/usr/bin/env bash
# Enrolment end to end on loopback (issue 18): kepu-server kiosk enrol makes a one-time
# code; kepu-kiosk --enrol fetches the kiosk's id, token and trusted keys and writes its
# config and token file (0600); the code is refused when used again, when expired, when
# unknown. The new kiosk's token works until it is revoked (401), a rotated token works
# and the old one does not.
. "$(dirname "$0")/server_lib.bash"
KIOSK=$KK_BUILD_DIR/src/app/kepu-kiosk
PACK=$KK_BUILD_DIR/src/tools/kepu-pack
mkdir -p "$DATA/keys"
(cd "$DATA/keys" && "$PACK" keygen -o alliance >/dev/null) || exit 1
"$BIN" venue add v1 --name "市科技馆" --data "$DATA" || exit 1
start_server
K=$TMP/kiosk
mkdir -p "$K"
# An existing kiosk.conf: its comments and other settings must survive enrolment.
printf '# my comment\nidle_timeout_s = 90\nkiosk_id = k-0000\n' >"$K/kiosk.conf"
chmod 0640 "$K/kiosk.conf"

# --- the code ---
code=$("$BIN" kiosk enrol --venue v1 --data "$DATA" 2>"$TMP/enrol.err")
check "enrol prints a code" 1 "$(grep -cE '^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$' <<<"$code")"
check_has "enrol says what to run" "kepu-kiosk --enrol" "$(cat "$TMP/enrol.err")"
"$BIN" kiosk enrol --venue nowhere --data "$DATA" 2>"$TMP/e2"
check "enrol for an unknown venue" 1 $?
check_has "names the venue" "venue nowhere does not exist" "$(cat "$TMP/e2")"
# --url: the command for the kiosk, also as a QR code a phone can scan (read back here
# with zbarimg from a picture of the printed code).
qcode=$("$BIN" kiosk enrol --venue v1 --url https://kepu.example.org --data "$DATA" 2>"$TMP/qr.txt")
check_has "with --url the command names the server" "kepu-kiosk --enrol https://kepu.example.org $qcode" "$(cat "$TMP/qr.txt")"
if command -v zbarimg >/dev/null; then
    /usr/bin/python3 "$KK_SOURCE_DIR/tests/support/qr_text.py" "$TMP/qr.txt" "$TMP/qr.png"
    check "the QR code reads as the command" "sudo kepu-kiosk --enrol https://kepu.example.org $qcode" \
        "$(zbarimg -q --raw "$TMP/qr.png" 2>/dev/null)"
else
    fail "zbarimg missing (scripts/deps.sh --test installs zbar-tools)"
fi
"$BIN" kiosk enrol --venue v1 --url kepu.example.org --data "$DATA" >/dev/null 2>"$TMP/e4"
check "--url without a scheme" 2 $?
check_has "names the flag" "--url kepu.example.org" "$(cat "$TMP/e4")"

# --- first use: written ---
lower=$(tr 'A-Z' 'a-z' <<<"$code" | tr -d -)
out=$("$KIOSK" --enrol "$U" "$lower" --config "$K/kiosk.conf" --state "$K/state" 2>&1)
check "kiosk --enrol (typed in lower case, no dashes)" 0 $?
check_has "says which kiosk" "enrolled as kiosk k-" "$out"
id=$(sed -n 's/^kiosk_id = //p' "$K/kiosk.conf")
check "kiosk id in the config" 1 "$(grep -cE '^k-[0-9a-f]{8}$' <<<"$id")"
check "server_url in the config" "$U" "$(sed -n 's/^server_url = //p' "$K/kiosk.conf")"
check "token_file in the config" "$K/state/token" "$(sed -n 's/^token_file = //p' "$K/kiosk.conf")"
check "trusted_keys in the config" "$K/keys/server-1.pub" "$(sed -n 's/^trusted_keys = //p' "$K/kiosk.conf")"
check "comment kept" 1 "$(grep -c '^# my comment$' "$K/kiosk.conf")"
check "other settings kept" 1 "$(grep -c '^idle_timeout_s = 90$' "$K/kiosk.conf")"
check "one kiosk_id line" 1 "$(grep -c '^kiosk_id' "$K/kiosk.conf")"
check "config keeps its mode" 640 "$(stat -c %a "$K/kiosk.conf")"
check "token file mode" 600 "$(stat -c %a "$K/state/token")"
check "trusted key is the server's" "$(cat "$DATA/keys/alliance.pub")" "$(cat "$K/keys/server-1.pub")"
check "no temporary files left" "" "$(ls "$K" "$K/state" "$K/keys" | grep '\.tmp$')"
tk=$(cat "$K/state/token")
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk" --data-binary "{\"kiosk\":\"$id\"}")
check_has "the new kiosk's token works" "200 " "$r"
check "server knows the kiosk in venue v1" v1 "$(sql "SELECT venue FROM kiosks WHERE id = '$id'")"
# The app itself accepts the written config (it would stop on a bad line).
SDL_VIDEODRIVER=offscreen timeout 20 "$KIOSK" --config "$K/kiosk.conf" --automation \
    --window 640x480 <<<'{"quit":true}' >/dev/null 2>"$TMP/app.err"
check "the app starts with the written config" 0 $?

# --- refused: again, expired, unknown, malformed ---
cp "$K/kiosk.conf" "$TMP/conf.before"
out=$("$KIOSK" --enrol "$U" "$code" --config "$K/kiosk.conf" --state "$K/state" 2>&1)
check "second use refused" 1 $?
check_has "second use: why" "already used" "$out"
check "config unchanged by a refused code" "" "$(diff "$TMP/conf.before" "$K/kiosk.conf")"
check "token unchanged by a refused code" "$tk" "$(cat "$K/state/token")"
code2=$("$BIN" kiosk enrol --venue v1 --kiosk k-late --valid-minutes 1 --data "$DATA" 2>/dev/null)
sql "UPDATE enrol_codes SET expires_ms = expires_ms - 120000 WHERE kiosk = 'k-late'"
out=$("$KIOSK" --enrol "$U" "$code2" --config "$TMP/k2.conf" --state "$TMP/k2" 2>&1)
check "expired code refused" 1 $?
check_has "expired: why" "has expired" "$out"
check "nothing written for an expired code" "no" "$([ -e "$TMP/k2.conf" ] || [ -e "$TMP/k2/token" ] && echo yes || echo no)"
check "no kiosk made for an expired code" "" "$(sql "SELECT id FROM kiosks WHERE id = 'k-late'")"
r=$(http POST /api/v1/enrol --data-binary '{"code":"AAAA-BBBB-CCCC"}'); check_has "unknown code" "404 " "$r"
r=$(http POST /api/v1/enrol --data-binary '{"code":"AAAA-BBBB"}'); check_has "malformed code" "400 " "$r"
r=$(http POST /api/v1/enrol --data-binary '{"code":"IIII-OOOO-0000"}'); check_has "code with look-alikes" "400 " "$r"
out=$("$KIOSK" --enrol "ftp://x" "$code" --config "$TMP/k3.conf" 2>&1)
check_has "bad URL" "must start with http:// or https://" "$out"

# --- revoke and rotate from the command line ---
"$BIN" kiosk revoke "$id" --data "$DATA" 2>/dev/null
check "kiosk revoke" 0 $?
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk" --data-binary "{\"kiosk\":\"$id\"}")
check_has "a revoked kiosk gets 401" "401 " "$r"
tk2=$("$BIN" kiosk rotate "$id" --data "$DATA")
check "rotate prints a new token" 64 "${#tk2}"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk2" --data-binary "{\"kiosk\":\"$id\"}")
check_has "the rotated token works" "200 " "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk" --data-binary "{\"kiosk\":\"$id\"}")
check_has "the old token does not" "401 " "$r"
"$BIN" kiosk revoke k-none --data "$DATA" 2>"$TMP/e3"
check "revoke an unknown kiosk" 1 $?
check_has "names it" "kiosk k-none does not exist" "$(cat "$TMP/e3")"

# --- users: passwd and remove end sessions; the same for office users in the web API ---
echo "secret-pass" | "$BIN" user add alice --role office,admin --data "$DATA" || exit 1
echo "other-pass-1" | "$BIN" user add carol --role office --data "$DATA" || exit 1
J=$TMP/jar
r=$(http POST /api/v1/login --data-binary '{"user":"carol","password":"other-pass-1"}' -c "$TMP/jc")
check_has "carol logs in" "200 " "$r"
echo "carol-new-pass" | "$BIN" user passwd carol --data "$DATA" 2>/dev/null
check "user passwd" 0 $?
r=$(http GET /api/v1/session -b "$TMP/jc"); check_has "passwd ends the sessions" "401 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"carol","password":"other-pass-1"}'); check_has "old password refused" "401 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
r=$(http GET /api/v1/admin/kiosks -b "$J"); check_has "admin: kiosks listed" "\"$id\"" "$r"
r=$(http POST "/api/v1/admin/kiosks/$id/revoke" -b "$J"); check_has "admin without CSRF header" "403 " "$r"
r=$(http POST "/api/v1/admin/kiosks/$id/revoke" -b "$J" -H "X-CSRF-Token: $CSRF"); check_has "admin: revoke" "200 " "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk2" --data-binary "{\"kiosk\":\"$id\"}")
check_has "revoked in the web app: 401" "401 " "$r"
check "revoked_ms recorded" 1 "$(sql "SELECT CASE WHEN revoked_ms IS NOT NULL THEN 1 ELSE 0 END FROM kiosks WHERE id = '$id'")"
r=$(http POST "/api/v1/admin/kiosks/$id/rotate" -b "$J" -H "X-CSRF-Token: $CSRF")
tk3=$(cut -d' ' -f2- <<<"$r" | jq -r .token)
check "admin: rotate gives a token" 64 "${#tk3}"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $tk3" --data-binary "{\"kiosk\":\"$id\"}")
check_has "rotated in the web app: works" "200 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"carol","password":"carol-new-pass"}' -c "$TMP/jc")
check_has "carol with the new password" "200 " "$r"
r=$(http POST /api/v1/admin/users/carol/passwd -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"password":"short"}')
check_has "admin: short password refused" "400 " "$r"
r=$(http POST /api/v1/admin/users/carol/remove -b "$J" -H "X-CSRF-Token: $CSRF"); check_has "admin: remove" "200 " "$r"
r=$(http GET /api/v1/session -b "$TMP/jc"); check_has "remove ends the sessions" "401 " "$r"
r=$(http POST /api/v1/admin/users/alice/remove -b "$J" -H "X-CSRF-Token: $CSRF"); check_has "cannot remove yourself" "409 " "$r"
r=$(http POST /api/v1/admin/users/nobody/remove -b "$J" -H "X-CSRF-Token: $CSRF"); check_has "unknown user" "404 " "$r"
r=$(http GET /api/v1/admin/users -H "Authorization: Bearer $tk3"); check_has "kiosk token on admin" "403 " "$r"
finish
