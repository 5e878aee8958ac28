#!/usr/bin/env bash
# kepu-server fleet operations (issue 17): tags (and assignments to a tag), commands
# delivered in the heartbeat answer until done (each once), screenshots (PNG checked by
# content, size-capped), the settings overlay (kiosk > tag > venue, bad values refused
# whole), opening hours and the state a kiosk reports, notices for a tag and their audit.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
"$BIN" kiosk add k-0003 --venue v1 --data "$DATA" >/dev/null || exit 1
start_server
J=$TMP/jar
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
office() { local m=$1 u=$2; shift 2; http "$m" "$u" -b "$J" -H "X-CSRF-Token: $CSRF" "$@"; }
HB0='{"kiosk":"k-0001"}'
hb() { http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary "${1:-$HB0}"; }
body() { cut -d' ' -f2- <<<"$1"; }

# --- tags: command line and API ---
check "tag on the command line" "children-hall
portrait" "$("$BIN" kiosk tag k-0001 --add portrait,children-hall --data "$DATA")"
check "tag remove" "portrait" "$("$BIN" kiosk tag k-0001 --remove children-hall --data "$DATA")"
"$BIN" kiosk tag k-0404 --add portrait --data "$DATA" 2>"$TMP/err"; check "tag of an unknown kiosk fails" 1 $?
check "it names the kiosk" "kepu-server: kiosk k-0404 does not exist" "$(cat "$TMP/err")"
"$BIN" kiosk tag k-0001 --add 'bad tag' --data "$DATA" 2>/dev/null; check "a bad tag is usage" 2 $?
r=$(office POST /api/v1/kiosks/k-0003/tags --data-binary '{"add":["portrait","rural-base"]}'); check "tags by API" '200 {"ok":true}' "$r"
r=$(office POST /api/v1/kiosks/k-0404/tags --data-binary '{"add":["portrait"]}'); check_has "tags of an unknown kiosk" "404 " "$r"
r=$(office POST /api/v1/kiosks/k-0003/tags --data-binary '{"add":["../x"]}'); check_has "bad tag by API" "400 " "$r"
r=$(office GET /api/v1/tags); check "tag list" '[["k-0001","portrait"],["k-0003","portrait"],["k-0003","rural-base"]]' "$(body "$r" | jq -c .rows)"

# --- assignments to a tag: kiosk > tag > venue ---
"$BIN" assign quake@1 --venue v1 --data "$DATA" || fail "assign venue"
"$BIN" assign quake@2 --tag portrait --data "$DATA" || fail "assign --tag"
"$BIN" assign flu@1 --tag rural-base --data "$DATA" || fail "assign --tag 2"
r=$(hb); check "tag beats venue" "quake@2" "$(body "$r" | jq -r '[.packs[] | "\(.id)@\(.version)"] | join(",")')"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "other venue, no tag: nothing" "" "$(body "$r" | jq -r '[.packs[] | "\(.id)@\(.version)"] | join(",")')"
"$BIN" assign quake@3 --kiosk k-0001 --data "$DATA" || fail "assign kiosk"
r=$(hb); check "kiosk beats tag" "quake@3" "$(body "$r" | jq -r '[.packs[] | "\(.id)@\(.version)"] | join(",")')"
r=$(office POST /api/v1/assignments --data-binary '{"pack":"quake","version":"4","tag":"portrait"}'); check "assignment to a tag by API" '200 {"ok":true}' "$r"
"$BIN" assign quake@1 --tag portrait --kiosk k-0001 --data "$DATA" 2>/dev/null; check "assign with two targets" 2 $?

