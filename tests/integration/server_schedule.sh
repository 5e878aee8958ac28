#!/usr/bin/env bash
# kepu-server: dated assignments and rollbacks (issue 16, docs/server.md "Scheduled
# assignments and rollback"): starts/ends checked with one line naming the field, stored,
# carried in the heartbeat answer's "scheduled" beside the undated "packs"; a rollback
# returns a target to the version assigned before (walking further back when repeated),
# marks it so kiosks take a lower version, removes a dated assignment; audit entries.
. "$(dirname "$0")/server_lib.bash"
setup_fleet
"$BIN" kiosk add k-0003 --venue v1 --data "$DATA" >/dev/null || exit 1
start_server
J=$TMP/jar
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
office() { http POST "$1" -b "$J" -H "X-CSRF-Token: $CSRF" --data-binary "$2"; }
hb() { http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" --data-binary '{"kiosk":"k-0001"}' | cut -d' ' -f2-; }

# --- bad inputs: 400 with one line naming the field; nothing stored ---
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":"2030-12-14","ends":"2030-12-07"}')
check "ends before starts" '400 {"error":"ends: must be after starts (2030-12-14)"}' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":"2030-12-07","ends":"2030-12-07"}')
check_has "ends equal to starts" '400 {"error":"ends: must be after starts' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":"next monday"}')
check "malformed starts" '400 {"error":"starts: must be a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM (the kiosk'"'"'s own time zone)"}' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","ends":"2030-02-30"}')
check_has "impossible ends" '400 {"error":"ends: must be a date' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":"2030-12-07T09:00+08:00"}')
check_has "a zone is refused" '400 {"error":"starts: must be a date' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":20301207}')
check_has "a number is refused" '400 {"error":"starts: must be a date' "$r"
r=$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","ends":"2001-01-01"}')
check "an end in the past" '400 {"error":"ends: 2001-01-01 has passed"}' "$r"
check "nothing stored by bad inputs" "0 0" "$(sql 'SELECT COUNT(*) FROM assignment_windows') $(sql 'SELECT COUNT(*) FROM assignments')"

# --- base v1, v2 from a Monday for a week, v3 from a local time with an open end ---
check_has "undated v1" '200 {"ok":true}' "$(office /api/v1/assignments '{"pack":"quake","version":"1","venue":"v1"}')"
check_has "dated v2" '200 {"ok":true}' "$(office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1","starts":"2030-12-09","ends":"2030-12-16"}')"
check_has "dated v3" '200 {"ok":true}' "$(office /api/v1/assignments '{"pack":"quake","version":"3","venue":"v1","starts":"2031-01-06T09:30","ends":null}')"
a=$(hb)
check "heartbeat: the undated assignment in packs" '[{"id":"quake","version":"1","manifest_sha256":null}]' "$(jq -c .packs <<<"$a")"
check "heartbeat: the dated ones in scheduled, by start" \
    '[{"id":"quake","version":"2","manifest_sha256":null,"starts":"2030-12-09","ends":"2030-12-16"},{"id":"quake","version":"3","manifest_sha256":null,"starts":"2031-01-06T09:30","ends":null}]' \
    "$(jq -c .scheduled <<<"$a")"
check "a kiosk of another venue has none" '[]' "$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK2" --data-binary '{"kiosk":"k-0002"}' | cut -d' ' -f2- | jq -c .scheduled)"
# A kiosk's own dated assignment hides its venue's for that pack.
check_has "kiosk-level dated" '200 ' "$(office /api/v1/assignments '{"pack":"quake","version":"5","kiosk":"k-0001","ends":"2030-01-01"}')"
check "the kiosk's own dated assignment wins" '["5"]' "$(hb | jq -c '[.scheduled[].version]')"
check "its start is open" 'null' "$(hb | jq -c '.scheduled[0].starts')"
check "the dashboard's kiosks say what each should have now" '[["k-0001","quake@5"],["k-0003","quake@1"]]' \
    "$(http GET "/api/v1/stats/kiosks?venue=v1" -b "$J" | cut -d' ' -f2- | jq -c '[.rows[] | [.[0], .[12]]]')"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","kiosk":"k-0001"}')
check "rollback of a dated assignment removes it" "dated 5 null" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"
check "the venue's dated ones again" '["2","3"]' "$(hb | jq -c '[.scheduled[].version]')"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","kiosk":"k-0001"}')
check "nothing more to roll back on the kiosk" '409 {"error":"kiosk k-0001 has no assignment of quake to roll back"}' "$r"
check "the office page lists the dated ones" "venue v1 quake 1 null null|venue v1 quake 2 2030-12-09 2030-12-16|venue v1 quake 3 2031-01-06T09:30 null" \
    "$(http GET /api/v1/stats/assignments -b "$J" | cut -d' ' -f2- | jq -r '[.rows[] | "\(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[5]) \(.[6])"] | join("|")')"

