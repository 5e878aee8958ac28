#!/usr/bin/env bash
# kepu-server alerts (issue 17): recipients checked (webhook URLs, mail addresses, digest
# hour) and kept per venue; a kiosk silent during its opening hours gives exactly one down
# alert and one back-up alert, nothing while its venue is closed; the state is kept in
# the store, so a restarted server neither repeats an open alert nor forgets it; content
# assigned but not installed after a while; events dropped by a full journal; a rollback from the kiosk's error event, once;
# a daily digest once a day (also across a restart); webhooks that answer 500 or hang are
# reported and the server stays up. Mail goes to a local SMTP sink (python3-aiosmtpd) and
# webhooks to a local receiver (tests/support/alert_sinks.py).
. "$(dirname "$0")/server_lib.bash"
PY=/usr/bin/python3
"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "skipped: python3-aiosmtpd missing (scripts/deps.sh --test)"; exit 77; }
SINK=$TMP/sink
"$PY" "$KK_SOURCE_DIR/tests/support/alert_sinks.py" "$SINK" 2>"$TMP/sink.log" &
SINK_PID=$!
BEAT_PID=
trap 'kill $SINK_PID $BEAT_PID 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do [ -f "$SINK/ports" ] && break; sleep 0.1; done
read -r SMTP_PORT HOOK_PORT <"$SINK/ports" || { cat "$TMP/sink.log"; exit 1; }
H=http://127.0.0.1:$HOOK_PORT

setup_fleet
FAST=(--smtp "smtp://127.0.0.1:$SMTP_PORT" --mail-from kepu@example.org --alert-down-s 3
      --alert-check-s 1 --alert-not-installed-s 5 --alert-disk-mb 100)
