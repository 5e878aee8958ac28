#!/usr/bin/env bash
# kepu-server: event ingest, heartbeat, healthz and metrics against the real server, with
# the bad input of issue 5: malformed JSON, wrong types, missing fields, unknown types,
# mixed batches, oversize bodies, gzip bodies and bombs, deep nesting, invalid UTF-8,
# bad tokens and SQL metacharacters in every string field.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
start_server

r=$(http GET /healthz); check "healthz" '200 {"status":"ok"}' "$r"

# --- credentials ---
r=$(http POST /api/v1/events --data-binary '{}'); check "no token" "401 " "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer $(new_id)$(new_id)" --data-binary '{}')
check "wrong token" "401 " "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer ../../etc/passwd" --data-binary '{}')
check "malformed token" "401 " "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TS" --data-binary '{}')
check "staff token on a kiosk call" "403 " "$r"

# --- a good batch, then the same again: stored once ---
A=$(new_id); B=$(new_id); C=$(new_id)
body=$(batch "$(event "$A" session_start)" \
    "$(event "$B" page_view '"topic":"quake","page":1,"dwell_ms":5000')" \
    "$(event "$C" quiz_answer '"topic":"quake","question":"q1","choice":[1],"correct":true,"ms":900')")
r=$(post_events "$body"); check "good batch" '200 {"accepted":3,"duplicates":0,"rejected":[]}' "$r"
r=$(post_events "$body"); check "same batch again" '200 {"accepted":0,"duplicates":3,"rejected":[]}' "$r"
check "stored once" 3 "$(sql "SELECT COUNT(*) FROM events WHERE id IN ('$A','$B','$C')")"
check "hour rollup counted once" 1 "$(sql "SELECT SUM(n) FROM roll_hour WHERE type='session_start'")"
check "topic rollup" "1|5000" "$(sql "SELECT views, dwell_ms FROM roll_topic WHERE topic='quake'")"
check "question rollup" "1|1" "$(sql "SELECT correct, total FROM roll_question WHERE question='q1' AND audience='youth'")"

# --- gzip bodies ---
D=$(new_id)
batch "$(event "$D" idle_reset)" | gzip -c >"$TMP/b.gz"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Content-Encoding: gzip' --data-binary @"$TMP/b.gz")
check "gzip batch" '200 {"accepted":1,"duplicates":0,"rejected":[]}' "$r"
head -c 64M /dev/zero | gzip -c >"$TMP/bomb.gz"   # 64 MiB of zeros in ~64 KiB
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Content-Encoding: gzip' --data-binary @"$TMP/bomb.gz")
check_has "gzip bomb refused" "413 " "$r"
printf 'not gzip at all' >"$TMP/bad.gz"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Content-Encoding: gzip' --data-binary @"$TMP/bad.gz")
check_has "corrupt gzip" '400 {"error":"body: not a valid gzip stream"}' "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Content-Encoding: br' --data-binary '{}')
check_has "unknown encoding" "415 " "$r"

# --- malformed bodies ---
r=$(post_events '{"kiosk":"k-0001","events":[}'); check_has "malformed JSON" '400 {"error":"body: not valid JSON (at byte' "$r"
r=$(post_events ''); check_has "empty body" "400 " "$r"
r=$(post_events '{"kiosk":"k-0001","events":[]} x'); check_has "trailing garbage" "extra data" "$r"
printf '{"kiosk":"k-0001","events":[{"id":"\xff\xfe"}]}' >"$TMP/utf8"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/utf8")
check "invalid UTF-8" '400 {"error":"body: not valid UTF-8"}' "$r"
{ printf '{"kiosk":"k-0001","events":'; head -c 10000 /dev/zero | tr '\0' '['; head -c 10000 /dev/zero | tr '\0' ']'; printf '}'; } >"$TMP/deep"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/deep")
check_has "nested 10000 deep" "400 " "$r"; check_has "nesting named" "nesting" "$r"
r=$(post_events '[1,2]'); check_has "not an object" "400 " "$r"
r=$(post_events '{"kiosk":"k-0001"}'); check "events missing" '400 {"error":"events: missing or not an array"}' "$r"
r=$(post_events '{"kiosk":"k-0001","events":{}}'); check_has "events not an array" "400 " "$r"
r=$(post_events '{"kiosk":7,"events":[]}'); check_has "kiosk wrong type" "400 " "$r"
r=$(post_events '{"kiosk":"k-0002","events":[]}'); check_has "another kiosk's batch" "403 " "$r"