# --- commands ---
r=$(hb); check "no commands: none, no quick heartbeat" "[] null" "$(body "$r" | jq -c '.commands, .next_heartbeat_s' | tr '\n' ' ' | sed 's/ $//')"
r=$(office POST /api/v1/commands --data-binary '{"type":"screenshot","kiosk":"k-0001"}'); check_has "command" "200 " "$r"
C1=$(body "$r" | jq -r '.commands[0].id'); check "command id" 32 "${#C1}"
r=$(office POST /api/v1/commands --data-binary '{"type":"logs","tag":"portrait","args":{"lines":50},"expires_s":600}')
check "command for a tag: one per tagged kiosk" '["k-0001","k-0003"]' "$(body "$r" | jq -c '[.commands[].kiosk]')"
C2=$(body "$r" | jq -r '.commands[] | select(.kiosk=="k-0001") | .id')
r=$(office POST /api/v1/commands --data-binary '{"type":"sync","venue":"v2"}'); check "command for a venue" '["k-0002"]' "$(body "$r" | jq -c '[.commands[].kiosk]')"
r=$(office POST /api/v1/commands --data-binary '{"type":"restart","kiosk":"k-0404"}'); check "command for an unknown kiosk" '404 {"error":"kiosk k-0404 does not exist"}' "$r"
r=$(office POST /api/v1/commands --data-binary '{"type":"restart","venue":"nowhere"}'); check "command for an unknown venue" '404 {"error":"venue nowhere does not exist"}' "$r"
r=$(office POST /api/v1/commands --data-binary '{"type":"restart","tag":"nobody-has-it"}'); check "command for an empty tag" '404 {"error":"no kiosk has tag nobody-has-it"}' "$r"
r=$(office POST /api/v1/commands --data-binary '{"type":"format-disk","kiosk":"k-0001"}'); check_has "unknown command type" '400 {"error":"type: \"format-disk\" is not a command' "$r"
r=$(office POST /api/v1/commands --data-binary '{"type":"sync","kiosk":"k-0001","venue":"v1"}'); check_has "two targets" "400 " "$r"
r=$(office POST /api/v1/commands --data-binary '{"type":"sync","kiosk":"k-0001","expires_s":5}'); check_has "too short a life" '400 {"error":"expires_s' "$r"
r=$(http POST /api/v1/commands -H "Authorization: Bearer $TK" --data-binary '{"type":"sync","kiosk":"k-0001"}'); check "a kiosk cannot command" "403 " "$r"
"$BIN" command restart --kiosk k-0404 --data "$DATA" 2>"$TMP/err"; check "CLI command for an unknown kiosk" 1 $?
check "it says so" "kepu-server: kiosk k-0404 does not exist" "$(cat "$TMP/err")"
"$BIN" command reboot --kiosk k-0001 --data "$DATA" 2>/dev/null; check "CLI unknown type" 2 $?
C3=$("$BIN" command restart --kiosk k-0001 --expires-min 30 --data "$DATA" | cut -f1); check "CLI command id" 32 "${#C3}"
"$BIN" command --help | grep -q "command screenshot|restart|sync|logs"; check "command --help" 0 $?

r=$(hb); a=$(body "$r")
check "commands in the heartbeat answer, oldest first" "screenshot logs restart" "$(jq -r '[.commands[].type] | join(" ")' <<<"$a")"
check "come back in 15 s while commands wait" 15 "$(jq -r .next_heartbeat_s <<<"$a")"
check "args delivered" 50 "$(jq -r '.commands[1].args.lines' <<<"$a")"
check "expiry delivered" 1 "$(jq -r "[.commands[] | select(.expires > $(now_ms))] | length == 3 | if . then 1 else 0 end" <<<"$a")"
r=$(hb); check "still there until done" 3 "$(body "$r" | jq '.commands | length')"
big=$(head -c 40000 /dev/zero | tr '\0' 'x')
r=$(hb "{\"kiosk\":\"k-0001\",\"done\":[{\"id\":\"$C1\",\"ok\":true,\"detail\":\"\"},{\"id\":\"$C2\",\"ok\":true,\"detail\":\"$big\"}]}")
check "done: gone from the answer" "restart" "$(body "$r" | jq -r '[.commands[].type] | join(" ")')"
r=$(hb "{\"kiosk\":\"k-0001\",\"done\":[{\"id\":\"$C1\",\"ok\":false,\"detail\":\"again\"},{\"id\":\"$C3\",\"ok\":false,\"detail\":\"app busy\"}]}")
check_has "a repeated done is no error" "200 " "$r"
check "nothing waits: no quick heartbeat" "[] null" "$(body "$r" | jq -c '.commands, .next_heartbeat_s' | tr '\n' ' ' | sed 's/ $//')"
check "done once: the first result stays" "1|" "$(sql "SELECT ok, detail FROM commands WHERE id='$C1'")"
check "a logs detail is capped at 32 KiB" 32768 "$(sql "SELECT length(detail) FROM commands WHERE id='$C2'")"
r=$(office GET "/api/v1/commands?kiosk=k-0001"); check "office list with results" "restart:0:app busy" "$(body "$r" | jq -r ".rows[] | select(.[0]==\"$C3\") | \"\(.[2]):\(.[8]):\(.[9])\"")"
r=$(hb "{\"kiosk\":\"k-0001\",\"done\":[{\"id\":\"$C1\"}]}"); check_has "a bad done" '400 {"error":"done[0]' "$r"
r=$(hb '{"kiosk":"k-0001","done":"yes"}'); check_has "done not an array" "400 " "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary "{\"kiosk\":\"k-0002\",\"done\":[{\"id\":\"$C3\",\"ok\":true}]}")
check_has "another kiosk's command is not done by it" "200 " "$r"
check "untouched" "0" "$(sql "SELECT ok FROM commands WHERE id='$C3'")"

