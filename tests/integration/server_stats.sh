#!/usr/bin/env bash
# kepu-server: what the office dashboard reads. The dashboard's static files at / (and
# nothing outside the web folder), Chart.js from Debian's package at /vendor/chart.js, and
# the aggregates added for it: overview (online = heartbeat in the last 15 minutes,
# sessions of 1, 7 and 30 days), events per day, views and exits per page, literacy per
# audience per day, packs, assignments and what each kiosk is told; each as CSV too.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
TK3=$("$BIN" kiosk add k-0003 --venue v1 --data "$DATA") || exit 1
start_server
J=$TMP/jar
DAY_MS=86400000

# --- static files ---
r=$(http GET / -D "$TMP/h"); check_has "index" "200 " "$r"
check_has "index is HTML" "text/html; charset=utf-8" "$(cat "$TMP/h")"
check_has "index has a CSP" "Content-Security-Policy: default-src 'self'" "$(cat "$TMP/h")"
check_has "index is revalidated" "Cache-Control: no-cache" "$(cat "$TMP/h")"
r=$(http GET /index.html); check_has "index by name" "200 " "$r"
for evil in /nothing.html /.git /index.exe "/..%2fsrv_api.c" /%2e%2e/CMakeLists.txt /web/index.html \
    /vendor/../../etc/passwd /vendor/jquery.js; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$U$evil")
    case "$code" in 400|404) ok ;; *) fail "static $evil answered $code" ;; esac
done
r=$(http POST /index.html --data-binary x); check_has "static files are GET only" "405 " "$r"
r=$(http POST /api/v1/nothing --data-binary "{}"); check_has "unknown path with a body" "404 " "$r"
if [ -f /usr/share/javascript/chart.js/chart.min.js ]; then
    curl -s -D "$TMP/h" -o "$TMP/chart.js" "$U/vendor/chart.js"
    check "chart.js served from the Debian package" "$(sha256sum </usr/share/javascript/chart.js/chart.min.js)" "$(sha256sum <"$TMP/chart.js")"
    check_has "chart.js type" "text/javascript" "$(cat "$TMP/h")"
else
    fail "libjs-chart.js is not installed (scripts/deps.sh --test)"
fi
r=$(http GET /api/v1/stats/overview); check "stats still need a login" "401 " "$r"

r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
st() { http GET "/api/v1/stats/$1" -b "$J" | cut -d' ' -f2- | jq -c .rows; }