# --- a batch mixing good and bad events: the good ones are kept ---
G1=$(new_id); G2=$(new_id); X=$(new_id); F=$(new_id)
NOW=$(now_ms)
body=$(batch "$(event "$G1" boot)" \
    "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0001\",\"ts\":$NOW,\"type\":\"teleport\"}" \
    "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0001\",\"ts\":\"yesterday\",\"type\":\"boot\"}" \
    "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0001\",\"type\":\"boot\"}" \
    "{\"kiosk\":\"k-0001\",\"ts\":$NOW,\"type\":\"boot\"}" \
    "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0002\",\"ts\":$NOW,\"type\":\"boot\"}" \
    "$(event "$X" page_view '"topic":"quake","page":"two","dwell_ms":5')" \
    "$(event "$(new_id)" quiz_answer '"topic":"quake","question":"q1","choice":[1],"correct":"yes","ms":5')" \
    "$(event "$(new_id)" quiz_complete '"topic":"quake","score":5,"total":3')" \
    "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0001\",\"ts\":$NOW,\"type\":\"audience\",\"audience\":\"martians\"}" \
    "{\"id\":\"$F\",\"kiosk\":\"k-0001\",\"ts\":$((NOW + 7 * 86400000)),\"type\":\"boot\"}" \
    "42" \
    "$(event "$G2" session_end '"duration_ms":61000,"reason":"idle"')")
r=$(post_events "$body")
check "mixed batch counts" "200 3 0 10" "$(echo "$r" | cut -d' ' -f1) $(cut -d' ' -f2- <<<"$r" | jq -r '"\(.accepted) \(.duplicates) \(.rejected|length)"')"
reasons=$(cut -d' ' -f2- <<<"$r" | jq -r '.rejected[].reason' | tr '\n' '|')
for want in "type: unknown event type" "ts: must be a whole number" "ts: missing" "id: missing" \
    "kiosk: does not match" "page: must be a whole number" "correct: must be true or false" \
    "score: must be a whole number from 0 to 3" "audience: unknown audience group" "event: must be an object"; do
    check_has "reason: $want" "$want" "$reasons"
done
check "rejected event ids named" "$X" "$(cut -d' ' -f2- <<<"$r" | jq -r ".rejected[] | select(.id==\"$X\") | .id")"
check "good events of the mixed batch kept" 2 "$(sql "SELECT COUNT(*) FROM events WHERE id IN ('$G1','$G2')")"
# A time stamp a week ahead is a wrong kiosk clock: kept, flagged, with its receive time,
# and out of the statistics (issue 11: nothing is lost for its time stamp).
check "event from a wrong clock kept and flagged" 1 "$(sql "SELECT clock_flag FROM events WHERE id='$F'")"
check "flagged event has its receive time" 1 "$(sql "SELECT CASE WHEN received_ms BETWEEN $NOW - 60000 AND $NOW + 600000 THEN 1 ELSE 0 END FROM events WHERE id='$F'")"
check "flagged event not in the rollups" "" "$(sql "SELECT n FROM day_type WHERE type='boot' AND day=$((((NOW + 7 * 86400000) / 3600000 * 3600 + 28800) / 86400))")"
check "flagged events counted" 1 "$(sql "SELECT n FROM counters WHERE name='events_clock_flagged'")"