# --- screenshots ---
python3 - "$TMP" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + b"\x10\x80\xf0" * 64 for _ in range(36))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 36, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1] + "/shot.png", "wb").write(png)
open(sys.argv[1] + "/bad.png", "wb").write(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
PY
shot() { http POST "/api/v1/kiosks/$1/screenshot" -H "Authorization: Bearer ${3:-$TK}" -H "Content-Type: ${4:-image/png}" --data-binary "@$2"; }
r=$(office GET /api/v1/kiosks/k-0001/screenshot); check "no screenshot yet" '404 {"error":"kiosk k-0001 has sent no screenshot"}' "$r"
r=$(shot k-0001 "$TMP/shot.png"); check "screenshot upload" '200 {"ok":true}' "$r"
curl -s -o "$TMP/got.png" -D "$TMP/h" -b "$J" "$U/api/v1/kiosks/k-0001/screenshot"
cmp -s "$TMP/shot.png" "$TMP/got.png"; check "the office reads the same bytes" 0 $?
check_has "as image/png" "image/png" "$(grep -i '^content-type' "$TMP/h")"
check_has "with its time" "X-Taken-Ms: " "$(grep -i '^x-taken-ms' "$TMP/h")"
r=$(shot k-0001 "$TMP/bad.png"); check_has "a broken PNG" '400 {"error":"body: not a PNG' "$r"
printf 'GIF89a...' >"$TMP/x.gif"; r=$(shot k-0001 "$TMP/x.gif"); check_has "not a PNG at all" '400 {"error":"body: not a PNG' "$r"
r=$(shot k-0001 "$TMP/shot.png" "$TK" image/jpeg); check "not image/png" '415 {"error":"Content-Type: must be image/png"}' "$r"
r=$(shot k-0002 "$TMP/shot.png"); check "another kiosk's screenshot" "403 " "${r%% *} "
r=$(shot k-0001 "$TMP/shot.png" "$TS"); check "a staff token cannot upload" "403 " "${r%% *} "
head -c $((50 * 1024 * 1024)) /dev/zero >"$TMP/big.png"
start=$(date +%s)
r=$(shot k-0001 "$TMP/big.png"); check "a 50 MB screenshot" "413" "${r%% *}"
check "refused quickly" 1 "$(( $(date +%s) - start < 20 ))"
curl -s -o "$TMP/got2.png" -b "$J" "$U/api/v1/kiosks/k-0001/screenshot"
cmp -s "$TMP/shot.png" "$TMP/got2.png"; check "the good screenshot stays after bad uploads" 0 $?
r=$(http GET /healthz); check "server still up" '200 {"status":"ok"}' "$r"

# --- settings overlay: kiosk > tag > venue; bad values refused whole ---
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"idle_timeout_s":120,"default_lang":"en","volume":60}}'); check "venue settings" '200 {"ok":true}' "$r"
r=$(office POST /api/v1/settings --data-binary '{"tag":"portrait","set":{"idle_timeout_s":90,"audiences":"youth,elderly"}}'); check "tag settings" '200 {"ok":true}' "$r"
check "kiosk settings on the command line" "large_text = true" "$("$BIN" settings --kiosk k-0001 --set large_text=true --data "$DATA")"
r=$(hb); check "merged overlay in the answer" '{"audiences":"youth,elderly","default_lang":"en","idle_timeout_s":90,"large_text":true,"volume":60}' "$(body "$r" | jq -cS .config)"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}'); check "another venue: empty overlay" '{}' "$(body "$r" | jq -c .config)"
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"volume":30,"idle_timeout_s":5}}')
check "a bad value is refused, naming key and value" '400 {"error":"idle_timeout_s: \"5\" is not allowed (expected a whole number from 10 to 3600)"}' "$r"
r=$(hb); check "refused whole: the old values stay" 60 "$(body "$r" | jq -c .config.volume)"
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"staff_pin_hash":"1234"}}'); check_has "a PIN is not a PIN hash" '400 {"error":"staff_pin_hash' "$r"
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"server_url":"http://evil"}}'); check_has "a key off the whitelist" '400 {"error":"server_url: not a remote setting' "$r"
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"volume":101}}'); check_has "volume out of range" '400 {"error":"volume: \"101\" is not allowed' "$r"
r=$(office POST /api/v1/settings --data-binary '{"venue":"v1","set":{"default_lang":"fr"}}'); check_has "a language the kiosk has not" '400 {"error":"default_lang' "$r"
r=$(office POST /api/v1/settings --data-binary '{"venue":"nowhere","set":{"volume":1}}'); check "settings of an unknown venue" '404 {"error":"venue nowhere does not exist"}' "$r"
"$BIN" settings --venue v1 --set idle_timeout_s=2 --data "$DATA" 2>"$TMP/err"; check "CLI bad value" 1 $?
check_has "CLI names key and value" 'idle_timeout_s: "2" is not allowed' "$(cat "$TMP/err")"
r=$(office POST /api/v1/settings --data-binary '{"tag":"portrait","clear":["idle_timeout_s"]}'); check "clear a key" '200 {"ok":true}' "$r"
r=$(hb); check "the venue's value shows through" 120 "$(body "$r" | jq -c .config.idle_timeout_s)"

# --- opening hours and the state ---
W='[[["09:00","17:00"]],[["09:00","17:00"]],[["09:00","17:00"]],[["09:00","17:00"]],[["09:00","17:00"]],[["09:00","12:00"],["13:00","18:00"]],[]]'
r=$(office POST /api/v1/venues/v1/hours --data-binary "{\"tz\":\"Asia/Shanghai\",\"week\":$W,\"closed\":[\"2026-12-25\"]}"); check "hours" '200 {"ok":true}' "$r"
r=$(hb); check "hours in the answer" "Asia/Shanghai 7 2026-12-25" "$(body "$r" | jq -r '"\(.hours.tz) \(.hours.week | length) \(.hours.closed[0])"')"
check "hours are not in config" null "$(body "$r" | jq -c .config.hours)"
r=$(office POST /api/v1/venues/v1/hours --data-binary '{"tz":"Asia/Shanghai","week":[[["17:00","09:00"]],[],[],[],[],[],[]]}'); check_has "a range ending before it starts" '400 {"error":"hours.week[0]' "$r"
r=$(office POST /api/v1/venues/v1/hours --data-binary '{"tz":"Asia/Shanghai","week":[]}'); check_has "not 7 days" '400 {"error":"hours.week' "$r"
r=$(office POST /api/v1/venues/v1/hours --data-binary "{\"tz\":\"../../etc\",\"week\":$W}"); check_has "a bad zone" '400 {"error":"hours.tz' "$r"
r=$(office POST /api/v1/venues/nowhere/hours --data-binary "{\"tz\":\"Asia/Shanghai\",\"week\":$W}"); check_has "hours of an unknown venue" "404 " "$r"
r=$(hb '{"kiosk":"k-0001","state":"sleeping"}'); check_has "state sleeping" "200 " "$r"
r=$(office GET /api/v1/stats/kiosks); check "the dashboard's list shows it sleeping" "sleeping" "$(body "$r" | jq -r '(.columns | index("state")) as $i | .rows[] | select(.[0]=="k-0001") | .[$i]')"
r=$(hb '{"kiosk":"k-0001","state":"dozing"}'); check "a bad state" '400 {"error":"state: must be \"open\" or \"sleeping\""}' "$r"
r=$(hb '{"kiosk":"k-0001","state":"open"}'); check_has "state open" "200 " "$r"

# --- notices for a tag, audited ---
NOW=$(now_ms)
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"takeover\",\"text\":{\"zh\":\"台风预警：今日闭馆\",\"en\":\"Typhoon warning: closed today\"},\"from\":$NOW,\"to\":$((NOW + 3600000)),\"tags\":[\"rural-base\"]}")
check_has "notice" "200 " "$r"; N1=$(body "$r" | jq -r .id)
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $(sql "SELECT 1" >/dev/null; echo "$TK")" --data-binary '{"kiosk":"k-0001"}')
check "not for an untagged kiosk" 0 "$(body "$r" | jq '.notices | length')"
"$BIN" kiosk tag k-0001 --add rural-base --data "$DATA" >/dev/null
r=$(hb); check "for a tagged kiosk" "$N1 takeover 台风预警：今日闭馆" "$(body "$r" | jq -r '.notices[0] | "\(.id) \(.level) \(.text.zh)"')"
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"banner\",\"text\":{\"zh\":\"x\"},\"from\":$NOW,\"to\":$((NOW - 1000)),\"city\":true}")
check_has "end before start refused" '400 {"error":"to: the end' "$r"
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"banner\",\"text\":{\"zh\":\"x\"},\"from\":$NOW,\"to\":$((NOW + 1000)),\"kiosks\":[\"k-0404\"]}")
check "a notice for an unknown kiosk" '404 {"error":"kiosk k-0404 does not exist"}' "$r"
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"flash\",\"text\":{\"zh\":\"x\"},\"from\":$NOW,\"to\":$((NOW + 1000)),\"city\":true}"); check_has "a bad level" "400 " "$r"
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"banner\",\"text\":{\"en\":\"x\"},\"from\":$NOW,\"to\":$((NOW + 1000)),\"city\":true}"); check_has "zh is required" "400 " "$r"
r=$(office POST /api/v1/notices --data-binary "{\"level\":\"banner\",\"text\":{\"zh\":\"全市\"},\"from\":$NOW,\"to\":$((NOW + 3600000)),\"city\":true}"); N2=$(body "$r" | jq -r .id)
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}'); check "a city notice reaches every kiosk" "$N2" "$(body "$r" | jq -r '[.notices[].id] | join(",")')"
r=$(office GET /api/v1/notices); check "notice list with targets" '["tag:rural-base"]' "$(body "$r" | jq -c ".rows[] | select(.[0]==\"$N1\") | .[5] | fromjson")"
r=$(office POST "/api/v1/notices/$N1/delete"); check "delete" '200 {"ok":true}' "$r"
r=$(office POST "/api/v1/notices/$N1/delete"); check_has "delete twice" "404 " "$r"
r=$(hb); check "deleted: gone" "$N2" "$(body "$r" | jq -r '[.notices[].id] | join(",")')"
r=$(office GET /api/v1/audit); check "every notice create and delete audited" "alice notice.add $N1|alice notice.add $N2|alice notice.delete $N1" "$(body "$r" | jq -r '[.[] | select(.what | startswith("notice")) | "\(.who) \(.what) \(.target)"] | join("|")')"

# --- a restart keeps it all ---
stop_server; start_server
r=$(hb); check "after a restart: config, hours, notices" "120 Asia/Shanghai 1" "$(body "$r" | jq -r '"\(.config.idle_timeout_s) \(.hours.tz) \(.notices | length)"')"
finish