# --- rollback of undated assignments ---
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "rollback first undoes the latest (dated v3)" "dated 3" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from)"')"
office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}' >/dev/null
check "both dated ones gone" '[]' "$(hb | jq -c .scheduled)"
office /api/v1/assignments '{"pack":"quake","version":"2","venue":"v1"}' >/dev/null
office /api/v1/assignments '{"pack":"quake","version":"3","venue":"v1"}' >/dev/null
check "v3 assigned, no rollback flag" '{"id":"quake","version":"3","manifest_sha256":null}' "$(hb | jq -c '.packs[0]')"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "rollback v3 -> v2" "undated 3 2" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"
check "heartbeat: v2 marked as a rollback" '{"id":"quake","version":"2","manifest_sha256":null,"rollback":true}' "$(hb | jq -c '.packs[0]')"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "rolled back again: v2 -> v1" "undated 2 1" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"
check "heartbeat: v1" '"1"' "$(hb | jq -c '.packs[0].version')"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "the first assignment rolled back: none left" "undated 1 null" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"
check "heartbeat: no pack" '[]' "$(hb | jq -c '.packs')"
check "nothing left to roll back" 409 "$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}' | cut -d' ' -f1)"
office /api/v1/assignments '{"pack":"quake","version":"4","venue":"v1"}' >/dev/null
check "a new assignment clears the rollback flag" '{"id":"quake","version":"4","manifest_sha256":null}' "$(hb | jq -c '.packs[0]')"
# Assignments made by the command line count as history too.
"$BIN" assign quake@6 --venue v1 --data "$DATA" || fail "cli assign"
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "rollback of a command-line assignment" "undated 6 4" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"

# --- the command line: assign --from/--to, rollback ---
e=$("$BIN" assign quake@7 --venue v1 --from 2030-12-14 --to 2030-12-07 --data "$DATA" 2>&1)
check "cli: --to before --from" "kepu-server: --to 2030-12-07: must be after --from 2030-12-14 (see kepu-server --help)" "$e"
e=$("$BIN" assign quake@7 --venue v1 --from monday --data "$DATA" 2>&1)
check_has "cli: a malformed --from" "kepu-server: --from monday: expected a date YYYY-MM-DD" "$e"
"$BIN" assign quake@7 --venue v1 --from 2030-12-09 --to 2030-12-16T12:00 --data "$DATA" || fail "cli dated assign"
check "cli: the dated one in the heartbeat" '["7 2030-12-09 2030-12-16T12:00"]' "$(hb | jq -c '[.scheduled[] | "\(.version) \(.starts) \(.ends)"]')"
e=$("$BIN" rollback quake --venue v1 --data "$DATA")
check "cli: rollback prints what it undid" "venue:v1: removed quake@7 from 2030-12-09 to 2030-12-16T12:00" "$e"
e=$("$BIN" rollback quake --venue v9 --data "$DATA" 2>&1)
check "cli: nothing to roll back" "kepu-server: venue v9 has no assignment of quake to roll back" "$e"

# --- bad rollback inputs ---
check "rollback without pack" '400 {"error":"pack: missing or not a valid id"}' "$(office /api/v1/assignments/rollback '{"venue":"v1"}')"
check "rollback with two targets" '400 {"error":"give exactly one of venue, kiosk and tag"}' "$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1","kiosk":"k-0001"}')"
check "rollback needs the CSRF header" 403 "$(http POST /api/v1/assignments/rollback -b "$J" --data-binary '{"pack":"quake","venue":"v1"}' | cut -d' ' -f1)"
check "rollback is for the office" 403 "$(http POST /api/v1/assignments/rollback -H "Authorization: Bearer $TS" --data-binary '{"pack":"quake","venue":"v1"}' | cut -d' ' -f1)"

# --- the audit log names each ---
au=$(http GET /api/v1/audit -b "$J" | cut -d' ' -f2-)
check_has "audit: dated assignment" '"who":"alice","what":"assignment.add","target":"venue:v1","detail":"quake@2 from 2030-12-09 to 2030-12-16"' "$au"
check_has "audit: rollback" '"what":"assignment.rollback","target":"venue:v1","detail":"quake@3 back to 2"' "$au"
check_has "audit: dated removed" '"what":"assignment.rollback","target":"kiosk:k-0001","detail":"removed quake@5 from now to 2030-01-01"' "$au"

# --- the history survives a restart ---
stop_server; start_server
r=$(http POST /api/v1/login --data-binary '{"user":"alice","password":"secret-pass"}' -c "$J")
CSRF=$(cut -d' ' -f2- <<<"$r" | jq -r .csrf)
r=$(office /api/v1/assignments/rollback '{"pack":"quake","venue":"v1"}')
check "after a restart: v4 -> none" "undated 4 null" "$(cut -d' ' -f2- <<<"$r" | jq -r '"\(.undid) \(.from) \(.version)"')"
finish
