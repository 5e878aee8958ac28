#!/usr/bin/env bash
# kepu-server: what the dashboard's content page reads about interactive blocks and
# narration (issues 13, 14). interact{topic,page,block,action,target} events: per block,
# how many visitors used it (a visitor tapping ten times counts once) and how many uses;
# per target (spot, frame, step), uses per action and visitors. audio_play{topic,page,
# lang,ms_heard}: plays and time heard per topic, audience group and language. Both per
# venue and kiosk, over a date range, and as CSV; a duplicate or a flagged event counts
# nothing; the numbers survive a restart. Runs on SQLite and (label pg) PostgreSQL.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
start_server
J=$TMP/jar
DAY_MS=86400000
NOW=$(now_ms)
day() { TZ=Asia/Shanghai date -d "@$(( (NOW - $1 * DAY_MS) / 1000 ))" +%F; }

r=$(http GET /api/v1/stats/blocks); check "blocks need a login" "401 " "$r"
http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J" >/dev/null
st() { http GET "/api/v1/stats/$1" -b "$J" | cut -d' ' -f2- | jq -c .rows; }

# ev KIOSK DAYS_AGO SESSION AUDIENCE TYPE FIELDS [ID]
ev() {
    echo "{\"id\":\"${7:-$(new_id)}\",\"kiosk\":\"$1\",\"ts\":$((NOW - $2 * DAY_MS)),\"type\":\"$5\",\"session\":\"$3\",\"audience\":\"$4\",$6}"
}
it() { ev k-0001 "$1" "$2" youth interact "\"lang\":\"zh\",\"topic\":\"eye\",\"page\":$3,\"block\":\"$4\",\"action\":\"$5\",\"target\":\"$6\""; }
evs=()
# visitor aa01 opens the retina twice and the lens once; aa02 opens the retina; aa03 (3 days ago)
# opens the lens and shows all labels; aa01 also moves the compare handle on page 2.
evs+=("$(it 0 aa01 1 hotspots open retina)" "$(it 0 aa01 1 hotspots open retina)" "$(it 0 aa01 1 hotspots open lens)")
evs+=("$(it 0 aa02 1 hotspots open retina)")
evs+=("$(it 3 aa03 1 hotspots open lens)" "$(it 3 aa03 1 hotspots all "")")
evs+=("$(it 0 aa01 2 compare after "")" "$(it 0 aa01 2 compare before "")")
au() { ev k-0001 "$1" "$2" "$3" audio_play "\"topic\":\"$4\",\"page\":0,\"lang\":\"$5\",\"ms_heard\":$6"; }
evs+=("$(au 0 aa01 youth eye zh 30000)" "$(au 0 aa02 youth eye zh 10000)" "$(au 0 aa04 elderly eye zh 60000)")
evs+=("$(au 0 aa04 elderly eye en 5000)" "$(au 3 aa03 elderly quake zh 20000)")
r=$(post_events "$(batch "${evs[@]}")"); check "seed" '200 {"accepted":13,"duplicates":0,"rejected":[]}' "$r"
# k-0002 (venue v2): one more visitor of the hotspots
r=$(http POST /api/v1/events -H "Authorization: Bearer $TK2" --data-binary \
    "{\"kiosk\":\"k-0002\",\"events\":[$(ev k-0002 0 aa09 farmers interact '"topic":"eye","page":1,"block":"hotspots","action":"open","target":"retina"')]}")
check "seed k-0002" '200 {"accepted":1,"duplicates":0,"rejected":[]}' "$r"
# bad events are refused with their field named, and count nothing
r=$(post_events "$(batch "$(ev k-0001 0 aa01 youth interact '"topic":"eye","page":1,"action":"open"')")")
check_has "interact without block" '"reason":"block' "$r"
r=$(post_events "$(batch "$(ev k-0001 0 aa01 youth audio_play '"topic":"eye","page":0,"lang":"zh","ms_heard":-5')")")
check_has "negative ms_heard" '"reason":"ms_heard' "$r"
# a duplicate counts nothing
dup=$(it 0 aa05 1 hotspots open iris)
post_events "$(batch "$dup")" >/dev/null
r=$(post_events "$(batch "$dup")"); check "duplicate" '200 {"accepted":0,"duplicates":1,"rejected":[]}' "$r"

F="from=$(day 7)"
check "blocks" '[["eye",1,"hotspots",5,8],["eye",2,"compare",1,2]]' "$(st "blocks?by=block&$F")"
check "blocks columns" '["topic","page","block","visitors","uses"]' \
    "$(http GET "/api/v1/stats/blocks?by=block" -b "$J" | cut -d' ' -f2- | jq -c .columns)"
check "block targets" '[["eye",1,"hotspots","","all",1,0],["eye",1,"hotspots","iris","open",1,1],["eye",1,"hotspots","lens","open",2,2],["eye",1,"hotspots","retina","open",4,3],["eye",2,"compare","","after",1,0],["eye",2,"compare","","before",1,0]]' \
    "$(st "blocks?by=target&$F")"
check "blocks of venue v1" '[["eye",1,"hotspots",4,7],["eye",2,"compare",1,2]]' "$(st "blocks?by=block&$F&venue=v1")"
check "blocks of kiosk k-0002" '[["eye",1,"hotspots",1,1]]' "$(st "blocks?by=block&$F&kiosk=k-0002")"
check "blocks of today" '[["eye",1,"hotspots",4,6],["eye",2,"compare",1,2]]' "$(st "blocks?by=block&from=$(day 0)")"
check "blocks of another topic" '[]' "$(st "blocks?by=block&$F&topic=quake")"
check "narration" '[["eye","elderly","en",1,5000,5000],["eye","elderly","zh",1,60000,60000],["eye","youth","zh",2,40000,20000],["quake","elderly","zh",1,20000,20000]]' \
    "$(st "narration?$F")"
check "narration of the elderly" '[["eye","elderly","en",1,5000,5000],["eye","elderly","zh",1,60000,60000],["quake","elderly","zh",1,20000,20000]]' \
    "$(st "narration?$F&audience=elderly")"
check "narration of today" '[["eye","elderly","en",1,5000,5000],["eye","elderly","zh",1,60000,60000],["eye","youth","zh",2,40000,20000]]' \
    "$(st "narration?from=$(day 0)")"
r=$(http GET "/api/v1/stats/narration?$F&format=csv" -b "$J")
check_has "narration as CSV" "topic,audience,lang,plays,ms_heard,avg_ms_heard" "$r"
check_has "narration CSV row" "eye,youth,zh,2,40000,20000" "$r"
r=$(http GET "/api/v1/stats/blocks?by=nothing" -b "$J"); check_has "unknown grouping" "404 " "$r"
check_has "the error names the new statistics" "blocks?by=block|target, narration" "$r"

# the sums survive a restart
before=$(st "blocks?by=target&$F")
stop_server
start_server
http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J" >/dev/null
check "targets after a restart" "$before" "$(st "blocks?by=target&$F")"

stop_server; check "clean exit" 0 $?
finish