office() { local m=$1 u=$2; shift 2; http "$m" "$u" -b "$J" -H "X-CSRF-Token: $CSRF" "$@"; }
body() { cut -d' ' -f2- <<<"$1"; }
hb1() { http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","packs":[],"disk_free_mb":5000}' >/dev/null; }
hb2() { http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002","packs":[],"disk_free_mb":5000}' >/dev/null; }
# hooks PATH FILTER: how many webhook bodies to PATH match the jq filter.
hooks() {
    local n=0 f
    for f in "$SINK"/hook/*.json; do
        [ -f "$f" ] && [ "$(cat "${f%.json}.path")" = "$1" ] && jq -e "$2" "$f" >/dev/null 2>&1 && n=$((n + 1))
    done
    echo $n
}
# mails GREP: how many mails contain the text.
mails() { grep -l -F -- "$1" "$SINK"/mail/*.eml 2>/dev/null | wc -l; }
# wait_for EXPECTED SECONDS CMD...: until CMD prints EXPECTED.
wait_for() {
    local want=$1 secs=$2 i; shift 2
    for i in $(seq 1 $((secs * 5))); do [ "$("$@")" = "$want" ] && return 0; sleep 0.2; done
    return 1
}
# k-0001 keeps heartbeating each second with the body in $TMP/hb1.json (beat BODY).
beat() { echo "$1" >"$TMP/hb1.json"; }
start_beat() {
    (while :; do
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $TK" --data-binary @"$TMP/hb1.json" \
            "$(cat "$TMP/url")/api/v1/heartbeat"
        sleep 1
    done) &
    BEAT_PID=$!
}
# serve: start_server with the fast alert timings; the beat loop follows its port.
serve() { start_server "${FAST[@]}"; echo "$U" >"$TMP/url"; }
# login: an office session for alice (again after each restart).
J=$TMP/jar
login() {
    local r; r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
    CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
}
serve
login

# --- recipients: checked, the form's error names the field ---
r=$(office POST /api/v1/alerts/recipients --data-binary '{"webhooks":[{"url":"ftp://x/y","format":"json"}]}')
check "a webhook URL that is not http(s)" '400 {"error":"webhooks[0].url: expected an http:// or https:// address of at most 500 characters, without spaces"}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary '{"webhooks":[{"url":"http://x/","format":"slack"}]}')
check "an unknown webhook format" '400 {"error":"webhooks[0].format: expected json, wecom or dingtalk"}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary '{"emails":["duty@example.org","not an address"]}')
check "a bad mail address" '400 {"error":"emails[1]: \"not an address\" is not a mail address like duty@example.org"}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary '{"digest_hour":24}')
check "a digest hour out of range" '400 {"error":"digest_hour: expected a whole hour from 0 to 23, or null for no digest"}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary '{"venue":"nowhere","emails":[]}')
check "recipients of an unknown venue" '404 {"error":"venue nowhere does not exist"}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary '{"pager":"555"}'); check_has "an unknown field" '400 {"error":"pager: unknown' "$r"
r=$(http POST /api/v1/alerts/recipients -H "Authorization: Bearer $TK" --data-binary '{}'); check_has "a kiosk cannot set them" "403 " "$r"
r=$(office GET /api/v1/alerts); check "nothing stored by the bad ones" "0" "$(body "$r" | jq '.recipients | length')"
r=$(office POST /api/v1/alerts/recipients --data-binary "{\"webhooks\":[{\"url\":\"$H/ok\",\"format\":\"json\"},{\"url\":\"$H/fail\",\"format\":\"json\"}],\"emails\":[\"duty@example.org\",\"boss@example.org\"]}")
check "recipients for all venues" '200 {"ok":true}' "$r"
r=$(office POST /api/v1/alerts/recipients --data-binary "{\"venue\":\"v1\",\"webhooks\":[{\"url\":\"$H/wecom?key=secret\",\"format\":\"wecom\"}],\"emails\":[]}")
check "recipients for venue v1" '200 {"ok":true}' "$r"
r=$(office GET /api/v1/alerts); check "both listed" '["","v1"]' "$(body "$r" | jq -c '[.recipients[].venue] | sort')"
check "CLI shows them" "$H/wecom?key=secret" "$("$BIN" alerts recipients --venue v1 --data "$DATA" | jq -r '.webhooks[0].url')"
"$BIN" alerts recipients --set '{"emails":["x"]}' --data "$DATA" 2>"$TMP/err"; check "CLI refuses a bad one" 1 $?
check "and says why" 'kepu-server: emails[0]: "x" is not a mail address like duty@example.org' "$(cat "$TMP/err")"
r=$(office GET /api/v1/audit); check "recipients audited" 2 "$(body "$r" | jq '[.[] | select(.what=="alerts.recipients")] | length')"

# --- opening hours: v1 open all day, v2 closed all day (the server judges them) ---
OPEN='{"tz":"Asia/Shanghai","week":[[["00:00","24:00"]],[["00:00","24:00"]],[["00:00","24:00"]],[["00:00","24:00"]],[["00:00","24:00"]],[["00:00","24:00"]],[["00:00","24:00"]]],"closed":[]}'
SHUT='{"tz":"Asia/Shanghai","week":[[],[],[],[],[],[],[]],"closed":[]}'
office POST /api/v1/venues/v1/hours --data-binary "$OPEN" >/dev/null
office POST /api/v1/venues/v2/hours --data-binary "$SHUT" >/dev/null
hb1; hb2
sleep 2
check "no alert while they speak" 0 "$(ls "$SINK/hook" | grep -c json)"
# Both go silent. k-0001 during its opening hours: one down alert; k-0002 while closed: none.
wait_for 1 15 hooks /ok '.alert=="down" and .event=="raised" and .kiosk=="k-0001"' || fail "no down alert for k-0001"
sleep 3
check "exactly one down alert (json webhook)" 1 "$(hooks /ok '.alert=="down" and .event=="raised"')"
check "to the venue's WeCom robot too" 1 "$(hooks '/wecom?key=secret' '.msgtype=="text" and (.text.content | test("k-0001.*down"))')"
check "it says so in Chinese first" 1 "$(hooks /ok '.text | startswith("终端 k-0001（场馆 v1）离线")')"
check "one mail for it" 1 "$(mails 'Kiosk k-0001 (venue v1) is down')"
check "the mail went to both addresses" "X-Envelope-To: duty@example.org,boss@example.org" "$(grep -h -a X-Envelope-To "$SINK"/mail/1.eml | tr -d '\r')"
check "from the configured sender" "X-Envelope-From: kepu@example.org" "$(grep -h -a X-Envelope-From "$SINK"/mail/1.eml | tr -d '\r')"
check "nothing for k-0002 while its venue is closed" 0 "$(hooks /ok '.kiosk=="k-0002"')"
check "the alert is kept in the store" "k-0001|down|open" "$(sql "SELECT kiosk, kind, state FROM alerts WHERE kiosk <> ''")"
r=$(office GET /api/v1/alerts); check "the office sees it" "k-0001:down:open" "$(body "$r" | jq -r '.alerts[] | "\(.kiosk):\(.alert):\(.state)"')"
check "the failing webhook is reported" "webhook http://127.0.0.1:$HOOK_PORT: answered HTTP 500" "$(body "$r" | jq -r .last_error.error)"
check "the robot's key is not in the log" 0 "$(grep -c 'key=secret' "$TMP/server.log")"

# A restart neither repeats the open alert nor forgets it.
stop_server || fail "server stop"
serve
login
sleep 3
check "no repeat after a restart" 1 "$(hooks /ok '.alert=="down" and .event=="raised"')"
HB='{"kiosk":"k-0001","packs":[],"disk_free_mb":5000}'
beat "$HB"; start_beat
wait_for 1 15 hooks /ok '.alert=="down" and .event=="cleared"' || fail "no back-up alert"
sleep 2
check "exactly one back-up alert" 1 "$(hooks /ok '.alert=="down" and .event=="cleared" and .kiosk=="k-0001"')"
check "one back-up mail" 1 "$(mails 'Kiosk k-0001 (venue v1) is back up')"
check "the alert is gone from the store" 0 "$(sql "SELECT count(*) FROM alerts WHERE kind = 'down'")"
# k-0002's venue opens: silent during opening hours now, so it is down.
office POST /api/v1/venues/v2/hours --data-binary "$OPEN" >/dev/null
wait_for 1 15 hooks /ok '.alert=="down" and .kiosk=="k-0002"' || fail "no down alert once v2 opened"
check "k-0002 down once its venue opened" 1 "$(hooks /ok '.alert=="down" and .kiosk=="k-0002" and .event=="raised"')"
check "k-0002's alert is not sent to v1's robot" 0 "$(hooks '/wecom?key=secret' '.text.content | test("k-0002")')"

# --- content assigned but not installed, after the configured time ---
"$BIN" assign quake@7 --kiosk k-0001 --data "$DATA" || fail "assign"
sleep 1.5
# The state first: reading the hooks runs jq per file, which takes a while on a busy machine.
check "noted, not yet due" "pending" "$(sql "SELECT state FROM alerts WHERE kind = 'not_installed'")"
check "not raised before its time" 0 "$(hooks /ok '.alert=="not_installed"')"
wait_for 1 15 hooks /ok '.alert=="not_installed" and .event=="raised"' || fail "no not-installed alert"
check "not installed names the pack" 1 "$(hooks /ok '.alert=="not_installed" and (.detail | test("quake@7 \\(not uploaded"))')"
beat '{"kiosk":"k-0001","packs":["quake@7"],"disk_free_mb":5000}'
wait_for 1 15 hooks /ok '.alert=="not_installed" and .event=="cleared"' || fail "no installed message"
sleep 1.5
check "installed: said once" 1 "$(hooks /ok '.alert=="not_installed" and .event=="cleared"')"
# a dated assignment in force is what the kiosk should have now
"$BIN" assign quake@9 --kiosk k-0001 --from "$(TZ=Asia/Shanghai date -d '-1 day' +%F)" --data "$DATA" || fail "assign 9 from yesterday"
wait_for 2 15 hooks /ok '.alert=="not_installed" and .event=="raised"' || fail "no not-installed alert for the window in force"
check "it names the window's version" 1 "$(hooks /ok '.alert=="not_installed" and (.detail | test("quake@9"))')"
office POST /api/v1/assignments/rollback --data-binary '{"pack":"quake","kiosk":"k-0001"}' >/dev/null
wait_for 2 15 hooks /ok '.alert=="not_installed" and .event=="cleared"' || fail "not cleared once the window is gone"

# --- disk low ---
beat '{"kiosk":"k-0001","packs":["quake@7"],"disk_free_mb":40}'
wait_for 1 15 hooks /ok '.alert=="disk_low"' || fail "no disk-low alert"
check "disk low says how much" 1 "$(hooks /ok '.alert=="disk_low" and .detail=="40 MB free"')"
sleep 1.5
check "disk low once while it holds" 1 "$(hooks /ok '.alert=="disk_low" and .event=="raised"')"

# --- events dropped: the kiosk's journal was full; raised when its count grows, for a day ---
beat '{"kiosk":"k-0001","packs":["quake@7"],"disk_free_mb":40,"dropped":120}'
wait_for 1 15 hooks /ok '.alert=="events_dropped"' || fail "no events-dropped alert"
check "events dropped says how many" 1 "$(hooks /ok '.alert=="events_dropped" and .detail=="120 events dropped in all"')"
check "events dropped mail" 1 "$(mails 'Kiosk k-0001 (venue v1) dropped its oldest events')"
beat '{"kiosk":"k-0001","packs":["quake@7"],"disk_free_mb":40,"dropped":150}'
wait_for "150" 15 sql "SELECT substr(value, 1, 3) FROM server_kv WHERE key = 'dropped:k-0001'" || fail "the new count was not kept"
sleep 1.5
check "events dropped once while it grows" 1 "$(hooks /ok '.alert=="events_dropped" and .event=="raised"')"
# A day with no more drops ends it (the day is made to have passed in the store).
sql "UPDATE server_kv SET value = '150 $(( $(now_ms) - 25 * 3600 * 1000 ))' WHERE key = 'dropped:k-0001'" >/dev/null
wait_for 1 15 hooks /ok '.alert=="events_dropped" and .event=="cleared"' || fail "events dropped never ended"
check "k-0002 dropped nothing" 0 "$(hooks /ok '.alert=="events_dropped" and .kiosk=="k-0002"')"

# --- a rollback, from the kiosk's error event, once ---
E1=$(new_id); E2=$(new_id)
rb() { echo "{\"id\":\"$1\",\"kiosk\":\"k-0001\",\"ts\":$(now_ms),\"type\":\"error\",\"code\":\"rollback\",\"detail\":\"quake: 7 failed to start 3 times in 10 minutes; rolled back to 6\"}"; }
beat '{"kiosk":"k-0001","packs":["quake@6"],"disk_free_mb":5000}'
"$BIN" assign quake@6 --kiosk k-0001 --data "$DATA" || fail "assign 6"
r=$(post_events "$(batch "$(rb "$E1")")"); check_has "rollback event stored" '"accepted":1' "$r"
wait_for 1 15 hooks /ok '.alert=="rollback"' || fail "no rollback alert"
post_events "$(batch "$(rb "$E1")")" >/dev/null   # the same event again
post_events "$(batch "$(rb "$E2")")" >/dev/null   # another while the alert is open
post_events "$(batch "$(event "$(new_id)" error '"code":"unclean_exit"')")" >/dev/null
sleep 2
check "one rollback alert" 1 "$(hooks /ok '.alert=="rollback"')"
check "with the kiosk's words" 1 "$(hooks /ok '.alert=="rollback" and (.detail | test("rolled back to 6"))')"
check "rollback mail" 1 "$(mails 'rolled content back after failed starts')"
check "other errors raise nothing; disk and content are fine" "k-0001:rollback k-0002:down" "$(sql "SELECT kiosk || ':' || kind FROM alerts WHERE kiosk <> '' ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"

# --- the daily digest, at the configured hour, once a day ---
HOUR=$(TZ=Asia/Shanghai date +%-H)
[ "$(TZ=Asia/Shanghai date +%M)" -ge 59 ] && sleep 61 && HOUR=$(TZ=Asia/Shanghai date +%-H)
NEXT=$(( (HOUR + 1) % 24 ))
r=$(office POST /api/v1/alerts/recipients --data-binary "{\"webhooks\":[{\"url\":\"$H/ok\",\"format\":\"json\"}],\"emails\":[\"duty@example.org\"],\"digest_hour\":$NEXT}")
check "a digest hour" '200 {"ok":true}' "$r"
sleep 2.5
if [ "$NEXT" -ne 0 ]; then check "no digest before its hour" 0 "$(hooks /ok '.event=="digest"')"; fi
office POST /api/v1/alerts/recipients --data-binary "{\"webhooks\":[{\"url\":\"$H/ok\",\"format\":\"json\"}],\"emails\":[\"duty@example.org\"],\"digest_hour\":$HOUR}" >/dev/null
wait_for 1 15 hooks /ok '.event=="digest"' || fail "no digest"
check "the digest lists the open alerts" '["k-0001:rollback","k-0002:down"]' "$(jq -c '[.alerts[] | "\(.kiosk):\(.alert)"] | sort' "$(grep -l '"digest"' "$SINK"/hook/*.json | head -1)")"
check "and the kiosks offline" '["k-0002"]' "$(jq -c '[.offline[].kiosk]' "$(grep -l '"digest"' "$SINK"/hook/*.json | head -1)")"
check "one digest mail" 1 "$(mails 'daily digest')"
check "the digest mail lists them" 1 "$(grep -l -a 'k-0002 (v2)' "$SINK"/mail/*.eml | wc -l)"
stop_server || fail "server stop"
serve
login
sleep 3
check "one digest a day, also across a restart" 1 "$(hooks /ok '.event=="digest"')"

# --- a webhook that hangs: reported, nothing stuck, the server answers meanwhile ---
office POST /api/v1/alerts/recipients --data-binary "{\"webhooks\":[{\"url\":\"$H/hang\",\"format\":\"dingtalk\"},{\"url\":\"$H/ok\",\"format\":\"json\"}]}" >/dev/null
beat '{"kiosk":"k-0001","packs":["quake@6"],"disk_free_mb":30}'
sleep 2
t0=$(date +%s%N)
r=$(http GET /healthz); check_has "the server answers while a webhook hangs" "200" "$r"
check "quickly" 1 "$(( ($(date +%s%N) - t0) < 1000000000 ? 1 : 0 ))"
wait_for 2 25 hooks /ok '.alert=="disk_low" and .event=="raised"' || fail "the next webhook was not reached after the hang"
r=$(office GET /api/v1/alerts); check_has "the hang is reported" "webhook http://127.0.0.1:$HOOK_PORT: Timeout" "$(body "$r" | jq -r .last_error.error)"

# --- the office watching a kiosk: 15 s heartbeats while its page is open ---
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "nobody watches: no quick heartbeat" null "$(body "$r" | jq .next_heartbeat_s)"
r=$(office POST /api/v1/kiosks/k-0002/watch); check "watch" '200 {"ok":true,"watch_s":60}' "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "watched: come back in 15 s" 15 "$(body "$r" | jq .next_heartbeat_s)"
r=$(office POST /api/v1/kiosks/k-0404/watch); check "watch an unknown kiosk" '404 {"error":"kiosk k-0404 does not exist"}' "$r"
r=$(http POST /api/v1/kiosks/k-0002/watch -H "Authorization: Bearer $TK2"); check "a kiosk cannot watch" 1 "$(grep -c "^40[13] " <<<"$r")"
sql "UPDATE server_kv SET value = '1' WHERE key = 'watch:k-0002'"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "a watch ends" null "$(body "$r" | jq .next_heartbeat_s)"
office GET /api/v1/kiosks/k-0002/screenshot >/dev/null
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "looking at its screenshot watches it too" 15 "$(body "$r" | jq .next_heartbeat_s)"

# --- command line ---
check "alerts list" "k-0001 disk_low open" "$("$BIN" alerts list --data "$DATA" | awk -F'\t' '$2=="disk_low"{print $1, $2, $3}')"
"$BIN" alerts --help | grep -q "alerts list | alerts recipients"; check "alerts --help" 0 $?
"$BIN" serve --smtp http://x --data "$DATA" 2>"$TMP/err"; check "a bad --smtp" 2 $?
check_has "names it" "kepu-server: --smtp http://x: expected smtp://HOST:PORT" "$(cat "$TMP/err")"
finish
