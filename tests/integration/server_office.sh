#!/usr/bin/env bash
# kepu-server: office login (Argon2id, HttpOnly SameSite=Strict cookie, CSRF header,
# back-off after failures), assignments, stats from the rollups and CSV export.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
start_server
J=$TMP/jar

# --- credentials on office calls ---
r=$(http GET /api/v1/stats/sessions); check "stats without login" "401 " "$r"
r=$(http GET /api/v1/stats/sessions -H "Authorization: Bearer $TK"); check "kiosk token on an office call" "403 " "$r"
r=$(http GET /api/v1/stats/sessions -H "Authorization: Bearer $TS"); check "staff token on an office call" "403 " "$r"
r=$(http GET /api/v1/stats/sessions -b "kepu_session=$(new_id)$(new_id)"); check "forged session" "401 " "$r"

# --- login ---
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"wrong-pass"}'); check "wrong password" "401 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"nobody","password":"secret-pass"}'); check "unknown user" "401 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"bob","password":"staff-pass-1"}'); check "staff user cannot log in to the office" "401 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"alice"}'); check_has "login without password" "400 " "$r"
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J" -D "$TMP/h")
check_has "login" "200 " "$r"
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
check "csrf token returned" 64 "${#CSRF}"
cookie=$(grep -i '^set-cookie' "$TMP/h")
check_has "cookie HttpOnly" "HttpOnly" "$cookie"; check_has "cookie SameSite=Strict" "SameSite=Strict" "$cookie"
check "session stored hashed, not as sent" 0 "$(sql "SELECT COUNT(*) FROM sessions WHERE id_hash='$(grep kepu_session "$J" | awk '{print $7}')'")"
r=$(http GET /api/v1/session -b "$J"); check "session" "alice $CSRF" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.user) \(.csrf)"')"

# --- assignments need the CSRF header ---
r=$(http POST /api/v1/assignments -b "$J" --data-binary '{"pack":"quake","version":"2","venue":"v1"}')
check_has "assignment without CSRF header" "403 " "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $(new_id)" --data-binary '{"pack":"quake","version":"2","venue":"v1"}')
check_has "assignment with a wrong CSRF header" "403 " "$r"
r=$(http POST /api/v1/assignments -H "Authorization: Bearer $TK" --data-binary '{"pack":"quake","version":"2","venue":"v1"}')
check "kiosk token assigning" "403 " "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"2","venue":"v1"}')
check "assignment" '200 {"ok":true}' "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"3","kiosk":"k-0001"}')
check "kiosk assignment" '200 {"ok":true}' "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"2","venue":"nowhere"}')
check_has "unknown venue" "404 " "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"../etc","version":"2","venue":"v1"}')
check_has "unsafe pack id" "400 " "$r"
r=$(http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"2","venue":"v1","kiosk":"k-0001"}')
check_has "venue and kiosk both" "400 " "$r"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001"}')
check "heartbeat follows the assignment" "quake@3" "$(cut -d' ' -f2- <<<"$r" | jq -r '.packs[] | "\(.id)@\(.version)"')"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}')
check "other venue unaffected" "0" "$(cut -d' ' -f2- <<<"$r" | jq -r '.packs | length')"

# --- stats: feed known events, read the aggregates ---
TODAY=$(TZ=Asia/Shanghai date +%F)
evs=()
for i in 1 2 3; do evs+=("$(event "$(new_id)" session_start)"); done
evs+=("$(event "$(new_id)" audience)")
evs+=("$(event "$(new_id)" page_view '"topic":"quake","page":0,"dwell_ms":3000')")
evs+=("$(event "$(new_id)" page_view '"topic":"quake","page":1,"dwell_ms":5000')")
evs+=("$(event "$(new_id)" page_view '"topic":"flu","page":0,"dwell_ms":1000')")
evs+=("$(event "$(new_id)" quiz_answer '"topic":"quake","question":"q1","choice":[1],"correct":true,"ms":900')")
evs+=("$(event "$(new_id)" quiz_answer '"topic":"quake","question":"q1","choice":[0],"correct":false,"ms":900')")
evs+=("$(event "$(new_id)" quiz_answer '"topic":"quake","question":"q2","choice":[2],"correct":true,"ms":900')")
r=$(post_events "$(batch "${evs[@]}")"); check "stats events" '200 {"accepted":10,"duplicates":0,"rejected":[]}' "$r"
k2=$(new_id)
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK2" --data-binary "{\"kiosk\":\"k-0002\",\"events\":[{\"id\":\"$k2\",\"kiosk\":\"k-0002\",\"ts\":$(now_ms),\"type\":\"session_start\",\"audience\":\"farmers\"}]}")
check_has "second kiosk" '"accepted":1' "$r"