# --- only the contract's fields are stored: unknown members are dropped ---
P=$(new_id)
r=$(post_events "$(batch "{\"id\":\"$P\",\"kiosk\":\"k-0001\",\"ts\":$NOW,\"type\":\"boot\",\"pad\":\"$(head -c 20000 /dev/zero | tr '\0' 'a')\"}")")
check "event with an unknown member accepted" '200 {"accepted":1,"duplicates":0,"rejected":[]}' "$r"
check "unknown member not stored" "" "$(if on_pg; then sql "SELECT body::json->>'pad' FROM events WHERE id='$P'"; else sql "SELECT json_extract(body, '\$.pad') FROM events WHERE id='$P'"; fi)"

# --- the event contract for the dashboard: the core's lists, one place ---
check "contract audiences" "youth farmers elderly workers officials other" \
    "$(curl -s "$U/api/v1/contract" | jq -r '.audiences | join(" ")')"
check "contract has the format-2 rows" "interact audio_play" \
    "$(curl -s "$U/api/v1/contract" | jq -r '[.types[].type | select(. == "interact" or . == "audio_play")] | join(" ")')"

# --- limits ---
{ printf '{"kiosk":"k-0001","events":['; for i in $(seq 1 1001); do [ "$i" -gt 1 ] && printf ','; printf '{"id":"%032x","kiosk":"k-0001","ts":%s,"type":"boot"}' "$i" "$NOW"; done; printf ']}'; } >"$TMP/big"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/big")
check_has "1001 events" "413 " "$r"
{ printf '{"kiosk":"k-0001","events":[],"pad":"'; head -c 5300000 /dev/zero | tr '\0' 'a'; printf '"}'; } >"$TMP/huge"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/huge")
check_has "body over 5 MB" "413" "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/huge")
check_has "chunked body over 5 MB" "413" "$r"
# 1000 events are fine
{ printf '{"kiosk":"k-0001","events":['; for i in $(seq 1 1000); do [ "$i" -gt 1 ] && printf ','; printf '{"id":"%032x","kiosk":"k-0001","ts":%s,"type":"boot"}' "$((i + 1000000))" "$NOW"; done; printf ']}'; } >"$TMP/full"
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/full")
check "1000 events accepted" '200 {"accepted":1000,"duplicates":0,"rejected":[]}' "$r"

# --- SQL metacharacters in every string field: stored verbatim, nothing else touched ---
EVIL="x'); DROP TABLE events;--\\\" OR ''='"
EVILJ=$(jq -Rn --arg s "$EVIL" '$s')
S1=$(new_id); S2=$(new_id); S3=$(new_id)
body=$(batch "$(event "$S1" error "\"code\":$EVILJ,\"detail\":$EVILJ")" \
    "$(event "$S2" quiz_answer "\"topic\":$EVILJ,\"question\":$EVILJ,\"choice\":[0],\"correct\":false,\"ms\":1")" \
    "$(event "$S3" session_end "\"duration_ms\":1,\"reason\":$EVILJ")")
body=$(jq -c --arg s "$EVIL" '.events[0].pack = $s' <<<"$body")
r=$(post_events "$body"); check "SQL metacharacters accepted as text" '200 {"accepted":3,"duplicates":0,"rejected":[]}' "$r"
check "kiosks intact" 2 "$(sql 'SELECT COUNT(*) FROM kiosks')"
check "detail stored verbatim" "$EVIL" "$(if on_pg; then sql "SELECT body::json->>'detail' FROM events WHERE id='$S1'"; else sql "SELECT json_extract(body, '\$.detail') FROM events WHERE id='$S1'"; fi)"
check "question rollup keyed verbatim" "$EVIL" "$(sql "SELECT question FROM roll_question WHERE correct=0")"
r=$(post_events "{\"kiosk\":$EVILJ,\"events\":[]}"); check_has "evil kiosk field" "403 " "$r"
r=$(http POST /api/v1/events -H "Authorization: Bearer $EVIL" --data-binary '{}'); check "evil token" "401 " "$r"

# --- heartbeat ---
"$BIN" assign quake@2026.1 --venue v1 --data "$DATA" || fail "assign venue"
"$BIN" assign health@1 --venue v1 --data "$DATA" || fail "assign venue 2"
"$BIN" assign quake@2026.2 --kiosk k-0001 --data "$DATA" || fail "assign kiosk"
hb='{"kiosk":"k-0001","app_version":"0.1.0","packs":["quake@2026.1"],"queue":12,"dropped":0,"uptime_s":3600,"disk_free_mb":2048,"last_error":null}'
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary "$hb")
check_has "heartbeat answers" "200 " "$r"
check "heartbeat packs: kiosk overrides venue" "health@1 quake@2026.2" \
    "$(cut -d' ' -f2- <<<"$r" | jq -r '[.packs[] | "\(.id)@\(.version)"] | join(" ")')"