# --- seed: sessions today, 3, 10 and 40 days ago; page views; answers per audience ---
NOW=$(now_ms)
ev() { # ev DAYS_AGO TYPE AUDIENCE [extra]
    local extra=${4:-}
    echo "{\"id\":\"$(new_id)\",\"kiosk\":\"k-0001\",\"ts\":$((NOW - $1 * DAY_MS)),\"type\":\"$2\",\"audience\":\"$3\"${extra:+,$extra}}"
}
day() { TZ=Asia/Shanghai date -d "@$(( (NOW - $1 * DAY_MS) / 1000 ))" +%F; }
evs=()
for d in 0 0 3 10 40; do evs+=("$(ev "$d" session_start youth)"); done
evs+=("$(ev 0 page_view youth '"topic":"quake","page":0,"dwell_ms":4000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":0,"dwell_ms":2000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":0,"dwell_ms":3000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":0,"dwell_ms":3000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":1,"dwell_ms":6000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":1,"dwell_ms":2000')")
evs+=("$(ev 0 page_view youth '"topic":"quake","page":2,"dwell_ms":1000')")
evs+=("$(ev 0 quiz_answer youth '"topic":"quake","question":"q1","choice":[1],"correct":true,"ms":500')")
evs+=("$(ev 0 quiz_answer elderly '"topic":"quake","question":"q1","choice":[0],"correct":false,"ms":500')")
evs+=("$(ev 3 quiz_answer elderly '"topic":"quake","question":"q1","choice":[1],"correct":true,"ms":500')")
r=$(post_events "$(batch "${evs[@]}")"); check "seed" '200 {"accepted":15,"duplicates":0,"rejected":[]}' "$r"

# --- overview: k-0001 just sent a heartbeat, k-0002 never did, k-0003's is 16 minutes old ---
http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001","app_version":"1.2.0","packs":["quake@1"],"queue":3,"dropped":1,"last_error":"磁盘已满"}' >/dev/null
http POST /api/v1/heartbeat -H "Authorization: Bearer $TK3" --data-binary '{"kiosk":"k-0003"}' >/dev/null
sql "UPDATE kiosk_status SET seen_ms = seen_ms - 16 * 60000 WHERE kiosk = 'k-0003'"
check "overview" '[[3,1,2,2,3,4]]' "$(st overview)"
check "overview columns" '["kiosks","online","offline","sessions_1d","sessions_7d","sessions_30d"]' \
    "$(http GET /api/v1/stats/overview -b "$J" | cut -d' ' -f2- | jq -c .columns)"
check "overview of one venue" '[[1,0,1,0,0,0]]' "$(st "overview?venue=v2")"
check "overview ending 3 days ago" '[[3,1,2,1,1,2]]' "$(st "overview?to=$(day 3)")"
check "kiosks online" '[["k-0001",1,"市科技馆"],["k-0002",0,"农业科普基地"],["k-0003",0,"市科技馆"]]' \
    "$(http GET /api/v1/stats/kiosks -b "$J" | cut -d' ' -f2- | jq -c '[.rows[] | [.[0], .[10], .[11]]]')"
check "kiosk health" '[1.2.0,"[\"quake@1\"]",3,1,"磁盘已满"]' \
    "$(http GET "/api/v1/stats/kiosks?kiosk=k-0001" -b "$J" | cut -d' ' -f2- | jq -c '.rows[0] | [.[3], .[4], .[5], .[6], .[9]]' | sed 's/^\["1.2.0"/[1.2.0/')"

# --- events per day ---
check "events per day" "[[\"$(day 40)\",1,1,0,0],[\"$(day 10)\",1,1,0,0],[\"$(day 3)\",2,1,0,1],[\"$(day 0)\",11,2,7,2]]" \
    "$(st "events?by=day&from=$(day 45)")"
check "events per day, default 30 days" "[\"$(day 10)\",\"$(day 3)\",\"$(day 0)\"]" "$(st events | jq -c '[.[][0]]')"

# --- pages: views, average dwell, reach and where readers leave ---
check "pages" '[["quake",0,4,3000,1,0.5],["quake",1,2,4000,0.5,0.25],["quake",2,1,1000,0.25,0.25]]' "$(st pages)"
check "pages of another topic" '[]' "$(st "pages?topic=flu")"

# --- literacy: share of correct answers per audience per day ---
check "quiz per audience per day" "[[\"$(day 3)\",\"elderly\",1,1,1],[\"$(day 0)\",\"elderly\",0,1,0],[\"$(day 0)\",\"youth\",1,1,1]]" \
    "$(st "quiz?by=audience_day")"
check "one audience" "[[\"$(day 0)\",\"youth\",1,1,1]]" "$(st "quiz?by=audience_day&audience=youth")"

# --- packs and assignments; the kiosks table shows what each kiosk is told ---
check "no packs yet" '[]' "$(st packs)"
http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"1","venue":"v1"}' >/dev/null
http POST /api/v1/assignments -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary '{"pack":"quake","version":"2","kiosk":"k-0003"}' >/dev/null
check "assignments" '[["venue","v1","quake","1"],["kiosk","k-0003","quake","2"]]' \
    "$(http GET /api/v1/stats/assignments -b "$J" | cut -d' ' -f2- | jq -c '[.rows[] | .[0:4]]')"
check "assignments of a venue's kiosk" '[["kiosk","k-0003","quake","2"]]' \
    "$(http GET "/api/v1/stats/assignments?kiosk=k-0003" -b "$J" | cut -d' ' -f2- | jq -c '[.rows[] | .[0:4]]')"