st() { http GET "/api/v1/stats/$1" -b "$J" | cut -d' ' -f2- | jq -c .rows; }
check "sessions per day" "[[\"$TODAY\",4]]" "$(st "sessions?by=day")"
check "sessions per venue" '[["v1","市科技馆",3],["v2","农业科普基地",1]]' "$(st "sessions?by=venue")"
check "sessions per kiosk" '[["k-0001","v1",3],["k-0002","v2",1]]' "$(st "sessions?by=kiosk")"
check "sessions of one venue" '[["k-0002","v2",1]]' "$(st "sessions?by=kiosk&venue=v2")"
check "topics" '[["quake",2,4000],["flu",1,1000]]' "$(st topics)"
check "audiences" '[["youth",1]]' "$(st audiences)"
check "quiz per question" '[["quake","q1",1,2,0.5],["quake","q2",1,1,1]]' "$(st "quiz?by=question")"
check "quiz per audience" '[["youth",2,3,0.6667]]' "$(st "quiz?by=audience")"
check "quiz per day" "[[\"$TODAY\",2,3,0.6667]]" "$(st "quiz?by=day&topic=quake")"
check "quiz per day, one question" "[[\"$TODAY\",1,2,0.5]]" "$(st "quiz?by=day&question=q1")"
check "empty range" '[]' "$(st "sessions?by=day&from=2020-01-01&to=2020-01-31")"
check "kiosks list" '["k-0001","k-0002"]' "$(http GET /api/v1/stats/kiosks -b "$J" | cut -d' ' -f2- | jq -c '[.rows[][0]]')"
r=$(http GET "/api/v1/stats/sessions?by=day&from=2026-02-31" -b "$J"); check_has "bad date" '400 {"error":"from:' "$r"
r=$(http GET "/api/v1/stats/sessions?by=day&from=2026-03-01&to=2026-02-01" -b "$J"); check_has "reversed range" "400 " "$r"
r=$(http GET "/api/v1/stats/sessions?by=moon" -b "$J"); check_has "unknown grouping" "404 " "$r"
r=$(http GET "/api/v1/stats/sessions?by=kiosk&kiosk=x'%20OR%20'1'='1" -b "$J"); check "SQL in a filter" '200 {"columns":["kiosk","venue","sessions"],"rows":[]}' "$r"

# --- CSV export: UTF-8 with BOM ---
curl -s -b "$J" -D "$TMP/h" -o "$TMP/csv" "$U/api/v1/stats/sessions?by=venue&format=csv"
check "csv BOM" "efbbbf" "$(head -c3 "$TMP/csv" | od -An -tx1 | tr -d ' \n')"
check "csv rows" $'venue,name,sessions\r\nv1,市科技馆,3\r\nv2,农业科普基地,1\r' "$(tail -c +4 "$TMP/csv")"
check_has "csv type" "text/csv; charset=utf-8" "$(cat "$TMP/h")"
check_has "csv attachment" "attachment; filename=" "$(cat "$TMP/h")"

# --- logout ends the session ---
r=$(http POST /api/v1/logout -b "$J" -H "X-CSRF-Token: $CSRF"); check "logout" "200 {}" "$r"
r=$(http GET /api/v1/session -b "$J"); check "session gone after logout" "401 " "$r"

# --- back-off: after 5 failures the next try must wait, even with the right password ---
for i in 1 2 3 4 5; do
    r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"guess"}'); check "failure $i" "401 " "$r"
done
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -D "$TMP/h")
check_has "back-off" "429 " "$r"; check_has "Retry-After" "Retry-After:" "$(cat "$TMP/h")"
sleep 1.2
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}'); check_has "after the wait" "200 " "$r"

stop_server; check "clean exit" 0 $?
finish