t=$(cut -d' ' -f2- <<<"$r" | jq -r '.time'); [ $((t / 1000 - $(date +%s))) -le 2 ] && ok || fail "heartbeat time $t"
check "status stored" "0.1.0|12|2048" "$(sql "SELECT app_version, queue, disk_free_mb FROM kiosk_status WHERE kiosk='k-0001'")"
check "no clock offset reported, none stored" "" "$(sql "SELECT clock_offset_ms FROM kiosk_status WHERE kiosk='k-0001'")"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","clock_offset_ms":-4200}')
check_has "heartbeat with a clock offset" "200 " "$r"
check "clock offset stored" "-4200" "$(sql "SELECT clock_offset_ms FROM kiosk_status WHERE kiosk='k-0001'")"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","clock_offset_ms":null}')
check "a null clock offset clears it" "" "$(sql "SELECT clock_offset_ms FROM kiosk_status WHERE kiosk='k-0001'")"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "kiosk of another venue" '200 []' "$(echo "$r" | cut -d' ' -f1) $(cut -d' ' -f2- <<<"$r" | jq -c .packs)"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0002"}'); check_has "heartbeat for another kiosk" "403 " "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","queue":-1}'); check_has "negative queue" '400 {"error":"queue:' "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","packs":"quake"}'); check_has "packs not array" '400 {"error":"packs:' "$r"
r=$(http POST /api/v1/heartbeat --data-binary '{"kiosk":"k-0001"}'); check "heartbeat without token" "401 " "$r"

# --- routing ---
r=$(http GET /api/v1/nothing); check_has "unknown path" "404" "$r"
r=$(http GET /api/v1/events -H "Authorization: Bearer $TK"); check_has "wrong method" "405" "$r"

# --- metrics ---
m=$(curl -s -D "$TMP/h" "$U/metrics")
check_has "metrics content type" "text/plain; version=0.0.4" "$(cat "$TMP/h")"
check_has "metrics counts accepted events" 'kepu_events_received_total{result="accepted"} 1011' "$m"
check_has "metrics counts 413s" "kepu_http_bodies_too_large_total 3" "$m"
check_has "metrics has store totals" 'kepu_store{item="events_stored"} 1011' "$m"
check_has "metrics per route" 'kepu_http_requests_total{route="events",code="4xx"}' "$m"

# still up, and what it stored is intact
r=$(http GET /healthz); check "still healthy" '200 {"status":"ok"}' "$r"
check "all accepted events stored" 1011 "$(sql 'SELECT COUNT(*) FROM events')"
check "event counter matches" 1011 "$(sql "SELECT n FROM counters WHERE name='events'")"
stop_server; check "clean exit on SIGTERM" 0 $?

# --- ingest limits through HTTP: 429 and 503 carry Retry-After, nothing is stored ---
start_server --kiosk-rate 1 --kiosk-burst 1000
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK" --data-binary @"$TMP/full")
check "a full burst is taken" '200 {"accepted":0,"duplicates":1000,"rejected":[]}' "$r"
r=$(post_events "$(batch "$(event "$(new_id)" boot)")" -D "$TMP/h")
check_has "over the rate: 429" "429 " "$r"
check_has "429 says when to retry" "Retry-After: " "$(cat "$TMP/h")"
stop_server
start_server --min-free-mb 100000000
R=$(new_id)
r=$(post_events "$(batch "$(event "$R" boot)")" -D "$TMP/h")
check_has "short of disk space: 503" "503 " "$r"
check_has "503 says when to retry" "Retry-After: 600" "$(cat "$TMP/h")"
check "nothing stored while short of space" 0 "$(sql "SELECT COUNT(*) FROM events WHERE id='$R'")"
check_has "the log says why" "free space below the limit" "$(cat "$TMP/server.log")"
stop_server
finish