check "assigned per kiosk" '[["k-0001","quake@1"],["k-0002",null],["k-0003","quake@2"]]' \
    "$(http GET /api/v1/stats/kiosks -b "$J" | cut -d' ' -f2- | jq -c '[.rows[] | [.[0], .[12]]]')"

# --- every new table exports as CSV with a BOM ---
for s in overview "events?by=day" pages "quiz?by=audience_day" packs assignments kiosks; do
    sep='?'; case "$s" in *'?'*) sep='&' ;; esac
    curl -s -b "$J" -o "$TMP/csv" "$U/api/v1/stats/$s${sep}format=csv"
    check "csv BOM of $s" "efbbbf" "$(head -c3 "$TMP/csv" | od -An -tx1 | tr -d ' \n')"
done
curl -s -b "$J" -o "$TMP/csv" "$U/api/v1/stats/pages?format=csv"
check "pages csv" $'topic,page,views,avg_dwell_ms,reach,exit_share\r\nquake,0,4,3000,1.0000,0.5000\r\nquake,1,2,4000,0.5000,0.2500\r\nquake,2,1,1000,0.2500,0.2500\r' "$(tail -c +4 "$TMP/csv")"

# --- an older database gains the page rollup from the page views it already holds, and
# the day totals (schemas 3 to 5) from the hourly rollups ---
events_before=$(st "events?by=day&from=$(day 60)"); quiz_before=$(st "quiz?by=audience_day&from=$(day 60)")
kiosks_before=$(st "sessions?by=kiosk&from=$(day 60)"); question_before=$(st "quiz?by=question&from=$(day 60)")
stop_server
if ! on_pg; then # the SQLite store's own migrations (PostgreSQL's schema starts complete)
sql "DROP TABLE roll_page; DROP TABLE day_type; DROP TABLE day_topic; DROP TABLE day_page;
     DROP TABLE day_audience; DROP TABLE day_question; DROP TABLE day_kiosk; DROP TABLE day_quiz;
     ALTER TABLE events DROP COLUMN clock_flag;
     ALTER TABLE kiosk_status DROP COLUMN clock_offset_ms; DROP TABLE login_backoff;
     DROP TABLE enrol_codes; ALTER TABLE kiosks DROP COLUMN revoked_ms;
     DROP TABLE day_interact; DROP TABLE day_block_visit; DROP TABLE day_target_visit;
     DROP TABLE day_audio;
     DROP TABLE draft_revisions; DROP TABLE drafts; DROP TABLE user_venues; DROP TABLE audit;
     DROP TABLE kiosk_tags; DROP TABLE commands; DROP TABLE screenshots; DROP TABLE settings;
     DROP TABLE notices; DROP TABLE notice_targets;
     ALTER TABLE kiosk_status DROP COLUMN state; DROP TABLE alerts; DROP TABLE server_kv;
     DROP TABLE assignment_windows; DROP TABLE assignment_history;
     ALTER TABLE assignments DROP COLUMN rolled_back;
     PRAGMA user_version = 1;"
fi
start_server
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
check "pages after migration" '[["quake",0,4,3000,1,0.5],["quake",1,2,4000,0.5,0.25],["quake",2,1,1000,0.25,0.25]]' "$(st pages)"
check "events per day after migration" "$events_before" "$(st "events?by=day&from=$(day 60)")"
check "literacy per day after migration" "$quiz_before" "$(st "quiz?by=audience_day&from=$(day 60)")"
check "sessions per kiosk after migration" "$kiosks_before" "$(st "sessions?by=kiosk&from=$(day 60)")"
check "answers per question after migration" "$question_before" "$(st "quiz?by=question&from=$(day 60)")"
if on_pg; then
    check "schema version" 11 "$(sql "SELECT version FROM schema_version")"
else
    check "schema version" 15 "$(sql "PRAGMA user_version")"
fi

stop_server; check "clean exit" 0 $?
finish
