#!/usr/bin/env bash
# /metrics follows Prometheus' conventions (issue 11): `promtool check metrics` reports
# nothing; request durations are a histogram in seconds with a route label from the route
# table; fleet gauges count kiosks online, sleeping and down, the events kiosks last said
# they had queued, and the pack versions a kiosk should have now (dated assignments in
# force, else the undated ones) not yet installed. Loopback only.
. "$(dirname "$0")/server_lib.bash"
command -v promtool >/dev/null || { echo "promtool missing: scripts/deps.sh --test installs prometheus" >&2; exit 1; }
setup_fleet
start_server
# k-0001 reports 7 queued events and one pack; k-0002 never reports (down).
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK" \
    --data-binary '{"kiosk":"k-0001","queue":7,"packs":["quake@1"]}')
check_has "heartbeat" "200 " "$r"
"$BIN" assign quake@1 --venue v1 --data "$DATA" || fail "assign quake@1"
"$BIN" assign health@3 --venue v1 --data "$DATA" || fail "assign health@3"
"$BIN" assign quake@2 --kiosk k-0002 --data "$DATA" || fail "assign quake@2 to k-0002"
http GET /no/such/route >/dev/null
m=$(curl -s "$U/metrics")
echo "$m" >"$TMP/metrics.txt"
lint=$(promtool check metrics <"$TMP/metrics.txt" 2>&1); rc=$?
check "promtool check metrics exit code" 0 "$rc"
check "promtool check metrics says nothing" "" "$lint"
check_has "histogram bucket" 'kepu_http_request_duration_seconds_bucket{route="heartbeat",le="+Inf"} 1' "$m"
check_has "histogram count" 'kepu_http_request_duration_seconds_count{route="heartbeat"} 1' "$m"
check_has "histogram sum" 'kepu_http_request_duration_seconds_sum{route="heartbeat"} ' "$m"
check_has "unmatched requests under one label" 'kepu_http_request_duration_seconds_count{route="unmatched"} 1' "$m"
check_has "histogram type" '# TYPE kepu_http_request_duration_seconds histogram' "$m"
check_has "kiosks online" 'kepu_kiosks{state="online"} 1' "$m"
check_has "kiosks sleeping" 'kepu_kiosks{state="sleeping"} 0' "$m"
check_has "kiosks down" 'kepu_kiosks{state="down"} 1' "$m"
check_has "events queued on kiosks" 'kepu_kiosk_events_queued 7' "$m"
# k-0001 (venue v1) lacks health@3; k-0002 (venue v2) lacks quake@2 (its own)
check_has "packs not installed" 'kepu_kiosk_packs_not_installed 2' "$m"

# Dated assignments count by what the kiosk should have now (the city's day): a window in
# force replaces the undated version, one still to come or already over counts for nothing.
cday() { TZ=Asia/Shanghai date -d "$1" +%F; }
not_installed() { curl -s "$U/metrics" | grep '^kepu_kiosk_packs_not_installed ' | cut -d' ' -f2; }
"$BIN" assign flood@1 --kiosk k-0001 --from "$(cday '+3 days')" --to "$(cday '+10 days')" --data "$DATA" || fail "assign flood@1 later"
"$BIN" assign health@4 --kiosk k-0001 --from "$(cday '-9 days')" --to "$(cday '-2 days')" --data "$DATA" || fail "assign health@4 over"
check "a window to come and one over: nothing more" 2 "$(not_installed)"
"$BIN" assign quake@5 --kiosk k-0001 --from "$(cday '-1 day')" --to "$(cday '+7 days')" --data "$DATA" || fail "assign quake@5 now"
check "a window now: quake@5 instead of quake@1, which k-0001 has" 3 "$(not_installed)"
r=$(http POST /api/v1/heartbeat -H "Authorization: Bearer $TK"     --data-binary '{"kiosk":"k-0001","queue":0,"packs":["quake@5","health@3"]}')
check "k-0001 installs what it should have now: only k-0002's quake@2" 1 "$(not_installed)"
"$BIN" assign health@6 --venue v1 --from "$(cday '-1 day')" --data "$DATA" || fail "assign health@6 from yesterday"
check "an open-ended window of the venue now: health@6 instead of health@3" 2 "$(not_installed)"
stop_server
finish
